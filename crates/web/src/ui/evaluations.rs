//! The evaluation pages: the registry with its filters, the registration and edit form, the
//! evaluation page with its recommendations, management responses and key actions (and a form
//! for each), and a unit's tracking page. Every read and write goes through the store's
//! evaluation functions, so the one permission layer decides what each person sees and may do.

use super::{Fields, Shell, can, is_htmx, render, urlencode};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::state::{AppState, OrgSnapshot};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Redirect, Response};
use meridian_domain::authz::Action;
use meridian_domain::evaluations::{
    ActionStatus, Criterion, EvaluationStatus, EvaluationType, Independence, Priority,
    QualityRating, ResponseKind,
};
use meridian_domain::projects::money::{Currency, Money, format_usd};
use meridian_store::evaluations::{
    Evaluation, EvaluationInput, EvaluationQuery, EvaluationRecommendationInput, EvaluationRow,
    EvaluationTracking, KeyActionInput, KeyActionPatch, ManagementResponseInput,
};
use rust_decimal::Decimal;
use serde::Deserialize;

/// Fields the store names in its errors, each with an `evaluation.field.<name>` label.
pub const FIELDS: &[&str] = &[
    "title",
    "summary",
    "eval_type",
    "unit",
    "projects",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "budget",
    "currency",
    "criteria",
    "independence",
    "status",
    "quality_rating",
    "text",
    "addressee",
    "priority",
    "response",
    "description",
    "owner",
    "person",
    "due_date",
    "comments",
    "file",
    "year",
    "version",
];

/// The evaluation pages' routes, merged into the UI router (inside its error pages).
pub fn routes() -> axum::Router<AppState> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/evaluations", get(list))
        .route("/evaluations/new", get(new_page).post(create))
        .route("/evaluations/tracking", get(tracking))
        .route("/evaluations/{id}", get(page))
        .route("/evaluations/{id}/edit", get(edit_page).post(edit))
        .route(
            "/evaluations/{id}/report",
            get(download_report)
                .post(upload_report)
                .layer(axum::extract::DefaultBodyLimit::max(
                    meridian_domain::projects::documents::MAX_DOCUMENT_BYTES + 64 * 1024,
                )),
        )
        .route(
            "/evaluations/{id}/recommendations",
            post(add_recommendation),
        )
        .route("/evaluations/recommendations/{id}/response", post(respond))
        .route(
            "/evaluations/recommendations/{id}/actions",
            post(add_action),
        )
        .route("/evaluations/actions/{id}", post(update_action))
}

/// Evaluations per page of the registry.
const PER_PAGE: u32 = 50;

/// The label of a code, e.g. `label(t, "status", "ongoing")` → `evaluation.status.ongoing`.
fn label(t: Tr, prefix: &str, code: &str) -> &'static str {
    t.get(&format!("evaluation.{prefix}.{code}"))
}

fn options<T: Copy>(t: Tr, prefix: &str, all: &[T], code: fn(T) -> &'static str) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice {
            code: code(*v),
            label: label(t, prefix, code(*v)),
        })
        .collect()
}

pub struct Choice {
    code: &'static str,
    label: &'static str,
}

/// An error shown next to the form it concerns, with the field's name in the reader's language.
pub struct FormError {
    field: Option<String>,
    field_label: Option<String>,
    message: String,
}

impl FormError {
    fn new(t: Tr, e: &AppError) -> Self {
        let field = e.field().map(str::to_owned);
        Self {
            field_label: field.as_deref().map(|f| {
                if FIELDS.contains(&f) {
                    label(t, "field", f).to_owned()
                } else {
                    f.to_owned()
                }
            }),
            field,
            message: e.to_string(),
        }
    }

    fn is(&self, field: &str) -> bool {
        self.field.as_deref() == Some(field)
    }
}

/// Errors the person can act on in the page (others become an error page).
fn shown_in_page(e: &AppError) -> bool {
    matches!(
        e,
        AppError::Invalid { .. } | AppError::Conflict(_) | AppError::Forbidden(_)
    )
}

fn with_status(mut page: Response, e: &AppError) -> Response {
    *page.status_mut() = e.status();
    page
}

fn shell(t: Tr, caller: &Caller, uri: &Uri) -> Shell {
    Shell::new(t, Some(caller), "evaluations", uri)
}

fn money(amount: Decimal, currency: &str) -> String {
    Currency::parse(currency)
        .ok()
        .and_then(|c| Money::new_signed(amount.round_dp(c.minor_units()), c).ok())
        .map_or_else(|| format!("{amount} {currency}"), |m| m.to_string())
}

fn short_time(at: &str) -> String {
    at.get(..16).unwrap_or(at).replace('T', " ")
}

fn unit_name(snap: &OrgSnapshot, code: &str) -> String {
    snap.org
        .unit(code)
        .map_or_else(|| code.to_owned(), |u| u.name.clone())
}

/// Units in the caller's scope, for the unit fields' suggestions.
fn unit_options(snap: &OrgSnapshot, caller: &Caller) -> Vec<(String, String)> {
    let scope = caller.actor().scope(&snap.org);
    snap.org
        .units_in_scope(&scope)
        .into_iter()
        .filter_map(|c| snap.org.unit(c.as_str()))
        .map(|u| (u.code.to_string(), u.name.clone()))
        .collect()
}

fn go_to(path: String) -> Response {
    Redirect::to(&path).into_response()
}

// ---------------------------------------------------------------------------------------------
// The registry

/// The filter form as typed: every field is text, so an empty box means "any".
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Filters {
    q: String,
    status: String,
    eval_type: String,
    unit: String,
    independence: String,
    year: String,
    page: String,
}

impl Filters {
    fn query(&self) -> EvaluationQuery {
        let some = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        EvaluationQuery {
            q: some(&self.q),
            status: some(&self.status),
            eval_type: some(&self.eval_type),
            unit: some(&self.unit),
            independence: some(&self.independence),
            year: some(&self.year),
            project: None,
            page: Some(self.page.trim().parse().unwrap_or(1).max(1)),
            per_page: Some(PER_PAGE),
        }
    }

    fn query_string(&self, page: u32) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("q", &self.q),
            ("status", &self.status),
            ("eval_type", &self.eval_type),
            ("unit", &self.unit),
            ("independence", &self.independence),
            ("year", &self.year),
        ] {
            if !v.trim().is_empty() {
                out.append_pair(k, v.trim());
            }
        }
        if page > 1 {
            out.append_pair("page", &page.to_string());
        }
        out.finish()
    }
}

pub struct Line {
    code: String,
    title: String,
    eval_type: &'static str,
    unit: String,
    status: &'static str,
    status_label: &'static str,
    end: String,
    budget_usd: Option<String>,
    recommendations: i64,
    awaiting_response: i64,
    late_responses: i64,
    open_actions: i64,
    overdue_actions: i64,
}

impl Line {
    fn new(t: Tr, r: EvaluationRow) -> Self {
        Self {
            eval_type: label(t, "type", r.eval_type.as_str()),
            status: status_class(r.status),
            status_label: label(t, "status", r.status.as_str()),
            end: r.actual_end.unwrap_or(r.planned_end),
            budget_usd: r.budget_usd.map(format_usd),
            recommendations: r.recommendations,
            awaiting_response: r.awaiting_response,
            late_responses: r.late_responses,
            open_actions: r.open_actions,
            overdue_actions: r.overdue_actions,
            code: r.code,
            title: r.title,
            unit: r.unit,
        }
    }
}

/// The badge colour of a status (the stylesheet's project status classes).
fn status_class(s: EvaluationStatus) -> &'static str {
    match s {
        EvaluationStatus::Planned => "planned",
        EvaluationStatus::Ongoing => "submitted",
        EvaluationStatus::Completed => "approved",
        EvaluationStatus::Cancelled => "rejected",
    }
}

struct Results {
    error: Option<FormError>,
    rows: Vec<Line>,
    total: i64,
    previous: Option<String>,
    next: Option<String>,
}

#[derive(Template)]
#[template(path = "evaluations/list.html")]
struct ListPage {
    shell: Shell,
    filters: Filters,
    statuses: Vec<Choice>,
    types: Vec<Choice>,
    independences: Vec<Choice>,
    units: Vec<(String, String)>,
    can_register: bool,
    home: String,
    results: Results,
}

#[derive(Template)]
#[template(path = "evaluations/list_results.html")]
struct ResultsFragment {
    shell: Shell,
    results: Results,
}

pub async fn list(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    headers: HeaderMap,
    caller: Caller,
    Query(filters): Query<Filters>,
) -> AppResult<Response> {
    let snap = state.org();
    let found = state
        .store
        .evaluations(&snap.org, &caller.actor(), &filters.query())
        .await
        .map_err(AppError::from);
    let (results, error) = match found {
        Ok(page) => {
            let pages = u32::try_from(page.total)
                .unwrap_or(u32::MAX)
                .div_ceil(page.per_page)
                .max(1);
            let link = |n: u32| format!("/evaluations?{}", filters.query_string(n));
            (
                Results {
                    error: None,
                    total: page.total,
                    previous: (page.page > 1).then(|| link(page.page - 1)),
                    next: (page.page < pages).then(|| link(page.page + 1)),
                    rows: page.rows.into_iter().map(|r| Line::new(t, r)).collect(),
                },
                None,
            )
        }
        Err(e) if matches!(e, AppError::Invalid { .. }) => (
            Results {
                error: Some(FormError::new(t, &e)),
                rows: Vec::new(),
                total: 0,
                previous: None,
                next: None,
            },
            Some(e),
        ),
        Err(e) => return Err(e),
    };
    let shell = shell(t, &caller, &uri);
    let mut page = if is_htmx(&headers) {
        render(&ResultsFragment { shell, results })?
    } else {
        render(&ListPage {
            shell,
            statuses: options(t, "status", EvaluationStatus::ALL, EvaluationStatus::as_str),
            types: options(t, "type", EvaluationType::ALL, EvaluationType::as_str),
            independences: options(t, "independence", Independence::ALL, Independence::as_str),
            units: unit_options(&snap, &caller),
            can_register: may_register(&state, &caller),
            home: caller.user.unit.to_string(),
            filters,
            results,
        })?
    };
    page.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("HX-Request"));
    Ok(match error {
        Some(e) => with_status(page, &e),
        None => page,
    })
}

/// Whether the caller may register evaluations for their own unit (M&E officers at
/// headquarters and regional offices).
fn may_register(state: &AppState, caller: &Caller) -> bool {
    can(
        state,
        caller,
        Action::ManageEvaluations,
        caller.user.unit.as_str(),
    )
}

// ---------------------------------------------------------------------------------------------
// The registration and edit form

/// The form's values as text, as typed or as stored.
#[derive(Debug, Clone, Default)]
pub struct EvalForm {
    title: String,
    summary: String,
    eval_type: String,
    unit: String,
    projects: String,
    planned_start: String,
    planned_end: String,
    actual_start: String,
    actual_end: String,
    budget: String,
    currency: String,
    criteria: Vec<String>,
    independence: String,
    status: String,
    quality_rating: String,
}

impl EvalForm {
    fn from_fields(f: &Fields) -> Self {
        Self {
            title: f.get("title"),
            summary: f.text("summary").trim().to_owned(),
            eval_type: f.get("eval_type"),
            unit: f.get("unit"),
            projects: f.get("projects"),
            planned_start: f.get("planned_start"),
            planned_end: f.get("planned_end"),
            actual_start: f.get("actual_start"),
            actual_end: f.get("actual_end"),
            budget: f.get("budget"),
            currency: f.get("currency"),
            criteria: f.all("criteria"),
            independence: f.get("independence"),
            status: f.get("status"),
            quality_rating: f.get("quality_rating"),
        }
    }

    fn from_evaluation(e: &Evaluation) -> Self {
        Self {
            title: e.title.clone(),
            summary: e.summary.clone(),
            eval_type: e.eval_type.as_str().to_owned(),
            unit: e.unit.clone(),
            projects: e
                .projects
                .iter()
                .map(|p| p.code.clone())
                .collect::<Vec<_>>()
                .join(", "),
            planned_start: e.planned_start.clone(),
            planned_end: e.planned_end.clone(),
            actual_start: e.actual_start.clone().unwrap_or_default(),
            actual_end: e.actual_end.clone().unwrap_or_default(),
            budget: e.budget.map(|b| b.to_string()).unwrap_or_default(),
            currency: e.currency.clone().unwrap_or_default(),
            criteria: e.criteria.iter().map(|c| c.as_str().to_owned()).collect(),
            independence: e.independence.as_str().to_owned(),
            status: e.status.as_str().to_owned(),
            quality_rating: e
                .quality_rating
                .map(|q| q.as_str().to_owned())
                .unwrap_or_default(),
        }
    }

    fn input(&self) -> EvaluationInput {
        let opt = |s: &str| (!s.is_empty()).then(|| s.to_owned());
        EvaluationInput {
            title: self.title.clone(),
            summary: self.summary.clone(),
            eval_type: self.eval_type.clone(),
            unit: self.unit.clone(),
            projects: self
                .projects
                .split([',', ' ', ';', '\n'])
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect(),
            planned_start: self.planned_start.clone(),
            planned_end: self.planned_end.clone(),
            actual_start: opt(&self.actual_start),
            actual_end: opt(&self.actual_end),
            budget: opt(&self.budget),
            currency: opt(&self.currency),
            criteria: self.criteria.clone(),
            independence: self.independence.clone(),
            status: self.status.clone(),
            quality_rating: opt(&self.quality_rating),
        }
    }

    fn has(&self, criterion: &str) -> bool {
        self.criteria.iter().any(|c| c == criterion)
    }
}

#[derive(Template)]
#[template(path = "evaluations/form.html")]
struct FormPage {
    shell: Shell,
    heading: String,
    action: String,
    cancel: String,
    version: Option<i64>,
    form: EvalForm,
    /// After a conflict: what the person had typed, shown beside the current values.
    yours: Option<EvalForm>,
    error: Option<FormError>,
    types: Vec<Choice>,
    statuses: Vec<Choice>,
    independences: Vec<Choice>,
    qualities: Vec<Choice>,
    criteria: Vec<Choice>,
    units: Vec<(String, String)>,
    currencies: Vec<(&'static str, &'static str)>,
}

impl FormPage {
    fn invalid(&self, field: &str) -> bool {
        self.error.as_ref().is_some_and(|e| e.is(field))
    }
}

struct FormView {
    heading: String,
    action: String,
    cancel: String,
    version: Option<i64>,
}

#[allow(clippy::too_many_arguments)]
fn form_page(
    state: &AppState,
    caller: &Caller,
    t: Tr,
    uri: &Uri,
    view: FormView,
    form: EvalForm,
    yours: Option<EvalForm>,
    error: Option<&AppError>,
) -> AppResult<Response> {
    let snap = state.org();
    let page = FormPage {
        shell: shell(t, caller, uri),
        heading: view.heading,
        action: view.action,
        cancel: view.cancel,
        version: view.version,
        form,
        yours,
        error: error.map(|e| FormError::new(t, e)),
        types: options(t, "type", EvaluationType::ALL, EvaluationType::as_str),
        statuses: options(t, "status", EvaluationStatus::ALL, EvaluationStatus::as_str),
        independences: options(t, "independence", Independence::ALL, Independence::as_str),
        qualities: options(t, "quality", QualityRating::ALL, QualityRating::as_str),
        criteria: options(t, "criterion", Criterion::ALL, Criterion::as_str),
        units: unit_options(&snap, caller),
        currencies: Currency::all().map(|c| (c.code(), c.name())).collect(),
    };
    let response = render(&page)?;
    Ok(match error {
        Some(e) => with_status(response, e),
        None => response,
    })
}

fn new_view(t: Tr) -> FormView {
    FormView {
        heading: t.get("evaluation.new").to_owned(),
        action: "/evaluations/new".into(),
        cancel: "/evaluations".into(),
        version: None,
    }
}

pub async fn new_page(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
) -> AppResult<Response> {
    meridian_domain::authz::authorize(
        &state.org().org,
        &caller.actor(),
        Action::ManageEvaluations,
        &caller.user.unit,
    )?;
    let form = EvalForm {
        unit: caller.user.unit.to_string(),
        status: "planned".into(),
        currency: "USD".into(),
        ..Default::default()
    };
    form_page(&state, &caller, t, &uri, new_view(t), form, None, None)
}

pub async fn create(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    body: Bytes,
) -> AppResult<Response> {
    let form = EvalForm::from_fields(&Fields::parse(&body));
    let created = state
        .store
        .create_evaluation(&state.org().org, &caller.actor(), &form.input())
        .await
        .map_err(AppError::from);
    match created {
        Ok(ev) => Ok(go_to(format!("/evaluations/{}", urlencode(&ev.code)))),
        Err(e) if shown_in_page(&e) => {
            form_page(&state, &caller, t, &uri, new_view(t), form, None, Some(&e))
        }
        Err(e) => Err(e),
    }
}

fn edit_view(t: Tr, ev: &Evaluation) -> FormView {
    FormView {
        heading: format!("{} {}", t.get("evaluation.edit"), ev.code),
        action: format!("/evaluations/{}/edit", urlencode(&ev.code)),
        cancel: format!("/evaluations/{}", urlencode(&ev.code)),
        version: Some(ev.version),
    }
}

pub async fn edit_page(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let snap = state.org();
    let ev = state
        .store
        .evaluation(&snap.org, &caller.actor(), &id)
        .await?;
    if !can(&state, &caller, Action::ManageEvaluations, &ev.unit) {
        let unit = meridian_domain::org::UnitCode::parse(&ev.unit).map_err(AppError::Internal)?;
        meridian_domain::authz::authorize(
            &snap.org,
            &caller.actor(),
            Action::ManageEvaluations,
            &unit,
        )?;
    }
    let form = EvalForm::from_evaluation(&ev);
    form_page(
        &state,
        &caller,
        t,
        &uri,
        edit_view(t, &ev),
        form,
        None,
        None,
    )
}

pub async fn edit(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let snap = state.org();
    let fields = Fields::parse(&body);
    let form = EvalForm::from_fields(&fields);
    let saved = match fields.get("version").parse::<i64>() {
        Err(_) => Err(AppError::invalid(
            "version",
            "the form lost its version; reload the page",
        )),
        Ok(v) => state
            .store
            .update_evaluation(&snap.org, &caller.actor(), &id, &form.input(), v)
            .await
            .map_err(AppError::from),
    };
    let e = match saved {
        Ok(ev) => return Ok(go_to(format!("/evaluations/{}", urlencode(&ev.code)))),
        Err(e) if shown_in_page(&e) => e,
        Err(e) => return Err(e),
    };
    let current = state
        .store
        .evaluation(&snap.org, &caller.actor(), &id)
        .await?;
    let view = edit_view(t, &current);
    if let AppError::Conflict(_) = e {
        // Someone saved first: the form holds the current values and version, and what the
        // person typed is shown beside it, so nothing is overwritten and nothing is lost.
        let now = EvalForm::from_evaluation(&current);
        form_page(&state, &caller, t, &uri, view, now, Some(form), Some(&e))
    } else {
        let view = FormView {
            version: fields.get("version").parse().ok(),
            ..view
        };
        form_page(&state, &caller, t, &uri, view, form, None, Some(&e))
    }
}

// ---------------------------------------------------------------------------------------------
// The evaluation page

pub struct Facts {
    code: String,
    title: String,
    summary: String,
    eval_type: &'static str,
    unit: String,
    unit_name: String,
    status: &'static str,
    status_label: &'static str,
    independence: &'static str,
    criteria: Vec<&'static str>,
    planned: String,
    actual: String,
    budget: Option<String>,
    budget_usd: Option<String>,
    quality: Option<&'static str>,
    projects: Vec<(String, String)>,
    report: Option<ReportView>,
    response_due: Option<String>,
    updated: String,
}

pub struct ReportView {
    name: String,
    size: String,
    uploaded_by: String,
    uploaded_at: String,
}

pub struct ResponseView {
    kind: &'static str,
    label: &'static str,
    text: String,
    by: String,
    at: String,
}

pub struct ActionView {
    id: String,
    description: String,
    owner: String,
    person: String,
    due: String,
    status: &'static str,
    status_label: &'static str,
    comments: String,
    overdue: bool,
    version: i64,
    can_update: bool,
    error: Option<FormError>,
}

pub struct RecView {
    id: String,
    number: i64,
    text: String,
    addressee: String,
    addressee_name: String,
    priority: &'static str,
    response: Option<ResponseView>,
    response_due: Option<String>,
    late: bool,
    version: i64,
    can_respond: bool,
    can_add_action: bool,
    actions: Vec<ActionView>,
    response_error: Option<FormError>,
    action_error: Option<FormError>,
    typed: Typed,
}

/// What the person typed in a refused form, put back where they typed it.
#[derive(Default, Clone)]
pub struct Typed {
    response: String,
    text: String,
    description: String,
    owner: String,
    person: String,
    due_date: String,
    priority: String,
    addressee: String,
}

/// Which form on the page a refusal belongs to.
#[derive(Clone, PartialEq, Eq)]
enum Place {
    Report,
    EvaluationRecommendation,
    Response(String),
    NewAction(String),
    Action(String),
}

#[derive(Template)]
#[template(path = "evaluations/evaluation.html")]
struct EvaluationPage {
    shell: Shell,
    e: Facts,
    recommendations: Vec<RecView>,
    can_manage: bool,
    takes_recommendations: bool,
    priorities: Vec<Choice>,
    responses: Vec<Choice>,
    action_statuses: Vec<Choice>,
    units: Vec<(String, String)>,
    report_error: Option<FormError>,
    recommendation_error: Option<FormError>,
    typed: Typed,
    response_days: i64,
}

fn facts(snap: &OrgSnapshot, t: Tr, e: &Evaluation) -> Facts {
    Facts {
        code: e.code.clone(),
        title: e.title.clone(),
        summary: e.summary.clone(),
        eval_type: label(t, "type", e.eval_type.as_str()),
        unit_name: unit_name(snap, &e.unit),
        unit: e.unit.clone(),
        status: status_class(e.status),
        status_label: label(t, "status", e.status.as_str()),
        independence: label(t, "independence", e.independence.as_str()),
        criteria: e
            .criteria
            .iter()
            .map(|c| label(t, "criterion", c.as_str()))
            .collect(),
        planned: format!("{} – {}", e.planned_start, e.planned_end),
        actual: match (&e.actual_start, &e.actual_end) {
            (Some(s), Some(end)) => format!("{s} – {end}"),
            (Some(s), None) => format!("{s} –"),
            _ => "—".to_owned(),
        },
        budget: match (e.budget, &e.currency) {
            (Some(b), Some(c)) => Some(money(b, c)),
            _ => None,
        },
        budget_usd: e
            .budget_usd
            .filter(|_| e.currency.as_deref() != Some("USD"))
            .map(format_usd),
        quality: e.quality_rating.map(|q| label(t, "quality", q.as_str())),
        projects: e
            .projects
            .iter()
            .map(|p| (p.code.clone(), p.title.clone()))
            .collect(),
        report: e.report.as_ref().map(|r| ReportView {
            name: r.name.clone(),
            size: format!("{:.1} MB", r.size_bytes as f64 / 1_048_576.0),
            uploaded_by: r.uploaded_by.clone(),
            uploaded_at: short_time(&r.uploaded_at),
        }),
        response_due: e.response_due.clone(),
        updated: short_time(&e.updated_at),
    }
}

async fn evaluation_page(
    state: &AppState,
    caller: &Caller,
    t: Tr,
    uri: &Uri,
    id: &str,
    error: Option<(Place, &AppError)>,
    typed: Typed,
) -> AppResult<Response> {
    let snap = state.org();
    let ev = state
        .store
        .evaluation(&snap.org, &caller.actor(), id)
        .await?;
    let error_at = |place: &Place| {
        error
            .as_ref()
            .filter(|(p, _)| p == place)
            .map(|(_, e)| FormError::new(t, e))
    };
    let typed_at = |place: &Place| {
        if error.as_ref().is_some_and(|(p, _)| p == place) {
            typed.clone()
        } else {
            Typed::default()
        }
    };
    let recommendations = ev
        .recommendations
        .iter()
        .map(|r| {
            let may_respond = can(state, caller, Action::RespondToEvaluations, &r.addressee);
            let response_place = Place::Response(r.id.clone());
            let action_place = Place::NewAction(r.id.clone());
            let mut typed = typed_at(&response_place);
            let for_action = typed_at(&action_place);
            typed.description = for_action.description;
            typed.owner = if for_action.owner.is_empty() {
                r.addressee.clone()
            } else {
                for_action.owner
            };
            typed.person = for_action.person;
            typed.due_date = for_action.due_date;
            if typed.response.is_empty()
                && let Some(resp) = &r.response
            {
                typed.response = resp.response.as_str().to_owned();
                typed.text = resp.text.clone();
            }
            RecView {
                id: r.id.clone(),
                number: r.number,
                text: r.text.clone(),
                addressee_name: unit_name(&snap, &r.addressee),
                addressee: r.addressee.clone(),
                priority: label(t, "priority", r.priority.as_str()),
                response: r.response.as_ref().map(|x| ResponseView {
                    kind: x.response.as_str(),
                    label: label(t, "response", x.response.as_str()),
                    text: x.text.clone(),
                    by: x.responded_by.clone(),
                    at: short_time(&x.first_responded_at),
                }),
                response_due: r.response_due.clone(),
                late: r.response_late,
                version: r.version,
                can_respond: may_respond && ev.status == EvaluationStatus::Completed,
                can_add_action: may_respond
                    && r.response
                        .as_ref()
                        .is_some_and(|x| x.response.takes_actions()),
                actions: r
                    .actions
                    .iter()
                    .map(|a| ActionView {
                        id: a.id.clone(),
                        description: a.description.clone(),
                        owner: a.owner.clone(),
                        person: a.person.clone(),
                        due: a.due_date.clone(),
                        status: a.status.as_str(),
                        status_label: label(t, "action_status", a.status.as_str()),
                        comments: a.comments.clone(),
                        overdue: a.overdue,
                        version: a.version,
                        can_update: may_respond
                            || can(state, caller, Action::RespondToEvaluations, &a.owner),
                        error: error_at(&Place::Action(a.id.clone())),
                    })
                    .collect(),
                response_error: error_at(&response_place),
                action_error: error_at(&action_place),
                typed,
            }
        })
        .collect();
    let page = EvaluationPage {
        shell: shell(t, caller, uri),
        can_manage: can(state, caller, Action::ManageEvaluations, &ev.unit),
        takes_recommendations: ev.status.takes_recommendations(),
        priorities: options(t, "priority", Priority::ALL, Priority::as_str),
        responses: options(t, "response", ResponseKind::ALL, ResponseKind::as_str),
        action_statuses: options(t, "action_status", ActionStatus::ALL, ActionStatus::as_str),
        units: unit_options(&snap, caller),
        report_error: error_at(&Place::Report),
        recommendation_error: error_at(&Place::EvaluationRecommendation),
        typed: typed_at(&Place::EvaluationRecommendation),
        response_days: meridian_domain::evaluations::MANAGEMENT_RESPONSE_DAYS,
        recommendations,
        e: facts(&snap, t, &ev),
    };
    let response = render(&page)?;
    Ok(match error {
        Some((_, e)) => with_status(response, e),
        None => response,
    })
}

pub async fn page(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    evaluation_page(&state, &caller, t, &uri, &id, None, Typed::default()).await
}

/// After a form: back to the evaluation at `anchor`, or the page again with the refusal where
/// it happened.
async fn outcome<T>(
    result: Result<T, AppError>,
    ctx: (&AppState, &Caller, Tr, &Uri),
    evaluation: &str,
    place: Place,
    anchor: &str,
    typed: Typed,
) -> AppResult<Response> {
    let (state, caller, t, uri) = ctx;
    match result {
        Ok(_) => Ok(go_to(format!(
            "/evaluations/{}#{anchor}",
            urlencode(evaluation)
        ))),
        Err(e) if shown_in_page(&e) => {
            evaluation_page(state, caller, t, uri, evaluation, Some((place, &e)), typed).await
        }
        Err(e) => Err(e),
    }
}

pub async fn add_recommendation(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let f = Fields::parse(&body);
    let typed = Typed {
        text: f.text("text").trim().to_owned(),
        addressee: f.get("addressee"),
        priority: f.get("priority"),
        ..Default::default()
    };
    let result = state
        .store
        .add_recommendation(
            &state.org().org,
            &caller.actor(),
            &id,
            &EvaluationRecommendationInput {
                text: typed.text.clone(),
                addressee: typed.addressee.clone(),
                priority: typed.priority.clone(),
            },
        )
        .await
        .map_err(AppError::from);
    let anchor = match &result {
        Ok(r) => format!("rec-{}", r.number),
        Err(_) => "recommendations".to_owned(),
    };
    outcome(
        result,
        (&state, &caller, t, &uri),
        &id,
        Place::EvaluationRecommendation,
        &anchor,
        typed,
    )
    .await
}

pub async fn respond(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(rec): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let f = Fields::parse(&body);
    let evaluation = f.get("evaluation");
    let typed = Typed {
        response: f.get("response"),
        text: f.text("text").trim().to_owned(),
        ..Default::default()
    };
    let result = match f.get("version").parse::<i64>() {
        Err(_) => Err(AppError::invalid(
            "version",
            "the form lost its version; reload the page",
        )),
        Ok(version) => state
            .store
            .respond_to_recommendation(
                &state.org().org,
                &caller.actor(),
                &rec,
                &ManagementResponseInput {
                    response: typed.response.clone(),
                    text: typed.text.clone(),
                },
                version,
            )
            .await
            .map_err(AppError::from),
    };
    outcome(
        result,
        (&state, &caller, t, &uri),
        &evaluation,
        Place::Response(rec.clone()),
        &format!("r-{rec}"),
        typed,
    )
    .await
}

pub async fn add_action(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(rec): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let f = Fields::parse(&body);
    let evaluation = f.get("evaluation");
    let typed = Typed {
        description: f.get("description"),
        owner: f.get("owner"),
        person: f.get("person"),
        due_date: f.get("due_date"),
        ..Default::default()
    };
    let result = state
        .store
        .add_key_action(
            &state.org().org,
            &caller.actor(),
            &rec,
            &KeyActionInput {
                description: typed.description.clone(),
                owner: typed.owner.clone(),
                person: typed.person.clone(),
                due_date: typed.due_date.clone(),
                status: f.get("status"),
                comments: f.text("comments").trim().to_owned(),
            },
        )
        .await
        .map_err(AppError::from);
    outcome(
        result,
        (&state, &caller, t, &uri),
        &evaluation,
        Place::NewAction(rec.clone()),
        &format!("r-{rec}"),
        typed,
    )
    .await
}

pub async fn update_action(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(action): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let f = Fields::parse(&body);
    let evaluation = f.get("evaluation");
    let result = match f.get("version").parse::<i64>() {
        Err(_) => Err(AppError::invalid(
            "version",
            "the form lost its version; reload the page",
        )),
        Ok(version) => state
            .store
            .update_key_action(
                &state.org().org,
                &caller.actor(),
                &action,
                &KeyActionPatch {
                    status: Some(f.get("status")),
                    comments: Some(f.text("comments").trim().to_owned()),
                    ..Default::default()
                },
                version,
            )
            .await
            .map_err(AppError::from),
    };
    outcome(
        result,
        (&state, &caller, t, &uri),
        &evaluation,
        Place::Action(action.clone()),
        &format!("a-{action}"),
        Typed::default(),
    )
    .await
}

/// The report upload, sent by htmx as multipart (with the CSRF header): on success htmx is
/// sent to the evaluation page, otherwise the refusal is shown in place.
pub async fn upload_report(
    State(state): State<AppState>,
    t: Tr,
    caller: Caller,
    Path(id): Path<String>,
    mut multipart: axum::extract::Multipart,
) -> AppResult<Response> {
    let bad = |e: axum::extract::multipart::MultipartError| {
        AppError::invalid("file", format!("the upload could not be read: {e}"))
    };
    let mut file: Option<(String, Vec<u8>)> = None;
    let mut result = Ok(());
    loop {
        match multipart.next_field().await {
            Ok(Some(field)) if field.name() == Some("file") => {
                let name = field.file_name().unwrap_or("report").to_owned();
                match field.bytes().await {
                    Ok(bytes) => file = Some((name, bytes.to_vec())),
                    Err(e) => {
                        result = Err(bad(e));
                        break;
                    }
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => {
                result = Err(bad(e));
                break;
            }
        }
    }
    let saved = match (result, file) {
        (Err(e), _) => Err(e),
        (Ok(()), None) => Err(AppError::invalid("file", "choose the report's file")),
        (Ok(()), Some((name, bytes))) => state
            .store
            .attach_evaluation_report(
                &state.org().org,
                &caller.actor(),
                &state.documents,
                &id,
                &name,
                bytes,
            )
            .await
            .map_err(AppError::from),
    };
    match saved {
        Ok(ev) => {
            let target = format!("/evaluations/{}#report", urlencode(&ev.code));
            let mut response = StatusCode::NO_CONTENT.into_response();
            response.headers_mut().insert(
                "hx-redirect",
                HeaderValue::from_str(&target).map_err(|e| AppError::Internal(e.to_string()))?,
            );
            Ok(response)
        }
        Err(e) if shown_in_page(&e) => {
            let e_view = FormError::new(t, &e);
            let html = format!(
                "<p class=\"error\" role=\"alert\">{}{}</p>",
                e_view
                    .field_label
                    .map(|f| format!("<b>{}</b>: ", escape(&f)))
                    .unwrap_or_default(),
                escape(&e_view.message)
            );
            // htmx swaps 2xx responses only: the refusal comes as 200 with the reason.
            Ok(axum::response::Html(html).into_response())
        }
        Err(e) => Err(e),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Downloads the report.
pub async fn download_report(
    state: State<AppState>,
    caller: Caller,
    id: Path<String>,
) -> AppResult<Response> {
    crate::api::evaluations::download_report(state, caller, id).await
}

// ---------------------------------------------------------------------------------------------
// Tracking

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct TrackingParams {
    unit: String,
}

pub struct Figure {
    label: &'static str,
    count: i64,
    alert: bool,
}

pub struct AwaitingRow {
    evaluation_code: String,
    number: i64,
    text: String,
    addressee: String,
    priority: &'static str,
    due: String,
    late: bool,
}

pub struct ActionRow {
    id: String,
    evaluation_code: String,
    number: i64,
    description: String,
    owner: String,
    person: String,
    due: String,
    status: &'static str,
    status_label: &'static str,
    overdue: bool,
}

#[derive(Template)]
#[template(path = "evaluations/tracking.html")]
struct TrackingPage {
    shell: Shell,
    unit: String,
    unit_name: String,
    today: String,
    figures: Vec<Figure>,
    action_figures: Vec<Figure>,
    evaluations: Vec<Line>,
    awaiting: Vec<AwaitingRow>,
    actions: Vec<ActionRow>,
    units: Vec<(String, String)>,
}

pub async fn tracking(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Query(params): Query<TrackingParams>,
) -> AppResult<Response> {
    let snap = state.org();
    let unit = if params.unit.trim().is_empty() {
        caller.user.unit.to_string()
    } else {
        params.unit.trim().to_owned()
    };
    let tr: EvaluationTracking = state
        .store
        .evaluation_tracking(&snap.org, &caller.actor(), &unit)
        .await?;
    let c = &tr.counts;
    let figures = vec![
        Figure {
            label: t.get("evaluation.track.evaluations"),
            count: c.evaluations,
            alert: false,
        },
        Figure {
            label: t.get("evaluation.track.recommendations"),
            count: c.recommendations,
            alert: false,
        },
        Figure {
            label: t.get("evaluation.track.responded"),
            count: c.responded,
            alert: false,
        },
        Figure {
            label: t.get("evaluation.track.awaiting"),
            count: c.awaiting_response,
            alert: c.awaiting_response > 0,
        },
        Figure {
            label: t.get("evaluation.track.late"),
            count: c.late_responses,
            alert: c.late_responses > 0,
        },
        Figure {
            label: t.get("evaluation.track.overdue"),
            count: c.overdue_actions,
            alert: c.overdue_actions > 0,
        },
    ];
    let action_figures = c
        .actions_by_status
        .iter()
        .map(|s| Figure {
            label: label(t, "action_status", &s.key),
            count: s.count,
            alert: false,
        })
        .collect();
    let page = TrackingPage {
        shell: shell(t, &caller, &uri),
        unit_name: unit_name(&snap, &tr.unit),
        unit: tr.unit.clone(),
        today: tr.today.clone(),
        figures,
        action_figures,
        awaiting: tr
            .awaiting_response
            .iter()
            .map(|r| AwaitingRow {
                evaluation_code: r.evaluation_code.clone(),
                number: r.number,
                text: r.text.clone(),
                addressee: r.addressee.clone(),
                priority: label(t, "priority", r.priority.as_str()),
                due: r.response_due.clone().unwrap_or_default(),
                late: r.late,
            })
            .collect(),
        actions: tr
            .actions
            .iter()
            .map(|a| ActionRow {
                id: a.id.clone(),
                evaluation_code: a.evaluation_code.clone(),
                number: a.recommendation_number,
                description: a.description.clone(),
                owner: a.owner.clone(),
                person: a.person.clone(),
                due: a.due_date.clone(),
                status: a.status.as_str(),
                status_label: label(t, "action_status", a.status.as_str()),
                overdue: a.overdue,
            })
            .collect(),
        evaluations: tr
            .evaluations
            .into_iter()
            .map(|r| Line::new(t, r))
            .collect(),
        units: unit_options(&snap, &caller),
    };
    render(&page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{Lang, STRINGS_TOML, parse_strings};

    /// Keys built from codes are not seen by the template test, so every code is checked here.
    #[test]
    fn every_evaluation_code_has_a_label_in_three_languages() {
        let table = parse_strings(STRINGS_TOML).unwrap();
        let mut keys: Vec<String> = Vec::new();
        let mut add = |prefix: &str, codes: Vec<&str>| {
            keys.extend(codes.iter().map(|c| format!("evaluation.{prefix}.{c}")));
        };
        add(
            "type",
            EvaluationType::ALL.iter().map(|v| v.as_str()).collect(),
        );
        add(
            "status",
            EvaluationStatus::ALL.iter().map(|v| v.as_str()).collect(),
        );
        add(
            "criterion",
            Criterion::ALL.iter().map(|v| v.as_str()).collect(),
        );
        add(
            "independence",
            Independence::ALL.iter().map(|v| v.as_str()).collect(),
        );
        add(
            "quality",
            QualityRating::ALL.iter().map(|v| v.as_str()).collect(),
        );
        add(
            "priority",
            Priority::ALL.iter().map(|v| v.as_str()).collect(),
        );
        add(
            "response",
            ResponseKind::ALL.iter().map(|v| v.as_str()).collect(),
        );
        add(
            "action_status",
            ActionStatus::ALL.iter().map(|v| v.as_str()).collect(),
        );
        add("field", FIELDS.to_vec());
        for key in &keys {
            assert!(table.contains_key(key), "no text for {key}");
        }
        let t = Tr { lang: Lang::Es };
        assert_eq!(
            label(t, "response", "partially_agree"),
            "Parcialmente de acuerdo"
        );
    }
}
