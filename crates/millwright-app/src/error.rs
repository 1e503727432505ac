//! One error type for the use cases. Stage crates' errors pass through whole (their messages and source
//! chains unchanged), so a front door can still match on what went wrong to add its own hints.

use std::path::PathBuf;

use millwright_data::DataError;
use millwright_impact::ImpactError;
use millwright_learn::error::LearnError;
use millwright_report::ReportError;
use millwright_twin::TwinError;

pub type Result<T, E = AppError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Data(#[from] DataError),
    #[error(transparent)]
    Learn(#[from] LearnError),
    #[error(transparent)]
    Tracking(#[from] millwright_learn::tracking::TrackingError),
    #[error(transparent)]
    Plot(#[from] millwright_learn::plots::PlotError),
    #[error(transparent)]
    Twin(#[from] TwinError),
    #[error(transparent)]
    Impact(#[from] ImpactError),
    #[error(transparent)]
    Report(#[from] ReportError),
    #[error(transparent)]
    Connect(#[from] millwright_connect::ConnectError),
    /// Rows to score that do not fit the model (the caller's input, not a failure of the model).
    #[error(transparent)]
    Predict(#[from] crate::predict::PredictError),
    #[error("{what}: {source}")]
    Arrow {
        what: String,
        #[source]
        source: millwright_data::arrow::error::ArrowError,
    },
    #[error("{what} {}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file the use case would write already exists, and replacing it was not asked for.
    #[error("{} exists; it is left as it is", path.display())]
    FileExists { path: PathBuf },
    /// A request that cannot be carried out as asked, in the words of the domain.
    #[error("{0}")]
    Invalid(String),
    /// What the use case was doing when a stage failed.
    #[error("{context}")]
    Context {
        context: String,
        #[source]
        source: Box<AppError>,
    },
    #[error("a worker thread stopped unexpectedly")]
    Worker(#[source] tokio::task::JoinError),
}

impl AppError {
    pub fn invalid(text: impl Into<String>) -> AppError {
        AppError::Invalid(text.into())
    }

    /// The innermost application error below any [`AppError::Context`] layers.
    pub fn root(&self) -> &AppError {
        match self {
            AppError::Context { source, .. } => source.root(),
            other => other,
        }
    }
}

/// `.context("...")` for results of the use cases, as anyhow offers at the edge.
pub trait Context<T> {
    fn context(self, context: impl Into<String>) -> Result<T>;
    fn with_context<F: FnOnce() -> String>(self, f: F) -> Result<T>;
}

impl<T, E: Into<AppError>> Context<T> for std::result::Result<T, E> {
    fn context(self, context: impl Into<String>) -> Result<T> {
        self.map_err(|e| AppError::Context {
            context: context.into(),
            source: Box::new(e.into()),
        })
    }

    fn with_context<F: FnOnce() -> String>(self, f: F) -> Result<T> {
        self.map_err(|e| AppError::Context {
            context: f(),
            source: Box::new(e.into()),
        })
    }
}

/// Runs CPU-bound work off the async runtime (a server must keep answering while a model trains).
pub(crate) async fn blocking<T, F>(work: F) -> Result<T>
where
    F: FnOnce() -> Result<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(work)
        .await
        .map_err(AppError::Worker)?
}

pub(crate) fn io(
    what: &'static str,
    path: &std::path::Path,
) -> impl FnOnce(std::io::Error) -> AppError {
    let path = path.to_owned();
    move |source| AppError::Io { what, path, source }
}
