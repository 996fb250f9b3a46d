//! Adding a project to a programme runs a bounded number of statements, whatever the size of
//! the project's matrix (indicators × periods × disaggregations): its partials are merged into
//! the programme's cells, they are not rebuilt; reading the programme's roll-up runs three.
//! Counted through sqlx's statement events.
//!
//! This file holds one test, so that nothing else runs statements while it counts.

use meridian_domain::org::Countries;
use meridian_store::Store;
use meridian_store::results::{DemoProgrammeShape, ProgrammeInput};
use meridian_store::testing::{TestDb, operator, statements};

#[tokio::test]
async fn adding_a_project_to_a_programme_runs_as_many_statements_for_a_small_and_a_large_matrix() {
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
    let shape = |code: &str, indicators, months| DemoProgrammeShape {
        code: code.into(),
        unit: "CO-KEN".into(),
        country: "KEN".into(),
        projects: 3,
        indicators_per_project: indicators,
        months,
    };
    // 2 indicators × 2 months against 8 × 9 (each month: the total and 11 options).
    let mut counts = Vec::new();
    statements::install();
    for shape in [shape("SMALL", 2, 2), shape("LARGE", 8, 9)] {
        let id = store
            .demo_programme(&org, &operator(), &shape)
            .await
            .unwrap();
        let programme = store.programme(&org, &operator(), &id).await.unwrap();
        let extra = store
            .demo_programme_project(&org, &operator(), &shape, "extra")
            .await
            .unwrap();
        let mut members: Vec<String> = programme.projects.iter().map(|p| p.id.clone()).collect();
        members.push(extra);
        let before = store.programme_figure_count(&id).await.unwrap();
        statements::reset();
        store
            .save_programme(
                &org,
                &operator(),
                Some(&id),
                &ProgrammeInput {
                    code: programme.code.clone(),
                    title: programme.title.clone(),
                    unit: programme.unit.clone(),
                    projects: members,
                    version: Some(programme.version),
                },
            )
            .await
            .unwrap();
        let n = statements::count();
        let after = store.programme_figure_count(&id).await.unwrap();
        assert_eq!(
            after - before,
            (shape.indicators_per_project * shape.months * 12) as i64,
            "the project added carries its figures"
        );
        eprintln!(
            "adding a project of {} indicators × {} months: {n} statements",
            shape.indicators_per_project, shape.months
        );
        counts.push(n);
    }
    assert!(counts[0] > 0, "the statements are counted");
    assert_eq!(
        counts[0], counts[1],
        "adding a project runs as many statements for a small matrix as for a large one"
    );
    assert!(
        counts[0] <= 20,
        "adding a project runs {} statements",
        counts[0]
    );

    // Reading the programme's roll-up checks the reader's scope on the programme's row, not
    // its member list: three statements (the programme, its cells, the SRF indicators).
    let query = meridian_store::results::RollupQuery {
        window: "all".into(),
        disaggregation: String::new(),
    };
    let scope = meridian_store::results::RollupScope::Programme("LARGE".into());
    statements::reset();
    let rows = store
        .results_rollup(&org, &operator(), &scope, &query)
        .await
        .unwrap();
    assert_eq!(statements::count(), 3);
    assert_eq!(rows.iter().map(|r| r.contributors).sum::<i64>(), 4 * 8);
}
