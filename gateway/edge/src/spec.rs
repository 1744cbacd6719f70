//! The performance spec as operators send it (`POST /api/v2/performances`): the ledger's
//! [`PerformanceSpec`] field for field, with the performance id a decimal string like every id
//! a client sends ([`crate::id`]). The ledger's journal and bus keep the core's own encoding.

use picket_ledger_core::{
    CouponSpec, DiscountSpec, DoorSpec, FeeSchedule, GradeSpec, PerformanceId, PerformanceSpec,
    SeatSpec, TicketKind, WaitlistSpec, Won, ZoneSpec,
};
use serde::{Deserialize, Serialize};

use crate::id::Id;

/// [`PerformanceSpec`] on a client's wire.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientSpec {
    pub performance: Id<PerformanceId>,
    pub starts_at_ms: u64,
    pub kind: TicketKind,
    pub grades: Vec<GradeSpec>,
    pub seats: Vec<SeatSpec>,
    pub zones: Vec<ZoneSpec>,
    pub per_buyer_limit: u16,
    pub hold_ttl_ms: u64,
    pub fees: FeeSchedule,
    #[serde(default)]
    pub booking_fee_won: Won,
    #[serde(default)]
    pub discounts: Vec<DiscountSpec>,
    #[serde(default)]
    pub coupons: Vec<CouponSpec>,
}

impl From<ClientSpec> for PerformanceSpec {
    fn from(spec: ClientSpec) -> Self {
        PerformanceSpec {
            performance: spec.performance.0,
            starts_at_ms: spec.starts_at_ms,
            kind: spec.kind,
            grades: spec.grades,
            seats: spec.seats,
            zones: spec.zones,
            per_buyer_limit: spec.per_buyer_limit,
            hold_ttl_ms: spec.hold_ttl_ms,
            fees: spec.fees,
            booking_fee_won: spec.booking_fee_won,
            discounts: spec.discounts,
            coupons: spec.coupons,
            // The door's settings are not on the operator's wire yet: the defaults (no
            // re-entry, no gates, no transfers, no static tickets).
            door: DoorSpec::default(),
            // Nor the waitlist's: the defaults (on, 10-minute claims, 5-minute charges, freed
            // places reserved while entries wait).
            waitlist: WaitlistSpec::default(),
        }
    }
}

impl From<PerformanceSpec> for ClientSpec {
    fn from(spec: PerformanceSpec) -> Self {
        ClientSpec {
            performance: Id(spec.performance),
            starts_at_ms: spec.starts_at_ms,
            kind: spec.kind,
            grades: spec.grades,
            seats: spec.seats,
            zones: spec.zones,
            per_buyer_limit: spec.per_buyer_limit,
            hold_ttl_ms: spec.hold_ttl_ms,
            fees: spec.fees,
            booking_fee_won: spec.booking_fee_won,
            discounts: spec.discounts,
            coupons: spec.coupons,
        }
    }
}
