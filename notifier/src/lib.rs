//! The notifier (DESIGN.md "notifier"): follows the ledger's committed entries and the
//! catalog's published shows and writes what they mean for people into their inboxes (the
//! API's `notifications` table, read through `GET /api/v2/me/notifications`).
//!
//! - [`push`] sends one Web Push message (RFC 8030, VAPID, RFC 8291 encryption) and makes a
//!   notification's push payload; the delivery loop calls it.
//! - [`compose`] is the pure core: an input and what was looked up become notifications with
//!   ids derived from the input, so a redelivered input writes nothing new.
//! - This file is the shell. Per ledger partition it keeps a cursor (`notifier_cursors`): the
//!   last entry whose notifications are written. It reads on from it with an
//!   [`EntryFollower`] (the journal in process; over NATS a durable JetStream consumer on the
//!   partition's events stream, named [`NotifierConfig::consumer`], acknowledged once the
//!   inbox rows are committed) and moves the cursor in the same transaction as the inbox rows,
//!   so a notifier stopped anywhere resumes where it stopped: nothing lost, and nothing shown
//!   twice (the rows' ids make a replayed entry a no-op, and the cursor skips what the bus
//!   redelivers). Published shows are announced once each: their matching members are
//!   walked by account id, a batch of alerts per transaction that also moves the show's
//!   resume point (`notifier_announcing`), so a stopped notifier goes on after the last batch it
//!   committed; the show goes into `notifier_announced` with its last batch. The
//!   ledger's subscription only wakes it up early, and so do published shows ([`Wakes`]: the
//!   API's in-process announcements, or `picket.catalog.show_published` over NATS); it also
//!   looks every [`POLL_INTERVAL`].
//! - Reminders before ticket openings ([`remind`]): each round scans the reminders due now (a
//!   bounded batch) and writes them with their "sent for this opening" marks in one
//!   transaction, so each is written once across restarts; several notifiers may scan at once,
//!   since the notifications' ids (and the marks) make a second write a no-op.
//! - Sellers' notices to bookers ([`send_notices`]): each notice asked to be sent is paged
//!   through its show's bookings, a batch per transaction with its cursor (`notice_sends`).
//! - Every notification carries the recipient's choices (`notification_settings`): `app` and
//!   `push` per kind (`push` also within the rate limit) and the language, stored on the row for
//!   the delivery loop.
//! - [`deliver`] sends what is written on: live to connected apps through the gateways and to
//!   Web Push, from the outbox every row is given a place in.
//!
//! The notifier never writes to the ledger: it only reads entries and the API's store.

pub mod compose;
pub mod deliver;
pub mod push;
pub mod push_channel;

use std::collections::BTreeMap;
use std::time::Duration;

use picket_api::notification_settings::{decode_channels, decode_language};
use picket_api::reminders::REMINDER_OFFSET_MS_MAX;
use picket_api::store::Store;
use picket_api::store::board::move_notice_send;
use picket_api::store::notification_settings::{choices_between, choices_of};
use picket_api::store::notifications::{
    NewNotification, insert_notifications, mark_announced, move_announcing, recent_counts,
    remember_waitlist_entry, set_notifier_cursor,
};
use picket_api::store::reminders::mark_reminder_sent;
use picket_ledger_client::{Committed, EntryFollower, LedgerClient, ReadError};
use picket_ledger_core::{ActorId, BookingId, PerformanceId, WaitlistEntryId};
use std::sync::Arc;

use tokio::sync::{Notify, watch};

use crate::compose::{
    Channels, Choices, DueReminder, Entry, Kind, Language, Lookups, Notice, Notification,
    Published, RATE_WINDOW_MS,
};

/// How often the notifier looks for new entries and published shows without being woken.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Wait after a failed round before the next.
pub const RETRY_DELAY: Duration = Duration::from_secs(1);
/// Ledger entries read per request while catching up.
pub const ENTRIES_BATCH_MAX: u32 = 256;
/// Members whose interest alerts are composed and written per transaction (one multi-row
/// insert: `picket_api::store::notifications::INSERT_ROWS_MAX`).
pub const MEMBERS_BATCH_MAX: i64 = 1_000;
/// Batches of interest alerts one round writes, across shows, so a show matching a million
/// members does not keep the notifier from the ledger's entries, the reminders and a stop.
pub const ANNOUNCE_BATCHES_PER_ROUND_MAX: usize = 8;
/// Published shows announced per round.
pub const SHOWS_BATCH_MAX: i64 = 16;
/// Batches of entries read per partition per round, so a partition that never runs dry (a
/// ticket opening) does not keep the notifier from the other partitions, the catalog and a stop.
pub const ROUND_BATCHES_MAX: usize = 8;
/// Due reminders written per transaction (one batch per round).
pub const REMINDERS_BATCH_MAX: i64 = 500;
/// Sellers' notices being sent looked at per round.
pub const NOTICES_BATCH_MAX: i64 = 4;
/// Bookings whose bookers get a notice per transaction.
pub const BOOKERS_BATCH_MAX: i64 = 500;
/// Batches of bookers one round sends notices to, across notices, so a show with many bookers
/// does not keep the notifier from the ledger and a stop.
pub const NOTICE_BATCHES_PER_ROUND_MAX: usize = 8;

/// Why a round of the notifier failed; it is logged and the round is tried again.
#[derive(Debug, thiserror::Error)]
pub enum NotifierError {
    #[error("the store failed: {0}")]
    Store(#[from] sqlx::Error),
    #[error("the ledger's entries cannot be read: {0}")]
    Ledger(#[from] ReadError),
}

/// The durable consumer the notifier reads each partition's events stream with over NATS.
pub const CONSUMER_DEFAULT: &str = "picket-notifier";

/// What the notifier follows.
#[derive(Clone, Debug)]
pub struct NotifierConfig {
    /// The ledger's partitions (one in process; the bus's over NATS).
    pub partitions: Vec<u16>,
    /// The name of its durable consumers ([`CONSUMER_DEFAULT`]); one notifier per name.
    pub consumer: String,
}

impl NotifierConfig {
    pub fn new(partitions: Vec<u16>) -> Self {
        NotifierConfig {
            partitions,
            consumer: CONSUMER_DEFAULT.to_string(),
        }
    }
}

/// The notifier's readers, one per partition, opened at the stored cursor when first needed
/// and kept across rounds (a failed read drops one, to be opened again).
#[derive(Default)]
pub struct Followers {
    by_partition: BTreeMap<u16, EntryFollower>,
}

/// What wakes the notifier and whom it wakes.
#[derive(Clone, Default)]
pub struct Wakes {
    /// Signalled when a show is published ([`wake_on_published`], [`wake_on_announcements`]).
    pub published: Arc<Notify>,
    /// Signalled after every round (the delivery loop waits on it).
    pub written: Arc<Notify>,
}

/// Follows the ledger and the catalog into the inbox until `stop` turns true.
pub async fn run(
    store: Store,
    ledger: LedgerClient,
    config: NotifierConfig,
    stop: watch::Receiver<bool>,
) {
    run_woken(store, ledger, config, Wakes::default(), stop).await
}

/// Signals `wake` for every show the API in this process publishes, until the API is gone.
pub async fn wake_on_published(
    mut published: tokio::sync::broadcast::Receiver<picket_api::catalog::ShowPublished>,
    wake: Arc<Notify>,
) {
    use tokio::sync::broadcast::error::RecvError;
    loop {
        match published.recv().await {
            // Lagging loses nothing: the round reads the shows from the store.
            Ok(_) | Err(RecvError::Lagged(_)) => wake.notify_one(),
            Err(RecvError::Closed) => return,
        }
    }
}

/// How long an announcement waits for its show's alerts to be written before it is left
/// unacknowledged (JetStream delivers it again after [`ANNOUNCEMENT_ACK_WAIT`]).
pub const ANNOUNCEMENT_WRITTEN_WAIT_MAX: Duration = Duration::from_secs(20);
/// When an unacknowledged announcement comes again.
pub const ANNOUNCEMENT_ACK_WAIT: Duration = Duration::from_secs(30);
/// Announcements delivered and not yet acknowledged, at most.
pub const ANNOUNCEMENTS_PENDING_MAX: i64 = 64;

/// Reads the catalog's "show published" announcements (`PICKET_CATALOG`) through the durable
/// JetStream consumer `<consumer>-catalog` until `stop` turns true: each wakes the notifier,
/// and is acknowledged once the show's alerts are all written (`notifier_announced`), so an
/// announcement a notifier died before finishing comes again to the next one. (The store is
/// the record — every round also announces whatever published show is not announced yet — so
/// the stream is what makes it prompt, never what makes it happen.)
pub async fn wake_on_announcements(
    nats: async_nats::Client,
    store: Store,
    consumer: String,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let result = tokio::select! {
            _ = stop.changed() => return,
            result = follow_announcements(&nats, &store, &consumer, &wake) => result,
        };
        if let Err(error) = result {
            tracing::warn!(%error, "cannot follow the catalog's announcements; trying again");
        }
        tokio::select! {
            _ = stop.changed() => return,
            _ = tokio::time::sleep(RETRY_DELAY) => {}
        }
    }
}

async fn follow_announcements(
    nats: &async_nats::Client,
    store: &Store,
    consumer: &str,
    wake: &Notify,
) -> Result<(), String> {
    use async_nats::jetstream::consumer::{AckPolicy, pull};
    use futures_util::StreamExt;
    let js = async_nats::jetstream::new(nats.clone());
    let stream = js
        .get_stream(picket_ledger_client::bus::ANNOUNCEMENTS_STREAM)
        .await
        .map_err(|e| e.to_string())?;
    let name = picket_ledger_client::follow::follower_name(&format!("{consumer}-catalog"));
    let puller = stream
        .get_or_create_consumer(
            &name,
            pull::Config {
                durable_name: Some(name.clone()),
                description: Some("the notifier: shows published".into()),
                filter_subject: picket_ledger_client::bus::SHOW_PUBLISHED_SUBJECT.into(),
                // Announcements from before this consumer existed were found in the store.
                deliver_policy: async_nats::jetstream::consumer::DeliverPolicy::New,
                ack_policy: AckPolicy::Explicit,
                ack_wait: ANNOUNCEMENT_ACK_WAIT,
                max_ack_pending: ANNOUNCEMENTS_PENDING_MAX,
                inactive_threshold: picket_ledger_client::follow::FOLLOW_INACTIVE_MAX,
                ..Default::default()
            },
        )
        .await
        .map_err(|e| e.to_string())?;
    let mut messages = puller.messages().await.map_err(|e| e.to_string())?;
    while let Some(message) = messages.next().await {
        let message = message.map_err(|e| e.to_string())?;
        wake.notify_one();
        let show = serde_json::from_slice::<serde_json::Value>(&message.payload)
            .ok()
            .and_then(|v| v["show"].as_str().and_then(|s| s.parse::<i64>().ok()));
        let written = match show {
            Some(show) => announced_within(store, show, ANNOUNCEMENT_WRITTEN_WAIT_MAX).await,
            // Not an announcement this notifier understands: nothing to wait for.
            None => true,
        };
        if written {
            message.ack().await.map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Whether `show`'s alerts are all written within `wait` (looked at every [`POLL_INTERVAL`]).
async fn announced_within(store: &Store, show: i64, wait: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        if store.is_announced(show).await.unwrap_or(false) {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(POLL_INTERVAL / 5).await;
    }
}

/// [`run`], woken by `wakes.published` too, and signalling `wakes.written` after each round.
pub async fn run_woken(
    store: Store,
    ledger: LedgerClient,
    config: NotifierConfig,
    wakes: Wakes,
    mut stop: watch::Receiver<bool>,
) {
    tracing::info!(partitions = ?config.partitions, "notifier started");
    let mut wake = ledger.subscribe().await.ok().map(|s| s.events);
    let mut followers = Followers::default();
    loop {
        if *stop.borrow() {
            return;
        }
        let delay = match round(&store, &ledger, &config, &mut followers).await {
            // More is waiting: only look at `stop` first.
            Ok(true) => Duration::ZERO,
            Ok(false) => POLL_INTERVAL,
            Err(error) => {
                tracing::warn!(%error, "notifier round failed; trying again");
                RETRY_DELAY
            }
        };
        wakes.written.notify_one();
        tokio::select! {
            _ = stop.changed() => {}
            _ = wakes.published.notified() => {}
            _ = tokio::time::sleep(delay) => {}
            closed = async {
                match wake.as_mut() {
                    // Lagging behind the wake-ups loses nothing: the round reads the entries.
                    Some(events) => matches!(
                        events.recv().await,
                        Err(tokio::sync::broadcast::error::RecvError::Closed)
                    ),
                    None => std::future::pending().await,
                }
            } => {
                if closed {
                    // Subscribe again (or poll only while that fails).
                    wake = ledger.subscribe().await.ok().map(|s| s.events);
                }
            }
        }
    }
}

/// One round: every partition's new entries, then the shows published meanwhile; `true` when
/// a partition has more entries than a round reads.
pub async fn round(
    store: &Store,
    ledger: &LedgerClient,
    config: &NotifierConfig,
    followers: &mut Followers,
) -> Result<bool, NotifierError> {
    let mut more = false;
    for &partition in &config.partitions {
        let stored = store.notifier_cursor(partition).await?;
        let follower = match followers.by_partition.entry(partition) {
            std::collections::btree_map::Entry::Occupied(open) => open.into_mut(),
            std::collections::btree_map::Entry::Vacant(slot) => {
                slot.insert(ledger.follower(partition, &config.consumer, stored).await?)
            }
        };
        match follow_partition(store, follower, stored).await {
            Ok(partition_more) => more |= partition_more,
            Err(error) => {
                // Open it again next round, at the stored cursor.
                followers.by_partition.remove(&partition);
                return Err(error);
            }
        }
    }
    more |= announce_published(store).await?;
    more |= remind(store, picket_api::state::now_ms()).await?;
    more |= send_notices(store).await?;
    Ok(more)
}

/// Writes the notifications of the partition's entries after the cursor, until none is left,
/// [`ROUND_BATCHES_MAX`] batches were read, or the bookings projection has not reached an entry
/// that needs it. Entries that are no news move the cursor without a write of their own. `true`
/// when it stopped at [`ROUND_BATCHES_MAX`] with more to read.
async fn follow_partition(
    store: &Store,
    follower: &mut EntryFollower,
    stored: u64,
) -> Result<bool, NotifierError> {
    let partition = follower.partition();
    let mut cursor = stored;
    let mut outcome = Ok(true);
    for _ in 0..ROUND_BATCHES_MAX {
        match follow_batch(store, follower, &mut cursor).await {
            Ok(true) => {}
            Ok(false) => {
                outcome = Ok(false);
                break;
            }
            Err(error) => {
                outcome = Err(error);
                break;
            }
        }
    }
    if cursor > stored {
        // Past entries that were no news (a news entry moved it in its own transaction).
        let mut conn = store.pool().acquire().await?;
        set_notifier_cursor(&mut conn, partition, cursor).await?;
    }
    // Committed up to here: the bus may forget it.
    follower.applied_through(cursor).await?;
    outcome
}

/// One batch of [`follow_partition`]: `true` when more may follow.
async fn follow_batch(
    store: &Store,
    follower: &mut EntryFollower,
    cursor: &mut u64,
) -> Result<bool, NotifierError> {
    let partition = follower.partition();
    let entries = match follower.entries_after(*cursor, ENTRIES_BATCH_MAX).await {
        Ok(entries) => entries,
        Err(ReadError::Gone { first, .. }) => {
            // The stream's retention dropped them; they cannot be notified any more.
            tracing::warn!(
                partition,
                from = *cursor + 1,
                to = first - 1,
                "ledger entries gone from the events stream before the notifier read them"
            );
            *cursor = first - 1;
            return Ok(true);
        }
        Err(error) => return Err(error.into()),
    };
    if entries.is_empty() {
        return Ok(false);
    }
    // Buyers of bookings come from the bookings projection: an entry waits until the
    // projection has applied it.
    let projected = store.projection_reached(partition).await?;
    for committed in &entries {
        if committed.seq <= *cursor {
            continue;
        }
        if !compose::is_news(&committed.events) {
            *cursor = committed.seq;
            continue;
        }
        if !compose::needs(&committed.events).bookings.is_empty() && projected < committed.seq {
            return Ok(false);
        }
        apply_entry(store, committed).await?;
        *cursor = committed.seq;
    }
    Ok(true)
}

/// Writes one entry's notifications and moves the cursor past it, in one transaction.
async fn apply_entry(store: &Store, committed: &Committed) -> Result<(), NotifierError> {
    let needs = compose::needs(&committed.events);
    let mut lookups = Lookups::default();
    for booking in needs.bookings {
        if let Some(buyer) = store.booking_buyer(booking.0 as i64).await? {
            lookups
                .buyers
                .insert(BookingId(booking.0), ActorId(buyer as u64));
        }
    }
    let joined = compose::joined(&committed.events);
    for entry in needs.entries {
        let buyer = match joined.iter().find(|(e, _)| *e == entry) {
            Some((_, buyer)) => Some(buyer.0 as i64),
            None => store.waitlist_entry_buyer(entry.0 as i64).await?,
        };
        if let Some(buyer) = buyer {
            lookups
                .entries
                .insert(WaitlistEntryId(entry.0), ActorId(buyer as u64));
        }
    }
    for performance in needs.performances {
        if let Some(title) = store.performance_title(performance.0 as i64).await? {
            lookups.titles.insert(PerformanceId(performance.0), title);
        }
    }
    let mut tx = store.begin().await?;
    // The recipients: buyers of bookings and entries, and offers' buyers named in the events.
    let mut recipients: Vec<u64> = lookups
        .buyers
        .values()
        .chain(lookups.entries.values())
        .map(|a| a.0)
        .collect();
    recipients.extend(committed.events.iter().filter_map(|event| match event {
        picket_ledger_core::Event::WaitlistOffered { buyer, .. } => Some(buyer.0),
        _ => None,
    }));
    lookups.recent = recent(&mut tx, &recipients, committed.at_ms).await?;
    for recipient in &recipients {
        if let Some(row) = choices_of(&mut tx, *recipient as i64).await? {
            lookups.choices.insert(
                *recipient,
                choices(Some(&row.language), Some(&row.channels)),
            );
        }
    }
    let notifications = compose::for_entry(
        Entry {
            partition: committed.partition,
            seq: committed.seq,
            at_ms: committed.at_ms,
            events: &committed.events,
        },
        &lookups,
    );
    write(&mut tx, &notifications).await?;
    for (entry, buyer) in joined {
        remember_waitlist_entry(&mut tx, entry.0 as i64, buyer.0 as i64).await?;
    }
    set_notifier_cursor(&mut tx, committed.partition, committed.seq).await?;
    tx.commit().await?;
    Ok(())
}

/// How many notifications each of `recipients` got within the rate window before `at_ms`.
async fn recent(
    conn: &mut sqlx::AnyConnection,
    recipients: &[u64],
    at_ms: u64,
) -> Result<BTreeMap<u64, u32>, sqlx::Error> {
    let (Some(low), Some(high)) = (recipients.iter().min(), recipients.iter().max()) else {
        return Ok(BTreeMap::new());
    };
    let since_ms = at_ms.saturating_sub(RATE_WINDOW_MS) as i64;
    let counts = recent_counts(conn, *low as i64, *high as i64, since_ms).await?;
    Ok(counts
        .into_iter()
        .map(|(account, count)| (account as u64, u32::try_from(count).unwrap_or(u32::MAX)))
        .collect())
}

/// Writes `notifications` in one go ([`insert_notifications`]: consecutive outbox sequences,
/// multi-row inserts, one inbox trim per batch).
async fn write(
    conn: &mut sqlx::AnyConnection,
    notifications: &[Notification],
) -> Result<(), sqlx::Error> {
    let data: Vec<String> = notifications
        .iter()
        .map(|n| serde_json::to_string(&n.data).expect("string maps encode"))
        .collect();
    let rows: Vec<NewNotification<'_>> = notifications
        .iter()
        .zip(&data)
        .map(|(notification, data)| NewNotification {
            id: &notification.id,
            account_id: notification.recipient as i64,
            kind: notification.kind.as_str(),
            created_at_ms: notification.created_at_ms as i64,
            title_ko: &notification.ko.title,
            body_ko: &notification.ko.body,
            title_en: &notification.en.title,
            body_en: &notification.en.body,
            data,
            push: notification.push,
            app: notification.app,
            language: notification.language.as_str(),
        })
        .collect();
    insert_notifications(conn, &rows).await?;
    Ok(())
}

/// Writes the interest alerts of shows published and not announced yet: from each show's
/// resume point (`notifier_announcing`), a batch of matching members per transaction that also
/// moves the resume point, and the show marked announced with its last batch. At most
/// [`ANNOUNCE_BATCHES_PER_ROUND_MAX`] batches per round, so a show matching a million members
/// does not keep the notifier from the ledger's entries meanwhile; `true` when it stopped there
/// with more to write.
async fn announce_published(store: &Store) -> Result<bool, NotifierError> {
    let mut batches = 0;
    for show in store.shows_to_announce(SHOWS_BATCH_MAX).await? {
        let published = Published {
            show: show.id as u64,
            title: show.title.clone(),
            published_at_ms: show.published_at_ms as u64,
        };
        let mut after = show.after_account;
        loop {
            if batches == ANNOUNCE_BATCHES_PER_ROUND_MAX {
                return Ok(true);
            }
            batches += 1;
            let members = store
                .members_interested(&show.category, &show.region, after, MEMBERS_BATCH_MAX)
                .await?;
            let last_batch = (members.len() as i64) < MEMBERS_BATCH_MAX;
            let mut tx = store.begin().await?;
            if let Some(&last) = members.last() {
                write_alerts(&mut tx, &published, &members).await?;
                move_announcing(&mut tx, show.id, last).await?;
                after = last;
            }
            if last_batch {
                mark_announced(&mut tx, show.id).await?;
            }
            tx.commit().await?;
            if last_batch {
                tracing::info!(show = show.id, "interest alerts written");
                break;
            }
        }
    }
    Ok(false)
}

/// Writes the interest alerts of `published` to `members` (a batch by ascending id), each with
/// the member's recent count and choices.
async fn write_alerts(
    conn: &mut sqlx::AnyConnection,
    published: &Published,
    members: &[i64],
) -> Result<(), sqlx::Error> {
    let (Some(&low), Some(&high)) = (members.first(), members.last()) else {
        return Ok(());
    };
    let members: Vec<u64> = members.iter().map(|m| *m as u64).collect();
    let recent = recent(conn, &members, published.published_at_ms).await?;
    let chosen = choices_between(conn, low, high)
        .await?
        .into_iter()
        .map(|row| {
            (
                row.account_id as u64,
                choices(Some(&row.language), Some(&row.channels)),
            )
        })
        .collect();
    write(
        conn,
        &compose::for_published(published, &members, &recent, &chosen),
    )
    .await
}

/// A member's choices as stored (none: the defaults).
fn choices(language: Option<&str>, channels: Option<&str>) -> Choices {
    Choices {
        language: match decode_language(language) {
            "en" => Language::En,
            _ => Language::Ko,
        },
        channels: decode_channels(channels)
            .into_iter()
            .filter_map(|(kind, chosen)| {
                Kind::parse(kind).map(|kind| {
                    (
                        kind,
                        Channels {
                            app: chosen.app,
                            push: chosen.push,
                        },
                    )
                })
            })
            .collect(),
    }
}

/// Writes the reminders due at `now_ms` (one batch of at most [`REMINDERS_BATCH_MAX`]) and marks
/// them sent for their openings, in one transaction; `true` when the batch was full and more
/// may be due. `now_ms` is an input so that tests drive it; [`round`] passes the wall clock.
pub async fn remind(store: &Store, now_ms: u64) -> Result<bool, NotifierError> {
    let rows = store
        .due_reminders(now_ms as i64, REMINDER_OFFSET_MS_MAX, REMINDERS_BATCH_MAX)
        .await?;
    if rows.is_empty() {
        return Ok(false);
    }
    let due: Vec<DueReminder> = rows
        .iter()
        .map(|row| DueReminder {
            member: row.account_id as u64,
            performance: row.performance_id as u64,
            show: row.show_id as u64,
            title: row.title.clone(),
            opening_at_ms: row.sale_open_at_ms as u64,
            offset_ms: row.offset_ms as u64,
            sent_for_ms: row.sent_for_ms.map(|at| at as u64),
        })
        .collect();
    let chosen: BTreeMap<u64, Choices> = rows
        .iter()
        .map(|row| {
            (
                row.account_id as u64,
                choices(row.language.as_deref(), row.channels.as_deref()),
            )
        })
        .collect();
    let members: Vec<u64> = due.iter().map(|r| r.member).collect();
    let mut tx = store.begin().await?;
    let recent = recent(&mut tx, &members, now_ms).await?;
    let reminded = compose::for_reminders(&due, now_ms, &recent, &chosen);
    write(&mut tx, &reminded.notifications).await?;
    for &index in &reminded.sent {
        let row = &rows[index];
        mark_reminder_sent(
            &mut tx,
            row.account_id,
            row.performance_id,
            row.offset_ms,
            row.sale_open_at_ms,
        )
        .await?;
    }
    tx.commit().await?;
    if !reminded.notifications.is_empty() {
        tracing::info!(written = reminded.notifications.len(), "reminders written");
    }
    Ok(rows.len() as i64 == REMINDERS_BATCH_MAX && !reminded.sent.is_empty())
}

/// Sends the sellers' notices asked to be sent to their bookers: pages through each notice's
/// bookings by (performance, booking), one batch of notifications per transaction with the
/// notice's cursor, at most [`NOTICE_BATCHES_PER_ROUND_MAX`] batches per round; a notice is done
/// once every booking was passed. `true` when a round stopped with more to send.
pub async fn send_notices(store: &Store) -> Result<bool, NotifierError> {
    let mut batches = 0;
    for row in store.notices_to_send(NOTICES_BATCH_MAX).await? {
        let notice = Notice {
            post: row.post_id as u64,
            show: row.show_id as u64,
            performance: row.performance_id.map(|p| p as u64),
            show_title: row.show_title.clone(),
            title: row.title.clone(),
            body: row.body.clone(),
            posted_at_ms: row.created_at_ms as u64,
        };
        let mut performances: Vec<i64> = match row.performance_id {
            Some(performance) => vec![performance],
            None => store
                .performances(row.show_id, false)
                .await?
                .into_iter()
                .map(|p| p.id)
                .collect(),
        };
        performances.sort_unstable();
        let (mut at_performance, mut after_booking) = (row.after_performance, row.after_booking);
        for performance in performances {
            if performance < at_performance {
                continue;
            }
            if performance > at_performance {
                at_performance = performance;
                after_booking = 0;
            }
            loop {
                if batches == NOTICE_BATCHES_PER_ROUND_MAX {
                    return Ok(true);
                }
                batches += 1;
                let page = store
                    .bookers_page(performance, after_booking, BOOKERS_BATCH_MAX)
                    .await?;
                let Some(last) = page.last().map(|b| b.booking) else {
                    break;
                };
                // A booking whose every place is cancelled has no booker any more.
                let live: Vec<_> = page
                    .iter()
                    .filter(|b| json_len(&b.cancelled) < json_len(&b.places))
                    .collect();
                let members: Vec<u64> = live.iter().map(|b| b.actor as u64).collect();
                let chosen: BTreeMap<u64, Choices> = live
                    .iter()
                    .map(|b| {
                        (
                            b.actor as u64,
                            choices(b.language.as_deref(), b.channels.as_deref()),
                        )
                    })
                    .collect();
                let mut tx = store.begin().await?;
                let recent = recent(&mut tx, &members, notice.posted_at_ms).await?;
                write(
                    &mut tx,
                    &compose::for_notice(&notice, &members, &recent, &chosen),
                )
                .await?;
                move_notice_send(&mut tx, row.post_id, performance, last, false).await?;
                tx.commit().await?;
                after_booking = last;
                if (page.len() as i64) < BOOKERS_BATCH_MAX {
                    break;
                }
            }
        }
        let mut conn = store.pool().acquire().await?;
        move_notice_send(&mut conn, row.post_id, at_performance, after_booking, true).await?;
        tracing::info!(post = row.post_id, "seller's notice sent to the bookers");
    }
    Ok(false)
}

/// Elements of a JSON array (0 for anything else).
fn json_len(text: &str) -> usize {
    serde_json::from_str::<Vec<serde_json::Value>>(text).map_or(0, |items| items.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kinds_are_the_ones_members_choose_channels_for() {
        let ours: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
        assert_eq!(ours, picket_api::notification_settings::KINDS);
    }

    #[test]
    fn stored_choices_become_the_cores() {
        let none = choices(None, None);
        assert_eq!(none.language, Language::Ko);
        assert!(
            Kind::ALL
                .iter()
                .all(|kind| none.channels(*kind) == Channels::default())
        );
        let chosen = choices(
            Some("en"),
            Some(r#"{"reminder": {"app": false, "push": true}}"#),
        );
        assert_eq!(chosen.language, Language::En);
        assert_eq!(
            chosen.channels(Kind::Reminder),
            Channels {
                app: false,
                push: true
            }
        );
        assert_eq!(chosen.channels(Kind::SellerNotice), Channels::default());
    }

    #[test]
    fn json_arrays_count_their_elements() {
        assert_eq!(json_len("[]"), 0);
        assert_eq!(json_len(r#"[1, {"Seat": 2}]"#), 2);
        assert_eq!(json_len("not json"), 0);
    }
}
