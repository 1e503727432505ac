//! One module per dashboard section. A page handler takes a [`Ctx`](super::session::Ctx), reads what it
//! shows through the application layer, and renders it with the section's catalog of labels.

mod business;
mod jobs;
mod overview;
mod twin;
mod twin_svg;

use axum::routing::get;
use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/ui/", get(overview::page))
        .route("/ui/jobs/{id}", get(jobs::page))
        .route("/ui/twin", get(twin::page))
        .route("/ui/twin/new-line", get(twin::new_line))
        .route("/ui/twin/lines/{file}", get(twin::line_page).post(twin::save_line))
        .route("/ui/twin/runs/{id}", get(twin::run_page))
        .route("/ui/business", get(business::list))
        .route("/ui/business/{id}", get(business::page))
}

/// A failure of the application layer or the store, shown in the page's frame.
pub(crate) fn failure(
    ctx: &super::session::Ctx,
    error: impl Into<crate::ApiError>,
) -> axum::response::Response {
    let error: crate::ApiError = error.into();
    super::layout::error_page(ctx, error.status, &error.message)
}
