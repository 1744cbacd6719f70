//! The waiting room's sales outlive a store that lost them. The API's database keeps a record of
//! every sale (`sales`, written before the store on every change, so it is the truth): its
//! settings and draw secrets from the moment it is created, and once drawn the pre-queue in drawn
//! order and how far admission had got. On start and then every `sale_restore_interval_ms`, a
//! pass looks at up to `sale_restore_max` sales that have not ended: a sale the store lost
//! (Redis restarted without persistence, or flushed) is put back with the same settings, seed and
//! draw, so `GET /sales/{sale}`, its draw audit and joining work again without an operator; a
//! sale drawn since the last pass has its draw recorded.
//!
//! What a store's loss still costs (docs/operations.md): places given after the open, live
//! admissions and the pre-queue of a sale not yet drawn are not recorded; their owners join
//! again. A draw made less than one interval before the loss is not recorded either: the sale
//! comes back undrawn with its same seed.

use std::sync::Arc;
use std::time::Duration;

use picket_room::{
    DrawSecrets, DrawnRecord, QueueStore, SaleRecord, SaleSettings, SaleView, StoreError, draw,
};

use crate::error::ApiError;
use crate::state::{Api, now_ms};
use crate::store::sales::SaleRow;

/// A recorded draw as the `sales.drawn` column keeps it (JSON).
#[derive(serde::Serialize, serde::Deserialize)]
struct StoredDrawn {
    open_at_ms: u64,
    /// The pre-queue's identities in drawn order.
    order: Vec<String>,
}

fn queue_error(error: StoreError) -> ApiError {
    ApiError::QueueUnavailable(error.to_string())
}

/// Creates `sale` or changes its settings: the API's record first, then the store, so a sale the
/// store loses comes back as last set. A new record gets fresh draw secrets, which the store's
/// new sale takes too; `ends_at_ms` (when the sale closes) ends the record's restores.
pub async fn configure_sale(
    api: &Api,
    queue: &dyn QueueStore,
    sale: u64,
    settings: SaleSettings,
    ends_at_ms: Option<u64>,
) -> Result<SaleView, ApiError> {
    let encoded = serde_json::to_string(&settings).expect("sale settings encode");
    let fresh = DrawSecrets::fresh();
    let row = api
        .store
        .save_sale_settings(
            sale as i64,
            &encoded,
            &fresh.seed,
            &fresh.entry_key,
            ends_at_ms.map(|end| end as i64),
            now_ms() as i64,
        )
        .await?;
    let secrets = DrawSecrets {
        seed: row.seed,
        entry_key: row.entry_key,
    };
    let view = queue
        .configure_with(sale, settings, secrets.clone())
        .await
        .map_err(queue_error)?;
    if view.seed_hash != draw::seed_hash(&secrets.seed) {
        // The store had this sale before the API kept records: the seed hash it published is
        // the store's, so the record takes the store's secrets.
        let theirs = queue.secrets(sale).await.map_err(queue_error)?;
        api.store
            .adopt_sale_secrets(sale as i64, &theirs.seed, &theirs.entry_key)
            .await?;
        tracing::info!(
            sale,
            "sale record took the draw secrets its store already had"
        );
    }
    Ok(view)
}

/// What one pass did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RestorePass {
    /// Sales looked at.
    pub watched: usize,
    /// Sales the store had lost and were put back.
    pub restored: usize,
    /// Draws recorded.
    pub draws_recorded: usize,
    /// Where the next pass goes on (after this sale id), `i64::MIN` to start over.
    pub next_after: i64,
}

/// Restores and records sales every `sale_restore_interval_ms`, for as long as the API lives.
pub async fn restore_sales(api: Arc<Api>) {
    let Some(queue) = api.queue.clone() else {
        return;
    };
    let mut ticker =
        tokio::time::interval(Duration::from_millis(api.config.sale_restore_interval_ms));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut after = i64::MIN;
    loop {
        ticker.tick().await;
        match restore_pass(&api, queue.as_ref(), after).await {
            Ok(pass) => after = pass.next_after,
            // Tried again at the next interval, from the same sale.
            Err(error) => tracing::warn!(%error, "sale restore pass could not finish"),
        }
        api.sale_restore_passes
            .fetch_add(1, std::sync::atomic::Ordering::Release);
    }
}

/// One pass over at most `sale_restore_max` sales after `after` that have not ended.
pub async fn restore_pass(
    api: &Api,
    queue: &dyn QueueStore,
    after: i64,
) -> Result<RestorePass, ApiError> {
    let limit = api.config.sale_restore_max;
    let rows = api
        .store
        .sales_to_watch(after, now_ms() as i64, i64::from(limit))
        .await?;
    let mut pass = RestorePass {
        watched: rows.len(),
        next_after: match rows.last() {
            Some(last) if rows.len() >= limit as usize => last.sale,
            _ => i64::MIN,
        },
        ..RestorePass::default()
    };
    for row in &rows {
        let sale = row.sale as u64;
        match queue.view(sale).await {
            Ok(view) => {
                if keep_record(api, queue, row, &view).await? {
                    pass.draws_recorded += 1;
                }
            }
            Err(StoreError::UnknownSale) => {
                if restore_one(api, queue, row).await? {
                    pass.restored += 1;
                }
            }
            Err(error) => return Err(queue_error(error)),
        }
    }
    Ok(pass)
}

/// Brings a record up to date with its sale in the store: the draw once drawn, and how far
/// admission got. True when it recorded the draw.
async fn keep_record(
    api: &Api,
    queue: &dyn QueueStore,
    row: &SaleRow,
    view: &SaleView,
) -> Result<bool, ApiError> {
    if view.seed.is_none() {
        return Ok(false);
    }
    if view.watermark as i64 > row.watermark {
        api.store
            .record_sale_watermark(row.sale, view.watermark as i64)
            .await?;
    }
    if row.has_drawn != 0 {
        return Ok(false);
    }
    if view.seed_hash != draw::seed_hash(&row.seed) {
        tracing::warn!(
            sale = row.sale,
            "the store's sale was drawn with another seed than its record: its draw is not recorded"
        );
        return Ok(false);
    }
    let order = queue.drawn_order(view.sale).await.map_err(queue_error)?;
    let drawn = StoredDrawn {
        open_at_ms: view.settings.open_at_ms,
        order,
    };
    let encoded = serde_json::to_string(&drawn).expect("a draw encodes");
    api.store.record_sale_drawn(row.sale, &encoded).await?;
    tracing::info!(
        sale = row.sale,
        drawn = drawn.order.len(),
        "sale draw recorded"
    );
    Ok(true)
}

/// Puts back a sale the store lost, from its record. A record that cannot be read is logged
/// and left alone (nothing a pass reads can stop the others).
async fn restore_one(api: &Api, queue: &dyn QueueStore, row: &SaleRow) -> Result<bool, ApiError> {
    let settings: SaleSettings = match serde_json::from_str(&row.settings) {
        Ok(settings) => settings,
        Err(error) => {
            tracing::warn!(sale = row.sale, %error, "sale record unreadable: not restored");
            return Ok(false);
        }
    };
    let drawn = if row.has_drawn != 0 {
        let stored = api.store.sale_drawn(row.sale).await?.unwrap_or_default();
        match serde_json::from_str::<StoredDrawn>(&stored) {
            Ok(stored) => Some(DrawnRecord {
                open_at_ms: stored.open_at_ms,
                order: stored.order,
                watermark: row.watermark.max(0) as u64,
            }),
            Err(error) => {
                tracing::warn!(sale = row.sale, %error, "recorded draw unreadable: not restored");
                return Ok(false);
            }
        }
    } else {
        None
    };
    if drawn.is_none() && settings.open_at_ms <= now_ms() {
        tracing::warn!(
            sale = row.sale,
            "sale lost past its open before its draw was recorded: restored undrawn, same seed"
        );
    }
    let record = SaleRecord {
        settings,
        secrets: DrawSecrets {
            seed: row.seed.clone(),
            entry_key: row.entry_key.clone(),
        },
        drawn,
    };
    if let Err(why) = record.check() {
        tracing::warn!(sale = row.sale, %why, "sale record invalid: not restored");
        return Ok(false);
    }
    let restored = queue
        .restore(row.sale as u64, &record)
        .await
        .map_err(queue_error)?;
    // The store's sold-out mark is not in the record: the ledger's events say it (a gateway
    // marks it only when it sees the seats change).
    if restored && api.seats_left.sold_out(row.sale as u64) == Some(true) {
        queue
            .set_sold_out(row.sale as u64, true)
            .await
            .map_err(queue_error)?;
    }
    if restored {
        tracing::info!(
            sale = row.sale,
            drawn = record.drawn.as_ref().map_or(0, |d| d.order.len()),
            "sale restored from its record"
        );
    }
    Ok(restored)
}
