//! What the journal records. Applying a partition's events in order, from an empty ledger or
//! from a snapshot, rebuilds its state exactly.

use serde::{Deserialize, Serialize};

use crate::command::IdempotencyKey;
use crate::door::{Conflict, Scan};
use crate::offers::AppliedOffer;
use crate::outcome::Outcome;
use crate::performance::PerformanceSpec;
use crate::types::*;
use crate::waitlist::{WaitlistEndReason, WaitlistMode};

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Event {
    PerformanceOpened(Box<PerformanceSpec>),
    PlacesHeld {
        performance: PerformanceId,
        hold: HoldId,
        buyer: ActorId,
        places: Vec<Place>,
        amount_won: Won,
        expires_at_ms: u64,
        /// The admission the hold was made under (see [`crate::Command::Hold`]).
        #[serde(default)]
        admission: Option<AdmissionId>,
        /// Each place's price after the offer, in the order of `places`; empty means the grade
        /// prices (entries written before offers existed).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        prices_won: Vec<Won>,
        /// The places the offer reduced, in the same order (empty: none).
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        reduced: Vec<bool>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        offer: Option<AppliedOffer>,
        /// The booking fee of each place (the performance's, when held); `amount_won` includes
        /// it. 0 for entries written before booking fees existed.
        #[serde(default, skip_serializing_if = "is_zero")]
        booking_fee_won: Won,
    },
    HoldReleased {
        performance: PerformanceId,
        hold: HoldId,
        /// The places back on sale (the hold's), so followers of the seat map need no state.
        #[serde(default)]
        places: Vec<Place>,
    },
    /// The hold reached its deadline unpaid; its places are back on sale.
    HoldExpired {
        performance: PerformanceId,
        hold: HoldId,
        #[serde(default)]
        places: Vec<Place>,
    },
    BookingConfirmed {
        performance: PerformanceId,
        hold: HoldId,
        booking: BookingId,
        /// The first ticket id; the booking's tickets are numbered on from it, one per place of
        /// the hold, in the hold's order.
        first_ticket: TicketId,
        payment_ref: String,
        paid_won: Won,
        booked_at_ms: u64,
        /// The booking fees in `paid_won` (the settlement shows them on their own line).
        #[serde(default, skip_serializing_if = "is_zero")]
        booking_fee_won: Won,
    },
    TicketsCancelled {
        performance: PerformanceId,
        booking: BookingId,
        tickets: Vec<TicketId>,
        refund_won: Won,
        fee_won: Won,
        /// The part of `refund_won` that gives booking fees back (see
        /// [`crate::PerformanceSpec::booking_fee_won`]); the rest of the tickets' booking fees
        /// is kept.
        #[serde(default, skip_serializing_if = "is_zero")]
        booking_fee_refunded_won: Won,
        /// The places back on sale, one per ticket in order.
        #[serde(default)]
        places: Vec<Place>,
    },
    /// An entry from before gates and scans: applied as an online entry at gate 0.
    TicketCheckedIn {
        performance: PerformanceId,
        ticket: TicketId,
        at_ms: u64,
    },
    /// An online scan at the door was recorded (an entry that admitted, or an exit).
    TicketScanned {
        performance: PerformanceId,
        ticket: TicketId,
        scan: Scan,
    },
    /// An offline upload's new scans, and the conflicts they make (also derivable from the
    /// scans; written so the door report's readers need no state).
    ScansUploaded {
        performance: PerformanceId,
        scans: Vec<TicketScan>,
        conflicts: Vec<Conflict>,
    },
    /// The ticket now belongs to `to`; codes of generations before `generation` are revoked.
    TicketTransferred {
        performance: PerformanceId,
        ticket: TicketId,
        from: ActorId,
        to: ActorId,
        generation: u8,
    },
    /// The ticket was bound to a new device; codes of generations before `generation` are
    /// revoked.
    TicketRebound {
        performance: PerformanceId,
        ticket: TicketId,
        generation: u8,
    },
    /// A refund is owed: written right after the `TicketsCancelled` whose `refund_won` it is
    /// (when that is more than 0). `payment_ref` is the booking's provider payment key, so the
    /// refund worker needs no other state to pay it.
    RefundOwed {
        performance: PerformanceId,
        booking: BookingId,
        refund: RefundId,
        payment_ref: String,
        amount_won: Won,
    },
    /// The provider refunded `amount_won` of a refund owed, as its transaction
    /// `provider_transaction`.
    RefundPaid {
        performance: PerformanceId,
        booking: BookingId,
        refund: RefundId,
        provider_transaction: String,
        amount_won: Won,
        at_ms: u64,
    },
    /// The seller called the performance off: no more holds or payments. Its holds are released
    /// and its tickets cancelled by the events around it.
    PerformanceCancelled {
        performance: PerformanceId,
        reason: String,
        at_ms: u64,
    },
    /// A buyer joined the waitlist; entries are served in join order (their ids).
    WaitlistJoined {
        performance: PerformanceId,
        entry: WaitlistEntryId,
        buyer: ActorId,
        grade: Option<GradeId>,
        quantity: u16,
        together: bool,
        mode: WaitlistMode,
        joined_at_ms: u64,
    },
    /// Freed places were offered to a waiting entry: the `PlacesHeld` right after it holds
    /// them for the entry's buyer as `hold` until `deadline_ms` (the claim window for `Offer`,
    /// the charge window for `AutoPay`). The entry leaves the queue.
    WaitlistOffered {
        performance: PerformanceId,
        entry: WaitlistEntryId,
        hold: HoldId,
        buyer: ActorId,
        places: Vec<Place>,
        amount_won: Won,
        deadline_ms: u64,
        mode: WaitlistMode,
        /// The places among `places` that were reserved for the waitlist and leave the reserve
        /// (the others were freed in the same step), so a follower of the seat map counts a
        /// zone's places right.
        #[serde(default)]
        from_reserve: Vec<Place>,
    },
    /// A waitlist entry ended: left, booked, declined, lapsed, its charge failed, or the
    /// performance was called off.
    WaitlistEntryEnded {
        performance: PerformanceId,
        entry: WaitlistEntryId,
        reason: WaitlistEndReason,
    },
    /// Freed places no waiting entry can take are kept off sale for the waitlist (the
    /// performance's `waitlist.freed_to_sale` is false and entries wait).
    WaitlistReserved {
        performance: PerformanceId,
        places: Vec<Place>,
    },
    /// Places reserved for the waitlist are back on sale: no entry waits any more.
    WaitlistUnreserved {
        performance: PerformanceId,
        places: Vec<Place>,
    },
    /// A command finished; a retry with the same actor and key gets this outcome.
    CommandRecorded {
        actor: ActorId,
        key: IdempotencyKey,
        at_ms: u64,
        outcome: Outcome,
    },
    /// Idempotency keys recorded before this time are forgotten (see
    /// [`crate::limits::IDEMPOTENCY_RETENTION_MS`]).
    KeysForgotten {
        recorded_before_ms: u64,
    },
}

impl Event {
    /// The performance this event changes, if any.
    pub fn performance(&self) -> Option<PerformanceId> {
        match self {
            Event::PerformanceOpened(spec) => Some(spec.performance),
            Event::PlacesHeld { performance, .. }
            | Event::HoldReleased { performance, .. }
            | Event::HoldExpired { performance, .. }
            | Event::BookingConfirmed { performance, .. }
            | Event::TicketsCancelled { performance, .. }
            | Event::TicketCheckedIn { performance, .. }
            | Event::TicketScanned { performance, .. }
            | Event::ScansUploaded { performance, .. }
            | Event::TicketTransferred { performance, .. }
            | Event::TicketRebound { performance, .. }
            | Event::RefundOwed { performance, .. }
            | Event::RefundPaid { performance, .. }
            | Event::PerformanceCancelled { performance, .. }
            | Event::WaitlistJoined { performance, .. }
            | Event::WaitlistOffered { performance, .. }
            | Event::WaitlistEntryEnded { performance, .. }
            | Event::WaitlistReserved { performance, .. }
            | Event::WaitlistUnreserved { performance, .. } => Some(*performance),
            Event::CommandRecorded { .. } | Event::KeysForgotten { .. } => None,
        }
    }
}

/// One scan of an upload, with its ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TicketScan {
    pub ticket: TicketId,
    pub scan: Scan,
}

fn is_zero(won: &Won) -> bool {
    *won == 0
}
