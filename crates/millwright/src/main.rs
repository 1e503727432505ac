//! `millwright`: the one binary. Each subcommand parses its arguments, calls a use case of the application
//! layer (millwright-app) and prints the result; no use-case logic lives in this crate.

// The front door: printing is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod allocator;
mod cmd;
mod hints;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Millwright (智造): collect, clean and store factory data, learn failure predictors, simulate the line
/// with a digital twin and quantify what AI changes — on one machine, with no server to install.
#[derive(Debug, Parser)]
#[command(name = "millwright", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

/// Options every subcommand understands.
#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// Home folder holding the lake, models, runs and twin results.
    #[arg(
        long,
        global = true,
        env = "MILLWRIGHT_HOME",
        default_value = "./millwright-home"
    )]
    pub home: PathBuf,
    /// Print structured output (and errors) as JSON for scripts.
    #[arg(long, global = true)]
    pub json: bool,
}

impl Global {
    pub fn home(&self) -> millwright_app::Home {
        millwright_app::Home::new(&self.home)
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    // One variant per subcommand, each a one-line addition with its match arm below.
    /// Read a CSV, Parquet or JSON-lines file, clean it and commit it to the lake as one version.
    Ingest(cmd::data::IngestArgs),
    /// List the datasets in the lake: rows, columns, latest version, size (`datasets delete|trash|restore|vacuum`).
    Datasets(cmd::data::DatasetsArgs),
    /// Show a dataset's columns, types, nullability and source position.
    Schema(cmd::data::DatasetArgs),
    /// Show the data-quality report of one commit of a dataset.
    Quality(cmd::data::DatasetArgs),
    /// Show a dataset's versions with time, operation and row counts.
    History(cmd::data::HistoryArgs),
    /// Run a read-only SQL query over the lake's tables (`FROM name VERSION AS OF n` for time travel).
    Sql(cmd::data::SqlArgs),
    /// Lake maintenance: `lake compact DATASET` (small files into large ones), `lake vacuum` (old files out).
    Lake(cmd::lake::LakeArgs),
    /// A live connector into the lake until Ctrl-C: `connect mqtt://HOST:PORT --topics 'plant/+/line2/#' --dataset line2`, `connect opc.tcp://HOST:PORT --nodes nodes.toml --dataset press7` or `connect modbus-tcp://HOST:PORT --registers regs.toml --every 1s --dataset pump3`.
    Connect(cmd::connect::ConnectArgs),
    /// OPC UA tools: `opcua browse opc.tcp://HOST:PORT [--depth 3]` finds the node ids a connector watches.
    Opcua(cmd::opcua::OpcuaArgs),
    /// The connectors of this home: state, counters, last commit and last error.
    Connectors(cmd::connectors::ConnectorsArgs),
    /// Productivity impact of AI: f_AI = Π(1 + Σα), P1 = P0·f_AI, V1 = V0·f_AI; α given or measured by the twin.
    Impact(cmd::impact::ImpactArgs),
    /// One self-contained HTML report (and summary.json) for a twin run: data, model, policies, impact.
    Report(Box<cmd::report::ReportArgs>),
    /// The reports built in the home (`reports delete NAME` removes one).
    Reports(cmd::report::ReportsArgs),
    /// The whole platform in one command: emit → clean → train → twin → impact → report (<home>/reports/demo).
    Demo(cmd::demo::DemoArgs),
    /// Train, evaluate and register a model from a lake dataset or CSV/Parquet files.
    Train(Box<cmd::learn::TrainArgs>),
    /// Metrics of a registered model on new labelled data.
    Evaluate(cmd::learn::EvaluateArgs),
    /// Score a file or dataset with a registered model: adds probability and predicted class columns.
    Predict(cmd::learn::PredictArgs),
    /// The model registry: versions, metrics and lineage (`models show NAME`).
    Models(cmd::learn::ModelsArgs),
    /// Tracked training runs: list/filter/page (`runs`), `runs show RUN`, `runs compare RUN RUN`.
    Runs(cmd::runs::RunsArgs),
    /// Digital twin of the line: simulate, compare maintenance policies, optimise, emit sensor records.
    Twin(cmd::twin::TwinArgs),
    /// The HTTP API (OpenAPI at /api/openapi.json, docs at /api/docs/): every use case, behind tokens.
    Serve(cmd::serve::ServeArgs),
    /// API tokens of `serve`: `token create --name NAME --role viewer|operator|admin`, `token list`, `token revoke NAME`.
    Token(cmd::serve::TokenArgs),
    /// The server's audit log: every mutating request, newest first.
    Audit(cmd::serve::AuditArgs),
}

#[tokio::main]
async fn main() -> ExitCode {
    output::restore_default_sigpipe();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => return output::usage_error(err),
    };
    let _log_writer = match &cli.command {
        Command::Serve(args) => Some(output::init_server_tracing(cmd::serve::log_format(args))),
        _ => {
            output::init_tracing();
            None
        }
    };
    let global = cli.global.clone();
    let result: anyhow::Result<()> = match cli.command {
        Command::Ingest(args) => cmd::data::ingest(&global, args).await,
        Command::Datasets(args) => cmd::data::datasets(&global, args).await,
        Command::Schema(args) => cmd::data::schema(&global, args).await,
        Command::Quality(args) => cmd::data::quality(&global, args).await,
        Command::History(args) => cmd::data::history(&global, args).await,
        Command::Sql(args) => cmd::data::sql(&global, args).await,
        Command::Lake(args) => cmd::lake::lake(&global, args).await,
        Command::Connect(args) => cmd::connect::connect(&global, args).await,
        Command::Opcua(args) => cmd::opcua::opcua(&global, args).await,
        Command::Connectors(args) => cmd::connectors::connectors(&global, args),
        Command::Impact(args) => cmd::impact::impact(&global, args),
        Command::Report(args) => cmd::report::report(&global, *args),
        Command::Reports(args) => cmd::report::reports(&global, args),
        Command::Demo(args) => cmd::demo::demo(&global, args).await,
        Command::Train(args) => cmd::learn::train_cmd(&global, *args).await,
        Command::Evaluate(args) => cmd::learn::evaluate_cmd(&global, args).await,
        Command::Predict(args) => cmd::learn::predict_cmd(&global, args).await,
        Command::Models(args) => cmd::learn::models_cmd(&global, args).await,
        Command::Runs(args) => cmd::runs::runs(&global, args),
        Command::Twin(args) => cmd::twin::twin(&global, args).await,
        Command::Serve(args) => cmd::serve::serve(&global, args).await,
        Command::Token(args) => cmd::serve::token(&global, args),
        Command::Audit(args) => cmd::serve::audit(&global, args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            output::report_error(&global, &err);
            ExitCode::FAILURE
        }
    }
}
