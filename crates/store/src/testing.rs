//! Fresh databases for tests: a SQLite file in a temporary folder by default, or a new
//! PostgreSQL database on the server named by `MERIDIAN_TEST_POSTGRES_URL`.

use std::sync::Once;

pub const POSTGRES_ENV: &str = "MERIDIAN_TEST_POSTGRES_URL";

/// A database that exists for one test. PostgreSQL databases are dropped when it is dropped.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

static ANNOUNCE: Once = Once::new();

impl TestDb {
    pub async fn new() -> Self {
        match std::env::var(POSTGRES_ENV) {
            Ok(admin_url) if !admin_url.is_empty() => {
                ANNOUNCE.call_once(|| {
                    eprintln!("store tests run on PostgreSQL ({POSTGRES_ENV} is set)")
                });
                Self::postgres(admin_url).await
            }
            _ => {
                ANNOUNCE.call_once(|| {
                    eprintln!(
                        "NOTE: {POSTGRES_ENV} is not set: the tests run on SQLite only. \
                         Set it (e.g. postgres://postgres@localhost/postgres) to run them on PostgreSQL."
                    )
                });
                let dir = tempfile::tempdir().expect("a temporary folder");
                let url = format!("sqlite://{}", dir.path().join("meridian.db").display());
                Self {
                    url,
                    _dir: Some(dir),
                    postgres: None,
                }
            }
        }
    }

    async fn postgres(admin_url: String) -> Self {
        use sqlx::Connection;
        sqlx::any::install_default_drivers();
        let name = format!("meridian_test_{}", uuid::Uuid::now_v7().simple());
        let mut conn = sqlx::AnyConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|e| panic!("cannot reach {POSTGRES_ENV}={admin_url}: {e}"));
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("CREATE DATABASE for a test");
        conn.close().await.ok();
        let url = replace_database(&admin_url, &name);
        Self {
            url,
            _dir: None,
            postgres: Some((admin_url, name)),
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.postgres.is_some()
    }
}

/// The names of the IATI elements an import keeps whole, and the JSON object of one stored
/// `iati_activities.elements` document (for tests of its backfill).
pub const IATI_ELEMENT_NAMES: [&str; 13] = crate::iati::ELEMENT_NAMES;

pub fn iati_elements_json(packed: &[u8]) -> serde_json::Map<String, serde_json::Value> {
    let json = crate::iati::inflate(packed, "a test").expect("a packed document");
    serde_json::from_slice(&json).expect("a JSON object")
}

/// The same server URL with another database name.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    match query {
        Some(q) => format!("{base}/{name}?{q}"),
        None => format!("{base}/{name}"),
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs outside async; a short-lived runtime on its own thread does the clean-up.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime for clean-up");
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::AnyConnection::connect(&admin_url).await {
                    let _ = sqlx::query(sqlx::AssertSqlSafe(format!(
                        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
                    )))
                    .execute(&mut conn)
                    .await;
                }
            });
        })
        .join();
    }
}

/// The command-line operator, as the tests' actor for set-up (loading the organization, …).
pub fn operator() -> meridian_domain::authz::Actor {
    meridian_domain::authz::Actor::Operator {
        label: "test".into(),
    }
}

/// A new account with one role in `unit`, as an actor.
pub async fn person(
    store: &crate::Store,
    org: &meridian_domain::org::Organization,
    email: &str,
    unit: &str,
    role: meridian_domain::authz::Role,
) -> meridian_domain::authz::Actor {
    store
        .create_user(
            org,
            &operator(),
            crate::users::NewUser {
                email: email.into(),
                name: String::new(),
                unit: meridian_domain::org::UnitCode::parse(unit).expect("a unit code"),
                roles: vec![role],
                password: Some("correct horse battery staple".into()),
            },
        )
        .await
        .expect("the account is created")
        .user
        .actor()
}

/// How the portfolio summary (`portfolio_summary`, kept by triggers) and each project's
/// expenditure (`projects.spent_usd_e4`) differ from what the projects, their donors and their
/// transactions say; empty when they agree. Rows holding no project are ignored.
pub async fn portfolio_summary_drift(store: &crate::Store) -> Vec<String> {
    use sqlx::Row;
    let dims = "unit_code, region_code, status, restricted";
    let expected = summary_rows(
        store,
        format!(
            "SELECT 'all' AS kind, '' AS value, {dims}, COUNT(*) AS n, \
               CAST(SUM(budget_usd_e4) AS BIGINT) AS usd, \
               CAST(COALESCE(SUM((SELECT SUM(t.amount_usd_e4) FROM project_transactions t \
                 WHERE t.project_id = projects.id AND t.kind = 'expenditure')), 0) AS BIGINT) AS spent \
             FROM projects GROUP BY {dims} \
             UNION ALL SELECT 'country', primary_country, {dims}, COUNT(*), \
               CAST(SUM(budget_usd_e4) AS BIGINT), 0 FROM projects GROUP BY primary_country, {dims} \
             UNION ALL SELECT 'theme', thematic_area, {dims}, COUNT(*), \
               CAST(SUM(budget_usd_e4) AS BIGINT), 0 FROM projects GROUP BY thematic_area, {dims} \
             UNION ALL SELECT 'year', CAST(start_year AS TEXT), {dims}, COUNT(*), \
               CAST(SUM(budget_usd_e4) AS BIGINT), 0 FROM projects GROUP BY start_year, {dims} \
             UNION ALL SELECT 'donor', d.donor, p.unit_code, p.region_code, p.status, p.restricted, \
               COUNT(*), CAST(SUM(p.budget_usd_e4) AS BIGINT), 0 \
             FROM project_donors d JOIN projects p ON p.id = d.project_id \
             GROUP BY d.donor, p.unit_code, p.region_code, p.status, p.restricted"
        ),
    )
    .await;
    // The region rows ('*') sum their units' rows.
    let mut regions = std::collections::BTreeMap::<SummaryKey, (i64, i64, i64)>::new();
    for ((kind, value, _, region, status, restricted), (n, usd, spent)) in &expected {
        let e = regions
            .entry((
                kind.clone(),
                value.clone(),
                "*".to_owned(),
                region.clone(),
                status.clone(),
                *restricted,
            ))
            .or_default();
        e.0 += n;
        e.1 += usd;
        e.2 += spent;
    }
    let mut expected = expected;
    expected.extend(regions);
    let actual = summary_rows(
        store,
        "SELECT kind, value, unit_code, region_code, status, restricted, projects AS n, \
         budget_usd_e4 AS usd, spent_usd_e4 AS spent FROM portfolio_summary"
            .to_owned(),
    )
    .await;
    let mut drift = Vec::new();
    for (k, e) in &expected {
        match actual.get(k) {
            Some(a) if a == e => {}
            Some(a) => drift.push(format!("{k:?}: expected {e:?}, found {a:?}")),
            None => drift.push(format!("{k:?}: expected {e:?}, missing")),
        }
    }
    for (k, a) in &actual {
        if !expected.contains_key(k) {
            drift.push(format!("{k:?}: unexpected {a:?}"));
        }
    }
    for r in sqlx::query(
        "SELECT code, spent_usd_e4, CAST((SELECT COALESCE(SUM(t.amount_usd_e4), 0) \
         FROM project_transactions t WHERE t.project_id = projects.id \
         AND t.kind = 'expenditure') AS BIGINT) AS spent FROM projects",
    )
    .fetch_all(store.pool())
    .await
    .expect("the expenditure query runs")
    {
        let kept: i64 = r.get("spent_usd_e4");
        let summed: i64 = r.get("spent");
        if kept != summed {
            drift.push(format!(
                "project {}: spent_usd_e4 {kept}, its expenditure transactions sum to {summed}",
                r.get::<String, _>("code")
            ));
        }
    }
    drift
}

/// A summary row's key (kind, value, unit, region, status, restricted).
type SummaryKey = (String, String, String, String, String, i64);

/// Summary rows (projects, budget, expenditure) by key, without the rows that hold nothing.
async fn summary_rows(
    store: &crate::Store,
    sql: String,
) -> std::collections::BTreeMap<SummaryKey, (i64, i64, i64)> {
    use sqlx::Row;
    let mut rows = std::collections::BTreeMap::new();
    for r in sqlx::query(sqlx::AssertSqlSafe(sql))
        .fetch_all(store.pool())
        .await
        .expect("the summary query runs")
    {
        let figures: (i64, i64, i64) = (r.get("n"), r.get("usd"), r.get("spent"));
        if figures != (0, 0, 0) {
            rows.insert(
                (
                    r.get("kind"),
                    r.get("value"),
                    r.get("unit_code"),
                    r.get("region_code"),
                    r.get("status"),
                    r.get("restricted"),
                ),
                figures,
            );
        }
    }
    rows
}

/// Counting the SQL statements a piece of code runs, for tests that bound them (the project
/// page, a programme's membership change). Counted from sqlx's `sqlx::query` events, whichever
/// thread runs them (SQLite's worker thread included), by a global subscriber: a test binary
/// that counts holds one test, so that nothing else runs statements meanwhile.
pub mod statements {
    use std::sync::atomic::{AtomicU64, Ordering};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Metadata};

    static STATEMENTS: AtomicU64 = AtomicU64::new(0);

    /// Installs the counting subscriber, once per test binary.
    pub fn install() {
        tracing::subscriber::set_global_default(StatementCounter)
            .expect("no other global subscriber in a counting test");
    }

    /// Starts counting from zero.
    pub fn reset() {
        STATEMENTS.store(0, Ordering::SeqCst);
    }

    /// The statements run since [`reset`].
    pub fn count() -> u64 {
        STATEMENTS.load(Ordering::SeqCst)
    }

    struct StatementCounter;

    impl tracing::Subscriber for StatementCounter {
        fn enabled(&self, metadata: &Metadata<'_>) -> bool {
            metadata.target() == "sqlx::query"
        }
        fn new_span(&self, _: &Attributes<'_>) -> Id {
            Id::from_u64(1)
        }
        fn record(&self, _: &Id, _: &Record<'_>) {}
        fn record_follows_from(&self, _: &Id, _: &Id) {}
        fn event(&self, event: &Event<'_>) {
            if event.metadata().target() == "sqlx::query" {
                // A connection the pool opens meanwhile runs its settings (`PRAGMA …`): those
                // are the pool's, not the code's under count.
                let mut text = Statement(String::new());
                event.record(&mut text);
                if !text.0.trim_start().starts_with("PRAGMA") {
                    STATEMENTS.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
        fn enter(&self, _: &Id) {}
        fn exit(&self, _: &Id) {}
    }

    /// The statement's text, from sqlx's `summary` or `db.statement` field.
    struct Statement(String);

    impl tracing::field::Visit for Statement {
        fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
            if self.0.is_empty() && matches!(field.name(), "summary" | "db.statement") {
                self.0 = value.to_owned();
            }
        }
        fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
            if self.0.is_empty() && matches!(field.name(), "summary" | "db.statement") {
                self.0 = format!("{value:?}").trim_matches('"').to_owned();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_database_name_is_replaced_keeping_options() {
        assert_eq!(
            super::replace_database(
                "postgres://u:p@localhost:5432/postgres?sslmode=disable",
                "t1"
            ),
            "postgres://u:p@localhost:5432/t1?sslmode=disable"
        );
        assert_eq!(
            super::replace_database("postgres://localhost", "t1"),
            "postgres://localhost/t1"
        );
    }
}
