//! Who may do what: a bearer token names a stored token and its role; reads need viewer, `POST`/`PUT`/
//! `PATCH` operator, `DELETE`, restoring from the trash, the tokens and the audit log admin. Every
//! mutating request is written to the audit log with its outcome, refused ones included. Secrets are
//! never logged.

use axum::extract::{MatchedPath, OriginalUri, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::Modify;

use crate::error::ApiError;
use crate::store::{AuditRecord, Role, TokenInfo};
use crate::AppState;
use subtle::ConstantTimeEq;

/// The token a request was authenticated with, for handlers (`Extension<Caller>`).
#[derive(Debug, Clone)]
pub struct Caller(pub TokenInfo);

/// Adds the bearer scheme to the OpenAPI document.
pub struct BearerScheme;

impl Modify for BearerScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token from `millwright token create` (mw_…)"))
                    .build(),
            ),
        );
    }
}

pub fn is_mutating(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

/// Mutating requests are audited; a prediction changes nothing stored (it is counted in `/metrics`).
fn is_audited(method: &Method, route: &str) -> bool {
    is_mutating(method) && !route.ends_with("/predict")
}

/// The least role a request needs.
fn required_role(method: &Method, path: &str) -> Role {
    if *method == Method::DELETE
        || path.starts_with("/api/v1/audit")
        || path.starts_with("/api/v1/tokens")
        || (is_mutating(method) && path.starts_with("/api/v1/trash"))
    {
        Role::Admin
    } else if is_mutating(method) {
        Role::Operator
    } else {
        Role::Viewer
    }
}

fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

/// A signed-in dashboard's session, accepted in place of a bearer token. A change made with it must carry
/// the session's CSRF token in `X-CSRF-Token` (a cross-site page cannot read it), on top of the cookie's
/// SameSite=Strict.
fn check_session(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    method: &Method,
    cookie: &str,
) -> Result<TokenInfo, ApiError> {
    let Some(session) = state.store.session(cookie)? else {
        return Err(ApiError::unauthorized(
            "the session has expired or its token was revoked: sign in again",
        ));
    };
    if is_mutating(method) {
        let sent = headers
            .get(crate::ui::session::CSRF_HEADER)
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if !bool::from(sent.ct_eq(session.csrf.as_bytes())) {
            return Err(ApiError::forbidden(
                "a change made with a session cookie needs the session's X-CSRF-Token header",
            ));
        }
    }
    Ok(session.token)
}

fn check(
    state: &AppState,
    headers: &axum::http::HeaderMap,
    method: &Method,
) -> Result<TokenInfo, ApiError> {
    let Some(secret) = bearer(headers) else {
        if let Some(cookie) =
            crate::ui::session::cookie(headers, crate::ui::session::SESSION_COOKIE)
        {
            return check_session(state, headers, method, cookie);
        }
        return Err(ApiError::unauthorized(
            "this route needs an API token: Authorization: Bearer <token>",
        ));
    };
    // Inline, not on a blocking thread: the check is a lookup in memory plus one `PRAGMA data_version`
    // (microseconds), and the hop to a blocking thread and back cost more than the whole request.
    let found = state.store.authenticate(secret)?;
    let Some(token) = found else {
        return Err(ApiError::unauthorized("the token is unknown or revoked"));
    };
    Ok(token)
}

fn permit(token: &TokenInfo, method: &Method, path: &str) -> Result<(), ApiError> {
    let needed = required_role(method, path);
    if token.role < needed {
        return Err(ApiError::forbidden(format!(
            "token {:?} has role {}; this request needs {needed}",
            token.name, token.role
        )));
    }
    Ok(())
}

/// Authenticates, authorises and audits each request below `/api/v1`.
pub async fn authorize(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let method = req.method().clone();
    // Below `nest` the URI has lost its `/api/v1` prefix; the original one has it.
    let target = req
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| req.uri().path().to_owned(), |u| u.path().to_owned());
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| target.clone(), |m| m.as_str().to_owned());
    let checked = check(&state, req.headers(), &method);
    let (token, response) = match checked {
        Ok(token) => match permit(&token, &method, &target) {
            Ok(()) => {
                req.extensions_mut().insert(Caller(token.clone()));
                (Some(token), next.run(req).await)
            }
            Err(err) => (Some(token), err.into_response()),
        },
        Err(err) => (None, err.into_response()),
    };
    if is_audited(&method, &route) {
        let record = AuditRecord {
            token: token
                .as_ref()
                .map_or_else(|| "-".to_owned(), |t| t.name.clone()),
            role: token.as_ref().map(|t| t.role),
            method: method.to_string(),
            route,
            target,
            status: response.status().as_u16(),
        };
        write_audit(&state, record).await;
    }
    response
}

/// Writes one audit row off the async threads; a failure is logged, it does not change the answer.
pub async fn write_audit(state: &AppState, record: AuditRecord) {
    let store = state.store.clone();
    let written = tokio::task::spawn_blocking(move || store.audit(&record)).await;
    match written {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "cannot write the audit log"),
        Err(e) => tracing::error!(error = %e, "the audit writer stopped"),
    }
}
