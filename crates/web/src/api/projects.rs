//! Projects through their lifecycle, the portfolio, the review queue, delegations of authority
//! and exchange rates.

use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use meridian_domain::projects::lifecycle::Transition;
use meridian_domain::projects::money::{ExchangeRate, RateTable};
use meridian_store::projects::{
    Comment, DelegationInput, DelegationView, Page, PortfolioQuery, PortfolioTotals, Project,
    ProjectHistory, ProjectInput, Transaction, TransactionInput,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// Query parameters of the portfolio (all optional).
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct PortfolioParams {
    /// Regional office code.
    region: Option<String>,
    /// ISO3 code of the primary country.
    country: Option<String>,
    /// Owning office code.
    unit: Option<String>,
    /// Lifecycle status, e.g. under_review.
    status: Option<String>,
    theme: Option<String>,
    donor: Option<String>,
    /// Start year.
    year: Option<i64>,
    min_usd: Option<String>,
    max_usd: Option<String>,
    /// Words of the title, or a project code.
    q: Option<String>,
    /// updated, code, title, budget, start, status.
    sort: Option<String>,
    descending: Option<bool>,
    page: Option<u32>,
    /// At most 200.
    per_page: Option<u32>,
}

/// The portfolio in the caller's scope: filtered, sorted, paginated, with totals.
#[utoipa::path(get, path = "/api/v1/projects", tag = "projects", params(PortfolioParams),
    responses((status = 200, body = Page), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PortfolioQuery>,
) -> AppResult<Json<Page>> {
    Ok(Json(
        state
            .store
            .portfolio(&state.org().org, &caller.actor(), &q)
            .await?,
    ))
}

/// Totals by region, country, status, theme, donor and year; the pipeline; the burn rate.
#[utoipa::path(get, path = "/api/v1/projects/totals", tag = "projects", params(PortfolioParams),
    responses((status = 200, body = PortfolioTotals)))]
pub async fn totals(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PortfolioQuery>,
) -> AppResult<Json<PortfolioTotals>> {
    Ok(Json(
        state
            .store
            .portfolio_totals(&state.org().org, &caller.actor(), &q)
            .await?,
    ))
}

/// The portfolio as CSV (every matching project; same filters as the list).
#[utoipa::path(get, path = "/api/v1/projects/export.csv", tag = "projects", params(PortfolioParams),
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn export_csv(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PortfolioQuery>,
) -> AppResult<Response> {
    let mut out = csv_writer();
    out.write_record([
        "code",
        "title",
        "status",
        "office",
        "region",
        "primary_country",
        "thematic_area",
        "start_date",
        "end_date",
        "budget_usd",
        "restricted",
    ])
    .map_err(|e| AppError::Internal(e.to_string()))?;
    let mut failed = None;
    state
        .store
        .portfolio_all(&state.org().org, &caller.actor(), &q, |r| {
            let budget = r.budget_usd.map(|b| b.to_string()).unwrap_or_default();
            if let Err(e) = out.write_record([
                r.code.as_str(),
                r.title.as_str(),
                r.status.as_str(),
                r.unit.as_str(),
                r.region.as_str(),
                r.primary_country.as_str(),
                r.thematic_area.as_str(),
                r.start_date.as_str(),
                r.end_date.as_str(),
                budget.as_str(),
                if r.restricted { "yes" } else { "no" },
            ]) {
                failed = Some(e);
            }
        })
        .await?;
    if let Some(e) = failed {
        return Err(AppError::Internal(e.to_string()));
    }
    let bytes = out
        .into_inner()
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"portfolio.csv\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

/// The portfolio as an Excel workbook (every matching project; same filters as the list).
#[utoipa::path(get, path = "/api/v1/projects/export.xlsx", tag = "projects", params(PortfolioParams),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
pub async fn export_xlsx(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<PortfolioQuery>,
) -> AppResult<Response> {
    use rust_xlsxwriter::{Format, Workbook};
    let xlsx =
        |e: rust_xlsxwriter::XlsxError| AppError::Internal(format!("writing the workbook: {e}"));
    let mut workbook = Workbook::new();
    // Rows are streamed to a temporary file, so memory stays flat however many projects.
    let sheet = workbook
        .add_worksheet_with_constant_memory()
        .map_err(xlsx)?;
    sheet.set_name("Portfolio").map_err(xlsx)?;
    let bold = Format::new().set_bold();
    let money = Format::new().set_num_format("#,##0.00");
    let headers = [
        "Code",
        "Title",
        "Status",
        "Office",
        "Region",
        "Primary country",
        "Thematic area",
        "Start",
        "End",
        "Budget (USD)",
        "Restricted",
    ];
    for (col, h) in headers.iter().enumerate() {
        sheet
            .write_string_with_format(0, col as u16, *h, &bold)
            .map_err(xlsx)?;
    }
    let mut rows = Vec::new();
    state
        .store
        .portfolio_all(&state.org().org, &caller.actor(), &q, |r| {
            rows.push(r.clone())
        })
        .await?;
    for (i, r) in rows.iter().enumerate() {
        let row = i as u32 + 1;
        for (col, text) in [
            &r.code,
            &r.title,
            &r.status.as_str().to_owned(),
            &r.unit,
            &r.region,
            &r.primary_country,
            &r.thematic_area,
            &r.start_date,
            &r.end_date,
        ]
        .into_iter()
        .enumerate()
        {
            sheet
                .write_string(row, col as u16, text.as_str())
                .map_err(xlsx)?;
        }
        if let Some(b) = r.budget_usd {
            use rust_decimal::prelude::ToPrimitive;
            sheet
                .write_number_with_format(row, 9, b.to_f64().unwrap_or_default(), &money)
                .map_err(xlsx)?;
        }
        sheet
            .write_string(row, 10, if r.restricted { "yes" } else { "no" })
            .map_err(xlsx)?;
    }
    let bytes = workbook.save_to_buffer().map_err(xlsx)?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"portfolio.xlsx\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

fn csv_writer() -> csv::Writer<Vec<u8>> {
    csv::Writer::from_writer(Vec::new())
}

/// Drafts a project in an office the caller develops projects for.
#[utoipa::path(post, path = "/api/v1/projects", tag = "projects", request_body = ProjectInput,
    responses((status = 201, body = Project), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<ProjectInput>,
) -> AppResult<(StatusCode, Json<Project>)> {
    let project = state
        .store
        .create_project(&state.org().org, &caller.actor(), &input)
        .await?;
    Ok((StatusCode::CREATED, Json(project)))
}

/// One project, restricted fields as the caller's roles allow.
#[utoipa::path(get, path = "/api/v1/projects/{id}", tag = "projects", params(("id" = String, Path, description = "Id or code")),
    responses((status = 200, body = Project), (status = 403, body = crate::error::ErrorBody),
        (status = 404, body = crate::error::ErrorBody)))]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Project>> {
    Ok(Json(
        state
            .store
            .project(&state.org().org, &caller.actor(), &id)
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ProjectPatch {
    /// The version you read; a stale one gets 409 with what changed.
    pub version: i64,
    #[serde(flatten)]
    pub project: ProjectInput,
}

/// Replaces a draft's (or returned project's) content.
#[utoipa::path(patch, path = "/api/v1/projects/{id}", tag = "projects", params(("id" = String, Path)),
    request_body = ProjectPatch,
    responses((status = 200, body = Project), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(patch): Json<ProjectPatch>,
) -> AppResult<Json<Project>> {
    let project = state
        .store
        .update_project(
            &state.org().org,
            &caller.actor(),
            &id,
            &patch.project,
            patch.version,
        )
        .await?;
    Ok(Json(project))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct TransitionRequest {
    /// submit, start_review, return, resubmit, endorse, submit_to_donor, approve, activate,
    /// suspend, resume, close_operationally, close_financially, reject, withdraw.
    pub action: String,
    #[serde(default)]
    pub comment: String,
}

/// Moves the project through its lifecycle. An illegal transition gets 409 naming the allowed ones.
#[utoipa::path(post, path = "/api/v1/projects/{id}/transitions", tag = "projects", params(("id" = String, Path)),
    request_body = TransitionRequest,
    responses((status = 200, body = Project), (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn transition(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<TransitionRequest>,
) -> AppResult<Json<Project>> {
    let action = Transition::parse(&body.action).map_err(|m| AppError::invalid("action", m))?;
    let project = state
        .store
        .transition_project(
            &state.org().org,
            &caller.actor(),
            &id,
            action,
            &body.comment,
        )
        .await?;
    Ok(Json(project))
}

/// Status changes (with the delegation chain of each decision), comments and edits.
#[utoipa::path(get, path = "/api/v1/projects/{id}/history", tag = "projects", params(("id" = String, Path)),
    responses((status = 200, body = ProjectHistory)))]
pub async fn history(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<Json<ProjectHistory>> {
    Ok(Json(
        state
            .store
            .project_history(&state.org().org, &caller.actor(), &id)
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct CommentRequest {
    /// general, summary, results, budget, partners, risks, timeline, documents.
    pub section: String,
    pub body: String,
    /// The comment this answers.
    pub reply_to: Option<String>,
}

/// A reviewer's comment on a section, or the drafter's answer.
#[utoipa::path(post, path = "/api/v1/projects/{id}/comments", tag = "projects", params(("id" = String, Path)),
    request_body = CommentRequest, responses((status = 201, body = Comment)))]
pub async fn comment(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<CommentRequest>,
) -> AppResult<(StatusCode, Json<Comment>)> {
    let c = state
        .store
        .comment_on_project(
            &state.org().org,
            &caller.actor(),
            &id,
            &body.section,
            &body.body,
            body.reply_to.as_deref(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(c)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TransactionsView {
    pub transactions: Vec<Transaction>,
    #[schema(value_type = String)]
    pub budget_usd: rust_decimal::Decimal,
    #[schema(value_type = String)]
    pub committed_usd: rust_decimal::Decimal,
    #[schema(value_type = String)]
    pub spent_usd: rust_decimal::Decimal,
    #[schema(value_type = String)]
    pub received_usd: rust_decimal::Decimal,
    /// Expenditure over budget, in percent.
    #[schema(value_type = Option<String>)]
    pub burn_rate_percent: Option<rust_decimal::Decimal>,
}

/// The project's transactions with budget against actual.
#[utoipa::path(get, path = "/api/v1/projects/{id}/transactions", tag = "projects", params(("id" = String, Path)),
    responses((status = 200, body = TransactionsView)))]
pub async fn transactions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<Json<TransactionsView>> {
    let org = state.org();
    let project = state.store.project(&org.org, &caller.actor(), &id).await?;
    let transactions = state
        .store
        .transactions(&org.org, &caller.actor(), &id)
        .await?;
    Ok(Json(transactions_view(&project, transactions)))
}

pub fn transactions_view(project: &Project, transactions: Vec<Transaction>) -> TransactionsView {
    use meridian_store::projects::TransactionKind as K;
    let sum = |k: K| {
        transactions
            .iter()
            .filter(|t| t.kind == k)
            .map(|t| t.amount_usd)
            .sum()
    };
    let budget = project.budget_usd.unwrap_or_default();
    let spent: rust_decimal::Decimal = sum(K::Expenditure);
    TransactionsView {
        budget_usd: budget,
        committed_usd: sum(K::Commitment),
        received_usd: sum(K::IncomingFunds),
        burn_rate_percent: (budget > rust_decimal::Decimal::ZERO)
            .then(|| (spent * rust_decimal::Decimal::from(100) / budget).round_dp(1)),
        spent_usd: spent,
        transactions,
    }
}

/// Records a commitment, disbursement, expenditure or incoming funds.
#[utoipa::path(post, path = "/api/v1/projects/{id}/transactions", tag = "projects", params(("id" = String, Path)),
    request_body = TransactionInput, responses((status = 201, body = Transaction)))]
pub async fn add_transaction(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<TransactionInput>,
) -> AppResult<(StatusCode, Json<Transaction>)> {
    let t = state
        .store
        .add_transaction(&state.org().org, &caller.actor(), &id, &body)
        .await?;
    Ok((StatusCode::CREATED, Json(t)))
}

/// Projects waiting for the caller's review (submitted or under review, in their region).
#[utoipa::path(get, path = "/api/v1/review-queue", tag = "projects",
    responses((status = 200, body = [meridian_store::projects::PortfolioRow])))]
pub async fn review_queue(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<Vec<meridian_store::projects::PortfolioRow>>> {
    Ok(Json(
        state
            .store
            .review_queue(&state.org().org, &caller.actor())
            .await?,
    ))
}

/// The delegations of authority.
#[utoipa::path(get, path = "/api/v1/delegations", tag = "projects", responses((status = 200, body = [DelegationView])))]
pub async fn delegations(
    State(state): State<AppState>,
    _caller: Caller,
) -> AppResult<Json<Vec<DelegationView>>> {
    Ok(Json(state.store.list_delegations().await?))
}

/// Issues a delegation (or a sub-delegation, which may only narrow its parent).
#[utoipa::path(post, path = "/api/v1/delegations", tag = "projects", request_body = DelegationInput,
    responses((status = 201, body = DelegationView), (status = 403, body = crate::error::ErrorBody)))]
pub async fn create_delegation(
    State(state): State<AppState>,
    caller: Caller,
    Json(body): Json<DelegationInput>,
) -> AppResult<(StatusCode, Json<DelegationView>)> {
    let d = state
        .store
        .create_delegation(&state.org().org, &caller.actor(), &body)
        .await?;
    Ok((StatusCode::CREATED, Json(d)))
}

/// Revokes a delegation; decisions already taken under it keep their record.
#[utoipa::path(post, path = "/api/v1/delegations/{id}/revoke", tag = "projects", params(("id" = String, Path)),
    responses((status = 200, body = DelegationView)))]
pub async fn revoke_delegation(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<Json<DelegationView>> {
    Ok(Json(
        state
            .store
            .revoke_delegation(&state.org().org, &caller.actor(), &id)
            .await?,
    ))
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RateView {
    pub currency: String,
    /// YYYY-MM-DD: in force from this day until the next rate.
    pub effective: String,
    /// US dollars for one unit of the currency.
    pub usd_per_unit: String,
}

/// The exchange-rate table.
#[utoipa::path(get, path = "/api/v1/exchange-rates", tag = "projects", responses((status = 200, body = [RateView])))]
pub async fn rates(
    State(state): State<AppState>,
    _caller: Caller,
) -> AppResult<Json<Vec<RateView>>> {
    let rates = state.store.exchange_rates().await?;
    Ok(Json(
        rates
            .iter()
            .map(|r| RateView {
                currency: r.currency.to_string(),
                effective: r.effective.to_string(),
                usd_per_unit: r.usd_per_unit.normalize().to_string(),
            })
            .collect(),
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct RatesImported {
    pub imported: usize,
}

/// Adds rates, all or nothing: a JSON list of rates, or a CSV body (`text/csv`) with the header
/// `currency,date,usd_per_unit`. Every bad row is reported with its row number.
#[utoipa::path(post, path = "/api/v1/exchange-rates", tag = "projects", request_body = [RateView],
    responses((status = 201, body = RatesImported), (status = 422, body = crate::error::ErrorBody)))]
pub async fn put_rates(
    State(state): State<AppState>,
    caller: Caller,
    headers: HeaderMap,
    body: Bytes,
) -> AppResult<(StatusCode, Json<RatesImported>)> {
    let is_csv = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv"));
    let rates: Vec<ExchangeRate> = if is_csv {
        RateTable::parse_csv("upload.csv", body.as_ref())
            .map_err(|e| AppError::invalid("csv", e.to_string()))?
    } else {
        let list: Vec<RateView> = serde_json::from_slice(&body).map_err(|e| {
            AppError::invalid("body", format!("expected a JSON list of rates: {e}"))
        })?;
        list.iter()
            .enumerate()
            .map(|(i, r)| rate_from_view(i, r))
            .collect::<AppResult<Vec<_>>>()?
    };
    let n = state
        .store
        .put_exchange_rates(&state.org().org, &caller.actor(), &rates)
        .await?;
    Ok((StatusCode::CREATED, Json(RatesImported { imported: n })))
}

fn rate_from_view(i: usize, r: &RateView) -> AppResult<ExchangeRate> {
    use meridian_domain::projects::money::Currency;
    use std::str::FromStr;
    let bad = |field: &str, message: String| {
        AppError::invalid(field, format!("rates[{i}].{field}: {message}"))
    };
    let currency = Currency::parse(&r.currency).map_err(|m| bad("currency", m))?;
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let effective = time::Date::parse(r.effective.trim(), &format).map_err(|_| {
        bad(
            "effective",
            format!("expected a date like 2026-01-31, found {:?}", r.effective),
        )
    })?;
    let usd_per_unit = rust_decimal::Decimal::from_str(r.usd_per_unit.trim()).map_err(|_| {
        bad(
            "usd_per_unit",
            format!("expected a number like 0.0017, found {:?}", r.usd_per_unit),
        )
    })?;
    Ok(ExchangeRate {
        currency,
        effective,
        usd_per_unit,
    })
}

/// A project's revisions, each with the proposal and, once approved, the baseline it replaced.
#[utoipa::path(get, path = "/api/v1/projects/{id}/revisions", tag = "projects", params(("id" = String, Path)),
    responses((status = 200, body = [meridian_store::projects::Revision])))]
pub async fn revisions(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<meridian_store::projects::Revision>>> {
    Ok(Json(
        state
            .store
            .revisions(&state.org().org, &caller.actor(), &id)
            .await?,
    ))
}

/// Drafts a revision of an active project: budget_revision, no_cost_extension or scope_change.
#[utoipa::path(post, path = "/api/v1/projects/{id}/revisions", tag = "projects", params(("id" = String, Path)),
    request_body = meridian_store::projects::RevisionInput,
    responses((status = 201, body = meridian_store::projects::Revision), (status = 409, body = crate::error::ErrorBody)))]
pub async fn create_revision(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<meridian_store::projects::RevisionInput>,
) -> AppResult<(StatusCode, Json<meridian_store::projects::Revision>)> {
    let r = state
        .store
        .create_revision(&state.org().org, &caller.actor(), &id, &body)
        .await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// Submits, returns, resubmits, approves, rejects or withdraws a revision.
#[utoipa::path(post, path = "/api/v1/revisions/{id}/transitions", tag = "projects", params(("id" = String, Path)),
    request_body = TransitionRequest,
    responses((status = 200, body = meridian_store::projects::Revision), (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn transition_revision(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<TransitionRequest>,
) -> AppResult<Json<meridian_store::projects::Revision>> {
    use meridian_domain::projects::lifecycle::RevisionTransition;
    let action =
        RevisionTransition::parse(&body.action).map_err(|m| AppError::invalid("action", m))?;
    let r = state
        .store
        .transition_revision(
            &state.org().org,
            &caller.actor(),
            &id,
            action,
            &body.comment,
        )
        .await?;
    Ok(Json(r))
}

/// The documents of a project.
#[utoipa::path(get, path = "/api/v1/projects/{id}/documents", tag = "projects", params(("id" = String, Path)),
    responses((status = 200, body = [meridian_store::projects::Document])))]
pub async fn documents(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<meridian_store::projects::Document>>> {
    Ok(Json(
        state
            .store
            .documents(&state.org().org, &caller.actor(), &id)
            .await?,
    ))
}

/// Uploads a document (multipart/form-data: `doc_type` and `file`; at most 20 MB; PDF, Office,
/// OpenDocument, PNG, JPEG, CSV or text, checked by content).
#[utoipa::path(post, path = "/api/v1/projects/{id}/documents", tag = "projects", params(("id" = String, Path)),
    request_body(content_type = "multipart/form-data", content = String),
    responses((status = 201, body = meridian_store::projects::Document), (status = 422, body = crate::error::ErrorBody)))]
pub async fn upload_document(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    mut multipart: axum::extract::Multipart,
) -> AppResult<(StatusCode, Json<meridian_store::projects::Document>)> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        AppError::invalid("file", format!("the upload could not be read: {e}"))
    };
    let mut doc_type = String::from("other");
    let mut file: Option<(String, Vec<u8>)> = None;
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
    let (name, bytes) =
        file.ok_or_else(|| AppError::invalid("file", "attach the document as the field `file`"))?;
    let doc = state
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
        .await?;
    Ok((StatusCode::CREATED, Json(doc)))
}

/// Downloads a document.
#[utoipa::path(get, path = "/api/v1/documents/{id}", tag = "projects", params(("id" = String, Path)),
    responses((status = 200, content_type = "application/octet-stream", body = Vec<u8>)))]
pub async fn download_document(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let (doc, bytes) = state
        .store
        .document(&state.org().org, &caller.actor(), &state.documents, &id)
        .await?;
    let safe_name: String = doc
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
            (header::CONTENT_TYPE, doc.content_type.clone()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{safe_name}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}
