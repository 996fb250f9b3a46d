-- The portfolio summary's rows for whole regions: `unit_code` '*' holds, per region, what the
-- rows of its units hold, so that a reader at headquarters or in a regional office (and a
-- region filter) sums a few thousand rows instead of the rows of every unit (150,000 at
-- 300,000 projects, most of them by donor and theme). A reader scoped to an office, or a query
-- filtered by office, still reads the unit rows. The triggers (`summary.rs`) keep both.
INSERT INTO portfolio_summary
    (kind, value, unit_code, region_code, status, restricted, projects, budget_usd_e4, spent_usd_e4)
SELECT kind, value, '*', region_code, status, restricted,
       SUM(projects), SUM(budget_usd_e4), SUM(spent_usd_e4)
FROM portfolio_summary WHERE unit_code <> '*'
GROUP BY kind, value, region_code, status, restricted;
