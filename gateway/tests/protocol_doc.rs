//! Keeps the WebSocket part of docs/protocol.md exact: every `json-ws` example must decode as a
//! client message (through the real decoder) or round-trip as a server message, and every error
//! code and close code the gateway uses must be documented.

use picket_gateway::protocol::{ClientMessage, ErrorCode, ServerMessage, close, decode};
use serde_json::Value;

fn doc() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md");
    std::fs::read_to_string(path).expect("docs/protocol.md exists")
}

fn ws_examples(doc: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut inside = false;
    for line in doc.lines() {
        match line.trim() {
            "```json-ws" => inside = true,
            "```" => inside = false,
            text if inside && !text.is_empty() => lines.push(text.to_owned()),
            _ => {}
        }
    }
    lines
}

fn is_server_message(json: &str) -> bool {
    let Ok(message) = serde_json::from_str::<ServerMessage>(json) else {
        return false;
    };
    let original: Value = serde_json::from_str(json).expect("valid JSON");
    serde_json::to_value(message).expect("encodes") == original
}

fn is_client_message(json: &str) -> bool {
    let Ok(message) = decode(json) else {
        return false;
    };
    let original: Value = serde_json::from_str(json).expect("valid JSON");
    serde_json::to_value::<ClientMessage>(message).expect("encodes") == original
}

#[test]
fn every_websocket_example_is_a_real_message() {
    let examples = ws_examples(&doc());
    assert!(examples.len() >= 15, "the doc shows the messages");
    let mut client_kinds = std::collections::BTreeSet::new();
    let mut server_kinds = std::collections::BTreeSet::new();
    for example in &examples {
        let kind: Value = serde_json::from_str(example).expect("examples are JSON");
        let kind = kind["type"].as_str().unwrap_or_default().to_owned();
        if is_client_message(example) {
            client_kinds.insert(kind);
        } else {
            assert!(is_server_message(example), "not a v2 message:\n{example}");
            server_kinds.insert(kind);
        }
    }
    assert_eq!(
        client_kinds.len(),
        12,
        "every client message is shown: {client_kinds:?}"
    );
    assert_eq!(
        server_kinds.len(),
        12,
        "every server message is shown: {server_kinds:?}"
    );
}

#[test]
fn every_error_code_and_close_code_is_documented() {
    let doc = doc();
    let codes = [
        ErrorCode::BadJson,
        ErrorCode::UnknownType,
        ErrorCode::InvalidField,
        ErrorCode::TooBig,
        ErrorCode::BinaryNotSupported,
        ErrorCode::NotAuthenticated,
        ErrorCode::AlreadyAuthenticated,
        ErrorCode::TokenInvalid,
        ErrorCode::TokenExpired,
        ErrorCode::RateLimited,
        ErrorCode::SlowDown,
        ErrorCode::Busy,
        ErrorCode::NoAdmission,
        ErrorCode::AdmissionInvalid,
        ErrorCode::AdmissionExpired,
        ErrorCode::OverSeatLimit,
        ErrorCode::UnknownSale,
        ErrorCode::QueueUnavailable,
        ErrorCode::LedgerUnavailable,
        ErrorCode::TooManySubscriptions,
        ErrorCode::NotYourHold,
        ErrorCode::UnknownHold,
        ErrorCode::HoldExpired,
        ErrorCode::PaymentDeclined,
        ErrorCode::PaymentNotFound,
        ErrorCode::PaymentAmountMismatch,
        ErrorCode::PaymentUnavailable,
        ErrorCode::PaymentRefunded,
        ErrorCode::Forbidden,
        ErrorCode::DashboardUnavailable,
        ErrorCode::SessionEnded,
    ];
    for code in codes {
        let name = serde_json::to_value(code).expect("encodes");
        let name = name.as_str().expect("a string");
        assert!(
            doc.contains(&format!("`{name}`")),
            "{name} is not documented"
        );
    }
    for code in [
        close::TOO_BIG,
        close::SERVICE_RESTART,
        close::TRY_AGAIN_LATER,
        close::IDLE_TIMEOUT,
        close::NOT_AUTHENTICATED,
        close::FLOOD,
        close::SLOW_READER,
    ] {
        assert!(
            doc.contains(&format!("| {code} |")),
            "close code {code} is not documented"
        );
    }
}
