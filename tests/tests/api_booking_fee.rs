//! The booking fee end to end (docs/payments.md, "The booking fee"): a seller sets it on the
//! show, the buyer sees it on the show and as its own checkout line, the provider is paid
//! exactly the checkout's total, and settlement shows the fees kept on their own line. Expected
//! figures are worked out here from the show's prices, never read back from answers.

use std::time::Duration;

use picket_ledger_core::*;
use picket_payments::PaymentProvider;
use picket_tests::api::{ApiSetup, call};
use picket_tests::pay::CARD_OK;
use serde_json::{Value, json};

/// Section A is the VIP grade of `published_show`.
const VIP_WON: u64 = 160_000;
const BOOKING_FEE_WON: u64 = 2_000;

/// Polls the settlement until its total refunds reach `refunds_won` (the projection follows
/// the ledger a moment behind).
async fn settlement_with(setup: &ApiSetup, show: i64, token: &str, refunds_won: u64) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let path = format!("/api/v2/shows/{show}/settlement");
        let answer = call(setup.address, "GET", &path, "", Some(token)).await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        if answer.body["total"]["refunds_won"].as_u64() == Some(refunds_won)
            || tokio::time::Instant::now() > deadline
        {
            return answer.body;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_booking_fee_is_shown_charged_refunded_on_the_day_and_settled() {
    let setup = ApiSetup::start().await;
    setup.pay_through_sandbox();
    let (show, performance) = setup
        .published_show_with(
            "owner@example.com",
            "123-45-67891",
            json!({"booking_fee_won": BOOKING_FEE_WON}),
        )
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
    assert_eq!(detail.body["booking_fee_won"], BOOKING_FEE_WON);
    // The buyer reads the cancellation rule before booking: the show set none, so a musical
    // gets the Korean standard for performances (a flat 4,000원 from 10 days out, capped at
    // 10 %; 10/20/30 % in the last 9 days; closing 17:00 the day before), and the booking fee
    // comes back only on the day of booking or a call-off.
    let cancellation = &detail.body["cancellation"];
    assert_eq!(cancellation["fees"]["flat_fee_won"], 4_000);
    assert_eq!(cancellation["fees"]["flat_fee_cap_percent"], 10);
    assert_eq!(cancellation["fees"]["deadline_minute_of_day"], 17 * 60);
    let percents: Vec<u64> = cancellation["fees"]["tiers"]
        .as_array()
        .expect("tiers")
        .iter()
        .map(|t| t["percent"].as_u64().expect("percent"))
        .collect();
    assert_eq!(percents, [10, 20, 30]);
    assert_eq!(
        cancellation["booking_fee_refund"],
        "booking_day_or_call_off"
    );

    // A member holds two VIP seats: the amount is the prices plus one fee per seat.
    let (buyer, token) = setup.member("buyer@example.com").await;
    let buyer = buyer as u64;
    let held = setup
        .submit(
            buyer,
            "hold",
            Command::Hold {
                performance: PerformanceId(performance),
                selection: Selection::Seats(vec![SeatId(0), SeatId(1)]),
                admission: None,
                offer: None,
            },
        )
        .await;
    let Ok(Reply::Held {
        hold,
        amount_won,
        booking_fee_won,
        ..
    }) = held
    else {
        panic!("held: {held:?}");
    };
    let total = 2 * VIP_WON + 2 * BOOKING_FEE_WON;
    assert_eq!((amount_won, booking_fee_won), (total, 2 * BOOKING_FEE_WON));

    // The checkout shows it as its own line, and its total is what the provider is asked for.
    let asked = json!({"sale": performance.to_string(), "hold": hold.0.to_string()});
    let checkout = call(
        setup.address,
        "POST",
        "/api/v2/checkout",
        &asked.to_string(),
        Some(&token),
    )
    .await;
    assert_eq!(checkout.status, 200, "{:?}", checkout.body);
    let breakdown = &checkout.body["breakdown"];
    assert_eq!(breakdown["booking_fee_won"], 2 * BOOKING_FEE_WON);
    assert_eq!(breakdown["total_won"], total);
    assert_eq!(checkout.body["amount_won"], total);
    for place in breakdown["places"].as_array().expect("places") {
        assert_eq!(
            (&place["price_won"], &place["booking_fee_won"]),
            (&json!(VIP_WON), &json!(BOOKING_FEE_WON))
        );
    }
    assert_eq!(
        checkout.body["cancellation"]["booking_fee_refund"],
        "booking_day_or_call_off"
    );
    // The sandbox takes the checkout's total; the ledger books that very amount.
    let order_id = checkout.body["order_id"].as_str().expect("order id");
    let order_name = checkout.body["order_name"].as_str().expect("order name");
    let payment_key = setup
        .cluster
        .sandbox
        .pay(order_id, order_name, total, CARD_OK)
        .await
        .expect("paid");
    let approved = setup
        .cluster
        .sandbox
        .provider()
        .payment(&payment_key)
        .await
        .expect("looked up");
    assert_eq!(approved.total_won, total);
    let paid = setup
        .submit(
            buyer,
            "pay",
            Command::Confirm {
                performance: PerformanceId(performance),
                hold,
                payment_ref: payment_key,
                amount_won: approved.total_won,
            },
        )
        .await;
    let Ok(Reply::Confirmed {
        booking, tickets, ..
    }) = paid
    else {
        panic!("paid: {paid:?}");
    };

    // Cancelled the same day (the show is 20 days away): the ticket and its booking fee back.
    let cancelled = setup
        .submit(
            buyer,
            "cancel",
            Command::Cancel {
                performance: PerformanceId(performance),
                booking,
                tickets: vec![tickets[0]],
            },
        )
        .await;
    let Ok(Reply::Cancelled {
        refund_won,
        fee_won,
        booking_fee_kept_won,
        ..
    }) = cancelled
    else {
        panic!("cancelled: {cancelled:?}");
    };
    let refund = VIP_WON + BOOKING_FEE_WON;
    assert_eq!((refund_won, fee_won, booking_fee_kept_won), (refund, 0, 0));

    let body = settlement_with(&setup, show, &owner, refund).await;
    let figures = &body["total"];
    assert_eq!(figures["sales_won"], total);
    assert_eq!(figures["refunds_won"], refund);
    assert_eq!(figures["cancellation_fees_won"], 0);
    assert_eq!(figures["booking_fees_won"], BOOKING_FEE_WON);
    assert_eq!(figures["net_payable_won"], total - refund);
    // Invariant 6: sales − refunds = the valid ticket's price + fees + booking fees kept.
    assert_eq!(total - refund, VIP_WON + BOOKING_FEE_WON);
}
