//! Toss's error codes → [`PaymentError`], in one table (docs/payments.md, "The production
//! adapter", lists the same rows with what the buyer is told). The HTTP status does not say
//! whether to retry (`PROVIDER_ERROR` is a 400 yet transient), so the code decides; the status
//! only decides for a code this table does not know, or a body without one.

use crate::PaymentError;

/// What Picket does about a Toss error code (the [`PaymentError`] variant it becomes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Declined,
    NotFound,
    AlreadyProcessed,
    NotCancelable,
    Refused,
    Unavailable,
    Unauthorized,
}

/// Every Toss code the adapter can meet, and what it becomes. An amount mismatch has no code of
/// its own (Toss documents none; the sandbox answers `INVALID_REQUEST`): the adapter finds it by
/// looking the payment up (`toss.rs`, `confirm`).
pub const ERROR_TABLE: &[(&str, Outcome)] = &[
    // The card or account refused: the buyer may try another card.
    ("REJECT_CARD_COMPANY", Outcome::Declined),
    ("REJECT_CARD_PAYMENT", Outcome::Declined),
    ("REJECT_ACCOUNT_PAYMENT", Outcome::Declined),
    ("INVALID_CARD_NUMBER", Outcome::Declined),
    ("INVALID_STOPPED_CARD", Outcome::Declined),
    ("INVALID_CARD_EXPIRATION", Outcome::Declined),
    ("INVALID_REJECT_CARD", Outcome::Declined),
    ("INVALID_CARD_LOST_OR_STOLEN", Outcome::Declined),
    ("INVALID_PASSWORD", Outcome::Declined),
    ("EXCEED_MAX_AUTH_COUNT", Outcome::Declined),
    ("EXCEED_MAX_ONE_DAY_AMOUNT", Outcome::Declined),
    ("EXCEED_MAX_DAILY_PAYMENT_COUNT", Outcome::Declined),
    ("EXCEED_MAX_PAYMENT_AMOUNT", Outcome::Declined),
    ("EXCEED_MAX_AMOUNT", Outcome::Declined),
    ("NOT_AVAILABLE_BANK", Outcome::Declined),
    ("FDS_ERROR", Outcome::Declined),
    // The card company failed this card: another card (or a later try) is the buyer's way out;
    // retrying the same confirm would replay the same answer under its idempotency key.
    ("CARD_PROCESSING_ERROR", Outcome::Declined),
    // No such payment (or not of this order), billing key, or authorisation.
    ("NOT_FOUND_PAYMENT", Outcome::NotFound),
    ("NOT_FOUND", Outcome::NotFound),
    ("NOT_FOUND_BILLING", Outcome::NotFound),
    // Done before: look the payment up to learn the outcome.
    ("ALREADY_PROCESSED_PAYMENT", Outcome::AlreadyProcessed),
    ("DUPLICATED_ORDER_ID", Outcome::AlreadyProcessed),
    // The payment cannot be cancelled by that much, or at all.
    ("NOT_CANCELABLE_AMOUNT", Outcome::NotCancelable),
    ("NOT_CANCELABLE_PAYMENT", Outcome::NotCancelable),
    ("ALREADY_CANCELED_PAYMENT", Outcome::NotCancelable),
    ("ALREADY_REFUND_PAYMENT", Outcome::NotCancelable),
    ("NOT_ALLOWED_PARTIAL_REFUND", Outcome::NotCancelable),
    (
        "NOT_ALLOWED_PARTIAL_REFUND_WAITING_DEPOSIT",
        Outcome::NotCancelable,
    ),
    ("NOT_MATCHES_REFUNDABLE_AMOUNT", Outcome::NotCancelable),
    (
        "NOT_CANCELABLE_PAYMENT_FOR_DORMANT_USER",
        Outcome::NotCancelable,
    ),
    ("EXCEED_CANCEL_LIMIT", Outcome::NotCancelable),
    ("EXCEED_MAX_REFUND_DUE", Outcome::NotCancelable),
    (
        "EXCEED_CANCEL_AMOUNT_DISCOUNT_AMOUNT",
        Outcome::NotCancelable,
    ),
    ("REFUND_REJECTED", Outcome::NotCancelable),
    // Transient at the provider: retry later with the same idempotency key.
    ("PROVIDER_ERROR", Outcome::Unavailable),
    ("IDEMPOTENT_REQUEST_PROCESSING", Outcome::Unavailable),
    ("FORBIDDEN_CONSECUTIVE_REQUEST", Outcome::Unavailable),
    ("FAILED_INTERNAL_SYSTEM_PROCESSING", Outcome::Unavailable),
    (
        "FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING",
        Outcome::Unavailable,
    ),
    ("UNKNOWN_PAYMENT_ERROR", Outcome::Unavailable),
    ("COMMON_ERROR", Outcome::Unavailable),
    ("FAILED_REFUND_PROCESS", Outcome::Unavailable),
    ("FAILED_PARTIAL_REFUND", Outcome::Unavailable),
    ("FAILED_METHOD_HANDLING_CANCEL", Outcome::Unavailable),
    // Picket's own keys were refused: an operator must fix the settings.
    ("UNAUTHORIZED_KEY", Outcome::Unauthorized),
    ("INVALID_API_KEY", Outcome::Unauthorized),
    ("INCORRECT_BASIC_AUTH_FORMAT", Outcome::Unauthorized),
    // Refused for a reason a retry will not change.
    ("NOT_FOUND_PAYMENT_SESSION", Outcome::Refused),
    ("EXPIRED_PAYMENT", Outcome::Refused),
    ("INVALID_REQUEST", Outcome::Refused),
    ("INVALID_IDEMPOTENCY_KEY", Outcome::Refused),
    ("FORBIDDEN_REQUEST", Outcome::Refused),
    ("BELOW_MINIMUM_AMOUNT", Outcome::Refused),
    ("UNAPPROVED_ORDER_ID", Outcome::Refused),
    ("NOT_MATCHES_CUSTOMER_KEY", Outcome::Refused),
    ("INVALID_BILL_KEY_REQUEST", Outcome::Refused),
    ("EXCEED_MAX_CARD_INSTALLMENT_PLAN", Outcome::Refused),
    ("INVALID_REFUND_ACCOUNT_INFO", Outcome::Refused),
    ("INVALID_REFUND_ACCOUNT_NUMBER", Outcome::Refused),
    ("INVALID_BANK", Outcome::Refused),
    ("FORBIDDEN_BANK_REFUND_REQUEST", Outcome::Refused),
];

/// The outcome of a code: the table's, or for a code added after it was written, the status's
/// (5xx and 429 retry, 401 is Picket's key, 404 is not found, any other is a refusal).
pub fn outcome(status: u16, code: &str) -> Outcome {
    ERROR_TABLE
        .iter()
        .find(|(known, _)| *known == code)
        .map(|&(_, outcome)| outcome)
        .unwrap_or(match status {
            401 => Outcome::Unauthorized,
            404 => Outcome::NotFound,
            429 | 500..=599 => Outcome::Unavailable,
            _ => Outcome::Refused,
        })
}

/// The error for a Toss error body with `status`.
pub fn payment_error(status: u16, code: &str, message: &str) -> PaymentError {
    let (code, message) = (code.to_owned(), message.to_owned());
    match outcome(status, &code) {
        Outcome::Declined => PaymentError::Declined { code, message },
        Outcome::NotFound => PaymentError::NotFound,
        Outcome::AlreadyProcessed => PaymentError::AlreadyProcessed,
        Outcome::NotCancelable => PaymentError::NotCancelable { code, message },
        Outcome::Refused => PaymentError::Refused { code, message },
        Outcome::Unavailable => PaymentError::Unavailable { code, message },
        Outcome::Unauthorized => PaymentError::Unauthorized,
    }
}

/// The error for a non-2xx answer whose body is not a Toss error body (a proxy's page, an empty
/// 502, a rate limiter): only the status is known.
pub fn status_error(status: u16) -> PaymentError {
    match status {
        401 | 403 => PaymentError::Unauthorized,
        429 | 500..=599 => PaymentError::Unavailable {
            code: format!("HTTP_{status}"),
            message:
                "결제사가 일시적으로 응답하지 않습니다. (the provider is temporarily unavailable)"
                    .to_owned(),
        },
        _ => PaymentError::Protocol(format!("HTTP {status} without a Toss error body")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_code_is_listed_once() {
        for (i, (code, _)) in ERROR_TABLE.iter().enumerate() {
            assert!(
                ERROR_TABLE[i + 1..].iter().all(|(other, _)| other != code),
                "{code} twice"
            );
        }
    }

    #[test]
    fn the_codes_become_what_the_brief_says() {
        let declined = payment_error(403, "REJECT_CARD_PAYMENT", "잔액부족");
        assert!(matches!(declined, PaymentError::Declined { .. }));
        assert_eq!(
            payment_error(404, "NOT_FOUND_PAYMENT", ""),
            PaymentError::NotFound
        );
        assert_eq!(
            payment_error(400, "ALREADY_PROCESSED_PAYMENT", ""),
            PaymentError::AlreadyProcessed
        );
        assert!(matches!(
            payment_error(403, "NOT_CANCELABLE_AMOUNT", ""),
            PaymentError::NotCancelable { .. }
        ));
        // A 400 that is transient, and a 409 asking to retry with the same key.
        assert!(payment_error(400, "PROVIDER_ERROR", "").is_retryable());
        assert!(payment_error(409, "IDEMPOTENT_REQUEST_PROCESSING", "").is_retryable());
        assert_eq!(
            payment_error(400, "INVALID_API_KEY", ""),
            PaymentError::Unauthorized
        );
        assert_eq!(
            payment_error(401, "UNAUTHORIZED_KEY", ""),
            PaymentError::Unauthorized
        );
    }

    #[test]
    fn an_unknown_code_falls_back_on_its_status() {
        assert!(payment_error(503, "SOMETHING_NEW", "").is_retryable());
        assert!(payment_error(429, "SOMETHING_NEW", "").is_retryable());
        assert_eq!(
            payment_error(404, "SOMETHING_NEW", ""),
            PaymentError::NotFound
        );
        assert!(matches!(
            payment_error(400, "SOMETHING_NEW", ""),
            PaymentError::Refused { .. }
        ));
        assert!(status_error(502).is_retryable());
        assert!(status_error(429).is_retryable());
        assert_eq!(status_error(401), PaymentError::Unauthorized);
        assert!(matches!(status_error(400), PaymentError::Protocol(_)));
    }
}
