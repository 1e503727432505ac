//! The lake: one Delta table per dataset under `<home>/lake/`, every write one atomic commit.
//!
//! What Millwright knows about a commit (column kinds, row counts, the quality report) travels inside the
//! Delta commit itself (`commitInfo.millwright`), so it is written atomically with the data and any Delta
//! reader (Spark, DataFusion, delta-rs) still sees a plain table.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use deltalake::arrow::compute::cast;
use deltalake::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use deltalake::arrow::record_batch::RecordBatch;
use deltalake::datafusion::catalog::streaming::StreamingTable;
use deltalake::datafusion::datasource::provider_as_source;
use deltalake::datafusion::execution::TaskContext;
use deltalake::datafusion::logical_expr::LogicalPlanBuilder;
use deltalake::datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use deltalake::datafusion::physical_plan::streaming::PartitionStream;
use deltalake::datafusion::physical_plan::SendableRecordBatchStream;
use deltalake::datafusion::prelude::SessionContext;
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel;
use deltalake::kernel::transaction::CommitBuilder;
use deltalake::kernel::transaction::CommitProperties;
use deltalake::kernel::{Action, Add, StructType};
use deltalake::operations::create::CreateBuilder;
use deltalake::operations::write::SchemaMode;
use deltalake::parquet::basic::{Compression, Encoding};
use deltalake::parquet::file::properties::{
    EnabledStatistics, WriterProperties, DEFAULT_DICTIONARY_PAGE_SIZE_LIMIT,
};
use deltalake::parquet::schema::types::ColumnPath;
use deltalake::protocol::DeltaOperation;
use deltalake::protocol::SaveMode;
use deltalake::writer::{DeltaWriter, RecordBatchWriter};
use deltalake::DeltaTable;
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::names::{validate_dataset_name, QUARANTINE_SUFFIX};
use crate::quality::QualityReport;
use crate::source::Table;
use crate::types::ColumnSpec;

/// Key of Millwright's record inside a Delta `commitInfo`.
pub const COMMIT_METADATA_KEY: &str = "millwright";

/// Millwright's record of one commit.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct CommitRecord {
    pub ingest_id: String,
    /// `ingest` for a dataset commit, `quarantine` for rows set aside by an ingest.
    pub kind: String,
    pub columns: Vec<ColumnSpec>,
    pub rows_written: u64,
    /// Rows in the table after this commit.
    pub table_rows: u64,
    /// For quarantine commits: the dataset version the rows were set aside from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dataset_version: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report: Option<Box<QualityReport>>,
    /// For live commits (`connect`): the keys of the messages the rows came from, so a message the broker
    /// delivers again after a crash is recognised and not stored twice.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub message_keys: Vec<u64>,
    /// For `compact` and `vacuum` commits: what the maintenance did (see [`crate::maintenance`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maintenance: Option<crate::maintenance::Maintenance>,
    /// For appends: the new rows that repeated stored ones (see [`crate::duplicates`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicates: Option<crate::duplicates::StoredDuplicates>,
}

/// One version of a table, as `history` shows it.
/// One column as the Delta log stores it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredColumn {
    pub name: String,
    /// The Delta type (`double`, `long`, `string`, `timestamp` ...).
    pub data_type: String,
    pub nullable: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct VersionInfo {
    pub version: i64,
    /// Commit time, RFC 3339.
    pub timestamp: Option<String>,
    pub operation: Option<String>,
    pub mode: Option<String>,
    pub rows_written: Option<u64>,
    pub table_rows: Option<u64>,
    pub rows_quarantined: Option<u64>,
    pub source: Option<String>,
    pub ingest_id: Option<String>,
}

/// A dataset as `datasets` lists it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DatasetSummary {
    pub name: String,
    pub rows: Option<u64>,
    pub columns: usize,
    pub latest_version: i64,
    pub size_bytes: u64,
}

/// How a write treats what is already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WriteMode {
    /// A new dataset; an error if it exists.
    Create,
    Append,
    Overwrite,
}

impl std::str::FromStr for WriteMode {
    type Err = DataError;
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "create" => Ok(WriteMode::Create),
            "append" => Ok(WriteMode::Append),
            "overwrite" => Ok(WriteMode::Overwrite),
            other => Err(DataError::UnknownMode { text: other.into() }),
        }
    }
}

pub struct Lake {
    root: PathBuf,
}

impl Lake {
    /// The lake of a Millwright home (created if absent).
    pub fn open(home: &Path) -> Result<Lake> {
        let root = home.join("lake");
        std::fs::create_dir_all(&root).map_err(|e| DataError::io(&root, e))?;
        let root = root.canonicalize().map_err(|e| DataError::io(&root, e))?;
        Ok(Lake { root })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn table_path(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    pub fn exists(&self, name: &str) -> bool {
        self.table_path(name).join("_delta_log").is_dir()
    }

    /// A valid name of an existing dataset, or the error that says which it is not.
    pub(crate) fn require(&self, name: &str) -> Result<()> {
        validate_dataset_name(name)?;
        if self.exists(name) {
            Ok(())
        } else {
            Err(DataError::NoSuchDataset {
                name: name.to_string(),
                lake: self.root.clone(),
            })
        }
    }

    fn url(&self, name: &str) -> Result<url::Url> {
        let path = self.table_path(name);
        std::fs::create_dir_all(&path).map_err(|e| DataError::io(&path, e))?;
        url::Url::from_directory_path(&path).map_err(|()| DataError::TableUrl { path })
    }

    /// Names of the datasets (quarantine tables included), sorted.
    pub fn dataset_names(&self) -> Result<Vec<String>> {
        let mut names = Vec::new();
        let entries = std::fs::read_dir(&self.root).map_err(|e| DataError::io(&self.root, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| DataError::io(&self.root, e))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if validate_dataset_name(&name).is_ok() && self.exists(&name) {
                names.push(name);
            }
        }
        names.sort();
        Ok(names)
    }

    /// Opens a dataset at its latest version or at `version`.
    pub async fn open_table(&self, name: &str, version: Option<i64>) -> Result<DeltaTable> {
        self.require(name)?;
        let latest = self.latest_version(name)?;
        if let Some(v) = version {
            if v < 0 || v > latest {
                return Err(DataError::NoSuchVersion {
                    name: name.to_string(),
                    version: v,
                    latest,
                });
            }
        }
        let url = self.url(name)?;
        let table = match version {
            Some(v) => deltalake::open_table_with_version(url, v as u64).await,
            None => deltalake::open_table(url).await,
        }
        .map_err(|e| DataError::delta(name, e))?;
        if let Some(v) = version.filter(|v| *v < latest) {
            self.check_not_vacuumed(name, v, &table)?;
        }
        Ok(table)
    }

    /// Commit files of a table, in version order (read from `_delta_log` directly so that the version of
    /// each commit is exact).
    pub(crate) fn commit_files(&self, name: &str) -> Result<Vec<(i64, PathBuf)>> {
        let log = self.table_path(name).join("_delta_log");
        let mut files = Vec::new();
        for entry in std::fs::read_dir(&log).map_err(|e| DataError::io(&log, e))? {
            let entry = entry.map_err(|e| DataError::io(&log, e))?;
            let file_name = entry.file_name().to_string_lossy().into_owned();
            if let Some(stem) = file_name.strip_suffix(".json") {
                if stem.len() == 20 {
                    if let Ok(version) = stem.parse::<i64>() {
                        files.push((version, entry.path()));
                    }
                }
            }
        }
        files.sort();
        Ok(files)
    }

    pub fn latest_version(&self, name: &str) -> Result<i64> {
        self.commit_files(name)?
            .last()
            .map(|(v, _)| *v)
            .ok_or_else(|| DataError::NoSuchDataset {
                name: name.to_string(),
                lake: self.root.clone(),
            })
    }

    /// The `commitInfo` object of one commit.
    fn commit_info(path: &Path) -> Result<Option<serde_json::Value>> {
        let text = std::fs::read_to_string(path).map_err(|e| DataError::io(path, e))?;
        for line in text.lines() {
            if let Ok(serde_json::Value::Object(mut action)) = serde_json::from_str(line) {
                if let Some(info) = action.remove("commitInfo") {
                    return Ok(Some(info));
                }
            }
        }
        Ok(None)
    }

    /// Millwright's record of a commit (`None` for commits made by other tools).
    pub fn commit_record(
        &self,
        name: &str,
        version: Option<i64>,
    ) -> Result<Option<(i64, CommitRecord)>> {
        self.require(name)?;
        let files = self.commit_files(name)?;
        let latest = files.last().map(|(v, _)| *v).unwrap_or(-1);
        let version = version.unwrap_or(latest);
        let Some((_, path)) = files.iter().find(|(v, _)| *v == version) else {
            return Err(DataError::NoSuchVersion {
                name: name.to_string(),
                version,
                latest,
            });
        };
        let record = Self::commit_info(path)?
            .and_then(|info| info.get(COMMIT_METADATA_KEY).cloned())
            .map(serde_json::from_value::<CommitRecord>)
            .transpose()
            .map_err(|source| DataError::CommitRecord {
                table: name.to_string(),
                context: "is unreadable",
                source,
            })?;
        Ok(record.map(|r| (version, r)))
    }

    /// The latest commit that carries a Millwright record at or before `version`.
    pub fn last_record(
        &self,
        name: &str,
        version: Option<i64>,
    ) -> Result<Option<(i64, CommitRecord)>> {
        let files = self.commit_files(name)?;
        let limit = version.unwrap_or(i64::MAX);
        for (v, _) in files.iter().rev().filter(|(v, _)| *v <= limit) {
            if let Some(found) = self.commit_record(name, Some(*v))? {
                return Ok(Some(found));
            }
        }
        Ok(None)
    }

    /// Versions of a table, oldest first.
    pub fn history(&self, name: &str) -> Result<Vec<VersionInfo>> {
        self.require(name)?;
        let mut versions = Vec::new();
        for (version, path) in self.commit_files(name)? {
            let info = Self::commit_info(&path)?.unwrap_or(serde_json::Value::Null);
            let record: Option<CommitRecord> = info
                .get(COMMIT_METADATA_KEY)
                .cloned()
                .and_then(|v| serde_json::from_value(v).ok());
            let timestamp = info
                .get("timestamp")
                .and_then(|t| t.as_i64())
                .and_then(chrono::DateTime::from_timestamp_millis)
                .map(|t| t.to_rfc3339());
            let mode = info
                .get("operationParameters")
                .and_then(|p| p.get("mode"))
                .and_then(|m| m.as_str())
                .map(str::to_string);
            versions.push(VersionInfo {
                version,
                timestamp,
                operation: info
                    .get("operation")
                    .and_then(|o| o.as_str())
                    .map(str::to_string),
                mode,
                rows_written: record.as_ref().map(|r| r.rows_written),
                table_rows: record.as_ref().map(|r| r.table_rows),
                rows_quarantined: record
                    .as_ref()
                    .and_then(|r| r.report.as_ref())
                    .map(|r| r.rows_quarantined),
                source: record
                    .as_ref()
                    .and_then(|r| r.report.as_ref())
                    .map(|r| r.source.path.clone()),
                ingest_id: record.as_ref().map(|r| r.ingest_id.clone()),
            });
        }
        Ok(versions)
    }

    /// The stored columns of a dataset (Delta types) at its latest version or at `version`, with the
    /// version read.
    pub async fn stored_columns(
        &self,
        name: &str,
        version: Option<i64>,
    ) -> Result<(i64, Vec<StoredColumn>)> {
        let table = self.open_table(name, version).await?;
        let read = table.version().unwrap_or(0) as i64;
        let snapshot = table.snapshot().map_err(|e| DataError::delta(name, e))?;
        let columns = snapshot
            .schema()
            .fields()
            .map(|f| StoredColumn {
                name: f.name().clone(),
                data_type: f.data_type().to_string(),
                nullable: f.is_nullable(),
            })
            .collect();
        Ok((read, columns))
    }

    /// Every dataset with its size and latest version.
    pub async fn list(&self) -> Result<Vec<DatasetSummary>> {
        let mut out = Vec::new();
        for name in self.dataset_names()? {
            let latest_version = self.latest_version(&name)?;
            let table = self.open_table(&name, None).await?;
            let columns = table
                .snapshot()
                .map_err(|e| DataError::delta(&name, e))?
                .schema()
                .fields()
                .count();
            let rows = self.last_record(&name, None)?.map(|(_, r)| r.table_rows);
            out.push(DatasetSummary {
                size_bytes: dir_size(&self.table_path(&name)),
                name,
                rows,
                columns,
                latest_version,
            });
        }
        Ok(out)
    }

    /// Reads a whole dataset (latest or `version`) into memory; returns it with the version read.
    pub async fn read_table(&self, name: &str, version: Option<i64>) -> Result<(Table, i64)> {
        let table = self.open_table(name, version).await?;
        let read_version = table.version().unwrap_or(0) as i64;
        let ctx = SessionContext::new();
        table
            .update_datafusion_session(&ctx.state())
            .map_err(|e| DataError::delta(name, e))?;
        let reading = || format!("reading dataset {name}");
        let provider = table
            .table_provider()
            .await
            .map_err(DataError::datafusion(reading()))?;
        let frame = ctx
            .read_table(provider)
            .map_err(DataError::datafusion(reading()))?;
        // Partition by partition, in order: files (and ranges of large files) are assigned to partitions in
        // commit order, so rows come back in the order they were written, the same on every read; `collect`
        // would interleave partitions as they finish, and a seeded random split would not repeat.
        let batches: Vec<RecordBatch> = frame
            .collect_partitioned()
            .await
            .map_err(DataError::datafusion(reading()))?
            .into_iter()
            .flatten()
            .collect();
        let (schema, batches) = canonical_batches(batches)?;
        Ok((Table { schema, batches }, read_version))
    }

    /// Writes batches as one commit. `record` is stored in the commit; returns the new version.
    ///
    /// `parts` are consecutive runs of the rows. A new table, or an append that keeps the stored schema, writes
    /// each part to its own Parquet file on its own task, so encoding uses every core; overwrites and appends
    /// that widen the schema go through delta-rs's write operation (one writer), which owns those rules.
    pub async fn write(
        &self,
        name: &str,
        mode: WriteMode,
        schema: SchemaRef,
        parts: Vec<BatchSource>,
        record: &CommitRecord,
        encodings: &Encodings,
    ) -> Result<i64> {
        let url = self.url(name)?;
        let table = DeltaTable::try_from_url(url.clone())
            .await
            .map_err(|e| DataError::delta(name, e))?;
        let metadata = serde_json::to_value(record).map_err(|source| DataError::CommitRecord {
            table: name.to_string(),
            context: "cannot be encoded",
            source,
        })?;
        let properties = CommitProperties::default()
            .with_metadata([(COMMIT_METADATA_KEY.to_string(), metadata)]);
        let incoming: StructType = schema
            .as_ref()
            .try_into_kernel()
            .map_err(|e| DataError::delta(name, e.into()))?;
        let stored = table.snapshot().ok().map(|s| s.schema());
        let parallel = match (&mode, &stored) {
            (WriteMode::Create, None) => true,
            (WriteMode::Append, Some(stored)) => **stored == incoming,
            _ => false,
        };
        if !parallel {
            let batches: BatchSource = Box::new(parts.into_iter().flatten());
            return Self::write_one_stream(
                name, table, mode, schema, batches, properties, encodings,
            )
            .await;
        }
        let adds = match write_parts(name, &url, &schema, parts, encodings).await {
            Ok(adds) => adds,
            Err(failure) => {
                if stored.is_none() && !self.exists(name) {
                    // Nothing was committed: the folder holds only this attempt's files.
                    let _ = std::fs::remove_dir_all(self.table_path(name));
                }
                return Err(failure);
            }
        };
        let actions = adds.into_iter().map(Action::Add);
        let version = match stored {
            None => CreateBuilder::new()
                .with_location(url.to_string())
                .with_columns(incoming.fields().cloned())
                .with_save_mode(SaveMode::ErrorIfExists)
                .with_actions(actions)
                .with_commit_properties(properties)
                .await
                .map_err(|e| DataError::delta(name, e))?
                .version()
                .unwrap_or(0),
            Some(_) => {
                let snapshot = table.snapshot().map_err(|e| DataError::delta(name, e))?;
                CommitBuilder::from(properties)
                    .with_actions(actions.collect())
                    .build(
                        Some(snapshot),
                        table.log_store(),
                        DeltaOperation::Write {
                            mode: SaveMode::Append,
                            partition_by: None,
                            predicate: None,
                        },
                    )
                    .await
                    .map_err(|e| DataError::delta(name, e))?
                    .version()
            }
        };
        Ok(version as i64)
    }

    async fn write_one_stream(
        name: &str,
        table: DeltaTable,
        mode: WriteMode,
        schema: SchemaRef,
        batches: BatchSource,
        properties: CommitProperties,
        encodings: &Encodings,
    ) -> Result<i64> {
        let writer_properties = writer_properties(&schema, encodings);
        let stream = Arc::new(OnceStream {
            schema: schema.clone(),
            batches: Mutex::new(Some(batches)),
        });
        let planning = || format!("planning the write of lake table {name}");
        let provider = StreamingTable::try_new(schema, vec![stream])
            .map_err(DataError::datafusion(planning()))?;
        let plan = LogicalPlanBuilder::scan(name, provider_as_source(Arc::new(provider)), None)
            .and_then(|plan| plan.build())
            .map_err(DataError::datafusion(planning()))?;
        let (save_mode, schema_mode) = match mode {
            WriteMode::Create => (SaveMode::ErrorIfExists, None),
            WriteMode::Append => (SaveMode::Append, Some(SchemaMode::Merge)),
            WriteMode::Overwrite => (SaveMode::Overwrite, Some(SchemaMode::Overwrite)),
        };
        let mut builder = table
            .write(Vec::new())
            .with_input_plan(plan)
            .with_writer_properties(writer_properties)
            .with_save_mode(save_mode)
            .with_commit_properties(properties);
        if let Some(schema_mode) = schema_mode {
            builder = builder.with_schema_mode(schema_mode);
        }
        let written = builder.await.map_err(|e| DataError::delta(name, e))?;
        Ok(written.version().unwrap_or(0) as i64)
    }

    /// The quarantine table of a dataset.
    pub fn quarantine_name(dataset: &str) -> String {
        format!("{dataset}{QUARANTINE_SUFFIX}")
    }
}

/// Snappy, as delta-rs writes by default, with timestamp columns delta-encoded without a dictionary: sensor
/// timestamps are nearly all distinct, so a dictionary was built only to be abandoned (a fifth of the
/// encoding time), and delta encoding cut the bench's files from 89 MB to 66 MB.
/// Statistics per column chunk (what Delta's file statistics are made from; page statistics cost encoding
/// time and no reader here uses them) and 8 Ki-value write batches: together a sixth off the write phase.
/// Columns in `encodings.without_dictionary` go without one too.
pub(crate) fn writer_properties(schema: &SchemaRef, encodings: &Encodings) -> WriterProperties {
    let mut builder = WriterProperties::builder()
        .set_created_by(format!("millwright {}", env!("CARGO_PKG_VERSION")))
        .set_compression(Compression::SNAPPY)
        .set_write_batch_size(8192)
        .set_statistics_enabled(EnabledStatistics::Chunk);
    for field in schema.fields() {
        let column = ColumnPath::from(field.name().as_str());
        if matches!(field.data_type(), DataType::Timestamp(_, _)) {
            // Sensor timestamps step by a near-constant interval: delta encoding stores them in a few bits
            // each, where plain 8-byte values were a fifth of the file and of the compression time.
            builder = builder
                .set_column_dictionary_enabled(column.clone(), false)
                .set_column_encoding(column, Encoding::DELTA_BINARY_PACKED);
        } else if encodings.without_dictionary.contains(field.name()) {
            builder = builder.set_column_dictionary_enabled(column, false);
        }
    }
    builder.build()
}

/// Values of eight bytes a Parquet dictionary holds before the writer abandons it for plain encoding.
pub const DICTIONARY_CAPACITY_VALUES: usize = DEFAULT_DICTIONARY_PAGE_SIZE_LIMIT / 8;

/// How a write encodes columns beyond the defaults.
#[derive(Debug, Clone, Default)]
pub struct Encodings {
    /// Columns written without a dictionary: ones with more distinct values than a dictionary holds
    /// ([`DICTIONARY_CAPACITY_VALUES`] numbers, or texts that are nearly all distinct), which the writer
    /// would fill and then abandon, after a hash lookup per value, for files of the same size.
    pub without_dictionary: Vec<String>,
}

/// Writes each part to its own Parquet file(s) on its own task; the files are not part of the table until the
/// returned `Add` actions are committed, so a failure leaves the table as it was.
async fn write_parts(
    name: &str,
    url: &url::Url,
    schema: &SchemaRef,
    parts: Vec<BatchSource>,
    encodings: &Encodings,
) -> Result<Vec<Add>> {
    let tasks: Vec<_> = parts
        .into_iter()
        .map(|part| {
            let (name, url, schema) = (name.to_string(), url.clone(), schema.clone());
            let properties = writer_properties(&schema, encodings);
            tokio::spawn(async move {
                let delta = |e| DataError::delta(name.as_str(), e);
                let mut writer =
                    RecordBatchWriter::try_new(url.as_str(), schema.clone(), None, None)
                        .map_err(delta)?
                        .with_writer_properties(properties);
                for batch in part {
                    let batch = batch?;
                    if batch.num_rows() > 0 {
                        writer.write(batch).await.map_err(delta)?;
                    }
                }
                writer.flush().await.map_err(delta)
            })
        })
        .collect();
    let mut adds = Vec::new();
    let mut failure = None;
    for task in tasks {
        match task.await {
            Ok(Ok(part_adds)) => adds.extend(part_adds),
            Ok(Err(e)) => failure = failure.or(Some(e)),
            Err(source) => {
                failure = failure.or(Some(DataError::WriterTask {
                    table: name.to_string(),
                    source,
                }));
            }
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(adds),
    }
}

/// Batches for [`Lake::write`], pulled one at a time by the writer.
pub type BatchSource = Box<dyn Iterator<Item = Result<RecordBatch>> + Send>;

/// Hands a spool's batches to DataFusion once, so the Delta writer pulls them as a stream and memory stays
/// bounded by the batch size, not the file size.
struct OnceStream {
    schema: SchemaRef,
    batches: Mutex<Option<BatchSource>>,
}

impl std::fmt::Debug for OnceStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OnceStream")
    }
}

impl PartitionStream for OnceStream {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let batches = self.batches.lock().expect("not poisoned").take();
        let iter = batches.into_iter().flatten().map(|r: Result<RecordBatch>| {
            r.map_err(|e| deltalake::datafusion::error::DataFusionError::External(Box::new(e)))
        });
        Box::pin(RecordBatchStreamAdapter::new(
            self.schema.clone(),
            futures::stream::iter(iter),
        ))
    }
}

/// DataFusion reads text as `Utf8View`; callers get the plain `Utf8` the rest of Millwright uses.
fn canonical_batches(batches: Vec<RecordBatch>) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let canonical = |t: &DataType| match t {
        DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
        DataType::BinaryView | DataType::LargeBinary => DataType::Binary,
        other => other.clone(),
    };
    let mut out = Vec::with_capacity(batches.len());
    let mut schema: Option<SchemaRef> = None;
    for batch in batches {
        let fields: Vec<Field> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone().with_data_type(canonical(f.data_type())))
            .collect();
        let target = Arc::new(Schema::new(fields));
        let columns = batch
            .columns()
            .iter()
            .zip(target.fields())
            .map(|(c, f)| cast(c, f.data_type()))
            .collect::<std::result::Result<Vec<_>, _>>()?;
        out.push(RecordBatch::try_new(target.clone(), columns)?);
        schema = Some(target);
    }
    Ok((schema.unwrap_or_else(|| Arc::new(Schema::empty())), out))
}

pub(crate) fn dir_size(path: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(path) else {
        return 0;
    };
    entries
        .flatten()
        .map(|e| match e.metadata() {
            Ok(m) if m.is_dir() => dir_size(&e.path()),
            Ok(m) => m.len(),
            Err(_) => 0,
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use deltalake::arrow::array::Int64Array;

    use super::*;

    fn record() -> CommitRecord {
        CommitRecord {
            ingest_id: "test".into(),
            kind: "ingest".into(),
            columns: Vec::new(),
            rows_written: 2,
            table_rows: 2,
            dataset_version: None,
            report: None,
            message_keys: Vec::new(),
            maintenance: None,
            duplicates: None,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_part_commits_nothing_and_leaves_no_files() {
        let home = tempfile::tempdir().unwrap();
        let lake = Lake::open(home.path()).unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, true)]));
        let batch =
            RecordBatch::try_new(schema.clone(), vec![Arc::new(Int64Array::from(vec![1, 2]))])
                .unwrap();
        let good: BatchSource = Box::new(vec![Ok(batch.clone())].into_iter());
        let bad: BatchSource = Box::new(
            vec![
                Ok(batch.clone()),
                Err(DataError::io(
                    "source.csv",
                    std::io::Error::other("the source broke"),
                )),
            ]
            .into_iter(),
        );
        let err = lake
            .write(
                "t",
                WriteMode::Create,
                schema.clone(),
                vec![good, bad],
                &record(),
                &Encodings::default(),
            )
            .await
            .unwrap_err();
        let chain = std::iter::successors(Some(&err as &dyn std::error::Error), |e| e.source())
            .map(|e| e.to_string())
            .collect::<Vec<_>>()
            .join(": ");
        assert!(chain.contains("the source broke"), "{chain}");
        assert!(!lake.exists("t"));
        assert!(
            !lake.table_path("t").exists(),
            "the attempt's files are removed"
        );

        let parts: Vec<BatchSource> = vec![
            Box::new(vec![Ok(batch.clone())].into_iter()),
            Box::new(vec![Ok(batch)].into_iter()),
        ];
        let version = lake
            .write(
                "t",
                WriteMode::Create,
                schema,
                parts,
                &record(),
                &Encodings::default(),
            )
            .await
            .unwrap();
        assert_eq!(version, 0);
        let (table, _) = lake.read_table("t", None).await.unwrap();
        assert_eq!(table.num_rows(), 4);
    }

    /// A column named in `without_dictionary` is written plain, timestamps delta-encoded; the others keep
    /// their dictionary.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn columns_without_dictionary_are_written_plain() {
        use deltalake::arrow::array::TimestampMicrosecondArray;
        use deltalake::arrow::datatypes::TimeUnit;
        let home = tempfile::tempdir().unwrap();
        let lake = Lake::open(home.path()).unwrap();
        let schema = Arc::new(Schema::new(vec![
            Field::new("few", DataType::Int64, true),
            Field::new("many", DataType::Int64, true),
            Field::new(
                "at",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                true,
            ),
        ]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(Int64Array::from_iter_values((0..1000).map(|i| i % 3))),
                Arc::new(Int64Array::from_iter_values(0..1000)),
                Arc::new(
                    TimestampMicrosecondArray::from_iter_values((0..1000).map(|i| i * 10_000))
                        .with_timezone("UTC"),
                ),
            ],
        )
        .unwrap();
        let encodings = Encodings {
            without_dictionary: vec!["many".into()],
        };
        let parts: Vec<BatchSource> = vec![Box::new(vec![Ok(batch)].into_iter())];
        lake.write("t", WriteMode::Create, schema, parts, &record(), &encodings)
            .await
            .unwrap();
        let file = std::fs::read_dir(lake.table_path("t"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "parquet"))
            .unwrap();
        let reader = deltalake::parquet::file::reader::SerializedFileReader::new(
            std::fs::File::open(file).unwrap(),
        )
        .unwrap();
        use deltalake::parquet::file::reader::FileReader;
        let row_group = reader.metadata().row_group(0).clone();
        assert!(row_group.column(0).dictionary_page_offset().is_some());
        assert!(row_group.column(1).dictionary_page_offset().is_none());
        assert!(row_group.column(2).dictionary_page_offset().is_none());
        let encodings: Vec<Encoding> = row_group.column(2).encodings().collect();
        assert!(
            encodings.contains(&Encoding::DELTA_BINARY_PACKED),
            "{encodings:?}"
        );
        let (table, _) = lake.read_table("t", None).await.unwrap();
        assert_eq!(table.num_rows(), 1000);
    }
}
