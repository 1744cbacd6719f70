//! The browser UI has a message for every error code the server can send (issue 16: "clear
//! messages for every error code"). This reads the keys of `MESSAGES` in
//! `admin-web/src/lib/errors.ts` and fails, naming each, when one of these has none:
//!
//! - the HTTP API's problem codes (`picket_edge::problem::CODES`);
//! - the ledger's rejection codes (the arms of `Rejection::code` in `ledger/core/src/outcome.rs`);
//! - the gateway's WebSocket error codes (`ErrorCode` in `gateway/src/protocol.rs`, snake_case as
//!   serde sends them);
//! - the door's scan results and offline upload refusals (the `result` and `reason` enums of the
//!   served OpenAPI document);
//! - the scanner stream's error codes and both sockets' close codes (`close_<code>`), from the
//!   tables of docs/protocol.md.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(relative: &str) -> String {
    let path = root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The keys of the `MESSAGES` object literal: `  code: [` or `  code: NAME,` lines.
fn message_keys(errors_ts: &str) -> BTreeSet<String> {
    let start = errors_ts
        .find("export const MESSAGES")
        .expect("errors.ts exports MESSAGES");
    let body = &errors_ts[start..];
    let end = body.find("\n};").expect("MESSAGES ends with `};`");
    body[..end]
        .lines()
        .skip(1)
        .filter_map(|line| {
            let (key, _) = line.trim().split_once(':')?;
            let is_key = !key.is_empty()
                && key
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
            is_key.then(|| key.to_owned())
        })
        .collect()
}

/// The string literals after `=>` in the body of the function whose signature is `signature`.
fn arm_codes(source: &str, signature: &str) -> Vec<String> {
    let start = source
        .find(signature)
        .unwrap_or_else(|| panic!("no `{signature}`"));
    let body = &source[start..];
    let end = body.find("\n    }\n").unwrap_or(body.len());
    body[..end]
        .split("=> \"")
        .skip(1)
        .filter_map(|rest| rest.split_once('"').map(|(code, _)| code.to_owned()))
        .collect()
}

/// The variants of `pub enum ErrorCode { … }` in snake_case, as serde names them.
fn gateway_error_codes(protocol_rs: &str) -> Vec<String> {
    let start = protocol_rs
        .find("pub enum ErrorCode {")
        .expect("gateway's ErrorCode");
    let body = &protocol_rs[start..];
    let end = body.find("\n}").expect("the enum's end");
    body[..end]
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|line| !line.starts_with("//") && line.ends_with(','))
        .map(|line| snake_case(line.trim_end_matches(',')))
        .collect()
}

fn snake_case(camel: &str) -> String {
    let mut out = String::new();
    for (i, c) in camel.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_lowercase());
    }
    out
}

/// The lines of docs/protocol.md under the heading `heading`, to the next heading.
fn section<'a>(doc: &'a str, heading: &str, after: usize) -> (&'a str, usize) {
    let start = after
        + doc[after..]
            .find(&format!("\n{heading}\n"))
            .unwrap_or_else(|| panic!("docs/protocol.md has no {heading:?} after byte {after}"));
    let body = &doc[start + heading.len() + 2..];
    let end = body.find("\n#").unwrap_or(body.len());
    (&body[..end], start + 1)
}

/// The backticked codes in the first cell of each table row (`| \`a\` / \`b\` | …`).
fn first_cell_codes(table: &str) -> Vec<String> {
    table
        .lines()
        .filter(|line| line.starts_with("| `"))
        .flat_map(|line| {
            let cell = line.split('|').nth(1).unwrap_or("");
            cell.split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect()
}

/// `close_<n>` for each numeric first cell of a close-code table.
fn close_codes(table: &str) -> Vec<String> {
    table
        .lines()
        .filter_map(|line| line.split('|').nth(1))
        .filter_map(|cell| cell.trim().parse::<u16>().ok())
        .map(|code| format!("close_{code}"))
        .collect()
}

/// Every string of an `enum` under a property named `name`, anywhere in the document.
fn enums_named(value: &serde_json::Value, name: &str, found: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                if key == name
                    && let Some(list) = child.get("enum").and_then(|e| e.as_array())
                {
                    found.extend(list.iter().filter_map(|v| v.as_str()).map(str::to_owned));
                }
                enums_named(child, name, found);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                enums_named(item, name, found);
            }
        }
        _ => {}
    }
}

/// Every code the server can send a client, with where it comes from.
fn server_codes() -> Vec<(&'static str, String)> {
    let mut codes: Vec<(&'static str, String)> = Vec::new();
    let mut add = |source: &'static str, list: Vec<String>| {
        assert!(!list.is_empty(), "read no codes from {source}");
        codes.extend(list.into_iter().map(|code| (source, code)));
    };
    add(
        "picket_edge::problem::CODES",
        picket_edge::problem::CODES
            .iter()
            .map(|(code, _)| (*code).to_owned())
            .collect(),
    );
    let outcome = read("ledger/core/src/outcome.rs");
    add(
        "Rejection::code",
        arm_codes(&outcome, "pub fn code(&self) -> &'static str"),
    );
    add(
        "gateway ErrorCode",
        gateway_error_codes(&read("gateway/src/protocol.rs")),
    );
    let openapi = picket_api::openapi::document();
    let mut results = Vec::new();
    enums_named(&openapi, "result", &mut results);
    add("the OpenAPI scan results", results);
    let mut reasons = Vec::new();
    enums_named(&openapi, "reason", &mut reasons);
    add("the OpenAPI upload refusals", reasons);
    let doc = read("docs/protocol.md");
    let (ws_errors, at) = section(&doc, "### Error codes (`error.code`)", 0);
    add("protocol.md WebSocket errors", first_cell_codes(ws_errors));
    let (ws_close, at) = section(&doc, "### Close codes", at);
    add("protocol.md WebSocket close codes", close_codes(ws_close));
    let (scanner, at) = section(&doc, "### API → scanner", at);
    add("protocol.md scanner errors", first_cell_codes(scanner));
    let (scanner_close, _) = section(&doc, "### Close codes", at);
    add(
        "protocol.md scanner close codes",
        close_codes(scanner_close),
    );
    codes
}

#[test]
fn the_web_app_has_a_message_for_every_code_the_server_sends() {
    let keys = message_keys(&read("admin-web/src/lib/errors.ts"));
    assert!(keys.len() > 50, "read only {} keys: {keys:?}", keys.len());
    let codes = server_codes();
    let missing: BTreeSet<String> = codes
        .iter()
        .filter(|(_, code)| !keys.contains(code))
        .map(|(source, code)| format!("  {code} ({source})"))
        .collect();
    assert!(
        missing.is_empty(),
        "admin-web/src/lib/errors.ts has no message for {} codes:\n{}",
        missing.len(),
        missing.into_iter().collect::<Vec<_>>().join("\n")
    );
    println!("{} codes, {} messages", codes.len(), keys.len());
}

#[test]
fn the_readers_find_what_they_are_shown() {
    let ts = "export const MESSAGES: Record<string, Pair> = {\n  // a comment: not a key\n  \
              seat_taken: [\"a\", \"b\"],\n  close_4001: RELOAD,\n  Not_a_key: x,\n};\n";
    let keys: Vec<String> = message_keys(ts).into_iter().collect();
    assert_eq!(keys, ["close_4001", "seat_taken"]);
    let rust = "pub fn code(&self) -> &'static str {\n        match self {\n            \
                A::B => \"unknown_seat\",\n            A::C { .. } => \"seat_taken\",\n        }\n    }\n";
    assert_eq!(
        arm_codes(rust, "pub fn code(&self) -> &'static str"),
        ["unknown_seat", "seat_taken"]
    );
    let protocol = "pub enum ErrorCode {\n    BadJson,\n    /// doc\n    PaymentRefunded,\n}\n";
    assert_eq!(
        gateway_error_codes(protocol),
        ["bad_json", "payment_refunded"]
    );
    let doc = "x\n### Close codes\n\n| code | meaning |\n|---|---|\n| 1000 | normal |\n| 4001 | no hello |\n\n### Next\n| `a` / `b` | x |\n";
    let (table, _) = section(doc, "### Close codes", 0);
    assert_eq!(close_codes(table), ["close_1000", "close_4001"]);
    let (next, _) = section(doc, "### Next", 0);
    assert_eq!(first_cell_codes(next), ["a", "b"]);
}
