-- Accounts (DESIGN.md: members, sellers, venue staff, admins). Written once for PostgreSQL and
-- SQLite: ids are chosen by the application, times are milliseconds since the epoch.
CREATE TABLE IF NOT EXISTS accounts (
    id             BIGINT PRIMARY KEY,
    email          TEXT   NOT NULL UNIQUE,
    password_hash  TEXT   NOT NULL,
    name           TEXT   NOT NULL,
    phone          TEXT,
    role           TEXT   NOT NULL,
    created_at_ms  BIGINT NOT NULL
);

-- Sessions: a session token names its row (`sid`); logging out revokes it.
CREATE TABLE IF NOT EXISTS sessions (
    id             TEXT   PRIMARY KEY,
    account_id     BIGINT NOT NULL REFERENCES accounts (id),
    created_at_ms  BIGINT NOT NULL,
    expires_at_ms  BIGINT NOT NULL,
    revoked_at_ms  BIGINT
);
CREATE INDEX IF NOT EXISTS sessions_by_account ON sessions (account_id);
