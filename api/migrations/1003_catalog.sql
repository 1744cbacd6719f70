-- The catalog: venues with their seat maps, shows with price grades, performances.
-- Layouts and grade rules are JSON documents (validated by the API, never queried inside).
CREATE TABLE IF NOT EXISTS venues (
    id             BIGINT PRIMARY KEY,
    owner_account_id BIGINT NOT NULL REFERENCES accounts (id),
    name           TEXT   NOT NULL,
    region         TEXT   NOT NULL,
    address        TEXT   NOT NULL,
    layout         TEXT   NOT NULL,
    seats          BIGINT NOT NULL,
    created_at_ms  BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS shows (
    id              BIGINT PRIMARY KEY,
    company_id      BIGINT NOT NULL REFERENCES companies (id),
    venue_id        BIGINT NOT NULL REFERENCES venues (id),
    title           TEXT   NOT NULL,
    category        TEXT   NOT NULL,
    region          TEXT   NOT NULL,
    description     TEXT   NOT NULL,
    age_rating      TEXT   NOT NULL,
    running_minutes BIGINT NOT NULL,
    grades          TEXT   NOT NULL,
    per_buyer_limit BIGINT NOT NULL,
    status          TEXT   NOT NULL,
    created_at_ms   BIGINT NOT NULL,
    published_at_ms BIGINT
);
CREATE INDEX IF NOT EXISTS shows_published ON shows (status, id);

CREATE TABLE IF NOT EXISTS performances (
    id               BIGINT PRIMARY KEY,
    show_id          BIGINT NOT NULL REFERENCES shows (id),
    starts_at_ms     BIGINT NOT NULL,
    sale_open_at_ms  BIGINT NOT NULL,
    sale_close_at_ms BIGINT NOT NULL,
    -- The ledger spec it was opened with (set at publish): the read model's seat → grade map.
    spec             TEXT
);
CREATE INDEX IF NOT EXISTS performances_by_show ON performances (show_id, starts_at_ms);
