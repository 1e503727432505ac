//! The report of one twin run: gathers what the earlier stages stored about it — the run's KPIs and plots,
//! the registered model its AI policy used, the quality report of the dataset that model was trained on —
//! through each stage's own types, measures the impact, and has the report crate write the files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use millwright_core::ModelRef;
use millwright_data::lake::Lake;
use millwright_data::quality::QualityReport;
use millwright_impact::{
    format_number, sorted_sensitivity, Estimate, MeasuredImpact, SensitivityRow,
};
use millwright_learn::metrics::{BinaryMetrics, ThresholdRule};
use millwright_learn::registry::{self, Manifest};
use millwright_learn::train::TestMetrics;
use millwright_report::{
    Candidate, ColumnQuality, ColumnStats, Curve, DataQuality, Headline, ImageRef, LineageEntry,
    ModelExam, ModelSummary, PolicyKpis, ReportInput, SourceRef, ThresholdPoint, ThresholdSearch,
    TwinSummary,
};
use millwright_twin::{Objective, Optimization, TwinResult};
use serde::Serialize;

use crate::error::{Context, Result};
use crate::impact::{measure_with_line, ImpactRequest};
use crate::Home;

/// Everything a report needs besides the twin run itself.
#[derive(Debug, Clone)]
pub struct ReportRequest {
    pub run_id: String,
    /// A twin optimisation run of the predictive threshold, shown as the optimised threshold.
    pub threshold_run: Option<String>,
    /// User-given α, a model file and the comparison (baseline, AI policy, bootstrap, investment).
    pub impact: ImpactRequest,
    /// Sensitivity rows the caller measured by simulating again (failure rates, maintenance, recall);
    /// the report adds them to the price rows the impact step computes.
    pub sensitivity: Vec<SensitivityRow>,
    /// The model's offline figures at the threshold the twin used, when the caller holds its test
    /// predictions (otherwise the registered metrics are used when their threshold is the one used).
    pub offline_exam: Option<OfflineExam>,
    pub title: Option<String>,
    /// Output folder (default `<home>/reports/<run-id>`).
    pub out: Option<PathBuf>,
    /// Models compared before one was registered (the demo's candidates).
    pub candidates: Vec<Candidate>,
    /// Curves drawn from data the caller holds (ROC and precision-recall of the test split).
    pub curves: Vec<Curve>,
    pub notes: Vec<LineageEntry>,
}

impl ReportRequest {
    pub fn new(run_id: impl Into<String>) -> ReportRequest {
        ReportRequest {
            run_id: run_id.into(),
            threshold_run: None,
            impact: ImpactRequest::default(),
            sensitivity: Vec::new(),
            offline_exam: None,
            title: None,
            out: None,
            candidates: Vec::new(),
            curves: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// The files written and the figures a manager reads first.
#[derive(Debug, Clone, Serialize)]
pub struct Reported {
    pub html: PathBuf,
    pub summary: PathBuf,
    pub headline: Vec<Headline>,
    /// The baseline policy the figures are measured against.
    pub baseline: String,
}

/// A built report in the home (`<home>/reports/<name>/`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportEntry {
    /// The folder's name: the twin run id it was built for, or `demo`.
    pub name: String,
    /// Bytes of its files.
    pub size_bytes: u64,
    /// When its HTML page was written (RFC 3339, UTC).
    pub built_at: String,
}

fn report_name(name: &str) -> Result<()> {
    Ok(millwright_data::names::validate_dataset_name(name)?)
}

/// The reports built in the home, by name.
pub fn reports(home: &Home) -> Result<Vec<ReportEntry>> {
    let root = home.root().join("reports");
    let entries = match std::fs::read_dir(&root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(crate::error::io("cannot list", &root)(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(crate::error::io("cannot list", &root))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        let html = entry.path().join(millwright_report::HTML_FILE);
        if report_name(&name).is_err() {
            continue;
        }
        let Ok(meta) = std::fs::metadata(&html) else {
            continue;
        };
        let built_at = meta
            .modified()
            .map(|t| {
                chrono::DateTime::<chrono::Utc>::from(t)
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            })
            .unwrap_or_default();
        let size_bytes = std::fs::read_dir(entry.path())
            .map(|files| {
                files
                    .flatten()
                    .filter_map(|f| f.metadata().ok())
                    .filter(std::fs::Metadata::is_file)
                    .map(|m| m.len())
                    .sum()
            })
            .unwrap_or(0);
        out.push(ReportEntry {
            name,
            size_bytes,
            built_at,
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The built reports of twin run `run_id`: the one named after it, and any other whose summary says it
/// was built from it (the demo's report, say), by name.
pub fn reports_of_run(home: &Home, run_id: &str) -> Result<Vec<ReportEntry>> {
    #[derive(serde::Deserialize)]
    struct Head {
        twin: HeadTwin,
    }
    #[derive(serde::Deserialize)]
    struct HeadTwin {
        run_id: String,
    }
    let built_from = |name: &str| {
        std::fs::read_to_string(home.report_dir(name).join(millwright_report::SUMMARY_FILE))
            .ok()
            .and_then(|text| serde_json::from_str::<Head>(&text).ok())
            .is_some_and(|head| head.twin.run_id == run_id)
    };
    Ok(reports(home)?
        .into_iter()
        .filter(|r| r.name == run_id || built_from(&r.name))
        .collect())
}

/// Deletes a built report (its folder) for good; the twin run it was built from stays.
pub fn delete_report(home: &Home, name: &str) -> Result<()> {
    report_name(name)?;
    let dir = home.report_dir(name);
    if !dir.join(millwright_report::HTML_FILE).is_file() {
        return Err(crate::AppError::Io {
            what: "no report",
            path: dir,
            source: std::io::Error::from(std::io::ErrorKind::NotFound),
        });
    }
    // Renamed away first: a reader gets the whole report or none.
    let doomed = home
        .root()
        .join("reports")
        .join(format!(".deleting-{}-{name}", std::process::id()));
    std::fs::rename(&dir, &doomed).map_err(crate::error::io("cannot move away", &dir))?;
    std::fs::remove_dir_all(&doomed).map_err(crate::error::io("cannot remove", &doomed))
}

/// The test-split metrics of a model at the alarm threshold a twin run used.
#[derive(Debug, Clone)]
pub struct OfflineExam {
    pub threshold: f64,
    /// Where the threshold came from, in words.
    pub threshold_source: String,
    pub metrics: BinaryMetrics,
}

pub fn report(home: &Home, req: &ReportRequest) -> Result<Reported> {
    let input = gather(home, req)?;
    let out = req
        .out
        .clone()
        .unwrap_or_else(|| home.report_dir(&req.run_id));
    let (files, summary) = millwright_report::build(input, &out).context("writing the report")?;
    Ok(Reported {
        html: files.html,
        summary: files.summary,
        headline: summary.headline,
        baseline: summary.input.impact.twin.baseline_policy,
    })
}

fn gather(home: &Home, req: &ReportRequest) -> Result<ReportInput> {
    let (model, assumptions) = req.impact.resolve()?;
    let comparison = &req.impact.comparison;
    // The result and its line are read once: the impact, the exam and the summary all use them.
    let stored = crate::twin::load_result(home, &req.run_id)?;
    let line = crate::impact::stored_line(home, &req.run_id)?;
    let mut impact = measure_with_line(&stored, &line, &model, &assumptions, comparison)?;
    impact.sensitivity.extend(req.sensitivity.iter().cloned());
    impact.sensitivity = sorted_sensitivity(std::mem::take(&mut impact.sensitivity));
    let mut unavailable = BTreeMap::new();
    let model_ref = ai_model(&stored, &comparison.ai_policy, &mut unavailable);
    let (model_summary, manifest) = match &model_ref {
        Some(r) => registered_model(home, r, req, &mut unavailable)?,
        None => (None, None),
    };
    let units_per_hour = line.time_unit.units_per_hour();
    let exam =
        model_exam(&stored, &comparison.ai_policy, req, manifest.as_ref()).map(|exam| ModelExam {
            shadow: crate::exam::shadow_exam(&stored, units_per_hour),
            ..exam
        });
    if exam.is_none() {
        unavailable.insert(
            "model-exam".to_owned(),
            format!(
                "the AI policy `{}` has no alarm counts (no model, or a result from before they were kept)",
                comparison.ai_policy
            ),
        );
    }
    let data_quality = match &model_summary {
        Some(m) => match training_quality(home, &m.dataset, m.lake_version)? {
            Ok(q) => Some(q),
            Err(reason) => {
                unavailable.insert("data-quality".to_owned(), reason);
                None
            }
        },
        None => {
            unavailable.insert(
                "data-quality".to_owned(),
                "no registered model, so no training dataset to report on".to_owned(),
            );
            None
        }
    };
    let threshold = threshold_search(home, req, &stored)?;
    if threshold.is_none() {
        unavailable.insert(
            "threshold".to_owned(),
            "no threshold optimisation run was given".to_owned(),
        );
    }
    let notes = req.notes.clone();
    let twin_dir = millwright_twin::run_dir(home.root(), &req.run_id)?;
    Ok(ReportInput {
        title: req
            .title
            .clone()
            .unwrap_or_else(|| format!("Millwright report — twin run {}", req.run_id)),
        generated_at: millwright_report::now_rfc3339(),
        millwright_version: env!("CARGO_PKG_VERSION").to_owned(),
        data_quality,
        model: model_summary,
        twin: twin_summary(stored, model_ref, &impact, threshold, &twin_dir),
        impact,
        model_exam: exam,
        unavailable,
        notes,
    })
}

/// Offline and in-twin recall and precision at the threshold the AI policy used. The offline figures come
/// from the caller's test predictions at that threshold, else from the registered metrics when their
/// threshold is the one used.
fn model_exam(
    stored: &TwinResult,
    ai_policy: &str,
    req: &ReportRequest,
    manifest: Option<&Manifest>,
) -> Option<ModelExam> {
    let policy = stored.policies.iter().find(|p| p.policy == ai_policy)?;
    let twin = crate::exam::twin_rates(policy)?;
    let used = policy.threshold?;
    let registered = manifest.and_then(|m| match &m.metrics {
        TestMetrics::Binary(b) if (b.threshold - used.value).abs() < 1e-12 => Some(b),
        _ => None,
    });
    let (source, offline) = match &req.offline_exam {
        Some(o) if (o.threshold - used.value).abs() < 1e-12 => (
            o.threshold_source.clone(),
            crate::exam::offline_rates(&o.metrics),
        ),
        _ => (
            used.source.describe().to_owned(),
            registered.and_then(crate::exam::offline_rates),
        ),
    };
    Some(ModelExam {
        threshold: used.value,
        threshold_source: source,
        offline,
        twin,
        shadow: None,
        note: "Offline: each record of the test split is a part, the label whether it failed. In the twin: \
               each part the model scored, whether the failure rules on its true state would have failed \
               it; the model sees only the noisy measured sensors, and failures from causes the sensors do \
               not show count as missed. In shadow the model is scored on fresh streams of a policy that \
               never acts on it (run-to-failure: how its training year was recorded), so these are the \
               figures to hold against the offline ones; the lead time is the mean time from its first \
               alarm since the last repair or maintenance to the failure. Acting, each alarm maintains the \
               station, which changes the parts it is judged on (fewer worn tools, fewer failures)."
            .to_owned(),
    })
}

/// The registered model the AI policy used, or why there is none.
fn ai_model(
    stored: &TwinResult,
    ai_policy: &str,
    unavailable: &mut BTreeMap<String, String>,
) -> Option<ModelRef> {
    let policy = stored.policies.iter().find(|p| p.policy == ai_policy);
    let model = policy.and_then(|p| p.model.clone());
    if model.is_none() {
        let reason = match policy.and_then(|p| p.model_description.as_deref()) {
            Some(text) => format!("the AI policy used `{text}`, not a registered model"),
            None => format!("the AI policy `{ai_policy}` used no failure model"),
        };
        unavailable.insert("model".to_owned(), reason);
    }
    model
}

fn registered_model(
    home: &Home,
    model: &ModelRef,
    req: &ReportRequest,
    unavailable: &mut BTreeMap<String, String>,
) -> Result<(Option<ModelSummary>, Option<Manifest>)> {
    use millwright_learn::error::LearnError;
    match registry::manifest(home.root(), &model.to_string()) {
        Ok((manifest, _)) => Ok((
            Some(model_summary(home, manifest.clone(), req)),
            Some(manifest),
        )),
        Err(e @ (LearnError::ModelNotFound(..) | LearnError::VersionNotFound { .. })) => {
            unavailable.insert(
                "model".to_owned(),
                format!("model {model} is not in this home's registry: {e}"),
            );
            Ok((None, None))
        }
        Err(e) => Err(e.into()),
    }
}

/// The PNG plots of a training run, when the run is in this home's run store.
fn run_plots(home: &Home, run: &str) -> Vec<ImageRef> {
    let Ok(store) = millwright_learn::tracking::RunStore::open(home.root()) else {
        return Vec::new();
    };
    match store.get(run) {
        Ok(record) => png_files(&store.run_dir(&record.id), &[], "training: "),
        Err(_) => Vec::new(),
    }
}

fn model_summary(home: &Home, manifest: Manifest, req: &ReportRequest) -> ModelSummary {
    let metrics: BTreeMap<String, f64> = manifest
        .metrics
        .to_json()
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| k.as_str() != "rows" && k.as_str() != "threshold")
                .filter_map(|(k, v)| v.as_f64().map(|v| (k.clone(), v)))
                .collect()
        })
        .unwrap_or_default();
    let confusion_matrix = match &manifest.metrics {
        TestMetrics::Binary(b) => Some(b.confusion_matrix.map(|row| row.map(|n| n as u64))),
        _ => None,
    };
    let images = match &manifest.lineage.run {
        Some(run) => run_plots(home, run),
        None => Vec::new(),
    };
    ModelSummary {
        name: manifest.name,
        version: manifest.version,
        kind: manifest.kind.to_string(),
        target: manifest.target,
        run_id: manifest.lineage.run,
        dataset: manifest.lineage.dataset,
        lake_version: manifest.lineage.lake_version,
        threshold: manifest.threshold,
        threshold_rule: describe_rule(&manifest.threshold_rule),
        metrics,
        confusion_matrix,
        curves: req.curves.clone(),
        images,
        candidates: req.candidates.clone(),
    }
}

/// How a decision threshold was chosen, in words.
pub fn describe_rule(rule: &ThresholdRule) -> String {
    match rule {
        ThresholdRule::Fixed { value } => format!("fixed at {}", format_number(*value)),
        ThresholdRule::MaxF1 => "max F1 on training rows".into(),
        ThresholdRule::MinCost(c) => format!(
            "min cost on training rows (missed {}, false alarm {})",
            format_number(c.missed),
            format_number(c.false_alarm)
        ),
    }
}

fn threshold_search(
    home: &Home,
    req: &ReportRequest,
    stored: &TwinResult,
) -> Result<Option<ThresholdSearch>> {
    let (run_id, optimization) = match &req.threshold_run {
        Some(run) => {
            let opt = crate::twin::load_result(home, run)?;
            let found = opt.optimization.ok_or_else(|| {
                crate::AppError::invalid(format!(
                    "twin run `{run}` is not an optimisation run (its result has no optimisation)"
                ))
            })?;
            (run.clone(), Some(found))
        }
        None => (stored.run_id.clone(), stored.optimization.clone()),
    };
    Ok(optimization.map(|o| threshold_points(run_id, &o)))
}

fn threshold_points(run_id: String, opt: &Optimization) -> ThresholdSearch {
    ThresholdSearch {
        run_id,
        best: opt.best.value,
        minimise: opt.objective != Objective::Throughput,
        objective: format!(
            "{} (searching {})",
            opt.objective.kpi(),
            opt.parameter.name()
        ),
        points: opt
            .points
            .iter()
            .map(|p| ThresholdPoint {
                threshold: p.value,
                value: Estimate {
                    mean: p.mean,
                    ci_low: p.ci_low,
                    ci_high: p.ci_high,
                },
            })
            .collect(),
    }
}

fn twin_summary(
    stored: TwinResult,
    model: Option<ModelRef>,
    impact: &MeasuredImpact,
    threshold: Option<ThresholdSearch>,
    dir: &Path,
) -> TwinSummary {
    let estimate = |s: &millwright_twin::Summary| {
        let mean = s.mean?;
        Some(Estimate {
            mean,
            ci_low: s.ci_low.unwrap_or(mean),
            ci_high: s.ci_high.unwrap_or(mean),
        })
    };
    TwinSummary {
        run_id: stored.run_id,
        seed: Some(stored.seed),
        replications: stored.replications,
        horizon: stored.horizon,
        time_unit: stored.time_unit,
        line: stored.line.name,
        model: model.map(|m| m.to_string()),
        baseline_policy: impact.twin.baseline_policy.clone(),
        ai_policy: impact.twin.ai_policy.clone(),
        policies: stored
            .policies
            .iter()
            .map(|p| PolicyKpis {
                policy: p.policy.clone(),
                kpis: p
                    .kpis
                    .iter()
                    .filter_map(|(k, s)| estimate(s).map(|e| (k.clone(), e)))
                    .collect(),
            })
            .collect(),
        threshold,
        images: png_files(dir, &["kpis"], "twin: "),
    }
}

/// PNG files of a folder, sorted, except the stems listed (the report draws those itself).
fn png_files(dir: &Path, skip: &[&str], title_prefix: &str) -> Vec<ImageRef> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .filter(|p| {
            p.file_stem()
                .and_then(|s| s.to_str())
                .is_some_and(|s| !skip.contains(&s))
        })
        .collect();
    files.sort();
    files
        .into_iter()
        .map(|path| ImageRef {
            title: format!(
                "{title_prefix}{}",
                path.file_stem().and_then(|s| s.to_str()).unwrap_or("plot")
            ),
            path,
        })
        .collect()
}

/// The ingest quality report of `dataset` at `version`, or why there is none.
fn training_quality(
    home: &Home,
    dataset: &str,
    version: Option<i64>,
) -> Result<std::result::Result<DataQuality, String>> {
    let lake = Lake::open(home.root())?;
    if !lake.exists(dataset) {
        return Ok(Err(format!(
            "the model was trained on `{dataset}`, which is not a dataset of this home's lake"
        )));
    }
    let Some((version, record)) = lake.commit_record(dataset, version)? else {
        return Ok(Err(format!(
            "dataset `{dataset}` was not written by an ingest: no quality report"
        )));
    };
    let Some(report) = record.report else {
        return Ok(Err(format!(
            "dataset `{dataset}` version {version} has no quality report"
        )));
    };
    Ok(Ok(data_quality(&report, version)))
}

/// The data layer's quality report as the report shows it.
pub fn data_quality(report: &QualityReport, version: i64) -> DataQuality {
    let stats = |s: &millwright_data::stats::ColumnStats| ColumnStats {
        count: s.count,
        missing: s.missing,
        distinct: s.distinct,
        min: s.min.clone(),
        max: s.max.clone(),
        mean: s.mean,
        std: s.std,
    };
    DataQuality {
        dataset: report.dataset.clone(),
        lake_version: Some(version),
        ingest_id: report.ingest_id.clone(),
        source: Some(SourceRef {
            path: report.source.path.clone(),
        }),
        rows_read: report.rows_read,
        rows_written: report.rows_written,
        rows_quarantined: report.rows_quarantined,
        quarantined_by_reason: report.quarantined_by_reason.clone(),
        duplicates_removed: report.duplicates_removed,
        columns: report
            .columns
            .iter()
            .map(|c| ColumnQuality {
                name: c.name.clone(),
                kind: c.kind.name().to_owned(),
                before: stats(&c.before),
                after: stats(&c.after),
                actions: serde_json::to_value(&c.actions).unwrap_or_default(),
            })
            .collect(),
        constant_columns: report.constant_columns.clone(),
        empty_columns: report.empty_columns.clone(),
    }
}
