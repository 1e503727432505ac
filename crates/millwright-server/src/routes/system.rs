//! Health, readiness and metrics (public), and the audit log (admin).

use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

use super::Cursor;
use crate::error::{ApiError, ApiResult};
use crate::store::{AuditEntry, JobState};
use crate::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub version: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "system", security(()),
    responses((status = 200, description = "Alive", body = Health)))]
pub async fn healthz() -> Json<Health> {
    Json(Health {
        status: "ok",
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// Readiness: the database answers and the home is writable.
#[utoipa::path(get, path = "/readyz", tag = "system", security(()),
    responses((status = 200, description = "Ready", body = Health),
              (status = 503, description = "Not ready", body = crate::ErrorBody)))]
pub async fn readyz(State(state): State<AppState>) -> ApiResult<Json<Health>> {
    let store = state.store.clone();
    let home = state.home.clone();
    tokio::task::spawn_blocking(move || {
        store.job_counts()?;
        home.tmp_dir()?;
        Ok::<_, ApiError>(())
    })
    .await
    .map_err(|e| ApiError::internal(format!("the readiness check stopped: {e}")))?
    .map_err(|e| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", e.message))?;
    Ok(Json(Health {
        status: "ready",
        version: env!("CARGO_PKG_VERSION"),
    }))
}

/// Prometheus metrics: requests by route and status, latency, jobs by state, rows ingested, connectors.
#[utoipa::path(get, path = "/metrics", tag = "system", security(()),
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String)))]
pub async fn metrics(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    let store = state.store.clone();
    let counts = tokio::task::spawn_blocking(move || store.job_counts())
        .await
        .map_err(|e| ApiError::internal(format!("the metrics worker stopped: {e}")))??;
    for job_state in JobState::ALL {
        let n = counts
            .iter()
            .find(|(s, _)| *s == job_state)
            .map_or(0, |(_, n)| *n);
        #[allow(clippy::cast_precision_loss)]
        metrics::gauge!("millwright_jobs", "state" => job_state.as_str()).set(n as f64);
    }
    connector_gauges(&state);
    Ok((
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    ))
}

/// Each connector of the home (its status file): up or not, and its counters, labelled by dataset and kind.
#[allow(clippy::cast_precision_loss)]
fn connector_gauges(state: &AppState) {
    let Ok(list) = millwright_app::connect::status::list(&state.home) else {
        return;
    };
    let now = chrono::Utc::now();
    for c in list {
        let labels = [("dataset", c.dataset.clone()), ("kind", c.kind.clone())];
        metrics::gauge!("millwright_connector_up", &labels).set(f64::from(u8::from(c.is_live())));
        metrics::gauge!("millwright_connector_readings", &labels).set(c.readings as f64);
        metrics::gauge!("millwright_connector_rejected", &labels).set(c.rejected as f64);
        metrics::gauge!("millwright_connector_commits", &labels).set(c.commits as f64);
        if let Some(at) = c.last_commit_at {
            let age = (now - at).num_milliseconds() as f64 / 1000.0;
            metrics::gauge!("millwright_connector_last_commit_age_seconds", &labels).set(age);
        }
    }
}

/// A page of audit entries, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    /// Pass as `before` for the next page; absent on the last.
    pub next: Option<i64>,
}

/// The audit log: every mutating request with its token, route and outcome (admin only).
#[utoipa::path(get, path = "/audit", tag = "admin", params(Cursor),
    responses((status = 200, description = "A page of the log", body = AuditPage),
              (status = 403, description = "Not an admin token", body = crate::ErrorBody)))]
pub async fn audit(
    State(state): State<AppState>,
    Query(cursor): Query<Cursor>,
) -> ApiResult<Json<AuditPage>> {
    let limit = cursor.limit();
    let store = state.store.clone();
    let entries = tokio::task::spawn_blocking(move || store.audit_list(limit, cursor.before))
        .await
        .map_err(|e| ApiError::internal(format!("the audit reader stopped: {e}")))??;
    let next = (entries.len() == limit as usize)
        .then(|| entries.last().map(|e| e.id))
        .flatten();
    Ok(Json(AuditPage { entries, next }))
}
