//! Model serving: predictions by version or alias, and the aliases themselves (promote, roll back).

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap};
use axum::{Extension, Json};
use millwright_app::learn;
use millwright_app::predict::{self, PredictInput, Predictions};
use serde::Deserialize;
use utoipa::ToSchema;

use super::data::to_json;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::observe::CountedNotLogged;
use crate::AppState;

/// Content types a predict request may carry.
const ARROW_STREAM: &str = "application/vnd.apache.arrow.stream";
const ARROW_FILE: &str = "application/vnd.apache.arrow.file";

/// A JSON predict request: the rows, keyed by the model's input column names.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PredictRows {
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<serde_json::Value>,
}

/// Scores rows with a model: `NAME@VERSION`, `NAME@latest` or `NAME@ALIAS` (e.g. `failure@production`).
/// The body is JSON (`{"rows": [{...}]}`), CSV with a header (`text/csv`) or an Arrow IPC stream
/// (`application/vnd.apache.arrow.stream`); a batch is one call into the model.
#[utoipa::path(post, path = "/models/{spec}/predict", tag = "models",
    params(("spec" = String, Path, description = "NAME@VERSION, NAME@latest or NAME@ALIAS")),
    request_body(content = PredictRows, description = "JSON rows; or text/csv; or an Arrow IPC stream"),
    responses((status = 200, description = "Score and decision per row, with the model version and threshold", body = serde_json::Value),
              (status = 400, description = "Invalid model spec or malformed body", body = crate::ErrorBody),
              (status = 404, description = "No such model, version or alias", body = crate::ErrorBody),
              (status = 415, description = "A body type predict does not read", body = crate::ErrorBody),
              (status = 422, description = "A missing or mistyped column (named)", body = crate::ErrorBody)))]
pub async fn predict(
    State(state): State<AppState>,
    Path(spec): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(Extension<CountedNotLogged>, Json<Predictions>)> {
    let started = Instant::now();
    let kind = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    let cache = state.models.clone();
    // Scoring is CPU work: a small batch returns in microseconds, so it runs inline unless large.
    let score = move || -> ApiResult<Predictions> {
        match kind.as_str() {
            "application/json" => {
                let rows: PredictRows = serde_json::from_slice(&body).map_err(|e| {
                    let code = if e.is_data() {
                        "invalid_input"
                    } else {
                        "malformed_json"
                    };
                    let status = if e.is_data() {
                        axum::http::StatusCode::UNPROCESSABLE_ENTITY
                    } else {
                        axum::http::StatusCode::BAD_REQUEST
                    };
                    ApiError::new(status, code, format!("the JSON body: {e}"))
                })?;
                Ok(predict::predict(
                    &cache,
                    &spec,
                    PredictInput::Json(&rows.rows),
                )?)
            }
            "text/csv" => Ok(predict::predict(&cache, &spec, PredictInput::Csv(&body))?),
            ARROW_STREAM | ARROW_FILE => Ok(predict::predict(
                &cache,
                &spec,
                PredictInput::ArrowIpc(&body),
            )?),
            other => Err(ApiError::new(
                axum::http::StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                format!(
                    "predict reads application/json, text/csv or {ARROW_STREAM}, not {other:?}"
                ),
            )),
        }
    };
    let predictions = if body_is_small(&headers) {
        score()?
    } else {
        tokio::task::spawn_blocking(score)
            .await
            .map_err(|e| ApiError::internal(format!("the prediction stopped: {e}")))??
    };
    let model = format!("{}@{}", predictions.model, predictions.version);
    metrics::counter!("millwright_predictions_total", "model" => model.clone())
        .increment(predictions.predictions.len() as u64);
    metrics::histogram!("millwright_predict_duration_seconds", "model" => model)
        .record(started.elapsed().as_secs_f64());
    Ok((Extension(CountedNotLogged), Json(predictions)))
}

/// Bodies up to 64 KiB (a few hundred rows) are scored on the request's own task.
fn body_is_small(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
        .is_some_and(|n| n <= 64 * 1024)
}

/// A model's aliases and the history of their moves.
#[utoipa::path(get, path = "/models/{name}/aliases", tag = "models",
    params(("name" = String, Path, description = "Model name")),
    responses((status = 200, description = "Current aliases and their history", body = serde_json::Value),
              (status = 400, description = "Invalid model name", body = crate::ErrorBody),
              (status = 404, description = "No such model", body = crate::ErrorBody)))]
pub async fn aliases(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(to_json(&learn::aliases(&state.home, &name)?)?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Promote {
    /// The version the alias is to name.
    pub version: u32,
}

/// Points alias `alias` of model `name` at a version (audited, with the token's name as the actor).
#[utoipa::path(post, path = "/models/{name}/aliases/{alias}", tag = "models",
    params(("name" = String, Path, description = "Model name"),
           ("alias" = String, Path, description = "Alias, e.g. production or staging")),
    request_body = Promote,
    responses((status = 200, description = "The move", body = serde_json::Value),
              (status = 400, description = "Invalid name or alias", body = crate::ErrorBody),
              (status = 404, description = "No such model or version", body = crate::ErrorBody)))]
pub async fn promote(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((name, alias)): Path<(String, String)>,
    body: super::JsonBody<Promote>,
) -> ApiResult<Json<serde_json::Value>> {
    millwright_learn::registry::validate_name(&name)
        .map_err(|e| ApiError::from(millwright_app::AppError::from(e)))?;
    let spec = format!("{name}@{}", body.0.version);
    let home = state.home.clone();
    let moved =
        tokio::task::spawn_blocking(move || learn::promote(&home, &spec, &alias, &caller.0.name))
            .await
            .map_err(|e| ApiError::internal(format!("the promote stopped: {e}")))??;
    state.models.forget(&name);
    Ok(Json(to_json(&moved)?))
}

/// Moves alias `alias` back to the version it named before its last promote (audited).
#[utoipa::path(post, path = "/models/{name}/aliases/{alias}/rollback", tag = "models",
    params(("name" = String, Path, description = "Model name"),
           ("alias" = String, Path, description = "Alias")),
    responses((status = 200, description = "The move", body = serde_json::Value),
              (status = 400, description = "Invalid name or alias", body = crate::ErrorBody),
              (status = 404, description = "No such model or alias", body = crate::ErrorBody),
              (status = 422, description = "Nothing to roll back to", body = crate::ErrorBody)))]
pub async fn rollback(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((name, alias)): Path<(String, String)>,
) -> ApiResult<Json<serde_json::Value>> {
    let home = state.home.clone();
    let model = name.clone();
    let moved =
        tokio::task::spawn_blocking(move || learn::rollback(&home, &model, &alias, &caller.0.name))
            .await
            .map_err(|e| ApiError::internal(format!("the rollback stopped: {e}")))??;
    state.models.forget(&name);
    Ok(Json(to_json(&moved)?))
}
