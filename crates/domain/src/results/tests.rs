//! Tests of the results vocabulary: names, periods, the value review, value parsing and
//! disaggregation sums.

use super::*;
use rust_decimal::Decimal;
use std::str::FromStr;
use time::macros::date;

fn d(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

#[test]
fn every_enum_name_parses_back_and_unknown_names_list_the_choices() {
    for v in ResultLevel::ALL {
        assert_eq!(v.as_str().parse::<ResultLevel>(), Ok(*v));
    }
    for v in Measure::ALL {
        assert_eq!(v.as_str().parse::<Measure>(), Ok(*v));
    }
    for v in Direction::ALL {
        assert_eq!(v.as_str().parse::<Direction>(), Ok(*v));
    }
    for v in AggregationType::ALL {
        assert_eq!(v.as_str().parse::<AggregationType>(), Ok(*v));
        // serde uses the same names as SQL.
        assert_eq!(
            serde_json::to_string(v).unwrap(),
            format!("\"{}\"", v.as_str())
        );
    }
    for v in Frequency::ALL {
        assert_eq!(v.as_str().parse::<Frequency>(), Ok(*v));
    }
    for v in ValueStatus::ALL {
        assert_eq!(v.as_str().parse::<ValueStatus>(), Ok(*v));
    }
    assert_eq!(AggregationType::ALL.len(), 13);
    let e = "SUMM".parse::<AggregationType>().unwrap_err();
    assert_eq!(e.kind, "aggregation type");
    assert!(
        e.to_string()
            .starts_with("unknown aggregation type \"SUMM\"; expected one of sum, average, ")
    );
    assert!(e.to_string().ends_with("count, none"));
}

#[test]
fn iati_codes_follow_the_codelists() {
    assert_eq!(
        ResultLevel::ALL
            .iter()
            .map(|l| l.iati_code())
            .collect::<Vec<_>>(),
        [3, 2, 1]
    );
    for l in ResultLevel::ALL {
        assert_eq!(ResultLevel::from_iati_code(l.iati_code()), Some(*l));
    }
    assert_eq!(ResultLevel::from_iati_code(9), None);
    assert_eq!(Measure::Percentage.iati_code(), 2);
}

#[test]
fn aggregation_types_follow_the_dhis2_table() {
    use AggregationType as A;
    use TimeOperator as T;
    use UnitOperator as U;
    let table = [
        (A::Sum, "SUM", T::Sum, U::Sum),
        (A::Average, "AVERAGE", T::Average, U::Average),
        (
            A::AverageSumOrgUnit,
            "AVERAGE_SUM_ORG_UNIT",
            T::Average,
            U::Sum,
        ),
        (A::Last, "LAST", T::Last, U::Sum),
        (
            A::LastAverageOrgUnit,
            "LAST_AVERAGE_ORG_UNIT",
            T::Last,
            U::Average,
        ),
        (A::LastInPeriod, "LAST_IN_PERIOD", T::LastInPeriod, U::Sum),
        (
            A::LastInPeriodAverageOrgUnit,
            "LAST_IN_PERIOD_AVERAGE_ORG_UNIT",
            T::LastInPeriod,
            U::Average,
        ),
        (A::Min, "MIN", T::Min, U::Min),
        (A::Max, "MAX", T::Max, U::Max),
        (A::MinSumOrgUnit, "MIN_SUM_ORG_UNIT", T::Min, U::Sum),
        (A::MaxSumOrgUnit, "MAX_SUM_ORG_UNIT", T::Max, U::Sum),
        (A::Count, "COUNT", T::Count, U::Sum),
        (A::None, "NONE", T::None, U::None),
    ];
    assert_eq!(table.len(), A::ALL.len());
    for (ty, dhis2, time, units) in table {
        assert_eq!(ty.dhis2_name(), dhis2);
        assert_eq!(ty.across_time(), time, "{ty}");
        assert_eq!(ty.across_units(), units, "{ty}");
    }
    assert!(!A::Sum.fits(Measure::Qualitative));
    assert!(A::None.fits(Measure::Qualitative));
    assert!(A::Last.fits(Measure::Percentage));
}

#[test]
fn periods_are_calendar_aligned_and_clipped_to_the_project() {
    let p = Frequency::Quarterly.periods(date!(2026 - 02 - 15), date!(2026 - 07 - 10));
    assert_eq!(
        p,
        [
            Period {
                start: date!(2026 - 02 - 15),
                end: date!(2026 - 03 - 31)
            },
            Period {
                start: date!(2026 - 04 - 01),
                end: date!(2026 - 06 - 30)
            },
            Period {
                start: date!(2026 - 07 - 01),
                end: date!(2026 - 07 - 10)
            },
        ]
    );
    let labels: Vec<String> = p.iter().map(|p| p.label(Frequency::Quarterly)).collect();
    assert_eq!(labels, ["2026-Q1", "2026-Q2", "2026-Q3"]);

    let m = Frequency::Monthly.periods(date!(2027 - 12 - 31), date!(2028 - 03 - 01));
    let labels: Vec<String> = m.iter().map(|p| p.label(Frequency::Monthly)).collect();
    assert_eq!(labels, ["2027-12", "2028-01", "2028-02", "2028-03"]);
    assert_eq!(m[0].days(), 1);
    assert_eq!(m[2].end, date!(2028 - 02 - 29), "leap year");
    assert_eq!(m[3].days(), 1);

    let y = Frequency::Annual.periods(date!(2025 - 06 - 01), date!(2027 - 05 - 31));
    let labels: Vec<String> = y.iter().map(|p| p.label(Frequency::Annual)).collect();
    assert_eq!(labels, ["2025", "2026", "2027"]);
    assert_eq!(y[1].days(), 365);

    assert!(
        Frequency::Monthly
            .periods(date!(2026 - 02 - 01), date!(2026 - 01 - 31))
            .is_empty()
    );
    let one = Frequency::Monthly.periods(date!(2026 - 02 - 03), date!(2026 - 02 - 03));
    assert_eq!(one.len(), 1);
}

#[test]
fn periods_tile_the_project_without_gaps() {
    for f in Frequency::ALL {
        let (start, end) = (date!(2023 - 11 - 17), date!(2027 - 02 - 03));
        let p = f.periods(start, end);
        assert_eq!(p.first().unwrap().start, start);
        assert_eq!(p.last().unwrap().end, end);
        for w in p.windows(2) {
            assert_eq!(w[0].end.next_day(), Some(w[1].start));
            assert_ne!(w[0].label(*f), w[1].label(*f));
        }
        let days: i64 = p.iter().map(|p| p.days()).sum();
        assert_eq!(days, (end - start).whole_days() + 1);
    }
}

#[test]
fn period_labels_parse_back() {
    assert_eq!(
        Frequency::Quarterly.parse_label("2026-Q4"),
        Ok(Period {
            start: date!(2026 - 10 - 01),
            end: date!(2026 - 12 - 31)
        })
    );
    assert_eq!(
        Frequency::Monthly.parse_label("2024-02").unwrap().end,
        date!(2024 - 02 - 29)
    );
    assert_eq!(
        Frequency::Annual.parse_label("2026").unwrap().start,
        date!(2026 - 01 - 01)
    );
    assert_eq!(
        Frequency::Quarterly.parse_label("2026-Q5").unwrap_err(),
        "expected a quarter such as 2026-Q1, found \"2026-Q5\""
    );
    assert!(Frequency::Monthly.parse_label("2026-13").is_err());
    assert!(Frequency::Monthly.parse_label("2026-3").is_err());
    assert!(Frequency::Annual.parse_label("26").is_err());
}

#[test]
fn values_go_draft_submitted_approved_or_returned_and_back() {
    use ValueTransition::*;
    let s = ValueStatus::Draft.apply(Edit, false).unwrap();
    assert_eq!(s, ValueStatus::Draft);
    let s = s.apply(Submit, false).unwrap();
    assert_eq!(s, ValueStatus::Submitted);
    let s = s.apply(Return, false).unwrap();
    assert_eq!(s, ValueStatus::Returned);
    let s = s.apply(Edit, false).unwrap();
    assert_eq!(s, ValueStatus::Draft);
    let s = s
        .apply(Submit, false)
        .unwrap()
        .apply(Approve, false)
        .unwrap();
    assert_eq!(s, ValueStatus::Approved);
    assert!(s.is_official() && !s.is_editable());

    let e = ValueStatus::Submitted.apply(Edit, false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot edit a value that is submitted; allowed now: approve, return"
    );
    let e = ValueStatus::Approved.apply(Approve, false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "cannot approve a value that is approved; allowed now: return"
    );
}

#[test]
fn a_locked_period_refuses_every_move() {
    for s in ValueStatus::ALL {
        for t in ValueTransition::ALL {
            assert_eq!(
                s.apply(*t, true),
                Err(ValueTransitionError::PeriodLocked),
                "{s} {t}"
            );
        }
    }
    assert_eq!(
        ValueTransitionError::PeriodLocked.to_string(),
        "the period is locked; its values can no longer change"
    );
}

#[test]
fn only_approve_and_return_are_reviews() {
    let reviews: Vec<_> = ValueTransition::ALL
        .iter()
        .filter(|t| t.is_review())
        .collect();
    assert_eq!(
        reviews,
        [&ValueTransition::Approve, &ValueTransition::Return]
    );
}

#[test]
fn free_text_in_a_quantitative_indicator_is_refused_saying_what_was_expected() {
    let e = parse_quantity(Measure::Number, "N/A").unwrap_err();
    assert_eq!(e.to_string(), "expected a number, found \"N/A\"");
    let e = parse_quantity(Measure::Number, "").unwrap_err();
    assert_eq!(e.to_string(), "expected a number, found an empty value");
    let e = parse_quantity(Measure::Number, "-3").unwrap_err();
    assert_eq!(
        e.to_string(),
        "expected a number of zero or more, found \"-3\""
    );
    let e = parse_quantity(Measure::Number, "1,234").unwrap_err();
    assert_eq!(
        e.to_string(),
        "expected a number (digits and a decimal point, no thousands separators), found \"1,234\""
    );
    let e = parse_quantity(Measure::Percentage, "25%").unwrap_err();
    assert_eq!(
        e.to_string(),
        "expected a numerator and a denominator such as \"30/120\", found \"25%\""
    );
    let e = parse_quantity(Measure::Percentage, "12/about 40").unwrap_err();
    assert_eq!(e.to_string(), "expected a denominator, found \"about 40\"");
    for bad in [
        "1e3",
        "1.2.3",
        ".",
        "+5",
        "five",
        "12 000",
        "0x10",
        "1000000000000001",
    ] {
        assert!(parse_quantity(Measure::Number, bad).is_err(), "{bad}");
    }
}

#[test]
fn figures_and_percentages_parse_exactly() {
    assert_eq!(
        parse_quantity(Measure::Number, " 1234 "),
        Ok(Quantity::Number(d("1234")))
    );
    assert_eq!(
        parse_quantity(Measure::Number, "12.50"),
        Ok(Quantity::Number(d("12.5")))
    );
    assert_eq!(
        parse_quantity(Measure::Number, ".5"),
        Ok(Quantity::Number(d("0.5")))
    );
    assert_eq!(
        parse_quantity(Measure::Number, "0"),
        Ok(Quantity::Number(Decimal::ZERO))
    );
    let p = parse_quantity(Measure::Percentage, "30 / 120").unwrap();
    assert_eq!(
        p,
        Quantity::Percentage {
            numerator: d("30"),
            denominator: d("120")
        }
    );
    assert_eq!(p.as_decimal(), Some(d("25")));
    assert_eq!(p.to_string(), "30/120");
    let nothing = parse_quantity(Measure::Percentage, "0/0").unwrap();
    assert_eq!(
        nothing.as_decimal(),
        None,
        "0/0 has no ratio, it is not 0 %"
    );
    assert_eq!(
        parse_quantity(Measure::Qualitative, "  Policy adopted "),
        Ok(Quantity::Text("Policy adopted".to_owned()))
    );
    assert!(parse_quantity(Measure::Qualitative, "  ").is_err());
}

#[test]
fn a_numerator_above_the_denominator_is_refused() {
    let e = parse_quantity(Measure::Percentage, "120/30").unwrap_err();
    assert_eq!(
        e,
        ValueError::NumeratorAboveDenominator {
            numerator: d("120"),
            denominator: d("30")
        }
    );
    assert!(
        e.to_string()
            .starts_with("the numerator 120 is larger than the denominator 30")
    );
    assert!(parse_quantity(Measure::Percentage, "30/30").is_ok());
}

#[test]
fn exhaustive_disaggregations_must_add_up_to_the_total() {
    let n = |s: &str| Quantity::Number(d(s));
    let total = n("100");
    assert_eq!(
        check_disaggregation_sum(&total, &[n("60"), n("38.5"), n("1.5")], true),
        Ok(())
    );
    let e = check_disaggregation_sum(&total, &[n("60"), n("38")], true).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the disaggregated values add up to 98, but the total is 100; the categories cover \
         everyone, so they must add up to the total"
    );
    // Not exhaustive: less is fine, more is not.
    assert_eq!(
        check_disaggregation_sum(&total, &[n("60"), n("38")], false),
        Ok(())
    );
    let e = check_disaggregation_sum(&total, &[n("60"), n("41")], false).unwrap_err();
    assert_eq!(
        e.to_string(),
        "the disaggregated values add up to 101, more than the total 100"
    );

    let p = |a: &str, b: &str| Quantity::Percentage {
        numerator: d(a),
        denominator: d(b),
    };
    assert_eq!(
        check_disaggregation_sum(&p("50", "100"), &[p("30", "50"), p("20", "50")], true),
        Ok(())
    );
    let e = check_disaggregation_sum(&p("50", "100"), &[p("30", "60"), p("20", "50")], true)
        .unwrap_err();
    assert!(e.to_string().contains("add up to 50/110"), "{e}");
    let huge = Quantity::Number(Decimal::MAX);
    assert!(check_disaggregation_sum(&total, &[huge.clone(), huge], true).is_err());
    let e = check_disaggregation_sum(&total, &[p("1", "2")], true).unwrap_err();
    assert_eq!(
        e.to_string(),
        "a percentage value was given for a number indicator"
    );
}

#[test]
fn disaggregation_categories_have_their_defaults_and_custom_codes() {
    use DisaggregationCategory as C;
    let sex = Disaggregation::default_for(C::Sex);
    assert!(sex.exhaustive);
    assert_eq!(
        sex.options
            .iter()
            .map(|o| o.code.as_str())
            .collect::<Vec<_>>(),
        ["female", "male", "other_unknown"]
    );
    assert_eq!(C::AgeGroup.default_options().len(), 3);
    assert_eq!(C::DisplacementStatus.default_options().len(), 5);
    assert!(!C::DisplacementStatus.default_exhaustive());
    assert!(C::Custom("x".into()).default_options().is_empty());

    for c in C::BUILTIN {
        assert_eq!(c.as_str().parse::<C>().unwrap(), *c);
    }
    assert_eq!(
        "nationality".parse::<C>().unwrap(),
        C::Custom("nationality".into())
    );
    assert_eq!(
        serde_json::to_string(&C::AgeGroup).unwrap(),
        "\"age_group\""
    );
    assert_eq!(
        serde_json::from_str::<C>("\"vulnerability\"").unwrap(),
        C::Custom("vulnerability".into())
    );
    assert!(serde_json::from_str::<C>("\"Bad Code\"").is_err());
    assert!(C::custom("sex").unwrap_err().contains("built-in"));
    assert!(!combination_is_exhaustive(&[
        Disaggregation::default_for(C::Sex),
        Disaggregation::default_for(C::DisplacementStatus)
    ]));
    assert!(combination_is_exhaustive(&[
        Disaggregation::default_for(C::Sex),
        Disaggregation::default_for(C::AgeGroup)
    ]));
}
