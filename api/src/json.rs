//! Request bodies whose rejections are the API's problems: JSON (`bad_body`) and raw bytes, each
//! answering a body over its route's limit with a 413 problem (`too_large`), never axum's plain
//! text.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The API's error for a body axum refused: over the route's limit (which the router, not the
/// extractor, knows), or unreadable.
fn refused(status: StatusCode, text: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge { bytes_max: None }
    } else {
        ApiError::BadBody(text)
    }
}

/// A JSON body whose rejections are problems (`bad_body`, or 413 `too_large`), not axum's plain
/// text.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(refused(rejection.status(), rejection.body_text())),
        }
    }
}

/// A raw body (operator JSON read by hand, banner images) whose only rejection worth a problem
/// of its own is being over the route's limit (413 `too_large`).
pub struct BodyBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for BodyBytes {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match Bytes::from_request(request, state).await {
            Ok(bytes) => Ok(BodyBytes(bytes)),
            Err(rejection) => Err(refused(rejection.status(), rejection.body_text())),
        }
    }
}
