//! What a command returns: a reply, or a typed rejection the client can act on.

use serde::{Deserialize, Serialize};

use crate::door::{Conflict, RefusedScan};
use crate::types::*;

pub type Outcome = Result<Reply, Rejection>;

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Reply {
    PerformanceOpened {
        performance: PerformanceId,
        seats: u32,
        standing_capacity: u32,
    },
    Held {
        hold: HoldId,
        places: Vec<Place>,
        /// What the buyer pays: the places' prices after the offer, plus the booking fees.
        amount_won: Won,
        expires_at_ms: u64,
        /// How much the offer took off the grade prices (0 without one). Always written:
        /// outcomes are in snapshots, which are postcard (no field names, no skipping).
        #[serde(default)]
        discount_won: Won,
        /// The booking fees in `amount_won` (the performance's fee per ticket, times the places).
        #[serde(default)]
        booking_fee_won: Won,
    },
    Released {
        hold: HoldId,
    },
    Confirmed {
        booking: BookingId,
        tickets: Vec<TicketId>,
        amount_won: Won,
    },
    Cancelled {
        booking: BookingId,
        tickets: Vec<TicketId>,
        /// Everything given back: the tickets' prices less `fee_won`, plus the booking fees
        /// refunded.
        refund_won: Won,
        /// Cancellation fees kept.
        fee_won: Won,
        /// Booking fees kept (refunded only on the day of booking or when the seller calls the
        /// performance off).
        #[serde(default)]
        booking_fee_kept_won: Won,
    },
    CheckedIn {
        ticket: TicketId,
        at_ms: u64,
    },
    /// An online entry scan admitted the ticket.
    Admitted {
        ticket: TicketId,
        gate: GateId,
        at_ms: u64,
    },
    /// An online exit scan let the ticket out; it may enter again.
    Exited {
        ticket: TicketId,
        gate: GateId,
        at_ms: u64,
    },
    /// An offline upload: scans recorded, scans already recorded before (repeated), scans not
    /// recorded and why, and the conflicts the upload made (the same ticket admitted twice; the
    /// earlier scan is kept).
    ScansUploaded {
        recorded: u32,
        repeated: u32,
        refused: Vec<RefusedScan>,
        conflicts: Vec<Conflict>,
    },
    /// The ticket belongs to `to` now; its codes need `generation`.
    Transferred {
        ticket: TicketId,
        to: ActorId,
        generation: u8,
    },
    /// The ticket is bound to a new device; its codes need `generation`.
    Rebound {
        ticket: TicketId,
        generation: u8,
    },
    /// One step of a performance's cancellation: holds released and bookings cancelled (each
    /// refunded in full) by this command, and the bookings still to cancel (repeat the command
    /// while this is more than 0).
    PerformanceCancelled {
        performance: PerformanceId,
        holds_released: u32,
        bookings_cancelled: u32,
        refund_won: Won,
        bookings_left: u32,
    },
    RefundRecorded {
        refund: RefundId,
    },
    /// The buyer joined the waitlist; `position` is its place among the entries that wait
    /// (1 is next).
    WaitlistJoined {
        entry: WaitlistEntryId,
        position: u32,
    },
    /// The buyer left the waitlist; `released` is the offer's hold given back, if it had one.
    WaitlistLeft {
        entry: WaitlistEntryId,
        released: Option<HoldId>,
    },
    /// The offer's hold was given back; its places move on.
    OfferDeclined {
        entry: WaitlistEntryId,
        hold: HoldId,
    },
    /// The failed charge was recorded; the offer's hold was given back and its places move on.
    ChargeFailureRecorded {
        entry: WaitlistEntryId,
        hold: HoldId,
    },
}

/// A business rejection: the command changed nothing, and the client can tell why.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Rejection {
    /// The request breaks a rule of shape or a named limit.
    Invalid(Invalid),
    UnknownPerformance,
    PerformanceAlreadyOpen,
    /// The partition hosts [`crate::limits::PERFORMANCES_PER_PARTITION_MAX`] performances.
    PartitionFull,
    /// Sales end when the show starts.
    SalesClosed,
    UnknownSeat {
        seat: SeatId,
    },
    UnknownGrade {
        grade: GradeId,
    },
    UnknownZone {
        zone: ZoneId,
    },
    SeatTaken {
        seat: SeatId,
    },
    /// Fewer free places than asked for; `available` says how many there are.
    NotEnoughAvailable {
        available: u32,
    },
    /// The buyer would go over the performance's per-buyer limit.
    OverBuyerLimit {
        limit: u16,
        already: u16,
    },
    UnknownHold,
    HoldExpired,
    NotYourHold,
    WrongAmount {
        expected_won: Won,
    },
    UnknownBooking,
    NotYourBooking,
    UnknownTicket {
        ticket: TicketId,
    },
    TicketAlreadyCancelled {
        ticket: TicketId,
    },
    /// Online cancellation has closed for this performance (or the ticket was bought on the day of
    /// the show, which cannot be cancelled).
    CancellationClosed,
    TicketCancelled,
    AlreadyCheckedIn {
        at_ms: u64,
    },
    /// The ticket is inside: admitted at `at_ms` through `gate`.
    AlreadyUsed {
        at_ms: u64,
        gate: GateId,
    },
    /// The ticket belongs to another performance.
    WrongPerformance,
    /// The code's generation is one the ticket has left (transferred, or moved to another
    /// device).
    Revoked,
    /// An exit scan of a ticket that is not inside.
    NotInside,
    /// An exit scan where the show allows no re-entry: the ticket stays used.
    NoReentry,
    /// The gate is not one of the performance's gates.
    UnknownGate {
        gate: GateId,
    },
    /// The actor does not hold the ticket (or gave it away).
    NotYourTicket,
    /// The show allows no transfers, or its transfer deadline has passed.
    TransferClosed,
    /// A ticket that has been used at the door cannot be transferred.
    TicketUsed,
    /// The ticket was transferred [`crate::limits::TRANSFERS_PER_TICKET_MAX`] times.
    TooManyTransfers,
    /// The ticket was bound to a new device [`crate::limits::REBINDS_PER_TICKET_MAX`] times.
    TooManyRebinds,
    /// The ticket has [`crate::limits::SCANS_PER_TICKET_MAX`] scans.
    TooManyScans,
    /// The admission was first used by another buyer: admissions cannot be shared.
    AdmissionNotYours,
    /// The admission already bought tickets; the buyer must queue again to buy more.
    AdmissionSpent,
    /// No such discount or coupon code for this performance.
    UnknownOffer,
    /// The early-bird window or the coupon's validity has not begun or has ended.
    OfferNotActive,
    /// The discount covers none of the grades held.
    OfferNotApplicable,
    /// The order costs less than the coupon's minimum.
    BelowCouponMinimum {
        min_order_won: Won,
    },
    /// The coupon has been used as many times as it allows.
    CouponUsedUp,
    /// This buyer has used the coupon as many times as one buyer may.
    CouponAlreadyUsed,
    /// The seller called the performance off: no holds, payments or further cancellation.
    PerformanceCancelled,
    /// No refund owed with that id for that booking.
    UnknownRefund,
    /// The refund was already paid, as the provider's transaction `provider_transaction`.
    RefundAlreadyRecorded {
        provider_transaction: String,
    },
    /// The refund owed is `expected_won`, not the amount reported.
    RefundAmountMismatch {
        expected_won: Won,
    },
    /// The performance takes no waitlist (its `waitlist.enabled` is off).
    WaitlistClosed,
    /// The performance's waitlist has [`crate::limits::WAITLIST_ENTRIES_MAX`] entries.
    WaitlistFull,
    /// The buyer has `limit` entries in this performance's waitlist already.
    TooManyWaitlistEntries {
        limit: u16,
    },
    /// No such waitlist entry that is still waiting or offered.
    UnknownWaitlistEntry,
    NotYourWaitlistEntry,
    /// The entry has no open offer (it still waits).
    NoWaitlistOffer,
    /// A charge failure for an entry that is not auto-pay.
    NotAutoPay,
}

/// Which rule of shape a request broke.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Invalid {
    IdempotencyKey,
    PaymentRef,
    Label,
    EmptySelection,
    DuplicateSeat,
    TooManyPlaces,
    NoInventory,
    TooManySeats,
    TooManyGrades,
    TooManyZones,
    ZoneCapacity,
    Price,
    BookingFee,
    PerBuyerLimit,
    HoldTtl,
    FeeSchedule,
    DuplicateTicket,
    Offer,
    TooManyOffers,
    CouponCode,
    CancelReason,
    ProviderTransaction,
    Gates,
    TransferDeadline,
    TooManyScans,
    SelfTransfer,
    WaitlistWindow,
    BillingRef,
    ChargeFailureReason,
}

impl Rejection {
    /// The stable, documented code a client sees (`docs/protocol.md`).
    pub fn code(&self) -> &'static str {
        match self {
            Rejection::Invalid(_) => "invalid_request",
            Rejection::UnknownPerformance => "unknown_performance",
            Rejection::PerformanceAlreadyOpen => "performance_already_open",
            Rejection::PartitionFull => "partition_full",
            Rejection::SalesClosed => "sales_closed",
            Rejection::UnknownSeat { .. } => "unknown_seat",
            Rejection::UnknownGrade { .. } => "unknown_grade",
            Rejection::UnknownZone { .. } => "unknown_zone",
            Rejection::SeatTaken { .. } => "seat_taken",
            Rejection::NotEnoughAvailable { .. } => "not_enough_available",
            Rejection::OverBuyerLimit { .. } => "over_buyer_limit",
            Rejection::UnknownHold => "unknown_hold",
            Rejection::HoldExpired => "hold_expired",
            Rejection::NotYourHold => "not_your_hold",
            Rejection::WrongAmount { .. } => "wrong_amount",
            Rejection::UnknownBooking => "unknown_booking",
            Rejection::NotYourBooking => "not_your_booking",
            Rejection::UnknownTicket { .. } => "unknown_ticket",
            Rejection::TicketAlreadyCancelled { .. } => "ticket_already_cancelled",
            Rejection::CancellationClosed => "cancellation_closed",
            Rejection::TicketCancelled => "ticket_cancelled",
            Rejection::AlreadyCheckedIn { .. } => "already_checked_in",
            Rejection::AlreadyUsed { .. } => "already_used",
            Rejection::WrongPerformance => "wrong_performance",
            Rejection::Revoked => "revoked",
            Rejection::NotInside => "not_inside",
            Rejection::NoReentry => "no_reentry",
            Rejection::UnknownGate { .. } => "unknown_gate",
            Rejection::NotYourTicket => "not_your_ticket",
            Rejection::TransferClosed => "transfer_closed",
            Rejection::TicketUsed => "ticket_used",
            Rejection::TooManyTransfers => "too_many_transfers",
            Rejection::TooManyRebinds => "too_many_rebinds",
            Rejection::TooManyScans => "too_many_scans",
            Rejection::AdmissionNotYours => "admission_not_yours",
            Rejection::AdmissionSpent => "admission_spent",
            Rejection::UnknownOffer => "unknown_offer",
            Rejection::OfferNotActive => "offer_not_active",
            Rejection::OfferNotApplicable => "offer_not_applicable",
            Rejection::BelowCouponMinimum { .. } => "below_coupon_minimum",
            Rejection::CouponUsedUp => "coupon_used_up",
            Rejection::CouponAlreadyUsed => "coupon_already_used",
            Rejection::PerformanceCancelled => "performance_cancelled",
            Rejection::UnknownRefund => "unknown_refund",
            Rejection::RefundAlreadyRecorded { .. } => "refund_already_recorded",
            Rejection::RefundAmountMismatch { .. } => "refund_amount_mismatch",
            Rejection::WaitlistClosed => "waitlist_closed",
            Rejection::WaitlistFull => "waitlist_full",
            Rejection::TooManyWaitlistEntries { .. } => "too_many_waitlist_entries",
            Rejection::UnknownWaitlistEntry => "unknown_waitlist_entry",
            Rejection::NotYourWaitlistEntry => "not_your_waitlist_entry",
            Rejection::NoWaitlistOffer => "no_waitlist_offer",
            Rejection::NotAutoPay => "not_auto_pay",
        }
    }
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::Invalid(why) => write!(f, "invalid_request: {why:?}"),
            other => write!(f, "{}: {other:?}", other.code()),
        }
    }
}

impl std::error::Error for Rejection {}

impl From<Invalid> for Rejection {
    fn from(why: Invalid) -> Self {
        Rejection::Invalid(why)
    }
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let why = match self {
            Invalid::IdempotencyKey => "idempotency key must be 1 to 64 printable ASCII bytes",
            Invalid::PaymentRef => "payment reference must be 1 to 200 bytes",
            Invalid::Label => {
                "a section, row, grade or zone label is empty, too long or names no grade"
            }
            Invalid::EmptySelection => "a hold must ask for at least one place",
            Invalid::DuplicateSeat => "the same seat appears twice",
            Invalid::TooManyPlaces => "a hold may ask for at most 16 places",
            Invalid::NoInventory => "a performance needs seats or a standing zone",
            Invalid::TooManySeats => "a performance may have at most 150,000 seats",
            Invalid::TooManyGrades => "a performance needs 1 to 32 price grades",
            Invalid::TooManyZones => "a performance may have at most 64 standing zones",
            Invalid::ZoneCapacity => "a standing zone holds 1 to 200,000 people",
            Invalid::Price => "a ticket costs at most 100,000,000 won",
            Invalid::BookingFee => "a booking fee is at most 100,000 won per ticket",
            Invalid::PerBuyerLimit => "the per-buyer limit is 1 to 16 tickets",
            Invalid::HoldTtl => "a hold lasts 1 to 30 minutes",
            Invalid::FeeSchedule => "the cancellation-fee schedule is inconsistent",
            Invalid::DuplicateTicket => "the same ticket appears twice",
            Invalid::Offer => {
                "a discount or coupon is inconsistent (window, amount, grades, limits or code)"
            }
            Invalid::TooManyOffers => "a performance may have at most 16 discounts and 64 coupons",
            Invalid::CouponCode => "a coupon code is 4 to 32 upper-case letters, digits or '-'",
            Invalid::CancelReason => "a cancellation reason is 1 to 200 bytes",
            Invalid::ProviderTransaction => "a provider transaction id is 1 to 64 bytes",
            Invalid::Gates => "a performance has at most 64 gates, each a unique id and a label",
            Invalid::TransferDeadline => "the transfer deadline is at most the start of the show",
            Invalid::TooManyScans => "an upload has at most 1,000 scans",
            Invalid::SelfTransfer => "a ticket cannot be transferred to its holder",
            Invalid::WaitlistWindow => {
                "a waitlist claim window is 1 minute to 24 hours, a charge window 1 to 30 minutes"
            }
            Invalid::BillingRef => "a billing reference is 1 to 200 bytes",
            Invalid::ChargeFailureReason => "a charge failure reason is 1 to 200 bytes",
        };
        f.write_str(why)
    }
}

impl std::error::Error for Invalid {}
