//! The store's story, run on whichever backend the environment names (SQLite by default,
//! PostgreSQL with MERIDIAN_TEST_POSTGRES_URL): every backend must tell it the same way.

use meridian_domain::authz::Role;
use meridian_domain::org::{Countries, UnitCode};
use meridian_store::Store;
use meridian_store::audit::AuditQuery;
use meridian_store::testing::{TestDb, operator};
use meridian_store::users::NewUser;

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

async fn count(store: &Store, sql: &'static str) -> i64 {
    use sqlx::Row;
    sqlx::query(sql)
        .fetch_one(store.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap()
}

#[tokio::test]
async fn migrations_and_loading_are_idempotent() {
    let (db, store) = loaded().await;
    let events = count(&store, "SELECT COUNT(*) AS n FROM audit_events").await;
    assert!(events > 400, "the first load is audited ({events} events)");
    // Opening again runs the migrations again, and loading the same file changes nothing.
    let again = Store::connect(&db.url).await.unwrap();
    let org = meridian_domain::builtin::organization();
    let current = again.organization().await.unwrap();
    let summary = again
        .load_organization(&operator(), Some(&current), &org, &Countries::builtin())
        .await
        .unwrap();
    assert!(summary.is_unchanged(), "{summary:?}");
    assert_eq!(
        count(&again, "SELECT COUNT(*) AS n FROM audit_events").await,
        events
    );
}

#[tokio::test]
async fn the_stored_organization_reads_back_as_loaded() {
    let (_db, store) = loaded().await;
    let file = meridian_domain::builtin::organization();
    let stored = store.organization().await.unwrap();
    let (stored, file) = (stored.definition(), file.definition());
    assert_eq!(stored.units.len(), file.units.len());
    for (s, f) in stored.units.iter().zip(&file.units) {
        assert_eq!(s, f);
    }
    for (s, f) in stored.processes.iter().zip(&file.processes) {
        assert_eq!(s, f);
    }
    assert_eq!(stored.coalitions, file.coalitions);
    assert_eq!(stored.data_hubs, file.data_hubs);
    assert_eq!(stored.synonyms, file.synonyms);
    assert_eq!(stored, file);
}

#[tokio::test]
async fn the_audit_trail_cannot_be_rewritten() {
    let (_db, store) = loaded().await;
    let update = sqlx::query("UPDATE audit_events SET actor = 'someone else'")
        .execute(store.pool())
        .await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = sqlx::query("DELETE FROM audit_events")
        .execute(store.pool())
        .await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
}

#[tokio::test]
async fn a_change_and_its_audit_event_commit_together_or_not_at_all() {
    let (_db, store) = loaded().await;
    let org = store.organization().await.unwrap();
    let before = count(&store, "SELECT COUNT(*) AS n FROM audit_events").await;
    // A clash on the unique email aborts inside the transaction: neither row stays.
    let new = |email: &str| NewUser {
        email: email.into(),
        name: String::new(),
        unit: UnitCode::parse("CO-KEN").unwrap(),
        roles: vec![Role::Viewer],
        password: Some("a long enough password".into()),
    };
    store
        .create_user(&org, &operator(), new("a@example.org"))
        .await
        .unwrap();
    assert!(
        store
            .create_user(&org, &operator(), new("A@example.org"))
            .await
            .is_err()
    );
    assert_eq!(count(&store, "SELECT COUNT(*) AS n FROM users").await, 1);
    assert_eq!(
        count(&store, "SELECT COUNT(*) AS n FROM audit_events").await,
        before + 1
    );

    // A transaction dropped half-way (a crash, a panic, a lost connection) leaves nothing.
    let mut tx = store.begin().await.unwrap();
    sqlx::query("UPDATE users SET name = 'half-written'")
        .execute(&mut *tx)
        .await
        .unwrap();
    drop(tx);
    let events = store
        .audit_events(&AuditQuery {
            entity: Some("user".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    let user = store
        .find_user_by_email("a@example.org")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.name, "a@example.org");
}

#[tokio::test]
async fn scoped_audit_queries_see_only_their_units() {
    let (_db, store) = loaded().await;
    let nairobi = store
        .audit_events(&AuditQuery {
            units: Some(vec!["RO-NBO".into(), "CO-KEN".into()]),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(nairobi.len(), 2, "the creation of the two units");
    assert!(
        nairobi
            .iter()
            .all(|e| e.unit.as_deref() == Some("RO-NBO") || e.unit.as_deref() == Some("CO-KEN"))
    );
    let none = store
        .audit_events(&AuditQuery {
            units: Some(vec![]),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(none.is_empty());
}

/// A write held up by another writer longer than the store waits is told the database is busy
/// (not a database error, which the web layer would show as a fault of its own), and writes
/// nothing. On SQLite another writer is any open write transaction (a large import holds one
/// for its whole length); on PostgreSQL, a lock the write needs.
#[tokio::test]
async fn a_write_held_up_by_another_writer_is_busy_and_changes_nothing() {
    use meridian_store::{Backend, StoreError};
    let (_db, store) = loaded().await;
    let mut holder = store.begin().await.unwrap();
    if store.backend() == Backend::Postgres {
        sqlx::query("LOCK TABLE store_backfills IN EXCLUSIVE MODE")
            .execute(&mut *holder)
            .await
            .unwrap();
    }
    let mut other = store.pool().acquire().await.unwrap();
    sqlx::query(match store.backend() {
        Backend::Sqlite => "PRAGMA busy_timeout = 100",
        Backend::Postgres => "SET lock_timeout = '100ms'",
    })
    .execute(&mut *other)
    .await
    .unwrap();
    let refused = sqlx::query("INSERT INTO store_backfills (name, done_at) VALUES ($1, $2)")
        .bind("held-up")
        .bind(meridian_store::now_text())
        .execute(&mut *other)
        .await
        .map_err(StoreError::from)
        .expect_err("the other writer holds the database");
    assert!(matches!(refused, StoreError::Busy), "{refused:?}");
    assert!(refused.to_string().contains("try again"), "{refused}");
    // This connection's short wait is not for the pool's other users.
    other.detach();
    holder.rollback().await.unwrap();
    assert_eq!(
        count(
            &store,
            "SELECT COUNT(*) AS n FROM store_backfills WHERE name = 'held-up'"
        )
        .await,
        0
    );
    // And a store error that is not about waiting stays what it was.
    let other = sqlx::query("DELETE FROM no_such_table")
        .execute(store.pool())
        .await
        .map_err(StoreError::from)
        .unwrap_err();
    assert!(matches!(other, StoreError::Database(_)), "{other:?}");
}
