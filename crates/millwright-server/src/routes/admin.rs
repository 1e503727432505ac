//! Deletes (admin only; the auth layer audits each with its outcome): datasets go to the lake's trash,
//! where they can be restored until vacuumed; model versions, tracked runs, twin runs and reports are
//! removed for good. Each calls one use case of the application layer, which owns the locks and the
//! rename-away that keep a concurrent ingest, predict or read clean.

use axum::extract::{Path, Query, State};
use axum::{Extension, Json};
use millwright_app::data::{self, VacuumRequest};
use millwright_app::{learn, report, runs, twin};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::data::to_json;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::AppState;

/// Runs a use case on a blocking thread (they touch files and take locks).
async fn blocking<T, F>(what: &'static str, work: F) -> ApiResult<T>
where
    F: FnOnce() -> millwright_app::Result<T> + Send + 'static,
    T: Send + 'static,
{
    Ok(tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::internal(format!("the {what} stopped: {e}")))??)
}

/// What a delete removed.
#[derive(Debug, Serialize, ToSchema)]
pub struct Deleted {
    /// `model_version`, `run`, `twin_run` or `report`.
    pub kind: &'static str,
    pub id: String,
    /// Details of what was removed (the version's manifest, the run's record), where there are some.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Object)]
    pub removed: Option<serde_json::Value>,
}

/// Deletes a dataset: every version, and its quarantine table, moves to the trash (recoverable with
/// `POST /trash/datasets/{id}/restore` until vacuumed). A dataset being ingested into is a 409.
#[utoipa::path(delete, path = "/datasets/{name}", tag = "datasets",
    params(("name" = String, Path, description = "Dataset name")),
    responses((status = 200, description = "The trash entry", body = serde_json::Value),
              (status = 400, description = "Invalid name (or a quarantine table's)", body = crate::ErrorBody),
              (status = 404, description = "No such dataset", body = crate::ErrorBody),
              (status = 409, description = "An ingest is writing the dataset", body = crate::ErrorBody)))]
pub async fn delete_dataset(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(name): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let home = state.home.clone();
    let entry = blocking("delete", move || {
        data::delete_dataset(&home, &name, &caller.0.name)
    })
    .await?;
    Ok(Json(to_json(&entry)?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VacuumQuery {
    /// Only entries deleted longer ago than this: `30d`, `12h`, `90min`, `45s`.
    pub older_than: Option<String>,
}

/// The deleted datasets waiting in the trash, newest first.
#[utoipa::path(get, path = "/trash/datasets", tag = "datasets",
    responses((status = 200, description = "The trash entries", body = serde_json::Value)))]
pub async fn trash(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    let home = state.home.clone();
    let entries = blocking("trash listing", move || data::trash(&home)).await?;
    Ok(Json(to_json(&entries)?))
}

/// Empties the trash for good (every entry, or those older than `older_than`).
#[utoipa::path(delete, path = "/trash/datasets", tag = "datasets", params(VacuumQuery),
    responses((status = 200, description = "What was removed and the bytes freed", body = serde_json::Value),
              (status = 409, description = "A dataset of an entry is being written", body = crate::ErrorBody),
              (status = 422, description = "An age that does not read", body = crate::ErrorBody)))]
pub async fn vacuum_all(
    State(state): State<AppState>,
    Query(q): Query<VacuumQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let home = state.home.clone();
    let request = VacuumRequest {
        reference: None,
        older_than: q.older_than,
    };
    let purged = blocking("vacuum", move || data::vacuum(&home, &request)).await?;
    Ok(Json(to_json(&purged)?))
}

/// Removes one trash entry for good (`id` as the trash lists it; a dataset name removes all of its).
#[utoipa::path(delete, path = "/trash/datasets/{id}", tag = "datasets",
    params(("id" = String, Path, description = "Trash id (NAME.YYYYMMDDTHHMMSSmmmZ) or dataset name"), VacuumQuery),
    responses((status = 200, description = "What was removed and the bytes freed", body = serde_json::Value),
              (status = 400, description = "Invalid id", body = crate::ErrorBody),
              (status = 404, description = "No such entry", body = crate::ErrorBody)))]
pub async fn vacuum(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<VacuumQuery>,
) -> ApiResult<Json<serde_json::Value>> {
    let home = state.home.clone();
    let request = VacuumRequest {
        reference: Some(id),
        older_than: q.older_than,
    };
    let purged = blocking("vacuum", move || data::vacuum(&home, &request)).await?;
    Ok(Json(to_json(&purged)?))
}

/// Puts a deleted dataset back under its name with every version (admin). A dataset of that name
/// existing meanwhile is a 409.
#[utoipa::path(post, path = "/trash/datasets/{id}/restore", tag = "datasets",
    params(("id" = String, Path, description = "Trash id, or a dataset name (its latest deleted copy)")),
    responses((status = 200, description = "The entry restored", body = serde_json::Value),
              (status = 400, description = "Invalid id", body = crate::ErrorBody),
              (status = 404, description = "No such entry", body = crate::ErrorBody),
              (status = 409, description = "The name is taken, or being written", body = crate::ErrorBody)))]
pub async fn restore(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    let home = state.home.clone();
    let entry = blocking("restore", move || data::restore_dataset(&home, &id)).await?;
    Ok(Json(to_json(&entry)?))
}

/// Deletes one model version for good. An alias pointing at it is a 409 naming the alias; the number is
/// never given to a later version.
#[utoipa::path(delete, path = "/models/{name}/versions/{version}", tag = "models",
    params(("name" = String, Path, description = "Model name"),
           ("version" = u32, Path, description = "Version number")),
    responses((status = 200, description = "What was deleted", body = Deleted),
              (status = 400, description = "Invalid name", body = crate::ErrorBody),
              (status = 404, description = "No such model or version", body = crate::ErrorBody),
              (status = 409, description = "An alias points at the version", body = crate::ErrorBody)))]
pub async fn delete_model_version(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((name, version)): Path<(String, u32)>,
) -> ApiResult<Json<Deleted>> {
    millwright_learn::registry::validate_name(&name)
        .map_err(|e| ApiError::from(millwright_app::AppError::from(e)))?;
    let home = state.home.clone();
    let spec = format!("{name}@{version}");
    let deleted = blocking("delete", move || {
        learn::delete_version(&home, &spec, &caller.0.name)
    })
    .await?;
    // This process sees the delete at once (not after the resolver's next look), and frees the model.
    state.models.forget(&name);
    state.models.unload(&name, version);
    Ok(Json(Deleted {
        kind: "model_version",
        id: format!("{name}@{version}"),
        removed: Some(to_json(&deleted)?),
    }))
}

/// Deletes a tracked run and its files (its full id). A run a live process records is a 409.
#[utoipa::path(delete, path = "/runs/{id}", tag = "runs",
    params(("id" = String, Path, description = "The run's full id")),
    responses((status = 200, description = "What was deleted", body = Deleted),
              (status = 400, description = "Not a full run id", body = crate::ErrorBody),
              (status = 404, description = "No such run", body = crate::ErrorBody),
              (status = 409, description = "The run is still running", body = crate::ErrorBody)))]
pub async fn delete_run(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Deleted>> {
    let home = state.home.clone();
    let record = blocking("delete", move || runs::delete(&home, &id)).await?;
    Ok(Json(Deleted {
        kind: "run",
        id: record.id.to_string(),
        removed: Some(to_json(&record)?),
    }))
}

/// Deletes a stored twin run (result, line file, plots) for good; its report, if built, stays.
#[utoipa::path(delete, path = "/twin/runs/{id}", tag = "twin",
    params(("id" = String, Path, description = "Twin run id")),
    responses((status = 200, description = "What was deleted", body = Deleted),
              (status = 400, description = "Invalid run id", body = crate::ErrorBody),
              (status = 404, description = "No such run", body = crate::ErrorBody)))]
pub async fn delete_twin_run(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Deleted>> {
    let home = state.home.clone();
    let run = id.clone();
    blocking("delete", move || twin::delete_run(&home, &run)).await?;
    Ok(Json(Deleted {
        kind: "twin_run",
        id,
        removed: None,
    }))
}

/// The reports built in the home, by name.
#[utoipa::path(get, path = "/reports", tag = "reports",
    responses((status = 200, description = "Name, size and build time of each", body = serde_json::Value)))]
pub async fn reports(State(state): State<AppState>) -> ApiResult<Json<serde_json::Value>> {
    let home = state.home.clone();
    let list = blocking("report listing", move || report::reports(&home)).await?;
    Ok(Json(to_json(&list)?))
}

/// Deletes a built report for good; the twin run it was built from stays.
#[utoipa::path(delete, path = "/reports/{id}", tag = "reports",
    params(("id" = String, Path, description = "The report's name (the twin run id it was built for)")),
    responses((status = 200, description = "What was deleted", body = Deleted),
              (status = 400, description = "Invalid name", body = crate::ErrorBody),
              (status = 404, description = "No such report", body = crate::ErrorBody)))]
pub async fn delete_report(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Deleted>> {
    let home = state.home.clone();
    let name = id.clone();
    blocking("delete", move || report::delete_report(&home, &name)).await?;
    Ok(Json(Deleted {
        kind: "report",
        id,
        removed: None,
    }))
}
