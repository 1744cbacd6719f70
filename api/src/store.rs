//! The API's storage: one set of queries for PostgreSQL (production) and SQLite (`picket up`)
//! through sqlx's `Any` driver. Queries use `$n` placeholders, which both understand, and only
//! SQL both speak; ids are chosen by the application.
//!
//! Every SQL statement of the API is in this module's files, one per concern; handlers call
//! their functions and never build a query. Rows come back as `sqlx::FromRow` structs read by
//! column name. Through `Any` a SQLite INTEGER and a PostgreSQL BIGINT both decode as `i64`,
//! so every integer column is read as `i64` (flags such as `posts.hidden` too). JSON columns are `TEXT` in both and come back as `String`s that the
//! caller decodes.

pub mod accounts;
pub mod autopay;
pub mod board;
pub mod bookings;
pub mod catalog;
pub mod notification_settings;
pub mod notifications;
pub mod push;
pub mod reminders;
pub mod sales;
pub mod sellers;
pub mod tickets;
pub mod transfers;
pub mod waitlist;

use std::time::Duration;

use sqlx::AnyPool;
use sqlx::any::{AnyPoolOptions, install_default_drivers};

/// Whether `conn` is to SQLite (else PostgreSQL).
pub fn is_sqlite(conn: &sqlx::AnyConnection) -> bool {
    conn.backend_name() == <sqlx::Sqlite as sqlx::Database>::NAME
}

/// Placeholders for `rows` groups of `columns` bind parameters, the first numbered `first`:
/// `($1, $2), ($3, $4)` on PostgreSQL, `(?, ?), (?, ?)` on SQLite (`sqlite`). For statements
/// with thousands of parameters (multi-row inserts): SQLite looks each `$n` up by name with a
/// linear search, when it prepares the statement and again for every value bound, which makes
/// such a statement quadratic (most of a 1,000-row insert's time), while `?`s are bound in
/// order. Either way the values are bound in the order of the placeholders.
pub fn parameter_groups(sqlite: bool, rows: usize, columns: usize, first: usize) -> String {
    use std::fmt::Write as _;
    let mut sql = String::with_capacity(rows * columns * 7);
    let mut n = first;
    for row in 0..rows {
        sql.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            if sqlite {
                sql.push('?');
            } else {
                let _ = write!(sql, "${n}");
            }
            n += 1;
        }
        sql.push(')');
    }
    sql
}

/// Connections in the API's pool.
pub const POOL_CONNECTIONS_MAX: u32 = 8;
/// How long a query waits for a connection before the request fails with 503.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    /// The primary is SQLite (`picket up`): write transactions take the write lock at BEGIN.
    sqlite: bool,
    /// A read replica for reads that may be slightly stale (browsing, show pages, boards).
    read_pool: Option<AnyPool>,
}

impl Store {
    /// The primary, for writes and for reads that must see them.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// A transaction on the primary, for writes that go together (the store's functions that
    /// take a connection run in it).
    ///
    /// On SQLite the transaction takes the write lock at once (`BEGIN IMMEDIATE`): a deferred
    /// transaction that reads, then writes while another connection is writing, is refused with
    /// "database is locked" at once instead of waiting (SQLite's deadlock avoidance), which the
    /// client would see as a 503.
    pub async fn begin(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        if self.sqlite {
            self.pool.begin_with("BEGIN IMMEDIATE").await
        } else {
            self.pool.begin().await
        }
    }

    /// The read replica when one is configured, else the primary: for reads that can be stale.
    pub fn reader(&self) -> &AnyPool {
        self.read_pool.as_ref().unwrap_or(&self.pool)
    }

    /// Sends stale-tolerant reads to the replica at `url` (`DATABASE_READ_URL`). Migrations
    /// are not run there: a replica follows its primary's schema.
    pub async fn with_read_replica(mut self, url: &str) -> Result<Store, sqlx::Error> {
        let pool = AnyPoolOptions::new()
            .max_connections(POOL_CONNECTIONS_MAX)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(url)
            .await?;
        self.read_pool = Some(pool);
        Ok(self)
    }

    /// Opens `url` (`postgres://…` or `sqlite://PATH?mode=rwc`) and runs the migrations.
    pub async fn connect(url: &str) -> Result<Store, sqlx::Error> {
        install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(POOL_CONNECTIONS_MAX)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(url)
            .await?;
        let sqlite = url.starts_with("sqlite:");
        if sqlite {
            // Accounts reference each other; SQLite checks that only when asked.
            sqlx::query("PRAGMA foreign_keys = ON")
                .execute(&pool)
                .await?;
            // Readers and the writer do not block each other (the setting stays with the file).
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        // The ledger (0001…) and the API (1001…) may share one database and its migrations
        // table; each ignores the other's versions.
        let mut migrator = sqlx::migrate!("./migrations");
        migrator.set_ignore_missing(true);
        migrator.run(&pool).await?;
        Ok(Store {
            pool,
            sqlite,
            read_pool: None,
        })
    }
}
