//! The portfolio summary (`portfolio_summary`, migrations `20261203100000_portfolio_summary`
//! and `20261203110000_portfolio_summary_regions`): per owning unit, region, status and
//! restricted flag, the number of projects, their US-dollar budget and expenditure, grouped by
//! region/status (`all`), primary country, theme, start year and donor; and the same per region
//! (`unit_code` '*'), which readers at headquarters and in regional offices sum. The analytics ([`Store::portfolio_totals`](crate::Store::portfolio_totals)) read
//! it when the query filters by nothing else than the reader's scope, a region, an office and a
//! status; other filters read the projects.
//!
//! The rows are kept by database triggers, so that every write path keeps them in its own
//! transaction: the store's functions, the demo's bulk loader and the IATI import alike, and a
//! write that fails half-way rolls them back with the rest. Trigger syntax differs between
//! SQLite and PostgreSQL, so the triggers are (re)installed by [`install`] at every start, after
//! the portable migrations, like the audit trail's append-only triggers.
//!
//! Which writes move what:
//! - a project inserted or deleted adds or removes its rows (its donors' rows through
//!   `project_donors`, whose rows are inserted after the project and deleted with it);
//! - a project whose unit, region, status, restriction, primary country, theme, start year or
//!   budget changes moves its rows (all of them, donors included) from the old key to the new;
//! - an expenditure transaction inserted, changed or deleted changes `projects.spent_usd_e4`,
//!   which adds the difference to the project's `all` row.
//!
//! On PostgreSQL, inserted projects and donors are counted once per statement (statement
//! triggers over the inserted rows, summed per summary row), not once per row: within one
//! transaction, each upsert of a summary row leaves a version of it that the next upsert of the
//! same row walks past, so an import of 12,500 projects took 27 s instead of 4.6 s.

use crate::StoreError;
use crate::db::Backend;

/// The four kinds of rows a project has besides its donors': kind and value.
const KINDS: [(&str, &str); 4] = [
    ("all", "''"),
    ("country", "{p}.primary_country"),
    ("theme", "{p}.thematic_area"),
    ("year", "CAST({p}.start_year AS TEXT)"),
];

const COLUMNS: &str = "kind, value, unit_code, region_code, status, restricted, projects, budget_usd_e4, spent_usd_e4";

/// The upsert that adds the incoming figures to a row, `s` being the table's alias on PostgreSQL.
fn on_conflict(backend: Backend) -> &'static str {
    match backend {
        Backend::Sqlite => {
            " ON CONFLICT (kind, value, unit_code, region_code, status, restricted) DO UPDATE SET \
             projects = projects + excluded.projects, \
             budget_usd_e4 = budget_usd_e4 + excluded.budget_usd_e4, \
             spent_usd_e4 = spent_usd_e4 + excluded.spent_usd_e4;"
        }
        Backend::Postgres => {
            " ON CONFLICT (kind, value, unit_code, region_code, status, restricted) DO UPDATE SET \
             projects = s.projects + EXCLUDED.projects, \
             budget_usd_e4 = s.budget_usd_e4 + EXCLUDED.budget_usd_e4, \
             spent_usd_e4 = s.spent_usd_e4 + EXCLUDED.spent_usd_e4;"
        }
    }
}

fn insert_into(backend: Backend) -> String {
    match backend {
        Backend::Sqlite => format!("INSERT INTO portfolio_summary ({COLUMNS})"),
        Backend::Postgres => format!("INSERT INTO portfolio_summary AS s ({COLUMNS})"),
    }
}

/// The two rows each figure is counted in: its unit's, and its region's (`unit_code` '*').
const LEVELS: [&str; 2] = ["{p}.unit_code", "'*'"];

/// Adds (`sign` `1`) or takes away (`-1`) project `p`'s rows of the kinds in [`KINDS`], at
/// both [`LEVELS`].
fn project_rows(backend: Backend, p: &str, sign: &str) -> String {
    let mut values = Vec::new();
    for unit in LEVELS {
        for (kind, value) in KINDS {
            let spent = if kind == "all" {
                format!("{sign} * {p}.spent_usd_e4")
            } else {
                "0".to_owned()
            };
            values.push(format!(
                "('{kind}', {}, {}, {p}.region_code, {p}.status, {p}.restricted, \
                 {sign}, {sign} * {p}.budget_usd_e4, {spent})",
                value.replace("{p}", p),
                unit.replace("{p}", p)
            ));
        }
    }
    format!(
        "{} VALUES {}{}",
        insert_into(backend),
        values.join(", "),
        on_conflict(backend)
    )
}

/// Adds the rows of the projects a statement inserted (PostgreSQL, the transition table
/// `inserted`): one upsert per statement, the figures summed per row of the summary. One upsert
/// per project, as the SQLite trigger does, made each of an import's statements slower than the
/// one before: every upsert of a row adds a version of it that the next one walks past until
/// the transaction ends (BENCHMARKS.md, IATI import, "Import into PostgreSQL").
fn inserted_project_rows() -> String {
    let mut rows = Vec::new();
    for unit in LEVELS {
        for (kind, value) in KINDS {
            let spent = if kind == "all" { "n.spent_usd_e4" } else { "0" };
            rows.push(format!(
                "SELECT '{kind}' AS kind, {} AS value, {} AS unit_code, n.region_code, \
                 n.status, n.restricted, n.budget_usd_e4, {spent} AS spent_usd_e4 \
                 FROM inserted n",
                value.replace("{p}", "n"),
                unit.replace("{p}", "n")
            ));
        }
    }
    summed(&rows)
}

/// Adds the donor rows of the `project_donors` rows a statement inserted (PostgreSQL), read
/// with their projects; as [`inserted_project_rows`].
fn inserted_donor_rows() -> String {
    let rows: Vec<String> = LEVELS
        .iter()
        .map(|unit| {
            format!(
                "SELECT 'donor' AS kind, d.donor AS value, {} AS unit_code, p.region_code, \
                 p.status, p.restricted, p.budget_usd_e4, 0 AS spent_usd_e4 \
                 FROM inserted d JOIN projects p ON p.id = d.project_id",
                unit.replace("{p}", "p")
            )
        })
        .collect();
    summed(&rows)
}

/// One upsert of `rows` (each a project's figures under a key), summed per key.
fn summed(rows: &[String]) -> String {
    format!(
        "{} SELECT kind, value, unit_code, region_code, status, restricted, COUNT(*), \
         SUM(budget_usd_e4), SUM(spent_usd_e4) FROM ({}) r \
         GROUP BY kind, value, unit_code, region_code, status, restricted{}",
        insert_into(Backend::Postgres),
        rows.join(" UNION ALL "),
        on_conflict(Backend::Postgres)
    )
}

/// Adds or takes away the donor rows of project `p` (one per row of `project_donors`), at both
/// [`LEVELS`].
fn donor_rows(backend: Backend, p: &str, sign: &str) -> String {
    LEVELS
        .iter()
        .map(|unit| {
            format!(
                "{} SELECT 'donor', d.donor, {}, {p}.region_code, {p}.status, {p}.restricted, \
                 {sign}, {sign} * {p}.budget_usd_e4, 0 FROM project_donors d \
                 WHERE d.project_id = {p}.id{}",
                insert_into(backend),
                unit.replace("{p}", p),
                on_conflict(backend)
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Adds or takes away one donor row, at both [`LEVELS`]: `d` the `project_donors` row, read
/// with its project.
fn one_donor_row(backend: Backend, d: &str, sign: &str) -> String {
    LEVELS
        .iter()
        .map(|unit| {
            format!(
                "{} SELECT 'donor', {d}.donor, {}, p.region_code, p.status, p.restricted, \
                 {sign}, {sign} * p.budget_usd_e4, 0 FROM projects p WHERE p.id = {d}.project_id{}",
                insert_into(backend),
                unit.replace("{p}", "p"),
                on_conflict(backend)
            )
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The columns whose change moves a project's rows.
const MOVING: [&str; 8] = [
    "unit_code",
    "region_code",
    "status",
    "restricted",
    "primary_country",
    "thematic_area",
    "start_year",
    "budget_usd_e4",
];

fn moved(distinct: &str) -> String {
    MOVING
        .iter()
        .map(|c| format!("OLD.{c} {distinct} NEW.{c}"))
        .collect::<Vec<_>>()
        .join(" OR ")
}

fn spent_delta(backend: Backend) -> String {
    format!(
        "{} VALUES ('all', '', NEW.unit_code, NEW.region_code, NEW.status, NEW.restricted, 0, 0, \
         NEW.spent_usd_e4 - OLD.spent_usd_e4), ('all', '', '*', NEW.region_code, NEW.status, \
         NEW.restricted, 0, 0, NEW.spent_usd_e4 - OLD.spent_usd_e4){}",
        insert_into(backend),
        on_conflict(backend)
    )
}

fn sqlite() -> String {
    let b = Backend::Sqlite;
    let moved = moved("IS NOT");
    let spent = |t: &str, sign: &str| {
        format!(
            "UPDATE projects SET spent_usd_e4 = spent_usd_e4 {sign} {t}.amount_usd_e4 \
             WHERE id = {t}.project_id;"
        )
    };
    [
        format!(
            "CREATE TRIGGER portfolio_summary_project_insert AFTER INSERT ON projects BEGIN {} END;",
            project_rows(b, "NEW", "1")
        ),
        format!(
            "CREATE TRIGGER portfolio_summary_project_delete BEFORE DELETE ON projects BEGIN \
             DELETE FROM project_donors WHERE project_id = OLD.id; {} END;",
            project_rows(b, "OLD", "-1")
        ),
        format!(
            "CREATE TRIGGER portfolio_summary_project_move AFTER UPDATE ON projects \
             WHEN {moved} BEGIN {} {} {} {} END;",
            project_rows(b, "OLD", "-1"),
            donor_rows(b, "OLD", "-1"),
            project_rows(b, "NEW", "1"),
            donor_rows(b, "NEW", "1"),
        ),
        format!(
            "CREATE TRIGGER portfolio_summary_project_spent AFTER UPDATE OF spent_usd_e4 ON projects \
             WHEN NOT ({moved}) AND OLD.spent_usd_e4 IS NOT NEW.spent_usd_e4 BEGIN {} END;",
            spent_delta(b)
        ),
        format!(
            "CREATE TRIGGER portfolio_summary_donor_insert AFTER INSERT ON project_donors BEGIN {} END;",
            one_donor_row(b, "NEW", "1")
        ),
        format!(
            "CREATE TRIGGER portfolio_summary_donor_delete AFTER DELETE ON project_donors BEGIN {} END;",
            one_donor_row(b, "OLD", "-1")
        ),
        format!(
            "CREATE TRIGGER portfolio_summary_donor_update AFTER UPDATE ON project_donors BEGIN {} {} END;",
            one_donor_row(b, "OLD", "-1"),
            one_donor_row(b, "NEW", "1")
        ),
        format!(
            "CREATE TRIGGER portfolio_summary_spent_insert AFTER INSERT ON project_transactions \
             WHEN NEW.kind = 'expenditure' BEGIN {} END;",
            spent("NEW", "+")
        ),
        format!(
            "CREATE TRIGGER portfolio_summary_spent_delete AFTER DELETE ON project_transactions \
             WHEN OLD.kind = 'expenditure' BEGIN {} END;",
            spent("OLD", "-")
        ),
        "CREATE TRIGGER portfolio_summary_spent_update AFTER UPDATE ON project_transactions \
             WHEN OLD.kind = 'expenditure' OR NEW.kind = 'expenditure' BEGIN \
             UPDATE projects SET spent_usd_e4 = spent_usd_e4 - \
             CASE WHEN OLD.kind = 'expenditure' THEN OLD.amount_usd_e4 ELSE 0 END \
             WHERE id = OLD.project_id; \
             UPDATE projects SET spent_usd_e4 = spent_usd_e4 + \
             CASE WHEN NEW.kind = 'expenditure' THEN NEW.amount_usd_e4 ELSE 0 END \
             WHERE id = NEW.project_id; END;"
            .to_owned(),
    ]
    .iter()
    .map(|create| {
        let name = create
            .split_whitespace()
            .nth(2)
            .expect("CREATE TRIGGER name");
        format!("DROP TRIGGER IF EXISTS {name}; {create}")
    })
    .collect::<Vec<_>>()
    .join("\n")
}

fn postgres() -> String {
    let b = Backend::Postgres;
    let moved = moved("IS DISTINCT FROM");
    let old_out = format!(
        "{} {}",
        project_rows(b, "OLD", "-1"),
        donor_rows(b, "OLD", "-1")
    );
    let new_in = format!(
        "{} {}",
        project_rows(b, "NEW", "1"),
        donor_rows(b, "NEW", "1")
    );
    format!(
        "CREATE OR REPLACE FUNCTION meridian_portfolio_summary_projects() RETURNS trigger \
         LANGUAGE plpgsql AS $$ BEGIN \
           IF TG_OP = 'DELETE' THEN \
             DELETE FROM project_donors WHERE project_id = OLD.id; {delete} RETURN OLD; \
           ELSIF {moved} THEN \
             IF ROW(OLD.unit_code, OLD.region_code, OLD.status, OLD.restricted) \
                <= ROW(NEW.unit_code, NEW.region_code, NEW.status, NEW.restricted) THEN \
               {old_out} {new_in} \
             ELSE {new_in} {old_out} END IF; \
           ELSIF OLD.spent_usd_e4 IS DISTINCT FROM NEW.spent_usd_e4 THEN {spent} \
           END IF; \
           RETURN NULL; \
         END $$; \
         CREATE OR REPLACE TRIGGER portfolio_summary_project_write AFTER UPDATE ON projects \
           FOR EACH ROW EXECUTE FUNCTION meridian_portfolio_summary_projects(); \
         CREATE OR REPLACE FUNCTION meridian_portfolio_summary_projects_inserted() \
         RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {insert} RETURN NULL; END $$; \
         CREATE OR REPLACE TRIGGER portfolio_summary_project_insert AFTER INSERT ON projects \
           REFERENCING NEW TABLE AS inserted \
           FOR EACH STATEMENT EXECUTE FUNCTION meridian_portfolio_summary_projects_inserted(); \
         CREATE OR REPLACE TRIGGER portfolio_summary_project_delete BEFORE DELETE ON projects \
           FOR EACH ROW EXECUTE FUNCTION meridian_portfolio_summary_projects(); \
         CREATE OR REPLACE FUNCTION meridian_portfolio_summary_donors() RETURNS trigger \
         LANGUAGE plpgsql AS $$ BEGIN \
           {donor_out} \
           IF TG_OP = 'UPDATE' THEN {donor_in} END IF; \
           RETURN NULL; \
         END $$; \
         CREATE OR REPLACE TRIGGER portfolio_summary_donors AFTER UPDATE OR DELETE \
           ON project_donors FOR EACH ROW EXECUTE FUNCTION meridian_portfolio_summary_donors(); \
         CREATE OR REPLACE FUNCTION meridian_portfolio_summary_donors_inserted() \
         RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {donors_inserted} RETURN NULL; END $$; \
         CREATE OR REPLACE TRIGGER portfolio_summary_donors_insert AFTER INSERT ON project_donors \
           REFERENCING NEW TABLE AS inserted \
           FOR EACH STATEMENT EXECUTE FUNCTION meridian_portfolio_summary_donors_inserted(); \
         CREATE OR REPLACE FUNCTION meridian_portfolio_summary_spent() RETURNS trigger \
         LANGUAGE plpgsql AS $$ BEGIN \
           IF TG_OP IN ('DELETE', 'UPDATE') AND OLD.kind = 'expenditure' THEN \
             UPDATE projects SET spent_usd_e4 = spent_usd_e4 - OLD.amount_usd_e4 \
             WHERE id = OLD.project_id; \
           END IF; \
           IF TG_OP IN ('INSERT', 'UPDATE') AND NEW.kind = 'expenditure' THEN \
             UPDATE projects SET spent_usd_e4 = spent_usd_e4 + NEW.amount_usd_e4 \
             WHERE id = NEW.project_id; \
           END IF; \
           RETURN NULL; \
         END $$; \
         CREATE OR REPLACE TRIGGER portfolio_summary_spent AFTER INSERT OR UPDATE OR DELETE \
           ON project_transactions FOR EACH ROW EXECUTE FUNCTION meridian_portfolio_summary_spent();",
        insert = inserted_project_rows(),
        donors_inserted = inserted_donor_rows(),
        delete = project_rows(b, "OLD", "-1"),
        spent = spent_delta(b),
        donor_out = one_donor_row(b, "OLD", "-1"),
        donor_in = one_donor_row(b, "NEW", "1"),
    )
}

/// (Re)installs the triggers that keep `portfolio_summary`; idempotent.
pub(crate) async fn install(pool: &sqlx::AnyPool, backend: Backend) -> Result<(), StoreError> {
    let sql = match backend {
        Backend::Sqlite => sqlite(),
        Backend::Postgres => postgres(),
    };
    sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
        .execute(pool)
        .await?;
    Ok(())
}
