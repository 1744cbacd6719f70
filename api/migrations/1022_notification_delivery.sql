-- The notifier's outbox and delivery (DESIGN.md "notifier"; docs/operations.md, "Notification
-- delivery"). Every notification written gets an insertion sequence in the transaction that
-- writes it; the delivery loop reads rows in that order from a cursor per channel.
--
-- The sequence comes from one counter row, bumped in the writing transaction: the row stays
-- locked until that transaction ends, so sequences commit in order and a reader that has seen
-- seq n has seen every committed seq below n (a BIGSERIAL would let a later seq commit first and
-- be passed over for good). Rows written before this migration have none: they are history.
ALTER TABLE notifications ADD COLUMN outbox_seq BIGINT;
CREATE UNIQUE INDEX IF NOT EXISTS notifications_by_outbox_seq ON notifications (outbox_seq);

CREATE TABLE IF NOT EXISTS notification_outbox_head (
    id   BIGINT PRIMARY KEY,
    seq  BIGINT NOT NULL
);
INSERT INTO notification_outbox_head (id, seq) VALUES (1, 0) ON CONFLICT (id) DO NOTHING;

-- Where each delivery channel (`app`: the gateways over the bus; `push`: Web Push) is in the
-- outbox: every row up to `seq` was handed to it (push: delivered, given up or dead-lettered).
CREATE TABLE IF NOT EXISTS delivery_cursors (
    channel  TEXT   PRIMARY KEY,
    seq      BIGINT NOT NULL
);

-- Deliveries given up on: an operator reads them with `picket notifications dead-letters`.
-- One row per notification and subscription, so a delivery given up twice (a restarted loop
-- resends) is recorded once.
CREATE TABLE IF NOT EXISTS delivery_dead_letters (
    id               TEXT   PRIMARY KEY,
    notification_id  TEXT   NOT NULL,
    account_id       BIGINT NOT NULL,
    channel          TEXT   NOT NULL,
    subscription_id  BIGINT,
    attempts         BIGINT NOT NULL,
    reason           TEXT   NOT NULL,
    at_ms            BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS delivery_dead_letters_by_time ON delivery_dead_letters (at_ms, id);
