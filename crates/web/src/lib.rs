//! Meridian's HTTP face: the JSON API under `/api/v1` ([`api`]) and the server-rendered pages
//! ([`ui`]), sharing one state, one authentication middleware and one error type.

pub mod api;
pub mod auth;
pub mod error;
pub mod i18n;
pub mod iati_feed;
pub mod state;
mod static_files;
pub mod ui;

use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware;
use axum::routing::get;
use std::net::SocketAddr;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;

pub use state::{AppState, Config, OrgSnapshot, TimeLimits};

const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' data:; style-src 'self'; \
     script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// The whole application.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .merge(api::router())
        .merge(iati_feed::router())
        .merge(ui::router(state.clone()))
        .merge(static_files::router())
        .layer(middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("referrer-policy"),
            HeaderValue::from_static("same-origin"),
        ))
        .layer(CompressionLayer::new())
        .layer(middleware::from_fn_with_state(state.clone(), time_limit))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}

/// Requests that may take minutes: an IATI file of up to 1 GiB, received and imported.
const LONG_REQUESTS: &[&str] = &[api::iati::IMPORT_PATH, ui::IATI_IMPORT_PATH];

/// How long a request may take before it is answered 408 (and its work dropped: a store
/// transaction not committed is rolled back): `Config::time_limits`, the long limit for
/// [`LONG_REQUESTS`]. The response's body, once begun, is not timed.
async fn time_limit(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let limits = state.config.time_limits;
    let limit = if LONG_REQUESTS.contains(&req.uri().path()) {
        limits.long_request
    } else {
        limits.request
    };
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => axum::http::StatusCode::REQUEST_TIMEOUT.into_response(),
    }
}

/// Serves the application on a bound listener until the future `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(
        listener,
        app(state).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
