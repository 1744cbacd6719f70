-- Members' Web Push subscriptions (docs/protocol.md, "Web Push"): one row per browser push
-- resource. An endpoint belongs to one browser, so it is unique: subscribing it again updates
-- its keys, and a different member subscribing it takes it over. The keys are base64url as the
-- browser gave them (checked by the API before they are written).
CREATE TABLE IF NOT EXISTS push_subscriptions (
    id             BIGINT PRIMARY KEY,
    account_id     BIGINT NOT NULL,
    endpoint       TEXT   NOT NULL UNIQUE,
    p256dh         TEXT   NOT NULL,
    auth           TEXT   NOT NULL,
    created_at_ms  BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS push_subscriptions_by_account ON push_subscriptions (account_id, id);
