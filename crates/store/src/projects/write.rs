//! Drafting and editing a project.

use super::{Project, e4, e4_rounded, unit_code};
use crate::audit::record;
use crate::db::{flag, new_id, now_text};
use crate::{Store, StoreError, Tx};
use meridian_domain::audit::Change;
use meridian_domain::authz::{Action, Actor, authorize};
use meridian_domain::org::{Iso3, Organization, UnitCode, UnitKind};
use meridian_domain::projects::THEMATIC_AREAS;
use meridian_domain::projects::money::{Currency, Money, RateTable};
use rust_decimal::Decimal;
use serde::Deserialize;
use sqlx::Row;
use time::Date;

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct BudgetLineInput {
    pub category: String,
    #[serde(default)]
    pub description: String,
    pub currency: String,
    /// A decimal in the line's currency, as text ("1250.50") for exactness.
    pub amount: String,
}

/// What a drafter writes. On update every field is replaced; `unit` cannot change.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct ProjectInput {
    pub title: String,
    #[serde(default)]
    pub summary: String,
    pub thematic_area: String,
    /// The office that owns the project (a country, regional or special office).
    pub unit: String,
    pub primary_country: String,
    #[serde(default)]
    pub countries: Vec<String>,
    #[serde(default)]
    pub admin_areas: Vec<String>,
    pub start_date: String,
    pub end_date: String,
    pub currency: String,
    #[serde(default)]
    pub budget_lines: Vec<BudgetLineInput>,
    #[serde(default)]
    pub donors: Vec<String>,
    #[serde(default)]
    pub partners: Vec<String>,
    #[serde(default)]
    pub restricted: bool,
}

/// A project input that passed every check, with its amounts converted.
struct Checked {
    title: String,
    summary: String,
    thematic_area: String,
    unit: UnitCode,
    region: UnitCode,
    primary_country: Iso3,
    countries: Vec<String>,
    admin_areas: Vec<String>,
    start: Date,
    end: Date,
    currency: Currency,
    lines: Vec<(String, String, Money, Decimal)>,
    budget: Decimal,
    budget_usd: Decimal,
    donors: Vec<String>,
    partners: Vec<String>,
    restricted: bool,
}

pub(crate) fn parse_date(field: &'static str, raw: &str) -> Result<Date, StoreError> {
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(raw.trim(), &format).map_err(|_| {
        StoreError::invalid(
            field,
            format!("expected a date like 2026-03-31, found {raw:?}"),
        )
    })
}

pub(crate) fn today() -> Date {
    time::OffsetDateTime::now_utc().date()
}

fn clean_list(raw: &[String]) -> Vec<String> {
    let mut out: Vec<String> = raw
        .iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    out.dedup();
    out
}

fn check(
    org: &Organization,
    rates: &RateTable,
    input: &ProjectInput,
) -> Result<Checked, StoreError> {
    let title = input.title.trim();
    if title.is_empty() || title.chars().count() > 300 {
        return Err(StoreError::invalid(
            "title",
            "a title of 1 to 300 characters",
        ));
    }
    if !THEMATIC_AREAS.contains(&input.thematic_area.as_str()) {
        return Err(StoreError::invalid(
            "thematic_area",
            format!(
                "expected one of {}, found {:?}",
                THEMATIC_AREAS.join(", "),
                input.thematic_area
            ),
        ));
    }
    let unit = UnitCode::parse(input.unit.trim()).map_err(|m| StoreError::invalid("unit", m))?;
    let owner = org
        .unit(unit.as_str())
        .ok_or_else(|| StoreError::invalid("unit", format!("unknown unit code {unit}")))?;
    let region = org
        .ancestors(&owner.code)
        .find(|u| u.kind == UnitKind::RegionalOffice)
        .map(|u| u.code.clone())
        .ok_or_else(|| {
            StoreError::invalid(
                "unit",
                format!("{unit} is not under a regional office; projects belong to a country, regional or special office"),
            )
        })?;
    let known = |field: &'static str, raw: &str| -> Result<Iso3, StoreError> {
        let iso3 = Iso3::parse(raw).map_err(|m| StoreError::invalid(field, m))?;
        if org.covering_office(&iso3).is_none() && org.country_office(&iso3).is_none() {
            return Err(StoreError::invalid(
                field,
                format!("no office covers {iso3}"),
            ));
        }
        Ok(iso3)
    };
    let primary_country = known("primary_country", &input.primary_country)?;
    let mut countries = vec![primary_country.to_string()];
    for c in &input.countries {
        let iso3 = known("countries", c)?;
        if !countries.contains(&iso3.to_string()) {
            countries.push(iso3.to_string());
        }
    }
    let start = parse_date("start_date", &input.start_date)?;
    let end = parse_date("end_date", &input.end_date)?;
    if end < start {
        return Err(StoreError::invalid(
            "end_date",
            format!("the end ({end}) is before the start ({start})"),
        ));
    }
    let currency =
        Currency::parse(&input.currency).map_err(|m| StoreError::invalid("currency", m))?;
    let on = today();
    let mut lines = Vec::with_capacity(input.budget_lines.len());
    let mut budget_usd = Decimal::ZERO;
    for (i, line) in input.budget_lines.iter().enumerate() {
        let field = "budget_lines";
        let money = Money::parse(&line.amount, &line.currency)
            .map_err(|m| StoreError::invalid(field, format!("line {}: {m}", i + 1)))?;
        if line.category.trim().is_empty() {
            return Err(StoreError::invalid(
                field,
                format!("line {}: give a category", i + 1),
            ));
        }
        let usd = rates
            .to_usd(&money, on)
            .map_err(|e| StoreError::invalid(field, format!("line {}: {e}", i + 1)))?;
        budget_usd += usd;
        lines.push((
            line.category.trim().to_owned(),
            line.description.trim().to_owned(),
            money,
            usd,
        ));
    }
    // The total in the project's currency, through USD at today's rates.
    let one = Money::new(Decimal::ONE, currency)
        .map_err(|e| StoreError::invalid("currency", e.to_string()))?;
    let unit_usd = rates
        .to_usd(&one, on)
        .map_err(|e| StoreError::invalid("currency", e.to_string()))?;
    let budget = if lines.iter().all(|(_, _, m, _)| m.currency == currency) {
        lines.iter().map(|(_, _, m, _)| m.amount).sum()
    } else {
        (budget_usd / unit_usd).round_dp(4)
    };
    Ok(Checked {
        title: title.to_owned(),
        summary: input.summary.trim().to_owned(),
        thematic_area: input.thematic_area.clone(),
        unit,
        region,
        primary_country,
        countries,
        admin_areas: clean_list(&input.admin_areas),
        start,
        end,
        currency,
        lines,
        budget,
        budget_usd,
        donors: clean_list(&input.donors),
        partners: clean_list(&input.partners),
        restricted: input.restricted,
    })
}

async fn write_children(tx: &mut Tx, id: &str, c: &Checked) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM project_budget_lines WHERE project_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    sqlx::query("DELETE FROM project_donors WHERE project_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    for (i, (category, description, money, usd)) in c.lines.iter().enumerate() {
        sqlx::query(
            "INSERT INTO project_budget_lines (id, project_id, position, category, description, currency, \
             amount_e4, amount_usd_e4) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(new_id())
        .bind(id)
        .bind(i as i64)
        .bind(category)
        .bind(description)
        .bind(money.currency.to_string())
        .bind(e4(money.amount, "budget_lines")?)
        .bind(e4_rounded(*usd)?)
        .execute(&mut **tx)
        .await?;
    }
    for donor in &c.donors {
        sqlx::query("INSERT INTO project_donors (project_id, donor) VALUES ($1, $2)")
            .bind(id)
            .bind(donor)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

fn json(list: &[String]) -> String {
    serde_json::to_string(list).expect("strings serialize")
}

/// What the audit trail shows of a project's content.
pub(crate) fn audit_view(p: &Project) -> serde_json::Value {
    serde_json::json!({
        "code": p.code, "title": p.title, "summary": p.summary, "thematic_area": p.thematic_area,
        "unit": p.unit, "primary_country": p.primary_country, "countries": p.countries,
        "admin_areas": p.admin_areas, "start_date": p.start_date, "end_date": p.end_date,
        "currency": p.currency, "budget": p.budget, "budget_usd": p.budget_usd,
        "budget_lines": p.budget_lines, "donors": p.donors, "partners": p.partners,
        "restricted": p.restricted, "status": p.status, "version": p.version,
    })
}

impl Store {
    pub async fn create_project(
        &self,
        org: &Organization,
        actor: &Actor,
        input: &ProjectInput,
    ) -> Result<Project, StoreError> {
        let unit =
            UnitCode::parse(input.unit.trim()).map_err(|m| StoreError::invalid("unit", m))?;
        if org.unit(unit.as_str()).is_none() {
            return Err(StoreError::invalid(
                "unit",
                format!("unknown unit code {unit}"),
            ));
        }
        authorize(org, actor, Action::DraftProject, &unit)?;
        let rates = self.rate_table().await?;
        let c = check(org, &rates, input)?;
        let Some(drafter) = actor.user_id() else {
            return Err(StoreError::invalid(
                "actor",
                "projects are drafted by a person, not the operator",
            ));
        };
        let mut tx = self.begin().await?;
        let year = i64::from(c.start.year());
        let seq: i64 = sqlx::query(
            "INSERT INTO project_sequences (unit_code, year, last_value) VALUES ($1, $2, 1) \
             ON CONFLICT (unit_code, year) DO UPDATE SET last_value = project_sequences.last_value + 1 \
             RETURNING last_value",
        )
        .bind(c.unit.as_str())
        .bind(year)
        .fetch_one(&mut *tx)
        .await?
        .try_get("last_value")?;
        let code = format!("{}-{year}-{seq:04}", c.unit);
        let id = new_id();
        let now = now_text();
        sqlx::query(
            "INSERT INTO projects (id, code, title, summary, thematic_area, unit_code, region_code, \
             primary_country, countries, admin_areas, start_date, end_date, start_year, currency, \
             budget_e4, budget_usd_e4, donors, partners, restricted, status, drafted_by, submitted_by, \
             created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, \
             $13, $14, $15, $16, $17, $18, $19, 'draft', $20, NULL, $21, $21, 1)",
        )
        .bind(&id)
        .bind(&code)
        .bind(&c.title)
        .bind(&c.summary)
        .bind(&c.thematic_area)
        .bind(c.unit.as_str())
        .bind(c.region.as_str())
        .bind(c.primary_country.as_str())
        .bind(json(&c.countries))
        .bind(json(&c.admin_areas))
        .bind(c.start.to_string())
        .bind(c.end.to_string())
        .bind(year)
        .bind(c.currency.to_string())
        .bind(e4_rounded(c.budget)?)
        .bind(e4_rounded(c.budget_usd)?)
        .bind(json(&c.donors))
        .bind(json(&c.partners))
        .bind(flag(c.restricted))
        .bind(drafter)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        write_children(&mut tx, &id, &c).await?;
        super::portfolio_keys::sync_project_keys(&mut tx, self.backend(), &id).await?;
        let project = self.project_in(&mut tx, &id).await?;
        record(
            &mut tx,
            actor,
            Change::new("project", "create", &id)
                .unit(&c.unit)
                .after(audit_view(&project)),
        )
        .await?;
        tx.commit().await?;
        Ok(project)
    }

    /// Replaces the editable content of a draft (or returned) project. `version` is the
    /// version the editor read; if someone saved since, the save is refused with what changed.
    pub async fn update_project(
        &self,
        org: &Organization,
        actor: &Actor,
        id: &str,
        input: &ProjectInput,
        version: i64,
    ) -> Result<Project, StoreError> {
        let before = self.project_unchecked(id).await?;
        let unit = unit_code(&before.unit)?;
        authorize(org, actor, Action::DraftProject, &unit)?;
        if input.unit.trim() != before.unit {
            return Err(StoreError::invalid(
                "unit",
                format!("a project stays with its office ({})", before.unit),
            ));
        }
        if before.version != version {
            return Err(self.stale(&before, version).await?);
        }
        if !before.status.is_editable() {
            return Err(StoreError::Conflict(format!(
                "only a draft or a project returned for revision can be edited; {} is {}",
                before.code, before.status
            )));
        }
        let rates = self.rate_table().await?;
        let c = check(org, &rates, input)?;
        let mut tx = self.begin().await?;
        let updated = sqlx::query(
            "UPDATE projects SET title = $3, summary = $4, thematic_area = $5, primary_country = $6, \
             countries = $7, admin_areas = $8, start_date = $9, end_date = $10, currency = $11, \
             budget_e4 = $12, budget_usd_e4 = $13, donors = $14, partners = $15, restricted = $16, \
             updated_at = $17, version = version + 1 WHERE id = $1 AND version = $2",
        )
        .bind(&before.id)
        .bind(version)
        .bind(&c.title)
        .bind(&c.summary)
        .bind(&c.thematic_area)
        .bind(c.primary_country.as_str())
        .bind(json(&c.countries))
        .bind(json(&c.admin_areas))
        .bind(c.start.to_string())
        .bind(c.end.to_string())
        .bind(c.currency.to_string())
        .bind(e4_rounded(c.budget)?)
        .bind(e4_rounded(c.budget_usd)?)
        .bind(json(&c.donors))
        .bind(json(&c.partners))
        .bind(flag(c.restricted))
        .bind(now_text())
        .execute(&mut *tx)
        .await?;
        if updated.rows_affected() == 0 {
            drop(tx);
            let current = self.project_unchecked(id).await?;
            return Err(self.stale(&current, version).await?);
        }
        write_children(&mut tx, &before.id, &c).await?;
        super::portfolio_keys::sync_project_keys(&mut tx, self.backend(), &before.id).await?;
        if c.start.to_string() != before.start_date || c.end.to_string() != before.end_date {
            crate::results::follow_project_dates(&mut tx, org, actor, &before.id).await?;
        }
        let after = self.project_in(&mut tx, &before.id).await?;
        record(
            &mut tx,
            actor,
            Change::new("project", "update", &before.id)
                .unit(&unit)
                .before(audit_view(&before))
                .after(audit_view(&after)),
        )
        .await?;
        tx.commit().await?;
        Ok(after)
    }

    /// The conflict for a save based on an old version: who changed what since.
    pub(crate) async fn stale(
        &self,
        current: &Project,
        read_version: i64,
    ) -> Result<StoreError, StoreError> {
        let events = self
            .audit_events(&crate::audit::AuditQuery {
                entity: Some("project".into()),
                entity_id: Some(current.id.clone()),
                limit: 50,
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
            "{} was changed since you read it (you have version {read_version}, it is now at version {}){}{}; reload and apply your change again",
            current.code,
            current.version,
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

    /// Reads a project inside a transaction (so a write sees its own changes).
    pub(crate) async fn project_in(&self, tx: &mut Tx, id: &str) -> Result<Project, StoreError> {
        let sql = format!(
            "SELECT {} FROM projects WHERE id = $1",
            super::PROJECT_COLUMNS
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_one(&mut **tx)
            .await?;
        let lines = super::budget_lines(&mut **tx, id).await?;
        super::project_from_row(&row, lines)
    }
}
