//! Turns text records (CSV rows, JSON objects flattened to text) into typed arrow batches.
//! A row with any cell that does not parse goes to quarantine whole, with the column and value named.

use std::sync::Arc;

use deltalake::arrow::array::{
    ArrayRef, BooleanBuilder, Float64Builder, Int64Builder, StringBuilder,
    TimestampMicrosecondBuilder, UInt64Array,
};
use deltalake::arrow::datatypes::SchemaRef;
use deltalake::arrow::record_batch::RecordBatch;

use smallvec::SmallVec;

use crate::quarantine::QuarantineRow;
use crate::source::{SourceBatch, LINE_COLUMN};
use crate::types::{parse_cell, Cell, ColumnKind, ColumnSpec};

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

/// Accumulates typed rows until a batch is full.
pub struct TypedBatchBuilder {
    columns: Vec<ColumnSpec>,
    schema: SchemaRef,
    builders: Vec<ColumnBuilder>,
    lines: Vec<u64>,
    capacity: usize,
    source_name: Arc<str>,
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
        TypedBatchBuilder {
            columns,
            schema,
            builders,
            lines: Vec::with_capacity(capacity),
            capacity,
            source_name,
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
