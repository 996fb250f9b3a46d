//! The validation run: one pass over the document (or over one part of it, see
//! [`super::parallel`]) feeding the schema validator, and the per-activity checks, collecting
//! findings.

use std::collections::HashSet;
use std::io::BufRead;

use smallvec::SmallVec;

use super::codelists::{CODELIST_CHECKS, CodelistChecks};
use super::document::{AttrNs, Extent, Handler, StartTag, read_extent, read_text};
use super::names::{NameId, XML_NS};
use super::options::ValidateOptions;
use super::report::{Finding, FindingSink, Layer, Report, Severity};
use super::rules::{RuleRunner, Ruleset, parse_js_date};
use super::tree::Tree;
use super::xsd::validator::{AttrInfo, ElementInfo, SchemaIssue, SchemaValidator, ValidatorState};
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
///
/// A file larger than a few megabytes is validated on every core, in parts
/// ([`super::parallel`]); the report is the same as one thread's. `MERIDIAN_VALIDATE_THREADS`
/// sets the number of threads (`1`: everything on the calling thread).
pub fn validate<R: BufRead>(input: R, opts: &ValidateOptions) -> Result<Report, ReadError> {
    let setup = Setup::new(opts)?;
    let threads = std::env::var("MERIDIAN_VALIDATE_THREADS")
        .ok()
        .and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|n| *n > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if threads < 2 {
        return setup.whole(input);
    }
    super::parallel::validate(&setup, input, threads, super::parallel::PART_BYTES)
}

/// What every part of a validation shares: the schema, the checks and the options.
pub(crate) struct Setup<'a> {
    pub(crate) schema: &'a Schema,
    codelists: Option<&'a CodelistChecks>,
    ruleset: Option<&'a Ruleset>,
    now: i64,
    registered_publishers: &'a HashSet<String>,
    max_findings: usize,
}

impl<'a> Setup<'a> {
    pub(crate) fn new(opts: &'a ValidateOptions) -> Result<Self, ReadError> {
        let schema = IATI_SCHEMA
            .as_ref()
            .map_err(|e| ReadError::Internal(e.to_string()))?;
        let codelists = CODELIST_CHECKS
            .as_ref()
            .map_err(|e| ReadError::Internal(e.clone()))?;
        let ruleset = match (&opts.ruleset, opts.skip_rules) {
            (_, true) => None,
            (Some(r), false) => Some(r.as_ref()),
            (None, false) => {
                Some(Ruleset::standard().map_err(|e| ReadError::Internal(e.to_string()))?)
            }
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
        Ok(Setup {
            schema,
            codelists: Some(codelists),
            ruleset,
            now,
            registered_publishers: &opts.registered_publishers,
            max_findings: opts.max_findings,
        })
    }

    pub(crate) fn max_findings(&self) -> usize {
        self.max_findings
    }

    /// The ruleset's runner (it caches compiled rules: keep one per thread).
    pub(crate) fn rules(&self) -> Option<RuleRunner<'a>> {
        self.ruleset
            .map(|r| RuleRunner::new(r, self.now, self.registered_publishers))
    }

    /// Validates the whole document on the calling thread.
    pub(crate) fn whole<R: BufRead>(&self, input: R) -> Result<Report, ReadError> {
        let mut merged = Merged::new(self.max_findings);
        let (part, _) = self.part(
            input,
            Start::Document,
            Extent::Document,
            Duplicates::Check(HashSet::new()),
            self.rules(),
        )?;
        merged.add(part, Shift::NONE);
        Ok(merged.finish())
    }

    /// Validates `input`: a document from its start, or (`Start::Resumed`) the root's start
    /// tag followed by a part of the document (see [`Start::Resumed`]). Gives the rule runner
    /// back for the next part.
    pub(crate) fn part<R: BufRead>(
        &self,
        input: R,
        start: Start,
        extent: Extent,
        duplicates: Duplicates,
        rules: Option<RuleRunner<'a>>,
    ) -> Result<(Part, Option<RuleRunner<'a>>), ReadError> {
        let mut run = self.run(start, duplicates, rules);
        let ending = read_extent(input, &mut run, extent)?;
        Ok(run.finish(ending))
    }

    /// [`Setup::part`] for text in memory.
    pub(crate) fn part_text(
        &self,
        text: &str,
        start: Start,
        extent: Extent,
        duplicates: Duplicates,
        rules: Option<RuleRunner<'a>>,
    ) -> (Part, Option<RuleRunner<'a>>) {
        let mut run = self.run(start, duplicates, rules);
        let ending = read_text(text, &mut run, extent);
        run.finish(ending)
    }

    fn run(&self, start: Start, duplicates: Duplicates, rules: Option<RuleRunner<'a>>) -> Run<'a> {
        let checker = Checker {
            codelists: self.codelists,
            rules,
            duplicates,
            sink: FindingSink::new(self.max_findings),
            max_pending: self.max_findings,
        };
        Run::new(self.schema, checker, start)
    }

    /// The state a part resumed after `header` (the document up to the end of the root's
    /// start tag) starts in: `None` when the header is not that.
    /// Also says after how many activities the document itself is in that state.
    pub(crate) fn resumed_state(
        &self,
        header: &[u8],
    ) -> Result<Option<(Boundary, usize)>, ReadError> {
        let (part, _) = self.part(
            header,
            Start::Resumed,
            Extent::Part,
            Duplicates::Defer(Vec::new()),
            None,
        )?;
        let activities = part.resumed_after;
        Ok(part
            .boundary
            .filter(|_| part.report.findings.is_empty())
            .map(|b| (b, activities)))
    }
}

/// Where a run starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Start {
    /// At the start of the document.
    Document,
    /// The input is the document's start up to the end of the root's start tag, then a part
    /// of the document that starts between two activities. What the root's start tag yields
    /// (its findings) is left out, and the schema state is moved past one activity, as it is
    /// between two activities in the document.
    Resumed,
}

/// How a run deals with rule 1.1.2 (an identifier used twice in the file).
pub(crate) enum Duplicates {
    /// Against these identifiers' hashes (the whole file, or what came before).
    Check(HashSet<u64>),
    /// Noted for [`Merged::add`] to check, which knows the identifiers of the parts before.
    Defer(Vec<Duplicate>),
}

/// An activity's identifier, and where its 1.1.2 finding goes if it was used before.
pub(crate) struct Duplicate {
    hash: u64,
    /// The number of the part's findings that come before it.
    at: u64,
    line: u64,
    column: u64,
    path: String,
    identifier: String,
    organisations: bool,
    /// The activity the finding is filed under (`None` past the per-activity cap).
    filed_under: Option<String>,
}

/// What one run found.
pub(crate) struct Part {
    /// Its findings (up to the cap) and their counts; the root, version and activities.
    pub(crate) report: Report,
    duplicates: Vec<Duplicate>,
    /// Line and column after the last byte read.
    pub(crate) end: (u64, u64),
    /// For [`Extent::Part`]: the state it ended in, when that was between two children of
    /// the root element.
    pub(crate) boundary: Option<Boundary>,
    /// For [`Start::Resumed`]: the number of activities it was moved past.
    resumed_after: usize,
}

/// The state of a run between two children of the root element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Boundary {
    root: Option<String>,
    schema: ValidatorState,
}

/// Moves the positions of a resumed run to the document's: `from` (the end of the root's
/// start tag in the run) is `to` in the document; positions before `from` are the same in
/// both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Shift {
    pub(crate) from: (u64, u64),
    pub(crate) to: (u64, u64),
}

impl Shift {
    pub(crate) const NONE: Shift = Shift {
        from: (1, 1),
        to: (1, 1),
    };

    pub(crate) fn apply(self, (line, column): (u64, u64)) -> (u64, u64) {
        if (line, column) < self.from {
            (line, column)
        } else if line == self.from.0 {
            (self.to.0, self.to.1 + column - self.from.1)
        } else {
            (self.to.0 + line - self.from.0, column)
        }
    }

    fn finding(self, mut f: Finding) -> Finding {
        (f.line, f.column) = self.apply((f.line, f.column));
        f
    }
}

/// The report of a document validated in parts, joined in document order.
pub(crate) struct Merged {
    sink: FindingSink,
    seen: HashSet<u64>,
    first: bool,
}

impl Merged {
    pub(crate) fn new(cap: usize) -> Self {
        Merged {
            sink: FindingSink::new(cap),
            seen: HashSet::new(),
            first: true,
        }
    }

    /// The identifiers seen so far, for a run that checks the rest itself.
    pub(crate) fn take_seen(&mut self) -> HashSet<u64> {
        std::mem::take(&mut self.seen)
    }

    /// Adds the next part, its positions moved by `shift`.
    pub(crate) fn add(&mut self, part: Part, shift: Shift) {
        let Part {
            report, duplicates, ..
        } = part;
        let totals = self.sink.report_mut();
        if std::mem::take(&mut self.first) {
            totals.root.clone_from(&report.root);
            totals.version.clone_from(&report.version);
        }
        totals.activities += report.activities;
        totals.well_formed &= report.well_formed;
        self.sink.count(&report);
        let mut findings = report.findings.into_iter().map(|f| shift.finding(f));
        let mut read = 0u64;
        for d in duplicates {
            // The part's own findings before it (those it stored; the rest are counted).
            while read < d.at {
                match findings.next() {
                    Some(f) => self.sink.store(f),
                    None => break,
                }
                read += 1;
            }
            if !self.seen.insert(d.hash) {
                let (line, column) = shift.apply((d.line, d.column));
                let mut finding =
                    duplicate_finding(&d.identifier, d.organisations, line, column, d.path);
                finding.activity_identifier = d.filed_under;
                self.sink.push(finding);
            }
        }
        for f in findings {
            self.sink.store(f);
        }
    }

    pub(crate) fn finish(self) -> Report {
        self.sink.finish()
    }
}

/// A hash of an activity identifier, as rule 1.1.2 compares them.
fn identifier_hash(identifier: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    identifier.hash(&mut hasher);
    hasher.finish()
}

/// Rule 1.1.2's finding.
fn duplicate_finding(
    identifier: &str,
    organisations: bool,
    line: u64,
    column: u64,
    path: String,
) -> Finding {
    let what = if organisations {
        "organisation"
    } else {
        "activity"
    };
    Finding {
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
        path,
    }
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

/// The checks on each finished activity (codelists, rules, duplicate identifiers), and the
/// findings, collected in document order.
struct Checker<'s> {
    codelists: Option<&'s CodelistChecks>,
    rules: Option<RuleRunner<'s>>,
    duplicates: Duplicates,
    sink: FindingSink,
    max_pending: usize,
}

/// A finished activity (or organisation) for the checker.
struct Unit {
    node: u32,
    /// Its findings so far, held until its identifier is known.
    pending: Vec<Finding>,
    identifier: Option<String>,
    organisations: bool,
}

struct Run<'s> {
    checker: Checker<'s>,
    start: Start,
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
    /// The activity being read, for the codelist and rule checks.
    tree: Tree<'s>,
    resumed_after: usize,
}

impl<'s> Run<'s> {
    fn new(schema: &'s Schema, checker: Checker<'s>, start: Start) -> Self {
        Run {
            checker,
            start,
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
            tree: Tree::new(&schema.names),
            resumed_after: 0,
        }
    }

    /// A finding outside any activity, in order with the activities' findings.
    fn report(&mut self, finding: Finding) {
        self.checker.sink.push(finding);
    }

    /// Hands a finished (or broken-off) activity to the checker.
    /// `complete` is false when the XML broke inside it: only its findings so far are kept.
    fn unit_ended(&mut self, complete: bool, node: u32) {
        let unit = Unit {
            node,
            pending: std::mem::take(&mut self.pending),
            identifier: self.identifier.take(),
            organisations: self.root_kind == RootKind::Organisations,
        };
        self.unit_depth = None;
        let tree = complete.then_some(&mut self.tree);
        self.checker.unit(unit, tree);
    }

    /// For [`Start::Resumed`], once the root's start tag is read: forget its findings and
    /// move the root's content model past activities until more would not change it (the
    /// automaton may tell the first activity, or the first few, from the rest).
    fn resume(&mut self, tag: &StartTag) {
        self.checker.sink = FindingSink::new(self.checker.max_pending);
        let name = self.unit_name();
        let el = ElementInfo {
            namespace: None,
            local: name,
            key: self.validator.key_of(None, name),
            line: tag.line,
            column: tag.column,
        };
        let mut ignored = Vec::new();
        let mut state = self.validator.state();
        for steps in 1..=8 {
            self.validator.start(&el, &[], &mut ignored);
            self.validator.end(&mut ignored);
            let next = self.validator.state();
            if next == state {
                self.resumed_after = steps - 1;
                return;
            }
            state = next;
        }
        // No fixed point: no part will match this state, the document is read in one piece.
        self.resumed_after = 8;
    }

    fn emit(&mut self, finding: Finding) {
        if self.unit_depth.is_some() && self.pending.len() < self.checker.max_pending {
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
        let Some(checks) = self.checker.codelists else {
            return;
        };
        let mut findings = Vec::new();
        codelist_findings(checks, &self.tree, 1, false, &mut findings);
        for finding in findings {
            self.emit(finding);
        }
    }

    fn finish(mut self, ending: super::document::Ending) -> (Part, Option<RuleRunner<'s>>) {
        let boundary =
            (ending.inside_root && self.depth == 1 && self.unit_depth.is_none()).then(|| {
                Boundary {
                    root: self.root.clone(),
                    schema: self.validator.state(),
                }
            });
        if ending.malformed.is_some() {
            self.unit_ended(false, super::tree::NONE);
        }
        let Run {
            checker,
            root,
            version,
            activities,
            path,
            resumed_after,
            ..
        } = self;
        let Checker {
            rules,
            duplicates,
            mut sink,
            ..
        } = checker;
        let report = sink.report_mut();
        report.root = root;
        report.version = version;
        report.activities = activities;
        if let Some(m) = ending.malformed {
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
        let duplicates = match duplicates {
            Duplicates::Defer(list) => list,
            Duplicates::Check(_) => Vec::new(),
        };
        let part = Part {
            report: sink.finish(),
            duplicates,
            end: ending.position,
            boundary,
            resumed_after,
        };
        (part, rules)
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
    /// Checks a finished activity in `tree`, then files its findings under its identifier,
    /// and empties the tree down to the root element for the next one.
    fn unit(&mut self, mut unit: Unit, mut tree: Option<&mut Tree>) {
        let mut own = None;
        if let Some(tree) = &mut tree
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
            for finding in found {
                self.file(&mut unit.pending, finding);
            }
            let n = &tree.nodes[unit.node as usize];
            own = Some((n.line, n.column, tree.path(unit.node)));
        }
        if let Some(own) = own {
            self.duplicate_identifier(&mut unit, own);
        }
        let identifier = filed_identifier(unit.identifier.as_deref());
        for mut f in unit.pending {
            f.activity_identifier.clone_from(&identifier);
            self.sink.push(f);
        }
        if let Some(tree) = tree {
            tree.clear_unit();
        }
    }

    /// As while the activity was read: held up to the cap, the rest filed now.
    fn file(&mut self, pending: &mut Vec<Finding>, finding: Finding) {
        if pending.len() < self.max_pending {
            pending.push(finding);
        } else {
            self.sink.push(finding);
        }
    }

    /// Rule 1.1.2: an identifier used by an earlier activity of the file. Only a hash of each
    /// identifier is kept, so memory stays small for any number of activities.
    fn duplicate_identifier(&mut self, unit: &mut Unit, (line, column, path): (u64, u64, String)) {
        let identifier = match unit.identifier.as_deref() {
            Some(id) if !id.is_empty() => id,
            _ => "noIdentifier",
        };
        let hash = identifier_hash(identifier);
        match &mut self.duplicates {
            Duplicates::Check(seen) => {
                if !seen.insert(hash) {
                    let finding =
                        duplicate_finding(identifier, unit.organisations, line, column, path);
                    self.file(&mut unit.pending, finding);
                }
            }
            Duplicates::Defer(list) => {
                // Where `file` would put it: after the pending findings, or now.
                let held = unit.pending.len() < self.max_pending;
                let total = self.sink.total();
                list.push(Duplicate {
                    hash,
                    at: if held {
                        total + unit.pending.len() as u64
                    } else {
                        total
                    },
                    line,
                    column,
                    path,
                    identifier: identifier.to_owned(),
                    organisations: unit.organisations,
                    filed_under: if held {
                        filed_identifier(unit.identifier.as_deref())
                    } else {
                        None
                    },
                });
            }
        }
    }
}

/// The identifier an activity's findings are filed under.
fn filed_identifier(identifier: Option<&str>) -> Option<String> {
    identifier
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
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
        // The depth first: it rules out all but the root's children without a compare.
        let is_unit = tag.namespace.is_none()
            && match self.root_kind {
                RootKind::Activities | RootKind::Organisations => self.depth == 2,
                RootKind::SingleUnit => self.depth == 1,
                RootKind::Other => false,
            }
            && tag.local == self.unit_name();
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
        let mut attrs: SmallVec<[AttrInfo; 8]> = SmallVec::new();
        for a in tag.attrs {
            let local = tag.attr_local(a);
            let (namespace, key) = match a.ns {
                AttrNs::None => (None, schema.names.get(local)),
                AttrNs::Xml => (Some(XML_NS), xml_attr_key(schema, local)),
                AttrNs::Other(_) => {
                    let namespace = tag.attr_namespace(a);
                    (namespace, attr_key(schema, namespace, local))
                }
            };
            attrs.push(AttrInfo {
                namespace,
                local,
                key,
                value: tag.attr_value(a),
            });
        }
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
            self.check_root_codelists();
            if self.start == Start::Resumed {
                self.resume(tag);
            }
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
            self.unit_ended(true, node);
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
        Some(XML_NS) => xml_attr_key(schema, local),
        Some(ns) => schema.names.get(&format!("{{{ns}}}{local}")),
    }
}

/// The key of an attribute in the XML namespace (`xml:lang` on every narrative).
fn xml_attr_key(schema: &Schema, local: &str) -> Option<NameId> {
    match local {
        "lang" => schema.names.get("xml:lang"),
        _ => schema.names.get(&format!("xml:{local}")),
    }
}

/// Validates a document against any compiled schema (for the schema interpreter's own tests).
#[cfg(test)]
pub(crate) fn validate_against(schema: &Schema, xml: &str) -> Report {
    let opts = ValidateOptions::default();
    let setup = Setup {
        schema,
        codelists: None,
        ruleset: None,
        now: 0,
        registered_publishers: &opts.registered_publishers,
        max_findings: opts.max_findings,
    };
    setup.whole(xml.as_bytes()).expect("in-memory input")
}
