//! Programmes: groups of projects whose results are read together.

use crate::audit::record;
use crate::db::{new_id, now_text};
use crate::demo::{Rows, V};
use crate::projects::unit_code;
use crate::{Store, StoreError};
use meridian_domain::audit::Change;
use meridian_domain::authz::{Action, Actor, authorize};
use meridian_domain::org::Organization;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::collections::HashSet;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ProgrammeInput {
    /// A short unique code, e.g. `MRP-HOA-2026`.
    pub code: String,
    pub title: String,
    /// The unit that manages the programme; its projects may come from anywhere in that
    /// unit's scope.
    pub unit: String,
    /// Project ids or codes.
    #[serde(default)]
    pub projects: Vec<String>,
    #[serde(default)]
    pub version: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Programme {
    pub id: String,
    pub code: String,
    pub title: String,
    pub unit: String,
    pub member_count: i64,
    /// The members (empty in lists).
    pub projects: Vec<ProgrammeProject>,
    pub version: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ProgrammeProject {
    pub id: String,
    pub code: String,
    pub title: String,
    pub unit: String,
}

impl Store {
    /// Creates a programme or replaces one (`input.version` set) with its members. Every
    /// member must be a project in the programme unit's scope; in the same transaction the
    /// members added are merged into the programme's roll-up cells and those taken out are
    /// subtracted from them (see `rollup::programme_members_changed`), and the change is
    /// audited.
    pub async fn save_programme(
        &self,
        org: &Organization,
        actor: &Actor,
        id: Option<&str>,
        input: &ProgrammeInput,
    ) -> Result<Programme, StoreError> {
        let unit = unit_code(input.unit.trim())
            .map_err(|_| StoreError::invalid("unit", format!("unknown unit {:?}", input.unit)))?;
        if org.unit(unit.as_str()).is_none() {
            return Err(StoreError::invalid("unit", format!("unknown unit {unit}")));
        }
        authorize(org, actor, Action::ManageProgrammes, &unit)?;
        let code = input.code.trim();
        if code.is_empty() || code.len() > 40 || code.contains(char::is_whitespace) {
            return Err(StoreError::invalid(
                "code",
                format!("expected a short code without spaces, found {code:?}"),
            ));
        }
        let title = input.title.trim();
        if title.is_empty() {
            return Err(StoreError::invalid("title", "is required"));
        }
        let scope = org.scope_of(&unit);
        // The members in one query (by id or code), in the order given.
        let wanted: Vec<String> = input
            .projects
            .iter()
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect();
        let mut found: Vec<ProgrammeProject> = Vec::new();
        for chunk in wanted.chunks(1_000) {
            let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT id, code, title, unit_code FROM projects WHERE id IN ({0}) OR code IN ({0})",
                marks.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for p in chunk {
                q = q.bind(p);
            }
            for r in q.fetch_all(self.pool()).await? {
                found.push(ProgrammeProject {
                    id: r.try_get("id")?,
                    code: r.try_get("code")?,
                    title: r.try_get("title")?,
                    unit: r.try_get("unit_code")?,
                });
            }
        }
        let mut members: Vec<ProgrammeProject> = Vec::new();
        for p in &wanted {
            let project = found
                .iter()
                .find(|f| f.id == *p || f.code == *p)
                .ok_or_else(|| StoreError::invalid("projects", format!("no project {p:?}")))?;
            if !org.in_scope(&scope, &unit_code(&project.unit)?) {
                return Err(StoreError::invalid(
                    "projects",
                    format!(
                        "{} belongs to {}, outside {unit}'s scope",
                        project.code, project.unit
                    ),
                ));
            }
            if !members.iter().any(|m| m.id == project.id) {
                members.push(project.clone());
            }
        }
        let mut tx = self.begin().await?;
        let now = now_text();
        let (id, before) = match id {
            Some(id) => {
                let before = self.programme(org, actor, id).await?;
                let version = input
                    .version
                    .ok_or_else(|| StoreError::invalid("version", "give the version you read"))?;
                if version != before.version {
                    return Err(StoreError::Conflict(format!(
                        "the programme was changed since you read it (you have version {version}, it is at {}); reload and apply your change again",
                        before.version
                    )));
                }
                // The version is checked again under the row's lock: the membership read
                // below is then the one this change replaces.
                let updated = sqlx::query(
                    "UPDATE programmes SET code = $2, title = $3, unit_code = $4, updated_at = $5, \
                     version = version + 1 WHERE id = $1 AND version = $6",
                )
                .bind(&before.id)
                .bind(code)
                .bind(title)
                .bind(unit.to_string())
                .bind(&now)
                .bind(version)
                .execute(&mut *tx)
                .await
                .map_err(|e| unique(e, code))?;
                if updated.rows_affected() != 1 {
                    return Err(StoreError::Conflict(format!(
                        "the programme was changed since you read it (you have version {version}); reload and apply your change again"
                    )));
                }
                (before.id.clone(), Some(before))
            }
            None => {
                let id = new_id();
                sqlx::query(
                    "INSERT INTO programmes (id, code, title, unit_code, created_at, updated_at, version) \
                     VALUES ($1, $2, $3, $4, $5, $5, 1)",
                )
                .bind(&id)
                .bind(code)
                .bind(title)
                .bind(unit.to_string())
                .bind(&now)
                .execute(&mut *tx)
                .await
                .map_err(|e| unique(e, code))?;
                (id, None)
            }
        };
        // The membership as stored, then only what changed: members taken out and added,
        // whose partials are taken out of and merged into the programme's roll-up cells.
        let current: HashSet<String> = if before.is_some() {
            sqlx::query("SELECT project_id FROM programme_projects WHERE programme_id = $1")
                .bind(&id)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|r| r.try_get("project_id"))
                .collect::<Result<_, _>>()?
        } else {
            HashSet::new()
        };
        let wanted: HashSet<&str> = members.iter().map(|m| m.id.as_str()).collect();
        let mut removed: Vec<String> = current
            .iter()
            .filter(|p| !wanted.contains(p.as_str()))
            .cloned()
            .collect();
        removed.sort();
        let added: Vec<String> = members
            .iter()
            .filter(|m| !current.contains(&m.id))
            .map(|m| m.id.clone())
            .collect();
        for chunk in removed.chunks(1_000) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "DELETE FROM programme_projects WHERE programme_id = $1 AND project_id IN ({})",
                marks.join(", ")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(&id);
            for p in chunk {
                q = q.bind(p);
            }
            q.execute(&mut *tx).await?;
        }
        let mut rows = Rows::new("programme_projects", &["programme_id", "project_id"]);
        for p in &added {
            rows.push([V::T(id.clone()), V::T(p.clone())]);
        }
        rows.write(&mut tx, self.backend()).await?;
        super::rollup::programme_members_changed(&mut tx, &id, &added, &removed).await?;
        let after = Programme {
            id: id.clone(),
            code: code.to_owned(),
            title: title.to_owned(),
            unit: unit.to_string(),
            member_count: members.len() as i64,
            projects: members,
            version: before.as_ref().map_or(1, |b| b.version + 1),
        };
        record(
            &mut tx,
            actor,
            Change::new(
                "programme",
                if before.is_some() { "update" } else { "create" },
                &id,
            )
            .unit(&unit)
            .before(&before)
            .after(&after),
        )
        .await?;
        tx.commit().await.map_err(|e| unique(e, code))?;
        Ok(after)
    }

    /// One programme with its projects, if the reader's scope includes its unit.
    pub async fn programme(
        &self,
        org: &Organization,
        actor: &Actor,
        id: &str,
    ) -> Result<Programme, StoreError> {
        let r = sqlx::query(
            "SELECT id, code, title, unit_code, version FROM programmes WHERE id = $1 OR code = $1",
        )
        .bind(id)
        .fetch_optional(self.pool())
        .await?
        .ok_or_else(|| StoreError::not_found("programme", id))?;
        let unit: String = r.try_get("unit_code")?;
        authorize(org, actor, Action::ViewProjects, &unit_code(&unit)?)?;
        let pid: String = r.try_get("id")?;
        let projects = sqlx::query(
            "SELECT p.id, p.code, p.title, p.unit_code FROM programme_projects pp \
             JOIN projects p ON p.id = pp.project_id WHERE pp.programme_id = $1 ORDER BY p.code",
        )
        .bind(&pid)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(|p| {
            Ok(ProgrammeProject {
                id: p.try_get("id")?,
                code: p.try_get("code")?,
                title: p.try_get("title")?,
                unit: p.try_get("unit_code")?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
        Ok(Programme {
            id: pid,
            code: r.try_get("code")?,
            title: r.try_get("title")?,
            unit,
            member_count: projects.len() as i64,
            projects,
            version: r.try_get("version")?,
        })
    }

    /// How many reported figures (totals and disaggregations) the programme's projects hold.
    pub async fn programme_figure_count(&self, programme_id: &str) -> Result<i64, StoreError> {
        Ok(sqlx::query(
            "SELECT COUNT(*) AS n FROM indicator_values v JOIN indicators i ON i.id = v.indicator_id \
             JOIN programme_projects pp ON pp.project_id = i.project_id WHERE pp.programme_id = $1",
        )
        .bind(programme_id)
        .fetch_one(self.pool())
        .await?
        .try_get("n")?)
    }

    /// Programmes whose unit is in the reader's scope (without their member lists).
    pub async fn programmes(
        &self,
        org: &Organization,
        actor: &Actor,
    ) -> Result<Vec<Programme>, StoreError> {
        let scope = actor.scope(org);
        let mut out = Vec::new();
        for r in sqlx::query(
            "SELECT g.id, g.code, g.title, g.unit_code, g.version, \
             CAST(COUNT(pp.project_id) AS BIGINT) AS members FROM programmes g \
             LEFT JOIN programme_projects pp ON pp.programme_id = g.id \
             GROUP BY g.id, g.code, g.title, g.unit_code, g.version ORDER BY g.code",
        )
        .fetch_all(self.pool())
        .await?
        {
            let unit: String = r.try_get("unit_code")?;
            if !org.in_scope(&scope, &unit_code(&unit)?) {
                continue;
            }
            out.push(Programme {
                id: r.try_get("id")?,
                code: r.try_get("code")?,
                title: r.try_get("title")?,
                unit,
                member_count: r.try_get("members")?,
                projects: Vec::new(),
                version: r.try_get("version")?,
            });
        }
        Ok(out)
    }
}

fn unique(e: impl Into<StoreError>, code: &str) -> StoreError {
    match e.into() {
        StoreError::Database(sqlx::Error::Database(db)) if db.is_unique_violation() => {
            StoreError::Conflict(format!("a programme with code {code} exists already"))
        }
        other => other,
    }
}
