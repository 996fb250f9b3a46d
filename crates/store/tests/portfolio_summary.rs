//! The portfolio summary (`portfolio_summary`, kept by database triggers) behind the analytics:
//! it follows every write (the demo's bulk loader, the store's functions, a transaction, a
//! project deleted or its donors changed in SQL), and the analytics read from it give exactly
//! the figures read from the projects, for every kind of reader and every filter it answers.
//! (`portfolio_search.rs` also checks it after each kind of project write.)
//!
//! Runs on SQLite, and on PostgreSQL when `MERIDIAN_TEST_POSTGRES_URL` is set.

use meridian_domain::authz::Role;
use meridian_domain::org::{Countries, Organization};
use meridian_domain::projects::lifecycle::Status;
use meridian_store::Store;
use meridian_store::demo::DemoOptions;
use meridian_store::projects::{PortfolioQuery, TransactionInput};
use meridian_store::testing::{TestDb, operator, person, portfolio_summary_drift};
use rust_decimal::Decimal;
use sqlx::Row;

async fn assert_no_drift(store: &Store, after: &str) {
    let drift = portfolio_summary_drift(store).await;
    assert!(
        drift.is_empty(),
        "after {after}: the portfolio summary drifted from the projects:\n{}",
        drift.join("\n")
    );
}

async fn demo() -> (TestDb, Store, Organization) {
    let db = TestDb::new().await;
    let store = Store::connect(&db.url).await.unwrap();
    let org = meridian_domain::builtin::organization();
    store
        .load_organization(&operator(), None, &org, &Countries::builtin())
        .await
        .unwrap();
    store
        .load_demo(
            &org,
            &Countries::builtin(),
            &operator(),
            &DemoOptions {
                scale: 1,
                batch_size: 100,
                ..Default::default()
            },
            &mut |_| {},
        )
        .await
        .unwrap();
    (db, store, org)
}

#[tokio::test]
async fn the_analytics_read_from_the_summary_equal_those_read_from_the_projects() {
    let (_db, store, org) = demo().await;
    assert_no_drift(&store, "the demo load").await;

    let readers = [
        (
            "headquarters administrator",
            person(&store, &org, "a@example.org", "DG-EO", Role::Administrator).await,
        ),
        (
            "regional reviewer",
            person(
                &store,
                &org,
                "r@example.org",
                "RO-NBO",
                Role::RegionalReviewer,
            )
            .await,
        ),
        (
            "country-office developer",
            person(
                &store,
                &org,
                "d@example.org",
                "CO-KEN",
                Role::ProjectDeveloper,
            )
            .await,
        ),
        (
            // Sees the projects of the whole organization but no restricted budget.
            "headquarters M&E officer",
            person(&store, &org, "m@example.org", "DSPOP-ME", Role::MeOfficer).await,
        ),
    ];
    let restricted: i64 = sqlx::query("SELECT COUNT(*) AS n FROM projects WHERE restricted = 1")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get("n");
    assert!(restricted > 0, "the demo has restricted projects to hide");
    let queries = [
        ("everything", PortfolioQuery::default()),
        (
            "a region",
            PortfolioQuery {
                region: Some("RO-NBO".into()),
                ..Default::default()
            },
        ),
        (
            "an office",
            PortfolioQuery {
                unit: Some("co-ken".into()),
                ..Default::default()
            },
        ),
        (
            "a status",
            PortfolioQuery {
                status: Some(Status::Active),
                ..Default::default()
            },
        ),
        (
            "a region and a status",
            PortfolioQuery {
                region: Some("RO-BKK".into()),
                status: Some(Status::FinanciallyClosed),
                ..Default::default()
            },
        ),
    ];
    for (who, actor) in &readers {
        for (what, q) in &queries {
            let summary = store.portfolio_totals(&org, actor, q).await.unwrap();
            let scanned = store
                .portfolio_totals_from_projects(&org, actor, q)
                .await
                .unwrap();
            assert_eq!(summary, scanned, "{who}, {what}");
            // The list's totals are read from the summary too.
            let list = store.portfolio(&org, actor, q).await.unwrap().totals;
            assert_eq!(
                list.projects,
                scanned.by_status.iter().map(|g| g.projects).sum::<i64>(),
                "{who}, {what}: the list's count"
            );
            assert_eq!(
                list.budget_usd, scanned.budget_usd,
                "{who}, {what}: the list's sum"
            );
        }
        // Every group is filled for "everything" (the comparison would pass on empty results).
        let all = store
            .portfolio_totals(&org, actor, &PortfolioQuery::default())
            .await
            .unwrap();
        for (group, rows) in [
            ("region", &all.by_region),
            ("country", &all.by_country),
            ("status", &all.by_status),
            ("theme", &all.by_theme),
            ("donor", &all.by_donor),
            ("year", &all.by_year),
        ] {
            assert!(!rows.is_empty(), "{who}: no group by {group}");
        }
        assert!(all.expenditure_usd > Decimal::ZERO, "{who}: no expenditure");
        assert!(all.burn_rate_percent.is_some(), "{who}: no burn rate");
    }

    // The summary is what the analytics read: a row changed behind the triggers' back shows
    // (headquarters reads the region rows).
    let admin = &readers[0].1;
    let before = store
        .portfolio_totals(&org, admin, &PortfolioQuery::default())
        .await
        .unwrap();
    sqlx::query(
        "UPDATE portfolio_summary SET projects = projects + 1000 \
         WHERE kind = 'all' AND unit_code = '*' AND region_code = 'RO-NBO' AND status = 'active' \
         AND restricted = 0",
    )
    .execute(store.pool())
    .await
    .unwrap();
    let after = store
        .portfolio_totals(&org, admin, &PortfolioQuery::default())
        .await
        .unwrap();
    let active = |t: &meridian_store::projects::PortfolioTotals| {
        t.by_status
            .iter()
            .find(|g| g.key == "active")
            .map(|g| g.projects)
            .unwrap_or(0)
    };
    assert_eq!(active(&after), active(&before) + 1000);
    assert!(!portfolio_summary_drift(&store).await.is_empty());
    // A country office reads its own unit's rows.
    let office = &readers[2].1;
    let before = store
        .portfolio_totals(&org, office, &PortfolioQuery::default())
        .await
        .unwrap();
    sqlx::query(
        "UPDATE portfolio_summary SET projects = projects + 7 \
         WHERE kind = 'all' AND unit_code = 'CO-KEN' AND status = 'active' AND restricted = 0",
    )
    .execute(store.pool())
    .await
    .unwrap();
    let after = store
        .portfolio_totals(&org, office, &PortfolioQuery::default())
        .await
        .unwrap();
    assert_eq!(active(&after), active(&before) + 7);
}

#[tokio::test]
async fn the_summary_follows_transactions_deletions_and_donor_changes() {
    let (_db, store, org) = demo().await;
    let admin = person(&store, &org, "a@example.org", "DG-EO", Role::Administrator).await;
    let developer = person(
        &store,
        &org,
        "d@example.org",
        "CO-KEN",
        Role::ProjectDeveloper,
    )
    .await;
    let kenya = PortfolioQuery {
        unit: Some("CO-KEN".into()),
        ..Default::default()
    };
    let before = store.portfolio_totals(&org, &admin, &kenya).await.unwrap();
    let project_id: String = sqlx::query(
        "SELECT id FROM projects WHERE unit_code = 'CO-KEN' AND status = 'active' \
         ORDER BY code LIMIT 1",
    )
    .fetch_one(store.pool())
    .await
    .unwrap()
    .get("id");

    // An expenditure through the store moves the expenditure and the burn rate; a commitment
    // moves neither.
    for (kind, amount) in [("expenditure", "12345.67"), ("commitment", "5000")] {
        store
            .add_transaction(
                &org,
                &developer,
                &project_id,
                &TransactionInput {
                    kind: kind.into(),
                    date: "2026-06-30".into(),
                    currency: "USD".into(),
                    amount: amount.into(),
                    provider: "IOM".into(),
                    receiver: "Suppliers".into(),
                    description: String::new(),
                },
            )
            .await
            .unwrap();
        assert_no_drift(&store, kind).await;
    }
    let after = store.portfolio_totals(&org, &admin, &kenya).await.unwrap();
    assert_eq!(
        after.expenditure_usd - before.expenditure_usd,
        Decimal::new(1_234_567, 2)
    );
    assert_eq!(after.budget_usd, before.budget_usd);

    // Transactions deleted and changed in SQL (as an import replacing them does).
    sqlx::query(
        "UPDATE project_transactions SET amount_usd_e4 = amount_usd_e4 + 10000 \
         WHERE project_id = $1 AND kind = 'expenditure'",
    )
    .bind(&project_id)
    .execute(store.pool())
    .await
    .unwrap();
    assert_no_drift(&store, "transactions changed").await;
    sqlx::query("UPDATE project_transactions SET kind = 'commitment' WHERE project_id = $1")
        .bind(&project_id)
        .execute(store.pool())
        .await
        .unwrap();
    assert_no_drift(&store, "expenditure turned into commitments").await;

    // Donors replaced in SQL.
    sqlx::query("DELETE FROM project_donors WHERE project_id = $1")
        .bind(&project_id)
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query("INSERT INTO project_donors (project_id, donor) VALUES ($1, 'Test donor')")
        .bind(&project_id)
        .execute(store.pool())
        .await
        .unwrap();
    assert_no_drift(&store, "donors replaced").await;
    let with_donor = store.portfolio_totals(&org, &admin, &kenya).await.unwrap();
    assert!(
        with_donor
            .by_donor
            .iter()
            .any(|g| g.key == "Test donor" && g.projects == 1)
    );

    // A project deleted (with its donors and transactions, by cascade).
    sqlx::query("DELETE FROM projects WHERE id = $1")
        .bind(&project_id)
        .execute(store.pool())
        .await
        .unwrap();
    assert_no_drift(&store, "a project deleted").await;
    let gone = store.portfolio_totals(&org, &admin, &kenya).await.unwrap();
    let count = |t: &meridian_store::projects::PortfolioTotals| -> i64 {
        t.by_status.iter().map(|g| g.projects).sum()
    };
    assert_eq!(count(&gone), count(&before) - 1);
    assert!(gone.by_donor.iter().all(|g| g.key != "Test donor"));
}
