//! IATI 2.03 in and out: an activities file uploaded and imported (all or nothing, or only
//! the valid activities), and the projects of an office downloaded as an activities file.
//! The upload is streamed to a temporary file (`api::iati::Upload`) and imported as the API
//! and `meridian import iati` do; the answer, shown in place, is the import's report.

use super::{Tab, can, shell, tabs};
use crate::api::iati::{Upload, file_name};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::state::AppState;
use crate::ui::{Shell, render};
use askama::Template;
use axum::extract::{Multipart, State};
use axum::http::Uri;
use axum::response::Response;
use meridian_domain::authz::Action;
use meridian_store::iati::{ImportOptions, ImportReport, Refusal};

#[derive(Template)]
#[template(path = "projects/iati.html")]
struct IatiPage {
    shell: Shell,
    tabs: Vec<Tab>,
    unit: String,
    can_import: bool,
}

pub async fn page(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
) -> AppResult<Response> {
    let unit = caller.user.unit.to_string();
    render(&IatiPage {
        can_import: can(&state, &caller, Action::DraftProject, &unit),
        shell: shell(t, &caller, &uri),
        tabs: tabs(t, "/projects/iati"),
        unit,
    })
}

/// Where the page's form posts a file (a long request: `crate::LONG_REQUESTS`).
pub const IMPORT_PATH: &str = "/projects/iati/import";

/// Refused activities listed on the page; the API's report has them all.
const SHOWN_REFUSALS: usize = 200;

#[derive(Template)]
#[template(path = "projects/iati_import_result.html")]
struct ImportResult {
    shell: Shell,
    /// A refusal of the whole request (no file, no permission, an unknown office).
    message: Option<String>,
    report: ImportReport,
    refused: Vec<Refusal>,
    more_refused: usize,
    /// The elements left out, most frequent first: `name ×count`.
    dropped: String,
}

/// The import form posts the file with htmx (which sends the CSRF header).
pub async fn import(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let shell = shell(t, &caller, &uri);
    let outcome: Result<ImportReport, AppError> = async {
        let bad = |e: axum::extract::multipart::MultipartError| {
            AppError::invalid("file", format!("the upload could not be read: {e}"))
        };
        let mut upload = None;
        let mut name = String::new();
        let mut options = ImportOptions::default();
        while let Some(field) = multipart.next_field().await.map_err(bad)? {
            match field.name() {
                Some("file") => {
                    name = file_name(field.file_name(), "upload.xml");
                    upload = Some(Upload::receive(Box::pin(field)).await?);
                }
                Some("default_unit") => {
                    let unit = field.text().await.map_err(bad)?;
                    options.default_unit = Some(unit.trim().to_owned()).filter(|u| !u.is_empty());
                }
                Some("keep_valid") => options.keep_valid = true,
                _ => {}
            }
        }
        let upload = upload.ok_or_else(|| AppError::invalid("file", "choose a file to upload"))?;
        upload.import(&state, &caller, &name, options).await
    }
    .await;
    match outcome {
        Ok(report) => {
            let more_refused = report.refused.len().saturating_sub(SHOWN_REFUSALS);
            let refused = report
                .refused
                .iter()
                .take(SHOWN_REFUSALS)
                .cloned()
                .collect();
            let mut dropped: Vec<(&String, &u64)> = report.dropped.iter().collect();
            dropped.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            let dropped = dropped
                .iter()
                .map(|(name, n)| format!("{name} ×{n}"))
                .collect::<Vec<_>>()
                .join(", ");
            render(&ImportResult {
                shell,
                message: None,
                refused,
                more_refused,
                dropped,
                report,
            })
        }
        Err(
            e @ (AppError::Invalid { .. }
            | AppError::Forbidden(_)
            | AppError::NotFound(_)
            | AppError::Busy(_)),
        ) => render(&ImportResult {
            shell,
            message: Some(e.to_string()),
            report: ImportReport::default(),
            refused: Vec::new(),
            more_refused: 0,
            dropped: String::new(),
        }),
        Err(e) => Err(e),
    }
}
