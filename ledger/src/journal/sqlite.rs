//! The SQLite journal: the embedded default of `picket up`. WAL with `synchronous = FULL`, so an
//! appended batch survives a crash just as on PostgreSQL.

use std::path::Path;
use std::time::Duration;

use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use super::{
    Entry, Fence, Journal, JournalError, SNAPSHOT_FORMAT, SNAPSHOTS_KEPT_MAX, Snapshot, to_i64,
};

/// The writer appends on one connection; the second serves snapshot writes and reads.
const SQLITE_CONNECTIONS_MAX: u32 = 2;
/// How long a statement waits for the other connection's write lock.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct SqliteJournal {
    pool: SqlitePool,
}

impl SqliteJournal {
    /// Opens (creating if needed) the database file and runs the migrations.
    pub async fn open(path: &Path) -> Result<Self, JournalError> {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(SQLITE_BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(SQLITE_CONNECTIONS_MAX)
            .connect_with(options)
            .await?;
        // The ledger (0001…) and the API (1001…) may share one database and its migrations
        // table; each ignores the other's versions.
        let mut migrator = sqlx::migrate!("./migrations/sqlite");
        migrator.set_ignore_missing(true);
        migrator.run(&pool).await?;
        Ok(SqliteJournal { pool })
    }
}

impl Journal for SqliteJournal {
    async fn append(
        &self,
        partition: u16,
        entries: &[Entry],
        fence: Option<Fence>,
    ) -> Result<(), JournalError> {
        if fence.is_some() {
            return Err(JournalError::NoLeadership);
        }
        let Some(first) = entries.first() else {
            return Ok(());
        };
        // BEGIN IMMEDIATE takes the write lock up front, so the gap check and the inserts see
        // the same journal.
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let last: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(seq), 0) FROM ledger_journal WHERE partition_id = ?1",
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
        for entry in entries {
            sqlx::query(
                "INSERT INTO ledger_journal (partition_id, seq, recorded_at_ms, events) \
                 VALUES (?1, ?2, ?3, ?4)",
            )
            .bind(i32::from(partition))
            .bind(to_i64(entry.seq))
            .bind(to_i64(entry.recorded_at_ms))
            .bind(entry.events_json.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn last_seq(&self, partition: u16) -> Result<u64, JournalError> {
        let last: i64 = sqlx::query_scalar(
            "SELECT COALESCE(MAX(seq), 0) FROM ledger_journal WHERE partition_id = ?1",
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
             WHERE partition_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
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
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(
            "INSERT OR IGNORE INTO ledger_snapshot (partition_id, seq, format, digest, state) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(i32::from(partition))
        .bind(to_i64(snapshot.seq))
        .bind(SNAPSHOT_FORMAT)
        .bind(snapshot.digest as i64)
        .bind(&snapshot.state)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "DELETE FROM ledger_snapshot WHERE partition_id = ?1 AND seq NOT IN \
             (SELECT seq FROM ledger_snapshot WHERE partition_id = ?1 ORDER BY seq DESC LIMIT ?2)",
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
             WHERE partition_id = ?1 AND format = ?2 ORDER BY seq DESC LIMIT 1",
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
