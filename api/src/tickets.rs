//! Tickets at the door over HTTP (docs/protocol.md, "Ticket codes"): the holder's ticket with
//! what the door checks and the secret its app makes codes with, binding it to a device, its
//! current code as SVG or PNG, and the online scan of staff of the show.
//!
//! Secrets are derived, never stored: `ApiConfig::ticket_key` → a performance's master key →
//! the ticket's secret of its current generation ([`TicketSecret::derive`]). The ledger is the
//! authority on a ticket (holder, generation, cancelled): every route reads it there, and the
//! scan's admission is the ledger's `Scan`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use hmac::{Hmac, Mac};
use picket_edge::id::Id;
use picket_edge::secret::TicketKey;
use picket_ledger_core::limits::REBINDS_PER_TICKET_MAX;
use picket_ledger_core::{
    ActorId, Command, Direction, DiscountRule, GateId, IdempotencyKey, PerformanceId,
    PerformanceSpec, Place, Rejection, Reply, Request, TicketId, TicketView,
};
use picket_tickets::{
    Code, DoorFacts, DoorRules, Refusal, Roster, RosterTicket, TicketSecret, Verified, render,
};
use serde::Deserialize;
use sha2::Sha256;

use crate::auth::{Authenticated, Role, authenticate, bearer, guest_actor};
use crate::bookings::performance_spec;
use crate::error::{ApiError, FieldError};
use crate::json::{JsonBody, Path};
use crate::state::{Api, now_ms};
use crate::store::tickets::TicketDevice;

/// The code format apps make (docs/protocol.md, "The code").
pub const CODE_FORMAT: &str = "PK1";
/// Pixels (SVG user units) per QR module of a rendered code: 37 modules with the quiet zone,
/// 296 px a side.
pub const CODE_MODULE_PX: u32 = 8;
/// A device public key: Ed25519's 32 bytes, base64url without padding.
pub const PUBLIC_KEY_CHARS: usize = 43;

/// Domain label of [`performance_master`].
const MASTER_LABEL: &[u8] = b"picket performance ticket master v1";

/// A performance's master key: HMAC-SHA256(ticket key, label ‖ performance id, big-endian). One
/// per performance, so a manifest's material never opens another performance's tickets.
pub fn performance_master(key: &TicketKey, performance: PerformanceId) -> [u8; 32] {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key.0).expect("HMAC takes any key");
    mac.update(MASTER_LABEL);
    mac.update(&performance.0.to_be_bytes());
    mac.finalize().into_bytes().into()
}

/// The ticket's secret of its current generation.
pub fn ticket_secret(key: &TicketKey, ticket: &TicketView) -> TicketSecret {
    let master = performance_master(key, ticket.performance);
    TicketSecret::derive(
        &master,
        ticket.performance,
        ticket.ticket,
        ticket.generation,
    )
}

/// "A 1열 5번" or the zone's name: what the door shows.
pub fn place_label(spec: &PerformanceSpec, place: Place) -> String {
    match place {
        Place::Seat(seat) => spec
            .seats
            .get(seat.0 as usize)
            .map_or_else(String::new, |s| {
                format!("{} {}열 {}번", s.section, s.row, s.number)
            }),
        Place::Zone(zone) => spec
            .zones
            .get(usize::from(zone.0))
            .map_or_else(String::new, |z| z.name.clone()),
    }
}

/// The label of the ticket's discount when staff must see its proof (an eligibility discount:
/// disability, youth, veteran …).
pub fn proof_needed(spec: &PerformanceSpec, ticket: &TicketView) -> Option<String> {
    let discount = spec.discounts.get(usize::from(ticket.discount?.0))?;
    matches!(discount.rule, DiscountRule::Eligibility { .. }).then(|| discount.label.clone())
}

/// What the door must check for the ticket. `holder` is the last digits of the holder's id:
/// the API keeps no name a door may show.
pub fn door_facts(spec: &PerformanceSpec, ticket: &TicketView) -> DoorFacts {
    DoorFacts {
        grade: spec
            .grades
            .get(usize::from(ticket.grade.0))
            .map_or_else(String::new, |g| g.code.clone()),
        place: place_label(spec, ticket.place),
        holder: format!("#{:04}", ticket.holder.0 % 10_000),
        proof: proof_needed(spec, ticket),
    }
}

/// When the doors of a performance open.
pub fn doors_open_ms(api: &Api, spec: &PerformanceSpec) -> u64 {
    spec.starts_at_ms
        .saturating_sub(api.config.doors_open_before_start_ms)
}

/// Whether `text` looks like a device key: [`PUBLIC_KEY_CHARS`] base64url characters.
pub fn public_key_ok(text: &str) -> bool {
    text.len() == PUBLIC_KEY_CHARS
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The ledger actor asking: a member's session (its account) or a guest's device token.
async fn holder_actor(api: &Api, headers: &HeaderMap) -> Result<i64, ApiError> {
    match authenticate(api, bearer(headers)).await {
        Ok(who) => {
            who.require(&[Role::Member])?;
            Ok(who.account_id)
        }
        Err(ApiError::Unauthenticated) => guest_actor(api, headers),
        Err(other) => Err(other),
    }
}

/// The ticket as the ledger has it and its performance's spec, for its holder only: anyone
/// else is told there is no such ticket, so ids cannot be probed.
pub(crate) async fn held_ticket(
    api: &Api,
    headers: &HeaderMap,
    ticket: u64,
) -> Result<(TicketView, PerformanceSpec), ApiError> {
    let actor = holder_actor(api, headers).await?;
    let missing = || ApiError::NotFound("ticket");
    let id = i64::try_from(ticket).map_err(|_| missing())?;
    let booking = api.store.ticket_booking(id).await?.ok_or_else(missing)?;
    let places: Vec<Place> = serde_json::from_str(&booking.places).unwrap_or_default();
    if id - booking.first_ticket >= places.len() as i64 {
        return Err(missing());
    }
    let performance = PerformanceId(booking.performance as u64);
    let view = read_ticket(api, performance, TicketId(ticket))
        .await?
        .ok_or_else(missing)?;
    if view.holder != ActorId(actor as u64) {
        return Err(missing());
    }
    let spec = performance_spec(api, booking.performance)
        .await?
        .ok_or_else(missing)?;
    Ok((view, spec))
}

async fn read_ticket(
    api: &Api,
    performance: PerformanceId,
    ticket: TicketId,
) -> Result<Option<TicketView>, ApiError> {
    let ledger = api.ledger.as_ref().ok_or(ApiError::LedgerUnavailable)?;
    ledger
        .ticket(performance, ticket)
        .await
        .map_err(|_| ApiError::LedgerUnavailable)
}

/// The holder's view of a ticket (docs/protocol.md, "The holder's ticket").
fn ticket_json(
    api: &Api,
    view: &TicketView,
    spec: &PerformanceSpec,
    device: Option<&TicketDevice>,
) -> serde_json::Value {
    let facts = door_facts(spec, view);
    let secret = ticket_secret(&api.config.ticket_key, view);
    let discount = view
        .discount
        .and_then(|d| spec.discounts.get(usize::from(d.0)))
        .map(|d| {
            serde_json::json!({"label": d.label,
                "proof_at_entry": matches!(d.rule, DiscountRule::Eligibility { .. })})
        });
    let gates: Vec<&str> = spec.door.gates.iter().map(|g| g.label.as_str()).collect();
    serde_json::json!({
        "ticket": Id(view.ticket.0),
        "performance": Id(view.performance.0),
        "booking": Id(view.booking.0),
        "starts_at_ms": spec.starts_at_ms,
        "place": facts.place,
        "grade": facts.grade,
        "discount": discount,
        "gates": gates,
        "cancelled": view.cancelled,
        "static_code_allowed": spec.door.static_tickets,
        "code": {
            "format": CODE_FORMAT,
            "step_ms": picket_tickets::limits::STEP_MS,
            "generation": secret.generation,
            "mac_key": hex::encode(secret.mac_key),
            "seal": hex::encode(secret.seal.0),
        },
        "device": device.map(|d| serde_json::json!({
            "public_key": d.public_key, "bound_at_ms": d.bound_at_ms})),
        "rebinds": view.rebinds,
        "rebinds_max": REBINDS_PER_TICKET_MAX,
    })
}

/// `GET /api/v2/tickets/{id}` (its holder: member session or guest token).
pub async fn get_ticket(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    Path(Id(ticket)): Path<Id<u64>>,
) -> Result<Response, ApiError> {
    let (view, spec) = held_ticket(&api, &headers, ticket).await?;
    let device = api
        .store
        .ticket_device(ticket as i64, view.holder.0 as i64)
        .await?;
    Ok(no_store(
        Json(ticket_json(&api, &view, &spec, device.as_ref())).into_response(),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceForm {
    pub public_key: String,
}

/// `POST /api/v2/tickets/{id}/device` (its holder): binds the ticket to a device key. The first
/// binding records it; the same key again changes nothing; another key is a re-binding, which
/// the ledger counts and limits (`RebindDevice`), moving the secret to a new generation so codes
/// of the old device are revoked.
pub async fn bind_device(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    Path(Id(ticket)): Path<Id<u64>>,
    JsonBody(form): JsonBody<DeviceForm>,
) -> Result<Response, ApiError> {
    if !public_key_ok(&form.public_key) {
        return Err(ApiError::Invalid(vec![FieldError {
            field: "public_key",
            message: format!(
                "기기 공개키는 base64url {PUBLIC_KEY_CHARS}자입니다 (an Ed25519 public key, \
                 {PUBLIC_KEY_CHARS} base64url characters)"
            ),
        }]));
    }
    let (mut view, spec) = held_ticket(&api, &headers, ticket).await?;
    if view.cancelled {
        return Err(ApiError::Rejected(Rejection::TicketCancelled));
    }
    // Actor ids use all 64 bits (guests have the top bit set); stored as the same bits.
    let holder = view.holder.0 as i64;
    let bound = api.store.ticket_device(ticket as i64, holder).await?;
    let unchanged = bound.as_ref().map(|d| d.public_key.as_str()) == Some(form.public_key.as_str());
    if bound.is_some() && !unchanged {
        view.generation = rebind(&api, &view).await?;
        view.rebinds = view.rebinds.saturating_add(1);
    }
    let device = match bound {
        Some(device) if unchanged => device,
        _ => {
            let device = TicketDevice {
                public_key: form.public_key,
                generation: i64::from(view.generation),
                bound_at_ms: now_ms() as i64,
            };
            api.store
                .bind_ticket_device(ticket as i64, holder, &device)
                .await?;
            device
        }
    };
    Ok(no_store(
        Json(ticket_json(&api, &view, &spec, Some(&device))).into_response(),
    ))
}

/// The ledger's `RebindDevice`, as the holder: the new generation. The key names the
/// generation left, so a retried request re-binds once.
async fn rebind(api: &Api, view: &TicketView) -> Result<u8, ApiError> {
    let ledger = api.ledger.as_ref().ok_or(ApiError::LedgerUnavailable)?;
    let key = format!("rebind-{}-{}", view.ticket.0, view.generation);
    let request = Request {
        actor: view.holder,
        key: IdempotencyKey::new(key).map_err(|_| ApiError::Internal("key".into()))?,
        command: Command::RebindDevice {
            performance: view.performance,
            ticket: view.ticket,
        },
    };
    match ledger.submit(request).await {
        Ok(Ok(Reply::Rebound { generation, .. })) => Ok(generation),
        Ok(Err(rejection)) => Err(ApiError::Rejected(rejection)),
        Ok(Ok(other)) => Err(ApiError::Internal(format!(
            "the ledger answered RebindDevice with {other:?}"
        ))),
        Err(_) => Err(ApiError::LedgerUnavailable),
    }
}

/// The ticket's code now, as text: refused for a cancelled ticket.
async fn current_code(api: &Api, headers: &HeaderMap, ticket: u64) -> Result<String, ApiError> {
    let (view, _) = held_ticket(api, headers, ticket).await?;
    if view.cancelled {
        return Err(ApiError::Rejected(Rejection::TicketCancelled));
    }
    let secret = ticket_secret(&api.config.ticket_key, &view);
    Ok(Code::rotating(view.performance, view.ticket, &secret, now_ms()).to_string())
}

/// A code changes every step: never cached, by the browser or on the way.
pub(crate) fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

pub(crate) fn render_failed(error: render::RenderError) -> ApiError {
    ApiError::Internal(format!("the code did not render: {error:?}"))
}

/// `GET /api/v2/tickets/{id}/code.svg` (its holder): the current rotating code.
pub async fn code_svg(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    Path(Id(ticket)): Path<Id<u64>>,
) -> Result<Response, ApiError> {
    let text = current_code(&api, &headers, ticket).await?;
    let svg = render::svg(&text, CODE_MODULE_PX).map_err(render_failed)?;
    Ok(no_store(
        ([(header::CONTENT_TYPE, "image/svg+xml")], svg).into_response(),
    ))
}

/// `GET /api/v2/tickets/{id}/code.png` (its holder): the current rotating code.
pub async fn code_png(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    Path(Id(ticket)): Path<Id<u64>>,
) -> Result<Response, ApiError> {
    let text = current_code(&api, &headers, ticket).await?;
    let png = render::png(&text, CODE_MODULE_PX).map_err(render_failed)?;
    Ok(no_store(
        ([(header::CONTENT_TYPE, "image/png")], png).into_response(),
    ))
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanDirection {
    Entry,
    Exit,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanForm {
    pub code: String,
    /// The gate scanned at (0, the main door, when the venue names none).
    #[serde(default)]
    pub gate: u16,
    pub direction: ScanDirection,
    /// Staff saw the proof the ticket's discount needs.
    #[serde(default)]
    pub proof_checked: bool,
}

/// Staff of the show (assigned by its seller), its seller, or an admin.
pub(crate) async fn door_staff(
    api: &Api,
    who: &Authenticated,
    performance: i64,
) -> Result<(), ApiError> {
    let show = api
        .store
        .performance_show(performance)
        .await?
        .ok_or(ApiError::NotFound("performance"))?;
    if who.role == Role::Staff {
        let assigned = api.store.is_show_staff(show, who.account_id).await?;
        return if assigned {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        };
    }
    crate::manage::managed_show(api, who, show)
        .await
        .map(|_| ())
}

/// What the verifier knows: the performance's rules and, when the code names a ticket of this
/// performance that the ledger has, that ticket (cancelled ones revoked).
async fn roster(
    api: &Api,
    performance: PerformanceId,
    spec: &PerformanceSpec,
    code: &str,
) -> Result<Roster, ApiError> {
    let rules = DoorRules::for_door(performance, &spec.door, doors_open_ms(api, spec));
    let mut roster = Roster {
        rules,
        tickets: Default::default(),
    };
    let Ok(parsed) = Code::parse(code.as_bytes()) else {
        return Ok(roster);
    };
    if parsed.performance != performance {
        return Ok(roster);
    }
    if let Some(view) = read_ticket(api, performance, parsed.ticket).await? {
        roster.tickets.insert(
            view.ticket,
            RosterTicket {
                secret: ticket_secret(&api.config.ticket_key, &view),
                facts: door_facts(spec, &view),
                revoked: view.cancelled,
            },
        );
    }
    Ok(roster)
}

/// A typed result: `{"result": "<code>", …}` (docs/protocol.md, "At the door").
fn refused(refusal: &Refusal) -> serde_json::Value {
    serde_json::to_value(refusal).unwrap_or_default()
}

/// `POST /api/v2/performances/{id}/scans` (staff of the show, its seller): verifies the code
/// against the ledger's ticket, then records the scan in the ledger, which admits a ticket once.
pub async fn scan(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Path(Id(performance)): Path<Id<i64>>,
    JsonBody(form): JsonBody<ScanForm>,
) -> Result<Response, ApiError> {
    let result = scan_code(&api, &who, performance, &form).await?;
    Ok(Json(result).into_response())
}

/// One online scan, as the HTTP route and the scanner's stream (`scanner.rs`) both make it:
/// the scanning account must be door staff of the performance's show; the typed result
/// (`{"result": …}`) is a value, and only what is not a door's result (no such performance, not
/// staff, the ledger down or refusing the gate) is an error.
pub(crate) async fn scan_code(
    api: &Api,
    who: &Authenticated,
    performance: i64,
    form: &ScanForm,
) -> Result<serde_json::Value, ApiError> {
    door_staff(api, who, performance).await?;
    let spec = performance_spec(api, performance)
        .await?
        .ok_or(ApiError::NotFound("performance"))?;
    let performance = PerformanceId(performance as u64);
    let roster = roster(api, performance, &spec, form.code.trim()).await?;
    let verified = match picket_tickets::verify(form.code.trim().as_bytes(), now_ms(), &roster) {
        Ok(verified) => verified,
        Err(refusal) => return Ok(refused(&refusal)),
    };
    if let (ScanDirection::Entry, Some(discount)) = (form.direction, &verified.facts.proof)
        && !form.proof_checked
    {
        return Ok(refused(&Refusal::ProofRequired {
            discount: discount.clone(),
        }));
    }
    record_scan(api, who, form, verified).await
}

/// The ledger's `Scan` of a verified code, and its answer as a typed result.
async fn record_scan(
    api: &Api,
    who: &Authenticated,
    form: &ScanForm,
    verified: Verified,
) -> Result<serde_json::Value, ApiError> {
    let ledger = api.ledger.as_ref().ok_or(ApiError::LedgerUnavailable)?;
    let direction = match form.direction {
        ScanDirection::Entry => Direction::Entry,
        ScanDirection::Exit => Direction::Exit,
    };
    let request = Request {
        actor: ActorId(who.account_id as u64),
        key: IdempotencyKey::new(format!("scan-{}", api.new_id()))
            .map_err(|_| ApiError::Internal("key".into()))?,
        command: Command::Scan {
            performance: verified.performance,
            ticket: verified.ticket,
            generation: verified.generation,
            gate: GateId(form.gate),
            direction,
        },
    };
    let outcome = ledger
        .submit(request)
        .await
        .map_err(|_| ApiError::LedgerUnavailable)?;
    let refusal = match outcome {
        Ok(Reply::Admitted { at_ms, gate, .. }) => {
            return Ok(scanned("admitted", &verified, at_ms, gate));
        }
        Ok(Reply::Exited { at_ms, gate, .. }) => {
            return Ok(scanned("exited", &verified, at_ms, gate));
        }
        Ok(other) => {
            return Err(ApiError::Internal(format!(
                "the ledger answered Scan with {other:?}"
            )));
        }
        // What changed between the read and the scan: the ledger's word is the last.
        Err(Rejection::AlreadyUsed { at_ms, gate }) => Refusal::AlreadyUsed { at_ms, gate },
        Err(Rejection::Revoked | Rejection::TicketCancelled) => Refusal::Revoked,
        Err(Rejection::WrongPerformance) => Refusal::WrongPerformance,
        Err(Rejection::UnknownTicket { .. }) => Refusal::Forged,
        Err(rejection) => return Err(ApiError::Rejected(rejection)),
    };
    Ok(refused(&refusal))
}

/// An admitted (or let out) ticket, with what the door must check.
fn scanned(result: &str, verified: &Verified, at_ms: u64, gate: GateId) -> serde_json::Value {
    serde_json::json!({
        "result": result,
        "ticket": Id(verified.ticket.0),
        "at_ms": at_ms,
        "gate": gate.0,
        "printed": verified.kind == picket_tickets::CodeKind::Printed,
        "grade": verified.facts.grade,
        "place": verified.facts.place,
        "holder": verified.facts.holder,
        "proof": verified.facts.proof,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masters_differ_per_performance_and_key() {
        let key = TicketKey([3; 32]);
        let one = performance_master(&key, PerformanceId(1));
        assert_ne!(one, performance_master(&key, PerformanceId(2)));
        assert_ne!(
            one,
            performance_master(&TicketKey([4; 32]), PerformanceId(1))
        );
        // HMAC-SHA256 by its definition, not by this function: the label, then the id.
        let mut mac = Hmac::<Sha256>::new_from_slice(&[3; 32]).expect("key");
        mac.update(b"picket performance ticket master v1");
        mac.update(&[0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(one, <[u8; 32]>::from(mac.finalize().into_bytes()));
    }

    #[test]
    fn device_keys_are_43_base64url_characters() {
        assert!(public_key_ok(&"A".repeat(43)));
        assert!(public_key_ok(&format!("{}-_", "a".repeat(41))));
        assert!(!public_key_ok(&"A".repeat(42)));
        assert!(!public_key_ok(&"A".repeat(44)));
        assert!(!public_key_ok(&format!("{}=", "A".repeat(42))));
        assert!(!public_key_ok(&format!("{}+", "A".repeat(42))));
    }
}
