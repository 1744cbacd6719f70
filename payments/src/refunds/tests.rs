use std::sync::Arc;

use picket_ledger_core::{Command, Reply};

use super::*;
use crate::fakes::*;

fn worker(client: &LedgerClient, provider: &Arc<FakeProvider>) -> RefundWorker {
    RefundWorker::new(
        client.clone(),
        provider.clone(),
        vec![PARTITION],
        Arc::new(RefundMetrics::default()),
    )
}

async fn cancel_all(client: &LedgerClient, buyer: u64, booking: BookingId) -> Won {
    let cancelled = send(
        client,
        buyer,
        &format!("cancel-{booking}"),
        Command::Cancel {
            performance: PERFORMANCE,
            booking,
            tickets: Vec::new(),
        },
    )
    .await;
    let Ok(Reply::Cancelled { refund_won, .. }) = cancelled else {
        panic!("cancel failed: {cancelled:?}");
    };
    refund_won
}

#[tokio::test(start_paused = true)]
async fn a_worker_killed_between_the_provider_and_the_record_refunds_once() {
    let provider = Arc::new(FakeProvider::default());
    let (fake, client) = open_ledger(50_000).await;
    let (booking, paid) = book(&client, &provider, 7, &[0, 1], "pay-a").await;
    let refund_won = cancel_all(&client, 7, booking).await;
    assert_eq!(refund_won, paid, "a cancel on the day of booking is free");

    // The first worker calls the provider, then dies before recording.
    let mut first = worker(&client, &provider);
    first.catch_up().await.expect("read");
    let due = first.due();
    assert_eq!(due.len(), 1);
    let verdict = first.cancel_at_provider(&due[0]).await;
    assert!(matches!(verdict, CancelVerdict::Paid { .. }), "{verdict:?}");
    drop(first);
    assert_eq!(provider.payment_now("pay-a").expect("paid").balance_won, 0);

    // A new worker knows only the journal: the refund is still owed, it asks again with the
    // same key, the provider replays its first answer, and the refund is recorded.
    let mut second = worker(&client, &provider);
    let outcomes = second.pass().await.expect("pass");
    assert_eq!(outcomes, vec![(due[0].refund, RefundOutcome::Recorded)]);
    let payment = provider.payment_now("pay-a").expect("payment");
    assert_eq!(payment.cancels.len(), 1, "one refund at the provider");
    assert_eq!(payment.cancels[0].amount_won, paid);
    assert_eq!(provider.cancel_calls(), 2);
    let ledger = fake.ledger();
    let state = ledger.performance(PERFORMANCE).expect("open");
    let recorded = state.refund(due[0].refund).expect("owed");
    assert_eq!(
        recorded.paid.as_deref(),
        Some(payment.cancels[0].transaction_key.as_str())
    );
    assert_eq!(state.money().refunds_paid_won, paid);

    // A third run finds nothing to do and calls nobody.
    let mut third = worker(&client, &provider);
    assert_eq!(third.pass().await.expect("pass"), Vec::new());
    assert_eq!(provider.cancel_calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_refund_asked_twice_is_one_refund() {
    let provider = Arc::new(FakeProvider::default());
    let (fake, client) = open_ledger(30_000).await;
    let (booking, paid) = book(&client, &provider, 7, &[2], "pay-b").await;
    cancel_all(&client, 7, booking).await;
    // Two workers (two API processes) both see the refund owed.
    let mut a = worker(&client, &provider);
    let mut b = worker(&client, &provider);
    b.catch_up().await.expect("read");
    let owed = b.due().pop().expect("owed");
    a.pass().await.expect("pass");
    assert_eq!(
        b.pay(&owed).await.expect("pay"),
        RefundOutcome::Recorded,
        "the second worker learns it is recorded"
    );
    assert_eq!(provider.payment_now("pay-b").expect("p").cancels.len(), 1);
    // RecordRefund by hand with another key and transaction: refused, nothing changes.
    let again = send(
        &client,
        0,
        "record-again",
        Command::RecordRefund {
            performance: PERFORMANCE,
            booking,
            refund: owed.refund,
            provider_transaction: "tx-other".into(),
            amount_won: paid,
        },
    )
    .await;
    assert!(
        matches!(again, Err(Rejection::RefundAlreadyRecorded { .. })),
        "{again:?}"
    );
    let money = fake
        .ledger()
        .performance(PERFORMANCE)
        .expect("open")
        .money();
    assert_eq!(money.refunds_paid_won, paid);
}

#[tokio::test(start_paused = true)]
async fn retryable_failures_are_retried_and_refusals_left_for_reconciliation() {
    let provider = Arc::new(FakeProvider::default());
    let (fake, client) = open_ledger(40_000).await;
    let (kept, _) = book(&client, &provider, 7, &[3], "pay-c").await;
    cancel_all(&client, 7, kept).await;
    provider.fail_next(PaymentError::Timeout);
    provider.fail_next(PaymentError::Unavailable {
        code: "PROVIDER_ERROR".into(),
        message: "try again".into(),
    });
    let metrics = Arc::new(RefundMetrics::default());
    let mut retried = RefundWorker::new(
        client.clone(),
        provider.clone(),
        vec![PARTITION],
        metrics.clone(),
    );
    let outcomes = retried.pass().await.expect("pass");
    assert_eq!(outcomes.len(), 1);
    assert_eq!(outcomes[0].1, RefundOutcome::Recorded);
    assert_eq!(metrics.retried.get(), 2);
    // The backlog: the refund was due at the pass's start and paid by its end.
    assert_eq!(metrics.pending.get(), 0);

    // A booking whose payment the provider does not know (a made-up key from before payments
    // were verified): refused for good, counted, left owed in the ledger.
    let held = send(
        &client,
        8,
        "hold-fake",
        Command::Hold {
            performance: PERFORMANCE,
            selection: picket_ledger_core::Selection::Seats(vec![picket_ledger_core::SeatId(4)]),
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
    let confirmed = send(
        &client,
        8,
        "pay-fake",
        Command::Confirm {
            performance: PERFORMANCE,
            hold,
            payment_ref: "made-up".into(),
            amount_won,
        },
    )
    .await;
    let Ok(Reply::Confirmed { booking, .. }) = confirmed else {
        panic!("{confirmed:?}");
    };
    cancel_all(&client, 8, booking).await;
    let outcomes = retried.pass().await.expect("pass");
    assert!(
        matches!(outcomes.as_slice(), [(_, RefundOutcome::Refused(_))]),
        "{outcomes:?}"
    );
    assert_eq!(metrics.refused.get(), 1);
    // A refused refund stays owed: the backlog shows it.
    assert_eq!(metrics.pending.get(), 1);
    // Not asked again in this run.
    let calls = provider.cancel_calls();
    assert_eq!(retried.pass().await.expect("pass"), Vec::new());
    assert_eq!(provider.cancel_calls(), calls);
    let state = fake.ledger();
    let state = state.performance(PERFORMANCE).expect("open");
    assert_eq!(state.refunds().filter(|(_, r)| r.paid.is_none()).count(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_seller_cancelling_the_performance_refunds_everyone_in_full() {
    let provider = Arc::new(FakeProvider::default());
    let (fake, client) = open_ledger(55_000).await;
    let (_, paid_a) = book(&client, &provider, 11, &[0, 1, 2], "pay-d").await;
    let (b, paid_b) = book(&client, &provider, 12, &[3], "pay-e").await;
    let (_, paid_c) = book(&client, &provider, 13, &[4, 5], "pay-f").await;
    // One buyer already cancelled one ticket of theirs; a fourth buyer only holds.
    send(
        &client,
        12,
        "cancel-b",
        Command::Cancel {
            performance: PERFORMANCE,
            booking: b,
            tickets: Vec::new(),
        },
    )
    .await
    .expect("cancelled");
    send(
        &client,
        14,
        "hold-g",
        Command::Hold {
            performance: PERFORMANCE,
            selection: picket_ledger_core::Selection::Seats(vec![picket_ledger_core::SeatId(6)]),
            admission: None,
            offer: None,
        },
    )
    .await
    .expect("held");
    let cancelled = send(
        &client,
        900,
        "call-off",
        Command::CancelPerformance {
            performance: PERFORMANCE,
            reason: "아티스트 사정으로 공연 취소".into(),
        },
    )
    .await;
    assert_eq!(
        cancelled,
        Ok(Reply::PerformanceCancelled {
            performance: PERFORMANCE,
            holds_released: 1,
            bookings_cancelled: 2,
            refund_won: paid_a + paid_c,
            bookings_left: 0,
        })
    );
    let mut refunds = worker(&client, &provider);
    let outcomes = refunds.pass().await.expect("pass");
    assert_eq!(outcomes.len(), 3, "{outcomes:?}");
    for key in ["pay-d", "pay-e", "pay-f"] {
        let payment = provider.payment_now(key).expect("payment");
        assert_eq!(payment.balance_won, 0, "{key} refunded in full");
        assert_eq!(payment.cancels.len(), 1);
    }
    let ledger = fake.ledger();
    let state = ledger.performance(PERFORMANCE).expect("open");
    let money = state.money();
    assert_eq!(money.payments_won, paid_a + paid_b + paid_c);
    assert_eq!(money.refunds_paid_won, money.payments_won);
    assert_eq!((money.revenue_won, money.fees_won), (0, 0));
    assert!(state.is_cancelled());
    // Closed to new holds.
    let refused = send(
        &client,
        15,
        "hold-late",
        Command::Hold {
            performance: PERFORMANCE,
            selection: picket_ledger_core::Selection::Seats(vec![picket_ledger_core::SeatId(7)]),
            admission: None,
            offer: None,
        },
    )
    .await;
    assert_eq!(refused, Err(Rejection::PerformanceCancelled));
}

#[test]
fn backoff_doubles_up_to_its_bound() {
    assert_eq!(backoff(0), Duration::ZERO);
    assert_eq!(backoff(1), REFUND_BACKOFF_FIRST);
    assert_eq!(backoff(2), REFUND_BACKOFF_FIRST * 2);
    assert_eq!(backoff(40), REFUND_BACKOFF_MAX);
}

#[test]
fn the_provider_answer_decides_the_verdict() {
    assert_eq!(
        judge_cancel(&Err(PaymentError::Timeout), 1),
        CancelVerdict::Retry
    );
    assert!(matches!(
        judge_cancel(&Err(PaymentError::NotFound), 1),
        CancelVerdict::Refused(_)
    ));
    assert_eq!(idempotency_key(RefundId(42)), "refund-42");
}

/// The counters reach `/metrics` under the documented names, and the registry shows the
/// worker's increments (it shares the counters, it does not copy them).
#[test]
fn refund_counters_are_registered_under_their_names() {
    let metrics = RefundMetrics::default();
    let mut registry = prometheus_client::registry::Registry::default();
    metrics.register(&mut registry);
    metrics.paid.inc();
    metrics.paid.inc();
    metrics.retried.inc();
    metrics.pending.set(3);
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).expect("encodes");
    for line in [
        "picket_refunds_paid_total 2",
        "picket_refunds_retried_total 1",
        "picket_refunds_refused_total 0",
        "picket_refunds_pending 3",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line} missing from:\n{text}"
        );
    }
    assert!(
        text.contains("# TYPE picket_refunds_paid counter"),
        "{text}"
    );
}
