//! Errors as `application/problem+json` (RFC 9457) with a stable `code` for clients, and, for
//! validation, one entry per field that says what is wrong.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
pub use picket_edge::problem::FieldError;
use picket_edge::problem::Problem;

/// " of N bytes" when the limit is known where the error is made.
fn limit_text(bytes_max: Option<usize>) -> String {
    bytes_max.map_or_else(String::new, |bytes| format!(" of {bytes} bytes"))
}

/// Every error the API answers with; `code` is stable, `detail` is for people.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
    #[error("the body is not the JSON this endpoint takes: {0}")]
    BadBody(String),
    /// The body is longer than the endpoint takes.
    #[error("the body is over this route's limit{}", limit_text(*.bytes_max))]
    TooLarge { bytes_max: Option<usize> },
    #[error("sign in first")]
    Unauthenticated,
    #[error("this account may not do that")]
    Forbidden,
    #[error("no such {0}")]
    NotFound(&'static str),
    #[error("{0}")]
    Conflict(&'static str),
    #[error("wrong email or password")]
    WrongCredentials,
    #[error("too many attempts; try again in {retry_after_s} s")]
    TooManyAttempts { retry_after_s: u64 },
    #[error("storage is unavailable")]
    Store(#[from] sqlx::Error),
    #[error("the waiting room is unavailable; try again")]
    QueueUnavailable(String),
    #[error("banner storage is unavailable; try again")]
    MediaUnavailable(#[from] crate::media::BannerStoreError),
    #[error("send Authorization: Bearer <operator token>")]
    OperatorOnly,
    #[error("no such sale")]
    UnknownSale,
    #[error("the pre-queue is drawn at the open; the seed and order are published then")]
    NotDrawn,
    /// The ledger refused the command; `detail` carries the ledger's own code.
    #[error("the ledger refused ({code}): {0}", code = .0.code())]
    Rejected(picket_ledger_core::Rejection),
    /// The performance is open in the ledger with another spec (or with this one longer ago than
    /// the ledger keeps idempotency keys); an open performance's spec is never replaced.
    #[error("the performance is already open with another spec")]
    PerformanceAlreadyOpen,
    #[error("the ledger did not answer; try again")]
    LedgerUnavailable,
    #[error("internal error")]
    Internal(String),
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Invalid(_) => "invalid_request",
            ApiError::BadBody(_) => "bad_body",
            ApiError::TooLarge { .. } => "too_large",
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::Forbidden => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::WrongCredentials => "wrong_credentials",
            ApiError::TooManyAttempts { .. } => "too_many_attempts",
            ApiError::Store(_) => "store_unavailable",
            ApiError::QueueUnavailable(_) => "queue_unavailable",
            ApiError::MediaUnavailable(_) => "media_unavailable",
            ApiError::OperatorOnly => "operator_only",
            ApiError::UnknownSale => "unknown_sale",
            ApiError::NotDrawn => "not_drawn",
            ApiError::Rejected(_) => "ledger_rejected",
            ApiError::PerformanceAlreadyOpen => "performance_already_open",
            ApiError::LedgerUnavailable => "ledger_unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadBody(_) => StatusCode::BAD_REQUEST,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unauthenticated | ApiError::WrongCredentials | ApiError::OperatorOnly => {
                StatusCode::UNAUTHORIZED
            }
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) | ApiError::UnknownSale => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) | ApiError::NotDrawn | ApiError::PerformanceAlreadyOpen => {
                StatusCode::CONFLICT
            }
            ApiError::Rejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Store(_)
            | ApiError::QueueUnavailable(_)
            | ApiError::MediaUnavailable(_)
            | ApiError::LedgerUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Every code with its HTTP status, for the OpenAPI document and its test.
pub const CODES: [(&str, u16); 19] = [
    ("invalid_request", 422),
    ("bad_body", 400),
    // A body over the endpoint's limit (banners: `media::BANNER_BYTES_MAX`).
    ("too_large", 413),
    ("unauthenticated", 401),
    ("forbidden", 403),
    ("not_found", 404),
    ("conflict", 409),
    ("wrong_credentials", 401),
    ("too_many_attempts", 429),
    ("store_unavailable", 503),
    ("queue_unavailable", 503),
    // The banner store (media directory or S3-compatible bucket) failed or cannot be reached.
    ("media_unavailable", 503),
    // The operator token is missing or wrong (operator routes).
    ("operator_only", 401),
    ("unknown_sale", 404),
    // The sale's pre-queue has not been drawn yet: its seed is published at the open.
    ("not_drawn", 409),
    // The ledger refused an operator's command; the detail names the ledger's code.
    ("ledger_rejected", 422),
    // `POST /api/v2/performances` with another spec for a performance already open.
    ("performance_already_open", 409),
    ("ledger_unavailable", 503),
    ("internal", 500),
];

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after_s = match &self {
            ApiError::TooManyAttempts { retry_after_s } => Some(*retry_after_s),
            _ => None,
        };
        if let ApiError::Store(error) = &self {
            tracing::warn!(%error, "api store error");
        }
        if let ApiError::QueueUnavailable(error) = &self {
            tracing::warn!(%error, "waiting room store error");
        }
        if let ApiError::MediaUnavailable(error) = &self {
            tracing::warn!(%error, "banner store error");
        }
        if let ApiError::Internal(error) = &self {
            tracing::error!(%error, "api internal error");
        }
        let code = self.code();
        // Store errors are logged, not shown: they can carry connection details.
        let detail = match &self {
            ApiError::Store(_) => "storage is unavailable; try again".to_owned(),
            ApiError::Internal(_) => "internal error".to_owned(),
            other => other.to_string(),
        };
        let errors = match self {
            ApiError::Invalid(errors) => errors,
            _ => Vec::new(),
        };
        let mut response = Problem::new(status, code, detail)
            .with_errors(errors)
            .into_response();
        if let Some(value) = retry_after_s.and_then(|s| s.to_string().parse().ok()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}
