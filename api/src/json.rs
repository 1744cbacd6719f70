//! Request parts whose rejections are the API's problems, never axum's plain text: JSON bodies
//! (`bad_body`, 415 `unsupported_media_type` without `Content-Type: application/json`) and raw
//! bytes, each answering a body over its route's limit with a 413 problem (`too_large`), and path
//! and query parameters (`bad_parameter`).

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;
use serde_json::Value;

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
        match axum::Json::<Value>::from_request(request, state).await {
            Ok(axum::Json(value)) => decode(value).map(JsonBody),
            Err(rejection) => Err(refused(rejection.status(), rejection.body_text())),
        }
    }
}

/// A JSON body read as JSON whatever its declared type (the operator routes), decoded as
/// [`JsonBody`] decodes.
pub fn decode_bytes<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value =
        serde_json::from_slice(body).map_err(|error| ApiError::BadBody(error.to_string()))?;
    decode(value)
}

/// `T` from a JSON value, as JSON Schema (and so the OpenAPI document) reads JSON: a number with
/// no fractional part is an integer whether it is written `6` or `6.0`. Text holding U+0000 is
/// refused (`bad_body`): PostgreSQL cannot store it, and no field means it.
fn decode<T: DeserializeOwned>(mut value: Value) -> Result<T, ApiError> {
    normalize(&mut value)?;
    serde_json::from_value(value).map_err(|error| ApiError::BadBody(error.to_string()))
}

/// Whole floats to integers (where an `i64` or `u64` holds them exactly), and a refusal of NUL.
fn normalize(value: &mut Value) -> Result<(), ApiError> {
    let nul = || ApiError::BadBody("text must not contain U+0000".into());
    match value {
        Value::Number(number) => {
            if let Some(float) = number.as_f64().filter(|_| number.is_f64())
                && float.fract() == 0.0
            {
                // Exact in f64 up to 2^53; beyond that the float is the integer it spells.
                if (0.0..18_446_744_073_709_551_616.0).contains(&float) {
                    *value = Value::from(float as u64);
                } else if (-9_223_372_036_854_775_808.0..0.0).contains(&float) {
                    *value = Value::from(float as i64);
                }
            }
            Ok(())
        }
        Value::String(text) if text.contains('\0') => Err(nul()),
        Value::Array(items) => items.iter_mut().try_for_each(normalize),
        Value::Object(fields) => {
            if fields.keys().any(|key| key.contains('\0')) {
                return Err(nul());
            }
            fields.values_mut().try_for_each(normalize)
        }
        Value::Null | Value::Bool(_) | Value::String(_) => Ok(()),
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
        // `%00` decodes to U+0000, which no parameter means and PostgreSQL cannot compare.
        if parts.uri.query().is_some_and(|query| query.contains("%00")) {
            return Err(ApiError::BadParameter(
                "a parameter must not contain U+0000".into(),
            ));
        }
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Query(value)),
            Err(rejection) => Err(ApiError::BadParameter(rejection.body_text())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize, PartialEq)]
    struct Form {
        count: u16,
        offset: i64,
        name: String,
    }

    #[test]
    fn whole_floats_are_integers() {
        let form: Form = decode(serde_json::json!({"count": 6.0, "offset": -2.0, "name": "a"}))
            .expect("whole floats decode");
        assert_eq!(
            form,
            Form {
                count: 6,
                offset: -2,
                name: "a".into()
            }
        );
        let fraction = decode::<Form>(serde_json::json!({"count": 6.5, "offset": 0, "name": "a"}));
        assert!(matches!(fraction, Err(ApiError::BadBody(_))));
        let huge = decode::<Form>(serde_json::json!({"count": 1e300, "offset": 0, "name": "a"}));
        assert!(matches!(huge, Err(ApiError::BadBody(_))));
    }

    #[test]
    fn large_whole_floats_are_read_exactly() {
        let form: Form =
            decode_bytes(br#"{"count": 6.0, "offset": 3749828189681890.0, "name": "a"}"#)
                .expect("an exact whole float decodes");
        assert_eq!(form.offset, 3_749_828_189_681_890);
    }

    #[test]
    fn nul_is_refused_in_values_and_keys() {
        let value = decode::<Form>(serde_json::json!({"count": 1, "offset": 0, "name": "a\u{0}"}));
        assert!(matches!(value, Err(ApiError::BadBody(_))));
        let key = decode::<Value>(serde_json::json!({"a\u{0}": 1}));
        assert!(matches!(key, Err(ApiError::BadBody(_))));
    }
}
