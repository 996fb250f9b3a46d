//! A project's results matrix: results and indicators with targets against actuals per period,
//! the forms to build the matrix, to enter and submit values, and to approve, return and lock.

use super::chart::{Point, target_vs_actual};
use super::{label, shell, show, show_opt};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::state::AppState;
use crate::ui::{Fields, Shell, can, render};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use meridian_domain::authz::Action;
use meridian_domain::results::combination::{DisaggregationKey, combinations, derive};
use meridian_domain::results::model::{
    AggregationType, Direction, DisaggregationCategory, Frequency, Measure, Quantity, ResultLevel,
    ValueStatus, parse_quantity,
};
use meridian_store::StoreError;
use meridian_store::results::{
    BulkApproval, CategoryInput, IndicatorInput, IndicatorView, OptionInput, ReportInput,
    ReportTransitionInput, ResultInput, ResultsFramework, TargetInput, ValueInput,
};

pub struct Head {
    code: String,
    title: String,
    start: String,
    end: String,
}

pub struct PeriodRow {
    start: String,
    label: String,
    locked: bool,
    locked_by: String,
    submitted: usize,
}

pub struct ValueField {
    key: String,
    label: String,
    value: String,
}

/// One row of a combination table: an option of the indicator's first category, with a field
/// per combination of the other categories' options.
pub struct ComboRow {
    label: String,
    cells: Vec<ValueField>,
    /// The row's figure worked out from its cells (empty unless every cell is filled and the
    /// other categories cover everyone).
    sum: String,
}

/// The entry table of an indicator with several categories: rows are the options of its first
/// category, columns the combinations of the others' options.
pub struct ComboTable {
    /// `Sex × Age group`.
    caption: String,
    /// The first category (the rows' header).
    corner: String,
    columns: Vec<String>,
    rows: Vec<ComboRow>,
    /// Each column's figure worked out from its cells, when the first category covers
    /// everyone; all empty when nothing can be worked out.
    column_sums: Vec<String>,
    /// Whether any row or column figure was worked out (the table then shows them).
    has_sums: bool,
    /// The period was reported per single option: that list is shown open.
    marginals_reported: bool,
}

pub struct Cell {
    start: String,
    label: String,
    locked: bool,
    target: String,
    actual: String,
    status: &'static str,
    status_label: &'static str,
    narrative: String,
    review_note: String,
    reviewed_by: String,
    version: i64,
    total: String,
    parts: Vec<ValueField>,
    combos: Option<ComboTable>,
    can_enter: bool,
    /// The targets of the period, for whoever may edit the matrix.
    can_target: bool,
    target_total: String,
    target_parts: Vec<ValueField>,
    target_combos: Option<ComboTable>,
    can_submit: bool,
    can_review: bool,
}

pub struct IndicatorBlock {
    id: String,
    version: i64,
    /// How many periods were reported (an indicator with reports cannot be deleted).
    reports: usize,
    title: String,
    measure: &'static str,
    measure_label: &'static str,
    unit: String,
    direction_label: &'static str,
    aggregation_label: &'static str,
    cumulative: bool,
    baseline: String,
    target: String,
    srf: String,
    means: String,
    categories: String,
    cells: Vec<Cell>,
    chart: String,
}

pub struct ResultBlock {
    id: String,
    version: i64,
    /// How many reports its indicators have (a result with reports cannot be deleted).
    reports: usize,
    level: &'static str,
    level_label: &'static str,
    title: String,
    links: Vec<String>,
    indicators: Vec<IndicatorBlock>,
}

#[derive(Template)]
#[template(path = "results/project.html")]
struct ProjectResultsPage {
    shell: Shell,
    p: Head,
    frequency: Option<&'static str>,
    frequencies: Vec<(&'static str, &'static str)>,
    periods: Vec<PeriodRow>,
    results: Vec<ResultBlock>,
    can_edit: bool,
    can_approve: bool,
    can_lock: bool,
    levels: Vec<(&'static str, &'static str)>,
    measures: Vec<(&'static str, &'static str)>,
    directions: Vec<(&'static str, &'static str)>,
    aggregations: Vec<(&'static str, &'static str)>,
    categories: Vec<(&'static str, &'static str)>,
    result_choices: Vec<(String, String)>,
    srf_nodes: Vec<(String, String)>,
    srf_indicators: Vec<(String, String)>,
    gcm: Vec<(u8, String)>,
    sdg: Vec<(String, String)>,
    error: Option<String>,
}

fn choices<T: Copy>(
    t: Tr,
    prefix: &str,
    all: &[T],
    code: fn(T) -> &'static str,
) -> Vec<(&'static str, &'static str)> {
    all.iter()
        .map(|v| (code(*v), label(t, prefix, code(*v))))
        .collect()
}

fn disaggregation_label(t: Tr, ind: &IndicatorView, key: &str) -> String {
    crate::api::results::key_label(t, ind, key)
}

fn category_label(t: Tr, c: &DisaggregationCategory) -> String {
    if DisaggregationCategory::BUILTIN.contains(c) {
        label(t, "category", c.as_str()).to_owned()
    } else {
        c.as_str().to_owned()
    }
}

/// The combination table of an indicator with two or more categories, filled with a report's
/// figures (`figure_of` gives the figure of a canonical key).
fn combo_table(
    t: Tr,
    ind: &IndicatorView,
    figure_of: &dyn Fn(&str) -> String,
    marginals_reported: bool,
) -> Option<ComboTable> {
    let (first, others) = ind.categories.split_first()?;
    if others.is_empty() || ind.combination_keys().is_empty() {
        return None;
    }
    let columns = combinations(others);
    let column_label = |k: &DisaggregationKey| {
        others
            .iter()
            .filter_map(|d| {
                let o = k.option_of(d.category.as_str())?;
                d.options
                    .iter()
                    .find(|x| x.code == o)
                    .map(|x| x.label.clone())
            })
            .collect::<Vec<_>>()
            .join(" · ")
    };
    let key_of = |c: &DisaggregationKey, option: &str| {
        DisaggregationKey::from_parts(
            c.parts()
                .iter()
                .cloned()
                .chain([(first.category.as_str().to_owned(), option.to_owned())]),
        )
        .expect("distinct categories")
        .to_string()
    };
    // The figures per row and column, summed from the cells filled (see `derive`).
    let filled: Vec<(DisaggregationKey, Quantity)> = ind
        .combination_keys()
        .iter()
        .filter_map(|k| {
            let q = parse_quantity(ind.measure, &figure_of(k)).ok()?;
            Some((DisaggregationKey::parse(k).ok()?, q))
        })
        .collect();
    let derived: Vec<(String, String)> = derive(&ind.categories, &filled)
        .into_iter()
        .map(|(k, q)| (k.to_string(), q.to_string()))
        .collect();
    let sum_of = |k: &str| {
        derived
            .iter()
            .find(|(d, _)| d == k)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let rows: Vec<ComboRow> = first
        .options
        .iter()
        .map(|o| ComboRow {
            label: o.label.clone(),
            cells: columns
                .iter()
                .map(|c| {
                    let key = key_of(c, &o.code);
                    ValueField {
                        label: disaggregation_label(t, ind, &key),
                        value: figure_of(&key),
                        key,
                    }
                })
                .collect(),
            sum: sum_of(&format!("{}={}", first.category.as_str(), o.code)),
        })
        .collect();
    let column_sums: Vec<String> = columns.iter().map(|c| sum_of(&c.to_string())).collect();
    let has_sums =
        rows.iter().any(|r| !r.sum.is_empty()) || column_sums.iter().any(|s| !s.is_empty());
    Some(ComboTable {
        caption: ind
            .categories
            .iter()
            .map(|c| category_label(t, &c.category))
            .collect::<Vec<_>>()
            .join(" × "),
        corner: category_label(t, &first.category),
        columns: columns.iter().map(column_label).collect(),
        rows,
        column_sums,
        has_sums,
        marginals_reported,
    })
}

fn indicator_block(
    t: Tr,
    f: &ResultsFramework,
    ind: &IndicatorView,
    may_report: bool,
    may_approve: bool,
    may_edit: bool,
    me: &str,
) -> IndicatorBlock {
    let keys = ind.disaggregation_keys();
    let mut cells = Vec::new();
    let mut points = Vec::new();
    for period in &f.periods {
        let report = ind.report(&period.start);
        let status = report.map(|r| r.status);
        let figure_of = |key: &str| {
            report
                .and_then(|r| r.values.iter().find(|v| v.disaggregation == key))
                .map(|v| v.figure.to_input())
                .unwrap_or_default()
        };
        let target_of = |key: &str| {
            ind.target_for(&period.start, key)
                .map(|f| f.to_input())
                .unwrap_or_default()
        };
        let editable = status.is_none_or(ValueStatus::is_editable) && !period.locked;
        let target = ind.target_for(&period.start, "");
        points.push(Point {
            label: period.label.clone(),
            target: target.and_then(|f| f.as_decimal()),
            actual: report.and_then(|r| r.total()).and_then(|f| f.as_decimal()),
        });
        cells.push(Cell {
            start: period.start.clone(),
            label: period.label.clone(),
            locked: period.locked,
            target: show_opt(target),
            actual: report
                .and_then(|r| r.total())
                .map(show)
                .unwrap_or_else(|| "—".into()),
            status: status.map_or("not_reported", ValueStatus::as_str),
            status_label: status.map_or(t.get("value_status.not_reported"), |s| {
                label(t, "value_status", s.as_str())
            }),
            narrative: report.map(|r| r.narrative.clone()).unwrap_or_default(),
            review_note: report.map(|r| r.review_note.clone()).unwrap_or_default(),
            reviewed_by: report
                .and_then(|r| r.reviewed_by.clone())
                .unwrap_or_default(),
            version: report.map_or(0, |r| r.version),
            total: figure_of(""),
            parts: keys
                .iter()
                .map(|k| ValueField {
                    key: k.clone(),
                    label: disaggregation_label(t, ind, k),
                    value: figure_of(k),
                })
                .collect(),
            combos: combo_table(
                t,
                ind,
                &figure_of,
                report.is_some_and(|r| {
                    r.values
                        .iter()
                        .any(|v| !v.disaggregation.is_empty() && !v.disaggregation.contains(';'))
                }),
            ),
            can_enter: may_report && editable,
            can_target: may_edit && ind.measure.is_quantitative(),
            target_total: target.map(|f| f.to_input()).unwrap_or_default(),
            target_parts: keys
                .iter()
                .map(|k| ValueField {
                    key: k.clone(),
                    label: disaggregation_label(t, ind, k),
                    value: target_of(k),
                })
                .collect(),
            target_combos: combo_table(
                t,
                ind,
                &target_of,
                ind.targets.iter().any(|x| {
                    x.period_start == period.start
                        && !x.disaggregation.is_empty()
                        && !x.disaggregation.contains(';')
                }),
            ),
            can_submit: may_report && status == Some(ValueStatus::Draft) && !period.locked,
            can_review: may_approve
                && !period.locked
                && matches!(status, Some(ValueStatus::Submitted | ValueStatus::Approved))
                && report.and_then(|r| r.submitted_by.as_deref()) != Some(me),
        });
    }
    IndicatorBlock {
        id: ind.id.clone(),
        version: ind.version,
        reports: ind.reports.len(),
        title: ind.title.clone(),
        measure: ind.measure.as_str(),
        measure_label: label(t, "measure", ind.measure.as_str()),
        unit: ind.unit.clone(),
        direction_label: label(t, "direction", ind.direction.as_str()),
        aggregation_label: label(t, "aggregation", ind.aggregation.as_str()),
        cumulative: ind.cumulative,
        baseline: match (&ind.baseline, ind.baseline_year) {
            (Some(b), Some(y)) => format!("{} ({y})", show(b)),
            (Some(b), None) => show(b),
            _ => "—".into(),
        },
        target: show_opt(ind.target.as_ref()),
        srf: ind.srf_indicator.clone().unwrap_or_default(),
        means: ind.means_of_verification.clone(),
        categories: ind
            .categories
            .iter()
            .map(|c| category_label(t, &c.category))
            .collect::<Vec<_>>()
            .join(", "),
        chart: if ind.measure == Measure::Qualitative || f.periods.is_empty() {
            String::new()
        } else {
            target_vs_actual(&ind.title, &points)
        },
        cells,
    }
}

async fn page(
    state: &AppState,
    caller: &Caller,
    t: Tr,
    uri: &Uri,
    id: &str,
    error: Option<&AppError>,
) -> AppResult<Response> {
    let snap = state.org();
    let actor = caller.actor();
    let f = state.store.results_framework(&snap.org, &actor, id).await?;
    let may = |action| can(state, caller, action, &f.unit);
    let (may_report, may_approve) = (may(Action::ReportResults), may(Action::ApproveResults));
    let may_edit = may(Action::EditResultsFramework);
    let me = actor.label();
    let results: Vec<ResultBlock> = f
        .results
        .iter()
        .map(|r| ResultBlock {
            id: r.id.clone(),
            version: r.version,
            reports: r.indicators.iter().map(|i| i.reports.len()).sum(),
            level: r.level.as_str(),
            level_label: label(t, "level", r.level.as_str()),
            title: r.title.clone(),
            links: r
                .srf_codes
                .iter()
                .map(|c| format!("SRF {c}"))
                .chain(r.gcm_objectives.iter().map(|g| format!("GCM {g}")))
                .chain(r.sdg_targets.iter().map(|s| format!("SDG {s}")))
                .collect(),
            indicators: r
                .indicators
                .iter()
                .map(|i| indicator_block(t, &f, i, may_report, may_approve, may_edit, &me))
                .collect(),
        })
        .collect();
    let periods = f
        .periods
        .iter()
        .map(|p| PeriodRow {
            start: p.start.clone(),
            label: p.label.clone(),
            locked: p.locked,
            locked_by: p.locked_by.clone().unwrap_or_default(),
            submitted: f
                .indicators()
                .filter(|i| {
                    i.report(&p.start)
                        .is_some_and(|r| r.status == ValueStatus::Submitted)
                })
                .count(),
        })
        .collect();
    let srf = state.store.srf_tree().await?;
    use meridian_domain::results::reference;
    let page = ProjectResultsPage {
        shell: shell(t, caller, uri),
        p: Head {
            code: f.project_code.clone(),
            title: f.project_title.clone(),
            start: f.start_date.clone(),
            end: f.end_date.clone(),
        },
        frequency: f.frequency.map(|fr| label(t, "frequency", fr.as_str())),
        frequencies: choices(t, "frequency", Frequency::ALL, Frequency::as_str),
        periods,
        can_edit: may(Action::EditResultsFramework),
        can_approve: may_approve,
        can_lock: may(Action::LockReportingPeriods),
        levels: choices(t, "level", ResultLevel::ALL, ResultLevel::as_str),
        measures: choices(t, "measure", Measure::ALL, Measure::as_str),
        directions: choices(t, "direction", Direction::ALL, Direction::as_str),
        aggregations: choices(
            t,
            "aggregation",
            AggregationType::ALL,
            AggregationType::as_str,
        ),
        categories: DisaggregationCategory::BUILTIN
            .iter()
            .map(|c| {
                let code: &'static str = match c {
                    DisaggregationCategory::Sex => "sex",
                    DisaggregationCategory::AgeGroup => "age_group",
                    DisaggregationCategory::DisplacementStatus => "displacement_status",
                    _ => "disability",
                };
                (code, label(t, "category", code))
            })
            .collect(),
        result_choices: f
            .results
            .iter()
            .map(|r| {
                (
                    r.id.clone(),
                    format!("{} · {}", label(t, "level", r.level.as_str()), r.title),
                )
            })
            .collect(),
        srf_nodes: srf
            .nodes
            .iter()
            .map(|n| (n.code.clone(), format!("{} {}", n.code, n.title)))
            .collect(),
        srf_indicators: srf
            .indicators
            .iter()
            .map(|i| {
                (
                    i.code.clone(),
                    format!(
                        "{} {} ({})",
                        i.code,
                        i.title,
                        label(t, "measure", i.measure.as_str())
                    ),
                )
            })
            .collect(),
        gcm: reference::gcm_objectives()
            .iter()
            .map(|g| (g.number, format!("{}. {}", g.number, g.short_label)))
            .collect(),
        sdg: reference::sdg_targets()
            .iter()
            .map(|s| (s.target.clone(), format!("{} {}", s.target, s.theme)))
            .collect(),
        results,
        error: error.map(|e| e.to_string()),
    };
    let mut response = render(&page)?;
    if let Some(e) = error {
        *response.status_mut() = e.status();
    }
    Ok(response)
}

pub async fn project_results(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    page(&state, &caller, t, &uri, &id, None).await
}

/// After a form: back to the page (at `anchor`) on success; the page with the error otherwise.
pub(super) async fn outcome<T>(
    result: Result<T, AppError>,
    (state, caller, t, uri, id): (&AppState, &Caller, Tr, &Uri, &str),
    anchor: &str,
) -> AppResult<Response> {
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/projects/{id}/results#{anchor}")).into_response()),
        Err(e @ (AppError::Invalid { .. } | AppError::Conflict(_) | AppError::Forbidden(_))) => {
            let path: Uri = format!("/projects/{id}/results")
                .parse()
                .unwrap_or_else(|_| uri.clone());
            page(state, caller, t, &path, id, Some(&e)).await
        }
        Err(e) => Err(e),
    }
}

pub async fn set_frequency(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let f = Fields::parse(&body);
    let result = state
        .store
        .set_results_frequency(&state.org().org, &caller.actor(), &id, &f.get("frequency"))
        .await
        .map_err(AppError::from);
    outcome(result, (&state, &caller, t, &uri, &id), "periods").await
}

pub async fn add_result(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let f = Fields::parse(&body);
    let input = ResultInput {
        level: f.get("level"),
        title: f.get("title"),
        srf_codes: f
            .all("srf_codes")
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect(),
        gcm_objectives: f
            .all("gcm_objectives")
            .iter()
            .filter_map(|g| g.parse().ok())
            .collect(),
        sdg_targets: f
            .all("sdg_targets")
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect(),
        version: None,
    };
    let result = state
        .store
        .add_result(&state.org().org, &caller.actor(), &id, &input)
        .await
        .map_err(AppError::from);
    outcome(result, (&state, &caller, t, &uri, &id), "matrix").await
}

pub async fn add_indicator(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let f = Fields::parse(&body);
    let opt = |name: &str| Some(f.get(name)).filter(|v| !v.is_empty());
    let baseline_year = match f.get("baseline_year") {
        y if y.is_empty() => Ok(None),
        y => y.parse::<i64>().map(Some).map_err(|_| {
            AppError::invalid("baseline_year", format!("expected a year, found {y:?}"))
        }),
    };
    let input = IndicatorInput {
        title: f.get("title"),
        measure: f.get("measure"),
        direction: opt("direction"),
        aggregation: opt("aggregation"),
        cumulative: f.get("cumulative") == "on",
        unit: f.get("unit"),
        categories: f
            .all("categories")
            .into_iter()
            .map(|c| CategoryInput {
                category: c,
                options: None,
                exhaustive: None,
            })
            .collect(),
        baseline_year: None,
        baseline: opt("baseline"),
        target: opt("target"),
        srf_indicator: opt("srf_indicator"),
        means_of_verification: f.get("means_of_verification"),
        targets: Vec::new(),
        version: None,
    };
    let result = match baseline_year {
        Err(e) => Err(e),
        Ok(baseline_year) => state
            .store
            .add_indicator(
                &state.org().org,
                &caller.actor(),
                &f.get("result"),
                &IndicatorInput {
                    baseline_year,
                    ..input
                },
            )
            .await
            .map_err(AppError::from),
    };
    let anchor = match &result {
        Ok(i) => format!("ind-{}", i.id),
        Err(_) => "matrix".into(),
    };
    outcome(result, (&state, &caller, t, &uri, &id), &anchor).await
}

/// Saves a report's figures (and submits it when the person asked to).
pub async fn report(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let f = Fields::parse(&body);
    let indicator = f.get("indicator");
    let period = f.get("period");
    let mut values = vec![ValueInput {
        disaggregation: String::new(),
        value: f.get("total"),
    }];
    for key in f.all("key") {
        values.push(ValueInput {
            value: f.get(&format!("value:{key}")),
            disaggregation: key,
        });
    }
    let version = f.get("version").parse::<i64>().ok().filter(|v| *v > 0);
    let org = &state.org().org;
    let actor = caller.actor();
    let mut result = state
        .store
        .save_report(
            org,
            &actor,
            &indicator,
            &period,
            &ReportInput {
                values,
                narrative: f.text("narrative"),
                version,
            },
        )
        .await
        .map_err(AppError::from);
    if f.get("then") == "submit"
        && let Ok(saved) = &result
    {
        result = state
            .store
            .transition_report(
                org,
                &actor,
                &indicator,
                &period,
                &ReportTransitionInput {
                    action: "submit".into(),
                    note: String::new(),
                    version: Some(saved.version),
                },
            )
            .await
            .map_err(AppError::from);
    }
    outcome(
        result,
        (&state, &caller, t, &uri, &id),
        &format!("ind-{indicator}"),
    )
    .await
}

/// The definition of an indicator as an input, with other targets: what the targets form sends
/// to `update_indicator` (everything else kept as it is).
fn indicator_input(ind: &IndicatorView, targets: Vec<TargetInput>) -> IndicatorInput {
    IndicatorInput {
        title: ind.title.clone(),
        measure: ind.measure.as_str().to_owned(),
        direction: Some(ind.direction.as_str().to_owned()),
        aggregation: Some(ind.aggregation.as_str().to_owned()),
        cumulative: ind.cumulative,
        unit: ind.unit.clone(),
        categories: ind
            .categories
            .iter()
            .map(|c| CategoryInput {
                category: c.category.as_str().to_owned(),
                options: Some(
                    c.options
                        .iter()
                        .map(|o| OptionInput {
                            code: o.code.clone(),
                            label: o.label.clone(),
                        })
                        .collect(),
                ),
                exhaustive: Some(c.exhaustive),
            })
            .collect(),
        baseline_year: ind.baseline_year,
        baseline: ind.baseline.as_ref().map(|f| f.to_input()),
        target: ind.target.as_ref().map(|f| f.to_input()),
        srf_indicator: ind.srf_indicator.clone(),
        means_of_verification: ind.means_of_verification.clone(),
        targets,
        version: Some(ind.version),
    }
}

/// Sets the targets of one indicator for one period: the total and each option or
/// combination (the targets of other periods are kept).
pub async fn targets(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let f = Fields::parse(&body);
    let indicator = f.get("indicator");
    let period = f.get("period");
    let org = &state.org().org;
    let actor = caller.actor();
    let result = async {
        let fw = state.store.results_framework(org, &actor, &id).await?;
        let ind = fw
            .indicator(&indicator)
            .ok_or_else(|| StoreError::not_found("indicator", &indicator))?;
        let read = f.get("version").parse::<i64>().ok();
        if read.is_some_and(|v| v != ind.version) {
            return Err(StoreError::Conflict(format!(
                "the indicator was changed since you read it (you have version {}, it is at {}); reload and apply your change again",
                read.unwrap_or_default(),
                ind.version
            )));
        }
        let mut targets: Vec<TargetInput> = ind
            .targets
            .iter()
            .filter(|x| x.period_start != period)
            .map(|x| TargetInput {
                period: x.period_start.clone(),
                disaggregation: x.disaggregation.clone(),
                value: x.figure.to_input(),
            })
            .collect();
        let mut typed = vec![(String::new(), f.get("target"))];
        typed.extend(
            f.all("key")
                .into_iter()
                .map(|k| (f.get(&format!("target:{k}")), k))
                .map(|(v, k)| (k, v)),
        );
        targets.extend(
            typed
                .into_iter()
                .filter(|(_, v)| !v.trim().is_empty())
                .map(|(k, v)| TargetInput {
                    period: period.clone(),
                    disaggregation: k,
                    value: v,
                }),
        );
        state
            .store
            .update_indicator(org, &actor, &indicator, &indicator_input(ind, targets))
            .await
    }
    .await
    .map_err(AppError::from);
    outcome(
        result,
        (&state, &caller, t, &uri, &id),
        &format!("ind-{indicator}"),
    )
    .await
}

/// Submits, approves or returns one report.
pub async fn review(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let f = Fields::parse(&body);
    let indicator = f.get("indicator");
    let result = state
        .store
        .transition_report(
            &state.org().org,
            &caller.actor(),
            &indicator,
            &f.get("period"),
            &ReportTransitionInput {
                action: f.get("action"),
                note: f.text("note"),
                version: f.get("version").parse().ok(),
            },
        )
        .await
        .map_err(AppError::from);
    outcome(
        result,
        (&state, &caller, t, &uri, &id),
        &format!("ind-{indicator}"),
    )
    .await
}

/// Approves every submitted report of a period.
pub async fn approve_period(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let f = Fields::parse(&body);
    let result = state
        .store
        .approve_reports(
            &state.org().org,
            &caller.actor(),
            &id,
            &BulkApproval {
                period: Some(f.get("period")),
                reports: Vec::new(),
            },
        )
        .await
        .map_err(AppError::from);
    outcome(result, (&state, &caller, t, &uri, &id), "periods").await
}

pub async fn lock_period(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let f = Fields::parse(&body);
    let result = state
        .store
        .set_period_lock(
            &state.org().org,
            &caller.actor(),
            &id,
            &f.get("period"),
            f.get("lock") == "1",
        )
        .await
        .map_err(AppError::from);
    outcome(result, (&state, &caller, t, &uri, &id), "periods").await
}

pub async fn template_xlsx(
    State(state): State<AppState>,
    t: Tr,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    crate::api::results::template_response(&state, t, &caller, &id, "xlsx").await
}

pub async fn template_csv(
    State(state): State<AppState>,
    t: Tr,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    crate::api::results::template_response(&state, t, &caller, &id, "csv").await
}

#[derive(Template)]
#[template(path = "results/upload_result.html")]
struct UploadResult {
    shell: Shell,
    message: Option<String>,
    problems: Vec<meridian_store::results::CellProblem>,
}

/// The upload form posts the file with htmx (which sends the CSRF header). Success sends the
/// browser back to the page; problems are listed in place, each with its cell.
pub async fn upload(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(id): Path<String>,
    mut multipart: axum::extract::Multipart,
) -> AppResult<Response> {
    let mut bytes = Vec::new();
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| AppError::invalid("file", e.to_string()))?
    {
        if field.name() == Some("file") {
            bytes = field
                .bytes()
                .await
                .map_err(|e| AppError::invalid("file", e.to_string()))?
                .to_vec();
        }
    }
    let shell = shell(t, &caller, &uri);
    let outcome = match crate::api::results::upload_bytes(&state, &caller, &id, &bytes).await {
        Ok(o) => o,
        Err(e @ (AppError::Invalid { .. } | AppError::Forbidden(_) | AppError::Conflict(_))) => {
            return render(&UploadResult {
                shell,
                message: Some(e.to_string()),
                problems: Vec::new(),
            });
        }
        Err(e) => return Err(e),
    };
    if outcome.problems.is_empty() {
        let mut r = axum::http::StatusCode::NO_CONTENT.into_response();
        r.headers_mut().insert(
            "hx-redirect",
            axum::http::HeaderValue::from_str(&format!("/projects/{id}/results#matrix"))
                .map_err(|e| AppError::Internal(e.to_string()))?,
        );
        return Ok(r);
    }
    render(&UploadResult {
        shell,
        message: None,
        problems: outcome.problems,
    })
}
