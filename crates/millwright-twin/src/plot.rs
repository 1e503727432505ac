//! Plots of a twin result, each as PNG and SVG: KPI bars with 95 % CI whiskers, station Gantt of
//! states, throughput over time, and the optimisation curve. Drawing goes through millwright-plot.

use std::path::Path;

use millwright_plot::plotters::prelude::*;
use millwright_plot::style::{self, series_color, CiPoint, CHOSEN, FAINT};
use millwright_plot::{render_files, Backend, Chart, DrawResult, Shift};

use crate::error::TwinError;
use crate::run::TwinResult;

/// Station states in `sim::STATE_NAMES` order.
const STATE_COLORS: [RGBColor; 12] = [
    RGBColor(46, 139, 87),   // busy
    RGBColor(230, 200, 60),  // starved
    RGBColor(240, 140, 40),  // blocked
    RGBColor(170, 170, 170), // planned stop
    RGBColor(70, 110, 200),  // maintenance
    RGBColor(200, 40, 40),   // down (time)
    RGBColor(150, 20, 60),   // TWF
    RGBColor(220, 80, 120),  // HDF
    RGBColor(120, 40, 160),  // PWF
    RGBColor(90, 20, 20),    // OSF
    RGBColor(240, 100, 80),  // RNF
    RGBColor(60, 60, 60),    // HIDDEN
];

fn state_color(state: u8) -> RGBColor {
    STATE_COLORS[state as usize % STATE_COLORS.len()]
}

const KPI_PANELS: [(&str, &str); 4] = [
    ("throughput", "throughput (good parts / time unit)"),
    ("oee", "OEE"),
    ("availability", "availability"),
    ("cost_per_good_part", "cost per good part"),
];

/// Four panels of per-policy bars with CI whiskers.
struct KpiBars<'a>(&'a TwinResult);

impl Chart for KpiBars<'_> {
    fn draw<DB: Backend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let r = self.0;
        let names: Vec<&str> = r.policies.iter().map(|p| p.policy.as_str()).collect();
        for (area, (key, title)) in root.split_evenly((2, 2)).iter().zip(KPI_PANELS) {
            let stats: Vec<(f64, f64, f64)> = r
                .policies
                .iter()
                .map(|p| {
                    let s = p.kpis.get(key).copied();
                    let m = s.and_then(|s| s.mean).unwrap_or(0.0);
                    let lo = s.and_then(|s| s.ci_low).unwrap_or(m);
                    let hi = s.and_then(|s| s.ci_high).unwrap_or(m);
                    (m, lo, hi)
                })
                .collect();
            let top = style::axis_top(stats.iter().map(|s| s.2));
            let n = names.len() as f64;
            let mut chart = style::frame(area, title, 18)
                .margin(10)
                .x_label_area_size(30)
                .build_cartesian_2d(-0.5..n - 0.5, 0.0..top)?;
            chart
                .configure_mesh()
                .light_line_style(FAINT)
                .disable_x_mesh()
                .x_labels(names.len().max(1))
                .x_label_formatter(&|x| style::category_label(&names, *x, false))
                .draw()?;
            for (i, &(m, lo, hi)) in stats.iter().enumerate() {
                let x = i as f64;
                chart.draw_series(std::iter::once(Rectangle::new(
                    [(x - 0.3, 0.0), (x + 0.3, m)],
                    series_color(i).mix(0.8).filled(),
                )))?;
                if lo < hi {
                    chart.draw_series(std::iter::once(style::whisker(x, lo, m, hi)))?;
                }
            }
        }
        Ok(())
    }
}

/// Mean throughput per time bin, one line per policy, the end of the warm-up marked.
struct ThroughputSeries<'a>(&'a TwinResult);

impl Chart for ThroughputSeries<'_> {
    fn draw<DB: Backend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let r = self.0;
        let bins = r
            .policies
            .first()
            .map_or(1, |p| p.throughput_series.len().max(1));
        let width = r.horizon / bins as f64;
        let top = style::axis_top(
            r.policies
                .iter()
                .flat_map(|p| p.throughput_series.iter().copied()),
        );
        let title = format!(
            "throughput over time (mean of {} replications)",
            r.replications
        );
        let mut chart =
            style::frame(root, &title, 20).build_cartesian_2d(0.0..r.horizon, 0.0..top)?;
        chart
            .configure_mesh()
            .light_line_style(FAINT)
            .x_desc(format!("time [{}]", r.time_unit))
            .y_desc("good parts per time unit")
            .draw()?;
        for (k, p) in r.policies.iter().enumerate() {
            let c = series_color(k);
            chart
                .draw_series(LineSeries::new(
                    p.throughput_series
                        .iter()
                        .enumerate()
                        .map(|(i, &v)| ((i as f64 + 0.5) * width, v)),
                    c.stroke_width(2),
                ))?
                .label(p.policy.clone())
                .legend(style::legend_line(c.stroke_width(2)));
        }
        if r.warmup > 0.0 {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(r.warmup, 0.0), (r.warmup, top)],
                    BLACK.mix(0.5),
                )))?
                .label("end of warm-up")
                .legend(style::legend_line(BLACK.mix(0.5)));
        }
        style::legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}

/// Station states over the start of replication 0 of one policy.
struct Gantt<'a> {
    result: &'a TwinResult,
    policy: usize,
}

impl Chart for Gantt<'_> {
    fn draw<DB: Backend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let r = self.result;
        let p = &r.policies[self.policy];
        let stations = &r.line.stations;
        let n = stations.len() as f64;
        let end = p.gantt.iter().map(|s| s.end).fold(0.0, f64::max).max(1e-9);
        let title = format!("station states, {} (replication 0)", p.policy);
        let mut chart = style::frame(root, &title, 20)
            .y_label_area_size(110)
            .build_cartesian_2d(0.0..end, -0.5..n - 0.5)?;
        chart
            .configure_mesh()
            .light_line_style(FAINT)
            .disable_y_mesh()
            .y_labels(stations.len().max(1))
            .y_label_formatter(&|y| style::category_label(stations, *y, true))
            .x_desc(format!("time [{}]", r.time_unit))
            .draw()?;
        chart.draw_series(p.gantt.iter().map(|s| {
            let y = n - 1.0 - f64::from(s.station);
            Rectangle::new(
                [(s.start, y - 0.35), (s.end, y + 0.35)],
                state_color(s.state).filled(),
            )
        }))?;
        let used: std::collections::BTreeSet<u8> = p.gantt.iter().map(|s| s.state).collect();
        for state in used {
            let c = state_color(state);
            let name = p
                .gantt_states
                .get(state as usize)
                .cloned()
                .unwrap_or_default();
            chart
                .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())?
                .label(name)
                .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], c.filled()));
        }
        style::legend(&mut chart, SeriesLabelPosition::UpperRight)
    }
}

/// The objective against the searched parameter: mean, CI band, the optimum circled.
struct Curve<'a> {
    points: &'a [CiPoint],
    x_desc: &'a str,
    y_desc: &'a str,
    best: usize,
}

impl Chart for Curve<'_> {
    fn draw<DB: Backend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let points = self.points;
        let (x0, x1) = style::padded_range(points.iter().map(|p| p.x), 0.05).unwrap_or((0.0, 1.0));
        let (y0, y1) = style::padded_range(points.iter().flat_map(|p| [p.low, p.high]), 0.1)
            .unwrap_or((0.0, 1.0));
        let title = format!("{} vs {} (mean, 95 % CI)", self.y_desc, self.x_desc);
        let mut chart = style::frame(root, &title, 20)
            .y_label_area_size(70)
            .build_cartesian_2d(x0..x1, y0..y1)?;
        chart
            .configure_mesh()
            .light_line_style(FAINT)
            .x_desc(self.x_desc)
            .y_desc(self.y_desc)
            .draw()?;
        let c = series_color(0);
        style::ci_band(&mut chart, points, c)?;
        chart.draw_series(
            points
                .iter()
                .map(|p| Circle::new((p.x, p.mean), 3, c.filled())),
        )?;
        if let Some(b) = points.get(self.best) {
            chart.draw_series(std::iter::once(Circle::new(
                (b.x, b.mean),
                7,
                CHOSEN.stroke_width(3),
            )))?;
        }
        Ok(())
    }
}

/// Writes kpis, throughput, and one gantt-<policy> chart per policy or, for an optimisation, the
/// optimization curve, each as PNG and SVG.
pub fn plot_result(r: &TwinResult, dir: &Path) -> Result<(), TwinError> {
    render_files(&KpiBars(r), &dir.join("kpis"), (1100, 800))?;
    render_files(&ThroughputSeries(r), &dir.join("throughput"), (1100, 500))?;
    // An optimisation's points differ in one parameter: their curve replaces per-point Gantt charts.
    let gantts = if r.optimization.is_some() {
        0
    } else {
        r.policies.len()
    };
    for (i, p) in r.policies.iter().enumerate().take(gantts) {
        let stem = dir.join(format!("gantt-{}", sanitize(&p.policy)));
        render_files(
            &Gantt {
                result: r,
                policy: i,
            },
            &stem,
            (1100, 450),
        )?;
    }
    if let Some(opt) = &r.optimization {
        let points: Vec<CiPoint> = opt
            .points
            .iter()
            .map(|p| CiPoint {
                x: p.value,
                mean: p.mean,
                low: p.ci_low,
                high: p.ci_high,
            })
            .collect();
        let best = opt
            .points
            .iter()
            .position(|p| p.value == opt.best.value)
            .unwrap_or(0);
        plot_curve(
            dir,
            &points,
            opt.parameter.name(),
            opt.objective.kpi(),
            best,
        )?;
    }
    Ok(())
}

/// Writes `optimization.png/.svg`: the objective `y_desc` against the parameter `x_desc`, point `best` circled.
pub fn plot_curve(
    dir: &Path,
    points: &[CiPoint],
    x_desc: &str,
    y_desc: &str,
    best: usize,
) -> Result<(), TwinError> {
    let chart = Curve {
        points,
        x_desc,
        y_desc,
        best,
    };
    render_files(&chart, &dir.join("optimization"), (1000, 600))?;
    Ok(())
}

fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}
