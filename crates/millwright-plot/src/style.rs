//! Colours, fonts and the pieces every chart repeats (frame, legend, category labels, ranges, CI
//! whiskers and bands), so that the learn plots, the twin's plots and the report look alike.

use plotters::coord::types::RangedCoordf64;
use plotters::element::{ErrorBar, ErrorBarOrientV};
use plotters::prelude::*;

use crate::{Backend, DrawResult, Shift, FONT_FAMILY};

/// Series colours (the first six of matplotlib's tab10).
pub const PALETTE: [RGBColor; 6] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
];

/// The fine grid between labelled ticks: barely visible, so the data stands out.
pub const FAINT: RGBColor = RGBColor(242, 242, 242);
/// Reference lines: the chance diagonal, the no-skill level, perfect calibration.
pub const REFERENCE: RGBColor = RGBColor(150, 150, 150);
/// Bars that are not the one being pointed at.
pub const MUTED: RGBColor = RGBColor(0x9a, 0xa5, 0xb1);
/// The chosen value: the best threshold, the optimum.
pub const CHOSEN: RGBColor = RGBColor(0xc0, 0x39, 0x2b);
/// Space around the plotting area, in pixels.
pub const MARGIN: u32 = 15;
/// Tick labels, in pixels.
pub const LABEL_PX: u32 = 13;

/// Colour of series `i` (the palette repeats).
pub fn series_color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// The embedded font at `px` pixels.
pub fn font(px: u32) -> (&'static str, u32) {
    (FONT_FAMILY, px)
}

/// A chart builder with a caption in the embedded font, the usual margin and label areas (40 px
/// below, 60 px left); set other sizes on the result.
pub fn frame<'a, 'b, DB: Backend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    title_px: u32,
) -> ChartBuilder<'a, 'b, DB> {
    let mut builder = ChartBuilder::on(root);
    builder
        .caption(title, font(title_px))
        .margin(MARGIN)
        .x_label_area_size(40)
        .y_label_area_size(60);
    builder
}

/// The legend of the labelled series: a white, slightly transparent box with a black border.
pub fn legend<'a, DB: Backend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> DrawResult {
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .position(position)
        .draw()?;
    Ok(())
}

/// A legend sample: a 20-pixel line in `style`.
pub fn legend_line(style: impl Into<ShapeStyle>) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    let style = style.into();
    move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], style)
}

/// The label of a category axis at position `v`: `names[v]` at whole positions (`reversed`: the first
/// name at the top, as tables read), nothing between them.
pub fn category_label<S: AsRef<str>>(names: &[S], v: f64, reversed: bool) -> String {
    let i = v.round();
    if (v - i).abs() > 1e-6 || i < 0.0 || i >= names.len() as f64 {
        return String::new();
    }
    let i = i as usize;
    let i = if reversed { names.len() - 1 - i } else { i };
    names[i].as_ref().to_owned()
}

/// `(min, max)` of the finite values, widened on each side by `fraction` of the span (a flat series by
/// 5 % of its magnitude, at least 0.05, so it still gets a visible range); `None` without a finite value.
pub fn padded_range(values: impl IntoIterator<Item = f64>, fraction: f64) -> Option<(f64, f64)> {
    let (lo, hi) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    if lo > hi {
        return None;
    }
    let pad = if hi > lo {
        (hi - lo) * fraction
    } else {
        lo.abs().max(1.0) * 0.05
    };
    Some((lo - pad, hi + pad))
}

/// Upper end of a value axis starting at 0: 15 % above the largest finite value, 1 when none is positive.
pub fn axis_top(values: impl IntoIterator<Item = f64>) -> f64 {
    let max = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    if max > 0.0 {
        max * 1.15
    } else {
        1.0
    }
}

/// A 95 % confidence interval drawn as a black vertical whisker at `x`.
pub fn whisker<X>(
    x: X,
    low: f64,
    mean: f64,
    high: f64,
) -> ErrorBar<X, f64, ErrorBarOrientV<X, f64>> {
    ErrorBar::new_vertical(x, low, mean, high, BLACK.stroke_width(2), 14)
}

/// One point of a curve with its confidence interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CiPoint {
    pub x: f64,
    pub mean: f64,
    pub low: f64,
    pub high: f64,
}

/// The mean as a line over its 95 % CI band (`points` in x order), in `color`.
pub fn ci_band<DB: Backend>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
    points: &[CiPoint],
    color: RGBColor,
) -> DrawResult {
    let band: Vec<(f64, f64)> = points
        .iter()
        .map(|p| (p.x, p.high))
        .chain(points.iter().rev().map(|p| (p.x, p.low)))
        .collect();
    chart.draw_series(std::iter::once(Polygon::new(band, color.mix(0.2).filled())))?;
    chart.draw_series(LineSeries::new(
        points.iter().map(|p| (p.x, p.mean)),
        color.stroke_width(2),
    ))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn category_labels_sit_on_whole_positions_only() {
        let names = ["a", "b", "c"];
        assert_eq!(category_label(&names, 1.0, false), "b");
        assert_eq!(category_label(&names, 0.0, true), "c");
        assert_eq!(category_label(&names, 0.5, false), "");
        assert_eq!(category_label(&names, 3.0, false), "");
        assert_eq!(category_label(&names, -1.0, false), "");
    }

    #[test]
    fn ranges_are_padded_and_flat_series_still_get_one() {
        assert_eq!(padded_range([0.0, 10.0, f64::NAN], 0.1), Some((-1.0, 11.0)));
        assert_eq!(padded_range([2.0, 2.0], 0.1), Some((1.9, 2.1)));
        assert_eq!(padded_range([f64::NAN], 0.1), None);
        assert_eq!(axis_top([1.0, 2.0]), 2.3);
        assert_eq!(axis_top([0.0, f64::INFINITY]), 1.0);
    }
}
