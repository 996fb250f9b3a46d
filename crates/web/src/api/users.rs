//! User accounts, for administrators within their scope.

use crate::api::auth::UserView;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use meridian_domain::authz::Role;
use meridian_domain::org::UnitCode;
use meridian_store::users::{NewUser, UserChanges};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub fn parse_unit(raw: &str) -> AppResult<UnitCode> {
    UnitCode::parse(raw).map_err(|m| AppError::invalid("unit", m))
}

pub fn parse_roles(raw: &[String]) -> AppResult<Vec<Role>> {
    if raw.is_empty() {
        return Err(AppError::invalid(
            "roles",
            "give at least one role, e.g. viewer",
        ));
    }
    raw.iter()
        .map(|r| Role::parse(r).map_err(|m| AppError::invalid("roles", m)))
        .collect()
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UserFilter {
    /// Only accounts of this unit.
    pub unit: Option<String>,
}

/// Accounts the caller administers.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(UserFilter),
    responses((status = 200, body = [UserView]), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<UserFilter>,
) -> AppResult<Json<Vec<UserView>>> {
    let snap = state.org();
    let unit = filter.unit.as_deref().map(parse_unit).transpose()?;
    if let Some(unit) = &unit {
        crate::api::org::find_unit(&snap.org, unit.as_str())?;
    }
    let users = state
        .store
        .list_users(&snap.org, &caller.actor(), unit.as_ref())
        .await?;
    Ok(Json(users.iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CreateUserRequest {
    pub email: String,
    #[serde(default)]
    pub name: String,
    /// The unit's code.
    pub unit: String,
    pub roles: Vec<String>,
    /// Leave out to have one generated (returned once; changed at first sign-in).
    pub password: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CreatedUserView {
    pub user: UserView,
    pub generated_password: Option<String>,
}

/// Creates an account in a unit the caller administers.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUserRequest,
    responses((status = 201, body = CreatedUserView), (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<CreateUserRequest>,
) -> AppResult<(StatusCode, Json<CreatedUserView>)> {
    let snap = state.org();
    let created = state
        .store
        .create_user(
            &snap.org,
            &caller.actor(),
            NewUser {
                email: body.email,
                name: body.name,
                unit: parse_unit(&body.unit)?,
                roles: parse_roles(&body.roles)?,
                password: body.password,
            },
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedUserView {
            user: (&created.user).into(),
            generated_password: created.generated_password,
        }),
    ))
}

/// One account: one's own, or one the caller administers.
#[utoipa::path(get, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = String, Path)),
    responses((status = 200, body = UserView), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<Json<UserView>> {
    let user = state
        .store
        .user(&state.org().org, &caller.actor(), &id)
        .await?;
    Ok(Json((&user).into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UpdateUserRequest {
    pub name: Option<String>,
    pub unit: Option<String>,
    pub roles: Option<Vec<String>>,
    pub disabled: Option<bool>,
    /// The version you read; a stale one gets 409.
    pub version: i64,
}

/// Changes an account's name, unit, roles or disabled state.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", params(("id" = String, Path)),
    request_body = UpdateUserRequest,
    responses((status = 200, body = UserView), (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<UpdateUserRequest>,
) -> AppResult<Json<UserView>> {
    let changes = UserChanges {
        name: body.name,
        unit: body.unit.as_deref().map(parse_unit).transpose()?,
        roles: body.roles.as_deref().map(parse_roles).transpose()?,
        disabled: body.disabled,
        version: body.version,
    };
    let user = state
        .store
        .update_user(&state.org().org, &caller.actor(), &id, changes)
        .await?;
    Ok(Json((&user).into()))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TokenRequest {
    /// What the token is for, e.g. "reporting script".
    #[serde(default)]
    pub label: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenResponse {
    /// Shown once. Send as `Authorization: Bearer <token>`.
    pub token: String,
}

/// Issues an API token for an account (one's own, or one the caller administers).
#[utoipa::path(post, path = "/api/v1/users/{id}/tokens", tag = "users", params(("id" = String, Path)),
    request_body = TokenRequest,
    responses((status = 201, body = TokenResponse), (status = 403, body = crate::error::ErrorBody)))]
pub async fn issue_token(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<TokenRequest>,
) -> AppResult<(StatusCode, Json<TokenResponse>)> {
    let token = state
        .store
        .issue_token(&state.org().org, &caller.actor(), &id, &body.label)
        .await?;
    Ok((StatusCode::CREATED, Json(TokenResponse { token })))
}
