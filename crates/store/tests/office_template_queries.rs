//! An office's frameworks for one period (its reporting template) are read in five statements
//! however many projects the office has: 2 projects and 8 projects alike. Counted through
//! sqlx's statement events.
//!
//! This file holds one test, so that nothing else runs statements while it counts.

use meridian_domain::org::Countries;
use meridian_store::Store;
use meridian_store::results::DemoProgrammeShape;
use meridian_store::testing::{TestDb, operator, statements};

#[tokio::test]
async fn an_office_s_frameworks_for_a_period_take_five_statements_whatever_its_projects() {
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
    statements::install();
    let mut seen = Vec::new();
    // Projects of CO-KEN reporting monthly from January 2026, 3 indicators each, every value
    // approved: first 2 projects, then 6 more.
    for (code, projects) in [("FIRST", 2), ("MORE", 6)] {
        store
            .demo_programme(
                &org,
                &operator(),
                &DemoProgrammeShape {
                    code: code.into(),
                    unit: "CO-KEN".into(),
                    country: "KEN".into(),
                    projects,
                    indicators_per_project: 3,
                    months: 2,
                },
            )
            .await
            .unwrap();
        statements::reset();
        let fs = store
            .office_frameworks(&org, &operator(), "CO-KEN", "2026-02-10")
            .await
            .unwrap();
        let n = statements::count();
        eprintln!("an office of {} projects: {n} statements", fs.len());
        assert!(fs.iter().all(|f| f.periods.len() == 1
            && f.periods[0].start == "2026-02-01"
            && f.indicators().count() == 3
            && f.indicators().all(|i| i.reports.len() == 1
                && i.reports[0].period_start == "2026-02-01"
                && !i.reports[0].values.is_empty())));
        seen.push((fs.len(), n));
    }
    assert_eq!(seen[0].0, 2);
    assert_eq!(seen[1].0, 8);
    assert_eq!(
        (seen[0].1, seen[1].1),
        (5, 5),
        "five statements for 2 projects and for 8"
    );
}
