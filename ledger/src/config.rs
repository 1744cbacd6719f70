//! The ledger service's configuration, with every limit named.

use std::time::Duration;

/// Where the journal lives.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StoreUrl {
    /// `postgres://…`: production.
    Postgres(String),
    /// A SQLite database file: the embedded default of `picket up`.
    Sqlite(std::path::PathBuf),
}

impl StoreUrl {
    /// Reads `postgres://…`/`postgresql://…`, or `sqlite://PATH`/`sqlite:PATH`.
    pub fn parse(url: &str) -> Option<StoreUrl> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Some(StoreUrl::Postgres(url.to_owned()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))?;
        let path = path.split('?').next().unwrap_or(path);
        (!path.is_empty()).then(|| StoreUrl::Sqlite(path.into()))
    }

    /// Whether `url` is a PostgreSQL connection URL the journal can use, checked before
    /// anything connects: the reason when it is not.
    pub fn check_postgres(url: &str) -> Result<(), String> {
        url.parse::<sqlx::postgres::PgConnectOptions>()
            .map(|_| ())
            .map_err(|error| format!("not a PostgreSQL URL: {error}"))
    }

    pub fn kind(&self) -> &'static str {
        match self {
            StoreUrl::Postgres(_) => "postgres",
            StoreUrl::Sqlite(_) => "sqlite",
        }
    }
}

#[derive(Clone, Debug)]
pub struct LedgerConfig {
    /// The partition this writer owns; ids it hands out carry it.
    pub partition: u16,
    pub store: StoreUrl,
    /// Most steps committed in one journal transaction (group commit).
    pub commit_batch_max: usize,
    /// How long the writer waits for more commands to fill a batch once it has one. Zero (the
    /// default) means batches form from the commands that queued while the previous commit ran,
    /// which under load fills them without adding latency when idle; tokio's timer rounds a
    /// non-zero linger up to about a millisecond.
    pub commit_linger: Duration,
    /// Commands waiting for the writer; past this a submit is refused with `Overloaded`.
    pub command_queue_max: usize,
    /// A snapshot is written after this many journal entries, bounding replay at restart.
    pub snapshot_every_entries: u64,
    /// Whether the writer itself writes snapshots. A ledger node's leaders do not: encoding a
    /// large state stalls the writer, so its standbys (which hold the same state) write them.
    pub leader_snapshots: bool,
    /// How often the writer expires due holds when no command arrives.
    pub tick_interval: Duration,
    /// Journal entries read per query while replaying at start.
    pub replay_page_max: u32,
    /// Connections in the PostgreSQL pool (the writer uses one at a time; snapshots another).
    pub pg_connections_max: u32,
    /// How long a journal operation waits for a database connection before it fails; the writer
    /// then answers `Unavailable` and rebuilds once the database is back.
    pub journal_connect_timeout: Duration,
    /// Committed entries buffered for each in-process subscriber (gateways' seat maps). A
    /// subscriber that falls further behind is told it lagged and resubscribes.
    pub events_buffer_max: usize,
    /// PostgreSQL `lock_timeout` of every journal session: a statement queued this long behind
    /// a lock (a lease update behind a stuck commit) fails, and its node recovers, instead of
    /// waiting on.
    pub pg_lock_timeout: Duration,
    /// PostgreSQL `idle_in_transaction_session_timeout` of every journal session: a session
    /// that sits this long inside a transaction (its process paused or cut off mid-commit) is
    /// ended by the server, which releases the leadership row it locked.
    pub pg_idle_in_transaction_timeout: Duration,
}

impl LedgerConfig {
    pub fn new(store: StoreUrl) -> Self {
        LedgerConfig {
            partition: 0,
            store,
            commit_batch_max: 1_024,
            commit_linger: Duration::ZERO,
            command_queue_max: 65_536,
            snapshot_every_entries: 100_000,
            leader_snapshots: true,
            tick_interval: Duration::from_millis(100),
            replay_page_max: 10_000,
            pg_connections_max: 4,
            journal_connect_timeout: Duration::from_secs(5),
            events_buffer_max: 4_096,
            pg_lock_timeout: PG_LOCK_TIMEOUT_DEFAULT,
            pg_idle_in_transaction_timeout: PG_IDLE_IN_TRANSACTION_TIMEOUT_DEFAULT,
        }
    }
}

/// Most journal entries one group commit may hold: a batch is one transaction, and a larger one
/// holds replies back longer than it saves.
pub const COMMIT_BATCH_MAX_MAX: usize = 65_536;
/// Default `pg_lock_timeout`: far above a commit's lock hold (milliseconds), and above
/// `pg_idle_in_transaction_timeout`, so a lease update queued behind a stalled transaction
/// outlives the server ending that transaction and then goes through.
pub const PG_LOCK_TIMEOUT_DEFAULT: Duration = Duration::from_millis(2_000);
/// Default `pg_idle_in_transaction_timeout`: a journal transaction is never idle for more than a
/// round trip, so a second means its process stalled.
pub const PG_IDLE_IN_TRANSACTION_TIMEOUT_DEFAULT: Duration = Duration::from_millis(1_000);
/// Longest PostgreSQL session timeout: past this a stuck session keeps its partition too long.
pub const PG_SESSION_TIMEOUT_MAX: Duration = Duration::from_secs(60);
/// Shortest PostgreSQL session timeout: below this an ordinary commit under load would be cut.
pub const PG_SESSION_TIMEOUT_MIN: Duration = Duration::from_millis(10);
/// Longest batch linger: past this the writer adds latency to every command for nothing.
pub const COMMIT_LINGER_MAX: Duration = Duration::from_millis(100);

impl LedgerConfig {
    /// The limits the journal's PostgreSQL sessions run under.
    pub fn pg_session(&self) -> crate::journal::PgSession {
        crate::journal::PgSession {
            lock_timeout: self.pg_lock_timeout,
            idle_in_transaction_timeout: self.pg_idle_in_transaction_timeout,
        }
    }

    /// Every setting out of its bounds, each named with the bound it breaks (empty: all good).
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !(1..=COMMIT_BATCH_MAX_MAX).contains(&self.commit_batch_max) {
            problems.push(format!(
                "commit_batch_max must be 1 to {COMMIT_BATCH_MAX_MAX}, got {}",
                self.commit_batch_max
            ));
        }
        if self.commit_linger > COMMIT_LINGER_MAX {
            problems.push(format!(
                "commit_linger must be at most {} µs, got {} µs",
                COMMIT_LINGER_MAX.as_micros(),
                self.commit_linger.as_micros()
            ));
        }
        let session = [
            ("pg_lock_timeout", self.pg_lock_timeout),
            (
                "pg_idle_in_transaction_timeout",
                self.pg_idle_in_transaction_timeout,
            ),
        ];
        for (name, value) in session {
            if !(PG_SESSION_TIMEOUT_MIN..=PG_SESSION_TIMEOUT_MAX).contains(&value) {
                problems.push(format!(
                    "{name} must be {} to {} ms, got {} ms",
                    PG_SESSION_TIMEOUT_MIN.as_millis(),
                    PG_SESSION_TIMEOUT_MAX.as_millis(),
                    value.as_millis()
                ));
            }
        }
        let positive = [
            ("command_queue_max", self.command_queue_max as u64),
            ("snapshot_every_entries", self.snapshot_every_entries),
            ("replay_page_max", u64::from(self.replay_page_max)),
            ("pg_connections_max", u64::from(self.pg_connections_max)),
            ("events_buffer_max", self.events_buffer_max as u64),
        ];
        for (name, value) in positive {
            if value == 0 {
                problems.push(format!("{name} must be at least 1"));
            }
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_timeouts_are_bounded() {
        let mut config = LedgerConfig::new(StoreUrl::Postgres("postgres://h/db".into()));
        assert!(config.problems().is_empty(), "{:?}", config.problems());
        // Zero would turn PostgreSQL's limit off: the stuck session would hold its lock for good.
        config.pg_idle_in_transaction_timeout = Duration::ZERO;
        config.pg_lock_timeout = PG_SESSION_TIMEOUT_MAX + Duration::from_millis(1);
        let problems = config.problems().join("; ");
        assert!(
            problems.contains("pg_idle_in_transaction_timeout"),
            "{problems}"
        );
        assert!(problems.contains("pg_lock_timeout"), "{problems}");
    }

    #[test]
    fn parses_store_urls() {
        let cases = [
            (
                "postgres://u@h/db",
                Some(StoreUrl::Postgres("postgres://u@h/db".into())),
            ),
            (
                "postgresql://h/db",
                Some(StoreUrl::Postgres("postgresql://h/db".into())),
            ),
            (
                "sqlite://data/ledger.db?mode=rwc",
                Some(StoreUrl::Sqlite("data/ledger.db".into())),
            ),
            (
                "sqlite:/tmp/x.db",
                Some(StoreUrl::Sqlite("/tmp/x.db".into())),
            ),
            ("sqlite://", None),
            ("mysql://h/db", None),
        ];
        for (url, want) in cases {
            assert_eq!(StoreUrl::parse(url), want, "{url}");
        }
    }
}
