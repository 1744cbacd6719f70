//! Ids, money and the performance spec.

use serde::{Deserialize, Serialize};

use crate::fees::FeeSchedule;
use crate::offers::{CouponSpec, DiscountSpec};

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
    /// A waiting-room admission (the `jti` of an admission token), chosen by the gateway.
    AdmissionId(u64)
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

/// What sort of ticket a performance sells; it sets the default flat cancellation fee.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TicketKind {
    /// Concert, musical, classical: 4,000원 flat fee.
    Performance,
    /// Play, exhibition: 2,000원 flat fee.
    Admission,
}

/// A price grade: VIP 160,000원, R 140,000원, …
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GradeSpec {
    pub code: String,
    pub price_won: Won,
}

/// One reserved seat of the seat map.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SeatSpec {
    pub section: String,
    pub row: String,
    pub number: u16,
    pub grade: GradeId,
}

/// A general-admission (standing) zone with a capacity.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ZoneSpec {
    pub name: String,
    pub grade: GradeId,
    pub capacity: u32,
}

/// Everything the ledger needs to sell one performance. Seats are listed best first within each
/// grade: best-available takes them in this order.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PerformanceSpec {
    pub performance: PerformanceId,
    /// When the show starts, milliseconds since the Unix epoch. Sales and the cancellation
    /// deadline are measured from it.
    pub starts_at_ms: u64,
    pub kind: TicketKind,
    pub grades: Vec<GradeSpec>,
    pub seats: Vec<SeatSpec>,
    pub zones: Vec<ZoneSpec>,
    /// Tickets one buyer may hold or own for this performance.
    pub per_buyer_limit: u16,
    pub hold_ttl_ms: u64,
    pub fees: FeeSchedule,
    /// Discounts a buyer may choose one of (early-bird, eligibility). Never skipped when empty:
    /// snapshots are postcard, which has no field names to notice a missing one by.
    #[serde(default)]
    pub discounts: Vec<DiscountSpec>,
    /// Coupon codes; a hold takes a discount or a coupon, never both.
    #[serde(default)]
    pub coupons: Vec<CouponSpec>,
}

/// Where a ticket lets its holder in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Place {
    Seat(SeatId),
    Zone(ZoneId),
}
