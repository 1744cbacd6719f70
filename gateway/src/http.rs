//! The gateway's HTTP routes:
//!
//! - `GET /ws` — the WebSocket upgrade (subprotocol `picket.v1` required).
//! - `GET /healthz`, `GET /metrics`.
//! - `GET /api/v1/sales/{sale}` — a sale's public state (status, counters, seed hash; the seed
//!   once drawn).
//! - `GET /api/v1/sales/{sale}/draw` — the audit list: identity hashes in drawn order.
//! - `PUT /api/v1/sales/{sale}` — operator: create a sale or change its settings (rate, pause).
//! - `POST /api/v1/performances` — operator: put a performance's inventory on sale in the ledger
//!   (the catalog does this on publish once it exists).
//!
//! Operator routes need `Authorization: Bearer <operator token>`. Errors are
//! `application/problem+json` with a stable `code`.

use std::sync::Arc;

use axum::Json;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use picket_ledger_core::{ActorId, Command, IdempotencyKey, PerformanceSpec, Request};
use serde_json::json;

use crate::Gateway;
use crate::protocol::SUBPROTOCOL;
use picket_room::{SaleId, SaleSettings, StoreError};

/// Largest JSON body the operator API takes (a 150,000-seat spec fits).
pub const BODY_BYTES_MAX: usize = 16 * 1024 * 1024;

pub fn router(gateway: Arc<Gateway>) -> axum::Router {
    axum::Router::new()
        .route("/ws", get(upgrade))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/api/v1/sales/{sale}", get(sale_view).put(configure_sale))
        .route("/api/v1/sales/{sale}/draw", get(draw_audit))
        .route("/api/v1/performances", post(open_performance))
        .layer(axum::extract::DefaultBodyLimit::max(BODY_BYTES_MAX))
        .with_state(gateway)
}

fn problem(status: StatusCode, code: &str, detail: impl Into<String>) -> Response {
    let body = json!({
        "type": format!("https://picket.dev/problems/{code}"),
        "title": code,
        "status": status.as_u16(),
        "code": code,
        "detail": detail.into(),
    });
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

fn store_problem(error: StoreError) -> Response {
    match error {
        StoreError::UnknownSale => problem(StatusCode::NOT_FOUND, "unknown_sale", "no such sale"),
        other => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "queue_unavailable",
            other.to_string(),
        ),
    }
}

async fn upgrade(State(gateway): State<Arc<Gateway>>, ws: WebSocketUpgrade) -> Response {
    let speaks_v1 = ws
        .requested_protocols()
        .any(|p| p.as_bytes() == SUBPROTOCOL.as_bytes());
    if !speaks_v1 {
        return problem(
            StatusCode::BAD_REQUEST,
            "unsupported_protocol",
            format!("request the WebSocket subprotocol {SUBPROTOCOL}"),
        );
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

async fn metrics(State(gateway): State<Arc<Gateway>>) -> Response {
    let registry = gateway
        .registry
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .clone();
    let mut text = String::new();
    if let Some(registry) = registry
        && prometheus_client::encoding::text::encode(&mut text, &registry).is_err()
    {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let mut response = text.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    response
}

async fn sale_view(State(gateway): State<Arc<Gateway>>, Path(sale): Path<SaleId>) -> Response {
    match gateway.store.view(sale).await {
        Ok(view) => Json(view).into_response(),
        Err(error) => store_problem(error),
    }
}

async fn draw_audit(State(gateway): State<Arc<Gateway>>, Path(sale): Path<SaleId>) -> Response {
    let view = match gateway.store.view(sale).await {
        Ok(view) => view,
        Err(error) => return store_problem(error),
    };
    if view.seed.is_none() {
        return problem(
            StatusCode::CONFLICT,
            "not_drawn",
            "the pre-queue is drawn at the open; the seed and order are published then",
        );
    }
    match gateway.store.audit(sale).await {
        Ok(order) => Json(json!({
            "sale": sale,
            "seed": view.seed,
            "seed_hash": view.seed_hash,
            "order": order,
        }))
        .into_response(),
        Err(error) => store_problem(error),
    }
}

/// Constant-time comparison of the bearer token with the operator token.
fn is_operator(gateway: &Gateway, headers: &HeaderMap) -> bool {
    use subtle_eq::eq;
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    !gateway.operator_token.is_empty()
        && eq(presented.as_bytes(), gateway.operator_token.as_bytes())
}

mod subtle_eq {
    /// Equal-length inputs are compared without an early exit, so timing does not leak how many
    /// leading bytes matched.
    pub fn eq(a: &[u8], b: &[u8]) -> bool {
        a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
    }
}

fn forbidden() -> Response {
    problem(
        StatusCode::UNAUTHORIZED,
        "operator_only",
        "send Authorization: Bearer <operator token>",
    )
}

async fn configure_sale(
    State(gateway): State<Arc<Gateway>>,
    Path(sale): Path<SaleId>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !is_operator(&gateway, &headers) {
        return forbidden();
    }
    let settings: SaleSettings = match serde_json::from_slice(&body) {
        Ok(settings) => settings,
        Err(error) => return problem(StatusCode::BAD_REQUEST, "invalid_body", error.to_string()),
    };
    if let Err(why) = settings.validate() {
        return problem(StatusCode::UNPROCESSABLE_ENTITY, "invalid_settings", why);
    }
    match gateway.store.configure(sale, settings).await {
        Ok(view) => Json(view).into_response(),
        Err(error) => store_problem(error),
    }
}

async fn open_performance(
    State(gateway): State<Arc<Gateway>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !is_operator(&gateway, &headers) {
        return forbidden();
    }
    let spec: PerformanceSpec = match serde_json::from_slice(&body) {
        Ok(spec) => spec,
        Err(error) => return problem(StatusCode::BAD_REQUEST, "invalid_body", error.to_string()),
    };
    // One key per performance: opening twice returns the first outcome.
    let Ok(key) = IdempotencyKey::new(format!("open-{}", spec.performance)) else {
        return problem(StatusCode::BAD_REQUEST, "invalid_body", "performance id");
    };
    let request = Request {
        actor: ActorId(0),
        key,
        command: Command::OpenPerformance(Box::new(spec)),
    };
    match gateway.ledger.submit(request).await {
        Ok(Ok(reply)) => (StatusCode::CREATED, Json(json!({ "Ok": reply }))).into_response(),
        Ok(Err(rejection)) => problem(
            StatusCode::UNPROCESSABLE_ENTITY,
            rejection.code(),
            rejection.to_string(),
        ),
        Err(error) => problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "ledger_unavailable",
            error.to_string(),
        ),
    }
}
