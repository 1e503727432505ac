//! Errors of the twin: every one names what and where (file, field, value).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TwinError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The TOML parser's message already carries line and column.
    #[error("{path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("{path}: {field}: {message}")]
    Invalid {
        path: PathBuf,
        field: String,
        message: String,
    },
    #[error("bad duration {value:?}: {message}")]
    Duration { value: String, message: String },
    #[error("bad policy: {0}")]
    Policy(String),
    #[error("failure scorer: {0}")]
    Scorer(String),
    #[error("plot: {0}")]
    Plot(#[from] millwright_plot::PlotError),
    #[error("{0}")]
    Usage(String),
}

impl TwinError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        TwinError::Io {
            path: path.into(),
            source,
        }
    }
}
