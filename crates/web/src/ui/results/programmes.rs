//! Programmes: the list with a form to create one, and a programme's page with its members and
//! the roll-up of their results.

use super::{Tab, label, shell, show_opt, tabs};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::state::AppState;
use crate::ui::{Fields, Shell, can, render};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use meridian_domain::authz::Action;
use meridian_store::results::{Programme, ProgrammeInput, RollupQuery, RollupScope};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "results/programmes.html")]
struct ProgrammesPage {
    shell: Shell,
    tabs: Vec<Tab>,
    programmes: Vec<Programme>,
    can_create: bool,
    error: Option<String>,
    typed: (String, String, String, String),
}

pub async fn programmes(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
) -> AppResult<Response> {
    list(&state, &caller, t, &uri, None, Default::default()).await
}

async fn list(
    state: &AppState,
    caller: &Caller,
    t: Tr,
    uri: &Uri,
    error: Option<&AppError>,
    typed: (String, String, String, String),
) -> AppResult<Response> {
    let programmes = state
        .store
        .programmes(&state.org().org, &caller.actor())
        .await?;
    let mut response = render(&ProgrammesPage {
        shell: shell(t, caller, uri),
        tabs: tabs(t, "/results/programmes"),
        programmes,
        can_create: can(
            state,
            caller,
            Action::ManageProgrammes,
            caller.user.unit.as_str(),
        ),
        error: error.map(|e| e.to_string()),
        typed: if typed.2.is_empty() {
            (typed.0, typed.1, caller.user.unit.to_string(), typed.3)
        } else {
            typed
        },
    })?;
    if let Some(e) = error {
        *response.status_mut() = e.status();
    }
    Ok(response)
}

pub async fn create_programme(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    body: Bytes,
) -> AppResult<Response> {
    let f = Fields::parse(&body);
    let projects = f.text("projects");
    let input = ProgrammeInput {
        code: f.get("code"),
        title: f.get("title"),
        unit: f.get("unit"),
        projects: projects
            .split([',', '\n', ' '])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(str::to_owned)
            .collect(),
        version: None,
    };
    match state
        .store
        .save_programme(&state.org().org, &caller.actor(), None, &input)
        .await
        .map_err(AppError::from)
    {
        Ok(p) => Ok(Redirect::to(&format!("/results/programmes/{}", p.code)).into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict(_) | AppError::Forbidden(_))) => {
            list(
                &state,
                &caller,
                t,
                &uri,
                Some(&e),
                (input.code, input.title, input.unit, projects),
            )
            .await
        }
        Err(e) => Err(e),
    }
}

#[derive(Debug, Deserialize)]
pub struct Params {
    pub window: Option<String>,
}

pub struct Row {
    code: String,
    title: String,
    measure_label: &'static str,
    aggregation_label: &'static str,
    contributors: i64,
    actual: String,
    target: String,
    achievement: Option<String>,
}

#[derive(Template)]
#[template(path = "results/programme.html")]
struct ProgrammePage {
    shell: Shell,
    tabs: Vec<Tab>,
    p: Programme,
    window: String,
    rows: Vec<Row>,
}

pub async fn programme(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<Params>,
) -> AppResult<Response> {
    let org = &state.org().org;
    let actor = caller.actor();
    let p = state.store.programme(org, &actor, &id).await?;
    let window = q
        .window
        .filter(|w| !w.trim().is_empty())
        .unwrap_or_else(|| "all".into());
    let rows = state
        .store
        .results_rollup(
            org,
            &actor,
            &RollupScope::Programme(p.id.clone()),
            &RollupQuery {
                window: window.clone(),
                disaggregation: String::new(),
            },
        )
        .await?
        .into_iter()
        .filter(|r| r.contributors > 0 || r.target.is_some())
        .map(|r| Row {
            code: r.srf_indicator.clone(),
            title: r.title.clone(),
            measure_label: label(t, "measure", r.measure.as_str()),
            aggregation_label: label(t, "aggregation", r.aggregation.as_str()),
            contributors: r.contributors,
            actual: show_opt(r.actual.as_ref()),
            target: show_opt(r.target.as_ref()),
            achievement: r.achievement.map(|a| format!("{} %", a.normalize())),
        })
        .collect();
    render(&ProgrammePage {
        shell: shell(t, &caller, &uri),
        tabs: tabs(t, "/results/programmes"),
        p,
        window,
        rows,
    })
}
