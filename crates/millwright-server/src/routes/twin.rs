//! The digital twin: stored runs; a policy run, a comparison, an optimisation and an emission as jobs;
//! the impact of a run; reports.

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

/// The `SimRequest` for `line` with the simulation options each twin request body carries under the
/// same names (one struct flattened into each is not possible: serde refuses `flatten` together with
/// `deny_unknown_fields`, and unknown fields must stay refused).
macro_rules! sim_request {
    ($line:expr, $req:expr) => {{
        let mut sim = SimRequest::new($line);
        sim.replications = $req.replications.unwrap_or(sim.replications);
        sim.horizon = $req.horizon.clone();
        sim.warmup = $req.warmup.clone();
        sim.seed = $req.seed.unwrap_or(sim.seed);
        sim.interval = $req.interval.clone();
        sim.wear_limit = $req.wear_limit;
        sim.model = $req.model.clone();
        sim.threshold = $req.threshold;
        sim
    }};
}

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
    let (line, scratch) = line_file(&state, req.line.as_ref(), req.line_toml.as_ref())?;
    let sim = sim_request!(line, req);
    let policies = req.policies.clone();
    policies_job(
        &state,
        &caller,
        "twin-compare",
        to_json(&req)?,
        sim,
        policies,
        scratch,
    )
}

/// Simulates `policies` on a line as job `kind`; the result is a stored twin run (compare and run).
fn policies_job(
    state: &AppState,
    caller: &Caller,
    kind: &'static str,
    request: serde_json::Value,
    sim: SimRequest,
    policies: Vec<String>,
    scratch: Option<tempfile::NamedTempFile>,
) -> ApiResult<(StatusCode, Json<JobRecord>)> {
    let home = state.home.clone();
    let job = state
        .jobs
        .spawn(kind, request, &caller.0.name, move |observer| async move {
            let _scratch = scratch;
            let stored = twin::compare(&home, &sim, &policies, &observer)
                .await
                .map_err(|e| error_text(&e))?;
            Ok(serde_json::json!({
                "run_id": stored.result.run_id,
                "result": serde_json::to_value(&stored.result).map_err(|e| e.to_string())?,
            }))
        })?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// The line a request names: a file inside the home (`line`), or its text (`line_toml`), written to a
/// scratch file that lives as long as the returned guard.
fn line_file(
    state: &AppState,
    line: Option<&String>,
    line_toml: Option<&String>,
) -> ApiResult<(std::path::PathBuf, Option<tempfile::NamedTempFile>)> {
    match (line, line_toml) {
        (Some(path), None) => Ok((
            super::inside_home(&state.home, std::path::Path::new(path))?,
            None,
        )),
        (None, Some(text)) => {
            let file = crate::scratch::file(&state.home.tmp_dir()?, "line", ".toml")?;
            std::fs::write(file.path(), text)
                .map_err(|e| ApiError::internal(format!("cannot write the line file: {e}")))?;
            Ok((file.path().to_owned(), Some(file)))
        }
        _ => Err(ApiError::invalid(
            "give either `line` (a file in the home) or `line_toml`",
        )),
    }
}

/// One policy simulated on a line (`millwright twin run`): the options of a comparison, one policy.
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunRequest {
    /// Path of a line file, relative to the home.
    pub line: Option<String>,
    /// The line file's text (stored under `<home>/tmp` for the run).
    pub line_toml: Option<String>,
    /// `run-to-failure`, `preventive`, `predictive`, `predictive+preventive`.
    pub policy: String,
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

/// Simulates one policy on a line as a job; the result is a stored twin run (as a comparison's).
#[utoipa::path(post, path = "/twin/run", tag = "twin", request_body = RunRequest,
    responses((status = 202, description = "The job, queued", body = JobRecord),
              (status = 400, description = "Malformed JSON or a path outside the home", body = crate::ErrorBody),
              (status = 422, description = "Options that do not fit", body = crate::ErrorBody)))]
pub async fn simulate(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: super::JsonBody<RunRequest>,
) -> ApiResult<(StatusCode, Json<JobRecord>)> {
    let req = body.0;
    let (line, scratch) = line_file(&state, req.line.as_ref(), req.line_toml.as_ref())?;
    let sim = sim_request!(line, req);
    let policies = vec![req.policy.clone()];
    policies_job(
        &state,
        &caller,
        "twin-run",
        to_json(&req)?,
        sim,
        policies,
        scratch,
    )
}

/// A search of one policy parameter for the best objective (`millwright twin optimize`).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OptimizeBody {
    /// Path of a line file, relative to the home.
    pub line: Option<String>,
    /// The line file's text (stored under `<home>/tmp` for the run).
    pub line_toml: Option<String>,
    /// `preventive`, `predictive` or `predictive+preventive`.
    pub policy: String,
    /// `interval`, `wear-limit` or `threshold` (default: threshold for predictive policies, else interval).
    pub parameter: Option<String>,
    /// Values to try (durations for the interval, e.g. `"180min"`).
    #[serde(default)]
    pub values: Vec<String>,
    /// `LO:HI:N`: N evenly spaced values (instead of `values`).
    pub range: Option<String>,
    /// `cost-per-good-part` (default, minimised) or `throughput` (maximised).
    pub objective: Option<String>,
    pub model: Option<String>,
    pub replications: Option<usize>,
    pub horizon: Option<String>,
    pub warmup: Option<String>,
    pub seed: Option<u64>,
    pub interval: Option<String>,
    pub wear_limit: Option<f64>,
    pub threshold: Option<f64>,
}

/// Searches one policy parameter as a job; the result holds the search and a stored twin run.
#[utoipa::path(post, path = "/twin/optimize", tag = "twin", request_body = OptimizeBody,
    responses((status = 202, description = "The job, queued", body = JobRecord),
              (status = 400, description = "Malformed JSON or a path outside the home", body = crate::ErrorBody),
              (status = 422, description = "Options that do not fit", body = crate::ErrorBody)))]
pub async fn optimize(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: super::JsonBody<OptimizeBody>,
) -> ApiResult<(StatusCode, Json<JobRecord>)> {
    let req = body.0;
    let (line, scratch) = line_file(&state, req.line.as_ref(), req.line_toml.as_ref())?;
    let sim = sim_request!(line, req);
    let request = twin::OptimizeRequest {
        sim,
        policy: req.policy.clone(),
        parameter: req.parameter.clone(),
        values: req.values.clone(),
        range: req.range.clone(),
        objective: req
            .objective
            .clone()
            .unwrap_or_else(|| "cost-per-good-part".to_owned()),
    };
    let home = state.home.clone();
    let job = state.jobs.spawn(
        "twin-optimize",
        to_json(&req)?,
        &caller.0.name,
        move |observer| async move {
            let _scratch = scratch;
            let optimized = twin::optimize(&home, &request, &observer)
                .await
                .map_err(|e| error_text(&e))?;
            Ok(serde_json::json!({
                "run_id": optimized.run.result.run_id,
                "optimization": serde_json::to_value(&optimized.optimization).map_err(|e| e.to_string())?,
                "result": serde_json::to_value(&optimized.run.result).map_err(|e| e.to_string())?,
            }))
        },
    )?;
    Ok((StatusCode::ACCEPTED, Json(job)))
}

/// AI4I-style sensor records from a line's physics, ingested into a lake dataset (`twin emit --dataset`).
#[derive(Debug, Clone, Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EmitBody {
    /// Path of a line file, relative to the home.
    pub line: Option<String>,
    /// The line file's text.
    pub line_toml: Option<String>,
    /// Records to emit.
    pub rows: u64,
    pub seed: Option<u64>,
    /// The dataset the records go to.
    pub dataset: String,
    /// `create` (default), `append` or `overwrite`.
    pub mode: Option<String>,
}

/// Emits records into a dataset as a job; the result names the dataset version written.
#[utoipa::path(post, path = "/twin/emit", tag = "twin", request_body = EmitBody,
    responses((status = 202, description = "The job, queued", body = JobRecord),
              (status = 400, description = "Malformed JSON, a path outside the home or an invalid dataset name", body = crate::ErrorBody),
              (status = 422, description = "Options that do not fit", body = crate::ErrorBody)))]
pub async fn emit(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: super::JsonBody<EmitBody>,
) -> ApiResult<(StatusCode, Json<JobRecord>)> {
    let req = body.0;
    millwright_data::names::validate_new_dataset_name(&req.dataset)
        .map_err(|e| ApiError::from(millwright_app::AppError::from(e)))?;
    if req.rows == 0 || req.rows > millwright_twin::MAX_EMIT_ROWS {
        return Err(ApiError::invalid(format!(
            "rows: between 1 and {}",
            millwright_twin::MAX_EMIT_ROWS
        )));
    }
    let mode = match req.mode.as_deref() {
        None => millwright_data::lake::WriteMode::Create,
        Some(m) => m.parse().map_err(|e: millwright_data::DataError| {
            ApiError::from(millwright_app::AppError::from(e))
        })?,
    };
    let (line, scratch) = line_file(&state, req.line.as_ref(), req.line_toml.as_ref())?;
    let request = twin::EmitRequest {
        line,
        rows: req.rows,
        seed: req.seed.unwrap_or(1),
        out: None,
        dataset: Some(req.dataset.clone()),
        mode,
    };
    let home = state.home.clone();
    let job = state.jobs.spawn(
        "twin-emit",
        to_json(&req)?,
        &caller.0.name,
        move |observer| async move {
            let _scratch = scratch;
            let emitted = twin::emit(&home, &request, &observer)
                .await
                .map_err(|e| error_text(&e))?;
            serde_json::to_value(&emitted).map_err(|e| e.to_string())
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
