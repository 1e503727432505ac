//! Request ids, tracing spans and Prometheus metrics for every request.

use std::sync::OnceLock;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{MakeSpan, OnResponse, TraceLayer};

use crate::ServeError;

/// The process's Prometheus recorder (one per process: the `metrics` macros write to a global).
pub fn recorder() -> Result<PrometheusHandle, ServeError> {
    static HANDLE: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            PrometheusBuilder::new()
                .set_buckets(&[
                    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
                    10.0,
                ])
                .map_err(|e| e.to_string())?
                .install_recorder()
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(ServeError::Metrics)
}

/// Request ids `<process>-<n>`: a random tag per server process and a counter, unique across restarts
/// without drawing randomness per request (a UUID per request cost a `getrandom` call each).
#[derive(Clone)]
pub struct SequentialRequestId {
    process: std::sync::Arc<str>,
    next: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl SequentialRequestId {
    pub fn new() -> SequentialRequestId {
        let tag: u32 = rand::random();
        SequentialRequestId {
            process: format!("{tag:08x}").into(),
            next: std::sync::Arc::default(),
        }
    }
}

impl tower_http::request_id::MakeRequestId for SequentialRequestId {
    fn make_request_id<B>(
        &mut self,
        _: &axum::http::Request<B>,
    ) -> Option<tower_http::request_id::RequestId> {
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = axum::http::HeaderValue::from_str(&format!("{}-{n}", self.process)).ok()?;
        Some(tower_http::request_id::RequestId::new(id))
    }
}

/// Counts each request by route pattern and status, and times it.
pub async fn track(req: Request, next: Next) -> axum::response::Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |m| m.as_str().to_owned());
    let method = req.method().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!("millwright_http_requests_total", "method" => method.clone(), "route" => route.clone(), "status" => status)
        .increment(1);
    metrics::histogram!("millwright_http_request_duration_seconds", "method" => method, "route" => route)
        .record(started.elapsed().as_secs_f64());
    response
}

/// A span per request naming its id, method and path (never its headers: they carry the token).
#[derive(Clone, Copy)]
pub struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, req: &axum::http::Request<B>) -> tracing::Span {
        let id = req
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-");
        tracing::info_span!("request", id, method = %req.method(), path = %req.uri().path())
    }
}

/// Marks a response whose success is counted in `/metrics` instead of logged line by line: predictions
/// come tens of thousands a second, and a log line each would cost more than the prediction. Their
/// failures are still logged; `MILLWRIGHT_LOG=debug` logs the successes too.
#[derive(Debug, Clone, Copy)]
pub struct CountedNotLogged;

/// The line logged when a request is answered: status and latency, inside the request's span.
#[derive(Debug, Clone, Copy)]
pub struct RequestLog;

impl<B> OnResponse<B> for RequestLog {
    fn on_response(
        self,
        response: &axum::http::Response<B>,
        latency: std::time::Duration,
        _: &tracing::Span,
    ) {
        let status = response.status().as_u16();
        let latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        let quiet = response.status().is_success()
            && response.extensions().get::<CountedNotLogged>().is_some();
        if quiet {
            tracing::debug!(status, latency_us, "answered");
        } else {
            tracing::info!(status, latency_us, "answered");
        }
    }
}

pub fn trace_layer() -> TraceLayer<
    SharedClassifier<ServerErrorsAsFailures>,
    RequestSpan,
    tower_http::trace::DefaultOnRequest,
    RequestLog,
> {
    TraceLayer::new_for_http()
        .make_span_with(RequestSpan)
        .on_response(RequestLog)
}
