-- The bookings projection's place in each ledger partition's journal: the last entry it applied,
-- moved in the same transaction as the rows that entry changed, so an entry is applied exactly
-- once and none is skipped, across restarts and by several API processes. `open_holds` counts
-- the partition's rows in open_holds (the projection's bound on them).
CREATE TABLE IF NOT EXISTS projection_cursors (
    ledger_partition  BIGINT PRIMARY KEY,
    seq               BIGINT NOT NULL,
    open_holds        BIGINT NOT NULL
);

-- Holds not yet paid, released or expired: what a booking needs from the hold it came from.
-- `held` is the ledger's PlacesHeld event as JSON (fields the ledger adds later are kept).
CREATE TABLE IF NOT EXISTS open_holds (
    performance  BIGINT NOT NULL,
    hold         BIGINT NOT NULL,
    buyer        BIGINT NOT NULL,
    places       TEXT   NOT NULL,
    held         TEXT   NOT NULL,
    PRIMARY KEY (performance, hold)
);

-- The PlacesHeld event a booking was paid for, as JSON (NULL for bookings recorded before).
ALTER TABLE bookings ADD COLUMN held TEXT;
