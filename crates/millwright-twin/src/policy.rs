//! Maintenance policies: when a station is taken down for maintenance.

use std::sync::Arc;

use crate::error::TwinError;
use crate::line::Line;
use crate::scorer::{check_scorer_columns, FailureScorer};

/// A maintenance policy; the parts combine (predictive with a preventive backstop).
#[derive(Clone)]
pub struct Policy {
    /// The name results carry: `run-to-failure`, `preventive`, `predictive` or a user's label.
    pub name: String,
    /// Maintain every station that can fail this long (base units) after its last repair or maintenance.
    pub interval: Option<f64>,
    /// Maintain an AI4I station before a part when its tool wear has reached this many minutes.
    pub wear_limit: Option<f64>,
    pub predictive: Option<Predictive>,
}

#[derive(Clone)]
pub struct Predictive {
    pub scorer: Arc<dyn FailureScorer>,
    /// Maintain when the predicted failure probability of the next part reaches this.
    pub threshold: f64,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Policy {
    pub fn run_to_failure() -> Policy {
        Policy {
            name: "run-to-failure".into(),
            interval: None,
            wear_limit: None,
            predictive: None,
        }
    }

    pub fn preventive(interval: Option<f64>, wear_limit: Option<f64>) -> Policy {
        Policy {
            name: "preventive".into(),
            interval,
            wear_limit,
            predictive: None,
        }
    }

    pub fn predictive(scorer: Arc<dyn FailureScorer>, threshold: f64) -> Policy {
        Policy {
            name: "predictive".into(),
            interval: None,
            wear_limit: None,
            predictive: Some(Predictive { scorer, threshold }),
        }
    }

    /// Adds a preventive backstop (interval and/or wear limit) to this policy.
    pub fn with_backstop(mut self, interval: Option<f64>, wear_limit: Option<f64>) -> Policy {
        self.interval = interval.or(self.interval);
        self.wear_limit = wear_limit.or(self.wear_limit);
        self
    }

    pub fn named(mut self, name: impl Into<String>) -> Policy {
        self.name = name.into();
        self
    }

    pub fn maintains(&self) -> bool {
        self.interval.is_some() || self.wear_limit.is_some() || self.predictive.is_some()
    }

    /// A one-line human description with the parameters.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(p) = &self.predictive {
            parts.push(format!(
                "predictive (threshold {}, model {})",
                p.threshold,
                p.scorer.describe()
            ));
        }
        if let Some(i) = self.interval {
            parts.push(format!("preventive every {i} time units"));
        }
        if let Some(w) = self.wear_limit {
            parts.push(format!("preventive at tool wear {w} min"));
        }
        if parts.is_empty() {
            "run to failure (repair only when broken)".into()
        } else {
            parts.join(" + ")
        }
    }

    /// Checks the parameters against the line: positive interval, a threshold in [0, 1], a scorer
    /// reading known columns, and a maintenance duration on every station the policy may maintain.
    pub fn validate(&self, line: &Line) -> Result<(), TwinError> {
        let bad = |m: String| Err(TwinError::Policy(format!("{}: {m}", self.name)));
        if let Some(i) = self.interval {
            if !i.is_finite() || i <= 0.0 {
                return bad(format!("the preventive interval must be > 0, got {i}"));
            }
        }
        if let Some(w) = self.wear_limit {
            if !w.is_finite() || w <= 0.0 {
                return bad(format!("the wear limit must be > 0 min, got {w}"));
            }
            if line.stations.iter().all(|s| s.ai4i.is_none()) {
                return bad("a wear limit needs a station with [stations.ai4i] (tool wear)".into());
            }
        }
        if let Some(p) = &self.predictive {
            if !(0.0..=1.0).contains(&p.threshold) {
                return bad(format!(
                    "the threshold must lie in [0, 1], got {}",
                    p.threshold
                ));
            }
            check_scorer_columns(p.scorer.as_ref())?;
            if line.stations.iter().all(|s| s.ai4i.is_none()) {
                return bad(
                    "the predictive policy scores AI4I sensors: the line has no [stations.ai4i]"
                        .into(),
                );
            }
        }
        for s in &line.stations {
            let maintained = (self.interval.is_some() && s.can_fail())
                || (s.ai4i.is_some() && (self.wear_limit.is_some() || self.predictive.is_some()));
            if maintained && s.maintenance.is_none() {
                return bad(format!(
                    "station {:?} has no `maintenance` duration, which this policy needs",
                    s.name
                ));
            }
        }
        Ok(())
    }
}

/// What the command line gives to build policies by name.
#[derive(Clone, Default)]
pub struct PolicyParams {
    pub interval: Option<f64>,
    pub wear_limit: Option<f64>,
    pub threshold: Option<f64>,
    pub scorer: Option<Arc<dyn FailureScorer>>,
}

/// The policy names the command line accepts.
pub const POLICY_NAMES: &[&str] = &[
    "run-to-failure",
    "preventive",
    "predictive",
    "predictive+preventive",
];

/// Builds `run-to-failure`, `preventive` (interval and/or wear limit), `predictive` (a scorer and a
/// threshold, default 0.5) or `predictive+preventive` (both: the preventive part is the backstop).
pub fn policy_from_name(name: &str, p: &PolicyParams) -> Result<Policy, TwinError> {
    let preventive = || {
        if p.interval.is_none() && p.wear_limit.is_none() {
            return Err(TwinError::Policy(format!(
                "{name} needs --interval (e.g. 180min) or --wear-limit (tool wear minutes)"
            )));
        }
        Ok(())
    };
    let scorer = || {
        p.scorer.clone().ok_or_else(|| {
            TwinError::Policy(format!(
                "{name} needs a failure model (--model NAME@VERSION)"
            ))
        })
    };
    let threshold = p.threshold.unwrap_or(0.5);
    match name {
        "run-to-failure" => Ok(Policy::run_to_failure()),
        "preventive" => {
            preventive()?;
            Ok(Policy::preventive(p.interval, p.wear_limit))
        }
        "predictive" => Ok(Policy::predictive(scorer()?, threshold)),
        "predictive+preventive" => {
            preventive()?;
            Ok(Policy::predictive(scorer()?, threshold)
                .with_backstop(p.interval, p.wear_limit)
                .named("predictive+preventive"))
        }
        other => Err(TwinError::Policy(format!(
            "unknown policy {other:?}; known: {}",
            POLICY_NAMES.join(", ")
        ))),
    }
}
