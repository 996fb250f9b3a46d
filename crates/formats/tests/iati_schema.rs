//! The schema layer gives the same verdict as the official XSD (as run by xmllint).

mod common;

use common::*;

/// Activity and organisation tests of IATI-Schemas (the registry tests use another schema).
fn schema_test_dirs(outcome: &str) -> Vec<std::path::PathBuf> {
    let base = samples().join("schema-tests/IATI-Schemas-tests");
    vec![
        base.join("activity-tests").join(outcome),
        base.join(outcome).join("iati-activities"),
        base.join("organisation-tests").join(outcome),
        base.join(outcome).join("iati-organisations"),
    ]
}

#[test]
fn every_official_should_pass_file_passes_the_schema() {
    let mut checked = 0;
    let mut wrong = Vec::new();
    for dir in schema_test_dirs("should-pass") {
        for file in xml_files(&dir) {
            checked += 1;
            let report = validate_file(&file);
            if fails_schema(&report) {
                wrong.push(format!("{}\n{}", file.display(), describe(&report)));
            }
        }
    }
    assert!(checked > 200, "only {checked} files found");
    assert!(
        wrong.is_empty(),
        "{} of {checked} rejected:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

#[test]
fn every_official_should_fail_file_fails_the_schema() {
    let mut checked = 0;
    let mut wrong = Vec::new();
    for dir in schema_test_dirs("should-fail") {
        for file in xml_files(&dir) {
            checked += 1;
            if !fails_schema(&validate_file(&file)) {
                wrong.push(file.display().to_string());
            }
        }
    }
    assert!(checked > 300, "only {checked} files found");
    assert!(
        wrong.is_empty(),
        "{} of {checked} accepted:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// `samples/VALIDATION.tsv` holds xmllint's verdict (and first error line) for the corpus.
#[test]
fn verdicts_match_xmllint_for_the_whole_corpus() {
    let tsv = std::fs::read_to_string(samples().join("VALIDATION.tsv")).expect("VALIDATION.tsv");
    let mut lines = tsv.lines();
    let header: Vec<&str> = lines.next().expect("header").split('\t').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect(name);
    let (file_col, verdict_col, error_col) =
        (col("file"), col("xsd_2.03_result"), col("first_error"));
    let mut checked = 0;
    let mut wrong = Vec::new();
    let mut wrong_lines = Vec::new();
    for row in lines.filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = row.split('\t').collect();
        let file = samples().join(fields[file_col]);
        if !file.exists() {
            continue;
        }
        checked += 1;
        let report = validate_file(&file);
        let expected_invalid = fields[verdict_col] == "INVALID";
        if fails_schema(&report) != expected_invalid {
            wrong.push(format!(
                "{} expected {}\n{}",
                fields[file_col],
                fields[verdict_col],
                describe(&report)
            ));
            continue;
        }
        // xmllint's first error must be one of ours. libxml2 gives the line where its parser
        // stood after the start tag (the `>`, sometimes the next line); we give the line of
        // the `<`, so allow the span of a long start tag.
        let first_error = fields.get(error_col).copied().unwrap_or("");
        if let Some(line) = first_error
            .split(':')
            .next()
            .and_then(|l| l.trim().parse::<u64>().ok())
        {
            let ours: Vec<u64> = report
                .findings
                .iter()
                .filter(|f| {
                    matches!(f.layer, meridian_formats::iati::Layer::Schema) || f.rule_id == "0.1.1"
                })
                .map(|f| f.line)
                .collect();
            if !ours.iter().any(|ours| (*ours..=ours + 6).contains(&line)) {
                wrong_lines.push(format!(
                    "{}: xmllint line {line}, ours {ours:?}",
                    fields[file_col]
                ));
            }
        }
    }
    assert!(checked > 100, "only {checked} rows checked");
    assert!(
        wrong.is_empty(),
        "{} of {checked} differ:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(
        wrong_lines.is_empty(),
        "{} first-error lines differ:\n{}",
        wrong_lines.len(),
        wrong_lines.join("\n")
    );
}
