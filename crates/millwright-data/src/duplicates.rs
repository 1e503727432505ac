//! Rows of an append that repeat rows already stored: by default counted and reported with an example,
//! with a key (`--key col1,col2`) skipped.
//!
//! Cost: each new row's key (the whole row without a key) is encoded with Arrow's row format and hashed
//! with xxh3 (8 bytes a row kept, in order); the stored table is then scanned once, key columns only
//! (Parquet projection) and only the files whose statistics overlap the new integer and timestamp keys'
//! ranges, batch by batch, each stored row hashed the same way and probed against the new rows' set. Memory is the new rows' hashes plus one stored batch; time is one projected scan of the
//! table. Two different keys share a 64-bit hash with a probability of about n·m/2⁶⁴ (10⁻⁵ for ten million
//! rows on each side), the price of not holding the stored keys themselves.

use std::collections::HashSet;
use std::sync::Arc;

use deltalake::arrow::array::{Array, ArrayRef, BooleanArray, RecordBatch};
use deltalake::arrow::compute::{cast, filter_record_batch};
use deltalake::arrow::datatypes::{DataType, SchemaRef, TimeUnit};
use deltalake::arrow::row::{RowConverter, SortField};
use deltalake::arrow::util::display::{ArrayFormatter, FormatOptions};
use deltalake::datafusion::common::ScalarValue;
use deltalake::datafusion::prelude::SessionContext;
use deltalake::datafusion::prelude::{ident, lit, Expr};
use futures::StreamExt;
use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_64;

use crate::error::{DataError, Result};
use crate::lake::Lake;

/// What an append found of rows already stored, kept in its commit record.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct StoredDuplicates {
    /// The key columns; empty: whole rows were compared.
    pub key: Vec<String>,
    /// New rows whose key (or whole row) is already in the table.
    pub rows: u64,
    /// Whether those rows were left out of the commit (a key was given) or stored anyway.
    pub skipped: bool,
    /// One such stored row, `column=value, ...`.
    pub example: Option<String>,
}

/// Hashes the chosen columns of batches, cast to the stored types first so that both sides encode alike.
pub(crate) struct RowHasher {
    columns: Vec<String>,
    types: Vec<DataType>,
    converter: RowConverter,
    /// Smallest and largest new value of each integer or timestamp key column: the scan of the table
    /// filters on them, so DataFusion skips the files whose statistics lie outside (for time series
    /// appended in order, nearly all of them).
    ranges: Vec<Option<(i64, i64)>>,
}

impl RowHasher {
    /// `key` empty: every stored column. Each key column must be in both the table and the new rows.
    pub(crate) fn new(
        dataset: &str,
        key: &[String],
        stored: &SchemaRef,
        incoming: &SchemaRef,
    ) -> Result<RowHasher> {
        let columns: Vec<String> = if key.is_empty() {
            stored.fields().iter().map(|f| f.name().clone()).collect()
        } else {
            key.to_vec()
        };
        let mut types = Vec::with_capacity(columns.len());
        for column in &columns {
            let missing = |side: &str| DataError::UnknownKey {
                dataset: dataset.to_string(),
                column: column.clone(),
                side: side.to_string(),
            };
            let field = stored
                .field_with_name(column)
                .map_err(|_| missing("the table"))?;
            incoming
                .field_with_name(column)
                .map_err(|_| missing("the new rows"))?;
            types.push(canonical(field.data_type()));
        }
        let converter = RowConverter::new(types.iter().cloned().map(SortField::new).collect())?;
        Ok(RowHasher {
            ranges: vec![None; columns.len()],
            columns,
            types,
            converter,
        })
    }

    pub(crate) fn columns(&self) -> &[String] {
        &self.columns
    }

    fn key_columns(&self, batch: &RecordBatch) -> Result<Vec<ArrayRef>> {
        self.columns
            .iter()
            .zip(&self.types)
            .map(|(name, data_type)| {
                let column = batch
                    .column_by_name(name)
                    .ok_or_else(|| DataError::Column {
                        column: name.clone(),
                        message: "is missing from a batch".into(),
                    })?;
                Ok(cast(column, data_type)?)
            })
            .collect()
    }

    /// One hash per row of `batch`, appended to `out`.
    pub(crate) fn hash_into(&self, batch: &RecordBatch, out: &mut Vec<u64>) -> Result<()> {
        let rows = self.converter.convert_columns(&self.key_columns(batch)?)?;
        out.extend(rows.iter().map(|row| xxh3_64(row.as_ref())));
        Ok(())
    }

    /// [`Self::hash_into`] for a new batch, whose value ranges the table scan then filters on.
    pub(crate) fn observe(&mut self, batch: &RecordBatch, out: &mut Vec<u64>) -> Result<()> {
        let columns = self.key_columns(batch)?;
        for (range, column) in self.ranges.iter_mut().zip(&columns) {
            if let Some((lo, hi)) = int_range(column) {
                *range = Some(range.map_or((lo, hi), |(a, b)| (a.min(lo), b.max(hi))));
            }
        }
        let rows = self.converter.convert_columns(&columns)?;
        out.extend(rows.iter().map(|row| xxh3_64(row.as_ref())));
        Ok(())
    }

    /// `column IS NULL OR column BETWEEN lo AND hi` for each ranged column, all of them.
    fn filter(&self) -> Option<Expr> {
        let mut filter: Option<Expr> = None;
        for ((name, data_type), range) in self.columns.iter().zip(&self.types).zip(&self.ranges) {
            let Some((lo, hi)) = range else { continue };
            let scalar = |v: i64| match data_type {
                DataType::Timestamp(TimeUnit::Microsecond, tz) => {
                    ScalarValue::TimestampMicrosecond(Some(v), tz.clone())
                }
                _ => ScalarValue::Int64(Some(v)),
            };
            let column = ident(name);
            let within = column
                .clone()
                .is_null()
                .or(column.between(lit(scalar(*lo)), lit(scalar(*hi))));
            filter = Some(match filter {
                Some(f) => f.and(within),
                None => within,
            });
        }
        filter
    }

    /// `batch` without the rows whose hash is in `drop`.
    pub(crate) fn without(&self, batch: RecordBatch, drop: &HashSet<u64>) -> Result<RecordBatch> {
        if drop.is_empty() {
            return Ok(batch);
        }
        let mut hashes = Vec::with_capacity(batch.num_rows());
        self.hash_into(&batch, &mut hashes)?;
        let keep: BooleanArray = hashes.iter().map(|h| Some(!drop.contains(h))).collect();
        Ok(filter_record_batch(&batch, &keep)?)
    }
}

/// Scans the stored table's key columns and returns the new hashes found there, with one stored row that
/// matched, formatted.
pub(crate) async fn probe(
    lake: &Lake,
    dataset: &str,
    hasher: &RowHasher,
    new: &HashSet<u64>,
) -> Result<(HashSet<u64>, Option<String>)> {
    let table = lake.open_table(dataset, None).await?;
    let ctx = SessionContext::new();
    table
        .update_datafusion_session(&ctx.state())
        .map_err(|e| DataError::delta(dataset, e))?;
    let reading = || format!("reading the key columns of dataset {dataset}");
    let provider = table
        .table_provider()
        .await
        .map_err(DataError::datafusion(reading()))?;
    let columns: Vec<&str> = hasher.columns().iter().map(String::as_str).collect();
    let mut stream = ctx
        .read_table(provider)
        .and_then(|frame| match hasher.filter() {
            Some(filter) => frame.filter(filter),
            None => Ok(frame),
        })
        .and_then(|frame| frame.select_columns(&columns))
        .map_err(DataError::datafusion(reading()))?
        .execute_stream()
        .await
        .map_err(DataError::datafusion(reading()))?;
    let (mut found, mut example) = (HashSet::new(), None);
    let mut hashes = Vec::new();
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(DataError::datafusion(reading()))?;
        hashes.clear();
        hasher.hash_into(&batch, &mut hashes)?;
        for (row, hash) in hashes.iter().enumerate() {
            if new.contains(hash) {
                found.insert(*hash);
                if example.is_none() {
                    example = Some(format_row(&batch, row)?);
                }
            }
        }
    }
    Ok((found, example))
}

fn format_row(batch: &RecordBatch, row: usize) -> Result<String> {
    let options = FormatOptions::default().with_null("null");
    let mut parts = Vec::with_capacity(batch.num_columns());
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        let formatter = ArrayFormatter::try_new(column.as_ref() as &dyn Array, &options)?;
        parts.push(format!("{}={}", field.name(), formatter.value(row)));
    }
    Ok(parts.join(", "))
}

/// Smallest and largest value of an `Int64` or microsecond timestamp column (`None`: other types, or
/// only nulls). Floats are left out: a NaN is in no range.
fn int_range(column: &ArrayRef) -> Option<(i64, i64)> {
    use deltalake::arrow::array::{Int64Array, TimestampMicrosecondArray};
    use deltalake::arrow::compute::{max, min};
    if let Some(a) = column.as_any().downcast_ref::<Int64Array>() {
        return Some((min(a)?, max(a)?));
    }
    let a = column
        .as_any()
        .downcast_ref::<TimestampMicrosecondArray>()?;
    Some((min(a)?, max(a)?))
}

/// Text as plain `Utf8`, however DataFusion or the writer typed it.
fn canonical(data_type: &DataType) -> DataType {
    match data_type {
        DataType::Utf8View | DataType::LargeUtf8 => DataType::Utf8,
        DataType::BinaryView | DataType::LargeBinary => DataType::Binary,
        other => other.clone(),
    }
}

/// The schema of a stored table, as Arrow.
pub(crate) async fn stored_schema(lake: &Lake, dataset: &str) -> Result<SchemaRef> {
    let table = lake.open_table(dataset, None).await?;
    let snapshot = table.snapshot().map_err(|e| DataError::delta(dataset, e))?;
    Ok(Arc::clone(&snapshot.snapshot().arrow_schema()))
}
