//! The operator: whoever holds the deployment's operator token (`Authorization: Bearer …`). The
//! one place the token is checked, in constant time, for every route that takes it.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::Api;
use crate::error::ApiError;

/// A request made with the operator token; extracting it refuses any other request with
/// `operator_only`.
pub struct Operator;

impl FromRequestParts<Arc<Api>> for Operator {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, api: &Arc<Api>) -> Result<Self, ApiError> {
        if is_operator(api, &parts.headers) {
            Ok(Operator)
        } else {
            Err(ApiError::OperatorOnly)
        }
    }
}

/// Whether the request carries the operator token. An empty configured token matches nothing.
pub fn is_operator(api: &Api, headers: &HeaderMap) -> bool {
    let token = api.operator_token();
    !token.is_empty() && crate::bearer(headers).is_some_and(|presented| eq(presented, token))
}

/// Compares secrets without stopping at the first difference: equal-length inputs take the same
/// time however many leading bytes match.
fn eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::eq;

    #[test]
    fn only_the_same_secret_is_equal() {
        assert!(eq("operator-secret", "operator-secret"));
        assert!(!eq("operator-secret", "operator-secreT"));
        assert!(!eq("operator-secret", "operator-secret-longer"));
        assert!(!eq("", "operator-secret"));
    }
}
