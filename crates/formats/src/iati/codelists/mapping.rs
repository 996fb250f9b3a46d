//! Which attribute (or element text) takes which codelist, from IATI's own `mapping.xml`
//! (with its conditions, e.g. sector codes are DAC codes only under vocabulary 1), and the
//! IATI Validator's rule id and message for each.

use std::collections::HashMap;
use std::sync::LazyLock;

use quick_xml::Reader;
use quick_xml::events::Event;

use super::{CODELISTS, Codelist};
use crate::iati::names::{Interner, NameId, XML_NS, expanded_key};
use crate::iati::report::Severity;
use crate::iati::tree::{DOCUMENT, Tree};
use crate::iati::xpath::{Item, XPath, evaluate_bool};
use crate::iati::xsd::IATI_SCHEMA;

const MAPPING: &str = include_str!("../../../data/iati/codelists/mapping.xml");
const RULE_IDS: &str = include_str!("../../../data/iati/codelists/validator-rule-ids.tsv");

#[derive(Debug)]
enum Target {
    Attribute(NameId),
    Text,
}

/// One line of the mapping, compiled.
#[derive(Debug)]
pub(crate) struct CodelistCheck {
    /// Element names from the outermost down to the checked element (`//a/b` matches a `b`
    /// under an `a` at any depth); empty for `//@xml:lang`, which is every element.
    steps: Vec<NameId>,
    target: Target,
    target_label: String,
    codelist: String,
    list: &'static Codelist,
    condition: Option<XPath>,
    rule_id: String,
    message: String,
    severity: Severity,
}

/// A codelist problem found in a tree.
#[derive(Debug)]
pub(crate) struct CodelistIssue {
    pub(crate) node: u32,
    pub(crate) rule_id: String,
    pub(crate) severity: Severity,
    pub(crate) message: String,
    pub(crate) path: String,
}

#[derive(Debug, Default)]
pub(crate) struct CodelistChecks {
    checks: Vec<CodelistCheck>,
    /// Checks by the name of the element they are on, indexed by the name's id.
    by_element: Vec<Vec<usize>>,
    every_element: Vec<usize>,
}

pub(crate) static CODELIST_CHECKS: LazyLock<Result<CodelistChecks, String>> = LazyLock::new(|| {
    let schema = IATI_SCHEMA.as_ref().map_err(|e| e.to_string())?;
    CodelistChecks::from_mapping(MAPPING, RULE_IDS, &schema.names)
});

impl CodelistChecks {
    fn from_mapping(
        mapping: &str,
        rule_ids: &str,
        names: &Interner,
    ) -> Result<CodelistChecks, String> {
        let ids: HashMap<(String, String), (String, String)> = rule_ids
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .filter_map(|l| {
                let f: Vec<&str> = l.split('\t').collect();
                (f.len() == 4).then(|| {
                    (
                        (f[0].to_owned(), f[1].to_owned()),
                        (f[2].to_owned(), f[3].to_owned()),
                    )
                })
            })
            .collect();
        let mut out = CodelistChecks::default();
        for (path, codelist, condition) in read_mapping(mapping)? {
            let Some(list): Option<&'static Codelist> = CODELISTS.get(&codelist) else {
                continue;
            };
            let body = path
                .strip_prefix("//")
                .ok_or_else(|| format!("mapping path '{path}' does not start with //"))?;
            let mut parts: Vec<&str> = body.split('/').collect();
            let last = parts.pop().unwrap_or_default();
            let (target, target_label) = if last == "text()" {
                (Target::Text, "text".to_owned())
            } else if let Some(attr) = last.strip_prefix('@') {
                let key = match attr.split_once(':') {
                    Some(("xml", local)) => expanded_key(Some(XML_NS), local),
                    _ => attr.to_owned(),
                };
                let id = names.get(&key).ok_or_else(|| {
                    format!("attribute '{attr}' of '{path}' is not in the schema")
                })?;
                (Target::Attribute(id), format!("@{attr}"))
            } else {
                return Err(format!(
                    "mapping path '{path}' ends in neither @attribute nor text()"
                ));
            };
            let steps = parts
                .iter()
                .map(|p| {
                    names
                        .get(p)
                        .ok_or_else(|| format!("element '{p}' of '{path}' is not in the schema"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let condition_xpath = match condition.as_str() {
                "" => None,
                c => Some(XPath::compile(c, names).map_err(|e| e.to_string())?),
            };
            let known = ids.get(&(path.clone(), condition.clone()));
            let (rule_id, message, severity) = match known {
                Some((id, message)) => (id.clone(), message.clone(), Severity::Error),
                None => (
                    "meridian:codelist".to_owned(),
                    format!("The code is not in the {codelist} codelist."),
                    if list.embedded {
                        Severity::Error
                    } else {
                        Severity::Warning
                    },
                ),
            };
            let index = out.checks.len();
            match steps.last() {
                Some(element) => {
                    let slot = element.0 as usize;
                    if out.by_element.len() <= slot {
                        out.by_element.resize_with(slot + 1, Vec::new);
                    }
                    out.by_element[slot].push(index);
                }
                None => out.every_element.push(index),
            }
            out.checks.push(CodelistCheck {
                steps,
                target,
                target_label,
                codelist,
                list,
                condition: condition_xpath,
                rule_id,
                message,
                severity,
            });
        }
        Ok(out)
    }

    /// Checks the elements of `tree` from `from` down (inclusive), or only `from` itself.
    pub(crate) fn check(
        &self,
        tree: &Tree,
        from: u32,
        subtree: bool,
        issues: &mut Vec<CodelistIssue>,
    ) {
        if from == DOCUMENT {
            return;
        }
        self.check_node(tree, from, issues);
        if subtree {
            // Nodes are numbered in document order: the subtree is a range.
            for n in tree.descendant_range(from) {
                self.check_node(tree, n, issues);
            }
        }
    }

    fn check_node(&self, tree: &Tree, node: u32, issues: &mut Vec<CodelistIssue>) {
        let name = tree.nodes[node as usize].name;
        let specific = self
            .by_element
            .get(name.0 as usize)
            .map_or(&[][..], Vec::as_slice);
        for &i in specific.iter().chain(&self.every_element) {
            let check = &self.checks[i];
            if !ancestors_match(tree, node, &check.steps) {
                continue;
            }
            let text;
            let value = match check.target {
                Target::Attribute(attr) => match tree.attr(node, attr) {
                    Some(v) => v,
                    None => continue,
                },
                Target::Text => {
                    text = Item::Node(node).str_value(tree);
                    text.trim()
                }
            };
            if let Some(condition) = &check.condition
                && !evaluate_bool(condition, tree, Item::Node(node))
            {
                continue;
            }
            if check.list.contains(value) {
                continue;
            }
            let element = tree.name(name);
            let what = match check.target {
                Target::Attribute(_) => format!("attribute {} of <{element}>", check.target_label),
                Target::Text => format!("element <{element}>"),
            };
            let mut path = tree.path(node);
            if let Target::Attribute(_) = check.target {
                path.push('/');
                path.push_str(&check.target_label);
            }
            issues.push(CodelistIssue {
                node,
                rule_id: check.rule_id.clone(),
                severity: check.severity,
                message: format!(
                    "{} \"{value}\" is not a valid value for {what} (codelist {}).",
                    check.message, check.codelist
                ),
                path,
            });
        }
    }
}

fn ancestors_match(tree: &Tree, node: u32, steps: &[NameId]) -> bool {
    let mut n = node;
    for step in steps.iter().rev() {
        if n == DOCUMENT || tree.nodes[n as usize].name != *step {
            return false;
        }
        n = tree.nodes[n as usize].parent;
    }
    true
}

/// (path, codelist, condition) for each `mapping` element.
fn read_mapping(text: &str) -> Result<Vec<(String, String, String)>, String> {
    let mut reader = Reader::from_str(text);
    let mut out = Vec::new();
    let (mut path, mut codelist, mut condition) = (String::new(), String::new(), String::new());
    let mut current = String::new();
    loop {
        match reader
            .read_event()
            .map_err(|e| format!("mapping.xml: {e}"))?
        {
            Event::Start(e) | Event::Empty(e) => {
                let name = e.name().as_ref().to_owned();
                if name == "mapping" {
                    path.clear();
                    codelist.clear();
                    condition.clear();
                }
                if name == "codelist"
                    && let Ok(Some(r)) = e.try_get_attribute("ref")
                {
                    codelist = r.value.into_owned();
                }
                current = name;
            }
            Event::Text(t) => match current.as_str() {
                "path" => path.push_str(t.xml10_content().trim()),
                "condition" => condition.push_str(t.xml10_content().trim()),
                _ => {}
            },
            Event::GeneralRef(r) if current == "condition" || current == "path" => {
                let s = match &*r {
                    "apos" => "'",
                    "quot" => "\"",
                    "lt" => "<",
                    "gt" => ">",
                    _ => "&",
                };
                if current == "path" {
                    path.push_str(s)
                } else {
                    condition.push_str(s)
                }
            }
            Event::End(e) => {
                if e.name().as_ref() == "mapping" {
                    out.push((path.clone(), codelist.clone(), condition.clone()));
                }
                current.clear();
            }
            Event::Eof => return Ok(out),
            _ => {}
        }
    }
}
