//! The audit trail: searchable by administrators within their scope; the history of one record
//! for anyone who may see that record.

use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Query, State};
use meridian_domain::authz::{Action, authorize};
use meridian_domain::org::Scope;
use meridian_store::audit::{AuditEvent, AuditQuery};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// The kind of record: org_unit, country, organization, user, api_token.
    pub entity: Option<String>,
    /// The record's id (or code, for organization records).
    pub id: Option<String>,
    /// Who acted (an email, or operator:NAME).
    pub actor: Option<String>,
    /// e.g. user.create, org_unit.update.
    pub action: Option<String>,
    pub limit: Option<u32>,
    pub offset: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEventView {
    pub id: String,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub unit: Option<String>,
    #[schema(value_type = Object)]
    pub before: Option<serde_json::Value>,
    #[schema(value_type = Object)]
    pub after: Option<serde_json::Value>,
}

impl From<AuditEvent> for AuditEventView {
    fn from(e: AuditEvent) -> Self {
        Self {
            id: e.id,
            at: e.at,
            actor: e.actor,
            action: e.action,
            entity: e.entity,
            entity_id: e.entity_id,
            unit: e.unit,
            before: e.before,
            after: e.after,
        }
    }
}

/// Records everyone signed in may see (the organization itself).
const PUBLIC_ENTITIES: &[&str] = &["org_unit", "country", "organization"];

/// Runs an audit search as the caller may: the whole trail in an administrator's scope, or
/// one record's history for those who may see the record.
pub async fn search(
    state: &AppState,
    caller: &Caller,
    filter: &AuditFilter,
) -> AppResult<Vec<AuditEvent>> {
    let snap = state.org();
    let actor = caller.actor();
    let scope = actor.scope(&snap.org);
    let admin = authorize(&snap.org, &actor, Action::ViewAuditTrail, &caller.user.unit).is_ok();
    let mut query = AuditQuery {
        entity: filter.entity.clone(),
        entity_id: filter.id.clone(),
        actor: filter.actor.clone(),
        action: filter.action.clone(),
        since: None,
        units: None,
        limit: filter.limit.unwrap_or(100),
        offset: filter.offset.unwrap_or(0),
    };
    let one_record = filter.entity.is_some() && filter.id.is_some();
    let public = filter
        .entity
        .as_deref()
        .is_some_and(|e| PUBLIC_ENTITIES.contains(&e));
    let own =
        filter.entity.as_deref() == Some("user") && filter.id.as_deref() == Some(&caller.user.id);
    if one_record && (public || own) {
        // The history of a record the caller can see anyway.
    } else if admin {
        if scope != Scope::Global {
            query.units = Some(
                snap.org
                    .units_in_scope(&scope)
                    .into_iter()
                    .map(|c| c.to_string())
                    .collect(),
            );
        }
    } else {
        return Err(AppError::Forbidden(
            "only administrators search the audit trail; others may read the history of a record they can see (give entity and id)".into(),
        ));
    }
    Ok(state.store.audit_events(&query).await?)
}

/// Searches the audit trail, newest first.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit", params(AuditFilter),
    responses((status = 200, body = [AuditEventView]), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(filter): Query<AuditFilter>,
) -> AppResult<Json<Vec<AuditEventView>>> {
    let events = search(&state, &caller, &filter).await?;
    Ok(Json(events.into_iter().map(Into::into).collect()))
}
