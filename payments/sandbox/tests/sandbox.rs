//! The sandbox as a client sees it: real HTTP on loopback, a temporary data directory, a
//! webhook receiver of the test's own. Signatures are checked with the test's own HMAC.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine;
use hmac::{Hmac, Mac};
use picket_sandbox_pay::SandboxConfig;
use serde_json::{Value, json};

const SECRET_KEY: &str = "test_sk_sandboxtests0001";
const CLIENT_KEY: &str = "test_ck_sandboxtests0001";
const WEBHOOK_SECRET: &str = "whsec_sandbox_tests_0001";
const ADMIN_TOKEN: &str = "admin-token-for-tests-0001";
/// The longest any wait in these tests may take before it is a failure.
const PATIENCE: Duration = Duration::from_secs(20);

struct Sandbox {
    address: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), picket_sandbox_pay::SandboxError>>,
}

impl Sandbox {
    async fn start(dir: &Path, tune: impl FnOnce(&mut SandboxConfig)) -> Sandbox {
        let mut config = SandboxConfig::new(dir.to_path_buf());
        config.secret_key = Some(SECRET_KEY.into());
        config.client_key = Some(CLIENT_KEY.into());
        config.webhook_secret = Some(WEBHOOK_SECRET.into());
        config.admin_token = Some(ADMIN_TOKEN.into());
        config.webhook_poll_interval = Duration::from_millis(20);
        config.webhook_retry_schedule = vec![Duration::from_millis(50); 3];
        // Webhooks as Toss sends them (none on authorisation): these tests count them.
        config.webhook_on_authorise = false;
        tune(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(picket_sandbox_pay::run_on(config, listener, async move {
            let _ = stopped.await;
        }));
        Sandbox {
            address,
            stop: Some(stop),
            task,
        }
    }

    async fn stop(mut self) {
        let _ = self.stop.take().expect("running").send(());
        self.task.await.expect("joined").expect("stopped cleanly");
    }
}

struct Answer {
    status: u16,
    headers: HashMap<String, String>,
    body: String,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    fn code(&self) -> String {
        self.json()["code"].as_str().unwrap_or_default().to_owned()
    }
}

/// One HTTP/1.1 request (no keep-alive).
async fn call(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: sandbox\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let response = String::from_utf8_lossy(&response).to_string();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_lowercase(), v.trim().to_owned()))
        .collect();
    Answer {
        status,
        headers,
        body: body.to_owned(),
    }
}

fn basic(key: &str) -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{key}:"))
    )
}

/// A `/v1` call with the secret key and, if given, an idempotency key.
async fn api(
    address: SocketAddr,
    method: &str,
    path: &str,
    idempotency_key: Option<&str>,
    body: &Value,
) -> Answer {
    let auth = basic(SECRET_KEY);
    let mut headers = vec![
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
    ];
    if let Some(key) = idempotency_key {
        headers.push(("Idempotency-Key", key));
    }
    let body = if body.is_null() {
        String::new()
    } else {
        body.to_string()
    };
    call(address, method, path, &headers, &body).await
}

/// A form body.
fn form(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(n, v)| format!("{}={}", encode(n), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The query pairs of a redirect's `Location`.
fn location_query(answer: &Answer) -> HashMap<String, String> {
    let location = answer.headers.get("location").expect("a redirect");
    let query = location.split_once('?').map(|(_, q)| q).unwrap_or_default();
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(n, v)| (n.to_owned(), decode(v)))
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.replace('+', " ").into_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("hex");
            out.push(u8::from_str_radix(hex, 16).expect("hex digit"));
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("utf-8")
}

/// The buyer pays at the checkout page with `card`: the redirect's answer.
async fn pay(address: SocketAddr, order_id: &str, amount: u64, card: &str) -> Answer {
    let amount = amount.to_string();
    let body = form(&[
        ("clientKey", CLIENT_KEY),
        ("orderId", order_id),
        ("orderName", "뮤지컬 티켓 2매"),
        ("amount", &amount),
        ("successUrl", "https://shop.example/pay/success"),
        ("failUrl", "https://shop.example/pay/fail"),
        ("cardNumber", card),
    ]);
    call(
        address,
        "POST",
        "/checkout",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &body,
    )
    .await
}

/// Pays with the approving card: the payment key.
async fn authorised(address: SocketAddr, order_id: &str, amount: u64) -> String {
    let answer = pay(address, order_id, amount, "4330 0000 0000 0001").await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    let query = location_query(&answer);
    assert!(answer.headers["location"].starts_with("https://shop.example/pay/success?"));
    assert_eq!(query["orderId"], order_id);
    assert_eq!(query["amount"], amount.to_string());
    assert_eq!(query["paymentType"], "NORMAL");
    query["paymentKey"].clone()
}

async fn confirm(
    address: SocketAddr,
    payment_key: &str,
    order_id: &str,
    amount: u64,
    key: Option<&str>,
) -> Answer {
    let body = json!({"paymentKey": payment_key, "orderId": order_id, "amount": amount});
    api(address, "POST", "/v1/payments/confirm", key, &body).await
}

async fn set_faults(address: SocketAddr, faults: Value) {
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let answer = call(
        address,
        "PUT",
        "/sandbox/faults",
        &[("Authorization", &auth)],
        &faults.to_string(),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

/// Polls until the payment has `status`.
async fn wait_status(address: SocketAddr, payment_key: &str, status: &str) -> Value {
    let start = Instant::now();
    loop {
        let answer = api(
            address,
            "GET",
            &format!("/v1/payments/{payment_key}"),
            None,
            &Value::Null,
        )
        .await;
        if answer.json()["status"] == status {
            return answer.json();
        }
        assert!(
            start.elapsed() < PATIENCE,
            "payment never became {status}: {}",
            answer.body
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// One webhook as received.
#[derive(Clone, Debug)]
struct Received {
    headers: HashMap<String, String>,
    body: String,
    at: Instant,
}

/// A webhook receiver that answers 500 to its first `fail_first` deliveries.
struct Receiver {
    url: String,
    seen: Arc<Mutex<Vec<Received>>>,
    /// While false, every delivery is answered 500.
    accepting: Arc<std::sync::atomic::AtomicBool>,
}

impl Receiver {
    async fn start(fail_first: usize) -> Receiver {
        use axum::http::{HeaderMap, StatusCode};
        let seen: Arc<Mutex<Vec<Received>>> = Arc::default();
        let accepting = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let recorded = seen.clone();
        let open = accepting.clone();
        let app = axum::Router::new().route(
            "/hooks/toss",
            axum::routing::post(move |headers: HeaderMap, body: String| {
                let recorded = recorded.clone();
                let open = open.clone();
                async move {
                    let mut seen = recorded.lock().expect("lock");
                    let headers = headers
                        .iter()
                        .map(|(n, v)| {
                            (
                                n.as_str().to_owned(),
                                v.to_str().unwrap_or_default().to_owned(),
                            )
                        })
                        .collect();
                    seen.push(Received {
                        headers,
                        body,
                        at: Instant::now(),
                    });
                    if seen.len() <= fail_first || !open.load(std::sync::atomic::Ordering::SeqCst) {
                        StatusCode::INTERNAL_SERVER_ERROR
                    } else {
                        StatusCode::OK
                    }
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!(
            "http://{}/hooks/toss",
            listener.local_addr().expect("address")
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        Receiver {
            url,
            seen,
            accepting,
        }
    }

    fn accept(&self, accepting: bool) {
        self.accepting
            .store(accepting, std::sync::atomic::Ordering::SeqCst);
    }

    /// Waits until at least `count` deliveries arrived: them.
    async fn wait(&self, count: usize) -> Vec<Received> {
        let start = Instant::now();
        loop {
            let seen = self.seen.lock().expect("lock").clone();
            if seen.len() >= count {
                return seen;
            }
            assert!(
                start.elapsed() < PATIENCE,
                "only {} of {count} webhooks arrived",
                seen.len()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

fn expected_signature(body: &str, time: &str) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(WEBHOOK_SECRET.as_bytes()).expect("key");
    mac.update(format!("{body}:{time}").as_bytes());
    format!(
        "v1:{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

#[tokio::test]
async fn a_paid_order_is_confirmed_and_found_by_key_order_and_listing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = Sandbox::start(dir.path(), |_| {}).await;
    let address = sandbox.address;
    let key = authorised(address, "order-happy-1", 15_000).await;
    let before = api(
        address,
        "GET",
        &format!("/v1/payments/{key}"),
        None,
        &Value::Null,
    )
    .await;
    assert_eq!(before.json()["status"], "IN_PROGRESS");
    let answer = confirm(address, &key, "order-happy-1", 15_000, None).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let payment = answer.json();
    assert_eq!(payment["status"], "DONE");
    assert_eq!(payment["totalAmount"], 15_000);
    assert_eq!(payment["balanceAmount"], 15_000);
    assert_eq!(payment["method"], "카드");
    assert_eq!(payment["type"], "NORMAL");
    assert_eq!(payment["cancels"], Value::Null);
    assert!(
        payment["approvedAt"]
            .as_str()
            .is_some_and(|t| t.ends_with("+09:00"))
    );
    let decoded: picket_toss_wire::Payment =
        serde_json::from_str(&answer.body).expect("a wire Payment");
    assert_eq!(
        decoded.card.and_then(|c| c.number).as_deref(),
        Some("43300000****000*")
    );
    let by_order = api(
        address,
        "GET",
        "/v1/payments/orders/order-happy-1",
        None,
        &Value::Null,
    )
    .await;
    assert_eq!(by_order.json()["paymentKey"], key.as_str());
    assert_eq!(by_order.json()["status"], "DONE");
    let listing = api(
        address,
        "GET",
        "/v1/transactions?startDate=2000-01-01T00:00:00&endDate=2999-12-31T23:59:59",
        None,
        &Value::Null,
    )
    .await;
    assert_eq!(listing.status, 200, "{}", listing.body);
    let listed: Vec<picket_toss_wire::Transaction> =
        serde_json::from_str(&listing.body).expect("transactions");
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].amount, listed[0].order_id.as_str()),
        (15_000, "order-happy-1")
    );
    let page = api(
        address,
        "GET",
        &format!(
            "/v1/transactions?startDate=2000-01-01&endDate=2999-12-31&startingAfter={}",
            listed[0].transaction_key
        ),
        None,
        &Value::Null,
    )
    .await;
    assert_eq!(page.body, "[]");
    sandbox.stop().await;
}

#[tokio::test]
async fn a_changed_amount_another_orders_key_a_made_up_key_and_a_replay_are_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = Sandbox::start(dir.path(), |_| {}).await;
    let address = sandbox.address;
    let key = authorised(address, "order-guard-1", 20_000).await;
    let other = authorised(address, "order-guard-2", 20_000).await;
    let changed = confirm(address, &key, "order-guard-1", 100, None).await;
    assert_eq!(
        (changed.status, changed.code()),
        (400, "INVALID_REQUEST".into()),
        "{}",
        changed.body
    );
    let crossed = confirm(address, &other, "order-guard-1", 20_000, None).await;
    assert_eq!(
        (crossed.status, crossed.code()),
        (404, "NOT_FOUND_PAYMENT".into())
    );
    let made_up = confirm(
        address,
        "madeUpPaymentKey123",
        "order-guard-1",
        20_000,
        None,
    )
    .await;
    assert_eq!(
        (made_up.status, made_up.code()),
        (404, "NOT_FOUND_PAYMENT".into())
    );
    // Refusals left the payment confirmable.
    let done = confirm(address, &key, "order-guard-1", 20_000, None).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let replayed = confirm(
        address,
        &key,
        "order-guard-1",
        20_000,
        Some("a-new-key-each-time"),
    )
    .await;
    assert_eq!(
        (replayed.status, replayed.code()),
        (400, "ALREADY_PROCESSED_PAYMENT".into())
    );
    let again = pay(address, "order-guard-1", 20_000, "4330000000000001").await;
    assert_eq!(location_query(&again)["code"], "DUPLICATED_ORDER_ID");
    sandbox.stop().await;
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_answer_and_refuses_while_in_flight() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = Sandbox::start(dir.path(), |_| {}).await;
    let address = sandbox.address;
    let key = authorised(address, "order-idem-1", 5_000).await;
    let first = confirm(address, &key, "order-idem-1", 5_000, Some("idem-1")).await;
    assert_eq!(first.status, 200);
    let second = confirm(address, &key, "order-idem-1", 5_000, Some("idem-1")).await;
    assert_eq!(
        (second.status, &second.body),
        (200, &first.body),
        "replayed, not ALREADY_PROCESSED"
    );
    let long_key = "k".repeat(301);
    let too_long = confirm(address, &key, "order-idem-1", 5_000, Some(&long_key)).await;
    assert_eq!(
        (too_long.status, too_long.code()),
        (400, "INVALID_IDEMPOTENCY_KEY".into())
    );
    // The same key on another path is another request.
    let cancel = api(
        address,
        "POST",
        &format!("/v1/payments/{key}/cancel"),
        Some("idem-1"),
        &json!({"cancelReason": "테스트"}),
    )
    .await;
    assert_eq!(cancel.json()["status"], "CANCELED", "{}", cancel.body);

    // In flight: the answer is held after the payment is approved.
    set_faults(address, json!({"holdResponsesMs": 600_000})).await;
    let held_key = authorised(address, "order-idem-2", 5_000).await;
    let held = tokio::spawn({
        let held_key = held_key.clone();
        async move { confirm(address, &held_key, "order-idem-2", 5_000, Some("idem-2")).await }
    });
    wait_status(address, &held_key, "DONE").await;
    let busy = confirm(address, &held_key, "order-idem-2", 5_000, Some("idem-2")).await;
    assert_eq!(
        (busy.status, busy.code()),
        (409, "IDEMPOTENT_REQUEST_PROCESSING".into())
    );
    sandbox.stop().await;
    // Stopping cut the hold short: the first request got its answer.
    assert_eq!(held.await.expect("joined").json()["status"], "DONE");
}

#[tokio::test]
async fn partial_and_full_cancels_keep_the_balance_and_over_cancel_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = Sandbox::start(dir.path(), |_| {}).await;
    let address = sandbox.address;
    let key = authorised(address, "order-cancel-1", 10_000).await;
    assert_eq!(
        confirm(address, &key, "order-cancel-1", 10_000, None)
            .await
            .status,
        200
    );
    let path = format!("/v1/payments/{key}/cancel");
    let partial = api(
        address,
        "POST",
        &path,
        Some("c1"),
        &json!({"cancelReason": "1매 취소", "cancelAmount": 3_000}),
    )
    .await;
    assert_eq!(partial.status, 200, "{}", partial.body);
    let payment = partial.json();
    assert_eq!(
        (
            payment["status"].as_str(),
            payment["balanceAmount"].as_u64()
        ),
        (Some("PARTIAL_CANCELED"), Some(7_000))
    );
    assert_eq!(payment["cancels"][0]["cancelAmount"], 3_000);
    assert_eq!(payment["cancels"][0]["refundableAmount"], 7_000);
    let over = api(
        address,
        "POST",
        &path,
        Some("c2"),
        &json!({"cancelReason": "초과", "cancelAmount": 7_001}),
    )
    .await;
    assert_eq!(
        (over.status, over.code()),
        (403, "NOT_CANCELABLE_AMOUNT".into())
    );
    let rest = api(
        address,
        "POST",
        &path,
        Some("c3"),
        &json!({"cancelReason": "전체 취소"}),
    )
    .await;
    let payment = rest.json();
    assert_eq!(
        (
            payment["status"].as_str(),
            payment["balanceAmount"].as_u64()
        ),
        (Some("CANCELED"), Some(0))
    );
    assert_eq!(payment["cancels"].as_array().map(Vec::len), Some(2));
    let twice = api(
        address,
        "POST",
        &path,
        Some("c4"),
        &json!({"cancelReason": "또"}),
    )
    .await;
    assert_eq!(
        (twice.status, twice.code()),
        (400, "ALREADY_CANCELED_PAYMENT".into())
    );
    let no_reason = api(
        address,
        "POST",
        &path,
        Some("c5"),
        &json!({"cancelAmount": 1}),
    )
    .await;
    assert_eq!(
        (no_reason.status, no_reason.code()),
        (400, "INVALID_REQUEST".into())
    );
    let listing = api(
        address,
        "GET",
        "/v1/transactions?startDate=2000-01-01&endDate=2999-12-31&limit=10",
        None,
        &Value::Null,
    )
    .await;
    let listed: Vec<picket_toss_wire::Transaction> =
        serde_json::from_str(&listing.body).expect("transactions");
    let amounts: Vec<u64> = listed.iter().map(|t| t.amount).collect();
    assert_eq!(amounts, vec![10_000, 3_000, 7_000]);
    sandbox.stop().await;
}

#[tokio::test]
async fn a_restart_forgets_no_payment_idempotency_record_or_pending_webhook() {
    let dir = tempfile::tempdir().expect("tempdir");
    let receiver = Receiver::start(0).await;
    receiver.accept(false);
    let url = receiver.url.clone();
    let tune = move |c: &mut SandboxConfig| {
        c.webhook_urls = vec![url.clone()];
        c.webhook_retry_schedule = vec![Duration::from_millis(100); 20];
    };
    let sandbox = Sandbox::start(dir.path(), tune.clone()).await;
    let key = authorised(sandbox.address, "order-restart-1", 8_000).await;
    let first = confirm(
        sandbox.address,
        &key,
        "order-restart-1",
        8_000,
        Some("restart-key"),
    )
    .await;
    assert_eq!(first.status, 200);
    let refused = receiver.wait(1).await;
    sandbox.stop().await;
    // Everything seen so far was refused (500).
    let refused_count = receiver.seen.lock().expect("lock").len();
    receiver.accept(true);
    let sandbox = Sandbox::start(dir.path(), tune).await;
    let found = api(
        sandbox.address,
        "GET",
        &format!("/v1/payments/{key}"),
        None,
        &Value::Null,
    )
    .await;
    assert_eq!(found.json()["status"], "DONE");
    let replay = confirm(
        sandbox.address,
        &key,
        "order-restart-1",
        8_000,
        Some("restart-key"),
    )
    .await;
    assert_eq!((replay.status, &replay.body), (200, &first.body));
    // The webhook refused before the restart is delivered after it, as the same transmission.
    let id = &refused[0].headers["tosspayments-webhook-transmission-id"];
    let start = Instant::now();
    loop {
        let seen = receiver.seen.lock().expect("lock").clone();
        let last = seen.last().expect("deliveries");
        if seen.len() > refused_count && last.headers["tosspayments-webhook-transmission-id"] == *id
        {
            let retried: u32 = last.headers["tosspayments-webhook-transmission-retried-count"]
                .parse()
                .expect("count");
            if retried >= 1 {
                break;
            }
        }
        assert!(
            start.elapsed() < PATIENCE,
            "the pending webhook was not delivered after the restart"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    sandbox.stop().await;
}

#[tokio::test]
async fn webhooks_are_signed_and_retried_after_a_failure() {
    let dir = tempfile::tempdir().expect("tempdir");
    let receiver = Receiver::start(1).await;
    let url = receiver.url.clone();
    let sandbox = Sandbox::start(dir.path(), |c| c.webhook_urls = vec![url]).await;
    let key = authorised(sandbox.address, "order-hook-1", 12_000).await;
    assert_eq!(
        confirm(sandbox.address, &key, "order-hook-1", 12_000, None)
            .await
            .status,
        200
    );
    let seen = receiver.wait(2).await;
    let (failed, retried) = (&seen[0], &seen[1]);
    assert_eq!(
        failed.headers["tosspayments-webhook-transmission-retried-count"],
        "0"
    );
    assert_eq!(
        retried.headers["tosspayments-webhook-transmission-retried-count"],
        "1"
    );
    let id = &retried.headers["tosspayments-webhook-transmission-id"];
    assert!(id.starts_with("whtrans_"));
    assert_eq!(&failed.headers["tosspayments-webhook-transmission-id"], id);
    for delivery in [failed, retried] {
        let time = &delivery.headers["tosspayments-webhook-transmission-time"];
        assert_eq!(
            delivery.headers["tosspayments-webhook-signature"],
            expected_signature(&delivery.body, time)
        );
    }
    let event: picket_toss_wire::WebhookEvent<picket_toss_wire::Payment> =
        serde_json::from_str(&retried.body).expect("a webhook event");
    assert_eq!(
        event.event_type,
        picket_toss_wire::EventType::PaymentStatusChanged
    );
    assert_eq!(event.data.status, picket_toss_wire::PaymentStatus::Done);
    assert_eq!(event.data.payment_key, key);
    // Canceling announces CANCELED.
    api(
        sandbox.address,
        "POST",
        &format!("/v1/payments/{key}/cancel"),
        None,
        &json!({"cancelReason": "환불"}),
    )
    .await;
    let seen = receiver.wait(3).await;
    let event: Value = serde_json::from_str(&seen[2].body).expect("json");
    assert_eq!(event["data"]["status"], "CANCELED");
    sandbox.stop().await;
}

#[tokio::test]
async fn webhook_switches_duplicate_delay_and_lose_events() {
    let dir = tempfile::tempdir().expect("tempdir");
    let receiver = Receiver::start(0).await;
    let url = receiver.url.clone();
    let sandbox = Sandbox::start(dir.path(), |c| c.webhook_urls = vec![url]).await;
    let address = sandbox.address;

    set_faults(address, json!({"dropWebhooks": true})).await;
    let lost = authorised(address, "order-lost-1", 1_000).await;
    assert_eq!(
        confirm(address, &lost, "order-lost-1", 1_000, None)
            .await
            .status,
        200
    );
    set_faults(address, json!({"duplicateWebhooks": true})).await;
    let twice = authorised(address, "order-twice-1", 1_000).await;
    assert_eq!(
        confirm(address, &twice, "order-twice-1", 1_000, None)
            .await
            .status,
        200
    );
    let seen = receiver.wait(2).await;
    // The outbox is read in order: the lost event would have come first.
    for delivery in &seen {
        assert!(
            delivery.body.contains(&twice),
            "only the duplicated event arrives"
        );
    }
    assert_eq!(
        seen[0].headers["tosspayments-webhook-transmission-id"],
        seen[1].headers["tosspayments-webhook-transmission-id"]
    );

    set_faults(address, json!({"webhookDelayMs": 300})).await;
    let late = authorised(address, "order-late-1", 1_000).await;
    let confirmed_at = Instant::now();
    assert_eq!(
        confirm(address, &late, "order-late-1", 1_000, None)
            .await
            .status,
        200
    );
    let seen = receiver.wait(3).await;
    assert!(seen[2].body.contains(&late));
    assert!(
        seen[2].at.duration_since(confirmed_at) >= Duration::from_millis(300),
        "delivered no earlier than the delay"
    );
    let auth = format!("Bearer {ADMIN_TOKEN}");
    let read = call(
        address,
        "GET",
        "/sandbox/faults",
        &[("Authorization", &auth)],
        "",
    )
    .await;
    assert_eq!(read.json()["webhookDelayMs"], 300);
    assert_eq!(read.json()["dropWebhooks"], false);
    sandbox.stop().await;
}

#[tokio::test]
async fn each_test_card_does_what_docs_say() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = Sandbox::start(dir.path(), |c| {
        c.timeout_card_hold = Duration::from_secs(600);
        c.slow_card_delay = Duration::from_millis(200);
    })
    .await;
    let address = sandbox.address;
    for (order, card, code) in [
        (
            "order-card-decline",
            "4330000000000019",
            "REJECT_CARD_COMPANY",
        ),
        (
            "order-card-broke",
            "4330000000000027",
            "REJECT_CARD_PAYMENT",
        ),
    ] {
        let paid = pay(address, order, 3_000, card).await;
        let key = location_query(&paid)["paymentKey"].clone();
        let answer = confirm(address, &key, order, 3_000, None).await;
        assert_eq!(
            (answer.status, answer.code()),
            (403, code.to_owned()),
            "{}",
            answer.body
        );
        let payment = api(
            address,
            "GET",
            &format!("/v1/payments/{key}"),
            None,
            &Value::Null,
        )
        .await
        .json();
        assert_eq!(payment["status"], "ABORTED");
        assert_eq!(payment["failure"]["code"], code);
        // A declined order may be paid again with another card.
        let retry = authorised(address, order, 3_000).await;
        assert_eq!(
            confirm(address, &retry, order, 3_000, None).await.status,
            200
        );
    }
    let bad = pay(address, "order-card-bad", 3_000, "1234").await;
    assert_eq!(
        bad.headers["location"].split('?').next(),
        Some("https://shop.example/pay/fail")
    );
    assert_eq!(location_query(&bad)["code"], "INVALID_CARD_NUMBER");
    assert_eq!(location_query(&bad)["orderId"], "order-card-bad");

    let slow_paid = pay(address, "order-card-slow", 3_000, "4330-0000-0000-0043").await;
    let slow_key = location_query(&slow_paid)["paymentKey"].clone();
    let started = Instant::now();
    let slow = confirm(address, &slow_key, "order-card-slow", 3_000, None).await;
    assert_eq!(slow.json()["status"], "DONE");
    assert!(
        started.elapsed() >= Duration::from_millis(200),
        "approved no earlier than the delay"
    );

    let timeout_paid = pay(address, "order-card-timeout", 3_000, "4330000000000035").await;
    let timeout_key = location_query(&timeout_paid)["paymentKey"].clone();
    let hanging = tokio::spawn({
        let key = timeout_key.clone();
        async move { confirm(address, &key, "order-card-timeout", 3_000, None).await }
    });
    // Approved at the provider while the answer never comes: the client must look it up.
    wait_status(address, &timeout_key, "DONE").await;
    assert!(!hanging.is_finished(), "the confirm is still unanswered");
    hanging.abort();
    sandbox.stop().await;
}

#[tokio::test]
async fn a_confirm_after_its_window_finds_the_payment_expired() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = Sandbox::start(dir.path(), |c| c.confirm_window = Duration::ZERO).await;
    let key = authorised(sandbox.address, "order-late-9", 4_000).await;
    let answer = confirm(sandbox.address, &key, "order-late-9", 4_000, None).await;
    assert_eq!(
        (answer.status, answer.code()),
        (404, "NOT_FOUND_PAYMENT_SESSION".into())
    );
    let payment = api(
        sandbox.address,
        "GET",
        &format!("/v1/payments/{key}"),
        None,
        &Value::Null,
    )
    .await
    .json();
    assert_eq!(payment["status"], "EXPIRED");
    assert_eq!(payment["failure"]["code"], "EXPIRED_PAYMENT");
    sandbox.stop().await;
}

#[tokio::test]
async fn bad_auth_is_refused_with_tosss_codes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = Sandbox::start(dir.path(), |_| {}).await;
    let address = sandbox.address;
    let path = "/v1/payments/someKey123";
    let missing = call(address, "GET", path, &[], "").await;
    assert_eq!(
        (missing.status, missing.code()),
        (401, "UNAUTHORIZED_KEY".into())
    );
    let wrong = basic("test_sk_wrongwrongwrong");
    let wrong = call(address, "GET", path, &[("Authorization", &wrong)], "").await;
    assert_eq!(
        (wrong.status, wrong.code()),
        (401, "UNAUTHORIZED_KEY".into())
    );
    let no_colon = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(SECRET_KEY)
    );
    let no_colon = call(address, "GET", path, &[("Authorization", &no_colon)], "").await;
    assert_eq!(
        (no_colon.status, no_colon.code()),
        (403, "INCORRECT_BASIC_AUTH_FORMAT".into())
    );
    let garbage = call(address, "GET", path, &[("Authorization", "Basic %%%")], "").await;
    assert_eq!(
        (garbage.status, garbage.code()),
        (403, "INCORRECT_BASIC_AUTH_FORMAT".into())
    );
    let bearer = call(address, "GET", path, &[("Authorization", "Bearer x")], "").await;
    assert_eq!(bearer.code(), "INCORRECT_BASIC_AUTH_FORMAT");
    let faults = call(
        address,
        "GET",
        "/sandbox/faults",
        &[("Authorization", "Bearer nope")],
        "",
    )
    .await;
    assert_eq!(faults.status, 401);
    assert!(!missing.body.contains(SECRET_KEY) && !wrong.body.contains("wrongwrong"));
    sandbox.stop().await;
}

#[tokio::test]
async fn forced_errors_5xx_and_declines_come_from_the_switches_and_the_test_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = Sandbox::start(dir.path(), |_| {}).await;
    let address = sandbox.address;
    let key = authorised(address, "order-fault-1", 2_000).await;
    let auth = basic(SECRET_KEY);
    let body = json!({"paymentKey": key, "orderId": "order-fault-1", "amount": 2_000}).to_string();
    let forced = call(
        address,
        "POST",
        "/v1/payments/confirm",
        &[
            ("Authorization", &auth),
            ("TossPayments-Test-Code", "PROVIDER_ERROR"),
        ],
        &body,
    )
    .await;
    assert_eq!(
        (forced.status, forced.code()),
        (400, "PROVIDER_ERROR".into())
    );
    set_faults(address, json!({"failNextCalls": 1})).await;
    let failed = confirm(address, &key, "order-fault-1", 2_000, Some("fault-key")).await;
    assert_eq!(
        (failed.status, failed.code()),
        (500, "FAILED_INTERNAL_SYSTEM_PROCESSING".into())
    );
    // A 5xx is not recorded: the same key runs again.
    let retried = confirm(address, &key, "order-fault-1", 2_000, Some("fault-key")).await;
    assert_eq!(retried.json()["status"], "DONE", "{}", retried.body);
    set_faults(address, json!({"declineNextConfirms": 1})).await;
    let declined_key = authorised(address, "order-fault-2", 2_000).await;
    let declined = confirm(address, &declined_key, "order-fault-2", 2_000, None).await;
    assert_eq!(
        (declined.status, declined.code()),
        (403, "REJECT_CARD_COMPANY".into())
    );
    let admin = format!("Bearer {ADMIN_TOKEN}");
    let typo = call(
        address,
        "PUT",
        "/sandbox/faults",
        &[("Authorization", &admin)],
        r#"{"dropWebhook":true}"#,
    )
    .await;
    assert_eq!((typo.status, typo.code()), (400, "INVALID_REQUEST".into()));
    let too_long = call(
        address,
        "PUT",
        "/sandbox/faults",
        &[("Authorization", &admin)],
        r#"{"holdResponsesMs":99999999999}"#,
    )
    .await;
    assert_eq!(too_long.status, 400);
    sandbox.stop().await;
}

#[tokio::test]
async fn a_billing_key_is_issued_once_and_charged_for_its_customer() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = Sandbox::start(dir.path(), |_| {}).await;
    let address = sandbox.address;
    let page = call(
        address,
        "GET",
        &format!("/billing/authorize?clientKey={CLIENT_KEY}&customerKey=cust-0001&successUrl=https%3A%2F%2Fshop.example%2Fok&failUrl=https%3A%2F%2Fshop.example%2Ffail"),
        &[],
        "",
    )
    .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("자동결제"));
    let body = form(&[
        ("clientKey", CLIENT_KEY),
        ("customerKey", "cust-0001"),
        ("successUrl", "https://shop.example/ok"),
        ("failUrl", "https://shop.example/fail"),
        ("cardNumber", "4330000000000001"),
    ]);
    let registered = call(
        address,
        "POST",
        "/billing/authorize",
        &[("Content-Type", "application/x-www-form-urlencoded")],
        &body,
    )
    .await;
    assert_eq!(registered.status, 303);
    let query = location_query(&registered);
    assert_eq!(query["customerKey"], "cust-0001");
    let auth_key = query["authKey"].clone();
    let wrong_customer = api(
        address,
        "POST",
        "/v1/billing/authorizations/issue",
        None,
        &json!({"authKey": auth_key, "customerKey": "cust-0002"}),
    )
    .await;
    assert_eq!(wrong_customer.code(), "NOT_MATCHES_CUSTOMER_KEY");
    let issued = api(
        address,
        "POST",
        "/v1/billing/authorizations/issue",
        None,
        &json!({"authKey": auth_key, "customerKey": "cust-0001"}),
    )
    .await;
    assert_eq!(issued.status, 200, "{}", issued.body);
    let billing: picket_toss_wire::Billing = serde_json::from_str(&issued.body).expect("a Billing");
    let reused = api(
        address,
        "POST",
        "/v1/billing/authorizations/issue",
        None,
        &json!({"authKey": auth_key, "customerKey": "cust-0001"}),
    )
    .await;
    assert_eq!((reused.status, reused.code()), (404, "NOT_FOUND".into()));
    let path = format!("/v1/billing/{}", billing.billing_key);
    let charge = json!({"customerKey": "cust-0001", "amount": 4_900, "orderId": "order-bill-1", "orderName": "취소표 자동결제"});
    let charged = api(address, "POST", &path, Some("bill-1"), &charge).await;
    assert_eq!(charged.status, 200, "{}", charged.body);
    assert_eq!(
        (
            charged.json()["type"].as_str(),
            charged.json()["status"].as_str()
        ),
        (Some("BILLING"), Some("DONE"))
    );
    let again = api(address, "POST", &path, Some("bill-2"), &charge).await;
    assert_eq!(again.code(), "DUPLICATED_ORDER_ID");
    let other = json!({"customerKey": "cust-0009", "amount": 4_900, "orderId": "order-bill-2", "orderName": "x"});
    assert_eq!(
        api(address, "POST", &path, None, &other).await.code(),
        "NOT_MATCHES_CUSTOMER_KEY"
    );
    let unknown = api(
        address,
        "POST",
        "/v1/billing/noSuchBillingKey",
        None,
        &charge,
    )
    .await;
    assert_eq!(
        (unknown.status, unknown.code()),
        (404, "NOT_FOUND_BILLING".into())
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn bad_input_gets_tosss_error_shape_and_never_a_crash() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = Sandbox::start(dir.path(), |c| c.body_bytes_max = 1024).await;
    let address = sandbox.address;
    let evil = call(
        address,
        "GET",
        &format!("/checkout?clientKey={CLIENT_KEY}&orderId=order-evil-1&orderName=x&amount=1000&successUrl=javascript%3Aalert(1)&failUrl=https%3A%2F%2Fh%2Ff"),
        &[],
        "",
    )
    .await;
    assert_eq!(evil.status, 400);
    assert!(!evil.body.contains("javascript:alert"), "{}", evil.body);
    let xss = call(
        address,
        "GET",
        &format!("/checkout?clientKey={CLIENT_KEY}&orderId=order-xss-1&orderName=%3Cscript%3Ealert(1)%3C%2Fscript%3E&amount=1000&successUrl=https%3A%2F%2Fh%2Fs&failUrl=https%3A%2F%2Fh%2Ff"),
        &[],
        "",
    )
    .await;
    assert_eq!(xss.status, 200);
    assert!(
        xss.body.contains("결제하기") && !xss.body.contains("<script>alert"),
        "{}",
        xss.body
    );
    let wrong_client = call(
        address,
        "GET",
        "/checkout?clientKey=test_ck_other&orderId=order-1234",
        &[],
        "",
    )
    .await;
    assert_eq!(wrong_client.status, 401);
    let cheap = pay(address, "order-cheap-1", 99, "4330000000000001").await;
    assert_eq!(location_query(&cheap)["code"], "BELOW_MINIMUM_AMOUNT");
    let bad_order = pay(address, "bad order id!", 1_000, "4330000000000001").await;
    assert_eq!(location_query(&bad_order)["code"], "INVALID_REQUEST");
    let huge = api(
        address,
        "POST",
        "/v1/payments/confirm",
        None,
        &json!({"paymentKey": "x".repeat(4096)}),
    )
    .await;
    assert_eq!((huge.status, huge.code()), (413, "INVALID_REQUEST".into()));
    let auth = basic(SECRET_KEY);
    for body in [
        "",
        "{",
        "[]",
        r#"{"paymentKey":"k","orderId":"order-1","amount":-5}"#,
        r#"{"paymentKey":"","orderId":"order-1","amount":5}"#,
    ] {
        let answer = call(
            address,
            "POST",
            "/v1/payments/confirm",
            &[("Authorization", &auth)],
            body,
        )
        .await;
        assert_eq!(
            (answer.status, answer.code()),
            (400, "INVALID_REQUEST".into()),
            "{body}"
        );
    }
    let unknown = call(address, "GET", "/v2/whatever", &[], "").await;
    assert_eq!((unknown.status, unknown.code()), (404, "NOT_FOUND".into()));
    let wrong_method = call(
        address,
        "DELETE",
        "/v1/payments/confirm",
        &[("Authorization", &auth)],
        "",
    )
    .await;
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.code(), "INVALID_REQUEST");
    let bad_dates = api(
        address,
        "GET",
        "/v1/transactions?startDate=yesterday&endDate=2999-01-01",
        None,
        &Value::Null,
    )
    .await;
    assert_eq!(bad_dates.code(), "INVALID_REQUEST");
    let health = call(address, "GET", "/healthz", &[], "").await;
    assert_eq!(health.json()["healthy"], true);
    sandbox.stop().await;
}

/// A seeded stream of pseudo-random numbers (xorshift), so a failure reproduces.
struct Noise(u64);

impl Noise {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

#[tokio::test]
async fn random_requests_never_get_a_5xx() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = Sandbox::start(dir.path(), |c| c.body_bytes_max = 2048).await;
    let address = sandbox.address;
    let key = authorised(address, "order-noise-1", 9_000).await;
    let auth = basic(SECRET_KEY);
    let paths = [
        "/v1/payments/confirm".to_owned(),
        format!("/v1/payments/{key}"),
        format!("/v1/payments/{key}/cancel"),
        "/v1/payments/orders/order-noise-1".to_owned(),
        "/v1/payments/%FF%FE/cancel".to_owned(),
        "/v1/billing/authorizations/issue".to_owned(),
        "/v1/billing/someBillingKey".to_owned(),
        "/v1/transactions?startDate=2000-01-01&endDate=2999-01-01&limit=0".to_owned(),
        "/checkout?clientKey=x&amount=-1".to_owned(),
        "/checkout".to_owned(),
        "/billing/authorize".to_owned(),
        "/sandbox/faults".to_owned(),
    ];
    let fragments = [
        "{",
        "}",
        "[",
        "]",
        "\"paymentKey\":",
        "\"orderId\":\"order-noise-1\"",
        "\"amount\":",
        "9000",
        "-1",
        "1e400",
        "18446744073709551616",
        "\"cancelReason\":\"x\"",
        "\"cancelAmount\":",
        "null",
        ",",
        "\"\u{0000}\"",
        "true",
        "clientKey=test_ck_sandboxtests0001&",
        "cardNumber=4330&",
        "successUrl=javascript:x&",
        "%ZZ",
        "\u{FEFF}",
        "\"authKey\":\"",
        "\"customerKey\":\"c\"",
    ];
    let methods = ["GET", "POST", "PUT", "DELETE", "PATCH"];
    let mut noise = Noise(0x5eed_1234_abcd_0001);
    for round in 0..400 {
        let path = &paths[(noise.next() % paths.len() as u64) as usize];
        let method = noise.pick(&methods);
        let pieces = noise.next() % 12;
        let body: String = (0..pieces).map(|_| noise.pick(&fragments)).collect();
        let idempotency = "k".repeat((noise.next() % 320) as usize);
        let mut headers = vec![("Idempotency-Key", idempotency.as_str())];
        if !noise.next().is_multiple_of(4) {
            headers.push(("Authorization", auth.as_str()));
        }
        if noise.next().is_multiple_of(3) {
            headers.push(("Content-Type", "application/x-www-form-urlencoded"));
        }
        let answer = call(address, method, path, &headers, &body).await;
        assert!(
            (200..500).contains(&answer.status),
            "round {round}: {method} {path} {body:?} → {} {}",
            answer.status,
            answer.body
        );
        if path.starts_with("/v1") && answer.status >= 400 {
            assert!(
                !answer.code().is_empty(),
                "round {round}: not Toss-shaped: {}",
                answer.body
            );
        }
    }
    let health = call(address, "GET", "/healthz", &[], "").await;
    assert_eq!(health.json()["healthy"], true);
    sandbox.stop().await;
}

#[tokio::test]
async fn an_order_paid_twice_at_checkout_is_approved_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sandbox = Sandbox::start(dir.path(), |_| {}).await;
    let address = sandbox.address;
    let first = authorised(address, "order-twice-9", 6_000).await;
    let second = authorised(address, "order-twice-9", 6_000).await;
    assert_ne!(first, second);
    assert_eq!(
        confirm(address, &second, "order-twice-9", 6_000, None)
            .await
            .status,
        200
    );
    let again = confirm(address, &first, "order-twice-9", 6_000, None).await;
    assert_eq!(
        (again.status, again.code()),
        (400, "DUPLICATED_ORDER_ID".into()),
        "{}",
        again.body
    );
    let first_now = api(
        address,
        "GET",
        &format!("/v1/payments/{first}"),
        None,
        &Value::Null,
    )
    .await;
    assert_eq!(first_now.json()["status"], "IN_PROGRESS");
    sandbox.stop().await;
}

#[tokio::test]
async fn keys_made_on_first_start_are_kept_and_a_broken_key_file_stops_the_start() {
    let dir = tempfile::tempdir().expect("tempdir");
    let start = |dir: std::path::PathBuf| async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(picket_sandbox_pay::run_on(
            SandboxConfig::new(dir),
            listener,
            async move {
                let _ = stopped.await;
            },
        ));
        (address, stop, task)
    };
    let (address, stop, task) = start(dir.path().to_path_buf()).await;
    // Answered once it serves, after the keys are in place.
    assert_eq!(call(address, "GET", "/healthz", &[], "").await.status, 200);
    let secret = std::fs::read_to_string(dir.path().join("secret-key")).expect("made");
    assert!(secret.starts_with("test_sk_"));
    let found = call(
        address,
        "GET",
        "/v1/payments/none-such-key",
        &[("Authorization", &basic(&secret))],
        "",
    )
    .await;
    assert_eq!(found.code(), "NOT_FOUND_PAYMENT");
    let _ = stop.send(());
    task.await.expect("joined").expect("stopped");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("secret-key")).expect("kept"),
        secret
    );

    std::fs::write(dir.path().join("client-key"), "live_ck_notAllowedHere").expect("write");
    let (_, _stop, task) = start(dir.path().to_path_buf()).await;
    let error = task.await.expect("joined").expect_err("refused");
    assert!(error.to_string().contains("client key"), "{error}");
    assert!(!error.to_string().contains("notAllowedHere"), "{error}");
}
