//! The wire rule of the HTTP API v2 and the WebSocket protocol v2: every id a client reads is a
//! decimal string (JavaScript reads JSON numbers exactly only up to 2^53). The harness's HTTP
//! and WebSocket clients check every answer they read with [`assert_no_numeric_ids`], so every
//! end-to-end test also fails if a served id is a JSON number.

use serde_json::Value;

/// Keys whose values are ids besides `id` and `*_id`.
pub const ID_KEYS: [&str; 9] = [
    "sale",
    "entry",
    "performance",
    "hold",
    "booking",
    "ticket",
    "tickets",
    "show",
    "next_cursor",
];

/// Containers whose items' `id` is an index into a performance's spec (a seat, a standing zone,
/// a discount), a small number by design (docs/protocol.md, "Ids").
const INDEX_CONTAINERS: [&str; 4] = ["seats", "zones", "discounts", "discount"];

fn is_id_key(key: &str) -> bool {
    key == "id" || key.ends_with("_id") || ID_KEYS.contains(&key)
}

/// Where `value` holds an id as a JSON number, as JSON-pointer-like paths.
pub fn numeric_ids(value: &Value) -> Vec<String> {
    let mut found = Vec::new();
    walk(value, "", false, &mut found);
    found.sort();
    found
}

fn walk(value: &Value, path: &str, in_index_container: bool, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let here = format!("{path}/{key}");
                let index = key == "id" && in_index_container;
                if is_id_key(key) && !index {
                    let numeric = match child {
                        Value::Number(_) => true,
                        Value::Array(items) => items.iter().any(Value::is_number),
                        _ => false,
                    };
                    if numeric {
                        found.push(here.clone());
                    }
                }
                walk(
                    child,
                    &here,
                    INDEX_CONTAINERS.contains(&key.as_str()),
                    found,
                );
            }
        }
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{path}/{i}"), in_index_container, found);
            }
        }
        _ => {}
    }
}

/// Panics when `value` (an answer from `source`) holds an id as a JSON number.
pub fn assert_no_numeric_ids(value: &Value, source: &str) {
    let found = numeric_ids(value);
    assert!(
        found.is_empty(),
        "{source} served ids as JSON numbers at {found:?} (v2 sends ids as strings): {value}"
    );
}

/// An id a server sent: a decimal string. Panics on anything else.
pub fn id(value: &Value) -> u64 {
    value
        .as_str()
        .and_then(|text| picket_edge::id::parse::<u64>(text).ok())
        .unwrap_or_else(|| panic!("not an id (a string of digits): {value}"))
}

/// [`id`] for the API's own ids (non-negative `i64`).
pub fn id_i64(value: &Value) -> i64 {
    value
        .as_str()
        .and_then(|text| picket_edge::id::parse::<i64>(text).ok())
        .unwrap_or_else(|| panic!("not an id (a string of digits): {value}"))
}

/// A list of ids a server sent (a booking's tickets).
pub fn ids(value: &Value) -> Vec<u64> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not a list of ids: {value}"))
        .iter()
        .map(id)
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn finds_numeric_ids_and_spares_spec_indexes() {
        let served = json!({
            "id": "1", "venue_id": 7, "items": [{"id": 3}],
            "seats": [{"id": 0, "section": "A"}], "zones": [{"id": 1}],
            "discounts": [{"id": 0}], "tickets": [{"ticket": "9", "discount": {"id": 1}}],
            "outcome": {"Ok": {"Confirmed": {"booking": 5, "tickets": ["1", 2]}}},
            "next_cursor": null, "seq": 12, "place": 4,
        });
        assert_eq!(
            numeric_ids(&served),
            vec![
                "/items/0/id",
                "/outcome/Ok/Confirmed/booking",
                "/outcome/Ok/Confirmed/tickets",
                "/venue_id",
            ]
        );
        assert!(numeric_ids(&json!({"id": "117701597864396273", "sale": "1"})).is_empty());
    }
}
