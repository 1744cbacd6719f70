//! The PostgreSQL journal (production).
//!
//! Every call that writes the `ledger_leadership` row, and every transaction, runs on a task of
//! its own ([`detached`]), so dropping the caller's future cannot cut a conversation with the
//! database short. Dropping one mid-flight is what happens on the failover path: a leader's
//! writer is aborted when it steps down, a lease renewal is given up after its timeout. sqlx 0.9
//! undoes a dropped transaction only lazily (it queues a ROLLBACK that the pool sends when the
//! connection comes back), and not at all when the drop lands while `BEGIN` awaits its answer:
//! the connection then returns to the pool inside a server-side transaction, and the next lease
//! renewal on it locks the leadership row for good (issue #12 item 17). Single-statement reads
//! stay in the caller: cut short, they leave nothing open (the pool drains their answer before
//! it reuses the connection).
//!
//! The sessions also run with `lock_timeout` and `idle_in_transaction_session_timeout`
//! ([`PgSession`]), so that PostgreSQL itself ends a session that waits on, or sits on, a lock
//! for longer than a lease allows: a node paused mid-transaction cannot keep its partition.

use std::future::Future;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Postgres, Row, Transaction};

use super::{
    Entry, Fence, Journal, JournalError, SNAPSHOT_FORMAT, SNAPSHOTS_KEPT_MAX, Snapshot, to_i64,
};

/// The limits every journal session runs under, set when it connects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PgSession {
    /// `lock_timeout`: a statement waiting this long for a lock (a lease update behind a stuck
    /// transaction) fails instead of waiting on.
    pub lock_timeout: Duration,
    /// `idle_in_transaction_session_timeout`: PostgreSQL ends a session that sits this long
    /// inside a transaction (its node paused or cut off mid-commit), releasing its locks.
    pub idle_in_transaction_timeout: Duration,
}

impl Default for PgSession {
    fn default() -> Self {
        PgSession {
            lock_timeout: crate::config::PG_LOCK_TIMEOUT_DEFAULT,
            idle_in_transaction_timeout: crate::config::PG_IDLE_IN_TRANSACTION_TIMEOUT_DEFAULT,
        }
    }
}

/// Runs `work` on a task of its own and waits for it. Dropping the returned future stops the
/// waiting, never the work: a transaction started there is committed or rolled back there, and
/// its connection goes back to the pool outside any transaction.
async fn detached<T: Send + 'static>(
    work: impl Future<Output = Result<T, JournalError>> + Send + 'static,
) -> Result<T, JournalError> {
    tokio::spawn(work)
        .await
        .map_err(|error| JournalError::TaskEnded(error.to_string()))?
}

/// Commits `tx` when `work` succeeded, and rolls it back explicitly when it failed, so no error
/// path leaves the rollback to a drop handler.
async fn finish(
    tx: Transaction<'static, Postgres>,
    work: Result<(), JournalError>,
) -> Result<(), JournalError> {
    match work {
        Ok(()) => Ok(tx.commit().await?),
        Err(error) => {
            if let Err(rollback) = tx.rollback().await {
                // The connection is then broken; the pool closes it instead of reusing it.
                tracing::warn!(%rollback, "journal rollback failed");
            }
            Err(error)
        }
    }
}

#[derive(Clone)]
pub struct PgJournal {
    pool: PgPool,
}

impl PgJournal {
    /// Connects with the default [`PgSession`] limits and runs the migrations. Operations wait
    /// at most `connect_timeout` for a connection.
    pub async fn connect(
        url: &str,
        connections_max: u32,
        connect_timeout: Duration,
    ) -> Result<Self, JournalError> {
        Self::connect_with(url, connections_max, connect_timeout, PgSession::default()).await
    }

    /// Connects with every session under `session`'s limits and runs the migrations.
    pub async fn connect_with(
        url: &str,
        connections_max: u32,
        connect_timeout: Duration,
        session: PgSession,
    ) -> Result<Self, JournalError> {
        let base: PgConnectOptions = url.parse::<PgConnectOptions>()?.disable_statement_logging();
        let options = base.clone().options([
            ("lock_timeout", postgres_ms(session.lock_timeout)),
            (
                "idle_in_transaction_session_timeout",
                postgres_ms(session.idle_in_transaction_timeout),
            ),
        ]);
        let pool = PgPoolOptions::new()
            .max_connections(connections_max)
            .acquire_timeout(connect_timeout)
            .connect_with(options)
            .await?;
        // The ledger (0001…) and the API (1001…) may share one database and its migrations
        // table; each ignores the other's versions.
        let mut migrator = sqlx::migrate!("./migrations/postgres");
        migrator.set_ignore_missing(true);
        // On a connection of its own without the session limits: migrating waits on an
        // advisory lock while another process migrates, which `lock_timeout` would cut short.
        let migrating = PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(connect_timeout)
            .connect_with(base)
            .await?;
        migrator.run(&migrating).await?;
        migrating.close().await;
        Ok(PgJournal { pool })
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Runs `work` on its own task (see [`detached`]) with a handle on the pool.
    async fn detached<T, F>(&self, work: impl FnOnce(PgPool) -> F) -> Result<T, JournalError>
    where
        T: Send + 'static,
        F: Future<Output = Result<T, JournalError>> + Send + 'static,
    {
        detached(work(self.pool.clone())).await
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
        let holder = holder.to_owned();
        let epoch: Option<i64> = self
            .detached(|pool| async move {
                Ok(sqlx::query_scalar(
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
                .fetch_optional(&pool)
                .await?)
            })
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
        let holder = holder.to_owned();
        let renewed = self
            .detached(|pool| async move {
                Ok(sqlx::query(
                    "UPDATE ledger_leadership \
                     SET lease_until = clock_timestamp() + make_interval(secs => $4) \
                     WHERE partition_id = $1 AND holder = $2 AND epoch = $3",
                )
                .bind(i32::from(partition))
                .bind(holder)
                .bind(to_i64(epoch))
                .bind(lease.as_secs_f64())
                .execute(&pool)
                .await?)
            })
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
        let holder = holder.to_owned();
        self.detached(|pool| async move {
            sqlx::query(
                "UPDATE ledger_leadership \
                 SET lease_until = clock_timestamp() - interval '1 second' \
                 WHERE partition_id = $1 AND holder = $2 AND epoch = $3",
            )
            .bind(i32::from(partition))
            .bind(holder)
            .bind(to_i64(epoch))
            .execute(&pool)
            .await?;
            Ok(())
        })
        .await?;
        Ok(())
    }

    /// Whether some node holds the partition's lease unexpired (by PostgreSQL's clock).
    pub async fn lease_held(&self, partition: u16) -> Result<bool, JournalError> {
        let held: Option<bool> = sqlx::query_scalar(
            "SELECT lease_until > clock_timestamp() FROM ledger_leadership WHERE partition_id = $1",
        )
        .bind(i32::from(partition))
        .fetch_optional(&self.pool)
        .await?;
        Ok(held.unwrap_or(false))
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
        if entries.is_empty() {
            return Ok(());
        }
        let entries = entries.to_vec();
        self.detached(|pool| async move {
            append_one_statement(&pool, partition, &entries, fence).await
        })
        .await
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
        let snapshot = snapshot.clone();
        self.detached(|pool| async move {
            let mut tx = pool.begin().await?;
            let work = save_snapshot_in(&mut tx, partition, &snapshot).await;
            finish(tx, work).await
        })
        .await
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

/// `lock_timeout`-style setting in milliseconds; at least 1, since 0 turns the limit off.
fn postgres_ms(limit: Duration) -> String {
    format!("{}ms", limit.as_millis().max(1))
}

/// One append as one statement, committed on its own (autocommit): the fence's epoch check and
/// `input_seq`, the gap check and the rows' insert used to be five round trips (BEGIN, UPDATE,
/// SELECT, INSERT, COMMIT) per batch; this is one, and just as atomic and durable.
///
/// The leadership row's UPDATE still locks it until the commit, so a takeover (which bumps the
/// epoch) waits for this commit, and this commit writes nothing if a takeover came first: a
/// concurrent update of the row makes PostgreSQL re-check `epoch` on its newest version. The
/// gap check reads the statement's snapshot; the partition's one writer appends serially, so
/// only another writer could make it stale, and that one holds another epoch (fenced) or, without
/// a fence, collides on the primary key.
const APPEND_SQL: &str = "\
    WITH last AS ( \
        SELECT COALESCE(MAX(seq), 0) AS seq FROM ledger_journal WHERE partition_id = $1 \
    ), fence AS ( \
        UPDATE ledger_leadership SET input_seq = GREATEST(input_seq, $3) \
        WHERE partition_id = $1 AND epoch = $2 AND (SELECT seq FROM last) = $4 \
        RETURNING epoch \
    ), appended AS ( \
        INSERT INTO ledger_journal (partition_id, seq, recorded_at_ms, events) \
        SELECT $1, e.seq, e.recorded_at_ms, e.events \
        FROM UNNEST($5::BIGINT[], $6::BIGINT[], $7::TEXT[]) AS e(seq, recorded_at_ms, events) \
        WHERE (SELECT seq FROM last) = $4 \
          AND ($2::BIGINT IS NULL OR EXISTS (SELECT 1 FROM fence)) \
        RETURNING 1 \
    ) \
    SELECT (SELECT seq FROM last), \
           (SELECT epoch FROM ledger_leadership WHERE partition_id = $1), \
           (SELECT COUNT(*) FROM appended)";

/// Appends `entries` with [`APPEND_SQL`] and tells why nothing was written when it was not.
async fn append_one_statement(
    pool: &PgPool,
    partition: u16,
    entries: &[Entry],
    fence: Option<Fence>,
) -> Result<(), JournalError> {
    let Some(first) = entries.first() else {
        return Ok(());
    };
    let expected_last = to_i64(first.seq) - 1;
    let seqs: Vec<i64> = entries.iter().map(|e| to_i64(e.seq)).collect();
    let times: Vec<i64> = entries.iter().map(|e| to_i64(e.recorded_at_ms)).collect();
    let events: Vec<&str> = entries.iter().map(|e| e.events_json.as_str()).collect();
    let (last, epoch, appended): (i64, Option<i64>, i64) = sqlx::query_as(APPEND_SQL)
        .bind(i32::from(partition))
        .bind(fence.map(|f| to_i64(f.epoch)))
        .bind(fence.map(|f| to_i64(f.input_seq)))
        .bind(expected_last)
        .bind(&seqs)
        .bind(&times)
        .bind(&events)
        .fetch_one(pool)
        .await?;
    append_outcome(
        first.seq,
        fence,
        last,
        epoch,
        appended as usize == entries.len(),
    )
}

/// What [`APPEND_SQL`]'s answer means: `last` the stored seq it saw, `epoch` the partition's
/// epoch it saw, `appended` whether the rows went in. A fence that does not hold comes first,
/// as when the fence was the transaction's first statement.
fn append_outcome(
    first_seq: u64,
    fence: Option<Fence>,
    last: i64,
    epoch: Option<i64>,
    appended: bool,
) -> Result<(), JournalError> {
    if appended {
        return Ok(());
    }
    if let Some(fence) = fence
        && epoch != Some(to_i64(fence.epoch))
    {
        return Err(JournalError::Fenced { ours: fence.epoch });
    }
    if first_seq != last as u64 + 1 {
        return Err(JournalError::SequenceGap {
            expected: last as u64 + 1,
            found: first_seq,
        });
    }
    // The epoch matched in the snapshot, the seq followed, yet the fence's UPDATE found no row:
    // a takeover committed while the statement waited for the leadership row's lock.
    Err(JournalError::Fenced {
        ours: fence.map_or(0, |f| f.epoch),
    })
}

/// The statements that save a snapshot and prune old ones, in `tx`.
async fn save_snapshot_in(
    tx: &mut Transaction<'static, Postgres>,
    partition: u16,
    snapshot: &Snapshot,
) -> Result<(), JournalError> {
    sqlx::query(
        "INSERT INTO ledger_snapshot (partition_id, seq, format, digest, state) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (partition_id, seq) DO NOTHING",
    )
    .bind(i32::from(partition))
    .bind(to_i64(snapshot.seq))
    .bind(SNAPSHOT_FORMAT)
    .bind(snapshot.digest as i64)
    .bind(&snapshot.state)
    .execute(&mut **tx)
    .await?;
    sqlx::query(
        "DELETE FROM ledger_snapshot WHERE partition_id = $1 AND seq NOT IN \
         (SELECT seq FROM ledger_snapshot WHERE partition_id = $1 ORDER BY seq DESC LIMIT $2)",
    )
    .bind(i32::from(partition))
    .bind(SNAPSHOTS_KEPT_MAX)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
