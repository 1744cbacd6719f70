//! The inventory of a run's performance (seats per grade, standing zones, limits) and the ledger
//! spec it turns into. Plain data, apart from the targets it is opened on: scenarios name it and
//! the audit's tests build one without the network code.

use picket_ledger_core::{
    DoorSpec, FeeSchedule, GradeId, GradeSpec, PerformanceId, PerformanceSpec, SeatSpec,
    TicketKind, ZoneSpec,
};

/// The inventory of the run's performance.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Inventory {
    /// Reserved seats, split over the grades in order (hot grades first).
    pub seats: u32,
    /// Grades: code, price in won, share of the seats in percent.
    pub grades: Vec<(String, u64, u8)>,
    /// Standing zones (each of the same capacity), priced as the last grade.
    pub zones: u16,
    pub zone_capacity: u32,
    pub per_buyer_limit: u16,
    pub hold_ttl_ms: u64,
}

impl Default for Inventory {
    fn default() -> Self {
        Inventory {
            seats: 2_000,
            grades: vec![
                ("VIP".into(), 160_000, 20),
                ("R".into(), 140_000, 30),
                ("S".into(), 110_000, 30),
                ("A".into(), 80_000, 20),
            ],
            zones: 0,
            zone_capacity: 0,
            per_buyer_limit: 4,
            hold_ttl_ms: 7 * 60_000,
        }
    }
}

impl Inventory {
    /// The seat ids of each grade: contiguous ranges, in grade order.
    pub fn grade_ranges(&self) -> Vec<std::ops::Range<u32>> {
        let total_share: u32 = self.grades.iter().map(|g| u32::from(g.2)).sum();
        let mut start = 0;
        let mut ranges = Vec::new();
        for (index, (_, _, share)) in self.grades.iter().enumerate() {
            let end = match index + 1 == self.grades.len() {
                true => self.seats,
                false => start + self.seats * u32::from(*share) / total_share.max(1),
            };
            ranges.push(start..end.max(start));
            start = end.max(start);
        }
        ranges
    }

    /// The ledger spec: seats in sections of 20 rows of up to 50, best first within each grade.
    pub fn spec(&self, performance: u64, starts_at_ms: u64) -> PerformanceSpec {
        let mut seats = Vec::with_capacity(self.seats as usize);
        for (grade, range) in self.grade_ranges().into_iter().enumerate() {
            for (n, _) in range.enumerate() {
                seats.push(SeatSpec {
                    section: format!("{}{}", self.grades[grade].0, n / 1_000),
                    row: format!("{}", n % 1_000 / 50 + 1),
                    number: (n % 50 + 1) as u16,
                    grade: GradeId(grade as u16),
                    blocked: false,
                });
            }
        }
        let last_grade = GradeId(self.grades.len().saturating_sub(1) as u16);
        PerformanceSpec {
            performance: PerformanceId(performance),
            starts_at_ms,
            kind: TicketKind::Performance,
            grades: self
                .grades
                .iter()
                .map(|(code, price_won, _)| GradeSpec {
                    code: code.clone(),
                    price_won: *price_won,
                })
                .collect(),
            seats,
            zones: (0..self.zones)
                .map(|z| ZoneSpec {
                    name: format!("Floor{z}"),
                    grade: last_grade,
                    capacity: self.zone_capacity,
                })
                .collect(),
            per_buyer_limit: self.per_buyer_limit,
            hold_ttl_ms: self.hold_ttl_ms,
            fees: FeeSchedule::korean_standard(TicketKind::Performance),
            booking_fee_won: 0,
            discounts: Vec::new(),
            coupons: Vec::new(),
            door: DoorSpec::default(),
            waitlist: picket_ledger_core::WaitlistSpec::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grades_split_the_seats_and_the_spec_is_valid() {
        let inventory = Inventory::default();
        let ranges = inventory.grade_ranges();
        assert_eq!(ranges, vec![0..400, 400..1_000, 1_000..1_600, 1_600..2_000]);
        let spec = inventory.spec(7, 1);
        assert_eq!(spec.seats.len(), 2_000);
        assert_eq!(spec.seats[400].grade, GradeId(1));
        let mut ledger = picket_ledger_core::Ledger::new(0);
        let open = picket_ledger_core::Request {
            actor: picket_ledger_core::ActorId(1),
            key: picket_ledger_core::IdempotencyKey::new("open").expect("key"),
            command: picket_ledger_core::Command::OpenPerformance(Box::new(spec)),
        };
        assert!(ledger.execute(0, &open).outcome.is_ok());
    }
}
