//! The audit trail: appended in the same transaction as the change it records, never changed.

use crate::db::{new_id, now_text};
use crate::{Store, StoreError, Tx};
use meridian_domain::audit::Change;
use meridian_domain::authz::Actor;
use serde::Serialize;
use sqlx::Row;

/// Appends one audit event inside the caller's transaction.
pub async fn record(tx: &mut Tx, actor: &Actor, change: Change) -> Result<(), StoreError> {
    let json = |v: &Option<serde_json::Value>| v.as_ref().map(|v| v.to_string());
    sqlx::query(
        "INSERT INTO audit_events \
         (id, at, actor_id, actor, action, entity, entity_id, unit_code, before_json, after_json) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(new_id())
    .bind(now_text())
    .bind(actor.user_id().map(str::to_owned))
    .bind(actor.label())
    .bind(&change.action)
    .bind(change.entity)
    .bind(&change.entity_id)
    .bind(change.unit.as_ref().map(|u| u.as_str().to_owned()))
    .bind(json(&change.before))
    .bind(json(&change.after))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEvent {
    pub id: String,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub unit: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Filters for searching the trail. `units` limits the events to records owned by those units
/// (the caller's scope); `None` means everywhere.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub actor: Option<String>,
    pub action: Option<String>,
    /// Inclusive lower bound on the time, as stored (RFC 3339 text).
    pub since: Option<String>,
    pub units: Option<Vec<String>>,
    pub limit: u32,
    pub offset: u32,
}

impl Store {
    /// Events matching the query, newest first.
    pub async fn audit_events(&self, q: &AuditQuery) -> Result<Vec<AuditEvent>, StoreError> {
        let mut sql = String::from(
            "SELECT id, at, actor, action, entity, entity_id, unit_code, before_json, after_json \
             FROM audit_events WHERE 1 = 1",
        );
        let mut binds: Vec<String> = Vec::new();
        let mut push = |sql: &mut String, clause: &str, value: String| {
            binds.push(value);
            sql.push_str(&clause.replace('?', &format!("${}", binds.len())));
        };
        if let Some(v) = &q.entity {
            push(&mut sql, " AND entity = ?", v.clone());
        }
        if let Some(v) = &q.entity_id {
            push(&mut sql, " AND entity_id = ?", v.clone());
        }
        if let Some(v) = &q.actor {
            push(&mut sql, " AND actor = ?", v.to_lowercase());
        }
        if let Some(v) = &q.action {
            push(&mut sql, " AND action = ?", v.clone());
        }
        if let Some(v) = &q.since {
            push(&mut sql, " AND at >= ?", v.clone());
        }
        if let Some(units) = &q.units {
            if units.is_empty() {
                return Ok(Vec::new());
            }
            sql.push_str(" AND unit_code IN (");
            for (i, u) in units.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                push(&mut sql, "?", u.clone());
            }
            sql.push(')');
        }
        sql.push_str(&format!(
            " ORDER BY at DESC, id DESC LIMIT {} OFFSET {}",
            q.limit.clamp(1, 1000),
            q.offset
        ));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in binds {
            query = query.bind(b);
        }
        let rows = query.fetch_all(self.pool()).await?;
        rows.iter().map(event_from_row).collect()
    }
}

fn event_from_row(row: &sqlx::any::AnyRow) -> Result<AuditEvent, StoreError> {
    let json = |col: &str| -> Result<Option<serde_json::Value>, StoreError> {
        let raw: Option<String> = row.try_get(col)?;
        raw.map(|s| {
            serde_json::from_str(&s).map_err(|e| StoreError::Corrupt(format!("audit {col}: {e}")))
        })
        .transpose()
    };
    Ok(AuditEvent {
        id: row.try_get("id")?,
        at: row.try_get("at")?,
        actor: row.try_get("actor")?,
        action: row.try_get("action")?,
        entity: row.try_get("entity")?,
        entity_id: row.try_get("entity_id")?,
        unit: row.try_get("unit_code")?,
        before: json("before_json")?,
        after: json("after_json")?,
    })
}
