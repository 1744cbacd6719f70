//! Payments the server verifies (docs/payments.md).
//!
//! - `provider.rs`: [`PaymentProvider`], the one interface every payment provider is used
//!   through (confirm, look up, cancel, billing keys, transactions, webhooks), its records and
//!   its typed [`PaymentError`].
//! - [`refunds`]: the refund worker — pays every refund the ledger owes, once, with an
//!   idempotency key derived from the refund's id; its decisions pure, its I/O separate.
//! - [`reconcile`]: the provider's transactions against the ledger's bookings and refunds (a
//!   pure comparison), voids of payments nobody booked, and the report.
//! - `order.rs`: [`OrderId`], an order id bound to one hold of one performance, so the server
//!   can tell from a provider's record which hold it pays — never from the client.
//! - `toss.rs`: [`toss::TossProvider`], the production adapter for the Toss Payments API v1
//!   (`toss/errors.rs`: Toss's error codes → [`PaymentError`]; `toss/time.rs`: Toss's times).
//!
//! The ledger core never sees any of this: the gateway and the API call the provider outside
//! the ledger's single writer and send the ledger only what the provider confirmed.

#[cfg(test)]
mod fakes;
mod order;
mod provider;
pub mod reconcile;
pub mod refunds;
pub mod toss;

pub use order::{OrderId, OrderIdError};
pub use provider::{
    BillingCharge, BillingKey, CancelRecord, PaymentError, PaymentProvider, PaymentRecord,
    PaymentState, ProviderFuture, TransactionRecord, WebhookError, WebhookNotice,
};
pub use toss::{TossConfig, TossConfigError, TossProvider};
