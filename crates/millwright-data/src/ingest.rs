//! `ingest`: read a file, clean it, commit it to the lake as one version, quarantine what was rejected.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::Arc;
use std::time::Instant;

use deltalake::arrow::record_batch::RecordBatch;
use millwright_core::{ProgressHandle, Unit};
use serde::{Deserialize, Serialize};

use std::collections::HashSet;

use crate::clean::{CleanConfig, Cleaner};
use crate::duplicates::{RowHasher, StoredDuplicates};
use crate::error::{DataError, Result};
use crate::lake::{
    BatchSource, CommitRecord, Encodings, Lake, WriteMode, DICTIONARY_CAPACITY_VALUES,
};
use crate::names::validate_new_dataset_name;
use crate::quality::{ColumnQuality, QualityReport};
use crate::quarantine::{quarantine_schema, QuarantineLog};
use crate::source::{source_name, ReadOptions, Source, SourceInfo};
use crate::spool::{Spool, SpoolData, DEFAULT_MEMORY_BUDGET};
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
    /// Told of each stage: `reading` (bytes of the file), `cleaning` (rows), `writing` (rows stored),
    /// `committing` (the quarantine table). Silent by default.
    pub progress: ProgressHandle,
    /// On append, rows whose values in these columns are already stored are skipped; empty: rows that
    /// repeat a stored row whole are counted and reported, and stored.
    pub key: Vec<String>,
    /// The file's xxh3 (hex), kept in the report's source (see [`SourceInfo::xxh3`]).
    pub source_xxh3: Option<String>,
}

impl IngestOptions {
    pub fn new(dataset: impl Into<String>, mode: WriteMode) -> Self {
        IngestOptions {
            dataset: dataset.into(),
            mode,
            clean: CleanConfig::default(),
            batch_rows: None,
            memory_budget: DEFAULT_MEMORY_BUDGET,
            progress: ProgressHandle::default(),
            key: Vec::new(),
            source_xxh3: None,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct IngestOutcome {
    pub dataset: String,
    pub version: i64,
    pub rows_written: u64,
    pub rows_quarantined: u64,
    /// Version of `<dataset>__quarantine` holding this ingest's rejected rows (`None` when there were none;
    /// the table exists anyway, empty if nothing was ever quarantined).
    pub quarantine_version: Option<i64>,
    pub report: QualityReport,
    /// On append: the new rows that repeat stored ones (skipped with a key, else stored and reported).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duplicates: Option<StoredDuplicates>,
}

/// Ingests one file: `prepare`, pass 1 (`read_pass`), `fit`, pass 2 (`clean_pass`), `commit`.
/// On any error the lake is as it was: nothing is committed until the data is complete.
pub async fn ingest(home: &Path, path: &Path, options: &IngestOptions) -> Result<IngestOutcome> {
    ingest_files(home, &[path.to_path_buf()], options).await
}

/// Ingests several files with the same columns as one commit, in the order given; the quality report
/// and the quarantine name each row's file. Files whose columns differ from the first's are refused
/// before anything is read.
pub async fn ingest_files(
    home: &Path,
    paths: &[PathBuf],
    options: &IngestOptions,
) -> Result<IngestOutcome> {
    let started = Instant::now();
    let started_at = chrono::Utc::now();
    let (mut job, sources) = prepare(home, paths, options)?;
    let mut read = read_pass(sources, &mut job, options)?;
    read.source.xxh3.clone_from(&options.source_xxh3);
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        rows_read = read.rows_read,
        "ingest pass 1 (parse, hard rules) done"
    );
    fit(&mut job.cleaner, &read.admitted)?;
    let hasher = duplicate_hasher(&job, options).await?;
    let mut hasher = hasher;
    let cleaned = clean_pass(&mut job, &mut read, &options.progress, hasher.as_mut())?;
    tracing::info!(
        seconds = started.elapsed().as_secs_f64(),
        "ingest pass 2 (soft rules) done"
    );
    if cleaned.rows_written == 0 {
        return Err(DataError::NothingToCommit {
            rows: read.quarantine.total(),
            first_reason: read
                .quarantine
                .first()
                .map(|r| format!("line {}: {}", r.line, r.reason))
                .unwrap_or_default(),
        });
    }
    let repeats = match hasher {
        Some(hasher) => Some(find_repeats(&job.lake, hasher, &cleaned, options).await?),
        None => None,
    };
    let mut report = quality_report(&job, &read, &cleaned, options, started_at);
    report.duration_s = started.elapsed().as_secs_f64();
    // Rows skipped for their key are not written; the column statistics still describe the whole file.
    if let Some(found) = repeats.as_ref().map(|r| &r.found).filter(|f| f.skipped) {
        report.rows_written -= found.rows;
    }
    commit(job, read, cleaned, report, options, repeats).await
}

/// On an append to a stored table: hashes the new rows' key (`options.key`, or whole rows when the
/// columns are the stored ones) so pass 2 can record them; `None` when there is nothing to compare.
async fn duplicate_hasher(job: &Prepared, options: &IngestOptions) -> Result<Option<RowHasher>> {
    if job.mode != WriteMode::Append || job.previous.is_none() {
        return Ok(None);
    }
    let name = options.dataset.as_str();
    let stored = crate::duplicates::stored_schema(&job.lake, name).await?;
    let incoming = job.cleaner.output_schema();
    if options.key.is_empty() {
        let names = |s: &deltalake::arrow::datatypes::SchemaRef| {
            let mut n: Vec<String> = s.fields().iter().map(|f| f.name().clone()).collect();
            n.sort();
            n
        };
        // A row with a column the table lacks repeats no stored row whole.
        if names(&stored) != names(&incoming) {
            return Ok(None);
        }
    }
    Ok(Some(RowHasher::new(
        name,
        &options.key,
        &stored,
        &incoming,
    )?))
}

/// The new rows that repeat stored ones, and the hashes to leave out of the write when a key was given.
struct Repeats {
    found: StoredDuplicates,
    hasher: RowHasher,
    skip: HashSet<u64>,
}

async fn find_repeats(
    lake: &Lake,
    hasher: RowHasher,
    cleaned: &CleanPass,
    options: &IngestOptions,
) -> Result<Repeats> {
    let new: HashSet<u64> = cleaned.row_hashes.iter().copied().collect();
    let (stored, example) = crate::duplicates::probe(lake, &options.dataset, &hasher, &new).await?;
    let rows = cleaned
        .row_hashes
        .iter()
        .filter(|h| stored.contains(h))
        .count() as u64;
    let skipped = !options.key.is_empty();
    if skipped && rows == cleaned.rows_written {
        return Err(DataError::AllRowsStored {
            dataset: options.dataset.clone(),
            rows,
            key: options.key.join(","),
        });
    }
    Ok(Repeats {
        found: StoredDuplicates {
            key: options.key.clone(),
            rows,
            skipped,
            example,
        },
        skip: if skipped { stored } else { HashSet::new() },
        hasher,
    })
}

/// An ingest ready to read: the lake, how the dataset is written, the columns and their cleaner.
struct Prepared {
    lake: Lake,
    mode: WriteMode,
    /// The dataset's last commit, when appending to it.
    previous: Option<CommitRecord>,
    columns: Vec<ColumnSpec>,
    cleaner: Cleaner,
    /// The files read, as their quarantine rows name them.
    files: Vec<Arc<str>>,
    /// `<home>/tmp/ingest-*`, removed when the ingest ends.
    scratch: tempfile::TempDir,
    /// The dataset's shared lock, held to the last commit: a delete of the dataset waits for no one and
    /// is refused meanwhile (`trash`).
    _lock: crate::trash::DatasetLock,
}

/// Checks the name and mode against the lake, opens the source (header, sample, column kinds) and
/// builds the cleaner for its columns.
fn prepare(
    home: &Path,
    paths: &[PathBuf],
    options: &IngestOptions,
) -> Result<(Prepared, Vec<Source>)> {
    let Some(path) = paths.first() else {
        return Err(DataError::NoInputFiles);
    };
    let name = options.dataset.as_str();
    validate_new_dataset_name(name)?;
    let lake = Lake::open(home)?;
    // Taken before the first look at the table, so what this ingest sees is what it writes to.
    let lock = lake.lock_shared(name)?;
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
    let source = Source::open(path, &read_options)?;
    if let Some(previous) = &previous {
        check_additive(name, &previous.columns, source.columns())?;
    }
    let columns: Vec<ColumnSpec> = source.columns().to_vec();
    let sources = open_more(source, paths, read_options)?;
    let cleaner = Cleaner::new(&options.clean, &columns, source_name(path))?;
    let scratch_root = home.join("tmp");
    std::fs::create_dir_all(&scratch_root).map_err(|e| DataError::io(&scratch_root, e))?;
    let scratch = tempfile::Builder::new()
        .prefix("ingest-")
        .tempdir_in(&scratch_root)
        .map_err(|e| DataError::io(&scratch_root, e))?;
    let job = Prepared {
        lake,
        mode,
        previous,
        columns,
        cleaner,
        files: paths.iter().map(|p| source_name(p)).collect(),
        scratch,
        _lock: lock,
    };
    Ok((job, sources))
}

/// Opens the files after the first, each read with the first's kinds where compatible; a file whose
/// columns (names, order, kinds) differ is an error naming it and the difference.
fn open_more(first: Source, paths: &[PathBuf], mut options: ReadOptions) -> Result<Vec<Source>> {
    options.existing = first.columns().to_vec();
    let mut sources = vec![first];
    for path in &paths[1..] {
        let next = Source::open(path, &options)?;
        if let Some(difference) = column_difference(sources[0].columns(), next.columns()) {
            return Err(DataError::SchemaDiffers {
                first: paths[0].clone(),
                file: path.clone(),
                difference,
            });
        }
        sources.push(next);
    }
    Ok(sources)
}

/// How `other`'s columns differ from `first`'s, if they do.
fn column_difference(first: &[ColumnSpec], other: &[ColumnSpec]) -> Option<String> {
    for (a, b) in first.iter().zip(other) {
        if a.name != b.name {
            return Some(if other.iter().any(|o| o.name == a.name) {
                format!(
                    "its column {} is {:?} where the first has {:?}",
                    b.source_position + 1,
                    b.name,
                    a.name
                )
            } else {
                format!("it has no column {:?}", a.name)
            });
        }
        if a.kind != b.kind {
            return Some(format!(
                "column {:?} holds {} where the first holds {}",
                a.name,
                b.kind.name(),
                a.kind.name()
            ));
        }
    }
    match other.len().cmp(&first.len()) {
        std::cmp::Ordering::Greater => Some(format!(
            "it has a column {:?} the first lacks",
            other[first.len()].name
        )),
        std::cmp::Ordering::Less => Some(format!("it has no column {:?}", first[other.len()].name)),
        std::cmp::Ordering::Equal => None,
    }
}

/// What pass 1 leaves: the admitted rows, statistics as read and the rows set aside so far.
struct ReadPass {
    admitted: SpoolData,
    admitted_rows: u64,
    before: Vec<StatsAccumulator>,
    quarantine: QuarantineLog,
    rows_read: u64,
    source: SourceInfo,
    /// The file (index into `Prepared::files`) of each admitted batch.
    batch_files: Vec<usize>,
}

/// Pass 1: parse, statistics as read, hard rules; the admitted rows are spooled for the later passes.
fn read_pass(
    sources: Vec<Source>,
    job: &mut Prepared,
    options: &IngestOptions,
) -> Result<ReadPass> {
    let progress = &options.progress;
    let info = combined_info(&sources);
    progress.stage("reading", Some(info.bytes), Unit::Bytes);
    let mut quarantine = QuarantineLog::default();
    let mut before = accumulators(&job.columns);
    let mut admitted = Spool::new(
        sources[0].schema(),
        options.memory_budget,
        job.scratch.path().join("admitted.arrow"),
    );
    let mut batch_files = Vec::new();
    let (cleaner, files) = (&mut job.cleaner, &job.files);
    // Parsing runs on its own thread, one batch ahead of statistics and the hard rules: the two halves
    // of pass 1 cost about the same, so the second core nearly halves it.
    let (rows_parsed, parse_quarantine) =
        std::thread::scope(|scope| -> Result<(u64, QuarantineLog)> {
            let (sender, receiver) =
                std::sync::mpsc::sync_channel::<(usize, Result<RecordBatch>)>(2);
            let reader = scope.spawn(move || read_batches(sources, &sender, progress));
            let mut rows_parsed = 0u64;
            let mut failure = None;
            for (file, batch) in receiver {
                let step = batch.and_then(|batch| {
                    rows_parsed += batch.num_rows() as u64;
                    for (acc, column) in before.iter_mut().zip(batch.columns()) {
                        acc.observe(column);
                    }
                    if files.len() > 1 {
                        cleaner.set_source(files[file].clone());
                    }
                    let out = cleaner.admit(batch, &mut quarantine)?;
                    if out.num_rows() > 0 {
                        batch_files.push(file);
                    }
                    admitted.push(out)
                });
                if let Err(err) = step {
                    failure = Some(err);
                    break; // dropping the receiver stops the reader
                }
                progress.note(&format!("{rows_parsed} rows"));
            }
            let parse_quarantine = reader
                .join()
                .map_err(|_| DataError::ThreadPanicked { thread: "reader" })?;
            match failure {
                Some(err) => Err(err),
                None => Ok((rows_parsed, parse_quarantine)),
            }
        })?;
    let rows_read = rows_parsed + parse_quarantine.total();
    quarantine.absorb_first(parse_quarantine);
    Ok(ReadPass {
        admitted_rows: admitted.rows(),
        admitted: admitted.finish()?,
        before,
        quarantine,
        rows_read,
        source: info,
        batch_files,
    })
}

/// One file's info as it is; several files' as one: names joined, bytes summed.
fn combined_info(sources: &[Source]) -> SourceInfo {
    let mut info = sources[0].info().clone();
    if sources.len() > 1 {
        let names: Vec<&str> = sources.iter().map(|s| s.info().path.as_str()).collect();
        info.path = names.join(", ");
        info.bytes = sources.iter().map(|s| s.info().bytes).sum();
    }
    info
}

/// The reader thread of pass 1: parses batches and sends them on until the end, an error, or the
/// receiver hanging up. Returns the rows that could not be typed.
fn read_batches(
    sources: Vec<Source>,
    sender: &SyncSender<(usize, Result<RecordBatch>)>,
    progress: &ProgressHandle,
) -> QuarantineLog {
    let mut parse_quarantine = QuarantineLog::default();
    let mut done_bytes = 0;
    for (file, mut source) in sources.into_iter().enumerate() {
        loop {
            let next = source.next_batch(&mut parse_quarantine);
            progress.advance(done_bytes + source.bytes_read());
            let failed = next.is_err();
            let stop = !matches!(next, Ok(Some(_)));
            if let Some(message) = next.map(|b| b.map(|b| b.batch)).transpose() {
                if sender.send((file, message)).is_err() {
                    return parse_quarantine;
                }
            }
            if failed {
                return parse_quarantine;
            }
            if stop {
                break;
            }
        }
        done_bytes += source.info().bytes;
    }
    parse_quarantine
}

/// Between the passes: the soft rules (fences, fill values, interpolation) fitted on pass 1's survivors.
fn fit(cleaner: &mut Cleaner, admitted: &SpoolData) -> Result<()> {
    cleaner.fit();
    if cleaner.needs_interpolation() {
        cleaner.prepare_interpolation(admitted.batches()?)?;
    }
    Ok(())
}

/// What the report run of pass 2 leaves: statistics after cleaning, the rows kept, and the cleaner as it
/// stood at the first batch of each writer part.
struct CleanPass {
    after: Vec<StatsAccumulator>,
    rows_written: u64,
    /// On an append: the hash of each cleaned row's key, in order (see [`crate::duplicates`]).
    row_hashes: Vec<u64>,
    part_starts: Vec<usize>,
    part_cleaners: Vec<Cleaner>,
}

/// Pass 2, the report run: cleans every admitted batch for the quality report, which the commit carries.
///
/// Pass 2 runs twice from the same fitted cleaner: here, then again as the lake writer pulls batches
/// (`commit`), so cleaning overlaps Parquet encoding and the cleaned rows are never held or spilled.
/// Cleaning is deterministic, so both runs give the same rows. The writer encodes consecutive parts in
/// parallel; each part's cleaner is this one as it stood when this run reached the part's first batch, so
/// stateful rules (forward fill, smoothing) carry over.
fn clean_pass(
    job: &mut Prepared,
    read: &mut ReadPass,
    progress: &ProgressHandle,
    mut hasher: Option<&mut RowHasher>,
) -> Result<CleanPass> {
    let mut row_hashes = Vec::new();
    progress.stage("cleaning", Some(read.admitted_rows), Unit::Rows);
    let part_starts = part_starts(read.admitted.batch_count()?);
    let mut part_cleaners = Vec::with_capacity(part_starts.len());
    let mut after = accumulators(&job.columns);
    let (mut rows_cleaned, mut rows_written) = (0u64, 0u64);
    let (cleaner, quarantine, admitted) = (&mut job.cleaner, &mut read.quarantine, &read.admitted);
    let (files, batch_files) = (&job.files, &read.batch_files);
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
                if files.len() > 1 {
                    cleaner.set_source(files[batch_files[index]].clone());
                }
                if part_starts.contains(&index) {
                    part_cleaners.push(cleaner.clone());
                }
                let batch = batch?;
                rows_cleaned += batch.num_rows() as u64;
                let out = cleaner.finish(batch, quarantine)?;
                rows_written += out.num_rows() as u64;
                if let Some(hasher) = hasher.as_deref_mut() {
                    hasher.observe(&out, &mut row_hashes)?;
                }
                for (acc, column) in own_after.iter_mut().zip(out.columns()) {
                    acc.observe(column);
                }
                progress.advance(rows_cleaned);
                if sender.send(out).is_err() {
                    break; // the helper panicked; join below reports it
                }
            }
            Ok(())
        })();
        drop(sender);
        helper.join().map_err(|_| DataError::ThreadPanicked {
            thread: "statistics",
        })?;
        cleaned
    })?;
    Ok(CleanPass {
        after,
        rows_written,
        row_hashes,
        part_starts,
        part_cleaners,
    })
}

/// The quality report of this ingest (its duration is set when it is committed).
fn quality_report(
    job: &Prepared,
    read: &ReadPass,
    cleaned: &CleanPass,
    options: &IngestOptions,
    started_at: chrono::DateTime<chrono::Utc>,
) -> QualityReport {
    let columns: Vec<ColumnQuality> = job
        .columns
        .iter()
        .zip(read.before.iter().zip(&cleaned.after))
        .zip(job.cleaner.actions())
        .map(|((spec, (b, a)), (_, actions))| ColumnQuality {
            name: spec.name.clone(),
            kind: spec.kind,
            before: b.finish(),
            after: a.finish(),
            actions,
        })
        .collect();
    let named = |keep: fn(&ColumnQuality) -> bool| {
        columns
            .iter()
            .filter(|c| keep(c))
            .map(|c| c.name.clone())
            .collect()
    };
    let constant_columns = named(|c| c.after.count > 0 && c.after.distinct == 1);
    let empty_columns = named(|c| c.after.count == 0);
    QualityReport {
        ingest_id: format!(
            "{}-{:08x}",
            started_at.format("%Y%m%dT%H%M%SZ"),
            rand::random::<u32>()
        ),
        dataset: options.dataset.clone(),
        mode: format!("{:?}", job.mode).to_lowercase(),
        source: read.source.clone(),
        started_at: started_at.to_rfc3339(),
        duration_s: 0.0,
        rows_read: read.rows_read,
        rows_written: cleaned.rows_written,
        rows_quarantined: read.quarantine.total(),
        quarantined_by_reason: read.quarantine.by_reason.clone(),
        duplicates_removed: job.cleaner.duplicates_removed(),
        columns,
        constant_columns,
        empty_columns,
        config: options.clean.clone(),
    }
}

/// Commit: the cleaned rows as one dataset version (pass 2 again, feeding the writer), then the rejected
/// rows to `<dataset>__quarantine`.
async fn commit(
    job: Prepared,
    read: ReadPass,
    cleaned: CleanPass,
    report: QualityReport,
    options: &IngestOptions,
    repeats: Option<Repeats>,
) -> Result<IngestOutcome> {
    let name = options.dataset.as_str();
    let progress = &options.progress;
    let output_schema = job.cleaner.output_schema();
    let duplicates = repeats.as_ref().map(|r| r.found.clone());
    let skipped = duplicates
        .as_ref()
        .filter(|d| d.skipped)
        .map_or(0, |d| d.rows);
    let rows_written = cleaned.rows_written - skipped;
    let record = CommitRecord {
        ingest_id: report.ingest_id.clone(),
        kind: "ingest".into(),
        columns: stored_column_specs(&job.columns, &output_schema),
        rows_written,
        table_rows: job.previous.as_ref().map_or(0, |p| p.table_rows) + rows_written,
        dataset_version: None,
        report: Some(Box::new(report.clone())),
        message_keys: Vec::new(),
        maintenance: None,
        duplicates: duplicates.clone(),
    };
    let skip = repeats
        .filter(|r| !r.skip.is_empty())
        .map(|r| Arc::new((r.hasher, r.skip)));
    progress.stage("writing", Some(rows_written), Unit::Rows);
    let written = Arc::new(AtomicU64::new(0));
    let parts: Vec<BatchSource> = read
        .admitted
        .into_parts(&cleaned.part_starts)?
        .into_iter()
        .zip(cleaned.part_cleaners)
        .map(|(batches, mut part_cleaner)| {
            let (written, progress, skip) = (written.clone(), progress.clone(), skip.clone());
            // This run's quarantine rows are the report run's, already logged.
            Box::new(batches.map(move |batch| {
                let mut out = part_cleaner.finish(batch?, &mut QuarantineLog::default())?;
                if let Some(skip) = &skip {
                    out = skip.0.without(out, &skip.1)?;
                }
                let rows = out.num_rows() as u64;
                progress.advance(written.fetch_add(rows, Ordering::Relaxed) + rows);
                Ok(out)
            })) as BatchSource
        })
        .collect();
    let encodings = encodings(&job.columns, &read.before);
    let version = job
        .lake
        .write(name, job.mode, output_schema, parts, &record, &encodings)
        .await?;
    tracing::info!(version, "ingest committed");
    progress.stage("committing", Some(read.quarantine.total()), Unit::Rows);
    let quarantine_version = write_quarantine(
        &job.lake,
        name,
        &report.ingest_id,
        version,
        &read.quarantine,
    )
    .await?;
    Ok(IngestOutcome {
        dataset: name.to_string(),
        version,
        rows_written,
        rows_quarantined: read.quarantine.total(),
        quarantine_version,
        report,
        duplicates,
    })
}

fn accumulators(columns: &[ColumnSpec]) -> Vec<StatsAccumulator> {
    columns
        .iter()
        .map(|c| StatsAccumulator::new(c.kind))
        .collect()
}

/// Where each Parquet writer's part starts: consecutive runs of the batches, one part per core.
fn part_starts(batch_count: usize) -> Vec<usize> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let parts = cores.min(batch_count).max(1);
    (0..parts).map(|k| k * batch_count / parts).collect()
}

/// Appends the rejected rows to the dataset's quarantine table; returns the version holding them, or
/// `None` when nothing was rejected. The table is created (empty if need be) by the dataset's first
/// ingest, so it can always be queried.
async fn write_quarantine(
    lake: &Lake,
    dataset: &str,
    ingest_id: &str,
    dataset_version: i64,
    quarantine: &QuarantineLog,
) -> Result<Option<i64>> {
    let name = Lake::quarantine_name(dataset);
    let exists = lake.exists(&name);
    if exists && quarantine.total() == 0 {
        return Ok(None);
    }
    let previous_rows = if exists {
        lake.last_record(&name, None)?
            .map(|(_, r)| r.table_rows)
            .unwrap_or(0)
    } else {
        0
    };
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
        message_keys: Vec::new(),
        maintenance: None,
        duplicates: None,
    };
    let mode = if exists {
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
    let version = lake
        .write(&name, mode, quarantine_schema(), parts, &record, &encodings)
        .await?;
    Ok((rows > 0).then_some(version))
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
                return Err(DataError::ColumnKindChanged {
                    name: name.to_string(),
                    column: column.name.clone(),
                    stored: old.kind.name(),
                    incoming: column.kind.name(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: &str, kind: ColumnKind, position: usize) -> ColumnSpec {
        ColumnSpec {
            name: name.into(),
            kind,
            source_position: position,
            epoch_unit: None,
        }
    }

    #[test]
    fn a_column_difference_says_what_differs() {
        let first = [
            spec("id", ColumnKind::Int, 0),
            spec("v", ColumnKind::Float, 1),
        ];
        assert_eq!(column_difference(&first, &first), None);
        let renamed = [
            spec("id", ColumnKind::Int, 0),
            spec("w", ColumnKind::Float, 1),
        ];
        assert_eq!(
            column_difference(&first, &renamed).unwrap(),
            "it has no column \"v\""
        );
        let swapped = [
            spec("v", ColumnKind::Float, 0),
            spec("id", ColumnKind::Int, 1),
        ];
        assert_eq!(
            column_difference(&first, &swapped).unwrap(),
            "its column 1 is \"v\" where the first has \"id\""
        );
        let retyped = [
            spec("id", ColumnKind::Int, 0),
            spec("v", ColumnKind::String, 1),
        ];
        assert!(column_difference(&first, &retyped)
            .unwrap()
            .starts_with("column \"v\" holds"));
        let wider = [
            spec("id", ColumnKind::Int, 0),
            spec("v", ColumnKind::Float, 1),
            spec("x", ColumnKind::Int, 2),
        ];
        assert_eq!(
            column_difference(&first, &wider).unwrap(),
            "it has a column \"x\" the first lacks"
        );
        assert_eq!(
            column_difference(&first, &first[..1]).unwrap(),
            "it has no column \"v\""
        );
    }
}
