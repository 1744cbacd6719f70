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
//!
//! The app's `confirm`, the success URL and the webhook race for the same order (the sandbox's
//! webhook on authorisation arrives while the app is confirming). Whichever comes second is
//! answered with the booking the first made: in one process they take turns per order; across
//! processes, a confirm the provider says is in flight elsewhere waits for the payment to leave
//! `IN_PROGRESS` and books under the same `pay-<order>` key, which the ledger books once.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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
/// Lookups of a payment whose confirm another process has in flight at the provider
/// (`IDEMPOTENT_REQUEST_PROCESSING`), waiting for it to be approved or refused, before the buyer
/// is told to retry.
pub const IN_FLIGHT_LOOKUPS_MAX: u32 = 10;
/// Pause between those lookups: with [`IN_FLIGHT_LOOKUPS_MAX`], two seconds in all.
pub const IN_FLIGHT_LOOKUP_INTERVAL: Duration = Duration::from_millis(200);
/// The provider's answer to a confirm whose idempotency key is still being carried out.
const IN_FLIGHT_CODE: &str = "IDEMPOTENT_REQUEST_PROCESSING";
/// Payments this process booked (or found booked) lately, remembered with their booking so a
/// webhook or success URL for one costs no provider lookup and no ledger read: at most this
/// many, the oldest forgotten first (one forgotten is only looked up again).
pub const BOOKINGS_REMEMBERED_MAX: usize = 10_000;
/// Orders this process checked out lately, remembered with the hold as the checkout read it, so
/// the confirm that follows needs no second ledger read and the webhook of one whose buyer's
/// app is about to confirm here can wait for that confirm instead of racing it: at most this
/// many, the oldest forgotten first.
pub const CHECKOUTS_REMEMBERED_MAX: usize = 10_000;

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
    /// Where a buyer registers a card for auto-pay: the sandbox's `/billing/authorize`; `None`
    /// with Toss, whose SDK opens its billing window (`requestBillingAuth`) from the client key.
    pub billing_url: Option<String>,
    /// One turn per order being confirmed or booked in this process (see [`Turns`]).
    turns: Turns,
    /// Payments booked here lately, by order: [`BOOKINGS_REMEMBERED_MAX`].
    booked_here: Mutex<Recent<Booked>>,
    /// Orders checked out here lately: [`CHECKOUTS_REMEMBERED_MAX`].
    checked_out_here: Mutex<Recent<HoldView>>,
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
            billing_url: None,
            turns: Turns::default(),
            booked_here: Mutex::new(Recent::new(BOOKINGS_REMEMBERED_MAX)),
            checked_out_here: Mutex::new(Recent::new(CHECKOUTS_REMEMBERED_MAX)),
        }
    }

    /// The flow with the provider's billing authorisation page at `url` (the sandbox's).
    pub fn with_billing_url(mut self, url: String) -> Flow {
        self.billing_url = Some(url);
        self
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
        let order_id = OrderId::new(performance.0, hold.0, nonce);
        lock(&self.checked_out_here).insert(order_id.to_string(), view.clone());
        Ok(Checkout {
            order_id,
            order_name: order_name(&view),
            hold: view,
        })
    }

    /// Confirms `payment_key` of `order` with the provider and books the hold. `buyer` is the
    /// caller when a buyer asks (the hold must be theirs); `None` on the webhook and redirect
    /// paths, where the provider's record names the order. A payment already booked (by the
    /// webhook, the success URL or an earlier try) is answered with its booking and tickets.
    pub async fn confirm(
        &self,
        buyer: Option<ActorId>,
        order: &OrderId,
        payment_key: &str,
    ) -> Result<Booked, FlowError> {
        if payment_key.is_empty() || payment_key.len() > PAYMENT_KEY_LEN_MAX {
            return Err(FlowError::PaymentNotFound);
        }
        // The other path of this order finishes first: then the hold reads as booked.
        let _turn = self.turns.take(order).await;
        let booked = self.confirm_in_turn(buyer, order, payment_key).await;
        // Remembered within the turn, so a path waiting for it finds the booking in memory.
        self.remember(order, &booked);
        booked
    }

    async fn confirm_in_turn(
        &self,
        buyer: Option<ActorId>,
        order: &OrderId,
        payment_key: &str,
    ) -> Result<Booked, FlowError> {
        if let Some(booked) = self.remembered_booking(order, payment_key) {
            return match buyer {
                Some(b) if b != booked.buyer => Err(FlowError::NotYourHold),
                _ => Ok(booked),
            };
        }
        // The hold as this process's checkout read it a moment ago saves a ledger read: its
        // buyer and amount never change, and a hold that closed since is refused by the ledger's
        // `Confirm` (then voided) as it would be after a fresh read; one booked since by another
        // process books again under the same `pay-<order>` key, which the ledger answers with
        // that booking.
        let view = match self.checked_out_view(order) {
            Some(view) => view,
            None => {
                self.read_hold(PerformanceId(order.performance), HoldId(order.hold))
                    .await?
            }
        };
        if buyer.is_some_and(|b| b != view.buyer) {
            return Err(FlowError::NotYourHold);
        }
        if let Some(booked) = already_booked(&view, payment_key) {
            return Ok(booked);
        }
        let record = self.approve(order, payment_key, view.amount_won).await?;
        self.book(&view, order, record).await
    }

    /// The booking `payment_key` of `order` already made, if any: a read, nothing confirmed or
    /// booked (a ledger or provider that does not answer reads as none).
    pub async fn booking(&self, order: &OrderId, payment_key: &str) -> Option<Booked> {
        if let Some(booked) = self.remembered_booking(order, payment_key) {
            return Some(booked);
        }
        let view = self
            .read_hold(PerformanceId(order.performance), HoldId(order.hold))
            .await
            .ok()?;
        let booked = already_booked(&view, payment_key);
        if let Some(booked) = &booked {
            lock(&self.booked_here).insert(order.to_string(), booked.clone());
        }
        booked
    }

    /// The booking this process made (or read back) lately for `payment_key` of `order`, from
    /// memory: no provider call, no ledger read. `None` says nothing (not booked here, or
    /// forgotten past [`BOOKINGS_REMEMBERED_MAX`]). The key must be the one the hold was paid
    /// with, so a made-up key of a booked order is never answered with its booking.
    pub fn remembered_booking(&self, order: &OrderId, payment_key: &str) -> Option<Booked> {
        lock(&self.booked_here)
            .get(&order.to_string())
            .filter(|booked| booked.payment_key == payment_key)
            .cloned()
    }

    /// The hold of `order` as this process's checkout of it read it, if remembered.
    fn checked_out_view(&self, order: &OrderId) -> Option<HoldView> {
        lock(&self.checked_out_here)
            .get(&order.to_string())
            .cloned()
    }

    /// Whether this process checked `order` out lately or is confirming or booking it now: its
    /// buyer's app is expected to confirm it here, so a webhook for it may wait for that.
    pub fn expects_confirm(&self, order: &OrderId) -> bool {
        let order = order.to_string();
        lock(&self.checked_out_here).get(&order).is_some()
            || lock(&self.turns.orders).contains_key(&order)
    }

    /// Waits until no path of `order` is being confirmed or booked in this process (takes the
    /// order's turn and gives it back at once).
    pub async fn after_confirms(&self, order: &OrderId) {
        drop(self.turns.take(order).await);
    }

    /// Remembers a booking a path of `order` was answered with.
    fn remember(&self, order: &OrderId, booked: &Result<Booked, FlowError>) {
        if let Ok(booked) = booked {
            lock(&self.booked_here).insert(order.to_string(), booked.clone());
        }
    }

    /// A verified webhook: look the payment up and finish what is unfinished. A payment this
    /// process booked lately with the key the webhook names is answered from memory (the
    /// notice is only a hint, but a hint naming a booked payment asks for nothing).
    pub async fn on_webhook(&self, notice: &WebhookNotice) -> WebhookOutcome {
        if let (Some(key), Some(order)) = (&notice.payment_key, &notice.order_id)
            && let Ok(order) = order.parse::<OrderId>()
            && let Some(booked) = self.remembered_booking(&order, key)
        {
            return WebhookOutcome::Booked(booked);
        }
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
            PaymentState::Done => self.book_approved(&order, record).await,
            _ => return WebhookOutcome::Ignored,
        };
        match result {
            Ok(booked) => WebhookOutcome::Booked(booked),
            Err(error) => WebhookOutcome::Refused(error),
        }
    }

    /// Books a charge the provider approved for `order` (the waitlist's auto-pay worker charged
    /// the buyer's billing key for the hold's amount), in the order's turn, as the hold's buyer
    /// under `pay-<order>`: booked once however often it is asked, and voided at once when the
    /// ledger will not book it (the hold expired or was released meanwhile).
    pub async fn book_charged(
        &self,
        order: &OrderId,
        record: PaymentRecord,
    ) -> Result<Booked, FlowError> {
        self.book_approved(order, record).await
    }

    /// Cancels the whole of a payment of `order` that must not stand (an auto-pay charge whose
    /// hold was released or expired before it was booked) under `idempotency_key`: whether
    /// nothing of it is left at the provider.
    pub async fn void_charge(
        &self,
        order: &OrderId,
        record: &PaymentRecord,
        idempotency_key: &str,
    ) -> bool {
        let why = "예매할 수 없는 예약입니다 (hold_closed) / the hold cannot be booked";
        for _ in 0..VOID_ATTEMPTS_MAX {
            match self
                .provider
                .cancel(&record.payment_key, None, why, idempotency_key)
                .await
            {
                Ok(_) => return true,
                Err(error) if error.is_retryable() => continue,
                Err(error) => {
                    let gone = matches!(
                        self.provider.payment(&record.payment_key).await,
                        Ok(now) if now.balance_won == 0
                    );
                    if !gone {
                        tracing::error!(order = %order, %error, "voiding a charge that must not stand failed");
                    }
                    return gone;
                }
            }
        }
        false
    }

    /// Books a payment the provider approved (the webhook of a confirm whose booking did not
    /// follow), in the order's turn.
    async fn book_approved(
        &self,
        order: &OrderId,
        record: PaymentRecord,
    ) -> Result<Booked, FlowError> {
        let _turn = self.turns.take(order).await;
        let booked = self.book_approved_in_turn(order, record).await;
        self.remember(order, &booked);
        booked
    }

    async fn book_approved_in_turn(
        &self,
        order: &OrderId,
        record: PaymentRecord,
    ) -> Result<Booked, FlowError> {
        match self
            .read_hold(PerformanceId(order.performance), HoldId(order.hold))
            .await
        {
            Ok(view) => match already_booked(&view, &record.payment_key) {
                Some(booked) => Ok(booked),
                None => self.book(&view, order, record).await,
            },
            // An approval for a hold the ledger never had is voided too.
            Err(FlowError::UnknownHold) => Err(self.void(order, &record, "unknown_hold").await),
            Err(error) => Err(error),
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
            // The same confirm is being carried out for another path of this order (another
            // process's webhook, or the app through another gateway): its outcome is ours.
            Err(PaymentError::Unavailable { code, .. }) if code == IN_FLIGHT_CODE => {
                self.settled(payment_key).await?
            }
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

    /// The payment once the confirm in flight elsewhere settled it (approved or refused), looked
    /// up at most [`IN_FLIGHT_LOOKUPS_MAX`] times; still in progress, the buyer retries.
    async fn settled(&self, payment_key: &str) -> Result<PaymentRecord, FlowError> {
        for _ in 0..IN_FLIGHT_LOOKUPS_MAX {
            tokio::time::sleep(IN_FLIGHT_LOOKUP_INTERVAL).await;
            let record = self
                .provider
                .payment(payment_key)
                .await
                .map_err(provider_error)?;
            if record.state != PaymentState::InProgress {
                return Ok(record);
            }
        }
        Err(FlowError::ProviderUnavailable {
            retry_after_ms: PROVIDER_RETRY_AFTER_MS,
        })
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
                tickets: view.tickets.clone(),
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
pub fn order_name(view: &HoldView) -> String {
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

/// Orders being confirmed or booked in this process, each with a lock its paths take in turn:
/// the app's `confirm` (through the gateway), the success URL and the webhook share one [`Flow`]
/// in a process, so the second to come waits for the first and finds its booking instead of
/// meeting its confirm in flight at the provider. An order's entry lives while a path holds or
/// awaits its turn, so there are at most as many as confirms under way.
#[derive(Default)]
struct Turns {
    orders: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl Turns {
    async fn take(&self, order: &OrderId) -> Turn<'_> {
        let order = order.to_string();
        let lock = self
            .orders
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(order.clone())
            .or_default()
            .clone();
        Turn {
            turns: self,
            order,
            held: Some(lock.lock_owned().await),
        }
    }
}

/// One path's turn at an order; the order's entry goes when nobody else holds or awaits it.
struct Turn<'a> {
    turns: &'a Turns,
    order: String,
    held: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Drop for Turn<'_> {
    fn drop(&mut self) {
        let mut orders = self.turns.orders.lock().unwrap_or_else(|p| p.into_inner());
        // Released under the map's lock: a path taking a turn now clones the entry first.
        self.held = None;
        if orders
            .get(&self.order)
            .is_some_and(|lock| Arc::strong_count(lock) == 1)
        {
            orders.remove(&self.order);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

/// A map of the latest `capacity` keys inserted (the oldest forgotten first).
struct Recent<V> {
    values: HashMap<String, V>,
    order: VecDeque<String>,
    capacity: usize,
}

impl<V> Recent<V> {
    fn new(capacity: usize) -> Self {
        Recent {
            values: HashMap::new(),
            order: VecDeque::new(),
            capacity: capacity.max(1),
        }
    }

    fn get(&self, key: &str) -> Option<&V> {
        self.values.get(key)
    }

    fn insert(&mut self, key: String, value: V) {
        if self.values.insert(key.clone(), value).is_some() {
            return;
        }
        if self.order.len() >= self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.values.remove(&oldest);
        }
        self.order.push_back(key);
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
    use crate::fakes::{self, FakeLedger, FakeProvider, PERFORMANCE, START_MS};
    use picket_ledger_core::{Ledger, SeatId, Selection};

    const BUYER: u64 = 41;
    const PAYMENT_KEY: &str = "tgen_paid_by_the_buyer_0001";

    /// A buyer's hold of two seats in a fresh ledger, and a flow over it: (flow, provider,
    /// ledger, the order the buyer pays, the hold's amount).
    async fn holding() -> (Flow, Arc<FakeProvider>, Arc<FakeLedger>, OrderId, u64) {
        let (ledger, client) = fakes::open_ledger(30_000).await;
        let held = fakes::send(
            &client,
            BUYER,
            "hold-1",
            Command::Hold {
                performance: PERFORMANCE,
                selection: Selection::Seats(vec![SeatId(2), SeatId(3)]),
                admission: None,
                offer: None,
            },
        )
        .await;
        let Ok(Reply::Held {
            hold, amount_won, ..
        }) = held
        else {
            panic!("hold failed: {held:?}");
        };
        let provider = Arc::new(FakeProvider::default());
        let flow = Flow::new(
            provider.clone(),
            client,
            "test_ck_flow".into(),
            "http://sandbox.test/checkout".into(),
        );
        let order = OrderId::new(PERFORMANCE.0, hold.0, 0x5eed);
        (flow, provider, ledger, order, amount_won)
    }

    /// The ledger's bookings of the order's hold, each with its tickets.
    fn bookings_of(ledger: &Ledger, order: &OrderId) -> Vec<(BookingId, Vec<TicketId>)> {
        let state = ledger.performance(PERFORMANCE).expect("the performance");
        state
            .tickets()
            .map(|(_, ticket)| ticket.booking)
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .filter_map(|booking| state.booking(booking).map(|b| (booking, b)))
            .filter(|(_, b)| b.hold.0 == order.hold)
            .map(|(booking, b)| (booking, b.tickets.clone()))
            .collect()
    }

    fn webhook_for(order: &OrderId) -> WebhookNotice {
        WebhookNotice {
            event_type: "PAYMENT_STATUS_CHANGED".into(),
            payment_key: Some(PAYMENT_KEY.into()),
            order_id: Some(order.to_string()),
            transmission_id: None,
        }
    }

    /// The webhook booked the payment first; the app's confirm and a second webhook that come
    /// later are answered with that booking and its tickets, and nothing is booked again.
    #[tokio::test]
    async fn a_payment_the_webhook_booked_is_answered_with_its_booking_and_tickets() {
        let (flow, provider, ledger, order, amount) = holding().await;
        provider.approve(PAYMENT_KEY, &order.to_string(), amount, START_MS);
        let WebhookOutcome::Booked(first) = flow.on_webhook(&webhook_for(&order)).await else {
            panic!("the webhook did not book");
        };
        let booked = bookings_of(&ledger.ledger(), &order);
        assert_eq!(booked.len(), 1, "{booked:?}");
        let (booking, tickets) = booked[0].clone();
        assert_eq!(tickets.len(), 2, "one ticket a seat");
        assert_eq!((first.booking, &first.tickets), (booking, &tickets));

        let late = flow
            .confirm(Some(ActorId(BUYER)), &order, PAYMENT_KEY)
            .await
            .expect("the late confirm is answered with the booking");
        assert_eq!(
            (late.booking, &late.tickets, late.amount_won),
            (booking, &tickets, amount)
        );
        let WebhookOutcome::Booked(again) = flow.on_webhook(&webhook_for(&order)).await else {
            panic!("a second webhook is answered with the booking");
        };
        assert_eq!((again.booking, &again.tickets), (booking, &tickets));
        assert_eq!(bookings_of(&ledger.ledger(), &order).len(), 1);

        // Only the hold's buyer is answered; another key is not this payment.
        assert_eq!(
            flow.confirm(Some(ActorId(BUYER + 1)), &order, PAYMENT_KEY)
                .await,
            Err(FlowError::NotYourHold)
        );
        assert_eq!(
            flow.confirm(Some(ActorId(BUYER)), &order, "tgen_made_up_key_0000")
                .await
                .map(|b| b.booking),
            Err(FlowError::PaymentNotFound)
        );
    }

    /// The app's confirm booked the payment: the webhooks the provider sends for it afterwards
    /// (and the success URL's read) are answered from memory, with no provider lookup. A made-up
    /// key of the booked order is not answered from memory, and another order is not either.
    #[tokio::test]
    async fn a_webhook_for_a_payment_booked_here_costs_no_lookup() {
        let (flow, provider, ledger, order, amount) = holding().await;
        provider.approve(PAYMENT_KEY, &order.to_string(), amount, START_MS);
        let booked = flow
            .confirm(Some(ActorId(BUYER)), &order, PAYMENT_KEY)
            .await
            .expect("the app's confirm books");
        let lookups = provider.lookups();
        for _ in 0..3 {
            let WebhookOutcome::Booked(again) = flow.on_webhook(&webhook_for(&order)).await else {
                panic!("a webhook for the booked payment is answered with its booking");
            };
            assert_eq!(
                (again.booking, &again.tickets),
                (booked.booking, &booked.tickets)
            );
        }
        assert_eq!(
            provider.lookups(),
            lookups,
            "no lookup for a booked payment"
        );
        assert_eq!(
            flow.booking(&order, PAYMENT_KEY).await.map(|b| b.booking),
            Some(booked.booking)
        );
        assert!(
            flow.remembered_booking(&order, "tgen_made_up_key_0000")
                .is_none()
        );
        let other = OrderId::new(PERFORMANCE.0, order.hold, 0xbad);
        assert!(flow.remembered_booking(&other, PAYMENT_KEY).is_none());
        assert_eq!(bookings_of(&ledger.ledger(), &order).len(), 1);
        // A webhook naming another key of the order is looked up (and finds nothing).
        let mut made_up = webhook_for(&order);
        made_up.payment_key = Some("tgen_made_up_key_0000".into());
        assert_eq!(
            flow.on_webhook(&made_up).await,
            WebhookOutcome::Refused(FlowError::PaymentNotFound)
        );
        assert_eq!(provider.lookups(), lookups + 1);
    }

    /// Orders checked out here are expected to be confirmed here; others are not.
    #[tokio::test]
    async fn orders_checked_out_here_expect_a_confirm() {
        let (flow, _provider, _ledger, order, _amount) = holding().await;
        assert!(!flow.expects_confirm(&order));
        let checkout = flow
            .checkout(ActorId(BUYER), PERFORMANCE, HoldId(order.hold), 7, START_MS)
            .await
            .expect("checkout");
        assert!(flow.expects_confirm(&checkout.order_id));
        assert!(!flow.expects_confirm(&OrderId::new(PERFORMANCE.0, order.hold, 8)));
    }

    #[test]
    fn recent_keeps_the_latest_up_to_its_bound() {
        let mut recent = Recent::new(2);
        recent.insert("a".into(), 1);
        recent.insert("b".into(), 2);
        recent.insert("a".into(), 3);
        assert_eq!(recent.get("a"), Some(&3));
        recent.insert("c".into(), 4);
        assert_eq!((recent.get("a"), recent.get("b")), (None, Some(&2)));
        assert_eq!(recent.get("c"), Some(&4));
    }

    /// The app's confirm meets the webhook's confirm of the same payment in flight at the
    /// provider (another process): the provider approves that one and answers this one
    /// `IDEMPOTENT_REQUEST_PROCESSING`. The app waits for the approval and gets the booking.
    #[tokio::test(start_paused = true)]
    async fn a_confirm_in_flight_elsewhere_answers_with_the_booking() {
        let (flow, provider, ledger, order, amount) = holding().await;
        provider.approve(PAYMENT_KEY, &order.to_string(), amount, START_MS);
        provider.fail_next(PaymentError::Unavailable {
            code: "IDEMPOTENT_REQUEST_PROCESSING".into(),
            message: "이전 멱등 요청이 처리중입니다.".into(),
        });
        let booked = flow
            .confirm(Some(ActorId(BUYER)), &order, PAYMENT_KEY)
            .await
            .expect("booked once the other confirm settled");
        let in_ledger = bookings_of(&ledger.ledger(), &order);
        assert_eq!(in_ledger, vec![(booked.booking, booked.tickets.clone())]);
        assert_eq!(booked.tickets.len(), 2);
        let WebhookOutcome::Booked(webhook) = flow.on_webhook(&webhook_for(&order)).await else {
            panic!("the webhook's own path is answered with the booking");
        };
        assert_eq!(webhook.booking, booked.booking);
        assert_eq!(bookings_of(&ledger.ledger(), &order).len(), 1);
    }

    /// Concurrent paths of one order take turns: the second waits for the first and the
    /// order's entry is gone once both are done.
    #[tokio::test]
    async fn paths_of_one_order_take_turns() {
        let turns = Turns::default();
        let order = OrderId::new(PERFORMANCE.0, 9, 1);
        let first = turns.take(&order).await;
        let second = turns.take(&order);
        tokio::pin!(second);
        let waited = tokio::time::timeout(Duration::from_millis(50), second.as_mut()).await;
        assert!(waited.is_err(), "the second path waits for the first");
        drop(first);
        let second = second.await;
        assert_eq!(turns.orders.lock().expect("lock").len(), 1);
        drop(second);
        assert!(
            turns.orders.lock().expect("lock").is_empty(),
            "nothing left behind"
        );
    }

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
