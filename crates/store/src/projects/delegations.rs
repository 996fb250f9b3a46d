//! Delegations of authority, stored as data: issued at headquarters, sub-delegated only by
//! narrowing, revoked but never deleted.

use super::write::parse_date;
use super::{e4, from_e4};
use crate::audit::record;
use crate::db::{flag, new_id, now_text};
use crate::{Store, StoreError};
use meridian_domain::audit::Change;
use meridian_domain::authz::{Action, Actor, Denied, Role, authorize};
use meridian_domain::org::{Organization, UnitCode};
use meridian_domain::projects::delegation::{
    Authority, Delegatee, Delegation, check_subdelegation,
};
use meridian_domain::projects::money::{Currency, Money};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::Row;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct DelegationInput {
    /// endorse_project, approve_project or approve_revision.
    pub authority: String,
    /// Delegate to a role in a unit…
    pub role: Option<String>,
    pub unit: Option<String>,
    /// …or to a person (by email).
    pub person: Option<String>,
    pub limit_amount: String,
    pub limit_currency: String,
    pub valid_from: String,
    pub valid_to: Option<String>,
    #[serde(default)]
    pub may_subdelegate: bool,
    /// The delegation this one is sub-delegated from; none for one issued by the head.
    pub parent: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct DelegationView {
    pub id: String,
    pub authority: String,
    pub role: Option<String>,
    pub unit: Option<String>,
    pub person: Option<String>,
    pub limit_amount: Decimal,
    pub limit_currency: String,
    pub valid_from: String,
    pub valid_to: Option<String>,
    pub may_subdelegate: bool,
    pub parent: Option<String>,
    pub revoked: bool,
    pub version: i64,
}

const COLUMNS: &str = "d.id, d.authority, d.delegatee_role, d.delegatee_unit, d.delegatee_user_id, \
     u.email AS person, d.limit_currency, d.limit_e4, d.valid_from, d.valid_to, d.may_subdelegate, \
     d.parent_id, d.revoked, d.version";

fn view(r: &sqlx::any::AnyRow) -> Result<DelegationView, StoreError> {
    Ok(DelegationView {
        id: r.try_get("id")?,
        authority: r.try_get("authority")?,
        role: r.try_get("delegatee_role")?,
        unit: r.try_get("delegatee_unit")?,
        person: r.try_get("person")?,
        limit_amount: from_e4(r.try_get("limit_e4")?),
        limit_currency: r.try_get("limit_currency")?,
        valid_from: r.try_get("valid_from")?,
        valid_to: r.try_get("valid_to")?,
        may_subdelegate: r.try_get::<i64, _>("may_subdelegate")? == 1,
        parent: r.try_get("parent_id")?,
        revoked: r.try_get::<i64, _>("revoked")? == 1,
        version: r.try_get("version")?,
    })
}

fn domain(r: &sqlx::any::AnyRow) -> Result<Delegation, StoreError> {
    let corrupt = |e: String| StoreError::Corrupt(format!("delegation: {e}"));
    let authority: String = r.try_get("authority")?;
    let role: Option<String> = r.try_get("delegatee_role")?;
    let unit: Option<String> = r.try_get("delegatee_unit")?;
    let user: Option<String> = r.try_get("delegatee_user_id")?;
    let delegatee = match (role, unit, user) {
        (Some(role), Some(unit), None) => Delegatee::Role {
            role: Role::parse(&role).map_err(corrupt)?,
            unit: UnitCode::parse(&unit).map_err(corrupt)?,
        },
        (None, None, Some(user_id)) => Delegatee::Person { user_id },
        _ => return Err(corrupt("neither a role in a unit nor a person".into())),
    };
    let currency: String = r.try_get("limit_currency")?;
    let valid_from: String = r.try_get("valid_from")?;
    let valid_to: Option<String> = r.try_get("valid_to")?;
    Ok(Delegation {
        id: r.try_get("id")?,
        authority: Authority::parse(&authority).map_err(corrupt)?,
        delegatee,
        limit: Money::new(
            from_e4(r.try_get("limit_e4")?),
            Currency::parse(&currency).map_err(corrupt)?,
        )
        .map_err(|e| corrupt(e.to_string()))?,
        valid_from: parse_date("valid_from", &valid_from)?,
        valid_to: valid_to.map(|d| parse_date("valid_to", &d)).transpose()?,
        may_subdelegate: r.try_get::<i64, _>("may_subdelegate")? == 1,
        parent: r.try_get("parent_id")?,
        revoked: r.try_get::<i64, _>("revoked")? == 1,
    })
}

impl Store {
    /// Every delegation of an authority, for finding a decision's chain (the table is small).
    pub(crate) async fn delegations_for_decision(
        &self,
        authority: Authority,
    ) -> Result<Vec<Delegation>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM delegations d LEFT JOIN users u ON u.id = d.delegatee_user_id \
             WHERE d.authority = $1"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(authority.as_str())
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(domain)
            .collect()
    }

    /// The delegation framework is open to everyone signed in: who may decide what is no secret.
    pub async fn list_delegations(&self) -> Result<Vec<DelegationView>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM delegations d LEFT JOIN users u ON u.id = d.delegatee_user_id \
             ORDER BY d.authority, d.created_at"
        );
        sqlx::query(sqlx::AssertSqlSafe(sql))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(view)
            .collect()
    }

    pub async fn create_delegation(
        &self,
        org: &Organization,
        actor: &Actor,
        input: &DelegationInput,
    ) -> Result<DelegationView, StoreError> {
        authorize(org, actor, Action::ManageDelegations, &org.root().code)?;
        let authority =
            Authority::parse(&input.authority).map_err(|m| StoreError::invalid("authority", m))?;
        let (role, unit, user_id) = match (&input.role, &input.unit, &input.person) {
            (Some(role), Some(unit), None) => {
                let role = Role::parse(role).map_err(|m| StoreError::invalid("role", m))?;
                let unit =
                    UnitCode::parse(unit.trim()).map_err(|m| StoreError::invalid("unit", m))?;
                if org.unit(unit.as_str()).is_none() {
                    return Err(StoreError::invalid(
                        "unit",
                        format!("unknown unit code {unit}"),
                    ));
                }
                (Some(role.as_str().to_owned()), Some(unit.to_string()), None)
            }
            (None, None, Some(email)) => {
                let user = self.find_user_by_email(email).await?.ok_or_else(|| {
                    StoreError::invalid("person", format!("no account with the email {email}"))
                })?;
                (None, None, Some(user.id))
            }
            _ => {
                return Err(StoreError::invalid(
                    "role",
                    "delegate either to a role in a unit (role and unit) or to a person (person)",
                ));
            }
        };
        let currency = Currency::parse(&input.limit_currency)
            .map_err(|m| StoreError::invalid("limit_currency", m))?;
        let limit = Money::parse(&input.limit_amount, currency.code())
            .map_err(|e| StoreError::invalid("limit_amount", e.to_string()))?;
        let valid_from = parse_date("valid_from", &input.valid_from)?;
        let valid_to = input
            .valid_to
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .map(|d| parse_date("valid_to", d))
            .transpose()?;
        if valid_to.is_some_and(|to| to < valid_from) {
            return Err(StoreError::invalid(
                "valid_to",
                "the end of validity is before its start",
            ));
        }
        let id = new_id();
        let candidate = Delegation {
            id: id.clone(),
            authority,
            delegatee: match (&role, &unit, &user_id) {
                (Some(r), Some(u), _) => Delegatee::Role {
                    role: Role::parse(r).map_err(StoreError::Corrupt)?,
                    unit: UnitCode::parse(u).map_err(StoreError::Corrupt)?,
                },
                (_, _, Some(user_id)) => Delegatee::Person {
                    user_id: user_id.clone(),
                },
                _ => unreachable!("checked above"),
            },
            limit,
            valid_from,
            valid_to,
            may_subdelegate: input.may_subdelegate,
            parent: input.parent.clone(),
            revoked: false,
        };
        if let Some(parent_id) = &input.parent {
            let sql = format!(
                "SELECT {COLUMNS} FROM delegations d LEFT JOIN users u ON u.id = d.delegatee_user_id WHERE d.id = $1"
            );
            let parent = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(parent_id)
                .fetch_optional(self.pool())
                .await?
                .ok_or_else(|| {
                    StoreError::invalid("parent", format!("no delegation {parent_id}"))
                })?;
            let parent = domain(&parent)?;
            check_subdelegation(&parent, &candidate, &self.rate_table().await?)
                .map_err(|e| StoreError::Denied(Denied::Rule(e.to_string())))?;
        }
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO delegations (id, authority, delegatee_role, delegatee_unit, delegatee_user_id, \
             limit_currency, limit_e4, valid_from, valid_to, may_subdelegate, parent_id, revoked, created_by, \
             created_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, $12, $13, 1)",
        )
        .bind(&id)
        .bind(authority.as_str())
        .bind(role)
        .bind(unit)
        .bind(user_id)
        .bind(currency.code())
        .bind(e4(limit.amount, "limit_amount")?)
        .bind(valid_from.to_string())
        .bind(valid_to.map(|d| d.to_string()))
        .bind(flag(input.may_subdelegate))
        .bind(input.parent.clone())
        .bind(actor.label())
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        let created = self.delegation_in(&mut tx, &id).await?;
        record(
            &mut tx,
            actor,
            Change::new("delegation", "create", &id).after(&created),
        )
        .await?;
        tx.commit().await?;
        Ok(created)
    }

    pub async fn revoke_delegation(
        &self,
        org: &Organization,
        actor: &Actor,
        id: &str,
    ) -> Result<DelegationView, StoreError> {
        authorize(org, actor, Action::ManageDelegations, &org.root().code)?;
        let mut tx = self.begin().await?;
        let before = self.delegation_in(&mut tx, id).await?;
        if before.revoked {
            return Err(StoreError::Conflict(format!(
                "delegation {id} is already revoked"
            )));
        }
        sqlx::query("UPDATE delegations SET revoked = 1, version = version + 1 WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let after = self.delegation_in(&mut tx, id).await?;
        record(
            &mut tx,
            actor,
            Change::new("delegation", "revoke", id)
                .before(&before)
                .after(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    async fn delegation_in(
        &self,
        tx: &mut crate::Tx,
        id: &str,
    ) -> Result<DelegationView, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM delegations d LEFT JOIN users u ON u.id = d.delegatee_user_id WHERE d.id = $1"
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&mut **tx)
            .await?
            .ok_or_else(|| StoreError::not_found("delegation", id))?;
        view(&row)
    }
}
