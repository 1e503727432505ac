//! Plots of a training run, each written as `<stem>.png` and `<stem>.svg`: loss and metric curves per
//! epoch, ROC and precision-recall curves, the confusion matrix, a reliability (calibration) diagram and
//! feature-importance bars.
//!
//! Every function is pure: it takes plain data (points, counts, names) and a path stem, writes the two
//! files (creating the stem's folder) and returns their paths. Compute the inputs with
//! [`crate::metrics`] (`roc_curve`, `pr_curve`, `calibration_bins`, the confusion matrix) or any other code.
//! Text uses an embedded DejaVu Sans, so PNGs render on machines without fontconfig.
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

use std::path::{Path, PathBuf};
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;
use serde::Serialize;

pub use charts::{
    calibration_diagram, confusion_matrix, feature_importance, metric_curves,
    precision_recall_curve, roc_curve,
};

/// The two files of one plot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlotFiles {
    /// `<stem>.png`.
    pub png: PathBuf,
    /// `<stem>.svg`.
    pub svg: PathBuf,
}

/// Why a plot was not written.
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
    #[error("create plot folder {path}: {source}")]
    Io {
        /// The folder.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// plotters failed while drawing or writing the file.
    #[error("draw {path}: {message}")]
    Draw {
        /// The file being written.
        path: PathBuf,
        /// plotters' message.
        message: String,
    },
}

const FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
static FONT: Once = Once::new();

/// plotters' ab_glyph text looks fonts up by family name; register the embedded one once per process.
fn register_font() {
    FONT.call_once(|| {
        // The embedded font is valid; if registering failed anyway, SVG output (which names the font
        // instead of rasterising it) would still work and PNG drawing reports its own error.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT_BYTES);
    });
}

/// A chart that can draw itself on any plotters backend (PNG and SVG are different types).
trait Chart {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// Writes `chart` to `<stem>.png` and `<stem>.svg`.
fn render(chart: &impl Chart, stem: &Path, size: (u32, u32)) -> Result<PlotFiles, PlotError> {
    register_font();
    if let Some(dir) = stem.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| PlotError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let png = with_extension(stem, "png");
    let svg = with_extension(stem, "svg");
    let fail = |path: &Path| {
        let path = path.to_path_buf();
        move |message: String| PlotError::Draw { path, message }
    };
    {
        let root = BitMapBackend::new(&png, size).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| e.to_string())
            .map_err(fail(&png))?;
        chart.draw(&root).map_err(fail(&png))?;
        root.present()
            .map_err(|e| e.to_string())
            .map_err(fail(&png))?;
    }
    {
        let root = SVGBackend::new(&svg, size).into_drawing_area();
        root.fill(&WHITE)
            .map_err(|e| e.to_string())
            .map_err(fail(&svg))?;
        chart.draw(&root).map_err(fail(&svg))?;
        root.present()
            .map_err(|e| e.to_string())
            .map_err(fail(&svg))?;
    }
    Ok(PlotFiles { png, svg })
}

/// `stem` + `.ext`, keeping dots already in the stem (`curve_loss.v2` → `curve_loss.v2.png`).
fn with_extension(stem: &Path, ext: &str) -> PathBuf {
    let mut name = stem.as_os_str().to_os_string();
    name.push(".");
    name.push(ext);
    PathBuf::from(name)
}
