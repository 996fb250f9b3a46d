//! Bulk loading of generated portfolios, for demonstrations and benchmarks (`meridian demo`).
//!
//! [`Store::demo_insert_projects`] writes a batch of generated projects, with their budget
//! lines, donors, status history, review comments and transactions, in **one transaction** of
//! multi-row `INSERT`s (the same statement text for every full chunk, so each backend prepares
//! it once per connection and reuses it). It is the store function for this one mutation, and
//! it keeps the store's rules:
//!
//! - permission: only the operator or a headquarters administrator may load generated data;
//! - validation: every project is checked as [`Store::create_project`] checks a draft (theme,
//!   office, countries, dates, currencies with a rate); every step of its history must be a
//!   legal transition, taken by a person whose roles and scope allow it; endorsements and
//!   approvals respect segregation of duties and must be covered by a delegation chain on the
//!   day they were taken (the chain is stored with the decision, as the real path does);
//! - consistency: codes come from `project_sequences` (unique per office and year), the region
//!   is the owning office's regional office, amounts are converted to US dollars at the rates of
//!   the day, and the status is the one the history leads to.
//!
//! **Audit:** generated history is not audited step by step. Instead the loader appends **one
//! audit event per batch** (`demo_batch.generate`), saying what it generated: how many
//! projects, their code range, how many of each status, and the history, comment and
//! transaction rows written with them. Projects created through the real store functions
//! ([`Store::create_project`], [`Store::transition_project`], …) are audited as usual.
//!
//! Generation is deterministic: [`DemoRng`] is a seeded SplitMix64 and [`demo_id`] makes
//! UUID v7 identifiers from a time and the generator, so the same seed gives the same data.

mod generate;
mod load;

pub use generate::{DEMO_DAY, DONORS, STATUS_WEIGHTS, World, demo_rates};
pub use load::{DemoAccount, DemoOptions, DemoReport, PROJECTS_PER_SCALE};

use crate::audit::record;
use crate::db::format_time;
use crate::projects::portfolio_keys::{KeyedProject, insert_keys};
use crate::projects::{TransactionKind, e4, e4_rounded};
use crate::{Store, StoreError, Tx};
use meridian_domain::audit::Change;
use meridian_domain::authz::{Action, Actor, Denied, UserActor, authorize};
use meridian_domain::org::{Iso3, Organization, UnitCode, UnitKind};
use meridian_domain::projects::THEMATIC_AREAS;
use meridian_domain::projects::delegation::{
    Authority, DecisionRequest, Delegation, find_chain, segregation_of_duties,
};
use meridian_domain::projects::lifecycle::{Status, Transition};
use meridian_domain::projects::money::{Currency, Money, RateTable};
use rust_decimal::Decimal;
use sqlx::Row;
use std::collections::BTreeMap;
use time::{Date, OffsetDateTime};

/// A small deterministic generator (SplitMix64): the same seed gives the same portfolio on every
/// machine and every version of the dependencies.
#[derive(Debug, Clone)]
pub struct DemoRng(u64);

impl DemoRng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n.max(1))) >> 64) as u64
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo) as u64 + 1) as i64
    }

    /// A number in `[0, 1)`.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// An index into `weights`, drawn in proportion to them.
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
        let mut x = self.below(total);
        for (i, w) in weights.iter().enumerate() {
            if x < u64::from(*w) {
                return i;
            }
            x -= u64::from(*w);
        }
        weights.len() - 1
    }

    /// An independent generator, for a sub-stream (one per batch, say).
    pub fn fork(&mut self) -> DemoRng {
        DemoRng(self.next_u64())
    }
}

/// A UUID v7 (as stored: text) for a record created at `at`, its random part from `rng`.
pub fn demo_id(rng: &mut DemoRng, at: OffsetDateTime) -> String {
    let millis = (at.unix_timestamp_nanos() / 1_000_000).max(0) as u64;
    let mut bytes = [0u8; 10];
    bytes[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
    bytes[8..].copy_from_slice(&rng.next_u64().to_le_bytes()[..2]);
    uuid::Builder::from_unix_timestamp_millis(millis, &bytes)
        .into_uuid()
        .to_string()
}

/// One budget line of a generated project.
#[derive(Debug, Clone)]
pub struct DemoBudgetLine {
    pub category: String,
    pub description: String,
    pub amount: Money,
}

/// One step of a generated project's history, taken by `people[by]` of the batch.
#[derive(Debug, Clone)]
pub struct DemoStep {
    pub transition: Transition,
    pub by: usize,
    pub at: OffsetDateTime,
    pub comment: String,
}

/// A review comment (or the drafter's answer to the comment before it).
#[derive(Debug, Clone)]
pub struct DemoComment {
    pub section: String,
    pub by: usize,
    pub at: OffsetDateTime,
    pub body: String,
    /// Whether it answers the project's previous comment.
    pub reply_to_previous: bool,
}

#[derive(Debug, Clone)]
pub struct DemoTransaction {
    pub kind: TransactionKind,
    pub date: Date,
    pub amount: Money,
    pub provider: String,
    pub receiver: String,
    pub description: String,
    pub by: usize,
    pub at: OffsetDateTime,
}

/// A generated project: what a drafter would have written, and what happened to it since.
#[derive(Debug, Clone)]
pub struct DemoProject {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub thematic_area: String,
    pub unit: UnitCode,
    pub primary_country: Iso3,
    /// Other countries (the primary one is added first, as the real path does).
    pub countries: Vec<Iso3>,
    pub admin_areas: Vec<String>,
    pub start: Date,
    pub end: Date,
    pub currency: Currency,
    pub lines: Vec<DemoBudgetLine>,
    pub donors: Vec<String>,
    pub partners: Vec<String>,
    pub restricted: bool,
    pub drafted_by: usize,
    pub created_at: OffsetDateTime,
    pub steps: Vec<DemoStep>,
    pub comments: Vec<DemoComment>,
    pub transactions: Vec<DemoTransaction>,
}

/// A batch of generated projects and the people who acted on them.
#[derive(Debug, Clone)]
pub struct DemoBatch {
    /// Said in the batch's audit event, e.g. `meridian demo --scale 1000, batch 12 of 60`.
    pub label: String,
    /// Seeds the identifiers of the history rows.
    pub seed: u64,
    pub people: Vec<UserActor>,
    pub projects: Vec<DemoProject>,
}

/// What a batch wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DemoBatchSummary {
    pub projects: usize,
    pub budget_lines: usize,
    pub donors: usize,
    pub status_changes: usize,
    pub comments: usize,
    pub transactions: usize,
    pub first_code: Option<String>,
    pub last_code: Option<String>,
}

impl DemoBatchSummary {
    pub fn rows(&self) -> usize {
        self.projects
            + self.budget_lines
            + self.donors
            + self.status_changes
            + self.comments
            + self.transactions
    }

    pub fn add(&mut self, other: &DemoBatchSummary) {
        self.projects += other.projects;
        self.budget_lines += other.budget_lines;
        self.donors += other.donors;
        self.status_changes += other.status_changes;
        self.comments += other.comments;
        self.transactions += other.transactions;
        if self.first_code.is_none() {
            self.first_code = other.first_code.clone();
        }
        if other.last_code.is_some() {
            self.last_code = other.last_code.clone();
        }
    }
}

/// A bound value of a multi-row insert.
pub(crate) enum V {
    T(String),
    OT(Option<String>),
    I(i64),
    OI(Option<i64>),
}

/// Rows for one table, flattened, written in chunks of one multi-row `INSERT` each.
pub(crate) struct Rows {
    table: &'static str,
    columns: &'static [&'static str],
    values: Vec<V>,
}

/// Both backends accept 32,766 bound values per statement (SQLite's limit; PostgreSQL's is
/// 65,535); chunks stay well below it.
const MAX_BINDS: usize = 16_000;
const MAX_ROWS_PER_STATEMENT: usize = 1_000;

impl Rows {
    pub(crate) fn new(table: &'static str, columns: &'static [&'static str]) -> Self {
        Self {
            table,
            columns,
            values: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, row: impl IntoIterator<Item = V>) {
        let before = self.values.len();
        self.values.extend(row);
        debug_assert_eq!(self.values.len() - before, self.columns.len());
    }

    pub(crate) fn len(&self) -> usize {
        self.values.len() / self.columns.len()
    }

    /// Writes the rows. On SQLite the placeholders are anonymous (`?`): SQLite looks a
    /// numbered placeholder's name up by a linear scan when binding it, which makes binding a
    /// statement of thousands of `$N` quadratic.
    pub(crate) async fn write(
        self,
        tx: &mut Tx,
        backend: crate::Backend,
    ) -> Result<(), StoreError> {
        let width = self.columns.len();
        let per_statement = (MAX_BINDS / width).min(MAX_ROWS_PER_STATEMENT);
        let mut left = self.len();
        let mut values = self.values.into_iter();
        while left > 0 {
            let n = left.min(per_statement);
            left -= n;
            let mut sql = format!(
                "INSERT INTO {} ({}) VALUES ",
                self.table,
                self.columns.join(", ")
            );
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
                        crate::Backend::Sqlite => sql.push('?'),
                        crate::Backend::Postgres => {
                            sql.push('$');
                            sql.push_str(&p.to_string());
                        }
                    }
                }
                sql.push(')');
            }
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for v in values.by_ref().take(n * width) {
                q = match v {
                    V::T(s) => q.bind(s),
                    V::OT(s) => q.bind(s),
                    V::I(i) => q.bind(i),
                    V::OI(i) => q.bind(i),
                };
            }
            q.execute(&mut **tx).await?;
        }
        Ok(())
    }
}

/// The sections reviewers comment on (as `projects::lifecycle::SECTIONS`).
const SECTIONS: &[&str] = &[
    "general",
    "summary",
    "results",
    "budget",
    "partners",
    "risks",
    "timeline",
    "documents",
];

fn json(list: &[String]) -> String {
    serde_json::to_string(list).expect("strings serialize")
}

/// A step as written: transition, from, to, when, amount decided (USD e4), delegation chain.
type PreparedStep = (
    Transition,
    Status,
    Status,
    String,
    Option<i64>,
    Option<String>,
);

/// A project of the batch, checked and converted, before its code is known.
struct Prepared {
    region: UnitCode,
    countries: Vec<String>,
    budget_e4: i64,
    budget_usd_e4: i64,
    /// (category, description, currency, amount_e4, usd_e4)
    lines: Vec<(String, String, String, i64, i64)>,
    /// (transition, from, to, at, amount_usd_e4, chain json)
    steps: Vec<PreparedStep>,
    status: Status,
    submitted_by: Option<String>,
    updated_at: String,
    transactions_usd_e4: Vec<i64>,
}

fn bad(i: usize, p: &DemoProject, message: impl std::fmt::Display) -> StoreError {
    StoreError::invalid(
        "projects",
        format!("generated project {i} ({:?}): {message}", p.title),
    )
}

fn denied(i: usize, p: &DemoProject, e: impl std::fmt::Display) -> StoreError {
    StoreError::Denied(Denied::Rule(format!(
        "generated project {i} ({:?}): {e}",
        p.title
    )))
}

fn person(batch: &DemoBatch, idx: usize) -> Option<&UserActor> {
    batch.people.get(idx)
}

impl Store {
    /// How many projects the database holds (the demo loads only into an empty portfolio).
    pub async fn project_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM projects")
            .fetch_one(self.pool())
            .await?
            .try_get("n")?)
    }

    /// Writes a batch of generated projects with their history in one transaction, and one
    /// audit event for the batch (see the module documentation for what is checked).
    pub async fn demo_insert_projects(
        &self,
        org: &Organization,
        actor: &Actor,
        batch: &DemoBatch,
    ) -> Result<DemoBatchSummary, StoreError> {
        // Loading generated data is an act of the organization's administration.
        authorize(org, actor, Action::ReloadOrganization, &org.root().code)?;
        let rates = self.rate_table().await?;
        let endorse = self
            .delegations_for_decision(Authority::EndorseProject)
            .await?;
        let approve = self
            .delegations_for_decision(Authority::ApproveProject)
            .await?;
        let mut prepared = Vec::with_capacity(batch.projects.len());
        for (i, p) in batch.projects.iter().enumerate() {
            prepared.push(prepare(org, &rates, &endorse, &approve, batch, i, p)?);
        }

        let mut ids = crate::demo::DemoRng::new(batch.seed);
        let mut tx = self.begin().await?;
        // Codes: one sequence step per office and year for the whole batch.
        let mut wanted: BTreeMap<(String, i64), i64> = BTreeMap::new();
        for p in &batch.projects {
            *wanted
                .entry((p.unit.to_string(), i64::from(p.start.year())))
                .or_default() += 1;
        }
        let mut next: BTreeMap<(String, i64), i64> = BTreeMap::new();
        for ((unit, year), n) in &wanted {
            let last: i64 = sqlx::query(
                "INSERT INTO project_sequences (unit_code, year, last_value) VALUES ($1, $2, $3) \
                 ON CONFLICT (unit_code, year) DO UPDATE \
                 SET last_value = project_sequences.last_value + excluded.last_value \
                 RETURNING last_value",
            )
            .bind(unit)
            .bind(*year)
            .bind(*n)
            .fetch_one(&mut *tx)
            .await?
            .try_get("last_value")?;
            next.insert((unit.clone(), *year), last - n + 1);
        }

        let mut projects = Rows::new(
            "projects",
            &[
                "id",
                "code",
                "title",
                "summary",
                "thematic_area",
                "unit_code",
                "region_code",
                "primary_country",
                "countries",
                "admin_areas",
                "start_date",
                "end_date",
                "start_year",
                "currency",
                "budget_e4",
                "budget_usd_e4",
                "donors",
                "partners",
                "restricted",
                "status",
                "drafted_by",
                "submitted_by",
                "created_at",
                "updated_at",
                "version",
            ],
        );
        let mut lines = Rows::new(
            "project_budget_lines",
            &[
                "id",
                "project_id",
                "position",
                "category",
                "description",
                "currency",
                "amount_e4",
                "amount_usd_e4",
            ],
        );
        let mut donors = Rows::new("project_donors", &["project_id", "donor"]);
        let mut changes = Rows::new(
            "project_status_changes",
            &[
                "id",
                "project_id",
                "transition",
                "from_status",
                "to_status",
                "actor_id",
                "actor",
                "at",
                "comment",
                "amount_usd_e4",
                "delegation_chain",
            ],
        );
        let mut comments = Rows::new(
            "project_comments",
            &[
                "id",
                "project_id",
                "section",
                "reply_to",
                "author_id",
                "author",
                "body",
                "at",
            ],
        );
        let mut transactions = Rows::new(
            "project_transactions",
            &[
                "id",
                "project_id",
                "kind",
                "date",
                "currency",
                "amount_e4",
                "amount_usd_e4",
                "provider",
                "receiver",
                "description",
                "created_by",
                "created_at",
            ],
        );
        let mut keyed = Vec::with_capacity(batch.projects.len());
        let mut summary = DemoBatchSummary::default();
        let mut by_status: BTreeMap<&'static str, usize> = BTreeMap::new();
        for (p, prep) in batch.projects.iter().zip(prepared) {
            let year = i64::from(p.start.year());
            let seq = next
                .get_mut(&(p.unit.to_string(), year))
                .expect("every office and year has a sequence");
            let code = format!("{}-{year}-{:04}", p.unit, *seq);
            *seq += 1;
            let drafter = &batch.people[p.drafted_by];
            let mut donor_list = p.donors.clone();
            donor_list.dedup();
            projects.push([
                V::T(p.id.clone()),
                V::T(code.clone()),
                V::T(p.title.clone()),
                V::T(p.summary.clone()),
                V::T(p.thematic_area.clone()),
                V::T(p.unit.to_string()),
                V::T(prep.region.to_string()),
                V::T(p.primary_country.to_string()),
                V::T(json(&prep.countries)),
                V::T(json(&p.admin_areas)),
                V::T(p.start.to_string()),
                V::T(p.end.to_string()),
                V::I(year),
                V::T(p.currency.to_string()),
                V::I(prep.budget_e4),
                V::I(prep.budget_usd_e4),
                V::T(json(&donor_list)),
                V::T(json(&p.partners)),
                V::I(i64::from(p.restricted)),
                V::T(prep.status.as_str().to_owned()),
                V::T(drafter.id.clone()),
                V::OT(prep.submitted_by.clone()),
                V::T(format_time(p.created_at)),
                V::T(prep.updated_at.clone()),
                V::I(1 + p.steps.len() as i64),
            ]);
            for (position, (category, description, currency, amount, usd)) in
                prep.lines.into_iter().enumerate()
            {
                lines.push([
                    V::T(demo_id(&mut ids, p.created_at)),
                    V::T(p.id.clone()),
                    V::I(position as i64),
                    V::T(category),
                    V::T(description),
                    V::T(currency),
                    V::I(amount),
                    V::I(usd),
                ]);
            }
            for donor in &donor_list {
                donors.push([V::T(p.id.clone()), V::T(donor.clone())]);
            }
            keyed.push(KeyedProject {
                id: p.id.clone(),
                code: code.clone(),
                title: p.title.clone(),
                donors: donor_list.clone(),
            });
            for (step, (transition, from, to, at, usd, chain)) in p.steps.iter().zip(prep.steps) {
                let by = &batch.people[step.by];
                changes.push([
                    V::T(demo_id(&mut ids, step.at)),
                    V::T(p.id.clone()),
                    V::T(transition.as_str().to_owned()),
                    V::T(from.as_str().to_owned()),
                    V::T(to.as_str().to_owned()),
                    V::OT(Some(by.id.clone())),
                    V::T(by.email.clone()),
                    V::T(at),
                    V::T(step.comment.trim().to_owned()),
                    V::OI(usd),
                    V::OT(chain),
                ]);
            }
            let mut previous: Option<String> = None;
            for c in &p.comments {
                let by = &batch.people[c.by];
                let id = demo_id(&mut ids, c.at);
                comments.push([
                    V::T(id.clone()),
                    V::T(p.id.clone()),
                    V::T(c.section.clone()),
                    V::OT(if c.reply_to_previous {
                        previous.clone()
                    } else {
                        None
                    }),
                    V::OT(Some(by.id.clone())),
                    V::T(by.email.clone()),
                    V::T(c.body.trim().to_owned()),
                    V::T(format_time(c.at)),
                ]);
                previous = Some(id);
            }
            for (t, usd) in p.transactions.iter().zip(prep.transactions_usd_e4) {
                let by = &batch.people[t.by];
                transactions.push([
                    V::T(demo_id(&mut ids, t.at)),
                    V::T(p.id.clone()),
                    V::T(t.kind.as_str().to_owned()),
                    V::T(t.date.to_string()),
                    V::T(t.amount.currency.to_string()),
                    V::I(e4(t.amount.amount, "amount")?),
                    V::I(usd),
                    V::T(t.provider.trim().to_owned()),
                    V::T(t.receiver.trim().to_owned()),
                    V::T(t.description.trim().to_owned()),
                    V::T(by.email.clone()),
                    V::T(format_time(t.at)),
                ]);
            }
            *by_status.entry(prep.status.as_str()).or_default() += 1;
            if summary.first_code.is_none() {
                summary.first_code = Some(code.clone());
            }
            summary.last_code = Some(code);
        }
        summary.projects = projects.len();
        summary.budget_lines = lines.len();
        summary.donors = donors.len();
        summary.status_changes = changes.len();
        summary.comments = comments.len();
        summary.transactions = transactions.len();
        // Parents before children (foreign keys).
        projects.write(&mut tx, self.backend()).await?;
        lines.write(&mut tx, self.backend()).await?;
        donors.write(&mut tx, self.backend()).await?;
        // The portfolio's keyed index, as the store's write path keeps it.
        insert_keys(&mut tx, self.backend(), &keyed).await?;
        changes.write(&mut tx, self.backend()).await?;
        comments.write(&mut tx, self.backend()).await?;
        transactions.write(&mut tx, self.backend()).await?;
        let batch_id = demo_id(&mut ids, OffsetDateTime::now_utc());
        record(
            &mut tx,
            actor,
            Change::new("demo_batch", "generate", &batch_id).after(serde_json::json!({
                "label": batch.label,
                "note": "generated demonstration data, written in bulk: the projects' history below is not audited step by step",
                "projects": summary.projects,
                "first_code": summary.first_code,
                "last_code": summary.last_code,
                "by_status": by_status,
                "budget_lines": summary.budget_lines,
                "donors": summary.donors,
                "status_changes": summary.status_changes,
                "comments": summary.comments,
                "transactions": summary.transactions,
            })),
        )
        .await?;
        tx.commit().await?;
        Ok(summary)
    }

    /// The database's size in bytes (SQLite: the main file, after a checkpoint of the log).
    pub async fn database_size(&self) -> Result<i64, StoreError> {
        let sql = match self.backend() {
            crate::Backend::Sqlite => {
                "SELECT page_count * page_size AS n FROM pragma_page_count(), pragma_page_size()"
            }
            crate::Backend::Postgres => {
                "SELECT CAST(pg_database_size(current_database()) AS BIGINT) AS n"
            }
        };
        Ok(sqlx::query(sql)
            .fetch_one(self.pool())
            .await?
            .try_get("n")?)
    }

    /// Refreshes the query planner's statistics after a bulk load (and, on PostgreSQL, the
    /// visibility map, as autovacuum would shortly after), so that the first queries after a
    /// load are planned as they will be in steady state.
    pub async fn demo_analyze(&self) -> Result<(), StoreError> {
        let sql = match self.backend() {
            crate::Backend::Sqlite => "ANALYZE",
            crate::Backend::Postgres => {
                "VACUUM (ANALYZE) projects, project_donors, project_keys, \
                 project_budget_lines, project_status_changes, project_comments, project_transactions"
            }
        };
        sqlx::raw_sql(sql).execute(self.pool()).await?;
        Ok(())
    }
}

fn prepare(
    org: &Organization,
    rates: &RateTable,
    endorse: &[Delegation],
    approve: &[Delegation],
    batch: &DemoBatch,
    i: usize,
    p: &DemoProject,
) -> Result<Prepared, StoreError> {
    let title = p.title.trim();
    if title.is_empty() || title.chars().count() > 300 {
        return Err(bad(i, p, "a title of 1 to 300 characters"));
    }
    if !THEMATIC_AREAS.contains(&p.thematic_area.as_str()) {
        return Err(bad(
            i,
            p,
            format!("unknown thematic area {:?}", p.thematic_area),
        ));
    }
    let owner = org
        .unit(p.unit.as_str())
        .ok_or_else(|| bad(i, p, format!("unknown unit code {}", p.unit)))?;
    let region = org
        .ancestors(&owner.code)
        .find(|u| u.kind == UnitKind::RegionalOffice)
        .map(|u| u.code.clone())
        .ok_or_else(|| bad(i, p, format!("{} is not under a regional office", p.unit)))?;
    let mut countries = vec![p.primary_country.to_string()];
    for c in std::iter::once(&p.primary_country).chain(&p.countries) {
        if org.covering_office(c).is_none() && org.country_office(c).is_none() {
            return Err(bad(i, p, format!("no office covers {c}")));
        }
        if !countries.contains(&c.to_string()) {
            countries.push(c.to_string());
        }
    }
    if p.end < p.start {
        return Err(bad(i, p, "the end is before the start"));
    }
    let drafter =
        person(batch, p.drafted_by).ok_or_else(|| bad(i, p, "the drafter is not in the batch"))?;
    let drafter_actor = Actor::User(drafter.clone());
    authorize(org, &drafter_actor, Action::DraftProject, &p.unit).map_err(|e| denied(i, p, e))?;

    let created = p.created_at.date();
    let mut budget_usd = Decimal::ZERO;
    let mut lines = Vec::with_capacity(p.lines.len());
    for l in &p.lines {
        if l.category.trim().is_empty() {
            return Err(bad(i, p, "a budget line without a category"));
        }
        let usd = rates.to_usd(&l.amount, created).map_err(|e| bad(i, p, e))?;
        budget_usd += usd;
        lines.push((
            l.category.trim().to_owned(),
            l.description.trim().to_owned(),
            l.amount.currency.to_string(),
            e4(l.amount.amount, "budget_lines")?,
            e4_rounded(usd)?,
        ));
    }
    let budget = if p.lines.iter().all(|l| l.amount.currency == p.currency) {
        p.lines.iter().map(|l| l.amount.amount).sum()
    } else {
        let one = Money::new(Decimal::ONE, p.currency).map_err(|e| bad(i, p, e))?;
        let unit_usd = rates.to_usd(&one, created).map_err(|e| bad(i, p, e))?;
        (budget_usd / unit_usd).round_dp(4)
    };

    let mut status = Status::Draft;
    let mut submitted_by = None;
    let mut last = p.created_at;
    let mut steps = Vec::with_capacity(p.steps.len());
    for step in &p.steps {
        let user = person(batch, step.by)
            .ok_or_else(|| bad(i, p, "a step's actor is not in the batch"))?;
        let actor = Actor::User(user.clone());
        if step.at < last {
            return Err(bad(
                i,
                p,
                format!("{} is dated before the step before it", step.transition),
            ));
        }
        last = step.at;
        let action = match (step.transition, status) {
            (Transition::Reject, Status::SubmittedToDonor) => Action::ApproveProject,
            (t, _) => t.action(),
        };
        authorize(org, &actor, action, &p.unit).map_err(|e| denied(i, p, e))?;
        let to = status.apply(step.transition).map_err(|e| bad(i, p, e))?;
        if step.transition == Transition::Return && step.comment.trim().is_empty() {
            return Err(bad(i, p, "a return without a comment"));
        }
        let mut usd_e4 = None;
        let mut chain_json = None;
        if step.transition.is_decision() {
            segregation_of_duties(&user.id, &drafter.id, submitted_by.as_deref())
                .map_err(|e| denied(i, p, e))?;
            let on = step.at.date();
            let mut usd = Decimal::ZERO;
            for l in &p.lines {
                usd += rates.to_usd(&l.amount, on).map_err(|e| bad(i, p, e))?;
            }
            let amount = Money::new(usd.round_dp(2), Currency::usd()).map_err(|e| bad(i, p, e))?;
            let (authority, delegations) = match step.transition {
                Transition::Endorse => (Authority::EndorseProject, endorse),
                _ => (Authority::ApproveProject, approve),
            };
            let chain = find_chain(
                delegations,
                &DecisionRequest {
                    authority,
                    actor: user,
                    project_unit: &p.unit,
                    amount: &amount,
                    on,
                },
                org,
                rates,
            )
            .map_err(|e| denied(i, p, e))?;
            chain_json = Some(serde_json::to_string(&chain.links).expect("chains serialize"));
            usd_e4 = Some(e4_rounded(usd)?);
        }
        if matches!(step.transition, Transition::Submit | Transition::Resubmit) {
            submitted_by = Some(user.id.clone());
        }
        steps.push((
            step.transition,
            status,
            to,
            format_time(step.at),
            usd_e4,
            chain_json,
        ));
        status = to;
    }
    for c in &p.comments {
        let user = person(batch, c.by)
            .ok_or_else(|| bad(i, p, "a comment's author is not in the batch"))?;
        let actor = Actor::User(user.clone());
        if authorize(org, &actor, Action::ReviewProject, &p.unit).is_err() {
            authorize(org, &actor, Action::DraftProject, &p.unit).map_err(|e| denied(i, p, e))?;
        }
        if !SECTIONS.contains(&c.section.as_str()) {
            return Err(bad(i, p, format!("unknown section {:?}", c.section)));
        }
        if c.body.trim().is_empty() {
            return Err(bad(i, p, "an empty comment"));
        }
    }
    let mut transactions_usd_e4 = Vec::with_capacity(p.transactions.len());
    for t in &p.transactions {
        let user = person(batch, t.by)
            .ok_or_else(|| bad(i, p, "a transaction's author is not in the batch"))?;
        authorize(
            org,
            &Actor::User(user.clone()),
            Action::ManageProject,
            &p.unit,
        )
        .map_err(|e| denied(i, p, e))?;
        if t.amount.amount <= Decimal::ZERO {
            return Err(bad(i, p, "a transaction amount is above zero"));
        }
        let usd = rates.to_usd(&t.amount, t.date).map_err(|e| bad(i, p, e))?;
        transactions_usd_e4.push(e4_rounded(usd)?);
    }
    let updated = p
        .steps
        .iter()
        .map(|s| s.at)
        .chain(p.comments.iter().map(|c| c.at))
        .chain(p.transactions.iter().map(|t| t.at))
        .fold(p.created_at, |a, b| a.max(b));
    Ok(Prepared {
        region,
        countries,
        budget_e4: e4_rounded(budget)?,
        budget_usd_e4: e4_rounded(budget_usd)?,
        lines,
        steps,
        status,
        submitted_by,
        updated_at: format_time(updated),
        transactions_usd_e4,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generator_is_deterministic_and_spread() {
        let mut a = DemoRng::new(42);
        let mut b = DemoRng::new(42);
        let xs: Vec<u64> = (0..100).map(|_| a.below(10)).collect();
        let ys: Vec<u64> = (0..100).map(|_| b.below(10)).collect();
        assert_eq!(xs, ys);
        for d in 0..10 {
            assert!(xs.contains(&d), "{d} is drawn");
        }
        let mut c = DemoRng::new(7);
        let counts = (0..10_000).fold([0usize; 3], |mut acc, _| {
            acc[c.weighted(&[1, 2, 7])] += 1;
            acc
        });
        assert!(counts[2] > counts[1] && counts[1] > counts[0], "{counts:?}");
        let at = OffsetDateTime::from_unix_timestamp(1_700_000_000).unwrap();
        let id = demo_id(&mut DemoRng::new(1), at);
        assert_eq!(id, demo_id(&mut DemoRng::new(1), at));
        assert_eq!(uuid::Uuid::parse_str(&id).unwrap().get_version_num(), 7);
    }
}
