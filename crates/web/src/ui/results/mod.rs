//! The pages of results-based management: a project's results matrix with reporting and
//! review (`project.rs`), the Strategic Results Framework with its roll-up for any scope and
//! window (`rollup.rs`), who has not reported with an office's reporting template and its
//! upload (`missing.rs`), and programmes
//! (`programmes.rs`). Every read and write goes through the store's results functions.

mod chart;
mod edit;
mod missing;
mod programmes;
mod project;
mod rollup;

pub use edit::{
    delete_indicator, delete_result, edit_indicator, edit_result, save_indicator, save_result,
};
pub use missing::{missing, office_template_csv, office_template_xlsx, office_upload};
pub use programmes::{create_programme, programme, programmes};
pub use project::{
    add_indicator, add_result, approve_period, lock_period, project_results, report, review,
    set_frequency, targets, template_csv, template_xlsx, upload,
};
pub use rollup::{rollup, update_srf_indicator, update_srf_node};

use crate::auth::Caller;
use crate::i18n::Tr;
use crate::ui::Shell;
use axum::http::Uri;
use meridian_store::results::Figure;
use rust_decimal::Decimal;

pub fn shell(t: Tr, caller: &Caller, uri: &Uri) -> Shell {
    Shell::new(t, Some(caller), "results", uri)
}

/// The results module's tabs.
pub struct Tab {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

pub fn tabs(t: Tr, current: &str) -> Vec<Tab> {
    [
        ("/results", "results.srf"),
        ("/results/missing", "results.missing"),
        ("/results/programmes", "results.programmes"),
    ]
    .into_iter()
    .map(|(href, key)| Tab {
        href,
        label: t.get(key),
        current: href == current,
    })
    .collect()
}

/// A figure as people read it: `1,250`, `25 % (30/120)`, or the text.
pub fn show(f: &Figure) -> String {
    match (f.value, f.numerator, f.denominator, &f.text) {
        (Some(v), ..) => number(v),
        (None, Some(n), Some(d), _) => match f.percent {
            Some(p) => format!("{} % ({}/{})", p.normalize(), number(n), number(d)),
            None => format!("{}/{}", number(n), number(d)),
        },
        (.., Some(t)) => t.clone(),
        _ => String::new(),
    }
}

pub fn show_opt(f: Option<&Figure>) -> String {
    f.map(show).unwrap_or_else(|| "—".to_owned())
}

/// `1250.5` → `1,250.5` (grouping for reading only; inputs take plain decimals).
pub fn number(v: Decimal) -> String {
    let v = v.normalize();
    let text = v.abs().to_string();
    let (int, frac) = text.split_once('.').unwrap_or((&text, ""));
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    let sign = if v.is_sign_negative() && !v.is_zero() {
        "-"
    } else {
        ""
    };
    if frac.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{frac}")
    }
}

/// The label of a code through its key, e.g. `label(t, "measure", "number")`.
pub fn label(t: Tr, prefix: &str, code: &str) -> &'static str {
    t.get(&format!("{prefix}.{code}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{STRINGS_TOML, parse_strings};
    use meridian_domain::results::model::{
        AggregationType, Direction, DisaggregationCategory, Frequency, Measure, ResultLevel,
        ValueStatus, ValueTransition,
    };

    #[test]
    fn figures_read_with_grouping_and_percentages() {
        assert_eq!(number(Decimal::new(12505, 1)), "1,250.5");
        assert_eq!(number(Decimal::new(1_000_000, 0)), "1,000,000");
        assert_eq!(number(Decimal::new(-5, 0)), "-5");
        assert_eq!(
            show(&Figure::ratio(Decimal::from(30), Decimal::from(120))),
            "25 % (30/120)"
        );
        assert_eq!(show(&Figure::number(Decimal::from(999))), "999");
    }

    /// Keys built from codes are not seen by the template test, so every code is checked here.
    #[test]
    fn every_results_code_has_a_label_in_three_languages() {
        let table = parse_strings(STRINGS_TOML).unwrap();
        let mut keys: Vec<String> = Vec::new();
        keys.extend(ResultLevel::ALL.iter().map(|s| format!("level.{s}")));
        keys.extend(Measure::ALL.iter().map(|s| format!("measure.{s}")));
        keys.extend(Direction::ALL.iter().map(|s| format!("direction.{s}")));
        keys.extend(
            AggregationType::ALL
                .iter()
                .map(|s| format!("aggregation.{s}")),
        );
        keys.extend(Frequency::ALL.iter().map(|s| format!("frequency.{s}")));
        keys.extend(ValueStatus::ALL.iter().map(|s| format!("value_status.{s}")));
        keys.extend(
            ValueTransition::ALL
                .iter()
                .map(|s| format!("value_transition.{s}")),
        );
        keys.extend(
            DisaggregationCategory::BUILTIN
                .iter()
                .map(|c| format!("category.{}", c.as_str())),
        );
        for key in &keys {
            assert!(table.contains_key(key), "no text for {key}");
        }
    }

    /// The field names of the edit forms' errors are shown through keys the templates do not
    /// name.
    #[test]
    fn every_field_of_the_edit_forms_has_a_label_in_three_languages() {
        let table = parse_strings(STRINGS_TOML).unwrap();
        for (field, key) in super::edit::FIELD_LABELS {
            assert!(table.contains_key(*key), "no text for {field} ({key})");
        }
        for key in [
            "results.edit_conflict",
            "results.not_saved",
            "results.not_deleted",
        ] {
            assert!(table.contains_key(key), "no text for {key}");
        }
    }
}
