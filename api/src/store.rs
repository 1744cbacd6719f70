//! The API's storage: one set of queries for PostgreSQL (production) and SQLite (`picket up`)
//! through sqlx's `Any` driver. Queries use `$n` placeholders, which both understand, and only
//! SQL both speak; ids are chosen by the application.

use std::time::Duration;

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::{AnyPool, Row};

/// Connections in the API's pool.
pub const POOL_CONNECTIONS_MAX: u32 = 8;
/// How long a query waits for a connection before the request fails with 503.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
}

/// One account as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Account {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub name: String,
    pub phone: Option<String>,
    pub role: String,
    pub created_at_ms: i64,
}

impl Store {
    /// Opens `url` (`postgres://…` or `sqlite://PATH?mode=rwc`) and runs the migrations.
    pub async fn connect(url: &str) -> Result<Store, sqlx::Error> {
        install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(POOL_CONNECTIONS_MAX)
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(url)
            .await?;
        if url.starts_with("sqlite:") {
            // Accounts reference each other; SQLite checks that only when asked.
            sqlx::query("PRAGMA foreign_keys = ON")
                .execute(&pool)
                .await?;
        }
        // The ledger (0001…) and the API (1001…) may share one database and its migrations
        // table; each ignores the other's versions.
        let mut migrator = sqlx::migrate!("./migrations");
        migrator.set_ignore_missing(true);
        migrator.run(&pool).await?;
        Ok(Store { pool })
    }

    /// Inserts an account; `Ok(false)` when the email is taken.
    pub async fn insert_account(&self, account: &Account) -> Result<bool, sqlx::Error> {
        let inserted = sqlx::query(
            "INSERT INTO accounts (id, email, password_hash, name, phone, role, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (email) DO NOTHING",
        )
        .bind(account.id)
        .bind(&account.email)
        .bind(&account.password_hash)
        .bind(&account.name)
        .bind(account.phone.clone())
        .bind(&account.role)
        .bind(account.created_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    pub async fn account_by_email(&self, email: &str) -> Result<Option<Account>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT id, email, password_hash, name, phone, role, created_at_ms \
             FROM accounts WHERE email = $1",
        )
        .bind(email)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| account_of(&row)).transpose()
    }

    pub async fn account_by_id(&self, id: i64) -> Result<Option<Account>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT id, email, password_hash, name, phone, role, created_at_ms \
             FROM accounts WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| account_of(&row)).transpose()
    }

    pub async fn insert_session(
        &self,
        sid: &str,
        account_id: i64,
        now_ms: i64,
        expires_at_ms: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO sessions (id, account_id, created_at_ms, expires_at_ms) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(sid)
        .bind(account_id)
        .bind(now_ms)
        .bind(expires_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Whether the session exists, belongs to `account_id`, is not revoked and not expired.
    pub async fn session_live(
        &self,
        sid: &str,
        account_id: i64,
        now_ms: i64,
    ) -> Result<bool, sqlx::Error> {
        let row = sqlx::query(
            "SELECT 1 FROM sessions WHERE id = $1 AND account_id = $2 \
             AND revoked_at_ms IS NULL AND expires_at_ms > $3",
        )
        .bind(sid)
        .bind(account_id)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.is_some())
    }

    pub async fn revoke_session(&self, sid: &str, now_ms: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE sessions SET revoked_at_ms = $2 WHERE id = $1 AND revoked_at_ms IS NULL",
        )
        .bind(sid)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}

fn account_of(row: &sqlx::any::AnyRow) -> Result<Account, sqlx::Error> {
    Ok(Account {
        id: row.try_get(0)?,
        email: row.try_get(1)?,
        password_hash: row.try_get(2)?,
        name: row.try_get(3)?,
        phone: row.try_get(4)?,
        role: row.try_get(5)?,
        created_at_ms: row.try_get(6)?,
    })
}
