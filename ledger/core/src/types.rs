//! Ids, money, ticket kinds and places: the plain values every other module of the core uses.
//! It imports nothing from the crate, so any module may use it without closing a circle.

use serde::{Deserialize, Serialize};

/// Whole Korean won. Prices never have fractions (160,000원).
pub type Won = u64;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident($inner:ty)) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(pub $inner);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// One dated showing of a show. Assigned by the catalog; a partition owns whole performances.
    PerformanceId(u64)
);
id_type!(
    /// Who sends a command: a member, a guest device, a seller or staff. Authenticated by the
    /// gateway; the core only checks that a hold or booking belongs to the actor acting on it.
    ActorId(u64)
);
id_type!(
    /// Allocated by the ledger (see [`crate::Ledger::new`]).
    HoldId(u64)
);
id_type!(
    /// Allocated by the ledger.
    BookingId(u64)
);
id_type!(
    /// Allocated by the ledger; one per seat (or standing place) of a booking.
    TicketId(u64)
);
id_type!(
    /// Allocated by the ledger, one per refund owed (a cancellation that gives money back). The
    /// refund worker derives its provider idempotency key from it, so a restart recomputes it
    /// identically from the journal.
    RefundId(u64)
);
id_type!(
    /// A waiting-room admission (the `jti` of an admission token), chosen by the gateway.
    AdmissionId(u64)
);
id_type!(
    /// Allocated by the ledger, one per cancellation-waitlist entry; entries of a performance
    /// are numbered in join order.
    WaitlistEntryId(u64)
);
id_type!(
    /// Index of a seat in its performance's seat list, in the order of the spec.
    SeatId(u32)
);
id_type!(
    /// Index of a price grade in its performance's grade list.
    GradeId(u16)
);
id_type!(
    /// Index of a general-admission zone in its performance's zone list.
    ZoneId(u16)
);
id_type!(
    /// Index of a discount in its performance's discount list.
    DiscountId(u16)
);
id_type!(
    /// Index of a coupon in its performance's coupon list.
    CouponId(u16)
);
id_type!(
    /// A gate of the venue, numbered by the seller (see [`crate::GateSpec`]); 0 is the main
    /// door where the seller names none.
    GateId(u16)
);

/// What sort of ticket a performance sells; it sets the default flat cancellation fee.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TicketKind {
    /// Concert, musical, classical: 4,000원 flat fee.
    Performance,
    /// Play, exhibition: 2,000원 flat fee.
    Admission,
}

/// Where a ticket lets its holder in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Place {
    Seat(SeatId),
    Zone(ZoneId),
}
