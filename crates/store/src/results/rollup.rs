//! Roll-ups: approved values carried from project indicators to the SRF indicators they
//! contribute to, per unit and per programme, and merged into regions and the world on read.
//!
//! Each project indicator is a *leaf*. Its values over a window (the whole life, a calendar
//! year, a quarter) are first aggregated across time by its own rules (the domain's
//! [`Accumulator`]), then the leaves of a scope are merged across units by the SRF indicator's
//! aggregation type. What is stored per (scope, SRF indicator, window, disaggregation) is a
//! [`Partial`]: the number of leaves, the sums, the lowest and the highest, which merge
//! exactly, so a region is the merge of its units' cells and the world the merge of all:
//! a read of a few hundred rows instead of millions of values.

use super::{Figure, corrupt};
use crate::demo::{Rows, V};
use crate::projects::{e4_rounded, from_e4};
use crate::{Store, StoreError, Tx};
use meridian_domain::authz::{Action, Actor, authorize};
use meridian_domain::org::{Organization, Scope, UnitCode};
use meridian_domain::results::aggregate::{Accumulator, Figure as Fig, Rules};
use meridian_domain::results::combination::{DisaggregationKey, derived_from, derived_keys};
use meridian_domain::results::model::{
    AggregationType, Direction, Disaggregation, Frequency, Measure,
};
pub use meridian_domain::results::partial::Partial;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;

/// A window of time as month indices (`year * 12 + month - 1`), with its stored name.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Window {
    pub name: String,
    pub months: Range<usize>,
}

fn month_index(date: time::Date) -> usize {
    date.year() as usize * 12 + (u8::from(date.month()) as usize - 1)
}

/// The windows a leaf's values fall into: its whole life, each calendar year, and each
/// quarter when it reports monthly or quarterly.
fn windows(frequency: Frequency, first: usize, last: usize) -> Vec<Window> {
    let mut out = vec![Window {
        name: "all".into(),
        months: first..last + 1,
    }];
    for year in first / 12..=last / 12 {
        out.push(Window {
            name: year.to_string(),
            months: year * 12..year * 12 + 12,
        });
        if frequency != Frequency::Annual {
            for q in 0..4 {
                let start = year * 12 + q * 3;
                if start + 3 > first && start <= last {
                    out.push(Window {
                        name: format!("{year}-Q{}", q + 1),
                        months: start..start + 3,
                    });
                }
            }
        }
    }
    out
}

/// The cell statistics of one scope: per (window, disaggregation), actual, target, baseline.
#[derive(Debug, Clone, Default, PartialEq)]
struct Cell {
    actual: Partial,
    target: Partial,
    baseline: Partial,
}

/// A partial's count and sums without its extremes (which cells keep only for actuals).
fn sums(p: &Partial) -> Partial {
    Partial {
        min: None,
        max: None,
        ..*p
    }
}

impl Cell {
    fn merge(&mut self, o: &Cell) {
        self.actual.merge(&o.actual);
        self.target.merge(&sums(&o.target));
        self.baseline.merge(&sums(&o.baseline));
    }

    /// Takes out leaves counted in this cell; `false` when the actual's lowest or highest
    /// figure may have gone with them and the cell must be recomputed from its leaves.
    fn subtract(&mut self, o: &Cell) -> bool {
        let actual = self.actual.subtract(&o.actual);
        let target = self.target.subtract(&sums(&o.target));
        let baseline = self.baseline.subtract(&sums(&o.baseline));
        actual && target && baseline
    }

    /// Replaces leaves counted in this cell (`old`) by their new values (`new`); `false` when
    /// the actual's lowest or highest figure can no longer be told (see [`Partial::replace`])
    /// and the cell must be recomputed from its leaves.
    fn replace(&mut self, old: &Cell, new: &Cell) -> bool {
        let actual = self.actual.replace(&old.actual, &new.actual);
        let target = self.target.replace(&sums(&old.target), &sums(&new.target));
        let baseline = self
            .baseline
            .replace(&sums(&old.baseline), &sums(&new.baseline));
        actual && target && baseline
    }

    fn is_empty(&self) -> bool {
        self.actual.leaves == 0 && self.target.leaves == 0 && self.baseline.leaves == 0
    }
}

/// (SRF indicator, scope, region, window, disaggregation).
type Key = (String, String, String, String, String);

/// Cells, with whether each SRF indicator's figures are fractions.
#[derive(Debug, Default)]
struct Cells {
    cells: BTreeMap<Key, Cell>,
    fraction: BTreeMap<String, bool>,
}

impl Cells {
    fn merge(&mut self, o: Cells) {
        for (k, c) in o.cells {
            self.cells.entry(k).or_default().merge(&c);
        }
        for (code, f) in o.fraction {
            *self.fraction.entry(code).or_default() |= f;
        }
    }
}

/// One leaf's rows, grouped by disaggregation: (month index of the period's end, figure).
type Series = BTreeMap<String, Vec<(usize, Fig)>>;

struct Leaf {
    srf: String,
    /// The unit (or programme) whose cells the leaf counts in, and its region.
    scope: String,
    region: String,
    rules: Rules,
    frequency: Frequency,
    first: usize,
    last: usize,
    actual: Series,
    target: Series,
    baseline: Option<Fig>,
    /// The indicator's categories, to derive figures over fewer categories from combinations.
    categories: Vec<Disaggregation>,
}

/// Two figures of the same measure summed (fractions: numerators and denominators apart).
fn add_figures(a: Fig, b: Fig) -> Option<Fig> {
    match (a, b) {
        (Fig::Number(x), Fig::Number(y)) => x.checked_add(y).map(Fig::Number),
        (
            Fig::Fraction {
                numerator: n1,
                denominator: d1,
            },
            Fig::Fraction {
                numerator: n2,
                denominator: d2,
            },
        ) => Some(Fig::Fraction {
            numerator: n1.checked_add(n2)?,
            denominator: d1.checked_add(d2)?,
        }),
        _ => None,
    }
}

/// Adds to a leaf's series the figures derived from its combinations: per period, each
/// combination (`age_group=age_18_59;sex=female`) counts in the option of each category (and
/// each smaller combination) it covers, when the categories summed over are exhaustive (see
/// [`derived_keys`]) and every combination summed was given. A report holds combinations or single options, never both, so a derived
/// figure never meets a reported one for the same period.
fn derive_series(series: &mut Series, categories: &[Disaggregation]) {
    if categories.len() < 2 {
        return;
    }
    // (derived key, month) → (combinations summed, their sum).
    let mut sums: BTreeMap<(DisaggregationKey, usize), (usize, Option<Fig>)> = BTreeMap::new();
    for (key, rows) in series.iter() {
        let Ok(parsed) = DisaggregationKey::parse(key) else {
            continue;
        };
        for derived in derived_keys(categories, &parsed) {
            for (month, f) in rows {
                let entry = sums.entry((derived.clone(), *month)).or_insert((0, None));
                entry.0 += 1;
                entry.1 = match entry.1 {
                    None => Some(*f),
                    Some(prev) => add_figures(prev, *f),
                };
            }
        }
    }
    for ((key, month), (count, f)) in sums {
        // Only when every combination summed was given: a missing one is not zero.
        if let Some(f) = f
            && count == derived_from(categories, &key)
        {
            series.entry(key.to_string()).or_default().push((month, f));
        }
    }
}

fn figure_of(value: Option<i64>, num: Option<i64>, den: Option<i64>) -> Option<Fig> {
    match (value, num, den) {
        (Some(v), ..) => Some(Fig::Number(from_e4(v))),
        (None, Some(n), Some(d)) => Some(Fig::Fraction {
            numerator: from_e4(n),
            denominator: from_e4(d),
        }),
        _ => None,
    }
}

/// A leaf's value over a window, to the ten-thousandth the cells store. Rounding each leaf
/// (not each cell's sum) keeps the sums exact: a cell built from all its leaves at once and
/// one built by adding and taking out members hold the same numbers, as do a region read
/// as the merge of its units' cells and one aggregated from every leaf.
fn rounded(f: Fig) -> Fig {
    match f {
        Fig::Number(n) => Fig::Number(n.round_dp(4)),
        Fig::Fraction {
            numerator,
            denominator,
        } => Fig::Fraction {
            numerator: numerator.round_dp(4),
            denominator: denominator.round_dp(4),
        },
    }
}

/// The scopes whose cells are rebuilt whole.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Rebuild<'a> {
    /// One unit's cells, from its projects.
    Unit(&'a str),
    /// Every unit's cells at once (after a bulk load): one pass over the SRF indicator's
    /// leaves instead of one per unit.
    AllUnits,
    /// A programme's cells, from its members.
    Programme(&'a str),
}

/// Whose leaves are read, and which cells they count in.
enum Members<'a> {
    Scope(Rebuild<'a>),
    /// These projects, in the cells of the programme.
    Projects {
        programme: &'a str,
        ids: &'a [String],
    },
    /// One project, in the cells of its unit.
    Project(&'a str),
}

/// Rebuilds the cells of every scope `project_id` belongs to (its unit, its programmes) for
/// the given SRF indicators, from the approved values. Runs inside the caller's transaction.
pub(crate) async fn refresh(
    tx: &mut Tx,
    _org: &Organization,
    project_id: &str,
    srf_codes: &[String],
) -> Result<(), StoreError> {
    if srf_codes.is_empty() {
        return Ok(());
    }
    let row = sqlx::query("SELECT unit_code FROM projects WHERE id = $1")
        .bind(project_id)
        .fetch_one(&mut **tx)
        .await?;
    let unit: String = row.try_get("unit_code")?;
    let programmes: Vec<String> =
        sqlx::query("SELECT programme_id FROM programme_projects WHERE project_id = $1")
            .bind(project_id)
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|r| r.try_get("programme_id"))
            .collect::<Result<_, _>>()?;
    for code in srf_codes {
        rebuild_scope(tx, code, Rebuild::Unit(&unit)).await?;
        for p in &programmes {
            rebuild_scope(tx, code, Rebuild::Programme(p)).await?;
        }
    }
    Ok(())
}

/// A project's leaves (every SRF indicator it contributes to) as they were before a change in
/// its approved values or its indicators; [`project_changed`] moves the cells of its unit and
/// programmes by the difference afterwards.
pub(crate) struct ProjectLeaves {
    project: String,
    unit: String,
    region: String,
    programmes: Vec<String>,
    /// Only the leaves of this SRF indicator were read (else every one).
    srf: Option<String>,
    leaves: BTreeMap<String, Leaf>,
}

/// Serializes, on PostgreSQL, the transactions that move the cells of these scopes by a
/// difference (read, then rewrite): one transaction-scoped advisory lock per scope, taken in
/// order, so a second waits until the first commits and then reads what it wrote. (SQLite
/// writers are serialized by `BEGIN IMMEDIATE`.)
pub(crate) async fn lock_scopes(tx: &mut Tx, scopes: &[(&str, &str)]) -> Result<(), StoreError> {
    if tx.backend_name() != "PostgreSQL" {
        return Ok(());
    }
    let mut keys: Vec<String> = scopes
        .iter()
        .map(|(k, s)| format!("results_cells:{k}:{s}"))
        .collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        sqlx::query(
            "SELECT CAST(1 AS BIGINT) AS locked FROM (SELECT pg_advisory_xact_lock(hashtext($1))) AS l",
        )
        .bind(key)
        .fetch_one(&mut **tx)
        .await?;
    }
    Ok(())
}

/// Reads a project's leaves before a change (those of one SRF indicator, or all), in the
/// change's transaction, after locking the cells of its unit and programmes
/// ([`lock_scopes`]): its unit and programmes (one or two queries), then its leaves (three).
pub(crate) async fn project_leaves(
    tx: &mut Tx,
    project_id: &str,
    srf: Option<&str>,
) -> Result<ProjectLeaves, StoreError> {
    let row = sqlx::query(
        "SELECT p.unit_code, p.region_code, \
         (SELECT COUNT(*) FROM programme_projects pp WHERE pp.project_id = p.id) AS programmes \
         FROM projects p WHERE p.id = $1",
    )
    .bind(project_id)
    .fetch_one(&mut **tx)
    .await?;
    let unit: String = row.try_get("unit_code")?;
    let region: String = row.try_get("region_code")?;
    let programmes: Vec<String> = if row.try_get::<i64, _>("programmes")? > 0 {
        sqlx::query("SELECT programme_id FROM programme_projects WHERE project_id = $1")
            .bind(project_id)
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(|r| r.try_get("programme_id"))
            .collect::<Result<_, _>>()?
    } else {
        Vec::new()
    };
    let mut scopes = vec![("unit", unit.as_str())];
    scopes.extend(programmes.iter().map(|p| ("programme", p.as_str())));
    lock_scopes(tx, &scopes).await?;
    Ok(ProjectLeaves {
        project: project_id.to_owned(),
        leaves: load_leaves(tx, srf, &Members::Project(project_id)).await?,
        unit,
        region,
        programmes,
        srf: srf.map(str::to_owned),
    })
}

/// (SRF indicator, window, disaggregation).
type SrfKey = (String, String, String);

/// Cells per (SRF indicator, window, disaggregation), whatever the scope.
type CellsBySrf = BTreeMap<SrfKey, Cell>;

/// A cell updated in a scope: (kind, scope, region, its key, the cell, fraction).
type Updated<'a> = (&'a str, &'a str, &'a str, &'a SrfKey, Cell, bool);

fn by_srf(
    leaves: BTreeMap<String, Leaf>,
    codes: &[String],
) -> (CellsBySrf, BTreeMap<String, bool>) {
    let leaves: BTreeMap<String, Leaf> = leaves
        .into_iter()
        .filter(|(_, l)| codes.binary_search(&l.srf).is_ok())
        .collect();
    let cells = cells_of(&leaves);
    (
        cells
            .cells
            .into_iter()
            .map(|((code, _, _, window, key), c)| ((code, window, key), c))
            .collect(),
        cells.fraction,
    )
}

/// Moves the cells of the project's unit and programmes for `srf_codes` after a change in its
/// approved values or its indicators (`before`: its leaves read before the change), in the
/// change's transaction: in each scope, each cell where the project's figures changed is
/// updated by replacing the project's old partial by its new one ([`Partial::replace`]):
/// counts and sums exactly; a lowest or highest figure the project held and no longer reaches
/// cannot be told without the other leaves, and that scope's cells of that SRF indicator are
/// then rebuilt from all its leaves ([`rebuild_scope`]). The statements do not grow with the
/// number of members or of the unit's projects: three reads of the project's leaves, its unit
/// and programmes, one read of the cells changed, one delete, a multi-row insert per scope
/// kind, and those rebuilds.
///
/// `srf_codes`: the SRF indicators whose cells may move; `None` for every one the project's
/// leaves contribute to before or after.
pub(crate) async fn project_changed(
    tx: &mut Tx,
    before: ProjectLeaves,
    srf_codes: Option<&[String]>,
) -> Result<(), StoreError> {
    let project = before.project.as_str();
    let after = load_leaves(tx, before.srf.as_deref(), &Members::Project(project)).await?;
    let mut codes: Vec<String> = match srf_codes {
        Some(codes) => codes.to_vec(),
        None => before
            .leaves
            .values()
            .chain(after.values())
            .map(|l| l.srf.clone())
            .collect(),
    };
    codes.sort();
    codes.dedup();
    if codes.is_empty() {
        return Ok(());
    }
    let (unit, region, programmes) = (&before.unit, &before.region, &before.programmes);
    let (old, old_fraction) = by_srf(before.leaves, &codes);
    let (new, new_fraction) = by_srf(after, &codes);
    // The cells where the project's figures changed.
    let empty = Cell::default();
    let mut changed: Vec<&SrfKey> = old
        .keys()
        .chain(new.keys())
        .filter(|k| old.get(*k).unwrap_or(&empty) != new.get(*k).unwrap_or(&empty))
        .collect();
    changed.sort();
    changed.dedup();
    if changed.is_empty() {
        return Ok(());
    }
    // The scopes: (kind, scope, region).
    let mut scopes: Vec<(&str, &str, &str)> = vec![("unit", unit.as_str(), region.as_str())];
    for p in programmes {
        scopes.push(("programme", p.as_str(), ""));
    }
    // Their stored cells of those SRF indicators and windows: one query.
    let mut windows: Vec<&str> = changed.iter().map(|k| k.1.as_str()).collect();
    windows.sort();
    windows.dedup();
    let mut binds: Vec<&str> = vec![unit];
    let mut sql = String::from(
        "SELECT scope_kind, scope, srf_indicator_code, time_window, disaggregation, fraction, \
         leaves, n_e4, d_e4, min_n_e4, min_d_e4, max_n_e4, max_d_e4, target_leaves, target_n_e4, \
         target_d_e4, baseline_leaves, baseline_n_e4, baseline_d_e4 FROM results_cells \
         WHERE ((scope_kind = 'unit' AND scope = $1)",
    );
    if !programmes.is_empty() {
        let mut marks = Vec::new();
        for p in programmes {
            binds.push(p);
            marks.push(format!("${}", binds.len()));
        }
        sql.push_str(&format!(
            " OR (scope_kind = 'programme' AND scope IN ({}))",
            marks.join(", ")
        ));
    }
    sql.push(')');
    for (column, values) in [
        (
            "srf_indicator_code",
            codes.iter().map(String::as_str).collect::<Vec<_>>(),
        ),
        ("time_window", windows),
    ] {
        let mut marks = Vec::new();
        for v in values {
            binds.push(v);
            marks.push(format!("${}", binds.len()));
        }
        sql.push_str(&format!(" AND {column} IN ({})", marks.join(", ")));
    }
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in &binds {
        q = q.bind(*b);
    }
    // (kind, scope, SRF indicator, window, disaggregation) → (cell, fraction), in `Key`'s
    // five texts.
    let mut stored: HashMap<Key, (Cell, bool)> = HashMap::new();
    for r in q.fetch_all(&mut **tx).await? {
        stored.insert(
            (
                r.try_get("scope_kind")?,
                r.try_get("scope")?,
                r.try_get("srf_indicator_code")?,
                r.try_get("time_window")?,
                r.try_get("disaggregation")?,
            ),
            (
                Cell {
                    actual: partial_from(&r, "", true)?,
                    target: partial_from(&r, "target_", false)?,
                    baseline: partial_from(&r, "baseline_", false)?,
                },
                r.try_get::<i64, _>("fraction")? == 1,
            ),
        );
    }
    // Replace the project's old partials by its new ones, scope by scope.
    let mut rebuild: Vec<(&str, &str, &str)> = Vec::new();
    // (kind, scope, region, cell key, cell, fraction).
    let mut updated: Vec<Updated> = Vec::new();
    for &(kind, scope, region) in &scopes {
        for key in &changed {
            let (code, window, disaggregation) = key;
            let (mut cell, fraction) = stored
                .remove(&(
                    kind.to_owned(),
                    scope.to_owned(),
                    code.clone(),
                    window.clone(),
                    disaggregation.clone(),
                ))
                .unwrap_or_default();
            if cell.replace(
                old.get(*key).unwrap_or(&empty),
                new.get(*key).unwrap_or(&empty),
            ) {
                let fraction = fraction
                    || old_fraction.get(code).copied().unwrap_or(false)
                    || new_fraction.get(code).copied().unwrap_or(false);
                updated.push((kind, scope, region, key, cell, fraction));
            } else {
                rebuild.push((kind, scope, code.as_str()));
            }
        }
    }
    rebuild.sort();
    rebuild.dedup();
    updated.retain(|(kind, scope, _, key, ..)| {
        rebuild
            .binary_search(&(*kind, *scope, key.0.as_str()))
            .is_err()
    });
    // Rewrite the cells updated: one delete per 100 cells, then the non-empty ones inserted.
    for chunk in updated.chunks(100) {
        let mut binds: Vec<&str> = Vec::new();
        let mut terms = Vec::new();
        for (kind, scope, _, (code, window, disaggregation), ..) in chunk {
            let at = binds.len();
            binds.extend([
                *kind,
                *scope,
                code.as_str(),
                window.as_str(),
                disaggregation.as_str(),
            ]);
            terms.push(format!(
                "(scope_kind = ${} AND scope = ${} AND srf_indicator_code = ${} \
                 AND time_window = ${} AND disaggregation = ${})",
                at + 1,
                at + 2,
                at + 3,
                at + 4,
                at + 5
            ));
        }
        let sql = format!("DELETE FROM results_cells WHERE {}", terms.join(" OR "));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in &binds {
            q = q.bind(*b);
        }
        q.execute(&mut **tx).await?;
    }
    for kind in ["unit", "programme"] {
        let mut cells = Cells::default();
        for (k, scope, region, (code, window, disaggregation), cell, fraction) in &updated {
            if *k != kind || cell.is_empty() {
                continue;
            }
            *cells.fraction.entry(code.clone()).or_default() |= *fraction;
            cells.cells.insert(
                (
                    code.clone(),
                    (*scope).to_owned(),
                    (*region).to_owned(),
                    window.clone(),
                    disaggregation.clone(),
                ),
                cell.clone(),
            );
        }
        if !cells.cells.is_empty() {
            write_cells(tx, kind, &cells).await?;
        }
    }
    for (kind, scope, code) in rebuild {
        let scope = if kind == "unit" {
            Rebuild::Unit(scope)
        } else {
            Rebuild::Programme(scope)
        };
        rebuild_scope(tx, code, scope).await?;
    }
    Ok(())
}

/// Rebuilds every cell of a programme from its members' leaves, one SRF indicator at a time.
pub(crate) async fn refresh_programme(tx: &mut Tx, programme_id: &str) -> Result<(), StoreError> {
    let codes: Vec<String> = sqlx::query(
        "SELECT DISTINCT i.srf_indicator_code FROM indicators i \
         JOIN programme_projects pp ON pp.project_id = i.project_id \
         WHERE pp.programme_id = $1 AND i.srf_indicator_code IS NOT NULL \
         UNION SELECT DISTINCT srf_indicator_code FROM results_cells \
         WHERE scope_kind = 'programme' AND scope = $1",
    )
    .bind(programme_id)
    .fetch_all(&mut **tx)
    .await?
    .iter()
    .map(|r| r.try_get("srf_indicator_code"))
    .collect::<Result<_, _>>()?;
    for code in codes {
        rebuild_scope(tx, &code, Rebuild::Programme(programme_id)).await?;
    }
    Ok(())
}

/// Members read per pass when a programme's membership changes: bounds the rows held at once.
const MEMBERS_PER_PASS: usize = 50;

/// The cells of `ids`' leaves for `programme`, every SRF indicator at once, a few members
/// per pass (three queries each).
async fn members_cells(tx: &mut Tx, programme: &str, ids: &[String]) -> Result<Cells, StoreError> {
    let mut out = Cells::default();
    for chunk in ids.chunks(MEMBERS_PER_PASS) {
        let leaves = load_leaves(
            tx,
            None,
            &Members::Projects {
                programme,
                ids: chunk,
            },
        )
        .await?;
        out.merge(cells_of(&leaves));
    }
    Ok(out)
}

/// Applies a change of a programme's membership to its cells, in the caller's transaction
/// (after the membership rows are written): the partials of the members `added` are merged
/// into the programme's cells, those of the members `removed` taken out (counts and sums
/// subtract exactly). A lowest or highest figure cannot be taken out: an SRF indicator
/// whose cell had its extreme held by a removed member is rebuilt from the remaining members
/// ([`rebuild_scope`]). The statements are bounded by the members changed (three reads per
/// [`MEMBERS_PER_PASS`]), the programme's cells (one read, one delete, a multi-row insert
/// per 800 cells) and those rebuilds, never by indicators × periods.
pub(crate) async fn programme_members_changed(
    tx: &mut Tx,
    programme: &str,
    added: &[String],
    removed: &[String],
) -> Result<(), StoreError> {
    if added.is_empty() && removed.is_empty() {
        return Ok(());
    }
    lock_scopes(tx, &[("programme", programme)]).await?;
    let plus = members_cells(tx, programme, added).await?;
    let minus = members_cells(tx, programme, removed).await?;
    let mut codes: Vec<String> = plus
        .fraction
        .keys()
        .chain(minus.fraction.keys())
        .cloned()
        .collect();
    codes.sort();
    codes.dedup();
    if codes.is_empty() {
        return Ok(());
    }
    // The programme's cells of those SRF indicators, as stored.
    let mut cells = Cells::default();
    for r in sqlx::query(
        "SELECT srf_indicator_code, region_code, time_window, disaggregation, fraction, leaves, \
         n_e4, d_e4, min_n_e4, min_d_e4, max_n_e4, max_d_e4, target_leaves, target_n_e4, \
         target_d_e4, baseline_leaves, baseline_n_e4, baseline_d_e4 FROM results_cells \
         WHERE scope_kind = 'programme' AND scope = $1",
    )
    .bind(programme)
    .fetch_all(&mut **tx)
    .await?
    {
        let code: String = r.try_get("srf_indicator_code")?;
        if codes.binary_search(&code).is_err() {
            continue;
        }
        *cells.fraction.entry(code.clone()).or_default() |= r.try_get::<i64, _>("fraction")? == 1;
        cells.cells.insert(
            (
                code,
                programme.to_owned(),
                r.try_get("region_code")?,
                r.try_get("time_window")?,
                r.try_get("disaggregation")?,
            ),
            Cell {
                actual: partial_from(&r, "", true)?,
                target: partial_from(&r, "target_", false)?,
                baseline: partial_from(&r, "baseline_", false)?,
            },
        );
    }
    // Take out, then add: an extreme taken out marks its SRF indicator for a rebuild.
    let mut rebuild: Vec<String> = Vec::new();
    for (key, gone) in &minus.cells {
        let kept = match cells.cells.get_mut(key) {
            Some(cell) => {
                let kept = cell.subtract(gone);
                if kept && cell.is_empty() {
                    cells.cells.remove(key);
                }
                kept
            }
            None => false,
        };
        if !kept {
            rebuild.push(key.0.clone());
        }
    }
    rebuild.sort();
    rebuild.dedup();
    cells.merge(plus);
    cells
        .cells
        .retain(|k, _| rebuild.binary_search(&k.0).is_err());
    let merged: Vec<&String> = codes
        .iter()
        .filter(|c| rebuild.binary_search(c).is_err())
        .collect();
    for chunk in merged.chunks(500) {
        let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let sql = format!(
            "DELETE FROM results_cells WHERE scope_kind = 'programme' AND scope = $1 \
             AND srf_indicator_code IN ({})",
            marks.join(", ")
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(programme);
        for c in chunk {
            q = q.bind(*c);
        }
        q.execute(&mut **tx).await?;
    }
    write_cells(tx, "programme", &cells).await?;
    for code in &rebuild {
        rebuild_scope(tx, code, Rebuild::Programme(programme)).await?;
    }
    Ok(())
}

/// The leaves (project indicators linked to an SRF indicator) of `members`, with their
/// approved values and their targets: three queries.
async fn load_leaves(
    tx: &mut Tx,
    srf_code: Option<&str>,
    members: &Members<'_>,
) -> Result<BTreeMap<String, Leaf>, StoreError> {
    let mut binds: Vec<&str> = Vec::new();
    let mut filter = match srf_code {
        Some(code) => {
            binds.push(code);
            "i.srf_indicator_code = $1".to_owned()
        }
        None => "i.srf_indicator_code IS NOT NULL".to_owned(),
    };
    let programme = match members {
        Members::Scope(Rebuild::Unit(unit)) => {
            binds.push(unit);
            filter.push_str(&format!(" AND p.unit_code = ${}", binds.len()));
            None
        }
        Members::Scope(Rebuild::AllUnits) => None,
        Members::Scope(Rebuild::Programme(id)) => {
            binds.push(id);
            filter.push_str(&format!(
                " AND p.id IN (SELECT project_id FROM programme_projects WHERE programme_id = ${})",
                binds.len()
            ));
            Some(*id)
        }
        Members::Projects { programme, ids } => {
            if ids.is_empty() {
                return Ok(BTreeMap::new());
            }
            let mut marks = Vec::new();
            for id in ids.iter() {
                binds.push(id);
                marks.push(format!("${}", binds.len()));
            }
            filter.push_str(&format!(" AND p.id IN ({})", marks.join(", ")));
            Some(*programme)
        }
        Members::Project(id) => {
            binds.push(id);
            filter.push_str(&format!(" AND p.id = ${}", binds.len()));
            None
        }
    };
    // The leaves: each indicator with its rules and its project's periods.
    let sql = format!(
        "SELECT i.id, i.srf_indicator_code, i.aggregation, i.measure, i.cumulative, i.baseline_e4, \
         i.baseline_num_e4, i.baseline_den_e4, i.categories, f.frequency, p.unit_code, p.region_code, \
         (SELECT MIN(period_end) FROM reporting_periods rp WHERE rp.project_id = p.id) AS first_end, \
         (SELECT MAX(period_end) FROM reporting_periods rp WHERE rp.project_id = p.id) AS last_end \
         FROM indicators i JOIN projects p ON p.id = i.project_id \
         JOIN results_frameworks f ON f.project_id = p.id WHERE {filter}"
    );
    let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
    for b in &binds {
        q = q.bind(*b);
    }
    let mut leaves: BTreeMap<String, Leaf> = BTreeMap::new();
    for r in q.fetch_all(&mut **tx).await? {
        let (Some(first), Some(last)) = (
            r.try_get::<Option<String>, _>("first_end")?,
            r.try_get::<Option<String>, _>("last_end")?,
        ) else {
            continue;
        };
        let rules = Rules {
            aggregation: corrupt::<AggregationType>(&r.try_get::<String, _>("aggregation")?)?,
            measure: corrupt::<Measure>(&r.try_get::<String, _>("measure")?)?,
            cumulative: r.try_get::<i64, _>("cumulative")? == 1,
        };
        let (scope, region) = match programme {
            Some(p) => (p.to_owned(), String::new()),
            None => (r.try_get("unit_code")?, r.try_get("region_code")?),
        };
        leaves.insert(
            r.try_get("id")?,
            Leaf {
                srf: r.try_get("srf_indicator_code")?,
                scope,
                region,
                rules,
                frequency: corrupt(&r.try_get::<String, _>("frequency")?)?,
                first: month_index(super::date(&first)?),
                last: month_index(super::date(&last)?),
                actual: Series::new(),
                target: Series::new(),
                baseline: figure_of(
                    r.try_get("baseline_e4")?,
                    r.try_get("baseline_num_e4")?,
                    r.try_get("baseline_den_e4")?,
                ),
                categories: super::json_column(&r, "categories")?,
            },
        );
    }
    if leaves.is_empty() {
        return Ok(leaves);
    }
    // Approved values and all targets of those leaves, one query each.
    for (table, approved_only) in [("indicator_values", true), ("indicator_targets", false)] {
        let approved = if approved_only {
            "JOIN indicator_reports r ON r.indicator_id = v.indicator_id \
             AND r.period_start = v.period_start AND r.status = 'approved'"
        } else {
            ""
        };
        let sql = format!(
            "SELECT v.indicator_id, rp.period_end, v.disaggregation, v.value_e4, v.num_e4, v.den_e4 \
             FROM {table} v JOIN indicators i ON i.id = v.indicator_id \
             JOIN projects p ON p.id = i.project_id {approved} \
             JOIN reporting_periods rp ON rp.project_id = i.project_id AND rp.period_start = v.period_start \
             WHERE {filter}"
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in &binds {
            q = q.bind(*b);
        }
        for r in q.fetch_all(&mut **tx).await? {
            let id: String = r.try_get("indicator_id")?;
            let Some(leaf) = leaves.get_mut(&id) else {
                continue;
            };
            let Some(f) = figure_of(
                r.try_get("value_e4")?,
                r.try_get("num_e4")?,
                r.try_get("den_e4")?,
            ) else {
                continue;
            };
            let end: String = r.try_get("period_end")?;
            let series = if approved_only {
                &mut leaf.actual
            } else {
                &mut leaf.target
            };
            series
                .entry(r.try_get("disaggregation")?)
                .or_default()
                .push((month_index(super::date(&end)?), f));
        }
    }
    for leaf in leaves.values_mut() {
        derive_series(&mut leaf.actual, &leaf.categories);
        derive_series(&mut leaf.target, &leaf.categories);
    }
    Ok(leaves)
}

/// Time step per leaf and window, then merged into the scopes' cells.
fn cells_of(leaves: &BTreeMap<String, Leaf>) -> Cells {
    let mut out = Cells::default();
    for leaf in leaves.values() {
        *out.fraction.entry(leaf.srf.clone()).or_default() |=
            leaf.rules.measure == Measure::Percentage;
        for w in windows(leaf.frequency, leaf.first, leaf.last) {
            for (series, pick) in [(&leaf.actual, 0u8), (&leaf.target, 1u8)] {
                for (key, rows) in series {
                    let mut acc: Accumulator<u8> = Accumulator::new(leaf.rules, w.months.clone());
                    for (month, f) in rows {
                        acc.push(&0, *month, *f).expect("one leaf");
                    }
                    if let Some(v) = acc.finish().overall {
                        let cell = out
                            .cells
                            .entry((
                                leaf.srf.clone(),
                                leaf.scope.clone(),
                                leaf.region.clone(),
                                w.name.clone(),
                                key.clone(),
                            ))
                            .or_default();
                        if pick == 0 {
                            cell.actual.add(rounded(v));
                        } else {
                            cell.target.add(rounded(v));
                        }
                    }
                }
            }
            if let Some(b) = leaf.baseline
                && w.name == "all"
            {
                out.cells
                    .entry((
                        leaf.srf.clone(),
                        leaf.scope.clone(),
                        leaf.region.clone(),
                        w.name.clone(),
                        String::new(),
                    ))
                    .or_default()
                    .baseline
                    .add(b);
            }
        }
    }
    out
}

/// Inserts cells (whose rows the caller deleted), many rows per statement.
async fn write_cells(tx: &mut Tx, stored_kind: &str, cells: &Cells) -> Result<(), StoreError> {
    let mut rows = Rows::new(
        "results_cells",
        &[
            "srf_indicator_code",
            "scope_kind",
            "scope",
            "region_code",
            "time_window",
            "disaggregation",
            "fraction",
            "leaves",
            "n_e4",
            "d_e4",
            "min_n_e4",
            "min_d_e4",
            "max_n_e4",
            "max_d_e4",
            "target_leaves",
            "target_n_e4",
            "target_d_e4",
            "baseline_leaves",
            "baseline_n_e4",
            "baseline_d_e4",
        ],
    );
    let ext = |f: Option<Fig>| -> Result<(Option<i64>, Option<i64>), StoreError> {
        Ok(match f {
            None => (None, None),
            Some(Fig::Number(n)) => (Some(e4_rounded(n)?), None),
            Some(Fig::Fraction {
                numerator,
                denominator,
            }) => (Some(e4_rounded(numerator)?), Some(e4_rounded(denominator)?)),
        })
    };
    for ((code, scope, region, window, key), cell) in &cells.cells {
        let (min_n, min_d) = ext(cell.actual.min)?;
        let (max_n, max_d) = ext(cell.actual.max)?;
        let fraction = cells.fraction.get(code).copied().unwrap_or(false);
        rows.push([
            V::T(code.clone()),
            V::T(stored_kind.to_owned()),
            V::T(scope.clone()),
            V::T(region.clone()),
            V::T(window.clone()),
            V::T(key.clone()),
            V::I(i64::from(crate::db::flag(fraction))),
            V::I(cell.actual.leaves),
            V::I(e4_rounded(cell.actual.n)?),
            V::I(e4_rounded(cell.actual.d)?),
            V::OI(min_n),
            V::OI(min_d),
            V::OI(max_n),
            V::OI(max_d),
            V::I(cell.target.leaves),
            V::I(e4_rounded(cell.target.n)?),
            V::I(e4_rounded(cell.target.d)?),
            V::I(cell.baseline.leaves),
            V::I(e4_rounded(cell.baseline.n)?),
            V::I(e4_rounded(cell.baseline.d)?),
        ]);
    }
    let backend = if tx.backend_name() == "PostgreSQL" {
        crate::Backend::Postgres
    } else {
        crate::Backend::Sqlite
    };
    rows.write(tx, backend).await
}

/// Recomputes the cells of one (scope, SRF indicator) from the leaves in that scope.
pub(crate) async fn rebuild_scope(
    tx: &mut Tx,
    srf_code: &str,
    scope: Rebuild<'_>,
) -> Result<(), StoreError> {
    let leaves = load_leaves(tx, Some(srf_code), &Members::Scope(scope)).await?;
    let cells = cells_of(&leaves);
    let (delete, kind, bound) = match scope {
        Rebuild::Unit(unit) => (
            "DELETE FROM results_cells WHERE scope_kind = 'unit' AND srf_indicator_code = $1 AND scope = $2",
            "unit",
            Some(unit),
        ),
        Rebuild::AllUnits => (
            "DELETE FROM results_cells WHERE scope_kind = 'unit' AND srf_indicator_code = $1",
            "unit",
            None,
        ),
        Rebuild::Programme(id) => (
            "DELETE FROM results_cells WHERE scope_kind = 'programme' AND srf_indicator_code = $1 AND scope = $2",
            "programme",
            Some(id),
        ),
    };
    let mut q = sqlx::query(delete).bind(srf_code);
    if let Some(b) = bound {
        q = q.bind(b);
    }
    q.execute(&mut **tx).await?;
    write_cells(tx, kind, &cells).await
}

/// Where a roll-up is read: the reader's whole scope, a region, a unit, or a programme.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case", tag = "kind", content = "code")]
pub enum RollupScope {
    Global,
    Region(String),
    Unit(String),
    Programme(String),
}

#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
pub struct RollupQuery {
    /// `all`, a year (`2026`) or a quarter (`2026-Q1`).
    #[serde(default = "all")]
    pub window: String,
    /// `''` for totals, `category=option`, or one option of several categories
    /// (`age_group=age_18_59;sex=female`, in any order): the projects whose indicators have
    /// exactly those categories, or more categories that are exhaustive (summed over).
    #[serde(default)]
    pub disaggregation: String,
}

fn all() -> String {
    "all".into()
}

/// One SRF indicator's aggregate in a scope and window.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct RollupRow {
    pub srf_indicator: String,
    pub title: String,
    pub node_code: String,
    #[schema(value_type = String)]
    pub measure: Measure,
    #[schema(value_type = String)]
    pub aggregation: AggregationType,
    #[schema(value_type = String)]
    pub direction: Direction,
    pub unit: String,
    pub window: String,
    pub disaggregation: String,
    /// Project indicators that reported an approved value.
    pub contributors: i64,
    pub actual: Option<Figure>,
    pub target: Option<Figure>,
    pub baseline: Option<Figure>,
    /// Percent of the way from baseline to target (right for descending indicators).
    pub achievement: Option<Decimal>,
}

pub(crate) fn view(f: Option<Fig>) -> Option<Figure> {
    f.map(|f| match f {
        Fig::Number(n) => Figure::number(n.round_dp(4)),
        Fig::Fraction {
            numerator,
            denominator,
        } => Figure::ratio(numerator.round_dp(4), denominator.round_dp(4)),
    })
}

fn partial_from(
    r: &sqlx::any::AnyRow,
    prefix: &str,
    with_extremes: bool,
) -> Result<Partial, StoreError> {
    let fraction = r.try_get::<i64, _>("fraction")? == 1;
    let leaves: i64 = r.try_get(format!("{prefix}leaves").as_str())?;
    let n: i64 = r.try_get(format!("{prefix}n_e4").as_str())?;
    let d: i64 = r.try_get(format!("{prefix}d_e4").as_str())?;
    let ext = |a: &str, b: &str| -> Result<Option<Fig>, StoreError> {
        let n: Option<i64> = r.try_get(a)?;
        let d: Option<i64> = r.try_get(b)?;
        Ok(match (n, d, fraction) {
            (Some(n), Some(d), true) => Some(Fig::Fraction {
                numerator: from_e4(n),
                denominator: from_e4(d),
            }),
            (Some(n), _, false) => Some(Fig::Number(from_e4(n))),
            _ => None,
        })
    };
    Ok(Partial {
        leaves,
        n: from_e4(n),
        d: from_e4(d),
        fraction,
        min: if with_extremes {
            ext("min_n_e4", "min_d_e4")?
        } else {
            None
        },
        max: if with_extremes {
            ext("max_n_e4", "max_d_e4")?
        } else {
            None
        },
    })
}

impl Store {
    /// The SRF indicators aggregated over a scope, one window and one disaggregation: the
    /// cells of the units (or the programme) in scope, merged. Two queries whatever the size
    /// of the portfolio.
    pub async fn results_rollup(
        &self,
        org: &Organization,
        actor: &Actor,
        scope: &RollupScope,
        query: &RollupQuery,
    ) -> Result<Vec<RollupRow>, StoreError> {
        let window = query.window.trim();
        let valid_window = window == "all"
            || (window.len() == 4 && window.bytes().all(|b| b.is_ascii_digit()))
            || (window.len() == 7
                && window[..4].bytes().all(|b| b.is_ascii_digit())
                && matches!(&window[4..], "-Q1" | "-Q2" | "-Q3" | "-Q4"));
        if !valid_window {
            return Err(StoreError::invalid(
                "window",
                format!(
                    "expected all, a year like 2026 or a quarter like 2026-Q1, found {window:?}"
                ),
            ));
        }
        let disaggregation = DisaggregationKey::parse(&query.disaggregation)
            .map_err(|e| StoreError::invalid("disaggregation", e))?
            .to_string();
        let reader = actor.scope(org);
        let mut sql = String::from(
            "SELECT srf_indicator_code, fraction, leaves, n_e4, d_e4, min_n_e4, min_d_e4, max_n_e4, \
             max_d_e4, target_leaves, target_n_e4, target_d_e4, baseline_leaves, baseline_n_e4, \
             baseline_d_e4 FROM results_cells WHERE scope_kind = $1 AND time_window = $2 AND disaggregation = $3",
        );
        let mut binds: Vec<String> = vec![
            if matches!(scope, RollupScope::Programme(_)) {
                "programme"
            } else {
                "unit"
            }
            .into(),
            window.to_owned(),
            disaggregation.clone(),
        ];
        let units_filter = |units: Vec<&UnitCode>, sql: &mut String, binds: &mut Vec<String>| {
            let mut marks = Vec::new();
            for u in units {
                binds.push(u.to_string());
                marks.push(format!("${}", binds.len()));
            }
            sql.push_str(&format!(" AND scope IN ({})", marks.join(", ")));
        };
        match scope {
            RollupScope::Programme(id) => {
                // The programme's id and unit only (one row), not its member list.
                let r =
                    sqlx::query("SELECT id, unit_code FROM programmes WHERE id = $1 OR code = $1")
                        .bind(id)
                        .fetch_optional(self.pool())
                        .await?
                        .ok_or_else(|| StoreError::not_found("programme", id))?;
                let unit: String = r.try_get("unit_code")?;
                authorize(
                    org,
                    actor,
                    Action::ViewProjects,
                    &crate::projects::unit_code(&unit)?,
                )?;
                binds.push(r.try_get("id")?);
                sql.push_str(&format!(" AND scope = ${}", binds.len()));
            }
            RollupScope::Global => match &reader {
                Scope::Global => {}
                Scope::Region(ro) => {
                    binds.push(ro.to_string());
                    sql.push_str(&format!(" AND region_code = ${}", binds.len()));
                }
                Scope::Unit(u) => units_filter(
                    org.units_in_scope(&Scope::Unit(u.clone())),
                    &mut sql,
                    &mut binds,
                ),
            },
            RollupScope::Region(code) | RollupScope::Unit(code) => {
                let code =
                    UnitCode::parse(code.trim()).map_err(|e| StoreError::invalid("unit", e))?;
                if org.unit(code.as_str()).is_none() {
                    return Err(StoreError::not_found("unit", code.to_string()));
                }
                authorize(org, actor, Action::ViewProjects, &code)?;
                let target = if matches!(scope, RollupScope::Region(_)) {
                    org.scope_of(&code)
                } else {
                    Scope::Unit(code)
                };
                units_filter(org.units_in_scope(&target), &mut sql, &mut binds);
            }
        }
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        for b in &binds {
            q = q.bind(b);
        }
        let mut merged: HashMap<String, Cell> = HashMap::new();
        for r in q.fetch_all(self.pool()).await? {
            let code: String = r.try_get("srf_indicator_code")?;
            let cell = merged.entry(code).or_default();
            cell.actual.merge(&partial_from(&r, "", true)?);
            cell.target.merge(&partial_from(&r, "target_", false)?);
            cell.baseline.merge(&partial_from(&r, "baseline_", false)?);
        }
        let indicators = self.srf_indicators().await?;
        let mut out = Vec::new();
        for ind in indicators {
            let cell = merged.remove(&ind.code).unwrap_or_default();
            let op = ind.aggregation.across_units();
            let actual = cell.actual.finish(op);
            let target = cell.target.finish(op);
            let baseline = cell.baseline.finish(op);
            let achievement = match (
                actual.and_then(|a| a.value()),
                target.and_then(|t| t.value()),
            ) {
                (Some(a), Some(t)) => meridian_domain::results::aggregate::achievement(
                    baseline.and_then(|b| b.value()),
                    t,
                    a,
                    ind.direction,
                )
                .map(|x| x.round_dp(1)),
                _ => None,
            };
            out.push(RollupRow {
                srf_indicator: ind.code,
                title: ind.title,
                node_code: ind.node_code,
                measure: ind.measure,
                aggregation: ind.aggregation,
                direction: ind.direction,
                unit: ind.unit,
                window: window.to_owned(),
                disaggregation: disaggregation.clone(),
                contributors: cell.actual.leaves,
                actual: view(actual),
                target: view(target),
                baseline: view(baseline),
                achievement,
            });
        }
        Ok(out)
    }
}
