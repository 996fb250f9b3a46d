//! The portfolio's donor filter and text search, and the keyed index they read
//! (`project_keys`, `project_words`): what a search matches, that both ways of reading it (the
//! keyed index, and the projects table for sorts and filters it does not hold) give the same
//! projects and totals, and that the index never drifts from the projects through any write:
//! create, edit, every status change, revision approval, the demo loader, and the backfill of a
//! database that had projects before the index existed.
//!
//! Runs on SQLite, and on PostgreSQL when `MERIDIAN_TEST_POSTGRES_URL` is set: the same
//! assertions hold on both, so both match the same projects.

use meridian_domain::authz::{Actor, Role};
use meridian_domain::org::{Countries, Organization};
use meridian_domain::projects::lifecycle::{RevisionTransition, Transition};
use meridian_store::Store;
use meridian_store::demo::DemoOptions;
use meridian_store::projects::{
    BudgetLineInput, DelegationInput, PortfolioQuery, ProjectInput, RevisionInput, SortKey,
    search_words,
};
use meridian_store::testing::{TestDb, operator, person};
use rust_decimal::Decimal;
use sqlx::Row;
use std::collections::BTreeSet;
use std::str::FromStr;

fn input(title: &str, unit: &str, country: &str, usd: &str, donors: &[&str]) -> ProjectInput {
    ProjectInput {
        title: title.into(),
        summary: String::new(),
        thematic_area: "migrant_protection".into(),
        unit: unit.into(),
        primary_country: country.into(),
        countries: vec![],
        admin_areas: vec![],
        start_date: "2026-01-01".into(),
        end_date: "2027-12-31".into(),
        currency: "USD".into(),
        budget_lines: vec![BudgetLineInput {
            category: "staff".into(),
            description: String::new(),
            currency: "USD".into(),
            amount: usd.into(),
        }],
        donors: donors.iter().map(|d| (*d).to_owned()).collect(),
        partners: vec![],
        restricted: false,
    }
}

async fn setup() -> (TestDb, Store, Organization) {
    let db = TestDb::new().await;
    let store = Store::connect(&db.url).await.unwrap();
    let org = meridian_domain::builtin::organization();
    store
        .load_organization(&operator(), None, &org, &Countries::builtin())
        .await
        .unwrap();
    (db, store, org)
}

/// One row of `project_keys`, as a comparable tuple.
type KeyRow = (
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    i64,
    String,
);

/// The keyed rows every project should have, from the projects themselves (their title split
/// by the store's own rule, their donors, their code), and the rows the index has.
async fn expected_and_actual_keys(store: &Store) -> (Vec<KeyRow>, Vec<KeyRow>, BTreeSet<String>) {
    let mut expected = Vec::new();
    let mut words = BTreeSet::new();
    for r in sqlx::query(
        "SELECT id, code, title, donors, region_code, unit_code, status, start_year, restricted, \
         budget_usd_e4, updated_at FROM projects",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
    {
        let id: String = r.get("id");
        let code: String = r.get("code");
        let title: String = r.get("title");
        let donors: Vec<String> = serde_json::from_str(&r.get::<String, _>("donors")).unwrap();
        let mut terms: BTreeSet<String> = donors.iter().map(|d| format!("d:{d}")).collect();
        for w in search_words(&title) {
            terms.insert(format!("w:{w}"));
            words.insert(w);
        }
        terms.insert(format!("c:{code}"));
        for t in terms {
            expected.push((
                t,
                id.clone(),
                r.get("region_code"),
                r.get("unit_code"),
                r.get("status"),
                r.get("start_year"),
                r.get("restricted"),
                r.get("budget_usd_e4"),
                r.get("updated_at"),
            ));
        }
    }
    let mut actual: Vec<KeyRow> = sqlx::query(
        "SELECT term, project_id, region_code, unit_code, status, start_year, restricted, \
         budget_usd_e4, updated_at FROM project_keys",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| {
        (
            r.get("term"),
            r.get("project_id"),
            r.get("region_code"),
            r.get("unit_code"),
            r.get("status"),
            r.get("start_year"),
            r.get("restricted"),
            r.get("budget_usd_e4"),
            r.get("updated_at"),
        )
    })
    .collect();
    expected.sort();
    actual.sort();
    (expected, actual, words)
}

/// Fails when `project_keys` or `project_words` differ from what the projects say.
async fn assert_no_drift(store: &Store, after: &str) {
    let (expected, actual, words) = expected_and_actual_keys(store).await;
    assert!(!expected.is_empty(), "after {after}: no project to check");
    if expected != actual {
        let missing: Vec<_> = expected.iter().filter(|r| !actual.contains(r)).collect();
        let extra: Vec<_> = actual.iter().filter(|r| !expected.contains(r)).collect();
        panic!(
            "after {after}: project_keys drifted from the projects\nmissing: {missing:#?}\nextra: {extra:#?}"
        );
    }
    let vocabulary: BTreeSet<String> = sqlx::query("SELECT word FROM project_words")
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("word"))
        .collect();
    let unknown: Vec<_> = words.difference(&vocabulary).collect();
    assert!(
        unknown.is_empty(),
        "after {after}: title words missing from project_words: {unknown:?}"
    );
    let drift = meridian_store::testing::portfolio_summary_drift(store).await;
    assert!(
        drift.is_empty(),
        "after {after}: the portfolio summary drifted from the projects:\n{}",
        drift.join("\n")
    );
}

fn query(q: &str) -> PortfolioQuery {
    PortfolioQuery {
        q: Some(q.into()),
        ..Default::default()
    }
}

/// The codes a query finds (all pages), and its totals; checked against the same query read
/// the other way (sorted by code, which the keyed index does not hold, so it reads `projects`).
async fn found(
    store: &Store,
    org: &Organization,
    actor: &Actor,
    q: &PortfolioQuery,
) -> (Vec<String>, i64, Decimal) {
    let keyed = store.portfolio(org, actor, q).await.unwrap();
    let mut by_code_query = q.clone();
    by_code_query.sort = SortKey::Code;
    by_code_query.per_page = Some(200);
    let by_code = store.portfolio(org, actor, &by_code_query).await.unwrap();
    let mut codes: Vec<String> = by_code.rows.iter().map(|r| r.code.clone()).collect();
    let mut keyed_codes: Vec<String> = keyed.rows.iter().map(|r| r.code.clone()).collect();
    keyed_codes.sort();
    codes.sort();
    assert_eq!(
        keyed.totals, by_code.totals,
        "{q:?}: the keyed index and the projects table give the same totals"
    );
    if keyed.totals.projects <= i64::from(keyed.per_page) {
        assert_eq!(
            keyed_codes, codes,
            "{q:?}: the keyed index and the projects table find the same projects"
        );
    }
    (codes, by_code.totals.projects, by_code.totals.budget_usd)
}

#[tokio::test]
async fn text_search_matches_words_of_titles_and_codes_the_same_way_on_every_path() {
    let (_db, store, org) = setup().await;
    let drafter = person(
        &store,
        &org,
        "dev@example.org",
        "CO-KEN",
        Role::ProjectDeveloper,
    )
    .await;
    let drafter_th = person(
        &store,
        &org,
        "th@example.org",
        "CO-THA",
        Role::ProjectDeveloper,
    )
    .await;
    let admin = person(
        &store,
        &org,
        "adm@example.org",
        "DG-EO",
        Role::Administrator,
    )
    .await;
    let regional = person(
        &store,
        &org,
        "rev@example.org",
        "RO-NBO",
        Role::RegionalReviewer,
    )
    .await;
    let echo = "European Union (DG ECHO)";
    let mut code = std::collections::BTreeMap::new();
    for (key, actor, title, unit, country, usd, donors) in [
        (
            "health",
            &drafter,
            "Community HEALTH and cross-border disease surveillance",
            "CO-KEN",
            "KEN",
            "100000",
            &[echo][..],
        ),
        (
            "tele",
            &drafter,
            "Telehealth for migrants in transit",
            "CO-KEN",
            "KEN",
            "200000",
            &["Germany (BMZ)"][..],
        ),
        (
            "sante",
            &drafter,
            "Santé des migrants à Nairobi",
            "CO-KEN",
            "KEN",
            "300000",
            &[echo, "Germany (BMZ)"][..],
        ),
        (
            "migration",
            &drafter_th,
            "Migration and migrants: health at the border",
            "CO-THA",
            "THA",
            "400000",
            &[echo][..],
        ),
        (
            "border",
            &drafter_th,
            "Border management",
            "CO-THA",
            "THA",
            "500000",
            &[][..],
        ),
    ] {
        let p = store
            .create_project(&org, actor, &input(title, unit, country, usd, donors))
            .await
            .unwrap();
        code.insert(key, p.code);
    }
    let codes = |keys: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = keys.iter().map(|k| code[k].clone()).collect();
        v.sort();
        v
    };
    let usd = |s: &str| Decimal::from_str(s).unwrap();

    // Case-insensitive, part of a word, every word of the query.
    let (c, n, total) = found(&store, &org, &admin, &query("health")).await;
    assert_eq!(c, codes(&["health", "tele", "migration"]));
    assert_eq!((n, total), (3, usd("700000")));
    assert_eq!(
        found(&store, &org, &admin, &query("  HEALTH ")).await.0,
        codes(&["health", "tele", "migration"])
    );
    assert_eq!(
        found(&store, &org, &admin, &query("ealth")).await.0,
        codes(&["health", "tele", "migration"])
    );
    assert_eq!(
        found(&store, &org, &admin, &query("cross-border surveillance"))
            .await
            .0,
        codes(&["health"])
    );
    assert_eq!(
        found(&store, &org, &admin, &query("border health")).await.0,
        codes(&["health", "migration"])
    );
    // Accented letters, in either case.
    assert_eq!(
        found(&store, &org, &admin, &query("santé")).await.0,
        codes(&["sante"])
    );
    assert_eq!(
        found(&store, &org, &admin, &query("SANTÉ")).await.0,
        codes(&["sante"])
    );
    assert!(
        found(&store, &org, &admin, &query("sante"))
            .await
            .0
            .is_empty()
    );
    // One project with several matching words ("migration", "at") counts once.
    let (c, n, total) = found(&store, &org, &admin, &query("at")).await;
    assert_eq!(c, codes(&["migration"]));
    assert_eq!((n, total), (1, usd("400000")));
    let (c, n, total) = found(&store, &org, &admin, &query("migra")).await;
    assert_eq!(c, codes(&["tele", "sante", "migration"]));
    assert_eq!((n, total), (3, usd("900000")));
    let (c, n, total) = found(&store, &org, &admin, &query("mi")).await;
    assert_eq!(c, codes(&["tele", "sante", "migration"]));
    assert_eq!((n, total), (3, usd("900000")));
    // The code, in any case; a code and words of titles.
    let own = code["border"].clone();
    assert_eq!(
        found(&store, &org, &admin, &query(&own.to_lowercase()))
            .await
            .0,
        codes(&["border"])
    );
    // Nothing.
    let (c, n, total) = found(&store, &org, &admin, &query("xylophone")).await;
    assert!(c.is_empty());
    assert_eq!((n, total), (0, Decimal::ZERO));
    assert!(
        found(&store, &org, &admin, &query("health xylophone"))
            .await
            .0
            .is_empty()
    );
    assert!(found(&store, &org, &admin, &query("--")).await.0.is_empty());

    // Within a scope: a regional user of RO-NBO sees Kenya's projects only.
    assert_eq!(
        found(&store, &org, &regional, &query("health")).await.0,
        codes(&["health", "tele"])
    );
    // With the donor filter, and other filters.
    let donor = |d: &str| PortfolioQuery {
        donor: Some(d.into()),
        ..Default::default()
    };
    let (c, n, total) = found(&store, &org, &admin, &donor(echo)).await;
    assert_eq!(c, codes(&["health", "sante", "migration"]));
    assert_eq!((n, total), (3, usd("800000")));
    assert_eq!(
        found(&store, &org, &regional, &donor(echo)).await.0,
        codes(&["health", "sante"])
    );
    let mut q = donor(echo);
    q.q = Some("health".into());
    assert_eq!(
        found(&store, &org, &admin, &q).await.0,
        codes(&["health", "migration"])
    );
    q.region = Some("RO-BKK".into());
    assert_eq!(
        found(&store, &org, &admin, &q).await.0,
        codes(&["migration"])
    );
    let mut q = query("health");
    q.min_usd = Some(usd("150000"));
    q.max_usd = Some(usd("450000"));
    assert_eq!(
        found(&store, &org, &admin, &q).await.0,
        codes(&["tele", "migration"])
    );
    let mut q = query("mi");
    q.country = Some("THA".into());
    assert_eq!(
        found(&store, &org, &admin, &q).await.0,
        codes(&["migration"])
    );

    // Pages of a search whose projects have several matching words: each project once, in
    // order, across pages.
    let mut q = query("mi");
    q.per_page = Some(2);
    q.sort = SortKey::Budget;
    q.descending = true;
    let first = store.portfolio(&org, &admin, &q).await.unwrap();
    q.page = Some(2);
    let second = store.portfolio(&org, &admin, &q).await.unwrap();
    let order: Vec<String> = first
        .rows
        .iter()
        .chain(&second.rows)
        .map(|r| r.code.clone())
        .collect();
    assert_eq!(
        order,
        vec![
            code["migration"].clone(),
            code["sante"].clone(),
            code["tele"].clone()
        ]
    );
    assert_eq!(first.totals.projects, 3);

    // The analytics filter the same way.
    let totals = store
        .portfolio_totals(&org, &admin, &query("health"))
        .await
        .unwrap();
    assert_eq!(totals.budget_usd, usd("700000"));
}

#[tokio::test]
async fn the_keyed_index_follows_every_write_to_a_project() {
    let (db, store, org) = setup().await;
    let drafter = person(
        &store,
        &org,
        "dev@example.org",
        "CO-KEN",
        Role::ProjectDeveloper,
    )
    .await;
    let reviewer = person(
        &store,
        &org,
        "rev@example.org",
        "RO-NBO",
        Role::RegionalReviewer,
    )
    .await;
    let approver = person(
        &store,
        &org,
        "app@example.org",
        "DSPOP-PRIMA",
        Role::Approver,
    )
    .await;
    let admin = person(
        &store,
        &org,
        "adm@example.org",
        "DG-EO",
        Role::Administrator,
    )
    .await;
    for (authority, role, unit) in [
        ("endorse_project", "regional_reviewer", "RO-NBO"),
        ("approve_project", "approver", "DSPOP-PRIMA"),
        ("approve_revision", "approver", "DSPOP-PRIMA"),
    ] {
        store
            .create_delegation(
                &org,
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
    let echo = "European Union (DG ECHO)";
    let p = store
        .create_project(
            &org,
            &drafter,
            &input(
                "Safe migration for young people",
                "CO-KEN",
                "KEN",
                "250000",
                &[echo],
            ),
        )
        .await
        .unwrap();
    store
        .create_project(
            &org,
            &drafter,
            &input("Another project", "CO-KEN", "KEN", "1000", &[]),
        )
        .await
        .unwrap();
    assert_no_drift(&store, "create").await;

    // An edit changes the title, the donors and the budget.
    let edited = store
        .update_project(
            &org,
            &drafter,
            &p.id,
            &input(
                "Réintégration durable des migrants de retour",
                "CO-KEN",
                "KEN",
                "400000",
                &["Germany (BMZ)", "Japan (Ministry of Foreign Affairs)"],
            ),
            p.version,
        )
        .await
        .unwrap();
    assert_no_drift(&store, "edit").await;
    let by_donor = |d: &str| PortfolioQuery {
        donor: Some(d.into()),
        ..Default::default()
    };
    assert_eq!(
        store
            .portfolio(&org, &admin, &by_donor(echo))
            .await
            .unwrap()
            .totals
            .projects,
        0,
        "the old donor no longer finds it"
    );
    assert_eq!(
        store
            .portfolio(&org, &admin, &by_donor("Germany (BMZ)"))
            .await
            .unwrap()
            .rows[0]
            .code,
        edited.code
    );
    assert_eq!(
        store
            .portfolio(&org, &admin, &query("young"))
            .await
            .unwrap()
            .totals
            .projects,
        0,
        "the old title no longer finds it"
    );

    // Every status change moves it in the index (status, last update).
    for (t, actor) in [
        (Transition::Submit, &drafter),
        (Transition::StartReview, &reviewer),
        (Transition::Return, &reviewer),
        (Transition::Resubmit, &drafter),
        (Transition::Endorse, &reviewer),
        (Transition::SubmitToDonor, &drafter),
        (Transition::Approve, &approver),
        (Transition::Activate, &drafter),
    ] {
        store
            .transition_project(&org, actor, &p.id, t, "Please clarify the budget.")
            .await
            .unwrap();
        assert_no_drift(&store, t.as_str()).await;
    }
    let active = PortfolioQuery {
        donor: Some("Germany (BMZ)".into()),
        status: Some(meridian_domain::projects::lifecycle::Status::Active),
        ..Default::default()
    };
    assert_eq!(
        store
            .portfolio(&org, &admin, &active)
            .await
            .unwrap()
            .totals
            .projects,
        1
    );

    // An approved budget revision changes the budget the totals sum.
    let revision = store
        .create_revision(
            &org,
            &drafter,
            &p.id,
            &RevisionInput {
                kind: "budget_revision".into(),
                justification: "A second county".into(),
                end_date: None,
                budget_lines: Some(vec![BudgetLineInput {
                    category: "staff".into(),
                    description: String::new(),
                    currency: "USD".into(),
                    amount: "650000".into(),
                }]),
                summary: None,
            },
        )
        .await
        .unwrap();
    store
        .transition_revision(&org, &drafter, &revision.id, RevisionTransition::Submit, "")
        .await
        .unwrap();
    store
        .transition_revision(
            &org,
            &approver,
            &revision.id,
            RevisionTransition::Approve,
            "",
        )
        .await
        .unwrap();
    assert_no_drift(&store, "revision approval").await;
    assert_eq!(
        store
            .portfolio(&org, &admin, &active)
            .await
            .unwrap()
            .totals
            .budget_usd,
        Decimal::from(650_000)
    );

    // A database whose index was emptied (as before the migration) is filled again at the
    // next start, once.
    sqlx::query("DELETE FROM project_keys")
        .execute(store.pool())
        .await
        .unwrap();
    sqlx::query("DELETE FROM store_backfills")
        .execute(store.pool())
        .await
        .unwrap();
    let url = db.url.clone();
    store.close().await;
    let store = Store::connect(&url).await.unwrap();
    assert_no_drift(&store, "the backfill").await;
    store.close().await;
}

#[tokio::test]
async fn the_demo_loader_writes_the_keyed_index_as_the_store_does() {
    let (_db, store, org) = setup().await;
    let report = store
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
    assert!(report.bulk.projects > 100, "{}", report.bulk.projects);
    assert_no_drift(&store, "the demo load").await;

    // The export reads by keyset: across page boundaries, in every order (with ties: many
    // projects share a status), it gives exactly the rows the paginated list gives.
    let admin = person(
        &store,
        &org,
        "adm@example.org",
        "DG-EO",
        Role::Administrator,
    )
    .await;
    for (sort, descending, donor, text) in [
        (SortKey::Updated, true, None, None),
        (SortKey::Budget, true, None, None),
        (SortKey::Status, false, None, None),
        (SortKey::Code, false, None, None),
        (SortKey::Title, true, None, None),
        (
            SortKey::Start,
            false,
            Some("European Union (DG ECHO)"),
            None,
        ),
        (
            SortKey::Updated,
            true,
            Some("European Union (DG ECHO)"),
            None,
        ),
        (SortKey::Budget, false, None, Some("in")),
    ] {
        let q = PortfolioQuery {
            sort,
            descending,
            donor: donor.map(str::to_owned),
            q: text.map(str::to_owned),
            per_page: Some(200),
            ..Default::default()
        };
        let mut listed = Vec::new();
        let mut page = 1;
        loop {
            let mut pq = q.clone();
            pq.page = Some(page);
            let p = store.portfolio(&org, &admin, &pq).await.unwrap();
            listed.extend(p.rows.iter().map(|r| r.id.clone()));
            if p.rows.len() < 200 {
                assert_eq!(listed.len() as i64, p.totals.projects, "{q:?}");
                break;
            }
            page += 1;
        }
        assert!(listed.len() > 10, "{q:?}: {} rows", listed.len());
        let mut exported = Vec::new();
        let n = store
            .portfolio_all_in_pages(&org, &admin, &q, 7, |r| exported.push(r.id.clone()))
            .await
            .unwrap();
        assert_eq!(n as usize, exported.len());
        assert_eq!(exported, listed, "{q:?}: the export in pages of 7");
    }
}

/// What a few searches find, page by page in the default order (the keyed index's), with
/// their totals.
async fn searches(store: &Store, org: &Organization, admin: &Actor) -> Vec<(Vec<String>, String)> {
    let mut out = Vec::new();
    for (donor, text) in [
        (Some("European Union (DG ECHO)"), None),
        (None, Some("in")),
        (None, Some("migr")),
        (Some("European Union (DG ECHO)"), Some("in")),
    ] {
        let q = PortfolioQuery {
            donor: donor.map(str::to_owned),
            q: text.map(str::to_owned),
            per_page: Some(200),
            ..Default::default()
        };
        let p = store.portfolio(org, admin, &q).await.unwrap();
        out.push((
            p.rows.iter().map(|r| r.id.clone()).collect(),
            format!("{:?}", p.totals),
        ));
    }
    out
}

/// How SQLite keeps `project_keys`, and its indexes.
async fn key_shape(store: &Store) -> (String, BTreeSet<String>) {
    let table: String =
        sqlx::query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'project_keys'")
            .fetch_one(store.pool())
            .await
            .unwrap()
            .get("sql");
    let indexes = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'project_keys' \
         AND sql IS NOT NULL",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| r.get("name"))
    .collect();
    (table, indexes)
}

/// On SQLite the keyed index is one `WITHOUT ROWID` table keyed in the list's order; a database
/// whose `project_keys` is still the migration's (a table and a covering index) is converted at
/// its next start, and finds the same projects in the same order. PostgreSQL keeps the
/// migration's table and covering index.
#[tokio::test]
async fn the_keyed_index_is_one_b_tree_on_sqlite_and_older_databases_are_converted() {
    let (db, store, org) = setup().await;
    store
        .load_demo(
            &org,
            &Countries::builtin(),
            &operator(),
            &DemoOptions {
                scale: 1,
                ..Default::default()
            },
            &mut |_| {},
        )
        .await
        .unwrap();
    let admin = person(
        &store,
        &org,
        "adm@example.org",
        "DG-EO",
        Role::Administrator,
    )
    .await;
    let before = searches(&store, &org, &admin).await;
    assert!(before.iter().all(|(ids, _)| !ids.is_empty()), "{before:?}");
    if store.backend() == meridian_store::Backend::Postgres {
        let n: i64 = sqlx::query(
            "SELECT COUNT(*) AS n FROM pg_indexes WHERE indexname = 'project_keys_list'",
        )
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get("n");
        assert_eq!(n, 1);
        return;
    }
    let (table, indexes) = key_shape(&store).await;
    assert!(table.contains("WITHOUT ROWID"), "{table}");
    assert_eq!(
        indexes,
        BTreeSet::from(["project_keys_project".to_owned()]),
        "the key is the list's order: no covering index beside it"
    );
    assert_no_drift(&store, "the demo load").await;

    // Back to the migration's shape (its own statements), rows kept.
    let migration = include_str!("../../../migrations/20261128200000_portfolio_search.sql");
    let from = migration.find("CREATE TABLE project_keys (").unwrap();
    let to = migration.find("CREATE INDEX project_keys_project").unwrap();
    let to = to + migration[to..].find(';').unwrap() + 1;
    let columns = "term, project_id, region_code, unit_code, status, start_year, restricted, \
                   budget_usd_e4, updated_at";
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
        "DROP INDEX project_keys_project;
         ALTER TABLE project_keys RENAME TO project_keys_saved;
         {}
         INSERT INTO project_keys ({columns}) SELECT {columns} FROM project_keys_saved;
         DROP TABLE project_keys_saved;",
        &migration[from..to]
    )))
    .execute(store.pool())
    .await
    .unwrap();
    let (table, _) = key_shape(&store).await;
    assert!(!table.contains("WITHOUT ROWID"), "{table}");
    assert_eq!(searches(&store, &org, &admin).await, before);

    let url = db.url.clone();
    store.close().await;
    let store = Store::connect(&url).await.unwrap();
    let (table, indexes) = key_shape(&store).await;
    assert!(table.contains("WITHOUT ROWID"), "{table}");
    assert_eq!(indexes, BTreeSet::from(["project_keys_project".to_owned()]));
    assert_no_drift(&store, "the conversion").await;
    assert_eq!(searches(&store, &org, &admin).await, before);
    // The keyed table is what a donor's page reads.
    let plan: Vec<String> = sqlx::query(
        "EXPLAIN QUERY PLAN SELECT project_id FROM project_keys \
         WHERE term = 'd:European Union (DG ECHO)' ORDER BY updated_at DESC LIMIT 50",
    )
    .fetch_all(store.pool())
    .await
    .unwrap()
    .iter()
    .map(|r| r.get("detail"))
    .collect();
    assert!(plan.iter().any(|d| d.contains("PRIMARY KEY")), "{plan:?}");
    // And a second start changes nothing.
    store.close().await;
    let store = Store::connect(&url).await.unwrap();
    assert_eq!(searches(&store, &org, &admin).await, before);
    store.close().await;
}

#[test]
fn words_are_lower_cased_and_split_on_anything_but_letters_and_digits() {
    assert_eq!(
        search_words("Santé des migrants: cross-border HEALTH (phase 2), santé"),
        vec![
            "santé", "des", "migrants", "cross", "border", "health", "phase", "2"
        ]
    );
    assert!(search_words(" -- ").is_empty());
}
