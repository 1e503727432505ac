//! Money per period and whole-month horizons, as a business case states them (`2000/month`, `3y`). Shared
//! because the line file (twin) declares them and the business case (impact) computes with them.

use std::fmt;
use std::str::FromStr;

use serde::{de, Deserialize, Deserializer, Serialize, Serializer};

/// Weeks in a mean month (365.25 days / 12 / 7 ≈ 4.348, i.e. 52.1775 weeks a year).
const WEEKS_PER_YEAR: f64 = 52.1775;

/// Text that is not a period or a horizon, with what was expected.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{text:?} is not {what}: expected {expected}")]
pub struct PeriodError {
    pub text: String,
    pub what: &'static str,
    pub expected: &'static str,
}

/// A money amount per month, written per period: `2000/month`, `24000/year`, `500/week`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PerMonth(pub f64);

impl FromStr for PerMonth {
    type Err = PeriodError;

    fn from_str(text: &str) -> Result<PerMonth, PeriodError> {
        let bad = || PeriodError {
            text: text.to_owned(),
            what: "a running cost",
            expected: "AMOUNT/PERIOD with PERIOD month, year or week, e.g. 2000/month",
        };
        let (amount, period) = text.split_once('/').ok_or_else(bad)?;
        let amount: f64 = amount.trim().parse().map_err(|_| bad())?;
        if !amount.is_finite() || amount < 0.0 {
            return Err(bad());
        }
        let months_per_period = match period.trim() {
            "month" | "mo" => 1.0,
            "year" | "yr" | "y" => 12.0,
            "week" | "wk" | "w" => 12.0 / WEEKS_PER_YEAR,
            _ => return Err(bad()),
        };
        Ok(PerMonth(amount / months_per_period))
    }
}

impl fmt::Display for PerMonth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/month", self.0)
    }
}

/// A horizon in whole months: `3y`, `36mo`, `18 months`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Months(pub u32);

impl FromStr for Months {
    type Err = PeriodError;

    fn from_str(text: &str) -> Result<Months, PeriodError> {
        let bad = || PeriodError {
            text: text.to_owned(),
            what: "a horizon",
            expected: "a whole number of months or years, e.g. 3y, 36mo or 18months",
        };
        let t = text.trim();
        let split = t
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let (number, unit) = t.split_at(split);
        let number: f64 = number.parse().map_err(|_| bad())?;
        let months = match unit.trim() {
            "y" | "yr" | "year" | "years" => number * 12.0,
            "mo" | "month" | "months" => number,
            _ => return Err(bad()),
        };
        if months.fract() != 0.0 || !(1.0..=1200.0).contains(&months) {
            return Err(bad());
        }
        Ok(Months(months as u32))
    }
}

impl fmt::Display for Months {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}mo", self.0)
    }
}

/// A short wall-clock interval as typed on a command line (`500ms`, `1s`, `1.5s`, `2m`, `1h`): how often a
/// connector polls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval(pub std::time::Duration);

impl FromStr for Interval {
    type Err = PeriodError;

    fn from_str(text: &str) -> Result<Interval, PeriodError> {
        let bad = || PeriodError {
            text: text.to_owned(),
            what: "an interval",
            expected: "a number and ms, s, m (min) or h, longer than zero, e.g. 500ms, 1s or 2m",
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
        // Below a microsecond is a typo, past a day no poll interval.
        if !(1e-6..=86_400.0).contains(&seconds) {
            return Err(bad());
        }
        Ok(Interval(std::time::Duration::from_secs_f64(seconds)))
    }
}

/// What an AI system costs and how long its case is judged, each figure optional: a line file's
/// `[business]` table, or the flags of a front door laid over it ([`BusinessInputs::over`]). The impact
/// crate turns them into payback and NPV.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessInputs {
    /// One-off cost (sensors, software, integration, training).
    pub investment: Option<f64>,
    /// `2000/month`, `24000/year`, `500/week`.
    pub running_cost: Option<PerMonth>,
    /// `3y`, `36mo`.
    pub horizon: Option<Months>,
    /// Annual discount rate of the net present value (0.08 = 8 %).
    pub discount_rate: Option<f64>,
    /// The label money is shown with (`EUR`, `CNY`).
    pub currency: Option<String>,
}

/// The currency label when none is given.
pub const DEFAULT_CURRENCY: &str = "EUR";

impl BusinessInputs {
    /// These figures where given, `base`'s elsewhere (the flags over the line file).
    pub fn over(&self, base: &BusinessInputs) -> BusinessInputs {
        BusinessInputs {
            investment: self.investment.or(base.investment),
            running_cost: self.running_cost.or(base.running_cost),
            horizon: self.horizon.or(base.horizon),
            discount_rate: self.discount_rate.or(base.discount_rate),
            currency: self.currency.clone().or_else(|| base.currency.clone()),
        }
    }

    /// The currency money is shown in.
    pub fn currency(&self) -> &str {
        self.currency.as_deref().unwrap_or(DEFAULT_CURRENCY)
    }
}

/// Both are written as their text in files (`running_cost = "2000/month"`), so a file reads as it is typed.
macro_rules! text_serde {
    ($ty:ty) => {
        impl Serialize for $ty {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $ty {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let text = String::deserialize(deserializer)?;
                text.parse().map_err(de::Error::custom)
            }
        }
    };
}

text_serde!(PerMonth);
text_serde!(Months);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_and_horizons_parse() {
        assert_eq!("2000/month".parse::<PerMonth>().unwrap(), PerMonth(2000.0));
        assert_eq!("24000/year".parse::<PerMonth>().unwrap(), PerMonth(2000.0));
        assert_eq!("3y".parse::<Months>().unwrap(), Months(36));
        assert_eq!("18months".parse::<Months>().unwrap(), Months(18));
        assert_eq!("2.5y".parse::<Months>().unwrap(), Months(30));
        for bad in [
            "2000",
            "2000/day",
            "x/month",
            "/month",
            "-5/month",
            "inf/month",
        ] {
            assert!(bad.parse::<PerMonth>().is_err(), "{bad}");
        }
        for bad in ["3", "0y", "1.3mo", "3d", "y", "-1y"] {
            assert!(bad.parse::<Months>().is_err(), "{bad}");
        }
    }

    #[test]
    fn written_as_text_and_read_back() {
        let json = serde_json::to_string(&(PerMonth(2000.0), Months(36))).unwrap();
        assert_eq!(json, r#"["2000/month","36mo"]"#);
        let back: (PerMonth, Months) = serde_json::from_str(&json).unwrap();
        assert_eq!(back, (PerMonth(2000.0), Months(36)));
        let err = serde_json::from_str::<Months>(r#""3 days""#).unwrap_err();
        assert!(err.to_string().contains("a horizon"), "{err}");
    }

    #[test]
    fn intervals_in_ms_s_m_h() {
        use std::time::Duration;
        let d = |t: &str| t.parse::<Interval>().map(|i| i.0);
        assert_eq!(d("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(d("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(d("1.5s"), Ok(Duration::from_millis(1500)));
        assert_eq!(d("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(d("2min"), Ok(Duration::from_secs(120)));
        assert_eq!(d("1h"), Ok(Duration::from_secs(3600)));
        for bad in ["", "1", "0s", "-1s", "5 parsecs", "2d", "ms"] {
            let err = d(bad).unwrap_err().to_string();
            assert!(err.contains("is not an interval"), "{bad}: {err}");
        }
    }
}
