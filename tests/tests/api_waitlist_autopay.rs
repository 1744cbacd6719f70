//! The waitlist's auto-pay end to end (docs/payments.md, "Auto-pay"): members register cards at
//! the sandbox's billing page through the API, join a sold-out grade in `auto_pay` mode, and the
//! payments worker charges the first entry when a seat is freed — a declined card passes the
//! seat to the next entry, whose charge books it. A worker killed between the charge and the
//! `Confirm` (the sandbox holds the charge's answer) charges once and books once after a
//! restart, and a charge whose hold was released meanwhile is voided.

use std::time::Duration;

use picket_ledger_client::LedgerClient;
use picket_ledger_core::*;
use picket_payments::autopay::order_of;
use picket_payments::{PaymentProvider, PaymentState};
use picket_tests::api::{ApiSetup, call};
use picket_tests::pay::{CARD_DECLINED, CARD_OK, CLIENT_KEY};
use serde_json::{Value, json};

/// The seller's own buyer, who books every R seat (section B: seats 10 to 13).
const HOLDER: u64 = 900_001;
/// How long the worker may take to settle what a test waits for.
const SETTLE_WAIT: Duration = Duration::from_secs(30);

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

/// Registers `card` for the member as an app does: the API starts the registration, the
/// member submits the card at the sandbox's billing page, and the page's redirect to the API's
/// success URL completes it. Returns the method as the API answers it.
async fn register_card(setup: &ApiSetup, token: &str, card: &str) -> Value {
    let started = call(
        setup.address,
        "POST",
        "/api/v2/me/billing-methods",
        "",
        Some(token),
    )
    .await;
    assert_eq!(started.status, 201, "{:?}", started.body);
    let body = &started.body;
    assert_eq!(body["provider"]["client_key"], CLIENT_KEY);
    let billing_url = body["provider"]["billing_url"]
        .as_str()
        .expect("billing url");
    let sandbox = setup.cluster.sandbox.base_url();
    assert_eq!(billing_url, format!("{sandbox}/billing/authorize"));
    let customer_key = body["customer_key"].as_str().expect("customer key");
    assert!(customer_key.len() >= 32, "unguessable: {customer_key}");
    let origin = format!("http://{}", setup.address);
    let success_url = format!("{origin}{}", body["success_path"].as_str().expect("path"));
    let fail_url = format!("{origin}{}", body["fail_path"].as_str().expect("path"));
    let form = [
        ("clientKey", CLIENT_KEY),
        ("customerKey", customer_key),
        ("successUrl", &success_url),
        ("failUrl", &fail_url),
        ("cardNumber", card),
    ]
    .iter()
    .map(|(name, value)| format!("{name}={}", encode(value)))
    .collect::<Vec<_>>()
    .join("&");
    let (status, headers, page) = picket_tests::pay::call(
        setup.cluster.sandbox.address,
        "POST",
        "/billing/authorize",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &form,
    )
    .await;
    assert_eq!(status, 303, "{page}");
    let location = headers
        .into_iter()
        .find(|(name, _)| name == "location")
        .map(|(_, value)| value)
        .expect("a Location");
    let path = location
        .strip_prefix(&origin)
        .unwrap_or_else(|| panic!("back to the API's success URL: {location}"));
    let registered = call(setup.address, "GET", path, "", None).await;
    assert_eq!(registered.status, 200, "{:?}", registered.body);
    // The same redirect again (a reload) answers the same method.
    let again = call(setup.address, "GET", path, "", None).await;
    assert_eq!(
        (again.status, &again.body),
        (200, &registered.body),
        "a repeated redirect registers once"
    );
    registered.body
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn join_auto_pay(setup: &ApiSetup, performance: u64, token: &str, method: &Value) -> String {
    let body =
        json!({"grade": "R", "quantity": 1, "mode": "auto_pay", "billing_method": method["id"]});
    let joined = call(
        setup.address,
        "POST",
        &format!("/api/v2/performances/{performance}/waitlist"),
        &body.to_string(),
        Some(token),
    )
    .await;
    assert_eq!(joined.status, 201, "{:?}", joined.body);
    joined.body["entry"].as_str().expect("entry").to_owned()
}

/// The member's bookings of `performance` from "my page", once `count` are there (or after
/// [`SETTLE_WAIT`]).
async fn bookings_eventually(setup: &ApiSetup, token: &str, count: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + SETTLE_WAIT;
    loop {
        let answer = call(setup.address, "GET", "/api/v2/me/bookings", "", Some(token)).await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        let items = answer.body["items"].as_array().cloned().unwrap_or_default();
        if items.len() >= count || tokio::time::Instant::now() > deadline {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The hold of the member's open offer (from "my waitlist"), once there is one.
async fn offered_hold(setup: &ApiSetup, token: &str) -> HoldId {
    let deadline = tokio::time::Instant::now() + SETTLE_WAIT;
    loop {
        let answer = call(setup.address, "GET", "/api/v2/me/waitlist", "", Some(token)).await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        if let Some(hold) = answer.body["entries"][0]["offer"]["hold"].as_str() {
            return HoldId(hold.parse().expect("hold id"));
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no offer: {:?}",
            answer.body
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The provider's approvals (money taken) of auto-pay orders, from its transactions.
async fn approvals(setup: &ApiSetup) -> Vec<picket_payments::TransactionRecord> {
    let now = picket_edge::clock::now_ms();
    let listed = setup
        .cluster
        .sandbox
        .provider()
        .transactions(now - 3_600_000, now + 60_000)
        .await
        .expect("transactions");
    listed
        .into_iter()
        .filter(|t| t.order_id.ends_with("n0000000000000000") && t.state == PaymentState::Done)
        .collect()
}

fn ledger(setup: &ApiSetup) -> LedgerClient {
    LedgerClient::in_process(setup.cluster.ledger.handle.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_declined_card_passes_the_seat_on_and_the_next_card_books_it() {
    let setup = ApiSetup::start().await;
    setup.pay_through_sandbox();
    let _worker = setup.start_autopay();
    let (_, performance) = setup
        .published_show("owner@example.com", "123-45-67891")
        .await;
    let (booking, tickets) = sell_out_r(&setup, performance).await;
    let (_, first) = setup.member("first@example.com").await;
    let (_, second) = setup.member("second@example.com").await;

    let declining = register_card(&setup, &first, CARD_DECLINED).await;
    let good = register_card(&setup, &second, CARD_OK).await;
    assert_eq!(good["card"], "43300000****000*");
    let listed = call(
        setup.address,
        "GET",
        "/api/v2/me/billing-methods",
        "",
        Some(&second),
    )
    .await;
    assert_eq!(listed.body, json!({"methods": [good.clone()]}));
    let text = listed.body.to_string();
    assert!(
        !text.contains("billing_key") && !text.contains("customer"),
        "the billing key and customer key stay on the server: {text}"
    );
    // One member's method is no other's to name.
    let borrowed =
        json!({"grade": "R", "quantity": 1, "mode": "auto_pay", "billing_method": good["id"]});
    let refused = call(
        setup.address,
        "POST",
        &format!("/api/v2/performances/{performance}/waitlist"),
        &borrowed.to_string(),
        Some(&first),
    )
    .await;
    assert_eq!(
        (refused.status, &refused.body["code"]),
        (404, &json!("unknown_billing_method"))
    );
    let no_method = json!({"grade": "R", "quantity": 1, "mode": "auto_pay"});
    let refused = call(
        setup.address,
        "POST",
        &format!("/api/v2/performances/{performance}/waitlist"),
        &no_method.to_string(),
        Some(&first),
    )
    .await;
    assert_eq!(
        (refused.status, &refused.body["code"]),
        (422, &json!("invalid_request"))
    );

    join_auto_pay(&setup, performance, &first, &declining).await;
    join_auto_pay(&setup, performance, &second, &good).await;
    cancel_one(&setup, performance, booking, tickets[0]).await;

    // The first card is declined: the seat moves on and the second member's card books it.
    let booked = bookings_eventually(&setup, &second, 1).await;
    assert_eq!(booked.len(), 1, "the second member booked: {booked:?}");
    let item = &booked[0];
    assert_eq!(item["performance"], performance.to_string());
    assert_eq!(item["tickets"].as_array().map(Vec::len), Some(1));
    let paid_won = item["paid_won"].as_u64().expect("paid");
    assert!(
        bookings_eventually(&setup, &first, 0).await.is_empty(),
        "the declined member booked nothing"
    );
    let taken = approvals(&setup).await;
    assert_eq!(taken.len(), 1, "one charge went through: {taken:?}");
    assert_eq!(taken[0].amount_won, paid_won, "exactly the hold's amount");
    // Both entries ended: one booked, one whose charge failed.
    for token in [&first, &second] {
        let mine = call(setup.address, "GET", "/api/v2/me/waitlist", "", Some(token)).await;
        assert_eq!(mine.body["entries"], json!([]), "{:?}", mine.body);
    }

    // Deleting a method: gone from the list; deleting it again is 404.
    let id = good["id"].as_str().expect("id");
    let path = format!("/api/v2/me/billing-methods/{id}");
    let deleted = call(setup.address, "DELETE", &path, "", Some(&second)).await;
    assert_eq!(deleted.status, 204);
    let again = call(setup.address, "DELETE", &path, "", Some(&second)).await;
    assert_eq!(
        (again.status, &again.body["code"]),
        (404, &json!("unknown_billing_method"))
    );
    let listed = call(
        setup.address,
        "GET",
        "/api/v2/me/billing-methods",
        "",
        Some(&second),
    )
    .await;
    assert_eq!(listed.body, json!({"methods": []}));
}

/// Kills the worker once the charge went through at the provider and before its `Confirm`
/// (the sandbox holds the charge's answer), and checks the hold is still unpaid then.
async fn charge_then_kill(setup: &ApiSetup, performance: u64, token: &str) -> (HoldId, String) {
    let (booking, tickets) = sell_out_r(setup, performance).await;
    let method = register_card(setup, token, CARD_OK).await;
    let entry = join_auto_pay(setup, performance, token, &method).await;
    setup
        .cluster
        .sandbox
        .faults(&json!({"holdResponsesMs": 5_000}))
        .await;
    let worker = setup.start_autopay();
    cancel_one(setup, performance, booking, tickets[0]).await;
    let hold = offered_hold(setup, token).await;
    let order = order_of(PerformanceId(performance), hold).to_string();
    let provider = setup.cluster.sandbox.provider();
    let deadline = tokio::time::Instant::now() + SETTLE_WAIT;
    loop {
        if let Ok(record) = provider.payment_by_order(&order).await
            && record.state == PaymentState::Done
        {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "never charged");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    worker.abort();
    let _ = worker.await;
    let view = ledger(setup)
        .hold(PerformanceId(performance), hold)
        .await
        .expect("ledger")
        .expect("hold");
    assert_eq!(
        view.status,
        HoldStatus::Active,
        "killed between the charge and the Confirm"
    );
    setup.cluster.sandbox.faults(&json!({})).await;
    (hold, entry)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_between_charge_and_confirm_charges_once_and_books_once() {
    let setup = ApiSetup::start().await;
    setup.pay_through_sandbox();
    let (_, performance) = setup
        .published_show("owner@example.com", "123-45-67891")
        .await;
    let (_, token) = setup.member("waiting@example.com").await;
    let (hold, _) = charge_then_kill(&setup, performance, &token).await;

    // A new worker finds the hold again, charges under the same key (the provider answers with
    // the first charge; it may still be answering the first worker's) and books it.
    let _worker = setup.start_autopay();
    let booked = bookings_eventually(&setup, &token, 1).await;
    assert_eq!(booked.len(), 1, "one booking: {booked:?}");
    let taken = approvals(&setup).await;
    assert_eq!(taken.len(), 1, "one charge: {taken:?}");
    let view = ledger(&setup)
        .hold(PerformanceId(performance), hold)
        .await
        .expect("ledger")
        .expect("hold");
    assert!(matches!(view.status, HoldStatus::Confirmed(_)), "{view:?}");
    assert_eq!(
        view.payment_ref.as_deref(),
        Some(taken[0].payment_key.as_str())
    );
    assert_eq!(taken[0].amount_won, view.amount_won);
    assert_eq!(
        booked[0]["booking"],
        view.booking.expect("booking").0.to_string()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_charge_whose_hold_was_released_meanwhile_is_voided() {
    let setup = ApiSetup::start().await;
    setup.pay_through_sandbox();
    let (_, performance) = setup
        .published_show("owner@example.com", "123-45-67891")
        .await;
    let (_, token) = setup.member("waiting@example.com").await;
    let (hold, entry) = charge_then_kill(&setup, performance, &token).await;

    // The member leaves while the charge is unbooked: the hold is released.
    let left = call(
        setup.address,
        "DELETE",
        &format!("/api/v2/performances/{performance}/waitlist/{entry}"),
        "",
        Some(&token),
    )
    .await;
    assert_eq!(left.status, 200, "{:?}", left.body);
    assert_eq!(left.body["released"], hold.0.to_string());

    // A new worker finds the hold closed and the charge standing: it voids it.
    let _worker = setup.start_autopay();
    let provider = setup.cluster.sandbox.provider();
    let order = order_of(PerformanceId(performance), hold).to_string();
    let deadline = tokio::time::Instant::now() + SETTLE_WAIT;
    let record = loop {
        let record = provider.payment_by_order(&order).await.expect("the charge");
        if record.balance_won == 0 || tokio::time::Instant::now() > deadline {
            break record;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(record.state, PaymentState::Canceled, "{record:?}");
    assert_eq!(record.balance_won, 0);
    assert!(bookings_eventually(&setup, &token, 0).await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_payment_method_is_never_charged_and_the_seat_moves_on() {
    let setup = ApiSetup::start().await;
    setup.pay_through_sandbox();
    let _worker = setup.start_autopay();
    let (_, performance) = setup
        .published_show("owner@example.com", "123-45-67891")
        .await;
    let (booking, tickets) = sell_out_r(&setup, performance).await;
    let (_, first) = setup.member("first@example.com").await;
    let (_, second) = setup.member("second@example.com").await;
    let method = register_card(&setup, &first, CARD_OK).await;
    join_auto_pay(&setup, performance, &first, &method).await;
    // The second member waits in offer mode (the default).
    let joined = call(
        setup.address,
        "POST",
        &format!("/api/v2/performances/{performance}/waitlist"),
        &json!({"grade": "R", "quantity": 1}).to_string(),
        Some(&second),
    )
    .await;
    assert_eq!(joined.status, 201, "{:?}", joined.body);
    let id = method["id"].as_str().expect("id");
    let deleted = call(
        setup.address,
        "DELETE",
        &format!("/api/v2/me/billing-methods/{id}"),
        "",
        Some(&first),
    )
    .await;
    assert_eq!(deleted.status, 204);

    cancel_one(&setup, performance, booking, tickets[0]).await;
    // The first entry's charge fails without a call to the provider; the second is offered.
    offered_hold(&setup, &second).await;
    assert!(approvals(&setup).await.is_empty(), "nothing was charged");
    let mine = call(
        setup.address,
        "GET",
        "/api/v2/me/waitlist",
        "",
        Some(&first),
    )
    .await;
    assert_eq!(mine.body["entries"], json!([]), "{:?}", mine.body);
}
