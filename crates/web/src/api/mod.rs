//! The JSON API under `/api/v1`, described by the OpenAPI document at `/api/v1/openapi.json`.

pub mod audit;
pub mod auth;
pub mod evaluations;
pub mod iati;
pub mod org;
pub mod projects;
pub mod results;
pub mod users;

use crate::state::AppState;
use axum::Json;
use axum::Router;
use axum::routing::{get, patch, post, put};
use utoipa::OpenApi;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};

#[derive(OpenApi)]
#[openapi(
    info(title = "Meridian API", description = "Management of an international migration organization: its units, projects, results and resources."),
    paths(
        auth::login, auth::logout, auth::me, auth::change_password,
        org::list_units, org::get_unit, org::search_units, org::get_country, org::reload,
        users::list, users::create, users::get, users::update, users::issue_token,
        audit::list,
        projects::list, projects::totals, projects::export_csv, projects::export_xlsx, projects::create, projects::get,
        projects::update, projects::transition, projects::history, projects::comment,
        projects::transactions, projects::add_transaction, projects::review_queue,
        projects::delegations, projects::create_delegation, projects::revoke_delegation,
        projects::rates, projects::put_rates, projects::revisions, projects::create_revision,
        projects::transition_revision, projects::documents, projects::upload_document,
        projects::download_document, iati::import, iati::export,
        results::framework, results::set_frequency, results::add_result, results::update_result,
        results::delete_result, results::add_indicator, results::update_indicator,
        results::delete_indicator, results::save_report, results::transition_report,
        results::approve_reports, results::lock_period, results::unlock_period, results::missing,
        results::srf, results::update_srf_node, results::update_srf_indicator, results::rollup,
        results::programmes, results::create_programme, results::programme,
        results::update_programme, results::reference, results::download_template, results::upload,
        results::download_office_template, results::office_upload,
        evaluations::list, evaluations::create, evaluations::get_one, evaluations::update,
        evaluations::upload_report, evaluations::download_report, evaluations::add_recommendation,
        evaluations::update_recommendation, evaluations::respond, evaluations::add_action,
        evaluations::update_action, evaluations::tracking,
    ),
    modifiers(&Security),
    security(("bearer" = []), ("session" = [])),
    tags(
        (name = "auth", description = "Signing in; tokens come from `meridian user token EMAIL` or POST /api/v1/users/{id}/tokens"),
        (name = "organization", description = "Units, functions, regional coverage, focal points"),
        (name = "users", description = "Accounts, for administrators within their scope"),
        (name = "audit", description = "The append-only audit trail"),
        (name = "projects", description = "Projects through their lifecycle, the portfolio, delegations of authority, exchange rates, IATI 2.03 import and export"),
        (name = "results", description = "Results matrices, indicator reporting and review, roll-ups to the Strategic Results Framework, programmes"),
        (name = "evaluations", description = "The evaluation registry, recommendations, management responses, key actions and follow-up tracking"),
    )
)]
pub struct ApiDoc;

struct Security;

impl utoipa::Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(
                crate::auth::SESSION_COOKIE,
            ))),
        );
    }
}

async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(evaluations::routes())
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/auth/login", post(auth::login))
        .route("/api/v1/auth/logout", post(auth::logout))
        .route("/api/v1/me", get(auth::me))
        .route("/api/v1/me/password", post(auth::change_password))
        .route("/api/v1/org-units", get(org::list_units))
        .route("/api/v1/org-units/search", get(org::search_units))
        .route("/api/v1/org-units/reload", post(org::reload))
        .route("/api/v1/org-units/{code}", get(org::get_unit))
        .route("/api/v1/countries/{iso3}", get(org::get_country))
        .route("/api/v1/users", get(users::list).post(users::create))
        .route("/api/v1/users/{id}", get(users::get).patch(users::update))
        .route("/api/v1/users/{id}/tokens", post(users::issue_token))
        .route("/api/v1/audit", get(audit::list))
        .route(
            "/api/v1/projects",
            get(projects::list).post(projects::create),
        )
        .route("/api/v1/projects/totals", get(projects::totals))
        .route("/api/v1/projects/export.csv", get(projects::export_csv))
        .route("/api/v1/projects/export.xlsx", get(projects::export_xlsx))
        .route(
            "/api/v1/projects/{id}",
            get(projects::get).patch(projects::update),
        )
        .route(
            "/api/v1/projects/{id}/transitions",
            post(projects::transition),
        )
        .route("/api/v1/projects/{id}/history", get(projects::history))
        .route("/api/v1/projects/{id}/comments", post(projects::comment))
        .route(
            "/api/v1/projects/{id}/transactions",
            get(projects::transactions).post(projects::add_transaction),
        )
        .route(
            "/api/v1/projects/{id}/revisions",
            get(projects::revisions).post(projects::create_revision),
        )
        .route(
            "/api/v1/revisions/{id}/transitions",
            post(projects::transition_revision),
        )
        .route(
            "/api/v1/projects/{id}/documents",
            get(projects::documents)
                .post(projects::upload_document)
                .layer(axum::extract::DefaultBodyLimit::max(
                    meridian_domain::projects::documents::MAX_DOCUMENT_BYTES + 64 * 1024,
                )),
        )
        .route("/api/v1/documents/{id}", get(projects::download_document))
        .route(iati::IMPORT_PATH, post(iati::import))
        .route("/api/v1/iati/activities.xml", get(iati::export))
        .route("/api/v1/review-queue", get(projects::review_queue))
        .route(
            "/api/v1/projects/{id}/results",
            get(results::framework).post(results::add_result),
        )
        .route(
            "/api/v1/projects/{id}/results/frequency",
            put(results::set_frequency),
        )
        .route(
            "/api/v1/results/{id}",
            patch(results::update_result).delete(results::delete_result),
        )
        .route(
            "/api/v1/results/{id}/indicators",
            post(results::add_indicator),
        )
        .route(
            "/api/v1/indicators/{id}",
            patch(results::update_indicator).delete(results::delete_indicator),
        )
        .route(
            "/api/v1/indicators/{id}/reports/{period}",
            put(results::save_report),
        )
        .route(
            "/api/v1/indicators/{id}/reports/{period}/transitions",
            post(results::transition_report),
        )
        .route(
            "/api/v1/projects/{id}/reports/approve",
            post(results::approve_reports),
        )
        .route(
            "/api/v1/projects/{id}/periods/{period}/lock",
            post(results::lock_period),
        )
        .route(
            "/api/v1/projects/{id}/periods/{period}/unlock",
            post(results::unlock_period),
        )
        .route("/api/v1/results/missing", get(results::missing))
        .route(
            "/api/v1/projects/{id}/results/template",
            get(results::download_template),
        )
        .route(
            "/api/v1/projects/{id}/results/upload",
            post(results::upload).layer(axum::extract::DefaultBodyLimit::max(
                results::MAX_UPLOAD_BYTES,
            )),
        )
        .route(
            "/api/v1/units/{code}/results/template",
            get(results::download_office_template),
        )
        .route(
            "/api/v1/units/{code}/results/upload",
            post(results::office_upload).layer(axum::extract::DefaultBodyLimit::max(
                results::MAX_UPLOAD_BYTES,
            )),
        )
        .route("/api/v1/srf", get(results::srf))
        .route("/api/v1/srf/rollup", get(results::rollup))
        .route("/api/v1/srf/nodes/{code}", patch(results::update_srf_node))
        .route(
            "/api/v1/srf/indicators/{code}",
            patch(results::update_srf_indicator),
        )
        .route(
            "/api/v1/programmes",
            get(results::programmes).post(results::create_programme),
        )
        .route(
            "/api/v1/programmes/{id}",
            get(results::programme).put(results::update_programme),
        )
        .route("/api/v1/reference/results", get(results::reference))
        .route(
            "/api/v1/delegations",
            get(projects::delegations).post(projects::create_delegation),
        )
        .route(
            "/api/v1/delegations/{id}/revoke",
            post(projects::revoke_delegation),
        )
        .route(
            "/api/v1/exchange-rates",
            get(projects::rates).post(projects::put_rates),
        )
}
