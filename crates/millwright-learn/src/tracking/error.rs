//! Errors of the tracking store, each naming the file, run or value concerned.

use std::path::PathBuf;

/// What can go wrong while recording or querying runs.
#[derive(Debug, thiserror::Error)]
pub enum TrackingError {
    /// A file or folder of the run store could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done ("create run folder", "append to", ...).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The SQLite catalog failed.
    #[error("run catalog {path}: {context}: {source}")]
    Catalog {
        /// The catalog file.
        path: PathBuf,
        /// The operation that failed.
        context: String,
        /// The underlying error.
        #[source]
        source: rusqlite::Error,
    },
    /// The catalog was written by a newer Millwright with a schema this build does not know.
    #[error("run catalog {path} has schema version {found}; this millwright understands up to {supported}: upgrade millwright")]
    FutureSchema {
        /// The catalog file.
        path: PathBuf,
        /// Version stored in the file.
        found: i64,
        /// Highest version this build reads.
        supported: i64,
    },
    /// No run has this id (or id prefix).
    #[error("no run {0:?} in the catalog")]
    UnknownRun(String),
    /// An id prefix matches several runs.
    #[error("run id prefix {prefix:?} is ambiguous: it matches {matches:?}...")]
    AmbiguousRun {
        /// The prefix given.
        prefix: String,
        /// Some of the runs it matches.
        matches: Vec<String>,
    },
    /// A run whose process is still recording it cannot be deleted.
    #[error("run {id} is still running (process {pid} on {host}); delete it once it has finished")]
    RunActive {
        /// The run.
        id: String,
        /// The process recording it.
        pid: u32,
        /// Its machine.
        host: String,
    },
    /// A run id that does not have the `YYYYMMDDTHHMMSSmmmZ-xxxxxx` shape.
    #[error(
        "invalid run id {0:?}: expected the form 20261128T143005123Z-1a2b3c (or a prefix of it)"
    )]
    InvalidRunId(String),
    /// A caller-provided value is unusable (empty name, empty scalar tag, ...).
    #[error("invalid {what}: {reason}")]
    InvalidInput {
        /// The argument or field.
        what: &'static str,
        /// Why it is rejected.
        reason: String,
    },
    /// A file of a run folder holds something other than what Millwright wrote.
    #[error("{path} line {line}: {reason}")]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// 1-based line number (0 when the whole file is concerned).
        line: usize,
        /// What is wrong.
        reason: String,
    },
    /// A plot of the run could not be drawn.
    #[error(transparent)]
    Plot(#[from] crate::plots::PlotError),
    /// A stored JSON column or file could not be (de)serialised.
    #[error("{context}: {source}")]
    Json {
        /// What was being (de)serialised.
        context: String,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
}

impl TrackingError {
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| TrackingError::Io {
            action,
            path,
            source,
        }
    }
}
