-- The portfolio's keyed index: the donor filter and text search at scale (300,000 projects).
-- See BENCHMARKS.md, "Portfolio at scale", and `crates/store/src/projects/portfolio_keys.rs`.
--
-- One row per (project, term), where a term is
--   'd:' || donor      for each of the project's donors,
--   'w:' || word       for each distinct word of its title (lower-cased, split on anything
--                      that is not a letter or a digit, by the store: the same on both backends),
--   'c:' || code       for its code,
-- carrying the project's scope, sort and total columns. A donor filter or a text search is then
-- a range of one index that holds everything the page and its totals read, instead of one
-- lookup of the project per match.
--
-- Written only by the store, in the same transaction as the project (create, edit, every
-- status change, revision approval, the demo loader); tests check that it never drifts.
CREATE TABLE project_keys (
    term TEXT NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    region_code TEXT NOT NULL,
    unit_code TEXT NOT NULL,
    status TEXT NOT NULL,
    start_year BIGINT NOT NULL,
    restricted SMALLINT NOT NULL CHECK (restricted IN (0, 1)),
    budget_usd_e4 BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);
-- The page (in the default order, last updated) and the totals, from the index alone.
CREATE INDEX project_keys_list ON project_keys
    (term, updated_at, project_id, region_code, unit_code, status, start_year, restricted,
     budget_usd_e4);
-- A project's rows, for the store's rewrites.
CREATE INDEX project_keys_project ON project_keys (project_id);

-- Every title word ever indexed: a query word matches the title words that contain it, found
-- here (a few thousand rows) rather than in the titles. Words are never removed; a word no
-- project uses any more matches nothing.
CREATE TABLE project_words (
    word TEXT PRIMARY KEY
);

-- One-off data migrations the store runs in Rust after the SQL ones (here: filling
-- project_keys for the projects that exist, which needs the store's word splitting).
CREATE TABLE store_backfills (
    name TEXT PRIMARY KEY,
    done_at TEXT NOT NULL
);
