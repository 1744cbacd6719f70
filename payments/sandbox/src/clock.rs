//! The wall clock, read in one place, and the Korean-time formats Toss writes dates in.

use std::time::{SystemTime, UNIX_EPOCH};

/// Korea's offset from UTC (no daylight saving).
const KST_OFFSET_MS: i64 = 9 * 3_600_000;
const DAY_MS: i64 = 86_400_000;

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `yyyy-MM-ddTHH:mm:ss+09:00`: how Toss writes `requestedAt`, `approvedAt`, `canceledAt`.
pub fn kst(ms: i64) -> String {
    let (date, time) = kst_parts(ms);
    format!("{date}T{time}+09:00")
}

/// `yyyy-MM-ddTHH:mm:ss.SSSSSS`, no offset: how Toss writes a webhook's `createdAt`.
pub fn kst_micros(ms: i64) -> String {
    let (date, time) = kst_parts(ms);
    format!("{date}T{time}.{:06}", ms.rem_euclid(1000) * 1000)
}

fn kst_parts(ms: i64) -> (String, String) {
    let local = ms + KST_OFFSET_MS;
    let days = local.div_euclid(DAY_MS);
    let in_day = local.rem_euclid(DAY_MS) / 1000;
    let (y, m, d) = civil_from_days(days);
    (
        format!("{y:04}-{m:02}-{d:02}"),
        format!(
            "{:02}:{:02}:{:02}",
            in_day / 3600,
            in_day / 60 % 60,
            in_day % 60
        ),
    )
}

/// Parses `yyyy-MM-ddTHH:mm:ss` (or `yyyy-MM-dd`, midnight) in Korean time, as the
/// transactions listing takes `startDate`/`endDate`, into milliseconds since the epoch.
pub fn parse_kst(text: &str) -> Option<i64> {
    let (date, time) = match text.split_once('T') {
        Some((date, time)) => (date, Some(time)),
        None => (text, None),
    };
    let mut date_parts = date.split('-');
    let year: i64 = number(date_parts.next()?, 4)?;
    let month: u32 = number(date_parts.next()?, 2)?;
    let day: u32 = number(date_parts.next()?, 2)?;
    if date_parts.next().is_some() || !(1..=12).contains(&month) || day == 0 {
        return None;
    }
    let days = days_from_civil(year, month, day);
    if civil_from_days(days) != (year, month, day) {
        return None;
    }
    let seconds = match time {
        None => 0,
        Some(time) => {
            let mut time_parts = time.split(':');
            let h: i64 = number(time_parts.next()?, 2)?;
            let m: i64 = number(time_parts.next()?, 2)?;
            let s: i64 = number(time_parts.next()?, 2)?;
            if time_parts.next().is_some() || h > 23 || m > 59 || s > 59 {
                return None;
            }
            h * 3600 + m * 60 + s
        }
    };
    Some(days * DAY_MS + seconds * 1000 - KST_OFFSET_MS)
}

fn number<T: std::str::FromStr>(text: &str, digits: usize) -> Option<T> {
    if text.len() != digits || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// Days since 1970-01-01 → (year, month, day), proleptic Gregorian (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((month + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_in_korean_time() {
        // 2022-01-01T00:00:00+09:00 is 2021-12-31T15:00:00Z.
        let ms = 1_640_962_800_000;
        assert_eq!(kst(ms), "2022-01-01T00:00:00+09:00");
        assert_eq!(kst_micros(ms + 123), "2022-01-01T00:00:00.123000");
        assert_eq!(parse_kst("2022-01-01T00:00:00"), Some(ms));
        assert_eq!(parse_kst("2022-01-01"), Some(ms));
        assert_eq!(
            parse_kst("2024-02-29T23:59:59").map(kst),
            Some("2024-02-29T23:59:59+09:00".into())
        );
    }

    #[test]
    fn refuses_what_is_not_a_date() {
        for text in [
            "",
            "2022-13-01",
            "2023-02-29",
            "2022-01-01T24:00:00",
            "2022-1-01",
            "x",
            "2022-01-01T00:00",
        ] {
            assert_eq!(parse_kst(text), None, "{text}");
        }
    }
}
