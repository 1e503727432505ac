//! The connectors' store: a dataset and its quarantine in the lake, message keys in the commit records.

use std::sync::Arc;

use millwright_connect::{Flush, Store, StoreError};
use millwright_data::arrow::array::{
    ArrayRef, Float64Array, StringArray, TimestampMicrosecondArray,
};
use millwright_data::arrow::record_batch::RecordBatch;
use millwright_data::lake::{BatchSource, CommitRecord, Encodings, Lake, WriteMode};
use millwright_data::maintenance::DEFAULT_TARGET_BYTES;
use millwright_data::quarantine::{quarantine_schema, QuarantineLog, QuarantineRow};
use millwright_data::types::{arrow_schema, ColumnKind, ColumnSpec};

use super::CONNECT_COMMIT_KIND;
use crate::error::{AppError, Result};
use crate::Home;

/// The connector's store: the dataset and its quarantine in the lake, message keys in the commit records.
pub(crate) struct LakeStore {
    lake: Lake,
    dataset: String,
    quarantine: String,
    run_id: String,
    level_columns: Vec<String>,
    columns: Vec<ColumnSpec>,
    table_rows: u64,
    quarantine_rows: u64,
    /// Compact the dataset and its quarantine after this many commits (0: never).
    compact_every: u64,
    commits_since_compact: u64,
}

/// Commits between two automatic compactions of a connector's tables: a commit a second makes 3,600
/// files an hour, and every query opens each of them.
pub const DEFAULT_COMPACT_EVERY: u64 = 100;

impl LakeStore {
    pub(crate) fn open(home: &Home, dataset: &str, level_columns: &[String]) -> Result<LakeStore> {
        let lake = Lake::open(home.root())?;
        let quarantine = Lake::quarantine_name(dataset);
        let rows_of = |name: &str| -> Result<u64> {
            Ok(if lake.exists(name) {
                lake.last_record(name, None)?
                    .map_or(0, |(_, r)| r.table_rows)
            } else {
                0
            })
        };
        let (table_rows, quarantine_rows) = (rows_of(dataset)?, rows_of(&quarantine)?);
        let spec = |name: &str, kind, position| ColumnSpec {
            name: name.to_string(),
            kind,
            source_position: position,
            epoch_unit: None,
        };
        let mut columns = vec![
            spec("time", ColumnKind::Timestamp, 0),
            spec("source", ColumnKind::Categorical, 1),
            spec("signal", ColumnKind::Categorical, 2),
            spec("value", ColumnKind::Float, 3),
            spec("quality", ColumnKind::Categorical, 4),
        ];
        for (i, level) in level_columns.iter().enumerate() {
            columns.push(spec(level, ColumnKind::Categorical, 5 + i));
        }
        let run_id = format!(
            "connect-{}-{}",
            chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
            std::process::id()
        );
        let commits_since_compact = commits_since_compact(&lake, dataset, DEFAULT_COMPACT_EVERY)?;
        Ok(LakeStore {
            lake,
            dataset: dataset.to_string(),
            quarantine,
            run_id,
            level_columns: level_columns.to_vec(),
            columns,
            table_rows,
            quarantine_rows,
            compact_every: DEFAULT_COMPACT_EVERY,
            commits_since_compact,
        })
    }

    /// Sets the automatic compaction's period in commits (0 turns it off).
    pub(crate) fn with_compact_every(mut self, commits: u64) -> LakeStore {
        self.compact_every = commits;
        self
    }

    /// Every `compact_every` commits, compacts the dataset and its quarantine. Runs after the commit, so
    /// the acknowledgements wait for the compaction and nothing else; a failure is logged, not returned:
    /// the readings are committed, and an error here would make the commit loop store them again.
    async fn compact_when_due(&mut self) {
        if self.compact_every == 0 {
            return;
        }
        self.commits_since_compact += 1;
        if self.commits_since_compact < self.compact_every {
            return;
        }
        self.commits_since_compact = 0;
        for name in [&self.dataset, &self.quarantine] {
            match self.lake.compact(name, DEFAULT_TARGET_BYTES).await {
                Ok(done) => tracing::info!(
                    table = %name,
                    version = ?done.version,
                    files_before = done.files_before,
                    files_after = done.files_after,
                    "automatic compaction"
                ),
                Err(err) => tracing::warn!(
                    table = %name,
                    error = %err,
                    "automatic compaction failed; the readings are committed, it is tried again later"
                ),
            }
        }
    }

    /// Message keys of the last `commits` versions of a table, flattened.
    fn keys_of(&self, name: &str, commits: usize) -> Result<Vec<u64>> {
        if !self.lake.exists(name) {
            return Ok(Vec::new());
        }
        // Walks back over `commits` commits that stored rows; compactions and vacuums store none.
        let (mut keys, mut counted) = (Vec::new(), 0);
        let mut v = self.lake.latest_version(name)?;
        while v >= 0 && counted < commits {
            if let Some((_, record)) = self.lake.commit_record(name, Some(v))? {
                if record.maintenance.is_none() {
                    counted += 1;
                    keys.extend(record.message_keys);
                }
            }
            v -= 1;
        }
        Ok(keys)
    }

    fn readings_batch(&self, flush: &Flush) -> Result<RecordBatch> {
        let r = &flush.readings;
        let mut columns: Vec<ArrayRef> = vec![
            Arc::new(
                TimestampMicrosecondArray::from_iter_values(r.iter().map(|x| x.time_us))
                    .with_timezone("UTC"),
            ),
            Arc::new(StringArray::from_iter_values(r.iter().map(|x| &x.source))),
            Arc::new(StringArray::from_iter_values(r.iter().map(|x| &x.signal))),
            Arc::new(Float64Array::from_iter_values(r.iter().map(|x| x.value))),
            Arc::new(StringArray::from_iter_values(r.iter().map(|x| x.quality))),
        ];
        for i in 0..self.level_columns.len() {
            columns.push(Arc::new(StringArray::from_iter(
                r.iter().map(|x| x.levels.get(i).and_then(|v| v.as_deref())),
            )));
        }
        RecordBatch::try_new(arrow_schema(&self.columns), columns).map_err(|source| {
            AppError::Arrow {
                what: format!("building the readings of dataset {:?}", self.dataset),
                source,
            }
        })
    }

    async fn write(&mut self, flush: &Flush) -> Result<Option<i64>> {
        let mut version = None;
        if !flush.readings.is_empty() {
            let batch = self.readings_batch(flush)?;
            let rows = batch.num_rows() as u64;
            let record = CommitRecord {
                ingest_id: self.run_id.clone(),
                kind: CONNECT_COMMIT_KIND.into(),
                columns: self.columns.clone(),
                rows_written: rows,
                table_rows: self.table_rows + rows,
                dataset_version: None,
                report: None,
                message_keys: flush.reading_keys.clone(),
                maintenance: None,
                duplicates: None,
            };
            let mode = if self.lake.exists(&self.dataset) {
                WriteMode::Append
            } else {
                WriteMode::Create
            };
            let part: BatchSource = Box::new(std::iter::once(Ok(batch)));
            let written = self
                .lake
                .write(
                    &self.dataset,
                    mode,
                    arrow_schema(&self.columns),
                    vec![part],
                    &record,
                    &Encodings::default(),
                )
                .await?;
            self.table_rows += rows;
            version = Some(written);
        }
        // The quarantine exists from the first commit on, so it can always be queried.
        if !flush.rejected.is_empty() || !self.lake.exists(&self.quarantine) {
            let mut log = QuarantineLog::default();
            for rejected in &flush.rejected {
                let topic: Arc<str> = Arc::from(rejected.topic.as_str());
                log.push(QuarantineRow::new(
                    &topic,
                    0,
                    rejected.field.as_deref().map(Arc::from),
                    Some(rejected.payload.clone()),
                    rejected.reason.as_str(),
                    rejected.payload.clone(),
                ));
            }
            let dataset_version = match version {
                Some(v) => v,
                None if self.lake.exists(&self.dataset) => {
                    self.lake.latest_version(&self.dataset)?
                }
                None => -1,
            };
            let batches = log.to_batches(&self.run_id, dataset_version);
            let rows = flush.rejected.len() as u64;
            let record = CommitRecord {
                ingest_id: self.run_id.clone(),
                kind: "quarantine".into(),
                columns: Vec::new(),
                rows_written: rows,
                table_rows: self.quarantine_rows + rows,
                dataset_version: Some(dataset_version),
                report: None,
                message_keys: flush.rejected_keys.clone(),
                maintenance: None,
                duplicates: None,
            };
            let mode = if self.lake.exists(&self.quarantine) {
                WriteMode::Append
            } else {
                WriteMode::Create
            };
            let part: BatchSource = Box::new(batches.into_iter().map(Ok));
            let encodings = Encodings {
                without_dictionary: vec!["record".into()],
            };
            self.lake
                .write(
                    &self.quarantine,
                    mode,
                    quarantine_schema(),
                    vec![part],
                    &record,
                    &encodings,
                )
                .await?;
            self.quarantine_rows += rows;
        }
        Ok(version)
    }
}

impl Store for LakeStore {
    async fn recent_keys(
        &mut self,
        commits: usize,
    ) -> std::result::Result<Vec<Vec<u64>>, StoreError> {
        let quarantine = self.keys_of(&self.quarantine, commits)?;
        let readings = self.keys_of(&self.dataset, commits)?;
        Ok(vec![quarantine, readings])
    }

    async fn commit(&mut self, flush: &Flush) -> std::result::Result<Option<i64>, StoreError> {
        let version = self.write(flush).await?;
        if version.is_some() {
            self.compact_when_due().await;
        }
        Ok(version)
    }
}

/// Commits of the dataset since its last compaction, counted back at most `cap` versions: a connector
/// that restarts often still compacts on schedule.
fn commits_since_compact(lake: &Lake, dataset: &str, cap: u64) -> Result<u64> {
    if !lake.exists(dataset) {
        return Ok(0);
    }
    let latest = lake.latest_version(dataset)?;
    let mut count = 0;
    let mut v = latest;
    while v >= 0 && count < cap {
        let record = lake.commit_record(dataset, Some(v))?;
        if record.is_some_and(|(_, r)| r.kind == millwright_data::maintenance::COMPACT_KIND) {
            break;
        }
        count += 1;
        v -= 1;
    }
    Ok(count)
}
