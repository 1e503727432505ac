//! Charts the twin and business pages draw on the server as inline SVG (attributes only, no `style`, so
//! the page's CSP holds): bars with confidence whiskers, a station Gantt chart and a tornado chart. Each
//! takes its labels from the page's catalog; data-derived text sits in `translate="no"` groups.

use maud::{html, Markup};

use crate::ui::i18n::number;

/// About five round tick values covering `[lo, hi]`.
pub fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    if !(lo.is_finite() && hi.is_finite()) {
        return Vec::new();
    }
    let (lo, hi) = if hi > lo {
        (lo, hi)
    } else {
        (lo - 1.0, lo + 1.0)
    };
    let raw = (hi - lo) / 5.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// Digits after the point that tell ticks `step` apart.
fn decimals_for(ticks: &[f64]) -> usize {
    let step = match ticks {
        [a, b, ..] => (b - a).abs(),
        _ => 1.0,
    };
    if !(step.is_finite() && step > 0.0) {
        return 0;
    }
    // The fewest digits that write the step exactly (0.025 needs 3).
    (0..6)
        .find(|d| {
            let scaled = step * 10f64.powi(*d);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
        })
        .map_or(6, |d| d as usize)
}

/// A value range padded by 8 % on each side, with 0 inside when `with_zero`.
fn padded(values: impl IntoIterator<Item = f64>, with_zero: bool) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.into_iter().filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if with_zero {
        lo = lo.min(0.0);
        hi = hi.max(0.0);
    }
    if hi - lo < 1e-12 {
        let d = lo.abs().max(1.0) * 0.1;
        return (lo - d, hi + d);
    }
    let pad = (hi - lo) * 0.08;
    (
        if with_zero && lo >= 0.0 { lo } else { lo - pad },
        if with_zero && hi <= 0.0 { hi } else { hi + pad },
    )
}

fn f(x: f64) -> String {
    format!("{x:.1}")
}

/// One bar with its interval.
pub struct Whisker {
    pub label: String,
    pub mean: f64,
    pub low: f64,
    pub high: f64,
}

/// Bars of `rows` from 0 with 95 % CI whiskers; `title` names the chart for screen readers.
pub fn whiskers(id: &str, title: &str, rows: &[Whisker], decimals: usize) -> Markup {
    let (w, top) = (320.0, 18.0);
    // Labels longer than their slot are written slanted, with room below and to the left for them.
    let longest = rows
        .iter()
        .map(|r| r.label.chars().count())
        .max()
        .unwrap_or(0) as f64;
    let slanted = longest * 6.2 > (w - 60.0) / rows.len().max(1) as f64;
    let left = if slanted {
        (longest * 4.7 - 10.0).clamp(52.0, 120.0)
    } else {
        52.0
    };
    let slot = (w - left - 8.0) / rows.len().max(1) as f64;
    let bottom = if slanted {
        (longest * 4.6 + 16.0).min(150.0)
    } else {
        34.0
    };
    let h = 176.0 + bottom;
    let (lo, hi) = padded(rows.iter().flat_map(|r| [r.mean, r.low, r.high]), true);
    let plot_h = h - bottom - top;
    let y = |v: f64| top + plot_h * (1.0 - (v - lo) / (hi - lo));
    let marks = ticks(lo, hi);
    let tick_decimals = decimals_for(&marks);
    let bar = (slot * 0.55).min(70.0);
    html! {
        svg .bars .whiskers id=(id) viewBox={ "0 0 " (w) " " (h) } width="100%" role="img" aria-labelledby={ (id) "-t" } {
            title id={ (id) "-t" } { (title) }
            @for m in &marks {
                line x1=(left) x2=(w - 4.0) y1=(f(y(*m))) y2=(f(y(*m))) stroke="#d5dbe3" stroke-width="1" {}
                text x=(left - 6.0) y=(f(y(*m) + 4.0)) text-anchor="end" { (number(*m, tick_decimals)) }
            }
            line x1=(left) x2=(w - 4.0) y1=(f(y(0.0_f64.clamp(lo, hi)))) y2=(f(y(0.0_f64.clamp(lo, hi)))) stroke="#5b6776" stroke-width="1" {}
            @for (i, r) in rows.iter().enumerate() {
                @let cx = left + slot * (i as f64 + 0.5);
                @let base = y(0.0_f64.clamp(lo, hi));
                @let top_y = y(r.mean);
                rect .bar .neg[r.mean < 0.0] x=(f(cx - bar / 2.0)) width=(f(bar)) y=(f(top_y.min(base))) height=(f((base - top_y).abs().max(0.5))) {}
                @if r.low.is_finite() && r.high.is_finite() {
                    line .whisker x1=(f(cx)) x2=(f(cx)) y1=(f(y(r.low))) y2=(f(y(r.high))) {}
                    line .whisker x1=(f(cx - 6.0)) x2=(f(cx + 6.0)) y1=(f(y(r.low))) y2=(f(y(r.low))) {}
                    line .whisker x1=(f(cx - 6.0)) x2=(f(cx + 6.0)) y1=(f(y(r.high))) y2=(f(y(r.high))) {}
                }
                @let above = if r.high.is_finite() { y(r.high).min(top_y) } else { top_y };
                text x=(f(cx)) y=(f(above - 4.0)) text-anchor="middle" { (number(r.mean, decimals)) }
                g translate="no" {
                    @if slanted {
                        text x=(f(cx)) y=(f(h - bottom + 12.0)) text-anchor="end"
                            transform={ "rotate(-40 " (f(cx)) " " (f(h - bottom + 12.0)) ")" } { (r.label) }
                    } @else {
                        text x=(f(cx)) y=(f(h - bottom + 16.0)) text-anchor="middle" { (r.label) }
                    }
                }
            }
        }
    }
}

/// A state segment of one station.
pub struct Span {
    pub station: usize,
    pub state: usize,
    pub start: f64,
    pub end: f64,
}

/// The colour of a station state, by its name in the twin (`busy`, `down (TWF)`, …).
pub fn state_colour(state: &str) -> &'static str {
    match state {
        "busy" => "#2e8b57",
        "starved" => "#c9d1da",
        "blocked" => "#e0a526",
        "planned stop" => "#7f8c9a",
        "maintenance" => "#3f7fbf",
        s if s.starts_with("down") => match s {
            "down (time)" => "#b42318",
            "down (TWF)" => "#d9534f",
            "down (HDF)" => "#a23b72",
            "down (PWF)" => "#8b1e3f",
            "down (OSF)" => "#e4572e",
            "down (RNF)" => "#6d214f",
            _ => "#c0392b",
        },
        _ => "#9467bd",
    }
}

/// Stations down the side, time along the bottom, one bar per state segment of `spans`.
pub fn gantt(
    id: &str,
    title: &str,
    stations: &[String],
    colours: &[&str],
    spans: &[Span],
    (t0, t1): (f64, f64),
) -> Markup {
    let (w, row, left, top, bottom) = (1100.0, 24.0, 120.0, 8.0, 28.0);
    let h = top + row * stations.len().max(1) as f64 + bottom;
    let t1 = if t1 > t0 { t1 } else { t0 + 1.0 };
    let x = |t: f64| left + (w - left - 10.0) * ((t - t0) / (t1 - t0)).clamp(0.0, 1.0);
    let marks = ticks(t0, t1);
    let tick_decimals = decimals_for(&marks);
    let axis_y = top + row * stations.len() as f64;
    html! {
        svg .gantt id=(id) viewBox={ "0 0 " (w) " " (f(h)) } width="100%" role="img" aria-labelledby={ (id) "-t" } {
            title id={ (id) "-t" } { (title) }
            g translate="no" {
                @for (i, name) in stations.iter().enumerate() {
                    text x=(left - 8.0) y=(f(top + row * i as f64 + row * 0.65)) text-anchor="end" font-size="13" { (name) }
                }
            }
            @for s in spans {
                @if s.end > s.start && s.station < stations.len() {
                    rect x=(f(x(s.start))) width=(format!("{:.2}", (x(s.end) - x(s.start)).max(0.3)))
                        y=(f(top + row * s.station as f64 + 3.0)) height=(f(row - 6.0))
                        fill=(colours.get(s.state).copied().unwrap_or("#9467bd")) {}
                }
            }
            line x1=(left) x2=(w - 10.0) y1=(f(axis_y)) y2=(f(axis_y)) stroke="#5b6776" stroke-width="1" {}
            @for m in &marks {
                line x1=(f(x(*m))) x2=(f(x(*m))) y1=(f(axis_y)) y2=(f(axis_y + 4.0)) stroke="#5b6776" stroke-width="1" {}
                text x=(f(x(*m))) y=(f(axis_y + 18.0)) text-anchor="middle" font-size="13" { (number(*m, tick_decimals)) }
            }
        }
    }
}

/// One tornado row: an input at its low and high settings and the outcome at each.
pub struct TornadoRow {
    pub label: Markup,
    pub low_setting: String,
    pub low: f64,
    pub high_setting: String,
    pub high: f64,
}

/// Bars from the measured outcome `base` to each setting's outcome, largest swing on top (the caller
/// orders the rows).
pub fn tornado(id: &str, title: &str, rows: &[TornadoRow], base: f64, no_change: &str) -> Markup {
    let (w, row, left, top, bottom) = (760.0, 30.0, 230.0, 8.0, 30.0);
    let h = top + row * rows.len().max(1) as f64 + bottom;
    let (lo, hi) = padded(
        rows.iter().flat_map(|r| [r.low, r.high]).chain([base]),
        false,
    );
    let (lo, hi) = (lo - (hi - lo) * 0.12, hi + (hi - lo) * 0.12);
    let x = |v: f64| left + (w - left - 10.0) * ((v - lo) / (hi - lo));
    let marks = ticks(lo, hi);
    let tick_decimals = decimals_for(&marks);
    let axis_y = top + row * rows.len() as f64;
    html! {
        svg .bars .tornado id=(id) viewBox={ "0 0 " (w) " " (f(h)) } width="100%" role="img" aria-labelledby={ (id) "-t" } {
            title id={ (id) "-t" } { (title) }
            @for m in &marks {
                line x1=(f(x(*m))) x2=(f(x(*m))) y1=(top) y2=(f(axis_y)) stroke="#e3e8ee" stroke-width="1" {}
                text x=(f(x(*m))) y=(f(axis_y + 17.0)) text-anchor="middle" { (number(*m, tick_decimals)) }
            }
            @for (i, r) in rows.iter().enumerate() {
                @let y0 = top + row * i as f64;
                text x=(left - 8.0) y=(f(y0 + row * 0.62)) text-anchor="end" { (r.label) }
                @if (r.low - base).abs() <= 1e-9 * (hi - lo) && (r.high - base).abs() <= 1e-9 * (hi - lo) {
                    text x=(f(x(base) + 6.0)) y=(f(y0 + row * 0.62)) { (no_change) }
                }
                @for (setting, value, class) in [(&r.low_setting, r.low, "neg"), (&r.high_setting, r.high, "bar")] {
                    @if (value - base).abs() > 1e-9 * (hi - lo) {
                        rect class=(class) x=(f(x(value.min(base)))) width=(f((x(value) - x(base)).abs())) y=(f(y0 + 6.0)) height=(f(row - 12.0)) {}
                        text x=(f(if value < base { x(value) - 4.0 } else { x(value) + 4.0 })) y=(f(y0 + row * 0.62))
                            text-anchor=(if value < base { "end" } else { "start" }) { (setting) }
                    }
                }
            }
            line x1=(f(x(base))) x2=(f(x(base))) y1=(top) y2=(f(axis_y)) stroke="#1b2430" stroke-width="1.5" {}
            line x1=(left) x2=(w - 10.0) y1=(f(axis_y)) y2=(f(axis_y)) stroke="#5b6776" stroke-width="1" {}
        }
    }
}

/// A small colour swatch for a legend.
pub fn swatch(colour: &str) -> Markup {
    html! {
        svg .swatch width="12" height="12" viewBox="0 0 12 12" aria-hidden="true" { rect width="12" height="12" fill=(colour) {} }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_cover_the_range() {
        assert_eq!(ticks(0.0, 10.0), vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        let t = ticks(0.12, 0.87);
        assert_eq!(t.first().copied(), Some(0.2));
        assert!(t
            .iter()
            .all(|v| (v * 10.0 - (v * 10.0).round()).abs() < 1e-9));
        assert_eq!(decimals_for(&t), 1);
        assert_eq!(decimals_for(&[0.0, 0.025]), 3);
        assert_eq!(decimals_for(&[0.0, 2.5]), 1);
        assert_eq!(decimals_for(&[0.0, 200.0]), 0);
        assert!(!ticks(5.0, 5.0).is_empty());
        assert!(ticks(f64::NAN, 1.0).is_empty());
    }

    #[test]
    fn ranges_include_zero_for_bars() {
        assert_eq!(padded([2.0, 4.0], true).0, 0.0);
        let (lo, hi) = padded([-3.0, -1.0], false);
        assert!(lo < -3.0 && hi > -1.0);
        assert_eq!(padded([f64::NAN], true), (0.0, 1.0));
    }

    #[test]
    fn whiskers_draw_one_bar_per_row_and_labels_stay_untranslated() {
        let rows = [
            Whisker {
                label: "preventive".into(),
                mean: 10.0,
                low: 9.0,
                high: 11.0,
            },
            Whisker {
                label: "predictive".into(),
                mean: 12.0,
                low: 11.5,
                high: 12.5,
            },
        ];
        let svg = whiskers("k", "throughput", &rows, 1).into_string();
        assert_eq!(svg.matches("<rect").count(), 2);
        assert_eq!(svg.matches("class=\"whisker\"").count(), 6);
        assert!(svg.contains("translate=\"no\""));
        assert!(!svg.contains("style="));
    }
}
