//! Request bodies whose rejections are the API's problems: JSON (`bad_body`) and raw bytes, each
//! answering a body over its route's limit with a 413 problem (`too_large`), never axum's plain
//! text.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use picket_edge::problem::Problem;
use serde::de::DeserializeOwned;

use crate::error::ApiError;

/// The problem code of a body over its route's limit.
pub const TOO_LARGE: &str = "too_large";

/// The 413 problem for a body over `limit` bytes (None: the route's limit, unnamed here).
pub fn too_large(limit: Option<usize>) -> Response {
    let detail = match limit {
        Some(limit) => format!("the body is over this route's limit of {limit} bytes"),
        None => "the body is over this route's limit".to_owned(),
    };
    Problem::new(StatusCode::PAYLOAD_TOO_LARGE, TOO_LARGE, detail).into_response()
}

/// A JSON body whose rejections are problems (`bad_body`, or 413 `too_large`), not axum's plain
/// text.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(JsonBody(value)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(too_large(None))
            }
            Err(rejection) => Err(ApiError::BadBody(rejection.body_text()).into_response()),
        }
    }
}

/// A raw body (operator JSON read by hand, banner images) whose only rejection worth a problem
/// of its own is being over the route's limit (413 `too_large`).
pub struct BodyBytes(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for BodyBytes {
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Response> {
        match Bytes::from_request(request, state).await {
            Ok(bytes) => Ok(BodyBytes(bytes)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(too_large(None))
            }
            Err(rejection) => Err(ApiError::BadBody(rejection.body_text()).into_response()),
        }
    }
}
