//! The production Toss adapter (`picket_payments::TossProvider`) against the real sandbox
//! (`picket sandbox-pay`), started in-process on loopback with a temporary data directory: the
//! adapter is tested against a server it shares nothing with but the wire types. Buyers pay
//! through the sandbox's checkout API (`POST /checkout`), as a browser would; every trait
//! method is exercised, with each test card and fault switch. Each test has its own sandbox,
//! since fault switches are global to one.

use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use picket_payments::{
    BillingCharge, PaymentError, PaymentProvider, PaymentState, TossConfig, TossProvider,
    WebhookError,
};
use picket_sandbox_pay::SandboxConfig;
use picket_tests::pay::call;

const SECRET_KEY: &str = "test_sk_adaptertests0001";
const CLIENT_KEY: &str = "test_ck_adaptertests0001";
const WEBHOOK_SECRET: &str = "whsec_adapter_tests_0001";
const ADMIN_TOKEN: &str = "admin-token-adapter-0001";
const APPROVED_CARD: &str = "4330000000000001";
const DECLINED_CARD: &str = "4330-0000-0000-0019";
const INSUFFICIENT_FUNDS_CARD: &str = "4330 0000 0000 0027";
const TIMEOUT_CARD: &str = "4330000000000035";
const SLOW_CARD: &str = "4330000000000043";
/// The longest a wait for a webhook may take before it is a failure.
const PATIENCE: Duration = Duration::from_secs(20);
/// An adapter time-out far below the sandbox's holds (the timeout card holds 60 s).
const SHORT_TIMEOUT_MS: u64 = 500;

struct Sandbox {
    address: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), picket_sandbox_pay::SandboxError>>,
}

impl Sandbox {
    async fn start(dir: &Path, webhook_urls: Vec<String>) -> Sandbox {
        let mut config = SandboxConfig::new(dir.to_path_buf());
        config.secret_key = Some(SECRET_KEY.into());
        config.client_key = Some(CLIENT_KEY.into());
        config.webhook_secret = Some(WEBHOOK_SECRET.into());
        config.admin_token = Some(ADMIN_TOKEN.into());
        config.webhook_urls = webhook_urls;
        config.webhook_poll_interval = Duration::from_millis(20);
        config.webhook_retry_schedule = vec![Duration::from_millis(50); 3];
        // Webhooks as Toss sends them (none on authorisation): these tests count them.
        config.webhook_on_authorise = false;
        config.slow_card_delay = Duration::from_millis(300);
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

    fn config(&self) -> TossConfig {
        TossConfig::new(
            format!("http://{}", self.address),
            SECRET_KEY,
            CLIENT_KEY,
            WEBHOOK_SECRET,
        )
    }

    fn provider(&self) -> TossProvider {
        TossProvider::new(self.config()).expect("usable settings")
    }

    fn provider_with(&self, tune: impl FnOnce(&mut TossConfig)) -> TossProvider {
        let mut config = self.config();
        tune(&mut config);
        TossProvider::new(config).expect("usable settings")
    }

    /// The buyer pays `amount` for `order_id` with `card` on the checkout API: the payment key
    /// the sandbox redirects to `successUrl` with.
    async fn pay(&self, order_id: &str, amount: u64, card: &str) -> String {
        let location = self
            .form(
                "/checkout",
                &[
                    ("clientKey", CLIENT_KEY),
                    ("orderId", order_id),
                    ("orderName", "공연 티켓 2매"),
                    ("amount", &amount.to_string()),
                    ("successUrl", "https://shop.example/success"),
                    ("failUrl", "https://shop.example/fail"),
                    ("cardNumber", card),
                ],
            )
            .await;
        assert!(
            location.starts_with("https://shop.example/success?"),
            "{location}"
        );
        assert_eq!(query(&location, "orderId").as_deref(), Some(order_id));
        assert_eq!(query(&location, "amount"), Some(amount.to_string()));
        query(&location, "paymentKey").expect("a payment key")
    }

    /// The buyer registers `card` for `customer_key`: the one-time auth key.
    async fn authorize_billing(&self, customer_key: &str, card: &str) -> String {
        let location = self
            .form(
                "/billing/authorize",
                &[
                    ("clientKey", CLIENT_KEY),
                    ("customerKey", customer_key),
                    ("successUrl", "https://shop.example/billing/success"),
                    ("failUrl", "https://shop.example/billing/fail"),
                    ("cardNumber", card),
                ],
            )
            .await;
        assert_eq!(
            query(&location, "customerKey").as_deref(),
            Some(customer_key)
        );
        query(&location, "authKey").expect("an auth key")
    }

    /// Posts a form; the `Location` of the `303` answer.
    async fn form(&self, path: &str, fields: &[(&str, &str)]) -> String {
        let body = fields
            .iter()
            .map(|(name, value)| format!("{}={}", percent(name), percent(value)))
            .collect::<Vec<_>>()
            .join("&");
        let (status, headers, _) = call(
            self.address,
            "POST",
            path,
            &[("Content-Type", "application/x-www-form-urlencoded")],
            &body,
        )
        .await;
        assert_eq!(status, 303, "{headers:?}");
        headers
            .into_iter()
            .find_map(|(name, value)| (name == "location").then_some(value))
            .expect("a Location")
    }

    /// Sets the fault switches (`PUT /sandbox/faults`, every switch left out is off).
    async fn faults(&self, switches: &str) {
        let auth = format!("Bearer {ADMIN_TOKEN}");
        let (status, headers, body) = call(
            self.address,
            "PUT",
            "/sandbox/faults",
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/json"),
            ],
            switches,
        )
        .await;
        assert_eq!(status, 200, "{headers:?}\n{body}");
    }

    async fn stop(mut self) {
        let _ = self.stop.take().expect("running").send(());
        self.task.await.expect("joined").expect("stopped cleanly");
    }
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn unpercent(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).expect("hex");
                out.push(u8::from_str_radix(hex, 16).expect("hex"));
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            other => {
                out.push(other);
                i += 1;
            }
        }
    }
    String::from_utf8(out).expect("UTF-8")
}

/// One query value of a URL.
fn query(url: &str, name: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (unpercent(key) == name).then(|| unpercent(value))
    })
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_millis() as u64
}

/// A fresh order id (`[A-Za-z0-9_-]{6,64}`), unique across tests and runs.
fn order_id(label: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    format!(
        "{label}_{}_{}",
        now_ms(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

#[tokio::test]
async fn confirm_checks_the_key_the_order_and_the_amount_and_replays_by_idempotency_key() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sandbox = Sandbox::start(dir.path(), Vec::new()).await;
    let toss = sandbox.provider();

    let order = order_id("confirm");
    let key = sandbox.pay(&order, 15_000, APPROVED_CARD).await;
    let other_order = order_id("other");
    let other_key = sandbox.pay(&other_order, 15_000, APPROVED_CARD).await;

    // The wrong amount, another order's key, a made-up key: each refused, nothing approved.
    assert_eq!(
        toss.confirm(&key, &order, 14_000, "confirm-wrong-amount")
            .await,
        Err(PaymentError::AmountMismatch)
    );
    assert_eq!(
        toss.confirm(&other_key, &order, 15_000, "confirm-borrowed-key")
            .await,
        Err(PaymentError::NotFound)
    );
    assert_eq!(
        toss.confirm("tgen_made_up_key", &order, 15_000, "confirm-made-up")
            .await,
        Err(PaymentError::NotFound)
    );
    assert_eq!(
        toss.confirm("../../v1/transactions", &order, 15_000, "confirm-path")
            .await,
        Err(PaymentError::NotFound)
    );
    let before = toss.payment(&key).await.expect("looked up");
    assert_eq!(before.state, PaymentState::InProgress);
    assert_eq!(before.approved_at_ms, None);

    // The right amount confirms; the record is the provider's.
    let idempotency = format!("confirm-{order}-{key}");
    let record = toss
        .confirm(&key, &order, 15_000, &idempotency)
        .await
        .expect("confirmed");
    assert_eq!(record.state, PaymentState::Done);
    assert_eq!((record.total_won, record.balance_won), (15_000, 15_000));
    assert_eq!(record.order_id, order);
    let approved_at = record.approved_at_ms.expect("approved at");
    assert!(approved_at.abs_diff(now_ms()) < 60_000, "{approved_at}");
    assert!(record.cancels.is_empty());

    // The same idempotency key replays the same answer; a new one is refused.
    let replayed = toss
        .confirm(&key, &order, 15_000, &idempotency)
        .await
        .expect("replayed");
    assert_eq!(replayed, record);
    assert_eq!(
        toss.confirm(&key, &order, 15_000, "confirm-new-key").await,
        Err(PaymentError::AlreadyProcessed)
    );

    // Lookups by key and by order agree.
    assert_eq!(toss.payment(&key).await.expect("by key"), record);
    assert_eq!(
        toss.payment_by_order(&order).await.expect("by order"),
        record
    );
    assert_eq!(
        toss.payment_by_order(&order_id("nobody")).await,
        Err(PaymentError::NotFound)
    );
    assert_eq!(
        toss.payment("no_such_payment_key").await,
        Err(PaymentError::NotFound)
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn each_test_card_and_fault_switch_becomes_its_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sandbox = Sandbox::start(dir.path(), Vec::new()).await;
    let toss = sandbox.provider();

    for (card, code) in [
        (DECLINED_CARD, "REJECT_CARD_COMPANY"),
        (INSUFFICIENT_FUNDS_CARD, "REJECT_CARD_PAYMENT"),
    ] {
        let order = order_id("card");
        let key = sandbox.pay(&order, 20_000, card).await;
        match toss
            .confirm(&key, &order, 20_000, &format!("c-{order}"))
            .await
        {
            Err(PaymentError::Declined { code: got, message }) => {
                assert_eq!(got, code);
                assert!(!message.is_empty());
            }
            other => panic!("{card}: {other:?}"),
        }
        let aborted = toss.payment(&key).await.expect("looked up");
        assert_eq!(aborted.state, PaymentState::Aborted);
    }

    // The slow card is approved within the adapter's time-out.
    let order = order_id("slow");
    let key = sandbox.pay(&order, 20_000, SLOW_CARD).await;
    let record = toss
        .confirm(&key, &order, 20_000, &format!("c-{order}"))
        .await
        .expect("slow approval");
    assert_eq!(record.state, PaymentState::Done);

    // The timeout card: approved at once, its answer held past the adapter's time-out. The
    // outcome is unknown to the caller, who looks it up.
    let impatient = sandbox.provider_with(|c| c.request_timeout_ms = SHORT_TIMEOUT_MS);
    let order = order_id("timeout");
    let key = sandbox.pay(&order, 20_000, TIMEOUT_CARD).await;
    let timed_out = impatient
        .confirm(&key, &order, 20_000, &format!("c-{order}"))
        .await;
    assert_eq!(timed_out, Err(PaymentError::Timeout));
    assert!(PaymentError::Timeout.is_retryable());
    let looked_up = toss.payment(&key).await.expect("looked up");
    assert_eq!(looked_up.state, PaymentState::Done);

    // 5xx: unavailable, retryable with the same key, and nothing changed.
    sandbox.faults(r#"{"failNextCalls": 1}"#).await;
    let order = order_id("fivexx");
    let key = sandbox.pay(&order, 20_000, APPROVED_CARD).await;
    let idempotency = format!("c-{order}");
    let failed = toss.confirm(&key, &order, 20_000, &idempotency).await;
    assert!(
        matches!(&failed, Err(PaymentError::Unavailable { code, .. }) if code == "FAILED_INTERNAL_SYSTEM_PROCESSING"),
        "{failed:?}"
    );
    assert!(failed.expect_err("failed").is_retryable());
    let retried = toss
        .confirm(&key, &order, 20_000, &idempotency)
        .await
        .expect("the retry confirms");
    assert_eq!(retried.state, PaymentState::Done);

    // The decline switch.
    sandbox.faults(r#"{"declineNextConfirms": 1}"#).await;
    let order = order_id("switch");
    let key = sandbox.pay(&order, 20_000, APPROVED_CARD).await;
    assert!(matches!(
        toss.confirm(&key, &order, 20_000, &format!("c-{order}"))
            .await,
        Err(PaymentError::Declined { .. })
    ));

    // Held answers: the change is made, the adapter times out, a lookup tells.
    sandbox.faults(r#"{"holdResponsesMs": 30000}"#).await;
    let order = order_id("held");
    let key = sandbox.pay(&order, 20_000, APPROVED_CARD).await;
    assert_eq!(
        impatient
            .confirm(&key, &order, 20_000, &format!("c-{order}"))
            .await,
        Err(PaymentError::Timeout)
    );
    sandbox.faults("{}").await;
    assert_eq!(
        toss.payment(&key).await.expect("looked up").state,
        PaymentState::Done
    );

    // Another secret key is Picket's configuration problem.
    let stranger = sandbox.provider_with(|c| c.secret_key = "test_sk_someoneelse0001".into());
    assert_eq!(
        stranger.payment(&key).await,
        Err(PaymentError::Unauthorized)
    );
    assert_eq!(
        stranger.confirm(&key, &order, 20_000, "c-stranger").await,
        Err(PaymentError::Unauthorized)
    );

    // Nobody listening: unavailable, retryable.
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("address")
    };
    let nowhere = sandbox.provider_with(|c| c.base_url = format!("http://{closed}"));
    assert!(
        nowhere
            .payment(&key)
            .await
            .expect_err("refused")
            .is_retryable()
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn cancels_are_partial_full_bounded_and_idempotent() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sandbox = Sandbox::start(dir.path(), Vec::new()).await;
    let toss = sandbox.provider();
    let order = order_id("cancel");
    let key = sandbox.pay(&order, 10_000, APPROVED_CARD).await;
    toss.confirm(&key, &order, 10_000, &format!("c-{order}"))
        .await
        .expect("confirmed");

    let refund_key = format!("refund-{order}-1");
    let partial = toss
        .cancel(&key, Some(3_000), "부분 취소 (partial)", &refund_key)
        .await
        .expect("partly canceled");
    assert_eq!(partial.state, PaymentState::PartialCanceled);
    assert_eq!(partial.balance_won, 7_000);
    assert_eq!(partial.cancels.len(), 1);
    assert_eq!(partial.cancels[0].amount_won, 3_000);
    assert_eq!(partial.cancels[0].reason, "부분 취소 (partial)");
    assert!(partial.cancels[0].canceled_at_ms.is_some());

    // The same idempotency key refunds once: the balance at the sandbox is unchanged.
    let replay = toss
        .cancel(&key, Some(3_000), "부분 취소 (partial)", &refund_key)
        .await
        .expect("replayed");
    assert_eq!(replay, partial);
    let at_sandbox = toss.payment(&key).await.expect("looked up");
    assert_eq!(at_sandbox.balance_won, 7_000);
    assert_eq!(at_sandbox.cancels.len(), 1);

    // More than is left cannot be canceled.
    assert!(matches!(
        toss.cancel(&key, Some(8_000), "너무 많이", &format!("refund-{order}-2"))
            .await,
        Err(PaymentError::NotCancelable { code, .. }) if code == "NOT_CANCELABLE_AMOUNT"
    ));
    // The rest, in full.
    let full = toss
        .cancel(&key, None, "전액 취소 (full)", &format!("refund-{order}-3"))
        .await
        .expect("canceled");
    assert_eq!(full.state, PaymentState::Canceled);
    assert_eq!(full.balance_won, 0);
    assert_eq!(
        full.cancels
            .iter()
            .map(|c| c.amount_won)
            .collect::<Vec<_>>(),
        vec![3_000, 7_000]
    );
    assert!(matches!(
        toss.cancel(&key, None, "또", &format!("refund-{order}-4"))
            .await,
        Err(PaymentError::NotCancelable { .. })
    ));
    // A payment never approved cannot be canceled; a made-up one is not found.
    let unpaid_order = order_id("unpaid");
    let unpaid = sandbox.pay(&unpaid_order, 10_000, APPROVED_CARD).await;
    assert!(matches!(
        toss.cancel(&unpaid, None, "미승인", &format!("refund-{unpaid_order}"))
            .await,
        Err(PaymentError::NotCancelable { .. })
    ));
    assert_eq!(
        toss.cancel("made_up_payment", None, "없음", "refund-made-up")
            .await,
        Err(PaymentError::NotFound)
    );

    // The listing has the approval and both cancels, with their amounts; small pages give the
    // same, and a bound on pages is an error, not a silent cut.
    let from = now_ms() - 120_000;
    let to = now_ms() + 1_000;
    let listed = toss.transactions(from, to).await.expect("listed");
    let mine: Vec<_> = listed.iter().filter(|t| t.payment_key == key).collect();
    assert_eq!(
        mine.iter().map(|t| t.amount_won).collect::<Vec<_>>(),
        vec![10_000, 3_000, 7_000]
    );
    assert_eq!(
        mine.iter().map(|t| t.state.clone()).collect::<Vec<_>>(),
        vec![
            PaymentState::Done,
            PaymentState::PartialCanceled,
            PaymentState::Canceled
        ]
    );
    assert!(mine.iter().all(|t| t.order_id == order));
    let paged = sandbox.provider_with(|c| c.transactions_page_size = 1);
    assert_eq!(paged.transactions(from, to).await.expect("paged"), listed);
    let bounded = sandbox.provider_with(|c| {
        c.transactions_page_size = 1;
        c.transactions_pages_max = 2;
    });
    assert!(matches!(
        bounded.transactions(from, to).await,
        Err(PaymentError::Protocol(_))
    ));
    assert_eq!(
        toss.transactions(from - 3_600_000, from - 1).await,
        Ok(Vec::new())
    );
    sandbox.stop().await;
}

#[tokio::test]
async fn billing_keys_are_issued_and_charged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sandbox = Sandbox::start(dir.path(), Vec::new()).await;
    let toss = sandbox.provider();
    let customer = "buyer-7f3a.waitlist";
    let auth_key = sandbox.authorize_billing(customer, APPROVED_CARD).await;
    let billing = toss
        .issue_billing_key(&auth_key, customer, &format!("issue-{auth_key}"))
        .await
        .expect("issued");
    assert_eq!(billing.customer_key, customer);
    assert!(!billing.billing_key.is_empty());
    assert!(
        billing
            .card_number_masked
            .as_deref()
            .is_some_and(|n| n.contains('*')),
        "{billing:?}"
    );
    // The auth key is spent.
    assert_eq!(
        toss.issue_billing_key(&auth_key, customer, "issue-again")
            .await,
        Err(PaymentError::NotFound)
    );

    let charge = BillingCharge {
        billing_key: billing.billing_key.clone(),
        customer_key: customer.to_owned(),
        order_id: order_id("autopay"),
        order_name: "취소표 자동 결제".to_owned(),
        amount_won: 55_000,
        idempotency_key: "charge-1".to_owned(),
    };
    let paid = toss.charge_billing_key(&charge).await.expect("charged");
    assert_eq!(paid.state, PaymentState::Done);
    assert_eq!((paid.total_won, paid.balance_won), (55_000, 55_000));
    assert_eq!(paid.order_id, charge.order_id);
    assert_eq!(
        toss.charge_billing_key(&charge).await.expect("replayed"),
        paid
    );

    let stranger = BillingCharge {
        customer_key: "someone-else.1".to_owned(),
        order_id: order_id("autopay"),
        idempotency_key: "charge-2".to_owned(),
        ..charge.clone()
    };
    assert!(matches!(
        toss.charge_billing_key(&stranger).await,
        Err(PaymentError::Refused { code, .. }) if code == "NOT_MATCHES_CUSTOMER_KEY"
    ));
    let unknown = BillingCharge {
        billing_key: "no_such_billing_key".to_owned(),
        order_id: order_id("autopay"),
        idempotency_key: "charge-3".to_owned(),
        ..charge.clone()
    };
    assert_eq!(
        toss.charge_billing_key(&unknown).await,
        Err(PaymentError::NotFound)
    );

    // A declining card declines its charges.
    let declining = "buyer-9c1e.waitlist";
    let auth_key = sandbox.authorize_billing(declining, DECLINED_CARD).await;
    let billing = toss
        .issue_billing_key(&auth_key, declining, &format!("issue-{auth_key}"))
        .await
        .expect("issued");
    let declined = BillingCharge {
        billing_key: billing.billing_key,
        customer_key: declining.to_owned(),
        order_id: order_id("autopay"),
        order_name: "취소표 자동 결제".to_owned(),
        amount_won: 55_000,
        idempotency_key: "charge-4".to_owned(),
    };
    assert!(matches!(
        toss.charge_billing_key(&declined).await,
        Err(PaymentError::Declined { .. })
    ));
    sandbox.stop().await;
}

/// A webhook as the receiver got it.
struct Delivery {
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Delivery {
    fn header(&self) -> impl Fn(&str) -> Option<String> + '_ {
        move |name: &str| {
            self.headers
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.clone())
        }
    }
}

/// A tiny loopback receiver that answers 200 and hands each delivery to the test.
async fn webhook_receiver() -> (String, tokio::sync::mpsc::UnboundedReceiver<Delivery>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/webhooks/toss",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let tx = tx.clone();
                async move {
                    let headers = headers
                        .iter()
                        .filter_map(|(n, v)| Some((n.to_string(), v.to_str().ok()?.to_owned())))
                        .collect();
                    let _ = tx.send(Delivery {
                        headers,
                        body: body.to_vec(),
                    });
                    "ok"
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{address}/webhooks/toss"), rx)
}

#[tokio::test]
async fn a_real_webhook_verifies_and_a_tampered_stale_or_foreign_one_does_not() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (url, mut deliveries) = webhook_receiver().await;
    let sandbox = Sandbox::start(dir.path(), vec![url]).await;
    let toss = sandbox.provider();
    let order = order_id("webhook");
    let key = sandbox.pay(&order, 12_000, APPROVED_CARD).await;
    toss.confirm(&key, &order, 12_000, &format!("c-{order}"))
        .await
        .expect("confirmed");
    let delivery = tokio::time::timeout(PATIENCE, deliveries.recv())
        .await
        .expect("a webhook in time")
        .expect("the receiver runs");

    let now = now_ms();
    let notice = toss
        .verify_webhook(&delivery.header(), &delivery.body, now)
        .expect("genuine");
    assert_eq!(notice.event_type, "PAYMENT_STATUS_CHANGED");
    assert_eq!(notice.payment_key.as_deref(), Some(key.as_str()));
    assert_eq!(notice.order_id.as_deref(), Some(order.as_str()));
    assert!(
        notice
            .transmission_id
            .as_deref()
            .is_some_and(|id| id.starts_with("whtrans_")),
        "{notice:?}"
    );

    let mut tampered = delivery.body.clone();
    let text = String::from_utf8(tampered.clone()).expect("UTF-8");
    tampered = text.replace("12000", "1200").into_bytes();
    assert_ne!(tampered, delivery.body);
    assert_eq!(
        toss.verify_webhook(&delivery.header(), &tampered, now),
        Err(WebhookError::BadSignature)
    );
    let foreign = sandbox.provider_with(|c| c.webhook_secret = "whsec_someone_else_0001".into());
    assert_eq!(
        foreign.verify_webhook(&delivery.header(), &delivery.body, now),
        Err(WebhookError::BadSignature)
    );
    let max_age = toss.config().webhook_max_age_ms;
    assert_eq!(
        toss.verify_webhook(&delivery.header(), &delivery.body, now + max_age + 60_000),
        Err(WebhookError::Stale)
    );
    let unsigned = |name: &str| {
        if name.eq_ignore_ascii_case("tosspayments-webhook-signature") {
            None
        } else {
            delivery.header()(name)
        }
    };
    assert_eq!(
        toss.verify_webhook(&unsigned, &delivery.body, now),
        Err(WebhookError::BadSignature)
    );
    sandbox.stop().await;
}
