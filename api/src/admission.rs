//! The waiting room's admission on the HTTP payment path (invariant 7: a booking request without
//! a valid, unexpired admission for that sale never reaches the ledger when the sale has a
//! queue), checked as the gateway checks the WebSocket's `confirm`:
//!
//! - the token is the gateways' own signature (the key ring every gateway and the API share),
//!   unexpired, an admission, for this sale (`auth::admission_claim`, no I/O);
//! - the waiting room still holds that very admission for the token's identity (a payment on
//!   any gateway ends it early; [`check`]);
//! - the payment books as that identity, so the hold must be its own (the caller passes the
//!   identity's actor to the payment flow);
//! - once booked, the admission is spent ([`spend`]): its slot goes to the next in line, and the
//!   gateways' next push tells the buyer's sockets `admission_expired`.
//!
//! The socket's check also binds the token to the connection it was sent on; a browser
//! redirect has no connection, so here the token stands for the buyer by itself. It lives at
//! most `admission_ttl_ms`, and a booking spends it.

use picket_room::{QueueStore, SaleId, Standing, StoreError};

use crate::auth::{AdmissionClaim, admission_claim};
use crate::error::ApiError;
use crate::state::Api;

/// The admission a payment for `sale` goes ahead under: `None` when the sale has no queue (the
/// API keeps no record of it and the waiting room does not know it), else the token's, which
/// must be for `sale` and still held by the waiting room.
pub async fn check(
    api: &Api,
    sale: SaleId,
    token: Option<&str>,
    now_ms: u64,
) -> Result<Option<AdmissionClaim>, ApiError> {
    let Some(queue) = queue_of(api, sale).await? else {
        return Ok(None);
    };
    let token = token
        .filter(|token| !token.is_empty())
        .ok_or(ApiError::NoAdmission)?;
    let claim = admission_claim(&api.keys, token, now_ms)?;
    if claim.sale != sale {
        return Err(ApiError::AdmissionInvalid);
    }
    let standing = queue
        .standings(sale, std::slice::from_ref(&claim.identity))
        .await
        .map_err(queue_error)?;
    match standing.first() {
        Some(Standing::Admitted { jti, .. }) if *jti == claim.jti => Ok(Some(claim)),
        _ => Err(ApiError::AdmissionExpired),
    }
}

/// The waiting room of `sale` when the sale has a queue. The API's durable record of the sale
/// decides first, so a sale the store lost for a moment (restored within a second,
/// `restore.rs`) still needs an admission; a store that cannot answer refuses the payment
/// rather than let it past the queue.
async fn queue_of(api: &Api, sale: SaleId) -> Result<Option<&dyn QueueStore>, ApiError> {
    let recorded = api.store.sale_record(sale as i64).await?.is_some();
    match (&api.queue, recorded) {
        (Some(queue), true) => Ok(Some(queue.as_ref())),
        (Some(queue), false) => match queue.view(sale).await {
            Ok(_) => Ok(Some(queue.as_ref())),
            Err(StoreError::UnknownSale) => Ok(None),
            Err(error) => Err(queue_error(error)),
        },
        (None, true) => Err(ApiError::QueueUnavailable(
            "no waiting room is configured".into(),
        )),
        (None, false) => Ok(None),
    }
}

/// The admission is used: its slot goes to the next in line (as the socket's `confirm` does).
/// A store that fails here leaves it to run out at its deadline; the booking stands.
pub async fn spend(api: &Api, claim: &AdmissionClaim) {
    let Some(queue) = &api.queue else { return };
    if let Err(error) = queue.finish(claim.sale, &claim.identity).await {
        tracing::warn!(%error, sale = claim.sale, "a paid admission could not be ended; it runs out instead");
    }
}

fn queue_error(error: StoreError) -> ApiError {
    ApiError::QueueUnavailable(error.to_string())
}
