//! The door offline over HTTP (docs/protocol.md, "Offline scanners over HTTP"): what a scanner
//! needs before the network goes (the performance's manifest key, gates and rules) with the
//! seller's door counters, the signed manifest of every ticket, and the upload of the scans a
//! scanner queued while offline. Staff of the show, its seller and admins only (as the online
//! scan, [`crate::tickets`]).
//!
//! The manifest key is derived, never stored: an Ed25519 seed per performance from the server's
//! ticket key ([`manifest_key`]), as the tickets' secrets are. The ledger is the authority on the
//! tickets (read page by page, [`picket_ledger_core::limits::TICKETS_PAGE_MAX`] at a time) and
//! on the door (its `UploadScans` records each offline scan once and reports conflicts; its door
//! report is the counters).

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hmac::{Hmac, Mac};
use picket_edge::id::Id;
use picket_edge::secret::TicketKey;
use picket_ledger_core::limits::{TICKETS_PAGE_MAX, UPLOAD_SCANS_MAX};
use picket_ledger_core::{
    ActorId, Command, Conflict, Direction, DoorReport, GateId, IdempotencyKey, OfflineScan,
    PerformanceId, PerformanceSpec, RefusedScan, Reply, Request, Scan, ScanRefusal, ScanSource,
    TicketId, TicketView,
};
use picket_tickets::limits::{MANIFEST_BYTES_MAX, MANIFEST_REVOKED_MAX, MANIFEST_TICKETS_MAX};
use picket_tickets::{DoorRules, Manifest, ManifestKey, Roster, RosterTicket};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::auth::Authenticated;
use crate::bookings::performance_spec;
use crate::error::{ApiError, FieldError};
use crate::json::{JsonBody, Path};
use crate::state::{Api, now_ms};
use crate::tickets::{door_facts, door_staff, doors_open_ms, ticket_secret};

/// The manifest format a scanner opens (docs/protocol.md, "The offline manifest").
pub const MANIFEST_FORMAT: &str = "PKM1";
/// Domain label of [`manifest_key`].
const MANIFEST_KEY_LABEL: &[u8] = b"picket performance manifest key v1";
/// Tickets, valid and revoked, a manifest is built from: what one manifest can list. A stadium
/// of 50,000 seats with every seat resold a few times fits many times over.
pub const MANIFEST_SOURCE_TICKETS_MAX: usize = MANIFEST_TICKETS_MAX + MANIFEST_REVOKED_MAX;
/// Ledger reads one manifest takes at most: its tickets a page at a time, and one more read
/// that finds the end.
pub const MANIFEST_PAGES_MAX: usize = MANIFEST_SOURCE_TICKETS_MAX.div_ceil(TICKETS_PAGE_MAX) + 1;
/// Manifests one API process builds at once. A stadium's takes about 5 MB and a few hundred
/// milliseconds of one core (every ticket's secret derived and its entry sealed); more
/// requests meanwhile are 429 with `Retry-After` (scanners sync before the doors open, not all
/// in one second).
pub const MANIFEST_BUILDS_MAX: usize = 2;
/// Largest upload body: [`UPLOAD_SCANS_MAX`] scans of at most about 150 bytes of JSON each
/// (every number at its widest), with room for spacing. A test measures the widest.
pub const UPLOAD_BODY_BYTES_MAX: usize = 256 * 1_024;

/// Seats of the largest stadium a manifest must hold (Seoul's World Cup stadium seats about
/// 66,000; the brief asks for 50,000).
const STADIUM_SEATS: usize = 66_000;
// Checked when compiling: a stadium fits, with every seat cancelled and resold several times,
// and the page reads cover every ticket a manifest can list.
const _: () = assert!(STADIUM_SEATS <= MANIFEST_TICKETS_MAX);
const _: () = assert!(STADIUM_SEATS * 4 <= MANIFEST_SOURCE_TICKETS_MAX);
const _: () = assert!(MANIFEST_PAGES_MAX * TICKETS_PAGE_MAX > MANIFEST_SOURCE_TICKETS_MAX);

/// A performance's manifest key: the Ed25519 key whose seed is HMAC-SHA256(ticket key, label ‖
/// performance id, big-endian). One per performance, derived whenever needed, so no key is
/// stored and a manifest of one performance never verifies as another's.
pub fn manifest_key(key: &TicketKey, performance: PerformanceId) -> ManifestKey {
    let mut mac = Hmac::<Sha256>::new_from_slice(&key.0).expect("HMAC takes any key");
    mac.update(MANIFEST_KEY_LABEL);
    mac.update(&performance.0.to_be_bytes());
    ManifestKey::from_seed(&mac.finalize().into_bytes().into())
}

/// The API's router for the door offline, with the upload's own body limit.
pub fn router() -> Router<Arc<Api>> {
    Router::new()
        .route("/api/v2/performances/{id}/door", get(door))
        .route("/api/v2/performances/{id}/door/manifest", get(manifest))
        .route("/api/v2/performances/{id}/door/uploads", post(upload))
        .layer(DefaultBodyLimit::max(UPLOAD_BODY_BYTES_MAX))
}

/// The performance's spec, for staff of its show only.
async fn staff_spec(
    api: &Api,
    who: &Authenticated,
    performance: i64,
) -> Result<PerformanceSpec, ApiError> {
    door_staff(api, who, performance).await?;
    performance_spec(api, performance)
        .await?
        .ok_or(ApiError::NotFound("performance"))
}

fn ledger_of(api: &Api) -> Result<&picket_ledger_client::LedgerClient, ApiError> {
    api.ledger.as_ref().ok_or(ApiError::LedgerUnavailable)
}

/// A scan as staff and the seller read it: `scanner` is the offline scanner's id, `null` for an
/// online scan.
fn scan_json(scan: &Scan) -> Value {
    let scanner = match scan.source {
        ScanSource::Online => None,
        ScanSource::Offline { scanner, .. } => Some(Id(scanner)),
    };
    json!({
        "at_ms": scan.at_ms,
        "gate": scan.gate.0,
        "direction": direction_name(scan.direction),
        "scanner": scanner,
    })
}

fn direction_name(direction: Direction) -> &'static str {
    match direction {
        Direction::Entry => "entry",
        Direction::Exit => "exit",
    }
}

fn conflict_json(conflict: &Conflict) -> Value {
    json!({
        "ticket": Id(conflict.ticket.0),
        "kept": scan_json(&conflict.kept),
        "duplicate": scan_json(&conflict.duplicate),
    })
}

fn counters_json(report: &DoorReport) -> Value {
    let by_gate_minute: Vec<Value> = report
        .by_gate_minute
        .iter()
        .map(|g| json!({"gate": g.gate.0, "minute_ms": g.minute_ms, "admitted": g.admitted}))
        .collect();
    let conflicts: Vec<Value> = report.conflicts.iter().map(conflict_json).collect();
    json!({
        "admitted": report.admitted,
        "inside": report.inside,
        "no_shows": report.no_shows,
        "by_gate_minute": by_gate_minute,
        "conflicts": conflicts,
        "conflicts_total": report.conflicts_total,
    })
}

/// `GET /api/v2/performances/{id}/door` (staff of the show, its seller, an admin): what a
/// scanner keeps to work offline and the door's counters now.
pub async fn door(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Path(Id(performance)): Path<Id<i64>>,
) -> Result<Response, ApiError> {
    let spec = staff_spec(&api, &who, performance).await?;
    let id = PerformanceId(performance as u64);
    let report = ledger_of(&api)?
        .door_report(id)
        .await
        .map_err(|_| ApiError::LedgerUnavailable)?
        .ok_or(ApiError::NotFound("performance"))?;
    let gates: Vec<Value> = spec
        .door
        .gates
        .iter()
        .map(|g| json!({"id": g.id.0, "label": g.label}))
        .collect();
    let public_key = hex::encode(manifest_key(&api.config.ticket_key, id).public());
    let body = json!({
        "performance": Id(id.0),
        "starts_at_ms": spec.starts_at_ms,
        "doors_open_ms": doors_open_ms(&api, &spec),
        "gates": gates,
        "reentry": spec.door.reentry,
        "static_tickets": spec.door.static_tickets,
        "manifest": {
            "format": MANIFEST_FORMAT,
            "public_key": public_key,
            "tickets_max": MANIFEST_TICKETS_MAX,
            "revoked_max": MANIFEST_REVOKED_MAX,
        },
        "upload_scans_max": UPLOAD_SCANS_MAX,
        "counters": counters_json(&report),
    });
    Ok(no_store(axum::Json(body).into_response()))
}

fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    response
}

fn manifest_too_large() -> ApiError {
    ApiError::Conflict(
        "이 공연의 티켓이 매니페스트 한도를 넘습니다 (the performance has more tickets than a \
         manifest holds)",
    )
}

/// Every ticket of the performance, page by page from the ledger: at most
/// [`MANIFEST_SOURCE_TICKETS_MAX`] in [`MANIFEST_PAGES_MAX`] reads.
async fn every_ticket(api: &Api, performance: PerformanceId) -> Result<Vec<TicketView>, ApiError> {
    let ledger = ledger_of(api)?;
    let mut tickets: Vec<TicketView> = Vec::new();
    let mut after: Option<TicketId> = None;
    for _ in 0..MANIFEST_PAGES_MAX {
        let page = ledger
            .tickets(performance, after, TICKETS_PAGE_MAX as u32)
            .await
            .map_err(|_| ApiError::LedgerUnavailable)?
            .ok_or(ApiError::NotFound("performance"))?;
        let last_page = page.len() < TICKETS_PAGE_MAX;
        // The ledger answers ascending ids above `after`; anything else would loop or repeat.
        if page
            .iter()
            .any(|t| after.is_some_and(|a| t.ticket <= a) || t.performance != performance)
            || page.windows(2).any(|pair| pair[0].ticket >= pair[1].ticket)
        {
            return Err(ApiError::Internal(
                "the ledger's tickets page is out of order".into(),
            ));
        }
        after = page.last().map(|t| t.ticket).or(after);
        tickets.extend(page);
        if tickets.len() > MANIFEST_SOURCE_TICKETS_MAX {
            return Err(manifest_too_large());
        }
        if last_page {
            return Ok(tickets);
        }
    }
    Err(manifest_too_large())
}

/// `GET /api/v2/performances/{id}/door/manifest` (staff of the show, its seller, an admin): the
/// signed manifest of every ticket now (`PKM1`, docs/protocol.md "The offline manifest").
pub async fn manifest(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Path(Id(performance)): Path<Id<i64>>,
) -> Result<Response, ApiError> {
    let spec = staff_spec(&api, &who, performance).await?;
    let Ok(_building) = api.manifest_builds.try_acquire() else {
        return Err(ApiError::TooManyAttempts { retry_after_s: 1 });
    };
    let id = PerformanceId(performance as u64);
    let tickets = every_ticket(&api, id).await?;
    let rules = DoorRules::for_door(id, &spec.door, doors_open_ms(&api, &spec));
    let key = api.config.ticket_key.clone();
    let issued_at_ms = now_ms();
    let nonce_seed: [u8; 32] = rand::random();
    // Deriving every secret and sealing every entry is CPU work: off the async workers.
    let signed = tokio::task::spawn_blocking(move || {
        let mut roster = Roster {
            rules,
            tickets: Default::default(),
        };
        for view in &tickets {
            roster.tickets.insert(
                view.ticket,
                RosterTicket {
                    secret: ticket_secret(&key, view),
                    facts: door_facts(&spec, view),
                    revoked: view.cancelled,
                },
            );
        }
        Manifest::build(&roster, issued_at_ms, &nonce_seed)
            .map(|manifest| manifest.sign(&manifest_key(&key, id)))
    })
    .await
    .map_err(|error| ApiError::Internal(format!("the manifest build failed: {error}")))?
    .map_err(|_| manifest_too_large())?;
    // A scanner refuses a manifest past this before reading it: never send one.
    if signed.len() > MANIFEST_BYTES_MAX {
        return Err(manifest_too_large());
    }
    tracing::info!(
        performance = id.0,
        bytes = signed.len(),
        "door manifest built"
    );
    Ok(no_store(
        ([(header::CONTENT_TYPE, "application/octet-stream")], signed).into_response(),
    ))
}

#[derive(Clone, Copy, Debug, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UploadDirection {
    Entry,
    Exit,
}

/// One scan a scanner decided offline, as it uploads it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadedScan {
    pub ticket: Id<u64>,
    /// The generation of the code the scanner verified.
    pub generation: u8,
    /// When the scanner decided it, by its clock.
    pub at_ms: u64,
    pub gate: u16,
    pub direction: UploadDirection,
    /// Chosen by the scanner, once per scan: an upload repeated is recorded once.
    pub nonce: Id<u64>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadForm {
    /// The scanner's id: a random u64 the device chose once.
    pub scanner: Id<u64>,
    pub scans: Vec<UploadedScan>,
}

impl UploadForm {
    fn offline_scans(&self) -> Vec<OfflineScan> {
        self.scans
            .iter()
            .map(|s| OfflineScan {
                ticket: TicketId(s.ticket.0),
                generation: s.generation,
                at_ms: s.at_ms,
                gate: GateId(s.gate),
                direction: match s.direction {
                    UploadDirection::Entry => Direction::Entry,
                    UploadDirection::Exit => Direction::Exit,
                },
                scanner: self.scanner.0,
                nonce: s.nonce.0,
            })
            .collect()
    }
}

/// The idempotency key of an upload: the same scanner's same scans (in the same order) for the
/// same performance are the same command, so a retry after a lost answer gets the first answer.
pub fn upload_key(performance: PerformanceId, scans: &[OfflineScan]) -> IdempotencyKey {
    let mut hash = Sha256::new();
    hash.update(b"picket offline upload v1");
    hash.update(performance.0.to_be_bytes());
    hash.update((scans.len() as u64).to_be_bytes());
    for scan in scans {
        hash.update(scan.ticket.0.to_be_bytes());
        hash.update([scan.generation]);
        hash.update(scan.at_ms.to_be_bytes());
        hash.update(scan.gate.0.to_be_bytes());
        hash.update([u8::from(scan.direction == Direction::Exit)]);
        hash.update(scan.scanner.to_be_bytes());
        hash.update(scan.nonce.to_be_bytes());
    }
    let digest = hash.finalize();
    IdempotencyKey::new(format!("upload-{}", hex::encode(&digest[..16])))
        .expect("39 ASCII bytes are a key")
}

fn refusal_name(reason: ScanRefusal) -> &'static str {
    match reason {
        ScanRefusal::UnknownTicket => "unknown_ticket",
        ScanRefusal::Revoked => "revoked",
        ScanRefusal::UnknownGate => "unknown_gate",
        ScanRefusal::ScanAhead => "scan_ahead",
        ScanRefusal::TooManyScans => "too_many_scans",
    }
}

fn refused_json(refused: &RefusedScan) -> Value {
    json!({
        "ticket": Id(refused.ticket.0),
        "nonce": Id(refused.nonce),
        "reason": refusal_name(refused.reason),
    })
}

/// `POST /api/v2/performances/{id}/door/uploads` (staff of the show, its seller, an admin): an
/// offline scanner's queued scans, recorded by the ledger's `UploadScans` (first scan wins by
/// scan time; each scanner and nonce once) with the conflicts they make.
pub async fn upload(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Path(Id(performance)): Path<Id<i64>>,
    JsonBody(form): JsonBody<UploadForm>,
) -> Result<Response, ApiError> {
    if form.scans.len() > UPLOAD_SCANS_MAX {
        return Err(ApiError::Invalid(vec![FieldError {
            field: "scans",
            message: format!(
                "한 번에 최대 {UPLOAD_SCANS_MAX}건까지 올릴 수 있습니다 (at most \
                 {UPLOAD_SCANS_MAX} scans an upload; send the rest in another)"
            ),
        }]));
    }
    staff_spec(&api, &who, performance).await?;
    let id = PerformanceId(performance as u64);
    let scans = form.offline_scans();
    let request = Request {
        actor: ActorId(who.account_id as u64),
        key: upload_key(id, &scans),
        command: Command::UploadScans {
            performance: id,
            scans,
        },
    };
    let outcome = ledger_of(&api)?
        .submit(request)
        .await
        .map_err(|_| ApiError::LedgerUnavailable)?;
    match outcome {
        Ok(Reply::ScansUploaded {
            recorded,
            repeated,
            refused,
            conflicts,
        }) => {
            if !conflicts.is_empty() {
                tracing::warn!(
                    performance = id.0,
                    scanner = form.scanner.0,
                    conflicts = conflicts.len(),
                    "offline scans let a ticket in twice"
                );
            }
            let refused: Vec<Value> = refused.iter().map(refused_json).collect();
            let conflicts: Vec<Value> = conflicts.iter().map(conflict_json).collect();
            Ok(axum::Json(json!({
                "recorded": recorded,
                "repeated": repeated,
                "refused": refused,
                "conflicts": conflicts,
            }))
            .into_response())
        }
        Ok(other) => Err(ApiError::Internal(format!(
            "the ledger answered UploadScans with {other:?}"
        ))),
        Err(rejection) => Err(ApiError::Rejected(rejection)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manifest_keys_are_hmac_seeds_per_performance() {
        let key = TicketKey([5; 32]);
        let one = manifest_key(&key, PerformanceId(1)).public();
        assert_ne!(one, manifest_key(&key, PerformanceId(2)).public());
        assert_ne!(
            one,
            manifest_key(&TicketKey([6; 32]), PerformanceId(1)).public()
        );
        // The seed by HMAC-SHA256's definition, not by this function: the label, then the id.
        let mut mac = Hmac::<Sha256>::new_from_slice(&[5; 32]).expect("key");
        mac.update(b"picket performance manifest key v1");
        mac.update(&[0, 0, 0, 0, 0, 0, 0, 1]);
        let seed: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(one, ManifestKey::from_seed(&seed).public());
        // Never the ticket master's key: another label.
        let master = crate::tickets::performance_master(&key, PerformanceId(1));
        assert_ne!(one, ManifestKey::from_seed(&master).public());
    }

    /// The signed manifest of `valid` tickets with the widest labels the API makes (grade and
    /// section, row and zone names at the ledger's 32 bytes, a seat number at its widest, an
    /// eligibility discount's label at 64 bytes) and `revoked` cancelled ones, all at the
    /// widest ids.
    fn widest_manifest(valid: u64, revoked: u64) -> Vec<u8> {
        use picket_ledger_core::limits::{LABEL_LEN_MAX, OFFER_LABEL_LEN_MAX};
        let key = TicketKey([9; 32]);
        let performance = PerformanceId(u64::MAX);
        let master = crate::tickets::performance_master(&key, performance);
        let label = |len: usize| format!("{}{}", "가".repeat(len / 3), "A".repeat(len % 3));
        let facts = picket_tickets::DoorFacts {
            grade: label(LABEL_LEN_MAX),
            place: format!(
                "{} {}열 {}번",
                label(LABEL_LEN_MAX),
                label(LABEL_LEN_MAX),
                u16::MAX
            ),
            holder: "#9999".into(),
            proof: Some(label(OFFER_LABEL_LEN_MAX)),
        };
        let mut roster = Roster {
            rules: DoorRules {
                performance,
                doors_open_ms: u64::MAX,
                printed_codes: true,
                reentry: true,
            },
            tickets: Default::default(),
        };
        for n in 0..valid + revoked {
            let ticket = TicketId(u64::MAX - n);
            roster.tickets.insert(
                ticket,
                RosterTicket {
                    secret: picket_tickets::TicketSecret::derive(&master, performance, ticket, 255),
                    facts: facts.clone(),
                    revoked: n >= valid,
                },
            );
        }
        let manifest = Manifest::build(&roster, u64::MAX, &[1; 32]).expect("builds");
        manifest.sign(&manifest_key(&key, performance))
    }

    #[test]
    fn a_full_manifest_of_the_widest_tickets_is_one_scanners_open() {
        let base = widest_manifest(0, 0).len();
        let entry = widest_manifest(2, 0).len() - widest_manifest(1, 0).len();
        let revocation = widest_manifest(0, 2).len() - widest_manifest(0, 1).len();
        assert!(entry > 100 && revocation > 0, "{entry} {revocation}");
        // The lists' counts are varints: a few bytes more when full.
        let full = base + 8 + entry * MANIFEST_TICKETS_MAX + revocation * MANIFEST_REVOKED_MAX;
        assert!(
            full <= MANIFEST_BYTES_MAX,
            "a full manifest of the widest tickets is {full} bytes"
        );
    }

    fn widest_scan(nonce: u64) -> Value {
        json!({"ticket": u64::MAX.to_string(), "generation": u8::MAX, "at_ms": u64::MAX,
            "gate": u16::MAX, "direction": "entry", "nonce": nonce.to_string()})
    }

    #[test]
    fn the_widest_full_upload_fits_its_body_limit() {
        let scans: Vec<Value> = (0..UPLOAD_SCANS_MAX as u64)
            .map(|n| widest_scan(u64::MAX - n))
            .collect();
        let body = json!({"scanner": u64::MAX.to_string(), "scans": scans}).to_string();
        assert!(
            body.len() <= UPLOAD_BODY_BYTES_MAX * 3 / 4,
            "a full upload is {} bytes",
            body.len()
        );
        let form: UploadForm = crate::json::decode_bytes(body.as_bytes()).expect("decodes");
        assert_eq!(form.offline_scans().len(), UPLOAD_SCANS_MAX);
    }

    #[test]
    fn an_upload_key_names_its_scans() {
        let scan = OfflineScan {
            ticket: TicketId(5),
            generation: 0,
            at_ms: 1_000,
            gate: GateId(1),
            direction: Direction::Entry,
            scanner: 7,
            nonce: 9,
        };
        let performance = PerformanceId(77);
        let key = upload_key(performance, &[scan]);
        assert_eq!(key, upload_key(performance, &[scan]), "a retry is the same");
        assert!(key.as_str().len() <= picket_ledger_core::limits::IDEMPOTENCY_KEY_LEN_MAX);
        let changes = [
            OfflineScan { nonce: 10, ..scan },
            OfflineScan { scanner: 8, ..scan },
            OfflineScan {
                at_ms: 1_001,
                ..scan
            },
            OfflineScan {
                direction: Direction::Exit,
                ..scan
            },
            OfflineScan {
                generation: 1,
                ..scan
            },
            OfflineScan {
                gate: GateId(2),
                ..scan
            },
            OfflineScan {
                ticket: TicketId(6),
                ..scan
            },
        ];
        for changed in changes {
            assert_ne!(key, upload_key(performance, &[changed]), "{changed:?}");
        }
        assert_ne!(key, upload_key(PerformanceId(78), &[scan]));
        assert_ne!(key, upload_key(performance, &[scan, scan]));
    }
}
