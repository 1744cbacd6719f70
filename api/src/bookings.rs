//! Bookings as buyers see them: a projection of the ledger's committed events, a member's "my
//! page", and guests' booking numbers with a lookup that cannot be used to enumerate bookings.
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

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use picket_edge::token::Claims;
use picket_ledger_client::{Committed, LedgerClient, ReadError};
use picket_ledger_core::{AppliedOffer, DiscountRule, Event, PerformanceSpec, Place};
use serde::Deserialize;
use sqlx::{AnyConnection, Row};
use tokio::sync::watch;

use crate::error::{ApiError, FieldError};
use crate::limit::Limiter;
use crate::{Api, Authenticated, JsonBody, Role, now_ms};

/// Guest lookups per booking number per minute (and at once), and for everyone together.
pub const LOOKUPS_PER_NUMBER_PER_MINUTE: u32 = 5;
pub const LOOKUPS_PER_MINUTE: u32 = 600;
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

/// The guest-lookup limits, and the switch that stops the API following the ledger.
pub struct Bookings {
    per_number: Limiter,
    everyone: Limiter,
    /// `true` tells the follower ([`crate::catalog::follow_ledger`]) to stop.
    stop: watch::Sender<bool>,
}

impl Default for Bookings {
    fn default() -> Self {
        Bookings {
            per_number: Limiter::new(LOOKUPS_PER_NUMBER_PER_MINUTE, LOOKUPS_PER_NUMBER_PER_MINUTE),
            everyone: Limiter::new(LOOKUPS_PER_MINUTE, LOOKUPS_PER_MINUTE / 10),
            stop: watch::channel(false).0,
        }
    }
}

impl Bookings {
    /// What the follower watches; it holds it until it has stopped.
    pub(crate) fn stop_signal(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }

    /// Stops following the ledger (this projection and the seats-left read model) and returns
    /// once the follower has stopped, between two transactions: the stored cursors are exactly
    /// where the projection is, and an API started later on the same database resumes there.
    pub async fn stop_following(&self) {
        self.stop.send_replace(true);
        self.stop.closed().await;
    }
}

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
        let moved = sqlx::query(
            "UPDATE projection_cursors SET seq = $2 WHERE ledger_partition = $1 AND seq = $3",
        )
        .bind(i64::from(partition))
        .bind(to as i64)
        .bind(cursor as i64)
        .execute(self.api.store.pool())
        .await?
        .rows_affected();
        let stored = if moved == 1 {
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
    sqlx::query(
        "INSERT INTO projection_cursors (ledger_partition, seq, open_holds) VALUES ($1, 0, 0) \
         ON CONFLICT (ledger_partition) DO NOTHING",
    )
    .bind(i64::from(partition))
    .execute(api.store.pool())
    .await?;
    let seq: i64 =
        sqlx::query_scalar("SELECT seq FROM projection_cursors WHERE ledger_partition = $1")
            .bind(i64::from(partition))
            .fetch_one(api.store.pool())
            .await?;
    Ok(seq as u64)
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
    let mut tx = api.store.pool().begin().await?;
    // Claiming first takes the cursor row's lock: followers of one partition take turns.
    let claimed = sqlx::query(
        "UPDATE projection_cursors SET seq = $2 WHERE ledger_partition = $1 AND seq = $3",
    )
    .bind(i64::from(partition))
    .bind(last as i64)
    .bind(after as i64)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if claimed != 1 {
        tx.rollback().await?;
        return stored_cursor(api, partition).await;
    }
    let mut holds = HoldCount::default();
    for entry in entries {
        for event in &entry.events {
            apply_event(&mut tx, event, &mut holds).await?;
        }
    }
    if holds.change != 0 {
        sqlx::query(
            "UPDATE projection_cursors SET open_holds = open_holds + $2 WHERE ledger_partition = $1",
        )
        .bind(i64::from(partition))
        .bind(holds.change)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(last)
}

/// Open holds: all partitions' stored count (read once per transaction, when needed) plus this
/// transaction's change to its partition's.
#[derive(Default)]
struct HoldCount {
    stored: Option<i64>,
    change: i64,
}

impl HoldCount {
    async fn total(&mut self, conn: &mut AnyConnection) -> Result<i64, ApiError> {
        let stored = match self.stored {
            Some(stored) => stored,
            None => {
                let stored: i64 = sqlx::query_scalar(
                    "SELECT CAST(COALESCE(SUM(open_holds), 0) AS BIGINT) FROM projection_cursors",
                )
                .fetch_one(&mut *conn)
                .await?;
                *self.stored.insert(stored)
            }
        };
        Ok(stored + self.change)
    }
}

/// Applies one committed event to the projection's rows.
async fn apply_event(
    conn: &mut AnyConnection,
    event: &Event,
    holds: &mut HoldCount,
) -> Result<(), ApiError> {
    match event {
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
            let inserted = sqlx::query(
                "INSERT INTO open_holds (performance, hold, buyer, places, held) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (performance, hold) DO NOTHING",
            )
            .bind(performance.0 as i64)
            .bind(hold.0 as i64)
            // Actor ids use all 64 bits (guests have the top bit set); stored as the same bits.
            .bind(buyer.0 as i64)
            .bind(serde_json::to_string(places).expect("places encode"))
            .bind(serde_json::to_string(event).expect("events encode"))
            .execute(&mut *conn)
            .await?
            .rows_affected();
            holds.change += inserted as i64;
        }
        Event::HoldReleased {
            performance, hold, ..
        }
        | Event::HoldExpired {
            performance, hold, ..
        } => {
            let removed =
                sqlx::query("DELETE FROM open_holds WHERE performance = $1 AND hold = $2")
                    .bind(performance.0 as i64)
                    .bind(hold.0 as i64)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
            holds.change -= removed as i64;
        }
        Event::BookingConfirmed {
            performance,
            hold,
            booking,
            first_ticket,
            paid_won,
            booked_at_ms,
            ..
        } => {
            let open = sqlx::query(
                "SELECT buyer, places, held FROM open_holds WHERE performance = $1 AND hold = $2",
            )
            .bind(performance.0 as i64)
            .bind(hold.0 as i64)
            .fetch_optional(&mut *conn)
            .await?;
            let Some(open) = open else {
                tracing::warn!(
                    performance = performance.0,
                    hold = hold.0,
                    booking = booking.0,
                    "bookings projection: a booking of a hold it does not know is not recorded"
                );
                return Ok(());
            };
            let removed =
                sqlx::query("DELETE FROM open_holds WHERE performance = $1 AND hold = $2")
                    .bind(performance.0 as i64)
                    .bind(hold.0 as i64)
                    .execute(&mut *conn)
                    .await?
                    .rows_affected();
            holds.change -= removed as i64;
            let paid = Paid {
                performance: performance.0 as i64,
                booking: booking.0 as i64,
                first_ticket: first_ticket.0 as i64,
                paid_won: *paid_won as i64,
                booked_at_ms: *booked_at_ms as i64,
                buyer: open.try_get("buyer")?,
                places: open.try_get("places")?,
                held: open.try_get("held")?,
            };
            insert_booking(conn, &paid).await?;
        }
        Event::TicketsCancelled {
            booking, tickets, ..
        } => {
            let cancelled: Option<String> =
                sqlx::query_scalar("SELECT cancelled FROM bookings WHERE booking = $1")
                    .bind(booking.0 as i64)
                    .fetch_optional(&mut *conn)
                    .await?;
            let Some(cancelled) = cancelled else {
                return Ok(());
            };
            let mut ids: Vec<u64> = serde_json::from_str(&cancelled).unwrap_or_default();
            ids.extend(tickets.iter().map(|t| t.0));
            ids.sort_unstable();
            ids.dedup();
            sqlx::query("UPDATE bookings SET cancelled = $2 WHERE booking = $1")
                .bind(booking.0 as i64)
                .bind(serde_json::to_string(&ids).expect("ids encode"))
                .execute(&mut *conn)
                .await?;
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
    booked_at_ms: i64,
    buyer: i64,
    /// JSON, as the hold stored them.
    places: String,
    held: String,
}

async fn insert_booking(conn: &mut AnyConnection, paid: &Paid) -> Result<(), ApiError> {
    let contact = sqlx::query("SELECT name, phone FROM guest_contacts WHERE actor = $1")
        .bind(paid.buyer)
        .fetch_optional(&mut *conn)
        .await?;
    let contact = match contact {
        Some(row) => Some((row.try_get::<String, _>(0)?, row.try_get::<String, _>(1)?)),
        None => None,
    };
    for _ in 0..BOOKING_NUMBER_ATTEMPTS_MAX {
        // Guests get a booking number; a number already taken is drawn again.
        let number = contact
            .as_ref()
            .map(|_| format!("P{:010}", rand::random::<u64>() % 10_000_000_000));
        let inserted = sqlx::query(
            "INSERT INTO bookings (booking, performance, actor, number, name, phone, places, \
             first_ticket, paid_won, booked_at_ms, cancelled, held) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, '[]', $11) ON CONFLICT DO NOTHING",
        )
        .bind(paid.booking)
        .bind(paid.performance)
        .bind(paid.buyer)
        .bind(number.as_deref())
        .bind(contact.as_ref().map(|(name, _)| name.as_str()))
        .bind(contact.as_ref().map(|(_, phone)| phone.as_str()))
        .bind(&paid.places)
        .bind(paid.first_ticket)
        .bind(paid.paid_won)
        .bind(paid.booked_at_ms)
        .bind(&paid.held)
        .execute(&mut *conn)
        .await?
        .rows_affected();
        if inserted == 1 || number.is_none() {
            return Ok(());
        }
        let recorded: Option<i64> =
            sqlx::query_scalar("SELECT booking FROM bookings WHERE booking = $1")
                .bind(paid.booking)
                .fetch_optional(&mut *conn)
                .await?;
        if recorded.is_some() {
            return Ok(());
        }
    }
    Err(ApiError::Internal(
        "no free guest booking number after several draws".into(),
    ))
}

/// Phone numbers compared by their digits only.
fn phone_digits(phone: &str) -> Option<String> {
    let allowed = phone
        .chars()
        .all(|c| c.is_ascii_digit() || c == '-' || c == '+' || c == ' ');
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    (allowed && (9..=20).contains(&digits.len())).then_some(digits)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ContactForm {
    pub name: String,
    pub phone: String,
}

/// The ledger actor of the guest whose token (issued by a gateway) is in `headers`.
fn guest_actor(api: &Api, headers: &HeaderMap) -> Result<i64, ApiError> {
    let token = crate::bearer(headers).ok_or(ApiError::Unauthenticated)?;
    let Ok(Claims::Guest { device, .. }) = api.keys.verify(token, now_ms()) else {
        return Err(ApiError::Unauthenticated);
    };
    let identity = picket_edge::identity::guest(&device);
    Ok(picket_edge::identity::actor_of(&identity).0 as i64)
}

/// `PUT /api/v1/guest/contact` with the guest token the gateway issued: the name and phone a
/// guest's next bookings are filed under.
pub async fn guest_contact(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    JsonBody(form): JsonBody<ContactForm>,
) -> Result<Response, ApiError> {
    let actor = guest_actor(&api, &headers)?;
    let mut errors = Vec::new();
    let name_len = form.name.trim().chars().count();
    if name_len == 0 || name_len > 50 {
        errors.push(FieldError {
            field: "name",
            message: "1 to 50 characters".into(),
        });
    }
    let phone = phone_digits(&form.phone);
    if phone.is_none() {
        errors.push(FieldError {
            field: "phone",
            message: "9 to 20 digits, e.g. 010-1234-5678".into(),
        });
    }
    let (Some(phone), true) = (phone, errors.is_empty()) else {
        return Err(ApiError::Invalid(errors));
    };
    sqlx::query(
        "INSERT INTO guest_contacts (actor, name, phone, updated_at_ms) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (actor) DO UPDATE SET name = EXCLUDED.name, phone = EXCLUDED.phone, \
         updated_at_ms = EXCLUDED.updated_at_ms",
    )
    .bind(actor)
    .bind(form.name.trim())
    .bind(&phone)
    .bind(now_ms() as i64)
    .execute(api.store.pool())
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// What each place of a paid hold cost and which offer reduced it, from the hold's
/// `PlacesHeld` event (kept with the booking). Holds without an offer paid the grade prices.
#[derive(Default)]
struct PaidPrices {
    prices_won: Vec<u64>,
    reduced: Vec<bool>,
    offer: Option<AppliedOffer>,
}

impl PaidPrices {
    fn of(held: Option<&str>) -> PaidPrices {
        match held.and_then(|h| serde_json::from_str::<Event>(h).ok()) {
            Some(Event::PlacesHeld {
                prices_won,
                reduced,
                offer,
                ..
            }) => PaidPrices {
                prices_won,
                reduced,
                offer,
            },
            _ => PaidPrices::default(),
        }
    }

    fn price_won(&self, place: usize) -> Option<u64> {
        self.prices_won.get(place).copied()
    }

    /// The discount on this place's ticket, as door staff see it.
    fn discount(&self, place: usize, spec: &PerformanceSpec) -> Option<serde_json::Value> {
        let Some(AppliedOffer::Discount(id)) = self.offer else {
            return None;
        };
        if !self.reduced.get(place).copied().unwrap_or(false) {
            return None;
        }
        let discount = spec.discounts.get(usize::from(id.0))?;
        let proof = matches!(discount.rule, DiscountRule::Eligibility { .. });
        Some(serde_json::json!({"id": id.0, "label": discount.label, "proof_at_entry": proof}))
    }
}

/// A published performance's spec (seat labels, grade prices, the fee schedule, offers).
async fn performance_spec(
    api: &Api,
    performance: i64,
) -> Result<Option<PerformanceSpec>, ApiError> {
    let spec: Option<String> = sqlx::query_scalar("SELECT spec FROM performances WHERE id = $1")
        .bind(performance)
        .fetch_optional(api.store.pool())
        .await?
        .flatten();
    Ok(spec.and_then(|s| serde_json::from_str(&s).ok()))
}

/// A booking's view with what cancelling would cost now; `spec` is its performance's.
fn booking_view(
    row: &sqlx::any::AnyRow,
    spec: Option<&PerformanceSpec>,
) -> Result<serde_json::Value, ApiError> {
    let booking: i64 = row.try_get("booking")?;
    let performance: i64 = row.try_get("performance")?;
    let places: Vec<Place> =
        serde_json::from_str(&row.try_get::<String, _>("places")?).unwrap_or_default();
    let first_ticket: i64 = row.try_get("first_ticket")?;
    let cancelled: Vec<u64> =
        serde_json::from_str(&row.try_get::<String, _>("cancelled")?).unwrap_or_default();
    let booked_at_ms: i64 = row.try_get("booked_at_ms")?;
    let paid = PaidPrices::of(row.try_get::<Option<String>, _>("held")?.as_deref());
    let now = now_ms();
    let tickets: Vec<serde_json::Value> = places
        .iter()
        .enumerate()
        .map(|(i, place)| {
            let ticket = first_ticket as u64 + i as u64;
            let (label, grade_price) = match (place, &spec) {
                (Place::Seat(seat), Some(spec)) => {
                    spec.seats
                        .get(seat.0 as usize)
                        .map_or((String::new(), 0), |s| {
                            (
                                format!("{} {}열 {}번", s.section, s.row, s.number),
                                spec.grades
                                    .get(s.grade.0 as usize)
                                    .map_or(0, |g| g.price_won),
                            )
                        })
                }
                (Place::Zone(zone), Some(spec)) => {
                    spec.zones
                        .get(zone.0 as usize)
                        .map_or((String::new(), 0), |z| {
                            (
                                z.name.clone(),
                                spec.grades
                                    .get(z.grade.0 as usize)
                                    .map_or(0, |g| g.price_won),
                            )
                        })
                }
                _ => (String::new(), 0),
            };
            let price = paid.price_won(i).unwrap_or(grade_price);
            let discount = spec.as_ref().and_then(|s| paid.discount(i, s));
            let fee = spec.as_ref().and_then(|s| {
                s.fees
                    .fee_won(price, booked_at_ms as u64, now, s.starts_at_ms)
            });
            serde_json::json!({"ticket": ticket, "place": label, "price_won": price,
                "discount": discount,
                "cancelled": cancelled.contains(&ticket), "cancellation_fee_now_won": fee})
        })
        .collect();
    Ok(serde_json::json!({
        "booking": booking, "performance": performance,
        "number": row.try_get::<Option<String>, _>("number")?,
        "paid_won": row.try_get::<i64, _>("paid_won")?, "booked_at_ms": booked_at_ms,
        "starts_at_ms": spec.as_ref().map(|s| s.starts_at_ms),
        "cancellation_deadline_ms": spec.as_ref().map(|s| s.fees.deadline_ms(s.starts_at_ms)),
        "tickets": tickets,
    }))
}

/// `GET /api/v1/me/bookings`: the member's bookings, newest first.
pub async fn my_bookings(
    State(api): State<Arc<Api>>,
    who: Authenticated,
) -> Result<Response, ApiError> {
    who.require(&[Role::Member])?;
    bookings_of(&api, who.account_id).await
}

/// `GET /api/v1/guest/bookings` with the guest token: the device's bookings and their numbers.
pub async fn guest_bookings(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let actor = guest_actor(&api, &headers)?;
    bookings_of(&api, actor).await
}

async fn bookings_of(api: &Api, actor: i64) -> Result<Response, ApiError> {
    let rows = sqlx::query(
        "SELECT booking, performance, number, places, first_ticket, paid_won, booked_at_ms, cancelled, held \
         FROM bookings WHERE actor = $1 ORDER BY booked_at_ms DESC, booking DESC LIMIT 200",
    )
    .bind(actor)
    .fetch_all(api.store.pool())
    .await?;
    // One spec read per performance, not per booking: a spec holds the whole seat map.
    let mut specs: HashMap<i64, Option<PerformanceSpec>> = HashMap::new();
    let mut items = Vec::new();
    for row in &rows {
        let performance: i64 = row.try_get("performance")?;
        if let std::collections::hash_map::Entry::Vacant(slot) = specs.entry(performance) {
            slot.insert(performance_spec(api, performance).await?);
        }
        items.push(booking_view(row, specs[&performance].as_ref())?);
    }
    Ok(Json(serde_json::json!({"items": items})).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupQuery {
    pub number: String,
    pub phone: String,
}

/// `GET /api/v1/guest-bookings?number=…&phone=…`: one guest booking. A wrong number and a wrong
/// phone get the same answer, and lookups are limited per number and overall, so bookings
/// cannot be found by guessing.
pub async fn guest_lookup(
    State(api): State<Arc<Api>>,
    Query(query): Query<LookupQuery>,
) -> Result<Response, ApiError> {
    let now = now_ms();
    let number = query.number.trim().to_uppercase();
    let limited = |retry_ms: u64| ApiError::TooManyAttempts {
        retry_after_s: retry_ms.div_ceil(1_000),
    };
    api.bookings.everyone.check("all", now).map_err(limited)?;
    api.bookings
        .per_number
        .check(&number, now)
        .map_err(limited)?;
    let not_found = ApiError::NotFound("booking with this number and phone");
    let Some(phone) = phone_digits(&query.phone) else {
        return Err(not_found);
    };
    let row = sqlx::query(
        "SELECT booking, performance, number, places, first_ticket, paid_won, booked_at_ms, cancelled, held \
         FROM bookings WHERE number = $1 AND phone = $2",
    )
    .bind(&number)
    .bind(&phone)
    .fetch_optional(api.store.pool())
    .await?;
    let Some(row) = row else {
        return Err(not_found);
    };
    let spec = performance_spec(&api, row.try_get("performance")?).await?;
    Ok(Json(booking_view(&row, spec.as_ref())?).into_response())
}
