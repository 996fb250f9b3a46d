//! The ruleset engine against the IATI Validator's own rule fixtures and the IATI-Rulesets
//! meta tests.

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;

use common::*;
use meridian_formats::iati::{Layer, Report, Ruleset, ValidateOptions};

/// A fixed "today" between the fixtures' past and future dates, so the tests do not age.
const TODAY: &str = "2025-01-01";

fn run(ruleset_file: &Path, xml: &Path, registered: &[&str]) -> Report {
    let json = std::fs::read_to_string(ruleset_file).expect("ruleset file");
    let ruleset =
        Ruleset::from_json(&json).unwrap_or_else(|e| panic!("{}: {e}", ruleset_file.display()));
    let opts = ValidateOptions {
        ruleset: Some(Arc::new(ruleset)),
        today: Some(TODAY.into()),
        registered_publishers: registered
            .iter()
            .map(|s| (*s).to_owned())
            .collect::<HashSet<_>>(),
        ..options()
    };
    validate_file_with(xml, &opts)
}

/// Findings of the ruleset itself (1.1.2, duplicate identifiers, is built in).
fn rule_findings(report: &Report) -> Vec<String> {
    report
        .findings
        .iter()
        .filter(|f| f.layer == Layer::Ruleset && f.rule_id != "1.1.2")
        .map(|f| format!("{} {} {}", f.line, f.rule_id, f.message))
        .collect()
}

#[test]
fn the_validator_rule_fixtures_give_the_expected_outcome() {
    let base = samples().join("ruleset-tests/js-validator-ruleset-unit-tests");
    let mut checked = 0;
    let mut wrong = Vec::new();
    for folder in std::fs::read_dir(&base).expect("fixture folder") {
        let folder = folder.expect("entry").path();
        let Ok(expected) = std::fs::read_to_string(folder.join("EXPECTED.json")) else {
            continue;
        };
        let name = folder
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        if name == "dupIdentifier" {
            continue; // built-in rule, tested below
        }
        let entries: serde_json::Value = serde_json::from_str(&expected).expect("EXPECTED.json");
        for entry in entries.as_array().expect("a list") {
            let rule = entry["rule"].as_str().expect("rule");
            let file = entry["file"].as_str().expect("file");
            let xml = folder.join("test-files").join(file);
            if !xml.exists() {
                continue;
            }
            // The Validator's harness registers these publishers for the "existing" cases,
            // and the full-standard examples' own publishers.
            let registered: &[&str] = match name.as_str() {
                "orgIdCheck" => &["US-EIN-941655673", "44000", "CA_ON-ONT-1597880"],
                "fullStandard" => &["AA-AAA-123456789", "NP-SWC-1234"],
                _ => &[],
            };
            let report = run(&folder.join("rules").join(rule), &xml, registered);
            let found = rule_findings(&report);
            checked += 1;
            let ok = match &entry["expected"] {
                serde_json::Value::Bool(true) => found.is_empty(),
                serde_json::Value::Bool(false) => !found.is_empty(),
                serde_json::Value::String(s) if s == "No" || s == "[]" => found.is_empty(),
                // The identifiers of the failing activities, in order; the extraction cut
                // longer lists after the first item ("['ACT-1").
                serde_json::Value::String(s) if s.starts_with("['") => {
                    let first = s
                        .trim_start_matches("['")
                        .split('\'')
                        .next()
                        .unwrap_or_default();
                    let ids: Vec<Option<&str>> = report
                        .findings
                        .iter()
                        .filter(|f| f.layer == Layer::Ruleset)
                        .map(|f| f.activity_identifier.as_deref())
                        .collect();
                    ids.first() == Some(&Some(first))
                        && (!s.ends_with(']') || ids.iter().all(|i| *i == Some(first)))
                }
                other => panic!("unknown expectation {other}"),
            };
            if !ok {
                wrong.push(format!(
                    "{name}/{rule} on {file}: expected {}, found {found:?}",
                    entry["expected"]
                ));
            }
        }
    }
    assert!(checked > 100, "only {checked} fixture cases found");
    assert!(
        wrong.is_empty(),
        "{} of {checked} differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn duplicate_activity_identifiers_are_a_file_level_error() {
    let folder =
        samples().join("ruleset-tests/js-validator-ruleset-unit-tests/dupIdentifier/test-files");
    let dup = |file: &str| {
        validate_file(&folder.join(file))
            .findings
            .iter()
            .any(|f| f.rule_id == "1.1.2")
    };
    assert!(dup("3act_bad.xml"));
    assert!(!dup("3act_good.xml"));
}

/// `meta_tests.sh` of IATI-Rulesets (rule, file, passes?), plus the pairs it does not list,
/// paired by name (`*_good` passes, `*_bad` fails).
const META_TESTS: &[(&str, &str, bool)] = &[
    ("empty", "empty", true),
    ("title_exists", "empty", true),
    ("title_exists", "empty_activity", false),
    ("title_exists", "title", true),
    ("title_text_exists", "title", false),
    ("title_text_exists", "title_text", true),
    ("no_paths", "empty", true),
    ("no_paths", "empty_activity", false),
    ("no_more_than_one_title", "title", true),
    ("no_more_than_one_title", "empty_activity", true),
    ("no_more_than_one_title", "title_twice", false),
    ("dependent_title_description", "empty_activity", true),
    ("dependent_title_description", "title", false),
    ("dependent_title_description", "description", false),
    ("dependent_title_description", "title_description", true),
    ("sum", "sum_good", true),
    ("sum", "sum_bad", false),
    ("sum_two", "sum_two_good", true),
    ("sum_two", "sum_two_bad", false),
    ("date_order", "empty_activity", true),
    ("date_order", "date_good", true),
    ("date_order", "date_bad", false),
    ("regex_matches", "regex_good", true),
    ("regex_matches", "regex_bad", false),
    ("regex_no_matches", "regex_bad", true),
    ("regex_no_matches", "regex_good", false),
    ("starts_with", "identifiers", true),
    ("starts_with", "identifiers_bad", false),
    ("unique", "unique_good", true),
    ("unique", "unique_bad", false),
    (
        "unique_title_description",
        "title_description_content",
        true,
    ),
    ("if_then", "if_then_good", true),
    ("if_then", "if_then_bad", false),
    ("condition", "empty_activity", true),
    ("condition", "activity_status_2", true),
    ("condition", "activity_status_3", false),
    ("only_one_of", "only_one_of_activity_bad", false),
    ("only_one_of", "only_one_of_activity_good", true),
    ("only_one_of", "only_one_of_transaction_bad", false),
    ("only_one_of", "only_one_of_transaction_good", true),
    ("period_time", "period_time_good", true),
    ("period_time", "period_time_bad", false),
    ("time_limit", "time_limit_good", true),
    ("time_limit", "time_limit_bad", false),
    ("date_now", "date_now_good", true),
    ("date_now", "date_now_bad", false),
    ("at_least_one", "at_least_one_bad", false),
    ("at_least_one", "at_least_one_ref", true),
    ("at_least_one", "at_least_one_narrative", true),
    ("at_least_one", "at_least_one_no_element_good", true),
    ("one_or_all", "one_or_all_lang_bad", false),
    ("one_or_all", "one_or_all_lang_good", true),
    ("one_or_all", "one_or_all_lang_bad_all", false),
    ("one_or_all", "one_or_all_lang_good_all", true),
    ("one_or_all", "one_or_all_sector_bad", false),
    ("one_or_all", "one_or_all_sector_good", true),
    ("one_or_all", "one_or_all_sector_all_good", true),
    ("one_or_all", "one_or_all_sector_all_bad", false),
    ("one_or_all", "one_or_all_currency_bad", false),
    ("one_or_all", "one_or_all_currency_good", true),
    ("one_or_all", "one_or_all_currency_all_bad", false),
    ("one_or_all", "one_or_all_currency_all_good", true),
    ("one_or_all_org", "one_or_all_org_currency_good", true),
    ("one_or_all_org", "one_or_all_org_currency_bad", false),
    ("between_dates", "between_dates_good", true),
    ("between_dates", "between_dates_bad", false),
    ("range", "range_good", true),
    ("range", "range_bad", false),
    ("forloop", "forloop_good", true),
    ("forloop", "forloop_bad", false),
    ("recipient_country", "recipient_country_good", true),
    ("recipient_country", "recipient_country_bad", false),
    (
        "recipient_region_budget",
        "recipient_region_budget_good",
        true,
    ),
    (
        "recipient_region_budget",
        "recipient_region_budget_bad",
        false,
    ),
    ("total_expenditure", "total_expenditure_good", true),
    ("total_expenditure", "total_expenditure_bad", false),
    ("sector_percentage_sum", "sector_percentage_sum_good", true),
    ("sector_percentage_sum", "sector_percentage_sum_bad", false),
    ("results_references", "results_refs_good", true),
    ("results_references", "results_refs_bad", false),
    (
        "result_indicator_baseline_selector_with_conditions",
        "results_indicator_baseline_value_good",
        true,
    ),
    (
        "result_indicator_baseline_selector_with_conditions",
        "results_indicator_baseline_value_bad",
        false,
    ),
    (
        "result_indicator_baseline_selector_with_conditions",
        "results_indicator_baseline_value_not_relevant",
        true,
    ),
    (
        "result_indicator_period_actual_selector_with_conditions",
        "results_indicator_period_actual_value_good",
        true,
    ),
    (
        "result_indicator_period_actual_selector_with_conditions",
        "results_indicator_period_actual_value_bad",
        false,
    ),
    (
        "result_indicator_period_target_selector_with_conditions",
        "results_indicator_period_target_value_good",
        true,
    ),
    (
        "result_indicator_period_target_selector_with_conditions",
        "results_indicator_period_target_value_bad",
        false,
    ),
];

#[test]
fn the_ruleset_meta_tests_pass() {
    let dir = iati_data().join("rulesets/meta_tests");
    let mut wrong = Vec::new();
    let mut covered = HashSet::new();
    for (rule, file, passes) in META_TESTS {
        let report = run(
            &dir.join(format!("{rule}.json")),
            &dir.join(format!("{file}.xml")),
            &[],
        );
        let found = rule_findings(&report);
        covered.insert(*file);
        if found.is_empty() != *passes {
            wrong.push(format!(
                "{rule} on {file}: expected pass={passes}, found {found:?}"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} differ:\n{}",
        wrong.len(),
        META_TESTS.len(),
        wrong.join("\n")
    );
    // Every *_good / *_bad file of the folder is in the table.
    for file in xml_files(&dir) {
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        if stem.ends_with("_good") || stem.ends_with("_bad") {
            assert!(
                covered.contains(stem),
                "meta test file {stem} is not checked"
            );
        }
    }
}

/// XPath 1.0 comparisons as rule conditions: each case fires (its path is absent) exactly
/// when its condition is true, so the rule ids found are the conditions that hold. The
/// attributes are ones the schema knows, which the evaluator looks up directly.
#[test]
fn conditions_compare_as_xpath_says() {
    // (condition, whether it holds on the activity below)
    let cases: &[(&str, bool)] = &[
        ("@hierarchy = 10", true),
        ("10 = @hierarchy", true),
        ("@hierarchy = '10'", true),
        ("'10' = @hierarchy", true),
        ("@hierarchy = '10.0'", false), // two strings
        ("@hierarchy = 10.0", true),    // a number
        ("@hierarchy != 10", false),
        ("@hierarchy < 11", true),
        ("11 > @hierarchy", true),
        ("@hierarchy >= '10'", true), // relational: numbers even from strings
        ("@default-currency = 'abc'", true),
        ("@default-currency != 'abc'", false),
        ("'abc' != @default-currency", false),
        ("@default-currency > 1", false), // NaN
        ("@budget-not-provided = ''", false),
        ("@budget-not-provided != ''", false),
        ("'' = @budget-not-provided", false),
        ("not(@budget-not-provided = 'a')", true),
        ("sector[@vocabulary = 99]/@percentage = 40", true),
        ("sector[@vocabulary != '1']/@vocabulary = '99'", true),
        (
            "count(sector[@vocabulary = '1' or @vocabulary = 2]) = 1",
            true,
        ),
        ("sector/@percentage = 40", true), // any of them
        ("sector/@percentage != 40", true),
        ("sector[@percentage > 50]/@vocabulary = 99", false),
        ("sector[50 < @percentage]/@vocabulary = 1", true),
        ("sector[40 > @percentage]", false),
        ("sector['99' = @vocabulary]/@percentage = 40", true),
        ("sector['99' != @vocabulary]/@percentage = 60", true),
        // Other axes, from one node and from several.
        ("count(sector[2]/preceding-sibling::sector) = 1", true),
        ("sector[2]/preceding-sibling::*[1]/@vocabulary = 1", true),
        ("count(sector/ancestor-or-self::*) = 4", true),
        ("count(sector/parent::*) = 1", true),
        ("sector[1]/following-sibling::sector/@percentage = 40", true),
        (
            "count(sector[1]/following-sibling::sector[@vocabulary = 1]) = 0",
            true,
        ),
    ];
    let rules: Vec<String> = cases
        .iter()
        .enumerate()
        .map(|(i, (condition, _))| {
            format!(
                r#"{{"condition": {}, "paths": ["absent"], "ruleInfo": {{"id": "t.{i}", "severity": "error", "message": "m"}}}}"#,
                serde_json::Value::from(*condition)
            )
        })
        .collect();
    let json = format!(
        r#"{{"/iati-activities/iati-activity": {{"atleast_one": {{"cases": [{}]}}}}}}"#,
        rules.join(",")
    );
    let ruleset = Ruleset::from_json(&json).expect("ruleset");
    let xml = r#"<iati-activities version="2.03"><iati-activity hierarchy="10" default-currency="abc">
<sector vocabulary="1" percentage="60"/><sector vocabulary="99" percentage="40.0"/>
</iati-activity></iati-activities>"#;
    let opts = ValidateOptions {
        ruleset: Some(Arc::new(ruleset)),
        today: Some(TODAY.into()),
        ..options()
    };
    let report =
        meridian_formats::iati::validate(xml.as_bytes(), &opts).expect("readable document");
    let fired: HashSet<&str> = report
        .findings
        .iter()
        .filter(|f| f.layer == Layer::Ruleset)
        .map(|f| f.rule_id.as_str())
        .collect();
    let wrong: Vec<String> = cases
        .iter()
        .enumerate()
        .filter(|(i, (_, holds))| fired.contains(format!("t.{i}").as_str()) != *holds)
        .map(|(_, (condition, holds))| format!("{condition}: expected {holds}"))
        .collect();
    assert!(wrong.is_empty(), "{wrong:#?}");
}
