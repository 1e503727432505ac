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
    #[error("{}", unsupported_format(path, extension))]
    UnsupportedFormat { path: PathBuf, extension: String },
    #[error("{path} does not exist (expected a file ending in {INPUT_EXTENSIONS})")]
    InputMissing { path: PathBuf },
    #[error("{path} is a directory; ingest reads one file (ending in {INPUT_EXTENSIONS})")]
    InputIsDirectory { path: PathBuf },
    #[error("{path}: not a readable Parquet file ({context})")]
    Parquet {
        path: PathBuf,
        context: String,
        #[source]
        source: deltalake::parquet::errors::ParquetError,
    },
    #[error("{path}: the rows after row {after_row} are not readable Parquet")]
    ParquetRows {
        path: PathBuf,
        after_row: u64,
        #[source]
        source: deltalake::arrow::error::ArrowError,
    },
    #[error("{path}: column {column:?} cannot be read as {kind}")]
    ColumnRead {
        path: PathBuf,
        column: String,
        kind: &'static str,
        #[source]
        source: deltalake::arrow::error::ArrowError,
    },
    #[error("invalid dataset name {name:?}: {reason}")]
    InvalidName { name: String, reason: String },
    #[error("dataset {name:?} already exists; creating it again would replace it (append a version or overwrite it instead)")]
    DatasetExists { name: String },
    #[error("dataset {name:?} does not exist in the lake at {lake}")]
    NoSuchDataset { name: String, lake: PathBuf },
    /// Another process or job is writing the dataset (an ingest holds its lock): a delete waits for no one.
    #[error(
        "dataset {name:?} is being written (an ingest is running); try again when it has committed"
    )]
    DatasetBusy { name: String },
    #[error("no deleted dataset {id:?} in the trash at {trash}")]
    NoSuchTrashEntry { id: String, trash: PathBuf },
    #[error(
        "invalid trash id {id:?}: expected NAME.YYYYMMDDTHHMMSSmmmZ as `datasets trash` lists it"
    )]
    InvalidTrashId { id: String },
    #[error("the trash entry {path} is unreadable")]
    TrashEntry {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("dataset {name:?} has no version {version} (latest is {latest})")]
    NoSuchVersion {
        name: String,
        version: i64,
        latest: i64,
    },
    #[error("dataset {name:?}: column {column:?} is stored as {stored} but the new file holds {incoming}; an append may add columns, not change a stored column's kind (overwrite the dataset, or set the column's kind in the cleaning config)")]
    ColumnKindChanged {
        name: String,
        column: String,
        stored: &'static str,
        incoming: &'static str,
    },
    #[error("cleaning config {path}: {message}")]
    Config { path: PathBuf, message: String },
    #[error("cleaning config {path} is not valid TOML for a cleaning config")]
    ConfigSyntax {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
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
    #[error("cannot parse the SQL query {query:?}")]
    SqlParse {
        query: String,
        #[source]
        source: deltalake::datafusion::sql::sqlparser::parser::ParserError,
    },
    #[error("SQL query {query:?}: {reason}")]
    InvalidQuery { query: String, reason: String },
    /// A DataFusion failure while `context` (planning a query, reading a table, deriving a feature).
    #[error("{context}")]
    DataFusion {
        context: String,
        #[source]
        source: Box<deltalake::datafusion::error::DataFusionError>,
    },
    #[error("derived feature {feature:?}: cannot {step} {expression:?}")]
    Feature {
        feature: String,
        expression: String,
        step: &'static str,
        #[source]
        source: Box<deltalake::datafusion::error::DataFusionError>,
    },
    #[error("derived features were compiled for other columns than this batch has")]
    FeatureInputMismatch,
    #[error("SQL statement not allowed: {0} (the lake is read-only through `sql`; only SELECT queries run)")]
    SqlNotAllowed(String),
    #[error("lake table {table}: the Millwright commit record {context}")]
    CommitRecord {
        table: String,
        context: &'static str,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot make a URL of the table folder {path}")]
    TableUrl { path: PathBuf },
    #[error("lake table {table}: a Parquet writer task failed")]
    WriterTask {
        table: String,
        #[source]
        source: tokio::task::JoinError,
    },
    #[error("the {thread} thread panicked")]
    ThreadPanicked { thread: &'static str },
    #[error("a vacuum retention of {} is under the 1h minimum: a query or connector that opened an older version a moment ago may still be reading the files it would remove (pass --force if nothing reads the lake now)", crate::maintenance::human_duration(*retain_s))]
    RetentionTooShort { retain_s: u64 },
    #[error("a vacuum retention of {retain_s}s is too long to compute with")]
    RetentionTooLong { retain_s: u64 },
    #[error(
        "dataset {name:?} version {version} is no longer readable: {detail} (missing {missing})"
    )]
    VersionVacuumed {
        name: String,
        version: i64,
        missing: PathBuf,
        detail: String,
    },
    #[error("dataset {dataset:?}: key column {column:?} is not in {side}")]
    UnknownKey {
        dataset: String,
        column: String,
        side: String,
    },
    #[error("dataset {dataset:?}: all {rows} new rows have a key ({key}) already stored; nothing was committed")]
    AllRowsStored {
        dataset: String,
        rows: u64,
        key: String,
    },
    #[error("{file}: its columns differ from the first file's ({first}): {difference}; nothing was written")]
    SchemaDiffers {
        first: PathBuf,
        file: PathBuf,
        difference: String,
    },
    #[error("no input files to ingest")]
    NoInputFiles,
    #[error("unknown write mode {text:?} (create, append or overwrite)")]
    UnknownMode { text: String },
    #[error("arrow: {0}")]
    Arrow(#[from] deltalake::arrow::error::ArrowError),
}

/// The file extensions ingest and `read_file` understand, as error messages list them.
pub const INPUT_EXTENSIONS: &str = ".csv, .tsv, .txt, .parquet, .pq, .jsonl, .ndjson or .json";

fn unsupported_format(path: &std::path::Path, extension: &str) -> String {
    if extension.is_empty() {
        format!(
            "{}: the file name has no extension, so its format is unknown (expected {INPUT_EXTENSIONS})",
            path.display()
        )
    } else {
        format!(
            "{}: unsupported input format {extension:?} (expected {INPUT_EXTENSIONS})",
            path.display()
        )
    }
}

impl DataError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        DataError::Io {
            path: path.into(),
            source,
        }
    }

    /// A DataFusion error met while doing `context` ("planning the SQL query ...", "reading dataset x").
    pub(crate) fn datafusion(
        context: impl Into<String>,
    ) -> impl FnOnce(deltalake::datafusion::error::DataFusionError) -> DataError {
        let context = context.into();
        move |source| DataError::DataFusion {
            context,
            source: Box::new(source),
        }
    }

    pub(crate) fn delta(table: impl Into<String>, source: deltalake::DeltaTableError) -> Self {
        DataError::Delta {
            table: table.into(),
            source: Box::new(source),
        }
    }
}
