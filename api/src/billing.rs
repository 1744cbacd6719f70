//! A member's payment methods for the waitlist's auto-pay (docs/payments.md, "Auto-pay"):
//! registering a card with the provider, "my payment methods" and deleting one.
//!
//! - `POST /api/v2/me/billing-methods` (a member) starts a registration: a pending method with a
//!   new provider `customerKey` (random, unguessable, never the member's id) and what the app
//!   opens the provider's billing window with (the sandbox's page, or Toss's SDK).
//! - `GET /api/v2/billing-methods/success?customerKey&authKey[&return]`: the provider's success
//!   redirect. The `customerKey` names the pending method (and so the member); the server trades
//!   the one-time `authKey` for a billing key (`issue_billing_key`, keyed by the method, so a
//!   repeated redirect issues once) and keeps it: clients only ever see the masked card and the
//!   method's id. The fail redirect is the checkout's, `GET /api/v2/payments/fail`.
//! - `GET /api/v2/me/billing-methods`, `DELETE /api/v2/me/billing-methods/{id}`: the member's
//!   active methods; deleting one forgets its billing key, and an auto-pay entry naming it then
//!   fails its charge (its places move on) rather than charging a card the member took back.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get};
use axum::{Json, Router};
use picket_edge::id::Id;
use picket_payments::{FlowError, PaymentError};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{ApiError, WaitlistRefusal};
use crate::json::{Path, Query};
use crate::state::{Api, now_ms};
use crate::store::autopay::BillingMethodRow;
use crate::waitlist::member;

/// Active payment methods one member may keep.
pub const BILLING_METHODS_PER_MEMBER_MAX: u16 = 5;
/// Where the provider sends the browser once a card is registered (the app prefixes its origin).
pub const SUCCESS_PATH: &str = "/api/v2/billing-methods/success";
/// Where it sends it when registering failed: the checkout's fail route, which says why.
pub const FAIL_PATH: &str = "/api/v2/payments/fail";
/// Longest `customerKey` and `authKey` the success route takes, in bytes.
pub const CUSTOMER_KEY_BYTES_MAX: usize = 50;
pub const AUTH_KEY_BYTES_MAX: usize = 300;

pub fn router() -> Router<Arc<Api>> {
    Router::new()
        .route(
            "/api/v2/me/billing-methods",
            get(my_methods).post(start_registration),
        )
        .route("/api/v2/me/billing-methods/{id}", delete(delete_method))
        .route(SUCCESS_PATH, get(registered))
}

/// A method as its member sees it: never the billing key nor the customer key.
fn method_json(method: &BillingMethodRow) -> Value {
    json!({
        "id": Id(method.id),
        "card": method.card_masked,
        "created_at_ms": method.created_at_ms,
    })
}

fn unavailable() -> ApiError {
    ApiError::Payment(FlowError::ProviderUnavailable {
        retry_after_ms: picket_payments::flow::PROVIDER_RETRY_AFTER_MS,
    })
}

/// `POST /api/v2/me/billing-methods` (a member): a registration to complete at the provider.
pub async fn start_registration(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let account = member(&api, &headers).await?;
    let flow = api.payments.get().cloned().ok_or_else(unavailable)?;
    let limit = BILLING_METHODS_PER_MEMBER_MAX;
    if api
        .store
        .billing_methods(account, i64::from(limit))
        .await?
        .len()
        >= usize::from(limit)
    {
        return Err(ApiError::Waitlist(WaitlistRefusal::TooManyBillingMethods {
            limit,
        }));
    }
    let row = BillingMethodRow {
        id: api.new_id(),
        account_id: account,
        // 128 random bits each: the customer key travels through the browser, the billing
        // reference into the ledger's journal; neither says who the member is.
        customer_key: format!("ck_{:032x}", rand::random::<u128>()),
        billing_ref: format!("bm_{:032x}", rand::random::<u128>()),
        status: "pending".into(),
        card_masked: None,
        created_at_ms: now_ms() as i64,
    };
    api.store.start_billing_method(&row).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "customer_key": row.customer_key,
            "success_path": SUCCESS_PATH,
            "fail_path": FAIL_PATH,
            "provider": {"client_key": flow.client_key, "billing_url": flow.billing_url},
        })),
    )
        .into_response())
}

#[derive(Debug, Deserialize)]
pub struct RegisteredQuery {
    #[serde(rename = "customerKey")]
    pub customer_key: String,
    #[serde(rename = "authKey")]
    pub auth_key: String,
    /// A path on this site to send the browser to once registered.
    #[serde(rename = "return")]
    pub return_to: Option<String>,
}

/// `GET /api/v2/billing-methods/success`: the provider's success redirect; the billing key is
/// issued and kept, the member's method is answered (or `303` to `return`).
pub async fn registered(
    State(api): State<Arc<Api>>,
    Query(query): Query<RegisteredQuery>,
) -> Result<Response, ApiError> {
    let unknown = || ApiError::Waitlist(WaitlistRefusal::UnknownBillingMethod);
    if query.customer_key.len() > CUSTOMER_KEY_BYTES_MAX
        || query.auth_key.is_empty()
        || query.auth_key.len() > AUTH_KEY_BYTES_MAX
    {
        return Err(unknown());
    }
    let method = api
        .store
        .billing_method_of_customer(&query.customer_key)
        .await?
        .ok_or_else(unknown)?;
    if method.status == "pending" {
        let limit = BILLING_METHODS_PER_MEMBER_MAX;
        let active = api
            .store
            .billing_methods(method.account_id, i64::from(limit))
            .await?;
        if active.len() >= usize::from(limit) {
            return Err(ApiError::Waitlist(WaitlistRefusal::TooManyBillingMethods {
                limit,
            }));
        }
        let flow = api.payments.get().cloned().ok_or_else(unavailable)?;
        // Keyed by the method: the same redirect again (a reload) is the provider's first answer.
        let issued = flow
            .provider()
            .issue_billing_key(
                &query.auth_key,
                &method.customer_key,
                &format!("billing-{}", method.id),
            )
            .await
            .map_err(issue_error)?;
        if issued.customer_key != method.customer_key {
            return Err(ApiError::Payment(FlowError::PaymentNotFound));
        }
        api.store
            .activate_billing_method(
                method.id,
                &issued.billing_key,
                issued.card_number_masked.as_deref(),
            )
            .await?;
    }
    let method = api
        .store
        .billing_method(method.account_id, method.id)
        .await?
        .ok_or_else(unknown)?;
    match query
        .return_to
        .as_deref()
        .filter(|path| crate::payments::return_path_ok(path))
    {
        Some(path) => {
            Ok((StatusCode::SEE_OTHER, [(header::LOCATION, path.to_owned())]).into_response())
        }
        None => Ok(Json(method_json(&method)).into_response()),
    }
}

/// The provider's refusal of an authKey, as the checkout's refusals are told.
fn issue_error(error: PaymentError) -> ApiError {
    ApiError::Payment(match error {
        PaymentError::Declined { code, message } | PaymentError::Refused { code, message } => {
            FlowError::Declined { code, message }
        }
        PaymentError::Timeout
        | PaymentError::Unavailable { .. }
        | PaymentError::Unauthorized
        | PaymentError::Protocol(_) => FlowError::ProviderUnavailable {
            retry_after_ms: picket_payments::flow::PROVIDER_RETRY_AFTER_MS,
        },
        PaymentError::NotFound
        | PaymentError::AmountMismatch
        | PaymentError::AlreadyProcessed
        | PaymentError::NotCancelable { .. } => FlowError::PaymentNotFound,
    })
}

/// `GET /api/v2/me/billing-methods` (a member): the registered methods, oldest first.
pub async fn my_methods(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let account = member(&api, &headers).await?;
    let methods = api
        .store
        .billing_methods(account, i64::from(BILLING_METHODS_PER_MEMBER_MAX))
        .await?;
    let listed: Vec<Value> = methods.iter().map(method_json).collect();
    Ok(Json(json!({ "methods": listed })).into_response())
}

/// `DELETE /api/v2/me/billing-methods/{id}` (its member): the method and its billing key go.
pub async fn delete_method(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    Path(Id(id)): Path<Id<i64>>,
) -> Result<Response, ApiError> {
    let account = member(&api, &headers).await?;
    if !api.store.delete_billing_method(account, id).await? {
        return Err(ApiError::Waitlist(WaitlistRefusal::UnknownBillingMethod));
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
