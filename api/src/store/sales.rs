//! The durable record of every waiting-room sale (`sales`): what the API puts a sale back from
//! when the waiting room's store lost it (`restore.rs`). JSON columns are text the caller decodes.

use crate::store::Store;

/// A sale's record without its drawn order (which can be megabytes; [`Store::sale_drawn`]
/// reads it when a restore needs it).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct SaleRow {
    pub sale: i64,
    /// JSON `SaleSettings`.
    pub settings: String,
    pub seed: String,
    pub entry_key: String,
    /// 1 once the drawn order is recorded.
    pub has_drawn: i64,
    pub watermark: i64,
}

const SALE_COLUMNS: &str = "SELECT sale, settings, seed, entry_key, \
     CAST(CASE WHEN drawn IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_drawn, watermark FROM sales";

impl Store {
    /// The record of `sale`, if the API has one.
    pub async fn sale_record(&self, sale: i64) -> Result<Option<SaleRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SALE_COLUMNS} WHERE sale = $1"
        )))
        .bind(sale)
        .fetch_optional(&self.pool)
        .await
    }

    /// Records new settings of `sale` (JSON), creating its record with the given secrets when it
    /// has none (an existing record keeps its own). `ends_at_ms` replaces the stored end when
    /// given. Returns the record as stored.
    pub async fn save_sale_settings(
        &self,
        sale: i64,
        settings: &str,
        seed: &str,
        entry_key: &str,
        ends_at_ms: Option<i64>,
        now_ms: i64,
    ) -> Result<SaleRow, sqlx::Error> {
        sqlx::query(
            "INSERT INTO sales (sale, settings, seed, entry_key, ends_at_ms, updated_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (sale) DO UPDATE SET settings = EXCLUDED.settings, \
             ends_at_ms = COALESCE(EXCLUDED.ends_at_ms, sales.ends_at_ms), \
             updated_at_ms = EXCLUDED.updated_at_ms",
        )
        .bind(sale)
        .bind(settings)
        .bind(seed)
        .bind(entry_key)
        .bind(ends_at_ms)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SALE_COLUMNS} WHERE sale = $1"
        )))
        .bind(sale)
        .fetch_one(&self.pool)
        .await
    }

    /// Replaces the recorded secrets of `sale` with the ones its store has: a sale created
    /// before the API kept records (its published seed hash is the store's).
    pub async fn adopt_sale_secrets(
        &self,
        sale: i64,
        seed: &str,
        entry_key: &str,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE sales SET seed = $2, entry_key = $3 WHERE sale = $1")
            .bind(sale)
            .bind(seed)
            .bind(entry_key)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Records the draw of `sale` (JSON), once: a recorded draw is never replaced.
    pub async fn record_sale_drawn(&self, sale: i64, drawn: &str) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE sales SET drawn = $2 WHERE sale = $1 AND drawn IS NULL")
            .bind(sale)
            .bind(drawn)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Moves the recorded watermark of `sale` forward to `watermark` (never back).
    pub async fn record_sale_watermark(
        &self,
        sale: i64,
        watermark: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE sales SET watermark = $2 WHERE sale = $1 AND watermark < $2")
            .bind(sale)
            .bind(watermark)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The recorded draw of `sale` (JSON), if any.
    pub async fn sale_drawn(&self, sale: i64) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar::<_, Option<String>>("SELECT drawn FROM sales WHERE sale = $1")
            .bind(sale)
            .fetch_optional(&self.pool)
            .await
            .map(Option::flatten)
    }

    /// Up to `limit` records of sales not ended at `now_ms`, in sale order after `after`: one
    /// restore pass's share, so a pass's work is bounded however many sales there are.
    pub async fn sales_to_watch(
        &self,
        after: i64,
        now_ms: i64,
        limit: i64,
    ) -> Result<Vec<SaleRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SALE_COLUMNS} WHERE sale > $1 AND (ends_at_ms IS NULL OR ends_at_ms > $2) \
             ORDER BY sale LIMIT $3"
        )))
        .bind(after)
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }
}
