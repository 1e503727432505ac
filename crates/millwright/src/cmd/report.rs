//! `report <twin-run-id>`: gathers what the earlier stages stored about one twin run — the run's KPIs and
//! plots, the registered model its AI policy used, the quality report of the dataset that model was trained
//! on — measures the impact, and has millwright-report write `report.html` and `summary.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::Args;
use millwright_data::lake::Lake;
use millwright_impact::{format_number, Estimate, TwinComparison};
use millwright_report::{
    Candidate, Curve, DataQuality, ImageRef, LineageEntry, ModelSummary, PolicyKpis, ReportFiles,
    ReportInput, Summary, ThresholdPoint, ThresholdSearch, TwinSummary,
};
use serde::Deserialize;

use crate::cmd::impact::{measure, ComparisonArgs, GivenArgs};
use crate::output::print_json;
use crate::Global;

/// P0 and V0 when none is given: an index of 100, so P1 reads as a percentage of today.
pub const DEFAULT_P0: f64 = 100.0;
pub const DEFAULT_V0: f64 = 100.0;

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The twin run comparing a baseline and an AI policy (`<home>/twin/<run-id>/`).
    pub run_id: String,
    /// Output folder (default `<home>/reports/<run-id>`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// A twin optimisation run of the predictive threshold, shown as the optimised threshold.
    #[arg(long, value_name = "TWIN_RUN_ID")]
    pub threshold_run: Option<String>,
    /// Productivity before AI (default 100, an index).
    #[arg(long, allow_negative_numbers = true, default_value_t = DEFAULT_P0)]
    pub p0: f64,
    /// Value before AI (default 100, an index).
    #[arg(long, allow_negative_numbers = true, default_value_t = DEFAULT_V0)]
    pub v0: f64,
    #[command(flatten)]
    pub given: GivenArgs,
    #[command(flatten)]
    pub comparison: ComparisonArgs,
}

/// Everything a report needs besides the twin run itself.
pub struct ReportRequest<'a> {
    pub home: &'a Path,
    pub run_id: &'a str,
    pub threshold_run: Option<&'a str>,
    pub p0: f64,
    pub v0: f64,
    pub given: &'a GivenArgs,
    pub comparison: TwinComparison,
    pub title: String,
    /// Models compared before one was registered (the demo trains several).
    pub candidates: Vec<Candidate>,
    /// Curves drawn from data the caller holds (ROC and precision-recall of the test split).
    pub curves: Vec<Curve>,
    pub notes: Vec<LineageEntry>,
}

pub fn report(global: &Global, args: ReportArgs) -> Result<()> {
    let request = ReportRequest {
        home: &global.home,
        run_id: &args.run_id,
        threshold_run: args.threshold_run.as_deref(),
        p0: args.p0,
        v0: args.v0,
        given: &args.given,
        comparison: args.comparison.comparison(),
        title: format!("Millwright report — twin run {}", args.run_id),
        candidates: Vec::new(),
        curves: Vec::new(),
        notes: Vec::new(),
    };
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| global.home.join("reports").join(&args.run_id));
    let (files, summary) = build(&request, &out)?;
    if global.json {
        return print_json(&serde_json::json!({
            "html": files.html,
            "summary": files.summary,
            "headline": summary.headline,
        }));
    }
    print!("{}", headline_text(&summary));
    println!("report: {}", files.html.display());
    println!("summary: {}", files.summary.display());
    Ok(())
}

/// The figures a manager reads first, one per line.
pub fn headline_text(summary: &Summary) -> String {
    let mut out = String::new();
    for h in &summary.headline {
        let e = h.value;
        let interval = if e.ci_low == e.ci_high {
            String::new()
        } else {
            format!(
                " (95 % CI {:+.1} % … {:+.1} %)",
                e.ci_low * 100.0,
                e.ci_high * 100.0
            )
        };
        out.push_str(&format!(
            "{}: {:+.1} %{interval} — {}\n",
            h.label,
            e.mean * 100.0,
            h.detail
        ));
    }
    out
}

/// Gathers the inputs and writes the report into `out`.
pub fn build(request: &ReportRequest, out: &Path) -> Result<(ReportFiles, Summary)> {
    let input = gather(request)?;
    millwright_report::build(input, out).context("writing the report")
}

// The stored twin result, the fields the report shows (`<home>/twin/<run>/result.json`).
#[derive(Debug, Deserialize)]
struct StoredTwin {
    run_id: String,
    seed: Option<u64>,
    replications: usize,
    horizon: f64,
    time_unit: String,
    line: StoredLine,
    policies: Vec<StoredPolicy>,
    #[serde(default)]
    optimization: Option<StoredOptimization>,
}

#[derive(Debug, Deserialize)]
struct StoredLine {
    name: String,
}

#[derive(Debug, Deserialize)]
struct StoredPolicy {
    policy: String,
    #[serde(default)]
    model: Option<millwright_core::ModelRef>,
    #[serde(default)]
    model_description: Option<String>,
    kpis: BTreeMap<String, StoredSummary>,
}

#[derive(Debug, Deserialize)]
struct StoredSummary {
    mean: Option<f64>,
    ci_low: Option<f64>,
    ci_high: Option<f64>,
}

#[derive(Debug, Deserialize)]
struct StoredOptimization {
    parameter: String,
    objective: String,
    points: Vec<StoredPoint>,
    best: StoredPoint,
}

#[derive(Debug, Deserialize)]
struct StoredPoint {
    value: f64,
    mean: f64,
    ci_low: f64,
    ci_high: f64,
}

// A registered model's manifest (`<home>/models/<name>/<version>/manifest.json`), the fields shown.
#[derive(Debug, Deserialize)]
struct StoredManifest {
    name: String,
    version: u32,
    kind: serde_json::Value,
    target: String,
    threshold: f64,
    #[serde(default)]
    threshold_rule: serde_json::Value,
    metrics: serde_json::Value,
    lineage: StoredLineage,
}

#[derive(Debug, Deserialize)]
struct StoredLineage {
    dataset: String,
    lake_version: Option<i64>,
    run: Option<String>,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read {what} {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("malformed {what} {}", path.display()))
}

fn twin_dir(home: &Path, run_id: &str) -> Result<PathBuf> {
    // Validates the id (no separators, no `..`) the same way `impact --from-twin` does.
    let result = millwright_impact::twin_result_path(home, run_id)?;
    Ok(result
        .parent()
        .expect("result.json has a parent")
        .to_owned())
}

/// A value the data layer or learn side wrote as a JSON string or tagged object, as short text.
fn value_text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        serde_json::Value::Number(n) => n.as_f64().map(format_number).unwrap_or_default(),
        // A tagged rule such as {"rule": "min_cost", "missed": 10, ...}: the tag, then the other fields.
        serde_json::Value::Object(map) => {
            let tag = map.get("rule").map(value_text);
            let rest: Vec<String> = map
                .iter()
                .filter(|(k, _)| k.as_str() != "rule")
                .map(|(k, v)| format!("{k} {}", value_text(v)))
                .collect();
            match (tag, rest.is_empty()) {
                (Some(tag), true) => tag,
                (Some(tag), false) => format!("{tag} ({})", rest.join(", ")),
                (None, _) => rest.join(", "),
            }
        }
        other => other.to_string(),
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

fn estimate(s: &StoredSummary) -> Option<Estimate> {
    let mean = s.mean?;
    Some(Estimate {
        mean,
        ci_low: s.ci_low.unwrap_or(mean),
        ci_high: s.ci_high.unwrap_or(mean),
    })
}

fn gather(request: &ReportRequest) -> Result<ReportInput> {
    let home = request.home;
    let dir = twin_dir(home, request.run_id)?;
    let (model, mut assumptions) = request.given.resolve(Some(request.p0), Some(request.v0))?;
    // The report's own P0/V0 flags sit under the given figures of a model file only when not defaulted.
    assumptions.p0 = Some(millwright_impact::Given::new(request.p0, "--p0"));
    assumptions.v0 = Some(millwright_impact::Given::new(request.v0, "--v0"));
    let impact = measure(
        home,
        request.run_id,
        &model,
        &assumptions,
        &request.comparison,
    )?;
    let stored: StoredTwin = read_json(&dir.join("result.json"), "twin result")?;
    let ai = stored
        .policies
        .iter()
        .find(|p| p.policy == request.comparison.ai_policy);
    let ai_model = ai.and_then(|p| p.model.clone());
    let ai_description = ai.and_then(|p| p.model_description.clone());
    // A registered model by its reference, another scorer by its description.
    let model_spec = ai_model
        .as_ref()
        .map(ToString::to_string)
        .or_else(|| ai_description.clone());

    let mut unavailable = BTreeMap::new();
    let model_summary = match (&ai_model, &ai_description) {
        (Some(model), _) => {
            let path = home
                .join("models")
                .join(&model.name)
                .join(model.version.to_string())
                .join("manifest.json");
            if path.exists() {
                Some(model_summary(home, &path, request)?)
            } else {
                unavailable.insert(
                    "model".to_owned(),
                    format!(
                        "model {model} is not in this home's registry ({})",
                        path.display()
                    ),
                );
                None
            }
        }
        (None, Some(description)) => {
            unavailable.insert(
                "model".to_owned(),
                format!("the AI policy used `{description}`, not a registered model"),
            );
            None
        }
        (None, None) => {
            unavailable.insert(
                "model".to_owned(),
                format!(
                    "the AI policy `{}` used no failure model",
                    request.comparison.ai_policy
                ),
            );
            None
        }
    };

    let data_quality = match &model_summary {
        Some(m) => match quality(home, &m.dataset, m.lake_version)? {
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

    let threshold = match request.threshold_run {
        Some(run) => {
            let opt_dir = twin_dir(home, run)?;
            let opt: StoredTwin = read_json(&opt_dir.join("result.json"), "twin result")?;
            let search = opt.optimization.with_context(|| {
                format!("twin run `{run}` is not an optimisation run (its result has no `optimization`)")
            })?;
            Some(threshold_search(search))
        }
        None => stored.optimization.map(threshold_search),
    };
    if threshold.is_none() {
        unavailable.insert(
            "threshold".to_owned(),
            "no threshold optimisation run was given (`--threshold-run`)".to_owned(),
        );
    }

    let twin = TwinSummary {
        run_id: stored.run_id.clone(),
        seed: stored.seed,
        replications: stored.replications,
        horizon: stored.horizon,
        time_unit: stored.time_unit,
        line: stored.line.name,
        model: model_spec,
        baseline_policy: request.comparison.baseline_policy.clone(),
        ai_policy: request.comparison.ai_policy.clone(),
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
        images: png_files(&dir, &["kpis"], "twin: "),
    };
    let mut notes = request.notes.clone();
    notes.push(LineageEntry {
        figure: "P0 and V0".to_owned(),
        source: format!(
            "P0 = {} and V0 = {} (--p0/--v0; default 100, an index of today's level)",
            format_number(request.p0),
            format_number(request.v0)
        ),
    });
    Ok(ReportInput {
        title: request.title.clone(),
        generated_at: millwright_report::now_rfc3339(),
        millwright_version: env!("CARGO_PKG_VERSION").to_owned(),
        data_quality,
        model: model_summary,
        twin,
        impact,
        unavailable,
        notes,
    })
}

fn threshold_search(opt: StoredOptimization) -> ThresholdSearch {
    ThresholdSearch {
        best: opt.best.value,
        minimise: opt.objective != "throughput",
        objective: format!(
            "{} (searching {})",
            opt.objective.replace('-', "_"),
            opt.parameter
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

fn model_summary(home: &Path, path: &Path, request: &ReportRequest) -> Result<ModelSummary> {
    let manifest: StoredManifest = read_json(path, "model manifest")?;
    let metrics: BTreeMap<String, f64> = manifest
        .metrics
        .as_object()
        .map(|m| {
            m.iter()
                .filter(|(k, _)| k.as_str() != "rows" && k.as_str() != "threshold")
                .filter_map(|(k, v)| v.as_f64().map(|v| (k.clone(), v)))
                .collect()
        })
        .unwrap_or_default();
    let confusion_matrix: Option<[[u64; 2]; 2]> = manifest
        .metrics
        .get("confusion_matrix")
        .and_then(|v| serde_json::from_value(v.clone()).ok());
    let images = match &manifest.lineage.run {
        Some(run) => png_files(&home.join("runs").join(run), &[], "training: "),
        None => Vec::new(),
    };
    Ok(ModelSummary {
        name: manifest.name,
        version: manifest.version,
        kind: value_text(&manifest.kind),
        target: manifest.target,
        run_id: manifest.lineage.run,
        dataset: manifest.lineage.dataset,
        lake_version: manifest.lineage.lake_version,
        threshold: manifest.threshold,
        threshold_rule: value_text(&manifest.threshold_rule),
        metrics,
        confusion_matrix,
        curves: request.curves.clone(),
        images,
        candidates: request.candidates.clone(),
    })
}

/// The ingest quality report of `dataset` at `version`, or why there is none.
fn quality(
    home: &Path,
    dataset: &str,
    version: Option<i64>,
) -> Result<std::result::Result<DataQuality, String>> {
    let lake = Lake::open(home)?;
    if !lake.exists(dataset) {
        return Ok(Err(format!(
            "the model was trained on `{dataset}`, which is not a dataset of this home's lake"
        )));
    }
    let Some((version, record)) = lake.commit_record(dataset, version)? else {
        return Ok(Err(format!(
            "dataset `{dataset}` was not written by `millwright ingest`: no quality report"
        )));
    };
    let Some(report) = record.report else {
        return Ok(Err(format!(
            "dataset `{dataset}` version {version} has no quality report"
        )));
    };
    let mut quality: DataQuality = serde_json::from_value(serde_json::to_value(&report)?)
        .context("reading the data layer's quality report")?;
    quality.lake_version = Some(version);
    Ok(Ok(quality))
}
