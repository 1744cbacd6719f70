//! The production adapter: [`TossProvider`] speaks the Toss Payments core API v1 over HTTPS
//! (docs/payments.md, "The production adapter"). Basic auth with the secret key, an
//! `Idempotency-Key` from the caller on every POST, the wire types of `picket-toss-wire`, and
//! every Toss error code turned into a [`PaymentError`] by one table (`toss/errors.rs`).
//!
//! It is tested against `picket sandbox-pay` (`tests/tests/payments_adapter.rs`), a server it
//! shares nothing with but the wire types.

mod errors;
mod time;

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use picket_toss_wire::{
    BillingChargeRequest, BillingIssueRequest, CancelRequest, ConfirmRequest, ErrorBody, Payment,
    PaymentStatus, Transaction, WebhookEvent,
};
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use errors::{ERROR_TABLE, Outcome};
pub use time::{format_kst, parse_offset_time};

use crate::provider::{
    BillingCharge, BillingKey, CancelRecord, PaymentError, PaymentProvider, PaymentRecord,
    PaymentState, ProviderFuture, TransactionRecord, WebhookError, WebhookNotice,
};

/// Toss's API host.
pub const TOSS_BASE_URL: &str = "https://api.tosspayments.com";

/// Settings of the adapter. Every limit is named, with its default in [`TossConfig::new`].
/// `Debug` never shows the keys.
#[derive(Clone)]
pub struct TossConfig {
    /// `https://api.tosspayments.com` in production; the sandbox's URL in tests and demos.
    pub base_url: String,
    /// `test_sk_…` / `live_sk_…` (or the widget's `…_gsk_…`): Basic auth of every call.
    pub secret_key: String,
    /// `test_ck_…` / `live_ck_…`: handed to the buyer's checkout, never used for API calls.
    pub client_key: String,
    /// The HMAC-SHA256 key webhooks are signed with.
    pub webhook_secret: String,
    /// Whole-call limit of every call but a billing charge.
    pub request_timeout_ms: u64,
    /// Whole-call limit of a billing charge (Toss: a charge may take up to 60 s).
    pub charge_timeout_ms: u64,
    /// Limit on opening a connection (TCP and TLS).
    pub connect_timeout_ms: u64,
    /// Largest answer body read, in bytes; a larger one is a protocol error.
    pub response_bytes_max: usize,
    /// `limit` of each `GET /v1/transactions` page (Toss: at most 10,000).
    pub transactions_page_size: u32,
    /// Most pages one `transactions` call reads; more is an error, not a silent cut.
    pub transactions_pages_max: u32,
    /// A webhook whose transmission time is further than this from now (either way) is refused.
    pub webhook_max_age_ms: u64,
    /// Most comma-separated values of a signature header that are checked.
    pub webhook_signatures_max: usize,
    /// Whether a webhook must be signed ([`WebhookSignatures`]).
    pub webhook_signatures: WebhookSignatures,
}

/// What an unsigned webhook is worth. A signature present but wrong is refused either way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WebhookSignatures {
    /// Every webhook must carry a good signature (the sandbox signs every event).
    #[default]
    Required,
    /// An unsigned webhook is accepted as a hint only: the receiver never trusts its body and
    /// looks the payment up with the provider by key. Real Toss signs no payment event, so its
    /// webhooks complete payments only in this mode.
    LookupOnly,
}

impl WebhookSignatures {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookSignatures::Required => "required",
            WebhookSignatures::LookupOnly => "lookup_only",
        }
    }
}

impl fmt::Display for WebhookSignatures {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for WebhookSignatures {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        match text {
            "required" => Ok(WebhookSignatures::Required),
            "lookup_only" => Ok(WebhookSignatures::LookupOnly),
            _ => Err("must be required or lookup_only".to_owned()),
        }
    }
}

impl TossConfig {
    /// The defaults for `base_url` and the keys given.
    pub fn new(
        base_url: impl Into<String>,
        secret_key: impl Into<String>,
        client_key: impl Into<String>,
        webhook_secret: impl Into<String>,
    ) -> TossConfig {
        TossConfig {
            base_url: base_url.into(),
            secret_key: secret_key.into(),
            client_key: client_key.into(),
            webhook_secret: webhook_secret.into(),
            request_timeout_ms: 10_000,
            charge_timeout_ms: 65_000,
            connect_timeout_ms: 3_000,
            response_bytes_max: 4 * 1024 * 1024,
            transactions_page_size: 100,
            transactions_pages_max: 1_000,
            webhook_max_age_ms: 5 * 60 * 1000,
            webhook_signatures_max: 8,
            webhook_signatures: WebhookSignatures::Required,
        }
    }

    /// Every problem with these settings (none: usable). Keys are never echoed.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let base = self.base_url.trim_end_matches('/');
        if !(base.starts_with("https://") || base.starts_with("http://")) || base.len() < 10 {
            problems.push("the base URL must be an absolute http(s) URL".to_owned());
        }
        if self.secret_key.is_empty() || self.secret_key.bytes().any(|b| !b.is_ascii_graphic()) {
            problems.push("the secret key is empty or has characters a key cannot have".to_owned());
        }
        if self.webhook_secret.len() < 16 {
            problems.push("the webhook secret is shorter than 16 bytes".to_owned());
        }
        let limits = [
            ("request_timeout_ms", self.request_timeout_ms),
            ("charge_timeout_ms", self.charge_timeout_ms),
            ("connect_timeout_ms", self.connect_timeout_ms),
            ("response_bytes_max", self.response_bytes_max as u64),
            (
                "transactions_pages_max",
                u64::from(self.transactions_pages_max),
            ),
            ("webhook_max_age_ms", self.webhook_max_age_ms),
            ("webhook_signatures_max", self.webhook_signatures_max as u64),
        ];
        for (name, value) in limits {
            if value == 0 {
                problems.push(format!("{name} must be above 0"));
            }
        }
        if !(1..=TRANSACTIONS_PAGE_SIZE_MAX).contains(&self.transactions_page_size) {
            problems.push(format!(
                "transactions_page_size must be 1 to {TRANSACTIONS_PAGE_SIZE_MAX}"
            ));
        }
        problems
    }
}

/// Toss's largest `limit` of the transactions listing.
const TRANSACTIONS_PAGE_SIZE_MAX: u32 = 10_000;

impl fmt::Debug for TossConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TossConfig")
            .field("base_url", &self.base_url)
            .field("secret_key", &"<hidden>")
            .field("client_key", &"<hidden>")
            .field("webhook_secret", &"<hidden>")
            .field("request_timeout_ms", &self.request_timeout_ms)
            .field("charge_timeout_ms", &self.charge_timeout_ms)
            .field("connect_timeout_ms", &self.connect_timeout_ms)
            .field("response_bytes_max", &self.response_bytes_max)
            .field("transactions_page_size", &self.transactions_page_size)
            .field("transactions_pages_max", &self.transactions_pages_max)
            .field("webhook_max_age_ms", &self.webhook_max_age_ms)
            .field("webhook_signatures_max", &self.webhook_signatures_max)
            .field("webhook_signatures", &self.webhook_signatures)
            .finish()
    }
}

/// The settings could not make a provider (each problem listed; no key echoed).
#[derive(Debug, thiserror::Error)]
#[error("the payment provider settings are not usable: {}", .0.join("; "))]
pub struct TossConfigError(pub Vec<String>);

/// The Toss Payments v1 provider.
pub struct TossProvider {
    config: TossConfig,
    base_url: String,
    client: reqwest::Client,
    /// `Basic base64(secret_key + ":")`, marked sensitive so no debug output shows it.
    authorization: reqwest::header::HeaderValue,
}

impl fmt::Debug for TossProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TossProvider")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Longest path value (payment key, order id, billing key) sent; longer ones cannot be Toss's.
const PATH_VALUE_CHARS_MAX: usize = 300;

impl TossProvider {
    pub fn new(config: TossConfig) -> Result<TossProvider, TossConfigError> {
        let problems = config.problems();
        if !problems.is_empty() {
            return Err(TossConfigError(problems));
        }
        let token =
            base64::engine::general_purpose::STANDARD.encode(format!("{}:", config.secret_key));
        let mut authorization =
            reqwest::header::HeaderValue::from_str(&format!("Basic {token}"))
                .map_err(|_| TossConfigError(vec!["the secret key cannot be sent".to_owned()]))?;
        authorization.set_sensitive(true);
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(config.connect_timeout_ms))
            // Toss answers directly; a redirect would be a misconfigured base URL.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| TossConfigError(vec![format!("the HTTP client cannot start: {e}")]))?;
        Ok(TossProvider {
            base_url: config.base_url.trim_end_matches('/').to_owned(),
            config,
            client,
            authorization,
        })
    }

    pub fn config(&self) -> &TossConfig {
        &self.config
    }

    /// One call: `body` is JSON for a POST; POSTs carry `idempotency_key`.
    async fn call<T: DeserializeOwned>(
        &self,
        method: reqwest::Method,
        path_and_query: &str,
        body: Option<&(impl Serialize + Sync)>,
        idempotency_key: Option<&str>,
        timeout_ms: u64,
    ) -> Result<T, PaymentError> {
        let url = format!("{}{path_and_query}", self.base_url);
        let mut request = self
            .client
            .request(method, url)
            .timeout(Duration::from_millis(timeout_ms))
            .header(reqwest::header::AUTHORIZATION, self.authorization.clone())
            .header(reqwest::header::ACCEPT, "application/json");
        if let Some(key) = idempotency_key {
            request = request.header(picket_toss_wire::IDEMPOTENCY_KEY, idempotency_header(key)?);
        }
        if let Some(body) = body {
            let bytes = serde_json::to_vec(body)
                .map_err(|e| PaymentError::Protocol(format!("request body: {e}")))?;
            request = request
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(bytes);
        }
        let mut response = request.send().await.map_err(transport_error)?;
        let status = response.status().as_u16();
        let mut bytes = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(transport_error)? {
            if bytes.len() + chunk.len() > self.config.response_bytes_max {
                return Err(PaymentError::Protocol(format!(
                    "an answer over {} bytes",
                    self.config.response_bytes_max
                )));
            }
            bytes.extend_from_slice(&chunk);
        }
        if (200..300).contains(&status) {
            return serde_json::from_slice(&bytes)
                .map_err(|e| PaymentError::Protocol(format!("HTTP {status}: {e}")));
        }
        Err(match serde_json::from_slice::<ErrorBody>(&bytes) {
            Ok(error) => errors::payment_error(status, error.code.as_str(), &error.message),
            Err(_) => errors::status_error(status),
        })
    }

    async fn get_payment(&self, path: &str) -> Result<PaymentRecord, PaymentError> {
        let payment: Payment = self
            .call(
                reqwest::Method::GET,
                path,
                None::<&()>,
                None,
                self.config.request_timeout_ms,
            )
            .await?;
        payment_record(payment)
    }

    async fn confirm_payment(
        &self,
        payment_key: &str,
        order_id: &str,
        amount_won: u64,
        idempotency_key: &str,
    ) -> Result<PaymentRecord, PaymentError> {
        check_path_value(payment_key)?;
        check_path_value(order_id)?;
        let request = ConfirmRequest {
            payment_key: payment_key.to_owned(),
            order_id: order_id.to_owned(),
            amount: amount_won,
        };
        let confirmed = self
            .call::<Payment>(
                reqwest::Method::POST,
                "/v1/payments/confirm",
                Some(&request),
                Some(idempotency_key),
                self.config.request_timeout_ms,
            )
            .await;
        let record = match confirmed {
            Ok(payment) => payment_record(payment)?,
            Err(PaymentError::Refused { code, message }) if code == "INVALID_REQUEST" => {
                // Toss documents no code for "not the amount the buyer authorised" (the sandbox
                // answers INVALID_REQUEST): the payment itself tells.
                return Err(self
                    .amount_mismatch(payment_key, order_id, amount_won)
                    .await
                    .unwrap_or(PaymentError::Refused { code, message }));
            }
            Err(error) => return Err(error),
        };
        // An answer about another payment, order or amount is not a confirmation of this one.
        if record.payment_key != payment_key
            || record.order_id != order_id
            || record.total_won != amount_won
        {
            return Err(PaymentError::Protocol(
                "the confirmation is of another payment, order or amount".to_owned(),
            ));
        }
        Ok(record)
    }

    /// `AmountMismatch` when `payment_key` is a payment of `order_id` for another amount.
    async fn amount_mismatch(
        &self,
        payment_key: &str,
        order_id: &str,
        amount_won: u64,
    ) -> Option<PaymentError> {
        let payment = self
            .get_payment(&format!("/v1/payments/{}", encode(payment_key)))
            .await
            .ok()?;
        (payment.order_id == order_id && payment.total_won != amount_won)
            .then_some(PaymentError::AmountMismatch)
    }

    async fn list_transactions(
        &self,
        from_ms: u64,
        to_ms: u64,
    ) -> Result<Vec<TransactionRecord>, PaymentError> {
        let mut found = Vec::new();
        if to_ms < from_ms {
            return Ok(found);
        }
        // Toss's dates are whole seconds, Korean time, both ends inclusive.
        let from_floor = from_ms / 1000 * 1000;
        let range = format!(
            "startDate={}&endDate={}&limit={}",
            encode(&format_kst(from_ms)),
            encode(&format_kst(to_ms)),
            self.config.transactions_page_size
        );
        let mut after: Option<String> = None;
        for _ in 0..self.config.transactions_pages_max {
            let cursor = after
                .as_deref()
                .map(|key| format!("&startingAfter={}", encode(key)))
                .unwrap_or_default();
            let page: Vec<Transaction> = self
                .call(
                    reqwest::Method::GET,
                    &format!("/v1/transactions?{range}{cursor}"),
                    None::<&()>,
                    None,
                    self.config.request_timeout_ms,
                )
                .await?;
            let full = page.len() >= self.config.transactions_page_size as usize;
            let last = page.last().map(|t| t.transaction_key.clone());
            for transaction in page {
                let record = transaction_record(transaction)?;
                if (from_floor..=to_ms).contains(&record.at_ms) {
                    found.push(record);
                }
            }
            if !full {
                return Ok(found);
            }
            if last.is_none() || last == after {
                return Err(PaymentError::Protocol(
                    "the transactions listing did not move on".to_owned(),
                ));
            }
            after = last;
        }
        Err(PaymentError::Protocol(format!(
            "more than {} pages of {} transactions in the range: ask for a shorter one",
            self.config.transactions_pages_max, self.config.transactions_page_size
        )))
    }

    fn verify(
        &self,
        header: &dyn Fn(&str) -> Option<String>,
        body: &[u8],
        now_ms: u64,
    ) -> Result<WebhookNotice, WebhookError> {
        let Some(signatures) = header(picket_toss_wire::WEBHOOK_SIGNATURE) else {
            return match self.config.webhook_signatures {
                WebhookSignatures::Required => Err(WebhookError::BadSignature),
                WebhookSignatures::LookupOnly => self.unsigned(header, body, now_ms),
            };
        };
        let time = header(picket_toss_wire::WEBHOOK_TRANSMISSION_TIME)
            .ok_or(WebhookError::BadSignature)?;
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(self.config.webhook_secret.as_bytes())
            .map_err(|_| WebhookError::BadSignature)?;
        mac.update(body);
        mac.update(b":");
        mac.update(time.as_bytes());
        // Each value is checked in constant time (`verify_slice`); any one matching is enough,
        // so a secret being rotated can sign with both.
        let signed = signatures
            .split(',')
            .take(self.config.webhook_signatures_max)
            .filter_map(|value| value.trim().strip_prefix("v1:"))
            .filter_map(|b64| base64::engine::general_purpose::STANDARD.decode(b64).ok())
            .any(|tag| mac.clone().verify_slice(&tag).is_ok());
        if !signed {
            return Err(WebhookError::BadSignature);
        }
        self.check_time(&time, now_ms)?;
        self.notice(header, body)
    }

    /// An unsigned webhook in [`WebhookSignatures::LookupOnly`]: a hint naming a payment to look
    /// up, nothing more. A transmission time, when sent, is still checked (replays of an old
    /// notice are refused as for a signed one).
    fn unsigned(
        &self,
        header: &dyn Fn(&str) -> Option<String>,
        body: &[u8],
        now_ms: u64,
    ) -> Result<WebhookNotice, WebhookError> {
        if let Some(time) = header(picket_toss_wire::WEBHOOK_TRANSMISSION_TIME) {
            self.check_time(&time, now_ms)?;
        }
        let notice = self.notice(header, body)?;
        if notice.payment_key.is_none() && notice.order_id.is_none() {
            return Err(WebhookError::Malformed(
                "an unsigned webhook names no payment to look up".into(),
            ));
        }
        Ok(notice)
    }

    /// The transmission time parses and is within `webhook_max_age_ms` of now.
    fn check_time(&self, time: &str, now_ms: u64) -> Result<(), WebhookError> {
        let sent_ms = parse_offset_time(time).ok_or_else(|| {
            WebhookError::Malformed("the transmission time is not yyyy-MM-ddTHH:mm:ss±hh:mm".into())
        })?;
        if sent_ms.abs_diff(now_ms) > self.config.webhook_max_age_ms {
            return Err(WebhookError::Stale);
        }
        Ok(())
    }

    /// What a (verified, or lookup-only) webhook's body names.
    fn notice(
        &self,
        header: &dyn Fn(&str) -> Option<String>,
        body: &[u8],
    ) -> Result<WebhookNotice, WebhookError> {
        let event: WebhookEvent = serde_json::from_slice(body)
            .map_err(|e| WebhookError::Malformed(format!("the body: {e}")))?;
        let text = |field: &str| {
            event
                .data
                .get(field)
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        };
        Ok(WebhookNotice {
            event_type: event.event_type.as_str().to_owned(),
            payment_key: text("paymentKey"),
            order_id: text("orderId"),
            transmission_id: header(picket_toss_wire::WEBHOOK_TRANSMISSION_ID),
        })
    }
}

/// A payment key, order id or billing key that cannot be Toss's is not found, without a call.
fn check_path_value(value: &str) -> Result<(), PaymentError> {
    if value.is_empty() || value.chars().count() > PATH_VALUE_CHARS_MAX {
        return Err(PaymentError::NotFound);
    }
    Ok(())
}

/// The header value of an idempotency key: 1–300 visible ASCII characters (Toss's bound).
fn idempotency_header(key: &str) -> Result<reqwest::header::HeaderValue, PaymentError> {
    let fits = (1..=picket_toss_wire::IDEMPOTENCY_KEY_CHARS_MAX).contains(&key.len())
        && key.bytes().all(|b| b.is_ascii_graphic());
    let refused = || {
        PaymentError::Refused {
        code: "INVALID_IDEMPOTENCY_KEY".to_owned(),
        message: "멱등키는 1~300자의 보이는 ASCII 문자여야 합니다. (an idempotency key is 1 to 300 visible ASCII characters)".to_owned(),
    }
    };
    if !fits {
        return Err(refused());
    }
    reqwest::header::HeaderValue::from_str(key).map_err(|_| refused())
}

/// Percent-encodes everything but RFC 3986's unreserved characters, so a value from a client
/// (`../`, `?`, `#`) stays one path segment or one query value.
fn encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// A transport failure: a timeout leaves the outcome unknown; anything else never reached Toss
/// or lost its answer, so a retry with the same idempotency key is safe.
fn transport_error(error: reqwest::Error) -> PaymentError {
    if error.is_timeout() {
        return PaymentError::Timeout;
    }
    let error = error.without_url();
    if error.is_decode() || error.is_body() {
        return PaymentError::Protocol(format!("the answer: {error}"));
    }
    PaymentError::Unavailable {
        code: "CONNECTION".to_owned(),
        message: format!("결제사에 연결할 수 없습니다. (cannot reach the provider: {error})"),
    }
}

fn state(status: &PaymentStatus) -> PaymentState {
    match status {
        PaymentStatus::Ready => PaymentState::Ready,
        PaymentStatus::InProgress => PaymentState::InProgress,
        PaymentStatus::WaitingForDeposit => PaymentState::WaitingForDeposit,
        PaymentStatus::Done => PaymentState::Done,
        PaymentStatus::Canceled => PaymentState::Canceled,
        PaymentStatus::PartialCanceled => PaymentState::PartialCanceled,
        PaymentStatus::Aborted => PaymentState::Aborted,
        PaymentStatus::Expired => PaymentState::Expired,
        PaymentStatus::Unknown(other) => PaymentState::Other(other.clone()),
    }
}

fn time_ms(field: &str, text: &str) -> Result<u64, PaymentError> {
    parse_offset_time(text)
        .ok_or_else(|| PaymentError::Protocol(format!("{field} is not a Toss time: {text:?}")))
}

/// Picket's record of a Toss Payment. Amounts are won, so another currency is not read.
pub fn payment_record(payment: Payment) -> Result<PaymentRecord, PaymentError> {
    if payment.currency != "KRW" {
        return Err(PaymentError::Protocol(format!(
            "a payment in {}, not KRW",
            payment.currency
        )));
    }
    if payment.balance_amount > payment.total_amount {
        return Err(PaymentError::Protocol(
            "a balance over the payment's total".to_owned(),
        ));
    }
    let approved_at_ms = payment
        .approved_at
        .as_deref()
        .map(|at| time_ms("approvedAt", at))
        .transpose()?;
    let cancels = payment
        .cancels
        .unwrap_or_default()
        .into_iter()
        .map(|cancel| {
            Ok(CancelRecord {
                canceled_at_ms: Some(time_ms("canceledAt", &cancel.canceled_at)?),
                transaction_key: cancel.transaction_key,
                amount_won: cancel.cancel_amount,
                reason: cancel.cancel_reason,
            })
        })
        .collect::<Result<Vec<_>, PaymentError>>()?;
    Ok(PaymentRecord {
        state: state(&payment.status),
        payment_key: payment.payment_key,
        order_id: payment.order_id,
        total_won: payment.total_amount,
        balance_won: payment.balance_amount,
        approved_at_ms,
        cancels,
    })
}

fn transaction_record(transaction: Transaction) -> Result<TransactionRecord, PaymentError> {
    if transaction.currency != "KRW" {
        return Err(PaymentError::Protocol(format!(
            "a transaction in {}, not KRW",
            transaction.currency
        )));
    }
    Ok(TransactionRecord {
        at_ms: time_ms("transactionAt", &transaction.transaction_at)?,
        state: state(&transaction.status),
        payment_key: transaction.payment_key,
        order_id: transaction.order_id,
        transaction_key: transaction.transaction_key,
        amount_won: transaction.amount,
    })
}

impl PaymentProvider for TossProvider {
    fn confirm<'a>(
        &'a self,
        payment_key: &'a str,
        order_id: &'a str,
        amount_won: u64,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, PaymentRecord> {
        Box::pin(self.confirm_payment(payment_key, order_id, amount_won, idempotency_key))
    }

    fn payment<'a>(&'a self, payment_key: &'a str) -> ProviderFuture<'a, PaymentRecord> {
        Box::pin(async move {
            check_path_value(payment_key)?;
            self.get_payment(&format!("/v1/payments/{}", encode(payment_key)))
                .await
        })
    }

    fn payment_by_order<'a>(&'a self, order_id: &'a str) -> ProviderFuture<'a, PaymentRecord> {
        Box::pin(async move {
            check_path_value(order_id)?;
            self.get_payment(&format!("/v1/payments/orders/{}", encode(order_id)))
                .await
        })
    }

    fn cancel<'a>(
        &'a self,
        payment_key: &'a str,
        amount_won: Option<u64>,
        reason: &'a str,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, PaymentRecord> {
        Box::pin(async move {
            check_path_value(payment_key)?;
            let request = CancelRequest {
                cancel_reason: reason.to_owned(),
                cancel_amount: amount_won,
                refundable_amount: None,
            };
            let payment: Payment = self
                .call(
                    reqwest::Method::POST,
                    &format!("/v1/payments/{}/cancel", encode(payment_key)),
                    Some(&request),
                    Some(idempotency_key),
                    self.config.request_timeout_ms,
                )
                .await?;
            payment_record(payment)
        })
    }

    fn issue_billing_key<'a>(
        &'a self,
        auth_key: &'a str,
        customer_key: &'a str,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, BillingKey> {
        Box::pin(async move {
            let request = BillingIssueRequest {
                auth_key: auth_key.to_owned(),
                customer_key: customer_key.to_owned(),
            };
            let billing: picket_toss_wire::Billing = self
                .call(
                    reqwest::Method::POST,
                    "/v1/billing/authorizations/issue",
                    Some(&request),
                    Some(idempotency_key),
                    self.config.request_timeout_ms,
                )
                .await?;
            Ok(BillingKey {
                billing_key: billing.billing_key,
                customer_key: billing.customer_key,
                card_number_masked: billing.card.and_then(|card| card.number),
            })
        })
    }

    fn charge_billing_key<'a>(
        &'a self,
        charge: &'a BillingCharge,
    ) -> ProviderFuture<'a, PaymentRecord> {
        Box::pin(async move {
            check_path_value(&charge.billing_key)?;
            let request = BillingChargeRequest {
                customer_key: charge.customer_key.clone(),
                amount: charge.amount_won,
                order_id: charge.order_id.clone(),
                order_name: charge.order_name.clone(),
                customer_email: None,
                customer_name: None,
                tax_free_amount: None,
            };
            let payment: Payment = self
                .call(
                    reqwest::Method::POST,
                    &format!("/v1/billing/{}", encode(&charge.billing_key)),
                    Some(&request),
                    Some(&charge.idempotency_key),
                    self.config.charge_timeout_ms,
                )
                .await?;
            let record = payment_record(payment)?;
            if record.order_id != charge.order_id || record.total_won != charge.amount_won {
                return Err(PaymentError::Protocol(
                    "the charge is of another order or amount".to_owned(),
                ));
            }
            Ok(record)
        })
    }

    fn transactions<'a>(
        &'a self,
        from_ms: u64,
        to_ms: u64,
    ) -> ProviderFuture<'a, Vec<TransactionRecord>> {
        Box::pin(self.list_transactions(from_ms, to_ms))
    }

    fn verify_webhook(
        &self,
        header: &dyn Fn(&str) -> Option<String>,
        body: &[u8],
        now_ms: u64,
    ) -> Result<WebhookNotice, WebhookError> {
        self.verify(header, body, now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "test_sk_verysecretvalue123";
    const WEBHOOK: &str = "whsec_0123456789abcdef";

    fn config() -> TossConfig {
        TossConfig::new(
            "http://127.0.0.1:9",
            SECRET,
            "test_ck_clientvalue456",
            WEBHOOK,
        )
    }

    #[test]
    fn debug_output_hides_every_key() {
        let config = config();
        let shown = format!("{config:?}");
        for secret in [SECRET, "test_ck_clientvalue456", WEBHOOK] {
            assert!(!shown.contains(secret), "{shown}");
        }
        assert!(shown.contains("127.0.0.1:9"));
        let provider = TossProvider::new(config).expect("usable");
        let shown = format!("{provider:?}");
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{SECRET}:"));
        assert!(
            !shown.contains(SECRET) && !shown.contains(&token),
            "{shown}"
        );
    }

    #[test]
    fn bad_settings_are_listed_without_their_keys() {
        let mut config = config();
        config.base_url = "api.tosspayments.com".into();
        config.webhook_secret = "tiny_whsec".into();
        config.transactions_page_size = 0;
        config.request_timeout_ms = 0;
        let error = TossProvider::new(config).expect_err("refused");
        assert_eq!(error.0.len(), 4, "{error}");
        assert!(!error.to_string().contains("tiny_whsec"));
    }

    #[test]
    fn path_values_stay_one_segment() {
        assert_eq!(encode("tgen_2024abc-_.~"), "tgen_2024abc-_.~");
        assert_eq!(encode("../billing/x?a=1#f"), "..%2Fbilling%2Fx%3Fa%3D1%23f");
        assert_eq!(encode("2022-01-01T00:00:00"), "2022-01-01T00%3A00%3A00");
        assert_eq!(encode("결"), "%EA%B2%B0");
    }

    #[test]
    fn idempotency_keys_follow_tosss_bound() {
        assert!(idempotency_header("a").is_ok());
        assert!(idempotency_header(&"k".repeat(300)).is_ok());
        for key in ["", &"k".repeat(301), "a b", "줄", "a\nb"] {
            assert!(
                matches!(idempotency_header(key), Err(PaymentError::Refused { .. })),
                "{key:?}"
            );
        }
    }

    fn signed_headers(body: &str, time: &str, secret: &str) -> impl Fn(&str) -> Option<String> {
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
        mac.update(body.as_bytes());
        mac.update(b":");
        mac.update(time.as_bytes());
        let signature = format!(
            "v1:bm90IGl0,v1:{}",
            base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
        );
        let time = time.to_owned();
        move |name: &str| match name {
            picket_toss_wire::WEBHOOK_SIGNATURE => Some(signature.clone()),
            picket_toss_wire::WEBHOOK_TRANSMISSION_TIME => Some(time.clone()),
            picket_toss_wire::WEBHOOK_TRANSMISSION_ID => Some("whtrans_1".to_owned()),
            _ => None,
        }
    }

    #[test]
    fn webhooks_are_checked_for_signature_and_age() {
        let provider = TossProvider::new(config()).expect("usable");
        let body = r#"{"eventType":"PAYMENT_STATUS_CHANGED","createdAt":"2022-01-01T00:00:00.000000","data":{"paymentKey":"pk_1","orderId":"order_1"}}"#;
        let time = "2022-01-01T00:00:00+09:00";
        let sent = parse_offset_time(time).expect("time");
        let headers = signed_headers(body, time, WEBHOOK);
        let notice = provider
            .verify_webhook(&headers, body.as_bytes(), sent + 1000)
            .expect("genuine");
        assert_eq!(notice.event_type, "PAYMENT_STATUS_CHANGED");
        assert_eq!(notice.payment_key.as_deref(), Some("pk_1"));
        assert_eq!(notice.order_id.as_deref(), Some("order_1"));
        assert_eq!(notice.transmission_id.as_deref(), Some("whtrans_1"));
        let tampered = body.replace("pk_1", "pk_2");
        assert_eq!(
            provider.verify_webhook(&headers, tampered.as_bytes(), sent),
            Err(WebhookError::BadSignature)
        );
        let forged = signed_headers(body, time, "another_secret_0123456789");
        assert_eq!(
            provider.verify_webhook(&forged, body.as_bytes(), sent),
            Err(WebhookError::BadSignature)
        );
        let max_age = provider.config().webhook_max_age_ms;
        assert_eq!(
            provider.verify_webhook(&headers, body.as_bytes(), sent + max_age + 1),
            Err(WebhookError::Stale)
        );
        assert_eq!(
            provider.verify_webhook(&headers, body.as_bytes(), sent - max_age - 1),
            Err(WebhookError::Stale)
        );
        let unparsable = signed_headers(body, "yesterday", WEBHOOK);
        assert!(matches!(
            provider.verify_webhook(&unparsable, body.as_bytes(), sent),
            Err(WebhookError::Malformed(_))
        ));
        let unsigned = |name: &str| {
            (name == picket_toss_wire::WEBHOOK_TRANSMISSION_TIME).then(|| time.to_owned())
        };
        assert_eq!(
            provider.verify_webhook(&unsigned, body.as_bytes(), sent),
            Err(WebhookError::BadSignature)
        );
        let not_json = "not json";
        let headers = signed_headers(not_json, time, WEBHOOK);
        assert!(matches!(
            provider.verify_webhook(&headers, not_json.as_bytes(), sent),
            Err(WebhookError::Malformed(_))
        ));
    }

    /// Real Toss's payment webhooks come unsigned: in `lookup_only` such a webhook is a hint
    /// naming a payment to look up, while a signature that is present but wrong is still
    /// refused, and a stale transmission time too.
    #[test]
    fn lookup_only_takes_unsigned_webhooks_as_hints_and_still_refuses_bad_signatures() {
        assert_eq!(
            "lookup_only".parse::<WebhookSignatures>(),
            Ok(WebhookSignatures::LookupOnly)
        );
        assert_eq!(
            "required".parse::<WebhookSignatures>(),
            Ok(WebhookSignatures::Required)
        );
        assert!("none".parse::<WebhookSignatures>().is_err());
        assert_eq!(config().webhook_signatures, WebhookSignatures::Required);
        let mut settings = config();
        settings.webhook_signatures = WebhookSignatures::LookupOnly;
        let provider = TossProvider::new(settings).expect("usable");
        let body = r#"{"eventType":"PAYMENT_STATUS_CHANGED","createdAt":"2022-01-01T00:00:00.000000","data":{"paymentKey":"pk_1","orderId":"order_1","status":"DONE"}}"#;
        let time = "2022-01-01T00:00:00+09:00";
        let sent = parse_offset_time(time).expect("time");
        let unsigned = |name: &str| match name {
            picket_toss_wire::WEBHOOK_TRANSMISSION_TIME => Some(time.to_owned()),
            picket_toss_wire::WEBHOOK_TRANSMISSION_ID => Some("whtrans_2".to_owned()),
            _ => None,
        };
        let notice = provider
            .verify_webhook(&unsigned, body.as_bytes(), sent)
            .expect("a hint");
        assert_eq!(notice.payment_key.as_deref(), Some("pk_1"));
        assert_eq!(notice.transmission_id.as_deref(), Some("whtrans_2"));
        let no_headers = |_: &str| None;
        assert!(
            provider
                .verify_webhook(&no_headers, body.as_bytes(), sent)
                .is_ok(),
            "Toss may send no transmission time on an unsigned event"
        );
        let max_age = provider.config().webhook_max_age_ms;
        assert_eq!(
            provider.verify_webhook(&unsigned, body.as_bytes(), sent + max_age + 1),
            Err(WebhookError::Stale)
        );
        let forged = signed_headers(body, time, "another_secret_0123456789");
        assert_eq!(
            provider.verify_webhook(&forged, body.as_bytes(), sent),
            Err(WebhookError::BadSignature),
            "a wrong signature is refused in lookup_only too"
        );
        let genuine = signed_headers(body, time, WEBHOOK);
        assert!(
            provider
                .verify_webhook(&genuine, body.as_bytes(), sent)
                .is_ok()
        );
        let names_nothing = r#"{"eventType":"PAYMENT_STATUS_CHANGED","createdAt":"2022-01-01T00:00:00.000000","data":{}}"#;
        assert!(matches!(
            provider.verify_webhook(&unsigned, names_nothing.as_bytes(), sent),
            Err(WebhookError::Malformed(_))
        ));
        assert!(matches!(
            provider.verify_webhook(&unsigned, b"not json", sent),
            Err(WebhookError::Malformed(_))
        ));
    }
}
