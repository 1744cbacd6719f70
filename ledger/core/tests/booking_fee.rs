//! The booking fee (docs/payments.md, "The booking fee"): per ticket, on top of the price after
//! any offer, in the hold's amount; refunded only on the Korean calendar day of booking or when
//! the performance is called off; counted apart in the money (invariant 6). Every expected
//! figure here is worked out by hand from the spec below.

use picket_ledger_core::fees::kst_ms;
use picket_ledger_core::*;

const PERFORMANCE: PerformanceId = PerformanceId(3);
const BUYER: ActorId = ActorId(7);
/// 2,000원 per ticket, as the big platforms charge.
const BOOKING_FEE_WON: Won = 2_000;

fn spec() -> PerformanceSpec {
    PerformanceSpec {
        hold_ttl_ms: 5 * 60_000,
        booking_fee_won: BOOKING_FEE_WON,
        coupons: vec![CouponSpec {
            code: "LESS-5000".into(),
            reduction: Reduction::FixedWon(5_000),
            min_order_won: 0,
            valid_from_ms: 0,
            valid_until_ms: u64::MAX,
            uses_max: 10,
            uses_per_buyer_max: 5,
        }],
        // A concert on 2027-06-30 at 19:00 KST: far enough for the flat 4,000원 fee tier.
        ..PerformanceSpec::plain(PERFORMANCE, kst_ms(2027, 6, 30, 19, 0), 55_000, 4, 4)
    }
}

fn run(ledger: &mut Ledger, now_ms: u64, key: &str, command: Command) -> Outcome {
    let request = Request {
        actor: BUYER,
        key: IdempotencyKey::new(key).expect("valid key"),
        command,
    };
    ledger.execute(now_ms, &request).outcome
}

fn opened(now_ms: u64, spec: PerformanceSpec) -> Ledger {
    let mut ledger = Ledger::new(0);
    let opened = run(
        &mut ledger,
        now_ms,
        "open",
        Command::OpenPerformance(Box::new(spec)),
    );
    assert!(opened.is_ok(), "{opened:?}");
    ledger
}

fn hold(ledger: &mut Ledger, now_ms: u64, key: &str, offer: Option<OfferChoice>) -> (HoldId, Won) {
    let held = run(
        ledger,
        now_ms,
        key,
        Command::Hold {
            performance: PERFORMANCE,
            selection: Selection::BestAvailable {
                grade: GradeId(0),
                count: 2,
            },
            admission: None,
            offer,
        },
    );
    let Ok(Reply::Held {
        hold, amount_won, ..
    }) = held
    else {
        panic!("hold refused: {held:?}");
    };
    (hold, amount_won)
}

/// Holds and pays two seats at `now_ms`; the booking and its tickets.
fn booked(ledger: &mut Ledger, now_ms: u64) -> (BookingId, Vec<TicketId>) {
    let (hold, amount_won) = hold(ledger, now_ms, "hold", None);
    let paid = run(
        ledger,
        now_ms,
        "pay",
        Command::Confirm {
            performance: PERFORMANCE,
            hold,
            payment_ref: "tgen_fee".into(),
            amount_won,
        },
    );
    let Ok(Reply::Confirmed {
        booking, tickets, ..
    }) = paid
    else {
        panic!("not booked: {paid:?}");
    };
    (booking, tickets)
}

fn money(ledger: &Ledger) -> picket_ledger_core::ledger::Money {
    ledger.performance(PERFORMANCE).expect("opened").money()
}

#[test]
fn the_hold_charges_the_fee_once_per_place_and_confirm_requires_it() {
    let now_ms = kst_ms(2027, 5, 3, 12, 0);
    let mut ledger = opened(now_ms, spec());
    let held = run(
        &mut ledger,
        now_ms,
        "hold",
        Command::Hold {
            performance: PERFORMANCE,
            selection: Selection::BestAvailable {
                grade: GradeId(0),
                count: 2,
            },
            admission: None,
            offer: None,
        },
    );
    let Ok(Reply::Held {
        hold,
        amount_won,
        booking_fee_won,
        discount_won,
        ..
    }) = held
    else {
        panic!("hold refused: {held:?}");
    };
    assert_eq!(
        (amount_won, booking_fee_won, discount_won),
        (114_000, 4_000, 0)
    );
    // The ticket prices alone are not the hold's amount.
    let short = run(
        &mut ledger,
        now_ms,
        "short",
        Command::Confirm {
            performance: PERFORMANCE,
            hold,
            payment_ref: "tgen_short".into(),
            amount_won: 110_000,
        },
    );
    assert_eq!(
        short,
        Err(Rejection::WrongAmount {
            expected_won: 114_000
        })
    );
    let view = ledger
        .performance(PERFORMANCE)
        .and_then(|p| p.hold_view(hold))
        .expect("the hold");
    assert_eq!(view.booking_fee_won, 4_000);
    assert!(view.places.iter().all(|p| p.booking_fee_won == 2_000));
    let paid = run(
        &mut ledger,
        now_ms,
        "pay",
        Command::Confirm {
            performance: PERFORMANCE,
            hold,
            payment_ref: "tgen_fee".into(),
            amount_won: 114_000,
        },
    );
    assert!(matches!(paid, Ok(Reply::Confirmed { .. })), "{paid:?}");
    let money = money(&ledger);
    assert_eq!(
        (
            money.payments_won,
            money.revenue_won,
            money.booking_fees_won
        ),
        (114_000, 110_000, 4_000)
    );
}

#[test]
fn an_offer_reduces_the_price_never_the_booking_fee() {
    let now_ms = kst_ms(2027, 5, 3, 12, 0);
    let mut ledger = opened(now_ms, spec());
    let coupon = Some(OfferChoice::Coupon("LESS-5000".into()));
    let (hold, amount_won) = hold(&mut ledger, now_ms, "hold", coupon);
    // 2 × 55,000 − 5,000 (the coupon, on the order) + 2 × 2,000.
    assert_eq!(amount_won, 109_000);
    let view = ledger
        .performance(PERFORMANCE)
        .and_then(|p| p.hold_view(hold))
        .expect("the hold");
    assert_eq!((view.discount_won, view.booking_fee_won), (5_000, 4_000));
    let prices: Won = view.places.iter().map(|p| p.price_won).sum();
    assert_eq!(prices + view.booking_fee_won, view.amount_won);
}

#[test]
fn cancelling_on_the_booking_day_refunds_the_booking_fee() {
    let booked_at_ms = kst_ms(2027, 5, 3, 12, 0);
    let mut ledger = opened(booked_at_ms, spec());
    let (booking, tickets) = booked(&mut ledger, booked_at_ms);
    // 23:59 KST on the same day: free, the booking fee back too.
    let cancelled = run(
        &mut ledger,
        kst_ms(2027, 5, 3, 23, 59),
        "cancel",
        Command::Cancel {
            performance: PERFORMANCE,
            booking,
            tickets: vec![tickets[0]],
        },
    );
    let Ok(Reply::Cancelled {
        refund_won,
        fee_won,
        booking_fee_kept_won,
        ..
    }) = cancelled
    else {
        panic!("not cancelled: {cancelled:?}");
    };
    assert_eq!((refund_won, fee_won, booking_fee_kept_won), (57_000, 0, 0));
    let money = money(&ledger);
    assert_eq!(money.booking_fees_won, 2_000);
    assert_eq!(money.refunds_won, 57_000);
}

#[test]
fn cancelling_later_keeps_the_booking_fee_and_charges_the_fee_on_the_price() {
    let booked_at_ms = kst_ms(2027, 5, 3, 12, 0);
    let mut ledger = opened(booked_at_ms, spec());
    let (booking, _) = booked(&mut ledger, booked_at_ms);
    // 2027-05-20: 17 days after booking, 41 days before the show: the flat 4,000원 per ticket
    // (under the 10 % cap of 55,000원 = 5,500원), and the booking fees kept.
    let cancelled = run(
        &mut ledger,
        kst_ms(2027, 5, 20, 12, 0),
        "cancel",
        Command::Cancel {
            performance: PERFORMANCE,
            booking,
            tickets: vec![],
        },
    );
    let Ok(Reply::Cancelled {
        refund_won,
        fee_won,
        booking_fee_kept_won,
        ..
    }) = cancelled
    else {
        panic!("not cancelled: {cancelled:?}");
    };
    assert_eq!(
        (refund_won, fee_won, booking_fee_kept_won),
        (2 * (55_000 - 4_000), 8_000, 4_000)
    );
    let money = money(&ledger);
    assert_eq!(
        (
            money.payments_won,
            money.refunds_won,
            money.revenue_won,
            money.fees_won,
            money.booking_fees_won
        ),
        (114_000, 102_000, 0, 8_000, 4_000)
    );
}

#[test]
fn calling_the_performance_off_refunds_the_booking_fee() {
    let booked_at_ms = kst_ms(2027, 5, 3, 12, 0);
    let mut ledger = opened(booked_at_ms, spec());
    booked(&mut ledger, booked_at_ms);
    let called_off = run(
        &mut ledger,
        kst_ms(2027, 5, 20, 12, 0),
        "call-off",
        Command::CancelPerformance {
            performance: PERFORMANCE,
            reason: "공연 취소".into(),
        },
    );
    let Ok(Reply::PerformanceCancelled { refund_won, .. }) = called_off else {
        panic!("not called off: {called_off:?}");
    };
    assert_eq!(refund_won, 114_000);
    let money = money(&ledger);
    assert_eq!((money.refunds_won, money.booking_fees_won), (114_000, 0));
}

#[test]
fn a_booking_fee_over_the_limit_is_refused() {
    let now_ms = kst_ms(2027, 5, 3, 12, 0);
    let mut ledger = Ledger::new(0);
    let too_much = PerformanceSpec {
        booking_fee_won: limits::BOOKING_FEE_WON_MAX + 1,
        ..spec()
    };
    let opened = run(
        &mut ledger,
        now_ms,
        "open",
        Command::OpenPerformance(Box::new(too_much)),
    );
    assert_eq!(opened, Err(Rejection::Invalid(Invalid::BookingFee)));
}
