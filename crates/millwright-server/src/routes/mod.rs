//! The handlers, one module per resource. Each parses its request, calls the application layer and
//! answers with what that returns; none implements a use case itself.

pub mod admin;
pub mod data;
pub mod jobs;
pub mod learn;
pub mod plots;
pub mod predict;
pub mod system;
pub mod tokens;
pub mod twin;

use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

/// Cursor pagination: `limit` items with ids below `before` (the `next` of the previous page).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Cursor {
    /// Items per page (1–500, default 50).
    pub limit: Option<u32>,
    /// Only items older than this id (the previous page's `next`).
    pub before: Option<i64>,
}

impl Cursor {
    pub fn limit(&self) -> u32 {
        self.limit.unwrap_or(50).clamp(1, 500)
    }
}

/// `/api/v1`: every resource.
pub fn v1(state: &AppState) -> OpenApiRouter<AppState> {
    let uploads = OpenApiRouter::new()
        .routes(routes!(data::ingest))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            state.config.upload_limit,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            state.config.upload_timeout,
        ));
    let streams = OpenApiRouter::new().routes(routes!(jobs::events)).layer(
        tower_http::limit::RequestBodyLimitLayer::new(state.config.json_limit),
    );
    let rest = OpenApiRouter::new()
        .routes(routes!(data::datasets))
        .routes(routes!(data::schema))
        .routes(routes!(data::quality))
        .routes(routes!(data::history))
        .routes(routes!(data::rows))
        .routes(routes!(data::sql))
        .routes(routes!(learn::models))
        .routes(routes!(learn::model))
        .routes(routes!(predict::predict))
        .routes(routes!(learn::evaluate))
        .routes(routes!(predict::aliases))
        .routes(routes!(predict::promote))
        .routes(routes!(predict::rollback))
        .routes(routes!(learn::runs))
        .routes(routes!(learn::compare_runs))
        .routes(routes!(learn::run, admin::delete_run))
        .routes(routes!(learn::run_metrics))
        .routes(routes!(learn::train))
        .routes(routes!(twin::lines))
        .routes(routes!(twin::runs))
        .routes(routes!(twin::run, admin::delete_twin_run))
        .routes(routes!(plots::plots))
        .routes(routes!(plots::plot))
        .routes(routes!(twin::compare))
        .routes(routes!(twin::simulate))
        .routes(routes!(twin::optimize))
        .routes(routes!(twin::emit))
        .routes(routes!(twin::impact))
        .routes(routes!(twin::build_report, admin::reports))
        .routes(routes!(twin::report_html, admin::delete_report))
        .routes(routes!(jobs::list))
        .routes(routes!(jobs::get))
        .routes(routes!(jobs::cancel))
        .routes(routes!(system::audit))
        .routes(routes!(admin::delete_dataset))
        .routes(routes!(admin::trash, admin::vacuum_all))
        .routes(routes!(admin::vacuum))
        .routes(routes!(admin::restore))
        .routes(routes!(admin::delete_model_version))
        .routes(routes!(tokens::list, tokens::create))
        .routes(routes!(tokens::revoke))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            state.config.json_limit,
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            state.config.request_timeout,
        ));
    uploads.merge(streams).merge(rest)
}

/// A JSON body whose rejections answer in the error envelope: malformed JSON 400, JSON of the wrong
/// shape 422, a body over the limit 413, no `application/json` Content-Type 415.
pub struct JsonBody<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for JsonBody<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = crate::ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        use axum::extract::rejection::JsonRejection;
        use axum::http::StatusCode;
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => {
                let (status, code) = match &rejection {
                    JsonRejection::JsonSyntaxError(_) => {
                        (StatusCode::BAD_REQUEST, "malformed_json")
                    }
                    JsonRejection::JsonDataError(_) => {
                        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input")
                    }
                    JsonRejection::MissingJsonContentType(_) => {
                        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
                    }
                    _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                        (StatusCode::PAYLOAD_TOO_LARGE, "too_large")
                    }
                    _ => (StatusCode::BAD_REQUEST, "bad_request"),
                };
                Err(crate::ApiError::new(status, code, rejection.body_text()))
            }
        }
    }
}

/// A file a request names: relative to the home (or absolute), and inside it once links are resolved.
pub fn inside_home(
    home: &millwright_app::Home,
    path: &std::path::Path,
) -> Result<std::path::PathBuf, crate::ApiError> {
    let root = home
        .root()
        .canonicalize()
        .map_err(|e| crate::ApiError::internal(format!("cannot resolve the home folder: {e}")))?;
    let joined = root.join(path);
    let resolved = joined.canonicalize().map_err(|_| {
        crate::ApiError::not_found(format!("{} is not a file in the home", path.display()))
    })?;
    if !resolved.starts_with(&root) {
        return Err(crate::ApiError::bad_request(format!(
            "{} is outside the home; the server reads files in its home only",
            path.display()
        )));
    }
    Ok(resolved)
}
