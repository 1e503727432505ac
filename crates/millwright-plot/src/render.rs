//! Drawing one [`Chart`] onto the PNG and the SVG backend.

use std::path::{Path, PathBuf};

use plotters::prelude::*;
use serde::Serialize;

use crate::error::PlotError;
use crate::font::register_font;
use crate::{Backend, Chart};

/// The two files of one plot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlotFiles {
    /// `<stem>.png`.
    pub png: PathBuf,
    /// `<stem>.svg`.
    pub svg: PathBuf,
}

/// Writes `chart` to `<stem>.png` and `<stem>.svg` (`size` in pixels), creating the stem's folder.
pub fn render_files(
    chart: &impl Chart,
    stem: &Path,
    size: (u32, u32),
) -> Result<PlotFiles, PlotError> {
    if let Some(dir) = stem.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| PlotError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
    }
    let files = PlotFiles {
        png: with_extension(stem, "png"),
        svg: with_extension(stem, "svg"),
    };
    render_png(chart, &files.png, size)?;
    render_svg(chart, &files.svg, size)?;
    Ok(files)
}

/// Writes `chart` as a PNG file; text is rasterised with the embedded font.
pub fn render_png(chart: &impl Chart, path: &Path, size: (u32, u32)) -> Result<(), PlotError> {
    draw_on(BitMapBackend::new(path, size), chart, || {
        path.display().to_string()
    })
}

/// Writes `chart` as an SVG file; text stays text, laid out with the embedded font's metrics.
pub fn render_svg(chart: &impl Chart, path: &Path, size: (u32, u32)) -> Result<(), PlotError> {
    draw_on(SVGBackend::new(path, size), chart, || {
        path.display().to_string()
    })
}

/// `chart` as SVG text (`<svg ...>...</svg>`), for embedding in a page.
pub fn svg_string(chart: &impl Chart, size: (u32, u32)) -> Result<String, PlotError> {
    let mut svg = String::new();
    draw_on(SVGBackend::with_string(&mut svg, size), chart, || {
        "SVG text".to_owned()
    })?;
    Ok(svg)
}

/// White background, the chart, then `present` (which writes the file); `target` names the output in errors.
fn draw_on<DB: Backend>(
    backend: DB,
    chart: &impl Chart,
    target: impl Fn() -> String,
) -> Result<(), PlotError> {
    register_font()?;
    let fail = |source| PlotError::Draw {
        target: target(),
        source,
    };
    let root = backend.into_drawing_area();
    root.fill(&WHITE).map_err(|e| fail(e.into()))?;
    chart.draw(&root).map_err(fail)?;
    root.present().map_err(|e| fail(e.into()))
}

/// `stem` + `.ext`, keeping dots already in the stem (`curve_loss.v2` → `curve_loss.v2.png`).
pub fn with_extension(stem: &Path, ext: &str) -> PathBuf {
    let mut name = stem.as_os_str().to_os_string();
    name.push(".");
    name.push(ext);
    PathBuf::from(name)
}
