//! Shows as sellers send them: the form with its price grades, waiting-room settings and
//! offers, performances and staff assignments, what makes each valid, a stored show decoded,
//! and the ledger spec a performance opens with. No I/O here.

use picket_ledger_core::limits::{
    GATES_PER_PERFORMANCE_MAX, LABEL_LEN_MAX, WAITLIST_CLAIM_WINDOW_MS_MAX,
    WAITLIST_CLAIM_WINDOW_MS_MIN,
};
use picket_ledger_core::{
    DoorSpec, FeeSchedule, GateId, GateSpec, GradeId, GradeSpec, PerformanceId, PerformanceSpec,
    SeatSpec, TicketKind, WaitlistSpec, ZoneSpec,
};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, FieldError};
use crate::grades::{GradeRule, assign_grades};
use crate::offers::{CouponForm, DiscountForm};
use crate::store::catalog::ShowRecord;
use crate::taxonomy::CATEGORIES;
use crate::venues::{Layout, NAME_LEN_MAX, text_ok};
use picket_edge::id::Id;

pub const DESCRIPTION_LEN_MAX: usize = 5_000;
pub const GRADES_PER_SHOW_MAX: usize = 16;
/// A grade's code.
pub const GRADE_CODE_LEN_MAX: usize = 16;
pub const PERFORMANCES_PER_SHOW_MAX: usize = 200;
pub const RUNNING_MINUTES_MAX: u32 = 600;
/// A hold lasts this long on every published performance (the big platforms give 7–10 min).
pub const HOLD_TTL_MS: u64 = 8 * 60_000;
/// Highest booking fee per ticket (the ledger's bound).
pub const BOOKING_FEE_WON_MAX: u64 = picket_ledger_core::limits::BOOKING_FEE_WON_MAX;
pub const AGE_RATINGS: [&str; 5] = ["all", "7+", "12+", "15+", "19+"];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShowForm {
    pub title: String,
    pub category: String,
    pub venue_id: Id<i64>,
    pub description: String,
    pub age_rating: String,
    pub running_minutes: u32,
    pub grades: Vec<GradeRule>,
    #[serde(default = "default_per_buyer_limit")]
    pub per_buyer_limit: u16,
    /// The cancellation-fee schedule; absent: the Korean standard for the category.
    #[serde(default)]
    pub fees: Option<FeeSchedule>,
    /// The booking fee per ticket, in won, on top of the price (default 0). The seller keeps
    /// it; it is refunded only on the day of booking or when a performance is called off.
    #[serde(default)]
    pub booking_fee_won: u64,
    /// The waiting room of every performance's sale.
    #[serde(default)]
    pub queue: QueueForm,
    /// Discounts a buyer may choose one of: early-bird windows and eligibility discounts.
    #[serde(default)]
    pub discounts: Vec<DiscountForm>,
    /// Coupon codes (one per order, never together with a discount).
    #[serde(default)]
    pub coupons: Vec<CouponForm>,
    /// How the door treats the tickets: re-entry, gates, transfers, printed codes (all off).
    #[serde(default)]
    pub door: DoorForm,
    /// The cancellation waitlist of every performance (on, 10-minute claims, freed places kept
    /// for the waitlist while entries wait).
    #[serde(default)]
    pub waitlist: WaitlistForm,
}

/// Shortest and longest claim window a show may set, in minutes: the ledger's bounds.
pub const CLAIM_WINDOW_MINUTES_MIN: u32 = (WAITLIST_CLAIM_WINDOW_MS_MIN / 60_000) as u32;
pub const CLAIM_WINDOW_MINUTES_MAX: u32 = (WAITLIST_CLAIM_WINDOW_MS_MAX / 60_000) as u32;

/// A show's cancellation-waitlist settings; absent fields are `WaitlistSpec::default()`'s.
/// Only offers are made in this version (auto-pay needs billing keys), so the charge window
/// stays the ledger's default.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitlistForm {
    /// Whether buyers may join the waitlist.
    #[serde(default = "waitlist_enabled_default")]
    pub enabled: bool,
    /// How long places offered to the next entry stay held for it to pay, in minutes.
    #[serde(default = "claim_window_minutes_default")]
    pub claim_window_minutes: u32,
    /// false: while entries wait, freed places no entry can take yet stay off sale for the
    /// waitlist; true: they go back on sale.
    #[serde(default = "freed_to_sale_default")]
    pub freed_to_sale: bool,
}

fn waitlist_enabled_default() -> bool {
    WaitlistSpec::default().enabled
}

fn claim_window_minutes_default() -> u32 {
    (WaitlistSpec::default().claim_window_ms / 60_000) as u32
}

fn freed_to_sale_default() -> bool {
    WaitlistSpec::default().freed_to_sale
}

impl Default for WaitlistForm {
    fn default() -> Self {
        WaitlistForm {
            enabled: waitlist_enabled_default(),
            claim_window_minutes: claim_window_minutes_default(),
            freed_to_sale: freed_to_sale_default(),
        }
    }
}

impl WaitlistForm {
    /// Each wrong field, as `waitlist.<field>` (Korean first, then English).
    pub fn problems(&self, errors: &mut Vec<FieldError>) {
        if !(CLAIM_WINDOW_MINUTES_MIN..=CLAIM_WINDOW_MINUTES_MAX)
            .contains(&self.claim_window_minutes)
        {
            errors.push(FieldError {
                field: "waitlist.claim_window_minutes",
                message: format!(
                    "대기 제안의 결제 시간은 {CLAIM_WINDOW_MINUTES_MIN}~{CLAIM_WINDOW_MINUTES_MAX}분입니다 \
                     ({CLAIM_WINDOW_MINUTES_MIN} to {CLAIM_WINDOW_MINUTES_MAX} minutes)"
                ),
            });
        }
    }

    /// The ledger's waitlist rules of every performance of the show.
    pub fn spec(&self) -> WaitlistSpec {
        WaitlistSpec {
            enabled: self.enabled,
            claim_window_ms: u64::from(self.claim_window_minutes) * 60_000,
            freed_to_sale: self.freed_to_sale,
            ..WaitlistSpec::default()
        }
    }

    /// The settings as `GET /api/v2/shows/{id}` shows them.
    pub fn public(&self) -> serde_json::Value {
        serde_json::json!({
            "enabled": self.enabled,
            "claim_window_minutes": self.claim_window_minutes,
            "freed_to_sale": self.freed_to_sale,
        })
    }
}

/// Latest transfer deadline a show may set, in minutes before each start: 90 days. Further
/// ahead than any sale opens, so it bounds the field without narrowing what sellers do.
pub const TRANSFER_MINUTES_BEFORE_START_MAX: u32 = 90 * 24 * 60;

/// A show's door settings, all off by default; each performance's `DoorSpec` is made from them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DoorForm {
    /// An exit scan lets a ticket in again.
    #[serde(default)]
    pub reentry: bool,
    /// The venue's gates as scanners show them; gate ids are their places in this list from 1
    /// (empty: any gate number, 0 the main door).
    #[serde(default)]
    pub gates: Vec<String>,
    /// Holders may give a ticket to another member until this many minutes before each
    /// performance starts; absent: no transfers.
    #[serde(default)]
    pub transfer_until_minutes_before_start: Option<u32>,
    /// Printed or e-mailed (static) codes are issued and accepted at the door.
    #[serde(default)]
    pub static_tickets: bool,
}

impl DoorForm {
    /// The id of the gate at `index` of the list: 1, 2, … (0 stays the main door of venues
    /// that name no gates).
    pub fn gate_id(index: usize) -> GateId {
        // At most GATES_PER_PERFORMANCE_MAX (64) gates: always fits.
        GateId(u16::try_from(index + 1).unwrap_or(u16::MAX))
    }

    /// Each wrong field, as `door.<field>` (Korean first, then English).
    pub fn problems(&self, errors: &mut Vec<FieldError>) {
        let labels_ok = self.gates.iter().all(|label| {
            let label = label.trim();
            !label.is_empty() && label.len() <= LABEL_LEN_MAX
        });
        let too_many = self.gates.len() > GATES_PER_PERFORMANCE_MAX;
        // Compared pairwise only within the bound: at most 64² comparisons.
        let unique = too_many
            || self.gates.iter().enumerate().all(|(i, label)| {
                !self.gates[..i]
                    .iter()
                    .any(|seen| seen.trim() == label.trim())
            });
        if too_many || !labels_ok || !unique {
            errors.push(FieldError {
                field: "door.gates",
                message: format!(
                    "게이트는 {GATES_PER_PERFORMANCE_MAX}개까지, 이름은 서로 다르게 1~{LABEL_LEN_MAX}바이트입니다 \
                     (at most {GATES_PER_PERFORMANCE_MAX} gates, each a distinct label of 1 to \
                     {LABEL_LEN_MAX} bytes of UTF-8)"
                ),
            });
        }
        if self
            .transfer_until_minutes_before_start
            .is_some_and(|minutes| minutes > TRANSFER_MINUTES_BEFORE_START_MAX)
        {
            errors.push(FieldError {
                field: "door.transfer_until_minutes_before_start",
                message: format!(
                    "양도 마감은 공연 시작 0~{TRANSFER_MINUTES_BEFORE_START_MAX}분 전입니다 \
                     (0 to {TRANSFER_MINUTES_BEFORE_START_MAX} minutes before the start; absent: \
                     no transfers)"
                ),
            });
        }
    }

    /// The form as stored: gate labels trimmed.
    pub fn trimmed(&self) -> DoorForm {
        DoorForm {
            gates: self.gates.iter().map(|g| g.trim().to_owned()).collect(),
            ..self.clone()
        }
    }

    /// The ledger's door rules of a performance starting at `starts_at_ms`.
    pub fn spec(&self, starts_at_ms: u64) -> DoorSpec {
        DoorSpec {
            reentry: self.reentry,
            gates: self
                .gates
                .iter()
                .enumerate()
                .map(|(index, label)| GateSpec {
                    id: Self::gate_id(index),
                    label: label.trim().to_owned(),
                })
                .collect(),
            transfer_until_ms: self
                .transfer_until_minutes_before_start
                .map(|minutes| starts_at_ms.saturating_sub(u64::from(minutes) * 60_000)),
            static_tickets: self.static_tickets,
        }
    }

    /// The settings as `GET /api/v2/shows/{id}` shows them: gates with their ids.
    pub fn public(&self) -> serde_json::Value {
        let gates: Vec<serde_json::Value> = self
            .gates
            .iter()
            .enumerate()
            .map(|(index, label)| {
                serde_json::json!({"gate": Self::gate_id(index).0, "label": label})
            })
            .collect();
        serde_json::json!({
            "reentry": self.reentry,
            "gates": gates,
            "transfer_until_minutes_before_start": self.transfer_until_minutes_before_start,
            "static_tickets": self.static_tickets,
        })
    }
}

/// How fast a show's sales admit buyers from the waiting room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueForm {
    /// Buyers admitted per second.
    pub admit_per_sec: u32,
    /// Most admitted buyers booking at once.
    pub active_max: u32,
}

impl Default for QueueForm {
    fn default() -> Self {
        QueueForm {
            admit_per_sec: 200,
            active_max: 2_000,
        }
    }
}

/// How long an admitted buyer may book, and how long a dropped buyer keeps a place.
pub const ADMISSION_TTL_MS: u64 = 10 * 60_000;
pub const QUEUE_GRACE_MS: u64 = 30_000;

fn default_per_buyer_limit() -> u16 {
    4
}

/// Nothing, or every field of the show that is wrong.
pub fn validate_show(form: &ShowForm, layout: &Layout) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if !text_ok(&form.title, NAME_LEN_MAX) {
        errors.push(FieldError {
            field: "title",
            message: format!("1 to {NAME_LEN_MAX} characters"),
        });
    }
    if !CATEGORIES.contains(&form.category.as_str()) {
        errors.push(FieldError {
            field: "category",
            message: format!("one of {}", CATEGORIES.join(", ")),
        });
    }
    if form.description.chars().count() > DESCRIPTION_LEN_MAX {
        errors.push(FieldError {
            field: "description",
            message: format!("at most {DESCRIPTION_LEN_MAX} characters"),
        });
    }
    if !AGE_RATINGS.contains(&form.age_rating.as_str()) {
        errors.push(FieldError {
            field: "age_rating",
            message: format!("one of {}", AGE_RATINGS.join(", ")),
        });
    }
    if !(1..=RUNNING_MINUTES_MAX).contains(&form.running_minutes) {
        errors.push(FieldError {
            field: "running_minutes",
            message: format!("1 to {RUNNING_MINUTES_MAX}"),
        });
    }
    if !(1..=picket_ledger_core::limits::PER_BUYER_LIMIT_MAX).contains(&form.per_buyer_limit) {
        errors.push(FieldError {
            field: "per_buyer_limit",
            message: format!("1 to {}", picket_ledger_core::limits::PER_BUYER_LIMIT_MAX),
        });
    }
    let prices_ok = form.grades.iter().all(|g| {
        text_ok(&g.code, GRADE_CODE_LEN_MAX)
            && g.price_won > 0
            && g.price_won <= picket_ledger_core::limits::TICKET_PRICE_WON_MAX
    });
    let queue_ok = (1..=picket_room::ADMIT_PER_SEC_MAX).contains(&form.queue.admit_per_sec)
        && (1..=picket_room::ACTIVE_MAX_MAX).contains(&form.queue.active_max);
    if !queue_ok {
        errors.push(FieldError {
            field: "queue",
            message: format!(
                "admit_per_sec 1 to {}, active_max 1 to {}",
                picket_room::ADMIT_PER_SEC_MAX,
                picket_room::ACTIVE_MAX_MAX
            ),
        });
    }
    if form.booking_fee_won > BOOKING_FEE_WON_MAX {
        errors.push(FieldError {
            field: "booking_fee_won",
            message: format!("0 to {BOOKING_FEE_WON_MAX} won per ticket"),
        });
    }
    if form.fees.as_ref().is_some_and(|fees| !fees.is_valid()) {
        errors.push(FieldError {
            field: "fees",
            message: "tiers must not overlap, percentages at most 100, deadlines within the day"
                .into(),
        });
    }
    crate::offers::validate(&form.discounts, &form.coupons, &form.grades, &mut errors);
    form.door.problems(&mut errors);
    form.waitlist.problems(&mut errors);
    if form.grades.is_empty() || form.grades.len() > GRADES_PER_SHOW_MAX || !prices_ok {
        errors.push(FieldError {
            field: "grades",
            message: format!(
                "1 to {GRADES_PER_SHOW_MAX} grades, each with a code and a price in won"
            ),
        });
    } else if let Err(message) = assign_grades(layout, &form.grades) {
        errors.push(FieldError {
            field: "grades",
            message: format!("every section and zone needs exactly one grade: {message}"),
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Invalid(errors))
    }
}

/// A show as stored, its JSON columns decoded.
pub struct Show {
    pub company_id: i64,
    pub venue_id: i64,
    pub title: String,
    pub category: String,
    pub region: String,
    pub description: String,
    pub age_rating: String,
    pub running_minutes: i64,
    pub grades: Vec<GradeRule>,
    pub per_buyer_limit: i64,
    pub status: String,
    pub fees: Option<FeeSchedule>,
    pub booking_fee_won: u64,
    pub queue: QueueForm,
    pub discounts: Vec<DiscountForm>,
    pub coupons: Vec<CouponForm>,
    pub door: DoorForm,
    pub waitlist: WaitlistForm,
}

/// Plays and exhibitions sell admission tickets (the standard's 2,000원 flat fee); every other
/// category sells performance tickets (4,000원).
pub fn ticket_kind(category: &str) -> TicketKind {
    if ["play", "exhibition"].contains(&category) {
        TicketKind::Admission
    } else {
        TicketKind::Performance
    }
}

impl Show {
    /// The cancellation-fee schedule its performances open with: the seller's, else the Korean
    /// standard for the category. Buyers read it on the show's page before they book.
    pub fn effective_fees(&self) -> FeeSchedule {
        self.fees
            .clone()
            .unwrap_or_else(|| FeeSchedule::korean_standard(ticket_kind(&self.category)))
    }

    /// Decodes a stored show; a fee schedule, queue or door setting that does not decode is the
    /// default, grades or offers that do not decode are an error.
    pub fn decode(record: ShowRecord) -> Result<Show, ApiError> {
        Ok(Show {
            company_id: record.company_id,
            venue_id: record.venue_id,
            title: record.title,
            category: record.category,
            region: record.region,
            description: record.description,
            age_rating: record.age_rating,
            running_minutes: record.running_minutes,
            grades: serde_json::from_str(&record.grades)
                .map_err(|e| ApiError::Internal(e.to_string()))?,
            per_buyer_limit: record.per_buyer_limit,
            status: record.status,
            fees: record
                .fees
                .and_then(|fees| serde_json::from_str(&fees).ok()),
            // The column is checked on the way in; a negative one (a broken row) counts as 0.
            booking_fee_won: u64::try_from(record.booking_fee_won).unwrap_or(0),
            queue: record
                .queue
                .and_then(|queue| serde_json::from_str(&queue).ok())
                .unwrap_or_default(),
            discounts: json_list(record.discounts)?,
            coupons: json_list(record.coupons)?,
            // Checked on the way in; NULL (a show stored before door settings) is all off.
            door: record
                .door
                .and_then(|door| serde_json::from_str(&door).ok())
                .unwrap_or_default(),
            // Checked on the way in; NULL (a show stored before waitlist settings) is the
            // defaults.
            waitlist: record
                .waitlist
                .and_then(|waitlist| serde_json::from_str(&waitlist).ok())
                .unwrap_or_default(),
        })
    }
}

/// A JSON array column (NULL: empty).
fn json_list<T: serde::de::DeserializeOwned>(text: Option<String>) -> Result<Vec<T>, ApiError> {
    match text {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(&text).map_err(|e| ApiError::Internal(e.to_string())),
    }
}

/// Latest time a performance's form may name: the store keeps times as signed 64-bit integers.
pub const PERFORMANCE_TIME_MS_MAX: u64 = i64::MAX as u64;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerformanceForm {
    pub starts_at_ms: u64,
    pub sale_open_at_ms: u64,
    /// Default: when the performance starts.
    #[serde(default)]
    pub sale_close_at_ms: Option<u64>,
}

impl PerformanceForm {
    /// When sales close (by default when the performance starts), or what is wrong.
    pub fn validate(&self, now_ms: u64) -> Result<u64, ApiError> {
        let close = self.sale_close_at_ms.unwrap_or(self.starts_at_ms);
        let mut errors = Vec::new();
        if [self.starts_at_ms, self.sale_open_at_ms, close]
            .iter()
            .any(|ms| *ms > PERFORMANCE_TIME_MS_MAX)
        {
            errors.push(FieldError {
                field: "starts_at_ms",
                message: format!("times at most {PERFORMANCE_TIME_MS_MAX}"),
            });
        }
        if self.starts_at_ms <= now_ms {
            errors.push(FieldError {
                field: "starts_at_ms",
                message: "in the future".into(),
            });
        }
        if self.sale_open_at_ms >= close || close > self.starts_at_ms {
            errors.push(FieldError {
                field: "sale_open_at_ms",
                message: "sales open before they close, and close no later than the start".into(),
            });
        }
        if errors.is_empty() {
            Ok(close)
        } else {
            Err(ApiError::Invalid(errors))
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffAssignment {
    pub account_id: Id<i64>,
}

/// The ledger spec `performance` of `show` opens with, or what is wrong with the grades or
/// offers.
pub fn spec_for(
    performance: i64,
    starts_at_ms: u64,
    show: &Show,
    layout: &Layout,
) -> Result<PerformanceSpec, String> {
    let (seat_grades, zone_grades) = assign_grades(layout, &show.grades)?;
    // The seat list's order is the seat ids buyers see (`Layout::seats`, `GET /venues/{id}`).
    let seats = layout
        .seats()
        .zip(seat_grades.into_iter().chain(std::iter::repeat(0)))
        .map(|((section, row, seat), grade)| SeatSpec {
            section: section.name.clone(),
            row: row.name.clone(),
            number: seat.number,
            grade: GradeId(grade),
            blocked: seat.blocked,
        })
        .collect();
    let kind = ticket_kind(&show.category);
    Ok(PerformanceSpec {
        performance: PerformanceId(performance as u64),
        starts_at_ms,
        kind,
        grades: show
            .grades
            .iter()
            .map(|g| GradeSpec {
                code: g.code.clone(),
                price_won: g.price_won,
            })
            .collect(),
        seats,
        zones: layout
            .zones
            .iter()
            .zip(zone_grades)
            .map(|(z, g)| ZoneSpec {
                name: z.name.clone(),
                grade: GradeId(g),
                capacity: z.capacity,
            })
            .collect(),
        per_buyer_limit: show.per_buyer_limit as u16,
        hold_ttl_ms: HOLD_TTL_MS,
        fees: show.effective_fees(),
        booking_fee_won: show.booking_fee_won,
        discounts: show
            .discounts
            .iter()
            .map(|d| crate::offers::discount_spec(d, &show.grades))
            .collect::<Result<_, _>>()?,
        coupons: show
            .coupons
            .iter()
            .map(crate::offers::coupon_spec)
            .collect::<Result<_, _>>()?,
        door: show.door.spec(starts_at_ms),
        waitlist: show.waitlist.spec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plays_and_exhibitions_sell_admission_tickets() {
        for category in ["play", "exhibition"] {
            assert_eq!(ticket_kind(category), TicketKind::Admission, "{category}");
        }
        for category in [
            "concert",
            "musical",
            "classical",
            "sports",
            "family",
            "festival",
        ] {
            assert_eq!(ticket_kind(category), TicketKind::Performance, "{category}");
        }
    }

    fn form(starts_at_ms: u64, sale_open_at_ms: u64, close: Option<u64>) -> PerformanceForm {
        PerformanceForm {
            starts_at_ms,
            sale_open_at_ms,
            sale_close_at_ms: close,
        }
    }

    #[test]
    fn performances_start_in_the_future_and_sell_before_they_start() {
        let now = 1_000;
        // (form, when sales close, or the fields that are wrong)
        let cases: [(PerformanceForm, Result<u64, Vec<&str>>); 6] = [
            (form(5_000, 2_000, None), Ok(5_000)),
            (form(u64::MAX, 2_000, None), Err(vec!["starts_at_ms"])),
            (form(5_000, 2_000, Some(4_000)), Ok(4_000)),
            (form(1_000, 500, None), Err(vec!["starts_at_ms"])),
            (
                form(5_000, 2_000, Some(6_000)),
                Err(vec!["sale_open_at_ms"]),
            ),
            (
                form(900, 950, None),
                Err(vec!["starts_at_ms", "sale_open_at_ms"]),
            ),
        ];
        for (form, want) in cases {
            let got = form.validate(now).map_err(|e| match e {
                ApiError::Invalid(errors) => errors.iter().map(|e| e.field).collect(),
                other => panic!("not a validation error: {other}"),
            });
            assert_eq!(got, want, "{form:?}");
        }
    }

    #[test]
    fn waitlist_settings_default_to_the_ledgers_and_bound_the_claim_window() {
        let fields = |waitlist: WaitlistForm| {
            let mut errors = Vec::new();
            waitlist.problems(&mut errors);
            errors.iter().map(|e| e.field).collect::<Vec<_>>()
        };
        assert_eq!(WaitlistForm::default().spec(), WaitlistSpec::default());
        let absent: WaitlistForm = serde_json::from_str("{}").expect("decodes");
        assert_eq!(absent, WaitlistForm::default());
        assert_eq!(absent.claim_window_minutes, 10);
        for minutes in [1, 30, 24 * 60] {
            let ok = WaitlistForm {
                claim_window_minutes: minutes,
                ..WaitlistForm::default()
            };
            assert!(fields(ok.clone()).is_empty(), "{minutes}");
            assert_eq!(ok.spec().claim_window_ms, u64::from(minutes) * 60_000);
        }
        for minutes in [0, 24 * 60 + 1, u32::MAX] {
            let wrong = WaitlistForm {
                claim_window_minutes: minutes,
                ..WaitlistForm::default()
            };
            assert_eq!(
                fields(wrong),
                ["waitlist.claim_window_minutes"],
                "{minutes}"
            );
        }
        let off = WaitlistForm {
            enabled: false,
            freed_to_sale: true,
            ..WaitlistForm::default()
        };
        assert!(!off.spec().enabled);
        assert!(off.spec().freed_to_sale);
        assert!(serde_json::from_str::<WaitlistForm>(r#"{"auto_pay":true}"#).is_err());
    }

    #[test]
    fn door_settings_are_bounded_and_name_their_fields() {
        let fields = |door: DoorForm| {
            let mut errors = Vec::new();
            door.problems(&mut errors);
            errors.iter().map(|e| e.field).collect::<Vec<_>>()
        };
        assert!(fields(DoorForm::default()).is_empty());
        let ok = DoorForm {
            reentry: true,
            gates: vec!["동문".into(), " 서문 ".into()],
            transfer_until_minutes_before_start: Some(TRANSFER_MINUTES_BEFORE_START_MAX),
            static_tickets: true,
        };
        assert!(fields(ok.clone()).is_empty());
        let gates = |gates: Vec<String>| DoorForm {
            gates,
            ..DoorForm::default()
        };
        // 11 Korean syllables are 33 bytes: over the ledger's 32.
        for wrong in [
            vec![" ".to_owned()],
            vec!["가".repeat(11)],
            vec!["동문".into(), "동문 ".into()],
            (0..=GATES_PER_PERFORMANCE_MAX)
                .map(|i| i.to_string())
                .collect(),
        ] {
            assert_eq!(fields(gates(wrong.clone())), ["door.gates"], "{wrong:?}");
        }
        assert!(fields(gates(vec!["가".repeat(10), "x".repeat(32)])).is_empty());
        let late = DoorForm {
            transfer_until_minutes_before_start: Some(TRANSFER_MINUTES_BEFORE_START_MAX + 1),
            ..DoorForm::default()
        };
        assert_eq!(fields(late), ["door.transfer_until_minutes_before_start"]);
    }

    #[test]
    fn a_performances_door_spec_counts_the_deadline_back_from_its_start() {
        let door = DoorForm {
            reentry: true,
            gates: vec!["동문".into(), " 서문 ".into()],
            transfer_until_minutes_before_start: Some(90),
            static_tickets: true,
        };
        let starts_at_ms = 1_900_000_000_000;
        let spec = door.spec(starts_at_ms);
        assert_eq!(spec.transfer_until_ms, Some(starts_at_ms - 90 * 60 * 1_000));
        assert_eq!(
            spec.gates,
            [
                GateSpec {
                    id: GateId(1),
                    label: "동문".into()
                },
                GateSpec {
                    id: GateId(2),
                    label: "서문".into()
                }
            ]
        );
        assert!(spec.reentry && spec.static_tickets);
        assert_eq!(DoorForm::default().spec(starts_at_ms), DoorSpec::default());
        // A deadline further back than the epoch is the epoch: transfers closed, never a wrap.
        assert_eq!(door.spec(1_000).transfer_until_ms, Some(0));
    }

    /// The ids `GET /api/v2/venues/{id}` gives seats and zones are their places in the spec the
    /// ledger sells: a hold names seats by them.
    #[test]
    fn a_venues_seat_and_zone_ids_index_the_performance_spec() {
        use crate::grades::GradeRule;
        use crate::venues::{RowLayout, SeatLayout, SectionLayout, ZoneLayout};
        let row = |name: &str, numbers: &[u16]| RowLayout {
            name: name.into(),
            seats: numbers
                .iter()
                .map(|&number| SeatLayout {
                    number,
                    x: 0,
                    y: 0,
                    blocked: false,
                    wheelchair: false,
                })
                .collect(),
        };
        let layout = Layout {
            sections: vec![
                SectionLayout {
                    name: "B".into(),
                    rows: vec![row("2", &[3, 1]), row("1", &[7])],
                },
                SectionLayout {
                    name: "A".into(),
                    rows: vec![row("1", &[1, 2])],
                },
            ],
            zones: vec![
                ZoneLayout {
                    name: "Floor".into(),
                    capacity: 10,
                },
                ZoneLayout {
                    name: "Terrace".into(),
                    capacity: 5,
                },
            ],
        };
        let grade = |code: &str, sections: &[&str], zones: &[&str]| GradeRule {
            code: code.into(),
            price_won: 10_000,
            sections: sections.iter().map(|s| (*s).into()).collect(),
            zones: zones.iter().map(|z| (*z).into()).collect(),
        };
        let show = Show {
            company_id: 1,
            venue_id: 1,
            title: "Ids".into(),
            category: "concert".into(),
            region: "seoul".into(),
            description: String::new(),
            age_rating: "all".into(),
            running_minutes: 90,
            grades: vec![
                grade("R", &["A", "B"], &[]),
                grade("S", &[], &["Floor", "Terrace"]),
            ],
            per_buyer_limit: 4,
            status: "draft".into(),
            fees: None,
            booking_fee_won: 0,
            queue: QueueForm::default(),
            discounts: Vec::new(),
            coupons: Vec::new(),
            door: DoorForm::default(),
            waitlist: WaitlistForm::default(),
        };
        let spec = spec_for(7, 1_900_000_000_000, &show, &layout).expect("spec");
        let seats = layout.seat_places();
        assert_eq!(seats.len(), spec.seats.len());
        for seat in &seats {
            let listed = &spec.seats[seat.id as usize];
            assert_eq!(
                (listed.section.as_str(), listed.row.as_str(), listed.number),
                (seat.section, seat.row, seat.number),
                "{seat:?}"
            );
        }
        assert_eq!(
            (seats[1].section, seats[1].row, seats[1].number),
            ("B", "2", 1)
        );
        let zones = layout.zone_places();
        assert_eq!(zones.len(), spec.zones.len());
        for zone in &zones {
            assert_eq!(spec.zones[usize::from(zone.id)].name, zone.name, "{zone:?}");
            assert_eq!(spec.zones[usize::from(zone.id)].capacity, zone.capacity);
        }
    }
}
