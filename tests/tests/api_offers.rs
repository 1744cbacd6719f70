//! Discounts and coupons end to end on PostgreSQL: a seller defines them with the show, buyers
//! see the discounts (never the coupon codes) on the show page, holds over the WebSocket are
//! priced by the ledger with one offer at most, coupon limits hold, and "my page" shows what each
//! ticket cost and which discount staff must check at the door.

use std::time::Duration;

use picket_tests::api::{ApiSetup, call};
use picket_tests::gateway::{Client, configure_sale, sale_settings};
use serde_json::{Value, json};

const DAY_MS: u64 = 24 * 3_600_000;

fn offers(now_ms: u64) -> Value {
    json!({
        "discounts": [
            {"label": "조기예매", "kind": "early_bird", "percent": 10,
             "from_ms": now_ms - 3_600_000, "until_ms": now_ms + DAY_MS},
            {"label": "장애인 (동반 1인)", "kind": "eligibility", "percent": 50,
             "places_max": 2, "grades": ["R"]},
            {"label": "지난 조기예매", "kind": "early_bird", "amount_won": 10000,
             "from_ms": now_ms - 3 * DAY_MS, "until_ms": now_ms - DAY_MS},
        ],
        "coupons": [
            {"code": "welcome-5000", "amount_won": 5000, "min_order_won": 150000,
             "valid_from_ms": now_ms - 3_600_000, "valid_until_ms": now_ms + DAY_MS,
             "uses_max": 1, "uses_per_buyer_max": 1},
            {"code": "LATER-50", "percent": 50,
             "valid_from_ms": now_ms + DAY_MS, "valid_until_ms": now_ms + 2 * DAY_MS,
             "uses_max": 10},
        ],
    })
}

/// A member's client, admitted to the sale: (client, admission token).
async fn admitted(setup: &ApiSetup, email: &str, sale: u64) -> (Client, String) {
    let (_, token) = setup.member(email).await;
    let mut client = Client::hello(
        setup.cluster.address(0),
        json!({"type": "hello", "token": token}),
    )
    .await;
    client
        .send(json!({"type": "join", "sale": sale.to_string()}))
        .await;
    let admission = client.next_of("admitted").await["token"]
        .as_str()
        .expect("admission token")
        .to_owned();
    (client, admission)
}

/// Sends a hold with `extra` fields and returns the `result` or `error` answer.
async fn hold(client: &mut Client, admission: &str, sale: u64, id: &str, extra: Value) -> Value {
    let mut message = json!({"type": "hold", "id": id, "sale": sale.to_string(), "key": id,
        "admission": admission});
    if let (Some(m), Some(extra)) = (message.as_object_mut(), extra.as_object()) {
        m.extend(extra.clone());
    }
    loop {
        client.send(message.clone()).await;
        let answer = loop {
            let answer = client
                .next_within(Duration::from_secs(10))
                .await
                .expect("an answer");
            // A frame that does not decode is answered without an id (it could not be read).
            let undecoded = answer["type"] == "error" && answer["id"].is_null();
            if undecoded
                || answer["id"] == id && (answer["type"] == "result" || answer["type"] == "error")
            {
                break answer;
            }
        };
        // Booking attempts are rate-limited per buyer: wait as told and send the same key again.
        match answer["retry_after_ms"].as_u64() {
            Some(wait_ms) if code(&answer) == "slow_down" => {
                tokio::time::sleep(Duration::from_millis(wait_ms)).await;
            }
            _ => return answer,
        }
    }
}

fn held(answer: &Value) -> (u64, u64, u64) {
    let held = &answer["outcome"]["Ok"]["Held"];
    assert!(held.is_object(), "not held: {answer}");
    (
        picket_tests::ids::id(&held["hold"]),
        held["amount_won"].as_u64().expect("amount"),
        held["discount_won"].as_u64().unwrap_or(0),
    )
}

fn code(answer: &Value) -> &str {
    answer["code"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn discounts_and_coupons_price_holds_once_and_never_stack() {
    let setup = ApiSetup::start_postgres().await;
    let now_ms = picket_edge::clock::now_ms();
    let (show, sale) = setup
        .published_show_with("seller@offers.kr", "123-45-67891", offers(now_ms))
        .await;
    // The sale opens now rather than ten days before the show.
    let (status, body) = configure_sale(
        setup.cluster.address(0),
        sale,
        &sale_settings(now_ms, 100, 100),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // Buyers see the discounts, eligibility ones flagged for the door; coupon codes stay secret.
    let page = call(
        setup.address,
        "GET",
        &format!("/api/v2/shows/{show}"),
        "",
        None,
    )
    .await;
    assert_eq!(page.status, 200, "{:?}", page.body);
    let discounts = page.body["discounts"].as_array().expect("discounts");
    assert_eq!(discounts.len(), 3);
    assert_eq!(discounts[1]["proof_at_entry"], true);
    assert_eq!(discounts[0]["proof_at_entry"], false);
    assert!(page.body["coupons"].is_null(), "{:?}", page.body["coupons"]);
    let seller = setup.sign_in("seller@offers.kr").await;
    let own = call(
        setup.address,
        "GET",
        &format!("/api/v2/shows/{show}"),
        "",
        Some(&seller),
    )
    .await;
    assert_eq!(own.body["coupons"][0]["code"], "WELCOME-5000");

    // Eligibility: half price on the first two R seats (section B, seats 10..13), full on the third.
    let (mut a, admission_a) = admitted(&setup, "a@offers.kr", sale).await;
    let answer = hold(
        &mut a,
        &admission_a,
        sale,
        "a-1",
        json!({"selection": {"Seats": [10, 11, 12]}, "discount": 1}),
    )
    .await;
    let (hold_a, amount_a, off_a) = held(&answer);
    assert_eq!((amount_a, off_a), (70_000 + 70_000 + 140_000, 140_000));
    let paid = a
        .pay(
            &setup.cluster.sandbox,
            sale,
            &admission_a,
            hold_a,
            "a-2",
            picket_tests::pay::CARD_OK,
        )
        .await;
    assert!(paid["outcome"]["Ok"]["Confirmed"].is_object(), "{paid}");

    // Offers never stack: the gateway refuses a hold with both before the ledger sees it.
    let (mut b, admission_b) = admitted(&setup, "b@offers.kr", sale).await;
    let both = hold(
        &mut b,
        &admission_b,
        sale,
        "b-0",
        json!({"selection": {"Seats": [0]}, "discount": 0, "coupon": "WELCOME-5000"}),
    )
    .await;
    assert_eq!(code(&both), "invalid_field", "{both}");
    // A coupon in any case; 5,000원 off a 160,000원 VIP seat.
    let answer = hold(
        &mut b,
        &admission_b,
        sale,
        "b-1",
        json!({"selection": {"Seats": [0]}, "coupon": "welcome-5000"}),
    )
    .await;
    let (hold_b, amount_b, off_b) = held(&answer);
    assert_eq!((amount_b, off_b), (155_000, 5_000));

    // The coupon's one use is taken by b's active hold; other offers have their own rules.
    let (mut c, admission_c) = admitted(&setup, "c@offers.kr", sale).await;
    let cases = [
        (
            json!({"selection": {"Seats": [1]}, "coupon": "WELCOME-5000"}),
            "coupon_used_up",
        ),
        (
            json!({"selection": {"Seats": [1]}, "coupon": "LATER-50"}),
            "offer_not_active",
        ),
        (
            json!({"selection": {"Seats": [1]}, "coupon": "NOPE-1234"}),
            "unknown_offer",
        ),
        (
            json!({"selection": {"Seats": [1]}, "discount": 2}),
            "offer_not_active",
        ),
        (
            json!({"selection": {"Seats": [1]}, "discount": 1}),
            "offer_not_applicable",
        ),
        (
            json!({"selection": {"Seats": [1]}, "discount": 9}),
            "unknown_offer",
        ),
    ];
    for (index, (extra, want)) in cases.into_iter().enumerate() {
        let answer = hold(&mut c, &admission_c, sale, &format!("c-{index}"), extra).await;
        assert_eq!(code(&answer), want, "case {index}: {answer}");
    }
    // Below the coupon's minimum (a 110,000원 standing place) once b releases the use.
    b.send(
        json!({"type": "release", "id": "b-2", "sale": sale.to_string(), "key": "b-2",
        "admission": admission_b, "hold": hold_b.to_string()}),
    )
    .await;
    let released = b.next_of("result").await;
    assert!(
        released["outcome"]["Ok"]["Released"].is_object(),
        "{released}"
    );
    let below = hold(
        &mut c,
        &admission_c,
        sale,
        "c-9",
        json!({"selection": {"Zone": {"zone": 0, "count": 1}}, "coupon": "WELCOME-5000"}),
    )
    .await;
    assert_eq!(code(&below), "below_coupon_minimum", "{below}");
    let early = hold(
        &mut c,
        &admission_c,
        sale,
        "c-10",
        json!({"selection": {"Seats": [1]}, "coupon": "WELCOME-5000"}),
    )
    .await;
    assert_eq!(held(&early).1, 155_000, "the released use is free again");
    // The early-bird discount: 10 % off every place.
    let (mut d, admission_d) = admitted(&setup, "d@offers.kr", sale).await;
    let answer = hold(
        &mut d,
        &admission_d,
        sale,
        "d-1",
        json!({"selection": {"Seats": [2, 3]}, "discount": 0}),
    )
    .await;
    assert_eq!(held(&answer).1, 2 * 144_000);

    // My page: each ticket's own price, and the discount the door staff check.
    let token_a = setup.sign_in("a@offers.kr").await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let booking = loop {
        let mine = call(
            setup.address,
            "GET",
            "/api/v2/me/bookings",
            "",
            Some(&token_a),
        )
        .await;
        assert_eq!(mine.status, 200, "{:?}", mine.body);
        if let Some(first) = mine.body["items"].get(0) {
            break first.clone();
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "booking never projected"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(booking["paid_won"], 280_000);
    let tickets = booking["tickets"].as_array().expect("tickets");
    let prices: Vec<u64> = tickets
        .iter()
        .map(|t| t["price_won"].as_u64().expect("price"))
        .collect();
    assert_eq!(prices, vec![70_000, 70_000, 140_000]);
    assert_eq!(tickets[0]["discount"]["label"], "장애인 (동반 1인)");
    assert_eq!(tickets[0]["discount"]["proof_at_entry"], true);
    assert!(tickets[2]["discount"].is_null(), "{}", tickets[2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inconsistent_offers_are_refused_with_field_messages() {
    let setup = ApiSetup::start().await;
    let now_ms = picket_edge::clock::now_ms();
    let seller = {
        // A published show gives us a seller with a venue; the bad forms reuse its venue.
        let (show, _) = setup.published_show("bad@offers.kr", "220-81-62517").await;
        let token = setup.sign_in("bad@offers.kr").await;
        let page = call(
            setup.address,
            "GET",
            &format!("/api/v2/shows/{show}"),
            "",
            None,
        )
        .await;
        (token, picket_tests::ids::id_i64(&page.body["venue_id"]))
    };
    let base = |more: Value| {
        let mut form = json!({"title": "오페라의 유령", "category": "musical", "venue_id": seller.1.to_string(),
            "description": "", "age_rating": "7+", "running_minutes": 150, "grades": [
                {"code": "VIP", "price_won": 160000, "sections": ["A"]},
                {"code": "R", "price_won": 140000, "sections": ["B"]},
                {"code": "S", "price_won": 110000, "zones": ["Floor"]}]});
        if let (Some(f), Some(more)) = (form.as_object_mut(), more.as_object()) {
            f.extend(more.clone());
        }
        form
    };
    let bad = [
        (
            json!({"discounts": [{"label": "x", "kind": "eligibility", "percent": 10, "amount_won": 100, "places_max": 1}]}),
            "discounts",
        ),
        (
            json!({"discounts": [{"label": "x", "kind": "early_bird", "percent": 10, "from_ms": now_ms, "until_ms": now_ms}]}),
            "discounts",
        ),
        (
            json!({"discounts": [{"label": "x", "kind": "eligibility", "percent": 10, "places_max": 1, "grades": ["Z"]}]}),
            "discounts",
        ),
        (
            json!({"coupons": [{"code": "a b", "percent": 10, "valid_from_ms": 1, "valid_until_ms": 2, "uses_max": 1}]}),
            "coupons",
        ),
        (
            json!({"coupons": [{"code": "SAME-1", "percent": 10, "valid_from_ms": 1, "valid_until_ms": 2, "uses_max": 1},
                               {"code": "same-1", "percent": 20, "valid_from_ms": 1, "valid_until_ms": 2, "uses_max": 1}]}),
            "coupons",
        ),
        (
            json!({"coupons": [{"code": "ZERO-1", "percent": 10, "valid_from_ms": 1, "valid_until_ms": 2, "uses_max": 0}]}),
            "coupons",
        ),
    ];
    for (index, (more, field)) in bad.into_iter().enumerate() {
        let answer = call(
            setup.address,
            "POST",
            "/api/v2/shows",
            &base(more).to_string(),
            Some(&seller.0),
        )
        .await;
        assert_eq!(answer.status, 422, "case {index}: {:?}", answer.body);
        let errors = answer.body["errors"].as_array().expect("field errors");
        assert!(
            errors.iter().any(|e| e["field"] == field),
            "case {index}: {errors:?}"
        );
    }
}
