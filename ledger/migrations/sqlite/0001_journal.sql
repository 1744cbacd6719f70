-- The ledger's append-only journal: one row per executed step, gap-free `seq` per partition.
CREATE TABLE IF NOT EXISTS ledger_journal (
    partition_id   INTEGER NOT NULL,
    seq            BIGINT  NOT NULL,
    recorded_at_ms BIGINT  NOT NULL,
    -- JSON array of the step's events (picket_ledger_core::Event).
    events         TEXT    NOT NULL,
    PRIMARY KEY (partition_id, seq)
);

-- Snapshots bound replay time: the state after `seq`, encoded with postcard.
CREATE TABLE IF NOT EXISTS ledger_snapshot (
    partition_id INTEGER NOT NULL,
    seq          BIGINT  NOT NULL,
    format       INTEGER NOT NULL,
    digest       BIGINT  NOT NULL,
    state        BLOB    NOT NULL,
    PRIMARY KEY (partition_id, seq)
);
