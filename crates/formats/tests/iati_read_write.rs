//! The activity reader and the 2.03 writer on real publisher files: read → write → read
//! gives the same activities, and what is written passes the schema (ours, and xmllint's when
//! it is installed). Older files upgrade to 2.03 with an account of what changed.

mod common;

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use common::*;
use meridian_formats::iati::activity::Activity;
use meridian_formats::iati::legacy::{Version, upgrade};
use meridian_formats::iati::read::{ActivityReader, ReadErrorKind, read_all};
use meridian_formats::iati::write::to_document;

fn read_file(path: &Path) -> Vec<Activity> {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    ActivityReader::new(BufReader::new(file))
        .collect::<Result<Vec<_>, _>>()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn real_files() -> Vec<PathBuf> {
    let dir = samples().join("real-2.0x");
    [
        "fi-3_finland_6acts_line-br.xml",
        "iom_XM-DAC-47066-DP.2154_dportal.xml",
        "iom_XM-DAC-47066-DP.2154_wrapped.xml",
        "us-gov-1_3acts_one-with-errors.xml",
        "undp_XM-DAC-41114_gabon_INVALID_condition-type-line70077.xml",
    ]
    .iter()
    .map(|f| dir.join(f))
    .collect()
}

fn validate_bytes(bytes: &[u8]) -> meridian_formats::iati::Report {
    meridian_formats::iati::validate(bytes, &options()).expect("readable")
}

/// Read, write, read again: the same activities; the written file passes the schema.
fn round_trip(path: &Path, must_pass_schema: bool) -> Vec<u8> {
    let first = read_file(path);
    assert!(!first.is_empty(), "{}: no activity read", path.display());
    let written = to_document(&first, "2026-11-28T00:00:00Z")
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let second = read_all(&written).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    // `extra` counts what the first read left out; the written file no longer has it.
    let strip = |v: &[Activity]| {
        v.iter()
            .cloned()
            .map(|mut a| {
                a.extra = Default::default();
                a
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(strip(&first), strip(&second), "{}", path.display());
    if must_pass_schema {
        let report = validate_bytes(&written);
        assert!(
            !fails_schema(&report),
            "{}: the written file breaks the schema:\n{}\n{}",
            path.display(),
            describe(&report),
            String::from_utf8_lossy(&written)
        );
    }
    written
}

#[test]
fn real_publisher_files_round_trip_and_stay_schema_valid() {
    for path in real_files() {
        round_trip(&path, true);
    }
}

#[test]
fn every_official_should_pass_activity_file_round_trips_to_a_valid_file() {
    let base = samples().join("schema-tests/IATI-Schemas-tests");
    let mut checked = 0;
    for dir in [
        base.join("activity-tests/should-pass"),
        base.join("should-pass/iati-activities"),
    ] {
        for file in xml_files(&dir) {
            let acts = read_file(&file);
            if acts.is_empty() {
                continue;
            }
            round_trip(&file, true);
            checked += 1;
        }
    }
    assert!(checked > 150, "only {checked} files checked");
}

#[test]
fn the_iom_activity_reads_as_published() {
    let acts = read_file(&samples().join("real-2.0x/iom_XM-DAC-47066-DP.2154_wrapped.xml"));
    assert_eq!(acts.len(), 1);
    let a = &acts[0];
    assert_eq!(a.identifier, "XM-DAC-47066-DP.2154");
    assert_eq!(a.lang.as_deref(), Some("en"));
    assert_eq!(a.default_currency.as_deref(), Some("USD"));
    assert_eq!(a.reporting_org.r#ref.as_deref(), Some("XM-DAC-47066"));
    assert!(
        a.title(None)
            .unwrap()
            .starts_with("Promotion of Human Security")
    );
    assert_eq!(a.participating_orgs.len(), 2);
    assert_eq!(a.participating_orgs[0].role, "1");
    assert_eq!(
        a.participating_orgs[0].activity_id.as_deref(),
        Some("XM-DAC-701-2-YK/IOM/71")
    );
    assert_eq!(a.status.as_deref(), Some("2"));
    assert_eq!(a.dates.len(), 3);
    assert_eq!(a.recipient_countries[0].code, "SO");
    assert_eq!(a.locations.len(), 2);
    assert_eq!(a.locations[0].pos.as_deref(), Some("2.013475 45.306415"));
    assert_eq!(a.locations[1].administratives[0].code, "SO");
    assert_eq!(a.sectors.len(), 3);
    assert_eq!(a.sectors[0].vocabulary.as_deref(), Some("99"));
    assert_eq!(a.budgets[0].value.amount, "1459753.72");
    assert_eq!(a.budgets[0].value.value_date.as_deref(), Some("2020-03-01"));
    // What Meridian does not keep is counted, not lost silently.
    assert_eq!(a.extra.elements.get("contact-info"), Some(&1));
    assert_eq!(a.extra.elements.get("policy-marker"), Some(&1));
    assert_eq!(a.extra.elements.get("capital-spend"), Some(&1));
    // The d-portal copy (a lone iati-activity as root) reads the same.
    let lone = read_file(&samples().join("real-2.0x/iom_XM-DAC-47066-DP.2154_dportal.xml"));
    assert_eq!(lone.len(), 1);
    assert_eq!(lone[0].identifier, a.identifier);
    assert_eq!(lone[0].budgets, a.budgets);
}

#[test]
fn multilingual_narratives_and_results_are_kept() {
    let acts = read_file(&samples().join("real-2.0x/fi-3_finland_6acts_line-br.xml"));
    assert_eq!(acts.len(), 6);
    let langs: std::collections::BTreeSet<_> = acts
        .iter()
        .flat_map(|a| {
            a.titles
                .iter()
                .chain(a.descriptions.iter().flat_map(|d| &d.narratives))
        })
        .map(|n| n.lang.clone())
        .collect();
    // Finnish narratives beside the file's default language (English).
    assert!(
        langs.contains(&Some("fi".into())) && langs.contains(&None),
        "{langs:?}"
    );
    let derived =
        samples().join("validator-fixtures/integration-test-files/iati-act-no-errors.xml");
    let with_results = read_file(&derived);
    let results: usize = with_results.iter().map(|a| a.results.len()).sum();
    assert!(results > 0, "iati-act-no-errors.xml has results");
    let indicator = with_results[0].results[0]
        .child("indicator")
        .expect("an indicator");
    assert!(indicator.attr("measure").is_some());
    round_trip(&derived, true);
}

#[test]
fn text_and_attributes_are_escaped() {
    let xml = r#"<iati-activities version="2.03"><iati-activity>
      <iati-identifier>XM-1 &amp; co</iati-identifier>
      <reporting-org ref="XM-1" type="10"><narrative>A &lt;b&gt; "c"</narrative></reporting-org>
      <title><narrative xml:lang="fr">Éducation &amp; santé</narrative></title>
      <description><narrative>line one
line two</narrative></description>
      <participating-org role="1" ref="a&quot;b"/>
      <activity-status code="2"/>
      <activity-date type="1" iso-date="2020-01-01"/>
    </iati-activity></iati-activities>"#;
    let first = read_all(xml.as_bytes()).unwrap();
    assert_eq!(first[0].identifier, "XM-1 & co");
    assert_eq!(
        first[0].participating_orgs[0].r#ref.as_deref(),
        Some("a\"b")
    );
    let written = to_document(&first, "2026-11-28T00:00:00Z").unwrap();
    let text = String::from_utf8(written.clone()).unwrap();
    assert!(text.contains("XM-1 &amp; co"), "{text}");
    assert!(text.contains("ref=\"a&quot;b\""), "{text}");
    assert_eq!(read_all(&written).unwrap(), first);
}

#[test]
fn a_truncated_file_is_an_error_with_its_line() {
    let path = samples().join("real-2.0x/fi-3_finland_6acts_line-br.xml");
    let bytes = std::fs::read(&path).unwrap();
    let cut = &bytes[..bytes.len() / 2];
    let results: Vec<_> = ActivityReader::new(cut).collect();
    let last = results.last().unwrap().as_ref().unwrap_err();
    assert_eq!(last.kind, ReadErrorKind::Malformed);
    assert!(last.message.contains("truncated"), "{last}");
    let lines = cut.iter().filter(|&&b| b == b'\n').count() as u64;
    assert!(last.line >= lines, "line {} for {lines} lines", last.line);
    assert!(results[..results.len() - 1].iter().all(|r| r.is_ok()));
}

#[test]
fn an_activity_without_identifier_is_skipped_and_located() {
    let xml = "<iati-activities version=\"2.03\">\n<iati-activity>\n<title/>\n</iati-activity>\n\
               <iati-activity><iati-identifier>B</iati-identifier></iati-activity>\n</iati-activities>";
    let results: Vec<_> = ActivityReader::new(xml.as_bytes()).collect();
    assert_eq!(results.len(), 2);
    let e = results[0].as_ref().unwrap_err();
    assert_eq!((e.kind, e.line, e.column), (ReadErrorKind::Activity, 2, 1));
    assert_eq!(results[1].as_ref().unwrap().identifier, "B");
    let broken = read_all(b"<iati-activities><iati-activity></b>");
    assert_eq!(broken.unwrap_err().kind, ReadErrorKind::Malformed);
}

#[test]
fn written_files_pass_xmllint_with_the_official_schema() {
    let Ok(status) = std::process::Command::new("xmllint")
        .arg("--version")
        .output()
    else {
        eprintln!(
            "\n*** xmllint NOT FOUND on PATH: the xmllint oracle was NOT run (install libxml2-utils) ***\n"
        );
        return;
    };
    assert!(status.status.success());
    let schema = iati_data().join("schemas/iati-activities-schema.xsd");
    let dir = tempfile_dir();
    for path in real_files() {
        let written = round_trip(&path, false);
        let out = dir.join(path.file_name().unwrap());
        std::fs::write(&out, &written).unwrap();
        let run = std::process::Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(&schema)
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "xmllint refuses {}:\n{}",
            out.display(),
            String::from_utf8_lossy(&run.stderr)
        );
    }
}

fn tempfile_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("meridian-iati-rw-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn legacy_files_upgrade_to_schema_valid_2_03_with_notes() {
    let dir = samples().join("real-legacy-1.x");
    let mut upgraded = 0;
    for path in xml_files(&dir) {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let input = BufReader::new(File::open(&path).unwrap());
        let mut out = Vec::new();
        let outcome = upgrade(input, &mut out, "2026-11-28T00:00:00Z");
        if name.starts_with("datastore_broken") {
            assert!(
                outcome.is_err() || !outcome.unwrap().refused.is_empty(),
                "{name}"
            );
            continue;
        }
        let report = outcome.unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(report.from, Version::V1, "{name}");
        assert!(
            report.notes.iter().any(|n| n.message.contains("@version")),
            "{name}: {:?}",
            report.notes
        );
        if report.activities_written == 0 {
            // Nothing 2.03 can hold: every activity is listed with why.
            assert!(!report.refused.is_empty(), "{name}");
            continue;
        }
        let validation = validate_bytes(&out);
        assert!(
            !fails_schema(&validation),
            "{name}: the upgraded file breaks the schema:\n{}",
            describe(&validation)
        );
        upgraded += report.activities_written;
    }
    assert!(upgraded > 400, "only {upgraded} activities upgraded");
}

#[test]
fn legacy_codes_are_renamed_and_reported() {
    let path = samples().join("real-legacy-1.x/datastore_CD.xml");
    let mut out = Vec::new();
    let report = upgrade(
        BufReader::new(File::open(&path).unwrap()),
        &mut out,
        "2026-11-28T00:00:00Z",
    )
    .unwrap();
    let messages: Vec<_> = report.notes.iter().map(|n| n.message.as_str()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("activity-date/@type 'start-planned' → 1")
                || m.contains("activity-date/@type 'start-actual' → 2")),
        "{messages:#?}"
    );
    assert!(
        messages.iter().any(|m| m.contains("registry-record")),
        "{messages:#?}"
    );
    let acts = read_all(&out).unwrap();
    assert!(acts.iter().all(|a| {
        a.dates
            .iter()
            .all(|d| ["1", "2", "3", "4"].contains(&d.r#type.as_str()))
    }));
}
