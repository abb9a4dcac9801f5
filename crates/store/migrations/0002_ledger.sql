-- The ledger's own facts: draws, manual adjustments, holdback releases.
-- Earnings come from runs; the ledger computes payments from both.

-- Draws per participant: `amount` per pay period from `start_period` to
-- `end_period` (inclusive; NULL: open-ended). An import replaces the draws
-- of each participant it names (the latest import wins).
CREATE TABLE draws (
    participant_id TEXT NOT NULL,
    amount TEXT NOT NULL,
    start_period TEXT NOT NULL,
    end_period TEXT,
    recoverable BIGINT NOT NULL,
    import_id BIGINT NOT NULL REFERENCES imports (id)
);

CREATE TABLE manual_adjustments (
    id {id},
    participant_id TEXT NOT NULL,
    pay_period TEXT NOT NULL,
    amount TEXT NOT NULL,
    reason TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    actor TEXT NOT NULL
);

-- Holdbacks released by hand (`until = "manual"`), e.g. once an invoice is
-- paid: everything withheld up to `pay_period` is paid in it.
CREATE TABLE holdback_releases (
    id {id},
    participant_id TEXT NOT NULL,
    pay_period TEXT NOT NULL,
    reason TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    actor TEXT NOT NULL
);

-- Payment caps per participant: at most `amount` paid per pay period from
-- `start_period` to `end_period`; the excess is carried into later periods
-- (`carry` 1) or forfeited (0). An import replaces a participant's caps.
CREATE TABLE payment_caps (
    participant_id TEXT NOT NULL,
    amount TEXT NOT NULL,
    start_period TEXT NOT NULL,
    end_period TEXT,
    carry BIGINT NOT NULL,
    import_id BIGINT NOT NULL REFERENCES imports (id)
);
