//! The live seat maps: a read model of what is on sale per performance, built only from the
//! ledger's committed events (the gateway's seat maps and the API's seats left; neither asks the
//! ledger writer for a seat map after subscribing).

use std::collections::HashMap;

use picket_ledger_core::{Availability, Event, Place};

/// One performance's seat map and the changes not yet sent to watchers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeatMap {
    pub seq: u64,
    pub seat_free: Vec<bool>,
    pub zone_free: Vec<u32>,
    pub free: u64,
    pub taken: Vec<u32>,
    pub freed: Vec<u32>,
    pub zones_changed: bool,
    /// The seller called the performance off: nothing is on sale, and places its holds and
    /// tickets give back stay off sale.
    pub cancelled: bool,
}

impl SeatMap {
    pub fn from_availability(seq: u64, availability: Availability) -> Self {
        let free = availability.seat_free.iter().filter(|f| **f).count() as u64
            + availability
                .zone_free
                .iter()
                .map(|z| u64::from(*z))
                .sum::<u64>();
        SeatMap {
            seq,
            seat_free: availability.seat_free,
            zone_free: availability.zone_free,
            free,
            taken: Vec::new(),
            freed: Vec::new(),
            zones_changed: false,
            cancelled: availability.cancelled,
        }
    }

    /// The performance is called off: every place goes off sale (seats still free are told
    /// to watchers as taken) and stays off. A seat freed earlier in the changes not yet sent is
    /// not told as freed: a seat in both lists would leave watchers guessing which came last.
    fn call_off(&mut self) {
        self.freed.clear();
        for (seat, free) in self.seat_free.iter_mut().enumerate() {
            if std::mem::replace(free, false) {
                self.taken.push(seat as u32);
            }
        }
        self.zone_free.iter_mut().for_each(|count| *count = 0);
        self.free = 0;
        self.zones_changed = true;
        self.cancelled = true;
    }

    fn set(&mut self, place: Place, free: bool) {
        if free && self.cancelled {
            return;
        }
        match place {
            Place::Seat(seat) => {
                let Some(slot) = self.seat_free.get_mut(seat.0 as usize) else {
                    return;
                };
                if *slot == free {
                    return;
                }
                *slot = free;
                if free {
                    self.free += 1;
                    self.freed.push(seat.0);
                } else {
                    self.free -= 1;
                    self.taken.push(seat.0);
                }
            }
            Place::Zone(zone) => {
                let Some(count) = self.zone_free.get_mut(usize::from(zone.0)) else {
                    return;
                };
                if free {
                    *count += 1;
                    self.free += 1;
                } else if *count > 0 {
                    *count -= 1;
                    self.free -= 1;
                }
                self.zones_changed = true;
            }
        }
    }

    /// Whether anything changed since the last [`SeatMap::take_changes`].
    pub fn changed(&self) -> bool {
        !self.taken.is_empty() || !self.freed.is_empty() || self.zones_changed
    }

    pub fn take_changes(&mut self) -> (Vec<u32>, Vec<u32>) {
        self.zones_changed = false;
        (
            std::mem::take(&mut self.taken),
            std::mem::take(&mut self.freed),
        )
    }
}

/// Every performance's seat map.
#[derive(Default)]
pub struct SeatMaps {
    pub maps: HashMap<u64, SeatMap>,
}

impl SeatMaps {
    /// Starts over from a subscription's snapshot.
    pub fn reset(&mut self, seq: u64, availability: Vec<Availability>) {
        self.maps = availability
            .into_iter()
            .map(|a| (a.performance.0, SeatMap::from_availability(seq, a)))
            .collect();
    }

    /// Applies one committed entry; returns the performances it changed.
    pub fn apply(&mut self, seq: u64, events: &[Event]) -> Vec<u64> {
        let mut touched = Vec::new();
        for event in events {
            let (performance, places, free): (u64, &[Place], bool) = match event {
                Event::PerformanceOpened(spec) => {
                    let availability = Availability {
                        performance: spec.performance,
                        // Blocked seats are never on sale (`SeatState::Blocked`).
                        seat_free: spec.seats.iter().map(|seat| !seat.blocked).collect(),
                        zone_free: spec.zones.iter().map(|z| z.capacity).collect(),
                        cancelled: false,
                    };
                    self.maps.insert(
                        spec.performance.0,
                        SeatMap::from_availability(seq, availability),
                    );
                    touched.push(spec.performance.0);
                    continue;
                }
                // Held, or kept off sale for the waitlist.
                Event::PlacesHeld {
                    performance,
                    places,
                    ..
                }
                | Event::WaitlistReserved {
                    performance,
                    places,
                } => (performance.0, places, false),
                // Offered places out of the waitlist's reserve: back for a moment, then held
                // by the `PlacesHeld` that follows in the same entry.
                Event::WaitlistOffered {
                    performance,
                    from_reserve,
                    ..
                } => (performance.0, from_reserve, true),
                Event::HoldReleased {
                    performance,
                    places,
                    ..
                }
                | Event::HoldExpired {
                    performance,
                    places,
                    ..
                }
                | Event::TicketsCancelled {
                    performance,
                    places,
                    ..
                }
                | Event::WaitlistUnreserved {
                    performance,
                    places,
                } => (performance.0, places, true),
                Event::PerformanceCancelled { performance, .. } => {
                    if let Some(map) = self.maps.get_mut(&performance.0) {
                        map.call_off();
                        map.seq = seq;
                        if !touched.contains(&performance.0) {
                            touched.push(performance.0);
                        }
                    }
                    continue;
                }
                _ => continue,
            };
            if let Some(map) = self.maps.get_mut(&performance) {
                places.iter().for_each(|p| map.set(*p, free));
                map.seq = seq;
                if !touched.contains(&performance) {
                    touched.push(performance);
                }
            }
        }
        touched
    }
}

#[cfg(test)]
mod tests {
    use picket_ledger_core::{HoldId, PerformanceId, SeatId, ZoneId};

    use super::*;

    fn maps() -> SeatMaps {
        let mut maps = SeatMaps::default();
        maps.reset(
            10,
            vec![Availability {
                performance: PerformanceId(7),
                seat_free: vec![true, true, false],
                zone_free: vec![2],
                cancelled: false,
            }],
        );
        maps
    }

    #[test]
    fn blocked_seats_open_off_sale() {
        let mut maps = SeatMaps::default();
        let mut spec = picket_ledger_core::PerformanceSpec::plain(PerformanceId(8), 1, 1, 4, 4);
        spec.seats[1].blocked = true;
        maps.apply(3, &[Event::PerformanceOpened(Box::new(spec))]);
        let map = &maps.maps[&8];
        assert_eq!(map.seat_free, vec![true, false, true, true]);
        assert_eq!(map.free, 3);
    }

    #[test]
    fn holds_take_and_releases_free() {
        let mut maps = maps();
        let held = Event::PlacesHeld {
            performance: PerformanceId(7),
            hold: HoldId(1),
            buyer: picket_ledger_core::ActorId(1),
            places: vec![Place::Seat(SeatId(0)), Place::Zone(ZoneId(0))],
            amount_won: 1,
            expires_at_ms: 1,
            admission: None,
            prices_won: vec![],
            reduced: vec![],
            offer: None,
            booking_fee_won: 0,
        };
        assert_eq!(maps.apply(11, &[held]), vec![7]);
        let map = &maps.maps[&7];
        assert_eq!((map.free, map.zone_free[0]), (2, 1));
        assert_eq!(map.taken, vec![0]);
        let released = Event::HoldExpired {
            performance: PerformanceId(7),
            hold: HoldId(1),
            places: vec![Place::Seat(SeatId(0)), Place::Zone(ZoneId(0))],
        };
        maps.apply(12, &[released]);
        let map = maps.maps.get_mut(&7).expect("map");
        assert_eq!((map.free, map.seq), (4, 12));
        assert_eq!(map.take_changes(), (vec![0], vec![0]));
        assert!(!map.changed());
    }

    #[test]
    fn a_seat_freed_just_before_a_call_off_is_told_taken_only() {
        let mut maps = maps();
        let released = Event::HoldReleased {
            performance: PerformanceId(7),
            hold: HoldId(1),
            places: vec![Place::Seat(SeatId(2))],
        };
        let called_off = Event::PerformanceCancelled {
            performance: PerformanceId(7),
            reason: "공연 취소".into(),
            at_ms: 1,
        };
        maps.apply(11, &[released, called_off]);
        let map = maps.maps.get_mut(&7).expect("map");
        assert_eq!(map.take_changes(), (vec![0, 1, 2], vec![]));
    }

    #[test]
    fn a_call_off_takes_everything_off_sale_for_good() {
        let mut maps = maps();
        let places = vec![Place::Seat(SeatId(0)), Place::Zone(ZoneId(0))];
        let called_off = Event::PerformanceCancelled {
            performance: PerformanceId(7),
            reason: "공연 취소".into(),
            at_ms: 1,
        };
        // Released by the call-off after it is recorded: the places stay off sale.
        let released = Event::HoldReleased {
            performance: PerformanceId(7),
            hold: HoldId(1),
            places,
        };
        assert_eq!(maps.apply(11, &[called_off, released]), vec![7]);
        let map = maps.maps.get_mut(&7).expect("map");
        assert!(map.cancelled);
        assert_eq!((map.free, map.seq), (0, 11));
        assert_eq!(map.seat_free, vec![false, false, false]);
        assert_eq!(map.zone_free, vec![0]);
        // Seats 0 and 1 were on sale: watchers are told they are gone.
        assert_eq!(map.take_changes(), (vec![0, 1], vec![]));
    }

    #[test]
    fn places_reserved_for_the_waitlist_are_off_sale_until_offered_or_unreserved() {
        let mut maps = maps();
        let zone = Place::Zone(ZoneId(0));
        let reserved = Event::WaitlistReserved {
            performance: PerformanceId(7),
            places: vec![Place::Seat(SeatId(0)), zone],
        };
        maps.apply(11, &[reserved]);
        assert_eq!(maps.maps[&7].zone_free[0], 1);
        assert!(!maps.maps[&7].seat_free[0]);
        // The reserved zone place and one on sale are offered: the zone ends with none free.
        let offered = Event::WaitlistOffered {
            performance: PerformanceId(7),
            entry: picket_ledger_core::WaitlistEntryId(1),
            hold: HoldId(2),
            buyer: picket_ledger_core::ActorId(3),
            places: vec![zone, zone],
            amount_won: 2,
            deadline_ms: 1,
            mode: picket_ledger_core::WaitlistMode::Offer,
            from_reserve: vec![zone],
        };
        let held = Event::PlacesHeld {
            performance: PerformanceId(7),
            hold: HoldId(2),
            buyer: picket_ledger_core::ActorId(3),
            places: vec![zone, zone],
            amount_won: 2,
            expires_at_ms: 1,
            admission: None,
            prices_won: vec![],
            reduced: vec![],
            offer: None,
            booking_fee_won: 0,
        };
        maps.apply(12, &[offered, held]);
        assert_eq!(maps.maps[&7].zone_free[0], 0);
        let unreserved = Event::WaitlistUnreserved {
            performance: PerformanceId(7),
            places: vec![Place::Seat(SeatId(0))],
        };
        maps.apply(13, &[unreserved]);
        assert!(maps.maps[&7].seat_free[0]);
    }

    #[test]
    fn events_of_unknown_performances_are_ignored() {
        let mut maps = maps();
        let held = Event::HoldReleased {
            performance: PerformanceId(99),
            hold: HoldId(1),
            places: vec![Place::Seat(SeatId(5_000))],
        };
        assert!(maps.apply(11, &[held]).is_empty());
    }
}
