//! The individual charts. Each public function validates its data, then renders through [`super::render`].

use std::path::Path;

use millwright_plot::plotters::prelude::*;
use millwright_plot::plotters::style::text_anchor::{HPos, Pos, VPos};
use millwright_plot::style::{self, series_color, FAINT, REFERENCE};
use millwright_plot::{render_files, Backend, Chart, DrawResult, Shift};

use super::{PlotError, PlotFiles};

fn invalid(plot: &'static str, reason: impl Into<String>) -> PlotError {
    PlotError::InvalidInput {
        plot,
        reason: reason.into(),
    }
}

/// Checks that a curve has points and every point is finite.
fn check_points(plot: &'static str, what: &str, points: &[(f64, f64)]) -> Result<(), PlotError> {
    if points.is_empty() {
        return Err(invalid(plot, format!("{what} has no points")));
    }
    if let Some((i, p)) = points
        .iter()
        .enumerate()
        .find(|(_, (x, y))| !x.is_finite() || !y.is_finite())
    {
        return Err(invalid(
            plot,
            format!("{what} point {i} is not finite: {p:?}"),
        ));
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------------
// Curves per epoch

struct Curves<'a> {
    title: &'a str,
    y_label: &'a str,
    series: &'a [(&'a str, &'a [(f64, f64)])],
    x: (f64, f64),
    y: (f64, f64),
}

impl Chart for Curves<'_> {
    fn draw<DB: Backend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let mut chart = style::frame(root, self.title, 22)
            .y_label_area_size(70)
            .build_cartesian_2d(self.x.0..self.x.1, self.y.0..self.y.1)?;
        chart
            .configure_mesh()
            .light_line_style(FAINT)
            .x_desc("epoch")
            // Epochs are whole numbers: label only those.
            .x_label_formatter(&|x| {
                if x.fract() == 0.0 {
                    format!("{x:.0}")
                } else {
                    String::new()
                }
            })
            .y_desc(self.y_label)
            .draw()?;
        for (i, (label, points)) in self.series.iter().enumerate() {
            let c = series_color(i);
            // Non-finite epochs (a diverged loss) leave a gap rather than breaking the axis.
            let finite: Vec<(f64, f64)> = points
                .iter()
                .copied()
                .filter(|(x, y)| x.is_finite() && y.is_finite())
                .collect();
            chart
                .draw_series(LineSeries::new(finite, c.stroke_width(2)))?
                .label(*label)
                .legend(style::legend_line(c.stroke_width(2)));
        }
        style::legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}

/// One line per series of `(epoch, value)` points, e.g. `[("train", &train_loss), ("val", &val_loss)]`.
/// Non-finite values are skipped (a diverged epoch leaves a gap); at least one finite point is needed.
pub fn metric_curves(
    title: &str,
    y_label: &str,
    series: &[(&str, &[(f64, f64)])],
    stem: &Path,
) -> Result<PlotFiles, PlotError> {
    const PLOT: &str = "metric curves";
    if series.is_empty() {
        return Err(invalid(PLOT, "no series given"));
    }
    let all = || {
        series
            .iter()
            .flat_map(|(_, p)| p.iter())
            .filter(|(x, y)| x.is_finite() && y.is_finite())
    };
    let x = style::padded_range(all().map(|p| p.0), 0.05)
        .ok_or_else(|| invalid(PLOT, format!("{title}: no finite point")))?;
    let y = style::padded_range(all().map(|p| p.1), 0.05)
        .ok_or_else(|| invalid(PLOT, format!("{title}: no finite point")))?;
    render_files(
        &Curves {
            title,
            y_label,
            series,
            x,
            y,
        },
        stem,
        (900, 560),
    )
}

// ---------------------------------------------------------------------------------------------------
// ROC and precision-recall

struct UnitCurve<'a> {
    title: String,
    x_label: &'a str,
    y_label: &'a str,
    points: &'a [(f64, f64)],
    /// Reference line drawn grey: the chance diagonal for ROC, the positive rate for PR.
    reference: Vec<(f64, f64)>,
    reference_label: &'a str,
    /// Where the legend hides no data: lower right for ROC, upper right for precision-recall.
    legend: SeriesLabelPosition,
}

impl Chart for UnitCurve<'_> {
    fn draw<DB: Backend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let mut chart =
            style::frame(root, &self.title, 22).build_cartesian_2d(0.0..1.0, 0.0..1.02)?;
        chart
            .configure_mesh()
            .light_line_style(FAINT)
            .x_desc(self.x_label)
            .y_desc(self.y_label)
            .draw()?;
        chart
            .draw_series(LineSeries::new(
                self.reference.iter().copied(),
                REFERENCE.stroke_width(1),
            ))?
            .label(self.reference_label)
            .legend(style::legend_line(REFERENCE.stroke_width(1)));
        let c = series_color(0);
        chart
            .draw_series(LineSeries::new(
                self.points.iter().copied(),
                c.stroke_width(2),
            ))?
            .label("model")
            .legend(style::legend_line(c.stroke_width(2)));
        style::legend(&mut chart, self.legend.clone())
    }
}

fn check_unit(plot: &'static str, points: &[(f64, f64)]) -> Result<(), PlotError> {
    check_points(plot, "curve", points)?;
    if let Some((i, p)) = points
        .iter()
        .enumerate()
        .find(|(_, (x, y))| !(0.0..=1.0).contains(x) || !(0.0..=1.0).contains(y))
    {
        return Err(invalid(plot, format!("point {i} {p:?} is outside [0, 1]")));
    }
    Ok(())
}

/// ROC curve from `(false positive rate, true positive rate)` points (as from
/// [`crate::metrics::roc_curve`]), with the chance diagonal; `auc` goes in the title.
pub fn roc_curve(
    points: &[(f64, f64)],
    auc: Option<f64>,
    stem: &Path,
) -> Result<PlotFiles, PlotError> {
    check_unit("ROC", points)?;
    let title = match auc {
        Some(auc) => format!("ROC curve (AUC {auc:.4})"),
        None => "ROC curve".to_string(),
    };
    let chart = UnitCurve {
        title,
        x_label: "false positive rate",
        y_label: "true positive rate",
        points,
        reference: vec![(0.0, 0.0), (1.0, 1.0)],
        reference_label: "chance",
        legend: SeriesLabelPosition::LowerRight,
    };
    render_files(&chart, stem, (700, 620))
}

/// Precision-recall curve from `(recall, precision)` points (as from [`crate::metrics::pr_curve`]).
/// `positive_rate` (share of positives) draws the no-skill line; `average_precision` goes in the title.
pub fn precision_recall_curve(
    points: &[(f64, f64)],
    average_precision: Option<f64>,
    positive_rate: f64,
    stem: &Path,
) -> Result<PlotFiles, PlotError> {
    check_unit("precision-recall", points)?;
    if !(0.0..=1.0).contains(&positive_rate) {
        return Err(invalid(
            "precision-recall",
            format!("positive rate {positive_rate} is outside [0, 1]"),
        ));
    }
    let title = match average_precision {
        Some(ap) => format!("precision-recall (AP {ap:.4})"),
        None => "precision-recall".to_string(),
    };
    let chart = UnitCurve {
        title,
        x_label: "recall",
        y_label: "precision",
        points,
        reference: vec![(0.0, positive_rate), (1.0, positive_rate)],
        reference_label: "no skill",
        legend: SeriesLabelPosition::UpperRight,
    };
    render_files(&chart, stem, (700, 620))
}

// ---------------------------------------------------------------------------------------------------
// Confusion matrix

struct Confusion<'a> {
    counts: &'a [Vec<u64>],
    names: &'a [&'a str],
}

impl Chart for Confusion<'_> {
    fn draw<DB: Backend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let k = self.counts.len();
        let kf = k as f64;
        let mut chart = style::frame(
            root,
            "confusion matrix (colour: share of the actual class)",
            20,
        )
        .x_label_area_size(50)
        .y_label_area_size(110)
        .build_cartesian_2d(0.0..kf, 0.0..kf)?;
        // Labels sit at cell centres; row i (actual class i) is drawn from the top: y = k − 1 − i.
        let names = self.names;
        let label_at = |v: f64, reverse: bool| style::category_label(names, v - 0.5, reverse);
        chart
            .configure_mesh()
            .light_line_style(FAINT)
            .disable_mesh()
            .x_labels(2 * k + 1)
            .y_labels(2 * k + 1)
            .x_label_formatter(&|v| label_at(*v, false))
            .y_label_formatter(&|v| label_at(*v, true))
            .x_desc("predicted")
            .y_desc("actual")
            .draw()?;
        for (i, row) in self.counts.iter().enumerate() {
            let total: u64 = row.iter().sum();
            let y = (k - 1 - i) as f64;
            for (j, &count) in row.iter().enumerate() {
                let share = if total > 0 {
                    count as f64 / total as f64
                } else {
                    0.0
                };
                // White to the palette's first colour by share.
                let RGBColor(r, g, b) = series_color(0);
                let shade = |c: u8| (255.0 - share * (255.0 - f64::from(c))) as u8;
                let fill = RGBColor(shade(r), shade(g), shade(b));
                let x = j as f64;
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x, y), (x + 1.0, y + 1.0)],
                    fill.filled(),
                )))?;
                let ink = if share > 0.5 { WHITE } else { BLACK };
                let text = TextStyle::from(style::font(20))
                    .color(&ink)
                    .pos(Pos::new(HPos::Center, VPos::Center));
                chart.draw_series(std::iter::once(Text::new(
                    format!("{count}\n({:.1} %)", share * 100.0).replace('\n', " "),
                    (x + 0.5, y + 0.5),
                    text,
                )))?;
            }
        }
        Ok(())
    }
}

/// Heat map of a square confusion matrix (`counts[actual][predicted]`) with the count and the share of
/// the actual class in each cell; `class_names` label both axes.
pub fn confusion_matrix(
    counts: &[Vec<u64>],
    class_names: &[&str],
    stem: &Path,
) -> Result<PlotFiles, PlotError> {
    const PLOT: &str = "confusion matrix";
    let k = counts.len();
    if k == 0 {
        return Err(invalid(PLOT, "no classes"));
    }
    if let Some((i, row)) = counts.iter().enumerate().find(|(_, row)| row.len() != k) {
        return Err(invalid(
            PLOT,
            format!(
                "row {i} has {} cells; a {k}-class matrix needs {k}",
                row.len()
            ),
        ));
    }
    if class_names.len() != k {
        return Err(invalid(
            PLOT,
            format!("{} class names for a {k}-class matrix", class_names.len()),
        ));
    }
    let side = (200 + 120 * k as u32).min(1600);
    render_files(
        &Confusion {
            counts,
            names: class_names,
        },
        stem,
        (side + 60, side),
    )
}

// ---------------------------------------------------------------------------------------------------
// Calibration

struct Calibration<'a> {
    bins: &'a [(f64, f64, usize)],
}

impl Chart for Calibration<'_> {
    fn draw<DB: Backend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let (top, bottom) = root.split_vertically(root.dim_in_pixel().1 * 7 / 10);
        let mut chart = style::frame(&top, "calibration (reliability diagram)", 22)
            .x_label_area_size(30)
            .build_cartesian_2d(0.0..1.0, 0.0..1.02)?;
        chart
            .configure_mesh()
            .light_line_style(FAINT)
            .y_desc("observed positive rate")
            .draw()?;
        chart
            .draw_series(LineSeries::new(
                [(0.0, 0.0), (1.0, 1.0)],
                REFERENCE.stroke_width(1),
            ))?
            .label("perfectly calibrated")
            .legend(style::legend_line(REFERENCE.stroke_width(1)));
        let c = series_color(0);
        let points: Vec<(f64, f64)> = self.bins.iter().map(|b| (b.0, b.1)).collect();
        chart
            .draw_series(LineSeries::new(points.iter().copied(), c.stroke_width(2)))?
            .label("model")
            .legend(style::legend_line(c.stroke_width(2)));
        chart.draw_series(points.iter().map(|&p| Circle::new(p, 4, c.filled())))?;
        style::legend(&mut chart, SeriesLabelPosition::UpperLeft)?;

        // Rows per bin on a log scale: most predictions of a rare-failure model sit near 0.
        let max_rows = self.bins.iter().map(|b| b.2).max().unwrap_or(1).max(1) as f64;
        let mut hist = ChartBuilder::on(&bottom)
            .margin(style::MARGIN)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(0.0..1.0, (0.8..max_rows * 2.0).log_scale())?;
        hist.configure_mesh()
            .light_line_style(FAINT)
            .x_desc("mean predicted probability")
            .y_desc("rows")
            .draw()?;
        let width = 0.5 / self.bins.len().max(10) as f64;
        hist.draw_series(self.bins.iter().filter(|b| b.2 > 0).map(|&(p, _, n)| {
            Rectangle::new(
                [
                    ((p - width).max(0.0), 0.8),
                    ((p + width).min(1.0), n as f64),
                ],
                c.mix(0.6).filled(),
            )
        }))?;
        Ok(())
    }
}

/// Reliability diagram from `(mean predicted probability, observed positive rate, rows)` per bin (as from
/// [`crate::metrics::calibration_bins`]), with the diagonal and a histogram of rows per bin.
pub fn calibration_diagram(
    bins: &[(f64, f64, usize)],
    stem: &Path,
) -> Result<PlotFiles, PlotError> {
    const PLOT: &str = "calibration";
    let points: Vec<(f64, f64)> = bins.iter().map(|b| (b.0, b.1)).collect();
    check_unit(PLOT, &points)?;
    render_files(&Calibration { bins }, stem, (700, 760))
}

// ---------------------------------------------------------------------------------------------------
// Feature importance

struct Importance {
    /// `(name, value, spread)`, sorted most important first.
    rows: Vec<(String, f64, Option<f64>)>,
    title: String,
    x: (f64, f64),
}

impl Chart for Importance {
    fn draw<DB: Backend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let n = self.rows.len();
        let nf = n as f64;
        let longest = self
            .rows
            .iter()
            .map(|r| r.0.chars().count())
            .max()
            .unwrap_or(4) as u32;
        let mut chart = style::frame(root, &self.title, 22)
            .y_label_area_size((longest * 9 + 20).clamp(60, 320))
            .build_cartesian_2d(self.x.0..self.x.1, 0.0..nf)?;
        let names: Vec<&str> = self.rows.iter().map(|r| r.0.as_str()).collect();
        // Labels sit at bar centres; bar i (i-th most important) is drawn from the top: y = n − 1 − i.
        chart
            .configure_mesh()
            .light_line_style(FAINT)
            .disable_y_mesh()
            .y_labels(2 * n + 1)
            .y_label_formatter(&|v| style::category_label(&names, v - 0.5, true))
            .x_desc("importance (drop in score when the feature is shuffled)")
            .draw()?;
        let c = series_color(0);
        for (i, (_, value, spread)) in self.rows.iter().enumerate() {
            let y = (n - 1 - i) as f64;
            chart.draw_series(std::iter::once(Rectangle::new(
                [(0.0, y + 0.15), (*value, y + 0.85)],
                c.mix(0.85).filled(),
            )))?;
            if let Some(s) = spread {
                let whisker = vec![(value - s, y + 0.5), (value + s, y + 0.5)];
                chart.draw_series(std::iter::once(PathElement::new(
                    whisker,
                    BLACK.stroke_width(2),
                )))?;
            }
        }
        Ok(())
    }
}

/// Horizontal bars of feature importances (e.g. permutation importance: the drop in the score when a
/// feature is shuffled), sorted most important first; `spread` (e.g. the standard deviation over
/// repeats) draws whiskers.
pub fn feature_importance(
    names: &[&str],
    values: &[f64],
    spread: Option<&[f64]>,
    stem: &Path,
) -> Result<PlotFiles, PlotError> {
    const PLOT: &str = "feature importance";
    if names.is_empty() {
        return Err(invalid(PLOT, "no features"));
    }
    if names.len() != values.len() {
        return Err(invalid(
            PLOT,
            format!("{} names but {} values", names.len(), values.len()),
        ));
    }
    if let Some(spread) = spread {
        if spread.len() != values.len() {
            return Err(invalid(
                PLOT,
                format!("{} spreads for {} values", spread.len(), values.len()),
            ));
        }
    }
    let mut rows = Vec::with_capacity(names.len());
    for (i, (name, value)) in names.iter().zip(values).enumerate() {
        let s = spread.map(|s| s[i]);
        if !value.is_finite() || s.is_some_and(|s| !s.is_finite()) {
            return Err(invalid(
                PLOT,
                format!("feature {name:?} has a non-finite importance"),
            ));
        }
        rows.push((name.to_string(), *value, s));
    }
    rows.sort_by(|a, b| b.1.total_cmp(&a.1));
    let lo = rows
        .iter()
        .map(|r| r.1 - r.2.unwrap_or(0.0))
        .fold(0.0, f64::min);
    let hi = rows
        .iter()
        .map(|r| r.1 + r.2.unwrap_or(0.0))
        .fold(0.0, f64::max);
    let pad = ((hi - lo) * 0.05).max(1e-9);
    let height = (120 + 32 * rows.len() as u32).min(2400);
    let chart = Importance {
        rows,
        title: "feature importance".to_string(),
        x: (lo - pad, hi + pad),
    };
    render_files(&chart, stem, (900, height))
}
