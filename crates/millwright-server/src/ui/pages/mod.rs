//! One module per dashboard section. A page handler takes a [`Ctx`](super::session::Ctx), reads what it
//! shows through the application layer, and renders it with the section's catalog of labels.

mod admin;
mod data;
mod jobs;
mod models;
mod overview;
mod runs;
mod sql;
mod train;

use axum::routing::get;
use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ui/", get(overview::page))
        .route("/ui/jobs/{id}", get(jobs::page))
        .route("/ui/models", get(models::index))
        .route("/ui/models/{name}", get(models::model))
        .route("/ui/models/{name}/{version}", get(models::version))
        .route("/ui/runs", get(runs::index))
        .route("/ui/runs/compare", get(runs::compare))
        .route("/ui/runs/{id}", get(runs::run))
        .route("/ui/train", get(train::page))
        .route("/ui/admin", get(admin::page))
        .route("/ui/data", get(data::list))
        .route("/ui/data/{name}", get(data::dataset))
        .route("/ui/sql", get(sql::page))
        .route("/ui/sql/csv", get(sql::csv))
        .route("/ui/{*rest}", get(not_found))
}

/// A failure of the application layer or the store, shown in the page's frame.
pub(crate) fn failure(
    ctx: &super::session::Ctx,
    error: impl Into<crate::ApiError>,
) -> axum::response::Response {
    let error: crate::ApiError = error.into();
    super::layout::error_page(ctx, error.status, &error.message)
}

/// Any other dashboard path: a page saying so, in the frame (signed-in users only).
async fn not_found(ctx: super::session::Ctx) -> axum::response::Response {
    let t = super::i18n::common(ctx.lang);
    super::layout::error_page(&ctx, axum::http::StatusCode::NOT_FOUND, t.not_found)
}
