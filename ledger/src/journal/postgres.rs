//! The PostgreSQL journal (production).

use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Row};

use super::{
    Entry, Fence, Journal, JournalError, SNAPSHOT_FORMAT, SNAPSHOTS_KEPT_MAX, Snapshot, to_i64,
};

#[derive(Clone)]
pub struct PgJournal {
    pool: PgPool,
}

impl PgJournal {
    /// Connects and runs the migrations. Operations wait at most `connect_timeout` for a
    /// connection.
    pub async fn connect(
        url: &str,
        connections_max: u32,
        connect_timeout: Duration,
    ) -> Result<Self, JournalError> {
        let options: PgConnectOptions =
            url.parse::<PgConnectOptions>()?.disable_statement_logging();
        let pool = PgPoolOptions::new()
            .max_connections(connections_max)
            .acquire_timeout(connect_timeout)
            .connect_with(options)
            .await?;
        // The ledger (0001…) and the API (1001…) may share one database and its migrations
        // table; each ignores the other's versions.
        let mut migrator = sqlx::migrate!("./migrations/postgres");
        migrator.set_ignore_missing(true);
        migrator.run(&pool).await?;
        Ok(PgJournal { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Takes the partition's lease for `lease` when it is free, expired, or already `holder`'s,
    /// and returns the new epoch (every takeover bumps it). `None`: someone else holds it.
    /// Expiry is judged by PostgreSQL's clock, so nodes' clocks do not matter.
    pub async fn acquire_lease(
        &self,
        partition: u16,
        holder: &str,
        lease: Duration,
    ) -> Result<Option<u64>, JournalError> {
        let epoch: Option<i64> = sqlx::query_scalar(
            "INSERT INTO ledger_leadership (partition_id, epoch, holder, lease_until) \
             VALUES ($1, 1, $2, clock_timestamp() + make_interval(secs => $3)) \
             ON CONFLICT (partition_id) DO UPDATE \
               SET epoch = ledger_leadership.epoch + 1, holder = EXCLUDED.holder, \
                   lease_until = EXCLUDED.lease_until \
               WHERE ledger_leadership.lease_until < clock_timestamp() \
                  OR ledger_leadership.holder = EXCLUDED.holder \
             RETURNING epoch",
        )
        .bind(i32::from(partition))
        .bind(holder)
        .bind(lease.as_secs_f64())
        .fetch_optional(&self.pool)
        .await?;
        Ok(epoch.map(|e| e as u64))
    }

    /// Extends the lease of `holder` at `epoch`. False: the partition has moved on (a newer
    /// epoch), and the caller must stop leading.
    pub async fn renew_lease(
        &self,
        partition: u16,
        holder: &str,
        epoch: u64,
        lease: Duration,
    ) -> Result<bool, JournalError> {
        let renewed = sqlx::query(
            "UPDATE ledger_leadership SET lease_until = clock_timestamp() + make_interval(secs => $4) \
             WHERE partition_id = $1 AND holder = $2 AND epoch = $3",
        )
        .bind(i32::from(partition))
        .bind(holder)
        .bind(to_i64(epoch))
        .bind(lease.as_secs_f64())
        .execute(&self.pool)
        .await?;
        Ok(renewed.rows_affected() == 1)
    }

    /// Ends the lease at once (a clean shutdown), so a standby need not wait for it to expire.
    pub async fn release_lease(
        &self,
        partition: u16,
        holder: &str,
        epoch: u64,
    ) -> Result<(), JournalError> {
        sqlx::query(
            "UPDATE ledger_leadership SET lease_until = clock_timestamp() - interval '1 second' \
             WHERE partition_id = $1 AND holder = $2 AND epoch = $3",
        )
        .bind(i32::from(partition))
        .bind(holder)
        .bind(to_i64(epoch))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The last command-stream sequence whose command is committed (0 when none).
    pub async fn input_seq(&self, partition: u16) -> Result<u64, JournalError> {
        let seq: Option<i64> =
            sqlx::query_scalar("SELECT input_seq FROM ledger_leadership WHERE partition_id = $1")
                .bind(i32::from(partition))
                .fetch_optional(&self.pool)
                .await?;
        Ok(seq.unwrap_or(0) as u64)
    }

    /// The partition's current epoch and holder, if anyone ever led it.
    pub async fn leadership(&self, partition: u16) -> Result<Option<(u64, String)>, JournalError> {
        let row =
            sqlx::query("SELECT epoch, holder FROM ledger_leadership WHERE partition_id = $1")
                .bind(i32::from(partition))
                .fetch_optional(&self.pool)
                .await?;
        row.map(|row| Ok((row.try_get::<i64, _>(0)? as u64, row.try_get(1)?)))
            .transpose()
    }
}

impl Journal for PgJournal {
    async fn append(
        &self,
        partition: u16,
        entries: &[Entry],
        fence: Option<Fence>,
    ) -> Result<(), JournalError> {
        let Some(first) = entries.first() else {
            return Ok(());
        };
        let mut tx = self.pool.begin().await?;
        if let Some(fence) = fence {
            // First statement of the transaction: it locks the leadership row, so a takeover
            // (which bumps the epoch) waits for this commit, and this commit fails if a takeover
            // came first.
            let fenced = sqlx::query(
                "UPDATE ledger_leadership SET input_seq = GREATEST(input_seq, $3) \
                 WHERE partition_id = $1 AND epoch = $2",
            )
            .bind(i32::from(partition))
            .bind(to_i64(fence.epoch))
            .bind(to_i64(fence.input_seq))
            .execute(&mut *tx)
            .await?;
            if fenced.rows_affected() == 0 {
                return Err(JournalError::Fenced { ours: fence.epoch });
            }
        }
        // The primary key already refuses a duplicate seq; this also refuses a gap, so two
        // writers that both think they lead cannot interleave silently.
        let last: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(seq), 0) FROM ledger_journal WHERE partition_id = $1",
        )
        .bind(i32::from(partition))
        .fetch_one(&mut *tx)
        .await?;
        if first.seq != last as u64 + 1 {
            return Err(JournalError::SequenceGap {
                expected: last as u64 + 1,
                found: first.seq,
            });
        }
        let seqs: Vec<i64> = entries.iter().map(|e| to_i64(e.seq)).collect();
        let times: Vec<i64> = entries.iter().map(|e| to_i64(e.recorded_at_ms)).collect();
        let events: Vec<&str> = entries.iter().map(|e| e.events_json.as_str()).collect();
        sqlx::query(
            "INSERT INTO ledger_journal (partition_id, seq, recorded_at_ms, events) \
             SELECT $1, * FROM UNNEST($2::BIGINT[], $3::BIGINT[], $4::TEXT[])",
        )
        .bind(i32::from(partition))
        .bind(&seqs)
        .bind(&times)
        .bind(&events)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn last_seq(&self, partition: u16) -> Result<u64, JournalError> {
        let last: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(seq), 0) FROM ledger_journal WHERE partition_id = $1",
        )
        .bind(i32::from(partition))
        .fetch_one(&self.pool)
        .await?;
        Ok(last as u64)
    }

    async fn read_after(
        &self,
        partition: u16,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<Entry>, JournalError> {
        let rows = sqlx::query(
            "SELECT seq, recorded_at_ms, events FROM ledger_journal \
             WHERE partition_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        )
        .bind(i32::from(partition))
        .bind(to_i64(after_seq))
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(Entry {
                    seq: row.try_get::<i64, _>(0)? as u64,
                    recorded_at_ms: row.try_get::<i64, _>(1)? as u64,
                    events_json: row.try_get(2)?,
                })
            })
            .collect()
    }

    async fn save_snapshot(&self, partition: u16, snapshot: &Snapshot) -> Result<(), JournalError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO ledger_snapshot (partition_id, seq, format, digest, state) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (partition_id, seq) DO NOTHING",
        )
        .bind(i32::from(partition))
        .bind(to_i64(snapshot.seq))
        .bind(SNAPSHOT_FORMAT)
        .bind(snapshot.digest as i64)
        .bind(&snapshot.state)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM ledger_snapshot WHERE partition_id = $1 AND seq NOT IN \
             (SELECT seq FROM ledger_snapshot WHERE partition_id = $1 ORDER BY seq DESC LIMIT $2)",
        )
        .bind(i32::from(partition))
        .bind(SNAPSHOTS_KEPT_MAX)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn latest_snapshot(&self, partition: u16) -> Result<Option<Snapshot>, JournalError> {
        let row = sqlx::query(
            "SELECT seq, digest, state FROM ledger_snapshot \
             WHERE partition_id = $1 AND format = $2 ORDER BY seq DESC LIMIT 1",
        )
        .bind(i32::from(partition))
        .bind(SNAPSHOT_FORMAT)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(Snapshot {
                seq: row.try_get::<i64, _>(0)? as u64,
                digest: row.try_get::<i64, _>(1)? as u64,
                state: row.try_get(2)?,
            })
        })
        .transpose()
    }
}
