//! The public IATI feed: `GET /iati/activities.xml`, no sign-in.
//!
//! It publishes the projects in a public status — approved, active, suspended, operationally
//! or financially closed (`meridian_store::iati::PUBLIC_STATUSES`) — as IATI 2.03 activities.
//! Drafts, projects in review, rejected and withdrawn ones are internal, and a **restricted
//! project is never published**, whatever its status. The store reads the projects a page
//! at a time and the writer appends each activity to the one response buffer: the document is
//! held in memory once, never the projects and the document together.

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use meridian_formats::iati::write::{ActivityWriter, WriteError};
use meridian_store::StoreError;
use meridian_store::iati::ExportScope;

use crate::AppState;
use crate::error::AppError;

pub fn router() -> Router<AppState> {
    Router::new().route("/iati/activities.xml", get(activities))
}

/// Why the feed could not be written.
enum FeedError {
    Store(StoreError),
    Write(WriteError),
}

impl From<StoreError> for FeedError {
    fn from(e: StoreError) -> Self {
        FeedError::Store(e)
    }
}

impl From<FeedError> for AppError {
    fn from(e: FeedError) -> Self {
        match e {
            FeedError::Store(e) => e.into(),
            FeedError::Write(e) => AppError::Internal(e.to_string()),
        }
    }
}

async fn activities(State(state): State<AppState>) -> Result<Response, AppError> {
    let snapshot = state.org();
    let generated = format!("{}Z", &meridian_store::now_text()[..19]);
    let mut writer = ActivityWriter::new(Vec::with_capacity(64 * 1024), &generated, None)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let scope = ExportScope {
        published_only: true,
        ..ExportScope::default()
    };
    state
        .store
        .export_activities::<FeedError, _>(&snapshot.org, None, &scope, |a| {
            writer.write(&a).map_err(FeedError::Write)
        })
        .await?;
    let body = writer
        .finish()
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(response)
}
