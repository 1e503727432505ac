//! Rows that could not be stored, with where they came from and why: the `<dataset>__quarantine` table.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

use chrono::{Datelike, Timelike};

use deltalake::arrow::array::{
    Array, ArrayRef, BooleanArray, Float64Array, Int64Array, StringArray,
    TimestampMicrosecondArray, UInt64Array,
};
use deltalake::arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use deltalake::arrow::error::ArrowError;
use deltalake::arrow::record_batch::RecordBatch;
use deltalake::arrow::util::display::{ArrayFormatter, FormatOptions};

/// One quarantined row. Column names and reasons are shared (`Arc<str>`): a rule that rejects a
/// hundred thousand rows gives them all the same reason.
#[derive(Debug, Clone, PartialEq)]
pub struct QuarantineRow {
    pub source_file: Arc<str>,
    /// Line in a text source (the header is line 1), row number (1-based) in a Parquet source.
    pub line: u64,
    pub column: Option<Arc<str>>,
    pub raw_value: Option<String>,
    pub reason: Arc<str>,
    pub record: String,
}

impl QuarantineRow {
    pub fn new(
        source_file: &Arc<str>,
        line: u64,
        column: Option<Arc<str>>,
        raw_value: Option<String>,
        reason: impl Into<Arc<str>>,
        record: String,
    ) -> Self {
        QuarantineRow {
            source_file: source_file.clone(),
            line,
            column,
            raw_value,
            reason: reason.into(),
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

/// Writes rows of typed columns as text for the `record` and `raw_value` of quarantined rows.
///
/// Hand-written for the column types ingest produces because arrow's general `ArrayFormatter` (a dyn call
/// per cell, chrono for timestamps) made formatting rejected rows the largest cost of pass 1 on sensor
/// files with a few percent of incomplete rows. The text matches arrow's display: floats in shortest
/// round-trip form, UTC timestamps in RFC 3339 with `Z`, nulls empty.
pub struct RowText<'a> {
    /// Each column (for its nulls) with the way its values are written.
    columns: Vec<(&'a dyn Array, CellText<'a>)>,
}

enum CellText<'a> {
    Int(&'a Int64Array),
    Float(&'a Float64Array),
    Bool(&'a BooleanArray),
    Text(&'a StringArray),
    TimestampUtc(&'a TimestampMicrosecondArray),
    Other(ArrayFormatter<'a>),
}

impl<'a> RowText<'a> {
    pub fn new(columns: &'a [ArrayRef]) -> Result<Self, ArrowError> {
        let options = FormatOptions::default().with_null("");
        let columns = columns
            .iter()
            .map(|array| {
                let any = array.as_any();
                let text = match array.data_type() {
                    DataType::Int64 => CellText::Int(any.downcast_ref().expect("Int64")),
                    DataType::Float64 => CellText::Float(any.downcast_ref().expect("Float64")),
                    DataType::Boolean => CellText::Bool(any.downcast_ref().expect("Boolean")),
                    DataType::Utf8 => CellText::Text(any.downcast_ref().expect("Utf8")),
                    DataType::Timestamp(TimeUnit::Microsecond, Some(tz))
                        if matches!(&**tz, "UTC" | "+00:00" | "Z") =>
                    {
                        CellText::TimestampUtc(any.downcast_ref().expect("Timestamp"))
                    }
                    _ => CellText::Other(ArrayFormatter::try_new(array.as_ref(), &options)?),
                };
                Ok((array.as_ref(), text))
            })
            .collect::<Result<_, ArrowError>>()?;
        Ok(RowText { columns })
    }

    /// Appends the cell of `column` in `row` to `out`.
    pub fn write_cell(&self, column: usize, row: usize, out: &mut String) {
        let (array, cell) = &self.columns[column];
        if array.is_null(row) {
            return;
        }
        match cell {
            CellText::Int(a) => out.push_str(itoa::Buffer::new().format(a.value(row))),
            CellText::Float(a) => {
                let v = a.value(row);
                if v.is_finite() {
                    out.push_str(ryu::Buffer::new().format_finite(v));
                } else {
                    let _ = write!(out, "{v}");
                }
            }
            CellText::Bool(a) => out.push_str(if a.value(row) { "true" } else { "false" }),
            CellText::Text(a) => out.push_str(a.value(row)),
            CellText::TimestampUtc(a) => write_rfc3339_micros(a.value(row), out),
            CellText::Other(f) => {
                let _ = write!(out, "{}", f.value(row));
            }
        }
    }

    /// The cell as its own string.
    pub fn cell(&self, column: usize, row: usize) -> String {
        let mut out = String::new();
        self.write_cell(column, row, &mut out);
        out
    }

    /// The whole rows `rows` (ascending), cells joined with `,`. Written a column at a time: rejected rows
    /// are scattered through a batch another thread just built, and reading them row by row across all
    /// columns missed the cache on nearly every cell; a column at a time streams through memory in order.
    pub fn rows(&self, rows: &[usize]) -> Vec<String> {
        let mut out: Vec<String> = rows
            .iter()
            .map(|_| String::with_capacity(16 * self.columns.len()))
            .collect();
        for column in 0..self.columns.len() {
            for (text, &row) in out.iter_mut().zip(rows) {
                if column > 0 {
                    text.push(',');
                }
                self.write_cell(column, row, text);
            }
        }
        out
    }

    /// The whole row, cells joined with `,`.
    #[cfg(test)]
    pub fn row(&self, row: usize) -> String {
        self.rows(&[row]).remove(0)
    }
}

/// `micros` since the epoch as RFC 3339 in UTC, fraction in 0, 3 or 6 digits as needed (chrono's
/// `SecondsFormat::AutoSi`, which arrow's display uses). chrono splits the date; the digits are written here
/// because chrono's formatter was the slow part.
fn write_rfc3339_micros(micros: i64, out: &mut String) {
    let Some(time) = chrono::DateTime::from_timestamp_micros(micros) else {
        out.push_str(itoa::Buffer::new().format(micros));
        return;
    };
    if !(0..=9999).contains(&time.year()) {
        out.push_str(&time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true));
        return;
    }
    let fraction = time.timestamp_subsec_micros();
    let mut text = *b"0000-00-00T00:00:00.000000Z";
    let mut put = |at: usize, value: u32, width: usize| {
        let mut v = value;
        for i in (0..width).rev() {
            text[at + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
    };
    put(0, time.year() as u32, 4);
    put(5, time.month(), 2);
    put(8, time.day(), 2);
    put(11, time.hour(), 2);
    put(14, time.minute(), 2);
    put(17, time.second(), 2);
    let end = if fraction == 0 {
        19
    } else if fraction % 1000 == 0 {
        put(20, fraction / 1000, 3);
        23
    } else {
        put(20, fraction, 6);
        26
    };
    text[end] = b'Z';
    out.push_str(std::str::from_utf8(&text[..=end]).expect("ASCII digits and separators"));
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
    /// The last reason seen and its class: rows rejected by one rule share the reason, so the class is
    /// worked out once per rule and batch rather than once per row.
    last_class: Option<(Arc<str>, String)>,
}

/// Quarantined rows kept in full; beyond this only counts are kept (the quality report still has them),
/// so a file of pure garbage cannot exhaust memory.
pub const MAX_QUARANTINE_ROWS_KEPT: usize = 1_000_000;

impl QuarantineLog {
    pub fn push(&mut self, row: QuarantineRow) {
        let known =
            matches!(&self.last_class, Some((reason, _)) if Arc::ptr_eq(reason, &row.reason));
        if !known {
            self.last_class = Some((row.reason.clone(), row.reason_class()));
        }
        let class = &self.last_class.as_ref().expect("set above").1;
        match self.by_reason.get_mut(class.as_str()) {
            Some(n) => *n += 1,
            None => {
                self.by_reason.insert(class.clone(), 1);
            }
        }
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
                        rows.iter().map(|r| &*r.reason),
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
    fn row_text_matches_arrows_display() {
        let micros = [
            0i64,
            1_704_067_200_010_000,
            1_704_067_200_000_000,
            951_782_400_123_456,
            -1,
            -86_400_000_000 * 365 * 3,
            253_402_300_799_999_999,
        ];
        let columns: Vec<ArrayRef> = vec![
            Arc::new(TimestampMicrosecondArray::from(micros.to_vec()).with_timezone("UTC")),
            Arc::new(Float64Array::from(vec![
                Some(67.866),
                None,
                Some(-0.0),
                Some(1e21),
                Some(1.5e-7),
                Some(42.0),
                Some(f64::NAN),
            ])),
            Arc::new(Int64Array::from(vec![
                Some(-7),
                Some(0),
                None,
                Some(i64::MAX),
                Some(1),
                Some(2),
                Some(3),
            ])),
            Arc::new(StringArray::from(vec![
                Some("温度"),
                None,
                Some(""),
                Some("a,b"),
                Some("x"),
                Some("y"),
                Some("z"),
            ])),
            Arc::new(BooleanArray::from(vec![
                Some(true),
                Some(false),
                None,
                Some(true),
                None,
                None,
                None,
            ])),
        ];
        let fast = RowText::new(&columns).unwrap();
        let options = FormatOptions::default().with_null("");
        let arrow: Vec<ArrayFormatter<'_>> = columns
            .iter()
            .map(|a| ArrayFormatter::try_new(a.as_ref(), &options).unwrap())
            .collect();
        for row in 0..micros.len() {
            for (column, formatter) in arrow.iter().enumerate() {
                let expected = formatter.value(row).to_string();
                let got = fast.cell(column, row);
                if column == 1 {
                    // Same number back, whatever the notation.
                    assert_eq!(
                        got.parse::<f64>().ok().map(f64::to_bits),
                        expected.parse::<f64>().ok().map(f64::to_bits),
                        "row {row}"
                    );
                } else {
                    assert_eq!(got, expected, "column {column} row {row}");
                }
            }
        }
        assert_eq!(fast.row(1), "2024-01-01T00:00:00.010Z,,0,,false");
        assert_eq!(fast.rows(&[0, 1])[1], fast.row(1));
    }

    #[test]
    fn reasons_are_grouped_without_their_values() {
        let src: Arc<str> = Arc::from("a.csv");
        let a = QuarantineRow::new(
            &src,
            3,
            Some("x".into()),
            Some("abc".into()),
            "column \"x\": not a valid float",
            "1,abc".into(),
        );
        assert_eq!(a.reason_class(), "column \"x\": not a valid float");
        let b = QuarantineRow::new(
            &src,
            4,
            None,
            None,
            "expected 3 fields, found 2",
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
