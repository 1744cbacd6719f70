//! The provider interface: what Picket asks of a payment provider, in Picket's terms.
//!
//! The production adapter (Toss Payments v1) and test fakes implement it; the gateway, the API,
//! the refund worker and reconciliation use only this. Amounts are whole won. Every call that
//! moves money takes an idempotency key from the caller, derived from what it is for (an order,
//! a refund), so a retry after a crash or a timeout moves the money once.

use std::future::Future;
use std::pin::Pin;

/// What every provider call returns (object-safe, so a provider is `Arc<dyn PaymentProvider>`).
pub type ProviderFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, PaymentError>> + Send + 'a>>;

/// A payment's state at the provider (Toss's `status` values).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PaymentState {
    /// Created, the buyer has not authorised it.
    Ready,
    /// Authorised by the buyer; the merchant must confirm it.
    InProgress,
    WaitingForDeposit,
    /// Approved: the money is taken.
    Done,
    /// Fully cancelled (refunded, or voided before approval).
    Canceled,
    PartialCanceled,
    /// The approval failed.
    Aborted,
    /// Not confirmed in time.
    Expired,
    /// A state the provider added after this code was written.
    Other(String),
}

/// A payment as the provider records it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PaymentRecord {
    pub payment_key: String,
    pub order_id: String,
    pub state: PaymentState,
    /// What was authorised or approved.
    pub total_won: u64,
    /// What is left to cancel: `total_won` less every cancel.
    pub balance_won: u64,
    /// When it was approved, in ms since the epoch (None before approval).
    pub approved_at_ms: Option<u64>,
    pub cancels: Vec<CancelRecord>,
}

/// One cancel (refund) of a payment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CancelRecord {
    /// The provider's id of this cancel (Toss's `transactionKey`).
    pub transaction_key: String,
    pub amount_won: u64,
    pub reason: String,
    pub canceled_at_ms: Option<u64>,
}

/// A buyer's card registered for later charges (the waitlist's auto-pay).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BillingKey {
    pub billing_key: String,
    pub customer_key: String,
    /// The masked card number, for the buyer to recognise the card.
    pub card_number_masked: Option<String>,
}

/// A charge of a billing key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BillingCharge {
    pub billing_key: String,
    pub customer_key: String,
    pub order_id: String,
    pub order_name: String,
    pub amount_won: u64,
    pub idempotency_key: String,
}

/// One money movement at the provider (an approval or a cancel), for reconciliation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TransactionRecord {
    pub payment_key: String,
    pub order_id: String,
    pub transaction_key: String,
    /// The payment's state after this transaction.
    pub state: PaymentState,
    pub amount_won: u64,
    pub at_ms: u64,
}

/// A verified webhook: which payment changed. Its body is a hint only — the receiver looks the
/// payment up with the provider before acting on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WebhookNotice {
    pub event_type: String,
    pub payment_key: Option<String>,
    pub order_id: Option<String>,
    /// The provider's id of this transmission (the same on its retries): dedupe on it.
    pub transmission_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("the webhook's signature is missing or wrong")]
    BadSignature,
    #[error("the webhook was sent too long ago")]
    Stale,
    #[error("the webhook is not one this provider sends: {0}")]
    Malformed(String),
}

/// Why a provider call did not do what was asked. `code` and `message` are the provider's own
/// (for logs and for the buyer); the variant is what Picket does about it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PaymentError {
    /// The card or account refused (declined, insufficient funds, limits): the buyer may try
    /// another card; the hold stays until its deadline.
    #[error("declined ({code}): {message}")]
    Declined { code: String, message: String },
    /// No such payment — or not for this order: a made-up or borrowed payment key.
    #[error("no such payment")]
    NotFound,
    /// The amount asked is not what the buyer authorised.
    #[error("the amount does not match the payment")]
    AmountMismatch,
    /// Already confirmed (look it up to learn the outcome).
    #[error("the payment was already processed")]
    AlreadyProcessed,
    /// The payment cannot be cancelled by that much (or at all).
    #[error("not cancelable ({code}): {message}")]
    NotCancelable { code: String, message: String },
    /// Refused for a reason a retry will not change.
    #[error("refused ({code}): {message}")]
    Refused { code: String, message: String },
    /// No answer in time: the outcome is unknown; look the payment up (or retry with the same
    /// idempotency key) before deciding anything.
    #[error("the provider did not answer in time")]
    Timeout,
    /// The provider failed or asked to retry (5xx, `PROVIDER_ERROR`, an idempotent request still
    /// in flight): retry later with the same idempotency key.
    #[error("the provider is unavailable ({code}): {message}")]
    Unavailable { code: String, message: String },
    /// Picket's own credentials were refused: an operator must fix the configuration.
    #[error("the provider refused Picket's credentials")]
    Unauthorized,
    /// An answer Picket cannot read.
    #[error("the provider's answer could not be read: {0}")]
    Protocol(String),
}

impl PaymentError {
    /// Whether the same call, with the same idempotency key, may succeed later.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            PaymentError::Timeout | PaymentError::Unavailable { .. }
        )
    }
}

/// One payment provider. Implementations never log secrets and never hold a lock across a call.
pub trait PaymentProvider: Send + Sync {
    /// Approve a payment the buyer authorised, for exactly `amount_won` (the hold's amount, never
    /// the client's). Refused when the key does not belong to `order_id` or the amount differs.
    fn confirm<'a>(
        &'a self,
        payment_key: &'a str,
        order_id: &'a str,
        amount_won: u64,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, PaymentRecord>;

    fn payment<'a>(&'a self, payment_key: &'a str) -> ProviderFuture<'a, PaymentRecord>;

    fn payment_by_order<'a>(&'a self, order_id: &'a str) -> ProviderFuture<'a, PaymentRecord>;

    /// Cancel `amount_won` of a payment (all of what is left when `None`).
    fn cancel<'a>(
        &'a self,
        payment_key: &'a str,
        amount_won: Option<u64>,
        reason: &'a str,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, PaymentRecord>;

    /// Turn the one-time `auth_key` of a billing authorisation into a billing key.
    fn issue_billing_key<'a>(
        &'a self,
        auth_key: &'a str,
        customer_key: &'a str,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, BillingKey>;

    fn charge_billing_key<'a>(
        &'a self,
        charge: &'a BillingCharge,
    ) -> ProviderFuture<'a, PaymentRecord>;

    /// Every transaction between `from_ms` and `to_ms` (reconciliation).
    fn transactions<'a>(
        &'a self,
        from_ms: u64,
        to_ms: u64,
    ) -> ProviderFuture<'a, Vec<TransactionRecord>>;

    /// Check a webhook's signature and freshness; `header` reads one request header by name.
    fn verify_webhook(
        &self,
        header: &dyn Fn(&str) -> Option<String>,
        body: &[u8],
        now_ms: u64,
    ) -> Result<WebhookNotice, WebhookError>;
}
