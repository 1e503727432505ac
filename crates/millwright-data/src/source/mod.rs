//! Sources: CSV, JSON lines and Parquet files read in bounded batches of typed rows.
//!
//! Every source yields [`SourceBatch`]es with the same schema: the typed columns, then [`LINE_COLUMN`]
//! (where each row came from). Rows that cannot be typed never reach a batch: they go to the quarantine log.

mod csv;
mod csv_split;
mod jsonl;
mod parquet;
pub mod typed;

use typed::TypedBatchBuilder;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use deltalake::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use deltalake::arrow::record_batch::RecordBatch;
use serde::{Deserialize, Serialize};

use crate::error::{DataError, Result};
use crate::quarantine::QuarantineLog;
use crate::types::{arrow_schema, ColumnKind, ColumnSpec, KindEvidence};

/// Hidden column carrying each row's 1-based source line (or record number), for quarantine and errors.
pub const LINE_COLUMN: &str = "__millwright_line";

/// Rows per batch: large enough to amortise per-batch work, small enough to keep memory flat.
pub const DEFAULT_BATCH_ROWS: usize = 65_536;

/// One bounded batch of typed rows read from a source, with the source's line numbers in [`LINE_COLUMN`].
#[derive(Debug, Clone)]
pub struct SourceBatch {
    pub batch: RecordBatch,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Jsonl,
    Parquet,
}

impl Format {
    /// Chooses the reader by file extension (case-insensitive).
    pub fn detect(path: &Path) -> Result<Format> {
        let extension = path
            .extension()
            .map(|e| e.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        match extension.as_str() {
            "csv" | "tsv" | "txt" => Ok(Format::Csv),
            "jsonl" | "ndjson" | "json" => Ok(Format::Jsonl),
            "parquet" | "pq" => Ok(Format::Parquet),
            _ => Err(DataError::UnsupportedFormat {
                path: path.to_path_buf(),
                extension,
            }),
        }
    }
}

/// How to read a source: batch size and the column kinds decided before reading.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    pub batch_rows: Option<usize>,
    /// Source column name → stored column name.
    pub rename: BTreeMap<String, String>,
    /// Stored column name → kind; wins over inference.
    pub kinds: BTreeMap<String, ColumnKind>,
    /// Kinds of the table the rows are appended to; used where compatible with what the file holds.
    pub existing: Vec<ColumnSpec>,
}

impl ReadOptions {
    fn batch_rows(&self) -> usize {
        self.batch_rows.unwrap_or(DEFAULT_BATCH_ROWS).max(1)
    }
}

/// What was read, for the quality report and lineage.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SourceInfo {
    pub path: String,
    pub format: Format,
    pub bytes: u64,
    /// The sniffed CSV delimiter.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    /// xxh3-64 of the file's bytes (hex), when the caller hashed it (the drop-folder connector does, to
    /// know a file it took before).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xxh3: Option<String>,
}

/// A source opened for reading in batches.
pub struct Source {
    info: SourceInfo,
    columns: Vec<ColumnSpec>,
    schema: SchemaRef,
    reader: Reader,
}

/// Text readers tokenise; the builder next to them types the cells (shared by CSV and JSON lines).
enum Reader {
    Csv(csv::CsvReader, TypedBatchBuilder),
    Jsonl(jsonl::JsonlReader, TypedBatchBuilder),
    Parquet(parquet::ParquetReader),
}

impl Source {
    /// Opens `path`, reads its header and a sample, and decides the column kinds.
    pub fn open(path: &Path, options: &ReadOptions) -> Result<Source> {
        let bytes = input_file_size(path)?;
        let format = Format::detect(path)?;
        let (reader, columns, delimiter) = match format {
            Format::Csv => {
                let (reader, columns) = csv::CsvReader::open(path, options)?;
                let delimiter = Some(display_delimiter(reader.delimiter()));
                (
                    Reader::Csv(reader, typed_builder(path, &columns, options)),
                    columns,
                    delimiter,
                )
            }
            Format::Jsonl => {
                let (reader, columns) = jsonl::JsonlReader::open(path, options)?;
                (
                    Reader::Jsonl(reader, typed_builder(path, &columns, options)),
                    columns,
                    None,
                )
            }
            Format::Parquet => {
                let (reader, columns) = parquet::ParquetReader::open(path, options)?;
                (Reader::Parquet(reader), columns, None)
            }
        };
        let schema = with_line_column(&arrow_schema(&columns));
        Ok(Source {
            info: SourceInfo {
                path: path.display().to_string(),
                format,
                bytes,
                delimiter,
                xxh3: None,
            },
            columns,
            schema,
            reader,
        })
    }

    pub fn info(&self) -> &SourceInfo {
        &self.info
    }

    /// The stored columns, in source order.
    pub fn columns(&self) -> &[ColumnSpec] {
        &self.columns
    }

    /// Schema of the batches: the columns, then [`LINE_COLUMN`].
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    /// Bytes consumed so far (for progress).
    pub fn bytes_read(&self) -> u64 {
        match &self.reader {
            Reader::Csv(r, _) => r.bytes_read(),
            Reader::Jsonl(r, _) => r.bytes_read(),
            Reader::Parquet(r) => r.bytes_read(),
        }
    }

    /// The next batch, or `None` at the end. Rows that cannot be typed go to `quarantine`.
    pub fn next_batch(&mut self, quarantine: &mut QuarantineLog) -> Result<Option<SourceBatch>> {
        match &mut self.reader {
            Reader::Csv(r, builder) => r.next_batch(builder, quarantine),
            Reader::Jsonl(r, builder) => r.next_batch(builder, quarantine),
            Reader::Parquet(r) => r.next_batch(&self.columns, &self.schema, quarantine),
        }
    }
}

/// The size of the input file, or the error that says why `path` is not one: missing or a directory.
fn input_file_size(path: &Path) -> Result<u64> {
    let metadata = std::fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => DataError::InputMissing {
            path: path.to_path_buf(),
        },
        _ => DataError::io(path, e),
    })?;
    if metadata.is_dir() {
        return Err(DataError::InputIsDirectory {
            path: path.to_path_buf(),
        });
    }
    Ok(metadata.len())
}

fn typed_builder(path: &Path, columns: &[ColumnSpec], options: &ReadOptions) -> TypedBatchBuilder {
    let schema = with_line_column(&arrow_schema(columns));
    TypedBatchBuilder::new(
        columns.to_vec(),
        schema,
        options.batch_rows(),
        source_name(path),
    )
}

/// A whole file read into memory: what `train`/`predict` take as input.
#[derive(Debug, Clone)]
pub struct Table {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
}

impl Table {
    pub fn num_rows(&self) -> usize {
        self.batches.iter().map(|b| b.num_rows()).sum()
    }
}

/// Reads a whole file with inferred types and no cleaning. A row that cannot be typed is an error naming it:
/// model inputs must be clean (ingest the file to clean and quarantine instead).
pub fn read_file(path: &Path) -> Result<Table> {
    let mut source = Source::open(path, &ReadOptions::default())?;
    let mut quarantine = QuarantineLog::default();
    let mut batches = Vec::new();
    let first_bad = |quarantine: &QuarantineLog| {
        quarantine.first().map(|bad| DataError::Malformed {
            path: path.to_path_buf(),
            line: bad.line,
            message: bad.reason.to_string(),
        })
    };
    while let Some(batch) = source.next_batch(&mut quarantine)? {
        if let Some(err) = first_bad(&quarantine) {
            return Err(err);
        }
        batches.push(drop_line_column(&batch.batch)?);
    }
    if let Some(err) = first_bad(&quarantine) {
        return Err(err);
    }
    Ok(Table {
        schema: arrow_schema(source.columns()),
        batches,
    })
}

/// The batch without [`LINE_COLUMN`] (the stored shape).
pub fn drop_line_column(batch: &RecordBatch) -> Result<RecordBatch> {
    let keep: Vec<usize> = (0..batch.num_columns())
        .filter(|&i| batch.schema().field(i).name() != LINE_COLUMN)
        .collect();
    Ok(batch.project(&keep)?)
}

pub(crate) fn with_line_column(schema: &SchemaRef) -> SchemaRef {
    let mut fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new(LINE_COLUMN, DataType::UInt64, false));
    Arc::new(Schema::new(fields))
}

fn display_delimiter(delimiter: u8) -> String {
    match delimiter {
        b'\t' => "\\t".to_string(),
        other => (other as char).to_string(),
    }
}

/// Validates and renames header names: non-empty (blank → `column_N`), unique, not the hidden line column.
pub(crate) fn normalise_header(
    path: &Path,
    raw: Vec<String>,
    rename: &BTreeMap<String, String>,
) -> Result<Vec<String>> {
    let mut names: Vec<String> = Vec::with_capacity(raw.len());
    for (i, name) in raw.into_iter().enumerate() {
        let trimmed = name.trim();
        let name = if trimmed.is_empty() {
            format!("column_{}", i + 1)
        } else {
            rename
                .get(trimmed)
                .cloned()
                .unwrap_or_else(|| trimmed.to_string())
        };
        if name == LINE_COLUMN {
            return Err(DataError::Malformed {
                path: path.to_path_buf(),
                line: 1,
                message: format!("column name {LINE_COLUMN:?} is reserved"),
            });
        }
        if let Some(first) = names.iter().position(|n| *n == name) {
            return Err(DataError::DuplicateColumn {
                path: path.to_path_buf(),
                name,
                first: first + 1,
                second: i + 1,
            });
        }
        names.push(name);
    }
    Ok(names)
}

/// Kind of each column: configured override, else the existing table's kind where the file agrees with it,
/// else what the sample shows. Integers read into an existing float column are widened; text into a text column.
pub(crate) fn decide_columns(
    names: &[String],
    evidence: &[KindEvidence],
    options: &ReadOptions,
) -> Vec<ColumnSpec> {
    names
        .iter()
        .zip(evidence)
        .enumerate()
        .map(|(position, (name, evidence))| {
            let (inferred, epoch) = evidence.decide(name);
            let (kind, epoch_unit) = if let Some(kind) = options.kinds.get(name) {
                let epoch = if *kind == ColumnKind::Timestamp {
                    epoch
                } else {
                    None
                };
                (*kind, epoch)
            } else if let Some(existing) = options.existing.iter().find(|c| &c.name == name) {
                match (existing.kind, inferred) {
                    (ColumnKind::Float, ColumnKind::Int) => (ColumnKind::Float, None),
                    (ColumnKind::String | ColumnKind::Categorical, _) => (existing.kind, None),
                    (existing_kind, inferred_kind) if existing_kind == inferred_kind => {
                        (existing_kind, epoch)
                    }
                    _ if evidence_is_empty(evidence) => (existing.kind, existing.epoch_unit),
                    _ => (inferred, epoch),
                }
            } else {
                (inferred, epoch)
            };
            ColumnSpec {
                name: name.clone(),
                kind,
                source_position: position,
                epoch_unit: if kind == ColumnKind::Timestamp {
                    epoch_unit
                } else {
                    None
                },
            }
        })
        .collect()
}

fn evidence_is_empty(evidence: &KindEvidence) -> bool {
    evidence.non_missing() == 0
}

pub(crate) fn source_name(path: &Path) -> Arc<str> {
    Arc::from(path.display().to_string())
}
