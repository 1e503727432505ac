//! Lake maintenance: `compact` rewrites a table's many small files (live ingest makes one per commit) into
//! a few large ones as one Delta commit; `vacuum` removes the files no version within the retention needs.
//!
//! Both keep what the rest of Millwright reads from the commit records: the new versions carry a record
//! of kind `compact` or `vacuum` with the last record's columns and `table_rows`, so `datasets`, `schema`,
//! an append's row count and the connectors' message keys see through them.

use std::num::NonZeroU64;
use std::time::Duration;

use deltalake::kernel::transaction::CommitProperties;
use deltalake::DeltaTable;
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::lake::{writer_properties, CommitRecord, Encodings, Lake, COMMIT_METADATA_KEY};

/// Commit kind of a compaction.
pub const COMPACT_KIND: &str = "compact";
/// Commit kind of a vacuum (its `VACUUM START` and `VACUUM END` commits both carry it).
pub const VACUUM_KIND: &str = "vacuum";
/// Files are rewritten into files of about this size (delta-rs's default is 100 MiB as well).
pub const DEFAULT_TARGET_BYTES: u64 = 128 * 1024 * 1024;
/// Below this retention a vacuum needs `force`: a query or connector that opened an older snapshot a
/// moment ago may still be reading the files it would remove.
pub const MIN_RETENTION: Duration = Duration::from_secs(3600);

/// What a maintenance commit did, stored in its record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "op", rename_all = "lowercase")]
pub enum Maintenance {
    Compact {
        files_before: u64,
        bytes_before: u64,
        target_bytes: u64,
    },
    Vacuum {
        retain_s: u64,
        files_removed: u64,
        bytes_freed: u64,
        /// Versions from this one on still have all their files; older ones may not.
        readable_from: i64,
    },
}

/// The result of a compaction.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Compacted {
    pub dataset: String,
    /// The compaction's version; `None` when there was nothing to rewrite (fewer than two small files).
    pub version: Option<i64>,
    pub files_before: u64,
    pub files_after: u64,
    pub bytes_before: u64,
    pub bytes_after: u64,
    pub table_rows: Option<u64>,
}

/// A file a vacuum removed (or would remove, in a dry run).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct VacuumedFile {
    /// Relative to the table folder.
    pub path: String,
    pub bytes: u64,
}

/// The result of a vacuum of one table.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Vacuumed {
    pub dataset: String,
    pub dry_run: bool,
    pub retain_s: u64,
    pub files: Vec<VacuumedFile>,
    pub bytes: u64,
    /// Versions from this one on keep every file; `None` when nothing was (or would be) removed.
    pub readable_from: Option<i64>,
}

/// How a vacuum runs.
#[derive(Debug, Clone, Copy)]
pub struct VacuumOptions {
    pub retain: Duration,
    pub dry_run: bool,
    /// Allows a retention under [`MIN_RETENTION`].
    pub force: bool,
}

impl Lake {
    /// Rewrites the small files of a table into files of about `target_bytes`, as one commit. Every earlier
    /// version stays readable (the old files stay until a vacuum past the retention removes them).
    pub async fn compact(&self, name: &str, target_bytes: u64) -> Result<Compacted> {
        let _lock = self.lock_shared(name)?;
        self.require(name)?;
        let table = self.open_table(name, None).await?;
        let before_version = table.version().unwrap_or(0) as i64;
        let (files_before, bytes_before) = active_files(name, &table)?;
        let last = self.last_record(name, None)?.map(|(_, r)| r);
        let mut result = Compacted {
            dataset: name.to_string(),
            version: None,
            files_before,
            files_after: files_before,
            bytes_before,
            bytes_after: bytes_before,
            table_rows: last.as_ref().map(|r| r.table_rows),
        };
        if files_before < 2 {
            return Ok(result);
        }
        let maintenance = Maintenance::Compact {
            files_before,
            bytes_before,
            target_bytes,
        };
        let properties = properties(name, last, COMPACT_KIND, maintenance)?;
        let schema = table
            .snapshot()
            .map_err(|e| DataError::delta(name, e))?
            .snapshot()
            .arrow_schema();
        let target = NonZeroU64::new(target_bytes.max(1)).unwrap_or(NonZeroU64::MIN);
        let (table, _metrics) = table
            .optimize()
            .with_target_size(target)
            .with_writer_properties(writer_properties(&schema, &Encodings::default()))
            .with_commit_properties(properties)
            .await
            .map_err(|e| DataError::delta(name, e))?;
        let after_version = table.version().unwrap_or(0) as i64;
        if after_version > before_version {
            let (files_after, bytes_after) = active_files(name, &table)?;
            result.version = Some(after_version);
            result.files_after = files_after;
            result.bytes_after = bytes_after;
        }
        Ok(result)
    }

    /// Removes the files that no version committed within `options.retain` needs (files a compaction or
    /// an overwrite replaced longer ago than that). Versions older than the retention keep their log
    /// entries but lose their data: reading them afterwards fails with [`DataError::VersionVacuumed`].
    pub async fn vacuum_table(&self, name: &str, options: VacuumOptions) -> Result<Vacuumed> {
        if options.retain < MIN_RETENTION && !options.force {
            return Err(DataError::RetentionTooShort {
                retain_s: options.retain.as_secs(),
            });
        }
        let _lock = self.lock_shared(name)?;
        self.require(name)?;
        let retention = chrono::Duration::from_std(options.retain).map_err(|_| {
            DataError::RetentionTooLong {
                retain_s: options.retain.as_secs(),
            }
        })?;
        // Our own rule (MIN_RETENTION, force) replaces Delta's table-level minimum of 7 days, so a
        // retention the user asked for is used exactly, never lowered or raised.
        let planned = self
            .open_table(name, None)
            .await?
            .vacuum()
            .with_retention_period(retention)
            .with_enforce_retention_duration(false)
            .with_dry_run(true)
            .await
            .map_err(|e| DataError::delta(name, e))?
            .1
            .files_deleted;
        let folder = self.table_path(name);
        // The log keeps a removed file's tombstone after an earlier vacuum deleted it: only files still
        // on disk are listed (and make a vacuum worth a commit).
        let files: Vec<VacuumedFile> = planned
            .iter()
            .filter_map(|path| {
                let meta = std::fs::metadata(folder.join(path)).ok()?;
                Some(VacuumedFile {
                    bytes: meta.len(),
                    path: path.clone(),
                })
            })
            .collect();
        let mut result = Vacuumed {
            dataset: name.to_string(),
            dry_run: options.dry_run,
            retain_s: options.retain.as_secs(),
            bytes: files.iter().map(|f| f.bytes).sum(),
            readable_from: None,
            files,
        };
        if result.files.is_empty() {
            return Ok(result);
        }
        let readable_from = self.readable_after_removing(name, &planned)?;
        result.readable_from = Some(readable_from);
        if options.dry_run {
            return Ok(result);
        }
        let maintenance = Maintenance::Vacuum {
            retain_s: result.retain_s,
            files_removed: result.files.len() as u64,
            bytes_freed: result.bytes,
            readable_from,
        };
        let last = self.last_record(name, None)?.map(|(_, r)| r);
        let properties = properties(name, last, VACUUM_KIND, maintenance)?;
        self.open_table(name, None)
            .await?
            .vacuum()
            .with_retention_period(retention)
            .with_enforce_retention_duration(false)
            .with_commit_properties(properties)
            .await
            .map_err(|e| DataError::delta(name, e))?;
        Ok(result)
    }

    /// The first version that needs none of `removed`: one past the newest commit that removed one of
    /// them from the table (reads every commit file once; a vacuum is rare).
    fn readable_after_removing(&self, name: &str, removed: &[String]) -> Result<i64> {
        let removed: std::collections::HashSet<&str> = removed.iter().map(String::as_str).collect();
        let mut readable_from = 0;
        for (version, path) in self.commit_files(name)? {
            let text = std::fs::read_to_string(&path).map_err(|e| DataError::io(&path, e))?;
            let removes_one = text.lines().any(|line| {
                serde_json::from_str::<serde_json::Value>(line)
                    .ok()
                    .and_then(|a| a.get("remove")?.get("path")?.as_str().map(str::to_owned))
                    .is_some_and(|p| removed.contains(p.as_str()))
            });
            if removes_one {
                readable_from = version;
            }
        }
        Ok(readable_from)
    }

    /// A past version whose files a vacuum removed cannot be read: say so, with the vacuum that did it,
    /// instead of the object store's "not found" halfway through a query. One `stat` per file.
    pub(crate) fn check_not_vacuumed(
        &self,
        name: &str,
        version: i64,
        table: &DeltaTable,
    ) -> Result<()> {
        let folder = self.table_path(name);
        let snapshot = table.snapshot().map_err(|e| DataError::delta(name, e))?;
        let missing = snapshot
            .log_data()
            .into_iter()
            .map(|f| f.path().into_owned())
            .find(|path| !folder.join(path).exists());
        let Some(missing) = missing else {
            return Ok(());
        };
        let vacuum = self.last_vacuum(name)?;
        Err(DataError::VersionVacuumed {
            name: name.to_string(),
            version,
            missing: folder.join(missing),
            detail: match vacuum {
                Some((at, retain_s, readable_from)) => format!(
                    "`millwright lake vacuum` at version {at} removed the files older than its retention of {}; versions from {readable_from} on are readable",
                    crate::maintenance::human_duration(retain_s)
                ),
                None => "a file it needs is missing from the table folder".to_string(),
            },
        })
    }

    /// The latest vacuum's version, retention (s) and first readable version.
    fn last_vacuum(&self, name: &str) -> Result<Option<(i64, u64, i64)>> {
        for (version, _) in self.commit_files(name)?.iter().rev() {
            if let Some((_, record)) = self.commit_record(name, Some(*version))? {
                if let Some(Maintenance::Vacuum {
                    retain_s,
                    readable_from,
                    ..
                }) = record.maintenance
                {
                    return Ok(Some((*version, retain_s, readable_from)));
                }
            }
        }
        Ok(None)
    }
}

/// Files of the table's current version and their bytes (from the log, no listing).
fn active_files(name: &str, table: &DeltaTable) -> Result<(u64, u64)> {
    let snapshot = table.snapshot().map_err(|e| DataError::delta(name, e))?;
    let (mut files, mut bytes) = (0u64, 0u64);
    for file in snapshot.log_data() {
        files += 1;
        bytes += file.size().max(0) as u64;
    }
    Ok((files, bytes))
}

/// The commit properties of a maintenance commit: the last record's columns and row count, so every
/// reader of records sees the table unchanged. A table no Millwright commit wrote gets none.
fn properties(
    name: &str,
    last: Option<CommitRecord>,
    kind: &str,
    maintenance: Maintenance,
) -> Result<CommitProperties> {
    let Some(last) = last else {
        return Ok(CommitProperties::default());
    };
    let record = CommitRecord {
        ingest_id: format!("{kind}-{}", chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ")),
        kind: kind.to_string(),
        columns: last.columns,
        rows_written: 0,
        table_rows: last.table_rows,
        dataset_version: last.dataset_version,
        report: None,
        message_keys: Vec::new(),
        maintenance: Some(maintenance),
        duplicates: None,
    };
    let metadata = serde_json::to_value(&record).map_err(|source| DataError::CommitRecord {
        table: name.to_string(),
        context: "cannot be encoded",
        source,
    })?;
    Ok(CommitProperties::default().with_metadata([(COMMIT_METADATA_KEY.to_string(), metadata)]))
}

/// `168h`, `90min`, `45s`: how a retention is printed.
pub fn human_duration(seconds: u64) -> String {
    match seconds {
        0 => "0s".to_string(),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}min", s / 60),
        s => format!("{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use deltalake::arrow::array::Int64Array;
    use deltalake::arrow::datatypes::{DataType, Field, Schema};
    use deltalake::arrow::record_batch::RecordBatch;

    use super::*;
    use crate::lake::{BatchSource, WriteMode};

    fn record(table_rows: u64) -> CommitRecord {
        CommitRecord {
            ingest_id: "test".into(),
            kind: "ingest".into(),
            columns: Vec::new(),
            rows_written: 2,
            table_rows,
            dataset_version: None,
            report: None,
            message_keys: vec![table_rows],
            maintenance: None,
            duplicates: None,
        }
    }

    /// A compaction does not change the order rows are read in (seeded splits depend on it; delta-rs
    /// bins files in the order the scan visits them), and its record keeps the row count but no
    /// message keys.
    /// The first (Int64) column of a table's latest version, in the order it reads back.
    async fn first_column(lake: &Lake, name: &str) -> Vec<i64> {
        let (table, _) = lake.read_table(name, None).await.unwrap();
        table
            .batches
            .iter()
            .flat_map(|b| {
                let a = b.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
                a.values().to_vec()
            })
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn compaction_keeps_rows_in_order_and_the_row_count() {
        let home = tempfile::tempdir().unwrap();
        let lake = Lake::open(home.path()).unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, true)]));
        for k in 0..5i64 {
            let batch = RecordBatch::try_new(
                schema.clone(),
                vec![Arc::new(Int64Array::from(vec![2 * k, 2 * k + 1]))],
            )
            .unwrap();
            let part: BatchSource = Box::new(std::iter::once(Ok(batch)));
            let mode = if k == 0 {
                WriteMode::Create
            } else {
                WriteMode::Append
            };
            let rows = 2 * (k as u64 + 1);
            lake.write(
                "t",
                mode,
                schema.clone(),
                vec![part],
                &record(rows),
                &Encodings::default(),
            )
            .await
            .unwrap();
        }
        let before = first_column(&lake, "t").await;
        let done = lake.compact("t", DEFAULT_TARGET_BYTES).await.unwrap();
        assert_eq!(
            (done.files_before, done.files_after, done.version),
            (5, 1, Some(5))
        );
        let values = first_column(&lake, "t").await;
        assert_eq!(values, before, "the rows read in the same order as before");
        let mut sorted = values;
        sorted.sort_unstable();
        assert_eq!(sorted, (0..10).collect::<Vec<_>>());
        let (version, last) = lake.last_record("t", None).unwrap().unwrap();
        assert_eq!(
            (version, last.kind.as_str(), last.table_rows),
            (5, COMPACT_KIND, 10)
        );
        assert!(last.message_keys.is_empty());
        // A second compaction has nothing to rewrite.
        assert_eq!(
            lake.compact("t", DEFAULT_TARGET_BYTES)
                .await
                .unwrap()
                .version,
            None
        );
    }

    #[test]
    fn retentions_print_in_their_largest_whole_unit() {
        assert_eq!(human_duration(0), "0s");
        assert_eq!(human_duration(168 * 3600), "168h");
        assert_eq!(human_duration(90 * 60), "90min");
        assert_eq!(human_duration(45), "45s");
    }
}
