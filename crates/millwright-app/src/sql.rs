//! Read-only SQL over the lake: a preview for screens, or every row written as CSV, JSON or Parquet.

use std::io::Write;

use futures::StreamExt;
use millwright_data::arrow::datatypes::SchemaRef;
use millwright_data::arrow::json::{writer::JsonArray, WriterBuilder as JsonWriterBuilder};
use millwright_data::arrow::record_batch::RecordBatch;
use millwright_data::datafusion::physical_plan::SendableRecordBatchStream;
use millwright_data::lake::Lake;
use millwright_data::parquet::arrow::ArrowWriter;

use crate::error::{AppError, Result};
use crate::Home;

/// The first rows of a result, and how many there were in all.
#[derive(Debug, Clone)]
pub struct Preview {
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    pub shown: usize,
    pub total: usize,
}

/// How [`export`] writes every row of a result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    /// One JSON array of objects; SQL NULL is written as `null`, never left out.
    Json,
    Parquet,
    /// An Arrow IPC stream (`application/vnd.apache.arrow.stream`): what `/predict` reads as a batch.
    ArrowIpc,
}

async fn stream(home: &Home, query: &str) -> Result<(SchemaRef, SendableRecordBatchStream)> {
    let lake = Lake::open(home.root())?;
    let frame = millwright_data::sql::query(&lake, query).await?;
    let schema = std::sync::Arc::new(frame.schema().as_arrow().clone());
    let stream = frame
        .execute_stream()
        .await
        .map_err(datafusion("running the query"))?;
    Ok((schema, stream))
}

async fn next(stream: &mut SendableRecordBatchStream) -> Result<Option<RecordBatch>> {
    match stream.next().await {
        Some(batch) => Ok(Some(batch.map_err(datafusion("reading the query's rows"))?)),
        None => Ok(None),
    }
}

/// A DataFusion failure met while doing `context`, its source kept.
pub(crate) fn datafusion(
    context: &str,
) -> impl FnOnce(millwright_data::datafusion::error::DataFusionError) -> AppError + '_ {
    move |source| {
        millwright_data::DataError::DataFusion {
            context: context.to_owned(),
            source: Box::new(source),
        }
        .into()
    }
}

/// Runs `query` and keeps its first `limit` rows (`None`: all), counting the rest.
pub async fn preview(home: &Home, query: &str, limit: Option<usize>) -> Result<Preview> {
    let (schema, mut rows) = stream(home, query).await?;
    let limit = limit.unwrap_or(usize::MAX);
    let (mut batches, mut shown, mut total) = (Vec::new(), 0usize, 0usize);
    while let Some(batch) = next(&mut rows).await? {
        total += batch.num_rows();
        if shown < limit {
            let take = (limit - shown).min(batch.num_rows());
            batches.push(batch.slice(0, take));
            shown += take;
        }
    }
    Ok(Preview {
        schema,
        batches,
        shown,
        total,
    })
}

fn arrow_error(
    what: &str,
) -> impl FnOnce(millwright_data::arrow::error::ArrowError) -> AppError + '_ {
    move |source| AppError::Arrow {
        what: what.to_owned(),
        source,
    }
}

/// Runs `query` and writes every row to `sink`; returns the number of rows.
pub async fn export<W: Write + Send>(
    home: &Home,
    query: &str,
    format: ExportFormat,
    sink: W,
) -> Result<u64> {
    let (schema, mut rows) = stream(home, query).await?;
    let mut count = 0u64;
    match format {
        ExportFormat::Csv => {
            let mut writer = millwright_data::arrow::csv::WriterBuilder::new()
                .with_header(true)
                .build(sink);
            while let Some(batch) = next(&mut rows).await? {
                count += batch.num_rows() as u64;
                writer.write(&batch).map_err(arrow_error("writing CSV"))?;
            }
        }
        ExportFormat::Json => {
            let mut writer = JsonWriterBuilder::new()
                .with_explicit_nulls(true)
                .build::<_, JsonArray>(sink);
            while let Some(batch) = next(&mut rows).await? {
                count += batch.num_rows() as u64;
                writer.write(&batch).map_err(arrow_error("writing JSON"))?;
            }
            writer.finish().map_err(arrow_error("writing JSON"))?;
            writeln!(writer.into_inner()).map_err(|e| arrow_error("writing JSON")(e.into()))?;
        }
        ExportFormat::Parquet => {
            let mut writer = ArrowWriter::try_new(sink, schema, None)
                .map_err(|e| arrow_error("writing Parquet")(e.into()))?;
            while let Some(batch) = next(&mut rows).await? {
                count += batch.num_rows() as u64;
                writer
                    .write(&batch)
                    .map_err(|e| arrow_error("writing Parquet")(e.into()))?;
            }
            writer
                .close()
                .map_err(|e| arrow_error("writing Parquet")(e.into()))?;
        }
        ExportFormat::ArrowIpc => {
            let mut writer =
                millwright_data::arrow::ipc::writer::StreamWriter::try_new(sink, &schema)
                    .map_err(arrow_error("writing an Arrow IPC stream"))?;
            while let Some(batch) = next(&mut rows).await? {
                count += batch.num_rows() as u64;
                writer
                    .write(&batch)
                    .map_err(arrow_error("writing an Arrow IPC stream"))?;
            }
            writer
                .finish()
                .map_err(arrow_error("writing an Arrow IPC stream"))?;
        }
    }
    Ok(count)
}
