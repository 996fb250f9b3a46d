//! IATI 2.03 in and out for signed-in callers: an activities file imported into the caller's
//! offices, and the projects of their scope exported (the public feed is
//! `/iati/activities.xml`, see `crate::iati_feed`).
//!
//! An upload is streamed to a temporary file, never held in memory, and imported from there as
//! `meridian import iati` does: validated, all or nothing unless `keep_valid`, every refused
//! activity reported with its line and column. A gzip-compressed file (`.xml.gz`, 5 to 18 times
//! smaller for the publisher files in ../shared/data/iati: what an office on a slow link would
//! rather send) is unpacked to a second temporary file first.

use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt};
use meridian_formats::gzip;
use meridian_store::iati::{ExportScope, ImportOptions, ImportReport};
use serde::Deserialize;
use tokio::io::AsyncWriteExt;
use utoipa::IntoParams;

/// Where a file is posted to be imported (a long request: `crate::LONG_REQUESTS`).
pub const IMPORT_PATH: &str = "/api/v1/iati/imports";

/// The largest IATI file an upload takes (IATI's own tools stop at about 60 MB); for a
/// compressed upload, the largest it may unpack to.
pub const MAX_IATI_BYTES: u64 = 1 << 30;

/// How an uploaded file is imported.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ImportParams {
    /// The office that owns activities naming no country Meridian has an office for (e.g.
    /// RO-NBO). Without it such activities are refused.
    pub default_unit: Option<String>,
    /// Import the activities that pass and report the others (default: all or nothing).
    pub keep_valid: bool,
    /// Also rewrite the activities that map to what their last import wrote.
    pub rewrite_unchanged: bool,
    /// The file's name, kept with the imported activities and in the audit trail.
    pub file_name: Option<String>,
}

/// Which projects an export takes.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(default)]
pub struct ExportParams {
    /// An office: its projects and those of the offices under it (default: the caller's
    /// scope).
    pub unit: Option<String>,
    /// Only projects in a public status, never restricted ones.
    pub published_only: bool,
}

/// A file received whole on disk; removed when dropped.
pub struct Upload {
    file: tempfile::NamedTempFile,
}

impl Upload {
    /// Writes `chunks` to a temporary file, refusing an empty file or one over
    /// [`MAX_IATI_BYTES`]; a gzip-compressed file is unpacked ([`Upload::gunzip`]).
    pub async fn receive<S, E>(mut chunks: S) -> AppResult<Upload>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
        E: std::fmt::Display,
    {
        let file = temporary_file()?;
        let mut head = Vec::with_capacity(gzip::MAGIC.len());
        let mut out = tokio::fs::File::from_std(
            file.as_file()
                .try_clone()
                .map_err(|e| AppError::Internal(e.to_string()))?,
        );
        let mut bytes = 0u64;
        while let Some(chunk) = chunks.next().await {
            let chunk = chunk.map_err(|e| {
                AppError::invalid("file", format!("the upload could not be read: {e}"))
            })?;
            bytes += chunk.len() as u64;
            let wanted = gzip::MAGIC.len() - head.len();
            head.extend_from_slice(&chunk[..wanted.min(chunk.len())]);
            if bytes > MAX_IATI_BYTES {
                return Err(AppError::invalid(
                    "file",
                    format!(
                        "the file is larger than {} MiB, the most an upload takes",
                        MAX_IATI_BYTES >> 20
                    ),
                ));
            }
            out.write_all(&chunk)
                .await
                .map_err(|e| AppError::Internal(format!("writing the upload: {e}")))?;
        }
        out.flush()
            .await
            .map_err(|e| AppError::Internal(format!("writing the upload: {e}")))?;
        if bytes == 0 {
            return Err(AppError::invalid("file", "the file is empty"));
        }
        if head == gzip::MAGIC {
            return Self::gunzip(file).await;
        }
        Ok(Upload { file })
    }

    /// Unpacks a gzip-compressed upload into a temporary file of its own, refusing one that
    /// does not unpack or unpacks to nothing or to more than [`MAX_IATI_BYTES`].
    async fn gunzip(packed: tempfile::NamedTempFile) -> AppResult<Upload> {
        tokio::task::spawn_blocking(move || {
            let input = packed
                .reopen()
                .map_err(|e| AppError::Internal(format!("unpacking the upload: {e}")))?;
            let mut unpacked = temporary_file()?;
            let mut out = std::io::BufWriter::new(unpacked.as_file_mut());
            let bytes = gzip::unpack(std::io::BufReader::new(input), &mut out, MAX_IATI_BYTES)
                .map_err(|e| match e {
                    gzip::UnpackError::Write(e) => {
                        AppError::Internal(format!("unpacking the upload: {e}"))
                    }
                    e @ gzip::UnpackError::TooLarge { .. } => {
                        AppError::invalid("file", format!("{e}, the most an upload takes"))
                    }
                    e @ gzip::UnpackError::Damaged { .. } => {
                        AppError::invalid("file", e.to_string())
                    }
                })?;
            drop(out);
            if bytes == 0 {
                return Err(AppError::invalid(
                    "file",
                    "the file is gzip-compressed and unpacks to nothing",
                ));
            }
            Ok(Upload { file: unpacked })
        })
        .await
        .map_err(|e| AppError::Internal(format!("unpacking the upload: {e}")))?
    }

    /// Imports the file as `caller`, under the name `name`.
    pub async fn import(
        &self,
        state: &AppState,
        caller: &Caller,
        name: &str,
        options: ImportOptions,
    ) -> AppResult<ImportReport> {
        let options = ImportOptions {
            source_name: Some(name.to_owned()),
            progress: None,
            ..options
        };
        Ok(state
            .store
            .import_iati(
                &state.org().org,
                &caller.actor(),
                self.file.path(),
                &options,
            )
            .await?)
    }
}

fn temporary_file() -> AppResult<tempfile::NamedTempFile> {
    tempfile::Builder::new()
        .prefix("meridian-iati-")
        .suffix(".xml")
        .tempfile()
        .map_err(|e| AppError::Internal(format!("a temporary file for the upload: {e}")))
}

/// A file's name as given, or `fallback` when it gives none.
pub fn file_name(given: Option<&str>, fallback: &str) -> String {
    given
        .map(|n| n.trim())
        .filter(|n| !n.is_empty())
        .map_or_else(|| fallback.to_owned(), |n| n.chars().take(200).collect())
}

/// Imports an IATI activities file (2.03, or an older version upgraded on reading), sent as
/// the request body, as it is or gzip-compressed. The file is validated while it is imported: an activity with a schema
/// error, in an office outside the caller's authority, or naming no office Meridian knows is
/// refused, and then nothing is written (all or nothing) unless `keep_valid`. 200 with the
/// report when the changes were committed; 422 with the report (every refused activity with
/// its line, column and reasons; file errors) when nothing changed; 403 when the caller may
/// not draft projects in `default_unit`.
#[utoipa::path(post, path = "/api/v1/iati/imports", tag = "projects", params(ImportParams),
    request_body(content = Vec<u8>, content_type = "application/xml"),
    responses((status = 200, body = ImportReport), (status = 422, body = ImportReport),
        (status = 403, body = crate::error::ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ImportParams>,
    body: Body,
) -> AppResult<Response> {
    let upload = Upload::receive(body.into_data_stream()).await?;
    let name = file_name(params.file_name.as_deref(), "upload.xml");
    let report = upload
        .import(
            &state,
            &caller,
            &name,
            ImportOptions {
                default_unit: params.default_unit.filter(|u| !u.trim().is_empty()),
                keep_valid: params.keep_valid,
                rewrite_unchanged: params.rewrite_unchanged,
                ..ImportOptions::default()
            },
        )
        .await?;
    let status = if report.committed {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(report)).into_response())
}

/// The projects of the caller's scope (or of `unit`, which they must be allowed to view) as an
/// IATI 2.03 activities file, streamed. Restricted projects whose budgets and donors the
/// caller may not see are left out; with `published_only`, so are projects not in a public
/// status and every restricted one.
#[utoipa::path(get, path = "/api/v1/iati/activities.xml", tag = "projects",
    params(ExportParams),
    responses((status = 200, content_type = "application/xml", body = String),
        (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Query(params): Query<ExportParams>,
) -> AppResult<Response> {
    let unit = params.unit.filter(|u| !u.trim().is_empty());
    let name = format!(
        "attachment; filename=\"meridian-iati-{}.xml\"",
        unit.as_deref()
            .map(|u| u.trim().to_ascii_uppercase())
            .filter(|u| u.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'))
            .unwrap_or_else(|| "all".into())
    );
    let scope = ExportScope {
        unit,
        published_only: params.published_only,
        ..ExportScope::default()
    };
    let mut response =
        crate::iati_feed::export_response(&state, Some(caller.actor()), scope).await?;
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_str(&name).map_err(|e| AppError::Internal(e.to_string()))?,
    );
    Ok(response)
}
