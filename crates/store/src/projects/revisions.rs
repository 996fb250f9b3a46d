//! Revisions of a running project — a budget revision, a no-cost extension, a scope change —
//! each reviewed and approved under delegated authority. On approval the project takes the
//! revised values and the approved baseline they replace is kept beside them.

use super::write::{BudgetLineInput, parse_date, today};
use super::{Project, e4, e4_rounded, unit_code};
use crate::audit::record;
use crate::db::{new_id, now_text};
use crate::{Store, StoreError};
use meridian_domain::audit::Change;
use meridian_domain::authz::{Action, Actor, Denied, authorize};
use meridian_domain::org::Organization;
use meridian_domain::projects::delegation::{
    Authority, DecisionRequest, find_chain, segregation_of_duties,
};
use meridian_domain::projects::lifecycle::{RevisionKind, RevisionStatus, RevisionTransition};
use meridian_domain::projects::money::{Currency, Money};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::Row;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct RevisionInput {
    /// budget_revision, no_cost_extension or scope_change.
    pub kind: String,
    pub justification: String,
    /// No-cost extension: the new end date.
    pub end_date: Option<String>,
    /// Budget revision: the full new set of budget lines.
    pub budget_lines: Option<Vec<BudgetLineInput>>,
    /// Scope change: the new summary of what the project does.
    pub summary: Option<String>,
}

/// The part of a project a revision changes, as proposed or as the baseline it replaced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct RevisionContent {
    pub end_date: String,
    pub summary: String,
    #[schema(value_type = Vec<Object>)]
    pub budget_lines: Vec<serde_json::Value>,
    #[schema(value_type = String)]
    pub budget_usd: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Revision {
    pub id: String,
    pub project_id: String,
    pub kind: String,
    pub status: String,
    pub justification: String,
    pub proposed: RevisionContent,
    /// The approved baseline the revision replaced (once approved).
    pub baseline: Option<RevisionContent>,
    pub drafted_by: String,
    pub submitted_by: Option<String>,
    pub decided_by: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub delegation_chain: Option<serde_json::Value>,
    pub created_at: String,
    pub version: i64,
}

fn content_of(p: &Project) -> RevisionContent {
    RevisionContent {
        end_date: p.end_date.clone(),
        summary: p.summary.clone(),
        budget_lines: p
            .budget_lines
            .as_deref()
            .unwrap_or_default()
            .iter()
            .map(|l| serde_json::to_value(l).expect("lines serialize"))
            .collect(),
        budget_usd: p.budget_usd.unwrap_or_default(),
    }
}

fn revision_from_row(r: &sqlx::any::AnyRow) -> Result<Revision, StoreError> {
    let parse = |col: &str| -> Result<Option<serde_json::Value>, StoreError> {
        let raw: Option<String> = r.try_get(col)?;
        raw.map(|s| {
            serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
        })
        .transpose()
    };
    let content = |v: Option<serde_json::Value>| -> Result<Option<RevisionContent>, StoreError> {
        v.map(|v| {
            serde_json::from_value(v).map_err(|e| StoreError::Corrupt(format!("revision: {e}")))
        })
        .transpose()
    };
    Ok(Revision {
        id: r.try_get("id")?,
        project_id: r.try_get("project_id")?,
        kind: r.try_get("kind")?,
        status: r.try_get("status")?,
        justification: r.try_get("justification")?,
        proposed: content(parse("proposed")?)?
            .ok_or_else(|| StoreError::Corrupt("revision without a proposal".into()))?,
        baseline: content(parse("baseline")?)?,
        drafted_by: r.try_get("drafted_by")?,
        submitted_by: r.try_get("submitted_by")?,
        decided_by: r.try_get("decided_by")?,
        delegation_chain: parse("delegation_chain")?,
        created_at: r.try_get("created_at")?,
        version: r.try_get("version")?,
    })
}

const COLUMNS: &str = "id, project_id, kind, status, justification, proposed, baseline, drafted_by, \
     submitted_by, decided_by, delegation_chain, created_at, version";

impl Store {
    /// Drafts a revision of an active (or suspended) project.
    pub async fn create_revision(
        &self,
        org: &Organization,
        actor: &Actor,
        project_id: &str,
        input: &RevisionInput,
    ) -> Result<Revision, StoreError> {
        let project = self.project_unchecked(project_id).await?;
        let unit = unit_code(&project.unit)?;
        authorize(org, actor, Action::ManageProject, &unit)?;
        if !project.status.accepts_revisions() {
            return Err(StoreError::Conflict(format!(
                "only an active or suspended project is revised; {} is {}",
                project.code, project.status
            )));
        }
        let kind = RevisionKind::parse(&input.kind).map_err(|m| StoreError::invalid("kind", m))?;
        if input.justification.trim().is_empty() {
            return Err(StoreError::invalid(
                "justification",
                "say why the project needs this revision",
            ));
        }
        let mut proposed = content_of(&project);
        match kind {
            RevisionKind::NoCostExtension => {
                let raw = input.end_date.as_deref().ok_or_else(|| {
                    StoreError::invalid("end_date", "a no-cost extension gives the new end date")
                })?;
                let end = parse_date("end_date", raw)?;
                let current = parse_date("end_date", &project.end_date)?;
                if end <= current {
                    return Err(StoreError::invalid(
                        "end_date",
                        format!("an extension ends after the current end ({current}), found {end}"),
                    ));
                }
                proposed.end_date = end.to_string();
            }
            RevisionKind::BudgetRevision => {
                let lines = input
                    .budget_lines
                    .as_deref()
                    .filter(|l| !l.is_empty())
                    .ok_or_else(|| {
                        StoreError::invalid(
                            "budget_lines",
                            "a budget revision gives the new budget lines",
                        )
                    })?;
                let rates = self.rate_table().await?;
                let on = today();
                let mut total = Decimal::ZERO;
                let mut out = Vec::new();
                for (i, line) in lines.iter().enumerate() {
                    let money = Money::parse(&line.amount, &line.currency).map_err(|m| {
                        StoreError::invalid("budget_lines", format!("line {}: {m}", i + 1))
                    })?;
                    let usd = rates.to_usd(&money, on).map_err(|e| {
                        StoreError::invalid("budget_lines", format!("line {}: {e}", i + 1))
                    })?;
                    total += usd;
                    out.push(serde_json::json!({
                        "category": line.category.trim(), "description": line.description.trim(),
                        "currency": money.currency.to_string(), "amount": money.amount,
                        "amount_usd": usd.round_dp(4).normalize(),
                    }));
                }
                proposed.budget_lines = out;
                proposed.budget_usd = total.round_dp(4).normalize();
            }
            RevisionKind::ScopeChange => {
                let summary = input
                    .summary
                    .as_deref()
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .ok_or_else(|| {
                        StoreError::invalid(
                            "summary",
                            "a scope change gives the new summary of the project",
                        )
                    })?;
                proposed.summary = summary.to_owned();
            }
        }
        let Some(drafter) = actor.user_id() else {
            return Err(StoreError::invalid(
                "actor",
                "revisions are drafted by a person",
            ));
        };
        let id = new_id();
        let now = now_text();
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO project_revisions (id, project_id, kind, status, justification, proposed, baseline, \
             drafted_by, submitted_by, decided_by, delegation_chain, created_at, updated_at, version) \
             VALUES ($1, $2, $3, 'draft', $4, $5, NULL, $6, NULL, NULL, NULL, $7, $7, 1)",
        )
        .bind(&id)
        .bind(&project.id)
        .bind(kind.as_str())
        .bind(input.justification.trim())
        .bind(serde_json::to_string(&proposed).expect("content serializes"))
        .bind(drafter)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        let revision = self.revision_in(&mut tx, &id).await?;
        record(
            &mut tx,
            actor,
            Change::new("project", "revision_create", &project.id)
                .unit(&unit)
                .after(serde_json::json!({ "revision": id, "kind": kind, "proposed": proposed })),
        )
        .await?;
        tx.commit().await?;
        Ok(revision)
    }

    /// Submits, returns, resubmits, approves, rejects or withdraws a revision. Approval needs a
    /// delegation covering the revised amount, is refused to whoever drafted or submitted the
    /// revision, and applies the revision to the project in the same transaction.
    pub async fn transition_revision(
        &self,
        org: &Organization,
        actor: &Actor,
        revision_id: &str,
        transition: RevisionTransition,
        comment: &str,
    ) -> Result<Revision, StoreError> {
        let revision = self.revision(revision_id).await?;
        let project = self.project_unchecked(&revision.project_id).await?;
        let unit = unit_code(&project.unit)?;
        authorize(org, actor, transition.action(), &unit)?;
        let from = RevisionStatus::parse(&revision.status).map_err(StoreError::Corrupt)?;
        let to = from
            .apply(transition)
            .map_err(|e| StoreError::Conflict(e.to_string()))?;
        let mut chain_json = None;
        if transition == RevisionTransition::Approve {
            let meridian_domain::authz::Actor::User(user) = actor else {
                return Err(StoreError::invalid(
                    "actor",
                    "decisions are taken by a person",
                ));
            };
            segregation_of_duties(
                &user.id,
                &revision.drafted_by,
                revision.submitted_by.as_deref(),
            )
            .map_err(|e| StoreError::Denied(Denied::Rule(e.to_string())))?;
            let amount = Money::new(revision.proposed.budget_usd.round_dp(2), Currency::usd())
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let chain = find_chain(
                &self
                    .delegations_for_decision(Authority::ApproveRevision)
                    .await?,
                &DecisionRequest {
                    authority: Authority::ApproveRevision,
                    actor: user,
                    project_unit: &unit,
                    amount: &amount,
                    on: today(),
                },
                org,
                &self.rate_table().await?,
            )
            .map_err(|e| StoreError::Denied(Denied::Rule(e.to_string())))?;
            chain_json = Some(serde_json::to_value(&chain.links).expect("chains serialize"));
        }
        let mut tx = self.begin().await?;
        let submitted_by = match transition {
            RevisionTransition::Submit | RevisionTransition::Resubmit => {
                actor.user_id().map(str::to_owned)
            }
            _ => revision.submitted_by.clone(),
        };
        let decided = matches!(
            transition,
            RevisionTransition::Approve | RevisionTransition::Reject
        );
        let baseline = (transition == RevisionTransition::Approve).then(|| content_of(&project));
        let updated = sqlx::query(
            "UPDATE project_revisions SET status = $3, submitted_by = $4, decided_by = $5, baseline = $6, \
             delegation_chain = $7, updated_at = $8, version = version + 1 WHERE id = $1 AND status = $2",
        )
        .bind(&revision.id)
        .bind(from.as_str())
        .bind(to.as_str())
        .bind(submitted_by)
        .bind(decided.then(|| actor.label()))
        .bind(baseline.as_ref().map(|b| serde_json::to_string(b).expect("content serializes")))
        .bind(chain_json.as_ref().map(|c| c.to_string()))
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::Conflict(
                "the revision changed while you were deciding; reload it".into(),
            ));
        }
        if transition == RevisionTransition::Approve {
            let rates = self.rate_table().await?;
            apply(&mut tx, &project, &revision.proposed, &rates).await?;
            super::portfolio_keys::sync_project_keys(&mut tx, self.backend(), &project.id).await?;
            if revision.proposed.end_date != project.end_date {
                crate::results::follow_project_dates(&mut tx, org, actor, &project.id).await?;
            }
        }
        let after = self.revision_in(&mut tx, &revision.id).await?;
        record(
            &mut tx,
            actor,
            Change::new("project", &format!("revision_{}", transition.as_str()), &project.id)
                .unit(&unit)
                .before(serde_json::json!({ "revision": revision.id, "status": from, "baseline": baseline }))
                .after(serde_json::json!({
                    "revision": revision.id, "status": to, "comment": comment.trim(),
                    "proposed": revision.proposed, "delegation_chain": chain_json,
                })),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    pub async fn revisions(
        &self,
        org: &Organization,
        actor: &Actor,
        project_id: &str,
    ) -> Result<Vec<Revision>, StoreError> {
        let project = self.project(org, actor, project_id).await?;
        let sql = format!(
            "SELECT {COLUMNS} FROM project_revisions WHERE project_id = $1 ORDER BY created_at, id"
        );
        let mut out: Vec<Revision> = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&project.id)
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(revision_from_row)
            .collect::<Result<_, _>>()?;
        if project.restricted_hidden {
            for r in &mut out {
                r.proposed.budget_lines.clear();
                r.proposed.budget_usd = Decimal::ZERO;
                r.baseline = None;
            }
        }
        Ok(out)
    }

    async fn revision(&self, id: &str) -> Result<Revision, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM project_revisions WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("revision", id))?;
        revision_from_row(&row)
    }

    async fn revision_in(&self, tx: &mut crate::Tx, id: &str) -> Result<Revision, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM project_revisions WHERE id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_one(&mut **tx)
            .await?;
        revision_from_row(&row)
    }
}

/// Writes an approved revision's values into the project.
async fn apply(
    tx: &mut crate::Tx,
    project: &Project,
    c: &RevisionContent,
    rates: &meridian_domain::projects::money::RateTable,
) -> Result<(), StoreError> {
    let budget_changed = c.budget_lines.len() != project.budget_lines.as_ref().map_or(0, Vec::len)
        || c.budget_usd != project.budget_usd.unwrap_or_default();
    sqlx::query(
        "UPDATE projects SET end_date = $2, summary = $3, budget_usd_e4 = $4, updated_at = $5, \
         version = version + 1 WHERE id = $1",
    )
    .bind(&project.id)
    .bind(&c.end_date)
    .bind(&c.summary)
    .bind(e4_rounded(c.budget_usd)?)
    .bind(now_text())
    .execute(&mut **tx)
    .await?;
    if budget_changed {
        sqlx::query("DELETE FROM project_budget_lines WHERE project_id = $1")
            .bind(&project.id)
            .execute(&mut **tx)
            .await?;
        let mut in_project_currency = Decimal::ZERO;
        let mut all_same = true;
        for (i, line) in c.budget_lines.iter().enumerate() {
            let field = |k: &str| line[k].as_str().unwrap_or_default().to_owned();
            let amount: Decimal = serde_json::from_value(line["amount"].clone())
                .map_err(|e| StoreError::Corrupt(format!("revision line: {e}")))?;
            let usd: Decimal = serde_json::from_value(line["amount_usd"].clone())
                .map_err(|e| StoreError::Corrupt(format!("revision line: {e}")))?;
            all_same &= field("currency") == project.currency;
            in_project_currency += amount;
            sqlx::query(
                "INSERT INTO project_budget_lines (id, project_id, position, category, description, currency, \
                 amount_e4, amount_usd_e4) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(new_id())
            .bind(&project.id)
            .bind(i as i64)
            .bind(field("category"))
            .bind(field("description"))
            .bind(field("currency"))
            .bind(e4(amount, "budget_lines")?)
            .bind(e4_rounded(usd)?)
            .execute(&mut **tx)
            .await?;
        }
        // The total in the project's currency: the lines' own sum when they share it, else
        // through USD at today's rates (as when the project was drafted).
        let total = if all_same {
            in_project_currency
        } else {
            let currency = Currency::parse(&project.currency).map_err(StoreError::Corrupt)?;
            let one = Money::new(Decimal::ONE, currency)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let unit_usd = rates
                .to_usd(&one, today())
                .map_err(|e| StoreError::invalid("currency", e.to_string()))?;
            (c.budget_usd / unit_usd).round_dp(4)
        };
        sqlx::query("UPDATE projects SET budget_e4 = $2 WHERE id = $1")
            .bind(&project.id)
            .bind(e4_rounded(total)?)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}
