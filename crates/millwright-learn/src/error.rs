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
    #[error("column '{column}' has type {found}, which the feature pipeline cannot use{hint}")]
    UnsupportedType {
        column: String,
        found: String,
        hint: String,
    },
    #[error("input is missing column '{column}' that the model needs (expected type {expected})")]
    MissingColumn { column: String, expected: String },
    #[error("input column '{column}' has type {found}, but the model was trained with {expected}")]
    MistypedColumn {
        column: String,
        found: String,
        expected: String,
    },
    #[error("the input has no rows")]
    EmptyInput,
    #[error("no feature columns left after dropping the target and the listed columns")]
    NoFeatures,
    #[error("{0}")]
    InvalidConfig(String),
    #[error("fold {fold} of the {k}-fold split has {problem}; use fewer folds or more data")]
    DegenerateFold {
        fold: usize,
        k: usize,
        problem: String,
    },
    #[error("training diverged: {0}")]
    Diverged(String),
    #[error("derived feature: {0}")]
    Derive(String),
    #[error("gradient-boosted trees: {0}")]
    Gbdt(String),
    #[error("invalid model name '{0}': use letters, digits, '-', '_' or '.' (no path separators)")]
    InvalidName(String),
    #[error("invalid model reference '{0}': expected NAME@VERSION or NAME@latest (or just NAME)")]
    InvalidSpec(String),
    #[error("model '{0}' is not in the registry at {1}")]
    ModelNotFound(String, PathBuf),
    #[error("model '{name}' has no version {version} (versions: {available})")]
    VersionNotFound {
        name: String,
        version: u32,
        available: String,
    },
    #[error("manifest {path} is unreadable or corrupted: {reason}")]
    CorruptManifest { path: PathBuf, reason: String },
    #[error("manifest {path} has format version {found}; this millwright reads up to {supported} (upgrade millwright)")]
    FutureManifest {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("weights file {path}: {reason}")]
    Weights { path: PathBuf, reason: String },
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
