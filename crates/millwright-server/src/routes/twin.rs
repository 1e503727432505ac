//! The digital twin: stored runs, a policy comparison as a job, the impact of a run, reports.

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::{Extension, Json};
use millwright_app::impact::{self, ImpactRequest};
use millwright_app::report::{self, ReportRequest};
use millwright_app::twin::{self, SimRequest};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::data::{error_text, to_json};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::store::JobRecord;
use crate::AppState;

fn run_id(home: &millwright_app::Home, id: &str) -> ApiResult<()> {
    millwright_twin::run_dir(home.root(), id)
        .map(|_| ())
        .map_err(|e| ApiError::from(millwright_app::AppError::from(e)))
}

/// The line files at the top of the home (what `line` in a comparison names).
#[utoipa::path(get, path = "/twin/lines", tag = "twin",
    responses((status = 200, description = "File name, line name and station count of each", body = serde_json::Value)))]
pub async fn lines(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(to_json(&twin::line_files(&state.home)?)?))
}

/// Every stored twin run (comparisons and optimisations), newest first.
#[utoipa::path(get, path = "/twin/runs", tag = "twin",
    responses((status = 200, description = "The runs", body = serde_json::Value)))]
pub async fn runs(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(to_json(&twin::runs(&state.home)?)?))
}

/// One stored twin run's result: KPIs per policy with intervals.
#[utoipa::path(get, path = "/twin/runs/{id}", tag = "twin",
    params(("id" = String, Path, description = "Twin run id")),
    responses((status = 200, description = "The result", body = serde_json::Value),
              (status = 400, description = "Invalid run id", body = crate::ErrorBody),
              (status = 404, description = "No such run", body = crate::ErrorBody)))]
pub async fn run(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    run_id(&state.home, &id)?;
    Ok(Json(to_json(&twin::load_result(&state.home, &id)?)?))
}

/// A policy comparison: a line file in the home (`line`) or the line's TOML itself (`line_toml`).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareRequest {
    /// Path of a line file, relative to the home.
    pub line: Option<String>,
    /// The line file's text (stored under `<home>/tmp` for the run).
    pub line_toml: Option<String>,
    /// Policies to compare, e.g. `["preventive", "predictive"]`.
    pub policies: Vec<String>,
    /// The predictive policy's model (`NAME@VERSION`, `NAME@latest`, `rules`).
    pub model: Option<String>,
    pub replications: Option<usize>,
    /// `30d`, `8h`, `180min` …
    pub horizon: Option<String>,
    pub warmup: Option<String>,
    pub seed: Option<u64>,
    pub interval: Option<String>,
    pub wear_limit: Option<f64>,
    pub threshold: Option<f64>,
}

/// Compares maintenance policies on a line as a job; the result is a stored twin run.
#[utoipa::path(post, path = "/twin/compare", tag = "twin", request_body = CompareRequest,
    responses((status = 202, description = "The job, queued", body = JobRecord),
              (status = 400, description = "Malformed JSON or a path outside the home", body = crate::ErrorBody),
              (status = 422, description = "Options that do not fit", body = crate::ErrorBody)))]
pub async fn compare(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: super::JsonBody<CompareRequest>,
) -> ApiResult<(StatusCode, Json<JobRecord>)> {
    let req = body.0;
    if req.policies.is_empty() {
        return Err(ApiError::invalid("name at least one policy to compare"));
    }
    let (line, scratch) = match (&req.line, &req.line_toml) {
        (Some(path), None) => (
            super::inside_home(&state.home, std::path::Path::new(path))?,
            None,
        ),
        (None, Some(text)) => {
            let file = crate::scratch::file(&state.home.tmp_dir()?, "line", ".toml")?;
            std::fs::write(file.path(), text)
                .map_err(|e| ApiError::internal(format!("cannot write the line file: {e}")))?;
            (file.path().to_owned(), Some(file))
        }
        _ => {
            return Err(ApiError::invalid(
                "give either `line` (a file in the home) or `line_toml`",
            ))
        }
    };
    let mut sim = SimRequest::new(line);
    sim.replications = req.replications.unwrap_or(sim.replications);
    sim.horizon = req.horizon.clone();
    sim.warmup = req.warmup.clone();
    sim.seed = req.seed.unwrap_or(sim.seed);
    sim.interval = req.interval.clone();
    sim.wear_limit = req.wear_limit;
    sim.model = req.model.clone();
    sim.threshold = req.threshold;
    let home = state.home.clone();
    let policies = req.policies.clone();
    let job = state.jobs.spawn(
        "twin-compare",
        to_json(&req)?,
        &caller.0.name,
        move |observer| async move {
            let _scratch = scratch;
            let stored = twin::compare(&home, &sim, &policies, &observer)
                .await
                .map_err(|e| error_text(&e))?;
            Ok(serde_json::json!({
                "run_id": stored.result.run_id,
                "result": serde_json::to_value(&stored.result).map_err(|e| e.to_string())?,
            }))
        },
    )?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// The measured impact of a twin run against the line's current practice (as `impact --from-twin`).
#[utoipa::path(get, path = "/twin/runs/{id}/impact", tag = "twin",
    params(("id" = String, Path, description = "Twin run id (a comparison)")),
    responses((status = 200, description = "The measured impact", body = serde_json::Value),
              (status = 404, description = "No such run", body = crate::ErrorBody),
              (status = 422, description = "The run cannot be measured (e.g. no AI policy)", body = crate::ErrorBody)))]
pub async fn impact(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    run_id(&state.home, &id)?;
    let request = ImpactRequest {
        from_twin: Some(id),
        ..ImpactRequest::default()
    };
    let home = state.home.clone();
    let outcome = tokio::task::spawn_blocking(move || impact::impact(&home, &request))
        .await
        .map_err(|e| ApiError::internal(format!("the impact worker stopped: {e}")))??;
    Ok(Json(to_json(&outcome)?))
}

#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BuildReport {
    /// The twin comparison to report on.
    pub run_id: String,
    pub title: Option<String>,
}

/// Builds the HTML report of a twin run as a job (`<home>/reports/<run-id>/`).
#[utoipa::path(post, path = "/reports", tag = "reports", request_body = BuildReport,
    responses((status = 202, description = "The job, queued", body = JobRecord),
              (status = 400, description = "Malformed JSON or invalid run id", body = crate::ErrorBody)))]
pub async fn build_report(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: super::JsonBody<BuildReport>,
) -> ApiResult<(StatusCode, Json<JobRecord>)> {
    let req = body.0;
    run_id(&state.home, &req.run_id)?;
    let mut request = ReportRequest::new(req.run_id.clone());
    request.title = req.title.clone();
    let home = state.home.clone();
    let job = state.jobs.spawn("report", to_json(&req)?, &caller.0.name, move |_observer| async move {
        let reported = report::report(&home, &request).map_err(|e| error_text(&e))?;
        Ok(serde_json::json!({ "run_id": request.run_id, "headline": reported.headline, "baseline": reported.baseline }))
    })?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// A built report's self-contained HTML page.
#[utoipa::path(get, path = "/reports/{id}", tag = "reports",
    params(("id" = String, Path, description = "The twin run id the report was built for")),
    responses((status = 200, description = "The HTML page", content_type = "text/html", body = String),
              (status = 400, description = "Invalid name", body = crate::ErrorBody),
              (status = 404, description = "No report of that name", body = crate::ErrorBody)))]
pub async fn report_html(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<impl IntoResponse> {
    millwright_data::names::validate_dataset_name(&id)
        .map_err(|e| ApiError::from(millwright_app::AppError::from(e)))?;
    let path = state
        .home
        .report_dir(&id)
        .join(millwright_report::HTML_FILE);
    let html = tokio::fs::read(&path).await.map_err(|_| {
        ApiError::not_found(format!(
            "no report {id:?} (build it with POST /api/v1/reports)"
        ))
    })?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html))
}
