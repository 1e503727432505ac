//! Models (registry, read only for now), tracked runs and training as a job.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::{Extension, Json};
use millwright_app::learn::{self, TrainOptions};
use millwright_app::runs;
use millwright_learn::tracking::RunFilter;
use serde::Deserialize;
use utoipa::IntoParams;

use super::data::{error_text, to_json};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::store::JobRecord;
use crate::AppState;

/// Every registered model's versions with metrics and lineage.
#[utoipa::path(get, path = "/models", tag = "models",
    responses((status = 200, description = "The registry", body = serde_json::Value)))]
pub async fn models(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(to_json(&learn::models(&state.home, None)?)?))
}

/// Every version of one model.
#[utoipa::path(get, path = "/models/{name}", tag = "models",
    params(("name" = String, Path, description = "Model name")),
    responses((status = 200, description = "The versions", body = serde_json::Value),
              (status = 400, description = "Invalid model name", body = crate::ErrorBody),
              (status = 404, description = "No such model", body = crate::ErrorBody)))]
pub async fn model(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    millwright_learn::registry::validate_name(&name)
        .map_err(|e| ApiError::from(millwright_app::AppError::from(e)))?;
    let versions = learn::models(&state.home, Some(&name))?;
    if versions.is_empty() {
        return Err(ApiError::not_found(format!(
            "model {name:?} is not in the registry"
        )));
    }
    Ok(Json(to_json(&versions)?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RunsQuery {
    /// `running`, `finished` or `failed`.
    pub status: Option<String>,
    /// Model kind (`mlp`, `gbdt`, `logistic`).
    pub model: Option<String>,
    /// Run (model) name.
    pub name: Option<String>,
    /// Dataset label.
    pub dataset: Option<String>,
    /// Runs per page (1–500, default 50).
    pub limit: Option<u64>,
    /// Runs to skip (the previous page's `offset + runs.len()`).
    pub offset: Option<u64>,
}

/// Tracked training runs, newest first, filtered and paged.
#[utoipa::path(get, path = "/runs", tag = "runs", params(RunsQuery),
    responses((status = 200, description = "A page of runs", body = serde_json::Value),
              (status = 422, description = "Unknown status", body = crate::ErrorBody)))]
pub async fn runs(
    State(state): State<AppState>,
    Query(q): Query<RunsQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let filter = RunFilter {
        status: q.status.as_deref().map(str::parse).transpose().map_err(
            |e: millwright_learn::tracking::TrackingError| {
                ApiError::from(millwright_app::AppError::from(e))
            },
        )?,
        model_kind: q.model,
        name: q.name,
        dataset: q.dataset,
    };
    let page = runs::list(
        &state.home,
        &filter,
        q.limit.unwrap_or(50).clamp(1, 500),
        q.offset.unwrap_or(0),
    )?;
    Ok(Json(to_json(&page)?))
}

/// One run: params, metrics, files and per-epoch history (`latest` or an id prefix works too).
#[utoipa::path(get, path = "/runs/{id}", tag = "runs",
    params(("id" = String, Path, description = "Run id, a unique prefix, or `latest`")),
    responses((status = 200, description = "The run", body = serde_json::Value),
              (status = 404, description = "No such run", body = crate::ErrorBody)))]
pub async fn run(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let mut details = to_json(&runs::show(&state.home, &id)?)?;
    // Server paths are not the client's business.
    if let Some(obj) = details.as_object_mut() {
        obj.remove("dir");
        obj.remove("files");
        obj.remove("event_files");
    }
    Ok(Json(details))
}

/// One run's per-epoch metric history.
#[utoipa::path(get, path = "/runs/{id}/metrics", tag = "runs",
    params(("id" = String, Path, description = "Run id, a unique prefix, or `latest`")),
    responses((status = 200, description = "The history by tag", body = serde_json::Value),
              (status = 404, description = "No such run", body = crate::ErrorBody)))]
pub async fn run_metrics(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(to_json(&runs::show(&state.home, &id)?.history)?))
}

/// Trains, evaluates and registers a model as a job (the options of `millwright train`, as JSON). Files
/// (`train`, `test`) are paths inside the home.
#[utoipa::path(post, path = "/train", tag = "runs",
    request_body(content = serde_json::Value, description = "TrainOptions: dataset or train, target, drop, model, name, cv, epochs …"),
    responses((status = 202, description = "The job, queued", body = JobRecord),
              (status = 400, description = "Malformed JSON", body = crate::ErrorBody),
              (status = 422, description = "Options that do not fit", body = crate::ErrorBody)))]
pub async fn train(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: super::JsonBody<TrainOptions>,
) -> ApiResult<(StatusCode, Json<JobRecord>)> {
    let mut options = body.0;
    for file in [&mut options.train, &mut options.test]
        .into_iter()
        .flatten()
    {
        *file = super::inside_home(&state.home, file)?;
    }
    if let Some(name) = &options.name {
        millwright_learn::registry::validate_name(name)
            .map_err(|e| ApiError::from(millwright_app::AppError::from(e)))?;
    }
    if let Some(dataset) = &options.dataset {
        millwright_data::names::validate_dataset_name(dataset)
            .map_err(|e| ApiError::from(millwright_app::AppError::from(e)))?;
    }
    let job = options.job()?;
    let request = to_json(&options)?;
    let home = state.home.clone();
    let record = state.jobs.spawn(
        "train",
        request,
        &caller.0.name,
        move |observer| async move {
            let trained = learn::train(&home, job, &observer)
                .await
                .map_err(|e| error_text(&e))?;
            serde_json::to_value(&trained).map_err(|e| e.to_string())
        },
    )?;
    Ok((StatusCode::ACCEPTED, Json(record)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CompareQuery {
    /// First run: an id, a unique prefix, or `latest`.
    pub a: String,
    /// Second run.
    pub b: String,
}

/// Two runs side by side: the params that differ and how the metrics moved (`b` − `a`), as
/// `millwright runs compare`.
#[utoipa::path(get, path = "/runs/compare", tag = "runs", params(CompareQuery),
    responses((status = 200, description = "The comparison", body = serde_json::Value),
              (status = 400, description = "Invalid run id", body = crate::ErrorBody),
              (status = 404, description = "No such run", body = crate::ErrorBody)))]
pub async fn compare_runs(
    State(state): State<AppState>,
    Query(q): Query<CompareQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let home = state.home.clone();
    let (a, b, comparison) = tokio::task::spawn_blocking(move || runs::compare(&home, &q.a, &q.b))
        .await
        .map_err(|e| ApiError::internal(format!("the comparison stopped: {e}")))??;
    Ok(Json(serde_json::json!({
        "a": a.id,
        "b": b.id,
        "comparison": to_json(&comparison)?,
    })))
}

/// Labelled rows to evaluate a model on: a lake dataset (and version) or a file inside the home.
#[derive(Debug, Clone, Deserialize, serde::Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateBody {
    pub dataset: Option<String>,
    pub version: Option<i64>,
    /// A CSV, Parquet or JSON-lines file, relative to the home.
    pub file: Option<String>,
}

/// A registered model's metrics on labelled rows, as a job (`millwright evaluate`); the result holds
/// the metrics.
#[utoipa::path(post, path = "/models/{spec}/evaluate", tag = "models", request_body = EvaluateBody,
    params(("spec" = String, Path, description = "NAME@VERSION, NAME@ALIAS, NAME@latest or NAME")),
    responses((status = 202, description = "The job, queued", body = JobRecord),
              (status = 400, description = "Malformed JSON, an invalid name or a path outside the home", body = crate::ErrorBody),
              (status = 404, description = "No such model, dataset or file", body = crate::ErrorBody),
              (status = 422, description = "Neither or both of dataset and file", body = crate::ErrorBody)))]
pub async fn evaluate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(spec): Path<String>,
    body: super::JsonBody<EvaluateBody>,
) -> ApiResult<(StatusCode, Json<JobRecord>)> {
    let req = body.0;
    // The model is looked up now, so an unknown one is a 404 rather than a failed job.
    state.models.resolve(&spec)?;
    let rows = match (&req.dataset, &req.file) {
        (Some(name), None) => {
            millwright_data::names::validate_dataset_name(name)
                .map_err(|e| ApiError::from(millwright_app::AppError::from(e)))?;
            learn::Rows::Dataset {
                name: name.clone(),
                version: req.version,
            }
        }
        (None, Some(file)) => {
            learn::Rows::File(super::inside_home(&state.home, std::path::Path::new(file))?)
        }
        _ => {
            return Err(ApiError::invalid(
                "give either `dataset` (a lake table) or `file` (inside the home)",
            ))
        }
    };
    let request = learn::EvaluateRequest {
        model: spec.clone(),
        rows,
        plots: None,
    };
    let home = state.home.clone();
    let mut described = to_json(&req)?;
    if let Some(obj) = described.as_object_mut() {
        obj.insert("model".into(), spec.into());
    }
    let record = state.jobs.spawn(
        "evaluate",
        described,
        &caller.0.name,
        move |_observer| async move {
            let evaluation = learn::evaluate(&home, &request)
                .await
                .map_err(|e| error_text(&e))?;
            serde_json::to_value(&evaluation).map_err(|e| e.to_string())
        },
    )?;
    Ok((StatusCode::ACCEPTED, Json(record)))
}
