//! Toss's date-times, read and written exactly: `yyyy-MM-ddTHH:mm:ss±hh:mm` (`requestedAt`,
//! `approvedAt`, `canceledAt`, `transactionAt`, the webhook transmission time) into milliseconds
//! since the Unix epoch, and Korean local time `yyyy-MM-ddTHH:mm:ss` (what the transactions
//! listing takes). Small and exact, so the crate needs no date library.

const DAY_MS: i64 = 86_400_000;
/// Korea's offset from UTC (no daylight saving): the listing's dates are Korean time.
const KST_OFFSET_MS: i64 = 9 * 3_600_000;
/// Largest offset a time may carry (±14:00 is the widest in use).
const OFFSET_MINUTES_MAX: i64 = 14 * 60;

/// `yyyy-MM-ddTHH:mm:ss±hh:mm` → ms since the epoch; `None` for anything else (other shapes,
/// impossible dates, times before the epoch).
pub fn parse_offset_time(text: &str) -> Option<u64> {
    let bytes = text.as_bytes();
    if bytes.len() != 25 || bytes[10] != b'T' || !matches!(bytes[19], b'+' | b'-') {
        return None;
    }
    let local = parse_local(&text[..19])?;
    let hours = number(&text[20..22])?;
    let minutes = number(&text[23..25])?;
    if bytes[22] != b':' || minutes > 59 {
        return None;
    }
    let offset_minutes = hours * 60 + minutes;
    if offset_minutes > OFFSET_MINUTES_MAX {
        return None;
    }
    let sign = if bytes[19] == b'+' { 1 } else { -1 };
    let utc = local - sign * offset_minutes * 60_000;
    u64::try_from(utc).ok()
}

/// `yyyy-MM-ddTHH:mm:ss` read as UTC wall time, in ms since the epoch (may be negative).
fn parse_local(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    let separators = [(4, b'-'), (7, b'-'), (13, b':'), (16, b':')];
    if bytes.len() != 19 || separators.iter().any(|&(at, byte)| bytes[at] != byte) {
        return None;
    }
    let year = number(&text[0..4])?;
    let month = number(&text[5..7])?;
    let day = number(&text[8..10])?;
    let hour = number(&text[11..13])?;
    let minute = number(&text[14..16])?;
    let second = number(&text[17..19])?;
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    let days = days_from_civil(year, month, day);
    Some(days * DAY_MS + (hour * 3600 + minute * 60 + second) * 1000)
}

/// Exactly the ASCII digits of `text` (no sign, no spaces) as a number.
fn number(text: &str) -> Option<i64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// ms since the epoch → Korean local time `yyyy-MM-ddTHH:mm:ss` (the second it falls in).
pub fn format_kst(ms: u64) -> String {
    let local = i64::try_from(ms).unwrap_or(i64::MAX - KST_OFFSET_MS) + KST_OFFSET_MS;
    let days = local.div_euclid(DAY_MS);
    let seconds = local.rem_euclid(DAY_MS) / 1000;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn toss_times_read_exactly() {
        assert_eq!(parse_offset_time("1970-01-01T09:00:00+09:00"), Some(0));
        assert_eq!(parse_offset_time("1970-01-01T00:00:00+00:00"), Some(0));
        // The docs' own example, checked against `date -d … +%s`: 1640962800.
        assert_eq!(
            parse_offset_time("2022-01-01T00:00:00+09:00"),
            Some(1_640_962_800_000)
        );
        assert_eq!(
            parse_offset_time("2024-02-29T23:59:59-05:30"),
            Some(1_709_270_999_000)
        );
        assert_eq!(
            parse_offset_time("2000-03-01T00:00:00+00:00"),
            Some(951_868_800_000)
        );
    }

    #[test]
    fn anything_else_is_refused() {
        for text in [
            "",
            "2022-01-01T00:00:00",
            "2022-01-01T00:00:00Z",
            "2022-01-01 00:00:00+09:00",
            "2022-01-01T00:00:00.000+09:00",
            "2022-13-01T00:00:00+09:00",
            "2022-00-01T00:00:00+09:00",
            "2023-02-29T00:00:00+09:00",
            "2100-02-29T00:00:00+09:00",
            "2022-04-31T00:00:00+09:00",
            "2022-01-01T24:00:00+09:00",
            "2022-01-01T00:60:00+09:00",
            "2022-01-01T00:00:60+09:00",
            "2022-01-01T00:00:00+15:00",
            "2022-01-01T00:00:00+09:60",
            "2022-01-01T00:00:00+0900",
            "+022-01-01T00:00:00+09:00",
            "2022-1-01T00:00:00+09:00 ",
            "1970-01-01T08:59:59+09:00",
            "２022-01-01T00:00:00+09:00",
        ] {
            assert_eq!(parse_offset_time(text), None, "{text}");
        }
    }

    #[test]
    fn korean_time_is_written_for_the_listing() {
        assert_eq!(format_kst(0), "1970-01-01T09:00:00");
        assert_eq!(format_kst(1_640_962_800_999), "2022-01-01T00:00:00");
        assert_eq!(format_kst(1_709_270_999_000), "2024-03-01T14:29:59");
        for ms in [0, 951_868_800_000, 1_709_270_999_000, 4_102_444_799_000] {
            let text = format!("{}+09:00", format_kst(ms));
            assert_eq!(parse_offset_time(&text), Some(ms), "{text}");
        }
    }
}
