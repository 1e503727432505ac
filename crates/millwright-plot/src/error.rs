//! Why a plot was not drawn.

use std::path::PathBuf;

/// A drawing error kept as it came from plotters (its type depends on the backend).
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What [`crate::Chart::draw`] returns: `?` turns any plotters error into the boxed source.
pub type DrawResult = Result<(), BoxError>;

#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    /// The data cannot be drawn (empty, mismatched lengths, no finite value).
    #[error("{plot} plot: {reason}")]
    InvalidInput {
        /// Which plot.
        plot: &'static str,
        /// What is wrong with its data.
        reason: String,
    },
    /// The folder of the output could not be created.
    #[error("create plot folder {path}: {source}", path = path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// plotters refused the embedded font (a broken build asset).
    #[error("the embedded font could not be registered as {family:?}")]
    Font { family: &'static str },
    /// plotters failed while drawing or writing.
    #[error("draw {target}: {source}")]
    Draw {
        /// The file being written, or `SVG text`.
        target: String,
        #[source]
        source: BoxError,
    },
}
