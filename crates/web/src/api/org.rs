//! The organization: units, focal-point search, countries and who covers them.

use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::state::{AppState, OrgSnapshot};
use axum::Json;
use axum::extract::{Path, Query, State};
use meridian_domain::org::{Iso3, OrgUnit, Organization, UnitKind};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitSummary {
    pub code: String,
    pub name: String,
    /// executive_office, department, division, unit, office, regional_office, country_office, special_office
    pub kind: String,
    pub parent: Option<String>,
    pub location: String,
    /// Named only in passing in the organization's description.
    pub referenced: bool,
    /// Country offices: their country (ISO 3166-1 alpha-3).
    pub country: Option<String>,
}

impl From<&OrgUnit> for UnitSummary {
    fn from(u: &OrgUnit) -> Self {
        Self {
            code: u.code.to_string(),
            name: u.name.clone(),
            kind: u.kind.as_str().to_owned(),
            parent: u.parent.as_ref().map(ToString::to_string),
            location: u.location.clone(),
            referenced: u.referenced,
            country: u.country.as_ref().map(ToString::to_string),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CountryRef {
    pub iso3: String,
    pub name: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ProcessRef {
    pub code: String,
    pub name: String,
    pub kind: String,
    /// IOM's role: member, partner, observer, secretariat, technical_secretariat, service_provider.
    pub role: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CoalitionRef {
    pub code: String,
    pub name: String,
    /// co-lead, co-chair or co-convener.
    pub role: String,
    pub with: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DataHubRef {
    pub code: String,
    pub name: String,
    pub summary: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UnitDetail {
    #[serde(flatten)]
    pub unit: UnitSummary,
    pub summary: String,
    pub functions: Vec<String>,
    /// From the root down to the parent.
    pub ancestors: Vec<UnitSummary>,
    pub children: Vec<UnitSummary>,
    pub countries_covered: Vec<CountryRef>,
    pub processes: Vec<ProcessRef>,
    pub coalitions: Vec<CoalitionRef>,
    pub data_hubs: Vec<DataHubRef>,
    pub special_offices: Vec<UnitSummary>,
}

pub fn unit_detail(snap: &OrgSnapshot, unit: &OrgUnit) -> UnitDetail {
    let org = &snap.org;
    let mut ancestors: Vec<UnitSummary> =
        org.ancestors(&unit.code).skip(1).map(Into::into).collect();
    ancestors.reverse();
    UnitDetail {
        unit: unit.into(),
        summary: unit.summary.clone(),
        functions: unit.functions.clone(),
        ancestors,
        children: org.children(&unit.code).map(Into::into).collect(),
        countries_covered: unit
            .covers
            .iter()
            .map(|iso3| CountryRef {
                iso3: iso3.to_string(),
                name: snap
                    .countries
                    .get(iso3)
                    .map_or_else(|| iso3.to_string(), |c| c.name_en.clone()),
            })
            .collect(),
        processes: org
            .processes_of(&unit.code)
            .map(|(p, role)| ProcessRef {
                code: p.code.clone(),
                name: p.name.clone(),
                kind: p.kind.as_str().to_owned(),
                role: role.as_str().to_owned(),
            })
            .collect(),
        coalitions: org
            .coalitions_of(&unit.code)
            .map(|c| CoalitionRef {
                code: c.code.clone(),
                name: c.name.clone(),
                role: c.role.as_str().to_owned(),
                with: c.with.clone(),
            })
            .collect(),
        data_hubs: org
            .data_hubs_of(&unit.code)
            .map(|h| DataHubRef {
                code: h.code.clone(),
                name: h.name.clone(),
                summary: h.summary.clone(),
            })
            .collect(),
        special_offices: org.special_offices_of(&unit.code).map(Into::into).collect(),
    }
}

pub fn find_unit<'a>(org: &'a Organization, code: &str) -> AppResult<&'a OrgUnit> {
    org.unit(code)
        .ok_or_else(|| AppError::NotFound(format!("there is no unit with the code {code:?}")))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UnitFilter {
    /// Only units of this kind.
    pub kind: Option<String>,
    /// Only the children of this unit (by code).
    pub parent: Option<String>,
}

/// The organization's units, in tree order.
#[utoipa::path(get, path = "/api/v1/org-units", tag = "organization", params(UnitFilter),
    responses((status = 200, body = [UnitSummary]), (status = 401, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn list_units(
    State(state): State<AppState>,
    _caller: Caller,
    Query(filter): Query<UnitFilter>,
) -> AppResult<Json<Vec<UnitSummary>>> {
    let snap = state.org();
    let kind = match &filter.kind {
        Some(k) => Some(UnitKind::parse(k).ok_or_else(|| {
            AppError::invalid(
                "kind",
                format!(
                    "unknown kind {k:?}; expected one of {}",
                    UnitKind::ALL.map(UnitKind::as_str).join(", ")
                ),
            )
        })?),
        None => None,
    };
    if let Some(parent) = &filter.parent {
        find_unit(&snap.org, parent)?;
    }
    let units = snap
        .org
        .units_in_scope(&meridian_domain::org::Scope::Global)
        .into_iter()
        .filter_map(|code| snap.org.unit(code.as_str()))
        .filter(|u| kind.is_none_or(|k| u.kind == k))
        .filter(|u| {
            filter
                .parent
                .as_deref()
                .is_none_or(|p| u.parent.as_ref().is_some_and(|up| up.as_str() == p))
        })
        .map(Into::into)
        .collect();
    Ok(Json(units))
}

/// One unit with its functions, coverage, processes, coalitions and data hubs.
#[utoipa::path(get, path = "/api/v1/org-units/{code}", tag = "organization",
    params(("code" = String, Path, description = "Unit code, e.g. RO-BKK")),
    responses((status = 200, body = UnitDetail), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_unit(
    State(state): State<AppState>,
    _caller: Caller,
    Path(code): Path<String>,
) -> AppResult<Json<UnitDetail>> {
    let snap = state.org();
    let unit = find_unit(&snap.org, &code)?;
    Ok(Json(unit_detail(&snap, unit)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// What you are looking for, e.g. "risk appetite".
    pub q: String,
    /// At most this many results (default 10, at most 50).
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FocalPointHit {
    pub code: String,
    pub name: String,
    pub kind: String,
    pub score: f64,
    /// The unit's functions that match the query, best first.
    pub matched_functions: Vec<String>,
}

/// "Who is the focal point for X?": units ranked by how well their functions match.
#[utoipa::path(get, path = "/api/v1/org-units/search", tag = "organization", params(SearchQuery),
    responses((status = 200, body = [FocalPointHit]), (status = 422, body = crate::error::ErrorBody)))]
pub async fn search_units(
    State(state): State<AppState>,
    _caller: Caller,
    Query(query): Query<SearchQuery>,
) -> AppResult<Json<Vec<FocalPointHit>>> {
    if query.q.trim().is_empty() {
        return Err(AppError::invalid(
            "q",
            "say what you are looking for, e.g. q=risk appetite",
        ));
    }
    Ok(Json(focal_points(
        &state.org(),
        &query.q,
        query.limit.unwrap_or(10).min(50),
    )))
}

pub fn focal_points(snap: &OrgSnapshot, q: &str, limit: usize) -> Vec<FocalPointHit> {
    snap.index
        .search(q, limit)
        .into_iter()
        .map(|hit| FocalPointHit {
            kind: snap
                .org
                .unit(hit.code.as_str())
                .map_or("", |u| u.kind.as_str())
                .to_owned(),
            code: hit.code.to_string(),
            name: hit.name,
            score: (hit.score * 1000.0).round() / 1000.0,
            matched_functions: hit.matched_functions,
        })
        .collect()
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CountryDetail {
    pub iso3: String,
    pub iso2: String,
    pub name: String,
    pub name_fr: String,
    pub name_es: String,
    pub region: String,
    pub subregion: String,
    pub un_member: bool,
    /// The regional office covering the country: it reviews and endorses the country's projects.
    pub regional_office: Option<UnitSummary>,
    pub country_office: Option<UnitSummary>,
}

pub fn country_detail(snap: &OrgSnapshot, raw: &str) -> AppResult<CountryDetail> {
    let country = Iso3::parse(raw)
        .ok()
        .and_then(|iso3| snap.countries.get(&iso3))
        .ok_or_else(|| {
            AppError::NotFound(format!(
                "there is no country with the ISO 3166-1 alpha-3 code {raw:?}"
            ))
        })?;
    Ok(CountryDetail {
        iso3: country.iso3.to_string(),
        iso2: country.iso2.clone(),
        name: country.name_en.clone(),
        name_fr: country.name_fr.clone(),
        name_es: country.name_es.clone(),
        region: country.region.clone(),
        subregion: country.subregion.clone(),
        un_member: country.un_member,
        regional_office: snap.org.covering_office(&country.iso3).map(Into::into),
        country_office: snap.org.country_office(&country.iso3).map(Into::into),
    })
}

/// A country, the regional office that covers it, and its country office.
#[utoipa::path(get, path = "/api/v1/countries/{iso3}", tag = "organization",
    params(("iso3" = String, Path, description = "ISO 3166-1 alpha-3 code, e.g. KEN")),
    responses((status = 200, body = CountryDetail), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_country(
    State(state): State<AppState>,
    _caller: Caller,
    Path(iso3): Path<String>,
) -> AppResult<Json<CountryDetail>> {
    Ok(Json(country_detail(&state.org(), &iso3)?))
}

/// Loads the organization file again (the server's `--org-file`, or the built-in one).
/// Headquarters administrators only.
#[utoipa::path(post, path = "/api/v1/org-units/reload", tag = "organization",
    responses((status = 200, body = ReloadSummary), (status = 403, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn reload(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<ReloadSummary>> {
    let summary = state.reload_organization(&caller.actor()).await?;
    Ok(Json(summary))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReloadSummary {
    pub units_added: usize,
    pub units_updated: usize,
    pub units_retired: usize,
    pub countries_changed: usize,
    pub other_changes: usize,
}
