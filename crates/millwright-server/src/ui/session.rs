//! Signing a browser in: the API token is exchanged once for a session cookie (HTTP-only,
//! SameSite=Strict, `Secure` under TLS) whose secret the server keeps only hashed. Every page gets a
//! [`Ctx`]: who is signed in, their CSRF token and their language. Changes through the dashboard go to
//! the same `/api/v1` routes as any client, authorised by the cookie plus the CSRF token in a header, so
//! the roles and the audit log are the API's own.

use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::Form;
use maud::html;
use serde::Deserialize;
use subtle::ConstantTimeEq;

use super::i18n::{common, Lang};
use super::layout;
use crate::store::{Role, TokenInfo};
use crate::AppState;

pub const SESSION_COOKIE: &str = "mw_session";
pub const LANG_COOKIE: &str = "mw_lang";
pub const CSRF_HEADER: &str = "x-csrf-token";
/// How long a sign-in lasts.
const SESSION_HOURS: i64 = 12;

/// A cookie's value from the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim_matches('"'))
}

/// The language a request asks for: its cookie, else the browser's first preference, else English.
pub fn lang(headers: &HeaderMap) -> Lang {
    if let Some(lang) = cookie(headers, LANG_COOKIE).and_then(Lang::parse) {
        return lang;
    }
    let accepted = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if accepted.trim_start().to_ascii_lowercase().starts_with("zh") {
        Lang::Zh
    } else {
        Lang::En
    }
}

/// A signed-in page request.
pub struct Ctx {
    pub token: TokenInfo,
    pub csrf: String,
    pub lang: Lang,
    /// The path asked for, for the language switch to come back to.
    pub path: String,
}

impl Ctx {
    pub fn may(&self, role: Role) -> bool {
        self.token.role >= role
    }

    /// Refuses a page or an action the role may not use (the API refuses it too).
    // The refusal is the answer itself, returned at once: boxing it would buy nothing.
    #[allow(clippy::result_large_err)]
    pub fn require(&self, role: Role) -> Result<(), Response> {
        if self.may(role) {
            Ok(())
        } else {
            Err(layout::error_page(
                self,
                StatusCode::FORBIDDEN,
                common(self.lang).forbidden,
            ))
        }
    }

    /// Checks a form's hidden CSRF field (for the dashboard's own form posts).
    #[allow(clippy::result_large_err)]
    pub fn check_csrf(&self, sent: &str) -> Result<(), Response> {
        if bool::from(sent.as_bytes().ct_eq(self.csrf.as_bytes())) {
            Ok(())
        } else {
            Err(layout::error_page(
                self,
                StatusCode::FORBIDDEN,
                "CSRF token missing or wrong: reload the page and try again.",
            ))
        }
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Ctx, Response> {
        let path = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/ui/".to_owned(), |p| p.as_str().to_owned());
        let to_login = || {
            let next = form_urlencoded::byte_serialize(path.as_bytes()).collect::<String>();
            Redirect::to(&format!("/ui/login?next={next}")).into_response()
        };
        let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login());
        };
        let store = state.store.clone();
        let secret = secret.to_owned();
        let found = tokio::task::spawn_blocking(move || store.session(&secret))
            .await
            .map_err(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())?
            .map_err(|e| crate::ApiError::from(e).into_response())?;
        match found {
            Some(session) => Ok(Ctx {
                token: session.token,
                csrf: session.csrf,
                lang: lang(&parts.headers),
                path,
            }),
            None => Err(to_login()),
        }
    }
}

/// Only same-origin pages may post to the dashboard: browsers say where a request comes from.
fn same_site(headers: &HeaderMap) -> bool {
    headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_none_or(|site| matches!(site, "same-origin" | "none"))
}

/// Where to go after signing in: a dashboard path only (no open redirect).
fn local_next(next: Option<&str>) -> &str {
    match next {
        Some(n) if n.starts_with("/ui/") && !n.starts_with("//") && !n.contains('\\') => n,
        _ => "/ui/",
    }
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

pub async fn login_page(headers: HeaderMap, Query(q): Query<NextQuery>) -> Response {
    login_form(
        lang(&headers),
        local_next(q.next.as_deref()),
        None,
        StatusCode::OK,
    )
}

fn login_form(lang: Lang, next: &str, error: Option<&str>, status: StatusCode) -> Response {
    let t = common(lang);
    let body = html! {
        main #content .login {
            h1 { (t.product) }
            form method="post" action="/ui/login" {
                input type="hidden" name="next" value=(next);
                label for="token" { (t.token) }
                input #token type="password" name="token" autocomplete="current-password" required autofocus;
                p .hint { (t.token_hint) }
                @if let Some(error) = error { p .error role="alert" { (error) } }
                button type="submit" { (t.sign_in) }
            }
            (layout::language_links(lang, "/ui/login"))
        }
    };
    layout::html_response(status, layout::document(lang, t.sign_in, None, body))
}

#[derive(Deserialize)]
pub struct LoginForm {
    token: String,
    next: Option<String>,
}

pub async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let lang = lang(&headers);
    let next = local_next(form.next.as_deref()).to_owned();
    if !same_site(&headers) {
        return login_form(
            lang,
            &next,
            Some(common(lang).forbidden),
            StatusCode::FORBIDDEN,
        );
    }
    let store = state.store.clone();
    let secret = form.token.trim().to_owned();
    let made = tokio::task::spawn_blocking(move || {
        store.create_session(&secret, chrono::Duration::hours(SESSION_HOURS))
    })
    .await;
    let session = match made {
        Ok(Ok(Some(session))) => session,
        Ok(Ok(None)) => {
            tracing::info!("dashboard sign-in refused: unknown or revoked token");
            return login_form(
                lang,
                &next,
                Some(common(lang).token_refused),
                StatusCode::UNAUTHORIZED,
            );
        }
        Ok(Err(e)) => return crate::ApiError::from(e).into_response(),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    tracing::info!(token = %session.token.name, "dashboard sign-in");
    let secure = if state.config.tls.is_some() {
        "; Secure"
    } else {
        ""
    };
    let cookie = format!(
        "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
        session.cookie,
        SESSION_HOURS * 3600
    );
    let mut response = Redirect::to(&next).into_response();
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[derive(Deserialize)]
pub struct CsrfForm {
    csrf: String,
}

pub async fn logout(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    if let Err(refused) = ctx.check_csrf(&form.csrf) {
        return refused;
    }
    if let Some(secret) = cookie(&headers, SESSION_COOKIE).map(str::to_owned) {
        let store = state.store.clone();
        let _ = tokio::task::spawn_blocking(move || store.end_session(&secret)).await;
    }
    let mut response = Redirect::to("/ui/login").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("mw_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    response
}

#[derive(Deserialize)]
pub struct LangQuery {
    to: String,
    back: Option<String>,
}

/// Switches the language and goes back to the page: a preference, remembered for a year.
pub async fn switch_lang(Query(q): Query<LangQuery>) -> Response {
    let Some(lang) = Lang::parse(&q.to) else {
        return (StatusCode::BAD_REQUEST, "unknown language").into_response();
    };
    let back = match q.back.as_deref() {
        Some(b) if b.starts_with("/ui/") && !b.starts_with("//") && !b.contains('\\') => b,
        _ => "/ui/",
    };
    let mut response = Redirect::to(back).into_response();
    let cookie = format!(
        "{LANG_COOKIE}={}; Path=/; SameSite=Strict; Max-Age=31536000",
        lang.code()
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; mw_session=mws_x; mw_lang=zh"),
        );
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("mws_x"));
        assert_eq!(lang(&headers), Lang::Zh);
        assert_eq!(cookie(&headers, "missing"), None);
    }

    #[test]
    fn only_dashboard_paths_are_followed_after_sign_in() {
        assert_eq!(local_next(Some("/ui/data")), "/ui/data");
        assert_eq!(local_next(Some("https://evil.example/")), "/ui/");
        assert_eq!(local_next(Some("//evil.example/ui/")), "/ui/");
        assert_eq!(local_next(Some("/ui/\\evil")), "/ui/");
        assert_eq!(local_next(None), "/ui/");
    }
}
