//! Giving a ticket to another member (docs/protocol.md, "Over HTTP"), the tickets a member holds
//! now ("my tickets": their own bookings' and those given to them), and printed (static) codes.
//!
//! The ledger decides a transfer (`TransferTicket`: the show's deadline, a used or cancelled
//! ticket, the recipient's per-buyer limit) and moves the ticket's secret to a new generation,
//! so the giver's codes are revoked at the door at once; the projection follows the committed
//! `TicketTransferred` into `ticket_transfers`, which "my tickets" and "my bookings" read.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use picket_edge::id::Id;
use picket_ledger_core::{
    ActorId, Command, DoorSpec, IdempotencyKey, Invalid, PerformanceSpec, Place, Rejection, Reply,
    Request, TicketId, TicketView,
};
use picket_tickets::{Code, render};
use serde::Deserialize;

use crate::accounts::normalize_email;
use crate::auth::{Authenticated, Role, authenticate, bearer, guest_actor};
use crate::bookings::performance_spec;
use crate::error::{ApiError, FieldError, TicketRefusal};
use crate::holdings::{Handover, holdings, mask_email};
use crate::json::{JsonBody, Path};
use crate::state::{Api, now_ms};
use crate::store::transfers::PerformanceShow;
use crate::tickets::{
    CODE_MODULE_PX, held_ticket, no_store, place_label, render_failed, ticket_secret,
};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransferForm {
    /// The recipient: a member's e-mail address.
    pub to_email: String,
}

/// The typed refusal of a ledger rejection of `TransferTicket` under `door` (the ledger's one
/// `TransferClosed` is "no transfers" or "too late" by the show's setting).
pub fn transfer_refusal(rejection: &Rejection, door: &DoorSpec) -> Option<TicketRefusal> {
    Some(match rejection {
        Rejection::TransferClosed if door.transfer_until_ms.is_none() => {
            TicketRefusal::TransfersOff
        }
        Rejection::TransferClosed => TicketRefusal::TransferDeadlinePassed,
        Rejection::TicketUsed => TicketRefusal::TicketUsed,
        Rejection::TicketCancelled => TicketRefusal::TicketCancelled,
        Rejection::TooManyTransfers => TicketRefusal::TooManyTransfers,
        Rejection::OverBuyerLimit { limit, already } => TicketRefusal::RecipientOverLimit {
            limit: *limit,
            already: *already,
        },
        Rejection::Invalid(Invalid::SelfTransfer) => TicketRefusal::TransferToSelf,
        _ => return None,
    })
}

/// The idempotency key of a transfer: the ticket, the generation it leaves and the recipient.
/// A request repeated after a lost answer transfers once; another recipient is another command.
pub fn transfer_key(ticket: TicketId, generation: u8, to: ActorId) -> IdempotencyKey {
    // At most 9 + 20 + 1 + 3 + 1 + 20 = 54 printable bytes: always a valid key.
    IdempotencyKey::new(format!("transfer-{}-{generation}-{}", ticket.0, to.0))
        .expect("a transfer key is printable and short enough")
}

/// The member asking; a guest's device token is told that only members give tickets.
async fn member(api: &Api, headers: &HeaderMap) -> Result<i64, ApiError> {
    match authenticate(api, bearer(headers)).await {
        Ok(who) => {
            who.require(&[Role::Member])?;
            Ok(who.account_id)
        }
        Err(ApiError::Unauthenticated) => {
            guest_actor(api, headers)?;
            Err(ApiError::Ticket(TicketRefusal::MembersOnly))
        }
        Err(other) => Err(other),
    }
}

/// Transfers to an address that is no member, per holder: one a minute after a burst of
/// [`UNKNOWN_RECIPIENTS_BURST`] (a typo or two), so `unknown_member` cannot be used to learn
/// which addresses have accounts at any useful speed.
pub const UNKNOWN_RECIPIENTS_PER_MINUTE: u32 = 1;
pub const UNKNOWN_RECIPIENTS_BURST: u32 = 5;

/// `POST /api/v2/tickets/{id}/transfer` (its holder, a member): gives the ticket to the member
/// with `to_email`.
pub async fn transfer(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    Path(Id(ticket)): Path<Id<u64>>,
    JsonBody(form): JsonBody<TransferForm>,
) -> Result<Response, ApiError> {
    let holder = member(&api, &headers).await?;
    let Some(email) = normalize_email(&form.to_email) else {
        return Err(ApiError::Invalid(vec![FieldError {
            field: "to_email",
            message: "받는 회원의 이메일 주소를 입력하세요 (the recipient's e-mail address, \
                      like name@example.com)"
                .into(),
        }]));
    };
    let (view, spec) = held_ticket(&api, &headers, ticket).await?;
    if view.cancelled {
        return Err(ApiError::Ticket(TicketRefusal::TicketCancelled));
    }
    // Taken before the lookup and given back when it finds a member, so only addresses that
    // are no member's count (concurrent probes cannot slip past).
    let lookup_key = format!("transfer {holder}");
    api.transfer_lookups
        .check(&lookup_key, now_ms())
        .map_err(|retry_ms| ApiError::TooManyAttempts {
            retry_after_s: retry_ms.div_ceil(1_000),
        })?;
    let recipient = api
        .store
        .account_by_email(&email)
        .await?
        .filter(|account| account.role == Role::Member.as_str())
        .ok_or(ApiError::Ticket(TicketRefusal::UnknownMember))?;
    api.transfer_lookups.refund(&lookup_key);
    if recipient.id == holder {
        return Err(ApiError::Ticket(TicketRefusal::TransferToSelf));
    }
    let to = ActorId(recipient.id as u64);
    submit_transfer(&api, &view, &spec, to).await?;
    tracing::info!(ticket, "ticket transferred");
    Ok(Json(serde_json::json!({
        "ticket": Id(ticket),
        "to": mask_email(&recipient.email),
    }))
    .into_response())
}

/// The ledger's `TransferTicket` as the holder, its rejections typed.
async fn submit_transfer(
    api: &Api,
    view: &TicketView,
    spec: &PerformanceSpec,
    to: ActorId,
) -> Result<(), ApiError> {
    let ledger = api.ledger.as_ref().ok_or(ApiError::LedgerUnavailable)?;
    let request = Request {
        actor: view.holder,
        key: transfer_key(view.ticket, view.generation, to),
        command: Command::TransferTicket {
            performance: view.performance,
            ticket: view.ticket,
            to,
        },
    };
    match ledger.submit(request).await {
        Ok(Ok(Reply::Transferred { .. })) => Ok(()),
        Ok(Ok(other)) => Err(ApiError::Internal(format!(
            "the ledger answered TransferTicket with {other:?}"
        ))),
        // The ticket moved between the read and the command: it is no longer the asker's.
        Ok(Err(Rejection::NotYourTicket | Rejection::UnknownTicket { .. })) => {
            Err(ApiError::NotFound("ticket"))
        }
        Ok(Err(rejection)) => Err(transfer_refusal(&rejection, &spec.door)
            .map_or(ApiError::Rejected(rejection), ApiError::Ticket)),
        Err(_) => Err(ApiError::LedgerUnavailable),
    }
}

/// The grade code of a place.
fn grade_code(spec: &PerformanceSpec, place: Place) -> String {
    let grade = match place {
        Place::Seat(seat) => spec.seats.get(seat.0 as usize).map(|s| s.grade),
        Place::Zone(zone) => spec.zones.get(usize::from(zone.0)).map(|z| z.grade),
    };
    grade
        .and_then(|g| spec.grades.get(usize::from(g.0)))
        .map_or_else(String::new, |g| g.code.clone())
}

/// One ticket a member holds, as "my tickets" lists it.
struct Held {
    ticket: i64,
    booking: i64,
    performance: i64,
    place: Place,
    received: Option<Handover>,
}

/// Specs and shows read once per performance: a spec holds a whole seat map.
#[derive(Default)]
struct Performances {
    specs: HashMap<i64, Option<PerformanceSpec>>,
    shows: HashMap<i64, Option<PerformanceShow>>,
}

impl Performances {
    async fn load(&mut self, api: &Api, performance: i64) -> Result<(), ApiError> {
        if let std::collections::hash_map::Entry::Vacant(slot) = self.specs.entry(performance) {
            slot.insert(performance_spec(api, performance).await?);
            let show = api.store.performance_show_title(performance).await?;
            self.shows.insert(performance, show);
        }
        Ok(())
    }

    fn json(&self, held: &Held) -> serde_json::Value {
        let spec = self.specs.get(&held.performance).and_then(Option::as_ref);
        let show = self.shows.get(&held.performance).and_then(Option::as_ref);
        serde_json::json!({
            "ticket": Id(held.ticket as u64),
            "booking": Id(held.booking as u64),
            "performance": Id(held.performance as u64),
            "show_id": show.map(|s| Id(s.show_id)),
            "title": show.map(|s| s.title.as_str()),
            "starts_at_ms": spec.map(|s| s.starts_at_ms),
            "place": spec.map_or_else(String::new, |s| place_label(s, held.place)),
            "grade": spec.map_or_else(String::new, |s| grade_code(s, held.place)),
            "received_from": held.received.as_ref().map(Handover::json),
        })
    }

    fn starts_at_ms(&self, performance: i64) -> u64 {
        self.specs
            .get(&performance)
            .and_then(Option::as_ref)
            .map_or(u64::MAX, |s| s.starts_at_ms)
    }
}

/// `GET /api/v2/me/tickets` (a member): every ticket the member holds now — of their own
/// bookings, less those given away or cancelled, and those given to them — soonest first.
pub async fn my_tickets(
    State(api): State<Arc<Api>>,
    who: Authenticated,
) -> Result<Response, ApiError> {
    who.require(&[Role::Member])?;
    let me = who.account_id;
    let transfers = api.store.transfers_touching(me).await?;
    let mut holdings = holdings(me, &transfers);
    let mut held: BTreeMap<i64, Held> = BTreeMap::new();
    for row in api.store.bookings_of(me).await? {
        let places: Vec<Place> = serde_json::from_str(&row.places).unwrap_or_default();
        let cancelled: Vec<i64> = serde_json::from_str(&row.cancelled).unwrap_or_default();
        for (index, place) in places.into_iter().enumerate() {
            let ticket = row.first_ticket + index as i64;
            if cancelled.contains(&ticket) || holdings.given.contains_key(&ticket) {
                continue;
            }
            let received = holdings.received.remove(&ticket).map(|(_, from)| from);
            held.insert(
                ticket,
                Held {
                    ticket,
                    booking: row.booking,
                    performance: row.performance,
                    place,
                    received,
                },
            );
        }
    }
    // Given by others: the giver's booking says which place and whether it was cancelled. One
    // the projection has not recorded yet is left out until it has.
    for (ticket, (_, from)) in holdings.received {
        let Some(row) = api.store.booking_of_ticket(ticket).await? else {
            continue;
        };
        let places: Vec<Place> = serde_json::from_str(&row.places).unwrap_or_default();
        let cancelled: Vec<i64> = serde_json::from_str(&row.cancelled).unwrap_or_default();
        let index = usize::try_from(ticket - row.first_ticket).unwrap_or(usize::MAX);
        let Some(place) = places.get(index).copied() else {
            continue;
        };
        if cancelled.contains(&ticket) {
            continue;
        }
        held.insert(
            ticket,
            Held {
                ticket,
                booking: row.booking,
                performance: row.performance,
                place,
                received: Some(from),
            },
        );
    }
    let mut performances = Performances::default();
    for item in held.values() {
        performances.load(&api, item.performance).await?;
    }
    let mut items: Vec<&Held> = held.values().collect();
    items.sort_by_key(|item| (performances.starts_at_ms(item.performance), item.ticket));
    let items: Vec<serde_json::Value> = items
        .into_iter()
        .map(|item| performances.json(item))
        .collect();
    Ok(Json(serde_json::json!({"items": items})).into_response())
}

/// The ticket's printed (static) code, for its holder, where the show issues them.
async fn printed_code(api: &Api, headers: &HeaderMap, ticket: u64) -> Result<String, ApiError> {
    let (view, spec) = held_ticket(api, headers, ticket).await?;
    if view.cancelled {
        return Err(ApiError::Rejected(Rejection::TicketCancelled));
    }
    if !spec.door.static_tickets {
        return Err(ApiError::Ticket(TicketRefusal::StaticTicketsOff));
    }
    let secret = ticket_secret(&api.config.ticket_key, &view);
    Ok(Code::printed(view.performance, view.ticket, &secret).to_string())
}

/// `GET /api/v2/tickets/{id}/printed.svg` (its holder): the ticket's printed code.
pub async fn printed_svg(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    Path(Id(ticket)): Path<Id<u64>>,
) -> Result<Response, ApiError> {
    let text = printed_code(&api, &headers, ticket).await?;
    let svg = render::svg(&text, CODE_MODULE_PX).map_err(render_failed)?;
    // Not rotating, but a credential until the ticket moves on: never cached on the way.
    Ok(no_store(
        ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response(),
    ))
}

/// `GET /api/v2/tickets/{id}/printed.png` (its holder): the ticket's printed code.
pub async fn printed_png(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    Path(Id(ticket)): Path<Id<u64>>,
) -> Result<Response, ApiError> {
    let text = printed_code(&api, &headers, ticket).await?;
    let png = render::png(&text, CODE_MODULE_PX).map_err(render_failed)?;
    Ok(no_store(
        ([(header::CONTENT_TYPE, "image/png")], png).into_response(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ledgers_rejections_are_typed() {
        let off = DoorSpec::default();
        let until = DoorSpec {
            transfer_until_ms: Some(5),
            ..DoorSpec::default()
        };
        let cases = [
            (Rejection::TransferClosed, &off, TicketRefusal::TransfersOff),
            (
                Rejection::TransferClosed,
                &until,
                TicketRefusal::TransferDeadlinePassed,
            ),
            (Rejection::TicketUsed, &until, TicketRefusal::TicketUsed),
            (
                Rejection::TicketCancelled,
                &until,
                TicketRefusal::TicketCancelled,
            ),
            (
                Rejection::TooManyTransfers,
                &until,
                TicketRefusal::TooManyTransfers,
            ),
            (
                Rejection::OverBuyerLimit {
                    limit: 4,
                    already: 4,
                },
                &until,
                TicketRefusal::RecipientOverLimit {
                    limit: 4,
                    already: 4,
                },
            ),
            (
                Rejection::Invalid(Invalid::SelfTransfer),
                &until,
                TicketRefusal::TransferToSelf,
            ),
        ];
        for (rejection, door, refusal) in cases {
            assert_eq!(transfer_refusal(&rejection, door), Some(refusal));
        }
        assert_eq!(transfer_refusal(&Rejection::SalesClosed, &until), None);
    }

    #[test]
    fn a_transfer_key_names_the_ticket_generation_and_recipient() {
        let key = transfer_key(TicketId(u64::MAX), u8::MAX, ActorId(u64::MAX));
        assert_eq!(
            key.as_str(),
            format!("transfer-{}-255-{}", u64::MAX, u64::MAX)
        );
        assert_ne!(
            transfer_key(TicketId(5), 0, ActorId(43)),
            transfer_key(TicketId(5), 1, ActorId(43))
        );
        assert_ne!(
            transfer_key(TicketId(5), 0, ActorId(43)),
            transfer_key(TicketId(5), 0, ActorId(44))
        );
    }
}
