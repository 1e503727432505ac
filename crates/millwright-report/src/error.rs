//! Why a report could not be built, naming the file or chart concerned.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot read image {} to embed: {source}", path.display())]
    ImageRead {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot embed image {}: {reason}", path.display())]
    ImageFormat { path: PathBuf, reason: String },

    #[error("cannot draw chart `{what}`: {source}")]
    Chart {
        what: String,
        #[source]
        source: millwright_plot::PlotError,
    },

    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot serialise the summary: {0}")]
    Serialise(#[from] serde_json::Error),
}

pub type Result<T> = std::result::Result<T, ReportError>;
