-- The waiting-room settings of a show's sales (JSON: admit_per_sec, active_max); NULL: defaults.
ALTER TABLE shows ADD COLUMN queue TEXT;
