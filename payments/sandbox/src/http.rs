//! The HTTP service: Toss's v1 API (Basic auth, idempotency keys, the test-code header, Toss's
//! error bodies), the checkout and billing pages, the fault switches and `/healthz`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use base64::Engine;
use picket_toss_wire::{
    Billing, BillingCard, BillingChargeRequest, BillingIssueRequest, CancelRequest, ConfirmRequest,
    ErrorCode, Payment, PaymentStatus, PaymentType,
};

use crate::cards::{TestCard, read_card};
use crate::checkout;
use crate::clock::{kst, now_ms, parse_kst};
use crate::error::json_response;
use crate::faults::Faults;
use crate::keys::{random_alphanumeric, random_hex};
use crate::rules::{self, CancelAsk, ConfirmStep, NewPayment};
use crate::state::{InFlight, Shared, digest};
use crate::store::PaymentRow;
use crate::{Refusal, urls, webhook};

/// Longest `TossPayments-Test-Code` value.
const TEST_CODE_CHARS_MAX: usize = 100;
/// Most payments expired in one pass of the background task (the rest wait for the next).
const EXPIRE_BATCH_MAX: i64 = 100;

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/v1/payments/confirm", post(confirm))
        .route("/v1/payments/orders/{order_id}", get(payment_by_order))
        .route("/v1/payments/{payment_key}", get(payment_by_key))
        .route("/v1/payments/{payment_key}/cancel", post(cancel))
        .route("/v1/billing/authorizations/issue", post(issue_billing_key))
        .route("/v1/billing/{billing_key}", post(charge_billing_key))
        .route("/v1/transactions", get(transactions))
        .route("/checkout", get(checkout_page).post(checkout_submit))
        .route("/billing/authorize", get(billing_page).post(billing_submit))
        .route("/sandbox/faults", get(get_faults).put(put_faults))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(shared)
}

async fn healthz() -> Response {
    json_response(StatusCode::OK, r#"{"healthy":true}"#.into())
}

async fn not_found() -> Response {
    Refusal::because(
        ErrorCode::NotFound,
        "존재하지 않는 경로입니다. (no such path)",
    )
    .into_response()
}

async fn method_not_allowed() -> Response {
    let mut refusal = Refusal::because(
        ErrorCode::InvalidRequest,
        "허용되지 않은 메서드입니다. (method not allowed)",
    );
    refusal.status = 405;
    refusal.into_response()
}

/// An answer before it is sent: the JSON, whether it is already recorded under its
/// idempotency key, and how long it is held (the timeout card).
struct Reply {
    status: u16,
    body: String,
    recorded: bool,
    hold: Duration,
}

impl Reply {
    fn ok<T: serde::Serialize>(value: &T) -> Reply {
        Reply {
            status: 200,
            body: serde_json::to_string(value).expect("wire types always encode"),
            recorded: false,
            hold: Duration::ZERO,
        }
    }
}

impl From<Refusal> for Reply {
    fn from(refusal: Refusal) -> Reply {
        Reply {
            status: refusal.status,
            body: refusal.json(),
            recorded: false,
            hold: Duration::ZERO,
        }
    }
}

/// Basic auth with the secret key (`base64(secretKey + ":")`), then Toss's test-code header,
/// then the 5xx fault switch: what every `/v1` call passes first.
fn gate(shared: &Shared, headers: &HeaderMap) -> Result<(), Refusal> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(Refusal::of(ErrorCode::UnauthorizedKey));
    };
    let encoded = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Basic "))
        .ok_or_else(|| Refusal::of(ErrorCode::IncorrectBasicAuthFormat))?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|_| Refusal::of(ErrorCode::IncorrectBasicAuthFormat))?;
    let Some(key) = decoded.strip_suffix(b":") else {
        return Err(Refusal::of(ErrorCode::IncorrectBasicAuthFormat));
    };
    if digest(key) != shared.secret_digest {
        return Err(Refusal::of(ErrorCode::UnauthorizedKey));
    }
    if let Some(code) = headers.get(picket_toss_wire::TEST_CODE) {
        let code = code.to_str().unwrap_or_default();
        if code.is_empty()
            || code.len() > TEST_CODE_CHARS_MAX
            || !code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit())
        {
            return Err(Refusal::invalid(
                "TossPayments-Test-Code는 에러 코드여야 합니다. (must be an error code)",
            ));
        }
        return Err(Refusal::of(ErrorCode::from(code)));
    }
    if Faults::take(&mut shared.faults.lock().expect("faults lock").fail_next_calls) {
        return Err(Refusal::of(ErrorCode::FailedInternalSystemProcessing));
    }
    Ok(())
}

/// The body, at most `body_bytes_max` bytes.
async fn read_body(shared: &Shared, body: Body) -> Result<bytes::Bytes, Refusal> {
    axum::body::to_bytes(body, shared.config.body_bytes_max)
        .await
        .map_err(|_| {
            let mut refusal = Refusal::invalid(format!(
                "요청 본문이 {}바이트를 넘습니다. (body over {} bytes)",
                shared.config.body_bytes_max, shared.config.body_bytes_max
            ));
            refusal.status = 413;
            refusal
        })
}

fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, Refusal> {
    serde_json::from_slice(bytes)
        .map_err(|error| Refusal::invalid(format!("잘못된 요청입니다. (bad JSON: {error})")))
}

/// The POST operations, run by `post_call`.
enum Operation {
    Confirm,
    Cancel(String),
    IssueBillingKey,
    Charge(String),
}

/// A `/v1` POST whose path names a payment or billing key: that key, then [`post_call`] on the
/// `route` it makes with the `operation` on it.
async fn post_for_key(
    shared: &Shared,
    path: Result<Path<String>, PathRejection>,
    headers: &HeaderMap,
    body: Body,
    route: fn(&str) -> String,
    operation: fn(String) -> Operation,
) -> Response {
    let Ok(Path(key)) = path else {
        return Refusal::invalid("잘못된 경로입니다. (bad path)").into_response();
    };
    let route = route(&key);
    post_call(shared, headers, &route, operation(key), body).await
}

/// One `/v1` POST: the gate, the body, the idempotency key (replay, `409` while in flight),
/// the operation, then the answer held as the faults and the card say.
async fn post_call(
    shared: &Shared,
    headers: &HeaderMap,
    path: &str,
    operation: Operation,
    body: Body,
) -> Response {
    if let Err(refusal) = gate(shared, headers) {
        return refusal.into_response();
    }
    let bytes = match read_body(shared, body).await {
        Ok(bytes) => bytes,
        Err(refusal) => return refusal.into_response(),
    };
    let scope = match headers.get(picket_toss_wire::IDEMPOTENCY_KEY) {
        None => None,
        Some(key) => match key.to_str() {
            Ok(key)
                if !key.is_empty() && key.len() <= picket_toss_wire::IDEMPOTENCY_KEY_CHARS_MAX =>
            {
                Some(format!("{}|POST|{path}|{key}", hex(&shared.secret_digest)))
            }
            _ => return Refusal::of(ErrorCode::InvalidIdempotencyKey).into_response(),
        },
    };
    let _slot = match &scope {
        Some(scope) => match InFlight::claim(shared, scope) {
            Some(slot) => Some(slot),
            None => return Refusal::of(ErrorCode::IdempotentRequestProcessing).into_response(),
        },
        None => None,
    };
    if let Some(scope) = &scope {
        let since = now_ms() - shared.config.idempotency_ttl.as_millis() as i64;
        match shared.store.idempotent(scope, since).await {
            Ok(Some((status, body))) => {
                return json_response(StatusCode::from_u16(status).unwrap_or(StatusCode::OK), body);
            }
            Ok(None) => {}
            Err(error) => return Refusal::from(error).into_response(),
        }
    }
    let scope_ref = scope.as_deref();
    let reply = match operation {
        Operation::Confirm => confirm_payment(shared, &bytes, scope_ref).await,
        Operation::Cancel(key) => cancel_payment(shared, &key, &bytes, scope_ref).await,
        Operation::IssueBillingKey => issue(shared, &bytes, scope_ref).await,
        Operation::Charge(key) => charge(shared, &key, &bytes, scope_ref).await,
    };
    // Refusals that changed nothing are recorded here; 5xx answers are not, so a retry with the
    // same key runs again.
    if let Some(scope) = &scope
        && !reply.recorded
        && reply.status < 500
        && let Err(error) = shared
            .store
            .record(scope, reply.status, &reply.body, now_ms())
            .await
    {
        tracing::warn!(%error, "recording an idempotent answer failed");
    }
    let held = Duration::from_millis(shared.faults.lock().expect("faults lock").hold_responses_ms);
    shared.pause(held.max(reply.hold)).await;
    json_response(
        StatusCode::from_u16(reply.status).unwrap_or(StatusCode::OK),
        reply.body,
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Commits a payment's change, its transaction, its webhook and the answer under the
/// idempotency key in one transaction.
async fn commit(
    shared: &Shared,
    row: &PaymentRow,
    transaction: Option<&picket_toss_wire::Transaction>,
    now: i64,
    scope: Option<&str>,
    reply: Reply,
) -> Reply {
    let result = async {
        let mut tx = shared.store.begin().await?;
        tx.put_payment(row).await?;
        if let Some(transaction) = transaction {
            tx.add_transaction(transaction, now).await?;
        }
        webhook::enqueue(shared, &mut tx, &row.payment, now).await?;
        if let Some(scope) = scope {
            tx.record(scope, reply.status, &reply.body, now).await?;
        }
        tx.commit().await
    }
    .await;
    match result {
        Ok(()) => {
            shared.outbox_wake.notify_one();
            tracing::info!(
                payment_key = %row.payment.payment_key,
                order_id = %row.payment.order_id,
                status = %row.payment.status,
                balance = row.payment.balance_amount,
                "payment changed"
            );
            Reply {
                recorded: scope.is_some(),
                ..reply
            }
        }
        Err(error) => Refusal::from(error).into(),
    }
}

fn check_payment_key(key: &str) -> Result<(), Refusal> {
    if key.is_empty() || key.len() > picket_toss_wire::PAYMENT_KEY_CHARS_MAX {
        return Err(Refusal::invalid(
            "paymentKey는 1~200자여야 합니다. (paymentKey must be 1 to 200 characters)",
        ));
    }
    Ok(())
}

fn check_order_id(order_id: &str) -> Result<(), Refusal> {
    if !picket_toss_wire::is_valid_order_id(order_id) {
        return Err(Refusal::invalid(
            "orderId는 영문, 숫자, -, _ 6~64자여야 합니다. (orderId must be 6 to 64 of A-Z a-z 0-9 - _)",
        ));
    }
    Ok(())
}

fn check_order_name(order_name: &str) -> Result<(), Refusal> {
    let chars = order_name.chars().count();
    if chars == 0 || chars > picket_toss_wire::ORDER_NAME_CHARS_MAX {
        return Err(Refusal::invalid(
            "orderName은 1~100자여야 합니다. (orderName must be 1 to 100 characters)",
        ));
    }
    Ok(())
}

fn check_amount(shared: &Shared, amount: u64) -> Result<(), Refusal> {
    if amount < shared.config.amount_min {
        return Err(Refusal::of(ErrorCode::BelowMinimumAmount));
    }
    if amount > shared.config.amount_max {
        return Err(Refusal::of(ErrorCode::ExceedMaxAmount));
    }
    Ok(())
}

fn check_customer_key(shared: &Shared, key: &str) -> Result<(), Refusal> {
    let ok = (2..=shared.config.customer_key_chars_max).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_=.@".contains(&b));
    if !ok {
        return Err(Refusal::invalid(format!(
            "customerKey는 영문, 숫자, -_=.@ 2~{}자여야 합니다. (customerKey: 2 to {} of A-Z a-z 0-9 -_=.@)",
            shared.config.customer_key_chars_max, shared.config.customer_key_chars_max
        )));
    }
    Ok(())
}

async fn confirm(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Body) -> Response {
    post_call(
        &shared,
        &headers,
        "/v1/payments/confirm",
        Operation::Confirm,
        body,
    )
    .await
}

async fn confirm_payment(shared: &Shared, bytes: &[u8], scope: Option<&str>) -> Reply {
    let request: ConfirmRequest = match parse_json(bytes) {
        Ok(request) => request,
        Err(refusal) => return refusal.into(),
    };
    if let Err(refusal) =
        check_payment_key(&request.payment_key).and_then(|()| check_order_id(&request.order_id))
    {
        return refusal.into();
    }
    let mut writer = shared.writer.lock().await;
    let mut row = match shared.store.payment(&request.payment_key).await {
        Ok(Some(row)) => row,
        Ok(None) => return Refusal::of(ErrorCode::NotFoundPayment).into(),
        Err(error) => return Refusal::from(error).into(),
    };
    // The slow card approves late: wait before deciding, outside the writer, then read the
    // payment again. (Only this card costs the second read; every other confirm reads once.)
    if row.card == TestCard::Slow && row.payment.status == PaymentStatus::InProgress {
        drop(writer);
        shared.pause(shared.config.slow_card_delay).await;
        writer = shared.writer.lock().await;
        row = match shared.store.payment(&request.payment_key).await {
            Ok(Some(row)) => row,
            Ok(None) => return Refusal::of(ErrorCode::NotFoundPayment).into(),
            Err(error) => return Refusal::from(error).into(),
        };
    }
    let _writer = writer;
    let now = now_ms();
    match rules::confirm_step(
        &row,
        &request,
        now,
        shared.config.confirm_window.as_millis() as i64,
    ) {
        ConfirmStep::Refuse(refusal) => return refusal.into(),
        ConfirmStep::Expire => {
            let expired = PaymentRow {
                payment: rules::expired(row.payment.clone()),
                ..row
            };
            return commit(
                shared,
                &expired,
                None,
                now,
                scope,
                Refusal::of(ErrorCode::NotFoundPaymentSession).into(),
            )
            .await;
        }
        ConfirmStep::Proceed => {}
    }
    // One order is approved once: another payment of it (a second checkout) may already be.
    match shared.store.order_was_approved(&request.order_id).await {
        Ok(false) => {}
        Ok(true) => return Refusal::of(ErrorCode::DuplicatedOrderId).into(),
        Err(error) => return Refusal::from(error).into(),
    }
    settle(shared, row, now, scope, None).await
}

/// Approves or declines an authorised payment by its card (and the decline switch), and
/// commits it.
async fn settle(
    shared: &Shared,
    row: PaymentRow,
    now: i64,
    scope: Option<&str>,
    customer_key: Option<&str>,
) -> Reply {
    let forced = Faults::take(
        &mut shared
            .faults
            .lock()
            .expect("faults lock")
            .decline_next_confirms,
    );
    if let Some(code) = rules::card_refusal(row.card, forced) {
        let declined = PaymentRow {
            payment: rules::aborted(row.payment.clone(), code.clone()),
            ..row
        };
        return commit(
            shared,
            &declined,
            None,
            now,
            scope,
            Refusal::of(code).into(),
        )
        .await;
    }
    let transaction_key = random_hex(32);
    let payment = rules::approved(
        row.payment.clone(),
        now,
        transaction_key.clone(),
        random_hex(8),
    );
    let transaction = rules::transaction(
        &payment,
        &transaction_key,
        payment.total_amount,
        now,
        customer_key,
    );
    let hold = if row.card == TestCard::Timeout {
        shared.config.timeout_card_hold
    } else {
        Duration::ZERO
    };
    let approved = PaymentRow { payment, ..row };
    let reply = Reply {
        hold,
        ..Reply::ok(&approved.payment)
    };
    commit(shared, &approved, Some(&transaction), now, scope, reply).await
}

async fn cancel(
    State(shared): State<Arc<Shared>>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let route = |key: &str| format!("/v1/payments/{key}/cancel");
    post_for_key(&shared, path, &headers, body, route, Operation::Cancel).await
}

async fn cancel_payment(
    shared: &Shared,
    payment_key: &str,
    bytes: &[u8],
    scope: Option<&str>,
) -> Reply {
    if let Err(refusal) = check_payment_key(payment_key) {
        return refusal.into();
    }
    let request: CancelRequest = match parse_json(bytes) {
        Ok(request) => request,
        Err(refusal) => return refusal.into(),
    };
    let reason_chars = request.cancel_reason.chars().count();
    if reason_chars == 0 || reason_chars > picket_toss_wire::CANCEL_REASON_CHARS_MAX {
        return Refusal::invalid(
            "cancelReason은 1~200자여야 합니다. (cancelReason must be 1 to 200 characters)",
        )
        .into();
    }
    let _writer = shared.writer.lock().await;
    let row = match shared.store.payment(payment_key).await {
        Ok(Some(row)) => row,
        Ok(None) => return Refusal::of(ErrorCode::NotFoundPayment).into(),
        Err(error) => return Refusal::from(error).into(),
    };
    let now = now_ms();
    let transaction_key = random_hex(32);
    let ask = CancelAsk {
        reason: &request.cancel_reason,
        amount: request.cancel_amount,
        refundable_amount: request.refundable_amount,
    };
    match rules::cancel(
        row.payment.clone(),
        ask,
        now,
        transaction_key.clone(),
        shared.config.cancels_max,
    ) {
        Err(refusal) => refusal.into(),
        Ok((payment, amount)) => {
            let transaction = rules::transaction(&payment, &transaction_key, amount, now, None);
            let canceled = PaymentRow { payment, ..row };
            let reply = Reply::ok(&canceled.payment);
            commit(shared, &canceled, Some(&transaction), now, scope, reply).await
        }
    }
}

async fn issue_billing_key(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    post_call(
        &shared,
        &headers,
        "/v1/billing/authorizations/issue",
        Operation::IssueBillingKey,
        body,
    )
    .await
}

async fn issue(shared: &Shared, bytes: &[u8], scope: Option<&str>) -> Reply {
    let request: BillingIssueRequest = match parse_json(bytes) {
        Ok(request) => request,
        Err(refusal) => return refusal.into(),
    };
    if request.auth_key.is_empty() || request.auth_key.len() > shared.config.billing_key_chars_max {
        return Refusal::invalid("authKey가 올바르지 않습니다. (bad authKey)").into();
    }
    if let Err(refusal) = check_customer_key(shared, &request.customer_key) {
        return refusal.into();
    }
    let _writer = shared.writer.lock().await;
    let auth = match shared.store.auth_key(&request.auth_key).await {
        Ok(Some(auth)) => auth,
        Ok(None) => return Refusal::of(ErrorCode::NotFound).into(),
        Err(error) => return Refusal::from(error).into(),
    };
    if auth.customer_key != request.customer_key {
        return Refusal::of(ErrorCode::NotMatchesCustomerKey).into();
    }
    let now = now_ms();
    let billing = Billing {
        m_id: Some(rules::MERCHANT_ID.into()),
        customer_key: request.customer_key.clone(),
        authenticated_at: kst(now),
        method: Some(rules::CARD_METHOD.into()),
        billing_key: random_alphanumeric(44),
        card: Some(BillingCard {
            issuer_code: Some("4V".into()),
            acquirer_code: Some("21".into()),
            company: None,
            number: Some(auth.card_masked.clone()),
            card_type: Some("신용".into()),
            owner_type: Some("개인".into()),
        }),
    };
    let reply = Reply::ok(&billing);
    let result = async {
        let mut tx = shared.store.begin().await?;
        if !tx.spend_auth_key(&request.auth_key).await? {
            return Ok(false);
        }
        tx.put_billing_key(&billing, auth.card).await?;
        if let Some(scope) = scope {
            tx.record(scope, reply.status, &reply.body, now).await?;
        }
        tx.commit().await?;
        Ok::<_, sqlx::Error>(true)
    }
    .await;
    match result {
        Ok(true) => {
            tracing::info!(customer_key = %billing.customer_key, "billing key issued");
            Reply {
                recorded: scope.is_some(),
                ..reply
            }
        }
        Ok(false) => Refusal::of(ErrorCode::NotFound).into(),
        Err(error) => Refusal::from(error).into(),
    }
}

async fn charge_billing_key(
    State(shared): State<Arc<Shared>>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let route = |key: &str| format!("/v1/billing/{key}");
    post_for_key(&shared, path, &headers, body, route, Operation::Charge).await
}

async fn charge(shared: &Shared, billing_key: &str, bytes: &[u8], scope: Option<&str>) -> Reply {
    if billing_key.is_empty() || billing_key.len() > shared.config.billing_key_chars_max {
        return Refusal::invalid("billingKey가 올바르지 않습니다. (bad billingKey)").into();
    }
    let request: BillingChargeRequest = match parse_json(bytes) {
        Ok(request) => request,
        Err(refusal) => return refusal.into(),
    };
    let checked = check_order_id(&request.order_id)
        .and_then(|()| check_order_name(&request.order_name))
        .and_then(|()| check_amount(shared, request.amount))
        .and_then(|()| check_customer_key(shared, &request.customer_key));
    if let Err(refusal) = checked {
        return refusal.into();
    }
    let billing = match shared.store.billing_key(billing_key).await {
        Ok(Some(billing)) => billing,
        Ok(None) => return Refusal::of(ErrorCode::NotFoundBilling).into(),
        Err(error) => return Refusal::from(error).into(),
    };
    if billing.customer_key != request.customer_key {
        return Refusal::of(ErrorCode::NotMatchesCustomerKey).into();
    }
    if billing.card == TestCard::Slow {
        shared.pause(shared.config.slow_card_delay).await;
    }
    let _writer = shared.writer.lock().await;
    match shared.store.order_was_approved(&request.order_id).await {
        Ok(false) => {}
        Ok(true) => return Refusal::of(ErrorCode::DuplicatedOrderId).into(),
        Err(error) => return Refusal::from(error).into(),
    }
    let now = now_ms();
    let payment = rules::authorised(
        NewPayment {
            payment_key: random_alphanumeric(48),
            kind: PaymentType::Billing,
            order_id: &request.order_id,
            order_name: &request.order_name,
            amount: request.amount,
            card_masked: &billing.card_masked,
            secret: format!("ps_{}", random_alphanumeric(24)),
        },
        now,
    );
    let row = PaymentRow {
        payment,
        authorised_amount: request.amount,
        authorised_at_ms: now,
        card: billing.card,
    };
    settle(shared, row, now, scope, Some(&request.customer_key)).await
}

/// A lookup's answer: the payment (expired first if its window passed).
async fn lookup(shared: &Shared, found: Result<Option<PaymentRow>, sqlx::Error>) -> Response {
    let row = match found {
        Ok(Some(row)) => row,
        Ok(None) => return Refusal::of(ErrorCode::NotFoundPayment).into_response(),
        Err(error) => return Refusal::from(error).into_response(),
    };
    let payment = if is_due(shared, &row, now_ms()) {
        match expire(shared, &row.payment.payment_key).await {
            Some(payment) => payment,
            None => return Refusal::internal().into_response(),
        }
    } else {
        row.payment
    };
    json_response(
        StatusCode::OK,
        serde_json::to_string(&payment).expect("wire types always encode"),
    )
}

async fn payment_by_key(
    State(shared): State<Arc<Shared>>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Response {
    match lookup_path(&shared, path, &headers, check_payment_key) {
        Ok(payment_key) => {
            let found = shared.store.payment(&payment_key).await;
            lookup(&shared, found).await
        }
        Err(refusal) => refusal.into_response(),
    }
}

async fn payment_by_order(
    State(shared): State<Arc<Shared>>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
) -> Response {
    match lookup_path(&shared, path, &headers, check_order_id) {
        Ok(order_id) => {
            let found = shared.store.payment_for_order(&order_id).await;
            lookup(&shared, found).await
        }
        Err(refusal) => refusal.into_response(),
    }
}

/// What both lookups check before the store: the secret key, then the path's one value by
/// `check` (a payment key or an order id).
fn lookup_path(
    shared: &Shared,
    path: Result<Path<String>, PathRejection>,
    headers: &HeaderMap,
    check: fn(&str) -> Result<(), Refusal>,
) -> Result<String, Refusal> {
    gate(shared, headers)?;
    let Ok(Path(value)) = path else {
        return Err(Refusal::invalid("잘못된 경로입니다. (bad path)"));
    };
    check(&value)?;
    Ok(value)
}

fn is_due(shared: &Shared, row: &PaymentRow, now: i64) -> bool {
    row.payment.status == PaymentStatus::InProgress
        && now - row.authorised_at_ms >= shared.config.confirm_window.as_millis() as i64
}

/// Expires one payment if it is still due: the payment as it now is.
async fn expire(shared: &Shared, payment_key: &str) -> Option<Payment> {
    let _writer = shared.writer.lock().await;
    let row = shared.store.payment(payment_key).await.ok()??;
    let now = now_ms();
    if !is_due(shared, &row, now) {
        return Some(row.payment);
    }
    let expired = PaymentRow {
        payment: rules::expired(row.payment.clone()),
        ..row
    };
    let reply = commit(
        shared,
        &expired,
        None,
        now,
        None,
        Reply::ok(&expired.payment),
    )
    .await;
    (reply.status == 200).then_some(expired.payment)
}

/// Expires every payment whose confirm window passed (the webhook task calls this).
pub async fn expire_due(shared: &Shared) {
    let cutoff = now_ms() - shared.config.confirm_window.as_millis() as i64;
    match shared.store.expiring(cutoff, EXPIRE_BATCH_MAX).await {
        Ok(keys) => {
            for key in keys {
                expire(shared, &key).await;
            }
        }
        Err(error) => tracing::warn!(%error, "reading payments to expire failed"),
    }
}

fn query_pairs(query: Option<&str>) -> HashMap<String, String> {
    form_urlencoded::parse(query.unwrap_or_default().as_bytes())
        .into_owned()
        .collect()
}

/// `GET /v1/transactions?startDate=…&endDate=…[&startingAfter=…][&limit=…]`.
async fn transactions(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if let Err(refusal) = gate(&shared, &headers) {
        return refusal.into_response();
    }
    let pairs = query_pairs(query.as_deref());
    let range = pairs
        .get("startDate")
        .and_then(|d| parse_kst(d))
        .zip(pairs.get("endDate").and_then(|d| parse_kst(d)));
    let Some((start, end)) = range else {
        return Refusal::invalid(
            "startDate와 endDate는 yyyy-MM-ddTHH:mm:ss 형식이어야 합니다. (startDate and endDate: yyyy-MM-ddTHH:mm:ss)",
        )
        .into_response();
    };
    // The end is inclusive: a time includes its whole second, a date its whole day.
    let end = match pairs.get("endDate") {
        Some(date) if !date.contains('T') => end + 86_400_000 - 1,
        _ => end + 999,
    };
    let limit = match pairs.get("limit").map(|l| l.parse::<usize>()) {
        None => shared.config.transactions_limit_default,
        Some(Ok(limit)) if (1..=shared.config.transactions_limit_max).contains(&limit) => limit,
        Some(_) => {
            return Refusal::invalid(format!(
                "limit은 1~{}이어야 합니다. (limit must be 1 to {})",
                shared.config.transactions_limit_max, shared.config.transactions_limit_max
            ))
            .into_response();
        }
    };
    let after = match pairs.get("startingAfter") {
        None => 0,
        Some(key) => match shared.store.transaction_seq(key).await {
            Ok(Some(seq)) => seq,
            Ok(None) => {
                return Refusal::invalid(
                    "startingAfter가 존재하지 않습니다. (unknown startingAfter)",
                )
                .into_response();
            }
            Err(error) => return Refusal::from(error).into_response(),
        },
    };
    match shared
        .store
        .transactions(start, end, after, limit as i64)
        .await
    {
        Ok(bodies) => json_response(StatusCode::OK, format!("[{}]", bodies.join(","))),
        Err(error) => Refusal::from(error).into_response(),
    }
}

/// A page answer with `status`.
fn html(status: StatusCode, page: String) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store")], Html(page)).into_response()
}

fn see_other(location: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, location.to_owned()),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
    )
        .into_response()
}

/// The fields a checkout is opened (and submitted) with, checked as far as a page can be shown.
struct CheckoutForm {
    order_id: String,
    order_name: String,
    amount: String,
    success_url: String,
    fail_url: String,
}

/// The client key and both redirect URLs: without them there is nowhere safe to send the
/// buyer, so their problems are an error page, not a redirect.
fn checkout_fields(
    shared: &Shared,
    pairs: &HashMap<String, String>,
) -> Result<CheckoutForm, Box<Response>> {
    let field = |name: &str| pairs.get(name).cloned().unwrap_or_default();
    if digest(field("clientKey")) != digest(&shared.client_key) {
        return Err(Box::new(html(
            StatusCode::UNAUTHORIZED,
            checkout::error_page(
                "클라이언트 키가 올바르지 않습니다.",
                "The client key is not this sandbox's.",
            ),
        )));
    }
    let limit = shared.config.url_bytes_max;
    let (success_url, fail_url) = match (
        urls::redirect_url(&field("successUrl"), limit),
        urls::redirect_url(&field("failUrl"), limit),
    ) {
        (Ok(success), Ok(fail)) => (success, fail),
        (Err(why), _) | (_, Err(why)) => {
            return Err(Box::new(html(
                StatusCode::BAD_REQUEST,
                checkout::error_page(
                    "successUrl과 failUrl은 http(s) 주소여야 합니다.",
                    &format!("successUrl and failUrl: {why}"),
                ),
            )));
        }
    };
    Ok(CheckoutForm {
        order_id: field("orderId"),
        order_name: field("orderName"),
        amount: field("amount"),
        success_url,
        fail_url,
    })
}

fn fail_redirect(form_fail_url: &str, refusal: &Refusal, order_id: &str) -> Response {
    see_other(&urls::with_query(
        form_fail_url,
        &[
            ("code", refusal.body.code.as_str()),
            ("message", &refusal.body.message),
            ("orderId", order_id),
        ],
    ))
}

/// The order's fields, checked: the amount, or the refusal to send to `failUrl`.
fn check_order(shared: &Shared, form: &CheckoutForm) -> Result<u64, Refusal> {
    check_order_id(&form.order_id)?;
    check_order_name(&form.order_name)?;
    let amount = form.amount.parse::<u64>().map_err(|_| {
        Refusal::invalid("amount는 원 단위 정수여야 합니다. (amount must be whole won)")
    })?;
    check_amount(shared, amount)?;
    Ok(amount)
}

/// `GET /checkout?clientKey=…&orderId=…&orderName=…&amount=…&successUrl=…&failUrl=…`.
async fn checkout_page(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let pairs = query_pairs(query.as_deref());
    let form = match checkout_fields(&shared, &pairs) {
        Ok(form) => form,
        Err(page) => return *page,
    };
    let amount = match check_order(&shared, &form) {
        Ok(amount) => amount,
        Err(refusal) => return fail_redirect(&form.fail_url, &refusal, &form.order_id),
    };
    let fields = [
        ("clientKey", shared.client_key.as_str()),
        ("orderId", &form.order_id),
        ("orderName", &form.order_name),
        ("amount", &form.amount),
        ("successUrl", &form.success_url),
        ("failUrl", &form.fail_url),
    ];
    html(
        StatusCode::OK,
        checkout::checkout_page(&fields, &form.order_name, amount),
    )
}

/// `POST /checkout` (the page's form, or a test's or load tester's direct call): authorises
/// the payment and sends the buyer to `successUrl` (or `failUrl`) with `303`.
async fn checkout_submit(State(shared): State<Arc<Shared>>, body: Body) -> Response {
    let bytes = match read_body(&shared, body).await {
        Ok(bytes) => bytes,
        Err(refusal) => return refusal.into_response(),
    };
    let pairs: HashMap<String, String> = form_urlencoded::parse(&bytes).into_owned().collect();
    let form = match checkout_fields(&shared, &pairs) {
        Ok(form) => form,
        Err(page) => return *page,
    };
    let amount = match check_order(&shared, &form) {
        Ok(amount) => amount,
        Err(refusal) => return fail_redirect(&form.fail_url, &refusal, &form.order_id),
    };
    let card_input = pairs
        .get("cardNumber")
        .map(String::as_str)
        .unwrap_or_default();
    let (card, masked) = match read_card(card_input, shared.config.card_number_chars_max) {
        Ok(card) => card,
        Err(code) => return fail_redirect(&form.fail_url, &Refusal::of(code), &form.order_id),
    };
    let _writer = shared.writer.lock().await;
    match shared.store.order_was_approved(&form.order_id).await {
        Ok(false) => {}
        Ok(true) => {
            return fail_redirect(
                &form.fail_url,
                &Refusal::of(ErrorCode::DuplicatedOrderId),
                &form.order_id,
            );
        }
        Err(error) => return fail_redirect(&form.fail_url, &Refusal::from(error), &form.order_id),
    }
    let now = now_ms();
    let payment = rules::authorised(
        NewPayment {
            payment_key: random_alphanumeric(48),
            kind: PaymentType::Normal,
            order_id: &form.order_id,
            order_name: &form.order_name,
            amount,
            card_masked: &masked,
            secret: format!("ps_{}", random_alphanumeric(24)),
        },
        now,
    );
    let row = PaymentRow {
        payment,
        authorised_amount: amount,
        authorised_at_ms: now,
        card,
    };
    let reply = commit(&shared, &row, None, now, None, Reply::ok(&row.payment)).await;
    if reply.status != 200 {
        return fail_redirect(&form.fail_url, &Refusal::internal(), &form.order_id);
    }
    let amount_text = amount.to_string();
    see_other(&urls::with_query(
        &form.success_url,
        &[
            ("paymentKey", row.payment.payment_key.as_str()),
            ("orderId", &form.order_id),
            ("amount", &amount_text),
            ("paymentType", "NORMAL"),
        ],
    ))
}

/// The billing page's fields: the client key, the customer and both redirect URLs.
fn billing_fields(
    shared: &Shared,
    pairs: &HashMap<String, String>,
) -> Result<(String, String, String), Box<Response>> {
    let mut with_order = pairs.clone();
    with_order.insert("orderId".into(), String::new());
    let form = checkout_fields(shared, &with_order)?;
    let customer_key = pairs.get("customerKey").cloned().unwrap_or_default();
    if let Err(refusal) = check_customer_key(shared, &customer_key) {
        return Err(Box::new(see_other(&urls::with_query(
            &form.fail_url,
            &[
                ("code", refusal.body.code.as_str()),
                ("message", &refusal.body.message),
            ],
        ))));
    }
    Ok((customer_key, form.success_url, form.fail_url))
}

/// `GET /billing/authorize?clientKey=…&customerKey=…&successUrl=…&failUrl=…`.
async fn billing_page(State(shared): State<Arc<Shared>>, RawQuery(query): RawQuery) -> Response {
    let pairs = query_pairs(query.as_deref());
    let (customer_key, success_url, fail_url) = match billing_fields(&shared, &pairs) {
        Ok(fields) => fields,
        Err(answer) => return *answer,
    };
    let fields = [
        ("clientKey", shared.client_key.as_str()),
        ("customerKey", &customer_key),
        ("successUrl", &success_url),
        ("failUrl", &fail_url),
    ];
    html(StatusCode::OK, checkout::billing_page(&fields))
}

/// `POST /billing/authorize`: registers the card and sends the buyer to
/// `successUrl?customerKey=…&authKey=…` (`303`).
async fn billing_submit(State(shared): State<Arc<Shared>>, body: Body) -> Response {
    let bytes = match read_body(&shared, body).await {
        Ok(bytes) => bytes,
        Err(refusal) => return refusal.into_response(),
    };
    let pairs: HashMap<String, String> = form_urlencoded::parse(&bytes).into_owned().collect();
    let (customer_key, success_url, fail_url) = match billing_fields(&shared, &pairs) {
        Ok(fields) => fields,
        Err(answer) => return *answer,
    };
    let card_input = pairs
        .get("cardNumber")
        .map(String::as_str)
        .unwrap_or_default();
    let (card, masked) = match read_card(card_input, shared.config.card_number_chars_max) {
        Ok(card) => card,
        Err(code) => {
            let refusal = Refusal::of(code);
            return see_other(&urls::with_query(
                &fail_url,
                &[
                    ("code", refusal.body.code.as_str()),
                    ("message", &refusal.body.message),
                ],
            ));
        }
    };
    let auth_key = format!("bln_{}", random_alphanumeric(32));
    let stored = async {
        let mut tx = shared.store.begin().await?;
        tx.put_auth_key(&auth_key, &customer_key, card, &masked, now_ms())
            .await?;
        tx.commit().await
    }
    .await;
    if let Err(error) = stored {
        let refusal = Refusal::from(error);
        return see_other(&urls::with_query(
            &fail_url,
            &[
                ("code", refusal.body.code.as_str()),
                ("message", &refusal.body.message),
            ],
        ));
    }
    see_other(&urls::with_query(
        &success_url,
        &[("customerKey", &customer_key), ("authKey", &auth_key)],
    ))
}

fn admin(shared: &Shared, headers: &HeaderMap) -> Result<(), Refusal> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if digest(token) != shared.admin_digest {
        return Err(Refusal::of(ErrorCode::UnauthorizedKey));
    }
    Ok(())
}

async fn get_faults(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> Response {
    if let Err(refusal) = admin(&shared, &headers) {
        return refusal.into_response();
    }
    let faults = shared.faults.lock().expect("faults lock").clone();
    json_response(
        StatusCode::OK,
        serde_json::to_string(&faults).expect("faults encode"),
    )
}

/// `PUT /sandbox/faults`: replaces every switch (fields left out are off).
async fn put_faults(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Body) -> Response {
    if let Err(refusal) = admin(&shared, &headers) {
        return refusal.into_response();
    }
    let bytes = match read_body(&shared, body).await {
        Ok(bytes) => bytes,
        Err(refusal) => return refusal.into_response(),
    };
    let faults: Faults = match parse_json(&bytes) {
        Ok(faults) => faults,
        Err(refusal) => return refusal.into_response(),
    };
    let problems = faults.problems(
        shared.config.fault_delay_ms_max,
        shared.config.fault_count_max,
    );
    if !problems.is_empty() {
        return Refusal::invalid(problems.join("; ")).into_response();
    }
    tracing::info!(?faults, "fault switches set");
    *shared.faults.lock().expect("faults lock") = faults.clone();
    json_response(
        StatusCode::OK,
        serde_json::to_string(&faults).expect("faults encode"),
    )
}
