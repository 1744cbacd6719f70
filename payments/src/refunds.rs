//! The refund worker: pays every refund the ledger owes, once (invariant 12).
//!
//! A cancellation journals `RefundOwed` (its [`RefundId`] allocated by the ledger); the worker
//! follows the committed entries of each partition in order, from the first, and keeps in a
//! [`RefundBook`] the refunds owed and not yet `RefundPaid`. For each one it asks the provider to
//! cancel that amount of the booking's payment with the idempotency key
//! [`idempotency_key`]`(refund)` = `refund-<id>`, then sends the ledger `RecordRefund` with the
//! provider's transaction id. Its state is the journal, never memory: killed between the two
//! calls, a restarted worker reads the journal again, finds the refund still owed, and calls the
//! provider again with the same key — the provider answers with the first cancel instead of
//! making a second one — and then records it.
//!
//! Several workers on one ledger (one per API process) are safe: each may call the provider for
//! the same refund, but the shared idempotency key makes it one cancel at the provider, and the
//! ledger records it once (`RecordRefund` of a paid refund is `RefundAlreadyRecorded`).
//!
//! Retryable provider errors (timeout, 5xx) are retried with bounded exponential backoff
//! ([`REFUND_ATTEMPTS_MAX`], [`REFUND_BACKOFF_FIRST`], [`REFUND_BACKOFF_MAX`]); a refusal a retry
//! will not change is logged, counted ([`RefundMetrics::refused`]) and left for reconciliation
//! (docs/payments.md). The decisions ([`RefundBook`], [`judge_cancel`], [`backoff`]) are pure;
//! [`RefundWorker`] does the I/O.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

use picket_ledger_client::{ENTRIES_AFTER_MAX, LedgerClient, ReadError, SubmitError};
use picket_ledger_core::{
    ActorId, BookingId, Command, Event, IdempotencyKey, PerformanceId, RefundId, Rejection, Reply,
    Request, Won,
};

use crate::provider::{PaymentError, PaymentProvider, PaymentRecord};

/// Provider calls for one refund before it is left for the next pass (retryable errors only).
pub const REFUND_ATTEMPTS_MAX: u32 = 6;
/// Wait before the second attempt; doubled per attempt up to [`REFUND_BACKOFF_MAX`].
pub const REFUND_BACKOFF_FIRST: Duration = Duration::from_millis(200);
pub const REFUND_BACKOFF_MAX: Duration = Duration::from_secs(10);
/// Wait between two passes over the journal once caught up.
pub const REFUND_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// The actor the worker's `RecordRefund` commands are sent as: the platform itself (the
/// catalog's commands use it too; the worker's keys are all `refund-<id>`).
pub const REFUND_WORKER_ACTOR: ActorId = ActorId(0);
/// What the provider is told a refund is for (Toss's `cancelReason`).
pub const REFUND_REASON: &str = "예매 취소 환불 (booking cancelled)";

/// One refund the ledger owes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OwedRefund {
    pub performance: PerformanceId,
    pub booking: BookingId,
    pub refund: RefundId,
    /// The booking's provider payment key.
    pub payment_ref: String,
    pub amount_won: Won,
}

/// Refunds owed and not yet paid, from the journal's events (pure).
#[derive(Clone, Debug, Default)]
pub struct RefundBook {
    owed: BTreeMap<RefundId, OwedRefund>,
}

impl RefundBook {
    /// Takes in one committed entry's events, in journal order.
    pub fn apply(&mut self, events: &[Event]) {
        for event in events {
            match event {
                Event::RefundOwed {
                    performance,
                    booking,
                    refund,
                    payment_ref,
                    amount_won,
                } => {
                    let owed = OwedRefund {
                        performance: *performance,
                        booking: *booking,
                        refund: *refund,
                        payment_ref: payment_ref.clone(),
                        amount_won: *amount_won,
                    };
                    self.owed.insert(*refund, owed);
                }
                Event::RefundPaid { refund, .. } => {
                    self.owed.remove(refund);
                }
                _ => {}
            }
        }
    }

    /// The refunds still to pay, oldest first.
    pub fn due(&self) -> Vec<OwedRefund> {
        self.owed.values().cloned().collect()
    }

    /// The worker recorded it (its `RefundPaid` follows in the journal).
    pub fn settled(&mut self, refund: RefundId) {
        self.owed.remove(&refund);
    }
}

/// The provider idempotency key of a refund: the same on every attempt and after any restart.
pub fn idempotency_key(refund: RefundId) -> String {
    format!("refund-{}", refund.0)
}

/// Wait before attempt `attempt` (0 = the first, no wait).
pub fn backoff(attempt: u32) -> Duration {
    if attempt == 0 {
        return Duration::ZERO;
    }
    let factor = 1u32 << (attempt - 1).min(16);
    REFUND_BACKOFF_FIRST
        .saturating_mul(factor)
        .min(REFUND_BACKOFF_MAX)
}

/// What a provider's answer to a refund's cancel means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CancelVerdict {
    /// Refunded: record it with this provider transaction id.
    Paid { provider_transaction: String },
    /// Try again later with the same key.
    Retry,
    /// Refused for good: log, count, leave to reconciliation.
    Refused(String),
}

/// Judges the provider's answer (pure). The answer to a cancel is the payment after it: its
/// newest cancel of the refund's amount is the one this key made (a replayed key returns the
/// first answer unchanged).
pub fn judge_cancel(
    answer: &Result<PaymentRecord, PaymentError>,
    amount_won: Won,
) -> CancelVerdict {
    match answer {
        Ok(record) => match record
            .cancels
            .iter()
            .rev()
            .find(|cancel| cancel.amount_won == amount_won)
        {
            Some(cancel) => CancelVerdict::Paid {
                provider_transaction: cancel.transaction_key.clone(),
            },
            None => CancelVerdict::Refused(format!(
                "the provider's answer has no cancel of {amount_won} won"
            )),
        },
        Err(error) if error.is_retryable() => CancelVerdict::Retry,
        Err(error) => CancelVerdict::Refused(error.to_string()),
    }
}

/// What the worker counts, exported to Prometheus by the process that runs it
/// ([`RefundMetrics::register`]).
#[derive(Debug, Default)]
pub struct RefundMetrics {
    /// Refunds paid and recorded.
    pub paid: Counter,
    /// Provider calls retried after a retryable error.
    pub retried: Counter,
    /// Refunds the provider refused for good (left for reconciliation).
    pub refused: Counter,
    /// The backlog: refunds owed and not yet paid, as far as the worker has read the journal
    /// (refused ones included until a restart asks again); set at every pass.
    pub pending: Gauge,
}

impl RefundMetrics {
    /// Adds the counters to `registry` as `picket_refunds_paid_total`,
    /// `picket_refunds_retried_total` and `picket_refunds_refused_total`, and the backlog as the
    /// gauge `picket_refunds_pending` (the registry shares them: the worker's increments are
    /// what `/metrics` shows).
    pub fn register(&self, registry: &mut Registry) {
        let registry = registry.sub_registry_with_prefix("picket_refunds");
        registry.register(
            "paid",
            "Refunds paid at the provider and recorded in the ledger",
            self.paid.clone(),
        );
        registry.register(
            "retried",
            "Refund calls to the provider retried after a timeout or 5xx",
            self.retried.clone(),
        );
        registry.register(
            "refused",
            "Refunds the provider refused for good, left for reconciliation",
            self.refused.clone(),
        );
        registry.register(
            "pending",
            "Refunds owed and not yet paid (the refund worker's backlog)",
            self.pending.clone(),
        );
    }
}

/// Why a pass over the journal stopped.
#[derive(Debug, thiserror::Error)]
pub enum RefundError {
    #[error("the journal cannot be read: {0}")]
    Read(#[from] ReadError),
    #[error("the ledger did not answer: {0}")]
    Submit(#[from] SubmitError),
    #[error("the ledger answered RecordRefund with {0}")]
    Unexpected(String),
    #[error("the ledger refused to record refund {refund}: {rejection}")]
    Rejected {
        refund: RefundId,
        rejection: Rejection,
    },
}

/// What became of one refund in a pass.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RefundOutcome {
    /// Paid at the provider and recorded in the ledger (now or by another worker before).
    Recorded,
    /// The provider kept failing: tried again on the next pass.
    Deferred,
    /// The provider refused: left for reconciliation.
    Refused(String),
}

/// The refund worker of some ledger partitions.
pub struct RefundWorker {
    ledger: LedgerClient,
    provider: Arc<dyn PaymentProvider>,
    partitions: Vec<u16>,
    metrics: Arc<RefundMetrics>,
    book: RefundBook,
    /// Where each partition's journal has been read to (this run only: a restart reads again).
    cursors: BTreeMap<u16, u64>,
    /// Refunds refused for good in this run: not asked again until a restart.
    refused: BTreeMap<RefundId, String>,
}

impl RefundWorker {
    pub fn new(
        ledger: LedgerClient,
        provider: Arc<dyn PaymentProvider>,
        partitions: Vec<u16>,
        metrics: Arc<RefundMetrics>,
    ) -> RefundWorker {
        RefundWorker {
            ledger,
            provider,
            partitions,
            metrics,
            book: RefundBook::default(),
            cursors: BTreeMap::new(),
            refused: BTreeMap::new(),
        }
    }

    /// Reads every partition's journal from where this run stopped to its end.
    pub async fn catch_up(&mut self) -> Result<(), RefundError> {
        for partition in self.partitions.clone() {
            loop {
                let after = self.cursors.get(&partition).copied().unwrap_or(0);
                let entries = self
                    .ledger
                    .entries_after(partition, after, ENTRIES_AFTER_MAX)
                    .await?;
                let Some(last) = entries.last().map(|entry| entry.seq) else {
                    break;
                };
                for entry in &entries {
                    self.book.apply(&entry.events);
                }
                self.cursors.insert(partition, last);
            }
        }
        Ok(())
    }

    /// Refunds owed and not yet paid, as far as the journal has been read.
    pub fn due(&self) -> Vec<OwedRefund> {
        self.book.due()
    }

    /// One pass: catch up with the journal, then pay every refund due (each with its retries).
    pub async fn pass(&mut self) -> Result<Vec<(RefundId, RefundOutcome)>, RefundError> {
        self.catch_up().await?;
        self.count_pending();
        let mut outcomes = Vec::new();
        for owed in self.book.due() {
            if self.refused.contains_key(&owed.refund) {
                continue;
            }
            let outcome = self.pay(&owed).await?;
            match &outcome {
                RefundOutcome::Recorded => self.book.settled(owed.refund),
                RefundOutcome::Refused(why) => {
                    self.refused.insert(owed.refund, why.clone());
                }
                RefundOutcome::Deferred => {}
            }
            outcomes.push((owed.refund, outcome));
            self.count_pending();
        }
        Ok(outcomes)
    }

    /// Sets [`RefundMetrics::pending`] to the refunds due.
    fn count_pending(&self) {
        let due = self.book.owed.len();
        self.metrics
            .pending
            .set(i64::try_from(due).unwrap_or(i64::MAX));
    }

    /// Calls the provider for one refund (retrying), then records it in the ledger.
    pub async fn pay(&self, owed: &OwedRefund) -> Result<RefundOutcome, RefundError> {
        let provider_transaction = match self.cancel_at_provider(owed).await {
            CancelVerdict::Paid {
                provider_transaction,
            } => provider_transaction,
            CancelVerdict::Retry => return Ok(RefundOutcome::Deferred),
            CancelVerdict::Refused(why) => {
                self.metrics.refused.inc();
                tracing::warn!(
                    refund = owed.refund.0,
                    booking = owed.booking.0,
                    amount_won = owed.amount_won,
                    reason = %why,
                    "refund refused by the provider; left for reconciliation"
                );
                return Ok(RefundOutcome::Refused(why));
            }
        };
        self.record(owed, provider_transaction).await
    }

    /// The provider call with its retries: `Retry` when every attempt failed retryably.
    pub async fn cancel_at_provider(&self, owed: &OwedRefund) -> CancelVerdict {
        let key = idempotency_key(owed.refund);
        for attempt in 0..REFUND_ATTEMPTS_MAX {
            tokio::time::sleep(backoff(attempt)).await;
            let answer = self
                .provider
                .cancel(
                    &owed.payment_ref,
                    Some(owed.amount_won),
                    REFUND_REASON,
                    &key,
                )
                .await;
            match judge_cancel(&answer, owed.amount_won) {
                CancelVerdict::Retry => {
                    self.metrics.retried.inc();
                    tracing::info!(
                        refund = owed.refund.0,
                        attempt,
                        "refund call failed; retrying"
                    );
                }
                verdict => return verdict,
            }
        }
        CancelVerdict::Retry
    }

    /// Sends `RecordRefund`; a refund another worker recorded first counts as recorded.
    pub async fn record(
        &self,
        owed: &OwedRefund,
        provider_transaction: String,
    ) -> Result<RefundOutcome, RefundError> {
        let key = IdempotencyKey::new(idempotency_key(owed.refund))
            .expect("refund keys are short printable ASCII");
        let request = Request {
            actor: REFUND_WORKER_ACTOR,
            key,
            command: Command::RecordRefund {
                performance: owed.performance,
                booking: owed.booking,
                refund: owed.refund,
                provider_transaction,
                amount_won: owed.amount_won,
            },
        };
        match self.ledger.submit(request).await? {
            Ok(Reply::RefundRecorded { .. }) | Err(Rejection::RefundAlreadyRecorded { .. }) => {
                self.metrics.paid.inc();
                Ok(RefundOutcome::Recorded)
            }
            Ok(other) => Err(RefundError::Unexpected(format!("{other:?}"))),
            Err(rejection) => Err(RefundError::Rejected {
                refund: owed.refund,
                rejection,
            }),
        }
    }

    /// Passes until `stop` turns true, [`REFUND_POLL_INTERVAL`] apart; a failed pass is logged
    /// and the next one reads on from where this one stopped.
    pub async fn run(mut self, mut stop: tokio::sync::watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                return;
            }
            if let Err(error) = self.pass().await {
                tracing::warn!(%error, "refund pass failed; trying again");
            }
            tokio::select! {
                _ = stop.changed() => {}
                _ = tokio::time::sleep(REFUND_POLL_INTERVAL) => {}
            }
        }
    }
}

#[cfg(test)]
mod tests;
