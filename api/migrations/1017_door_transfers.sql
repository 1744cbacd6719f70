-- Door settings per show and ticket transfers (docs/protocol.md, "Over HTTP").
-- A show's door settings as the seller sent them (JSON: reentry, gates, the transfer deadline in
-- minutes before each start, static tickets); NULL, as for shows stored before them: all off.
ALTER TABLE shows ADD COLUMN door TEXT;
-- Every ticket transfer the ledger committed (`TicketTransferred`), as the projection follows
-- them: the generation the ticket moved to names the transfer, so a redelivered entry is
-- recorded once; the latest generation's `to_actor` holds the ticket now.
CREATE TABLE IF NOT EXISTS ticket_transfers (
    ticket       BIGINT NOT NULL,
    generation   BIGINT NOT NULL,
    performance  BIGINT NOT NULL,
    from_actor   BIGINT NOT NULL,
    to_actor     BIGINT NOT NULL,
    at_ms        BIGINT NOT NULL,
    PRIMARY KEY (ticket, generation)
);
CREATE INDEX IF NOT EXISTS ticket_transfers_by_from ON ticket_transfers (from_actor);
CREATE INDEX IF NOT EXISTS ticket_transfers_by_to ON ticket_transfers (to_actor);
-- Whose device a ticket is bound to: a recipient's first binding is a binding, not a re-binding
-- of the giver's device, and nobody sees another holder's device. Rows from before transfers were
-- possible were bound by their booking's buyer.
ALTER TABLE ticket_devices ADD COLUMN holder BIGINT;
UPDATE ticket_devices SET holder = (
    SELECT b.actor FROM bookings b WHERE b.first_ticket <= ticket_devices.ticket
    ORDER BY b.first_ticket DESC LIMIT 1
);
