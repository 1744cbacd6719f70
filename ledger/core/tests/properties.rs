//! Property tests of the core: shrinking finds the smallest breaking input when one exists.

use picket_ledger_core::fees::kst_ms;
use picket_ledger_core::limits::{IDEMPOTENCY_KEY_LEN_MAX, IDEMPOTENCY_RETENTION_MS};
use picket_ledger_core::*;
use proptest::prelude::*;

const PERFORMANCE: PerformanceId = PerformanceId(1);
const DAY_MS: u64 = 24 * 3_600_000;

fn spec() -> PerformanceSpec {
    PerformanceSpec {
        performance: PERFORMANCE,
        starts_at_ms: kst_ms(2027, 5, 1, 18, 0),
        kind: TicketKind::Performance,
        grades: vec![
            GradeSpec {
                code: "R".into(),
                price_won: 140_000,
            },
            GradeSpec {
                code: "S".into(),
                price_won: 110_000,
            },
        ],
        seats: (0..12)
            .map(|i| SeatSpec {
                section: "A".into(),
                row: format!("{}", i / 6 + 1),
                number: i % 6 + 1,
                grade: GradeId(i / 6),
                blocked: false,
            })
            .collect(),
        zones: vec![ZoneSpec {
            name: "Floor".into(),
            grade: GradeId(1),
            capacity: 5,
        }],
        per_buyer_limit: 4,
        hold_ttl_ms: 5 * 60_000,
        fees: FeeSchedule::korean_standard(TicketKind::Performance),
        booking_fee_won: 0,
        discounts: vec![],
        coupons: vec![],
        door: DoorSpec::default(),
        waitlist: WaitlistSpec::default(),
    }
}

/// One step of a random workload: (what, a, b, minutes to wait first).
type Op = (u8, u16, u16, u32);

fn command(ledger: &Ledger, (what, a, b, _): Op) -> (ActorId, Command) {
    let actor = ActorId(u64::from(a % 5) + 1);
    let performance = PERFORMANCE;
    let state = ledger.performance(PERFORMANCE).expect("opened");
    let hold = state
        .holds()
        .nth(usize::from(b) % state.holds().count().max(1))
        .map(|(id, h)| (*id, h.clone()));
    let ticket = state
        .tickets()
        .nth(usize::from(b) % state.tickets().count().max(1))
        .map(|(id, t)| (*id, t.clone()));
    let command = match (what % 7, hold, ticket) {
        (0, ..) => Command::Hold {
            performance,
            admission: None,
            selection: Selection::Seats(vec![SeatId(u32::from(b % 14))]),
            offer: None,
        },
        (1, ..) => Command::Hold {
            performance,
            admission: None,
            selection: Selection::BestAvailable {
                grade: GradeId(b % 3),
                count: a % 4,
            },
            offer: None,
        },
        (2, ..) => Command::Hold {
            performance,
            admission: None,
            selection: Selection::Zone {
                zone: ZoneId(0),
                count: b % 4,
            },
            offer: None,
        },
        (3, Some((id, h)), _) => {
            return (
                h.buyer,
                Command::Confirm {
                    performance,
                    hold: id,
                    payment_ref: "pay".into(),
                    amount_won: h.amount_won,
                },
            );
        }
        (4, Some((id, h)), _) => {
            return (
                h.buyer,
                Command::Release {
                    performance,
                    hold: id,
                },
            );
        }
        (5, _, Some((_, t))) => {
            let buyer = state.booking(t.booking).expect("booking").buyer;
            return (
                buyer,
                Command::Cancel {
                    performance,
                    booking: t.booking,
                    tickets: Vec::new(),
                },
            );
        }
        (_, _, Some((id, _))) => Command::CheckIn {
            performance,
            ticket: id,
        },
        _ => Command::Release {
            performance,
            hold: HoldId(u64::from(b)),
        },
    };
    (actor, command)
}

fn open(ledger: &mut Ledger, now_ms: u64) -> Vec<Event> {
    let request = Request {
        actor: ActorId(100),
        key: IdempotencyKey::new("open").expect("valid"),
        command: Command::OpenPerformance(Box::new(spec())),
    };
    ledger.execute(now_ms, &request).events
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// Any workload: no panic, money balances, replaying the events gives the same state, and
    /// repeating any request returns its first outcome without new domain events.
    #[test]
    fn any_workload_replays_exactly_and_repeats_are_idempotent(ops in prop::collection::vec((any::<u8>(), any::<u16>(), any::<u16>(), 0u32..3_000), 1..80)) {
        let mut now_ms = kst_ms(2027, 4, 1, 12, 0);
        let mut ledger = Ledger::new(0);
        let mut events = open(&mut ledger, now_ms);
        let mut sent = Vec::new();
        for (index, op) in ops.iter().enumerate() {
            now_ms += u64::from(op.3) * 60_000;
            let (actor, command) = command(&ledger, *op);
            let request = Request { actor, key: IdempotencyKey::new(format!("k{index}")).expect("valid"), command };
            let step = ledger.execute(now_ms, &request);
            prop_assert!(!step.duplicate);
            events.extend(step.events);
            sent.push((now_ms, request, step.outcome));
            let money = ledger.performance(PERFORMANCE).expect("opened").money();
            prop_assert_eq!(money.payments_won - money.refunds_won, money.revenue_won + money.fees_won);
        }
        let mut replayed = Ledger::new(0);
        for event in &events {
            replayed.apply(event);
        }
        prop_assert_eq!(replayed.digest(), ledger.digest());
        // Keys are remembered for the retention period; older ones may be forgotten.
        let remembered = sent.iter().filter(|(at_ms, ..)| at_ms + IDEMPOTENCY_RETENTION_MS > now_ms);
        for (_, request, outcome) in remembered {
            let again = ledger.execute(now_ms, request);
            prop_assert!(again.duplicate);
            prop_assert_eq!(&again.outcome, outcome);
            let only_time_events = again
                .events
                .iter()
                .all(|e| matches!(e, Event::HoldExpired { .. } | Event::KeysForgotten { .. }));
            prop_assert!(only_time_events, "a repeat journaled domain events");
        }
    }

    /// The fee never exceeds the price or 30 %, and cancelling on the day of booking (before the
    /// deadline) is free.
    #[test]
    fn fees_stay_within_the_standard(price in 0u64..1_000_000, booked_days in 0u64..60, waited_ms in 0u64..(60 * DAY_MS), kind in prop::bool::ANY) {
        let kind = if kind { TicketKind::Performance } else { TicketKind::Admission };
        let schedule = FeeSchedule::korean_standard(kind);
        let show = kst_ms(2027, 5, 1, 18, 0);
        let booked = show - booked_days * DAY_MS - 3_600_000;
        let now = booked + waited_ms;
        if let Some(fee) = schedule.fee_won(price, booked, now, show) {
            prop_assert!(fee <= price * 30 / 100);
            prop_assert!(now < schedule.deadline_ms(show));
            if fees::kst_day(now) == fees::kst_day(booked) {
                prop_assert_eq!(fee, 0);
            }
        }
        if now >= schedule.deadline_ms(show) {
            prop_assert_eq!(schedule.fee_won(price, booked, now, show), None);
        }
    }

    /// Keys are 1 to 64 printable ASCII bytes without spaces, and nothing else.
    #[test]
    fn idempotency_keys_accept_exactly_the_documented_shape(key in ".{0,80}") {
        let valid = !key.is_empty()
            && key.len() <= IDEMPOTENCY_KEY_LEN_MAX
            && key.bytes().all(|b| b.is_ascii_graphic());
        prop_assert_eq!(IdempotencyKey::new(key).is_ok(), valid);
    }
}

#[test]
fn a_hold_can_never_be_paid_at_or_after_its_deadline() {
    let start = kst_ms(2027, 4, 1, 12, 0);
    let mut ledger = Ledger::new(0);
    open(&mut ledger, start);
    let request = |key: &str, command| Request {
        actor: ActorId(7),
        key: IdempotencyKey::new(key).expect("valid"),
        command,
    };
    let held = ledger.execute(
        start,
        &request(
            "h",
            Command::Hold {
                performance: PERFORMANCE,
                admission: None,
                selection: Selection::Seats(vec![SeatId(3)]),
                offer: None,
            },
        ),
    );
    let Ok(Reply::Held {
        hold,
        amount_won,
        expires_at_ms,
        ..
    }) = held.outcome
    else {
        panic!("{held:?}")
    };
    assert_eq!(expires_at_ms, start + spec().hold_ttl_ms);
    let confirm = Command::Confirm {
        performance: PERFORMANCE,
        hold,
        payment_ref: "p".into(),
        amount_won,
    };
    let late = ledger.execute(expires_at_ms, &request("c", confirm));
    assert_eq!(late.outcome, Err(Rejection::HoldExpired));
    assert!(
        late.events
            .iter()
            .any(|e| matches!(e, Event::HoldExpired { .. }))
    );
    let state = ledger.performance(PERFORMANCE).expect("opened");
    assert_eq!(
        state.seat(SeatId(3)),
        Some(ledger::SeatState::Free),
        "an expired hold frees its seat"
    );
    let again = ledger.execute(
        expires_at_ms,
        &request(
            "h2",
            Command::Hold {
                performance: PERFORMANCE,
                admission: None,
                selection: Selection::Seats(vec![SeatId(3)]),
                offer: None,
            },
        ),
    );
    assert!(
        matches!(again.outcome, Ok(Reply::Held { .. })),
        "the freed seat is on sale again"
    );
}

#[test]
fn best_available_prefers_seats_side_by_side() {
    let now = kst_ms(2027, 4, 1, 12, 0);
    let mut ledger = Ledger::new(0);
    open(&mut ledger, now);
    let hold = |actor: u64, key: &str, selection| Request {
        actor: ActorId(actor),
        key: IdempotencyKey::new(key).expect("valid"),
        command: Command::Hold {
            performance: PERFORMANCE,
            admission: None,
            selection,
            offer: None,
        },
    };
    // Row 1 (grade R) seats 1..6: take seats 2 and 5, leaving 1, 3-4, 6.
    ledger.execute(
        now,
        &hold(1, "a", Selection::Seats(vec![SeatId(1), SeatId(4)])),
    );
    let best = ledger.execute(
        now,
        &hold(
            2,
            "b",
            Selection::BestAvailable {
                grade: GradeId(0),
                count: 2,
            },
        ),
    );
    let Ok(Reply::Held { places, .. }) = best.outcome else {
        panic!("{best:?}")
    };
    assert_eq!(
        places,
        vec![Place::Seat(SeatId(2)), Place::Seat(SeatId(3))],
        "the first pair side by side"
    );
    let scattered = ledger.execute(
        now,
        &hold(
            3,
            "c",
            Selection::BestAvailable {
                grade: GradeId(0),
                count: 2,
            },
        ),
    );
    let Ok(Reply::Held { places, .. }) = scattered.outcome else {
        panic!("{scattered:?}")
    };
    assert_eq!(
        places,
        vec![Place::Seat(SeatId(0)), Place::Seat(SeatId(5))],
        "no pair left: best single seats"
    );
}

/// An admission binds to its first buyer, survives a released hold, and is spent by a purchase.
#[test]
fn an_admission_buys_once_and_cannot_be_shared() {
    let now = kst_ms(2027, 4, 1, 12, 0);
    let mut ledger = Ledger::new(0);
    open(&mut ledger, now);
    let admission = Some(AdmissionId(900));
    let run = |ledger: &mut Ledger, actor: u64, key: &str, command| {
        let request = Request {
            actor: ActorId(actor),
            key: IdempotencyKey::new(key).expect("valid"),
            command,
        };
        ledger.execute(now, &request).outcome
    };
    let hold = |seat: u32| Command::Hold {
        performance: PERFORMANCE,
        admission,
        selection: Selection::Seats(vec![SeatId(seat)]),
        offer: None,
    };
    let Ok(Reply::Held { hold: first, .. }) = run(&mut ledger, 1, "a", hold(0)) else {
        panic!("first use holds")
    };
    assert_eq!(
        run(&mut ledger, 2, "b", hold(1)),
        Err(Rejection::AdmissionNotYours),
        "another buyer cannot use the admission"
    );
    let release = Command::Release {
        performance: PERFORMANCE,
        hold: first,
    };
    assert!(run(&mut ledger, 1, "c", release).is_ok());
    let Ok(Reply::Held {
        hold: second,
        amount_won,
        ..
    }) = run(&mut ledger, 1, "d", hold(2))
    else {
        panic!("the owner may hold again after releasing")
    };
    let confirm = Command::Confirm {
        performance: PERFORMANCE,
        hold: second,
        payment_ref: "pay-1".into(),
        amount_won,
    };
    assert!(matches!(
        run(&mut ledger, 1, "e", confirm),
        Ok(Reply::Confirmed { .. })
    ));
    assert_eq!(
        run(&mut ledger, 1, "f", hold(3)),
        Err(Rejection::AdmissionSpent),
        "a paid admission buys nothing more"
    );
    let state = ledger.performance(PERFORMANCE).expect("opened");
    assert_eq!(
        state.admission(AdmissionId(900)),
        Some(ledger::AdmissionUse {
            buyer: ActorId(1),
            spent: true
        })
    );
    // Replaying the journal's events rebuilds the same admissions.
    let mut replayed = Ledger::new(0);
    open(&mut replayed, now);
    let again = Command::Hold {
        performance: PERFORMANCE,
        admission,
        selection: Selection::Seats(vec![SeatId(4)]),
        offer: None,
    };
    assert!(run(&mut replayed, 1, "x", again.clone()).is_ok());
    assert_eq!(
        run(&mut replayed, 3, "y", again),
        Err(Rejection::AdmissionNotYours)
    );
}

proptest! {
    /// The seat map a buyer sees agrees with the seat states and zone counts after any workload.
    #[test]
    fn availability_matches_the_state(ops in prop::collection::vec((any::<u8>(), any::<u16>(), any::<u16>(), 0u32..30), 1..60)) {
        let mut now_ms = kst_ms(2027, 4, 1, 12, 0);
        let mut ledger = Ledger::new(0);
        open(&mut ledger, now_ms);
        for (index, op) in ops.iter().enumerate() {
            now_ms += u64::from(op.3) * 60_000;
            let (actor, command) = command(&ledger, *op);
            let request = Request { actor, key: IdempotencyKey::new(format!("k{index}")).expect("valid"), command };
            ledger.execute(now_ms, &request);
        }
        let state = ledger.performance(PERFORMANCE).expect("opened");
        let seen = state.availability();
        let free_seats = seen.seat_free.iter().filter(|f| **f).count() as u64;
        for (index, free) in seen.seat_free.iter().enumerate() {
            let actual = state.seat(SeatId(index as u32)) == Some(ledger::SeatState::Free);
            prop_assert_eq!(*free, actual);
        }
        let zone = state.zone(ZoneId(0)).expect("zone");
        prop_assert_eq!(seen.zone_free[0], 5 - zone.held - zone.sold);
        prop_assert_eq!(state.places_free(), free_seats + u64::from(seen.zone_free[0]));
    }
}

/// Holds seat 0 and confirms it with a payment of the hold's amount: the ledger and the events
/// that confirmed the booking.
fn booked_one_seat() -> (Ledger, Vec<Event>) {
    let now_ms = kst_ms(2027, 4, 1, 12, 0);
    let mut ledger = Ledger::new(0);
    open(&mut ledger, now_ms);
    let request = |key: &str, command: Command| Request {
        actor: ActorId(1),
        key: IdempotencyKey::new(key).expect("valid"),
        command,
    };
    let held = ledger.execute(
        now_ms,
        &request(
            "hold",
            Command::Hold {
                performance: PERFORMANCE,
                selection: Selection::Seats(vec![SeatId(0)]),
                admission: None,
                offer: None,
            },
        ),
    );
    let Ok(Reply::Held {
        hold, amount_won, ..
    }) = held.outcome
    else {
        panic!("hold refused: {:?}", held.outcome);
    };
    let confirmed = ledger.execute(
        now_ms,
        &request(
            "pay",
            Command::Confirm {
                performance: PERFORMANCE,
                hold,
                payment_ref: "pay-1".into(),
                amount_won,
            },
        ),
    );
    assert!(confirmed.outcome.is_ok(), "{:?}", confirmed.outcome);
    (ledger, confirmed.events)
}

/// The core's money assertion (invariant 6, checked after every applied event) stops a
/// confirmation whose payment is not what its tickets cost: replaying the booking's own events
/// into a second ledger balances, the same events with the payment one won off do not.
#[test]
#[should_panic(expected = "money does not balance")]
fn a_payment_that_differs_from_its_tickets_stops_the_core() {
    let (_, events) = booked_one_seat();
    let now_ms = kst_ms(2027, 4, 1, 12, 0);
    let mut ledger = Ledger::new(0);
    open(&mut ledger, now_ms);
    let hold = Request {
        actor: ActorId(1),
        key: IdempotencyKey::new("hold").expect("valid"),
        command: Command::Hold {
            performance: PERFORMANCE,
            selection: Selection::Seats(vec![SeatId(0)]),
            admission: None,
            offer: None,
        },
    };
    ledger.execute(now_ms, &hold);
    for event in &events {
        let mut event = event.clone();
        if let Event::BookingConfirmed { paid_won, .. } = &mut event {
            *paid_won -= 1;
        }
        ledger.apply(&event);
    }
}

/// A cancellation whose refund and fee add up to more than the ticket's price stops the core.
#[test]
#[should_panic(expected = "money does not balance")]
fn a_refund_larger_than_the_price_stops_the_core() {
    let (mut ledger, events) = booked_one_seat();
    let Some(Event::BookingConfirmed {
        booking,
        first_ticket,
        paid_won,
        ..
    }) = events
        .iter()
        .find(|e| matches!(e, Event::BookingConfirmed { .. }))
        .cloned()
    else {
        panic!("no confirmation in {events:?}");
    };
    ledger.apply(&Event::TicketsCancelled {
        performance: PERFORMANCE,
        booking,
        tickets: vec![first_ticket],
        refund_won: paid_won,
        fee_won: 4_000,
        booking_fee_refunded_won: 0,
        places: vec![Place::Seat(SeatId(0))],
    });
}

/// The hold read a checkout shows is what the ledger will require at `Confirm`: the same
/// amount, each place's grade and price, and, once paid, the booking and its payment.
#[test]
fn a_hold_read_shows_what_confirm_will_require() {
    let now_ms = kst_ms(2027, 4, 1, 12, 0);
    let mut ledger = Ledger::new(0);
    open(&mut ledger, now_ms);
    let request = |key: &str, command: Command| Request {
        actor: ActorId(1),
        key: IdempotencyKey::new(key).expect("valid"),
        command,
    };
    let held = ledger.execute(
        now_ms,
        &request(
            "hold",
            Command::Hold {
                performance: PERFORMANCE,
                selection: Selection::Seats(vec![SeatId(0), SeatId(6)]),
                admission: None,
                offer: None,
            },
        ),
    );
    let Ok(Reply::Held {
        hold, amount_won, ..
    }) = held.outcome
    else {
        panic!("hold refused: {:?}", held.outcome);
    };
    let view = ledger
        .performance(PERFORMANCE)
        .and_then(|p| p.hold_view(hold))
        .expect("the hold");
    assert_eq!(view.amount_won, amount_won);
    assert_eq!(view.amount_won, 140_000 + 110_000);
    assert_eq!(view.buyer, ActorId(1));
    assert_eq!(view.status, HoldStatus::Active);
    let grades: Vec<(&str, u64)> = view
        .places
        .iter()
        .map(|p| (p.grade_code.as_str(), p.price_won))
        .collect();
    assert_eq!(grades, vec![("R", 140_000), ("S", 110_000)]);
    assert_eq!(view.discount_won, 0);
    assert_eq!(
        view.cancellation_deadline_ms,
        view.fees.deadline_ms(spec().starts_at_ms)
    );
    let confirmed = ledger.execute(
        now_ms,
        &request(
            "pay",
            Command::Confirm {
                performance: PERFORMANCE,
                hold,
                payment_ref: "tgen_payment_key".into(),
                amount_won: view.amount_won,
            },
        ),
    );
    let Ok(Reply::Confirmed { booking, .. }) = confirmed.outcome else {
        panic!("not booked: {:?}", confirmed.outcome);
    };
    let paid = ledger
        .performance(PERFORMANCE)
        .and_then(|p| p.hold_view(hold))
        .expect("the hold");
    assert_eq!(paid.booking, Some(booking));
    assert_eq!(paid.payment_ref.as_deref(), Some("tgen_payment_key"));
    assert!(
        ledger
            .performance(PERFORMANCE)
            .and_then(|p| p.hold_view(HoldId(hold.0 + 1)))
            .is_none()
    );
}
