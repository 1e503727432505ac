//! Digital-twin use cases: simulate and compare maintenance policies, optimise a policy parameter, emit
//! AI4I-style records (into a file or the lake), write the example line.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use millwright_data::arrow::array::Float64Array;
use millwright_data::ingest::IngestOutcome;
use millwright_data::lake::{Lake, WriteMode};
use millwright_twin::{
    emit_records, grid, parse_duration, policy_from_name, store_result, EmitOptions, EmitSummary,
    FailureScorer, Knob, LakeColumn, Line, Objective, Optimization, PhysicsScorer, Policy,
    PolicyParams, RunOptions, TwinResult, EXAMPLE_LINE,
};
use serde::Serialize;

use crate::data::{ingest, IngestRequest};
use crate::error::{blocking, io, AppError, Context, Result};
use crate::{Home, Observer};

/// Writes the documented example line (a 5-station milling line) to `file`.
pub fn init(file: &Path, force: bool) -> Result<PathBuf> {
    if file.exists() && !force {
        return Err(AppError::FileExists {
            path: file.to_owned(),
        });
    }
    std::fs::write(file, EXAMPLE_LINE).map_err(io("cannot write", file))?;
    Ok(file.to_owned())
}

/// Options of every simulation. Durations are text (`30d`, `8h`, `180min`, or a number of the line's
/// base units), read in the line's own time unit.
#[derive(Debug, Clone)]
pub struct SimRequest {
    pub line: PathBuf,
    pub replications: usize,
    pub horizon: Option<String>,
    pub warmup: Option<String>,
    pub seed: u64,
    pub threads: Option<usize>,
    /// Preventive maintenance after this long since the last repair or maintenance.
    pub interval: Option<String>,
    /// Preventive maintenance at this much tool wear (minutes; AI4I stations).
    pub wear_limit: Option<f64>,
    /// The predictive policy's failure model: `NAME@VERSION`, `NAME@latest`, or `rules` (the AI4I rules).
    pub model: Option<String>,
    /// `None`: the model's registered threshold (0.5 for `rules`).
    pub threshold: Option<f64>,
}

impl SimRequest {
    pub fn new(line: impl Into<PathBuf>) -> SimRequest {
        SimRequest {
            line: line.into(),
            replications: 30,
            horizon: None,
            warmup: None,
            seed: 1,
            threads: None,
            interval: None,
            wear_limit: None,
            model: None,
            threshold: None,
        }
    }
}

/// A stored twin run: the result and its folder.
#[derive(Debug, Clone)]
pub struct StoredRun {
    pub result: TwinResult,
    pub dir: PathBuf,
}

/// Reads a line file; empirical distributions that name a lake column get that column's values.
pub async fn load_line(home: &Home, path: &Path) -> Result<Line> {
    let text = std::fs::read_to_string(path).map_err(io("cannot read the line file", path))?;
    line_from_text(home, &text, path).await
}

/// Reads a line from its text (`path` names it in errors), lake columns filled from the home's lake.
async fn line_from_text(home: &Home, text: &str, path: &Path) -> Result<Line> {
    let file = Line::parse_file(text, path)?;
    let mut columns = HashMap::new();
    for col in file.lake_columns() {
        let values = lake_column(home, &col)
            .await
            .with_context(|| format!("{}: empirical distribution from {col}", path.display()))?;
        columns.insert(col, values);
    }
    Ok(Line::build(file, text, path, &columns)?)
}

/// The non-null values of a numeric lake column.
async fn lake_column(home: &Home, col: &LakeColumn) -> Result<Vec<f64>> {
    millwright_data::names::validate_dataset_name(&col.dataset)?;
    let lake = Lake::open(home.root())?;
    let version = col
        .version
        .map(|v| format!(" VERSION AS OF {v}"))
        .unwrap_or_default();
    let quoted = col.column.replace('"', "\"\"");
    let sql = format!(
        "SELECT CAST(\"{quoted}\" AS DOUBLE) AS v FROM \"{}\"{version} WHERE \"{quoted}\" IS NOT NULL",
        col.dataset
    );
    let batches = millwright_data::sql::query(&lake, &sql)
        .await?
        .collect()
        .await
        .map_err(crate::sql::datafusion("reading the column"))?;
    let mut values = Vec::new();
    for batch in &batches {
        let array = batch
            .column(0)
            .as_any()
            .downcast_ref::<Float64Array>()
            .ok_or_else(|| AppError::invalid("the column is not numeric"))?;
        values.extend(array.iter().flatten());
    }
    if values.is_empty() {
        return Err(AppError::invalid("the column has no values"));
    }
    Ok(values)
}

fn duration(line: &Line, text: &Option<String>, what: &str) -> Result<Option<f64>> {
    text.as_deref()
        .map(|t| parse_duration(t, line.time_unit()).with_context(|| format!("the {what}")))
        .transpose()
}

/// The predictive policy's failure model: a registered model, or the AI4I rules themselves.
pub(crate) fn scorer(home: &Home, spec: &str) -> Result<Arc<dyn FailureScorer>> {
    if spec == "rules" {
        return Ok(Arc::new(PhysicsScorer::default()));
    }
    crate::scoring::load_scorer(home.root(), spec)
        .with_context(|| format!("cannot use model {spec:?} for the predictive policy"))
}

fn params(home: &Home, line: &Line, sim: &SimRequest) -> Result<PolicyParams> {
    Ok(PolicyParams {
        interval: duration(line, &sim.interval, "interval")?,
        wear_limit: sim.wear_limit,
        threshold: sim.threshold,
        scorer: sim.model.as_deref().map(|m| scorer(home, m)).transpose()?,
        recall_scale: None,
    })
}

fn run_options(line: &Line, sim: &SimRequest, observer: &Observer) -> Result<RunOptions> {
    Ok(RunOptions {
        replications: sim.replications,
        horizon: duration(line, &sim.horizon, "horizon")?,
        warmup: duration(line, &sim.warmup, "warm-up")?,
        seed: sim.seed,
        threads: sim.threads,
        progress: observer.progress(),
        bins: 100,
    })
}

/// Simulates the named policies with common random numbers and stores the run under `<home>/twin/`.
pub async fn compare(
    home: &Home,
    sim: &SimRequest,
    policies: &[String],
    observer: &Observer,
) -> Result<StoredRun> {
    let line = load_line(home, &sim.line).await?;
    let p = params(home, &line, sim)?;
    let policies = policies
        .iter()
        .map(|n| policy_from_name(n.trim(), &p, &line))
        .collect::<Result<Vec<_>, _>>()?;
    let options = run_options(&line, sim, observer)?;
    let root = home.root().to_owned();
    blocking(move || {
        let result = millwright_twin::compare(&line, &policies, &options)?;
        let dir = store_result(&root, &line, &result)?;
        Ok(StoredRun { result, dir })
    })
    .await
}

/// Search one parameter of a policy for the best objective.
#[derive(Debug, Clone)]
pub struct OptimizeRequest {
    pub sim: SimRequest,
    /// `preventive`, `predictive` or `predictive+preventive`.
    pub policy: String,
    /// `interval`, `wear-limit` or `threshold`; `None`: threshold for predictive policies, else interval.
    pub parameter: Option<String>,
    /// Values to try (durations for the interval); empty: `range`, else a default grid.
    pub values: Vec<String>,
    /// `LO:HI:N`: N evenly spaced values.
    pub range: Option<String>,
    /// `cost-per-good-part` (minimised) or `throughput` (maximised).
    pub objective: String,
}

#[derive(Debug, Clone)]
pub struct Optimized {
    pub run: StoredRun,
    pub optimization: Optimization,
}

fn knob(req: &OptimizeRequest) -> Result<Knob> {
    Ok(match &req.parameter {
        Some(k) => Knob::parse(k)?,
        None if req.policy.starts_with("predictive") => Knob::Threshold,
        None => Knob::Interval,
    })
}

/// The base policy without a value for the searched parameter.
fn base_policy(
    req: &OptimizeRequest,
    knob: Knob,
    mut p: PolicyParams,
    line: &Line,
) -> Result<Policy> {
    // The searched parameter needs no value of its own to build the base policy.
    match knob {
        Knob::Interval if p.interval.is_none() && p.wear_limit.is_none() => p.interval = Some(1.0),
        Knob::WearLimit if p.interval.is_none() && p.wear_limit.is_none() => {
            p.wear_limit = Some(1.0);
        }
        _ => {}
    }
    let mut base = policy_from_name(&req.policy, &p, line)?;
    match knob {
        Knob::Interval if req.sim.interval.is_none() => base.interval = None,
        Knob::WearLimit if req.sim.wear_limit.is_none() => base.wear_limit = None,
        _ => {}
    }
    Ok(base)
}

fn search_values(
    req: &OptimizeRequest,
    knob: Knob,
    line: &Line,
    options: &RunOptions,
) -> Result<Vec<f64>> {
    let value = |t: &str, what: &str| -> Result<f64> {
        match knob {
            Knob::Interval => Ok(parse_duration(t, line.time_unit())?),
            _ => t
                .trim()
                .parse()
                .map_err(|_| AppError::invalid(format!("{what}: {t:?} is not a number"))),
        }
    };
    if let Some(range) = &req.range {
        let parts: Vec<&str> = range.split(':').collect();
        let [lo, hi, n] = parts[..] else {
            return Err(AppError::invalid(format!(
                "the range takes LO:HI:N, got {range:?}"
            )));
        };
        let n: usize = n
            .parse()
            .map_err(|_| AppError::invalid(format!("the range: {n:?} is not a count")))?;
        return Ok(grid(value(lo, "the range")?, value(hi, "the range")?, n)?);
    }
    if !req.values.is_empty() {
        return req.values.iter().map(|t| value(t, "the values")).collect();
    }
    Ok(match knob {
        Knob::Threshold => grid(0.05, 0.95, 10)?,
        Knob::WearLimit => grid(20.0, 240.0, 12)?,
        Knob::Interval => {
            let h = options.horizon.or(line.horizon).unwrap_or(1.0);
            grid(h / 400.0, h / 20.0, 10)?
        }
    })
}

pub async fn optimize(
    home: &Home,
    req: &OptimizeRequest,
    observer: &Observer,
) -> Result<Optimized> {
    let line = load_line(home, &req.sim.line).await?;
    let knob = knob(req)?;
    let base = base_policy(req, knob, params(home, &line, &req.sim)?, &line)?;
    let objective = Objective::parse(&req.objective)?;
    let options = run_options(&line, &req.sim, observer)?;
    let values = search_values(req, knob, &line, &options)?;
    let root = home.root().to_owned();
    blocking(move || {
        let (result, optimization) =
            millwright_twin::optimize(&line, &base, knob, &values, objective, &options)?;
        let dir = store_result(&root, &line, &result)?;
        Ok(Optimized {
            run: StoredRun { result, dir },
            optimization,
        })
    })
    .await
}

/// AI4I-style records from a line's physics, into a CSV file, a lake dataset or both.
#[derive(Debug, Clone)]
pub struct EmitRequest {
    pub line: PathBuf,
    pub rows: u64,
    pub seed: u64,
    pub out: Option<PathBuf>,
    pub dataset: Option<String>,
    /// How the records join the dataset (`create` by default).
    pub mode: WriteMode,
}

#[derive(Debug, Clone, Serialize)]
pub struct Emitted {
    pub summary: EmitSummary,
    pub out: Option<PathBuf>,
    pub dataset: Option<String>,
    pub version: Option<i64>,
}

/// Emits records of `line` to a CSV file at `path`; a failed emission leaves no file.
pub(crate) async fn emit_csv(
    line: Line,
    options: EmitOptions,
    path: PathBuf,
) -> Result<EmitSummary> {
    blocking(move || {
        let file = std::fs::File::create(&path).map_err(io("cannot create", &path))?;
        let written = emit_records(&line, &options, std::io::BufWriter::new(file));
        if written.is_err() {
            let _ = std::fs::remove_file(&path);
        }
        Ok(written?)
    })
    .await
}

pub async fn emit(home: &Home, req: &EmitRequest, observer: &Observer) -> Result<Emitted> {
    if req.out.is_none() && req.dataset.is_none() {
        return Err(AppError::invalid(
            "say where the records go: a CSV file, a dataset or both",
        ));
    }
    let line = load_line(home, &req.line).await?;
    // Written beside the target (or in the home's scratch folder) and renamed: no half-written CSV.
    let staging = match &req.out {
        Some(out) => out.with_extension("csv.partial"),
        // Pid and a per-process count: two emissions at once (a server's jobs) never share a file.
        None => {
            static EMITS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
            let n = EMITS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            home.tmp_dir()?
                .join(format!("twin-emit-{}-{n}.csv", std::process::id()))
        }
    };
    let mut options = EmitOptions::new(req.rows, req.seed);
    options.progress = observer.progress();
    let summary = emit_csv(line, options, staging.clone()).await?;
    let ingested = match &req.dataset {
        Some(dataset) => Some(ingest_staged(home, &staging, dataset, req, observer).await?),
        None => None,
    };
    if let Some(out) = &req.out {
        std::fs::rename(&staging, out).map_err(io("cannot write", out))?;
    }
    Ok(Emitted {
        summary,
        out: req.out.clone(),
        dataset: ingested.as_ref().map(|o| o.dataset.clone()),
        version: ingested.as_ref().map(|o| o.version),
    })
}

async fn ingest_staged(
    home: &Home,
    staging: &Path,
    dataset: &str,
    req: &EmitRequest,
    observer: &Observer,
) -> Result<IngestOutcome> {
    let request = IngestRequest {
        key: Vec::new(),
        more: Vec::new(),
        file: staging.to_owned(),
        dataset: dataset.to_owned(),
        mode: req.mode,
        clean: None,
    };
    let outcome = ingest(home, &request, observer).await;
    if req.out.is_none() || outcome.is_err() {
        let _ = std::fs::remove_file(staging);
    }
    outcome.with_context(|| format!("ingest of emitted records into {dataset:?} failed"))
}

/// A stored twin run's result, read through the twin's own type.
pub fn load_result(home: &Home, run_id: &str) -> Result<TwinResult> {
    Ok(millwright_twin::load_result(home.root(), run_id)?)
}

/// The charts stored with a twin run, by name.
pub fn plots(home: &Home, run_id: &str) -> Result<Vec<millwright_twin::PlotFile>> {
    Ok(millwright_twin::list_plots(home.root(), run_id)?)
}

/// One chart of a twin run: its bytes and media type (`image/svg+xml`, `image/png`).
pub fn plot(home: &Home, run_id: &str, file: &str) -> Result<(Vec<u8>, &'static str)> {
    let (path, media_type) = millwright_twin::plot_path(home.root(), run_id, file)?;
    let bytes = std::fs::read(&path).map_err(|source| millwright_twin::TwinError::Io {
        path: path.clone(),
        source,
    })?;
    Ok((bytes, media_type))
}

/// A line file found in the home.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LineFileEntry {
    /// The file's name, relative to the home (what a run request names).
    pub file: String,
    /// The line's `name`.
    pub name: String,
    pub stations: usize,
}

/// The line files at the top of the home: the `.toml` files that read as a line (others, such as a
/// cleaning config, are left out), by file name.
pub fn line_files(home: &Home) -> Result<Vec<LineFileEntry>> {
    let root = home.root();
    let entries = match std::fs::read_dir(root) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io("cannot list", root)(e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let path = entry.map_err(io("cannot list", root))?.path();
        if path.extension().and_then(|e| e.to_str()) != Some("toml") || !path.is_file() {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        if let Ok(file) = Line::parse_file(&text, &path) {
            out.push(LineFileEntry {
                file: path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default(),
                name: file.name,
                stations: file.stations.len(),
            });
        }
    }
    out.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(out)
}

/// The path of line file `file` at the top of the home: a plain `.toml` name, no folder, no `..`.
pub fn line_file_path(home: &Home, file: &str) -> Result<PathBuf> {
    let plain = !file.is_empty()
        && file.len() <= 128
        && !file.starts_with('.')
        && file.ends_with(".toml")
        && file.len() > ".toml".len()
        && file
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !file.contains("..");
    if !plain {
        return Err(AppError::invalid(format!(
            "{file:?} is not a line file name: letters, digits, `-`, `_` and `.`, ending in `.toml`, \
             with no folder and no `..`"
        )));
    }
    Ok(home.root().join(file))
}

/// The text of line file `file` at the top of the home.
pub fn read_line_file(home: &Home, file: &str) -> Result<String> {
    let path = line_file_path(home, file)?;
    std::fs::read_to_string(&path).map_err(io("cannot read the line file", &path))
}

/// Checks a line file's text as a run would read it (TOML, fields, values, lake columns); `file` names
/// it in errors. The error is the twin's own ([`millwright_twin::TwinError::position`] says where).
pub async fn check_line_text(home: &Home, file: &str, text: &str) -> Result<LineFileEntry> {
    let line = line_from_text(home, text, Path::new(file)).await?;
    Ok(LineFileEntry {
        file: file.to_owned(),
        name: line.file.name.clone(),
        stations: line.stations.len(),
    })
}

/// Writes line file `file` at the top of the home once its text checks out: to a temporary file beside
/// it, then renamed over it (a reader sees the old file or the new one, never half of one). A `.toml`
/// file there that is not a line (a cleaning configuration, say) is not replaced.
pub async fn save_line_file(home: &Home, file: &str, text: &str) -> Result<LineFileEntry> {
    let path = line_file_path(home, file)?;
    let entry = check_line_text(home, file, text).await?;
    if let Ok(old) = std::fs::read_to_string(&path) {
        let other_toml =
            old.parse::<toml::Table>().is_ok() && Line::parse_file(&old, &path).is_err();
        if other_toml {
            return Err(AppError::invalid(format!(
                "{file} is a TOML file that is not a line file; it is left as it is (save under another name)"
            )));
        }
    }
    static SAVES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = SAVES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let staging = home
        .root()
        .join(format!(".{file}.saving-{}-{n}", std::process::id()));
    let written = std::fs::write(&staging, text)
        .map_err(io("cannot write", &staging))
        .and_then(|()| std::fs::rename(&staging, &path).map_err(io("cannot replace", &path)));
    if written.is_err() {
        let _ = std::fs::remove_file(&staging);
    }
    written.map(|()| entry)
}

/// Deletes a stored twin run (its result, line file, models and plots) for good. A report built from it
/// is a separate resource and stays.
pub fn delete_run(home: &Home, run_id: &str) -> Result<()> {
    Ok(millwright_twin::store::delete_result(home.root(), run_id)?)
}

/// Every stored twin run, newest first.
pub fn runs(home: &Home) -> Result<Vec<millwright_twin::RunSummary>> {
    Ok(millwright_twin::list_results(home.root())?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use millwright_twin::{OptimizationWarning, Threshold, ThresholdSource};

    fn request(home: &Home, threshold: Option<f64>) -> SimRequest {
        let line = home.root().join("line.toml");
        if !line.exists() {
            init(&line, false).unwrap();
        }
        let mut sim = SimRequest::new(line);
        sim.replications = 1;
        sim.horizon = Some("1d".into());
        sim.warmup = Some("0".into());
        sim.model = Some("failure@latest".into());
        sim.threshold = threshold;
        sim
    }

    async fn predictive(home: &Home, threshold: Option<f64>) -> StoredRun {
        let policies = ["predictive".to_owned()];
        compare(
            home,
            &request(home, threshold),
            &policies,
            &Observer::silent(),
        )
        .await
        .unwrap()
    }

    #[tokio::test]
    async fn the_predictive_policy_uses_the_models_threshold_unless_given() {
        let dir = crate::scoring::tests::trained_home();
        let home = Home::new(dir.path());
        let registered = millwright_learn::registry::Model::load(home.root(), "failure@latest")
            .unwrap()
            .threshold();
        let run = predictive(&home, None).await;
        let p = &run.result.policies[0];
        let own = Threshold {
            value: registered,
            source: ThresholdSource::Model,
        };
        assert_eq!(p.threshold, Some(own));
        assert!(
            p.description.contains("the model's registered threshold"),
            "{}",
            p.description
        );
        let given = predictive(&home, Some(0.3)).await.result.policies[0].threshold;
        let expected = Threshold {
            value: 0.3,
            source: ThresholdSource::Given,
        };
        assert_eq!(given, Some(expected));
        // The stored result says the same.
        let stored = load_result(&home, &run.result.run_id).unwrap();
        assert_eq!(stored.policies[0].threshold, Some(own));
    }

    #[tokio::test]
    async fn a_result_stored_before_thresholds_were_recorded_still_loads() {
        let dir = crate::scoring::tests::trained_home();
        let home = Home::new(dir.path());
        let run = predictive(&home, None).await;
        let path = run.dir.join(millwright_twin::store::RESULT_FILE);
        let mut json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for p in json["policies"].as_array_mut().unwrap() {
            assert!(p.as_object_mut().unwrap().remove("threshold").is_some());
        }
        std::fs::write(&path, serde_json::to_string(&json).unwrap()).unwrap();
        let old = load_result(&home, &run.result.run_id).unwrap();
        assert_eq!(old.policies[0].threshold, None);
        assert_eq!(old.policies[0].kpis, run.result.policies[0].kpis);
    }

    #[tokio::test]
    async fn a_threshold_search_records_searched_values_and_edge_warnings() {
        let dir = crate::scoring::tests::trained_home();
        let home = Home::new(dir.path());
        let req = OptimizeRequest {
            sim: request(&home, None),
            policy: "predictive".into(),
            parameter: None,
            values: vec!["0.2".into(), "0.5".into(), "0.8".into()],
            range: None,
            objective: "cost-per-good-part".into(),
        };
        let done = optimize(&home, &req, &Observer::silent()).await.unwrap();
        let searched = done.run.result.policies[1].threshold.unwrap();
        assert_eq!(
            (searched.value, searched.source),
            (0.5, ThresholdSource::Searched)
        );
        let opt = &done.optimization;
        let on_edge = opt.best.value != 0.5;
        let edge_warned = opt
            .warnings
            .iter()
            .any(|w| matches!(w, OptimizationWarning::BestOnEdge { .. }));
        assert_eq!(edge_warned, on_edge, "{:?}", opt.warnings);
        let json = serde_json::to_value(&done.run.result).unwrap();
        assert!(json["optimization"]["warnings"].is_array());
    }

    #[tokio::test]
    async fn line_files_are_saved_whole_and_only_when_they_check_out() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path());
        for bad in [
            "../x.toml",
            "a/b.toml",
            ".hidden.toml",
            "x.txt",
            ".toml",
            "a..b.toml",
            "",
        ] {
            assert!(line_file_path(&home, bad).is_err(), "{bad:?} was taken");
        }
        let err = save_line_file(&home, "l.toml", "name = ")
            .await
            .unwrap_err();
        assert!(
            matches!(
                err.root(),
                AppError::Twin(millwright_twin::TwinError::Syntax { .. })
            ),
            "{err:?}"
        );
        assert!(!home.root().join("l.toml").exists());
        let saved = save_line_file(&home, "l.toml", EXAMPLE_LINE).await.unwrap();
        assert_eq!((saved.file.as_str(), saved.stations), ("l.toml", 5));
        assert_eq!(read_line_file(&home, "l.toml").unwrap(), EXAMPLE_LINE);
        assert_eq!(line_files(&home).unwrap().len(), 1);
        // Nothing is left of the staging file.
        let names: Vec<_> = std::fs::read_dir(home.root())
            .unwrap()
            .flatten()
            .map(|e| e.file_name())
            .collect();
        assert_eq!(names.len(), 1, "{names:?}");
        // A TOML file that is not a line is not replaced.
        let other = home.root().join("clean.toml");
        std::fs::write(&other, "[rules]\nx = 1\n").unwrap();
        assert!(save_line_file(&home, "clean.toml", EXAMPLE_LINE)
            .await
            .is_err());
        assert!(std::fs::read_to_string(&other).unwrap().contains("[rules]"));
    }

    struct Stopped;

    impl crate::EventSink for Stopped {
        fn event(&self, _event: crate::Event) {}
        fn cancelled(&self) -> bool {
            true
        }
    }

    #[tokio::test]
    async fn a_cancelled_comparison_stores_no_run() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path());
        let mut sim = request(&home, None);
        sim.model = None;
        let policies = ["preventive".to_owned(), "run-to-failure".to_owned()];
        let observer = Observer::new(std::sync::Arc::new(Stopped));
        let err = compare(&home, &sim, &policies, &observer)
            .await
            .expect_err("a cancelled comparison succeeded");
        assert!(
            matches!(
                err.root(),
                AppError::Twin(millwright_twin::TwinError::Cancelled)
            ),
            "{err:?}"
        );
        assert!(runs(&home).unwrap().is_empty());
    }
}
