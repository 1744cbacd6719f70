//! The Toss Payments core API v1 on the wire: its JSON bodies as serde types, its header names
//! and its order-id rule. Serde only — no I/O, no HTTP client — so the sandbox provider and the
//! production adapter share exactly this and nothing else (the adapter is tested against a
//! server it did not write).
//!
//! Forward compatibility, as Toss documents it: fields are added without a version bump, so
//! every struct ignores unknown fields; status values, error codes and event types are open
//! enums that keep an unknown value instead of failing to parse. Nullable fields are `Option`
//! and a missing field reads as `null`. Amounts are whole won as JSON numbers (`u64`).

mod billing;
mod error;
mod open_enum;
mod payment;
mod request;
mod transaction;
mod webhook;

pub use billing::{Billing, BillingCard};
pub use error::{ErrorBody, ErrorCode};
pub use payment::{
    Cancel, CancelStatus, Card, Checkout, Failure, Payment, PaymentStatus, PaymentType, Receipt,
};
pub use request::{BillingChargeRequest, BillingIssueRequest, CancelRequest, ConfirmRequest};
pub use transaction::Transaction;
pub use webhook::{EventType, WebhookEvent};

/// The Payment object version these types follow (`"version"` in every Payment).
pub const PAYMENT_VERSION: &str = "2022-11-16";

/// Header: makes a POST idempotent for 15 days (key, API key, path and method together).
pub const IDEMPOTENCY_KEY: &str = "Idempotency-Key";
/// Header (test keys only): forces the named error code, so a client can test its handling.
pub const TEST_CODE: &str = "TossPayments-Test-Code";
/// Webhook header: when this transmission was sent (`yyyy-MM-ddTHH:mm:ss±hh:mm`).
pub const WEBHOOK_TRANSMISSION_TIME: &str = "tosspayments-webhook-transmission-time";
/// Webhook header: a unique id per transmission (the same on its retries): dedupe on it.
pub const WEBHOOK_TRANSMISSION_ID: &str = "tosspayments-webhook-transmission-id";
/// Webhook header: how many times this transmission was retried (0 on the first send).
pub const WEBHOOK_RETRIED_COUNT: &str = "tosspayments-webhook-transmission-retried-count";
/// Webhook header: `v1:<base64 HMAC-SHA256>` values, comma-separated. The signed message is
/// `{body}:{transmission-time}`.
pub const WEBHOOK_SIGNATURE: &str = "tosspayments-webhook-signature";

/// Shortest order id Toss accepts.
pub const ORDER_ID_CHARS_MIN: usize = 6;
/// Longest order id Toss accepts.
pub const ORDER_ID_CHARS_MAX: usize = 64;
/// Longest order name (`orderName`), in characters.
pub const ORDER_NAME_CHARS_MAX: usize = 100;
/// Longest `paymentKey`.
pub const PAYMENT_KEY_CHARS_MAX: usize = 200;
/// Longest `cancelReason`, in characters.
pub const CANCEL_REASON_CHARS_MAX: usize = 200;
/// Longest `Idempotency-Key`.
pub const IDEMPOTENCY_KEY_CHARS_MAX: usize = 300;

/// Whether `order_id` follows the order-id rule every Toss source agrees on:
/// `[A-Za-z0-9_-]{6,64}` (the API reference's charset; the SDK also allows `=` and an unofficial
/// spec `.`, which this narrower rule never produces).
pub fn is_valid_order_id(order_id: &str) -> bool {
    (ORDER_ID_CHARS_MIN..=ORDER_ID_CHARS_MAX).contains(&order_id.len())
        && order_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_ids_follow_the_rule() {
        assert!(is_valid_order_id("a4CWyWY5m89PNh7xJwhk1"));
        assert!(is_valid_order_id("abc_-9"));
        assert!(is_valid_order_id(&"x".repeat(64)));
        assert!(!is_valid_order_id("abcde"));
        assert!(!is_valid_order_id(&"x".repeat(65)));
        assert!(!is_valid_order_id("order=123"));
        assert!(!is_valid_order_id("order.123"));
        assert!(!is_valid_order_id("주문번호123456"));
        assert!(!is_valid_order_id("order 1234"));
    }
}
