//! What the impact model reads of a twin run: each policy's replications, paired by common random numbers.
//!
//! This crate reads no files: the caller (the application layer) fills these from the twin's own stored
//! result type, so a change of the twin's format is a compile error there, not a parse failure here.

use serde::Serialize;

use crate::error::{ImpactError, Result};

/// A twin run comparing maintenance policies on one line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TwinRuns {
    pub run_id: String,
    pub seed: Option<u64>,
    pub policies: Vec<PolicyRuns>,
}

/// One policy's replications. Replication `i` of every policy used the same random streams.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyRuns {
    pub policy: String,
    pub replications: Vec<ReplicationKpis>,
}

/// The KPIs of one replication that α are measured from.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReplicationKpis {
    /// Good parts per unit time.
    pub throughput: f64,
    /// Scrapped parts / all parts.
    pub scrap_rate: f64,
    /// Time the line stood still because of failures.
    pub unplanned_downtime: f64,
    pub cost_per_good_part: f64,
}

impl TwinRuns {
    /// The policy called `name`, or an error naming the run, the role and the policies it has.
    pub fn policy(&self, name: &str, role: &'static str) -> Result<&PolicyRuns> {
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
