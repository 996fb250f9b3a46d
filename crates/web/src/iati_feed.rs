//! The public IATI feed: `GET /iati/activities.xml`, no sign-in.
//!
//! It publishes the projects in a public status — approved, active, suspended, operationally
//! or financially closed (`meridian_store::iati::PUBLIC_STATUSES`) — as IATI 2.03 activities.
//! Drafts, projects in review, rejected and withdrawn ones are internal, and a **restricted
//! project is never published**, whatever its status.
//!
//! The document is streamed: a task reads the projects a page at a time and the writer's
//! output for each page is sent to the client before the next page is read (a channel of
//! two pages), so the server holds a few pages whatever the size of the portfolio. A failure
//! before the first page is an error response; one later cuts the response short (the client
//! gets no closing `</iati-activities>`, so never a document that looks complete) and is logged.

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::StreamExt;
use meridian_domain::authz::Actor;
use meridian_formats::iati::activity::Activity;
use meridian_formats::iati::write::{ActivityWriter, WriteError};
use meridian_store::StoreError;
use meridian_store::iati::{ActivitySink, ExportScope};
use tokio::sync::mpsc;

use crate::AppState;
use crate::error::AppError;

pub fn router() -> Router<AppState> {
    Router::new().route("/iati/activities.xml", get(activities))
}

/// Why the feed could not be written.
enum FeedError {
    Store(StoreError),
    Write(WriteError),
    /// The client went away: the export stops.
    Gone,
}

impl From<StoreError> for FeedError {
    fn from(e: StoreError) -> Self {
        FeedError::Store(e)
    }
}

impl std::fmt::Display for FeedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FeedError::Store(e) => write!(f, "{e}"),
            FeedError::Write(e) => write!(f, "{e}"),
            FeedError::Gone => f.write_str("the client went away"),
        }
    }
}

impl From<FeedError> for AppError {
    fn from(e: FeedError) -> Self {
        match e {
            FeedError::Store(e) => e.into(),
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// A page of the document, or why it stopped.
type Chunk = Result<Bytes, FeedError>;

/// Writes the activities and sends what a page wrote down the channel.
struct Feed {
    writer: ActivityWriter<Vec<u8>>,
    chunks: mpsc::Sender<Chunk>,
    /// Pages sent: an error after the first cuts the response short and is logged (before
    /// it, the error is the response).
    sent: u64,
}

impl Feed {
    /// What the writer holds, taken out of it.
    fn take(&mut self) -> Bytes {
        Bytes::from(std::mem::replace(
            self.writer.get_mut(),
            Vec::with_capacity(CHUNK_CAPACITY),
        ))
    }
}

/// What a page of 500 activities usually writes.
const CHUNK_CAPACITY: usize = 1 << 20;

impl ActivitySink<FeedError> for Feed {
    fn activity(&mut self, activity: Activity) -> Result<(), FeedError> {
        self.writer.write(&activity).map_err(FeedError::Write)
    }

    async fn page_done(&mut self) -> Result<(), FeedError> {
        let page = self.take();
        self.chunks
            .send(Ok(page))
            .await
            .map_err(|_| FeedError::Gone)?;
        self.sent += 1;
        Ok(())
    }
}

async fn activities(State(state): State<AppState>) -> Result<Response, AppError> {
    let scope = ExportScope {
        published_only: true,
        ..ExportScope::default()
    };
    let mut response = export_response(&state, None, scope).await?;
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    Ok(response)
}

/// The projects of `scope` that `actor` may see (the public's when `None`) as an IATI 2.03
/// document, streamed a page at a time (see the module documentation). An error before the
/// first page (an unknown unit, a unit outside the reader's scope) is the response.
pub(crate) async fn export_response(
    state: &AppState,
    actor: Option<Actor>,
    scope: ExportScope,
) -> Result<Response, AppError> {
    let snapshot = state.org();
    let generated = format!("{}Z", &meridian_store::now_text()[..19]);
    let writer = ActivityWriter::new(Vec::with_capacity(CHUNK_CAPACITY), &generated, None)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let (chunks, mut pages) = mpsc::channel::<Chunk>(2);
    let store = state.store.clone();
    tokio::spawn(async move {
        let mut feed = Feed {
            writer,
            chunks: chunks.clone(),
            sent: 0,
        };
        let exported = store
            .export_activities::<FeedError, _>(&snapshot.org, actor.as_ref(), &scope, &mut feed)
            .await;
        let last = match exported {
            Ok(_) => feed
                .writer
                .finish()
                .map(Bytes::from)
                .map_err(FeedError::Write),
            Err(FeedError::Gone) => return,
            Err(e) => Err(e),
        };
        if let Err(e) = &last
            && feed.sent > 0
        {
            tracing::error!(error = %e, "the IATI export stopped");
        }
        let _ = chunks.send(last).await;
    });
    // The first page (or the whole document, when it is small) decides the status.
    let first = match pages.recv().await {
        Some(chunk) => chunk?,
        None => return Err(AppError::Internal("the IATI export stopped".into())),
    };
    let rest = futures_util::stream::unfold(pages, |mut pages| async move {
        pages.recv().await.map(|chunk| {
            (
                chunk.map_err(|e| std::io::Error::other(e.to_string())),
                pages,
            )
        })
    });
    let body = Body::from_stream(
        futures_util::stream::once(std::future::ready(Ok::<_, std::io::Error>(first))).chain(rest),
    );
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    Ok(response)
}
