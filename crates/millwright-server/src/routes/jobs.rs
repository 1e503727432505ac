//! Jobs: list, one, its events as server-sent events, cancel.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::{Path, Query, State};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::Json;
use futures::stream::{self, Stream, StreamExt};
use serde::Serialize;
use tokio::sync::broadcast::error::RecvError;
use utoipa::ToSchema;

use super::Cursor;
use crate::error::{ApiError, ApiResult};
use crate::jobs::{CancelError, JobEvent};
use crate::store::JobRecord;
use crate::AppState;

#[derive(Debug, Serialize, ToSchema)]
pub struct JobPage {
    pub jobs: Vec<JobRecord>,
    /// Pass as `before` for the next page; absent on the last.
    pub next: Option<i64>,
}

/// Jobs, newest first.
#[utoipa::path(get, path = "/jobs", tag = "jobs", params(Cursor),
    responses((status = 200, description = "A page of jobs", body = JobPage)))]
pub async fn list(
    State(state): State<AppState>,
    Query(cursor): Query<Cursor>,
) -> ApiResult<Json<JobPage>> {
    let limit = cursor.limit();
    let jobs = state.store.job_list(limit, cursor.before)?;
    let next = (jobs.len() == limit as usize)
        .then(|| jobs.last().map(|j| j.id))
        .flatten();
    Ok(Json(JobPage { jobs, next }))
}

/// One job: state, request, result or error.
#[utoipa::path(get, path = "/jobs/{id}", tag = "jobs",
    params(("id" = i64, Path, description = "Job id")),
    responses((status = 200, description = "The job", body = JobRecord),
              (status = 404, description = "No such job", body = crate::ErrorBody)))]
pub async fn get(State(state): State<AppState>, Path(id): Path<i64>) -> ApiResult<Json<JobRecord>> {
    Ok(Json(state.store.job_get(id)?))
}

fn sse(event: &JobEvent) -> SseEvent {
    let name = match event {
        JobEvent::State { .. } => "state",
        JobEvent::Progress { .. } => "progress",
    };
    SseEvent::default()
        .event(name)
        .json_data(event)
        .unwrap_or_else(|_| SseEvent::default().event(name).data("{}"))
}

/// The job's events as server-sent events: the past ones first, then live ones, ending with the final
/// state (`event: state`, data `{"type":"state","state":"succeeded"}`).
#[utoipa::path(get, path = "/jobs/{id}/events", tag = "jobs",
    params(("id" = i64, Path, description = "Job id")),
    responses((status = 200, description = "text/event-stream of JobEvent", content_type = "text/event-stream", body = JobEvent),
              (status = 404, description = "No such job", body = crate::ErrorBody)))]
pub async fn events(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>> {
    let record = state.store.job_get(id)?;
    let stream: std::pin::Pin<Box<dyn Stream<Item = Result<SseEvent, Infallible>> + Send>> =
        match state.jobs.live(id) {
            Some(job) => {
                let (past, receiver) = job.subscribe();
                let finished = past.iter().any(JobEvent::is_final);
                let replay = stream::iter(past.into_iter().map(|e| Ok(sse(&e))));
                if finished {
                    Box::pin(replay)
                } else {
                    let live = stream::unfold(Some(receiver), |receiver| async move {
                        let mut receiver = receiver?;
                        loop {
                            match receiver.recv().await {
                                Ok(event) => {
                                    let last = event.is_final();
                                    return Some((Ok(sse(&event)), (!last).then_some(receiver)));
                                }
                                // A slow reader missed some progress; the next event carries on.
                                Err(RecvError::Lagged(_)) => {}
                                Err(RecvError::Closed) => return None,
                            }
                        }
                    });
                    Box::pin(replay.chain(live))
                }
            }
            // A job of an earlier server run: only its final state is known.
            None => Box::pin(stream::iter([Ok(sse(&JobEvent::State {
                state: record.state,
                error: record.error,
            }))])),
        };
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Cancels a job: a queued job never starts; a running one stops at its next check and ends `cancelled`.
#[utoipa::path(post, path = "/jobs/{id}/cancel", tag = "jobs",
    params(("id" = i64, Path, description = "Job id")),
    responses((status = 200, description = "The job after the request", body = JobRecord),
              (status = 404, description = "No such job", body = crate::ErrorBody),
              (status = 409, description = "The job has already finished, or runs in another server on the home", body = crate::ErrorBody)))]
pub async fn cancel(
    State(state): State<AppState>,
    Path(id): Path<i64>,
) -> ApiResult<Json<JobRecord>> {
    match state.jobs.cancel(id) {
        Ok(job) => Ok(Json(job)),
        Err(CancelError::Store(e)) => Err(e.into()),
        Err(e @ (CancelError::Finished(..) | CancelError::Elsewhere(..))) => Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "conflict",
            e.to_string(),
        )),
    }
}
