//! `twin init|run|compare|optimize|emit`: the digital twin's commands (millwright-twin does the work).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use millwright_data::arrow::array::Float64Array;
use millwright_data::lake::Lake;
use millwright_twin::{
    compare, emit_records, grid, optimize, parse_duration, policy_from_name, store_result,
    EmitOptions, FailureScorer, Knob, LakeColumn, Line, Objective, PhysicsScorer, PolicyParams,
    RunOptions, TwinResult, EXAMPLE_LINE,
};

use crate::output::print_json;
use crate::Global;

#[derive(Debug, Args)]
pub struct TwinArgs {
    #[command(subcommand)]
    pub command: TwinCommand,
}

#[derive(Debug, Subcommand)]
pub enum TwinCommand {
    /// Write a documented example line (a 5-station milling line) to FILE.
    Init(InitArgs),
    /// Simulate one maintenance policy: KPIs with 95 % CIs, stored under <home>/twin/<run-id>/.
    Run(RunArgs),
    /// Simulate several policies with common random numbers and compare them.
    Compare(CompareArgs),
    /// Search the preventive interval, wear limit or predictive threshold for the best objective.
    Optimize(OptimizeArgs),
    /// Write AI4I-style sensor and failure records (CSV) from the line's physics, or ingest them.
    Emit(EmitArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    pub file: PathBuf,
    /// Overwrite FILE if it exists.
    #[arg(long)]
    pub force: bool,
}

/// Options of every simulation command.
#[derive(Debug, Args)]
pub struct SimArgs {
    /// The line file (TOML, see docs/line-model.md).
    pub line: PathBuf,
    /// Replications per policy.
    #[arg(long, default_value_t = 30)]
    pub replications: usize,
    /// Simulated time per replication: a number of base units or 30d, 8h, 180min... (default: the file's).
    #[arg(long)]
    pub horizon: Option<String>,
    /// Warm-up deleted from the statistics (default: the file's, else 0).
    #[arg(long)]
    pub warmup: Option<String>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Worker threads (default: all cores). Results do not depend on it.
    #[arg(long)]
    pub threads: Option<usize>,
    /// Preventive interval after the last repair or maintenance (e.g. 180min).
    #[arg(long)]
    pub interval: Option<String>,
    /// Preventive tool-wear limit, minutes of tool wear (AI4I stations).
    #[arg(long)]
    pub wear_limit: Option<f64>,
    /// Failure model for the predictive policy: NAME@VERSION from the registry (NAME@latest), or
    /// `rules` for the AI4I rules themselves (a perfect-knowledge reference).
    #[arg(long)]
    pub model: Option<String>,
    /// Predictive threshold: maintain when the failure probability reaches it.
    #[arg(long)]
    pub threshold: Option<f64>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub sim: SimArgs,
    /// run-to-failure, preventive, predictive or predictive+preventive.
    #[arg(long, default_value = "run-to-failure")]
    pub policy: String,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    #[command(flatten)]
    pub sim: SimArgs,
    /// Comma-separated policies.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "run-to-failure,preventive"
    )]
    pub policies: Vec<String>,
}

#[derive(Debug, Args)]
pub struct OptimizeArgs {
    #[command(flatten)]
    pub sim: SimArgs,
    /// preventive or predictive (or predictive+preventive).
    #[arg(long)]
    pub policy: String,
    /// The parameter searched: interval, wear-limit or threshold (default: interval for preventive,
    /// threshold for predictive).
    #[arg(long)]
    pub parameter: Option<String>,
    /// Values to try, comma-separated (durations for the interval).
    #[arg(long, value_delimiter = ',')]
    pub values: Vec<String>,
    /// Range LO:HI:N instead of --values (N evenly spaced points).
    #[arg(long)]
    pub range: Option<String>,
    /// cost-per-good-part (minimised) or throughput (maximised).
    #[arg(long, default_value = "cost-per-good-part")]
    pub objective: String,
}

#[derive(Debug, Args)]
pub struct EmitArgs {
    /// The line file; records come from its first station with [stations.ai4i].
    pub line: PathBuf,
    #[arg(long, default_value_t = 10_000)]
    pub rows: u64,
    /// CSV file to write.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Ingest the records into this lake dataset (created) instead of, or as well as, --out.
    #[arg(long)]
    pub dataset: Option<String>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub async fn twin(global: &Global, args: TwinArgs) -> Result<()> {
    match args.command {
        TwinCommand::Init(a) => init(global, a),
        TwinCommand::Run(a) => {
            let policies = vec![a.policy.clone()];
            simulate(global, &a.sim, &policies).await
        }
        TwinCommand::Compare(a) => simulate(global, &a.sim, &a.policies).await,
        TwinCommand::Optimize(a) => optimize_cmd(global, a).await,
        TwinCommand::Emit(a) => emit(global, a).await,
    }
}

fn init(global: &Global, a: InitArgs) -> Result<()> {
    if a.file.exists() && !a.force {
        bail!("{} exists; pass --force to overwrite it", a.file.display());
    }
    std::fs::write(&a.file, EXAMPLE_LINE)
        .with_context(|| format!("cannot write {}", a.file.display()))?;
    if global.json {
        return print_json(&serde_json::json!({ "written": a.file }));
    }
    println!(
        "wrote the example line to {} (reference: docs/line-model.md)",
        a.file.display()
    );
    Ok(())
}

/// Reads a line file; empirical distributions that name a lake column get that column's values.
async fn load_line(global: &Global, path: &Path) -> Result<Line> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read the line file {}", path.display()))?;
    let file = Line::parse_file(&text, path)?;
    let mut columns = HashMap::new();
    for col in file.lake_columns() {
        let values = lake_column(global, &col)
            .await
            .with_context(|| format!("{}: empirical distribution from {col}", path.display()))?;
        columns.insert(col, values);
    }
    Ok(Line::build(file, &text, path, &columns)?)
}

/// The non-null values of a numeric lake column.
async fn lake_column(global: &Global, col: &LakeColumn) -> Result<Vec<f64>> {
    if col.dataset.is_empty()
        || !col
            .dataset
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        bail!("dataset name {:?} is not a plain name", col.dataset);
    }
    let lake = Lake::open(&global.home)?;
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
        .context("reading the column")?;
    let mut values = Vec::new();
    for batch in &batches {
        let array = batch
            .column(0)
            .as_any()
            .downcast_ref::<Float64Array>()
            .context("the column is not numeric")?;
        values.extend(array.iter().flatten());
    }
    if values.is_empty() {
        bail!("the column has no values");
    }
    Ok(values)
}

fn duration(line: &Line, text: &Option<String>, what: &str) -> Result<Option<f64>> {
    text.as_deref()
        .map(|t| parse_duration(t, line.time_unit()).with_context(|| format!("--{what}")))
        .transpose()
}

fn scorer(global: &Global, spec: &str) -> Result<Arc<dyn FailureScorer>> {
    if spec == "rules" {
        return Ok(Arc::new(PhysicsScorer::default()));
    }
    load_registered_scorer(global, spec)
}

/// Registered models are adapted to the twin's scorer interface by the learn layer's adapter.
fn load_registered_scorer(global: &Global, spec: &str) -> Result<Arc<dyn FailureScorer>> {
    crate::scoring::load_scorer(&global.home, spec)
        .with_context(|| format!("cannot use model {spec:?} for the predictive policy"))
}

fn params(global: &Global, line: &Line, sim: &SimArgs) -> Result<PolicyParams> {
    Ok(PolicyParams {
        interval: duration(line, &sim.interval, "interval")?,
        wear_limit: sim.wear_limit,
        threshold: sim.threshold,
        scorer: sim
            .model
            .as_deref()
            .map(|m| scorer(global, m))
            .transpose()?,
    })
}

fn run_options(line: &Line, sim: &SimArgs) -> Result<RunOptions> {
    Ok(RunOptions {
        replications: sim.replications,
        horizon: duration(line, &sim.horizon, "horizon")?,
        warmup: duration(line, &sim.warmup, "warmup")?,
        seed: sim.seed,
        threads: sim.threads,
        progress: Default::default(),
        bins: 100,
    })
}

async fn simulate(global: &Global, sim: &SimArgs, names: &[String]) -> Result<()> {
    let line = load_line(global, &sim.line).await?;
    let p = params(global, &line, sim)?;
    let policies = names
        .iter()
        .map(|n| policy_from_name(n.trim(), &p, &line))
        .collect::<Result<Vec<_>, _>>()?;
    let options = run_options(&line, sim)?;
    let result = compare(&line, &policies, &options)?;
    let dir = store_result(&global.home, &line, &result)?;
    report(global, &result, &dir)
}

const SHOWN: &[&str] = &[
    "throughput",
    "oee",
    "availability",
    "performance",
    "quality",
    "scrap_rate",
    "cost_per_good_part",
    "unplanned_downtime",
    "failures",
    "maintenance_actions",
    "mtbf",
    "mttr",
    "wip",
];

fn report(global: &Global, result: &TwinResult, dir: &Path) -> Result<()> {
    if global.json {
        return print_json(result);
    }
    println!(
        "line {} · {} replications × {} {} (warm-up {}) · seed {}",
        result.line.name,
        result.replications,
        result.horizon,
        result.time_unit,
        result.warmup,
        result.seed
    );
    for p in &result.policies {
        println!("\n{}  — {}", p.policy, p.description);
        for k in SHOWN {
            let Some(s) = p.kpis.get(*k) else { continue };
            match (s.mean, s.ci_low, s.ci_high) {
                (Some(m), Some(lo), Some(hi)) => {
                    println!("  {k:<20} {m:>12.4}   95% CI [{lo:.4}, {hi:.4}]")
                }
                (Some(m), _, _) => println!("  {k:<20} {m:>12.4}"),
                _ => println!("  {k:<20} {:>12}", "—"),
            }
        }
    }
    println!("\nrun {} stored in {}", result.run_id, dir.display());
    Ok(())
}

async fn optimize_cmd(global: &Global, a: OptimizeArgs) -> Result<()> {
    let line = load_line(global, &a.sim.line).await?;
    let mut p = params(global, &line, &a.sim)?;
    let knob = match &a.parameter {
        Some(k) => Knob::parse(k)?,
        None if a.policy.starts_with("predictive") => Knob::Threshold,
        None => Knob::Interval,
    };
    // The searched parameter needs no value of its own to build the base policy.
    match knob {
        Knob::Interval if p.interval.is_none() && p.wear_limit.is_none() => p.interval = Some(1.0),
        Knob::WearLimit if p.interval.is_none() && p.wear_limit.is_none() => {
            p.wear_limit = Some(1.0)
        }
        _ => {}
    }
    let mut base = policy_from_name(&a.policy, &p, &line)?;
    match knob {
        Knob::Interval if a.sim.interval.is_none() => base.interval = None,
        Knob::WearLimit if a.sim.wear_limit.is_none() => base.wear_limit = None,
        _ => {}
    }
    let objective = Objective::parse(&a.objective)?;
    let options = run_options(&line, &a.sim)?;
    let values: Vec<f64> = if let Some(range) = &a.range {
        let parts: Vec<&str> = range.split(':').collect();
        if parts.len() != 3 {
            bail!("--range takes LO:HI:N, got {range:?}");
        }
        let value = |t: &str| -> Result<f64> {
            match knob {
                Knob::Interval => Ok(parse_duration(t, line.time_unit())?),
                _ => t
                    .parse()
                    .with_context(|| format!("--range: {t:?} is not a number")),
            }
        };
        let n: usize = parts[2]
            .parse()
            .with_context(|| format!("--range: {:?} is not a count", parts[2]))?;
        grid(value(parts[0])?, value(parts[1])?, n)?
    } else if !a.values.is_empty() {
        a.values
            .iter()
            .map(|t| match knob {
                Knob::Interval => Ok(parse_duration(t, line.time_unit())?),
                _ => t
                    .trim()
                    .parse()
                    .with_context(|| format!("--values: {t:?} is not a number")),
            })
            .collect::<Result<_>>()?
    } else {
        match knob {
            Knob::Threshold => grid(0.05, 0.95, 10)?,
            Knob::WearLimit => grid(20.0, 240.0, 12)?,
            Knob::Interval => {
                let h = options.horizon.or(line.horizon).unwrap_or(1.0);
                grid(h / 400.0, h / 20.0, 10)?
            }
        }
    };
    let (result, opt) = optimize(&line, &base, knob, &values, objective, &options)?;
    let dir = store_result(&global.home, &line, &result)?;
    if global.json {
        return print_json(&result);
    }
    println!("{} of {} by {}:", objective.kpi(), a.policy, knob.name());
    for pt in &opt.points {
        let mark = if pt.value == opt.best.value {
            "  ← best"
        } else {
            ""
        };
        println!(
            "  {:>12.4}  {:>12.4}   95% CI [{:.4}, {:.4}]{mark}",
            pt.value, pt.mean, pt.ci_low, pt.ci_high
        );
    }
    println!(
        "best {} = {} with {} {:.4} [{:.4}, {:.4}]; run {} stored in {} (optimization.png)",
        knob.name(),
        opt.best.value,
        objective.kpi(),
        opt.best.mean,
        opt.best.ci_low,
        opt.best.ci_high,
        result.run_id,
        dir.display()
    );
    Ok(())
}

async fn emit(global: &Global, a: EmitArgs) -> Result<()> {
    if a.out.is_none() && a.dataset.is_none() {
        bail!("give --out FILE.csv, --dataset NAME or both");
    }
    let line = load_line(global, &a.line).await?;
    // Written beside the target (or in the home folder) and renamed: no half-written CSV.
    let staging = match &a.out {
        Some(out) => out.with_extension("csv.partial"),
        None => {
            std::fs::create_dir_all(global.home.join("tmp"))?;
            global
                .home
                .join("tmp")
                .join(format!("twin-emit-{}.csv", std::process::id()))
        }
    };
    let file = std::fs::File::create(&staging)
        .with_context(|| format!("cannot create {}", staging.display()))?;
    let summary = match emit_records(&line, &EmitOptions::new(a.rows, a.seed), file) {
        Ok(s) => s,
        Err(e) => {
            let _ = std::fs::remove_file(&staging);
            return Err(e.into());
        }
    };
    let mut ingested = None;
    if let Some(dataset) = &a.dataset {
        let options = millwright_data::ingest::IngestOptions::new(
            dataset,
            millwright_data::lake::WriteMode::Create,
        );
        let outcome = millwright_data::ingest::ingest(&global.home, &staging, &options).await;
        if a.out.is_none() {
            let _ = std::fs::remove_file(&staging);
        }
        let outcome = match outcome {
            Ok(o) => o,
            Err(e) => {
                let _ = std::fs::remove_file(&staging);
                return Err(anyhow::Error::new(e)
                    .context(format!("ingest of emitted records into {dataset:?} failed")));
            }
        };
        ingested = Some(outcome);
    }
    if let Some(out) = &a.out {
        std::fs::rename(&staging, out)
            .with_context(|| format!("cannot write {}", out.display()))?;
    }
    if global.json {
        return print_json(&serde_json::json!({
            "summary": summary,
            "out": a.out,
            "dataset": ingested.as_ref().map(|o| &o.dataset),
            "version": ingested.as_ref().map(|o| o.version),
        }));
    }
    println!(
        "{} records from station {:?}: {} machine failures (TWF {}, HDF {}, PWF {}, OSF {}, RNF {})",
        summary.rows,
        summary.station,
        summary.machine_failures,
        summary.by_mode[0],
        summary.by_mode[1],
        summary.by_mode[2],
        summary.by_mode[3],
        summary.by_mode[4]
    );
    if let Some(out) = &a.out {
        println!("written to {}", out.display());
    }
    if let Some(o) = &ingested {
        println!("ingested into dataset {} version {}", o.dataset, o.version);
    }
    Ok(())
}
