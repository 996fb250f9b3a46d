//! The portfolio's analytics: totals by region, country, status, theme, donor and year as
//! tables and bar charts, the pipeline by lifecycle stage, budget against expenditure.

use super::chart::{Bar, compact_usd, horizontal_bars};
use super::filters::{FilterOptions, Filters, country_name};
use super::{FormError, Tab, label, shell, tabs, usd, with_status};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::state::AppState;
use crate::ui::{Shell, render};
use askama::Template;
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::response::Response;
use meridian_domain::projects::lifecycle::Status;
use rust_decimal::Decimal;

/// One breakdown of the analytics: a chart and the table of the same figures.
pub struct Breakdown {
    id: &'static str,
    title: &'static str,
    /// What the table's rows are: regions, countries, …
    column: &'static str,
    chart: String,
    rows: Vec<(String, i64, String)>,
    note: Option<&'static str>,
}

fn breakdown(
    id: &'static str,
    (title, column): (&'static str, &'static str),
    groups: impl Iterator<Item = (String, i64, Decimal)>,
) -> Breakdown {
    let groups: Vec<(String, i64, Decimal)> = groups.collect();
    let bars: Vec<Bar> = groups
        .iter()
        .map(|(label, _, usd)| Bar {
            label: label.clone(),
            value: *usd,
            text: compact_usd(*usd),
        })
        .collect();
    Breakdown {
        id,
        title,
        column,
        chart: horizontal_bars(title, &bars),
        rows: groups
            .into_iter()
            .map(|(label, n, amount)| (label, n, usd(amount)))
            .collect(),
        note: None,
    }
}

#[derive(Template)]
#[template(path = "projects/analytics.html")]
struct AnalyticsPage {
    shell: Shell,
    tabs: Vec<Tab>,
    filters: Filters,
    options: FilterOptions,
    error: Option<FormError>,
    count: i64,
    budget: String,
    expenditure: String,
    burn_rate: Option<String>,
    pipeline_chart: String,
    pipeline: Vec<(&'static str, &'static str, i64)>,
    money_chart: String,
    breakdowns: Vec<Breakdown>,
}

/// How many countries the analytics list.
const TOP_COUNTRIES: usize = 20;

pub async fn analytics(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Query(filters): Query<Filters>,
) -> AppResult<Response> {
    let snap = state.org();
    let attempt = async {
        let q = filters.query()?;
        Ok::<_, AppError>(
            state
                .store
                .portfolio_totals(&snap.org, &caller.actor(), &q)
                .await?,
        )
    };
    let (totals, error) = match attempt.await {
        Ok(totals) => (Some(totals), None),
        Err(e @ AppError::Invalid { .. }) => (None, Some(e)),
        Err(e) => return Err(e),
    };
    let mut page = AnalyticsPage {
        shell: shell(t, &caller, &uri),
        tabs: tabs(t, "/projects/analytics"),
        options: FilterOptions::new(&snap, &caller, t),
        error: error.as_ref().map(|e| FormError::new(t, e)),
        count: 0,
        budget: usd(Decimal::ZERO),
        expenditure: usd(Decimal::ZERO),
        burn_rate: None,
        pipeline_chart: String::new(),
        pipeline: Vec::new(),
        money_chart: String::new(),
        breakdowns: Vec::new(),
        filters,
    };
    if let Some(totals) = totals {
        let unit_name = |code: &str| {
            snap.org
                .unit(code)
                .map_or_else(|| code.to_owned(), |u| u.name.clone())
        };
        let key = |g: &str, prefix: &str| label(t, prefix, g).to_owned();
        page.count = totals.pipeline.iter().map(|g| g.projects).sum();
        page.budget = usd(totals.budget_usd);
        page.expenditure = usd(totals.expenditure_usd);
        page.burn_rate = totals.burn_rate_percent.map(|p| format!("{p} %"));
        page.pipeline = totals
            .pipeline
            .iter()
            .map(|g| {
                let status = Status::parse(&g.key).map_or("draft", Status::as_str);
                (status, label(t, "status", status), g.projects)
            })
            .collect();
        page.pipeline_chart = horizontal_bars(
            t.get("analytics.pipeline"),
            &page
                .pipeline
                .iter()
                .map(|(_, name, n)| Bar {
                    label: (*name).to_owned(),
                    value: Decimal::from(*n),
                    text: n.to_string(),
                })
                .collect::<Vec<_>>(),
        );
        page.money_chart = horizontal_bars(
            t.get("analytics.budget_vs_expenditure"),
            &[
                Bar {
                    label: t.get("analytics.budget").to_owned(),
                    value: totals.budget_usd,
                    text: compact_usd(totals.budget_usd),
                },
                Bar {
                    label: t.get("analytics.expenditure").to_owned(),
                    value: totals.expenditure_usd,
                    text: compact_usd(totals.expenditure_usd),
                },
            ],
        );
        let mut breakdowns = vec![
            breakdown(
                "region",
                (t.get("analytics.by_region"), t.get("filter.region")),
                totals
                    .by_region
                    .iter()
                    .map(|g| (unit_name(&g.key), g.projects, g.budget_usd)),
            ),
            breakdown(
                "country",
                (t.get("analytics.by_country"), t.get("filter.country")),
                totals
                    .by_country
                    .iter()
                    .take(TOP_COUNTRIES)
                    .map(|g| (country_name(&snap, t, &g.key), g.projects, g.budget_usd)),
            ),
            breakdown(
                "status",
                (t.get("analytics.by_status"), t.get("filter.status")),
                totals
                    .by_status
                    .iter()
                    .map(|g| (key(&g.key, "status"), g.projects, g.budget_usd)),
            ),
            breakdown(
                "theme",
                (t.get("analytics.by_theme"), t.get("filter.theme")),
                totals
                    .by_theme
                    .iter()
                    .map(|g| (key(&g.key, "theme"), g.projects, g.budget_usd)),
            ),
            breakdown(
                "donor",
                (t.get("analytics.by_donor"), t.get("filter.donor")),
                totals
                    .by_donor
                    .iter()
                    .map(|g| (g.key.clone(), g.projects, g.budget_usd)),
            ),
            breakdown(
                "year",
                (t.get("analytics.by_year"), t.get("filter.year")),
                totals
                    .by_year
                    .iter()
                    .map(|g| (g.key.clone(), g.projects, g.budget_usd)),
            ),
        ];
        if totals.by_country.len() > TOP_COUNTRIES {
            breakdowns[1].note = Some("analytics.top_countries");
        }
        page.breakdowns = breakdowns;
    }
    let response = render(&page)?;
    Ok(match error {
        Some(e) => with_status(response, &e),
        None => response,
    })
}
