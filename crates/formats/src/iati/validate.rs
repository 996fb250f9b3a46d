//! The validation run: one pass over the document feeding the schema validator, and the
//! per-activity checks, collecting findings.

use std::io::BufRead;

use smallvec::SmallVec;

use super::codelists::{CODELIST_CHECKS, CodelistChecks};
use super::document::{Handler, Malformed, StartTag, read_document};
use super::names::{NameId, XML_NS};
use super::options::ValidateOptions;
use super::report::{Finding, FindingSink, Layer, Report, Severity};
use super::rules::{RuleRunner, Ruleset, parse_js_date};
use super::tree::Tree;
use super::xsd::validator::{AttrInfo, ElementInfo, SchemaIssue, SchemaValidator};
use super::xsd::{IATI_SCHEMA, Schema};

/// The input could not be read at all. (Broken XML is a finding, not an error.)
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read the input: {0}")]
    Io(#[from] std::io::Error),
    #[error("the validator itself is broken: {0}")]
    Internal(String),
}

/// Validates an IATI 2.03 activities (or organisations) file read from `input`.
pub fn validate<R: BufRead>(input: R, opts: &ValidateOptions) -> Result<Report, ReadError> {
    let schema = IATI_SCHEMA
        .as_ref()
        .map_err(|e| ReadError::Internal(e.to_string()))?;
    let codelists = CODELIST_CHECKS
        .as_ref()
        .map_err(|e| ReadError::Internal(e.clone()))?;
    let ruleset = match &opts.ruleset {
        Some(r) => r.as_ref(),
        None => Ruleset::standard().map_err(|e| ReadError::Internal(e.to_string()))?,
    };
    let now = match &opts.today {
        Some(day) => parse_js_date(day)
            .map(|start| start + 86_400_000 - 1)
            .ok_or_else(|| {
                ReadError::Internal(format!("'today' must be YYYY-MM-DD, not '{day}'"))
            })?,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX)),
    };
    let mut run = Run::new(schema, opts);
    run.codelists = Some(codelists);
    run.rules = Some(RuleRunner::new(ruleset, now, &opts.registered_publishers));
    let malformed = read_document(input, &mut run)?;
    Ok(run.finish(malformed))
}

/// What the root element says the file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RootKind {
    Activities,
    Organisations,
    /// A lone `iati-activity` / `iati-organisation` as root (d-portal exports do this).
    SingleUnit,
    Other,
}

struct Run<'s> {
    rules: Option<RuleRunner<'s>>,
    /// Hashes of the activity identifiers seen so far (rule 1.1.2): 8 bytes an activity.
    seen_identifiers: std::collections::HashSet<u64>,
    schema: &'s Schema,
    validator: SchemaValidator<'s>,
    sink: FindingSink,
    issues: Vec<SchemaIssue>,
    depth: usize,
    /// `/iati-activities/iati-activity/...` of the current element.
    path: String,
    path_marks: Vec<usize>,
    root_kind: RootKind,
    /// Depth of the activity (or organisation) being read, if inside one.
    unit_depth: Option<usize>,
    /// Findings of the current activity, held until its identifier is known.
    pending: Vec<Finding>,
    identifier: Option<String>,
    capturing_identifier: bool,
    max_pending: usize,
    /// The activity being read, for the codelist and rule checks.
    tree: Tree<'s>,
    codelists: Option<&'s CodelistChecks>,
}

impl<'s> Run<'s> {
    fn new(schema: &'s Schema, opts: &ValidateOptions) -> Self {
        Run {
            rules: None,
            seen_identifiers: std::collections::HashSet::new(),
            schema,
            validator: SchemaValidator::new(schema),
            sink: FindingSink::new(opts.max_findings),
            issues: Vec::new(),
            depth: 0,
            path: String::with_capacity(256),
            path_marks: Vec::with_capacity(32),
            root_kind: RootKind::Other,
            unit_depth: None,
            pending: Vec::new(),
            identifier: None,
            capturing_identifier: false,
            max_pending: opts.max_findings,
            tree: Tree::new(&schema.names),
            codelists: None,
        }
    }

    fn emit(&mut self, finding: Finding) {
        if self.unit_depth.is_some() && self.pending.len() < self.max_pending {
            self.pending.push(finding);
        } else {
            self.sink.push(finding);
        }
    }

    fn flush_issues(&mut self) {
        let issues = std::mem::take(&mut self.issues);
        for issue in issues {
            let path = match &issue.attribute {
                Some(a) => format!("{}/@{a}", self.path),
                None => self.path.clone(),
            };
            self.emit(Finding {
                severity: Severity::Error,
                layer: Layer::Schema,
                rule_id: "0.3.1".into(),
                line: issue.line,
                column: issue.column,
                activity_identifier: None,
                message: issue.message,
                path,
            });
        }
    }

    fn document_error(&mut self, rule_id: &str, tag: &StartTag, message: String) {
        self.emit(Finding {
            severity: Severity::Error,
            layer: Layer::Document,
            rule_id: rule_id.into(),
            line: tag.line,
            column: tag.column,
            activity_identifier: None,
            message,
            path: self.path.clone(),
        });
    }

    fn check_root(&mut self, tag: &StartTag) {
        let report = self.sink.report_mut();
        report.root = Some(tag.qname.to_owned());
        let version = tag
            .attrs
            .iter()
            .find(|a| tag.attr_namespace(a).is_none() && tag.attr_local(a) == "version")
            .map(|a| tag.attr_value(a).trim().to_owned());
        report.version.clone_from(&version);
        self.root_kind = match (tag.namespace, tag.local) {
            (None, "iati-activities") => RootKind::Activities,
            (None, "iati-organisations") => RootKind::Organisations,
            (None, "iati-activity" | "iati-organisation") => RootKind::SingleUnit,
            _ => RootKind::Other,
        };
        match self.root_kind {
            RootKind::Activities | RootKind::Organisations => {}
            RootKind::SingleUnit => self.document_error(
                "0.2.1",
                tag,
                format!(
                    "The root element is <{}>: an IATI file has <iati-activities> or <iati-organisations> as root.",
                    tag.qname
                ),
            ),
            RootKind::Other => self.document_error(
                "0.2.1",
                tag,
                format!("<{}> is not the root of an IATI file: this is not IATI data.", tag.qname),
            ),
        }
        if let Some(version) = version {
            if version.starts_with("1.") {
                self.document_error(
                    "0.6.1",
                    tag,
                    format!(
                        "Version {version} of the IATI Standard is no longer supported. Please use version 2."
                    ),
                );
            } else if version != "2.03" {
                // A warning: the file is legitimate IATI, only checked against the newer 2.03.
                self.emit(Finding {
                    severity: Severity::Warning,
                    layer: Layer::Document,
                    rule_id: "meridian:version".into(),
                    line: tag.line,
                    column: tag.column,
                    activity_identifier: None,
                    message: format!(
                        "The file declares IATI version {version}, not 2.03: it was checked against 2.03, which it may not follow. Upgrade it to 2.03."
                    ),
                    path: self.path.clone(),
                });
            }
        }
    }

    fn unit_name(&self) -> &'static str {
        match self.root_kind {
            RootKind::Organisations => "iati-organisation",
            _ => "iati-activity",
        }
    }

    fn identifier_name(&self) -> &'static str {
        match self.root_kind {
            RootKind::Organisations => "organisation-identifier",
            _ => "iati-identifier",
        }
    }

    /// Codelist and rule checks on a finished activity.
    fn check_unit(&mut self, node: u32) {
        if node == super::tree::NONE {
            return;
        }
        self.check_codelists(node, true);
        if let Some(rules) = &mut self.rules {
            self.tree.index_children(node);
            let mut issues = Vec::new();
            rules.run(&self.tree, &mut issues);
            for issue in issues {
                let n = &self.tree.nodes[issue.node as usize];
                let (line, column) = (n.line, n.column);
                self.emit(Finding {
                    severity: issue.severity,
                    layer: Layer::Ruleset,
                    rule_id: issue.rule_id,
                    line,
                    column,
                    activity_identifier: None,
                    message: issue.message,
                    path: issue.path,
                });
            }
        }
        self.check_duplicate_identifier(node);
    }

    /// Rule 1.1.2: an identifier used by an earlier activity of the file. Only a hash of each
    /// identifier is kept, so memory stays small for any number of activities.
    fn check_duplicate_identifier(&mut self, node: u32) {
        use std::hash::{Hash, Hasher};
        let identifier = match self.identifier.as_deref() {
            Some(id) if !id.is_empty() => id.to_owned(),
            _ => "noIdentifier".to_owned(),
        };
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        identifier.hash(&mut hasher);
        if self.seen_identifiers.insert(hasher.finish()) {
            return;
        }
        let n = &self.tree.nodes[node as usize];
        let (line, column) = (n.line, n.column);
        let what = if self.root_kind == RootKind::Organisations {
            "organisation"
        } else {
            "activity"
        };
        self.emit(Finding {
            severity: Severity::Error,
            layer: Layer::Ruleset,
            rule_id: "1.1.2".into(),
            line,
            column,
            activity_identifier: None,
            message: format!(
                "The {what} identifier must be unique for each {what}: '{}' is used more than once in this file.",
                identifier.trim()
            ),
            path: self.tree.path(node),
        });
    }

    fn check_codelists(&mut self, node: u32, subtree: bool) {
        let Some(checks) = self.codelists else {
            return;
        };
        let mut issues = Vec::new();
        checks.check(&self.tree, node, subtree, &mut issues);
        for issue in issues {
            let n = &self.tree.nodes[issue.node as usize];
            let (line, column) = (n.line, n.column);
            self.emit(Finding {
                severity: issue.severity,
                layer: Layer::Codelist,
                rule_id: issue.rule_id,
                line,
                column,
                activity_identifier: None,
                message: issue.message,
                path: issue.path,
            });
        }
    }

    fn unit_ended(&mut self) {
        let identifier = self
            .identifier
            .take()
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        for mut f in std::mem::take(&mut self.pending) {
            f.activity_identifier.clone_from(&identifier);
            self.sink.push(f);
        }
        self.unit_depth = None;
    }

    fn finish(mut self, malformed: Option<Malformed>) -> Report {
        if let Some(m) = malformed {
            self.unit_ended();
            self.sink.report_mut().well_formed = false;
            self.sink.push(Finding {
                severity: Severity::Error,
                layer: Layer::Document,
                rule_id: "0.1.1".into(),
                line: m.line,
                column: m.column,
                activity_identifier: None,
                message: format!("The file is not well-formed XML: {}.", m.message),
                path: self.path.clone(),
            });
        }
        self.sink.finish()
    }
}

impl Handler for Run<'_> {
    fn start(&mut self, tag: &StartTag) {
        self.depth += 1;
        self.path_marks.push(self.path.len());
        self.path.push('/');
        self.path.push_str(tag.qname);
        if self.depth == 1 {
            self.check_root(tag);
        }
        let is_unit = tag.namespace.is_none()
            && tag.local == self.unit_name()
            && match self.root_kind {
                RootKind::Activities | RootKind::Organisations => self.depth == 2,
                RootKind::SingleUnit => self.depth == 1,
                RootKind::Other => false,
            };
        if is_unit {
            self.sink.report_mut().activities += 1;
            self.unit_depth = Some(self.depth);
            self.identifier = None;
        }
        self.capturing_identifier = self.unit_depth.is_some_and(|d| d + 1 == self.depth)
            && tag.namespace.is_none()
            && tag.local == self.identifier_name();
        if self.capturing_identifier {
            self.identifier = Some(String::new());
        }

        let schema = self.schema;
        let key = self.validator.key_of(tag.namespace, tag.local);
        let attrs: SmallVec<[AttrInfo; 8]> = tag
            .attrs
            .iter()
            .map(|a| {
                let namespace = tag.attr_namespace(a);
                let local = tag.attr_local(a);
                AttrInfo {
                    namespace,
                    local,
                    key: attr_key(schema, namespace, local),
                    value: tag.attr_value(a),
                }
            })
            .collect();
        let el = ElementInfo {
            namespace: tag.namespace,
            local: tag.local,
            key,
            line: tag.line,
            column: tag.column,
        };
        self.validator.start(&el, &attrs, &mut self.issues);
        if !self.issues.is_empty() {
            self.flush_issues();
        }
        if self.depth == 1 {
            self.tree.start(tag, key, &attrs);
            self.tree.keep_root();
            self.check_codelists(1, false);
        } else if self.unit_depth.is_some() {
            self.tree.start(tag, key, &attrs);
        }
    }

    fn text(&mut self, text: &str, line: u64, column: u64) {
        if self.capturing_identifier
            && let Some(id) = &mut self.identifier
        {
            id.push_str(text);
        }
        if self.unit_depth.is_some() {
            self.tree.text(text);
        }
        self.validator.text(text, line, column, &mut self.issues);
        if !self.issues.is_empty() {
            self.flush_issues();
        }
    }

    fn end(&mut self, _line: u64, _column: u64) {
        self.capturing_identifier = false;
        self.validator.end(&mut self.issues);
        if !self.issues.is_empty() {
            self.flush_issues();
        }
        let recorded = self.depth == 1 || self.unit_depth.is_some();
        let node = if recorded {
            self.tree.end()
        } else {
            super::tree::NONE
        };
        if self.unit_depth == Some(self.depth) {
            self.check_unit(node);
            self.unit_ended();
            self.tree.clear_unit();
        }
        if let Some(mark) = self.path_marks.pop() {
            self.path.truncate(mark);
        }
        self.depth = self.depth.saturating_sub(1);
    }

    fn namespace_problem(&mut self, message: String, line: u64, column: u64) {
        self.emit(Finding {
            severity: Severity::Error,
            layer: Layer::Schema,
            rule_id: "0.3.1".into(),
            line,
            column,
            activity_identifier: None,
            message,
            path: self.path.clone(),
        });
    }
}

fn attr_key(schema: &Schema, namespace: Option<&str>, local: &str) -> Option<NameId> {
    match namespace {
        None => schema.names.get(local),
        Some(XML_NS) if local == "lang" => schema.names.get("xml:lang"),
        Some(XML_NS) => schema.names.get(&format!("xml:{local}")),
        Some(ns) => schema.names.get(&format!("{{{ns}}}{local}")),
    }
}

/// Validates a document against any compiled schema (for the schema interpreter's own tests).
#[cfg(test)]
pub(crate) fn validate_against(schema: &Schema, xml: &str) -> Report {
    let opts = ValidateOptions::default();
    let mut run = Run::new(schema, &opts);
    let malformed = read_document(xml.as_bytes(), &mut run).expect("in-memory input");
    run.finish(malformed)
}
