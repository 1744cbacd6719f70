//! The cancellation waitlist, with figures worked out by hand: join order, any grade, together
//! or not, quantity and the per-buyer limit, auto-pay with a failing charge, offers declined and
//! lapsed, places reserved for the waitlist (or sent back to sale), the limits, every rejection,
//! leaving, and a call-off. Every test ends by replaying its journal into a new ledger, which
//! must equal the live one.
//!
//! The venue: grade VIP (0) at 150,000원 is section A row 1, seats 1–4 (ids 0–3); grade R (1)
//! at 100,000원 is section A row 2, seats 1–4 (ids 4–7); a standing zone "Floor" (zone 0) of
//! grade R for 3. Booking fee 1,000원 a ticket, 4 tickets per buyer, claim window 10 minutes,
//! charge window 5 minutes.

use picket_ledger_core::fees::kst_ms;
use picket_ledger_core::ledger::SeatState;
use picket_ledger_core::limits::{
    BILLING_REF_LEN_MAX, CHARGE_FAILURE_REASON_LEN_MAX, WAITLIST_CHARGE_WINDOW_MS_MAX,
    WAITLIST_CHARGE_WINDOW_MS_MIN, WAITLIST_CLAIM_WINDOW_MS_MAX, WAITLIST_CLAIM_WINDOW_MS_MIN,
    WAITLIST_ENTRIES_MAX, WAITLIST_ENTRIES_PER_BUYER_MAX,
};
use picket_ledger_core::*;

const PERFORMANCE: PerformanceId = PerformanceId(77);
const VIP: GradeId = GradeId(0);
const R: GradeId = GradeId(1);
const FLOOR: ZoneId = ZoneId(0);
const MINUTE_MS: u64 = 60_000;

fn spec() -> PerformanceSpec {
    let row = |row: &'static str, grade| {
        (1..=4).map(move |number| SeatSpec {
            section: "A".into(),
            row: row.into(),
            number,
            grade,
            blocked: false,
        })
    };
    PerformanceSpec {
        grades: vec![
            GradeSpec {
                code: "VIP".into(),
                price_won: 150_000,
            },
            GradeSpec {
                code: "R".into(),
                price_won: 100_000,
            },
        ],
        seats: row("1", VIP).chain(row("2", R)).collect(),
        zones: vec![ZoneSpec {
            name: "Floor".into(),
            grade: R,
            capacity: 3,
        }],
        booking_fee_won: 1_000,
        ..PerformanceSpec::plain(PERFORMANCE, kst_ms(2027, 3, 1, 19, 0), 0, 0, 1)
    }
}

struct Show {
    ledger: Ledger,
    now_ms: u64,
    journal: Vec<Event>,
    seq: u64,
}

impl Show {
    fn open(spec: PerformanceSpec) -> Self {
        let mut show = Show {
            ledger: Ledger::new(2),
            now_ms: kst_ms(2027, 1, 5, 10, 0),
            journal: Vec::new(),
            seq: 0,
        };
        show.ok(0, Command::OpenPerformance(Box::new(spec)));
        show
    }

    fn run(&mut self, actor: u64, command: Command) -> Step {
        self.seq += 1;
        let request = Request {
            actor: ActorId(actor),
            key: IdempotencyKey::new(format!("k{}", self.seq)).expect("key"),
            command,
        };
        let step = self.ledger.execute(self.now_ms, &request);
        self.journal.extend(step.events.iter().cloned());
        step
    }

    fn ok(&mut self, actor: u64, command: Command) -> (Reply, Vec<Event>) {
        let step = self.run(actor, command);
        match step.outcome {
            Ok(reply) => (reply, step.events),
            Err(rejection) => panic!("rejected: {rejection:?}"),
        }
    }

    fn err(&mut self, actor: u64, command: Command) -> Rejection {
        let step = self.run(actor, command);
        // A rejection records only its outcome (after whatever time alone decided).
        let events = step
            .events
            .iter()
            .filter(|e| !matches!(e, Event::KeysForgotten { .. }))
            .count();
        match step.outcome {
            Err(rejection) if events == 1 => rejection,
            other => panic!("expected a rejection, got {other:?} with {events} events"),
        }
    }

    fn hold(&mut self, actor: u64, selection: Selection) -> (HoldId, Won) {
        let (reply, _) = self.ok(
            actor,
            Command::Hold {
                performance: PERFORMANCE,
                selection,
                admission: None,
                offer: None,
            },
        );
        let Reply::Held {
            hold, amount_won, ..
        } = reply
        else {
            panic!("{reply:?}");
        };
        (hold, amount_won)
    }

    fn confirm(&mut self, actor: u64, hold: HoldId, amount_won: Won) -> (Reply, Vec<Event>) {
        self.ok(
            actor,
            Command::Confirm {
                performance: PERFORMANCE,
                hold,
                payment_ref: format!("pay-{hold}"),
                amount_won,
            },
        )
    }

    /// Books `selection` for `actor`: its booking and tickets (in the selection's order).
    fn book(&mut self, actor: u64, selection: Selection) -> (BookingId, Vec<TicketId>) {
        let (hold, amount_won) = self.hold(actor, selection);
        let (reply, _) = self.confirm(actor, hold, amount_won);
        let Reply::Confirmed {
            booking, tickets, ..
        } = reply
        else {
            panic!("{reply:?}");
        };
        (booking, tickets)
    }

    fn seats(ids: &[u32]) -> Selection {
        Selection::Seats(ids.iter().map(|s| SeatId(*s)).collect())
    }

    /// Sells every seat: buyer 1 seats 0–1, buyer 2 seats 2–3, buyer 3 seats 4–5, buyer 4
    /// seats 6–7, buyer 5 the three floor places.
    fn sell_out(&mut self) -> Vec<(BookingId, Vec<TicketId>)> {
        let mut sold: Vec<_> = (0..4u32)
            .map(|i| self.book(u64::from(i) + 1, Show::seats(&[2 * i, 2 * i + 1])))
            .collect();
        sold.push(self.book(
            5,
            Selection::Zone {
                zone: FLOOR,
                count: 3,
            },
        ));
        assert_eq!(self.state().places_free(), 0);
        sold
    }

    fn cancel(&mut self, actor: u64, booking: BookingId, tickets: &[TicketId]) -> Vec<Event> {
        let (_, events) = self.ok(
            actor,
            Command::Cancel {
                performance: PERFORMANCE,
                booking,
                tickets: tickets.to_vec(),
            },
        );
        events
    }

    fn join(
        &mut self,
        actor: u64,
        grade: Option<GradeId>,
        quantity: u16,
        together: bool,
        mode: WaitlistMode,
    ) -> (WaitlistEntryId, u32) {
        let (reply, _) = self.ok(actor, join(grade, quantity, together, mode));
        let Reply::WaitlistJoined { entry, position } = reply else {
            panic!("{reply:?}");
        };
        (entry, position)
    }

    fn state(&self) -> &PerformanceState {
        self.ledger.performance(PERFORMANCE).expect("open")
    }

    /// Nothing lost: the journal alone, through JSON as the shell stores it, rebuilds the same
    /// ledger, and the state survives a postcard snapshot.
    fn assert_replays(&self) {
        let mut rebuilt = Ledger::new(2);
        for event in &self.journal {
            let stored = serde_json::to_string(event).expect("encode");
            rebuilt.apply(&serde_json::from_str(&stored).expect("decode"));
        }
        assert_eq!(rebuilt.digest(), self.ledger.digest());
        assert!(rebuilt == self.ledger, "replayed state differs");
        let snapshot = postcard::to_allocvec(&self.ledger).expect("snapshot");
        let restored: Ledger = postcard::from_bytes(&snapshot).expect("restore");
        assert!(restored == self.ledger, "snapshot state differs");
    }
}

fn join(grade: Option<GradeId>, quantity: u16, together: bool, mode: WaitlistMode) -> Command {
    Command::JoinWaitlist {
        performance: PERFORMANCE,
        grade,
        quantity,
        together,
        mode,
    }
}

fn auto_pay(billing_ref: &str) -> WaitlistMode {
    WaitlistMode::AutoPay {
        billing_ref: billing_ref.into(),
    }
}

/// The offers a step made: (entry, hold, buyer, places, amount, deadline).
type Offered = (WaitlistEntryId, HoldId, ActorId, Vec<Place>, Won, u64);

fn offers(events: &[Event]) -> Vec<Offered> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::WaitlistOffered {
                entry,
                hold,
                buyer,
                places,
                amount_won,
                deadline_ms,
                ..
            } => Some((
                *entry,
                *hold,
                *buyer,
                places.clone(),
                *amount_won,
                *deadline_ms,
            )),
            _ => None,
        })
        .collect()
}

fn ended(events: &[Event]) -> Vec<(WaitlistEntryId, WaitlistEndReason)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::WaitlistEntryEnded { entry, reason, .. } => Some((*entry, reason.clone())),
            _ => None,
        })
        .collect()
}

fn reserved(events: &[Event]) -> Vec<Place> {
    events
        .iter()
        .flat_map(|e| match e {
            Event::WaitlistReserved { places, .. } => places.clone(),
            _ => Vec::new(),
        })
        .collect()
}

fn unreserved(events: &[Event]) -> Vec<Place> {
    events
        .iter()
        .flat_map(|e| match e {
            Event::WaitlistUnreserved { places, .. } => places.clone(),
            _ => Vec::new(),
        })
        .collect()
}

#[test]
fn freed_places_go_to_the_first_entry_they_satisfy_in_join_order_and_the_rest_are_reserved() {
    let mut show = Show::open(spec());
    let sold = show.sell_out();
    let (e1, p1) = show.join(10, Some(VIP), 1, false, WaitlistMode::Offer);
    let (e2, p2) = show.join(11, None, 1, false, WaitlistMode::Offer);
    let (e3, p3) = show.join(12, Some(R), 2, false, WaitlistMode::Offer);
    assert_eq!((p1, p2, p3), (1, 2, 3));
    let sizes = show.state().waitlist_sizes();
    assert_eq!((sizes.per_grade, sizes.any_grade), (vec![1, 1], 1));
    // Buyer 3 cancels seat 4 (R): e1 wants VIP, so e2 (any grade) gets it at the R price plus
    // the booking fee, held for the 10-minute claim window.
    let (booking3, tickets3) = sold[2].clone();
    let events = show.cancel(3, booking3, &tickets3[..1]);
    let offered = offers(&events);
    assert_eq!(offered.len(), 1);
    let (entry, hold, buyer, places, amount_won, deadline_ms) = offered[0].clone();
    assert_eq!((entry, buyer), (e2, ActorId(11)));
    assert_eq!(places, vec![Place::Seat(SeatId(4))]);
    assert_eq!(amount_won, 101_000);
    assert_eq!(deadline_ms, show.now_ms + 10 * MINUTE_MS);
    assert_eq!(show.state().seat(SeatId(4)), Some(SeatState::Held(hold)));
    assert_eq!(
        show.state().hold_view(hold).expect("hold").amount_won,
        101_000
    );
    // e2 has left the queue: e1 is first, e3 second (first of its grade's line).
    assert_eq!(show.state().waitlist_position(e2), None);
    let at = |e| show.state().waitlist_position(e).expect("waits");
    assert_eq!((at(e1).overall, at(e3).overall, at(e3).in_grade), (1, 2, 1));
    // Buyer 1 cancels both VIP seats: e1 takes the better one (seat 0); e3 wants two R, so
    // seat 1 is kept off sale for the waitlist while e3 waits.
    let (booking1, _) = sold[0].clone();
    let events = show.cancel(1, booking1, &[]);
    let offered = offers(&events);
    assert_eq!(offered.len(), 1);
    assert_eq!(offered[0].0, e1);
    assert_eq!(offered[0].3, vec![Place::Seat(SeatId(0))]);
    assert_eq!(offered[0].4, 151_000);
    assert_eq!(reserved(&events), vec![Place::Seat(SeatId(1))]);
    assert_eq!(show.state().seat(SeatId(1)), Some(SeatState::Reserved));
    assert!(!show.state().availability().seat_free[1]);
    assert_eq!(show.state().places_free(), 0);
    let taken = show.err(
        20,
        Command::Hold {
            performance: PERFORMANCE,
            selection: Show::seats(&[1]),
            admission: None,
            offer: None,
        },
    );
    assert_eq!(taken, Rejection::SeatTaken { seat: SeatId(1) });
    let report = show.state().waitlist_report();
    assert_eq!(report.waiting.per_grade, vec![0, 1]);
    assert_eq!(
        (
            report.offers_open,
            report.places_offered,
            report.places_reserved
        ),
        (2, 2, 1)
    );
    // e3, the last entry waiting, leaves: seat 1 goes back on sale.
    let (reply, events) = show.ok(
        12,
        Command::LeaveWaitlist {
            performance: PERFORMANCE,
            entry: e3,
        },
    );
    assert_eq!(
        reply,
        Reply::WaitlistLeft {
            entry: e3,
            released: None
        }
    );
    assert_eq!(ended(&events), vec![(e3, WaitlistEndReason::Left)]);
    assert_eq!(unreserved(&events), vec![Place::Seat(SeatId(1))]);
    assert!(show.state().availability().seat_free[1]);
    assert_eq!(show.state().places_free(), 1);
    show.assert_replays();
}

#[test]
fn a_together_entry_waits_for_adjacent_seats_and_a_declined_offer_moves_on() {
    let mut show = Show::open(spec());
    let sold = show.sell_out();
    let (together, _) = show.join(10, Some(R), 2, true, WaitlistMode::Offer);
    let (apart, _) = show.join(11, Some(R), 2, false, WaitlistMode::Offer);
    let (booking3, tickets3) = sold[2].clone();
    let (booking4, tickets4) = sold[3].clone();
    // Seat 4 (row 2, number 1) alone satisfies neither: reserved.
    let events = show.cancel(3, booking3, &tickets3[..1]);
    assert!(offers(&events).is_empty());
    assert_eq!(reserved(&events), vec![Place::Seat(SeatId(4))]);
    // With seat 6 (number 3) the pool has two R seats, not side by side: the first entry is
    // passed over (it cannot take them) and the second gets both.
    let events = show.cancel(4, booking4, &tickets4[..1]);
    let offered = offers(&events);
    assert_eq!(offered.len(), 1);
    assert_eq!(offered[0].0, apart);
    assert_eq!(
        offered[0].3,
        vec![Place::Seat(SeatId(4)), Place::Seat(SeatId(6))]
    );
    assert_eq!(offered[0].4, 202_000);
    assert!(show.state().waitlist().reserved_seats().is_empty());
    // Seats 5 and 7 (numbers 2 and 4) are freed: not adjacent either; both reserved.
    let events = show.cancel(3, booking3, &tickets3[1..]);
    assert_eq!(reserved(&events), vec![Place::Seat(SeatId(5))]);
    let events = show.cancel(4, booking4, &tickets4[1..]);
    assert_eq!(reserved(&events), vec![Place::Seat(SeatId(7))]);
    // The second entry declines: seats 4 and 6 move on. The pool is now 4, 5, 6, 7 (numbers
    // 1–4): the together entry takes the first run, numbers 1–2; nobody waits after it, so 6
    // and 7 go back on sale.
    let hold = offered[0].1;
    let (reply, events) = show.ok(
        11,
        Command::DeclineOffer {
            performance: PERFORMANCE,
            entry: apart,
        },
    );
    assert_eq!(reply, Reply::OfferDeclined { entry: apart, hold });
    assert_eq!(ended(&events), vec![(apart, WaitlistEndReason::Declined)]);
    let offered = offers(&events);
    assert_eq!(offered.len(), 1);
    assert_eq!(offered[0].0, together);
    assert_eq!(
        offered[0].3,
        vec![Place::Seat(SeatId(4)), Place::Seat(SeatId(5))]
    );
    let mut back = unreserved(&events);
    back.sort();
    assert_eq!(back, vec![Place::Seat(SeatId(7))]);
    // Seat 6 was freed by the decline and never reserved: on sale as it was freed.
    assert!(show.state().availability().seat_free[6]);
    assert!(show.state().availability().seat_free[7]);
    assert_eq!(show.state().places_free(), 2);
    show.assert_replays();
}

#[test]
fn standing_places_are_reserved_per_zone_and_offered_together_from_one_zone() {
    let mut show = Show::open(spec());
    let sold = show.sell_out();
    let (entry, _) = show.join(10, Some(R), 2, true, WaitlistMode::Offer);
    let (floor, tickets) = sold[4].clone();
    let events = show.cancel(5, floor, &tickets[..1]);
    assert_eq!(reserved(&events), vec![Place::Zone(FLOOR)]);
    assert_eq!(show.state().zone_free(FLOOR), 0);
    assert_eq!(show.state().waitlist().reserved_in_zone(FLOOR), 1);
    let events = show.cancel(5, floor, &tickets[1..2]);
    let offered = offers(&events);
    assert_eq!(offered.len(), 1);
    assert_eq!(offered[0].0, entry);
    assert_eq!(offered[0].3, vec![Place::Zone(FLOOR); 2]);
    assert_eq!(offered[0].4, 202_000);
    // One of the two came out of the reserve, the other was freed by this cancellation.
    assert!(events.iter().any(|e| matches!(
        e,
        Event::WaitlistOffered { from_reserve, .. } if *from_reserve == vec![Place::Zone(FLOOR)]
    )));
    assert_eq!(show.state().waitlist().reserved_in_zone(FLOOR), 0);
    let zone = show.state().zone(FLOOR).expect("zone");
    assert_eq!((zone.held, zone.sold), (2, 1));
    // Claimed with the ordinary Confirm of the offered hold, at the amount offered: the
    // entry ends as booked, and the seller's numbers count the two places.
    let (reply, events) = show.confirm(10, offered[0].1, 202_000);
    assert!(matches!(reply, Reply::Confirmed { .. }));
    assert_eq!(ended(&events), vec![(entry, WaitlistEndReason::Booked)]);
    let report = show.state().waitlist_report();
    assert_eq!((report.places_offered, report.places_booked), (2, 2));
    assert_eq!(report.offers_open, 0);
    show.assert_replays();
}

#[test]
fn an_auto_pay_offer_whose_charge_fails_moves_on_to_the_next_entry() {
    let mut show = Show::open(spec());
    let sold = show.sell_out();
    let (first, _) = show.join(10, None, 1, false, auto_pay("billing-10"));
    let (second, _) = show.join(11, None, 1, false, WaitlistMode::Offer);
    // A charge failure for an entry still waiting, or one that is not auto-pay, is refused.
    let charge_failed = |entry, reason: &str| Command::ChargeFailed {
        performance: PERFORMANCE,
        entry,
        reason: reason.into(),
    };
    assert_eq!(
        show.err(0, charge_failed(first, "한도 초과")),
        Rejection::NoWaitlistOffer
    );
    let (booking2, tickets2) = sold[1].clone();
    let events = show.cancel(2, booking2, &tickets2[1..]);
    let offered = offers(&events);
    assert_eq!(offered.len(), 1);
    let (entry, hold, _, places, amount_won, deadline_ms) = offered[0].clone();
    assert_eq!((entry, places), (first, vec![Place::Seat(SeatId(3))]));
    assert_eq!(amount_won, 151_000);
    // The charge window (5 minutes), not the claim window.
    assert_eq!(deadline_ms, show.now_ms + 5 * MINUTE_MS);
    assert!(events.iter().any(|e| matches!(
        e,
        Event::WaitlistOffered { mode: WaitlistMode::AutoPay { billing_ref }, .. }
            if billing_ref == "billing-10"
    )));
    for reason in [String::new(), "x".repeat(CHARGE_FAILURE_REASON_LEN_MAX + 1)] {
        assert_eq!(
            show.err(0, charge_failed(first, &reason)),
            Rejection::Invalid(Invalid::ChargeFailureReason)
        );
    }
    show.now_ms += MINUTE_MS;
    let (reply, events) = show.ok(0, charge_failed(first, "한도 초과 (limit exceeded)"));
    assert_eq!(reply, Reply::ChargeFailureRecorded { entry: first, hold });
    assert_eq!(
        ended(&events),
        vec![(
            first,
            WaitlistEndReason::ChargeFailed {
                reason: "한도 초과 (limit exceeded)".into()
            }
        )]
    );
    let offered = offers(&events);
    assert_eq!(offered.len(), 1);
    assert_eq!(offered[0].0, second);
    assert_eq!(offered[0].3, vec![Place::Seat(SeatId(3))]);
    assert_eq!(offered[0].5, show.now_ms + 10 * MINUTE_MS);
    assert_eq!(
        show.err(0, charge_failed(second, "x")),
        Rejection::NotAutoPay
    );
    assert_eq!(
        show.err(0, charge_failed(first, "x")),
        Rejection::UnknownWaitlistEntry
    );
    let report = show.state().waitlist_report();
    assert_eq!((report.places_offered, report.places_booked), (2, 0));
    show.assert_replays();
}

#[test]
fn an_offer_that_lapses_moves_on_and_cannot_be_paid() {
    let mut show = Show::open(spec());
    let sold = show.sell_out();
    let (first, _) = show.join(10, Some(VIP), 1, false, WaitlistMode::Offer);
    let (second, _) = show.join(11, Some(VIP), 1, false, WaitlistMode::Offer);
    let (booking1, tickets1) = sold[0].clone();
    let events = show.cancel(1, booking1, &tickets1[..1]);
    let (entry, hold, _, _, amount_won, deadline_ms) = offers(&events)[0].clone();
    assert_eq!(entry, first);
    // At the deadline the hold expires; the next command's step carries the lapse and the
    // next offer, before the command's own events.
    show.now_ms = deadline_ms;
    let step = show.run(
        10,
        Command::Confirm {
            performance: PERFORMANCE,
            hold,
            payment_ref: "late".into(),
            amount_won,
        },
    );
    assert_eq!(step.outcome, Err(Rejection::HoldExpired));
    assert!(matches!(step.events[0], Event::HoldExpired { hold: h, .. } if h == hold));
    assert_eq!(
        ended(&step.events),
        vec![(first, WaitlistEndReason::Lapsed)]
    );
    let offered = offers(&step.events);
    assert_eq!(offered.len(), 1);
    assert_eq!(offered[0].0, second);
    assert_eq!(offered[0].3, vec![Place::Seat(SeatId(0))]);
    assert_eq!(offered[0].5, deadline_ms + 10 * MINUTE_MS);
    show.assert_replays();
}

#[test]
fn with_freed_to_sale_places_no_entry_can_take_go_back_on_sale() {
    let mut spec = spec();
    spec.waitlist.freed_to_sale = true;
    let mut show = Show::open(spec);
    let sold = show.sell_out();
    show.join(10, Some(VIP), 1, false, WaitlistMode::Offer);
    let (booking3, tickets3) = sold[2].clone();
    let events = show.cancel(3, booking3, &tickets3[..1]);
    assert!(offers(&events).is_empty());
    assert!(reserved(&events).is_empty());
    assert!(show.state().availability().seat_free[4]);
    show.hold(20, Show::seats(&[4]));
    show.assert_replays();
}

#[test]
fn the_per_buyer_limit_counts_tickets_and_holds_at_join_and_at_offer() {
    let mut show = Show::open(spec());
    show.sell_out();
    // Buyer 1 owns 2 tickets (limit 4): 3 more is too many, 2 is fine.
    assert_eq!(
        show.err(1, join(None, 3, false, WaitlistMode::Offer)),
        Rejection::OverBuyerLimit {
            limit: 4,
            already: 2
        }
    );
    let (mine, _) = show.join(1, None, 2, false, WaitlistMode::Offer);
    let (other, _) = show.join(30, None, 1, false, WaitlistMode::Offer);
    // Buyer 1 then gets 2 more tickets elsewhere (a transfer stands in): at the offer, the
    // entry would take buyer 1 past the limit, so it is passed over and keeps waiting.
    let mut spec_with_transfers = spec();
    spec_with_transfers.door.transfer_until_ms = Some(spec_with_transfers.starts_at_ms);
    let mut show2 = Show::open(spec_with_transfers);
    let sold = show2.sell_out();
    let (mine2, _) = show2.join(1, None, 2, false, WaitlistMode::Offer);
    let (other2, _) = show2.join(30, None, 1, false, WaitlistMode::Offer);
    let (_, tickets2) = sold[1].clone();
    for ticket in &tickets2 {
        show2.ok(
            2,
            Command::TransferTicket {
                performance: PERFORMANCE,
                ticket: *ticket,
                to: ActorId(1),
            },
        );
    }
    let (booking3, tickets3) = sold[2].clone();
    let events = show2.cancel(3, booking3, &tickets3);
    let offered = offers(&events);
    assert_eq!(offered.len(), 1);
    assert_eq!(offered[0].0, other2);
    assert_eq!(offered[0].3, vec![Place::Seat(SeatId(4))]);
    assert!(show2.state().waitlist_position(mine2).is_some());
    assert_eq!(reserved(&events), vec![Place::Seat(SeatId(5))]);
    // In the first show nothing was freed: both still wait, in order.
    assert_eq!(
        show.state().waitlist_position(mine).expect("waits").overall,
        1
    );
    assert_eq!(
        show.state()
            .waitlist_position(other)
            .expect("waits")
            .overall,
        2
    );
    show.assert_replays();
    show2.assert_replays();
}

#[test]
fn joining_is_refused_with_typed_rejections_at_every_limit() {
    let mut show = Show::open(spec());
    let offer = || WaitlistMode::Offer;
    assert_eq!(
        show.err(10, join(None, 0, false, offer())),
        Rejection::Invalid(Invalid::EmptySelection)
    );
    assert_eq!(
        show.err(10, join(None, 17, false, offer())),
        Rejection::Invalid(Invalid::TooManyPlaces)
    );
    assert_eq!(
        show.err(10, join(None, 1, false, auto_pay(""))),
        Rejection::Invalid(Invalid::BillingRef)
    );
    let long = "b".repeat(BILLING_REF_LEN_MAX + 1);
    assert_eq!(
        show.err(10, join(None, 1, false, auto_pay(&long))),
        Rejection::Invalid(Invalid::BillingRef)
    );
    show.join(10, None, 1, false, auto_pay(&long[1..]));
    assert_eq!(
        show.err(10, join(Some(GradeId(2)), 1, false, offer())),
        Rejection::UnknownGrade { grade: GradeId(2) }
    );
    for _ in 1..WAITLIST_ENTRIES_PER_BUYER_MAX {
        show.join(10, Some(R), 1, true, offer());
    }
    assert_eq!(
        show.err(10, join(None, 1, false, offer())),
        Rejection::TooManyWaitlistEntries {
            limit: WAITLIST_ENTRIES_PER_BUYER_MAX
        }
    );
    // The performance's own limit: fill it with other buyers (4 entries each).
    let others = WAITLIST_ENTRIES_MAX / usize::from(WAITLIST_ENTRIES_PER_BUYER_MAX) - 1;
    for buyer in 0..others as u64 {
        for _ in 0..WAITLIST_ENTRIES_PER_BUYER_MAX {
            show.join(1_000 + buyer, None, 1, false, offer());
        }
    }
    assert_eq!(
        show.state().waitlist().entries().count(),
        WAITLIST_ENTRIES_MAX
    );
    assert_eq!(
        show.err(11, join(None, 1, false, offer())),
        Rejection::WaitlistFull
    );
    // Leaving makes room.
    let (entry, _) = show
        .state()
        .waitlist()
        .entries()
        .next()
        .map(|(id, e)| (*id, e.buyer))
        .expect("entry");
    show.ok(
        10,
        Command::LeaveWaitlist {
            performance: PERFORMANCE,
            entry,
        },
    );
    let (_, position) = show.join(11, None, 1, false, offer());
    assert_eq!(position as usize, WAITLIST_ENTRIES_MAX);
    // After the show starts, nobody joins.
    show.now_ms = show.state().spec().starts_at_ms;
    assert_eq!(
        show.err(12, join(None, 1, false, offer())),
        Rejection::SalesClosed
    );
}

#[test]
fn a_closed_waitlist_and_bad_windows_are_refused() {
    let mut closed = spec();
    closed.waitlist.enabled = false;
    let mut show = Show::open(closed);
    assert_eq!(
        show.err(10, join(None, 1, false, WaitlistMode::Offer)),
        Rejection::WaitlistClosed
    );
    let mut show = Show::open(spec());
    let bad_windows = [
        (WAITLIST_CLAIM_WINDOW_MS_MIN - 1, 5 * MINUTE_MS),
        (WAITLIST_CLAIM_WINDOW_MS_MAX + 1, 5 * MINUTE_MS),
        (10 * MINUTE_MS, WAITLIST_CHARGE_WINDOW_MS_MIN - 1),
        (10 * MINUTE_MS, WAITLIST_CHARGE_WINDOW_MS_MAX + 1),
    ];
    for (claim_window_ms, charge_window_ms) in bad_windows {
        let mut bad = spec();
        bad.performance = PerformanceId(78);
        bad.waitlist.claim_window_ms = claim_window_ms;
        bad.waitlist.charge_window_ms = charge_window_ms;
        assert_eq!(
            show.err(0, Command::OpenPerformance(Box::new(bad))),
            Rejection::Invalid(Invalid::WaitlistWindow)
        );
    }
    // The defaults: on, 10 and 5 minutes, freed places reserved.
    let defaults = WaitlistSpec::default();
    assert!(defaults.enabled && !defaults.freed_to_sale);
    assert_eq!(
        (defaults.claim_window_ms, defaults.charge_window_ms),
        (10 * MINUTE_MS, 5 * MINUTE_MS)
    );
}

#[test]
fn only_its_buyer_leaves_or_declines_and_leaving_with_an_offer_gives_the_places_on() {
    let mut show = Show::open(spec());
    let sold = show.sell_out();
    let (first, _) = show.join(10, Some(R), 1, false, WaitlistMode::Offer);
    let (second, _) = show.join(11, Some(R), 1, false, WaitlistMode::Offer);
    let leave = |entry| Command::LeaveWaitlist {
        performance: PERFORMANCE,
        entry,
    };
    let decline = |entry| Command::DeclineOffer {
        performance: PerformanceId(77),
        entry,
    };
    assert_eq!(show.err(11, leave(first)), Rejection::NotYourWaitlistEntry);
    assert_eq!(
        show.err(11, decline(first)),
        Rejection::NotYourWaitlistEntry
    );
    assert_eq!(show.err(10, decline(first)), Rejection::NoWaitlistOffer);
    assert_eq!(
        show.err(10, leave(WaitlistEntryId(999))),
        Rejection::UnknownWaitlistEntry
    );
    let (booking4, tickets4) = sold[3].clone();
    let events = show.cancel(4, booking4, &tickets4[1..]);
    let hold = offers(&events)[0].1;
    // The first buyer leaves with the offer open: the hold is released and seat 7 goes to the
    // second.
    let (reply, events) = show.ok(10, leave(first));
    assert_eq!(
        reply,
        Reply::WaitlistLeft {
            entry: first,
            released: Some(hold)
        }
    );
    assert!(matches!(events[0], Event::HoldReleased { hold: h, .. } if h == hold));
    assert_eq!(ended(&events), vec![(first, WaitlistEndReason::Left)]);
    let offered = offers(&events);
    assert_eq!(offered[0].0, second);
    assert_eq!(offered[0].3, vec![Place::Seat(SeatId(7))]);
    // A plain Release of an offered hold is a decline.
    let (_, events) = show.ok(
        11,
        Command::Release {
            performance: PERFORMANCE,
            hold: offered[0].1,
        },
    );
    assert_eq!(ended(&events), vec![(second, WaitlistEndReason::Declined)]);
    assert!(show.state().availability().seat_free[7]);
    show.assert_replays();
}

#[test]
fn calling_the_performance_off_ends_waiting_entries_offers_and_the_reserve() {
    let mut show = Show::open(spec());
    let sold = show.sell_out();
    let (offered_entry, _) = show.join(10, Some(VIP), 1, false, WaitlistMode::Offer);
    let (waiting, _) = show.join(11, Some(VIP), 2, true, WaitlistMode::Offer);
    let (booking1, tickets1) = sold[0].clone();
    show.cancel(1, booking1, &tickets1[..1]);
    let (booking2, tickets2) = sold[1].clone();
    let events = show.cancel(2, booking2, &tickets2[1..]);
    assert_eq!(reserved(&events), vec![Place::Seat(SeatId(3))]);
    let (_, events) = show.ok(
        0,
        Command::CancelPerformance {
            performance: PERFORMANCE,
            reason: "공연 취소".into(),
        },
    );
    assert_eq!(
        ended(&events),
        vec![(offered_entry, WaitlistEndReason::CalledOff)]
    );
    assert!(offers(&events).is_empty());
    assert_eq!(show.state().waitlist().entries().count(), 0);
    assert!(show.state().waitlist().reserved_seats().is_empty());
    assert_eq!(show.state().waitlist_position(waiting), None);
    assert_eq!(
        show.err(12, join(None, 1, false, WaitlistMode::Offer)),
        Rejection::PerformanceCancelled
    );
    show.assert_replays();
}

#[test]
fn specs_and_journals_from_before_the_waitlist_decode_with_its_defaults() {
    let mut old = serde_json::to_value(spec()).expect("encode");
    old.as_object_mut().expect("object").remove("waitlist");
    let decoded: PerformanceSpec = serde_json::from_value(old.clone()).expect("decode");
    assert_eq!(decoded.waitlist, WaitlistSpec::default());
    old["waitlist"] = serde_json::json!({"freed_to_sale": true});
    let decoded: PerformanceSpec = serde_json::from_value(old).expect("decode");
    let expected = WaitlistSpec {
        freed_to_sale: true,
        ..WaitlistSpec::default()
    };
    assert_eq!(decoded.waitlist, expected);
}

#[test]
fn the_waitlist_read_names_one_buyers_entries_and_an_offers_hold_knows_its_entry() {
    let mut show = Show::open(spec());
    let sold = show.sell_out();
    let (first, _) = show.join(10, Some(R), 1, false, WaitlistMode::Offer);
    let (other, _) = show.join(11, None, 2, false, WaitlistMode::Offer);
    let (second, _) = show.join(10, Some(VIP), 1, false, WaitlistMode::Offer);

    let read = show.state().waitlist_read(Some(ActorId(10)));
    assert!(read.report.enabled);
    assert_eq!(read.report.waiting.per_grade, vec![1, 1]);
    assert_eq!(read.report.waiting.any_grade, 1);
    let listed: Vec<_> = read.entries.iter().map(|e| (e.entry, e.position)).collect();
    assert_eq!(
        listed,
        vec![
            (
                first,
                Some(WaitlistPosition {
                    overall: 1,
                    in_grade: 1
                })
            ),
            (
                second,
                Some(WaitlistPosition {
                    overall: 3,
                    in_grade: 1
                })
            ),
        ]
    );
    assert!(show.state().waitlist_read(None).entries.is_empty());
    assert_eq!(
        show.state().waitlist_read(Some(ActorId(11))).entries[0].entry,
        other
    );

    // Buyer 3's R seat 4 is cancelled: it is offered to the first entry, and its hold says so
    // until it is paid.
    let (booking, tickets) = &sold[2];
    let events = show.cancel(3, *booking, &tickets[..1]);
    let offered = offers(&events);
    assert_eq!(offered.len(), 1, "{events:?}");
    let (entry, hold, _, _, amount_won, _) = offered[0].clone();
    assert_eq!(entry, first);
    let view = show.state().hold_view(hold).expect("the offer's hold");
    assert_eq!(view.waitlist_entry, Some(first));
    let read = show.state().waitlist_read(Some(ActorId(10)));
    assert_eq!(read.entries[0].offer, Some(hold));
    assert_eq!(read.entries[0].position, None);
    assert_eq!(read.report.offers_open, 1);
    show.confirm(10, hold, amount_won);
    let view = show.state().hold_view(hold).expect("the paid hold");
    assert_eq!(view.waitlist_entry, None, "a paid offer is no open offer");
    // An ordinary hold is no offer: with no entry waiting, a freed seat goes back on sale.
    for (buyer, entry) in [(10, second), (11, other)] {
        show.ok(
            buyer,
            Command::LeaveWaitlist {
                performance: PERFORMANCE,
                entry,
            },
        );
    }
    let (booking, tickets) = &sold[0];
    show.cancel(1, *booking, &tickets[..1]);
    let (plain, _) = show.hold(12, Show::seats(&[0]));
    assert_eq!(
        show.state().hold_view(plain).expect("hold").waitlist_entry,
        None
    );
    show.assert_replays();
}
