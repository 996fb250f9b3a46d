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
    let checker = Checker {
        codelists: Some(codelists),
        rules: (!opts.skip_rules)
            .then(|| RuleRunner::new(ruleset, now, &opts.registered_publishers)),
        seen_identifiers: std::collections::HashSet::new(),
        sink: FindingSink::new(opts.max_findings),
        max_pending: opts.max_findings,
    };
    // `MERIDIAN_VALIDATE_THREADS=1` keeps everything on the calling thread.
    let two_threads = std::thread::available_parallelism().is_ok_and(|n| n.get() > 1)
        && std::env::var("MERIDIAN_VALIDATE_THREADS").map_or(true, |v| v.trim() != "1");
    if !two_threads {
        let mut run = Run::new(schema, opts, Backend::Inline(Box::new(checker)));
        run.codelists = Some(codelists);
        let malformed = read_document(input, &mut run)?;
        return run.finish(malformed);
    }
    // The document is read and schema-checked on this thread while another runs the
    // codelist and rule checks on each finished activity, in order.
    std::thread::scope(|scope| {
        let (to_checker, inbox) = std::sync::mpsc::sync_channel::<Vec<Message>>(BATCHES);
        let (spare_trees, spares) = std::sync::mpsc::sync_channel::<Tree>(BATCHES * (BATCH + 1));
        let worker = scope.spawn(move || {
            let mut checker = checker;
            for message in inbox.into_iter().flatten() {
                match message {
                    Message::Finding(finding) => checker.sink.push(finding),
                    Message::Unit(unit) => {
                        if let Some(tree) = checker.unit(unit) {
                            let _ = spare_trees.try_send(tree);
                        }
                    }
                }
            }
            checker
        });
        let mut run = Run::new(
            schema,
            opts,
            Backend::Worker {
                to_checker,
                batch: Vec::with_capacity(BATCH),
                spares,
                checker: worker,
            },
        );
        run.codelists = Some(codelists);
        let malformed = read_document(input, &mut run)?;
        run.finish(malformed)
    })
}

/// Activities go to the checker thread in batches (fewer wake-ups), a few batches in
/// flight at most: memory stays flat.
const BATCH: usize = 8;
const BATCHES: usize = 4;

/// What the root element says the file is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RootKind {
    Activities,
    Organisations,
    /// A lone `iati-activity` / `iati-organisation` as root (d-portal exports do this).
    SingleUnit,
    Other,
}

/// The checks on each finished activity (codelists, rules, duplicate identifiers), and the
/// findings, collected in document order.
struct Checker<'s> {
    codelists: Option<&'s CodelistChecks>,
    rules: Option<RuleRunner<'s>>,
    /// Hashes of the activity identifiers seen so far (rule 1.1.2): 8 bytes an activity.
    seen_identifiers: std::collections::HashSet<u64>,
    sink: FindingSink,
    max_pending: usize,
}

/// A finished activity (or organisation) for the checker.
struct Unit<'s> {
    /// `None` when the XML broke inside it: only its findings so far are kept.
    tree: Option<Tree<'s>>,
    node: u32,
    /// Its findings so far, held until its identifier is known.
    pending: Vec<Finding>,
    identifier: Option<String>,
    organisations: bool,
}

enum Message<'s> {
    /// A finding outside any activity.
    Finding(Finding),
    Unit(Unit<'s>),
}

/// Where finished activities go: checked on the spot, or by the checker thread.
enum Backend<'s, 'scope> {
    Inline(Box<Checker<'s>>),
    Worker {
        to_checker: std::sync::mpsc::SyncSender<Vec<Message<'s>>>,
        /// Messages not sent yet.
        batch: Vec<Message<'s>>,
        /// Trees the checker is done with, for the next activities.
        spares: std::sync::mpsc::Receiver<Tree<'s>>,
        checker: std::thread::ScopedJoinHandle<'scope, Checker<'s>>,
    },
}

struct Run<'s, 'scope> {
    backend: Backend<'s, 'scope>,
    /// What the report says besides the findings, filled in at the end.
    root: Option<String>,
    version: Option<String>,
    activities: u64,
    schema: &'s Schema,
    validator: SchemaValidator<'s>,
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
    /// The tree with only the root element in, to start the next activity from.
    blank_tree: Option<Tree<'s>>,
    codelists: Option<&'s CodelistChecks>,
}

impl<'s, 'scope> Run<'s, 'scope> {
    fn new(schema: &'s Schema, opts: &ValidateOptions, backend: Backend<'s, 'scope>) -> Self {
        Run {
            backend,
            root: None,
            version: None,
            activities: 0,
            schema,
            validator: SchemaValidator::new(schema),
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
            blank_tree: None,
            codelists: None,
        }
    }

    /// A finding outside any activity, in order with the activities' findings.
    fn report(&mut self, finding: Finding) {
        match &mut self.backend {
            Backend::Inline(checker) => checker.sink.push(finding),
            Backend::Worker { batch, .. } => batch.push(Message::Finding(finding)),
        }
    }

    /// Hands a finished (or broken-off) activity to the checker.
    fn unit_ended(&mut self, tree: Option<Tree<'s>>, node: u32) {
        let unit = Unit {
            tree,
            node,
            pending: std::mem::take(&mut self.pending),
            identifier: self.identifier.take(),
            organisations: self.root_kind == RootKind::Organisations,
        };
        self.unit_depth = None;
        match &mut self.backend {
            Backend::Inline(checker) => {
                if let Some(tree) = checker.unit(unit) {
                    self.tree = tree;
                }
            }
            Backend::Worker {
                to_checker, batch, ..
            } => {
                batch.push(Message::Unit(unit));
                if batch.len() >= BATCH {
                    let full = std::mem::replace(batch, Vec::with_capacity(BATCH));
                    // The checker only stops early by panicking; `finish` reports that.
                    let _ = to_checker.send(full);
                }
            }
        }
    }

    /// A tree holding only the root element, for the next activity.
    fn next_tree(&mut self) -> Tree<'s> {
        if let Backend::Worker { spares, .. } = &self.backend
            && let Ok(tree) = spares.try_recv()
        {
            return tree;
        }
        match &self.blank_tree {
            Some(blank) => blank.clone(),
            None => Tree::new(&self.schema.names),
        }
    }

    fn emit(&mut self, finding: Finding) {
        if self.unit_depth.is_some() && self.pending.len() < self.max_pending {
            self.pending.push(finding);
        } else {
            self.report(finding);
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
        self.root = Some(tag.qname.to_owned());
        let version = tag
            .attrs
            .iter()
            .find(|a| tag.attr_namespace(a).is_none() && tag.attr_local(a) == "version")
            .map(|a| tag.attr_value(a).trim().to_owned());
        self.version.clone_from(&version);
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

    /// Codelist checks on the root element's own attributes.
    fn check_root_codelists(&mut self) {
        let Some(checks) = self.codelists else {
            return;
        };
        let mut findings = Vec::new();
        codelist_findings(checks, &self.tree, 1, false, &mut findings);
        for finding in findings {
            self.emit(finding);
        }
    }

    fn finish(mut self, malformed: Option<Malformed>) -> Result<Report, ReadError> {
        if malformed.is_some() {
            self.unit_ended(None, super::tree::NONE);
        }
        let Run {
            backend,
            root,
            version,
            activities,
            path,
            ..
        } = self;
        let mut sink = match backend {
            Backend::Inline(checker) => checker.sink,
            Backend::Worker {
                to_checker,
                batch,
                checker,
                ..
            } => {
                if !batch.is_empty() {
                    let _ = to_checker.send(batch);
                }
                drop(to_checker);
                checker
                    .join()
                    .map_err(|_| ReadError::Internal("the activity checks stopped".into()))?
                    .sink
            }
        };
        let report = sink.report_mut();
        report.root = root;
        report.version = version;
        report.activities = activities;
        if let Some(m) = malformed {
            sink.report_mut().well_formed = false;
            sink.push(Finding {
                severity: Severity::Error,
                layer: Layer::Document,
                rule_id: "0.1.1".into(),
                line: m.line,
                column: m.column,
                activity_identifier: None,
                message: format!("The file is not well-formed XML: {}.", m.message),
                path,
            });
        }
        Ok(sink.finish())
    }
}

/// The codelist findings on `node` (and below it, with `subtree`).
fn codelist_findings(
    checks: &CodelistChecks,
    tree: &Tree,
    node: u32,
    subtree: bool,
    out: &mut Vec<Finding>,
) {
    let mut issues = Vec::new();
    checks.check(tree, node, subtree, &mut issues);
    for issue in issues {
        let n = &tree.nodes[issue.node as usize];
        out.push(Finding {
            severity: issue.severity,
            layer: Layer::Codelist,
            rule_id: issue.rule_id,
            line: n.line,
            column: n.column,
            activity_identifier: None,
            message: issue.message,
            path: issue.path,
        });
    }
}

impl Checker<'_> {
    /// Checks a finished activity, then files its findings under its identifier. Gives the
    /// tree back, emptied down to the root element, for reuse.
    fn unit<'s>(&mut self, mut unit: Unit<'s>) -> Option<Tree<'s>> {
        if let Some(tree) = &mut unit.tree
            && unit.node != super::tree::NONE
        {
            let mut found = Vec::new();
            if let Some(checks) = self.codelists {
                codelist_findings(checks, tree, unit.node, true, &mut found);
            }
            if let Some(rules) = &mut self.rules {
                tree.index_children(unit.node);
                let mut issues = Vec::new();
                rules.run(tree, &mut issues);
                for issue in issues {
                    let n = &tree.nodes[issue.node as usize];
                    found.push(Finding {
                        severity: issue.severity,
                        layer: Layer::Ruleset,
                        rule_id: issue.rule_id,
                        line: n.line,
                        column: n.column,
                        activity_identifier: None,
                        message: issue.message,
                        path: issue.path,
                    });
                }
            }
            found.extend(self.duplicate_identifier(
                tree,
                unit.node,
                unit.identifier.as_deref(),
                unit.organisations,
            ));
            for finding in found {
                // As while the activity was read: held up to the cap, the rest filed now.
                if unit.pending.len() < self.max_pending {
                    unit.pending.push(finding);
                } else {
                    self.sink.push(finding);
                }
            }
        }
        let identifier = unit
            .identifier
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty());
        for mut f in unit.pending {
            f.activity_identifier.clone_from(&identifier);
            self.sink.push(f);
        }
        let mut tree = unit.tree?;
        tree.clear_unit();
        Some(tree)
    }

    /// Rule 1.1.2: an identifier used by an earlier activity of the file. Only a hash of each
    /// identifier is kept, so memory stays small for any number of activities.
    fn duplicate_identifier(
        &mut self,
        tree: &Tree,
        node: u32,
        identifier: Option<&str>,
        organisations: bool,
    ) -> Option<Finding> {
        use std::hash::{Hash, Hasher};
        let identifier = match identifier {
            Some(id) if !id.is_empty() => id,
            _ => "noIdentifier",
        };
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        identifier.hash(&mut hasher);
        if self.seen_identifiers.insert(hasher.finish()) {
            return None;
        }
        let n = &tree.nodes[node as usize];
        let what = if organisations {
            "organisation"
        } else {
            "activity"
        };
        Some(Finding {
            severity: Severity::Error,
            layer: Layer::Ruleset,
            rule_id: "1.1.2".into(),
            line: n.line,
            column: n.column,
            activity_identifier: None,
            message: format!(
                "The {what} identifier must be unique for each {what}: '{}' is used more than once in this file.",
                identifier.trim()
            ),
            path: tree.path(node),
        })
    }
}

impl Handler for Run<'_, '_> {
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
            self.activities += 1;
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
            self.blank_tree = Some(self.tree.clone());
            self.check_root_codelists();
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
            let next = match self.backend {
                // The checker gives this tree back at once.
                Backend::Inline(_) => Tree::new(&self.schema.names),
                Backend::Worker { .. } => self.next_tree(),
            };
            let tree = std::mem::replace(&mut self.tree, next);
            self.unit_ended(Some(tree), node);
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
    let checker = Checker {
        codelists: None,
        rules: None,
        seen_identifiers: std::collections::HashSet::new(),
        sink: FindingSink::new(opts.max_findings),
        max_pending: opts.max_findings,
    };
    let mut run = Run::new(schema, &opts, Backend::Inline(Box::new(checker)));
    let malformed = read_document(xml.as_bytes(), &mut run).expect("in-memory input");
    run.finish(malformed).expect("no checker thread")
}
