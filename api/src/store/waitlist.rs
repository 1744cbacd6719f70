//! Which performances' waitlists a member joined (`waitlist_members`): what "my waitlist" reads
//! the ledger for. The entries themselves live in the ledger.

use crate::store::Store;

/// Rows read for one member at most: one past the per-member bound, so a full list is told
/// from an overfull one (`crate::waitlist::WAITLISTS_PER_MEMBER_MAX`).
pub const WAITLIST_ROWS_MAX: i64 = 64;

impl Store {
    /// The performances whose waitlist `account_id` joined, oldest first.
    pub async fn waitlist_performances(&self, account_id: i64) -> Result<Vec<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT performance FROM waitlist_members WHERE account_id = $1 \
             ORDER BY joined_at_ms, performance LIMIT $2",
        )
        .bind(account_id)
        .bind(WAITLIST_ROWS_MAX)
        .fetch_all(&self.pool)
        .await
    }

    /// Records that `account_id` joins `performance`'s waitlist (once).
    pub async fn add_waitlist_performance(
        &self,
        account_id: i64,
        performance: i64,
        at_ms: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO waitlist_members (account_id, performance, joined_at_ms) \
             VALUES ($1, $2, $3) ON CONFLICT (account_id, performance) DO NOTHING",
        )
        .bind(account_id)
        .bind(performance)
        .bind(at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Forgets `performance` for `account_id`: the ledger holds none of its entries there.
    pub async fn drop_waitlist_performance(
        &self,
        account_id: i64,
        performance: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM waitlist_members WHERE account_id = $1 AND performance = $2")
            .bind(account_id)
            .bind(performance)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
