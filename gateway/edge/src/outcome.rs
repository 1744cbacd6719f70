//! The ledger's outcome as clients read it: the same shape as [`picket_ledger_core::Outcome`]
//! (`{"Ok": {"Held": {...}}}`, `{"Err": "HoldExpired"}`), with every ledger id — holds,
//! bookings, tickets, performances — a decimal string ([`crate::id`]). The ledger's own bus and
//! journal keep the core's numeric encoding (ledger messages v1); the gateway (WebSocket `result`)
//! and the API (the operator's `POST /performances`) convert at their boundary with these types.
//! Seat, zone, grade and offer indexes, counts, amounts and times stay numbers: they are bounded
//! far below 2^53 (docs/protocol.md, "Ids").

use picket_ledger_core::{
    ActorId, BookingId, Conflict, Direction, GateId, GradeId, HoldId, Invalid, Outcome,
    PerformanceId, Place, RefundId, RefusedScan, Rejection, Reply, Scan, ScanRefusal, ScanSource,
    SeatId, TicketId, WaitlistEntryId, Won, ZoneId,
};
use serde::{Deserialize, Serialize};

use crate::id::Id;

/// [`Outcome`] on a client's wire.
pub type ClientOutcome = Result<ClientReply, ClientRejection>;

/// [`Reply`] with its ids as strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientReply {
    PerformanceOpened {
        performance: Id<PerformanceId>,
        seats: u32,
        standing_capacity: u32,
    },
    Held {
        hold: Id<HoldId>,
        places: Vec<Place>,
        amount_won: Won,
        expires_at_ms: u64,
        #[serde(default)]
        discount_won: Won,
        #[serde(default)]
        booking_fee_won: Won,
    },
    Released {
        hold: Id<HoldId>,
    },
    Confirmed {
        booking: Id<BookingId>,
        tickets: Vec<Id<TicketId>>,
        amount_won: Won,
    },
    Cancelled {
        booking: Id<BookingId>,
        tickets: Vec<Id<TicketId>>,
        refund_won: Won,
        fee_won: Won,
        #[serde(default)]
        booking_fee_kept_won: Won,
    },
    CheckedIn {
        ticket: Id<TicketId>,
        at_ms: u64,
    },
    PerformanceCancelled {
        performance: Id<PerformanceId>,
        holds_released: u32,
        bookings_cancelled: u32,
        refund_won: Won,
        bookings_left: u32,
    },
    RefundRecorded {
        refund: Id<RefundId>,
    },
    Admitted {
        ticket: Id<TicketId>,
        gate: GateId,
        at_ms: u64,
    },
    Exited {
        ticket: Id<TicketId>,
        gate: GateId,
        at_ms: u64,
    },
    ScansUploaded {
        recorded: u32,
        repeated: u32,
        refused: Vec<ClientRefusedScan>,
        conflicts: Vec<ClientConflict>,
    },
    Transferred {
        ticket: Id<TicketId>,
        to: Id<ActorId>,
        generation: u8,
    },
    Rebound {
        ticket: Id<TicketId>,
        generation: u8,
    },
    WaitlistJoined {
        entry: Id<WaitlistEntryId>,
        position: u32,
    },
    WaitlistLeft {
        entry: Id<WaitlistEntryId>,
        released: Option<Id<HoldId>>,
    },
    OfferDeclined {
        entry: Id<WaitlistEntryId>,
        hold: Id<HoldId>,
    },
    ChargeFailureRecorded {
        entry: Id<WaitlistEntryId>,
        hold: Id<HoldId>,
    },
}

/// [`ScanSource`] with the scanner and its nonce (any u64 a device chose) as strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientScanSource {
    Online,
    Offline { scanner: Id<u64>, nonce: Id<u64> },
}

/// [`Scan`] on a client's wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientScan {
    pub at_ms: u64,
    pub gate: GateId,
    pub direction: Direction,
    pub source: ClientScanSource,
}

/// [`Conflict`] with its ticket id as a string.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientConflict {
    pub ticket: Id<TicketId>,
    pub kept: ClientScan,
    pub duplicate: ClientScan,
}

/// [`RefusedScan`] with its ids as strings.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientRefusedScan {
    pub ticket: Id<TicketId>,
    pub scanner: Id<u64>,
    pub nonce: Id<u64>,
    pub reason: ScanRefusal,
}

impl From<Scan> for ClientScan {
    fn from(scan: Scan) -> Self {
        ClientScan {
            at_ms: scan.at_ms,
            gate: scan.gate,
            direction: scan.direction,
            source: match scan.source {
                ScanSource::Online => ClientScanSource::Online,
                ScanSource::Offline { scanner, nonce } => ClientScanSource::Offline {
                    scanner: Id(scanner),
                    nonce: Id(nonce),
                },
            },
        }
    }
}

impl From<ClientScan> for Scan {
    fn from(scan: ClientScan) -> Self {
        Scan {
            at_ms: scan.at_ms,
            gate: scan.gate,
            direction: scan.direction,
            source: match scan.source {
                ClientScanSource::Online => ScanSource::Online,
                ClientScanSource::Offline { scanner, nonce } => ScanSource::Offline {
                    scanner: scanner.0,
                    nonce: nonce.0,
                },
            },
        }
    }
}

impl From<Conflict> for ClientConflict {
    fn from(conflict: Conflict) -> Self {
        ClientConflict {
            ticket: Id(conflict.ticket),
            kept: conflict.kept.into(),
            duplicate: conflict.duplicate.into(),
        }
    }
}

impl From<ClientConflict> for Conflict {
    fn from(conflict: ClientConflict) -> Self {
        Conflict {
            ticket: conflict.ticket.0,
            kept: conflict.kept.into(),
            duplicate: conflict.duplicate.into(),
        }
    }
}

impl From<RefusedScan> for ClientRefusedScan {
    fn from(refused: RefusedScan) -> Self {
        ClientRefusedScan {
            ticket: Id(refused.ticket),
            scanner: Id(refused.scanner),
            nonce: Id(refused.nonce),
            reason: refused.reason,
        }
    }
}

impl From<ClientRefusedScan> for RefusedScan {
    fn from(refused: ClientRefusedScan) -> Self {
        RefusedScan {
            ticket: refused.ticket.0,
            scanner: refused.scanner.0,
            nonce: refused.nonce.0,
            reason: refused.reason,
        }
    }
}

fn converted<A, B: From<A>>(items: Vec<A>) -> Vec<B> {
    items.into_iter().map(B::from).collect()
}

/// [`Rejection`] with its ids as strings.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientRejection {
    Invalid(Invalid),
    UnknownPerformance,
    PerformanceAlreadyOpen,
    PartitionFull,
    SalesClosed,
    UnknownSeat { seat: SeatId },
    UnknownGrade { grade: GradeId },
    UnknownZone { zone: ZoneId },
    SeatTaken { seat: SeatId },
    NotEnoughAvailable { available: u32 },
    OverBuyerLimit { limit: u16, already: u16 },
    UnknownHold,
    HoldExpired,
    NotYourHold,
    WrongAmount { expected_won: Won },
    UnknownBooking,
    NotYourBooking,
    UnknownTicket { ticket: Id<TicketId> },
    TicketAlreadyCancelled { ticket: Id<TicketId> },
    CancellationClosed,
    TicketCancelled,
    AlreadyCheckedIn { at_ms: u64 },
    AdmissionNotYours,
    AdmissionSpent,
    UnknownOffer,
    OfferNotActive,
    OfferNotApplicable,
    BelowCouponMinimum { min_order_won: Won },
    CouponUsedUp,
    CouponAlreadyUsed,
    PerformanceCancelled,
    UnknownRefund,
    RefundAlreadyRecorded { provider_transaction: String },
    RefundAmountMismatch { expected_won: Won },
    AlreadyUsed { at_ms: u64, gate: GateId },
    WrongPerformance,
    Revoked,
    NotInside,
    NoReentry,
    UnknownGate { gate: GateId },
    NotYourTicket,
    TransferClosed,
    TicketUsed,
    TooManyTransfers,
    TooManyRebinds,
    TooManyScans,
    WaitlistClosed,
    WaitlistFull,
    TooManyWaitlistEntries { limit: u16 },
    UnknownWaitlistEntry,
    NotYourWaitlistEntry,
    NoWaitlistOffer,
    NotAutoPay,
}

fn ids<T>(ids: Vec<T>) -> Vec<Id<T>> {
    ids.into_iter().map(Id).collect()
}

fn values<T>(ids: Vec<Id<T>>) -> Vec<T> {
    ids.into_iter().map(|id| id.0).collect()
}

impl From<Reply> for ClientReply {
    fn from(reply: Reply) -> Self {
        match reply {
            Reply::PerformanceOpened {
                performance,
                seats,
                standing_capacity,
            } => ClientReply::PerformanceOpened {
                performance: Id(performance),
                seats,
                standing_capacity,
            },
            Reply::Held {
                hold,
                places,
                amount_won,
                expires_at_ms,
                discount_won,
                booking_fee_won,
            } => ClientReply::Held {
                hold: Id(hold),
                places,
                amount_won,
                expires_at_ms,
                discount_won,
                booking_fee_won,
            },
            Reply::Released { hold } => ClientReply::Released { hold: Id(hold) },
            Reply::Confirmed {
                booking,
                tickets,
                amount_won,
            } => ClientReply::Confirmed {
                booking: Id(booking),
                tickets: ids(tickets),
                amount_won,
            },
            Reply::Cancelled {
                booking,
                tickets,
                refund_won,
                fee_won,
                booking_fee_kept_won,
            } => ClientReply::Cancelled {
                booking: Id(booking),
                tickets: ids(tickets),
                refund_won,
                fee_won,
                booking_fee_kept_won,
            },
            Reply::CheckedIn { ticket, at_ms } => ClientReply::CheckedIn {
                ticket: Id(ticket),
                at_ms,
            },
            Reply::PerformanceCancelled {
                performance,
                holds_released,
                bookings_cancelled,
                refund_won,
                bookings_left,
            } => ClientReply::PerformanceCancelled {
                performance: Id(performance),
                holds_released,
                bookings_cancelled,
                refund_won,
                bookings_left,
            },
            Reply::RefundRecorded { refund } => ClientReply::RefundRecorded { refund: Id(refund) },
            Reply::Admitted {
                ticket,
                gate,
                at_ms,
            } => ClientReply::Admitted {
                ticket: Id(ticket),
                gate,
                at_ms,
            },
            Reply::Exited {
                ticket,
                gate,
                at_ms,
            } => ClientReply::Exited {
                ticket: Id(ticket),
                gate,
                at_ms,
            },
            Reply::ScansUploaded {
                recorded,
                repeated,
                refused,
                conflicts,
            } => ClientReply::ScansUploaded {
                recorded,
                repeated,
                refused: converted(refused),
                conflicts: converted(conflicts),
            },
            Reply::Transferred {
                ticket,
                to,
                generation,
            } => ClientReply::Transferred {
                ticket: Id(ticket),
                to: Id(to),
                generation,
            },
            Reply::Rebound { ticket, generation } => ClientReply::Rebound {
                ticket: Id(ticket),
                generation,
            },
            Reply::WaitlistJoined { entry, position } => ClientReply::WaitlistJoined {
                entry: Id(entry),
                position,
            },
            Reply::WaitlistLeft { entry, released } => ClientReply::WaitlistLeft {
                entry: Id(entry),
                released: released.map(Id),
            },
            Reply::OfferDeclined { entry, hold } => ClientReply::OfferDeclined {
                entry: Id(entry),
                hold: Id(hold),
            },
            Reply::ChargeFailureRecorded { entry, hold } => ClientReply::ChargeFailureRecorded {
                entry: Id(entry),
                hold: Id(hold),
            },
        }
    }
}

impl From<ClientReply> for Reply {
    fn from(reply: ClientReply) -> Self {
        match reply {
            ClientReply::PerformanceOpened {
                performance,
                seats,
                standing_capacity,
            } => Reply::PerformanceOpened {
                performance: performance.0,
                seats,
                standing_capacity,
            },
            ClientReply::Held {
                hold,
                places,
                amount_won,
                expires_at_ms,
                discount_won,
                booking_fee_won,
            } => Reply::Held {
                hold: hold.0,
                places,
                amount_won,
                expires_at_ms,
                discount_won,
                booking_fee_won,
            },
            ClientReply::Released { hold } => Reply::Released { hold: hold.0 },
            ClientReply::Confirmed {
                booking,
                tickets,
                amount_won,
            } => Reply::Confirmed {
                booking: booking.0,
                tickets: values(tickets),
                amount_won,
            },
            ClientReply::Cancelled {
                booking,
                tickets,
                refund_won,
                fee_won,
                booking_fee_kept_won,
            } => Reply::Cancelled {
                booking: booking.0,
                tickets: values(tickets),
                refund_won,
                fee_won,
                booking_fee_kept_won,
            },
            ClientReply::CheckedIn { ticket, at_ms } => Reply::CheckedIn {
                ticket: ticket.0,
                at_ms,
            },
            ClientReply::PerformanceCancelled {
                performance,
                holds_released,
                bookings_cancelled,
                refund_won,
                bookings_left,
            } => Reply::PerformanceCancelled {
                performance: performance.0,
                holds_released,
                bookings_cancelled,
                refund_won,
                bookings_left,
            },
            ClientReply::RefundRecorded { refund } => Reply::RefundRecorded { refund: refund.0 },
            ClientReply::Admitted {
                ticket,
                gate,
                at_ms,
            } => Reply::Admitted {
                ticket: ticket.0,
                gate,
                at_ms,
            },
            ClientReply::Exited {
                ticket,
                gate,
                at_ms,
            } => Reply::Exited {
                ticket: ticket.0,
                gate,
                at_ms,
            },
            ClientReply::ScansUploaded {
                recorded,
                repeated,
                refused,
                conflicts,
            } => Reply::ScansUploaded {
                recorded,
                repeated,
                refused: converted(refused),
                conflicts: converted(conflicts),
            },
            ClientReply::Transferred {
                ticket,
                to,
                generation,
            } => Reply::Transferred {
                ticket: ticket.0,
                to: to.0,
                generation,
            },
            ClientReply::Rebound { ticket, generation } => Reply::Rebound {
                ticket: ticket.0,
                generation,
            },
            ClientReply::WaitlistJoined { entry, position } => Reply::WaitlistJoined {
                entry: entry.0,
                position,
            },
            ClientReply::WaitlistLeft { entry, released } => Reply::WaitlistLeft {
                entry: entry.0,
                released: released.map(|hold| hold.0),
            },
            ClientReply::OfferDeclined { entry, hold } => Reply::OfferDeclined {
                entry: entry.0,
                hold: hold.0,
            },
            ClientReply::ChargeFailureRecorded { entry, hold } => Reply::ChargeFailureRecorded {
                entry: entry.0,
                hold: hold.0,
            },
        }
    }
}

impl From<Rejection> for ClientRejection {
    fn from(rejection: Rejection) -> Self {
        match rejection {
            Rejection::Invalid(why) => ClientRejection::Invalid(why),
            Rejection::UnknownPerformance => ClientRejection::UnknownPerformance,
            Rejection::PerformanceAlreadyOpen => ClientRejection::PerformanceAlreadyOpen,
            Rejection::PartitionFull => ClientRejection::PartitionFull,
            Rejection::SalesClosed => ClientRejection::SalesClosed,
            Rejection::UnknownSeat { seat } => ClientRejection::UnknownSeat { seat },
            Rejection::UnknownGrade { grade } => ClientRejection::UnknownGrade { grade },
            Rejection::UnknownZone { zone } => ClientRejection::UnknownZone { zone },
            Rejection::SeatTaken { seat } => ClientRejection::SeatTaken { seat },
            Rejection::NotEnoughAvailable { available } => {
                ClientRejection::NotEnoughAvailable { available }
            }
            Rejection::OverBuyerLimit { limit, already } => {
                ClientRejection::OverBuyerLimit { limit, already }
            }
            Rejection::UnknownHold => ClientRejection::UnknownHold,
            Rejection::HoldExpired => ClientRejection::HoldExpired,
            Rejection::NotYourHold => ClientRejection::NotYourHold,
            Rejection::WrongAmount { expected_won } => {
                ClientRejection::WrongAmount { expected_won }
            }
            Rejection::UnknownBooking => ClientRejection::UnknownBooking,
            Rejection::NotYourBooking => ClientRejection::NotYourBooking,
            Rejection::UnknownTicket { ticket } => {
                ClientRejection::UnknownTicket { ticket: Id(ticket) }
            }
            Rejection::TicketAlreadyCancelled { ticket } => {
                ClientRejection::TicketAlreadyCancelled { ticket: Id(ticket) }
            }
            Rejection::CancellationClosed => ClientRejection::CancellationClosed,
            Rejection::TicketCancelled => ClientRejection::TicketCancelled,
            Rejection::AlreadyCheckedIn { at_ms } => ClientRejection::AlreadyCheckedIn { at_ms },
            Rejection::AdmissionNotYours => ClientRejection::AdmissionNotYours,
            Rejection::AdmissionSpent => ClientRejection::AdmissionSpent,
            Rejection::UnknownOffer => ClientRejection::UnknownOffer,
            Rejection::OfferNotActive => ClientRejection::OfferNotActive,
            Rejection::OfferNotApplicable => ClientRejection::OfferNotApplicable,
            Rejection::BelowCouponMinimum { min_order_won } => {
                ClientRejection::BelowCouponMinimum { min_order_won }
            }
            Rejection::CouponUsedUp => ClientRejection::CouponUsedUp,
            Rejection::CouponAlreadyUsed => ClientRejection::CouponAlreadyUsed,
            Rejection::PerformanceCancelled => ClientRejection::PerformanceCancelled,
            Rejection::UnknownRefund => ClientRejection::UnknownRefund,
            Rejection::RefundAlreadyRecorded {
                provider_transaction,
            } => ClientRejection::RefundAlreadyRecorded {
                provider_transaction,
            },
            Rejection::RefundAmountMismatch { expected_won } => {
                ClientRejection::RefundAmountMismatch { expected_won }
            }
            Rejection::AlreadyUsed { at_ms, gate } => ClientRejection::AlreadyUsed { at_ms, gate },
            Rejection::WrongPerformance => ClientRejection::WrongPerformance,
            Rejection::Revoked => ClientRejection::Revoked,
            Rejection::NotInside => ClientRejection::NotInside,
            Rejection::NoReentry => ClientRejection::NoReentry,
            Rejection::UnknownGate { gate } => ClientRejection::UnknownGate { gate },
            Rejection::NotYourTicket => ClientRejection::NotYourTicket,
            Rejection::TransferClosed => ClientRejection::TransferClosed,
            Rejection::TicketUsed => ClientRejection::TicketUsed,
            Rejection::TooManyTransfers => ClientRejection::TooManyTransfers,
            Rejection::TooManyRebinds => ClientRejection::TooManyRebinds,
            Rejection::TooManyScans => ClientRejection::TooManyScans,
            Rejection::WaitlistClosed => ClientRejection::WaitlistClosed,
            Rejection::WaitlistFull => ClientRejection::WaitlistFull,
            Rejection::TooManyWaitlistEntries { limit } => {
                ClientRejection::TooManyWaitlistEntries { limit }
            }
            Rejection::UnknownWaitlistEntry => ClientRejection::UnknownWaitlistEntry,
            Rejection::NotYourWaitlistEntry => ClientRejection::NotYourWaitlistEntry,
            Rejection::NoWaitlistOffer => ClientRejection::NoWaitlistOffer,
            Rejection::NotAutoPay => ClientRejection::NotAutoPay,
        }
    }
}

impl From<ClientRejection> for Rejection {
    fn from(rejection: ClientRejection) -> Self {
        match rejection {
            ClientRejection::Invalid(why) => Rejection::Invalid(why),
            ClientRejection::UnknownPerformance => Rejection::UnknownPerformance,
            ClientRejection::PerformanceAlreadyOpen => Rejection::PerformanceAlreadyOpen,
            ClientRejection::PartitionFull => Rejection::PartitionFull,
            ClientRejection::SalesClosed => Rejection::SalesClosed,
            ClientRejection::UnknownSeat { seat } => Rejection::UnknownSeat { seat },
            ClientRejection::UnknownGrade { grade } => Rejection::UnknownGrade { grade },
            ClientRejection::UnknownZone { zone } => Rejection::UnknownZone { zone },
            ClientRejection::SeatTaken { seat } => Rejection::SeatTaken { seat },
            ClientRejection::NotEnoughAvailable { available } => {
                Rejection::NotEnoughAvailable { available }
            }
            ClientRejection::OverBuyerLimit { limit, already } => {
                Rejection::OverBuyerLimit { limit, already }
            }
            ClientRejection::UnknownHold => Rejection::UnknownHold,
            ClientRejection::HoldExpired => Rejection::HoldExpired,
            ClientRejection::NotYourHold => Rejection::NotYourHold,
            ClientRejection::WrongAmount { expected_won } => {
                Rejection::WrongAmount { expected_won }
            }
            ClientRejection::UnknownBooking => Rejection::UnknownBooking,
            ClientRejection::NotYourBooking => Rejection::NotYourBooking,
            ClientRejection::UnknownTicket { ticket } => {
                Rejection::UnknownTicket { ticket: ticket.0 }
            }
            ClientRejection::TicketAlreadyCancelled { ticket } => {
                Rejection::TicketAlreadyCancelled { ticket: ticket.0 }
            }
            ClientRejection::CancellationClosed => Rejection::CancellationClosed,
            ClientRejection::TicketCancelled => Rejection::TicketCancelled,
            ClientRejection::AlreadyCheckedIn { at_ms } => Rejection::AlreadyCheckedIn { at_ms },
            ClientRejection::AdmissionNotYours => Rejection::AdmissionNotYours,
            ClientRejection::AdmissionSpent => Rejection::AdmissionSpent,
            ClientRejection::UnknownOffer => Rejection::UnknownOffer,
            ClientRejection::OfferNotActive => Rejection::OfferNotActive,
            ClientRejection::OfferNotApplicable => Rejection::OfferNotApplicable,
            ClientRejection::BelowCouponMinimum { min_order_won } => {
                Rejection::BelowCouponMinimum { min_order_won }
            }
            ClientRejection::CouponUsedUp => Rejection::CouponUsedUp,
            ClientRejection::CouponAlreadyUsed => Rejection::CouponAlreadyUsed,
            ClientRejection::PerformanceCancelled => Rejection::PerformanceCancelled,
            ClientRejection::UnknownRefund => Rejection::UnknownRefund,
            ClientRejection::RefundAlreadyRecorded {
                provider_transaction,
            } => Rejection::RefundAlreadyRecorded {
                provider_transaction,
            },
            ClientRejection::RefundAmountMismatch { expected_won } => {
                Rejection::RefundAmountMismatch { expected_won }
            }
            ClientRejection::AlreadyUsed { at_ms, gate } => Rejection::AlreadyUsed { at_ms, gate },
            ClientRejection::WrongPerformance => Rejection::WrongPerformance,
            ClientRejection::Revoked => Rejection::Revoked,
            ClientRejection::NotInside => Rejection::NotInside,
            ClientRejection::NoReentry => Rejection::NoReentry,
            ClientRejection::UnknownGate { gate } => Rejection::UnknownGate { gate },
            ClientRejection::NotYourTicket => Rejection::NotYourTicket,
            ClientRejection::TransferClosed => Rejection::TransferClosed,
            ClientRejection::TicketUsed => Rejection::TicketUsed,
            ClientRejection::TooManyTransfers => Rejection::TooManyTransfers,
            ClientRejection::TooManyRebinds => Rejection::TooManyRebinds,
            ClientRejection::TooManyScans => Rejection::TooManyScans,
            ClientRejection::WaitlistClosed => Rejection::WaitlistClosed,
            ClientRejection::WaitlistFull => Rejection::WaitlistFull,
            ClientRejection::TooManyWaitlistEntries { limit } => {
                Rejection::TooManyWaitlistEntries { limit }
            }
            ClientRejection::UnknownWaitlistEntry => Rejection::UnknownWaitlistEntry,
            ClientRejection::NotYourWaitlistEntry => Rejection::NotYourWaitlistEntry,
            ClientRejection::NoWaitlistOffer => Rejection::NoWaitlistOffer,
            ClientRejection::NotAutoPay => Rejection::NotAutoPay,
        }
    }
}

/// An outcome as a client reads it.
pub fn to_client(outcome: Outcome) -> ClientOutcome {
    outcome
        .map(ClientReply::from)
        .map_err(ClientRejection::from)
}

/// A client's outcome as the ledger's types (for Rust clients: the load tester, tests).
pub fn from_client(outcome: ClientOutcome) -> Outcome {
    outcome.map(Reply::from).map_err(Rejection::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ledger_ids_become_strings_and_come_back() {
        let big = 117_701_597_864_396_273u64;
        let outcomes: Vec<Outcome> = vec![
            Ok(Reply::Confirmed {
                booking: BookingId(big),
                tickets: vec![TicketId(big + 1), TicketId(big + 2)],
                amount_won: 160_000,
            }),
            Ok(Reply::Held {
                hold: HoldId(big),
                places: vec![Place::Seat(SeatId(3))],
                amount_won: 1,
                expires_at_ms: 2,
                discount_won: 0,
                booking_fee_won: 0,
            }),
            Err(Rejection::TicketAlreadyCancelled {
                ticket: TicketId(big),
            }),
            Err(Rejection::SeatTaken { seat: SeatId(4) }),
            Err(Rejection::HoldExpired),
            Ok(Reply::ScansUploaded {
                recorded: 1,
                repeated: 0,
                refused: vec![RefusedScan {
                    ticket: TicketId(big),
                    scanner: u64::MAX,
                    nonce: big,
                    reason: ScanRefusal::Revoked,
                }],
                conflicts: vec![Conflict {
                    ticket: TicketId(big),
                    kept: Scan {
                        at_ms: 1,
                        gate: GateId(2),
                        direction: Direction::Entry,
                        source: ScanSource::Offline {
                            scanner: 7,
                            nonce: big,
                        },
                    },
                    duplicate: Scan {
                        at_ms: 2,
                        gate: GateId(3),
                        direction: Direction::Entry,
                        source: ScanSource::Online,
                    },
                }],
            }),
            Ok(Reply::Transferred {
                ticket: TicketId(big),
                to: ActorId(big + 5),
                generation: 1,
            }),
            Err(Rejection::AlreadyUsed {
                at_ms: 3,
                gate: GateId(1),
            }),
        ];
        for outcome in outcomes {
            let json = serde_json::to_value(to_client(outcome.clone())).expect("encodes");
            let back: ClientOutcome = serde_json::from_value(json).expect("decodes");
            assert_eq!(from_client(back), outcome);
        }
        let json = serde_json::to_string(&to_client(Ok(Reply::Confirmed {
            booking: BookingId(big),
            tickets: vec![TicketId(big)],
            amount_won: 5,
        })))
        .expect("encodes");
        assert_eq!(
            json,
            r#"{"Ok":{"Confirmed":{"booking":"117701597864396273","tickets":["117701597864396273"],"amount_won":5}}}"#
        );
        let seat = serde_json::to_string(&to_client(Err(Rejection::SeatTaken { seat: SeatId(4) })))
            .expect("encodes");
        assert_eq!(seat, r#"{"Err":{"SeatTaken":{"seat":4}}}"#);
    }

    #[test]
    fn a_numeric_ledger_id_is_refused() {
        let numeric = r#"{"Ok":{"Released":{"hold":5}}}"#;
        assert!(serde_json::from_str::<ClientOutcome>(numeric).is_err());
    }
}
