-- Projects (the PRIMA core). Money is stored exactly as BIGINT ten-thousandths of the currency
-- unit (`*_e4`), which sums exactly on both backends; each amount also carries its USD value at
-- the rate of the day it was recorded, for portfolio totals.

CREATE TABLE exchange_rates (
    currency TEXT NOT NULL,
    effective TEXT NOT NULL,
    usd_per_unit TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (currency, effective)
);

CREATE TABLE project_sequences (
    unit_code TEXT NOT NULL,
    year BIGINT NOT NULL,
    last_value BIGINT NOT NULL,
    PRIMARY KEY (unit_code, year)
);

CREATE TABLE projects (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    thematic_area TEXT NOT NULL,
    unit_code TEXT NOT NULL,
    region_code TEXT NOT NULL,
    primary_country TEXT NOT NULL,
    countries TEXT NOT NULL,
    admin_areas TEXT NOT NULL,
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    start_year BIGINT NOT NULL,
    currency TEXT NOT NULL,
    budget_e4 BIGINT NOT NULL,
    budget_usd_e4 BIGINT NOT NULL,
    donors TEXT NOT NULL,
    partners TEXT NOT NULL,
    restricted SMALLINT NOT NULL CHECK (restricted IN (0, 1)),
    status TEXT NOT NULL,
    drafted_by TEXT NOT NULL,
    submitted_by TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX projects_unit ON projects (unit_code, updated_at);
CREATE INDEX projects_region ON projects (region_code, status);
CREATE INDEX projects_status ON projects (status, updated_at);
CREATE INDEX projects_year ON projects (start_year);
CREATE INDEX projects_budget ON projects (budget_usd_e4);
CREATE INDEX projects_updated ON projects (updated_at);

CREATE TABLE project_budget_lines (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    position BIGINT NOT NULL,
    category TEXT NOT NULL,
    description TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_e4 BIGINT NOT NULL,
    amount_usd_e4 BIGINT NOT NULL
);
CREATE INDEX project_budget_lines_project ON project_budget_lines (project_id, position);

-- One row per (project, donor), for the donor filter and totals by donor.
CREATE TABLE project_donors (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    donor TEXT NOT NULL,
    PRIMARY KEY (project_id, donor)
);
CREATE INDEX project_donors_donor ON project_donors (donor);

CREATE TABLE project_status_changes (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    transition TEXT NOT NULL,
    from_status TEXT NOT NULL,
    to_status TEXT NOT NULL,
    actor_id TEXT,
    actor TEXT NOT NULL,
    at TEXT NOT NULL,
    comment TEXT NOT NULL,
    amount_usd_e4 BIGINT,
    -- The delegation chain a decision used (JSON), from the holder up to the root.
    delegation_chain TEXT
);
CREATE INDEX project_status_changes_project ON project_status_changes (project_id, at);

CREATE TABLE project_comments (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    section TEXT NOT NULL,
    reply_to TEXT REFERENCES project_comments (id),
    author_id TEXT,
    author TEXT NOT NULL,
    body TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX project_comments_project ON project_comments (project_id, at);

CREATE TABLE project_transactions (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    date TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_e4 BIGINT NOT NULL,
    amount_usd_e4 BIGINT NOT NULL,
    provider TEXT NOT NULL,
    receiver TEXT NOT NULL,
    description TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX project_transactions_project ON project_transactions (project_id, date);

CREATE TABLE project_revisions (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    status TEXT NOT NULL,
    justification TEXT NOT NULL,
    -- What the revision changes (JSON: budget lines, end date, scope text).
    proposed TEXT NOT NULL,
    -- The approved baseline it replaces, kept side by side once approved (JSON).
    baseline TEXT,
    drafted_by TEXT NOT NULL,
    submitted_by TEXT,
    decided_by TEXT,
    delegation_chain TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX project_revisions_project ON project_revisions (project_id, created_at);

CREATE TABLE delegations (
    id TEXT PRIMARY KEY,
    authority TEXT NOT NULL,
    delegatee_role TEXT,
    delegatee_unit TEXT,
    delegatee_user_id TEXT REFERENCES users (id),
    limit_currency TEXT NOT NULL,
    limit_e4 BIGINT NOT NULL,
    valid_from TEXT NOT NULL,
    valid_to TEXT,
    may_subdelegate SMALLINT NOT NULL CHECK (may_subdelegate IN (0, 1)),
    parent_id TEXT REFERENCES delegations (id),
    revoked SMALLINT NOT NULL CHECK (revoked IN (0, 1)),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX delegations_authority ON delegations (authority);
