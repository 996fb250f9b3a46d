//! Editing and deleting a result or an indicator of a project's matrix through forms: the same
//! store functions as `PATCH`/`DELETE /api/v1/results/{id}` and `/api/v1/indicators/{id}`,
//! with the version read carried in a hidden field.
//!
//! A stale form (someone saved first) saves nothing: the form comes back with the current
//! values and version, and what the person typed is shown beside it. Bad input comes back with
//! the form as typed, the field named in the reader's language. Refusals of the store (a
//! measure or categories that no longer fit reported values, deleting what has reports) are
//! shown in the page.

use super::{label, shell};
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
use meridian_domain::results::model::{
    AggregationType, Direction, Disaggregation, DisaggregationCategory, Measure, ResultLevel,
};
use meridian_domain::results::reference;
use meridian_store::results::{
    CategoryInput, IndicatorInput, IndicatorView, OptionInput, ResultInput, ResultView,
    ResultsFramework, TargetInput,
};

/// The store's field names and the keys of their labels.
pub const FIELD_LABELS: &[(&str, &str)] = &[
    ("title", "results.title"),
    ("level", "results.level"),
    ("srf_codes", "results.srf_nodes"),
    ("gcm_objectives", "results.gcm"),
    ("sdg_targets", "results.sdg"),
    ("measure", "results.measure"),
    ("unit", "results.unit"),
    ("direction", "results.direction"),
    ("aggregation", "results.aggregation"),
    ("cumulative", "results.cumulative"),
    ("categories", "results.disaggregated_by"),
    ("baseline", "results.baseline"),
    ("baseline_year", "results.baseline_year"),
    ("target", "results.target"),
    ("srf_indicator", "results.srf_indicator"),
    ("means_of_verification", "results.means_of_verification"),
    ("targets", "results.targets_per_period"),
    ("version", "results.version"),
];

/// An error shown above the form, the field named in the reader's language.
pub struct EditError {
    field: Option<String>,
    field_label: Option<String>,
    lead: &'static str,
    message: String,
}

impl EditError {
    fn new(t: Tr, e: &AppError) -> Self {
        let field = e.field().map(str::to_owned);
        Self {
            field_label: field.as_deref().map(|f| {
                FIELD_LABELS
                    .iter()
                    .find(|(name, _)| *name == f)
                    .map_or_else(|| f.to_owned(), |(_, key)| t.get(key).to_owned())
            }),
            field,
            lead: match e {
                AppError::Conflict(_) => t.get("results.edit_conflict"),
                _ => t.get("results.not_saved"),
            },
            message: e.to_string(),
        }
    }
}

/// Errors the person can act on in the page; others become an error page.
fn shown_in_page(e: &AppError) -> bool {
    matches!(e, AppError::Invalid { .. } | AppError::Conflict(_))
}

fn matrix(project: &str, anchor: &str) -> Response {
    Redirect::to(&format!("/projects/{project}/results#{anchor}")).into_response()
}

/// The project's matrix, refused unless the caller may edit it.
async fn editable(state: &AppState, caller: &Caller, project: &str) -> AppResult<ResultsFramework> {
    let f = state
        .store
        .results_framework(&state.org().org, &caller.actor(), project)
        .await?;
    if !can(state, caller, Action::EditResultsFramework, &f.unit) {
        return Err(AppError::Forbidden(format!(
            "{} may not edit the results framework of {}",
            caller.actor().label(),
            f.project_code
        )));
    }
    Ok(f)
}

fn find_result<'a>(f: &'a ResultsFramework, id: &str) -> AppResult<&'a ResultView> {
    f.results
        .iter()
        .find(|r| r.id == id)
        .ok_or_else(|| AppError::NotFound(format!("{} has no result {id}", f.project_code)))
}

fn find_indicator<'a>(f: &'a ResultsFramework, id: &str) -> AppResult<&'a IndicatorView> {
    f.indicator(id)
        .ok_or_else(|| AppError::NotFound(format!("{} has no indicator {id}", f.project_code)))
}

fn with_status(mut response: Response, e: Option<&AppError>) -> Response {
    if let Some(e) = e {
        *response.status_mut() = e.status();
    }
    response
}

pub struct Choice {
    code: String,
    label: String,
    selected: bool,
}

fn coded<T: Copy>(
    t: Tr,
    prefix: &str,
    all: &[T],
    code: fn(T) -> &'static str,
    current: &str,
) -> Vec<Choice> {
    all.iter()
        .map(|v| Choice {
            code: code(*v).to_owned(),
            label: label(t, prefix, code(*v)).to_owned(),
            selected: code(*v) == current,
        })
        .collect()
}

/// The label of a code typed in a form, or the code itself when it is not one of `all`.
fn shown<T: Copy>(
    t: Tr,
    prefix: &str,
    all: &[T],
    code: fn(T) -> &'static str,
    typed: &str,
) -> String {
    if all.iter().any(|v| code(*v) == typed) {
        label(t, prefix, typed).to_owned()
    } else {
        typed.to_owned()
    }
}

pub struct Head {
    code: String,
    title: String,
}

fn head(f: &ResultsFramework) -> Head {
    Head {
        code: f.project_code.clone(),
        title: f.project_title.clone(),
    }
}

// ---------------------------------------------------------------------------------------------
// Results

/// A result's form as shown or as typed.
#[derive(Clone)]
pub struct ResultForm {
    level: String,
    /// The level as people read it (for "your changes").
    level_label: String,
    title: String,
    srf_codes: Vec<String>,
    gcm_objectives: Vec<String>,
    sdg_targets: Vec<String>,
}

impl ResultForm {
    fn of(t: Tr, r: &ResultView) -> Self {
        Self {
            level: r.level.as_str().to_owned(),
            level_label: label(t, "level", r.level.as_str()).to_owned(),
            title: r.title.clone(),
            srf_codes: r.srf_codes.clone(),
            gcm_objectives: r.gcm_objectives.iter().map(u8::to_string).collect(),
            sdg_targets: r.sdg_targets.clone(),
        }
    }

    fn typed(t: Tr, f: &Fields) -> Self {
        let nonempty = |name: &str| {
            f.all(name)
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
        };
        Self {
            level: f.get("level"),
            level_label: shown(
                t,
                "level",
                ResultLevel::ALL,
                ResultLevel::as_str,
                &f.get("level"),
            ),
            title: f.get("title"),
            srf_codes: nonempty("srf_codes"),
            gcm_objectives: nonempty("gcm_objectives"),
            sdg_targets: nonempty("sdg_targets"),
        }
    }

    fn input(&self, version: i64) -> Result<ResultInput, AppError> {
        let gcm_objectives = self
            .gcm_objectives
            .iter()
            .map(|g| {
                g.parse::<u8>().map_err(|_| {
                    AppError::invalid(
                        "gcm_objectives",
                        format!("expected an objective number 1 to 23, found {g:?}"),
                    )
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(ResultInput {
            level: self.level.clone(),
            title: self.title.clone(),
            srf_codes: self.srf_codes.clone(),
            gcm_objectives,
            sdg_targets: self.sdg_targets.clone(),
            version: Some(version),
        })
    }

    /// The links as people read them, for "your changes".
    fn links(&self) -> String {
        self.srf_codes
            .iter()
            .map(|c| format!("SRF {c}"))
            .chain(self.gcm_objectives.iter().map(|g| format!("GCM {g}")))
            .chain(self.sdg_targets.iter().map(|s| format!("SDG {s}")))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Template)]
#[template(path = "results/edit_result.html")]
struct EditResultPage {
    shell: Shell,
    p: Head,
    id: String,
    version: i64,
    form: ResultForm,
    yours: Option<ResultForm>,
    error: Option<EditError>,
    levels: Vec<Choice>,
    srf_nodes: Vec<Choice>,
    gcm: Vec<Choice>,
    sdg: Vec<Choice>,
}

impl EditResultPage {
    fn invalid(&self, field: &str) -> bool {
        self.error
            .as_ref()
            .is_some_and(|e| e.field.as_deref() == Some(field))
    }
}

#[allow(clippy::too_many_arguments)]
async fn result_page(
    state: &AppState,
    caller: &Caller,
    t: Tr,
    uri: &Uri,
    f: &ResultsFramework,
    r: &ResultView,
    form: ResultForm,
    version: i64,
    yours: Option<ResultForm>,
    error: Option<&AppError>,
) -> AppResult<Response> {
    let srf = state.store.srf_tree().await?;
    let picked = |list: &[String], code: &str| list.iter().any(|c| c == code);
    let page = EditResultPage {
        shell: shell(t, caller, uri),
        p: head(f),
        id: r.id.clone(),
        version,
        levels: coded(
            t,
            "level",
            ResultLevel::ALL,
            ResultLevel::as_str,
            &form.level,
        ),
        srf_nodes: srf
            .nodes
            .iter()
            .map(|n| Choice {
                selected: picked(&form.srf_codes, &n.code),
                code: n.code.clone(),
                label: format!("{} {}", n.code, n.title),
            })
            .collect(),
        gcm: reference::gcm_objectives()
            .iter()
            .map(|g| Choice {
                selected: picked(&form.gcm_objectives, &g.number.to_string()),
                code: g.number.to_string(),
                label: format!("{}. {}", g.number, g.short_label),
            })
            .collect(),
        sdg: reference::sdg_targets()
            .iter()
            .map(|s| Choice {
                selected: picked(&form.sdg_targets, &s.target),
                code: s.target.clone(),
                label: format!("{} {}", s.target, s.theme),
            })
            .collect(),
        form,
        yours,
        error: error.map(|e| EditError::new(t, e)),
    };
    Ok(with_status(render(&page)?, error))
}

/// `GET /projects/{id}/results/result/{rid}/edit`
pub async fn edit_result(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path((id, rid)): Path<(String, String)>,
) -> AppResult<Response> {
    let f = editable(&state, &caller, &id).await?;
    let r = find_result(&f, &rid)?;
    result_page(
        &state,
        &caller,
        t,
        &uri,
        &f,
        r,
        ResultForm::of(t, r),
        r.version,
        None,
        None,
    )
    .await
}

/// The version a form carries; a form without one is refused (nothing is saved blind).
fn version_of(fields: &Fields) -> Result<i64, AppError> {
    fields
        .get("version")
        .parse::<i64>()
        .map_err(|_| AppError::invalid("version", "the form lost its version; reload the page"))
}

/// `POST /projects/{id}/results/result/{rid}/edit`
pub async fn save_result(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path((id, rid)): Path<(String, String)>,
    body: Bytes,
) -> AppResult<Response> {
    let f = editable(&state, &caller, &id).await?;
    find_result(&f, &rid)?;
    let fields = Fields::parse(&body);
    let typed = ResultForm::typed(t, &fields);
    let version = version_of(&fields);
    let saved = match version.clone().and_then(|v| typed.input(v)) {
        Err(e) => Err(e),
        Ok(input) => state
            .store
            .update_result(&state.org().org, &caller.actor(), &rid, &input)
            .await
            .map_err(AppError::from),
    };
    let e = match saved {
        Ok(r) => return Ok(matrix(&f.project_code, &format!("result-{}", r.id))),
        Err(e) if shown_in_page(&e) => e,
        Err(e) => return Err(e),
    };
    // Read again: after a conflict the form shows what is stored now.
    let f = editable(&state, &caller, &id).await?;
    let r = find_result(&f, &rid)?;
    if let AppError::Conflict(_) = e {
        let now = ResultForm::of(t, r);
        result_page(
            &state,
            &caller,
            t,
            &uri,
            &f,
            r,
            now,
            r.version,
            Some(typed),
            Some(&e),
        )
        .await
    } else {
        let v = version.unwrap_or(r.version);
        result_page(&state, &caller, t, &uri, &f, r, typed, v, None, Some(&e)).await
    }
}

/// A version typed in a delete form that is not the one stored: someone changed the item since
/// the page was read.
fn stale(what: &str, read: i64, now: i64) -> AppError {
    AppError::Conflict(format!(
        "the {what} was changed since you read it (you have version {read}, it is at {now}); nothing was deleted: look at it again and delete it again if you still want to"
    ))
}

/// `POST /projects/{id}/results/result/{rid}/delete`
pub async fn delete_result(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path((id, rid)): Path<(String, String)>,
    body: Bytes,
) -> AppResult<Response> {
    let f = editable(&state, &caller, &id).await?;
    let r = find_result(&f, &rid)?;
    let fields = Fields::parse(&body);
    let deleted = match version_of(&fields) {
        Err(e) => Err(e),
        Ok(v) if v != r.version => Err(stale("result", v, r.version)),
        // The store checks the version again as it deletes (a change may come in between).
        Ok(v) => state
            .store
            .delete_result(&state.org().org, &caller.actor(), &rid, Some(v))
            .await
            .map_err(AppError::from),
    };
    refused_or_back(deleted, (&state, &caller, t, &uri, &id)).await
}

/// After a deletion: back to the matrix, or the matrix with why nothing was deleted.
async fn refused_or_back(
    result: Result<(), AppError>,
    (state, caller, t, uri, id): (&AppState, &Caller, Tr, &Uri, &str),
) -> AppResult<Response> {
    match result {
        Ok(()) => Ok(matrix(id, "matrix")),
        Err(AppError::Conflict(m)) => {
            let e = AppError::Conflict(format!("{} {m}", t.get("results.not_deleted")));
            super::project::outcome::<()>(Err(e), (state, caller, t, uri, id), "matrix").await
        }
        Err(e) => {
            super::project::outcome::<()>(Err(e), (state, caller, t, uri, id), "matrix").await
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Indicators

/// One disaggregation category in the form: a built-in one or a custom one the indicator has.
#[derive(Clone)]
pub struct CategoryRow {
    code: String,
    label: String,
    checked: bool,
    /// One option a line, `code = label`.
    options: String,
    exhaustive: bool,
}

fn options_text(d: &Disaggregation) -> String {
    d.options
        .iter()
        .map(|o| {
            if o.label.is_empty() || o.label == o.code {
                o.code.clone()
            } else {
                format!("{} = {}", o.code, o.label)
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn parse_options(text: &str) -> Vec<OptionInput> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| match l.split_once('=') {
            Some((code, label)) => OptionInput {
                code: code.trim().to_owned(),
                label: label.trim().to_owned(),
            },
            None => OptionInput {
                code: l.to_owned(),
                label: String::new(),
            },
        })
        .collect()
}

fn category_label(t: Tr, c: &DisaggregationCategory) -> String {
    if DisaggregationCategory::BUILTIN.contains(c) {
        label(t, "category", c.as_str()).to_owned()
    } else {
        c.as_str().to_owned()
    }
}

/// An indicator's form as shown or as typed.
#[derive(Clone)]
pub struct IndicatorForm {
    title: String,
    measure: String,
    unit: String,
    direction: String,
    aggregation: String,
    /// Measure, direction and aggregation as people read them (for "your changes").
    labels: [String; 3],
    cumulative: bool,
    categories: Vec<CategoryRow>,
    new_category: String,
    new_options: String,
    new_exhaustive: bool,
    baseline: String,
    baseline_year: String,
    target: String,
    srf_indicator: String,
    means: String,
}

impl IndicatorForm {
    fn of(t: Tr, ind: &IndicatorView) -> Self {
        // The indicator's categories first, in its order (the first one gives the rows of the
        // entry table), then the built-in ones it does not have.
        let mut categories: Vec<CategoryRow> = ind
            .categories
            .iter()
            .map(|d| CategoryRow {
                code: d.category.as_str().to_owned(),
                label: category_label(t, &d.category),
                checked: true,
                options: options_text(d),
                exhaustive: d.exhaustive,
            })
            .collect();
        for c in DisaggregationCategory::BUILTIN.iter() {
            if !ind.categories.iter().any(|d| d.category == *c) {
                let d = Disaggregation::default_for(c.clone());
                categories.push(CategoryRow {
                    code: c.as_str().to_owned(),
                    label: category_label(t, c),
                    checked: false,
                    options: options_text(&d),
                    exhaustive: d.exhaustive,
                });
            }
        }
        Self {
            title: ind.title.clone(),
            measure: ind.measure.as_str().to_owned(),
            unit: ind.unit.clone(),
            direction: ind.direction.as_str().to_owned(),
            aggregation: ind.aggregation.as_str().to_owned(),
            labels: [
                label(t, "measure", ind.measure.as_str()).to_owned(),
                label(t, "direction", ind.direction.as_str()).to_owned(),
                label(t, "aggregation", ind.aggregation.as_str()).to_owned(),
            ],
            cumulative: ind.cumulative,
            categories,
            new_category: String::new(),
            new_options: String::new(),
            new_exhaustive: false,
            baseline: ind
                .baseline
                .as_ref()
                .map(|f| f.to_input())
                .unwrap_or_default(),
            baseline_year: ind.baseline_year.map(|y| y.to_string()).unwrap_or_default(),
            target: ind
                .target
                .as_ref()
                .map(|f| f.to_input())
                .unwrap_or_default(),
            srf_indicator: ind.srf_indicator.clone().unwrap_or_default(),
            means: ind.means_of_verification.clone(),
        }
    }

    fn typed(t: Tr, f: &Fields) -> Self {
        let checked = f.all("categories");
        let categories = f
            .all("row")
            .into_iter()
            .filter(|code| !code.is_empty())
            .map(|code| CategoryRow {
                label: code
                    .parse::<DisaggregationCategory>()
                    .map_or_else(|_| code.clone(), |c| category_label(t, &c)),
                checked: checked.contains(&code),
                options: f.text(&format!("options:{code}")),
                exhaustive: f.get(&format!("exhaustive:{code}")) == "on",
                code,
            })
            .collect();
        Self {
            title: f.get("title"),
            measure: f.get("measure"),
            unit: f.get("unit"),
            direction: f.get("direction"),
            aggregation: f.get("aggregation"),
            labels: [
                shown(
                    t,
                    "measure",
                    Measure::ALL,
                    Measure::as_str,
                    &f.get("measure"),
                ),
                shown(
                    t,
                    "direction",
                    Direction::ALL,
                    Direction::as_str,
                    &f.get("direction"),
                ),
                shown(
                    t,
                    "aggregation",
                    AggregationType::ALL,
                    AggregationType::as_str,
                    &f.get("aggregation"),
                ),
            ],
            cumulative: f.get("cumulative") == "on",
            categories,
            new_category: f.get("new_category"),
            new_options: f.text("new_options"),
            new_exhaustive: f.get("new_exhaustive") == "on",
            baseline: f.get("baseline"),
            baseline_year: f.get("baseline_year"),
            target: f.get("target"),
            srf_indicator: f.get("srf_indicator"),
            means: f.get("means_of_verification"),
        }
    }

    /// The store's input: the form's definition with the indicator's targets per period kept
    /// (they are set in the matrix, period by period).
    fn input(&self, targets: Vec<TargetInput>, version: i64) -> Result<IndicatorInput, AppError> {
        let baseline_year = match self.baseline_year.as_str() {
            "" => None,
            y => Some(y.parse::<i64>().map_err(|_| {
                AppError::invalid(
                    "baseline_year",
                    format!("expected a year such as 2025, found {y:?}"),
                )
            })?),
        };
        let opt = |s: &str| Some(s.to_owned()).filter(|s| !s.is_empty());
        let mut categories: Vec<CategoryInput> = self
            .categories
            .iter()
            .filter(|c| c.checked)
            .map(|c| CategoryInput {
                category: c.code.clone(),
                options: Some(parse_options(&c.options)),
                exhaustive: Some(c.exhaustive),
            })
            .collect();
        if !self.new_category.is_empty() {
            categories.push(CategoryInput {
                category: self.new_category.clone(),
                options: Some(parse_options(&self.new_options)),
                exhaustive: Some(self.new_exhaustive),
            });
        }
        Ok(IndicatorInput {
            title: self.title.clone(),
            measure: self.measure.clone(),
            direction: opt(&self.direction),
            aggregation: opt(&self.aggregation),
            cumulative: self.cumulative,
            unit: self.unit.clone(),
            categories,
            baseline_year,
            baseline: opt(&self.baseline),
            target: opt(&self.target),
            srf_indicator: opt(&self.srf_indicator),
            means_of_verification: self.means.clone(),
            targets,
            version: Some(version),
        })
    }

    /// The categories chosen, as people read them, for "your changes".
    fn chosen(&self) -> String {
        self.categories
            .iter()
            .filter(|c| c.checked)
            .map(|c| c.label.clone())
            .chain(Some(self.new_category.clone()).filter(|c| !c.is_empty()))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[derive(Template)]
#[template(path = "results/edit_indicator.html")]
struct EditIndicatorPage {
    shell: Shell,
    p: Head,
    id: String,
    version: i64,
    /// How many reports the indicator has (its measure and reported keys are then fixed).
    reports: usize,
    /// How many targets per period it has (kept as they are).
    targets: usize,
    form: IndicatorForm,
    yours: Option<IndicatorForm>,
    error: Option<EditError>,
    measures: Vec<Choice>,
    directions: Vec<Choice>,
    aggregations: Vec<Choice>,
    srf_indicators: Vec<Choice>,
}

impl EditIndicatorPage {
    fn invalid(&self, field: &str) -> bool {
        self.error
            .as_ref()
            .is_some_and(|e| e.field.as_deref() == Some(field))
    }
}

#[allow(clippy::too_many_arguments)]
async fn indicator_page(
    state: &AppState,
    caller: &Caller,
    t: Tr,
    uri: &Uri,
    f: &ResultsFramework,
    ind: &IndicatorView,
    form: IndicatorForm,
    version: i64,
    yours: Option<IndicatorForm>,
    error: Option<&AppError>,
) -> AppResult<Response> {
    let srf = state.store.srf_tree().await?;
    let page = EditIndicatorPage {
        shell: shell(t, caller, uri),
        p: head(f),
        id: ind.id.clone(),
        version,
        reports: ind.reports.len(),
        targets: ind.targets.len(),
        measures: coded(t, "measure", Measure::ALL, Measure::as_str, &form.measure),
        directions: coded(
            t,
            "direction",
            Direction::ALL,
            Direction::as_str,
            &form.direction,
        ),
        aggregations: coded(
            t,
            "aggregation",
            AggregationType::ALL,
            AggregationType::as_str,
            &form.aggregation,
        ),
        srf_indicators: srf
            .indicators
            .iter()
            .map(|i| Choice {
                selected: i.code == form.srf_indicator,
                code: i.code.clone(),
                label: format!(
                    "{} {} ({})",
                    i.code,
                    i.title,
                    label(t, "measure", i.measure.as_str())
                ),
            })
            .collect(),
        form,
        yours,
        error: error.map(|e| EditError::new(t, e)),
    };
    Ok(with_status(render(&page)?, error))
}

/// `GET /projects/{id}/results/indicator/{iid}/edit`
pub async fn edit_indicator(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path((id, iid)): Path<(String, String)>,
) -> AppResult<Response> {
    let f = editable(&state, &caller, &id).await?;
    let ind = find_indicator(&f, &iid)?;
    let form = IndicatorForm::of(t, ind);
    indicator_page(
        &state,
        &caller,
        t,
        &uri,
        &f,
        ind,
        form,
        ind.version,
        None,
        None,
    )
    .await
}

/// A new measure fits neither the values reported nor the targets per period set as the old
/// one: said of the measure (the store refuses the first; the second it would name as a target
/// that does not parse, which is not the person's mistake).
fn measure_may_change(ind: &IndicatorView, typed: &str) -> Result<(), AppError> {
    if typed == ind.measure.as_str() || typed.is_empty() {
        return Ok(());
    }
    if !ind.reports.is_empty() {
        return Err(AppError::invalid(
            "measure",
            format!(
                "the indicator has {} reports as {}; its measure cannot change",
                ind.reports.len(),
                ind.measure
            ),
        ));
    }
    if !ind.targets.is_empty() {
        return Err(AppError::invalid(
            "measure",
            format!(
                "the indicator has {} targets per period as {}; clear them in the matrix before changing its measure",
                ind.targets.len(),
                ind.measure
            ),
        ));
    }
    Ok(())
}

/// `POST /projects/{id}/results/indicator/{iid}/edit`
pub async fn save_indicator(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path((id, iid)): Path<(String, String)>,
    body: Bytes,
) -> AppResult<Response> {
    let f = editable(&state, &caller, &id).await?;
    let ind = find_indicator(&f, &iid)?;
    let fields = Fields::parse(&body);
    let typed = IndicatorForm::typed(t, &fields);
    let version = version_of(&fields);
    // The targets per period stay as they are. Were they changed since the form was read, the
    // version differs and the store refuses the whole save.
    let targets: Vec<TargetInput> = ind
        .targets
        .iter()
        .map(|x| TargetInput {
            period: x.period_start.clone(),
            disaggregation: x.disaggregation.clone(),
            value: x.figure.to_input(),
        })
        .collect();
    let saved = match version
        .clone()
        .and_then(|v| measure_may_change(ind, &typed.measure).map(|()| v))
        .and_then(|v| typed.input(targets, v))
    {
        Err(e) => Err(e),
        Ok(input) => state
            .store
            .update_indicator(&state.org().org, &caller.actor(), &iid, &input)
            .await
            .map_err(AppError::from),
    };
    let e = match saved {
        Ok(i) => return Ok(matrix(&f.project_code, &format!("ind-{}", i.id))),
        Err(e) if shown_in_page(&e) => e,
        Err(e) => return Err(e),
    };
    let f = editable(&state, &caller, &id).await?;
    let ind = find_indicator(&f, &iid)?;
    if let AppError::Conflict(_) = e {
        let now = IndicatorForm::of(t, ind);
        indicator_page(
            &state,
            &caller,
            t,
            &uri,
            &f,
            ind,
            now,
            ind.version,
            Some(typed),
            Some(&e),
        )
        .await
    } else {
        let v = version.unwrap_or(ind.version);
        indicator_page(&state, &caller, t, &uri, &f, ind, typed, v, None, Some(&e)).await
    }
}

/// `POST /projects/{id}/results/indicator/{iid}/delete`
pub async fn delete_indicator(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path((id, iid)): Path<(String, String)>,
    body: Bytes,
) -> AppResult<Response> {
    let f = editable(&state, &caller, &id).await?;
    let ind = find_indicator(&f, &iid)?;
    let fields = Fields::parse(&body);
    let deleted = match version_of(&fields) {
        Err(e) => Err(e),
        Ok(v) if v != ind.version => Err(stale("indicator", v, ind.version)),
        Ok(v) => state
            .store
            .delete_indicator(&state.org().org, &caller.actor(), &iid, Some(v))
            .await
            .map_err(AppError::from),
    };
    refused_or_back(deleted, (&state, &caller, t, &uri, &id)).await
}
