//! Paying for a hold over HTTP, for the browser redirect flow and the provider's webhook
//! (docs/payments.md). The decisions are `picket_payments::Flow`'s, shared with the WebSocket:
//!
//! - `POST /api/v2/checkout` (member session or guest token): the hold as the ledger has it,
//!   priced as it will be charged, and a new order id for it.
//! - `GET /api/v2/payments/success?admission&paymentKey&orderId&amount[&return]`: the successUrl
//!   the app gives the provider, carrying the buyer's admission token when the sale has a queue
//!   (`admission.rs`: checked and spent as the WebSocket's `confirm` does), limited per buyer
//!   (or per client address without a token) to `success_attempts_per_sec`. The server confirms
//!   for the hold's amount (the `amount` parameter is only compared, for the log) and books
//!   as the admitted buyer; JSON, or `303` to `return` (a path on this site).
//! - `GET /api/v2/payments/fail?code&message&orderId`: the failUrl: a problem for the app.
//! - `POST /api/v2/payments/webhook`: verified with the provider's key (or, unsigned, taken as
//!   a hint with `webhook_signatures = lookup_only`), deduplicated by transmission id, answered
//!   from memory for a payment booked here lately (no lookup), deferred for the app's confirm
//!   for an order checked out here (`webhook_confirm_grace_ms`), otherwise limited to
//!   `webhook_lookups_per_sec` (429 past it); answered `200` at once, the payment is then looked
//!   up with the provider and what the buyer's app left unfinished is finished (book, or void).

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use picket_ledger_core::{HoldId, PerformanceId};
use picket_payments::flow::BOOKING_FEE_REFUND_RULE;
use picket_payments::{Checkout, Flow, FlowError, OrderId, WebhookOutcome};
use serde::Deserialize;
use serde_json::json;

use crate::admission;
use crate::auth::{admission_claim, authenticate, bearer, guest_actor};
use crate::client::ClientAddress;
use crate::error::ApiError;
use crate::json::{BodyBytes, JsonBody};
use crate::state::Api;

/// Longest provider failure code and message echoed back by the fail route, in characters.
pub const FAIL_CODE_CHARS_MAX: usize = 64;
pub const FAIL_MESSAGE_CHARS_MAX: usize = 300;
/// Longest `return` path the success route redirects to, in bytes.
pub const RETURN_PATH_BYTES_MAX: usize = 512;

fn flow(api: &Api) -> Result<Arc<Flow>, ApiError> {
    api.payments
        .get()
        .cloned()
        .ok_or(ApiError::Payment(FlowError::ProviderUnavailable {
            retry_after_ms: picket_payments::flow::PROVIDER_RETRY_AFTER_MS,
        }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckoutBody {
    pub sale: picket_edge::id::Id<u64>,
    pub hold: picket_edge::id::Id<u64>,
}

/// `POST /api/v2/checkout`: a member's or a guest's own hold, priced as it will be charged.
pub async fn checkout(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<CheckoutBody>,
) -> Result<Response, ApiError> {
    let buyer = match guest_actor(&api, &headers) {
        Ok(actor) => actor as u64,
        Err(_) => authenticate(&api, bearer(&headers)).await?.account_id as u64,
    };
    let flow = flow(&api)?;
    let checkout = flow
        .checkout(
            picket_ledger_core::ActorId(buyer),
            PerformanceId(body.sale.0),
            HoldId(body.hold.0),
            rand::random(),
            picket_edge::clock::now_ms(),
        )
        .await
        .map_err(ApiError::Payment)?;
    Ok(axum::Json(checkout_json(&checkout, &flow)).into_response())
}

/// The checkout as the WebSocket's `checkout` answer has it (docs/protocol.md), ids as strings.
pub fn checkout_json(checkout: &Checkout, flow: &Flow) -> serde_json::Value {
    let hold = &checkout.hold;
    let places: Vec<_> = hold
        .places
        .iter()
        .map(|place| {
            json!({"place": place.place, "grade": place.grade, "grade_code": place.grade_code,
                "list_won": place.list_won, "price_won": place.price_won,
                "booking_fee_won": place.booking_fee_won})
        })
        .collect();
    let mut breakdown = json!({"places": places, "discount_won": hold.discount_won,
        "booking_fee_won": hold.booking_fee_won, "total_won": hold.amount_won});
    if let Some(coupon) = &hold.coupon {
        breakdown["coupon"] = json!(coupon);
    }
    json!({
        "order_id": checkout.order_id.to_string(),
        "order_name": checkout.order_name,
        "amount_won": hold.amount_won,
        "breakdown": breakdown,
        "expires_at_ms": hold.expires_at_ms,
        "cancellation": {"deadline_ms": hold.cancellation_deadline_ms, "fees": hold.fees,
            "booking_fee_refund": BOOKING_FEE_REFUND_RULE},
        "provider": {"client_key": flow.client_key, "checkout_url": flow.checkout_url},
    })
}

#[derive(Debug, Deserialize)]
pub struct SuccessQuery {
    /// The buyer's admission token for the sale (the WebSocket's `admitted` token), which the
    /// app puts in the successUrl it gives the provider: required when the sale has a queue.
    pub admission: Option<String>,
    #[serde(rename = "paymentKey")]
    pub payment_key: String,
    #[serde(rename = "orderId")]
    pub order_id: String,
    /// What the provider says the buyer authorised: compared for the log, never charged.
    pub amount: Option<String>,
    /// A path on this site to send the browser to once booked.
    #[serde(rename = "return")]
    pub return_to: Option<String>,
    /// The widget's payment type (`NORMAL`); not used.
    #[serde(rename = "paymentType")]
    pub payment_type: Option<String>,
}

/// `GET /api/v2/payments/success`: confirm and book, exactly as the WebSocket's `confirm`:
/// limited per buyer, under the buyer's admission when the sale has a queue, which the booking
/// spends.
pub async fn success(
    State(api): State<Arc<Api>>,
    address: ClientAddress,
    query: Result<Query<SuccessQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let Ok(Query(query)) = query else {
        return Err(ApiError::Payment(FlowError::PaymentNotFound));
    };
    let now_ms = picket_edge::clock::now_ms();
    let order: Option<OrderId> = query.order_id.parse().ok();
    let flow = flow(&api)?;
    // A payment this process booked lately (the app's confirm, the webhook or an earlier visit)
    // is answered from memory, costing neither the provider nor the ledger: the buyer's one
    // return per payment is never refused by the limit, whoever shares the buyer's address.
    let remembered = order
        .as_ref()
        .and_then(|order| flow.remembered_booking(order, &query.payment_key));
    if remembered.is_none() {
        limit_success(&api, &address, query.admission.as_deref(), now_ms)?;
    }
    let order = order.ok_or(ApiError::Payment(FlowError::PaymentNotFound))?;
    // A payment already booked (by the app's confirm, the webhook or an earlier visit, which
    // spent the admission) is only read back: nothing reaches the provider or the ledger.
    let booked = match remembered {
        Some(booked) => booked,
        None => match flow.booking(&order, &query.payment_key).await {
            Some(booked) => booked,
            None => confirm_under_admission(&api, &flow, &order, &query, now_ms).await?,
        },
    };
    if let Some(said) = &query.amount
        && said.parse::<u64>().ok() != Some(booked.amount_won)
    {
        tracing::warn!(order = %order, said = %said, charged = booked.amount_won,
            "the success URL's amount differs from the hold's (ignored: the hold's was charged)");
    }
    let body = json!({
        "order_id": order.to_string(),
        "booking": booked.booking.0.to_string(),
        "tickets": booked.tickets.iter().map(|t| t.0.to_string()).collect::<Vec<_>>(),
        "amount_won": booked.amount_won,
    });
    match query
        .return_to
        .as_deref()
        .filter(|path| return_path_ok(path))
    {
        Some(path) => {
            Ok((StatusCode::SEE_OTHER, [(header::LOCATION, path.to_owned())]).into_response())
        }
        None => Ok(axum::Json(body).into_response()),
    }
}

/// Confirms and books the payment of a success URL, under the buyer's admission when the sale
/// has a queue (invariant 7), and spends the admission.
async fn confirm_under_admission(
    api: &Api,
    flow: &Flow,
    order: &OrderId,
    query: &SuccessQuery,
    now_ms: u64,
) -> Result<picket_payments::Booked, ApiError> {
    let sale = order.performance;
    if waitlist_offer(api, order).await? {
        // The ledger made this hold for a waitlist entry, not the waiting room: joining the
        // waitlist was the buyer's way past a sold-out sale, so no admission applies
        // (docs/protocol.md, "Waitlist over HTTP"). Only an open offer's hold passes here.
        return flow
            .confirm(None, order, &query.payment_key)
            .await
            .map_err(ApiError::Payment);
    }
    let admitted = admission::check(api, sale, query.admission.as_deref(), now_ms).await?;
    // Under an admission the payment books as the admitted buyer: another buyer's hold is
    // `not_your_hold`, as over the socket.
    let buyer = admitted
        .as_ref()
        .map(|a| picket_edge::identity::actor_of(&a.identity));
    let booked = flow
        .confirm(buyer, order, &query.payment_key)
        .await
        .map_err(ApiError::Payment)?;
    if let Some(admitted) = &admitted {
        admission::spend(api, admitted).await;
    }
    Ok(booked)
}

/// Whether the order's hold is a waitlist entry's open offer, as the ledger records it now.
async fn waitlist_offer(api: &Api, order: &OrderId) -> Result<bool, ApiError> {
    let Some(ledger) = api.ledger.as_ref() else {
        return Ok(false);
    };
    let hold = ledger
        .hold(PerformanceId(order.performance), HoldId(order.hold))
        .await
        .map_err(|_| ApiError::LedgerUnavailable)?;
    Ok(hold.is_some_and(|h| h.waitlist_entry.is_some()))
}

/// Each success URL may cost a provider confirm and a ledger command: at most
/// `success_attempts_per_sec` per buyer (the identity a valid admission token names; the token
/// is only read here, checked in full later) or, without one, per client address.
fn limit_success(
    api: &Api,
    address: &ClientAddress,
    token: Option<&str>,
    now_ms: u64,
) -> Result<(), ApiError> {
    let key = match token.map(|token| admission_claim(&api.keys, token, now_ms)) {
        Some(Ok(claim)) => format!("success buyer {}", claim.identity),
        _ => address.with("success"),
    };
    api.success_attempts
        .check(&key, now_ms)
        .map_err(|retry_ms| {
            api.metrics.payment_limited("success_attempts");
            ApiError::TooManyAttempts {
                retry_after_s: retry_ms.div_ceil(1_000),
            }
        })
}

/// The allow-list of `return`: paths on this very site (no scheme, no host, no `//`), so the
/// success route never redirects a buyer elsewhere.
pub(crate) fn return_path_ok(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && path.len() <= RETURN_PATH_BYTES_MAX
        && path.bytes().all(|b| b.is_ascii_graphic() && b != b'\\')
}

#[derive(Debug, Deserialize)]
pub struct FailQuery {
    pub code: Option<String>,
    pub message: Option<String>,
    #[serde(rename = "orderId")]
    pub order_id: Option<String>,
}

/// `GET /api/v2/payments/fail`: the provider sent the buyer back without a payment.
pub async fn fail(
    query: Result<Query<FailQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    let query = query.map(|Query(q)| q).unwrap_or(FailQuery {
        code: None,
        message: None,
        order_id: None,
    });
    let cut = |text: Option<String>, max: usize| -> String {
        text.unwrap_or_default().chars().take(max).collect()
    };
    Err(ApiError::Payment(FlowError::Declined {
        code: cut(query.code, FAIL_CODE_CHARS_MAX),
        message: cut(query.message, FAIL_MESSAGE_CHARS_MAX),
    }))
}

/// `POST /api/v2/payments/webhook`: the provider tells that a payment changed.
pub async fn webhook(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    BodyBytes(body): BodyBytes,
) -> Result<Response, ApiError> {
    let flow = flow(&api)?;
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    let notice = flow
        .provider()
        .verify_webhook(&header, &body, picket_edge::clock::now_ms())
        .map_err(|_| ApiError::WebhookSignature)?;
    if let Some(id) = &notice.transmission_id {
        let first = api
            .webhook_transmissions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .first_time(id);
        if !first {
            api.metrics.payment_webhook("duplicate");
            return Ok(axum::Json(json!({"handled": "duplicate"})).into_response());
        }
    }
    // A payment booked here lately with the key the notice names asks for nothing: answered
    // from memory, no lookup and no slot of the lookup limit (a forged notice naming it gains
    // nothing either).
    let hint = notice
        .order_id
        .as_deref()
        .and_then(|order| order.parse::<OrderId>().ok());
    if let (Some(order), Some(key)) = (&hint, &notice.payment_key)
        && flow.remembered_booking(order, key).is_some()
    {
        api.metrics.payment_webhook("settled");
        return Ok(axum::Json(json!({"handled": "booked"})).into_response());
    }
    // An order this process checked out (or is confirming): its buyer's app confirms it here in
    // a moment (the sandbox announces the authorisation as the browser is sent back), so the
    // webhook waits for that confirm before it costs a lookup. Such a notice names an order id
    // this process made up with a random nonce, so a forged flood cannot take this path, and
    // the waiting ones are bounded.
    if let Some(order) = hint
        && flow.expects_confirm(&order)
        && let Ok(permit) = api.webhooks_deferred.clone().try_acquire_owned()
    {
        api.metrics.payment_webhook("deferred");
        let api = api.clone();
        tokio::spawn(async move {
            let _permit = permit;
            after_the_apps_confirm(&api, &flow, &order, &notice).await;
        });
        return Ok(axum::Json(json!({"handled": "accepted"})).into_response());
    }
    // Every other accepted webhook costs a provider lookup (and an unsigned one is accepted as
    // a hint in `lookup_only`): past the per-process rate the provider is told to deliver it
    // again later (a minute later at the earliest, with Toss's schedule), and the transmission
    // is forgotten so that delivery runs.
    if let Err(retry_ms) = api
        .webhook_lookups
        .check("webhook", picket_edge::clock::now_ms())
    {
        if let Some(id) = &notice.transmission_id {
            api.webhook_transmissions
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .forget(id);
        }
        api.metrics.payment_limited("webhook_lookups");
        api.metrics.payment_webhook("limited");
        return Err(ApiError::TooManyAttempts {
            retry_after_s: retry_ms.div_ceil(1_000),
        });
    }
    // The provider wants its answer within seconds: the lookup, the confirm and the booking run
    // after it.
    api.metrics.payment_webhook("looked_up");
    let api = api.clone();
    tokio::spawn(async move { look_up(&api, &flow, &notice).await });
    Ok(axum::Json(json!({"handled": "accepted"})).into_response())
}

/// A deferred webhook: once `webhook_confirm_grace_ms` passed and no confirm of the order runs
/// here, the payment the app booked meanwhile is done with; one still unfinished is looked up
/// like any webhook, its lookup counted against `webhook_lookups_per_sec` (waiting for room:
/// the provider has its answer already, and the waiting ones are bounded by
/// `webhooks_deferred_max`).
async fn after_the_apps_confirm(
    api: &Arc<Api>,
    flow: &Arc<Flow>,
    order: &OrderId,
    notice: &picket_payments::WebhookNotice,
) {
    tokio::time::sleep(std::time::Duration::from_millis(
        api.config.webhook_confirm_grace_ms,
    ))
    .await;
    flow.after_confirms(order).await;
    if let Some(key) = &notice.payment_key
        && flow.remembered_booking(order, key).is_some()
    {
        api.metrics.payment_webhook("settled_after_grace");
        return;
    }
    while let Err(retry_ms) = api
        .webhook_lookups
        .check("webhook", picket_edge::clock::now_ms())
    {
        tokio::time::sleep(std::time::Duration::from_millis(retry_ms.max(1))).await;
    }
    api.metrics.payment_webhook("looked_up");
    look_up(api, flow, notice).await;
}

/// Looks the webhook's payment up and finishes it. A failure that a retry may fix forgets the
/// transmission, so a later delivery of it (a duplicate, an operator's resend) runs it again.
async fn look_up(api: &Api, flow: &Flow, notice: &picket_payments::WebhookNotice) {
    let outcome = flow.on_webhook(notice).await;
    let retry = matches!(
        &outcome,
        WebhookOutcome::Refused(
            FlowError::ProviderUnavailable { .. } | FlowError::LedgerUnavailable { .. }
        )
    );
    tracing::info!(?outcome, "payment webhook handled");
    if retry && let Some(id) = &notice.transmission_id {
        api.webhook_transmissions
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .forget(id);
    }
}
