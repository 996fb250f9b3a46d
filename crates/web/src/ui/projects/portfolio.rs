//! The portfolio (filters, sortable columns, pages, totals, export) and the review queue.

use super::filters::{FilterOptions, Filters, country_name};
use super::{FormError, Tab, can_at_home, label, shell, tabs, usd, with_status};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::state::{AppState, OrgSnapshot};
use crate::ui::{Shell, is_htmx, render};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, Uri, header};
use axum::response::Response;
use meridian_domain::authz::Action;
use meridian_store::projects::{PortfolioQuery, PortfolioRow};
use rust_decimal::Decimal;

/// A project in a table.
pub struct Line {
    code: String,
    title: String,
    unit: String,
    country: String,
    theme: &'static str,
    status: &'static str,
    status_label: &'static str,
    start: String,
    budget: Option<String>,
    restricted: bool,
}

impl Line {
    fn new(snap: &OrgSnapshot, t: Tr, r: PortfolioRow) -> Self {
        Self {
            country: country_name(snap, t, &r.primary_country),
            theme: label(t, "theme", &r.thematic_area),
            status: r.status.as_str(),
            status_label: label(t, "status", r.status.as_str()),
            start: r.start_date,
            budget: r.budget_usd.map(usd),
            restricted: r.restricted,
            code: r.code,
            title: r.title,
            unit: r.unit,
        }
    }
}

pub struct Column {
    label: &'static str,
    /// For sortable columns: the link and the current order.
    href: Option<String>,
    aria_sort: &'static str,
    numeric: bool,
}

pub struct PageLink {
    number: u32,
    href: String,
    current: bool,
    /// A gap ("…") before this link.
    gap_before: bool,
}

#[derive(Template)]
#[template(path = "projects/portfolio.html")]
struct PortfolioPage {
    shell: Shell,
    tabs: Vec<Tab>,
    filters: Filters,
    options: FilterOptions,
    can_draft: bool,
    results: Results,
}

#[derive(Template)]
#[template(path = "projects/portfolio_results.html")]
struct ResultsFragment {
    shell: Shell,
    results: Results,
}

struct Results {
    error: Option<FormError>,
    columns: Vec<Column>,
    rows: Vec<Line>,
    count: i64,
    total: String,
    export: String,
    pages: Vec<PageLink>,
    previous: Option<String>,
    next: Option<String>,
}

fn columns(t: Tr, filters: &Filters, q: &PortfolioQuery) -> Vec<Column> {
    let current = serde_json::to_value(q.sort)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let column = |key: &'static str, sort: Option<&str>, numeric: bool| {
        let (href, aria_sort) = match sort {
            None => (None, ""),
            Some(s) => {
                let here = current == s;
                let aria = match (here, q.descending) {
                    (true, true) => "descending",
                    (true, false) => "ascending",
                    _ => "",
                };
                // The first click sorts ascending, the next reverses.
                let descending = here && !q.descending;
                (
                    Some(format!(
                        "/projects?{}",
                        filters.query_string(Some((s, descending)), None)
                    )),
                    aria,
                )
            }
        };
        Column {
            label: t.get(key),
            href,
            aria_sort,
            numeric,
        }
    };
    vec![
        column("project.code", Some("code"), false),
        column("project.title", Some("title"), false),
        column("project.office", None, false),
        column("project.country", None, false),
        column("project.theme", None, false),
        column("project.status", Some("status"), false),
        column("project.start", Some("start"), false),
        column("project.budget_usd", Some("budget"), true),
    ]
}

fn page_links(filters: &Filters, page: u32, pages: u32) -> Vec<PageLink> {
    let wanted = |n: u32| n == 1 || n == pages || n.abs_diff(page) <= 2;
    let mut out = Vec::new();
    let mut last = 0;
    for n in (1..=pages).filter(|n| wanted(*n)) {
        out.push(PageLink {
            number: n,
            href: format!("/projects?{}", filters.query_string(None, Some(n))),
            current: n == page,
            gap_before: n > last + 1,
        });
        last = n;
    }
    out
}

async fn results(
    state: &AppState,
    caller: &Caller,
    t: Tr,
    filters: &Filters,
) -> (Results, Option<AppError>) {
    let snap = state.org();
    let export = format!(
        "/api/v1/projects/export.csv?{}",
        filters.query_string(None, None)
    );
    let empty = |error: AppError, columns| Results {
        error: Some(FormError::new(t, &error)),
        columns,
        rows: Vec::new(),
        count: 0,
        total: usd(Decimal::ZERO),
        export: export.clone(),
        pages: Vec::new(),
        previous: None,
        next: None,
    };
    let q = match filters.query() {
        Ok(q) => q,
        Err(e) => {
            let cols = columns(t, filters, &PortfolioQuery::default());
            return (empty(e.clone(), cols), Some(e));
        }
    };
    let cols = columns(t, filters, &q);
    let page = match state.store.portfolio(&snap.org, &caller.actor(), &q).await {
        Ok(p) => p,
        Err(e) => {
            let e = AppError::from(e);
            return (empty(e.clone(), cols), Some(e));
        }
    };
    let pages = u32::try_from(page.totals.projects)
        .unwrap_or(u32::MAX)
        .div_ceil(page.per_page)
        .max(1);
    let link = |n: u32| format!("/projects?{}", filters.query_string(None, Some(n)));
    (
        Results {
            error: None,
            columns: cols,
            count: page.totals.projects,
            total: usd(page.totals.budget_usd),
            export,
            previous: (page.page > 1).then(|| link(page.page - 1)),
            next: (page.page < pages).then(|| link(page.page + 1)),
            pages: if pages > 1 {
                page_links(filters, page.page, pages)
            } else {
                Vec::new()
            },
            rows: page
                .rows
                .into_iter()
                .map(|r| Line::new(&snap, t, r))
                .collect(),
        },
        None,
    )
}

pub async fn portfolio(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    headers: HeaderMap,
    caller: Caller,
    Query(filters): Query<Filters>,
) -> AppResult<Response> {
    let (results, error) = results(&state, &caller, t, &filters).await;
    let shell = shell(t, &caller, &uri);
    // A history restore after a cache miss wants the whole page, even from htmx.
    let fragment = is_htmx(&headers);
    let mut page = if fragment {
        render(&ResultsFragment { shell, results })?
    } else {
        let snap = state.org();
        render(&PortfolioPage {
            shell,
            tabs: tabs(t, "/projects"),
            options: FilterOptions::new(&snap, &caller, t),
            can_draft: can_at_home(&state, &caller, Action::DraftProject),
            filters,
            results,
        })?
    };
    // The same address answers a page or a fragment.
    page.headers_mut()
        .insert(header::VARY, HeaderValue::from_static("HX-Request"));
    Ok(match error {
        Some(e) if matches!(e, AppError::Invalid { .. }) => with_status(page, &e),
        Some(e) => return Err(e),
        None => page,
    })
}

#[derive(Template)]
#[template(path = "projects/review.html")]
struct ReviewPage {
    shell: Shell,
    tabs: Vec<Tab>,
    rows: Vec<Line>,
    is_reviewer: bool,
}

/// Projects submitted or under review in the reviewer's region.
pub async fn review_queue(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
) -> AppResult<Response> {
    let snap = state.org();
    let rows = state.store.review_queue(&snap.org, &caller.actor()).await?;
    render(&ReviewPage {
        shell: shell(t, &caller, &uri),
        tabs: tabs(t, "/review"),
        is_reviewer: can_at_home(&state, &caller, Action::ReviewProject),
        rows: rows.into_iter().map(|r| Line::new(&snap, t, r)).collect(),
    })
}
