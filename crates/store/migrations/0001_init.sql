-- The first schema of an attain store, one text for both backends: the
-- auto-assigned keys and the append-only trigger are placeholders that each
-- backend's `Driver::ddl` writes out. Every other integer is BIGINT; amounts
-- are exact decimal text, dates ISO `YYYY-MM-DD`, times RFC 3339.

-- Append-only: every import, plan version, run, approval, close and
-- adjustment, with who and when.
CREATE TABLE audit_log (
    seq {id},
    recorded_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL
);
{append_only audit_log};

CREATE TABLE imports (
    id {id},
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    effective TEXT,
    row_count BIGINT NOT NULL,
    added BIGINT NOT NULL,
    revised BIGINT NOT NULL,
    unchanged BIGINT NOT NULL,
    digest TEXT NOT NULL
);

-- A CSV header line; stored records are CSV lines under one of these.
CREATE TABLE layouts (
    id {id},
    header TEXT NOT NULL UNIQUE
);

-- Workspace files (attain.toml, plans/*.toml) as versioned documents.
-- `body` NULL: the file is removed from `effective` on.
CREATE TABLE plan_versions (
    id {id},
    path TEXT NOT NULL,
    version BIGINT NOT NULL,
    effective TEXT NOT NULL,
    body TEXT,
    digest TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    origin TEXT,
    UNIQUE (path, version)
);

CREATE TABLE participant_versions (
    id {id},
    participant_id TEXT NOT NULL,
    effective TEXT NOT NULL,
    layout BIGINT NOT NULL REFERENCES layouts (id),
    record TEXT NOT NULL,
    import_id BIGINT NOT NULL REFERENCES imports (id)
);
CREATE INDEX participant_versions_by_id
    ON participant_versions (participant_id, effective, import_id);

CREATE TABLE quota_values (
    participant_id TEXT NOT NULL,
    quota TEXT NOT NULL,
    period TEXT NOT NULL,
    amount TEXT NOT NULL,
    import_id BIGINT NOT NULL REFERENCES imports (id),
    PRIMARY KEY (participant_id, quota, period, import_id)
);

CREATE TABLE assignments (
    participant_id TEXT NOT NULL,
    plan TEXT NOT NULL,
    start_date TEXT,
    end_date TEXT,
    import_id BIGINT NOT NULL REFERENCES imports (id)
);
CREATE INDEX assignments_by_participant ON assignments (participant_id, import_id);

-- Every revision of every transaction; `is_current` marks the latest.
CREATE TABLE transactions (
    seq {id},
    deal_id TEXT NOT NULL,
    revision BIGINT NOT NULL,
    deal_date TEXT NOT NULL,
    layout BIGINT NOT NULL REFERENCES layouts (id),
    record TEXT NOT NULL,
    digest TEXT NOT NULL,
    cancelled BIGINT NOT NULL,
    is_current BIGINT NOT NULL,
    import_id BIGINT NOT NULL REFERENCES imports (id),
    reason TEXT
);
CREATE UNIQUE INDEX transactions_by_revision ON transactions (deal_id, revision);

CREATE TABLE runs (
    id {id},
    recorded_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    fiscal_year BIGINT NOT NULL,
    inputs_digest TEXT NOT NULL,
    plan_versions TEXT NOT NULL,
    through_import BIGINT NOT NULL,
    payouts BIGINT NOT NULL,
    total TEXT NOT NULL
);

-- A run's payouts (`kind` earning) and the prior-period adjustments it
-- found (`kind` adjustment: `period` is the closed period they correct,
-- `pay_period` the open one they are paid in). `trace` is the explanation,
-- as JSON.
CREATE TABLE results (
    run_id BIGINT NOT NULL REFERENCES runs (id),
    participant_id TEXT NOT NULL,
    period TEXT NOT NULL,
    component TEXT NOT NULL,
    kind TEXT NOT NULL,
    plan TEXT NOT NULL,
    pay_period TEXT NOT NULL,
    amount TEXT NOT NULL,
    trace TEXT NOT NULL,
    PRIMARY KEY (run_id, participant_id, period, component, kind)
);
CREATE INDEX results_by_pay_period ON results (run_id, pay_period);

-- Pay periods: open -> calculated -> approved -> closed.
CREATE TABLE periods (
    period TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    run_id BIGINT,
    approved_run BIGINT,
    closed_through_import BIGINT,
    closed_at TEXT
);
