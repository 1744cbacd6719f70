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
    /// The door's rules (re-entry, gates, transfers, static tickets); absent, as in specs
    /// written before it: all off.
    #[serde(default)]
    pub door: DoorSpec,
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
            door: spec.door,
            // The waitlist's settings are not on the operator's wire yet: the defaults (on,
            // 10-minute claims, 5-minute charges, freed places reserved while entries wait).
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
            door: spec.door,
        }
    }
}

#[cfg(test)]
mod tests {
    use picket_ledger_core::{GateId, GateSpec};

    use super::*;

    /// A spec as operators sent it before the door's settings existed.
    const OLD_SPEC: &str = r#"{"performance": "77", "starts_at_ms": 1774000800000, "kind": "Performance",
        "grades": [{"code": "R", "price_won": 140000}],
        "seats": [{"section": "A", "row": "1", "number": 1, "grade": 0}], "zones": [],
        "per_buyer_limit": 4, "hold_ttl_ms": 420000,
        "fees": {"free_on_booking_day": true, "free_days_after_booking": 7,
                 "free_window_days_before_min": 10, "flat_fee_won": 4000, "flat_fee_days_before_min": 10,
                 "flat_fee_cap_percent": 10, "tiers": [],
                 "deadline_minute_of_day": 1020, "saturday_deadline_minute_of_day": 660}}"#;

    #[test]
    fn a_spec_without_door_settings_decodes_with_every_setting_off() {
        let spec: ClientSpec = serde_json::from_str(OLD_SPEC).expect("an old spec decodes");
        let spec = PerformanceSpec::from(spec);
        assert_eq!(spec.performance, PerformanceId(77));
        assert!(!spec.door.reentry);
        assert!(spec.door.gates.is_empty());
        assert_eq!(spec.door.transfer_until_ms, None);
        assert!(!spec.door.static_tickets);
    }

    #[test]
    fn door_settings_travel_both_ways() {
        let mut value: serde_json::Value = serde_json::from_str(OLD_SPEC).expect("json");
        value["door"] = serde_json::json!({"reentry": true,
            "gates": [{"id": 1, "label": "1번 게이트"}], "transfer_until_ms": 1773914400000_u64,
            "static_tickets": true});
        let spec =
            PerformanceSpec::from(serde_json::from_value::<ClientSpec>(value).expect("spec"));
        let door = DoorSpec {
            reentry: true,
            gates: vec![GateSpec {
                id: GateId(1),
                label: "1번 게이트".into(),
            }],
            transfer_until_ms: Some(1_773_914_400_000),
            static_tickets: true,
        };
        assert_eq!(spec.door, door);
        assert_eq!(ClientSpec::from(spec).door, door);
    }
}
