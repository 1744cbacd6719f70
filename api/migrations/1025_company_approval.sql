-- Seller approval: a company is `pending` (registered, waiting for an admin), `approved` (may
-- publish shows) or `suspended` (an admin stopped it publishing). Companies registered before
-- approval existed are approved. Which status a new company starts with is the API's
-- `seller_approval` setting (`automatic`: approved, `required`: pending).
ALTER TABLE companies ADD COLUMN approval TEXT NOT NULL DEFAULT 'approved';
ALTER TABLE companies ADD COLUMN approval_changed_at_ms BIGINT;
CREATE INDEX IF NOT EXISTS companies_by_approval ON companies (approval, id);
