//! Rows that could not be stored, with where they came from and why: the `<dataset>__quarantine` table.

use std::collections::BTreeMap;
use std::sync::Arc;

use deltalake::arrow::array::{ArrayRef, Int64Array, StringArray, UInt64Array};
use deltalake::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use deltalake::arrow::record_batch::RecordBatch;

#[derive(Debug, Clone, PartialEq)]
pub struct QuarantineRow {
    pub source_file: Arc<str>,
    /// Line in a text source (the header is line 1), row number (1-based) in a Parquet source.
    pub line: u64,
    pub column: Option<String>,
    pub raw_value: Option<String>,
    pub reason: String,
    pub record: String,
}

impl QuarantineRow {
    pub fn new(
        source_file: &Arc<str>,
        line: u64,
        column: Option<String>,
        raw_value: Option<String>,
        reason: String,
        record: String,
    ) -> Self {
        QuarantineRow {
            source_file: source_file.clone(),
            line,
            column,
            raw_value,
            reason,
            record,
        }
    }

    /// The reason without the row-specific value, for counting by kind of problem.
    pub fn reason_class(&self) -> String {
        match self.reason.find(':') {
            Some(i) if self.reason.starts_with("column ") => {
                let detail = self.reason[i + 1..].trim();
                let detail = detail.split(" (").next().unwrap_or(detail);
                format!("{}: {}", &self.reason[..i], detail)
            }
            _ => self
                .reason
                .split(" (")
                .next()
                .unwrap_or(&self.reason)
                .to_string(),
        }
    }
}

pub fn quarantine_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("ingest_id", DataType::Utf8, false),
        Field::new("dataset_version", DataType::Int64, false),
        Field::new("source_file", DataType::Utf8, false),
        Field::new("line", DataType::UInt64, false),
        Field::new("column", DataType::Utf8, true),
        Field::new("raw_value", DataType::Utf8, true),
        Field::new("reason", DataType::Utf8, false),
        Field::new("record", DataType::Utf8, false),
    ]))
}

/// Collects quarantined rows and counts them by reason class.
#[derive(Debug, Default)]
pub struct QuarantineLog {
    rows: Vec<QuarantineRow>,
    pub by_reason: BTreeMap<String, u64>,
    total: u64,
}

/// Quarantined rows kept in full; beyond this only counts are kept (the quality report still has them),
/// so a file of pure garbage cannot exhaust memory.
pub const MAX_QUARANTINE_ROWS_KEPT: usize = 1_000_000;

impl QuarantineLog {
    pub fn push(&mut self, row: QuarantineRow) {
        *self.by_reason.entry(row.reason_class()).or_insert(0) += 1;
        self.total += 1;
        if self.rows.len() < MAX_QUARANTINE_ROWS_KEPT {
            self.rows.push(row);
        }
    }

    /// Puts `earlier`'s rows before this log's (parse errors come before rule rejections).
    pub fn absorb_first(&mut self, earlier: QuarantineLog) {
        let mut rows = earlier.rows;
        rows.extend(std::mem::take(&mut self.rows));
        rows.truncate(MAX_QUARANTINE_ROWS_KEPT);
        self.rows = rows;
        for (reason, n) in earlier.by_reason {
            *self.by_reason.entry(reason).or_insert(0) += n;
        }
        self.total += earlier.total;
    }

    pub fn total(&self) -> u64 {
        self.total
    }

    pub fn first(&self) -> Option<&QuarantineRow> {
        self.rows.first()
    }

    /// The rows as record batches for the quarantine table.
    pub fn to_batches(&self, ingest_id: &str, dataset_version: i64) -> Vec<RecordBatch> {
        const CHUNK: usize = 65_536;
        self.rows
            .chunks(CHUNK)
            .map(|rows| {
                let n = rows.len();
                let columns: Vec<ArrayRef> = vec![
                    Arc::new(StringArray::from(vec![ingest_id; n])),
                    Arc::new(Int64Array::from(vec![dataset_version; n])),
                    Arc::new(StringArray::from_iter_values(
                        rows.iter().map(|r| &*r.source_file),
                    )),
                    Arc::new(UInt64Array::from_iter_values(rows.iter().map(|r| r.line))),
                    Arc::new(StringArray::from_iter(
                        rows.iter().map(|r| r.column.as_deref()),
                    )),
                    Arc::new(StringArray::from_iter(
                        rows.iter().map(|r| r.raw_value.as_deref()),
                    )),
                    Arc::new(StringArray::from_iter_values(
                        rows.iter().map(|r| r.reason.as_str()),
                    )),
                    Arc::new(StringArray::from_iter_values(
                        rows.iter().map(|r| r.record.as_str()),
                    )),
                ];
                RecordBatch::try_new(quarantine_schema(), columns)
                    .expect("columns follow the quarantine schema")
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_are_grouped_without_their_values() {
        let src: Arc<str> = Arc::from("a.csv");
        let a = QuarantineRow::new(
            &src,
            3,
            Some("x".into()),
            Some("abc".into()),
            "column \"x\": not a valid float".into(),
            "1,abc".into(),
        );
        assert_eq!(a.reason_class(), "column \"x\": not a valid float");
        let b = QuarantineRow::new(
            &src,
            4,
            None,
            None,
            "expected 3 fields, found 2".into(),
            "1,2".into(),
        );
        assert_eq!(b.reason_class(), "expected 3 fields, found 2");
        let mut log = QuarantineLog::default();
        log.push(a);
        log.push(b);
        assert_eq!(log.total(), 2);
        let batches = log.to_batches("id", 0);
        assert_eq!(batches[0].num_rows(), 2);
    }
}
