//! Plots of a twin result, each as PNG and SVG: KPI bars with 95 % CI whiskers, station Gantt of
//! states, throughput over time, and the optimisation curve.

use std::path::Path;
use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use crate::error::TwinError;
use crate::run::TwinResult;

/// PNG text needs a font; an embedded one works on machines without fontconfig.
static FONT: Once = Once::new();
const FONT_BYTES: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

fn register_font() {
    FONT.call_once(|| {
        // The font is embedded and valid; if registering failed, SVG output would still work.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT_BYTES);
    });
}

const PALETTE: [RGBColor; 11] = [
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
];

fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Renders one chart function to `<stem>.png` and `<stem>.svg` (a macro because the two backends
/// are different types and a closure cannot be generic).
macro_rules! render_both {
    ($dir:expr, $stem:expr, $size:expr, $f:expr) => {{
        register_font();
        let png = $dir.join(format!("{}.png", $stem));
        let svg = $dir.join(format!("{}.svg", $stem));
        let fail = |p: &Path, m: String| TwinError::Plot {
            path: p.to_path_buf(),
            message: m,
        };
        {
            let root = BitMapBackend::new(&png, $size).into_drawing_area();
            root.fill(&WHITE).map_err(|e| fail(&png, e.to_string()))?;
            $f(&root).map_err(|m| fail(&png, m))?;
            root.present().map_err(|e| fail(&png, e.to_string()))?;
        }
        {
            let root = SVGBackend::new(&svg, $size).into_drawing_area();
            root.fill(&WHITE).map_err(|e| fail(&svg, e.to_string()))?;
            $f(&root).map_err(|m| fail(&svg, m))?;
            root.present().map_err(|e| fail(&svg, e.to_string()))?;
        }
        Ok::<(), TwinError>(())
    }};
}

const KPI_PANELS: [(&str, &str); 4] = [
    ("throughput", "throughput (good parts / time unit)"),
    ("oee", "OEE"),
    ("availability", "availability"),
    ("cost_per_good_part", "cost per good part"),
];

fn kpi_bars<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    r: &TwinResult,
) -> Result<(), String> {
    let panels = root.split_evenly((2, 2));
    let names: Vec<String> = r.policies.iter().map(|p| p.policy.clone()).collect();
    for (area, (key, title)) in panels.iter().zip(KPI_PANELS) {
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
        let top = stats.iter().map(|s| s.2).fold(0.0, f64::max).max(1e-9) * 1.15;
        let n = names.len() as f64;
        let mut chart = ChartBuilder::on(area)
            .caption(title, ("sans-serif", 18))
            .margin(10)
            .x_label_area_size(30)
            .y_label_area_size(60)
            .build_cartesian_2d(-0.5..n - 0.5, 0.0..top)
            .map_err(|e| e.to_string())?;
        let labels = names.clone();
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(names.len().max(1))
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < labels.len() {
                    labels[i as usize].clone()
                } else {
                    String::new()
                }
            })
            .draw()
            .map_err(|e| e.to_string())?;
        for (i, &(m, lo, hi)) in stats.iter().enumerate() {
            let x = i as f64;
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x - 0.3, 0.0), (x + 0.3, m)],
                    color(i + 4).mix(0.8).filled(),
                )))
                .map_err(|e| e.to_string())?;
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(x, lo), (x, hi)],
                    BLACK.stroke_width(2),
                )))
                .map_err(|e| e.to_string())?;
            for y in [lo, hi] {
                chart
                    .draw_series(std::iter::once(PathElement::new(
                        vec![(x - 0.1, y), (x + 0.1, y)],
                        BLACK.stroke_width(2),
                    )))
                    .map_err(|e| e.to_string())?;
            }
        }
    }
    Ok(())
}

fn throughput_series<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    r: &TwinResult,
) -> Result<(), String> {
    let bins = r
        .policies
        .first()
        .map_or(1, |p| p.throughput_series.len().max(1));
    let width = r.horizon / bins as f64;
    let top = r
        .policies
        .iter()
        .flat_map(|p| p.throughput_series.iter().copied())
        .fold(0.0, f64::max)
        .max(1e-9)
        * 1.15;
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!(
                "throughput over time (mean of {} replications)",
                r.replications
            ),
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..r.horizon, 0.0..top)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(format!("time [{}]", r.time_unit))
        .y_desc("good parts per time unit")
        .draw()
        .map_err(|e| e.to_string())?;
    for (k, p) in r.policies.iter().enumerate() {
        let c = color(k + 4);
        chart
            .draw_series(LineSeries::new(
                p.throughput_series
                    .iter()
                    .enumerate()
                    .map(|(i, &v)| ((i as f64 + 0.5) * width, v)),
                c.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label(p.policy.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], c.stroke_width(2)));
    }
    if r.warmup > 0.0 {
        chart
            .draw_series(std::iter::once(PathElement::new(
                vec![(r.warmup, 0.0), (r.warmup, top)],
                BLACK.mix(0.5),
            )))
            .map_err(|e| e.to_string())?
            .label("end of warm-up")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLACK.mix(0.5)));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())?;
    Ok(())
}

fn gantt<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    r: &TwinResult,
    policy: usize,
) -> Result<(), String> {
    let p = &r.policies[policy];
    let n = r.line.stations.len() as f64;
    let end = p.gantt.iter().map(|s| s.end).fold(0.0, f64::max).max(1e-9);
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!("station states, {} (replication 0)", p.policy),
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(110)
        .build_cartesian_2d(0.0..end, -0.5..n - 0.5)
        .map_err(|e| e.to_string())?;
    let stations = r.line.stations.clone();
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(stations.len().max(1))
        .y_label_formatter(&|y| {
            let i = y.round();
            if (y - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < stations.len() {
                stations[stations.len() - 1 - i as usize].clone()
            } else {
                String::new()
            }
        })
        .x_desc(format!("time [{}]", r.time_unit))
        .draw()
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(p.gantt.iter().map(|s| {
            let y = n - 1.0 - s.station as f64;
            Rectangle::new(
                [(s.start, y - 0.35), (s.end, y + 0.35)],
                color(s.state as usize).filled(),
            )
        }))
        .map_err(|e| e.to_string())?;
    let used: std::collections::BTreeSet<u8> = p.gantt.iter().map(|s| s.state).collect();
    for state in used {
        let c = color(state as usize);
        let name = p
            .gantt_states
            .get(state as usize)
            .cloned()
            .unwrap_or_default();
        chart
            .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())
            .map_err(|e| e.to_string())?
            .label(name)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 15, y + 5)], c.filled()));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Writes kpis, throughput and one gantt-<policy> chart per policy, each as PNG and SVG.
pub fn plot_result(r: &TwinResult, dir: &Path) -> Result<(), TwinError> {
    render_both!(dir, "kpis", (1100, 800), |root| kpi_bars(root, r))?;
    render_both!(dir, "throughput", (1100, 500), |root| throughput_series(
        root, r
    ))?;
    // An optimisation's points differ in one parameter: their curve replaces per-point Gantt charts.
    let gantts = if r.optimization.is_some() {
        0
    } else {
        r.policies.len()
    };
    for (i, p) in r.policies.iter().enumerate().take(gantts) {
        let stem = format!("gantt-{}", sanitize(&p.policy));
        render_both!(dir, stem, (1100, 450), |root| gantt(root, r, i))?;
    }
    Ok(())
}

/// One point of an optimisation curve: parameter, objective mean and CI.
pub struct CurvePoint {
    pub x: f64,
    pub mean: f64,
    pub low: f64,
    pub high: f64,
}

fn curve<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    points: &[CurvePoint],
    x_desc: &str,
    y_desc: &str,
    best: usize,
) -> Result<(), String> {
    let (x0, x1) = points
        .iter()
        .fold((f64::MAX, f64::MIN), |(a, b), p| (a.min(p.x), b.max(p.x)));
    let (y0, y1) = points.iter().fold((f64::MAX, f64::MIN), |(a, b), p| {
        (a.min(p.low), b.max(p.high))
    });
    let pad_x = ((x1 - x0) * 0.05).max(1e-9);
    let pad_y = ((y1 - y0) * 0.1).max(1e-9);
    let mut chart = ChartBuilder::on(root)
        .caption(
            format!("{y_desc} vs {x_desc} (mean, 95 % CI)"),
            ("sans-serif", 20),
        )
        .margin(15)
        .x_label_area_size(40)
        .y_label_area_size(70)
        .build_cartesian_2d(x0 - pad_x..x1 + pad_x, y0 - pad_y..y1 + pad_y)
        .map_err(|e| e.to_string())?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .draw()
        .map_err(|e| e.to_string())?;
    let band: Vec<(f64, f64)> = points
        .iter()
        .map(|p| (p.x, p.high))
        .chain(points.iter().rev().map(|p| (p.x, p.low)))
        .collect();
    chart
        .draw_series(std::iter::once(Polygon::new(band, BLUE.mix(0.15))))
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(LineSeries::new(
            points.iter().map(|p| (p.x, p.mean)),
            BLUE.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(
            points
                .iter()
                .map(|p| Circle::new((p.x, p.mean), 3, BLUE.filled())),
        )
        .map_err(|e| e.to_string())?;
    if let Some(b) = points.get(best) {
        chart
            .draw_series(std::iter::once(Circle::new(
                (b.x, b.mean),
                7,
                RED.stroke_width(3),
            )))
            .map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Writes `optimization.png/.svg`.
pub fn plot_curve(
    dir: &Path,
    points: &[CurvePoint],
    x_desc: &str,
    y_desc: &str,
    best: usize,
) -> Result<(), TwinError> {
    render_both!(dir, "optimization", (1000, 600), |root| curve(
        root, points, x_desc, y_desc, best
    ))
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
