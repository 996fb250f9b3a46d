//! The portfolio: projects in the reader's scope, filtered, sorted and paginated, with totals
//! and analytics. Each call runs a fixed number of queries, however many projects match.

use super::from_e4;
use crate::{Store, StoreError};
use meridian_domain::authz::{Action, Actor, Role};
use meridian_domain::org::{Organization, Scope};
use meridian_domain::projects::lifecycle::Status;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::Row;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    #[default]
    Updated,
    Code,
    Title,
    Budget,
    Start,
    Status,
}

impl SortKey {
    fn column(self) -> &'static str {
        match self {
            SortKey::Updated => "updated_at",
            SortKey::Code => "code",
            SortKey::Title => "title",
            SortKey::Budget => "budget_usd_e4",
            SortKey::Start => "start_date",
            SortKey::Status => "status",
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
pub struct PortfolioQuery {
    /// A regional office code.
    pub region: Option<String>,
    /// An ISO3 code: projects whose primary country it is.
    pub country: Option<String>,
    /// The owning office's code.
    pub unit: Option<String>,
    #[schema(value_type = Option<String>)]
    pub status: Option<Status>,
    pub theme: Option<String>,
    pub donor: Option<String>,
    /// The start year.
    pub year: Option<i64>,
    pub min_usd: Option<Decimal>,
    pub max_usd: Option<Decimal>,
    /// Words in the title, or the project code.
    pub q: Option<String>,
    #[serde(default)]
    pub sort: SortKey,
    #[serde(default)]
    pub descending: bool,
    /// From 1.
    pub page: Option<u32>,
    pub per_page: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PortfolioRow {
    pub id: String,
    pub code: String,
    pub title: String,
    pub unit: String,
    pub region: String,
    pub primary_country: String,
    pub thematic_area: String,
    #[schema(value_type = String)]
    pub status: Status,
    pub start_date: String,
    pub end_date: String,
    /// `None` for a restricted project the reader may not see the budget of.
    pub budget_usd: Option<Decimal>,
    pub restricted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Totals {
    pub projects: i64,
    /// The sum of the budgets the reader may see, in USD.
    pub budget_usd: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Page {
    pub rows: Vec<PortfolioRow>,
    pub page: u32,
    pub per_page: u32,
    pub totals: Totals,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Group {
    pub key: String,
    pub projects: i64,
    pub budget_usd: Decimal,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct PortfolioTotals {
    pub by_region: Vec<Group>,
    pub by_country: Vec<Group>,
    pub by_status: Vec<Group>,
    pub by_theme: Vec<Group>,
    pub by_donor: Vec<Group>,
    pub by_year: Vec<Group>,
    /// Projects per lifecycle stage, in lifecycle order (every stage listed).
    pub pipeline: Vec<Group>,
    pub budget_usd: Decimal,
    pub expenditure_usd: Decimal,
    /// Expenditure over budget, in percent, for the projects that match.
    pub burn_rate_percent: Option<Decimal>,
}

pub const MAX_PER_PAGE: u32 = 200;

/// What a portfolio query reads and its WHERE clause, with their bound values.
///
/// A query that filters by donor or searches text reads the keyed index (`project_keys`, see
/// `portfolio_keys.rs`) when every other filter and the sort key are columns it holds: the
/// donor's (or the word's) rows, in the default order, with what the totals sum. Other queries
/// read `projects`, with the donor and the words as `id IN (…)` on the keyed index.
#[derive(Clone)]
struct Filter {
    /// ` FROM projects` or ` FROM project_keys k`.
    from: &'static str,
    /// The project's id in `from`.
    id: &'static str,
    /// Whether a project may appear on several rows of `from` (a text search driven by several
    /// title words): the page and the totals then group by project.
    dedupe: bool,
    sql: String,
    binds: Vec<Bind>,
    /// Whether the reader may see restricted budgets (in their scope).
    sees_restricted: bool,
}

#[derive(Clone)]
enum Bind {
    Text(String),
    Int(i64),
}

/// A row's value of the sort key, where a keyset page starts.
enum SortValue {
    Text(String),
    Int(i64),
}

/// A query word's matches in the index: the title words that contain it, listed, or (when there
/// are very many) as a pattern over `project_words`.
enum Terms {
    Listed(Vec<String>),
    Like(String),
}

/// Beyond this many title words matching one query word, the words are selected in SQL instead
/// of being bound one by one.
const MAX_LISTED_WORDS: usize = 200;

/// What a text search matches, looked up before the portfolio's queries: for each word of the
/// query, the title words that contain it; and the project whose code is the query, if any.
/// A project matches when each query word is found in a word of its title (case-insensitively,
/// as part of a word: "health" finds "healthcare"), or when its code is the query.
struct TextMatch {
    words: Vec<Terms>,
    /// The id and code of the project whose code is the query.
    code: Option<(String, String)>,
}

impl TextMatch {
    /// Whether some title can match (every query word is found in some indexed word).
    fn titles_possible(&self) -> bool {
        !self.words.is_empty()
            && self.words.iter().all(|t| match t {
                Terms::Listed(w) => !w.is_empty(),
                Terms::Like(_) => true,
            })
    }
}

impl Filter {
    fn push(&mut self, clause: &str, value: Bind) {
        self.binds.push(value);
        self.sql
            .push_str(&clause.replace('?', &format!("${}", self.binds.len())));
    }

    /// Binds `value` and returns its placeholder, for clauses built piece by piece.
    fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    /// `column IN (…)` for a set of terms.
    fn terms_in(&mut self, column: &str, terms: &Terms) -> String {
        match terms {
            Terms::Listed(words) => {
                let list = words
                    .iter()
                    .map(|w| self.bind(Bind::Text(super::portfolio_keys::word_term(w))))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("{column} IN ({list})")
            }
            Terms::Like(pattern) => {
                let p = self.bind(Bind::Text(pattern.clone()));
                format!("{column} IN (SELECT 'w:' || word FROM project_words WHERE word LIKE {p})")
            }
        }
    }

    /// `id IN (the projects with one of these terms)`.
    fn has_terms(&mut self, terms: &Terms) -> String {
        let inner = self.terms_in("s.term", terms);
        format!(
            "{} IN (SELECT s.project_id FROM project_keys s WHERE {inner})",
            self.id
        )
    }

    fn apply<'q>(
        &self,
        mut q: sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments>,
    ) -> sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments> {
        for b in &self.binds {
            q = match b {
                Bind::Text(s) => q.bind(s.clone()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        q
    }

    /// ` FROM …` with the WHERE clause.
    fn from(&self) -> String {
        format!("{}{}", self.from, self.sql)
    }

    /// The budget column as the reader may sum it.
    fn visible_budget(&self) -> &'static str {
        if self.sees_restricted {
            "budget_usd_e4"
        } else {
            "CASE WHEN restricted = 1 THEN 0 ELSE budget_usd_e4 END"
        }
    }
}

fn trimmed(s: &Option<String>) -> Option<String> {
    s.as_ref()
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
}

/// Whether the keyed index holds every column `q` filters and sorts by (besides the donor and
/// the text it is keyed by).
fn keyed_index_serves(q: &PortfolioQuery) -> bool {
    matches!(q.sort, SortKey::Updated | SortKey::Budget | SortKey::Status)
        && trimmed(&q.country).is_none()
        && trimmed(&q.theme).is_none()
}

fn filter(
    org: &Organization,
    actor: &Actor,
    q: &PortfolioQuery,
    text: Option<&TextMatch>,
    keyed: bool,
) -> Result<Filter, StoreError> {
    let donor = trimmed(&q.donor);
    let keyed = keyed && (donor.is_some() || text.is_some());
    let mut f = Filter {
        from: if keyed {
            " FROM project_keys k"
        } else {
            " FROM projects"
        },
        id: if keyed { "k.project_id" } else { "projects.id" },
        dedupe: false,
        sql: String::from(" WHERE 1 = 1"),
        binds: Vec::new(),
        sees_restricted: Role::ALL
            .iter()
            .any(|r| r.grants(Action::ViewRestrictedProjectFields) && actor.has_role(*r)),
    };

    // The donor and the text. On the keyed index one set of terms drives the read: the
    // donor's, else the query word with the fewest matching title words (and the code).
    let mut driven = false;
    if let Some(d) = &donor {
        let term = super::portfolio_keys::donor_term(d);
        if keyed {
            f.push(" AND k.term = ?", Bind::Text(term));
            driven = true;
        } else {
            f.push(
                " AND projects.id IN (SELECT s.project_id FROM project_keys s WHERE s.term = ?)",
                Bind::Text(term),
            );
        }
    }
    if let Some(t) = text {
        let code_id = t.code.as_ref().map(|(id, _)| id.clone());
        if !t.titles_possible() {
            // Only the code can match.
            match (&t.code, keyed && !driven) {
                (None, _) => f.sql.push_str(" AND 1 = 0"),
                (Some((_, code)), true) => {
                    f.push(
                        " AND k.term = ?",
                        Bind::Text(super::portfolio_keys::code_term(code)),
                    );
                }
                (Some((id, _)), false) => {
                    let clause = format!(" AND {} = ?", f.id);
                    f.push(&clause, Bind::Text(id.clone()));
                }
            }
        } else {
            let mut rest: Vec<&Terms> = t.words.iter().collect();
            if keyed && !driven {
                let size = |t: &Terms| match t {
                    Terms::Listed(w) => w.len(),
                    Terms::Like(_) => usize::MAX,
                };
                let (j, _) = rest
                    .iter()
                    .enumerate()
                    .min_by_key(|(_, t)| size(t))
                    .expect("titles_possible: at least one word");
                let lead = rest.remove(j);
                let mut clause = format!(" AND ({}", f.terms_in("k.term", lead));
                if let Some((_, code)) = &t.code {
                    let p = f.bind(Bind::Text(super::portfolio_keys::code_term(code)));
                    clause.push_str(&format!(" OR k.term = {p}"));
                }
                clause.push(')');
                f.sql.push_str(&clause);
                f.dedupe = t.code.is_some()
                    || match lead {
                        Terms::Listed(w) => w.len() > 1,
                        Terms::Like(_) => true,
                    };
            }
            if !rest.is_empty() {
                let words = rest
                    .into_iter()
                    .map(|terms| f.has_terms(terms))
                    .collect::<Vec<_>>()
                    .join(" AND ");
                let clause = match code_id {
                    Some(id) => {
                        let p = f.bind(Bind::Text(id));
                        format!(" AND ({} = {p} OR ({words}))", f.id)
                    }
                    None => format!(" AND {words}"),
                };
                f.sql.push_str(&clause);
            }
        }
    }

    match actor.scope(org) {
        Scope::Global => {}
        Scope::Region(ro) => f.push(" AND region_code = ?", Bind::Text(ro.to_string())),
        Scope::Unit(unit) => {
            let units = org.units_in_scope(&Scope::Unit(unit));
            f.sql.push_str(" AND unit_code IN (");
            for (i, u) in units.iter().enumerate() {
                if i > 0 {
                    f.sql.push_str(", ");
                }
                f.push("?", Bind::Text(u.to_string()));
            }
            f.sql.push(')');
        }
    }
    if let Some(v) = trimmed(&q.region) {
        f.push(" AND region_code = ?", Bind::Text(v.to_uppercase()));
    }
    if let Some(v) = trimmed(&q.country) {
        f.push(" AND primary_country = ?", Bind::Text(v.to_uppercase()));
    }
    if let Some(v) = trimmed(&q.unit) {
        meridian_domain::org::UnitCode::parse(&v.to_uppercase())
            .map_err(|m| StoreError::invalid("unit", m))?;
        f.push(" AND unit_code = ?", Bind::Text(v.to_uppercase()));
    }
    if let Some(s) = q.status {
        f.push(" AND status = ?", Bind::Text(s.as_str().to_owned()));
    }
    if let Some(v) = trimmed(&q.theme) {
        f.push(" AND thematic_area = ?", Bind::Text(v));
    }
    if let Some(y) = q.year {
        f.push(" AND start_year = ?", Bind::Int(y));
    }
    if let Some(v) = q.min_usd {
        f.push(" AND budget_usd_e4 >= ?", Bind::Int(super::e4_rounded(v)?));
    }
    if let Some(v) = q.max_usd {
        f.push(" AND budget_usd_e4 <= ?", Bind::Int(super::e4_rounded(v)?));
    }
    if !f.sees_restricted {
        // Amount filters must not reveal restricted budgets.
        if q.min_usd.is_some() || q.max_usd.is_some() {
            f.sql.push_str(" AND restricted = 0");
        }
    }
    Ok(f)
}

impl Store {
    /// What a text search matches (see [`TextMatch`]): one query, on the vocabulary of title
    /// words and the project codes.
    async fn text_match(&self, q: &PortfolioQuery) -> Result<Option<TextMatch>, StoreError> {
        let Some(raw) = trimmed(&q.q) else {
            return Ok(None);
        };
        let words = super::search_words(&raw);
        let code = raw.to_uppercase();
        let mut sql = String::from("SELECT 'c' AS kind, id AS v FROM projects WHERE code = $1");
        for (i, _) in words.iter().enumerate() {
            sql.push_str(if i == 0 {
                " UNION ALL SELECT 'w' AS kind, word AS v FROM project_words WHERE "
            } else {
                " OR "
            });
            sql.push_str(&format!("word LIKE ${}", i + 2));
        }
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(code.clone());
        for w in &words {
            // Query words are letters and digits only: no LIKE wildcard to escape.
            query = query.bind(format!("%{w}%"));
        }
        let mut found = None;
        let mut vocabulary = Vec::new();
        for r in query.fetch_all(self.pool()).await? {
            let kind: String = r.try_get("kind")?;
            let v: String = r.try_get("v")?;
            if kind == "c" {
                found = Some((v, code.clone()));
            } else {
                vocabulary.push(v);
            }
        }
        let words = words
            .iter()
            .map(|w| {
                // SQLite's LIKE also ignores ASCII case; the words are stored lower-cased, so
                // `contains` decides, the same on both backends.
                let matching: Vec<String> = vocabulary
                    .iter()
                    .filter(|v| v.contains(w.as_str()))
                    .cloned()
                    .collect();
                if matching.len() > MAX_LISTED_WORDS {
                    Terms::Like(format!("%{w}%"))
                } else {
                    Terms::Listed(matching)
                }
            })
            .collect();
        Ok(Some(TextMatch { words, code: found }))
    }

    /// One page of the portfolio with the totals of everything that matches: two queries, and
    /// one more for a text search (its words in the vocabulary).
    ///
    /// At scale (300,000 projects) both run from indexes (see the migrations
    /// `portfolio_at_scale` and `portfolio_search`): the page's ids are found in an index that
    /// holds the sort key, the id and the filtered columns (so skipping to page 500 reads no
    /// table row), and only the page's rows are then read from the table; the totals are summed
    /// from an index holding the filtered columns and the budget. A donor filter or a text
    /// search reads the donor's or the words' range of the keyed index `project_keys`.
    pub async fn portfolio(
        &self,
        org: &Organization,
        actor: &Actor,
        q: &PortfolioQuery,
    ) -> Result<Page, StoreError> {
        let text = self.text_match(q).await?;
        let f = filter(org, actor, q, text.as_ref(), keyed_index_serves(q))?;
        let per_page = q.per_page.unwrap_or(50).clamp(1, MAX_PER_PAGE);
        let page = q.page.unwrap_or(1).max(1);
        let offset = u64::from(page - 1) * u64::from(per_page);
        let rows = self
            .page_rows(&f, q, per_page, offset, None)
            .await?
            .into_iter()
            .map(|(row, _)| row)
            .collect();
        let id = f.id;
        let totals_sql = if summary_answers(q) {
            // The count and sum of what matches, from the summary's few rows per unit and
            // status instead of every matching project.
            format!(
                "SELECT CAST(COALESCE(SUM(projects), 0) AS BIGINT) AS n, \
                 CAST(COALESCE(SUM({}), 0) AS BIGINT) AS usd FROM portfolio_summary{}{} \
                 AND kind = 'all'",
                f.visible_budget(),
                f.sql,
                summary_level(org, actor, q)
            )
        } else if f.dedupe {
            format!(
                "SELECT COUNT(*) AS n, CAST(COALESCE(SUM(b), 0) AS BIGINT) AS usd \
                 FROM (SELECT {id} AS id, MIN({}) AS b{} GROUP BY {id}) matches",
                f.visible_budget(),
                f.from()
            )
        } else {
            format!(
                "SELECT COUNT(*) AS n, CAST(COALESCE(SUM({}), 0) AS BIGINT) AS usd{}",
                f.visible_budget(),
                f.from()
            )
        };
        let t = f
            .apply(sqlx::query(sqlx::AssertSqlSafe(totals_sql)))
            .fetch_one(self.pool())
            .await?;
        Ok(Page {
            rows,
            page,
            per_page,
            totals: Totals {
                projects: t.try_get("n")?,
                budget_usd: from_e4(t.try_get("usd")?),
            },
        })
    }

    /// One page of rows in `q`'s order: `limit` rows from `offset`, or the `limit` rows after
    /// `after` (a sort value and an id: keyset pagination). Each row comes with its sort value.
    async fn page_rows(
        &self,
        f: &Filter,
        q: &PortfolioQuery,
        limit: u32,
        offset: u64,
        after: Option<&(SortValue, String)>,
    ) -> Result<Vec<(PortfolioRow, SortValue)>, StoreError> {
        let direction = if q.descending { "DESC" } else { "ASC" };
        let column = q.sort.column();
        let id = f.id;
        let mut f = f.clone();
        if let Some((value, last)) = after {
            let v = f.bind(match value {
                SortValue::Text(t) => Bind::Text(t.clone()),
                SortValue::Int(i) => Bind::Int(*i),
            });
            let l = f.bind(Bind::Text(last.clone()));
            let op = if q.descending { "<" } else { ">" };
            f.sql
                .push_str(&format!(" AND ({column}, {id}) {op} ({v}, {l})"));
        }
        let group = if f.dedupe {
            format!(" GROUP BY {id}, {column}")
        } else {
            String::new()
        };
        let sql = format!(
            "SELECT p.id, p.code, p.title, p.unit_code, p.region_code, p.primary_country, \
             p.thematic_area, p.status, p.start_date, p.end_date, p.budget_usd_e4, p.restricted, \
             p.{column} AS sort_value \
             FROM (SELECT {id} AS id{}{group} ORDER BY {column} {direction}, {id} {direction} \
             LIMIT {limit} OFFSET {offset}) page JOIN projects p ON p.id = page.id \
             ORDER BY p.{column} {direction}, p.id {direction}",
            f.from(),
        );
        let rows = f
            .apply(sqlx::query(sqlx::AssertSqlSafe(sql)))
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| {
                let status: String = r.try_get("status")?;
                let restricted = r.try_get::<i64, _>("restricted")? == 1;
                let sort_value = match q.sort {
                    SortKey::Budget => SortValue::Int(r.try_get("sort_value")?),
                    _ => SortValue::Text(r.try_get("sort_value")?),
                };
                let row = PortfolioRow {
                    id: r.try_get("id")?,
                    code: r.try_get("code")?,
                    title: r.try_get("title")?,
                    unit: r.try_get("unit_code")?,
                    region: r.try_get("region_code")?,
                    primary_country: r.try_get("primary_country")?,
                    thematic_area: r.try_get("thematic_area")?,
                    status: Status::parse(&status).map_err(StoreError::Corrupt)?,
                    start_date: r.try_get("start_date")?,
                    end_date: r.try_get("end_date")?,
                    budget_usd: (!restricted || f.sees_restricted)
                        .then(|| from_e4(r.try_get("budget_usd_e4").unwrap_or(0))),
                    restricted,
                };
                Ok((row, sort_value))
            })
            .collect()
    }

    /// Every matching row in `q`'s order, for exports: in pages of 1,000 read by keyset (each
    /// page starts after the last row of the previous one, so every page costs the same), with
    /// no totals. Returns how many rows were given to `each`.
    pub async fn portfolio_all(
        &self,
        org: &Organization,
        actor: &Actor,
        q: &PortfolioQuery,
        each: impl FnMut(&PortfolioRow),
    ) -> Result<i64, StoreError> {
        self.portfolio_all_in_pages(org, actor, q, 1_000, each)
            .await
    }

    /// [`Store::portfolio_all`] with another page size (for tests of the page boundaries).
    #[doc(hidden)]
    pub async fn portfolio_all_in_pages(
        &self,
        org: &Organization,
        actor: &Actor,
        q: &PortfolioQuery,
        page_size: u32,
        mut each: impl FnMut(&PortfolioRow),
    ) -> Result<i64, StoreError> {
        let page_size = page_size.max(1);
        let text = self.text_match(q).await?;
        let f = filter(org, actor, q, text.as_ref(), keyed_index_serves(q))?;
        let mut n = 0;
        let mut after: Option<(SortValue, String)> = None;
        loop {
            let rows = self.page_rows(&f, q, page_size, 0, after.as_ref()).await?;
            let full = rows.len() == page_size as usize;
            for (row, _) in &rows {
                each(row);
                n += 1;
            }
            match rows.into_iter().last() {
                Some((row, value)) if full => after = Some((value, row.id)),
                _ => break,
            }
        }
        Ok(n)
    }

    /// The portfolio's analytics: the projects that match `q` (its page and sort ignored),
    /// counted and summed in US dollars by region, country, status, theme, donor and start year,
    /// the pipeline, and the burn rate. Six or seven grouped queries, whatever the matches.
    ///
    /// A query that filters by nothing else than the reader's scope, a region, an office and a
    /// status is answered from the portfolio summary (`summary.rs`), a few rows per unit and
    /// status; any other filter reads the projects (both give the same figures: tested in
    /// `crates/store/tests/portfolio_summary.rs`).
    pub async fn portfolio_totals(
        &self,
        org: &Organization,
        actor: &Actor,
        q: &PortfolioQuery,
    ) -> Result<PortfolioTotals, StoreError> {
        if summary_answers(q) {
            self.portfolio_totals_from_summary(org, actor, q).await
        } else {
            self.portfolio_totals_from_projects(org, actor, q).await
        }
    }

    async fn portfolio_totals_from_summary(
        &self,
        org: &Organization,
        actor: &Actor,
        q: &PortfolioQuery,
    ) -> Result<PortfolioTotals, StoreError> {
        let f = filter(org, actor, q, None, false)?;
        let level = summary_level(org, actor, q);
        let budget = f.visible_budget();
        let spent = if f.sees_restricted {
            "spent_usd_e4"
        } else {
            "CASE WHEN restricted = 1 THEN 0 ELSE spent_usd_e4 END"
        };
        let group = |kind: &str, column: &str, extra: &str| {
            format!(
                "SELECT {column} AS k, CAST(SUM(projects) AS BIGINT) AS n, \
                 CAST(COALESCE(SUM({budget}), 0) AS BIGINT) AS usd{extra} \
                 FROM portfolio_summary{}{level} AND kind = '{kind}' \
                 GROUP BY {column} HAVING SUM(projects) > 0 ORDER BY usd DESC, k",
                f.sql
            )
        };
        let spent_column = format!(", CAST(COALESCE(SUM({spent}), 0) AS BIGINT) AS spent");
        let mut groups = Vec::new();
        let mut expenditure = 0i64;
        for (kind, column, extra) in [
            ("all", "region_code", ""),
            ("country", "value", ""),
            ("all", "status", spent_column.as_str()),
            ("theme", "value", ""),
            ("year", "value", ""),
            ("donor", "value", ""),
        ] {
            let rows = f
                .apply(sqlx::query(sqlx::AssertSqlSafe(group(kind, column, extra))))
                .fetch_all(self.pool())
                .await?;
            if !extra.is_empty() {
                for r in &rows {
                    expenditure += r.try_get::<i64, _>("spent")?;
                }
            }
            groups.push(read_groups(&rows)?);
        }
        let by_donor = groups.pop().expect("six groups");
        Ok(totals(groups, by_donor, from_e4(expenditure)))
    }

    /// The analytics read from the projects whatever the filters: what the summary must agree
    /// with (the tests compare them), and the path of the filters it does not hold.
    #[doc(hidden)]
    pub async fn portfolio_totals_from_projects(
        &self,
        org: &Organization,
        actor: &Actor,
        q: &PortfolioQuery,
    ) -> Result<PortfolioTotals, StoreError> {
        let text = self.text_match(q).await?;
        let f = filter(org, actor, q, text.as_ref(), false)?;
        let budget = f.visible_budget();
        let group = |column: &str| {
            format!(
                "SELECT {column} AS k, COUNT(*) AS n, CAST(COALESCE(SUM({budget}), 0) AS BIGINT) AS usd \
                 {} GROUP BY {column} ORDER BY usd DESC, k",
                f.from()
            )
        };
        let mut groups = Vec::new();
        for column in [
            "region_code",
            "primary_country",
            "status",
            "thematic_area",
            "CAST(start_year AS TEXT)",
        ] {
            let rows = f
                .apply(sqlx::query(sqlx::AssertSqlSafe(group(column))))
                .fetch_all(self.pool())
                .await?;
            groups.push(read_groups(&rows)?);
        }
        let donor_sql = format!(
            "SELECT d.donor AS k, COUNT(*) AS n, CAST(COALESCE(SUM({}), 0) AS BIGINT) AS usd \
             FROM project_donors d JOIN (SELECT id, restricted, budget_usd_e4{}) p ON p.id = d.project_id \
             GROUP BY d.donor ORDER BY usd DESC, k",
            budget
                .replace("restricted", "p.restricted")
                .replace("budget_usd_e4", "p.budget_usd_e4"),
            f.from()
        );
        let by_donor = read_groups(
            &f.apply(sqlx::query(sqlx::AssertSqlSafe(donor_sql)))
                .fetch_all(self.pool())
                .await?,
        )?;
        let spent_sql = format!(
            "SELECT CAST(COALESCE(SUM(spent_usd_e4), 0) AS BIGINT) AS usd{}{}",
            f.from(),
            if f.sees_restricted {
                ""
            } else {
                " AND restricted = 0"
            }
        );
        let spent = from_e4(
            f.apply(sqlx::query(sqlx::AssertSqlSafe(spent_sql)))
                .fetch_one(self.pool())
                .await?
                .try_get("usd")?,
        );
        Ok(totals(groups, by_donor, spent))
    }

    /// Projects waiting for the reader's review: submitted or under review, in their scope.
    pub async fn review_queue(
        &self,
        org: &Organization,
        actor: &Actor,
    ) -> Result<Vec<PortfolioRow>, StoreError> {
        let mut rows = Vec::new();
        for status in [Status::Submitted, Status::UnderReview] {
            let q = PortfolioQuery {
                status: Some(status),
                sort: SortKey::Updated,
                per_page: Some(MAX_PER_PAGE),
                ..Default::default()
            };
            rows.extend(self.portfolio(org, actor, &q).await?.rows);
        }
        Ok(rows)
    }
}

/// Whether the portfolio summary holds every dimension `q` filters by.
fn summary_answers(q: &PortfolioQuery) -> bool {
    trimmed(&q.country).is_none()
        && trimmed(&q.theme).is_none()
        && trimmed(&q.donor).is_none()
        && trimmed(&q.q).is_none()
        && q.year.is_none()
        && q.min_usd.is_none()
        && q.max_usd.is_none()
}

/// Which rows of the summary a query sums: its regions' (`unit_code` '*') when nothing limits
/// it to offices, else its offices' (the scope's `unit_code IN (…)` or the office filter's
/// `unit_code = …` leave the region rows out by themselves).
fn summary_level(org: &Organization, actor: &Actor, q: &PortfolioQuery) -> &'static str {
    let offices = matches!(actor.scope(org), Scope::Unit(_)) || trimmed(&q.unit).is_some();
    if offices { "" } else { " AND unit_code = '*'" }
}

/// The analytics from their groups: by region, country, status, theme and year, in that order,
/// then by donor.
fn totals(mut groups: Vec<Vec<Group>>, by_donor: Vec<Group>, spent: Decimal) -> PortfolioTotals {
    let by_year = groups.pop().expect("five groups");
    let by_theme = groups.pop().expect("five groups");
    let by_status = groups.pop().expect("five groups");
    let by_country = groups.pop().expect("five groups");
    let by_region = groups.pop().expect("five groups");
    let pipeline = Status::ALL
        .iter()
        .map(|s| {
            by_status
                .iter()
                .find(|g| g.key == s.as_str())
                .cloned()
                .unwrap_or(Group {
                    key: s.as_str().to_owned(),
                    projects: 0,
                    budget_usd: Decimal::ZERO,
                })
        })
        .collect();
    let budget_usd: Decimal = by_status.iter().map(|g| g.budget_usd).sum();
    PortfolioTotals {
        burn_rate_percent: (budget_usd > Decimal::ZERO)
            .then(|| (spent * Decimal::from(100) / budget_usd).round_dp(1)),
        by_region,
        by_country,
        by_status,
        by_theme,
        by_donor,
        by_year,
        pipeline,
        budget_usd,
        expenditure_usd: spent,
    }
}

fn read_groups(rows: &[sqlx::any::AnyRow]) -> Result<Vec<Group>, StoreError> {
    rows.iter()
        .map(|r| {
            Ok(Group {
                key: r.try_get::<Option<String>, _>("k")?.unwrap_or_default(),
                projects: r.try_get("n")?,
                budget_usd: from_e4(r.try_get("usd")?),
            })
        })
        .collect()
}
