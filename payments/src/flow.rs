//! The payment flow, shared by the gateway (WebSocket `checkout`/`confirm`) and the API (the
//! browser redirect's success URL and the provider's webhook): one place decides how a hold is
//! paid, so every path books once.
//!
//! - [`Flow::checkout`]: reads the hold from the ledger (never the client's amount) and names a
//!   new order for it.
//! - [`Flow::confirm`]: confirms the payment with the provider for exactly the hold's amount,
//!   outside the ledger's single writer, then sends the ledger `Confirm` with the provider's
//!   payment key and approved amount, as the hold's buyer, under the key `pay-<order>` — so the
//!   client path, a retry with a new client key and the webhook path book once. An approval the
//!   ledger refuses (the hold expired, was released, or was paid under another order) is voided
//!   at the provider at once (`void-<order>`).
//! - [`Flow::on_webhook`]: looks the payment up with the provider (the webhook's body is only a
//!   hint) and completes what the buyer's app did not: confirm and book an authorised payment,
//!   book an approved one, void one that cannot be booked.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use picket_ledger_client::{LedgerClient, SubmitError};
use picket_ledger_core::{
    ActorId, BookingId, Command, HoldId, HoldStatus, HoldView, IdempotencyKey, PerformanceId,
    Reply, Request, TicketId,
};

use crate::order::OrderId;
use crate::provider::{PaymentError, PaymentProvider, PaymentRecord, PaymentState, WebhookNotice};

/// Longest payment key a client may send, in bytes (Toss's `paymentKey` bound, and the ledger's
/// payment reference bound).
pub const PAYMENT_KEY_LEN_MAX: usize = picket_ledger_core::limits::PAYMENT_REF_LEN_MAX;
/// Attempts at voiding an approval the ledger would not book, with the same idempotency key,
/// before the buyer is answered (reconciliation catches one that still failed).
pub const VOID_ATTEMPTS_MAX: u32 = 3;
/// What a client is told to wait before retrying when the provider is unavailable.
pub const PROVIDER_RETRY_AFTER_MS: u64 = 1_000;
/// The booking-fee rule a checkout shows (the ledger's, `PerformanceSpec::booking_fee_won`): the
/// fee is refunded when a ticket is cancelled on the Korean calendar day it was booked, or when
/// the seller calls the performance off; otherwise it is kept.
pub const BOOKING_FEE_REFUND_RULE: &str = "booking_day_or_call_off";
/// What a client is told to wait before retrying when the ledger is unavailable.
pub const LEDGER_RETRY_AFTER_MS: u64 = 500;

/// What the buyer is shown before paying, and the order it pays.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkout {
    pub order_id: OrderId,
    /// What the provider shows as the order ("VIP석 외 1매"): 1–100 characters.
    pub order_name: String,
    /// The hold as the ledger has it: `amount_won` is exactly what will be charged.
    pub hold: HoldView,
}

/// A hold paid and booked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Booked {
    pub booking: BookingId,
    pub tickets: Vec<TicketId>,
    pub amount_won: u64,
    pub payment_key: String,
    /// The buyer of the hold (whose admission the payment spends).
    pub buyer: ActorId,
}

/// Why a checkout or a confirmation did not book. Each is a typed answer for the buyer; none
/// leaves money taken without a booking (an approval the ledger refused is `Refunded`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    #[error("no such hold")]
    UnknownHold,
    #[error("the hold is another buyer's")]
    NotYourHold,
    /// The hold can no longer be paid (expired, released, already paid): nothing was charged.
    #[error("the hold can no longer be paid: {reason}")]
    HoldClosed { reason: &'static str },
    /// The card was refused: the hold stays until its deadline; try another card.
    #[error("declined ({code}): {message}")]
    Declined { code: String, message: String },
    /// A made-up payment key, or another order's.
    #[error("no such payment for this order")]
    PaymentNotFound,
    /// The buyer authorised another amount than the hold's.
    #[error("the payment's amount is not the hold's")]
    AmountMismatch,
    /// The provider did not answer, or asked to retry: nothing is decided; retry.
    #[error("the payment provider is unavailable")]
    ProviderUnavailable { retry_after_ms: u64 },
    /// The payment is approved but the ledger could not be reached: retry (the same order
    /// books once).
    #[error("the ledger is unavailable")]
    LedgerUnavailable { retry_after_ms: u64 },
    /// Approved, but the hold could not be booked, so the payment was voided at once.
    #[error("the payment was voided: {reason}")]
    Refunded {
        reason: String,
        /// False when the void itself failed every attempt (reconciliation refunds it).
        voided: bool,
    },
}

/// What the webhook path did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WebhookOutcome {
    /// A transmission already handled.
    Duplicate,
    /// Nothing to do (not a Picket order, or a state that needs nothing).
    Ignored,
    Booked(Booked),
    Refused(FlowError),
}

/// The flow's handles: the provider and the ledger, and what a buyer's app needs to pay.
pub struct Flow {
    provider: Arc<dyn PaymentProvider>,
    ledger: LedgerClient,
    /// The provider's client key (`test_ck_…`), handed to the buyer's checkout.
    pub client_key: String,
    /// Where the buyer pays: the sandbox's `/checkout`, or the provider's payment window.
    pub checkout_url: String,
}

impl Flow {
    pub fn new(
        provider: Arc<dyn PaymentProvider>,
        ledger: LedgerClient,
        client_key: String,
        checkout_url: String,
    ) -> Flow {
        Flow {
            provider,
            ledger,
            client_key,
            checkout_url,
        }
    }

    pub fn provider(&self) -> &Arc<dyn PaymentProvider> {
        &self.provider
    }

    /// A new order for `buyer`'s active hold; `nonce` is random bits from the caller.
    pub async fn checkout(
        &self,
        buyer: ActorId,
        performance: PerformanceId,
        hold: HoldId,
        nonce: u64,
        now_ms: u64,
    ) -> Result<Checkout, FlowError> {
        let view = self.read_hold(performance, hold).await?;
        if view.buyer != buyer {
            return Err(FlowError::NotYourHold);
        }
        if let Some(reason) = closed_reason(&view, now_ms) {
            return Err(FlowError::HoldClosed { reason });
        }
        Ok(Checkout {
            order_id: OrderId::new(performance.0, hold.0, nonce),
            order_name: order_name(&view),
            hold: view,
        })
    }

    /// Confirms `payment_key` of `order` with the provider and books the hold. `buyer` is the
    /// caller when a buyer asks (the hold must be theirs); `None` on the webhook and redirect
    /// paths, where the provider's record names the order.
    pub async fn confirm(
        &self,
        buyer: Option<ActorId>,
        order: &OrderId,
        payment_key: &str,
    ) -> Result<Booked, FlowError> {
        if payment_key.is_empty() || payment_key.len() > PAYMENT_KEY_LEN_MAX {
            return Err(FlowError::PaymentNotFound);
        }
        let view = self
            .read_hold(PerformanceId(order.performance), HoldId(order.hold))
            .await?;
        if buyer.is_some_and(|b| b != view.buyer) {
            return Err(FlowError::NotYourHold);
        }
        let record = match already_booked(&view, payment_key) {
            // Booked already (by the webhook, or an earlier try): the ledger's recorded outcome
            // of `pay-<order>` answers with the tickets; no second provider call.
            Some(booked) => PaymentRecord {
                payment_key: booked.payment_key,
                order_id: order.to_string(),
                state: PaymentState::Done,
                total_won: booked.amount_won,
                balance_won: booked.amount_won,
                approved_at_ms: None,
                cancels: Vec::new(),
            },
            None => self.approve(order, payment_key, view.amount_won).await?,
        };
        self.book(&view, order, record).await
    }

    /// A verified webhook: look the payment up and finish what is unfinished.
    pub async fn on_webhook(&self, notice: &WebhookNotice) -> WebhookOutcome {
        let looked_up = match (&notice.payment_key, &notice.order_id) {
            (Some(key), _) => self.provider.payment(key).await,
            (None, Some(order)) => self.provider.payment_by_order(order).await,
            (None, None) => return WebhookOutcome::Ignored,
        };
        let record = match looked_up {
            Ok(record) => record,
            Err(error) => return WebhookOutcome::Refused(provider_error(error)),
        };
        let Ok(order) = record.order_id.parse::<OrderId>() else {
            return WebhookOutcome::Ignored;
        };
        let result = match record.state {
            PaymentState::InProgress => self.confirm(None, &order, &record.payment_key).await,
            PaymentState::Done => match self
                .read_hold(PerformanceId(order.performance), HoldId(order.hold))
                .await
            {
                Ok(view) => match already_booked(&view, &record.payment_key) {
                    Some(booked) => Ok(booked),
                    None => self.book(&view, &order, record).await,
                },
                // An approval for a hold the ledger never had is voided too.
                Err(FlowError::UnknownHold) => {
                    Err(self.void(&order, &record, "unknown_hold").await)
                }
                Err(error) => Err(error),
            },
            _ => return WebhookOutcome::Ignored,
        };
        match result {
            Ok(booked) => WebhookOutcome::Booked(booked),
            Err(error) => WebhookOutcome::Refused(error),
        }
    }

    async fn read_hold(
        &self,
        performance: PerformanceId,
        hold: HoldId,
    ) -> Result<HoldView, FlowError> {
        match self.ledger.hold(performance, hold).await {
            Ok(Some(view)) => Ok(view),
            Ok(None) => Err(FlowError::UnknownHold),
            Err(_) => Err(FlowError::LedgerUnavailable {
                retry_after_ms: LEDGER_RETRY_AFTER_MS,
            }),
        }
    }

    /// The provider's approval of exactly `amount_won` for this order and key.
    async fn approve(
        &self,
        order: &OrderId,
        payment_key: &str,
        amount_won: u64,
    ) -> Result<PaymentRecord, FlowError> {
        let order_text = order.to_string();
        // Toss replays the first answer to a key whatever the body, so the key names the payment
        // too: a made-up or declined key of this order must not answer for the real one.
        let idempotency = format!("confirm-{order_text}-{payment_key}");
        let confirmed = self
            .provider
            .confirm(payment_key, &order_text, amount_won, &idempotency)
            .await;
        let record = match confirmed {
            Ok(record) => record,
            // Already confirmed (by the other path), or no answer: the provider's record says
            // what happened.
            Err(PaymentError::AlreadyProcessed) => self
                .provider
                .payment(payment_key)
                .await
                .map_err(provider_error)?,
            Err(PaymentError::Timeout) => match self.provider.payment_by_order(&order_text).await {
                Ok(record) if record.payment_key == payment_key => record,
                Ok(_) => return Err(FlowError::PaymentNotFound),
                Err(error) => return Err(provider_error(error)),
            },
            Err(error) => return Err(provider_error(error)),
        };
        if record.order_id != order_text || record.payment_key != payment_key {
            return Err(FlowError::PaymentNotFound);
        }
        match record.state {
            PaymentState::Done if record.total_won == amount_won => Ok(record),
            PaymentState::Done => Err(FlowError::AmountMismatch),
            // Still being approved (a timeout's lookup): nothing is decided yet.
            PaymentState::InProgress => Err(FlowError::ProviderUnavailable {
                retry_after_ms: PROVIDER_RETRY_AFTER_MS,
            }),
            PaymentState::Aborted => Err(FlowError::Declined {
                code: "ABORTED".to_owned(),
                message: "결제 승인이 거절되었습니다 / the payment was declined".to_owned(),
            }),
            _ => Err(FlowError::PaymentNotFound),
        }
    }

    /// Books an approved payment; voids it when the ledger refuses.
    async fn book(
        &self,
        view: &HoldView,
        order: &OrderId,
        record: PaymentRecord,
    ) -> Result<Booked, FlowError> {
        let key = IdempotencyKey::new(format!("pay-{order}"))
            .expect("an order id is at most 60 printable bytes");
        let request = Request {
            actor: view.buyer,
            key,
            command: Command::Confirm {
                performance: view.performance,
                hold: view.hold,
                payment_ref: record.payment_key.clone(),
                amount_won: record.total_won,
            },
        };
        match self.ledger.submit(request).await {
            Ok(Ok(Reply::Confirmed {
                booking,
                tickets,
                amount_won,
            })) => Ok(Booked {
                booking,
                tickets,
                amount_won,
                payment_key: record.payment_key,
                buyer: view.buyer,
            }),
            Ok(Ok(_)) => Err(self.void(order, &record, "unexpected_reply").await),
            Ok(Err(rejection)) => {
                // The key may have been forgotten (24 h) while the hold is booked with this very
                // payment: that is a booking, not a refund.
                if let Ok(Some(now)) = self.ledger.hold(view.performance, view.hold).await
                    && let Some(booked) = already_booked(&now, &record.payment_key)
                {
                    return Ok(booked);
                }
                Err(self.void(order, &record, rejection.code()).await)
            }
            Err(SubmitError::Overloaded | SubmitError::Unavailable | SubmitError::Stopped) => {
                Err(FlowError::LedgerUnavailable {
                    retry_after_ms: LEDGER_RETRY_AFTER_MS,
                })
            }
        }
    }

    /// Cancels the whole payment at the provider (`void-<order>`): approved money the ledger
    /// would not book goes back at once.
    async fn void(&self, order: &OrderId, record: &PaymentRecord, reason: &str) -> FlowError {
        let idempotency = format!("void-{order}");
        let why = format!("예매할 수 없는 예약입니다 ({reason}) / the hold cannot be booked");
        let mut voided = false;
        for _ in 0..VOID_ATTEMPTS_MAX {
            match self
                .provider
                .cancel(&record.payment_key, None, &why, &idempotency)
                .await
            {
                Ok(_) => {
                    voided = true;
                    break;
                }
                Err(error) if error.is_retryable() => continue,
                Err(error) => {
                    // Already cancelled counts as voided only if the provider says the balance
                    // is gone.
                    voided = matches!(
                        self.provider.payment(&record.payment_key).await,
                        Ok(now) if now.balance_won == 0
                    );
                    if !voided {
                        tracing::error!(order = %order, %error, "voiding a payment the ledger refused failed");
                    }
                    break;
                }
            }
        }
        if !voided {
            tracing::error!(order = %order, "a payment the ledger refused is not voided yet");
        }
        FlowError::Refunded {
            reason: reason.to_owned(),
            voided,
        }
    }
}

/// The booking when the hold is already paid with this payment key.
fn already_booked(view: &HoldView, payment_key: &str) -> Option<Booked> {
    match (view.status, &view.payment_ref) {
        (HoldStatus::Confirmed(booking), Some(paid_with)) if paid_with == payment_key => {
            Some(Booked {
                booking,
                // The tickets are the booking's; the buyer reads them on my page.
                tickets: Vec::new(),
                amount_won: view.amount_won,
                payment_key: payment_key.to_owned(),
                buyer: view.buyer,
            })
        }
        _ => None,
    }
}

/// Why a hold can no longer be paid, as the ledger's rejection code would say it.
fn closed_reason(view: &HoldView, now_ms: u64) -> Option<&'static str> {
    match view.status {
        HoldStatus::Active if view.expires_at_ms > now_ms => None,
        HoldStatus::Active | HoldStatus::Expired => Some("hold_expired"),
        HoldStatus::Released => Some("unknown_hold"),
        HoldStatus::Confirmed(_) => Some("already_paid"),
    }
}

/// The order's name as the provider shows it: the first place's grade and the count.
fn order_name(view: &HoldView) -> String {
    let first = view
        .places
        .first()
        .map_or("티켓", |place| place.grade_code.as_str());
    let name = match view.places.len() {
        0 | 1 => format!("{first} 1매"),
        count => format!("{first} 외 {}매", count - 1),
    };
    name.chars()
        .take(picket_toss_wire::ORDER_NAME_CHARS_MAX)
        .collect()
}

fn provider_error(error: PaymentError) -> FlowError {
    match error {
        PaymentError::Declined { code, message } | PaymentError::Refused { code, message } => {
            FlowError::Declined { code, message }
        }
        PaymentError::NotFound => FlowError::PaymentNotFound,
        PaymentError::AmountMismatch => FlowError::AmountMismatch,
        PaymentError::AlreadyProcessed | PaymentError::NotCancelable { .. } => {
            FlowError::PaymentNotFound
        }
        PaymentError::Timeout
        | PaymentError::Unavailable { .. }
        | PaymentError::Unauthorized
        | PaymentError::Protocol(_) => FlowError::ProviderUnavailable {
            retry_after_ms: PROVIDER_RETRY_AFTER_MS,
        },
    }
}

/// Webhook transmission ids seen lately, at most `capacity` (the oldest forgotten first): a
/// provider's retry of a handled transmission is ignored.
pub struct TransmissionDedupe {
    seen: HashSet<String>,
    order: VecDeque<String>,
    capacity: usize,
}

/// Default of [`TransmissionDedupe`]'s bound: transmissions remembered.
pub const WEBHOOK_TRANSMISSIONS_REMEMBERED_MAX: usize = 10_000;

impl TransmissionDedupe {
    pub fn new(capacity: usize) -> Self {
        TransmissionDedupe {
            seen: HashSet::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    /// True the first time `id` is seen.
    pub fn first_time(&mut self, id: &str) -> bool {
        if self.seen.contains(id) {
            return false;
        }
        if self.order.len() >= self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.seen.remove(&oldest);
        }
        self.seen.insert(id.to_owned());
        self.order.push_back(id.to_owned());
        true
    }

    /// Forgets `id` (its handling failed: let the provider's retry run it again).
    pub fn forget(&mut self, id: &str) {
        if self.seen.remove(id) {
            self.order.retain(|seen| seen != id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transmissions_are_remembered_up_to_the_bound() {
        let mut seen = TransmissionDedupe::new(2);
        assert!(seen.first_time("a"));
        assert!(!seen.first_time("a"));
        assert!(seen.first_time("b"));
        assert!(seen.first_time("c"));
        assert!(
            seen.first_time("a"),
            "the oldest is forgotten past the bound"
        );
        seen.forget("c");
        assert!(seen.first_time("c"));
    }
}
