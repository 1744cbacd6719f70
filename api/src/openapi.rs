//! The OpenAPI 3.1 document of every route under `/api`, served at `/api/openapi.json`.
//! `tests/openapi.rs` checks that every route the router serves is in it and the other way round.

use axum::Json;
use axum::response::IntoResponse;
use serde_json::{Value, json};

use crate::error::CODES;

/// Every route the API serves (the operator's sale and performance routes too): method and path.
pub const ROUTES: [(&str, &str); 41] = [
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
    ("get", "/api/v2/shows"),
    ("post", "/api/v2/shows"),
    ("get", "/api/v2/shows/{id}"),
    ("post", "/api/v2/shows/{id}/performances"),
    ("post", "/api/v2/shows/{id}/publish"),
    ("get", "/api/v2/me/interests"),
    ("put", "/api/v2/me/interests"),
    ("post", "/api/v2/companies"),
    ("get", "/api/v2/companies/mine"),
    ("post", "/api/v2/admin/accounts"),
    ("post", "/api/v2/accounts"),
    ("post", "/api/v2/sessions"),
    ("delete", "/api/v2/sessions/current"),
    ("get", "/api/v2/me"),
    ("post", "/api/v2/performances"),
    ("get", "/api/v2/sales/{sale}"),
    ("put", "/api/v2/sales/{sale}"),
    ("get", "/api/v2/sales/{sale}/draw"),
    // Payments (`payment_paths`).
    ("post", "/api/v2/checkout"),
    ("get", "/api/v2/payments/success"),
    ("get", "/api/v2/payments/fail"),
    ("post", "/api/v2/payments/webhook"),
];

pub async fn serve() -> impl IntoResponse {
    Json(document())
}

/// The payment routes (docs/payments.md), kept in one block: merged into `document()`.
fn payment_paths() -> Value {
    json!({
        "/api/v2/checkout": {"post": {
            "summary": "What paying one's own hold costs and the order to pay it under (member session or guest token): the ledger's amount for the hold, never the client's; the same as the WebSocket's `checkout` answer. Each call names a new order",
            "security": [{"session": []}, {"guest": []}],
            "requestBody": json_body("CheckoutRequest"),
            "responses": with(json!({"200": json_response("the checkout: total_won is exactly what will be charged", "Checkout")}), problem_responses(&[400, 401, 403, 404, 409, 503]))
        }},
        "/api/v2/payments/success": {"get": {
            "summary": "The successUrl the app gives the provider: the server confirms the payment with the provider for the hold's amount (the amount parameter is only compared, for the log) and books, exactly as the WebSocket's confirm; once, whichever of this, the WebSocket and the webhook comes first. With `return` (a path on this site), answers 303 there",
            "parameters": [
                {"name": "paymentKey", "in": "query", "required": true, "schema": {"type": "string", "maxLength": picket_payments::flow::PAYMENT_KEY_LEN_MAX}},
                {"name": "orderId", "in": "query", "required": true, "schema": {"type": "string"}},
                {"name": "amount", "in": "query", "schema": {"type": "string"}},
                {"name": "paymentType", "in": "query", "schema": {"type": "string"}},
                {"name": "return", "in": "query", "schema": {"type": "string", "pattern": "^/[^/\\]", "maxLength": crate::payments::RETURN_PATH_BYTES_MAX}}],
            "responses": with(json!({
                "200": json_response("booked", "Paid"),
                "303": {"description": "booked; to the `return` path"}}),
                problem_responses(&[402, 403, 404, 409, 503]))
        }},
        "/api/v2/payments/fail": {"get": {
            "summary": "The failUrl the app gives the provider: always a 402 payment_declined problem naming the provider's code and message (nothing was charged; the hold stays until its deadline)",
            "parameters": [
                {"name": "code", "in": "query", "schema": {"type": "string"}},
                {"name": "message", "in": "query", "schema": {"type": "string"}},
                {"name": "orderId", "in": "query", "schema": {"type": "string"}}],
            "responses": problem_responses(&[402])
        }},
        "/api/v2/payments/webhook": {"post": {
            "summary": "The provider's webhook (PAYMENT_STATUS_CHANGED): verified with the provider's webhook key, each transmission id handled once, answered at once; the payment is then looked up with the provider (the body is only a hint): an authorised payment is confirmed for the hold's amount and booked, an approved one booked, one that cannot be booked voided",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "description": "the provider's event (docs/payments.md)"}}}},
            "responses": with(json!({"200": {"description": "accepted, or a duplicate transmission", "content": {"application/json": {"schema": {"type": "object", "required": ["handled"], "properties": {"handled": {"type": "string", "enum": ["accepted", "duplicate"]}}}}}}}), problem_responses(&[401, 503]))
        }}
    })
}

/// The payment routes' schemas.
fn payment_schemas() -> Value {
    json!({
        "CheckoutRequest": {"type": "object", "additionalProperties": false, "required": ["sale", "hold"], "properties": {
            "sale": {"$ref": "#/components/schemas/Id"}, "hold": {"$ref": "#/components/schemas/Id"}}},
        "Checkout": {"type": "object", "required": ["order_id", "order_name", "amount_won", "breakdown", "expires_at_ms", "cancellation", "provider"], "properties": {
            "order_id": {"type": "string", "pattern": "^pk[0-9]+h[0-9]+n[0-9a-f]{16}$"},
            "order_name": {"type": "string", "maxLength": 100},
            "amount_won": {"type": "integer"},
            "breakdown": {"type": "object", "required": ["places", "discount_won", "total_won"], "properties": {
                "places": {"type": "array", "items": {"type": "object", "required": ["place", "grade", "grade_code", "list_won", "price_won"], "properties": {
                    "place": {"type": "object", "description": "{\"Seat\": id} or {\"Zone\": id}"}, "grade": {"type": "integer"}, "grade_code": {"type": "string"},
                    "list_won": {"type": "integer"}, "price_won": {"type": "integer"}}}},
                "discount_won": {"type": "integer"}, "coupon": {"type": "string"}, "total_won": {"type": "integer"}}},
            "expires_at_ms": {"type": "integer"},
            "cancellation": {"type": "object", "required": ["deadline_ms", "fees"], "properties": {
                "deadline_ms": {"type": "integer"}, "fees": {"type": "object", "description": "the performance's FeeSchedule (docs/protocol.md)"}}},
            "provider": {"type": "object", "required": ["client_key", "checkout_url"], "properties": {
                "client_key": {"type": "string"}, "checkout_url": {"type": "string"}}}}},
        "Paid": {"type": "object", "required": ["order_id", "booking", "tickets", "amount_won"], "properties": {
            "order_id": {"type": "string"}, "booking": {"$ref": "#/components/schemas/Id"},
            "tickets": {"type": "array", "items": {"$ref": "#/components/schemas/Id"}, "description": "empty when the booking was made earlier (my page lists them)"},
            "amount_won": {"type": "integer"}}}
    })
}

fn problem_responses(codes: &[u16]) -> Value {
    let mut responses = serde_json::Map::new();
    for status in codes {
        let names: Vec<&str> = CODES
            .iter()
            .filter(|(_, s)| s == status)
            .map(|(code, _)| *code)
            .collect();
        responses.insert(
            status.to_string(),
            json!({
                "description": format!("a problem: {}", names.join(", ")),
                "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
            }),
        );
    }
    Value::Object(responses)
}

fn with(mut base: Value, extra: Value) -> Value {
    if let (Some(base), Some(extra)) = (base.as_object_mut(), extra.as_object()) {
        base.extend(extra.clone());
    }
    base
}

fn json_body(schema: &str) -> Value {
    json!({"required": true, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

fn json_response(description: &str, schema: &str) -> Value {
    json!({"description": description, "content": {"application/json": {"schema": {"$ref": format!("#/components/schemas/{schema}")}}}})
}

pub fn document() -> Value {
    let mut document = base_document();
    if let (Some(paths), Some(extra)) = (
        document["paths"].as_object_mut(),
        payment_paths().as_object(),
    ) {
        paths.extend(extra.clone());
    }
    if let (Some(schemas), Some(extra)) = (
        document["components"]["schemas"].as_object_mut(),
        payment_schemas().as_object(),
    ) {
        schemas.extend(extra.clone());
    }
    document
}

fn base_document() -> Value {
    let bearer = json!([{"session": []}]);
    let operator = json!([{"operator": []}]);
    let id_param = json!([{"name": "id", "in": "path", "required": true, "schema": {"$ref": "#/components/schemas/Id"}}]);
    let page_params = json!([
        {"name": "cursor", "in": "query", "schema": {"$ref": "#/components/schemas/Id"}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": crate::paging::PAGE_LIMIT_MAX}}]);
    let id_and_page = json!([
        {"name": "id", "in": "path", "required": true, "schema": {"$ref": "#/components/schemas/Id"}},
        {"name": "cursor", "in": "query", "schema": {"$ref": "#/components/schemas/Id"}},
        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": crate::paging::PAGE_LIMIT_MAX}}]);
    let sale_param = json!([{"name": "sale", "in": "path", "required": true, "schema": {"$ref": "#/components/schemas/Id"}}]);
    json!({
        "openapi": "3.1.0",
        "info": {"title": "Picket API", "version": "2.0.0"},
        "paths": {
            "/api/openapi.json": {"get": {
                "summary": "This document",
                "responses": {"200": {"description": "the OpenAPI document", "content": {"application/json": {}}}}
            }},
            "/api/v2/accounts": {"post": {
                "summary": "Sign up as a member",
                "requestBody": json_body("SignUp"),
                "responses": with(json!({"201": json_response("the new account", "Account")}), problem_responses(&[400, 409, 422, 503]))
            }},
            "/api/v2/sessions": {"post": {
                "summary": "Sign in: a session token for this API and the gateways' WebSocket; attempts limited per client address (10 at once, 30 a minute), and after 5 wrong passwords for an email from one address that pair backs off (429 with Retry-After, from 1 s doubling)",
                "requestBody": json_body("SignIn"),
                "responses": with(json!({"201": json_response("the session", "Session")}), problem_responses(&[400, 401, 429, 503]))
            }},
            "/api/v2/sessions/current": {"delete": {
                "summary": "Sign out: revoke the session of the token",
                "security": bearer,
                "responses": with(json!({"204": {"description": "signed out"}}), problem_responses(&[401, 503]))
            }},
            "/api/v2/me": {"get": {
                "summary": "The signed-in account",
                "security": bearer,
                "responses": with(json!({"200": json_response("the account", "Account")}), problem_responses(&[401, 503]))
            }},
            "/api/v2/me/interests": {
                "get": {
                    "summary": "The member's interests (categories and regions for alerts)",
                    "security": bearer,
                    "responses": with(json!({"200": json_response("the interests", "Interests")}), problem_responses(&[401, 503]))
                },
                "put": {
                    "summary": "Replace the member's interests",
                    "security": bearer,
                    "requestBody": json_body("Interests"),
                    "responses": with(json!({"200": json_response("the interests", "Interests")}), problem_responses(&[400, 401, 422, 503]))
                }
            },
            "/api/v2/companies": {"post": {
                "summary": "Register a seller: an account and its company",
                "requestBody": json_body("SellerSignUp"),
                "responses": with(json!({"201": {"description": "the account and company", "content": {"application/json": {"schema": {"type": "object", "properties": {"account": {"$ref": "#/components/schemas/Account"}, "company": {"$ref": "#/components/schemas/Company"}}}}}}}), problem_responses(&[400, 409, 422, 503]))
            }},
            "/api/v2/companies/mine": {"get": {
                "summary": "The seller's own company",
                "security": bearer,
                "responses": with(json!({"200": json_response("the company", "Company")}), problem_responses(&[401, 403, 404, 503]))
            }},
            "/api/v2/admin/accounts": {"post": {
                "summary": "Create a venue-staff or admin account (admin, or the operator token)",
                "security": [{"session": []}, {"operator": []}],
                "requestBody": json_body("StaffForm"),
                "responses": with(json!({"201": json_response("the account", "Account")}), problem_responses(&[400, 401, 403, 409, 422, 503]))
            }},
            "/api/v2/venues": {"post": {
                "summary": "A venue with its seat map: sections of rows of seats (with drawing coordinates) and standing zones (seller, admin)",
                "security": bearer,
                "requestBody": json_body("VenueForm"),
                "responses": with(json!({"201": {"description": "the venue (id, seats, standing_capacity)"}}), problem_responses(&[400, 401, 403, 422, 503]))
            }},
            "/api/v2/venues/{id}": {"get": {
                "summary": "A venue, its seat map, and the ledger id of every seat and standing zone (the ids a hold names)",
                "parameters": id_param,
                "responses": with(json!({"200": json_response("the venue", "Venue")}), problem_responses(&[404, 503]))
            }},
            "/api/v2/shows": {
                "get": {
                    "summary": "Published shows, newest first, filtered and paged by cursor",
                    "parameters": [
                        {"name": "category", "in": "query", "schema": {"type": "string", "enum": crate::sellers::CATEGORIES}},
                        {"name": "region", "in": "query", "schema": {"type": "string", "enum": crate::sellers::REGIONS}},
                        {"name": "from_ms", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                        {"name": "to_ms", "in": "query", "schema": {"type": "integer", "minimum": 0}},
                        {"name": "q", "in": "query", "description": "text in the title, case-insensitive; % and _ are matched as themselves", "schema": {"type": "string"}},
                        {"name": "cursor", "in": "query", "schema": {"$ref": "#/components/schemas/Id"}},
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": crate::paging::PAGE_LIMIT_MAX}}
                    ],
                    "responses": with(json!({"200": {"description": "{items, next_cursor}"}}), problem_responses(&[400, 422, 503]))
                },
                "post": {
                    "summary": "A draft show of the seller's company, with price grades over the venue's sections and zones; the venue must be one the company created (a venue belongs to the company whose seller created it; another is 422 on venue_id)",
                    "security": bearer,
                    "requestBody": json_body("ShowForm"),
                    "responses": with(json!({"201": {"description": "the draft"}}), problem_responses(&[400, 401, 403, 422, 503]))
                }
            },
            "/api/v2/shows/{id}": {"get": {
                "summary": "A show with its performances and the places left per grade",
                "parameters": id_param,
                "responses": with(json!({"200": {"description": "the show"}}), problem_responses(&[401, 404, 503]))
            }},
            "/api/v2/shows/{id}/staff": {"post": {
                "summary": "Assign a venue-staff account to scan the show's tickets (its seller, admin)",
                "security": bearer, "parameters": id_param,
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["account_id"], "properties": {"account_id": {"$ref": "#/components/schemas/Id"}}}}}},
                "responses": with(json!({"204": {"description": "assigned"}}), problem_responses(&[400, 401, 403, 404, 422, 503]))
            }},
            "/api/v2/staff/shows": {"get": {
                "summary": "The shows this venue-staff account may scan",
                "security": bearer,
                "responses": with(json!({"200": {"description": "{items: [{id, title}]}"}}), problem_responses(&[401, 403, 503]))
            }},
            "/api/v2/me/bookings": {"get": {
                "summary": "The member's bookings: seats, amounts, the cancellation deadline and the fee that would apply now",
                "security": bearer,
                "responses": with(json!({"200": json_response("the bookings", "Bookings")}), problem_responses(&[401, 403, 503]))
            }},
            "/api/v2/guest/contact": {"put": {
                "summary": "A guest's name and phone, filed with the guest's next bookings (guest token from the gateway's welcome)",
                "security": [{"guest": []}],
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "additionalProperties": false, "required": ["name", "phone"], "properties": {"name": {"type": "string"}, "phone": {"type": "string"}}}}}},
                "responses": with(json!({"204": {"description": "saved"}}), problem_responses(&[400, 401, 422, 503]))
            }},
            "/api/v2/guest/bookings": {"get": {
                "summary": "The guest device's bookings with their booking numbers",
                "security": [{"guest": []}],
                "responses": with(json!({"200": json_response("the bookings", "Bookings")}), problem_responses(&[401, 503]))
            }},
            "/api/v2/guest-bookings": {"get": {
                "summary": "One guest booking by booking number and phone; the same 404 for a wrong number or a wrong phone; lookups limited per client address (10 at once, 30 a minute; a lookup that finds its booking is given back) and for everyone together (60 at once, 600 a minute), and after 5 wrong phones for a number from one address that pair backs off (429 with Retry-After, from 1 s doubling)",
                "parameters": [
                    {"name": "number", "in": "query", "required": true, "schema": {"type": "string"}},
                    {"name": "phone", "in": "query", "required": true, "schema": {"type": "string"}}],
                "responses": with(json!({"200": json_response("the booking", "Booking")}), problem_responses(&[400, 404, 429, 503]))
            }},
            "/api/v2/notices": {
                "get": {"summary": "Platform notices, newest first", "parameters": page_params,
                        "responses": with(json!({"200": json_response("a page of posts", "Posts")}), problem_responses(&[400, 422, 503]))},
                "post": {"summary": "Post a platform notice (admin)", "security": bearer, "requestBody": json_body("PostForm"),
                         "responses": with(json!({"201": {"description": "the post id"}}), problem_responses(&[400, 401, 403, 422, 503]))}
            },
            "/api/v2/shows/{id}/notices": {
                "get": {"summary": "A published show's notices", "parameters": id_and_page,
                        "responses": with(json!({"200": json_response("a page of posts", "Posts")}), problem_responses(&[400, 404, 422, 503]))},
                "post": {"summary": "Post a notice on a show (its seller, admin)", "security": bearer, "parameters": id_param, "requestBody": json_body("PostForm"),
                         "responses": with(json!({"201": {"description": "the post id"}}), problem_responses(&[400, 401, 403, 404, 422, 503]))}
            },
            "/api/v2/shows/{id}/questions": {
                "get": {"summary": "A published show's questions and answers", "parameters": id_and_page,
                        "responses": with(json!({"200": json_response("a page of posts", "Posts")}), problem_responses(&[400, 404, 422, 503]))},
                "post": {"summary": "Ask the seller a question (members)", "security": bearer, "parameters": id_param, "requestBody": json_body("PostForm"),
                         "responses": with(json!({"201": {"description": "the post id"}}), problem_responses(&[400, 401, 403, 404, 422, 503]))}
            },
            "/api/v2/questions/{id}/answer": {"post": {
                "summary": "Answer a question (the show's seller, admin)", "security": bearer, "parameters": id_param,
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["answer"], "properties": {"answer": {"type": "string"}}}}}},
                "responses": with(json!({"204": {"description": "answered"}}), problem_responses(&[400, 401, 403, 404, 422, 503]))
            }},
            "/api/v2/posts/{id}/hide": {"post": {
                "summary": "Hide a post (admin)", "security": bearer, "parameters": id_param,
                "responses": with(json!({"204": {"description": "hidden"}}), problem_responses(&[401, 403, 404, 503]))
            }},
            "/api/v2/shows/{id}/banner": {
                "get": {
                    "summary": "The show's banner image (cacheable, with an ETag; If-None-Match answers 304; served with X-Content-Type-Options: nosniff; a draft's only to its seller and admins)",
                    "parameters": id_param,
                    "responses": with(json!({"200": {"description": "the image", "content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}}, "304": {"description": "not modified"}}), problem_responses(&[404, 503]))
                },
                "put": {
                    "summary": "Upload the banner as the raw body: PNG, JPEG or WebP, at most 2 MiB and 4,096 × 4,096 pixels, decoded before it is kept (its seller, admin)",
                    "security": bearer,
                    "parameters": id_param,
                    "requestBody": {"required": true, "content": {"image/png": {}, "image/jpeg": {}, "image/webp": {}}},
                    "responses": with(json!({"204": {"description": "stored"}}), problem_responses(&[400, 401, 403, 404, 413, 422, 503]))
                }
            },
            "/api/v2/shows/{id}/performances": {"post": {
                "summary": "Add a performance (dated showing) to a draft show (its seller, admin)",
                "security": bearer,
                "parameters": id_param,
                "requestBody": json_body("PerformanceForm"),
                "responses": with(json!({"201": {"description": "the performance id"}}), problem_responses(&[400, 401, 403, 404, 409, 422, 503]))
            }},
            "/api/v2/shows/{id}/publish": {"post": {
                "summary": "Publish: validate, open every performance's inventory in the ledger (holds last 8 minutes), create each performance's sale in the waiting room (sale id = performance id; opens at the performance's sale_open_at_ms, admits at the show's queue.admit_per_sec and queue.active_max, seat_limit = the show's per_buyer_limit, admissions last 10 minutes, a dropped buyer's place is kept 30 s; an operator changes them with PUT /api/v2/sales/{sale}), announce (its seller, admin); publishing again changes nothing",
                "security": bearer,
                "parameters": id_param,
                "responses": with(json!({"200": {"description": "published, with the announcement"}}), problem_responses(&[401, 403, 404, 422, 500, 503]))
            }},
            "/api/v2/performances": {"post": {
                "summary": "Put a performance's inventory on sale in the ledger (operator); the same spec again answers as the first time, a refused spec may be corrected, another spec for an open performance is 409 performance_already_open; hold_ttl_ms must be 60,000 to 1,800,000 (else 422 ledger_rejected, HoldTtl)",
                "security": operator,
                "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "description": "a performance spec, docs/protocol.md"}}}},
                "responses": with(json!({"201": {"description": "opened"}}), problem_responses(&[400, 401, 409, 422, 503]))
            }},
            "/api/v2/sales/{sale}": {
                "get": {
                    "summary": "A sale's waiting-room state",
                    "parameters": sale_param,
                    "responses": with(json!({"200": {"description": "the sale"}}), problem_responses(&[404, 503]))
                },
                "put": {
                    "summary": "Create a sale or change its settings (operator); every field is required: to change one, send the settings GET returns with that field changed. The open time cannot move once the pre-queue is drawn. The settings and the sale's seed are recorded in the API's database first: a waiting room that lost the sale gets it back from there with the same settings, seed and draw",
                    "security": operator,
                    "parameters": sale_param,
                    "requestBody": json_body("SaleSettings"),
                    "responses": with(json!({"200": {"description": "the sale"}}), problem_responses(&[400, 401, 422, 503]))
                }
            },
            "/api/v2/sales/{sale}/draw": {"get": {
                "summary": "The pre-queue draw: the seed's hash before the open, the seed after",
                "parameters": sale_param,
                "responses": with(json!({"200": {"description": "the draw"}}), problem_responses(&[404, 409, 503]))
            }}
        },
        "components": {
            "securitySchemes": {
                "session": {"type": "http", "scheme": "bearer", "description": "a session token from POST /api/v2/sessions"},
                "operator": {"type": "http", "scheme": "bearer", "description": "the operator token"},
                "guest": {"type": "http", "scheme": "bearer", "description": "the guest token a gateway issues in welcome.guest_token"}
            },
            "schemas": {
                "Id": {"type": "string", "pattern": picket_edge::id::ID_PATTERN, "maxLength": picket_edge::id::ID_DIGITS_MAX,
                    "description": "an id: decimal digits in a string, since JavaScript numbers are exact only up to 2^53 (0 to 18446744073709551615; the API's own ids are at most 9223372036854775807)",
                    "examples": ["117701597864396273"]},
                "Problem": {"type": "object", "required": ["type", "title", "status", "code", "detail"], "properties": {
                    "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
                    "code": {"type": "string", "enum": CODES.iter().map(|(c, _)| *c).collect::<Vec<_>>()},
                    "detail": {"type": "string"},
                    "errors": {"type": "array", "items": {"type": "object", "required": ["field", "message"], "properties": {"field": {"type": "string"}, "message": {"type": "string"}}}}
                }},
                "SignUp": {"type": "object", "additionalProperties": false, "required": ["email", "password", "name"], "properties": {
                    "email": {"type": "string", "format": "email", "maxLength": crate::accounts::EMAIL_LEN_MAX},
                    "password": {"type": "string", "minLength": crate::accounts::PASSWORD_LEN_MIN, "maxLength": crate::accounts::PASSWORD_LEN_MAX},
                    "name": {"type": "string", "minLength": 1, "maxLength": crate::accounts::NAME_LEN_MAX},
                    "phone": {"type": ["string", "null"], "examples": ["010-1234-5678"]}
                }},
                "SignIn": {"type": "object", "additionalProperties": false, "required": ["email", "password"], "properties": {
                    "email": {"type": "string"}, "password": {"type": "string"}
                }},
                "Account": {"type": "object", "required": ["id", "email", "name", "role"], "properties": {
                    "id": {"$ref": "#/components/schemas/Id"}, "email": {"type": "string"}, "name": {"type": "string"},
                    "phone": {"type": ["string", "null"]}, "role": {"type": "string", "enum": ["member", "seller", "staff", "admin"]}
                }},
                "Session": {"type": "object", "required": ["token", "expires_at_ms", "account"], "properties": {
                    "token": {"type": "string"}, "expires_at_ms": {"type": "integer"},
                    "account": {"$ref": "#/components/schemas/Account"}
                }},
                "Interests": {"type": "object", "additionalProperties": false, "required": ["categories", "regions"], "properties": {
                    "categories": {"type": "array", "items": {"type": "string", "enum": crate::sellers::CATEGORIES}},
                    "regions": {"type": "array", "items": {"type": "string", "enum": crate::sellers::REGIONS}}
                }},
                "Company": {"type": "object", "required": ["id", "name", "business_number", "contact_email", "contact_phone"], "properties": {
                    "id": {"$ref": "#/components/schemas/Id"}, "name": {"type": "string"},
                    "business_number": {"type": "string", "pattern": "^[0-9]{10}$"},
                    "contact_email": {"type": "string"}, "contact_phone": {"type": "string"}
                }},
                "SellerSignUp": {"type": "object", "additionalProperties": false, "required": ["account", "company"], "properties": {
                    "account": {"$ref": "#/components/schemas/SignUp"},
                    "company": {"type": "object", "additionalProperties": false, "required": ["name", "business_number", "contact_email", "contact_phone"], "properties": {
                        "name": {"type": "string", "minLength": 1, "maxLength": crate::sellers::COMPANY_NAME_LEN_MAX},
                        "business_number": {"type": "string", "description": "사업자등록번호, ten digits with a valid check digit; dashes allowed", "examples": ["123-45-67891"]},
                        "contact_email": {"type": "string"}, "contact_phone": {"type": "string"}
                    }}
                }},
                "StaffForm": {"type": "object", "additionalProperties": false, "required": ["account", "role"], "properties": {
                    "account": {"$ref": "#/components/schemas/SignUp"},
                    "role": {"type": "string", "enum": ["staff", "admin"]}
                }},
                "VenueForm": {"type": "object", "additionalProperties": false, "required": ["name", "region", "address", "layout"], "properties": {
                    "name": {"type": "string"}, "region": {"type": "string", "enum": crate::sellers::REGIONS}, "address": {"type": "string"},
                    "layout": {"type": "object", "required": ["sections"], "properties": {
                        "sections": {"type": "array", "items": {"type": "object", "required": ["name", "rows"], "properties": {
                            "name": {"type": "string"},
                            "rows": {"type": "array", "items": {"type": "object", "required": ["name", "seats"], "properties": {
                                "name": {"type": "string"},
                                "seats": {"type": "array", "items": {"type": "object", "required": ["number", "x", "y"], "properties": {
                                    "number": {"type": "integer", "minimum": 0}, "x": {"type": "integer"}, "y": {"type": "integer"}}}}}}}}}},
                        "zones": {"type": "array", "items": {"type": "object", "required": ["name", "capacity"], "properties": {
                            "name": {"type": "string"}, "capacity": {"type": "integer", "minimum": 1}}}}
                    }}
                }},
                "Venue": {"type": "object", "required": ["id", "name", "region", "layout", "seats", "zones"], "properties": {
                    "id": {"$ref": "#/components/schemas/Id"}, "name": {"type": "string"}, "region": {"type": "string", "enum": crate::sellers::REGIONS},
                    "layout": {"type": "object", "required": ["sections", "zones"], "description": "the seat map as the seller sent it (the `layout` of VenueForm), with drawing coordinates"},
                    "seats": {"type": "array", "maxItems": crate::venues::SEATS_PER_VENUE_MAX,
                        "description": "every seat with its ledger seat id, in id order: sections as listed in the layout, each section's rows as listed, each row's seats as listed; a seat's id is its position in this order (0, 1, 2, …) and is what a hold names (`{\"Seats\": [id, …]}`) and what `Held.places` and the `seats` bitmap report, for every performance at this venue",
                        "items": {"type": "object", "required": ["id", "section", "row", "number"], "properties": {
                            "id": {"type": "integer", "minimum": 0, "maximum": crate::venues::SEATS_PER_VENUE_MAX - 1},
                            "section": {"type": "string"}, "row": {"type": "string"}, "number": {"type": "integer", "minimum": 0}}}},
                    "zones": {"type": "array", "maxItems": crate::venues::ZONES_PER_VENUE_MAX,
                        "description": "every standing zone with its ledger zone id, its position in `layout.zones` (0, 1, …); a hold names it as `{\"Zone\": {\"zone\": id, \"count\": n}}`",
                        "items": {"type": "object", "required": ["id", "name", "capacity"], "properties": {
                            "id": {"type": "integer", "minimum": 0, "maximum": crate::venues::ZONES_PER_VENUE_MAX - 1},
                            "name": {"type": "string"}, "capacity": {"type": "integer", "minimum": 1}}}}
                }},
                "ShowForm": {"type": "object", "additionalProperties": false, "required": ["title", "category", "venue_id", "description", "age_rating", "running_minutes", "grades"], "properties": {
                    "title": {"type": "string"}, "category": {"type": "string", "enum": crate::sellers::CATEGORIES},
                    "venue_id": {"$ref": "#/components/schemas/Id", "description": "a venue the seller's company created"}, "description": {"type": "string"},
                    "age_rating": {"type": "string", "enum": crate::shows::AGE_RATINGS},
                    "running_minutes": {"type": "integer", "minimum": 1, "maximum": 600},
                    "per_buyer_limit": {"type": "integer", "minimum": 1, "default": 4},
                    "fees": {"type": "object", "description": "the cancellation-fee schedule (docs/protocol.md, FeeSchedule); absent: the Korean standard"},
                    "queue": {"type": "object", "description": "each performance's waiting room, configured at publish (sale id = performance id)", "properties": {
                        "admit_per_sec": {"type": "integer", "minimum": 1, "default": 200}, "active_max": {"type": "integer", "minimum": 1, "default": 2000}}},
                    "grades": {"type": "array", "items": {"type": "object", "required": ["code", "price_won"], "properties": {
                        "code": {"type": "string"}, "price_won": {"type": "integer", "minimum": 1},
                        "sections": {"type": "array", "items": {"type": "string"}}, "zones": {"type": "array", "items": {"type": "string"}}}}},
                    "discounts": {"type": "array", "maxItems": 16, "description": "one discount or one coupon per order, never both, chosen by the buyer: a hold names a discount by its index (the `id` GET /api/v2/shows/{id} lists; `discount` in the WebSocket hold), and a hold that names none pays the grade prices, even while an early-bird window is open; eligibility discounts are checked at the entrance", "items": {"type": "object", "additionalProperties": false, "required": ["label", "kind"], "properties": {
                        "label": {"type": "string"}, "kind": {"type": "string", "enum": ["early_bird", "eligibility"]},
                        "percent": {"type": "integer", "minimum": 1, "maximum": 100}, "amount_won": {"type": "integer", "minimum": 1},
                        "from_ms": {"type": "integer", "description": "early_bird only"}, "until_ms": {"type": "integer", "description": "early_bird only"},
                        "places_max": {"type": "integer", "minimum": 1, "maximum": 16, "description": "eligibility only: tickets per order it covers"},
                        "grades": {"type": "array", "items": {"type": "string"}, "description": "grade codes; empty: every grade"}}}},
                    "coupons": {"type": "array", "maxItems": 64, "items": {"type": "object", "additionalProperties": false, "required": ["code", "valid_from_ms", "valid_until_ms", "uses_max"], "properties": {
                        "code": {"type": "string", "minLength": 4, "maxLength": 32, "pattern": "^[A-Za-z0-9-]+$"},
                        "percent": {"type": "integer", "minimum": 1, "maximum": 100}, "amount_won": {"type": "integer", "minimum": 1},
                        "min_order_won": {"type": "integer", "minimum": 0, "default": 0},
                        "valid_from_ms": {"type": "integer"}, "valid_until_ms": {"type": "integer"},
                        "uses_max": {"type": "integer", "minimum": 1, "maximum": 1000000, "description": "per performance"},
                        "uses_per_buyer_max": {"type": "integer", "minimum": 1, "default": 1}}}}
                }},
                "PerformanceForm": {"type": "object", "additionalProperties": false, "required": ["starts_at_ms", "sale_open_at_ms"], "properties": {
                    "starts_at_ms": {"type": "integer"}, "sale_open_at_ms": {"type": "integer"}, "sale_close_at_ms": {"type": "integer"}
                }},
                "Booking": {"type": "object", "required": ["booking", "performance", "paid_won", "booked_at_ms", "tickets"], "properties": {
                    "booking": {"$ref": "#/components/schemas/Id"}, "performance": {"$ref": "#/components/schemas/Id"}, "number": {"type": ["string", "null"]},
                    "paid_won": {"type": "integer"}, "booked_at_ms": {"type": "integer"},
                    "starts_at_ms": {"type": ["integer", "null"]}, "cancellation_deadline_ms": {"type": ["integer", "null"]},
                    "tickets": {"type": "array", "items": {"type": "object", "properties": {
                        "ticket": {"$ref": "#/components/schemas/Id"}, "place": {"type": "string"}, "price_won": {"type": "integer", "description": "what was paid for this ticket, after any discount or coupon"},
                        "discount": {"type": ["object", "null"], "description": "the discount this ticket was sold with; proof_at_entry: staff check eligibility at the door", "properties": {
                            "id": {"type": "integer"}, "label": {"type": "string"}, "proof_at_entry": {"type": "boolean"}}},
                        "cancelled": {"type": "boolean"}, "cancellation_fee_now_won": {"type": ["integer", "null"], "description": "null: no longer cancellable online"}}}}
                }},
                "Bookings": {"type": "object", "required": ["items"], "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Booking"}}}},
                "PostForm": {"type": "object", "additionalProperties": false, "required": ["title", "body"], "properties": {
                    "title": {"type": "string", "minLength": 1, "maxLength": crate::board::TITLE_LEN_MAX},
                    "body": {"type": "string", "minLength": 1, "maxLength": crate::board::BODY_LEN_MAX}
                }},
                "Posts": {"type": "object", "required": ["items", "next_cursor"], "properties": {
                    "items": {"type": "array", "items": {"type": "object", "properties": {
                        "id": {"$ref": "#/components/schemas/Id"}, "title": {"type": "string"}, "body": {"type": "string"},
                        "answer": {"type": ["string", "null"]}, "answered_at_ms": {"type": ["integer", "null"]}, "created_at_ms": {"type": "integer"}}}},
                    "next_cursor": {"type": ["string", "null"], "pattern": picket_edge::id::ID_PATTERN}
                }},
                "SaleSettings": {"type": "object", "required": ["open_at_ms", "admit_per_sec", "active_max", "admission_ttl_ms", "seat_limit", "grace_ms", "paused"], "properties": {
                    "open_at_ms": {"type": "integer"}, "admit_per_sec": {"type": "integer"}, "active_max": {"type": "integer"},
                    "admission_ttl_ms": {"type": "integer"}, "seat_limit": {"type": "integer"}, "grace_ms": {"type": "integer"}, "paused": {"type": "boolean"}
                }}
            }
        }
    })
}
