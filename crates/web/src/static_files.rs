//! Stylesheet and scripts, embedded in the binary and served with long cache lifetimes: their
//! names carry a version, so a new release gets new URLs.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

pub const CSS_PATH: &str = concat!("/static/app-", env!("CARGO_PKG_VERSION"), ".css");
pub const HTMX_PATH: &str = "/static/htmx-2.0.11.min.js";
pub const JS_PATH: &str = concat!("/static/app-", env!("CARGO_PKG_VERSION"), ".js");

const CSS: &str = include_str!("../static/app.css");
const HTMX: &str = include_str!("../static/htmx-2.0.11.min.js");
const JS: &str = include_str!("../static/app.js");
const CACHE_FOREVER: &str = "public, max-age=31536000, immutable";

pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route(
            CSS_PATH,
            get(|| async {
                (
                    [
                        (header::CONTENT_TYPE, "text/css; charset=utf-8"),
                        (header::CACHE_CONTROL, CACHE_FOREVER),
                    ],
                    CSS,
                )
                    .into_response()
            }),
        )
        .route(HTMX_PATH, get(|| async { script(HTMX) }))
        .route(JS_PATH, get(|| async { script(JS) }))
}

fn script(body: &'static str) -> axum::response::Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, CACHE_FOREVER),
        ],
        body,
    )
        .into_response()
}
