-- The cancellation waitlist over the API (docs/protocol.md, "Waitlist over HTTP").
-- A show's waitlist settings as the seller sent them (JSON: enabled, claim_window_minutes,
-- freed_to_sale); NULL, as for shows stored before them: the ledger's defaults.
ALTER TABLE shows ADD COLUMN waitlist TEXT;
-- The performances whose waitlist a member asked to join, so "my waitlist" knows which ledgers
-- to read. Written before the ledger's JoinWaitlist, so an entry the ledger committed is never
-- missing here; the ledger is the truth about the entries themselves, and a row whose
-- performance holds none of the member's entries any more is dropped when a read finds it so.
CREATE TABLE IF NOT EXISTS waitlist_members (
    account_id   BIGINT NOT NULL,
    performance  BIGINT NOT NULL,
    joined_at_ms BIGINT NOT NULL,
    PRIMARY KEY (account_id, performance)
);
