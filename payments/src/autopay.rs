//! The waitlist's auto-pay charges, as far as they are the provider's business: the order and
//! idempotency key of an auto-pay hold, and what the provider's answer to a billing-key charge
//! means. The worker that follows the ledger and charges (`picket_api::autopay`) uses these; the
//! decisions here are pure.
//!
//! Everything is derived from the hold the ledger made for the entry, so a retry, a second
//! worker or a worker restarted after dying anywhere names the same order with the same key: the
//! provider charges once and answers every later call with that first charge (or, once it forgot
//! the key, refuses the order as a duplicate, and the worker looks the order up instead).

use std::time::Duration;

use picket_ledger_core::{ActorId, HoldId, PerformanceId};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::registry::Registry;

use crate::order::OrderId;
use crate::provider::{PaymentError, PaymentRecord, PaymentState};

/// Provider calls for one charge in one pass (retryable errors only) before it is left for the
/// next pass; the hold's charge window bounds how long passes go on.
pub const CHARGE_ATTEMPTS_MAX: u32 = 5;
/// Wait before the second attempt; doubled per attempt up to [`CHARGE_BACKOFF_MAX`].
pub const CHARGE_BACKOFF_FIRST: Duration = Duration::from_millis(200);
pub const CHARGE_BACKOFF_MAX: Duration = Duration::from_secs(5);
/// The actor the worker's `ChargeFailed` commands are sent as: the platform itself, like the
/// refund worker's `RecordRefund`.
pub const AUTOPAY_WORKER_ACTOR: ActorId = ActorId(0);
/// Longest reason a `ChargeFailed` carries, in bytes (the ledger's bound).
pub const CHARGE_FAILURE_REASON_LEN_MAX: usize =
    picket_ledger_core::limits::CHARGE_FAILURE_REASON_LEN_MAX;
/// An auto-pay order's nonce: one order per hold, never handed to a client (nothing to guess),
/// and told apart from a buyer's checkout orders, whose nonces are random.
const AUTOPAY_ORDER_NONCE: u64 = 0;

/// The one order an auto-pay hold is charged under.
pub fn order_of(performance: PerformanceId, hold: HoldId) -> OrderId {
    OrderId::new(performance.0, hold.0, AUTOPAY_ORDER_NONCE)
}

/// The provider idempotency key of an auto-pay hold's charge.
pub fn charge_key(order: &OrderId) -> String {
    format!("autopay-{order}")
}

/// The provider idempotency key of the void of an auto-pay charge that must not stand.
pub fn void_key(order: &OrderId) -> String {
    format!("autopay-void-{order}")
}

/// The ledger idempotency key of an auto-pay hold's `ChargeFailed`.
pub fn charge_failed_key(order: &OrderId) -> String {
    format!("charge-failed-{order}")
}

/// Wait before attempt `attempt` (0 = the first, no wait).
pub fn backoff(attempt: u32) -> Duration {
    if attempt == 0 {
        return Duration::ZERO;
    }
    let factor = 1u32 << (attempt - 1).min(16);
    CHARGE_BACKOFF_FIRST
        .saturating_mul(factor)
        .min(CHARGE_BACKOFF_MAX)
}

/// What the auto-pay worker counts, exported to Prometheus by the process that runs it.
#[derive(Debug, Default)]
pub struct AutoPayMetrics {
    /// Holds charged and booked.
    pub booked: Counter,
    /// Charges the provider declined or refused (the places moved on).
    pub failed: Counter,
    /// Provider calls retried after a timeout or a 5xx.
    pub retried: Counter,
    /// Charges voided because their hold closed before it was booked.
    pub voided: Counter,
}

impl AutoPayMetrics {
    /// Adds the counters to `registry` as `picket_autopay_booked_total`,
    /// `picket_autopay_failed_total`, `picket_autopay_retried_total` and
    /// `picket_autopay_voided_total`.
    pub fn register(&self, registry: &mut Registry) {
        let registry = registry.sub_registry_with_prefix("picket_autopay");
        registry.register(
            "booked",
            "Waitlist auto-pay holds charged and booked",
            self.booked.clone(),
        );
        registry.register(
            "failed",
            "Waitlist auto-pay charges declined or refused (ChargeFailed sent)",
            self.failed.clone(),
        );
        registry.register(
            "retried",
            "Waitlist auto-pay provider calls retried after a timeout or 5xx",
            self.retried.clone(),
        );
        registry.register(
            "voided",
            "Waitlist auto-pay charges voided because their hold closed first",
            self.voided.clone(),
        );
    }
}

/// What the provider's answer to a charge means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChargeVerdict {
    /// Charged exactly the hold's amount for this order: book it.
    Charged(PaymentRecord),
    /// The card was refused: tell the ledger (`ChargeFailed`) so the places move on.
    Declined { reason: String },
    /// The order was charged before and the key is forgotten: look the order up.
    LookUp,
    /// No answer, or asked to retry: try again with the same key.
    Retry,
    /// Refused for a reason a retry will not change (the key or the order is not the
    /// provider's, Picket's credentials): the places move on too, with this reason.
    Refused { reason: String },
}

/// Judges the provider's answer to the charge of `order` for `amount_won` (pure). An answer
/// for another order or amount is never taken as the charge.
pub fn judge_charge(
    answer: &Result<PaymentRecord, PaymentError>,
    order: &OrderId,
    amount_won: u64,
) -> ChargeVerdict {
    match answer {
        Ok(record) => judge_record(record, order, amount_won),
        Err(PaymentError::Declined { code, message }) => ChargeVerdict::Declined {
            reason: reason(&format!("declined ({code}): {message}")),
        },
        Err(PaymentError::AlreadyProcessed) => ChargeVerdict::LookUp,
        Err(error) if error.is_retryable() => ChargeVerdict::Retry,
        // Picket's own credentials: an operator fixes them; the buyer's card is not at fault.
        Err(PaymentError::Unauthorized) => ChargeVerdict::Retry,
        Err(error) => ChargeVerdict::Refused {
            reason: reason(&error.to_string()),
        },
    }
}

/// Judges the provider's record of `order` (a charge's answer or a lookup).
pub fn judge_record(record: &PaymentRecord, order: &OrderId, amount_won: u64) -> ChargeVerdict {
    if record.order_id != order.to_string() {
        return ChargeVerdict::Refused {
            reason: "the provider answered with another order".to_owned(),
        };
    }
    match record.state {
        PaymentState::Done if record.total_won == amount_won => {
            ChargeVerdict::Charged(record.clone())
        }
        PaymentState::Done => ChargeVerdict::Refused {
            reason: reason(&format!(
                "charged {} won, not the hold's {amount_won}",
                record.total_won
            )),
        },
        PaymentState::Aborted => ChargeVerdict::Declined {
            reason: "declined (ABORTED)".to_owned(),
        },
        PaymentState::Ready | PaymentState::InProgress => ChargeVerdict::Retry,
        _ => ChargeVerdict::Refused {
            reason: reason(&format!("the charge is {:?}", record.state)),
        },
    }
}

/// `text` cut to the ledger's bound on a charge failure's reason, on a character boundary.
pub fn reason(text: &str) -> String {
    let mut cut = text.len().min(CHARGE_FAILURE_REASON_LEN_MAX);
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let reason = text[..cut].trim().to_owned();
    if reason.is_empty() {
        "charge failed".to_owned()
    } else {
        reason
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(order: &OrderId, state: PaymentState, total_won: u64) -> PaymentRecord {
        PaymentRecord {
            payment_key: "tbil_paid_0001".into(),
            order_id: order.to_string(),
            state,
            total_won,
            balance_won: total_won,
            approved_at_ms: Some(1),
            cancels: Vec::new(),
        }
    }

    #[test]
    fn an_auto_pay_order_is_one_per_hold_and_a_valid_provider_order() {
        let order = order_of(PerformanceId(7), HoldId(281_474_976_710_657));
        assert_eq!(
            order,
            order_of(PerformanceId(7), HoldId(281_474_976_710_657))
        );
        assert_ne!(
            order,
            order_of(PerformanceId(7), HoldId(281_474_976_710_658))
        );
        let text = order.to_string();
        assert!(picket_toss_wire::is_valid_order_id(&text), "{text}");
        assert_eq!(text.parse::<OrderId>(), Ok(order.clone()));
        assert_eq!(charge_key(&order), format!("autopay-{text}"));
        assert!(charge_key(&order).len() <= picket_toss_wire::IDEMPOTENCY_KEY_CHARS_MAX);
        assert!(void_key(&order).len() <= picket_toss_wire::IDEMPOTENCY_KEY_CHARS_MAX);
        assert!(picket_ledger_core::IdempotencyKey::new(charge_failed_key(&order)).is_ok());
    }

    #[test]
    fn the_providers_answers_are_judged() {
        let order = order_of(PerformanceId(1), HoldId(2));
        let done = record(&order, PaymentState::Done, 150_000);
        let table: Vec<(Result<PaymentRecord, PaymentError>, ChargeVerdict)> = vec![
            (Ok(done.clone()), ChargeVerdict::Charged(done.clone())),
            (
                Ok(record(&order, PaymentState::Done, 149_999)),
                ChargeVerdict::Refused {
                    reason: "charged 149999 won, not the hold's 150000".into(),
                },
            ),
            (
                Ok(record(
                    &order_of(PerformanceId(1), HoldId(3)),
                    PaymentState::Done,
                    150_000,
                )),
                ChargeVerdict::Refused {
                    reason: "the provider answered with another order".into(),
                },
            ),
            (
                Ok(record(&order, PaymentState::InProgress, 150_000)),
                ChargeVerdict::Retry,
            ),
            (
                Err(PaymentError::Declined {
                    code: "REJECT_CARD_COMPANY".into(),
                    message: "카드사 거절".into(),
                }),
                ChargeVerdict::Declined {
                    reason: "declined (REJECT_CARD_COMPANY): 카드사 거절".into(),
                },
            ),
            (Err(PaymentError::AlreadyProcessed), ChargeVerdict::LookUp),
            (Err(PaymentError::Timeout), ChargeVerdict::Retry),
            (
                Err(PaymentError::Unavailable {
                    code: "IDEMPOTENT_REQUEST_PROCESSING".into(),
                    message: "처리중".into(),
                }),
                ChargeVerdict::Retry,
            ),
            (Err(PaymentError::Unauthorized), ChargeVerdict::Retry),
            (
                Err(PaymentError::NotFound),
                ChargeVerdict::Refused {
                    reason: "no such payment".into(),
                },
            ),
        ];
        for (answer, verdict) in table {
            assert_eq!(
                judge_charge(&answer, &order, 150_000),
                verdict,
                "{answer:?}"
            );
        }
    }

    #[test]
    fn reasons_fit_the_ledger_and_backoff_is_bounded() {
        let long = "가".repeat(200);
        let cut = reason(&long);
        assert!(cut.len() <= CHARGE_FAILURE_REASON_LEN_MAX && !cut.is_empty());
        assert_eq!(reason("  "), "charge failed");
        assert_eq!(backoff(0), Duration::ZERO);
        assert_eq!(backoff(1), CHARGE_BACKOFF_FIRST);
        assert_eq!(backoff(30), CHARGE_BACKOFF_MAX);
    }
}
