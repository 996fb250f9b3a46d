-- Meridian foundation schema. Portable SQL: the same file runs on SQLite and PostgreSQL.
-- Conventions: ids are UUID v7 as TEXT; timestamps are UTC RFC 3339 TEXT with microseconds
-- (sortable as text); flags are SMALLINT 0/1; lists are JSON TEXT; every editable record
-- carries `version` for optimistic concurrency.

CREATE TABLE org_meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE org_units (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    parent_id TEXT REFERENCES org_units (id),
    location TEXT NOT NULL,
    summary TEXT NOT NULL,
    functions TEXT NOT NULL,
    referenced SMALLINT NOT NULL CHECK (referenced IN (0, 1)),
    country_iso3 TEXT,
    -- 0 once the unit is no longer in the organization file: kept so references stay valid.
    active SMALLINT NOT NULL CHECK (active IN (0, 1)),
    position BIGINT NOT NULL,
    version BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX org_units_parent ON org_units (parent_id);

CREATE TABLE countries (
    iso3 TEXT PRIMARY KEY,
    iso2 TEXT NOT NULL,
    m49 BIGINT,
    name_en TEXT NOT NULL,
    name_fr TEXT NOT NULL,
    name_es TEXT NOT NULL,
    region TEXT NOT NULL,
    subregion TEXT NOT NULL,
    un_member SMALLINT NOT NULL CHECK (un_member IN (0, 1)),
    regional_office_id TEXT REFERENCES org_units (id)
);

CREATE TABLE org_processes (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    summary TEXT NOT NULL,
    position BIGINT NOT NULL
);

CREATE TABLE org_process_support (
    process_code TEXT NOT NULL REFERENCES org_processes (code) ON DELETE CASCADE,
    unit_id TEXT NOT NULL REFERENCES org_units (id),
    role TEXT NOT NULL,
    position BIGINT NOT NULL,
    PRIMARY KEY (process_code, unit_id, role)
);

CREATE TABLE org_coalitions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    unit_id TEXT NOT NULL REFERENCES org_units (id),
    role TEXT NOT NULL,
    partners TEXT NOT NULL,
    position BIGINT NOT NULL
);

CREATE TABLE org_data_hubs (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    unit_id TEXT NOT NULL REFERENCES org_units (id),
    summary TEXT NOT NULL,
    position BIGINT NOT NULL
);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    unit_id TEXT NOT NULL REFERENCES org_units (id),
    password_hash TEXT NOT NULL,
    must_change_password SMALLINT NOT NULL CHECK (must_change_password IN (0, 1)),
    disabled SMALLINT NOT NULL CHECK (disabled IN (0, 1)),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX users_unit ON users (unit_id);

CREATE TABLE user_roles (
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    PRIMARY KEY (user_id, role)
);

CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
);

CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed sign-ins per key (email, and client address) in the current window.
CREATE TABLE login_failures (
    key TEXT PRIMARY KEY,
    window_start TEXT NOT NULL,
    failures BIGINT NOT NULL
);

-- Append-only: the store never updates or deletes a row here.
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    actor_id TEXT,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    unit_code TEXT,
    before_json TEXT,
    after_json TEXT
);
CREATE INDEX audit_events_record ON audit_events (entity, entity_id, at);
CREATE INDEX audit_events_at ON audit_events (at);
CREATE INDEX audit_events_unit ON audit_events (unit_code, at);
