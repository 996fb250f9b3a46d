-- Results-based management: the Strategic Results Framework, programmes, project results
-- matrices, reporting periods, indicator values with their review workflow, and the roll-up
-- cells that make country → region → global aggregation a read of a few hundred rows.
--
-- Numbers are BIGINT ten-thousandths (`*_e4`) like money: exact on both backends. A percentage
-- indicator keeps numerator and denominator (`num_e4`, `den_e4`); the ratio is never stored.

CREATE TABLE srf_nodes (
    code TEXT PRIMARY KEY,
    parent_code TEXT,
    level TEXT NOT NULL,
    title TEXT NOT NULL,
    position BIGINT NOT NULL,
    version BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE srf_indicators (
    code TEXT PRIMARY KEY,
    node_code TEXT NOT NULL REFERENCES srf_nodes (code),
    title TEXT NOT NULL,
    measure TEXT NOT NULL,
    aggregation TEXT NOT NULL,
    direction TEXT NOT NULL,
    unit TEXT NOT NULL,
    position BIGINT NOT NULL,
    version BIGINT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE programmes (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    unit_code TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE programme_projects (
    programme_id TEXT NOT NULL REFERENCES programmes (id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    PRIMARY KEY (programme_id, project_id)
);
CREATE INDEX programme_projects_project ON programme_projects (project_id);

-- One row per project that has a results matrix: how often it reports.
CREATE TABLE results_frameworks (
    project_id TEXT PRIMARY KEY REFERENCES projects (id) ON DELETE CASCADE,
    frequency TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL
);

CREATE TABLE results (
    id TEXT PRIMARY KEY,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    level TEXT NOT NULL,
    title TEXT NOT NULL,
    position BIGINT NOT NULL,
    srf_codes TEXT NOT NULL,
    gcm_objectives TEXT NOT NULL,
    sdg_targets TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX results_project ON results (project_id, position);

CREATE TABLE indicators (
    id TEXT PRIMARY KEY,
    result_id TEXT NOT NULL REFERENCES results (id) ON DELETE CASCADE,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    measure TEXT NOT NULL,
    direction TEXT NOT NULL,
    aggregation TEXT NOT NULL,
    cumulative SMALLINT NOT NULL CHECK (cumulative IN (0, 1)),
    unit TEXT NOT NULL,
    categories TEXT NOT NULL,
    baseline_year BIGINT,
    baseline_e4 BIGINT,
    baseline_num_e4 BIGINT,
    baseline_den_e4 BIGINT,
    baseline_text TEXT,
    target_e4 BIGINT,
    target_num_e4 BIGINT,
    target_den_e4 BIGINT,
    srf_indicator_code TEXT,
    means_of_verification TEXT NOT NULL,
    position BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX indicators_project ON indicators (project_id, position);
CREATE INDEX indicators_srf ON indicators (srf_indicator_code, project_id);

-- Targets per period; `disaggregation` is '' for the total, else `category=option`.
CREATE TABLE indicator_targets (
    indicator_id TEXT NOT NULL REFERENCES indicators (id) ON DELETE CASCADE,
    period_start TEXT NOT NULL,
    disaggregation TEXT NOT NULL,
    value_e4 BIGINT,
    num_e4 BIGINT,
    den_e4 BIGINT,
    PRIMARY KEY (indicator_id, period_start, disaggregation)
);

CREATE TABLE reporting_periods (
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    label TEXT NOT NULL,
    locked SMALLINT NOT NULL CHECK (locked IN (0, 1)),
    locked_by TEXT,
    locked_at TEXT,
    PRIMARY KEY (project_id, period_start)
);
CREATE INDEX reporting_periods_start ON reporting_periods (period_start, project_id);

-- The report of one indicator for one period: its workflow state. The numbers are in
-- `indicator_values`, one row for the total and one per disaggregation option.
CREATE TABLE indicator_reports (
    indicator_id TEXT NOT NULL REFERENCES indicators (id) ON DELETE CASCADE,
    period_start TEXT NOT NULL,
    project_id TEXT NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    status TEXT NOT NULL,
    narrative TEXT NOT NULL,
    entered_by TEXT NOT NULL,
    submitted_by TEXT,
    submitted_at TEXT,
    reviewed_by TEXT,
    reviewed_at TEXT,
    review_note TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (indicator_id, period_start)
);
CREATE INDEX indicator_reports_project ON indicator_reports (project_id, period_start, status);

CREATE TABLE indicator_values (
    indicator_id TEXT NOT NULL REFERENCES indicators (id) ON DELETE CASCADE,
    period_start TEXT NOT NULL,
    disaggregation TEXT NOT NULL,
    value_e4 BIGINT,
    num_e4 BIGINT,
    den_e4 BIGINT,
    text_value TEXT,
    PRIMARY KEY (indicator_id, period_start, disaggregation)
);

-- Roll-up cells: the mergeable statistics of the approved values of the indicators that
-- contribute to one SRF indicator, per scope (`scope_kind` 'unit' with the unit code, or
-- 'programme' with the programme id), window (`all`, a year `2026`, a quarter `2026-Q1`) and disaggregation. Regions
-- and the globe merge the unit cells at read time. Rebuilt in the same transaction as every
-- approval, unlock or framework change that moves them.
CREATE TABLE results_cells (
    srf_indicator_code TEXT NOT NULL,
    scope_kind TEXT NOT NULL,
    scope TEXT NOT NULL,
    region_code TEXT NOT NULL,
    time_window TEXT NOT NULL,
    disaggregation TEXT NOT NULL,
    fraction SMALLINT NOT NULL CHECK (fraction IN (0, 1)),
    -- Leaves (project indicators) with a value in the window, the sum of their values (or of
    -- their numerators, `n`, and denominators, `d`), and the lowest and highest of them.
    leaves BIGINT NOT NULL,
    n_e4 BIGINT NOT NULL,
    d_e4 BIGINT NOT NULL,
    min_n_e4 BIGINT,
    min_d_e4 BIGINT,
    max_n_e4 BIGINT,
    max_d_e4 BIGINT,
    -- The same for targets and baselines, so that achievement can be worked out at any level.
    target_leaves BIGINT NOT NULL,
    target_n_e4 BIGINT NOT NULL,
    target_d_e4 BIGINT NOT NULL,
    baseline_leaves BIGINT NOT NULL,
    baseline_n_e4 BIGINT NOT NULL,
    baseline_d_e4 BIGINT NOT NULL,
    PRIMARY KEY (scope_kind, scope, srf_indicator_code, time_window, disaggregation)
);
CREATE INDEX results_cells_window ON results_cells (scope_kind, time_window, disaggregation, srf_indicator_code, region_code);
