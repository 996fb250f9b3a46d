//! What each rule type means, case by case, following the IATI Validator (js-validator-api,
//! `services/rulesValidator.js`), which is the reference implementation of the ruleset spec.
//! Where the Validator relies on a JavaScript quirk (an empty node-set counting as "true" in
//! `if_then`), we follow XPath instead; `dependent`, which the Validator lacks, follows the
//! IATI-Rulesets Python tester.

use std::borrow::Cow;
use std::collections::HashSet;

use smallvec::SmallVec;

use super::dates::{DAY_MS, parse_js_date};
use super::ruleset::{Case, DateSource, IdCondition, Prefixes, RuleKind};
use crate::iati::tree::Tree;
use crate::iati::xpath::{Item, Value, XPath, evaluate, evaluate_bool, recycle};

/// The result of one case on one context element.
#[derive(Debug, PartialEq)]
pub(crate) enum Outcome {
    Pass,
    /// The case does not apply (condition false, dates missing, registered publisher).
    NotApplicable,
    Fail {
        /// What to point at, when it is more precise than the context element.
        at: Option<Item>,
        detail: String,
    },
}

/// What the evaluation needs besides the tree.
pub(crate) struct Environment<'a> {
    /// "Now", in milliseconds since the epoch.
    pub(crate) now: i64,
    pub(crate) registered_publishers: &'a HashSet<String>,
    pub(crate) org_id_prefixes: &'a HashSet<String>,
}

/// The matches of a case's `paths`, as the Validator collects them.
struct Matches<'t> {
    items: SmallVec<[Option<Item>; 8]>,
    /// The text of each match (borrowed from the tree when it is one piece).
    texts: SmallVec<[Cow<'t, str>; 8]>,
    per_path: SmallVec<[usize; 4]>,
}

fn collect<'t>(case: &Case, tree: &'t Tree, context: Item, with_text: bool) -> Matches<'t> {
    let mut m = Matches {
        items: SmallVec::new(),
        texts: SmallVec::new(),
        per_path: SmallVec::new(),
    };
    for path in &case.paths {
        match evaluate(path, tree, context) {
            Value::Nodes(nodes) => {
                m.per_path.push(nodes.len());
                for &n in &nodes {
                    // Counting rules need no text; skip the copies.
                    m.texts.push(if with_text {
                        n.str_value(tree)
                    } else {
                        Cow::Borrowed("")
                    });
                    m.items.push(Some(n));
                }
                recycle(nodes);
            }
            other => {
                m.per_path.push(1);
                m.texts.push(Cow::Owned(other.string(tree)));
                m.items.push(None);
            }
        }
    }
    m
}

/// Whether an expression selects at least one node; a value that is not a node-set counts
/// as `other` (not for `only_one_of`'s exclusions and `one_or_all`, yes for a path of
/// [`collect`], where it is a match).
fn selects(xpath: &XPath, tree: &Tree, context: Item, other: bool) -> bool {
    match evaluate(xpath, tree, context) {
        Value::Nodes(nodes) => {
            let any = !nodes.is_empty();
            recycle(nodes);
            any
        }
        _ => other,
    }
}

/// The first of [`collect`]'s matches: the first node of the first path that selects
/// something, or `None` when that path's value is not a node-set.
fn first_match(case: &Case, tree: &Tree, context: Item) -> Option<Item> {
    for path in &case.paths {
        match evaluate(path, tree, context) {
            Value::Nodes(nodes) => {
                let first = nodes.first().copied();
                recycle(nodes);
                if first.is_some() {
                    return first;
                }
            }
            _ => return None,
        }
    }
    None
}

/// The first node an expression selects.
fn first_node(xpath: &XPath, tree: &Tree, context: Item) -> Option<Item> {
    let nodes = evaluate(xpath, tree, context).into_nodes();
    let first = nodes.first().copied();
    recycle(nodes);
    first
}

fn fail(at: Option<Item>, detail: impl Into<String>) -> Outcome {
    Outcome::Fail {
        at,
        detail: detail.into(),
    }
}

fn pass_if(ok: bool, at: Option<Item>, detail: impl Into<String>) -> Outcome {
    if ok { Outcome::Pass } else { fail(at, detail) }
}

/// JavaScript's `Number(text)`: blank is 0, otherwise a decimal or exponent number or NaN.
pub(crate) fn js_number(text: &str) -> f64 {
    let t = text.trim();
    if t.is_empty() {
        return 0.0;
    }
    let numeric = t
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'));
    if numeric {
        t.parse().unwrap_or(f64::NAN)
    } else {
        f64::NAN
    }
}

fn date_of(
    source: &Option<DateSource>,
    tree: &Tree,
    context: Item,
    env: &Environment,
) -> Option<(i64, Option<Item>)> {
    match source.as_ref()? {
        DateSource::Now => Some((env.now, None)),
        DateSource::Path(p) => {
            let first = first_node(p, tree, context)?;
            // The Validator reads `.value`, which only attributes have.
            match first {
                Item::Attr(_) => parse_js_date(&first.str_value(tree)).map(|d| (d, Some(first))),
                _ => None,
            }
        }
    }
}

pub(crate) fn evaluate_case(
    kind: RuleKind,
    case: &Case,
    tree: &Tree,
    context: Item,
    env: &Environment,
) -> Outcome {
    if let Some(condition) = &case.condition
        && !evaluate_bool(condition, tree, context)
    {
        return Outcome::NotApplicable;
    }
    if case.id_condition.is_none() {
        // Kinds that need no texts: the paths only say where a failure is, so they are
        // evaluated when the case fails, and no further than its first match.
        match kind {
            RuleKind::AtLeastOne => {
                return pass_if(
                    case.paths.iter().any(|p| selects(p, tree, context, true)),
                    None,
                    "none of the paths is present",
                );
            }
            RuleKind::IfThen => {
                let applies = case
                    .if_
                    .as_ref()
                    .is_some_and(|c| evaluate_bool(c, tree, context));
                let holds = !applies
                    || case
                        .then
                        .as_ref()
                        .is_none_or(|c| evaluate_bool(c, tree, context));
                return if holds {
                    Outcome::Pass
                } else {
                    fail(first_match(case, tree, context), "")
                };
            }
            RuleKind::OneOrAll => return one_or_all(case, tree, context),
            _ => {}
        }
    }
    let with_text = case.id_condition.is_some()
        || !matches!(
            kind,
            RuleKind::AtLeastOne
                | RuleKind::NoMoreThanOne
                | RuleKind::OnlyOneOf
                | RuleKind::Dependent
                | RuleKind::IfThen
        );
    let m = collect(case, tree, context, with_text);
    match case.id_condition {
        Some(IdCondition::NotExistingOrgId)
            if m.texts
                .iter()
                .any(|t| env.registered_publishers.contains(t.as_ref())) =>
        {
            return Outcome::NotApplicable;
        }
        Some(IdCondition::NotExistingOrgIdPrefix)
            if m.texts.iter().any(|t| {
                env.registered_publishers
                    .iter()
                    .any(|id| t.starts_with(id.as_str()) && t[id.len()..].starts_with('-'))
            }) =>
        {
            return Outcome::NotApplicable;
        }
        _ => {}
    }
    let first_failing = |ok: &dyn Fn(&str) -> bool| {
        m.texts
            .iter()
            .position(|t| !ok(t))
            .map(|i| (m.items[i], m.texts[i].to_string()))
    };
    match kind {
        RuleKind::AtLeastOne => pass_if(!m.texts.is_empty(), None, "none of the paths is present"),
        RuleKind::NoMoreThanOne => pass_if(
            m.texts.len() <= 1,
            m.items.get(1).copied().flatten(),
            format!("{} found where at most one is allowed", m.texts.len()),
        ),
        RuleKind::OnlyOneOf => {
            let ok = case.excluded.iter().all(|excluded| {
                if selects(excluded, tree, context, false) {
                    m.texts.is_empty()
                } else {
                    m.texts.len() == 1
                }
            });
            pass_if(
                ok,
                m.items.first().copied().flatten(),
                "declared in more than one place",
            )
        }
        RuleKind::OneOrAll => one_or_all(case, tree, context),
        RuleKind::Dependent => {
            let present = m.per_path.iter().filter(|n| **n > 0).count();
            pass_if(
                present == 0 || present == m.per_path.len(),
                None,
                "some of the paths are present but not all",
            )
        }
        RuleKind::Sum | RuleKind::StrictSum => {
            if kind == RuleKind::Sum && m.texts.is_empty() {
                return Outcome::Pass;
            }
            let total: f64 = m.texts.iter().map(|t| js_number(t)).sum();
            let total = (total * 10_000.0).round() / 10_000.0;
            let expected = case.sum.unwrap_or(f64::NAN);
            pass_if(
                total == expected,
                m.items.first().copied().flatten(),
                format!("the sum is {total}, not {expected}"),
            )
        }
        RuleKind::DateOrder => match (
            date_of(&case.less, tree, context, env),
            date_of(&case.more, tree, context, env),
        ) {
            (Some((less, at)), Some((more, _))) => {
                pass_if(less <= more, at, "the dates are in the wrong order")
            }
            _ => Outcome::NotApplicable,
        },
        RuleKind::DateNow => match date_of(&case.date, tree, context, env) {
            Some((date, at)) => pass_if(date <= env.now, at, "the date is in the future"),
            None => Outcome::NotApplicable,
        },
        RuleKind::TimeLimit => match (
            date_of(&case.start, tree, context, env),
            date_of(&case.end, tree, context, env),
        ) {
            (Some((start, _)), Some((end, at))) => {
                let days = (end - start) / DAY_MS;
                pass_if(days <= 365, at, format!("the period is {days} days long"))
            }
            _ => Outcome::NotApplicable,
        },
        RuleKind::BetweenDates => match (
            date_of(&case.date, tree, context, env),
            date_of(&case.start, tree, context, env),
            date_of(&case.end, tree, context, env),
        ) {
            (Some((date, at)), Some((start, _)), Some((end, _))) => pass_if(
                start <= date && date <= end,
                at,
                "the date is outside the period",
            ),
            _ => Outcome::NotApplicable,
        },
        RuleKind::RegexMatches | RuleKind::RegexNoMatches => {
            let Some(re) = &case.regex else {
                return Outcome::NotApplicable;
            };
            let want = kind == RuleKind::RegexMatches;
            match first_failing(&|t: &str| t.is_empty() || re.is_match(t) == want) {
                Some((at, text)) => fail(at, format!("'{text}'")),
                None => Outcome::Pass,
            }
        }
        RuleKind::StartsWith => starts_with(case, &m, tree, context, env),
        RuleKind::Unique => {
            let mut seen = HashSet::new();
            match m.texts.iter().position(|t| !seen.insert(t.as_ref())) {
                Some(i) => fail(
                    m.items[i],
                    format!("'{}' appears more than once", m.texts[i]),
                ),
                None => Outcome::Pass,
            }
        }
        RuleKind::IfThen => {
            let applies = case
                .if_
                .as_ref()
                .is_some_and(|c| evaluate_bool(c, tree, context));
            if !applies {
                return Outcome::Pass;
            }
            let holds = case
                .then
                .as_ref()
                .is_none_or(|c| evaluate_bool(c, tree, context));
            pass_if(holds, m.items.first().copied().flatten(), "")
        }
        RuleKind::Range => {
            let in_range = |t: &str| {
                let n = js_number(t);
                case.min.unwrap_or(n) <= n && n <= case.max.unwrap_or(n)
            };
            match first_failing(&in_range) {
                Some((at, text)) => fail(at, format!("'{text}' is out of range")),
                None => Outcome::Pass,
            }
        }
        RuleKind::NoSpaces => match first_failing(&|t: &str| t == t.trim()) {
            Some((at, text)) => fail(at, format!("'{text}'")),
            None => Outcome::Pass,
        },
        // Loops are unrolled by the caller.
        RuleKind::Loop => Outcome::NotApplicable,
    }
}

fn starts_with(
    case: &Case,
    m: &Matches<'_>,
    tree: &Tree,
    context: Item,
    env: &Environment,
) -> Outcome {
    let failing = match &case.prefix {
        Some(Prefixes::OrgIdPrefix) => {
            let mut prefix = String::new();
            m.texts.iter().position(|t| {
                let mut parts = t.split('-');
                prefix.clear();
                prefix.push_str(parts.next().unwrap_or(""));
                prefix.push('-');
                prefix.push_str(parts.next().unwrap_or("undefined"));
                !env.org_id_prefixes.contains(&prefix)
            })
        }
        Some(Prefixes::Paths(paths)) => {
            let mut starts: SmallVec<[Cow<str>; 4]> = SmallVec::new();
            for path in paths {
                let nodes = evaluate(path, tree, context).into_nodes();
                starts.extend(nodes.iter().map(|i| i.str_value(tree)));
                recycle(nodes);
            }
            let separator = case.separator.as_str();
            m.texts.iter().position(|t| {
                !starts.iter().any(|s| {
                    t.strip_prefix(s.as_ref())
                        .is_some_and(|rest| rest.starts_with(separator))
                })
            })
        }
        None => None,
    };
    match failing {
        Some(i) => fail(m.items[i], format!("'{}'", m.texts[i])),
        None => Outcome::Pass,
    }
}

/// `one_or_all`: the Validator hard-codes what "all" means for each value.
fn one_or_all(case: &Case, tree: &Tree, context: Item) -> Outcome {
    if let Some(one) = &case.one
        && selects(one, tree, context, false)
    {
        return Outcome::Pass;
    }
    let Item::Node(node) = context else {
        return Outcome::Pass;
    };
    let named = |key: &str| tree.lookup(key);
    let child_named = |n: u32, names: &[Option<crate::iati::names::NameId>]| {
        tree.children(n)
            .any(|c| names.contains(&Some(tree.nodes[c as usize].name)))
    };
    let offending = match case.all.as_deref() {
        Some("lang") => {
            let (narrative, lang) = (named("narrative"), named("xml:lang"));
            tree.descendant_range(node).find(|n| {
                Some(tree.nodes[*n as usize].name) == narrative
                    && lang.is_none_or(|l| tree.attr(*n, l).is_none())
            })
        }
        Some("sector") => {
            let (transaction, sector) = (named("transaction"), named("sector"));
            tree.children(node).find(|t| {
                Some(tree.nodes[*t as usize].name) == transaction && !child_named(*t, &[sector])
            })
        }
        Some("recipient-country|recipient-region") => {
            let transaction = named("transaction");
            let places = [named("recipient-country"), named("recipient-region")];
            tree.children(node).find(|t| {
                Some(tree.nodes[*t as usize].name) == transaction && !child_named(*t, &places)
            })
        }
        Some("currency") => {
            let kinds = [named("value"), named("forecast"), named("loan-status")];
            let currency = named("currency");
            tree.descendant_range(node).find(|n| {
                kinds.contains(&Some(tree.nodes[*n as usize].name))
                    && currency.is_none_or(|c| tree.attr(*n, c).is_none())
            })
        }
        _ => None,
    };
    match offending {
        Some(n) => fail(
            Some(Item::Node(n)),
            format!("<{}> lacks it", tree.name(tree.nodes[n as usize].name)),
        ),
        None => Outcome::Pass,
    }
}
