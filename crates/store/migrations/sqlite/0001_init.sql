-- The first schema of an attain store (SQLite). PostgreSQL's twin is
-- migrations/postgres/0001_init.sql: same tables, same columns, same meaning.
-- Amounts are exact decimal text; dates are ISO `YYYY-MM-DD`; times RFC 3339.

-- Append-only: every import, plan version, run, approval, close and
-- adjustment, with who and when.
CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    recorded_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    source TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    effective TEXT,
    row_count INTEGER NOT NULL,
    added INTEGER NOT NULL,
    revised INTEGER NOT NULL,
    unchanged INTEGER NOT NULL,
    digest TEXT NOT NULL
);

-- A CSV header line; stored records are CSV lines under one of these.
CREATE TABLE layouts (
    id INTEGER PRIMARY KEY,
    header TEXT NOT NULL UNIQUE
);

-- Workspace files (attain.toml, plans/*.toml) as versioned documents.
-- `body` NULL: the file is removed from `effective` on.
CREATE TABLE plan_versions (
    id INTEGER PRIMARY KEY,
    path TEXT NOT NULL,
    version INTEGER NOT NULL,
    effective TEXT NOT NULL,
    body TEXT,
    digest TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    origin TEXT,
    UNIQUE (path, version)
);

CREATE TABLE participant_versions (
    id INTEGER PRIMARY KEY,
    participant_id TEXT NOT NULL,
    effective TEXT NOT NULL,
    layout INTEGER NOT NULL REFERENCES layouts (id),
    record TEXT NOT NULL,
    import_id INTEGER NOT NULL REFERENCES imports (id)
);
CREATE INDEX participant_versions_by_id
    ON participant_versions (participant_id, effective, import_id);

CREATE TABLE quota_values (
    participant_id TEXT NOT NULL,
    quota TEXT NOT NULL,
    period TEXT NOT NULL,
    amount TEXT NOT NULL,
    import_id INTEGER NOT NULL REFERENCES imports (id),
    PRIMARY KEY (participant_id, quota, period, import_id)
);

CREATE TABLE assignments (
    participant_id TEXT NOT NULL,
    plan TEXT NOT NULL,
    start_date TEXT,
    end_date TEXT,
    import_id INTEGER NOT NULL REFERENCES imports (id)
);
CREATE INDEX assignments_by_participant ON assignments (participant_id, import_id);

-- Every revision of every transaction; `is_current` marks the latest.
CREATE TABLE transactions (
    seq INTEGER PRIMARY KEY,
    deal_id TEXT NOT NULL,
    revision INTEGER NOT NULL,
    deal_date TEXT NOT NULL,
    layout INTEGER NOT NULL REFERENCES layouts (id),
    record TEXT NOT NULL,
    digest TEXT NOT NULL,
    cancelled INTEGER NOT NULL,
    is_current INTEGER NOT NULL,
    import_id INTEGER NOT NULL REFERENCES imports (id),
    reason TEXT
);
CREATE UNIQUE INDEX transactions_by_revision ON transactions (deal_id, revision);

CREATE TABLE runs (
    id INTEGER PRIMARY KEY,
    recorded_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    fiscal_year INTEGER NOT NULL,
    inputs_digest TEXT NOT NULL,
    plan_versions TEXT NOT NULL,
    through_import INTEGER NOT NULL,
    payouts INTEGER NOT NULL,
    total TEXT NOT NULL
);

-- A run's payouts (`kind` earning) and the prior-period adjustments it
-- found (`kind` adjustment: `period` is the closed period they correct,
-- `pay_period` the open one they are paid in). `trace` is the explanation,
-- as JSON.
CREATE TABLE results (
    run_id INTEGER NOT NULL REFERENCES runs (id),
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
    run_id INTEGER,
    approved_run INTEGER,
    closed_through_import INTEGER,
    closed_at TEXT
);
