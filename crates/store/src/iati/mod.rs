//! IATI 2.03 import and export: an activity becomes a project, and a project an activity.
//!
//! **What maps onto the project model** (`projects` and its tables):
//! - `iati-identifier` → kept in `iati_activities.identifier` (unique); re-importing updates the
//!   project with that identifier. New projects get a Meridian code as drafted ones do
//!   (`CO-KEN-2026-0001`).
//! - title and the general description → `title` and `summary`, in English when the activity
//!   has it, else its default language; every language is kept in `iati_activities`.
//! - activity dates → `start_date` (actual, else planned) and `end_date` (actual, else planned).
//! - `activity-status` → `status` (see [`status_from_iati`]).
//! - the first recipient country with a country office → the owning office (`unit_code`) and
//!   `primary_country`; then a country named in a transaction; else the import's default unit.
//! - budgets → budget lines (a revised budget replaces the original of the same period), in
//!   their currencies, converted to USD; `default-currency` → the project currency.
//! - funding participating organisations → donors; accountable, extending and implementing
//!   ones (other than the reporting organisation) → partners.
//! - transactions of types 1–4 → `project_transactions` (incoming funds, commitment,
//!   disbursement, expenditure); their IATI side (refs, organisations, sectors…) is kept in
//!   `iati_transactions`. Other types are kept whole in the packed elements of `iati_activities`.
//! - sectors → the thematic area (DAC codes, see [`thematic_area`]) of a new project.
//!
//! - results → the project's results framework (results, indicators, reporting periods,
//!   targets, approved reports); see `results.rs` for the mapping and what is not mapped.
//!
//! Everything else Meridian keeps (participating organisations, sectors, countries and
//! regions, locations, document links, the reporting organisation, and the results whole…) is
//! in `iati_activities`: the small ones as columns, the elements kept whole as one compressed
//! JSON document of the formats crate's activity model (`elements.rs`).
//!
//! **Amounts** are converted to USD at the rate on the value date, or, when the rate table
//! starts later, at the latest known rate; a currency with no rate at all refuses the activity.
//!
//! **What is published** ([`PUBLIC_STATUSES`]): projects that are approved, active, suspended
//! or closed, and never a restricted project. Drafts and projects in review, rejected or
//! withdrawn are internal.

mod elements;
mod export;
mod import;
mod results;
mod rows;

pub(crate) use elements::backfill as backfill_elements;
#[cfg(feature = "testing")]
pub(crate) use elements::{NAMES as ELEMENT_NAMES, inflate};

pub use export::{ActivitySink, ExportScope, ExportSummary, ReportingOrg};
pub use import::{ImportOptions, ImportProgress, ImportReport, Progress, Refusal, ResultsNote};

use meridian_domain::projects::lifecycle::Status;

/// The statuses of projects the public feed and `--published-only` exports show.
pub const PUBLIC_STATUSES: &[Status] = &[
    Status::Approved,
    Status::Active,
    Status::Suspended,
    Status::OperationallyClosed,
    Status::FinanciallyClosed,
];

/// Whether a project may be published (its status is public and it is not restricted).
pub fn is_public(status: Status, restricted: bool) -> bool {
    !restricted && PUBLIC_STATUSES.contains(&status)
}

/// The project status for an IATI ActivityStatus code: 1 pipeline → approved (published
/// activities passed the organization's approval), 2 implementation → active,
/// 3 finalisation → operationally closed, 4 closed → financially closed, 5 cancelled →
/// withdrawn, 6 suspended → suspended.
pub fn status_from_iati(code: &str) -> Option<Status> {
    Some(match code.trim() {
        "1" => Status::Approved,
        "2" => Status::Active,
        "3" => Status::OperationallyClosed,
        "4" => Status::FinanciallyClosed,
        "5" => Status::Withdrawn,
        "6" => Status::Suspended,
        _ => return None,
    })
}

/// The IATI ActivityStatus code for a project status: everything before activation is
/// pipeline (1); rejected and withdrawn are cancelled (5).
pub fn status_to_iati(status: Status) -> &'static str {
    match status {
        Status::Draft
        | Status::Submitted
        | Status::UnderReview
        | Status::ReturnedForRevision
        | Status::Endorsed
        | Status::SubmittedToDonor
        | Status::Approved => "1",
        Status::Active => "2",
        Status::OperationallyClosed => "3",
        Status::FinanciallyClosed => "4",
        Status::Rejected | Status::Withdrawn => "5",
        Status::Suspended => "6",
    }
}

/// The thematic area of a new project from its DAC sectors (vocabulary 1 or 2), the one
/// with the largest percentage first: humanitarian sectors (72–74) → displacement and crisis
/// response, health (12, 13) → migration health, migration (15190) → migration governance,
/// employment (16020, 250) → labour mobility, human rights and violence against women
/// (15160, 15180) → migrant protection, environment (41) → climate and environmental
/// migration. An activity marked humanitarian is displacement and crisis response; anything
/// else is migration governance.
pub fn thematic_area(a: &meridian_formats::iati::activity::Activity) -> &'static str {
    let mut dac: Vec<(&str, f64)> = a
        .sectors
        .iter()
        .filter(|s| matches!(s.vocabulary.as_deref(), None | Some("1") | Some("2")))
        .map(|s| {
            (
                s.code.as_str(),
                s.percentage
                    .as_deref()
                    .and_then(|p| p.parse().ok())
                    .unwrap_or(0.0),
            )
        })
        .collect();
    dac.sort_by(|x, y| y.1.total_cmp(&x.1));
    for (code, _) in dac {
        let area = match code {
            c if c.starts_with("72") || c.starts_with("73") || c.starts_with("74") => {
                "displacement_and_crisis_response"
            }
            c if c.starts_with("12") || c.starts_with("13") => "migration_health",
            "15190" | "151" => "migration_governance",
            "16020" | "250" => "labour_mobility",
            "15160" | "15180" => "migrant_protection",
            c if c.starts_with("41") => "climate_and_environmental_migration",
            _ => continue,
        };
        return area;
    }
    if a.humanitarian.as_deref() == Some("1") {
        "displacement_and_crisis_response"
    } else {
        "migration_governance"
    }
}

/// The DAC 5-digit sector written for a project that did not come from IATI.
pub(crate) fn sector_for(thematic_area: &str) -> &'static str {
    match thematic_area {
        "displacement_and_crisis_response" => "72010",
        "migration_health" => "12110",
        "labour_mobility" => "16020",
        "migrant_protection" => "15160",
        "climate_and_environmental_migration" => "41010",
        _ => "15190",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_both_ways_and_round_trip_for_iati_codes() {
        for code in ["1", "2", "3", "4", "5", "6"] {
            let status = status_from_iati(code).unwrap();
            assert_eq!(status_to_iati(status), code);
        }
        assert_eq!(status_from_iati("7"), None);
        assert!(!is_public(Status::Draft, false));
        assert!(!is_public(Status::Active, true));
        assert!(is_public(Status::Active, false));
    }
}
