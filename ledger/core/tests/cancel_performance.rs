//! A seller calling off a performance larger than one `CancelPerformance` step: every step is
//! bounded, the steps together release every hold and refund every valid ticket in full, each
//! refund owed gets its own consecutive id, and then the performance refuses everything.

use picket_ledger_core::fees::kst_ms;
use picket_ledger_core::limits::CANCEL_PERFORMANCE_STEP_MAX;
use picket_ledger_core::*;

const PERFORMANCE: PerformanceId = PerformanceId(88);
const SEATS: u16 = 600;
const PRICE_WON: Won = 77_000;

fn spec() -> PerformanceSpec {
    PerformanceSpec::plain(PERFORMANCE, kst_ms(2027, 3, 1, 19, 0), PRICE_WON, SEATS, 30)
}

fn run(ledger: &mut Ledger, now_ms: u64, actor: u64, key: &str, command: Command) -> Step {
    let request = Request {
        actor: ActorId(actor),
        key: IdempotencyKey::new(key).expect("key"),
        command,
    };
    ledger.execute(now_ms, &request)
}

fn hold(ledger: &mut Ledger, now_ms: u64, buyer: u64, seats: &[u32]) -> (HoldId, Won) {
    let step = run(
        ledger,
        now_ms,
        buyer,
        &format!("hold-{buyer}"),
        Command::Hold {
            performance: PERFORMANCE,
            selection: Selection::Seats(seats.iter().map(|s| SeatId(*s)).collect()),
            admission: None,
            offer: None,
        },
    );
    let Ok(Reply::Held {
        hold, amount_won, ..
    }) = step.outcome
    else {
        panic!("{:?}", step.outcome);
    };
    (hold, amount_won)
}

#[test]
fn a_large_performance_is_called_off_in_bounded_steps_with_every_ticket_refunded_in_full() {
    let now_ms = kst_ms(2027, 1, 5, 10, 0);
    let mut ledger = Ledger::new(3);
    let opened = run(
        &mut ledger,
        now_ms,
        0,
        "open",
        Command::OpenPerformance(Box::new(spec())),
    );
    assert!(opened.outcome.is_ok());
    // 280 buyers book two seats each; 15 more only hold one.
    let (bookers, holders) = (280u64, 15u64);
    for buyer in 0..bookers {
        let (held, amount_won) = hold(
            &mut ledger,
            now_ms,
            1 + buyer,
            &[2 * buyer as u32, 2 * buyer as u32 + 1],
        );
        let paid = run(
            &mut ledger,
            now_ms,
            1 + buyer,
            &format!("pay-{buyer}"),
            Command::Confirm {
                performance: PERFORMANCE,
                hold: held,
                payment_ref: format!("pay-{buyer}"),
                amount_won,
            },
        );
        assert!(
            matches!(paid.outcome, Ok(Reply::Confirmed { .. })),
            "{:?}",
            paid.outcome
        );
    }
    for holder in 0..holders {
        hold(&mut ledger, now_ms, 1_000 + holder, &[560 + holder as u32]);
    }
    let paid_won = bookers * 2 * PRICE_WON;

    let (mut released, mut cancelled, mut refunded) = (0u64, 0u64, 0u64);
    let mut steps = 0;
    loop {
        let step = run(
            &mut ledger,
            now_ms + 1_000,
            0,
            &format!("call-off-{steps}"),
            Command::CancelPerformance {
                performance: PERFORMANCE,
                reason: "공연 취소".into(),
            },
        );
        steps += 1;
        let Ok(Reply::PerformanceCancelled {
            holds_released,
            bookings_cancelled,
            refund_won,
            bookings_left,
            ..
        }) = step.outcome
        else {
            panic!("step {steps}: {:?}", step.outcome);
        };
        let touched = (holds_released + bookings_cancelled) as usize;
        assert!(
            touched <= CANCEL_PERFORMANCE_STEP_MAX,
            "step {steps} did {touched}"
        );
        released += u64::from(holds_released);
        cancelled += u64::from(bookings_cancelled);
        refunded += refund_won;
        if bookings_left == 0 {
            break;
        }
        assert!(steps < 10, "the steps never end");
    }
    assert!(steps >= 2, "the performance needs more than one step");
    assert_eq!(
        (released, cancelled, refunded),
        (holders, bookers, paid_won)
    );

    let state = ledger.performance(PERFORMANCE).expect("open");
    assert!(state.is_cancelled());
    let money = state.money();
    assert_eq!(
        (money.payments_won, money.refunds_won),
        (paid_won, paid_won)
    );
    assert_eq!((money.revenue_won, money.fees_won), (0, 0));
    // One refund owed per booking, for its whole payment, with consecutive ids.
    let refunds: Vec<(RefundId, Won)> =
        state.refunds().map(|(id, r)| (*id, r.amount_won)).collect();
    assert_eq!(refunds.len() as u64, bookers);
    for (index, (id, amount_won)) in refunds.iter().enumerate() {
        assert_eq!(id.0, (3u64 << 48) | (index as u64 + 1));
        assert_eq!(*amount_won, 2 * PRICE_WON);
    }
    assert_eq!(state.places_free(), u64::from(SEATS));
    // Every seat is free in the state, yet none is on sale: the seat map buyers see says the
    // performance is called off.
    let shown = state.availability();
    assert!(shown.cancelled);
    assert_eq!(shown.seat_free, vec![false; SEATS as usize]);

    // Nothing is left to do, and nobody can hold or pay any more.
    let again = run(
        &mut ledger,
        now_ms + 2_000,
        0,
        "call-off-again",
        Command::CancelPerformance {
            performance: PERFORMANCE,
            reason: "공연 취소".into(),
        },
    );
    assert_eq!(again.outcome, Err(Rejection::PerformanceCancelled));
    let late = run(
        &mut ledger,
        now_ms + 2_000,
        5_000,
        "late",
        Command::Hold {
            performance: PERFORMANCE,
            selection: Selection::Seats(vec![SeatId(0)]),
            admission: None,
            offer: None,
        },
    );
    assert_eq!(late.outcome, Err(Rejection::PerformanceCancelled));
}
