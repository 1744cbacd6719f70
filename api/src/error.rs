//! Errors as `application/problem+json` (RFC 9457) with a stable `code` for clients, and, for
//! validation, one entry per field that says what is wrong.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// One invalid field.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// Every error the API answers with; `code` is stable, `detail` is for people.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
    #[error("the body is not the JSON this endpoint takes: {0}")]
    BadBody(String),
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
    #[error("internal error")]
    Internal(String),
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    code: &'a str,
    detail: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldError>,
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Invalid(_) => "invalid_request",
            ApiError::BadBody(_) => "bad_body",
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::Forbidden => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::WrongCredentials => "wrong_credentials",
            ApiError::TooManyAttempts { .. } => "too_many_attempts",
            ApiError::Store(_) => "store_unavailable",
            ApiError::QueueUnavailable(_) => "queue_unavailable",
            ApiError::MediaUnavailable(_) => "media_unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadBody(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated | ApiError::WrongCredentials => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Store(_) | ApiError::QueueUnavailable(_) | ApiError::MediaUnavailable(_) => {
                StatusCode::SERVICE_UNAVAILABLE
            }
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// Every code with its HTTP status, for the OpenAPI document and its test.
pub const CODES: [(&str, u16); 12] = [
    ("invalid_request", 422),
    ("bad_body", 400),
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
        let problem = Problem {
            kind: format!("https://picket.example/problems/{code}"),
            title: status.canonical_reason().unwrap_or("error"),
            status: status.as_u16(),
            code,
            // Store errors are logged, not shown: they can carry connection details.
            detail: match &self {
                ApiError::Store(_) => "storage is unavailable; try again".to_owned(),
                ApiError::Internal(_) => "internal error".to_owned(),
                other => other.to_string(),
            },
            errors: match self {
                ApiError::Invalid(errors) => errors,
                _ => Vec::new(),
            },
        };
        let body = serde_json::to_string(&problem).expect("problems always encode");
        let mut response = (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response();
        if let Some(value) = retry_after_s.and_then(|s| s.to_string().parse().ok()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        response
    }
}
