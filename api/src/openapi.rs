//! The OpenAPI 3.1 document of every route under `/api`, served at `/api/openapi.json`.
//! `tests/openapi.rs` checks that every route the router serves is in it and the other way round.

use axum::Json;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use picket_edge::problem::{CODES, PROBLEM_TYPE_BASE};

/// Every route the API serves (the operator's sale and performance routes too): method and path.
pub const ROUTES: [(&str, &str); 90] = [
    ("get", "/api/openapi.json"),
    ("post", "/api/v2/shows/{id}/staff"),
    ("get", "/api/v2/staff/shows"),
    ("get", "/api/v2/me/bookings"),
    ("put", "/api/v2/guest/contact"),
    ("get", "/api/v2/guest/bookings"),
    ("get", "/api/v2/guest-bookings"),
    ("get", "/api/v2/notices"),
    ("post", "/api/v2/notices"),
    ("get", "/api/v2/shows/{id}/notices"),
    ("post", "/api/v2/shows/{id}/notices"),
    ("get", "/api/v2/shows/{id}/questions"),
    ("post", "/api/v2/shows/{id}/questions"),
    ("post", "/api/v2/questions/{id}/answer"),
    ("post", "/api/v2/posts/{id}/hide"),
    ("get", "/api/v2/shows/{id}/banner"),
    ("put", "/api/v2/shows/{id}/banner"),
    ("post", "/api/v2/venues"),
    ("get", "/api/v2/venues/{id}"),
    ("put", "/api/v2/venues/{id}"),
    ("get", "/api/v2/shows"),
    ("post", "/api/v2/shows"),
    ("get", "/api/v2/shows/{id}"),
    ("get", "/api/v2/performances/{id}"),
    ("post", "/api/v2/shows/{id}/performances"),
    ("post", "/api/v2/shows/{id}/publish"),
    ("get", "/api/v2/me/interests"),
    ("put", "/api/v2/me/interests"),
    ("get", "/api/v2/me/notifications"),
    ("post", "/api/v2/me/notifications/read"),
    ("post", "/api/v2/companies"),
    ("get", "/api/v2/companies/mine"),
    ("get", "/api/v2/companies/mine/shows"),
    ("get", "/api/v2/companies/mine/venues"),
    ("get", "/api/v2/cancellation-fees/standard"),
    ("post", "/api/v2/admin/accounts"),
    ("post", "/api/v2/accounts"),
    ("post", "/api/v2/sessions"),
    ("delete", "/api/v2/sessions/current"),
    ("get", "/api/v2/me"),
    ("post", "/api/v2/performances"),
    ("get", "/api/v2/sales/{sale}"),
    ("put", "/api/v2/sales/{sale}"),
    ("get", "/api/v2/sales/{sale}/draw"),
    ("post", "/api/v2/performances/{id}/cancel"),
    ("put", "/api/v2/performances/{id}/sale"),
    ("get", "/api/v2/shows/{id}/settlement"),
    // Payments (`add_payment_paths`).
    ("post", "/api/v2/checkout"),
    ("get", "/api/v2/payments/success"),
    ("get", "/api/v2/payments/fail"),
    ("post", "/api/v2/payments/webhook"),
    // Tickets at the door (`add_ticket_paths`).
    ("get", "/api/v2/tickets/{id}"),
    ("post", "/api/v2/tickets/{id}/device"),
    ("get", "/api/v2/tickets/{id}/code.svg"),
    ("get", "/api/v2/tickets/{id}/code.png"),
    ("post", "/api/v2/performances/{id}/scans"),
    // Transfers, "my tickets" and printed codes (`add_transfer_paths`).
    ("post", "/api/v2/tickets/{id}/transfer"),
    ("get", "/api/v2/me/tickets"),
    ("get", "/api/v2/tickets/{id}/printed.svg"),
    ("get", "/api/v2/tickets/{id}/printed.png"),
    // The door offline (`add_door_paths`).
    ("get", "/api/v2/performances/{id}/door"),
    ("get", "/api/v2/performances/{id}/door/manifest"),
    ("post", "/api/v2/performances/{id}/door/uploads"),
    ("get", "/api/v2/performances/{id}/scanner"),
    // The cancellation waitlist (`add_waitlist_paths`).
    ("post", "/api/v2/performances/{id}/waitlist"),
    ("get", "/api/v2/performances/{id}/waitlist"),
    ("delete", "/api/v2/performances/{id}/waitlist/{entry}"),
    ("post", "/api/v2/performances/{id}/waitlist/{entry}/decline"),
    ("get", "/api/v2/me/waitlist"),
    // Reminders and notification choices (`add_notify_paths`).
    ("put", "/api/v2/performances/{id}/reminder"),
    ("delete", "/api/v2/performances/{id}/reminder"),
    ("get", "/api/v2/me/reminders"),
    ("get", "/api/v2/me/notification-settings"),
    ("put", "/api/v2/me/notification-settings"),
    // Web Push (`add_push_paths`).
    ("get", "/api/v2/push/key"),
    ("post", "/api/v2/me/push-subscriptions"),
    ("get", "/api/v2/me/push-subscriptions"),
    ("delete", "/api/v2/me/push-subscriptions/{id}"),
    // Payment methods for the waitlist's auto-pay (`add_billing_paths`).
    ("post", "/api/v2/me/billing-methods"),
    ("get", "/api/v2/me/billing-methods"),
    ("delete", "/api/v2/me/billing-methods/{id}"),
    ("get", "/api/v2/billing-methods/success"),
    // The services' status for admins (`add_platform_paths`).
    ("get", "/api/v2/admin/platform"),
    // The admin dashboard: seller approval, moderation, sales and operations (`add_admin_paths`).
    ("get", "/api/v2/admin/companies"),
    ("post", "/api/v2/admin/companies/{id}/approval"),
    ("get", "/api/v2/admin/posts"),
    ("post", "/api/v2/posts/{id}/unhide"),
    ("delete", "/api/v2/posts/{id}"),
    ("get", "/api/v2/admin/sales"),
    ("get", "/api/v2/admin/operations"),
];

pub async fn serve() -> impl IntoResponse {
    Json(document())
}

/// Unicode's `White_Space` characters, which Rust's `str::trim` removes and `char::is_whitespace`
/// matches, as a regular-expression class body (the same in ECMA-262 and Python, unlike `\s`).
const WHITE_SPACE: &str =
    "\\t-\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

/// A text field's rule as the server checks it (`venues::text_ok`): at most `max` characters as
/// sent, and not only whitespace.
fn text(max: usize) -> Value {
    json!({"type": "string", "minLength": 1, "maxLength": max, "pattern": format!("[^{WHITE_SPACE}]")})
}

/// An email as `accounts::normalize_email` takes it: at most `EMAIL_LEN_MAX` characters as sent,
/// whitespace only around it, one `@` with text before it and a domain with a dot inside.
fn email() -> Value {
    let ws = WHITE_SPACE;
    json!({"type": "string", "maxLength": crate::accounts::EMAIL_LEN_MAX, "examples": ["kim@example.com"],
        "pattern": format!("^[{ws}]*[^@{ws}]+@[^@.{ws}][^@{ws}]*\\.[^@{ws}]*[^@.{ws}][{ws}]*$")})
}

/// An integer of a Rust type's range, which the server's decoder enforces (400 `bad_body` or
/// `bad_parameter` outside it).
fn int(minimum: i128, maximum: i128) -> Value {
    json!({"type": "integer", "minimum": minimum, "maximum": maximum})
}

fn u64_any() -> Value {
    int(0, u64::MAX.into())
}

fn u16_any() -> Value {
    int(0, u16::MAX.into())
}

/// A performance's time, ms since the epoch, as the store keeps it.
fn time() -> Value {
    int(0, crate::shows::PERFORMANCE_TIME_MS_MAX.into())
}

/// An id the server answers with: decimal digits in a string (the `Id` component).
fn id() -> Value {
    schema("Id")
}

/// An id a client sends for one of the API's records (`i64` ids): up to 18 digits, so every
/// string the pattern allows is a number the server reads (the largest, 999…9, is below
/// `i64::MAX`; out of range is 400 `bad_parameter`).
fn id_in() -> Value {
    json!({"type": "string", "pattern": "^[0-9]{1,18}$", "examples": ["117701597864396273"]})
}

/// A sale or performance id a client sends (`u64`): up to 19 digits (below `u64::MAX`).
fn sale_in() -> Value {
    json!({"type": "string", "pattern": "^[0-9]{1,19}$", "examples": ["117701597864396273"]})
}

/// A seller's settlement and calling a performance off (`settlement.rs`).
fn add_refund_paths(doc: &mut Value) {
    let session = json!([{"session": []}]);
    let id_param = json!({"name": "id", "in": "path", "required": true, "schema": id_in()});
    let figures = json!({"bookings": {"type": "integer"}, "sales_won": {"type": "integer", "description": "what buyers paid, as the provider confirmed it"},
        "refunds_won": {"type": "integer", "description": "what cancellations gave back"}, "cancellation_fees_won": {"type": "integer", "description": "fees kept (part of sales − refunds)"},
        "booking_fees_won": {"type": "integer", "description": "booking fees kept, the seller's (part of sales − refunds): charged per ticket, refunded only on the day of booking or when a performance is called off"},
        "platform_commission_won": {"type": "integer", "description": "always 0: Picket takes no commission"},
        "net_payable_won": {"type": "integer", "description": "sales − refunds − commission"}});
    doc["paths"]["/api/v2/performances/{id}/cancel"] = json!({"post": {
        "operationId": "cancelPerformance",
        "summary": "Call a performance off (the show's seller, admin): no more holds or payments, open holds released, every valid ticket cancelled with a full refund (no fee), refunds paid through the provider by the refund worker; calling again goes on where a failed call stopped",
        "security": session,
        "parameters": [id_param],
        "requestBody": json_body(json!({"type": "object", "additionalProperties": false, "required": ["reason"],
            "properties": {"reason": {"allOf": [text(crate::settlement::CANCEL_REASON_CHARS_MAX)], "description": "shown to buyers and sent to the provider as the cancel reason"}}})),
        "responses": responses(json!({"200": json_response("cancelled", json!({"type": "object", "properties": {
            "performance": id(), "cancelled": {"type": "boolean"}, "holds_released": {"type": "integer"},
            "bookings_cancelled": {"type": "integer"}, "refund_won": {"type": "integer"}}}))}), BOTH, &[401, 403, 404, 422])
    }});
    doc["paths"]["/api/v2/performances/{id}/sale"] = json!({"put": {
        "operationId": "controlSale",
        "summary": "The seller's controls of their own performance's waiting room (the show's seller, admin): the admission rate and pausing; absent fields stay as they are, the other settings are the operator's (PUT /api/v2/sales/{sale}). Buyers waiting see status paused at their next queue push",
        "security": session,
        "parameters": [id_param],
        "requestBody": json_body(json!({"type": "object", "additionalProperties": false, "properties": {
            "admit_per_sec": {"type": "integer", "minimum": 1, "maximum": picket_room::ADMIT_PER_SEC_MAX, "description": "buyers admitted per second"},
            "paused": {"type": "boolean", "description": "true stops admitting (places are kept); false resumes"}}})),
        "responses": responses(json!({"200": json_response("the sale, as GET /api/v2/sales/{sale} answers it", schema("SaleView"))}), BOTH, &[401, 403, 404, 422])
    }});
    doc["paths"]["/api/v2/shows/{id}/settlement"] = json!({"get": {
        "operationId": "settlement",
        "summary": "A show's settlement per performance and in total, in whole won (the show's seller, admin); ?format=csv gives CSV with the columns performance, starts_at_ms, bookings, sales_won, refunds_won, cancellation_fees_won, booking_fees_won, platform_commission_won, net_payable_won and a final total row",
        "security": session,
        "parameters": [id_param, {"name": "format", "in": "query", "schema": {"type": "string", "enum": ["json", "csv"]}}],
        "responses": responses(json!({"200": {"description": "the settlement", "content": {
            "application/json": {"schema": {"type": "object", "properties": {
                "show": id(), "currency": {"type": "string", "const": "KRW"},
                "performances": {"type": "array", "items": {"type": "object", "properties": figures.clone()}},
                "total": {"type": "object", "properties": figures}}}},
            "text/csv": {"schema": {"type": "string"}}}}}), PARAMETERS, &[401, 403, 404, 422])
    }});
}

/// Tickets at the door (`tickets.rs`, docs/protocol.md "Ticket codes").
fn add_ticket_paths(doc: &mut Value) {
    let holder = json!([{"session": []}, {"guest": []}]);
    let session = json!([{"session": []}]);
    let ticket_param = json!([{"name": "id", "in": "path", "required": true, "schema": sale_in()}]);
    let no_store = json!({"Cache-Control": {"description": "no-store: a code changes every 15 s", "schema": {"type": "string", "const": "no-store"}}});
    doc["paths"]["/api/v2/tickets/{id}"] = json!({"get": {
        "operationId": "getTicket",
        "summary": "One's own ticket (member session or guest token; anyone else 404): what the door checks (seat or zone, grade, a discount needing proof, the performance's start, its gates) and the material the app makes codes with (format PK1, a new step every 15 s, the secret of the ticket's current generation), the device it is bound to and when, and its re-bindings so far",
        "security": holder, "parameters": ticket_param.clone(),
        "responses": responses(json!({"200": {"description": "the ticket", "headers": no_store.clone(),
            "content": {"application/json": {"schema": schema("Ticket")}}}}), PARAMETERS, &[401, 403, 404])
    }});
    doc["paths"]["/api/v2/tickets/{id}/device"] = json!({"post": {
        "operationId": "bindTicketDevice",
        "summary": format!("Bind one's own ticket to a device's Ed25519 public key (base64url, {} characters): the first binding is recorded; the same key again changes nothing; another key re-binds, which moves the ticket's secret to a new generation (codes of the old device are revoked) and counts against {} re-bindings (422 ledger_rejected too_many_rebinds past it; a cancelled ticket 422 ticket_cancelled). Answers the ticket as GET does", crate::tickets::PUBLIC_KEY_CHARS, picket_ledger_core::limits::REBINDS_PER_TICKET_MAX),
        "security": holder, "parameters": ticket_param.clone(),
        "requestBody": json_body(json!({"type": "object", "additionalProperties": false, "required": ["public_key"], "properties": {
            "public_key": {"type": "string", "pattern": format!("^[A-Za-z0-9_-]{{{}}}$", crate::tickets::PUBLIC_KEY_CHARS)}}})),
        "responses": responses(json!({"200": {"description": "the ticket, bound", "headers": no_store.clone(),
            "content": {"application/json": {"schema": schema("Ticket")}}}}), BOTH, &[401, 403, 404, 422])
    }});
    for (path, id, kind, media) in [
        (
            "/api/v2/tickets/{id}/code.svg",
            "ticketCodeSvg",
            "SVG",
            "image/svg+xml",
        ),
        (
            "/api/v2/tickets/{id}/code.png",
            "ticketCodePng",
            "PNG",
            "image/png",
        ),
    ] {
        doc["paths"][path] = json!({"get": {
            "operationId": id,
            "summary": format!("One's own ticket's rotating code now, as a QR code in {kind} (holder only; a cancelled ticket 422 ticket_cancelled); valid for its 15 s step and one step either side"),
            "security": holder.clone(), "parameters": ticket_param.clone(),
            "responses": responses(json!({"200": {"description": "the code", "headers": no_store.clone(),
                "content": {media: {"schema": {"type": "string", "format": "binary"}}}}}), PARAMETERS, &[401, 403, 404, 422])
        }});
    }
    doc["paths"]["/api/v2/performances/{id}/scans"] = json!({"post": {
        "operationId": "scanTicket",
        "summary": "An online scan at the door (staff assigned to the show, its seller, admin): the code is verified against the ledger's ticket, then the ledger records the scan, admitting a ticket once. Always 200 with a typed result: admitted (or exited), already_used {at_ms, gate}, wrong_performance, code_expired, revoked, not_yet_open, forged, proof_required {discount} (scan again with proof_checked once the proof was seen). A gate the venue does not have, or an exit the show does not allow, is 422 ledger_rejected",
        "security": session,
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": id_in()}],
        "requestBody": json_body(json!({"type": "object", "additionalProperties": false, "required": ["code", "direction"], "properties": {
            "code": {"type": "string", "description": "the text of the QR code"},
            "gate": u16_any(),
            "direction": {"type": "string", "enum": ["entry", "exit"]},
            "proof_checked": {"type": "boolean", "description": "staff saw the proof the ticket's discount needs"}}})),
        "responses": responses(json!({"200": json_response("the result", schema("ScanResult"))}), BOTH, &[401, 403, 404, 422])
    }});
    doc["paths"]["/api/v2/performances/{id}/scanner"] = json!({"get": {
        "operationId": "scannerStream",
        "summary": format!("The scanner's stream: a WebSocket upgrade (RFC 6455; docs/protocol.md, \"The scanner's stream\", has every message and close code). JSON text frames: the scanner first sends {{\"type\": \"hello\", \"token\": <session token>}} (staff assigned to the show, its seller, admin; else close 4001 or 4003), then {{\"type\": \"scan\", \"id\": <u32>, \"code\", \"gate\", \"direction\", \"proof_checked\"}} as scanTicket's body, each answered {{\"type\": \"result\", \"id\", …scanTicket's result}} or {{\"type\": \"error\", \"id\", \"code\", \"message\"}}; at most {} scans in flight, messages of at most {} bytes. A request that is not a WebSocket upgrade is 426 websocket_required; an unknown performance 404 before any upgrade", crate::scanner::SCANNER_IN_FLIGHT_MAX, crate::scanner::SCANNER_MESSAGE_BYTES_MAX),
        "security": [],
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": id_in()}],
        "responses": responses(json!({"101": {"description": "Switching Protocols: the WebSocket of the scanner's stream"}}), PARAMETERS, &[404, 426])
    }});
    let schemas = &mut doc["components"]["schemas"];
    schemas["Ticket"] = json!({"type": "object", "required": ["ticket", "performance", "booking", "starts_at_ms", "place", "grade", "discount", "gates", "cancelled", "static_code_allowed", "code", "device", "rebinds", "rebinds_max"], "properties": {
        "ticket": id(), "performance": id(), "booking": id(),
        "starts_at_ms": {"type": "integer"}, "place": {"type": "string"}, "grade": {"type": "string"},
        "discount": {"type": ["object", "null"], "properties": {"label": {"type": "string"}, "proof_at_entry": {"type": "boolean"}}},
        "gates": {"type": "array", "items": {"type": "string"}},
        "cancelled": {"type": "boolean"}, "static_code_allowed": {"type": "boolean"},
        "code": {"type": "object", "required": ["format", "step_ms", "generation", "mac_key", "seal"], "properties": {
            "format": {"const": crate::tickets::CODE_FORMAT}, "step_ms": {"type": "integer"},
            "generation": {"type": "integer", "minimum": 0, "maximum": 255},
            "mac_key": {"type": "string", "pattern": "^[0-9a-f]{64}$"}, "seal": {"type": "string", "pattern": "^[0-9a-f]{18}$"}}},
        "device": {"type": ["object", "null"], "properties": {"public_key": {"type": "string"}, "bound_at_ms": {"type": "integer"}}},
        "rebinds": {"type": "integer"}, "rebinds_max": {"type": "integer"}}});
    schemas["ScanResult"] = json!({"type": "object", "required": ["result"], "properties": {
        "result": {"type": "string", "enum": ["admitted", "exited", "already_used", "wrong_performance", "code_expired", "revoked", "not_yet_open", "forged", "proof_required"]},
        "ticket": id(), "at_ms": {"type": "integer"}, "gate": {"type": "integer"},
        "printed": {"type": "boolean"}, "grade": {"type": "string"}, "place": {"type": "string"},
        "holder": {"type": "string"}, "proof": {"type": ["string", "null"]},
        "discount": {"type": "string"}}});
}

/// Giving a ticket to another member, "my tickets" and printed codes (`transfer.rs`,
/// docs/protocol.md "Over HTTP").
fn add_transfer_paths(doc: &mut Value) {
    let holder = json!([{"session": []}, {"guest": []}]);
    let session = json!([{"session": []}]);
    let ticket_param = json!([{"name": "id", "in": "path", "required": true, "schema": sale_in()}]);
    doc["paths"]["/api/v2/tickets/{id}/transfer"] = json!({"post": {
        "operationId": "transferTicket",
        "summary": format!("Give one's own ticket to another member (the holder's member session; a guest's token 401 members_only: sign up first). The ledger moves the ticket's secret to a new generation, so the giver's codes are revoked at the door at once and the ticket is the recipient's (GET /api/v2/tickets/{{id}} is 404 for the giver; the recipient binds a device and shows its own codes). Refused: the show allows no transfers 409 transfers_off; its deadline (door.transfer_until_minutes_before_start before the start) passed 409 transfer_deadline_passed; the ticket was used at the door 409 ticket_used or cancelled 409 ticket_cancelled; given away {} times already 409 too_many_transfers; the recipient already holds the per-buyer limit of the performance 409 recipient_over_limit; to oneself 422 transfer_to_self; no member has to_email 422 unknown_member. Repeated after a lost answer, it transfers once (404 once it has, since the ticket is no longer the asker's)", picket_ledger_core::limits::TRANSFERS_PER_TICKET_MAX),
        "security": session.clone(), "parameters": ticket_param.clone(),
        "requestBody": json_body(json!({"type": "object", "additionalProperties": false, "required": ["to_email"], "properties": {
            "to_email": {"allOf": [email()], "description": "the recipient member's e-mail address"}}})),
        "responses": responses(json!({"200": json_response("given", json!({"type": "object", "required": ["ticket", "to"], "properties": {
            "ticket": id(), "to": {"type": "string", "description": "the recipient's address, masked (b***@example.com)"}}}))}), BOTH, &[401, 403, 404, 409, 422, 429])
    }});
    doc["paths"]["/api/v2/me/tickets"] = json!({"get": {
        "operationId": "myTickets",
        "summary": "Every ticket the member holds now, soonest performance first: those of their own bookings (less the ones given away or cancelled) and those other members gave them (received_from), with the show's title, the performance's start, the seat or zone and the grade",
        "security": session,
        "responses": responses(json!({"200": json_response("the tickets", schema("MyTickets"))}), NOTHING, &[401, 403])
    }});
    for (path, id, kind, media) in [
        (
            "/api/v2/tickets/{id}/printed.svg",
            "ticketPrintedSvg",
            "SVG",
            "image/svg+xml",
        ),
        (
            "/api/v2/tickets/{id}/printed.png",
            "ticketPrintedPng",
            "PNG",
            "image/png",
        ),
    ] {
        doc["paths"][path] = json!({"get": {
            "operationId": id,
            "summary": format!("One's own ticket's printed (static) code, PK1P, as a QR code in {kind} (holder only), where the show issues them (door.static_tickets; else 409 static_tickets_off; a cancelled ticket 422 ticket_cancelled). It does not rotate; the door admits it once and marks it printed. A transfer or a new device binding revokes it"),
            "security": holder.clone(), "parameters": ticket_param.clone(),
            "responses": responses(json!({"200": {"description": "the code", "headers": {"Cache-Control": {"description": "no-store", "schema": {"type": "string", "const": "no-store"}}},
                "content": {media: {"schema": {"type": "string", "format": "binary"}}}}}), PARAMETERS, &[401, 403, 404, 409, 422])
        }});
    }
    let handover = |who: &str| {
        json!({"type": ["object", "null"], "required": ["email", "at_ms"], "description": format!("null, or {who} (address masked, null when the account is gone) and when"), "properties": {
        "email": {"type": ["string", "null"]}, "at_ms": {"type": "integer"}}})
    };
    doc["components"]["schemas"]["MyTickets"] = json!({"type": "object", "required": ["items"], "properties": {
        "items": {"type": "array", "items": {"type": "object", "required": ["ticket", "booking", "performance", "show_id", "title", "starts_at_ms", "place", "grade", "received_from"], "properties": {
            "ticket": id(), "booking": id(), "performance": id(),
            "show_id": {"oneOf": [id(), {"type": "null"}]}, "title": {"type": ["string", "null"]},
            "starts_at_ms": {"type": ["integer", "null"]}, "place": {"type": "string"}, "grade": {"type": "string"},
            "received_from": handover("whom the ticket came from")}}}}});
    doc["components"]["schemas"]["Booking"]["properties"]["tickets"]["items"]["properties"]["transferred_to"] =
        handover("the member the buyer gave the ticket to");
    if let Some(required) =
        doc["components"]["schemas"]["Booking"]["properties"]["tickets"]["items"]["required"]
            .as_array_mut()
    {
        required.push(json!("transferred_to"));
    }
}

/// The cancellation waitlist (`waitlist.rs`, docs/protocol.md "Waitlist over HTTP").
fn add_waitlist_paths(doc: &mut Value) {
    use picket_ledger_core::limits::{WAITLIST_ENTRIES_MAX, WAITLIST_ENTRIES_PER_BUYER_MAX};
    let session = json!([{"session": []}]);
    let performance = json!({"name": "id", "in": "path", "required": true, "schema": id_in()});
    let entry = json!({"name": "entry", "in": "path", "required": true, "schema": sale_in()});
    let refusals = format!(
        "a guest's token 401 members_only (sign up first); no such performance 404; the show's waitlist is off 409 waitlist_closed; the performance started or was called off 409 waitlist_sales_closed; the quantity with the member's tickets and holds passes the per-buyer limit 409 over_buyer_limit; {WAITLIST_ENTRIES_PER_BUYER_MAX} entries of the member's in this performance already 409 too_many_waitlist_entries; the member waits in {} performances already 409 too_many_waitlists; {WAITLIST_ENTRIES_MAX} entries wait 409 waitlist_full; an unknown grade code or a quantity outside 1 to the per-buyer limit 422 invalid_request",
        crate::waitlist::WAITLISTS_PER_MEMBER_MAX
    );
    doc["paths"]["/api/v2/performances/{id}/waitlist"] = json!({
        "post": {
            "operationId": "joinWaitlist",
            "summary": format!("Join the performance's cancellation waitlist (a member): places freed by a cancellation, an expired hold or the seller go to the first matching entry in join order before they go back on sale. In `offer` mode they are held for the show's claim window (an offer, paid through POST /api/v2/checkout with its hold and no admission); in `auto_pay` mode the server charges the named registered payment method (GET /api/v2/me/billing-methods) for exactly the hold's amount and books it, or, when the card is declined, moves the places on to the next entry. Each join is a new entry. Refused: {refusals}; auto_pay naming no active payment method of the member's 404 unknown_billing_method; billing_method without auto_pay, or auto_pay without it, 422 invalid_request"),
            "security": session.clone(), "parameters": [performance.clone()],
            "requestBody": json_body(json!({"type": "object", "additionalProperties": false, "required": ["quantity"], "properties": {
                "grade": {"type": ["string", "null"], "default": null, "description": "a grade code of the performance; null: any grade"},
                "quantity": {"type": "integer", "minimum": 1, "maximum": u16::MAX, "description": "places, at most the show's per-buyer limit"},
                "together": {"type": "boolean", "default": false, "description": "adjacent seats in one row of one section, or one zone's places"},
                "mode": {"type": "string", "enum": ["offer", "auto_pay"], "default": "offer", "description": "offer: held for the member to pay within the claim window; auto_pay: charged to billing_method when places are found"},
                "billing_method": {"anyOf": [id_in(), {"type": "null"}], "default": null, "description": "the member's registered payment method (auto_pay only)"}}})),
            "responses": responses(json!({"201": json_response("joined", json!({"type": "object", "required": ["entry", "performance", "position"], "properties": {
                "entry": id(), "performance": id(), "position": {"type": "integer", "description": "among the entries that wait, 1 is next"}}}))}), BOTH, &[401, 403, 404, 409, 422])
        },
        "get": {
            "operationId": "waitlistReport",
            "summary": "The performance's waitlist numbers (the show's seller, admin; others 403): the show's waitlist settings, entries waiting per grade and for any grade, offers open now, places offered from the waitlist so far and those of them booked, places kept off sale for it now",
            "security": session.clone(), "parameters": [performance.clone()],
            "responses": responses(json!({"200": json_response("the numbers", schema("WaitlistReport"))}), PARAMETERS, &[401, 403, 404])
        }
    });
    doc["paths"]["/api/v2/performances/{id}/waitlist/{entry}"] = json!({"delete": {
        "operationId": "leaveWaitlist",
        "summary": "Leave the waitlist (the entry's member): an open offer's places move on to the next entry. Refused: a guest's token 401 members_only; no such entry of the member's that waits or is offered 404 unknown_waitlist_entry. Repeated after a lost answer, it is answered as the first time",
        "security": session.clone(), "parameters": [performance.clone(), entry.clone()],
        "responses": responses(json!({"200": json_response("left", json!({"type": "object", "required": ["entry", "released"], "properties": {
            "entry": id(), "released": {"anyOf": [id(), {"type": "null"}], "description": "the open offer's hold given back, if any"}}}))}), PARAMETERS, &[401, 403, 404])
    }});
    doc["paths"]["/api/v2/performances/{id}/waitlist/{entry}/decline"] = json!({"post": {
        "operationId": "declineWaitlistOffer",
        "summary": "Say no to the entry's open offer (the entry's member): its places move on to the next entry and the entry ends. Refused: a guest's token 401 members_only; no such entry 404 unknown_waitlist_entry; it still waits 409 no_waitlist_offer",
        "security": session.clone(), "parameters": [performance, entry],
        "responses": responses(json!({"200": json_response("declined", json!({"type": "object", "required": ["entry", "hold"], "properties": {
            "entry": id(), "hold": id()}}))}), PARAMETERS, &[401, 403, 404, 409])
    }});
    doc["paths"]["/api/v2/me/waitlist"] = json!({"get": {
        "operationId": "myWaitlist",
        "summary": format!("The member's live waitlist entries (waiting or offered), in {} performances at most: each with its performance and show title, grade (null: any), quantity, together, position overall and among entries of its grade (null once offered), the waitlist's size per grade, and an open offer (its hold, the sale to pass to POST /api/v2/checkout, places, amount and claim deadline). A guest's token 401 members_only", crate::waitlist::WAITLISTS_PER_MEMBER_MAX),
        "security": session,
        "responses": responses(json!({"200": json_response("the entries", schema("MyWaitlist"))}), NOTHING, &[401, 403])
    }});
    let sizes = json!({"type": "object", "required": ["per_grade", "any_grade"], "properties": {
        "per_grade": {"type": "array", "items": {"type": "object", "required": ["grade", "waiting"], "properties": {
            "grade": {"type": "string"}, "waiting": {"type": "integer"}}}},
        "any_grade": {"type": "integer"}}});
    let schemas = &mut doc["components"]["schemas"];
    schemas["WaitlistSettings"] = json!({"type": "object", "required": ["enabled", "claim_window_minutes", "freed_to_sale"], "properties": {
        "enabled": {"type": "boolean"}, "claim_window_minutes": {"type": "integer"}, "freed_to_sale": {"type": "boolean"}}});
    schemas["WaitlistReport"] = json!({"type": "object", "required": ["performance", "settings", "waiting", "offers_open", "places_offered", "places_booked", "places_reserved"], "properties": {
        "performance": id(), "settings": schema("WaitlistSettings"), "waiting": sizes.clone(),
        "offers_open": {"type": "integer"}, "places_offered": {"type": "integer"},
        "places_booked": {"type": "integer"}, "places_reserved": {"type": "integer"}}});
    schemas["MyWaitlist"] = json!({"type": "object", "required": ["entries"], "properties": {
        "entries": {"type": "array", "items": {"type": "object", "required": ["entry", "performance", "title", "grade", "quantity", "together", "joined_at_ms", "position", "sizes", "offer"], "properties": {
            "entry": id(), "performance": id(), "title": {"type": ["string", "null"]},
            "grade": {"type": ["string", "null"]}, "quantity": {"type": "integer"}, "together": {"type": "boolean"},
            "joined_at_ms": {"type": "integer"},
            "position": {"oneOf": [{"type": "null"}, {"type": "object", "required": ["overall", "in_grade"], "properties": {
                "overall": {"type": "integer"}, "in_grade": {"type": "integer"}}}]},
            "sizes": sizes,
            "offer": {"oneOf": [{"type": "null"}, {"type": "object", "required": ["hold", "sale", "places", "amount_won", "expires_at_ms"], "properties": {
                "hold": id(), "sale": id(), "amount_won": {"type": "integer"}, "expires_at_ms": {"type": "integer", "description": "the claim deadline"},
                "places": {"type": "array", "items": {"type": "object", "required": ["place", "grade_code", "price_won"], "properties": {
                    "place": {}, "grade_code": {"type": "string"}, "price_won": {"type": "integer"}}}}}}]}}}}}});
}

/// Reminders before ticket openings (`reminders.rs`) and a member's notification choices
/// (`notification_settings.rs`); docs/protocol.md "Notifications (HTTP API v2)".
fn add_notify_paths(doc: &mut Value) {
    let session = json!([{"session": []}]);
    let performance = json!({"name": "id", "in": "path", "required": true, "schema": id_in()});
    let reminder = json!({"type": "object", "required": ["performance", "show", "title", "opens_at_ms", "starts_at_ms", "hour_before", "ten_minutes_before"], "properties": {
        "performance": id(), "show": id(), "title": {"type": "string"},
        "opens_at_ms": {"type": "integer", "description": "the ticket opening (it follows the sale's settings)"},
        "starts_at_ms": {"type": "integer"},
        "hour_before": {"type": "boolean"}, "ten_minutes_before": {"type": "boolean"}}});
    doc["paths"]["/api/v2/performances/{id}/reminder"] = json!({
        "put": {
            "operationId": "setReminder",
            "summary": format!("Be reminded of the performance's ticket opening (members): a reminder notification 1 hour and 10 minutes before it, each of which can be turned off (both off: none, as DELETE). Asked again, it changes which are on; one already sent for this opening is not sent again, and one whose time has already come when asked is not sent. If the opening moves, the reminders follow it. Refused: no such performance of a published show 404; the opening has passed 409 conflict; reminders of {} other performances with openings to come 409 conflict", crate::reminders::REMINDERS_PER_MEMBER_MAX),
            "security": session.clone(), "parameters": [performance.clone()],
            "requestBody": json_body(json!({"type": "object", "additionalProperties": false, "properties": {
                "hour_before": {"type": "boolean", "default": true},
                "ten_minutes_before": {"type": "boolean", "default": true}}})),
            "responses": responses(json!({"200": json_response("the reminders of this performance", reminder.clone())}), BOTH, &[401, 403, 404, 409])
        },
        "delete": {
            "operationId": "clearReminder",
            "summary": "No more reminders of the performance's ticket opening (members; 204 whether or not there were any)",
            "security": session.clone(), "parameters": [performance],
            "responses": responses(json!({"204": {"description": "none left"}}), PARAMETERS, &[401, 403])
        }
    });
    doc["paths"]["/api/v2/me/reminders"] = json!({"get": {
        "operationId": "myReminders",
        "summary": "The member's reminders of ticket openings to come, soonest first (members)",
        "security": session.clone(),
        "responses": responses(json!({"200": json_response("the reminders", json!({"type": "object", "required": ["items"], "properties": {
            "items": {"type": "array", "maxItems": crate::reminders::REMINDERS_PER_MEMBER_MAX, "items": reminder}}}))}), NOTHING, &[401, 403])
    }});
    let channel = json!({"type": "object", "additionalProperties": false, "required": ["app", "push"], "properties": {
        "app": {"type": "boolean", "description": "live over the WebSocket while an app is connected"},
        "push": {"type": "boolean", "description": "Web Push to the member's devices"}}});
    let kinds: serde_json::Map<String, Value> = crate::notification_settings::KINDS
        .iter()
        .map(|kind| (kind.to_string(), channel.clone()))
        .collect();
    let language = json!({"type": "string", "enum": crate::notification_settings::LANGUAGES, "description": "the language notifications are written and delivered in, and the inbox's without Accept-Language"});
    let settings = json!({"type": "object", "required": ["language", "channels"], "properties": {
        "language": language.clone(),
        "channels": {"type": "object", "required": crate::notification_settings::KINDS, "properties": kinds.clone()}}});
    doc["paths"]["/api/v2/me/notification-settings"] = json!({
        "get": {
            "operationId": "notificationSettings",
            "summary": "The account's notification choices: language (ko by default) and, per kind, the channels (app, push; both on by default). The inbox keeps every notification whatever the choice",
            "security": session.clone(),
            "responses": responses(json!({"200": json_response("the choices", settings.clone())}), NOTHING, &[401])
        },
        "put": {
            "operationId": "setNotificationSettings",
            "summary": "Replace the account's notification choices: the language, and the channels of the kinds named (a kind not named gets both channels). Answers the choices in full",
            "security": session,
            "requestBody": json_body(json!({"type": "object", "additionalProperties": false, "required": ["language"], "properties": {
                "language": language,
                "channels": {"type": "object", "additionalProperties": false, "properties": kinds}}})),
            "responses": responses(json!({"200": json_response("the choices", settings)}), BODY, &[401, 422])
        }
    });
}

/// Payment methods for the waitlist's auto-pay (`billing.rs`, docs/payments.md "Auto-pay").
fn add_billing_paths(doc: &mut Value) {
    use crate::billing::{
        AUTH_KEY_BYTES_MAX, BILLING_METHODS_PER_MEMBER_MAX, CUSTOMER_KEY_BYTES_MAX,
    };
    let session = json!([{"session": []}]);
    let method = json!({"type": "object", "required": ["id", "card", "created_at_ms"], "properties": {
        "id": id(), "card": {"type": ["string", "null"], "description": "the card number as the provider masks it"},
        "created_at_ms": {"type": "integer"}}});
    doc["paths"]["/api/v2/me/billing-methods"] = json!({
        "post": {
            "operationId": "startBillingRegistration",
            "summary": format!("Start registering a card for the waitlist's auto-pay (a member): a new provider customerKey (unguessable; not the member's id) for the provider's billing window, opened with the client key (the sandbox's page at billing_url; Toss's SDK requestBillingAuth when it is null), its successUrl the app's origin plus success_path, its failUrl plus fail_path. Replaces the member's registration not yet completed. Refused: a guest's token 401 members_only; {BILLING_METHODS_PER_MEMBER_MAX} methods already 409 too_many_billing_methods; no payment provider 503 payment_unavailable"),
            "security": session.clone(),
            "responses": responses(json!({"201": json_response("started", json!({"type": "object", "required": ["customer_key", "success_path", "fail_path", "provider"], "properties": {
                "customer_key": {"type": "string"}, "success_path": {"type": "string"}, "fail_path": {"type": "string"},
                "provider": {"type": "object", "required": ["client_key", "billing_url"], "properties": {
                    "client_key": {"type": "string"}, "billing_url": {"type": ["string", "null"]}}}}}))}), NOTHING, &[401, 403, 409])
        },
        "get": {
            "operationId": "myBillingMethods",
            "summary": format!("The member's registered payment methods (at most {BILLING_METHODS_PER_MEMBER_MAX}), oldest first: the id a join names and the masked card; the provider's billing key never leaves the server. A guest's token 401 members_only"),
            "security": session.clone(),
            "responses": responses(json!({"200": json_response("the methods", json!({"type": "object", "required": ["methods"], "properties": {
                "methods": {"type": "array", "items": method.clone()}}}))}), NOTHING, &[401, 403])
        }
    });
    doc["paths"]["/api/v2/me/billing-methods/{id}"] = json!({"delete": {
        "operationId": "deleteBillingMethod",
        "summary": "Delete one of the member's payment methods (registered or still registering): its billing key is forgotten, and an auto-pay entry naming it fails its next charge (its places move on). Refused: a guest's token 401 members_only; no such method of the member's 404 unknown_billing_method",
        "security": session,
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": id_in()}],
        "responses": responses(json!({"204": {"description": "deleted"}}), PARAMETERS, &[401, 403, 404])
    }});
    doc["paths"]["/api/v2/billing-methods/success"] = json!({"get": {
        "operationId": "billingRegistered",
        "summary": format!("The successUrl of the provider's billing window: the customerKey names the registration (and so the member); the server trades the one-time authKey for a billing key with the provider and keeps it, and answers the method (or 303 to `return`, a path on this site). The same redirect again answers the same method. Refused: no registration with this customerKey 404 unknown_billing_method; the member has {BILLING_METHODS_PER_MEMBER_MAX} methods already 409 too_many_billing_methods; the provider refused the authKey 402 payment_declined or 404 payment_not_found; the provider is unavailable 503 payment_unavailable"),
        "security": [],
        "parameters": [
            {"name": "customerKey", "in": "query", "required": true, "schema": {"type": "string", "maxLength": CUSTOMER_KEY_BYTES_MAX}},
            {"name": "authKey", "in": "query", "required": true, "schema": {"type": "string", "maxLength": AUTH_KEY_BYTES_MAX}},
            {"name": "return", "in": "query", "schema": {"type": "string", "maxLength": crate::payments::RETURN_PATH_BYTES_MAX}}],
        "responses": responses(json!({
            "200": json_response("registered", method),
            "303": {"description": "registered; to the `return` path"}}), PARAMETERS, &[402, 404, 409])
    }});
}

/// The door offline (`door.rs`, docs/protocol.md "Offline scanners over HTTP").
fn add_door_paths(doc: &mut Value) {
    use picket_ledger_core::limits::{
        DOOR_REPORT_CONFLICTS_MAX, DOOR_REPORT_GATE_MINUTES_MAX, UPLOAD_SCANS_MAX,
    };
    let session = json!([{"session": []}]);
    let performance = json!([{"name": "id", "in": "path", "required": true, "schema": id_in()}]);
    let no_store = json!({"Cache-Control": {"description": "no-store", "schema": {"type": "string", "const": "no-store"}}});
    doc["paths"]["/api/v2/performances/{id}/door"] = json!({"get": {
        "operationId": "getDoor",
        "summary": "What an offline scanner keeps (staff assigned to the show, its seller, admin; others 403): the performance's manifest key (Ed25519 public key, 64 hex digits) and format PKM1, its gates, re-entry, whether printed codes are accepted, when the doors open and the start; and the door's counters now: admissions by gate and minute, admitted, inside, no-shows, the newest conflicts (a ticket let in twice: the entry kept and the duplicate, with when, which gate and which scanner) and their total",
        "security": session.clone(), "parameters": performance.clone(),
        "responses": responses(json!({"200": {"description": "the door", "headers": no_store.clone(),
            "content": {"application/json": {"schema": schema("Door")}}}}), PARAMETERS, &[401, 403, 404])
    }});
    doc["paths"]["/api/v2/performances/{id}/door/manifest"] = json!({"get": {
        "operationId": "getDoorManifest",
        "summary": format!("The performance's signed offline manifest now (staff assigned to the show, its seller, admin): PKM1, signed with the key GET /door names; every valid ticket as a sealed entry at its current generation, cancelled ones revoked. At most {} tickets and {} revocations (409 conflict past it). At most {} are built at once by one server: 429 too_many_attempts with Retry-After meanwhile", picket_tickets::limits::MANIFEST_TICKETS_MAX, picket_tickets::limits::MANIFEST_REVOKED_MAX, crate::door::MANIFEST_BUILDS_MAX),
        "security": session.clone(), "parameters": performance.clone(),
        "responses": responses(json!({"200": {"description": "the manifest's bytes", "headers": no_store,
            "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}), PARAMETERS, &[401, 403, 404, 409, 429])
    }});
    let scan = json!({"type": "object", "additionalProperties": false, "required": ["ticket", "generation", "at_ms", "gate", "direction", "nonce"], "properties": {
        "ticket": sale_in(), "generation": {"type": "integer", "minimum": 0, "maximum": 255},
        "at_ms": u64_any(), "gate": u16_any(),
        "direction": {"type": "string", "enum": ["entry", "exit"]},
        "nonce": {"type": "string", "pattern": "^[0-9]{1,19}$", "description": "a u64 the scanner chose at random (below 2^63) for this scan"}}});
    doc["paths"]["/api/v2/performances/{id}/door/uploads"] = json!({"post": {
        "operationId": "uploadDoorScans",
        "summary": format!("An offline scanner's queued scans (staff assigned to the show, its seller, admin), at most {UPLOAD_SCANS_MAX} an upload (422 invalid_request past it; a body over {} bytes 413): the ledger records each scanner and nonce once (repeated ones are counted), first scan wins by scan time, and answers what it recorded, repeated, refused (unknown_ticket, revoked: cancelled or an old generation, unknown_gate, scan_ahead: over 5 minutes past the server's clock, too_many_scans) and the conflicts the upload made. The same body again is the same command and gets the same answer", crate::door::UPLOAD_BODY_BYTES_MAX),
        "security": session, "parameters": performance,
        "requestBody": json_body(json!({"type": "object", "additionalProperties": false, "required": ["scanner", "scans"], "properties": {
            "scanner": {"type": "string", "pattern": "^[0-9]{1,19}$", "description": "the scanner's id: a u64 the device chose at random (below 2^63) once"},
            "scans": {"type": "array", "maxItems": UPLOAD_SCANS_MAX, "items": scan}}})),
        "responses": responses(json!({"200": json_response("what the ledger recorded", schema("DoorUpload"))}), BOTH, &[401, 403, 404, 422])
    }});
    let schemas = &mut doc["components"]["schemas"];
    schemas["DoorScan"] = json!({"type": "object", "required": ["at_ms", "gate", "direction", "scanner"], "properties": {
        "at_ms": {"type": "integer"}, "gate": {"type": "integer"},
        "direction": {"type": "string", "enum": ["entry", "exit"]},
        "scanner": {"anyOf": [id(), {"type": "null"}], "description": "the offline scanner; null for an online scan"}}});
    schemas["DoorConflict"] = json!({"type": "object", "required": ["ticket", "kept", "duplicate"], "properties": {
        "ticket": id(), "kept": schema("DoorScan"), "duplicate": schema("DoorScan")}});
    schemas["Door"] = json!({"type": "object", "required": ["performance", "starts_at_ms", "doors_open_ms", "gates", "reentry", "static_tickets", "manifest", "upload_scans_max", "counters"], "properties": {
        "performance": id(), "starts_at_ms": {"type": "integer"}, "doors_open_ms": {"type": "integer"},
        "gates": {"type": "array", "items": {"type": "object", "required": ["id", "label"], "properties": {"id": {"type": "integer"}, "label": {"type": "string"}}}},
        "reentry": {"type": "boolean"}, "static_tickets": {"type": "boolean"},
        "manifest": {"type": "object", "required": ["format", "public_key", "tickets_max", "revoked_max"], "properties": {
            "format": {"const": crate::door::MANIFEST_FORMAT},
            "public_key": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "tickets_max": {"type": "integer"}, "revoked_max": {"type": "integer"}}},
        "upload_scans_max": {"type": "integer"},
        "counters": {"type": "object", "required": ["admitted", "inside", "no_shows", "by_gate_minute", "conflicts", "conflicts_total"], "properties": {
            "admitted": {"type": "integer"}, "inside": {"type": "integer"}, "no_shows": {"type": "integer"},
            "by_gate_minute": {"type": "array", "maxItems": DOOR_REPORT_GATE_MINUTES_MAX, "items": {"type": "object", "required": ["gate", "minute_ms", "admitted"], "properties": {
                "gate": {"type": "integer"}, "minute_ms": {"type": "integer"}, "admitted": {"type": "integer"}}}},
            "conflicts": {"type": "array", "maxItems": DOOR_REPORT_CONFLICTS_MAX, "items": schema("DoorConflict")},
            "conflicts_total": {"type": "integer"}}}}});
    schemas["DoorUpload"] = json!({"type": "object", "required": ["recorded", "repeated", "refused", "conflicts"], "properties": {
        "recorded": {"type": "integer"}, "repeated": {"type": "integer"},
        "refused": {"type": "array", "items": {"type": "object", "required": ["ticket", "nonce", "reason"], "properties": {
            "ticket": id(), "nonce": id(),
            "reason": {"type": "string", "enum": ["unknown_ticket", "revoked", "unknown_gate", "scan_ahead", "too_many_scans"]}}}},
        "conflicts": {"type": "array", "items": schema("DoorConflict")}}});
}

/// Paying for a hold over HTTP (`payments.rs`, docs/payments.md).
fn add_payment_paths(doc: &mut Value) {
    let public = json!([]);
    let text = |max: usize| json!({"type": "string", "maxLength": max});
    doc["paths"]["/api/v2/checkout"] = json!({"post": {
        "operationId": "checkout",
        "summary": "What paying one's own hold costs and the order to pay it under (member session or guest token): the ledger's amount for the hold, never the client's; the same as the WebSocket's `checkout` answer. Each call names a new order",
        "security": [{"session": []}, {"guest": []}],
        "requestBody": json_body(schema("CheckoutRequest")),
        "responses": responses(json!({"200": json_response("the checkout: total_won is exactly what will be charged", schema("Checkout"))}), BODY, &[401, 403, 404, 409])
    }});
    let defaults = crate::state::ApiConfig::default();
    doc["paths"]["/api/v2/payments/success"] = json!({"get": {
        "operationId": "paymentSuccess",
        "summary": format!("The successUrl the app gives the provider: the server confirms the payment with the provider for the hold's amount (the amount parameter is only compared, for the log) and books, exactly as the WebSocket's confirm; once, whichever of this, the WebSocket and the webhook comes first, and one that comes later (or meets another's confirm in flight) is answered with that same booking and its tickets. When the sale has a queue, the app puts the buyer's admission token (the WebSocket's `admitted` token) in the successUrl as `admission` (the provider keeps it when it appends the payment): without it 403 `no_admission`; a token not the gateways' or for another sale 403 `admission_invalid`; an admission run out or spent 403 `admission_expired`; another buyer's hold 403 `not_your_hold`; nothing is confirmed at the provider then. The booking spends the admission (the buyer's sockets are told `admission_expired`); a payment already booked (the same URL again, or after the app's confirm or the webhook) is read back with no admission needed, while a spent admission confirms no other payment (403 `admission_expired`). At most {} a second ({} at once) per buyer (the identity the admission names) or, without a valid admission, per client address: 429 `too_many_attempts` with Retry-After past it; a return for a payment this process booked lately, with the payment key it was booked with, is answered from memory and not counted. With `return` (a path on this site), answers 303 there. Parameters that name no payment of a Picket order are 404 `payment_not_found`", defaults.success_attempts_per_sec, defaults.success_attempts_burst),
        "security": public,
        "parameters": [
            {"name": "admission", "in": "query", "schema": {"type": "string", "maxLength": picket_edge::token::TOKEN_LEN_MAX}, "description": "the buyer's admission token for the sale; required when the sale has a queue"},
            {"name": "paymentKey", "in": "query", "required": true, "schema": text(picket_payments::flow::PAYMENT_KEY_LEN_MAX)},
            {"name": "orderId", "in": "query", "required": true, "schema": text(picket_payments::ORDER_ID_CHARS_MAX)},
            {"name": "amount", "in": "query", "schema": {"type": "string"}},
            {"name": "paymentType", "in": "query", "schema": {"type": "string"}},
            {"name": "return", "in": "query", "schema": {"type": "string", "maxLength": crate::payments::RETURN_PATH_BYTES_MAX}}],
        "responses": responses(json!({
            "200": json_response("booked", schema("Paid")),
            "303": {"description": "booked; to the `return` path"}}), NOTHING, &[402, 403, 404, 409, 429])
    }});
    doc["paths"]["/api/v2/payments/fail"] = json!({"get": {
        "operationId": "paymentFail",
        "summary": "The failUrl the app gives the provider: always a 402 payment_declined problem naming the provider's code and message (nothing was charged; the hold stays until its deadline)",
        "security": public,
        "parameters": [
            {"name": "code", "in": "query", "schema": {"type": "string"}},
            {"name": "message", "in": "query", "schema": {"type": "string"}},
            {"name": "orderId", "in": "query", "schema": {"type": "string"}}],
        "responses": responses(json!({}), NOTHING, &[402])
    }});
    doc["paths"]["/api/v2/payments/webhook"] = json!({"post": {
        "operationId": "paymentWebhook",
        "summary": "The provider's webhook (PAYMENT_STATUS_CHANGED): verified with the provider's webhook key (401 `webhook_signature` otherwise; with `webhook_signatures = lookup_only` an unsigned one is accepted as a hint, a wrong signature still 401), each transmission id handled once, at most `webhook_lookups_per_sec` (100) a second looked up per process (429 `too_many_attempts` with Retry-After past it; the provider delivers it again), answered at once; the payment is then looked up with the provider (the body is only a hint): an authorised payment is confirmed for the hold's amount and booked, an approved one booked, one that cannot be booked voided. A webhook naming a payment this process booked lately with that payment key is answered `{\"handled\":\"booked\"}` without a lookup and not counted; one naming an order this process checked out (or is confirming) waits `webhook_confirm_grace_ms` (2 s) for the app's confirm before it is looked up (and counted)",
        "security": public,
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "description": "the provider's event (docs/payments.md)"}}}},
        "responses": responses(json!({"200": json_response("accepted, a duplicate transmission, or a payment booked here already", json!({"type": "object", "required": ["handled"], "properties": {"handled": {"type": "string", "enum": ["accepted", "duplicate", "booked"]}}}))}), NOTHING, &[401, 413, 429])
    }});
    let schemas = &mut doc["components"]["schemas"];
    schemas["CheckoutRequest"] = json!({"type": "object", "additionalProperties": false, "required": ["sale", "hold"], "properties": {
        "sale": sale_in(), "hold": sale_in()}});
    schemas["Checkout"] = json!({"type": "object", "required": ["order_id", "order_name", "amount_won", "breakdown", "expires_at_ms", "cancellation", "provider"], "properties": {
        "order_id": {"type": "string", "pattern": "^pk[0-9]+h[0-9]+n[0-9a-f]{16}$"},
        "order_name": {"type": "string", "maxLength": picket_payments::ORDER_NAME_CHARS_MAX},
        "amount_won": {"type": "integer"},
        "breakdown": {"type": "object", "required": ["places", "discount_won", "booking_fee_won", "total_won"], "properties": {
            "places": {"type": "array", "items": {"type": "object", "required": ["place", "grade", "grade_code", "list_won", "price_won", "booking_fee_won"], "properties": {
                "place": {"type": "object", "description": "{\"Seat\": id} or {\"Zone\": id}"}, "grade": {"type": "integer"}, "grade_code": {"type": "string"},
                "list_won": {"type": "integer"}, "price_won": {"type": "integer", "description": "after the offer, before the booking fee"},
                "booking_fee_won": {"type": "integer"}}}},
            "discount_won": {"type": "integer"}, "booking_fee_won": {"type": "integer", "description": "the show's booking fee, once per place"},
            "coupon": {"type": "string"}, "total_won": {"type": "integer", "description": "the places' price_won plus booking_fee_won: exactly what is charged"}}},
        "expires_at_ms": {"type": "integer"},
        "cancellation": {"type": "object", "required": ["deadline_ms", "fees", "booking_fee_refund"], "properties": {
            "deadline_ms": {"type": "integer"}, "fees": {"type": "object", "description": "the performance's FeeSchedule (docs/protocol.md)"},
            "booking_fee_refund": {"type": "string", "enum": [picket_payments::flow::BOOKING_FEE_REFUND_RULE], "description": "the booking fee comes back when a ticket is cancelled on its Korean calendar day of booking, or when the performance is called off; otherwise it is kept"}}},
        "provider": {"type": "object", "required": ["client_key", "checkout_url"], "properties": {
            "client_key": {"type": "string"}, "checkout_url": {"type": "string"}}}}});
    schemas["Paid"] = json!({"type": "object", "required": ["order_id", "booking", "tickets", "amount_won"], "properties": {
        "order_id": {"type": "string"}, "booking": id(),
        "tickets": {"type": "array", "items": id(), "description": "empty when the booking was made earlier (my page lists them)"},
        "amount_won": {"type": "integer"}}});
}

/// The services' status for admins (`platform.rs`).
fn add_platform_paths(doc: &mut Value) {
    use picket_ledger_client::status::STATUS_STALE_AFTER;
    doc["paths"]["/api/v2/admin/platform"] = json!({"get": {
        "operationId": "adminPlatform",
        "summary": format!("The platform as its services report it (admin): each gateway's open WebSocket connections, and per ledger partition the leader (highest epoch among the nodes reporting they lead) and the standbys with their lag (leader's journal_seq minus theirs). Over NATS from the nodes' and gateways' status messages (picket.status.>, docs/protocol.md); a source silent for over {} ms is left out. In process: this gateway and its ledger", STATUS_STALE_AFTER.as_millis()),
        "security": [{"session": []}],
        "responses": responses(json!({"200": json_response("the platform", schema("Platform"))}), NOTHING, &[401, 403])
    }});
    let integer = json!({"type": "integer", "minimum": 0});
    doc["components"]["schemas"]["Platform"] = json!({"type": "object", "required": ["gateways", "partitions", "transport"], "properties": {
        "transport": {"type": "string", "enum": ["in_process", "nats"]},
        "gateways": {"type": "array", "items": {"type": "object", "required": ["id", "connections", "connections_max", "seen_ms_ago"], "properties": {
            "id": {"type": "string"}, "connections": integer, "connections_max": integer,
            "seen_ms_ago": {"type": "integer", "minimum": 0, "description": "since its last status message"}}}},
        "partitions": {"type": "array", "items": {"type": "object", "required": ["partition", "leader", "standbys", "leaderless"], "properties": {
            "partition": integer,
            "leader": {"type": ["object", "null"], "required": ["node", "epoch", "journal_seq"], "description": "null when no node reports leading", "properties": {
                "node": {"type": "string"}, "epoch": integer, "journal_seq": integer}},
            "standbys": {"type": "array", "items": {"type": "object", "required": ["node", "journal_seq", "lag"], "properties": {
                "node": {"type": "string"}, "journal_seq": integer,
                "lag": {"type": ["integer", "null"], "minimum": 0, "description": "journal entries behind the leader; null without a leader"}}}},
            "leaderless": {"type": "boolean", "description": "no node reports leading the partition"}}}}}});
}

/// Web Push: the server's VAPID key and members' subscriptions (`push.rs`).
fn add_push_paths(doc: &mut Value) {
    use crate::push::{
        AUTH_SECRET_BYTES, P256DH_BYTES, PUSH_ENDPOINT_BYTES_MAX, PUSH_SUBSCRIPTIONS_PER_MEMBER_MAX,
    };
    let session = json!([{"session": []}]);
    // Unpadded base64url of `bytes` bytes is this many characters.
    let base64url = |bytes: usize, what: &str| {
        let chars = (bytes * 4).div_ceil(3);
        json!({"type": "string", "minLength": chars, "maxLength": chars, "pattern": "^[A-Za-z0-9_-]+$",
            "description": format!("{what}: base64url without padding of {bytes} bytes")})
    };
    doc["paths"]["/api/v2/push/key"] = json!({"get": {
        "operationId": "pushKey",
        "summary": "The server's VAPID public key (RFC 8292) for PushManager.subscribe({applicationServerKey}); it stays the same across restarts",
        "security": [],
        "responses": responses(json!({"200": json_response("the key", json!({"type": "object", "required": ["public_key"], "properties": {
            "public_key": base64url(P256DH_BYTES, "an uncompressed P-256 point")}}))}), NOTHING, &[])
    }});
    let subscription = json!({"type": "object", "required": ["id", "origin", "created_at_ms"], "properties": {
        "id": id(), "origin": {"type": "string", "description": "the endpoint's origin (scheme://host[:port]); the endpoint itself is not shown again"},
        "created_at_ms": {"type": "integer"}}});
    doc["paths"]["/api/v2/me/push-subscriptions"] = json!({
        "post": {
            "operationId": "subscribePush",
            "summary": format!("Store the browser's push subscription (PushSubscription.toJSON()) for the signed-in account: its notifications are pushed there while no app of theirs is connected. The same endpoint again is the same subscription (200, keys updated); a new one 201; an endpoint another account had moves to this one. At most {PUSH_SUBSCRIPTIONS_PER_MEMBER_MAX} per account (409 too_many_push_subscriptions). The endpoint must be an https:// URL with a host name (not an IP address), at most {PUSH_ENDPOINT_BYTES_MAX} bytes, without user info or fragment; keys.p256dh a P-256 point on the curve (else 422)"),
            "security": session.clone(),
            "requestBody": json_body(json!({"type": "object", "additionalProperties": false, "required": ["endpoint", "keys"], "properties": {
                "endpoint": {"type": "string", "maxLength": PUSH_ENDPOINT_BYTES_MAX, "pattern": "^https://"},
                "expirationTime": {"type": ["number", "null"], "description": "not kept: a push service answers 404/410 once a subscription ends"},
                "keys": {"type": "object", "additionalProperties": false, "required": ["p256dh", "auth"], "properties": {
                    "p256dh": base64url(P256DH_BYTES, "the browser's ECDH public key, an uncompressed P-256 point"),
                    "auth": base64url(AUTH_SECRET_BYTES, "the browser's authentication secret")}}}})),
            "responses": responses(json!({
                "201": {"description": "a new subscription", "links": {"DeletePushSubscription": link_id("unsubscribePush", "id")},
                    "content": {"application/json": {"schema": subscription.clone()}}},
                "200": json_response("the endpoint was the account's already", subscription.clone())}), BODY, &[401, 409, 422])
        },
        "get": {
            "operationId": "pushSubscriptions",
            "summary": "The signed-in account's push subscriptions, oldest first",
            "security": session.clone(),
            "responses": responses(json!({"200": json_response("the subscriptions", json!({"type": "object", "required": ["items"], "properties": {
                "items": {"type": "array", "maxItems": PUSH_SUBSCRIPTIONS_PER_MEMBER_MAX, "items": subscription}}}))}), NOTHING, &[401])
        }
    });
    doc["paths"]["/api/v2/me/push-subscriptions/{id}"] = json!({"delete": {
        "operationId": "unsubscribePush",
        "summary": "Delete one of the account's push subscriptions (404 when it is not theirs)",
        "security": session,
        "parameters": [{"name": "id", "in": "path", "required": true, "schema": id_in()}],
        "responses": responses(json!({"204": {"description": "deleted"}}), PARAMETERS, &[401, 404])
    }});
}

/// `{"$ref": "#/components/schemas/<name>"}`.
fn schema(name: &str) -> Value {
    json!({"$ref": format!("#/components/schemas/{name}")})
}

fn json_body(body: Value) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": body}}})
}

fn json_response(description: &str, body: Value) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": body}}})
}

/// The problem responses of `statuses`, each naming the codes [`CODES`] gives that status.
fn problem_responses(statuses: &[u16]) -> serde_json::Map<String, Value> {
    let mut responses = serde_json::Map::new();
    for status in statuses {
        let names: Vec<&str> = CODES
            .iter()
            .filter(|(_, s)| s == status)
            .map(|(code, _)| *code)
            .collect();
        assert!(!names.is_empty(), "no problem code has status {status}");
        let mut described = json!({
            "description": format!("a problem: {}", names.join(", ")),
            "content": {"application/problem+json": {"schema": schema("Problem")}}
        });
        if *status == 429 {
            described["headers"] = json!({"Retry-After": {"description": "seconds to wait", "required": true, "schema": {"type": "integer", "minimum": 0}}});
        }
        responses.insert(status.to_string(), described);
    }
    responses
}

/// What can go wrong with an operation, beyond what its own handler decides.
#[derive(Clone, Copy)]
struct Takes {
    /// Path or query parameters: 400 `bad_parameter`.
    parameters: bool,
    /// A JSON body: 400 `bad_body`, 413 `too_large`, 415 `unsupported_media_type`.
    json: bool,
}

const NOTHING: Takes = Takes {
    parameters: false,
    json: false,
};
const PARAMETERS: Takes = Takes {
    parameters: true,
    json: false,
};
const BODY: Takes = Takes {
    parameters: false,
    json: true,
};
const BOTH: Takes = Takes {
    parameters: true,
    json: true,
};

/// An operation's responses: `success` (status → response), then problems for what it `takes`,
/// the handler's own `statuses`, and 500/503, which every operation can answer (storage or a
/// service it needs is down, a bug).
fn responses(success: Value, takes: Takes, statuses: &[u16]) -> Value {
    let mut all: Vec<u16> = statuses.to_vec();
    if takes.parameters {
        all.push(400);
    }
    if takes.json {
        all.extend([400, 413, 415]);
    }
    all.extend([500, 503]);
    all.sort_unstable();
    all.dedup();
    let mut map = success.as_object().cloned().unwrap_or_default();
    map.extend(problem_responses(&all));
    Value::Object(map)
}

/// A link from a response's `id` to the operation `operation_id`'s `{parameter}`, which the
/// stateful tests follow (create a show, then read it, …).
fn link_id(operation_id: &str, parameter: &str) -> Value {
    json!({"operationId": operation_id, "parameters": {parameter: "$response.body#/id"}})
}

pub fn document() -> Value {
    let session = json!([{"session": []}]);
    let operator = json!([{"operator": []}]);
    let guest = json!([{"guest": []}]);
    // Public operations that show more to a session that manages the show (drafts).
    let optional_session = json!([{}, {"session": []}]);
    let public = json!([]);
    let id_param = json!([{"name": "id", "in": "path", "required": true, "schema": id_in()}]);
    let limit = json!({"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": crate::paging::PAGE_LIMIT_MAX, "default": crate::paging::PAGE_LIMIT_DEFAULT}});
    let cursor = json!({"name": "cursor", "in": "query", "description": "the previous page's next_cursor", "schema": id_in()});
    let page_params = json!([cursor, limit]);
    let id_and_page =
        json!([{"name": "id", "in": "path", "required": true, "schema": id_in()}, cursor, limit]);
    let sale_param = json!([{"name": "sale", "in": "path", "required": true, "schema": sale_in()}]);
    let created_id = |description: &str, links: Value| {
        json!({"201": {"description": description, "links": links,
            "content": {"application/json": {"schema": schema("Created")}}}})
    };
    let no_content = |code: &str, description: &str| json!({code: {"description": description}});
    let post_links = json!({
        "HidePost": link_id("hidePost", "id"),
    });
    let mut doc = json!({
        "openapi": "3.1.0",
        "info": {"title": "Picket API", "version": "2.0.0",
            "description": format!("Errors are `application/problem+json` (RFC 9457): `type` is `{PROBLEM_TYPE_BASE}<code>`, `code` one of the Problem schema's codes. JSON bodies are at most {} bytes (venues {} bytes, banners {} bytes, the operator's sale and performance routes {} bytes); a larger body is 413 `too_large`. Integers may be written with a zero fraction (`6.0`). No text may contain U+0000 (400 `bad_body`, or `bad_parameter` for `%00` in a query).", crate::state::ApiConfig::default().body_bytes_max, crate::venues::VENUE_BODY_BYTES_MAX, crate::media::BANNER_BYTES_MAX, crate::sales::OPERATOR_BODY_BYTES_MAX)},
        "paths": {
            "/api/openapi.json": {"get": {
                "operationId": "openApiDocument",
                "summary": "This document",
                "security": public,
                "responses": {"200": json_response("the OpenAPI document", json!({"type": "object", "required": ["openapi", "info", "paths", "components"], "properties": {"openapi": {"const": "3.1.0"}}}))}
            }},
            "/api/v2/accounts": {"post": {
                "operationId": "signUp",
                "summary": "Sign up as a member",
                "security": public,
                "requestBody": json_body(schema("SignUp")),
                "responses": responses(json!({"201": json_response("the new account", schema("Account"))}), BODY, &[409, 422])
            }},
            "/api/v2/sessions": {"post": {
                "operationId": "signIn",
                "summary": "Sign in: a session token for this API and the gateways' WebSocket; attempts limited per client address (10 at once, 30 a minute), and after 5 wrong passwords for an email from one address that pair backs off (429 with Retry-After, from 1 s doubling)",
                "security": public,
                "requestBody": json_body(schema("SignIn")),
                "responses": responses(json!({"201": json_response("the session", schema("Session"))}), BODY, &[401, 429])
            }},
            "/api/v2/sessions/current": {"delete": {
                "operationId": "signOut",
                "summary": "Sign out: revoke the session of the token",
                "security": session,
                "responses": responses(no_content("204", "signed out"), NOTHING, &[401])
            }},
            "/api/v2/me": {"get": {
                "operationId": "me",
                "summary": "The signed-in account",
                "security": session,
                "responses": responses(json!({"200": json_response("the account", schema("Account"))}), NOTHING, &[401])
            }},
            "/api/v2/me/interests": {
                "get": {
                    "operationId": "interests",
                    "summary": "The member's interests (categories and regions for alerts)",
                    "security": session,
                    "responses": responses(json!({"200": json_response("the interests", schema("Interests"))}), NOTHING, &[401])
                },
                "put": {
                    "operationId": "setInterests",
                    "summary": "Replace the member's interests",
                    "security": session,
                    "requestBody": json_body(schema("Interests")),
                    "responses": responses(json!({"200": json_response("the interests", schema("Interests"))}), BODY, &[401, 422])
                }
            },
            "/api/v2/me/notifications": {"get": {
                "operationId": "notifications",
                "summary": "The member's inbox, newest first, paged by cursor, with the unread count",
                "description": "Each entry is in the language Accept-Language names first when it is Korean or English, else in the member's chosen language (GET /api/v2/me/notification-settings, Korean by default), with both languages under `texts`.",
                "security": session,
                "parameters": [
                    {"name": "cursor", "in": "query", "description": "the id of the last entry of the previous page", "schema": {"type": "string", "maxLength": crate::notifications::NOTIFICATION_ID_LEN_MAX}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": crate::notifications::NOTIFICATIONS_PAGE_MAX}}
                ],
                "responses": responses(json!({"200": json_response("a page of the inbox", schema("Inbox"))}), PARAMETERS, &[401, 422])
            }},
            "/api/v2/me/notifications/read": {"post": {
                "operationId": "markNotificationsRead",
                "summary": "Mark entries read: the ids given, or one entry and every older one",
                "security": session,
                "requestBody": json_body(schema("MarkRead")),
                "responses": responses(json!({"200": json_response("the unread count", json!({"type": "object", "required": ["unread"], "properties": {"unread": {"type": "integer", "minimum": 0}}}))}), BODY, &[401, 404, 422])
            }},
            "/api/v2/companies": {"post": {
                "operationId": "registerSeller",
                "summary": "Register a seller: an account and its company",
                "security": public,
                "requestBody": json_body(schema("SellerSignUp")),
                "responses": responses(json!({"201": json_response("the account and company", json!({"type": "object", "required": ["account", "company"], "properties": {"account": schema("Account"), "company": schema("Company")}}))}), BODY, &[409, 422])
            }},
            "/api/v2/companies/mine": {"get": {
                "operationId": "myCompany",
                "summary": "The seller's own company",
                "security": session,
                "responses": responses(json!({"200": json_response("the company", schema("Company"))}), NOTHING, &[401, 403, 404])
            }},
            "/api/v2/companies/mine/shows": {"get": {
                "operationId": "myShows",
                "summary": "The seller's company's shows, drafts included, newest first, paged by cursor",
                "security": session,
                "parameters": page_params.clone(),
                "responses": responses(json!({"200": json_response("a page of the company's shows", schema("CompanyShowPage"))}), PARAMETERS, &[401, 403, 404, 422])
            }},
            "/api/v2/companies/mine/venues": {"get": {
                "operationId": "myVenues",
                "summary": "The venues the seller created (the only ones its company's shows may use), newest first, paged by cursor",
                "security": session,
                "parameters": page_params.clone(),
                "responses": responses(json!({"200": json_response("a page of the seller's venues", schema("VenuePage"))}), PARAMETERS, &[401, 403, 422])
            }},
            "/api/v2/cancellation-fees/standard": {"get": {
                "operationId": "standardCancellationFees",
                "summary": "The Korean standard cancellation-fee schedule a show of the category opens with when its form names none (what a seller's form starts from), and the booking-fee refund rule",
                "security": public,
                "parameters": [{"name": "category", "in": "query", "required": true, "schema": {"type": "string", "enum": crate::sellers::CATEGORIES}}],
                "responses": responses(json!({"200": json_response("the schedule", json!({"type": "object", "required": ["fees", "booking_fee_refund"], "properties": {
                    "fees": schema("FeeSchedule"),
                    "booking_fee_refund": {"type": "string", "enum": [picket_payments::flow::BOOKING_FEE_REFUND_RULE]}}}))}), PARAMETERS, &[422])
            }},
            "/api/v2/admin/accounts": {"post": {
                "operationId": "createStaff",
                "summary": "Create a venue-staff or admin account (admin, or the operator token)",
                "security": [{"session": []}, {"operator": []}],
                "requestBody": json_body(schema("StaffForm")),
                "responses": responses(json!({"201": json_response("the account", schema("Account"))}), BODY, &[401, 403, 409, 422])
            }},
            "/api/v2/venues": {"post": {
                "operationId": "createVenue",
                "summary": format!("A venue with its seat map: sections of rows of seats (with drawing coordinates; a seat may be `blocked`, never sold, or a `wheelchair` seat) and standing zones (seller, admin); 1 to {} seats or a standing zone, section and zone names distinct, row names distinct within a section, seat numbers within a row, and the seats at most {} bytes as the ledger's performance spec lists them (else 422)", crate::venues::SEATS_PER_VENUE_MAX, crate::venues::SPEC_SEATS_JSON_BYTES_MAX),
                "security": session,
                "requestBody": json_body(schema("VenueForm")),
                "responses": responses(json!({"201": {"description": "the venue", "links": {"GetVenue": link_id("getVenue", "id"),
                        "CreateShow": {"operationId": "createShow", "requestBody": {"venue_id": "$response.body#/id"}}},
                    "content": {"application/json": {"schema": schema("VenueCreated")}}}}), BODY, &[401, 403, 422])
            }},
            "/api/v2/venues/{id}": {"get": {
                "operationId": "getVenue",
                "summary": "A venue, its seat map, and the ledger id of every seat and standing zone (the ids a hold names)",
                "security": public,
                "parameters": id_param,
                "responses": responses(json!({"200": json_response("the venue", schema("Venue"))}), PARAMETERS, &[404])
            }, "put": {
                "operationId": "updateVenue",
                "summary": "Replace the venue's name, region, address and seat map (a seller of the company that owns it), checked as createVenue checks them, while no show at it is published or being published: from the moment a publishShow pins the venue (before it reads the seat map) its seat ids are, or are about to be, on sale and this is 409 venue_in_use (save the layout as a new venue instead); a publish that fails before the ledger opens anything releases its pin, and one whose API process died unpinned lapses after 60 s",
                "security": session,
                "parameters": id_param,
                "requestBody": json_body(schema("VenueForm")),
                "responses": responses(json!({"200": json_response("the venue", schema("VenueCreated"))}), BODY, &[401, 403, 404, 409, 422])
            }},
            "/api/v2/shows": {
                "get": {
                    "operationId": "browseShows",
                    "summary": "Published shows, newest first, filtered and paged by cursor",
                    "security": public,
                    "parameters": [
                        {"name": "category", "in": "query", "schema": {"type": "string", "enum": crate::sellers::CATEGORIES}},
                        {"name": "region", "in": "query", "schema": {"type": "string", "enum": crate::sellers::REGIONS}},
                        {"name": "from_ms", "in": "query", "schema": u64_any()},
                        {"name": "to_ms", "in": "query", "schema": u64_any()},
                        {"name": "q", "in": "query", "description": "text in the title, case-insensitive; % and _ are matched as themselves", "schema": {"type": "string"}},
                        cursor, limit
                    ],
                    "responses": responses(json!({"200": json_response("a page of shows", schema("ShowPage"))}), PARAMETERS, &[422])
                },
                "post": {
                    "operationId": "createShow",
                    "summary": "A draft show of the seller's company, with price grades over the venue's sections and zones; the venue must be one the company created (a venue belongs to the company whose seller created it; another is 422 on venue_id); every section and zone needs exactly one grade, discounts name existing grades, coupon codes are distinct (else 422)",
                    "security": session,
                    "requestBody": json_body(schema("ShowForm")),
                    "responses": responses(json!({"201": {"description": "the draft", "links": {
                            "GetShow": link_id("getShow", "id"),
                            "AddPerformance": link_id("addPerformance", "id"),
                            "PublishShow": link_id("publishShow", "id"),
                            "PostShowNotice": link_id("postShowNotice", "id"),
                            "ShowNotices": link_id("showNotices", "id"),
                            "UploadBanner": link_id("uploadBanner", "id"),
                            "GetBanner": link_id("getBanner", "id"),
                            "AssignStaff": link_id("assignStaff", "id")},
                        "content": {"application/json": {"schema": {"type": "object", "required": ["id", "status"], "properties": {"id": id(), "status": {"const": "draft"}}}}}}}), BODY, &[401, 403, 422])
                }
            },
            "/api/v2/shows/{id}": {"get": {
                "operationId": "getShow",
                "summary": "A show with its performances and the places left per grade (a draft only to its seller and admins)",
                "security": optional_session,
                "parameters": id_param,
                "responses": responses(json!({"200": {"description": "the show", "links": {
                        "ShowQuestions": link_id("showQuestions", "id"),
                        "AskQuestion": link_id("askQuestion", "id")},
                    "content": {"application/json": {"schema": schema("ShowDetail")}}}}), PARAMETERS, &[404])
            }},
            "/api/v2/performances/{id}": {"get": {
                "operationId": "getPerformance",
                "summary": "The show a performance belongs to (visible as the show is: published, or a draft to its seller and admins); its sale has the performance's id",
                "security": optional_session,
                "parameters": id_param,
                "responses": responses(json!({"200": json_response("the performance", json!({"type": "object", "required": ["id", "show_id", "sale"], "properties": {
                    "id": id(), "show_id": id(), "sale": id()}}))}), PARAMETERS, &[404])
            }},
            "/api/v2/shows/{id}/staff": {"post": {
                "operationId": "assignStaff",
                "summary": "Assign a venue-staff account to scan the show's tickets (its seller, admin); the account must be venue staff (else 422)",
                "security": session, "parameters": id_param,
                "requestBody": json_body(json!({"type": "object", "additionalProperties": false, "required": ["account_id"], "properties": {"account_id": id_in()}})),
                "responses": responses(no_content("204", "assigned"), BOTH, &[401, 403, 404, 422])
            }},
            "/api/v2/staff/shows": {"get": {
                "operationId": "staffShows",
                "summary": "The shows this venue-staff account may scan",
                "security": session,
                "responses": responses(json!({"200": json_response("the shows", json!({"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"type": "object", "required": ["id", "title"], "properties": {"id": id(), "title": {"type": "string"}}}}}}))}), NOTHING, &[401, 403])
            }},
            "/api/v2/me/bookings": {"get": {
                "operationId": "myBookings",
                "summary": "The member's bookings: seats, amounts, the cancellation deadline and the fee that would apply now",
                "security": session,
                "responses": responses(json!({"200": json_response("the bookings", schema("Bookings"))}), NOTHING, &[401, 403])
            }},
            "/api/v2/guest/contact": {"put": {
                "operationId": "guestContact",
                "summary": "A guest's name and phone, filed with the guest's next bookings (guest token from the gateway's welcome)",
                "security": guest,
                "requestBody": json_body(json!({"type": "object", "additionalProperties": false, "required": ["name", "phone"], "properties": {
                    "name": text(crate::accounts::NAME_LEN_MAX),
                    "phone": {"type": "string", "description": "9 to 20 digits, with '-', '+' or spaces between", "pattern": "^(?:[-+ ]*[0-9]){9,20}[-+ ]*$", "examples": ["010-1234-5678"]}}})),
                "responses": responses(no_content("204", "saved"), BODY, &[401, 422])
            }},
            "/api/v2/guest/bookings": {"get": {
                "operationId": "guestBookings",
                "summary": "The guest device's bookings with their booking numbers",
                "security": guest,
                "responses": responses(json!({"200": json_response("the bookings", schema("Bookings"))}), NOTHING, &[401])
            }},
            "/api/v2/guest-bookings": {"get": {
                "operationId": "guestLookup",
                "summary": "One guest booking by booking number and phone; the same 404 for a wrong number or a wrong phone; lookups limited per client address (10 at once, 30 a minute; a lookup that finds its booking is given back) and for everyone together (60 at once, 600 a minute), and after 5 wrong phones for a number from one address that pair backs off (429 with Retry-After, from 1 s doubling)",
                "security": public,
                "parameters": [
                    {"name": "number", "in": "query", "required": true, "schema": {"type": "string"}},
                    {"name": "phone", "in": "query", "required": true, "schema": {"type": "string"}}],
                "responses": responses(json!({"200": json_response("the booking", schema("Booking"))}), PARAMETERS, &[404, 429])
            }},
            "/api/v2/notices": {
                "get": {"operationId": "platformNotices", "summary": "Platform notices, newest first", "security": public, "parameters": page_params,
                        "responses": responses(json!({"200": json_response("a page of posts", schema("Posts"))}), PARAMETERS, &[422])},
                "post": {"operationId": "postPlatformNotice", "summary": "Post a platform notice (admin)", "security": session, "requestBody": json_body(schema("PostForm")),
                         "responses": responses(created_id("the post", post_links.clone()), BODY, &[401, 403, 422])}
            },
            "/api/v2/shows/{id}/notices": {
                "get": {"operationId": "showNotices", "summary": "A published show's notices", "security": public, "parameters": id_and_page,
                        "responses": responses(json!({"200": json_response("a page of posts", schema("Posts"))}), PARAMETERS, &[404, 422])},
                "post": {"operationId": "postShowNotice", "summary": "Post a notice on a show (its seller, admin). With notify_bookers, the notifier also sends it once to every member with a booking of the show (of `performance` only, when given; 404 when that is not a performance of the show) as a seller_notice notification", "security": session, "parameters": id_param, "requestBody": json_body(schema("ShowNoticeForm")),
                         "responses": responses(created_id("the post", post_links.clone()), BOTH, &[401, 403, 404, 422])}
            },
            "/api/v2/shows/{id}/questions": {
                "get": {"operationId": "showQuestions", "summary": "A published show's questions and answers", "security": public, "parameters": id_and_page,
                        "responses": responses(json!({"200": json_response("a page of posts", schema("Posts"))}), PARAMETERS, &[404, 422])},
                "post": {"operationId": "askQuestion", "summary": "Ask the seller a question (members)", "security": session, "parameters": id_param, "requestBody": json_body(schema("PostForm")),
                         "responses": responses(created_id("the question", json!({"Answer": link_id("answerQuestion", "id"), "HidePost": link_id("hidePost", "id")})), BOTH, &[401, 403, 404, 422])}
            },
            "/api/v2/questions/{id}/answer": {"post": {
                "operationId": "answerQuestion",
                "summary": "Answer a question (the show's seller, admin)", "security": session, "parameters": id_param,
                "requestBody": json_body(json!({"type": "object", "additionalProperties": false, "required": ["answer"], "properties": {"answer": text(crate::board::BODY_LEN_MAX)}})),
                "responses": responses(no_content("204", "answered"), BOTH, &[401, 403, 404, 422])
            }},
            "/api/v2/posts/{id}/hide": {"post": {
                "operationId": "hidePost",
                "summary": "Hide a post (admin)", "security": session, "parameters": id_param,
                "responses": responses(no_content("204", "hidden"), PARAMETERS, &[401, 403, 404])
            }},
            "/api/v2/shows/{id}/banner": {
                "get": {
                    "operationId": "getBanner",
                    "summary": "The show's banner image (cacheable, with an ETag; If-None-Match answers 304; served with X-Content-Type-Options: nosniff; a draft's only to its seller and admins)",
                    "security": optional_session,
                    "parameters": id_param,
                    "responses": responses(json!({
                        "200": {"description": "the image", "content": {"image/png": {"schema": {"type": "string", "format": "binary"}}, "image/jpeg": {"schema": {"type": "string", "format": "binary"}}, "image/webp": {"schema": {"type": "string", "format": "binary"}}}},
                        "304": {"description": "not modified"}}), PARAMETERS, &[404])
                },
                "put": {
                    "operationId": "uploadBanner",
                    "summary": format!("Upload the banner as the raw body: PNG, JPEG or WebP (another Content-Type is 415), at most {} bytes and {side} × {side} pixels, decoded before it is kept (its seller, admin)", crate::media::BANNER_BYTES_MAX, side = crate::media::BANNER_SIDE_PX_MAX),
                    "security": session,
                    "parameters": id_param,
                    "requestBody": {"required": true, "content": {
                        "image/png": {"schema": {"type": "string", "format": "binary", "maxLength": crate::media::BANNER_BYTES_MAX}},
                        "image/jpeg": {"schema": {"type": "string", "format": "binary", "maxLength": crate::media::BANNER_BYTES_MAX}},
                        "image/webp": {"schema": {"type": "string", "format": "binary", "maxLength": crate::media::BANNER_BYTES_MAX}}}},
                    "responses": responses(json!({"204": {"description": "stored", "links": {"GetBanner": {"operationId": "getBanner", "parameters": {"id": "$request.path.id"}}}}}), PARAMETERS, &[401, 403, 404, 413, 415, 422])
                }
            },
            "/api/v2/shows/{id}/performances": {"post": {
                "operationId": "addPerformance",
                "summary": "Add a performance (dated showing) to a draft show (its seller, admin); it starts in the future, sales open before they close and close no later than the start (else 422); a published show is 409",
                "security": session,
                "parameters": id_param,
                "requestBody": json_body(schema("PerformanceForm")),
                "responses": responses(created_id("the performance (its sale has the same id)", json!({"GetSale": link_id("getSale", "sale")})), BOTH, &[401, 403, 404, 409, 422])
            }},
            "/api/v2/shows/{id}/publish": {"post": {
                "operationId": "publishShow",
                "summary": "Publish: validate, open every performance's inventory in the ledger (holds last 8 minutes), create each performance's sale in the waiting room (sale id = performance id; opens at the performance's sale_open_at_ms, admits at the show's queue.admit_per_sec and queue.active_max, seat_limit = the show's per_buyer_limit, admissions last 10 minutes, a dropped buyer's place is kept 30 s; an operator changes them with PUT /api/v2/sales/{sale}), announce (its seller, admin); publishing again changes nothing; a show without performances is 422; a show of a company that is not approved (pending or suspended) is 403 company_not_approved; publishing first pins the show's venue (updateVenue is 409 venue_in_use from then on) and checks every performance against its seat map before the ledger opens any (a failure there, 422, releases the pin); another publish of the same show taking the pin over meanwhile is 409 conflict (publish again)",
                "security": session,
                "parameters": id_param,
                "responses": responses(json!({"200": json_response("published, with the announcement", json!({"type": "object", "required": ["id", "status", "event"], "properties": {"id": id(), "status": {"const": "published"}, "event": {"type": "object", "description": "the announcement (docs/protocol.md, catalog)"}}}))}), PARAMETERS, &[401, 403, 404, 409, 422])
            }},
            "/api/v2/performances": {"post": {
                "operationId": "openPerformance",
                "summary": format!("Put a performance's inventory on sale in the ledger (operator); the same spec again answers as the first time, a refused spec may be corrected, another spec for an open performance is 409 performance_already_open; the ledger checks the spec as a whole (hold_ttl_ms {} to {}, grade ids within grades, …; else 422 ledger_rejected). The body is read as JSON whatever its Content-Type", picket_ledger_core::limits::HOLD_TTL_MS_MIN, picket_ledger_core::limits::HOLD_TTL_MS_MAX),
                "security": operator,
                "requestBody": json_body(schema("PerformanceSpec")),
                "responses": responses(json!({"201": json_response("opened", json!({"type": "object", "required": ["Ok"], "properties": {"Ok": {"description": "the ledger's reply (docs/protocol.md)"}}}))}), NOTHING, &[400, 401, 409, 413, 422])
            }},
            "/api/v2/sales/{sale}": {
                "get": {
                    "operationId": "getSale",
                    "summary": "A sale's waiting-room state",
                    "security": public,
                    "parameters": sale_param,
                    "responses": responses(json!({"200": json_response("the sale", schema("SaleView"))}), PARAMETERS, &[404])
                },
                "put": {
                    "operationId": "configureSale",
                    "summary": "Create a sale or change its settings (operator); every field is required: to change one, send the settings GET returns with that field changed. The open time cannot move once the pre-queue is drawn. The body is read as JSON whatever its Content-Type",
                    "security": operator,
                    "parameters": sale_param,
                    "requestBody": json_body(schema("SaleSettings")),
                    "responses": responses(json!({"200": {"description": "the sale", "links": {"GetSale": {"operationId": "getSale", "parameters": {"sale": "$request.path.sale"}}, "Draw": {"operationId": "drawAudit", "parameters": {"sale": "$request.path.sale"}}},
                        "content": {"application/json": {"schema": schema("SaleView")}}}}), PARAMETERS, &[400, 401, 413, 422])
                }
            },
            "/api/v2/sales/{sale}/draw": {"get": {
                "operationId": "drawAudit",
                "summary": "The pre-queue draw: the seed and the drawn order, once drawn (409 not_drawn before)",
                "security": public,
                "parameters": sale_param,
                "responses": responses(json!({"200": json_response("the draw", json!({"type": "object", "required": ["sale", "seed", "seed_hash", "order"], "properties": {
                    "sale": id(), "seed": {"type": "string"}, "seed_hash": {"type": "string"},
                    "order": {"type": "array", "items": {"type": "string"}, "description": "draw entries (HMACs, hex) in drawn order"}}}))}), PARAMETERS, &[404, 409])
            }}
        },
        "components": {
            "securitySchemes": {
                "session": {"type": "http", "scheme": "bearer", "description": "a session token from POST /api/v2/sessions"},
                "operator": {"type": "http", "scheme": "bearer", "description": "the operator token"},
                "guest": {"type": "http", "scheme": "bearer", "description": "the guest token a gateway issues in welcome.guest_token"}
            },
            "schemas": schemas()
        }
    });
    add_refund_paths(&mut doc);
    add_payment_paths(&mut doc);
    add_ticket_paths(&mut doc);
    add_transfer_paths(&mut doc);
    add_door_paths(&mut doc);
    add_waitlist_paths(&mut doc);
    add_notify_paths(&mut doc);
    add_push_paths(&mut doc);
    add_billing_paths(&mut doc);
    add_platform_paths(&mut doc);
    add_admin_paths(&mut doc);
    doc
}

/// The admin dashboard's routes: seller approval (`sellers.rs`), moderation (`board.rs`), the
/// platform's sales (`admin.rs`) and the operations figures (`operations.rs`).
fn add_admin_paths(doc: &mut Value) {
    let session = json!([{"session": []}]);
    let id_param = json!({"name": "id", "in": "path", "required": true, "schema": id_in()});
    let limit = json!({"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": crate::paging::PAGE_LIMIT_MAX, "default": crate::paging::PAGE_LIMIT_DEFAULT}});
    let cursor = json!({"name": "cursor", "in": "query", "description": "the previous page's next_cursor", "schema": id_in()});
    let approval = json!({"type": "string", "enum": ["pending", "approved", "suspended"]});
    let listed = json!({"type": "object", "required": ["id", "name", "business_number", "contact_email", "contact_phone", "owner_email", "created_at_ms", "approval", "approval_changed_at_ms", "shows"], "properties": {
        "id": id(), "name": {"type": "string"}, "business_number": {"type": "string"},
        "contact_email": {"type": "string"}, "contact_phone": {"type": "string"}, "owner_email": {"type": "string"},
        "created_at_ms": {"type": "integer"}, "approval": approval.clone(),
        "approval_changed_at_ms": {"type": ["integer", "null"]}, "shows": {"type": "integer", "description": "shows of the company, drafts included"}}});
    let next_cursor = json!({"type": ["string", "null"], "pattern": picket_edge::id::ID_PATTERN});
    doc["paths"]["/api/v2/admin/companies"] = json!({"get": {
        "operationId": "adminCompanies",
        "summary": "Sellers' companies with their approval status, newest first, paged by cursor; ?status= only those of one status (admin)",
        "security": session,
        "parameters": [{"name": "status", "in": "query", "schema": approval.clone()}, cursor.clone(), limit.clone()],
        "responses": responses(json!({"200": json_response("a page of companies", json!({"type": "object", "required": ["items", "next_cursor"], "properties": {
            "items": {"type": "array", "items": listed.clone()}, "next_cursor": next_cursor.clone()}}))}), PARAMETERS, &[401, 403, 422])
    }});
    doc["paths"]["/api/v2/admin/companies/{id}/approval"] = json!({"post": {
        "operationId": "setCompanyApproval",
        "summary": "Approve or suspend a company (admin): a pending or suspended company drafts shows but publishing answers 403 company_not_approved; a suspended company's published shows stay on sale",
        "security": session,
        "parameters": [id_param.clone()],
        "requestBody": json_body(json!({"type": "object", "additionalProperties": false, "required": ["status"], "properties": {
            "status": {"type": "string", "enum": ["approved", "suspended"]}}})),
        "responses": responses(json!({"200": json_response("the company", listed)}), BOTH, &[401, 403, 404, 422])
    }});
    doc["paths"]["/api/v2/admin/posts"] = json!({"get": {
        "operationId": "adminPosts",
        "summary": "Every board post (platform notices, show notices, questions), hidden ones too, newest first, paged by cursor; ?hidden=true only hidden ones (admin)",
        "security": session,
        "parameters": [{"name": "hidden", "in": "query", "schema": {"type": "boolean", "default": false}}, cursor, limit],
        "responses": responses(json!({"200": json_response("a page of posts", json!({"type": "object", "required": ["items", "next_cursor"], "properties": {
            "items": {"type": "array", "items": {"type": "object", "required": ["id", "show", "show_title", "kind", "author_email", "title", "body", "answer", "hidden", "created_at_ms"], "properties": {
                "id": id(), "show": {"anyOf": [id(), {"type": "null"}], "description": "null: a platform notice"},
                "show_title": {"type": ["string", "null"]}, "kind": {"type": "string", "enum": ["notice", "question"]},
                "author_email": {"type": "string"}, "title": {"type": "string"}, "body": {"type": "string"},
                "answer": {"type": ["string", "null"]}, "hidden": {"type": "boolean"}, "created_at_ms": {"type": "integer"}}}},
            "next_cursor": next_cursor}}))}), PARAMETERS, &[401, 403, 422])
    }});
    doc["paths"]["/api/v2/posts/{id}/unhide"] = json!({"post": {
        "operationId": "unhidePost",
        "summary": "List a hidden post again (admin); a notice's sending to bookers that hiding stopped stays stopped",
        "security": session, "parameters": [id_param.clone()],
        "responses": responses(json!({"204": {"description": "listed again"}}), PARAMETERS, &[401, 403, 404])
    }});
    doc["paths"]["/api/v2/posts/{id}"] = json!({"delete": {
        "operationId": "deletePost",
        "summary": "Delete a post for good (admin); a notice not yet sent to every booker is sent no further, notifications already delivered stay",
        "security": session, "parameters": [id_param],
        "responses": responses(json!({"204": {"description": "deleted"}}), PARAMETERS, &[401, 403, 404])
    }});
    doc["paths"]["/api/v2/admin/sales"] = json!({"get": {
        "operationId": "adminSales",
        "summary": "Every performance's sale platform-wide that is before its open, drawing, open or paused, soonest open first (admin); at most ADMIN_SALES_MAX performances are looked at, truncated says more were left",
        "security": session,
        "responses": responses(json!({"200": json_response("the sales on now", json!({"type": "object", "required": ["items", "truncated"], "properties": {
            "truncated": {"type": "boolean"},
            "items": {"type": "array", "items": {"type": "object", "required": ["performance", "show", "title", "company", "company_id", "starts_at_ms", "sale_open_at_ms", "sale_close_at_ms", "status", "prequeue", "active", "remaining", "bookings"], "properties": {
                "performance": id(), "show": id(), "title": {"type": "string"}, "company": {"type": "string"}, "company_id": id(),
                "starts_at_ms": {"type": "integer"}, "sale_open_at_ms": {"type": "integer"}, "sale_close_at_ms": {"type": "integer"},
                "status": {"type": "string", "enum": ["pre_queue", "drawing", "open", "paused"]},
                "prequeue": {"type": "integer", "description": "buyers waiting for the open"}, "active": {"type": "integer", "description": "buyers admitted and choosing"},
                "remaining": {"type": ["integer", "null"], "description": "places on sale; null until the ledger's state is known"},
                "bookings": {"type": "integer"}}}}}}))}), NOTHING, &[401, 403])
    }});
    let family = json!({"type": ["object", "null"], "description": "null when the process does not watch its metrics (picket up does)", "properties": {
        "total": {"type": "number"}, "last_1m": {"type": "number"}, "last_5m": {"type": "number"},
        "per_minute_1m": {"type": ["number", "null"]}, "per_minute_5m": {"type": ["number", "null"]},
        "codes": {"type": "array", "items": {"type": "object", "required": ["code", "total", "last_1m", "last_5m"], "properties": {
            "code": {"type": "string"}, "total": {"type": "number"}, "last_1m": {"type": "number"}, "last_5m": {"type": "number"}}}}}});
    doc["paths"]["/api/v2/admin/operations"] = json!({"get": {
        "operationId": "adminOperations",
        "summary": "Operations figures from the process's own metrics (what /metrics serves): problem responses of the API by code (with their share of responses), ledger rejections by code and WebSocket errors by code, in total and over the last 1 and 5 minutes; the refund worker's backlog; the last payment reconciliation's findings (admin)",
        "security": session,
        "responses": responses(json!({"200": json_response("the figures", json!({"type": "object", "required": ["sampled_at_ms", "window_ms", "span_ms", "http_problems", "ledger_rejections", "websocket_errors", "refunds", "reconciliation"], "properties": {
            "sampled_at_ms": {"type": "integer"},
            "window_ms": {"type": "array", "items": {"type": "integer"}, "description": "the windows: 60000 and 300000"},
            "span_ms": {"type": "array", "items": {"type": "integer"}, "description": "how much of each window the samples cover (less than the window for the first minutes after start)"},
            "http_problems": family.clone(), "ledger_rejections": family.clone(), "websocket_errors": family,
            "refunds": {"type": "object", "properties": {"pending": {"type": ["number", "null"], "description": "refunds owed and not yet paid"},
                "paid_total": {"type": ["number", "null"]}, "refused_total": {"type": ["number", "null"]}}},
            "reconciliation": {"type": "object", "required": ["interval_ms", "last_run"], "properties": {
                "interval_ms": {"type": "integer"},
                "last_run": {"type": ["object", "null"], "description": "null until the first run", "properties": {
                    "at_ms": {"type": "integer"}, "error": {"type": ["string", "null"]},
                    "report": {"type": ["object", "null"], "properties": {
                        "from_ms": {"type": "integer"}, "to_ms": {"type": "integer"}, "provider_transactions": {"type": "integer"},
                        "ledger_bookings": {"type": "integer"}, "ledger_refunds": {"type": "integer"}, "mismatch_count": {"type": "integer"},
                        "mismatches": {"type": "array", "items": {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"}}}},
                        "voided": {"type": "integer"}, "void_failures": {"type": "integer"}}}}}}}}}))}), NOTHING, &[401, 403])
    }});
}

fn schemas() -> Value {
    use picket_ledger_core::limits;
    let statuses: Vec<u16> = {
        let mut statuses: Vec<u16> = CODES.iter().map(|(_, status)| *status).collect();
        statuses.sort_unstable();
        statuses.dedup();
        statuses
    };
    let nullable_int = json!({"type": ["integer", "null"]});
    json!({
        "Problem": {"type": "object", "required": ["type", "title", "status", "code", "detail"], "properties": {
            "type": {"type": "string", "description": format!("{PROBLEM_TYPE_BASE}<code>"), "pattern": format!("^{}[a-z_]+$", PROBLEM_TYPE_BASE.replace('.', "\\."))},
            "title": {"type": "string", "description": "the status' reason phrase"},
            "status": {"type": "integer", "enum": statuses},
            "code": {"type": "string", "enum": CODES.iter().map(|(c, _)| *c).collect::<Vec<_>>()},
            "detail": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object", "required": ["field", "message"], "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}}
        }},
        "Id": {"type": "string", "pattern": picket_edge::id::ID_PATTERN, "maxLength": picket_edge::id::ID_DIGITS_MAX,
            "description": "an id: decimal digits in a string, since JavaScript numbers are exact only up to 2^53 (0 to 18446744073709551615; the API's own ids are at most 9223372036854775807)",
            "examples": ["117701597864396273"]},
        "Created": {"type": "object", "required": ["id"], "properties": {"id": id()}},
        "SignUp": {"type": "object", "additionalProperties": false, "required": ["email", "password", "name"], "properties": {
            "email": email(),
            "password": {"type": "string", "minLength": crate::accounts::PASSWORD_LEN_MIN, "maxLength": crate::accounts::PASSWORD_LEN_MAX},
            "name": text(crate::accounts::NAME_LEN_MAX),
            "phone": {"type": ["string", "null"], "description": format!("9 to {} digits with '-' or '+' between; empty or null: none", crate::accounts::PHONE_LEN_MAX),
                "pattern": format!("^$|^(?:[-+]*[0-9]){{9,{}}}[-+]*$", crate::accounts::PHONE_LEN_MAX), "examples": ["010-1234-5678"]}
        }},
        "SignIn": {"type": "object", "additionalProperties": false, "required": ["email", "password"], "properties": {
            "email": {"type": "string"}, "password": {"type": "string"}
        }},
        "Account": {"type": "object", "required": ["id", "email", "name", "phone", "role"], "properties": {
            "id": id(), "email": {"type": "string"}, "name": {"type": "string"},
            "phone": {"type": ["string", "null"]}, "role": {"type": "string", "enum": ["member", "seller", "staff", "admin"]}
        }},
        "Session": {"type": "object", "required": ["token", "expires_at_ms", "account"], "properties": {
            "token": {"type": "string"}, "expires_at_ms": u64_any(),
            "account": schema("Account")
        }},
        "Interests": {"type": "object", "additionalProperties": false, "required": ["categories", "regions"], "properties": {
            "categories": {"type": "array", "items": {"type": "string", "enum": crate::sellers::CATEGORIES}},
            "regions": {"type": "array", "items": {"type": "string", "enum": crate::sellers::REGIONS}}
        }},
        "Inbox": {"type": "object", "required": ["items", "next_cursor", "unread"], "properties": {
            "items": {"type": "array", "items": schema("Notification")},
            "next_cursor": {"type": ["string", "null"]},
            "unread": {"type": "integer", "minimum": 0}
        }},
        "Notification": {"type": "object", "required": ["id", "kind", "created_at_ms", "read", "language", "title", "body", "texts", "data"], "properties": {
            "id": {"type": "string"},
            "kind": {"type": "string", "enum": crate::notification_settings::KINDS},
            "created_at_ms": {"type": "integer"},
            "read": {"type": "boolean"},
            "language": {"type": "string", "enum": ["ko", "en"]},
            "title": {"type": "string"}, "body": {"type": "string"},
            "texts": {"type": "object", "required": ["ko", "en"], "properties": {
                "ko": {"type": "object", "required": ["title", "body"], "properties": {"title": {"type": "string"}, "body": {"type": "string"}}},
                "en": {"type": "object", "required": ["title", "body"], "properties": {"title": {"type": "string"}, "body": {"type": "string"}}}
            }},
            "data": {"type": "object", "description": "ids to open, as decimal strings (show, performance, booking, hold, waitlist_entry, post, deadline_ms, opens_at_ms)", "additionalProperties": {"type": "string"}}
        }},
        "MarkRead": {"description": "either the ids to mark read, or the entry up to which (it and every older one) to mark read", "oneOf": [
            {"type": "object", "additionalProperties": false, "required": ["ids"], "properties": {
                "ids": {"type": "array", "minItems": 1, "maxItems": crate::notifications::READ_IDS_MAX, "items": {"type": "string", "maxLength": crate::notifications::NOTIFICATION_ID_LEN_MAX}}
            }},
            {"type": "object", "additionalProperties": false, "required": ["up_to"], "properties": {
                "up_to": {"type": "string", "maxLength": crate::notifications::NOTIFICATION_ID_LEN_MAX}
            }}
        ]},
        "Company": {"type": "object", "required": ["id", "name", "business_number", "contact_email", "contact_phone", "approval"], "properties": {
            "id": id(), "name": {"type": "string"},
            "business_number": {"type": "string", "pattern": "^[0-9]{10}$"},
            "contact_email": {"type": "string"}, "contact_phone": {"type": "string"},
            "approval": {"type": "string", "enum": ["pending", "approved", "suspended"], "description": "only an approved company publishes shows"}
        }},
        "SellerSignUp": {"type": "object", "additionalProperties": false, "required": ["account", "company"], "properties": {
            "account": schema("SignUp"),
            "company": {"type": "object", "additionalProperties": false, "required": ["name", "business_number", "contact_email", "contact_phone"], "properties": {
                "name": text(crate::sellers::COMPANY_NAME_LEN_MAX),
                "business_number": {"type": "string", "description": "사업자등록번호, ten digits with a valid check digit (else 422); dashes allowed", "pattern": "^(?:-*[0-9]){10}-*$", "examples": ["123-45-67891"]},
                "contact_email": email(),
                "contact_phone": {"type": "string", "description": "8 to 20 digits among other characters", "pattern": "^(?:[^0-9]*[0-9]){8,20}[^0-9]*$", "examples": ["02-123-4567"]}
            }}
        }},
        "StaffForm": {"type": "object", "additionalProperties": false, "required": ["account", "role"], "properties": {
            "account": schema("SignUp"),
            "role": {"type": "string", "enum": ["staff", "admin"]}
        }},
        "VenueForm": {"type": "object", "additionalProperties": false, "required": ["name", "region", "address", "layout"], "properties": {
            "name": text(crate::venues::NAME_LEN_MAX), "region": {"type": "string", "enum": crate::sellers::REGIONS}, "address": text(crate::venues::ADDRESS_LEN_MAX),
            "layout": schema("Layout")
        }},
        "Layout": {"type": "object", "additionalProperties": false, "required": ["sections"], "properties": {
            "sections": {"type": "array", "items": {"type": "object", "additionalProperties": false, "required": ["name", "rows"], "properties": {
                "name": text(crate::venues::PLACE_NAME_LEN_MAX),
                "rows": {"type": "array", "items": {"type": "object", "additionalProperties": false, "required": ["name", "seats"], "properties": {
                    "name": text(crate::venues::PLACE_NAME_LEN_MAX),
                    "seats": {"type": "array", "maxItems": crate::venues::SEATS_PER_VENUE_MAX, "items": {"type": "object", "additionalProperties": false, "required": ["number", "x", "y"], "properties": {
                        "number": u16_any(), "x": int(i32::MIN.into(), i32::MAX.into()), "y": int(i32::MIN.into(), i32::MAX.into()),
                        "blocked": {"type": "boolean", "default": false, "description": "never sold (a camera position, an obstructed view, held back): the seat keeps its id, every hold on it is refused (`seat_taken`) and the live seat map shows it taken; left out when false"},
                        "wheelchair": {"type": "boolean", "default": false, "description": "an accessible (wheelchair) seat, sold like any other; left out when false"}}}}}}}}}},
            "zones": {"type": "array", "maxItems": crate::venues::ZONES_PER_VENUE_MAX, "default": [], "items": {"type": "object", "additionalProperties": false, "required": ["name", "capacity"], "properties": {
                "name": text(crate::venues::PLACE_NAME_LEN_MAX), "capacity": int(1, limits::ZONE_CAPACITY_MAX.into())}}}
        }},
        "VenueCreated": {"type": "object", "required": ["id", "name", "region", "seats", "standing_capacity"], "properties": {
            "id": id(), "name": {"type": "string"}, "region": {"type": "string", "enum": crate::sellers::REGIONS},
            "seats": int(0, crate::venues::SEATS_PER_VENUE_MAX as i128), "standing_capacity": u64_any()
        }},
        "Venue": {"type": "object", "required": ["id", "name", "region", "address", "layout", "seats", "zones"], "properties": {
            "id": id(), "name": {"type": "string"}, "region": {"type": "string", "enum": crate::sellers::REGIONS}, "address": {"type": "string"},
            "layout": {"allOf": [schema("Layout")], "description": "the seat map as the seller sent it (the `layout` of VenueForm), with drawing coordinates"},
            "seats": {"type": "array", "maxItems": crate::venues::SEATS_PER_VENUE_MAX,
                "description": "every seat with its ledger seat id, in id order: sections as listed in the layout, each section's rows as listed, each row's seats as listed; a seat's id is its position in this order (0, 1, 2, …) and is what a hold names (`{\"Seats\": [id, …]}`) and what `Held.places` and the `seats` bitmap report, for every performance at this venue",
                "items": {"type": "object", "required": ["id", "section", "row", "number"], "properties": {
                    "id": int(0, crate::venues::SEATS_PER_VENUE_MAX as i128 - 1),
                    "section": {"type": "string"}, "row": {"type": "string"}, "number": u16_any(),
                    "blocked": {"type": "boolean", "description": "present (true) for a seat never sold"},
                    "wheelchair": {"type": "boolean", "description": "present (true) for a wheelchair seat"}}}},
            "zones": {"type": "array", "maxItems": crate::venues::ZONES_PER_VENUE_MAX,
                "description": "every standing zone with its ledger zone id, its position in `layout.zones` (0, 1, …); a hold names it as `{\"Zone\": {\"zone\": id, \"count\": n}}`",
                "items": {"type": "object", "required": ["id", "name", "capacity"], "properties": {
                    "id": int(0, crate::venues::ZONES_PER_VENUE_MAX as i128 - 1),
                    "name": {"type": "string"}, "capacity": int(1, limits::ZONE_CAPACITY_MAX.into())}}}
        }},
        "FeeSchedule": {"type": "object", "description": "the cancellation-fee schedule (docs/protocol.md, FeeSchedule); tiers' days_before_min at most their days_before_max (else 422)",
            "required": ["free_on_booking_day", "free_days_after_booking", "free_window_days_before_min", "flat_fee_won", "flat_fee_days_before_min", "flat_fee_cap_percent", "tiers", "deadline_minute_of_day", "saturday_deadline_minute_of_day"],
            "properties": {
                "free_on_booking_day": {"type": "boolean"},
                "free_days_after_booking": u16_any(), "free_window_days_before_min": u16_any(),
                "flat_fee_won": u64_any(), "flat_fee_days_before_min": u16_any(),
                "flat_fee_cap_percent": int(0, 100),
                "tiers": {"type": "array", "maxItems": picket_ledger_core::fees::FEE_TIERS_MAX, "items": {"type": "object", "required": ["days_before_min", "days_before_max", "percent"], "properties": {
                    "days_before_min": u16_any(), "days_before_max": u16_any(), "percent": int(0, 100)}}},
                "deadline_minute_of_day": int(0, 24 * 60 - 1), "saturday_deadline_minute_of_day": int(0, 24 * 60 - 1)
            }},
        "ShowForm": {"type": "object", "additionalProperties": false, "required": ["title", "category", "venue_id", "description", "age_rating", "running_minutes", "grades"], "properties": {
            "title": text(crate::venues::NAME_LEN_MAX), "category": {"type": "string", "enum": crate::sellers::CATEGORIES},
            "venue_id": {"allOf": [id_in()], "description": "a venue the seller's company created"},
            "description": {"type": "string", "maxLength": crate::shows::DESCRIPTION_LEN_MAX},
            "age_rating": {"type": "string", "enum": crate::shows::AGE_RATINGS},
            "running_minutes": int(1, crate::shows::RUNNING_MINUTES_MAX.into()),
            "per_buyer_limit": {"type": "integer", "minimum": 1, "maximum": limits::PER_BUYER_LIMIT_MAX, "default": 4},
            "fees": {"oneOf": [schema("FeeSchedule"), {"type": "null"}], "description": "absent or null: the Korean standard for the category"},
            "booking_fee_won": {"type": "integer", "minimum": 0, "maximum": crate::shows::BOOKING_FEE_WON_MAX, "default": 0, "description": "per ticket, on top of its price, the seller's (Picket takes none); refunded only when a ticket is cancelled on its day of booking or the performance is called off"},
            "queue": {"type": "object", "additionalProperties": false, "required": ["admit_per_sec", "active_max"], "description": "each performance's waiting room, configured at publish (sale id = performance id); absent: 200 a second, 2,000 at once", "properties": {
                "admit_per_sec": int(1, picket_room::ADMIT_PER_SEC_MAX.into()), "active_max": int(1, picket_room::ACTIVE_MAX_MAX.into())}},
            "grades": {"type": "array", "minItems": 1, "maxItems": crate::shows::GRADES_PER_SHOW_MAX, "items": {"type": "object", "additionalProperties": false, "required": ["code", "price_won"], "properties": {
                "code": text(crate::shows::GRADE_CODE_LEN_MAX), "price_won": int(1, limits::TICKET_PRICE_WON_MAX.into()),
                "sections": {"type": "array", "items": {"type": "string"}}, "zones": {"type": "array", "items": {"type": "string"}}}}},
            "discounts": {"type": "array", "maxItems": limits::DISCOUNTS_PER_PERFORMANCE_MAX, "description": "one discount or one coupon per order, never both, chosen by the buyer: a hold names a discount by its index (the `id` GET /api/v2/shows/{id} lists; `discount` in the WebSocket hold), and a hold that names none pays the grade prices, even while an early-bird window is open; eligibility discounts are checked at the entrance; exactly one of percent and amount_won, early_bird with from_ms before until_ms, eligibility with places_max (else 422)", "items": {"type": "object", "additionalProperties": false, "required": ["label", "kind"], "properties": {
                "label": {"allOf": [text(limits::OFFER_LABEL_LEN_MAX)], "description": format!("at most {} bytes of UTF-8", limits::OFFER_LABEL_LEN_MAX)},
                "kind": {"type": "string", "enum": ["early_bird", "eligibility"]},
                "percent": int(1, 100), "amount_won": int(1, limits::TICKET_PRICE_WON_MAX.into()),
                "from_ms": {"allOf": [u64_any()], "description": "early_bird only"}, "until_ms": {"allOf": [u64_any()], "description": "early_bird only"},
                "places_max": {"type": "integer", "minimum": 1, "maximum": limits::PER_BUYER_LIMIT_MAX, "description": "eligibility only: tickets per order it covers"},
                "grades": {"type": "array", "items": {"type": "string"}, "description": "grade codes; empty: every grade"}}}},
            "coupons": {"type": "array", "maxItems": limits::COUPONS_PER_PERFORMANCE_MAX, "items": {"type": "object", "additionalProperties": false, "required": ["code", "valid_from_ms", "valid_until_ms", "uses_max"], "properties": {
                "code": {"type": "string", "pattern": format!("^[A-Za-z0-9-]{{{},{}}}$", limits::COUPON_CODE_LEN_MIN, limits::LABEL_LEN_MAX)},
                "percent": int(1, 100), "amount_won": int(1, limits::TICKET_PRICE_WON_MAX.into()),
                "min_order_won": {"type": "integer", "minimum": 0, "maximum": limits::TICKET_PRICE_WON_MAX, "default": 0},
                "valid_from_ms": u64_any(), "valid_until_ms": u64_any(),
                "uses_max": {"type": "integer", "minimum": 1, "maximum": limits::COUPON_USES_MAX, "description": "per performance"},
                "uses_per_buyer_max": {"type": "integer", "minimum": 1, "maximum": u16::MAX, "default": 1}}}},
            "door": {"type": "object", "additionalProperties": false, "description": "how the door treats the show's tickets; absent: every setting off", "properties": {
                "reentry": {"type": "boolean", "default": false, "description": "an exit scan lets a ticket in again"},
                "gates": {"type": "array", "maxItems": limits::GATES_PER_PERFORMANCE_MAX, "uniqueItems": true, "default": [], "description": format!("the venue's gate labels, each 1 to {} bytes of UTF-8 and distinct (else 422); gate ids are their places in the list from 1 (the scan's `gate`); empty: any gate number, 0 the main door", limits::LABEL_LEN_MAX),
                    "items": text(limits::LABEL_LEN_MAX)},
                "transfer_until_minutes_before_start": {"oneOf": [int(0, crate::shows::TRANSFER_MINUTES_BEFORE_START_MAX.into()), {"type": "null"}], "default": null, "description": "holders may give a ticket to another member until this many minutes before each performance starts; absent or null: no transfers"},
                "static_tickets": {"type": "boolean", "default": false, "description": "printed (static) codes are issued (GET /api/v2/tickets/{id}/printed.png) and admitted at the door, marked printed"}}},
            "waitlist": {"type": "object", "additionalProperties": false, "description": "the cancellation waitlist of every performance; absent fields take their defaults", "properties": {
                "enabled": {"type": "boolean", "default": true, "description": "members may join the waitlist"},
                "claim_window_minutes": {"type": "integer", "minimum": crate::shows::CLAIM_WINDOW_MINUTES_MIN, "maximum": crate::shows::CLAIM_WINDOW_MINUTES_MAX, "default": 10, "description": "how long places offered to the next entry stay held for it to pay"},
                "freed_to_sale": {"type": "boolean", "default": false, "description": "false: while entries wait, freed places no entry can take yet stay off sale for the waitlist; true: they go back on sale"}}}
        }},
        "ShowPage": {"type": "object", "required": ["items", "next_cursor"], "properties": {
            "items": {"type": "array", "items": {"type": "object", "required": ["id", "title", "category", "region"], "properties": {
                "id": id(), "title": {"type": "string"}, "category": {"type": "string"}, "region": {"type": "string"}}}},
            "next_cursor": {"type": ["string", "null"], "pattern": picket_edge::id::ID_PATTERN}
        }},
        "CompanyShowPage": {"type": "object", "required": ["items", "next_cursor"], "properties": {
            "items": {"type": "array", "items": {"type": "object", "required": ["id", "title", "category", "region", "status", "venue_id", "performances", "first_starts_at_ms"], "properties": {
                "id": id(), "title": {"type": "string"}, "category": {"type": "string"}, "region": {"type": "string"},
                "status": {"type": "string", "enum": ["draft", "published"]}, "venue_id": id(),
                "performances": {"type": "integer", "minimum": 0},
                "first_starts_at_ms": {"type": ["integer", "null"], "description": "when the earliest performance starts; null before one is added"}}}},
            "next_cursor": {"type": ["string", "null"], "pattern": picket_edge::id::ID_PATTERN}
        }},
        "VenuePage": {"type": "object", "required": ["items", "next_cursor"], "properties": {
            "items": {"type": "array", "items": {"type": "object", "required": ["id", "name", "region", "address", "seats"], "properties": {
                "id": id(), "name": {"type": "string"}, "region": {"type": "string"}, "address": {"type": "string"},
                "seats": {"type": "integer", "minimum": 0}}}},
            "next_cursor": {"type": ["string", "null"], "pattern": picket_edge::id::ID_PATTERN}
        }},
        "ShowDetail": {"type": "object", "required": ["id", "title", "category", "region", "description", "age_rating", "running_minutes", "venue_id", "status", "grades", "per_buyer_limit", "performances", "booking_fee_won", "cancellation", "door", "waitlist", "discounts", "coupons"], "properties": {
            "id": id(), "title": {"type": "string"}, "category": {"type": "string"}, "region": {"type": "string"},
            "waitlist": {"allOf": [schema("WaitlistSettings")], "description": "the show form's waitlist settings"},
            "door": {"type": "object", "required": ["reentry", "gates", "transfer_until_minutes_before_start", "static_tickets"], "description": "the show form's door settings", "properties": {
                "reentry": {"type": "boolean"},
                "gates": {"type": "array", "items": {"type": "object", "required": ["gate", "label"], "properties": {"gate": {"type": "integer"}, "label": {"type": "string"}}}},
                "transfer_until_minutes_before_start": nullable_int.clone(), "static_tickets": {"type": "boolean"}}},
            "booking_fee_won": {"type": "integer", "description": "per ticket, on top of each price"},
            "description": {"type": "string"}, "age_rating": {"type": "string"}, "running_minutes": {"type": "integer"},
            "venue_id": id(), "status": {"type": "string", "enum": ["draft", "published"]},
            "grades": {"type": "array", "description": "the price grades in the show's order (a seat's grade id is its index here) with the venue sections and standing zones each covers", "items": {"type": "object", "required": ["code", "price_won", "sections", "zones"], "properties": {
                "code": {"type": "string"}, "price_won": {"type": "integer"},
                "sections": {"type": "array", "items": {"type": "string"}}, "zones": {"type": "array", "items": {"type": "string"}}}}},
            "per_buyer_limit": {"type": "integer", "description": "places one buyer may hold and own per performance (the sale's seat_limit)"},
            "performances": {"type": "array", "items": {"type": "object", "required": ["id", "starts_at_ms", "sale", "sale_open_at_ms", "sale_close_at_ms", "grades", "cancelled"], "properties": {
                "id": id(), "starts_at_ms": {"type": "integer"}, "sale": id(), "sale_open_at_ms": {"type": "integer"}, "sale_close_at_ms": {"type": "integer"},
                "grades": {"type": "array", "items": {"type": "object", "required": ["grade", "price_won", "left"], "properties": {
                    "grade": {"type": "string"}, "price_won": {"type": "integer"}, "left": nullable_int.clone()}}},
                "cancelled": {"type": ["boolean", "null"], "description": "the seller called the performance off (POST /api/v2/performances/{id}/cancel): nothing is on sale, every grade has 0 left, for good; null while the ledger's state of it is not known yet (as `left`)"}}}},
            "discounts": {"type": "array", "items": {"type": "object"}},
            "coupons": {"type": ["array", "null"], "description": "only to the show's seller and admins", "items": {"type": "object"}},
            "cancellation": {"type": "object", "required": ["fees", "booking_fee_refund"], "description": "what cancelling costs: the schedule every performance of the show opens with (the seller's, else the Korean standard for the category)", "properties": {
                "fees": {"type": "object", "description": "the ledger's FeeSchedule, as checkout's cancellation.fees (docs/protocol.md)"},
                "booking_fee_refund": {"type": "string", "enum": [picket_payments::flow::BOOKING_FEE_REFUND_RULE]}}}
        }},
        "PerformanceForm": {"type": "object", "additionalProperties": false, "required": ["starts_at_ms", "sale_open_at_ms"], "properties": {
            "starts_at_ms": time(), "sale_open_at_ms": time(), "sale_close_at_ms": {"oneOf": [time(), {"type": "null"}], "description": "absent or null: when the performance starts"}
        }},
        "PerformanceSpec": {"type": "object", "description": "a performance spec, docs/protocol.md", "required": ["performance", "starts_at_ms", "kind", "grades", "seats", "zones", "per_buyer_limit", "hold_ttl_ms", "fees"], "properties": {
            "performance": sale_in(), "starts_at_ms": u64_any(), "kind": {"type": "string", "enum": ["Performance", "Admission"]},
            "grades": {"type": "array", "items": {"type": "object", "required": ["code", "price_won"], "properties": {"code": {"type": "string"}, "price_won": u64_any()}}},
            "seats": {"type": "array", "items": {"type": "object", "required": ["section", "row", "number", "grade"], "properties": {
                "section": {"type": "string"}, "row": {"type": "string"}, "number": u16_any(), "grade": u16_any()}}},
            "zones": {"type": "array", "items": {"type": "object", "required": ["name", "grade", "capacity"], "properties": {
                "name": {"type": "string"}, "grade": u16_any(), "capacity": int(0, u32::MAX.into())}}},
            "per_buyer_limit": u16_any(), "hold_ttl_ms": u64_any(),
            "fees": schema("FeeSchedule"),
            "booking_fee_won": {"allOf": [u64_any()], "default": 0, "description": "per ticket, on top of its price; at most 100,000 (the ledger refuses more)"},
            "discounts": {"type": "array", "default": [], "items": {"type": "object", "required": ["label", "rule", "reduction", "grades"], "properties": {
                "label": {"type": "string"},
                "rule": {"oneOf": [
                    {"type": "object", "additionalProperties": false, "required": ["EarlyBird"], "properties": {"EarlyBird": {"type": "object", "required": ["from_ms", "until_ms"], "properties": {"from_ms": u64_any(), "until_ms": u64_any()}}}},
                    {"type": "object", "additionalProperties": false, "required": ["Eligibility"], "properties": {"Eligibility": {"type": "object", "required": ["places_max"], "properties": {"places_max": u16_any()}}}}]},
                "reduction": schema("Reduction"),
                "grades": {"type": "array", "items": u16_any()}}}},
            "coupons": {"type": "array", "default": [], "items": {"type": "object", "required": ["code", "reduction", "min_order_won", "valid_from_ms", "valid_until_ms", "uses_max", "uses_per_buyer_max"], "properties": {
                "code": {"type": "string"}, "reduction": schema("Reduction"), "min_order_won": u64_any(),
                "valid_from_ms": u64_any(), "valid_until_ms": u64_any(), "uses_max": int(0, u32::MAX.into()), "uses_per_buyer_max": u16_any()}}},
            "door": {"type": "object", "description": "absent: every setting off (no re-entry, any gate, no transfers, no static tickets)", "properties": {
                "reentry": {"type": "boolean", "default": false},
                "gates": {"type": "array", "default": [], "items": {"type": "object", "required": ["id", "label"], "properties": {"id": u16_any(), "label": {"type": "string"}}}},
                "transfer_until_ms": {"oneOf": [u64_any(), {"type": "null"}], "default": null},
                "static_tickets": {"type": "boolean", "default": false}}}
        }},
        "Reduction": {"oneOf": [
            {"type": "object", "additionalProperties": false, "required": ["Percent"], "properties": {"Percent": int(0, u8::MAX.into())}},
            {"type": "object", "additionalProperties": false, "required": ["FixedWon"], "properties": {"FixedWon": u64_any()}}]},
        "Booking": {"type": "object", "required": ["booking", "performance", "number", "paid_won", "booked_at_ms", "starts_at_ms", "cancellation_deadline_ms", "tickets"], "properties": {
            "booking": id(), "performance": id(), "number": {"type": ["string", "null"]},
            "paid_won": {"type": "integer"}, "booked_at_ms": {"type": "integer"},
            "starts_at_ms": nullable_int.clone(), "cancellation_deadline_ms": nullable_int.clone(),
            "tickets": {"type": "array", "items": {"type": "object", "required": ["ticket", "place", "price_won", "discount", "cancelled", "cancellation_fee_now_won"], "properties": {
                "ticket": id(), "place": {"type": "string"}, "price_won": {"type": "integer", "description": "what was paid for this ticket, after any discount or coupon"},
                "discount": {"type": ["object", "null"], "description": "the discount this ticket was sold with; proof_at_entry: staff check eligibility at the door", "properties": {
                    "id": {"type": "integer"}, "label": {"type": "string"}, "proof_at_entry": {"type": "boolean"}}},
                "cancelled": {"type": "boolean"}, "cancellation_fee_now_won": {"type": ["integer", "null"], "description": "null: no longer cancellable online"}}}}
        }},
        "Bookings": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": schema("Booking")}}},
        "PostForm": {"type": "object", "additionalProperties": false, "required": ["title", "body"], "properties": {
            "title": text(crate::board::TITLE_LEN_MAX),
            "body": text(crate::board::BODY_LEN_MAX)
        }},
        "ShowNoticeForm": {"description": "a notice; with notify_bookers true it is also sent to the show's bookers", "oneOf": [
            {"type": "object", "additionalProperties": false, "required": ["title", "body"], "properties": {
                "title": text(crate::board::TITLE_LEN_MAX),
                "body": text(crate::board::BODY_LEN_MAX),
                "notify_bookers": {"const": false}
            }},
            {"type": "object", "additionalProperties": false, "required": ["title", "body", "notify_bookers"], "properties": {
                "title": text(crate::board::TITLE_LEN_MAX),
                "body": text(crate::board::BODY_LEN_MAX),
                "notify_bookers": {"const": true},
                "performance": {"anyOf": [id_in(), {"type": "null"}], "description": "only this performance's bookers; null or absent: the show's"}
            }}
        ]},
        "Posts": {"type": "object", "required": ["items", "next_cursor"], "properties": {
            "items": {"type": "array", "items": {"type": "object", "required": ["id", "title", "body", "answer", "answered_at_ms", "created_at_ms"], "properties": {
                "id": id(), "title": {"type": "string"}, "body": {"type": "string"},
                "answer": {"type": ["string", "null"]}, "answered_at_ms": nullable_int.clone(), "created_at_ms": {"type": "integer"}}}},
            "next_cursor": {"type": ["string", "null"], "pattern": picket_edge::id::ID_PATTERN}
        }},
        "SaleSettings": {"type": "object", "required": ["open_at_ms", "admit_per_sec", "active_max", "admission_ttl_ms", "seat_limit", "grace_ms", "paused"], "properties": {
            "open_at_ms": u64_any(),
            "admit_per_sec": int(1, picket_room::ADMIT_PER_SEC_MAX.into()),
            "active_max": int(1, picket_room::ACTIVE_MAX_MAX.into()),
            "admission_ttl_ms": int(picket_room::ADMISSION_TTL_MS_MIN.into(), picket_room::ADMISSION_TTL_MS_MAX.into()),
            "seat_limit": int(1, limits::PER_BUYER_LIMIT_MAX.into()),
            "grace_ms": int(1, picket_room::GRACE_MS_MAX.into()),
            "paused": {"type": "boolean"}
        }},
        "SaleView": {"type": "object", "required": ["sale", "settings", "status", "watermark", "tail", "prequeue", "active", "seed_hash", "seed", "sold_out"], "properties": {
            "sale": id(), "settings": schema("SaleSettings"),
            "status": {"type": "string", "enum": ["pre_queue", "drawing", "open", "paused", "unavailable", "sold_out"]},
            "watermark": u64_any(), "tail": u64_any(), "prequeue": u64_any(), "active": u64_any(),
            "seed_hash": {"type": "string", "description": "SHA-256 of the draw seed, hex: published before the open"},
            "seed": {"type": ["string", "null"], "description": "the draw seed, hex, once drawn"},
            "sold_out": {"type": "boolean"}
        }}
    })
}
