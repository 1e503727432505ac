//! A twin run's charts (KPIs, throughput, a Gantt chart per policy, an optimisation's curve) as SVG or PNG.

use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;
use axum::Json;
use millwright_app::twin;

use super::data::to_json;
use crate::error::ApiResult;
use crate::AppState;

/// The charts stored with a twin run: file name and media type of each.
#[utoipa::path(get, path = "/twin/runs/{id}/plots", tag = "twin",
    params(("id" = String, Path, description = "Twin run id")),
    responses((status = 200, description = "The charts, by file name", body = serde_json::Value),
              (status = 400, description = "Invalid run id", body = crate::ErrorBody),
              (status = 404, description = "No such run", body = crate::ErrorBody)))]
pub async fn plots(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<serde_json::Value>> {
    Ok(Json(to_json(&twin::plots(&state.home, &id)?)?))
}

/// One chart of a twin run, e.g. `kpis.svg` or `gantt-predictive.png`.
#[utoipa::path(get, path = "/twin/runs/{id}/plots/{file}", tag = "twin",
    params(("id" = String, Path, description = "Twin run id"),
           ("file" = String, Path, description = "A file name the plot list gives")),
    responses((status = 200, description = "The chart", content_type = "image/svg+xml", body = String),
              (status = 400, description = "Invalid run id", body = crate::ErrorBody),
              (status = 404, description = "No such run or chart", body = crate::ErrorBody)))]
pub async fn plot(
    State(state): State<AppState>,
    Path((id, file)): Path<(String, String)>,
) -> ApiResult<impl IntoResponse> {
    let home = state.home.clone();
    let (bytes, media_type) = tokio::task::spawn_blocking(move || twin::plot(&home, &id, &file))
        .await
        .map_err(|e| crate::ApiError::internal(format!("reading the chart stopped: {e}")))??;
    Ok((
        [
            (header::CONTENT_TYPE, media_type),
            // Generated images only: nothing in them may run or load anything.
            (
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; style-src 'unsafe-inline'",
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        bytes,
    ))
}
