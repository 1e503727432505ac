//! Short intervals as people write them on a command line or in a config: `500ms`, `1s`, `2m`, `1h`.

use std::time::Duration;

/// Text that is not an interval.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{text:?} is not an interval: write a number with ms, s, m or h, e.g. 500ms or 1s")]
pub struct IntervalError {
    pub text: String,
}

/// Parses `NUMBER UNIT` with unit ms, s, m or h; zero and negative intervals are refused.
pub fn parse_interval(text: &str) -> Result<Duration, IntervalError> {
    let bad = || IntervalError {
        text: text.to_string(),
    };
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(bad)?;
    let (number, unit) = t.split_at(split);
    let number: f64 = number.parse().map_err(|_| bad())?;
    let seconds = match unit.trim() {
        "ms" => number / 1000.0,
        "s" => number,
        "m" | "min" => number * 60.0,
        "h" => number * 3600.0,
        _ => return Err(bad()),
    };
    if !(seconds.is_finite() && seconds > 0.0 && seconds < 1e9) {
        return Err(bad());
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals() {
        assert_eq!(parse_interval("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_interval("1s").unwrap(), Duration::from_secs(1));
        assert_eq!(
            parse_interval("1.5 s").unwrap(),
            Duration::from_millis(1500)
        );
        assert_eq!(parse_interval("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_interval("1h").unwrap(), Duration::from_secs(3600));
        for bad in ["", "1", "s", "0s", "-1s", "1d", "1.2.3s", "nan s"] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
    }
}
