-- Tickets at the door (docs/protocol.md, "Ticket codes"): the device each ticket is bound to
-- (its Ed25519 public key, base64url) and when, as its holder sees it; the secret generation it
-- was bound at. Finding a ticket's booking goes by the booking's first ticket id.
CREATE TABLE IF NOT EXISTS ticket_devices (
    ticket       BIGINT PRIMARY KEY,
    public_key   TEXT   NOT NULL,
    generation   BIGINT NOT NULL,
    bound_at_ms  BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS bookings_by_first_ticket ON bookings (first_ticket);
