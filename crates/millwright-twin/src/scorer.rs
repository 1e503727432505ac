//! The interface through which a learned model scores station sensor states (predictive policy).

use millwright_core::ModelRef;

use crate::error::TwinError;
use crate::physics::{FailureRules, SensorSnapshot, SENSOR_COLUMNS};

/// A failure predictor: one probability in [0, 1] per snapshot that the process about to run fails.
/// The application layer adapts registered models to this trait; the twin never depends on the learn
/// crate.
pub trait FailureScorer: Send + Sync {
    /// The AI4I column names the model reads (each must be one the twin produces).
    fn input_columns(&self) -> Vec<String>;
    /// Failure probabilities, one per snapshot, in the same order.
    fn score(&self, snapshots: &[SensorSnapshot]) -> Result<Vec<f64>, ScorerError>;
    /// What the model is, for people (`failure@3 (mlp)`); stored as the policy's model description.
    fn describe(&self) -> String;
    /// The registered model behind the scorer (the stored result's lineage); `None` for scorers that
    /// are not registered models, such as [`PhysicsScorer`].
    fn model(&self) -> Option<ModelRef>;
    /// The scorer's own alarm threshold (a registered model's, chosen on validation data), used when a
    /// request gives none; `None`: the twin's default (0.5, [`crate::policy::DEFAULT_THRESHOLD`]).
    fn default_threshold(&self) -> Option<f64> {
        None
    }
}

/// Why a scorer could not score: the underlying error, kept whole.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct ScorerError {
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl ScorerError {
    pub fn new(source: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> ScorerError {
        ScorerError {
            source: source.into(),
        }
    }
}

/// Checks that a scorer reads only columns the twin produces; the error lists what is missing and
/// what is available.
pub fn check_scorer_columns(scorer: &dyn FailureScorer) -> Result<(), TwinError> {
    let missing: Vec<String> = scorer
        .input_columns()
        .into_iter()
        .filter(|c| !SENSOR_COLUMNS.contains(&c.as_str()))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    Err(TwinError::ScorerColumns {
        model: scorer.describe(),
        missing,
        available: SENSOR_COLUMNS
            .iter()
            .map(std::string::ToString::to_string)
            .collect(),
    })
}

/// A scorer that knows the AI4I rules: probability 1 when a deterministic rule (HDF, PWF, OSF) fires,
/// otherwise the chance that the tool fails before `margin_min` more minutes of wear plus the random
/// failure rate. It is the "perfect sensor model" upper bound a learned model can be compared with.
#[derive(Debug, Clone)]
pub struct PhysicsScorer {
    pub rules: FailureRules,
    /// Tool life is uniform on [life_min, life_max] minutes (AI4I: 200–240).
    pub life_min: f64,
    pub life_max: f64,
    /// Chance that a tool at the end of its life fails rather than being swapped.
    pub tool_failure_share: f64,
    pub random_failure: f64,
}

impl Default for PhysicsScorer {
    fn default() -> Self {
        PhysicsScorer {
            rules: FailureRules::default(),
            life_min: 200.0,
            life_max: 240.0,
            tool_failure_share: 0.425,
            random_failure: 0.001,
        }
    }
}

impl FailureScorer for PhysicsScorer {
    fn input_columns(&self) -> Vec<String> {
        SENSOR_COLUMNS
            .iter()
            .map(std::string::ToString::to_string)
            .collect()
    }

    fn score(&self, snapshots: &[SensorSnapshot]) -> Result<Vec<f64>, ScorerError> {
        Ok(snapshots
            .iter()
            .map(|s| {
                let limit = s.product_type.default_overstrain_limit();
                if self.rules.deterministic_flags(s, limit) != 0 {
                    return 1.0;
                }
                // P(life <= wear) for a uniform life: how likely the tool is already past its life.
                let span = (self.life_max - self.life_min).max(f64::EPSILON);
                let past = ((s.tool_wear_min - self.life_min) / span).clamp(0.0, 1.0);
                (past * self.tool_failure_share + self.random_failure).min(1.0)
            })
            .collect())
    }

    fn describe(&self) -> String {
        "physics rules (AI4I HDF/PWF/OSF thresholds, tool life 200-240 min)".into()
    }

    fn model(&self) -> Option<ModelRef> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::physics::Variant;

    struct Wants(Vec<String>);
    impl FailureScorer for Wants {
        fn input_columns(&self) -> Vec<String> {
            self.0.clone()
        }
        fn score(&self, s: &[SensorSnapshot]) -> Result<Vec<f64>, ScorerError> {
            Ok(vec![0.0; s.len()])
        }
        fn describe(&self) -> String {
            "test@1".into()
        }
        fn model(&self) -> Option<ModelRef> {
            Some(ModelRef::new("test", 1))
        }
    }

    #[test]
    fn a_scorer_reading_unknown_columns_is_refused_by_name() {
        let ok = Wants(vec!["Torque [Nm]".into(), "Type".into()]);
        check_scorer_columns(&ok).unwrap();
        let bad = Wants(vec!["Torque [Nm]".into(), "Vibration [mm/s]".into()]);
        let err = check_scorer_columns(&bad).unwrap_err().to_string();
        assert!(
            err.contains("Vibration [mm/s]") && err.contains("test@1"),
            "{err}"
        );
        assert!(err.contains("Tool wear [min]"), "{err}");
    }

    #[test]
    fn physics_scorer_flags_rule_violations_and_worn_tools() {
        let s = PhysicsScorer::default();
        let base = SensorSnapshot {
            product_type: Variant::L,
            air_temperature_k: 300.0,
            process_temperature_k: 310.0,
            rotational_speed_rpm: 1500.0,
            torque_nm: 40.0,
            tool_wear_min: 10.0,
        };
        let worn = SensorSnapshot {
            tool_wear_min: 235.0,
            ..base
        };
        let overpowered = SensorSnapshot {
            torque_nm: 70.0,
            rotational_speed_rpm: 1400.0,
            ..base
        };
        let p = s.score(&[base, worn, overpowered]).unwrap();
        assert!(p[0] < 0.01 && p[1] > 0.3 && p[2] == 1.0, "{p:?}");
    }
}
