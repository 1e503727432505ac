//! `twin init|run|compare|optimize|emit`: the digital twin's commands (millwright-twin does the work).

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};
use millwright_app::twin::{self, EmitRequest, OptimizeRequest, SimRequest};
use millwright_app::{impact, text};
use millwright_data::lake::WriteMode;

use crate::output::{observer, print_json};
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
    /// The stored twin runs, newest first: id, line, policies, replications.
    Runs,
    /// Delete a stored twin run for good (`twin delete <twin-run-id>`); a report built from it stays.
    Delete {
        /// The run id, as `twin runs` lists it.
        run_id: String,
    },
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
    /// Predictive threshold: maintain when the failure probability reaches it (default: the model's
    /// registered threshold; 0.5 for `rules`).
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
    /// Ingest the records into this lake dataset instead of, or as well as, --out.
    #[arg(long)]
    pub dataset: Option<String>,
    /// With --dataset: `create` a new dataset, `append` a version, or `overwrite` it.
    #[arg(long, default_value = "create")]
    pub mode: WriteMode,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

pub async fn twin(global: &Global, args: TwinArgs) -> Result<()> {
    match args.command {
        TwinCommand::Init(a) => init(global, a),
        TwinCommand::Run(a) => simulate(global, &a.sim, std::slice::from_ref(&a.policy)).await,
        TwinCommand::Compare(a) => simulate(global, &a.sim, &a.policies).await,
        TwinCommand::Optimize(a) => optimize(global, a).await,
        TwinCommand::Emit(a) => emit(global, a).await,
        TwinCommand::Runs => runs(global),
        TwinCommand::Delete { run_id } => {
            crate::cmd::serve::audited(
                global,
                "twin delete",
                &run_id,
                twin::delete_run(&global.home(), &run_id),
            )?;
            if global.json {
                return print_json(&serde_json::json!({ "deleted": run_id }));
            }
            println!("deleted twin run {run_id}");
            Ok(())
        }
    }
}

fn runs(global: &Global) -> Result<()> {
    let runs = twin::runs(&global.home())?;
    if global.json {
        return print_json(&runs);
    }
    for r in &runs {
        let kind = if r.optimization {
            "optimisation"
        } else {
            "comparison"
        };
        println!(
            "{:<34} {:<13} {:<16} {:>3} × {} {}  {}",
            r.run_id,
            kind,
            r.line,
            r.replications,
            r.horizon,
            r.time_unit,
            r.policies.join(", ")
        );
    }
    Ok(())
}

fn init(global: &Global, a: InitArgs) -> Result<()> {
    let written = twin::init(&a.file, a.force)?;
    if global.json {
        return print_json(&serde_json::json!({ "written": written }));
    }
    println!(
        "wrote the example line to {} (reference: docs/line-model.md)",
        written.display()
    );
    Ok(())
}

impl SimArgs {
    fn request(&self) -> SimRequest {
        SimRequest {
            line: self.line.clone(),
            replications: self.replications,
            horizon: self.horizon.clone(),
            warmup: self.warmup.clone(),
            seed: self.seed,
            threads: self.threads,
            interval: self.interval.clone(),
            wear_limit: self.wear_limit,
            model: self.model.clone(),
            threshold: self.threshold,
        }
    }
}

async fn simulate(global: &Global, sim: &SimArgs, policies: &[String]) -> Result<()> {
    let run = twin::compare(&global.home(), &sim.request(), policies, &observer(global)).await?;
    if global.json {
        return print_json(&run.result);
    }
    print!("{}", text::twin_kpis(&run.result));
    if let Some(case) = impact::against_current_practice(&global.home(), &run.result)? {
        println!();
        print!("{}", text::headline(&case.headline));
        println!(
            "(the whole business case: millwright impact --from-twin {})",
            run.result.run_id
        );
    }
    println!(
        "\nrun {} stored in {}",
        run.result.run_id,
        run.dir.display()
    );
    Ok(())
}

async fn optimize(global: &Global, a: OptimizeArgs) -> Result<()> {
    let request = OptimizeRequest {
        sim: a.sim.request(),
        policy: a.policy.clone(),
        parameter: a.parameter,
        values: a.values,
        range: a.range,
        objective: a.objective,
    };
    let done = twin::optimize(&global.home(), &request, &observer(global)).await?;
    if global.json {
        return print_json(&done.run.result);
    }
    print!("{}", text::optimization(&done, &a.policy));
    Ok(())
}

async fn emit(global: &Global, a: EmitArgs) -> Result<()> {
    if a.out.is_none() && a.dataset.is_none() {
        anyhow::bail!("give --out FILE.csv, --dataset NAME or both");
    }
    let request = EmitRequest {
        line: a.line,
        rows: a.rows,
        seed: a.seed,
        out: a.out,
        dataset: a.dataset,
        mode: a.mode,
    };
    let emitted = twin::emit(&global.home(), &request, &observer(global)).await?;
    if global.json {
        return print_json(&emitted);
    }
    let s = &emitted.summary;
    println!(
        "{} records from station {:?}: {} machine failures (TWF {}, HDF {}, PWF {}, OSF {}, RNF {})",
        s.rows, s.station, s.machine_failures, s.by_mode[0], s.by_mode[1], s.by_mode[2], s.by_mode[3], s.by_mode[4]
    );
    if let Some(out) = &emitted.out {
        println!("written to {}", out.display());
    }
    if let (Some(dataset), Some(version)) = (&emitted.dataset, emitted.version) {
        println!("ingested into dataset {dataset} version {version}");
    }
    Ok(())
}
