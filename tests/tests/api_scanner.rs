//! The scanner's stream (issue 14; docs/protocol.md, "The scanner's stream"): a door's scanner
//! over one WebSocket — admitted, then already used (when, which gate), a forged code, scans
//! pipelined and answered by id; refused without a session or for a member who is not staff
//! (the documented closes); malformed and oversized messages answered with a typed error while
//! the stream stays usable; a flood closed.

use futures_util::SinkExt;
use picket_api::scanner::{
    SCANNER_FLOOD_STRIKES_MAX, SCANNER_FRAME_BYTES_MAX, SCANNER_IN_FLIGHT_MAX,
    SCANNER_MESSAGE_BYTES_MAX, close,
};
use picket_ledger_client::LedgerClient;
use picket_ledger_core::{PerformanceId, ZoneId};
use picket_tests::api::{ApiSetup, call, header};
use picket_tests::scanner::{DoorTickets, Scanner, book_zone, connect};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// `published_show` starts 20 days away: the doors are open for these tests.
const DOORS_OPEN_BEFORE_START_MS: u64 = 21 * 24 * 3_600_000;

/// A published show with its doors open, a staff account assigned to it, and `count` tickets
/// of its Floor booked: (setup, performance, staff's token, seller's token, tickets).
async fn door(
    count: usize,
    tune: impl FnOnce(&mut picket_api::ApiConfig),
) -> (ApiSetup, u64, String, String, DoorTickets) {
    let setup = ApiSetup::start_with(|config| {
        config.doors_open_before_start_ms = DOORS_OPEN_BEFORE_START_MS;
        tune(config);
    })
    .await;
    let (show, performance) = setup
        .published_show("owner@example.com", "123-45-67891")
        .await;
    let owner = setup.sign_in("owner@example.com").await;
    let staff = setup
        .staff_of("door@example.com", &[(show, owner.as_str())])
        .await;
    let ledger = LedgerClient::in_process(setup.cluster.ledger.handle.clone());
    let tickets = book_zone(
        &ledger,
        &setup.api.config.ticket_key,
        PerformanceId(performance),
        ZoneId(0),
        count,
        4,
        9_000,
    )
    .await;
    (setup, performance, staff, owner, tickets)
}

fn now_ms() -> u64 {
    picket_edge::clock::now_ms()
}

/// The next message, which must be `kind`.
async fn next_of(scanner: &mut Scanner, kind: &str) -> Value {
    let message = scanner.next().await.expect("a message");
    assert_eq!(message["type"], kind, "{message}");
    message
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scanner_is_admitted_once_and_gets_pipelined_answers_by_id() {
    let (setup, performance, staff, _, tickets) = door(6, |_| {}).await;
    let (mut scanner, welcome) = Scanner::open(setup.address, performance, &staff).await;
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    assert_eq!(welcome["performance"], performance.to_string());
    assert_eq!(welcome["role"], "staff");
    assert_eq!(welcome["limits"]["in_flight_max"], SCANNER_IN_FLIGHT_MAX);
    assert_eq!(
        welcome["limits"]["message_bytes_max"],
        SCANNER_MESSAGE_BYTES_MAX
    );

    // Admitted at gate 3, with what the door checks; the answer names the scan's id.
    let first = tickets.code(0, now_ms());
    scanner.send(Scanner::scan(1, &first, 3)).await;
    let admitted = next_of(&mut scanner, "result").await;
    assert_eq!(admitted["id"], 1);
    assert_eq!(admitted["result"], "admitted", "{admitted}");
    assert_eq!(admitted["ticket"], tickets.tickets[0].0.0.to_string());
    assert_eq!(admitted["gate"], 3);
    assert_eq!(admitted["grade"], "S");
    assert_eq!(admitted["place"], "Floor");
    assert_eq!(admitted["printed"], false);
    // Again at gate 5: already used, when and at which gate it came in.
    scanner.send(Scanner::scan(2, &first, 5)).await;
    let again = next_of(&mut scanner, "result").await;
    assert_eq!(
        again,
        json!({"type": "result", "id": 2, "result": "already_used",
            "at_ms": admitted["at_ms"], "gate": 3})
    );
    // One flipped bit of the MAC: forged.
    let (ticket, secret) = &tickets.tickets[1];
    let mut flipped =
        picket_tickets::Code::rotating(PerformanceId(performance), *ticket, secret, now_ms());
    flipped.mac[0] ^= 1;
    scanner
        .send(Scanner::scan(3, &flipped.to_string(), 0))
        .await;
    let forged = next_of(&mut scanner, "result").await;
    assert_eq!(
        forged,
        json!({"type": "result", "id": 3, "result": "forged"})
    );

    // Five scans sent at once, before any answer: each answered once, by its id, whatever
    // the order the answers come in.
    let now = now_ms();
    let batch: Vec<(u32, String)> = (1..6)
        .map(|i| (100 + i as u32, tickets.code(i, now)))
        .collect();
    for (id, code) in &batch {
        scanner.send(Scanner::scan(*id, code, 1)).await;
    }
    let mut answers = std::collections::BTreeMap::new();
    for _ in 0..batch.len() {
        let answer = next_of(&mut scanner, "result").await;
        let id = answer["id"].as_u64().expect("an id") as u32;
        assert!(answers.insert(id, answer).is_none(), "answered twice: {id}");
    }
    for (i, (id, _)) in batch.iter().enumerate() {
        let answer = &answers[id];
        assert_eq!(answer["result"], "admitted", "{answer}");
        assert_eq!(answer["ticket"], tickets.tickets[i + 1].0.0.to_string());
        assert_eq!(answer["gate"], 1);
    }
    // The same ticket in another stream (a second scanner at another gate): already used.
    let (mut other, _) = Scanner::open(setup.address, performance, &staff).await;
    other
        .send(Scanner::scan(1, &tickets.code(5, now_ms()), 2))
        .await;
    let used = next_of(&mut other, "result").await;
    assert_eq!(used["result"], "already_used");
    assert_eq!(used["gate"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_staff_of_the_show_may_stream_with_the_documented_closes() {
    let (setup, performance, staff, owner, tickets) = door(1, |_| {}).await;
    // Not an upgrade: 426 naming the upgrade. An unknown performance: 404 before any upgrade.
    let path = format!("/api/v2/performances/{performance}/scanner");
    let plain = call(setup.address, "GET", &path, "", Some(&staff)).await;
    assert_eq!(plain.status, 426, "{:?}", plain.body);
    assert_eq!(plain.body["code"], "websocket_required");
    assert_eq!(header(&plain.head, "upgrade"), Some("websocket"));
    let unknown = connect(setup.address, performance + 1).await;
    match unknown {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status(), 404)
        }
        other => panic!("{other:?}"),
    }

    // A scan before hello is refused (its id kept); a forged token closes with 4001.
    let socket = connect(setup.address, performance).await.expect("connect");
    let mut anonymous = Scanner {
        socket,
        closed: None,
    };
    anonymous
        .send(Scanner::scan(7, &tickets.code(0, now_ms()), 0))
        .await;
    let refused = next_of(&mut anonymous, "error").await;
    assert_eq!(
        (refused["id"].clone(), refused["code"].clone()),
        (json!(7), json!("not_authenticated"))
    );
    anonymous
        .send(json!({"type": "hello", "token": "v1.k1.forged.token"}))
        .await;
    let bad = next_of(&mut anonymous, "error").await;
    assert_eq!(bad["code"], "unauthenticated");
    assert_eq!(anonymous.close_code().await, Some(close::NOT_AUTHENTICATED));

    // A member who is not staff of the show: told so, closed with 4003.
    let (_, member) = setup.member("member@example.com").await;
    let (mut stranger, answer) = Scanner::open(setup.address, performance, &member).await;
    assert_eq!(answer["code"], "forbidden", "{answer}");
    assert_eq!(stranger.close_code().await, Some(close::FORBIDDEN));

    // The show's seller may scan; a second hello is refused, the stream goes on.
    let (mut seller, welcome) = Scanner::open(setup.address, performance, &owner).await;
    assert_eq!(welcome["role"], "seller", "{welcome}");
    seller.send(json!({"type": "hello", "token": owner})).await;
    assert_eq!(
        next_of(&mut seller, "error").await["code"],
        "already_authenticated"
    );

    // A session signed out ends the stream at its next scan.
    let (mut door, _) = Scanner::open(setup.address, performance, &staff).await;
    let out = call(
        setup.address,
        "DELETE",
        "/api/v2/sessions/current",
        "",
        Some(&staff),
    )
    .await;
    assert_eq!(out.status, 204, "{:?}", out.body);
    door.send(Scanner::scan(8, &tickets.code(0, now_ms()), 0))
        .await;
    let ended = next_of(&mut door, "error").await;
    assert_eq!(
        (ended["id"].clone(), ended["code"].clone()),
        (json!(8), json!("unauthenticated"))
    );
    assert_eq!(door.close_code().await, Some(close::NOT_AUTHENTICATED));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_oversized_messages_are_typed_errors_and_the_stream_goes_on() {
    let (setup, performance, staff, _, tickets) = door(1, |_| {}).await;
    let (mut scanner, _) = Scanner::open(setup.address, performance, &staff).await;
    let errors = [
        ("not json".to_owned(), json!(null), "bad_json"),
        (
            r#"{"type": "admit", "id": 4}"#.to_owned(),
            json!(4),
            "unknown_type",
        ),
        (
            r#"{"type": "scan", "id": 5, "code": 17, "direction": "entry"}"#.to_owned(),
            json!(5),
            "invalid_field",
        ),
        (
            r#"{"type": "scan", "id": 6, "code": "x", "direction": "sideways"}"#.to_owned(),
            json!(6),
            "invalid_field",
        ),
        (
            r#"{"type": "scan", "code": "x", "direction": "entry"}"#.to_owned(),
            json!(null),
            "invalid_field",
        ),
        (
            Scanner::scan(9, &"x".repeat(SCANNER_MESSAGE_BYTES_MAX), 0).to_string(),
            json!(null),
            "too_big",
        ),
    ];
    for (text, id, code) in errors {
        scanner.send_text(&text).await;
        let error = next_of(&mut scanner, "error").await;
        assert_eq!(
            (&error["id"], error["code"].as_str()),
            (&id, Some(code)),
            "{text}"
        );
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    scanner
        .socket
        .send(Message::binary(vec![1, 2, 3]))
        .await
        .expect("sent");
    assert_eq!(
        next_of(&mut scanner, "error").await["code"],
        "binary_not_supported"
    );
    // And the stream still scans.
    scanner
        .send(Scanner::scan(11, &tickets.code(0, now_ms()), 0))
        .await;
    let admitted = next_of(&mut scanner, "result").await;
    assert_eq!(
        (admitted["id"].clone(), admitted["result"].clone()),
        (json!(11), json!("admitted"))
    );
    // Past the frame limit the socket itself refuses the message: closed with 1009.
    scanner
        .send_text(&"x".repeat(SCANNER_FRAME_BYTES_MAX + 1))
        .await;
    assert_eq!(scanner.close_code().await, Some(close::TOO_BIG));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_is_rate_limited_then_closed() {
    let (setup, performance, staff, _, _) = door(1, |config| {
        config.scanner_messages_per_sec = 1;
        config.scanner_messages_burst = 1;
    })
    .await;
    let (mut scanner, welcome) = Scanner::open(setup.address, performance, &staff).await;
    assert_eq!(welcome["limits"]["messages_per_sec"], 1);
    // Sent far faster than one a second, and far more than the strikes allowed: refused
    // (`hello` took the one token at once), each refusal naming its scan, then closed.
    for id in 1..200 {
        scanner.send(Scanner::scan(id, "PK1R", 0)).await;
    }
    let mut limited = Vec::new();
    while let Some(message) = scanner.next().await {
        if message["code"] == "rate_limited" {
            assert!(
                message["retry_after_ms"]
                    .as_u64()
                    .is_some_and(|ms| ms <= 1_000)
            );
            limited.push(message["id"].as_u64().expect("the scan's id"));
        }
    }
    // At least the strikes allowed in a row (more if a token came back in between).
    assert!(
        limited.len() >= SCANNER_FLOOD_STRIKES_MAX as usize,
        "{limited:?}"
    );
    assert_eq!(scanner.closed, Some(close::FLOOD));
}
