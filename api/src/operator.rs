//! The operator: whoever holds the deployment's operator token (`Authorization: Bearer …`). The
//! one place the token is checked, in constant time, for every route that takes it.

use std::sync::Arc;

use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;

use crate::error::ApiError;
use crate::state::Api;

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

/// Whether the request carries the operator token ([`picket_edge::operator`] checks it).
pub fn is_operator(api: &Api, headers: &HeaderMap) -> bool {
    picket_edge::operator::is_operator(headers, api.operator_token())
}
