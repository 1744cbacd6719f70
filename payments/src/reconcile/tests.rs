use std::sync::Arc;

use picket_ledger_core::{BookingId, Command, RefundId, Reply};

use super::*;
use crate::fakes::*;

const T0: u64 = 1_000_000;

fn tx(
    payment_key: &str,
    transaction_key: &str,
    state: PaymentState,
    won: Won,
) -> TransactionRecord {
    TransactionRecord {
        payment_key: payment_key.into(),
        order_id: format!("order-{payment_key}"),
        transaction_key: transaction_key.into(),
        state,
        amount_won: won,
        at_ms: T0 + 10,
    }
}

fn booking(payment_ref: &str, booking: u64, paid_won: Won) -> LedgerBooking {
    LedgerBooking {
        performance: 5,
        booking,
        payment_ref: payment_ref.into(),
        paid_won,
        booked_at_ms: T0 + 20,
    }
}

fn view(bookings: Vec<LedgerBooking>, refunds: Vec<LedgerRefund>) -> LedgerView {
    LedgerView {
        bookings,
        refunds: refunds.into_iter().map(|r| (r.refund, r)).collect(),
    }
}

fn refund(refund: u64, payment_ref: &str, won: Won, paid: Option<&str>) -> LedgerRefund {
    LedgerRefund {
        performance: 5,
        booking: 1,
        refund,
        payment_ref: payment_ref.into(),
        amount_won: won,
        paid: paid.map(|tx| (tx.to_owned(), T0 + 30)),
    }
}

fn kinds(found: &[Mismatch]) -> Vec<&'static str> {
    found.iter().map(Mismatch::kind).collect()
}

#[test]
fn agreeing_records_have_no_mismatch() {
    let transactions = [
        tx("p1", "a1", PaymentState::Done, 50_000),
        tx("p1", "c1", PaymentState::PartialCanceled, 20_000),
    ];
    let ledger = view(
        vec![booking("p1", 1, 50_000)],
        vec![refund(9, "p1", 20_000, Some("c1"))],
    );
    assert_eq!(compare(&transactions, &ledger, T0, T0 + 100), Vec::new());
}

#[test]
fn approved_but_not_booked_is_found_with_what_is_still_taken() {
    let transactions = [
        tx("orphan", "a1", PaymentState::Done, 30_000),
        tx("orphan", "c1", PaymentState::PartialCanceled, 10_000),
        // Approved and already voided in full: nothing to do.
        tx("voided", "a2", PaymentState::Done, 8_000),
        tx("voided", "c2", PaymentState::Canceled, 8_000),
    ];
    let found = compare(&transactions, &view(Vec::new(), Vec::new()), T0, T0 + 100);
    assert_eq!(
        found,
        vec![Mismatch::ApprovedNotBooked {
            payment_key: "orphan".into(),
            order_id: "order-orphan".into(),
            unrefunded_won: 20_000,
        }]
    );
}

#[test]
fn a_booking_just_outside_the_window_is_never_voided() {
    let mut late = booking("p1", 1, 50_000);
    late.booked_at_ms = T0 + 5_000;
    let transactions = [tx("p1", "a1", PaymentState::Done, 50_000)];
    assert_eq!(
        compare(&transactions, &view(vec![late], Vec::new()), T0, T0 + 100),
        Vec::new()
    );
}

#[test]
fn booked_but_not_approved_is_flagged() {
    let found = compare(
        &[],
        &view(vec![booking("made-up", 1, 50_000)], Vec::new()),
        T0,
        T0 + 100,
    );
    assert_eq!(kinds(&found), ["booked_not_approved"]);
}

#[test]
fn a_different_amount_is_flagged() {
    let transactions = [tx("p1", "a1", PaymentState::Done, 49_000)];
    let found = compare(
        &transactions,
        &view(vec![booking("p1", 1, 50_000)], Vec::new()),
        T0,
        T0 + 100,
    );
    assert_eq!(
        found,
        vec![Mismatch::AmountDiffers {
            performance: "5".into(),
            booking: "1".into(),
            payment_key: "p1".into(),
            ledger_won: 50_000,
            provider_won: 49_000,
        }]
    );
}

#[test]
fn refunds_missing_on_either_side_are_flagged() {
    let transactions = [
        tx("p1", "a1", PaymentState::Done, 50_000),
        tx("p1", "c-unrecorded", PaymentState::PartialCanceled, 5_000),
    ];
    let ledger = view(
        vec![booking("p1", 1, 50_000)],
        vec![
            refund(9, "p1", 7_000, Some("c-missing")),
            // Owed and not paid yet: the worker's business, not a mismatch.
            refund(10, "p1", 3_000, None),
        ],
    );
    let found = compare(&transactions, &ledger, T0, T0 + 100);
    assert_eq!(
        kinds(&found),
        ["refund_not_at_provider", "refund_not_recorded"]
    );
}

#[tokio::test(start_paused = true)]
async fn a_run_voids_what_nobody_booked_flags_the_rest_and_writes_its_report() {
    let provider = Arc::new(FakeProvider::default());
    let (_fake, client) = open_ledger(50_000).await;
    let (good, _) = book(&client, &provider, 7, &[0], "pay-good").await;
    // Paid at the provider, never booked (the buyer's app vanished and the hold expired).
    provider.approve("pay-orphan", "pk501h9n0000000000000009", 12_000, START_MS);
    // Booked with a payment the provider never approved.
    let held = send(
        &client,
        8,
        "hold-x",
        Command::Hold {
            performance: PERFORMANCE,
            selection: picket_ledger_core::Selection::Seats(vec![picket_ledger_core::SeatId(3)]),
            admission: None,
            offer: None,
        },
    )
    .await;
    let Ok(Reply::Held {
        hold, amount_won, ..
    }) = held
    else {
        panic!("{held:?}");
    };
    send(
        &client,
        8,
        "pay-x",
        Command::Confirm {
            performance: PERFORMANCE,
            hold,
            payment_ref: "made-up".into(),
            amount_won,
        },
    )
    .await
    .expect("booked");
    // A refund recorded that the provider never made.
    send(
        &client,
        7,
        "cancel-good",
        Command::Cancel {
            performance: PERFORMANCE,
            booking: good,
            tickets: Vec::new(),
        },
    )
    .await
    .expect("cancelled");
    let refund = RefundId((u64::from(PARTITION) << 48) | 1);
    send(
        &client,
        0,
        "record-fake",
        Command::RecordRefund {
            performance: PERFORMANCE,
            booking: BookingId(good.0),
            refund,
            provider_transaction: "tx-never".into(),
            amount_won: 50_000,
        },
    )
    .await
    .expect("recorded");
    let dir = std::env::temp_dir().join(format!("picket-reconcile-{}", std::process::id()));
    let window = (START_MS - 1_000, START_MS + 3_600_000);
    let report = reconcile(provider.as_ref(), &client, &[PARTITION], window, &dir)
        .await
        .expect("reconciled");
    let mut found = kinds(&report.mismatches);
    found.sort_unstable();
    assert_eq!(
        found,
        [
            "approved_not_booked",
            "booked_not_approved",
            "refund_not_at_provider"
        ]
    );
    assert_eq!(report.voided, ["pay-orphan"]);
    assert_eq!(
        provider.payment_now("pay-orphan").expect("p").balance_won,
        0
    );
    let json =
        std::fs::read_to_string(dir.join(format!("reconcile-{}.json", window.1))).expect("json");
    assert!(json.contains("\"kind\": \"booked_not_approved\""), "{json}");
    let markdown =
        std::fs::read_to_string(dir.join(format!("reconcile-{}.md", window.1))).expect("md");
    assert!(
        markdown.contains("| approved_not_booked | 1 |"),
        "{markdown}"
    );
    // Run again: the void is done, so it is not voided twice.
    let again = reconcile(provider.as_ref(), &client, &[PARTITION], window, &dir)
        .await
        .expect("reconciled");
    assert!(again.voided.is_empty());
    assert_eq!(
        provider.payment_now("pay-orphan").expect("p").cancels.len(),
        1
    );
    let _ = std::fs::remove_dir_all(&dir);
}
