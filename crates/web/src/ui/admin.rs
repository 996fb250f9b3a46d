//! Administration pages: user accounts within the administrator's scope, and the audit trail.

use super::{EventRow, Fields, Shell, render, urlencode};
use crate::api::audit::AuditFilter;
use crate::api::users::{parse_roles, parse_unit};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::state::AppState;
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use meridian_domain::authz::{Action, Role, authorize};
use meridian_domain::org::Scope;
use meridian_store::users::{NewUser, User, UserChanges};
use serde::Deserialize;

pub struct UserForm {
    email: String,
    name: String,
    unit: String,
    roles: Vec<(&'static str, bool)>,
}

impl UserForm {
    fn new(email: String, name: String, unit: String, roles: &[String]) -> Self {
        Self {
            email,
            name,
            unit,
            roles: Role::ALL
                .iter()
                .map(|r| (r.as_str(), roles.iter().any(|x| x == r.as_str())))
                .collect(),
        }
    }
}

/// Units an administrator may put accounts in, for the form's suggestions.
fn unit_options(state: &AppState, caller: &Caller) -> Vec<(String, String)> {
    let snap = state.org();
    let scope = caller.actor().scope(&snap.org);
    snap.org
        .units_in_scope(&scope)
        .into_iter()
        .filter_map(|c| snap.org.unit(c.as_str()))
        .map(|u| (u.code.to_string(), u.name.clone()))
        .collect()
}

#[derive(Template)]
#[template(path = "admin/users.html")]
struct UsersPage {
    shell: Shell,
    unit: Option<String>,
    users: Vec<crate::api::auth::UserView>,
}

#[derive(Deserialize)]
pub struct UnitQuery {
    unit: Option<String>,
}

async fn users_page(
    state: &AppState,
    t: Tr,
    uri: &Uri,
    caller: &Caller,
    unit: Option<String>,
) -> AppResult<Response> {
    let snap = state.org();
    let actor = caller.actor();
    let code = match unit.as_deref().filter(|u| !u.is_empty()) {
        Some(raw) => {
            let code = parse_unit(raw)?;
            crate::api::org::find_unit(&snap.org, code.as_str())?;
            Some(code)
        }
        None => {
            // The list without a unit still needs the right to administer somewhere.
            authorize(&snap.org, &actor, Action::ViewUsers, &caller.user.unit)?;
            None
        }
    };
    let users = state
        .store
        .list_users(&snap.org, &actor, code.as_ref())
        .await?;
    render(&UsersPage {
        shell: Shell::new(t, Some(caller), "users", uri),
        unit: code.map(|c| c.to_string()),
        users: users.iter().map(Into::into).collect(),
    })
}

pub async fn users(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Query(q): Query<UnitQuery>,
) -> AppResult<Response> {
    users_page(&state, t, &uri, &caller, q.unit).await
}

/// A unit's administration page: its accounts. Refused outside the administrator's scope.
pub async fn unit_users(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(code): Path<String>,
) -> AppResult<Response> {
    users_page(&state, t, &uri, &caller, Some(code)).await
}

#[derive(Template)]
#[template(path = "admin/user_new.html")]
struct NewUserPage {
    shell: Shell,
    form: UserForm,
    unit_options: Vec<(String, String)>,
    error: Option<String>,
}

pub async fn new_user_page(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Query(q): Query<UnitQuery>,
) -> AppResult<Response> {
    let snap = state.org();
    authorize(
        &snap.org,
        &caller.actor(),
        Action::ManageUsers,
        &caller.user.unit,
    )?;
    let unit = q.unit.unwrap_or_else(|| caller.user.unit.to_string());
    render(&NewUserPage {
        form: UserForm::new(String::new(), String::new(), unit, &["viewer".to_owned()]),
        unit_options: unit_options(&state, &caller),
        shell: Shell::new(t, Some(&caller), "users", &uri),
        error: None,
    })
}

pub async fn create_user(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    body: Bytes,
) -> AppResult<Response> {
    let fields = Fields::parse(&body);
    let roles = fields.all("roles");
    let form = UserForm::new(
        fields.get("email"),
        fields.get("name"),
        fields.get("unit"),
        &roles,
    );
    let attempt = async {
        let new = NewUser {
            email: form.email.clone(),
            name: form.name.clone(),
            unit: parse_unit(&form.unit)?,
            roles: parse_roles(&roles)?,
            password: None,
        };
        Ok::<_, AppError>(
            state
                .store
                .create_user(&state.org().org, &caller.actor(), new)
                .await?,
        )
    };
    match attempt.await {
        Ok(created) => {
            let secret = created.generated_password.unwrap_or_default();
            user_view(
                &state,
                t,
                &uri,
                &caller,
                created.user,
                Some(secret),
                "admin.generated_password",
                None,
            )
            .await
        }
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict(_))) => {
            let mut page = render(&NewUserPage {
                form,
                unit_options: unit_options(&state, &caller),
                shell: Shell::new(t, Some(&caller), "users", &uri),
                error: Some(e.to_string()),
            })?;
            *page.status_mut() = e.status();
            Ok(page)
        }
        Err(e) => Err(e),
    }
}

#[derive(Template)]
#[template(path = "admin/user.html")]
struct UserPage {
    shell: Shell,
    user: crate::api::auth::UserView,
    form: UserForm,
    unit_options: Vec<(String, String)>,
    secret: Option<String>,
    secret_label: &'static str,
    error: Option<String>,
    events: Vec<EventRow>,
}

#[allow(clippy::too_many_arguments)]
async fn user_view(
    state: &AppState,
    t: Tr,
    uri: &Uri,
    caller: &Caller,
    user: User,
    secret: Option<String>,
    secret_key: &'static str,
    error: Option<AppError>,
) -> AppResult<Response> {
    let events = crate::api::audit::search(
        state,
        caller,
        &AuditFilter {
            entity: Some("user".into()),
            id: Some(user.id.clone()),
            limit: Some(50),
            ..Default::default()
        },
    )
    .await
    .unwrap_or_default();
    let roles: Vec<String> = user.roles.iter().map(|r| r.as_str().to_owned()).collect();
    let mut page = render(&UserPage {
        form: UserForm::new(
            user.email.clone(),
            user.name.clone(),
            user.unit.to_string(),
            &roles,
        ),
        user: (&user).into(),
        unit_options: unit_options(state, caller),
        secret_label: t.get(secret_key),
        secret,
        error: error.as_ref().map(ToString::to_string),
        shell: Shell::new(t, Some(caller), "users", uri),
        events: events.into_iter().map(Into::into).collect(),
    })?;
    if let Some(e) = error {
        *page.status_mut() = e.status();
    }
    Ok(page)
}

pub async fn user_page(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let user = state
        .store
        .user(&state.org().org, &caller.actor(), &id)
        .await?;
    let snap = state.org();
    authorize(&snap.org, &caller.actor(), Action::ViewUsers, &user.unit)?;
    user_view(
        &state,
        t,
        &uri,
        &caller,
        user,
        None,
        "admin.generated_password",
        None,
    )
    .await
}

pub async fn update_user(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let fields = Fields::parse(&body);
    let snap = state.org();
    let attempt = async {
        let changes = UserChanges {
            name: Some(fields.get("name")),
            unit: Some(parse_unit(&fields.get("unit"))?),
            roles: Some(parse_roles(&fields.all("roles"))?),
            disabled: Some(fields.get("disabled") == "true"),
            version: fields.get("version").parse().map_err(|_| {
                AppError::invalid("version", "the form lost its version; reload the page")
            })?,
        };
        Ok::<_, AppError>(
            state
                .store
                .update_user(&snap.org, &caller.actor(), &id, changes)
                .await?,
        )
    };
    match attempt.await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/users/{}", urlencode(&id))).into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict(_))) => {
            let user = state.store.user(&snap.org, &caller.actor(), &id).await?;
            user_view(
                &state,
                t,
                &uri,
                &caller,
                user,
                None,
                "admin.generated_password",
                Some(e),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn reset_password(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let snap = state.org();
    let password = meridian_store::users::generate_password();
    state
        .store
        .set_password(&snap.org, &caller.actor(), &id, None, &password)
        .await?;
    let user = state.store.user(&snap.org, &caller.actor(), &id).await?;
    user_view(
        &state,
        t,
        &uri,
        &caller,
        user,
        Some(password),
        "admin.generated_password",
        None,
    )
    .await
}

pub async fn issue_token(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let label = Fields::parse(&body).get("label");
    let snap = state.org();
    let token = state
        .store
        .issue_token(&snap.org, &caller.actor(), &id, &label)
        .await?;
    let user = state.store.user(&snap.org, &caller.actor(), &id).await?;
    user_view(
        &state,
        t,
        &uri,
        &caller,
        user,
        Some(token),
        "admin.new_token",
        None,
    )
    .await
}

#[derive(Deserialize, Default)]
pub struct AuditForm {
    #[serde(default)]
    entity: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    offset: u32,
}

#[derive(Template)]
#[template(path = "admin/audit.html")]
struct AuditPage {
    shell: Shell,
    filter: AuditForm,
    events: Vec<EventRow>,
    page_size: usize,
    next_page: String,
    is_global_admin: bool,
}

const AUDIT_PAGE: u32 = 100;

pub async fn audit(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Query(filter): Query<AuditForm>,
) -> AppResult<Response> {
    let snap = state.org();
    authorize(
        &snap.org,
        &caller.actor(),
        Action::ViewAuditTrail,
        &caller.user.unit,
    )?;
    let some = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
    let events = crate::api::audit::search(
        &state,
        &caller,
        &AuditFilter {
            entity: some(&filter.entity),
            id: some(&filter.id),
            actor: some(&filter.actor),
            action: some(&filter.action),
            limit: Some(AUDIT_PAGE),
            offset: Some(filter.offset),
        },
    )
    .await?;
    let next_page = format!(
        "/admin/audit?entity={}&id={}&actor={}&action={}&offset={}",
        urlencode(&filter.entity),
        urlencode(&filter.id),
        urlencode(&filter.actor),
        urlencode(&filter.action),
        filter.offset + AUDIT_PAGE
    );
    render(&AuditPage {
        is_global_admin: caller.actor().scope(&snap.org) == Scope::Global,
        shell: Shell::new(t, Some(&caller), "audit", &uri),
        filter,
        events: events.into_iter().map(Into::into).collect(),
        page_size: AUDIT_PAGE as usize,
        next_page,
    })
}

pub async fn reload_org(State(state): State<AppState>, caller: Caller) -> AppResult<Response> {
    state.reload_organization(&caller.actor()).await?;
    Ok(Redirect::to("/admin/audit?entity=org_unit").into_response())
}
