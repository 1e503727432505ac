//! One error type for every HTTP answer that is not a success: `{"error": {"code", "message", "details"}}`
//! with the status code the failure calls for. Application errors map by what went wrong, not by text.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use millwright_app::AppError;
use millwright_data::DataError;
use millwright_learn::error::LearnError;
use millwright_learn::tracking::TrackingError;
use millwright_twin::TwinError;
use serde::Serialize;
use utoipa::ToSchema;

/// The body of every error answer.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorDetail {
    /// A stable, machine-readable code (`not_found`, `invalid_input`, `unauthorized` ...).
    pub code: String,
    /// What went wrong, for people.
    pub message: String,
    /// The causes below the message, outermost first.
    pub details: Vec<String>,
}

/// A failed request: status, code, message and the chain of causes.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    pub fn invalid(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_input", message)
    }

    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    fn with_causes(mut self, err: &(dyn std::error::Error + 'static)) -> ApiError {
        let mut source = err.source();
        while let Some(cause) = source {
            let text = cause.to_string();
            if !self.message.ends_with(&text) && self.details.last() != Some(&text) {
                self.details.push(text);
            }
            source = cause.source();
        }
        self
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if self.status.is_server_error() {
            tracing::error!(code = self.code, message = %self.message, details = ?self.details, "request failed");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                details: self.details,
            },
        };
        (self.status, axum::Json(body)).into_response()
    }
}

fn data_kind(err: &DataError) -> (StatusCode, &'static str) {
    use DataError as D;
    match err {
        D::InvalidName { .. } => (StatusCode::BAD_REQUEST, "invalid_name"),
        D::NoSuchDataset { .. } | D::NoSuchVersion { .. } | D::InputMissing { .. } => {
            (StatusCode::NOT_FOUND, "not_found")
        }
        D::DatasetExists { .. } => (StatusCode::CONFLICT, "conflict"),
        D::DatasetBusy { .. } => (StatusCode::CONFLICT, "busy"),
        D::NoSuchTrashEntry { .. } => (StatusCode::NOT_FOUND, "not_found"),
        D::InvalidTrashId { .. } => (StatusCode::BAD_REQUEST, "invalid_name"),
        D::SqlParse { .. } => (StatusCode::BAD_REQUEST, "sql_syntax"),
        D::SqlNotAllowed(_) | D::InvalidQuery { .. } => {
            (StatusCode::UNPROCESSABLE_ENTITY, "sql_refused")
        }
        D::EmptyFile { .. }
        | D::HeaderOnly { .. }
        | D::Malformed { .. }
        | D::DuplicateColumn { .. }
        | D::UnsupportedFormat { .. }
        | D::InputIsDirectory { .. }
        | D::Parquet { .. }
        | D::ParquetRows { .. }
        | D::ColumnRead { .. }
        | D::ColumnKindChanged { .. }
        | D::Config { .. }
        | D::ConfigSyntax { .. }
        | D::UnknownColumn { .. }
        | D::Column { .. }
        | D::NothingToCommit { .. }
        | D::Feature { .. }
        | D::FeatureInputMismatch
        | D::UnknownMode { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
        D::DataFusion { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "query_failed"),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    }
}

fn tracking_kind(err: &TrackingError) -> (StatusCode, &'static str) {
    match err {
        TrackingError::UnknownRun(_) => (StatusCode::NOT_FOUND, "not_found"),
        TrackingError::AmbiguousRun { .. } => (StatusCode::CONFLICT, "ambiguous"),
        TrackingError::RunActive { .. } => (StatusCode::CONFLICT, "conflict"),
        TrackingError::InvalidRunId(_) => (StatusCode::BAD_REQUEST, "invalid_name"),
        TrackingError::InvalidInput { .. } => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    }
}

fn learn_kind(err: &LearnError) -> (StatusCode, &'static str) {
    use LearnError as L;
    match err {
        L::InvalidName(_) | L::InvalidSpec(_) | L::InvalidAlias(_) => {
            (StatusCode::BAD_REQUEST, "invalid_name")
        }
        L::ModelNotFound(..) | L::VersionNotFound { .. } | L::AliasNotFound { .. } => {
            (StatusCode::NOT_FOUND, "not_found")
        }
        L::Tracking(t) => tracking_kind(t),
        L::VersionAliased { .. } => (StatusCode::CONFLICT, "conflict"),
        L::CorruptManifest { .. } | L::FutureManifest { .. } | L::CorruptAliases { .. } => {
            (StatusCode::INTERNAL_SERVER_ERROR, "internal")
        }
        L::Io { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        // The rest are the request's columns, target or options not fitting the data.
        _ => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
    }
}

fn twin_kind(err: &TwinError) -> (StatusCode, &'static str) {
    match err {
        TwinError::RunMissing { .. } | TwinError::PlotMissing { .. } => {
            (StatusCode::NOT_FOUND, "not_found")
        }
        TwinError::InvalidRunId { .. } => (StatusCode::BAD_REQUEST, "invalid_name"),
        TwinError::RunExists { .. } => (StatusCode::CONFLICT, "conflict"),
        TwinError::Io { .. } | TwinError::ResultMalformed { .. } => {
            (StatusCode::INTERNAL_SERVER_ERROR, "internal")
        }
        _ => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input"),
    }
}

/// Status and code of an application error, from its innermost kind.
pub fn app_kind(err: &AppError) -> (StatusCode, &'static str) {
    match err.root() {
        AppError::Data(d) => data_kind(d),
        AppError::Learn(l) => learn_kind(l),
        AppError::Tracking(t) => tracking_kind(t),
        AppError::Twin(t) => twin_kind(t),
        AppError::Impact(_) | AppError::Invalid(_) | AppError::Predict(_) => {
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_input")
        }
        AppError::FileExists { .. } => (StatusCode::CONFLICT, "conflict"),
        AppError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
            (StatusCode::NOT_FOUND, "not_found")
        }
        _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
    }
}

impl From<AppError> for ApiError {
    fn from(err: AppError) -> ApiError {
        let (status, code) = app_kind(&err);
        ApiError::new(status, code, err.to_string()).with_causes(&err)
    }
}

impl From<crate::store::StoreError> for ApiError {
    fn from(err: crate::store::StoreError) -> ApiError {
        let status = match &err {
            crate::store::StoreError::NotFound(_) => StatusCode::NOT_FOUND,
            crate::store::StoreError::Exists(_) => StatusCode::CONFLICT,
            crate::store::StoreError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        let code = match status {
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::CONFLICT => "conflict",
            StatusCode::UNPROCESSABLE_ENTITY => "invalid_input",
            _ => "internal",
        };
        ApiError::new(status, code, err.to_string()).with_causes(&err)
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Error answers made below the handlers (the router's 404 and 405, the body limit's 413, the timeout's
/// 408) come as plain text: this rewrites them into the envelope, so every error a client sees has one shape.
pub async fn envelope_bare_errors(response: Response) -> Response {
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let is_json = response
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.starts_with("text/html"));
    // JSON errors are enveloped already; the dashboard's error pages are HTML on purpose.
    if is_json {
        return response;
    }
    let (code, message) = match status {
        StatusCode::NOT_FOUND => ("not_found", "no such route"),
        StatusCode::METHOD_NOT_ALLOWED => {
            ("method_not_allowed", "this route does not take that method")
        }
        StatusCode::PAYLOAD_TOO_LARGE => (
            "too_large",
            "the request body is larger than the server accepts",
        ),
        StatusCode::REQUEST_TIMEOUT => {
            ("timeout", "the request took longer than the server allows")
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "the request's Content-Type is not one this route reads",
        ),
        s if s.is_server_error() => ("internal", "the server failed"),
        _ => ("bad_request", "the request was refused"),
    };
    let mut out = ApiError::new(status, code, message).into_response();
    // Keep headers such as Allow (405) or WWW-Authenticate.
    for (name, value) in response.headers() {
        if name != axum::http::header::CONTENT_TYPE && name != axum::http::header::CONTENT_LENGTH {
            out.headers_mut().insert(name.clone(), value.clone());
        }
    }
    out
}
