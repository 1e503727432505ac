//! `train`, `evaluate`, `predict`, `models`: the learning commands (millwright-learn does the work).

use std::path::PathBuf;

use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use millwright_app::learn::{self, EvaluateRequest, PredictRequest, Rows, TrainOptions};
use millwright_app::{predict, text};

use crate::output::{observer, print_json};
use crate::Global;

/// Where rows come from: a lake dataset or a file.
#[derive(Debug, Args)]
pub struct DataArgs {
    /// Lake dataset to read.
    #[arg(long)]
    pub dataset: Option<String>,
    /// Version of the dataset (default: the latest).
    #[arg(long, requires = "dataset")]
    pub version: Option<i64>,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// Training file (CSV, Parquet or JSON lines); with --test, the test file, otherwise a split is made.
    #[arg(long)]
    pub train: Option<PathBuf>,
    /// Test file (used for validation every epoch and for the reported metrics).
    #[arg(long, requires = "train")]
    pub test: Option<PathBuf>,
    /// Column to predict.
    #[arg(long)]
    pub target: String,
    /// Columns to leave out (comma-separated, repeatable), e.g. ids and other labels.
    #[arg(long, value_delimiter = ',')]
    pub drop: Vec<String>,
    /// mlp (the reference network), logistic, gbdt, or auto (cross-validate every kind, keep the best).
    #[arg(long, default_value = "mlp")]
    pub model: String,
    /// Registry name of the model (default: the dataset name, or `model`).
    #[arg(long)]
    pub name: Option<String>,
    /// Derived feature NAME=SQL_EXPRESSION over the input columns (repeatable).
    #[arg(long = "feature")]
    pub features: Vec<String>,
    /// binary, multiclass (e.g. failure type) or regression (e.g. remaining useful life).
    #[arg(long, default_value = "binary")]
    pub task: String,
    /// k-fold cross-validation on the training rows (mean ± std per candidate).
    #[arg(long)]
    pub cv: Option<usize>,
    /// Random-search trials (configurations), scored by cross-validation.
    #[arg(long, default_value_t = 0)]
    pub search: usize,
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Share of rows held out for testing when no --test file is given.
    #[arg(long, default_value_t = 0.2)]
    pub test_fraction: f64,
    /// Split by this time column (latest rows are the test rows) instead of a stratified random split.
    #[arg(long)]
    pub time_column: Option<String>,
    /// Weight classes inversely to their frequency.
    #[arg(long)]
    pub balanced: bool,
    /// Decision threshold: a number, max-f1, or cost:MISSED:FALSE_ALARM (chosen on training rows only).
    /// Default: max-f1 for --model auto, 0.5 otherwise.
    #[arg(long)]
    pub threshold: Option<String>,
    /// MLP: epochs (reference 100).
    #[arg(long)]
    pub epochs: Option<usize>,
    /// MLP: batch size (reference 32).
    #[arg(long)]
    pub batch_size: Option<usize>,
    /// MLP: hidden layer widths (reference 32,16).
    #[arg(long, value_delimiter = ',')]
    pub hidden: Vec<usize>,
    /// MLP: relu, tanh, sigmoid or linear.
    #[arg(long)]
    pub activation: Option<String>,
    /// MLP: Adam learning rate (reference 0.001).
    #[arg(long)]
    pub learning_rate: Option<f32>,
    /// MLP: dropout on hidden layers.
    #[arg(long)]
    pub dropout: Option<f32>,
    /// MLP: L2 penalty on kernels.
    #[arg(long)]
    pub l2: Option<f32>,
    /// MLP: stop after this many epochs without improvement on a validation slice of the training rows.
    #[arg(long)]
    pub patience: Option<usize>,
    /// MLP trainer: omit for the fused CPU kernel; `cuda` (or `cpu`) trains with candle
    /// (needs a build with `--features cuda`).
    #[arg(long)]
    pub device: Option<String>,
    /// GBDT: boosting rounds.
    #[arg(long)]
    pub trees: Option<usize>,
    /// GBDT: maximum tree depth.
    #[arg(long)]
    pub max_depth: Option<usize>,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// NAME@VERSION, NAME@latest or NAME.
    pub model: String,
    #[command(flatten)]
    pub data: DataArgs,
    /// A file to evaluate on (must hold the target column).
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Folder for the plots (ROC, precision-recall, confusion matrix, calibration; PNG and SVG).
    #[arg(long)]
    pub plots: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// NAME@VERSION, NAME@ALIAS (e.g. failure@production), NAME@latest or NAME.
    pub model: String,
    #[command(flatten)]
    pub data: DataArgs,
    /// File to score: CSV, JSON lines or Arrow IPC (with --output also Parquet).
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Output file (.csv or .parquet): the input columns plus `probability` and `predicted`.
    /// Without it, each row's score and decision are printed.
    #[arg(long)]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ModelsArgs {
    #[command(subcommand)]
    pub command: Option<ModelsCommand>,
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Every version of one model with its metrics, lineage and aliases.
    Show { name: String },
    /// Point an alias (production, staging, ...) at a version: `models promote failure@3 --alias production`.
    Promote {
        /// NAME@VERSION (or NAME@latest, NAME@ALIAS).
        spec: String,
        #[arg(long)]
        alias: String,
    },
    /// Move an alias back to the version it named before its last promote.
    Rollback {
        name: String,
        #[arg(long)]
        alias: String,
    },
    /// A model's aliases and the history of their moves (who, when, from, to).
    Aliases { name: String },
    /// Delete one version for good: `models delete failure@2` (by number; refused while an alias points
    /// at it: promote the alias elsewhere first). Its number is not given to a later version.
    Delete {
        /// NAME@VERSION, the version by its number.
        spec: String,
    },
}

/// Who the alias history names for a change from the command line: the OS user, or `cli`.
pub(crate) fn actor() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "cli".to_owned())
}

impl DataArgs {
    fn rows(&self, input: &Option<PathBuf>) -> Result<Rows> {
        Ok(match (&self.dataset, input) {
            (Some(name), None) => Rows::Dataset {
                name: name.clone(),
                version: self.version,
            },
            (None, Some(path)) => Rows::File(path.clone()),
            _ => bail!("give the rows as either --dataset NAME (a lake table) or --input FILE"),
        })
    }
}

impl TrainArgs {
    /// The flags in the application layer's words (the server takes the same options as JSON).
    fn options(&self) -> TrainOptions {
        TrainOptions {
            dataset: self.data.dataset.clone(),
            version: self.data.version,
            train: self.train.clone(),
            test: self.test.clone(),
            target: self.target.clone(),
            drop: self.drop.clone(),
            model: Some(self.model.clone()),
            name: self.name.clone(),
            features: self.features.clone(),
            task: Some(self.task.clone()),
            cv: self.cv,
            search: self.search,
            seed: Some(self.seed),
            test_fraction: Some(self.test_fraction),
            time_column: self.time_column.clone(),
            balanced: self.balanced,
            threshold: self.threshold.clone(),
            epochs: self.epochs,
            batch_size: self.batch_size,
            hidden: self.hidden.clone(),
            activation: self.activation.clone(),
            learning_rate: self.learning_rate,
            dropout: self.dropout,
            l2: self.l2,
            patience: self.patience,
            device: self.device.clone(),
            trees: self.trees,
            max_depth: self.max_depth,
        }
    }
}

pub async fn train_cmd(global: &Global, args: TrainArgs) -> Result<()> {
    let job = args.options().job()?;
    let trained = learn::train(&global.home(), job, &observer(global)).await?;
    if global.json {
        return print_json(&trained);
    }
    print!("{}", text::training(&trained.0));
    Ok(())
}

pub async fn evaluate_cmd(global: &Global, args: EvaluateArgs) -> Result<()> {
    let request = EvaluateRequest {
        model: args.model,
        rows: args.data.rows(&args.input)?,
        plots: args.plots,
    };
    let e = learn::evaluate(&global.home(), &request).await?;
    if global.json {
        return print_json(&e);
    }
    println!(
        "model: {} ({}) on {}, {} rows",
        e.model, e.kind, e.data, e.rows
    );
    print!("{}", text::metrics(&e.test, e.threshold, &e.classes));
    for p in &e.plots {
        println!("plot: {}", p.svg.display());
    }
    Ok(())
}

pub async fn predict_cmd(global: &Global, args: PredictArgs) -> Result<()> {
    let home = global.home();
    let Some(output) = args.output else {
        let cache = predict::ModelCache::new(&home);
        let p = match args.data.rows(&args.input)? {
            Rows::File(path) => predict::predict_file(&cache, &args.model, &path)?,
            rows @ Rows::Dataset { .. } => {
                let (batch, _) = learn::read_rows(&home, &rows).await?;
                predict::predict(&cache, &args.model, predict::PredictInput::Batch(&batch))?
            }
        };
        if global.json {
            return print_json(&p);
        }
        print!("{}", text::predictions(&p));
        return Ok(());
    };
    let request = PredictRequest {
        model: args.model,
        rows: args.data.rows(&args.input)?,
        output,
    };
    let p = learn::predict(&home, &request).await?;
    if global.json {
        return print_json(&p);
    }
    println!(
        "scored {} rows of {} with {} in {:.3} s → {}",
        p.rows,
        p.input,
        p.model,
        p.seconds,
        p.output.display()
    );
    Ok(())
}

pub async fn models_cmd(global: &Global, args: ModelsArgs) -> Result<()> {
    let home = global.home();
    let name = match &args.command {
        None => None,
        Some(ModelsCommand::Show { name }) => Some(name.as_str()),
        Some(ModelsCommand::Promote { spec, alias }) => {
            let up = learn::promote(&home, spec, alias, &actor())?;
            return if global.json {
                print_json(&up)
            } else {
                print!("{}", text::alias_update(&up));
                Ok(())
            };
        }
        Some(ModelsCommand::Rollback { name, alias }) => {
            let up = learn::rollback(&home, name, alias, &actor())?;
            return if global.json {
                print_json(&up)
            } else {
                print!("{}", text::alias_update(&up));
                Ok(())
            };
        }
        Some(ModelsCommand::Delete { spec }) => {
            let deleted = crate::cmd::serve::audited(
                global,
                "models delete",
                spec,
                learn::delete_version(&home, spec, &actor()),
            )?;
            return if global.json {
                print_json(&deleted)
            } else {
                println!(
                    "deleted {}@{} ({}, trained {})",
                    deleted.name, deleted.version, deleted.manifest.kind, deleted.manifest.created
                );
                Ok(())
            };
        }
        Some(ModelsCommand::Aliases { name }) => {
            let table = learn::aliases(&home, name)?;
            return if global.json {
                print_json(&table)
            } else {
                print!("{}", text::aliases(name, &table));
                Ok(())
            };
        }
    };
    let list = learn::models(&home, name)?;
    if global.json {
        return print_json(&list);
    }
    if list.is_empty() {
        let dir = learn::models_dir(&home);
        println!(
            "no models in {} (train one with `millwright train`)",
            dir.display()
        );
        return Ok(());
    }
    print!("{}", text::models(&list, name.is_some()));
    Ok(())
}
