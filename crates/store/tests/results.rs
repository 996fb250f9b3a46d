//! Results-based management in the store, on whichever backend the environment names: the
//! matrix, reporting with its checks, review with segregation of duties, locks, optimistic
//! versions, audit, and roll-ups that equal figures worked out by hand.

use meridian_domain::authz::{Actor, Role};
use meridian_domain::org::{Countries, Organization};
use meridian_domain::results::model::Measure;
use meridian_store::projects::{BudgetLineInput, ProjectInput};
use meridian_store::results::{
    BulkApproval, CategoryInput, IndicatorInput, ProgrammeInput, ReportInput,
    ReportTransitionInput, ResultInput, RollupQuery, RollupRow, RollupScope, TargetInput,
    UploadValue, ValueInput,
};
use meridian_store::testing::{TestDb, operator, person};
use meridian_store::{Store, StoreError};
use rust_decimal::Decimal;
use std::str::FromStr;

struct World {
    _db: TestDb,
    store: Store,
    org: Organization,
    developer_ken: Actor,
    me_ken: Actor,
    me_ken_2: Actor,
    me_uga: Actor,
    number_srf: String,
    percent_srf: String,
}

async fn world() -> World {
    let db = TestDb::new().await;
    let store = Store::connect(&db.url).await.unwrap();
    let org = meridian_domain::builtin::organization();
    store
        .load_organization(&operator(), None, &org, &Countries::builtin())
        .await
        .unwrap();
    assert!(
        store
            .load_srf_if_empty(&meridian_domain::builtin::srf())
            .await
            .unwrap()
    );
    assert!(
        !store
            .load_srf_if_empty(&meridian_domain::builtin::srf())
            .await
            .unwrap(),
        "a store that has a framework keeps it"
    );
    let indicators = store.srf_indicators().await.unwrap();
    let pick = |m: Measure| {
        indicators
            .iter()
            .find(|i| i.measure == m && i.aggregation.as_str() == "sum")
            .unwrap_or_else(|| panic!("the shipped SRF has a {m} indicator summed"))
            .code
            .clone()
    };
    World {
        developer_ken: person(
            &store,
            &org,
            "dev@ken.example",
            "CO-KEN",
            Role::ProjectDeveloper,
        )
        .await,
        me_ken: person(&store, &org, "me@ken.example", "CO-KEN", Role::MeOfficer).await,
        me_ken_2: person(&store, &org, "me2@ken.example", "CO-KEN", Role::MeOfficer).await,
        me_uga: person(&store, &org, "me@uga.example", "CO-UGA", Role::MeOfficer).await,
        number_srf: pick(Measure::Number),
        percent_srf: pick(Measure::Percentage),
        _db: db,
        store,
        org,
    }
}

fn project(unit: &str, country: &str) -> ProjectInput {
    ProjectInput {
        title: format!("Community stabilization in {country}"),
        summary: String::new(),
        thematic_area: "migrant_protection".into(),
        unit: unit.into(),
        primary_country: country.into(),
        countries: vec![],
        admin_areas: vec![],
        start_date: "2026-01-01".into(),
        end_date: "2026-12-31".into(),
        currency: "USD".into(),
        budget_lines: vec![BudgetLineInput {
            category: "staff".into(),
            description: String::new(),
            currency: "USD".into(),
            amount: "100000".into(),
        }],
        donors: vec![],
        partners: vec![],
        restricted: false,
    }
}

fn number_indicator(srf: &str) -> IndicatorInput {
    IndicatorInput {
        title: "People who received return and reintegration assistance".into(),
        measure: "number".into(),
        direction: None,
        aggregation: Some("sum".into()),
        cumulative: false,
        unit: "people".into(),
        categories: vec![CategoryInput {
            category: "sex".into(),
            options: None,
            exhaustive: None,
        }],
        baseline_year: Some(2025),
        baseline: Some("0".into()),
        target: Some("400".into()),
        srf_indicator: Some(srf.into()),
        means_of_verification: "Case management records".into(),
        targets: vec![
            TargetInput {
                period: "2026-Q1".into(),
                disaggregation: String::new(),
                value: "100".into(),
            },
            TargetInput {
                period: "2026-04-01".into(),
                disaggregation: String::new(),
                value: "100".into(),
            },
        ],
        version: None,
    }
}

fn values(total: &str, parts: &[(&str, &str)]) -> ReportInput {
    let mut v = vec![ValueInput {
        disaggregation: String::new(),
        value: total.into(),
    }];
    v.extend(parts.iter().map(|(k, x)| ValueInput {
        disaggregation: (*k).into(),
        value: (*x).into(),
    }));
    ReportInput {
        values: v,
        narrative: "Figures from the case management system.".into(),
        version: None,
    }
}

fn action(a: &str, note: &str) -> ReportTransitionInput {
    ReportTransitionInput {
        action: a.into(),
        note: note.into(),
        version: None,
    }
}

/// A project in `unit` with a quarterly matrix: one output, one indicator.
async fn with_indicator(
    w: &World,
    unit: &str,
    country: &str,
    developer: &Actor,
    indicator: IndicatorInput,
) -> (String, String) {
    let p = w
        .store
        .create_project(&w.org, developer, &project(unit, country))
        .await
        .unwrap();
    w.store
        .set_results_frequency(&w.org, developer, &p.id, "quarterly")
        .await
        .unwrap();
    let r = w
        .store
        .add_result(
            &w.org,
            developer,
            &p.id,
            &ResultInput {
                level: "output".into(),
                title: "Returnees are assisted to reintegrate".into(),
                srf_codes: vec![],
                gcm_objectives: vec![21],
                sdg_targets: vec!["10.7".into()],
                version: None,
            },
        )
        .await
        .unwrap();
    let i = w
        .store
        .add_indicator(&w.org, developer, &r.id, &indicator)
        .await
        .unwrap();
    (p.id, i.id)
}

fn decimal(s: &str) -> Decimal {
    Decimal::from_str(s).unwrap()
}

fn row<'a>(rows: &'a [RollupRow], code: &str) -> &'a RollupRow {
    rows.iter().find(|r| r.srf_indicator == code).unwrap()
}

async fn rollup(
    w: &World,
    actor: &Actor,
    scope: RollupScope,
    window: &str,
    key: &str,
) -> Vec<RollupRow> {
    w.store
        .results_rollup(
            &w.org,
            actor,
            &scope,
            &RollupQuery {
                window: window.into(),
                disaggregation: key.into(),
            },
        )
        .await
        .unwrap()
}

/// An output result with nothing but a title.
fn output(title: &str) -> ResultInput {
    ResultInput {
        level: "output".into(),
        title: title.into(),
        srf_codes: vec![],
        gcm_objectives: vec![],
        sdg_targets: vec![],
        version: None,
    }
}

#[tokio::test]
async fn a_report_goes_from_draft_to_approved_and_reaches_the_srf() {
    let w = world().await;
    let (project, ind) = with_indicator(
        &w,
        "CO-KEN",
        "KEN",
        &w.developer_ken,
        number_indicator(&w.number_srf),
    )
    .await;
    let f = w
        .store
        .results_framework(&w.org, &w.me_ken, &project)
        .await
        .unwrap();
    assert_eq!(f.periods.len(), 4, "quarterly over 2026");
    assert_eq!(f.periods[0].label, "2026-Q1");
    let indicator = f.indicator(&ind).unwrap();
    assert_eq!(indicator.targets.len(), 2);
    assert_eq!(
        indicator.disaggregation_keys(),
        ["sex=female", "sex=male", "sex=other_unknown"]
    );

    // Free text in a quantitative indicator is refused, with what was expected and found.
    let err = w
        .store
        .save_report(&w.org, &w.me_ken, &ind, "2026-Q1", &values("N/A", &[]))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, StoreError::Invalid { message, .. } if message.contains("expected a number") && message.contains("\"N/A\"")),
        "{err}"
    );
    // Sex is exhaustive: its parts must add up to the total.
    let err = w
        .store
        .save_report(
            &w.org,
            &w.me_ken,
            &ind,
            "2026-Q1",
            &values(
                "120",
                &[
                    ("sex=female", "70"),
                    ("sex=male", "40"),
                    ("sex=other_unknown", "0"),
                ],
            ),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("add up to 110"), "{err}");
    let nothing: i64 = count(&w.store, "SELECT COUNT(*) AS n FROM indicator_reports").await;
    assert_eq!(nothing, 0, "refused reports change nothing");

    let saved = w
        .store
        .save_report(
            &w.org,
            &w.me_ken,
            &ind,
            "2026-Q1",
            &values(
                "120",
                &[
                    ("sex=female", "70"),
                    ("sex=male", "48"),
                    ("sex=other_unknown", "2"),
                ],
            ),
        )
        .await
        .unwrap();
    assert_eq!(saved.status.as_str(), "draft");
    // Saving again needs the version read.
    let stale = w
        .store
        .save_report(
            &w.org,
            &w.me_ken_2,
            &ind,
            "2026-Q1",
            &ReportInput {
                version: Some(saved.version + 7),
                ..values("121", &[])
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(stale, StoreError::Conflict(_)), "{stale}");

    let submitted = w
        .store
        .transition_report(&w.org, &w.me_ken, &ind, "2026-Q1", &action("submit", ""))
        .await
        .unwrap();
    assert_eq!(submitted.submitted_by.as_deref(), Some("me@ken.example"));
    // Nobody approves their own submission.
    let own = w
        .store
        .transition_report(&w.org, &w.me_ken, &ind, "2026-Q1", &action("approve", ""))
        .await
        .unwrap_err();
    assert!(own.to_string().contains("segregation of duties"), "{own}");
    // A project developer may report but not approve.
    let role = w
        .store
        .transition_report(
            &w.org,
            &w.developer_ken,
            &ind,
            "2026-Q1",
            &action("approve", ""),
        )
        .await
        .unwrap_err();
    assert!(matches!(role, StoreError::Denied(_)), "{role}");
    // Another office's officer is out of scope.
    let scope = w
        .store
        .transition_report(&w.org, &w.me_uga, &ind, "2026-Q1", &action("approve", ""))
        .await
        .unwrap_err();
    assert!(matches!(scope, StoreError::Denied(_)), "{scope}");
    // Not yet approved: the SRF shows nothing.
    let before = rollup(&w, &operator(), RollupScope::Global, "all", "").await;
    assert_eq!(row(&before, &w.number_srf).contributors, 0);
    assert!(row(&before, &w.number_srf).actual.is_none());

    let approved = w
        .store
        .transition_report(&w.org, &w.me_ken_2, &ind, "2026-Q1", &action("approve", ""))
        .await
        .unwrap();
    assert_eq!(approved.status.as_str(), "approved");
    assert_eq!(approved.reviewed_by.as_deref(), Some("me2@ken.example"));

    let global = rollup(&w, &operator(), RollupScope::Global, "all", "").await;
    let r = row(&global, &w.number_srf);
    assert_eq!(r.contributors, 1);
    assert_eq!(r.actual.as_ref().unwrap().value, Some(decimal("120")));
    assert_eq!(
        r.target.as_ref().unwrap().value,
        Some(decimal("200")),
        "targets of the periods, summed"
    );
    let female = rollup(&w, &operator(), RollupScope::Global, "2026", "sex=female").await;
    assert_eq!(
        row(&female, &w.number_srf).actual.as_ref().unwrap().value,
        Some(decimal("70"))
    );
    let q2 = rollup(&w, &operator(), RollupScope::Global, "2026-Q2", "").await;
    assert!(
        row(&q2, &w.number_srf).actual.is_none(),
        "missing is not zero"
    );
    // The region sees it; another region does not.
    let nbo = rollup(
        &w,
        &operator(),
        RollupScope::Region("RO-NBO".into()),
        "all",
        "",
    )
    .await;
    assert_eq!(row(&nbo, &w.number_srf).contributors, 1);
    let bkk = rollup(
        &w,
        &operator(),
        RollupScope::Region("RO-BKK".into()),
        "all",
        "",
    )
    .await;
    assert_eq!(row(&bkk, &w.number_srf).contributors, 0);
    // A country office reading "global" sees only its own scope.
    let uga_view = rollup(&w, &w.me_uga, RollupScope::Global, "all", "").await;
    assert_eq!(row(&uga_view, &w.number_srf).contributors, 0);

    // Locked: no change at all, until unlocked.
    w.store
        .set_period_lock(&w.org, &w.me_ken_2, &project, "2026-Q1", true)
        .await
        .unwrap();
    let locked = w
        .store
        .transition_report(
            &w.org,
            &w.me_ken_2,
            &ind,
            "2026-Q1",
            &action("return", "Recount the men"),
        )
        .await
        .unwrap_err();
    assert!(locked.to_string().contains("locked"), "{locked}");
    w.store
        .set_period_lock(&w.org, &w.me_ken_2, &project, "2026-Q1", false)
        .await
        .unwrap();
    // Returned, the value leaves the roll-up.
    let returned = w
        .store
        .transition_report(
            &w.org,
            &w.me_ken_2,
            &ind,
            "2026-Q1",
            &action("return", "Recount the men"),
        )
        .await
        .unwrap();
    assert_eq!(returned.review_note, "Recount the men");
    let after = rollup(&w, &operator(), RollupScope::Global, "all", "").await;
    assert_eq!(row(&after, &w.number_srf).contributors, 0);

    // Every step is in the audit trail.
    let actions: Vec<String> = sqlx::query_scalar::<_, String>(
        "SELECT action FROM audit_events WHERE entity = 'indicator_report' ORDER BY at",
    )
    .fetch_all(w.store.pool())
    .await
    .unwrap();
    assert_eq!(
        actions,
        [
            "indicator_report.save",
            "indicator_report.submit",
            "indicator_report.approve",
            "indicator_report.return"
        ]
    );
    let locks = count(
        &w.store,
        "SELECT COUNT(*) AS n FROM audit_events WHERE entity = 'reporting_period'",
    )
    .await;
    assert_eq!(locks, 2);
}

async fn count(store: &Store, sql: &'static str) -> i64 {
    use sqlx::Row;
    sqlx::query(sql)
        .fetch_one(store.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}

async fn report_and_approve(
    w: &World,
    reporter: &Actor,
    approver: &Actor,
    ind: &str,
    period: &str,
    total: &str,
) {
    w.store
        .save_report(&w.org, reporter, ind, period, &values(total, &[]))
        .await
        .unwrap();
    w.store
        .transition_report(&w.org, reporter, ind, period, &action("submit", ""))
        .await
        .unwrap();
    w.store
        .transition_report(&w.org, approver, ind, period, &action("approve", ""))
        .await
        .unwrap();
}

#[tokio::test]
async fn percentages_aggregate_from_numerators_and_denominators_and_cumulative_takes_the_latest() {
    let w = world().await;
    let percent = |srf: &str| IndicatorInput {
        title: "Share of returnees with sustainable reintegration scores".into(),
        measure: "percentage".into(),
        categories: vec![],
        baseline: None,
        target: Some("80/100".into()),
        targets: vec![],
        ..number_indicator(srf)
    };
    let dev_uga = person(
        &w.store,
        &w.org,
        "dev@uga.example",
        "CO-UGA",
        Role::ProjectDeveloper,
    )
    .await;
    let me_uga_2 = person(
        &w.store,
        &w.org,
        "me2@uga.example",
        "CO-UGA",
        Role::MeOfficer,
    )
    .await;
    let (_, ken) = with_indicator(
        &w,
        "CO-KEN",
        "KEN",
        &w.developer_ken,
        percent(&w.percent_srf),
    )
    .await;
    let (_, uga) = with_indicator(&w, "CO-UGA", "UGA", &dev_uga, percent(&w.percent_srf)).await;
    report_and_approve(&w, &w.me_ken, &w.me_ken_2, &ken, "2026-Q1", "9/10").await;
    report_and_approve(&w, &w.me_uga, &me_uga_2, &uga, "2026-Q1", "10/90").await;
    let global = rollup(&w, &operator(), RollupScope::Global, "2026", "").await;
    let r = row(&global, &w.percent_srf);
    let actual = r.actual.as_ref().unwrap();
    // (9 + 10) / (10 + 90) = 19 %, not the average of 90 % and 11.1 %.
    assert_eq!(actual.numerator, Some(decimal("19")));
    assert_eq!(actual.denominator, Some(decimal("100")));
    assert_eq!(actual.percent, Some(decimal("19")));

    // A cumulative number: each quarter is the running total; a year is its latest, not the sum.
    let cumulative = IndicatorInput {
        cumulative: true,
        categories: vec![],
        targets: vec![],
        ..number_indicator(&w.number_srf)
    };
    let (_, c) = with_indicator(&w, "CO-KEN", "KEN", &w.developer_ken, cumulative).await;
    report_and_approve(&w, &w.me_ken, &w.me_ken_2, &c, "2026-Q1", "100").await;
    report_and_approve(&w, &w.me_ken, &w.me_ken_2, &c, "2026-Q2", "250").await;
    let year = rollup(
        &w,
        &operator(),
        RollupScope::Unit("CO-KEN".into()),
        "2026",
        "",
    )
    .await;
    assert_eq!(
        row(&year, &w.number_srf).actual.as_ref().unwrap().value,
        Some(decimal("250"))
    );
    let q1 = rollup(
        &w,
        &operator(),
        RollupScope::Unit("CO-KEN".into()),
        "2026-Q1",
        "",
    )
    .await;
    assert_eq!(
        row(&q1, &w.number_srf).actual.as_ref().unwrap().value,
        Some(decimal("100"))
    );
    // Achievement against the overall target of 400 from a baseline of 0.
    let all = rollup(
        &w,
        &operator(),
        RollupScope::Unit("CO-KEN".into()),
        "all",
        "",
    )
    .await;
    let r = row(&all, &w.number_srf);
    assert_eq!(r.actual.as_ref().unwrap().value, Some(decimal("250")));
}

#[tokio::test]
async fn bulk_approval_is_all_or_nothing_and_programmes_roll_up_their_members() {
    let w = world().await;
    let (p1, i1) = with_indicator(
        &w,
        "CO-KEN",
        "KEN",
        &w.developer_ken,
        number_indicator(&w.number_srf),
    )
    .await;
    let second = IndicatorInput {
        categories: vec![],
        ..number_indicator(&w.number_srf)
    };
    let r = w
        .store
        .results_framework(&w.org, &w.me_ken, &p1)
        .await
        .unwrap()
        .results[0]
        .id
        .clone();
    let i2 = w
        .store
        .add_indicator(&w.org, &w.developer_ken, &r, &second)
        .await
        .unwrap()
        .id;
    for (ind, total, by) in [(&i1, "10", &w.me_ken), (&i2, "5", &w.me_ken_2)] {
        w.store
            .save_report(&w.org, by, ind, "2026-Q1", &values(total, &[]))
            .await
            .unwrap();
        w.store
            .transition_report(&w.org, by, ind, "2026-Q1", &action("submit", ""))
            .await
            .unwrap();
    }
    // me_ken submitted one of the two: approving the period as me_ken is refused whole.
    let refused = w
        .store
        .approve_reports(
            &w.org,
            &w.me_ken,
            &p1,
            &BulkApproval {
                period: Some("2026-Q1".into()),
                reports: vec![],
            },
        )
        .await
        .unwrap_err();
    assert!(
        refused.to_string().contains("segregation of duties"),
        "{refused}"
    );
    let approved = count(
        &w.store,
        "SELECT COUNT(*) AS n FROM indicator_reports WHERE status = 'approved'",
    )
    .await;
    assert_eq!(approved, 0, "nothing was approved");
    let rbm = person(
        &w.store,
        &w.org,
        "rbm@nbo.example",
        "RO-NBO",
        Role::RbmOfficer,
    )
    .await;
    let done = w
        .store
        .approve_reports(
            &w.org,
            &rbm,
            &p1,
            &BulkApproval {
                period: Some("2026-Q1".into()),
                reports: vec![],
            },
        )
        .await
        .unwrap();
    assert_eq!(done.len(), 2);

    let (_p2, i3) = with_indicator(
        &w,
        "CO-KEN",
        "KEN",
        &w.developer_ken,
        IndicatorInput {
            categories: vec![],
            ..number_indicator(&w.number_srf)
        },
    )
    .await;
    report_and_approve(&w, &w.me_ken, &w.me_ken_2, &i3, "2026-Q1", "7").await;
    let programme = w
        .store
        .save_programme(
            &w.org,
            &w.developer_ken,
            None,
            &ProgrammeInput {
                code: "RRP-KEN".into(),
                title: "Return and reintegration in Kenya".into(),
                unit: "CO-KEN".into(),
                projects: vec![p1.clone()],
                version: None,
            },
        )
        .await
        .unwrap();
    let rows = rollup(
        &w,
        &operator(),
        RollupScope::Programme(programme.code.clone()),
        "all",
        "",
    )
    .await;
    assert_eq!(
        row(&rows, &w.number_srf).actual.as_ref().unwrap().value,
        Some(decimal("15"))
    );
    assert_eq!(row(&rows, &w.number_srf).contributors, 2);
    let unit = rollup(
        &w,
        &operator(),
        RollupScope::Unit("CO-KEN".into()),
        "all",
        "",
    )
    .await;
    assert_eq!(
        row(&unit, &w.number_srf).actual.as_ref().unwrap().value,
        Some(decimal("22"))
    );
    // A project of another office cannot join a Kenyan programme.
    let (p_uga, _) = with_indicator(
        &w,
        "CO-UGA",
        "UGA",
        &person(
            &w.store,
            &w.org,
            "dev@uga.example",
            "CO-UGA",
            Role::ProjectDeveloper,
        )
        .await,
        IndicatorInput {
            categories: vec![],
            ..number_indicator(&w.number_srf)
        },
    )
    .await;
    let outside = w
        .store
        .save_programme(
            &w.org,
            &w.developer_ken,
            Some(&programme.id),
            &ProgrammeInput {
                code: "RRP-KEN".into(),
                title: "Return and reintegration in Kenya".into(),
                unit: "CO-KEN".into(),
                projects: vec![p1.clone(), p_uga],
                version: Some(programme.version),
            },
        )
        .await
        .unwrap_err();
    assert!(outside.to_string().contains("outside CO-KEN"), "{outside}");

    // Who has not reported in Q1: the second project's matrix is complete; Uganda's is not.
    let missing = w
        .store
        .missing_reports(&w.org, &operator(), "2026-02-15", None)
        .await
        .unwrap();
    let uga = missing.iter().find(|m| m.unit == "CO-UGA").unwrap();
    assert_eq!((uga.indicators, uga.not_reported), (1, 1));
    let ken: Vec<_> = missing.iter().filter(|m| m.unit == "CO-KEN").collect();
    assert!(
        ken.iter()
            .all(|m| m.not_reported == 0 && m.approved == m.indicators)
    );
}

#[tokio::test]
async fn a_matrix_refuses_what_does_not_fit_and_keeps_reported_history() {
    let w = world().await;
    let (project, ind) = with_indicator(
        &w,
        "CO-KEN",
        "KEN",
        &w.developer_ken,
        number_indicator(&w.number_srf),
    )
    .await;
    // A percentage indicator cannot contribute to a number SRF indicator.
    let r = w
        .store
        .results_framework(&w.org, &w.me_ken, &project)
        .await
        .unwrap()
        .results[0]
        .id
        .clone();
    let wrong = w
        .store
        .add_indicator(
            &w.org,
            &w.developer_ken,
            &r,
            &IndicatorInput {
                measure: "percentage".into(),
                target: None,
                baseline: None,
                targets: vec![],
                categories: vec![],
                ..number_indicator(&w.number_srf)
            },
        )
        .await
        .unwrap_err();
    assert!(
        matches!(
            &wrong,
            StoreError::Invalid {
                field: "srf_indicator",
                ..
            }
        ),
        "{wrong}"
    );
    let bad_period = w
        .store
        .add_indicator(
            &w.org,
            &w.developer_ken,
            &r,
            &IndicatorInput {
                targets: vec![TargetInput {
                    period: "2031-Q1".into(),
                    disaggregation: String::new(),
                    value: "5".into(),
                }],
                ..number_indicator(&w.number_srf)
            },
        )
        .await
        .unwrap_err();
    assert!(bad_period.to_string().contains("2026-Q1"), "{bad_period}");
    let bad_gcm = w
        .store
        .add_result(
            &w.org,
            &w.developer_ken,
            &project,
            &ResultInput {
                level: "outcome".into(),
                title: "x".into(),
                srf_codes: vec![],
                gcm_objectives: vec![24],
                sdg_targets: vec![],
                version: None,
            },
        )
        .await
        .unwrap_err();
    assert!(bad_gcm.to_string().contains("1 to 23"), "{bad_gcm}");
    // Once reported, the frequency and the indicator's measure stay.
    w.store
        .save_report(&w.org, &w.me_ken, &ind, "2026-Q1", &values("3", &[]))
        .await
        .unwrap();
    let freq = w
        .store
        .set_results_frequency(&w.org, &w.developer_ken, &project, "monthly")
        .await
        .unwrap_err();
    assert!(matches!(freq, StoreError::Conflict(_)), "{freq}");
    let delete = w
        .store
        .delete_indicator(&w.org, &w.developer_ken, &ind, None)
        .await
        .unwrap_err();
    assert!(matches!(delete, StoreError::Conflict(_)), "{delete}");
    // A stale edit of the indicator is refused.
    let stale = w
        .store
        .update_indicator(
            &w.org,
            &w.developer_ken,
            &ind,
            &IndicatorInput {
                version: Some(99),
                ..number_indicator(&w.number_srf)
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(stale, StoreError::Conflict(_)), "{stale}");
    let fresh = w
        .store
        .update_indicator(
            &w.org,
            &w.developer_ken,
            &ind,
            &IndicatorInput {
                version: Some(1),
                title: "People assisted".into(),
                ..number_indicator(&w.number_srf)
            },
        )
        .await
        .unwrap();
    assert_eq!(
        (fresh.title.as_str(), fresh.version),
        ("People assisted", 2)
    );
}

#[tokio::test]
async fn the_generated_benchmark_programme_rolls_up_every_figure() {
    let w = world().await;
    let id = w
        .store
        .demo_programme(
            &w.org,
            &operator(),
            &meridian_store::results::DemoProgrammeShape {
                code: "GEN".into(),
                unit: "CO-KEN".into(),
                country: "KEN".into(),
                projects: 3,
                indicators_per_project: 2,
                months: 2,
            },
        )
        .await
        .unwrap();
    // 3 projects × 2 indicators × 2 months × (total + 11 options).
    assert_eq!(w.store.programme_figure_count(&id).await.unwrap(), 144);
    let rows = rollup(
        &w,
        &operator(),
        RollupScope::Programme("GEN".into()),
        "all",
        "",
    )
    .await;
    let contributors: i64 = rows.iter().map(|r| r.contributors).sum();
    assert_eq!(contributors, 6, "every generated indicator contributes");
    let female = rollup(
        &w,
        &operator(),
        RollupScope::Programme("GEN".into()),
        "all",
        "sex=female",
    )
    .await;
    assert!(female.iter().any(|r| r.actual.is_some()));
}

/// A programme's stored roll-up cells, one line each in a stable order.
async fn programme_cells(store: &Store, programme: &str) -> Vec<String> {
    cell_lines(store, Some(programme)).await
}

/// Saves the programme with these members, then checks that the cells the change left (by
/// merging and taking out members' partials) are those a rebuild from every member's approved
/// values gives. Returns the new version and the cells.
async fn set_members(
    w: &World,
    actor: &Actor,
    programme: &meridian_store::results::Programme,
    version: i64,
    members: &[&String],
) -> (i64, Vec<String>) {
    let saved = w
        .store
        .save_programme(
            &w.org,
            actor,
            Some(&programme.id),
            &ProgrammeInput {
                code: programme.code.clone(),
                title: programme.title.clone(),
                unit: programme.unit.clone(),
                projects: members.iter().map(|m| (*m).clone()).collect(),
                version: Some(version),
            },
        )
        .await
        .unwrap();
    assert_eq!(saved.member_count, members.len() as i64);
    let incremental = programme_cells(&w.store, &programme.id).await;
    w.store.rebuild_all_cells().await.unwrap();
    let rebuilt = programme_cells(&w.store, &programme.id).await;
    assert_eq!(
        incremental,
        rebuilt,
        "the cells after a change to {} members are those of a full rebuild",
        members.len()
    );
    (saved.version, incremental)
}

#[tokio::test]
async fn changing_a_programme_s_members_updates_its_cells_as_a_full_rebuild_would() {
    let w = world().await;
    let percent = IndicatorInput {
        title: "Share of returnees with sustainable reintegration scores".into(),
        measure: "percentage".into(),
        categories: vec![],
        baseline: None,
        target: Some("80/100".into()),
        targets: vec![],
        ..number_indicator(&w.percent_srf)
    };
    // Per project: Q1 total and its parts by sex, Q2 total, a Q1 percentage. B is strictly
    // between A and C in every window, so taking it out leaves every extreme in place
    // (counts and sums subtracted); A holds lowest and highest figures, so taking it out
    // needs the remaining members' leaves.
    let shapes = [
        ("10", ["4", "5", "1"], "50", Some("9/10")),
        ("20", ["12", "6", "2"], "25", Some("50/100")),
        ("40", ["30", "7", "3"], "1", Some("10/90")),
        ("33", ["3", "30", "0"], "7", None),
    ];
    let mut projects = Vec::new();
    for (q1, [female, male, other], q2, share) in shapes {
        let (p, ind) = with_indicator(
            &w,
            "CO-KEN",
            "KEN",
            &w.developer_ken,
            number_indicator(&w.number_srf),
        )
        .await;
        for (period, total, parts) in [
            (
                "2026-Q1",
                q1,
                vec![
                    ("sex=female", female),
                    ("sex=male", male),
                    ("sex=other_unknown", other),
                ],
            ),
            ("2026-Q2", q2, vec![]),
        ] {
            w.store
                .save_report(&w.org, &w.me_ken, &ind, period, &values(total, &parts))
                .await
                .unwrap();
            w.store
                .transition_report(&w.org, &w.me_ken, &ind, period, &action("submit", ""))
                .await
                .unwrap();
            w.store
                .transition_report(&w.org, &w.me_ken_2, &ind, period, &action("approve", ""))
                .await
                .unwrap();
        }
        if let Some(share) = share {
            let r = w
                .store
                .results_framework(&w.org, &w.me_ken, &p)
                .await
                .unwrap()
                .results[0]
                .id
                .clone();
            let i = w
                .store
                .add_indicator(&w.org, &w.developer_ken, &r, &percent)
                .await
                .unwrap()
                .id;
            report_and_approve(&w, &w.me_ken, &w.me_ken_2, &i, "2026-Q1", share).await;
        }
        projects.push(p);
    }
    let [a, b, c, d] = [&projects[0], &projects[1], &projects[2], &projects[3]];
    let created = w
        .store
        .save_programme(
            &w.org,
            &w.developer_ken,
            None,
            &ProgrammeInput {
                code: "RRP-KEN".into(),
                title: "Return and reintegration in Kenya".into(),
                unit: "CO-KEN".into(),
                projects: vec![a.clone(), b.clone()],
                version: None,
            },
        )
        .await
        .unwrap();
    let at_creation = programme_cells(&w.store, &created.id).await;
    w.store.rebuild_all_cells().await.unwrap();
    assert_eq!(at_creation, programme_cells(&w.store, &created.id).await);
    assert!(!at_creation.is_empty());
    let total = async |window: &str, key: &str, srf: &str| {
        let rows = rollup(
            &w,
            &operator(),
            RollupScope::Programme("RRP-KEN".into()),
            window,
            key,
        )
        .await;
        let r = row(&rows, srf);
        (r.contributors, r.actual.clone())
    };
    assert_eq!(
        total("all", "", &w.number_srf).await.1.unwrap().value,
        Some(decimal("105"))
    );

    // Add C (new highest Q1 figure, new lowest Q2 figure): merged.
    let (v, _) = set_members(&w, &w.developer_ken, &created, created.version, &[a, b, c]).await;
    assert_eq!(
        total("all", "", &w.number_srf).await.1.unwrap().value,
        Some(decimal("146"))
    );
    // Take B out: subtracted, every extreme stays.
    let (v, cells) = set_members(&w, &w.developer_ken, &created, v, &[a, c]).await;
    let (n, actual) = total("all", "", &w.number_srf).await;
    assert_eq!((n, actual.unwrap().value), (2, Some(decimal("101"))));
    let share = total("2026-Q1", "", &w.percent_srf).await.1.unwrap();
    assert_eq!(
        (share.numerator, share.denominator),
        (Some(decimal("19")), Some(decimal("100")))
    );
    let female = total("2026-Q1", "sex=female", &w.number_srf).await;
    assert_eq!(
        (female.0, female.1.unwrap().value),
        (2, Some(decimal("34")))
    );
    assert!(cells.iter().any(|c| c.contains(" 2026-Q1 sex=female ")));
    // Take A out (it holds extremes) and add D in the same change.
    let (v, _) = set_members(&w, &w.developer_ken, &created, v, &[c, d]).await;
    assert_eq!(
        total("2026-Q2", "", &w.number_srf).await.1.unwrap().value,
        Some(decimal("8"))
    );
    // The same members again: nothing changes.
    let (v, _) = set_members(&w, &w.developer_ken, &created, v, &[d, c]).await;
    // Every member out: no cells left.
    let (v, cells) = set_members(&w, &w.developer_ken, &created, v, &[]).await;
    assert!(cells.is_empty(), "{cells:?}");
    // And back, all at once.
    let (v, _) = set_members(&w, &w.developer_ken, &created, v, &[d, c, b, a]).await;
    assert_eq!(
        total("all", "", &w.number_srf).await.1.unwrap().value,
        Some(decimal("186"))
    );

    // Each change is audited, as one event with the members before and after.
    use sqlx::Row;
    let events: Vec<(String, String)> = sqlx::query(
        "SELECT action, after_json FROM audit_events WHERE entity = 'programme' AND entity_id = $1 \
         ORDER BY at",
    )
    .bind(&created.id)
    .fetch_all(w.store.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| {
        (
            r.try_get("action").unwrap(),
            r.try_get("after_json").unwrap(),
        )
    })
    .collect();
    assert_eq!(events.len() as i64, v);
    assert!(
        events[1..]
            .iter()
            .all(|(action, _)| action == "programme.update")
    );
    assert!(events[2].1.contains(c.as_str()) && !events[3].1.contains(b.as_str()));

    // A stale version is refused and changes nothing.
    let stale = w
        .store
        .save_programme(
            &w.org,
            &w.developer_ken,
            Some(&created.id),
            &ProgrammeInput {
                code: "RRP-KEN".into(),
                title: "Return and reintegration in Kenya".into(),
                unit: "CO-KEN".into(),
                projects: vec![a.clone()],
                version: Some(v - 1),
            },
        )
        .await
        .unwrap_err();
    assert!(matches!(stale, StoreError::Conflict(_)), "{stale}");
    assert_eq!(
        w.store
            .programme(&w.org, &operator(), &created.id)
            .await
            .unwrap()
            .member_count,
        4
    );
}

#[tokio::test]
async fn a_generated_programme_s_cells_stay_those_of_a_full_rebuild_as_members_come_and_go() {
    let w = world().await;
    let shape = meridian_store::results::DemoProgrammeShape {
        code: "GEN".into(),
        unit: "CO-KEN".into(),
        country: "KEN".into(),
        projects: 4,
        indicators_per_project: 3,
        months: 4,
    };
    let generated = w
        .store
        .demo_programme(&w.org, &operator(), &shape)
        .await
        .unwrap();
    let members: Vec<String> = w
        .store
        .programme(&w.org, &operator(), &generated)
        .await
        .unwrap()
        .projects
        .into_iter()
        .map(|p| p.id)
        .collect();
    let extra = w
        .store
        .demo_programme_project(&w.org, &operator(), &shape, "extra")
        .await
        .unwrap();
    let sub = w
        .store
        .save_programme(
            &w.org,
            &w.developer_ken,
            None,
            &ProgrammeInput {
                code: "GEN-SUB".into(),
                title: "Part of the generated programme".into(),
                unit: "CO-KEN".into(),
                projects: members[..2].to_vec(),
                version: None,
            },
        )
        .await
        .unwrap();
    let at_creation = programme_cells(&w.store, &sub.id).await;
    w.store.rebuild_all_cells().await.unwrap();
    assert_eq!(at_creation, programme_cells(&w.store, &sub.id).await);
    let m: Vec<&String> = members.iter().collect();
    let mut v = sub.version;
    for set in [
        vec![m[0], m[1], &extra],
        vec![m[1], &extra],
        vec![m[1], m[2], m[3]],
        vec![m[3], &extra, m[0]],
        vec![m[3]],
    ] {
        v = set_members(&w, &w.developer_ken, &sub, v, &set).await.0;
    }
    // The generated programme grows by the extra project the same way.
    let programme = w
        .store
        .programme(&w.org, &operator(), &generated)
        .await
        .unwrap();
    let mut all: Vec<&String> = m.clone();
    all.push(&extra);
    let (_, cells) = set_members(&w, &operator(), &programme, programme.version, &all).await;
    // 4 SRF indicators at most × 4 windows × (total + 11 options), all with figures.
    assert!(cells.len() >= 12 * 4, "{}", cells.len());
}

/// Approves a report already saved (submit by the reporter, approve by another person).
async fn submit_and_approve(
    w: &World,
    reporter: &Actor,
    approver: &Actor,
    ind: &str,
    period: &str,
) {
    w.store
        .transition_report(&w.org, reporter, ind, period, &action("submit", ""))
        .await
        .unwrap();
    w.store
        .transition_report(&w.org, approver, ind, period, &action("approve", ""))
        .await
        .unwrap();
}

#[tokio::test]
async fn values_per_combination_add_up_and_roll_up_per_option_and_per_combination() {
    let w = world().await;
    // Sex × age group (both exhaustive): nine combinations.
    let mut by_sex_and_age = number_indicator(&w.number_srf);
    by_sex_and_age.categories.push(CategoryInput {
        category: "age_group".into(),
        options: None,
        exhaustive: None,
    });
    // A combination target above the period's total target is refused.
    let mut bad_targets = by_sex_and_age.clone();
    bad_targets.targets.push(TargetInput {
        period: "2026-Q1".into(),
        disaggregation: "sex=female;age_group=age_18_59".into(),
        value: "101".into(),
    });
    let p = w
        .store
        .create_project(&w.org, &w.developer_ken, &project("CO-KEN", "KEN"))
        .await
        .unwrap();
    w.store
        .set_results_frequency(&w.org, &w.developer_ken, &p.id, "quarterly")
        .await
        .unwrap();
    let r = w
        .store
        .add_result(
            &w.org,
            &w.developer_ken,
            &p.id,
            &output("Returnees are assisted to reintegrate"),
        )
        .await
        .unwrap();
    let err = w
        .store
        .add_indicator(&w.org, &w.developer_ken, &r.id, &bad_targets)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("the combinations add up to 101, more than the total 100"),
        "{err}"
    );
    let mut unknown = by_sex_and_age.clone();
    unknown.targets.push(TargetInput {
        period: "2026-Q1".into(),
        disaggregation: "sex=female;nationality=ken".into(),
        value: "1".into(),
    });
    let err = w
        .store
        .add_indicator(&w.org, &w.developer_ken, &r.id, &unknown)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("unknown category \"nationality\""),
        "{err}"
    );
    by_sex_and_age.targets.push(TargetInput {
        period: "2026-Q1".into(),
        disaggregation: "sex=female;age_group=age_18_59".into(),
        value: "30".into(),
    });
    let a = w
        .store
        .add_indicator(&w.org, &w.developer_ken, &r.id, &by_sex_and_age)
        .await
        .unwrap();
    assert!(
        a.targets
            .iter()
            .any(|t| t.disaggregation == "age_group=age_18_59;sex=female"),
        "targets are stored under the canonical key: {:?}",
        a.targets
    );

    // Female 10 + 25 + 5, male 8 + 20 + 4, other or unknown 1 + 2 + 0: 75.
    let cells: &[(&str, &str)] = &[
        ("sex=female;age_group=age_0_17", "10"),
        ("sex=female;age_group=age_18_59", "25"),
        ("age_group=age_60_plus;sex=female", "5"),
        ("sex=male;age_group=age_0_17", "8"),
        ("sex=male;age_group=age_18_59", "20"),
        ("sex=male;age_group=age_60_plus", "4"),
        ("sex=other_unknown;age_group=age_0_17", "1"),
        ("sex=other_unknown;age_group=age_18_59", "2"),
        ("sex=other_unknown;age_group=age_60_plus", "0"),
    ];
    let stored = |store: &Store| {
        let ind = a.id.clone();
        let store = store.clone();
        async move {
            use sqlx::Row;
            sqlx::query("SELECT COUNT(*) AS n FROM indicator_values WHERE indicator_id = $1")
                .bind(ind)
                .fetch_one(store.pool())
                .await
                .unwrap()
                .try_get::<i64, _>("n")
                .unwrap()
        }
    };
    // A wrong total is refused naming both sums, and nothing is saved.
    let err = w
        .store
        .save_report(&w.org, &w.me_ken, &a.id, "2026-Q1", &values("76", cells))
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains(
            "the combinations add up to 75, but the total is 76; the categories cover everyone"
        ),
        "{err}"
    );
    assert_eq!(stored(&w.store).await, 0);
    // A missing combination, an unknown option, and combinations mixed with single options.
    let err = w
        .store
        .save_report(
            &w.org,
            &w.me_ken,
            &a.id,
            "2026-Q1",
            &values("75", &cells[..8]),
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("8 of 9 given"), "{err}");
    let mut wrong_option = cells.to_vec();
    wrong_option[0] = ("sex=woman;age_group=age_0_17", "10");
    let err = w
        .store
        .save_report(
            &w.org,
            &w.me_ken,
            &a.id,
            "2026-Q1",
            &values("75", &wrong_option),
        )
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("unknown option \"woman\" of sex"),
        "{err}"
    );
    let mut mixed = cells.to_vec();
    mixed.push(("sex=female", "40"));
    let err = w
        .store
        .save_report(&w.org, &w.me_ken, &a.id, "2026-Q1", &values("75", &mixed))
        .await
        .unwrap_err();
    assert!(err.to_string().contains("give one or the other"), "{err}");
    assert_eq!(stored(&w.store).await, 0);

    let saved = w
        .store
        .save_report(&w.org, &w.me_ken, &a.id, "2026-Q1", &values("75", cells))
        .await
        .unwrap();
    assert_eq!(saved.values.len(), 10, "the total and nine combinations");
    assert!(
        saved
            .values
            .iter()
            .any(|v| v.disaggregation == "age_group=age_18_59;sex=female"
                && v.figure.value == Some(decimal("25"))),
        "{:?}",
        saved.values
    );
    submit_and_approve(&w, &w.me_ken, &w.me_ken_2, &a.id, "2026-Q1").await;
    // Another period of the same indicator reported per sex only.
    w.store
        .save_report(
            &w.org,
            &w.me_ken,
            &a.id,
            "2026-Q2",
            &values(
                "10",
                &[
                    ("sex=female", "10"),
                    ("sex=male", "0"),
                    ("sex=other_unknown", "0"),
                ],
            ),
        )
        .await
        .unwrap();
    submit_and_approve(&w, &w.me_ken, &w.me_ken_2, &a.id, "2026-Q2").await;
    // A second project's indicator, disaggregated by sex only: 6 women, 4 men.
    let (_, b) = with_indicator(
        &w,
        "CO-KEN",
        "KEN",
        &w.developer_ken,
        number_indicator(&w.number_srf),
    )
    .await;
    w.store
        .save_report(
            &w.org,
            &w.me_ken,
            &b,
            "2026-Q1",
            &values(
                "10",
                &[
                    ("sex=female", "6"),
                    ("sex=male", "4"),
                    ("sex=other_unknown", "0"),
                ],
            ),
        )
        .await
        .unwrap();
    submit_and_approve(&w, &w.me_ken, &w.me_ken_2, &b, "2026-Q1").await;

    let at = |key: &'static str, window: &'static str| {
        let w = &w;
        async move {
            let rows = rollup(
                w,
                &w.me_ken,
                RollupScope::Unit("CO-KEN".into()),
                window,
                key,
            )
            .await;
            let r = row(&rows, &w.number_srf).clone();
            (
                r.actual.and_then(|f| f.value),
                r.contributors,
                r.target.and_then(|f| f.value),
            )
        }
    };
    // Totals: 75 + 10 + 10.
    assert_eq!(at("", "all").await.0, Some(decimal("95")));
    // Women: 40 derived from the combinations, 10 reported in Q2, 6 from the second project.
    // No target for women: only one of their three combinations has a target.
    assert_eq!(
        at("sex=female", "all").await,
        (Some(decimal("56")), 2, None)
    );
    assert_eq!(at("sex=male", "all").await.0, Some(decimal("36")));
    assert_eq!(
        at("sex=other_unknown", "2026-Q1").await.0,
        Some(decimal("3"))
    );
    // Ages come from the first project's combinations only: 10 + 8 + 1, 25 + 20 + 2, 5 + 4.
    assert_eq!(at("age_group=age_0_17", "all").await.0, Some(decimal("19")));
    assert_eq!(
        at("age_group=age_18_59", "all").await,
        (Some(decimal("47")), 1, None)
    );
    assert_eq!(
        at("age_group=age_60_plus", "all").await.0,
        Some(decimal("9"))
    );
    // One combination, asked in any order, with its target.
    assert_eq!(
        at("sex=female;age_group=age_18_59", "all").await,
        (Some(decimal("25")), 1, Some(decimal("30")))
    );
    assert_eq!(
        at("age_group=age_18_59;sex=female", "2026-Q2").await.0,
        None,
        "nothing per combination was reported in Q2"
    );
    let err = w
        .store
        .results_rollup(
            &w.org,
            &w.me_ken,
            &RollupScope::Unit("CO-KEN".into()),
            &RollupQuery {
                window: "all".into(),
                disaggregation: "sex=female;sex=male".into(),
            },
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("sex is named twice"), "{err}");

    // The indicator cannot lose a category its combinations name.
    let current = w
        .store
        .results_framework(&w.org, &w.me_ken, &p.id)
        .await
        .unwrap();
    let version = current.indicator(&a.id).unwrap().version;
    let mut fewer = number_indicator(&w.number_srf);
    fewer.version = Some(version);
    let err = w
        .store
        .update_indicator(&w.org, &w.developer_ken, &a.id, &fewer)
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("values were reported for age_group="),
        "{err}"
    );
}

#[tokio::test]
async fn percentages_per_combination_roll_up_per_option_from_numerators_and_denominators() {
    let w = world().await;
    // Sex × disability: disability is not exhaustive, so combinations add up to at most the
    // total and only the disability figures are derived (sex would miss people not asked).
    let indicator = IndicatorInput {
        title: "Share of returnees reporting safe access to services".into(),
        measure: "percentage".into(),
        categories: vec![
            CategoryInput {
                category: "sex".into(),
                options: None,
                exhaustive: None,
            },
            CategoryInput {
                category: "disability".into(),
                options: None,
                exhaustive: None,
            },
        ],
        baseline: None,
        target: Some("80/100".into()),
        targets: vec![],
        ..number_indicator(&w.percent_srf)
    };
    let (_, ind) = with_indicator(&w, "CO-KEN", "KEN", &w.developer_ken, indicator).await;
    let cells: &[(&str, &str)] = &[
        ("sex=female;disability=with_disability", "3/4"),
        ("sex=female;disability=without_disability", "20/40"),
        ("sex=male;disability=with_disability", "1/6"),
        ("sex=male;disability=without_disability", "10/30"),
        ("sex=other_unknown;disability=with_disability", "0/0"),
        ("sex=other_unknown;disability=without_disability", "1/2"),
    ];
    // 35/82 in all; a total of 30/80 is below the combinations: refused.
    let err = w
        .store
        .save_report(&w.org, &w.me_ken, &ind, "2026-Q1", &values("30/80", cells))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("the combinations add up to 35/82, more than the total 30/80"),
        "{err}"
    );
    // Some people were not asked about disability: the total is larger.
    w.store
        .save_report(&w.org, &w.me_ken, &ind, "2026-Q1", &values("40/100", cells))
        .await
        .unwrap();
    submit_and_approve(&w, &w.me_ken, &w.me_ken_2, &ind, "2026-Q1").await;
    let at = |key: &'static str| {
        let w = &w;
        async move {
            let rows = rollup(w, &w.me_ken, RollupScope::Unit("CO-KEN".into()), "all", key).await;
            let a = row(&rows, &w.percent_srf).actual.clone();
            a.map(|f| (f.numerator.unwrap(), f.denominator.unwrap()))
        }
    };
    assert_eq!(at("").await, Some((decimal("40"), decimal("100"))));
    // With disability: 3 + 1 + 0 of 4 + 6 + 0; without: 20 + 10 + 1 of 40 + 30 + 2.
    assert_eq!(
        at("disability=with_disability").await,
        Some((decimal("4"), decimal("10")))
    );
    assert_eq!(
        at("disability=without_disability").await,
        Some((decimal("31"), decimal("72")))
    );
    assert_eq!(at("sex=female").await, None, "not derived over disability");
    assert_eq!(
        at("sex=male;disability=without_disability").await,
        Some((decimal("10"), decimal("30")))
    );
}

/// The cells of a template for one report, as read back: the total and the sex options, each
/// with the report version the template was made at.
fn uploaded(
    indicator: &str,
    version: Option<i64>,
    total: &str,
    parts: &[(&str, &str)],
) -> Vec<UploadValue> {
    let mut out = vec![UploadValue {
        indicator_id: indicator.into(),
        project: String::new(),
        project_location: None,
        period_start: "2026-01-01".into(),
        disaggregation: String::new(),
        value: total.into(),
        narrative: Some("Figures from the case management system.".into()),
        location: "Report!H4".into(),
        narrative_location: Some("Report!K4".into()),
        report_version: version,
    }];
    for (i, (k, v)) in parts.iter().enumerate() {
        out.push(UploadValue {
            indicator_id: indicator.into(),
            project: String::new(),
            project_location: None,
            period_start: "2026-01-01".into(),
            disaggregation: (*k).into(),
            value: (*v).into(),
            narrative: None,
            location: format!("Report!H{}", 5 + i),
            narrative_location: None,
            report_version: version,
        });
    }
    out
}

#[tokio::test]
async fn an_upload_over_a_report_changed_since_the_download_is_refused_and_saves_nothing() {
    let w = world().await;
    let (project, indicator) = with_indicator(
        &w,
        "CO-KEN",
        "KEN",
        &w.developer_ken,
        number_indicator(&w.number_srf),
    )
    .await;
    let parts = [
        ("sex=female", "7"),
        ("sex=male", "5"),
        ("sex=other_unknown", "0"),
    ];
    w.store
        .save_report(
            &w.org,
            &w.me_ken,
            &indicator,
            "2026-Q1",
            &values("12", &parts),
        )
        .await
        .unwrap();
    // The template is downloaded: it stamps each row with the report's version.
    let read_version = |f: &meridian_store::results::ResultsFramework| {
        f.results[0].indicators[0]
            .report("2026-01-01")
            .map(|r| r.version)
    };
    let f = w
        .store
        .results_framework(&w.org, &w.me_ken, &project)
        .await
        .unwrap();
    let downloaded = read_version(&f).unwrap();
    // Another user changes the female figure (and the total) in Meridian.
    let changed = [
        ("sex=female", "8"),
        ("sex=male", "5"),
        ("sex=other_unknown", "0"),
    ];
    let mut input = values("13", &changed);
    input.version = Some(downloaded);
    w.store
        .save_report(&w.org, &w.me_ken_2, &indicator, "2026-Q1", &input)
        .await
        .unwrap();
    let now = read_version(
        &w.store
            .results_framework(&w.org, &w.me_ken, &project)
            .await
            .unwrap(),
    )
    .unwrap();
    assert_ne!(now, downloaded);
    let audited = count(
        &w.store,
        "SELECT COUNT(*) AS n FROM audit_events WHERE entity = 'indicator_report'",
    )
    .await;

    // The old template, with a third figure: refused as a conflict, each differing cell named.
    let out = w
        .store
        .upload_reports(
            &w.org,
            &w.me_ken,
            &project,
            &uploaded(
                &indicator,
                Some(downloaded),
                "14",
                &[
                    ("sex=female", "9"),
                    ("sex=male", "5"),
                    ("sex=other_unknown", "0"),
                ],
            ),
        )
        .await
        .unwrap();
    assert!(out.conflict, "{out:?}");
    assert_eq!(out.saved, 0);
    let cells: Vec<&str> = out.problems.iter().map(|p| p.cell.as_str()).collect();
    assert_eq!(cells, ["Report!H4", "Report!H5"], "{out:?}");
    assert!(
        out.problems[0]
            .message
            .starts_with("changed by me2@ken.example at "),
        "{out:?}"
    );
    assert!(
        out.problems[0]
            .message
            .contains("since this template was downloaded")
    );
    let f = w
        .store
        .results_framework(&w.org, &w.me_ken, &project)
        .await
        .unwrap();
    let report = f.results[0].indicators[0].report("2026-01-01").unwrap();
    assert_eq!(report.version, now, "nothing saved");
    assert_eq!(report.total().unwrap().to_input(), "13");
    assert_eq!(
        count(
            &w.store,
            "SELECT COUNT(*) AS n FROM audit_events WHERE entity = 'indicator_report'",
        )
        .await,
        audited,
        "nothing audited"
    );

    // The same old template whose figures are those stored now: not a conflict, unchanged.
    let out = w
        .store
        .upload_reports(
            &w.org,
            &w.me_ken,
            &project,
            &uploaded(&indicator, Some(downloaded), "13", &changed),
        )
        .await
        .unwrap();
    assert_eq!(
        (out.conflict, out.saved, out.unchanged),
        (false, 0, 1),
        "{out:?}"
    );
    assert!(out.problems.is_empty(), "{out:?}");

    // A template without the version (made before the column existed): as before, saved.
    let out = w
        .store
        .upload_reports(
            &w.org,
            &w.me_ken,
            &project,
            &uploaded(
                &indicator,
                None,
                "14",
                &[
                    ("sex=female", "9"),
                    ("sex=male", "5"),
                    ("sex=other_unknown", "0"),
                ],
            ),
        )
        .await
        .unwrap();
    assert_eq!((out.conflict, out.saved), (false, 1), "{out:?}");

    // A fresh template (the current version) with a change: saved.
    let current = read_version(
        &w.store
            .results_framework(&w.org, &w.me_ken, &project)
            .await
            .unwrap(),
    )
    .unwrap();
    let out = w
        .store
        .upload_reports(
            &w.org,
            &w.me_ken,
            &project,
            &uploaded(
                &indicator,
                Some(current),
                "15",
                &[
                    ("sex=female", "10"),
                    ("sex=male", "5"),
                    ("sex=other_unknown", "0"),
                ],
            ),
        )
        .await
        .unwrap();
    assert_eq!((out.conflict, out.saved), (false, 1), "{out:?}");

    // A template made when there was no report (version 0) while one was saved since.
    let out = w
        .store
        .upload_reports(
            &w.org,
            &w.me_ken,
            &project,
            &uploaded(
                &indicator,
                Some(0),
                "16",
                &[
                    ("sex=female", "11"),
                    ("sex=male", "5"),
                    ("sex=other_unknown", "0"),
                ],
            ),
        )
        .await
        .unwrap();
    assert!(out.conflict, "{out:?}");
    assert!(
        out.problems[0]
            .message
            .starts_with("changed by me@ken.example at "),
        "{out:?}"
    );
}

#[tokio::test]
async fn reporting_periods_follow_the_project_s_dates_and_keep_what_was_reported() {
    let w = world().await;
    let (pid, ind) = with_indicator(
        &w,
        "CO-KEN",
        "KEN",
        &w.developer_ken,
        number_indicator(&w.number_srf),
    )
    .await;
    report_and_approve(&w, &w.me_ken, &w.me_ken_2, &ind, "2026-10-01", "30").await;
    let periods = |w: &World| {
        let store = w.store.clone();
        let org = w.org.clone();
        let me = w.me_ken.clone();
        let pid = pid.clone();
        async move {
            store
                .results_framework(&org, &me, &pid)
                .await
                .unwrap()
                .periods
                .iter()
                .map(|p| format!("{} {}..{}", p.label, p.start, p.end))
                .collect::<Vec<_>>()
        }
    };
    let edit = |end: &str| {
        let mut input = project("CO-KEN", "KEN");
        input.end_date = end.into();
        input
    };
    let version = |w: &World| {
        let store = w.store.clone();
        let pid = pid.clone();
        async move {
            use sqlx::Row;
            let n: i64 = sqlx::query("SELECT version FROM projects WHERE id = $1")
                .bind(&pid)
                .fetch_one(store.pool())
                .await
                .unwrap()
                .get("version");
            n
        }
    };

    // Extended to mid-May 2027: two more quarters, the last one clipped to the new end.
    w.store
        .update_project(
            &w.org,
            &w.developer_ken,
            &pid,
            &edit("2027-05-15"),
            version(&w).await,
        )
        .await
        .unwrap();
    let after = periods(&w).await;
    assert_eq!(after.len(), 6, "{after:?}");
    assert_eq!(after[5], "2027-Q2 2027-04-01..2027-05-15");
    let audited: i64 = count(
        &w.store,
        "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'project.results_periods'",
    )
    .await;
    assert_eq!(audited, 1);

    // Shortened to June 2026: Q3 and 2027 go; Q4 has an approved figure and stays, and its
    // figure stays in the roll-up; Q1 and Q2 (with targets) are within the dates anyway.
    w.store
        .update_project(
            &w.org,
            &w.developer_ken,
            &pid,
            &edit("2026-06-30"),
            version(&w).await,
        )
        .await
        .unwrap();
    let after = periods(&w).await;
    assert_eq!(
        after,
        vec![
            "2026-Q1 2026-01-01..2026-03-31",
            "2026-Q2 2026-04-01..2026-06-30",
            "2026-Q4 2026-10-01..2026-12-31",
        ]
    );
    let rows = rollup(&w, &w.me_ken, RollupScope::Unit("CO-KEN".into()), "all", "").await;
    assert_eq!(
        row(&rows, &w.number_srf)
            .actual
            .as_ref()
            .map(|f| f.to_input()),
        Some("30".into())
    );
    // An edit that leaves the dates alone touches no period.
    let mut same = edit("2026-06-30");
    same.title = "Community stabilization in Kenya, phase 2".into();
    w.store
        .update_project(&w.org, &w.developer_ken, &pid, &same, version(&w).await)
        .await
        .unwrap();
    assert_eq!(periods(&w).await, after);
    let audited: i64 = count(
        &w.store,
        "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'project.results_periods'",
    )
    .await;
    assert_eq!(audited, 2);
}

#[tokio::test]
async fn an_approved_no_cost_extension_moves_the_reporting_periods() {
    use meridian_domain::projects::lifecycle::{RevisionTransition, Transition};
    use meridian_store::projects::{DelegationInput, RevisionInput};
    let w = world().await;
    let reviewer = person(
        &w.store,
        &w.org,
        "rev@nbo.example",
        "RO-NBO",
        Role::RegionalReviewer,
    )
    .await;
    let approver = person(
        &w.store,
        &w.org,
        "app@prima.example",
        "DSPOP-PRIMA",
        Role::Approver,
    )
    .await;
    for (authority, role, unit) in [
        ("endorse_project", "regional_reviewer", "RO-NBO"),
        ("approve_project", "approver", "DSPOP-PRIMA"),
        ("approve_revision", "approver", "DSPOP-PRIMA"),
    ] {
        w.store
            .create_delegation(
                &w.org,
                &operator(),
                &DelegationInput {
                    authority: authority.into(),
                    role: Some(role.into()),
                    unit: Some(unit.into()),
                    person: None,
                    limit_amount: "5000000".into(),
                    limit_currency: "USD".into(),
                    valid_from: "2020-01-01".into(),
                    valid_to: None,
                    may_subdelegate: false,
                    parent: None,
                },
            )
            .await
            .unwrap();
    }
    let (pid, ind) = with_indicator(
        &w,
        "CO-KEN",
        "KEN",
        &w.developer_ken,
        number_indicator(&w.number_srf),
    )
    .await;
    for (t, actor) in [
        (Transition::Submit, &w.developer_ken),
        (Transition::StartReview, &reviewer),
        (Transition::Endorse, &reviewer),
        (Transition::SubmitToDonor, &w.developer_ken),
        (Transition::Approve, &approver),
        (Transition::Activate, &w.developer_ken),
    ] {
        w.store
            .transition_project(&w.org, actor, &pid, t, "")
            .await
            .unwrap_or_else(|e| panic!("{t:?}: {e}"));
    }
    report_and_approve(&w, &w.me_ken, &w.me_ken_2, &ind, "2026-10-01", "30").await;
    let periods = || async {
        w.store
            .results_framework(&w.org, &w.me_ken, &pid)
            .await
            .unwrap()
            .periods
            .iter()
            .map(|p| format!("{} {}..{}", p.label, p.start, p.end))
            .collect::<Vec<_>>()
    };
    let before = periods().await;
    assert_eq!(before.len(), 4, "{before:?}");
    let audited = || {
        count(
            &w.store,
            "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'project.results_periods'",
        )
    };
    let revision = w
        .store
        .create_revision(
            &w.org,
            &w.developer_ken,
            &pid,
            &RevisionInput {
                kind: "no_cost_extension".into(),
                justification: "Elections delayed the last distribution".into(),
                end_date: Some("2027-05-15".into()),
                budget_lines: None,
                summary: None,
            },
        )
        .await
        .unwrap();
    w.store
        .transition_revision(
            &w.org,
            &w.developer_ken,
            &revision.id,
            RevisionTransition::Submit,
            "",
        )
        .await
        .unwrap();
    // Proposed, not yet approved: the periods stay as they were.
    assert_eq!(periods().await, before);
    assert_eq!(audited().await, 0);
    w.store
        .transition_revision(
            &w.org,
            &approver,
            &revision.id,
            RevisionTransition::Approve,
            "",
        )
        .await
        .unwrap();
    let after = periods().await;
    assert_eq!(after.len(), 6, "{after:?}");
    assert_eq!(
        &after[..4],
        &before[..],
        "the earlier periods are untouched"
    );
    assert_eq!(after[4], "2027-Q1 2027-01-01..2027-03-31");
    assert_eq!(after[5], "2027-Q2 2027-04-01..2027-05-15");
    assert_eq!(audited().await, 1, "the change of periods is audited");
    // What was approved before the extension is still there and still rolls up.
    let rows = rollup(&w, &w.me_ken, RollupScope::Unit("CO-KEN".into()), "all", "").await;
    assert_eq!(
        row(&rows, &w.number_srf)
            .actual
            .as_ref()
            .map(|f| f.to_input()),
        Some("30".into())
    );
    // The new periods take reports.
    report_and_approve(&w, &w.me_ken, &w.me_ken_2, &ind, "2027-04-01", "12").await;
    let rows = rollup(&w, &w.me_ken, RollupScope::Unit("CO-KEN".into()), "all", "").await;
    assert_eq!(
        row(&rows, &w.number_srf)
            .actual
            .as_ref()
            .map(|f| f.to_input()),
        Some("42".into())
    );
}

/// The cells of one report (total and the sex options, Q1 2026) of an office's template, as
/// read back: from data row `row`, the Project column A, Value H.
fn office_cells(
    indicator: &str,
    project: &str,
    row: usize,
    version: Option<i64>,
    total: &str,
) -> Vec<UploadValue> {
    let mut out = Vec::new();
    for (i, key) in ["", "sex=female", "sex=male", "sex=other_unknown"]
        .iter()
        .enumerate()
    {
        let value = match i {
            0 => total.to_owned(),
            // Everything in the first option, so that the parts add up to any total.
            1 => total.to_owned(),
            _ => "0".to_owned(),
        };
        out.push(UploadValue {
            indicator_id: indicator.into(),
            project: project.into(),
            project_location: Some(format!("Report!A{}", row + i)),
            period_start: "2026-01-01".into(),
            disaggregation: (*key).into(),
            value,
            narrative: (i == 0).then(|| "From the office's template.".into()),
            location: format!("Report!H{}", row + i),
            narrative_location: (i == 0).then(|| format!("Report!K{}", row)),
            report_version: version,
        });
    }
    out
}

async fn code_of(w: &World, project: &str) -> String {
    w.store
        .project(&w.org, &operator(), project)
        .await
        .unwrap()
        .code
}

#[tokio::test]
async fn an_office_template_covers_its_projects_and_its_upload_is_all_or_nothing_across_them() {
    let w = world().await;
    let developer_uga = person(
        &w.store,
        &w.org,
        "dev@uga.example",
        "CO-UGA",
        Role::ProjectDeveloper,
    )
    .await;
    let mut ken = Vec::new();
    for _ in 0..2 {
        ken.push(
            with_indicator(
                &w,
                "CO-KEN",
                "KEN",
                &w.developer_ken,
                number_indicator(&w.number_srf),
            )
            .await,
        );
    }
    let (uga_project, uga_indicator) = with_indicator(
        &w,
        "CO-UGA",
        "UGA",
        &developer_uga,
        number_indicator(&w.number_srf),
    )
    .await;
    let (a_code, b_code, uga_code) = (
        code_of(&w, &ken[0].0).await,
        code_of(&w, &ken[1].0).await,
        code_of(&w, &uga_project).await,
    );
    let (a, b) = (ken[0].1.clone(), ken[1].1.clone());

    // The office's frameworks for the period containing 15 February: both Kenyan projects,
    // each with that one quarter and its target, not the Ugandan one.
    let fs = w
        .store
        .office_frameworks(&w.org, &w.me_ken, "CO-KEN", "2026-02-15")
        .await
        .unwrap();
    let codes: Vec<&str> = fs.iter().map(|f| f.project_code.as_str()).collect();
    let mut expected = vec![a_code.as_str(), b_code.as_str()];
    expected.sort();
    assert_eq!(codes, expected);
    for f in &fs {
        assert_eq!(f.periods.len(), 1, "one period: {:?}", f.periods);
        assert_eq!(f.periods[0].label, "2026-Q1");
        let ind = &f.results[0].indicators[0];
        assert_eq!(ind.targets.len(), 1, "only the period's targets");
        assert_eq!(ind.target_for("2026-01-01", "").unwrap().to_input(), "100");
    }
    // A country office's staff cannot read another office's template.
    assert!(matches!(
        w.store
            .office_frameworks(&w.org, &w.me_uga, "CO-KEN", "2026-02-15")
            .await,
        Err(StoreError::Denied(_))
    ));
    assert!(matches!(
        w.store
            .upload_office_reports(
                &w.org,
                &w.me_uga,
                "CO-KEN",
                &office_cells(&a, &a_code, 4, Some(0), "10")
            )
            .await,
        Err(StoreError::Denied(_))
    ));

    let audited = || {
        count(
            &w.store,
            "SELECT COUNT(*) AS n FROM audit_events WHERE entity = 'indicator_report'",
        )
    };
    let before = audited().await;
    let reports = || count(&w.store, "SELECT COUNT(*) AS n FROM indicator_reports");

    // One bad cell in the second project: nothing saved in either, the cell named.
    let mut file = office_cells(&a, &a_code, 4, Some(0), "10");
    file.extend(office_cells(&b, &b_code, 8, Some(0), "lots"));
    let out = w
        .store
        .upload_office_reports(&w.org, &w.me_ken, "CO-KEN", &file)
        .await
        .unwrap();
    assert_eq!(out.saved, 0, "{out:?}");
    assert!(!out.conflict);
    let cells: Vec<&str> = out.problems.iter().map(|p| p.cell.as_str()).collect();
    assert_eq!(cells, ["Report!H8"], "{out:?}");
    assert!(out.problems[0].message.contains("\"lots\""), "{out:?}");
    assert_eq!(reports().await, 0, "nothing saved in either project");
    assert_eq!(audited().await, before, "nothing audited");

    // A row of a project of another office, named as such: refused with its Project cell.
    let mut file = office_cells(&a, &a_code, 4, Some(0), "10");
    file.extend(office_cells(&uga_indicator, &uga_code, 8, Some(0), "3"));
    let out = w
        .store
        .upload_office_reports(&w.org, &w.me_ken, "CO-KEN", &file)
        .await
        .unwrap();
    assert_eq!(out.saved, 0, "{out:?}");
    assert_eq!(out.problems.len(), 1, "{out:?}");
    assert_eq!(out.problems[0].cell, "Report!A8");
    assert!(
        out.problems[0].message.contains(&uga_code) && out.problems[0].message.contains("CO-UGA"),
        "{out:?}"
    );
    // An indicator under the name of another project of the office: each such cell refused.
    let mut file = office_cells(&a, &a_code, 4, Some(0), "10");
    file.extend(office_cells(&b, &a_code, 8, Some(0), "3"));
    let out = w
        .store
        .upload_office_reports(&w.org, &w.me_ken, "CO-KEN", &file)
        .await
        .unwrap();
    let cells: Vec<&str> = out.problems.iter().map(|p| p.cell.as_str()).collect();
    assert_eq!(
        cells,
        ["Report!A8", "Report!A9", "Report!A10", "Report!A11"],
        "{out:?}"
    );
    assert!(out.problems[0].message.contains(&b_code), "{out:?}");
    assert_eq!(reports().await, 0);
    assert_eq!(audited().await, before);

    // A good file: both projects saved as drafts in one go, each report audited.
    let mut file = office_cells(&a, &a_code, 4, Some(0), "10");
    file.extend(office_cells(&b, &b_code, 8, Some(0), "3"));
    let out = w
        .store
        .upload_office_reports(&w.org, &w.me_ken, "CO-KEN", &file)
        .await
        .unwrap();
    assert_eq!((out.saved, out.unchanged), (2, 0), "{out:?}");
    assert!(out.problems.is_empty());
    assert_eq!(audited().await, before + 2);
    let events = w
        .store
        .audit_events(&meridian_store::audit::AuditQuery {
            entity: Some("indicator_report".into()),
            action: Some("indicator_report.upload".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 2);
    assert!(
        events.iter().all(|e| e.unit.as_deref() == Some("CO-KEN")),
        "{events:?}"
    );
    let fs = w
        .store
        .office_frameworks(&w.org, &w.me_ken, "CO-KEN", "2026-03-31")
        .await
        .unwrap();
    let totals: Vec<(String, String)> = fs
        .iter()
        .map(|f| {
            let r = f.results[0].indicators[0].report("2026-01-01").unwrap();
            (f.project_code.clone(), r.total().unwrap().to_input())
        })
        .collect();
    let mut expected = vec![
        (a_code.clone(), "10".to_owned()),
        (b_code.clone(), "3".to_owned()),
    ];
    expected.sort();
    assert_eq!(totals, expected);
    let b_version = fs
        .iter()
        .find(|f| f.project_code == b_code)
        .unwrap()
        .results[0]
        .indicators[0]
        .report("2026-01-01")
        .unwrap()
        .version;

    // Someone changes the second project's figure in Meridian; the old file (versions of
    // the download) with other figures is a conflict, and nothing is saved.
    let mut input = values(
        "4",
        &[
            ("sex=female", "4"),
            ("sex=male", "0"),
            ("sex=other_unknown", "0"),
        ],
    );
    input.version = Some(b_version);
    w.store
        .save_report(&w.org, &w.me_ken_2, &b, "2026-Q1", &input)
        .await
        .unwrap();
    let mut file = office_cells(&a, &a_code, 4, Some(1), "11");
    file.extend(office_cells(&b, &b_code, 8, Some(b_version), "5"));
    let out = w
        .store
        .upload_office_reports(&w.org, &w.me_ken, "CO-KEN", &file)
        .await
        .unwrap();
    assert!(out.conflict, "{out:?}");
    assert_eq!(out.saved, 0);
    assert_eq!(out.problems[0].cell, "Report!H8", "{out:?}");
    assert!(
        out.problems[0]
            .message
            .starts_with("changed by me2@ken.example"),
        "{out:?}"
    );
    let fs = w
        .store
        .office_frameworks(&w.org, &w.me_ken, "CO-KEN", "2026-01-01")
        .await
        .unwrap();
    let a_now = fs
        .iter()
        .find(|f| f.project_code == a_code)
        .unwrap()
        .results[0]
        .indicators[0]
        .report("2026-01-01")
        .unwrap()
        .total()
        .unwrap()
        .to_input();
    assert_eq!(a_now, "10", "the first project was not saved either");
}

/// Every stored roll-up cell (units and programmes), one line each in a stable order.
async fn all_cells(store: &Store) -> Vec<String> {
    cell_lines(store, None).await
}

/// The stored roll-up cells, one line each ("kind scope srf region window key" then the
/// partial's numbers) in a stable order: all of them, or one programme's.
async fn cell_lines(store: &Store, programme: Option<&str>) -> Vec<String> {
    use sqlx::Row;
    let filter = if programme.is_some() {
        "WHERE scope_kind = 'programme' AND scope = $1 "
    } else {
        ""
    };
    let mut q = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT scope_kind, scope, srf_indicator_code, region_code, time_window, disaggregation, \
         fraction, leaves, n_e4, d_e4, min_n_e4, min_d_e4, max_n_e4, max_d_e4, target_leaves, \
         target_n_e4, target_d_e4, baseline_leaves, baseline_n_e4, baseline_d_e4 \
         FROM results_cells {filter}\
         ORDER BY scope_kind, scope, srf_indicator_code, time_window, disaggregation"
    )));
    if let Some(p) = programme {
        q = q.bind(p.to_owned());
    }
    q.fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| {
            let mut line = [
                "scope_kind",
                "scope",
                "srf_indicator_code",
                "region_code",
                "time_window",
                "disaggregation",
            ]
            .map(|c| r.try_get::<String, _>(c).unwrap())
            .join(" ");
            for c in [
                "fraction",
                "leaves",
                "n_e4",
                "d_e4",
                "min_n_e4",
                "min_d_e4",
                "max_n_e4",
                "max_d_e4",
                "target_leaves",
                "target_n_e4",
                "target_d_e4",
                "baseline_leaves",
                "baseline_n_e4",
                "baseline_d_e4",
            ] {
                line.push(' ');
                line.push_str(
                    &r.try_get::<Option<i64>, _>(c)
                        .unwrap()
                        .map_or("-".to_owned(), |v| v.to_string()),
                );
            }
            line
        })
        .collect()
}

/// The cells left by the change just made (moved by the project's difference) are those a
/// rebuild from every approved value gives, for the units and the programmes alike.
async fn cells_as_rebuilt(w: &World, programme: &str, what: &str) -> Vec<String> {
    let incremental = all_cells(&w.store).await;
    assert!(
        incremental
            .iter()
            .any(|c| c.starts_with(&format!("programme {programme} "))),
        "after {what}: the programme has cells"
    );
    w.store.rebuild_all_cells().await.unwrap();
    let rebuilt = all_cells(&w.store).await;
    assert_eq!(
        incremental, rebuilt,
        "after {what}: the cells are those of a full rebuild"
    );
    incremental
}

/// Edits a report (returned or new) back to draft, submits it as the reporter and approves it
/// as another officer.
async fn resubmit_and_approve(w: &World, ind: &str, period: &str, input: ReportInput) {
    w.store
        .save_report(&w.org, &w.me_ken, ind, period, &input)
        .await
        .unwrap();
    w.store
        .transition_report(&w.org, &w.me_ken, ind, period, &action("submit", ""))
        .await
        .unwrap();
    w.store
        .transition_report(&w.org, &w.me_ken_2, ind, period, &action("approve", ""))
        .await
        .unwrap();
}

#[tokio::test]
async fn approvals_returns_and_indicator_edits_in_members_move_the_cells_as_a_full_rebuild_would() {
    let w = world().await;
    // A third SRF indicator, of numbers, re-typed to take the highest figure across units: its
    // cells' extremes are what it shows.
    let rbm = person(
        &w.store,
        &w.org,
        "rbm@hq.example",
        w.org.root().code.as_str(),
        Role::RbmOfficer,
    )
    .await;
    let max_srf = w
        .store
        .srf_indicators()
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.measure == Measure::Number && i.code != w.number_srf)
        .expect("the shipped SRF has two indicators of numbers");
    w.store
        .update_srf_indicator(
            &w.org,
            &rbm,
            &max_srf.code,
            &meridian_store::results::SrfIndicatorInput {
                title: max_srf.title.clone(),
                aggregation: "max".into(),
                direction: max_srf.direction.as_str().into(),
                unit: max_srf.unit.clone(),
                version: max_srf.version,
            },
        )
        .await
        .unwrap();
    let max_srf = max_srf.code;
    let percent = IndicatorInput {
        title: "Share of returnees with sustainable reintegration scores".into(),
        measure: "percentage".into(),
        categories: vec![],
        baseline: None,
        target: Some("80/100".into()),
        targets: vec![],
        ..number_indicator(&w.percent_srf)
    };
    let highest = |srf: &str, aggregation: &str| IndicatorInput {
        title: "Shelters open at any time".into(),
        aggregation: Some(aggregation.into()),
        categories: vec![],
        baseline: Some("2".into()),
        targets: vec![],
        ..number_indicator(srf)
    };
    // Four projects in CO-KEN; the first three in the programme. Each: a number by sex, a
    // percentage, and a figure whose highest (A, B) or lowest (C, D) over time counts.
    // A holds the highest Q1 total, the highest share and the highest shelters figure.
    let shapes = [
        ("40", ["30", "7", "3"], "90/100", "9", "max"),
        ("20", ["12", "6", "2"], "30/60", "5", "max"),
        ("10", ["4", "5", "1"], "10/90", "1", "min"),
        ("15", ["5", "5", "5"], "20/40", "3", "min"),
    ];
    // (project, number indicator, percentage indicator, highest or lowest indicator)
    let mut projects: Vec<(String, String, String, String)> = Vec::new();
    for (total, [female, male, other], share, shelters, aggregation) in shapes {
        let (p, number) = with_indicator(
            &w,
            "CO-KEN",
            "KEN",
            &w.developer_ken,
            number_indicator(&w.number_srf),
        )
        .await;
        let r = w
            .store
            .results_framework(&w.org, &w.me_ken, &p)
            .await
            .unwrap()
            .results[0]
            .id
            .clone();
        let pct = w
            .store
            .add_indicator(&w.org, &w.developer_ken, &r, &percent)
            .await
            .unwrap()
            .id;
        let high = w
            .store
            .add_indicator(
                &w.org,
                &w.developer_ken,
                &r,
                &highest(&max_srf, aggregation),
            )
            .await
            .unwrap()
            .id;
        for period in ["2026-Q1", "2026-Q2"] {
            resubmit_and_approve(
                &w,
                &number,
                period,
                values(
                    total,
                    &[
                        ("sex=female", female),
                        ("sex=male", male),
                        ("sex=other_unknown", other),
                    ],
                ),
            )
            .await;
        }
        report_and_approve(&w, &w.me_ken, &w.me_ken_2, &pct, "2026-Q1", share).await;
        report_and_approve(&w, &w.me_ken, &w.me_ken_2, &high, "2026-Q1", shelters).await;
        projects.push((p, number, pct, high));
    }
    let programme = w
        .store
        .save_programme(
            &w.org,
            &w.developer_ken,
            None,
            &ProgrammeInput {
                code: "RRP-KEN".into(),
                title: "Return and reintegration in Kenya".into(),
                unit: "CO-KEN".into(),
                projects: projects[..3].iter().map(|p| p.0.clone()).collect(),
                version: None,
            },
        )
        .await
        .unwrap();
    let id = programme.id.clone();
    cells_as_rebuilt(&w, &id, "creating the programme").await;
    let [a, b, c, d] = [&projects[0], &projects[1], &projects[2], &projects[3]];
    let programme_total = async |window: &str, srf: &str| {
        let rows = rollup(
            &w,
            &operator(),
            RollupScope::Programme("RRP-KEN".into()),
            window,
            "",
        )
        .await;
        row(&rows, srf).actual.clone()
    };
    assert_eq!(
        programme_total("all", &max_srf).await.unwrap().value,
        Some(decimal("9"))
    );

    // A new approval in B (no extreme involved): merged.
    resubmit_and_approve(&w, &b.1, "2026-Q3", values("8", &[])).await;
    cells_as_rebuilt(&w, &id, "approving a new report in B").await;
    // A new approval in A beyond every figure: its extremes are the new ones.
    resubmit_and_approve(&w, &a.3, "2026-Q2", values("12", &[])).await;
    cells_as_rebuilt(&w, &id, "approving a new highest figure in A").await;
    assert_eq!(
        programme_total("all", &max_srf).await.unwrap().value,
        Some(decimal("12"))
    );
    // Returning A's Q1 figures, which held the highest totals and share: the others' are
    // not known from the cells, the SRF indicator is rebuilt for those scopes.
    for ind in [&a.1, &a.2] {
        w.store
            .transition_report(
                &w.org,
                &w.me_ken_2,
                ind,
                "2026-Q1",
                &action("return", "check"),
            )
            .await
            .unwrap();
        cells_as_rebuilt(&w, &id, "returning an approved report of A").await;
    }
    let share = programme_total("2026-Q1", &w.percent_srf).await.unwrap();
    assert_eq!(
        (share.numerator, share.denominator),
        (Some(decimal("40")), Some(decimal("150")))
    );
    // Returned in A: edited lower and approved again (a figure lower than the highest).
    let returned = w
        .store
        .results_framework(&w.org, &w.me_ken, &a.0)
        .await
        .unwrap();
    let version = |ind: &str| {
        returned
            .indicator(ind)
            .unwrap()
            .report("2026-01-01")
            .unwrap()
            .version
    };
    let mut again = values(
        "21",
        &[
            ("sex=female", "10"),
            ("sex=male", "10"),
            ("sex=other_unknown", "1"),
        ],
    );
    again.version = Some(version(&a.1));
    resubmit_and_approve(&w, &a.1, "2026-Q1", again).await;
    cells_as_rebuilt(&w, &id, "approving A's report again, lower").await;
    let mut again = values("95/100", &[]);
    again.version = Some(version(&a.2));
    resubmit_and_approve(&w, &a.2, "2026-Q1", again).await;
    cells_as_rebuilt(&w, &id, "approving A's share again, higher").await;
    // C holds the lowest shelters figure (its own lowest over time): a lower one replaces it.
    resubmit_and_approve(&w, &c.3, "2026-Q2", values("0", &[])).await;
    cells_as_rebuilt(&w, &id, "approving a new lowest figure in C").await;
    // Returning the report that held the lowest.
    w.store
        .transition_report(
            &w.org,
            &w.me_ken_2,
            &c.3,
            "2026-Q2",
            &action("return", "check"),
        )
        .await
        .unwrap();
    cells_as_rebuilt(&w, &id, "returning C's lowest figure").await;
    // A project outside the programme moves only its unit's cells.
    resubmit_and_approve(&w, &d.1, "2026-Q3", values("99", &[])).await;
    cells_as_rebuilt(&w, &id, "approving in a project outside the programme").await;

    // A period approved at once in C.
    for (ind, value) in [(&c.1, "3"), (&c.2, "1/3"), (&c.3, "7")] {
        w.store
            .save_report(&w.org, &w.me_ken, ind, "2026-Q3", &values(value, &[]))
            .await
            .unwrap();
        w.store
            .transition_report(&w.org, &w.me_ken, ind, "2026-Q3", &action("submit", ""))
            .await
            .unwrap();
    }
    let approved = w
        .store
        .approve_reports(
            &w.org,
            &w.me_ken_2,
            &c.0,
            &BulkApproval {
                period: Some("2026-Q3".into()),
                ..BulkApproval::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(approved.len(), 3);
    cells_as_rebuilt(&w, &id, "approving C's Q3 at once").await;

    // Indicator edits: B's number indicator moves to the SRF indicator of the highest figure
    // and takes the highest over time; A's shelters indicator takes the lowest.
    let framework = w
        .store
        .results_framework(&w.org, &w.me_ken, &b.0)
        .await
        .unwrap();
    let current = framework.indicator(&b.1).unwrap();
    w.store
        .update_indicator(
            &w.org,
            &w.developer_ken,
            &b.1,
            &IndicatorInput {
                aggregation: Some("max".into()),
                srf_indicator: Some(max_srf.clone()),
                version: Some(current.version),
                ..number_indicator(&w.number_srf)
            },
        )
        .await
        .unwrap();
    cells_as_rebuilt(&w, &id, "moving B's indicator to another SRF indicator").await;
    let framework = w
        .store
        .results_framework(&w.org, &w.me_ken, &a.0)
        .await
        .unwrap();
    let current = framework.indicator(&a.3).unwrap();
    w.store
        .update_indicator(
            &w.org,
            &w.developer_ken,
            &a.3,
            &IndicatorInput {
                version: Some(current.version),
                ..highest(&max_srf, "min")
            },
        )
        .await
        .unwrap();
    cells_as_rebuilt(&w, &id, "changing A's aggregation").await;
    assert_eq!(
        programme_total("all", &max_srf).await.unwrap().value,
        Some(decimal("20")),
        "B's highest total over time is now the programme's highest"
    );
    // An indicator added with a baseline and targets, then deleted, in a member.
    let r = w
        .store
        .results_framework(&w.org, &w.me_ken, &c.0)
        .await
        .unwrap()
        .results[0]
        .id
        .clone();
    let added = w
        .store
        .add_indicator(
            &w.org,
            &w.developer_ken,
            &r,
            &number_indicator(&w.number_srf),
        )
        .await
        .unwrap();
    cells_as_rebuilt(&w, &id, "adding an indicator with a baseline and targets").await;
    // Deleting at a version it is not at deletes nothing; at its own, it goes.
    let stale = w
        .store
        .delete_indicator(&w.org, &w.developer_ken, &added.id, Some(added.version + 1))
        .await
        .unwrap_err();
    assert!(matches!(stale, StoreError::Conflict(_)), "{stale}");
    assert!(
        w.store
            .results_framework(&w.org, &w.me_ken, &c.0)
            .await
            .unwrap()
            .indicator(&added.id)
            .is_some(),
        "a stale delete deleted"
    );
    w.store
        .delete_indicator(&w.org, &w.developer_ken, &added.id, Some(added.version))
        .await
        .unwrap();
    cells_as_rebuilt(&w, &id, "deleting it").await;
    // The same for a result: a stale delete is refused and changes nothing.
    let result = w
        .store
        .add_result(&w.org, &w.developer_ken, &c.0, &output("To be deleted"))
        .await
        .unwrap();
    let results = |f: meridian_store::results::ResultsFramework| f.results.len();
    let before = results(
        w.store
            .results_framework(&w.org, &w.me_ken, &c.0)
            .await
            .unwrap(),
    );
    let stale = w
        .store
        .delete_result(
            &w.org,
            &w.developer_ken,
            &result.id,
            Some(result.version + 1),
        )
        .await
        .unwrap_err();
    assert!(matches!(stale, StoreError::Conflict(_)), "{stale}");
    let framework = w.store.results_framework(&w.org, &w.me_ken, &c.0).await;
    assert_eq!(results(framework.unwrap()), before);
    w.store
        .delete_result(&w.org, &w.developer_ken, &result.id, Some(result.version))
        .await
        .unwrap();
    let framework = w.store.results_framework(&w.org, &w.me_ken, &c.0).await;
    assert_eq!(results(framework.unwrap()), before - 1);
}
