//! The report's charts, drawn with plotters as SVG text (the browser renders the text, so no font is needed
//! at view time; plotters needs one to lay out labels, hence the embedded DejaVu Sans).

use std::sync::Once;

use millwright_impact::Estimate;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;

use crate::error::{ReportError, Result};
use crate::input::{Curve, ThresholdSearch};

const WIDTH: u32 = 520;
const HEIGHT: u32 = 320;
const BAR: RGBColor = RGBColor(0x9a, 0xa5, 0xb1);
const HIGHLIGHT: RGBColor = RGBColor(0x1f, 0x6f, 0xb2);
const LINE: RGBColor = RGBColor(0x1f, 0x6f, 0xb2);
const BAND: RGBColor = RGBColor(0xc6, 0xdb, 0xef);
const BEST: RGBColor = RGBColor(0xc0, 0x39, 0x2b);

static FONT: Once = Once::new();

/// plotters' ab_glyph text layout looks fonts up by family name; registering twice is harmless.
fn ensure_font() {
    FONT.call_once(|| {
        let bytes: &'static [u8] = include_bytes!("../assets/DejaVuSans.ttf");
        // The font is compiled in and known to parse; a failure here would be a broken build asset.
        if plotters::style::register_font("sans-serif", FontStyle::Normal, bytes).is_err() {
            panic!("embedded DejaVuSans.ttf is not a valid font");
        }
    });
}

fn chart_error(what: &str) -> impl Fn(String) -> ReportError + '_ {
    move |message| ReportError::Chart {
        what: what.to_owned(),
        message,
    }
}

/// Upper end of a value axis starting at 0: a little room above the largest value, 1 when all are 0.
fn axis_top(values: impl Iterator<Item = f64>) -> f64 {
    let max = values.filter(|v| v.is_finite()).fold(0.0_f64, f64::max);
    if max > 0.0 {
        max * 1.15
    } else {
        1.0
    }
}

/// Bars of `mean` with 95 % CI whiskers (drawn where the interval is not a point); bar `highlight` in colour.
pub fn bars_with_ci(
    title: &str,
    y_label: &str,
    bars: &[(String, Estimate)],
    highlight: Option<usize>,
) -> Result<String> {
    ensure_font();
    let mut svg = String::new();
    draw_bars(&mut svg, title, y_label, bars, highlight).map_err(chart_error(title))?;
    Ok(svg)
}

fn draw_bars(
    svg: &mut String,
    title: &str,
    y_label: &str,
    bars: &[(String, Estimate)],
    highlight: Option<usize>,
) -> std::result::Result<(), String> {
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let n = bars.len().max(1) as i32;
    let top = axis_top(bars.iter().map(|(_, e)| e.ci_high.max(e.mean)));
    let names: Vec<String> = bars.iter().map(|(name, _)| name.clone()).collect();
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 17))
        .margin(12)
        .x_label_area_size(34)
        .y_label_area_size(64)
        .build_cartesian_2d((0..n).into_segmented(), 0.0..top)
        .map_err(|e| e.to_string())?;
    let label = |v: &SegmentValue<i32>| match v {
        SegmentValue::CenterOf(i) => names.get(*i as usize).cloned().unwrap_or_default(),
        _ => String::new(),
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(bars.len().max(1))
        .x_label_formatter(&label)
        .y_desc(y_label)
        .y_label_formatter(&|v| crate::format::short(*v))
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(bars.iter().enumerate().map(|(i, (_, e))| {
            let i = i as i32;
            let colour = if highlight == Some(i as usize) {
                HIGHLIGHT
            } else {
                BAR
            };
            let mut bar = Rectangle::new(
                [
                    (SegmentValue::Exact(i), 0.0),
                    (SegmentValue::Exact(i + 1), e.mean),
                ],
                colour.filled(),
            );
            bar.set_margin(0, 0, 14, 14);
            bar
        }))
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(
            bars.iter()
                .enumerate()
                .filter(|(_, (_, e))| e.ci_low < e.ci_high)
                .map(|(i, (_, e))| {
                    ErrorBar::new_vertical(
                        SegmentValue::CenterOf(i as i32),
                        e.ci_low,
                        e.mean,
                        e.ci_high,
                        BLACK.stroke_width(2),
                        14,
                    )
                }),
        )
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}

/// A curve given as points (ROC, precision-recall, a loss curve).
pub fn curve(curve: &Curve) -> Result<String> {
    ensure_font();
    let mut svg = String::new();
    draw_curve(&mut svg, curve).map_err(chart_error(&curve.title))?;
    Ok(svg)
}

fn range_of(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let lo = values
        .clone()
        .filter(|v| v.is_finite())
        .fold(f64::INFINITY, f64::min);
    let hi = values
        .filter(|v| v.is_finite())
        .fold(f64::NEG_INFINITY, f64::max);
    if !lo.is_finite() {
        (0.0, 1.0)
    } else if hi > lo {
        (lo, hi)
    } else {
        (lo - 0.5, hi + 0.5)
    }
}

fn draw_curve(svg: &mut String, curve: &Curve) -> std::result::Result<(), String> {
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (x0, x1) = if curve.diagonal {
        (0.0, 1.0)
    } else {
        range_of(curve.points.iter().map(|p| p.0))
    };
    let (y0, y1) = if curve.diagonal {
        (0.0, 1.0)
    } else {
        range_of(curve.points.iter().map(|p| p.1))
    };
    let mut chart = ChartBuilder::on(&root)
        .caption(&curve.title, ("sans-serif", 17))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(&curve.x_label)
        .y_desc(&curve.y_label)
        .x_label_formatter(&|v| crate::format::short(*v))
        .y_label_formatter(&|v| crate::format::short(*v))
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(|e| e.to_string())?;
    if curve.diagonal {
        chart
            .draw_series(LineSeries::new(
                [(0.0, 0.0), (1.0, 1.0)],
                BAR.stroke_width(1),
            ))
            .map_err(|e| e.to_string())?;
    }
    chart
        .draw_series(LineSeries::new(
            curve.points.iter().copied(),
            LINE.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())?;
    Ok(())
}

/// The objective over the thresholds tried, its 95 % CI as a band, and the chosen threshold marked.
pub fn threshold(search: &ThresholdSearch) -> Result<String> {
    ensure_font();
    let title = format!("{} by alarm threshold", search.objective);
    let mut svg = String::new();
    draw_threshold(&mut svg, &title, search).map_err(chart_error(&title))?;
    Ok(svg)
}

fn draw_threshold(
    svg: &mut String,
    title: &str,
    search: &ThresholdSearch,
) -> std::result::Result<(), String> {
    let root = SVGBackend::with_string(svg, (WIDTH, HEIGHT)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let (x0, x1) = range_of(search.points.iter().map(|p| p.threshold));
    let (y0, y1) = range_of(
        search
            .points
            .iter()
            .flat_map(|p| [p.value.ci_low, p.value.ci_high, p.value.mean]),
    );
    let pad = (y1 - y0) * 0.08;
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 17))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(64)
        .build_cartesian_2d(x0..x1, (y0 - pad)..(y1 + pad))
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc("alarm threshold (failure probability)")
        .y_desc(&search.objective)
        .x_label_formatter(&|v| crate::format::short(*v))
        .y_label_formatter(&|v| crate::format::short(*v))
        .label_style(("sans-serif", 13))
        .draw()
        .map_err(|e| e.to_string())?;
    let band: Vec<(f64, f64)> = search
        .points
        .iter()
        .map(|p| (p.threshold, p.value.ci_high))
        .chain(
            search
                .points
                .iter()
                .rev()
                .map(|p| (p.threshold, p.value.ci_low)),
        )
        .collect();
    chart
        .draw_series(std::iter::once(Polygon::new(band, BAND.filled())))
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(LineSeries::new(
            search.points.iter().map(|p| (p.threshold, p.value.mean)),
            LINE.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(std::iter::once(PathElement::new(
            vec![(search.best, y0 - pad), (search.best, y1 + pad)],
            BEST.stroke_width(2),
        )))
        .map_err(|e| e.to_string())?;
    root.present().map_err(|e| e.to_string())?;
    Ok(())
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
