//! Paying for a hold over the socket, end to end: the gateway confirms every payment with the
//! payment sandbox through the production Toss adapter, for the hold's amount as the ledger has
//! it, and books only what the provider approved (invariant 11).

use std::sync::Arc;
use std::time::Duration;

use picket_edge::clock::now_ms;
use picket_edge::token::{Claims, Key, KeyRing};
use picket_ledger_core::{HoldStatus, HoldView};
use picket_payments::{PaymentProvider, PaymentRecord, PaymentState};
use picket_room::QueueStore;
use picket_room::memory::MemoryStore;
use picket_tests::gateway::{
    Client, Cluster, configure_sale, sale_settings, small_spec, test_keys,
};
use picket_tests::pay::{CARD_DECLINED, CARD_OK, Paid, call, query_value};
use picket_tests::wait::until;
use serde_json::{Value, json};

const SALE: u64 = 77;
/// The longest a wait for a follower, a webhook or the provider may take before it is a failure.
const PATIENCE: Duration = Duration::from_secs(20);

fn fast(config: &mut picket_gateway::GatewayConfig) {
    config.push_interval = Duration::from_millis(200);
    config.controller_interval = Duration::from_millis(50);
    // These buyers try many payments in a row on purpose; the attempt rate is another test's.
    config.booking_attempts_per_sec = 100;
    config.booking_attempts_burst = 100;
}

async fn open_sale() -> Cluster {
    open_sale_with(Cluster::start(1, Arc::new(MemoryStore::new()), fast)).await
}

/// The sale opened on `cluster` (started as the test needs it).
async fn open_sale_with(cluster: impl std::future::Future<Output = Cluster>) -> Cluster {
    open_spec_with(cluster, small_spec(SALE, 40)).await
}

/// `spec` (of performance `SALE`) opened on `cluster`, and its sale.
async fn open_spec_with(
    cluster: impl std::future::Future<Output = Cluster>,
    spec: picket_ledger_core::PerformanceSpec,
) -> Cluster {
    let cluster = cluster.await;
    cluster.open(spec).await;
    let settings = sale_settings(now_ms(), 50, 100);
    let (status, body) = configure_sale(cluster.address(0), SALE, &settings).await;
    assert_eq!(status, 200, "{body}");
    cluster
}

/// A buyer admitted to the sale and holding `seats`: (client, admission token, hold, amount).
async fn holding(cluster: &Cluster, n: usize, seats: &[u32]) -> (Client, String, u64, u64) {
    let mut buyer = Client::guest(cluster.address(0), &format!("pay-device-{n:08}")).await;
    buyer
        .send(json!({"type": "join", "sale": SALE.to_string()}))
        .await;
    let token = buyer.next_of("admitted").await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let id = format!("h-{n}");
    buyer
        .send(
            json!({"type": "hold", "id": id, "sale": SALE.to_string(), "key": format!("hold-{n}"),
            "admission": token, "selection": {"Seats": seats}}),
        )
        .await;
    let held = buyer.answer_to(&id).await;
    let hold = picket_tests::ids::id(&held["outcome"]["Ok"]["Held"]["hold"]);
    let amount = held["outcome"]["Ok"]["Held"]["amount_won"]
        .as_u64()
        .expect("amount");
    (buyer, token, hold, amount)
}

/// A buyer admitted, holding `seats` and having paid for them at the sandbox, not confirmed yet:
/// (client, admission token, hold, the payment).
async fn paid_hold(cluster: &Cluster, n: usize, seats: &[u32]) -> (Client, String, u64, Paid) {
    let (mut buyer, token, hold, amount) = holding(cluster, n, seats).await;
    let paid = check_out_and_pay(cluster, &mut buyer, hold).await;
    assert_eq!(
        paid.amount_won, amount,
        "the checkout charges the hold's amount"
    );
    (buyer, token, hold, paid)
}

/// The buyer checks `hold` out over the socket and pays it at the sandbox with a good card.
async fn check_out_and_pay(cluster: &Cluster, buyer: &mut Client, hold: u64) -> Paid {
    let checkout = buyer.checkout(SALE, hold).await;
    cluster
        .sandbox
        .pay_checkout(&checkout, CARD_OK)
        .await
        .expect("authorised")
}

fn booking_of(answer: &Value) -> u64 {
    assert!(
        answer["outcome"]["Ok"]["Confirmed"].is_object(),
        "not booked: {answer}"
    );
    picket_tests::ids::id(&answer["outcome"]["Ok"]["Confirmed"]["booking"])
}

fn error_code(answer: &Value) -> &str {
    assert_eq!(answer["type"], "error", "{answer}");
    answer["code"].as_str().expect("code")
}

/// Seats of the sale that are not on sale: held or sold.
async fn taken(cluster: &Cluster) -> usize {
    let subscription = cluster.ledger.handle.subscribe().await.expect("ledger");
    subscription
        .availability
        .iter()
        .find(|a| a.performance.0 == SALE)
        .expect("the sale")
        .seat_free
        .iter()
        .filter(|free| !**free)
        .count()
}

/// What is shown is what is charged: the checkout's total is the ledger's amount for the hold,
/// the buyer pays it at the sandbox, and the confirmed booking is for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pay_and_book() {
    let cluster = open_sale().await;
    let (mut buyer, token, hold, amount) = holding(&cluster, 1, &[0, 1]).await;
    let checkout = buyer.checkout(SALE, hold).await;
    assert_eq!(checkout["type"], "checkout", "{checkout}");
    assert_eq!(checkout["amount_won"], amount);
    assert_eq!(checkout["breakdown"]["total_won"], amount);
    let places = checkout["breakdown"]["places"].as_array().expect("places");
    assert_eq!(places.len(), 2);
    let summed: u64 = places
        .iter()
        .map(|p| p["price_won"].as_u64().expect("price"))
        .sum();
    assert_eq!(summed, amount);
    assert_eq!(
        checkout["provider"]["client_key"],
        picket_tests::pay::CLIENT_KEY
    );
    assert!(checkout["cancellation"]["deadline_ms"].as_u64().is_some());

    let Paid {
        order_id,
        payment_key,
        ..
    } = cluster
        .sandbox
        .pay_checkout(&checkout, CARD_OK)
        .await
        .expect("authorised");
    let answer = buyer
        .confirm(SALE, &token, hold, "pay-1", &payment_key, &order_id)
        .await;
    let booking = booking_of(&answer);
    assert!(booking > 0);
    assert_eq!(answer["outcome"]["Ok"]["Confirmed"]["amount_won"], amount);
    let record = cluster
        .sandbox
        .provider()
        .payment(&payment_key)
        .await
        .expect("the provider's record");
    assert_eq!(record.total_won, amount);
    assert_eq!(record.state, PaymentState::Done);
}

/// Today's defect: a confirm naming a made-up payment booked seats. A made-up payment key is
/// `payment_not_found`, the old client-chosen `payment_ref`/`amount_won` is `invalid_field`, and
/// nothing is booked; the hold is still there to be paid for real.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_made_up_payment_books_nothing() {
    let cluster = open_sale().await;
    let (mut buyer, token, hold, amount) = holding(&cluster, 1, &[0]).await;
    buyer
        .send(
            json!({"type": "confirm", "id": "old", "sale": SALE.to_string(), "key": "k-old",
            "admission": token, "hold": hold.to_string(), "payment_ref": "made-up",
            "amount_won": amount}),
        )
        .await;
    let old = buyer.answer_to("old").await;
    assert_eq!(error_code(&old), "invalid_field");

    let checkout = buyer.checkout(SALE, hold).await;
    let order_id = checkout["order_id"].as_str().expect("order").to_owned();
    let answer = buyer
        .confirm(
            SALE,
            &token,
            hold,
            "k-made-up",
            "tgen_madeup0000000000",
            &order_id,
        )
        .await;
    assert_eq!(error_code(&answer), "payment_not_found");
    assert_eq!(taken(&cluster).await, 1, "only the hold's seat is taken");

    let paid = buyer
        .pay(&cluster.sandbox, SALE, &token, hold, "k-real", CARD_OK)
        .await;
    booking_of(&paid);
}

/// A declined card leaves the hold: the buyer pays with another card and books.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn declined_then_another_card_books() {
    let cluster = open_sale().await;
    let (mut buyer, token, hold, _) = holding(&cluster, 1, &[0]).await;
    let declined = buyer
        .pay(&cluster.sandbox, SALE, &token, hold, "k1", CARD_DECLINED)
        .await;
    assert_eq!(error_code(&declined), "payment_declined");
    assert_eq!(
        declined["provider_code"], "REJECT_CARD_COMPANY",
        "{declined}"
    );
    let paid = buyer
        .pay(&cluster.sandbox, SALE, &token, hold, "k2", CARD_OK)
        .await;
    booking_of(&paid);
}

/// Another order's real payment key does not pay this hold; neither does a payment of another
/// amount than the hold's; nor may a buyer pay another buyer's hold.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn borrowed_keys_other_amounts_and_other_buyers_holds_are_refused() {
    let cluster = open_sale().await;
    let (mut alice, alice_token, alice_hold, amount) = holding(&cluster, 1, &[0]).await;
    let (mut bob, bob_token, bob_hold, _) = holding(&cluster, 2, &[1]).await;

    // Bob pays his own order; Alice presents Bob's payment key with her order.
    let Paid {
        order_id: bob_order,
        payment_key: bob_key,
        ..
    } = check_out_and_pay(&cluster, &mut bob, bob_hold).await;
    let alice_checkout = alice.checkout(SALE, alice_hold).await;
    let alice_order = alice_checkout["order_id"]
        .as_str()
        .expect("order")
        .to_owned();
    let borrowed = alice
        .confirm(SALE, &alice_token, alice_hold, "a1", &bob_key, &alice_order)
        .await;
    assert_eq!(error_code(&borrowed), "payment_not_found");
    // Bob's order id with Alice's hold does not name her hold.
    let mismatched = alice
        .confirm(SALE, &alice_token, alice_hold, "a2", &bob_key, &bob_order)
        .await;
    assert_eq!(error_code(&mismatched), "payment_not_found");

    // Alice authorises less than her hold's amount.
    let cheap_key = cluster
        .sandbox
        .pay(&alice_order, "S 1매", amount - 1_000, CARD_OK)
        .await
        .expect("authorised");
    let cheap = alice
        .confirm(
            SALE,
            &alice_token,
            alice_hold,
            "a3",
            &cheap_key,
            &alice_order,
        )
        .await;
    assert_eq!(error_code(&cheap), "payment_amount_mismatch");

    // Bob tries to check out and pay Alice's hold.
    let theirs = bob.checkout(SALE, alice_hold).await;
    assert_eq!(error_code(&theirs), "not_your_hold");
    let Paid {
        order_id: alice_order_for_bob,
        payment_key: alice_key,
        ..
    } = check_out_and_pay(&cluster, &mut alice, alice_hold).await;
    let stolen = bob
        .confirm(
            SALE,
            &bob_token,
            alice_hold,
            "b1",
            &alice_key,
            &alice_order_for_bob,
        )
        .await;
    assert_eq!(error_code(&stolen), "not_your_hold");
    assert_eq!(
        taken(&cluster).await,
        2,
        "nothing was booked: two seats held"
    );

    // Alice's own confirm of that payment books; Bob's payment books his.
    booking_of(
        &alice
            .confirm(
                SALE,
                &alice_token,
                alice_hold,
                "a4",
                &alice_key,
                &alice_order_for_bob,
            )
            .await,
    );
    booking_of(
        &bob.confirm(SALE, &bob_token, bob_hold, "b2", &bob_key, &bob_order)
            .await,
    );
}

/// A paid confirm replayed under a new client key (and a new admission) gets the same booking:
/// the ledger's key is the order's, not the client's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirm_replayed_with_a_new_key_books_once() {
    let cluster = open_sale().await;
    let (mut buyer, token, hold, paid) = paid_hold(&cluster, 1, &[0]).await;
    let Paid {
        order_id,
        payment_key,
        ..
    } = paid;
    let first = buyer
        .confirm(SALE, &token, hold, "first", &payment_key, &order_id)
        .await;
    let booking = booking_of(&first);
    buyer
        .send(json!({"type": "join", "sale": SALE.to_string()}))
        .await;
    let again = buyer.next_of("admitted").await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let replayed = buyer
        .confirm(SALE, &again, hold, "second", &payment_key, &order_id)
        .await;
    assert_eq!(booking_of(&replayed), booking);
    assert_eq!(replayed["outcome"], first["outcome"]);
    assert_eq!(taken(&cluster).await, 1);
}

/// A payment approved for a hold the ledger will not book (released here; expired is the
/// same rejection path) is voided at the provider at once, and the buyer is told why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paid_for_a_released_hold_is_voided() {
    let cluster = open_sale().await;
    let (mut buyer, token, hold, paid) = paid_hold(&cluster, 1, &[0]).await;
    let Paid {
        order_id,
        payment_key,
        ..
    } = paid;
    buyer
        .send(
            json!({"type": "release", "id": "r", "sale": SALE.to_string(), "key": "rel",
            "admission": token, "hold": hold.to_string()}),
        )
        .await;
    let released = buyer.answer_to("r").await;
    assert!(
        released["outcome"]["Ok"]["Released"].is_object(),
        "{released}"
    );
    let answer = buyer
        .confirm(SALE, &token, hold, "late", &payment_key, &order_id)
        .await;
    assert_eq!(error_code(&answer), "payment_refunded");
    assert_eq!(answer["reason"], "unknown_hold", "{answer}");
    let record = cluster
        .sandbox
        .provider()
        .payment(&payment_key)
        .await
        .expect("record");
    assert_eq!(record.balance_won, 0, "voided in full: {record:?}");
    assert_eq!(taken(&cluster).await, 0);
}

/// The provider failing (5xx) is `payment_unavailable` with a retry hint; the retry books.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn provider_failure_then_success_on_retry() {
    let cluster = open_sale().await;
    let (mut buyer, token, hold, paid) = paid_hold(&cluster, 1, &[0]).await;
    let Paid {
        order_id,
        payment_key,
        ..
    } = paid;
    cluster
        .sandbox
        .faults(&json!({"failNextCalls": 1000}))
        .await;
    let failed = buyer
        .confirm(SALE, &token, hold, "try-1", &payment_key, &order_id)
        .await;
    assert_eq!(error_code(&failed), "payment_unavailable");
    assert!(failed["retry_after_ms"].as_u64().is_some(), "{failed}");
    cluster.sandbox.faults(&json!({})).await;
    let retried = buyer
        .confirm(SALE, &token, hold, "try-2", &payment_key, &order_id)
        .await;
    booking_of(&retried);
}

/// The ledger's view of `hold` of the sale.
async fn hold_view(cluster: &Cluster, hold: u64) -> HoldView {
    cluster
        .ledger
        .handle
        .hold(
            picket_ledger_core::PerformanceId(SALE),
            picket_ledger_core::HoldId(hold),
        )
        .await
        .expect("ledger")
        .expect("the hold")
}

/// The booking of `hold`, once the ledger has one (the webhook path books after answering).
async fn booked_in_ledger(cluster: &Cluster, hold: u64) -> u64 {
    until("the hold booked", PATIENCE, async || {
        let view = hold_view(cluster, hold).await;
        view.booking.map(|booking| booking.0).ok_or(view)
    })
    .await
}

/// The buyer's app approved the payment and vanished before booking (a crash between the two):
/// the provider's webhook books it; the app's late confirm (and duplicate webhooks) get the
/// same booking — the client path and the webhook path book once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_and_the_client_racing_book_once() {
    let cluster = open_sale().await;
    let (mut buyer, token, hold, paid) = paid_hold(&cluster, 1, &[0]).await;
    let Paid {
        order_id,
        payment_key,
        amount_won: amount,
        ..
    } = paid;
    cluster
        .sandbox
        .faults(&json!({"duplicateWebhooks": true}))
        .await;
    let provider = cluster.sandbox.provider();
    provider
        .confirm(
            &payment_key,
            &order_id,
            amount,
            "the-app-approved-then-crashed",
        )
        .await
        .expect("approved");
    let booking = booked_in_ledger(&cluster, hold).await;
    let late = buyer
        .confirm(SALE, &token, hold, "late", &payment_key, &order_id)
        .await;
    assert_eq!(booking_of(&late), booking);
    assert_eq!(taken(&cluster).await, 1);
    let record = provider.payment(&payment_key).await.expect("record");
    assert_eq!(
        (record.total_won, record.balance_won),
        (amount, amount),
        "booked, so never voided"
    );
}

/// The buyer pays at the sandbox's checkout and their app vanishes before `confirm`: the
/// sandbox's webhook on authorisation (its extension; on by default) reaches the API, which
/// confirms the payment for the hold's amount and books it. A confirm the app sends later
/// answers that booking, and no second one is made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_webhook_on_authorisation_books_when_the_app_never_confirms() {
    let store: Arc<dyn QueueStore> = Arc::new(MemoryStore::new());
    // The sandbox's own defaults: webhooks on authorisation included.
    let cluster = open_sale_with(Cluster::start_configured(
        1,
        store,
        fast,
        |_| {},
        |_| {},
        |_| {},
    ))
    .await;
    let (mut buyer, token, hold, paid) = paid_hold(&cluster, 1, &[0]).await;
    let Paid {
        order_id,
        payment_key,
        amount_won: amount,
        ..
    } = paid;
    // No confirm from the app: only the webhook can book it.
    let booking = booked_in_ledger(&cluster, hold).await;
    assert_eq!(taken(&cluster).await, 1);
    let record = cluster
        .sandbox
        .provider()
        .payment(&payment_key)
        .await
        .expect("record");
    assert_eq!(record.state, PaymentState::Done);
    assert_eq!(
        (record.total_won, record.balance_won),
        (amount, amount),
        "confirmed for the hold's amount, never voided"
    );
    let journalled = journalled_bookings(&cluster, hold).await;
    assert_eq!(journalled.len(), 1, "{journalled:?}");
    let (_, tickets) = &journalled[0];
    let late = buyer
        .confirm(SALE, &token, hold, "late-app", &payment_key, &order_id)
        .await;
    assert_eq!(booking_of(&late), booking, "the same booking, not a second");
    assert_eq!(&tickets_of(&late), tickets, "{late}");
    let (status, paid) = success_route(&cluster, &token, &payment_key, &order_id, amount).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(picket_tests::ids::id(&paid["booking"]), booking, "{paid}");
    assert_eq!(&id_list(&paid["tickets"]), tickets, "{paid}");
    assert_eq!(journalled_bookings(&cluster, hold).await.len(), 1);
    assert_eq!(taken(&cluster).await, 1);
}

/// The bookings the ledger journalled for `hold`, each with its tickets (numbered on from the
/// first, one per place of the hold).
async fn journalled_bookings(cluster: &Cluster, hold: u64) -> Vec<(u64, Vec<u64>)> {
    let places = cluster
        .ledger
        .handle
        .hold(
            picket_ledger_core::PerformanceId(SALE),
            picket_ledger_core::HoldId(hold),
        )
        .await
        .expect("ledger")
        .expect("the hold")
        .places
        .len() as u64;
    let mut found = Vec::new();
    let mut after = 0;
    loop {
        let entries = cluster
            .ledger
            .handle
            .entries_after(after, 1_000)
            .await
            .expect("journal");
        let Some(last) = entries.last() else {
            return found;
        };
        after = last.seq;
        for event in entries.iter().flat_map(|entry| &entry.events) {
            if let picket_ledger_core::Event::BookingConfirmed {
                hold: booked,
                booking,
                first_ticket,
                ..
            } = event
                && booked.0 == hold
            {
                let tickets = (first_ticket.0..first_ticket.0 + places).collect();
                found.push((booking.0, tickets));
            }
        }
    }
}

fn id_list(value: &Value) -> Vec<u64> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not a list of ids: {value}"))
        .iter()
        .map(picket_tests::ids::id)
        .collect()
}

fn tickets_of(answer: &Value) -> Vec<u64> {
    id_list(&answer["outcome"]["Ok"]["Confirmed"]["tickets"])
}

/// The browser comes back to the success URL the provider redirects to.
async fn success_route(
    cluster: &Cluster,
    admission: &str,
    payment_key: &str,
    order_id: &str,
    amount: u64,
) -> (u16, Value) {
    let path = format!(
        "/api/v2/payments/success?admission={admission}&paymentKey={payment_key}&orderId={order_id}&amount={amount}"
    );
    let (status, _, body) =
        picket_tests::pay::call(cluster.address(0), "GET", &path, &[], "").await;
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// A cluster whose sandbox sends the webhook on authorisation (as `picket up`'s), holding the
/// provider's answers to confirms for `hold_ms` after carrying them out, and delaying each
/// webhook by `webhook_delay_ms`.
async fn racing_sandbox(hold_ms: u64, webhook_delay_ms: u64) -> Cluster {
    let store: Arc<dyn QueueStore> = Arc::new(MemoryStore::new());
    let cluster = open_sale_with(Cluster::start_configured(
        1,
        store,
        fast,
        |_| {},
        |_| {},
        |_| {},
    ))
    .await;
    cluster
        .sandbox
        .faults(&json!({"holdResponsesMs": hold_ms, "webhookDelayMs": webhook_delay_ms}))
        .await;
    cluster
}

/// Pays `hold` at the sandbox and waits until the webhook on authorisation has had the payment
/// confirmed at the provider (its answer still held there): the webhook's confirm is in flight.
async fn paid_and_confirming(
    cluster: &Cluster,
    buyer: &mut Client,
    hold: u64,
    amount: u64,
) -> (String, String) {
    let checkout = buyer.checkout(SALE, hold).await;
    let order_id = checkout["order_id"].as_str().expect("order").to_owned();
    let payment_key = cluster
        .sandbox
        .pay(&order_id, "S 1매", amount, CARD_OK)
        .await
        .expect("authorised");
    let provider = cluster.sandbox.provider();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let record = provider.payment(&payment_key).await.expect("record");
        if record.state == picket_payments::PaymentState::Done {
            return (payment_key, order_id);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the webhook never confirmed the payment: {record:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The race `picket up` had under load: the webhook on authorisation confirms the payment at
/// the provider and, while that confirm is still in flight, the app's own `confirm` (or the
/// browser's success URL) arrives. The late one is answered with the booking the webhook made —
/// its id and tickets — and the ledger has exactly one booking.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_confirm_that_loses_the_race_to_the_webhook_gets_its_booking() {
    // The webhook's confirm answer is held 3 s; the approval's own webhook comes 3 s after it.
    let cluster = racing_sandbox(3_000, 3_000).await;
    let (mut app, token, app_hold, amount) = holding(&cluster, 1, &[0]).await;
    let (payment_key, order_id) = paid_and_confirming(&cluster, &mut app, app_hold, amount).await;
    let late = app
        .confirm(SALE, &token, app_hold, "late", &payment_key, &order_id)
        .await;
    let told = booking_of(&late);
    let journalled = journalled_bookings(&cluster, app_hold).await;
    assert_eq!(journalled.len(), 1, "{journalled:?}");
    let (booking, tickets) = &journalled[0];
    assert_eq!(told, *booking, "{late}");
    assert_eq!(&tickets_of(&late), tickets, "{late}");
    assert_eq!(late["outcome"]["Ok"]["Confirmed"]["amount_won"], amount);

    let (mut browser, browser_token, browser_hold, amount) = holding(&cluster, 2, &[1]).await;
    let (payment_key, order_id) =
        paid_and_confirming(&cluster, &mut browser, browser_hold, amount).await;
    let (status, paid) =
        success_route(&cluster, &browser_token, &payment_key, &order_id, amount).await;
    assert_eq!(status, 200, "{paid}");
    let journalled = journalled_bookings(&cluster, browser_hold).await;
    assert_eq!(journalled.len(), 1, "{journalled:?}");
    let (booking, tickets) = &journalled[0];
    assert_eq!(picket_tests::ids::id(&paid["booking"]), *booking, "{paid}");
    assert_eq!(&id_list(&paid["tickets"]), tickets, "{paid}");
    assert_eq!(taken(&cluster).await, 2);
}

/// Korean time as the provider writes it: `yyyy-MM-ddTHH:mm:ss+09:00`.
fn kst(ms: u64) -> String {
    let secs = ms / 1_000 + 9 * 3_600;
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    // Days since 1970-01-01 to a civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}+09:00",
        rest / 3_600,
        rest / 60 % 60,
        rest % 60
    )
}

async fn post_webhook(
    cluster: &Cluster,
    body: &str,
    signature: &str,
    time: &str,
    id: &str,
) -> (u16, Value) {
    let (status, _, answer) = picket_tests::pay::call(
        cluster.address(0),
        "POST",
        "/api/v2/payments/webhook",
        &[
            ("Content-Type", "application/json"),
            ("tosspayments-webhook-signature", signature),
            ("tosspayments-webhook-transmission-time", time),
            ("tosspayments-webhook-transmission-id", id),
            ("tosspayments-webhook-transmission-retried-count", "0"),
        ],
        body,
    )
    .await;
    (status, serde_json::from_str(&answer).unwrap_or(Value::Null))
}

/// A webhook with a bad signature is refused (401) and changes nothing; a signed one is
/// handled once per transmission id (a replay is a duplicate, ignored).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_or_replayed_webhooks_change_nothing() {
    let cluster = open_sale().await;
    let (_buyer, _token, hold, paid) = paid_hold(&cluster, 1, &[0]).await;
    let Paid {
        order_id,
        payment_key,
        ..
    } = paid;
    let body =
        json!({"eventType": "PAYMENT_STATUS_CHANGED", "createdAt": "2026-11-30T10:19:21.000000",
        "data": {"paymentKey": payment_key, "orderId": order_id, "status": "DONE"}})
        .to_string();
    let time = kst(now_ms());
    let forged = picket_sandbox_pay::signature("not-the-webhook-secret-at-all", &body, &time);
    let (status, answer) = post_webhook(&cluster, &body, &forged, &time, "whtrans_forged").await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (401, Some("webhook_signature")),
        "{answer}"
    );
    let view = hold_view(&cluster, hold).await;
    assert_eq!(view.booking, None, "a forged webhook books nothing");
    let record = cluster
        .sandbox
        .provider()
        .payment(&payment_key)
        .await
        .expect("record");
    assert_eq!(
        record.state,
        PaymentState::InProgress,
        "nor confirms anything"
    );

    let signed = picket_sandbox_pay::signature(picket_tests::pay::WEBHOOK_SECRET, &body, &time);
    let (status, answer) = post_webhook(&cluster, &body, &signed, &time, "whtrans_once").await;
    assert_eq!(
        (status, answer["handled"].as_str()),
        (200, Some("accepted")),
        "{answer}"
    );
    let (status, answer) = post_webhook(&cluster, &body, &signed, &time, "whtrans_once").await;
    assert_eq!(
        (status, answer["handled"].as_str()),
        (200, Some("duplicate")),
        "{answer}"
    );
    // The accepted one was looked up with the provider (authorised, not yet confirmed) and
    // completed: confirmed for the hold's amount and booked, once.
    booked_in_ledger(&cluster, hold).await;
    assert_eq!(taken(&cluster).await, 1);
}

/// Real Toss signs no payment webhook. With `webhook_signatures = lookup_only` an unsigned
/// webhook is a hint: the payment it names is looked up with the provider by key. A forged one
/// naming a made-up payment key books nothing by itself — run to its end before the buyer has
/// paid, and again once the order's real payment is authorised, which it does not confirm —
/// while the genuine unsigned one then completes the payment. A signature that is present but
/// wrong is still refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lookup_only_takes_unsigned_webhooks_as_hints() {
    let store: Arc<dyn QueueStore> = Arc::new(MemoryStore::new());
    let lookup_only = |provider: &mut picket_payments::TossConfig| {
        provider.webhook_signatures = picket_payments::WebhookSignatures::LookupOnly
    };
    let cluster = open_sale_with(Cluster::start_configured(
        1,
        store,
        fast,
        |_| {},
        picket_tests::pay::toss_webhooks_only,
        lookup_only,
    ))
    .await;
    let (mut buyer, _token, hold, amount) = holding(&cluster, 1, &[0]).await;
    let checkout = buyer.checkout(SALE, hold).await;
    let order_id = checkout["order_id"].as_str().expect("order").to_owned();
    let unsigned = |payment_key: &str| {
        json!({"eventType": "PAYMENT_STATUS_CHANGED", "createdAt": "2026-11-30T10:19:21.000000",
            "data": {"paymentKey": payment_key, "orderId": order_id, "status": "DONE"}})
        .to_string()
    };
    let post_unsigned = |body: String, id: &'static str| {
        let address = cluster.address(0);
        async move {
            let (status, _, answer) = picket_tests::pay::call(
                address,
                "POST",
                "/api/v2/payments/webhook",
                &[
                    ("Content-Type", "application/json"),
                    ("tosspayments-webhook-transmission-id", id),
                ],
                &body,
            )
            .await;
            (
                status,
                serde_json::from_str::<Value>(&answer).unwrap_or(Value::Null),
            )
        }
    };
    // The receiver's own steps, awaited to their end: the provider's check of an unsigned
    // webhook, then the flow the API runs after answering.
    let provider = cluster.sandbox.provider_with(lookup_only);
    let flow = picket_payments::Flow::new(
        provider.clone(),
        picket_ledger_client::LedgerClient::in_process(cluster.ledger.handle.clone()),
        picket_tests::pay::CLIENT_KEY.into(),
        cluster.sandbox.checkout_url(),
    );
    let handle_to_the_end = |body: String| {
        let (provider, flow) = (provider.clone(), &flow);
        async move {
            let header = |name: &str| {
                (name == "tosspayments-webhook-transmission-id").then(|| "whtrans_run".to_owned())
            };
            let notice = provider
                .verify_webhook(&header, body.as_bytes(), now_ms())
                .expect("an unsigned webhook is a hint with lookup_only");
            flow.on_webhook(&notice).await
        }
    };
    let hold_now = || async {
        cluster
            .ledger
            .handle
            .hold(
                picket_ledger_core::PerformanceId(SALE),
                picket_ledger_core::HoldId(hold),
            )
            .await
            .expect("ledger")
            .expect("hold")
    };

    // Forged first, while the order has no payment at all.
    let forged = unsigned("made_up_payment_key_0000000000000000");
    let (status, answer) = post_unsigned(forged.clone(), "whtrans_forged_unsigned").await;
    assert_eq!(
        (status, answer["handled"].as_str()),
        (200, Some("accepted")),
        "{answer}"
    );
    assert_eq!(
        handle_to_the_end(forged.clone()).await,
        picket_payments::WebhookOutcome::Refused(picket_payments::FlowError::PaymentNotFound)
    );
    let view = hold_now().await;
    assert_eq!(
        (view.status, view.booking),
        (picket_ledger_core::HoldStatus::Active, None),
        "a forged webhook books nothing"
    );
    assert!(
        provider.payment_by_order(&order_id).await.is_err(),
        "nor makes a payment"
    );
    let time = kst(now_ms());
    let wrong = picket_sandbox_pay::signature("not-the-webhook-secret-at-all", &forged, &time);
    let (status, answer) = post_webhook(&cluster, &forged, &wrong, &time, "whtrans_wrong").await;
    assert_eq!(
        (status, answer["code"].as_str()),
        (401, Some("webhook_signature")),
        "{answer}"
    );

    // The buyer pays: the forged webhook, run again, does not confirm that real payment.
    let payment_key = cluster
        .sandbox
        .pay(&order_id, "S 1매", amount, CARD_OK)
        .await
        .expect("authorised");
    assert_eq!(
        handle_to_the_end(forged).await,
        picket_payments::WebhookOutcome::Refused(picket_payments::FlowError::PaymentNotFound)
    );
    assert_eq!(hold_now().await.booking, None);
    let untouched = provider.payment(&payment_key).await.expect("record");
    assert_eq!(
        untouched.state,
        PaymentState::InProgress,
        "nor confirms the order's real payment"
    );

    // The genuine unsigned webhook completes it.
    let (status, answer) = post_unsigned(unsigned(&payment_key), "whtrans_real_unsigned").await;
    assert_eq!(
        (status, answer["handled"].as_str()),
        (200, Some("accepted")),
        "{answer}"
    );
    booked_in_ledger(&cluster, hold).await;
    assert_eq!(
        hold_now().await.payment_ref.as_deref(),
        Some(payment_key.as_str())
    );
    let done = provider.payment(&payment_key).await.expect("record");
    assert_eq!(done.state, picket_payments::PaymentState::Done);
}

/// `url`'s path and query, as a browser sent to it asks for them.
fn path_of(url: &str) -> String {
    let after_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    let start = after_scheme.find('/').expect("a path");
    after_scheme[start..].to_owned()
}

/// The browser's GET of a path on the gateway's API: status, headers, JSON body.
async fn browse(cluster: &Cluster, path: &str) -> (u16, Vec<(String, String)>, Value) {
    let (status, headers, body) = call(cluster.address(0), "GET", path, &[], "").await;
    (
        status,
        headers,
        serde_json::from_str(&body).unwrap_or(Value::Null),
    )
}

fn problem(answer: &(u16, Vec<(String, String)>, Value)) -> (u16, &str) {
    (answer.0, answer.2["code"].as_str().unwrap_or_default())
}

/// The provider's record of `payment_key` is still only authorised: nothing was confirmed.
async fn still_authorised(cluster: &Cluster, payment_key: &str) {
    let record = cluster
        .sandbox
        .provider()
        .payment(payment_key)
        .await
        .expect("record");
    assert_eq!(
        record.state,
        PaymentState::InProgress,
        "confirmed at the provider: {record:?}"
    );
}

/// The browser's redirect pays only under the buyer's admission, as the WebSocket's `confirm`
/// does (invariant 7): the app puts its admission token in the successUrl it gives the
/// provider, which keeps it when it appends the payment. Without it, with a token signed by
/// someone else or for another sale, or with another buyer's, nothing is confirmed at the
/// provider nor booked; with it the hold is booked and the admission is spent: the socket is
/// told `admission_expired`, and the same URL again only reads the booking back (nothing more
/// reaches the provider or the ledger).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_success_url_books_only_under_the_buyers_admission() {
    let cluster = open_sale().await;
    let (mut alice, alice_token, hold, amount) = holding(&cluster, 1, &[0]).await;
    let (_bob, bob_token, _, _) = holding(&cluster, 2, &[1]).await;
    let checkout = alice.checkout(SALE, hold).await;
    let order_id = checkout["order_id"].as_str().expect("order").to_owned();
    let name = checkout["order_name"].as_str().expect("name").to_owned();
    let success = format!(
        "http://{}/api/v2/payments/success?admission={alice_token}",
        cluster.address(0)
    );
    let location = cluster
        .sandbox
        .pay_to(&order_id, &name, amount, CARD_OK, &success)
        .await;
    assert!(
        location.starts_with(&format!("{success}&paymentKey=")),
        "{location}"
    );
    let payment_key = query_value(&location, "paymentKey").expect("paid");
    let with = |admission: &str| {
        format!(
            "/api/v2/payments/success?admission={admission}&paymentKey={payment_key}&orderId={order_id}"
        )
    };
    let bare = format!("/api/v2/payments/success?paymentKey={payment_key}&orderId={order_id}");
    assert_eq!(
        problem(&browse(&cluster, &bare).await),
        (403, "no_admission")
    );
    let now = now_ms();
    let claims = |sale: u64| Claims::Admission {
        identity: alice.identity.clone(),
        sale,
        conn: alice.conn.clone(),
        jti: 1,
        exp_ms: now + 60_000,
    };
    let stranger = KeyRing::new(vec![Key::new("t1", vec![9; 32]).expect("key")]).expect("ring");
    let forged = stranger.sign(&claims(SALE));
    assert_eq!(
        problem(&browse(&cluster, &with(&forged)).await),
        (403, "admission_invalid")
    );
    let elsewhere = test_keys().sign(&claims(SALE + 1));
    assert_eq!(
        problem(&browse(&cluster, &with(&elsewhere)).await),
        (403, "admission_invalid")
    );
    assert_eq!(
        problem(&browse(&cluster, &with(&bob_token)).await),
        (403, "not_your_hold")
    );
    still_authorised(&cluster, &payment_key).await;
    assert_eq!(taken(&cluster).await, 2, "two holds, nothing booked");

    let (status, _, paid) = browse(&cluster, &path_of(&location)).await;
    assert_eq!(status, 200, "{paid}");
    assert_eq!(paid["order_id"], order_id.as_str());
    assert_eq!(paid["amount_won"], amount);
    let booking = picket_tests::ids::id(&paid["booking"]);
    assert_eq!(booked_in_ledger(&cluster, hold).await, booking);
    let ended = alice.next_of("error").await;
    assert_eq!(ended["code"], "admission_expired", "{ended}");
    let (status, _, again) = browse(&cluster, &path_of(&location)).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(picket_tests::ids::id(&again["booking"]), booking, "{again}");
    assert_eq!(journalled_bookings(&cluster, hold).await.len(), 1);
    // A spent admission confirms nothing else: another payment of that order is refused.
    assert_eq!(
        problem(
            &browse(
                &cluster,
                &with(&alice_token).replace(&payment_key, "tgen_made_up_key_0000")
            )
            .await
        ),
        (403, "admission_expired"),
        "a spent admission books nothing more"
    );
}

/// The success URL takes at most `success_attempts_burst` attempts at once per buyer (per
/// client address without an admission), then answers 429 `too_many_attempts` with
/// `Retry-After`; each key has its own allowance.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_success_url_is_limited_per_buyer() {
    let cluster = open_sale().await;
    let (mut alice, token, hold, _) = holding(&cluster, 1, &[0]).await;
    let checkout = alice.checkout(SALE, hold).await;
    let order_id = checkout["order_id"].as_str().expect("order");
    let made_up = "tgen_madeup0000000000";
    let as_alice = format!(
        "/api/v2/payments/success?admission={token}&paymentKey={made_up}&orderId={order_id}"
    );
    let burst = picket_api::ApiConfig::default().success_attempts_burst;
    for attempt in 0..burst {
        let answer = browse(&cluster, &as_alice).await;
        assert_eq!(
            problem(&answer),
            (404, "payment_not_found"),
            "attempt {attempt}"
        );
    }
    let limited = browse(&cluster, &as_alice).await;
    assert_eq!(problem(&limited), (429, "too_many_attempts"));
    let retry_after = limited
        .1
        .iter()
        .find(|(name, _)| name == "retry-after")
        .and_then(|(_, value)| value.parse::<u64>().ok())
        .expect("Retry-After");
    assert!(retry_after >= 1, "{retry_after}");
    // Without an admission the attempt counts against the client's address, not Alice.
    let anonymous = format!("/api/v2/payments/success?paymentKey={made_up}&orderId={order_id}");
    assert_eq!(
        problem(&browse(&cluster, &anonymous).await),
        (403, "no_admission")
    );
}

/// Waits (reading the buyers' sockets meanwhile, as their apps would) until the ledger has
/// expired every hold: at most the hold time and a margin.
async fn expired_in_ledger(cluster: &Cluster, buyers: &mut [Client], holds: &[u64]) {
    let patience = Duration::from_millis(picket_ledger_core::limits::HOLD_TTL_MS_MIN) + PATIENCE;
    for hold in holds {
        until("the hold expired", patience, async || {
            for buyer in buyers.iter_mut() {
                buyer.next_within(Duration::from_millis(100)).await;
            }
            let view = hold_view(cluster, *hold).await;
            (view.status == HoldStatus::Expired)
                .then_some(())
                .ok_or(view)
        })
        .await;
    }
}

/// The provider's record of `payment_key` once it is cancelled (the webhook path voids after
/// answering the provider).
async fn voided_at_provider(cluster: &Cluster, payment_key: &str) -> PaymentRecord {
    let provider = cluster.sandbox.provider();
    until("the payment voided", PATIENCE, async || {
        let record = provider.payment(payment_key).await.expect("record");
        if record.state == PaymentState::Canceled {
            Ok(record)
        } else {
            Err(record)
        }
    })
    .await
}

/// Invariant 5 with money: three buyers pay at the provider but confirm only after their holds'
/// deadline (the shortest a spec may set, so this waits about a minute): one over the socket,
/// one at the browser's success URL, and one whose app vanished, so the provider's webhook
/// completes it. The ledger books nothing; every payment is cancelled in full at the provider;
/// and the buyers who ask are told why (`payment_refunded`, the ledger's `hold_expired`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn paid_after_the_deadline_books_nothing_and_is_voided() {
    let mut spec = small_spec(SALE, 40);
    spec.hold_ttl_ms = picket_ledger_core::limits::HOLD_TTL_MS_MIN;
    let cluster = open_spec_with(Cluster::start(1, Arc::new(MemoryStore::new()), fast), spec).await;
    let (mut buyers, mut tokens, mut holds, mut paid) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (n, seat) in [(1, 0), (2, 1), (3, 2)] {
        let (buyer, token, hold, payment) = paid_hold(&cluster, n, &[seat]).await;
        buyers.push(buyer);
        tokens.push(token);
        holds.push(hold);
        paid.push(payment);
    }
    expired_in_ledger(&cluster, &mut buyers, &holds).await;

    let late = buyers[0]
        .confirm(
            SALE,
            &tokens[0],
            holds[0],
            "late",
            &paid[0].payment_key,
            &paid[0].order_id,
        )
        .await;
    assert_eq!(error_code(&late), "payment_refunded");
    assert_eq!(late["reason"], "hold_expired", "{late}");

    let redirect = format!(
        "/api/v2/payments/success?admission={}&paymentKey={}&orderId={}",
        tokens[1], paid[1].payment_key, paid[1].order_id
    );
    let answer = browse(&cluster, &redirect).await;
    assert_eq!(
        problem(&answer),
        (409, "payment_refunded"),
        "{:?}",
        answer.2
    );

    let body = json!({"eventType": "PAYMENT_STATUS_CHANGED", "createdAt": "2026-11-30T10:19:21.000000",
        "data": {"paymentKey": paid[2].payment_key, "orderId": paid[2].order_id, "status": "IN_PROGRESS"}})
    .to_string();
    let time = kst(now_ms());
    let signed = picket_sandbox_pay::signature(picket_tests::pay::WEBHOOK_SECRET, &body, &time);
    let (status, answer) = post_webhook(&cluster, &body, &signed, &time, "whtrans_late").await;
    assert_eq!(
        (status, answer["handled"].as_str()),
        (200, Some("accepted")),
        "{answer}"
    );

    for (payment, hold) in paid.iter().zip(&holds) {
        let record = voided_at_provider(&cluster, &payment.payment_key).await;
        assert_eq!(
            (record.total_won, record.balance_won),
            (payment.amount_won, 0),
            "approved, then cancelled in full: {record:?}"
        );
        let view = hold_view(&cluster, *hold).await;
        assert_eq!(view.booking, None, "{view:?}");
    }
    assert_eq!(taken(&cluster).await, 0, "every seat back on sale");
}

/// The API's count of payment webhooks that became `handled`.
fn webhooks_handled(cluster: &Cluster, handled: &'static str) -> u64 {
    cluster
        .api
        .metrics
        .payment_webhooks
        .get_or_create(&picket_api::metrics::HandledLabel { handled })
        .get()
}

/// Issue 18's 429s: at 125 payments a second per gateway the sandbox's two webhooks a payment
/// (on authorisation and on approval) were each looked up with the provider against
/// `webhook_lookups_per_sec` (100), so over half were refused and delivered again later, though
/// the app's own confirm had booked (or was booking) each payment. Now a webhook for a payment
/// the app's confirm booked here costs no lookup: the approval's is answered from memory and
/// the authorisation's waits for the app's confirm. Every payment is booked once, and no webhook
/// is refused or looked up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_of_payments_the_app_confirmed_cost_no_lookup() {
    const BUYERS: usize = 4;
    let store: Arc<dyn QueueStore> = Arc::new(MemoryStore::new());
    // The sandbox's own defaults, as `picket up`'s: a webhook on authorisation and on approval.
    let cluster = open_sale_with(Cluster::start_configured(
        1,
        store,
        fast,
        |_| {},
        |_| {},
        |_| {},
    ))
    .await;
    for n in 0..BUYERS {
        let (mut buyer, token, hold, paid) = paid_hold(&cluster, n, &[n as u32]).await;
        let answer = buyer
            .confirm(
                SALE,
                &token,
                hold,
                &format!("pay-{n}"),
                &paid.payment_key,
                &paid.order_id,
            )
            .await;
        booking_of(&answer);
        assert_eq!(journalled_bookings(&cluster, hold).await.len(), 1);
    }
    // Two webhooks a payment reach the API; wait until every one is done with.
    until("every webhook handled", PATIENCE, async || {
        let done = webhooks_handled(&cluster, "settled")
            + webhooks_handled(&cluster, "settled_after_grace")
            + webhooks_handled(&cluster, "looked_up")
            + webhooks_handled(&cluster, "limited");
        (done >= 2 * BUYERS as u64).then_some(()).ok_or(done)
    })
    .await;
    assert_eq!(webhooks_handled(&cluster, "limited"), 0);
    assert_eq!(
        webhooks_handled(&cluster, "looked_up"),
        0,
        "a payment the app booked here is never looked up for its webhooks"
    );
    assert_eq!(taken(&cluster).await, BUYERS);
}

/// The success URL's limit (per client address without an admission) is spent by made-up
/// orders from the buyer's address; the buyer's own return for a payment booked here is still
/// answered with its booking (it costs neither the provider nor the ledger), and a made-up key
/// of that order is still limited.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_for_a_booked_payment_is_not_refused_by_the_success_limit() {
    let cluster = open_sale().await;
    let (mut buyer, token, hold, paid) = paid_hold(&cluster, 1, &[0]).await;
    let answer = buyer
        .confirm(
            SALE,
            &token,
            hold,
            "pay-1",
            &paid.payment_key,
            &paid.order_id,
        )
        .await;
    let booking = booking_of(&answer);
    let path = |key: &str, order: &str| {
        format!("/api/v2/payments/success?paymentKey={key}&orderId={order}")
    };
    let made_up_order = format!("pk{SALE}h{hold}n0000000000000bad");
    let mut refused = false;
    for _ in 0..100 {
        let (status, _, _) = call(
            cluster.address(0),
            "GET",
            &path("tgen_made_up_key_0000", &made_up_order),
            &[],
            "",
        )
        .await;
        if status == 429 {
            refused = true;
            break;
        }
    }
    assert!(refused, "the address's success limit is spent");
    let (status, _, body) = call(
        cluster.address(0),
        "GET",
        &path(&paid.payment_key, &paid.order_id),
        &[],
        "",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(picket_tests::ids::id(&body["booking"]), booking, "{body}");
    let (status, _, _) = call(
        cluster.address(0),
        "GET",
        &path("tgen_made_up_key_0000", &paid.order_id),
        &[],
        "",
    )
    .await;
    assert_eq!(
        status, 429,
        "another key of the order is no return of its payment"
    );
}
