-- A show's discounts and coupons (JSON arrays of the API's DiscountForm and CouponForm; NULL:
-- none). They go into each performance's ledger spec when the show is published.
ALTER TABLE shows ADD COLUMN discounts TEXT;
ALTER TABLE shows ADD COLUMN coupons TEXT;
