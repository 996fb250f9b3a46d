//! IATI rulesets (the JSON format of IATI-Rulesets, read by the IATI Validator): the
//! standard ruleset ships in the binary; others can be loaded with [`Ruleset::from_json`].

mod dates;
mod evaluate;
mod ruleset;

use std::collections::HashSet;

use rustc_hash::FxHashMap;
use smallvec::SmallVec;
use std::sync::LazyLock;

pub(crate) use dates::parse_js_date;
use evaluate::{Environment, Outcome, evaluate_case};
use ruleset::{Case, RuleContext, RuleKind, compile_case, compile_ruleset, substitute};

use crate::iati::codelists::CODELISTS;
use crate::iati::report::Severity;
use crate::iati::tree::{DOCUMENT, Tree};
use crate::iati::xpath::{Item, evaluate, recycle};
use crate::iati::xsd::IATI_SCHEMA;

const STANDARD: &str = include_str!("../../../data/iati/rulesets/standard.json");

/// A ruleset that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read the ruleset: {0}")]
pub struct RulesetError(String);

/// A compiled ruleset.
#[derive(Debug, Clone)]
pub struct Ruleset {
    contexts: Vec<RuleContext>,
}

static STANDARD_RULESET: LazyLock<Result<Ruleset, RulesetError>> =
    LazyLock::new(|| Ruleset::from_json(STANDARD));

/// The prefixes an organisation identifier may start with: IATI's replica of org-id.guide.
static ORG_ID_PREFIXES: LazyLock<HashSet<String>> = LazyLock::new(|| {
    CODELISTS
        .get("OrganisationRegistrationAgency")
        .map(|l| l.codes().map(str::to_owned).collect())
        .unwrap_or_default()
});

impl Ruleset {
    /// Reads a ruleset in the IATI-Rulesets JSON format.
    pub fn from_json(json: &str) -> Result<Ruleset, RulesetError> {
        let schema = IATI_SCHEMA
            .as_ref()
            .map_err(|e| RulesetError(e.to_string()))?;
        Ok(Ruleset {
            contexts: compile_ruleset(json, &schema.names)?,
        })
    }

    /// The IATI standard ruleset for 2.03 (`IATI-Rulesets/rulesets/standard.json`).
    pub fn standard() -> Result<&'static Ruleset, RulesetError> {
        STANDARD_RULESET.as_ref().map_err(Clone::clone)
    }
}

/// A broken rule, positioned on a tree node.
#[derive(Debug)]
pub(crate) struct RuleIssue {
    pub(crate) node: u32,
    pub(crate) path: String,
    pub(crate) rule_id: String,
    pub(crate) severity: Severity,
    pub(crate) message: String,
}

/// The compiled cases of one loop body case, by `$1` value.
type LoopCases = FxHashMap<String, Option<(RuleKind, Case)>>;

/// Runs a ruleset over activity trees, one after another.
pub(crate) struct RuleRunner<'r> {
    ruleset: &'r Ruleset,
    now: i64,
    registered_publishers: &'r HashSet<String>,
    /// Loop cases re-written for one `$1` value, compiled once per run: by (loop, case of
    /// its body), then by value; `None` when the value breaks the XPath.
    loop_cases: FxHashMap<(usize, usize), LoopCases>,
}

impl<'r> RuleRunner<'r> {
    pub(crate) fn new(
        ruleset: &'r Ruleset,
        now: i64,
        registered_publishers: &'r HashSet<String>,
    ) -> Self {
        RuleRunner {
            ruleset,
            now,
            registered_publishers,
            loop_cases: FxHashMap::default(),
        }
    }

    pub(crate) fn run(&mut self, tree: &Tree, issues: &mut Vec<RuleIssue>) {
        let ruleset = self.ruleset;
        for context in &ruleset.contexts {
            let nodes = evaluate(&context.selector, tree, Item::Node(DOCUMENT)).into_nodes();
            for &item in &nodes {
                for rule in &context.rules {
                    for case in &rule.cases {
                        match &case.looped {
                            Some(_) => self.run_loop(case, tree, item, issues),
                            None => self.run_case(rule.kind, case, tree, item, issues),
                        }
                    }
                }
            }
            recycle(nodes);
        }
    }

    fn run_case(
        &self,
        kind: RuleKind,
        case: &Case,
        tree: &Tree,
        item: Item,
        issues: &mut Vec<RuleIssue>,
    ) {
        let env = Environment {
            now: self.now,
            registered_publishers: self.registered_publishers,
            org_id_prefixes: &ORG_ID_PREFIXES,
        };
        if let Outcome::Fail { at, detail } = evaluate_case(kind, case, tree, item, &env) {
            let target = at.unwrap_or(item);
            let mut path = tree.path(target.element(tree));
            if let Item::Attr(a) = target {
                path.push_str("/@");
                path.push_str(tree.name(tree.attrs[a as usize].name));
            }
            let message = if detail.is_empty() {
                case.info.message.clone()
            } else {
                format!("{} ({detail})", case.info.message)
            };
            issues.push(RuleIssue {
                node: target.element(tree),
                path,
                rule_id: case.info.id.clone(),
                severity: case.info.severity,
                message,
            });
        }
    }

    fn run_loop(&mut self, case: &Case, tree: &Tree, item: Item, issues: &mut Vec<RuleIssue>) {
        let Some(looped) = &case.looped else {
            return;
        };
        let nodes = evaluate(&looped.foreach, tree, item).into_nodes();
        if nodes.is_empty() {
            recycle(nodes);
            return;
        }
        let mut groups: SmallVec<[std::borrow::Cow<str>; 4]> = SmallVec::new();
        for n in &nodes {
            let value = n.str_value(tree);
            if !groups.contains(&value) {
                groups.push(value);
            }
        }
        recycle(nodes);
        let Ok(schema) = IATI_SCHEMA.as_ref() else {
            return;
        };
        for (index, (kind, raw)) in looped.body.iter().enumerate() {
            let cases = self.loop_cases.entry((looped.id, index)).or_default();
            for group in &groups {
                if !cases.contains_key(group.as_ref()) {
                    let rewritten = substitute(raw, &looped.subs, group);
                    let mut no_loops = 0;
                    // A value that breaks the XPath (a quote in it) cannot be checked.
                    let compiled = compile_case(*kind, &rewritten, &schema.names, &mut no_loops)
                        .ok()
                        .map(|c| (*kind, c));
                    cases.insert(group.to_string(), compiled);
                }
            }
            let Some(cases) = self.loop_cases.get(&(looped.id, index)) else {
                continue;
            };
            for group in &groups {
                if let Some(Some((kind, compiled))) = cases.get(group.as_ref()) {
                    self.run_case(*kind, compiled, tree, item, issues);
                }
            }
        }
    }
}
