//! The frame every page shares: head with the embedded assets, navigation, language switch, sign-out,
//! and the security headers of a page (a strict CSP: scripts and styles from this server only).

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::assets;
use super::i18n::{common, role_name, Lang};
use super::session::Ctx;
use crate::store::Role;

/// The dashboard's sections, in navigation order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Overview,
    Data,
    Models,
    Train,
    Twin,
    Business,
    Admin,
}

impl Section {
    const ALL: [Section; 7] = [
        Section::Overview,
        Section::Data,
        Section::Models,
        Section::Train,
        Section::Twin,
        Section::Business,
        Section::Admin,
    ];

    fn href(self) -> &'static str {
        match self {
            Section::Overview => "/ui/",
            Section::Data => "/ui/data",
            Section::Models => "/ui/models",
            Section::Train => "/ui/train",
            Section::Twin => "/ui/twin",
            Section::Business => "/ui/business",
            Section::Admin => "/ui/admin",
        }
    }

    fn label(self, lang: Lang) -> &'static str {
        let t = common(lang);
        match self {
            Section::Overview => t.overview,
            Section::Data => t.data,
            Section::Models => t.models,
            Section::Train => t.train,
            Section::Twin => t.twin,
            Section::Business => t.business,
            Section::Admin => t.admin,
        }
    }

    /// The least role that sees the section in the navigation.
    fn role(self) -> Role {
        match self {
            Section::Train => Role::Operator,
            Section::Admin => Role::Admin,
            _ => Role::Viewer,
        }
    }
}

/// A whole HTML document around `body`.
pub fn document(lang: Lang, title: &str, csrf: Option<&str>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang=(lang.html_lang()) data-working=(common(lang).working) data-done=(common(lang).done) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(csrf) = csrf { meta name="csrf-token" content=(csrf); }
                title { (title) " · " (common(lang).product) }
                link rel="stylesheet" href=(assets::href("app.css"));
                link rel="stylesheet" href=(assets::href("uPlot.min.css"));
                link rel="icon" href=(assets::href("icon.svg")) type="image/svg+xml";
                script src=(assets::href("uPlot.iife.min.js")) defer {}
                script src=(assets::href("app.js")) defer {}
            }
            body { (body) }
        }
    }
}

/// The language switch: links that set the cookie and come back to `back`.
pub fn language_links(lang: Lang, back: &str) -> Markup {
    let back = form_urlencoded::byte_serialize(back.as_bytes()).collect::<String>();
    html! {
        nav .langs aria-label=(common(lang).language) {
            @for other in Lang::ALL {
                @if other == lang {
                    span aria-current="true" { (other.own_name()) }
                } @else {
                    a href={ "/ui/lang?to=" (other.code()) "&back=" (back) } hreflang=(other.html_lang()) lang=(other.html_lang()) { (other.own_name()) }
                }
            }
        }
    }
}

fn header_bar(ctx: &Ctx, active: Section) -> Markup {
    let t = common(ctx.lang);
    html! {
        a .skip href="#content" { (t.skip_to_content) }
        header .top {
            a .brand href="/ui/" { "智造 " span translate="no" { "Millwright" } }
            nav .sections aria-label=(t.main_navigation) {
                @for section in Section::ALL {
                    @if ctx.may(section.role()) {
                        a href=(section.href()) aria-current=[(section == active).then_some("page")] { (section.label(ctx.lang)) }
                    }
                }
            }
            div .who {
                span { (t.signed_in_as) " " b translate="no" { (ctx.token.name) } " · " (role_name(ctx.lang, ctx.token.role)) }
                (language_links(ctx.lang, &ctx.path))
                form method="post" action="/ui/logout" {
                    input type="hidden" name="csrf" value=(ctx.csrf);
                    button .link type="submit" { (t.sign_out) }
                }
            }
        }
        div #live-status .banner hidden role="status" { (t.live_reconnecting) }
    }
}

/// A signed-in page: the frame, the CSRF token for the scripts, the content.
pub fn page(ctx: &Ctx, active: Section, title: &str, content: Markup) -> Response {
    page_with_status(ctx, active, title, content, StatusCode::OK)
}

fn page_with_status(
    ctx: &Ctx,
    active: Section,
    title: &str,
    content: Markup,
    status: StatusCode,
) -> Response {
    let body = html! {
        (header_bar(ctx, active))
        main #content tabindex="-1" { (content) }
    };
    html_response(status, document(ctx.lang, title, Some(&ctx.csrf), body))
}

/// A page telling what went wrong, inside the frame.
pub fn error_page(ctx: &Ctx, status: StatusCode, message: &str) -> Response {
    let t = common(ctx.lang);
    let title = if status == StatusCode::NOT_FOUND {
        t.not_found
    } else {
        t.failed
    };
    page_with_status(
        ctx,
        Section::Overview,
        title,
        html! { h1 { (title) } p .error role="alert" { (message) } p { a href="/ui/" { (t.back) } } },
        status,
    )
}

/// An HTML answer with the page's security headers.
pub fn html_response(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    response
}

/// Data for a page's script, as JSON in an inert `<script type="application/json">` block (allowed by
/// the CSP, never executed). Every `<` is written `\u003c`, so no value can close the block.
pub fn json_block(id: &str, value: &serde_json::Value) -> Markup {
    let text = value.to_string().replace('<', "\\u003c");
    html! { script type="application/json" id=(id) { (PreEscaped(text)) } }
}
