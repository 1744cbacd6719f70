//! Bookings as buyers see them: a projection of the ledger's committed events (written as the
//! API follows the ledger), a member's "my page", and guests' booking numbers with a lookup that
//! cannot be used to enumerate bookings.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use picket_gateway::token::Claims;
use picket_ledger_core::{Event, HoldId, PerformanceId, PerformanceSpec, Place};
use serde::Deserialize;
use sqlx::Row;

use crate::error::{ApiError, FieldError};
use crate::limit::Limiter;
use crate::{Api, Authenticated, JsonBody, Role, now_ms};

/// Guest lookups per booking number per minute (and at once), and for everyone together.
pub const LOOKUPS_PER_NUMBER_PER_MINUTE: u32 = 5;
pub const LOOKUPS_PER_MINUTE: u32 = 600;
/// Holds the projection remembers until they are paid, released or expire.
pub const OPEN_HOLDS_MAX: usize = 1_000_000;

/// What a paid booking needs from the hold it came from.
#[derive(Clone, Debug)]
struct OpenHold {
    buyer: u64,
    places: Vec<Place>,
}

/// The projection's memory of open holds, and the lookup limits.
pub struct Bookings {
    holds: Mutex<HashMap<(PerformanceId, HoldId), OpenHold>>,
    per_number: Limiter,
    everyone: Limiter,
}

impl Default for Bookings {
    fn default() -> Self {
        Bookings {
            holds: Mutex::new(HashMap::new()),
            per_number: Limiter::new(LOOKUPS_PER_NUMBER_PER_MINUTE, LOOKUPS_PER_NUMBER_PER_MINUTE),
            everyone: Limiter::new(LOOKUPS_PER_MINUTE, LOOKUPS_PER_MINUTE / 10),
        }
    }
}

/// Applies committed events to the projection.
pub async fn record(api: &Api, events: &[Event]) -> Result<(), ApiError> {
    for event in events {
        match event {
            Event::PlacesHeld {
                performance,
                hold,
                buyer,
                places,
                ..
            } => {
                let mut holds = api.bookings.holds.lock().unwrap_or_else(|p| p.into_inner());
                if holds.len() < OPEN_HOLDS_MAX {
                    holds.insert(
                        (*performance, *hold),
                        OpenHold {
                            buyer: buyer.0,
                            places: places.clone(),
                        },
                    );
                }
            }
            Event::HoldReleased {
                performance, hold, ..
            }
            | Event::HoldExpired {
                performance, hold, ..
            } => {
                api.bookings
                    .holds
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&(*performance, *hold));
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
                let open = api
                    .bookings
                    .holds
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(&(*performance, *hold));
                let Some(open) = open else { continue };
                insert_booking(
                    api,
                    performance.0,
                    booking.0,
                    first_ticket.0,
                    *paid_won,
                    *booked_at_ms,
                    &open,
                )
                .await?;
            }
            Event::TicketsCancelled {
                booking, tickets, ..
            } => {
                let cancelled: Option<String> =
                    sqlx::query_scalar("SELECT cancelled FROM bookings WHERE booking = $1")
                        .bind(booking.0 as i64)
                        .fetch_optional(api.store.pool())
                        .await?;
                let Some(cancelled) = cancelled else { continue };
                let mut ids: Vec<u64> = serde_json::from_str(&cancelled).unwrap_or_default();
                ids.extend(tickets.iter().map(|t| t.0));
                ids.sort_unstable();
                ids.dedup();
                sqlx::query("UPDATE bookings SET cancelled = $2 WHERE booking = $1")
                    .bind(booking.0 as i64)
                    .bind(serde_json::to_string(&ids).expect("ids encode"))
                    .execute(api.store.pool())
                    .await?;
            }
            _ => {}
        }
    }
    Ok(())
}

async fn insert_booking(
    api: &Api,
    performance: u64,
    booking: u64,
    first_ticket: u64,
    paid_won: u64,
    booked_at_ms: u64,
    open: &OpenHold,
) -> Result<(), ApiError> {
    // Actor ids use all 64 bits (guests have the top bit set); stored as the same bits.
    let actor = open.buyer as i64;
    let contact = sqlx::query("SELECT name, phone FROM guest_contacts WHERE actor = $1")
        .bind(actor)
        .fetch_optional(api.store.pool())
        .await?;
    let (number, name, phone) = match contact {
        Some(row) => (
            Some(format!("P{:010}", rand::random::<u64>() % 10_000_000_000)),
            Some(row.try_get::<String, _>(0)?),
            Some(row.try_get::<String, _>(1)?),
        ),
        None => (None, None, None),
    };
    sqlx::query(
        "INSERT INTO bookings (booking, performance, actor, number, name, phone, places, first_ticket, \
         paid_won, booked_at_ms, cancelled) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, '[]') \
         ON CONFLICT (booking) DO NOTHING",
    )
    .bind(booking as i64)
    .bind(performance as i64)
    .bind(actor)
    .bind(number)
    .bind(name)
    .bind(phone)
    .bind(serde_json::to_string(&open.places).expect("places encode"))
    .bind(first_ticket as i64)
    .bind(paid_won as i64)
    .bind(booked_at_ms as i64)
    .execute(api.store.pool())
    .await?;
    Ok(())
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
    let identity = picket_gateway::identity::guest(&device);
    Ok(picket_gateway::identity::actor_of(&identity).0 as i64)
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

/// A booking's view with what cancelling would cost now.
async fn booking_view(api: &Api, row: &sqlx::any::AnyRow) -> Result<serde_json::Value, ApiError> {
    let booking: i64 = row.try_get("booking")?;
    let performance: i64 = row.try_get("performance")?;
    let places: Vec<Place> =
        serde_json::from_str(&row.try_get::<String, _>("places")?).unwrap_or_default();
    let first_ticket: i64 = row.try_get("first_ticket")?;
    let cancelled: Vec<u64> =
        serde_json::from_str(&row.try_get::<String, _>("cancelled")?).unwrap_or_default();
    let booked_at_ms: i64 = row.try_get("booked_at_ms")?;
    let spec: Option<String> = sqlx::query_scalar("SELECT spec FROM performances WHERE id = $1")
        .bind(performance)
        .fetch_optional(api.store.pool())
        .await?
        .flatten();
    let spec: Option<PerformanceSpec> = spec.and_then(|s| serde_json::from_str(&s).ok());
    let now = now_ms();
    let tickets: Vec<serde_json::Value> = places
        .iter()
        .enumerate()
        .map(|(i, place)| {
            let ticket = first_ticket as u64 + i as u64;
            let (label, price) = match (place, &spec) {
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
            let fee = spec.as_ref().and_then(|s| {
                s.fees
                    .fee_won(price, booked_at_ms as u64, now, s.starts_at_ms)
            });
            serde_json::json!({"ticket": ticket, "place": label, "price_won": price,
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
        "SELECT booking, performance, number, places, first_ticket, paid_won, booked_at_ms, cancelled \
         FROM bookings WHERE actor = $1 ORDER BY booked_at_ms DESC, booking DESC LIMIT 200",
    )
    .bind(actor)
    .fetch_all(api.store.pool())
    .await?;
    let mut items = Vec::new();
    for row in &rows {
        items.push(booking_view(api, row).await?);
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
        "SELECT booking, performance, number, places, first_ticket, paid_won, booked_at_ms, cancelled \
         FROM bookings WHERE number = $1 AND phone = $2",
    )
    .bind(&number)
    .bind(&phone)
    .fetch_optional(api.store.pool())
    .await?;
    let Some(row) = row else {
        return Err(not_found);
    };
    Ok(Json(booking_view(&api, &row).await?).into_response())
}
