//! Pure reads of the ledger state for callers outside the writer: what a checkout shows, what
//! a payment confirmation checks, and the door's counters. Nothing here changes state.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::door::{Conflict, Presence, admissions};

use crate::fees::FeeSchedule;
use crate::ledger::{HoldStatus, PerformanceState};
use crate::limits::{DOOR_REPORT_CONFLICTS_MAX, DOOR_REPORT_GATE_MINUTES_MAX, TICKETS_PAGE_MAX};
use crate::offers::AppliedOffer;
use crate::types::*;
use crate::waitlist::WaitlistMode;

/// One place of a hold with its grade and what it costs after the hold's offer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldPlace {
    pub place: Place,
    pub grade: GradeId,
    /// The grade's code as the seller named it ("VIP", "R").
    pub grade_code: String,
    /// The grade price before any offer.
    pub list_won: Won,
    /// What the buyer pays for this place, before the booking fee.
    pub price_won: Won,
    /// The booking fee on this place (the performance's, when held).
    #[serde(default)]
    pub booking_fee_won: Won,
}

/// One hold as the ledger records it, with everything a buyer is shown before paying: the
/// places and prices, the offer, the booking fees, the amount (exactly what the ledger will require at
/// `Confirm`), the deadline, and the cancellation rules of the performance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldView {
    pub performance: PerformanceId,
    pub hold: HoldId,
    pub buyer: ActorId,
    pub status: HoldStatus,
    pub places: Vec<HeldPlace>,
    /// The sum of the grade prices.
    pub list_won: Won,
    /// What the offer took off `list_won`.
    pub discount_won: Won,
    /// The booking fees, one per place, in `amount_won`.
    #[serde(default)]
    pub booking_fee_won: Won,
    pub offer: Option<AppliedOffer>,
    /// The coupon's code when the offer is a coupon.
    pub coupon: Option<String>,
    /// What the ledger requires at `Confirm`.
    pub amount_won: Won,
    pub expires_at_ms: u64,
    pub admission: Option<AdmissionId>,
    pub starts_at_ms: u64,
    /// When online cancellation closes for this performance.
    pub cancellation_deadline_ms: u64,
    /// The fee schedule a cancellation of this booking will follow.
    pub fees: FeeSchedule,
    /// When the hold was paid: its booking and the payment it was paid with.
    pub booking: Option<BookingId>,
    pub payment_ref: Option<String>,
    /// The booking's tickets, in the hold's order (empty until paid): a payment confirmed
    /// again after it was booked is answered with them.
    #[serde(default)]
    pub tickets: Vec<TicketId>,
    /// The waitlist entry this hold was offered to, while the offer is open: such a hold was
    /// made by the ledger, not through the waiting room, so it is paid without an admission.
    #[serde(default)]
    pub waitlist_entry: Option<WaitlistEntryId>,
}

impl PerformanceState {
    /// The hold, as a buyer is shown it; `None` when the ledger has no such hold here.
    pub fn hold_view(&self, hold: HoldId) -> Option<HoldView> {
        let found = self.hold(hold)?;
        let spec = self.spec();
        let places: Vec<HeldPlace> = found
            .places
            .iter()
            .enumerate()
            .map(|(index, place)| {
                let grade = self.grade(*place);
                let list_won = self.price_won(*place);
                HeldPlace {
                    place: *place,
                    grade,
                    grade_code: spec.grades[usize::from(grade.0)].code.clone(),
                    list_won,
                    // Without an offer the journal keeps no per-place prices: the grade's apply.
                    price_won: found.prices_won.get(index).copied().unwrap_or(list_won),
                    booking_fee_won: found.booking_fee_won,
                }
            })
            .collect();
        let list_won: Won = places.iter().map(|p| p.list_won).sum();
        let coupon = match found.offer {
            Some(AppliedOffer::Coupon(coupon)) => spec
                .coupons
                .get(usize::from(coupon.0))
                .map(|c| c.code.clone()),
            _ => None,
        };
        let booked = match found.status {
            HoldStatus::Confirmed(booking) => self.booking(booking).map(|b| (booking, b)),
            _ => None,
        };
        Some(HoldView {
            performance: spec.performance,
            hold,
            buyer: found.buyer,
            status: found.status,
            places,
            list_won,
            discount_won: list_won.saturating_sub(found.amount_won - found.booking_fees_won()),
            booking_fee_won: found.booking_fees_won(),
            offer: found.offer,
            coupon,
            amount_won: found.amount_won,
            expires_at_ms: found.expires_at_ms,
            admission: found.admission,
            starts_at_ms: spec.starts_at_ms,
            cancellation_deadline_ms: spec.fees.deadline_ms(spec.starts_at_ms),
            fees: spec.fees.clone(),
            booking: booked.map(|(id, _)| id),
            payment_ref: booked.map(|(_, b)| b.payment_ref.clone()),
            tickets: booked.map(|(_, b)| b.tickets.clone()).unwrap_or_default(),
            waitlist_entry: self.waitlist().offer_entry(hold),
        })
    }
}

/// Admissions through one gate in one minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GateMinute {
    pub gate: GateId,
    /// The minute's start, milliseconds since the Unix epoch.
    pub minute_ms: u64,
    pub admitted: u32,
}

/// The door's counters for the seller's console, from the ledger state alone. Its lists are
/// bounded ([`DOOR_REPORT_GATE_MINUTES_MAX`], [`DOOR_REPORT_CONFLICTS_MAX`]) so the report
/// travels in one NATS message; the counts cover everything.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorReport {
    pub performance: PerformanceId,
    /// Admissions (re-entries included), by gate and then minute: the latest
    /// [`DOOR_REPORT_GATE_MINUTES_MAX`] minutes with an admission.
    pub by_gate_minute: Vec<GateMinute>,
    /// Every admission (an entry while outside, re-entries included).
    pub admitted: u32,
    /// Tickets inside now.
    pub inside: u32,
    /// Valid (not cancelled) tickets never admitted.
    pub no_shows: u32,
    /// Tickets let in twice by offline scanners; the earlier entry is kept. The newest
    /// [`DOOR_REPORT_CONFLICTS_MAX`] (by the duplicate entry's time), newest first.
    pub conflicts: Vec<Conflict>,
    /// Every conflict on record, listed or not.
    #[serde(default)]
    pub conflicts_total: u32,
}

const MINUTE_MS: u64 = 60_000;

impl PerformanceState {
    /// The door's counters now: a pure read of the scans on record.
    pub fn door_report(&self) -> DoorReport {
        let door = self.door();
        let mut by_gate_minute: BTreeMap<(GateId, u64), u32> = BTreeMap::new();
        let mut admitted = 0;
        let mut inside = 0;
        for (ticket, scans) in door.all_scans() {
            for entry in admissions(scans, door.reentry()) {
                let minute_ms = entry.at_ms - entry.at_ms % MINUTE_MS;
                *by_gate_minute.entry((entry.gate, minute_ms)).or_default() += 1;
                admitted += 1;
            }
            if door.presence(*ticket) != Presence::Outside {
                inside += 1;
            }
        }
        let no_shows = self
            .tickets()
            .filter(|(ticket, found)| !found.cancelled && !door.ever_entered(**ticket))
            .count() as u32;
        let mut by_gate_minute: Vec<GateMinute> = by_gate_minute
            .into_iter()
            .map(|((gate, minute_ms), admitted)| GateMinute {
                gate,
                minute_ms,
                admitted,
            })
            .collect();
        if by_gate_minute.len() > DOOR_REPORT_GATE_MINUTES_MAX {
            // The latest minutes, then back in gate and minute order.
            by_gate_minute.sort_by_key(|g| (std::cmp::Reverse(g.minute_ms), g.gate));
            by_gate_minute.truncate(DOOR_REPORT_GATE_MINUTES_MAX);
            by_gate_minute.sort_by_key(|g| (g.gate, g.minute_ms));
        }
        let mut conflicts = door.conflicts();
        let conflicts_total = conflicts.len() as u32;
        // Newest first: by the duplicate's time, then the ticket, so every reader agrees.
        conflicts.sort_by_key(|c| std::cmp::Reverse((c.duplicate.at_ms, *c)));
        conflicts.truncate(DOOR_REPORT_CONFLICTS_MAX);
        DoorReport {
            performance: self.spec().performance,
            by_gate_minute,
            admitted,
            inside,
            no_shows,
            conflicts,
            conflicts_total,
        }
    }
}

/// One ticket as its holder's app and the door need it: whose it is, where it sits, its secret
/// generation, whether it was cancelled, and the discount whose proof the door checks. A read
/// beside the commands (`picket.ledger.p<p>.ticket` over NATS), never one of them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketView {
    pub performance: PerformanceId,
    pub ticket: TicketId,
    pub booking: BookingId,
    pub place: Place,
    pub grade: GradeId,
    pub holder: ActorId,
    pub generation: u8,
    pub rebinds: u8,
    pub cancelled: bool,
    pub discount: Option<DiscountId>,
}

impl PerformanceState {
    /// Up to `limit` (at most [`TICKETS_PAGE_MAX`]) of the performance's tickets with an id
    /// above `after` (from the first without one), by ascending id: how a reader outside the
    /// writer walks every ticket (the door's offline manifest) in bounded messages. The last
    /// page is shorter than `limit`.
    pub fn tickets_page(&self, after: Option<TicketId>, limit: usize) -> Vec<TicketView> {
        self.tickets_after(after)
            .take(limit.min(TICKETS_PAGE_MAX))
            .filter_map(|(ticket, _)| self.ticket_view(*ticket))
            .collect()
    }

    /// The ticket, if this performance issued it.
    pub fn ticket_view(&self, ticket: TicketId) -> Option<TicketView> {
        let found = self.ticket(ticket)?;
        Some(TicketView {
            performance: self.spec().performance,
            ticket,
            booking: found.booking,
            place: found.place,
            grade: self.grade(found.place),
            holder: found.holder,
            generation: found.generation,
            rebinds: found.rebinds,
            cancelled: found.cancelled,
            discount: found.discount,
        })
    }
}

/// Where a waiting entry stands: 1 is next. `overall` counts every entry that waits;
/// `in_grade` only those asking for the same grade (entries for any grade form their own line).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistPosition {
    pub overall: u32,
    pub in_grade: u32,
}

/// Entries waiting, per grade (in the spec's order) and for any grade.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistSizes {
    pub per_grade: Vec<u32>,
    pub any_grade: u32,
}

/// One of a buyer's live waitlist entries, as "my page" shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistEntryView {
    pub entry: WaitlistEntryId,
    pub grade: Option<GradeId>,
    pub quantity: u16,
    pub together: bool,
    pub mode: WaitlistMode,
    pub joined_at_ms: u64,
    /// The open offer's hold (pay it with `Confirm`, or decline); `None` while it waits.
    pub offer: Option<HoldId>,
    /// `None` once offered: an offered entry has left the queue.
    pub position: Option<WaitlistPosition>,
}

/// The seller's waitlist numbers for one performance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistReport {
    /// Whether buyers may join (the spec's `waitlist.enabled`).
    #[serde(default)]
    pub enabled: bool,
    pub waiting: WaitlistSizes,
    /// Offers open now (held for a claim or a charge).
    pub offers_open: u32,
    /// Places offered from the waitlist so far, and those of them booked.
    pub places_offered: u64,
    pub places_booked: u64,
    /// Places kept off sale for the waitlist now.
    pub places_reserved: u64,
}

impl PerformanceState {
    /// A waiting entry's position; `None` for an entry that is offered, ended or unknown.
    pub fn waitlist_position(&self, entry: WaitlistEntryId) -> Option<WaitlistPosition> {
        let waitlist = self.waitlist();
        let found = waitlist.entry(entry).filter(|e| e.waiting())?;
        let ahead = waitlist.waiting().take_while(|(id, _)| **id < entry);
        let (mut overall, mut in_grade) = (1, 1);
        for (_, other) in ahead {
            overall += 1;
            in_grade += u32::from(other.grade == found.grade);
        }
        Some(WaitlistPosition { overall, in_grade })
    }

    /// How many entries wait, per grade and for any grade.
    pub fn waitlist_sizes(&self) -> WaitlistSizes {
        let mut sizes = WaitlistSizes {
            per_grade: vec![0; self.spec().grades.len()],
            any_grade: 0,
        };
        for (_, waiting) in self.waitlist().waiting() {
            match waiting.grade {
                Some(grade) => sizes.per_grade[usize::from(grade.0)] += 1,
                None => sizes.any_grade += 1,
            }
        }
        sizes
    }

    /// The buyer's live entries, in join order.
    pub fn buyer_waitlist(&self, buyer: ActorId) -> Vec<WaitlistEntryView> {
        self.waitlist()
            .entries()
            .filter(|(_, e)| e.buyer == buyer)
            .map(|(id, e)| WaitlistEntryView {
                entry: *id,
                grade: e.grade,
                quantity: e.quantity,
                together: e.together,
                mode: e.mode.clone(),
                joined_at_ms: e.joined_at_ms,
                offer: e.offer,
                position: self.waitlist_position(*id),
            })
            .collect()
    }

    /// The seller's numbers: entries waiting per grade, offers open, places offered from the
    /// waitlist and booked through it, places reserved for it.
    pub fn waitlist_report(&self) -> WaitlistReport {
        let waitlist = self.waitlist();
        WaitlistReport {
            enabled: self.spec().waitlist.enabled,
            waiting: self.waitlist_sizes(),
            offers_open: waitlist.entries().filter(|(_, e)| !e.waiting()).count() as u32,
            places_offered: waitlist.places_offered(),
            places_booked: waitlist.places_booked(),
            places_reserved: waitlist.reserved_places().len() as u64,
        }
    }
}

/// What the API reads of a performance's waitlist in one message: the seller's numbers (with
/// the sizes per grade every buyer is shown) and, when a buyer is named, that buyer's live
/// entries with their positions. Bounded: at most
/// [`crate::limits::WAITLIST_ENTRIES_PER_BUYER_MAX`] entries and
/// [`crate::limits::GRADES_PER_PERFORMANCE_MAX`] sizes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistRead {
    pub report: WaitlistReport,
    /// The named buyer's live entries in join order; empty when no buyer was named.
    pub entries: Vec<WaitlistEntryView>,
}

impl PerformanceState {
    /// The waitlist's report and, for `buyer`, that buyer's live entries.
    pub fn waitlist_read(&self, buyer: Option<ActorId>) -> WaitlistRead {
        WaitlistRead {
            report: self.waitlist_report(),
            entries: buyer.map(|b| self.buyer_waitlist(b)).unwrap_or_default(),
        }
    }
}
