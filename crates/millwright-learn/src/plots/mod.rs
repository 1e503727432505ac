//! Plots of a training run, each written as `<stem>.png` and `<stem>.svg`: loss and metric curves per
//! epoch, ROC and precision-recall curves, the confusion matrix, a reliability (calibration) diagram and
//! feature-importance bars.
//!
//! Every function is pure: it takes plain data (points, counts, names) and a path stem, writes the two
//! files (creating the stem's folder) and returns their paths. Compute the inputs with
//! [`crate::metrics`] (`roc_curve`, `pr_curve`, `calibration_bins`, the confusion matrix) or any other code.
//! Drawing goes through `millwright_plot`: one `draw` per chart for both formats, text in its embedded
//! DejaVu Sans, so PNGs render on machines without fontconfig.
//!
//! ```no_run
//! # fn main() -> Result<(), millwright_learn::plots::PlotError> {
//! use millwright_learn::plots;
//! let stem = std::path::Path::new("millwright-home/runs/RUN/plots/roc");
//! let files = plots::roc_curve(&[(0.0, 0.0), (0.1, 0.8), (1.0, 1.0)], Some(0.95), stem)?;
//! println!("{} {}", files.png.display(), files.svg.display());
//! # Ok(()) }
//! ```

mod charts;

pub use charts::{
    calibration_diagram, confusion_matrix, feature_importance, metric_curves,
    precision_recall_curve, roc_curve,
};
pub use millwright_plot::{PlotError, PlotFiles};
