//! Learning use cases: train (a tracked run that registers a model), evaluate and predict with a
//! registered model, list the registry.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use millwright_data::arrow::array::{ArrayRef, Float64Array, RecordBatch, StringArray};
use millwright_data::arrow::compute::concat_batches;
use millwright_data::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use millwright_data::lake::Lake;
use millwright_learn::plots::PlotFiles;
use millwright_learn::registry::{self, AliasUpdate, Aliases, Lineage, Model, VersionSummary};
use millwright_learn::task::Task;
use millwright_learn::tracked;
use millwright_learn::tracking::{CodeVersion, DatasetRef};
use millwright_learn::train::{self, TestMetrics, TrainOutcome, TrainRequest};
use serde::{Deserialize, Serialize};

use crate::derive::SqlDeriver;
use crate::error::{blocking, io, AppError, Context, Result};
use crate::{Home, Observer};

/// Rows to read: a lake dataset (latest or one version) or a file (CSV, Parquet, JSON lines).
#[derive(Debug, Clone, PartialEq)]
pub enum Rows {
    Dataset { name: String, version: Option<i64> },
    File(PathBuf),
}

/// Where a training's rows come from.
#[derive(Debug, Clone, PartialEq)]
pub enum TrainingData {
    /// A lake dataset, split into training and test rows.
    Dataset { name: String, version: Option<i64> },
    /// A training file and an optional test file (without one, the training file is split).
    Files {
        train: PathBuf,
        test: Option<PathBuf>,
    },
}

/// One training. `request.name` empty: the model is named after the dataset (`model` for files).
#[derive(Debug, Clone)]
pub struct TrainJob {
    pub data: TrainingData,
    pub request: TrainRequest,
}

/// A training described in words, as the CLI's flags and the server's JSON give it; [`TrainOptions::job`]
/// turns it into a [`TrainJob`]. Omitted fields take the reference defaults (`docs/learning.md`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainOptions {
    /// Lake dataset to train on (or `train`, a file).
    pub dataset: Option<String>,
    /// Version of the dataset (default: the latest).
    pub version: Option<i64>,
    /// Training file; with `test`, the test file, otherwise a split is made.
    pub train: Option<PathBuf>,
    pub test: Option<PathBuf>,
    /// Column to predict.
    pub target: String,
    /// Columns to leave out.
    pub drop: Vec<String>,
    /// `mlp`, `logistic`, `gbdt`, a list such as `mlp,gbdt`, or `auto` (default `mlp`).
    pub model: Option<String>,
    /// Registry name (default: the dataset name, or `model`).
    pub name: Option<String>,
    /// Derived features `NAME=SQL_EXPRESSION`.
    pub features: Vec<String>,
    /// `binary` (default), `multiclass` or `regression`.
    pub task: Option<String>,
    pub cv: Option<usize>,
    pub search: usize,
    /// Default 42.
    pub seed: Option<u64>,
    /// Default 0.2.
    pub test_fraction: Option<f64>,
    pub time_column: Option<String>,
    pub balanced: bool,
    /// A number, `max-f1` or `cost:MISSED:FALSE_ALARM`.
    pub threshold: Option<String>,
    pub epochs: Option<usize>,
    pub batch_size: Option<usize>,
    pub hidden: Vec<usize>,
    pub activation: Option<String>,
    pub learning_rate: Option<f32>,
    pub dropout: Option<f32>,
    pub l2: Option<f32>,
    pub patience: Option<usize>,
    pub device: Option<String>,
    pub trees: Option<usize>,
    pub max_depth: Option<usize>,
}

impl TrainOptions {
    /// Checks and converts the options; every word is parsed by the learn layer's own parsers.
    pub fn job(&self) -> Result<TrainJob> {
        let data = match (&self.dataset, &self.train) {
            (Some(name), None) => TrainingData::Dataset {
                name: name.clone(),
                version: self.version,
            },
            (None, Some(path)) => TrainingData::Files {
                train: path.clone(),
                test: self.test.clone(),
            },
            _ => {
                return Err(AppError::invalid(
                    "give the training data as either a dataset (`--dataset NAME`, JSON `dataset`) or a training file (`--train FILE [--test FILE]`, JSON `train`, `test`)",
                ))
            }
        };
        if self.test.is_some() && self.train.is_none() {
            return Err(AppError::invalid("a test file needs a training file"));
        }
        let mut req = TrainRequest::new(self.name.as_deref().unwrap_or(""), &self.target);
        req.kind = self
            .model
            .as_deref()
            .unwrap_or("mlp")
            .parse::<train::KindChoice>()?;
        req.task = self
            .task
            .as_deref()
            .unwrap_or("binary")
            .parse::<train::TaskChoice>()?;
        req.drop = self
            .drop
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        req.features = self
            .features
            .iter()
            .map(|f| millwright_learn::pipeline::DerivedFeature::parse(f))
            .collect::<Result<_, _>>()?;
        req.cv = self.cv;
        req.search = self.search;
        req.seed = self.seed.unwrap_or(req.seed);
        req.test_fraction = self.test_fraction.unwrap_or(req.test_fraction);
        req.time_column = self.time_column.clone();
        req.balanced = self.balanced;
        req.threshold = self
            .threshold
            .as_deref()
            .map(train::parse_threshold)
            .transpose()?;
        let mlp = &mut req.mlp;
        mlp.epochs = self.epochs.unwrap_or(mlp.epochs);
        mlp.batch_size = self.batch_size.unwrap_or(mlp.batch_size);
        if !self.hidden.is_empty() {
            mlp.hidden = self.hidden.clone();
        }
        if let Some(a) = &self.activation {
            mlp.activation = a.parse::<millwright_learn::mlp::Activation>()?;
        }
        mlp.learning_rate = self.learning_rate.unwrap_or(mlp.learning_rate);
        mlp.dropout = self.dropout.unwrap_or(mlp.dropout);
        mlp.l2 = self.l2.unwrap_or(mlp.l2);
        mlp.patience = self.patience;
        mlp.validate()?;
        req.gbdt.iterations = self.trees.unwrap_or(req.gbdt.iterations);
        req.gbdt.max_depth = self.max_depth.unwrap_or(req.gbdt.max_depth);
        req.device = self.device.clone();
        Ok(TrainJob { data, request: req })
    }
}

/// A finished training: the learn layer's outcome, which serialises to its summary.
pub struct Trained(pub TrainOutcome);

impl Serialize for Trained {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        train::summary_json(&self.0).serialize(s)
    }
}

fn concat(batches: Vec<RecordBatch>, schema: SchemaRef, what: &str) -> Result<RecordBatch> {
    if batches.is_empty() {
        return Ok(RecordBatch::new_empty(schema));
    }
    concat_batches(&schema, &batches).map_err(|source| AppError::Arrow {
        what: format!("combining the batches of {what}"),
        source,
    })
}

fn read_file(path: &Path) -> Result<RecordBatch> {
    let table = millwright_data::source::read_file(path)
        .with_context(|| format!("reading {}", path.display()))?;
    concat(table.batches, table.schema, &path.display().to_string())
}

pub(crate) async fn read_dataset(
    home: &Home,
    name: &str,
    version: Option<i64>,
) -> Result<(RecordBatch, i64)> {
    let (table, read) = Lake::open(home.root())?
        .read_table(name, version)
        .await
        .with_context(|| format!("reading dataset '{name}'"))?;
    Ok((concat(table.batches, table.schema, name)?, read))
}

/// The rows, and how to name them (`milling@3`, a file path).
pub async fn read_rows(home: &Home, rows: &Rows) -> Result<(RecordBatch, String)> {
    match rows {
        Rows::Dataset { name, version } => {
            let (batch, v) = read_dataset(home, name, *version).await?;
            Ok((batch, format!("{name}@{v}")))
        }
        Rows::File(path) => Ok((read_file(path)?, path.display().to_string())),
    }
}

/// The code a model was trained with, for its lineage.
pub(crate) fn code_version() -> String {
    CodeVersion::current().git_commit.map_or_else(
        || env!("CARGO_PKG_VERSION").to_string(),
        |commit| format!("{} ({commit})", env!("CARGO_PKG_VERSION")),
    )
}

struct Loaded {
    data: RecordBatch,
    test: Option<RecordBatch>,
    lineage: Lineage,
    run_dataset: DatasetRef,
}

async fn load_training_data(home: &Home, data: &TrainingData) -> Result<Loaded> {
    let code_version = code_version();
    match data {
        TrainingData::Dataset { name, version } => {
            let (batch, v) = read_dataset(home, name, *version).await?;
            Ok(Loaded {
                data: batch,
                test: None,
                lineage: Lineage {
                    dataset: name.clone(),
                    lake_version: Some(v),
                    run: None,
                    code_version,
                },
                run_dataset: DatasetRef::lake(name.clone(), u64::try_from(v).unwrap_or(0)),
            })
        }
        TrainingData::Files { train, test } => {
            let mut label = train.display().to_string();
            let mut files = vec![train.clone()];
            if let Some(t) = test {
                label = format!("{label} + {}", t.display());
                files.push(t.clone());
            }
            Ok(Loaded {
                test: test.as_deref().map(read_file).transpose()?,
                data: read_file(train)?,
                lineage: Lineage {
                    dataset: label,
                    lake_version: None,
                    run: None,
                    code_version,
                },
                run_dataset: DatasetRef::files(&files)?,
            })
        }
    }
}

/// Trains, evaluates on the test rows and registers the model, recorded as a tracked run.
pub async fn train(home: &Home, job: TrainJob, observer: &Observer) -> Result<Trained> {
    let loaded = load_training_data(home, &job.data).await?;
    let mut req = job.request;
    if req.name.is_empty() {
        req.name = match &job.data {
            TrainingData::Dataset { name, .. } => name.clone(),
            TrainingData::Files { .. } => "model".to_owned(),
        };
    }
    req.lineage = loaded.lineage;
    req.progress = observer.progress();
    let root = home.root().to_owned();
    let outcome = blocking(move || {
        tracked::train_tracked(
            &root,
            &req,
            &loaded.data,
            loaded.test.as_ref(),
            Some(&SqlDeriver::default()),
            loaded.run_dataset,
        )
        .map_err(AppError::from)
    })
    .await?;
    Ok(Trained(outcome))
}

/// A registered model, with derived features computed by the SQL engine.
pub fn load_model(home: &Home, spec: &str) -> Result<Model> {
    Ok(Model::load(home.root(), spec)?.with_deriver(Arc::new(SqlDeriver::default())))
}

/// Metrics of a registered model on labelled rows.
#[derive(Debug, Clone)]
pub struct EvaluateRequest {
    pub model: String,
    pub rows: Rows,
    /// Folder for the plots (ROC, precision-recall, confusion matrix, calibration).
    pub plots: Option<PathBuf>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub model: String,
    pub kind: millwright_learn::model::ModelKind,
    pub plots: Vec<PlotFiles>,
    pub data: String,
    pub rows: usize,
    pub threshold: f64,
    pub metrics: serde_json::Value,
    #[serde(skip)]
    pub test: TestMetrics,
    #[serde(skip)]
    pub task: Task,
    #[serde(skip)]
    pub classes: Vec<String>,
}

pub async fn evaluate(home: &Home, req: &EvaluateRequest) -> Result<Evaluation> {
    let model = load_model(home, &req.model)?;
    let (batch, source) = read_rows(home, &req.rows).await?;
    let m = &model.manifest;
    let e = millwright_learn::evaluate::evaluate(&model, &batch)?;
    let plots = match &req.plots {
        Some(dir) => millwright_learn::evaluate::evaluation_plots(
            dir, &e.metrics, &e.y, &e.outputs, &m.classes,
        )?,
        None => Vec::new(),
    };
    Ok(Evaluation {
        model: model.spec(),
        kind: m.kind,
        plots,
        data: source,
        rows: e.rows,
        threshold: m.threshold,
        metrics: e.metrics.to_json(),
        test: e.metrics,
        task: m.task,
        classes: m.classes.clone(),
    })
}

/// Score rows with a registered model and write them with the model's outputs to a file.
#[derive(Debug, Clone)]
pub struct PredictRequest {
    pub model: String,
    pub rows: Rows,
    /// `.csv` or `.parquet`: the input columns plus `probability` (or `prediction`) and `predicted`.
    pub output: PathBuf,
}

#[derive(Debug, Clone, Serialize)]
pub struct Prediction {
    pub model: String,
    pub input: String,
    pub output: PathBuf,
    pub rows: usize,
    pub threshold: f64,
    pub seconds: f64,
}

/// Rows scored at a time, so memory stays bounded on large tables.
const SCORE_SLICE: usize = 65_536;

pub async fn predict(home: &Home, req: &PredictRequest) -> Result<Prediction> {
    let model = load_model(home, &req.model)?;
    let (batch, source) = read_rows(home, &req.rows).await?;
    if batch.num_rows() == 0 {
        return Err(AppError::invalid(format!("{source} has no rows to score")));
    }
    let started = std::time::Instant::now();
    let mut scored = Vec::new();
    for offset in (0..batch.num_rows()).step_by(SCORE_SLICE) {
        let part = batch.slice(offset, SCORE_SLICE.min(batch.num_rows() - offset));
        scored.push(score_slice(&model, &part)?);
    }
    write_scored(&req.output, &scored)?;
    Ok(Prediction {
        model: model.spec(),
        input: source,
        output: req.output.clone(),
        rows: batch.num_rows(),
        threshold: model.threshold(),
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The rows with the model's score (`probability`, or `prediction` for regression) and decided class.
pub fn score_slice(model: &Model, part: &RecordBatch) -> Result<RecordBatch> {
    let task = model.manifest.task;
    let score_name = if task == Task::Regression {
        "prediction"
    } else {
        "probability"
    };
    for name in [score_name, "predicted"] {
        if part.schema().index_of(name).is_ok() {
            return Err(AppError::invalid(format!(
                "the input already has a column named '{name}'; rename it before scoring"
            )));
        }
    }
    let outputs = model.predict_outputs(part)?;
    let (score, decided) = crate::predict::scores_of(model, &outputs);
    let mut fields: Vec<Field> = part
        .schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    let mut cols: Vec<ArrayRef> = part.columns().to_vec();
    fields.push(Field::new(score_name, DataType::Float64, false));
    cols.push(Arc::new(Float64Array::from(score)));
    if task != Task::Regression {
        fields.push(Field::new("predicted", DataType::Utf8, false));
        cols.push(Arc::new(StringArray::from(decided)));
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).map_err(|source| AppError::Arrow {
        what: "adding the model's outputs".to_owned(),
        source,
    })
}

/// Writes next to the destination and renames, so a failed write leaves no half file. The file gets the
/// usual permissions (0666 less the umask), not a temporary file's 0600.
fn write_scored(path: &Path, batches: &[RecordBatch]) -> Result<()> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ext != "csv" && ext != "parquet" {
        return Err(AppError::invalid(format!(
            "output {}: use a .csv or .parquet file name",
            path.display()
        )));
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o666));
    }
    let tmp = builder
        .tempfile_in(dir)
        .map_err(io("cannot create a file in", dir))?;
    let file = tmp.reopen().map_err(io("cannot reopen", tmp.path()))?;
    let arrow = |what: &str| {
        let what = what.to_owned();
        move |source| AppError::Arrow { what, source }
    };
    if ext == "csv" {
        let mut w = millwright_data::arrow::csv::WriterBuilder::new()
            .with_header(true)
            .build(file);
        for b in batches {
            w.write(b).map_err(arrow("writing CSV"))?;
        }
    } else {
        let parquet = |e: millwright_data::parquet::errors::ParquetError| e.into();
        let mut w =
            millwright_data::parquet::arrow::ArrowWriter::try_new(file, batches[0].schema(), None)
                .map_err(|e| arrow("writing Parquet")(parquet(e)))?;
        for b in batches {
            w.write(b)
                .map_err(|e| arrow("writing Parquet")(parquet(e)))?;
        }
        w.close()
            .map_err(|e| arrow("writing Parquet")(parquet(e)))?;
    }
    tmp.persist(path)
        .map_err(|e| io("cannot write", path)(e.error))?;
    Ok(())
}

/// Every registered model's versions, or one model's.
pub fn models(home: &Home, name: Option<&str>) -> Result<Vec<VersionSummary>> {
    Ok(registry::list(home.root(), name)?)
}

/// One version's manifest (`spec`: `NAME@VERSION`, `NAME@ALIAS` or `NAME`): classes, pipeline, params.
pub fn manifest(home: &Home, spec: &str) -> Result<registry::Manifest> {
    Ok(registry::manifest(home.root(), spec)?.0)
}

/// Points `alias` at the version `spec` names, recorded with `actor` in the model's alias history.
pub fn promote(home: &Home, spec: &str, alias: &str, actor: &str) -> Result<AliasUpdate> {
    Ok(registry::promote(home.root(), spec, alias, actor)?)
}

/// Moves `alias` back to the version it named before its last promote.
pub fn rollback(home: &Home, name: &str, alias: &str, actor: &str) -> Result<AliasUpdate> {
    Ok(registry::rollback(home.root(), name, alias, actor)?)
}

/// Deletes one version of a model for good, `spec` naming it by number (`failure@3`: a delete does not
/// follow `latest` or an alias). Refused while an alias points at it; the number is never reused.
pub fn delete_version(home: &Home, spec: &str, actor: &str) -> Result<registry::DeletedVersion> {
    let (name, selector) = registry::parse_spec(spec)?;
    let registry::Selector::Version(version) = selector else {
        return Err(AppError::invalid(format!(
            "name the version to delete by its number (e.g. {name}@3), not {spec:?}"
        )));
    };
    Ok(registry::delete_version(
        home.root(),
        &name,
        version,
        actor,
    )?)
}

/// A registered model's aliases and their history.
pub fn aliases(home: &Home, name: &str) -> Result<Aliases> {
    registry::validate_name(name)?;
    if registry::versions(home.root(), name)?.is_empty() {
        return Err(millwright_learn::error::LearnError::ModelNotFound(
            name.to_owned(),
            models_dir(home),
        )
        .into());
    }
    Ok(registry::aliases(home.root(), name)?)
}

/// Where the registry lives, for messages such as "no models in ...".
pub fn models_dir(home: &Home) -> PathBuf {
    registry::models_dir(home.root())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::{Event, EventSink};

    /// An observer whose caller has asked it to stop from the start.
    struct Stopped;

    impl EventSink for Stopped {
        fn event(&self, _event: Event) {}
        fn cancelled(&self) -> bool {
            true
        }
    }

    #[tokio::test]
    async fn a_cancelled_training_registers_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let home = Home::new(dir.path().join("home"));
        home.ensure().unwrap();
        let mut csv = String::from("temperature,speed,label\n");
        for i in 0u32..100 {
            let label = u8::from(i % 4 == 0);
            csv.push_str(&format!(
                "{},{},{label}\n",
                20 + i % 9 + 3 * u32::from(label),
                1500 + i % 13
            ));
        }
        let file = dir.path().join("rows.csv");
        std::fs::write(&file, csv).unwrap();
        let options = TrainOptions {
            train: Some(file),
            target: "label".into(),
            model: Some("logistic".into()),
            name: Some("stopped".into()),
            ..TrainOptions::default()
        };
        let observer = Observer::new(Arc::new(Stopped));
        let err = train(&home, options.job().unwrap(), &observer)
            .await
            .err()
            .expect("a cancelled training succeeded");
        assert!(
            matches!(
                err.root(),
                AppError::Learn(millwright_learn::error::LearnError::Cancelled)
            ),
            "{err:?}"
        );
        assert!(models(&home, None).unwrap().is_empty());
        // The same options, not cancelled, train and register.
        train(&home, options.job().unwrap(), &Observer::silent())
            .await
            .unwrap();
        assert_eq!(models(&home, None).unwrap().len(), 1);
    }

    #[test]
    fn train_options_need_one_source_of_rows() {
        let none = TrainOptions {
            target: "y".into(),
            ..TrainOptions::default()
        };
        assert!(matches!(none.job(), Err(AppError::Invalid(_))));
        let both = TrainOptions {
            dataset: Some("d".into()),
            train: Some("t.csv".into()),
            target: "y".into(),
            ..TrainOptions::default()
        };
        assert!(matches!(both.job(), Err(AppError::Invalid(_))));
        let bad_kind = TrainOptions {
            dataset: Some("d".into()),
            target: "y".into(),
            model: Some("forest".into()),
            ..TrainOptions::default()
        };
        assert!(bad_kind.job().is_err());
    }
}
