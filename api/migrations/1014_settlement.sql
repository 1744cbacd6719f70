-- Settlement (docs/payments.md): what each booking's cancellations refunded and kept as fees,
-- added up by the projection from `TicketsCancelled`. Bookings cancelled before this migration
-- count 0 here (their amounts are in the ledger's journal).
ALTER TABLE bookings ADD COLUMN refunded_won BIGINT NOT NULL DEFAULT 0;
ALTER TABLE bookings ADD COLUMN fees_won BIGINT NOT NULL DEFAULT 0;
