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

/// The columns [`account_of`] reads, in its order.
const ACCOUNT_BY_EMAIL: &str = "SELECT id, email, password_hash, name, phone, role, created_at_ms \
     FROM accounts WHERE email = $1";
const ACCOUNT_BY_ID: &str = "SELECT id, email, password_hash, name, phone, role, created_at_ms \
     FROM accounts WHERE id = $1";

#[derive(Clone)]
pub struct Store {
    pool: AnyPool,
    /// A read replica for reads that may be slightly stale (browsing, show pages, boards).
    read_pool: Option<AnyPool>,
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
    /// The primary, for writes and for reads that must see them.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
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
        Ok(Store {
            pool,
            read_pool: None,
        })
    }

    /// Inserts an account; `Ok(false)` when the email is taken.
    pub async fn insert_account(&self, account: &Account) -> Result<bool, sqlx::Error> {
        insert_account_with(&self.pool, account).await
    }

    pub async fn account_by_email(&self, email: &str) -> Result<Option<Account>, sqlx::Error> {
        let row = sqlx::query(ACCOUNT_BY_EMAIL)
            .bind(email)
            .fetch_optional(&self.pool)
            .await?;
        row.map(|row| account_of(&row)).transpose()
    }

    pub async fn account_by_id(&self, id: i64) -> Result<Option<Account>, sqlx::Error> {
        let row = sqlx::query(ACCOUNT_BY_ID)
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

    /// The role of the session's account, if the session exists, belongs to `account_id`, is
    /// not revoked and not expired.
    pub async fn session_role(
        &self,
        sid: &str,
        account_id: i64,
        now_ms: i64,
    ) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT a.role FROM sessions s JOIN accounts a ON a.id = s.account_id \
             WHERE s.id = $1 AND s.account_id = $2 AND s.revoked_at_ms IS NULL \
             AND s.expires_at_ms > $3",
        )
        .bind(sid)
        .bind(account_id)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await
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

async fn insert_account_with<'e, E>(executor: E, account: &Account) -> Result<bool, sqlx::Error>
where
    E: sqlx::Executor<'e, Database = sqlx::Any>,
{
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
    .execute(executor)
    .await?;
    Ok(inserted.rows_affected() == 1)
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

/// A seller's company as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Company {
    pub id: i64,
    pub owner_account_id: i64,
    pub name: String,
    pub business_number: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub created_at_ms: i64,
}

/// Why a seller could not be registered.
#[derive(Debug, PartialEq, Eq)]
pub enum SellerConflict {
    Email,
    BusinessNumber,
}

impl Store {
    /// The seller account and its company, both or neither.
    pub async fn insert_seller(
        &self,
        account: &Account,
        company: &Company,
    ) -> Result<Result<(), SellerConflict>, sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        let taken: Option<i64> =
            sqlx::query_scalar("SELECT 1 FROM companies WHERE business_number = $1")
                .bind(&company.business_number)
                .fetch_optional(&mut *tx)
                .await?;
        if taken.is_some() {
            return Ok(Err(SellerConflict::BusinessNumber));
        }
        if !insert_account_with(&mut *tx, account).await? {
            return Ok(Err(SellerConflict::Email));
        }
        sqlx::query(
            "INSERT INTO companies (id, owner_account_id, name, business_number, contact_email, \
             contact_phone, created_at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(company.id)
        .bind(company.owner_account_id)
        .bind(&company.name)
        .bind(&company.business_number)
        .bind(&company.contact_email)
        .bind(&company.contact_phone)
        .bind(company.created_at_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Ok(()))
    }

    pub async fn company_of(&self, owner_account_id: i64) -> Result<Option<Company>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT id, owner_account_id, name, business_number, contact_email, contact_phone, \
             created_at_ms FROM companies WHERE owner_account_id = $1",
        )
        .bind(owner_account_id)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|row| {
            Ok(Company {
                id: row.try_get(0)?,
                owner_account_id: row.try_get(1)?,
                name: row.try_get(2)?,
                business_number: row.try_get(3)?,
                contact_email: row.try_get(4)?,
                contact_phone: row.try_get(5)?,
                created_at_ms: row.try_get(6)?,
            })
        })
        .transpose()
    }

    /// Replaces the account's interests with `(kind, value)` pairs.
    pub async fn set_interests(
        &self,
        account_id: i64,
        interests: &[(&str, &str)],
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM interests WHERE account_id = $1")
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        for (kind, value) in interests {
            sqlx::query("INSERT INTO interests (account_id, kind, value) VALUES ($1, $2, $3)")
                .bind(account_id)
                .bind(*kind)
                .bind(*value)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The account's interests as `(kind, value)`, sorted.
    pub async fn interests(&self, account_id: i64) -> Result<Vec<(String, String)>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT kind, value FROM interests WHERE account_id = $1 ORDER BY kind, value",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
            .collect()
    }
}
