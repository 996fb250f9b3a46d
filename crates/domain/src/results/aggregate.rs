//! The aggregation maths of indicators: from the values of many leaves (projects, offices) over
//! many periods to one figure per group, per period and over a window, as DHIS2 does it; and
//! achievement against a target. No I/O.
//!
//! # The two steps
//!
//! 1. **Across time, within each leaf**, by the type's [`TimeOperator`]: a project's monthly
//!    values become its value for the quarter or the year (sum, average, last, …).
//! 2. **Across leaves**, by the type's [`UnitOperator`]: the per-project values become the
//!    programme's, the office's or the world's.
//!
//! Every level is aggregated from the leaves, never from the level below's aggregates: the
//! average of office averages is not the average of projects.
//!
//! # Rules that are easy to get wrong
//!
//! - **Missing is not zero.** A group where nothing was reported has no value (`None`), and a
//!   leaf without a value is left out of averages and counts rather than counted as 0.
//! - **Percentages** aggregate their numerators and denominators separately and divide at the
//!   end: 30/100 and 50/200 make 80/300, never the average of 30 % and 25 %.
//! - **Cumulative indicators** (each period's value is the running total since the start) take
//!   the latest value over a window, carried forward from earlier periods; summing them counts
//!   the same people again every period (Akvo RSR issues #5211 and #5212). Targets follow the
//!   same rules as actuals: a cumulative target is the last period's target, others combine
//!   by the type (a `sum` indicator's yearly target is the sum of its quarterly targets).
//! - **Missing periods**: `last` carries the latest earlier value forward, `last_in_period`
//!   does not, `sum` and `average` use what is there, `count` counts what is there.
//!
//! # Streaming
//!
//! A global roll-up reads hundreds of thousands of rows; [`Accumulator`] (one group) and
//! [`Rollup`] (many groups, e.g. each office and its ancestors) take rows one at a time in
//! leaf order (`ORDER BY project`), keep memory in the number of periods (plus one entry per
//! group), and do a constant amount of work per row and per (leaf, period) — linear in the
//! input. [`aggregate`] wraps them for small, unordered inputs.

use super::model::Direction;
use super::model::{AggregationType, Measure, Quantity, TimeOperator, UnitOperator, percent};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::hash::Hash;
use std::ops::Range;

/// A figure that can be aggregated: a number, or a percentage as its two counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Figure {
    Number(Decimal),
    Fraction {
        numerator: Decimal,
        denominator: Decimal,
    },
}

impl Figure {
    /// The figure of a reported value; text has none.
    pub fn from_quantity(q: &Quantity) -> Option<Figure> {
        match q {
            Quantity::Number(n) => Some(Figure::Number(*n)),
            Quantity::Percentage {
                numerator,
                denominator,
            } => Some(Figure::Fraction {
                numerator: *numerator,
                denominator: *denominator,
            }),
            Quantity::Text(_) => None,
        }
    }

    /// The number, or the percentage (0–100) of a fraction; `None` for a fraction over zero.
    pub fn value(&self) -> Option<Decimal> {
        match *self {
            Figure::Number(n) => Some(n),
            Figure::Fraction {
                numerator,
                denominator,
            } => percent(numerator, denominator),
        }
    }

    /// The figure compared in `min` and `max`: the number, or the fraction's ratio (none for
    /// 0/0, which is then left out: nothing counted is neither a low nor a high rate).
    fn rank(&self) -> Option<Decimal> {
        match *self {
            Figure::Number(n) => Some(n),
            Figure::Fraction {
                numerator,
                denominator,
            } => {
                if denominator.is_zero() {
                    None
                } else {
                    numerator.checked_div(denominator)
                }
            }
        }
    }
}

/// How one indicator aggregates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Rules {
    pub aggregation: AggregationType,
    pub measure: Measure,
    /// Each period's value is the running total since the start of the project.
    pub cumulative: bool,
}

impl Rules {
    /// The operator across time. A cumulative indicator always takes the latest value (carried
    /// forward), whatever its type, because its periods overlap: the exceptions are `count`,
    /// which counts reports, and `none`.
    pub fn time_operator(&self) -> TimeOperator {
        let op = self.aggregation.across_time();
        if self.cumulative && !matches!(op, TimeOperator::Count | TimeOperator::None) {
            TimeOperator::Last
        } else {
            op
        }
    }

    /// The operator across leaves (the type's; cumulativeness changes only the time step).
    pub fn unit_operator(&self) -> UnitOperator {
        self.aggregation.across_units()
    }

    /// Whether aggregation yields anything: not for `none`, nor for qualitative values.
    pub fn is_aggregatable(&self) -> bool {
        self.aggregation.is_aggregatable() && self.measure.is_quantitative()
    }
}

/// The result for one group: over the whole window, and for each period of the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aggregate {
    /// The value over the whole window; `None` when nothing was reported.
    pub overall: Option<Figure>,
    /// One entry per period of the window, in order (`series[0]` is the window's first period).
    pub series: Vec<Option<Figure>>,
}

/// Rows of one leaf must come together: this leaf came after others and had already been seen
/// (rows are expected in increasing leaf order, e.g. `ORDER BY project`).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "rows are not in leaf order: leaf {leaf} came after {after}; sort the rows by leaf \
     (e.g. ORDER BY project) before aggregating"
)]
pub struct OutOfOrder {
    pub leaf: String,
    pub after: String,
}

// ---------------------------------------------------------------------------------------------
// Step 1: across time, within one leaf

/// An exact running sum of decimals in a 128-bit integer at the largest scale seen: an addition
/// is one integer addition (a `Decimal` addition aligns scales every time), which is what makes
/// a roll-up of millions of rows fast. Values are never negative here (see
/// [`super::model::parse_figure`]), so when the final sum fits a `Decimal` every partial sum
/// did too, and the result equals adding the `Decimal`s one by one. Should a sum ever leave
/// the 128 bits (figures near 10^15 mixed with 28-digit fractions), it goes on in `Decimal`.
#[derive(Debug, Clone, Copy)]
struct ExactSum {
    mantissa: i128,
    scale: u32,
    /// Set once the integer would overflow; the sum continues here.
    spill: Option<Decimal>,
}

impl ExactSum {
    const ZERO: ExactSum = ExactSum {
        mantissa: 0,
        scale: 0,
        spill: None,
    };

    #[inline]
    fn add(&mut self, value: Decimal) {
        if let Some(spill) = &mut self.spill {
            *spill += value;
            return;
        }
        let (m, s) = (value.mantissa(), value.scale());
        let ok = if s == self.scale {
            self.mantissa.checked_add(m)
        } else if s > self.scale {
            10i128
                .checked_pow(s - self.scale)
                .and_then(|f| self.mantissa.checked_mul(f))
                .and_then(|total| total.checked_add(m))
                .inspect(|_| self.scale = s)
        } else {
            10i128
                .checked_pow(self.scale - s)
                .and_then(|f| m.checked_mul(f))
                .and_then(|m| self.mantissa.checked_add(m))
        };
        match ok {
            Some(total) => self.mantissa = total,
            None => self.spill = Some(self.to_decimal() + value),
        }
    }

    fn to_decimal(self) -> Decimal {
        if let Some(spill) = self.spill {
            return spill;
        }
        let (mut m, mut scale) = (self.mantissa, self.scale);
        // Too many digits for a Decimal: drop the last ones, rounding half to even.
        while Decimal::try_from_i128_with_scale(m, scale).is_err() && scale > 0 {
            let (q, r) = (m / 10, m % 10);
            m = if r > 5 || (r == 5 && q % 2 != 0) {
                q + 1
            } else {
                q
            };
            scale -= 1;
        }
        Decimal::try_from_i128_with_scale(m, scale).expect("sums of figures below 10^15 fit")
    }
}

/// The state of one operator over a set of values. Small and `Copy`, so one per period can be
/// reset cheaply.
#[derive(Debug, Clone, Copy)]
struct Fold {
    n: ExactSum,
    d: ExactSum,
    count: u64,
    fraction: bool,
    /// For last/min/max: the chosen figure, with its period for last.
    best: Option<(usize, Figure)>,
}

impl Fold {
    const EMPTY: Fold = Fold {
        n: ExactSum::ZERO,
        d: ExactSum::ZERO,
        count: 0,
        fraction: false,
        best: None,
    };

    fn add_sum(&mut self, f: Figure) {
        match f {
            Figure::Number(n) => self.n.add(n),
            Figure::Fraction {
                numerator,
                denominator,
            } => {
                self.n.add(numerator);
                self.d.add(denominator);
                self.fraction = true;
            }
        }
        self.count += 1;
    }

    /// Keeps the latest period; on a tie, the later row (a correction pushed after).
    fn add_last(&mut self, period: usize, f: Figure) {
        self.count += 1;
        if self.best.is_none_or(|(p, _)| period >= p) {
            self.best = Some((period, f));
        }
    }

    /// Keeps the lowest (or highest) rank; on a tie, the first seen.
    fn add_extreme(&mut self, f: Figure, max: bool) {
        let Some(rank) = f.rank() else { return };
        self.count += 1;
        let better = match self.best.and_then(|(_, b)| b.rank()) {
            None => true,
            Some(b) => {
                if max {
                    rank > b
                } else {
                    rank < b
                }
            }
        };
        if better {
            self.best = Some((0, f));
        }
    }

    fn sum(&self) -> Option<Figure> {
        (self.count > 0).then(|| self.figure(self.n.to_decimal(), self.d.to_decimal()))
    }

    fn average(&self) -> Option<Figure> {
        match self.count {
            0 => None,
            // The usual case of one value per period: no division.
            1 => self.sum(),
            k => {
                let k = Decimal::from(k);
                Some(self.figure(self.n.to_decimal() / k, self.d.to_decimal() / k))
            }
        }
    }

    fn figure(&self, n: Decimal, d: Decimal) -> Figure {
        if self.fraction {
            Figure::Fraction {
                numerator: n,
                denominator: d,
            }
        } else {
            Figure::Number(n)
        }
    }

    fn push_time(&mut self, op: TimeOperator, period: usize, f: Figure) {
        match op {
            TimeOperator::Sum | TimeOperator::Average => self.add_sum(f),
            TimeOperator::Last | TimeOperator::LastInPeriod => self.add_last(period, f),
            TimeOperator::Min => self.add_extreme(f, false),
            TimeOperator::Max => self.add_extreme(f, true),
            TimeOperator::Count => self.count += 1,
            TimeOperator::None => {}
        }
    }

    fn finish_time(&self, op: TimeOperator) -> Option<Figure> {
        match op {
            TimeOperator::Sum => self.sum(),
            TimeOperator::Average => self.average(),
            TimeOperator::Last
            | TimeOperator::LastInPeriod
            | TimeOperator::Min
            | TimeOperator::Max => self.best.map(|(_, f)| f),
            TimeOperator::Count => (self.count > 0).then(|| Figure::Number(self.count.into())),
            TimeOperator::None => None,
        }
    }

    fn push_unit(&mut self, op: UnitOperator, f: Figure) {
        match op {
            UnitOperator::Sum | UnitOperator::Average => self.add_sum(f),
            UnitOperator::Min => self.add_extreme(f, false),
            UnitOperator::Max => self.add_extreme(f, true),
            UnitOperator::None => {}
        }
    }

    fn finish_unit(&self, op: UnitOperator) -> Option<Figure> {
        match op {
            UnitOperator::Sum => self.sum(),
            UnitOperator::Average => self.average(),
            UnitOperator::Min | UnitOperator::Max => self.best.map(|(_, f)| f),
            UnitOperator::None => None,
        }
    }
}

/// The time step for one leaf at a time, reusing its buffers from leaf to leaf.
#[derive(Debug, Clone)]
struct LeafFold {
    op: TimeOperator,
    window: Range<usize>,
    overall: Fold,
    /// One fold per period of the window; only the touched ones are reset.
    periods: Vec<Fold>,
    touched: Vec<usize>,
    is_touched: Vec<bool>,
    /// For `last`: the latest value before the window (carried into it).
    before: Fold,
    any: bool,
    /// The leaf's values per period of the window, filled by `close`.
    series: Vec<Option<Figure>>,
}

impl LeafFold {
    fn new(rules: &Rules, window: Range<usize>) -> LeafFold {
        let op = if rules.is_aggregatable() {
            rules.time_operator()
        } else {
            TimeOperator::None
        };
        let len = window.len();
        LeafFold {
            op,
            window,
            overall: Fold::EMPTY,
            periods: vec![Fold::EMPTY; len],
            touched: Vec::new(),
            is_touched: vec![false; len],
            before: Fold::EMPTY,
            any: false,
            series: vec![None; len],
        }
    }

    fn push(&mut self, period: usize, f: Figure) {
        if period >= self.window.end || self.op == TimeOperator::None {
            return;
        }
        self.any = true;
        if period < self.window.start {
            if self.op == TimeOperator::Last {
                self.before.add_last(period, f);
            }
            return;
        }
        self.overall.push_time(self.op, period, f);
        let i = period - self.window.start;
        if !self.is_touched[i] {
            self.is_touched[i] = true;
            self.touched.push(i);
        }
        self.periods[i].push_time(self.op, period, f);
    }

    /// Ends the leaf: returns its overall value and fills `self.series`; `None` when the leaf
    /// had no row that counts (so that it adds nothing to the groups).
    fn close(&mut self) -> Option<Option<Figure>> {
        if !self.any {
            return None;
        }
        let overall = if self.op == TimeOperator::Last && self.overall.best.is_none() {
            self.before.best.map(|(_, f)| f)
        } else {
            self.overall.finish_time(self.op)
        };
        if self.op == TimeOperator::Last {
            let mut carry = self.before.best.map(|(_, f)| f);
            for (slot, fold) in self.series.iter_mut().zip(&self.periods) {
                if let Some((_, f)) = fold.best {
                    carry = Some(f);
                }
                *slot = carry;
            }
        } else {
            for slot in self.series.iter_mut() {
                *slot = None;
            }
            for &i in &self.touched {
                self.series[i] = self.periods[i].finish_time(self.op);
            }
        }
        for &i in &self.touched {
            self.periods[i] = Fold::EMPTY;
            self.is_touched[i] = false;
        }
        self.touched.clear();
        self.overall = Fold::EMPTY;
        self.before = Fold::EMPTY;
        self.any = false;
        Some(overall)
    }
}

// ---------------------------------------------------------------------------------------------
// Step 2: across leaves

/// The unit step for one group: the overall value and one value per period.
#[derive(Debug, Clone)]
struct GroupFold {
    overall: Fold,
    series: Vec<Fold>,
}

impl GroupFold {
    fn new(len: usize) -> GroupFold {
        GroupFold {
            overall: Fold::EMPTY,
            series: vec![Fold::EMPTY; len],
        }
    }

    fn add_leaf(&mut self, op: UnitOperator, overall: Option<Figure>, series: &[Option<Figure>]) {
        if let Some(f) = overall {
            self.overall.push_unit(op, f);
        }
        for (fold, value) in self.series.iter_mut().zip(series) {
            if let Some(f) = value {
                fold.push_unit(op, *f);
            }
        }
    }

    fn finish(&self, op: UnitOperator) -> Aggregate {
        Aggregate {
            overall: self.overall.finish_unit(op),
            series: self.series.iter().map(|f| f.finish_unit(op)).collect(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Public streaming API

/// Aggregates the rows of one group (a programme, an office) over a window of periods.
///
/// Periods are indices into a calendar the caller chooses (e.g. months since 2000-01); the
/// window is a range of them. Rows before the window are used only to carry a `last` value
/// forward into it; rows after it are ignored. Push rows in leaf order (all rows of a leaf
/// together, leaves increasing); within a leaf, periods may come in any order.
#[derive(Debug, Clone)]
pub struct Accumulator<K> {
    rules: Rules,
    leaf: Option<K>,
    fold: LeafFold,
    group: GroupFold,
}

impl<K: Ord + Clone + std::fmt::Debug> Accumulator<K> {
    pub fn new(rules: Rules, window: Range<usize>) -> Accumulator<K> {
        let len = window.len();
        Accumulator {
            rules,
            leaf: None,
            fold: LeafFold::new(&rules, window),
            group: GroupFold::new(len),
        }
    }

    /// Adds one value of `leaf` in `period`.
    pub fn push(&mut self, leaf: &K, period: usize, value: Figure) -> Result<(), OutOfOrder> {
        match &self.leaf {
            Some(current) if current == leaf => {}
            Some(current) if current > leaf => {
                return Err(OutOfOrder {
                    leaf: format!("{leaf:?}"),
                    after: format!("{current:?}"),
                });
            }
            _ => {
                self.close_leaf();
                self.leaf = Some(leaf.clone());
            }
        }
        self.fold.push(period, value);
        Ok(())
    }

    fn close_leaf(&mut self) {
        if let Some(overall) = self.fold.close() {
            self.group
                .add_leaf(self.rules.unit_operator(), overall, &self.fold.series);
        }
    }

    /// The group's values.
    pub fn finish(mut self) -> Aggregate {
        self.close_leaf();
        self.group.finish(self.unit_op())
    }

    fn unit_op(&self) -> UnitOperator {
        if self.rules.is_aggregatable() {
            self.rules.unit_operator()
        } else {
            UnitOperator::None
        }
    }
}

/// Aggregates rows into many groups at once: each leaf belongs to several groups (its
/// programme, its country office, the regional office, the world), and its time step is done
/// once and added to each of them. Each group is aggregated from the leaves, so averages are
/// right at every level.
#[derive(Debug, Clone)]
pub struct Rollup<G, K> {
    rules: Rules,
    leaf: Option<K>,
    leaf_groups: Vec<G>,
    fold: LeafFold,
    groups: HashMap<G, GroupFold>,
    len: usize,
}

impl<G: Hash + Eq + Clone, K: Ord + Clone + std::fmt::Debug> Rollup<G, K> {
    pub fn new(rules: Rules, window: Range<usize>) -> Rollup<G, K> {
        let len = window.len();
        Rollup {
            rules,
            leaf: None,
            leaf_groups: Vec::new(),
            fold: LeafFold::new(&rules, window),
            groups: HashMap::new(),
            len,
        }
    }

    /// Adds one value of `leaf` in `period`; `groups` are the groups the leaf counts in (taken
    /// from the leaf's first row).
    pub fn push(
        &mut self,
        leaf: &K,
        groups: &[G],
        period: usize,
        value: Figure,
    ) -> Result<(), OutOfOrder> {
        match &self.leaf {
            Some(current) if current == leaf => {}
            Some(current) if current > leaf => {
                return Err(OutOfOrder {
                    leaf: format!("{leaf:?}"),
                    after: format!("{current:?}"),
                });
            }
            _ => {
                self.close_leaf();
                self.leaf = Some(leaf.clone());
                self.leaf_groups.clear();
                self.leaf_groups.extend_from_slice(groups);
            }
        }
        self.fold.push(period, value);
        Ok(())
    }

    fn close_leaf(&mut self) {
        if let Some(overall) = self.fold.close() {
            let op = self.rules.unit_operator();
            for g in &self.leaf_groups {
                let len = self.len;
                self.groups
                    .entry(g.clone())
                    .or_insert_with(|| GroupFold::new(len))
                    .add_leaf(op, overall, &self.fold.series);
            }
        }
    }

    /// The values of every group that had a leaf with rows.
    pub fn finish(mut self) -> HashMap<G, Aggregate> {
        self.close_leaf();
        let op = if self.rules.is_aggregatable() {
            self.rules.unit_operator()
        } else {
            UnitOperator::None
        };
        self.groups
            .into_iter()
            .map(|(g, fold)| (g, fold.finish(op)))
            .collect()
    }
}

/// Aggregates a small set of rows in any order (sorts them by leaf, keeping their order within
/// a leaf). For the results page of one project or programme; the store's roll-ups stream
/// sorted rows into an [`Accumulator`] or a [`Rollup`] instead.
pub fn aggregate<K: Ord + Clone + std::fmt::Debug>(
    rules: Rules,
    window: Range<usize>,
    rows: impl IntoIterator<Item = (K, usize, Figure)>,
) -> Aggregate {
    let mut rows: Vec<(K, usize, Figure)> = rows.into_iter().collect();
    rows.sort_by(|a, b| a.0.cmp(&b.0));
    let mut acc = Accumulator::new(rules, window);
    for (leaf, period, value) in &rows {
        acc.push(leaf, *period, *value)
            .expect("rows were sorted by leaf");
    }
    acc.finish()
}

// ---------------------------------------------------------------------------------------------
// Achievement

/// Achievement as a percentage of the way from the baseline to the target, right for both
/// directions: baseline 40 % stunting, target 20 %, actual 30 % → (30 − 40) / (20 − 40) = 50 %.
/// Results are not clipped: above 100 % the target was passed, below 0 % things got worse
/// than the baseline.
///
/// - **No baseline**, ascending: the baseline is taken as zero (a project that starts from
///   nothing, e.g. people assisted), so achievement is `actual / target`; `None` if the target
///   is zero.
/// - **No baseline**, descending: `None`. Zero is the best value of a descending indicator, not
///   its starting point, and progress towards a reduction cannot be measured without knowing
///   where it started; the page shows "baseline needed".
/// - **Target equal to the baseline** (keep a level): 100 % when the actual is at the target or
///   better in the indicator's direction, 0 % otherwise.
///
/// `None` also when a figure is too large to compute with.
pub fn achievement(
    baseline: Option<Decimal>,
    target: Decimal,
    actual: Decimal,
    direction: Direction,
) -> Option<Decimal> {
    let hundred = Decimal::ONE_HUNDRED;
    match baseline {
        Some(b) if b == target => {
            let kept = match direction {
                Direction::Ascending => actual >= target,
                Direction::Descending => actual <= target,
            };
            Some(if kept { hundred } else { Decimal::ZERO })
        }
        Some(b) => actual
            .checked_sub(b)?
            .checked_mul(hundred)?
            .checked_div(target.checked_sub(b)?),
        None => match direction {
            Direction::Ascending if !target.is_zero() => {
                actual.checked_mul(hundred)?.checked_div(target)
            }
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests;
