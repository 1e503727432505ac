//! Turns text records (CSV rows, JSON objects flattened to text) into typed arrow batches.
//! A row with any cell that does not parse goes to quarantine whole, with the column and value named.

use std::sync::Arc;

use deltalake::arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder, UInt64Array,
};
use deltalake::arrow::datatypes::SchemaRef;
use deltalake::arrow::record_batch::RecordBatch;

use csv::ByteRecord;
use smallvec::SmallVec;

use crate::quarantine::{QuarantineLog, QuarantineRow};
use crate::source::{SourceBatch, LINE_COLUMN};
use crate::types::{
    parse_cell, parse_plain_decimal, surely_not_missing, Cell, ColumnKind, ColumnSpec,
    IsoTimestamps,
};

/// Raw text kept for a quarantined value or record, so one huge line cannot bloat the quarantine table.
pub const MAX_QUARANTINED_TEXT: usize = 1024;

enum ColumnBuilder {
    Int(Int64Builder),
    Float(Float64Builder),
    Bool(BooleanBuilder),
    Text(StringBuilder),
    Timestamp(TimestampMicrosecondBuilder),
}

impl ColumnBuilder {
    fn new(kind: ColumnKind, capacity: usize) -> Self {
        match kind {
            ColumnKind::Int => ColumnBuilder::Int(Int64Builder::with_capacity(capacity)),
            ColumnKind::Float => ColumnBuilder::Float(Float64Builder::with_capacity(capacity)),
            ColumnKind::Bool => ColumnBuilder::Bool(BooleanBuilder::with_capacity(capacity)),
            ColumnKind::String | ColumnKind::Categorical => {
                ColumnBuilder::Text(StringBuilder::with_capacity(capacity, capacity * 8))
            }
            ColumnKind::Timestamp => ColumnBuilder::Timestamp(
                TimestampMicrosecondBuilder::with_capacity(capacity).with_timezone("UTC"),
            ),
        }
    }

    fn append(&mut self, cell: Cell<'_>) {
        match (self, cell) {
            (ColumnBuilder::Int(b), Cell::Int(v)) => b.append_value(v),
            (ColumnBuilder::Float(b), Cell::Float(v)) => b.append_value(v),
            (ColumnBuilder::Bool(b), Cell::Bool(v)) => b.append_value(v),
            (ColumnBuilder::Text(b), Cell::Text(v)) => b.append_value(v),
            (ColumnBuilder::Timestamp(b), Cell::Timestamp(v)) => b.append_value(v),
            (ColumnBuilder::Int(b), _) => b.append_null(),
            (ColumnBuilder::Float(b), _) => b.append_null(),
            (ColumnBuilder::Bool(b), _) => b.append_null(),
            (ColumnBuilder::Text(b), _) => b.append_null(),
            (ColumnBuilder::Timestamp(b), _) => b.append_null(),
        }
    }

    fn finish(&mut self) -> ArrayRef {
        match self {
            ColumnBuilder::Int(b) => Arc::new(b.finish()),
            ColumnBuilder::Float(b) => Arc::new(b.finish()),
            ColumnBuilder::Bool(b) => Arc::new(b.finish()),
            ColumnBuilder::Text(b) => Arc::new(b.finish()),
            ColumnBuilder::Timestamp(b) => Arc::new(b.finish()),
        }
    }
}

/// A run of records as the typing loops read them: each record a run of byte fields.
pub trait RecordRun {
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Fields in `record`.
    fn width(&self, record: usize) -> usize;
    fn field(&self, record: usize, column: usize) -> &[u8];
    fn record(&self, record: usize) -> impl ExactSizeIterator<Item = &[u8]> + Clone + '_;
}

impl RecordRun for [ByteRecord] {
    fn len(&self) -> usize {
        <[ByteRecord]>::len(self)
    }

    fn width(&self, record: usize) -> usize {
        self[record].len()
    }

    #[inline]
    fn field(&self, record: usize, column: usize) -> &[u8] {
        &self[record][column]
    }

    fn record(&self, record: usize) -> impl ExactSizeIterator<Item = &[u8]> + Clone + '_ {
        self[record].iter()
    }
}

/// One column of a chunk of records, parsed but not yet appended.
struct ChunkColumn {
    values: ChunkValues,
    valid: Vec<bool>,
}

enum ChunkValues {
    Ints(Vec<i64>),
    Floats(Vec<f64>),
    Bools(Vec<bool>),
    /// Text is appended straight from the records once the chunk is known to be good.
    Text,
}

impl ChunkColumn {
    fn new(kind: ColumnKind) -> Self {
        let values = match kind {
            ColumnKind::Int | ColumnKind::Timestamp => ChunkValues::Ints(Vec::new()),
            ColumnKind::Float => ChunkValues::Floats(Vec::new()),
            ColumnKind::Bool => ChunkValues::Bools(Vec::new()),
            ColumnKind::String | ColumnKind::Categorical => ChunkValues::Text,
        };
        ChunkColumn {
            values,
            valid: Vec::new(),
        }
    }
}

/// Accumulates typed rows until a batch is full.
pub struct TypedBatchBuilder {
    columns: Vec<ColumnSpec>,
    schema: SchemaRef,
    builders: Vec<ColumnBuilder>,
    lines: Vec<u64>,
    capacity: usize,
    source_name: Arc<str>,
    /// Scratch for [`Self::push_records`]: the current chunk's parsed columns.
    chunk: Vec<ChunkColumn>,
}

impl TypedBatchBuilder {
    /// `schema` is the output schema: the columns followed by the line column.
    pub fn new(
        columns: Vec<ColumnSpec>,
        schema: SchemaRef,
        capacity: usize,
        source_name: Arc<str>,
    ) -> Self {
        let builders = columns
            .iter()
            .map(|c| ColumnBuilder::new(c.kind, capacity))
            .collect();
        let chunk = columns.iter().map(|c| ChunkColumn::new(c.kind)).collect();
        TypedBatchBuilder {
            columns,
            schema,
            builders,
            lines: Vec::with_capacity(capacity),
            capacity,
            source_name,
            chunk,
        }
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    pub fn is_full(&self) -> bool {
        self.lines.len() >= self.capacity
    }

    /// Parses one record (`fields` in column order); on failure returns the quarantine row instead.
    pub fn push<'a>(
        &mut self,
        fields: impl ExactSizeIterator<Item = &'a [u8]> + Clone,
        line: u64,
    ) -> Result<(), QuarantineRow> {
        if fields.len() != self.columns.len() {
            return Err(QuarantineRow::new(
                &self.source_name,
                line,
                None,
                None,
                format!(
                    "expected {} fields, found {}",
                    self.columns.len(),
                    fields.len()
                ),
                record_text(fields),
            ));
        }
        // On the stack: a row is parsed whole before any builder is touched, so a bad cell leaves no trace.
        let mut cells: SmallVec<[Cell<'a>; 24]> = SmallVec::with_capacity(self.columns.len());
        for (bytes, spec) in fields.clone().zip(&self.columns) {
            match parse_cell(bytes, spec) {
                Ok(cell) => cells.push(cell),
                Err(err) => {
                    return Err(QuarantineRow::new(
                        &self.source_name,
                        line,
                        Some(spec.name.as_str().into()),
                        Some(lossy_truncated(bytes)),
                        err.describe(&spec.name),
                        record_text(fields),
                    ))
                }
            }
        }
        for (builder, cell) in self.builders.iter_mut().zip(cells.iter()) {
            builder.append(*cell);
        }
        self.lines.push(line);
        Ok(())
    }

    /// Rows the current batch can still take.
    pub fn room(&self) -> usize {
        self.capacity.saturating_sub(self.lines.len())
    }

    /// Parses a chunk of records column by column (one type per loop, no per-cell dispatch), which is
    /// several times cheaper than [`Self::push`] per row. A chunk with a ragged row or a bad cell is parsed
    /// again row by row, so those rows go to `quarantine` exactly as `push` sends them and the rest are kept.
    pub fn push_records<R: RecordRun + ?Sized>(
        &mut self,
        records: &R,
        lines: &[u64],
        quarantine: &mut QuarantineLog,
    ) {
        if !self.parse_chunk(records) {
            for (record, &line) in lines.iter().enumerate() {
                if let Err(row) = self.push(records.record(record), line) {
                    quarantine.push(row);
                }
            }
            return;
        }
        for (column, (builder, parsed)) in self.builders.iter_mut().zip(&self.chunk).enumerate() {
            let valid = &parsed.valid;
            let no_nulls = valid.iter().all(|&v| v);
            match (builder, &parsed.values) {
                (ColumnBuilder::Int(b), ChunkValues::Ints(v)) if no_nulls => b.append_slice(v),
                (ColumnBuilder::Int(b), ChunkValues::Ints(v)) => b.append_values(v, valid),
                (ColumnBuilder::Timestamp(b), ChunkValues::Ints(v)) if no_nulls => {
                    b.append_slice(v);
                }
                (ColumnBuilder::Timestamp(b), ChunkValues::Ints(v)) => b.append_values(v, valid),
                (ColumnBuilder::Float(b), ChunkValues::Floats(v)) if no_nulls => b.append_slice(v),
                (ColumnBuilder::Float(b), ChunkValues::Floats(v)) => b.append_values(v, valid),
                (ColumnBuilder::Bool(b), ChunkValues::Bools(v)) => {
                    b.append_values(v, valid).expect("one validity per value");
                }
                (ColumnBuilder::Text(b), ChunkValues::Text) => {
                    for (record, &valid) in valid.iter().enumerate() {
                        if valid {
                            let text = std::str::from_utf8(records.field(record, column))
                                .expect("checked when parsed");
                            b.append_value(text);
                        } else {
                            b.append_null();
                        }
                    }
                }
                _ => unreachable!("chunk values follow the column kinds"),
            }
        }
        self.lines.extend_from_slice(lines);
    }

    /// Parses every cell of `records` into `self.chunk`; false at the first ragged row or bad cell (nothing
    /// is appended then). Each kind has its own loop with its fast path first, `parse_cell` behind it.
    fn parse_chunk<R: RecordRun + ?Sized>(&mut self, records: &R) -> bool {
        let width = self.columns.len();
        if (0..records.len()).any(|r| records.width(r) != width) {
            return false;
        }
        for (column, (spec, parsed)) in self.columns.iter().zip(&mut self.chunk).enumerate() {
            parsed.valid.clear();
            let valid = &mut parsed.valid;
            let parsed_all = match &mut parsed.values {
                ChunkValues::Floats(v) => {
                    parse_column(records, column, spec, valid, v, parse_plain_decimal, |c| {
                        c.float()
                    })
                }
                ChunkValues::Ints(v) if spec.kind == ColumnKind::Timestamp => {
                    let mut iso = IsoTimestamps::default();
                    let iso_layout = spec.epoch_unit.is_none();
                    let fast = |bytes: &[u8]| iso_layout.then(|| iso.parse(bytes)).flatten();
                    parse_column(records, column, spec, valid, v, fast, |c| c.int())
                }
                ChunkValues::Ints(v) => {
                    parse_column(records, column, spec, valid, v, |_| None, |c| c.int())
                }
                ChunkValues::Bools(v) => {
                    parse_column(records, column, spec, valid, v, |_| None, |c| c.bool())
                }
                ChunkValues::Text => (0..records.len()).all(|record| {
                    let bytes = records.field(record, column);
                    if surely_not_missing(bytes) && std::str::from_utf8(bytes).is_ok() {
                        valid.push(true);
                        return true;
                    }
                    match parse_cell(bytes, spec) {
                        Ok(cell) => {
                            valid.push(!matches!(cell, Cell::Null));
                            true
                        }
                        Err(_) => false,
                    }
                }),
            };
            if !parsed_all {
                return false;
            }
        }
        true
    }

    pub fn finish(&mut self) -> SourceBatch {
        let mut arrays: Vec<ArrayRef> = self
            .builders
            .iter_mut()
            .map(ColumnBuilder::finish)
            .collect();
        let lines = std::mem::replace(&mut self.lines, Vec::with_capacity(self.capacity));
        arrays.push(Arc::new(UInt64Array::from(lines)));
        let batch = RecordBatch::try_new(self.schema.clone(), arrays)
            .expect("builders follow the schema they were made from");
        debug_assert_eq!(
            self.schema.field(self.schema.fields().len() - 1).name(),
            LINE_COLUMN
        );
        SourceBatch { batch }
    }
}

/// Parses one column of `records` into `values` and `valid`: `fast` takes the common shape of a value,
/// `parse_cell` (with `value` to unwrap its cell, which parsing gave the column's kind) the rest. False at
/// a bad cell.
#[inline(always)]
fn parse_column<R: RecordRun + ?Sized, T: Default>(
    records: &R,
    column: usize,
    spec: &ColumnSpec,
    valid: &mut Vec<bool>,
    values: &mut Vec<T>,
    mut fast: impl FnMut(&[u8]) -> Option<T>,
    value: impl Fn(Cell<'_>) -> Option<T>,
) -> bool {
    values.clear();
    for record in 0..records.len() {
        let bytes = records.field(record, column);
        if let Some(x) = fast(bytes) {
            values.push(x);
            valid.push(true);
            continue;
        }
        match parse_cell(bytes, spec) {
            Ok(Cell::Null) => {
                values.push(T::default());
                valid.push(false);
            }
            Ok(cell) => {
                values.push(value(cell).expect("a cell parses to its column's kind"));
                valid.push(true);
            }
            Err(_) => return false,
        }
    }
    true
}

/// Text of a whole record for the quarantine table: fields joined with `,`, lossy UTF-8, truncated.
pub fn record_text<'a>(fields: impl Iterator<Item = &'a [u8]>) -> String {
    let mut out = String::new();
    for (i, f) in fields.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&String::from_utf8_lossy(f));
        if out.len() > MAX_QUARANTINED_TEXT {
            break;
        }
    }
    truncate_text(out)
}

pub fn lossy_truncated(bytes: &[u8]) -> String {
    truncate_text(
        String::from_utf8_lossy(&bytes[..bytes.len().min(MAX_QUARANTINED_TEXT + 4)]).into_owned(),
    )
}

pub fn truncate_text(mut text: String) -> String {
    if text.len() > MAX_QUARANTINED_TEXT {
        let mut cut = MAX_QUARANTINED_TEXT;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str("…[truncated]");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::with_line_column;
    use crate::types::arrow_schema;

    fn builder() -> TypedBatchBuilder {
        let columns: Vec<ColumnSpec> = [
            ("t", ColumnKind::Timestamp),
            ("id", ColumnKind::Categorical),
            ("x", ColumnKind::Float),
            ("n", ColumnKind::Int),
            ("ok", ColumnKind::Bool),
        ]
        .iter()
        .enumerate()
        .map(|(i, (name, kind))| ColumnSpec {
            name: name.to_string(),
            kind: *kind,
            source_position: i,
            epoch_unit: None,
        })
        .collect();
        let schema = with_line_column(&arrow_schema(&columns));
        TypedBatchBuilder::new(columns, schema, 100, Arc::from("t.csv"))
    }

    #[test]
    fn chunks_type_like_rows_including_bad_cells_ragged_rows_and_missing_values() {
        let rows: Vec<Vec<&str>> = vec![
            vec!["2024-01-01T00:00:00Z", "M1", "1.5", "7", "true"],
            vec!["2024-01-01 00:00:01", "", "NA", "", "no"],
            vec!["2024-01-01T00:00:02Z", "M2", "abc", "8", "true"],
            vec!["2024-01-01T00:00:03Z", "M3"],
            vec!["2024-01-01T00:00:04.5Z", "温度", " 2.5 ", "-3", ""],
        ];
        let records: Vec<ByteRecord> = rows.iter().map(|r| ByteRecord::from(r.clone())).collect();
        let lines: Vec<u64> = (2..2 + rows.len() as u64).collect();

        let mut by_row = builder();
        let mut row_quarantine = QuarantineLog::default();
        for (record, &line) in records.iter().zip(&lines) {
            if let Err(row) = by_row.push(record.iter(), line) {
                row_quarantine.push(row);
            }
        }
        let by_row = by_row.finish().batch;

        // A clean chunk takes the columnar path; a chunk with bad rows falls back and still keeps the good ones.
        let mut by_chunk = builder();
        let mut chunk_quarantine = QuarantineLog::default();
        by_chunk.push_records(&records[..2], &lines[..2], &mut chunk_quarantine);
        by_chunk.push_records(&records[2..], &lines[2..], &mut chunk_quarantine);
        let by_chunk = by_chunk.finish().batch;

        assert_eq!(by_row, by_chunk);
        assert_eq!(by_chunk.num_rows(), 3);
        assert_eq!(by_chunk.column(2).null_count(), 1);
        assert_eq!(row_quarantine.total(), 2);
        assert_eq!(row_quarantine.by_reason, chunk_quarantine.by_reason);
        assert_eq!(
            row_quarantine.first().map(|r| r.line),
            chunk_quarantine.first().map(|r| r.line)
        );
    }
}
