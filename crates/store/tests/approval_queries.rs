//! Approving a report in a project that belongs to a programme moves the cells of its unit and
//! programme by the project's difference: the statements do not grow with the number of
//! members (or of the unit's projects), where a rebuild read every member's figures.
//! Counted through sqlx's statement events.
//!
//! This file holds one test, so that nothing else runs statements while it counts.

use meridian_domain::authz::{Actor, Role};
use meridian_domain::org::Countries;
use meridian_store::Store;
use meridian_store::projects::{BudgetLineInput, ProjectInput};
use meridian_store::results::{
    IndicatorInput, ProgrammeInput, ReportInput, ReportTransitionInput, ResultInput, ValueInput,
};
use meridian_store::testing::{TestDb, operator, person, statements};

fn project() -> ProjectInput {
    ProjectInput {
        title: "Community stabilization in Kenya".into(),
        summary: String::new(),
        thematic_area: "migrant_protection".into(),
        unit: "CO-KEN".into(),
        primary_country: "KEN".into(),
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

fn action(a: &str) -> ReportTransitionInput {
    ReportTransitionInput {
        action: a.into(),
        note: String::new(),
        version: None,
    }
}

fn value(v: &str) -> ReportInput {
    ReportInput {
        values: vec![ValueInput {
            disaggregation: String::new(),
            value: v.into(),
        }],
        narrative: String::new(),
        version: None,
    }
}

#[tokio::test]
async fn approving_in_a_member_runs_as_many_statements_in_a_small_and_a_large_programme() {
    let db = TestDb::new().await;
    let store = Store::connect(&db.url).await.unwrap();
    let org = meridian_domain::builtin::organization();
    store
        .load_organization(&operator(), None, &org, &Countries::builtin())
        .await
        .unwrap();
    store
        .load_srf_if_empty(&meridian_domain::builtin::srf())
        .await
        .unwrap();
    let srf = store
        .srf_indicators()
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.measure.as_str() == "number" && i.aggregation.as_str() == "sum")
        .unwrap()
        .code;
    let developer = person(
        &store,
        &org,
        "dev@ken.example",
        "CO-KEN",
        Role::ProjectDeveloper,
    )
    .await;
    let me = person(&store, &org, "me@ken.example", "CO-KEN", Role::MeOfficer).await;
    let me_2 = person(&store, &org, "me2@ken.example", "CO-KEN", Role::MeOfficer).await;
    // A project with one quarterly indicator linked to the SRF indicator, `q1` approved.
    let member = async |q1: &str| -> (String, String) {
        let p = store
            .create_project(&org, &developer, &project())
            .await
            .unwrap();
        store
            .set_results_frequency(&org, &developer, &p.id, "quarterly")
            .await
            .unwrap();
        let r = store
            .add_result(
                &org,
                &developer,
                &p.id,
                &ResultInput {
                    level: "output".into(),
                    title: "Returnees are assisted".into(),
                    srf_codes: vec![],
                    gcm_objectives: vec![],
                    sdg_targets: vec![],
                    version: None,
                },
            )
            .await
            .unwrap();
        let i = store
            .add_indicator(
                &org,
                &developer,
                &r.id,
                &IndicatorInput {
                    title: "People assisted".into(),
                    measure: "number".into(),
                    direction: None,
                    aggregation: Some("sum".into()),
                    cumulative: false,
                    unit: "people".into(),
                    categories: vec![],
                    baseline_year: None,
                    baseline: None,
                    target: None,
                    srf_indicator: Some(srf.clone()),
                    means_of_verification: String::new(),
                    targets: vec![],
                    version: None,
                },
            )
            .await
            .unwrap()
            .id;
        approve(&store, &org, &me, &me_2, &i, "2026-Q1", q1).await;
        (p.id, i)
    };
    let mut counts = Vec::new();
    statements::install();
    for (code, members) in [("SMALL", 3), ("LARGE", 12)] {
        // The lowest and the highest figures are other members': the approval below holds
        // neither, so the cells move by its difference alone.
        let mut ids = vec![member("1").await.0, member("1000").await.0];
        for _ in 2..members - 1 {
            ids.push(member("10").await.0);
        }
        let (subject, indicator) = member("10").await;
        ids.push(subject);
        store
            .save_programme(
                &org,
                &developer,
                None,
                &ProgrammeInput {
                    code: code.into(),
                    title: "Return and reintegration".into(),
                    unit: "CO-KEN".into(),
                    projects: ids,
                    version: None,
                },
            )
            .await
            .unwrap();
        store
            .save_report(&org, &me, &indicator, "2026-Q2", &value("10"))
            .await
            .unwrap();
        store
            .transition_report(&org, &me, &indicator, "2026-Q2", &action("submit"))
            .await
            .unwrap();
        statements::reset();
        store
            .transition_report(&org, &me_2, &indicator, "2026-Q2", &action("approve"))
            .await
            .unwrap();
        let n = statements::count();
        eprintln!("approving in a member of a programme of {members}: {n} statements");
        counts.push(n);
    }
    assert!(counts[0] > 0, "the statements are counted");
    assert_eq!(
        counts[0], counts[1],
        "approving in a member runs as many statements for 3 members as for 12"
    );
    assert!(counts[0] <= 25, "approving runs {} statements", counts[0]);
}

async fn approve(
    store: &Store,
    org: &meridian_domain::org::Organization,
    reporter: &Actor,
    approver: &Actor,
    indicator: &str,
    period: &str,
    v: &str,
) {
    store
        .save_report(org, reporter, indicator, period, &value(v))
        .await
        .unwrap();
    store
        .transition_report(org, reporter, indicator, period, &action("submit"))
        .await
        .unwrap();
    store
        .transition_report(org, approver, indicator, period, &action("approve"))
        .await
        .unwrap();
}
