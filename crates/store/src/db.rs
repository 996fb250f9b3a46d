use crate::StoreError;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor, Row};
use std::str::FromStr;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../../migrations");

/// The audit trail is append-only in the database itself, not only by the store's manners.
/// Trigger syntax differs between the backends, so these run after the (portable) migrations;
/// both are idempotent.
const APPEND_ONLY_SQLITE: &str = "\
CREATE TRIGGER IF NOT EXISTS audit_events_no_update BEFORE UPDATE ON audit_events \
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END; \
CREATE TRIGGER IF NOT EXISTS audit_events_no_delete BEFORE DELETE ON audit_events \
BEGIN SELECT RAISE(ABORT, 'audit events are append-only'); END;";

const APPEND_ONLY_POSTGRES: &str = "\
CREATE OR REPLACE FUNCTION meridian_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS \
$$ BEGIN RAISE EXCEPTION 'audit events are append-only'; END $$; \
DROP TRIGGER IF EXISTS audit_events_append_only ON audit_events; \
CREATE TRIGGER audit_events_append_only BEFORE UPDATE OR DELETE ON audit_events \
FOR EACH ROW EXECUTE FUNCTION meridian_audit_append_only();";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database, whichever backend it is on. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
}

/// A write transaction. Dropping it without [`Tx::commit`] rolls everything back.
pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

impl Store {
    /// Connects and brings the schema up to date. A SQLite file is created if missing.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::invalid(
                "database",
                format!("expected a sqlite:// or postgres:// URL, found {url:?}"),
            ));
        };
        let url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the one writer; foreign keys are off by
                        // default in SQLite. Reads go through a memory map of the file (up to
                        // SQLite's 2 GiB limit) instead of a read() call per page, with a page
                        // cache of up to 64 MiB per connection (SQLite's default is 2 MB):
                        // together they halve the portfolio's large scans at 300,000 projects
                        // (BENCHMARKS.md, "Portfolio at scale"). Both only grow as pages are read.
                        // Temporary files stay in memory: a statement that writes many rows
                        // inside a larger transaction keeps the pages it changes in a
                        // statement journal, which a large import would otherwise write to a
                        // temporary file (350 MB of it for a 100 MB IATI file).
                        // A new database gets pages of 16 KiB, not 4 KiB: an IATI import
                        // writes about a quarter as many pages and splits fewer, and is 12 %
                        // faster (BENCHMARKS.md, IATI import, "Pages of 16 KiB and batches of
                        // 100"). The page size is set before anything is written; an
                        // existing database keeps its own.
                        conn.execute(
                            "PRAGMA page_size = 16384; \
                             PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                             PRAGMA mmap_size = 2147418112; PRAGMA cache_size = -65536; \
                             PRAGMA temp_store = MEMORY;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        MIGRATOR.run(&pool).await?;
        sqlx::raw_sql(match backend {
            Backend::Sqlite => APPEND_ONLY_SQLITE,
            Backend::Postgres => APPEND_ONLY_POSTGRES,
        })
        .execute(&pool)
        .await?;
        crate::projects::summary::install(&pool, backend).await?;
        let store = Self { pool, backend };
        crate::projects::portfolio_keys::cluster(&store).await?;
        crate::projects::portfolio_keys::backfill(&store).await?;
        crate::iati::backfill_elements(&store).await?;
        Ok(store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Starts a write transaction. On SQLite it takes the write lock at once (`IMMEDIATE`), so
    /// two writers queue instead of failing half-way with "database is locked".
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Now, as stored: UTC RFC 3339 with microseconds, so text order is time order.
pub fn now_text() -> String {
    format_time(OffsetDateTime::now_utc())
}

pub(crate) fn format_time(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    let micros = t.microsecond();
    let t = t
        .replace_nanosecond(micros * 1000)
        .expect("microseconds are valid nanoseconds");
    let mut s = t.format(&Rfc3339).expect("UTC times format as RFC 3339");
    // RFC 3339 output drops trailing zero fractions; pad to a fixed width for text ordering.
    if let Some(dot) = s.find('.') {
        let end = s.len() - 1; // the trailing 'Z'
        let digits = end - dot - 1;
        s.insert_str(end, &"0".repeat(6 - digits));
    } else {
        s.insert_str(s.len() - 1, ".000000");
    }
    s
}

pub(crate) fn parse_time(s: &str) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|e| StoreError::Corrupt(format!("time {s:?}: {e}")))
}

impl Store {
    /// Starts a one-off data migration run in Rust (`store_backfills`): `None` when it was
    /// done before. A done one costs a read, not a write transaction, at every start. The
    /// claim is written in the returned transaction, so it counts only once the migration
    /// commits; a process doing it at the same moment is waited for, then `None`.
    pub(crate) async fn begin_backfill(&self, name: &str) -> Result<Option<Tx>, StoreError> {
        let done: i64 = sqlx::query("SELECT COUNT(*) AS n FROM store_backfills WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await?
            .try_get("n")?;
        if done > 0 {
            return Ok(None);
        }
        let mut tx = self.begin().await?;
        let claimed = sqlx::query(
            "INSERT INTO store_backfills (name, done_at) VALUES ($1, $2) \
             ON CONFLICT (name) DO NOTHING",
        )
        .bind(name)
        .bind(now_text())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        Ok((claimed == 1).then_some(tx))
    }
}

pub(crate) fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

pub(crate) fn flag(b: bool) -> i16 {
    i16::from(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_times_sort_as_text() {
        let a = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let b = a + time::Duration::microseconds(1);
        let c = a + time::Duration::milliseconds(120);
        let (ta, tb, tc) = (format_time(a), format_time(b), format_time(c));
        assert_eq!(ta, "2023-11-14T22:13:20.000000Z");
        assert_eq!(tb, "2023-11-14T22:13:20.000001Z");
        assert_eq!(tc, "2023-11-14T22:13:20.120000Z");
        assert!(ta < tb && tb < tc);
        assert_eq!(parse_time(&tc).unwrap(), c);
    }

    /// SQLite is built without its memory statistics (`LIBSQLITE3_FLAGS` in
    /// `.cargo/config.toml`): they take a global mutex on every allocation.
    #[tokio::test]
    async fn sqlite_is_built_without_memory_statistics() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("flags.db").display());
        let store = Store::connect(&url).await.unwrap();
        let options: Vec<String> =
            sqlx::query("SELECT compile_options FROM pragma_compile_options")
                .fetch_all(store.pool())
                .await
                .unwrap()
                .iter()
                .map(|r| r.try_get("compile_options").unwrap())
                .collect();
        assert!(
            options.iter().any(|o| o == "DEFAULT_MEMSTATUS=0"),
            "{options:?}"
        );
    }

    async fn page_size(store: &Store) -> i64 {
        sqlx::query("SELECT page_size FROM pragma_page_size()")
            .fetch_one(store.pool())
            .await
            .unwrap()
            .try_get("page_size")
            .unwrap()
    }

    /// A new SQLite database has pages of 16 KiB; one made with SQLite's 4 KiB keeps them and
    /// works as before (the page size of a database in WAL mode cannot change).
    #[tokio::test]
    async fn new_sqlite_databases_have_16_kib_pages_and_old_ones_keep_theirs() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("new.db").display());
        let store = Store::connect(&url).await.unwrap();
        assert_eq!(page_size(&store).await, 16_384);
        store.pool().close().await;
        // Opened again, it is the same.
        let store = Store::connect(&url).await.unwrap();
        assert_eq!(page_size(&store).await, 16_384);

        let old = dir.path().join("old.db");
        {
            use sqlx::Connection as _;
            let mut conn =
                sqlx::AnyConnection::connect(&format!("sqlite://{}?mode=rwc", old.display()))
                    .await
                    .unwrap();
            conn.execute("PRAGMA page_size = 4096; PRAGMA journal_mode = WAL; CREATE TABLE before_meridian (a INTEGER)")
                .await
                .unwrap();
            conn.close().await.unwrap();
        }
        let store = Store::connect(&format!("sqlite://{}", old.display()))
            .await
            .unwrap();
        assert_eq!(page_size(&store).await, 4_096);
        // The migrations ran on it: the organization's tables are there.
        let tables: i64 = sqlx::query(
            "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'projects'",
        )
        .fetch_one(store.pool())
        .await
        .unwrap()
        .try_get("n")
        .unwrap();
        assert_eq!(tables, 1);
    }
}
