//! Evaluations: the registry, recommendations, management responses, key actions and a unit's
//! follow-up tracking. Every handler goes through the store's evaluation functions, so the one
//! permission layer decides what each caller sees and may do.

use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use meridian_store::evaluations::{
    Evaluation, EvaluationInput, EvaluationPage, EvaluationQuery, EvaluationRecommendation,
    EvaluationRecommendationInput, EvaluationTracking, KeyAction, KeyActionInput, KeyActionPatch,
    ManagementResponseInput,
};
use serde::Deserialize;
use utoipa::ToSchema;

/// The evaluation routes, merged into the API router.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/evaluations", get(list).post(create))
        .route("/api/v1/evaluations/tracking/{unit}", get(tracking))
        .route("/api/v1/evaluations/{id}", get(get_one).patch(update))
        .route(
            "/api/v1/evaluations/{id}/report",
            get(download_report)
                .post(upload_report)
                .layer(axum::extract::DefaultBodyLimit::max(
                    meridian_domain::projects::documents::MAX_DOCUMENT_BYTES + 64 * 1024,
                )),
        )
        .route(
            "/api/v1/evaluations/{id}/recommendations",
            post(add_recommendation),
        )
        .route(
            "/api/v1/evaluations/recommendations/{id}",
            axum::routing::patch(update_recommendation),
        )
        .route(
            "/api/v1/evaluations/recommendations/{id}/response",
            post(respond),
        )
        .route(
            "/api/v1/evaluations/recommendations/{id}/actions",
            post(add_action),
        )
        .route(
            "/api/v1/evaluations/actions/{id}",
            axum::routing::patch(update_action),
        )
}

/// The registry in the caller's scope (and evaluations their units must follow up), newest
/// first, with each evaluation's follow-up in figures.
#[utoipa::path(get, path = "/api/v1/evaluations", tag = "evaluations", params(EvaluationQuery),
    responses((status = 200, body = EvaluationPage), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<EvaluationQuery>,
) -> AppResult<Json<EvaluationPage>> {
    Ok(Json(
        state
            .store
            .evaluations(&state.org().org, &caller.actor(), &q)
            .await?,
    ))
}

/// Registers an evaluation (M&E officers at headquarters and regional offices).
#[utoipa::path(post, path = "/api/v1/evaluations", tag = "evaluations", request_body = EvaluationInput,
    responses((status = 201, body = Evaluation), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<EvaluationInput>,
) -> AppResult<(StatusCode, Json<Evaluation>)> {
    let ev = state
        .store
        .create_evaluation(&state.org().org, &caller.actor(), &input)
        .await?;
    Ok((StatusCode::CREATED, Json(ev)))
}

/// One evaluation with its recommendations, management responses and key actions.
#[utoipa::path(get, path = "/api/v1/evaluations/{id}", tag = "evaluations",
    params(("id" = String, Path, description = "Id or code")),
    responses((status = 200, body = Evaluation), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Evaluation>> {
    Ok(Json(
        state
            .store
            .evaluation(&state.org().org, &caller.actor(), &id)
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EvaluationPatch {
    /// The version you read; a stale one gets 409 with what changed.
    pub version: i64,
    #[serde(flatten)]
    pub evaluation: EvaluationInput,
}

/// Replaces an evaluation's content (status moves: planned → ongoing → completed; planned or
/// ongoing → cancelled).
#[utoipa::path(patch, path = "/api/v1/evaluations/{id}", tag = "evaluations", params(("id" = String, Path)),
    request_body = EvaluationPatch,
    responses((status = 200, body = Evaluation), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(patch): Json<EvaluationPatch>,
) -> AppResult<Json<Evaluation>> {
    Ok(Json(
        state
            .store
            .update_evaluation(
                &state.org().org,
                &caller.actor(),
                &id,
                &patch.evaluation,
                patch.version,
            )
            .await?,
    ))
}

/// Attaches or replaces the report (multipart/form-data, field `file`; at most 20 MB; PDF,
/// Office, OpenDocument, images or text, checked by content).
#[utoipa::path(post, path = "/api/v1/evaluations/{id}/report", tag = "evaluations", params(("id" = String, Path)),
    request_body(content_type = "multipart/form-data", content = String),
    responses((status = 200, body = Evaluation), (status = 422, body = crate::error::ErrorBody)))]
pub async fn upload_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    mut multipart: axum::extract::Multipart,
) -> AppResult<Json<Evaluation>> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        AppError::invalid("file", format!("the upload could not be read: {e}"))
    };
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = multipart.next_field().await.map_err(bad)? {
        if field.name() == Some("file") {
            let name = field.file_name().unwrap_or("report").to_owned();
            file = Some((name, field.bytes().await.map_err(bad)?.to_vec()));
        }
    }
    let (name, bytes) =
        file.ok_or_else(|| AppError::invalid("file", "attach the report as the field `file`"))?;
    Ok(Json(
        state
            .store
            .attach_evaluation_report(
                &state.org().org,
                &caller.actor(),
                &state.documents,
                &id,
                &name,
                bytes,
            )
            .await?,
    ))
}

/// Downloads the report.
#[utoipa::path(get, path = "/api/v1/evaluations/{id}/report", tag = "evaluations", params(("id" = String, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn download_report(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let (report, bytes) = state
        .store
        .evaluation_report(&state.org().org, &caller.actor(), &state.documents, &id)
        .await?;
    let safe_name: String = report
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || ".-_ ".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    Ok((
        [
            (header::CONTENT_TYPE, report.content_type.clone()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{safe_name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

/// Adds a recommendation to an ongoing or completed evaluation.
#[utoipa::path(post, path = "/api/v1/evaluations/{id}/recommendations", tag = "evaluations",
    params(("id" = String, Path)), request_body = EvaluationRecommendationInput,
    responses((status = 201, body = EvaluationRecommendation), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn add_recommendation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(input): Json<EvaluationRecommendationInput>,
) -> AppResult<(StatusCode, Json<EvaluationRecommendation>)> {
    let rec = state
        .store
        .add_recommendation(&state.org().org, &caller.actor(), &id, &input)
        .await?;
    Ok((StatusCode::CREATED, Json(rec)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct EvaluationRecommendationPatch {
    pub version: i64,
    #[serde(flatten)]
    pub recommendation: EvaluationRecommendationInput,
}

/// Rewords, readdresses or reprioritizes a recommendation.
#[utoipa::path(patch, path = "/api/v1/evaluations/recommendations/{id}", tag = "evaluations",
    params(("id" = String, Path)), request_body = EvaluationRecommendationPatch,
    responses((status = 200, body = EvaluationRecommendation), (status = 409, body = crate::error::ErrorBody)))]
pub async fn update_recommendation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(patch): Json<EvaluationRecommendationPatch>,
) -> AppResult<Json<EvaluationRecommendation>> {
    Ok(Json(
        state
            .store
            .update_recommendation(
                &state.org().org,
                &caller.actor(),
                &id,
                &patch.recommendation,
                patch.version,
            )
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ManagementResponseRequest {
    /// The recommendation's version you read.
    pub version: i64,
    #[serde(flatten)]
    pub response: ManagementResponseInput,
}

/// Records or revises the management response (agree, partially_agree, disagree, with text),
/// for the unit the recommendation is addressed to. Due 28 days after the evaluation's
/// completion; a later one is flagged late.
#[utoipa::path(post, path = "/api/v1/evaluations/recommendations/{id}/response", tag = "evaluations",
    params(("id" = String, Path)), request_body = ManagementResponseRequest,
    responses((status = 200, body = EvaluationRecommendation), (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn respond(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<ManagementResponseRequest>,
) -> AppResult<Json<EvaluationRecommendation>> {
    Ok(Json(
        state
            .store
            .respond_to_recommendation(
                &state.org().org,
                &caller.actor(),
                &id,
                &body.response,
                body.version,
            )
            .await?,
    ))
}

/// Adds a key action to a recommendation management agreed or partly agreed with.
#[utoipa::path(post, path = "/api/v1/evaluations/recommendations/{id}/actions", tag = "evaluations",
    params(("id" = String, Path)), request_body = KeyActionInput,
    responses((status = 201, body = KeyAction), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn add_action(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(input): Json<KeyActionInput>,
) -> AppResult<(StatusCode, Json<KeyAction>)> {
    let action = state
        .store
        .add_key_action(&state.org().org, &caller.actor(), &id, &input)
        .await?;
    Ok((StatusCode::CREATED, Json(action)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct KeyActionUpdate {
    pub version: i64,
    #[serde(flatten)]
    pub patch: KeyActionPatch,
}

/// Updates a key action's status, comments or terms (fields left out stay as they are).
#[utoipa::path(patch, path = "/api/v1/evaluations/actions/{id}", tag = "evaluations",
    params(("id" = String, Path)), request_body = KeyActionUpdate,
    responses((status = 200, body = KeyAction), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn update_action(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<KeyActionUpdate>,
) -> AppResult<Json<KeyAction>> {
    Ok(Json(
        state
            .store
            .update_key_action(
                &state.org().org,
                &caller.actor(),
                &id,
                &body.patch,
                body.version,
            )
            .await?,
    ))
}

/// A unit's follow-up (with every unit below it): evaluations commissioned, recommendations
/// awaiting a response (late first), key actions with the overdue first, and the counts.
#[utoipa::path(get, path = "/api/v1/evaluations/tracking/{unit}", tag = "evaluations",
    params(("unit" = String, Path, description = "Unit code")),
    responses((status = 200, body = EvaluationTracking), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn tracking(
    State(state): State<AppState>,
    caller: Caller,
    Path(unit): Path<String>,
) -> AppResult<Json<EvaluationTracking>> {
    Ok(Json(
        state
            .store
            .evaluation_tracking(&state.org().org, &caller.actor(), &unit)
            .await?,
    ))
}
