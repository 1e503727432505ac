//! `millwright runs`: list, show and compare tracked training runs (`<home>/runs`).

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use millwright_learn::tracking::{
    RunComparison, RunFilter, RunRecord, RunStatus, RunStore, ScalarHistory, METRICS_FILE,
};
use serde::Serialize;

use crate::output::print_json;
use crate::Global;

#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct RunsArgs {
    #[command(subcommand)]
    pub command: Option<RunsCommand>,
    #[command(flatten)]
    pub list: ListArgs,
}

/// Filters and paging of the run list (newest first).
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Runs per page.
    #[arg(long, default_value_t = 20)]
    pub limit: u64,
    /// Runs to skip (for the next page: offset + limit).
    #[arg(long, default_value_t = 0)]
    pub offset: u64,
    /// Only runs with this status: running, finished or failed.
    #[arg(long, value_parser = parse_status)]
    pub status: Option<RunStatus>,
    /// Only runs of this model kind (mlp, gbdt, logistic, auto).
    #[arg(long)]
    pub model: Option<String>,
    /// Only runs with this name (the model name trained).
    #[arg(long)]
    pub name: Option<String>,
    /// Only runs on this dataset (lake name, or file names joined by '+').
    #[arg(long)]
    pub dataset: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// One run: params, dataset, code version, metrics, last epoch, artefacts and plots.
    Show {
        /// Run id, a unique prefix of it, or `latest`.
        run: String,
    },
    /// Two runs side by side: the params that differ and how the metrics moved (second − first).
    Compare {
        /// First run (id, unique prefix or `latest`).
        a: String,
        /// Second run.
        b: String,
    },
}

fn parse_status(text: &str) -> Result<RunStatus, String> {
    text.parse()
        .map_err(|e: millwright_learn::tracking::TrackingError| e.to_string())
}

pub fn runs(global: &Global, args: RunsArgs) -> Result<()> {
    let store = RunStore::open(&global.home)
        .with_context(|| format!("opening the run store of {}", global.home.display()))?;
    match args.command {
        None => list(global, &store, &args.list),
        Some(RunsCommand::Show { run }) => show(global, &store, &run),
        Some(RunsCommand::Compare { a, b }) => compare(global, &store, &a, &b),
    }
}

fn list(global: &Global, store: &RunStore, args: &ListArgs) -> Result<()> {
    let filter = RunFilter {
        status: args.status,
        model_kind: args.model.clone(),
        name: args.name.clone(),
        dataset: args.dataset.clone(),
    };
    let page = store.list(&filter, args.limit, args.offset)?;
    if global.json {
        return print_json(&serde_json::json!({
            "total": page.total,
            "offset": page.offset,
            "limit": args.limit,
            "runs": page.runs.iter().map(|record| Listed { interrupted: record.is_interrupted(), record }).collect::<Vec<_>>(),
        }));
    }
    if page.total == 0 {
        println!(
            "no runs in {} match (every `millwright train` records one)",
            store.root().display()
        );
        return Ok(());
    }
    println!(
        "{:<26} {:<16} {:<9} {:<8} {:<20} {:>9} {:>9} {:>9} dataset",
        "run", "name", "model", "status", "started (UTC)", "duration", "accuracy", "roc_auc"
    );
    for run in &page.runs {
        let metric = |k: &str| run.metric(k).map_or("-".to_string(), |v| format!("{v:.4}"));
        println!(
            "{:<26} {:<16} {:<9} {:<8} {:<20} {:>9} {:>9} {:>9} {}",
            run.id,
            run.spec.name,
            run.spec.model_kind,
            status_text(run),
            run.started_at.format("%Y-%m-%d %H:%M:%S"),
            run.duration_s
                .map_or("-".to_string(), |d| format!("{d:.1}s")),
            metric("accuracy"),
            metric("roc_auc"),
            run.spec.dataset.label(),
        );
    }
    let shown_to = page.offset + page.runs.len() as u64;
    println!("runs {}–{} of {}", page.offset + 1, shown_to, page.total);
    if shown_to < page.total {
        println!("next page: --offset {shown_to} --limit {}", args.limit);
    }
    Ok(())
}

/// A listed run as JSON: its record plus whether it is a dead "running" run.
#[derive(Serialize)]
struct Listed<'a> {
    #[serde(flatten)]
    record: &'a RunRecord,
    /// Status running, but the recording process is gone: the run will never finish.
    interrupted: bool,
}

fn status_text(run: &RunRecord) -> String {
    if run.is_interrupted() {
        "interrupted".to_string()
    } else {
        run.status.to_string()
    }
}

/// `runs show` as JSON: the record plus where its files are and its per-epoch history.
#[derive(Serialize)]
struct RunDetails<'a> {
    #[serde(flatten)]
    record: &'a RunRecord,
    /// Status running, but the recording process is gone.
    interrupted: bool,
    dir: PathBuf,
    /// Artefact paths made absolute.
    files: Vec<(String, PathBuf)>,
    /// TensorBoard event files of the run (`tensorboard --logdir <home>/runs`).
    event_files: Vec<PathBuf>,
    /// Last value of each per-epoch tag.
    last_epoch: serde_json::Map<String, serde_json::Value>,
    history: &'a ScalarHistory,
}

fn show(global: &Global, store: &RunStore, reference: &str) -> Result<()> {
    let record = store.get(reference)?;
    let dir = store.run_dir(&record.id);
    let history = ScalarHistory::read_jsonl(&dir.join(METRICS_FILE))?;
    let files: Vec<(String, PathBuf)> = record
        .artefacts
        .iter()
        .map(|a| (a.kind.clone(), absolute(&dir, &a.path)))
        .collect();
    let event_files = event_files(&dir)?;
    let last_epoch = history
        .tags()
        .into_iter()
        .filter_map(|tag| {
            let value = history.last(&tag)?;
            Some((
                tag,
                serde_json::Number::from_f64(value).map_or(serde_json::Value::Null, Into::into),
            ))
        })
        .collect();
    let details = RunDetails {
        interrupted: record.is_interrupted(),
        record: &record,
        dir,
        files,
        event_files,
        last_epoch,
        history: &history,
    };
    if global.json {
        return print_json(&details);
    }
    println!("run:          {}", record.id);
    println!("name:         {}", record.spec.name);
    println!("model kind:   {}", record.spec.model_kind);
    if details.interrupted {
        let pid = record.pid.map_or(String::new(), |p| p.to_string());
        println!(
            "status:       running, but its process ({pid} on {}) is gone: interrupted",
            record.host
        );
    } else {
        println!("status:       {}", record.status);
    }
    if let Some(error) = &record.error {
        println!("error:        {error}");
    }
    println!("started:      {}", record.started_at.to_rfc3339());
    if let Some(d) = record.duration_s {
        println!("duration:     {d:.2} s");
    }
    println!(
        "dataset:      {}",
        serde_json::to_string(&record.spec.dataset)?
    );
    println!("code version: {}", record.spec.code_version);
    println!(
        "seed:         {}",
        record.spec.seed.map_or("-".to_string(), |s| s.to_string())
    );
    println!("host:         {}", record.host);
    println!("folder:       {}", details.dir.display());
    println!("\nparams:");
    print_flat(&record.spec.params, "  ");
    println!("\nfinal metrics:");
    print_flat(&record.final_metrics, "  ");
    if !details.last_epoch.is_empty() {
        println!("\nlast epoch ({} logged):", record.steps_logged);
        for (tag, value) in &details.last_epoch {
            println!("  {tag:<20} {}", show_value(&Some(value.clone())));
        }
    }
    println!("\nartefacts:");
    for (kind, path) in &details.files {
        println!("  {kind:<8} {}", path.display());
    }
    for path in &details.event_files {
        println!("  {:<8} {}", "events", path.display());
    }
    Ok(())
}

fn compare(global: &Global, store: &RunStore, a: &str, b: &str) -> Result<()> {
    let ra = store.get(a)?;
    let rb = store.get(b)?;
    let history =
        |r: &RunRecord| ScalarHistory::read_jsonl(&store.run_dir(&r.id).join(METRICS_FILE));
    let cmp = RunComparison::new(&ra, &history(&ra)?, &rb, &history(&rb)?);
    if global.json {
        return print_json(&cmp);
    }
    println!(
        "A: {}  ({} {}, {})",
        ra.id, ra.spec.name, ra.spec.model_kind, ra.status
    );
    println!(
        "B: {}  ({} {}, {})",
        rb.id, rb.spec.name, rb.spec.model_kind, rb.status
    );
    let changed: Vec<_> = cmp.changed_params().collect();
    println!(
        "\nparams that differ ({} of {}):",
        changed.len(),
        cmp.params.len()
    );
    for d in changed {
        println!(
            "  {:<32} {:<24} → {}",
            d.key,
            show_value(&d.a),
            show_value(&d.b)
        );
    }
    for (title, diffs) in [
        ("final metrics", &cmp.metrics),
        ("last epoch", &cmp.last_epoch),
    ] {
        if diffs.is_empty() {
            continue;
        }
        println!("\n{title} (A → B, Δ = B − A):");
        // Text shows numbers only (lists and labels are in `--json`).
        let numeric =
            |v: &Option<serde_json::Value>| v.as_ref().is_some_and(serde_json::Value::is_number);
        for d in diffs.iter().filter(|d| numeric(&d.a) || numeric(&d.b)) {
            let delta = d.delta.map_or(String::new(), |x| {
                let sign = if x >= 0.0 { "+" } else { "" };
                format!("Δ {sign}{}", fmt_number(x))
            });
            println!(
                "  {:<32} {:<14} {:<14} {delta}",
                d.key,
                show_value(&d.a),
                show_value(&d.b)
            );
        }
    }
    Ok(())
}

fn show_value(v: &Option<serde_json::Value>) -> String {
    match v {
        None => "(absent)".to_string(),
        Some(serde_json::Value::Number(n)) => match n.as_f64() {
            Some(x) if n.is_f64() => fmt_number(x),
            _ => n.to_string(),
        },
        Some(serde_json::Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Four decimals for ordinary magnitudes; scientific notation where that would hide the value (ε = 1e-7).
fn fmt_number(x: f64) -> String {
    if x == 0.0 || (1e-3..1e6).contains(&x.abs()) {
        format!("{x:.4}")
    } else {
        format!("{x:.4e}")
    }
}

/// Prints a JSON object one `key: value` per line, nested keys joined with dots.
fn print_flat(value: &serde_json::Value, indent: &str) {
    fn walk(prefix: &str, v: &serde_json::Value, out: &mut Vec<(String, String)>) {
        match v {
            serde_json::Value::Object(map) if !map.is_empty() => {
                for (k, v) in map {
                    let key = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    walk(&key, v, out);
                }
            }
            other => out.push((prefix.to_string(), show_value(&Some(other.clone())))),
        }
    }
    let mut lines = Vec::new();
    walk("", value, &mut lines);
    if lines.iter().all(|(k, _)| k.is_empty()) {
        println!("{indent}(none)");
        return;
    }
    for (k, v) in lines {
        println!("{indent}{k:<32} {v}");
    }
}

fn absolute(dir: &Path, path: &Path) -> PathBuf {
    if path.is_absolute() {
        path.to_path_buf()
    } else {
        dir.join(path)
    }
}

fn event_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("listing {}", dir.display()))? {
        let entry = entry.with_context(|| format!("listing {}", dir.display()))?;
        if entry
            .file_name()
            .to_string_lossy()
            .starts_with("events.out.tfevents.")
        {
            files.push(entry.path());
        }
    }
    files.sort();
    Ok(files)
}
