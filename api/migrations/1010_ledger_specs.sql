-- The spec each performance was opened with in the ledger, as JSON, kept by the bookings
-- projection from the ledger's PerformanceOpened events: my page reads seat labels, prices, the
-- start and the fee schedule from it, also for performances opened without a catalog show
-- (`POST /api/v1/performances`).
CREATE TABLE IF NOT EXISTS ledger_specs (
    performance  BIGINT PRIMARY KEY,
    spec         TEXT   NOT NULL
);
