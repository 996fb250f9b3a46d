//! Reads an IATI ruleset (JSON, `IATI-Rulesets/SPEC.rst`) into compiled cases.

use regex::Regex;
use serde_json::{Map, Value};

use super::RulesetError;
use crate::iati::names::Interner;
use crate::iati::report::Severity;
use crate::iati::xpath::XPath;

/// The rule types of the spec; both spellings (snake and camel case) are accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RuleKind {
    AtLeastOne,
    NoMoreThanOne,
    OnlyOneOf,
    OneOrAll,
    Dependent,
    Sum,
    StrictSum,
    DateOrder,
    DateNow,
    TimeLimit,
    BetweenDates,
    RegexMatches,
    RegexNoMatches,
    StartsWith,
    Unique,
    IfThen,
    Loop,
    Range,
    NoSpaces,
}

impl RuleKind {
    fn from_name(name: &str) -> Option<RuleKind> {
        use RuleKind::*;
        Some(match name {
            "atleast_one" | "atLeastOne" => AtLeastOne,
            "no_more_than_one" | "noMoreThanOne" => NoMoreThanOne,
            "only_one_of" | "onlyOneOf" => OnlyOneOf,
            "one_or_all" | "oneOrAll" => OneOrAll,
            "dependent" => Dependent,
            "sum" => Sum,
            "strict_sum" | "strictSum" => StrictSum,
            "date_order" | "dateOrder" => DateOrder,
            "date_now" | "dateNow" => DateNow,
            "time_limit" | "timeLimit" => TimeLimit,
            "between_dates" | "betweenDates" => BetweenDates,
            "regex_matches" | "regexMatches" => RegexMatches,
            "regex_no_matches" | "regexNoMatches" => RegexNoMatches,
            "startswith" | "startsWith" => StartsWith,
            "unique" => Unique,
            "if_then" | "ifThen" => IfThen,
            "loop" => Loop,
            "range" => Range,
            "no_spaces" | "noSpaces" => NoSpaces,
            _ => return None,
        })
    }

    pub(crate) fn name(self) -> &'static str {
        use RuleKind::*;
        match self {
            AtLeastOne => "atleast_one",
            NoMoreThanOne => "no_more_than_one",
            OnlyOneOf => "only_one_of",
            OneOrAll => "one_or_all",
            Dependent => "dependent",
            Sum => "sum",
            StrictSum => "strict_sum",
            DateOrder => "date_order",
            DateNow => "date_now",
            TimeLimit => "time_limit",
            BetweenDates => "between_dates",
            RegexMatches => "regex_matches",
            RegexNoMatches => "regex_no_matches",
            StartsWith => "startswith",
            Unique => "unique",
            IfThen => "if_then",
            Loop => "loop",
            Range => "range",
            NoSpaces => "no_spaces",
        }
    }
}

/// Where a date comes from.
#[derive(Clone, Debug)]
pub(crate) enum DateSource {
    Now,
    Path(XPath),
}

#[derive(Clone, Debug)]
pub(crate) enum Prefixes {
    /// The approved organisation-identifier prefixes (`ORG-ID-PREFIX`).
    OrgIdPrefix,
    Paths(Vec<XPath>),
}

/// Exemptions for publishers registered with IATI.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum IdCondition {
    NotExistingOrgId,
    NotExistingOrgIdPrefix,
}

#[derive(Clone, Debug)]
pub(crate) struct RuleInfo {
    pub(crate) id: String,
    pub(crate) severity: Severity,
    pub(crate) message: String,
}

/// One case of a rule, compiled.
#[derive(Clone, Debug)]
pub(crate) struct Case {
    pub(crate) condition: Option<XPath>,
    pub(crate) id_condition: Option<IdCondition>,
    pub(crate) paths: Vec<XPath>,
    pub(crate) excluded: Vec<XPath>,
    pub(crate) one: Option<XPath>,
    pub(crate) all: Option<String>,
    pub(crate) less: Option<DateSource>,
    pub(crate) more: Option<DateSource>,
    pub(crate) date: Option<DateSource>,
    pub(crate) start: Option<DateSource>,
    pub(crate) end: Option<DateSource>,
    pub(crate) regex: Option<Regex>,
    pub(crate) sum: Option<f64>,
    pub(crate) min: Option<f64>,
    pub(crate) max: Option<f64>,
    pub(crate) prefix: Option<Prefixes>,
    pub(crate) separator: String,
    pub(crate) if_: Option<XPath>,
    pub(crate) then: Option<XPath>,
    pub(crate) looped: Option<Loop>,
    pub(crate) info: RuleInfo,
}

/// `loop`: sub-rules re-written with `$1` for each distinct value of `foreach`.
#[derive(Clone, Debug)]
pub(crate) struct Loop {
    /// Unique within the ruleset, to cache the re-written cases.
    pub(crate) id: usize,
    pub(crate) foreach: XPath,
    pub(crate) subs: Vec<String>,
    /// (rule kind, raw case) pairs of `do`.
    pub(crate) body: Vec<(RuleKind, Map<String, Value>)>,
}

#[derive(Clone, Debug)]
pub(crate) struct Rule {
    pub(crate) kind: RuleKind,
    pub(crate) cases: Vec<Case>,
}

#[derive(Clone, Debug)]
pub(crate) struct RuleContext {
    pub(crate) selector: XPath,
    pub(crate) rules: Vec<Rule>,
}

pub(crate) fn compile_ruleset(
    json: &str,
    names: &Interner,
) -> Result<Vec<RuleContext>, RulesetError> {
    let value: Value =
        serde_json::from_str(json).map_err(|e| RulesetError(format!("not JSON: {e}")))?;
    let Value::Object(contexts) = value else {
        return Err(RulesetError("a ruleset is a JSON object".into()));
    };
    let mut loop_ids = 0;
    let mut out = Vec::new();
    for (selector, rules) in contexts {
        let Value::Object(rules) = rules else {
            return Err(RulesetError(format!(
                "context '{selector}' is not an object"
            )));
        };
        let mut compiled = Vec::new();
        for (name, body) in rules {
            let kind = RuleKind::from_name(&name)
                .ok_or_else(|| RulesetError(format!("unknown rule '{name}' under '{selector}'")))?;
            let cases = body.get("cases").and_then(Value::as_array).ok_or_else(|| {
                RulesetError(format!("rule '{name}' under '{selector}' has no cases"))
            })?;
            let cases = cases
                .iter()
                .map(|c| match c {
                    Value::Object(map) => compile_case(kind, map, names, &mut loop_ids),
                    _ => Err(RulesetError(format!("a case of '{name}' is not an object"))),
                })
                .collect::<Result<Vec<_>, _>>()?;
            compiled.push(Rule { kind, cases });
        }
        out.push(RuleContext {
            selector: xpath(&selector, names)?,
            rules: compiled,
        });
    }
    Ok(out)
}

fn xpath(source: &str, names: &Interner) -> Result<XPath, RulesetError> {
    XPath::compile(source, names).map_err(|e| RulesetError(e.to_string()))
}

pub(crate) fn compile_case(
    kind: RuleKind,
    map: &Map<String, Value>,
    names: &Interner,
    loop_ids: &mut usize,
) -> Result<Case, RulesetError> {
    let text = |key: &str| map.get(key).and_then(Value::as_str);
    let path = |key: &str| text(key).map(|s| xpath(s, names)).transpose();
    let paths = |key: &str| -> Result<Vec<XPath>, RulesetError> {
        match map.get(key) {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(Value::as_str)
                .map(|s| xpath(s, names))
                .collect(),
            Some(Value::String(s)) => Ok(vec![xpath(s, names)?]),
            _ => Ok(Vec::new()),
        }
    };
    let date = |key: &str| -> Result<Option<DateSource>, RulesetError> {
        match text(key) {
            Some("NOW") => Ok(Some(DateSource::Now)),
            Some(s) => Ok(Some(DateSource::Path(xpath(s, names)?))),
            None => Ok(None),
        }
    };
    let number = |key: &str| map.get(key).and_then(Value::as_f64);
    let info = map.get("ruleInfo").and_then(Value::as_object);
    let info = RuleInfo {
        id: info
            .and_then(|i| i.get("id"))
            .and_then(Value::as_str)
            .map_or_else(|| format!("meridian:{}", kind.name()), str::to_owned),
        severity: match info.and_then(|i| i.get("severity")).and_then(Value::as_str) {
            Some("warning") | Some("advisory") => Severity::Warning,
            _ => Severity::Error,
        },
        message: info
            .and_then(|i| i.get("message"))
            .and_then(Value::as_str)
            .map_or_else(
                || format!("The {} rule is not met.", kind.name()),
                str::to_owned,
            ),
    };
    let prefix = match map.get("prefix") {
        Some(Value::String(s)) if s == "ORG-ID-PREFIX" => Some(Prefixes::OrgIdPrefix),
        Some(Value::Array(items)) if items.len() == 1 && items[0] == "ORG-ID-PREFIX" => {
            Some(Prefixes::OrgIdPrefix)
        }
        Some(_) => Some(Prefixes::Paths(paths("prefix")?)),
        // The meta tests spell it `start`.
        None if kind == RuleKind::StartsWith => Some(Prefixes::Paths(paths("start")?)),
        None => None,
    };
    let looped = if kind == RuleKind::Loop {
        let foreach =
            path("foreach")?.ok_or_else(|| RulesetError("a loop without foreach".into()))?;
        let subs = map
            .get("subs")
            .and_then(Value::as_array)
            .map(|s| {
                s.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let mut body = Vec::new();
        if let Some(Value::Object(rules)) = map.get("do") {
            for (name, rule) in rules {
                let sub_kind = RuleKind::from_name(name)
                    .ok_or_else(|| RulesetError(format!("unknown rule '{name}' in a loop")))?;
                for case in rule
                    .get("cases")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                {
                    if let Value::Object(case) = case {
                        body.push((sub_kind, case.clone()));
                    }
                }
            }
        }
        *loop_ids += 1;
        Some(Loop {
            id: *loop_ids,
            foreach,
            subs,
            body,
        })
    } else {
        None
    };
    Ok(Case {
        condition: path("condition")?,
        id_condition: match text("idCondition") {
            Some("NOT_EXISTING_ORG_ID") => Some(IdCondition::NotExistingOrgId),
            Some("NOT_EXISTING_ORG_ID_PREFIX") => Some(IdCondition::NotExistingOrgIdPrefix),
            _ => None,
        },
        paths: paths("paths")?,
        excluded: paths("excluded")?,
        one: path("one")?,
        all: text("all").map(str::to_owned),
        less: date("less")?,
        more: date("more")?,
        date: date("date")?,
        start: if kind == RuleKind::StartsWith {
            None
        } else {
            date("start")?
        },
        end: date("end")?,
        regex: text("regex")
            .map(|r| Regex::new(r).map_err(|e| RulesetError(format!("bad regex '{r}': {e}"))))
            .transpose()?,
        sum: number("sum"),
        min: number("min"),
        max: number("max"),
        prefix,
        separator: text("separator").unwrap_or("").to_owned(),
        if_: path("if")?,
        then: path("then")?,
        looped,
        info,
    })
}

/// A loop case with `$1` replaced in the keys named by `subs`.
pub(crate) fn substitute(
    case: &Map<String, Value>,
    subs: &[String],
    value: &str,
) -> Map<String, Value> {
    let mut out = case.clone();
    for key in subs {
        if let Some(v) = out.get_mut(key) {
            match v {
                Value::String(s) => *s = s.replace("$1", value),
                Value::Array(items) => {
                    for item in items {
                        if let Value::String(s) = item {
                            *s = s.replace("$1", value);
                        }
                    }
                }
                _ => {}
            }
        }
    }
    out
}
