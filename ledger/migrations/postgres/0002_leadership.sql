-- Leadership of each partition: who leads, until when (PostgreSQL's clock), and the epoch that
-- fences every commit. Taking over bumps the epoch; a journal append checks the epoch in the
-- same transaction, so a deposed leader can never commit again (DESIGN.md invariant 4).
-- `input_seq` is the last command-stream sequence whose command is committed: a new leader
-- resumes consuming after it.
CREATE TABLE IF NOT EXISTS ledger_leadership (
    partition_id INTEGER     PRIMARY KEY,
    epoch        BIGINT      NOT NULL,
    holder       TEXT        NOT NULL,
    lease_until  TIMESTAMPTZ NOT NULL,
    input_seq    BIGINT      NOT NULL DEFAULT 0
);
