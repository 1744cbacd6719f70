-- The waitlist's auto-pay (docs/payments.md, "Auto-pay"): members' cards registered with the
-- payment provider, and the payments worker's charges.
--
-- A billing method: `pending` from the start of a registration until the provider's success
-- redirect brings its authKey, then `active`. `customer_key` is the provider's customerKey, an
-- unguessable value made here per registration (never the member's id); `billing_ref` is the
-- opaque reference the ledger's `AutoPay` entries carry; `billing_key` (the provider's) never
-- leaves the server. Deleting a method deletes its row: an entry naming it then fails its charge.
CREATE TABLE IF NOT EXISTS billing_methods (
    id             BIGINT PRIMARY KEY,
    account_id     BIGINT NOT NULL,
    customer_key   TEXT   NOT NULL UNIQUE,
    billing_ref    TEXT   NOT NULL UNIQUE,
    status         TEXT   NOT NULL,
    billing_key    TEXT,
    card_masked    TEXT,
    created_at_ms  BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS billing_methods_by_account ON billing_methods (account_id, status);

-- Where the auto-pay worker is in each ledger partition's journal: the last entry whose
-- auto-pay offers are in `autopay_charges`.
CREATE TABLE IF NOT EXISTS autopay_cursors (
    ledger_partition  BIGINT PRIMARY KEY,
    seq               BIGINT NOT NULL
);

-- Auto-pay holds the worker has still to settle (charge and book, report a failed charge, or
-- void a charge whose hold closed), written with the cursor that passes their offer and
-- deleted once settled.
CREATE TABLE IF NOT EXISTS autopay_charges (
    hold_id        BIGINT PRIMARY KEY,
    performance    BIGINT NOT NULL,
    entry          BIGINT NOT NULL,
    buyer          BIGINT NOT NULL,
    billing_ref    TEXT   NOT NULL,
    amount_won     BIGINT NOT NULL,
    deadline_ms    BIGINT NOT NULL
);

-- Before this migration no member could join in auto-pay mode, so a database that has
-- followed the ledger already starts where the bookings projection is.
INSERT INTO autopay_cursors (ledger_partition, seq)
    SELECT ledger_partition, seq FROM projection_cursors WHERE seq >= 0
    ON CONFLICT (ledger_partition) DO NOTHING;
