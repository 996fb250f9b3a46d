//! Who has not reported: projects in the reader's scope with their indicators by state, for
//! the period that contains a date; with a unit given, that office's reporting template for
//! the period (XLSX or CSV) and its upload.

use super::{Tab, shell, tabs};
use crate::api::results::today;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::state::AppState;
use crate::ui::{Shell, render};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::Uri;
use axum::response::Response;
use meridian_store::results::{CellProblem, MissingReport};
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
    /// The unit given, when it is one of the organization's: its template can be downloaded.
    office: Option<String>,
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
    let office = state
        .org()
        .org
        .unit(unit.trim())
        .map(|u| u.code.to_string());
    render(&MissingPage {
        shell: shell(t, &caller, &uri),
        tabs: tabs(t, "/results/missing"),
        on,
        unit,
        office,
        rows,
        complete,
    })
}

#[derive(Debug, Deserialize)]
pub struct OnParams {
    pub on: Option<String>,
}

/// `/results/offices/{code}/template.xlsx?on=…`: the office's template for the period.
pub async fn office_template_xlsx(
    State(state): State<AppState>,
    t: Tr,
    caller: Caller,
    Path(code): Path<String>,
    Query(q): Query<OnParams>,
) -> AppResult<Response> {
    let on = q.on.filter(|o| !o.trim().is_empty()).unwrap_or_else(today);
    crate::api::results::office_template_response(&state, t, &caller, &code, &on, "xlsx").await
}

/// `/results/offices/{code}/template.csv?on=…`.
pub async fn office_template_csv(
    State(state): State<AppState>,
    t: Tr,
    caller: Caller,
    Path(code): Path<String>,
    Query(q): Query<OnParams>,
) -> AppResult<Response> {
    let on = q.on.filter(|o| !o.trim().is_empty()).unwrap_or_else(today);
    crate::api::results::office_template_response(&state, t, &caller, &code, &on, "csv").await
}

#[derive(Template)]
#[template(path = "results/office_upload_result.html")]
struct OfficeUploadResult {
    shell: Shell,
    /// A refusal of the whole file (no permission, an empty file, a concurrent change).
    message: Option<String>,
    problems: Vec<CellProblem>,
    saved: usize,
    unchanged: usize,
}

/// The office upload form posts the file with htmx (which sends the CSRF header); the answer,
/// shown in place, is every wrong cell (nothing saved) or how many reports were saved.
pub async fn office_upload(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(code): Path<String>,
    mut multipart: axum::extract::Multipart,
) -> AppResult<Response> {
    let mut bytes = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::invalid("file", e.to_string()))?
    {
        if field.name() == Some("file") {
            bytes = field
                .bytes()
                .await
                .map_err(|e| AppError::invalid("file", e.to_string()))?
                .to_vec();
        }
    }
    let shell = shell(t, &caller, &uri);
    let outcome =
        match crate::api::results::office_upload_bytes(&state, &caller, &code, &bytes).await {
            Ok(o) => o,
            Err(
                e @ (AppError::Invalid { .. }
                | AppError::Forbidden(_)
                | AppError::Conflict(_)
                | AppError::NotFound(_)),
            ) => {
                return render(&OfficeUploadResult {
                    shell,
                    message: Some(e.to_string()),
                    problems: Vec::new(),
                    saved: 0,
                    unchanged: 0,
                });
            }
            Err(e) => return Err(e),
        };
    render(&OfficeUploadResult {
        shell,
        message: None,
        saved: outcome.saved,
        unchanged: outcome.unchanged,
        problems: outcome.problems,
    })
}
