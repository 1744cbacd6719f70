//! Payments the server verifies (docs/payments.md).
//!
//! - `provider.rs`: [`PaymentProvider`], the one interface every payment provider is used
//!   through (confirm, look up, cancel, billing keys, transactions, webhooks), its records and
//!   its typed [`PaymentError`].
//! - [`autopay`]: the waitlist's auto-pay charges: the one order and idempotency key of an
//!   auto-pay hold and what the provider's answer to its billing-key charge means (pure; the
//!   worker that charges is the API's `autopay.rs`).
//! - [`refunds`]: the refund worker — pays every refund the ledger owes, once, with an
//!   idempotency key derived from the refund's id; its decisions pure, its I/O separate.
//! - [`reconcile`]: the provider's transactions against the ledger's bookings and refunds (a
//!   pure comparison), voids of payments nobody booked, and the report.
//! - `order.rs`: [`OrderId`], an order id bound to one hold of one performance, so the server
//!   can tell from a provider's record which hold it pays — never from the client.
//! - `flow.rs`: [`Flow`], checkout and confirm-and-book, shared by the gateway and the API, and
//!   the webhook's completion of what a buyer's app left unfinished.
//! - `toss.rs`: [`toss::TossProvider`], the production adapter for the Toss Payments API v1
//!   (`toss/errors.rs`: Toss's error codes → [`PaymentError`]; `toss/time.rs`: Toss's times).
//!
//! The ledger core never sees any of this: the gateway and the API call the provider outside
//! the ledger's single writer and send the ledger only what the provider confirmed.

pub mod autopay;
#[cfg(test)]
mod fakes;
pub mod flow;
mod order;
mod provider;
pub mod reconcile;
pub mod refunds;
pub mod toss;

pub use flow::{Booked, Checkout, Flow, FlowError, TransmissionDedupe, WebhookOutcome};
pub use order::{OrderId, OrderIdError};
pub use provider::{
    BillingCharge, BillingKey, CancelRecord, PaymentError, PaymentProvider, PaymentRecord,
    PaymentState, ProviderFuture, TransactionRecord, WebhookError, WebhookNotice,
};
pub use toss::{TossConfig, TossConfigError, TossProvider, WebhookSignatures};

/// The provider's bounds on an order id and an order name, in characters (the API's document
/// states them).
pub use picket_toss_wire::{ORDER_ID_CHARS_MAX, ORDER_NAME_CHARS_MAX};
