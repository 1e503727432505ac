//! Errors of the data layer. Every variant names where the problem is: file, line, column, value.

use std::path::PathBuf;

/// Result alias of the data layer.
pub type Result<T, E = DataError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: the file is empty")]
    EmptyFile { path: PathBuf },
    #[error("{path}: the file has a header but no data rows")]
    HeaderOnly { path: PathBuf },
    #[error("{path}, line {line}: {message}")]
    Malformed {
        path: PathBuf,
        line: u64,
        message: String,
    },
    #[error("{path}: duplicate column name {name:?} at positions {first} and {second} (rename one in the source, or give `rename` in the cleaning config)")]
    DuplicateColumn {
        path: PathBuf,
        name: String,
        first: usize,
        second: usize,
    },
    #[error("{path}: unsupported input format {extension:?} (expected .csv, .tsv, .txt, .parquet, .jsonl, .ndjson or .json)")]
    UnsupportedFormat { path: PathBuf, extension: String },
    #[error("{path}: not a readable Parquet file: {message}")]
    Parquet { path: PathBuf, message: String },
    #[error("invalid dataset name {name:?}: {reason}")]
    InvalidName { name: String, reason: String },
    #[error("dataset {name:?} already exists; use --mode append to add a version or --mode overwrite to replace it")]
    DatasetExists { name: String },
    #[error("dataset {name:?} does not exist in the lake at {lake}")]
    NoSuchDataset { name: String, lake: PathBuf },
    #[error("dataset {name:?} has no version {version} (latest is {latest})")]
    NoSuchVersion {
        name: String,
        version: i64,
        latest: i64,
    },
    #[error("dataset {name:?}: {details}")]
    SchemaChange { name: String, details: String },
    #[error("cleaning config {path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error("cleaning config: column {column:?} is not in the input (columns: {available})")]
    UnknownColumn { column: String, available: String },
    #[error("column {column:?}: {message}")]
    Column { column: String, message: String },
    #[error("every row was quarantined ({rows} rows); nothing was committed. First reason: {first_reason}")]
    NothingToCommit { rows: u64, first_reason: String },
    #[error("lake table {table}: {source}")]
    Delta {
        table: String,
        #[source]
        source: Box<deltalake::DeltaTableError>,
    },
    #[error("SQL: {0}")]
    Sql(String),
    #[error("SQL statement not allowed: {0} (the lake is read-only through `sql`; only SELECT queries run)")]
    SqlNotAllowed(String),
    #[error("arrow: {0}")]
    Arrow(#[from] deltalake::arrow::error::ArrowError),
    #[error("{0}")]
    Other(String),
}

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }

    pub(crate) fn delta(table: impl Into<String>, source: deltalake::DeltaTableError) -> Self {
        DataError::Delta {
            table: table.into(),
            source: Box::new(source),
        }
    }
}

impl From<deltalake::datafusion::error::DataFusionError> for DataError {
    fn from(err: deltalake::datafusion::error::DataFusionError) -> Self {
        DataError::Sql(err.to_string())
    }
}
