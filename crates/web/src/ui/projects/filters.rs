//! The portfolio's filter form, shared by the portfolio and its analytics, and the choices it
//! offers (regions, statuses, themes, offices, countries).

use super::label;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::state::OrgSnapshot;
use meridian_domain::org::{Iso3, UnitKind};
use meridian_domain::projects::THEMATIC_AREAS;
use meridian_domain::projects::lifecycle::Status;
use meridian_store::projects::{PortfolioQuery, SortKey};
use rust_decimal::Decimal;
use serde::Deserialize;
use std::str::FromStr;

/// Projects per page of the portfolio.
pub const PER_PAGE: u32 = 50;

/// The filter form as typed: every field is text, so an empty box means "any".
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct Filters {
    pub region: String,
    pub country: String,
    pub unit: String,
    pub status: String,
    pub theme: String,
    pub donor: String,
    pub year: String,
    pub min_usd: String,
    pub max_usd: String,
    pub q: String,
    pub sort: String,
    pub descending: String,
    pub page: String,
}

impl Filters {
    /// The store's query, or the first field that cannot be read.
    pub fn query(&self) -> AppResult<PortfolioQuery> {
        let some = |s: &str| (!s.trim().is_empty()).then(|| s.trim().to_owned());
        let amount = |field: &str, raw: &str| -> AppResult<Option<Decimal>> {
            some(raw)
                .map(|v| {
                    Decimal::from_str(&v.replace(',', "")).map_err(|_| {
                        AppError::invalid(
                            field,
                            format!("expected an amount like 250000, found {v:?}"),
                        )
                    })
                })
                .transpose()
        };
        let status = some(&self.status)
            .map(|s| Status::parse(&s).map_err(|m| AppError::invalid("status", m)))
            .transpose()?;
        let year = some(&self.year)
            .map(|y| {
                y.parse::<i64>().map_err(|_| {
                    AppError::invalid("year", format!("expected a year like 2026, found {y:?}"))
                })
            })
            .transpose()?;
        let (sort, descending) = match some(&self.sort) {
            None => (SortKey::Updated, true),
            Some(s) => (
                serde_json::from_value(serde_json::Value::String(s.clone())).map_err(|_| {
                    AppError::invalid(
                        "sort",
                        format!(
                            "expected updated, code, title, budget, start or status, found {s:?}"
                        ),
                    )
                })?,
                self.descending == "true",
            ),
        };
        Ok(PortfolioQuery {
            region: some(&self.region),
            country: some(&self.country),
            unit: some(&self.unit),
            status,
            theme: some(&self.theme),
            donor: some(&self.donor),
            year,
            min_usd: amount("min_usd", &self.min_usd)?,
            max_usd: amount("max_usd", &self.max_usd)?,
            q: some(&self.q),
            sort,
            descending,
            page: Some(self.page.trim().parse().unwrap_or(1).max(1)),
            per_page: Some(PER_PAGE),
        })
    }

    /// The filters as a query string without empty fields, with another sort or page.
    pub fn query_string(&self, sort: Option<(&str, bool)>, page: Option<u32>) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (k, v) in [
            ("region", &self.region),
            ("country", &self.country),
            ("unit", &self.unit),
            ("status", &self.status),
            ("theme", &self.theme),
            ("donor", &self.donor),
            ("year", &self.year),
            ("min_usd", &self.min_usd),
            ("max_usd", &self.max_usd),
            ("q", &self.q),
        ] {
            if !v.trim().is_empty() {
                out.append_pair(k, v.trim());
            }
        }
        let (sort, descending) = match sort {
            Some((s, d)) => (s.to_owned(), d),
            None => (self.sort.trim().to_owned(), self.descending == "true"),
        };
        if !sort.is_empty() {
            out.append_pair("sort", &sort);
            if descending {
                out.append_pair("descending", "true");
            }
        }
        if let Some(p) = page.filter(|p| *p > 1) {
            out.append_pair("page", &p.to_string());
        }
        out.finish()
    }
}

/// What the filter form offers.
pub struct FilterOptions {
    pub regions: Vec<(String, String)>,
    pub statuses: Vec<(&'static str, &'static str)>,
    pub themes: Vec<(&'static str, &'static str)>,
    pub offices: Vec<(String, String)>,
    pub countries: Vec<(String, String)>,
}

impl FilterOptions {
    pub fn new(snap: &OrgSnapshot, caller: &Caller, t: Tr) -> Self {
        Self {
            regions: snap
                .org
                .regional_offices()
                .map(|u| (u.code.to_string(), u.name.clone()))
                .collect(),
            statuses: status_options(t),
            themes: theme_options(t),
            offices: office_options(snap, caller),
            countries: country_options(snap, t),
        }
    }
}

pub fn status_options(t: Tr) -> Vec<(&'static str, &'static str)> {
    Status::ALL
        .iter()
        .map(|s| (s.as_str(), label(t, "status", s.as_str())))
        .collect()
}

pub fn theme_options(t: Tr) -> Vec<(&'static str, &'static str)> {
    THEMATIC_AREAS
        .iter()
        .map(|s| (*s, label(t, "theme", s)))
        .collect()
}

/// Offices that own projects (country, regional and special offices) in the caller's scope.
pub fn office_options(snap: &OrgSnapshot, caller: &Caller) -> Vec<(String, String)> {
    let scope = caller.actor().scope(&snap.org);
    snap.org
        .units_in_scope(&scope)
        .into_iter()
        .filter_map(|c| snap.org.unit(c.as_str()))
        .filter(|u| {
            matches!(
                u.kind,
                UnitKind::CountryOffice | UnitKind::RegionalOffice | UnitKind::SpecialOffice
            )
        })
        .map(|u| (u.code.to_string(), u.name.clone()))
        .collect()
}

/// Countries an office covers, by name in the reader's language.
pub fn country_options(snap: &OrgSnapshot, t: Tr) -> Vec<(String, String)> {
    let mut list: Vec<(String, String)> = snap
        .countries
        .iter()
        .filter(|c| snap.org.covering_office(&c.iso3).is_some())
        .map(|c| (c.iso3.to_string(), c.name(t.code()).to_owned()))
        .collect();
    list.sort_by(|a, b| a.1.cmp(&b.1));
    list
}

pub fn country_name(snap: &OrgSnapshot, t: Tr, iso3: &str) -> String {
    Iso3::parse(iso3)
        .ok()
        .and_then(|c| snap.countries.get(&c))
        .map_or_else(|| iso3.to_owned(), |c| c.name(t.code()).to_owned())
}
