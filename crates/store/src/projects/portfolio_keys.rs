//! The portfolio's keyed index (`project_keys`, `project_words`; migration
//! `portfolio_search`): what makes the donor filter and text search an index range at scale.
//!
//! Each project has one row per **term** — `d:` and a donor, `w:` and a word of its title, `c:`
//! and its code — carrying the project's scope, sort and total columns (region, office, status,
//! start year, restricted, US-dollar budget, last update). The portfolio reads a donor's or a
//! word's projects, in the default order and with their totals, from one index without
//! visiting the projects: on PostgreSQL the covering index `project_keys_list`, on SQLite the
//! table itself, keyed in that order ([`cluster`]).
//!
//! The store keeps it: [`sync_project_keys`] rewrites a project's rows in the same transaction
//! as every write that changes what they hold (create, edit, status change, revision approval),
//! [`insert_keys`] writes them for the demo loader's batches, and [`backfill`] fills them once
//! for a database that had projects before the migration. `crates/store/tests/portfolio_search.rs`
//! checks them against the projects after every kind of write.
//!
//! Words are split by the store ([`search_words`]), not by the database, so that both backends
//! match exactly the same projects.

use crate::{Backend, StoreError, Tx};
use sqlx::Row;

/// What a project's terms are made of. The other columns of its keyed rows (scope, status,
/// start year, budget, last update) are read from its row by [`insert_keys`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedProject {
    pub id: String,
    pub code: String,
    pub title: String,
    pub donors: Vec<String>,
}

/// The words of a text as the portfolio indexes and searches them: lower-cased (Unicode), split
/// on every character that is neither a letter nor a digit, each word once, in order.
pub fn search_words(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    let mut words: Vec<String> = Vec::new();
    for w in lower.split(|c: char| !c.is_alphanumeric()) {
        if !w.is_empty() && !words.iter().any(|x| x == w) {
            words.push(w.to_owned());
        }
    }
    words
}

pub(crate) fn donor_term(donor: &str) -> String {
    format!("d:{donor}")
}

pub(crate) fn word_term(word: &str) -> String {
    format!("w:{word}")
}

pub(crate) fn code_term(code: &str) -> String {
    format!("c:{code}")
}

impl KeyedProject {
    /// The project's terms: its donors, its title's words and its code, each once.
    pub fn terms(&self) -> Vec<String> {
        let mut terms: Vec<String> = Vec::new();
        for d in &self.donors {
            let t = donor_term(d);
            if !terms.contains(&t) {
                terms.push(t);
            }
        }
        terms.extend(search_words(&self.title).iter().map(|w| word_term(w)));
        terms.push(code_term(&self.code));
        terms
    }
}

const ROWS_PER_STATEMENT: usize = 1_000;

/// `n` rows of `width` placeholders: `?` on SQLite (binding numbered placeholders there costs a
/// linear lookup each), `$N` on PostgreSQL.
fn placeholders(backend: Backend, n: usize, width: usize) -> String {
    let mut sql = String::new();
    let mut p = 0;
    for r in 0..n {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..width {
            if c > 0 {
                sql.push_str(", ");
            }
            p += 1;
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&p.to_string());
                }
            }
        }
        sql.push(')');
    }
    sql
}

/// Writes the keyed rows of projects that have none (new ones, or after
/// [`sync_project_keys`] deleted them), and adds their title words to `project_words`.
pub(crate) async fn insert_keys(
    tx: &mut Tx,
    backend: Backend,
    projects: &[KeyedProject],
) -> Result<usize, StoreError> {
    let mut words: Vec<String> = projects
        .iter()
        .flat_map(|p| search_words(&p.title))
        .collect();
    words.sort();
    words.dedup();
    for chunk in words.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO project_words (word) VALUES {} ON CONFLICT (word) DO NOTHING",
            placeholders(backend, chunk.len(), 1)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for w in chunk {
            q = q.bind(w.clone());
        }
        q.execute(&mut **tx).await?;
    }
    // The rows carry the project's columns beside each term: they are read from the project's
    // row (written before this, in the same transaction), so only the terms are sent, as one
    // JSON document per statement, `[[project id, [term, …]], …]`. Binding the nine values of
    // each of an import's ~120,000 rows was almost half of all its bound values.
    let mut total = 0;
    for chunk in projects.chunks(PROJECTS_PER_STATEMENT) {
        let terms: Vec<(&str, Vec<String>)> =
            chunk.iter().map(|p| (p.id.as_str(), p.terms())).collect();
        total += terms.iter().map(|(_, t)| t.len()).sum::<usize>();
        let json = serde_json::to_string(&terms)
            .map_err(|e| StoreError::Corrupt(format!("the keyed rows as JSON: {e}")))?;
        sqlx::query(match backend {
            Backend::Sqlite => INSERT_KEYS_SQLITE,
            Backend::Postgres => INSERT_KEYS_POSTGRES,
        })
        .bind(json)
        .execute(&mut **tx)
        .await?;
    }
    Ok(total)
}

const PROJECTS_PER_STATEMENT: usize = 1_000;

const INSERT_KEYS_SQLITE: &str = "INSERT INTO project_keys (term, project_id, region_code, \
     unit_code, status, start_year, restricted, budget_usd_e4, updated_at) \
     SELECT t.value, p.id, p.region_code, p.unit_code, p.status, p.start_year, p.restricted, \
     p.budget_usd_e4, p.updated_at \
     FROM json_each($1) AS j JOIN projects p ON p.id = j.value ->> 0, \
     json_each(j.value, '$[1]') AS t";

const INSERT_KEYS_POSTGRES: &str = "INSERT INTO project_keys (term, project_id, region_code, \
     unit_code, status, start_year, restricted, budget_usd_e4, updated_at) \
     SELECT t.term, p.id, p.region_code, p.unit_code, p.status, p.start_year, p.restricted, \
     p.budget_usd_e4, p.updated_at \
     FROM jsonb_array_elements($1::jsonb) AS j(v) JOIN projects p ON p.id = j.v ->> 0 \
     CROSS JOIN LATERAL jsonb_array_elements_text(j.v -> 1) AS t(term)";

const KEYED_COLUMNS: &str = "id, code, title, donors";

fn keyed_from_row(r: &sqlx::any::AnyRow) -> Result<KeyedProject, StoreError> {
    let donors: String = r.try_get("donors")?;
    Ok(KeyedProject {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        title: r.try_get("title")?,
        donors: serde_json::from_str(&donors)
            .map_err(|e| StoreError::Corrupt(format!("donors: {e}")))?,
    })
}

/// Rewrites a project's keyed rows from the project as the transaction sees it. Every write
/// that changes a project's title, donors, code, scope, status, budget or `updated_at` calls it
/// before committing.
pub(crate) async fn sync_project_keys(
    tx: &mut Tx,
    backend: Backend,
    id: &str,
) -> Result<(), StoreError> {
    let sql = format!("SELECT {KEYED_COLUMNS} FROM projects WHERE id = $1");
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    let p = keyed_from_row(&row)?;
    sqlx::query("DELETE FROM project_keys WHERE project_id = $1")
        .bind(id)
        .execute(&mut **tx)
        .await?;
    insert_keys(tx, backend, std::slice::from_ref(&p)).await?;
    Ok(())
}

/// On SQLite, `project_keys` is one B-tree: a `WITHOUT ROWID` table whose key is the list's
/// order (term, last update, project), holding the other columns beside it, instead of the
/// migration's table plus `project_keys_list`, a covering index of the same rows. An import
/// then writes each row into two B-trees (the table and `project_keys_project`) instead of
/// three, and the database is smaller (BENCHMARKS.md, "Import: the keyed index as one
/// B-tree"). The migrations are the same SQL for both backends, and PostgreSQL has no such
/// table, so this is done here: at the first start of a database whose `project_keys` is
/// still the migration's, its rows are copied into the keyed table in one transaction.
pub(crate) async fn cluster(store: &crate::Store) -> Result<(), StoreError> {
    if store.backend() != Backend::Sqlite || clustered(store.pool()).await? {
        return Ok(());
    }
    let mut tx = store.begin().await?;
    // Another process may have done it since the read above.
    if clustered(&mut *tx).await? {
        return Ok(());
    }
    sqlx::raw_sql(CLUSTER_SQLITE).execute(&mut *tx).await?;
    let rows: i64 = sqlx::query("SELECT COUNT(*) AS n FROM project_keys")
        .fetch_one(&mut *tx)
        .await?
        .try_get("n")?;
    tx.commit().await?;
    if rows > 0 {
        tracing::info!(
            rows,
            "made the portfolio's keyed index one B-tree (project_keys)"
        );
    }
    Ok(())
}

/// Whether SQLite's `project_keys` is already the keyed table.
async fn clustered<'e, E>(executor: E) -> Result<bool, StoreError>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
    let sql: String =
        sqlx::query("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'project_keys'")
            .fetch_one(executor)
            .await?
            .try_get("sql")?;
    Ok(sql.contains("WITHOUT ROWID"))
}

const CLUSTER_SQLITE: &str = "
CREATE TABLE project_keys_clustered (
    term TEXT NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    region_code TEXT NOT NULL,
    unit_code TEXT NOT NULL,
    status TEXT NOT NULL,
    start_year BIGINT NOT NULL,
    restricted SMALLINT NOT NULL CHECK (restricted IN (0, 1)),
    budget_usd_e4 BIGINT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (term, updated_at, project_id)
) WITHOUT ROWID;
INSERT INTO project_keys_clustered
    (term, project_id, region_code, unit_code, status, start_year, restricted, budget_usd_e4,
     updated_at)
SELECT term, project_id, region_code, unit_code, status, start_year, restricted, budget_usd_e4,
       updated_at
FROM project_keys ORDER BY term, updated_at, project_id;
DROP TABLE project_keys;
ALTER TABLE project_keys_clustered RENAME TO project_keys;
CREATE INDEX project_keys_project ON project_keys (project_id);
ANALYZE project_keys;
";

/// Fills `project_keys` for every project, once per database (recorded in `store_backfills`):
/// for a database that had projects before the migration. Run by `Store::connect` after the
/// migrations; a second process starting at the same time waits for the first and skips it.
pub(crate) async fn backfill(store: &crate::Store) -> Result<(), StoreError> {
    const NAME: &str = "project_keys";
    let Some(mut tx) = store.begin_backfill(NAME).await? else {
        return Ok(());
    };
    sqlx::query("DELETE FROM project_keys")
        .execute(&mut *tx)
        .await?;
    let mut after = String::new();
    let mut total = 0usize;
    loop {
        let sql =
            format!("SELECT {KEYED_COLUMNS} FROM projects WHERE id > $1 ORDER BY id LIMIT 5000");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(&after)
            .fetch_all(&mut *tx)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.try_get("id")?;
        let batch = rows
            .iter()
            .map(keyed_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        total += insert_keys(&mut tx, store.backend(), &batch).await?;
    }
    if total > 0 {
        tracing::info!(
            rows = total,
            "filled the portfolio's keyed index (project_keys)"
        );
        // The planners need to know the new index's shape (SQLite ignores an index it has no
        // statistics for when an older one looks as good).
        sqlx::query("ANALYZE project_keys")
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
