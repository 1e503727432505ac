//! What a report is built from: plain structures the caller (the application layer) fills from the stored
//! artefacts, each read through its owner's own type (quality report, model manifest, twin result, impact
//! result). This crate reads none of those files itself.

use std::collections::BTreeMap;
use std::path::PathBuf;

use millwright_impact::{Estimate, MeasuredImpact};
use serde::{Deserialize, Serialize};

/// Everything one report shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportInput {
    pub title: String,
    /// RFC 3339.
    pub generated_at: String,
    pub millwright_version: String,
    /// The ingest quality report of the dataset the model was trained on, when it is known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_quality: Option<DataQuality>,
    /// The model the AI policy used, when it is in the registry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<ModelSummary>,
    pub twin: TwinSummary,
    /// The productivity impact measured from the twin run (`millwright impact --from-twin --json`).
    pub impact: MeasuredImpact,
    /// The model's offline figures beside what it achieved inside the twin, when the AI policy used a model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_exam: Option<ModelExam>,
    /// Why a section has no input (section id → reason), shown in its place.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub unavailable: BTreeMap<String, String>,
    /// Extra lineage entries beside the ones derived from the sections.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<LineageEntry>,
}

/// The data-quality report of one ingest (the data layer's `QualityReport`, the fields shown here).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataQuality {
    pub dataset: String,
    /// The lake version the ingest committed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lake_version: Option<i64>,
    pub ingest_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceRef>,
    pub rows_read: u64,
    pub rows_written: u64,
    pub rows_quarantined: u64,
    #[serde(default)]
    pub quarantined_by_reason: BTreeMap<String, u64>,
    #[serde(default)]
    pub duplicates_removed: u64,
    pub columns: Vec<ColumnQuality>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constant_columns: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub empty_columns: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SourceRef {
    pub path: String,
}

/// One column before and after cleaning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnQuality {
    pub name: String,
    pub kind: String,
    pub before: ColumnStats,
    pub after: ColumnStats,
    /// What cleaning did to the column (bounds, outliers, filled, dropped ...), as the data layer wrote it.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub actions: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnStats {
    pub count: u64,
    pub missing: u64,
    #[serde(default)]
    pub distinct: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mean: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub std: Option<f64>,
}

/// The registered model the AI policy used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSummary {
    pub name: String,
    pub version: u32,
    pub kind: String,
    pub target: String,
    /// The training run (`<home>/runs/<run-id>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_id: Option<String>,
    pub dataset: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lake_version: Option<i64>,
    /// Decision threshold on the predicted failure probability.
    pub threshold: f64,
    /// How the threshold was chosen.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub threshold_rule: String,
    /// Test-split metrics (accuracy, precision, recall, f1, roc_auc, ...).
    pub metrics: BTreeMap<String, f64>,
    /// `[[true negatives, false positives], [false negatives, true positives]]` on the test split.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confusion_matrix: Option<[[u64; 2]; 2]>,
    /// Curves given as points (ROC, precision-recall, training loss ...), drawn by the report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub curves: Vec<Curve>,
    /// Plots the training run wrote as files (PNG or SVG), embedded into the report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageRef>,
    /// The models compared before this one was registered (this one included, `chosen = true`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub candidates: Vec<Candidate>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Curve {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    /// A one-line note under the plot (e.g. "AUC 0.97").
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub note: String,
    pub points: Vec<(f64, f64)>,
    /// Draw the diagonal y = x (ROC).
    #[serde(default)]
    pub diagonal: bool,
}

/// An image file to embed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageRef {
    pub title: String,
    pub path: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    /// `name@version` or the training run.
    pub name: String,
    pub kind: String,
    pub metrics: BTreeMap<String, f64>,
    pub chosen: bool,
}

/// One twin run comparing maintenance policies on the same line with common random numbers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TwinSummary {
    pub run_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    pub replications: usize,
    pub horizon: f64,
    pub time_unit: String,
    /// The line's name.
    pub line: String,
    /// `name@version` of the model the predictive policy scored with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The baseline the KPIs are compared against.
    pub baseline_policy: String,
    pub ai_policy: String,
    pub policies: Vec<PolicyKpis>,
    /// The predictive policy's alarm threshold, optimised on the twin.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threshold: Option<ThresholdSearch>,
    /// Plots the twin wrote as files, embedded into the report.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ImageRef>,
}

/// One policy's KPIs: mean and 95 % CI over the replications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyKpis {
    pub policy: String,
    pub kpis: BTreeMap<String, Estimate>,
}

/// A threshold search: the objective at each threshold tried, and the best.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdSearch {
    /// The twin run that searched the threshold (a run of its own, or the comparison itself).
    pub run_id: String,
    pub best: f64,
    /// The KPI minimised or maximised (e.g. `cost_per_good_part`).
    pub objective: String,
    pub minimise: bool,
    pub points: Vec<ThresholdPoint>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ThresholdPoint {
    pub threshold: f64,
    pub value: Estimate,
}

/// The model's exam: its offline figures on the test split beside what it achieved inside the twin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelExam {
    /// The alarm threshold the twin's predictive policy used.
    pub threshold: f64,
    /// Where it came from, in words ("the model's registered threshold", "optimised on separate twin streams, run X", "given").
    pub threshold_source: String,
    /// Recall and precision on the test split of the training data at `threshold`; None when unknown.
    pub offline: Option<Rates>,
    /// Recall and precision per part inside the twin (pooled over the AI policy's replications).
    pub twin: Rates,
    /// The same model scored in shadow (never acted on) on another policy's fresh streams: the
    /// like-for-like check of the offline figures, and the only place its lead time shows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shadow: Option<ShadowExam>,
    /// What the figures mean and how they differ, in plain words.
    pub note: String,
}

/// A model's exam in shadow: scored on every part of a policy that does not act on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShadowExam {
    /// The policy whose streams it was scored on (run-to-failure: how its training year was recorded).
    pub policy: String,
    pub rates: Rates,
    /// Failures with an alarm raised since the station's last repair or maintenance, of all failures.
    pub warned: Option<Rate>,
    /// Mean time from the first such alarm to the failure, in hours.
    pub mean_lead_time_hours: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rates {
    pub recall: Rate,
    pub precision: Rate,
}

/// A share with its Wilson 95 % interval.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rate {
    pub value: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub hits: u64,
    pub trials: u64,
}

impl Rate {
    /// `hits / trials` with its Wilson score interval at 95 %; `None` without trials.
    /// Wilson rather than the normal approximation: it stays inside [0, 1] and is sound for shares near
    /// 0 or 1 and for few trials, which is where a failure model's recall lives.
    pub fn wilson(hits: u64, trials: u64) -> Option<Rate> {
        if trials == 0 || hits > trials {
            return None;
        }
        const Z: f64 = 1.959_963_984_540_054;
        let n = trials as f64;
        let p = hits as f64 / n;
        let centre = (p + Z * Z / (2.0 * n)) / (1.0 + Z * Z / n);
        let half = Z / (1.0 + Z * Z / n) * (p * (1.0 - p) / n + Z * Z / (4.0 * n * n)).sqrt();
        Some(Rate {
            value: p,
            ci_low: (centre - half).max(0.0),
            ci_high: (centre + half).min(1.0),
            hits,
            trials,
        })
    }
}

/// Where one figure of the report comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineageEntry {
    pub figure: String,
    pub source: String,
}
