//! What the impact model reads of a twin run: each policy's replications, paired by common random numbers.
//!
//! This crate reads no files: the caller (the application layer) fills these from the twin's own stored
//! result type, so a change of the twin's format is a compile error there, not a parse failure here.

use serde::{Deserialize, Serialize};

use crate::business::BusinessInputs;
use crate::error::{ImpactError, Result};

/// A twin run comparing maintenance policies on one line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TwinRuns {
    pub run_id: String,
    pub seed: Option<u64>,
    /// The policy the line file declares as the plant's current practice (the default baseline).
    pub current_policy: Option<String>,
    /// The line's prices, which turn the counts of each replication into money.
    pub prices: Prices,
    /// The line file's business-case figures (what the AI system costs), if it declares them.
    pub business: BusinessInputs,
    pub policies: Vec<PolicyRuns>,
}

/// One policy's replications. Replication `i` of every policy used the same random streams.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicyRuns {
    pub policy: String,
    pub replications: Vec<ReplicationKpis>,
}

/// What one replication measured after its warm-up: times in hours, the rest counts. Money is derived
/// from these and [`Prices`], so a sensitivity analysis can vary a price without simulating again.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReplicationKpis {
    /// Length of the measured window.
    pub window_hours: f64,
    /// The window less planned stops: the time the line was meant to produce.
    pub planned_hours: f64,
    pub good_parts: f64,
    pub scrapped_parts: f64,
    /// Share of scheduled station time the stations could work (not down, not in maintenance).
    pub availability: f64,
    /// Station-hours down for failures.
    pub downtime_hours: f64,
    pub failures: f64,
    pub maintenance_actions: f64,
}

/// Money, in the line's one currency (the twin line file's `[costs]`).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Prices {
    /// Sales value of one good part.
    pub part_value: f64,
    /// Running the line, per planned hour.
    pub operating_per_hour: f64,
    /// Lost contribution per station-hour of unplanned downtime.
    pub downtime_per_hour: f64,
    /// One corrective repair.
    pub corrective_repair: f64,
    /// One preventive or predictive maintenance action.
    pub preventive_maintenance: f64,
    /// Material lost with one scrapped part.
    pub scrap: f64,
}

impl Prices {
    /// The cost of one replication: the twin's own formula, so the two agree to rounding.
    pub fn cost(&self, r: &ReplicationKpis) -> f64 {
        self.operating_per_hour * r.planned_hours
            + self.downtime_per_hour * r.downtime_hours
            + self.corrective_repair * r.failures
            + self.preventive_maintenance * r.maintenance_actions
            + self.scrap * r.scrapped_parts
    }

    pub fn revenue(&self, r: &ReplicationKpis) -> f64 {
        self.part_value * r.good_parts
    }

    /// The named price scaled by `k` (the sensitivity analysis's handle on each price).
    pub fn scaled(&self, price: Price, k: f64) -> Prices {
        let mut out = *self;
        *out.get_mut(price) *= k;
        out
    }

    fn get(&self, price: Price) -> f64 {
        let mut copy = *self;
        *copy.get_mut(price)
    }

    fn get_mut(&mut self, price: Price) -> &mut f64 {
        match price {
            Price::PartValue => &mut self.part_value,
            Price::Operating => &mut self.operating_per_hour,
            Price::Downtime => &mut self.downtime_per_hour,
            Price::Repair => &mut self.corrective_repair,
            Price::Maintenance => &mut self.preventive_maintenance,
            Price::Scrap => &mut self.scrap,
        }
    }
}

/// One of the line's prices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Price {
    PartValue,
    Operating,
    Downtime,
    Repair,
    Maintenance,
    Scrap,
}

impl Price {
    pub const ALL: [Price; 6] = [
        Price::PartValue,
        Price::Operating,
        Price::Downtime,
        Price::Repair,
        Price::Maintenance,
        Price::Scrap,
    ];

    /// The line file's key under `[costs]`.
    pub fn key(self) -> &'static str {
        match self {
            Price::PartValue => "part_value",
            Price::Operating => "operating_per_hour",
            Price::Downtime => "downtime_per_hour",
            Price::Repair => "corrective_repair",
            Price::Maintenance => "preventive_maintenance",
            Price::Scrap => "scrap",
        }
    }
}

impl ReplicationKpis {
    /// Each field with its name, to check them once.
    fn fields(&self) -> [(&'static str, f64); 8] {
        [
            ("window_hours", self.window_hours),
            ("planned_hours", self.planned_hours),
            ("good_parts", self.good_parts),
            ("scrapped_parts", self.scrapped_parts),
            ("availability", self.availability),
            ("downtime_hours", self.downtime_hours),
            ("failures", self.failures),
            ("maintenance_actions", self.maintenance_actions),
        ]
    }
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
        for (replication, kpis) in policy.replications.iter().enumerate() {
            for (kpi, value) in kpis.fields() {
                if !(value.is_finite() && value >= 0.0) {
                    return Err(ImpactError::InvalidKpi {
                        run: self.run_id.clone(),
                        policy: name.to_owned(),
                        replication,
                        kpi,
                        value,
                    });
                }
            }
        }
        Ok(policy)
    }

    /// Checks the prices once: each finite and ≥ 0.
    pub fn check_prices(&self) -> Result<()> {
        for price in Price::ALL {
            let value = self.prices.get(price);
            if !(value.is_finite() && value >= 0.0) {
                return Err(ImpactError::InvalidPrice {
                    run: self.run_id.clone(),
                    key: price.key(),
                    value,
                });
            }
        }
        Ok(())
    }
}
