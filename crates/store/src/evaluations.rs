//! Evaluations: the registry (type, commissioning unit, dates, budget, OECD DAC criteria,
//! independence, status, quality rating, report), recommendations, management responses and
//! key actions, and the follow-up tracking of a unit.
//!
//! Every mutation follows the store's pattern: `authorize → validate → begin → write →
//! audit::record → commit`, with `version` for optimistic concurrency on evaluations,
//! recommendations (and so their responses) and key actions.
//!
//! **Who sees what.** An evaluation belongs to its commissioning unit, and a reader sees it when
//! that unit is in their scope (country office: itself; regional office: its region;
//! headquarters: everything). A unit a recommendation is addressed to, or that owns a key
//! action, must follow it up, so its staff also see that evaluation.
//!
//! **Report.** The report is a document in the same [`DocumentStorage`] as project documents
//! (content-addressed, checked by content, at most 20 MB), not a link: an evaluation's report is
//! the evidence its recommendations and their follow-up are audited against, links to other
//! sites break, and offices on slow connections read it from the same server.
//!
//! **Derived, never stored.** Whether a key action is overdue, when management responses are due
//! ([`meridian_domain::evaluations::MANAGEMENT_RESPONSE_DAYS`] after completion) and whether a
//! response is late are computed when read.

use crate::audit::record;
use crate::db::{new_id, now_text};
use crate::projects::{DocumentStorage, e4, e4_rounded, from_e4};
use crate::{Store, StoreError, Tx};
use meridian_domain::audit::Change;
use meridian_domain::authz::{Action, Actor, authorize};
use meridian_domain::evaluations::{
    ActionStatus, Criterion, EvaluationStatus, EvaluationType, Independence, Priority,
    QualityRating, ResponseKind, Schedule, is_overdue, parse_criteria, response_due,
    response_is_late,
};
use meridian_domain::org::{Organization, Scope, UnitCode};
use meridian_domain::projects::documents::check_document;
use meridian_domain::projects::money::Money;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};
use time::Date;

// ---------------------------------------------------------------------------------------------
// What goes in

/// An evaluation as its registrar writes it. On update every field is replaced; `unit` cannot
/// change. Empty text counts as absent.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct EvaluationInput {
    pub title: String,
    pub summary: String,
    /// project, programme, thematic, country_programme, strategic, real_time, meta.
    pub eval_type: String,
    /// The commissioning unit's code.
    pub unit: String,
    /// Ids or codes of the evaluated projects (optional).
    pub projects: Vec<String>,
    /// YYYY-MM-DD.
    pub planned_start: String,
    pub planned_end: String,
    pub actual_start: Option<String>,
    /// For a completed evaluation, its completion: management responses are due 28 days later.
    pub actual_end: Option<String>,
    /// The budget, a decimal as text ("85000.00"), in `currency`.
    pub budget: Option<String>,
    pub currency: Option<String>,
    /// OECD DAC criteria: relevance, coherence, effectiveness, efficiency, impact, sustainability.
    pub criteria: Vec<String>,
    /// internal, independent, joint.
    pub independence: String,
    /// planned (default), ongoing, completed, cancelled.
    pub status: String,
    /// highly_satisfactory, satisfactory, unsatisfactory, highly_unsatisfactory (completed only).
    pub quality_rating: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct EvaluationRecommendationInput {
    pub text: String,
    /// The unit the recommendation is addressed to: it answers with the management response.
    pub addressee: String,
    /// high, medium, low.
    pub priority: String,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct ManagementResponseInput {
    /// agree, partially_agree, disagree.
    pub response: String,
    /// Management's explanation.
    pub text: String,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct KeyActionInput {
    pub description: String,
    /// The unit that owns the action.
    pub owner: String,
    /// The person responsible, optional.
    pub person: String,
    /// YYYY-MM-DD.
    pub due_date: String,
    /// not_started (default), initiated, completed, no_longer_applicable.
    pub status: String,
    pub comments: String,
}

/// A change to a key action: the fields given replace the stored ones.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(default)]
pub struct KeyActionPatch {
    pub description: Option<String>,
    pub owner: Option<String>,
    pub person: Option<String>,
    pub due_date: Option<String>,
    pub status: Option<String>,
    pub comments: Option<String>,
}

/// Filters of the registry (all optional, as text: a bad one is refused naming it).
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct EvaluationQuery {
    /// Words of the title, or the code.
    pub q: Option<String>,
    pub status: Option<String>,
    pub eval_type: Option<String>,
    /// A unit: evaluations it or a unit below it commissioned.
    pub unit: Option<String>,
    pub independence: Option<String>,
    /// The year of completion (or of the planned end, until completed).
    pub year: Option<String>,
    /// Evaluations covering this project (id or code).
    pub project: Option<String>,
    /// From 1.
    pub page: Option<u32>,
    /// At most 200; 50 by default.
    pub per_page: Option<u32>,
}

// ---------------------------------------------------------------------------------------------
// What comes out

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EvaluatedProject {
    pub id: String,
    pub code: String,
    pub title: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EvaluationReport {
    pub name: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ManagementResponse {
    #[schema(value_type = String)]
    pub response: ResponseKind,
    pub text: String,
    pub responded_by: String,
    /// The latest change of the response.
    pub responded_at: String,
    /// When it was first given (a late response stays late when edited).
    pub first_responded_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct KeyAction {
    pub id: String,
    pub recommendation_id: String,
    pub description: String,
    pub owner: String,
    pub person: String,
    pub due_date: String,
    #[schema(value_type = String)]
    pub status: ActionStatus,
    pub comments: String,
    /// Derived: the due date has passed and the action is still open.
    pub overdue: bool,
    pub created_by: String,
    pub updated_at: String,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EvaluationRecommendation {
    pub id: String,
    pub evaluation_id: String,
    /// 1, 2, … within the evaluation.
    pub number: i64,
    pub text: String,
    pub addressee: String,
    #[schema(value_type = String)]
    pub priority: Priority,
    pub response: Option<ManagementResponse>,
    /// The day the response is due (for a completed evaluation).
    pub response_due: Option<String>,
    /// Derived: given after the due day, or still missing after it.
    pub response_late: bool,
    pub actions: Vec<KeyAction>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Evaluation {
    pub id: String,
    pub code: String,
    pub title: String,
    pub summary: String,
    #[schema(value_type = String)]
    pub eval_type: EvaluationType,
    /// The commissioning unit.
    pub unit: String,
    pub projects: Vec<EvaluatedProject>,
    pub planned_start: String,
    pub planned_end: String,
    pub actual_start: Option<String>,
    pub actual_end: Option<String>,
    pub currency: Option<String>,
    pub budget: Option<Decimal>,
    pub budget_usd: Option<Decimal>,
    #[schema(value_type = Vec<String>)]
    pub criteria: Vec<Criterion>,
    #[schema(value_type = String)]
    pub independence: Independence,
    #[schema(value_type = String)]
    pub status: EvaluationStatus,
    #[schema(value_type = Option<String>)]
    pub quality_rating: Option<QualityRating>,
    pub report: Option<EvaluationReport>,
    /// For a completed evaluation: the day management responses are due.
    pub response_due: Option<String>,
    pub recommendations: Vec<EvaluationRecommendation>,
    pub created_by: String,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
}

/// An evaluation in the registry's list, with its follow-up in figures.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EvaluationRow {
    pub id: String,
    pub code: String,
    pub title: String,
    #[schema(value_type = String)]
    pub eval_type: EvaluationType,
    pub unit: String,
    #[schema(value_type = String)]
    pub status: EvaluationStatus,
    #[schema(value_type = String)]
    pub independence: Independence,
    pub planned_end: String,
    pub actual_end: Option<String>,
    pub budget_usd: Option<Decimal>,
    #[schema(value_type = Option<String>)]
    pub quality_rating: Option<QualityRating>,
    pub recommendations: i64,
    /// Recommendations of a completed evaluation still without a management response.
    pub awaiting_response: i64,
    pub late_responses: i64,
    pub open_actions: i64,
    pub overdue_actions: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EvaluationPage {
    pub rows: Vec<EvaluationRow>,
    pub page: u32,
    pub per_page: u32,
    pub total: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EvaluationCount {
    pub key: String,
    pub count: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EvaluationTrackingCounts {
    pub evaluations: i64,
    /// Every status, in order.
    pub evaluations_by_status: Vec<EvaluationCount>,
    pub recommendations: i64,
    pub responded: i64,
    pub awaiting_response: i64,
    /// Given after the due day, or still missing after it.
    pub late_responses: i64,
    pub actions: i64,
    /// Every status, in order.
    pub actions_by_status: Vec<EvaluationCount>,
    pub overdue_actions: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TrackedEvaluationRecommendation {
    pub id: String,
    pub evaluation_id: String,
    pub evaluation_code: String,
    pub evaluation_title: String,
    pub number: i64,
    pub text: String,
    pub addressee: String,
    #[schema(value_type = String)]
    pub priority: Priority,
    pub response_due: Option<String>,
    pub late: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct TrackedKeyAction {
    pub id: String,
    pub evaluation_id: String,
    pub evaluation_code: String,
    pub recommendation_number: i64,
    pub description: String,
    pub owner: String,
    pub person: String,
    pub due_date: String,
    #[schema(value_type = String)]
    pub status: ActionStatus,
    pub overdue: bool,
}

/// A unit's follow-up: what it and the units below it commissioned, were asked and must do.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct EvaluationTracking {
    pub unit: String,
    /// The day the derived figures (overdue, late) are computed for.
    pub today: String,
    pub counts: EvaluationTrackingCounts,
    /// Evaluations commissioned by the unit or a unit below it.
    pub evaluations: Vec<EvaluationRow>,
    /// Recommendations of completed evaluations, commissioned by or addressed to the unit or a
    /// unit below it, still without a management response; late ones first.
    pub awaiting_response: Vec<TrackedEvaluationRecommendation>,
    /// Key actions of those evaluations, for those units, or owned by them: overdue first,
    /// then by status and due date.
    pub actions: Vec<TrackedKeyAction>,
}

// ---------------------------------------------------------------------------------------------
// Helpers

pub const MAX_PER_PAGE: u32 = 200;
const DEFAULT_PER_PAGE: u32 = 50;
/// The most rows each list of the tracking page returns (the counts cover everything).
const TRACKING_ROWS: usize = 500;

fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

fn parse_date(field: &'static str, raw: &str) -> Result<Date, StoreError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(raw.trim(), &format).map_err(|_| {
        StoreError::invalid(
            field,
            format!("expected a date like 2026-03-31, found {raw:?}"),
        )
    })
}

fn optional_date(field: &'static str, raw: Option<&str>) -> Result<Option<Date>, StoreError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => parse_date(field, s).map(Some),
    }
}

/// A stored `YYYY-MM-DD` (or the date part of a stored time).
fn stored_date(raw: &str) -> Result<Date, StoreError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(raw.get(..10).unwrap_or(raw), &format)
        .map_err(|_| StoreError::Corrupt(format!("date {raw:?}")))
}

fn text(field: &'static str, raw: &str, max: usize) -> Result<String, StoreError> {
    let value = raw.trim();
    if value.is_empty() || value.chars().count() > max {
        return Err(StoreError::invalid(
            field,
            format!("a text of 1 to {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

fn optional_text(field: &'static str, raw: &str, max: usize) -> Result<String, StoreError> {
    let value = raw.trim();
    if value.chars().count() > max {
        return Err(StoreError::invalid(
            field,
            format!("at most {max} characters"),
        ));
    }
    Ok(value.to_owned())
}

fn known_unit(org: &Organization, field: &'static str, raw: &str) -> Result<UnitCode, StoreError> {
    let code = UnitCode::parse(raw.trim()).map_err(|m| StoreError::invalid(field, m))?;
    if org.unit(code.as_str()).is_none() {
        return Err(StoreError::invalid(
            field,
            format!("unknown unit code {code}"),
        ));
    }
    Ok(code)
}

fn stored_unit(raw: &str) -> Result<UnitCode, StoreError> {
    UnitCode::parse(raw).map_err(StoreError::Corrupt)
}

fn corrupt<T, E: std::fmt::Display>(r: Result<T, E>) -> Result<T, StoreError> {
    r.map_err(|e| StoreError::Corrupt(e.to_string()))
}

/// Text SQL with `$n` placeholders, all values bound as text.
#[derive(Default)]
struct Sql {
    text: String,
    binds: Vec<String>,
}

impl Sql {
    fn new(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            binds: Vec::new(),
        }
    }

    fn push(&mut self, s: &str) -> &mut Self {
        self.text.push_str(s);
        self
    }

    /// Binds a value and writes its placeholder.
    fn bind(&mut self, value: impl Into<String>) -> &mut Self {
        self.binds.push(value.into());
        let n = self.binds.len();
        self.text.push_str(&format!("${n}"));
        self
    }

    /// `(…)` of bound values; `(NULL)` (matching nothing) when empty.
    fn list(&mut self, values: &[String]) -> &mut Self {
        if values.is_empty() {
            return self.push("(NULL)");
        }
        self.push("(");
        for (i, v) in values.iter().enumerate() {
            if i > 0 {
                self.push(", ");
            }
            self.bind(v.clone());
        }
        self.push(")")
    }

    async fn fetch_all(&self, conn: &mut AnyConnection) -> Result<Vec<AnyRow>, StoreError> {
        let mut q = sqlx::query(sqlx::AssertSqlSafe(self.text.clone()));
        for b in &self.binds {
            q = q.bind(b.clone());
        }
        Ok(q.fetch_all(conn).await?)
    }
}

/// The reader's scope as unit codes; `None` for the whole organization.
fn scope_units(org: &Organization, actor: &Actor) -> Option<Vec<String>> {
    match actor.scope(org) {
        Scope::Global => None,
        scope => Some(
            org.units_in_scope(&scope)
                .into_iter()
                .map(|u| u.to_string())
                .collect(),
        ),
    }
}

/// ` AND (…)`: evaluations commissioned in, addressed to or owned by `units`.
fn visible_to(sql: &mut Sql, units: &[String]) {
    sql.push(" AND (e.unit_code IN ");
    sql.list(units);
    sql.push(
        " OR e.id IN (SELECT evaluation_id FROM evaluation_recommendations WHERE addressee_code IN ",
    );
    sql.list(units);
    sql.push(") OR e.id IN (SELECT evaluation_id FROM evaluation_actions WHERE owner_code IN ");
    sql.list(units);
    sql.push("))");
}

const EVALUATION_COLUMNS: &str = "e.id, e.code, e.title, e.summary, e.eval_type, e.unit_code, \
     e.planned_start, e.planned_end, e.actual_start, e.actual_end, e.currency, e.budget_e4, \
     e.budget_usd_e4, e.criteria, e.independence, e.status, e.quality_rating, e.report_name, \
     e.report_content_type, e.report_size_bytes, e.report_sha256, e.report_uploaded_by, \
     e.report_uploaded_at, e.created_by, e.created_at, e.updated_at, e.version";

const RECOMMENDATION_COLUMNS: &str = "r.id, r.evaluation_id, r.number, r.body, r.addressee_code, \
     r.priority, r.response, r.response_text, r.responded_by, r.responded_at, \
     r.first_responded_at, r.created_by, r.created_at, r.updated_at, r.version";

const ACTION_COLUMNS: &str = "a.id, a.recommendation_id, a.description, a.owner_code, \
     a.owner_person, a.due_date, a.status, a.comments, a.created_by, a.updated_at, a.version";

fn evaluation_from_row(row: &AnyRow) -> Result<Evaluation, StoreError> {
    let criteria: String = row.try_get("criteria")?;
    let criteria: Vec<String> = corrupt(serde_json::from_str(&criteria))?;
    let status = corrupt(EvaluationStatus::parse(
        &row.try_get::<String, _>("status")?,
    ))?;
    let actual_end: Option<String> = row.try_get("actual_end")?;
    let completed = match (&actual_end, status) {
        (Some(end), EvaluationStatus::Completed) => Some(stored_date(end)?),
        _ => None,
    };
    let report = match row.try_get::<Option<String>, _>("report_sha256")? {
        None => None,
        Some(sha256) => Some(EvaluationReport {
            name: row
                .try_get::<Option<String>, _>("report_name")?
                .unwrap_or_default(),
            content_type: row
                .try_get::<Option<String>, _>("report_content_type")?
                .unwrap_or_default(),
            size_bytes: row
                .try_get::<Option<i64>, _>("report_size_bytes")?
                .unwrap_or_default(),
            sha256,
            uploaded_by: row
                .try_get::<Option<String>, _>("report_uploaded_by")?
                .unwrap_or_default(),
            uploaded_at: row
                .try_get::<Option<String>, _>("report_uploaded_at")?
                .unwrap_or_default(),
        }),
    };
    Ok(Evaluation {
        id: row.try_get("id")?,
        code: row.try_get("code")?,
        title: row.try_get("title")?,
        summary: row.try_get("summary")?,
        eval_type: corrupt(EvaluationType::parse(
            &row.try_get::<String, _>("eval_type")?,
        ))?,
        unit: row.try_get("unit_code")?,
        projects: Vec::new(),
        planned_start: row.try_get("planned_start")?,
        planned_end: row.try_get("planned_end")?,
        actual_start: row.try_get("actual_start")?,
        actual_end,
        currency: row.try_get("currency")?,
        budget: row.try_get::<Option<i64>, _>("budget_e4")?.map(from_e4),
        budget_usd: row.try_get::<Option<i64>, _>("budget_usd_e4")?.map(from_e4),
        criteria: corrupt(parse_criteria(&criteria))?,
        independence: corrupt(Independence::parse(
            &row.try_get::<String, _>("independence")?,
        ))?,
        status,
        quality_rating: row
            .try_get::<Option<String>, _>("quality_rating")?
            .map(|q| corrupt(QualityRating::parse(&q)))
            .transpose()?,
        report,
        response_due: completed.map(|c| response_due(c).to_string()),
        recommendations: Vec::new(),
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        version: row.try_get("version")?,
    })
}

fn recommendation_from_row(
    row: &AnyRow,
    completed: Option<Date>,
    today: Date,
) -> Result<EvaluationRecommendation, StoreError> {
    let response = match row.try_get::<Option<String>, _>("response")? {
        None => None,
        Some(kind) => Some(ManagementResponse {
            response: corrupt(ResponseKind::parse(&kind))?,
            text: row
                .try_get::<Option<String>, _>("response_text")?
                .unwrap_or_default(),
            responded_by: row
                .try_get::<Option<String>, _>("responded_by")?
                .unwrap_or_default(),
            responded_at: row
                .try_get::<Option<String>, _>("responded_at")?
                .unwrap_or_default(),
            first_responded_at: row
                .try_get::<Option<String>, _>("first_responded_at")?
                .unwrap_or_default(),
        }),
    };
    let first = response
        .as_ref()
        .map(|r| stored_date(&r.first_responded_at))
        .transpose()?;
    Ok(EvaluationRecommendation {
        id: row.try_get("id")?,
        evaluation_id: row.try_get("evaluation_id")?,
        number: row.try_get("number")?,
        text: row.try_get("body")?,
        addressee: row.try_get("addressee_code")?,
        priority: corrupt(Priority::parse(&row.try_get::<String, _>("priority")?))?,
        response_late: response_is_late(completed, first, today),
        response_due: completed.map(|c| response_due(c).to_string()),
        response,
        actions: Vec::new(),
        created_by: row.try_get("created_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        version: row.try_get("version")?,
    })
}

fn action_from_row(row: &AnyRow, today: Date) -> Result<KeyAction, StoreError> {
    let status = corrupt(ActionStatus::parse(&row.try_get::<String, _>("status")?))?;
    let due_date: String = row.try_get("due_date")?;
    Ok(KeyAction {
        id: row.try_get("id")?,
        recommendation_id: row.try_get("recommendation_id")?,
        description: row.try_get("description")?,
        owner: row.try_get("owner_code")?,
        person: row.try_get("owner_person")?,
        overdue: is_overdue(stored_date(&due_date)?, status, today),
        due_date,
        status,
        comments: row.try_get("comments")?,
        created_by: row.try_get("created_by")?,
        updated_at: row.try_get("updated_at")?,
        version: row.try_get("version")?,
    })
}

/// An evaluation with its projects, recommendations and actions: four queries.
async fn load(conn: &mut AnyConnection, id: &str) -> Result<Evaluation, StoreError> {
    let sql =
        format!("SELECT {EVALUATION_COLUMNS} FROM evaluations e WHERE e.id = $1 OR e.code = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| StoreError::not_found("evaluation", id))?;
    let mut ev = evaluation_from_row(&row)?;
    ev.projects = sqlx::query(
        "SELECT p.id, p.code, p.title FROM evaluation_projects ep JOIN projects p ON p.id = ep.project_id \
         WHERE ep.evaluation_id = $1 ORDER BY p.code",
    )
    .bind(&ev.id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(EvaluatedProject {
            id: r.try_get("id")?,
            code: r.try_get("code")?,
            title: r.try_get("title")?,
        })
    })
    .collect::<Result<_, StoreError>>()?;
    let today = today();
    let completed = ev
        .actual_end
        .as_deref()
        .filter(|_| ev.status == EvaluationStatus::Completed);
    let completed = completed.map(stored_date).transpose()?;
    let sql = format!(
        "SELECT {RECOMMENDATION_COLUMNS} FROM evaluation_recommendations r WHERE r.evaluation_id = $1 ORDER BY r.number"
    );
    let mut recs = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&ev.id)
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| recommendation_from_row(r, completed, today))
        .collect::<Result<Vec<_>, _>>()?;
    let sql = format!(
        "SELECT {ACTION_COLUMNS} FROM evaluation_actions a WHERE a.evaluation_id = $1 ORDER BY a.due_date, a.created_at, a.id"
    );
    for row in sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(&ev.id)
        .fetch_all(&mut *conn)
        .await?
    {
        let action = action_from_row(&row, today)?;
        if let Some(rec) = recs.iter_mut().find(|r| r.id == action.recommendation_id) {
            rec.actions.push(action);
        }
    }
    ev.recommendations = std::mem::take(&mut recs);
    Ok(ev)
}

/// What the audit trail shows of an evaluation.
fn audit_view(e: &Evaluation) -> serde_json::Value {
    serde_json::json!({
        "code": e.code, "title": e.title, "summary": e.summary, "eval_type": e.eval_type,
        "unit": e.unit, "projects": e.projects.iter().map(|p| &p.code).collect::<Vec<_>>(),
        "planned_start": e.planned_start, "planned_end": e.planned_end,
        "actual_start": e.actual_start, "actual_end": e.actual_end, "currency": e.currency,
        "budget": e.budget, "budget_usd": e.budget_usd, "criteria": e.criteria,
        "independence": e.independence, "status": e.status, "quality_rating": e.quality_rating,
        "report": e.report.as_ref().map(|r| serde_json::json!({"name": r.name, "sha256": r.sha256})),
        "version": e.version,
    })
}

fn recommendation_view(r: &EvaluationRecommendation) -> serde_json::Value {
    serde_json::json!({
        "evaluation_id": r.evaluation_id, "number": r.number, "text": r.text,
        "addressee": r.addressee, "priority": r.priority,
        "response": r.response.as_ref().map(|x| x.response),
        "response_text": r.response.as_ref().map(|x| &x.text),
        "version": r.version,
    })
}

fn action_view(a: &KeyAction) -> serde_json::Value {
    serde_json::json!({
        "recommendation_id": a.recommendation_id, "description": a.description,
        "owner": a.owner, "person": a.person, "due_date": a.due_date, "status": a.status,
        "comments": a.comments, "version": a.version,
    })
}

/// An evaluation input that passed every check.
struct Checked {
    title: String,
    summary: String,
    eval_type: EvaluationType,
    unit: UnitCode,
    projects: Vec<String>,
    schedule: Schedule,
    budget: Option<(Money, Decimal)>,
    criteria: Vec<Criterion>,
    independence: Independence,
}

fn some_text(raw: &Option<String>) -> Option<&str> {
    raw.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

// ---------------------------------------------------------------------------------------------
// The store's functions

impl Store {
    async fn check_evaluation(
        &self,
        org: &Organization,
        actor: &Actor,
        input: &EvaluationInput,
    ) -> Result<Checked, StoreError> {
        let title = text("title", &input.title, 300)?;
        let summary = optional_text("summary", &input.summary, 10_000)?;
        let eval_type = EvaluationType::parse(&input.eval_type)
            .map_err(|m| StoreError::invalid("eval_type", m))?;
        let unit = known_unit(org, "unit", &input.unit)?;
        let status = if input.status.trim().is_empty() {
            EvaluationStatus::Planned
        } else {
            EvaluationStatus::parse(&input.status).map_err(|m| StoreError::invalid("status", m))?
        };
        let quality = some_text(&input.quality_rating)
            .map(|q| QualityRating::parse(q).map_err(|m| StoreError::invalid("quality_rating", m)))
            .transpose()?;
        let schedule = Schedule {
            status,
            planned_start: parse_date("planned_start", &input.planned_start)?,
            planned_end: parse_date("planned_end", &input.planned_end)?,
            actual_start: optional_date("actual_start", input.actual_start.as_deref())?,
            actual_end: optional_date("actual_end", input.actual_end.as_deref())?,
            quality,
        };
        schedule
            .check(today())
            .map_err(|e| StoreError::invalid(e.field, e.message))?;
        let criteria =
            parse_criteria(&input.criteria).map_err(|m| StoreError::invalid("criteria", m))?;
        let independence = Independence::parse(&input.independence)
            .map_err(|m| StoreError::invalid("independence", m))?;
        let budget = match (some_text(&input.budget), some_text(&input.currency)) {
            (None, _) => None,
            (Some(_), None) => {
                return Err(StoreError::invalid(
                    "currency",
                    "give the budget's currency, e.g. USD",
                ));
            }
            (Some(amount), Some(currency)) => {
                let money = Money::parse(amount, currency).map_err(|e| match e {
                    meridian_domain::projects::money::MoneyError::Currency(m) => {
                        StoreError::invalid("currency", m)
                    }
                    other => StoreError::invalid("budget", other.to_string()),
                })?;
                let usd = self
                    .rate_table()
                    .await?
                    .to_usd(&money, today())
                    .map_err(|e| StoreError::invalid("currency", e.to_string()))?;
                Some((money, usd))
            }
        };
        // The evaluated projects, each known and visible to the registrar.
        let mut projects = Vec::new();
        let mut conn = self.pool().acquire().await?;
        for reference in input
            .projects
            .iter()
            .map(|p| p.trim())
            .filter(|p| !p.is_empty())
        {
            let row = sqlx::query("SELECT id, unit_code FROM projects WHERE id = $1 OR code = $1")
                .bind(reference)
                .fetch_optional(&mut *conn)
                .await?
                .ok_or_else(|| {
                    StoreError::invalid("projects", format!("no project {reference}"))
                })?;
            let project_unit = stored_unit(&row.try_get::<String, _>("unit_code")?)?;
            authorize(org, actor, Action::ViewProjects, &project_unit).map_err(|_| {
                StoreError::invalid(
                    "projects",
                    format!("project {reference} is outside your scope"),
                )
            })?;
            let id: String = row.try_get("id")?;
            if !projects.contains(&id) {
                projects.push(id);
            }
        }
        Ok(Checked {
            title,
            summary,
            eval_type,
            unit,
            projects,
            schedule,
            budget,
            criteria,
            independence,
        })
    }

    /// Registers an evaluation for a commissioning unit within the registrar's scope.
    pub async fn create_evaluation(
        &self,
        org: &Organization,
        actor: &Actor,
        input: &EvaluationInput,
    ) -> Result<Evaluation, StoreError> {
        let unit = known_unit(org, "unit", &input.unit)?;
        authorize(org, actor, Action::ManageEvaluations, &unit)?;
        let c = self.check_evaluation(org, actor, input).await?;
        let mut tx = self.begin().await?;
        let year = i64::from(c.schedule.planned_start.year());
        let seq: i64 = sqlx::query(
            "INSERT INTO evaluation_sequences (unit_code, year, last_value) VALUES ($1, $2, 1) \
             ON CONFLICT (unit_code, year) DO UPDATE SET last_value = evaluation_sequences.last_value + 1 \
             RETURNING last_value",
        )
        .bind(c.unit.as_str())
        .bind(year)
        .fetch_one(&mut *tx)
        .await?
        .try_get("last_value")?;
        let code = format!("EV-{}-{year}-{seq:03}", c.unit);
        let id = new_id();
        let now = now_text();
        sqlx::query(
            "INSERT INTO evaluations (id, code, title, summary, eval_type, unit_code, planned_start, \
             planned_end, actual_start, actual_end, currency, budget_e4, budget_usd_e4, criteria, \
             independence, status, quality_rating, created_by, created_at, updated_at, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19, 1)",
        )
        .bind(&id)
        .bind(&code)
        .bind(&c.title)
        .bind(&c.summary)
        .bind(c.eval_type.as_str())
        .bind(c.unit.as_str())
        .bind(c.schedule.planned_start.to_string())
        .bind(c.schedule.planned_end.to_string())
        .bind(c.schedule.actual_start.map(|d| d.to_string()))
        .bind(c.schedule.actual_end.map(|d| d.to_string()))
        .bind(c.budget.as_ref().map(|(m, _)| m.currency.to_string()))
        .bind(c.budget.as_ref().map(|(m, _)| e4(m.amount, "budget")).transpose()?)
        .bind(c.budget.as_ref().map(|(_, usd)| e4_rounded(*usd)).transpose()?)
        .bind(criteria_json(&c.criteria))
        .bind(c.independence.as_str())
        .bind(c.schedule.status.as_str())
        .bind(c.schedule.quality.map(|q| q.as_str()))
        .bind(actor.label())
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        write_projects(&mut tx, &id, &c.projects).await?;
        let ev = load(&mut tx, &id).await?;
        record(
            &mut tx,
            actor,
            Change::new("evaluation", "create", &id)
                .unit(&c.unit)
                .after(audit_view(&ev)),
        )
        .await?;
        tx.commit().await?;
        Ok(ev)
    }

    /// Replaces an evaluation's content. `version` is the version the editor read; a stale one
    /// is refused with who changed what since.
    pub async fn update_evaluation(
        &self,
        org: &Organization,
        actor: &Actor,
        id: &str,
        input: &EvaluationInput,
        version: i64,
    ) -> Result<Evaluation, StoreError> {
        let before = self.evaluation_unchecked(id).await?;
        let unit = stored_unit(&before.unit)?;
        authorize(org, actor, Action::ManageEvaluations, &unit)?;
        if input.unit.trim() != before.unit {
            return Err(StoreError::invalid(
                "unit",
                format!(
                    "an evaluation stays with its commissioning unit ({})",
                    before.unit
                ),
            ));
        }
        if before.version != version {
            return Err(self
                .stale_follow_up(
                    "evaluation",
                    &before.code,
                    &before.id,
                    before.version,
                    version,
                )
                .await?);
        }
        let c = self.check_evaluation(org, actor, input).await?;
        before
            .status
            .may_become(c.schedule.status)
            .map_err(|m| StoreError::invalid("status", m))?;
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE evaluations SET title = $3, summary = $4, eval_type = $5, planned_start = $6, \
             planned_end = $7, actual_start = $8, actual_end = $9, currency = $10, budget_e4 = $11, \
             budget_usd_e4 = $12, criteria = $13, independence = $14, status = $15, \
             quality_rating = $16, updated_at = $17, version = version + 1 \
             WHERE id = $1 AND version = $2",
        )
        .bind(&before.id)
        .bind(version)
        .bind(&c.title)
        .bind(&c.summary)
        .bind(c.eval_type.as_str())
        .bind(c.schedule.planned_start.to_string())
        .bind(c.schedule.planned_end.to_string())
        .bind(c.schedule.actual_start.map(|d| d.to_string()))
        .bind(c.schedule.actual_end.map(|d| d.to_string()))
        .bind(c.budget.as_ref().map(|(m, _)| m.currency.to_string()))
        .bind(c.budget.as_ref().map(|(m, _)| e4(m.amount, "budget")).transpose()?)
        .bind(c.budget.as_ref().map(|(_, usd)| e4_rounded(*usd)).transpose()?)
        .bind(criteria_json(&c.criteria))
        .bind(c.independence.as_str())
        .bind(c.schedule.status.as_str())
        .bind(c.schedule.quality.map(|q| q.as_str()))
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            drop(tx);
            let current = self.evaluation_unchecked(id).await?;
            return Err(self
                .stale_follow_up(
                    "evaluation",
                    &current.code,
                    &current.id,
                    current.version,
                    version,
                )
                .await?);
        }
        sqlx::query("DELETE FROM evaluation_projects WHERE evaluation_id = $1")
            .bind(&before.id)
            .execute(&mut *tx)
            .await?;
        write_projects(&mut tx, &before.id, &c.projects).await?;
        let after = load(&mut tx, &before.id).await?;
        record(
            &mut tx,
            actor,
            Change::new("evaluation", "update", &before.id)
                .unit(&unit)
                .before(audit_view(&before))
                .after(audit_view(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Attaches (or replaces) the evaluation's report: checked (format by content, size) before
    /// anything is written.
    pub async fn attach_evaluation_report(
        &self,
        org: &Organization,
        actor: &Actor,
        storage: &DocumentStorage,
        id: &str,
        name: &str,
        bytes: Vec<u8>,
    ) -> Result<Evaluation, StoreError> {
        let before = self.evaluation_unchecked(id).await?;
        let unit = stored_unit(&before.unit)?;
        authorize(org, actor, Action::ManageEvaluations, &unit)?;
        let content_type = check_document(name, "evaluation", &bytes)
            .map_err(|m| StoreError::invalid("file", m))?;
        let size = bytes.len() as i64;
        let sha256 = storage.put(bytes).await?;
        let now = now_text();
        let mut tx = self.begin().await?;
        sqlx::query(
            "UPDATE evaluations SET report_name = $2, report_content_type = $3, report_size_bytes = $4, \
             report_sha256 = $5, report_uploaded_by = $6, report_uploaded_at = $7, updated_at = $7, \
             version = version + 1 WHERE id = $1",
        )
        .bind(&before.id)
        .bind(name.trim())
        .bind(content_type)
        .bind(size)
        .bind(&sha256)
        .bind(actor.label())
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        let after = load(&mut tx, &before.id).await?;
        record(
            &mut tx,
            actor,
            Change::new("evaluation", "report", &before.id)
                .unit(&unit)
                .before(audit_view(&before))
                .after(audit_view(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The report of an evaluation the reader may see, with its bytes.
    pub async fn evaluation_report(
        &self,
        org: &Organization,
        actor: &Actor,
        storage: &DocumentStorage,
        id: &str,
    ) -> Result<(EvaluationReport, Vec<u8>), StoreError> {
        let ev = self.evaluation(org, actor, id).await?;
        let report = ev
            .report
            .ok_or_else(|| StoreError::not_found("evaluation report", format!("of {}", ev.code)))?;
        let bytes = storage.get(&report.sha256).await?;
        Ok((report, bytes))
    }

    /// One evaluation with its recommendations, responses and key actions, if the reader may
    /// see it.
    pub async fn evaluation(
        &self,
        org: &Organization,
        actor: &Actor,
        id: &str,
    ) -> Result<Evaluation, StoreError> {
        let ev = self.evaluation_unchecked(id).await?;
        self.check_evaluation_visible(org, actor, &ev).await?;
        Ok(ev)
    }

    pub(crate) async fn evaluation_unchecked(&self, id: &str) -> Result<Evaluation, StoreError> {
        let mut conn = self.pool().acquire().await?;
        load(&mut conn, id).await
    }

    /// Whether the reader may see the evaluation: its commissioning unit in scope, or a unit in
    /// scope that must follow it up.
    async fn check_evaluation_visible(
        &self,
        org: &Organization,
        actor: &Actor,
        ev: &Evaluation,
    ) -> Result<(), StoreError> {
        let denied = match authorize(org, actor, Action::ViewEvaluations, &stored_unit(&ev.unit)?) {
            Ok(()) => return Ok(()),
            Err(denied) => denied,
        };
        let Some(units) = scope_units(org, actor) else {
            return Err(denied.into());
        };
        let follows_up = ev.recommendations.iter().any(|r| {
            units.contains(&r.addressee) || r.actions.iter().any(|a| units.contains(&a.owner))
        });
        if follows_up {
            Ok(())
        } else {
            Err(denied.into())
        }
    }

    /// The registry in the reader's scope, filtered, newest first, paginated: three queries.
    pub async fn evaluations(
        &self,
        org: &Organization,
        actor: &Actor,
        q: &EvaluationQuery,
    ) -> Result<EvaluationPage, StoreError> {
        let per_page = q
            .per_page
            .unwrap_or(DEFAULT_PER_PAGE)
            .clamp(1, MAX_PER_PAGE);
        let page = q.page.unwrap_or(1).max(1);
        let mut filter = Sql::new(" FROM evaluations e WHERE 1 = 1");
        if let Some(units) = scope_units(org, actor) {
            visible_to(&mut filter, &units);
        }
        let some = |v: &Option<String>| {
            v.as_deref()
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        };
        if let Some(status) = some(&q.status) {
            let s =
                EvaluationStatus::parse(&status).map_err(|m| StoreError::invalid("status", m))?;
            filter.push(" AND e.status = ").bind(s.as_str());
        }
        if let Some(kind) = some(&q.eval_type) {
            let k =
                EvaluationType::parse(&kind).map_err(|m| StoreError::invalid("eval_type", m))?;
            filter.push(" AND e.eval_type = ").bind(k.as_str());
        }
        if let Some(ind) = some(&q.independence) {
            let i =
                Independence::parse(&ind).map_err(|m| StoreError::invalid("independence", m))?;
            filter.push(" AND e.independence = ").bind(i.as_str());
        }
        if let Some(unit) = some(&q.unit) {
            let code = known_unit(org, "unit", &unit)?;
            let subtree: Vec<String> = org
                .units_in_scope(&Scope::Unit(code))
                .into_iter()
                .map(|u| u.to_string())
                .collect();
            filter.push(" AND e.unit_code IN ").list(&subtree);
        }
        if let Some(year) = some(&q.year) {
            if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
                return Err(StoreError::invalid(
                    "year",
                    format!("expected a year like 2026, found {year:?}"),
                ));
            }
            filter
                .push(" AND SUBSTR(COALESCE(e.actual_end, e.planned_end), 1, 4) = ")
                .bind(year);
        }
        if let Some(project) = some(&q.project) {
            filter
                .push(" AND e.id IN (SELECT ep.evaluation_id FROM evaluation_projects ep JOIN projects p ON p.id = ep.project_id WHERE p.id = ")
                .bind(project.clone())
                .push(" OR p.code = ")
                .bind(project)
                .push(")");
        }
        if let Some(words) = some(&q.q) {
            let pattern = format!("%{}%", words.to_lowercase());
            filter
                .push(" AND (LOWER(e.title) LIKE ")
                .bind(pattern.clone())
                .push(" OR LOWER(e.code) LIKE ")
                .bind(pattern)
                .push(")");
        }
        let mut conn = self.pool().acquire().await?;
        let mut count = Sql::new("SELECT COUNT(*) AS n");
        count.push(&filter.text);
        count.binds = filter.binds.clone();
        let total: i64 = count.fetch_all(&mut conn).await?[0].try_get("n")?;
        let mut list = Sql::new(&format!("SELECT {EVALUATION_COLUMNS}"));
        list.push(&filter.text);
        list.binds = filter.binds.clone();
        list.push(&format!(
            " ORDER BY COALESCE(e.actual_end, e.planned_end) DESC, e.code LIMIT {per_page} OFFSET {}",
            u64::from(page - 1) * u64::from(per_page)
        ));
        let evaluations = list
            .fetch_all(&mut conn)
            .await?
            .iter()
            .map(evaluation_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let rows = rows_with_figures(&mut conn, evaluations).await?;
        Ok(EvaluationPage {
            rows,
            page,
            per_page,
            total,
        })
    }

    /// Adds a recommendation (numbered in order) to an ongoing or completed evaluation.
    pub async fn add_recommendation(
        &self,
        org: &Organization,
        actor: &Actor,
        evaluation_id: &str,
        input: &EvaluationRecommendationInput,
    ) -> Result<EvaluationRecommendation, StoreError> {
        let ev = self.evaluation_unchecked(evaluation_id).await?;
        let unit = stored_unit(&ev.unit)?;
        authorize(org, actor, Action::ManageEvaluations, &unit)?;
        if !ev.status.takes_recommendations() {
            return Err(StoreError::Conflict(format!(
                "recommendations are recorded once an evaluation is ongoing or completed; {} is {}",
                ev.code, ev.status
            )));
        }
        let body = text("text", &input.text, 5_000)?;
        let addressee = known_unit(org, "addressee", &input.addressee)?;
        let priority =
            Priority::parse(&input.priority).map_err(|m| StoreError::invalid("priority", m))?;
        let mut tx = self.begin().await?;
        let number: i64 = sqlx::query(
            "SELECT CAST(COALESCE(MAX(number), 0) AS BIGINT) + 1 AS n FROM evaluation_recommendations WHERE evaluation_id = $1",
        )
        .bind(&ev.id)
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
        let id = new_id();
        let now = now_text();
        sqlx::query(
            "INSERT INTO evaluation_recommendations (id, evaluation_id, number, body, addressee_code, \
             priority, created_by, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 1)",
        )
        .bind(&id)
        .bind(&ev.id)
        .bind(number)
        .bind(&body)
        .bind(addressee.as_str())
        .bind(priority.as_str())
        .bind(actor.label())
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        let rec = recommendation_in(&mut tx, &id).await?;
        record(
            &mut tx,
            actor,
            Change::new("evaluation_recommendation", "create", &id)
                .unit(&addressee)
                .after(recommendation_view(&rec)),
        )
        .await?;
        tx.commit().await?;
        Ok(rec)
    }

    /// Rewords, readdresses or reprioritizes a recommendation.
    pub async fn update_recommendation(
        &self,
        org: &Organization,
        actor: &Actor,
        id: &str,
        input: &EvaluationRecommendationInput,
        version: i64,
    ) -> Result<EvaluationRecommendation, StoreError> {
        let (ev, before) = self.recommendation_unchecked(id).await?;
        authorize(
            org,
            actor,
            Action::ManageEvaluations,
            &stored_unit(&ev.unit)?,
        )?;
        let body = text("text", &input.text, 5_000)?;
        let addressee = known_unit(org, "addressee", &input.addressee)?;
        let priority =
            Priority::parse(&input.priority).map_err(|m| StoreError::invalid("priority", m))?;
        let label = format!("recommendation {} of {}", before.number, ev.code);
        if before.version != version {
            return Err(self
                .stale_follow_up(
                    "evaluation_recommendation",
                    &label,
                    &before.id,
                    before.version,
                    version,
                )
                .await?);
        }
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE evaluation_recommendations SET body = $3, addressee_code = $4, priority = $5, \
             updated_at = $6, version = version + 1 WHERE id = $1 AND version = $2",
        )
        .bind(&before.id)
        .bind(version)
        .bind(&body)
        .bind(addressee.as_str())
        .bind(priority.as_str())
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            drop(tx);
            let (_, current) = self.recommendation_unchecked(id).await?;
            return Err(self
                .stale_follow_up(
                    "evaluation_recommendation",
                    &label,
                    &current.id,
                    current.version,
                    version,
                )
                .await?);
        }
        let after = recommendation_in(&mut tx, &before.id).await?;
        record(
            &mut tx,
            actor,
            Change::new("evaluation_recommendation", "update", &before.id)
                .unit(&addressee)
                .before(recommendation_view(&before))
                .after(recommendation_view(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Records (or revises) management's response to a recommendation of a completed
    /// evaluation, for the unit the recommendation is addressed to.
    pub async fn respond_to_recommendation(
        &self,
        org: &Organization,
        actor: &Actor,
        id: &str,
        input: &ManagementResponseInput,
        version: i64,
    ) -> Result<EvaluationRecommendation, StoreError> {
        let (ev, before) = self.recommendation_unchecked(id).await?;
        let addressee = stored_unit(&before.addressee)?;
        authorize(org, actor, Action::RespondToEvaluations, &addressee)?;
        if ev.status != EvaluationStatus::Completed {
            return Err(StoreError::Conflict(format!(
                "management responds once the evaluation is completed; {} is {}",
                ev.code, ev.status
            )));
        }
        let kind =
            ResponseKind::parse(&input.response).map_err(|m| StoreError::invalid("response", m))?;
        let explanation = text("text", &input.text, 5_000)?;
        let label = format!("recommendation {} of {}", before.number, ev.code);
        if before.version != version {
            return Err(self
                .stale_follow_up(
                    "evaluation_recommendation",
                    &label,
                    &before.id,
                    before.version,
                    version,
                )
                .await?);
        }
        if !kind.takes_actions() {
            let open: Vec<&str> = before
                .actions
                .iter()
                .filter(|a| a.status.is_open())
                .map(|a| a.description.as_str())
                .collect();
            if !open.is_empty() {
                return Err(StoreError::invalid(
                    "response",
                    format!(
                        "{label} has {} open key action(s) ({}); mark them completed or no longer applicable before disagreeing",
                        open.len(),
                        open.join("; ")
                    ),
                ));
            }
        }
        let now = now_text();
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE evaluation_recommendations SET response = $3, response_text = $4, responded_by = $5, \
             responded_at = $6, first_responded_at = COALESCE(first_responded_at, $6), updated_at = $6, \
             version = version + 1 WHERE id = $1 AND version = $2",
        )
        .bind(&before.id)
        .bind(version)
        .bind(kind.as_str())
        .bind(&explanation)
        .bind(actor.label())
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            drop(tx);
            let (_, current) = self.recommendation_unchecked(id).await?;
            return Err(self
                .stale_follow_up(
                    "evaluation_recommendation",
                    &label,
                    &current.id,
                    current.version,
                    version,
                )
                .await?);
        }
        let after = recommendation_in(&mut tx, &before.id).await?;
        record(
            &mut tx,
            actor,
            Change::new("evaluation_recommendation", "respond", &before.id)
                .unit(&addressee)
                .before(recommendation_view(&before))
                .after(recommendation_view(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Adds a key action to a recommendation management agreed (or partly agreed) with.
    pub async fn add_key_action(
        &self,
        org: &Organization,
        actor: &Actor,
        recommendation_id: &str,
        input: &KeyActionInput,
    ) -> Result<KeyAction, StoreError> {
        let (ev, rec) = self.recommendation_unchecked(recommendation_id).await?;
        let addressee = stored_unit(&rec.addressee)?;
        authorize(org, actor, Action::RespondToEvaluations, &addressee)?;
        let label = format!("recommendation {} of {}", rec.number, ev.code);
        match rec.response.as_ref().map(|r| r.response) {
            None => {
                return Err(StoreError::Conflict(format!(
                    "record the management response to {label} before its key actions"
                )));
            }
            Some(kind) if !kind.takes_actions() => {
                return Err(StoreError::Conflict(format!(
                    "management disagreed with {label}: it has no key actions"
                )));
            }
            Some(_) => {}
        }
        let description = text("description", &input.description, 2_000)?;
        let owner = known_unit(org, "owner", &input.owner)?;
        let person = optional_text("person", &input.person, 200)?;
        let due = parse_date("due_date", &input.due_date)?;
        let status = if input.status.trim().is_empty() {
            ActionStatus::NotStarted
        } else {
            ActionStatus::parse(&input.status).map_err(|m| StoreError::invalid("status", m))?
        };
        let comments = optional_text("comments", &input.comments, 5_000)?;
        let id = new_id();
        let now = now_text();
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO evaluation_actions (id, evaluation_id, recommendation_id, description, owner_code, \
             owner_person, due_date, status, comments, created_by, created_at, updated_at, version) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, 1)",
        )
        .bind(&id)
        .bind(&ev.id)
        .bind(&rec.id)
        .bind(&description)
        .bind(owner.as_str())
        .bind(&person)
        .bind(due.to_string())
        .bind(status.as_str())
        .bind(&comments)
        .bind(actor.label())
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        let action = action_in(&mut tx, &id).await?;
        record(
            &mut tx,
            actor,
            Change::new("evaluation_action", "create", &id)
                .unit(&owner)
                .after(action_view(&action)),
        )
        .await?;
        tx.commit().await?;
        Ok(action)
    }

    /// Updates a key action's progress (status, comments) or its terms, for the unit the
    /// recommendation is addressed to or the unit that owns the action.
    pub async fn update_key_action(
        &self,
        org: &Organization,
        actor: &Actor,
        id: &str,
        patch: &KeyActionPatch,
        version: i64,
    ) -> Result<KeyAction, StoreError> {
        let (ev, rec, before) = self.action_unchecked(id).await?;
        let owner_before = stored_unit(&before.owner)?;
        if let Err(denied) = authorize(
            org,
            actor,
            Action::RespondToEvaluations,
            &stored_unit(&rec.addressee)?,
        ) {
            authorize(org, actor, Action::RespondToEvaluations, &owner_before)
                .map_err(|_| denied)?;
        }
        let description = match &patch.description {
            Some(d) => text("description", d, 2_000)?,
            None => before.description.clone(),
        };
        let owner = match &patch.owner {
            Some(o) => known_unit(org, "owner", o)?,
            None => owner_before.clone(),
        };
        let person = match &patch.person {
            Some(p) => optional_text("person", p, 200)?,
            None => before.person.clone(),
        };
        let due = match &patch.due_date {
            Some(d) => parse_date("due_date", d)?.to_string(),
            None => before.due_date.clone(),
        };
        let status = match &patch.status {
            Some(s) => ActionStatus::parse(s).map_err(|m| StoreError::invalid("status", m))?,
            None => before.status,
        };
        let comments = match &patch.comments {
            Some(c) => optional_text("comments", c, 5_000)?,
            None => before.comments.clone(),
        };
        let label = format!(
            "the key action \"{}\" (recommendation {} of {})",
            before.description, rec.number, ev.code
        );
        if before.version != version {
            return Err(self
                .stale_follow_up(
                    "evaluation_action",
                    &label,
                    &before.id,
                    before.version,
                    version,
                )
                .await?);
        }
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE evaluation_actions SET description = $3, owner_code = $4, owner_person = $5, \
             due_date = $6, status = $7, comments = $8, updated_at = $9, version = version + 1 \
             WHERE id = $1 AND version = $2",
        )
        .bind(&before.id)
        .bind(version)
        .bind(&description)
        .bind(owner.as_str())
        .bind(&person)
        .bind(&due)
        .bind(status.as_str())
        .bind(&comments)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            drop(tx);
            let (_, _, current) = self.action_unchecked(id).await?;
            return Err(self
                .stale_follow_up(
                    "evaluation_action",
                    &label,
                    &current.id,
                    current.version,
                    version,
                )
                .await?);
        }
        let after = action_in(&mut tx, &before.id).await?;
        record(
            &mut tx,
            actor,
            Change::new("evaluation_action", "update", &before.id)
                .unit(&owner)
                .before(action_view(&before))
                .after(action_view(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The follow-up of a unit and every unit below it: the evaluations they commissioned,
    /// recommendations awaiting a response, key actions by status with the overdue first, and
    /// the counts. Four queries, however many rows.
    pub async fn evaluation_tracking(
        &self,
        org: &Organization,
        actor: &Actor,
        unit: &str,
    ) -> Result<EvaluationTracking, StoreError> {
        let unit = known_unit(org, "unit", unit)?;
        authorize(org, actor, Action::ViewEvaluations, &unit)?;
        let subtree: Vec<String> = org
            .units_in_scope(&Scope::Unit(unit.clone()))
            .into_iter()
            .map(|u| u.to_string())
            .collect();
        let today = today();
        let mut conn = self.pool().acquire().await?;

        let mut sql = Sql::new(&format!(
            "SELECT {EVALUATION_COLUMNS} FROM evaluations e WHERE e.unit_code IN "
        ));
        sql.list(&subtree)
            .push(" ORDER BY COALESCE(e.actual_end, e.planned_end) DESC, e.code");
        let evaluations = sql
            .fetch_all(&mut conn)
            .await?
            .iter()
            .map(evaluation_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        let by_status: Vec<EvaluationCount> = EvaluationStatus::ALL
            .iter()
            .map(|s| EvaluationCount {
                key: s.as_str().to_owned(),
                count: evaluations.iter().filter(|e| e.status == *s).count() as i64,
            })
            .collect();
        let evaluation_rows = rows_with_figures(&mut conn, evaluations).await?;

        // Recommendations of those evaluations, or addressed to those units.
        let mut sql = Sql::new(&format!(
            "SELECT {RECOMMENDATION_COLUMNS}, e.code AS evaluation_code, e.title AS evaluation_title, \
             e.status AS evaluation_status, e.actual_end AS evaluation_end \
             FROM evaluation_recommendations r JOIN evaluations e ON e.id = r.evaluation_id \
             WHERE e.unit_code IN "
        ));
        sql.list(&subtree)
            .push(" OR r.addressee_code IN ")
            .list(&subtree);
        sql.push(" ORDER BY e.code, r.number");
        let mut recommendations = 0;
        let mut responded = 0;
        let mut late_responses = 0;
        let mut awaiting = Vec::new();
        for row in sql.fetch_all(&mut conn).await? {
            let completed = completion(&row)?;
            let rec = recommendation_from_row(&row, completed, today)?;
            recommendations += 1;
            if rec.response.is_some() {
                responded += 1;
            }
            if rec.response_late {
                late_responses += 1;
            }
            if rec.response.is_none() && completed.is_some() {
                awaiting.push(TrackedEvaluationRecommendation {
                    evaluation_code: row.try_get("evaluation_code")?,
                    evaluation_title: row.try_get("evaluation_title")?,
                    id: rec.id,
                    evaluation_id: rec.evaluation_id,
                    number: rec.number,
                    text: rec.text,
                    addressee: rec.addressee,
                    priority: rec.priority,
                    response_due: rec.response_due,
                    late: rec.response_late,
                });
            }
        }
        let awaiting_count = awaiting.len() as i64;
        awaiting.sort_by(|a, b| {
            (!a.late, &a.response_due, &a.evaluation_code, a.number).cmp(&(
                !b.late,
                &b.response_due,
                &b.evaluation_code,
                b.number,
            ))
        });
        awaiting.truncate(TRACKING_ROWS);

        // Key actions of those evaluations, for those units, or owned by them.
        let mut sql = Sql::new(&format!(
            "SELECT {ACTION_COLUMNS}, a.evaluation_id, e.code AS evaluation_code, r.number AS recommendation_number \
             FROM evaluation_actions a JOIN evaluation_recommendations r ON r.id = a.recommendation_id \
             JOIN evaluations e ON e.id = a.evaluation_id WHERE e.unit_code IN "
        ));
        sql.list(&subtree)
            .push(" OR r.addressee_code IN ")
            .list(&subtree)
            .push(" OR a.owner_code IN ")
            .list(&subtree);
        let mut actions = Vec::new();
        for row in sql.fetch_all(&mut conn).await? {
            let a = action_from_row(&row, today)?;
            actions.push(TrackedKeyAction {
                evaluation_id: row.try_get("evaluation_id")?,
                evaluation_code: row.try_get("evaluation_code")?,
                recommendation_number: row.try_get("recommendation_number")?,
                id: a.id,
                description: a.description,
                owner: a.owner,
                person: a.person,
                due_date: a.due_date,
                status: a.status,
                overdue: a.overdue,
            });
        }
        let actions_by_status = ActionStatus::ALL
            .iter()
            .map(|s| EvaluationCount {
                key: s.as_str().to_owned(),
                count: actions.iter().filter(|a| a.status == *s).count() as i64,
            })
            .collect();
        let overdue_actions = actions.iter().filter(|a| a.overdue).count() as i64;
        let action_count = actions.len() as i64;
        // Overdue first, the longest overdue first; then by status and due date.
        let key = |a: &TrackedKeyAction| {
            (
                !a.overdue,
                if a.overdue { None } else { Some(a.status) },
                a.due_date.clone(),
                a.evaluation_code.clone(),
                a.recommendation_number,
            )
        };
        actions.sort_by_key(key);
        actions.truncate(TRACKING_ROWS);
        Ok(EvaluationTracking {
            unit: unit.to_string(),
            today: today.to_string(),
            counts: EvaluationTrackingCounts {
                evaluations: evaluation_rows.len() as i64,
                evaluations_by_status: by_status,
                recommendations,
                responded,
                awaiting_response: awaiting_count,
                late_responses,
                actions: action_count,
                actions_by_status,
                overdue_actions,
            },
            evaluations: evaluation_rows,
            awaiting_response: awaiting,
            actions,
        })
    }

    async fn recommendation_unchecked(
        &self,
        id: &str,
    ) -> Result<(Evaluation, EvaluationRecommendation), StoreError> {
        let evaluation_id: String =
            sqlx::query("SELECT evaluation_id FROM evaluation_recommendations WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?
                .ok_or_else(|| StoreError::not_found("recommendation", id))?
                .try_get("evaluation_id")?;
        let mut ev = self.evaluation_unchecked(&evaluation_id).await?;
        let position = ev
            .recommendations
            .iter()
            .position(|r| r.id == id)
            .ok_or_else(|| StoreError::not_found("recommendation", id))?;
        let rec = ev.recommendations.remove(position);
        Ok((ev, rec))
    }

    async fn action_unchecked(
        &self,
        id: &str,
    ) -> Result<(Evaluation, EvaluationRecommendation, KeyAction), StoreError> {
        let rec_id: String =
            sqlx::query("SELECT recommendation_id FROM evaluation_actions WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?
                .ok_or_else(|| StoreError::not_found("key action", id))?
                .try_get("recommendation_id")?;
        let (ev, mut rec) = self.recommendation_unchecked(&rec_id).await?;
        let position = rec
            .actions
            .iter()
            .position(|a| a.id == id)
            .ok_or_else(|| StoreError::not_found("key action", id))?;
        let action = rec.actions.remove(position);
        Ok((ev, rec, action))
    }

    /// The conflict for a save based on an old version: who changed what since.
    async fn stale_follow_up(
        &self,
        entity: &str,
        label: &str,
        id: &str,
        current_version: i64,
        read_version: i64,
    ) -> Result<StoreError, StoreError> {
        let events = self
            .audit_events(&crate::audit::AuditQuery {
                entity: Some(entity.to_owned()),
                entity_id: Some(id.to_owned()),
                limit: 100,
                ..Default::default()
            })
            .await?;
        let mut fields = std::collections::BTreeSet::new();
        let mut who = std::collections::BTreeSet::new();
        for e in events.iter().filter(|e| {
            e.after
                .as_ref()
                .and_then(|a| a["version"].as_i64())
                .is_some_and(|v| v > read_version)
        }) {
            who.insert(e.actor.clone());
            if let (Some(serde_json::Value::Object(b)), Some(serde_json::Value::Object(a))) =
                (&e.before, &e.after)
            {
                for (k, v) in a {
                    if k != "version" && b.get(k) != Some(v) {
                        fields.insert(k.clone());
                    }
                }
            }
        }
        Ok(StoreError::Conflict(format!(
            "{label} was changed since you read it (you have version {read_version}, it is now at version {current_version}){}{}; reload and apply your change again",
            if who.is_empty() {
                String::new()
            } else {
                format!(" by {}", who.into_iter().collect::<Vec<_>>().join(", "))
            },
            if fields.is_empty() {
                String::new()
            } else {
                format!(
                    "; changed: {}",
                    fields.into_iter().collect::<Vec<_>>().join(", ")
                )
            },
        )))
    }
}

fn criteria_json(criteria: &[Criterion]) -> String {
    serde_json::to_string(&criteria.iter().map(|c| c.as_str()).collect::<Vec<_>>())
        .expect("strings serialize")
}

async fn write_projects(tx: &mut Tx, id: &str, projects: &[String]) -> Result<(), StoreError> {
    for project in projects {
        sqlx::query("INSERT INTO evaluation_projects (evaluation_id, project_id) VALUES ($1, $2)")
            .bind(id)
            .bind(project)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// The completion date of the row's evaluation (joined as `evaluation_status`, `evaluation_end`).
fn completion(row: &AnyRow) -> Result<Option<Date>, StoreError> {
    let status: String = row.try_get("evaluation_status")?;
    let end: Option<String> = row.try_get("evaluation_end")?;
    match (status.as_str(), end) {
        ("completed", Some(end)) => stored_date(&end).map(Some),
        _ => Ok(None),
    }
}

async fn recommendation_in(tx: &mut Tx, id: &str) -> Result<EvaluationRecommendation, StoreError> {
    let sql = format!(
        "SELECT {RECOMMENDATION_COLUMNS}, e.status AS evaluation_status, e.actual_end AS evaluation_end \
         FROM evaluation_recommendations r JOIN evaluations e ON e.id = r.evaluation_id WHERE r.id = $1"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    let today = today();
    let mut rec = recommendation_from_row(&row, completion(&row)?, today)?;
    let sql = format!(
        "SELECT {ACTION_COLUMNS} FROM evaluation_actions a WHERE a.recommendation_id = $1 ORDER BY a.due_date, a.created_at, a.id"
    );
    rec.actions = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_all(&mut **tx)
        .await?
        .iter()
        .map(|r| action_from_row(r, today))
        .collect::<Result<_, _>>()?;
    Ok(rec)
}

async fn action_in(tx: &mut Tx, id: &str) -> Result<KeyAction, StoreError> {
    let sql = format!("SELECT {ACTION_COLUMNS} FROM evaluation_actions a WHERE a.id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    action_from_row(&row, today())
}

/// Rows of the registry with their follow-up figures: two queries for the whole page.
async fn rows_with_figures(
    conn: &mut AnyConnection,
    evaluations: Vec<Evaluation>,
) -> Result<Vec<EvaluationRow>, StoreError> {
    let today = today();
    let ids: Vec<String> = evaluations.iter().map(|e| e.id.clone()).collect();
    let mut rows: Vec<EvaluationRow> = evaluations
        .into_iter()
        .map(|e| EvaluationRow {
            id: e.id,
            code: e.code,
            title: e.title,
            eval_type: e.eval_type,
            unit: e.unit,
            status: e.status,
            independence: e.independence,
            planned_end: e.planned_end,
            actual_end: e.actual_end,
            budget_usd: e.budget_usd,
            quality_rating: e.quality_rating,
            recommendations: 0,
            awaiting_response: 0,
            late_responses: 0,
            open_actions: 0,
            overdue_actions: 0,
        })
        .collect();
    if ids.is_empty() {
        return Ok(rows);
    }
    let mut sql = Sql::new(
        "SELECT r.evaluation_id, r.first_responded_at, e.status AS evaluation_status, \
         e.actual_end AS evaluation_end FROM evaluation_recommendations r \
         JOIN evaluations e ON e.id = r.evaluation_id WHERE r.evaluation_id IN ",
    );
    sql.list(&ids);
    for r in sql.fetch_all(conn).await? {
        let evaluation_id: String = r.try_get("evaluation_id")?;
        let first: Option<String> = r.try_get("first_responded_at")?;
        let completed = completion(&r)?;
        let first = first.as_deref().map(stored_date).transpose()?;
        if let Some(row) = rows.iter_mut().find(|x| x.id == evaluation_id) {
            row.recommendations += 1;
            if first.is_none() && completed.is_some() {
                row.awaiting_response += 1;
            }
            if response_is_late(completed, first, today) {
                row.late_responses += 1;
            }
        }
    }
    let mut sql = Sql::new(
        "SELECT a.evaluation_id, a.status, a.due_date FROM evaluation_actions a WHERE a.evaluation_id IN ",
    );
    sql.list(&ids);
    for r in sql.fetch_all(conn).await? {
        let evaluation_id: String = r.try_get("evaluation_id")?;
        let status = corrupt(ActionStatus::parse(&r.try_get::<String, _>("status")?))?;
        let due = stored_date(&r.try_get::<String, _>("due_date")?)?;
        if let Some(row) = rows.iter_mut().find(|x| x.id == evaluation_id) {
            if status.is_open() {
                row.open_actions += 1;
            }
            if is_overdue(due, status, today) {
                row.overdue_actions += 1;
            }
        }
    }
    Ok(rows)
}

// ---------------------------------------------------------------------------------------------
// Demonstration data

impl Store {
    /// A handful of evaluations for `meridian demo`, through the real store functions (so they
    /// are checked and audited like any other): a completed project evaluation of a country
    /// office with late and missing management responses and an overdue key action, an ongoing
    /// regional thematic evaluation, a recently completed headquarters strategic evaluation
    /// (responses not yet due), a planned country programme evaluation and a cancelled
    /// real-time one. Dates are relative to today, so something is always overdue. The M&E
    /// officer at headquarters registers and the approver at headquarters responds, when the
    /// demo has them; otherwise `actor` does. Returns how many evaluations it wrote.
    pub async fn demo_evaluations(
        &self,
        org: &Organization,
        actor: &Actor,
        people: &[meridian_domain::authz::UserActor],
    ) -> Result<usize, StoreError> {
        use meridian_domain::authz::Role;
        use meridian_domain::org::UnitKind;
        let find = |role: Role| {
            people
                .iter()
                .find(|p| p.roles.contains(&role) && org.scope_of(&p.unit) == Scope::Global)
                .map(|p| Actor::User(p.clone()))
                .unwrap_or_else(|| actor.clone())
        };
        let registrar = find(Role::MeOfficer);
        let head = find(Role::Approver);
        let day = |offset: i64| (today() + time::Duration::days(offset)).to_string();
        // A country office with projects, its regional office, and a second region.
        let country: Option<String> = sqlx::query(
            "SELECT unit_code FROM projects WHERE unit_code LIKE 'CO-%' ORDER BY code LIMIT 1",
        )
        .fetch_optional(self.pool())
        .await?
        .map(|r| r.try_get("unit_code"))
        .transpose()?;
        let Some(country) = country.or_else(|| {
            org.units()
                .iter()
                .find(|u| u.kind == UnitKind::CountryOffice)
                .map(|u| u.code.to_string())
        }) else {
            return Ok(0);
        };
        let country_code = stored_unit(&country)?;
        let region = org
            .ancestors(&country_code)
            .find(|u| u.kind == UnitKind::RegionalOffice)
            .map(|u| u.code.to_string())
            .unwrap_or_else(|| org.root().code.to_string());
        let other_region = org
            .regional_offices()
            .map(|u| u.code.to_string())
            .find(|c| *c != region)
            .unwrap_or_else(|| region.clone());
        let hq = org
            .unit("DSPOP-ME")
            .map(|u| u.code.to_string())
            .unwrap_or_else(|| org.root().code.to_string());
        let project: Option<String> =
            sqlx::query("SELECT code FROM projects WHERE unit_code = $1 ORDER BY code LIMIT 1")
                .bind(&country)
                .fetch_optional(self.pool())
                .await?
                .map(|r| r.try_get("code"))
                .transpose()?;
        let input = |title: &str, kind: &str, unit: &str, status: &str| EvaluationInput {
            title: title.into(),
            eval_type: kind.into(),
            unit: unit.into(),
            independence: "independent".into(),
            status: status.into(),
            criteria: vec![
                "relevance".into(),
                "effectiveness".into(),
                "efficiency".into(),
                "sustainability".into(),
            ],
            ..Default::default()
        };
        let rec = |text: &str, addressee: &str, priority: &str| EvaluationRecommendationInput {
            text: text.into(),
            addressee: addressee.into(),
            priority: priority.into(),
        };
        let answer = |kind: &str, text: &str| ManagementResponseInput {
            response: kind.into(),
            text: text.into(),
        };
        let action = |description: &str, owner: &str, due: String, status: &str| KeyActionInput {
            description: description.into(),
            owner: owner.into(),
            person: "Programme manager".into(),
            due_date: due,
            status: status.into(),
            comments: String::new(),
        };

        // 1. A completed project evaluation, four months ago.
        let mut first = input(
            "Final evaluation of safe migration information and referral",
            "project",
            &country,
            "completed",
        );
        first.summary = "Independent final evaluation of the project's information campaign and referral pathways.".into();
        first.planned_start = day(-240);
        first.planned_end = day(-130);
        first.actual_start = Some(day(-230));
        first.actual_end = Some(day(-120));
        first.budget = Some("45000".into());
        first.currency = Some("USD".into());
        first.quality_rating = Some("satisfactory".into());
        first.projects = project.into_iter().collect();
        let ev = self.create_evaluation(org, &registrar, &first).await?;
        let r1 = self
            .add_recommendation(
                org,
                &registrar,
                &ev.id,
                &rec(
                    "Map referral services with partners and publish a directory.",
                    &country,
                    "high",
                ),
            )
            .await?;
        let r2 = self
            .add_recommendation(
                org,
                &registrar,
                &ev.id,
                &rec(
                    "Track beneficiaries' feedback monthly and act on it.",
                    &country,
                    "medium",
                ),
            )
            .await?;
        self.add_recommendation(
            org,
            &registrar,
            &ev.id,
            &rec(
                "Share the information materials across the region.",
                &region,
                "low",
            ),
        )
        .await?;
        let r1 = self
            .respond_to_recommendation(
                org,
                &head,
                &r1.id,
                &answer(
                    "agree",
                    "The office will map services with the national referral mechanism.",
                ),
                r1.version,
            )
            .await?;
        let r2 = self
            .respond_to_recommendation(
                org,
                &head,
                &r2.id,
                &answer(
                    "partially_agree",
                    "Quarterly, not monthly: the field teams cannot collect more often.",
                ),
                r2.version,
            )
            .await?;
        self.add_key_action(
            org,
            &head,
            &r1.id,
            &action("Map referral services", &country, day(-30), "initiated"),
        )
        .await?;
        self.add_key_action(
            org,
            &head,
            &r1.id,
            &action(
                "Brief partners on the directory",
                &country,
                day(-60),
                "completed",
            ),
        )
        .await?;
        self.add_key_action(
            org,
            &head,
            &r2.id,
            &action(
                "Set up quarterly feedback collection",
                &country,
                day(60),
                "not_started",
            ),
        )
        .await?;

        // 2. An ongoing thematic evaluation of the region.
        let mut second = input(
            "Thematic evaluation of counter-trafficking assistance",
            "thematic",
            &region,
            "ongoing",
        );
        second.planned_start = day(-45);
        second.planned_end = day(45);
        second.actual_start = Some(day(-40));
        second.budget = Some("80000".into());
        second.currency = Some("EUR".into());
        second.independence = "joint".into();
        let ev2 = self.create_evaluation(org, &registrar, &second).await?;
        self.add_recommendation(
            org,
            &registrar,
            &ev2.id,
            &rec(
                "Harmonize case management tools across country offices (draft report).",
                &region,
                "medium",
            ),
        )
        .await?;

        // 3. A strategic evaluation completed ten days ago: responses not due yet.
        let mut third = input(
            "Strategic evaluation of results-based management",
            "strategic",
            &hq,
            "completed",
        );
        third.planned_start = day(-200);
        third.planned_end = day(-20);
        third.actual_start = Some(day(-190));
        third.actual_end = Some(day(-10));
        third.quality_rating = Some("highly_satisfactory".into());
        third.criteria.push("coherence".into());
        let ev3 = self.create_evaluation(org, &registrar, &third).await?;
        for (text, unit) in [
            (
                "Align country results frameworks with the institutional framework.",
                hq.as_str(),
            ),
            (
                "Train regional M&E officers on aggregation of indicators.",
                other_region.as_str(),
            ),
        ] {
            self.add_recommendation(org, &registrar, &ev3.id, &rec(text, unit, "high"))
                .await?;
        }

        // 4. A planned country programme evaluation, and 5. a cancelled real-time one.
        let mut fourth = input(
            "Country programme evaluation",
            "country_programme",
            &country,
            "planned",
        );
        fourth.planned_start = day(90);
        fourth.planned_end = day(210);
        fourth.independence = "internal".into();
        self.create_evaluation(org, &registrar, &fourth).await?;
        let mut fifth = input(
            "Real-time evaluation of the flood response",
            "real_time",
            &region,
            "cancelled",
        );
        fifth.planned_start = day(-100);
        fifth.planned_end = day(-70);
        fifth.independence = "internal".into();
        self.create_evaluation(org, &registrar, &fifth).await?;
        Ok(5)
    }
}
