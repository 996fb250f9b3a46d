-- The portfolio at scale (300,000 projects): indexes from which both backends answer the
-- portfolio's page and its totals without reading the table (SQLite covering indexes,
-- PostgreSQL index-only scans). See BENCHMARKS.md, "Portfolio at scale".

-- The page. The portfolio finds a page's ids first, in an index that holds the sort key, the
-- id (the tie-breaker) and the columns most filters use, then reads only that page's rows; so
-- page 500 skips 24,950 index entries, not table rows. The default order (last updated) and
-- the budget order are indexed for everyone; a regional office's scope in both orders too.
CREATE INDEX projects_page_updated ON projects
    (updated_at, id, region_code, unit_code, status, start_year, restricted, budget_usd_e4);
CREATE INDEX projects_page_budget ON projects
    (budget_usd_e4, id, region_code, unit_code, status, start_year, restricted);
CREATE INDEX projects_page_region_updated ON projects (region_code, updated_at, id);
CREATE INDEX projects_page_region_budget ON projects (region_code, budget_usd_e4, id, restricted);
-- A country office's projects (its scope, and the office filter), with what the totals sum.
CREATE INDEX projects_page_unit ON projects
    (unit_code, updated_at, id, status, start_year, restricted, budget_usd_e4);

-- The totals: COUNT and SUM of the budget for any combination of filters on the project's own
-- columns, region first (a regional office's scope); with the sort keys and the id, it also
-- finds the page for such filters.
CREATE INDEX projects_totals ON projects
    (region_code, status, start_year, thematic_area, unit_code, primary_country, restricted,
     budget_usd_e4, updated_at, id);

-- The same from headquarters, who filter by status and year without a region.
CREATE INDEX projects_status_totals ON projects
    (status, start_year, restricted, budget_usd_e4, updated_at, id);

-- The donor filter: a donor's projects from the index alone, then each project's budget and
-- scope from an index keyed by id.
CREATE INDEX project_donors_donor_project ON project_donors (donor, project_id);
CREATE INDEX projects_by_id ON projects
    (id, region_code, unit_code, status, start_year, restricted, budget_usd_e4, updated_at);

-- Text search scans titles (a substring can use no B-tree): a narrow index of the titles, by
-- region, with what the totals need, is read instead of the table.
CREATE INDEX projects_titles ON projects
    (region_code, title, code, unit_code, status, start_year, restricted, budget_usd_e4,
     updated_at, id);

-- The analytics' burn rate: expenditure by project from the index alone.
CREATE INDEX project_transactions_kind ON project_transactions (kind, project_id, amount_usd_e4);

-- Superseded by the indexes above, which begin with the same columns.
DROP INDEX projects_budget;
DROP INDEX projects_updated;
DROP INDEX projects_region;
DROP INDEX projects_unit;
DROP INDEX project_donors_donor;

-- Statistics for the planners (both backends accept these; SQLite's ANALYZE is what tells it to
-- prefer these indexes at all).
ANALYZE projects;
ANALYZE project_donors;
ANALYZE project_transactions;
