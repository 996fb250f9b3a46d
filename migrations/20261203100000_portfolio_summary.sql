-- The portfolio's analytics read summary rows instead of every project (BENCHMARKS.md,
-- "Portfolio at scale": grouping 300,000 projects took 0.05 to 5.9 s).
--
-- `projects.spent_usd_e4` is the project's expenditure in US dollars (the sum of its
-- `expenditure` transactions), kept by triggers on `project_transactions`.
--
-- `portfolio_summary` holds, per kind of grouping and value, the number of projects, their
-- US-dollar budget and (for kind 'all') their expenditure, per owning unit, region, status and
-- restricted flag: the dimensions the analytics can be filtered by without reading projects.
--   kind 'all'      value ''            (by region, by status, the pipeline, the burn rate)
--   kind 'country'  the primary country
--   kind 'theme'    the thematic area
--   kind 'year'     the start year, as text
--   kind 'donor'    each donor (a project with two donors counts once for each)
-- The rows are kept by triggers on `projects`, `project_donors` and `project_transactions`
-- (installed by the store at every start, `crates/store/src/projects/summary.rs`, because their
-- syntax differs between SQLite and PostgreSQL), in the same transaction as every write, so
-- every write path keeps them: the store's functions, the demo's bulk loader, the IATI import.
-- A row may hold zero projects after projects move away; readers skip those.
ALTER TABLE projects ADD COLUMN spent_usd_e4 BIGINT NOT NULL DEFAULT 0;

UPDATE projects SET spent_usd_e4 = (
    SELECT COALESCE(SUM(t.amount_usd_e4), 0) FROM project_transactions t
    WHERE t.project_id = projects.id AND t.kind = 'expenditure'
);

CREATE TABLE portfolio_summary (
    kind TEXT NOT NULL,
    value TEXT NOT NULL,
    unit_code TEXT NOT NULL,
    region_code TEXT NOT NULL,
    status TEXT NOT NULL,
    restricted SMALLINT NOT NULL,
    projects BIGINT NOT NULL,
    budget_usd_e4 BIGINT NOT NULL,
    spent_usd_e4 BIGINT NOT NULL,
    PRIMARY KEY (kind, value, unit_code, region_code, status, restricted)
);
CREATE INDEX portfolio_summary_region ON portfolio_summary (kind, region_code);

INSERT INTO portfolio_summary
    (kind, value, unit_code, region_code, status, restricted, projects, budget_usd_e4, spent_usd_e4)
SELECT 'all', '', unit_code, region_code, status, restricted,
       COUNT(*), SUM(budget_usd_e4), SUM(spent_usd_e4)
FROM projects GROUP BY unit_code, region_code, status, restricted;

INSERT INTO portfolio_summary
    (kind, value, unit_code, region_code, status, restricted, projects, budget_usd_e4, spent_usd_e4)
SELECT 'country', primary_country, unit_code, region_code, status, restricted,
       COUNT(*), SUM(budget_usd_e4), 0
FROM projects GROUP BY primary_country, unit_code, region_code, status, restricted;

INSERT INTO portfolio_summary
    (kind, value, unit_code, region_code, status, restricted, projects, budget_usd_e4, spent_usd_e4)
SELECT 'theme', thematic_area, unit_code, region_code, status, restricted,
       COUNT(*), SUM(budget_usd_e4), 0
FROM projects GROUP BY thematic_area, unit_code, region_code, status, restricted;

INSERT INTO portfolio_summary
    (kind, value, unit_code, region_code, status, restricted, projects, budget_usd_e4, spent_usd_e4)
SELECT 'year', CAST(start_year AS TEXT), unit_code, region_code, status, restricted,
       COUNT(*), SUM(budget_usd_e4), 0
FROM projects GROUP BY start_year, unit_code, region_code, status, restricted;

INSERT INTO portfolio_summary
    (kind, value, unit_code, region_code, status, restricted, projects, budget_usd_e4, spent_usd_e4)
SELECT 'donor', d.donor, p.unit_code, p.region_code, p.status, p.restricted,
       COUNT(*), SUM(p.budget_usd_e4), 0
FROM project_donors d JOIN projects p ON p.id = d.project_id
GROUP BY d.donor, p.unit_code, p.region_code, p.status, p.restricted;
