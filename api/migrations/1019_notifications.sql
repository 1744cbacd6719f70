-- The notifier's inbox (DESIGN.md "notifier"): one row per notification a member got, written
-- by the notifier with an id derived from its source, so a redelivered event adds nothing.
-- Both languages are kept; the API answers in the member's and includes the other.
CREATE TABLE IF NOT EXISTS notifications (
    id             TEXT   PRIMARY KEY,
    account_id     BIGINT NOT NULL,
    kind           TEXT   NOT NULL,
    created_at_ms  BIGINT NOT NULL,
    title_ko       TEXT   NOT NULL,
    body_ko        TEXT   NOT NULL,
    title_en       TEXT   NOT NULL,
    body_en        TEXT   NOT NULL,
    -- JSON object of ids to open (decimal strings).
    data           TEXT   NOT NULL,
    -- 1: may be pushed; 0: over the member's rate limit, inbox only.
    push           BIGINT NOT NULL,
    read_at_ms     BIGINT
);
CREATE INDEX IF NOT EXISTS notifications_by_account ON notifications (account_id, created_at_ms, id);

-- Where the notifier is in each ledger partition's journal: the last entry whose notifications
-- are in the inbox.
CREATE TABLE IF NOT EXISTS notifier_cursors (
    ledger_partition  BIGINT PRIMARY KEY,
    seq               BIGINT NOT NULL
);

-- Published shows whose interest alerts are all in the inbox.
CREATE TABLE IF NOT EXISTS notifier_announced (
    show_id  BIGINT PRIMARY KEY
);

-- Waitlist entries' buyers, remembered from `WaitlistJoined` (a later `WaitlistEntryEnded`
-- names only the entry). Written with the cursor that passes the joining entry.
CREATE TABLE IF NOT EXISTS notifier_waitlist_entries (
    entry  BIGINT PRIMARY KEY,
    buyer  BIGINT NOT NULL
);

-- A database that had shows and bookings before the notifier starts from where it is: shows
-- already published are not announced again, and the ledger is followed from where the
-- bookings projection is (entries before it are history, not news). (SQLite needs a WHERE in an
-- INSERT … SELECT with ON CONFLICT.)
INSERT INTO notifier_announced (show_id)
    SELECT id FROM shows WHERE status = 'published'
    ON CONFLICT (show_id) DO NOTHING;
INSERT INTO notifier_cursors (ledger_partition, seq)
    SELECT ledger_partition, seq FROM projection_cursors WHERE seq >= 0
    ON CONFLICT (ledger_partition) DO NOTHING;
