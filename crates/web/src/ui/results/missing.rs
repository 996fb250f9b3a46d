//! Who has not reported: projects in the reader's scope with their indicators by state, for
//! the period that contains a date.

use super::{Tab, shell, tabs};
use crate::api::results::today;
use crate::auth::Caller;
use crate::error::AppResult;
use crate::i18n::Tr;
use crate::state::AppState;
use crate::ui::{Shell, render};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::response::Response;
use meridian_store::results::MissingReport;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
pub struct Params {
    pub on: Option<String>,
    pub unit: Option<String>,
}

#[derive(Template)]
#[template(path = "results/missing.html")]
struct MissingPage {
    shell: Shell,
    tabs: Vec<Tab>,
    on: String,
    unit: String,
    rows: Vec<MissingReport>,
    complete: usize,
}

pub async fn missing(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Query(p): Query<Params>,
) -> AppResult<Response> {
    let on = p.on.filter(|o| !o.trim().is_empty()).unwrap_or_else(today);
    let unit = p.unit.unwrap_or_default();
    let rows = state
        .store
        .missing_reports(&state.org().org, &caller.actor(), &on, Some(&unit))
        .await?;
    let complete = rows.iter().filter(|r| r.approved == r.indicators).count();
    render(&MissingPage {
        shell: shell(t, &caller, &uri),
        tabs: tabs(t, "/results/missing"),
        on,
        unit,
        rows,
        complete,
    })
}
