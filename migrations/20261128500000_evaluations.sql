-- Evaluations: the registry, recommendations with their management responses, and key actions.
-- Portable SQL for SQLite and PostgreSQL. Whether a key action is overdue or a response late is
-- derived from the dates when read, never stored.

CREATE TABLE evaluation_sequences (
    unit_code TEXT NOT NULL,
    year BIGINT NOT NULL,
    last_value BIGINT NOT NULL,
    PRIMARY KEY (unit_code, year)
);

CREATE TABLE evaluations (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    summary TEXT NOT NULL,
    eval_type TEXT NOT NULL,
    -- The commissioning unit: the evaluation's owner for scoping.
    unit_code TEXT NOT NULL,
    planned_start TEXT NOT NULL,
    planned_end TEXT NOT NULL,
    actual_start TEXT,
    actual_end TEXT,
    -- The budget, when known, in its currency and in USD at the rate of the day it was saved.
    currency TEXT,
    budget_e4 BIGINT,
    budget_usd_e4 BIGINT,
    -- OECD DAC criteria covered (JSON list of codes).
    criteria TEXT NOT NULL,
    independence TEXT NOT NULL,
    status TEXT NOT NULL,
    quality_rating TEXT,
    -- The report: bytes in the document storage (by SHA-256), what they are here.
    report_name TEXT,
    report_content_type TEXT,
    report_size_bytes BIGINT,
    report_sha256 TEXT,
    report_uploaded_by TEXT,
    report_uploaded_at TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX evaluations_unit ON evaluations (unit_code, planned_end);
CREATE INDEX evaluations_status ON evaluations (status, planned_end);

-- The projects an evaluation covers (optional).
CREATE TABLE evaluation_projects (
    evaluation_id TEXT NOT NULL REFERENCES evaluations (id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects (id),
    PRIMARY KEY (evaluation_id, project_id)
);
CREATE INDEX evaluation_projects_project ON evaluation_projects (project_id);

-- A recommendation and the management response to it (one per recommendation; its history is
-- in the audit trail).
CREATE TABLE evaluation_recommendations (
    id TEXT PRIMARY KEY,
    evaluation_id TEXT NOT NULL REFERENCES evaluations (id) ON DELETE CASCADE,
    number BIGINT NOT NULL,
    body TEXT NOT NULL,
    addressee_code TEXT NOT NULL,
    priority TEXT NOT NULL,
    response TEXT,
    response_text TEXT,
    responded_by TEXT,
    responded_at TEXT,
    -- When the first response was recorded: a late response stays late when edited.
    first_responded_at TEXT,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL,
    UNIQUE (evaluation_id, number)
);
CREATE INDEX evaluation_recommendations_addressee ON evaluation_recommendations (addressee_code, evaluation_id);

CREATE TABLE evaluation_actions (
    id TEXT PRIMARY KEY,
    evaluation_id TEXT NOT NULL REFERENCES evaluations (id) ON DELETE CASCADE,
    recommendation_id TEXT NOT NULL REFERENCES evaluation_recommendations (id) ON DELETE CASCADE,
    description TEXT NOT NULL,
    owner_code TEXT NOT NULL,
    owner_person TEXT NOT NULL,
    due_date TEXT NOT NULL,
    status TEXT NOT NULL,
    comments TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX evaluation_actions_recommendation ON evaluation_actions (recommendation_id, due_date);
CREATE INDEX evaluation_actions_owner ON evaluation_actions (owner_code, status, due_date);
CREATE INDEX evaluation_actions_evaluation ON evaluation_actions (evaluation_id);
