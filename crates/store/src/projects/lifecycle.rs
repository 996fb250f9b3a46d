//! Moving a project through its lifecycle; review comments; the project's history.

use super::write::today;
use super::{Project, e4_rounded, from_e4, unit_code};
use crate::audit::record;
use crate::db::{new_id, now_text};
use crate::{Store, StoreError};
use meridian_domain::audit::Change;
use meridian_domain::authz::{Action, Actor, Denied, authorize};
use meridian_domain::org::Organization;
use meridian_domain::projects::delegation::{
    Authority, DecisionRequest, find_chain, segregation_of_duties,
};
use meridian_domain::projects::lifecycle::{Status, Transition};
use meridian_domain::projects::money::{Currency, Money};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::Row;

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct HistoryEntry {
    pub at: String,
    pub actor: String,
    pub transition: String,
    pub from_status: String,
    pub to_status: String,
    pub comment: String,
    pub amount_usd: Option<Decimal>,
    /// For decisions: the delegation chain used, from the holder up to the root.
    #[schema(value_type = Option<Object>)]
    pub delegation_chain: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Comment {
    pub id: String,
    pub section: String,
    pub reply_to: Option<String>,
    pub author: String,
    pub body: String,
    pub at: String,
}

/// Everything that happened to a project, each list oldest first.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ProjectHistory {
    pub status_changes: Vec<HistoryEntry>,
    pub comments: Vec<Comment>,
    /// Edits and other changes from the audit trail, with before and after.
    #[schema(value_type = Vec<Object>)]
    pub changes: Vec<crate::audit::AuditEvent>,
}

/// Sections a reviewer comments on.
pub const SECTIONS: &[&str] = &[
    "general",
    "summary",
    "results",
    "budget",
    "partners",
    "risks",
    "timeline",
    "documents",
];

impl Store {
    /// Applies a lifecycle transition as the actor, with every check in one place: the role
    /// and scope, the state machine, segregation of duties and delegated authority for
    /// decisions, and the optimistic version when given.
    pub async fn transition_project(
        &self,
        org: &Organization,
        actor: &Actor,
        id: &str,
        transition: Transition,
        comment: &str,
    ) -> Result<Project, StoreError> {
        let project = self.project_unchecked(id).await?;
        let unit = unit_code(&project.unit)?;
        let action = match (transition, project.status) {
            (Transition::Reject, Status::SubmittedToDonor) => Action::ApproveProject,
            _ => transition.action(),
        };
        authorize(org, actor, action, &unit)?;
        let to = project
            .status
            .apply(transition)
            .map_err(|e| StoreError::Conflict(e.to_string()))?;
        if transition == Transition::Return && comment.trim().is_empty() {
            return Err(StoreError::invalid(
                "comment",
                "say what to revise when returning a project",
            ));
        }

        let mut chain_json = None;
        let mut amount_usd = None;
        if transition.is_decision() {
            let Actor::User(user) = actor else {
                return Err(StoreError::invalid(
                    "actor",
                    "decisions are taken by a person",
                ));
            };
            segregation_of_duties(
                &user.id,
                &project.drafted_by,
                project.submitted_by.as_deref(),
            )
            .map_err(|e| StoreError::Denied(Denied::Rule(e.to_string())))?;
            let rates = self.rate_table().await?;
            let on = today();
            // The amount at the decision day's rates.
            let mut usd = Decimal::ZERO;
            for line in project.budget_lines.as_deref().unwrap_or_default() {
                let money = Money::parse(&line.amount.to_string(), &line.currency)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?;
                usd += rates
                    .to_usd(&money, on)
                    .map_err(|e| StoreError::invalid("budget_lines", e.to_string()))?;
            }
            let amount = Money::new(usd.round_dp(2), Currency::usd())
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            let authority = match transition {
                Transition::Endorse => Authority::EndorseProject,
                _ => Authority::ApproveProject,
            };
            let delegations = self.delegations_for_decision(authority).await?;
            let chain = find_chain(
                &delegations,
                &DecisionRequest {
                    authority,
                    actor: user,
                    project_unit: &unit,
                    amount: &amount,
                    on,
                },
                org,
                &rates,
            )
            .map_err(|e| StoreError::Denied(Denied::Rule(e.to_string())))?;
            chain_json = Some(serde_json::to_value(&chain.links).expect("chains serialize"));
            amount_usd = Some(usd);
        }

        let mut tx = self.begin().await?;
        let submitted_by = match transition {
            Transition::Submit | Transition::Resubmit => actor.user_id().map(str::to_owned),
            _ => project.submitted_by.clone(),
        };
        let updated = sqlx::query(
            "UPDATE projects SET status = $3, submitted_by = $4, updated_at = $5, version = version + 1 \
             WHERE id = $1 AND status = $2",
        )
        .bind(&project.id)
        .bind(project.status.as_str())
        .bind(to.as_str())
        .bind(submitted_by)
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "{} changed status while you were deciding; reload it",
                project.code
            )));
        }
        super::portfolio_keys::sync_project_keys(&mut tx, self.backend(), &project.id).await?;
        sqlx::query(
            "INSERT INTO project_status_changes (id, project_id, transition, from_status, to_status, \
             actor_id, actor, at, comment, amount_usd_e4, delegation_chain) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(new_id())
        .bind(&project.id)
        .bind(transition.as_str())
        .bind(project.status.as_str())
        .bind(to.as_str())
        .bind(actor.user_id().map(str::to_owned))
        .bind(actor.label())
        .bind(now_text())
        .bind(comment.trim())
        .bind(amount_usd.map(e4_rounded).transpose()?)
        .bind(chain_json.as_ref().map(|c| c.to_string()))
        .execute(&mut *tx)
        .await?;
        let after = self.project_in(&mut tx, &project.id).await?;
        record(
            &mut tx,
            actor,
            Change::new("project", transition.as_str(), &project.id)
                .unit(&unit)
                .before(serde_json::json!({ "status": project.status, "version": project.version }))
                .after(serde_json::json!({
                    "status": to, "version": after.version, "comment": comment.trim(),
                    "delegation_chain": chain_json,
                })),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// A review comment on a section, or the drafter's answer to one.
    pub async fn comment_on_project(
        &self,
        org: &Organization,
        actor: &Actor,
        id: &str,
        section: &str,
        body: &str,
        reply_to: Option<&str>,
    ) -> Result<Comment, StoreError> {
        let project = self.project_unchecked(id).await?;
        let unit = unit_code(&project.unit)?;
        // Reviewers comment; drafters answer.
        if let Err(denied) = authorize(org, actor, Action::ReviewProject, &unit) {
            authorize(org, actor, Action::DraftProject, &unit).map_err(|_| denied)?;
        }
        if !SECTIONS.contains(&section) {
            return Err(StoreError::invalid(
                "section",
                format!("expected one of {}, found {section:?}", SECTIONS.join(", ")),
            ));
        }
        let body = body.trim();
        if body.is_empty() || body.chars().count() > 10_000 {
            return Err(StoreError::invalid(
                "body",
                "a comment of 1 to 10,000 characters",
            ));
        }
        let mut tx = self.begin().await?;
        if let Some(parent) = reply_to {
            let found =
                sqlx::query("SELECT id FROM project_comments WHERE id = $1 AND project_id = $2")
                    .bind(parent)
                    .bind(&project.id)
                    .fetch_optional(&mut *tx)
                    .await?;
            if found.is_none() {
                return Err(StoreError::invalid(
                    "reply_to",
                    format!("no comment {parent} on {}", project.code),
                ));
            }
        }
        let comment = Comment {
            id: new_id(),
            section: section.to_owned(),
            reply_to: reply_to.map(str::to_owned),
            author: actor.label(),
            body: body.to_owned(),
            at: now_text(),
        };
        sqlx::query(
            "INSERT INTO project_comments (id, project_id, section, reply_to, author_id, author, body, at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&comment.id)
        .bind(&project.id)
        .bind(&comment.section)
        .bind(comment.reply_to.clone())
        .bind(actor.user_id().map(str::to_owned))
        .bind(&comment.author)
        .bind(&comment.body)
        .bind(&comment.at)
        .execute(&mut *tx)
        .await?;
        record(
            &mut tx,
            actor,
            Change::new("project", "comment", &project.id)
                .unit(&unit)
                .after(
                    serde_json::json!({ "section": section, "body": body, "reply_to": reply_to }),
                ),
        )
        .await?;
        tx.commit().await?;
        Ok(comment)
    }

    /// Status changes, comments and edits of a project: three queries however long the history.
    pub async fn project_history(
        &self,
        org: &Organization,
        actor: &Actor,
        id: &str,
    ) -> Result<ProjectHistory, StoreError> {
        let project = self.project(org, actor, id).await?;
        let status_changes = sqlx::query(
            "SELECT transition, from_status, to_status, actor, at, comment, amount_usd_e4, delegation_chain \
             FROM project_status_changes WHERE project_id = $1 ORDER BY at, id",
        )
        .bind(&project.id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            let chain: Option<String> = r.try_get("delegation_chain")?;
            let amount: Option<i64> = r.try_get("amount_usd_e4")?;
            Ok(HistoryEntry {
                at: r.try_get("at")?,
                actor: r.try_get("actor")?,
                transition: r.try_get("transition")?,
                from_status: r.try_get("from_status")?,
                to_status: r.try_get("to_status")?,
                comment: r.try_get("comment")?,
                amount_usd: amount.map(from_e4),
                delegation_chain: chain
                    .map(|c| serde_json::from_str(&c))
                    .transpose()
                    .map_err(|e| StoreError::Corrupt(format!("delegation chain: {e}")))?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        let comments = sqlx::query(
            "SELECT id, section, reply_to, author, body, at FROM project_comments \
             WHERE project_id = $1 ORDER BY at, id",
        )
        .bind(&project.id)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|r| {
            Ok(Comment {
                id: r.try_get("id")?,
                section: r.try_get("section")?,
                reply_to: r.try_get("reply_to")?,
                author: r.try_get("author")?,
                body: r.try_get("body")?,
                at: r.try_get("at")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        let mut changes = self
            .audit_events(&crate::audit::AuditQuery {
                entity: Some("project".into()),
                entity_id: Some(project.id.clone()),
                limit: 1000,
                ..Default::default()
            })
            .await?;
        changes.reverse();
        if project.restricted_hidden {
            // The audit trail holds budgets and donors: not for readers who may not see them.
            for c in &mut changes {
                c.before = None;
                c.after = None;
            }
        }
        Ok(ProjectHistory {
            status_changes,
            comments,
            changes,
        })
    }
}
