//! Signing in and out through the API, and who am I.

use crate::auth::{Caller, clear_session_cookie, limit_keys, over_tls, session_cookie};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use meridian_store::users::User;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use utoipa::ToSchema;

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginRequest {
    pub email: String,
    pub password: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub id: String,
    pub email: String,
    pub name: String,
    /// The unit's code.
    pub unit: String,
    pub roles: Vec<String>,
    pub disabled: bool,
    /// Set for accounts with a generated password: change it before anything else.
    pub must_change_password: bool,
    /// For optimistic concurrency: send it back with a PATCH.
    pub version: i64,
}

impl From<&User> for UserView {
    fn from(u: &User) -> Self {
        Self {
            id: u.id.clone(),
            email: u.email.clone(),
            name: u.name.clone(),
            unit: u.unit.to_string(),
            roles: u.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            disabled: u.disabled,
            must_change_password: u.must_change_password,
            version: u.version,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct LoginResponse {
    pub user: UserView,
    /// Send as `X-CSRF-Token` with every change made on this session cookie.
    pub csrf_token: String,
}

/// Signs in with email and password; the session travels in an HttpOnly cookie.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse, description = "Signed in; sets the session cookie"),
        (status = 422, body = crate::error::ErrorBody, description = "Wrong email or password"),
        (status = 429, body = crate::error::ErrorBody, description = "Too many failed attempts")))]
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(addr): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Json(body): Json<LoginRequest>,
) -> AppResult<Response> {
    let session = state
        .store
        .sign_in(
            &body.email,
            &body.password,
            &limit_keys(&body.email, Some(addr)),
        )
        .await?;
    let cookie = session_cookie(&session.token, over_tls(&state, &headers));
    Ok((
        [(header::SET_COOKIE, cookie)],
        Json(LoginResponse {
            user: (&session.user).into(),
            csrf_token: session.csrf_token,
        }),
    )
        .into_response())
}

/// Ends the current session.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth",
    responses((status = 204, description = "Signed out"), (status = 401, body = crate::error::ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    caller: Caller,
) -> AppResult<Response> {
    let Some(token) = &caller.session_token else {
        return Err(AppError::invalid(
            "session",
            "bearer tokens are not sessions; nothing to sign out of",
        ));
    };
    state.store.sign_out(token, &caller.user).await?;
    Ok((
        axum::http::StatusCode::NO_CONTENT,
        [(
            header::SET_COOKIE,
            clear_session_cookie(over_tls(&state, &headers)),
        )],
    )
        .into_response())
}

/// The signed-in user.
#[utoipa::path(get, path = "/api/v1/me", tag = "auth",
    responses((status = 200, body = UserView), (status = 401, body = crate::error::ErrorBody)))]
pub async fn me(caller: Caller) -> Json<UserView> {
    Json((&caller.user).into())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct PasswordChange {
    pub current_password: String,
    /// At least 12 characters.
    pub new_password: String,
}

/// Changes one's own password (required first for accounts with a generated password).
#[utoipa::path(post, path = "/api/v1/me/password", tag = "auth", request_body = PasswordChange,
    responses((status = 204, description = "Changed"), (status = 422, body = crate::error::ErrorBody)))]
pub async fn change_password(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<PasswordChange>,
) -> AppResult<axum::http::StatusCode> {
    state
        .store
        .set_password(
            &state.org().org,
            &caller.actor(),
            &caller.user.id,
            Some(&body.current_password),
            &body.new_password,
        )
        .await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
