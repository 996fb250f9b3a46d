//! The IATI Validator's integration fixtures: the rule ids its tests expect are reported, and
//! files it refuses (HTTP 400 / 422) fail our critical checks.

mod common;

use common::*;
use meridian_formats::iati::{Report, ValidateOptions};

/// Cross-references to activities and organisations in the IATI Datastore need the online
/// Datastore; Meridian does not check them offline.
fn needs_the_datastore(id: &str) -> bool {
    id.starts_with("1000.")
}

fn validate_fixture(file: &str) -> Report {
    let opts = ValidateOptions {
        today: Some("2025-01-01".into()),
        ..options()
    };
    validate_file_with(
        &samples()
            .join("validator-fixtures/integration-test-files")
            .join(file),
        &opts,
    )
}

#[test]
fn every_fixture_reports_the_rule_ids_the_validator_expects() {
    let expected = std::fs::read_to_string(samples().join("validator-fixtures/EXPECTED.json"))
        .expect("EXPECTED.json");
    let expected: serde_json::Value = serde_json::from_str(&expected).expect("JSON");
    let mut checked = 0;
    let mut skipped = Vec::new();
    let mut wrong = Vec::new();
    for (file, tests) in expected.as_object().expect("an object") {
        let path = samples()
            .join("validator-fixtures/integration-test-files")
            .join(file);
        if !path.exists() {
            continue; // the two files over 4 MiB are not in the snapshot
        }
        let report = validate_fixture(file);
        for test in tests.as_array().expect("a list") {
            // The schema-only endpoint is another service; `/pub/validate` is the validator.
            if !test["request"]
                .as_str()
                .unwrap_or_default()
                .contains("/pub/validate")
            {
                continue;
            }
            checked += 1;
            for id in test["expected_rule_ids"].as_array().into_iter().flatten() {
                let id = id.as_str().expect("id");
                if needs_the_datastore(id) {
                    skipped.push(format!("{file}: {id}"));
                } else if !report.by_rule.contains_key(id) {
                    wrong.push(format!(
                        "{file}: {id} not reported; got {:?}",
                        report.by_rule.keys().collect::<Vec<_>>()
                    ));
                }
            }
            let status = test["http_status"]
                .as_array()
                .and_then(|s| s.first())
                .and_then(|s| s.as_str());
            let refused = matches!(status, Some("400" | "422"));
            let accepted = status == Some("200");
            if refused && report.passes_critical_checks() {
                wrong.push(format!(
                    "{file}: the Validator refuses it (HTTP {status:?}), we accept it"
                ));
            }
            if accepted && !report.passes_critical_checks() {
                wrong.push(format!(
                    "{file}: the Validator accepts it, we refuse it:\n{}",
                    describe(&report)
                ));
            }
            if status == Some("400") && report.well_formed {
                wrong.push(format!(
                    "{file}: not well-formed for the Validator, well-formed for us"
                ));
            }
        }
    }
    assert!(checked > 60, "only {checked} fixture tests found");
    assert!(
        wrong.is_empty(),
        "{} problems:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(skipped.iter().all(|s| s.contains(": 1000.")), "{skipped:?}");
}

/// The codelist expectations of the Validator's tests (not in EXPECTED.json, which lists rule
/// ids only): which codelist each fixture breaks.
#[test]
fn codelist_fixtures_name_the_broken_codelists() {
    let cases = [
        (
            "iati-act-codelist-basic.xml",
            vec!["OrganisationRole", "BudgetType"],
        ),
        (
            "iati-act-codelist-conditional.xml",
            vec!["Region", "AidType", "AidTypeVocabulary"],
        ),
        ("iati-org-codelist-basic.xml", vec!["OrganisationType"]),
    ];
    for (file, lists) in cases {
        let report = validate_fixture(file);
        for list in lists {
            assert!(
                report
                    .findings
                    .iter()
                    .any(|f| f.message.contains(&format!("(codelist {list})"))),
                "{file}: no finding for codelist {list}:\n{}",
                describe(&report)
            );
        }
        assert!(
            report.passes_critical_checks(),
            "{file}: codelist errors are not critical"
        );
    }
    // A vocabulary other than 1 takes the region code out of the Region codelist's reach.
    let conditional = validate_fixture("iati-act-codelist-conditional.xml");
    assert!(
        conditional
            .findings
            .iter()
            .any(|f| f.message.contains("\"ZZA123\"") && f.rule_id == "9.51.1")
    );
}

#[test]
fn findings_carry_position_activity_and_path() {
    let report = validate_fixture("iati-multi-act-dateOrder-error.xml");
    let f = report
        .findings
        .iter()
        .find(|f| f.rule_id == "11.1.2")
        .expect("11.1.2 reported");
    assert!(f.line > 1 && f.column >= 1);
    assert!(f.activity_identifier.is_some());
    assert!(
        f.path
            .starts_with("/iati-activities/iati-activity/activity-date"),
        "{}",
        f.path
    );
    assert_eq!(report.activities, 2);
}

#[test]
fn old_versions_are_named_as_such() {
    let report = validate_fixture("iati-act-no-errors-old-version.xml");
    assert!(report.by_rule.contains_key("0.6.1"));
    assert_eq!(report.version.as_deref(), Some("1.03"));
    let report =
        validate_fixture("iati-act-identifier-exists-14-transaction-x-ref-not-found-201.xml");
    assert!(
        report.by_rule.contains_key("meridian:version"),
        "2.01 is flagged as not 2.03"
    );
    for file in xml_files(&samples().join("real-legacy-1.x")) {
        let report = validate_file(&file);
        assert!(
            !report.is_valid()
                && (report.by_rule.contains_key("0.6.1")
                    || !report.well_formed
                    || fails_schema(&report)),
            "{}",
            file.display()
        );
    }
}
