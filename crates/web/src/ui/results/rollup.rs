//! The Strategic Results Framework with the roll-up of approved project values for a scope
//! (the reader's whole scope, a region, a unit) and a window; RBM officers edit it here.

use super::{Tab, label, shell, show_opt, tabs};
use crate::api::results::rollup_scope;
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::state::AppState;
use crate::ui::{Fields, Shell, can, render, urlencode};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use meridian_domain::authz::Action;
use meridian_domain::org::UnitKind;
use meridian_domain::results::model::AggregationType;
use meridian_store::results::{RollupQuery, RollupRow, SrfIndicatorInput, SrfNodeInput};
use serde::Deserialize;

#[derive(Debug, Default, Deserialize)]
pub struct Params {
    pub scope: Option<String>,
    pub code: Option<String>,
    pub window: Option<String>,
    pub disaggregation: Option<String>,
}

pub struct IndicatorRow {
    code: String,
    title: String,
    version: i64,
    aggregation: &'static str,
    aggregation_label: &'static str,
    direction: &'static str,
    unit: String,
    measure_label: &'static str,
    contributors: i64,
    actual: String,
    target: String,
    baseline: String,
    achievement: Option<String>,
    /// The achievement as a bar, in percent of its track (0–100).
    bar: String,
}

pub struct NodeRow {
    code: String,
    title: String,
    level: String,
    depth: usize,
    version: i64,
    indicators: Vec<IndicatorRow>,
}

#[derive(Template)]
#[template(path = "results/rollup.html")]
struct RollupPage {
    shell: Shell,
    tabs: Vec<Tab>,
    nodes: Vec<NodeRow>,
    scope: String,
    code: String,
    window: String,
    disaggregation: String,
    scopes: Vec<(&'static str, &'static str)>,
    units: Vec<(String, String)>,
    disaggregations: Vec<(String, String)>,
    aggregations: Vec<(&'static str, &'static str)>,
    can_manage: bool,
    error: Option<String>,
}

fn row(t: Tr, r: &RollupRow, version: i64) -> IndicatorRow {
    let bar = r
        .achievement
        .map(|a| {
            a.clamp(
                rust_decimal::Decimal::ZERO,
                rust_decimal::Decimal::ONE_HUNDRED,
            )
        })
        .unwrap_or_default();
    IndicatorRow {
        code: r.srf_indicator.clone(),
        title: r.title.clone(),
        version,
        aggregation: r.aggregation.as_str(),
        aggregation_label: label(t, "aggregation", r.aggregation.as_str()),
        direction: r.direction.as_str(),
        unit: r.unit.clone(),
        measure_label: label(t, "measure", r.measure.as_str()),
        contributors: r.contributors,
        actual: show_opt(r.actual.as_ref()),
        target: show_opt(r.target.as_ref()),
        baseline: show_opt(r.baseline.as_ref()),
        achievement: r.achievement.map(|a| format!("{} %", a.normalize())),
        bar: bar.round_dp(1).to_string(),
    }
}

async fn page(
    state: &AppState,
    caller: &Caller,
    t: Tr,
    uri: &Uri,
    p: Params,
    error: Option<&AppError>,
) -> AppResult<Response> {
    let snap = state.org();
    let scope_name = p.scope.clone().unwrap_or_else(|| "global".into());
    let window = p
        .window
        .clone()
        .filter(|w| !w.trim().is_empty())
        .unwrap_or_else(|| "all".into());
    let disaggregation = p.disaggregation.clone().unwrap_or_default();
    let scope = rollup_scope(Some(&scope_name), p.code.as_deref())?;
    let rows = state
        .store
        .results_rollup(
            &snap.org,
            &caller.actor(),
            &scope,
            &RollupQuery {
                window: window.clone(),
                disaggregation: disaggregation.clone(),
            },
        )
        .await?;
    let tree = state.store.srf_tree().await?;
    let mut nodes = Vec::new();
    for n in &tree.nodes {
        let mut depth = 0;
        let mut parent = n.parent.as_deref();
        while let Some(code) = parent {
            depth += 1;
            parent = tree
                .nodes
                .iter()
                .find(|x| x.code == code)
                .and_then(|x| x.parent.as_deref());
        }
        nodes.push(NodeRow {
            code: n.code.clone(),
            title: n.title.clone(),
            level: n.level.clone(),
            depth: depth.min(4),
            version: n.version,
            indicators: tree
                .indicators_of(&n.code)
                .filter_map(|i| {
                    rows.iter()
                        .find(|r| r.srf_indicator == i.code)
                        .map(|r| row(t, r, i.version))
                })
                .collect(),
        });
    }
    let actor_scope = caller.actor().scope(&snap.org);
    let units = snap
        .org
        .units_in_scope(&actor_scope)
        .into_iter()
        .filter_map(|c| snap.org.unit(c.as_str()))
        .filter(|u| matches!(u.kind, UnitKind::RegionalOffice | UnitKind::CountryOffice))
        .map(|u| (u.code.to_string(), format!("{} · {}", u.code, u.name)))
        .collect();
    use meridian_domain::results::combination::{DisaggregationKey, combinations};
    use meridian_domain::results::model::{Disaggregation, DisaggregationCategory};
    let mut disaggregations = vec![(String::new(), t.get("results.total").to_owned())];
    for c in DisaggregationCategory::BUILTIN {
        for o in c.default_options() {
            disaggregations.push((
                format!("{}={}", c.as_str(), o.code),
                format!("{}: {}", label(t, "category", c.as_str()), o.label),
            ));
        }
    }
    // Sex × age group, the combination most indicators report (others by URL).
    let sex_age = [
        Disaggregation::default_for(DisaggregationCategory::Sex),
        Disaggregation::default_for(DisaggregationCategory::AgeGroup),
    ];
    for k in combinations(&sex_age) {
        let name = sex_age
            .iter()
            .filter_map(|d| {
                let o = k.option_of(d.category.as_str())?;
                let o = d.options.iter().find(|x| x.code == o)?;
                Some(format!(
                    "{}: {}",
                    label(t, "category", d.category.as_str()),
                    o.label
                ))
            })
            .collect::<Vec<_>>()
            .join(" · ");
        disaggregations.push((k.to_string(), name));
    }
    // The key asked for, canonical, so that the list shows it selected.
    let disaggregation =
        DisaggregationKey::parse(&disaggregation).map_or(disaggregation, |k| k.to_string());
    if !disaggregations.iter().any(|(k, _)| *k == disaggregation) {
        disaggregations.push((disaggregation.clone(), disaggregation.clone()));
    }
    let root = snap.org.root().code.to_string();
    let page = RollupPage {
        shell: shell(t, caller, uri),
        tabs: tabs(t, "/results"),
        nodes,
        scope: scope_name,
        code: p.code.clone().unwrap_or_default(),
        window,
        disaggregation,
        scopes: ["global", "region", "unit"]
            .into_iter()
            .map(|s| (s, label(t, "scope", s)))
            .collect(),
        units,
        disaggregations,
        aggregations: AggregationType::ALL
            .iter()
            .map(|a| (a.as_str(), label(t, "aggregation", a.as_str())))
            .collect(),
        can_manage: can(state, caller, Action::ManageStrategicFramework, &root),
        error: error.map(|e| e.to_string()),
    };
    let mut response = render(&page)?;
    if let Some(e) = error {
        *response.status_mut() = e.status();
    }
    Ok(response)
}

pub async fn rollup(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Query(p): Query<Params>,
) -> AppResult<Response> {
    page(&state, &caller, t, &uri, p, None).await
}

async fn after_edit<T>(
    result: Result<T, AppError>,
    (state, caller, t, uri): (&AppState, &Caller, Tr, &Uri),
    anchor: &str,
) -> AppResult<Response> {
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/results#{}", urlencode(anchor))).into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict(_) | AppError::Forbidden(_))) => {
            page(state, caller, t, uri, Params::default(), Some(&e)).await
        }
        Err(e) => Err(e),
    }
}

pub async fn update_srf_node(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(code): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let f = Fields::parse(&body);
    let result = state
        .store
        .update_srf_node(
            &state.org().org,
            &caller.actor(),
            &code,
            &SrfNodeInput {
                title: f.get("title"),
                version: f.get("version").parse().unwrap_or_default(),
            },
        )
        .await
        .map_err(AppError::from);
    after_edit(result, (&state, &caller, t, &uri), &format!("srf-{code}")).await
}

pub async fn update_srf_indicator(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(code): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let f = Fields::parse(&body);
    let result = state
        .store
        .update_srf_indicator(
            &state.org().org,
            &caller.actor(),
            &code,
            &SrfIndicatorInput {
                title: f.get("title"),
                aggregation: f.get("aggregation"),
                direction: f.get("direction"),
                unit: f.get("unit"),
                version: f.get("version").parse().unwrap_or_default(),
            },
        )
        .await
        .map_err(AppError::from);
    after_edit(result, (&state, &caller, t, &uri), &format!("srf-{code}")).await
}
