//! My page and guest bookings: the bookings projection follows the ledger; members see their
//! bookings with seats, amounts, the cancellation deadline and the fee that would apply now;
//! guests get a booking number and look it up with their phone, and the lookup cannot be used
//! to enumerate bookings.

use std::time::Duration;

use picket_edge::token::Claims;
use picket_ledger_core::*;
use picket_tests::api::{ApiSetup, call, call_raw};
use picket_tests::gateway::test_keys;
use serde_json::{Value, json};

/// Holds `seats` of `performance` for `actor` and pays: the booking id.
async fn book(setup: &ApiSetup, actor: ActorId, performance: u64, seats: &[u32], key: &str) -> u64 {
    let hold = Request {
        actor,
        key: IdempotencyKey::new(format!("{key}-hold")).expect("key"),
        command: Command::Hold {
            performance: PerformanceId(performance),
            selection: Selection::Seats(seats.iter().map(|s| SeatId(*s)).collect()),
            admission: None,
            offer: None,
        },
    };
    let ledger = &setup.cluster.ledger.handle;
    let Ok(Ok(Reply::Held {
        hold, amount_won, ..
    })) = ledger.submit(hold).await
    else {
        panic!("held");
    };
    let confirm = Request {
        actor,
        key: IdempotencyKey::new(format!("{key}-pay")).expect("key"),
        command: Command::Confirm {
            performance: PerformanceId(performance),
            hold,
            payment_ref: format!("pay-{key}"),
            amount_won,
        },
    };
    let Ok(Ok(Reply::Confirmed { booking, .. })) = ledger.submit(confirm).await else {
        panic!("confirmed");
    };
    booking.0
}

/// Polls `path` until its `items` has `count` entries.
async fn items_eventually(setup: &ApiSetup, path: &str, token: &str, count: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let answer = call(setup.address, "GET", path, "", Some(token)).await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        let items = answer.body["items"].as_array().cloned().unwrap_or_default();
        if items.len() >= count || tokio::time::Instant::now() > deadline {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_see_their_bookings_with_what_cancelling_costs_now() {
    let setup = ApiSetup::start().await;
    let (_, performance) = setup.published_show("s@example.com", "123-45-67891").await;
    let (member, token) = setup.member("m@example.com").await;
    let booking = book(&setup, ActorId(member as u64), performance, &[0, 1], "m1").await;
    let items = items_eventually(&setup, "/api/v2/me/bookings", &token, 1).await;
    assert_eq!(items.len(), 1, "{items:?}");
    let item = &items[0];
    assert_eq!(item["booking"], booking.to_string());
    assert_eq!(item["paid_won"], 320_000);
    assert!(item["number"].is_null(), "members need no booking number");
    assert!(
        item["cancellation_deadline_ms"].as_u64().expect("deadline")
            < item["starts_at_ms"].as_u64().expect("start")
    );
    let tickets = item["tickets"].as_array().expect("tickets");
    assert_eq!(tickets[0]["place"], "A 1열 1번");
    assert_eq!(tickets[1]["place"], "A 1열 2번");
    assert_eq!(tickets[0]["price_won"], 160_000);
    assert_eq!(
        tickets[0]["cancellation_fee_now_won"], 0,
        "free on the day of booking"
    );

    // Another member sees none of it; guests and sellers are not members.
    let (_, other) = setup.member("o@example.com").await;
    assert_eq!(
        items_eventually(&setup, "/api/v2/me/bookings", &other, 0)
            .await
            .len(),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn guests_look_up_a_booking_by_number_and_phone_only() {
    // The loopback peer is a trusted proxy, so `X-Forwarded-For` below names other clients.
    let setup = ApiSetup::start_with(|config| {
        config.trusted_proxies = vec!["127.0.0.1".parse().expect("loopback")];
    })
    .await;
    let (_, performance) = setup.published_show("s@example.com", "123-45-67891").await;
    let device = "guest-device-0000001";
    let guest = test_keys().sign(&Claims::Guest {
        device: device.into(),
        exp_ms: picket_edge::clock::now_ms() + 3_600_000,
    });
    let contact = json!({"name": "홍길동", "phone": "010-9876-5432"}).to_string();
    assert_eq!(
        call(
            setup.address,
            "PUT",
            "/api/v2/guest/contact",
            &contact,
            Some(&guest)
        )
        .await
        .status,
        204
    );
    assert_eq!(
        call(
            setup.address,
            "PUT",
            "/api/v2/guest/contact",
            &contact,
            None
        )
        .await
        .status,
        401
    );
    let actor = picket_edge::identity::actor_of(&picket_edge::identity::guest(device));
    let booking = book(&setup, actor, performance, &[10], "g1").await;
    let items = items_eventually(&setup, "/api/v2/guest/bookings", &guest, 1).await;
    assert_eq!(items[0]["booking"], booking.to_string());
    let number = items[0]["number"]
        .as_str()
        .expect("a booking number")
        .to_owned();

    let lookup =
        |number: &str, phone: &str| format!("/api/v2/guest-bookings?number={number}&phone={phone}");
    let found = call(
        setup.address,
        "GET",
        &lookup(&number, "01098765432"),
        "",
        None,
    )
    .await;
    assert_eq!(found.status, 200, "{:?}", found.body);
    assert_eq!(found.body["tickets"][0]["place"], "B 1열 1번");
    assert_eq!(found.body["paid_won"], 140_000);

    let wrong_phone = call(
        setup.address,
        "GET",
        &lookup(&number, "010-0000-0000"),
        "",
        None,
    )
    .await;
    let wrong_number = call(
        setup.address,
        "GET",
        &lookup("P0000000000", "010-9876-5432"),
        "",
        None,
    )
    .await;
    assert_eq!(wrong_phone.status, 404);
    assert_eq!(
        wrong_phone.body, wrong_number.body,
        "the answers must not tell which was wrong"
    );
    // Wrong phones per number and client address back off after five: one used above (the
    // wrong number is another number), four more, and then even the right phone waits — from
    // this address. The guest elsewhere finds the booking at once, and here after the wait.
    for _ in 0..4 {
        assert_eq!(
            call(
                setup.address,
                "GET",
                &lookup(&number, "010-1111-1111"),
                "",
                None
            )
            .await
            .status,
            404
        );
    }
    let limited = call(
        setup.address,
        "GET",
        &lookup(&number, "010-9876-5432"),
        "",
        None,
    )
    .await;
    assert_eq!(limited.status, 429, "{:?}", limited.body);
    assert!(limited.head.contains("retry-after: 1"), "{}", limited.head);
    let from = |client: &'static str, path: String| async move {
        call_raw(
            setup.address,
            "GET",
            &path,
            &[("X-Forwarded-For", client)],
            b"",
        )
        .await
        .0
    };
    assert_eq!(
        from("198.51.100.9", lookup(&number, "010-9876-5432")).await,
        200,
        "another address is not held back by this one's wrong phones"
    );
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let found = call(
        setup.address,
        "GET",
        &lookup(&number, "010-9876-5432"),
        "",
        None,
    )
    .await;
    assert_eq!(found.status, 200, "after the wait: {:?}", found.body);

    // One address trying many numbers is stopped by its own limit.
    for n in 0..picket_api::bookings::LOOKUPS_PER_ADDRESS_BURST {
        assert_eq!(
            from("203.0.113.5", lookup(&format!("P{n:010}"), "010-1111-1111")).await,
            404,
            "lookup {n}"
        );
    }
    assert_eq!(
        from("203.0.113.5", lookup("P0000000099", "010-1111-1111")).await,
        429
    );
}

/// A performance opened through the operator route (`POST /api/v2/performances`, no catalog
/// show) is listed on my page with its places, prices, start and fees, like a published one:
/// the projection keeps the spec the ledger opened it with.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bookings_of_an_operator_opened_performance_show_places_prices_and_fees() {
    let setup = ApiSetup::start().await;
    let performance = 9_001;
    let spec = picket_tests::gateway::small_spec(performance, 40);
    let opened = call(
        setup.address,
        "POST",
        "/api/v2/performances",
        &picket_tests::gateway::spec_json(&spec).to_string(),
        Some(picket_tests::api::OPERATOR),
    )
    .await;
    assert_eq!(opened.status, 201, "{:?}", opened.body);
    let (member, token) = setup.member("m@example.com").await;
    let booking = book(&setup, ActorId(member as u64), performance, &[0, 21], "o1").await;
    let items = items_eventually(&setup, "/api/v2/me/bookings", &token, 1).await;
    assert_eq!(items.len(), 1, "{items:?}");
    let item = &items[0];
    assert_eq!(item["booking"], booking.to_string());
    assert_eq!(item["paid_won"], 220_000);
    assert_eq!(item["starts_at_ms"], spec.starts_at_ms, "{item}");
    assert!(
        item["cancellation_deadline_ms"].as_u64().expect("deadline") < spec.starts_at_ms,
        "{item}"
    );
    let tickets = item["tickets"].as_array().expect("tickets");
    let places: Vec<&str> = tickets.iter().filter_map(|t| t["place"].as_str()).collect();
    assert_eq!(places, ["A 1열 1번", "A 2열 2번"], "{item}");
    for ticket in tickets {
        assert_eq!(ticket["price_won"], 110_000, "{ticket}");
        // Booked today for a show a month away: free to cancel.
        assert_eq!(ticket["cancellation_fee_now_won"], 0, "{ticket}");
    }
}
