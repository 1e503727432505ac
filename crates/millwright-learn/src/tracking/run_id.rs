//! Run ids: `20261128T143005123Z-1a2b3c`, a UTC timestamp to the millisecond plus 24 random bits, so ids
//! sort by start time and two runs started in the same millisecond still differ.

use std::fmt;

use chrono::{DateTime, Utc};
use rand::Rng;
use serde::{Deserialize, Serialize};

use super::TrackingError;

const TIMESTAMP_FORMAT: &str = "%Y%m%dT%H%M%S%3fZ";
const TIMESTAMP_LEN: usize = 19;
const SUFFIX_LEN: usize = 6;
const ID_LEN: usize = TIMESTAMP_LEN + 1 + SUFFIX_LEN;

/// A run's identifier; also the name of its folder under `<home>/runs/`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RunId(String);

impl RunId {
    /// A fresh id for a run starting at `started`.
    pub fn generate(started: DateTime<Utc>) -> RunId {
        let suffix: u32 = rand::rng().random_range(0..1 << 24);
        RunId(format!("{}-{suffix:06x}", started.format(TIMESTAMP_FORMAT)))
    }

    /// Parses a complete run id, rejecting anything that could not have come from [`RunId::generate`]
    /// (so an id is always safe as a folder name).
    pub fn parse(text: &str) -> Result<RunId, TrackingError> {
        if text.len() == ID_LEN && is_id_prefix(text) {
            Ok(RunId(text.to_string()))
        } else {
            Err(TrackingError::InvalidRunId(text.to_string()))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether `text` is a non-empty prefix of a well-formed run id: digits, then `T`, digits, `Z`, `-`, hex.
pub(crate) fn is_id_prefix(text: &str) -> bool {
    if text.is_empty() || text.len() > ID_LEN {
        return false;
    }
    text.bytes().enumerate().all(|(i, b)| match i {
        8 => b == b'T',
        18 => b == b'Z',
        19 => b == b'-',
        0..=17 => b.is_ascii_digit(),
        _ => b.is_ascii_hexdigit() && !b.is_ascii_uppercase(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_parse_and_sort_by_time() {
        let early = DateTime::parse_from_rfc3339("2026-11-28T14:30:05.123Z")
            .unwrap()
            .with_timezone(&Utc);
        let late = DateTime::parse_from_rfc3339("2026-11-28T14:30:05.124Z")
            .unwrap()
            .with_timezone(&Utc);
        let a = RunId::generate(early);
        let b = RunId::generate(late);
        assert!(a.as_str().starts_with("20261128T143005123Z-"), "{a}");
        assert_eq!(RunId::parse(a.as_str()).unwrap(), a);
        assert!(a < b);
    }

    #[test]
    fn rejects_paths_and_malformed_ids() {
        for bad in [
            "",
            "../etc",
            "20261128T143005123Z-1a2b3",
            "20261128T143005123Z-1A2B3C",
            "x",
        ] {
            assert!(RunId::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(is_id_prefix("2026"));
        assert!(is_id_prefix("20261128T14"));
        assert!(!is_id_prefix("2026/"));
    }
}
