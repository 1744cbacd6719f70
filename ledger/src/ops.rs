//! The operations endpoints: `/healthz` and `/metrics`.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use prometheus_client::registry::Registry;

use crate::writer::LedgerHandle;

#[derive(Clone)]
struct Ops {
    ledger: LedgerHandle,
    registry: Arc<Registry>,
}

/// The ops router; other services (the gateway) nest their own routes beside it.
pub fn router(ledger: LedgerHandle, registry: Arc<Registry>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(Ops { ledger, registry })
}

async fn healthz(State(ops): State<Ops>) -> Response {
    let status = ops.ledger.status();
    health_response(status.healthy, &status)
}

/// The ops router of a ledger node: `/healthz` lists each hosted partition's role.
pub fn node_router(node: Arc<crate::node::Node>, registry: Arc<Registry>) -> Router {
    Router::new()
        .route("/healthz", get(node_healthz))
        .route("/metrics", get(node_metrics))
        .with_state(NodeOps { node, registry })
}

#[derive(Clone)]
struct NodeOps {
    node: Arc<crate::node::Node>,
    registry: Arc<Registry>,
}

/// Unhealthy (503) while a hosted partition has had no leader for longer than a lease: nothing
/// answers its commands, and that does not heal by waiting when a session is stuck.
async fn node_healthz(State(ops): State<NodeOps>) -> Response {
    let partitions = ops.node.status();
    let healthy = !partitions.iter().any(|p| p.leaderless);
    let body = serde_json::json!({
        "healthy": healthy,
        "partitions": partitions,
    });
    health_response(healthy, &body)
}

async fn node_metrics(State(ops): State<NodeOps>) -> Response {
    // Brings the per-partition `leaderless_seconds` gauges up to date.
    ops.node.status();
    metrics_response(&ops.registry)
}

async fn metrics(State(ops): State<Ops>) -> Response {
    metrics_response(&ops.registry)
}

/// An ops port's `/healthz` answer: `body` as JSON, 200 when `healthy`, else 503 (an
/// orchestrator's probe then takes the process out of rotation). Every role's ops port answers
/// with it (the ledger's here, `picket notifier`'s).
pub fn health_response(healthy: bool, body: &impl serde::Serialize) -> Response {
    let code = if healthy {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (code, axum::Json(body)).into_response()
}

/// An ops port's `/metrics` answer: `registry` as OpenMetrics text. Ops ports carry no token
/// (unlike a gateway's `/metrics`): they bind to loopback unless told otherwise, and where they
/// do not, the network lets only Prometheus reach them (deploy/k8s/base/network/policies.yaml).
pub fn metrics_response(registry: &Registry) -> Response {
    let mut body = String::new();
    if let Err(error) = prometheus_client::encoding::text::encode(&mut body, registry) {
        tracing::error!(%error, "metrics encoding failed");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8";
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}
