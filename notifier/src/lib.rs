//! The notifier (DESIGN.md "notifier"): follows the ledger's committed entries and the
//! catalog's published shows and writes what they mean for people into their inboxes (the
//! API's `notifications` table, read through `GET /api/v2/me/notifications`).
//!
//! - [`push`] sends one Web Push message (RFC 8030, VAPID, RFC 8291 encryption) and makes a
//!   notification's push payload; the delivery loop calls it.
//! - [`compose`] is the pure core: an input and what was looked up become notifications with
//!   ids derived from the input, so a redelivered input writes nothing new.
//! - This file is the shell. Per ledger partition it keeps a cursor (`notifier_cursors`): the
//!   last entry whose notifications are written. It reads on from it with
//!   [`LedgerClient::entries_after`] (the journal in process, the partition's JetStream events
//!   stream over NATS) and moves it in the same transaction as the inbox rows, so a notifier
//!   stopped anywhere resumes where it stopped: nothing lost, and nothing shown twice (the rows'
//!   ids make a replayed entry a no-op). Published shows are announced once each
//!   (`notifier_announced`, marked after every matching member's alert is written). The
//!   ledger's subscription only wakes it up early; it also looks every [`POLL_INTERVAL`].
//!
//! The notifier never writes to the ledger: it only reads entries and the API's store.

pub mod compose;
pub mod push;

use std::collections::BTreeMap;
use std::time::Duration;

use picket_api::store::Store;
use picket_api::store::notifications::{
    NewNotification, insert_notification, recent_counts, remember_waitlist_entry,
    set_notifier_cursor,
};
use picket_ledger_client::{Committed, LedgerClient, ReadError};
use picket_ledger_core::{ActorId, BookingId, PerformanceId, WaitlistEntryId};
use tokio::sync::watch;

use crate::compose::{Entry, Lookups, Notification, Published, RATE_WINDOW_MS};

/// How often the notifier looks for new entries and published shows without being woken.
pub const POLL_INTERVAL: Duration = Duration::from_millis(500);
/// Wait after a failed round before the next.
pub const RETRY_DELAY: Duration = Duration::from_secs(1);
/// Ledger entries read per request while catching up.
pub const ENTRIES_BATCH_MAX: u32 = 256;
/// Members whose interest alerts are composed and written per transaction.
pub const MEMBERS_BATCH_MAX: i64 = 500;
/// Published shows announced per round.
pub const SHOWS_BATCH_MAX: i64 = 16;
/// Batches of entries read per partition per round, so a partition that never runs dry (a
/// ticket opening) does not keep the notifier from the other partitions, the catalog and a stop.
pub const ROUND_BATCHES_MAX: usize = 8;

/// Why a round of the notifier failed; it is logged and the round is tried again.
#[derive(Debug, thiserror::Error)]
pub enum NotifierError {
    #[error("the store failed: {0}")]
    Store(#[from] sqlx::Error),
    #[error("the ledger's entries cannot be read: {0}")]
    Ledger(#[from] ReadError),
}

/// What the notifier follows.
#[derive(Clone, Debug)]
pub struct NotifierConfig {
    /// The ledger's partitions (one in process; the bus's over NATS).
    pub partitions: Vec<u16>,
}

/// Follows the ledger and the catalog into the inbox until `stop` turns true.
pub async fn run(
    store: Store,
    ledger: LedgerClient,
    config: NotifierConfig,
    mut stop: watch::Receiver<bool>,
) {
    tracing::info!(partitions = ?config.partitions, "notifier started");
    let mut wake = ledger.subscribe().await.ok().map(|s| s.events);
    loop {
        if *stop.borrow() {
            return;
        }
        let delay = match round(&store, &ledger, &config).await {
            // More is waiting: only look at `stop` first.
            Ok(true) => Duration::ZERO,
            Ok(false) => POLL_INTERVAL,
            Err(error) => {
                tracing::warn!(%error, "notifier round failed; trying again");
                RETRY_DELAY
            }
        };
        tokio::select! {
            _ = stop.changed() => {}
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
) -> Result<bool, NotifierError> {
    let mut more = false;
    for &partition in &config.partitions {
        more |= follow_partition(store, ledger, partition).await?;
    }
    announce_published(store).await?;
    Ok(more)
}

/// Writes the notifications of the partition's entries after the cursor, until none is left,
/// [`ROUND_BATCHES_MAX`] batches were read, or the bookings projection has not reached an entry
/// that needs it. Entries that are no news move the cursor without a write of their own. `true`
/// when it stopped at [`ROUND_BATCHES_MAX`] with more to read.
async fn follow_partition(
    store: &Store,
    ledger: &LedgerClient,
    partition: u16,
) -> Result<bool, NotifierError> {
    let stored = store.notifier_cursor(partition).await?;
    let mut cursor = stored;
    let mut outcome = Ok(true);
    for _ in 0..ROUND_BATCHES_MAX {
        match follow_batch(store, ledger, partition, &mut cursor).await {
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
    outcome
}

/// One batch of [`follow_partition`]: `true` when more may follow.
async fn follow_batch(
    store: &Store,
    ledger: &LedgerClient,
    partition: u16,
    cursor: &mut u64,
) -> Result<bool, NotifierError> {
    let entries = match ledger
        .entries_after(partition, *cursor, ENTRIES_BATCH_MAX)
        .await
    {
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

async fn write(
    conn: &mut sqlx::AnyConnection,
    notifications: &[Notification],
) -> Result<(), sqlx::Error> {
    for notification in notifications {
        let data = serde_json::to_string(&notification.data).expect("string maps encode");
        insert_notification(
            conn,
            &NewNotification {
                id: &notification.id,
                account_id: notification.recipient as i64,
                kind: notification.kind.as_str(),
                created_at_ms: notification.created_at_ms as i64,
                title_ko: &notification.ko.title,
                body_ko: &notification.ko.body,
                title_en: &notification.en.title,
                body_en: &notification.en.body,
                data: &data,
                push: notification.push,
            },
        )
        .await?;
    }
    Ok(())
}

/// Writes the interest alerts of shows published and not announced yet, a batch of members per
/// transaction, then marks each show announced.
async fn announce_published(store: &Store) -> Result<(), NotifierError> {
    for (show, title, category, region, published_at_ms) in
        store.shows_to_announce(SHOWS_BATCH_MAX).await?
    {
        let published = Published {
            show: show as u64,
            title,
            published_at_ms: published_at_ms as u64,
        };
        let mut after = 0;
        loop {
            let members = store
                .members_interested(&category, &region, after, MEMBERS_BATCH_MAX)
                .await?;
            let Some(&last) = members.last() else {
                break;
            };
            let members: Vec<u64> = members.iter().map(|m| *m as u64).collect();
            let mut tx = store.begin().await?;
            let recent = recent(&mut tx, &members, published.published_at_ms).await?;
            write(
                &mut tx,
                &compose::for_published(&published, &members, &recent),
            )
            .await?;
            tx.commit().await?;
            after = last;
        }
        store.mark_announced(show).await?;
        tracing::info!(show, "interest alerts written");
    }
    Ok(())
}
