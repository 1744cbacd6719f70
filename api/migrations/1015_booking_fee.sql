-- The booking fee (docs/payments.md): a show's fee per ticket, on top of the ticket price (0:
-- none), and per booking the booking fees kept (charged at booking, less those refunded by
-- cancellations), added up by the projection for settlement.
ALTER TABLE shows ADD COLUMN booking_fee_won BIGINT NOT NULL DEFAULT 0;
ALTER TABLE bookings ADD COLUMN booking_fees_won BIGINT NOT NULL DEFAULT 0;
