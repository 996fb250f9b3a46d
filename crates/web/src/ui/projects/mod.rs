//! The pages of the projects module: the portfolio and the review queue (`portfolio.rs`) with
//! their filters (`filters.rs`), analytics with bar charts (`analytics.rs`, `chart.rs`), the
//! draft form (`form.rs`), the project page with its lifecycle, review comments, history and
//! transactions (`page.rs`), delegations of authority (`authority.rs`), exchange rates
//! (`rates.rs`) and IATI import and export (`iati.rs`). Every read and write goes through the
//! store's project functions, so the one permission layer decides what each person sees and
//! may do.

mod analytics;
mod authority;
mod chart;
mod documents;
mod filters;
mod form;
mod iati;
mod page;
mod portfolio;
mod rates;

pub use analytics::analytics;
pub use authority::{create_delegation, delegations, revoke_delegation};
pub use documents::upload as upload_document;
pub use form::{create, edit, edit_page, new_page};
pub use iati::{IMPORT_PATH as IATI_IMPORT_PATH, import as iati_import, page as iati};
pub use page::{add_transaction, comment, project, transition};
pub use portfolio::{portfolio, review_queue};
pub use rates::{exchange_rates, put_rates};

use super::{Shell, can};
use crate::auth::Caller;
use crate::error::AppError;
use crate::i18n::Tr;
use crate::state::AppState;
use axum::http::Uri;
use axum::response::Response;
use meridian_domain::authz::Action;
use meridian_domain::projects::money::{Currency, Money, format_usd};
use rust_decimal::Decimal;

/// Sections a reviewer comments on (the store's list, in its order).
pub const SECTIONS: &[&str] = &[
    "general",
    "summary",
    "results",
    "budget",
    "partners",
    "risks",
    "timeline",
    "documents",
];

/// Kinds of financial transaction (the store's `TransactionKind`).
pub const TRANSACTION_KINDS: &[&str] = &[
    "commitment",
    "disbursement",
    "expenditure",
    "incoming_funds",
];

/// The label of a code through its key, e.g. `label(t, "status", "under_review")`.
pub fn label(t: Tr, prefix: &str, code: &str) -> &'static str {
    t.get(&format!("{prefix}.{code}"))
}

/// The projects module's own tabs, shown under the page title.
pub struct Tab {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

pub fn tabs(t: Tr, current: &str) -> Vec<Tab> {
    [
        ("/projects", "projects.portfolio"),
        ("/projects/analytics", "projects.analytics"),
        ("/review", "projects.review_queue"),
        ("/projects/delegations", "projects.delegations"),
        ("/projects/exchange-rates", "projects.exchange_rates"),
        ("/projects/iati", "projects.iati"),
    ]
    .into_iter()
    .map(|(href, key)| Tab {
        href,
        label: t.get(key),
        current: href == current,
    })
    .collect()
}

/// The shell of every projects page.
pub fn shell(t: Tr, caller: &Caller, uri: &Uri) -> Shell {
    Shell::new(t, Some(caller), "projects", uri)
}

/// `750,000.00 USD`.
pub fn usd(amount: Decimal) -> String {
    format_usd(amount)
}

/// An amount in its currency and to its decimals, `1,250.50 EUR`; as given when the currency
/// is unknown. (Converted totals carry four decimals; they are rounded for display only.)
pub fn money(amount: Decimal, currency: &str) -> String {
    Currency::parse(currency)
        .ok()
        .and_then(|c| Money::new_signed(amount.round_dp(c.minor_units()), c).ok())
        .map_or_else(|| format!("{amount} {currency}"), |m| m.to_string())
}

/// `2026-11-27 22:44` from a stored RFC 3339 time.
pub fn short_time(at: &str) -> String {
    at.get(..16).unwrap_or(at).replace('T', " ")
}

/// An error from a form's handling, shown above the form with the field it concerns.
pub struct FormError {
    pub field: Option<String>,
    /// The field's name in the reader's language (its code when it has none).
    pub field_label: Option<String>,
    pub message: String,
}

impl FormError {
    pub fn new(t: Tr, e: &AppError) -> Self {
        let field = e.field().map(str::to_owned);
        Self {
            field_label: field.as_deref().map(|f| {
                if form::FIELDS.contains(&f) {
                    label(t, "field", f).to_owned()
                } else {
                    f.to_owned()
                }
            }),
            field,
            message: e.to_string(),
        }
    }

    /// Whether the error concerns `field`, for `aria-invalid`.
    pub fn is(&self, field: &str) -> bool {
        self.field.as_deref() == Some(field)
    }
}

/// Whether an error is one the person can act on in the page (rather than an error page).
pub fn shown_in_page(e: &AppError) -> bool {
    matches!(
        e,
        AppError::Invalid { .. } | AppError::Conflict(_) | AppError::Forbidden(_)
    )
}

/// Sets the status of a page that shows an error.
pub fn with_status(mut page: Response, e: &AppError) -> Response {
    *page.status_mut() = e.status();
    page
}

pub use super::Fields;

/// Non-empty lines of a text area.
pub fn lines(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Whether the caller may take `action` on records of their own unit.
pub fn can_at_home(state: &AppState, caller: &Caller, action: Action) -> bool {
    can(state, caller, action, caller.user.unit.as_str())
}

/// Whether the caller may take `action` at headquarters level (delegations, exchange rates).
pub fn can_globally(state: &AppState, caller: &Caller, action: Action) -> bool {
    let root = state.org().org.root().code.to_string();
    can(state, caller, action, &root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{Lang, STRINGS_TOML, parse_strings};
    use meridian_domain::projects::THEMATIC_AREAS;
    use meridian_domain::projects::delegation::Authority;
    use meridian_domain::projects::lifecycle::{Status, Transition};

    /// Keys built from codes are not seen by the template test, so every code is checked here.
    #[test]
    fn every_code_has_a_label_in_three_languages() {
        let table = parse_strings(STRINGS_TOML).unwrap();
        let mut keys: Vec<String> = Vec::new();
        keys.extend(Status::ALL.iter().map(|s| format!("status.{s}")));
        keys.extend(Transition::ALL.iter().map(|s| format!("transition.{s}")));
        keys.extend(THEMATIC_AREAS.iter().map(|s| format!("theme.{s}")));
        keys.extend(Authority::ALL.iter().map(|a| format!("authority.{a}")));
        keys.extend(SECTIONS.iter().map(|s| format!("section.{s}")));
        keys.extend(TRANSACTION_KINDS.iter().map(|s| format!("transaction.{s}")));
        keys.extend(
            meridian_domain::projects::documents::DOCUMENT_TYPES
                .iter()
                .map(|s| format!("doc_type.{s}")),
        );
        for field in form::FIELDS {
            keys.push(format!("field.{field}"));
        }
        for key in &keys {
            assert!(table.contains_key(key), "no text for {key}");
        }
        let t = Tr { lang: Lang::Fr };
        assert_eq!(label(t, "status", "under_review"), "En cours d’examen");
    }

    #[test]
    fn amounts_read_as_money() {
        assert_eq!(money(Decimal::new(12505, 1), "EUR"), "1,250.50 EUR");
        assert_eq!(money(Decimal::new(5, 0), "XXQ"), "5 XXQ");
        assert_eq!(
            money(Decimal::new(2_068_181_818, 4), "EUR"),
            "206,818.18 EUR"
        );
        assert_eq!(money(Decimal::new(15, 1), "JPY"), "2 JPY");
        assert_eq!(usd(Decimal::new(5575, 1)), "557.50 USD");
    }
}
