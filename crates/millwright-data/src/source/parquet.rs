//! Parquet: columns cast to the stored kinds; NaN read as missing, infinite values quarantined.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use deltalake::arrow::array::{
    Array, ArrayRef, BooleanArray, BooleanBuilder, Float64Array, UInt64Array,
};
use deltalake::arrow::compute::kernels::cast::{cast_with_options, CastOptions};
use deltalake::arrow::compute::{filter_record_batch, nullif};
use deltalake::arrow::datatypes::{DataType, SchemaRef};
use deltalake::arrow::record_batch::RecordBatch;
use deltalake::arrow::util::display::{ArrayFormatter, FormatOptions};
use deltalake::parquet::arrow::arrow_reader::{
    ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder,
};

use super::typed::truncate_text;
use super::{normalise_header, source_name, ReadOptions, SourceBatch};
use crate::error::{DataError, Result};
use crate::quarantine::{QuarantineLog, QuarantineRow};
use crate::types::{ColumnKind, ColumnSpec};

pub struct ParquetReader {
    reader: ParquetRecordBatchReader,
    name: Arc<str>,
    path: PathBuf,
    rows_read: u64,
    total_rows: u64,
    total_bytes: u64,
}

impl ParquetReader {
    pub fn open(path: &Path, options: &ReadOptions) -> Result<(ParquetReader, Vec<ColumnSpec>)> {
        let file = File::open(path).map_err(|e| DataError::io(path, e))?;
        let total_bytes = file.metadata().map_err(|e| DataError::io(path, e))?.len();
        if total_bytes == 0 {
            return Err(DataError::EmptyFile {
                path: path.to_path_buf(),
            });
        }
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|source| {
            DataError::Parquet {
                path: path.to_path_buf(),
                context: "reading its footer".into(),
                source,
            }
        })?;
        let total_rows = builder.metadata().file_metadata().num_rows().max(0) as u64;
        let file_schema = builder.schema().clone();
        let names = normalise_header(
            path,
            file_schema
                .fields()
                .iter()
                .map(|f| f.name().clone())
                .collect(),
            &options.rename,
        )?;
        let mut columns = Vec::with_capacity(names.len());
        for (position, (name, field)) in names.iter().zip(file_schema.fields()).enumerate() {
            let from_file = ColumnKind::from_arrow(field.data_type());
            let kind = options
                .kinds
                .get(name)
                .copied()
                .or_else(|| {
                    let existing = options.existing.iter().find(|c| &c.name == name)?.kind;
                    match (existing, from_file?) {
                        (ColumnKind::Float, ColumnKind::Int) => Some(ColumnKind::Float),
                        (ColumnKind::Categorical, ColumnKind::String) => Some(ColumnKind::Categorical),
                        _ => None,
                    }
                })
                .or(from_file)
                .ok_or_else(|| DataError::Column {
                    column: name.clone(),
                    message: format!(
                        "{}: Parquet type {} is not supported (int, float, bool, string, timestamp)",
                        path.display(),
                        field.data_type()
                    ),
                })?;
            columns.push(ColumnSpec {
                name: name.clone(),
                kind,
                source_position: position,
                epoch_unit: None,
            });
        }
        let reader = builder
            .with_batch_size(options.batch_rows())
            .build()
            .map_err(|source| DataError::Parquet {
                path: path.to_path_buf(),
                context: "opening its row groups".into(),
                source,
            })?;
        if total_rows == 0 {
            return Err(DataError::HeaderOnly {
                path: path.to_path_buf(),
            });
        }
        Ok((
            ParquetReader {
                reader,
                name: source_name(path),
                path: path.to_path_buf(),
                rows_read: 0,
                total_rows,
                total_bytes,
            },
            columns,
        ))
    }

    pub fn bytes_read(&self) -> u64 {
        // Parquet is read by row group; progress is the share of rows read.
        (self.total_bytes as f64 * self.rows_read as f64 / self.total_rows.max(1) as f64) as u64
    }

    pub fn next_batch(
        &mut self,
        columns: &[ColumnSpec],
        schema: &SchemaRef,
        quarantine: &mut QuarantineLog,
    ) -> Result<Option<SourceBatch>> {
        let Some(read) = self.reader.next() else {
            return Ok(None);
        };
        let raw = read.map_err(|source| DataError::ParquetRows {
            path: self.path.clone(),
            after_row: self.rows_read,
            source,
        })?;
        let first_row = self.rows_read + 1;
        self.rows_read += raw.num_rows() as u64;
        let cast_options = CastOptions {
            safe: false,
            ..Default::default()
        };
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(columns.len() + 1);
        let mut infinite = BooleanBuilder::with_capacity(raw.num_rows());
        let mut bad = vec![None::<usize>; raw.num_rows()];
        for (i, spec) in columns.iter().enumerate() {
            let array = cast_with_options(raw.column(i), &spec.kind.arrow_type(), &cast_options)
                .map_err(|source| DataError::ColumnRead {
                    path: self.path.clone(),
                    column: spec.name.clone(),
                    kind: spec.kind.name(),
                    source,
                })?;
            let array = if spec.kind == ColumnKind::Float {
                let floats = array
                    .as_any()
                    .downcast_ref::<Float64Array>()
                    .expect("cast to float64");
                for (row, value) in floats.iter().enumerate() {
                    if value.is_some_and(f64::is_infinite) && bad[row].is_none() {
                        bad[row] = Some(i);
                    }
                }
                let is_nan: BooleanArray = floats
                    .iter()
                    .map(|v| Some(v.is_some_and(f64::is_nan)))
                    .collect();
                nullif(&array, &is_nan)?
            } else {
                array
            };
            arrays.push(array);
        }
        for b in &bad {
            infinite.append_value(b.is_none());
        }
        let lines: UInt64Array = (first_row..first_row + raw.num_rows() as u64).collect();
        arrays.push(Arc::new(lines));
        let batch = RecordBatch::try_new(schema.clone(), arrays)?;
        if bad.iter().all(Option::is_none) {
            return Ok(Some(SourceBatch { batch }));
        }
        let formatters: Vec<ArrayFormatter<'_>> = batch
            .columns()
            .iter()
            .take(columns.len())
            .map(|a| ArrayFormatter::try_new(a.as_ref(), &FormatOptions::default()))
            .collect::<std::result::Result<_, _>>()?;
        for (row, column) in bad.iter().enumerate() {
            let Some(column) = *column else { continue };
            let record = formatters
                .iter()
                .map(|f| f.value(row).to_string())
                .collect::<Vec<_>>()
                .join(",");
            quarantine.push(QuarantineRow::new(
                &self.name,
                first_row + row as u64,
                Some(columns[column].name.as_str().into()),
                Some(formatters[column].value(row).to_string()),
                format!("column {:?}: infinite value", columns[column].name),
                truncate_text(record),
            ));
        }
        let keep = infinite.finish();
        let batch = filter_record_batch(&batch, &keep)?;
        debug_assert!(
            batch.schema().field(batch.num_columns() - 1).data_type() == &DataType::UInt64
        );
        Ok(Some(SourceBatch { batch }))
    }
}
