//! Errors over HTTP as `application/problem+json` (RFC 9457), built in one place for every route
//! the edge serves (the API's errors and the gateway's refused upgrades alike), so clients parse
//! one shape: `type`, `title` (the status' reason phrase), `status`, a stable `code`, a `detail` for people and, for
//! validation, one entry per invalid field.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Where a problem's `type` URI points: `<PROBLEM_TYPE_BASE><code>`.
pub const PROBLEM_TYPE_BASE: &str = "https://picket.example/problems/";

/// One invalid field of a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// One problem document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub status: StatusCode,
    /// Stable, machine-readable: clients branch on it.
    pub code: &'static str,
    /// For people; may change.
    pub detail: String,
    /// Per-field messages of a validation error (omitted when empty).
    pub errors: Vec<FieldError>,
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    code: &'a str,
    detail: &'a str,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Problem {
        Problem {
            status,
            code,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Problem {
        self.errors = errors;
        self
    }

    /// The JSON document, without the status line and headers.
    pub fn body(&self) -> String {
        let body = Body {
            kind: format!("{PROBLEM_TYPE_BASE}{}", self.code),
            title: self.status.canonical_reason().unwrap_or("error"),
            status: self.status.as_u16(),
            code: self.code,
            detail: &self.detail,
            errors: &self.errors,
        };
        serde_json::to_string(&body).unwrap_or_else(|_| unreachable!("problems always encode"))
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body()).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_names_its_code_in_type_and_code() {
        let problem = Problem::new(StatusCode::NOT_FOUND, "unknown_sale", "no such sale");
        let body: serde_json::Value = serde_json::from_str(&problem.body()).expect("json");
        assert_eq!(
            body,
            serde_json::json!({
                "type": "https://picket.example/problems/unknown_sale",
                "title": "Not Found",
                "status": 404,
                "code": "unknown_sale",
                "detail": "no such sale",
            })
        );
    }

    #[test]
    fn field_errors_are_listed_only_when_there_are_some() {
        let problem = Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", "bad")
            .with_errors(vec![FieldError {
                field: "email",
                message: "is not an email address".into(),
            }]);
        let body: serde_json::Value = serde_json::from_str(&problem.body()).expect("json");
        assert_eq!(body["errors"][0]["field"], "email");
        let response = problem.into_response();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
    }
}
