//! Disaggregation keys and the figures kept per combination of options.
//!
//! A figure of an indicator is keyed by a [`DisaggregationKey`]:
//!
//! - the total: the empty key `''`;
//! - a *marginal*: one option of one category, `sex=female`;
//! - a *combination*: one option of every category of the indicator,
//!   `age_group=age_18_59;sex=female`.
//!
//! The canonical text of a key lists its `category=option` parts sorted by category code and
//! joined by `;`, so the same combination has the same key in every project whatever order
//! its indicator lists its categories in (which lets roll-ups merge them). [`DisaggregationKey::parse`]
//! accepts any order and spaces around the parts; `Display` writes the canonical text. With one
//! category a marginal and a combination are the same key.
//!
//! **The rule for a report (and the targets of a period):** it holds either combinations or
//! marginals, never both. Marginals, and more generally figures over fewer categories, are
//! *derived* from combinations by summing ([`derived_keys`], [`derive`]); numbers are summed,
//! percentages sum their numerators and denominators separately, and only when every
//! combination summed was given (a missing one is not zero). A figure over a subset of
//! categories is derived only when every category summed over is exhaustive: summing
//! sex × displacement status over displacement status (not exhaustive) would miss the people
//! of no listed status, so only the displacement-status marginals are derived there.
//!
//! **Checks** ([`check_breakdown`]): when every category is exhaustive, the combinations must
//! all be given and add up to the total exactly; otherwise they add up to at most the total.
//! Marginals keep their own rule per category (see [`super::model::check_disaggregation_sum`]).

use super::model::{Disaggregation, Quantity, ValueError, check_disaggregation_sum};
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// The most combinations an indicator may have (the product of its categories' option
/// counts). The four built-in categories make 3 × 3 × 5 × 2 = 90.
pub const MAX_COMBINATIONS: usize = 1000;

/// A key naming the total, one option of one category, or one option of several categories.
/// Parts are kept sorted by category code, each category at most once.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DisaggregationKey {
    parts: Vec<(String, String)>,
}

fn is_code(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 60
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'))
}

impl DisaggregationKey {
    /// The key of the total.
    pub fn total() -> DisaggregationKey {
        DisaggregationKey::default()
    }

    /// A key from `(category, option)` pairs in any order; refuses a category named twice.
    pub fn from_parts<I, C, O>(parts: I) -> Result<DisaggregationKey, String>
    where
        I: IntoIterator<Item = (C, O)>,
        C: Into<String>,
        O: Into<String>,
    {
        let mut parts: Vec<(String, String)> = parts
            .into_iter()
            .map(|(c, o)| (c.into(), o.into()))
            .collect();
        parts.sort();
        if let Some(w) = parts.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(format!(
                "the category {} is named twice; give one option per category",
                w[0].0
            ));
        }
        Ok(DisaggregationKey { parts })
    }

    /// Reads a key: empty for the total, else `category=option` parts joined by `;` in any
    /// order. Only the syntax is checked here; [`check_key`] checks the key against an
    /// indicator's categories.
    pub fn parse(raw: &str) -> Result<DisaggregationKey, String> {
        let t = raw.trim();
        if t.is_empty() {
            return Ok(DisaggregationKey::total());
        }
        let mut parts = Vec::new();
        for part in t.split(';') {
            let bad = || {
                format!(
                    "expected category=option parts joined by \";\" (such as \
                     \"age_group=age_18_59;sex=female\"), found {raw:?}"
                )
            };
            let (c, o) = part.split_once('=').ok_or_else(bad)?;
            let (c, o) = (c.trim(), o.trim());
            if !is_code(c) || !is_code(o) {
                return Err(bad());
            }
            parts.push((c.to_owned(), o.to_owned()));
        }
        DisaggregationKey::from_parts(parts).map_err(|e| format!("{raw:?}: {e}"))
    }

    pub fn is_total(&self) -> bool {
        self.parts.is_empty()
    }

    /// How many categories the key names (0 for the total).
    pub fn len(&self) -> usize {
        self.parts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// The `(category, option)` parts, sorted by category code.
    pub fn parts(&self) -> &[(String, String)] {
        &self.parts
    }

    /// The option the key gives for a category.
    pub fn option_of(&self, category: &str) -> Option<&str> {
        self.parts
            .iter()
            .find(|(c, _)| c == category)
            .map(|(_, o)| o.as_str())
    }

    /// The key keeping only the parts whose category `keep` accepts.
    pub fn restrict(&self, keep: impl Fn(&str) -> bool) -> DisaggregationKey {
        DisaggregationKey {
            parts: self
                .parts
                .iter()
                .filter(|(c, _)| keep(c))
                .cloned()
                .collect(),
        }
    }
}

impl fmt::Display for DisaggregationKey {
    /// The canonical text: `''`, `sex=female`, `age_group=age_18_59;sex=female`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (c, o)) in self.parts.iter().enumerate() {
            if i > 0 {
                f.write_str(";")?;
            }
            write!(f, "{c}={o}")?;
        }
        Ok(())
    }
}

impl FromStr for DisaggregationKey {
    type Err = String;
    fn from_str(raw: &str) -> Result<Self, String> {
        DisaggregationKey::parse(raw)
    }
}

/// What a key is for an indicator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyShape {
    Total,
    /// One option of one category (with one category, also the full combination).
    Marginal,
    /// One option of every category (two or more categories).
    Combination,
}

fn category_list(categories: &[Disaggregation]) -> String {
    categories
        .iter()
        .map(|d| d.category.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reads a key and checks it against an indicator's categories: every category and option
/// must be the indicator's, and the key must name one category (a marginal) or all of them
/// (a combination). Messages name what was expected and what was found.
pub fn check_key(
    categories: &[Disaggregation],
    raw: &str,
) -> Result<(DisaggregationKey, KeyShape), String> {
    let key = DisaggregationKey::parse(raw)?;
    if key.is_total() {
        return Ok((key, KeyShape::Total));
    }
    if categories.is_empty() {
        return Err(format!(
            "this indicator is not disaggregated; found {:?}",
            raw.trim()
        ));
    }
    for (c, o) in key.parts() {
        let Some(d) = categories.iter().find(|d| d.category.as_str() == c) else {
            return Err(format!(
                "unknown category {c:?} in {:?}; this indicator is disaggregated by {}",
                raw.trim(),
                category_list(categories)
            ));
        };
        if !d.options.iter().any(|x| x.code == *o) {
            return Err(format!(
                "unknown option {o:?} of {c} in {:?}; expected one of {}",
                raw.trim(),
                d.options
                    .iter()
                    .map(|x| x.code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
    }
    match key.len() {
        1 => Ok((key, KeyShape::Marginal)),
        n if n == categories.len() => Ok((key, KeyShape::Combination)),
        n => Err(format!(
            "{:?} names {n} of the indicator's {} categories ({}); expected one option of one \
             category or one option of every category",
            raw.trim(),
            categories.len(),
            category_list(categories)
        )),
    }
}

/// How many combinations the categories make (saturating).
pub fn combination_count(categories: &[Disaggregation]) -> usize {
    if categories.is_empty() {
        return 0;
    }
    categories
        .iter()
        .fold(1usize, |n, d| n.saturating_mul(d.options.len()))
}

/// Every combination of the categories (the cross product), in display order: the first
/// category varies slowest, options in the indicator's order. Empty without categories; the
/// marginals with one category. Capped at [`MAX_COMBINATIONS`] (empty beyond).
pub fn combinations(categories: &[Disaggregation]) -> Vec<DisaggregationKey> {
    let count = combination_count(categories);
    if count == 0 || count > MAX_COMBINATIONS {
        return Vec::new();
    }
    let mut out: Vec<Vec<(String, String)>> = vec![Vec::new()];
    for d in categories {
        let mut next = Vec::with_capacity(out.len() * d.options.len());
        for prefix in &out {
            for o in &d.options {
                let mut p = prefix.clone();
                p.push((d.category.as_str().to_owned(), o.code.clone()));
                next.push(p);
            }
        }
        out = next;
    }
    out.into_iter()
        .map(|p| DisaggregationKey::from_parts(p).expect("distinct categories"))
        .collect()
}

/// The keys a combination's figure is summed into: the same combination over every smaller
/// non-empty set of categories such that each category left out is exhaustive (so the sum
/// covers everyone of the options kept). With sex and age group (both exhaustive),
/// `age_group=age_18_59;sex=female` counts in `age_group=age_18_59` and in `sex=female`.
/// Nothing for a marginal or when `key` is not a full combination of `categories`.
pub fn derived_keys(
    categories: &[Disaggregation],
    key: &DisaggregationKey,
) -> Vec<DisaggregationKey> {
    let n = categories.len();
    if n < 2 || key.len() != n || n > 16 {
        return Vec::new();
    }
    let mut out = Vec::new();
    // Each bit set keeps that category.
    for mask in 1u32..(1 << n) - 1 {
        let dropped_exhaustive = categories
            .iter()
            .enumerate()
            .all(|(i, d)| mask & (1 << i) != 0 || d.exhaustive);
        if !dropped_exhaustive {
            continue;
        }
        let kept: Vec<&str> = categories
            .iter()
            .enumerate()
            .filter(|(i, _)| mask & (1 << i) != 0)
            .map(|(_, d)| d.category.as_str())
            .collect();
        out.push(key.restrict(|c| kept.contains(&c)));
    }
    out.sort();
    out
}

/// How many combinations add up to a derived key: the product of the option counts of the
/// categories it leaves out. A derived figure exists only when all of them were given (a
/// missing combination is not zero: the sum would be short).
pub fn derived_from(categories: &[Disaggregation], derived: &DisaggregationKey) -> usize {
    categories
        .iter()
        .filter(|d| derived.option_of(d.category.as_str()).is_none())
        .fold(1usize, |n, d| n.saturating_mul(d.options.len()))
}

/// The sum of two figures of the same measure (percentages: numerators and denominators
/// separately); `None` for text, mixed measures or an overflow.
pub fn add_quantities(a: &Quantity, b: &Quantity) -> Option<Quantity> {
    match (a, b) {
        (Quantity::Number(x), Quantity::Number(y)) => x.checked_add(*y).map(Quantity::Number),
        (
            Quantity::Percentage {
                numerator: n1,
                denominator: d1,
            },
            Quantity::Percentage {
                numerator: n2,
                denominator: d2,
            },
        ) => Some(Quantity::Percentage {
            numerator: n1.checked_add(*n2)?,
            denominator: d1.checked_add(*d2)?,
        }),
        _ => None,
    }
}

/// The figures derived from combinations (see [`derived_keys`]), sorted by key: only those
/// whose every combination was given ([`derived_from`]). Marginals given directly and the
/// total are not touched; figures that cannot be summed (text) are skipped.
pub fn derive(
    categories: &[Disaggregation],
    cells: &[(DisaggregationKey, Quantity)],
) -> Vec<(DisaggregationKey, Quantity)> {
    let mut sums: BTreeMap<DisaggregationKey, (usize, Option<Quantity>)> = BTreeMap::new();
    for (key, q) in cells {
        for d in derived_keys(categories, key) {
            let entry = sums.entry(d).or_insert((0, None));
            entry.0 += 1;
            entry.1 = match &entry.1 {
                None => Some(q.clone()),
                Some(prev) => add_quantities(prev, q),
            };
        }
    }
    sums.into_iter()
        .filter(|(k, (n, _))| *n == derived_from(categories, k))
        .filter_map(|(k, (_, q))| q.map(|q| (k, q)))
        .collect()
}

/// What is wrong with a breakdown: the key (or `total`, or a category code) to point at, and
/// the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakdownError {
    pub field: String,
    pub message: String,
}

impl fmt::Display for BreakdownError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

fn err(field: impl Into<String>, message: impl Into<String>) -> BreakdownError {
    BreakdownError {
        field: field.into(),
        message: message.into(),
    }
}

/// Checks the figures of one report (or the targets of one period) against each other.
///
/// `parts` are checked keys (see [`check_key`]) with their figures; `total` is the total if
/// given. The rules:
///
/// - each key at most once; combinations and marginals are not mixed (with two or more
///   categories);
/// - marginals: per category, every option or none when the category is exhaustive
///   (`complete`), adding up to the total, at most the total otherwise;
/// - combinations: when every category is exhaustive, all of them (`complete`) adding up to
///   the total exactly; otherwise at most the total.
///
/// `complete` is false for targets, which may be set for some combinations only (then they
/// add up to at most the total target).
pub fn check_breakdown(
    categories: &[Disaggregation],
    total: Option<&Quantity>,
    parts: &[(DisaggregationKey, Quantity)],
    complete: bool,
) -> Result<(), BreakdownError> {
    for (i, (k, _)) in parts.iter().enumerate() {
        if parts[..i].iter().any(|(o, _)| o == k) {
            return Err(err(k.to_string(), "given twice"));
        }
    }
    let combos: Vec<&(DisaggregationKey, Quantity)> = if categories.len() >= 2 {
        parts
            .iter()
            .filter(|(k, _)| k.len() == categories.len())
            .collect()
    } else {
        Vec::new()
    };
    let marginals: Vec<&(DisaggregationKey, Quantity)> =
        parts.iter().filter(|(k, _)| k.len() == 1).collect();
    if let (Some((c, _)), Some((m, _))) = (combos.first(), marginals.first()) {
        return Err(err(
            m.to_string(),
            format!(
                "values were given both per combination ({c}) and per single category ({m}); \
                 give one or the other: the figures per category are worked out from the \
                 combinations"
            ),
        ));
    }
    if let Some((first, _)) = combos.first() {
        if combination_count(categories) > MAX_COMBINATIONS {
            return Err(err(
                first.to_string(),
                format!(
                    "this indicator's categories make {} combinations, more than the {} that \
                     can be reported one by one; give figures per category instead",
                    combination_count(categories),
                    MAX_COMBINATIONS
                ),
            ));
        }
        let exhaustive = super::model::combination_is_exhaustive(categories);
        if exhaustive && complete && combos.len() != combination_count(categories) {
            let missing = combinations(categories)
                .into_iter()
                .find(|k| !combos.iter().any(|(c, _)| c == k))
                .map(|k| k.to_string())
                .unwrap_or_default();
            return Err(err(
                missing.clone(),
                format!(
                    "give a value for every combination ({} of {} given; {missing} is missing) \
                     or for none: the categories cover everyone",
                    combos.len(),
                    combination_count(categories)
                ),
            ));
        }
        if let Some(total) = total {
            let figures: Vec<Quantity> = combos.iter().map(|(_, q)| q.clone()).collect();
            let all_given = combos.len() == combination_count(categories);
            check_disaggregation_sum(total, &figures, exhaustive && all_given).map_err(|e| {
                err(
                    first.to_string(),
                    match e {
                        ValueError::PartsDoNotAddUp {
                            total,
                            parts,
                            exhaustive: true,
                        } => format!(
                            "the combinations add up to {parts}, but the total is {total}; the \
                             categories cover everyone, so they must add up to the total"
                        ),
                        ValueError::PartsDoNotAddUp { total, parts, .. } => format!(
                            "the combinations add up to {parts}, more than the total {total}"
                        ),
                        other => other.to_string(),
                    },
                )
            })?;
        }
        return Ok(());
    }
    for d in categories {
        let cat = d.category.as_str();
        let mine: Vec<Quantity> = marginals
            .iter()
            .filter(|(k, _)| k.parts()[0].0 == cat)
            .map(|(_, q)| q.clone())
            .collect();
        if mine.is_empty() {
            continue;
        }
        if d.exhaustive && complete && mine.len() != d.options.len() {
            return Err(err(
                cat,
                format!(
                    "give every option of {cat} ({} of {} given) or none: its options cover everyone",
                    mine.len(),
                    d.options.len()
                ),
            ));
        }
        if let Some(total) = total {
            let all_given = mine.len() == d.options.len();
            check_disaggregation_sum(total, &mine, d.exhaustive && all_given)
                .map_err(|e| err(cat, e.to_string()))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::model::{DisaggregationCategory as Cat, parse_quantity};
    use crate::results::model::{Measure, Quantity};
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    fn key(s: &str) -> DisaggregationKey {
        DisaggregationKey::parse(s).unwrap()
    }

    fn n(s: &str) -> Quantity {
        parse_quantity(Measure::Number, s).unwrap()
    }

    fn pct(s: &str) -> Quantity {
        parse_quantity(Measure::Percentage, s).unwrap()
    }

    fn sex_age() -> Vec<Disaggregation> {
        vec![
            Disaggregation::default_for(Cat::Sex),
            Disaggregation::default_for(Cat::AgeGroup),
        ]
    }

    #[test]
    fn keys_are_canonical_whatever_the_order_and_spacing() {
        let k = key(" sex=female ; age_group = age_18_59");
        assert_eq!(k.to_string(), "age_group=age_18_59;sex=female");
        assert_eq!(key("age_group=age_18_59;sex=female"), k);
        assert_eq!(k.option_of("sex"), Some("female"));
        assert_eq!(k.len(), 2);
        assert!(key("").is_total());
        assert_eq!(key("").to_string(), "");
        assert_eq!(key("sex=female").to_string(), "sex=female");
        assert_eq!(
            "disability=with_disability;sex=male"
                .parse::<DisaggregationKey>()
                .unwrap()
                .to_string(),
            "disability=with_disability;sex=male"
        );
    }

    #[test]
    fn malformed_keys_are_refused_naming_what_was_found() {
        for bad in [
            "sex",
            "sex=",
            "=female",
            "sex=female;",
            "sex=fe male",
            "sex==x",
        ] {
            let e = DisaggregationKey::parse(bad).unwrap_err();
            assert!(e.contains(&format!("{bad:?}")), "{e}");
        }
        let e = DisaggregationKey::parse("sex=female;sex=male").unwrap_err();
        assert!(e.contains("sex is named twice"), "{e}");
    }

    #[test]
    fn keys_are_checked_against_the_indicators_categories() {
        let cats = sex_age();
        assert_eq!(check_key(&cats, "").unwrap().1, KeyShape::Total);
        assert_eq!(check_key(&cats, "sex=male").unwrap().1, KeyShape::Marginal);
        let (k, shape) = check_key(&cats, "sex=male;age_group=age_0_17").unwrap();
        assert_eq!(shape, KeyShape::Combination);
        assert_eq!(k.to_string(), "age_group=age_0_17;sex=male");
        let e = check_key(&cats, "nationality=x;sex=male").unwrap_err();
        assert_eq!(
            e,
            "unknown category \"nationality\" in \"nationality=x;sex=male\"; this indicator is \
             disaggregated by sex, age_group"
        );
        let e = check_key(&cats, "age_group=age_18_59;sex=woman").unwrap_err();
        assert_eq!(
            e,
            "unknown option \"woman\" of sex in \"age_group=age_18_59;sex=woman\"; expected one \
             of female, male, other_unknown"
        );
        let mut three = sex_age();
        three.push(Disaggregation::default_for(Cat::Disability));
        let e = check_key(&three, "age_group=age_18_59;sex=male").unwrap_err();
        assert!(e.contains("names 2 of the indicator's 3 categories"), "{e}");
        let e = check_key(&[], "sex=male").unwrap_err();
        assert!(e.starts_with("this indicator is not disaggregated"), "{e}");
    }

    #[test]
    fn combinations_are_the_cross_product_in_display_order() {
        let all = combinations(&sex_age());
        assert_eq!(all.len(), 9);
        assert_eq!(combination_count(&sex_age()), 9);
        assert_eq!(all[0].to_string(), "age_group=age_0_17;sex=female");
        assert_eq!(all[1].to_string(), "age_group=age_18_59;sex=female");
        assert_eq!(all[3].to_string(), "age_group=age_0_17;sex=male");
        assert_eq!(
            all[8].to_string(),
            "age_group=age_60_plus;sex=other_unknown"
        );
        let mut sorted = all.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 9);
        let one = combinations(&[Disaggregation::default_for(Cat::Sex)]);
        assert_eq!(one[0].to_string(), "sex=female");
        assert!(combinations(&[]).is_empty());
        let builtin: Vec<_> = Cat::BUILTIN
            .iter()
            .cloned()
            .map(Disaggregation::default_for)
            .collect();
        assert_eq!(combinations(&builtin).len(), 90);
    }

    #[test]
    fn marginals_are_derived_only_over_exhaustive_categories() {
        let cats = sex_age();
        assert_eq!(
            derived_keys(&cats, &key("age_group=age_18_59;sex=female"))
                .iter()
                .map(|k| k.to_string())
                .collect::<Vec<_>>(),
            ["age_group=age_18_59", "sex=female"]
        );
        // Sex × displacement status: summing over displacement status (not exhaustive) would
        // miss people, so only the displacement-status marginals are derived.
        let cats = vec![
            Disaggregation::default_for(Cat::Sex),
            Disaggregation::default_for(Cat::DisplacementStatus),
        ];
        assert_eq!(
            derived_keys(&cats, &key("displacement_status=idp;sex=female"))
                .iter()
                .map(|k| k.to_string())
                .collect::<Vec<_>>(),
            ["displacement_status=idp"]
        );
        assert!(derived_keys(&cats, &key("sex=female")).is_empty());
    }

    #[test]
    fn derived_figures_are_sums_and_percentages_sum_their_counts() {
        let cats = sex_age();
        let mut cells: Vec<(DisaggregationKey, Quantity)> = combinations(&cats)
            .into_iter()
            .map(|k| (k, pct("0/0")))
            .collect();
        cells[0].1 = pct("10/40"); // female 0–17
        cells[1].1 = pct("5/10"); // female 18–59
        cells[3].1 = pct("1/50"); // male 0–17
        let d: BTreeMap<String, Quantity> = derive(&cats, &cells)
            .into_iter()
            .map(|(k, q)| (k.to_string(), q))
            .collect();
        assert_eq!(d["sex=female"], pct("15/50"));
        assert_eq!(d["sex=male"], pct("1/50"));
        assert_eq!(d["sex=other_unknown"], pct("0/0"));
        assert_eq!(d["age_group=age_0_17"], pct("11/90"));
        assert_eq!(d["age_group=age_18_59"], pct("5/10"));
        assert_eq!(d.len(), 6);
        // Without female 60+, no figure for women nor for 60+ (a missing cell is not zero).
        cells.remove(2);
        let d: Vec<String> = derive(&cats, &cells)
            .into_iter()
            .map(|(k, _)| k.to_string())
            .collect();
        assert_eq!(
            d,
            [
                "age_group=age_0_17",
                "age_group=age_18_59",
                "sex=male",
                "sex=other_unknown"
            ]
        );
    }

    fn parts(list: &[(&str, &str)]) -> Vec<(DisaggregationKey, Quantity)> {
        list.iter().map(|(k, v)| (key(k), n(v))).collect()
    }

    fn nine(values: [&str; 9]) -> Vec<(DisaggregationKey, Quantity)> {
        combinations(&sex_age())
            .into_iter()
            .zip(values)
            .map(|(k, v)| (k, n(v)))
            .collect()
    }

    #[test]
    fn exhaustive_combinations_must_all_be_given_and_add_up_exactly() {
        let cats = sex_age();
        let cells = nine(["10", "20.5", "5", "12", "18", "4", "0", "0.5", "0"]);
        assert_eq!(check_breakdown(&cats, Some(&n("70")), &cells, true), Ok(()));
        let e = check_breakdown(&cats, Some(&n("71")), &cells, true).unwrap_err();
        assert_eq!(e.field, "age_group=age_0_17;sex=female");
        assert_eq!(
            e.message,
            "the combinations add up to 70, but the total is 71; the categories cover \
             everyone, so they must add up to the total"
        );
        let e = check_breakdown(&cats, Some(&n("70")), &cells[..8], true).unwrap_err();
        assert_eq!(e.field, "age_group=age_60_plus;sex=other_unknown");
        assert!(e.message.contains("8 of 9 given"), "{}", e.message);
        // Targets may be set for some combinations only: then at most the total.
        assert_eq!(
            check_breakdown(&cats, Some(&n("70")), &cells[..8], false),
            Ok(())
        );
        let e = check_breakdown(&cats, Some(&n("60")), &cells[..8], false).unwrap_err();
        assert!(
            e.message.contains("more than the total 60"),
            "{}",
            e.message
        );
    }

    #[test]
    fn combinations_over_a_category_that_is_not_exhaustive_add_up_to_at_most_the_total() {
        let cats = vec![
            Disaggregation::default_for(Cat::Sex),
            Disaggregation::default_for(Cat::Disability),
        ];
        let cells = parts(&[
            ("disability=with_disability;sex=female", "3"),
            ("disability=with_disability;sex=male", "2"),
        ]);
        assert_eq!(check_breakdown(&cats, Some(&n("5")), &cells, true), Ok(()));
        assert_eq!(check_breakdown(&cats, Some(&n("9")), &cells, true), Ok(()));
        let e = check_breakdown(&cats, Some(&n("4")), &cells, true).unwrap_err();
        assert_eq!(
            e.message,
            "the combinations add up to 5, more than the total 4"
        );
    }

    #[test]
    fn a_report_holds_combinations_or_marginals_not_both() {
        let cats = sex_age();
        let mut cells = nine(["1", "1", "1", "1", "1", "1", "1", "1", "1"]);
        cells.push((key("sex=female"), n("3")));
        let e = check_breakdown(&cats, Some(&n("9")), &cells, true).unwrap_err();
        assert_eq!(e.field, "sex=female");
        assert!(e.message.contains("give one or the other"), "{}", e.message);
        let twice = parts(&[("sex=female", "1"), ("sex=female", "1")]);
        let e = check_breakdown(&cats, Some(&n("9")), &twice, false).unwrap_err();
        assert_eq!(
            (e.field.as_str(), e.message.as_str()),
            ("sex=female", "given twice")
        );
    }

    #[test]
    fn marginals_keep_their_rule_per_category() {
        let cats = sex_age();
        let ok = parts(&[
            ("sex=female", "5"),
            ("sex=male", "4"),
            ("sex=other_unknown", "1"),
            ("age_group=age_0_17", "10"),
            ("age_group=age_18_59", "0"),
            ("age_group=age_60_plus", "0"),
        ]);
        assert_eq!(check_breakdown(&cats, Some(&n("10")), &ok, true), Ok(()));
        let e = check_breakdown(&cats, Some(&n("10")), &ok[..2], true).unwrap_err();
        assert_eq!(e.field, "sex");
        assert!(e.message.contains("2 of 3 given"));
        let e = check_breakdown(&cats, Some(&n("11")), &ok, true).unwrap_err();
        assert_eq!(e.field, "sex");
    }

    fn figure() -> impl Strategy<Value = Decimal> {
        (0u64..1_000_000, 0u32..3).prop_map(|(m, s)| Decimal::new(m as i64, s))
    }

    proptest! {
        /// Any nine figures make a valid report with their exact sum as the total, and any
        /// other total is refused; the derived marginals of each category add up to the
        /// total too, and each marginal is the sum of its row or column.
        #[test]
        fn exact_sums_pass_and_derived_marginals_add_up(
            values in proptest::collection::vec(figure(), 9),
            off in 1u64..1000,
        ) {
            let cats = sex_age();
            let cells: Vec<(DisaggregationKey, Quantity)> = combinations(&cats)
                .into_iter()
                .zip(values.iter().map(|v| Quantity::Number(*v)))
                .collect();
            let sum: Decimal = values.iter().sum();
            prop_assert_eq!(check_breakdown(&cats, Some(&Quantity::Number(sum)), &cells, true), Ok(()));
            let wrong = Quantity::Number(sum + Decimal::new(off as i64, 3));
            prop_assert!(check_breakdown(&cats, Some(&wrong), &cells, true).is_err());
            let derived = derive(&cats, &cells);
            prop_assert_eq!(derived.len(), 6);
            for d in &cats {
                let mine: Vec<Quantity> = derived
                    .iter()
                    .filter(|(k, _)| k.parts()[0].0 == d.category.as_str())
                    .map(|(_, q)| q.clone())
                    .collect();
                prop_assert_eq!(mine.len(), 3);
                prop_assert_eq!(check_disaggregation_sum(&Quantity::Number(sum), &mine, true), Ok(()));
            }
            for (k, q) in &derived {
                let (c, o) = &k.parts()[0];
                let by_hand: Decimal = cells
                    .iter()
                    .filter(|(ck, _)| ck.option_of(c) == Some(o.as_str()))
                    .map(|(_, q)| match q { Quantity::Number(x) => *x, _ => unreachable!() })
                    .sum();
                prop_assert_eq!(q, &Quantity::Number(by_hand));
            }
        }

        /// Parsing the canonical text gives the key back, whatever order the parts came in.
        #[test]
        fn canonical_text_round_trips(order in Just(()).prop_perturb(|_, mut rng| {
            let mut parts = ["sex=male", "age_group=age_0_17", "disability=with_disability", "nationality=td"];
            for i in (1..parts.len()).rev() {
                parts.swap(i, (rng.next_u32() as usize) % (i + 1));
            }
            parts.join(";")
        })) {
            let k = key(&order);
            prop_assert_eq!(k.to_string(), "age_group=age_0_17;disability=with_disability;nationality=td;sex=male");
            prop_assert_eq!(key(&k.to_string()), k);
        }
    }
}
