//! The waiting room's and the ledger's operator routes: a sale's public state and its draw, a
//! sale's settings, and putting a performance's inventory on sale directly (the catalog does that
//! on publish; load tests and operators without a catalog use this).
//!
//! - `GET /api/v1/sales/{sale}`: status, counters, the seed's hash (the seed once drawn).
//! - `GET /api/v1/sales/{sale}/draw`: the audit list (identity hashes in drawn order).
//! - `PUT /api/v1/sales/{sale}` (operator): create a sale or change its settings.
//! - `POST /api/v1/performances` (operator): a performance spec to the ledger.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use picket_ledger_core::{ActorId, Command, IdempotencyKey, PerformanceSpec, Request};
use serde_json::json;

use crate::error::{ApiError, FieldError};
use crate::json::BodyBytes;
use crate::operator::Operator;
use crate::state::Api;

/// Largest operator body: a performance spec of a 150,000-seat stadium fits.
pub const OPERATOR_BODY_BYTES_MAX: usize = 16 * 1024 * 1024;

type SaleId = u64;

/// An operator's JSON body. Operators' scripts (`curl -d`, the load tester) need not say
/// `Content-Type: application/json`, so unlike the rest of the API the body is read as JSON
/// whatever its declared type; what is not the expected JSON is still `bad_body`.
fn operator_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|error| ApiError::BadBody(error.to_string()))
}

fn queue(api: &Api) -> Result<&Arc<dyn picket_room::QueueStore>, ApiError> {
    api.queue
        .as_ref()
        .ok_or_else(|| ApiError::QueueUnavailable("no waiting room is configured".into()))
}

fn store_error(error: picket_room::StoreError) -> ApiError {
    match error {
        picket_room::StoreError::UnknownSale => ApiError::UnknownSale,
        other => ApiError::QueueUnavailable(other.to_string()),
    }
}

/// `GET /api/v1/sales/{sale}`: public, so apps can show a sale's state before connecting.
pub async fn view(
    State(api): State<Arc<Api>>,
    Path(sale): Path<SaleId>,
) -> Result<Response, ApiError> {
    let view = queue(&api)?.view(sale).await.map_err(store_error)?;
    Ok(Json(view).into_response())
}

/// `GET /api/v1/sales/{sale}/draw`: the seed and the drawn order, once the pre-queue is drawn.
pub async fn draw_audit(
    State(api): State<Arc<Api>>,
    Path(sale): Path<SaleId>,
) -> Result<Response, ApiError> {
    let queue = queue(&api)?;
    let view = queue.view(sale).await.map_err(store_error)?;
    if view.seed.is_none() {
        return Err(ApiError::NotDrawn);
    }
    let order = queue.audit(sale).await.map_err(store_error)?;
    Ok(Json(json!({
        "sale": sale,
        "seed": view.seed,
        "seed_hash": view.seed_hash,
        "order": order,
    }))
    .into_response())
}

/// `PUT /api/v1/sales/{sale}` (operator): create the sale or change its settings.
pub async fn configure(
    State(api): State<Arc<Api>>,
    _operator: Operator,
    Path(sale): Path<SaleId>,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    let settings: picket_room::SaleSettings = operator_json(&body)?;
    settings.validate().map_err(|why| {
        ApiError::Invalid(vec![FieldError {
            field: "settings",
            message: why.to_owned(),
        }])
    })?;
    let view = queue(&api)?
        .configure(sale, settings)
        .await
        .map_err(store_error)?;
    Ok(Json(view).into_response())
}

/// `POST /api/v1/performances` (operator): opens a performance's inventory in the ledger. One
/// idempotency key per performance, so opening twice answers the first outcome.
pub async fn open_performance(
    State(api): State<Arc<Api>>,
    _operator: Operator,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    let spec: PerformanceSpec = operator_json(&body)?;
    let ledger = api.ledger.as_ref().ok_or(ApiError::LedgerUnavailable)?;
    let key = IdempotencyKey::new(format!("open-{}", spec.performance))
        .map_err(|_| ApiError::BadBody("the performance id does not make a key".into()))?;
    let request = Request {
        actor: ActorId(0),
        key,
        command: Command::OpenPerformance(Box::new(spec)),
    };
    match ledger.submit(request).await {
        Ok(Ok(reply)) => Ok((StatusCode::CREATED, Json(json!({ "Ok": reply }))).into_response()),
        Ok(Err(rejection)) => Err(ApiError::Rejected(rejection)),
        Err(_) => Err(ApiError::LedgerUnavailable),
    }
}
