//! The portfolio's keyed index (`project_keys`, `project_words`; migration
//! `portfolio_search`): what makes the donor filter and text search an index range at scale.
//!
//! Each project has one row per **term** — `d:` and a donor, `w:` and a word of its title, `c:`
//! and its code — carrying the project's scope, sort and total columns (region, office, status,
//! start year, restricted, US-dollar budget, last update). The portfolio reads a donor's or a
//! word's projects, in the default order and with their totals, from one index
//! (`project_keys_list`) without visiting the projects.
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

/// What `project_keys` holds of a project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyedProject {
    pub id: String,
    pub code: String,
    pub title: String,
    pub donors: Vec<String>,
    pub region_code: String,
    pub unit_code: String,
    pub status: String,
    pub start_year: i64,
    pub restricted: i64,
    pub budget_usd_e4: i64,
    pub updated_at: String,
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

const KEY_COLUMNS: &str = "term, project_id, region_code, unit_code, status, start_year, \
     restricted, budget_usd_e4, updated_at";
const KEY_WIDTH: usize = 9;
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
    let rows: Vec<(String, &KeyedProject)> = projects
        .iter()
        .flat_map(|p| p.terms().into_iter().map(move |t| (t, p)))
        .collect();
    for chunk in rows.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO project_keys ({KEY_COLUMNS}) VALUES {}",
            placeholders(backend, chunk.len(), KEY_WIDTH)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (term, p) in chunk {
            q = q
                .bind(term.clone())
                .bind(p.id.clone())
                .bind(p.region_code.clone())
                .bind(p.unit_code.clone())
                .bind(p.status.clone())
                .bind(p.start_year)
                .bind(p.restricted)
                .bind(p.budget_usd_e4)
                .bind(p.updated_at.clone());
        }
        q.execute(&mut **tx).await?;
    }
    Ok(rows.len())
}

const KEYED_COLUMNS: &str = "id, code, title, donors, region_code, unit_code, status, \
     start_year, restricted, budget_usd_e4, updated_at";

fn keyed_from_row(r: &sqlx::any::AnyRow) -> Result<KeyedProject, StoreError> {
    let donors: String = r.try_get("donors")?;
    Ok(KeyedProject {
        id: r.try_get("id")?,
        code: r.try_get("code")?,
        title: r.try_get("title")?,
        donors: serde_json::from_str(&donors)
            .map_err(|e| StoreError::Corrupt(format!("donors: {e}")))?,
        region_code: r.try_get("region_code")?,
        unit_code: r.try_get("unit_code")?,
        status: r.try_get("status")?,
        start_year: r.try_get("start_year")?,
        restricted: r.try_get("restricted")?,
        budget_usd_e4: r.try_get("budget_usd_e4")?,
        updated_at: r.try_get("updated_at")?,
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
