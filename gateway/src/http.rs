//! The gateway's HTTP routes:
//!
//! - `GET /ws` — the WebSocket upgrade (subprotocol `picket.v2` required; v1, whose ids were
//!   JSON numbers, is no longer spoken).
//! - `GET /healthz`, and `GET /metrics` for the operator token.
//!
//! Everything under `/api` (including the operator's sale and performance routes) is the API's
//! (`picket-api`); the binary merges its router with this one. Errors are
//! `application/problem+json` built by [`picket_edge::problem`].

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use picket_edge::problem::Problem;
use serde_json::json;

use crate::Gateway;
use crate::protocol::SUBPROTOCOL;

pub fn router(gateway: Arc<Gateway>) -> axum::Router {
    axum::Router::new()
        .route("/ws", get(upgrade))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        // A problem like every other error, not axum's empty 405 (the `Allow` header stays).
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(gateway)
}

async fn method_not_allowed() -> Problem {
    Problem::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this route does not take this method",
    )
}

async fn upgrade(State(gateway): State<Arc<Gateway>>, ws: WebSocketUpgrade) -> Response {
    let speaks_ours = ws
        .requested_protocols()
        .any(|p| p.as_bytes() == SUBPROTOCOL.as_bytes());
    if !speaks_ours {
        return Problem::new(
            StatusCode::BAD_REQUEST,
            "unsupported_protocol",
            format!(
                "WebSocket 하위 프로토콜 {SUBPROTOCOL}을 요청하세요 / request the WebSocket subprotocol {SUBPROTOCOL}"
            ),
        )
        .into_response();
    }
    let config = &gateway.config;
    ws.protocols([SUBPROTOCOL])
        .read_buffer_size(config.read_buffer_bytes)
        .write_buffer_size(config.write_buffer_bytes)
        .max_write_buffer_size(config.write_buffer_bytes_max)
        .max_message_size(config.message_bytes_max)
        .max_frame_size(config.message_bytes_max)
        .on_upgrade(move |socket| crate::conn::serve(gateway, socket))
}

async fn healthz(State(gateway): State<Arc<Gateway>>) -> Response {
    let ledger = gateway.ledger.status();
    let status = if ledger.healthy() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = json!({
        "healthy": ledger.healthy(),
        "gateway": {
            "id": gateway.config.gateway_id,
            "connections": gateway.open_connections(),
            "connections_max": gateway.config.connections_max,
        },
        "ledger": ledger,
    });
    (status, Json(body)).into_response()
}

/// `/metrics`, for the operator token only (Prometheus sends it with `authorization`).
async fn metrics(State(gateway): State<Arc<Gateway>>, headers: HeaderMap) -> Response {
    let Some(access) = gateway.metrics_access() else {
        return operator_only();
    };
    if !picket_edge::operator::is_operator(&headers, &access.operator_token) {
        return operator_only();
    }
    let mut text = String::new();
    if prometheus_client::encoding::text::encode(&mut text, &access.registry).is_err() {
        return Problem::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "the metrics could not be encoded",
        )
        .into_response();
    }
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
}

fn operator_only() -> Response {
    let mut response = Problem::new(
        StatusCode::UNAUTHORIZED,
        "operator_only",
        "send Authorization: Bearer <operator token>",
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    response
}
