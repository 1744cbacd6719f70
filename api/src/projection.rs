//! The bookings projection: bookings as buyers see them, from the ledger's committed events.
//!
//! The projection keeps its place per ledger partition in `projection_cursors`: the last journal
//! sequence it applied, moved in the same transaction as the rows that entry changed (a batch of
//! consecutive entries per transaction). An entry is claimed by moving the cursor from the seq
//! just before it, so it is applied exactly once even when several API processes follow the
//! same ledger, or the same entry arrives twice. On every (re)subscription the projection first
//! reads what the ledger committed after its cursors ([`LedgerClient::entries_after`]) up to
//! where the live entries start; a live entry after a gap triggers the same catch-up first. Open
//! holds (what a later payment needs) are rows in `open_holds`, so a hold made before a restart
//! is paid after it.
//! Its rows and their SQL are in `store/bookings.rs`; `follow.rs` feeds it.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use picket_ledger_client::{Committed, LedgerClient, ReadError};
use picket_ledger_core::Event;
use sqlx::AnyConnection;

use crate::error::ApiError;
use crate::state::Api;
use crate::store::bookings::{self as rows, NewBooking, OpenHold};
use crate::store::transfers::{NewTransfer, record_transfer};

/// Holds the projection remembers (in `open_holds`) until they are paid, released or expire. A
/// hold beyond it is not remembered, and its booking is not recorded (logged).
pub const OPEN_HOLDS_MAX: usize = 1_000_000;
/// Consecutive ledger entries the projection applies in one transaction (and reads per page
/// while catching up).
pub const PROJECTION_BATCH_MAX: usize = 256;
/// How long catching up waits for entries committed but not readable yet (over NATS the events
/// stream trails the journal by a publish) before leaving them to the live entries' gap check.
pub const CATCH_UP_WAIT_MAX: Duration = Duration::from_secs(2);
const CATCH_UP_RETRY_DELAY: Duration = Duration::from_millis(50);
/// Draws of a random guest booking number before giving up on a batch (it is retried).
const BOOKING_NUMBER_ATTEMPTS_MAX: usize = 8;

/// Why the projection could not apply entries; the follower subscribes again and catches up.
#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("the bookings projection's store failed: {0}")]
    Store(#[from] ApiError),
    #[error("the ledger's past entries cannot be read: {0}")]
    Ledger(#[from] ReadError),
    #[error("partition {partition}: entries after {after} up to {until} cannot be read yet")]
    Unreadable {
        partition: u16,
        after: u64,
        until: u64,
    },
}

/// One follower's run of the projection: where it is in each partition (as stored).
pub struct Projection<'a> {
    api: &'a Api,
    ledger: &'a LedgerClient,
    cursors: BTreeMap<u16, u64>,
}

impl<'a> Projection<'a> {
    /// Loads the stored cursors of the subscription's partitions and applies, in order, what
    /// each committed after its cursor up to where the subscription's live entries start.
    pub async fn start(
        api: &'a Api,
        ledger: &'a LedgerClient,
        partitions: &[(u16, u64)],
    ) -> Result<Projection<'a>, ProjectionError> {
        let mut projection = Projection {
            api,
            ledger,
            cursors: BTreeMap::new(),
        };
        for &(partition, start) in partitions {
            // The cursor may already be past `start`: another API process applied live entries
            // meanwhile. Catching up then has nothing to do.
            let cursor = stored_cursor(api, partition).await?;
            projection.cursors.insert(partition, cursor);
            projection
                .catch_up(partition, start, CATCH_UP_WAIT_MAX)
                .await?;
        }
        Ok(projection)
    }

    /// Where the projection is in `partition`.
    pub fn cursor(&self, partition: u16) -> u64 {
        self.cursors.get(&partition).copied().unwrap_or(0)
    }

    /// Applies live entries (any partitions, each partition's in order): entries at or before
    /// the cursor are skipped (already applied), a gap before an entry is caught up first.
    pub async fn apply(&mut self, entries: &[Arc<Committed>]) -> Result<(), ProjectionError> {
        let mut by_partition: BTreeMap<u16, Vec<&Committed>> = BTreeMap::new();
        for entry in entries {
            by_partition.entry(entry.partition).or_default().push(entry);
        }
        for (partition, entries) in by_partition {
            self.apply_partition(partition, entries).await?;
        }
        Ok(())
    }

    async fn apply_partition(
        &mut self,
        partition: u16,
        mut rest: Vec<&Committed>,
    ) -> Result<(), ProjectionError> {
        if !self.cursors.contains_key(&partition) {
            let stored = stored_cursor(self.api, partition).await?;
            self.cursors.insert(partition, stored);
        }
        loop {
            let cursor = self.cursor(partition);
            rest.retain(|entry| entry.seq > cursor);
            let Some(first) = rest.first().map(|entry| entry.seq) else {
                return Ok(());
            };
            if first > cursor + 1 {
                self.catch_up(partition, first - 1, CATCH_UP_WAIT_MAX)
                    .await?;
                let reached = self.cursor(partition);
                if reached < first - 1 {
                    return Err(ProjectionError::Unreadable {
                        partition,
                        after: reached,
                        until: first - 1,
                    });
                }
                continue;
            }
            self.apply_run(partition, &rest).await?;
        }
    }

    /// Reads and applies the entries after the cursor up to `until`, waiting up to `wait` for
    /// entries not readable yet. Entries the ledger no longer has are skipped with a warning.
    async fn catch_up(
        &mut self,
        partition: u16,
        until: u64,
        wait: Duration,
    ) -> Result<(), ProjectionError> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let cursor = self.cursor(partition);
            if cursor >= until {
                return Ok(());
            }
            let want = (until - cursor).min(PROJECTION_BATCH_MAX as u64) as u32;
            let page = match self.ledger.entries_after(partition, cursor, want).await {
                Ok(page) => page,
                Err(ReadError::Gone { first, .. }) => {
                    self.skip_lost(partition, cursor, first - 1).await?;
                    continue;
                }
                Err(error) => return Err(error.into()),
            };
            let page: Vec<&Committed> = page.iter().filter(|entry| entry.seq <= until).collect();
            if page.is_empty() {
                if tokio::time::Instant::now() >= deadline {
                    tracing::debug!(partition, cursor, until, "entries not readable yet");
                    return Ok(());
                }
                tokio::time::sleep(CATCH_UP_RETRY_DELAY).await;
                continue;
            }
            self.apply_run(partition, &page).await?;
        }
    }

    /// Applies the consecutive entries at the head of `entries` (the first must follow the
    /// cursor) in one transaction, at most [`PROJECTION_BATCH_MAX`] of them.
    async fn apply_run(
        &mut self,
        partition: u16,
        entries: &[&Committed],
    ) -> Result<(), ProjectionError> {
        let cursor = self.cursor(partition);
        let run = entries
            .iter()
            .take(PROJECTION_BATCH_MAX)
            .enumerate()
            .take_while(|(i, entry)| entry.seq == cursor + 1 + *i as u64)
            .count();
        if run == 0 {
            return Err(ProjectionError::Unreadable {
                partition,
                after: cursor,
                until: entries.first().map_or(cursor, |entry| entry.seq),
            });
        }
        let stored = record(self.api, partition, cursor, &entries[..run]).await?;
        self.cursors.insert(partition, stored);
        Ok(())
    }

    /// The ledger no longer has the entries after `cursor` up to `to` (the events stream's
    /// retention dropped them): bookings committed in them cannot be recorded. Says so loudly and
    /// moves on, rather than stopping the projection for good.
    async fn skip_lost(&mut self, partition: u16, cursor: u64, to: u64) -> Result<(), ApiError> {
        tracing::warn!(
            partition,
            from = cursor + 1,
            to,
            "bookings projection: the ledger's events stream no longer has these entries; \
             bookings committed in them are missing from my page"
        );
        let stored = if self
            .api
            .store
            .move_projection_cursor(partition, cursor, to)
            .await?
        {
            to
        } else {
            stored_cursor(self.api, partition).await?
        };
        self.cursors.insert(partition, stored);
        Ok(())
    }
}

/// The stored cursor of `partition` (0, stored, when there is none yet).
async fn stored_cursor(api: &Api, partition: u16) -> Result<u64, ApiError> {
    Ok(api.store.projection_cursor(partition).await?)
}

/// Applies consecutive entries of `partition` that follow `after`, in one transaction that
/// also moves the cursor from `after` to the last of them. Returns the stored cursor: the last
/// entry's seq, or, when the cursor was no longer `after` (another follower moved it), where
/// it is, with nothing applied.
async fn record(
    api: &Api,
    partition: u16,
    after: u64,
    entries: &[&Committed],
) -> Result<u64, ApiError> {
    let Some(last) = entries.last().map(|entry| entry.seq) else {
        return Ok(after);
    };
    // The open holds these entries should add: counted with the claim (the same row), so most
    // transactions need no second update of it.
    let expected = expected_hold_change(entries);
    let mut tx = api.store.begin().await?;
    // Claiming first takes the cursor row's lock: followers of one partition take turns.
    if !rows::claim_cursor_counting(&mut tx, partition, after, last, expected).await? {
        // Another follower moved the cursor (this claim waited for its commit): where it is now,
        // read in this transaction (it exists: it was stored before `after` was known).
        let stored = rows::cursor_seq(&mut tx, partition).await?;
        tx.rollback().await?;
        return match stored {
            Some(stored) => Ok(stored),
            None => stored_cursor(api, partition).await,
        };
    }
    let mut holds = HoldCount {
        claimed: expected,
        ..HoldCount::default()
    };
    for entry in entries {
        for event in &entry.events {
            apply_event(&mut tx, event, entry.at_ms, &mut holds).await?;
        }
    }
    // A hold not remembered (past the bound, or applied twice) or a release of one never
    // remembered: the count the claim added was off, and is corrected.
    if holds.change != expected {
        rows::add_open_holds(&mut tx, partition, holds.change - expected).await?;
    }
    tx.commit().await?;
    Ok(last)
}

/// How `entries` change the open holds when every hold they make is remembered and every hold
/// they end was: one more per `PlacesHeld`, one fewer per release, expiry or booking.
fn expected_hold_change(entries: &[&Committed]) -> i64 {
    entries
        .iter()
        .flat_map(|entry| &entry.events)
        .map(|event| match event {
            Event::PlacesHeld { .. } => 1,
            Event::HoldReleased { .. }
            | Event::HoldExpired { .. }
            | Event::BookingConfirmed { .. } => -1,
            _ => 0,
        })
        .sum()
}

/// Open holds: all partitions' stored count (read once per transaction, when needed), less what
/// the claim already added to this partition's (`claimed`), plus this transaction's change.
#[derive(Default)]
struct HoldCount {
    stored: Option<i64>,
    claimed: i64,
    change: i64,
}

impl HoldCount {
    async fn total(&mut self, conn: &mut AnyConnection) -> Result<i64, ApiError> {
        let stored = match self.stored {
            Some(stored) => stored,
            None => {
                let stored = rows::open_holds_total(conn).await?;
                *self.stored.insert(stored)
            }
        };
        Ok(stored - self.claimed + self.change)
    }
}

/// Applies one committed event (of an entry committed at `at_ms`) to the projection's rows.
async fn apply_event(
    conn: &mut AnyConnection,
    event: &Event,
    at_ms: u64,
    holds: &mut HoldCount,
) -> Result<(), ApiError> {
    match event {
        // What my page shows of a booking (seat labels, prices, the start, the fee schedule)
        // comes from the spec the ledger sells under, whichever route opened the performance.
        Event::PerformanceOpened(spec) => {
            let json = serde_json::to_string(spec).expect("specs encode");
            rows::record_ledger_spec(conn, spec.performance.0 as i64, &json).await?;
        }
        Event::PlacesHeld {
            performance,
            hold,
            buyer,
            places,
            ..
        } => {
            if holds.total(conn).await? >= OPEN_HOLDS_MAX as i64 {
                tracing::warn!(
                    performance = performance.0,
                    hold = hold.0,
                    "bookings projection: OPEN_HOLDS_MAX open holds; this hold's booking will not be recorded"
                );
                return Ok(());
            }
            let held = OpenHold {
                // Actor ids use all 64 bits (guests have the top bit set); stored as the same
                // bits.
                buyer: buyer.0 as i64,
                places: serde_json::to_string(places).expect("places encode"),
                held: serde_json::to_string(event).expect("events encode"),
            };
            let inserted =
                rows::insert_open_hold(conn, performance.0 as i64, hold.0 as i64, &held).await?;
            holds.change += i64::from(inserted);
        }
        Event::HoldReleased {
            performance, hold, ..
        }
        | Event::HoldExpired {
            performance, hold, ..
        } => {
            let removed = rows::remove_open_hold(conn, performance.0 as i64, hold.0 as i64).await?;
            holds.change -= i64::from(removed);
        }
        Event::BookingConfirmed {
            performance,
            hold,
            booking,
            first_ticket,
            paid_won,
            booked_at_ms,
            booking_fee_won,
            ..
        } => {
            let open = rows::take_open_hold(conn, performance.0 as i64, hold.0 as i64).await?;
            let Some(open) = open else {
                tracing::warn!(
                    performance = performance.0,
                    hold = hold.0,
                    booking = booking.0,
                    "bookings projection: a booking of a hold it does not know is not recorded"
                );
                return Ok(());
            };
            holds.change -= 1;
            let paid = Paid {
                performance: performance.0 as i64,
                booking: booking.0 as i64,
                first_ticket: first_ticket.0 as i64,
                paid_won: *paid_won as i64,
                booking_fees_won: *booking_fee_won as i64,
                booked_at_ms: *booked_at_ms as i64,
                buyer: open.buyer,
                places: open.places,
                held: open.held,
            };
            insert_booking(conn, &paid).await?;
        }
        Event::TicketsCancelled {
            booking,
            tickets,
            refund_won,
            fee_won,
            booking_fee_refunded_won,
            ..
        } => {
            let Some(cancelled) = rows::cancelled_tickets(conn, booking.0 as i64).await? else {
                return Ok(());
            };
            let mut ids: Vec<u64> = serde_json::from_str(&cancelled).unwrap_or_default();
            ids.extend(tickets.iter().map(|t| t.0));
            ids.sort_unstable();
            ids.dedup();
            let ids = serde_json::to_string(&ids).expect("ids encode");
            rows::set_cancelled_tickets(conn, booking.0 as i64, &ids).await?;
            let money = rows::CancelledMoney {
                refunded_won: *refund_won as i64,
                fees_won: *fee_won as i64,
                booking_fee_refunded_won: *booking_fee_refunded_won as i64,
            };
            rows::add_cancelled_money(conn, booking.0 as i64, &money).await?;
        }
        // Who holds a ticket now ("my tickets") and whom it was given to ("my bookings").
        Event::TicketTransferred {
            performance,
            ticket,
            from,
            to,
            generation,
        } => {
            let transfer = NewTransfer {
                ticket: ticket.0 as i64,
                generation: i64::from(*generation),
                performance: performance.0 as i64,
                // Actor ids as the same 64 bits, like a booking's buyer.
                from_actor: from.0 as i64,
                to_actor: to.0 as i64,
                at_ms: at_ms as i64,
            };
            record_transfer(conn, &transfer).await?;
        }
        _ => {}
    }
    Ok(())
}

/// A paid booking with what it needs from its hold (as stored in `open_holds`).
struct Paid {
    performance: i64,
    booking: i64,
    first_ticket: i64,
    paid_won: i64,
    /// The booking fees in `paid_won`.
    booking_fees_won: i64,
    booked_at_ms: i64,
    buyer: i64,
    /// JSON, as the hold stored them.
    places: String,
    held: String,
}

async fn insert_booking(conn: &mut AnyConnection, paid: &Paid) -> Result<(), ApiError> {
    for _ in 0..BOOKING_NUMBER_ATTEMPTS_MAX {
        // A guest's booking (one with a contact) gets this number; a number already taken is
        // drawn again. Drawn for every booking: the store finds the contact in the insert.
        let number = format!("P{:010}", rand::random::<u64>() % 10_000_000_000);
        let booking = NewBooking {
            booking: paid.booking,
            performance: paid.performance,
            actor: paid.buyer,
            number: &number,
            places: &paid.places,
            first_ticket: paid.first_ticket,
            paid_won: paid.paid_won,
            booking_fees_won: paid.booking_fees_won,
            booked_at_ms: paid.booked_at_ms,
            held: &paid.held,
        };
        if rows::insert_booking(conn, &booking).await? {
            return Ok(());
        }
        // Not inserted: the booking is recorded already (applied twice), or its number is taken.
        if rows::booking_recorded(conn, paid.booking).await? {
            return Ok(());
        }
    }
    Err(ApiError::Internal(
        "no free guest booking number after several draws".into(),
    ))
}
