//! The cancellation waitlist over HTTP (docs/protocol.md, "Waitlist over HTTP"): members join a
//! sold-out grade in order, a cancellation offers the first, who pays the offer through the
//! checkout and the sandbox without an admission; a decline passes the next offer on; leaving,
//! every refusal's code, the seller's numbers and the show's settings.

use picket_ledger_core::*;
use picket_tests::api::{ApiSetup, call};
use picket_tests::pay::CARD_OK;
use serde_json::{Value, json};

const R_WON: u64 = 140_000;
/// The seller's own buyer, who books every R seat (section B: seats 10 to 13).
const HOLDER: u64 = 900_001;
const MINUTE_MS: u64 = 60_000;

async fn get(setup: &ApiSetup, path: &str, token: &str) -> (u16, Value) {
    let answer = call(setup.address, "GET", path, "", Some(token)).await;
    (answer.status, answer.body)
}

async fn join(setup: &ApiSetup, performance: u64, token: &str, body: Value) -> (u16, Value) {
    let answer = call(
        setup.address,
        "POST",
        &format!("/api/v2/performances/{performance}/waitlist"),
        &body.to_string(),
        Some(token),
    )
    .await;
    (answer.status, answer.body)
}

fn code(answer: &(u16, Value)) -> (u16, String) {
    (
        answer.0,
        answer.1["code"].as_str().unwrap_or_default().to_owned(),
    )
}

async fn my_entries(setup: &ApiSetup, token: &str) -> Vec<Value> {
    let (status, body) = get(setup, "/api/v2/me/waitlist", token).await;
    assert_eq!(status, 200, "{body:?}");
    body["entries"].as_array().expect("entries").clone()
}

/// Books all four R seats for [`HOLDER`]: the grade is sold out. Returns the booking and its
/// tickets.
async fn sell_out_r(setup: &ApiSetup, performance: u64) -> (BookingId, Vec<TicketId>) {
    let held = setup
        .submit(
            HOLDER,
            "hold-r",
            Command::Hold {
                performance: PerformanceId(performance),
                selection: Selection::Seats((10..14).map(SeatId).collect()),
                admission: None,
                offer: None,
            },
        )
        .await;
    let Ok(Reply::Held {
        hold, amount_won, ..
    }) = held
    else {
        panic!("held: {held:?}");
    };
    let paid = setup
        .submit(
            HOLDER,
            "pay-r",
            Command::Confirm {
                performance: PerformanceId(performance),
                hold,
                payment_ref: "holder-payment".into(),
                amount_won,
            },
        )
        .await;
    let Ok(Reply::Confirmed {
        booking, tickets, ..
    }) = paid
    else {
        panic!("paid: {paid:?}");
    };
    (booking, tickets)
}

async fn cancel_one(setup: &ApiSetup, performance: u64, booking: BookingId, ticket: TicketId) {
    let cancelled = setup
        .submit(
            HOLDER,
            &format!("cancel-{}", ticket.0),
            Command::Cancel {
                performance: PerformanceId(performance),
                booking,
                tickets: vec![ticket],
            },
        )
        .await;
    assert!(
        matches!(cancelled, Ok(Reply::Cancelled { .. })),
        "{cancelled:?}"
    );
}

/// Pays `hold` as the app does: checkout, the sandbox's payment window, then the success URL
/// with no admission token. Returns the success URL's answer.
async fn pay_offer(setup: &ApiSetup, performance: u64, hold: &str, token: &str) -> (u16, Value) {
    let asked = json!({"sale": performance.to_string(), "hold": hold});
    let checkout = call(
        setup.address,
        "POST",
        "/api/v2/checkout",
        &asked.to_string(),
        Some(token),
    )
    .await;
    assert_eq!(checkout.status, 200, "{:?}", checkout.body);
    let amount = checkout.body["amount_won"].as_u64().expect("amount");
    let order_id = checkout.body["order_id"].as_str().expect("order id");
    let order_name = checkout.body["order_name"].as_str().expect("order name");
    let payment_key = setup
        .cluster
        .sandbox
        .pay(order_id, order_name, amount, CARD_OK)
        .await
        .expect("paid");
    let success = format!(
        "/api/v2/payments/success?paymentKey={payment_key}&orderId={order_id}&amount={amount}"
    );
    let answer = call(setup.address, "GET", &success, "", None).await;
    (answer.status, answer.body)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_seat_is_offered_in_join_order_paid_declined_and_counted() {
    let setup = ApiSetup::start().await;
    setup.pay_through_sandbox();
    let (show, performance) = setup
        .published_show("owner@example.com", "123-45-67891")
        .await;
    let owner = setup.sign_in("owner@example.com").await;
    let detail = call(
        setup.address,
        "GET",
        &format!("/api/v2/shows/{show}"),
        "",
        None,
    )
    .await;
    assert_eq!(
        detail.body["waitlist"],
        json!({"enabled": true, "claim_window_minutes": 10, "freed_to_sale": false})
    );
    let (booking, tickets) = sell_out_r(&setup, performance).await;

    // Two members join the sold-out grade in order; a third asks for any grade.
    let (_, first) = setup.member("first@example.com").await;
    let (_, second) = setup.member("second@example.com").await;
    let (_, third) = setup.member("third@example.com").await;
    let ask = json!({"grade": "R", "quantity": 1});
    let joined = join(&setup, performance, &first, ask.clone()).await;
    assert_eq!(joined.0, 201, "{:?}", joined.1);
    assert_eq!(joined.1["position"], 1);
    let first_entry = joined.1["entry"].as_str().expect("entry").to_owned();
    let joined = join(&setup, performance, &second, ask.clone()).await;
    assert_eq!((joined.0, &joined.1["position"]), (201, &json!(2)));
    let second_entry = joined.1["entry"].as_str().expect("entry").to_owned();
    let joined = join(&setup, performance, &third, json!({"quantity": 2})).await;
    assert_eq!((joined.0, &joined.1["position"]), (201, &json!(3)));

    let mine = my_entries(&setup, &second).await;
    assert_eq!(mine.len(), 1, "{mine:?}");
    assert_eq!(mine[0]["entry"], second_entry.as_str());
    assert_eq!(mine[0]["performance"], performance.to_string());
    assert_eq!(mine[0]["title"], "레미제라블");
    assert_eq!(mine[0]["grade"], "R");
    assert_eq!(
        (&mine[0]["quantity"], &mine[0]["together"]),
        (&json!(1), &json!(false))
    );
    assert_eq!(mine[0]["position"], json!({"overall": 2, "in_grade": 2}));
    assert_eq!(
        mine[0]["sizes"],
        json!({"per_grade": [{"grade": "VIP", "waiting": 0}, {"grade": "R", "waiting": 2},
            {"grade": "S", "waiting": 0}], "any_grade": 1})
    );
    assert_eq!(mine[0]["offer"], Value::Null);
    let any = my_entries(&setup, &third).await;
    assert_eq!(any[0]["grade"], Value::Null);
    assert_eq!(any[0]["position"], json!({"overall": 3, "in_grade": 1}));

    let report_path = format!("/api/v2/performances/{performance}/waitlist");
    let (status, report) = get(&setup, &report_path, &owner).await;
    assert_eq!(status, 200, "{report:?}");
    assert_eq!(
        report["waiting"]["per_grade"][1],
        json!({"grade": "R", "waiting": 2})
    );
    assert_eq!(report["waiting"]["any_grade"], 1);
    assert_eq!(
        (&report["places_offered"], &report["places_booked"]),
        (&json!(0), &json!(0))
    );
    // Only the show's seller (and admins) read the numbers.
    assert_eq!(get(&setup, &report_path, &first).await.0, 403);

    // A cancelled R seat is offered to the first in line, held for the claim window.
    let before_ms = picket_edge::clock::now_ms();
    cancel_one(&setup, performance, booking, tickets[0]).await;
    let after_ms = picket_edge::clock::now_ms();
    let mine = my_entries(&setup, &first).await;
    let offer = &mine[0]["offer"];
    assert_eq!(mine[0]["position"], Value::Null, "{mine:?}");
    assert_eq!(offer["sale"], performance.to_string());
    assert_eq!(offer["amount_won"], R_WON);
    assert_eq!(offer["places"].as_array().expect("places").len(), 1);
    assert_eq!(offer["places"][0]["grade_code"], "R");
    let deadline = offer["expires_at_ms"].as_u64().expect("deadline");
    assert!(
        (before_ms + 10 * MINUTE_MS..=after_ms + 10 * MINUTE_MS).contains(&deadline),
        "{deadline} not 10 minutes after {before_ms}..{after_ms}"
    );
    let hold = offer["hold"].as_str().expect("hold").to_owned();
    // The second moves up.
    let mine = my_entries(&setup, &second).await;
    assert_eq!(mine[0]["position"], json!({"overall": 1, "in_grade": 1}));
    // The second has no offer to decline yet.
    let decline_second =
        format!("/api/v2/performances/{performance}/waitlist/{second_entry}/decline");
    let refused = call(setup.address, "POST", &decline_second, "", Some(&second)).await;
    assert_eq!(
        code(&(refused.status, refused.body)),
        (409, "no_waitlist_offer".to_owned())
    );

    // The first pays the offer through the checkout and the sandbox, with no admission
    // token, although the sale has a waiting room.
    let (status, paid) = pay_offer(&setup, performance, &hold, &first).await;
    assert_eq!(status, 200, "{paid:?}");
    assert_eq!(paid["amount_won"], R_WON);
    assert_eq!(paid["tickets"].as_array().expect("tickets").len(), 1);
    assert!(my_entries(&setup, &first).await.is_empty());
    let (_, report) = get(&setup, &report_path, &owner).await;
    assert_eq!(
        (&report["places_offered"], &report["places_booked"]),
        (&json!(1), &json!(1))
    );

    // An ordinary hold of the same sale still needs its admission on the success URL.
    let (ordinary_buyer, ordinary) = setup.member("ordinary@example.com").await;
    let held = setup
        .submit(
            ordinary_buyer as u64,
            "ordinary-hold",
            Command::Hold {
                performance: PerformanceId(performance),
                selection: Selection::Seats(vec![SeatId(0)]),
                admission: None,
                offer: None,
            },
        )
        .await;
    let Ok(Reply::Held { hold: plain, .. }) = held else {
        panic!("held: {held:?}");
    };
    let refused = pay_offer(&setup, performance, &plain.0.to_string(), &ordinary).await;
    assert_eq!(code(&refused), (403, "no_admission".to_owned()));

    // The next cancelled seat goes to the second, who declines: the entry ends.
    cancel_one(&setup, performance, booking, tickets[1]).await;
    let mine = my_entries(&setup, &second).await;
    let offered = mine[0]["offer"]["hold"]
        .as_str()
        .expect("offered")
        .to_owned();
    let declined = call(setup.address, "POST", &decline_second, "", Some(&second)).await;
    assert_eq!(declined.status, 200, "{:?}", declined.body);
    assert_eq!(declined.body["hold"], offered.as_str());
    assert!(my_entries(&setup, &second).await.is_empty());
    // Declined places move on: the any-grade entry wanted two places and only one is free, so
    // it still waits and the seat is kept for the waitlist.
    let (_, report) = get(&setup, &report_path, &owner).await;
    assert_eq!(report["places_offered"], 2);
    assert_eq!(report["places_booked"], 1);
    assert_eq!(report["places_reserved"], 1);

    // Leaving: the third leaves; again is answered the same; another's entry is none of theirs.
    let third_entry = my_entries(&setup, &third).await[0]["entry"]
        .as_str()
        .expect("entry")
        .to_owned();
    let leave = format!("/api/v2/performances/{performance}/waitlist/{third_entry}");
    let stranger_leaves = call(setup.address, "DELETE", &leave, "", Some(&first)).await;
    assert_eq!(
        code(&(stranger_leaves.status, stranger_leaves.body)),
        (404, "unknown_waitlist_entry".to_owned())
    );
    let left = call(setup.address, "DELETE", &leave, "", Some(&third)).await;
    assert_eq!(left.status, 200, "{:?}", left.body);
    assert_eq!(left.body["released"], Value::Null);
    let again = call(setup.address, "DELETE", &leave, "", Some(&third)).await;
    assert_eq!((again.status, &again.body), (200, &left.body));
    assert!(my_entries(&setup, &third).await.is_empty());
    let gone = call(
        setup.address,
        "POST",
        &format!("/api/v2/performances/{performance}/waitlist/{third_entry}/decline"),
        "",
        Some(&third),
    )
    .await;
    assert_eq!(
        code(&(gone.status, gone.body)),
        (404, "unknown_waitlist_entry".to_owned())
    );
    // No entry waits any more: the kept seat is back on sale.
    let (_, report) = get(&setup, &report_path, &owner).await;
    assert_eq!(report["places_reserved"], 0);
    assert_eq!(report["waiting"]["any_grade"], 0);
    let _ = first_entry;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refusal_has_its_code_and_the_settings_are_validated() {
    let setup = ApiSetup::start().await;
    let (_, performance) = setup
        .published_show("owner@example.com", "123-45-67891")
        .await;
    let (_, member) = setup.member("member@example.com").await;

    // Shape: a quantity outside 1 to the per-buyer limit, an unknown grade, auto-pay.
    for (body, field) in [
        (json!({"quantity": 0}), "quantity"),
        (json!({"quantity": 5}), "quantity"),
        (json!({"grade": "ZZ", "quantity": 1}), "grade"),
    ] {
        let refused = join(&setup, performance, &member, body.clone()).await;
        assert_eq!(refused.0, 422, "{body}: {:?}", refused.1);
        assert_eq!(refused.1["errors"][0]["field"], field, "{body}");
    }
    let auto_pay = join(
        &setup,
        performance,
        &member,
        json!({"quantity": 1, "auto_pay": true}),
    )
    .await;
    assert_eq!(code(&auto_pay), (400, "bad_body".to_owned()));
    // A guest's device token is no member; no session at all is unauthenticated.
    let guest = picket_tests::gateway::test_keys().sign(&picket_edge::token::Claims::Guest {
        device: "guest-waitlist-device-01".into(),
        exp_ms: picket_edge::clock::now_ms() + 3_600_000,
    });
    let ask = json!({"quantity": 1});
    assert_eq!(
        code(&join(&setup, performance, &guest, ask.clone()).await),
        (401, "members_only".to_owned())
    );
    let (status, _) = get(&setup, "/api/v2/me/waitlist", &guest).await;
    assert_eq!(status, 401);
    // No such performance.
    assert_eq!(
        join(&setup, performance + 1_000_000, &member, ask.clone())
            .await
            .0,
        404
    );
    // Entries per member in one performance.
    for _ in 0..limits::WAITLIST_ENTRIES_PER_BUYER_MAX {
        assert_eq!(join(&setup, performance, &member, ask.clone()).await.0, 201);
    }
    assert_eq!(
        code(&join(&setup, performance, &member, ask.clone()).await),
        (409, "too_many_waitlist_entries".to_owned())
    );
    assert_eq!(
        my_entries(&setup, &member).await.len(),
        usize::from(limits::WAITLIST_ENTRIES_PER_BUYER_MAX)
    );
    // The per-buyer limit counts the member's holds and tickets with the quantity.
    let (holder, holder_token) = setup.member("holder@example.com").await;
    let held = setup
        .submit(
            holder as u64,
            "hold-one",
            Command::Hold {
                performance: PerformanceId(performance),
                selection: Selection::Seats(vec![SeatId(0)]),
                admission: None,
                offer: None,
            },
        )
        .await;
    assert!(matches!(held, Ok(Reply::Held { .. })), "{held:?}");
    assert_eq!(
        code(&join(&setup, performance, &holder_token, json!({"quantity": 4})).await),
        (409, "over_buyer_limit".to_owned())
    );

    // A show whose waitlist is off refuses joins; its settings read back.
    let (closed_show, closed) = setup
        .published_show_with(
            "closed@example.com",
            &business_number(2),
            json!({"waitlist": {"enabled": false, "claim_window_minutes": 30, "freed_to_sale": true}}),
        )
        .await;
    let detail = call(
        setup.address,
        "GET",
        &format!("/api/v2/shows/{closed_show}"),
        "",
        None,
    )
    .await;
    assert_eq!(
        detail.body["waitlist"],
        json!({"enabled": false, "claim_window_minutes": 30, "freed_to_sale": true})
    );
    assert_eq!(
        code(&join(&setup, closed, &member, ask.clone()).await),
        (409, "waitlist_closed".to_owned())
    );

    // Settings out of bounds are field errors; an unknown setting is a bad body.
    let seller = setup.sign_in("closed@example.com").await;
    let venue = crate_venue_of(&setup, closed_show).await;
    for (waitlist, status) in [
        (json!({"claim_window_minutes": 0}), 422),
        (json!({"claim_window_minutes": 24 * 60 + 1}), 422),
        (json!({"auto_pay": true}), 400),
    ] {
        let form = json!({"title": "설정", "category": "musical", "venue_id": venue, "description": "",
            "age_rating": "all", "running_minutes": 90,
            "grades": [{"code": "VIP", "price_won": 1000, "sections": ["A"]},
                {"code": "R", "price_won": 1000, "sections": ["B"]},
                {"code": "S", "price_won": 1000, "zones": ["Floor"]}],
            "waitlist": waitlist});
        let created = call(
            setup.address,
            "POST",
            "/api/v2/shows",
            &form.to_string(),
            Some(&seller),
        )
        .await;
        assert_eq!(created.status, status, "{waitlist}: {:?}", created.body);
        if status == 422 {
            assert_eq!(
                created.body["errors"][0]["field"],
                "waitlist.claim_window_minutes"
            );
        }
    }
}

/// A valid business registration number built from `n` (the check digit found by trying).
fn business_number(n: u64) -> String {
    let stem = format!("{:09}", 100_000_000 + n);
    (0..10)
        .map(|d| format!("{stem}{d}"))
        .find(|candidate| picket_api::sellers::business_number_digits(candidate).is_some())
        .expect("one check digit fits")
}

/// The venue a show is at, as its detail names it.
async fn crate_venue_of(setup: &ApiSetup, show: i64) -> Value {
    let detail = call(
        setup.address,
        "GET",
        &format!("/api/v2/shows/{show}"),
        "",
        None,
    )
    .await;
    detail.body["venue_id"].clone()
}

/// A member waits in at most `WAITLISTS_PER_MEMBER_MAX` performances' waitlists; one they left
/// no longer counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_waits_in_a_bounded_number_of_performances() {
    let max = usize::from(picket_api::waitlist::WAITLISTS_PER_MEMBER_MAX);
    let setup = ApiSetup::start().await;
    // One show with one performance more than the bound.
    let (show, first_performance) = setup
        .published_show("owner@example.com", "123-45-67891")
        .await;
    let seller = setup.sign_in("owner@example.com").await;
    let venue = crate_venue_of(&setup, show).await;
    let form = json!({"title": "여러 회차", "category": "musical", "venue_id": venue, "description": "",
        "age_rating": "all", "running_minutes": 90,
        "grades": [{"code": "VIP", "price_won": 1000, "sections": ["A"]},
            {"code": "R", "price_won": 1000, "sections": ["B"]},
            {"code": "S", "price_won": 1000, "zones": ["Floor"]}]});
    let created = call(
        setup.address,
        "POST",
        "/api/v2/shows",
        &form.to_string(),
        Some(&seller),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let many = created.body["id"].as_str().expect("id").to_owned();
    let starts = picket_edge::clock::now_ms() + 20 * 24 * 3_600_000;
    let mut performances = vec![first_performance];
    for n in 0..max as u64 {
        let form = json!({"starts_at_ms": starts + n * 3_600_000,
            "sale_open_at_ms": starts - 10 * 24 * 3_600_000});
        let added = call(
            setup.address,
            "POST",
            &format!("/api/v2/shows/{many}/performances"),
            &form.to_string(),
            Some(&seller),
        )
        .await;
        assert_eq!(added.status, 201, "{:?}", added.body);
        performances.push(picket_tests::ids::id(&added.body["id"]));
    }
    let published = call(
        setup.address,
        "POST",
        &format!("/api/v2/shows/{many}/publish"),
        "",
        Some(&seller),
    )
    .await;
    assert_eq!(published.status, 200, "{:?}", published.body);

    let (_, member) = setup.member("member@example.com").await;
    let ask = json!({"quantity": 1});
    let mut entries = Vec::new();
    for performance in &performances[..max] {
        let joined = join(&setup, *performance, &member, ask.clone()).await;
        assert_eq!(joined.0, 201, "{:?}", joined.1);
        entries.push(joined.1["entry"].as_str().expect("entry").to_owned());
    }
    let last = performances[max];
    assert_eq!(
        code(&join(&setup, last, &member, ask.clone()).await),
        (409, "too_many_waitlists".to_owned())
    );
    // Another entry where the member already waits is within the bound.
    assert_eq!(
        join(&setup, performances[0], &member, ask.clone()).await.0,
        201
    );
    assert_eq!(my_entries(&setup, &member).await.len(), max + 1);
    // Leaving every entry of one performance frees its place in the bound.
    let left = call(
        setup.address,
        "DELETE",
        &format!(
            "/api/v2/performances/{}/waitlist/{}",
            performances[1], entries[1]
        ),
        "",
        Some(&member),
    )
    .await;
    assert_eq!(left.status, 200, "{:?}", left.body);
    assert_eq!(join(&setup, last, &member, ask).await.0, 201);
    assert_eq!(my_entries(&setup, &member).await.len(), max + 1);
}

/// The waitlist's rows and the show's settings on PostgreSQL (production's store): a join is
/// listed in "my waitlist", leaving drops it, the settings read back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joining_and_leaving_on_postgres() {
    let setup = ApiSetup::start_postgres().await;
    let (show, performance) = setup
        .published_show_with(
            "owner@example.com",
            "123-45-67891",
            json!({"waitlist": {"claim_window_minutes": 15}}),
        )
        .await;
    let detail = call(
        setup.address,
        "GET",
        &format!("/api/v2/shows/{show}"),
        "",
        None,
    )
    .await;
    assert_eq!(
        detail.body["waitlist"],
        json!({"enabled": true, "claim_window_minutes": 15, "freed_to_sale": false})
    );
    let (_, member) = setup.member("member@example.com").await;
    let joined = join(
        &setup,
        performance,
        &member,
        json!({"grade": "S", "quantity": 2, "together": true}),
    )
    .await;
    assert_eq!(joined.0, 201, "{:?}", joined.1);
    let entry = joined.1["entry"].as_str().expect("entry").to_owned();
    let mine = my_entries(&setup, &member).await;
    assert_eq!(mine.len(), 1);
    assert_eq!(
        (
            &mine[0]["grade"],
            &mine[0]["quantity"],
            &mine[0]["together"]
        ),
        (&json!("S"), &json!(2), &json!(true))
    );
    let left = call(
        setup.address,
        "DELETE",
        &format!("/api/v2/performances/{performance}/waitlist/{entry}"),
        "",
        Some(&member),
    )
    .await;
    assert_eq!(left.status, 200, "{:?}", left.body);
    assert!(my_entries(&setup, &member).await.is_empty());
}
