//! The server-rendered pages. Every page extends `templates/base.html` through a [`Shell`]
//! (language, signed-in user, CSRF token, navigation); handlers return a fragment to htmx
//! requests (`HX-Request`) and the whole page otherwise.

mod account;
mod admin;
mod evaluations;
mod org;
mod projects;
pub(crate) use projects::IATI_IMPORT_PATH;
mod results;

use crate::auth::Caller;
use crate::error::AppError;
use crate::i18n::{Lang, Tr};
use crate::state::AppState;
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use meridian_domain::authz::{Action, authorize};
use meridian_store::audit::AuditEvent;

/// Modules that have a place in the navigation but are not built yet.
const UPCOMING: [&str; 6] = [
    "nav.risk",
    "nav.compliance",
    "nav.donors",
    "nav.partners",
    "nav.data",
    "nav.learning",
];

pub struct Shell {
    pub t: Tr,
    pub user: Option<ShellUser>,
    pub csrf: String,
    pub section: &'static str,
    pub path: String,
    pub is_admin: bool,
    pub css: &'static str,
    pub htmx: &'static str,
    pub js: &'static str,
    pub upcoming: &'static [&'static str],
    pub languages: Vec<(&'static str, &'static str)>,
}

pub struct ShellUser {
    pub email: String,
    pub unit: String,
}

impl Shell {
    pub fn new(t: Tr, caller: Option<&Caller>, section: &'static str, uri: &Uri) -> Self {
        Self {
            t,
            user: caller.map(|c| ShellUser {
                email: c.user.email.clone(),
                unit: c.user.unit.to_string(),
            }),
            csrf: caller.and_then(|c| c.csrf.clone()).unwrap_or_default(),
            section,
            path: uri
                .path_and_query()
                .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned()),
            is_admin: caller.is_some_and(|c| {
                c.user
                    .roles
                    .contains(&meridian_domain::authz::Role::Administrator)
            }),
            css: crate::static_files::CSS_PATH,
            htmx: crate::static_files::HTMX_PATH,
            js: crate::static_files::JS_PATH,
            upcoming: &UPCOMING,
            languages: Lang::ALL
                .iter()
                .map(|l| (l.code(), l.native_name()))
                .collect(),
        }
    }
}

impl Shell {
    pub fn kind_key(&self, kind: &str) -> &'static str {
        kind_key(kind)
    }

    /// The label key of IOM's role in a process, e.g. `role.secretariat`.
    pub fn role_key(&self, role: &str) -> &'static str {
        match role {
            "member" => "role.member",
            "partner" => "role.partner",
            "observer" => "role.observer",
            "secretariat" => "role.secretariat",
            "technical_secretariat" => "role.technical_secretariat",
            "service_provider" => "role.service_provider",
            _ => "kind.unknown",
        }
    }

    /// The label key of a user role, e.g. `user_role.administrator`.
    pub fn role_label(&self, role: &str) -> &'static str {
        meridian_domain::authz::Role::parse(role)
            .map(user_role_key)
            .unwrap_or("kind.unknown")
    }
}

pub fn user_role_key(role: meridian_domain::authz::Role) -> &'static str {
    use meridian_domain::authz::Role::*;
    match role {
        Administrator => "user_role.administrator",
        Viewer => "user_role.viewer",
        ProjectDeveloper => "user_role.project_developer",
        RegionalReviewer => "user_role.regional_reviewer",
        Approver => "user_role.approver",
        RbmOfficer => "user_role.rbm_officer",
        MeOfficer => "user_role.me_officer",
        RiskOfficer => "user_role.risk_officer",
        ComplianceOfficer => "user_role.compliance_officer",
        DonorRelationsOfficer => "user_role.donor_relations_officer",
        PartnershipsOfficer => "user_role.partnerships_officer",
        DataOfficer => "user_role.data_officer",
    }
}

/// Renders a template into a response; a template error is an internal error.
pub fn render(template: &impl Template) -> Result<Response, AppError> {
    template
        .render()
        .map(|html| Html(html).into_response())
        .map_err(|e| AppError::Internal(format!("template: {e}")))
}

/// An htmx request that wants a fragment. A history restore (the back button after htmx's
/// cache is gone) wants the whole page.
pub fn is_htmx(headers: &HeaderMap) -> bool {
    headers.contains_key("hx-request") && !headers.contains_key("hx-history-restore-request")
}

/// Form fields by name; repeated names (rows of a table, checkboxes) keep every value in order.
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &Bytes) -> Self {
        Self(form_urlencoded::parse(body).into_owned().collect())
    }

    /// The first value, trimmed; empty when absent.
    pub fn get(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .unwrap_or_default()
    }

    /// The first value, untrimmed (for text areas).
    pub fn text(&self, name: &str) -> String {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.replace("\r\n", "\n"))
            .unwrap_or_default()
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    shell: Shell,
    title: &'static str,
    message: String,
}

/// Turns API-style errors from page handlers into pages: a redirect to sign in for
/// `unauthenticated`, an error page in the user's language otherwise.
async fn render_errors(State(_state): State<AppState>, req: Request, next: Next) -> Response {
    let uri = req.uri().clone();
    let tr = Tr::from_headers(req.headers());
    let caller = req.extensions().get::<Caller>().cloned();
    let response = next.run(req).await;
    let Some(error) = response.extensions().get::<AppError>().cloned() else {
        return response;
    };
    if let AppError::PasswordChangeRequired = error {
        return Redirect::to("/account/password").into_response();
    }
    if let AppError::Unauthenticated = error {
        let next = uri.path_and_query().map_or("/", |p| p.as_str());
        let target = format!("/login?next={}", urlencode(next));
        return Redirect::to(&target).into_response();
    }
    let title = match error.status() {
        StatusCode::FORBIDDEN => tr.get("error.forbidden"),
        StatusCode::NOT_FOUND => tr.get("error.not_found"),
        StatusCode::CONFLICT => tr.get("error.conflict"),
        StatusCode::SERVICE_UNAVAILABLE => tr.get("error.busy"),
        StatusCode::INTERNAL_SERVER_ERROR => tr.get("error.internal"),
        _ => tr.get("error.invalid"),
    };
    let page = ErrorPage {
        shell: Shell::new(tr, caller.as_ref(), "", &uri),
        title,
        message: error.to_string(),
    };
    match page.render() {
        Ok(html) => (error.status(), Html(html)).into_response(),
        Err(_) => response,
    }
}

pub fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A row of an audit table, with the fields that changed.
pub struct EventRow {
    pub at: String,
    pub at_short: String,
    pub actor: String,
    pub action: String,
    pub entity: String,
    pub entity_id: String,
    pub diff: Vec<DiffRow>,
}

pub struct DiffRow {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

impl From<AuditEvent> for EventRow {
    fn from(e: AuditEvent) -> Self {
        let show = |v: &serde_json::Value| match v {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        let mut diff = Vec::new();
        match (&e.before, &e.after) {
            (b, Some(serde_json::Value::Object(after))) => {
                let before = b.as_ref().and_then(|b| b.as_object());
                for (key, value) in after {
                    let old = before.and_then(|b| b.get(key));
                    if old != Some(value) {
                        diff.push(DiffRow {
                            field: key.clone(),
                            before: old.map(show),
                            after: Some(show(value)),
                        });
                    }
                }
            }
            (b, a) => {
                if b.is_some() || a.is_some() {
                    diff.push(DiffRow {
                        field: String::from("value"),
                        before: b.as_ref().map(show),
                        after: a.as_ref().map(show),
                    });
                }
            }
        }
        Self {
            at_short: e.at.get(..16).unwrap_or(&e.at).replace('T', " "),
            at: e.at,
            actor: e.actor,
            action: e.action,
            entity: e.entity,
            entity_id: e.entity_id,
            diff,
        }
    }
}

/// The label key of a unit kind, e.g. `kind.regional_office`.
pub fn kind_key(kind: &str) -> &'static str {
    match kind {
        "executive_office" => "kind.executive_office",
        "department" => "kind.department",
        "division" => "kind.division",
        "unit" => "kind.unit",
        "office" => "kind.office",
        "regional_office" => "kind.regional_office",
        "country_office" => "kind.country_office",
        "special_office" => "kind.special_office",
        _ => "kind.unknown",
    }
}

pub fn can(state: &AppState, caller: &Caller, action: Action, unit: &str) -> bool {
    let snap = state.org();
    meridian_domain::org::UnitCode::parse(unit)
        .is_ok_and(|code| authorize(&snap.org, &caller.actor(), action, &code).is_ok())
}

pub fn router(state: AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(org::home))
        .route("/login", get(account::login_page).post(account::login))
        .route("/logout", post(account::logout))
        .route(
            "/account/password",
            get(account::password_page).post(account::change_password),
        )
        .route("/lang/{code}", get(account::set_language))
        .route("/org", get(org::tree))
        .route("/org/units/{code}", get(org::unit))
        .route("/org/search", get(org::search))
        .route("/org/countries", get(org::countries))
        .route("/org/countries/{iso3}", get(org::country))
        .route("/admin/users", get(admin::users))
        .route("/admin/units/{code}/users", get(admin::unit_users))
        .route(
            "/admin/users/new",
            get(admin::new_user_page).post(admin::create_user),
        )
        .route(
            "/admin/users/{id}",
            get(admin::user_page).post(admin::update_user),
        )
        .route("/admin/users/{id}/password", post(admin::reset_password))
        .route("/admin/users/{id}/token", post(admin::issue_token))
        .route("/admin/audit", get(admin::audit))
        .route("/admin/org/reload", post(admin::reload_org))
        .route("/projects", get(projects::portfolio))
        .route("/projects/analytics", get(projects::analytics))
        .route(
            "/projects/new",
            get(projects::new_page).post(projects::create),
        )
        .route(
            "/projects/delegations",
            get(projects::delegations).post(projects::create_delegation),
        )
        .route(
            "/projects/delegations/{id}/revoke",
            post(projects::revoke_delegation),
        )
        .route(
            "/projects/exchange-rates",
            get(projects::exchange_rates).post(projects::put_rates),
        )
        .route("/projects/iati", get(projects::iati))
        .route(
            projects::IATI_IMPORT_PATH,
            post(projects::iati_import).layer(axum::extract::DefaultBodyLimit::max(
                (crate::api::iati::MAX_IATI_BYTES + 64 * 1024) as usize,
            )),
        )
        .route(
            "/projects/iati/activities.xml",
            get(crate::api::iati::export),
        )
        .route("/projects/{id}", get(projects::project))
        .route(
            "/projects/{id}/edit",
            get(projects::edit_page).post(projects::edit),
        )
        .route("/projects/{id}/transition", post(projects::transition))
        .route("/projects/{id}/comments", post(projects::comment))
        .route(
            "/projects/{id}/documents",
            post(projects::upload_document).layer(axum::extract::DefaultBodyLimit::max(
                meridian_domain::projects::documents::MAX_DOCUMENT_BYTES + 64 * 1024,
            )),
        )
        .route(
            "/projects/{id}/transactions",
            post(projects::add_transaction),
        )
        .route("/review", get(projects::review_queue))
        .route("/results", get(results::rollup))
        .route("/results/missing", get(results::missing))
        .route(
            "/results/programmes",
            get(results::programmes).post(results::create_programme),
        )
        .route("/results/programmes/{id}", get(results::programme))
        .route("/results/srf/nodes/{code}", post(results::update_srf_node))
        .route(
            "/results/srf/indicators/{code}",
            post(results::update_srf_indicator),
        )
        .route("/projects/{id}/results", get(results::project_results))
        .route(
            "/projects/{id}/results/frequency",
            post(results::set_frequency),
        )
        .route("/projects/{id}/results/new", post(results::add_result))
        .route(
            "/projects/{id}/results/indicators",
            post(results::add_indicator),
        )
        .route(
            "/projects/{id}/results/result/{rid}/edit",
            get(results::edit_result).post(results::save_result),
        )
        .route(
            "/projects/{id}/results/result/{rid}/delete",
            post(results::delete_result),
        )
        .route(
            "/projects/{id}/results/indicator/{iid}/edit",
            get(results::edit_indicator).post(results::save_indicator),
        )
        .route(
            "/projects/{id}/results/indicator/{iid}/delete",
            post(results::delete_indicator),
        )
        .route("/projects/{id}/results/report", post(results::report))
        .route("/projects/{id}/results/targets", post(results::targets))
        .route("/projects/{id}/results/review", post(results::review))
        .route(
            "/projects/{id}/results/approve-period",
            post(results::approve_period),
        )
        .route("/projects/{id}/results/lock", post(results::lock_period))
        .route(
            "/projects/{id}/results/template.xlsx",
            get(results::template_xlsx),
        )
        .route(
            "/projects/{id}/results/template.csv",
            get(results::template_csv),
        )
        .route(
            "/projects/{id}/results/upload",
            post(results::upload).layer(axum::extract::DefaultBodyLimit::max(
                crate::api::results::MAX_UPLOAD_BYTES,
            )),
        )
        .route(
            "/results/offices/{code}/template.xlsx",
            get(results::office_template_xlsx),
        )
        .route(
            "/results/offices/{code}/template.csv",
            get(results::office_template_csv),
        )
        .route(
            "/results/offices/{code}/upload",
            post(results::office_upload).layer(axum::extract::DefaultBodyLimit::max(
                crate::api::results::MAX_UPLOAD_BYTES,
            )),
        )
        .merge(evaluations::routes())
        .layer(middleware::from_fn_with_state(state, render_errors))
}
