//! The cancellation waitlist's values and its matching rule: which freed places go to which
//! entry. The ledger (`ledger.rs`) decides and applies the waitlist's commands and events; this
//! module holds what it needs that is not the ledger's state machine, so the rule can be read on
//! its own: entries in join order, each offered the first places of the pool that satisfy it.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::performance::PerformanceSpec;
use crate::types::*;

/// How a waitlist entry takes the places it is offered.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WaitlistMode {
    /// The places are held for the buyer for the performance's claim window; the buyer pays
    /// (an ordinary `Confirm` of the hold) or declines.
    Offer,
    /// The payments worker charges the buyer's billing key while the places are held for the
    /// charge window, and books them with `Confirm` (or reports `ChargeFailed`).
    /// `billing_ref` is the opaque reference the API got from the payments provider when it
    /// registered the billing key; the ledger only stores and echoes it.
    AutoPay { billing_ref: String },
}

/// Why a waitlist entry ended.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WaitlistEndReason {
    /// The buyer left (`LeaveWaitlist`).
    Left,
    /// The offer was paid: the entry was satisfied by a booking.
    Booked,
    /// The buyer declined the offer (`DeclineOffer`, or released its hold).
    Declined,
    /// The offer's hold reached its deadline unpaid.
    Lapsed,
    /// The auto-pay charge failed, as the payments worker reported.
    ChargeFailed { reason: String },
    /// The seller called the performance off.
    CalledOff,
}

/// One entry of a performance's waitlist, while it waits or has an open offer.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WaitlistEntry {
    pub buyer: ActorId,
    /// `None`: any grade.
    pub grade: Option<GradeId>,
    pub quantity: u16,
    pub together: bool,
    pub mode: WaitlistMode,
    pub joined_at_ms: u64,
    /// The hold of its open offer; `None` while it waits.
    pub offer: Option<HoldId>,
}

impl WaitlistEntry {
    pub fn waiting(&self) -> bool {
        self.offer.is_none()
    }
}

/// A performance's waitlist: its live entries in join order, the offers' holds, the places
/// kept off sale for it, and the seller's counters.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Waitlist {
    /// Entries that wait or have an open offer, by id (join order). Ended entries leave.
    pub(crate) entries: BTreeMap<WaitlistEntryId, WaitlistEntry>,
    /// The open offers' holds and their entries.
    pub(crate) offers: BTreeMap<HoldId, WaitlistEntryId>,
    /// Seats kept off sale for the waitlist (their state is `SeatState::Reserved`).
    pub(crate) reserved_seats: BTreeSet<SeatId>,
    /// Standing places kept off sale for the waitlist, per zone (never 0).
    pub(crate) reserved_zones: BTreeMap<ZoneId, u32>,
    /// Places offered from the waitlist so far, and those of them booked.
    pub(crate) places_offered: u64,
    pub(crate) places_booked: u64,
}

impl Waitlist {
    pub fn entry(&self, entry: WaitlistEntryId) -> Option<&WaitlistEntry> {
        self.entries.get(&entry)
    }

    /// Live entries (waiting or offered) in join order.
    pub fn entries(&self) -> impl Iterator<Item = (&WaitlistEntryId, &WaitlistEntry)> {
        self.entries.iter()
    }

    /// Entries that wait (no open offer), in join order.
    pub fn waiting(&self) -> impl Iterator<Item = (&WaitlistEntryId, &WaitlistEntry)> {
        self.entries.iter().filter(|(_, e)| e.waiting())
    }

    /// The entry an open offer's hold belongs to.
    pub fn offer_entry(&self, hold: HoldId) -> Option<WaitlistEntryId> {
        self.offers.get(&hold).copied()
    }

    pub fn reserved_seats(&self) -> &BTreeSet<SeatId> {
        &self.reserved_seats
    }

    pub fn reserved_in_zone(&self, zone: ZoneId) -> u32 {
        self.reserved_zones.get(&zone).copied().unwrap_or(0)
    }

    /// Every reserved place: seats in id order, then each zone's places.
    pub fn reserved_places(&self) -> Vec<Place> {
        let seats = self.reserved_seats.iter().map(|s| Place::Seat(*s));
        let zones = self
            .reserved_zones
            .iter()
            .flat_map(|(zone, count)| std::iter::repeat_n(Place::Zone(*zone), *count as usize));
        seats.chain(zones).collect()
    }

    pub fn places_offered(&self) -> u64 {
        self.places_offered
    }

    pub fn places_booked(&self) -> u64 {
        self.places_booked
    }

    /// Live entries of one buyer.
    pub fn buyer_entries(&self, buyer: ActorId) -> usize {
        self.entries.values().filter(|e| e.buyer == buyer).count()
    }
}

/// The places a matching pass may offer: those freed by the step and those reserved for the
/// waitlist. Served in one order, the "pool order": by grade (in the spec's order), within a
/// grade seats in spec order (best first) before standing zones.
#[derive(Clone, Debug, Default)]
pub(crate) struct Pool {
    seats: BTreeSet<(GradeId, SeatId)>,
    zones: BTreeMap<ZoneId, u32>,
}

impl Pool {
    pub(crate) fn add(&mut self, spec: &PerformanceSpec, place: Place) {
        match place {
            Place::Seat(seat) => {
                self.seats.insert((spec.seats[seat.0 as usize].grade, seat));
            }
            Place::Zone(zone) => *self.zones.entry(zone).or_default() += 1,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.seats.is_empty() && self.zones.is_empty()
    }

    /// What is left, seats in id order then zones.
    pub(crate) fn places(&self) -> Vec<Place> {
        let mut seats: Vec<SeatId> = self.seats.iter().map(|(_, s)| *s).collect();
        seats.sort();
        let zones = self
            .zones
            .iter()
            .flat_map(|(zone, count)| std::iter::repeat_n(Place::Zone(*zone), *count as usize));
        seats.into_iter().map(Place::Seat).chain(zones).collect()
    }

    /// Takes the first places in pool order that satisfy an entry asking for `quantity` places
    /// of `grade` (any when `None`), side by side when `together` (adjacent seats in one row of
    /// one section, numbers rising, or one zone's places); `None` when none do.
    pub(crate) fn take(
        &mut self,
        spec: &PerformanceSpec,
        grade: Option<GradeId>,
        quantity: u16,
        together: bool,
    ) -> Option<Vec<Place>> {
        let fits = |g: GradeId| grade.is_none_or(|wanted| wanted == g);
        let need = usize::from(quantity);
        let grades = (0..spec.grades.len() as u16)
            .map(GradeId)
            .filter(|g| fits(*g));
        let zones_of = |g: GradeId| {
            spec.zones
                .iter()
                .enumerate()
                .filter(move |(_, z)| z.grade == g)
                .map(|(i, _)| ZoneId(i as u16))
        };
        let taken = if together {
            // Pool seats the entry accepts, by (section, row, number), to find runs.
            let by_position: BTreeMap<(&str, &str, u16), SeatId> = self
                .seats
                .iter()
                .filter(|(g, _)| fits(*g))
                .map(|(_, s)| {
                    let seat = &spec.seats[s.0 as usize];
                    ((seat.section.as_str(), seat.row.as_str(), seat.number), *s)
                })
                .collect();
            let run_from = |start: SeatId| -> Option<Vec<Place>> {
                let seat = &spec.seats[start.0 as usize];
                (0..quantity)
                    .map(|i| {
                        let number = seat.number.checked_add(i)?;
                        by_position
                            .get(&(seat.section.as_str(), seat.row.as_str(), number))
                            .map(|s| Place::Seat(*s))
                    })
                    .collect()
            };
            grades.clone().find_map(|g| {
                let seats = self
                    .seats
                    .range((g, SeatId(0))..=(g, SeatId(u32::MAX)))
                    .find_map(|(_, s)| run_from(*s));
                seats.or_else(|| {
                    zones_of(g)
                        .find(|z| self.zones.get(z).is_some_and(|c| *c as usize >= need))
                        .map(|z| vec![Place::Zone(z); need])
                })
            })?
        } else {
            let mut picked = Vec::with_capacity(need);
            for g in grades {
                let seats = self.seats.range((g, SeatId(0))..=(g, SeatId(u32::MAX)));
                picked.extend(
                    seats
                        .map(|(_, s)| Place::Seat(*s))
                        .take(need - picked.len()),
                );
                for z in zones_of(g) {
                    let count = self.zones.get(&z).copied().unwrap_or(0) as usize;
                    let more = count.min(need - picked.len());
                    picked.extend(std::iter::repeat_n(Place::Zone(z), more));
                }
                if picked.len() == need {
                    break;
                }
            }
            if picked.len() < need {
                return None;
            }
            picked
        };
        for place in &taken {
            match place {
                Place::Seat(s) => {
                    self.seats.remove(&(spec.seats[s.0 as usize].grade, *s));
                }
                Place::Zone(z) => {
                    let count = self.zones.get_mut(z).expect("taken from the pool");
                    *count -= 1;
                    if *count == 0 {
                        self.zones.remove(z);
                    }
                }
            }
        }
        Some(taken)
    }
}
