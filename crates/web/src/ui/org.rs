//! Pages of the organization: home, the tree, a unit, focal-point search, countries.

use super::{EventRow, Shell, can, is_htmx, kind_key, render};
use crate::api::audit::AuditFilter;
use crate::api::org::{
    CountryDetail, FocalPointHit, UnitDetail, country_detail, find_unit, focal_points, unit_detail,
};
use crate::auth::Caller;
use crate::error::AppResult;
use crate::i18n::Tr;
use crate::state::AppState;
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;
use meridian_domain::authz::Action;
use meridian_domain::org::{Organization, UnitCode, UnitKind};
use serde::Deserialize;

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    shell: Shell,
    unit_count: usize,
    office_count: usize,
}

pub async fn home(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
) -> AppResult<Response> {
    let snap = state.org();
    render(&HomePage {
        shell: Shell::new(t, Some(&caller), "home", &uri),
        unit_count: snap.org.units().len(),
        office_count: snap.org.regional_offices().count(),
    })
}

pub struct TreeUnit {
    code: String,
    name: String,
    kind_key: &'static str,
    referenced: bool,
    depth: usize,
    children: usize,
}

pub enum TreeItem {
    Open(TreeUnit),
    Leaf(TreeUnit),
    Close,
}

/// The tree as a flat sequence of open/leaf/close items, so the template needs no recursion.
fn tree_items(org: &Organization) -> Vec<TreeItem> {
    fn walk(org: &Organization, code: &UnitCode, depth: usize, out: &mut Vec<TreeItem>) {
        let Some(unit) = org.unit(code.as_str()) else {
            return;
        };
        let children: Vec<&UnitCode> = org.children(code).map(|c| &c.code).collect();
        let item = TreeUnit {
            code: unit.code.to_string(),
            name: unit.name.clone(),
            kind_key: kind_key(unit.kind.as_str()),
            referenced: unit.referenced,
            depth,
            children: children.len(),
        };
        if children.is_empty() {
            out.push(TreeItem::Leaf(item));
        } else {
            out.push(TreeItem::Open(item));
            for child in children {
                walk(org, child, depth + 1, out);
            }
            out.push(TreeItem::Close);
        }
    }
    let mut out = Vec::with_capacity(org.units().len() + 40);
    walk(org, &org.root().code, 0, &mut out);
    out
}

#[derive(Template)]
#[template(path = "org/tree.html")]
struct TreePage {
    shell: Shell,
    items: Vec<TreeItem>,
}

pub async fn tree(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
) -> AppResult<Response> {
    let snap = state.org();
    render(&TreePage {
        shell: Shell::new(t, Some(&caller), "org", &uri),
        items: tree_items(&snap.org),
    })
}

#[derive(Template)]
#[template(path = "org/unit.html")]
struct UnitPage {
    shell: Shell,
    unit: UnitDetail,
    kind_key: &'static str,
    other_children: Vec<crate::api::org::UnitSummary>,
    can_administer: bool,
    events: Vec<EventRow>,
}

pub async fn unit(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(code): Path<String>,
) -> AppResult<Response> {
    let snap = state.org();
    let unit = find_unit(&snap.org, &code)?;
    let mut detail = unit_detail(&snap, unit);
    let other_children = std::mem::take(&mut detail.children)
        .into_iter()
        .filter(|c| c.kind != UnitKind::SpecialOffice.as_str())
        .collect();
    let events = crate::api::audit::search(
        &state,
        &caller,
        &AuditFilter {
            entity: Some("org_unit".into()),
            id: Some(unit.code.to_string()),
            limit: Some(20),
            ..Default::default()
        },
    )
    .await?;
    render(&UnitPage {
        kind_key: kind_key(unit.kind.as_str()),
        can_administer: can(&state, &caller, Action::ViewUsers, unit.code.as_str()),
        shell: Shell::new(t, Some(&caller), "org", &uri),
        unit: detail,
        other_children,
        events: events.into_iter().map(Into::into).collect(),
    })
}

#[derive(Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
}

#[derive(Template)]
#[template(path = "org/search.html")]
struct SearchPage {
    shell: Shell,
    q: String,
    hits: Vec<FocalPointHit>,
}

#[derive(Template)]
#[template(path = "org/search_results.html")]
struct SearchResults {
    shell: Shell,
    q: String,
    hits: Vec<FocalPointHit>,
}

pub async fn search(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    headers: HeaderMap,
    caller: Caller,
    Query(params): Query<SearchParams>,
) -> AppResult<Response> {
    let q = params.q.trim().to_owned();
    let hits = if q.is_empty() {
        Vec::new()
    } else {
        focal_points(&state.org(), &q, 10)
    };
    let shell = Shell::new(t, Some(&caller), "org", &uri);
    if is_htmx(&headers) {
        render(&SearchResults { shell, q, hits })
    } else {
        render(&SearchPage { shell, q, hits })
    }
}

pub struct CountryRow {
    iso3: String,
    name: String,
    regional_office: Option<(String, String)>,
    country_office: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "org/countries.html")]
struct CountriesPage {
    shell: Shell,
    q: String,
    rows: Vec<CountryRow>,
}

pub async fn countries(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Query(params): Query<SearchParams>,
) -> AppResult<Response> {
    let snap = state.org();
    let q = params.q.trim().to_lowercase();
    let lang = t.code();
    let mut rows: Vec<CountryRow> = snap
        .countries
        .iter()
        .filter(|c| {
            q.is_empty()
                || c.iso3.as_str().eq_ignore_ascii_case(&q)
                || c.name(lang).to_lowercase().contains(&q)
                || c.name_en.to_lowercase().contains(&q)
        })
        .map(|c| CountryRow {
            iso3: c.iso3.to_string(),
            name: c.name(lang).to_owned(),
            regional_office: snap
                .org
                .covering_office(&c.iso3)
                .map(|u| (u.code.to_string(), u.name.clone())),
            country_office: snap
                .org
                .country_office(&c.iso3)
                .map(|u| (u.code.to_string(), u.name.clone())),
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    render(&CountriesPage {
        shell: Shell::new(t, Some(&caller), "org", &uri),
        q: params.q,
        rows,
    })
}

#[derive(Template)]
#[template(path = "org/country.html")]
struct CountryPage {
    shell: Shell,
    name: String,
    country: CountryDetail,
}

pub async fn country(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(iso3): Path<String>,
) -> AppResult<Response> {
    let country = country_detail(&state.org(), &iso3)?;
    let name = match t.code() {
        "fr" => country.name_fr.clone(),
        "es" => country.name_es.clone(),
        _ => country.name.clone(),
    };
    render(&CountryPage {
        shell: Shell::new(t, Some(&caller), "org", &uri),
        name,
        country,
    })
}
