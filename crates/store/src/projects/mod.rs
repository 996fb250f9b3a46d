//! Projects: drafting and editing (`write.rs`), the lifecycle with review, endorsement and
//! approval under delegated authority (`lifecycle.rs`), the portfolio (`portfolio.rs`),
//! money: exchange rates and transactions (`finance.rs`), delegations (`delegations.rs`),
//! revisions (`revisions.rs`) and documents (`documents.rs`).
//!
//! Amounts are stored as BIGINT ten-thousandths (`*_e4`) so that they are exact and sum
//! exactly on both backends; [`e4`] and [`from_e4`] convert.

mod delegations;
mod documents;
mod finance;
mod lifecycle;
mod portfolio;
pub(crate) mod portfolio_keys;
mod revisions;
pub(crate) mod summary;
mod write;

pub use delegations::{DelegationInput, DelegationView};
pub use documents::{Document, DocumentStorage};
pub use finance::{Transaction, TransactionInput, TransactionKind};
pub use lifecycle::{Comment, HistoryEntry, ProjectHistory};
pub use portfolio::{Page, PortfolioQuery, PortfolioRow, PortfolioTotals, SortKey, Totals};
pub use portfolio_keys::search_words;
pub use revisions::{Revision, RevisionContent, RevisionInput};
pub(crate) use write::parse_date;
pub use write::{BudgetLineInput, ProjectInput};

use crate::StoreError;
use meridian_domain::authz::{Action, Actor, authorize};
use meridian_domain::org::{Organization, UnitCode};
use meridian_domain::projects::lifecycle::{Status, Transition};
use rust_decimal::Decimal;
use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

/// Exact decimal → stored ten-thousandths. Refuses more than four decimals or overflow.
pub fn e4(amount: Decimal, field: &'static str) -> Result<i64, StoreError> {
    use rust_decimal::prelude::ToPrimitive;
    let scaled = amount
        .checked_mul(Decimal::from(10_000))
        .ok_or_else(|| StoreError::invalid(field, format!("{amount} is too large")))?;
    if scaled.fract() != Decimal::ZERO {
        return Err(StoreError::invalid(
            field,
            format!("at most four decimals, found {amount}"),
        ));
    }
    scaled
        .to_i64()
        .ok_or_else(|| StoreError::invalid(field, format!("{amount} is too large")))
}

pub fn from_e4(v: i64) -> Decimal {
    Decimal::new(v, 4).normalize()
}

/// Rounds a converted amount to four decimals before storing it.
pub fn e4_rounded(amount: Decimal) -> Result<i64, StoreError> {
    e4(amount.round_dp(4), "amount")
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct BudgetLine {
    pub category: String,
    pub description: String,
    pub currency: String,
    pub amount: Decimal,
    pub amount_usd: Decimal,
}

/// A project as its readers see it. Restricted fields are `None` for readers without the
/// right to see them (`restricted_hidden` says so).
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Project {
    pub id: String,
    pub code: String,
    pub title: String,
    pub summary: String,
    pub thematic_area: String,
    pub unit: String,
    pub region: String,
    pub primary_country: String,
    pub countries: Vec<String>,
    pub admin_areas: Vec<String>,
    pub start_date: String,
    pub end_date: String,
    pub currency: String,
    pub budget: Option<Decimal>,
    pub budget_usd: Option<Decimal>,
    pub budget_lines: Option<Vec<BudgetLine>>,
    pub donors: Option<Vec<String>>,
    pub partners: Vec<String>,
    pub restricted: bool,
    pub restricted_hidden: bool,
    #[schema(value_type = String)]
    pub status: Status,
    pub drafted_by: String,
    pub submitted_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
    /// What the project's status allows next (whether the reader may do it or not).
    #[schema(value_type = Vec<String>)]
    pub allowed_transitions: Vec<Transition>,
}

pub(crate) const PROJECT_COLUMNS: &str = "id, code, title, summary, thematic_area, unit_code, \
     region_code, primary_country, countries, admin_areas, start_date, end_date, currency, \
     budget_e4, budget_usd_e4, donors, partners, restricted, status, drafted_by, submitted_by, \
     created_at, updated_at, version";

fn json_list(row: &AnyRow, col: &str) -> Result<Vec<String>, StoreError> {
    let raw: String = row.try_get(col)?;
    serde_json::from_str(&raw).map_err(|e| StoreError::Corrupt(format!("{col}: {e}")))
}

pub(crate) fn project_from_row(
    row: &AnyRow,
    lines: Vec<BudgetLine>,
) -> Result<Project, StoreError> {
    let status: String = row.try_get("status")?;
    let status = Status::parse(&status).map_err(StoreError::Corrupt)?;
    Ok(Project {
        id: row.try_get("id")?,
        code: row.try_get("code")?,
        title: row.try_get("title")?,
        summary: row.try_get("summary")?,
        thematic_area: row.try_get("thematic_area")?,
        unit: row.try_get("unit_code")?,
        region: row.try_get("region_code")?,
        primary_country: row.try_get("primary_country")?,
        countries: json_list(row, "countries")?,
        admin_areas: json_list(row, "admin_areas")?,
        start_date: row.try_get("start_date")?,
        end_date: row.try_get("end_date")?,
        currency: row.try_get("currency")?,
        budget: Some(from_e4(row.try_get("budget_e4")?)),
        budget_usd: Some(from_e4(row.try_get("budget_usd_e4")?)),
        budget_lines: Some(lines),
        donors: Some(json_list(row, "donors")?),
        partners: json_list(row, "partners")?,
        restricted: row.try_get::<i64, _>("restricted")? == 1,
        restricted_hidden: false,
        allowed_transitions: status.allowed(),
        status,
        drafted_by: row.try_get("drafted_by")?,
        submitted_by: row.try_get("submitted_by")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        version: row.try_get("version")?,
    })
}

/// Hides what a reader without the right may not see of a restricted project.
pub(crate) fn redact(org: &Organization, actor: &Actor, mut p: Project) -> Project {
    let unit = UnitCode::parse(&p.unit).ok();
    let may = unit
        .is_some_and(|u| authorize(org, actor, Action::ViewRestrictedProjectFields, &u).is_ok());
    if p.restricted && !may {
        p.budget = None;
        p.budget_usd = None;
        p.budget_lines = None;
        p.donors = None;
        p.restricted_hidden = true;
    }
    p
}

/// A project's budget lines, in order, on any executor (the pool, or a transaction).
pub(crate) async fn budget_lines<'e, E>(
    executor: E,
    project_id: &str,
) -> Result<Vec<BudgetLine>, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    sqlx::query(
        "SELECT category, description, currency, amount_e4, amount_usd_e4 \
         FROM project_budget_lines WHERE project_id = $1 ORDER BY position",
    )
    .bind(project_id)
    .fetch_all(executor)
    .await?
    .iter()
    .map(|r| {
        Ok(BudgetLine {
            category: r.try_get("category")?,
            description: r.try_get("description")?,
            currency: r.try_get("currency")?,
            amount: from_e4(r.try_get("amount_e4")?),
            amount_usd: from_e4(r.try_get("amount_usd_e4")?),
        })
    })
    .collect()
}

pub(crate) fn unit_code(raw: &str) -> Result<UnitCode, StoreError> {
    UnitCode::parse(raw).map_err(StoreError::Corrupt)
}

impl crate::Store {
    /// One project, if the actor may see it; restricted fields redacted as their roles say.
    pub async fn project(
        &self,
        org: &Organization,
        actor: &Actor,
        id: &str,
    ) -> Result<Project, StoreError> {
        let p = self.project_unchecked(id).await?;
        authorize(org, actor, Action::ViewProjects, &unit_code(&p.unit)?)?;
        Ok(redact(org, actor, p))
    }

    /// One project with no permission check, for the store's own use.
    pub(crate) async fn project_unchecked(&self, id: &str) -> Result<Project, StoreError> {
        let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE id = $1 OR code = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("project", id))?;
        let project_id: String = row.try_get("id")?;
        let lines = budget_lines(self.pool(), &project_id).await?;
        project_from_row(&row, lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    #[test]
    fn amounts_are_stored_exactly_in_ten_thousandths() {
        assert_eq!(
            e4(Decimal::from_str("1250.5").unwrap(), "a").unwrap(),
            12_505_000
        );
        assert_eq!(e4(Decimal::from_str("0.0001").unwrap(), "a").unwrap(), 1);
        assert!(e4(Decimal::from_str("0.00001").unwrap(), "a").is_err());
        assert_eq!(from_e4(12_505_000), Decimal::from_str("1250.5").unwrap());
        assert_eq!(from_e4(-1), Decimal::from_str("-0.0001").unwrap());
    }
}
