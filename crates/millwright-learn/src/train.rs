//! The training flow, one stage per function: split → labels → pipeline (fitted on train) → selection
//! (candidates, CV, random search, threshold on training data) → final fit → test evaluation → registry.

use std::collections::BTreeMap;
use std::time::Instant;

use arrow::array::{Array, RecordBatch, StringArray, UInt32Array};
use arrow::compute::{cast, take_record_batch};
use arrow::datatypes::DataType;
use millwright_core::{ProgressHandle, Unit};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::error::{LearnError, Result};
use crate::gbdt::{Gbdt, GbdtConfig};
use crate::logistic::{Logistic, LogisticConfig};
use crate::matrix::{select, Matrix};
use crate::metrics::{self, BinaryMetrics, MulticlassMetrics, RegressionMetrics, ThresholdRule};
use crate::mlp::{self, EpochReport, MlpConfig};
use crate::model::{Estimator, ModelKind};
use crate::pipeline::{DerivedFeature, FeatureDeriver, Pipeline, PipelineSpec};
use crate::registry::{self, Lineage, Manifest};
use crate::split::{self, Split};
use crate::task::Task;

/// Which model kinds to train.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KindChoice {
    One(ModelKind),
    /// Cross-validate these kinds (default configurations plus the random-search trials, spread over
    /// them) and keep the best, as [`KindChoice::Auto`] does for every kind.
    Among(Vec<ModelKind>),
    /// Cross-validate every kind that can learn the task and keep the best.
    Auto,
}

impl KindChoice {
    /// Whether the model is chosen by cross-validation among several kinds.
    pub fn selects(&self) -> bool {
        !matches!(self, KindChoice::One(_))
    }

    /// The kinds to train for `task`. `Auto` takes those that can learn it; a kind named explicitly that
    /// cannot is an error.
    pub fn kinds(&self, task: Task) -> Result<Vec<ModelKind>> {
        let named = match self {
            KindChoice::Auto => {
                return Ok(ModelKind::ALL
                    .into_iter()
                    .filter(|&k| can_learn(k, task))
                    .collect())
            }
            KindChoice::One(kind) => std::slice::from_ref(kind),
            KindChoice::Among(kinds) => kinds.as_slice(),
        };
        match named.iter().find(|&&k| !can_learn(k, task)) {
            Some(&kind) => Err(cannot_learn(kind, task)),
            None => Ok(named.to_vec()),
        }
    }
}

fn cannot_learn(kind: ModelKind, task: Task) -> LearnError {
    let supported: Vec<&str> = ModelKind::ALL
        .into_iter()
        .filter(|&k| can_learn(k, task))
        .map(|k| k.name())
        .collect();
    LearnError::KindUnsupportedForTask {
        kind,
        task: task.name(),
        supported: supported.join(", "),
    }
}

/// Logistic regression is binary; the trees do binary and regression; the MLP every task.
fn can_learn(kind: ModelKind, task: Task) -> bool {
    match kind {
        ModelKind::Mlp => true,
        ModelKind::Logistic => task == Task::Binary,
        ModelKind::Gbdt => !matches!(task, Task::Multiclass { .. }),
    }
}

impl std::fmt::Display for KindChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KindChoice::One(kind) => f.write_str(kind.name()),
            KindChoice::Among(kinds) => {
                let names: Vec<&str> = kinds.iter().map(super::model::ModelKind::name).collect();
                f.write_str(&names.join(","))
            }
            KindChoice::Auto => f.write_str("auto"),
        }
    }
}

/// `auto`, one kind (`gbdt`), or several separated by commas (`mlp,gbdt`).
impl std::str::FromStr for KindChoice {
    type Err = LearnError;
    fn from_str(s: &str) -> Result<Self> {
        if s.trim().eq_ignore_ascii_case("auto") {
            return Ok(KindChoice::Auto);
        }
        let mut kinds: Vec<ModelKind> = Vec::new();
        for part in s.split(',') {
            let kind: ModelKind = part.trim().parse()?;
            if !kinds.contains(&kind) {
                kinds.push(kind);
            }
        }
        Ok(match kinds.as_slice() {
            [one] => KindChoice::One(*one),
            _ => KindChoice::Among(kinds),
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TaskChoice {
    #[default]
    Binary,
    Multiclass,
    Regression,
}

impl std::str::FromStr for TaskChoice {
    type Err = LearnError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "binary" => Ok(TaskChoice::Binary),
            "multiclass" | "multi-class" => Ok(TaskChoice::Multiclass),
            "regression" => Ok(TaskChoice::Regression),
            other => Err(LearnError::InvalidConfig(format!(
                "unknown task '{other}' (binary, multiclass, regression)"
            ))),
        }
    }
}

/// Parses a decision threshold: a number, `max-f1`, or `cost:MISSED:FALSE_ALARM`.
pub fn parse_threshold(text: &str) -> Result<ThresholdRule> {
    let bad = || LearnError::InvalidThreshold {
        text: text.to_string(),
    };
    if text.eq_ignore_ascii_case("max-f1") {
        return Ok(ThresholdRule::MaxF1);
    }
    if let Some(rest) = text.strip_prefix("cost:") {
        let (m, f) = rest.split_once(':').ok_or_else(bad)?;
        let (missed, false_alarm) = (
            m.parse::<f64>().map_err(|_| bad())?,
            f.parse::<f64>().map_err(|_| bad())?,
        );
        if !(missed >= 0.0 && false_alarm >= 0.0 && missed + false_alarm > 0.0) {
            return Err(bad());
        }
        return Ok(ThresholdRule::MinCost(metrics::CostMatrix {
            missed,
            false_alarm,
        }));
    }
    let value: f64 = text.parse().map_err(|_| bad())?;
    if !(value > 0.0 && value < 1.0) {
        return Err(bad());
    }
    Ok(ThresholdRule::Fixed { value })
}

#[derive(Debug, Clone)]
pub struct TrainRequest {
    pub name: String,
    pub target: String,
    pub drop: Vec<String>,
    pub features: Vec<DerivedFeature>,
    pub kind: KindChoice,
    pub task: TaskChoice,
    pub mlp: MlpConfig,
    pub gbdt: GbdtConfig,
    pub logistic: LogisticConfig,
    /// Share of rows held out for testing when no test set is given.
    pub test_fraction: f64,
    /// Split by this column (latest rows tested) instead of at random.
    pub time_column: Option<String>,
    pub seed: u64,
    pub cv: Option<usize>,
    /// Random-search trials (configurations) per run.
    pub search: usize,
    /// Weight classes inversely to their frequency.
    pub balanced: bool,
    /// `None`: max F1 when the kind is chosen among several, 0.5 otherwise (the reference rule).
    pub threshold: Option<ThresholdRule>,
    pub lineage: Lineage,
    /// Told of the stages `cross-validation` (folds) and `fit <kind>` (epochs for the MLP).
    pub progress: ProgressHandle,
    /// `None`: the fused CPU kernel; `cpu` or `cuda`: the candle trainer (feature `candle` / `cuda`).
    pub device: Option<String>,
}

impl TrainRequest {
    pub fn new(name: &str, target: &str) -> TrainRequest {
        TrainRequest {
            name: name.to_string(),
            target: target.to_string(),
            drop: Vec::new(),
            features: Vec::new(),
            kind: KindChoice::One(ModelKind::Mlp),
            task: TaskChoice::Binary,
            mlp: MlpConfig::default(),
            gbdt: GbdtConfig::default(),
            logistic: LogisticConfig::default(),
            test_fraction: 0.2,
            time_column: None,
            seed: 42,
            cv: None,
            search: 0,
            balanced: false,
            threshold: None,
            lineage: Lineage::default(),
            progress: ProgressHandle::default(),
            device: None,
        }
    }
}

/// Sees training as it happens (the run recorder implements it).
pub trait TrainObserver {
    /// Each epoch of the final fit.
    fn on_epoch(&mut self, _report: &EpochReport) {}
    /// The run this training is recorded as, stored in the model's lineage.
    fn run_id(&self) -> Option<String> {
        None
    }
}

/// Observes nothing.
pub struct NoObserver;
impl TrainObserver for NoObserver {}

/// One candidate configuration.
#[derive(Debug, Clone, PartialEq)]
pub enum Candidate {
    Mlp(MlpConfig),
    Logistic(LogisticConfig),
    Gbdt(GbdtConfig),
}

impl Candidate {
    pub fn kind(&self) -> ModelKind {
        match self {
            Candidate::Mlp(_) => ModelKind::Mlp,
            Candidate::Logistic(_) => ModelKind::Logistic,
            Candidate::Gbdt(_) => ModelKind::Gbdt,
        }
    }

    pub fn params(&self) -> serde_json::Value {
        match self {
            Candidate::Mlp(c) => serde_json::to_value(c),
            Candidate::Logistic(c) => serde_json::to_value(c),
            Candidate::Gbdt(c) => serde_json::to_value(c),
        }
        .expect("configs serialise")
    }
}

/// Cross-validation result of one candidate.
#[derive(Debug, Clone, Serialize)]
pub struct CvScore {
    pub kind: ModelKind,
    pub params: serde_json::Value,
    /// The selection metric (`pr_auc`, `accuracy` or `neg_rmse`).
    pub metric: String,
    pub mean: f64,
    pub std: f64,
    pub folds: Vec<f64>,
}

/// Test-split metrics of the final model. Stored untagged (the manifest's `metrics` object is the flat
/// name → value map); the variants' required fields tell them apart when read back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum TestMetrics {
    Binary(BinaryMetrics),
    Multiclass(MulticlassMetrics),
    Regression(RegressionMetrics),
}

impl TestMetrics {
    /// The metrics of `task` for `outputs` predicted on rows labelled `y` (`threshold`: binary decisions).
    pub fn of(task: Task, y: &[f64], outputs: &[f64], threshold: f64) -> TestMetrics {
        match task {
            Task::Binary => TestMetrics::Binary(metrics::binary(y, outputs, threshold)),
            Task::Multiclass { classes } => {
                TestMetrics::Multiclass(metrics::multiclass(y, outputs, classes))
            }
            Task::Regression => TestMetrics::Regression(metrics::regression(y, outputs)),
        }
    }

    /// Flat name → value map (for the manifest, the run and `--json`).
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("metrics serialise")
    }
}

#[derive(Debug)]
pub struct TrainOutcome {
    pub manifest: Manifest,
    pub test: TestMetrics,
    /// Per-epoch figures of the final MLP fit (empty for other kinds).
    pub history: Vec<EpochReport>,
    /// Every candidate evaluated by CV, best first.
    pub cv: Vec<CvScore>,
    /// Drop in the test score when each matrix column is shuffled, largest first.
    pub importance: Vec<(String, f64)>,
    pub test_y: Vec<f64>,
    pub test_pred: Vec<f64>,
    pub train_rows: usize,
    pub test_rows: usize,
    pub fit_seconds: f64,
    pub seconds: f64,
}

/// Target values as the models read them, and the class labels.
pub struct Labels {
    pub task: Task,
    pub y: Vec<f64>,
    pub classes: Vec<String>,
}

fn target_strings(batch: &RecordBatch, target: &str) -> Result<Vec<String>> {
    let array = batch
        .column_by_name(target)
        .ok_or_else(|| LearnError::TargetMissing(target.to_string(), column_names(batch)))?;
    let text = cast(array, &DataType::Utf8)?;
    let text = text.as_any().downcast_ref::<StringArray>().expect("Utf8");
    (0..text.len())
        .map(|row| {
            if text.is_null(row) {
                Err(LearnError::TargetValue {
                    column: target.to_string(),
                    row,
                    problem: "is empty (rows without a label cannot train or test)".into(),
                })
            } else {
                Ok(text.value(row).to_string())
            }
        })
        .collect()
}

/// Reads the target of the training rows and fixes the class order (numeric when every label is a number).
pub fn fit_labels(batch: &RecordBatch, target: &str, task: TaskChoice) -> Result<Labels> {
    let values = target_strings(batch, target)?;
    if values.is_empty() {
        return Err(LearnError::EmptyInput);
    }
    if task == TaskChoice::Regression {
        let y = values
            .iter()
            .enumerate()
            .map(|(row, v)| match v.parse::<f64>() {
                Ok(x) if x.is_finite() => Ok(x),
                _ => Err(LearnError::TargetValue {
                    column: target.to_string(),
                    row,
                    problem: format!("'{v}' is not a finite number (regression target)"),
                }),
            })
            .collect::<Result<Vec<f64>>>()?;
        if y.iter().all(|&v| v == y[0]) {
            return Err(LearnError::TargetConstant {
                column: target.into(),
                value: y[0].to_string(),
            });
        }
        return Ok(Labels {
            task: Task::Regression,
            y,
            classes: Vec::new(),
        });
    }
    let mut classes: Vec<String> = values
        .iter()
        .cloned()
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    if classes.iter().all(|c| c.parse::<f64>().is_ok()) {
        classes.sort_by(|a, b| {
            a.parse::<f64>()
                .unwrap()
                .total_cmp(&b.parse::<f64>().unwrap())
        });
    }
    match (classes.len(), task) {
        (0, _) => return Err(LearnError::EmptyInput),
        (1, _) => {
            return Err(LearnError::TargetConstant {
                column: target.into(),
                value: classes[0].clone(),
            })
        }
        (2, _) => {}
        (n, TaskChoice::Binary) => {
            return Err(LearnError::TargetNotBinary {
                column: target.into(),
                count: n,
                values: classes
                    .iter()
                    .take(10)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", "),
            })
        }
        _ => {}
    }
    let task = if classes.len() == 2 && task == TaskChoice::Binary {
        Task::Binary
    } else {
        Task::Multiclass {
            classes: classes.len(),
        }
    };
    let y = encode_labels(&values, &classes, target)?;
    Ok(Labels { task, y, classes })
}

fn encode_labels(values: &[String], classes: &[String], target: &str) -> Result<Vec<f64>> {
    values
        .iter()
        .enumerate()
        .map(|(row, v)| {
            classes
                .iter()
                .position(|c| c == v)
                .map(|i| i as f64)
                .ok_or_else(|| LearnError::TargetValue {
                    column: target.to_string(),
                    row,
                    problem: format!(
                        "label '{v}' was not seen in training (classes: {})",
                        classes.join(", ")
                    ),
                })
        })
        .collect()
}

/// Labels of another split with the training classes.
pub fn apply_labels(batch: &RecordBatch, target: &str, labels: &Labels) -> Result<Vec<f64>> {
    let values = target_strings(batch, target)?;
    if labels.task == Task::Regression {
        return values
            .iter()
            .enumerate()
            .map(|(row, v)| {
                v.parse::<f64>().map_err(|_| LearnError::TargetValue {
                    column: target.to_string(),
                    row,
                    problem: format!("'{v}' is not a number"),
                })
            })
            .collect();
    }
    encode_labels(&values, &labels.classes, target)
}

fn class_weights(y: &[f64], k: usize) -> Vec<f64> {
    let mut counts = vec![0usize; k];
    for &v in y {
        counts[v as usize] += 1;
    }
    let n = y.len() as f64;
    y.iter()
        .map(|&v| n / (k as f64 * counts[v as usize] as f64))
        .collect()
}

/// Fits one candidate. `validation` feeds the MLP's per-epoch report (and early stopping).
fn fit_candidate(
    cand: &Candidate,
    task: Task,
    data: &mlp::TrainData<'_>,
    seed: u64,
    device: Option<&str>,
    validation: Option<(&Matrix, &[f64])>,
    on_epoch: &mut dyn FnMut(&EpochReport) -> std::ops::ControlFlow<()>,
) -> Result<(Estimator, Vec<EpochReport>)> {
    match cand {
        Candidate::Mlp(cfg) => {
            let (net, hist) = match device {
                None => mlp::train(data, task, cfg, seed, validation, on_epoch)?,
                // The candle trainer is not stopped between epochs: a cancel takes effect after it.
                #[cfg(feature = "candle")]
                Some(name) => {
                    let dev = crate::candle_mlp::device(name)?;
                    crate::candle_mlp::train(data, task, cfg, seed, &dev, validation, &mut |r| {
                        let _ = on_epoch(r);
                    })?
                }
                #[cfg(not(feature = "candle"))]
                Some(name) => {
                    return Err(LearnError::DeviceNotBuilt {
                        device: name.to_string(),
                    })
                }
            };
            Ok((Estimator::Mlp(net), hist))
        }
        Candidate::Logistic(cfg) => {
            if task != Task::Binary {
                return Err(cannot_learn(ModelKind::Logistic, task));
            }
            Ok((
                Estimator::Logistic(Logistic::fit(data.x, data.y, data.weights, cfg)?),
                Vec::new(),
            ))
        }
        Candidate::Gbdt(cfg) => Ok((
            Estimator::Gbdt(Box::new(Gbdt::fit(
                data.x,
                data.y,
                data.weights,
                task,
                cfg,
                seed,
            )?)),
            Vec::new(),
        )),
    }
}

/// The score CV maximises.
/// Fits `cand` on the listed training rows only, without validation or progress: CV folds and the
/// threshold's inner split.
fn fit_on_rows(
    cand: &Candidate,
    task: Task,
    x: &Matrix,
    y: &[f64],
    weights: Option<&[f64]>,
    rows: &[usize],
    req: &TrainRequest,
) -> Result<Estimator> {
    let (xt, yt) = (x.select_rows(rows), select(y, rows));
    let wt = weights.map(|w| select(w, rows));
    let data = mlp::TrainData {
        x: &xt,
        y: &yt,
        weights: wt.as_deref(),
    };
    let (est, _) = fit_candidate(
        cand,
        task,
        &data,
        req.seed,
        req.device.as_deref(),
        None,
        // CV folds and the threshold's inner fit stop at a cancel too.
        &mut |_| {
            if req.progress.cancelled() {
                std::ops::ControlFlow::Break(())
            } else {
                std::ops::ControlFlow::Continue(())
            }
        },
    )?;
    Ok(est)
}

fn selection_score(task: Task, y: &[f64], pred: &[f64]) -> (String, f64) {
    match task {
        Task::Binary => ("pr_auc".into(), metrics::average_precision(y, pred)),
        Task::Multiclass { classes } => (
            "accuracy".into(),
            metrics::multiclass(y, pred, classes).accuracy,
        ),
        Task::Regression => ("neg_rmse".into(), -metrics::regression(y, pred).rmse),
    }
}

/// A random configuration near the given one (the search space of `--search`).
fn sample(kind: ModelKind, base: &TrainRequest, rng: &mut ChaCha8Rng) -> Candidate {
    let log_uniform =
        |rng: &mut ChaCha8Rng, lo: f64, hi: f64| (rng.random_range(lo.ln()..hi.ln())).exp();
    match kind {
        ModelKind::Mlp => {
            const SHAPES: [&[usize]; 5] = [&[32, 16], &[64, 32], &[32], &[64, 32, 16], &[128, 64]];
            Candidate::Mlp(MlpConfig {
                hidden: SHAPES[rng.random_range(0..SHAPES.len())].to_vec(),
                learning_rate: log_uniform(rng, 3e-4, 1e-2) as f32,
                l2: if rng.random_bool(0.5) {
                    0.0
                } else {
                    log_uniform(rng, 1e-6, 1e-3) as f32
                },
                dropout: [0.0, 0.1, 0.2][rng.random_range(0..3)],
                ..base.mlp.clone()
            })
        }
        ModelKind::Logistic => Candidate::Logistic(LogisticConfig {
            l2: log_uniform(rng, 1e-6, 1.0),
            ..base.logistic.clone()
        }),
        ModelKind::Gbdt => Candidate::Gbdt(GbdtConfig {
            iterations: rng.random_range(100..=800),
            learning_rate: log_uniform(rng, 0.01, 0.3) as f32,
            max_depth: rng.random_range(3..=10),
            min_leaf_weight: log_uniform(rng, 0.1, 10.0) as f32,
            l2: log_uniform(rng, 0.1, 10.0) as f32,
            subsample: rng.random_range(0.6..=1.0),
            colsample: rng.random_range(0.6..=1.0),
        }),
    }
}

fn default_candidate(kind: ModelKind, req: &TrainRequest) -> Candidate {
    match kind {
        ModelKind::Mlp => Candidate::Mlp(req.mlp.clone()),
        ModelKind::Logistic => Candidate::Logistic(req.logistic.clone()),
        ModelKind::Gbdt => Candidate::Gbdt(req.gbdt.clone()),
    }
}

fn column_names(batch: &RecordBatch) -> String {
    let schema = batch.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    names.join(", ")
}

fn take(batch: &RecordBatch, idx: &[usize]) -> Result<RecordBatch> {
    let indices = UInt32Array::from(idx.iter().map(|&i| i as u32).collect::<Vec<_>>());
    Ok(take_record_batch(batch, &indices)?)
}

fn time_values(batch: &RecordBatch, column: &str) -> Result<Vec<i64>> {
    let array = batch
        .column_by_name(column)
        .ok_or_else(|| LearnError::TimeColumnMissing {
            column: column.to_string(),
            available: column_names(batch),
        })?;
    let as_int = match array.data_type() {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => cast(
            &cast(
                array,
                &DataType::Timestamp(arrow::datatypes::TimeUnit::Nanosecond, None),
            )?,
            &DataType::Int64,
        )?,
        DataType::Float32 | DataType::Float64 => {
            cast(&cast(array, &DataType::Float64)?, &DataType::Int64)?
        }
        _ => cast(array, &DataType::Int64)?,
    };
    let ints = as_int
        .as_any()
        .downcast_ref::<arrow::array::Int64Array>()
        .expect("Int64");
    (0..ints.len())
        .map(|row| {
            if ints.is_null(row) {
                Err(LearnError::TimeValue {
                    column: column.to_string(),
                    row,
                })
            } else {
                Ok(ints.value(row))
            }
        })
        .collect()
}

/// Trains, evaluates and registers a model. `test`: a separate test set; otherwise the split is made here.
pub fn train(
    home: &std::path::Path,
    req: &TrainRequest,
    data: &RecordBatch,
    test: Option<&RecordBatch>,
    deriver: Option<&dyn FeatureDeriver>,
    observer: &mut dyn TrainObserver,
) -> Result<TrainOutcome> {
    let started = Instant::now();
    registry::validate_name(&req.name)?;
    let (train_batch, test_batch) = split_rows(req, data, test)?;
    let labels = fit_labels(&train_batch, &req.target, req.task)?;
    let y_test = apply_labels(&test_batch, &req.target, &labels)?;
    let features = fit_pipeline(req, &labels, &train_batch, &test_batch, deriver)?;
    let selection = select_model(req, &labels, &features)?;
    if req.progress.cancelled() {
        return Err(LearnError::Cancelled);
    }
    let fit_started = Instant::now();
    let (estimator, history) = fit_final(
        req,
        &selection.chosen,
        &labels,
        &features,
        &y_test,
        observer,
    )?;
    let fit_seconds = fit_started.elapsed().as_secs_f64();
    let test_pred = estimator.predict(&features.x_test);
    let test_metrics = TestMetrics::of(labels.task, &y_test, &test_pred, selection.threshold);
    let importance = permutation_importance(
        &estimator,
        labels.task,
        &features.x_test,
        &y_test,
        &features.pipeline.output_names(),
        req.seed,
    );
    let (train_rows, test_rows) = (features.x_train.rows, features.x_test.rows);
    if req.progress.cancelled() {
        return Err(LearnError::Cancelled);
    }
    let manifest = register(
        home,
        req,
        observer,
        labels,
        &selection,
        features.pipeline,
        &estimator,
        &test_metrics,
    )?;
    Ok(TrainOutcome {
        manifest,
        test: test_metrics,
        history,
        cv: selection.cv,
        importance,
        test_y: y_test,
        test_pred,
        train_rows,
        test_rows,
        fit_seconds,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The training and test rows: `data` and the separate `test` set, or a split of `data` (by time,
/// stratified by class, or at random for regression).
fn split_rows(
    req: &TrainRequest,
    data: &RecordBatch,
    test: Option<&RecordBatch>,
) -> Result<(RecordBatch, RecordBatch)> {
    if data.num_rows() == 0 {
        return Err(LearnError::EmptyInput);
    }
    if let Some(test) = test {
        if test.num_rows() == 0 {
            return Err(LearnError::EmptyInput);
        }
        return Ok((data.clone(), test.clone()));
    }
    let split: Split = if let Some(column) = &req.time_column {
        split::time_ordered(&time_values(data, column)?, req.test_fraction)?
    } else if req.task == TaskChoice::Regression {
        split::random(data.num_rows(), req.test_fraction, req.seed)?
    } else {
        let labels = fit_labels(data, &req.target, req.task)?;
        split::stratified(&labels.y, req.test_fraction, req.seed)?
    };
    for (side, rows) in [("training", &split.train), ("test", &split.test)] {
        if rows.is_empty() {
            return Err(LearnError::EmptySplit {
                side,
                rows: data.num_rows(),
                test_fraction: req.test_fraction,
            });
        }
    }
    Ok((take(data, &split.train)?, take(data, &split.test)?))
}

/// The feature matrices of both splits, from a pipeline fitted on the training rows only.
struct Features {
    pipeline: Pipeline,
    x_train: Matrix,
    x_test: Matrix,
    /// Per training row, inversely to its class's frequency (`balanced` classification).
    weights: Option<Vec<f64>>,
}

fn fit_pipeline(
    req: &TrainRequest,
    labels: &Labels,
    train_batch: &RecordBatch,
    test_batch: &RecordBatch,
    deriver: Option<&dyn FeatureDeriver>,
) -> Result<Features> {
    let mut drop = req.drop.clone();
    if let Some(column) = &req.time_column {
        if !drop.contains(column) {
            drop.push(column.clone());
        }
    }
    let spec = PipelineSpec {
        target: req.target.clone(),
        drop,
        features: req.features.clone(),
        max_categories: 0,
    };
    let (pipeline, x_train) = Pipeline::fit(&spec, train_batch, deriver)?;
    let x_test = pipeline.transform(test_batch, deriver)?;
    let task = labels.task;
    let weights = (req.balanced && task.is_classification())
        .then(|| class_weights(&labels.y, task.outputs().max(2)));
    Ok(Features {
        pipeline,
        x_train,
        x_test,
        weights,
    })
}

/// What model selection decided, on the training rows only.
struct Selection {
    chosen: Candidate,
    rule: ThresholdRule,
    threshold: f64,
    /// Every candidate's cross-validation score, best first (empty without cross-validation).
    cv: Vec<CvScore>,
    /// The number of folds, when there was cross-validation.
    folds: Option<usize>,
}

/// The candidates (each kind's configuration, then the random-search trials), scored by k-fold
/// cross-validation when there is more than one or CV was asked for; the best, and its threshold.
fn select_model(req: &TrainRequest, labels: &Labels, features: &Features) -> Result<Selection> {
    let task = labels.task;
    let kinds = req.kind.kinds(task)?;
    let mut candidates: Vec<Candidate> = kinds.iter().map(|&k| default_candidate(k, req)).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(req.seed ^ 0x5EA2C4);
    for i in 0..req.search {
        candidates.push(sample(kinds[i % kinds.len()], req, &mut rng));
    }
    let rule = req.threshold.unwrap_or(if req.kind.selects() {
        ThresholdRule::MaxF1
    } else {
        ThresholdRule::Fixed { value: 0.5 }
    });
    let folds = (candidates.len() > 1 || req.cv.is_some()).then(|| req.cv.unwrap_or(5));
    let scored = match folds {
        Some(k) => cross_validate(req, task, &candidates, features, &labels.y, k)?,
        None => Vec::new(),
    };
    let best = scored
        .iter()
        .enumerate()
        .max_by(|a, b| a.1 .0.mean.total_cmp(&b.1 .0.mean))
        .map_or(0, |(i, _)| i);
    let chosen = candidates.swap_remove(best);
    let out_of_fold = scored.get(best).map(|(_, oof)| oof.as_slice());
    let threshold = decision_threshold(req, task, rule, &chosen, out_of_fold, features, &labels.y)?;
    let mut cv: Vec<CvScore> = scored.into_iter().map(|(s, _)| s).collect();
    cv.sort_by(|a, b| b.mean.total_cmp(&a.mean));
    Ok(Selection {
        chosen,
        rule,
        threshold,
        cv,
        folds,
    })
}

/// Scores every candidate by `k`-fold CV on the training rows; keeps each one's out-of-fold predictions
/// for the threshold.
fn cross_validate(
    req: &TrainRequest,
    task: Task,
    candidates: &[Candidate],
    features: &Features,
    y: &[f64],
    k: usize,
) -> Result<Vec<(CvScore, Vec<f64>)>> {
    let folds = split::k_fold(y, k, req.seed, task.is_classification())?;
    let progress = &req.progress;
    progress.stage(
        "cross-validation",
        Some((candidates.len() * k) as u64),
        Unit::Folds,
    );
    let (x, weights, w) = (
        &features.x_train,
        features.weights.as_deref(),
        task.outputs(),
    );
    let mut done = 0;
    let mut scored = Vec::with_capacity(candidates.len());
    for cand in candidates {
        let mut oof = vec![0.0; y.len() * w];
        let mut fold_scores = Vec::with_capacity(k);
        let mut metric = String::new();
        for fold in &folds {
            if progress.cancelled() {
                return Err(LearnError::Cancelled);
            }
            let est = fit_on_rows(cand, task, x, y, weights, &fold.train, req)?;
            let pred = est.predict(&x.select_rows(&fold.test));
            let (name, score) = selection_score(task, &select(y, &fold.test), &pred);
            for (j, &row) in fold.test.iter().enumerate() {
                oof[row * w..(row + 1) * w].copy_from_slice(&pred[j * w..(j + 1) * w]);
            }
            done += 1;
            progress.advance(done);
            progress.note(&format!("{} {name} {score:.4}", cand.kind()));
            metric = name;
            fold_scores.push(score);
        }
        let mean = fold_scores.iter().sum::<f64>() / k as f64;
        let std = (fold_scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / k as f64).sqrt();
        let score = CvScore {
            kind: cand.kind(),
            params: cand.params(),
            metric,
            mean,
            std,
            folds: fold_scores,
        };
        scored.push((score, oof));
    }
    Ok(scored)
}

/// The binary decision threshold, from training data only: the chosen candidate's out-of-fold
/// predictions, or an inner validation split when there was no CV. Other tasks have none (0.5).
fn decision_threshold(
    req: &TrainRequest,
    task: Task,
    rule: ThresholdRule,
    chosen: &Candidate,
    out_of_fold: Option<&[f64]>,
    features: &Features,
    y: &[f64],
) -> Result<f64> {
    match (task, rule, out_of_fold) {
        (Task::Binary, ThresholdRule::Fixed { value }, _) => Ok(value),
        (Task::Binary, rule, Some(oof)) => Ok(metrics::choose_threshold(y, oof, rule)),
        (Task::Binary, rule, None) => {
            let inner = split::stratified(y, 0.2, req.seed.wrapping_add(1))?;
            let x = &features.x_train;
            let weights = features.weights.as_deref();
            let est = fit_on_rows(chosen, task, x, y, weights, &inner.train, req)?;
            let pred = est.predict(&x.select_rows(&inner.test));
            Ok(metrics::choose_threshold(
                &select(y, &inner.test),
                &pred,
                rule,
            ))
        }
        _ => Ok(0.5),
    }
}

/// The final fit on all training rows. The MLP reports on the test split each epoch (as Keras'
/// validation_data), except that early stopping watches a slice of the training rows instead.
fn fit_final(
    req: &TrainRequest,
    chosen: &Candidate,
    labels: &Labels,
    features: &Features,
    y_test: &[f64],
    observer: &mut dyn TrainObserver,
) -> Result<(Estimator, Vec<EpochReport>)> {
    let (task, y, x) = (labels.task, labels.y.as_slice(), &features.x_train);
    let progress = &req.progress;
    let stage = format!("fit {}", chosen.kind());
    match chosen {
        Candidate::Mlp(c) => progress.stage(&stage, Some(c.epochs as u64), Unit::Epochs),
        _ => progress.stage(&stage, Some(1), Unit::Steps),
    }
    let mut epochs = 0;
    let mut on_epoch = |r: &EpochReport| {
        observer.on_epoch(r);
        epochs += 1;
        progress.advance(epochs);
        progress.point(
            "loss",
            r.epoch as f64,
            &[
                ("train", r.train_loss),
                ("val", r.val_loss.unwrap_or(f64::NAN)),
            ],
        );
        progress.note(&format!(
            "loss {:.4} val_loss {:.4}",
            r.train_loss,
            r.val_loss.unwrap_or(f64::NAN)
        ));
        if progress.cancelled() {
            std::ops::ControlFlow::Break(())
        } else {
            std::ops::ControlFlow::Continue(())
        }
    };
    let fitted = if matches!(chosen, Candidate::Mlp(c) if c.patience.is_some()) {
        let inner = if task.is_classification() {
            split::stratified(y, 0.1, req.seed.wrapping_add(2))?
        } else {
            split::random(y.len(), 0.1, req.seed.wrapping_add(2))?
        };
        let (xt, yt) = (x.select_rows(&inner.train), select(y, &inner.train));
        let (xv, yv) = (x.select_rows(&inner.test), select(y, &inner.test));
        let wt = features.weights.as_ref().map(|w| select(w, &inner.train));
        let data = mlp::TrainData {
            x: &xt,
            y: &yt,
            weights: wt.as_deref(),
        };
        let device = req.device.as_deref();
        fit_candidate(
            chosen,
            task,
            &data,
            req.seed,
            device,
            Some((&xv, &yv)),
            &mut on_epoch,
        )?
    } else {
        let data = mlp::TrainData {
            x,
            y,
            weights: features.weights.as_deref(),
        };
        let validation = Some((&features.x_test, y_test));
        let device = req.device.as_deref();
        fit_candidate(
            chosen,
            task,
            &data,
            req.seed,
            device,
            validation,
            &mut on_epoch,
        )?
    };
    if !matches!(chosen, Candidate::Mlp(_)) {
        progress.advance(1);
    }
    Ok(fitted)
}

/// Stores the model with its manifest (pipeline, threshold, parameters, test metrics, lineage).
#[allow(clippy::too_many_arguments)]
fn register(
    home: &std::path::Path,
    req: &TrainRequest,
    observer: &dyn TrainObserver,
    labels: Labels,
    selection: &Selection,
    pipeline: Pipeline,
    estimator: &Estimator,
    test_metrics: &TestMetrics,
) -> Result<Manifest> {
    let mut params = serde_json::json!({
        "model": selection.chosen.params(),
        "seed": req.seed,
        "balanced": req.balanced,
        "test_fraction": req.test_fraction,
        "drop": req.drop,
        "features": req.features.iter().map(|f| format!("{}={}", f.name, f.expr)).collect::<Vec<_>>(),
    });
    if let Some(k) = selection.folds {
        params["cv"] = serde_json::json!(k);
        params["search"] = serde_json::json!(req.search);
    }
    let mut lineage = req.lineage.clone();
    lineage.run = observer.run_id();
    let manifest = Manifest {
        format_version: registry::MANIFEST_VERSION,
        name: req.name.clone(),
        version: 0,
        kind: estimator.kind(),
        task: labels.task,
        created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        target: req.target.clone(),
        classes: labels.classes,
        threshold: selection.threshold,
        threshold_rule: selection.rule,
        pipeline,
        architecture: estimator.architecture(),
        params,
        metrics: test_metrics.clone(),
        lineage,
        weights_sha256: String::new(),
    };
    registry::save(home, manifest, estimator)
}

/// Score drop when one matrix column is shuffled (ROC-AUC for binary, accuracy for multi-class, R² for
/// regression); works for any model because it only calls `predict`.
pub fn permutation_importance(
    est: &Estimator,
    task: Task,
    x: &Matrix,
    y: &[f64],
    names: &[String],
    seed: u64,
) -> Vec<(String, f64)> {
    let score = |pred: &[f64]| match task {
        Task::Binary => metrics::roc_auc(y, pred),
        Task::Multiclass { classes } => metrics::multiclass(y, pred, classes).accuracy,
        Task::Regression => metrics::regression(y, pred).r2,
    };
    let base = score(&est.predict(x));
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut out: Vec<(String, f64)> = names
        .iter()
        .enumerate()
        .map(|(c, name)| {
            let mut shuffled = x.clone();
            let mut column: Vec<f64> = (0..x.rows).map(|r| x.data[r * x.cols + c]).collect();
            rand::seq::SliceRandom::shuffle(column.as_mut_slice(), &mut rng);
            for (r, v) in column.into_iter().enumerate() {
                shuffled.data[r * x.cols + c] = v;
            }
            (name.clone(), base - score(&est.predict(&shuffled)))
        })
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}

/// The figures `train --json` and the run record carry, by name.
pub fn summary_json(outcome: &TrainOutcome) -> serde_json::Value {
    let m = &outcome.manifest;
    let mut v = serde_json::json!({
        "run": m.lineage.run,
        "model": format!("{}@{}", m.name, m.version),
        "kind": m.kind,
        "task": m.task.name(),
        "threshold": m.threshold,
        "test": outcome.test.to_json(),
        "train_rows": outcome.train_rows,
        "test_rows": outcome.test_rows,
        "fit_seconds": outcome.fit_seconds,
        "seconds": outcome.seconds,
        "dropped": m.pipeline.dropped,
        "features": m.pipeline.output_names(),
        "importance": outcome.importance.iter().map(|(n, v)| serde_json::json!({"feature": n, "drop": v})).collect::<Vec<_>>(),
    });
    if !outcome.cv.is_empty() {
        v["cv"] = serde_json::to_value(&outcome.cv).expect("cv serialises");
    }
    if let Some(last) = outcome.history.last() {
        let mut epochs = BTreeMap::new();
        epochs.insert("epochs", serde_json::json!(outcome.history.len()));
        epochs.insert("final_train_loss", serde_json::json!(last.train_loss));
        epochs.insert("final_val_loss", serde_json::json!(last.val_loss));
        v["history"] = serde_json::to_value(epochs).expect("serialises");
    }
    v
}
