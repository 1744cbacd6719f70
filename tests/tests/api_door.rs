//! Tickets at the door over HTTP (issue 14; docs/protocol.md, "Ticket codes"): the holder's
//! ticket, its code rendered as PNG and read back by a decoder no one here wrote (zbar's
//! `zbarimg`), and staff's online scans with every typed result: admitted, already used (when,
//! gate), expired, revoked (cancelled, and an old device's code after a re-binding), forged,
//! wrong performance. Codes an app would make are made with `picket-tickets` from the secret the
//! API delivers, as docs/protocol.md tells an app developer to.

use picket_ledger_core::*;
use picket_tests::api::{ApiSetup, OPERATOR, PASSWORD, call, call_raw, header};
use picket_tickets::Code;
use serde_json::{Value, json};

const DAY_MS: u64 = 24 * 3_600_000;
/// `published_show` starts 20 days away: the doors are open for this test.
const DOORS_OPEN_BEFORE_START_MS: u64 = 21 * DAY_MS;

/// The ticket's code as its PNG shows it, read by `zbarimg`.
async fn decoded_code(setup: &ApiSetup, ticket: TicketId, token: &str) -> String {
    let auth = format!("Bearer {token}");
    let path = format!("/api/v2/tickets/{}/code.png", ticket.0);
    let (status, head, png) = call_raw(
        setup.address,
        "GET",
        &path,
        &[("Authorization", auth.as_str())],
        b"",
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&png));
    assert_eq!(header(&head, "content-type"), Some("image/png"));
    assert_eq!(header(&head, "cache-control"), Some("no-store"));
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("code.png");
    std::fs::write(&file, &png).expect("written");
    let out = std::process::Command::new("zbarimg")
        .args(["--quiet", "--raw"])
        .arg(&file)
        .output()
        .expect("zbarimg runs (Debian zbar-tools; scripts/test installs it)");
    assert!(out.status.success(), "zbarimg: {out:?}");
    String::from_utf8(out.stdout)
        .expect("text")
        .trim()
        .to_owned()
}

async fn bind(setup: &ApiSetup, ticket: TicketId, token: &str, key: &str) -> Value {
    let answer = call(
        setup.address,
        "POST",
        &format!("/api/v2/tickets/{}/device", ticket.0),
        &json!({"public_key": key}).to_string(),
        Some(token),
    )
    .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body
}

/// A staff account assigned to both shows: its token.
async fn staff(setup: &ApiSetup, shows: &[(i64, &str)]) -> String {
    let form = json!({"account": {"email": "door@example.com", "password": PASSWORD,
        "name": "검표원"}, "role": "staff"});
    let created = call(
        setup.address,
        "POST",
        "/api/v2/admin/accounts",
        &form.to_string(),
        Some(OPERATOR),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let account = created.body["id"].clone();
    for (show, seller) in shows {
        let assigned = call(
            setup.address,
            "POST",
            &format!("/api/v2/shows/{show}/staff"),
            &json!({"account_id": account}).to_string(),
            Some(seller),
        )
        .await;
        assert_eq!(assigned.status, 204, "{:?}", assigned.body);
    }
    setup.sign_in("door@example.com").await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn codes_are_rendered_decoded_and_scanned_with_every_result() {
    let setup = ApiSetup::start_with(|config| {
        config.doors_open_before_start_ms = DOORS_OPEN_BEFORE_START_MS
    })
    .await;
    let (show, performance) = setup
        .published_show("owner@example.com", "123-45-67891")
        .await;
    let (other_show, other_performance) = setup
        .published_show("other@example.com", "220-81-62517")
        .await;
    let owner = setup.sign_in("owner@example.com").await;
    let other = setup.sign_in("other@example.com").await;
    let door = staff(&setup, &[(show, &owner), (other_show, &other)]).await;
    let (buyer, token) = setup.member("buyer@example.com").await;
    let buyer = buyer as u64;
    let (_, tickets) = setup.book(buyer, "pair", performance, &[0, 1], None).await;
    let (first, second) = (tickets[0], tickets[1]);

    // The holder's ticket: what the door checks (section A is VIP) and the code material.
    let ticket = setup.ticket_view(first, &token).await;
    assert_eq!(ticket["grade"], "VIP");
    assert!(ticket["place"].as_str().expect("place").starts_with("A "));
    assert_eq!(ticket["code"]["format"], "PK1");
    assert_eq!(ticket["code"]["generation"], 0);
    assert_eq!(ticket["device"], Value::Null);
    // Nobody else sees it, and a buyer cannot scan.
    let (_, stranger) = setup.member("stranger@example.com").await;
    let path = format!("/api/v2/tickets/{}", first.0);
    let peek = call(setup.address, "GET", &path, "", Some(&stranger)).await;
    assert_eq!(peek.status, 404, "{:?}", peek.body);
    let form = json!({"code": "PK1R", "direction": "entry"}).to_string();
    let scans = format!("/api/v2/performances/{performance}/scans");
    let by_buyer = call(setup.address, "POST", &scans, &form, Some(&token)).await;
    assert_eq!(by_buyer.status, 403, "{:?}", by_buyer.body);

    // The first binding is recorded and shown; the generation stays.
    let bound = bind(&setup, first, &token, &"A".repeat(43)).await;
    assert_eq!(bound["code"]["generation"], 0);
    assert!(bound["device"]["bound_at_ms"].as_u64().is_some());

    // Rendered, decoded by zbar, scanned: admitted, then already used (when, which gate).
    let text = decoded_code(&setup, first, &token).await;
    assert!(text.starts_with("PK1R"), "{text}");
    let admitted = setup.scan(&door, performance, &text, 3).await;
    assert_eq!(admitted["result"], "admitted", "{admitted}");
    assert_eq!(admitted["gate"], 3);
    let again = setup.scan(&door, performance, &text, 5).await;
    assert_eq!(
        again,
        json!({"result": "already_used", "at_ms": admitted["at_ms"], "gate": 3})
    );

    // A code made 45 s ago (three steps back) has expired.
    let second_view = setup.ticket_view(second, &token).await;
    let secret = picket_tests::api::secret_of(&second_view);
    let now = picket_edge::clock::now_ms();
    let old = Code::rotating(PerformanceId(performance), second, &secret, now - 45_000);
    let expired = setup.scan(&door, performance, &old.to_string(), 0).await;
    assert_eq!(expired, json!({"result": "code_expired"}));
    // One flipped bit of the MAC: forged.
    let mut flipped = Code::rotating(PerformanceId(performance), second, &secret, now);
    flipped.mac[0] ^= 1;
    let forged = setup
        .scan(&door, performance, &flipped.to_string(), 0)
        .await;
    assert_eq!(forged, json!({"result": "forged"}));
    // Another performance's door: wrong performance.
    let current = Code::rotating(PerformanceId(performance), second, &secret, now).to_string();
    let elsewhere = setup.scan(&door, other_performance, &current, 0).await;
    assert_eq!(elsewhere, json!({"result": "wrong_performance"}));

    // Re-binding to another device moves the secret on: the old device's code is revoked, the
    // new one's is admitted, and the holder sees the re-binding.
    bind(&setup, second, &token, &"B".repeat(43)).await;
    let moved = bind(&setup, second, &token, &"C".repeat(43)).await;
    assert_eq!(moved["code"]["generation"], 1);
    assert_eq!(moved["rebinds"], 1);
    assert_eq!(moved["device"]["public_key"], "C".repeat(43));
    let revoked = setup.scan(&door, performance, &current, 0).await;
    assert_eq!(revoked, json!({"result": "revoked"}));
    let new_code = decoded_code(&setup, second, &token).await;
    let admitted = setup.scan(&door, performance, &new_code, 0).await;
    assert_eq!(admitted["result"], "admitted", "{admitted}");

    // A cancelled ticket's code is revoked at once.
    let (booking, tickets) = setup.book(buyer, "single", performance, &[2], None).await;
    setup.ticket_view(tickets[0], &token).await;
    let before = decoded_code(&setup, tickets[0], &token).await;
    let cancel = Command::Cancel {
        performance: PerformanceId(performance),
        booking,
        tickets: Vec::new(),
    };
    let cancelled = setup.submit(buyer, "cancel-single", cancel).await;
    assert!(
        matches!(cancelled, Ok(Reply::Cancelled { .. })),
        "{cancelled:?}"
    );
    let revoked = setup.scan(&door, performance, &before, 0).await;
    assert_eq!(revoked, json!({"result": "revoked"}));

    // The SVG is the same code for the web client, never cached.
    let svg_path = format!("/api/v2/tickets/{}/code.svg", second.0);
    let auth = format!("Bearer {token}");
    let (status, head, svg) = call_raw(
        setup.address,
        "GET",
        &svg_path,
        &[("Authorization", auth.as_str())],
        b"",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(header(&head, "content-type"), Some("image/svg+xml"));
    assert_eq!(header(&head, "cache-control"), Some("no-store"));
    assert!(String::from_utf8_lossy(&svg).contains("<svg"));
}

/// A guest's device token and its ledger actor.
fn guest(device: &str) -> (String, u64) {
    let token = picket_tests::gateway::test_keys().sign(&picket_edge::token::Claims::Guest {
        device: device.into(),
        exp_ms: picket_edge::clock::now_ms() + 3_600_000,
    });
    let actor = picket_edge::identity::actor_of(&picket_edge::identity::guest(device));
    (token, actor.0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_discount_waits_for_its_proof_and_a_guest_holds_a_ticket() {
    let setup = ApiSetup::start_with(|config| {
        config.doors_open_before_start_ms = DOORS_OPEN_BEFORE_START_MS
    })
    .await;
    let disability = "장애인 (동반 1인)";
    let discounts = json!({"discounts": [{"label": disability, "kind": "eligibility",
        "percent": 50, "places_max": 2, "grades": ["R"]}]});
    let (_, performance) = setup
        .published_show_with("owner@example.com", "123-45-67891", discounts)
        .await;
    let owner = setup.sign_in("owner@example.com").await;
    // A guest buys an R seat (section B: seats 10 to 13) at the disability discount.
    let (token, actor) = guest("guest-door-device-01");
    let (_, tickets) = setup
        .book(
            actor,
            "guest",
            performance,
            &[10],
            Some(OfferChoice::Discount(DiscountId(0))),
        )
        .await;
    let ticket = setup.ticket_view(tickets[0], &token).await;
    assert_eq!(ticket["grade"], "R");
    assert_eq!(
        ticket["discount"],
        json!({"label": disability, "proof_at_entry": true})
    );
    let code = decoded_code(&setup, tickets[0], &token).await;
    // The seller scans: the door asks for the proof first, then admits and shows it.
    let asked = setup.scan(&owner, performance, &code, 0).await;
    assert_eq!(
        asked,
        json!({"result": "proof_required", "discount": disability})
    );
    let form = json!({"code": code, "gate": 0, "direction": "entry", "proof_checked": true});
    let admitted = call(
        setup.address,
        "POST",
        &format!("/api/v2/performances/{performance}/scans"),
        &form.to_string(),
        Some(&owner),
    )
    .await;
    assert_eq!(admitted.body["result"], "admitted", "{:?}", admitted.body);
    assert_eq!(admitted.body["proof"], disability);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_doors_open_two_hours_before_the_start_by_default() {
    let setup = ApiSetup::start().await;
    let (_, performance) = setup
        .published_show("owner@example.com", "123-45-67891")
        .await;
    let owner = setup.sign_in("owner@example.com").await;
    let (buyer, token) = setup.member("buyer@example.com").await;
    let (_, tickets) = setup
        .book(buyer as u64, "early", performance, &[0], None)
        .await;
    setup.ticket_view(tickets[0], &token).await;
    let code = decoded_code(&setup, tickets[0], &token).await;
    // `published_show` starts 20 days away.
    let early = setup.scan(&owner, performance, &code, 0).await;
    assert_eq!(early, json!({"result": "not_yet_open"}));
}
