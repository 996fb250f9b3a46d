-- IATI 2.03: what an activity has that the project model does not (yet). One row per project
-- that came from an IATI file, keyed to `projects`; the project's own columns (title, summary,
-- dates, status, office, budget lines, donors, transactions) hold what maps onto them.
-- Lists and structured values are JSON text (the formats crate's activity model).
CREATE TABLE iati_activities (
    project_id TEXT PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    identifier TEXT NOT NULL UNIQUE,
    lang TEXT,
    default_currency TEXT,
    humanitarian TEXT,
    hierarchy TEXT,
    last_updated TEXT,
    reporting_org TEXT NOT NULL,
    -- Narratives in every language.
    titles TEXT NOT NULL,
    descriptions TEXT NOT NULL,
    participating_orgs TEXT NOT NULL,
    activity_status TEXT,
    activity_dates TEXT NOT NULL,
    recipient_countries TEXT NOT NULL,
    recipient_regions TEXT NOT NULL,
    locations TEXT NOT NULL,
    sectors TEXT NOT NULL,
    -- The budgets whole (type, status, period, value date); the project's budget lines hold
    -- the amounts that count.
    budgets TEXT NOT NULL,
    -- Transactions of a type the project model has no kind for (e.g. 11 incoming commitment).
    other_transactions TEXT NOT NULL,
    document_links TEXT NOT NULL,
    -- Results with indicators, baselines and periods, as elements (until the results module).
    results TEXT NOT NULL,
    -- Element name → count of what the file had and Meridian does not keep.
    dropped TEXT NOT NULL,
    -- The project values the import derived (title, summary, dates, status, budget, donors),
    -- so that an export can tell Meridian's later edits from the file's values.
    derived TEXT NOT NULL,
    source_file TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    version BIGINT NOT NULL
);

-- The IATI side of a transaction imported into project_transactions (ref, humanitarian,
-- provider and receiver organisations, description narratives, sector, flow type, …).
CREATE TABLE iati_transactions (
    transaction_id TEXT PRIMARY KEY REFERENCES project_transactions (id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX iati_transactions_project ON iati_transactions (project_id, position);
