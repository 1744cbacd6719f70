-- Notification choices, reminders before ticket openings and sellers' notices to bookers
-- (issue 15; docs/protocol.md "Notifications (HTTP API v2)").

-- A member's choices: the language of their notifications and, per kind, the channels they want
-- (`app`: live over the WebSocket; `push`: Web Push). No row: Korean and every channel.
-- `channels` is a JSON object kind → {"app": bool, "push": bool}; a kind it does not name has
-- both on. The inbox keeps every notification whatever the choice.
CREATE TABLE IF NOT EXISTS notification_settings (
    account_id     BIGINT PRIMARY KEY,
    language       TEXT   NOT NULL,
    channels       TEXT   NOT NULL,
    updated_at_ms  BIGINT NOT NULL
);

-- What the delivery loop reads beside `push`: whether the member wants the notification live in
-- the app, and the language it is to be shown in (the member's choice when it was written).
ALTER TABLE notifications ADD COLUMN app BIGINT NOT NULL DEFAULT 1;
ALTER TABLE notifications ADD COLUMN language TEXT NOT NULL DEFAULT 'ko';

-- Reminders members asked for: one row per performance and offset before its ticket opening
-- (`performances.sale_open_at_ms`, which follows the operator's sale settings). A reminder is
-- due when opening - offset <= now < opening and `sent_for_ms` is not this opening: each is
-- written once per opening, and one whose opening moved is written again for the new time.
CREATE TABLE IF NOT EXISTS reminders (
    account_id      BIGINT NOT NULL,
    performance_id  BIGINT NOT NULL,
    offset_ms       BIGINT NOT NULL,
    created_at_ms   BIGINT NOT NULL,
    sent_for_ms     BIGINT,
    PRIMARY KEY (account_id, performance_id, offset_ms)
);
CREATE INDEX IF NOT EXISTS reminders_by_performance ON reminders (performance_id);
-- The due scan looks at performances opening within the largest offset.
CREATE INDEX IF NOT EXISTS performances_by_opening ON performances (sale_open_at_ms);

-- Sellers' notices to send to a show's (or one performance's) bookers, written with the post.
-- The notifier pages through the bookings by (performance, booking) and moves the cursor with
-- each batch of notifications; `done` once every booker has theirs.
CREATE TABLE IF NOT EXISTS notice_sends (
    post_id            BIGINT PRIMARY KEY,
    show_id            BIGINT NOT NULL,
    performance_id     BIGINT,
    after_performance  BIGINT NOT NULL DEFAULT 0,
    after_booking      BIGINT NOT NULL DEFAULT 0,
    done               BIGINT NOT NULL DEFAULT 0,
    created_at_ms      BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS notice_sends_pending ON notice_sends (done, post_id);
CREATE INDEX IF NOT EXISTS bookings_by_performance ON bookings (performance, booking);
