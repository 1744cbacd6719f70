//! Bookings as buyers see them: a member's "my page", and guests' booking numbers with a
//! lookup that cannot be used to enumerate bookings. The rows come from the bookings projection
//! (`projection.rs`).

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use picket_ledger_core::{AppliedOffer, DiscountRule, Event, PerformanceSpec, Place};
use serde::Deserialize;

use crate::accounts::NAME_LEN_MAX;
use crate::auth::{Authenticated, Role, guest_actor};
use crate::client::ClientAddress;
use crate::error::{ApiError, FieldError};
use crate::holdings::{Handover, holdings};
use crate::json::{JsonBody, Query};
use crate::state::{Api, now_ms};
use crate::store::bookings::BookingRow;
use picket_edge::id::Id;

pub use crate::projection::{
    CATCH_UP_WAIT_MAX, OPEN_HOLDS_MAX, PROJECTION_BATCH_MAX, Projection, ProjectionError,
};
pub use crate::state::{
    Bookings, LOOKUP_FAILURES_FREE, LOOKUPS_PER_ADDRESS_BURST, LOOKUPS_PER_ADDRESS_PER_MINUTE,
    LOOKUPS_PER_MINUTE,
};

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

/// `PUT /api/v2/guest/contact` with the guest token the gateway issued: the name and phone a
/// guest's next bookings are filed under.
pub async fn guest_contact(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    JsonBody(form): JsonBody<ContactForm>,
) -> Result<Response, ApiError> {
    let actor = guest_actor(&api, &headers)?;
    let mut errors = Vec::new();
    if !crate::venues::text_ok(&form.name, NAME_LEN_MAX) {
        errors.push(FieldError {
            field: "name",
            message: format!("1 to {NAME_LEN_MAX} characters"),
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
    api.store
        .set_guest_contact(actor, form.name.trim(), &phone, now_ms() as i64)
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

/// A performance's spec (seat labels, grade prices, the fee schedule, offers): the one the
/// ledger opened it with (the projection keeps it), else the catalog's, for performances opened
/// before the projection kept specs. A performance opened through the operator route has only
/// the ledger's.
pub(crate) async fn performance_spec(
    api: &Api,
    performance: i64,
) -> Result<Option<PerformanceSpec>, ApiError> {
    let parse = |spec: Option<String>| spec.and_then(|s| serde_json::from_str(&s).ok());
    if let Some(spec) = parse(api.store.ledger_spec(performance).await?) {
        return Ok(Some(spec));
    }
    Ok(parse(api.store.performance_spec(performance).await?))
}

/// A booking's view with what cancelling would cost now; `spec` is its performance's, `given`
/// the tickets the buyer gave to other members (whom to, when).
fn booking_view(
    row: &BookingRow,
    spec: Option<&PerformanceSpec>,
    given: &BTreeMap<i64, Handover>,
) -> serde_json::Value {
    let booking = row.booking;
    let performance = row.performance;
    let places: Vec<Place> = serde_json::from_str(&row.places).unwrap_or_default();
    let first_ticket = row.first_ticket;
    let cancelled: Vec<u64> = serde_json::from_str(&row.cancelled).unwrap_or_default();
    let booked_at_ms = row.booked_at_ms;
    let paid = PaidPrices::of(row.held.as_deref());
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
            let transferred_to = given.get(&(ticket as i64)).map(Handover::json);
            serde_json::json!({"ticket": Id(ticket), "place": label, "price_won": price,
                "discount": discount,
                "cancelled": cancelled.contains(&ticket), "cancellation_fee_now_won": fee,
                "transferred_to": transferred_to})
        })
        .collect();
    serde_json::json!({
        "booking": Id(booking as u64), "performance": Id(performance as u64),
        "number": row.number,
        "paid_won": row.paid_won, "booked_at_ms": booked_at_ms,
        "starts_at_ms": spec.as_ref().map(|s| s.starts_at_ms),
        "cancellation_deadline_ms": spec.as_ref().map(|s| s.fees.deadline_ms(s.starts_at_ms)),
        "tickets": tickets,
    })
}

/// `GET /api/v2/me/bookings`: the member's bookings, newest first.
pub async fn my_bookings(
    State(api): State<Arc<Api>>,
    who: Authenticated,
) -> Result<Response, ApiError> {
    who.require(&[Role::Member])?;
    // Only members give tickets away.
    let transfers = api.store.transfers_touching(who.account_id).await?;
    let given = holdings(who.account_id, &transfers).given;
    bookings_of(&api, who.account_id, &given).await
}

/// `GET /api/v2/guest/bookings` with the guest token: the device's bookings and their numbers.
pub async fn guest_bookings(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let actor = guest_actor(&api, &headers)?;
    bookings_of(&api, actor, &BTreeMap::new()).await
}

async fn bookings_of(
    api: &Api,
    actor: i64,
    given: &BTreeMap<i64, Handover>,
) -> Result<Response, ApiError> {
    let rows = api.store.bookings_of(actor).await?;
    // One spec read per performance, not per booking: a spec holds the whole seat map.
    let mut specs: HashMap<i64, Option<PerformanceSpec>> = HashMap::new();
    let mut items = Vec::new();
    for row in &rows {
        let performance = row.performance;
        if let std::collections::hash_map::Entry::Vacant(slot) = specs.entry(performance) {
            slot.insert(performance_spec(api, performance).await?);
        }
        items.push(booking_view(row, specs[&performance].as_ref(), given));
    }
    Ok(Json(serde_json::json!({"items": items})).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LookupQuery {
    pub number: String,
    pub phone: String,
}

/// `GET /api/v2/guest-bookings?number=…&phone=…`: one guest booking. A wrong number and a wrong
/// phone get the same answer, and lookups are limited so bookings cannot be found by guessing:
/// per client address whatever the number, overall, and per number and address, where wrong
/// phones back off exponentially — an attacker's wrong phones from elsewhere never make the
/// guest's own lookup wait.
pub async fn guest_lookup(
    State(api): State<Arc<Api>>,
    client: ClientAddress,
    Query(query): Query<LookupQuery>,
) -> Result<Response, ApiError> {
    let now = now_ms();
    let number = query.number.trim().to_uppercase();
    let limited = |retry_ms: u64| ApiError::TooManyAttempts {
        retry_after_s: retry_ms.div_ceil(1_000),
    };
    if let ClientAddress(Some(address)) = &client {
        api.bookings
            .per_address
            .check(address, now)
            .map_err(limited)?;
    }
    api.bookings.everyone.check("all", now).map_err(limited)?;
    let key = client.with(&number);
    api.bookings.failures.check(&key, now).map_err(limited)?;
    let not_found = ApiError::NotFound("booking with this number and phone");
    let row = match phone_digits(&query.phone) {
        Some(phone) => api.store.booking_by_number(&number, &phone).await?,
        None => None,
    };
    let Some(row) = row else {
        api.bookings.failures.failed(&key, now);
        return Err(not_found);
    };
    api.bookings.failures.succeeded(&key);
    if let ClientAddress(Some(address)) = &client {
        api.bookings.per_address.refund(address);
    }
    let spec = performance_spec(&api, row.performance).await?;
    Ok(Json(booking_view(&row, spec.as_ref(), &BTreeMap::new())).into_response())
}
