//! Accounts and their sessions.

use crate::store::Store;

/// One account as stored.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct Account {
    pub id: i64,
    pub email: String,
    pub password_hash: String,
    pub name: String,
    pub phone: Option<String>,
    pub role: String,
    pub created_at_ms: i64,
}

const ACCOUNT_BY_EMAIL: &str = "SELECT id, email, password_hash, name, phone, role, created_at_ms \
     FROM accounts WHERE email = $1";
const ACCOUNT_BY_ID: &str = "SELECT id, email, password_hash, name, phone, role, created_at_ms \
     FROM accounts WHERE id = $1";

impl Store {
    /// Inserts an account; `Ok(false)` when the email is taken.
    pub async fn insert_account(&self, account: &Account) -> Result<bool, sqlx::Error> {
        insert_account_with(&self.pool, account).await
    }

    pub async fn account_by_email(&self, email: &str) -> Result<Option<Account>, sqlx::Error> {
        sqlx::query_as(ACCOUNT_BY_EMAIL)
            .bind(email)
            .fetch_optional(&self.pool)
            .await
    }

    pub async fn account_by_id(&self, id: i64) -> Result<Option<Account>, sqlx::Error> {
        sqlx::query_as(ACCOUNT_BY_ID)
            .bind(id)
            .fetch_optional(&self.pool)
            .await
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

/// Inserts an account on `executor` (the pool, or a transaction that also adds its company).
pub(crate) async fn insert_account_with<'e, E>(
    executor: E,
    account: &Account,
) -> Result<bool, sqlx::Error>
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
