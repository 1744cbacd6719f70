//! The ledger's outcome as clients read it: the same shape as [`picket_ledger_core::Outcome`]
//! (`{"Ok": {"Held": {...}}}`, `{"Err": "HoldExpired"}`), with every ledger id — holds,
//! bookings, tickets, performances — a decimal string ([`crate::id`]). The ledger's own bus and
//! journal keep the core's numeric encoding (ledger messages v1); the gateway (WebSocket `result`)
//! and the API (the operator's `POST /performances`) convert at their boundary with these types.
//! Seat, zone, grade and offer indexes, counts, amounts and times stay numbers: they are bounded
//! far below 2^53 (docs/protocol.md, "Ids").

use picket_ledger_core::{
    BookingId, GradeId, HoldId, Invalid, Outcome, PerformanceId, Place, RefundId, Rejection, Reply,
    SeatId, TicketId, Won, ZoneId,
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
