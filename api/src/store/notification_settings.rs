//! Members' notification choices (`notification_settings`): language and channels per kind.
//! The member's routes read and replace them; the notifier reads them to compose.

use sqlx::AnyConnection;

use super::Store;

/// A member's stored choices: `language` (`ko`, `en`) and `channels` (JSON object kind →
/// `{"app", "push"}`).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ChoicesRow {
    pub account_id: i64,
    pub language: String,
    pub channels: String,
}

/// The stored choices of `account_id` (none: the defaults).
pub async fn choices_of(
    conn: &mut AnyConnection,
    account_id: i64,
) -> Result<Option<ChoicesRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT account_id, language, channels FROM notification_settings WHERE account_id = $1",
    )
    .bind(account_id)
    .fetch_optional(&mut *conn)
    .await
}

/// The stored choices of accounts in `low..=high` (a batch of recipients by ascending id).
pub async fn choices_between(
    conn: &mut AnyConnection,
    low: i64,
    high: i64,
) -> Result<Vec<ChoicesRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT account_id, language, channels FROM notification_settings \
         WHERE account_id >= $1 AND account_id <= $2",
    )
    .bind(low)
    .bind(high)
    .fetch_all(&mut *conn)
    .await
}

impl Store {
    /// The member's stored choices (none: the defaults).
    pub async fn notification_choices(
        &self,
        account_id: i64,
    ) -> Result<Option<ChoicesRow>, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        choices_of(&mut conn, account_id).await
    }

    /// Replaces the member's choices.
    pub async fn set_notification_choices(
        &self,
        account_id: i64,
        language: &str,
        channels: &str,
        now_ms: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO notification_settings (account_id, language, channels, updated_at_ms) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (account_id) DO UPDATE SET \
             language = excluded.language, channels = excluded.channels, \
             updated_at_ms = excluded.updated_at_ms",
        )
        .bind(account_id)
        .bind(language)
        .bind(channels)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
