-- Sellers' companies (one per seller account) and members' interests for alerts.
CREATE TABLE IF NOT EXISTS companies (
    id               BIGINT PRIMARY KEY,
    owner_account_id BIGINT NOT NULL UNIQUE REFERENCES accounts (id),
    name             TEXT   NOT NULL,
    business_number  TEXT   NOT NULL UNIQUE,
    contact_email    TEXT   NOT NULL,
    contact_phone    TEXT   NOT NULL,
    created_at_ms    BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS interests (
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    kind       TEXT   NOT NULL,
    value      TEXT   NOT NULL,
    PRIMARY KEY (account_id, kind, value)
);
