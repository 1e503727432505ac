//! The part of a twin run's `result.json` the impact model reads, and loading it from the home folder.
//!
//! Only the fields used here are declared; the twin writes more (KPI summaries, line, horizon), which are
//! ignored so that the twin can grow its output without breaking this reader.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{ImpactError, Result};

/// A twin run comparing maintenance policies on one line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwinResult {
    pub run_id: String,
    #[serde(default)]
    pub seed: Option<u64>,
    pub policies: Vec<PolicyResult>,
}

/// One policy's replications. Replication `i` of every policy used the same random streams.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyResult {
    pub policy: String,
    pub replications: Vec<ReplicationKpis>,
}

/// The KPIs of one replication that α are measured from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ReplicationKpis {
    /// Good parts per unit time.
    pub throughput: f64,
    /// Scrapped parts / all parts.
    pub scrap_rate: f64,
    /// Time the line stood still because of failures.
    pub unplanned_downtime: f64,
    pub cost_per_good_part: f64,
}

impl TwinResult {
    /// Parses `result.json` text; `path` names the file in errors, which also give the JSON path of the fault.
    pub fn from_json(text: &str, path: &Path) -> Result<TwinResult> {
        let mut de = serde_json::Deserializer::from_str(text);
        serde_path_to_error::deserialize(&mut de).map_err(|err| ImpactError::TwinParse {
            path: path.to_owned(),
            at: err.path().to_string(),
            source: err.into_inner(),
        })
    }

    /// The policy called `name`, or an error naming the run, the role and the policies it has.
    pub fn policy(&self, name: &str, role: &'static str) -> Result<&PolicyResult> {
        let mut found = self.policies.iter().filter(|p| p.policy == name);
        let policy = found.next().ok_or_else(|| ImpactError::PolicyMissing {
            run: self.run_id.clone(),
            role,
            policy: name.to_owned(),
            available: if self.policies.is_empty() {
                "none".to_owned()
            } else {
                self.policies
                    .iter()
                    .map(|p| p.policy.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        })?;
        if found.next().is_some() {
            return Err(ImpactError::DuplicatePolicy {
                run: self.run_id.clone(),
                policy: name.to_owned(),
            });
        }
        Ok(policy)
    }
}

/// `<home>/twin/<run-id>/result.json`, after checking that the id is a plain name.
pub fn twin_result_path(home: &Path, run_id: &str) -> Result<PathBuf> {
    let reason = if run_id.is_empty() {
        Some("it is empty")
    } else if run_id == "." || run_id == ".." || run_id.contains(['/', '\\']) {
        Some("a run id is a plain name, without path separators or `..`")
    } else {
        None
    };
    if let Some(reason) = reason {
        return Err(ImpactError::InvalidRunId {
            id: run_id.to_owned(),
            reason,
        });
    }
    Ok(home.join("twin").join(run_id).join("result.json"))
}

/// Reads the result of twin run `run_id` from the home folder.
pub fn load_twin_result(home: &Path, run_id: &str) -> Result<TwinResult> {
    let path = twin_result_path(home, run_id)?;
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
            return Err(ImpactError::TwinRunMissing {
                id: run_id.to_owned(),
                path,
            })
        }
        Err(source) => return Err(ImpactError::TwinRead { path, source }),
    };
    TwinResult::from_json(&text, &path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn extra_fields_are_ignored_and_missing_ones_named_with_their_json_path() {
        let ok = r#"{"run_id":"r1","seed":7,"replications":1,"line":{"machines":3},
            "policies":[{"policy":"predictive","kpis":{"oee":{"mean":0.8,"ci_low":0.7,"ci_high":0.9}},
            "replications":[{"throughput":10,"scrap_rate":0.02,"unplanned_downtime":3,
                             "cost_per_good_part":4.5,"oee":0.81}]}]}"#;
        let r = TwinResult::from_json(ok, Path::new("result.json")).unwrap();
        assert_eq!(r.policies[0].replications[0].throughput, 10.0);

        let missing = ok.replace("\"cost_per_good_part\":4.5,", "");
        let err = TwinResult::from_json(&missing, Path::new("result.json"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("policies[0].replications[0]"), "{err}");
        assert!(err.contains("cost_per_good_part"), "{err}");

        let wrong_type = ok.replace("\"throughput\":10", "\"throughput\":\"ten\"");
        let err = TwinResult::from_json(&wrong_type, Path::new("result.json"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("policies[0].replications[0].throughput"),
            "{err}"
        );
    }

    #[test]
    fn run_ids_with_separators_are_rejected() {
        for bad in ["", "..", "a/b", "../x", "a\\b"] {
            let err = twin_result_path(Path::new("/h"), bad).unwrap_err();
            assert!(matches!(err, ImpactError::InvalidRunId { .. }), "{bad}");
        }
        assert_eq!(
            twin_result_path(Path::new("/h"), "run-1").unwrap(),
            Path::new("/h/twin/run-1/result.json")
        );
    }
}
