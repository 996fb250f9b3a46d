//! Mergeable statistics of leaf values, for roll-ups kept as stored cells.
//!
//! The store keeps, per unit (or programme), window and disaggregation, the [`Partial`] of the
//! time-aggregated values of the project indicators there: how many, their sums, the lowest and
//! the highest. Partials merge exactly, so a region is the merge of its units' cells and the
//! world the merge of all; finishing a merged partial by the unit operator gives what
//! aggregating all those leaves at once gives ([`super::aggregate`]), which the property test
//! below checks for every aggregation type.

use super::aggregate::Figure;
use super::model::UnitOperator;
use rust_decimal::Decimal;

/// Count, sums and extremes of a set of leaf values.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Partial {
    /// Leaves with a value.
    pub leaves: i64,
    /// Sum of the numbers, or of the numerators.
    pub n: Decimal,
    /// Sum of the denominators (fractions only).
    pub d: Decimal,
    /// The values are fractions (percentages).
    pub fraction: bool,
    pub min: Option<Figure>,
    pub max: Option<Figure>,
}

/// The figure compared for min and max: the number, or the ratio (none for 0/0).
fn rank(f: &Figure) -> Option<Decimal> {
    match *f {
        Figure::Number(n) => Some(n),
        Figure::Fraction {
            numerator,
            denominator,
        } => (!denominator.is_zero())
            .then(|| numerator.checked_div(denominator))
            .flatten(),
    }
}

/// Orders figures of equal rank (0/1 and 0/2): the smaller denominator, then numerator.
fn tie(f: &Figure) -> (Decimal, Decimal) {
    match *f {
        Figure::Number(n) => (Decimal::ZERO, n),
        Figure::Fraction {
            numerator,
            denominator,
        } => (denominator, numerator),
    }
}

/// Keeps the lower (or higher) ranked figure; on a tie of rank, the one with the smaller
/// [`tie`] key, so that the kept figure does not depend on the order leaves come in (a cell
/// built at once and one built by merges keep the same figure).
fn keep(slot: &mut Option<Figure>, candidate: Figure, lower: bool) {
    let Some(r) = rank(&candidate) else { return };
    let better = match slot.and_then(|s| rank(&s).map(|k| (s, k))) {
        None => true,
        Some((current, k)) => {
            if r == k {
                tie(&candidate) < tie(&current)
            } else if lower {
                r < k
            } else {
                r > k
            }
        }
    };
    if better {
        *slot = Some(candidate);
    }
}

impl Partial {
    /// Adds one leaf's value.
    pub fn add(&mut self, f: Figure) {
        self.leaves += 1;
        match f {
            Figure::Number(n) => self.n += n,
            Figure::Fraction {
                numerator,
                denominator,
            } => {
                self.fraction = true;
                self.n += numerator;
                self.d += denominator;
            }
        }
        keep(&mut self.min, f, true);
        keep(&mut self.max, f, false);
    }

    /// Adds another set of leaves.
    pub fn merge(&mut self, o: &Partial) {
        if o.leaves == 0 {
            return;
        }
        self.leaves += o.leaves;
        self.n += o.n;
        self.d += o.d;
        self.fraction |= o.fraction;
        if let Some(m) = o.min {
            keep(&mut self.min, m, true);
        }
        if let Some(m) = o.max {
            keep(&mut self.max, m, false);
        }
    }

    /// Takes out leaves that were added to this partial (`o` is their partial): the count
    /// and the sums exactly. Returns `false` when the leaves taken out may have held this
    /// partial's lowest or highest figure (or do not fit in it): only the remaining leaves can
    /// tell the new extremes, so the caller must recompute the partial from them.
    #[must_use]
    pub fn subtract(&mut self, o: &Partial) -> bool {
        if o.leaves == 0 {
            return true;
        }
        self.leaves -= o.leaves;
        self.n -= o.n;
        self.d -= o.d;
        let held = |mine: Option<Figure>, theirs: Option<Figure>, lower: bool| match (
            theirs.as_ref().and_then(rank),
            mine.as_ref().and_then(rank),
        ) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(t), Some(m)) => {
                if lower {
                    t <= m
                } else {
                    t >= m
                }
            }
        };
        self.leaves >= 0 && !held(self.min, o.min, true) && !held(self.max, o.max, false)
    }

    /// Replaces leaves counted in this partial (`old` is their partial) by their new values
    /// (`new`): the count and the sums exactly. Returns `false` when the result cannot be
    /// told without the other leaves: the old values held this partial's lowest (or highest)
    /// figure and the new ones do not reach it (a figure ranked lower, or higher, or the very
    /// same figure). When every leaf is replaced, the result is `new`.
    #[must_use]
    pub fn replace(&mut self, old: &Partial, new: &Partial) -> bool {
        let mut rest = *self;
        rest.leaves -= old.leaves;
        rest.n -= old.n;
        rest.d -= old.d;
        if rest.leaves < 0 {
            return false;
        }
        if rest.leaves == 0 {
            let mut out = Partial {
                fraction: self.fraction,
                ..Partial::default()
            };
            out.merge(new);
            *self = out;
            return true;
        }
        // An extreme is known if the old leaves did not hold it, or if the new leaves hold
        // one ranked beyond it, or the same figure.
        let known = |mine: Option<Figure>, theirs: Option<Figure>, new: Option<Figure>, lower| {
            let held = match (theirs.as_ref().and_then(rank), mine.as_ref().and_then(rank)) {
                (None, _) => false,
                (Some(_), None) => true,
                (Some(t), Some(m)) => {
                    if lower {
                        t <= m
                    } else {
                        t >= m
                    }
                }
            };
            if !held {
                return true;
            }
            let (Some(n), Some(m)) = (new, mine) else {
                return false;
            };
            match (rank(&n), rank(&m)) {
                (Some(a), Some(b)) if a == b => tie(&n) <= tie(&m),
                (Some(a), Some(b)) => {
                    if lower {
                        a < b
                    } else {
                        a > b
                    }
                }
                _ => false,
            }
        };
        if !known(self.min, old.min, new.min, true) || !known(self.max, old.max, new.max, false) {
            return false;
        }
        rest.merge(new);
        *self = rest;
        true
    }

    /// The group's value by `op`; `None` when no leaf had a value (missing is not zero).
    pub fn finish(&self, op: UnitOperator) -> Option<Figure> {
        if self.leaves == 0 {
            return None;
        }
        let figure = |n: Decimal, d: Decimal| {
            if self.fraction {
                Figure::Fraction {
                    numerator: n,
                    denominator: d,
                }
            } else {
                Figure::Number(n)
            }
        };
        match op {
            UnitOperator::Sum => Some(figure(self.n, self.d)),
            UnitOperator::Average => {
                let k = Decimal::from(self.leaves);
                Some(figure(self.n / k, self.d / k))
            }
            UnitOperator::Min => self.min,
            UnitOperator::Max => self.max,
            UnitOperator::None => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::aggregate::{Rules, aggregate};
    use crate::results::model::{AggregationType, Measure};
    use proptest::prelude::*;

    fn figure(percentage: bool) -> BoxedStrategy<Figure> {
        if percentage {
            (0i64..300, 0i64..300)
                .prop_map(|(a, b)| Figure::Fraction {
                    numerator: Decimal::from(a.min(b)),
                    denominator: Decimal::from(a.max(b)),
                })
                .boxed()
        } else {
            (0i64..100_000, 0u32..3)
                .prop_map(|(v, s)| Figure::Number(Decimal::new(v, s)))
                .boxed()
        }
    }

    fn close(a: Option<Figure>, b: Option<Figure>) -> bool {
        let tiny = Decimal::new(1, 20);
        match (a, b) {
            (None, None) => true,
            (Some(Figure::Number(x)), Some(Figure::Number(y))) => (x - y).abs() <= tiny,
            (
                Some(Figure::Fraction {
                    numerator: n1,
                    denominator: d1,
                }),
                Some(Figure::Fraction {
                    numerator: n2,
                    denominator: d2,
                }),
            ) => (n1 - n2).abs() <= tiny && (d1 - d2).abs() <= tiny,
            _ => false,
        }
    }

    fn case() -> impl Strategy<Value = (AggregationType, bool, Vec<(usize, Figure)>)> {
        (
            proptest::sample::select(AggregationType::ALL.to_vec()),
            any::<bool>(),
        )
            .prop_flat_map(|(aggregation, percentage)| {
                (
                    Just(aggregation),
                    Just(percentage),
                    proptest::collection::vec((0usize..5, figure(percentage)), 0..30),
                )
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]
        /// Leaves spread over groups (units): merging the groups' partials and finishing
        /// gives what aggregating all the leaves across units at once gives, for every type.
        #[test]
        fn merged_partials_equal_aggregating_every_leaf((aggregation, percentage, leaves) in case()) {
            let measure = if percentage { Measure::Percentage } else { Measure::Number };
            let rules = Rules { aggregation, measure, cumulative: false };
            // One period per leaf: the time step keeps the value, except `count`, which
            // counts it.
            let leaf_value = |f: Figure| {
                if aggregation == AggregationType::Count {
                    Figure::Number(Decimal::ONE)
                } else {
                    f
                }
            };
            let mut groups = [Partial::default(); 5];
            for (g, f) in &leaves {
                groups[*g].add(leaf_value(*f));
            }
            let mut all = Partial::default();
            for g in &groups {
                all.merge(g);
            }
            let expected = aggregate(
                rules,
                0..1,
                leaves.iter().enumerate().map(|(leaf, (_, f))| (leaf, 0usize, *f)),
            )
            .overall;
            let op = if aggregation.is_aggregatable() {
                aggregation.across_units()
            } else {
                UnitOperator::None
            };
            let got = all.finish(op);
            if matches!(op, UnitOperator::Min | UnitOperator::Max) {
                // Ties between equal rates (0/1 and 0/2) may keep either figure: compare rates.
                prop_assert_eq!(
                    got.as_ref().and_then(rank),
                    expected.as_ref().and_then(rank),
                    "{}: {:?} vs {:?}", aggregation, got, expected
                );
            } else {
                prop_assert!(close(got, expected), "{aggregation}: {got:?} vs {expected:?}");
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1000))]
        /// Taking a group's leaves out of the merge of all groups gives the merge of the
        /// others: the count and sums always, the extremes whenever `subtract` says it kept
        /// them; and merges keep the same extremes whatever the order.
        #[test]
        fn subtracting_a_group_gives_the_merge_of_the_others((_, percentage, leaves) in case(), out in 0usize..5) {
            let mut groups = [Partial::default(); 5];
            for (g, f) in &leaves {
                groups[*g].add(*f);
            }
            let mut all = Partial::default();
            let mut reversed = Partial::default();
            let mut others = Partial::default();
            for (g, p) in groups.iter().enumerate() {
                all.merge(p);
                if g != out {
                    others.merge(p);
                }
            }
            for (_, f) in leaves.iter().rev() {
                reversed.add(*f);
            }
            prop_assert_eq!((all.min, all.max), (reversed.min, reversed.max));
            let mut left = all;
            let kept = left.subtract(&groups[out]);
            prop_assert_eq!((left.leaves, left.n, left.d), (others.leaves, others.n, others.d));
            if kept {
                prop_assert_eq!((left.min, left.max), (others.min, others.max));
            } else {
                prop_assert!(groups[out].leaves > 0);
            }
            let _ = percentage;
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        /// Replacing one group's leaves by new values gives what merging the others with the
        /// new values gives: the count and sums always, the extremes whenever `replace` says
        /// it could tell them, and it can whenever the group held no extreme.
        #[test]
        fn replacing_a_group_gives_the_merge_of_the_others_with_the_new_values(
            (_, percentage, leaves) in case(),
            out in 0usize..5,
            changed in proptest::collection::vec((any::<bool>(), 0i64..300, 0i64..300), 0..8),
        ) {
            let mut groups = [Partial::default(); 5];
            for (g, f) in &leaves {
                groups[*g].add(*f);
            }
            // The group's new values: some kept, some changed, some gone, some added.
            let mut new = Partial::default();
            let theirs: Vec<Figure> = leaves.iter().filter(|(g, _)| *g == out).map(|(_, f)| *f).collect();
            for (i, f) in theirs.iter().enumerate() {
                match changed.get(i) {
                    None => new.add(*f),
                    Some((false, ..)) => {}
                    Some((true, a, b)) => new.add(if percentage {
                        Figure::Fraction { numerator: Decimal::from(*a.min(b)), denominator: Decimal::from(*a.max(b)) }
                    } else {
                        Figure::Number(Decimal::from(*a))
                    }),
                }
            }
            for (keep, a, b) in changed.iter().skip(theirs.len()) {
                if *keep {
                    new.add(if percentage {
                        Figure::Fraction { numerator: Decimal::from(*a.min(b)), denominator: Decimal::from(*a.max(b)) }
                    } else {
                        Figure::Number(Decimal::from(*a))
                    });
                }
            }
            let mut all = Partial::default();
            let mut expected = Partial::default();
            for (g, p) in groups.iter().enumerate() {
                all.merge(p);
                if g != out {
                    expected.merge(p);
                }
            }
            expected.merge(&new);
            let mut got = all;
            let mut held = all;
            let kept = held.subtract(&groups[out]);
            if got.replace(&groups[out], &new) {
                prop_assert_eq!(
                    (got.leaves, got.n, got.d, got.min, got.max),
                    (expected.leaves, expected.n, expected.d, expected.min, expected.max)
                );
            } else {
                prop_assert!(!kept, "replace refused although the group held no extreme");
            }
        }
    }

    #[test]
    fn replacing_keeps_an_extreme_only_when_the_new_values_tell_it() {
        let n = |v: i64| Figure::Number(Decimal::from(v));
        let of = |vs: &[i64]| {
            let mut p = Partial::default();
            for v in vs {
                p.add(n(*v));
            }
            p
        };
        // The old value held the highest: a higher new value is the highest.
        let mut p = of(&[1, 5, 9]);
        assert!(p.replace(&of(&[9]), &of(&[12])));
        assert_eq!(p, of(&[1, 5, 12]));
        // The same value again: still the highest.
        let mut p = of(&[1, 5, 9]);
        assert!(p.replace(&of(&[9]), &of(&[9])));
        assert_eq!(p, of(&[1, 5, 9]));
        // A lower one: the others' highest is not known.
        let mut p = of(&[1, 5, 9]);
        assert!(!p.replace(&of(&[9]), &of(&[7])));
        // Gone: not known either.
        let mut p = of(&[1, 5, 9]);
        assert!(!p.replace(&of(&[9]), &Partial::default()));
        // Neither extreme held: known whatever the new value.
        let mut p = of(&[1, 5, 9]);
        assert!(p.replace(&of(&[5]), &Partial::default()));
        assert_eq!(p, of(&[1, 9]));
        // Every leaf replaced: the new values.
        let mut p = of(&[4]);
        assert!(p.replace(&of(&[4]), &of(&[2])));
        assert_eq!(p, of(&[2]));
    }

    #[test]
    fn percentages_merge_by_numerators_and_denominators() {
        let mut a = Partial::default();
        a.add(Figure::Fraction {
            numerator: Decimal::from(30),
            denominator: Decimal::from(100),
        });
        let mut b = Partial::default();
        b.add(Figure::Fraction {
            numerator: Decimal::from(50),
            denominator: Decimal::from(200),
        });
        a.merge(&b);
        assert_eq!(
            a.finish(UnitOperator::Sum),
            Some(Figure::Fraction {
                numerator: Decimal::from(80),
                denominator: Decimal::from(300)
            })
        );
        assert_eq!(
            a.finish(UnitOperator::Min),
            Some(Figure::Fraction {
                numerator: Decimal::from(50),
                denominator: Decimal::from(200)
            })
        );
        assert_eq!(Partial::default().finish(UnitOperator::Sum), None);
    }
}
