//! A seller's money: the settlement of a show (JSON and CSV) from the bookings projection, and
//! the seller calling a performance off (everyone refunded in full, the performance closed).
//! Expected figures are worked out here from the show's prices, never read back from answers.

use std::time::Duration;

use picket_ledger_core::*;
use picket_tests::api::{ApiSetup, call, call_raw};
use picket_tests::gateway::Client;
use picket_tests::wait::until;
use serde_json::{Value, json};

/// The longest the projection or the read models may take to follow the ledger before it is a
/// failure.
const PATIENCE: Duration = Duration::from_secs(10);
/// Section A is the VIP grade of `published_show`.
const VIP_WON: u64 = 160_000;

async fn book(setup: &ApiSetup, actor: u64, performance: u64, seats: &[u32]) -> BookingId {
    let held = setup
        .submit(
            actor,
            &format!("hold-{actor}"),
            Command::Hold {
                performance: PerformanceId(performance),
                selection: Selection::Seats(seats.iter().map(|s| SeatId(*s)).collect()),
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
            actor,
            &format!("pay-{actor}"),
            Command::Confirm {
                performance: PerformanceId(performance),
                hold,
                payment_ref: format!("pay-{actor}"),
                amount_won,
            },
        )
        .await;
    let Ok(Reply::Confirmed { booking, .. }) = paid else {
        panic!("paid: {paid:?}");
    };
    booking
}

/// `actor` holds `seat` of `performance` without paying (the key `hold-<actor>`).
async fn hold_seat(setup: &ApiSetup, actor: u64, performance: u64, seat: u32) -> Outcome {
    let hold = Command::Hold {
        performance: PerformanceId(performance),
        selection: Selection::Seats(vec![SeatId(seat)]),
        admission: None,
        offer: None,
    };
    setup.submit(actor, &format!("hold-{actor}"), hold).await
}

/// A show published by `owner@example.com`: (show, its performance, the owner's session).
async fn owners_show(setup: &ApiSetup) -> (i64, u64, String) {
    let (show, performance) = setup
        .published_show("owner@example.com", "123-45-67891")
        .await;
    (show, performance, setup.sign_in("owner@example.com").await)
}

/// The settlement once its total refunds reach `refunds_won` (the projection follows the ledger
/// a moment behind).
async fn settlement_with(setup: &ApiSetup, show: i64, token: &str, refunds_won: u64) -> Value {
    until("the settlement's refunds", PATIENCE, async || {
        let answer = call(
            setup.address,
            "GET",
            &format!("/api/v2/shows/{show}/settlement"),
            "",
            Some(token),
        )
        .await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        let total = &answer.body["total"];
        let done = total["refunds_won"].as_u64() == Some(refunds_won)
            && total["bookings"].as_u64() == Some(2);
        done.then_some(answer.body.clone()).ok_or(answer.body)
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settlement_by_hand_then_the_seller_calls_the_performance_off() {
    let setup = ApiSetup::start().await;
    let (show, performance, owner) = owners_show(&setup).await;
    setup
        .published_show("other@example.com", "220-81-62517")
        .await;
    let other = setup.sign_in("other@example.com").await;

    // Two VIP tickets for one buyer, one for another who cancels it the same day (free: the
    // show is 20 days away).
    book(&setup, 41, performance, &[0, 1]).await;
    let cancelled = book(&setup, 42, performance, &[2]).await;
    let refund = setup
        .submit(
            42,
            "cancel-42",
            Command::Cancel {
                performance: PerformanceId(performance),
                booking: cancelled,
                tickets: Vec::new(),
            },
        )
        .await;
    assert!(
        matches!(refund, Ok(Reply::Cancelled { fee_won: 0, .. })),
        "{refund:?}"
    );

    let body = settlement_with(&setup, show, &owner, VIP_WON).await;
    let total = &body["total"];
    let sales = 3 * VIP_WON;
    assert_eq!(total["sales_won"], sales);
    assert_eq!(total["refunds_won"], VIP_WON);
    assert_eq!(total["cancellation_fees_won"], 0);
    assert_eq!(total["booking_fees_won"], 0);
    assert_eq!(total["platform_commission_won"], 0);
    assert_eq!(total["net_payable_won"], 2 * VIP_WON);
    // Invariant 6 on these figures: sales − refunds = revenue of the valid tickets + fees.
    let revenue = 2 * VIP_WON;
    assert_eq!(
        total["sales_won"].as_u64().unwrap() - total["refunds_won"].as_u64().unwrap(),
        revenue + total["cancellation_fees_won"].as_u64().unwrap()
    );
    assert_eq!(
        body["performances"][0]["performance"],
        performance.to_string()
    );

    let bearer = format!("Bearer {owner}");
    let (status, head, csv) = call_raw(
        setup.address,
        "GET",
        &format!("/api/v2/shows/{show}/settlement?format=csv"),
        &[("Authorization", &bearer)],
        b"",
    )
    .await;
    assert_eq!(status, 200);
    assert!(head.contains("content-type: text/csv"), "{head}");
    let text = String::from_utf8(csv).expect("utf-8");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some(
            "performance,starts_at_ms,bookings,sales_won,refunds_won,cancellation_fees_won,booking_fees_won,platform_commission_won,net_payable_won"
        )
    );
    assert!(
        text.contains(&format!(",2,{sales},{VIP_WON},0,0,0,{}\n", 2 * VIP_WON)),
        "{text}"
    );
    assert!(
        text.ends_with(&format!(
            "total,,2,{sales},{VIP_WON},0,0,0,{}\n",
            2 * VIP_WON
        )),
        "{text}"
    );

    // Another seller sees nothing and cancels nothing; a bad format is a typed error.
    let path = format!("/api/v2/shows/{show}/settlement");
    assert_eq!(
        call(setup.address, "GET", &path, "", Some(&other))
            .await
            .status,
        403
    );
    let bad = call(
        setup.address,
        "GET",
        &format!("{path}?format=xml"),
        "",
        Some(&owner),
    )
    .await;
    assert_eq!(
        (bad.status, bad.body["code"].as_str()),
        (422, Some("invalid_request"))
    );
    let cancel_path = format!("/api/v2/performances/{performance}/cancel");
    let reason = json!({"reason": "아티스트 건강 문제로 공연 취소"}).to_string();
    let refused = call(setup.address, "POST", &cancel_path, &reason, Some(&other)).await;
    assert_eq!(refused.status, 403, "{:?}", refused.body);
    let empty = json!({"reason": " "}).to_string();
    let empty = call(setup.address, "POST", &cancel_path, &empty, Some(&owner)).await;
    assert_eq!(empty.status, 422, "{:?}", empty.body);

    // Someone holds a seat when the seller calls the show off.
    let held = hold_seat(&setup, 43, performance, 3).await;
    assert!(matches!(held, Ok(Reply::Held { .. })), "{held:?}");
    let called_off = call(setup.address, "POST", &cancel_path, &reason, Some(&owner)).await;
    assert_eq!(called_off.status, 200, "{:?}", called_off.body);
    assert_eq!(called_off.body["holds_released"], 1);
    assert_eq!(called_off.body["bookings_cancelled"], 1);
    assert_eq!(called_off.body["refund_won"], 2 * VIP_WON);
    // Asked again: the same answer, nothing more cancelled.
    let again = call(setup.address, "POST", &cancel_path, &reason, Some(&owner)).await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(again.body["refund_won"], 2 * VIP_WON);
    // Closed to new holds.
    let late = hold_seat(&setup, 44, performance, 4).await;
    assert_eq!(late, Err(Rejection::PerformanceCancelled));

    // Everyone refunded in full: nothing payable, nothing kept.
    let body = settlement_with(&setup, show, &owner, sales).await;
    let total = &body["total"];
    assert_eq!(total["refunds_won"], sales);
    assert_eq!(total["cancellation_fees_won"], 0);
    assert_eq!(total["net_payable_won"], 0);
}

/// The show page's entry of `performance` once the API's read model says it is cancelled
/// (it follows the ledger a moment behind).
async fn cancelled_on_show_page(setup: &ApiSetup, show: i64, performance: u64) -> Value {
    let id = performance.to_string();
    until("the performance shown cancelled", PATIENCE, async || {
        let page = call(
            setup.address,
            "GET",
            &format!("/api/v2/shows/{show}"),
            "",
            None,
        )
        .await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        let entry = page.body["performances"]
            .as_array()
            .and_then(|all| all.iter().find(|p| p["id"].as_str() == Some(id.as_str())))
            .cloned()
            .expect("the performance");
        if entry["cancelled"] == true {
            Ok(entry)
        } else {
            Err(entry)
        }
    })
    .await
}

/// A performance called off shows nothing on sale wherever a buyer looks, although the call-off
/// released a hold and cancelled a booking, whose places would otherwise look free again: the
/// show page says it is cancelled with 0 left in every grade, and the live seat map says
/// cancelled with no place free, to a watcher who was there and to one who comes after.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_called_off_performance_shows_nothing_on_sale() {
    let setup = ApiSetup::start().await;
    let (show, performance, owner) = owners_show(&setup).await;
    book(&setup, 41, performance, &[0, 1]).await;
    let held = hold_seat(&setup, 43, performance, 3).await;
    assert!(matches!(held, Ok(Reply::Held { .. })), "{held:?}");
    // The venue of `published_show`: 10 seats in A, 4 in B and 100 standing places.
    let places = 10 + 4 + 100;
    let gateway = setup.cluster.address(0);
    let watch = json!({"type": "watch", "performance": performance.to_string()});
    let mut early = Client::guest(gateway, "watcher-device-0001").await;
    early.send(watch.clone()).await;
    let before = early.next_of("seats").await;
    assert_eq!(before["cancelled"], false, "{before}");
    assert_eq!(before["free"], places - 3, "{before}");

    let reason = json!({"reason": "공연장 사정으로 공연 취소"}).to_string();
    let cancel_path = format!("/api/v2/performances/{performance}/cancel");
    let called_off = call(setup.address, "POST", &cancel_path, &reason, Some(&owner)).await;
    assert_eq!(called_off.status, 200, "{:?}", called_off.body);

    let changed = loop {
        let changed = early.next_of("seats_changed").await;
        if changed["cancelled"] == true {
            break changed;
        }
    };
    assert_eq!(changed["free"], 0, "{changed}");
    assert_eq!(changed["zone_free"], json!([0]), "{changed}");
    let mut late = Client::guest(gateway, "watcher-device-0002").await;
    late.send(watch).await;
    let after = late.next_of("seats").await;
    assert_eq!(after["cancelled"], true, "{after}");
    assert_eq!(after["free"], 0, "{after}");
    assert_eq!(after["zone_free"], json!([0]), "{after}");
    // 14 seats take two bytes of bits, all 0 (none on sale): base64 "AAA=".
    assert_eq!(after["seat_free"], "AAA=", "{after}");

    let entry = cancelled_on_show_page(&setup, show, performance).await;
    let left: Vec<&Value> = entry["grades"]
        .as_array()
        .expect("grades")
        .iter()
        .map(|grade| &grade["left"])
        .collect();
    assert_eq!(left, vec![&json!(0); 3], "{entry}");
}
