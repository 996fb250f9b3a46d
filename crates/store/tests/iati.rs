//! IATI import and export on whichever backend the environment names: real publisher files
//! become projects; re-importing updates them and keeps Meridian's own data; import → export →
//! import loses nothing Meridian stores; exports pass the schema (and xmllint when present).

use std::path::{Path, PathBuf};

use meridian_domain::authz::{Actor, Role};
use meridian_domain::org::{Countries, UnitCode};
use meridian_domain::projects::money::{Currency, ExchangeRate};
use meridian_formats::iati::activity::Activity;
use meridian_formats::iati::read::{ActivityReader, read_all};
use meridian_formats::iati::write::ActivityWriter;
use meridian_store::Store;
use meridian_store::iati::{ExportScope, ImportOptions, ImportReport};
use meridian_store::projects::{BudgetLineInput, PortfolioQuery, ProjectInput, TransactionInput};
use meridian_store::testing::{TestDb, operator};
use meridian_store::users::NewUser;
use sqlx::Row;

fn samples() -> PathBuf {
    let dir = std::env::var("MERIDIAN_IATI_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|_| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/iati")
        });
    assert!(dir.is_dir(), "IATI data not found at {}", dir.display());
    dir.join("samples")
}

fn iom() -> PathBuf {
    samples().join("real-2.0x/iom_XM-DAC-47066-DP.2154_wrapped.xml")
}

fn finland() -> PathBuf {
    samples().join("real-2.0x/fi-3_finland_6acts_line-br.xml")
}

async fn loaded() -> (TestDb, Store) {
    let db = TestDb::new().await;
    let store = Store::connect(&db.url).await.unwrap();
    let org = meridian_domain::builtin::organization();
    store
        .load_organization(&operator(), None, &org, &Countries::builtin())
        .await
        .unwrap();
    (db, store)
}

async fn with_rates(store: &Store) {
    let org = meridian_domain::builtin::organization();
    let date = |s: &str| {
        time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")).unwrap()
    };
    let rates = [("EUR", "1999-01-01", "1.10"), ("GBP", "1999-01-01", "1.30")]
        .iter()
        .map(|(c, d, r)| ExchangeRate {
            currency: Currency::parse(c).unwrap(),
            effective: date(d),
            usd_per_unit: r.parse().unwrap(),
        })
        .collect::<Vec<_>>();
    store
        .put_exchange_rates(&org, &operator(), &rates)
        .await
        .unwrap();
}

async fn import(store: &Store, path: &Path, options: ImportOptions) -> ImportReport {
    let org = meridian_domain::builtin::organization();
    let report = store
        .import_iati(&org, &operator(), path, &options)
        .await
        .unwrap();
    // Imports write projects, donors and transactions in bulk: the portfolio summary's
    // triggers keep up with them (created, updated, replaced).
    let drift = meridian_store::testing::portfolio_summary_drift(store).await;
    assert!(
        drift.is_empty(),
        "after importing {}: the portfolio summary drifted:\n{}",
        path.display(),
        drift.join("\n")
    );
    report
}

async fn count(store: &Store, sql: &'static str) -> i64 {
    sqlx::query(sql)
        .fetch_one(store.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}

async fn export(store: &Store, actor: Option<&Actor>, scope: &ExportScope) -> Vec<u8> {
    let org = meridian_domain::builtin::organization();
    let mut writer = ActivityWriter::new(Vec::new(), "2026-11-28T00:00:00Z", None).unwrap();
    store
        .export_activities::<Box<dyn std::error::Error>, _>(
            &org,
            actor,
            scope,
            &mut |a: Activity| {
                writer.write(&a)?;
                Ok(())
            },
        )
        .await
        .unwrap();
    writer.finish().unwrap()
}

fn schema_errors(bytes: &[u8]) -> Vec<String> {
    let report = meridian_formats::iati::validate(bytes, &Default::default()).unwrap();
    assert!(report.well_formed);
    report
        .findings
        .iter()
        .filter(|f| {
            f.severity == meridian_formats::iati::Severity::Error
                && matches!(
                    f.layer,
                    meridian_formats::iati::Layer::Schema | meridian_formats::iati::Layer::Document
                )
        })
        .map(|f| format!("{}:{} {}", f.line, f.column, f.message))
        .collect()
}

#[tokio::test]
async fn a_real_iom_activity_becomes_a_project() {
    let (_db, store) = loaded().await;
    let report = import(&store, &iom(), ImportOptions::default()).await;
    assert!(report.is_success(), "{report:?}");
    assert!(report.committed);
    assert_eq!((report.created, report.updated), (1, 0));
    assert!(
        report.dropped.contains_key("contact-info"),
        "{:?}",
        report.dropped
    );
    let org = meridian_domain::builtin::organization();
    let p = store
        .project(&org, &operator(), "CO-SOM-2020-0001")
        .await
        .unwrap();
    assert!(p.title.starts_with("Promotion of Human Security"));
    assert!(p.summary.starts_with("The proposed project provides"));
    assert_eq!(p.unit, "CO-SOM");
    assert_eq!(p.primary_country, "SOM");
    assert_eq!(p.status.as_str(), "active");
    assert_eq!(
        (p.start_date.as_str(), p.end_date.as_str()),
        ("2020-03-15", "2021-03-14")
    );
    assert_eq!(p.currency, "USD");
    assert_eq!(p.budget.unwrap().to_string(), "1459753.72");
    assert_eq!(
        p.donors.unwrap(),
        vec!["Japan - Ministry of Foreign Affairs"]
    );
    assert_eq!(p.thematic_area, "displacement_and_crisis_response");
    let identifier: String =
        sqlx::query("SELECT identifier FROM iati_activities WHERE project_id = $1")
            .bind(&p.id)
            .fetch_one(store.pool())
            .await
            .unwrap()
            .try_get("identifier")
            .unwrap();
    assert_eq!(identifier, "XM-DAC-47066-DP.2154");
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'project.iati_import'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn reimporting_updates_by_identifier_and_keeps_meridians_own_data() {
    let (_db, store) = loaded().await;
    import(&store, &iom(), ImportOptions::default()).await;
    let org = meridian_domain::builtin::organization();
    let before = store
        .project(&org, &operator(), "CO-SOM-2020-0001")
        .await
        .unwrap();
    // A transaction recorded in Meridian.
    store
        .add_transaction(
            &org,
            &operator(),
            &before.id,
            &TransactionInput {
                kind: "expenditure".into(),
                date: "2020-06-30".into(),
                currency: "USD".into(),
                amount: "1234.5".into(),
                provider: String::new(),
                receiver: "Supplier".into(),
                description: "recorded in Meridian".into(),
            },
        )
        .await
        .unwrap();
    let n_before = store
        .transactions(&org, &operator(), &before.id)
        .await
        .unwrap()
        .len();
    // The same file again: the activity maps to what the last import wrote, so nothing is
    // written (no new version, no audit event), and Meridian's own data is untouched.
    let report = import(&store, &iom(), ImportOptions::default()).await;
    assert!(report.committed, "{report:?}");
    assert_eq!(
        (report.created, report.updated, report.unchanged),
        (0, 0, 1),
        "{report:?}"
    );
    let same = store
        .project(&org, &operator(), "CO-SOM-2020-0001")
        .await
        .unwrap();
    assert_eq!(same.version, before.version);
    let updates = "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'project.iati_update'";
    assert_eq!(count(&store, updates).await, 0);
    // Asked to, the import rewrites it, and still keeps what Meridian recorded.
    let rewrite = ImportOptions {
        rewrite_unchanged: true,
        ..Default::default()
    };
    let report = import(&store, &iom(), rewrite).await;
    assert_eq!(
        (report.created, report.updated, report.unchanged),
        (0, 1, 0),
        "{report:?}"
    );
    assert_eq!(count(&store, updates).await, 1);
    let after = store
        .project(&org, &operator(), "CO-SOM-2020-0001")
        .await
        .unwrap();
    assert_eq!(after.id, before.id);
    assert_eq!(after.version, before.version + 1);
    assert_eq!(after.budget_lines, before.budget_lines);
    let txns = store
        .transactions(&org, &operator(), &after.id)
        .await
        .unwrap();
    assert_eq!(txns.len(), n_before, "no transaction doubled or lost");
    assert!(txns.iter().any(|t| t.description == "recorded in Meridian"));
    assert_eq!(count(&store, "SELECT COUNT(*) AS n FROM projects").await, 1);
    assert_eq!(
        count(&store, "SELECT COUNT(*) AS n FROM iati_activities").await,
        1
    );
    // The portfolio finds it by donor and by title word, once.
    for q in [
        PortfolioQuery {
            donor: Some("Japan - Ministry of Foreign Affairs".into()),
            ..Default::default()
        },
        PortfolioQuery {
            q: Some("human security".into()),
            ..Default::default()
        },
    ] {
        let page = store.portfolio(&org, &operator(), &q).await.unwrap();
        assert_eq!(
            page.rows
                .iter()
                .map(|r| r.code.as_str())
                .collect::<Vec<_>>(),
            vec!["CO-SOM-2020-0001"],
            "{q:?}"
        );
    }
}

#[tokio::test]
async fn one_refused_activity_refuses_the_file_unless_keep_valid() {
    let (_db, store) = loaded().await;
    // No EUR rate yet, and two regional activities with no country office.
    let report = import(&store, &finland(), ImportOptions::default()).await;
    assert!(!report.committed);
    assert_eq!(report.refused.len(), 6, "{:#?}", report.refused);
    assert!(report.refused.iter().any(|r| {
        r.reasons
            .iter()
            .any(|m| m.contains("add the exchange rates for EUR"))
    }));
    assert_eq!(count(&store, "SELECT COUNT(*) AS n FROM projects").await, 0);
    assert_eq!(
        count(&store, "SELECT COUNT(*) AS n FROM project_sequences").await,
        0
    );

    with_rates(&store).await;
    let report = import(
        &store,
        &finland(),
        ImportOptions {
            keep_valid: true,
            ..Default::default()
        },
    )
    .await;
    assert!(report.committed);
    assert_eq!(report.created, 4, "{:#?}", report.refused);
    assert_eq!(report.refused.len(), 2);
    for r in &report.refused {
        assert!(r.line > 1 && r.identifier.is_some());
        assert!(r.reasons[0].contains("no recipient-country"), "{r}");
    }
    // With a default office, the regional ones come in too.
    let nairobi = ImportOptions {
        default_unit: Some("RO-NBO".into()),
        ..Default::default()
    };
    let report = import(&store, &finland(), nairobi.clone()).await;
    assert!(report.is_success(), "{:#?}", report.refused);
    // The four imported before map to the same: unchanged.
    assert_eq!(
        (report.created, report.updated, report.unchanged),
        (2, 0, 4)
    );
    // A new EUR rate changes what they map to (their amounts in USD): all are rewritten.
    let org = meridian_domain::builtin::organization();
    let rate = ExchangeRate {
        currency: Currency::parse("EUR").unwrap(),
        effective: time::macros::date!(2005 - 01 - 01),
        usd_per_unit: "0.90".parse().unwrap(),
    };
    store
        .put_exchange_rates(&org, &operator(), &[rate])
        .await
        .unwrap();
    let report = import(&store, &finland(), nairobi).await;
    assert_eq!(
        (report.created, report.updated, report.unchanged),
        (0, 6, 0),
        "{report:?}"
    );
}

#[tokio::test]
async fn schema_errors_and_broken_files_import_nothing() {
    let (_db, store) = loaded().await;
    let invalid =
        samples().join("real-2.0x/undp_XM-DAC-41114_gabon_INVALID_condition-type-line70077.xml");
    let report = import(&store, &invalid, ImportOptions::default()).await;
    assert!(!report.committed);
    let text = report
        .refused
        .iter()
        .map(|r| r.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        text.contains("7007") && text.contains("condition"),
        "{text}"
    );
    assert_eq!(count(&store, "SELECT COUNT(*) AS n FROM projects").await, 0);

    let dir = tempfile::tempdir().unwrap();
    let cut = dir.path().join("truncated.xml");
    let bytes = std::fs::read(iom()).unwrap();
    std::fs::write(&cut, &bytes[..bytes.len() - 200]).unwrap();
    let report = import(
        &store,
        &cut,
        ImportOptions {
            keep_valid: true,
            ..Default::default()
        },
    )
    .await;
    assert!(!report.readable && !report.committed, "{report:?}");
    assert!(
        report.file_errors.iter().any(|e| e.contains("line")),
        "{:?}",
        report.file_errors
    );
    assert_eq!(count(&store, "SELECT COUNT(*) AS n FROM projects").await, 0);
}

/// What Meridian stores of an activity, as its export shows it: the activity without what
/// the import counted as left out.
fn by_identifier(bytes: &[u8]) -> std::collections::BTreeMap<String, Activity> {
    read_all(bytes)
        .unwrap()
        .into_iter()
        .map(|mut a| {
            a.extra = Default::default();
            (a.identifier.clone(), a)
        })
        .collect()
}

/// A file of `n` activities: Finland's six over and over, with identifiers of their own
/// (`…-0`, `…-1`, …), and `repeat` (an index) written a second time at the end.
fn many_activities(dir: &Path, n: usize, repeat: Option<usize>) -> PathBuf {
    let base = read_all(&std::fs::read(finland()).unwrap()).unwrap();
    let nth = |i: usize| {
        let mut a = base[i % base.len()].clone();
        a.identifier = format!("{}-{i}", a.identifier);
        a
    };
    let mut writer = ActivityWriter::new(Vec::new(), "2026-12-03T00:00:00Z", None).unwrap();
    for i in 0..n {
        writer.write(&nth(i)).unwrap();
    }
    if let Some(i) = repeat {
        writer.write(&nth(i)).unwrap();
    }
    let path = dir.join(format!("many-{n}-{repeat:?}.xml"));
    std::fs::write(&path, writer.finish().unwrap()).unwrap();
    path
}

/// More activities than one batch (100 on SQLite, 500 on PostgreSQL): each batch is prepared
/// in the transaction, its rows built on another thread while the batch before is written,
/// then written. Everything arrives once, with its own code, keys and audit event; an
/// identifier repeated in a later batch is refused, and then nothing is written.
#[tokio::test]
async fn a_file_of_several_batches_is_written_whole_or_not_at_all() {
    let (_db, store) = loaded().await;
    with_rates(&store).await;
    let dir = tempfile::tempdir().unwrap();
    let options = ImportOptions {
        default_unit: Some("RO-NBO".into()),
        ..Default::default()
    };
    // The last activity repeats the third: the batch that finds it is the last one.
    let repeated = many_activities(dir.path(), 1_210, Some(2));
    let r = import(&store, &repeated, options.clone()).await;
    assert!(!r.committed);
    assert_eq!(r.refused.len(), 1, "{:?}", r.refused);
    assert!(
        r.refused[0].reasons[0].contains("more than once"),
        "{:?}",
        r.refused[0]
    );
    assert_eq!(
        count(&store, "SELECT COUNT(*) AS n FROM iati_activities").await,
        0
    );
    let file = many_activities(dir.path(), 1_210, None);
    let r = import(&store, &file, options.clone()).await;
    assert!(r.is_success(), "{:?} {:?}", r.refused, r.file_errors);
    assert_eq!((r.activities, r.created, r.updated), (1_210, 1_210, 0));
    for (sql, what) in [
        (
            "SELECT COUNT(*) AS n FROM iati_activities WHERE elements IS NOT NULL",
            "activities",
        ),
        (
            "SELECT COUNT(DISTINCT p.code) AS n FROM projects p \
             JOIN iati_activities i ON i.project_id = p.id",
            "distinct codes",
        ),
        (
            "SELECT COUNT(DISTINCT k.project_id) AS n FROM project_keys k \
             JOIN iati_activities i ON i.project_id = k.project_id",
            "projects in the keyed index",
        ),
        (
            "SELECT COUNT(*) AS n FROM audit_events WHERE action = 'project.iati_import'",
            "audit events",
        ),
    ] {
        let n = sqlx::query(sql)
            .fetch_one(store.pool())
            .await
            .unwrap()
            .try_get::<i64, _>("n")
            .unwrap();
        assert_eq!(n, 1_210, "{what}");
    }
    let exported = by_identifier(&export(&store, Some(&operator()), &ExportScope::default()).await);
    assert_eq!(exported.len(), 1_210);
    let r = import(&store, &file, options).await;
    assert_eq!((r.created, r.updated, r.unchanged), (0, 0, 1_210));
}

/// A database from before the elements were packed (thirteen JSON columns, no
/// `iati_activities.elements`): the next start packs them and drops the columns, once, and the
/// export says what it said before.
#[tokio::test]
async fn activities_imported_before_the_elements_were_packed_are_packed_at_the_next_start() {
    use meridian_store::testing::{IATI_ELEMENT_NAMES, iati_elements_json};
    let (db, store) = loaded().await;
    with_rates(&store).await;
    let options = ImportOptions {
        default_unit: Some("RO-NBO".into()),
        ..Default::default()
    };
    for f in [finland(), iom()] {
        assert!(import(&store, &f, options.clone()).await.is_success());
    }
    let before = export(&store, Some(&operator()), &ExportScope::default()).await;
    assert_eq!(by_identifier(&before).len(), 7);
    // Back to the old shape.
    for name in IATI_ELEMENT_NAMES {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER TABLE iati_activities ADD COLUMN {name} TEXT"
        )))
        .execute(store.pool())
        .await
        .unwrap();
    }
    let rows = sqlx::query("SELECT project_id, elements FROM iati_activities")
        .fetch_all(store.pool())
        .await
        .unwrap();
    assert_eq!(rows.len(), 7);
    for r in rows {
        let id: String = r.try_get("project_id").unwrap();
        let packed: Vec<u8> = r.try_get("elements").unwrap();
        let doc = iati_elements_json(&packed);
        for name in IATI_ELEMENT_NAMES {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE iati_activities SET {name} = $1 WHERE project_id = $2"
            )))
            .bind(doc[name].to_string())
            .bind(&id)
            .execute(store.pool())
            .await
            .unwrap();
        }
    }
    sqlx::query("UPDATE iati_activities SET elements = NULL")
        .execute(store.pool())
        .await
        .unwrap();
    // Unpacked, the export refuses to guess.
    let org = meridian_domain::builtin::organization();
    let refused = store
        .export_activities::<Box<dyn std::error::Error>, _>(
            &org,
            Some(&operator()),
            &ExportScope::default(),
            &mut |_| Ok(()),
        )
        .await
        .expect_err("an activity without its elements is an error")
        .to_string();
    assert!(
        refused.contains("iati_activities.elements of "),
        "{refused}"
    );
    sqlx::query("DELETE FROM store_backfills WHERE name = 'iati_activity_elements'")
        .execute(store.pool())
        .await
        .unwrap();
    store.close().await;
    let store = Store::connect(&db.url).await.unwrap();
    assert_eq!(
        export(&store, Some(&operator()), &ExportScope::default()).await,
        before
    );
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) AS n FROM iati_activities WHERE elements IS NULL"
        )
        .await,
        0
    );
    for name in IATI_ELEMENT_NAMES {
        let gone = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {name} FROM iati_activities"
        )))
        .fetch_all(store.pool())
        .await;
        assert!(gone.is_err(), "{name} is dropped");
    }
    // Once: a second start changes nothing.
    store.close().await;
    let store = Store::connect(&db.url).await.unwrap();
    assert_eq!(
        export(&store, Some(&operator()), &ExportScope::default()).await,
        before
    );
    store.close().await;
}

#[tokio::test]
async fn import_export_import_loses_nothing_meridian_stores() {
    let (_db, store) = loaded().await;
    with_rates(&store).await;
    let files = [
        finland(),
        iom(),
        samples().join("real-2.0x/us-gov-1_3acts_one-with-errors.xml"),
        samples().join("validator-fixtures/integration-test-files/iati-act-no-errors.xml"),
    ];
    let options = ImportOptions {
        default_unit: Some("RO-NBO".into()),
        ..Default::default()
    };
    for f in &files {
        let r = import(&store, f, options.clone()).await;
        assert!(
            r.is_success(),
            "{}: {:#?} {:?}",
            f.display(),
            r.refused,
            r.file_errors
        );
    }
    let first = export(&store, Some(&operator()), &ExportScope::default()).await;
    assert_eq!(schema_errors(&first), Vec::<String>::new());
    let exported = by_identifier(&first);
    assert_eq!(exported.len(), 11);
    // What the files said, and the export says the same of everything Meridian keeps.
    for f in &files {
        let file = std::fs::File::open(f).unwrap();
        for original in ActivityReader::new(std::io::BufReader::new(file)) {
            let original = original.unwrap();
            let out = &exported[&original.identifier];
            assert_eq!(out.titles, original.titles);
            assert_eq!(out.descriptions, original.descriptions);
            assert_eq!(out.participating_orgs, original.participating_orgs);
            assert_eq!(out.status, original.status);
            assert_eq!(out.dates, original.dates);
            assert_eq!(out.recipient_countries, original.recipient_countries);
            assert_eq!(out.recipient_regions, original.recipient_regions);
            assert_eq!(out.locations, original.locations);
            assert_eq!(out.sectors, original.sectors);
            assert_eq!(out.budgets, original.budgets);
            assert_eq!(out.document_links, original.document_links);
            assert_eq!(out.results, original.results);
            assert_eq!(out.transactions.len(), original.transactions.len());
            assert_eq!(out.reporting_org, original.reporting_org);
        }
    }
    // Into a second database and out again: the same.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.xml");
    std::fs::write(&path, &first).unwrap();
    let (_db2, second) = loaded().await;
    with_rates(&second).await;
    let r = import(&second, &path, options.clone()).await;
    assert!(r.is_success(), "{:#?}", r.refused);
    assert_eq!(r.created, 11);
    let again = export(&second, Some(&operator()), &ExportScope::default()).await;
    assert_eq!(by_identifier(&again), exported);
    // And back into the first: everything updated, nothing new, nothing changed.
    let r = import(&store, &path, options).await;
    assert_eq!((r.created, r.updated), (0, 11));
    assert_eq!(
        by_identifier(&export(&store, Some(&operator()), &ExportScope::default()).await),
        exported
    );
}

async fn person(store: &Store, email: &str, unit: &str, role: Role) -> Actor {
    let org = meridian_domain::builtin::organization();
    store
        .create_user(
            &org,
            &operator(),
            NewUser {
                email: email.into(),
                name: String::new(),
                unit: UnitCode::parse(unit).unwrap(),
                roles: vec![role],
                password: Some("correct horse battery staple".into()),
            },
        )
        .await
        .unwrap()
        .user
        .actor()
}

#[tokio::test]
async fn meridian_projects_export_as_valid_activities_and_only_public_ones_are_published() {
    let (_db, store) = loaded().await;
    with_rates(&store).await;
    let org = meridian_domain::builtin::organization();
    let drafter = person(&store, "dev@example.org", "CO-KEN", Role::ProjectDeveloper).await;
    let input = |title: &str, restricted: bool| ProjectInput {
        title: title.into(),
        summary: "Information & <support> for \"young\" people".into(),
        thematic_area: "migrant_protection".into(),
        unit: "CO-KEN".into(),
        primary_country: "KEN".into(),
        countries: vec!["UGA".into()],
        admin_areas: vec![],
        start_date: "2026-01-01".into(),
        end_date: "2027-12-31".into(),
        currency: "EUR".into(),
        budget_lines: vec![BudgetLineInput {
            category: "staff".into(),
            description: String::new(),
            currency: "EUR".into(),
            amount: "250000".into(),
        }],
        donors: vec!["European Union (DG ECHO)".into()],
        partners: vec!["Kenya Red Cross".into()],
        restricted,
    };
    let open = store
        .create_project(&org, &drafter, &input("Open", false))
        .await
        .unwrap();
    let secret = store
        .create_project(&org, &drafter, &input("Secret", true))
        .await
        .unwrap();
    let all = export(&store, Some(&operator()), &ExportScope::default()).await;
    assert_eq!(schema_errors(&all), Vec::<String>::new());
    let acts = by_identifier(&all);
    assert_eq!(acts.len(), 2);
    let a = &acts[&format!("XM-DAC-47066-{}", open.code)];
    assert_eq!(a.status.as_deref(), Some("1"));
    assert_eq!(a.recipient_countries.len(), 2);
    assert_eq!(a.budgets[0].value.amount, "250000");
    assert!(acts.contains_key(&format!("XM-DAC-47066-{}", secret.code)));
    // Drafts are not published; nor is anything restricted.
    let public = export(&store, None, &ExportScope::default()).await;
    assert!(by_identifier(&public).is_empty());
    sqlx::query("UPDATE projects SET status = 'active'")
        .execute(store.pool())
        .await
        .unwrap();
    let public = by_identifier(&export(&store, None, &ExportScope::default()).await);
    assert_eq!(
        public.keys().cloned().collect::<Vec<_>>(),
        vec![format!("XM-DAC-47066-{}", open.code)]
    );
    // A unit filter.
    let elsewhere = export(
        &store,
        Some(&operator()),
        &ExportScope {
            unit: Some("CO-SOM".into()),
            ..Default::default()
        },
    )
    .await;
    assert!(by_identifier(&elsewhere).is_empty());
    xmllint(&all);
}

/// The official schema through xmllint, when it is installed.
fn xmllint(bytes: &[u8]) {
    if std::process::Command::new("xmllint")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!(
            "\n*** xmllint NOT FOUND on PATH: the export was NOT checked by xmllint (install libxml2-utils) ***\n"
        );
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("export.xml");
    std::fs::write(&file, bytes).unwrap();
    let schema = samples().join("../schemas/iati-activities-schema.xsd");
    let out = std::process::Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&schema)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "xmllint: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn fixture(name: &str) -> PathBuf {
    samples()
        .join("validator-fixtures/integration-test-files")
        .join(name)
}

async fn project_of(store: &Store, identifier: &str) -> String {
    sqlx::query("SELECT project_id FROM iati_activities WHERE identifier = $1")
        .bind(identifier)
        .fetch_one(store.pool())
        .await
        .unwrap()
        .try_get("project_id")
        .unwrap()
}

#[tokio::test]
async fn results_of_a_sample_go_into_the_results_framework() {
    let (_db, store) = loaded().await;
    with_rates(&store).await;
    let org = meridian_domain::builtin::organization();
    let options = ImportOptions {
        default_unit: Some("RO-NBO".into()),
        ..Default::default()
    };
    // IATI's example activity, twice, with a result: a unit indicator, a baseline, and a
    // quarter with a target and an actual.
    let r = import(
        &store,
        &fixture("iati-act-identifier-exists-15-transaction-x-ref-found-201.xml"),
        options.clone(),
    )
    .await;
    assert!(r.is_success(), "{:#?} {:?}", r.refused, r.file_errors);
    assert_eq!((r.results, r.indicators, r.reports), (2, 2, 2), "{r:?}");
    assert!(
        r.results_not_mapped.is_empty(),
        "{:#?}",
        r.results_not_mapped
    );
    let id = project_of(&store, "AA-AAA-123456789-ABC123").await;
    let f = store
        .results_framework(&org, &operator(), &id)
        .await
        .unwrap();
    assert_eq!(f.frequency.map(|f| f.as_str()), Some("quarterly"));
    assert_eq!(f.results.len(), 1);
    let result = &f.results[0];
    assert_eq!(result.level.as_str(), "output");
    assert_eq!(result.title, "Result title");
    let ind = &result.indicators[0];
    assert_eq!(ind.title, "Indicator title");
    assert_eq!(ind.measure.as_str(), "number");
    assert_eq!(ind.direction.as_str(), "ascending");
    assert_eq!(ind.baseline_year, Some(2012));
    assert_eq!(ind.baseline.as_ref().unwrap().to_input(), "10");
    assert_eq!(ind.target_for("2013-01-01", "").unwrap().to_input(), "10");
    let report = ind.report("2013-01-01").expect("the actual is a report");
    assert_eq!(report.status.as_str(), "approved");
    assert_eq!(report.total().unwrap().to_input(), "11");
    assert_eq!(report.narrative, "Actual comment text");
    assert!(f.period("2013-01-01").is_some());
    // Audited with the project.
    let after: String = sqlx::query(
        "SELECT after_json FROM audit_events WHERE action = 'project.iati_import' AND entity_id = $1",
    )
    .bind(&id)
    .fetch_one(store.pool())
    .await
    .unwrap()
    .try_get("after_json")
    .unwrap();
    let after: serde_json::Value = serde_json::from_str(&after).unwrap();
    assert_eq!(
        (after["results"].as_i64(), after["reports"].as_i64()),
        (Some(1), Some(1))
    );

    // IATI's full example: its target and actual are given per combination of two dimensions
    // (sex and age) only. The target comes in per combination; the actual has no total, which
    // a report needs, and the baseline is for a combination: the summary says so.
    let r = import(&store, &fixture("iati-act-no-errors.xml"), options.clone()).await;
    assert!(r.is_success(), "{:#?}", r.refused);
    assert_eq!(
        (r.updated, r.results, r.indicators, r.reports),
        (1, 1, 1, 0)
    );
    assert_eq!(r.results_not_mapped.len(), 1);
    let text = r.results_not_mapped[0].to_string();
    assert!(text.contains("a total is required"), "{text}");
    assert!(text.contains("baseline"), "{text}");
    let f = store
        .results_framework(&org, &operator(), &id)
        .await
        .unwrap();
    let ind = &f.results[0].indicators[0];
    assert_eq!(
        ind.target_for("2013-01-01", "age=adult;sex=female")
            .unwrap()
            .to_input(),
        "10"
    );

    // Re-importing replaces what the file made and nothing doubles.
    let r = import(
        &store,
        &fixture("iati-act-identifier-exists-15-transaction-x-ref-found-201.xml"),
        options,
    )
    .await;
    // The full example replaced the first activity: it is rewritten; the second is as the
    // first import of this file left it, and stays.
    assert_eq!(
        (r.updated, r.unchanged, r.results, r.reports),
        (1, 1, 1, 1),
        "{r:?}"
    );
    assert_eq!(count(&store, "SELECT COUNT(*) AS n FROM results").await, 2);
    assert_eq!(
        count(&store, "SELECT COUNT(*) AS n FROM indicators").await,
        2
    );
    assert_eq!(
        count(&store, "SELECT COUNT(*) AS n FROM indicator_reports").await,
        2
    );
}

#[tokio::test]
async fn results_round_trip_with_meridians_edits() {
    use meridian_store::results::{IndicatorInput, ResultInput, TargetInput};
    let (_db, store) = loaded().await;
    with_rates(&store).await;
    let org = meridian_domain::builtin::organization();
    let options = ImportOptions {
        default_unit: Some("RO-NBO".into()),
        ..Default::default()
    };
    let file = fixture("iati-act-identifier-exists-15-transaction-x-ref-found-201.xml");
    let r = import(&store, &file, options.clone()).await;
    assert!(r.is_success(), "{:#?}", r.refused);
    let originals: std::collections::BTreeMap<String, Activity> =
        by_identifier(&std::fs::read(&file).unwrap());
    // Unchanged: each result is written as the file had it.
    let first = by_identifier(&export(&store, Some(&operator()), &ExportScope::default()).await);
    for (id, a) in &first {
        assert_eq!(a.results, originals[id].results, "{id}");
    }
    // Edited in Meridian: one result renamed, a result of Meridian's own added.
    let id = project_of(&store, "AA-AAA-123456789-ABC123").await;
    let f = store
        .results_framework(&org, &operator(), &id)
        .await
        .unwrap();
    let imported = &f.results[0];
    store
        .update_result(
            &org,
            &operator(),
            &imported.id,
            &ResultInput {
                level: "outcome".into(),
                title: "Renamed in Meridian".into(),
                srf_codes: vec![],
                gcm_objectives: vec![],
                sdg_targets: vec![],
                version: Some(imported.version),
            },
        )
        .await
        .unwrap();
    let own = store
        .add_result(
            &org,
            &operator(),
            &id,
            &ResultInput {
                level: "output".into(),
                title: "Migrants assisted".into(),
                srf_codes: vec![],
                gcm_objectives: vec![],
                sdg_targets: vec![],
                version: None,
            },
        )
        .await
        .unwrap();
    store
        .add_indicator(
            &org,
            &operator(),
            &own.id,
            &IndicatorInput {
                title: "Share of referrals completed".into(),
                measure: "percentage".into(),
                direction: None,
                aggregation: None,
                cumulative: false,
                unit: String::new(),
                categories: vec![],
                baseline_year: Some(2012),
                baseline: Some("30/120".into()),
                target: None,
                srf_indicator: None,
                means_of_verification: String::new(),
                targets: vec![TargetInput {
                    period: "2013-Q2".into(),
                    disaggregation: String::new(),
                    value: "50/100".into(),
                }],
                version: None,
            },
        )
        .await
        .unwrap();
    let bytes = export(&store, Some(&operator()), &ExportScope::default()).await;
    assert_eq!(schema_errors(&bytes), Vec::<String>::new());
    xmllint(&bytes);
    let second = by_identifier(&bytes);
    let edited = &second["AA-AAA-123456789-ABC123"].results;
    assert_eq!(edited.len(), 2);
    assert_eq!(edited[0].attr("type"), Some("2"));
    // What Meridian does not keep is carried over from the file: the result's description and
    // aggregation status, the unchanged indicator's description, the unchanged baseline's and
    // target's comments.
    let text = |e: &meridian_formats::iati::activity::RawElement, path: &[&str]| -> String {
        let mut at = e;
        for name in path {
            at = at
                .child(name)
                .unwrap_or_else(|| panic!("no {name} in {}: {at:#?}", at.name));
        }
        at.children
            .iter()
            .find(|c| c.name == "narrative")
            .map(|n| n.text.trim().to_owned())
            .unwrap_or_default()
    };
    assert_eq!(text(&edited[0], &["title"]), "Renamed in Meridian");
    assert_eq!(
        text(&edited[0], &["description"]),
        "Result description text"
    );
    assert_eq!(edited[0].attr("aggregation-status"), Some("1"));
    assert_eq!(
        text(&edited[0], &["indicator", "description"]),
        "Indicator description text"
    );
    assert_eq!(
        text(&edited[0], &["indicator", "baseline", "comment"]),
        "Baseline comment text"
    );
    assert_eq!(
        text(&edited[0], &["indicator", "period", "target", "comment"]),
        "Target comment text"
    );
    assert_eq!(
        text(&edited[0], &["indicator", "period", "actual", "comment"]),
        "Actual comment text"
    );
    // The other activity's result is still the file's.
    assert_eq!(
        second["AA-AAA-123456789-DEF456"].results,
        originals["AA-AAA-123456789-DEF456"].results
    );
    // Into a second database: the same framework.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("export.xml");
    std::fs::write(&path, &bytes).unwrap();
    let (_db2, other) = loaded().await;
    with_rates(&other).await;
    let r = import(&other, &path, options).await;
    assert!(r.is_success(), "{:#?}", r.refused);
    assert!(
        r.results_not_mapped.is_empty(),
        "{:#?}",
        r.results_not_mapped
    );
    let id2 = project_of(&other, "AA-AAA-123456789-ABC123").await;
    let a = store
        .results_framework(&org, &operator(), &id)
        .await
        .unwrap();
    let b = other
        .results_framework(&org, &operator(), &id2)
        .await
        .unwrap();
    assert_eq!(a.frequency, b.frequency);
    let shape = |f: &meridian_store::results::ResultsFramework| {
        f.results
            .iter()
            .map(|r| {
                (
                    r.level,
                    r.title.clone(),
                    r.indicators
                        .iter()
                        .map(|i| {
                            (
                                i.title.clone(),
                                i.measure,
                                i.baseline_year,
                                i.baseline.as_ref().and_then(|b| b.as_decimal()),
                                i.targets
                                    .iter()
                                    .map(|t| (t.period_start.clone(), t.figure.as_decimal()))
                                    .collect::<Vec<_>>(),
                                i.reports
                                    .iter()
                                    .map(|r| {
                                        (
                                            r.period_start.clone(),
                                            r.total().and_then(|t| t.as_decimal()),
                                            r.narrative.clone(),
                                        )
                                    })
                                    .collect::<Vec<_>>(),
                            )
                        })
                        .collect::<Vec<_>>(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(shape(&a), shape(&b));
    assert_eq!(b.results.len(), 2);
    assert_eq!(b.results[1].indicators[0].targets.len(), 1);
    // Re-importing the unchanged file leaves both activities as they are.
    let r = import(
        &store,
        &file,
        ImportOptions {
            default_unit: Some("RO-NBO".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!((r.updated, r.unchanged, r.results), (0, 2, 0), "{r:?}");
    // Rewriting them keeps what Meridian changed and says so.
    let r = import(
        &store,
        &file,
        ImportOptions {
            default_unit: Some("RO-NBO".into()),
            rewrite_unchanged: true,
            ..Default::default()
        },
    )
    .await;
    assert_eq!((r.updated, r.results), (2, 1), "{r:?}");
    let note = r
        .results_not_mapped
        .iter()
        .find(|n| n.identifier == "AA-AAA-123456789-ABC123")
        .map(|n| n.to_string())
        .unwrap_or_default();
    assert!(note.contains("changed in Meridian"), "{note}");
    let again = store
        .results_framework(&org, &operator(), &id)
        .await
        .unwrap();
    assert_eq!(shape(&again), shape(&a));
}

/// The import keeps a hash of the summary it derived (not a copy): an unchanged summary still
/// exports the file's descriptions as they were, and one edited in Meridian is exported.
#[tokio::test]
async fn an_edited_summary_is_exported_and_an_unchanged_one_is_the_file_s() {
    let (_db, store) = loaded().await;
    with_rates(&store).await;
    let options = ImportOptions {
        default_unit: Some("RO-NBO".into()),
        ..Default::default()
    };
    let r = import(&store, &finland(), options).await;
    assert!(r.is_success(), "{:#?}", r.refused);
    let derived: String = sqlx::query("SELECT derived FROM iati_activities ORDER BY identifier")
        .fetch_one(store.pool())
        .await
        .unwrap()
        .get("derived");
    let derived: serde_json::Value = serde_json::from_str(&derived).unwrap();
    let kept = derived["summary"].as_str().unwrap();
    assert!(
        kept.starts_with("sha256:") && kept.len() == 71,
        "the summary is kept as its hash: {kept}"
    );
    let originals = by_identifier(&std::fs::read(finland()).unwrap());
    let before = by_identifier(&export(&store, Some(&operator()), &ExportScope::default()).await);
    for (id, a) in &before {
        assert_eq!(a.descriptions, originals[id].descriptions, "{id}");
    }
    // One summary edited in Meridian.
    let (id, original) = originals
        .iter()
        .find(|(_, a)| !a.descriptions.is_empty())
        .unwrap();
    let pid = project_of(&store, id).await;
    sqlx::query("UPDATE projects SET summary = $1 WHERE id = $2")
        .bind("Rewritten in Meridian after the mid-term review.")
        .bind(&pid)
        .execute(store.pool())
        .await
        .unwrap();
    let after = by_identifier(&export(&store, Some(&operator()), &ExportScope::default()).await);
    let shown: Vec<&str> = after[id]
        .descriptions
        .iter()
        .flat_map(|d| d.narratives.iter().map(|n| n.text.as_str()))
        .collect();
    assert!(
        shown.contains(&"Rewritten in Meridian after the mid-term review."),
        "{shown:?}"
    );
    assert_ne!(after[id].descriptions, original.descriptions);
    for (other, a) in &after {
        if other != id {
            assert_eq!(a.descriptions, originals[other].descriptions, "{other}");
        }
    }
}
