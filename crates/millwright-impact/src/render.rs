//! The human-readable table: per-path breakdown, then f_AI, P1, V1 and the uplift.

use std::fmt::Write;

use crate::report::{Estimate, FactorSource, Impact, TermSource};

/// A figure that can be shown in the table: a plain number, or a number with its interval.
pub trait Figure {
    fn point(&self) -> f64;
    /// The interval to show beside the point, if there is uncertainty.
    fn interval(&self) -> Option<(f64, f64)>;
}

impl Figure for f64 {
    fn point(&self) -> f64 {
        *self
    }
    fn interval(&self) -> Option<(f64, f64)> {
        None
    }
}

impl Figure for Estimate {
    fn point(&self) -> f64 {
        self.mean
    }
    fn interval(&self) -> Option<(f64, f64)> {
        (self.ci_low != self.ci_high).then_some((self.ci_low, self.ci_high))
    }
}

/// Formats a number with about six significant digits and no trailing zeros: 2.184, 21.84, 0.05, 1250000.
pub fn format_number(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{}", if x == 0.0 { 0.0 } else { x });
    }
    let magnitude = x.abs().log10().floor() as i32;
    let decimals = (5 - magnitude).clamp(0, 6) as usize;
    let text = format!("{x:.decimals$}");
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    };
    if text == "-0" {
        "0".to_owned()
    } else {
        text
    }
}

/// A number with its sign: `+0.05`, `-3`, `0`.
pub fn format_signed(x: f64) -> String {
    let text = format_number(x);
    if x > 0.0 && text != "0" {
        format!("+{text}")
    } else {
        text
    }
}

/// Money rounded to whole units with thousands grouped: `-120,000`; `—` when not finite.
pub fn format_money(x: f64) -> String {
    if !x.is_finite() {
        return "—".to_owned();
    }
    let digits = format!("{:.0}", x.abs());
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    if x < 0.0 && digits != "0" {
        format!("-{grouped}")
    } else {
        grouped
    }
}

fn percent(x: f64) -> String {
    let text = format!("{:+.1} %", x * 100.0);
    if text == "-0.0 %" {
        "+0.0 %".to_owned()
    } else {
        text
    }
}

fn interval_text<F: Figure>(figure: &F, show: fn(f64) -> String) -> String {
    figure
        .interval()
        .map(|(lo, hi)| format!("[{}, {}]", show(lo), show(hi)))
        .unwrap_or_default()
}

/// Renders the result as a table for the terminal.
pub fn render_table<F: Figure>(impact: &Impact<F>) -> String {
    // Rows: (label, value, interval, source).
    let mut rows: Vec<[String; 4]> = Vec::new();
    for path in &impact.paths {
        let source = match path.factor_source {
            FactorSource::Given => format!(
                "factor given ({})",
                path.factor_origin.as_deref().unwrap_or("user")
            ),
            FactorSource::Terms => "1 + Σα".to_owned(),
        };
        rows.push([
            path.name.clone(),
            format!("f = {}", format_number(path.factor.point())),
            interval_text(&path.factor, format_number),
            source,
        ]);
        for term in &path.terms {
            let source = match (&term.source, &term.measurement) {
                (TermSource::Measured, Some(m)) => format!(
                    "measured: {} {} → {}",
                    m.kpi,
                    format_number(m.baseline_mean),
                    format_number(m.ai_mean)
                ),
                (TermSource::Measured, None) => "measured".to_owned(),
                (TermSource::User, _) => format!("user ({})", term.origin),
            };
            rows.push([
                format!("  {}", term.name),
                format!("α = {}", format_signed(term.alpha.point())),
                interval_text(&term.alpha, format_signed),
                source,
            ]);
        }
    }
    let has_intervals = rows.iter().any(|r| !r[2].is_empty()) || impact.f_ai.interval().is_some();
    let header = [
        "path / α term".to_owned(),
        "value".to_owned(),
        if has_intervals {
            "95 % CI".to_owned()
        } else {
            String::new()
        },
        "source".to_owned(),
    ];
    let widths: Vec<usize> = (0..3)
        .map(|c| {
            std::iter::once(&header)
                .chain(&rows)
                .map(|r| r[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();

    let mut out = String::new();
    out.push_str("Productivity impact: f_p = 1 + Σα, f_AI = Π f_p, P1 = P0·f_AI, V1 = V0·f_AI\n");
    out.push('\n');
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (c, width) in widths.iter().enumerate() {
            if c == 2 && !has_intervals {
                continue;
            }
            let cell = &row[c];
            let pad = width - cell.chars().count();
            let _ = write!(line, "{cell}{}  ", " ".repeat(pad));
        }
        line.push_str(&row[3]);
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out.push('\n');
    let results = [
        (
            "f_AI",
            format_number(impact.f_ai.point()),
            interval_text(&impact.f_ai, format_number),
            String::new(),
        ),
        (
            "P1",
            format_number(impact.p1.point()),
            interval_text(&impact.p1, format_number),
            format!("P0 = {}", format_number(impact.p0.point())),
        ),
        (
            "V1",
            format_number(impact.v1.point()),
            interval_text(&impact.v1, format_number),
            format!("V0 = {}", format_number(impact.v0.point())),
        ),
        (
            "uplift",
            percent(impact.uplift.point()),
            interval_text(&impact.uplift, percent),
            String::new(),
        ),
    ];
    let value_width = results
        .iter()
        .map(|r| r.1.chars().count())
        .max()
        .unwrap_or(0);
    let interval_width = results
        .iter()
        .map(|r| r.2.chars().count())
        .max()
        .unwrap_or(0);
    for (name, value, interval, note) in results {
        let mut line = format!("{name:<6} = {value:<value_width$}");
        if interval_width > 0 {
            let _ = write!(line, "  {interval:<interval_width$}");
        }
        if !note.is_empty() {
            let _ = write!(line, "  ({note})");
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_without_float_noise() {
        assert_eq!(format_number(1.2 * 1.3 * 1.4), "2.184");
        assert_eq!(format_number(10.0 * 1.2 * 1.3 * 1.4), "21.84");
        assert_eq!(format_number(5.0 * 1.2 * 1.3 * 1.4), "10.92");
        assert_eq!(format_number(0.05), "0.05");
        assert_eq!(format_number(1_250_000.0), "1250000");
        assert_eq!(format_number(-0.000_000_1), "0");
        assert_eq!(format_number(0.0), "0");
        assert_eq!(format_signed(0.05), "+0.05");
        assert_eq!(percent(1.2 * 1.3 * 1.4 - 1.0), "+118.4 %");
        assert_eq!(percent(-0.031), "-3.1 %");
    }
}
