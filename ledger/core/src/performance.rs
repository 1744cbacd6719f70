//! The performance spec a seller's seat map turns into: grades, seats, zones, and the fee
//! schedule and offers that apply. It sits above `types`, `fees` and `offers` (it holds their
//! values), so that those never need to import the spec back.

use serde::{Deserialize, Serialize};

use crate::fees::FeeSchedule;
use crate::limits::{WAITLIST_CHARGE_WINDOW_MS_DEFAULT, WAITLIST_CLAIM_WINDOW_MS_DEFAULT};
use crate::offers::{CouponSpec, DiscountSpec};
use crate::types::{GateId, GradeId, PerformanceId, TicketKind, Won};

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
    /// Never sold (a camera position, an obstructed view, a seat the seller holds back): the seat
    /// keeps its id but starts `SeatState::Blocked`, so no hold can take it. Journals written
    /// before it decode as not blocked.
    #[serde(default)]
    pub blocked: bool,
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
    /// In JSON (commands, journal entries, NATS messages) written as rows ([`seat_rows`]) so a
    /// stadium's spec fits one NATS message; in postcard (snapshots) as the plain list.
    #[serde(with = "seat_rows")]
    pub seats: Vec<SeatSpec>,
    pub zones: Vec<ZoneSpec>,
    /// Tickets one buyer may hold or own for this performance.
    pub per_buyer_limit: u16,
    pub hold_ttl_ms: u64,
    pub fees: FeeSchedule,
    /// The booking fee per ticket, on top of its price (0 by default; the seller sets it and
    /// keeps it: Picket takes no commission). Refunded with the ticket when it is cancelled on
    /// the Korean calendar day of booking or when the seller calls the performance off; kept
    /// otherwise, as the big platforms do.
    #[serde(default)]
    pub booking_fee_won: Won,
    /// Discounts a buyer may choose one of (early-bird, eligibility). Never skipped when empty:
    /// snapshots are postcard, which has no field names to notice a missing one by.
    #[serde(default)]
    pub discounts: Vec<DiscountSpec>,
    /// Coupon codes; a hold takes a discount or a coupon, never both.
    #[serde(default)]
    pub coupons: Vec<CouponSpec>,
    /// The door's rules: re-entry, gates, transfers and printed tickets (all off by default, so
    /// journals written before them decode).
    #[serde(default)]
    pub door: DoorSpec,
    /// The cancellation waitlist: on by default (journals written before it decode with the
    /// defaults).
    #[serde(default)]
    pub waitlist: WaitlistSpec,
}

impl PerformanceSpec {
    /// A plain concert: one grade `R` at `price_won`, `seats` seats in section `A`, `row_len`
    /// to a row (rows "1", "2", …, numbers from 1), 4 per buyer, 10-minute holds, the Korean
    /// standard fee schedule, no booking fee, offers or door rules. For tests, benches and load
    /// tests, which change what they test with `PerformanceSpec { …, ..PerformanceSpec::plain(…) }`.
    pub fn plain(
        performance: PerformanceId,
        starts_at_ms: u64,
        price_won: Won,
        seats: u16,
        row_len: u16,
    ) -> Self {
        let row_len = row_len.max(1);
        PerformanceSpec {
            performance,
            starts_at_ms,
            kind: TicketKind::Performance,
            grades: vec![GradeSpec {
                code: "R".into(),
                price_won,
            }],
            seats: (0..seats)
                .map(|i| SeatSpec {
                    section: "A".into(),
                    row: (i / row_len + 1).to_string(),
                    number: i % row_len + 1,
                    grade: GradeId(0),
                    blocked: false,
                })
                .collect(),
            zones: Vec::new(),
            per_buyer_limit: 4,
            hold_ttl_ms: 600_000,
            fees: FeeSchedule::korean_standard(TicketKind::Performance),
            booking_fee_won: 0,
            discounts: Vec::new(),
            coupons: Vec::new(),
            door: DoorSpec::default(),
            waitlist: WaitlistSpec::default(),
        }
    }
}

/// A gate of the venue as the scanner shows it ("1번 게이트").
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct GateSpec {
    pub id: GateId,
    pub label: String,
}

/// How the door treats a performance's tickets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DoorSpec {
    /// Whether an exit scan lets a ticket in again.
    #[serde(default)]
    pub reentry: bool,
    /// The venue's gates; empty: any gate number is accepted (0 is the main door). At most
    /// [`crate::limits::GATES_PER_PERFORMANCE_MAX`], ids unique, labels 1 to
    /// [`crate::limits::LABEL_LEN_MAX`] bytes.
    #[serde(default)]
    pub gates: Vec<GateSpec>,
    /// Holders may give a ticket to another member until this time (at most the start of the
    /// show); `None`: tickets cannot be transferred.
    #[serde(default)]
    pub transfer_until_ms: Option<u64>,
    /// Whether a printed or e-mailed (static) ticket code is accepted at the door; off by
    /// default, and such codes are marked as static when scanned.
    #[serde(default)]
    pub static_tickets: bool,
}

/// How a performance's cancellation waitlist works (see `docs/protocol.md`, "Waitlist").
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct WaitlistSpec {
    /// Whether buyers may join the waitlist.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// How long places offered to an `Offer` entry stay held for it to claim (pay), between
    /// [`crate::limits::WAITLIST_CLAIM_WINDOW_MS_MIN`] and
    /// [`crate::limits::WAITLIST_CLAIM_WINDOW_MS_MAX`].
    #[serde(default = "claim_window_ms_default")]
    pub claim_window_ms: u64,
    /// How long places offered to an `AutoPay` entry stay held while the payments worker
    /// charges its billing key, between [`crate::limits::WAITLIST_CHARGE_WINDOW_MS_MIN`] and
    /// [`crate::limits::WAITLIST_CHARGE_WINDOW_MS_MAX`].
    #[serde(default = "charge_window_ms_default")]
    pub charge_window_ms: u64,
    /// false (the default): while entries wait, freed places no entry can take yet stay
    /// reserved for the waitlist instead of going back on sale. true: they go back on sale.
    #[serde(default)]
    pub freed_to_sale: bool,
}

impl Default for WaitlistSpec {
    fn default() -> Self {
        WaitlistSpec {
            enabled: true,
            claim_window_ms: WAITLIST_CLAIM_WINDOW_MS_DEFAULT,
            charge_window_ms: WAITLIST_CHARGE_WINDOW_MS_DEFAULT,
            freed_to_sale: false,
        }
    }
}

fn yes() -> bool {
    true
}

fn claim_window_ms_default() -> u64 {
    WAITLIST_CLAIM_WINDOW_MS_DEFAULT
}

fn charge_window_ms_default() -> u64 {
    WAITLIST_CHARGE_WINDOW_MS_DEFAULT
}

/// The seat list's JSON form: consecutive seats of one section, row and grade as one entry,
/// `{"section": "A", "row": "1", "grade": 0, "numbers": [1, 2, 3], "blocked": [2]}`, where
/// `blocked` (left out when empty) lists positions in `numbers`. A seat as a plain object costs
/// about 60 bytes of JSON, so a 50,000-seat stadium would be 3 MB, three NATS messages' worth;
/// as rows it is its seat numbers (at most 6 bytes each) plus one short header per row: about
/// 300 KB for 50,000 seats in rows of 25. The order of seats (their ids) is kept exactly.
/// Decoding also takes the older form, a list of seat objects, so journals written before it
/// replay. Postcard (not human-readable) keeps the plain list.
pub mod seat_rows {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::SeatSpec;
    use crate::types::GradeId;

    #[derive(Serialize)]
    struct RowOut<'a> {
        section: &'a str,
        row: &'a str,
        grade: GradeId,
        numbers: Vec<u16>,
        #[serde(skip_serializing_if = "Vec::is_empty")]
        blocked: Vec<u32>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct RowIn {
        section: String,
        row: String,
        grade: GradeId,
        numbers: Vec<u16>,
        #[serde(default)]
        blocked: Vec<u32>,
    }

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum SeatsIn {
        Rows(Vec<RowIn>),
        Seats(Vec<SeatSpec>),
    }

    /// The seats grouped into rows, in order.
    fn rows(seats: &[SeatSpec]) -> Vec<RowOut<'_>> {
        let mut rows: Vec<RowOut<'_>> = Vec::new();
        for seat in seats {
            let same = rows.last().is_some_and(|last| {
                last.section == seat.section && last.row == seat.row && last.grade == seat.grade
            });
            if !same {
                rows.push(RowOut {
                    section: &seat.section,
                    row: &seat.row,
                    grade: seat.grade,
                    numbers: Vec::new(),
                    blocked: Vec::new(),
                });
            }
            let row = rows.last_mut().expect("pushed above");
            if seat.blocked {
                row.blocked.push(row.numbers.len() as u32);
            }
            row.numbers.push(seat.number);
        }
        rows
    }

    pub fn serialize<S: Serializer>(seats: &[SeatSpec], serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            rows(seats).serialize(serializer)
        } else {
            seats.serialize(serializer)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<SeatSpec>, D::Error> {
        if !deserializer.is_human_readable() {
            return Vec::<SeatSpec>::deserialize(deserializer);
        }
        match SeatsIn::deserialize(deserializer)? {
            SeatsIn::Seats(seats) => Ok(seats),
            SeatsIn::Rows(rows) => {
                let mut seats = Vec::with_capacity(rows.iter().map(|r| r.numbers.len()).sum());
                for row in rows {
                    let mut blocked = vec![false; row.numbers.len()];
                    for position in &row.blocked {
                        let Some(flag) = blocked.get_mut(*position as usize) else {
                            return Err(serde::de::Error::custom(format!(
                                "blocked position {position} past the row's {} seats",
                                row.numbers.len()
                            )));
                        };
                        *flag = true;
                    }
                    for (number, blocked) in row.numbers.iter().zip(blocked) {
                        seats.push(SeatSpec {
                            section: row.section.clone(),
                            row: row.row.clone(),
                            number: *number,
                            grade: row.grade,
                            blocked,
                        });
                    }
                }
                Ok(seats)
            }
        }
    }
}
