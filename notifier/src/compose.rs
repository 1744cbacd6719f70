//! The notifier's pure core: one input (a committed ledger entry, a show's publication, reminders
//! whose time came, a seller's notice) plus what the shell looked up (who the recipients are,
//! the shows' titles, how many notifications each recipient got lately, their choices of
//! language and channels) becomes notifications. No I/O and no clock: times come from the input
//! (the reminders' "now" too), so a redelivered input makes the same notifications with the same
//! ids, and the inbox shows each once.

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
    /// A performance's ticket opening the member asked to be reminded of is near.
    Reminder,
    /// The seller of a show the member booked posted a notice for its bookers.
    SellerNotice,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::InterestAlert,
        Kind::BookingConfirmed,
        Kind::TicketsCancelled,
        Kind::RefundPaid,
        Kind::WaitlistOffer,
        Kind::WaitlistEnded,
        Kind::Reminder,
        Kind::SellerNotice,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::InterestAlert => "interest_alert",
            Kind::BookingConfirmed => "booking_confirmed",
            Kind::TicketsCancelled => "tickets_cancelled",
            Kind::RefundPaid => "refund_paid",
            Kind::WaitlistOffer => "waitlist_offer",
            Kind::WaitlistEnded => "waitlist_ended",
            Kind::Reminder => "reminder",
            Kind::SellerNotice => "seller_notice",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}

/// The language a member reads notifications in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    Ko,
    En,
}

impl Language {
    pub fn as_str(self) -> &'static str {
        match self {
            Language::Ko => "ko",
            Language::En => "en",
        }
    }
}

/// The channels a member wants one kind of notification on, beside the inbox, which keeps
/// every notification.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Channels {
    /// Live over the WebSocket while an app of theirs is connected.
    pub app: bool,
    /// Web Push to their devices.
    pub push: bool,
}

impl Default for Channels {
    fn default() -> Self {
        Channels {
            app: true,
            push: true,
        }
    }
}

/// A member's choices; a member who made none gets the default (Korean, every channel).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Choices {
    pub language: Language,
    /// Kinds not named have every channel.
    pub channels: BTreeMap<Kind, Channels>,
}

impl Choices {
    pub fn channels(&self, kind: Kind) -> Channels {
        self.channels.get(&kind).copied().unwrap_or_default()
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
    /// To be pushed: the recipient wants this kind pushed and is within [`RATE_PUSHES_MAX`].
    pub push: bool,
    /// To be shown live in the recipient's connected apps: they want this kind there.
    pub app: bool,
    /// The recipient's language: the one to deliver it in (the inbox keeps both).
    pub language: Language,
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
    /// Each recipient's choices; one not here has the defaults.
    pub choices: BTreeMap<u64, Choices>,
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
                app: true,
                language: Language::Ko,
            });
        }
    }
    finish(drafts, &lookups.recent, &lookups.choices)
}

/// The interest alerts of a published show for `members` (those whose interests match, as the
/// shell found them), in the order given.
pub fn for_published(
    published: &Published,
    members: &[u64],
    recent: &BTreeMap<u64, u32>,
    choices: &BTreeMap<u64, Choices>,
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
            app: true,
            language: Language::Ko,
        })
        .collect();
    finish(drafts, recent, choices)
}

/// A reminder whose time may have come, as the shell found it (`sent_for_ms`: the opening it
/// was last written for).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DueReminder {
    pub member: u64,
    pub performance: u64,
    pub show: u64,
    pub title: String,
    /// The performance's ticket opening as it is now (it may have moved since the reminder
    /// was asked for, or last written).
    pub opening_at_ms: u64,
    /// How long before the opening.
    pub offset_ms: u64,
    pub sent_for_ms: Option<u64>,
}

/// Whether a reminder `offset_ms` before the opening at `opening_at_ms` is to be written at
/// `now_ms`: its time has come, the opening has not, and it was not written for this opening
/// (one written for an opening that moved since is written again for the new one).
pub fn reminder_due(
    opening_at_ms: u64,
    offset_ms: u64,
    sent_for_ms: Option<u64>,
    now_ms: u64,
) -> bool {
    opening_at_ms.saturating_sub(offset_ms) <= now_ms
        && now_ms < opening_at_ms
        && sent_for_ms != Some(opening_at_ms)
}

/// What [`for_reminders`] makes: the notifications, and which of the reminders given are
/// done for their opening (indexes into them), to be marked with the notifications.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reminded {
    pub notifications: Vec<Notification>,
    pub sent: Vec<usize>,
}

/// The reminder notifications due at `now_ms` among `due`. When a member's reminders of one
/// opening are due together (the notifier was away, or the opening moved closer), only the one
/// nearest the opening is written and the others are marked done with it: one reminder, not a
/// burst of stale ones. A notification's time is the reminder's (opening minus offset), not
/// `now_ms`, so instances that write it at different moments write the same row.
pub fn for_reminders(
    due: &[DueReminder],
    now_ms: u64,
    recent: &BTreeMap<u64, u32>,
    choices: &BTreeMap<u64, Choices>,
) -> Reminded {
    let mut reminded = Reminded::default();
    // The smallest due offset per member, performance and opening.
    let mut nearest: BTreeMap<(u64, u64, u64), u64> = BTreeMap::new();
    for (index, reminder) in due.iter().enumerate() {
        if !reminder_due(
            reminder.opening_at_ms,
            reminder.offset_ms,
            reminder.sent_for_ms,
            now_ms,
        ) {
            continue;
        }
        reminded.sent.push(index);
        let key = (
            reminder.member,
            reminder.performance,
            reminder.opening_at_ms,
        );
        let offset = nearest.entry(key).or_insert(reminder.offset_ms);
        *offset = (*offset).min(reminder.offset_ms);
    }
    let mut drafts = Vec::new();
    for &index in &reminded.sent {
        let reminder = &due[index];
        let key = (
            reminder.member,
            reminder.performance,
            reminder.opening_at_ms,
        );
        if nearest.get(&key) != Some(&reminder.offset_ms) {
            continue;
        }
        let (ko, en) = texts::reminder(&reminder.title, reminder.opening_at_ms, reminder.offset_ms);
        drafts.push(Notification {
            id: format!(
                "r{}.{}.{}.{}.{}",
                reminder.performance,
                reminder.opening_at_ms,
                reminder.offset_ms,
                Kind::Reminder.as_str(),
                reminder.member
            ),
            recipient: reminder.member,
            kind: Kind::Reminder,
            created_at_ms: reminder.opening_at_ms.saturating_sub(reminder.offset_ms),
            ko,
            en,
            data: BTreeMap::from([
                ("performance", reminder.performance.to_string()),
                ("show", reminder.show.to_string()),
                ("opens_at_ms", reminder.opening_at_ms.to_string()),
            ]),
            push: true,
            app: true,
            language: Language::Ko,
        });
    }
    reminded.notifications = finish(drafts, recent, choices);
    reminded
}

/// Characters of a seller's notice a notification's body carries at most (the notice's title
/// and the start of its text); the whole notice is on the show's board.
pub const NOTICE_BODY_CHARS_MAX: usize = 200;

/// A seller's notice to a show's bookers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    pub post: u64,
    pub show: u64,
    /// Only this performance's bookers; `None`: the show's.
    pub performance: Option<u64>,
    pub show_title: String,
    pub title: String,
    pub body: String,
    pub posted_at_ms: u64,
}

/// The `seller_notice` notifications of `notice` for `members` (bookers, as the shell found
/// them; a member named twice, for two bookings, gets one), in the order given.
pub fn for_notice(
    notice: &Notice,
    members: &[u64],
    recent: &BTreeMap<u64, u32>,
    choices: &BTreeMap<u64, Choices>,
) -> Vec<Notification> {
    let (ko, en) = texts::seller_notice(&notice.show_title, &notice.title, &notice.body);
    let mut data = BTreeMap::from([
        ("show", notice.show.to_string()),
        ("post", notice.post.to_string()),
    ]);
    if let Some(performance) = notice.performance {
        data.insert("performance", performance.to_string());
    }
    let mut seen = std::collections::BTreeSet::new();
    let drafts = members
        .iter()
        .filter(|member| seen.insert(**member))
        .map(|member| Notification {
            id: format!("n{}.{}.{member}", notice.post, Kind::SellerNotice.as_str()),
            recipient: *member,
            kind: Kind::SellerNotice,
            created_at_ms: notice.posted_at_ms,
            ko: ko.clone(),
            en: en.clone(),
            data: data.clone(),
            push: true,
            app: true,
            language: Language::Ko,
        })
        .collect();
    finish(drafts, recent, choices)
}

/// Applies each recipient's choices (language, channels) and the push rate limit: a
/// notification past [`RATE_PUSHES_MAX`] of its recipient's (counting `recent`) is not pushed,
/// nor one of a kind they do not want pushed.
fn finish(
    mut drafts: Vec<Notification>,
    recent: &BTreeMap<u64, u32>,
    choices: &BTreeMap<u64, Choices>,
) -> Vec<Notification> {
    let mut counted: BTreeMap<u64, u32> = BTreeMap::new();
    let defaults = Choices::default();
    for draft in &mut drafts {
        let count = counted
            .entry(draft.recipient)
            .or_insert_with(|| recent.get(&draft.recipient).copied().unwrap_or(0));
        let within_rate = *count < RATE_PUSHES_MAX;
        *count = count.saturating_add(1);
        let chosen = choices.get(&draft.recipient).unwrap_or(&defaults);
        let channels = chosen.channels(draft.kind);
        draft.push = within_rate && channels.push;
        draft.app = channels.app;
        draft.language = chosen.language;
    }
    drafts
}

/// At most `max` characters of `text`, ending in `…` when cut.
pub fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut clipped: String = text.chars().take(max.saturating_sub(1)).collect();
    clipped.push('…');
    clipped
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

    /// "1시간" / "1-hour", "10분" / "10-minute".
    fn lead(offset_ms: u64) -> (String, String) {
        let minutes = offset_ms / 60_000;
        if minutes >= 60 && minutes.is_multiple_of(60) {
            (
                format!("{}시간", minutes / 60),
                format!("{}-hour", minutes / 60),
            )
        } else {
            (format!("{minutes}분"), format!("{minutes}-minute"))
        }
    }

    /// The opening is stated as a time, so a reminder written late is still true.
    pub fn reminder(show: &str, opening_at_ms: u64, offset_ms: u64) -> (Text, Text) {
        let at = format_kst(opening_at_ms);
        let (ko_lead, en_lead) = lead(offset_ms);
        (
            text(
                "티켓 오픈 알림".into(),
                format!("「{show}」 티켓이 {at} KST에 오픈됩니다. ({ko_lead} 전 알림)"),
            ),
            text(
                "Tickets open soon".into(),
                format!("Tickets for “{show}” open at {at} KST (your {en_lead} reminder)."),
            ),
        )
    }

    /// The notice's title and the start of its text, within [`NOTICE_BODY_CHARS_MAX`].
    pub fn seller_notice(show: &str, title: &str, body: &str) -> (Text, Text) {
        (
            text(
                "공연 공지".into(),
                clip(
                    &format!("「{show}」 {title}: {body}"),
                    NOTICE_BODY_CHARS_MAX,
                ),
            ),
            text(
                "Notice from the organiser".into(),
                clip(&format!("“{show}”: {title}: {body}"), NOTICE_BODY_CHARS_MAX),
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
            choices: BTreeMap::new(),
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
        let made = for_published(&published, &[5, 6], &BTreeMap::new(), &BTreeMap::new());
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
            for_published(&published, &[5], &BTreeMap::new(), &BTreeMap::new())[0].id,
            for_published(&published, &[5], &BTreeMap::new(), &BTreeMap::new())[0].id
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
        let made = for_published(&published, &[5, 6, 7], &recent, &BTreeMap::new());
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

    const HOUR_MS: u64 = 3_600_000;
    const TEN_MINUTES_MS: u64 = 600_000;
    /// 2025-11-25 10:00 KST.
    const OPENING_MS: u64 = 1_764_032_400_000;

    fn reminder(member: u64, offset_ms: u64) -> DueReminder {
        DueReminder {
            member,
            performance: 11,
            show: 77,
            title: SHOW.into(),
            opening_at_ms: OPENING_MS,
            offset_ms,
            sent_for_ms: None,
        }
    }

    #[test]
    fn kinds_parse_from_their_names() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(Kind::parse("nothing"), None);
    }

    #[test]
    fn a_reminder_is_due_from_its_time_until_the_opening() {
        let due = |now_ms| reminder_due(OPENING_MS, HOUR_MS, None, now_ms);
        assert!(!due(OPENING_MS - HOUR_MS - 1));
        assert!(due(OPENING_MS - HOUR_MS));
        assert!(due(OPENING_MS - 1));
        // Once the tickets are on sale a reminder is of no use.
        assert!(!due(OPENING_MS));
        // Written for this opening: not again.
        assert!(!reminder_due(
            OPENING_MS,
            HOUR_MS,
            Some(OPENING_MS),
            OPENING_MS - HOUR_MS
        ));
        // Written for an opening that has moved since: again, at the new time.
        let moved_ms = OPENING_MS + 2 * HOUR_MS;
        assert!(!reminder_due(
            moved_ms,
            HOUR_MS,
            Some(OPENING_MS),
            OPENING_MS - HOUR_MS
        ));
        assert!(reminder_due(
            moved_ms,
            HOUR_MS,
            Some(OPENING_MS),
            moved_ms - HOUR_MS
        ));
    }

    #[test]
    fn reminders_in_both_languages_at_their_own_time() {
        let due = [reminder(5, HOUR_MS)];
        let made = for_reminders(
            &due,
            OPENING_MS - HOUR_MS + 30_000,
            &BTreeMap::new(),
            &BTreeMap::new(),
        );
        assert_eq!(made.sent, vec![0]);
        assert_eq!(made.notifications.len(), 1);
        let n = &made.notifications[0];
        assert_eq!(n.kind, Kind::Reminder);
        assert_eq!(n.recipient, 5);
        // The reminder's time, not when it was written.
        assert_eq!(n.created_at_ms, OPENING_MS - HOUR_MS);
        assert_eq!(n.id, format!("r11.{OPENING_MS}.3600000.reminder.5"));
        assert_eq!(n.ko.title, "티켓 오픈 알림");
        assert_eq!(
            n.ko.body,
            "「레미제라블」 티켓이 2025-11-25 10:00 KST에 오픈됩니다. (1시간 전 알림)"
        );
        assert_eq!(n.en.title, "Tickets open soon");
        assert_eq!(
            n.en.body,
            "Tickets for “레미제라블” open at 2025-11-25 10:00 KST (your 1-hour reminder)."
        );
        assert_eq!(n.data["performance"], "11");
        assert_eq!(n.data["show"], "77");
        assert_eq!(n.data["opens_at_ms"], OPENING_MS.to_string());
        let ten = for_reminders(
            &[reminder(5, TEN_MINUTES_MS)],
            OPENING_MS - TEN_MINUTES_MS,
            &BTreeMap::new(),
            &BTreeMap::new(),
        );
        assert_eq!(
            ten.notifications[0].ko.body,
            "「레미제라블」 티켓이 2025-11-25 10:00 KST에 오픈됩니다. (10분 전 알림)"
        );
        assert_eq!(
            ten.notifications[0].en.body,
            "Tickets for “레미제라블” open at 2025-11-25 10:00 KST (your 10-minute reminder)."
        );
        // Same member, performance and opening, another offset: another notification.
        assert_ne!(ten.notifications[0].id, n.id);
        // Written again by another instance later: the same notification.
        let again = for_reminders(
            &due,
            OPENING_MS - HOUR_MS + 90_000,
            &BTreeMap::new(),
            &BTreeMap::new(),
        );
        assert_eq!(again.notifications, made.notifications);
    }

    #[test]
    fn reminders_not_due_are_left_and_those_due_together_make_one() {
        let due = [
            reminder(5, HOUR_MS),
            reminder(5, TEN_MINUTES_MS),
            reminder(6, HOUR_MS),
        ];
        // Twenty minutes before: only the hour reminders are due.
        let made = for_reminders(
            &due,
            OPENING_MS - 20 * 60_000,
            &BTreeMap::new(),
            &BTreeMap::new(),
        );
        assert_eq!(made.sent, vec![0, 2]);
        assert_eq!(
            made.notifications
                .iter()
                .map(|n| n.recipient)
                .collect::<Vec<_>>(),
            [5, 6]
        );
        // Five minutes before, nothing written yet: member 5 gets the ten-minute one only, and
        // both of theirs are done.
        let made = for_reminders(
            &due,
            OPENING_MS - 5 * 60_000,
            &BTreeMap::new(),
            &BTreeMap::new(),
        );
        assert_eq!(made.sent, vec![0, 1, 2]);
        let fives: Vec<_> = made
            .notifications
            .iter()
            .filter(|n| n.recipient == 5)
            .collect();
        assert_eq!(fives.len(), 1);
        assert!(fives[0].ko.body.ends_with("(10분 전 알림)"));
        // At the opening, none.
        let made = for_reminders(&due, OPENING_MS, &BTreeMap::new(), &BTreeMap::new());
        assert_eq!(made, Reminded::default());
    }

    #[test]
    fn choices_set_the_channels_and_the_language() {
        let choices = BTreeMap::from([(
            5,
            Choices {
                language: Language::En,
                channels: BTreeMap::from([
                    (
                        Kind::Reminder,
                        Channels {
                            app: false,
                            push: true,
                        },
                    ),
                    (
                        Kind::InterestAlert,
                        Channels {
                            app: true,
                            push: false,
                        },
                    ),
                ]),
            },
        )]);
        let made = for_reminders(
            &[reminder(5, HOUR_MS), reminder(6, HOUR_MS)],
            OPENING_MS - HOUR_MS,
            &BTreeMap::new(),
            &choices,
        );
        let [five, six] = &made.notifications[..] else {
            panic!("two: {made:?}");
        };
        assert_eq!(
            (five.app, five.push, five.language),
            (false, true, Language::En)
        );
        // No choices: every channel, Korean.
        assert_eq!(
            (six.app, six.push, six.language),
            (true, true, Language::Ko)
        );
        let published = Published {
            show: 77,
            title: SHOW.into(),
            published_at_ms: 10,
        };
        let alerts = for_published(&published, &[5, 6], &BTreeMap::new(), &choices);
        assert_eq!((alerts[0].app, alerts[0].push), (true, false));
        assert_eq!((alerts[1].app, alerts[1].push), (true, true));
        // A push the member wants is still held back past the rate limit.
        let recent = BTreeMap::from([(5, RATE_PUSHES_MAX)]);
        let made = for_reminders(
            &[reminder(5, HOUR_MS)],
            OPENING_MS - HOUR_MS,
            &recent,
            &choices,
        );
        assert!(!made.notifications[0].push);
        assert!(!made.notifications[0].app);
        // Entries' notifications too.
        let events = [confirmed()];
        let lookups = Lookups {
            choices: BTreeMap::from([(
                42,
                Choices {
                    language: Language::En,
                    channels: BTreeMap::from([(
                        Kind::BookingConfirmed,
                        Channels {
                            app: false,
                            push: false,
                        },
                    )]),
                },
            )]),
            ..lookups()
        };
        let made = for_entry(entry(&events), &lookups);
        assert_eq!(
            (made[0].app, made[0].push, made[0].language),
            (false, false, Language::En)
        );
    }

    fn notice(body: &str) -> Notice {
        Notice {
            post: 900,
            show: 77,
            performance: None,
            show_title: SHOW.into(),
            title: "공연 시간 변경".into(),
            body: body.into(),
            posted_at_ms: 1_764_000_000_000,
        }
    }

    #[test]
    fn a_sellers_notice_reaches_each_member_once_with_a_bounded_body() {
        let made = for_notice(
            &notice("19시에서 20시로 변경되었습니다."),
            &[5, 6, 5],
            &BTreeMap::new(),
            &BTreeMap::new(),
        );
        assert_eq!(made.iter().map(|n| n.recipient).collect::<Vec<_>>(), [5, 6]);
        let n = &made[0];
        assert_eq!(n.kind, Kind::SellerNotice);
        assert_eq!(n.id, "n900.seller_notice.5");
        assert_eq!(n.created_at_ms, 1_764_000_000_000);
        assert_eq!(n.ko.title, "공연 공지");
        assert_eq!(
            n.ko.body,
            "「레미제라블」 공연 시간 변경: 19시에서 20시로 변경되었습니다."
        );
        assert_eq!(
            n.en.body,
            "“레미제라블”: 공연 시간 변경: 19시에서 20시로 변경되었습니다."
        );
        assert_eq!(n.data["post"], "900");
        assert_eq!(n.data["show"], "77");
        assert!(!n.data.contains_key("performance"));
        let long = "가".repeat(5_000);
        let made = for_notice(
            &Notice {
                performance: Some(11),
                ..notice(&long)
            },
            &[5],
            &BTreeMap::new(),
            &BTreeMap::new(),
        );
        assert_eq!(made[0].ko.body.chars().count(), NOTICE_BODY_CHARS_MAX);
        assert!(made[0].ko.body.ends_with('…'));
        assert_eq!(made[0].en.body.chars().count(), NOTICE_BODY_CHARS_MAX);
        assert_eq!(made[0].data["performance"], "11");
    }

    #[test]
    fn clip_cuts_at_characters() {
        assert_eq!(clip("abc", 3), "abc");
        assert_eq!(clip("abcd", 3), "ab…");
        assert_eq!(clip("가나다라", 3), "가나…");
        assert_eq!(clip("", 3), "");
    }
}
