//! The cancellation waitlist over HTTP (docs/protocol.md, "Waitlist over HTTP"): a member joins
//! a performance's waitlist, leaves it, declines an offer, and reads "my waitlist"; the show's
//! seller reads the waitlist's numbers. An offered entry pays its hold through
//! `POST /api/v2/checkout` like any hold; an auto-pay entry names one of the member's registered
//! payment methods (`billing.rs`), whose opaque reference the ledger's entry carries, and the
//! payments worker (`autopay.rs`) charges it when places are found.
//!
//! The ledger decides everything (`JoinWaitlist`, `LeaveWaitlist`, `DeclineOffer`) and keeps the
//! entries; the API keeps only which performances a member joined (`waitlist_members`), so "my
//! waitlist" knows which ledgers to ask.

use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use picket_edge::id::Id;
use picket_ledger_client::LedgerClient;
use picket_ledger_core::{
    ActorId, Command, GradeId, HoldId, IdempotencyKey, PerformanceId, Rejection, Reply, Request,
    WaitlistEntryId, WaitlistMode, WaitlistRead, WaitlistSizes,
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{Authenticated, Role, authenticate, bearer, guest_actor};
use crate::bookings::performance_spec;
use crate::error::{ApiError, FieldError, WaitlistRefusal};
use crate::json::{JsonBody, Path};
use crate::manage::{managed_show, show};
use crate::state::{Api, now_ms};

/// Performances whose waitlists one member may be in at once (each holds up to the ledger's
/// `WAITLIST_ENTRIES_PER_BUYER_MAX` of their entries): what bounds "my waitlist".
pub const WAITLISTS_PER_MEMBER_MAX: u16 = 10;
/// A join's body is three small fields.
pub const WAITLIST_BODY_BYTES_MAX: usize = 1_024;

pub fn router() -> Router<Arc<Api>> {
    Router::new()
        .route(
            "/api/v2/performances/{id}/waitlist",
            post(join).get(seller_report),
        )
        .route("/api/v2/performances/{id}/waitlist/{entry}", delete(leave))
        .route(
            "/api/v2/performances/{id}/waitlist/{entry}/decline",
            post(decline),
        )
        .route("/api/v2/me/waitlist", get(my_waitlist))
        .layer(DefaultBodyLimit::max(WAITLIST_BODY_BYTES_MAX))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JoinForm {
    /// The grade's code; `null` (or absent): any grade.
    #[serde(default)]
    pub grade: Option<String>,
    pub quantity: u16,
    /// Adjacent seats in one row (or one zone's places).
    #[serde(default)]
    pub together: bool,
    /// How the entry takes the places it is offered.
    #[serde(default)]
    pub mode: JoinMode,
    /// The member's registered payment method that auto-pay charges (`auto_pay` only).
    #[serde(default)]
    pub billing_method: Option<Id<i64>>,
}

/// A join's mode as clients name it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JoinMode {
    /// The places are held for the member to pay through the checkout within the claim window.
    #[default]
    Offer,
    /// The payments worker charges the named billing method when places are found.
    AutoPay,
}

/// The typed refusal of a ledger rejection of a waitlist command; `None` for one no member's
/// request can cause (then the caller reports it as the ledger's).
pub fn waitlist_refusal(rejection: &Rejection) -> Option<ApiError> {
    Some(match rejection {
        Rejection::WaitlistClosed => ApiError::Waitlist(WaitlistRefusal::Closed),
        Rejection::WaitlistFull => ApiError::Waitlist(WaitlistRefusal::Full),
        Rejection::TooManyWaitlistEntries { limit } => {
            ApiError::Waitlist(WaitlistRefusal::TooManyEntries { limit: *limit })
        }
        Rejection::OverBuyerLimit { limit, already } => {
            ApiError::Waitlist(WaitlistRefusal::OverBuyerLimit {
                limit: *limit,
                already: *already,
            })
        }
        Rejection::SalesClosed | Rejection::PerformanceCancelled => {
            ApiError::Waitlist(WaitlistRefusal::SalesClosed)
        }
        // Another member's entry is no different from none: ids are not probed.
        Rejection::UnknownWaitlistEntry | Rejection::NotYourWaitlistEntry => {
            ApiError::Waitlist(WaitlistRefusal::UnknownEntry)
        }
        Rejection::NoWaitlistOffer => ApiError::Waitlist(WaitlistRefusal::NoOffer),
        Rejection::UnknownPerformance => ApiError::NotFound("performance"),
        Rejection::UnknownGrade { .. } => ApiError::Invalid(vec![grade_error()]),
        Rejection::Invalid(_) => ApiError::Invalid(vec![quantity_error(None)]),
        _ => return None,
    })
}

fn grade_error() -> FieldError {
    FieldError {
        field: "grade",
        message: "공연의 등급 코드이거나 null(모든 등급)입니다 (a grade code of the performance, \
                  or null for any grade)"
            .into(),
    }
}

fn quantity_error(limit: Option<u16>) -> FieldError {
    let limit = limit.map_or_else(|| "the per-buyer limit".to_owned(), |l| l.to_string());
    FieldError {
        field: "quantity",
        message: format!("1~{limit}매입니다 (1 to {limit} places)"),
    }
}

/// The member asking; a guest's device token is told that only members join a waitlist (or
/// register a payment method for it).
pub(crate) async fn member(api: &Api, headers: &HeaderMap) -> Result<i64, ApiError> {
    match authenticate(api, bearer(headers)).await {
        Ok(who) => {
            who.require(&[Role::Member])?;
            Ok(who.account_id)
        }
        Err(ApiError::Unauthenticated) => {
            guest_actor(api, headers)?;
            Err(ApiError::Waitlist(WaitlistRefusal::MembersOnly))
        }
        Err(other) => Err(other),
    }
}

fn ledger_of(api: &Api) -> Result<&LedgerClient, ApiError> {
    api.ledger.as_ref().ok_or(ApiError::LedgerUnavailable)
}

/// A command of `account`'s, its rejections typed.
async fn submit(api: &Api, account: i64, key: String, command: Command) -> Result<Reply, ApiError> {
    let request = Request {
        actor: ActorId(account as u64),
        // At most "waitlist-decline-" + 20 + "-" + 20 = 58 printable bytes: always a valid key.
        key: IdempotencyKey::new(key).map_err(|_| ApiError::Internal("waitlist key".into()))?,
        command,
    };
    match ledger_of(api)?.submit(request).await {
        Ok(Ok(reply)) => Ok(reply),
        Ok(Err(rejection)) => {
            Err(waitlist_refusal(&rejection).unwrap_or(ApiError::Rejected(rejection)))
        }
        Err(_) => Err(ApiError::LedgerUnavailable),
    }
}

/// The ledger's waitlist of `performance` with `buyer`'s entries; 404 when the ledger has no
/// such performance.
async fn read(
    api: &Api,
    performance: i64,
    buyer: Option<i64>,
) -> Result<Option<WaitlistRead>, ApiError> {
    ledger_of(api)?
        .waitlist(
            PerformanceId(performance as u64),
            buyer.map(|b| ActorId(b as u64)),
        )
        .await
        .map_err(|_| ApiError::LedgerUnavailable)
}

/// Keeps the member's list of performances within [`WAITLISTS_PER_MEMBER_MAX`] before adding
/// `performance`: performances where the ledger holds none of the member's entries any more
/// are dropped first.
async fn make_room(api: &Api, account: i64, performance: i64) -> Result<(), ApiError> {
    let listed = api.store.waitlist_performances(account).await?;
    if listed.contains(&performance) || listed.len() < usize::from(WAITLISTS_PER_MEMBER_MAX) {
        return Ok(());
    }
    let mut live = 0;
    for other in listed {
        let entries = read(api, other, Some(account)).await?.map(|r| r.entries);
        if entries.is_none_or(|e| e.is_empty()) {
            api.store.drop_waitlist_performance(account, other).await?;
        } else {
            live += 1;
        }
    }
    if live >= WAITLISTS_PER_MEMBER_MAX {
        return Err(ApiError::Waitlist(WaitlistRefusal::TooManyWaitlists {
            limit: WAITLISTS_PER_MEMBER_MAX,
        }));
    }
    Ok(())
}

/// `POST /api/v2/performances/{id}/waitlist` (a member): joins the waitlist for `quantity`
/// places of `grade` (null: any), `together` or not, in offer mode.
pub async fn join(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    Path(Id(performance)): Path<Id<i64>>,
    JsonBody(form): JsonBody<JoinForm>,
) -> Result<Response, ApiError> {
    let account = member(&api, &headers).await?;
    let spec = performance_spec(&api, performance)
        .await?
        .ok_or(ApiError::NotFound("performance"))?;
    let mut errors = Vec::new();
    let grade = match &form.grade {
        None => None,
        Some(code) => match spec.grades.iter().position(|g| g.code == code.trim()) {
            Some(index) => Some(GradeId(index as u16)),
            None => {
                errors.push(grade_error());
                None
            }
        },
    };
    if form.quantity == 0 || form.quantity > spec.per_buyer_limit {
        errors.push(quantity_error(Some(spec.per_buyer_limit)));
    }
    let auto_pay = form.mode == JoinMode::AutoPay;
    if auto_pay != form.billing_method.is_some() {
        errors.push(FieldError {
            field: "billing_method",
            message: "자동결제(auto_pay)에만, 반드시 등록한 결제수단을 지정합니다 (a registered \
                      payment method with auto_pay, and only with it)"
                .into(),
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    // The ledger gets the method's opaque reference, never the member's say of a card.
    let mode = match form.billing_method {
        Some(Id(method)) => WaitlistMode::AutoPay {
            billing_ref: api
                .store
                .billing_method(account, method)
                .await?
                .ok_or(ApiError::Waitlist(WaitlistRefusal::UnknownBillingMethod))?
                .billing_ref,
        },
        None => WaitlistMode::Offer,
    };
    make_room(&api, account, performance).await?;
    // Recorded before the ledger's command, so an entry it commits is always found by "my
    // waitlist"; a row with no entry behind it is dropped by the next read.
    api.store
        .add_waitlist_performance(account, performance, now_ms() as i64)
        .await?;
    // Each join is a new entry: a join repeated after a lost answer makes a second one, which
    // "my waitlist" shows and the member may leave (the ledger bounds entries per member).
    let key = format!("waitlist-join-{}", api.new_id());
    let command = Command::JoinWaitlist {
        performance: PerformanceId(performance as u64),
        grade,
        quantity: form.quantity,
        together: form.together,
        mode,
    };
    match submit(&api, account, key, command).await? {
        Reply::WaitlistJoined { entry, position } => Ok((
            StatusCode::CREATED,
            Json(json!({
                "entry": Id(entry.0),
                "performance": Id(performance),
                "position": position,
            })),
        )
            .into_response()),
        other => Err(ApiError::Internal(format!(
            "the ledger answered JoinWaitlist with {other:?}"
        ))),
    }
}

/// `DELETE /api/v2/performances/{id}/waitlist/{entry}` (the entry's member): leaves the
/// waitlist; an open offer's places move on to the next entry.
pub async fn leave(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    Path((Id(performance), Id(entry))): Path<(Id<i64>, Id<u64>)>,
) -> Result<Response, ApiError> {
    let account = member(&api, &headers).await?;
    let command = Command::LeaveWaitlist {
        performance: PerformanceId(performance as u64),
        entry: WaitlistEntryId(entry),
    };
    // One entry is left once: the same request again is answered as the first was.
    match submit(&api, account, format!("waitlist-leave-{entry}"), command).await? {
        Reply::WaitlistLeft { entry, released } => Ok(Json(json!({
            "entry": Id(entry.0),
            "released": released.map(|h| Id(h.0)),
        }))
        .into_response()),
        other => Err(ApiError::Internal(format!(
            "the ledger answered LeaveWaitlist with {other:?}"
        ))),
    }
}

/// `POST /api/v2/performances/{id}/waitlist/{entry}/decline` (the entry's member): says no to
/// the open offer; its places move on to the next entry and the entry ends.
pub async fn decline(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    Path((Id(performance), Id(entry))): Path<(Id<i64>, Id<u64>)>,
) -> Result<Response, ApiError> {
    let account = member(&api, &headers).await?;
    // The key names the offer's hold: a decline tried while the entry still waited (refused,
    // and recorded so) must not answer for the offer that comes later.
    let found = read(&api, performance, Some(account))
        .await?
        .and_then(|r| r.entries.into_iter().find(|e| e.entry.0 == entry))
        .ok_or(ApiError::Waitlist(WaitlistRefusal::UnknownEntry))?;
    let hold = found
        .offer
        .ok_or(ApiError::Waitlist(WaitlistRefusal::NoOffer))?;
    let command = Command::DeclineOffer {
        performance: PerformanceId(performance as u64),
        entry: WaitlistEntryId(entry),
    };
    let key = format!("waitlist-decline-{entry}-{}", hold.0);
    match submit(&api, account, key, command).await? {
        Reply::OfferDeclined { entry, hold } => Ok(Json(json!({
            "entry": Id(entry.0),
            "hold": Id(hold.0),
        }))
        .into_response()),
        other => Err(ApiError::Internal(format!(
            "the ledger answered DeclineOffer with {other:?}"
        ))),
    }
}

/// The waitlist's sizes with the grades' codes.
fn sizes_json(sizes: &WaitlistSizes, codes: &[String]) -> Value {
    let per_grade: Vec<Value> = sizes
        .per_grade
        .iter()
        .enumerate()
        .map(|(index, waiting)| {
            json!({"grade": codes.get(index).cloned().unwrap_or_default(), "waiting": waiting})
        })
        .collect();
    json!({"per_grade": per_grade, "any_grade": sizes.any_grade})
}

/// The grade codes of a performance, in the ledger's grade order: the show's grades when it has
/// a show (the spec is made from them in that order), else the ledger spec's.
async fn grade_codes(api: &Api, performance: i64) -> Result<Vec<String>, ApiError> {
    if let Some(show_id) = api.store.performance_show(performance).await?
        && let Some(found) = show(api, show_id).await?
    {
        return Ok(found.grades.into_iter().map(|g| g.code).collect());
    }
    Ok(performance_spec(api, performance)
        .await?
        .map(|spec| spec.grades.into_iter().map(|g| g.code).collect())
        .unwrap_or_default())
}

/// `GET /api/v2/me/waitlist` (a member): every live entry of the member's, with its position,
/// the waitlist's sizes per grade and an open offer's hold, places, amount and deadline.
pub async fn my_waitlist(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let account = member(&api, &headers).await?;
    let mut listed = Vec::new();
    for performance in api.store.waitlist_performances(account).await? {
        let Some(read) = read(&api, performance, Some(account)).await? else {
            api.store
                .drop_waitlist_performance(account, performance)
                .await?;
            continue;
        };
        if read.entries.is_empty() {
            api.store
                .drop_waitlist_performance(account, performance)
                .await?;
            continue;
        }
        let codes = grade_codes(&api, performance).await?;
        let title = api
            .store
            .performance_show_title(performance)
            .await?
            .map(|s| s.title);
        let sizes = sizes_json(&read.report.waiting, &codes);
        for entry in &read.entries {
            let offer = match entry.offer {
                Some(hold) => offer_json(&api, performance, hold).await?,
                None => Value::Null,
            };
            let position = entry
                .position
                .map(|p| json!({"overall": p.overall, "in_grade": p.in_grade}));
            listed.push(json!({
                "entry": Id(entry.entry.0),
                "performance": Id(performance),
                "title": title,
                "grade": entry.grade.and_then(|g| codes.get(usize::from(g.0)).cloned()),
                "quantity": entry.quantity,
                "together": entry.together,
                "joined_at_ms": entry.joined_at_ms,
                "position": position,
                "sizes": sizes,
                "offer": offer,
            }));
        }
    }
    Ok(Json(json!({ "entries": listed })).into_response())
}

/// An open offer as the buyer pays it: the hold (for `POST /api/v2/checkout` with the
/// performance as `sale`), its places, amount and claim deadline.
async fn offer_json(api: &Api, performance: i64, hold: HoldId) -> Result<Value, ApiError> {
    let view = ledger_of(api)?
        .hold(PerformanceId(performance as u64), hold)
        .await
        .map_err(|_| ApiError::LedgerUnavailable)?;
    let Some(view) = view else {
        return Ok(Value::Null);
    };
    let places: Vec<Value> = view
        .places
        .iter()
        .map(|p| json!({"place": p.place, "grade_code": p.grade_code, "price_won": p.price_won}))
        .collect();
    Ok(json!({
        "hold": Id(hold.0),
        "sale": Id(performance),
        "places": places,
        "amount_won": view.amount_won,
        "expires_at_ms": view.expires_at_ms,
    }))
}

/// `GET /api/v2/performances/{id}/waitlist` (the show's seller, an admin): entries waiting per
/// grade, offers open, places offered from the waitlist and booked through it, places kept off
/// sale for it.
pub async fn seller_report(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Path(Id(performance)): Path<Id<i64>>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Seller, Role::Admin])?;
    let show_id = api
        .store
        .performance_show(performance)
        .await?
        .ok_or(ApiError::NotFound("performance"))?;
    let found = managed_show(&api, &who, show_id).await?;
    let read = read(&api, performance, None)
        .await?
        .ok_or(ApiError::NotFound("performance"))?;
    let codes: Vec<String> = found.grades.iter().map(|g| g.code.clone()).collect();
    let report = &read.report;
    Ok(Json(json!({
        "performance": Id(performance),
        "settings": found.waitlist.public(),
        "waiting": sizes_json(&report.waiting, &codes),
        "offers_open": report.offers_open,
        "places_offered": report.places_offered,
        "places_booked": report.places_booked,
        "places_reserved": report.places_reserved,
    }))
    .into_response())
}
