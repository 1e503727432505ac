//! The dashboard's scripts, styles and icon, compiled into the binary: a plant's intranet has no CDN.
//! Four small files do not need an embedding crate; each is served with an ETag, and pages link them
//! with the content's hash in the URL so a new binary's assets are never mixed with cached old ones.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

struct Asset {
    name: &'static str,
    mime: &'static str,
    body: &'static [u8],
}

const ASSETS: &[Asset] = &[
    Asset {
        name: "app.js",
        mime: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/app.js"),
    },
    Asset {
        name: "app.css",
        mime: "text/css; charset=utf-8",
        body: include_bytes!("../../assets/app.css"),
    },
    // uPlot 1.6.32 (MIT, assets/uPlot.LICENSE), from npm: the time-series and curve charts.
    Asset {
        name: "uPlot.iife.min.js",
        mime: "text/javascript; charset=utf-8",
        body: include_bytes!("../../assets/uPlot.iife.min.js"),
    },
    Asset {
        name: "uPlot.min.css",
        mime: "text/css; charset=utf-8",
        body: include_bytes!("../../assets/uPlot.min.css"),
    },
    Asset {
        name: "icon.svg",
        mime: "image/svg+xml",
        body: include_bytes!("../../assets/icon.svg"),
    },
];

/// Each asset's content hash (16 hex digits), computed once.
fn hashes() -> &'static Vec<String> {
    static HASHES: OnceLock<Vec<String>> = OnceLock::new();
    HASHES.get_or_init(|| {
        ASSETS
            .iter()
            .map(|a| {
                Sha256::digest(a.body)
                    .iter()
                    .take(8)
                    .map(|b| format!("{b:02x}"))
                    .collect()
            })
            .collect()
    })
}

/// The URL a page links an asset by.
pub fn href(name: &str) -> String {
    match ASSETS.iter().position(|a| a.name == name) {
        Some(i) => format!("/ui/static/{name}?v={}", hashes()[i]),
        None => format!("/ui/static/{name}"),
    }
}

pub async fn serve(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some(i) = ASSETS.iter().position(|a| a.name == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let asset = &ASSETS[i];
    let etag = format!("\"{}\"", hashes()[i]);
    if headers
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return StatusCode::NOT_MODIFIED.into_response();
    }
    let mut response = asset.body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.mime));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=86400"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    response
}

#[cfg(test)]
mod tests {
    #[test]
    fn scripts_and_styles_stay_within_the_page_weight_budget() {
        // The budget: the JS and CSS a page loads, under 250 KB.
        let total: usize = super::ASSETS
            .iter()
            .filter(|a| a.mime.starts_with("text/"))
            .map(|a| a.body.len())
            .sum();
        assert!(total < 250_000, "{total} bytes");
    }
}
