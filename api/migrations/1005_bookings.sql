-- Bookings as buyers see them (my page, guest lookup): a projection of the ledger's committed
-- events, written by the API as it follows the ledger. Guests' contact details are given to the
-- API before they pay; their bookings get a booking number.
CREATE TABLE IF NOT EXISTS guest_contacts (
    actor          BIGINT PRIMARY KEY,
    name           TEXT   NOT NULL,
    phone          TEXT   NOT NULL,
    updated_at_ms  BIGINT NOT NULL
);

CREATE TABLE IF NOT EXISTS bookings (
    booking        BIGINT PRIMARY KEY,
    performance    BIGINT NOT NULL,
    actor          BIGINT NOT NULL,
    number         TEXT   UNIQUE,
    name           TEXT,
    phone          TEXT,
    places         TEXT   NOT NULL,
    first_ticket   BIGINT NOT NULL,
    paid_won       BIGINT NOT NULL,
    booked_at_ms   BIGINT NOT NULL,
    cancelled      TEXT   NOT NULL
);
CREATE INDEX IF NOT EXISTS bookings_by_actor ON bookings (actor, booked_at_ms);
