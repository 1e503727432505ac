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
    }
}
