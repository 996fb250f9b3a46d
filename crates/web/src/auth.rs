//! Who is calling: a bearer token (`Authorization: Bearer mrd_…`) or a session cookie.
//!
//! The [`authenticate`] middleware resolves the caller once per request and enforces CSRF
//! protection: a request that rides on a session cookie and changes something must carry the
//! session's CSRF token, in the `X-CSRF-Token` header (htmx, scripts) or in a `csrf` form field
//! (plain forms). Bearer-token requests carry no ambient credentials and need none.

use crate::error::AppError;
use crate::state::AppState;
use axum::body::{Body, to_bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{HeaderMap, Method, header, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use meridian_domain::authz::Actor;
use meridian_store::users::User;

pub const SESSION_COOKIE: &str = "meridian_session";
pub const CSRF_HEADER: &str = "x-csrf-token";
const MAX_FORM_BYTES: usize = 256 * 1024;

/// The signed-in caller. Extracting it from a request without one fails with
/// `unauthenticated` (a 401 for the API, a redirect to the sign-in page for pages).
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    /// The session's CSRF token, for forms (none for bearer tokens).
    pub csrf: Option<String>,
    /// The session cookie's secret, to end the session on sign-out.
    pub session_token: Option<String>,
}

impl Caller {
    pub fn actor(&self) -> Actor {
        self.user.actor()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, AppError> {
        parts
            .extensions
            .get::<Caller>()
            .cloned()
            .ok_or(AppError::Unauthenticated)
    }
}

/// The caller if there is one, for pages that also work signed out.
#[derive(Debug, Clone)]
pub struct MaybeCaller(pub Option<Caller>);

impl<S: Send + Sync> FromRequestParts<S> for MaybeCaller {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(MaybeCaller(parts.extensions.get::<Caller>().cloned()))
    }
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

pub async fn authenticate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match resolve(&state, req).await {
        Ok(req) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

async fn resolve(state: &AppState, mut req: Request) -> Result<Request, AppError> {
    if let Some(token) = bearer(req.headers()) {
        let user = state
            .store
            .user_for_token(token)
            .await?
            .ok_or(AppError::Unauthenticated)?;
        req.extensions_mut().insert(Caller {
            user,
            csrf: None,
            session_token: None,
        });
        return Ok(req);
    }
    let Some(token) = cookie(req.headers(), SESSION_COOKIE).map(str::to_owned) else {
        return Ok(req);
    };
    let Some(session) = state.store.session(&token).await? else {
        return Ok(req);
    };
    if !is_safe(req.method()) {
        req = check_csrf(req, &session.csrf_token).await?;
    }
    if session.user.must_change_password && !allowed_before_password_change(req.uri().path()) {
        return Err(AppError::PasswordChangeRequired);
    }
    req.extensions_mut().insert(Caller {
        user: session.user,
        csrf: Some(session.csrf_token),
        session_token: Some(token),
    });
    Ok(req)
}

/// What an account with a generated password may still reach: changing it, signing out,
/// the language switch and the static files.
fn allowed_before_password_change(path: &str) -> bool {
    matches!(
        path,
        "/account/password"
            | "/logout"
            | "/api/v1/me"
            | "/api/v1/me/password"
            | "/api/v1/auth/logout"
            | "/healthz"
    ) || path.starts_with("/lang/")
        || path.starts_with("/static/")
}

/// Accepts the request if it carries the session's CSRF token; a form body is read and put back.
async fn check_csrf(req: Request, expected: &str) -> Result<Request, AppError> {
    if let Some(sent) = req.headers().get(CSRF_HEADER) {
        return match sent.to_str() {
            Ok(sent) if constant_time_eq(sent, expected) => Ok(req),
            _ => Err(AppError::Csrf),
        };
    }
    let is_form = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(AppError::Csrf);
    }
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| AppError::invalid("form", "the form is larger than 256 KB"))?;
    let sent = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == "csrf")
        .map(|(_, v)| v.into_owned());
    match sent {
        Some(sent) if constant_time_eq(&sent, expected) => {
            Ok(Request::from_parts(parts, Body::from(bytes)))
        }
        _ => Err(AppError::Csrf),
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// `Set-Cookie` for a session; `Secure` when the request came over TLS.
pub fn session_cookie(token: &str, secure: bool) -> String {
    let max_age = meridian_store::sessions::SESSION_LIFETIME.whole_seconds();
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    )
}

pub fn clear_session_cookie(secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{}",
        if secure { "; Secure" } else { "" }
    )
}

/// Whether cookies should be `Secure`: configured so, or the proxy says the client used TLS.
pub fn over_tls(state: &AppState, headers: &HeaderMap) -> bool {
    state.config.secure_cookies
        || headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
}

/// Keys for the sign-in rate limit: the email, and the client's address.
pub fn limit_keys(email: &str, addr: Option<std::net::SocketAddr>) -> Vec<String> {
    let mut keys = vec![format!("email:{}", email.trim().to_lowercase())];
    if let Some(addr) = addr {
        keys.push(format!("ip:{}", addr.ip()));
    }
    keys
}
