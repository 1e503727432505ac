//! The report's charts as SVG text (the browser renders the text, so no font is needed at view time;
//! laying out the labels uses millwright-plot's embedded font).

use millwright_impact::{BusinessCase, Estimate, SensitivityRow};
use millwright_plot::plotters::coord::ranged1d::SegmentValue;
use millwright_plot::plotters::coord::types::RangedCoordf64;
use millwright_plot::plotters::prelude::*;
use millwright_plot::plotters::style::text_anchor::{HPos, Pos, VPos};
use millwright_plot::style::{self, CiPoint, CHOSEN, LABEL_PX, MUTED, REFERENCE};
use millwright_plot::{svg_string, Backend, Chart, DrawResult, Shift};

use crate::error::{ReportError, Result};
use crate::input::{Curve, ThresholdSearch};

const SIZE: (u32, u32) = (520, 320);
const TITLE_PX: u32 = 17;
/// The highlighted bar and the curves.
const ACCENT: RGBColor = RGBColor(0x1f, 0x6f, 0xb2);

fn draw(what: &str, chart: &impl Chart) -> Result<String> {
    draw_sized(what, chart, SIZE)
}

fn draw_sized(what: &str, chart: &impl Chart, size: (u32, u32)) -> Result<String> {
    svg_string(chart, size).map_err(|source| ReportError::Chart {
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

/// Cumulative undiscounted cash flow over the horizon, −investment + m × net monthly gain, with the band
/// the net gain's 95 % CI gives, the zero line and the payback month.
pub fn cash_flow(business: &BusinessCase) -> Result<String> {
    draw("cumulative cash flow", &CashFlow(business))
}

struct CashFlow<'a>(&'a BusinessCase);

impl CashFlow<'_> {
    fn points(&self) -> Vec<CiPoint> {
        let b = self.0;
        let at = |m: f64, net: f64| m * net - b.investment.investment;
        (0..=b.investment.horizon_months)
            .map(|m| {
                let x = f64::from(m);
                CiPoint {
                    x,
                    mean: at(x, b.net_monthly.mean),
                    low: at(x, b.net_monthly.ci_low),
                    high: at(x, b.net_monthly.ci_high),
                }
            })
            .collect()
    }
}

impl Chart for CashFlow<'_> {
    fn draw<DB: Backend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let b = self.0;
        let horizon = f64::from(b.investment.horizon_months);
        let points = self.points();
        let values = points.iter().flat_map(|p| [p.low, p.mean, p.high]);
        let (y0, y1) = style::padded_range(values.chain([0.0]), 0.08).unwrap_or((-1.0, 1.0));
        let mut chart =
            frame(root, "Cumulative cash flow").build_cartesian_2d(0.0..horizon, y0..y1)?;
        chart
            .configure_mesh()
            .x_desc("months after the investment")
            .y_desc(format!(
                "cumulative net cash, {} (undiscounted)",
                b.currency
            ))
            .x_label_formatter(&|v| crate::format::short(*v))
            .y_label_formatter(&|v| crate::format::compact(*v))
            .label_style(style::font(LABEL_PX))
            .draw()?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(0.0, 0.0), (horizon, 0.0)],
            REFERENCE.stroke_width(1),
        )))?;
        style::ci_band(&mut chart, &points, ACCENT)?;
        if let Some(m) = b.payback.months.filter(|m| *m <= horizon) {
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(m, y0), (m, y1)],
                CHOSEN.stroke_width(2),
            )))?;
            // The label on the side of the line with more room.
            let (anchor, x) = if m > 0.6 * horizon {
                (HPos::Right, m - horizon * 0.01)
            } else {
                (HPos::Left, m + horizon * 0.01)
            };
            let label = TextStyle::from(style::font(LABEL_PX).into_font())
                .color(&CHOSEN)
                .pos(Pos::new(anchor, VPos::Top));
            chart.draw_series(std::iter::once(Text::new(
                format!("payback {m:.1} months"),
                (x, y1),
                label,
            )))?;
        }
        Ok(())
    }
}

/// One bar per sensitivity row (largest swing on top) from the outcome at the input's low setting to the one
/// at its high setting, each half drawn from the measured outcome `base` and labelled with its setting.
pub fn tornado(rows: &[SensitivityRow], base: f64, unit: &str) -> Result<String> {
    let height = (90 + 34 * rows.len() as u32).max(220);
    draw_sized("sensitivity", &Tornado { rows, base, unit }, (680, height))
}

struct Tornado<'a> {
    rows: &'a [SensitivityRow],
    base: f64,
    unit: &'a str,
}

impl Chart for Tornado<'_> {
    fn draw<DB: Backend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let n = self.rows.len();
        let ends = |r: &SensitivityRow| {
            [
                r.low.outcome.monthly_benefit,
                r.high.outcome.monthly_benefit,
            ]
        };
        // Wide padding: the settings are written beyond the bar ends.
        let (x0, x1) = style::padded_range(self.rows.iter().flat_map(ends).chain([self.base]), 0.3)
            .unwrap_or((self.base - 1.0, self.base + 1.0));
        let names: Vec<&str> = self.rows.iter().map(|r| r.input.as_str()).collect();
        let longest = names.iter().map(|s| s.chars().count()).max().unwrap_or(4) as u32;
        let mut chart = frame(root, "What moves the benefit per month")
            .x_label_area_size(40)
            .y_label_area_size((longest * 7 + 16).clamp(60, 260))
            .build_cartesian_2d(x0..x1, 0.0..n.max(1) as f64)?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(2 * n + 1)
            .y_label_formatter(&|v| style::category_label(&names, v - 0.5, true))
            .x_desc(format!("benefit per month, {}", self.unit))
            .x_label_formatter(&|v| crate::format::compact(*v))
            .label_style(style::font(LABEL_PX))
            .draw()?;
        let gap = (x1 - x0) * 0.01;
        for (i, row) in self.rows.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            let mut moved = false;
            for (setting, colour) in [(&row.low, style::series_color(1)), (&row.high, ACCENT)] {
                // A setting that does not move the outcome has no bar, and its label would sit on the other's.
                if (setting.outcome.monthly_benefit - self.base).abs() > 1e-9 * (x1 - x0) {
                    self.half_bar(&mut chart, (y, gap), setting, colour)?;
                    moved = true;
                }
            }
            if !moved {
                let label = TextStyle::from(style::font(12).into_font())
                    .pos(Pos::new(HPos::Left, VPos::Center));
                chart.draw_series(std::iter::once(Text::new(
                    "no change",
                    (self.base + gap, y + 0.5),
                    label,
                )))?;
            }
        }
        chart.draw_series(std::iter::once(PathElement::new(
            vec![(self.base, 0.0), (self.base, n as f64)],
            BLACK.stroke_width(1),
        )))?;
        Ok(())
    }
}

impl Tornado<'_> {
    /// The bar from the base to one setting's outcome at row `y`, with the setting written `gap` past its end.
    fn half_bar<DB: Backend>(
        &self,
        chart: &mut ChartContext<'_, DB, Cartesian2d<RangedCoordf64, RangedCoordf64>>,
        (y, gap): (f64, f64),
        setting: &millwright_impact::Setting,
        colour: RGBColor,
    ) -> DrawResult {
        let end = setting.outcome.monthly_benefit;
        chart.draw_series(std::iter::once(Rectangle::new(
            [(self.base, y + 0.2), (end, y + 0.8)],
            colour.filled(),
        )))?;
        let (anchor, at) = if end < self.base {
            (HPos::Right, end - gap)
        } else {
            (HPos::Left, end + gap)
        };
        let label =
            TextStyle::from(style::font(12).into_font()).pos(Pos::new(anchor, VPos::Center));
        chart.draw_series(std::iter::once(Text::new(
            setting.setting.clone(),
            (at, y + 0.5),
            label,
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

    #[test]
    fn cash_flow_and_tornado_draw_flat_and_one_month_cases() {
        use millwright_impact::{Investment, Outcome, Payback, Setting};
        let net = Estimate::exact(-10.0);
        let business = BusinessCase {
            investment: Investment::new(0.0, 10.0, 1, 0.0).unwrap(),
            currency: "EUR".into(),
            monthly_benefit: Estimate::exact(0.0),
            net_monthly: net,
            payback: Payback {
                months: None,
                ci_low: None,
                ci_high: None,
            },
            never_pays_back_share: 1.0,
            npv: net,
            roi: None,
        };
        let svg = cash_flow(&business).unwrap();
        assert!(svg.contains("months after the investment") && !svg.contains("payback"));
        let outcome = Outcome {
            productivity_ratio: 1.0,
            value_ratio: None,
            monthly_benefit: 5.0,
            npv: None,
            payback_months: None,
        };
        let setting = |s: &str| Setting {
            setting: s.into(),
            outcome,
        };
        let flat = SensitivityRow {
            input: "price: scrap".into(),
            kind: "price".into(),
            low: setting("-25 %"),
            high: setting("+25 %"),
        };
        let svg = tornado(&[flat], 5.0, "EUR/month").unwrap();
        assert!(svg.contains("price: scrap") && svg.contains("no change"));
        assert!(
            !svg.contains("+25 %"),
            "a setting without effect is not labelled"
        );
    }
}
