//! The terminal view of a measured business case: totals first, then drivers, money, sensitivity and the
//! source document's formula.

use std::fmt::Write;

use crate::measure::{Change, MeasuredImpact};
use crate::render::{format_money as money, format_number, render_table};
use crate::report::Estimate;

fn ci(e: &Estimate, show: impl Fn(f64) -> String) -> String {
    format!("[{}, {}]", show(e.ci_low), show(e.ci_high))
}

fn pct(x: f64) -> String {
    format!("{:+.1} %", x * 100.0)
}

fn change_line(out: &mut String, name: &str, c: &Change) {
    let _ = write!(
        out,
        "{name:<13} {} → {}  ({})",
        format_number(c.baseline.mean),
        format_number(c.ai.mean),
        c.unit
    );
    match &c.ratio {
        Some(r) => {
            let _ = writeln!(
                out,
                "  {}  95 % CI {}",
                pct(r.mean - 1.0),
                ci(r, |x| pct(x - 1.0))
            );
        }
        None => {
            let _ = writeln!(
                out,
                "  {:+}  95 % CI {}",
                format_number(c.difference.mean),
                ci(&c.difference, format_number)
            );
        }
    }
}

/// Renders the measured impact for the terminal.
pub fn render_measured(m: &MeasuredImpact) -> String {
    let mut out = String::new();
    let t = &m.twin;
    let _ = writeln!(
        out,
        "`{}` against `{}` (baseline: {}), twin run `{}`, {} paired replications, 95 % CI by paired \
         bootstrap ({} of {} resamples)\n",
        t.ai_policy,
        t.baseline_policy,
        t.baseline_from,
        t.run_id,
        t.replications,
        t.uncertainty.resamples_used,
        t.uncertainty.resamples
    );
    change_line(&mut out, "productivity", &m.productivity);
    change_line(&mut out, "value", &m.value);
    out.push_str("\ndrivers (P = availability × speed × yield; V = P × margin per good part):\n");
    for d in &m.drivers {
        let _ = writeln!(
            out,
            "  {:<21} {} → {}  ×{}  α {} = {} {}",
            d.driver.name(),
            format_number(d.baseline.mean),
            format_number(d.ai.mean),
            format_number(d.ratio.mean),
            d.term,
            format_number(d.alpha.mean),
            ci(&d.alpha, format_number)
        );
    }
    let _ = writeln!(
        out,
        "\nf_P = {} = P1/P0{}  (the α recompose the measured ratios to {:.0e})",
        format_number(m.f_productivity.mean),
        m.f_value
            .map(|f| format!(", f_V = {} = V1/V0", format_number(f.mean)))
            .unwrap_or_default(),
        m.twin.recomposition_error.max(f64::MIN_POSITIVE)
    );
    business(&mut out, m);
    sensitivity(&mut out, m);
    out.push_str("\nThe source document's formula, one f_AI for P and V (a simplification: P1 = P0·f_AI then also counts the margin's change):\n");
    out.push_str(&render_table(&m.formula));
    out
}

fn business(out: &mut String, m: &MeasuredImpact) {
    let Some(b) = &m.business else {
        out.push_str(
            "\nNo investment given: payback and NPV need --investment and --running-cost.\n",
        );
        return;
    };
    let i = &b.investment;
    let _ = writeln!(
        out,
        "\nbusiness case: investment {} {c}, running cost {} {c}/month, {} months, discount {} %/year",
        money(i.investment),
        money(i.running_cost_per_month),
        i.horizon_months,
        format_number(i.discount_rate * 100.0),
        c = b.currency
    );
    let _ = writeln!(
        out,
        "  benefit   {} {c}/month {}\n  net       {} {c}/month {}",
        money(b.monthly_benefit.mean),
        ci(&b.monthly_benefit, money),
        money(b.net_monthly.mean),
        ci(&b.net_monthly, money),
        c = b.currency
    );
    let months = |x: Option<f64>| x.map_or("never".to_owned(), |v| format!("{v:.1}"));
    let _ = writeln!(
        out,
        "  payback   {} months [{}, {}]\n  NPV       {} {} {}",
        months(b.payback.months),
        months(b.payback.ci_low),
        months(b.payback.ci_high),
        money(b.npv.mean),
        b.currency,
        ci(&b.npv, money)
    );
    if let Some(roi) = &b.roi {
        let _ = writeln!(out, "  ROI       {} {}", pct(roi.mean), ci(roi, pct));
    }
}

fn sensitivity(out: &mut String, m: &MeasuredImpact) {
    if m.sensitivity.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\nsensitivity (benefit per month; base {}):",
        money(m.outcome.monthly_benefit)
    );
    for row in &m.sensitivity {
        let _ = writeln!(
            out,
            "  {:<32} {:>16} {:>10}  …  {:<16} {:>10}",
            row.input,
            row.low.setting,
            money(row.low.outcome.monthly_benefit),
            row.high.setting,
            money(row.high.outcome.monthly_benefit)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_groups_thousands() {
        assert_eq!(money(1_234_567.4), "1,234,567");
        assert_eq!(money(-120_000.0), "-120,000");
        assert_eq!(money(999.6), "1,000");
        assert_eq!(money(-0.2), "0");
    }
}
