//! Per-step scalars of a run (train/val loss and metrics per epoch), as kept in `metrics.jsonl`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Result, TrackingError};

/// The scalars logged at one step. One line of `metrics.jsonl`:
/// `{"step":3,"wall_time":1764340205.1,"scalars":{"train/loss":0.12,"val/loss":0.15}}`.
/// Non-finite values are written as `null` (JSON has no NaN) and read back as NaN.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScalarPoint {
    /// Step (epoch) number.
    pub step: u64,
    /// Seconds since the Unix epoch when logged.
    pub wall_time: f64,
    /// Tag → value.
    #[serde(with = "nan_as_null")]
    pub scalars: BTreeMap<String, f64>,
}

/// All scalars of a run, in logging order.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ScalarHistory {
    /// Logged points.
    pub points: Vec<ScalarPoint>,
}

impl ScalarHistory {
    /// Every tag logged at least once, sorted.
    pub fn tags(&self) -> Vec<String> {
        let tags: BTreeSet<&String> = self.points.iter().flat_map(|p| p.scalars.keys()).collect();
        tags.into_iter().cloned().collect()
    }

    /// `(step, value)` pairs of one tag, ready to plot.
    pub fn series(&self, tag: &str) -> Vec<(u64, f64)> {
        self.points
            .iter()
            .filter_map(|p| p.scalars.get(tag).map(|v| (p.step, *v)))
            .collect()
    }

    /// The last logged value of a tag.
    pub fn last(&self, tag: &str) -> Option<f64> {
        self.points
            .iter()
            .rev()
            .find_map(|p| p.scalars.get(tag).copied())
    }

    /// Reads a run's `metrics.jsonl`; a missing file is an empty history (the run logged nothing).
    pub fn read_jsonl(path: &Path) -> Result<ScalarHistory> {
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Ok(ScalarHistory::default())
            }
            Err(e) => {
                return Err(TrackingError::Io {
                    action: "read",
                    path: path.to_path_buf(),
                    source: e,
                })
            }
        };
        let mut points = Vec::new();
        for (index, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let point = serde_json::from_str(line).map_err(|e| TrackingError::Corrupt {
                path: path.to_path_buf(),
                line: index + 1,
                reason: e.to_string(),
            })?;
            points.push(point);
        }
        Ok(ScalarHistory { points })
    }
}

mod nan_as_null {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(map: &BTreeMap<String, f64>, s: S) -> Result<S::Ok, S::Error> {
        let finite: BTreeMap<&String, Option<f64>> = map
            .iter()
            .map(|(k, v)| (k, v.is_finite().then_some(*v)))
            .collect();
        finite.serialize(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, f64>, D::Error> {
        let map = BTreeMap::<String, Option<f64>>::deserialize(d)?;
        Ok(map
            .into_iter()
            .map(|(k, v)| (k, v.unwrap_or(f64::NAN)))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nan_survives_as_null() {
        let point = ScalarPoint {
            step: 1,
            wall_time: 0.0,
            scalars: BTreeMap::from([("loss".to_string(), f64::NAN)]),
        };
        let line = serde_json::to_string(&point).unwrap();
        assert!(line.contains("\"loss\":null"), "{line}");
        let back: ScalarPoint = serde_json::from_str(&line).unwrap();
        assert!(back.scalars["loss"].is_nan());
    }

    #[test]
    fn corrupt_line_is_reported_with_its_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("metrics.jsonl");
        std::fs::write(
            &path,
            "{\"step\":1,\"wall_time\":0,\"scalars\":{}}\nnot json\n",
        )
        .unwrap();
        let err = ScalarHistory::read_jsonl(&path).unwrap_err().to_string();
        assert!(err.contains("line 2"), "{err}");
    }
}
