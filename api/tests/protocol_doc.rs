//! Keeps the catalog part of docs/protocol.md exact: every `json-catalog` example must decode
//! as the announcement it shows and encode back to the same JSON.

use picket_api::catalog::ShowPublished;
use serde_json::Value;

#[test]
fn catalog_examples_are_real_announcements() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/protocol.md");
    let doc = std::fs::read_to_string(path).expect("docs/protocol.md exists");
    let mut inside = false;
    let mut examples = 0;
    for line in doc.lines() {
        match line.trim() {
            "```json-catalog" => inside = true,
            "```" => inside = false,
            text if inside && !text.is_empty() => {
                let event: ShowPublished = serde_json::from_str(text).expect("decodes");
                let original: Value = serde_json::from_str(text).expect("json");
                assert_eq!(serde_json::to_value(&event).expect("encodes"), original);
                assert!(picket_api::sellers::CATEGORIES.contains(&event.category.as_str()));
                assert!(picket_api::sellers::REGIONS.contains(&event.region.as_str()));
                examples += 1;
            }
            _ => {}
        }
    }
    assert!(examples >= 1, "the doc shows an announcement");
}
