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
