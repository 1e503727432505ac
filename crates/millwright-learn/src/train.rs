//! The training flow: labels → split → pipeline (fitted on train) → candidates (CV, random search) →
//! threshold on training data → final fit → test metrics → registry.

use std::collections::BTreeMap;
use std::time::Instant;

use arrow::array::{Array, RecordBatch, StringArray, UInt32Array};
use arrow::compute::{cast, take_record_batch};
use arrow::datatypes::DataType;
use indicatif::{ProgressBar, ProgressStyle};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindChoice {
    One(ModelKind),
    /// Cross-validate every kind and keep the best.
    Auto,
}

impl std::str::FromStr for KindChoice {
    type Err = LearnError;
    fn from_str(s: &str) -> Result<Self> {
        if s.eq_ignore_ascii_case("auto") {
            Ok(KindChoice::Auto)
        } else {
            s.parse().map(KindChoice::One)
        }
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

/// Parses `--threshold`: a number, `max-f1`, or `cost:MISSED:FALSE_ALARM`.
pub fn parse_threshold(text: &str) -> Result<ThresholdRule> {
    let bad = || {
        LearnError::InvalidConfig(format!(
            "--threshold '{text}': use a number in (0, 1), max-f1, or cost:MISSED:FALSE_ALARM (e.g. cost:50:1)"
        ))
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
    /// `None`: max F1 for `auto`, 0.5 otherwise (the reference rule).
    pub threshold: Option<ThresholdRule>,
    pub lineage: Lineage,
    pub progress: bool,
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
            progress: false,
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

/// Test-split metrics of the final model.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum TestMetrics {
    Binary(BinaryMetrics),
    Multiclass(MulticlassMetrics),
    Regression(RegressionMetrics),
}

impl TestMetrics {
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
    let array = batch.column_by_name(target).ok_or_else(|| {
        LearnError::TargetMissing(
            target.to_string(),
            batch
                .schema()
                .fields()
                .iter()
                .map(|f| f.name().as_str())
                .collect::<Vec<_>>()
                .join(", "),
        )
    })?;
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
    on_epoch: &mut dyn FnMut(&EpochReport),
) -> Result<(Estimator, Vec<EpochReport>)> {
    match cand {
        Candidate::Mlp(cfg) => {
            let (net, hist) = match device {
                None => mlp::train(data, task, cfg, seed, validation, on_epoch)?,
                #[cfg(feature = "candle")]
                Some(name) => {
                    let dev = crate::candle_mlp::device(name)?;
                    crate::candle_mlp::train(data, task, cfg, seed, &dev, validation, on_epoch)?
                }
                #[cfg(not(feature = "candle"))]
                Some(name) => {
                    return Err(LearnError::InvalidConfig(format!(
                        "--device {name} needs the candle trainer: build millwright with --features cuda"
                    )))
                }
            };
            Ok((Estimator::Mlp(net), hist))
        }
        Candidate::Logistic(cfg) => {
            if task != Task::Binary {
                return Err(LearnError::InvalidConfig(format!(
                    "logistic regression handles binary targets; this is a {} task (use --model mlp or gbdt)",
                    task.name()
                )));
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
        &mut |_| {},
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

fn test_metrics(task: Task, y: &[f64], pred: &[f64], threshold: f64) -> TestMetrics {
    match task {
        Task::Binary => TestMetrics::Binary(metrics::binary(y, pred, threshold)),
        Task::Multiclass { classes } => {
            TestMetrics::Multiclass(metrics::multiclass(y, pred, classes))
        }
        Task::Regression => TestMetrics::Regression(metrics::regression(y, pred)),
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

fn bar(show: bool, len: u64, what: &str) -> ProgressBar {
    if !show {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::new(len);
    pb.set_style(
        ProgressStyle::with_template("{prefix:>12} [{bar:30}] {pos}/{len} {msg} ({elapsed})")
            .expect("static template")
            .progress_chars("=> "),
    );
    pb.set_prefix(what.to_string());
    pb
}

fn take(batch: &RecordBatch, idx: &[usize]) -> Result<RecordBatch> {
    let indices = UInt32Array::from(idx.iter().map(|&i| i as u32).collect::<Vec<_>>());
    Ok(take_record_batch(batch, &indices)?)
}

fn time_values(batch: &RecordBatch, column: &str) -> Result<Vec<i64>> {
    let array = batch.column_by_name(column).ok_or_else(|| {
        LearnError::InvalidConfig(format!("--time-column '{column}' is not in the data"))
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
                Err(LearnError::InvalidConfig(format!(
                    "time column '{column}' row {row} is empty or not a time"
                )))
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
    if data.num_rows() == 0 {
        return Err(LearnError::EmptyInput);
    }
    // Split.
    let (train_batch, test_batch) = match test {
        Some(t) => {
            if t.num_rows() == 0 {
                return Err(LearnError::EmptyInput);
            }
            (data.clone(), t.clone())
        }
        None => {
            let s: Split = if let Some(col) = &req.time_column {
                split::time_ordered(&time_values(data, col)?, req.test_fraction)?
            } else if req.task == TaskChoice::Regression {
                split::random(data.num_rows(), req.test_fraction, req.seed)?
            } else {
                let labels = fit_labels(data, &req.target, req.task)?;
                split::stratified(&labels.y, req.test_fraction, req.seed)?
            };
            (take(data, &s.train)?, take(data, &s.test)?)
        }
    };
    let labels = fit_labels(&train_batch, &req.target, req.task)?;
    let task = labels.task;
    let y_test = apply_labels(&test_batch, &req.target, &labels)?;

    let mut drop = req.drop.clone();
    if let Some(col) = &req.time_column {
        if !drop.contains(col) {
            drop.push(col.clone());
        }
    }
    let spec = PipelineSpec {
        target: req.target.clone(),
        drop,
        features: req.features.clone(),
        max_categories: 0,
    };
    let (pipeline, x_train) = Pipeline::fit(&spec, &train_batch, deriver)?;
    let x_test = pipeline.transform(&test_batch, deriver)?;
    let y = &labels.y;
    let weights =
        (req.balanced && task.is_classification()).then(|| class_weights(y, task.outputs().max(2)));

    // Candidates.
    let kinds: Vec<ModelKind> = match req.kind {
        KindChoice::One(k) => vec![k],
        KindChoice::Auto => ModelKind::ALL
            .into_iter()
            .filter(|k| task == Task::Binary || *k != ModelKind::Logistic)
            .filter(|k| !matches!(task, Task::Multiclass { .. }) || *k == ModelKind::Mlp)
            .collect(),
    };
    let mut candidates: Vec<Candidate> = kinds.iter().map(|&k| default_candidate(k, req)).collect();
    let mut rng = ChaCha8Rng::seed_from_u64(req.seed ^ 0x5EA2C4);
    for i in 0..req.search {
        candidates.push(sample(kinds[i % kinds.len()], req, &mut rng));
    }
    let rule = req.threshold.unwrap_or(match req.kind {
        KindChoice::Auto => ThresholdRule::MaxF1,
        KindChoice::One(_) => ThresholdRule::Fixed { value: 0.5 },
    });
    let needs_cv = candidates.len() > 1 || req.cv.is_some();
    let k = req.cv.unwrap_or(5);

    // Cross-validation: score every candidate, keep out-of-fold predictions of each for the threshold.
    let mut cv_scores: Vec<(CvScore, Vec<f64>)> = Vec::new();
    if needs_cv {
        let folds = split::k_fold(y, k, req.seed, task.is_classification())?;
        let pb = bar(req.progress, (candidates.len() * k) as u64, "cv");
        for cand in &candidates {
            let mut oof = vec![0.0; y.len() * task.outputs()];
            let mut fold_scores = Vec::with_capacity(k);
            let mut metric = String::new();
            for fold in &folds {
                let est = fit_on_rows(
                    cand,
                    task,
                    &x_train,
                    y,
                    weights.as_deref(),
                    &fold.train,
                    req,
                )?;
                let xv = x_train.select_rows(&fold.test);
                let yv = select(y, &fold.test);
                let pred = est.predict(&xv);
                let (name, score) = selection_score(task, &yv, &pred);
                metric = name;
                fold_scores.push(score);
                let w = task.outputs();
                for (j, &row) in fold.test.iter().enumerate() {
                    oof[row * w..(row + 1) * w].copy_from_slice(&pred[j * w..(j + 1) * w]);
                }
                pb.inc(1);
                pb.set_message(format!("{} {metric} {score:.4}", cand.kind()));
            }
            let mean = fold_scores.iter().sum::<f64>() / k as f64;
            let std =
                (fold_scores.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / k as f64).sqrt();
            cv_scores.push((
                CvScore {
                    kind: cand.kind(),
                    params: cand.params(),
                    metric,
                    mean,
                    std,
                    folds: fold_scores,
                },
                oof,
            ));
        }
        pb.finish_and_clear();
    }
    let best_index = cv_scores
        .iter()
        .enumerate()
        .max_by(|a, b| a.1 .0.mean.total_cmp(&b.1 .0.mean))
        .map_or(0, |(i, _)| i);
    let chosen = candidates[best_index].clone();

    // Threshold from training data only: out-of-fold predictions, or an inner validation split.
    let threshold = match (task, rule) {
        (Task::Binary, ThresholdRule::Fixed { value }) => value,
        (Task::Binary, rule) => {
            if let Some((_, oof)) = cv_scores.get(best_index) {
                metrics::choose_threshold(y, oof, rule)
            } else {
                let inner = split::stratified(y, 0.2, req.seed.wrapping_add(1))?;
                let est = fit_on_rows(
                    &chosen,
                    task,
                    &x_train,
                    y,
                    weights.as_deref(),
                    &inner.train,
                    req,
                )?;
                let pred = est.predict(&x_train.select_rows(&inner.test));
                metrics::choose_threshold(&select(y, &inner.test), &pred, rule)
            }
        }
        _ => 0.5,
    };

    // Final fit on all training rows; the MLP reports on the test split each epoch (as Keras'
    // validation_data), except that early stopping watches a slice of the training rows instead.
    let fit_started = Instant::now();
    let epochs = match &chosen {
        Candidate::Mlp(c) => c.epochs as u64,
        _ => 1,
    };
    let pb = bar(req.progress, epochs, chosen.kind().name());
    let mut on_epoch = |r: &EpochReport| {
        observer.on_epoch(r);
        pb.inc(1);
        pb.set_message(format!(
            "loss {:.4} val_loss {:.4} val_acc {:.4}",
            r.train_loss,
            r.val_loss.unwrap_or(f64::NAN),
            r.val_metric.unwrap_or(f64::NAN)
        ));
    };
    let early_stopping = matches!(&chosen, Candidate::Mlp(c) if c.patience.is_some());
    let (estimator, history) = if early_stopping {
        let inner = if task.is_classification() {
            split::stratified(y, 0.1, req.seed.wrapping_add(2))?
        } else {
            split::random(y.len(), 0.1, req.seed.wrapping_add(2))?
        };
        let (xt, yt) = (x_train.select_rows(&inner.train), select(y, &inner.train));
        let (xv, yv) = (x_train.select_rows(&inner.test), select(y, &inner.test));
        let wt = weights.as_ref().map(|w| select(w, &inner.train));
        fit_candidate(
            &chosen,
            task,
            &mlp::TrainData {
                x: &xt,
                y: &yt,
                weights: wt.as_deref(),
            },
            req.seed,
            req.device.as_deref(),
            Some((&xv, &yv)),
            &mut on_epoch,
        )?
    } else {
        fit_candidate(
            &chosen,
            task,
            &mlp::TrainData {
                x: &x_train,
                y,
                weights: weights.as_deref(),
            },
            req.seed,
            req.device.as_deref(),
            Some((&x_test, &y_test)),
            &mut on_epoch,
        )?
    };
    if !matches!(chosen, Candidate::Mlp(_)) {
        pb.inc(1);
    }
    pb.finish_and_clear();
    let fit_seconds = fit_started.elapsed().as_secs_f64();

    let test_pred = estimator.predict(&x_test);
    let test_metrics = test_metrics(task, &y_test, &test_pred, threshold);
    let importance = permutation_importance(
        &estimator,
        task,
        &x_test,
        &y_test,
        &pipeline.output_names(),
        req.seed,
    );

    let mut params = serde_json::json!({
        "model": chosen.params(),
        "seed": req.seed,
        "balanced": req.balanced,
        "test_fraction": req.test_fraction,
        "drop": req.drop,
        "features": req.features.iter().map(|f| format!("{}={}", f.name, f.expr)).collect::<Vec<_>>(),
    });
    if needs_cv {
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
        task,
        created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        target: req.target.clone(),
        classes: labels.classes.clone(),
        threshold,
        threshold_rule: rule,
        pipeline,
        architecture: estimator.architecture(),
        params,
        metrics: test_metrics.to_json(),
        lineage,
        weights_sha256: String::new(),
    };
    let manifest = registry::save(home, manifest, &estimator)?;
    let mut cv: Vec<CvScore> = cv_scores.into_iter().map(|(s, _)| s).collect();
    cv.sort_by(|a, b| b.mean.total_cmp(&a.mean));
    Ok(TrainOutcome {
        manifest,
        test: test_metrics,
        history,
        cv,
        importance,
        test_y: y_test,
        test_pred,
        train_rows: x_train.rows,
        test_rows: x_test.rows,
        fit_seconds,
        seconds: started.elapsed().as_secs_f64(),
    })
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
