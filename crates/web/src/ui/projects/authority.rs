//! Delegations of authority: the table everyone may read, and for headquarters administrators
//! the form to issue (or sub-delegate) one and the buttons to revoke.

use super::{Fields, FormError, Tab, can_globally, label, money, shell, shown_in_page, tabs};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::state::AppState;
use crate::ui::{Shell, render, user_role_key};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use meridian_domain::authz::{Action, Role};
use meridian_domain::projects::delegation::Authority;
use meridian_store::projects::{DelegationInput, DelegationView};
use serde::Deserialize;

pub struct Row {
    id: String,
    number: usize,
    authority: &'static str,
    delegatee: String,
    limit: String,
    valid_from: String,
    valid_to: Option<String>,
    may_subdelegate: bool,
    parent: Option<(usize, String)>,
    revoked: bool,
}

/// The issue form as typed.
#[derive(Default)]
pub struct Draft {
    authority: String,
    delegatee: String,
    role: String,
    unit: String,
    person: String,
    limit_amount: String,
    limit_currency: String,
    valid_from: String,
    valid_to: String,
    may_subdelegate: bool,
    parent: String,
}

#[derive(Template)]
#[template(path = "projects/delegations.html")]
struct DelegationsPage {
    shell: Shell,
    tabs: Vec<Tab>,
    rows: Vec<Row>,
    can_manage: bool,
    draft: Draft,
    error: Option<FormError>,
    authorities: Vec<(&'static str, &'static str)>,
    roles: Vec<(&'static str, &'static str)>,
    /// Delegations that may be sub-delegated: (id, "#n authority — delegatee").
    parents: Vec<(String, String)>,
    units: Vec<(String, String)>,
}

fn rows(t: Tr, list: &[DelegationView]) -> Vec<Row> {
    let number = |id: &str| list.iter().position(|d| d.id == id).map(|i| i + 1);
    list.iter()
        .enumerate()
        .map(|(i, d)| Row {
            id: d.id.clone(),
            number: i + 1,
            authority: label(t, "authority", &d.authority),
            delegatee: match (&d.role, &d.unit, &d.person) {
                (Some(role), Some(unit), _) => format!(
                    "{}, {unit}",
                    Role::parse(role).map_or(role.as_str(), |r| t.get(user_role_key(r)))
                ),
                (_, _, Some(person)) => person.clone(),
                _ => String::new(),
            },
            limit: money(d.limit_amount, &d.limit_currency),
            valid_from: d.valid_from.clone(),
            valid_to: d.valid_to.clone(),
            may_subdelegate: d.may_subdelegate,
            parent: d
                .parent
                .as_ref()
                .map(|p| (number(p).unwrap_or(0), p.clone())),
            revoked: d.revoked,
        })
        .collect()
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct DelegationsQuery {
    /// Sub-delegate from this delegation: the form starts from it.
    parent: String,
}

async fn page(
    state: &AppState,
    caller: &Caller,
    t: Tr,
    uri: &Uri,
    draft: Draft,
    error: Option<&AppError>,
) -> AppResult<Response> {
    let list = state.store.list_delegations().await?;
    let rows = rows(t, &list);
    let snap = state.org();
    let page = DelegationsPage {
        shell: shell(t, caller, uri),
        tabs: tabs(t, "/projects/delegations"),
        can_manage: can_globally(state, caller, Action::ManageDelegations),
        parents: rows
            .iter()
            .filter(|r| r.may_subdelegate && !r.revoked)
            .map(|r| {
                (
                    r.id.clone(),
                    format!(
                        "#{} {} — {} ({})",
                        r.number, r.authority, r.delegatee, r.limit
                    ),
                )
            })
            .collect(),
        rows,
        draft,
        error: error.map(|e| FormError::new(t, e)),
        authorities: Authority::ALL
            .iter()
            .map(|a| (a.as_str(), label(t, "authority", a.as_str())))
            .collect(),
        roles: Role::ALL
            .into_iter()
            .map(|r| (r.as_str(), t.get(user_role_key(r))))
            .collect(),
        units: snap
            .org
            .units()
            .iter()
            .filter(|u| u.kind != meridian_domain::org::UnitKind::CountryOffice)
            .map(|u| (u.code.to_string(), u.name.clone()))
            .collect(),
    };
    let response = render(&page)?;
    Ok(match error {
        Some(e) => super::with_status(response, e),
        None => response,
    })
}

pub async fn delegations(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Query(q): Query<DelegationsQuery>,
) -> AppResult<Response> {
    let mut draft = Draft {
        delegatee: "role".into(),
        limit_currency: "USD".into(),
        valid_from: time::OffsetDateTime::now_utc().date().to_string(),
        ..Default::default()
    };
    if !q.parent.is_empty()
        && let Some(parent) = state
            .store
            .list_delegations()
            .await?
            .into_iter()
            .find(|d| d.id == q.parent)
    {
        draft.authority = parent.authority;
        draft.limit_currency = parent.limit_currency;
        draft.parent = parent.id;
    }
    page(&state, &caller, t, &uri, draft, None).await
}

pub async fn create_delegation(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    body: Bytes,
) -> AppResult<Response> {
    let f = Fields::parse(&body);
    let draft = Draft {
        authority: f.get("authority"),
        delegatee: f.get("delegatee"),
        role: f.get("role"),
        unit: f.get("unit"),
        person: f.get("person"),
        limit_amount: f.get("limit_amount"),
        limit_currency: f.get("limit_currency"),
        valid_from: f.get("valid_from"),
        valid_to: f.get("valid_to"),
        may_subdelegate: f.get("may_subdelegate") == "true",
        parent: f.get("parent"),
    };
    let some = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    let to_person = draft.delegatee == "person";
    let input = DelegationInput {
        authority: draft.authority.clone(),
        role: (!to_person).then(|| draft.role.clone()),
        unit: (!to_person).then(|| draft.unit.clone()),
        person: to_person.then(|| draft.person.clone()),
        limit_amount: draft.limit_amount.clone(),
        limit_currency: draft.limit_currency.clone(),
        valid_from: draft.valid_from.clone(),
        valid_to: some(&draft.valid_to),
        may_subdelegate: draft.may_subdelegate,
        parent: some(&draft.parent),
    };
    match state
        .store
        .create_delegation(&state.org().org, &caller.actor(), &input)
        .await
        .map_err(AppError::from)
    {
        Ok(d) => Ok(Redirect::to(&format!("/projects/delegations#d-{}", d.id)).into_response()),
        Err(e) if shown_in_page(&e) => page(&state, &caller, t, &uri, draft, Some(&e)).await,
        Err(e) => Err(e),
    }
}

pub async fn revoke_delegation(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    match state
        .store
        .revoke_delegation(&state.org().org, &caller.actor(), &id)
        .await
        .map_err(AppError::from)
    {
        Ok(d) => Ok(Redirect::to(&format!("/projects/delegations#d-{}", d.id)).into_response()),
        Err(e) if shown_in_page(&e) => {
            page(&state, &caller, t, &uri, Draft::default(), Some(&e)).await
        }
        Err(e) => Err(e),
    }
}
