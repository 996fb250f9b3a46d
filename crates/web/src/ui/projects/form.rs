//! The draft form: a new project, and the edit of a draft or a project returned for revision.

use super::filters::{country_options, office_options, theme_options};
use super::{Fields, FormError, lines, shell, shown_in_page, with_status};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::state::AppState;
use crate::ui::{Shell, render, urlencode};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use meridian_domain::authz::{Action, authorize};
use meridian_domain::org::UnitCode;
use meridian_domain::projects::money::Currency;
use meridian_store::projects::{BudgetLineInput, Project, ProjectInput};

/// Fields the store names in its errors, each with a `field.<name>` label.
pub const FIELDS: &[&str] = &[
    "title",
    "summary",
    "thematic_area",
    "unit",
    "primary_country",
    "countries",
    "admin_areas",
    "start_date",
    "end_date",
    "currency",
    "budget_lines",
    "donors",
    "partners",
    "restricted",
    "version",
    "action",
    "comment",
    "section",
    "body",
    "reply_to",
    "kind",
    "date",
    "amount",
    "authority",
    "role",
    "person",
    "limit_amount",
    "limit_currency",
    "valid_from",
    "valid_to",
    "parent",
    "csv",
    "usd_per_unit",
    "status",
    "year",
    "min_usd",
    "max_usd",
    "sort",
];

/// Empty budget rows offered below the existing ones.
const EMPTY_LINES: usize = 5;

#[derive(Debug, Clone, Default)]
pub struct LineRow {
    pub category: String,
    pub description: String,
    pub currency: String,
    pub amount: String,
}

impl LineRow {
    fn is_empty(&self) -> bool {
        self.category.is_empty() && self.description.is_empty() && self.amount.is_empty()
    }
}

/// The form's values as text, as typed or as stored.
#[derive(Debug, Clone, Default)]
pub struct ProjectForm {
    pub title: String,
    pub summary: String,
    pub thematic_area: String,
    pub unit: String,
    pub primary_country: String,
    /// Other countries, ISO3 codes separated by commas or spaces.
    pub countries: String,
    /// One per line.
    pub admin_areas: String,
    pub start_date: String,
    pub end_date: String,
    pub currency: String,
    pub lines: Vec<LineRow>,
    pub donors: String,
    pub partners: String,
    pub restricted: bool,
}

impl ProjectForm {
    fn from_fields(f: &Fields) -> Self {
        let categories = f.all("line_category");
        let descriptions = f.all("line_description");
        let currencies = f.all("line_currency");
        let amounts = f.all("line_amount");
        let at = |list: &[String], i: usize| list.get(i).cloned().unwrap_or_default();
        let lines = (0..categories.len().max(amounts.len()))
            .map(|i| LineRow {
                category: at(&categories, i),
                description: at(&descriptions, i),
                currency: at(&currencies, i),
                amount: at(&amounts, i),
            })
            .filter(|l| !l.is_empty())
            .collect();
        Self {
            title: f.get("title"),
            summary: f.text("summary").trim().to_owned(),
            thematic_area: f.get("thematic_area"),
            unit: f.get("unit"),
            primary_country: f.get("primary_country"),
            countries: f.get("countries"),
            admin_areas: f.text("admin_areas"),
            start_date: f.get("start_date"),
            end_date: f.get("end_date"),
            currency: f.get("currency"),
            lines,
            donors: f.text("donors"),
            partners: f.text("partners"),
            restricted: f.get("restricted") == "true",
        }
    }

    fn from_project(p: &Project) -> Self {
        Self {
            title: p.title.clone(),
            summary: p.summary.clone(),
            thematic_area: p.thematic_area.clone(),
            unit: p.unit.clone(),
            primary_country: p.primary_country.clone(),
            countries: p
                .countries
                .iter()
                .filter(|c| **c != p.primary_country)
                .cloned()
                .collect::<Vec<_>>()
                .join(", "),
            admin_areas: p.admin_areas.join("\n"),
            start_date: p.start_date.clone(),
            end_date: p.end_date.clone(),
            currency: p.currency.clone(),
            lines: p
                .budget_lines
                .iter()
                .flatten()
                .map(|l| LineRow {
                    category: l.category.clone(),
                    description: l.description.clone(),
                    currency: l.currency.clone(),
                    amount: l.amount.to_string(),
                })
                .collect(),
            donors: p.donors.clone().unwrap_or_default().join("\n"),
            partners: p.partners.join("\n"),
            restricted: p.restricted,
        }
    }

    fn input(&self) -> ProjectInput {
        ProjectInput {
            title: self.title.clone(),
            summary: self.summary.clone(),
            thematic_area: self.thematic_area.clone(),
            unit: self.unit.clone(),
            primary_country: self.primary_country.clone(),
            countries: self
                .countries
                .split([',', ' ', ';', '\n'])
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .map(str::to_owned)
                .collect(),
            admin_areas: lines(&self.admin_areas),
            start_date: self.start_date.clone(),
            end_date: self.end_date.clone(),
            currency: self.currency.clone(),
            budget_lines: self
                .lines
                .iter()
                .map(|l| BudgetLineInput {
                    category: l.category.clone(),
                    description: l.description.clone(),
                    // A row without a currency is in the project's currency.
                    currency: if l.currency.is_empty() {
                        self.currency.clone()
                    } else {
                        l.currency.clone()
                    },
                    amount: l.amount.clone(),
                })
                .collect(),
            donors: lines(&self.donors),
            partners: lines(&self.partners),
            restricted: self.restricted,
        }
    }

    /// The rows the form shows: the lines, then empty rows to add more.
    fn rows(&self) -> Vec<LineRow> {
        let mut rows = self.lines.clone();
        rows.extend(std::iter::repeat_n(LineRow::default(), EMPTY_LINES));
        rows
    }
}

#[derive(Template)]
#[template(path = "projects/form.html")]
struct FormPage {
    shell: Shell,
    heading: String,
    action: String,
    cancel: String,
    version: Option<i64>,
    form: ProjectForm,
    rows: Vec<LineRow>,
    error: Option<FormError>,
    /// After a conflict: what the person had typed, shown next to the current values.
    yours: Option<ProjectForm>,
    themes: Vec<(&'static str, &'static str)>,
    offices: Vec<(String, String)>,
    countries: Vec<(String, String)>,
    currencies: Vec<(&'static str, &'static str)>,
}

impl FormPage {
    fn invalid(&self, field: &str) -> bool {
        self.error.as_ref().is_some_and(|e| e.is(field))
    }
}

struct FormContext<'a> {
    state: &'a AppState,
    caller: &'a Caller,
    t: Tr,
    uri: &'a Uri,
}

impl FormContext<'_> {
    #[allow(clippy::too_many_arguments)]
    fn page(
        &self,
        heading: String,
        action: String,
        cancel: String,
        version: Option<i64>,
        form: ProjectForm,
        error: Option<&AppError>,
        yours: Option<ProjectForm>,
    ) -> AppResult<Response> {
        let snap = self.state.org();
        let page = FormPage {
            shell: shell(self.t, self.caller, self.uri),
            heading,
            action,
            cancel,
            version,
            rows: form.rows(),
            form,
            error: error.map(|e| FormError::new(self.t, e)),
            yours,
            themes: theme_options(self.t),
            offices: office_options(&snap, self.caller),
            countries: country_options(&snap, self.t),
            currencies: Currency::all().map(|c| (c.code(), c.name())).collect(),
        };
        let response = render(&page)?;
        Ok(match error {
            Some(e) => with_status(response, e),
            None => response,
        })
    }
}

pub async fn new_page(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
) -> AppResult<Response> {
    authorize(
        &state.org().org,
        &caller.actor(),
        Action::DraftProject,
        &caller.user.unit,
    )?;
    let form = ProjectForm {
        unit: caller.user.unit.to_string(),
        currency: "USD".into(),
        ..Default::default()
    };
    FormContext {
        state: &state,
        caller: &caller,
        t,
        uri: &uri,
    }
    .page(
        t.get("project.new").to_owned(),
        "/projects/new".into(),
        "/projects".into(),
        None,
        form,
        None,
        None,
    )
}

pub async fn create(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    body: Bytes,
) -> AppResult<Response> {
    let form = ProjectForm::from_fields(&Fields::parse(&body));
    let created = state
        .store
        .create_project(&state.org().org, &caller.actor(), &form.input())
        .await
        .map_err(AppError::from);
    match created {
        Ok(p) => Ok(Redirect::to(&format!("/projects/{}", urlencode(&p.code))).into_response()),
        Err(e) if shown_in_page(&e) => FormContext {
            state: &state,
            caller: &caller,
            t,
            uri: &uri,
        }
        .page(
            t.get("project.new").to_owned(),
            "/projects/new".into(),
            "/projects".into(),
            None,
            form,
            Some(&e),
            None,
        ),
        Err(e) => Err(e),
    }
}

fn edit_heading(t: Tr, p: &Project) -> String {
    format!("{} {}", t.get("project.edit"), p.code)
}

pub async fn edit_page(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(id): Path<String>,
) -> AppResult<Response> {
    let snap = state.org();
    let p = state.store.project(&snap.org, &caller.actor(), &id).await?;
    let unit = UnitCode::parse(&p.unit).map_err(AppError::Internal)?;
    authorize(&snap.org, &caller.actor(), Action::DraftProject, &unit)?;
    let error = (!p.status.is_editable()).then(|| {
        AppError::Conflict(format!(
            "only a draft or a project returned for revision can be edited; {} is {}",
            p.code, p.status
        ))
    });
    FormContext {
        state: &state,
        caller: &caller,
        t,
        uri: &uri,
    }
    .page(
        edit_heading(t, &p),
        format!("/projects/{}/edit", urlencode(&p.code)),
        format!("/projects/{}", urlencode(&p.code)),
        Some(p.version),
        ProjectForm::from_project(&p),
        error.as_ref(),
        None,
    )
}

pub async fn edit(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Path(id): Path<String>,
    body: Bytes,
) -> AppResult<Response> {
    let snap = state.org();
    let fields = Fields::parse(&body);
    let form = ProjectForm::from_fields(&fields);
    let version = fields.get("version").parse::<i64>().ok();
    let saved = match version {
        None => Err(AppError::invalid(
            "version",
            "the form lost its version; reload the page",
        )),
        Some(v) => state
            .store
            .update_project(&snap.org, &caller.actor(), &id, &form.input(), v)
            .await
            .map_err(AppError::from),
    };
    let e = match saved {
        Ok(p) => {
            return Ok(Redirect::to(&format!("/projects/{}", urlencode(&p.code))).into_response());
        }
        Err(e) if shown_in_page(&e) => e,
        Err(e) => return Err(e),
    };
    let current = state.store.project(&snap.org, &caller.actor(), &id).await?;
    let ctx = FormContext {
        state: &state,
        caller: &caller,
        t,
        uri: &uri,
    };
    let action = format!("/projects/{}/edit", urlencode(&current.code));
    let cancel = format!("/projects/{}", urlencode(&current.code));
    if let AppError::Conflict(_) = e {
        // Someone saved first: the form now holds the current values and version, and what
        // the person typed is shown beside it, so nothing is overwritten and nothing is lost.
        ctx.page(
            edit_heading(t, &current),
            action,
            cancel,
            Some(current.version),
            ProjectForm::from_project(&current),
            Some(&e),
            Some(form),
        )
    } else {
        ctx.page(
            edit_heading(t, &current),
            action,
            cancel,
            version,
            form,
            Some(&e),
            None,
        )
    }
}
