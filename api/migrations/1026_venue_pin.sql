-- A show's publish pins its venue's seat map before reading it (api/src/publish.rs), and
-- `PUT /api/v2/venues/{id}` is refused (409 venue_in_use) while any show at the venue holds a
-- pin. `venue_pin` is NULL when the show holds none; the id of the publish attempt holding it
-- while that attempt reads the map and checks the show against it (released if the attempt
-- fails there; one pinned before `venue_pinned_at_ms` + the API's PUBLISH_PIN_CHECK_MS_MAX is
-- taken to be a crashed attempt's and lapses); 0 once the attempt is about to ask the ledger to
-- open a performance with that map: the ledger may be selling it from then on, so the pin is
-- never released (as for a published show). One migration file serves SQLite and PostgreSQL.
ALTER TABLE shows ADD COLUMN venue_pin BIGINT;
ALTER TABLE shows ADD COLUMN venue_pinned_at_ms BIGINT;
