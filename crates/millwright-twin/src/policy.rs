//! Maintenance policies: when a station is taken down for maintenance.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

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
    /// A model scored on every part and never acted on: its exam under this policy's conditions, the
    /// way a plant runs a model in shadow before it may act.
    pub shadow: Option<Predictive>,
    /// Where the preventive setting came from when the request gave none (said in the description).
    pub preventive_default: Option<PreventiveDefault>,
}

#[derive(Clone)]
pub struct Predictive {
    pub scorer: Arc<dyn FailureScorer>,
    /// Maintain when the predicted failure probability of the next part reaches this.
    pub threshold: f64,
    pub threshold_source: ThresholdSource,
    /// Chance that an alarm is acted on (1: always); below 1 it shows what a model with that share of
    /// the measured recall would achieve. An ignored alarm counts as not raised.
    pub recall_scale: f64,
}

/// The threshold of a predictive policy when neither the request nor the scorer gives one.
pub const DEFAULT_THRESHOLD: f64 = 0.5;

/// Where a predictive policy's threshold came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ThresholdSource {
    /// The registered model's own (manifest `threshold`, chosen on validation data by its rule).
    Model,
    /// The request's (`--threshold`).
    Given,
    /// A point of a threshold search (`twin optimize --parameter threshold`).
    Searched,
    /// [`DEFAULT_THRESHOLD`]: the scorer has none of its own (the AI4I rules).
    Default,
}

impl ThresholdSource {
    pub fn describe(self) -> &'static str {
        match self {
            ThresholdSource::Model => "the model's registered threshold",
            ThresholdSource::Given => "given",
            ThresholdSource::Searched => "a searched value",
            ThresholdSource::Default => "the default; the scorer has none of its own",
        }
    }
}

/// The threshold a predictive policy used, stored with its result.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Threshold {
    pub value: f64,
    pub source: ThresholdSource,
}

impl Threshold {
    /// The request's threshold, else the scorer's own, else [`DEFAULT_THRESHOLD`].
    pub fn choose(given: Option<f64>, scorer: &dyn FailureScorer) -> Threshold {
        let (value, source) = match (given, scorer.default_threshold()) {
            (Some(v), _) => (v, ThresholdSource::Given),
            (None, Some(v)) => (v, ThresholdSource::Model),
            (None, None) => (DEFAULT_THRESHOLD, ThresholdSource::Default),
        };
        Threshold { value, source }
    }
}

/// The preventive wear limit for lines with AI4I tool wear and no `[preventive]` setting, in tool-wear
/// minutes: below the AI4I tool life of 200–240 min, so most tools are changed before they can break.
pub const DEFAULT_WEAR_LIMIT: f64 = 180.0;

/// Where a default preventive setting came from (see [`default_preventive`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PreventiveDefault {
    /// The line file's `[preventive]` table.
    LineFile,
    /// [`DEFAULT_WEAR_LIMIT`], for a line with AI4I stations.
    Ai4iWearLimit,
    /// Half the shortest mean time to failure among stations with calendar-time failures.
    HalfShortestMttf,
}

impl PreventiveDefault {
    pub fn describe(self) -> &'static str {
        match self {
            PreventiveDefault::LineFile => "the line file's [preventive] setting",
            PreventiveDefault::Ai4iWearLimit => "the default wear limit for AI4I tool wear",
            PreventiveDefault::HalfShortestMttf => {
                "the default interval, half the shortest mean time to failure"
            }
        }
    }
}

/// A preventive setting a policy can take.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PreventiveSetting {
    pub interval: Option<f64>,
    pub wear_limit: Option<f64>,
    pub source: PreventiveDefault,
}

/// The preventive setting used when a request gives none: the line file's `[preventive]` table; else,
/// when a station has AI4I tool wear, a wear limit of [`DEFAULT_WEAR_LIMIT`]; else an interval of half
/// the shortest mean time to failure among stations with calendar-time failures. `None` when no
/// station can fail.
pub fn default_preventive(line: &Line) -> Option<PreventiveSetting> {
    if let Some(p) = line.preventive {
        return Some(p);
    }
    if line.stations.iter().any(|s| s.ai4i.is_some()) {
        return Some(PreventiveSetting {
            interval: None,
            wear_limit: Some(DEFAULT_WEAR_LIMIT),
            source: PreventiveDefault::Ai4iWearLimit,
        });
    }
    let mttf = line
        .stations
        .iter()
        .filter_map(|s| s.mean_time_to_failure)
        .fold(f64::INFINITY, f64::min);
    mttf.is_finite().then_some(PreventiveSetting {
        interval: Some(mttf / 2.0),
        wear_limit: None,
        source: PreventiveDefault::HalfShortestMttf,
    })
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
            shadow: None,
            preventive_default: None,
        }
    }

    pub fn preventive(interval: Option<f64>, wear_limit: Option<f64>) -> Policy {
        Policy {
            name: "preventive".into(),
            ..Policy::run_to_failure()
        }
        .with_backstop(interval, wear_limit)
    }

    /// A predictive policy with a given threshold.
    pub fn predictive(scorer: Arc<dyn FailureScorer>, threshold: f64) -> Policy {
        let given = Threshold {
            value: threshold,
            source: ThresholdSource::Given,
        };
        Policy::predictive_at(scorer, given)
    }

    pub fn predictive_at(scorer: Arc<dyn FailureScorer>, threshold: Threshold) -> Policy {
        Policy {
            name: "predictive".into(),
            predictive: Some(Predictive {
                scorer,
                threshold: threshold.value,
                threshold_source: threshold.source,
                recall_scale: 1.0,
            }),
            ..Policy::run_to_failure()
        }
    }

    /// The predictive part's threshold and its source; `None` without a predictive part.
    pub fn threshold(&self) -> Option<Threshold> {
        self.predictive.as_ref().map(|p| Threshold {
            value: p.threshold,
            source: p.threshold_source,
        })
    }

    /// Adds a preventive backstop (interval and/or wear limit) to this policy.
    pub fn with_backstop(mut self, interval: Option<f64>, wear_limit: Option<f64>) -> Policy {
        self.interval = interval.or(self.interval);
        self.wear_limit = wear_limit.or(self.wear_limit);
        self
    }

    /// Adds the preventive part from `setting`, the description naming where it came from.
    pub fn with_default_backstop(self, setting: PreventiveSetting) -> Policy {
        let mut p = self.with_backstop(setting.interval, setting.wear_limit);
        p.preventive_default = Some(setting.source);
        p
    }

    /// Scores `model` in shadow on every part of a policy without a predictive part (no effect on one
    /// with a predictive part: its own exam counts there).
    pub fn with_shadow(mut self, scorer: Arc<dyn FailureScorer>, threshold: Threshold) -> Policy {
        if self.predictive.is_none() {
            self.shadow = Some(Predictive {
                scorer,
                threshold: threshold.value,
                threshold_source: threshold.source,
                recall_scale: 1.0,
            });
        }
        self
    }

    pub fn without_shadow(mut self) -> Policy {
        self.shadow = None;
        self
    }

    /// The model this policy scores, acting or in shadow.
    pub fn scored(&self) -> Option<&Predictive> {
        self.predictive.as_ref().or(self.shadow.as_ref())
    }

    /// Acts on a predictive alarm with probability `k` (no effect without a predictive part).
    pub fn with_recall_scale(mut self, k: f64) -> Policy {
        if let Some(p) = self.predictive.as_mut() {
            p.recall_scale = k;
        }
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
            let acted = if p.recall_scale < 1.0 {
                format!(", alarms acted on with probability {}", p.recall_scale)
            } else {
                String::new()
            };
            parts.push(format!(
                "predictive (threshold {}: {}; model {}{acted})",
                p.threshold,
                p.threshold_source.describe(),
                p.scorer.describe()
            ));
        }
        if let Some(i) = self.interval {
            parts.push(format!("preventive every {i} time units"));
        }
        if let Some(w) = self.wear_limit {
            parts.push(format!("preventive at tool wear {w} min"));
        }
        let shadow = self.shadow.as_ref().map_or(String::new(), |p| {
            format!(
                "; model {} scored in shadow at threshold {} (never acted on)",
                p.scorer.describe(),
                p.threshold
            )
        });
        if parts.is_empty() {
            return format!("run to failure (repair only when broken){shadow}");
        }
        let text = parts.join(" + ");
        match self.preventive_default {
            Some(d) => format!("{text} ({}){shadow}", d.describe()),
            None => format!("{text}{shadow}"),
        }
    }

    /// Checks the parameters against the line: positive interval, a threshold in [0, 1], a scorer
    /// reading known columns, and a maintenance duration on every station the policy may maintain.
    pub fn validate(&self, line: &Line) -> Result<(), TwinError> {
        let setting = |setting: &'static str, message: String| TwinError::PolicySetting {
            policy: self.name.clone(),
            setting,
            message,
        };
        let needs_ai4i = |what: &'static str| TwinError::PolicyNeedsAi4i {
            policy: self.name.clone(),
            what,
        };
        let has_ai4i = line.stations.iter().any(|s| s.ai4i.is_some());
        if let Some(i) = self.interval.filter(|i| !i.is_finite() || *i <= 0.0) {
            let message = format!("the preventive interval must be > 0, got {i}");
            return Err(setting("interval", message));
        }
        if let Some(w) = self.wear_limit {
            if !w.is_finite() || w <= 0.0 {
                let message = format!("the wear limit must be > 0 min, got {w}");
                return Err(setting("wear_limit", message));
            }
            if !has_ai4i {
                return Err(needs_ai4i("a wear limit"));
            }
        }
        if let Some(p) = &self.predictive {
            if !(0.0..=1.0).contains(&p.threshold) {
                let message = format!("the threshold must lie in [0, 1], got {}", p.threshold);
                return Err(setting("threshold", message));
            }
            if !(p.recall_scale > 0.0 && p.recall_scale <= 1.0) {
                let message = format!(
                    "the recall scale must lie in (0, 1], got {}",
                    p.recall_scale
                );
                return Err(setting("recall_scale", message));
            }
            check_scorer_columns(p.scorer.as_ref())?;
            if !has_ai4i {
                return Err(needs_ai4i(
                    "the predictive policy, which scores AI4I sensors,",
                ));
            }
        }
        if let Some(p) = &self.shadow {
            check_scorer_columns(p.scorer.as_ref())?;
        }
        self.check_maintenance_durations(line)
    }

    fn check_maintenance_durations(&self, line: &Line) -> Result<(), TwinError> {
        for s in &line.stations {
            let maintained = (self.interval.is_some() && s.can_fail())
                || (s.ai4i.is_some() && (self.wear_limit.is_some() || self.predictive.is_some()));
            if maintained && s.maintenance.is_none() {
                return Err(TwinError::StationNeedsMaintenance {
                    policy: self.name.clone(),
                    station: s.name.clone(),
                });
            }
        }
        Ok(())
    }
}

/// What a request gives to build policies by name; absent settings take their defaults.
#[derive(Clone, Default)]
pub struct PolicyParams {
    pub interval: Option<f64>,
    pub wear_limit: Option<f64>,
    /// `None`: the scorer's own threshold, else [`DEFAULT_THRESHOLD`].
    pub threshold: Option<f64>,
    pub scorer: Option<Arc<dyn FailureScorer>>,
    /// The predictive policy acts on an alarm with this probability (default 1; see
    /// [`Predictive::recall_scale`]).
    pub recall_scale: Option<f64>,
}

/// The policy names [`policy_from_name`] accepts.
pub const POLICY_NAMES: &[&str] = &[
    "run-to-failure",
    "preventive",
    "predictive",
    "predictive+preventive",
];

/// The policies a line file may name as its `current_policy` (those built without a model).
pub const CURRENT_POLICY_NAMES: &[&str] = &["run-to-failure", "preventive"];

/// Builds `run-to-failure`, `preventive` (interval and/or wear limit), `predictive` (a scorer and a
/// threshold: the given one, else the scorer's own, else [`DEFAULT_THRESHOLD`]) or
/// `predictive+preventive` (both: the preventive part is the backstop).
/// Without an interval or a wear limit the preventive part takes [`default_preventive`] for `line`.
pub fn policy_from_name(name: &str, p: &PolicyParams, line: &Line) -> Result<Policy, TwinError> {
    let preventive = |policy: Policy| {
        if p.interval.is_some() || p.wear_limit.is_some() {
            return Ok(policy.with_backstop(p.interval, p.wear_limit));
        }
        let setting =
            default_preventive(line).ok_or_else(|| TwinError::PreventiveNeedsSetting {
                policy: name.to_owned(),
            })?;
        Ok(policy.with_default_backstop(setting))
    };
    let predictive = || {
        let scorer = p
            .scorer
            .clone()
            .ok_or_else(|| TwinError::PolicyNeedsModel {
                policy: name.to_owned(),
            })?;
        let threshold = Threshold::choose(p.threshold, scorer.as_ref());
        Ok(Policy::predictive_at(scorer, threshold)
            .with_recall_scale(p.recall_scale.unwrap_or(1.0)))
    };
    // With a model given, the policies without one score it in shadow: its exam on their streams.
    let shadowed = |policy: Policy| match &p.scorer {
        Some(scorer) => {
            let threshold = Threshold::choose(p.threshold, scorer.as_ref());
            policy.with_shadow(scorer.clone(), threshold)
        }
        None => policy,
    };
    match name {
        "run-to-failure" => Ok(shadowed(Policy::run_to_failure())),
        "preventive" => preventive(Policy::preventive(None, None)).map(shadowed),
        "predictive" => predictive(),
        "predictive+preventive" => preventive(predictive()?.named("predictive+preventive")),
        other => Err(TwinError::UnknownPolicy {
            name: other.to_owned(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line::EXAMPLE_LINE;
    use crate::scorer::PhysicsScorer;
    use std::path::Path;

    fn line(text: &str) -> Line {
        Line::parse(text, Path::new("line.toml")).unwrap()
    }

    /// The example line without its `[preventive]` table.
    fn example_without_setting() -> String {
        let start = EXAMPLE_LINE.find("[preventive]").unwrap();
        let end = start + EXAMPLE_LINE[start..].find("\n\n").unwrap();
        format!("{}{}", &EXAMPLE_LINE[..start], &EXAMPLE_LINE[end..])
    }

    #[test]
    fn the_three_policies_by_name_need_only_a_model() {
        let l = line(EXAMPLE_LINE);
        let params = PolicyParams {
            scorer: Some(Arc::new(PhysicsScorer::default())),
            ..Default::default()
        };
        let policies: Vec<Policy> = ["run-to-failure", "preventive", "predictive"]
            .iter()
            .map(|name| policy_from_name(name, &params, &l))
            .collect::<Result<_, _>>()
            .unwrap();
        let options = crate::run::RunOptions {
            replications: 2,
            horizon: Some(600.0),
            warmup: Some(0.0),
            ..Default::default()
        };
        let r = crate::run::compare(&l, &policies, &options).unwrap();
        let description = &r.policies[1].description;
        assert!(
            description.starts_with(
                "preventive at tool wear 180 min (the line file's [preventive] setting); model physics rules"
            ) && description.ends_with("scored in shadow at threshold 0.5 (never acted on)"),
            "{description}"
        );
        // The model is examined in shadow on the policies without it, acting on the predictive one.
        let shadow: Vec<bool> = r
            .policies
            .iter()
            .map(|p| p.replications[0].alarms.unwrap().shadow)
            .collect();
        assert_eq!(shadow, [true, true, false]);
        let without = PolicyParams::default();
        let plain = policy_from_name("preventive", &without, &l).unwrap();
        assert!(plain.shadow.is_none() && !plain.describe().contains("shadow"));
    }

    /// The AI4I rules with a threshold of their own, as a registered model has.
    struct OwnThreshold(PhysicsScorer);
    impl FailureScorer for OwnThreshold {
        fn input_columns(&self) -> Vec<String> {
            self.0.input_columns()
        }
        fn score(
            &self,
            s: &[crate::SensorSnapshot],
        ) -> Result<Vec<f64>, crate::scorer::ScorerError> {
            self.0.score(s)
        }
        fn describe(&self) -> String {
            "own@1".into()
        }
        fn model(&self) -> Option<millwright_core::ModelRef> {
            None
        }
        fn default_threshold(&self) -> Option<f64> {
            Some(0.0009)
        }
    }

    #[test]
    fn the_threshold_is_the_given_one_else_the_scorers_else_the_default() {
        let l = line(EXAMPLE_LINE);
        let with = |scorer: Arc<dyn FailureScorer>, threshold: Option<f64>| {
            let params = PolicyParams {
                scorer: Some(scorer),
                threshold,
                ..Default::default()
            };
            let p = policy_from_name("predictive+preventive", &params, &l).unwrap();
            (p.threshold().unwrap(), p.describe())
        };
        let own = Arc::new(OwnThreshold(PhysicsScorer::default()));
        let (t, text) = with(own.clone(), None);
        assert_eq!((t.value, t.source), (0.0009, ThresholdSource::Model));
        assert!(
            text.starts_with(
                "predictive (threshold 0.0009: the model's registered threshold; model own@1)"
            ),
            "{text}"
        );
        let (t, _) = with(own, Some(0.2));
        assert_eq!((t.value, t.source), (0.2, ThresholdSource::Given));
        let (t, text) = with(Arc::new(PhysicsScorer::default()), None);
        assert_eq!(
            (t.value, t.source),
            (DEFAULT_THRESHOLD, ThresholdSource::Default)
        );
        assert!(text.contains("threshold 0.5: the default"), "{text}");
        assert_eq!(Policy::preventive(Some(5.0), None).threshold(), None);
        let json = serde_json::to_string(&t).unwrap();
        assert_eq!(json, r#"{"value":0.5,"source":"default"}"#);
    }

    #[test]
    fn preventive_without_a_setting_takes_the_line_files() {
        let l = line(&EXAMPLE_LINE.replace("wear_limit = 180", "interval = \"2d\""));
        let p = policy_from_name("preventive", &PolicyParams::default(), &l).unwrap();
        assert_eq!((p.interval, p.wear_limit), (Some(2880.0), None));
        assert!(p.describe().contains("line file's [preventive]"), "{p:?}");
        p.validate(&l).unwrap();
    }

    #[test]
    fn preventive_without_any_setting_limits_ai4i_tool_wear() {
        let text = example_without_setting();
        assert!(!text.contains("[preventive]"));
        let l = line(&text);
        let p = policy_from_name("preventive", &PolicyParams::default(), &l).unwrap();
        assert_eq!((p.interval, p.wear_limit), (None, Some(DEFAULT_WEAR_LIMIT)));
        assert!(
            p.describe().contains("default wear limit for AI4I"),
            "{p:?}"
        );
        let given = PolicyParams {
            wear_limit: Some(150.0),
            ..Default::default()
        };
        let p = policy_from_name("preventive", &given, &l).unwrap();
        assert_eq!(p.wear_limit, Some(150.0));
        assert!(!p.describe().contains("default"), "{p:?}");
    }

    #[test]
    fn preventive_on_a_line_without_ai4i_maintains_at_half_the_shortest_mttf() {
        let l = line(
            r#"
name = "t"
time_unit = "min"
buffers = [5]
[[stations]]
name = "a"
process = { dist = "fixed", value = 1.0 }
maintenance = { dist = "fixed", value = 2.0 }
failures = { time_to_failure = { dist = "exponential", mean = 600 }, repair = { dist = "fixed", value = 5 } }
[[stations]]
name = "b"
process = { dist = "fixed", value = 1.0 }
maintenance = { dist = "fixed", value = 2.0 }
failures = { time_to_failure = { dist = "exponential", mean = 400 }, repair = { dist = "fixed", value = 5 } }
"#,
        );
        let p = policy_from_name("preventive", &PolicyParams::default(), &l).unwrap();
        assert_eq!((p.interval, p.wear_limit), (Some(200.0), None));
        assert!(p
            .describe()
            .contains("half the shortest mean time to failure"));
        p.validate(&l).unwrap();
        let never_fails = line(
            "name = \"t\"\ntime_unit = \"min\"\n[[stations]]\nname = \"a\"\nprocess = { dist = \"fixed\", value = 1.0 }\n",
        );
        let err =
            policy_from_name("preventive", &PolicyParams::default(), &never_fails).unwrap_err();
        assert!(
            matches!(err, TwinError::PreventiveNeedsSetting { .. }),
            "{err}"
        );
    }

    #[test]
    fn predictive_needs_a_model_and_names_are_checked() {
        let l = line(EXAMPLE_LINE);
        let err = policy_from_name("predictive", &PolicyParams::default(), &l).unwrap_err();
        assert!(
            matches!(&err, TwinError::PolicyNeedsModel { policy } if policy == "predictive"),
            "{err}"
        );
        let err = policy_from_name("reactive", &PolicyParams::default(), &l).unwrap_err();
        assert!(
            err.to_string().contains("run-to-failure, preventive"),
            "{err}"
        );
        let with_model = PolicyParams {
            scorer: Some(Arc::new(PhysicsScorer::default())),
            ..Default::default()
        };
        let p = policy_from_name("predictive+preventive", &with_model, &l).unwrap();
        assert_eq!(p.wear_limit, Some(180.0));
        assert!(p.predictive.is_some() && p.preventive_default.is_some());
    }
}
