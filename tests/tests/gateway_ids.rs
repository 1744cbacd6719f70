//! Ids past 2^53 survive exactly through the HTTP API v2 and the WebSocket protocol v2: an
//! operator-chosen performance and sale id of 117701597864396273, and a ledger partition (1000)
//! whose hold, booking and ticket ids (`partition << 48 | counter`) are all past 2^53. A
//! JavaScript client reading any of them as a JSON number would get another id; as strings they
//! come back exactly, through join, hold, confirm, cancel and "my page". (The harness's clients
//! also fail any answer that carries an id as a JSON number: `picket_tests::ids`.)

use std::sync::Arc;
use std::time::Duration;

use picket_room::memory::MemoryStore;
use picket_tests::api::call;
use picket_tests::gateway::{
    Client, Cluster, OPERATOR_TOKEN, sale_settings, small_spec, spec_json,
};
use picket_tests::ids::{id, ids};
use serde_json::{Value, json};

/// Above 2^53 = 9007199254740992, and not representable as an IEEE double (the nearest is
/// 117701597864396272).
const BIG: u64 = 117_701_597_864_396_273;
/// A partition whose ids start at 1000 << 48, about 2.8 × 10^17.
const PARTITION: u16 = 1_000;
const EXACT_MAX: u64 = 1 << 53;

/// Sends a booking command and returns its `result` (or `error`), sending it again as told
/// while booking attempts are rate-limited.
async fn command(client: &mut Client, message: Value) -> Value {
    let id = message["id"].clone();
    loop {
        client.send(message.clone()).await;
        let answer = loop {
            let answer = client
                .next_within(Duration::from_secs(10))
                .await
                .expect("an answer");
            if answer["id"] == id && (answer["type"] == "result" || answer["type"] == "error") {
                break answer;
            }
        };
        match (answer["code"].as_str(), answer["retry_after_ms"].as_u64()) {
            (Some("slow_down" | "busy"), Some(wait_ms)) => {
                tokio::time::sleep(Duration::from_millis(wait_ms)).await;
            }
            _ => return answer,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ids_past_2_pow_53_survive_http_and_websocket_exactly() {
    assert_ne!(BIG as f64 as u64, BIG, "a double cannot hold this id");
    let cluster = Cluster::start_with_ledger(
        1,
        Arc::new(MemoryStore::new()),
        |_| {},
        |ledger| ledger.partition = PARTITION,
    )
    .await;
    let address = cluster.address(0);
    let big = BIG.to_string();

    // The operator opens the performance and its sale with the big id, as strings.
    let opened = call(
        address,
        "POST",
        "/api/v2/performances",
        &spec_json(&small_spec(BIG, 40)).to_string(),
        Some(OPERATOR_TOKEN),
    )
    .await;
    assert_eq!(opened.status, 201, "{:?}", opened.body);
    assert_eq!(
        opened.body["Ok"]["PerformanceOpened"]["performance"], big,
        "{:?}",
        opened.body
    );
    // The same spec with the id as a number is not v2.
    let mut numeric = spec_json(&small_spec(BIG, 40));
    numeric["performance"] = json!(BIG);
    let refused = call(
        address,
        "POST",
        "/api/v2/performances",
        &numeric.to_string(),
        Some(OPERATOR_TOKEN),
    )
    .await;
    assert_eq!(refused.status, 400, "{:?}", refused.body);
    let settings = sale_settings(picket_edge::clock::now_ms(), 100, 100);
    let configured = call(
        address,
        "PUT",
        &format!("/api/v2/sales/{BIG}"),
        &settings.to_string(),
        Some(OPERATOR_TOKEN),
    )
    .await;
    assert_eq!(configured.status, 200, "{:?}", configured.body);
    assert_eq!(configured.body["sale"], big);
    let sale = call(address, "GET", &format!("/api/v2/sales/{BIG}"), "", None).await;
    assert_eq!(sale.body["sale"], big, "{:?}", sale.body);

    // A member books over the WebSocket.
    let member = json!({"email": "big@example.com", "password": "correct horse", "name": "회원"});
    let account = call(
        address,
        "POST",
        "/api/v2/accounts",
        &member.to_string(),
        None,
    )
    .await;
    assert_eq!(account.status, 201, "{:?}", account.body);
    let session = call(
        address,
        "POST",
        "/api/v2/sessions",
        &json!({"email": "big@example.com", "password": "correct horse"}).to_string(),
        None,
    )
    .await;
    let token = session.body["token"].as_str().expect("token").to_owned();
    let mut client = Client::hello(address, json!({"type": "hello", "token": token})).await;
    client.send(json!({"type": "join", "sale": big})).await;
    let admitted = client.next_of("admitted").await;
    assert_eq!(admitted["sale"], big, "{admitted}");
    let admission = admitted["token"].as_str().expect("admission").to_owned();
    client
        .send(json!({"type": "watch", "performance": big}))
        .await;
    let seats = client.next_of("seats").await;
    assert_eq!(seats["performance"], big, "{seats}");

    let held = command(
        &mut client,
        json!({"type": "hold", "id": "h1", "sale": big, "key": "big-hold",
            "admission": admission, "selection": {"Seats": [0, 1]}}),
    )
    .await;
    let held = &held["outcome"]["Ok"]["Held"];
    let hold = id(&held["hold"]);
    assert!(hold > EXACT_MAX, "hold {hold} of partition {PARTITION}");
    assert_eq!(hold >> 48, u64::from(PARTITION));
    let confirmed = client
        .pay(
            &cluster.sandbox,
            BIG,
            &admission,
            hold,
            "big-pay",
            picket_tests::pay::CARD_OK,
        )
        .await;
    let confirmed = &confirmed["outcome"]["Ok"]["Confirmed"];
    let booking = id(&confirmed["booking"]);
    let tickets = ids(&confirmed["tickets"]);
    assert!(booking > EXACT_MAX && tickets.iter().all(|t| *t > EXACT_MAX));
    assert_eq!(tickets.len(), 2);

    // "My page" lists the same ids, exactly.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let item = loop {
        let page = call(address, "GET", "/api/v2/me/bookings", "", Some(&token)).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        if let Some(item) = page.body["items"].as_array().and_then(|i| i.first()) {
            break item.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the booking is listed"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(item["booking"], booking.to_string(), "{item}");
    assert_eq!(item["performance"], big, "{item}");
    let listed: Vec<u64> = item["tickets"]
        .as_array()
        .expect("tickets")
        .iter()
        .map(|t| id(&t["ticket"]))
        .collect();
    assert_eq!(listed, tickets);

    // Cancelling names the booking and a ticket by their strings; a second cancel of the same
    // ticket is refused with the ticket's id, a string too.
    let cancel = |key: &str| {
        json!({"type": "cancel", "id": key, "sale": big, "key": key,
            "booking": booking.to_string(), "tickets": [tickets[1].to_string()]})
    };
    let cancelled = command(&mut client, cancel("x1")).await;
    assert_eq!(
        cancelled["outcome"]["Ok"]["Cancelled"]["tickets"],
        json!([tickets[1].to_string()]),
        "{cancelled}"
    );
    assert_eq!(
        cancelled["outcome"]["Ok"]["Cancelled"]["booking"],
        booking.to_string()
    );
    let again = command(&mut client, cancel("x2")).await;
    assert_eq!(
        again["outcome"]["Err"]["TicketAlreadyCancelled"]["ticket"],
        tickets[1].to_string(),
        "{again}"
    );
    assert_eq!(again["code"], "ticket_already_cancelled");
}

/// The HTTP API is v2 only: a retired v1 path answers the problem+json 404 `no_route`, the OpenAPI
/// document is 2.0.0 with every path under `/api/v2` and one string `Id` schema, and a path id
/// is taken only as the document states it (digits, within range).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_api_speaks_v2_only() {
    let cluster = Cluster::start(1, Arc::new(MemoryStore::new()), |_| {}).await;
    let address = cluster.address(0);
    // Built, not written out, so that no rename of the served version rewrites it.
    let retired = format!("/api/v{}/shows", 1);
    let answer = call(address, "GET", &retired, "", None).await;
    assert_eq!(answer.status, 404, "{:?}", answer.body);
    assert_eq!(answer.body["code"], "no_route", "{:?}", answer.body);

    let document = call(address, "GET", "/api/openapi.json", "", None)
        .await
        .body;
    assert_eq!(document["info"]["version"], "2.0.0");
    assert_eq!(document["components"]["schemas"]["Id"]["type"], "string");
    let paths = document["paths"].as_object().expect("paths");
    for path in paths.keys() {
        assert!(
            path == "/api/openapi.json" || path.starts_with("/api/v2/"),
            "{path} is not a v2 path"
        );
    }

    let show = |id: &str| format!("/api/v{}/shows/{id}", 2);
    assert_eq!(call(address, "GET", &show("5"), "", None).await.status, 404);
    for bad in [
        "+5",
        "-5",
        "5.0",
        "18446744073709551616",
        "9223372036854775808",
    ] {
        let answer = call(address, "GET", &show(bad), "", None).await;
        assert_eq!(answer.status, 400, "{bad}: {:?}", answer.body);
    }
}
