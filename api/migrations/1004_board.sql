-- The board: platform notices (no show), per-show notices, and per-show questions that the
-- show's seller answers. Admins hide posts (kept, not shown).
CREATE TABLE IF NOT EXISTS posts (
    id                BIGINT PRIMARY KEY,
    show_id           BIGINT REFERENCES shows (id),
    kind              TEXT   NOT NULL,
    author_account_id BIGINT NOT NULL REFERENCES accounts (id),
    title             TEXT   NOT NULL,
    body              TEXT   NOT NULL,
    answer            TEXT,
    answered_at_ms    BIGINT,
    hidden            BIGINT NOT NULL DEFAULT 0,
    created_at_ms     BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS posts_by_show ON posts (show_id, kind, id);
