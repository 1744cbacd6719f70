//! Reconciliation: the provider's records against the ledger's (invariant 12, "reconciliation
//! finds every difference").
//!
//! [`LedgerView`] folds the journal's events into the bookings and refunds the ledger knows;
//! [`compare`] (pure) sets them beside the provider's transactions of a window and lists every
//! [`Mismatch`]:
//! - approved at the provider, booked by nobody (and not already voided): refunded by
//!   [`reconcile`] with the idempotency key `reconcile-void-<order id>`;
//! - booked in the ledger, not approved at the provider: flagged;
//! - booked for another amount than the provider approved: flagged;
//! - a refund recorded in the ledger that the provider does not have: flagged;
//! - a cancel at the provider of a booked payment that no recorded refund names: flagged.
//!
//! Which side is looked up whole: a provider transaction is matched against *every* booking and
//! refund in the journal (so a booking just outside the window is never voided), while ledger
//! entries are checked only inside the window, against provider transactions fetched
//! [`RECONCILE_EDGE_MARGIN_MS`] wider on each side (an approval a moment before its booking).
//! [`report_markdown`] renders the summary written next to the JSON report.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use picket_ledger_client::{ENTRIES_AFTER_MAX, LedgerClient, ReadError};
use picket_ledger_core::{Event, Won};
use serde::Serialize;

use crate::provider::{PaymentError, PaymentProvider, PaymentState, TransactionRecord};

/// How much wider than the window the provider's transactions are fetched, so an approval just
/// before its booking (or a cancel just after its record) is found.
pub const RECONCILE_EDGE_MARGIN_MS: u64 = 10 * 60_000;
/// The periodic task reconciles up to this long before now: payments still being confirmed
/// (between the provider's approval and the ledger's booking) are left for the next run.
pub const RECONCILE_SETTLE_MS: u64 = 10 * 60_000;
/// How often `picket up` reconciles, and the window each run covers (the last hour, settled).
pub const RECONCILE_INTERVAL_MS: u64 = 60 * 60_000;
/// Reconciliation reports kept in the report directory; older ones are deleted.
pub const RECONCILE_REPORTS_KEPT_MAX: usize = 48;

/// A booking as the journal records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerBooking {
    pub performance: u64,
    pub booking: u64,
    pub payment_ref: String,
    pub paid_won: Won,
    pub booked_at_ms: u64,
}

/// A refund owed as the journal records it, with its payment when paid.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LedgerRefund {
    pub performance: u64,
    pub booking: u64,
    pub refund: u64,
    pub payment_ref: String,
    pub amount_won: Won,
    /// The provider transaction and when it was recorded.
    pub paid: Option<(String, u64)>,
}

/// The ledger's bookings and refunds, from its events (pure).
#[derive(Clone, Debug, Default)]
pub struct LedgerView {
    pub bookings: Vec<LedgerBooking>,
    pub refunds: BTreeMap<u64, LedgerRefund>,
}

impl LedgerView {
    pub fn apply(&mut self, events: &[Event]) {
        for event in events {
            match event {
                Event::BookingConfirmed {
                    performance,
                    booking,
                    payment_ref,
                    paid_won,
                    booked_at_ms,
                    ..
                } => self.bookings.push(LedgerBooking {
                    performance: performance.0,
                    booking: booking.0,
                    payment_ref: payment_ref.clone(),
                    paid_won: *paid_won,
                    booked_at_ms: *booked_at_ms,
                }),
                Event::RefundOwed {
                    performance,
                    booking,
                    refund,
                    payment_ref,
                    amount_won,
                } => {
                    let owed = LedgerRefund {
                        performance: performance.0,
                        booking: booking.0,
                        refund: refund.0,
                        payment_ref: payment_ref.clone(),
                        amount_won: *amount_won,
                        paid: None,
                    };
                    self.refunds.insert(refund.0, owed);
                }
                Event::RefundPaid {
                    refund,
                    provider_transaction,
                    at_ms,
                    ..
                } => {
                    if let Some(owed) = self.refunds.get_mut(&refund.0) {
                        owed.paid = Some((provider_transaction.clone(), *at_ms));
                    }
                }
                _ => {}
            }
        }
    }
}

/// One difference between the provider and the ledger. Ids are decimal strings (they pass
/// 2^53).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Mismatch {
    /// Money taken that buys nothing: refunded (voided) by reconciliation.
    ApprovedNotBooked {
        payment_key: String,
        order_id: String,
        /// What is still taken (approved less cancels so far).
        unrefunded_won: Won,
    },
    BookedNotApproved {
        performance: String,
        booking: String,
        payment_key: String,
        paid_won: Won,
    },
    AmountDiffers {
        performance: String,
        booking: String,
        payment_key: String,
        ledger_won: Won,
        provider_won: Won,
    },
    RefundNotAtProvider {
        performance: String,
        refund: String,
        payment_key: String,
        provider_transaction: String,
        amount_won: Won,
    },
    RefundNotRecorded {
        payment_key: String,
        transaction_key: String,
        amount_won: Won,
    },
}

impl Mismatch {
    pub fn kind(&self) -> &'static str {
        match self {
            Mismatch::ApprovedNotBooked { .. } => "approved_not_booked",
            Mismatch::BookedNotApproved { .. } => "booked_not_approved",
            Mismatch::AmountDiffers { .. } => "amount_differs",
            Mismatch::RefundNotAtProvider { .. } => "refund_not_at_provider",
            Mismatch::RefundNotRecorded { .. } => "refund_not_recorded",
        }
    }
}

fn is_approval(state: &PaymentState) -> bool {
    matches!(state, PaymentState::Done)
}

fn is_cancel(state: &PaymentState) -> bool {
    matches!(
        state,
        PaymentState::Canceled | PaymentState::PartialCanceled
    )
}

/// Every mismatch between the provider's transactions and the ledger for the window
/// `from_ms..=to_ms` (pure). `transactions` may reach past the window (see the module doc).
pub fn compare(
    transactions: &[TransactionRecord],
    ledger: &LedgerView,
    from_ms: u64,
    to_ms: u64,
) -> Vec<Mismatch> {
    let window = from_ms..=to_ms;
    let booked: BTreeMap<&str, &LedgerBooking> = ledger
        .bookings
        .iter()
        .map(|b| (b.payment_ref.as_str(), b))
        .collect();
    let recorded: BTreeSet<&str> = ledger
        .refunds
        .values()
        .filter_map(|r| r.paid.as_ref().map(|(tx, _)| tx.as_str()))
        .collect();
    let mut mismatches = Vec::new();
    // Per payment: what the provider approved and cancelled.
    let mut approved: BTreeMap<&str, (&TransactionRecord, Won)> = BTreeMap::new();
    let mut cancelled: BTreeMap<&str, Won> = BTreeMap::new();
    let mut cancel_keys: BTreeSet<&str> = BTreeSet::new();
    for tx in transactions {
        if is_approval(&tx.state) {
            let entry = approved.entry(&tx.payment_key).or_insert((tx, 0));
            entry.1 += tx.amount_won;
        } else if is_cancel(&tx.state) {
            *cancelled.entry(&tx.payment_key).or_default() += tx.amount_won;
            cancel_keys.insert(&tx.transaction_key);
        }
    }
    for (payment_key, (tx, approved_won)) in &approved {
        if !window.contains(&tx.at_ms) {
            continue;
        }
        match booked.get(payment_key) {
            None => {
                let unrefunded_won =
                    approved_won.saturating_sub(cancelled.get(payment_key).copied().unwrap_or(0));
                if unrefunded_won > 0 {
                    mismatches.push(Mismatch::ApprovedNotBooked {
                        payment_key: (*payment_key).to_owned(),
                        order_id: tx.order_id.clone(),
                        unrefunded_won,
                    });
                }
            }
            Some(booking) if booking.paid_won != *approved_won => {
                mismatches.push(Mismatch::AmountDiffers {
                    performance: booking.performance.to_string(),
                    booking: booking.booking.to_string(),
                    payment_key: (*payment_key).to_owned(),
                    ledger_won: booking.paid_won,
                    provider_won: *approved_won,
                });
            }
            Some(_) => {}
        }
    }
    for booking in &ledger.bookings {
        if window.contains(&booking.booked_at_ms)
            && !approved.contains_key(booking.payment_ref.as_str())
        {
            mismatches.push(Mismatch::BookedNotApproved {
                performance: booking.performance.to_string(),
                booking: booking.booking.to_string(),
                payment_key: booking.payment_ref.clone(),
                paid_won: booking.paid_won,
            });
        }
    }
    for refund in ledger.refunds.values() {
        let Some((provider_transaction, at_ms)) = &refund.paid else {
            continue;
        };
        if window.contains(at_ms) && !cancel_keys.contains(provider_transaction.as_str()) {
            mismatches.push(Mismatch::RefundNotAtProvider {
                performance: refund.performance.to_string(),
                refund: refund.refund.to_string(),
                payment_key: refund.payment_ref.clone(),
                provider_transaction: provider_transaction.clone(),
                amount_won: refund.amount_won,
            });
        }
    }
    for tx in transactions {
        let booked_payment = booked.contains_key(tx.payment_key.as_str());
        if is_cancel(&tx.state)
            && window.contains(&tx.at_ms)
            && booked_payment
            && !recorded.contains(tx.transaction_key.as_str())
        {
            mismatches.push(Mismatch::RefundNotRecorded {
                payment_key: tx.payment_key.clone(),
                transaction_key: tx.transaction_key.clone(),
                amount_won: tx.amount_won,
            });
        }
    }
    mismatches
}

/// The provider idempotency key of the void of an approved payment nobody booked.
pub fn void_idempotency_key(order_id: &str) -> String {
    format!("reconcile-void-{order_id}")
}

/// What the provider is told a void is for.
pub const VOID_REASON: &str = "예매되지 않은 결제 자동 환불 (paid but not booked)";

/// One reconciliation run's report (written as JSON).
#[derive(Clone, Debug, Serialize)]
pub struct ReconcileReport {
    pub from_ms: u64,
    pub to_ms: u64,
    pub provider_transactions: usize,
    pub ledger_bookings: usize,
    pub ledger_refunds: usize,
    pub mismatches: Vec<Mismatch>,
    /// Payments voided by this run (`approved_not_booked`), by payment key.
    pub voided: Vec<String>,
    /// Voids the provider refused or did not answer (tried again next run).
    pub void_failures: Vec<String>,
}

/// The Markdown summary of a report.
pub fn report_markdown(report: &ReconcileReport) -> String {
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for mismatch in &report.mismatches {
        *counts.entry(mismatch.kind()).or_default() += 1;
    }
    let mut text = format!(
        "# 정산 대사 (reconciliation) {} – {}\n\n\
         - provider transactions: {}\n- ledger bookings: {}\n- ledger refunds: {}\n\
         - mismatches: {}\n- voided: {}\n- void failures: {}\n\n",
        report.from_ms,
        report.to_ms,
        report.provider_transactions,
        report.ledger_bookings,
        report.ledger_refunds,
        report.mismatches.len(),
        report.voided.len(),
        report.void_failures.len(),
    );
    if counts.is_empty() {
        text.push_str("No mismatches: the ledger and the provider agree.\n");
        return text;
    }
    text.push_str("| kind | count |\n|---|---|\n");
    for (kind, count) in counts {
        text.push_str(&format!("| {kind} | {count} |\n"));
    }
    text
}

/// Why a reconciliation run failed.
#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error("the journal cannot be read: {0}")]
    Read(#[from] ReadError),
    #[error("the provider's transactions cannot be read: {0}")]
    Provider(#[from] PaymentError),
    #[error("the report cannot be written to {path}: {error}")]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
}

/// Reads every entry of `partitions` into a [`LedgerView`].
pub async fn ledger_view(
    ledger: &LedgerClient,
    partitions: &[u16],
) -> Result<LedgerView, ReadError> {
    let mut view = LedgerView::default();
    for &partition in partitions {
        let mut after = 0;
        loop {
            let entries = ledger
                .entries_after(partition, after, ENTRIES_AFTER_MAX)
                .await?;
            let Some(last) = entries.last().map(|e| e.seq) else {
                break;
            };
            for entry in &entries {
                view.apply(&entry.events);
            }
            after = last;
        }
    }
    Ok(view)
}

/// One run: compare, void what was paid and not booked, and write the report as
/// `reconcile-<to_ms>.json` and `.md` in `report_dir` (created if missing). Returns the report.
pub async fn reconcile(
    provider: &dyn PaymentProvider,
    ledger: &LedgerClient,
    partitions: &[u16],
    window: (u64, u64),
    report_dir: &Path,
) -> Result<ReconcileReport, ReconcileError> {
    let view = ledger_view(ledger, partitions).await?;
    reconcile_view(provider, &view, window, report_dir).await
}

/// [`reconcile`] with the ledger already read (the `picket payments reconcile` command reads
/// the journal itself).
pub async fn reconcile_view(
    provider: &dyn PaymentProvider,
    view: &LedgerView,
    (from_ms, to_ms): (u64, u64),
    report_dir: &Path,
) -> Result<ReconcileReport, ReconcileError> {
    let transactions = provider
        .transactions(
            from_ms.saturating_sub(RECONCILE_EDGE_MARGIN_MS),
            to_ms.saturating_add(RECONCILE_EDGE_MARGIN_MS),
        )
        .await?;
    let mismatches = compare(&transactions, view, from_ms, to_ms);
    let mut report = ReconcileReport {
        from_ms,
        to_ms,
        provider_transactions: transactions.len(),
        ledger_bookings: view.bookings.len(),
        ledger_refunds: view.refunds.len(),
        mismatches,
        voided: Vec::new(),
        void_failures: Vec::new(),
    };
    for mismatch in report.mismatches.clone() {
        let Mismatch::ApprovedNotBooked {
            payment_key,
            order_id,
            unrefunded_won,
        } = mismatch
        else {
            tracing::warn!(?mismatch, "reconciliation mismatch");
            continue;
        };
        let key = void_idempotency_key(&order_id);
        match provider
            .cancel(&payment_key, Some(unrefunded_won), VOID_REASON, &key)
            .await
        {
            Ok(_) => report.voided.push(payment_key),
            Err(error) => {
                tracing::warn!(%error, payment_key, "void of a payment nobody booked failed");
                report.void_failures.push(payment_key);
            }
        }
    }
    write_report(&report, report_dir)?;
    Ok(report)
}

/// The last periodic run, as the admin dashboard's operations page shows it.
#[derive(Clone, Debug, Serialize)]
pub struct LastReconcile {
    /// When the run finished.
    pub at_ms: u64,
    /// Its report; `None` when it failed (`error` says why).
    pub report: Option<ReconcileReport>,
    pub error: Option<String>,
}

/// What the periodic reconciliation last found, shared with whoever shows it (the API's
/// operations figures), and as gauges on `/metrics` ([`ReconcileStatus::register`]).
#[derive(Debug, Default)]
pub struct ReconcileStatus {
    last: std::sync::Mutex<Option<LastReconcile>>,
    /// Mismatches the last successful run found (`picket_reconcile_mismatches`).
    pub mismatches: prometheus_client::metrics::gauge::Gauge,
    /// When the last run finished, in ms since the epoch, 0 before the first
    /// (`picket_reconcile_last_run_ms`).
    pub last_run_ms: prometheus_client::metrics::gauge::Gauge,
    /// Runs that failed (`picket_reconcile_failures_total`).
    pub failures: prometheus_client::metrics::counter::Counter,
}

impl ReconcileStatus {
    pub fn register(&self, registry: &mut prometheus_client::registry::Registry) {
        let registry = registry.sub_registry_with_prefix("picket_reconcile");
        registry.register(
            "mismatches",
            "Mismatches the last reconciliation run found",
            self.mismatches.clone(),
        );
        registry.register(
            "last_run_ms",
            "When the last reconciliation run finished (ms since the epoch; 0: none yet)",
            self.last_run_ms.clone(),
        );
        registry.register(
            "failures",
            "Reconciliation runs that failed",
            self.failures.clone(),
        );
    }

    /// Records a run's outcome.
    pub fn record(&self, at_ms: u64, outcome: Result<&ReconcileReport, String>) {
        let last = match outcome {
            Ok(report) => {
                self.mismatches
                    .set(i64::try_from(report.mismatches.len()).unwrap_or(i64::MAX));
                LastReconcile {
                    at_ms,
                    report: Some(report.clone()),
                    error: None,
                }
            }
            Err(error) => {
                self.failures.inc();
                LastReconcile {
                    at_ms,
                    report: None,
                    error: Some(error),
                }
            }
        };
        self.last_run_ms
            .set(i64::try_from(at_ms).unwrap_or(i64::MAX));
        *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(last);
    }

    /// The last run, if there was one.
    pub fn last(&self) -> Option<LastReconcile> {
        self.last.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// `picket up`'s periodic reconciliation: every [`RECONCILE_INTERVAL_MS`] the window of that
/// length ending [`RECONCILE_SETTLE_MS`] ago, until `stop` turns true. `now_ms` is the clock.
/// Each run's outcome goes to `status`.
pub async fn run_periodically(
    provider: std::sync::Arc<dyn PaymentProvider>,
    ledger: LedgerClient,
    partitions: Vec<u16>,
    report_dir: PathBuf,
    now_ms: fn() -> u64,
    status: std::sync::Arc<ReconcileStatus>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let interval = std::time::Duration::from_millis(RECONCILE_INTERVAL_MS);
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(interval) => {}
        }
        if *stop.borrow() {
            return;
        }
        let to_ms = now_ms().saturating_sub(RECONCILE_SETTLE_MS);
        let window = (to_ms.saturating_sub(RECONCILE_INTERVAL_MS), to_ms);
        let outcome = reconcile(provider.as_ref(), &ledger, &partitions, window, &report_dir).await;
        status.record(
            now_ms(),
            outcome.as_ref().map_err(|error| error.to_string()),
        );
        match outcome {
            Ok(report) if report.mismatches.is_empty() => {
                tracing::info!(to_ms, "reconciliation: the ledger and the provider agree");
            }
            Ok(report) => tracing::warn!(
                to_ms,
                mismatches = report.mismatches.len(),
                voided = report.voided.len(),
                dir = %report_dir.display(),
                "reconciliation found mismatches"
            ),
            Err(error) => tracing::warn!(%error, "reconciliation failed"),
        }
    }
}

fn write_report(report: &ReconcileReport, dir: &Path) -> Result<(), ReconcileError> {
    let failed = |path: &Path| {
        let path = path.to_owned();
        move |error| ReconcileError::Write { path, error }
    };
    std::fs::create_dir_all(dir).map_err(failed(dir))?;
    let json = dir.join(format!("reconcile-{}.json", report.to_ms));
    let body = serde_json::to_vec_pretty(report).expect("reports always encode");
    std::fs::write(&json, body).map_err(failed(&json))?;
    let markdown = dir.join(format!("reconcile-{}.md", report.to_ms));
    std::fs::write(&markdown, report_markdown(report)).map_err(failed(&markdown))?;
    prune_reports(dir);
    Ok(())
}

/// Keeps the newest [`RECONCILE_REPORTS_KEPT_MAX`] reports (by their `to_ms`).
fn prune_reports(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut stamps: Vec<u64> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_prefix("reconcile-")?
                .strip_suffix(".json")?
                .parse()
                .ok()
        })
        .collect();
    stamps.sort_unstable();
    let excess = stamps.len().saturating_sub(RECONCILE_REPORTS_KEPT_MAX);
    for stamp in &stamps[..excess] {
        for ext in ["json", "md"] {
            let _ = std::fs::remove_file(dir.join(format!("reconcile-{stamp}.{ext}")));
        }
    }
}

#[cfg(test)]
mod tests;
