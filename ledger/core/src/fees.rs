//! The cancellation-fee schedule, with the Korean standard as the default.
//!
//! Dates are Korean calendar days: Korea keeps UTC+9 all year (no daylight saving), so a day
//! starts at 15:00 UTC of the day before. All times are milliseconds since the Unix epoch.

use serde::{Deserialize, Serialize};

use crate::types::{TicketKind, Won};

const MS_PER_MINUTE: u64 = 60_000;
const MS_PER_DAY: u64 = 24 * 60 * MS_PER_MINUTE;
/// Korea Standard Time is UTC+9.
const KST_OFFSET_MS: u64 = 9 * 60 * MS_PER_MINUTE;
/// Longest fee a schedule may charge, in percent of the ticket price.
const FEE_PERCENT_MAX: u8 = 100;
/// Tiers one schedule may have.
pub const FEE_TIERS_MAX: usize = 16;

/// Whether two moments fall on the same Korean calendar day (the booking fee is refunded only
/// when a ticket is cancelled on its day of booking).
pub fn same_korean_day(a_ms: u64, b_ms: u64) -> bool {
    kst_day(a_ms) == kst_day(b_ms)
}

/// A fee as a percentage of the ticket price, charged when the show is between
/// `days_before_min` and `days_before_max` Korean calendar days away (both inclusive).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FeeTier {
    pub days_before_min: u16,
    pub days_before_max: u16,
    pub percent: u8,
}

/// When a buyer may cancel online and what it costs. A seller can change every field per show.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct FeeSchedule {
    /// Cancelling on the Korean calendar day of booking (until midnight) is free.
    pub free_on_booking_day: bool,
    /// Cancelling within this many days after booking is free …
    pub free_days_after_booking: u16,
    /// … but only while the show is at least this many days away.
    pub free_window_days_before_min: u16,
    /// Flat fee per ticket charged while the show is at least `flat_fee_days_before_min` days away
    /// (and no free rule applies).
    pub flat_fee_won: Won,
    pub flat_fee_days_before_min: u16,
    /// The flat fee never exceeds this share of the ticket price.
    pub flat_fee_cap_percent: u8,
    /// Percentage fees closer to the show.
    pub tiers: Vec<FeeTier>,
    /// Online cancellation closes at this minute of the day before the show …
    pub deadline_minute_of_day: u16,
    /// … or at this minute when the day before the show is a Saturday.
    pub saturday_deadline_minute_of_day: u16,
}

impl FeeSchedule {
    /// The Korean standard the big platforms use.
    pub fn korean_standard(kind: TicketKind) -> Self {
        let flat_fee_won = match kind {
            TicketKind::Performance => 4_000,
            TicketKind::Admission => 2_000,
        };
        let tier = |days_before_min, days_before_max, percent| FeeTier {
            days_before_min,
            days_before_max,
            percent,
        };
        FeeSchedule {
            free_on_booking_day: true,
            free_days_after_booking: 7,
            free_window_days_before_min: 10,
            flat_fee_won,
            flat_fee_days_before_min: 10,
            flat_fee_cap_percent: 10,
            tiers: vec![tier(7, 9, 10), tier(3, 6, 20), tier(1, 2, 30)],
            deadline_minute_of_day: 17 * 60,
            saturday_deadline_minute_of_day: 11 * 60,
        }
    }

    pub fn is_valid(&self) -> bool {
        let minute_ok = |m: u16| u64::from(m) < MS_PER_DAY / MS_PER_MINUTE;
        self.tiers.len() <= FEE_TIERS_MAX
            && self
                .tiers
                .iter()
                .all(|t| t.days_before_min <= t.days_before_max && t.percent <= FEE_PERCENT_MAX)
            && self.flat_fee_cap_percent <= FEE_PERCENT_MAX
            && minute_ok(self.deadline_minute_of_day)
            && minute_ok(self.saturday_deadline_minute_of_day)
    }

    /// The moment online cancellation closes for a show starting at `starts_at_ms`.
    pub fn deadline_ms(&self, starts_at_ms: u64) -> u64 {
        let day_before = kst_day(starts_at_ms).saturating_sub(1);
        let minute = if is_saturday(day_before) {
            self.saturday_deadline_minute_of_day
        } else {
            self.deadline_minute_of_day
        };
        (day_before * MS_PER_DAY + u64::from(minute) * MS_PER_MINUTE).saturating_sub(KST_OFFSET_MS)
    }

    /// The fee for cancelling one ticket of `price_won` bought at `booked_at_ms`, at `now_ms`, for
    /// a show starting at `starts_at_ms`; `None` when it can no longer be cancelled online.
    pub fn fee_won(
        &self,
        price_won: Won,
        booked_at_ms: u64,
        now_ms: u64,
        starts_at_ms: u64,
    ) -> Option<Won> {
        let show_day = kst_day(starts_at_ms);
        let booked_day = kst_day(booked_at_ms);
        // A ticket bought on the day of the show cannot be cancelled, whatever the deadline says.
        if booked_day >= show_day || now_ms >= self.deadline_ms(starts_at_ms) {
            return None;
        }
        let today = kst_day(now_ms);
        let days_before = show_day.saturating_sub(today);
        let days_since_booking = today.saturating_sub(booked_day);
        if self.free_on_booking_day && days_since_booking == 0 {
            return Some(0);
        }
        // The 7-day free window does not reach into the last 10 days before the show.
        if days_since_booking <= u64::from(self.free_days_after_booking)
            && days_before >= u64::from(self.free_window_days_before_min)
        {
            return Some(0);
        }
        let percent_of = |percent: u8| price_won * u64::from(percent) / 100;
        if let Some(tier) = self.tiers.iter().find(|t| {
            (u64::from(t.days_before_min)..=u64::from(t.days_before_max)).contains(&days_before)
        }) {
            return Some(percent_of(tier.percent));
        }
        if days_before >= u64::from(self.flat_fee_days_before_min) {
            return Some(self.flat_fee_won.min(percent_of(self.flat_fee_cap_percent)));
        }
        Some(0)
    }
}

/// The Korean calendar day (days since 1970-01-01 KST) that `ms` falls on.
pub fn kst_day(ms: u64) -> u64 {
    (ms + KST_OFFSET_MS) / MS_PER_DAY
}

/// 1970-01-01 was a Thursday: day 0 is weekday 3 when Monday is 0.
fn is_saturday(day: u64) -> bool {
    (day + 3) % 7 == 5
}

/// Milliseconds since the epoch of `hour:minute` KST on the civil date `year-month-day`.
/// For tests and tools that speak in calendar dates.
pub fn kst_ms(year: i32, month: u32, day: u32, hour: u32, minute: u32) -> u64 {
    let days = days_from_civil(year, month, day);
    let local_ms = days * MS_PER_DAY as i64
        + i64::from(hour) * 3_600_000
        + i64::from(minute) * MS_PER_MINUTE as i64;
    (local_ms - KST_OFFSET_MS as i64).max(0) as u64
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i32, month: u32, day: u32) -> i64 {
    let year = i64::from(year) - i64::from(month <= 2);
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRICE: Won = 160_000;

    fn standard() -> FeeSchedule {
        FeeSchedule::korean_standard(TicketKind::Performance)
    }

    #[test]
    fn civil_dates_match_known_epochs() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1), 11_017);
        assert_eq!(kst_ms(1970, 1, 1, 9, 0), 0);
        // 2026-11-28 is a Saturday.
        assert!(is_saturday(kst_day(kst_ms(2026, 11, 28, 12, 0))));
        assert!(!is_saturday(kst_day(kst_ms(2026, 11, 27, 12, 0))));
    }

    /// Table: (booked, cancelled, show start, expected fee). Show on Thursday 2026-12-31 19:30.
    #[test]
    fn korean_standard_table() {
        let show = kst_ms(2026, 12, 31, 19, 30);
        let cases: &[(&str, u64, u64, Option<Won>)] = &[
            (
                "same day, far out",
                kst_ms(2026, 11, 1, 10, 0),
                kst_ms(2026, 11, 1, 23, 59),
                Some(0),
            ),
            (
                "7th day after booking, far out",
                kst_ms(2026, 11, 1, 10, 0),
                kst_ms(2026, 11, 8, 12, 0),
                Some(0),
            ),
            (
                "8th day after booking: flat 4,000",
                kst_ms(2026, 11, 1, 10, 0),
                kst_ms(2026, 11, 9, 12, 0),
                Some(4_000),
            ),
            (
                "exactly 10 days before",
                kst_ms(2026, 11, 1, 10, 0),
                kst_ms(2026, 12, 21, 12, 0),
                Some(4_000),
            ),
            (
                "9 days before: 10%",
                kst_ms(2026, 11, 1, 10, 0),
                kst_ms(2026, 12, 22, 0, 0),
                Some(16_000),
            ),
            (
                "7-day rule does not reach inside 10 days",
                kst_ms(2026, 12, 20, 10, 0),
                kst_ms(2026, 12, 23, 10, 0),
                Some(16_000),
            ),
            (
                "booking day is free even inside 10 days",
                kst_ms(2026, 12, 27, 10, 0),
                kst_ms(2026, 12, 27, 23, 0),
                Some(0),
            ),
            (
                "6 days before: 20%",
                kst_ms(2026, 11, 1, 10, 0),
                kst_ms(2026, 12, 25, 12, 0),
                Some(32_000),
            ),
            (
                "3 days before: 20%",
                kst_ms(2026, 11, 1, 10, 0),
                kst_ms(2026, 12, 28, 12, 0),
                Some(32_000),
            ),
            (
                "2 days before: 30%",
                kst_ms(2026, 11, 1, 10, 0),
                kst_ms(2026, 12, 29, 12, 0),
                Some(48_000),
            ),
            (
                "day before, 16:59",
                kst_ms(2026, 11, 1, 10, 0),
                kst_ms(2026, 12, 30, 16, 59),
                Some(48_000),
            ),
            (
                "day before, 17:00: closed",
                kst_ms(2026, 11, 1, 10, 0),
                kst_ms(2026, 12, 30, 17, 0),
                None,
            ),
            (
                "show day: closed",
                kst_ms(2026, 11, 1, 10, 0),
                kst_ms(2026, 12, 31, 9, 0),
                None,
            ),
            (
                "bought on show day: never",
                kst_ms(2026, 12, 31, 0, 1),
                kst_ms(2026, 12, 31, 0, 2),
                None,
            ),
        ];
        for (name, booked, now, want) in cases {
            assert_eq!(
                standard().fee_won(PRICE, *booked, *now, show),
                *want,
                "{name}"
            );
        }
    }

    #[test]
    fn flat_fee_is_capped_at_ten_percent() {
        let show = kst_ms(2026, 12, 31, 19, 30);
        let booked = kst_ms(2026, 11, 1, 10, 0);
        let now = kst_ms(2026, 11, 20, 10, 0);
        assert_eq!(standard().fee_won(30_000, booked, now, show), Some(3_000));
        let admission = FeeSchedule::korean_standard(TicketKind::Admission);
        assert_eq!(admission.fee_won(30_000, booked, now, show), Some(2_000));
    }

    #[test]
    fn saturday_before_the_show_closes_at_eleven() {
        // Sunday 2026-11-29 show: the day before is Saturday the 28th.
        let show = kst_ms(2026, 11, 29, 18, 0);
        let booked = kst_ms(2026, 11, 1, 10, 0);
        let schedule = standard();
        assert_eq!(schedule.deadline_ms(show), kst_ms(2026, 11, 28, 11, 0));
        assert_eq!(
            schedule.fee_won(PRICE, booked, kst_ms(2026, 11, 28, 10, 59), show),
            Some(48_000)
        );
        assert_eq!(
            schedule.fee_won(PRICE, booked, kst_ms(2026, 11, 28, 11, 0), show),
            None
        );
    }
}
