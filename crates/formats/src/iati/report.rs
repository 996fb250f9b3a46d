//! What a validation found: findings, their summary, and the two ways of showing them.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

/// How much a finding matters. Errors make a file invalid; warnings do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// Which check produced a finding. The IATI Validator treats `Document` and `Schema`
/// problems as "critical" (the file is refused); `Codelist` and `Ruleset` problems are data
/// quality feedback.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layer {
    /// Well-formedness, root element, IATI version.
    Document,
    /// The IATI 2.03 XML schema.
    Schema,
    /// Codes checked against the IATI codelists.
    Codelist,
    /// The IATI standard ruleset.
    Ruleset,
}

/// One problem, where it is, and which rule it breaks.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: Severity,
    pub layer: Layer,
    /// IATI's own rule id where one exists (`0.3.1` schema, `9.x.1` codelists, `11.1.2` …);
    /// ids Meridian adds start with `meridian:`.
    pub rule_id: String,
    /// 1-based line of the element (or character) the finding is about.
    pub line: u64,
    /// 1-based byte column on that line.
    pub column: u64,
    /// The `iati-identifier` (or `organisation-identifier`) of the activity it sits in.
    pub activity_identifier: Option<String>,
    pub message: String,
    /// Where in the document, as element names from the root: `/iati-activities/iati-activity/sector/@code`.
    pub path: String,
}

/// How many findings one rule produced, including those not stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuleCount {
    pub severity: Severity,
    pub count: u64,
}

/// The outcome of validating one file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The findings in document order (per activity), at most `ValidateOptions::max_findings`.
    pub findings: Vec<Finding>,
    /// `iati-activity` (or `iati-organisation`) elements seen.
    pub activities: u64,
    pub errors: u64,
    pub warnings: u64,
    /// Every rule that fired, with its count: complete even when `findings` was capped.
    pub by_rule: BTreeMap<String, RuleCount>,
    /// True when more findings were counted than stored.
    pub truncated: bool,
    /// The root element's name, once read.
    pub root: Option<String>,
    /// The root's `version` attribute.
    pub version: Option<String>,
    /// False when the XML itself is broken (not well-formed); validation stopped there and the
    /// last finding (rule `0.1.1`) says where.
    pub well_formed: bool,
}

impl Report {
    /// Valid means no error-severity finding at all (warnings allowed).
    pub fn is_valid(&self) -> bool {
        self.errors == 0
    }

    /// Whether the file passes what the IATI Validator calls critical checks: well-formed XML,
    /// an IATI root element, a supported version and the XML schema.
    pub fn passes_critical_checks(&self) -> bool {
        self.well_formed
            && !self.findings.iter().any(|f| {
                f.severity == Severity::Error && matches!(f.layer, Layer::Document | Layer::Schema)
            })
            && !(self.truncated && self.by_rule.keys().any(|id| id.starts_with("0.")))
    }

    /// A report for people, one finding a line, then the summary.
    pub fn to_human(&self, file: &str) -> String {
        let mut out = String::new();
        for f in &self.findings {
            let activity = f
                .activity_identifier
                .as_deref()
                .map(|id| format!(" [{id}]"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "{file}:{}:{}: {} {}{activity}: {} ({})",
                f.line,
                f.column,
                f.severity.as_str(),
                f.rule_id,
                f.message,
                f.path
            );
        }
        if self.truncated {
            let stored = self.findings.len();
            let _ = writeln!(out, "{file}: only the first {stored} findings are listed");
        }
        let verdict = if self.is_valid() { "valid" } else { "INVALID" };
        let _ = writeln!(
            out,
            "{file}: {verdict}: {} activities, {} errors, {} warnings",
            self.activities, self.errors, self.warnings
        );
        out
    }

    /// A report for programs: the same content as [`Report::to_human`], as JSON.
    pub fn to_json(&self, file: &str) -> serde_json::Value {
        serde_json::json!({
            "file": file,
            "valid": self.is_valid(),
            "well_formed": self.well_formed,
            "root": self.root,
            "version": self.version,
            "activities": self.activities,
            "errors": self.errors,
            "warnings": self.warnings,
            "truncated": self.truncated,
            "by_rule": self.by_rule,
            "findings": self.findings,
        })
    }
}

/// Collects findings, storing at most `cap` of them but counting all.
#[derive(Debug)]
pub(crate) struct FindingSink {
    cap: usize,
    report: Report,
}

impl FindingSink {
    pub(crate) fn new(cap: usize) -> Self {
        FindingSink {
            cap,
            report: Report {
                findings: Vec::new(),
                activities: 0,
                errors: 0,
                warnings: 0,
                by_rule: BTreeMap::new(),
                truncated: false,
                root: None,
                version: None,
                well_formed: true,
            },
        }
    }

    pub(crate) fn push(&mut self, finding: Finding) {
        let report = &mut self.report;
        match finding.severity {
            Severity::Error => report.errors += 1,
            Severity::Warning => report.warnings += 1,
        }
        match report.by_rule.get_mut(&finding.rule_id) {
            Some(count) => count.count += 1,
            None => {
                report.by_rule.insert(
                    finding.rule_id.clone(),
                    RuleCount {
                        severity: finding.severity,
                        count: 1,
                    },
                );
            }
        }
        if report.findings.len() < self.cap {
            report.findings.push(finding);
        } else {
            report.truncated = true;
        }
    }

    /// Findings pushed so far, stored or not.
    pub(crate) fn total(&self) -> u64 {
        self.report.errors + self.report.warnings
    }

    /// Adds another report's counts (not its findings: see [`FindingSink::store`]).
    pub(crate) fn count(&mut self, other: &Report) {
        let report = &mut self.report;
        report.errors += other.errors;
        report.warnings += other.warnings;
        report.truncated |= other.truncated;
        for (rule, count) in &other.by_rule {
            match report.by_rule.get_mut(rule) {
                Some(mine) => mine.count += count.count,
                None => {
                    report.by_rule.insert(rule.clone(), count.clone());
                }
            }
        }
    }

    /// Stores a finding already counted (with [`FindingSink::count`]), if there is room.
    pub(crate) fn store(&mut self, finding: Finding) {
        if self.report.findings.len() < self.cap {
            self.report.findings.push(finding);
        } else {
            self.report.truncated = true;
        }
    }

    pub(crate) fn report_mut(&mut self) -> &mut Report {
        &mut self.report
    }

    pub(crate) fn finish(self) -> Report {
        self.report
    }
}
