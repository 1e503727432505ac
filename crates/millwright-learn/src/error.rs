//! Errors of the learning crate: each names what was wrong and where (column, row, file, model).

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum LearnError {
    #[error("target column '{0}' is not in the data (columns: {1})")]
    TargetMissing(String, String),
    #[error("target column '{column}' is constant (every row is {value}): nothing to learn")]
    TargetConstant { column: String, value: String },
    #[error("target column '{column}' has {count} distinct values ({values}); a binary head needs exactly 2")]
    TargetNotBinary {
        column: String,
        count: usize,
        values: String,
    },
    #[error("target column '{column}' row {row}: {problem}")]
    TargetValue {
        column: String,
        row: usize,
        problem: String,
    },
    #[error("column '{column}' row {row} holds {value}: features must be finite numbers (clean or drop it first)")]
    NonFinite {
        column: String,
        row: usize,
        value: String,
    },
    /// A column the pipeline cannot encode; leaving it out of the features is the remedy.
    #[error("column '{column}' has type {found}, which the feature pipeline cannot use (leave it out of the features)")]
    UnsupportedType { column: String, found: String },
    /// A column listed to drop is not in the data.
    #[error("column '{column}' is listed to drop but is not in the data (columns: {available})")]
    DropColumnMissing { column: String, available: String },
    /// The column to split by time is not in the data.
    #[error("time column '{column}' is not in the data (columns: {available})")]
    TimeColumnMissing { column: String, available: String },
    #[error("time column '{column}' row {row} is empty or not a time")]
    TimeValue { column: String, row: usize },
    #[error("input is missing column '{column}' that the model needs (expected type {expected})")]
    MissingColumn { column: String, expected: String },
    #[error("input column '{column}' has type {found}, but the model was trained with {expected}")]
    MistypedColumn {
        column: String,
        found: String,
        expected: String,
    },
    /// A row given to the row path with more or fewer values than the model's input columns.
    #[error("the row has {found} values; the model reads {expected} input columns")]
    RowWidth { expected: usize, found: usize },
    /// The row path cannot compute derived features (SQL over a batch).
    #[error("this model derives features ({features}), which are computed on batches: score it with a batch")]
    RowNeedsBatch { features: String },
    #[error("the input has no rows")]
    EmptyInput,
    /// Splitting `rows` rows with this test share left one side without any.
    #[error("the {side} split is empty: holding out {test_fraction} of {rows} rows leaves no {side} rows (hold out a smaller share, or give more rows)")]
    EmptySplit {
        side: &'static str,
        rows: usize,
        test_fraction: f64,
    },
    #[error("no feature columns left after dropping the target and the listed columns")]
    NoFeatures,
    #[error("{0}")]
    InvalidConfig(String),
    /// A decision threshold that is not a number in (0, 1), `max-f1` or `cost:MISSED:FALSE_ALARM`.
    #[error("threshold '{text}' is not a number in (0, 1), max-f1, or cost:MISSED:FALSE_ALARM (e.g. cost:50:1)")]
    InvalidThreshold { text: String },
    /// Cross-validation with fewer than two folds.
    #[error("cross-validation needs at least 2 folds, not {k}")]
    TooFewFolds { k: usize },
    /// More folds than training rows.
    #[error("{k}-fold cross-validation needs at least {k} training rows, the data has {rows}")]
    TooFewRowsForFolds { k: usize, rows: usize },
    /// A model kind that cannot learn this task.
    #[error("{kind} cannot learn a {task} target (kinds that can: {supported})")]
    KindUnsupportedForTask {
        kind: crate::model::ModelKind,
        task: &'static str,
        supported: String,
    },
    /// A device was asked for but this build has no candle trainer (it is built with the `cuda` feature).
    #[error(
        "training on device '{device}' needs the candle trainer, which this build does not include"
    )]
    DeviceNotBuilt { device: String },
    #[error("unknown training device '{device}' (cpu, cuda)")]
    UnknownDevice { device: String },
    /// The candle trainer cannot open a CUDA device.
    #[cfg(feature = "candle")]
    #[error("no CUDA device is available")]
    NoCudaDevice {
        #[source]
        source: candle_core::Error,
    },
    /// Early stopping (patience) runs on the fused CPU trainer, not on a candle device.
    #[error("early stopping runs on the CPU trainer only, not on device '{device}'")]
    EarlyStoppingOnDevice { device: String },
    #[cfg(feature = "candle")]
    #[error("candle trainer")]
    Candle(#[from] candle_core::Error),
    #[error("model '{name}': no free version number")]
    NoFreeVersion { name: String },
    #[error("fold {fold} of the {k}-fold split has {problem}; use fewer folds or more data")]
    DegenerateFold {
        fold: usize,
        k: usize,
        problem: String,
    },
    #[error("training diverged: {0}")]
    Diverged(String),
    /// A derived feature the deriver could not compute; the engine's error is the source.
    #[error("derived feature '{feature}' could not be computed")]
    Derive {
        feature: String,
        #[source]
        source: crate::pipeline::BoxError,
    },
    #[error("this model uses derived features ({features}) but no SQL engine was supplied to compute them")]
    NoDeriver { features: String },
    #[error("gradient-boosted trees: {context}")]
    Gbdt {
        context: &'static str,
        #[source]
        source: forust_ml::errors::ForustError,
    },
    /// A stored tree whose links could not be followed (a child outside the tree or before its parent).
    #[error("gradient-boosted trees: tree {tree} is malformed at node {node}")]
    GbdtTree { tree: usize, node: usize },
    #[error("invalid model name '{0}': use letters, digits, '-', '_' or '.' (no path separators)")]
    InvalidName(String),
    #[error("invalid model reference '{0}': expected NAME@VERSION, NAME@latest, NAME@ALIAS (or just NAME)")]
    InvalidSpec(String),
    #[error("invalid alias '{0}': use lowercase letters, digits, '-' or '_' (not a number, not 'latest')")]
    InvalidAlias(String),
    #[error("model '{name}' has no alias '{alias}' (aliases: {available})")]
    AliasNotFound {
        name: String,
        alias: String,
        available: String,
    },
    #[error("model '{name}': alias '{alias}' has no earlier version to roll back to")]
    NothingToRollBack { name: String, alias: String },
    #[error("alias file {path} is unreadable or corrupted: {reason}")]
    CorruptAliases {
        path: PathBuf,
        reason: String,
        #[source]
        source: Option<serde_json::Error>,
    },
    #[error("model '{0}' is not in the registry at {1}")]
    ModelNotFound(String, PathBuf),
    #[error("model '{name}' has no version {version} (versions: {available})")]
    VersionNotFound {
        name: String,
        version: u32,
        available: String,
    },
    /// A version an alias points at is being served under that alias: move the alias first.
    #[error("model '{name}' version {version} is what alias {aliases} points at; promote the alias to another version first")]
    VersionAliased {
        name: String,
        version: u32,
        /// The aliases, quoted and joined (`'production', 'staging'`).
        aliases: String,
    },
    #[error("manifest {path} is unreadable or corrupted: {reason}")]
    CorruptManifest {
        path: PathBuf,
        reason: String,
        #[source]
        source: Option<serde_json::Error>,
    },
    #[error("manifest {path} has format version {found}; this millwright reads up to {supported} (upgrade millwright)")]
    FutureManifest {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("weights file {path}: {reason}")]
    Weights {
        path: PathBuf,
        reason: String,
        #[source]
        source: Option<safetensors::SafeTensorError>,
    },
    #[error("cannot encode the model weights as safetensors")]
    EncodeWeights(#[source] safetensors::SafeTensorError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("run tracking: {0}")]
    Tracking(#[from] crate::tracking::TrackingError),
    #[error("plot: {0}")]
    Plot(#[from] crate::plots::PlotError),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// The caller asked the training to stop (checked between folds and before the model is stored).
    #[error("training cancelled; no model was registered")]
    Cancelled,
}

impl LearnError {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        LearnError::Io {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T> = std::result::Result<T, LearnError>;
