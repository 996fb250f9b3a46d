//! Shared helpers for the IATI integration tests: where the sample corpus lives and how to
//! validate a file from it.
#![allow(dead_code)]

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use meridian_formats::iati::{Layer, Report, Severity, ValidateOptions, validate};

/// The shared IATI data folder (`shared/data/iati`), beside the repository checkout, or where
/// `MERIDIAN_IATI_DATA` says. The tests fail, not skip, when it is missing.
pub fn iati_data() -> PathBuf {
    if let Ok(dir) = std::env::var("MERIDIAN_IATI_DATA") {
        return PathBuf::from(dir);
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidate = manifest.join("../../../shared/data/iati");
    assert!(
        candidate.is_dir(),
        "IATI sample data not found at {}; set MERIDIAN_IATI_DATA",
        candidate.display()
    );
    candidate
}

pub fn samples() -> PathBuf {
    iati_data().join("samples")
}

pub fn options() -> ValidateOptions {
    ValidateOptions {
        max_findings: 1_000_000,
        ..ValidateOptions::default()
    }
}

pub fn validate_file(path: &Path) -> Report {
    validate_file_with(path, &options())
}

pub fn validate_file_with(path: &Path, opts: &ValidateOptions) -> Report {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    validate(BufReader::new(file), opts).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// What xmllint would say: the XML is broken or breaks the schema.
pub fn fails_schema(report: &Report) -> bool {
    !report.well_formed
        || report
            .findings
            .iter()
            .any(|f| f.layer == Layer::Schema && f.severity == Severity::Error)
}

/// Every `.xml` file under a folder, sorted.
pub fn xml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let entries = std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
        for entry in entries {
            let path = entry.expect("directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "xml") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

pub fn describe(report: &Report) -> String {
    report
        .findings
        .iter()
        .take(5)
        .map(|f| format!("  {}:{} {} {}", f.line, f.column, f.rule_id, f.message))
        .collect::<Vec<_>>()
        .join("\n")
}
