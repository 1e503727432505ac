//! Datasets (list, schema, quality report, history, a page of rows), ingest of an uploaded file as a job,
//! and read-only SQL.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::{Extension, Json};
use futures::StreamExt;
use millwright_app::data::{self, IngestRequest};
use millwright_app::sql;
use millwright_data::arrow::json::{writer::JsonArray, WriterBuilder};
use millwright_data::arrow::record_batch::RecordBatch;
use millwright_data::clean::CleanConfig;
use millwright_data::lake::WriteMode;
use millwright_data::names::{validate_dataset_name, validate_new_dataset_name};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;
use utoipa::{IntoParams, ToSchema};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::store::JobRecord;
use crate::AppState;

fn dataset_name(name: &str) -> ApiResult<()> {
    validate_dataset_name(name).map_err(|e| millwright_app::AppError::from(e).into())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VersionQuery {
    /// A past version (default: the latest).
    pub version: Option<i64>,
}

/// Every dataset of the lake: rows, columns, latest version, size.
#[utoipa::path(get, path = "/datasets", tag = "datasets",
    responses((status = 200, description = "The datasets", body = serde_json::Value)))]
pub async fn datasets(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    let list = data::datasets(&state.home).await?;
    Ok(Json(to_json(&list)?))
}

/// A dataset's columns at one version.
#[utoipa::path(get, path = "/datasets/{name}/schema", tag = "datasets",
    params(("name" = String, Path, description = "Dataset name"), VersionQuery),
    responses((status = 200, description = "The schema", body = serde_json::Value),
              (status = 404, description = "No such dataset or version", body = crate::ErrorBody)))]
pub async fn schema(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<VersionQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    dataset_name(&name)?;
    Ok(Json(to_json(
        &data::schema(&state.home, &name, q.version).await?,
    )?))
}

/// The quality report an ingest stored with a version.
#[utoipa::path(get, path = "/datasets/{name}/quality", tag = "datasets",
    params(("name" = String, Path, description = "Dataset name"), VersionQuery),
    responses((status = 200, description = "The quality report", body = serde_json::Value),
              (status = 404, description = "No such dataset or version", body = crate::ErrorBody)))]
pub async fn quality(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<VersionQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    dataset_name(&name)?;
    Ok(Json(to_json(
        &data::quality(&state.home, &name, q.version).await?,
    )?))
}

/// A dataset's versions with time, operation and row counts.
#[utoipa::path(get, path = "/datasets/{name}/history", tag = "datasets",
    params(("name" = String, Path, description = "Dataset name")),
    responses((status = 200, description = "The versions", body = serde_json::Value),
              (status = 404, description = "No such dataset", body = crate::ErrorBody)))]
pub async fn history(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    dataset_name(&name)?;
    Ok(Json(to_json(&data::history(&state.home, &name).await?)?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RowsQuery {
    /// A past version (default: the latest).
    pub version: Option<i64>,
    /// Rows to skip.
    pub offset: Option<u64>,
    /// Rows to return (1–10,000, default 100).
    pub limit: Option<u64>,
}

/// Rows of a query result as JSON.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rows {
    pub columns: Vec<Column>,
    /// One object per row; SQL NULL is `null`.
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<serde_json::Value>,
    /// Rows in `rows`.
    pub shown: usize,
    /// Rows the query produced in all.
    pub total: usize,
    /// Whether rows were left out (`total > shown`).
    pub truncated: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Column {
    pub name: String,
    /// The Arrow type.
    #[serde(rename = "type")]
    pub data_type: String,
}

fn rows_json(preview: sql::Preview) -> ApiResult<Rows> {
    let mut writer = WriterBuilder::new()
        .with_explicit_nulls(true)
        .build::<_, JsonArray>(Vec::new());
    let batches: Vec<&RecordBatch> = preview.batches.iter().collect();
    writer
        .write_batches(&batches)
        .and_then(|()| writer.finish())
        .map_err(|e| ApiError::internal(format!("writing rows as JSON: {e}")))?;
    let bytes = writer.into_inner();
    let rows: Vec<serde_json::Value> = if bytes.is_empty() {
        Vec::new()
    } else {
        serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::internal(format!("reading rows back from JSON: {e}")))?
    };
    Ok(Rows {
        columns: preview
            .schema
            .fields()
            .iter()
            .map(|f| Column {
                name: f.name().clone(),
                data_type: f.data_type().to_string(),
            })
            .collect(),
        shown: preview.shown,
        total: preview.total,
        truncated: preview.total > preview.shown,
        rows,
    })
}

/// A page of a dataset's rows, in stored order.
#[utoipa::path(get, path = "/datasets/{name}/rows", tag = "datasets",
    params(("name" = String, Path, description = "Dataset name"), RowsQuery),
    responses((status = 200, description = "The rows", body = Rows),
              (status = 404, description = "No such dataset or version", body = crate::ErrorBody)))]
pub async fn rows(
    State(state): State<AppState>,
    Path(name): Path<String>,
    Query(q): Query<RowsQuery>,
) -> ApiResult<Json<Rows>> {
    dataset_name(&name)?;
    let limit = q.limit.unwrap_or(100).clamp(1, 10_000);
    let version = q
        .version
        .map_or_else(String::new, |v| format!(" VERSION AS OF {v}"));
    // The name is validated (letters, digits, `_`, `-`): quoting it is safe.
    let query = format!(
        "SELECT * FROM \"{name}\"{version} LIMIT {limit} OFFSET {}",
        q.offset.unwrap_or(0)
    );
    let preview = sql::preview(&state.home, &query, None).await?;
    Ok(Json(rows_json(preview)?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SqlQuery {
    /// One read-only SELECT (or WITH … SELECT) over the lake's datasets.
    pub q: String,
    /// Rows to return (1–10,000, default 100); `total` counts them all.
    pub limit: Option<usize>,
    /// Time limit in milliseconds (default and most: the server's SQL limit).
    pub timeout_ms: Option<u64>,
}

/// Runs one read-only query; a query that writes, attaches or reads files is refused. The query stops
/// when the client goes away or the time limit passes.
#[utoipa::path(get, path = "/sql", tag = "sql", params(SqlQuery),
    responses((status = 200, description = "The first rows and the total", body = Rows),
              (status = 400, description = "Not valid SQL", body = crate::ErrorBody),
              (status = 422, description = "Refused: not one read-only SELECT, or it failed", body = crate::ErrorBody),
              (status = 408, description = "The time limit passed", body = crate::ErrorBody)))]
pub async fn sql(
    State(state): State<AppState>,
    Query(q): Query<SqlQuery>,
) -> ApiResult<Json<Rows>> {
    let limit = q.limit.unwrap_or(100).clamp(1, 10_000);
    let most = state.config.sql_timeout;
    let time = q
        .timeout_ms
        .map_or(most, |ms| Duration::from_millis(ms).min(most));
    // Runs inside this request's future: when the client disconnects, hyper drops it and the query stops.
    match tokio::time::timeout(time, sql::preview(&state.home, &q.q, Some(limit))).await {
        Ok(preview) => Ok(Json(rows_json(preview?)?)),
        Err(_) => Err(ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            "query_timeout",
            format!(
                "the query ran past its time limit of {} ms",
                time.as_millis()
            ),
        )),
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct IngestQuery {
    /// `csv`, `parquet` or `jsonl`; default: from the Content-Type or the uploaded file's name.
    pub format: Option<String>,
    /// `create` (default), `append` or `overwrite`.
    pub mode: Option<String>,
}

fn extension(format: &str) -> ApiResult<&'static str> {
    match format.to_ascii_lowercase().as_str() {
        "csv" | "text/csv" => Ok("csv"),
        "tsv" | "text/tab-separated-values" => Ok("tsv"),
        "parquet" | "application/vnd.apache.parquet" | "application/x-parquet" => Ok("parquet"),
        "jsonl"
        | "ndjson"
        | "application/x-ndjson"
        | "application/jsonl"
        | "application/x-jsonlines" => Ok("jsonl"),
        other => Err(ApiError::invalid(format!(
            "unknown upload format {other:?} (csv, tsv, parquet or jsonl)"
        ))),
    }
}

fn is_length_limit(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if e.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        cur = e.source();
    }
    false
}

fn body_error(err: &axum::Error, limit: usize) -> ApiError {
    if is_length_limit(err) {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the upload is larger than the server's limit of {limit} bytes"),
        );
    }
    ApiError::bad_request(format!("the upload broke off: {err}"))
}

/// Copies a stream of chunks to a file, never holding more than one chunk.
async fn spool<S, E>(
    mut stream: S,
    file: &std::path::Path,
    on_err: impl Fn(&E) -> ApiError,
) -> ApiResult<u64>
where
    S: futures::Stream<Item = Result<axum::body::Bytes, E>> + Unpin,
{
    let mut out = tokio::fs::File::create(file)
        .await
        .map_err(|e| ApiError::internal(format!("cannot create {}: {e}", file.display())))?;
    let mut bytes = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| on_err(&e))?;
        bytes += chunk.len() as u64;
        out.write_all(&chunk)
            .await
            .map_err(|e| ApiError::internal(format!("cannot write {}: {e}", file.display())))?;
    }
    out.flush()
        .await
        .map_err(|e| ApiError::internal(format!("cannot write {}: {e}", file.display())))?;
    Ok(bytes)
}

/// Ingests an uploaded file as a job. The body is the file itself (`--data-binary @machines.csv`) or a
/// multipart form with a `file` part and an optional `clean` part (the cleaning config as TOML). The
/// upload is streamed to a file under `<home>/tmp`, never held in memory.
#[utoipa::path(post, path = "/datasets/{name}/ingest", tag = "datasets",
    params(("name" = String, Path, description = "Dataset to write"), IngestQuery),
    request_body(content = Vec<u8>, description = "The file (CSV, Parquet or JSON lines), or multipart with `file` and `clean`", content_type = "application/octet-stream"),
    responses((status = 202, description = "The job, queued", body = JobRecord),
              (status = 400, description = "Invalid dataset name", body = crate::ErrorBody),
              (status = 413, description = "Upload too large", body = crate::ErrorBody),
              (status = 422, description = "Unknown format, mode or cleaning config", body = crate::ErrorBody)))]
pub async fn ingest(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
    Query(q): Query<IngestQuery>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<(StatusCode, Json<JobRecord>)> {
    validate_new_dataset_name(&name).map_err(millwright_app::AppError::from)?;
    let mode_text = q.mode.as_deref().unwrap_or("create");
    let mode: WriteMode = mode_text.parse().map_err(millwright_app::AppError::from)?;
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let tmp = state.home.tmp_dir()?;
    let limit = state.config.upload_limit;
    let mut clean_text: Option<String> = None;
    let (upload, bytes, format) = if content_type.starts_with("multipart/form-data") {
        let boundary = multer::parse_boundary(&content_type)
            .map_err(|e| ApiError::bad_request(format!("bad multipart body: {e}")))?;
        let mut form = multer::Multipart::new(body.into_data_stream(), boundary);
        let mut file = None;
        while let Some(field) = form
            .next_field()
            .await
            .map_err(|e| multipart_error(&e, limit))?
        {
            match field.name() {
                Some("clean") => {
                    clean_text = Some(field.text().await.map_err(|e| multipart_error(&e, limit))?);
                }
                Some("file") => {
                    let format = match (&q.format, field.file_name()) {
                        (Some(f), _) => extension(f)?,
                        (None, Some(n)) => extension(n.rsplit('.').next().unwrap_or(""))?,
                        (None, None) => extension("csv")?,
                    };
                    let upload = crate::scratch::upload(&tmp, field.file_name(), format)?;
                    let bytes = spool(field, upload.path(), |e: &multer::Error| {
                        multipart_error(e, limit)
                    })
                    .await?;
                    file = Some((upload, bytes, format));
                }
                _ => {}
            }
        }
        file.ok_or_else(|| ApiError::invalid("the multipart body has no `file` part"))?
    } else {
        let format = match &q.format {
            Some(f) => extension(f)?,
            None if content_type.is_empty() || content_type.starts_with("application/octet-stream") => {
                return Err(ApiError::invalid(
                    "say the upload's format: ?format=csv|parquet|jsonl or a Content-Type such as text/csv",
                ))
            }
            None => extension(content_type.split(';').next().unwrap_or("").trim())?,
        };
        let upload = crate::scratch::upload(&tmp, None, format)?;
        let bytes = spool(body.into_data_stream(), upload.path(), |e: &axum::Error| {
            body_error(e, limit)
        })
        .await?;
        (upload, bytes, format)
    };
    let clean = match clean_text {
        None => None,
        Some(text) => {
            let file = crate::scratch::file(&tmp, "clean", ".toml")?;
            std::fs::write(file.path(), text).map_err(|e| {
                ApiError::internal(format!("cannot write the cleaning config: {e}"))
            })?;
            Some(CleanConfig::load(file.path()).map_err(millwright_app::AppError::from)?)
        }
    };
    let request = serde_json::json!({
        "dataset": name, "mode": mode_text, "format": format, "bytes": bytes, "clean": clean.is_some(),
    });
    let home = state.home.clone();
    let req = IngestRequest {
        key: Vec::new(),
        more: Vec::new(),
        file: upload.path().to_owned(),
        dataset: name,
        mode,
        clean,
    };
    let job = state.jobs.spawn(
        "ingest",
        request,
        &caller.0.name,
        move |observer| async move {
            // The scratch file lives until the ingest is done, then goes.
            let _upload = upload;
            let outcome = data::ingest(&home, &req, &observer)
                .await
                .map_err(|e| error_text(&e))?;
            metrics::counter!("millwright_rows_ingested_total").increment(outcome.rows_written);
            serde_json::to_value(&outcome).map_err(|e| e.to_string())
        },
    )?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

fn multipart_error(err: &multer::Error, limit: usize) -> ApiError {
    if is_length_limit(err) {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the upload is larger than the server's limit of {limit} bytes"),
        );
    }
    ApiError::bad_request(format!("bad multipart body: {err}"))
}

/// An application error with its causes, as one line for a job's `error`.
pub fn error_text(err: &millwright_app::AppError) -> String {
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        let line = cause.to_string();
        if !text.contains(&line) {
            text.push_str(": ");
            text.push_str(&line);
        }
        source = cause.source();
    }
    text
}

pub fn to_json<T: Serialize>(value: &T) -> ApiResult<serde_json::Value> {
    serde_json::to_value(value)
        .map_err(|e| ApiError::internal(format!("cannot write the answer as JSON: {e}")))
}
