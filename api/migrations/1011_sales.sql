-- The durable record of every waiting-room sale (the sale id is the performance id): the waiting
-- room's store (Redis without persistence, or one that was flushed) may lose a sale, and the API
-- puts it back from here. Written before the store on every change, so it is the truth.
--   settings   JSON SaleSettings, as last set by publishing or the operator
--   seed, entry_key   the draw's secrets (hex), fixed when the sale is created: the published
--              seed hash stays true across restores
--   ends_at_ms after this the sale is no longer restored (its close); NULL: never ends
--   drawn      JSON {open_at_ms, order}: the pre-queue in drawn order, once drawn
--   watermark  places up to here had their turn when last seen (not given back on restore)
CREATE TABLE IF NOT EXISTS sales (
    sale           BIGINT PRIMARY KEY,
    settings       TEXT   NOT NULL,
    seed           TEXT   NOT NULL,
    entry_key      TEXT   NOT NULL,
    ends_at_ms     BIGINT,
    drawn          TEXT,
    watermark      BIGINT NOT NULL DEFAULT 0,
    updated_at_ms  BIGINT NOT NULL
);
