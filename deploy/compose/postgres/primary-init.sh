#!/bin/bash
# Runs once, when the primary's data directory is first made (the postgres image runs every
# script in /docker-entrypoint-initdb.d then): the role and the slot the read replica streams
# with, and the pg_hba line that lets it connect for replication.
set -euo pipefail
replication_password=$(cat "${REPLICATION_PASSWORD_FILE:-/run/secrets/postgres-replication-password}")
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v replication_password="$replication_password" <<'SQL'
CREATE ROLE replicator WITH REPLICATION LOGIN PASSWORD :'replication_password';
-- The replica streams through this slot, so the primary keeps the WAL it has not received yet
-- (bounded by max_slot_wal_keep_size in compose.yaml).
SELECT pg_create_physical_replication_slot('replica_1');
SQL
echo "host replication replicator all scram-sha-256" >>"$PGDATA/pg_hba.conf"
