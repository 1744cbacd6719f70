-- A show's own cancellation-fee schedule (JSON FeeSchedule; NULL: the Korean standard), and the
-- venue staff assigned to scan a show's tickets.
ALTER TABLE shows ADD COLUMN fees TEXT;

CREATE TABLE IF NOT EXISTS show_staff (
    show_id    BIGINT NOT NULL REFERENCES shows (id),
    account_id BIGINT NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (show_id, account_id)
);
