//! `train`, `evaluate`, `predict`, `models`: the learning commands (millwright-learn does the work).

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};
use millwright_data::arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use millwright_data::arrow::compute::concat_batches;
use millwright_data::arrow::datatypes::{DataType, Field, Schema};
use millwright_data::lake::Lake;
use millwright_learn::metrics::{self, ThresholdRule};
use millwright_learn::mlp::Activation;
use millwright_learn::pipeline::DerivedFeature;
use millwright_learn::plots;
use millwright_learn::registry::{self, Lineage, Model};
use millwright_learn::task::Task;
use millwright_learn::tracked;
use millwright_learn::tracking::{CodeVersion, DatasetRef};
use millwright_learn::train::{self, KindChoice, TaskChoice, TrainOutcome, TrainRequest};

use crate::derive::SqlDeriver;
use crate::output::print_json;
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
    /// NAME@VERSION, NAME@latest or NAME.
    pub model: String,
    #[command(flatten)]
    pub data: DataArgs,
    /// File to score (CSV, Parquet or JSON lines).
    #[arg(long)]
    pub input: Option<PathBuf>,
    /// Output file (.csv or .parquet): the input columns plus `probability` and `predicted`.
    #[arg(long)]
    pub output: PathBuf,
}

#[derive(Debug, Args)]
pub struct ModelsArgs {
    #[command(subcommand)]
    pub command: Option<ModelsCommand>,
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Every version of one model with its metrics and lineage.
    Show { name: String },
}

fn concat(batches: Vec<RecordBatch>, schema: Arc<Schema>, what: &str) -> Result<RecordBatch> {
    if batches.is_empty() {
        return Ok(RecordBatch::new_empty(schema));
    }
    concat_batches(&schema, &batches).with_context(|| format!("combining the batches of {what}"))
}

fn read_file(path: &Path) -> Result<RecordBatch> {
    let table = millwright_data::source::read_file(path)
        .with_context(|| format!("reading {}", path.display()))?;
    concat(table.batches, table.schema, &path.display().to_string())
}

async fn read_dataset(home: &Path, name: &str, version: Option<i64>) -> Result<(RecordBatch, i64)> {
    let lake = Lake::open(home)?;
    let (table, read) = lake
        .read_table(name, version)
        .await
        .with_context(|| format!("reading dataset '{name}'"))?;
    Ok((concat(table.batches, table.schema, name)?, read))
}

fn progress(global: &Global) -> bool {
    !global.json && std::io::stderr().is_terminal()
}

fn build_request(
    args: &TrainArgs,
    global: &Global,
    name: String,
    lineage: Lineage,
) -> Result<TrainRequest> {
    let mut req = TrainRequest::new(&name, &args.target);
    req.kind = args.model.parse::<KindChoice>()?;
    req.task = args.task.parse::<TaskChoice>()?;
    req.drop = args
        .drop
        .iter()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .collect();
    req.features = args
        .features
        .iter()
        .map(|f| DerivedFeature::parse(f))
        .collect::<Result<_, _>>()?;
    req.cv = args.cv;
    req.search = args.search;
    req.seed = args.seed;
    req.test_fraction = args.test_fraction;
    req.time_column = args.time_column.clone();
    req.balanced = args.balanced;
    req.threshold = args
        .threshold
        .as_deref()
        .map(train::parse_threshold)
        .transpose()?;
    if let Some(v) = args.epochs {
        req.mlp.epochs = v;
    }
    if let Some(v) = args.batch_size {
        req.mlp.batch_size = v;
    }
    if !args.hidden.is_empty() {
        req.mlp.hidden = args.hidden.clone();
    }
    if let Some(a) = &args.activation {
        req.mlp.activation = a.parse::<Activation>()?;
    }
    if let Some(v) = args.learning_rate {
        req.mlp.learning_rate = v;
    }
    if let Some(v) = args.dropout {
        req.mlp.dropout = v;
    }
    if let Some(v) = args.l2 {
        req.mlp.l2 = v;
    }
    req.mlp.patience = args.patience;
    if let Some(v) = args.trees {
        req.gbdt.iterations = v;
    }
    if let Some(v) = args.max_depth {
        req.gbdt.max_depth = v;
    }
    req.mlp.validate()?;
    req.device = args.device.clone();
    req.lineage = lineage;
    req.progress = progress(global);
    Ok(req)
}

pub async fn train_cmd(global: &Global, args: TrainArgs) -> Result<()> {
    let (data, test, dataset, lake_version, run_dataset) = match (&args.data.dataset, &args.train) {
        (Some(name), None) => {
            let (batch, v) = read_dataset(&global.home, name, args.data.version).await?;
            let run_dataset = DatasetRef::lake(name.clone(), u64::try_from(v).unwrap_or(0));
            (batch, None, name.clone(), Some(v), run_dataset)
        }
        (None, Some(path)) => {
            let test = args.test.as_deref().map(read_file).transpose()?;
            let mut label = path.display().to_string();
            let mut files = vec![path.clone()];
            if let Some(t) = &args.test {
                label = format!("{label} + {}", t.display());
                files.push(t.clone());
            }
            let run_dataset = DatasetRef::files(&files)?;
            (read_file(path)?, test, label, None, run_dataset)
        }
        _ => bail!("give the training data as either --dataset NAME (a lake table) or --train FILE [--test FILE]"),
    };
    let name = args
        .name
        .clone()
        .or_else(|| args.data.dataset.clone())
        .unwrap_or_else(|| "model".to_string());
    let lineage = Lineage {
        dataset,
        lake_version,
        run: None,
        code_version: CodeVersion::current().git_commit.map_or_else(
            || env!("CARGO_PKG_VERSION").to_string(),
            |commit| format!("{} ({commit})", env!("CARGO_PKG_VERSION")),
        ),
    };
    let req = build_request(&args, global, name, lineage)?;
    let home = global.home.clone();
    let outcome = tokio::task::spawn_blocking(move || {
        tracked::train_tracked(
            &home,
            &req,
            &data,
            test.as_ref(),
            Some(&SqlDeriver::default()),
            run_dataset,
        )
    })
    .await??;
    if global.json {
        print_json(&train::summary_json(&outcome))
    } else {
        print_train_table(&outcome);
        Ok(())
    }
}

fn print_train_table(out: &TrainOutcome) {
    let m = &out.manifest;
    println!(
        "model: {}@{} ({}, {})",
        m.name,
        m.version,
        m.kind,
        m.task.name()
    );
    if let Some(run) = &m.lineage.run {
        println!("run: {run}");
    }
    println!(
        "rows: {} train, {} test; features: {}",
        out.train_rows,
        out.test_rows,
        m.pipeline.output_names().join(", ")
    );
    for d in &m.pipeline.dropped {
        println!("dropped: {} ({})", d.name, d.reason);
    }
    if !out.cv.is_empty() {
        println!("cross-validation ({}):", out.cv[0].metric);
        for c in out.cv.iter().take(10) {
            println!(
                "  {:<9} {:.4} ± {:.4}  {}",
                c.kind.name(),
                c.mean,
                c.std,
                c.params
            );
        }
    }
    if let Some(last) = out.history.last() {
        println!(
            "epochs: {}; final train loss {:.4}, validation loss {:.4}",
            out.history.len(),
            last.train_loss,
            last.val_loss.unwrap_or(f64::NAN)
        );
    }
    if m.task == Task::Binary {
        println!("threshold rule: {}", describe_rule(&m.threshold_rule));
    }
    print_metrics(&out.test, m.threshold, m.task, &m.classes);
    let top: Vec<String> = out
        .importance
        .iter()
        .take(5)
        .map(|(n, v)| format!("{n} {v:.4}"))
        .collect();
    println!(
        "permutation importance (test score drop): {}",
        top.join(", ")
    );
    println!(
        "time: fit {:.2} s, total {:.2} s",
        out.fit_seconds, out.seconds
    );
}

fn print_metrics(test: &train::TestMetrics, threshold: f64, task: Task, classes: &[String]) {
    match test {
        train::TestMetrics::Binary(b) => {
            println!("threshold: {threshold:.4}");
            println!("test accuracy: {:.4}", b.accuracy);
            println!("test precision: {:.4}", b.precision);
            println!("test recall: {:.4}", b.recall);
            println!("test f1: {:.4}  (macro f1 {:.4})", b.f1, b.macro_f1);
            println!("test roc_auc: {:.4}", b.roc_auc);
            println!("test pr_auc: {:.4}", b.pr_auc);
            println!("test log_loss: {:.4}", b.log_loss);
            println!("test brier: {:.4}", b.brier);
            let [[tn, fp], [fn_, tp]] = b.confusion_matrix;
            let (neg, pos) = (&classes[0], &classes[1]);
            println!("confusion matrix (rows true, columns predicted):");
            println!("  {:>10} {:>8} {:>8}", "", neg, pos);
            println!("  {:>10} {:>8} {:>8}", neg, tn, fp);
            println!("  {:>10} {:>8} {:>8}", pos, fn_, tp);
        }
        train::TestMetrics::Multiclass(m) => {
            println!("test accuracy: {:.4}", m.accuracy);
            println!("test macro f1: {:.4}", m.macro_f1);
            println!("test log_loss: {:.4}", m.log_loss);
            for (c, s) in classes.iter().zip(&m.per_class) {
                println!(
                    "  {c:>10}: precision {:.4} recall {:.4} f1 {:.4} ({} rows)",
                    s.precision, s.recall, s.f1, s.support
                );
            }
        }
        train::TestMetrics::Regression(r) => {
            debug_assert_eq!(task, Task::Regression);
            println!("test rmse: {:.4}", r.rmse);
            println!("test mae: {:.4}", r.mae);
            println!("test r2: {:.4}", r.r2);
        }
    }
}

fn load_model(home: &Path, spec: &str) -> Result<Model> {
    Ok(Model::load(home, spec)?.with_deriver(Arc::new(SqlDeriver::default())))
}

async fn read_input(
    global: &Global,
    data: &DataArgs,
    input: &Option<PathBuf>,
) -> Result<(RecordBatch, String)> {
    match (&data.dataset, input) {
        (Some(name), None) => {
            let (b, v) = read_dataset(&global.home, name, data.version).await?;
            Ok((b, format!("{name}@{v}")))
        }
        (None, Some(path)) => Ok((read_file(path)?, path.display().to_string())),
        _ => bail!("give the rows as either --dataset NAME (a lake table) or --input FILE"),
    }
}

pub async fn evaluate_cmd(global: &Global, args: EvaluateArgs) -> Result<()> {
    let model = load_model(&global.home, &args.model)?;
    let (batch, source) = read_input(global, &args.data, &args.input).await?;
    let m = &model.manifest;
    let labels = train::Labels {
        task: m.task,
        y: Vec::new(),
        classes: m.classes.clone(),
    };
    let y = train::apply_labels(&batch, &m.target, &labels)?;
    let outputs = model.predict_outputs(&batch)?;
    let test = match m.task {
        Task::Binary => train::TestMetrics::Binary(metrics::binary(&y, &outputs, m.threshold)),
        Task::Multiclass { classes } => {
            train::TestMetrics::Multiclass(metrics::multiclass(&y, &outputs, classes))
        }
        Task::Regression => train::TestMetrics::Regression(metrics::regression(&y, &outputs)),
    };
    let plots = match &args.plots {
        Some(dir) => write_eval_plots(dir, &test, &y, &outputs, &m.classes)?,
        None => Vec::new(),
    };
    if global.json {
        print_json(&serde_json::json!({
            "model": model.spec(),
            "kind": m.kind,
            "plots": plots,
            "data": source,
            "rows": batch.num_rows(),
            "threshold": m.threshold,
            "metrics": test.to_json(),
        }))
    } else {
        println!(
            "model: {} ({}) on {source}, {} rows",
            model.spec(),
            m.kind,
            batch.num_rows()
        );
        print_metrics(&test, m.threshold, m.task, &m.classes);
        for p in &plots {
            println!("plot: {}", p.svg.display());
        }
        Ok(())
    }
}

fn write_eval_plots(
    dir: &Path,
    test: &train::TestMetrics,
    y: &[f64],
    outputs: &[f64],
    classes: &[String],
) -> Result<Vec<plots::PlotFiles>> {
    let names: Vec<&str> = classes.iter().map(String::as_str).collect();
    let counts = |cm: Vec<Vec<usize>>| -> Vec<Vec<u64>> {
        cm.into_iter()
            .map(|r| r.into_iter().map(|c| c as u64).collect())
            .collect()
    };
    let mut files = Vec::new();
    match test {
        train::TestMetrics::Binary(b) => {
            let rate = y.iter().filter(|&&v| v > 0.5).count() as f64 / y.len().max(1) as f64;
            files.push(plots::roc_curve(
                &metrics::roc_curve(y, outputs),
                Some(b.roc_auc),
                &dir.join("roc"),
            )?);
            files.push(plots::precision_recall_curve(
                &metrics::pr_curve(y, outputs),
                Some(b.pr_auc),
                rate,
                &dir.join("precision_recall"),
            )?);
            let cm = b.confusion_matrix.iter().map(|r| r.to_vec()).collect();
            files.push(plots::confusion_matrix(
                &counts(cm),
                &names,
                &dir.join("confusion_matrix"),
            )?);
            files.push(plots::calibration_diagram(
                &metrics::calibration_bins(y, outputs, 10),
                &dir.join("calibration"),
            )?);
        }
        train::TestMetrics::Multiclass(mc) => {
            files.push(plots::confusion_matrix(
                &counts(mc.confusion_matrix.clone()),
                &names,
                &dir.join("confusion_matrix"),
            )?);
        }
        train::TestMetrics::Regression(_) => {}
    }
    Ok(files)
}

pub async fn predict_cmd(global: &Global, args: PredictArgs) -> Result<()> {
    let model = load_model(&global.home, &args.model)?;
    let (batch, source) = read_input(global, &args.data, &args.input).await?;
    if batch.num_rows() == 0 {
        bail!("{source} has no rows to score");
    }
    let started = std::time::Instant::now();
    // Score in slices so memory stays bounded on large tables.
    const SLICE: usize = 65_536;
    let mut scored = Vec::new();
    let mut offset = 0;
    while offset < batch.num_rows() {
        let part = batch.slice(offset, SLICE.min(batch.num_rows() - offset));
        let outputs = model.predict_outputs(&part)?;
        let k = model.manifest.task.outputs();
        let score: Vec<f64> = if k == 1 {
            outputs.clone()
        } else {
            outputs
                .chunks(k)
                .map(|c| c.iter().copied().fold(0.0, f64::max))
                .collect()
        };
        let decided = model.decide(&outputs);
        let mut fields: Vec<Field> = part
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        let mut cols: Vec<ArrayRef> = part.columns().to_vec();
        let score_name = if model.manifest.task == Task::Regression {
            "prediction"
        } else {
            "probability"
        };
        for name in [score_name, "predicted"] {
            if part.schema().index_of(name).is_ok() {
                bail!("the input already has a column named '{name}'; rename it before scoring");
            }
        }
        fields.push(Field::new(score_name, DataType::Float64, false));
        cols.push(Arc::new(Float64Array::from(score)));
        if model.manifest.task != Task::Regression {
            fields.push(Field::new("predicted", DataType::Utf8, false));
            cols.push(Arc::new(StringArray::from(decided)));
        }
        scored.push(RecordBatch::try_new(Arc::new(Schema::new(fields)), cols)?);
        offset += SLICE;
    }
    write_output(&args.output, &scored)?;
    let seconds = started.elapsed().as_secs_f64();
    if global.json {
        print_json(&serde_json::json!({
            "model": model.spec(),
            "input": source,
            "output": args.output,
            "rows": batch.num_rows(),
            "threshold": model.threshold(),
            "seconds": seconds,
        }))
    } else {
        println!(
            "scored {} rows of {source} with {} in {seconds:.3} s → {}",
            batch.num_rows(),
            model.spec(),
            args.output.display()
        );
        Ok(())
    }
}

/// Writes next to the destination and renames, so a failed write leaves no half file.
fn write_output(path: &Path, batches: &[RecordBatch]) -> Result<()> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let tmp = tempfile::NamedTempFile::new_in(dir)
        .with_context(|| format!("creating a file in {}", dir.display()))?;
    let file = tmp.reopen()?;
    match ext.as_str() {
        "csv" => {
            let mut w = millwright_data::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(file);
            for b in batches {
                w.write(b)?;
            }
        }
        "parquet" => {
            let mut w = millwright_data::parquet::arrow::ArrowWriter::try_new(
                file,
                batches[0].schema(),
                None,
            )?;
            for b in batches {
                w.write(b)?;
            }
            w.close()?;
        }
        _ => bail!(
            "--output {}: use a .csv or .parquet file name",
            path.display()
        ),
    }
    tmp.persist(path)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

pub async fn models_cmd(global: &Global, args: ModelsArgs) -> Result<()> {
    let name = args
        .command
        .as_ref()
        .map(|ModelsCommand::Show { name }| name.as_str());
    let list = registry::list(&global.home, name)?;
    if global.json {
        return print_json(&list);
    }
    if list.is_empty() {
        println!(
            "no models in {} (train one with `millwright train`)",
            registry::models_dir(&global.home).display()
        );
        return Ok(());
    }
    println!(
        "{:<20} {:>7} {:<9} {:<10} {:>9} {:>9} {:>9} {:<20} dataset",
        "name", "version", "kind", "task", "accuracy", "f1", "roc_auc", "created"
    );
    for v in &list {
        let get = |k: &str| {
            v.metrics
                .get(k)
                .and_then(|x| x.as_f64())
                .map_or("-".to_string(), |x| format!("{x:.4}"))
        };
        println!(
            "{:<20} {:>7} {:<9} {:<10} {:>9} {:>9} {:>9} {:<20} {}",
            v.name,
            v.version,
            v.kind.name(),
            v.task,
            get("accuracy"),
            get("f1"),
            get("roc_auc"),
            v.created,
            v.dataset
        );
        if name.is_some() {
            println!(
                "{:>28} target {}, threshold {:.4}, run {}",
                "",
                v.target,
                v.threshold,
                v.run.as_deref().unwrap_or("-")
            );
        }
    }
    Ok(())
}

fn describe_rule(rule: &ThresholdRule) -> String {
    match rule {
        ThresholdRule::Fixed { value } => format!("fixed at {value}"),
        ThresholdRule::MaxF1 => "max F1 on training rows".into(),
        ThresholdRule::MinCost(c) => format!(
            "min cost on training rows (missed {}, false alarm {})",
            c.missed, c.false_alarm
        ),
    }
}
