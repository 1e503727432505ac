//! Base time unit of a line and durations written with a unit suffix ("30d", "180min", "8h").

use serde::{Deserialize, Serialize};

use crate::error::TwinError;

/// The unit every number in a line file is expressed in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    S,
    Min,
    H,
    D,
    /// An abstract unit (queueing models, the SimPy benchmark): suffixed durations are refused and
    /// costs "per hour" are read as per unit.
    Unit,
}

impl TimeUnit {
    /// Seconds in one unit, `None` for the abstract unit.
    pub fn seconds(self) -> Option<f64> {
        match self {
            TimeUnit::S => Some(1.0),
            TimeUnit::Min => Some(60.0),
            TimeUnit::H => Some(3600.0),
            TimeUnit::D => Some(86400.0),
            TimeUnit::Unit => None,
        }
    }

    /// Base units in one hour (costs are given per hour).
    pub fn units_per_hour(self) -> f64 {
        self.seconds().map_or(1.0, |s| 3600.0 / s)
    }

    pub fn label(self) -> &'static str {
        match self {
            TimeUnit::S => "s",
            TimeUnit::Min => "min",
            TimeUnit::H => "h",
            TimeUnit::D => "d",
            TimeUnit::Unit => "unit",
        }
    }
}

/// A duration as written in a line file or on the command line: a bare number (base units) or a
/// number with a suffix s, min, h, d or w.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum DurationSpec {
    Units(f64),
    Text(String),
}

impl DurationSpec {
    pub fn to_units(&self, unit: TimeUnit) -> Result<f64, TwinError> {
        match self {
            DurationSpec::Units(v) => Ok(*v),
            DurationSpec::Text(s) => parse_duration(s, unit),
        }
    }
}

/// Parses "30d", "180min", "1.5h", "3600s", "2w" or a bare number into base units of `unit`.
pub fn parse_duration(text: &str, unit: TimeUnit) -> Result<f64, TwinError> {
    let err = |message: &str| TwinError::Duration {
        value: text.to_string(),
        message: message.to_string(),
    };
    let t = text.trim();
    let split = t.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(t.len());
    let (num, suffix) = t.split_at(split);
    let value: f64 = num
        .trim()
        .parse()
        .map_err(|_| err("expected a number optionally followed by s, min, h, d or w"))?;
    if !value.is_finite() {
        return Err(err("not a finite number"));
    }
    if suffix.is_empty() {
        return Ok(value);
    }
    let seconds = match suffix {
        "s" => 1.0,
        "min" | "m" => 60.0,
        "h" => 3600.0,
        "d" => 86400.0,
        "w" => 604800.0,
        _ => return Err(err("unknown unit; use s, min, h, d or w")),
    };
    let base = unit.seconds().ok_or_else(|| {
        err("the line's time_unit is \"unit\" (abstract): give a bare number of units")
    })?;
    Ok(value * seconds / base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_suffixes_into_base_units() {
        assert_eq!(parse_duration("30d", TimeUnit::Min).unwrap(), 43200.0);
        assert_eq!(parse_duration("180min", TimeUnit::Min).unwrap(), 180.0);
        assert_eq!(parse_duration("1.5h", TimeUnit::Min).unwrap(), 90.0);
        assert_eq!(parse_duration("250", TimeUnit::Unit).unwrap(), 250.0);
        assert!(parse_duration("3d", TimeUnit::Unit).is_err());
        assert!(parse_duration("3 parsecs", TimeUnit::Min).is_err());
        assert!(parse_duration("abc", TimeUnit::Min).is_err());
    }
}
