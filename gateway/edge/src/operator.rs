//! The operator: whoever holds the deployment's operator token. One check for every route that
//! takes it — the API's operator routes and the gateway's `/metrics` — so both compare the
//! secret the same way, in constant time.

use axum::http::{HeaderMap, header};

/// The token of an `Authorization: Bearer …` header, trimmed.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Whether `headers` carry `operator_token`. An empty configured token matches nothing.
pub fn is_operator(headers: &HeaderMap, operator_token: &str) -> bool {
    !operator_token.is_empty()
        && bearer(headers).is_some_and(|presented| same_secret(presented, operator_token))
}

/// Compares secrets without stopping at the first difference: equal-length inputs take the same
/// time however many leading bytes match.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_bearer(token: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let value = format!("Bearer {token}").parse().expect("header value");
        headers.insert(header::AUTHORIZATION, value);
        headers
    }

    #[test]
    fn only_the_operator_token_is_the_operator() {
        assert!(is_operator(
            &with_bearer("operator-secret"),
            "operator-secret"
        ));
        assert!(!is_operator(
            &with_bearer("operator-secreT"),
            "operator-secret"
        ));
        assert!(!is_operator(
            &with_bearer("operator-secret-longer"),
            "operator-secret"
        ));
        assert!(!is_operator(&HeaderMap::new(), "operator-secret"));
        assert!(
            !is_operator(&with_bearer(""), ""),
            "an empty token matches nothing"
        );
    }
}
