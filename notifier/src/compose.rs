//! The notifier's pure core: one input (a committed ledger entry, or a show's publication) plus
//! what the shell looked up (who the recipients are, the shows' titles, how many notifications
//! each recipient got lately) becomes notifications. No I/O and no clock: times come from the
//! input, so a redelivered input makes the same notifications with the same ids, and the inbox
//! shows each once.

use std::collections::BTreeMap;

use picket_ledger_core::{
    ActorId, BookingId, Event, PerformanceId, WaitlistEndReason, WaitlistEntryId, WaitlistMode, Won,
};
use serde::Serialize;

/// Notifications one recipient may be pushed within [`RATE_WINDOW_MS`]; more within the window
/// still go to the inbox, marked not to be pushed, so a burst of events is not a burst of pushes.
pub const RATE_PUSHES_MAX: u32 = 10;
/// The window of [`RATE_PUSHES_MAX`], by the notifications' source times.
pub const RATE_WINDOW_MS: u64 = 60_000;

/// What a notification tells about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A show matching the member's interests was published.
    InterestAlert,
    BookingConfirmed,
    /// Tickets were cancelled, with the refund they get.
    TicketsCancelled,
    RefundPaid,
    /// Freed seats are held for the member from the waitlist until a deadline.
    WaitlistOffer,
    /// The member's waitlist entry ended (booked, left, declined, lapsed, charge failed, called
    /// off).
    WaitlistEnded,
}

impl Kind {
    pub const ALL: [Kind; 6] = [
        Kind::InterestAlert,
        Kind::BookingConfirmed,
        Kind::TicketsCancelled,
        Kind::RefundPaid,
        Kind::WaitlistOffer,
        Kind::WaitlistEnded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::InterestAlert => "interest_alert",
            Kind::BookingConfirmed => "booking_confirmed",
            Kind::TicketsCancelled => "tickets_cancelled",
            Kind::RefundPaid => "refund_paid",
            Kind::WaitlistOffer => "waitlist_offer",
            Kind::WaitlistEnded => "waitlist_ended",
        }
    }
}

/// A title and a body in one language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Text {
    pub title: String,
    pub body: String,
}

/// One notification for one recipient.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Notification {
    /// Derived from the source, the kind and the recipient: the same input makes the same id.
    pub id: String,
    pub recipient: u64,
    pub kind: Kind,
    /// The source's time (the entry's commit, the show's publication).
    pub created_at_ms: u64,
    pub ko: Text,
    pub en: Text,
    /// Ids to open, as decimal strings (JavaScript numbers are exact only to 2^53).
    pub data: BTreeMap<&'static str, String>,
    /// `false` when the recipient was over [`RATE_PUSHES_MAX`]: inbox only.
    pub push: bool,
}

/// A show's publication, as the catalog announces it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    pub show: u64,
    pub title: String,
    pub published_at_ms: u64,
}

/// One committed ledger entry and where it is.
#[derive(Clone, Copy, Debug)]
pub struct Entry<'a> {
    pub partition: u16,
    pub seq: u64,
    pub at_ms: u64,
    pub events: &'a [Event],
}

/// What the shell looked up for an entry ([`needs`] says what to look up).
#[derive(Clone, Debug, Default)]
pub struct Lookups {
    /// Each booking's buyer.
    pub buyers: BTreeMap<BookingId, ActorId>,
    /// Each waitlist entry's buyer.
    pub entries: BTreeMap<WaitlistEntryId, ActorId>,
    /// Each performance's show title; a missing one is written without a title.
    pub titles: BTreeMap<PerformanceId, String>,
    /// Notifications each recipient got within [`RATE_WINDOW_MS`] before the source's time.
    pub recent: BTreeMap<u64, u32>,
}

/// What the shell must look up before [`for_entry`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Needs {
    pub bookings: Vec<BookingId>,
    pub entries: Vec<WaitlistEntryId>,
    pub performances: Vec<PerformanceId>,
}

/// Whether an entry's events concern the notifier at all (a notification, or a waitlist entry to
/// remember). Most entries — holds, releases, recorded commands — do not; the shell moves past
/// them without a write.
pub fn is_news(events: &[Event]) -> bool {
    events.iter().any(|event| {
        matches!(
            event,
            Event::BookingConfirmed { .. }
                | Event::TicketsCancelled { .. }
                | Event::RefundPaid { .. }
                | Event::WaitlistJoined { .. }
                | Event::WaitlistOffered { .. }
                | Event::WaitlistEntryEnded { .. }
        )
    })
}

/// The bookings, waitlist entries and performances an entry's notifications speak of. Entries
/// joined in the same entry are known from it (see [`joined`]).
pub fn needs(events: &[Event]) -> Needs {
    let mut needs = Needs::default();
    for event in events {
        match event {
            Event::BookingConfirmed {
                performance,
                booking,
                ..
            }
            | Event::TicketsCancelled {
                performance,
                booking,
                ..
            }
            | Event::RefundPaid {
                performance,
                booking,
                ..
            } => {
                needs.bookings.push(*booking);
                needs.performances.push(*performance);
            }
            Event::WaitlistOffered { performance, .. } => needs.performances.push(*performance),
            Event::WaitlistEntryEnded {
                performance, entry, ..
            } => {
                needs.entries.push(*entry);
                needs.performances.push(*performance);
            }
            _ => {}
        }
    }
    needs.bookings.sort();
    needs.bookings.dedup();
    needs.entries.sort();
    needs.entries.dedup();
    needs.performances.sort();
    needs.performances.dedup();
    needs
}

/// The waitlist entries an entry's events join, with their buyers: the shell remembers them so a
/// later `WaitlistEntryEnded` (which names only the entry) finds its buyer.
pub fn joined(events: &[Event]) -> Vec<(WaitlistEntryId, ActorId)> {
    events
        .iter()
        .filter_map(|event| match event {
            Event::WaitlistJoined { entry, buyer, .. } => Some((*entry, *buyer)),
            _ => None,
        })
        .collect()
}

/// The notifications of one committed entry. Events whose recipient is unknown (a booking the
/// shell could not find) are skipped.
pub fn for_entry(entry: Entry<'_>, lookups: &Lookups) -> Vec<Notification> {
    let mut drafts = Vec::new();
    let title = |performance: &PerformanceId| lookups.titles.get(performance).cloned();
    for (index, event) in entry.events.iter().enumerate() {
        // The event's index in the entry keeps two notifications of one kind apart.
        let source = format!("l{}.{}.{index}", entry.partition, entry.seq);
        let draft = match event {
            Event::BookingConfirmed {
                performance,
                booking,
                paid_won,
                ..
            } => lookups.buyers.get(booking).map(|buyer| {
                let show = title(performance);
                (
                    *buyer,
                    Kind::BookingConfirmed,
                    texts::booking_confirmed(show.as_deref(), *paid_won),
                    booking_data(*performance, *booking),
                )
            }),
            Event::TicketsCancelled {
                performance,
                booking,
                tickets,
                refund_won,
                ..
            } => lookups.buyers.get(booking).map(|buyer| {
                let show = title(performance);
                (
                    *buyer,
                    Kind::TicketsCancelled,
                    texts::tickets_cancelled(show.as_deref(), tickets.len(), *refund_won),
                    booking_data(*performance, *booking),
                )
            }),
            Event::RefundPaid {
                performance,
                booking,
                amount_won,
                ..
            } => lookups.buyers.get(booking).map(|buyer| {
                let show = title(performance);
                (
                    *buyer,
                    Kind::RefundPaid,
                    texts::refund_paid(show.as_deref(), *amount_won),
                    booking_data(*performance, *booking),
                )
            }),
            Event::WaitlistOffered {
                performance,
                entry: waitlist_entry,
                hold,
                buyer,
                places,
                amount_won,
                deadline_ms,
                mode,
                ..
            } => {
                let show = title(performance);
                let auto_pay = matches!(mode, WaitlistMode::AutoPay { .. });
                let mut data = BTreeMap::from([
                    ("performance", performance.0.to_string()),
                    ("waitlist_entry", waitlist_entry.0.to_string()),
                    ("hold", hold.0.to_string()),
                ]);
                data.insert("deadline_ms", deadline_ms.to_string());
                Some((
                    *buyer,
                    Kind::WaitlistOffer,
                    texts::waitlist_offer(
                        show.as_deref(),
                        places.len(),
                        *amount_won,
                        *deadline_ms,
                        auto_pay,
                    ),
                    data,
                ))
            }
            Event::WaitlistEntryEnded {
                performance,
                entry: waitlist_entry,
                reason,
            } => lookups.entries.get(waitlist_entry).map(|buyer| {
                let show = title(performance);
                (
                    *buyer,
                    Kind::WaitlistEnded,
                    texts::waitlist_ended(show.as_deref(), reason),
                    BTreeMap::from([
                        ("performance", performance.0.to_string()),
                        ("waitlist_entry", waitlist_entry.0.to_string()),
                    ]),
                )
            }),
            _ => None,
        };
        if let Some((buyer, kind, (ko, en), data)) = draft {
            drafts.push(Notification {
                id: format!("{source}.{}.{}", kind.as_str(), buyer.0),
                recipient: buyer.0,
                kind,
                created_at_ms: entry.at_ms,
                ko,
                en,
                data,
                push: true,
            });
        }
    }
    rate_limit(drafts, &lookups.recent)
}

/// The interest alerts of a published show for `members` (those whose interests match, as the
/// shell found them), in the order given.
pub fn for_published(
    published: &Published,
    members: &[u64],
    recent: &BTreeMap<u64, u32>,
) -> Vec<Notification> {
    let (ko, en) = texts::interest_alert(&published.title);
    let drafts = members
        .iter()
        .map(|member| Notification {
            id: format!(
                "s{}.{}.{member}",
                published.show,
                Kind::InterestAlert.as_str()
            ),
            recipient: *member,
            kind: Kind::InterestAlert,
            created_at_ms: published.published_at_ms,
            ko: ko.clone(),
            en: en.clone(),
            data: BTreeMap::from([("show", published.show.to_string())]),
            push: true,
        })
        .collect();
    rate_limit(drafts, recent)
}

/// Marks every notification of a recipient past [`RATE_PUSHES_MAX`] (counting `recent`) as not
/// to be pushed.
fn rate_limit(mut drafts: Vec<Notification>, recent: &BTreeMap<u64, u32>) -> Vec<Notification> {
    let mut counted: BTreeMap<u64, u32> = BTreeMap::new();
    for draft in &mut drafts {
        let count = counted
            .entry(draft.recipient)
            .or_insert_with(|| recent.get(&draft.recipient).copied().unwrap_or(0));
        draft.push = *count < RATE_PUSHES_MAX;
        *count = count.saturating_add(1);
    }
    drafts
}

fn booking_data(performance: PerformanceId, booking: BookingId) -> BTreeMap<&'static str, String> {
    BTreeMap::from([
        ("performance", performance.0.to_string()),
        ("booking", booking.0.to_string()),
    ])
}

/// Whole won with thousands separators: `160000` → `160,000`.
pub fn format_won(won: Won) -> String {
    let digits = won.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Milliseconds since the epoch as `YYYY-MM-DD HH:MM` in Korea Standard Time (UTC+9, no
/// daylight saving), the time every Korean ticket deadline is stated in.
pub fn format_kst(at_ms: u64) -> String {
    const KST_OFFSET_S: u64 = 9 * 3_600;
    let seconds = at_ms / 1_000 + KST_OFFSET_S;
    let days = (seconds / 86_400) as i64;
    let minute_of_day = seconds % 86_400 / 60;
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}",
        minute_of_day / 60,
        minute_of_day % 60
    )
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The templates, Korean first.
mod texts {
    use super::*;

    fn text(title: String, body: String) -> Text {
        Text { title, body }
    }

    fn ko_show(show: Option<&str>) -> String {
        show.map(|s| format!("「{s}」 ")).unwrap_or_default()
    }

    fn en_show(show: Option<&str>) -> String {
        show.map(|s| format!(" for “{s}”")).unwrap_or_default()
    }

    pub fn interest_alert(show: &str) -> (Text, Text) {
        (
            text(
                "관심 공연 알림".into(),
                format!("관심 있는 공연 「{show}」이(가) 등록되었습니다."),
            ),
            text(
                "A show for you".into(),
                format!("“{show}” matches your interests and is now listed."),
            ),
        )
    }

    pub fn booking_confirmed(show: Option<&str>, paid_won: Won) -> (Text, Text) {
        (
            text(
                "예매 확정".into(),
                format!(
                    "{}예매가 확정되었습니다. 결제 금액 {}원",
                    ko_show(show),
                    format_won(paid_won)
                ),
            ),
            text(
                "Booking confirmed".into(),
                format!(
                    "Your booking{} is confirmed. Paid ₩{}.",
                    en_show(show),
                    format_won(paid_won)
                ),
            ),
        )
    }

    pub fn tickets_cancelled(show: Option<&str>, tickets: usize, refund_won: Won) -> (Text, Text) {
        let plural = if tickets == 1 { "" } else { "s" };
        (
            text(
                "예매 취소".into(),
                format!(
                    "{}티켓 {tickets}매가 취소되었습니다. 환불 예정 금액 {}원",
                    ko_show(show),
                    format_won(refund_won)
                ),
            ),
            text(
                "Tickets cancelled".into(),
                format!(
                    "{tickets} ticket{plural}{} cancelled. Refund due: ₩{}.",
                    en_show(show),
                    format_won(refund_won)
                ),
            ),
        )
    }

    pub fn refund_paid(show: Option<&str>, amount_won: Won) -> (Text, Text) {
        (
            text(
                "환불 완료".into(),
                format!(
                    "{}환불 {}원이 완료되었습니다.",
                    ko_show(show),
                    format_won(amount_won)
                ),
            ),
            text(
                "Refund paid".into(),
                format!(
                    "₩{} has been refunded{}.",
                    format_won(amount_won),
                    en_show(show)
                ),
            ),
        )
    }

    pub fn waitlist_offer(
        show: Option<&str>,
        seats: usize,
        amount_won: Won,
        deadline_ms: u64,
        auto_pay: bool,
    ) -> (Text, Text) {
        let deadline = format_kst(deadline_ms);
        let plural = if seats == 1 { "" } else { "s" };
        if auto_pay {
            return (
                text(
                    "대기 좌석 배정".into(),
                    format!(
                        "{}대기하신 좌석 {seats}석이 배정되어 등록된 결제수단으로 {}원을 결제합니다. ({deadline} KST까지)",
                        ko_show(show),
                        format_won(amount_won)
                    ),
                ),
                text(
                    "Waitlist seats found".into(),
                    format!(
                        "{seats} seat{plural}{} found for you; ₩{} is being charged to your saved card (by {deadline} KST).",
                        en_show(show),
                        format_won(amount_won)
                    ),
                ),
            );
        }
        (
            text(
                "대기 좌석 제안".into(),
                format!(
                    "{}좌석 {seats}석이 회원님을 위해 확보되었습니다. {deadline} KST까지 {}원을 결제하세요.",
                    ko_show(show),
                    format_won(amount_won)
                ),
            ),
            text(
                "Seats held for you".into(),
                format!(
                    "{seats} seat{plural}{} are held for you. Pay ₩{} by {deadline} KST to claim them.",
                    en_show(show),
                    format_won(amount_won)
                ),
            ),
        )
    }

    pub fn waitlist_ended(show: Option<&str>, reason: &WaitlistEndReason) -> (Text, Text) {
        let (ko, en) = match reason {
            WaitlistEndReason::Left => ("대기를 취소하셨습니다.", "You left the waitlist."),
            WaitlistEndReason::Booked => (
                "대기 좌석 예매가 완료되었습니다.",
                "Your waitlist seats are booked.",
            ),
            WaitlistEndReason::Declined => (
                "제안된 좌석을 거절하여 대기가 종료되었습니다.",
                "You declined the seats offered; your waitlist entry ended.",
            ),
            WaitlistEndReason::Lapsed => (
                "결제 기한이 지나 대기가 종료되었습니다.",
                "The claim deadline passed; your waitlist entry ended.",
            ),
            WaitlistEndReason::ChargeFailed { .. } => (
                "자동 결제에 실패하여 대기가 종료되었습니다.",
                "The automatic payment failed; your waitlist entry ended.",
            ),
            WaitlistEndReason::CalledOff => (
                "공연이 취소되어 대기가 종료되었습니다.",
                "The performance was called off; your waitlist entry ended.",
            ),
        };
        (
            text("대기 종료".into(), format!("{}{ko}", ko_show(show))),
            text(
                "Waitlist ended".into(),
                match show {
                    Some(s) => format!("“{s}”: {en}"),
                    None => en.to_owned(),
                },
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use picket_ledger_core::{HoldId, Place, RefundId, SeatId, TicketId};

    const SHOW: &str = "레미제라블";

    fn lookups() -> Lookups {
        Lookups {
            buyers: BTreeMap::from([(BookingId(7), ActorId(42))]),
            entries: BTreeMap::from([(WaitlistEntryId(3), ActorId(43))]),
            titles: BTreeMap::from([(PerformanceId(11), SHOW.to_owned())]),
            recent: BTreeMap::new(),
        }
    }

    fn entry(events: &[Event]) -> Entry<'_> {
        Entry {
            partition: 1,
            seq: 99,
            at_ms: 1_764_000_000_000,
            events,
        }
    }

    fn confirmed() -> Event {
        Event::BookingConfirmed {
            performance: PerformanceId(11),
            hold: HoldId(5),
            booking: BookingId(7),
            first_ticket: TicketId(100),
            payment_ref: "pay".into(),
            paid_won: 160_000,
            booked_at_ms: 1,
            booking_fee_won: 0,
        }
    }

    #[test]
    fn won_has_thousands_separators() {
        assert_eq!(format_won(0), "0");
        assert_eq!(format_won(999), "999");
        assert_eq!(format_won(1_000), "1,000");
        assert_eq!(format_won(160_000), "160,000");
        assert_eq!(format_won(1_234_567), "1,234,567");
    }

    #[test]
    fn deadlines_are_in_korea_standard_time() {
        // 2025-11-25T01:00:00Z is 10:00 in Seoul.
        assert_eq!(format_kst(1_764_032_400_000), "2025-11-25 10:00");
        // 15:30 UTC is past midnight in Seoul: the next day.
        assert_eq!(format_kst(1_764_084_600_000), "2025-11-26 00:30");
        assert_eq!(format_kst(0), "1970-01-01 09:00");
    }

    #[test]
    fn booking_confirmed_in_both_languages() {
        let events = [confirmed()];
        let made = for_entry(entry(&events), &lookups());
        assert_eq!(made.len(), 1);
        let n = &made[0];
        assert_eq!(n.recipient, 42);
        assert_eq!(n.kind, Kind::BookingConfirmed);
        assert_eq!(n.ko.title, "예매 확정");
        assert_eq!(
            n.ko.body,
            "「레미제라블」 예매가 확정되었습니다. 결제 금액 160,000원"
        );
        assert_eq!(n.en.title, "Booking confirmed");
        assert_eq!(
            n.en.body,
            "Your booking for “레미제라블” is confirmed. Paid ₩160,000."
        );
        assert_eq!(n.data["booking"], "7");
        assert_eq!(n.data["performance"], "11");
        assert_eq!(n.created_at_ms, 1_764_000_000_000);
        assert!(n.push);
    }

    #[test]
    fn cancellation_and_refund_in_both_languages() {
        let events = [
            Event::TicketsCancelled {
                performance: PerformanceId(11),
                booking: BookingId(7),
                tickets: vec![TicketId(100), TicketId(101)],
                refund_won: 150_000,
                fee_won: 10_000,
                booking_fee_refunded_won: 0,
                places: vec![],
            },
            Event::RefundPaid {
                performance: PerformanceId(11),
                booking: BookingId(7),
                refund: RefundId(1),
                provider_transaction: "tx".into(),
                amount_won: 150_000,
                at_ms: 5,
            },
        ];
        let made = for_entry(entry(&events), &lookups());
        assert_eq!(made.len(), 2);
        assert_eq!(made[0].kind, Kind::TicketsCancelled);
        assert_eq!(
            made[0].ko.body,
            "「레미제라블」 티켓 2매가 취소되었습니다. 환불 예정 금액 150,000원"
        );
        assert_eq!(
            made[0].en.body,
            "2 tickets for “레미제라블” cancelled. Refund due: ₩150,000."
        );
        assert_eq!(made[1].kind, Kind::RefundPaid);
        assert_eq!(
            made[1].ko.body,
            "「레미제라블」 환불 150,000원이 완료되었습니다."
        );
        assert_eq!(
            made[1].en.body,
            "₩150,000 has been refunded for “레미제라블”."
        );
        assert_ne!(made[0].id, made[1].id);
    }

    #[test]
    fn waitlist_offer_states_the_deadline_and_the_end_its_reason() {
        let events = [
            Event::WaitlistOffered {
                performance: PerformanceId(11),
                entry: WaitlistEntryId(3),
                hold: HoldId(9),
                buyer: ActorId(43),
                places: vec![Place::Seat(SeatId(1)), Place::Seat(SeatId(2))],
                amount_won: 320_000,
                deadline_ms: 1_764_032_400_000,
                mode: WaitlistMode::Offer,
                from_reserve: vec![],
            },
            Event::WaitlistEntryEnded {
                performance: PerformanceId(11),
                entry: WaitlistEntryId(3),
                reason: WaitlistEndReason::Lapsed,
            },
        ];
        let made = for_entry(entry(&events), &lookups());
        assert_eq!(made.len(), 2);
        assert_eq!(made[0].kind, Kind::WaitlistOffer);
        assert_eq!(made[0].recipient, 43);
        assert_eq!(
            made[0].ko.body,
            "「레미제라블」 좌석 2석이 회원님을 위해 확보되었습니다. 2025-11-25 10:00 KST까지 320,000원을 결제하세요."
        );
        assert_eq!(
            made[0].en.body,
            "2 seats for “레미제라블” are held for you. Pay ₩320,000 by 2025-11-25 10:00 KST to claim them."
        );
        assert_eq!(made[0].data["deadline_ms"], "1764032400000");
        assert_eq!(made[0].data["hold"], "9");
        assert_eq!(made[1].kind, Kind::WaitlistEnded);
        assert_eq!(
            made[1].ko.body,
            "「레미제라블」 결제 기한이 지나 대기가 종료되었습니다."
        );
        assert_eq!(
            made[1].en.body,
            "“레미제라블”: The claim deadline passed; your waitlist entry ended."
        );
    }

    #[test]
    fn interest_alert_in_both_languages() {
        let published = Published {
            show: 77,
            title: SHOW.into(),
            published_at_ms: 10,
        };
        let made = for_published(&published, &[5, 6], &BTreeMap::new());
        assert_eq!(made.len(), 2);
        assert_eq!(made[0].recipient, 5);
        assert_eq!(made[1].recipient, 6);
        assert_eq!(made[0].kind, Kind::InterestAlert);
        assert_eq!(made[0].ko.title, "관심 공연 알림");
        assert_eq!(
            made[0].ko.body,
            "관심 있는 공연 「레미제라블」이(가) 등록되었습니다."
        );
        assert_eq!(
            made[0].en.body,
            "“레미제라블” matches your interests and is now listed."
        );
        assert_eq!(made[0].data["show"], "77");
        assert_ne!(made[0].id, made[1].id);
    }

    #[test]
    fn a_redelivered_input_makes_the_same_ids() {
        let events = [confirmed()];
        let first = for_entry(entry(&events), &lookups());
        let again = for_entry(entry(&events), &lookups());
        assert_eq!(first, again);
        // Another place in the journal is another notification.
        let elsewhere = for_entry(
            Entry {
                seq: 100,
                ..entry(&events)
            },
            &lookups(),
        );
        assert_ne!(first[0].id, elsewhere[0].id);
        let published = Published {
            show: 77,
            title: SHOW.into(),
            published_at_ms: 10,
        };
        assert_eq!(
            for_published(&published, &[5], &BTreeMap::new())[0].id,
            for_published(&published, &[5], &BTreeMap::new())[0].id
        );
    }

    #[test]
    fn unknown_recipients_get_nothing() {
        let events = [confirmed()];
        assert!(for_entry(entry(&events), &Lookups::default()).is_empty());
    }

    #[test]
    fn holds_and_recorded_commands_are_not_news() {
        assert!(is_news(&[confirmed()]));
        let hold = Event::HoldReleased {
            performance: PerformanceId(11),
            hold: HoldId(5),
            places: vec![],
        };
        assert!(!is_news(std::slice::from_ref(&hold)));
        assert!(is_news(&[hold, confirmed()]));
        assert!(!is_news(&[]));
    }

    #[test]
    fn needs_names_what_to_look_up() {
        let events = [confirmed()];
        let needs = needs(&events);
        assert_eq!(needs.bookings, vec![BookingId(7)]);
        assert_eq!(needs.performances, vec![PerformanceId(11)]);
        assert!(needs.entries.is_empty());
    }

    #[test]
    fn past_the_rate_limit_notifications_are_inbox_only() {
        let published = Published {
            show: 77,
            title: SHOW.into(),
            published_at_ms: 10,
        };
        let recent = BTreeMap::from([(5, RATE_PUSHES_MAX), (6, RATE_PUSHES_MAX - 1)]);
        let made = for_published(&published, &[5, 6, 7], &recent);
        assert_eq!(
            made.iter().map(|n| n.push).collect::<Vec<_>>(),
            [false, true, true]
        );
        // Within one input, a recipient's notifications count too.
        let events: Vec<Event> = (0..RATE_PUSHES_MAX + 2).map(|_| confirmed()).collect();
        let made = for_entry(entry(&events), &lookups());
        let pushed = made.iter().filter(|n| n.push).count();
        assert_eq!(pushed, RATE_PUSHES_MAX as usize);
        assert!(!made.last().expect("made").push);
        assert!(made[0].push);
    }
}
