//! A project's documents on its page: the list, and the upload (sent by htmx, which carries the
//! CSRF header; the page reloads on success, problems show in place).

use super::{label, short_time};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::state::AppState;
use crate::ui::render;
use askama::Template;
use axum::extract::{Multipart, Path, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use meridian_store::projects::Document;

pub struct DocumentRow {
    pub id: String,
    pub name: String,
    pub doc_type: &'static str,
    pub size: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

pub fn rows(t: Tr, docs: &[Document]) -> Vec<DocumentRow> {
    docs.iter()
        .map(|d| DocumentRow {
            id: d.id.clone(),
            name: d.name.clone(),
            doc_type: label(t, "doc_type", &d.doc_type),
            size: if d.size_bytes >= 1024 * 1024 {
                format!("{:.1} MB", d.size_bytes as f64 / (1024.0 * 1024.0))
            } else {
                format!("{} KB", (d.size_bytes + 1023) / 1024)
            },
            uploaded_by: d.uploaded_by.clone(),
            uploaded_at: short_time(&d.uploaded_at),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "projects/upload_error.html")]
struct UploadError {
    message: String,
}

pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    mut multipart: Multipart,
) -> AppResult<Response> {
    let mut doc_type = String::from("other");
    let mut file: Option<(String, Vec<u8>)> = None;
    let outcome: Result<Document, AppError> = async {
        let bad = |e: axum::extract::multipart::MultipartError| {
            AppError::invalid("file", format!("the upload could not be read: {e}"))
        };
        while let Some(field) = multipart.next_field().await.map_err(bad)? {
            match field.name() {
                Some("doc_type") => doc_type = field.text().await.map_err(bad)?,
                Some("file") => {
                    let name = field.file_name().unwrap_or("document").to_owned();
                    file = Some((name, field.bytes().await.map_err(bad)?.to_vec()));
                }
                _ => {}
            }
        }
        let (name, bytes) = file
            .take()
            .filter(|(_, b)| !b.is_empty())
            .ok_or_else(|| AppError::invalid("file", "choose a file to upload"))?;
        Ok(state
            .store
            .add_document(
                &state.org().org,
                &caller.actor(),
                &state.documents,
                &id,
                &name,
                doc_type.trim(),
                bytes,
            )
            .await?)
    }
    .await;
    match outcome {
        Ok(_) => {
            let mut r = StatusCode::NO_CONTENT.into_response();
            r.headers_mut().insert(
                "hx-redirect",
                HeaderValue::from_str(&format!("/projects/{id}#documents"))
                    .map_err(|e| AppError::Internal(e.to_string()))?,
            );
            Ok(r)
        }
        Err(e @ (AppError::Invalid { .. } | AppError::Forbidden(_) | AppError::Conflict(_))) => {
            render(&UploadError {
                message: e.to_string(),
            })
        }
        Err(e) => Err(e),
    }
}
