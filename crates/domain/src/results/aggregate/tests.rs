//! Aggregation: hand-worked examples a reader can check, and property tests against a plain
//! reference implementation written from the definitions, with loops and nothing shared with
//! the streaming code but the data types.

use super::*;
use crate::results::model::{AggregationType as A, Direction, MAX_FIGURE, Measure};
use proptest::prelude::*;
use std::str::FromStr;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn n(s: &str) -> Figure {
    Figure::Number(d(s))
}

fn frac(a: &str, b: &str) -> Figure {
    Figure::Fraction {
        numerator: d(a),
        denominator: d(b),
    }
}

fn rules(aggregation: AggregationType, cumulative: bool) -> Rules {
    Rules {
        aggregation,
        measure: Measure::Number,
        cumulative,
    }
}

// Months as period indices: 0 = January … 11 = December.
const Q1: Range<usize> = 0..3;
const Q2: Range<usize> = 3..6;

// ---------------------------------------------------------------------------------------------
// Hand-worked examples

#[test]
fn percentages_sum_numerators_and_denominators_never_ratios() {
    // Office A: 30 of 100 children vaccinated (30 %); office B: 50 of 200 (25 %).
    // Together 80 of 300 = 26.67 %, not the 27.5 % an average of the two rates gives.
    let r = Rules {
        aggregation: A::Sum,
        measure: Measure::Percentage,
        cumulative: false,
    };
    let agg = aggregate(
        r,
        0..1,
        [("A", 0, frac("30", "100")), ("B", 0, frac("50", "200"))],
    );
    assert_eq!(agg.overall, Some(frac("80", "300")));
    assert_eq!(
        agg.overall.unwrap().value().unwrap().round_dp(2),
        d("26.67")
    );
    // An average of percentages is the same ratio: averaged numerator over averaged denominator.
    let r = Rules {
        aggregation: A::Average,
        ..r
    };
    let agg = aggregate(
        r,
        0..1,
        [("A", 0, frac("30", "100")), ("B", 0, frac("50", "200"))],
    );
    assert_eq!(agg.overall, Some(frac("40", "150")));
    assert_eq!(
        agg.overall.unwrap().value().unwrap().round_dp(2),
        d("26.67")
    );
}

#[test]
fn cumulative_indicators_take_the_latest_total_never_the_sum_of_periods() {
    // People reached since the start of the project, reported monthly as running totals.
    // A: Jan 10, Feb 25, Mar 40. B: Jan 5, (no report in Feb), Mar 15.
    let rows = [
        ("A", 0, n("10")),
        ("A", 1, n("25")),
        ("A", 2, n("40")),
        ("B", 0, n("5")),
        ("B", 2, n("15")),
    ];
    let agg = aggregate(rules(A::Sum, true), Q1, rows);
    // Q1: 40 + 15 = 55 people, not 10 + 25 + 40 + 5 + 15 = 95 (Akvo RSR #5211/#5212).
    assert_eq!(agg.overall, Some(n("55")));
    // February: A 25, B still 5 (its total did not vanish because it did not report).
    assert_eq!(agg.series, [Some(n("15")), Some(n("30")), Some(n("55"))]);
    // The same rows read as non-cumulative would sum.
    assert_eq!(
        aggregate(rules(A::Sum, false), Q1, rows).overall,
        Some(n("95"))
    );
    // In Q2 nobody reported: the totals carry forward.
    let q2 = aggregate(rules(A::Sum, true), Q2, rows);
    assert_eq!(q2.overall, Some(n("55")));
    assert_eq!(q2.series, [Some(n("55")); 3]);
}

#[test]
fn targets_follow_the_same_rules() {
    // Quarterly targets of a cumulative indicator: 100, 250, 400, 500 → the yearly target is 500.
    let cumulative = [
        (1, 0, n("100")),
        (1, 1, n("250")),
        (1, 2, n("400")),
        (1, 3, n("500")),
    ];
    assert_eq!(
        aggregate(rules(A::Sum, true), 0..4, cumulative).overall,
        Some(n("500"))
    );
    // Of a non-cumulative one: 100, 150, 150, 100 → 500 for the year.
    let per_quarter = [
        (1, 0, n("100")),
        (1, 1, n("150")),
        (1, 2, n("150")),
        (1, 3, n("100")),
    ];
    assert_eq!(
        aggregate(rules(A::Sum, false), 0..4, per_quarter).overall,
        Some(n("500"))
    );
    // Of an average indicator (e.g. average waiting days): the average of the targets.
    assert_eq!(
        aggregate(rules(A::Average, false), 0..4, per_quarter).overall,
        Some(n("125"))
    );
}

#[test]
fn last_carries_forward_and_last_in_period_does_not() {
    // A stock: migrants in the caseload. A reported 100 in January and nothing since; B
    // reported 20 in January and 30 in May.
    let rows = [("A", 0, n("100")), ("B", 0, n("20")), ("B", 4, n("30"))];
    let last = aggregate(rules(A::Last, false), Q2, rows);
    assert_eq!(last.overall, Some(n("130")));
    assert_eq!(
        last.series,
        [Some(n("120")), Some(n("130")), Some(n("130"))]
    );
    let in_period = aggregate(rules(A::LastInPeriod, false), Q2, rows);
    assert_eq!(in_period.overall, Some(n("30")));
    assert_eq!(in_period.series, [None, Some(n("30")), None]);
    // Averaged across units: (100 + 30) / 2 and 30 / 1.
    assert_eq!(
        aggregate(rules(A::LastAverageOrgUnit, false), Q2, rows).overall,
        Some(n("65"))
    );
    assert_eq!(
        aggregate(rules(A::LastInPeriodAverageOrgUnit, false), Q2, rows).overall,
        Some(n("30"))
    );
}

#[test]
fn missing_is_not_zero() {
    // A: 10 in Jan, 20 in Mar (nothing in Feb); B: 40 in Feb.
    let rows = [("A", 0, n("10")), ("A", 2, n("20")), ("B", 1, n("40"))];
    // Average: A's mean is 15 (not 10 with a zero February), B's is 40; their mean is 27.5.
    assert_eq!(
        aggregate(rules(A::Average, false), Q1, rows).overall,
        Some(n("27.5"))
    );
    // Average over time, summed across offices: 15 + 40.
    assert_eq!(
        aggregate(rules(A::AverageSumOrgUnit, false), Q1, rows).overall,
        Some(n("55"))
    );
    assert_eq!(
        aggregate(rules(A::Sum, false), Q1, rows).series,
        [Some(n("10")), Some(n("40")), Some(n("20"))]
    );
    // Count counts values present: 3.
    assert_eq!(
        aggregate(rules(A::Count, false), Q1, rows).overall,
        Some(n("3"))
    );
    // Min and max: per office over time, then across offices.
    assert_eq!(
        aggregate(rules(A::Min, false), Q1, rows).overall,
        Some(n("10"))
    );
    assert_eq!(
        aggregate(rules(A::Max, false), Q1, rows).overall,
        Some(n("40"))
    );
    assert_eq!(
        aggregate(rules(A::MaxSumOrgUnit, false), Q1, rows).overall,
        Some(n("60"))
    );
    assert_eq!(
        aggregate(rules(A::MinSumOrgUnit, false), Q1, rows).overall,
        Some(n("50"))
    );
    // Nothing reported in Q2: no value, not zero.
    let q2 = aggregate(rules(A::Sum, false), Q2, rows);
    assert_eq!(
        q2,
        Aggregate {
            overall: None,
            series: vec![None; 3]
        }
    );
    let none: [(&str, usize, Figure); 0] = [];
    assert_eq!(aggregate(rules(A::Count, false), Q1, none).overall, None);
}

#[test]
fn none_and_qualitative_indicators_do_not_aggregate() {
    let rows = [("A", 0, n("1")), ("B", 0, n("2"))];
    assert_eq!(
        aggregate(rules(A::None, false), Q1, rows),
        Aggregate {
            overall: None,
            series: vec![None; 3]
        }
    );
    let q = Rules {
        aggregation: A::Sum,
        measure: Measure::Qualitative,
        cumulative: false,
    };
    assert_eq!(aggregate(q, Q1, rows).overall, None);
}

#[test]
fn min_and_max_of_percentages_compare_rates_and_skip_nothing_counted() {
    let r = Rules {
        aggregation: A::Max,
        measure: Measure::Percentage,
        cumulative: false,
    };
    // 0/0 (no cases this month) is neither the lowest nor the highest rate.
    let rows = [
        ("A", 0, frac("1", "4")),
        ("A", 1, frac("0", "0")),
        ("B", 0, frac("3", "10")),
    ];
    assert_eq!(aggregate(r, Q1, rows).overall, Some(frac("3", "10")));
    let r = Rules {
        aggregation: A::Min,
        ..r
    };
    assert_eq!(aggregate(r, Q1, rows).overall, Some(frac("1", "4")));
    let r = Rules {
        aggregation: A::Count,
        ..r
    };
    assert_eq!(aggregate(r, Q1, rows).overall, Some(n("3")));
}

#[test]
fn rows_out_of_leaf_order_are_refused() {
    let mut acc = Accumulator::new(rules(A::Sum, false), Q1);
    acc.push(&"A", 0, n("1")).unwrap();
    acc.push(&"B", 0, n("1")).unwrap();
    let e = acc.push(&"A", 1, n("1")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "rows are not in leaf order: leaf \"A\" came after \"B\"; sort the rows by leaf \
         (e.g. ORDER BY project) before aggregating"
    );
}

#[test]
fn a_rollup_aggregates_every_level_from_the_leaves() {
    // Two projects in CO-A (averages 10 and 20), one in CO-B (60), all in RO.
    // The regional average is (10 + 20 + 60) / 3 = 30, not the average of offices (15 + 60) / 2.
    let mut r: Rollup<&str, u32> = Rollup::new(rules(A::Average, false), 0..1);
    r.push(&1, &["CO-A", "RO"], 0, n("10")).unwrap();
    r.push(&2, &["CO-A", "RO"], 0, n("20")).unwrap();
    r.push(&3, &["CO-B", "RO"], 0, n("60")).unwrap();
    let out = r.finish();
    assert_eq!(out["CO-A"].overall, Some(n("15")));
    assert_eq!(out["CO-B"].overall, Some(n("60")));
    assert_eq!(out["RO"].overall, Some(n("30")));
    assert_eq!(out.len(), 3);
}

#[test]
fn achievement_is_right_for_descending_indicators() {
    let asc = Direction::Ascending;
    let desc = Direction::Descending;
    // Stunting: baseline 40 %, target 20 %, actual 30 % → half way → 50 %.
    assert_eq!(
        achievement(Some(d("40")), d("20"), d("30"), desc),
        Some(d("50"))
    );
    // Actual 45 %: worse than the baseline → -25 %.
    assert_eq!(
        achievement(Some(d("40")), d("20"), d("45"), desc),
        Some(d("-25"))
    );
    // Actual 10 %: beyond the target → 150 %.
    assert_eq!(
        achievement(Some(d("40")), d("20"), d("10"), desc),
        Some(d("150"))
    );
    // Ascending with a baseline: from 50 to 250 people, 150 reached → 50 %.
    assert_eq!(
        achievement(Some(d("50")), d("250"), d("150"), asc),
        Some(d("50"))
    );
    // No baseline, ascending: from zero.
    assert_eq!(achievement(None, d("200"), d("150"), asc), Some(d("75")));
    assert_eq!(achievement(None, d("0"), d("150"), asc), None);
    // No baseline, descending: cannot be measured.
    assert_eq!(achievement(None, d("20"), d("30"), desc), None);
    // Keeping a level: detention days kept at 0.
    assert_eq!(
        achievement(Some(d("0")), d("0"), d("0"), desc),
        Some(d("100"))
    );
    assert_eq!(
        achievement(Some(d("0")), d("0"), d("3"), desc),
        Some(d("0"))
    );
    assert_eq!(
        achievement(Some(d("80")), d("80"), d("85"), asc),
        Some(d("100"))
    );
    // One third of the way: exact to 28 digits, rounded for display.
    assert_eq!(
        achievement(Some(d("0")), d("3"), d("1"), asc)
            .unwrap()
            .round_dp(2),
        d("33.33")
    );
    assert_eq!(achievement(Some(Decimal::MIN), d("1"), d("1"), asc), None);
}

// ---------------------------------------------------------------------------------------------
// Reference implementation: the definitions, one loop at a time.

type Row = (u8, usize, Figure);

fn ratio(f: &Figure) -> Option<Decimal> {
    match f {
        Figure::Number(x) => Some(*x),
        Figure::Fraction {
            numerator,
            denominator,
        } => {
            if denominator.is_zero() {
                None
            } else {
                Some(*numerator / *denominator)
            }
        }
    }
}

fn ref_sum(values: &[Figure]) -> Option<Figure> {
    if values.is_empty() {
        return None;
    }
    let mut total_n = Decimal::ZERO;
    let mut total_d = Decimal::ZERO;
    let mut is_fraction = false;
    for v in values {
        match v {
            Figure::Number(x) => total_n += *x,
            Figure::Fraction {
                numerator,
                denominator,
            } => {
                total_n += *numerator;
                total_d += *denominator;
                is_fraction = true;
            }
        }
    }
    if is_fraction {
        Some(Figure::Fraction {
            numerator: total_n,
            denominator: total_d,
        })
    } else {
        Some(Figure::Number(total_n))
    }
}

fn ref_mean(values: &[Figure]) -> Option<Figure> {
    let k = Decimal::from(values.len());
    match ref_sum(values)? {
        Figure::Number(x) => Some(Figure::Number(x / k)),
        Figure::Fraction {
            numerator,
            denominator,
        } => Some(Figure::Fraction {
            numerator: numerator / k,
            denominator: denominator / k,
        }),
    }
}

fn ref_extreme(values: &[Figure], want_max: bool) -> Option<Figure> {
    let mut best: Option<Figure> = None;
    for v in values {
        let Some(r) = ratio(v) else { continue };
        match best {
            None => best = Some(*v),
            Some(b) => {
                let rb = ratio(&b).unwrap();
                if (want_max && r > rb) || (!want_max && r < rb) {
                    best = Some(*v);
                }
            }
        }
    }
    best
}

/// The latest row with `from <= period < to`; on the same period, the later row.
fn ref_latest(rows: &[(usize, Figure)], from: usize, to: usize) -> Option<Figure> {
    let mut best: Option<(usize, Figure)> = None;
    for (p, v) in rows {
        if *p >= from && *p < to {
            match best {
                Some((bp, _)) if *p < bp => {}
                _ => best = Some((*p, *v)),
            }
        }
    }
    best.map(|(_, v)| v)
}

/// One leaf over `[from, to)`.
fn ref_leaf(
    ty: AggregationType,
    cumulative: bool,
    rows: &[(usize, Figure)],
    from: usize,
    to: usize,
) -> Option<Figure> {
    let inside: Vec<Figure> = rows
        .iter()
        .filter(|(p, _)| *p >= from && *p < to)
        .map(|(_, v)| *v)
        .collect();
    if ty == A::None {
        return None;
    }
    if ty == A::Count {
        return if inside.is_empty() {
            None
        } else {
            Some(Figure::Number(Decimal::from(inside.len())))
        };
    }
    if cumulative {
        // A running total: the latest one up to the end, wherever it was reported.
        return ref_latest(rows, 0, to);
    }
    match ty {
        A::Sum => ref_sum(&inside),
        A::Average | A::AverageSumOrgUnit => ref_mean(&inside),
        A::Last | A::LastAverageOrgUnit => ref_latest(rows, 0, to),
        A::LastInPeriod | A::LastInPeriodAverageOrgUnit => ref_latest(rows, from, to),
        A::Min | A::MinSumOrgUnit => ref_extreme(&inside, false),
        A::Max | A::MaxSumOrgUnit => ref_extreme(&inside, true),
        A::Count | A::None => unreachable!(),
    }
}

fn ref_group(ty: AggregationType, leaf_values: &[Figure]) -> Option<Figure> {
    match ty {
        A::Sum
        | A::AverageSumOrgUnit
        | A::Last
        | A::LastInPeriod
        | A::MinSumOrgUnit
        | A::MaxSumOrgUnit
        | A::Count => ref_sum(leaf_values),
        A::Average | A::LastAverageOrgUnit | A::LastInPeriodAverageOrgUnit => {
            if leaf_values.is_empty() {
                None
            } else {
                ref_mean(leaf_values)
            }
        }
        A::Min => ref_extreme(leaf_values, false),
        A::Max => ref_extreme(leaf_values, true),
        A::None => None,
    }
}

fn reference(
    ty: AggregationType,
    cumulative: bool,
    rows: &[Row],
    from: usize,
    to: usize,
) -> Option<Figure> {
    let mut leaves: Vec<u8> = rows.iter().map(|r| r.0).collect();
    leaves.sort();
    leaves.dedup();
    let mut leaf_values = Vec::new();
    for leaf in leaves {
        let mine: Vec<(usize, Figure)> = rows
            .iter()
            .filter(|r| r.0 == leaf)
            .map(|r| (r.1, r.2))
            .collect();
        if let Some(v) = ref_leaf(ty, cumulative, &mine, from, to) {
            leaf_values.push(v);
        }
    }
    ref_group(ty, &leaf_values)
}

/// Equal, except that after a division (the average types) the last of Decimal's 28 digits may
/// differ: the streaming sums are exact and rounded once, the reference rounds at every `+`.
fn same(ty: AggregationType, a: Option<Figure>, b: Option<Figure>) -> bool {
    let divides = matches!(
        ty,
        A::Average | A::AverageSumOrgUnit | A::LastAverageOrgUnit | A::LastInPeriodAverageOrgUnit
    );
    let near = |x: Decimal, y: Decimal| (x - y).abs() <= Decimal::new(1, 20);
    match (a, b) {
        (Some(Figure::Number(x)), Some(Figure::Number(y))) if divides => near(x, y),
        (
            Some(Figure::Fraction {
                numerator: n1,
                denominator: d1,
            }),
            Some(Figure::Fraction {
                numerator: n2,
                denominator: d2,
            }),
        ) if divides => near(n1, n2) && near(d1, d2),
        _ => a == b,
    }
}

fn any_figure(percentage: bool) -> BoxedStrategy<Figure> {
    if percentage {
        (0i64..300, 0i64..300)
            .prop_map(|(a, b)| {
                let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
                Figure::Fraction {
                    numerator: Decimal::from(lo),
                    denominator: Decimal::from(hi),
                }
            })
            .boxed()
    } else {
        (0i64..100_000, 0u32..3)
            .prop_map(|(v, scale)| Figure::Number(Decimal::new(v, scale)))
            .boxed()
    }
}

fn any_case() -> impl Strategy<Value = (AggregationType, bool, bool, Vec<Row>, usize, usize)> {
    (
        proptest::sample::select(A::ALL.to_vec()),
        any::<bool>(),
        any::<bool>(),
        0usize..=8,
        0usize..=8,
    )
        .prop_flat_map(|(ty, cumulative, percentage, a, b)| {
            let rows =
                proptest::collection::vec((0u8..6, 0usize..9, any_figure(percentage)), 0..40);
            (
                Just(ty),
                Just(cumulative),
                Just(percentage),
                rows,
                Just(a.min(b)),
                Just(a.max(b)),
            )
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn streaming_equals_the_reference((ty, cumulative, percentage, rows, from, to) in any_case()) {
        let r = Rules {
            aggregation: ty,
            measure: if percentage { Measure::Percentage } else { Measure::Number },
            cumulative,
        };
        let agg = aggregate(r, from..to, rows.iter().map(|(l, p, v)| (*l, *p, *v)));
        let expected = reference(ty, cumulative, &rows, from, to);
        prop_assert!(same(ty, agg.overall, expected), "overall: {:?} != {:?}", agg.overall, expected);
        prop_assert_eq!(agg.series.len(), to - from);
        for (i, p) in (from..to).enumerate() {
            let expected = reference(ty, cumulative, &rows, p, p + 1);
            prop_assert!(same(ty, agg.series[i], expected), "period {}: {:?} != {:?}", p, agg.series[i], expected);
        }
    }

    #[test]
    fn a_rollup_equals_one_accumulator_per_group((ty, cumulative, percentage, rows, from, to) in any_case()) {
        let r = Rules {
            aggregation: ty,
            measure: if percentage { Measure::Percentage } else { Measure::Number },
            cumulative,
        };
        // Leaves 0–2 are in office "A", 3–5 in "B"; all are in "world".
        let office = |leaf: u8| if leaf < 3 { "A" } else { "B" };
        let mut sorted = rows.clone();
        sorted.sort_by_key(|r| r.0);
        let mut rollup: Rollup<&str, u8> = Rollup::new(r, from..to);
        for (leaf, p, v) in &sorted {
            rollup.push(leaf, &[office(*leaf), "world"], *p, *v).unwrap();
        }
        let out = rollup.finish();
        for group in ["A", "B", "world"] {
            let mine: Vec<Row> = rows.iter().copied().filter(|r| group == "world" || office(r.0) == group).collect();
            let alone = aggregate(r, from..to, mine.iter().copied());
            match out.get(group) {
                Some(agg) => prop_assert_eq!(agg, &alone, "{}", group),
                None => prop_assert_eq!(alone.overall, None),
            }
        }
    }

    #[test]
    fn descending_achievement_mirrors_ascending(
        b in 0i64..1000, t in 0i64..1000, a in 0i64..1000,
    ) {
        // Reflecting every figure (x → -x) turns a descending indicator into an ascending one
        // with the same progress.
        let (b, t, a) = (Decimal::from(b), Decimal::from(t), Decimal::from(a));
        prop_assert_eq!(
            achievement(Some(b), t, a, Direction::Descending),
            achievement(Some(-b), -t, -a, Direction::Ascending)
        );
        // Reaching the target exactly is 100 %, staying at the baseline 0 % (unless they are equal).
        if b != t {
            prop_assert_eq!(achievement(Some(b), t, t, Direction::Descending), Some(Decimal::ONE_HUNDRED));
            prop_assert_eq!(achievement(Some(b), t, b, Direction::Ascending), Some(Decimal::ZERO));
            // Plain formula.
            let expected = (a - b) * Decimal::ONE_HUNDRED / (t - b);
            prop_assert_eq!(achievement(Some(b), t, a, Direction::Descending), Some(expected));
        }
    }
}

#[test]
fn exact_sums_equal_decimal_sums_and_survive_overflow() {
    // Mixed scales: exact.
    let values = ["0.1", "0.02", "1000000", "0.003", "12.5"];
    let mut fast = ExactSum::ZERO;
    let mut slow = Decimal::ZERO;
    for v in values {
        fast.add(d(v));
        slow += d(v);
    }
    assert_eq!(fast.to_decimal(), slow);
    assert_eq!(fast.to_decimal(), d("1000012.623"));

    // A 28-digit fraction (scale 27) next to 10^15 leaves the 128 bits: the sum goes on in
    // Decimal and stays right to Decimal's precision.
    let third = Decimal::ONE / Decimal::from(3);
    let mut fast = ExactSum::ZERO;
    let mut slow = Decimal::ZERO;
    for v in [third, MAX_FIGURE, third, MAX_FIGURE] {
        fast.add(v);
        slow += v;
    }
    assert!(fast.spill.is_some());
    assert_eq!(fast.to_decimal(), slow);

    // Many 28-digit means: more digits than a Decimal holds, rounded once at the end.
    let mut fast = ExactSum::ZERO;
    for _ in 0..300_000 {
        fast.add(third);
    }
    assert_eq!(fast.to_decimal().round_dp(10), d("100000"));
}
