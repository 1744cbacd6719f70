//! Each seat's state (free, held, reserved for the waitlist, sold, off sale) per performance,
//! for the seller's dashboard (`dashboard.rs`): a read model fed by the ledger's committed
//! events (through `follow.rs`), like the seats-left read model, never by asking the writer.
//!
//! The ledger's subscription snapshot says only which seats are on sale, so after each
//! (re)subscription the seats off sale start unknown. Once the bookings projection has caught up
//! with the snapshot ([`SeatStates::caught_up`]), the first dashboard of a performance resolves
//! them from the projection's open holds and bookings ([`SeatStates::resolve`]): a seat in an
//! open hold is held, one with a ticket sold, any other reserved (off sale if the performance
//! was called off). Every event after the snapshot is applied on top and decides its seats
//! exactly; a booking of a hold made before the snapshot (whose seats the model does not know)
//! is remembered until the resolution, which then counts the hold's seats sold. Buyers never get
//! these states (their `seats` say only on sale or not).
//!
//! Bounds: one byte per seat and each open hold's seat list (each seat in one hold at most);
//! the bookings remembered before a resolution are of holds open at the snapshot, at most one
//! per place off sale then.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;

use picket_edge::dashboard::{
    DashboardSeats, SEAT_BLOCKED, SEAT_FREE, SEAT_HELD, SEAT_OFF, SEAT_RESERVED, SEAT_SOLD,
};
use picket_ledger_core::{Availability, Event, Place};

/// A seat off sale in the snapshot whose state the model has not resolved yet.
const UNKNOWN: u8 = b'?';

const FREE: u8 = SEAT_FREE as u8;
const HELD: u8 = SEAT_HELD as u8;
const RESERVED: u8 = SEAT_RESERVED as u8;
const SOLD: u8 = SEAT_SOLD as u8;
const OFF: u8 = SEAT_OFF as u8;
const BLOCKED: u8 = SEAT_BLOCKED as u8;

/// One performance's seats.
struct Seats {
    states: Vec<u8>,
    /// Open holds' seats (those the model saw held).
    holds: HashMap<u64, Vec<u32>>,
    cancelled: bool,
    /// Seats are [`UNKNOWN`] until resolved.
    unresolved: bool,
    /// Holds booked before the resolution whose seats the model does not know.
    booked_unknown: HashSet<u64>,
}

impl Seats {
    fn new(states: Vec<u8>, cancelled: bool) -> Self {
        let unresolved = states.contains(&UNKNOWN);
        Seats {
            states,
            holds: HashMap::new(),
            cancelled,
            unresolved,
            booked_unknown: HashSet::new(),
        }
    }

    /// Blocked seats keep their state: the ledger never holds, sells or frees them.
    fn set(&mut self, places: &[Place], state: u8) {
        for place in places {
            if let Place::Seat(seat) = place
                && let Some(slot) = self.states.get_mut(seat.0 as usize)
                && *slot != BLOCKED
            {
                *slot = state;
            }
        }
    }

    /// Seats back on sale, or off sale for good once the performance is called off.
    fn free(&mut self, places: &[Place]) {
        let state = if self.cancelled { OFF } else { FREE };
        self.set(places, state);
    }

    fn apply(&mut self, event: &Event) {
        match event {
            Event::PlacesHeld { hold, places, .. } => {
                self.set(places, HELD);
                let seats: Vec<u32> = places
                    .iter()
                    .filter_map(|p| match p {
                        Place::Seat(seat) => Some(seat.0),
                        Place::Zone(_) => None,
                    })
                    .collect();
                self.holds.insert(hold.0, seats);
            }
            Event::BookingConfirmed { hold, .. } => match self.holds.remove(&hold.0) {
                Some(seats) => {
                    for seat in seats {
                        if let Some(slot) = self.states.get_mut(seat as usize) {
                            *slot = SOLD;
                        }
                    }
                }
                None if self.unresolved => {
                    self.booked_unknown.insert(hold.0);
                }
                None => {}
            },
            Event::HoldReleased { hold, places, .. } | Event::HoldExpired { hold, places, .. } => {
                self.holds.remove(&hold.0);
                self.free(places);
            }
            Event::TicketsCancelled { places, .. }
            | Event::WaitlistUnreserved { places, .. }
            | Event::WaitlistOffered {
                from_reserve: places,
                ..
            } => self.free(places),
            Event::WaitlistReserved { places, .. } => self.set(places, RESERVED),
            Event::PerformanceCancelled { .. } => {
                self.cancelled = true;
                for state in self.states.iter_mut().filter(|s| **s == FREE) {
                    *state = OFF;
                }
            }
            _ => {}
        }
    }
}

/// What the bookings projection says of a performance's seats off sale, for
/// [`SeatStates::resolve`].
#[derive(Debug, Default)]
pub struct Recorded {
    /// Open holds and their seats.
    pub holds: Vec<(u64, Vec<u32>)>,
    /// Seats with a ticket not cancelled.
    pub sold: Vec<u32>,
    /// Seats the performance's spec marks blocked (off sale in every snapshot).
    pub blocked: Vec<u32>,
}

#[derive(Default)]
struct Model {
    performances: HashMap<u64, Seats>,
    /// Counts subscriptions: a resolution read before a newer snapshot is dropped.
    generation: u64,
    /// The projection has caught up with the current snapshot: resolutions may be made.
    caught_up: bool,
}

/// Each seat's state of every performance the ledger has.
#[derive(Default)]
pub struct SeatStates {
    model: Mutex<Model>,
}

impl SeatStates {
    /// Starts over from a subscription's snapshot: seats on sale are free, the others unknown
    /// until resolved.
    pub fn reset(&self, availability: &[Availability]) {
        let mut model = lock(&self.model);
        model.generation += 1;
        model.caught_up = false;
        model.performances = availability
            .iter()
            .map(|a| {
                let states = a
                    .seat_free
                    .iter()
                    .map(|free| if *free { FREE } else { UNKNOWN })
                    .collect();
                (a.performance.0, Seats::new(states, a.cancelled))
            })
            .collect();
    }

    /// The bookings projection holds every commit of the current snapshot: seats off sale may
    /// be resolved from it now.
    pub fn caught_up(&self) {
        lock(&self.model).caught_up = true;
    }

    /// Applies one committed entry's events.
    pub fn apply(&self, events: &[Event]) {
        let mut model = lock(&self.model);
        for event in events {
            if let Event::PerformanceOpened(spec) = event {
                let states = spec
                    .seats
                    .iter()
                    .map(|seat| if seat.blocked { BLOCKED } else { FREE })
                    .collect();
                model
                    .performances
                    .insert(spec.performance.0, Seats::new(states, false));
                continue;
            }
            if let Some(performance) = event.performance()
                && let Some(seats) = model.performances.get_mut(&performance.0)
            {
                seats.apply(event);
            }
        }
    }

    /// `Some(generation)` when `performance` has seats to resolve and the projection may
    /// resolve them now: read [`Recorded`] and hand it to [`SeatStates::resolve`] with it.
    pub fn to_resolve(&self, performance: u64) -> Option<u64> {
        let model = lock(&self.model);
        let seats = model.performances.get(&performance)?;
        (model.caught_up && seats.unresolved).then_some(model.generation)
    }

    /// Decides the seats still unknown from what the projection recorded (read after
    /// [`SeatStates::to_resolve`] said `generation`).
    pub fn resolve(&self, performance: u64, generation: u64, recorded: Recorded) {
        let mut model = lock(&self.model);
        if model.generation != generation {
            return;
        }
        let Some(seats) = model.performances.get_mut(&performance) else {
            return;
        };
        if !seats.unresolved {
            return;
        }
        let rest = if seats.cancelled { OFF } else { RESERVED };
        let mut decided: HashMap<u32, u8> = recorded.sold.iter().map(|s| (*s, SOLD)).collect();
        decided.extend(recorded.blocked.iter().map(|s| (*s, BLOCKED)));
        for (hold, hold_seats) in recorded.holds {
            let booked = seats.booked_unknown.contains(&hold);
            let unknown = hold_seats
                .iter()
                .any(|s| seats.states.get(*s as usize) == Some(&UNKNOWN));
            for seat in &hold_seats {
                decided.insert(*seat, if booked { SOLD } else { HELD });
            }
            if unknown && !booked && !seats.holds.contains_key(&hold) {
                seats.holds.insert(hold, hold_seats);
            }
        }
        for (index, state) in seats.states.iter_mut().enumerate() {
            if *state == UNKNOWN {
                *state = u32::try_from(index)
                    .ok()
                    .and_then(|i| decided.get(&i).copied())
                    .unwrap_or(rest);
            }
        }
        seats.unresolved = false;
        seats.booked_unknown.clear();
    }

    /// The performance's seats for its dashboard; `None` while unknown or unresolved.
    pub fn seats(&self, performance: u64) -> Option<DashboardSeats> {
        let model = lock(&self.model);
        let seats = model.performances.get(&performance)?;
        (!seats.unresolved).then(|| DashboardSeats::of(&seats.states))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use picket_ledger_core::{ActorId, BookingId, HoldId, PerformanceId, SeatId, TicketId};

    use super::*;

    const P: PerformanceId = PerformanceId(7);

    fn seats(list: &[u32]) -> Vec<Place> {
        list.iter().map(|s| Place::Seat(SeatId(*s))).collect()
    }

    fn held(hold: u64, list: &[u32]) -> Event {
        Event::PlacesHeld {
            performance: P,
            hold: HoldId(hold),
            buyer: ActorId(1),
            places: seats(list),
            amount_won: 1,
            expires_at_ms: 1,
            admission: None,
            prices_won: vec![],
            reduced: vec![],
            offer: None,
            booking_fee_won: 0,
        }
    }

    fn booked(hold: u64) -> Event {
        Event::BookingConfirmed {
            performance: P,
            hold: HoldId(hold),
            booking: BookingId(hold),
            first_ticket: TicketId(hold * 10),
            payment_ref: "ref".into(),
            paid_won: 1,
            booked_at_ms: 1,
            booking_fee_won: 0,
        }
    }

    fn states(model: &SeatStates) -> String {
        let seats = model.seats(P.0).expect("resolved");
        String::from_utf8(
            picket_edge::dashboard::decode_runs(seats.runs.as_deref().expect("runs"), 100)
                .expect("runs decode"),
        )
        .expect("letters")
    }

    fn snapshot(free: &[bool]) -> SeatStates {
        let model = SeatStates::default();
        model.reset(&[Availability {
            performance: P,
            seat_free: free.to_vec(),
            zone_free: vec![],
            cancelled: false,
        }]);
        model
    }

    #[test]
    fn holds_bookings_cancellations_and_the_waitlist_set_each_state() {
        let model = snapshot(&[true; 6]);
        assert_eq!(model.to_resolve(P.0), None, "nothing unknown");
        model.apply(&[held(1, &[0, 1]), held(2, &[2])]);
        model.apply(&[booked(1)]);
        assert_eq!(states(&model), "sshfff");
        model.apply(&[Event::HoldExpired {
            performance: P,
            hold: HoldId(2),
            places: seats(&[2]),
        }]);
        model.apply(&[Event::TicketsCancelled {
            performance: P,
            booking: BookingId(1),
            tickets: vec![TicketId(10)],
            refund_won: 0,
            fee_won: 0,
            booking_fee_refunded_won: 0,
            places: seats(&[0]),
        }]);
        model.apply(&[Event::WaitlistReserved {
            performance: P,
            places: seats(&[0]),
        }]);
        assert_eq!(states(&model), "rsffff");
        let counted = model.seats(P.0).expect("seats");
        assert_eq!(counted.states["f"], 4);
        assert_eq!((counted.states["r"], counted.states["s"]), (1, 1));
        model.apply(&[Event::PerformanceCancelled {
            performance: P,
            reason: "취소".into(),
            at_ms: 1,
        }]);
        model.apply(&[Event::WaitlistUnreserved {
            performance: P,
            places: seats(&[0]),
        }]);
        assert_eq!(states(&model), "xsxxxx", "nothing comes back on sale");
    }

    #[test]
    fn seats_off_sale_at_the_snapshot_are_resolved_from_the_projection() {
        // Seats 0-1 held by hold 5, 2 sold, 3 reserved, 4 held by hold 6 and booked since.
        let model = snapshot(&[false, false, false, false, false, true]);
        model.apply(&[booked(6)]);
        assert_eq!(model.seats(P.0), None, "unresolved");
        assert_eq!(
            model.to_resolve(P.0),
            None,
            "the projection has not caught up"
        );
        model.caught_up();
        let generation = model.to_resolve(P.0).expect("to resolve");
        let recorded = Recorded {
            holds: vec![(5, vec![0, 1]), (6, vec![4])],
            sold: vec![2],
            blocked: vec![],
        };
        model.resolve(P.0, generation, recorded);
        assert_eq!(states(&model), "hhsrsf");
        // Hold 5's seats are known now: its booking sells them.
        model.apply(&[booked(5)]);
        assert_eq!(states(&model), "sssrsf");
    }

    #[test]
    fn blocked_seats_stay_blocked() {
        let model = SeatStates::default();
        let mut spec = picket_ledger_core::PerformanceSpec::plain(P, 1, 1_000, 4, 4);
        spec.seats[1].blocked = true;
        model.apply(&[Event::PerformanceOpened(Box::new(spec))]);
        assert_eq!(states(&model), "fbff");
        // Events never name a blocked seat; even if one did, it would not move.
        model.apply(&[held(1, &[0, 1])]);
        model.apply(&[Event::PerformanceCancelled {
            performance: P,
            reason: "취소".into(),
            at_ms: 1,
        }]);
        assert_eq!(states(&model), "hbxx");
        // After a resubscription the snapshot has the blocked seat off sale: the spec decides.
        let model = snapshot(&[true, false, false]);
        model.caught_up();
        let generation = model.to_resolve(P.0).expect("to resolve");
        let recorded = Recorded {
            holds: vec![],
            sold: vec![2],
            blocked: vec![1],
        };
        model.resolve(P.0, generation, recorded);
        assert_eq!(states(&model), "fbs");
    }

    #[test]
    fn a_resolution_read_before_a_new_snapshot_is_dropped() {
        let model = snapshot(&[false, true]);
        model.caught_up();
        let generation = model.to_resolve(P.0).expect("to resolve");
        model.reset(&[Availability {
            performance: P,
            seat_free: vec![false, true],
            zone_free: vec![],
            cancelled: false,
        }]);
        model.resolve(P.0, generation, Recorded::default());
        assert_eq!(model.seats(P.0), None);
    }
}
