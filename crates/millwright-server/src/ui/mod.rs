//! The dashboard: server-rendered pages under `/ui/`, in English and 简体中文, for the people who decide
//! on the shop floor. Pages read through the application layer like the API handlers; every change a
//! page makes is a call to the `/api/v1` route that makes it (by the small script in `assets/app.js`,
//! with the session cookie and its CSRF token), so roles, validation and the audit log are the API's.

pub mod assets;
pub mod i18n;
pub mod layout;
mod pages;
pub mod session;

use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

/// `/` and `/ui/…`.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/") }))
        .route("/ui", get(|| async { Redirect::to("/ui/") }))
        .route("/ui/login", get(session::login_page).post(session::login))
        .route("/ui/logout", post(session::logout))
        .route("/ui/lang", get(session::switch_lang))
        .route("/ui/static/{name}", get(assets::serve))
        .merge(pages::router())
}
