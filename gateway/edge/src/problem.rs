//! Errors over HTTP as `application/problem+json` (RFC 9457), built in one place for every route
//! the edge serves (the API's errors and the gateway's refused upgrades alike), so clients parse
//! one shape: `type`, `title` (the status' reason phrase), `status`, a stable `code`, a `detail` for people and, for
//! validation, one entry per invalid field.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// Where a problem's `type` URI points: `<PROBLEM_TYPE_BASE><code>`.
pub const PROBLEM_TYPE_BASE: &str = "https://picket.example/problems/";

/// Every problem `code` the edge sends over HTTP — the API's errors (`picket_api::ApiError`), the
/// rejections of its extractors and router (bad parameters, bodies, media types, methods,
/// routes), and the gateway's own HTTP routes (`/ws`, `/metrics`) — with its one HTTP status. The
/// OpenAPI document's `Problem.code` enum is this list; [`Problem::new`] refuses (in debug builds,
/// so in every test) a code or status that is not in it.
pub const CODES: [(&str, u16); 60] = [
    // A field of the body or query is out of bounds; `errors` names each field.
    ("invalid_request", 422),
    // The body is not the JSON this operation takes (syntax, types, unknown or missing fields).
    ("bad_body", 400),
    // A path or query parameter is not of its type (an id that is not an integer, an unknown
    // query parameter).
    ("bad_parameter", 400),
    // The body is not of a media type this operation takes (JSON without
    // `Content-Type: application/json`).
    ("unsupported_media_type", 415),
    // A body over the operation's limit (JSON 64 KiB, venues 8 MiB, banners 2 MiB, operator
    // routes 16 MiB).
    ("too_large", 413),
    ("unauthenticated", 401),
    ("forbidden", 403),
    // No such record (a show, venue, post, booking, …); `detail` names what.
    ("not_found", 404),
    // No such route: the path is not one the server serves.
    ("no_route", 404),
    // The route exists but not with this method; `Allow` lists the methods it takes.
    ("method_not_allowed", 405),
    ("conflict", 409),
    // `PUT /api/v2/venues/{id}` while a published performance uses the venue (its seat ids are
    // on sale): save the layout as a new venue instead.
    ("venue_in_use", 409),
    ("wrong_credentials", 401),
    ("too_many_attempts", 429),
    ("store_unavailable", 503),
    ("queue_unavailable", 503),
    // The banner store (media directory or S3-compatible bucket) failed or cannot be reached.
    ("media_unavailable", 503),
    // The operator token is missing or wrong (operator routes, the gateway's `/metrics`).
    ("operator_only", 401),
    ("unknown_sale", 404),
    // The sale's pre-queue has not been drawn yet: its seed is published at the open.
    ("not_drawn", 409),
    // The ledger refused an operator's command; the detail names the ledger's code.
    ("ledger_rejected", 422),
    // `POST /api/v2/performances` with another spec for a performance already open.
    ("performance_already_open", 409),
    ("ledger_unavailable", 503),
    ("internal", 500),
    // The gateway's `/ws` upgrade without the WebSocket subprotocol `picket.v2`.
    ("unsupported_protocol", 400),
    // The scanner's stream (`/api/v2/performances/{id}/scanner`) asked for without a WebSocket
    // upgrade.
    ("websocket_required", 426),
    // Payments (docs/payments.md): checkout and confirmation refusals.
    // No such hold (or no longer one: released, booked).
    ("unknown_hold", 404),
    // The hold is another buyer's.
    ("not_your_hold", 403),
    // The hold's deadline passed: it can no longer be paid.
    ("hold_expired", 409),
    // The provider declined the card; the hold stays, another card may be tried.
    ("payment_declined", 402),
    // No such payment at the provider, or not for this order.
    ("payment_not_found", 404),
    // The buyer authorised another amount than the hold's.
    ("payment_amount_mismatch", 409),
    // The provider did not answer or failed; retry.
    ("payment_unavailable", 503),
    // The payment was approved but the hold could not be booked: it was cancelled at once.
    ("payment_refunded", 409),
    // A webhook whose signature is missing, wrong or stale.
    ("webhook_signature", 401),
    // Paying over HTTP for a sale with a queue (invariant 7): no admission token came with it;
    // the token is not the gateway's, not for this sale or not the buyer's; the admission ran
    // out or was spent.
    ("no_admission", 403),
    ("admission_invalid", 403),
    ("admission_expired", 403),
    // Tickets (docs/protocol.md, "Over HTTP"): giving a ticket to another member and its
    // printed code. Only members give tickets: a guest's device token is no member session (sign
    // up, then sign in).
    ("members_only", 401),
    // The show allows no transfers.
    ("transfers_off", 409),
    // The show's transfer deadline (minutes before the start) has passed.
    ("transfer_deadline_passed", 409),
    // The ticket was used at the door.
    ("ticket_used", 409),
    // The ticket was cancelled (refunded).
    ("ticket_cancelled", 409),
    // The ticket was given away as often as it may be (`TRANSFERS_PER_TICKET_MAX`).
    ("too_many_transfers", 409),
    // The recipient holds as many tickets of the performance as one buyer may.
    ("recipient_over_limit", 409),
    // The recipient is the holder.
    ("transfer_to_self", 422),
    // No member has that e-mail address.
    ("unknown_member", 422),
    // The show issues no printed (static) codes.
    ("static_tickets_off", 409),
    // The cancellation waitlist (docs/protocol.md, "Waitlist over HTTP"). The performance takes
    // no waitlist (the show's `waitlist.enabled` is off).
    ("waitlist_closed", 409),
    // The performance's waitlist holds `WAITLIST_ENTRIES_MAX` entries.
    ("waitlist_full", 409),
    // The member has `WAITLIST_ENTRIES_PER_BUYER_MAX` entries in this performance's waitlist.
    ("too_many_waitlist_entries", 409),
    // The member waits in `WAITLISTS_PER_MEMBER_MAX` performances' waitlists already.
    ("too_many_waitlists", 409),
    // The quantity with the member's tickets and holds passes the per-buyer limit.
    ("over_buyer_limit", 409),
    // The performance started or was called off: its waitlist takes no one.
    ("waitlist_sales_closed", 409),
    // No such entry of the member's that still waits or is offered.
    ("unknown_waitlist_entry", 404),
    // The entry still waits: there is no offer to decline.
    ("no_waitlist_offer", 409),
    // Web Push (docs/protocol.md, "Web Push"): the member keeps
    // `PUSH_SUBSCRIPTIONS_PER_MEMBER_MAX` subscriptions already.
    ("too_many_push_subscriptions", 409),
    // Seller approval (docs/operations.md, "Seller approval"): the show's company is pending or
    // suspended, so it cannot publish (it can still draft).
    ("company_not_approved", 403),
    // Auto-pay (docs/payments.md, "Auto-pay"): no such registered payment method of the
    // member's (a join naming one, a delete, a registration's success URL naming no pending one).
    ("unknown_billing_method", 404),
    // The member has `BILLING_METHODS_PER_MEMBER_MAX` payment methods registered already.
    ("too_many_billing_methods", 409),
];

/// The status [`CODES`] gives `code`, if it is listed.
pub fn status_of(code: &str) -> Option<u16> {
    CODES
        .iter()
        .find(|(listed, _)| *listed == code)
        .map(|(_, status)| *status)
}

/// One invalid field of a request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

/// One problem document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub status: StatusCode,
    /// Stable, machine-readable: clients branch on it.
    pub code: &'static str,
    /// For people; may change.
    pub detail: String,
    /// Per-field messages of a validation error (omitted when empty).
    pub errors: Vec<FieldError>,
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    code: &'a str,
    detail: &'a str,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
}

impl Problem {
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Problem {
        debug_assert_eq!(
            status_of(code),
            Some(status.as_u16()),
            "problem code {code} with status {status} is not in picket_edge::problem::CODES"
        );
        Problem {
            status,
            code,
            detail: detail.into(),
            errors: Vec::new(),
        }
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Problem {
        self.errors = errors;
        self
    }

    /// The JSON document, without the status line and headers.
    pub fn body(&self) -> String {
        let body = Body {
            kind: format!("{PROBLEM_TYPE_BASE}{}", self.code),
            title: self.status.canonical_reason().unwrap_or("error"),
            status: self.status.as_u16(),
            code: self.code,
            detail: &self.detail,
            errors: &self.errors,
        };
        serde_json::to_string(&body).unwrap_or_else(|_| unreachable!("problems always encode"))
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.body()).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_names_its_code_in_type_and_code() {
        let problem = Problem::new(StatusCode::NOT_FOUND, "unknown_sale", "no such sale");
        let body: serde_json::Value = serde_json::from_str(&problem.body()).expect("json");
        assert_eq!(
            body,
            serde_json::json!({
                "type": "https://picket.example/problems/unknown_sale",
                "title": "Not Found",
                "status": 404,
                "code": "unknown_sale",
                "detail": "no such sale",
            })
        );
    }

    #[test]
    fn every_code_is_listed_once_with_an_error_status() {
        for (i, (code, status)) in CODES.iter().enumerate() {
            assert!(
                CODES[..i].iter().all(|(other, _)| other != code),
                "{code} is listed twice"
            );
            assert!((400..600).contains(status), "{code}: {status}");
            assert!(
                code.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
                "{code}: snake_case"
            );
        }
    }

    /// docs/operations.md lists every code with its status, for developers who never read the
    /// OpenAPI document.
    #[test]
    fn the_operations_guide_lists_every_code() {
        let guide = include_str!("../../../docs/operations.md");
        for (code, status) in CODES {
            assert!(
                guide.contains(&format!("| `{code}` | {status} |")),
                "docs/operations.md lacks the row of {code} ({status})"
            );
        }
    }

    #[test]
    #[should_panic(expected = "not in picket_edge::problem::CODES")]
    #[cfg(debug_assertions)]
    fn an_unlisted_code_is_refused() {
        let _ = Problem::new(StatusCode::BAD_REQUEST, "made_up", "nobody documented this");
    }

    #[test]
    fn field_errors_are_listed_only_when_there_are_some() {
        let problem = Problem::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", "bad")
            .with_errors(vec![FieldError {
                field: "email",
                message: "is not an email address".into(),
            }]);
        let body: serde_json::Value = serde_json::from_str(&problem.body()).expect("json");
        assert_eq!(body["errors"][0]["field"], "email");
        let response = problem.into_response();
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(
            response.headers()[header::CONTENT_TYPE],
            "application/problem+json"
        );
    }
}
