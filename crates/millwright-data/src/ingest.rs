//! `ingest`: read a file, clean it, commit it to the lake as one version, quarantine what was rejected.

use std::path::Path;
use std::time::Instant;

use deltalake::arrow::record_batch::RecordBatch;
use indicatif::ProgressBar;
use serde::{Deserialize, Serialize};

use crate::clean::{CleanConfig, Cleaner};
use crate::error::{DataError, Result};
use crate::lake::{
    BatchSource, CommitRecord, Encodings, Lake, WriteMode, DICTIONARY_CAPACITY_VALUES,
};
use crate::names::validate_new_dataset_name;
use crate::quality::{ColumnQuality, QualityReport};
use crate::quarantine::{quarantine_schema, QuarantineLog};
use crate::source::{source_name, ReadOptions, Source};
use crate::spool::{Spool, DEFAULT_MEMORY_BUDGET};
use crate::stats::StatsAccumulator;
use crate::types::{ColumnKind, ColumnSpec};

#[derive(Debug, Clone)]
pub struct IngestOptions {
    pub dataset: String,
    pub mode: WriteMode,
    pub clean: CleanConfig,
    pub batch_rows: Option<usize>,
    /// Bytes of rows held in memory between passes before spilling to `<home>/tmp`.
    pub memory_budget: usize,
    /// Advanced by bytes read; the caller decides whether it is drawn.
    pub progress: Option<ProgressBar>,
}

impl IngestOptions {
    pub fn new(dataset: impl Into<String>, mode: WriteMode) -> Self {
        IngestOptions {
            dataset: dataset.into(),
            mode,
            clean: CleanConfig::default(),
            batch_rows: None,
            memory_budget: DEFAULT_MEMORY_BUDGET,
            progress: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IngestOutcome {
    pub dataset: String,
    pub version: i64,
    pub rows_written: u64,
    pub rows_quarantined: u64,
    /// Version of `<dataset>__quarantine` holding this ingest's rejected rows.
    pub quarantine_version: Option<i64>,
    pub report: QualityReport,
}

/// Ingests one file. On any error the lake is as it was: nothing is committed until the data is complete.
pub async fn ingest(home: &Path, path: &Path, options: &IngestOptions) -> Result<IngestOutcome> {
    let started = Instant::now();
    let started_at = chrono::Utc::now();
    let name = options.dataset.as_str();
    validate_new_dataset_name(name)?;
    let lake = Lake::open(home)?;
    let exists = lake.exists(name);
    if exists && options.mode == WriteMode::Create {
        return Err(DataError::DatasetExists {
            name: name.to_string(),
        });
    }
    let mode = if exists {
        options.mode
    } else {
        WriteMode::Create
    };
    let previous = if exists && mode == WriteMode::Append {
        lake.last_record(name, None)?.map(|(_, r)| r)
    } else {
        None
    };
    let read_options = ReadOptions {
        batch_rows: options.batch_rows,
        rename: options.clean.rename.clone(),
        kinds: options
            .clean
            .columns
            .iter()
            .filter_map(|(column, rules)| rules.kind.map(|k| (column.clone(), k)))
            .collect(),
        existing: previous
            .as_ref()
            .map(|r| r.columns.clone())
            .unwrap_or_default(),
    };
    let mut source = Source::open(path, &read_options)?;
    if let Some(previous) = &previous {
        check_additive(name, &previous.columns, source.columns())?;
    }
    let columns: Vec<ColumnSpec> = source.columns().to_vec();
    let mut cleaner = Cleaner::new(&options.clean, &columns, source_name(path))?;

    let scratch_root = home.join("tmp");
    std::fs::create_dir_all(&scratch_root).map_err(|e| DataError::io(&scratch_root, e))?;
    let scratch = tempfile::Builder::new()
        .prefix("ingest-")
        .tempdir_in(&scratch_root)
        .map_err(|e| DataError::io(&scratch_root, e))?;

    // Pass 1: parse, statistics as read, hard rules.
    let mut quarantine = QuarantineLog::default();
    let mut before: Vec<StatsAccumulator> = columns
        .iter()
        .map(|c| StatsAccumulator::new(c.kind))
        .collect();
    let mut admitted = Spool::new(
        source.schema(),
        options.memory_budget,
        scratch.path().join("admitted.arrow"),
    );
    let progress = options.progress.clone().unwrap_or_else(ProgressBar::hidden);
    progress.set_length(source.info().bytes);
    progress.set_message("reading");
    // Parsing runs on its own thread, one batch ahead of statistics and the hard rules: the two halves
    // of pass 1 cost about the same, so the second core nearly halves it.
    let source_info = source.info().clone();
    let (rows_parsed, parse_quarantine) =
        std::thread::scope(|scope| -> Result<(u64, QuarantineLog)> {
            let (sender, receiver) = std::sync::mpsc::sync_channel::<Result<RecordBatch>>(2);
            let reader_progress = progress.clone();
            let reader = scope.spawn(move || {
                let mut parse_quarantine = QuarantineLog::default();
                loop {
                    let next = source.next_batch(&mut parse_quarantine);
                    reader_progress.set_position(source.bytes_read());
                    let stop = !matches!(next, Ok(Some(_)));
                    let message = next.map(|b| b.map(|b| b.batch)).transpose();
                    if let Some(message) = message {
                        if sender.send(message).is_err() {
                            break;
                        }
                    }
                    if stop {
                        break;
                    }
                }
                parse_quarantine
            });
            let mut rows_parsed = 0u64;
            let mut failure = None;
            for batch in receiver {
                let step = batch.and_then(|batch| {
                    rows_parsed += batch.num_rows() as u64;
                    for (acc, column) in before.iter_mut().zip(batch.columns()) {
                        acc.observe(column);
                    }
                    admitted.push(cleaner.admit(batch, &mut quarantine)?)
                });
                if let Err(err) = step {
                    failure = Some(err);
                    break; // dropping the receiver stops the reader
                }
                progress.set_message(format!("{rows_parsed} rows"));
            }
            let parse_quarantine = reader
                .join()
                .map_err(|_| DataError::Other("the reader thread panicked".into()))?;
            match failure {
                Some(err) => Err(err),
                None => Ok((rows_parsed, parse_quarantine)),
            }
        })?;
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        rows_parsed,
        "ingest pass 1 (parse, hard rules) done"
    );
    let rows_read = rows_parsed + parse_quarantine.total();
    quarantine.absorb_first(parse_quarantine);
    let admitted = admitted.finish()?;

    // Fit the soft rules on the survivors, then pass 2.
    progress.set_message("cleaning");
    cleaner.fit();
    if cleaner.needs_interpolation() {
        cleaner.prepare_interpolation(admitted.batches()?)?;
    }
    let output_schema = cleaner.output_schema();
    // Pass 2 runs twice from the same fitted cleaner: here for the quality report, which the commit carries,
    // then again as the lake writer pulls batches, so cleaning overlaps Parquet encoding and the cleaned
    // rows are never held or spilled. Cleaning is deterministic, so both runs give the same rows.
    // The writer encodes consecutive parts in parallel; each part's cleaner is this one as it stood when the
    // report run reached the part's first batch, so stateful rules (forward fill, smoothing) carry over.
    let part_starts = part_starts(admitted.batch_count()?);
    let mut part_cleaners = Vec::with_capacity(part_starts.len());
    let mut after: Vec<StatsAccumulator> = columns
        .iter()
        .map(|c| StatsAccumulator::new(c.kind))
        .collect();
    let mut rows_written = 0u64;
    // The after-statistics of most columns are taken on a second thread while this one cleans the next
    // batch; this thread, which also cleans, takes a third of the columns.
    let own = after.len() / 3;
    let (own_after, helper_after) = after.split_at_mut(own);
    std::thread::scope(|scope| -> Result<()> {
        let (sender, receiver) = std::sync::mpsc::sync_channel::<RecordBatch>(2);
        let helper = scope.spawn(move || {
            for out in receiver {
                for (acc, column) in helper_after.iter_mut().zip(&out.columns()[own..]) {
                    acc.observe(column);
                }
            }
        });
        let cleaned = (|| -> Result<()> {
            for (index, batch) in admitted.batches()?.enumerate() {
                if part_starts.contains(&index) {
                    part_cleaners.push(cleaner.clone());
                }
                let out = cleaner.finish(batch?, &mut quarantine)?;
                rows_written += out.num_rows() as u64;
                for (acc, column) in own_after.iter_mut().zip(out.columns()) {
                    acc.observe(column);
                }
                if sender.send(out).is_err() {
                    break; // the helper panicked; join below reports it
                }
            }
            Ok(())
        })();
        drop(sender);
        helper
            .join()
            .map_err(|_| DataError::Other("the statistics thread panicked".into()))?;
        cleaned
    })?;
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "ingest pass 2 (soft rules) done"
    );
    if rows_written == 0 {
        return Err(DataError::NothingToCommit {
            rows: quarantine.total(),
            first_reason: quarantine
                .first()
                .map(|r| format!("line {}: {}", r.line, r.reason))
                .unwrap_or_default(),
        });
    }

    let ingest_id = format!(
        "{}-{:08x}",
        started_at.format("%Y%m%dT%H%M%SZ"),
        rand::random::<u32>()
    );
    let actions = cleaner.actions();
    let column_reports: Vec<ColumnQuality> = columns
        .iter()
        .zip(before.iter().zip(&after))
        .zip(actions)
        .map(|((spec, (b, a)), (_, actions))| ColumnQuality {
            name: spec.name.clone(),
            kind: spec.kind,
            before: b.finish(),
            after: a.finish(),
            actions,
        })
        .collect();
    let constant_columns = column_reports
        .iter()
        .filter(|c| c.after.count > 0 && c.after.distinct == 1)
        .map(|c| c.name.clone())
        .collect();
    let empty_columns = column_reports
        .iter()
        .filter(|c| c.after.count == 0)
        .map(|c| c.name.clone())
        .collect();
    let mut report = QualityReport {
        ingest_id: ingest_id.clone(),
        dataset: name.to_string(),
        mode: format!("{mode:?}").to_lowercase(),
        source: source_info,
        started_at: started_at.to_rfc3339(),
        duration_s: 0.0,
        rows_read,
        rows_written,
        rows_quarantined: quarantine.total(),
        quarantined_by_reason: quarantine.by_reason.clone(),
        duplicates_removed: cleaner.duplicates_removed(),
        columns: column_reports,
        constant_columns,
        empty_columns,
        config: options.clean.clone(),
    };
    let stored_columns = stored_column_specs(&columns, &output_schema);
    let table_rows = previous.as_ref().map(|p| p.table_rows).unwrap_or(0) + rows_written;

    progress.set_message("committing");
    report.duration_s = started.elapsed().as_secs_f64();
    let record = CommitRecord {
        ingest_id: ingest_id.clone(),
        kind: "ingest".into(),
        columns: stored_columns,
        rows_written,
        table_rows,
        dataset_version: None,
        report: Some(Box::new(report.clone())),
    };
    let parts: Vec<BatchSource> = admitted
        .into_parts(&part_starts)?
        .into_iter()
        .zip(part_cleaners)
        .map(|(batches, mut part_cleaner)| {
            // This run's quarantine rows are the report run's, already logged.
            Box::new(
                batches
                    .map(move |batch| part_cleaner.finish(batch?, &mut QuarantineLog::default())),
            ) as BatchSource
        })
        .collect();
    let version = lake
        .write(
            name,
            mode,
            output_schema,
            parts,
            &record,
            &encodings(&columns, &before),
        )
        .await?;

    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        version,
        "ingest committed"
    );
    let quarantine_version = if quarantine.total() > 0 {
        Some(write_quarantine(&lake, name, &ingest_id, version, &quarantine).await?)
    } else {
        None
    };
    progress.finish_and_clear();
    Ok(IngestOutcome {
        dataset: name.to_string(),
        version,
        rows_written,
        rows_quarantined: quarantine.total(),
        quarantine_version,
        report,
    })
}

/// Where each Parquet writer's part starts: consecutive runs of the batches, one part per core.
fn part_starts(batch_count: usize) -> Vec<usize> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let parts = cores.min(batch_count).max(1);
    (0..parts).map(|k| k * batch_count / parts).collect()
}

async fn write_quarantine(
    lake: &Lake,
    dataset: &str,
    ingest_id: &str,
    dataset_version: i64,
    quarantine: &QuarantineLog,
) -> Result<i64> {
    let name = Lake::quarantine_name(dataset);
    let previous_rows = if lake.exists(&name) {
        lake.last_record(&name, None)?
            .map(|(_, r)| r.table_rows)
            .unwrap_or(0)
    } else {
        0
    };
    let schema = quarantine_schema();
    let mut batches = quarantine.to_batches(ingest_id, dataset_version);
    let rows: u64 = batches.iter().map(|b| b.num_rows() as u64).sum();
    let record = CommitRecord {
        ingest_id: ingest_id.to_string(),
        kind: "quarantine".into(),
        columns: Vec::new(),
        rows_written: rows,
        table_rows: previous_rows + rows,
        dataset_version: Some(dataset_version),
        report: None,
    };
    let mode = if lake.exists(&name) {
        WriteMode::Append
    } else {
        WriteMode::Create
    };
    // Like the dataset, one Parquet file per core: a few hundred thousand quarantined rows with their text
    // took a tenth of a second to encode on one core after everything else was done.
    let mut parts: Vec<BatchSource> = Vec::new();
    for start in part_starts(batches.len()).into_iter().rev() {
        parts.push(Box::new(batches.split_off(start).into_iter().map(Ok)));
    }
    parts.reverse();
    // Each row's record text is its own: a dictionary of them would only be filled and abandoned.
    let encodings = Encodings {
        without_dictionary: vec!["record".into()],
    };
    lake.write(&name, mode, schema, parts, &record, &encodings)
        .await
}

/// Number columns with more distinct values than a Parquet dictionary holds go without one (see
/// [`Encodings`]); the estimate comes from the statistics taken as the file was read.
fn encodings(columns: &[ColumnSpec], before: &[StatsAccumulator]) -> Encodings {
    let without_dictionary = columns
        .iter()
        .zip(before)
        .filter(|(spec, stats)| {
            matches!(spec.kind, ColumnKind::Int | ColumnKind::Float)
                && stats.estimated_distinct() > DICTIONARY_CAPACITY_VALUES as f64
        })
        .map(|(spec, _)| spec.name.clone())
        .collect();
    Encodings { without_dictionary }
}

/// The stored columns: the source columns plus outlier flag columns (bool).
fn stored_column_specs(
    columns: &[ColumnSpec],
    output: &deltalake::arrow::datatypes::SchemaRef,
) -> Vec<ColumnSpec> {
    let mut specs = columns.to_vec();
    for field in output.fields().iter().skip(columns.len()) {
        specs.push(ColumnSpec {
            name: field.name().clone(),
            kind: ColumnKind::Bool,
            source_position: specs.len(),
            epoch_unit: None,
        });
    }
    specs
}

/// Appending may add columns, never change the kind of a stored one.
fn check_additive(name: &str, stored: &[ColumnSpec], incoming: &[ColumnSpec]) -> Result<()> {
    for column in incoming {
        if let Some(old) = stored.iter().find(|s| s.name == column.name) {
            let compatible = old.kind == column.kind
                || (old.kind.arrow_type() == column.kind.arrow_type())
                || (old.kind == ColumnKind::Float && column.kind == ColumnKind::Int);
            if !compatible {
                return Err(DataError::SchemaChange {
                    name: name.to_string(),
                    details: format!(
                        "column {:?} is stored as {} but the new file holds {}; this is not an additive change \
                         (use --mode overwrite to replace the dataset, or set its kind in the cleaning config)",
                        column.name,
                        old.kind.name(),
                        column.kind.name()
                    ),
                });
            }
        }
    }
    Ok(())
}
