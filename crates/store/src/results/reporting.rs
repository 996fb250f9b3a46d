//! Reporting: actual values per indicator and period, their review (draft → submitted →
//! approved or returned), bulk approval, period locks, and who has not reported.

use super::{Columns, ReportView, corrupt, parse_text};
use crate::audit::record;
use crate::db::now_text;
use crate::projects::{Project, unit_code};
use crate::{Store, StoreError, Tx};
use meridian_domain::audit::Change;
use meridian_domain::authz::{Action, Actor, Denied, authorize};
use meridian_domain::org::{Organization, Scope, UnitCode};
use meridian_domain::results::combination::{DisaggregationKey, check_breakdown, check_key};
use meridian_domain::results::model::{
    Measure, Quantity, ValueStatus, ValueTransition, parse_quantity,
};
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::collections::HashMap;

/// One figure of a report: the total when `disaggregation` is empty, else one option
/// (`sex=female`) or one option of every category (`age_group=age_18_59;sex=female`, in any
/// order; stored sorted by category). A report gives combinations or single options, not
/// both. Figures are typed as text: `1250`, `30/120`, or a qualitative text.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ValueInput {
    #[serde(default)]
    pub disaggregation: String,
    pub value: String,
}

/// A report as entered: its figures and narrative. Saving puts it in draft.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ReportInput {
    pub values: Vec<ValueInput>,
    #[serde(default)]
    pub narrative: String,
    /// The version read, when the report exists already.
    #[serde(default)]
    pub version: Option<i64>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ReportTransitionInput {
    /// `submit`, `approve` or `return`.
    pub action: String,
    /// Required to return a value: what the reporter should fix.
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub version: Option<i64>,
}

/// Approve many submitted reports of one project at once: those named, or every submitted
/// report of a period. All or nothing.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct BulkApproval {
    /// A period start (or label): approve every submitted report of that period.
    #[serde(default)]
    pub period: Option<String>,
    /// Or these reports, as `indicator_id` + `period_start`.
    #[serde(default)]
    pub reports: Vec<ReportKey>,
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ReportKey {
    pub indicator_id: String,
    pub period_start: String,
}

/// A project that owes reports for a period: how many of its indicators are in which state.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MissingReport {
    pub project_id: String,
    pub project_code: String,
    pub project_title: String,
    pub unit: String,
    pub period_start: String,
    pub period_end: String,
    pub period_label: String,
    pub locked: bool,
    pub indicators: i64,
    pub not_reported: i64,
    pub draft: i64,
    pub submitted: i64,
    pub returned: i64,
    pub approved: i64,
}

/// What the store knows about one indicator while saving a report.
struct IndicatorFacts {
    project: Project,
    measure: Measure,
    categories: Vec<meridian_domain::results::model::Disaggregation>,
    srf_indicator: Option<String>,
}

/// The parsed figures of a report: the total and each option, checked against each other.
pub(crate) struct CheckedReport {
    pub values: Vec<(String, Quantity)>,
}

/// Checks a report's figures: the total is required; every key must name options of the
/// indicator's categories, one category (a marginal) or all of them (a combination), and is
/// stored in its canonical form; a report holds combinations or marginals, not both; the parts
/// add up as [`check_breakdown`] says (exactly when every category involved is exhaustive, at
/// most to the total otherwise).
pub(crate) fn check_values(
    measure: Measure,
    categories: &[meridian_domain::results::model::Disaggregation],
    values: &[ValueInput],
) -> Result<CheckedReport, (String, String)> {
    let mut total: Option<Quantity> = None;
    let mut parts: Vec<(DisaggregationKey, Quantity)> = Vec::new();
    for v in values {
        let raw = v.disaggregation.trim();
        if v.value.trim().is_empty() {
            if raw.is_empty() {
                return Err(("total".into(), "a total is required".into()));
            }
            continue;
        }
        let (key, _) = check_key(categories, raw).map_err(|e| (raw.to_owned(), e))?;
        let q = parse_quantity(measure, &v.value).map_err(|e| {
            let field = if key.is_total() {
                "total".to_owned()
            } else {
                key.to_string()
            };
            (field, e.to_string())
        })?;
        if key.is_total() {
            if total.is_some() {
                return Err(("total".into(), "two totals were given".into()));
            }
            total = Some(q);
        } else {
            parts.push((key, q));
        }
    }
    let total = total.ok_or_else(|| ("total".to_owned(), "a total is required".to_owned()))?;
    check_breakdown(categories, Some(&total), &parts, true).map_err(|e| (e.field, e.message))?;
    let mut values = vec![(String::new(), total)];
    values.extend(parts.into_iter().map(|(k, q)| (k.to_string(), q)));
    Ok(CheckedReport { values })
}

impl Store {
    async fn indicator_facts(&self, indicator_id: &str) -> Result<IndicatorFacts, StoreError> {
        let row = sqlx::query(
            "SELECT project_id, measure, categories, srf_indicator_code FROM indicators WHERE id = $1",
        )
        .bind(indicator_id)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::not_found("indicator", indicator_id))?;
        let project_id: String = row.try_get("project_id")?;
        Ok(IndicatorFacts {
            project: self.project_unchecked(&project_id).await?,
            measure: corrupt(&row.try_get::<String, _>("measure")?)?,
            categories: super::json_column(&row, "categories")?,
            srf_indicator: row.try_get("srf_indicator_code")?,
        })
    }

    /// The period of a project given by its start date or its label, and whether it is locked.
    async fn period_of(
        &self,
        tx: &mut Tx,
        project: &Project,
        period: &str,
    ) -> Result<(String, bool), StoreError> {
        let row = sqlx::query(
            "SELECT period_start, locked FROM reporting_periods WHERE project_id = $1 \
             AND (period_start = $2 OR label = $2)",
        )
        .bind(&project.id)
        .bind(period.trim())
        .fetch_optional(&mut **tx)
        .await?
        .ok_or_else(|| {
            StoreError::invalid(
                "period",
                format!(
                    "expected a reporting period of {} (set its frequency first), found {period:?}",
                    project.code
                ),
            )
        })?;
        Ok((
            row.try_get("period_start")?,
            row.try_get::<i64, _>("locked")? == 1,
        ))
    }

    /// Saves a report's figures as a draft (a new report, a draft, or a returned one). The
    /// period must be open; figures are checked (numbers for quantitative indicators, parts
    /// adding up); nothing is saved if anything is wrong.
    pub async fn save_report(
        &self,
        org: &Organization,
        actor: &Actor,
        indicator_id: &str,
        period: &str,
        input: &ReportInput,
    ) -> Result<ReportView, StoreError> {
        let facts = self.indicator_facts(indicator_id).await?;
        let unit = unit_code(&facts.project.unit)?;
        authorize(org, actor, Action::ReportResults, &unit)?;
        let checked = check_values(facts.measure, &facts.categories, &input.values).map_err(
            |(field, message)| StoreError::Invalid {
                field: "values",
                message: format!("{field}: {message}"),
            },
        )?;
        let narrative = input.narrative.trim().to_owned();
        let mut tx = self.begin().await?;
        let (period_start, locked) = self.period_of(&mut tx, &facts.project, period).await?;
        let before = report_in_tx(&mut tx, indicator_id, &period_start).await?;
        let now = now_text();
        match &before {
            Some(b) => {
                b.status
                    .apply(ValueTransition::Edit, locked)
                    .map_err(transition_error)?;
                if let Some(v) = input.version
                    && v != b.version
                {
                    return Err(stale(b, v));
                }
                if input.version.is_none() {
                    return Err(StoreError::invalid(
                        "version",
                        format!(
                            "the report exists (version {}); give the version you read",
                            b.version
                        ),
                    ));
                }
            }
            None => {
                if locked {
                    return Err(transition_error(
                        meridian_domain::results::model::ValueTransitionError::PeriodLocked,
                    ));
                }
            }
        }
        write_draft(
            &mut tx,
            DraftWrite {
                indicator_id,
                period_start: &period_start,
                project_id: &facts.project.id,
                narrative: &narrative,
                entered_by: &actor.label(),
                now: &now,
                exists: before.is_some(),
                checked: &checked,
            },
        )
        .await?;
        let after = report_in_tx(&mut tx, indicator_id, &period_start)
            .await?
            .expect("written above");
        record(
            &mut tx,
            actor,
            Change::new(
                "indicator_report",
                "save",
                format!("{indicator_id}/{period_start}"),
            )
            .unit(&unit)
            .before(&before)
            .after(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// Submits, approves or returns one report. Approving and returning need the approver
    /// role and are refused to whoever submitted the report (segregation of duties); a
    /// return needs a note. Roll-ups move in the same transaction.
    pub async fn transition_report(
        &self,
        org: &Organization,
        actor: &Actor,
        indicator_id: &str,
        period: &str,
        input: &ReportTransitionInput,
    ) -> Result<ReportView, StoreError> {
        let action: ValueTransition = parse_text("action", &input.action)?;
        let facts = self.indicator_facts(indicator_id).await?;
        let mut tx = self.begin().await?;
        let (period_start, locked) = self.period_of(&mut tx, &facts.project, period).await?;
        // A review moves the roll-ups: the project's leaves of that SRF indicator as they are
        // before it, to move the cells by the difference.
        let leaves = match (&facts.srf_indicator, action.is_review()) {
            (Some(code), true) => {
                Some(super::rollup::project_leaves(&mut tx, &facts.project.id, Some(code)).await?)
            }
            _ => None,
        };
        let after = self
            .apply_report_transition(
                &mut tx,
                org,
                actor,
                &facts.project,
                indicator_id,
                &period_start,
                locked,
                action,
                &input.note,
                input.version,
            )
            .await?;
        if let Some(leaves) = leaves {
            super::rollup::project_changed(&mut tx, leaves, Some(facts.srf_indicator.as_slice()))
                .await?;
        }
        tx.commit().await?;
        Ok(after)
    }

    #[allow(clippy::too_many_arguments)]
    async fn apply_report_transition(
        &self,
        tx: &mut Tx,
        org: &Organization,
        actor: &Actor,
        project: &Project,
        indicator_id: &str,
        period_start: &str,
        locked: bool,
        action: ValueTransition,
        note: &str,
        version: Option<i64>,
    ) -> Result<ReportView, StoreError> {
        let unit = unit_code(&project.unit)?;
        let needed = if action.is_review() {
            Action::ApproveResults
        } else {
            Action::ReportResults
        };
        authorize(org, actor, needed, &unit)?;
        let before = report_in_tx(tx, indicator_id, period_start)
            .await?
            .ok_or_else(|| {
                StoreError::not_found("report", format!("{indicator_id}/{period_start}"))
            })?;
        if let Some(v) = version
            && v != before.version
        {
            return Err(stale(&before, v));
        }
        let to = before
            .status
            .apply(action, locked)
            .map_err(transition_error)?;
        if action.is_review()
            && let Some(submitter) = &before.submitted_by
            && *submitter == actor.label()
        {
            return Err(StoreError::Denied(Denied::Rule(format!(
                "{submitter} submitted this value and so cannot {} it (segregation of duties); another approver must",
                action.as_str()
            ))));
        }
        let note = note.trim();
        if action == ValueTransition::Return && note.is_empty() {
            return Err(StoreError::invalid(
                "note",
                "say what should be corrected when returning a value",
            ));
        }
        let now = now_text();
        let sql = match action {
            ValueTransition::Submit => {
                "UPDATE indicator_reports SET status = $3, submitted_by = $4, submitted_at = $5, \
                 updated_at = $5, version = version + 1 WHERE indicator_id = $1 AND period_start = $2"
            }
            ValueTransition::Approve | ValueTransition::Return => {
                "UPDATE indicator_reports SET status = $3, reviewed_by = $4, reviewed_at = $5, \
                 review_note = $6, updated_at = $5, version = version + 1 \
                 WHERE indicator_id = $1 AND period_start = $2"
            }
            ValueTransition::Edit => {
                return Err(StoreError::invalid(
                    "action",
                    "to edit a value, save new figures",
                ));
            }
        };
        sqlx::query(sql)
            .bind(indicator_id)
            .bind(period_start)
            .bind(to.as_str())
            .bind(actor.label())
            .bind(&now)
            .bind(note)
            .execute(&mut **tx)
            .await?;
        let after = report_in_tx(tx, indicator_id, period_start)
            .await?
            .expect("updated above");
        record(
            tx,
            actor,
            Change::new(
                "indicator_report",
                action.as_str(),
                format!("{indicator_id}/{period_start}"),
            )
            .unit(&unit)
            .before(&before)
            .after(&after),
        )
        .await?;
        Ok(after)
    }

    /// Approves many submitted reports of one project in one transaction. Refused whole if
    /// any is not submitted, is in a locked period, or was submitted by the approver.
    pub async fn approve_reports(
        &self,
        org: &Organization,
        actor: &Actor,
        project: &str,
        input: &BulkApproval,
    ) -> Result<Vec<ReportView>, StoreError> {
        let project = self.project_unchecked(project).await?;
        authorize(
            org,
            actor,
            Action::ApproveResults,
            &unit_code(&project.unit)?,
        )?;
        let mut tx = self.begin().await?;
        let mut keys: Vec<(String, String)> = Vec::new();
        if let Some(period) = &input.period {
            let (start, _) = self.period_of(&mut tx, &project, period).await?;
            for r in sqlx::query(
                "SELECT indicator_id FROM indicator_reports WHERE project_id = $1 AND period_start = $2 \
                 AND status = 'submitted' ORDER BY indicator_id",
            )
            .bind(&project.id)
            .bind(&start)
            .fetch_all(&mut *tx)
            .await?
            {
                keys.push((r.try_get("indicator_id")?, start.clone()));
            }
        }
        for k in &input.reports {
            let (start, _) = self.period_of(&mut tx, &project, &k.period_start).await?;
            keys.push((k.indicator_id.clone(), start));
        }
        keys.sort();
        keys.dedup();
        if keys.is_empty() {
            return Err(StoreError::invalid(
                "reports",
                "nothing to approve: no submitted report matches",
            ));
        }
        let leaves = super::rollup::project_leaves(&mut tx, &project.id, None).await?;
        let mut srf: Vec<String> = Vec::new();
        let mut out = Vec::new();
        for (indicator_id, start) in &keys {
            let row = sqlx::query(
                "SELECT i.srf_indicator_code, p.locked FROM indicators i \
                 JOIN reporting_periods p ON p.project_id = i.project_id AND p.period_start = $2 \
                 WHERE i.id = $1 AND i.project_id = $3",
            )
            .bind(indicator_id)
            .bind(start)
            .bind(&project.id)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| {
                StoreError::invalid(
                    "reports",
                    format!(
                        "indicator {indicator_id} is not an indicator of {}",
                        project.code
                    ),
                )
            })?;
            if let Some(code) = row.try_get::<Option<String>, _>("srf_indicator_code")? {
                srf.push(code);
            }
            let locked = row.try_get::<i64, _>("locked")? == 1;
            let view = self
                .apply_report_transition(
                    &mut tx,
                    org,
                    actor,
                    &project,
                    indicator_id,
                    start,
                    locked,
                    ValueTransition::Approve,
                    "",
                    None,
                )
                .await
                .map_err(|e| match e {
                    StoreError::Invalid { field, message } => StoreError::Invalid {
                        field,
                        message: format!("{indicator_id} {start}: {message}"),
                    },
                    StoreError::Conflict(m) => {
                        StoreError::Conflict(format!("{indicator_id} {start}: {m}"))
                    }
                    other => other,
                })?;
            out.push(view);
        }
        super::rollup::project_changed(&mut tx, leaves, Some(&srf)).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// Locks or unlocks a reporting period of a project. A locked period refuses every change
    /// to its values.
    pub async fn set_period_lock(
        &self,
        org: &Organization,
        actor: &Actor,
        project: &str,
        period: &str,
        locked: bool,
    ) -> Result<super::PeriodView, StoreError> {
        let project = self.project_unchecked(project).await?;
        let unit = unit_code(&project.unit)?;
        authorize(org, actor, Action::LockReportingPeriods, &unit)?;
        let mut tx = self.begin().await?;
        let (start, was) = self.period_of(&mut tx, &project, period).await?;
        if was == locked {
            return Err(StoreError::Conflict(format!(
                "the period is already {}",
                if locked { "locked" } else { "open" }
            )));
        }
        let now = now_text();
        sqlx::query(
            "UPDATE reporting_periods SET locked = $3, locked_by = $4, locked_at = $5 \
             WHERE project_id = $1 AND period_start = $2",
        )
        .bind(&project.id)
        .bind(&start)
        .bind(crate::db::flag(locked))
        .bind(locked.then(|| actor.label()))
        .bind(locked.then_some(now))
        .execute(&mut *tx)
        .await?;
        let row = sqlx::query(
            "SELECT period_start, period_end, label, locked, locked_by FROM reporting_periods \
             WHERE project_id = $1 AND period_start = $2",
        )
        .bind(&project.id)
        .bind(&start)
        .fetch_one(&mut *tx)
        .await?;
        let view = super::period_view(&row)?;
        record(
            &mut tx,
            actor,
            Change::new(
                "reporting_period",
                if locked { "lock" } else { "unlock" },
                format!("{}/{start}", project.id),
            )
            .unit(&unit)
            .after(&view),
        )
        .await?;
        tx.commit().await?;
        Ok(view)
    }

    /// Projects in the reader's scope that report for the period containing `on`, with how
    /// many of their indicators are not reported, in draft, submitted, returned or approved.
    /// Those with the most missing come first. One query.
    pub async fn missing_reports(
        &self,
        org: &Organization,
        actor: &Actor,
        on: &str,
        unit: Option<&str>,
    ) -> Result<Vec<MissingReport>, StoreError> {
        let on = super::date(on)?.to_string();
        let mut sql = String::from(
            "SELECT p.id, p.code, p.title, p.unit_code, rp.period_start, rp.period_end, rp.label, rp.locked, \
             CAST(COUNT(i.id) AS BIGINT) AS indicators, \
             CAST(SUM(CASE WHEN r.status IS NULL THEN 1 ELSE 0 END) AS BIGINT) AS not_reported, \
             CAST(SUM(CASE WHEN r.status = 'draft' THEN 1 ELSE 0 END) AS BIGINT) AS draft, \
             CAST(SUM(CASE WHEN r.status = 'submitted' THEN 1 ELSE 0 END) AS BIGINT) AS submitted, \
             CAST(SUM(CASE WHEN r.status = 'returned' THEN 1 ELSE 0 END) AS BIGINT) AS returned, \
             CAST(SUM(CASE WHEN r.status = 'approved' THEN 1 ELSE 0 END) AS BIGINT) AS approved \
             FROM reporting_periods rp \
             JOIN projects p ON p.id = rp.project_id \
             JOIN indicators i ON i.project_id = p.id \
             LEFT JOIN indicator_reports r ON r.indicator_id = i.id AND r.period_start = rp.period_start \
             WHERE rp.period_start <= $1 AND rp.period_end >= $1",
        );
        let mut binds: Vec<String> = vec![on];
        match actor.scope(org) {
            Scope::Global => {}
            Scope::Region(ro) => {
                binds.push(ro.to_string());
                sql.push_str(&format!(" AND p.region_code = ${}", binds.len()));
            }
            Scope::Unit(u) => {
                let units = org.units_in_scope(&Scope::Unit(u));
                let mut marks = Vec::new();
                for unit in units {
                    binds.push(unit.to_string());
                    marks.push(format!("${}", binds.len()));
                }
                sql.push_str(&format!(" AND p.unit_code IN ({})", marks.join(", ")));
            }
        }
        if let Some(unit) = unit.filter(|u| !u.trim().is_empty()) {
            let code = unit_code(unit.trim())
                .map_err(|_| StoreError::invalid("unit", format!("unknown unit {unit:?}")))?;
            let units = org.units_in_scope(&org.scope_of(&code));
            let mut marks = Vec::new();
            for u in units {
                binds.push(u.to_string());
                marks.push(format!("${}", binds.len()));
            }
            sql.push_str(&format!(" AND p.unit_code IN ({})", marks.join(", ")));
        }
        sql.push_str(
            " GROUP BY p.id, p.code, p.title, p.unit_code, rp.period_start, rp.period_end, rp.label, rp.locked \
             ORDER BY not_reported DESC, p.code LIMIT 500",
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in &binds {
            q = q.bind(b);
        }
        q.fetch_all(self.pool())
            .await?
            .iter()
            .map(|r| {
                Ok(MissingReport {
                    project_id: r.try_get("id")?,
                    project_code: r.try_get("code")?,
                    project_title: r.try_get("title")?,
                    unit: r.try_get("unit_code")?,
                    period_start: r.try_get("period_start")?,
                    period_end: r.try_get("period_end")?,
                    period_label: r.try_get("label")?,
                    locked: r.try_get::<i64, _>("locked")? == 1,
                    indicators: r.try_get("indicators")?,
                    not_reported: r.try_get("not_reported")?,
                    draft: r.try_get("draft")?,
                    submitted: r.try_get("submitted")?,
                    returned: r.try_get("returned")?,
                    approved: r.try_get("approved")?,
                })
            })
            .collect()
    }
}

pub(crate) async fn insert_values(
    tx: &mut Tx,
    indicator_id: &str,
    period_start: &str,
    checked: &CheckedReport,
) -> Result<(), StoreError> {
    for (key, q) in &checked.values {
        let c = Columns::of(q, "values")?;
        sqlx::query(
            "INSERT INTO indicator_values (indicator_id, period_start, disaggregation, value_e4, num_e4, den_e4, text_value) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(indicator_id)
        .bind(period_start)
        .bind(key)
        .bind(c.value)
        .bind(c.num)
        .bind(c.den)
        .bind(c.text)
        .execute(&mut **tx)
        .await?;
    }
    Ok(())
}

fn transition_error(e: meridian_domain::results::model::ValueTransitionError) -> StoreError {
    StoreError::Conflict(e.to_string())
}

fn stale(current: &ReportView, read: i64) -> StoreError {
    StoreError::Conflict(format!(
        "the report was changed since you read it (you have version {read}, it is at version {}: {} by {} at {}); reload and apply your change again",
        current.version, current.status, current.entered_by, current.updated_at
    ))
}

/// One report with its values, inside a transaction.
pub(crate) async fn report_in_tx(
    tx: &mut Tx,
    indicator_id: &str,
    period_start: &str,
) -> Result<Option<ReportView>, StoreError> {
    let Some(r) = sqlx::query(
        "SELECT status, narrative, entered_by, submitted_by, submitted_at, reviewed_by, reviewed_at, \
         review_note, updated_at, version FROM indicator_reports WHERE indicator_id = $1 AND period_start = $2",
    )
    .bind(indicator_id)
    .bind(period_start)
    .fetch_optional(&mut **tx)
    .await?
    else {
        return Ok(None);
    };
    let status: ValueStatus = corrupt(&r.try_get::<String, _>("status")?)?;
    let mut values = Vec::new();
    for v in sqlx::query(
        "SELECT disaggregation, value_e4, num_e4, den_e4, text_value FROM indicator_values \
         WHERE indicator_id = $1 AND period_start = $2 ORDER BY disaggregation",
    )
    .bind(indicator_id)
    .bind(period_start)
    .fetch_all(&mut **tx)
    .await?
    {
        if let Some(figure) = super::value_figure(&v)? {
            values.push(super::ReportedValue {
                disaggregation: v.try_get("disaggregation")?,
                figure,
            });
        }
    }
    Ok(Some(ReportView {
        indicator_id: indicator_id.to_owned(),
        period_start: period_start.to_owned(),
        status,
        narrative: r.try_get("narrative")?,
        values,
        entered_by: r.try_get("entered_by")?,
        submitted_by: r.try_get("submitted_by")?,
        submitted_at: r.try_get("submitted_at")?,
        reviewed_by: r.try_get("reviewed_by")?,
        reviewed_at: r.try_get("reviewed_at")?,
        review_note: r.try_get("review_note")?,
        updated_at: r.try_get("updated_at")?,
        version: r.try_get("version")?,
        allowed: status.allowed(),
    }))
}

/// One value read from an uploaded template, with the cell it came from.
#[derive(Debug, Clone)]
pub struct UploadValue {
    pub indicator_id: String,
    /// The Project column as typed (empty when absent). Only an office's upload checks it
    /// against the indicator's project.
    pub project: String,
    /// The Project cell, when the file has the column.
    pub project_location: Option<String>,
    pub period_start: String,
    /// Empty for the total.
    pub disaggregation: String,
    /// As typed; empty when the cell was left empty.
    pub value: String,
    /// On the total row only.
    pub narrative: Option<String>,
    /// Where the value is, e.g. `Report!H12` or `row 12, column value`.
    pub location: String,
    /// Where the narrative is, on the total row.
    pub narrative_location: Option<String>,
    /// The report's version when the template was downloaded (0: there was no report), from
    /// the template's hidden `report_version` column; `None` when unknown (a template made
    /// before the column existed): the row is then not checked for concurrent changes.
    pub report_version: Option<i64>,
}

/// A cell that is wrong, and why.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CellProblem {
    pub cell: String,
    pub message: String,
}

/// What an upload did: reports saved as drafts and reports left as they were; or, when any
/// cell is wrong, every problem and nothing saved.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct UploadOutcome {
    pub saved: usize,
    pub unchanged: usize,
    pub problems: Vec<CellProblem>,
    /// True when some problem is a report changed in Meridian since the template was
    /// downloaded, to a value other than the file's (HTTP 409): download the template again.
    pub conflict: bool,
}

impl Store {
    /// Saves the reports of an uploaded template as drafts, all or nothing: every cell is
    /// checked first (the indicator and period belong to the project, the period is open, the
    /// report may still change, figures fit the measure, parts add up) and any problem leaves
    /// the store untouched. Reports whose figures did not change are left alone.
    ///
    /// Concurrent changes: each row carries the report's version when the template was
    /// downloaded (`UploadValue::report_version`, 0 when there was no report). A report whose
    /// version differs now and whose stored figures or narrative differ from the file's is a
    /// conflict: every differing cell is a problem naming who changed the report and when, and
    /// `conflict` is set (HTTP 409). A report changed since but equal to the file is left
    /// alone (unchanged). Rows without a version (templates made before the column existed)
    /// are not checked, as before. The versions checked here are checked again in the writing
    /// transaction (a change in between refuses the whole upload with `StoreError::Conflict`).
    pub async fn upload_reports(
        &self,
        org: &Organization,
        actor: &Actor,
        project: &str,
        values: &[UploadValue],
    ) -> Result<UploadOutcome, StoreError> {
        let p = self.project_unchecked(project).await?;
        let unit = unit_code(&p.unit)?;
        authorize(org, actor, Action::ReportResults, &unit)?;
        let f = self
            .results_framework_unchecked(
                &p.id,
                &p.code,
                &p.title,
                &p.unit,
                &p.start_date,
                &p.end_date,
            )
            .await?;
        let mut plan = UploadPlan::default();
        for (key, cells) in group_by_report(values) {
            plan_report(&f, &unit, &key, &cells, &mut plan);
        }
        self.apply_upload(actor, plan).await
    }

    /// Writes a checked upload in one transaction (each report's version checked again, each
    /// write audited), or returns its problems with nothing written.
    pub(crate) async fn apply_upload(
        &self,
        actor: &Actor,
        plan: UploadPlan,
    ) -> Result<UploadOutcome, StoreError> {
        if !plan.problems.is_empty() {
            return Ok(UploadOutcome {
                saved: 0,
                unchanged: plan.unchanged,
                problems: plan.problems,
                conflict: plan.conflicts > 0,
            });
        }
        let mut tx = self.begin().await?;
        write_planned(&mut tx, actor, &plan.writes).await?;
        tx.commit().await?;
        Ok(UploadOutcome {
            saved: plan.writes.len(),
            unchanged: plan.unchanged,
            problems: Vec::new(),
            conflict: false,
        })
    }
}

/// A report an upload will write, after its checks.
pub(crate) struct PlannedWrite {
    indicator_id: String,
    period_start: String,
    project_id: String,
    unit: UnitCode,
    narrative: String,
    checked: CheckedReport,
    /// The version checked (`None`: there was no report).
    version: Option<i64>,
}

/// What the checks of an upload found: the writes to make, or the problems.
#[derive(Default)]
pub(crate) struct UploadPlan {
    pub writes: Vec<PlannedWrite>,
    pub problems: Vec<CellProblem>,
    pub unchanged: usize,
    pub conflicts: usize,
}

impl UploadPlan {
    pub(crate) fn problem(&mut self, cell: &str, message: String) {
        self.problems.push(CellProblem {
            cell: cell.to_owned(),
            message,
        });
    }
}

/// (indicator id lowercased, period start).
pub(crate) type ReportKeyText = (String, String);

/// The cells of an upload grouped by report, in the file's order.
pub(crate) fn group_by_report(values: &[UploadValue]) -> Vec<(ReportKeyText, Vec<&UploadValue>)> {
    let mut groups: Vec<(ReportKeyText, Vec<&UploadValue>)> = Vec::new();
    let mut at: HashMap<ReportKeyText, usize> = HashMap::new();
    for v in values {
        let key = (v.indicator_id.to_lowercase(), v.period_start.clone());
        match at.get(&key) {
            Some(&i) => groups[i].1.push(v),
            None => {
                at.insert(key.clone(), groups.len());
                groups.push((key, vec![v]));
            }
        }
    }
    groups
}

/// Checks the cells of one report of project `f` (of `unit`) against the framework as read:
/// the indicator and period belong to the project, the report did not change since the
/// download (or is equal to the file), the period is open, the report editable, the figures
/// right. Adds a write, an unchanged report, or problems to `plan`.
pub(crate) fn plan_report(
    f: &super::ResultsFramework,
    unit: &UnitCode,
    (indicator_id, period_start): &ReportKeyText,
    cells: &[&UploadValue],
    plan: &mut UploadPlan,
) {
    let first = cells[0].location.clone();
    let Some(ind) = f.indicator(indicator_id) else {
        plan.problem(
            &first,
            format!("{indicator_id} is not an indicator of {}", f.project_code),
        );
        return;
    };
    let Some(period) = f.period(period_start) else {
        plan.problem(
            &first,
            format!(
                "{period_start} is not a reporting period of {}",
                f.project_code
            ),
        );
        return;
    };
    let typed: Vec<&&UploadValue> = cells
        .iter()
        .filter(|c| !c.value.trim().is_empty())
        .collect();
    let narrative = cells
        .iter()
        .find_map(|c| c.narrative.clone())
        .unwrap_or_default();
    let existing = ind.report(period_start);
    let same = match existing {
        None => typed.is_empty() && narrative.trim().is_empty(),
        Some(r) => {
            typed.len() == r.values.len()
                && typed.iter().all(|c| {
                    r.values.iter().any(|v| {
                        v.disaggregation == canonical(&c.disaggregation)
                            && v.figure.to_input() == c.value.trim()
                    })
                })
                && r.narrative == narrative.trim()
        }
    };
    if same {
        plan.unchanged += usize::from(existing.is_some());
        return;
    }
    // Changed in Meridian since the template was downloaded, and the file says something
    // else: refuse rather than overwrite. An unknown stamp (an older template) is not checked.
    let stamp = cells.iter().find_map(|c| c.report_version);
    if let Some(read) = stamp
        && read != existing.map_or(0, |r| r.version)
    {
        plan.conflicts += 1;
        for (cell, message) in conflict_cells(existing, cells) {
            plan.problem(&cell, message);
        }
        return;
    }
    if period.locked {
        plan.problem(
            &first,
            format!(
                "the period {} is locked; its values can no longer change",
                period.label
            ),
        );
        return;
    }
    if let Some(r) = existing
        && !r.status.is_editable()
    {
        plan.problem(
            &first,
            format!(
                "the value for {} is {}; it can change only after a reviewer returns it",
                period.label, r.status
            ),
        );
        return;
    }
    let inputs: Vec<ValueInput> = typed
        .iter()
        .map(|c| ValueInput {
            disaggregation: c.disaggregation.clone(),
            value: c.value.clone(),
        })
        .collect();
    match check_values(ind.measure, &ind.categories, &inputs) {
        Ok(checked) => plan.writes.push(PlannedWrite {
            indicator_id: indicator_id.clone(),
            period_start: period_start.clone(),
            project_id: f.project_id.clone(),
            unit: unit.clone(),
            narrative: narrative.trim().to_owned(),
            checked,
            version: existing.map(|r| r.version),
        }),
        Err((field, message)) => {
            let at = cells
                .iter()
                .find(|c| {
                    if field == "total" {
                        c.disaggregation.is_empty()
                    } else if field.contains('=') {
                        canonical(&c.disaggregation) == canonical(&field)
                    } else {
                        c.disaggregation.starts_with(&format!("{field}="))
                    }
                })
                .map_or(first.clone(), |c| c.location.clone());
            plan.problem(&at, message);
        }
    }
}

/// Writes the planned reports as drafts inside the caller's transaction: each report's version
/// is checked again (a change since the checks refuses everything with a conflict), and each
/// write is audited (`indicator_report` / `upload`, with the report before and after).
async fn write_planned(
    tx: &mut Tx,
    actor: &Actor,
    writes: &[PlannedWrite],
) -> Result<(), StoreError> {
    let now = now_text();
    for w in writes {
        let before = report_in_tx(tx, &w.indicator_id, &w.period_start).await?;
        if before.as_ref().map(|r| r.version) != w.version {
            // Changed between the checks and this transaction: nothing is saved.
            return Err(StoreError::Conflict(format!(
                "the report of {} for {} was changed while the file was being checked; upload \
                 it again",
                w.indicator_id, w.period_start
            )));
        }
        write_draft(
            tx,
            DraftWrite {
                indicator_id: &w.indicator_id,
                period_start: &w.period_start,
                project_id: &w.project_id,
                narrative: &w.narrative,
                entered_by: &actor.label(),
                now: &now,
                exists: before.is_some(),
                checked: &w.checked,
            },
        )
        .await?;
        let after = report_in_tx(tx, &w.indicator_id, &w.period_start).await?;
        record(
            tx,
            actor,
            Change::new(
                "indicator_report",
                "upload",
                format!("{}/{}", w.indicator_id, w.period_start),
            )
            .unit(&w.unit)
            .before(&before)
            .after(&after),
        )
        .await?;
    }
    Ok(())
}

/// Who last changed a report, and when.
fn last_change(r: &ReportView) -> (&str, &str) {
    match r.status {
        ValueStatus::Approved | ValueStatus::Returned => (
            r.reviewed_by.as_deref().unwrap_or(&r.entered_by),
            r.reviewed_at.as_deref().unwrap_or(&r.updated_at),
        ),
        ValueStatus::Submitted => (
            r.submitted_by.as_deref().unwrap_or(&r.entered_by),
            r.submitted_at.as_deref().unwrap_or(&r.updated_at),
        ),
        ValueStatus::Draft => (&r.entered_by, &r.updated_at),
    }
}

/// The cells of an uploaded report that differ from the report as it is now, each with the
/// conflict message (the first cell when only an emptied cell differs).
fn conflict_cells(now: Option<&ReportView>, cells: &[&UploadValue]) -> Vec<(String, String)> {
    let message = match now {
        Some(r) => {
            let (by, at) = last_change(r);
            format!("changed by {by} at {at} since this template was downloaded; download it again")
        }
        None => "removed since this template was downloaded; download it again".to_owned(),
    };
    let stored = |key: &str| {
        now.and_then(|r| {
            r.values
                .iter()
                .find(|v| v.disaggregation == canonical(key))
                .map(|v| v.figure.to_input())
        })
        .unwrap_or_default()
    };
    let mut out = Vec::new();
    for c in cells {
        if stored(&c.disaggregation) != c.value.trim() {
            out.push((c.location.clone(), message.clone()));
        }
        if let Some(n) = &c.narrative
            && n.trim() != now.map_or("", |r| r.narrative.as_str())
        {
            let at = c.narrative_location.as_ref().unwrap_or(&c.location);
            out.push((at.clone(), message.clone()));
        }
    }
    if out.is_empty() {
        out.push((cells[0].location.clone(), message));
    }
    out
}

/// A key in its canonical form (categories sorted), or as given when it does not parse.
fn canonical(raw: &str) -> String {
    DisaggregationKey::parse(raw).map_or_else(|_| raw.trim().to_owned(), |k| k.to_string())
}

/// A report's figures about to be written as a draft.
struct DraftWrite<'a> {
    indicator_id: &'a str,
    period_start: &'a str,
    project_id: &'a str,
    narrative: &'a str,
    entered_by: &'a str,
    now: &'a str,
    /// The report exists (its row is updated and its values replaced).
    exists: bool,
    checked: &'a CheckedReport,
}

/// Writes a report as a draft with its figures: the one write of `save_report` and
/// `upload_reports`, after their checks.
async fn write_draft(tx: &mut Tx, w: DraftWrite<'_>) -> Result<(), StoreError> {
    if w.exists {
        sqlx::query(
            "UPDATE indicator_reports SET status = 'draft', narrative = $3, entered_by = $4, \
             updated_at = $5, version = version + 1 WHERE indicator_id = $1 AND period_start = $2",
        )
        .bind(w.indicator_id)
        .bind(w.period_start)
        .bind(w.narrative)
        .bind(w.entered_by)
        .bind(w.now)
        .execute(&mut **tx)
        .await?;
        sqlx::query("DELETE FROM indicator_values WHERE indicator_id = $1 AND period_start = $2")
            .bind(w.indicator_id)
            .bind(w.period_start)
            .execute(&mut **tx)
            .await?;
    } else {
        sqlx::query(
            "INSERT INTO indicator_reports (indicator_id, period_start, project_id, status, narrative, \
             entered_by, review_note, updated_at, version) VALUES ($1, $2, $3, 'draft', $4, $5, '', $6, 1)",
        )
        .bind(w.indicator_id)
        .bind(w.period_start)
        .bind(w.project_id)
        .bind(w.narrative)
        .bind(w.entered_by)
        .bind(w.now)
        .execute(&mut **tx)
        .await?;
    }
    insert_values(tx, w.indicator_id, w.period_start, w.checked).await
}
