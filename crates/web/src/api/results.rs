//! Results-based management: project results matrices, reporting and review, period locks,
//! roll-ups to the Strategic Results Framework, programmes, and the reference lists.

use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use meridian_store::results::{
    BulkApproval, IndicatorInput, IndicatorView, MissingReport, PeriodView, Programme,
    ProgrammeInput, ReportInput, ReportTransitionInput, ReportView, ResultInput, ResultView,
    ResultsFramework, RollupQuery, RollupRow, RollupScope, SrfIndicatorInput, SrfIndicatorRow,
    SrfNodeInput, SrfNodeRow, SrfTree,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

/// A project's results matrix: results, indicators, periods, targets and every report.
#[utoipa::path(get, path = "/api/v1/projects/{id}/results", tag = "results", params(("id" = String, Path, description = "Project id or code")),
    responses((status = 200, body = ResultsFramework), (status = 403, body = crate::error::ErrorBody)))]
pub async fn framework(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<Json<ResultsFramework>> {
    Ok(Json(
        state
            .store
            .results_framework(&state.org().org, &caller.actor(), &id)
            .await?,
    ))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct FrequencyRequest {
    /// `monthly`, `quarterly` or `annual`.
    pub frequency: String,
}

/// Sets how often the project reports; creates its reporting periods from its dates.
#[utoipa::path(put, path = "/api/v1/projects/{id}/results/frequency", tag = "results", params(("id" = String, Path)),
    request_body = FrequencyRequest,
    responses((status = 200, body = ResultsFramework), (status = 409, body = crate::error::ErrorBody)))]
pub async fn set_frequency(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<FrequencyRequest>,
) -> AppResult<Json<ResultsFramework>> {
    Ok(Json(
        state
            .store
            .set_results_frequency(&state.org().org, &caller.actor(), &id, &body.frequency)
            .await?,
    ))
}

/// Adds a result (impact, outcome or output) to the project's matrix.
#[utoipa::path(post, path = "/api/v1/projects/{id}/results", tag = "results", params(("id" = String, Path)),
    request_body = ResultInput,
    responses((status = 201, body = ResultView), (status = 422, body = crate::error::ErrorBody)))]
pub async fn add_result(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(input): Json<ResultInput>,
) -> AppResult<(StatusCode, Json<ResultView>)> {
    let r = state
        .store
        .add_result(&state.org().org, &caller.actor(), &id, &input)
        .await?;
    Ok((StatusCode::CREATED, Json(r)))
}

/// Replaces a result's level, title and links (with the version read).
#[utoipa::path(patch, path = "/api/v1/results/{id}", tag = "results", params(("id" = String, Path)),
    request_body = ResultInput,
    responses((status = 200, body = ResultView), (status = 409, body = crate::error::ErrorBody)))]
pub async fn update_result(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(input): Json<ResultInput>,
) -> AppResult<Json<ResultView>> {
    Ok(Json(
        state
            .store
            .update_result(&state.org().org, &caller.actor(), &id, &input)
            .await?,
    ))
}

/// The version a delete expects the item to be at.
#[derive(Debug, Deserialize)]
pub struct ExpectedVersion {
    pub version: Option<i64>,
}

/// Deletes a result and its indicators, unless values were reported (or, with `version`, the
/// result was changed since it was read: 409).
#[utoipa::path(delete, path = "/api/v1/results/{id}", tag = "results",
    params(("id" = String, Path),
        ("version" = Option<i64>, Query, description = "The result's version as read: refused (409) if it changed since")),
    responses((status = 204), (status = 409, body = crate::error::ErrorBody)))]
pub async fn delete_result(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(expected): Query<ExpectedVersion>,
) -> AppResult<StatusCode> {
    state
        .store
        .delete_result(&state.org().org, &caller.actor(), &id, expected.version)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Adds an indicator to a result.
#[utoipa::path(post, path = "/api/v1/results/{id}/indicators", tag = "results", params(("id" = String, Path)),
    request_body = IndicatorInput,
    responses((status = 201, body = IndicatorView), (status = 422, body = crate::error::ErrorBody)))]
pub async fn add_indicator(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(input): Json<IndicatorInput>,
) -> AppResult<(StatusCode, Json<IndicatorView>)> {
    let i = state
        .store
        .add_indicator(&state.org().org, &caller.actor(), &id, &input)
        .await?;
    Ok((StatusCode::CREATED, Json(i)))
}

/// Replaces an indicator's definition and targets (with the version read).
#[utoipa::path(patch, path = "/api/v1/indicators/{id}", tag = "results", params(("id" = String, Path)),
    request_body = IndicatorInput,
    responses((status = 200, body = IndicatorView), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn update_indicator(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(input): Json<IndicatorInput>,
) -> AppResult<Json<IndicatorView>> {
    Ok(Json(
        state
            .store
            .update_indicator(&state.org().org, &caller.actor(), &id, &input)
            .await?,
    ))
}

/// Deletes an indicator, unless values were reported (or, with `version`, it was changed
/// since it was read: 409).
#[utoipa::path(delete, path = "/api/v1/indicators/{id}", tag = "results",
    params(("id" = String, Path),
        ("version" = Option<i64>, Query, description = "The indicator's version as read: refused (409) if it changed since")),
    responses((status = 204), (status = 409, body = crate::error::ErrorBody)))]
pub async fn delete_indicator(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Query(expected): Query<ExpectedVersion>,
) -> AppResult<StatusCode> {
    state
        .store
        .delete_indicator(&state.org().org, &caller.actor(), &id, expected.version)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Saves the figures of one indicator for one period, as a draft.
#[utoipa::path(put, path = "/api/v1/indicators/{id}/reports/{period}", tag = "results",
    params(("id" = String, Path), ("period" = String, Path, description = "Period start (2026-01-01) or label (2026-Q1)")),
    request_body = ReportInput,
    responses((status = 200, body = ReportView), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn save_report(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, period)): Path<(String, String)>,
    Json(input): Json<ReportInput>,
) -> AppResult<Json<ReportView>> {
    Ok(Json(
        state
            .store
            .save_report(&state.org().org, &caller.actor(), &id, &period, &input)
            .await?,
    ))
}

/// Submits, approves or returns a report. Approvers never approve their own submissions.
#[utoipa::path(post, path = "/api/v1/indicators/{id}/reports/{period}/transitions", tag = "results",
    params(("id" = String, Path), ("period" = String, Path)),
    request_body = ReportTransitionInput,
    responses((status = 200, body = ReportView), (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn transition_report(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, period)): Path<(String, String)>,
    Json(input): Json<ReportTransitionInput>,
) -> AppResult<Json<ReportView>> {
    Ok(Json(
        state
            .store
            .transition_report(&state.org().org, &caller.actor(), &id, &period, &input)
            .await?,
    ))
}

/// Approves many submitted reports of a project at once, all or nothing.
#[utoipa::path(post, path = "/api/v1/projects/{id}/reports/approve", tag = "results", params(("id" = String, Path)),
    request_body = BulkApproval,
    responses((status = 200, body = Vec<ReportView>), (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn approve_reports(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(input): Json<BulkApproval>,
) -> AppResult<Json<Vec<ReportView>>> {
    Ok(Json(
        state
            .store
            .approve_reports(&state.org().org, &caller.actor(), &id, &input)
            .await?,
    ))
}

/// Locks a reporting period: its values can no longer change.
#[utoipa::path(post, path = "/api/v1/projects/{id}/periods/{period}/lock", tag = "results",
    params(("id" = String, Path), ("period" = String, Path)),
    responses((status = 200, body = PeriodView), (status = 409, body = crate::error::ErrorBody)))]
pub async fn lock_period(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, period)): Path<(String, String)>,
) -> AppResult<Json<PeriodView>> {
    Ok(Json(
        state
            .store
            .set_period_lock(&state.org().org, &caller.actor(), &id, &period, true)
            .await?,
    ))
}

/// Unlocks a reporting period.
#[utoipa::path(post, path = "/api/v1/projects/{id}/periods/{period}/unlock", tag = "results",
    params(("id" = String, Path), ("period" = String, Path)),
    responses((status = 200, body = PeriodView), (status = 409, body = crate::error::ErrorBody)))]
pub async fn unlock_period(
    State(state): State<AppState>,
    caller: Caller,
    Path((id, period)): Path<(String, String)>,
) -> AppResult<Json<PeriodView>> {
    Ok(Json(
        state
            .store
            .set_period_lock(&state.org().org, &caller.actor(), &id, &period, false)
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MissingParams {
    /// A date inside the period (default: today).
    pub on: Option<String>,
    /// Only this unit and its scope.
    pub unit: Option<String>,
}

/// Who has not reported: projects in the caller's scope with their indicators by state for
/// the period containing `on`.
#[utoipa::path(get, path = "/api/v1/results/missing", tag = "results", params(MissingParams),
    responses((status = 200, body = Vec<MissingReport>)))]
pub async fn missing(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<MissingParams>,
) -> AppResult<Json<Vec<MissingReport>>> {
    let on = q.on.unwrap_or_else(today);
    Ok(Json(
        state
            .store
            .missing_reports(&state.org().org, &caller.actor(), &on, q.unit.as_deref())
            .await?,
    ))
}

pub fn today() -> String {
    time::OffsetDateTime::now_utc().date().to_string()
}

/// The Strategic Results Framework: objectives, outcomes, outputs and their indicators.
#[utoipa::path(get, path = "/api/v1/srf", tag = "results", responses((status = 200, body = SrfTree)))]
pub async fn srf(State(state): State<AppState>, _caller: Caller) -> AppResult<Json<SrfTree>> {
    Ok(Json(state.store.srf_tree().await?))
}

/// Renames a node of the SRF (RBM officers at headquarters).
#[utoipa::path(patch, path = "/api/v1/srf/nodes/{code}", tag = "results", params(("code" = String, Path)),
    request_body = SrfNodeInput,
    responses((status = 200, body = SrfNodeRow), (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn update_srf_node(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Json(input): Json<SrfNodeInput>,
) -> AppResult<Json<SrfNodeRow>> {
    Ok(Json(
        state
            .store
            .update_srf_node(&state.org().org, &caller.actor(), &code, &input)
            .await?,
    ))
}

/// Edits an SRF indicator (RBM officers at headquarters).
#[utoipa::path(patch, path = "/api/v1/srf/indicators/{code}", tag = "results", params(("code" = String, Path)),
    request_body = SrfIndicatorInput,
    responses((status = 200, body = SrfIndicatorRow), (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = crate::error::ErrorBody)))]
pub async fn update_srf_indicator(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    Json(input): Json<SrfIndicatorInput>,
) -> AppResult<Json<SrfIndicatorRow>> {
    Ok(Json(
        state
            .store
            .update_srf_indicator(&state.org().org, &caller.actor(), &code, &input)
            .await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RollupParams {
    /// `global` (the caller's whole scope, the default), `region`, `unit` or `programme`.
    pub scope: Option<String>,
    /// The region or unit code, or the programme id or code.
    pub code: Option<String>,
    /// `all` (default), a year (`2026`) or a quarter (`2026-Q1`).
    pub window: Option<String>,
    /// Empty for totals, `category=option` (`sex=female`), or one option of several
    /// categories (`age_group=age_18_59;sex=female`, in any order): figures per option are
    /// also worked out from values reported per combination.
    pub disaggregation: Option<String>,
}

pub fn rollup_scope(scope: Option<&str>, code: Option<&str>) -> Result<RollupScope, AppError> {
    let code = || {
        code.filter(|c| !c.trim().is_empty())
            .map(|c| c.trim().to_owned())
            .ok_or_else(|| {
                AppError::invalid("code", "give the code of the region, unit or programme")
            })
    };
    Ok(match scope.unwrap_or("global").trim() {
        "" | "global" => RollupScope::Global,
        "region" => RollupScope::Region(code()?),
        "unit" => RollupScope::Unit(code()?),
        "programme" => RollupScope::Programme(code()?),
        other => {
            return Err(AppError::invalid(
                "scope",
                format!("expected global, region, unit or programme, found {other:?}"),
            ));
        }
    })
}

/// SRF indicators aggregated from approved project values over a scope and a window:
/// actual, target, baseline, achievement, number of contributing indicators.
#[utoipa::path(get, path = "/api/v1/srf/rollup", tag = "results", params(RollupParams),
    responses((status = 200, body = Vec<RollupRow>), (status = 422, body = crate::error::ErrorBody)))]
pub async fn rollup(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<RollupParams>,
) -> AppResult<Json<Vec<RollupRow>>> {
    let scope = rollup_scope(q.scope.as_deref(), q.code.as_deref())?;
    let query = RollupQuery {
        window: q.window.unwrap_or_else(|| "all".into()),
        disaggregation: q.disaggregation.unwrap_or_default(),
    };
    Ok(Json(
        state
            .store
            .results_rollup(&state.org().org, &caller.actor(), &scope, &query)
            .await?,
    ))
}

/// Programmes in the caller's scope.
#[utoipa::path(get, path = "/api/v1/programmes", tag = "results", responses((status = 200, body = Vec<Programme>)))]
pub async fn programmes(
    State(state): State<AppState>,
    caller: Caller,
) -> AppResult<Json<Vec<Programme>>> {
    Ok(Json(
        state
            .store
            .programmes(&state.org().org, &caller.actor())
            .await?,
    ))
}

/// Creates a programme with its member projects.
#[utoipa::path(post, path = "/api/v1/programmes", tag = "results", request_body = ProgrammeInput,
    responses((status = 201, body = Programme), (status = 409, body = crate::error::ErrorBody),
        (status = 422, body = crate::error::ErrorBody)))]
pub async fn create_programme(
    State(state): State<AppState>,
    caller: Caller,
    Json(input): Json<ProgrammeInput>,
) -> AppResult<(StatusCode, Json<Programme>)> {
    let p = state
        .store
        .save_programme(&state.org().org, &caller.actor(), None, &input)
        .await?;
    Ok((StatusCode::CREATED, Json(p)))
}

/// One programme with its projects.
#[utoipa::path(get, path = "/api/v1/programmes/{id}", tag = "results", params(("id" = String, Path)),
    responses((status = 200, body = Programme), (status = 404, body = crate::error::ErrorBody)))]
pub async fn programme(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<Json<Programme>> {
    Ok(Json(
        state
            .store
            .programme(&state.org().org, &caller.actor(), &id)
            .await?,
    ))
}

/// Replaces a programme's title, unit and members (with the version read).
#[utoipa::path(put, path = "/api/v1/programmes/{id}", tag = "results", params(("id" = String, Path)),
    request_body = ProgrammeInput,
    responses((status = 200, body = Programme), (status = 409, body = crate::error::ErrorBody)))]
pub async fn update_programme(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(input): Json<ProgrammeInput>,
) -> AppResult<Json<Programme>> {
    Ok(Json(
        state
            .store
            .save_programme(&state.org().org, &caller.actor(), Some(&id), &input)
            .await?,
    ))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct GcmObjective {
    pub number: u8,
    pub short_label: String,
    pub title: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SdgTarget {
    pub target: String,
    pub theme: String,
    pub title: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReferenceLists {
    pub gcm_objectives: Vec<GcmObjective>,
    pub sdg_targets: Vec<SdgTarget>,
}

/// The 23 objectives of the Global Compact for Migration and the migration-related SDG targets.
#[utoipa::path(get, path = "/api/v1/reference/results", tag = "results", responses((status = 200, body = ReferenceLists)))]
pub async fn reference(_caller: Caller) -> Json<ReferenceLists> {
    use meridian_domain::results::reference;
    Json(ReferenceLists {
        gcm_objectives: reference::gcm_objectives()
            .iter()
            .map(|g| GcmObjective {
                number: g.number,
                short_label: g.short_label.clone(),
                title: g.title.clone(),
            })
            .collect(),
        sdg_targets: reference::sdg_targets()
            .iter()
            .map(|s| SdgTarget {
                target: s.target.clone(),
                theme: s.theme.clone(),
                title: s.title.clone(),
            })
            .collect(),
    })
}

/// The label of a disaggregation key in the reader's language: `Sex: Female`, or
/// `Sex: Female · Age group: 18–59` for a combination; the key itself for an unknown part.
pub fn key_label(t: crate::i18n::Tr, ind: &IndicatorView, key: &str) -> String {
    use meridian_domain::results::combination::DisaggregationKey;
    use meridian_domain::results::model::DisaggregationCategory;
    let Ok(parsed) = DisaggregationKey::parse(key) else {
        return key.to_owned();
    };
    if parsed.is_total() {
        return t.get("results.total").to_owned();
    }
    // In the indicator's order of categories, not the key's.
    let mut parts: Vec<(usize, String)> = parsed
        .parts()
        .iter()
        .map(|(c, o)| {
            let at = ind.categories.iter().position(|d| d.category.as_str() == c);
            let cat = if DisaggregationCategory::BUILTIN
                .iter()
                .any(|b| b.as_str() == c)
            {
                t.get(&format!("category.{c}")).to_owned()
            } else {
                c.clone()
            };
            let opt = at
                .and_then(|i| ind.categories[i].options.iter().find(|x| x.code == *o))
                .map_or_else(|| o.clone(), |x| x.label.clone());
            (at.unwrap_or(usize::MAX), format!("{cat}: {opt}"))
        })
        .collect();
    parts.sort();
    parts
        .into_iter()
        .map(|(_, l)| l)
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The keys of a template's rows for one indicator and period: the total, then one option of
/// every category per row when the indicator has several categories (the combinations), else
/// its options. A period already reported per single option keeps those rows, so that what was
/// reported is shown and read back as it is.
fn template_keys(
    t: crate::i18n::Tr,
    ind: &IndicatorView,
    report: Option<&meridian_store::results::ReportView>,
) -> Vec<(String, String)> {
    let reported_marginals = report.is_some_and(|r| {
        r.values
            .iter()
            .any(|v| !v.disaggregation.is_empty() && !v.disaggregation.contains(';'))
    });
    let combos = ind.combination_keys();
    let list = if combos.is_empty() || reported_marginals {
        ind.disaggregation_keys()
    } else {
        combos
    };
    std::iter::once(String::new())
        .chain(list)
        .map(|k| {
            let label = key_label(t, ind, &k);
            (k, label)
        })
        .collect()
}

/// The reporting template of a project: one row per indicator, period and disaggregation
/// (the total, then each combination of options when the indicator has several categories,
/// else each option), pre-filled with what is reported; rows the reader may not change are
/// locked.
pub fn template(
    t: crate::i18n::Tr,
    f: &ResultsFramework,
    may_report: bool,
) -> meridian_formats::results_sheet::Template {
    meridian_formats::results_sheet::Template {
        title: format!("{} · {}", f.project_code, f.project_title),
        rows: template_rows(t, f, may_report),
        instructions: instructions(t),
        headers: headers(t),
    }
}

/// The rows of a project's template (see [`template`]): every indicator × period of `f` ×
/// disaggregation, locked unless `may_report`, the period open and the report editable.
pub fn template_rows(
    t: crate::i18n::Tr,
    f: &ResultsFramework,
    may_report: bool,
) -> Vec<meridian_formats::results_sheet::TemplateRow> {
    use meridian_formats::results_sheet::TemplateRow;
    let mut rows = Vec::new();
    for r in &f.results {
        for ind in &r.indicators {
            for period in &f.periods {
                let report = ind.report(&period.start);
                let editable =
                    may_report && !period.locked && report.is_none_or(|r| r.status.is_editable());
                let status = report.map_or(t.get("value_status.not_reported"), |r| {
                    t.get(&format!("value_status.{}", r.status.as_str()))
                });
                let keys = template_keys(t, ind, report);
                for (key, label) in keys {
                    rows.push(TemplateRow {
                        project_code: f.project_code.clone(),
                        indicator_id: ind.id.clone(),
                        result: r.title.clone(),
                        indicator: ind.title.clone(),
                        measure: ind.measure.as_str().to_owned(),
                        unit: ind.unit.clone(),
                        period_label: period.label.clone(),
                        period_start: period.start.clone(),
                        target: ind
                            .target_for(&period.start, &key)
                            .map(|f| f.to_input())
                            .unwrap_or_default(),
                        value: report
                            .and_then(|r| r.values.iter().find(|v| v.disaggregation == key))
                            .map(|v| v.figure.to_input())
                            .unwrap_or_default(),
                        narrative: if key.is_empty() {
                            report.map(|r| r.narrative.clone()).unwrap_or_default()
                        } else {
                            String::new()
                        },
                        status: status.to_owned(),
                        editable,
                        report_version: Some(report.map_or(0, |r| r.version)),
                        disaggregation: key,
                        disaggregation_label: label,
                    });
                }
            }
        }
    }
    rows
}

/// The sheet's column titles and messages in the reader's language (sheet names stay
/// `Report` and `Instructions`, which the instructions and the error addresses name).
pub fn headers(t: crate::i18n::Tr) -> meridian_formats::results_sheet::Headers {
    meridian_formats::results_sheet::Headers {
        project: t.get("results.project").to_owned(),
        result: t.get("results.result").to_owned(),
        indicator: t.get("results.indicator").to_owned(),
        unit: t.get("results.unit").to_owned(),
        period: t.get("results.period").to_owned(),
        disaggregation: t.get("results.disaggregation").to_owned(),
        target: t.get("results.target").to_owned(),
        value: t.get("results.actual").to_owned(),
        numerator: t.get("results.numerator").to_owned(),
        denominator: t.get("results.denominator").to_owned(),
        narrative: t.get("results.narrative").to_owned(),
        status: t.get("results.state").to_owned(),
        figure_rule_title: t.get("results.sheet_figure_rule_title").to_owned(),
        figure_rule_message: t.get("results.sheet_figure_rule").to_owned(),
        ..meridian_formats::results_sheet::Headers::default()
    }
}

/// The keys of the instructions sheet's lines, in order (`locales/strings.toml`); in English
/// they are `meridian_formats::results_sheet::default_instructions()` (a test keeps them so).
pub const INSTRUCTION_KEYS: [&str; 10] = [
    "results.sheet_how",
    "",
    "results.sheet_step_1",
    "results.sheet_step_2",
    "results.sheet_step_3",
    "results.sheet_step_4",
    "results.sheet_step_5",
    "results.sheet_step_6",
    "results.sheet_step_7",
    "results.sheet_step_8",
];

/// The instructions sheet in the reader's language.
pub fn instructions(t: crate::i18n::Tr) -> Vec<String> {
    INSTRUCTION_KEYS
        .iter()
        .map(|k| {
            if k.is_empty() {
                String::new()
            } else {
                t.get(k).to_owned()
            }
        })
        .collect()
}

/// Whether the caller may report values for projects of `unit`.
fn may_report(org: &meridian_domain::org::Organization, caller: &Caller, unit: &str) -> bool {
    meridian_domain::org::UnitCode::parse(unit).is_ok_and(|u| {
        meridian_domain::authz::authorize(
            org,
            &caller.actor(),
            meridian_domain::authz::Action::ReportResults,
            &u,
        )
        .is_ok()
    })
}

/// Reads an uploaded template (XLSX by its signature, else CSV) into values to save, or every
/// cell that could not be read.
pub fn read_upload(
    bytes: &[u8],
) -> Result<Vec<meridian_store::results::UploadValue>, Vec<meridian_store::results::CellProblem>> {
    use meridian_formats::results_sheet::{read_csv, read_xlsx};
    use meridian_store::results::{CellProblem, UploadValue};
    let read = if bytes.starts_with(b"PK\x03\x04") {
        read_xlsx(bytes)
    } else {
        read_csv(bytes)
    };
    match read {
        Ok(values) => Ok(values
            .into_iter()
            .map(|v| UploadValue {
                indicator_id: v.indicator_id,
                project: v.project,
                project_location: v.project_location.map(|l| l.to_string()),
                period_start: v.period_start,
                disaggregation: v.disaggregation,
                value: v.value,
                narrative: v.narrative,
                location: v.location.to_string(),
                narrative_location: v.narrative_location.map(|l| l.to_string()),
                report_version: v.report_version,
            })
            .collect()),
        Err(errors) => Err(errors
            .into_iter()
            .map(|e| CellProblem {
                cell: e.location.to_string(),
                message: e.message,
            })
            .collect()),
    }
}

/// The most an uploaded template may weigh.
pub const MAX_UPLOAD_BYTES: usize = 10 * 1024 * 1024;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TemplateParams {
    /// `xlsx` (default) or `csv`.
    pub format: Option<String>,
}

/// The project's reporting template, pre-filled, as XLSX (locked structure, an instructions
/// sheet) or CSV.
#[utoipa::path(get, path = "/api/v1/projects/{id}/results/template", tag = "results",
    params(("id" = String, Path), TemplateParams),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>)))]
pub async fn download_template(
    State(state): State<AppState>,
    t: crate::i18n::Tr,
    caller: Caller,
    Path(id): Path<String>,
    Query(q): Query<TemplateParams>,
) -> AppResult<axum::response::Response> {
    template_response(
        &state,
        t,
        &caller,
        &id,
        q.format.as_deref().unwrap_or("xlsx"),
    )
    .await
}

pub async fn template_response(
    state: &AppState,
    t: crate::i18n::Tr,
    caller: &Caller,
    id: &str,
    format: &str,
) -> AppResult<axum::response::Response> {
    let org = &state.org().org;
    let f = state
        .store
        .results_framework(org, &caller.actor(), id)
        .await?;
    let tpl = template(t, &f, may_report(org, caller, &f.unit));
    sheet_response(&tpl, format, &format!("{}-results", f.project_code))
}

/// A template as an XLSX or CSV download named `{name}.{ext}`.
fn sheet_response(
    tpl: &meridian_formats::results_sheet::Template,
    format: &str,
    name: &str,
) -> AppResult<axum::response::Response> {
    use axum::http::header;
    use axum::response::IntoResponse;
    let (bytes, mime, ext) = match format {
        "csv" => (
            meridian_formats::results_sheet::write_csv(tpl),
            "text/csv; charset=utf-8",
            "csv",
        ),
        "xlsx" => (
            meridian_formats::results_sheet::write_xlsx(tpl),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "xlsx",
        ),
        other => {
            return Err(AppError::invalid(
                "format",
                format!("expected xlsx or csv, found {other:?}"),
            ));
        }
    };
    let bytes = bytes.map_err(|e| AppError::Internal(e.to_string()))?;
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}.{ext}\""),
            ),
        ],
        bytes,
    )
        .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OfficeTemplateParams {
    /// A date inside the period (default: today).
    pub on: Option<String>,
    /// `xlsx` (default) or `csv`.
    pub format: Option<String>,
}

/// The reporting template of an office for one period: every project of the unit (as the
/// who-has-not-reported view reads a unit, within the caller's scope) with a reporting period
/// containing `on`, one row per project × indicator × that period × disaggregation, pre-filled;
/// rows the caller may not report on are locked. XLSX (locked structure, an instructions sheet)
/// or CSV. 403 for a unit outside the caller's scope.
#[utoipa::path(get, path = "/api/v1/units/{code}/results/template", tag = "results",
    params(("code" = String, Path, description = "Unit code, e.g. CO-KEN"), OfficeTemplateParams),
    responses((status = 200, content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", body = Vec<u8>),
        (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn download_office_template(
    State(state): State<AppState>,
    t: crate::i18n::Tr,
    caller: Caller,
    Path(code): Path<String>,
    Query(q): Query<OfficeTemplateParams>,
) -> AppResult<axum::response::Response> {
    let on = q.on.filter(|o| !o.trim().is_empty()).unwrap_or_else(today);
    office_template_response(
        &state,
        t,
        &caller,
        &code,
        &on,
        q.format.as_deref().unwrap_or("xlsx"),
    )
    .await
}

/// The office template of `code` for the period containing `on` (see
/// [`download_office_template`]), for the API and the pages.
pub async fn office_template_response(
    state: &AppState,
    t: crate::i18n::Tr,
    caller: &Caller,
    code: &str,
    on: &str,
    format: &str,
) -> AppResult<axum::response::Response> {
    let org = &state.org().org;
    let frameworks = state
        .store
        .office_frameworks(org, &caller.actor(), code, on)
        .await?;
    let code = code.trim();
    let mut rows = Vec::new();
    let mut labels: Vec<&str> = Vec::new();
    for f in &frameworks {
        rows.extend(template_rows(t, f, may_report(org, caller, &f.unit)));
        for p in &f.periods {
            if !labels.contains(&p.label.as_str()) {
                labels.push(&p.label);
            }
        }
    }
    let mut instructions = instructions(t);
    instructions.insert(
        1,
        t.get("results.sheet_office")
            .replace("{unit}", code)
            .replace("{on}", on),
    );
    let tpl = meridian_formats::results_sheet::Template {
        title: format!("{code} · {}", labels.join(", ")),
        rows,
        instructions,
        headers: headers(t),
    };
    sheet_response(&tpl, format, &format!("{code}-{on}-results"))
}

/// Uploads a filled template (the file as the request body, XLSX or CSV). All or nothing:
/// any wrong cell gets 422 with every cell's address and what was wrong, and nothing is saved.
/// A report changed in Meridian since the template was downloaded (its hidden
/// `report_version` differs) to other values than the file's gets 409 (`conflict`), each
/// differing cell named with who changed it and when; a template without that column (made
/// before it existed) is not checked.
#[utoipa::path(post, path = "/api/v1/projects/{id}/results/upload", tag = "results",
    params(("id" = String, Path)), request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = meridian_store::results::UploadOutcome),
        (status = 409, body = meridian_store::results::UploadOutcome),
        (status = 422, body = meridian_store::results::UploadOutcome)))]
pub async fn upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    body: axum::body::Bytes,
) -> AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let outcome = upload_bytes(&state, &caller, &id, &body).await?;
    Ok((upload_status(&outcome), Json(outcome)).into_response())
}

/// 200 when saved, 409 when a report changed since the download, else 422.
fn upload_status(outcome: &meridian_store::results::UploadOutcome) -> StatusCode {
    if outcome.problems.is_empty() {
        StatusCode::OK
    } else if outcome.conflict {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    }
}

pub async fn upload_bytes(
    state: &AppState,
    caller: &Caller,
    id: &str,
    body: &[u8],
) -> AppResult<meridian_store::results::UploadOutcome> {
    if body.is_empty() {
        return Err(AppError::invalid("file", "the file is empty"));
    }
    match read_upload(body) {
        Err(problems) => Ok(meridian_store::results::UploadOutcome {
            saved: 0,
            unchanged: 0,
            problems,
            conflict: false,
        }),
        Ok(values) => Ok(state
            .store
            .upload_reports(&state.org().org, &caller.actor(), id, &values)
            .await?),
    }
}

/// Uploads an office's filled template (the file as the request body, XLSX or CSV): the
/// reports of every project in it, all or nothing in one transaction. 422 with every wrong
/// cell (as for a project's upload; besides, a row whose indicator is not of a project of the
/// unit, or whose Project column names another project than its indicator's); 409 when a
/// report changed since the download to other values than the file's; 403 for a unit outside
/// the caller's scope or a caller who may not report there.
#[utoipa::path(post, path = "/api/v1/units/{code}/results/upload", tag = "results",
    params(("code" = String, Path, description = "Unit code, e.g. CO-KEN")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 200, body = meridian_store::results::UploadOutcome),
        (status = 403, body = crate::error::ErrorBody),
        (status = 409, body = meridian_store::results::UploadOutcome),
        (status = 422, body = meridian_store::results::UploadOutcome)))]
pub async fn office_upload(
    State(state): State<AppState>,
    caller: Caller,
    Path(code): Path<String>,
    body: axum::body::Bytes,
) -> AppResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let outcome = office_upload_bytes(&state, &caller, &code, &body).await?;
    Ok((upload_status(&outcome), Json(outcome)).into_response())
}

/// An office's upload (see [`office_upload`]), for the API and the pages.
pub async fn office_upload_bytes(
    state: &AppState,
    caller: &Caller,
    code: &str,
    body: &[u8],
) -> AppResult<meridian_store::results::UploadOutcome> {
    if body.is_empty() {
        return Err(AppError::invalid("file", "the file is empty"));
    }
    match read_upload(body) {
        Err(problems) => {
            // The caller's rights first (403 before a file's problems): an upload of nothing
            // checks them and writes nothing.
            state
                .store
                .upload_office_reports(&state.org().org, &caller.actor(), code, &[])
                .await?;
            Ok(meridian_store::results::UploadOutcome {
                saved: 0,
                unchanged: 0,
                problems,
                conflict: false,
            })
        }
        Ok(values) => Ok(state
            .store
            .upload_office_reports(&state.org().org, &caller.actor(), code, &values)
            .await?),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{Lang, Tr};

    /// The sheet's keys are built in code, not in templates: each is checked here in every
    /// language, and the French instructions are French.
    #[test]
    fn the_template_s_texts_exist_in_three_languages() {
        let mut keys: Vec<&str> = INSTRUCTION_KEYS
            .iter()
            .copied()
            .filter(|k| !k.is_empty())
            .collect();
        keys.extend([
            "results.sheet_office",
            "results.numerator",
            "results.denominator",
            "results.sheet_figure_rule_title",
            "results.sheet_figure_rule",
        ]);
        for lang in Lang::ALL {
            let t = Tr { lang };
            for key in &keys {
                assert_ne!(t.get(key), "⟦missing text⟧", "{key} in {}", lang.code());
            }
            let office = t.get("results.sheet_office");
            assert!(
                office.contains("{unit}") && office.contains("{on}"),
                "{office}"
            );
            assert!(
                t.get("results.sheet_figure_rule_title").chars().count() <= 32,
                "Excel cuts a validation title at 32 characters"
            );
        }
        let fr = instructions(Tr { lang: Lang::Fr });
        assert_eq!(fr.len(), INSTRUCTION_KEYS.len());
        assert_eq!(fr[0], "Comment remplir ce modèle");
        assert_eq!(
            instructions(Tr { lang: Lang::En })[0],
            meridian_formats::results_sheet::default_instructions()[0]
        );
    }
}
