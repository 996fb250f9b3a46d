//! Exchange rates: the table (the latest rate of each currency, or one currency's history),
//! and for headquarters' administrators and donor relations officers a pasted CSV, imported
//! all or nothing with every bad row listed.

use super::{Fields, Tab, can_globally, shell, tabs};
use crate::auth::Caller;
use crate::error::{AppError, AppResult};
use crate::i18n::Tr;
use crate::state::AppState;
use crate::ui::{Shell, render};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::Uri;
use axum::response::{IntoResponse, Redirect, Response};
use meridian_domain::authz::Action;
use meridian_domain::projects::money::{ExchangeRate, RateCsvError, RateTable};
use serde::Deserialize;

pub struct RateRow {
    currency: String,
    name: String,
    effective: String,
    usd_per_unit: String,
    /// How many dated rates the currency has (in the overview).
    count: usize,
}

#[derive(Template)]
#[template(path = "projects/rates.html")]
struct RatesPage {
    shell: Shell,
    tabs: Vec<Tab>,
    currency: String,
    rows: Vec<RateRow>,
    can_manage: bool,
    csv: String,
    problems: Vec<String>,
    imported: Option<usize>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RatesQuery {
    /// One currency's history; the latest rate of every currency otherwise.
    currency: String,
    imported: Option<usize>,
}

fn row(r: &ExchangeRate, count: usize) -> RateRow {
    RateRow {
        currency: r.currency.code().to_owned(),
        name: r.currency.name().to_owned(),
        effective: r.effective.to_string(),
        usd_per_unit: r.usd_per_unit.normalize().to_string(),
        count,
    }
}

/// The table: one currency's rates, newest first, or the latest rate of each currency.
fn table(rates: &[ExchangeRate], currency: &str) -> Vec<RateRow> {
    if !currency.is_empty() {
        return rates
            .iter()
            .rev()
            .filter(|r| r.currency.code().eq_ignore_ascii_case(currency))
            .map(|r| row(r, 1))
            .collect();
    }
    // The store lists rates by currency, then date: the last of each run is the latest.
    let mut out: Vec<RateRow> = Vec::new();
    for (i, r) in rates.iter().enumerate() {
        let last = rates.get(i + 1).is_none_or(|n| n.currency != r.currency);
        if last {
            let count = rates.iter().filter(|x| x.currency == r.currency).count();
            out.push(row(r, count));
        }
    }
    out
}

#[allow(clippy::too_many_arguments)]
async fn page(
    state: &AppState,
    caller: &Caller,
    t: Tr,
    uri: &Uri,
    currency: String,
    csv: String,
    problems: Vec<String>,
    imported: Option<usize>,
    error: Option<&AppError>,
) -> AppResult<Response> {
    let rates = state.store.exchange_rates().await?;
    let response = render(&RatesPage {
        shell: shell(t, caller, uri),
        tabs: tabs(t, "/projects/exchange-rates"),
        rows: table(&rates, &currency),
        can_manage: can_globally(state, caller, Action::ManageExchangeRates),
        currency,
        csv,
        problems,
        imported,
    })?;
    Ok(match error {
        Some(e) => super::with_status(response, e),
        None => response,
    })
}

pub async fn exchange_rates(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    Query(q): Query<RatesQuery>,
) -> AppResult<Response> {
    let currency = q.currency.trim().to_ascii_uppercase();
    page(
        &state,
        &caller,
        t,
        &uri,
        currency,
        String::new(),
        Vec::new(),
        q.imported,
        None,
    )
    .await
}

/// Every problem of a refused file, one per line of the list.
fn problems(e: &RateCsvError) -> Vec<String> {
    match e {
        RateCsvError::Rows { problems, more, .. } => {
            let mut out: Vec<String> = problems.iter().map(ToString::to_string).collect();
            if *more > 0 {
                out.push(format!("… +{more}"));
            }
            out
        }
        other => vec![other.to_string()],
    }
}

pub async fn put_rates(
    State(state): State<AppState>,
    t: Tr,
    uri: Uri,
    caller: Caller,
    body: Bytes,
) -> AppResult<Response> {
    let csv = Fields::parse(&body).text("csv");
    let text = csv.trim();
    // A pasted table without its header gets the expected one.
    let with_header = if text.to_ascii_lowercase().starts_with("currency") {
        text.to_owned()
    } else {
        format!("currency,date,usd_per_unit\n{text}")
    };
    let outcome = match RateTable::parse_csv("CSV", with_header.as_bytes()) {
        Err(e) => Err((problems(&e), AppError::invalid("csv", e.to_string()))),
        Ok(rates) if rates.is_empty() => {
            let e = AppError::invalid("csv", "no rates: paste lines like EUR,2026-01-01,1.08");
            Err((vec![e.to_string()], e))
        }
        Ok(rates) => state
            .store
            .put_exchange_rates(&state.org().org, &caller.actor(), &rates)
            .await
            .map_err(|e| {
                let e = AppError::from(e);
                (vec![e.to_string()], e)
            }),
    };
    match outcome {
        Ok(n) => {
            Ok(Redirect::to(&format!("/projects/exchange-rates?imported={n}")).into_response())
        }
        Err((list, e @ (AppError::Invalid { .. } | AppError::Forbidden(_)))) => {
            page(
                &state,
                &caller,
                t,
                &uri,
                String::new(),
                csv,
                list,
                None,
                Some(&e),
            )
            .await
        }
        Err((_, e)) => Err(e),
    }
}
