//! `meridian demo`: a demonstration portfolio in every lifecycle status, with accounts that
//! can sign in; on SQLite, or on PostgreSQL when MERIDIAN_TEST_POSTGRES_URL is set.

use meridian_domain::authz::{Actor, Role, UserActor};
use meridian_domain::org::UnitKind;
use meridian_domain::projects::lifecycle::Status;
use meridian_store::Store;
use meridian_store::audit::AuditQuery;
use meridian_store::projects::PortfolioQuery;
use meridian_store::testing::TestDb;
use std::process::{Command, Output};

fn meridian(db: &TestDb, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_meridian"))
        .args(args)
        .env("MERIDIAN_DATABASE_URL", &db.url)
        .env("USER", "ops")
        .output()
        .expect("meridian runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The accounts table: (role, unit, email, password) per row.
fn accounts(out: &str) -> Vec<(String, String, String, String)> {
    out.lines()
        .filter(|l| l.starts_with("| ") && l.contains("@demo.meridian.local"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split('|').map(str::trim).collect();
            (
                cells[0].to_owned(),
                cells[1].to_owned(),
                cells[2].to_owned(),
                cells[3].to_owned(),
            )
        })
        .collect()
}

fn headquarters() -> Actor {
    let org = meridian_domain::builtin::organization();
    Actor::User(UserActor {
        id: "test".into(),
        email: "test@example.org".into(),
        unit: org.root().code.clone(),
        roles: vec![Role::Administrator],
    })
}

/// (code, title, status, budget) of every project, in code order.
async fn portfolio(store: &Store) -> Vec<(String, String, String, String)> {
    let org = store.organization().await.unwrap();
    let q: PortfolioQuery = serde_json::from_value(serde_json::json!({"sort": "code"})).unwrap();
    let mut rows = Vec::new();
    store
        .portfolio_all(&org, &headquarters(), &q, |r| {
            rows.push((
                r.code.clone(),
                r.title.clone(),
                r.status.to_string(),
                r.budget_usd.map(|b| b.to_string()).unwrap_or_default(),
            ))
        })
        .await
        .unwrap();
    rows
}

#[tokio::test]
async fn the_demo_loads_a_portfolio_in_every_status_whose_accounts_sign_in() {
    let db = TestDb::new().await;
    let out = meridian(&db, &["demo"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("| role | unit | email | password |"),
        "the accounts are printed as a table:\n{text}"
    );
    let accounts = accounts(&text);
    assert!(accounts.len() >= 40, "{text}");
    let roles: std::collections::BTreeSet<&str> = accounts.iter().map(|a| a.0.as_str()).collect();
    for role in Role::ALL {
        assert!(roles.contains(role.as_str()), "a {role} account");
    }

    let store = Store::connect(&db.url).await.unwrap();
    let org = store.organization().await.unwrap();
    let units: Vec<&str> = accounts.iter().map(|a| a.1.as_str()).collect();
    let of_kind = |kind: UnitKind| {
        let mut codes: Vec<&str> = units
            .iter()
            .copied()
            .filter(|u| org.unit(u).is_some_and(|x| x.kind == kind))
            .collect();
        codes.dedup();
        codes.len()
    };
    assert!(of_kind(UnitKind::RegionalOffice) >= 3);
    assert!(of_kind(UnitKind::CountryOffice) >= 5);

    // Every account signs in with the password printed for it (a sample: hashing is slow).
    for (role, unit, email, password) in accounts.iter().step_by(7) {
        let user = store
            .check_credentials(email, password)
            .await
            .unwrap_or_else(|e| panic!("{email} signs in: {e}"));
        assert_eq!(user.unit.as_str(), unit);
        assert_eq!(user.roles[0].as_str(), role);
        assert!(user.must_change_password, "a one-time password");
    }
    assert!(
        store
            .check_credentials(&accounts[0].2, "not the password")
            .await
            .is_err()
    );

    // A few hundred projects, in every status, in every region, each in its owner's region.
    let hq = headquarters();
    let totals = store
        .portfolio_totals(&org, &hq, &PortfolioQuery::default())
        .await
        .unwrap();
    let projects: i64 = totals.pipeline.iter().map(|g| g.projects).sum();
    assert_eq!(projects, 300);
    for g in &totals.pipeline {
        assert!(g.projects > 0, "projects in status {}", g.key);
    }
    assert_eq!(totals.pipeline.len(), Status::ALL.len());
    assert_eq!(totals.by_region.len(), org.regional_offices().count());
    assert!(totals.by_donor.len() > 10, "{:?}", totals.by_donor);
    let (spent, budget) = (
        dollars(&totals.expenditure_usd),
        dollars(&totals.budget_usd),
    );
    assert!(
        spent > budget / 10.0 && spent < budget,
        "{spent} of {budget}"
    );
    let rows = portfolio(&store).await;
    for (code, ..) in &rows {
        let unit = code.rsplitn(3, '-').nth(2).unwrap();
        assert!(org.unit(unit).is_some(), "{code} is owned by a unit");
    }
    let page = store
        .portfolio(&org, &hq, &PortfolioQuery::default())
        .await
        .unwrap();
    for r in &page.rows {
        let region = org
            .ancestors(&meridian_domain::org::UnitCode::parse(&r.unit).unwrap())
            .find(|u| u.kind == UnitKind::RegionalOffice)
            .unwrap();
        assert_eq!(r.region, region.code.as_str(), "{}", r.code);
    }

    // The first projects went through the store functions, audited one by one; the bulk
    // ones are accounted for by one audit event per batch.
    let created = store
        .audit_events(&AuditQuery {
            action: Some("project.create".into()),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(created.len(), 2 * Status::ALL.len());
    let batches = store
        .audit_events(&AuditQuery {
            entity: Some("demo_batch".into()),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(batches.len(), 1);
    let after = batches[0].after.as_ref().unwrap();
    assert_eq!(after["projects"], 300 - 2 * Status::ALL.len());

    // A decided project shows its history, with the delegation chain of its decisions.
    let closed: PortfolioQuery =
        serde_json::from_value(serde_json::json!({"status": "financially_closed"})).unwrap();
    let row = store.portfolio(&org, &hq, &closed).await.unwrap().rows[0].clone();
    let history = store.project_history(&org, &hq, &row.id).await.unwrap();
    let endorse = history
        .status_changes
        .iter()
        .find(|h| h.transition == "endorse")
        .expect("an endorsement");
    assert!(endorse.delegation_chain.is_some());
    assert!(
        !store
            .transactions(&org, &hq, &row.id)
            .await
            .unwrap()
            .is_empty()
    );

    // Loading it again is refused: the demo loads into an empty portfolio.
    let again = meridian(&db, &["demo"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("already has"), "{}", stderr(&again));
}

/// An amount, roughly (for comparisons).
fn dollars(d: &impl ToString) -> f64 {
    d.to_string().parse().unwrap()
}

#[tokio::test]
async fn the_same_seed_gives_the_same_portfolio() {
    let a = TestDb::new().await;
    let b = TestDb::new().await;
    let out = meridian(&a, &["demo", "--seed", "7"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = meridian(&b, &["demo", "--seed", "7"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let left = portfolio(&Store::connect(&a.url).await.unwrap()).await;
    let right = portfolio(&Store::connect(&b.url).await.unwrap()).await;
    assert_eq!(left.len(), 300);
    assert_eq!(left, right);
}
