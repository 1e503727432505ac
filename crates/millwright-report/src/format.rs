//! Number and text formatting for the page.

use millwright_impact::{format_number, Estimate};

/// Axis labels: at most three decimals, no trailing zeros.
pub fn short(x: f64) -> String {
    let text = format!("{x:.3}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_owned()
    } else {
        text.to_owned()
    }
}

/// `mean [low, high]`, or the mean alone when the interval is a point.
pub fn estimate(e: &Estimate) -> String {
    if e.ci_low == e.ci_high {
        format_number(e.mean)
    } else {
        format!(
            "{} <span class=\"ci\">[{}, {}]</span>",
            format_number(e.mean),
            format_number(e.ci_low),
            format_number(e.ci_high)
        )
    }
}

pub fn percent(x: f64) -> String {
    let text = format!("{:+.1} %", x * 100.0);
    if text == "-0.0 %" {
        "+0.0 %".to_owned()
    } else {
        text
    }
}

/// A fraction as a signed percentage with its interval.
pub fn percent_estimate(e: &Estimate) -> String {
    if e.ci_low == e.ci_high {
        percent(e.mean)
    } else {
        format!(
            "{} <span class=\"ci\">[{}, {}]</span>",
            percent(e.mean),
            percent(e.ci_low),
            percent(e.ci_high)
        )
    }
}

/// Money rounded to whole units with thousands grouped: `-120,000` (the impact crate's format).
pub use millwright_impact::format_money as money;

/// Money with its interval, without the currency: `512,000 [401,000, 630,000]`.
pub fn money_ci(e: &Estimate) -> String {
    if e.ci_low == e.ci_high {
        money(e.mean)
    } else {
        format!(
            "{} <span class=\"ci\">[{}, {}]</span>",
            money(e.mean),
            money(e.ci_low),
            money(e.ci_high)
        )
    }
}

/// Axis labels of large amounts: `-120k`, `1.5M`.
pub fn compact(x: f64) -> String {
    let a = x.abs();
    if a >= 1e6 {
        format!("{}M", short(x / 1e6))
    } else if a >= 1e3 {
        format!("{}k", short(x / 1e3))
    } else {
        short(x)
    }
}

/// A share in [0, 1] as a percentage without sign: `83.2 %`; a dash when undefined.
pub fn share(x: f64) -> String {
    if x.is_finite() {
        format!("{:.1} %", x * 100.0)
    } else {
        "—".to_owned()
    }
}

/// HTML text escaping: five characters, not worth a dependency.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(short(0.25), "0.25");
        assert_eq!(short(100.0), "100");
        assert_eq!(short(-0.0001), "0");
        assert_eq!(percent(1.184), "+118.4 %");
        assert_eq!(
            escape("<a href=\"x\">&'"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;"
        );
        assert_eq!(estimate(&Estimate::exact(2.184)), "2.184");
        assert!(estimate(&Estimate {
            mean: 2.0,
            ci_low: 1.5,
            ci_high: 2.5
        })
        .contains("[1.5, 2.5]"));
        assert_eq!(money(1_234_567.4), "1,234,567");
        assert_eq!(money(-120_000.0), "-120,000");
        assert_eq!(money(-0.2), "0");
        assert_eq!(compact(-120_000.0), "-120k");
        assert_eq!(compact(1_500_000.0), "1.5M");
        assert_eq!(compact(250.0), "250");
        assert_eq!(share(0.8321), "83.2 %");
        assert_eq!(share(f64::NAN), "—");
    }
}
