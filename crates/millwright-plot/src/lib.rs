//! Millwright's one plotting setup, shared by the learn plots, the twin's plots and the report's charts.
//!
//! - One font: DejaVu Sans is compiled in here, once, and registered with plotters once per process
//!   ([`register_font`]), so PNG text renders on machines without fontconfig.
//! - One drawing code for both formats: a chart implements [`Chart`], whose `draw` is generic over the
//!   plotters backend; [`render_files`] writes `<stem>.png` and `<stem>.svg` from it and [`svg_string`]
//!   gives the SVG as text for embedding.
//! - Shared looks: palette, grid, frame, legend, CI whiskers and bands in [`style`].
//!
//! ```no_run
//! use millwright_plot::plotters::prelude::*;
//! use millwright_plot::{render_files, style, Backend, Chart, DrawResult, Shift};
//!
//! struct Diagonal;
//! impl Chart for Diagonal {
//!     fn draw<DB: Backend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
//!         let mut chart = style::frame(root, "a line", 20).build_cartesian_2d(0.0..1.0, 0.0..1.0)?;
//!         chart.configure_mesh().light_line_style(style::FAINT).draw()?;
//!         chart.draw_series(LineSeries::new([(0.0, 0.0), (1.0, 1.0)], style::series_color(0)))?;
//!         Ok(())
//!     }
//! }
//! let files = render_files(&Diagonal, std::path::Path::new("plots/diagonal"), (600, 400))?;
//! println!("{} {}", files.png.display(), files.svg.display());
//! # Ok::<(), millwright_plot::PlotError>(())
//! ```

#![forbid(unsafe_code)]

mod error;
mod font;
mod render;
pub mod style;

pub use plotters;
pub use plotters::coord::Shift;

pub use error::{BoxError, DrawResult, PlotError};
pub use font::{register_font, FONT_FAMILY};
pub use render::{render_files, render_png, render_svg, svg_string, with_extension, PlotFiles};

/// A plotters backend whose errors can be kept as the source of a [`PlotError`] (every backend
/// plotters ships qualifies).
pub trait Backend: plotters::prelude::DrawingBackend<ErrorType: 'static> {}

impl<DB: plotters::prelude::DrawingBackend<ErrorType: 'static>> Backend for DB {}

/// A chart that draws itself on any backend, so that one `draw` makes both the PNG and the SVG.
/// The area comes filled white; `draw` need not present it.
pub trait Chart {
    fn draw<DB: Backend>(&self, root: &plotters::prelude::DrawingArea<DB, Shift>) -> DrawResult;
}
