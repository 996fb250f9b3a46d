//! IATI results ↔ Meridian's results framework.
//!
//! **Import** ([`plan`]): each `<result>` of an activity becomes a result of the project's
//! matrix, when it fits Meridian's model:
//! - `@type` 1 output → `output`, 2 outcome → `outcome`, 3 impact → `impact`. Type 9 (other)
//!   has no place in Meridian's results chain (impact ← outcome ← output): it is not mapped.
//! - the title (English, else the default language) → the title.
//! - `<indicator>`: `@measure` 1 unit → `number`, 2 percentage → `percentage` (kept as
//!   `value/100`), 5 qualitative → `qualitative`; 3 nominal and 4 ordinal are not mapped.
//!   `@ascending` 0/false → `descending`, else `ascending`. `@aggregation-status` 0/false →
//!   aggregation `none`, else `sum` (`none` for qualitative indicators).
//! - the first `<baseline>` without dimensions → baseline year and value (a qualitative
//!   baseline's text is its comment).
//! - `<period>` → a reporting period of the project: the import picks the reporting frequency
//!   (annual, quarterly or monthly, calendar-aligned and clipped to the project's dates) under
//!   which most of the activity's periods are reporting periods (exactly, or as the whole
//!   calendar period of a clipped one); ties go to the coarser frequency. Other periods are
//!   not mapped.
//! - `<target>` → the indicator's target for the period; `<actual>` → a report of the period,
//!   **approved** (it was published), its comment the narrative (a qualitative actual's text
//!   is its comment). A `<dimension>` name/value pair becomes a disaggregation
//!   `category=option` (names and values in snake_case; `sex`, `age_group`,
//!   `displacement_status` and `disability` are Meridian's built-in categories); categories
//!   from IATI are not exhaustive (IATI does not say whether the parts cover everyone).
//!   A value with several dimensions is a combination (`age_group=age_18_59;sex=female`, the
//!   results module's canonical key). Values that are not figures
//!   Meridian accepts (thousands separators, negatives, more than four decimals, a percentage
//!   above 100) and actuals without a total are not mapped.
//!
//! What is not mapped is said in the import summary, per activity, and the results stay whole
//! as IATI data (the `results` of `iati_activities.elements`), as before.
//!
//! **Export** ([`element`]): a result of the matrix with at least one indicator becomes a
//! `<result>`: its level, title, and indicators with their baseline and, per reporting period
//! with a target or an approved report, the targets and the approved values (a total and
//! `category=option` parts, as `<dimension>`s). A result that came from a file and has not
//! changed in Meridian since is written as the file had it (with its descriptions, document
//! links, references, locations…): the import keeps a fingerprint of what it mapped, and the
//! export compares it with what the framework holds now. A result changed in Meridian is
//! written as Meridian has it, with what the file had that Meridian does not keep carried over
//! where it still matches ([`with_file_extras`]).

use std::collections::HashMap;

use meridian_domain::results::combination::DisaggregationKey;
use meridian_domain::results::model::{
    AggregationType, CategoryOption, Direction, Disaggregation, DisaggregationCategory, Frequency,
    Measure, Period, Quantity, ResultLevel, percent,
};
use meridian_formats::iati::activity::{Narrative, RawElement};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use time::Date;

use super::import::shown;
use crate::results::{CheckedReport, ValueInput, check_values};

/// What an import writes of an activity's results.
#[derive(Debug, Default)]
pub(super) struct Plan {
    /// The reporting frequency, when a period was mapped.
    pub frequency: Option<Frequency>,
    /// The project's reporting periods under that frequency.
    pub periods: Vec<Period>,
    pub results: Vec<PlanResult>,
    /// What was not mapped, one sentence each.
    pub notes: Vec<String>,
}

#[derive(Debug)]
pub(super) struct PlanResult {
    /// Its position among the activity's `<result>`s.
    pub index: usize,
    pub level: ResultLevel,
    pub title: String,
    pub indicators: Vec<PlanIndicator>,
}

#[derive(Debug)]
pub(super) struct PlanIndicator {
    pub title: String,
    pub measure: Measure,
    pub direction: Direction,
    pub aggregation: AggregationType,
    pub categories: Vec<Disaggregation>,
    pub baseline_year: Option<i64>,
    pub baseline: Option<Quantity>,
    /// (period start, disaggregation key, figure)
    pub targets: Vec<(String, String, Quantity)>,
    pub reports: Vec<PlanReport>,
}

#[derive(Debug)]
pub(super) struct PlanReport {
    pub period_start: String,
    pub narrative: String,
    /// The total first, then the parts.
    pub values: Vec<(String, Quantity)>,
}

/// A result the import made from the file's `<result>` number `index`, and the fingerprint of
/// what it mapped (kept in `iati_activities.derived`).
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub(super) struct DerivedResult {
    pub index: usize,
    pub id: String,
    pub fingerprint: String,
}

fn narratives(e: Option<&RawElement>) -> Vec<Narrative> {
    e.map(|e| {
        e.children
            .iter()
            .filter(|c| c.name == "narrative")
            .map(|n| Narrative {
                lang: n.attr("xml:lang").map(str::to_owned),
                text: n.text.clone(),
            })
            .collect()
    })
    .unwrap_or_default()
}

fn text_of(e: &RawElement, child: &str) -> String {
    shown(&narratives(e.child(child)))
}

fn date_attr(e: Option<&RawElement>) -> Option<Date> {
    let raw = e?.attr("iso-date")?.trim();
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(raw.get(..10).unwrap_or(raw), &format).ok()
}

fn falsy(v: Option<&str>) -> bool {
    matches!(v.map(str::trim), Some("0") | Some("false"))
}

/// `Sex` → `sex`, `Age group` → `age_group`; `None` when nothing usable is left (or it is
/// longer than 40 characters).
fn snake(raw: &str) -> Option<String> {
    let mut out = String::new();
    let mut gap = false;
    for c in raw.trim().chars() {
        if c.is_ascii_alphanumeric() {
            if gap && !out.is_empty() {
                out.push('_');
            }
            gap = false;
            out.push(c.to_ascii_lowercase());
        } else {
            gap = true;
        }
    }
    (!out.is_empty() && out.len() <= 40).then_some(out)
}

/// The category of a dimension name (a built-in one when the name is one).
fn category_of(name: &str) -> Option<DisaggregationCategory> {
    let code = snake(name)?;
    if let Some(b) = DisaggregationCategory::BUILTIN
        .iter()
        .find(|b| b.as_str() == code)
    {
        return Some(b.clone());
    }
    if !code.as_bytes()[0].is_ascii_lowercase() {
        return None;
    }
    DisaggregationCategory::custom(&code).ok()
}

/// A dimension's category and option code.
fn pair_of(d: &RawElement) -> Result<(DisaggregationCategory, String), String> {
    let name = d.attr("name").unwrap_or_default();
    let value = d.attr("value").unwrap_or_default();
    let category = category_of(name).ok_or_else(|| {
        format!("dimension name {name:?} cannot be a category code (letters and digits)")
    })?;
    let option = snake(value).ok_or_else(|| {
        format!("dimension value {value:?} cannot be an option code (letters and digits)")
    })?;
    Ok((category, option))
}

/// A value's disaggregation key: `''` without dimensions, `category=option` with one, the
/// canonical combination key (`age_group=age_18_59;sex=female`) with several.
fn key_of(dims: &[&RawElement]) -> Result<String, String> {
    let pairs = dims
        .iter()
        .map(|d| pair_of(d).map(|(c, o)| (c.as_str().to_owned(), o)))
        .collect::<Result<Vec<_>, String>>()?;
    Ok(DisaggregationKey::from_parts(pairs)?.to_string())
}

fn dims(e: &RawElement) -> Vec<&RawElement> {
    e.children
        .iter()
        .filter(|c| c.name == "dimension")
        .collect()
}

/// The figure of a baseline, target or actual, as typed into Meridian: `12`, `45/100`, or the
/// text (a qualitative value's comment, else its `@value`).
fn typed(measure: Measure, e: &RawElement) -> Result<String, String> {
    let value = e.attr("value").map(str::trim).unwrap_or_default();
    match measure {
        Measure::Qualitative => {
            let comment = text_of(e, "comment");
            let text = if comment.is_empty() { value } else { &comment };
            if text.is_empty() {
                Err("a qualitative value with no text".into())
            } else {
                Ok(text.to_owned())
            }
        }
        _ if value.is_empty() => Err("no @value".into()),
        Measure::Number => Ok(value.to_owned()),
        Measure::Percentage => Ok(format!("{value}/100")),
    }
}

/// Parses what [`typed`] gives, refusing more than four decimals (stored as e4).
fn quantity(measure: Measure, text: &str) -> Result<Quantity, String> {
    let q = meridian_domain::results::model::parse_quantity(measure, text)
        .map_err(|e| format!("{text:?}: {e}"))?;
    let exact = |d: &Decimal| d.scale() <= 4;
    let ok = match &q {
        Quantity::Number(n) => exact(n),
        Quantity::Percentage {
            numerator,
            denominator,
        } => exact(numerator) && exact(denominator),
        Quantity::Text(_) => true,
    };
    if ok {
        Ok(q)
    } else {
        Err(format!("{text:?}: at most four decimals are kept"))
    }
}

/// The Meridian period an IATI period is: the same dates, or the whole calendar period of a
/// period clipped to the project.
fn matching(frequency: Frequency, periods: &[Period], start: Date, end: Date) -> Option<Period> {
    periods
        .iter()
        .find(|p| {
            (p.start == start && p.end == end) || {
                let whole = frequency.calendar_period(p.start);
                whole.start == start && whole.end == end
            }
        })
        .copied()
}

fn result_type(code: Option<&str>) -> Option<ResultLevel> {
    code.map(str::trim)
        .and_then(|c| c.parse::<u8>().ok())
        .and_then(ResultLevel::from_iati_code)
}

fn measure_of(code: Option<&str>) -> Option<Measure> {
    match code.map(str::trim) {
        Some("1") => Some(Measure::Number),
        Some("2") => Some(Measure::Percentage),
        Some("5") => Some(Measure::Qualitative),
        _ => None,
    }
}

/// Maps an activity's `<result>`s for a project running from `start` to `end`. `frequency`
/// forces the reporting frequency (a project that already reports at one).
pub(super) fn plan(
    results: &[RawElement],
    start: Date,
    end: Date,
    frequency: Option<Frequency>,
) -> Plan {
    let mut out = Plan::default();
    if results.is_empty() {
        return out;
    }
    // The frequency under which most periods are reporting periods.
    let iati_periods: Vec<(Date, Date)> = results
        .iter()
        .filter(|r| result_type(r.attr("type")).is_some())
        .flat_map(|r| r.children.iter().filter(|c| c.name == "indicator"))
        .filter(|i| measure_of(i.attr("measure")).is_some())
        .flat_map(|i| i.children.iter().filter(|c| c.name == "period"))
        .filter_map(|p| {
            Some((
                date_attr(p.child("period-start"))?,
                date_attr(p.child("period-end"))?,
            ))
        })
        .collect();
    let chosen = match frequency {
        Some(f) => Some(f),
        None if iati_periods.is_empty() => None,
        None => {
            let mut best: Option<(usize, Frequency)> = None;
            for f in [Frequency::Annual, Frequency::Quarterly, Frequency::Monthly] {
                let periods = f.periods(start, end);
                let n = iati_periods
                    .iter()
                    .filter(|(s, e)| matching(f, &periods, *s, *e).is_some())
                    .count();
                if n > 0 && best.is_none_or(|(b, _)| n > b) {
                    best = Some((n, f));
                }
            }
            best.map(|(_, f)| f)
        }
    };
    let periods = chosen.map(|f| f.periods(start, end)).unwrap_or_default();
    let mut any_period = false;
    for (i, r) in results.iter().enumerate() {
        let title = text_of(r, "title");
        let what = format!(
            "result {} ({:?})",
            i + 1,
            title.chars().take(60).collect::<String>()
        );
        let Some(level) = result_type(r.attr("type")) else {
            out.notes.push(format!(
                "{what}: type {} has no level in Meridian's results chain (1 output, 2 outcome, 3 impact); not mapped",
                r.attr("type").unwrap_or("(none)")
            ));
            continue;
        };
        let mut indicators = Vec::new();
        for (j, ind) in r
            .children
            .iter()
            .filter(|c| c.name == "indicator")
            .enumerate()
        {
            let what = format!("{what}, indicator {}", j + 1);
            let Some(measure) = measure_of(ind.attr("measure")) else {
                out.notes.push(format!(
                    "{what}: measure {} (3 nominal and 4 ordinal have no equivalent; Meridian has 1 unit, 2 percentage, 5 qualitative); not mapped",
                    ind.attr("measure").unwrap_or("(none)")
                ));
                continue;
            };
            let mut title = text_of(ind, "title");
            if title.is_empty() {
                out.notes
                    .push(format!("{what}: no title; named by its position"));
                title = format!("Indicator {}", j + 1);
            }
            let direction = if falsy(ind.attr("ascending")) {
                Direction::Descending
            } else {
                Direction::Ascending
            };
            let aggregation =
                if measure == Measure::Qualitative || falsy(ind.attr("aggregation-status")) {
                    AggregationType::None
                } else {
                    AggregationType::Sum
                };
            // Categories from every dimension of the indicator's values.
            let mut categories: Vec<Disaggregation> = Vec::new();
            if measure != Measure::Qualitative {
                let values = ind
                    .children
                    .iter()
                    .filter(|c| c.name == "period")
                    .flat_map(|p| {
                        p.children
                            .iter()
                            .filter(|c| c.name == "target" || c.name == "actual")
                    });
                for v in values {
                    let d = dims(v);
                    if key_of(&d).is_err() {
                        continue;
                    }
                    for dim in d {
                        let Ok((category, opt)) = pair_of(dim) else {
                            continue;
                        };
                        let label = dim.attr("value").unwrap_or(&opt).trim().to_owned();
                        let at = match categories.iter().position(|c| c.category == category) {
                            Some(at) => at,
                            None => {
                                let mut new = Disaggregation::default_for(category);
                                new.options.clear();
                                new.exhaustive = false;
                                categories.push(new);
                                categories.len() - 1
                            }
                        };
                        if !categories[at].options.iter().any(|o| o.code == opt) {
                            categories[at]
                                .options
                                .push(CategoryOption { code: opt, label });
                        }
                    }
                }
                // A built-in category whose options are all default ones keeps the defaults.
                for c in &mut categories {
                    let defaults = c.category.default_options();
                    if !defaults.is_empty()
                        && c.options
                            .iter()
                            .all(|o| defaults.iter().any(|d| d.code == o.code))
                    {
                        c.options = defaults;
                    }
                }
            }
            // Baseline.
            let mut baseline_year = None;
            let mut baseline = None;
            let baselines: Vec<&RawElement> = ind
                .children
                .iter()
                .filter(|c| c.name == "baseline")
                .collect();
            match baselines.iter().find(|b| dims(b).is_empty()) {
                Some(b) => {
                    let year = b.attr("year").and_then(|y| y.trim().parse::<i64>().ok());
                    match year {
                        Some(y) if (1950..=2100).contains(&y) => baseline_year = Some(y),
                        _ => out.notes.push(format!(
                            "{what}: baseline year {:?} is not a year between 1950 and 2100; not mapped",
                            b.attr("year").unwrap_or_default()
                        )),
                    }
                    match typed(measure, b).and_then(|t| quantity(measure, &t)) {
                        Ok(q) => baseline = Some(q),
                        Err(m) => out
                            .notes
                            .push(format!("{what}: baseline value not mapped: {m}")),
                    }
                    if baselines.len() > 1 {
                        out.notes.push(format!(
                            "{what}: {} more baselines not mapped (Meridian keeps one baseline, for the total)",
                            baselines.len() - 1
                        ));
                    }
                }
                None if !baselines.is_empty() => out.notes.push(format!(
                    "{what}: {} baseline(s), each for a dimension, not mapped (Meridian keeps one baseline, for the total)",
                    baselines.len()
                )),
                None => {}
            }
            // Periods.
            let mut targets: Vec<(String, String, Quantity)> = Vec::new();
            let mut reports: Vec<PlanReport> = Vec::new();
            for p in ind.children.iter().filter(|c| c.name == "period") {
                let (Some(s), Some(e)) = (
                    date_attr(p.child("period-start")),
                    date_attr(p.child("period-end")),
                ) else {
                    out.notes.push(format!(
                        "{what}: a period without readable dates; not mapped"
                    ));
                    continue;
                };
                let label = format!("period {s} to {e}");
                let Some(f) = chosen else {
                    out.notes.push(format!(
                        "{what}: {label} is not a calendar year, quarter or month within the project ({start} to {end}); not mapped"
                    ));
                    continue;
                };
                let Some(period) = matching(f, &periods, s, e) else {
                    out.notes.push(format!(
                        "{what}: {label} is not a {f} reporting period of the project ({start} to {end}); not mapped"
                    ));
                    continue;
                };
                let period_start = period.start.to_string();
                if reports.iter().any(|r| r.period_start == period_start)
                    || targets.iter().any(|t| t.0 == period_start)
                {
                    out.notes.push(format!(
                        "{what}: {label} is given twice; the second is not mapped"
                    ));
                    continue;
                }
                // Targets.
                for t in p.children.iter().filter(|c| c.name == "target") {
                    if measure == Measure::Qualitative {
                        out.notes.push(format!(
                            "{what}: {label}: a qualitative target is not mapped (Meridian's qualitative indicators have no target)"
                        ));
                        continue;
                    }
                    let mapped = key_of(&dims(t)).and_then(|key| {
                        let q = typed(measure, t).and_then(|v| quantity(measure, &v))?;
                        if targets.iter().any(|x| x.0 == period_start && x.1 == key) {
                            return Err(format!("a second target for {key:?}"));
                        }
                        Ok((key, q))
                    });
                    match mapped {
                        Ok((key, q)) => targets.push((period_start.clone(), key, q)),
                        Err(m) => out
                            .notes
                            .push(format!("{what}: {label}: target not mapped: {m}")),
                    }
                }
                // Actuals: one approved report.
                let actuals: Vec<&RawElement> =
                    p.children.iter().filter(|c| c.name == "actual").collect();
                if actuals.is_empty() {
                    any_period |= targets.iter().any(|t| t.0 == period_start);
                    continue;
                }
                let mut inputs = Vec::new();
                let mut narrative = String::new();
                for a in &actuals {
                    let d = dims(a);
                    let value = key_of(&d).and_then(|key| Ok((key, typed(measure, a)?)));
                    match value {
                        Ok((key, value)) => {
                            if key.is_empty() && measure != Measure::Qualitative {
                                narrative = text_of(a, "comment");
                            }
                            inputs.push(ValueInput {
                                disaggregation: key,
                                value,
                            });
                        }
                        Err(m) => out
                            .notes
                            .push(format!("{what}: {label}: actual not mapped: {m}")),
                    }
                }
                if inputs.is_empty() {
                    continue;
                }
                let checked = check_values(measure, &categories, &inputs)
                    .map_err(|(field, m)| format!("{field}: {m}"))
                    .and_then(|CheckedReport { values }| {
                        for (_, q) in &values {
                            quantity(measure, &q.to_string())?;
                        }
                        Ok(values)
                    });
                match checked {
                    Ok(values) => {
                        any_period = true;
                        reports.push(PlanReport {
                            period_start,
                            narrative,
                            values,
                        });
                    }
                    Err(m) => out
                        .notes
                        .push(format!("{what}: {label}: actual values not mapped: {m}")),
                }
            }
            any_period |= !targets.is_empty();
            indicators.push(PlanIndicator {
                title: title.chars().take(500).collect(),
                measure,
                direction,
                aggregation,
                categories,
                baseline_year,
                baseline,
                targets,
                reports,
            });
        }
        if indicators.is_empty() {
            out.notes.push(format!(
                "{what}: no indicator Meridian can keep; not mapped"
            ));
            continue;
        }
        let mut title: String = title.chars().take(500).collect();
        if title.is_empty() {
            out.notes
                .push(format!("{what}: no title; named by its position"));
            title = format!("Result {}", i + 1);
        }
        out.results.push(PlanResult {
            index: i,
            level,
            title,
            indicators,
        });
    }
    if any_period || frequency.is_some() {
        out.frequency = chosen;
        out.periods = periods;
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Export

/// A result as the export writes it, from an import's plan or from the framework.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct OutResult {
    pub level: ResultLevel,
    pub title: String,
    pub indicators: Vec<OutIndicator>,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct OutIndicator {
    pub title: String,
    pub measure: Measure,
    pub direction: Direction,
    pub aggregation: AggregationType,
    pub baseline_year: Option<i64>,
    pub baseline: Option<Quantity>,
    pub periods: Vec<OutPeriod>,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) struct OutPeriod {
    pub start: String,
    pub end: String,
    /// (key, figure), sorted by key (the total `''` first).
    pub targets: Vec<(String, Quantity)>,
    pub actuals: Vec<(String, Quantity)>,
    pub narrative: String,
}

/// Numbers with no trailing zeros, so that both sides of a comparison agree.
pub(super) fn normalized(q: Quantity) -> Quantity {
    match q {
        Quantity::Number(n) => Quantity::Number(n.normalize()),
        Quantity::Percentage {
            numerator,
            denominator,
        } => Quantity::Percentage {
            numerator: numerator.normalize(),
            denominator: denominator.normalize(),
        },
        t => t,
    }
}

impl PlanResult {
    pub(super) fn out(&self, periods: &[Period]) -> OutResult {
        OutResult {
            level: self.level,
            title: self.title.clone(),
            indicators: self
                .indicators
                .iter()
                .map(|i| {
                    let ends: HashMap<String, String> = periods
                        .iter()
                        .map(|p| (p.start.to_string(), p.end.to_string()))
                        .collect();
                    let mut starts: Vec<&String> = i
                        .targets
                        .iter()
                        .map(|t| &t.0)
                        .chain(i.reports.iter().map(|r| &r.period_start))
                        .collect();
                    starts.sort();
                    starts.dedup();
                    OutIndicator {
                        title: i.title.clone(),
                        measure: i.measure,
                        direction: i.direction,
                        aggregation: i.aggregation,
                        baseline_year: i.baseline_year,
                        baseline: i.baseline.clone().map(normalized),
                        periods: starts
                            .into_iter()
                            .map(|s| {
                                let report = i.reports.iter().find(|r| &r.period_start == s);
                                out_period(
                                    s.clone(),
                                    ends.get(s).cloned().unwrap_or_else(|| s.clone()),
                                    i.targets
                                        .iter()
                                        .filter(|t| &t.0 == s)
                                        .map(|t| (t.1.clone(), t.2.clone()))
                                        .collect(),
                                    report.map(|r| r.values.clone()).unwrap_or_default(),
                                    report.map(|r| r.narrative.clone()).unwrap_or_default(),
                                )
                            })
                            .collect(),
                    }
                })
                .collect(),
        }
    }
}

pub(super) fn out_period(
    start: String,
    end: String,
    mut targets: Vec<(String, Quantity)>,
    mut actuals: Vec<(String, Quantity)>,
    narrative: String,
) -> OutPeriod {
    targets.sort_by(|a, b| a.0.cmp(&b.0));
    actuals.sort_by(|a, b| a.0.cmp(&b.0));
    OutPeriod {
        start,
        end,
        targets: targets
            .into_iter()
            .map(|(k, q)| (k, normalized(q)))
            .collect(),
        actuals: actuals
            .into_iter()
            .map(|(k, q)| (k, normalized(q)))
            .collect(),
        narrative: narrative.trim().to_owned(),
    }
}

fn el(name: &str, attrs: Vec<(&str, String)>, children: Vec<RawElement>) -> RawElement {
    RawElement {
        name: name.to_owned(),
        attrs: attrs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
        text: String::new(),
        children,
    }
}

fn narrated(name: &str, text: &str) -> RawElement {
    el(
        name,
        Vec::new(),
        vec![RawElement {
            name: "narrative".into(),
            attrs: Vec::new(),
            text: text.to_owned(),
            children: Vec::new(),
        }],
    )
}

/// The `@value` of a figure: the number, or the percentage (four decimals at most).
fn value_text(q: &Quantity) -> Option<String> {
    match q {
        Quantity::Number(n) => Some(n.normalize().to_string()),
        Quantity::Percentage {
            numerator,
            denominator,
        } => percent(*numerator, *denominator).map(|p| p.round_dp(4).normalize().to_string()),
        Quantity::Text(_) => None,
    }
}

/// A target or actual element; `None` when a figure has no value to write (0/0).
fn value_element(name: &str, key: &str, q: &Quantity, comment: &str) -> Option<RawElement> {
    let mut attrs = Vec::new();
    let mut children = Vec::new();
    match q {
        Quantity::Text(t) => children.push(narrated("comment", t)),
        q => attrs.push(("value", value_text(q)?)),
    }
    // One `<dimension>` per category of the key (a combination has several), first.
    let key = DisaggregationKey::parse(key).ok()?;
    for (at, (category, option)) in key.parts().iter().enumerate() {
        children.insert(
            at,
            el(
                "dimension",
                vec![("name", category.clone()), ("value", option.clone())],
                Vec::new(),
            ),
        );
    }
    if !comment.is_empty() && !matches!(q, Quantity::Text(_)) {
        children.push(narrated("comment", comment));
    }
    Some(el(name, attrs, children))
}

/// The `<result>` element; `None` without indicators (the schema wants one at least).
/// `fallback_year` is the baseline year written when Meridian has a baseline without one.
pub(super) fn element(r: &OutResult, fallback_year: i64) -> Option<RawElement> {
    if r.indicators.is_empty() {
        return None;
    }
    let mut children = vec![narrated("title", &r.title)];
    for i in &r.indicators {
        let mut ic = vec![narrated("title", &i.title)];
        if let Some(b) = &i.baseline {
            let year = i.baseline_year.unwrap_or(fallback_year).max(1);
            let mut attrs = vec![("year", year.to_string())];
            let mut bc = Vec::new();
            match b {
                Quantity::Text(t) => bc.push(narrated("comment", t)),
                q => {
                    if let Some(v) = value_text(q) {
                        attrs.push(("value", v));
                    }
                }
            }
            if attrs.len() == 2 || !bc.is_empty() {
                ic.push(el("baseline", attrs, bc));
            }
        }
        for p in &i.periods {
            let mut pc = vec![
                el(
                    "period-start",
                    vec![("iso-date", p.start.clone())],
                    Vec::new(),
                ),
                el("period-end", vec![("iso-date", p.end.clone())], Vec::new()),
            ];
            for (k, q) in &p.targets {
                pc.extend(value_element("target", k, q, ""));
            }
            for (k, q) in &p.actuals {
                let comment = if k.is_empty() {
                    p.narrative.as_str()
                } else {
                    ""
                };
                pc.extend(value_element("actual", k, q, comment));
            }
            if pc.len() > 2 {
                ic.push(el("period", Vec::new(), pc));
            }
        }
        children.push(el(
            "indicator",
            vec![
                ("measure", i.measure.iati_code().to_string()),
                (
                    "ascending",
                    if i.direction.is_ascending() { "1" } else { "0" }.to_owned(),
                ),
                (
                    "aggregation-status",
                    if i.aggregation.is_aggregatable() {
                        "1"
                    } else {
                        "0"
                    }
                    .to_owned(),
                ),
            ],
            ic,
        ));
    }
    Some(el(
        "result",
        vec![("type", r.level.iati_code().to_string())],
        children,
    ))
}

/// A result the file had, changed since in Meridian: Meridian's `made` element, with what the
/// file had that Meridian does not keep carried over, so that an edit loses none of it: the
/// result's and its indicators' descriptions, document links and references, their titles
/// in other languages (while the shown title is unchanged), attributes Meridian does not
/// write, and the locations, dimensions, comments and document links of a baseline, target or
/// actual whose figure is unchanged. Indicators are matched by title, periods by their dates,
/// figures by value and dimensions; what no longer matches is Meridian's alone.
pub(super) fn with_file_extras(made: RawElement, file: &RawElement) -> RawElement {
    const RESULT: &[&str] = &[
        "title",
        "description",
        "document-link",
        "reference",
        "indicator",
    ];
    const INDICATOR: &[&str] = &[
        "title",
        "description",
        "document-link",
        "reference",
        "baseline",
        "period",
    ];
    const BASELINE: &[&str] = &["location", "dimension", "document-link", "comment"];
    const FIGURE: &[&str] = &["location", "dimension", "comment", "document-link"];
    let mut out = carried(
        made,
        file,
        RESULT,
        &["description", "document-link", "reference"],
    );
    for child in &mut out.children {
        if child.name != "indicator" {
            continue;
        }
        let title = text_of(child, "title");
        let Some(twin) = file
            .children
            .iter()
            .filter(|c| c.name == "indicator")
            .find(|c| text_of(c, "title") == title)
        else {
            continue;
        };
        let mut indicator = carried(
            std::mem::take(child),
            twin,
            INDICATOR,
            &["description", "document-link", "reference"],
        );
        for part in &mut indicator.children {
            match part.name.as_str() {
                "baseline" => {
                    if let Some(b) = twin.children.iter().find(|b| {
                        b.name == "baseline"
                            && b.attr("year") == part.attr("year")
                            && b.attr("value") == part.attr("value")
                    }) {
                        *part = carried(std::mem::take(part), b, BASELINE, BASELINE);
                    }
                }
                "period" => {
                    let dates = |p: &RawElement| {
                        (
                            p.child("period-start")
                                .and_then(|d| d.attr("iso-date"))
                                .map(str::to_owned),
                            p.child("period-end")
                                .and_then(|d| d.attr("iso-date"))
                                .map(str::to_owned),
                        )
                    };
                    let Some(period) = twin
                        .children
                        .iter()
                        .find(|p| p.name == "period" && dates(p) == dates(part))
                    else {
                        continue;
                    };
                    for figure in &mut part.children {
                        if figure.name != "target" && figure.name != "actual" {
                            continue;
                        }
                        if let Some(f) = period.children.iter().find(|f| {
                            f.name == figure.name
                                && f.attr("value") == figure.attr("value")
                                && dimensions(f) == dimensions(figure)
                        }) {
                            *figure = carried(std::mem::take(figure), f, FIGURE, FIGURE);
                        }
                    }
                }
                _ => {}
            }
        }
        *child = indicator;
    }
    out
}

/// A figure's dimensions, as sorted name/value pairs.
fn dimensions(e: &RawElement) -> Vec<(Option<&str>, Option<&str>)> {
    let mut d: Vec<_> = e
        .children
        .iter()
        .filter(|c| c.name == "dimension")
        .map(|c| (c.attr("name"), c.attr("value")))
        .collect();
    d.sort();
    d
}

/// `made` with the file's children named in `extras` where `made` has none of that name (and
/// the file's title, with all its languages, while the shown text is the same), in the
/// schema's `order`; attributes `made` does not write come from the file.
fn carried(made: RawElement, file: &RawElement, order: &[&str], extras: &[&str]) -> RawElement {
    let RawElement {
        name,
        mut attrs,
        text,
        children,
    } = made;
    for (k, v) in &file.attrs {
        if !attrs.iter().any(|(a, _)| a == k) {
            attrs.push((k.clone(), v.clone()));
        }
    }
    let mut out = Vec::with_capacity(children.len());
    let mut mine: Vec<Option<RawElement>> = children.into_iter().map(Some).collect();
    for &n in order {
        let has = mine.iter().flatten().any(|c| c.name == n);
        if n == "title" && has {
            let same = file.child("title").filter(|t| {
                mine.iter()
                    .flatten()
                    .find(|c| c.name == "title")
                    .is_some_and(|m| shown(&narratives(Some(t))) == shown(&narratives(Some(m))))
            });
            if let Some(t) = same {
                mine.iter_mut()
                    .filter(|c| c.as_ref().is_some_and(|c| c.name == "title"))
                    .for_each(|c| *c = None);
                out.push(t.clone());
                continue;
            }
        }
        if has {
            out.extend(
                mine.iter_mut()
                    .filter(|c| c.as_ref().is_some_and(|c| c.name == n))
                    .filter_map(Option::take),
            );
        } else if extras.contains(&n) {
            out.extend(file.children.iter().filter(|c| c.name == n).cloned());
        }
    }
    // Anything of Meridian's the order does not name stays, last.
    out.extend(mine.into_iter().flatten());
    RawElement {
        name,
        attrs,
        text,
        children: out,
    }
}

/// What a result looks like as IATI, hashed: equal fingerprints, nothing changed.
pub(super) fn fingerprint(r: &OutResult) -> String {
    let e = element(r, 0);
    let json = serde_json::to_vec(&e).expect("elements serialize");
    let hash = sha2::Sha256::digest(&json);
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dimension_names_become_categories() {
        assert_eq!(snake("Age group"), Some("age_group".into()));
        assert_eq!(snake("  Sex "), Some("sex".into()));
        assert_eq!(snake("—"), None);
        assert_eq!(category_of("Sex"), Some(DisaggregationCategory::Sex));
        assert_eq!(category_of("2nd"), None);
        assert_eq!(
            category_of("age"),
            Some(DisaggregationCategory::Custom("age".into()))
        );
    }

    const RESULTS: &str = r#"<iati-activities version="2.03"><iati-activity>
      <iati-identifier>XM-1</iati-identifier>
      <result type="9"><title><narrative>Other</narrative></title>
        <indicator measure="1"><title><narrative>n</narrative></title></indicator></result>
      <result type="2"><title><narrative>Outcome</narrative></title>
        <indicator measure="2" ascending="0"><title><narrative>Share</narrative></title>
          <baseline year="2013" value="40"/>
          <period><period-start iso-date="2014-01-01"/><period-end iso-date="2014-12-31"/>
            <target value="50"/>
            <actual value="45.5"><comment><narrative>on track</narrative></comment></actual>
            <actual value="20"><dimension name="Sex" value="Female"/></actual>
          </period>
        </indicator>
        <indicator measure="5"><title><narrative>Policy</narrative></title>
          <period><period-start iso-date="2015-01-01"/><period-end iso-date="2015-12-31"/>
            <actual><comment><narrative>Adopted</narrative></comment></actual>
          </period>
        </indicator>
        <indicator measure="1" aggregation-status="0"><title><narrative>People</narrative></title>
          <period><period-start iso-date="2016-01-01"/><period-end iso-date="2016-12-31"/>
            <actual value="20,000"/>
          </period>
          <period><period-start iso-date="2016-02-01"/><period-end iso-date="2016-03-31"/>
            <target value="5"/>
          </period>
        </indicator>
        <indicator measure="3"><title><narrative>Nominal</narrative></title></indicator>
      </result>
    </iati-activity></iati-activities>"#;

    fn date(s: &str) -> Date {
        Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).unwrap()
    }

    #[test]
    fn a_plan_maps_what_fits_and_says_what_does_not() {
        let a = meridian_formats::iati::read::read_all(RESULTS.as_bytes()).unwrap();
        let p = plan(&a[0].results, date("2014-01-01"), date("2016-12-31"), None);
        assert_eq!(p.frequency, Some(Frequency::Annual));
        assert_eq!(p.periods.len(), 3);
        assert_eq!(p.results.len(), 1, "type 9 is not mapped");
        let r = &p.results[0];
        assert_eq!((r.index, r.level), (1, ResultLevel::Outcome));
        assert_eq!(r.indicators.len(), 3, "measure 3 is not mapped");
        let share = &r.indicators[0];
        assert_eq!(share.measure, Measure::Percentage);
        assert_eq!(share.direction, Direction::Descending);
        assert_eq!(share.baseline.as_ref().unwrap().to_string(), "40/100");
        assert_eq!(share.targets[0].2.to_string(), "50/100");
        assert_eq!(share.categories[0].category, DisaggregationCategory::Sex);
        assert!(!share.categories[0].exhaustive);
        let report = &share.reports[0];
        assert_eq!(report.narrative, "on track");
        assert_eq!(
            report
                .values
                .iter()
                .map(|(k, q)| format!("{k}:{q}"))
                .collect::<Vec<_>>(),
            vec![":45.5/100", "sex=female:20/100"]
        );
        let policy = &r.indicators[1];
        assert_eq!(policy.aggregation, AggregationType::None);
        assert_eq!(
            policy.reports[0].values[0].1,
            Quantity::Text("Adopted".into())
        );
        let people = &r.indicators[2];
        assert_eq!(people.aggregation, AggregationType::None);
        assert!(people.reports.is_empty() && people.targets.is_empty());
        let notes = p.notes.join("\n");
        for expected in [
            "type 9",
            "measure 3",
            "\"20,000\"",
            "period 2016-02-01 to 2016-03-31 is not a annual reporting period",
        ] {
            assert!(notes.contains(expected), "{expected}: {notes}");
        }
        // What the export writes of it passes the schema, and maps back to the same.
        let mut out = meridian_formats::iati::write::ActivityWriter::new(
            Vec::new(),
            "2026-01-01T00:00:00Z",
            None,
        )
        .unwrap();
        let mut activity = writable(a[0].clone());
        activity.results = p
            .results
            .iter()
            .filter_map(|r| element(&r.out(&p.periods), 2014))
            .collect();
        out.write(&activity).unwrap();
        let bytes = out.finish().unwrap();
        let report = meridian_formats::iati::validate(&bytes[..], &Default::default()).unwrap();
        let schema: Vec<String> = report
            .findings
            .iter()
            .filter(|f| {
                matches!(
                    f.layer,
                    meridian_formats::iati::Layer::Schema | meridian_formats::iati::Layer::Document
                )
            })
            .map(|f| format!("{}:{} {}", f.line, f.column, f.message))
            .collect();
        assert_eq!(schema, Vec::<String>::new());
        let back = meridian_formats::iati::read::read_all(&bytes).unwrap();
        let again = plan(
            &back[0].results,
            date("2014-01-01"),
            date("2016-12-31"),
            None,
        );
        let outs = |p: &Plan| {
            p.results
                .iter()
                .map(|r| fingerprint(&r.out(&p.periods)))
                .collect::<Vec<_>>()
        };
        assert_eq!(outs(&again), outs(&p));
    }

    /// `a` with what the writer needs of an activity besides its results.
    fn writable(
        mut a: meridian_formats::iati::activity::Activity,
    ) -> meridian_formats::iati::activity::Activity {
        use meridian_formats::iati::activity::{
            ActivityDate, Description, OrgRef, ParticipatingOrg,
        };
        a.titles = vec![Narrative::new(None, "t")];
        a.reporting_org = OrgRef {
            r#ref: Some("XM-1".into()),
            r#type: Some("40".into()),
            narratives: vec![Narrative::new(None, "Org")],
            ..OrgRef::default()
        };
        a.descriptions = vec![Description {
            r#type: Some("1".into()),
            narratives: vec![Narrative::new(None, "d")],
        }];
        a.participating_orgs = vec![ParticipatingOrg {
            role: "4".into(),
            r#ref: Some("XM-1".into()),
            ..ParticipatingOrg::default()
        }];
        a.status = Some("2".into());
        a.dates = vec![ActivityDate {
            r#type: "2".into(),
            iso_date: "2014-01-01".into(),
            narratives: Vec::new(),
        }];
        a
    }

    #[test]
    fn values_per_combination_of_dimensions_map_to_combination_keys_and_back() {
        const XML: &str = r#"<iati-activities version="2.03"><iati-activity>
          <iati-identifier>XM-2</iati-identifier>
          <result type="1"><title><narrative>Output</narrative></title>
            <indicator measure="1"><title><narrative>People trained</narrative></title>
              <period><period-start iso-date="2014-01-01"/><period-end iso-date="2014-12-31"/>
                <target value="40"/>
                <target value="20"><dimension name="Sex" value="Female"/><dimension name="Age" value="Adult"/></target>
                <actual value="30"/>
                <actual value="10"><dimension name="Sex" value="Female"/><dimension name="Age" value="Adult"/></actual>
                <actual value="15"><dimension name="Age" value="Adult"/><dimension name="Sex" value="Male"/></actual>
              </period>
            </indicator>
          </result>
        </iati-activity></iati-activities>"#;
        let a = meridian_formats::iati::read::read_all(XML.as_bytes()).unwrap();
        let p = plan(&a[0].results, date("2014-01-01"), date("2014-12-31"), None);
        assert_eq!(p.notes, Vec::<String>::new());
        let ind = &p.results[0].indicators[0];
        let categories: Vec<(&str, Vec<&str>)> = ind
            .categories
            .iter()
            .map(|c| {
                (
                    c.category.as_str(),
                    c.options.iter().map(|o| o.code.as_str()).collect(),
                )
            })
            .collect();
        assert_eq!(
            categories,
            // Sex is built in and keeps its default options; "age" is a custom category.
            vec![
                ("sex", vec!["female", "male", "other_unknown"]),
                ("age", vec!["adult"])
            ]
        );
        // The keys are the results module's canonical ones, whatever the dimensions' order.
        assert_eq!(
            ind.reports[0]
                .values
                .iter()
                .map(|(k, q)| format!("{k}:{q}"))
                .collect::<Vec<_>>(),
            vec![":30", "age=adult;sex=female:10", "age=adult;sex=male:15"]
        );
        assert!(
            ind.targets
                .iter()
                .any(|(_, k, q)| k == "age=adult;sex=female" && q.to_string() == "20"),
            "{:?}",
            ind.targets
        );
        // Exported, a combination is one <dimension> per category, and maps back the same.
        let out = p.results[0].out(&p.periods);
        let e = element(&out, 2014).expect("a result with an indicator");
        let mut activity = writable(a[0].clone());
        activity.results = vec![e];
        let mut w = meridian_formats::iati::write::ActivityWriter::new(
            Vec::new(),
            "2026-01-01T00:00:00Z",
            None,
        )
        .unwrap();
        w.write(&activity).unwrap();
        let bytes = w.finish().unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.contains(r#"<dimension name="age" value="adult"/>"#)
                && text.contains(r#"<dimension name="sex" value="female"/>"#),
            "{text}"
        );
        let back = meridian_formats::iati::read::read_all(&bytes[..]).unwrap();
        let again = plan(
            &back[0].results,
            date("2014-01-01"),
            date("2014-12-31"),
            None,
        );
        assert_eq!(
            fingerprint(&again.results[0].out(&again.periods)),
            fingerprint(&out)
        );
    }

    #[test]
    fn quantities_refuse_what_meridian_cannot_keep() {
        assert!(quantity(Measure::Number, "20,000").is_err());
        assert!(quantity(Measure::Number, "-3").is_err());
        assert!(quantity(Measure::Number, "1.23456").is_err());
        assert!(quantity(Measure::Percentage, "101/100").is_err());
        assert_eq!(
            quantity(Measure::Percentage, "45.5/100").unwrap(),
            Quantity::Percentage {
                numerator: "45.5".parse().unwrap(),
                denominator: Decimal::ONE_HUNDRED,
            }
        );
    }
}
