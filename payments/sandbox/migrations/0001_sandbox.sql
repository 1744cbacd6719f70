-- The sandbox provider's records. A payment's wire form (the Payment object) is kept as JSON
-- beside the columns the sandbox looks things up by.
CREATE TABLE payments (
    payment_key TEXT PRIMARY KEY,
    order_id TEXT NOT NULL,
    status TEXT NOT NULL,
    -- What the buyer authorised at checkout (or the billing charge asked for): confirm must match it.
    authorised_amount INTEGER NOT NULL,
    authorised_at_ms INTEGER NOT NULL,
    -- The test card's behaviour (approve, decline, insufficient, timeout, slow).
    card TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX payments_by_order ON payments (order_id, authorised_at_ms);
CREATE INDEX payments_by_status ON payments (status, authorised_at_ms);

-- Every approval and cancel, for GET /v1/transactions (seq orders them; at_ms filters).
CREATE TABLE transactions (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    transaction_key TEXT NOT NULL UNIQUE,
    at_ms INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX transactions_by_time ON transactions (at_ms, seq);

-- The first answer under an Idempotency-Key, per (key, secret key, method, path): `scope`.
CREATE TABLE idempotency (
    scope TEXT PRIMARY KEY,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);
CREATE INDEX idempotency_by_age ON idempotency (created_at_ms);

-- One-time keys from the billing authorisation page, spent on issuing a billing key.
CREATE TABLE auth_keys (
    auth_key TEXT PRIMARY KEY,
    customer_key TEXT NOT NULL,
    card TEXT NOT NULL,
    card_masked TEXT NOT NULL,
    created_at_ms INTEGER NOT NULL
);

CREATE TABLE billing_keys (
    billing_key TEXT PRIMARY KEY,
    customer_key TEXT NOT NULL,
    card TEXT NOT NULL,
    body TEXT NOT NULL
);

-- The webhook outbox: one row per event and URL, until delivered or out of attempts.
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    transmission_id TEXT NOT NULL,
    url TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at_ms INTEGER NOT NULL,
    -- pending, delivered or failed
    state TEXT NOT NULL
);
CREATE INDEX webhooks_due ON webhooks (state, next_attempt_at_ms, id);
