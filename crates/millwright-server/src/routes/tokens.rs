//! API tokens over HTTP (admin only, every change audited): the same store calls as `millwright token
//! create|list|revoke`. A new token's secret is in the creating answer only (never stored, never logged).

use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

use crate::error::{ApiError, ApiResult};
use crate::store::{NewToken, Role, TokenInfo};
use crate::AppState;

async fn blocking<T, F>(work: F) -> ApiResult<T>
where
    F: FnOnce() -> Result<T, crate::StoreError> + Send + 'static,
    T: Send + 'static,
{
    Ok(tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::internal(format!("the token store stopped: {e}")))??)
}

/// Every token: name, role, created, revoked; never a secret.
#[utoipa::path(get, path = "/tokens", tag = "admin",
    responses((status = 200, description = "The tokens", body = Vec<TokenInfo>),
              (status = 403, description = "Not an admin token", body = crate::ErrorBody)))]
pub async fn list(State(state): State<AppState>) -> ApiResult<Json<Vec<TokenInfo>>> {
    let store = state.store.clone();
    Ok(Json(blocking(move || store.list_tokens()).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateToken {
    /// Letters, digits, `-`, `_`, `.`.
    pub name: String,
    pub role: Role,
}

/// Makes a token; the answer holds its secret, shown this once (`Cache-Control: no-store`).
#[utoipa::path(post, path = "/tokens", tag = "admin", request_body = CreateToken,
    responses((status = 201, description = "The token and its secret", body = NewToken),
              (status = 403, description = "Not an admin token", body = crate::ErrorBody),
              (status = 409, description = "An active token has that name", body = crate::ErrorBody),
              (status = 422, description = "Invalid name or role", body = crate::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    body: super::JsonBody<CreateToken>,
) -> ApiResult<impl IntoResponse> {
    let store = state.store.clone();
    let CreateToken { name, role } = body.0;
    let made = blocking(move || store.create_token(&name, role)).await?;
    Ok((
        StatusCode::CREATED,
        [(header::CACHE_CONTROL, "no-store")],
        Json(made),
    ))
}

/// Revokes a token: the next request carrying it is refused.
#[utoipa::path(delete, path = "/tokens/{name}", tag = "admin",
    params(("name" = String, Path, description = "Token name")),
    responses((status = 200, description = "The token, revoked", body = TokenInfo),
              (status = 403, description = "Not an admin token", body = crate::ErrorBody),
              (status = 404, description = "No active token of that name", body = crate::ErrorBody)))]
pub async fn revoke(
    State(state): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<TokenInfo>> {
    let store = state.store.clone();
    let revoked = blocking(move || {
        store.revoke_token(&name)?;
        store
            .list_tokens()?
            .into_iter()
            .find(|t| t.name == name)
            .ok_or_else(|| crate::StoreError::NotFound(format!("no token named {name:?}")))
    })
    .await?;
    Ok(Json(revoked))
}
