//! The report's charts as SVG text (the browser renders the text, so no font is needed at view time;
//! laying out the labels uses millwright-plot's embedded font).

use millwright_impact::Estimate;
use millwright_plot::plotters::coord::ranged1d::SegmentValue;
use millwright_plot::plotters::prelude::*;
use millwright_plot::style::{self, CiPoint, CHOSEN, LABEL_PX, MUTED};
use millwright_plot::{svg_string, Backend, Chart, DrawResult, Shift};

use crate::error::{ReportError, Result};
use crate::input::{Curve, ThresholdSearch};

const SIZE: (u32, u32) = (520, 320);
const TITLE_PX: u32 = 17;
/// The highlighted bar and the curves.
const ACCENT: RGBColor = RGBColor(0x1f, 0x6f, 0xb2);

fn draw(what: &str, chart: &impl Chart) -> Result<String> {
    svg_string(chart, SIZE).map_err(|source| ReportError::Chart {
        what: what.to_owned(),
        source,
    })
}

/// The report's frame: smaller caption, label areas for short numbers.
fn frame<'a, 'b, DB: Backend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
) -> ChartBuilder<'a, 'b, DB> {
    let mut builder = style::frame(root, title, TITLE_PX);
    builder.margin(12).y_label_area_size(64);
    builder
}

/// Bars of `mean` with 95 % CI whiskers (drawn where the interval is not a point); bar `highlight` in colour.
pub fn bars_with_ci(
    title: &str,
    y_label: &str,
    bars: &[(String, Estimate)],
    highlight: Option<usize>,
) -> Result<String> {
    draw(
        title,
        &Bars {
            title,
            y_label,
            bars,
            highlight,
        },
    )
}

struct Bars<'a> {
    title: &'a str,
    y_label: &'a str,
    bars: &'a [(String, Estimate)],
    highlight: Option<usize>,
}

impl Chart for Bars<'_> {
    fn draw<DB: Backend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let bars = self.bars;
        let n = bars.len().max(1) as i32;
        let top = style::axis_top(bars.iter().map(|(_, e)| e.ci_high.max(e.mean)));
        let names: Vec<&str> = bars.iter().map(|(name, _)| name.as_str()).collect();
        let mut chart = frame(root, self.title)
            .x_label_area_size(34)
            .build_cartesian_2d((0..n).into_segmented(), 0.0..top)?;
        let label = |v: &SegmentValue<i32>| match v {
            SegmentValue::CenterOf(i) => style::category_label(&names, f64::from(*i), false),
            _ => String::new(),
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(bars.len().max(1))
            .x_label_formatter(&label)
            .y_desc(self.y_label)
            .y_label_formatter(&|v| crate::format::short(*v))
            .label_style(style::font(LABEL_PX))
            .draw()?;
        chart.draw_series(bars.iter().enumerate().map(|(i, (_, e))| {
            let colour = if self.highlight == Some(i) {
                ACCENT
            } else {
                MUTED
            };
            let i = i as i32;
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), e.mean),
                ],
                colour.filled(),
            );
            bar.set_margin(0, 0, 14, 14);
            bar
        }))?;
        chart.draw_series(
            bars.iter()
                .enumerate()
                .filter(|(_, (_, e))| e.ci_low < e.ci_high)
                .map(|(i, (_, e))| {
                    style::whisker(
                        SegmentValue::CenterOf(i as i32),
                        e.ci_low,
                        e.mean,
                        e.ci_high,
                    )
                }),
        )?;
        Ok(())
    }
}

/// A curve given as points (ROC, precision-recall, a loss curve).
pub fn curve(curve: &Curve) -> Result<String> {
    draw(&curve.title, &CurveChart(curve))
}

struct CurveChart<'a>(&'a Curve);

/// The axis range of `values` (0..1 when none is finite).
fn range_of(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    style::padded_range(values, 0.0).unwrap_or((0.0, 1.0))
}

impl Chart for CurveChart<'_> {
    fn draw<DB: Backend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let curve = self.0;
        let ((x0, x1), (y0, y1)) = if curve.diagonal {
            ((0.0, 1.0), (0.0, 1.0))
        } else {
            (
                range_of(curve.points.iter().map(|p| p.0)),
                range_of(curve.points.iter().map(|p| p.1)),
            )
        };
        let mut chart = frame(root, &curve.title).build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .x_desc(&curve.x_label)
            .y_desc(&curve.y_label)
            .x_label_formatter(&|v| crate::format::short(*v))
            .y_label_formatter(&|v| crate::format::short(*v))
            .label_style(style::font(LABEL_PX))
            .draw()?;
        if curve.diagonal {
            chart.draw_series(LineSeries::new(
                [(0.0, 0.0), (1.0, 1.0)],
                MUTED.stroke_width(1),
            ))?;
        }
        chart.draw_series(LineSeries::new(
            curve.points.iter().copied(),
            ACCENT.stroke_width(2),
        ))?;
        Ok(())
    }
}

/// The objective over the thresholds tried, its 95 % CI as a band, and the chosen threshold marked.
pub fn threshold(search: &ThresholdSearch) -> Result<String> {
    let title = format!("{} by alarm threshold", search.objective);
    draw(
        &title,
        &Threshold {
            title: &title,
            search,
        },
    )
}

struct Threshold<'a> {
    title: &'a str,
    search: &'a ThresholdSearch,
}

impl Chart for Threshold<'_> {
    fn draw<DB: Backend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let search = self.search;
        let (x0, x1) = range_of(search.points.iter().map(|p| p.threshold));
        let (y0, y1) = range_of(
            search
                .points
                .iter()
                .flat_map(|p| [p.value.ci_low, p.value.ci_high, p.value.mean]),
        );
        let pad = (y1 - y0) * 0.08;
        let mut chart =
            frame(root, self.title).build_cartesian_2d(x0..x1, (y0 - pad)..(y1 + pad))?;
        chart
            .configure_mesh()
            .x_desc("alarm threshold (failure probability)")
            .y_desc(&search.objective)
            .x_label_formatter(&|v| crate::format::short(*v))
            .y_label_formatter(&|v| crate::format::short(*v))
            .label_style(style::font(LABEL_PX))
            .draw()?;
        let points: Vec<CiPoint> = search
            .points
            .iter()
            .map(|p| CiPoint {
                x: p.threshold,
                mean: p.value.mean,
                low: p.value.ci_low,
                high: p.value.ci_high,
            })
            .collect();
        style::ci_band(&mut chart, &points, ACCENT)?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(search.best, y0 - pad), (search.best, y1 + pad)],
            CHOSEN.stroke_width(2),
        )))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bar_chart_is_an_svg_with_its_labels() {
        let bars = vec![
            (
                "run-to-failure".to_owned(),
                Estimate {
                    mean: 10.0,
                    ci_low: 9.0,
                    ci_high: 11.0,
                },
            ),
            ("predictive".to_owned(), Estimate::exact(12.0)),
        ];
        let svg = bars_with_ci("throughput", "parts/h", &bars, Some(1)).unwrap();
        assert!(
            svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"),
            "{svg}"
        );
        assert!(svg.contains("run-to-failure") && svg.contains("predictive"));
        assert!(svg.contains("width=\"520\""));
    }

    #[test]
    fn degenerate_inputs_still_draw() {
        assert!(bars_with_ci("empty", "", &[], None)
            .unwrap()
            .contains("<svg"));
        let flat = Curve {
            title: "loss".into(),
            x_label: "epoch".into(),
            y_label: "loss".into(),
            note: String::new(),
            points: vec![(1.0, 0.5)],
            diagonal: false,
        };
        assert!(curve(&flat).unwrap().contains("<svg"));
    }
}
