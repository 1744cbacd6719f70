//! The waitlist's auto-pay: members' billing methods (`billing_methods`) and the payments
//! worker's cursor and charges still to settle (`autopay_cursors`, `autopay_charges`).

use sqlx::AnyConnection;

use crate::store::Store;

/// A member's billing method as "my payment methods" shows it (the billing key stays here).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct BillingMethodRow {
    pub id: i64,
    pub account_id: i64,
    pub customer_key: String,
    pub billing_ref: String,
    pub status: String,
    pub card_masked: Option<String>,
    pub created_at_ms: i64,
}

/// What the worker charges an entry's billing reference with.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct BillingCredentials {
    pub account_id: i64,
    pub billing_key: String,
    pub customer_key: String,
}

/// An auto-pay hold the worker has still to settle.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct AutoPayChargeRow {
    pub hold_id: i64,
    pub performance: i64,
    pub entry: i64,
    pub buyer: i64,
    pub billing_ref: String,
    pub amount_won: i64,
    pub deadline_ms: i64,
}

/// Records an auto-pay offer to settle (once: a replayed entry adds nothing).
pub async fn insert_autopay_charge(
    conn: &mut AnyConnection,
    row: &AutoPayChargeRow,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO autopay_charges (hold_id, performance, entry, buyer, billing_ref, amount_won, deadline_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (hold_id) DO NOTHING",
    )
    .bind(row.hold_id)
    .bind(row.performance)
    .bind(row.entry)
    .bind(row.buyer)
    .bind(&row.billing_ref)
    .bind(row.amount_won)
    .bind(row.deadline_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Moves the auto-pay worker's cursor of `partition` to `seq` (never back).
pub async fn set_autopay_cursor(
    conn: &mut AnyConnection,
    partition: u16,
    seq: u64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO autopay_cursors (ledger_partition, seq) VALUES ($1, $2) \
         ON CONFLICT (ledger_partition) DO UPDATE SET seq = excluded.seq \
         WHERE autopay_cursors.seq < excluded.seq",
    )
    .bind(i64::from(partition))
    .bind(seq as i64)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// Starts a registration of `account_id`'s: a pending method, replacing the member's
    /// earlier pending ones (a member registers one card at a time).
    pub async fn start_billing_method(&self, row: &BillingMethodRow) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM billing_methods WHERE account_id = $1 AND status = 'pending'")
            .bind(row.account_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO billing_methods (id, account_id, customer_key, billing_ref, status, created_at_ms) \
             VALUES ($1, $2, $3, $4, 'pending', $5)",
        )
        .bind(row.id)
        .bind(row.account_id)
        .bind(&row.customer_key)
        .bind(&row.billing_ref)
        .bind(row.created_at_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// The method (pending or active) of a provider customerKey.
    pub async fn billing_method_of_customer(
        &self,
        customer_key: &str,
    ) -> Result<Option<BillingMethodRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, account_id, customer_key, billing_ref, status, card_masked, created_at_ms \
             FROM billing_methods WHERE customer_key = $1",
        )
        .bind(customer_key)
        .fetch_optional(&self.pool)
        .await
    }

    /// Makes a pending method active with the provider's billing key and masked card.
    pub async fn activate_billing_method(
        &self,
        id: i64,
        billing_key: &str,
        card_masked: Option<&str>,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE billing_methods SET status = 'active', billing_key = $2, card_masked = $3 \
             WHERE id = $1 AND status = 'pending'",
        )
        .bind(id)
        .bind(billing_key)
        .bind(card_masked)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// `account_id`'s active methods, oldest first, at most `limit`.
    pub async fn billing_methods(
        &self,
        account_id: i64,
        limit: i64,
    ) -> Result<Vec<BillingMethodRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, account_id, customer_key, billing_ref, status, card_masked, created_at_ms \
             FROM billing_methods WHERE account_id = $1 AND status = 'active' ORDER BY id LIMIT $2",
        )
        .bind(account_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    /// `account_id`'s active method `id`.
    pub async fn billing_method(
        &self,
        account_id: i64,
        id: i64,
    ) -> Result<Option<BillingMethodRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, account_id, customer_key, billing_ref, status, card_masked, created_at_ms \
             FROM billing_methods WHERE id = $1 AND account_id = $2 AND status = 'active'",
        )
        .bind(id)
        .bind(account_id)
        .fetch_optional(&self.pool)
        .await
    }

    /// Deletes `account_id`'s method `id` (pending or active): whether there was one.
    pub async fn delete_billing_method(
        &self,
        account_id: i64,
        id: i64,
    ) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("DELETE FROM billing_methods WHERE id = $1 AND account_id = $2")
            .bind(id)
            .bind(account_id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// The billing key and customer of an active method's `billing_ref`.
    pub async fn billing_credentials(
        &self,
        billing_ref: &str,
    ) -> Result<Option<BillingCredentials>, sqlx::Error> {
        sqlx::query_as(
            "SELECT account_id, billing_key, customer_key FROM billing_methods \
             WHERE billing_ref = $1 AND status = 'active' AND billing_key IS NOT NULL",
        )
        .bind(billing_ref)
        .fetch_optional(&self.pool)
        .await
    }

    /// The auto-pay worker's cursor of `partition` (0: nothing read).
    pub async fn autopay_cursor(&self, partition: u16) -> Result<u64, sqlx::Error> {
        let seq: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM autopay_cursors WHERE ledger_partition = $1")
                .bind(i64::from(partition))
                .fetch_optional(&self.pool)
                .await?;
        Ok(seq.unwrap_or(0) as u64)
    }

    /// Auto-pay holds still to settle, oldest offer first (hold ids grow), at most `limit`.
    pub async fn autopay_charges(&self, limit: i64) -> Result<Vec<AutoPayChargeRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT hold_id, performance, entry, buyer, billing_ref, amount_won, deadline_ms \
             FROM autopay_charges ORDER BY hold_id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    /// The hold is settled: booked, its failed charge reported, or nothing of it left standing.
    pub async fn drop_autopay_charge(&self, hold_id: i64) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM autopay_charges WHERE hold_id = $1")
            .bind(hold_id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}
