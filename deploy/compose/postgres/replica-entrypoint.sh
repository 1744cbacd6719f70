#!/bin/bash
# The read replica: on first start, a base backup of the primary streamed over the replication
# slot (pg_basebackup --write-recovery-conf makes it a hot standby that follows the primary);
# then PostgreSQL on that data directory. Runs as the image's postgres user.
set -euo pipefail
: "${PGDATA:?}"
PRIMARY_HOST=${PRIMARY_HOST:-postgres-primary}
PRIMARY_PORT=${PRIMARY_PORT:-5432}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  export PGPASSWORD
  PGPASSWORD=$(cat "${REPLICATION_PASSWORD_FILE:-/run/secrets/postgres-replication-password}")
  # The primary may still be initialising: try again until its backup succeeds.
  until pg_basebackup --pgdata="$PGDATA" --host="$PRIMARY_HOST" --port="$PRIMARY_PORT" \
    --username=replicator --wal-method=stream --slot=replica_1 \
    --write-recovery-conf --checkpoint=fast; do
    echo "replica: the primary is not ready for a base backup yet; trying again in 2 s" >&2
    find "$PGDATA" -mindepth 1 -delete
    sleep 2
  done
  unset PGPASSWORD
  chmod 0700 "$PGDATA"
fi
exec postgres -c hot_standby=on -c hot_standby_feedback=on "$@"
