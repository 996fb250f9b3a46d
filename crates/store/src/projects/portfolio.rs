//! The portfolio: projects in the reader's scope, filtered, sorted and paginated, with totals
//! and analytics. Each call runs a fixed number of queries, however many projects match.

use super::from_e4;
use crate::{Backend, Store, StoreError};
use meridian_domain::authz::{Action, Actor, Role};
use meridian_domain::org::{Organization, Scope};
use meridian_domain::projects::lifecycle::Status;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::Row;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    #[default]
    Updated,
    Code,
    Title,
    Budget,
    Start,
    Status,
}

impl SortKey {
    fn column(self) -> &'static str {
        match self {
            SortKey::Updated => "updated_at",
            SortKey::Code => "code",
            SortKey::Title => "title",
            SortKey::Budget => "budget_usd_e4",
            SortKey::Start => "start_date",
            SortKey::Status => "status",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct PortfolioQuery {
    /// A regional office code.
    pub region: Option<String>,
    /// An ISO3 code: projects whose primary country it is.
    pub country: Option<String>,
    /// The owning office's code.
    pub unit: Option<String>,
    #[schema(value_type = Option<String>)]
    pub status: Option<Status>,
    pub theme: Option<String>,
    pub donor: Option<String>,
    /// The start year.
    pub year: Option<i64>,
    pub min_usd: Option<Decimal>,
    pub max_usd: Option<Decimal>,
    /// Words in the title, or the project code.
    pub q: Option<String>,
    #[serde(default)]
    pub sort: SortKey,
    #[serde(default)]
    pub descending: bool,
    /// From 1.
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PortfolioRow {
    pub id: String,
    pub code: String,
    pub title: String,
    pub unit: String,
    pub region: String,
    pub primary_country: String,
    pub thematic_area: String,
    #[schema(value_type = String)]
    pub status: Status,
    pub start_date: String,
    pub end_date: String,
    /// `None` for a restricted project the reader may not see the budget of.
    pub budget_usd: Option<Decimal>,
    pub restricted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Totals {
    pub projects: i64,
    /// The sum of the budgets the reader may see, in USD.
    pub budget_usd: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Page {
    pub rows: Vec<PortfolioRow>,
    pub page: u32,
    pub per_page: u32,
    pub totals: Totals,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Group {
    pub key: String,
    pub projects: i64,
    pub budget_usd: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PortfolioTotals {
    pub by_region: Vec<Group>,
    pub by_country: Vec<Group>,
    pub by_status: Vec<Group>,
    pub by_theme: Vec<Group>,
    pub by_donor: Vec<Group>,
    pub by_year: Vec<Group>,
    /// Projects per lifecycle stage, in lifecycle order (every stage listed).
    pub pipeline: Vec<Group>,
    pub budget_usd: Decimal,
    pub expenditure_usd: Decimal,
    /// Expenditure over budget, in percent, for the projects that match.
    pub burn_rate_percent: Option<Decimal>,
}

pub const MAX_PER_PAGE: u32 = 200;

/// What a portfolio query reads (`FROM projects`, joined to the donor it filters by) and its
/// WHERE clause, with their bound values.
struct Filter {
    /// ` JOIN project_donors …` when filtering by donor: a join (a project has a donor once)
    /// lets the planner start from the donor's projects, or walk the projects in order and look
    /// the donor up, whichever is cheaper; `id IN (…)` would always start from the donor.
    join: String,
    sql: String,
    binds: Vec<Bind>,
    /// Whether the reader may see restricted budgets (in their scope).
    sees_restricted: bool,
}

enum Bind {
    Text(String),
    Int(i64),
}

impl Filter {
    fn push(&mut self, clause: &str, value: Bind) {
        self.binds.push(value);
        self.sql
            .push_str(&clause.replace('?', &format!("${}", self.binds.len())));
    }

    fn apply<'q>(
        &self,
        mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
        for b in &self.binds {
            q = match b {
                Bind::Text(s) => q.bind(s.clone()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        q
    }

    /// ` FROM projects …` with the join and the WHERE clause.
    fn from(&self) -> String {
        format!(" FROM projects{}{}", self.join, self.sql)
    }

    /// The budget column as the reader may sum it.
    fn visible_budget(&self) -> &'static str {
        if self.sees_restricted {
            "budget_usd_e4"
        } else {
            "CASE WHEN restricted = 1 THEN 0 ELSE budget_usd_e4 END"
        }
    }
}

fn filter(
    org: &Organization,
    actor: &Actor,
    q: &PortfolioQuery,
    backend: Backend,
) -> Result<Filter, StoreError> {
    let mut f = Filter {
        join: String::new(),
        sql: String::from(" WHERE 1 = 1"),
        binds: Vec::new(),
        sees_restricted: Role::ALL
            .iter()
            .any(|r| r.grants(Action::ViewRestrictedProjectFields) && actor.has_role(*r)),
    };
    match actor.scope(org) {
        Scope::Global => {}
        Scope::Region(ro) => f.push(" AND region_code = ?", Bind::Text(ro.to_string())),
        Scope::Unit(unit) => {
            let units = org.units_in_scope(&Scope::Unit(unit));
            f.sql.push_str(" AND unit_code IN (");
            for (i, u) in units.iter().enumerate() {
                if i > 0 {
                    f.sql.push_str(", ");
                }
                f.push("?", Bind::Text(u.to_string()));
            }
            f.sql.push(')');
        }
    }
    let text = |s: &Option<String>| {
        s.as_ref()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    if let Some(v) = text(&q.region) {
        f.push(" AND region_code = ?", Bind::Text(v.to_uppercase()));
    }
    if let Some(v) = text(&q.country) {
        f.push(" AND primary_country = ?", Bind::Text(v.to_uppercase()));
    }
    if let Some(v) = text(&q.unit) {
        meridian_domain::org::UnitCode::parse(&v.to_uppercase())
            .map_err(|m| StoreError::invalid("unit", m))?;
        f.push(" AND unit_code = ?", Bind::Text(v.to_uppercase()));
    }
    if let Some(s) = q.status {
        f.push(" AND status = ?", Bind::Text(s.as_str().to_owned()));
    }
    if let Some(v) = text(&q.theme) {
        f.push(" AND thematic_area = ?", Bind::Text(v));
    }
    if let Some(v) = text(&q.donor) {
        f.binds.push(Bind::Text(v));
        f.join = format!(
            " JOIN project_donors ON project_donors.project_id = projects.id \
             AND project_donors.donor = ${}",
            f.binds.len()
        );
    }
    if let Some(y) = q.year {
        f.push(" AND start_year = ?", Bind::Int(y));
    }
    if let Some(v) = q.min_usd {
        f.push(" AND budget_usd_e4 >= ?", Bind::Int(super::e4_rounded(v)?));
    }
    if let Some(v) = q.max_usd {
        f.push(" AND budget_usd_e4 <= ?", Bind::Int(super::e4_rounded(v)?));
    }
    if let Some(v) = text(&q.q) {
        let pattern = format!("%{}%", v.to_lowercase().replace(['%', '_'], ""));
        // SQLite's LIKE already ignores case, for the same (ASCII) letters its LOWER knows, so
        // it need not lower every title it scans; PostgreSQL's LIKE does not ignore case.
        let clause = match backend {
            Backend::Sqlite => " AND (title LIKE ?",
            Backend::Postgres => " AND (LOWER(title) LIKE ?",
        };
        f.push(clause, Bind::Text(pattern));
        f.push(" OR code = ?)", Bind::Text(v.to_uppercase()));
    }
    if !f.sees_restricted {
        // Amount filters must not reveal restricted budgets.
        if q.min_usd.is_some() || q.max_usd.is_some() {
            f.sql.push_str(" AND restricted = 0");
        }
    }
    Ok(f)
}

impl Store {
    /// One page of the portfolio with the totals of everything that matches: two queries.
    ///
    /// At scale (300,000 projects) both run from indexes (see the migration
    /// `portfolio_at_scale`): the page's ids are found in an index that holds the sort key, the
    /// id and the filtered columns (so skipping to page 500 reads no table row), and only the
    /// page's rows are then read from the table; the totals are summed from an index holding
    /// the filtered columns and the budget.
    pub async fn portfolio(
        &self,
        org: &Organization,
        actor: &Actor,
        q: &PortfolioQuery,
    ) -> Result<Page, StoreError> {
        let f = filter(org, actor, q, self.backend())?;
        let per_page = q.per_page.unwrap_or(50).clamp(1, MAX_PER_PAGE);
        let page = q.page.unwrap_or(1).max(1);
        let direction = if q.descending { "DESC" } else { "ASC" };
        let column = q.sort.column();
        let sql = format!(
            "SELECT p.id, p.code, p.title, p.unit_code, p.region_code, p.primary_country, \
             p.thematic_area, p.status, p.start_date, p.end_date, p.budget_usd_e4, p.restricted \
             FROM (SELECT id{} ORDER BY {column} {direction}, id {direction} \
             LIMIT {per_page} OFFSET {}) page JOIN projects p ON p.id = page.id \
             ORDER BY p.{column} {direction}, p.id {direction}",
            f.from(),
            u64::from(page - 1) * u64::from(per_page)
        );
        let rows = f
            .apply(sqlx::query(sqlx::AssertSqlSafe(sql)))
            .fetch_all(self.pool())
            .await?;
        let rows = rows
            .iter()
            .map(|r| {
                let status: String = r.try_get("status")?;
                let restricted = r.try_get::<i64, _>("restricted")? == 1;
                Ok(PortfolioRow {
                    id: r.try_get("id")?,
                    code: r.try_get("code")?,
                    title: r.try_get("title")?,
                    unit: r.try_get("unit_code")?,
                    region: r.try_get("region_code")?,
                    primary_country: r.try_get("primary_country")?,
                    thematic_area: r.try_get("thematic_area")?,
                    status: Status::parse(&status).map_err(StoreError::Corrupt)?,
                    start_date: r.try_get("start_date")?,
                    end_date: r.try_get("end_date")?,
                    budget_usd: (!restricted || f.sees_restricted)
                        .then(|| from_e4(r.try_get("budget_usd_e4").unwrap_or(0))),
                    restricted,
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        let totals_sql = format!(
            "SELECT COUNT(*) AS n, CAST(COALESCE(SUM({}), 0) AS BIGINT) AS usd{}",
            f.visible_budget(),
            f.from()
        );
        let t = f
            .apply(sqlx::query(sqlx::AssertSqlSafe(totals_sql)))
            .fetch_one(self.pool())
            .await?;
        Ok(Page {
            rows,
            page,
            per_page,
            totals: Totals {
                projects: t.try_get("n")?,
                budget_usd: from_e4(t.try_get("usd")?),
            },
        })
    }

    /// Every matching row, for exports (in pages of 5,000 so memory stays bounded).
    pub async fn portfolio_all(
        &self,
        org: &Organization,
        actor: &Actor,
        q: &PortfolioQuery,
        mut each: impl FnMut(&PortfolioRow),
    ) -> Result<i64, StoreError> {
        let mut q = q.clone();
        q.per_page = Some(MAX_PER_PAGE);
        let mut n = 0;
        for page in 1.. {
            q.page = Some(page);
            let p = self.portfolio(org, actor, &q).await?;
            for row in &p.rows {
                each(row);
                n += 1;
            }
            if p.rows.len() < MAX_PER_PAGE as usize {
                break;
            }
        }
        Ok(n)
    }

    /// Totals by region, country, status, theme, donor and year, the pipeline, and the burn
    /// rate, for the projects that match: eight queries.
    pub async fn portfolio_totals(
        &self,
        org: &Organization,
        actor: &Actor,
        q: &PortfolioQuery,
    ) -> Result<PortfolioTotals, StoreError> {
        let f = filter(org, actor, q, self.backend())?;
        let budget = f.visible_budget();
        let group = |column: &str| {
            format!(
                "SELECT {column} AS k, COUNT(*) AS n, CAST(COALESCE(SUM({budget}), 0) AS BIGINT) AS usd \
                 {} GROUP BY {column} ORDER BY usd DESC, k",
                f.from()
            )
        };
        let mut groups = Vec::new();
        for column in [
            "region_code",
            "primary_country",
            "status",
            "thematic_area",
            "CAST(start_year AS TEXT)",
        ] {
            let rows = f
                .apply(sqlx::query(sqlx::AssertSqlSafe(group(column))))
                .fetch_all(self.pool())
                .await?;
            groups.push(read_groups(&rows)?);
        }
        let donor_sql = format!(
            "SELECT d.donor AS k, COUNT(*) AS n, CAST(COALESCE(SUM({}), 0) AS BIGINT) AS usd \
             FROM project_donors d JOIN (SELECT id, restricted, budget_usd_e4{}) p ON p.id = d.project_id \
             GROUP BY d.donor ORDER BY usd DESC, k",
            budget
                .replace("restricted", "p.restricted")
                .replace("budget_usd_e4", "p.budget_usd_e4"),
            f.from()
        );
        let by_donor = read_groups(
            &f.apply(sqlx::query(sqlx::AssertSqlSafe(donor_sql)))
                .fetch_all(self.pool())
                .await?,
        )?;
        let spent_sql = format!(
            "SELECT CAST(COALESCE(SUM(t.amount_usd_e4), 0) AS BIGINT) AS usd FROM project_transactions t \
             WHERE t.kind = 'expenditure' AND t.project_id IN (SELECT id{}{})",
            f.from(),
            if f.sees_restricted {
                ""
            } else {
                " AND restricted = 0"
            }
        );
        let spent = from_e4(
            f.apply(sqlx::query(sqlx::AssertSqlSafe(spent_sql)))
                .fetch_one(self.pool())
                .await?
                .try_get("usd")?,
        );
        let by_year = groups.pop().expect("five groups");
        let by_theme = groups.pop().expect("five groups");
        let by_status = groups.pop().expect("five groups");
        let by_country = groups.pop().expect("five groups");
        let by_region = groups.pop().expect("five groups");
        let pipeline = Status::ALL
            .iter()
            .map(|s| {
                by_status
                    .iter()
                    .find(|g| g.key == s.as_str())
                    .cloned()
                    .unwrap_or(Group {
                        key: s.as_str().to_owned(),
                        projects: 0,
                        budget_usd: Decimal::ZERO,
                    })
            })
            .collect();
        let budget_usd: Decimal = by_status.iter().map(|g| g.budget_usd).sum();
        Ok(PortfolioTotals {
            burn_rate_percent: (budget_usd > Decimal::ZERO)
                .then(|| (spent * Decimal::from(100) / budget_usd).round_dp(1)),
            by_region,
            by_country,
            by_status,
            by_theme,
            by_donor,
            by_year,
            pipeline,
            budget_usd,
            expenditure_usd: spent,
        })
    }

    /// Projects waiting for the reader's review: submitted or under review, in their scope.
    pub async fn review_queue(
        &self,
        org: &Organization,
        actor: &Actor,
    ) -> Result<Vec<PortfolioRow>, StoreError> {
        let mut rows = Vec::new();
        for status in [Status::Submitted, Status::UnderReview] {
            let q = PortfolioQuery {
                status: Some(status),
                sort: SortKey::Updated,
                per_page: Some(MAX_PER_PAGE),
                ..Default::default()
            };
            rows.extend(self.portfolio(org, actor, &q).await?.rows);
        }
        Ok(rows)
    }
}

fn read_groups(rows: &[sqlx::any::AnyRow]) -> Result<Vec<Group>, StoreError> {
    rows.iter()
        .map(|r| {
            Ok(Group {
                key: r.try_get::<Option<String>, _>("k")?.unwrap_or_default(),
                projects: r.try_get("n")?,
                budget_usd: from_e4(r.try_get("usd")?),
            })
        })
        .collect()
}
