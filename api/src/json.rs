//! Request parts whose rejections are the API's problems, never axum's plain text: JSON bodies
//! (`bad_body`, 415 `unsupported_media_type` without `Content-Type: application/json`) and raw
//! bytes, each answering a body over its route's limit with a 413 problem (`too_large`), and path
//! and query parameters (`bad_parameter`).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The API's error for a body axum refused: over the route's limit (which the router, not the
/// extractor, knows), or unreadable.
fn refused(status: StatusCode, text: String) -> ApiError {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        ApiError::TooLarge { bytes_max: None }
    } else if status == StatusCode::UNSUPPORTED_MEDIA_TYPE {
        ApiError::UnsupportedMediaType("application/json")
    } else {
        ApiError::BadBody(text)
    }
}

/// A JSON body whose rejections are problems (`bad_body`, 413 `too_large`, or 415
/// `unsupported_media_type`), not axum's plain text.
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

/// Path parameters whose rejection is a problem (`bad_parameter`): an id that is not an integer,
/// or out of its type's range.
pub struct Path<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection) => Err(ApiError::BadParameter(rejection.body_text())),
        }
    }
}

/// A query string whose rejection is a problem (`bad_parameter`): a value not of its type, or a
/// parameter the endpoint does not take.
pub struct Query<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(ApiError::BadParameter(rejection.body_text())),
        }
    }
}
