//! Keeps docs/protocol.md exact: every JSON example in it must decode into the type it shows and
//! encode back to the same JSON, so a change to the messages that forgets the document fails here.

use picket_ledger_core::{Event, Outcome, PerformanceSpec, Request};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

fn json_blocks(doc: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in doc.lines() {
        match (&mut current, line.trim()) {
            (None, "```json") => current = Some(String::new()),
            (Some(block), "```") => {
                blocks.push(std::mem::take(block));
                current = None;
            }
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

/// Decodes `json` as `T` and checks it encodes back to the same value.
fn round_trips<T: Serialize + DeserializeOwned>(json: &str) -> bool {
    let Ok(decoded) = serde_json::from_str::<T>(json) else {
        return false;
    };
    let original: Value = serde_json::from_str(json).expect("valid JSON");
    serde_json::to_value(decoded).expect("encodes") == original
}

fn is_documented_message(json: &str) -> bool {
    use picket_ledger_client::bus::{LookupRequest, Reply, SnapshotReply};
    round_trips::<Request>(json)
        || round_trips::<Reply>(json)
        || round_trips::<LookupRequest>(json)
        || round_trips::<SnapshotReply>(json)
        || round_trips::<picket_ledger_client::bus::TicketsRequest>(json)
        || round_trips::<picket_ledger_client::bus::TicketsReply>(json)
        || round_trips::<picket_ledger_client::bus::DoorRequest>(json)
        || round_trips::<picket_ledger_client::bus::DoorReply>(json)
        || round_trips::<picket_ledger_client::bus::WaitlistRequest>(json)
        || round_trips::<picket_ledger_client::bus::WaitlistReply>(json)
        || round_trips::<picket_ledger_client::Committed>(json)
        || round_trips::<PerformanceSpec>(json)
        || round_trips::<Outcome>(json)
        || round_trips::<Vec<Event>>(json)
        || round_trips::<picket_ledger_client::status::LedgerStatus>(json)
        || round_trips::<picket_ledger_client::status::GatewayStatus>(json)
        || round_trips::<picket_ledger_client::status::Platform>(json)
}

#[test]
fn every_json_example_in_the_protocol_doc_is_a_real_message() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/protocol.md");
    let doc = std::fs::read_to_string(path).expect("docs/protocol.md exists");
    let blocks = json_blocks(&doc);
    assert!(blocks.len() >= 4, "the protocol doc shows its messages");
    let mut examples = 0;
    for block in blocks {
        // A block is one multi-line message, or several one-line messages.
        if is_documented_message(&block) {
            examples += 1;
            continue;
        }
        for line in block.lines().filter(|l| !l.trim().is_empty()) {
            assert!(is_documented_message(line), "not a v1 message:\n{line}");
            examples += 1;
        }
    }
    assert!(examples >= 5);
}

#[test]
fn the_checker_rejects_a_wrong_example() {
    assert!(!is_documented_message(
        r#"{"actor": 1, "key": "k", "command": {"Hold": {"performance": 1}}}"#
    ));
    assert!(!is_documented_message(r#"{"Ok": {"Held": {"hold": 1}}}"#));
    assert!(is_documented_message(r#"{"Err": "UnknownHold"}"#));
}
