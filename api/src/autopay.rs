//! The waitlist's auto-pay worker (docs/payments.md, "Auto-pay"): charges an auto-pay entry's
//! billing key when the ledger holds places for it, and books them or moves them on.
//!
//! It follows each partition's committed entries from a cursor kept in the API's database
//! (`autopay_cursors`, like the notifier's) and records every `WaitlistOffered` of an `AutoPay`
//! entry in `autopay_charges` in the same transaction that moves the cursor. Then, for each hold
//! still to settle, the ledger's hold decides what is left to do:
//!
//! - active: charge the method behind the entry's `billing_ref` for exactly the hold's amount,
//!   under the hold's one order (`picket_payments::autopay::order_of`) and idempotency key; book
//!   the charge with `Confirm` (`Flow::book_charged`, as checkout books: `pay-<order>`, voided
//!   at once if the ledger refuses); a declined card (or a removed method) is `ChargeFailed`,
//!   so the ledger offers the places to the next entry. Timeouts and 5xx are retried with
//!   bounded backoff, then left for the next round.
//! - booked, released or expired: a charge of the hold's order that did not book it must not
//!   stand; it is voided (`autopay-void-<order>`).
//!
//! Its state is the ledger's holds and the provider's records, never memory: a worker that dies
//! between any two steps finds the row again, charges under the same key (the provider answers
//! with the first charge, or refuses a duplicate order, which the worker then looks up), and
//! books under the same ledger key. Several workers (one per API process) are safe for the same
//! reasons; each call is only done twice.

use std::sync::Arc;
use std::time::Duration;

use picket_ledger_client::{LedgerClient, ReadError};
use picket_ledger_core::{
    Command, Event, HoldId, HoldStatus, HoldView, IdempotencyKey, PerformanceId, Rejection, Reply,
    Request, WaitlistEntryId, WaitlistMode,
};
use picket_payments::autopay::{
    self, AUTOPAY_WORKER_ACTOR, AutoPayMetrics, CHARGE_ATTEMPTS_MAX, ChargeVerdict,
};
use picket_payments::{BillingCharge, Flow, FlowError, OrderId, PaymentError};
use tokio::sync::watch;

use crate::state::now_ms;
use crate::store::Store;
use crate::store::autopay::{AutoPayChargeRow, insert_autopay_charge, set_autopay_cursor};

/// How often the worker looks for new entries and holds to settle.
pub const AUTOPAY_POLL_INTERVAL: Duration = Duration::from_millis(250);
/// Wait after a failed round before the next.
pub const AUTOPAY_RETRY_DELAY: Duration = Duration::from_secs(1);
/// Ledger entries read per request.
pub const AUTOPAY_ENTRIES_BATCH_MAX: u32 = 256;
/// Batches read per partition per round, so a busy partition does not starve the charges.
pub const AUTOPAY_ROUND_BATCHES_MAX: usize = 8;
/// Holds settled per round (oldest first); the rest wait for the next round.
pub const AUTOPAY_CHARGES_PER_ROUND_MAX: i64 = 64;

/// Why a round failed; it is logged and tried again.
#[derive(Debug, thiserror::Error)]
pub enum AutoPayError {
    #[error("the store failed: {0}")]
    Store(#[from] sqlx::Error),
    #[error("the ledger's entries cannot be read: {0}")]
    Read(#[from] ReadError),
}

/// What became of one hold in a round.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Settled {
    /// Booked with its charge.
    Booked,
    /// The charge failed; the ledger was told and moved the places on.
    Failed(String),
    /// The hold closed (booked otherwise, released, expired) with no charge of its order
    /// standing.
    Closed,
    /// Not settled yet (the provider or the ledger did not answer): the next round tries again.
    Later,
}

/// The auto-pay worker of some ledger partitions.
pub struct AutoPayWorker {
    store: Store,
    ledger: LedgerClient,
    flow: Arc<Flow>,
    partitions: Vec<u16>,
    metrics: Arc<AutoPayMetrics>,
}

impl AutoPayWorker {
    pub fn new(
        store: Store,
        ledger: LedgerClient,
        flow: Arc<Flow>,
        partitions: Vec<u16>,
        metrics: Arc<AutoPayMetrics>,
    ) -> AutoPayWorker {
        AutoPayWorker {
            store,
            ledger,
            flow,
            partitions,
            metrics,
        }
    }

    /// Rounds until `stop` turns true.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        tracing::info!(partitions = ?self.partitions, "auto-pay worker started");
        loop {
            if *stop.borrow() {
                return;
            }
            let delay = match self.round().await {
                Ok(true) => Duration::ZERO,
                Ok(false) => AUTOPAY_POLL_INTERVAL,
                Err(error) => {
                    tracing::warn!(%error, "auto-pay round failed; trying again");
                    AUTOPAY_RETRY_DELAY
                }
            };
            tokio::select! {
                _ = stop.changed() => {}
                _ = tokio::time::sleep(delay) => {}
            }
        }
    }

    /// One round: every partition's new entries, then the holds to settle; `true` when more
    /// entries wait than a round reads.
    pub async fn round(&self) -> Result<bool, AutoPayError> {
        let mut more = false;
        for &partition in &self.partitions {
            more |= self.follow(partition).await?;
        }
        for row in self
            .store
            .autopay_charges(AUTOPAY_CHARGES_PER_ROUND_MAX)
            .await?
        {
            let settled = self.settle(&row).await?;
            if settled != Settled::Later {
                tracing::info!(
                    hold = row.hold_id,
                    entry = row.entry,
                    ?settled,
                    "auto-pay hold settled"
                );
                self.store.drop_autopay_charge(row.hold_id).await?;
            }
        }
        Ok(more)
    }

    /// Records the auto-pay offers of the partition's entries after the cursor, moving the
    /// cursor in the same transaction; `true` when it stopped with more to read.
    async fn follow(&self, partition: u16) -> Result<bool, AutoPayError> {
        let mut cursor = self.store.autopay_cursor(partition).await?;
        for _ in 0..AUTOPAY_ROUND_BATCHES_MAX {
            let entries = match self
                .ledger
                .entries_after(partition, cursor, AUTOPAY_ENTRIES_BATCH_MAX)
                .await
            {
                Ok(entries) => entries,
                Err(ReadError::Gone { first, .. }) => {
                    // Retention dropped them: their holds lapse in the ledger and move on.
                    tracing::error!(
                        partition,
                        from = cursor + 1,
                        to = first - 1,
                        "ledger entries gone before the auto-pay worker read them"
                    );
                    let mut conn = self.store.pool().acquire().await?;
                    set_autopay_cursor(&mut conn, partition, first - 1).await?;
                    cursor = first - 1;
                    continue;
                }
                Err(error) => return Err(error.into()),
            };
            let Some(last) = entries.last().map(|e| e.seq) else {
                return Ok(false);
            };
            let mut tx = self.store.begin().await?;
            for committed in entries.iter().filter(|c| c.seq > cursor) {
                for event in &committed.events {
                    if let Some(row) = charge_row(event) {
                        insert_autopay_charge(&mut tx, &row).await?;
                    }
                }
            }
            set_autopay_cursor(&mut tx, partition, last).await?;
            tx.commit().await?;
            cursor = last;
        }
        Ok(true)
    }

    /// Does what is left to do for one auto-pay hold.
    pub async fn settle(&self, row: &AutoPayChargeRow) -> Result<Settled, AutoPayError> {
        let performance = PerformanceId(row.performance as u64);
        let hold = HoldId(row.hold_id as u64);
        let order = autopay::order_of(performance, hold);
        let view = match self.ledger.hold(performance, hold).await {
            Ok(Some(view)) => view,
            Ok(None) => {
                tracing::error!(hold = hold.0, "an auto-pay hold the ledger does not know");
                return Ok(Settled::Closed);
            }
            Err(_) => return Ok(Settled::Later),
        };
        match view.status {
            // Past its deadline the ledger expires it before any command: wait for that rather
            // than charge a hold that cannot be booked, or decide on this process's clock.
            HoldStatus::Active if view.expires_at_ms <= now_ms() => Ok(Settled::Later),
            HoldStatus::Active => self.charge_and_book(row, &order, &view).await,
            HoldStatus::Confirmed(_) | HoldStatus::Released | HoldStatus::Expired => {
                Ok(self.close(&order, &view).await)
            }
        }
    }

    async fn charge_and_book(
        &self,
        row: &AutoPayChargeRow,
        order: &OrderId,
        view: &HoldView,
    ) -> Result<Settled, AutoPayError> {
        let credentials = self.store.billing_credentials(&row.billing_ref).await?;
        let Some(credentials) = credentials.filter(|c| c.account_id as u64 == view.buyer.0) else {
            return Ok(self
                .charge_failed(
                    row,
                    order,
                    "결제수단이 삭제되었습니다 / the payment method was removed",
                )
                .await);
        };
        let charge = BillingCharge {
            billing_key: credentials.billing_key,
            customer_key: credentials.customer_key,
            order_id: order.to_string(),
            order_name: picket_payments::flow::order_name(view),
            // The ledger's amount for the hold, never anyone's say.
            amount_won: view.amount_won,
            idempotency_key: autopay::charge_key(order),
        };
        match self.charge(&charge, order).await {
            ChargeVerdict::Charged(record) => {
                match self.flow.book_charged(order, record).await {
                    Ok(booked) => {
                        self.metrics.booked.inc();
                        tracing::info!(order = %order, booking = booked.booking.0,
                            amount_won = booked.amount_won, "auto-pay booked");
                        Ok(Settled::Booked)
                    }
                    Err(FlowError::Refunded {
                        voided: true,
                        reason,
                    }) => {
                        self.metrics.voided.inc();
                        tracing::info!(order = %order, %reason, "auto-pay hold closed before booking; charge voided");
                        Ok(Settled::Closed)
                    }
                    // The ledger did not answer, or the void failed: the next round reads the
                    // hold again (booked, or closed and its charge voided).
                    Err(error) => {
                        tracing::warn!(order = %order, %error, "auto-pay booking not done yet");
                        Ok(Settled::Later)
                    }
                }
            }
            ChargeVerdict::Declined { reason } | ChargeVerdict::Refused { reason } => {
                Ok(self.charge_failed(row, order, &reason).await)
            }
            ChargeVerdict::LookUp | ChargeVerdict::Retry => Ok(Settled::Later),
        }
    }

    /// The charge with its retries: `Retry` when every attempt failed retryably.
    async fn charge(&self, charge: &BillingCharge, order: &OrderId) -> ChargeVerdict {
        for attempt in 0..CHARGE_ATTEMPTS_MAX {
            tokio::time::sleep(autopay::backoff(attempt)).await;
            let answer = self.flow.provider().charge_billing_key(charge).await;
            let verdict = match autopay::judge_charge(&answer, order, charge.amount_won) {
                // Charged before under a key the provider forgot: the order's record says how.
                ChargeVerdict::LookUp => match self
                    .flow
                    .provider()
                    .payment_by_order(&charge.order_id)
                    .await
                {
                    Ok(record) => autopay::judge_record(&record, order, charge.amount_won),
                    Err(error) if error.is_retryable() => ChargeVerdict::Retry,
                    Err(error) => ChargeVerdict::Refused {
                        reason: autopay::reason(&error.to_string()),
                    },
                },
                verdict => verdict,
            };
            if verdict != ChargeVerdict::Retry {
                return verdict;
            }
            self.metrics.retried.inc();
            tracing::info!(order = %order, attempt, "auto-pay charge failed; retrying");
        }
        ChargeVerdict::Retry
    }

    /// Tells the ledger the charge failed, so the places move on to the next entry.
    async fn charge_failed(
        &self,
        row: &AutoPayChargeRow,
        order: &OrderId,
        reason: &str,
    ) -> Settled {
        let reason = autopay::reason(reason);
        let request = Request {
            actor: AUTOPAY_WORKER_ACTOR,
            key: IdempotencyKey::new(autopay::charge_failed_key(order))
                .expect("an order id is at most 60 printable bytes"),
            command: Command::ChargeFailed {
                performance: PerformanceId(row.performance as u64),
                entry: WaitlistEntryId(row.entry as u64),
                reason: reason.clone(),
            },
        };
        match self.ledger.submit(request).await {
            Ok(Ok(Reply::ChargeFailureRecorded { .. })) => {
                self.metrics.failed.inc();
                tracing::info!(order = %order, %reason, "auto-pay charge failed; places move on");
                Settled::Failed(reason)
            }
            // The entry ended meanwhile (left, lapsed, called off): nothing to move on.
            Ok(Err(
                Rejection::UnknownWaitlistEntry
                | Rejection::NoWaitlistOffer
                | Rejection::NotAutoPay,
            )) => Settled::Closed,
            Ok(other) => {
                tracing::error!(order = %order, ?other, "the ledger answered ChargeFailed unexpectedly");
                Settled::Closed
            }
            Err(_) => Settled::Later,
        }
    }

    /// A closed hold: a charge of its order stands only if it is what booked the hold.
    async fn close(&self, order: &OrderId, view: &HoldView) -> Settled {
        let provider = self.flow.provider();
        let record = match provider.payment_by_order(&order.to_string()).await {
            Ok(record) => record,
            Err(PaymentError::NotFound) => return Settled::Closed,
            Err(error) if error.is_retryable() || error == PaymentError::Unauthorized => {
                return Settled::Later;
            }
            Err(error) => {
                tracing::error!(order = %order, %error, "an auto-pay order cannot be looked up; left for reconciliation");
                return Settled::Closed;
            }
        };
        if record.balance_won == 0 || record.order_id != order.to_string() {
            return Settled::Closed;
        }
        let booked_by_it = matches!(view.status, HoldStatus::Confirmed(_))
            && view.payment_ref.as_deref() == Some(record.payment_key.as_str());
        if booked_by_it {
            self.metrics.booked.inc();
            return Settled::Booked;
        }
        if self
            .flow
            .void_charge(order, &record, &autopay::void_key(order))
            .await
        {
            self.metrics.voided.inc();
            tracing::info!(order = %order, "auto-pay charge of a closed hold voided");
            Settled::Closed
        } else {
            Settled::Later
        }
    }
}

/// The row an auto-pay offer makes; `None` for any other event.
fn charge_row(event: &Event) -> Option<AutoPayChargeRow> {
    match event {
        Event::WaitlistOffered {
            performance,
            entry,
            hold,
            buyer,
            amount_won,
            deadline_ms,
            mode: WaitlistMode::AutoPay { billing_ref },
            ..
        } => Some(AutoPayChargeRow {
            hold_id: hold.0 as i64,
            performance: performance.0 as i64,
            entry: entry.0 as i64,
            buyer: buyer.0 as i64,
            billing_ref: billing_ref.clone(),
            amount_won: *amount_won as i64,
            deadline_ms: *deadline_ms as i64,
        }),
        _ => None,
    }
}
