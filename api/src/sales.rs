//! The waiting room's and the ledger's operator routes: a sale's public state and its draw, a
//! sale's settings, and putting a performance's inventory on sale directly (the catalog does that
//! on publish; load tests and operators without a catalog use this).
//!
//! - `GET /api/v2/sales/{sale}`: status, counters, the seed's hash (the seed once drawn).
//! - `GET /api/v2/sales/{sale}/draw`: the audit list (draw entries in drawn order).
//! - `PUT /api/v2/sales/{sale}` (operator): create a sale or change its settings (recorded in the
//!   API's database first, so a store that loses it gets it back: `restore.rs`).
//! - `POST /api/v2/performances` (operator): a performance spec to the ledger.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use picket_edge::id::Id;
use picket_edge::outcome::ClientReply;
use picket_edge::spec::ClientSpec;
use picket_ledger_core::{ActorId, Command, IdempotencyKey, PerformanceSpec, Rejection, Request};
use picket_room::{SaleSettings, SaleStatus, SaleView};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::error::{ApiError, FieldError};
use crate::json::{BodyBytes, Path};
use crate::operator::Operator;
use crate::state::Api;

/// Largest operator body: a performance spec of a 150,000-seat stadium fits.
pub const OPERATOR_BODY_BYTES_MAX: usize = 16 * 1024 * 1024;

type SaleId = u64;

/// A sale's state as clients read it: the waiting room's [`SaleView`] with its id a string.
#[derive(Debug, Serialize)]
struct SaleJson {
    sale: Id<SaleId>,
    settings: SaleSettings,
    status: SaleStatus,
    watermark: u64,
    tail: u64,
    prequeue: u64,
    active: u64,
    seed_hash: String,
    seed: Option<String>,
    sold_out: bool,
}

impl From<SaleView> for SaleJson {
    fn from(view: SaleView) -> Self {
        SaleJson {
            sale: Id(view.sale),
            settings: view.settings,
            status: view.status,
            watermark: view.watermark,
            tail: view.tail,
            prequeue: view.prequeue,
            active: view.active,
            seed_hash: view.seed_hash,
            seed: view.seed,
            sold_out: view.sold_out,
        }
    }
}

/// A sale's state as `GET /api/v2/sales/{sale}` answers it.
pub fn sale_json(view: SaleView) -> impl Serialize {
    SaleJson::from(view)
}

/// An operator's JSON body. Operators' scripts (`curl -d`, the load tester) need not say
/// `Content-Type: application/json`, so unlike the rest of the API the body is read as JSON
/// whatever its declared type; what is not the expected JSON is still `bad_body`.
fn operator_json<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    crate::json::decode_bytes(body)
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

/// `GET /api/v2/sales/{sale}`: public, so apps can show a sale's state before connecting.
pub async fn view(
    State(api): State<Arc<Api>>,
    Path(Id(sale)): Path<Id<SaleId>>,
) -> Result<Response, ApiError> {
    let view = queue(&api)?.view(sale).await.map_err(store_error)?;
    Ok(Json(SaleJson::from(view)).into_response())
}

/// `GET /api/v2/sales/{sale}/draw`: the seed and the drawn order, once the pre-queue is drawn.
pub async fn draw_audit(
    State(api): State<Arc<Api>>,
    Path(Id(sale)): Path<Id<SaleId>>,
) -> Result<Response, ApiError> {
    let queue = queue(&api)?;
    let view = queue.view(sale).await.map_err(store_error)?;
    if view.seed.is_none() {
        return Err(ApiError::NotDrawn);
    }
    let order = queue.audit(sale).await.map_err(store_error)?;
    Ok(Json(json!({
        "sale": Id(sale),
        "seed": view.seed,
        "seed_hash": view.seed_hash,
        "order": order,
    }))
    .into_response())
}

/// `PUT /api/v2/sales/{sale}` (operator): create the sale or change its settings.
pub async fn configure(
    State(api): State<Arc<Api>>,
    _operator: Operator,
    Path(Id(sale)): Path<Id<SaleId>>,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    let settings: SaleSettings = operator_json(&body)?;
    settings.validate().map_err(|why| {
        ApiError::Invalid(vec![FieldError {
            field: "settings",
            message: why.to_owned(),
        }])
    })?;
    // Recorded before the store is changed (`restore.rs`): a store that loses the sale gets it
    // back as the operator last set it.
    let open_at_ms = settings.open_at_ms;
    let view =
        crate::restore::configure_sale(&api, queue(&api)?.as_ref(), sale, settings, None).await?;
    // The sale of performance p is sale p: the catalog's opening time, and the reminders of it,
    // follow the operator's.
    if let Ok(performance) = i64::try_from(sale) {
        api.store
            .move_sale_opening(performance, open_at_ms as i64)
            .await?;
    }
    Ok(Json(SaleJson::from(view)).into_response())
}

/// `POST /api/v2/performances` (operator): opens a performance's inventory in the ledger.
///
/// The ledger's idempotency key names the performance and a hash of the spec, so posting the
/// same spec again answers the first outcome; a spec the ledger refused (say, a hold TTL below
/// its minimum) can be corrected and posted again, since the corrected spec has another key; and
/// a different spec for a performance that is already open is refused as a conflict (409
/// `performance_already_open`) instead of answering 201 while the old spec stays.
pub async fn open_performance(
    State(api): State<Arc<Api>>,
    _operator: Operator,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    let spec: PerformanceSpec = operator_json::<ClientSpec>(&body)?.into();
    let ledger = api.ledger.as_ref().ok_or(ApiError::LedgerUnavailable)?;
    let request = Request {
        actor: ActorId(0),
        key: open_key(&spec),
        command: Command::OpenPerformance(Box::new(spec)),
    };
    match ledger.submit(request).await {
        Ok(Ok(reply)) => Ok((
            StatusCode::CREATED,
            Json(json!({ "Ok": ClientReply::from(reply) })),
        )
            .into_response()),
        Ok(Err(Rejection::PerformanceAlreadyOpen)) => Err(ApiError::PerformanceAlreadyOpen),
        Ok(Err(rejection)) => Err(ApiError::Rejected(rejection)),
        Err(_) => Err(ApiError::LedgerUnavailable),
    }
}

/// Hex digits of the spec's SHA-256 in [`open_key`]: 128 bits, so two different specs of one
/// performance never share a key, and the key stays within the ledger's key length.
const SPEC_HASH_HEX_LEN: usize = 32;

/// `open-<performance>-<hash of the spec>`: the spec is hashed as the API encodes it, so the same
/// spec sent with its fields in another order or spacing gets the same key.
fn open_key(spec: &PerformanceSpec) -> IdempotencyKey {
    let encoded = serde_json::to_vec(spec).expect("specs encode");
    let digest = Sha256::digest(&encoded);
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    let key = format!("open-{}-{}", spec.performance, &hex[..SPEC_HASH_HEX_LEN]);
    // At most 5 + 20 + 1 + 32 = 58 printable bytes: always a valid key.
    IdempotencyKey::new(key).expect("an open key is printable and short enough")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(hold_ttl_ms: u64) -> PerformanceSpec {
        use picket_ledger_core::{DoorSpec, FeeSchedule, PerformanceId, TicketKind};
        PerformanceSpec {
            performance: PerformanceId(u64::MAX),
            starts_at_ms: 1,
            kind: TicketKind::Performance,
            grades: Vec::new(),
            seats: Vec::new(),
            zones: Vec::new(),
            per_buyer_limit: 4,
            hold_ttl_ms,
            fees: FeeSchedule::korean_standard(TicketKind::Performance),
            booking_fee_won: 0,
            discounts: Vec::new(),
            coupons: Vec::new(),
            door: DoorSpec::default(),
            waitlist: picket_ledger_core::WaitlistSpec::default(),
        }
    }

    #[test]
    fn the_key_names_the_performance_and_the_spec() {
        let a = open_key(&spec(60_000));
        assert_eq!(a, open_key(&spec(60_000)), "the same spec, the same key");
        assert_ne!(a, open_key(&spec(120_000)), "another spec, another key");
        assert!(a.as_str().starts_with(&format!("open-{}-", u64::MAX)));
        assert!(a.as_str().len() <= picket_ledger_core::limits::IDEMPOTENCY_KEY_LEN_MAX);
    }
}
