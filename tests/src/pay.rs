//! The payment sandbox in the test process, reached through the production adapter
//! (`TossProvider`), and a buyer's side of it: pay an order at the sandbox's checkout as an
//! app's page would, and switch the sandbox's faults.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use picket_payments::{TossConfig, TossProvider};
use picket_sandbox_pay::SandboxConfig;
use serde_json::Value;

pub const SECRET_KEY: &str = "test_sk_pickettests00001";
pub const CLIENT_KEY: &str = "test_ck_pickettests00001";
pub const WEBHOOK_SECRET: &str = "whsec_picket_tests_00001";
pub const ADMIN_TOKEN: &str = "admin-token-for-picket-tests";

/// Where the app sends buyers back to, unless a test names its own success URL.
const APP_SUCCESS_URL: &str = "https://app.example/paid";
const APP_FAIL_URL: &str = "https://app.example/failed";

/// Test cards of the sandbox (docs/payments.md).
pub const CARD_OK: &str = "4330000000000001";
pub const CARD_DECLINED: &str = "4330000000000019";

/// Turns off the sandbox's webhook on authorisation (its extension): webhooks as Toss sends
/// them.
pub fn toss_webhooks_only(config: &mut SandboxConfig) {
    config.webhook_on_authorise = false;
}

/// An order paid at the sandbox, as its checkout named it: what the app then confirms.
#[derive(Clone, Debug)]
pub struct Paid {
    pub order_id: String,
    pub order_name: String,
    pub amount_won: u64,
    pub payment_key: String,
}

/// A payment sandbox as buyers' browsers and the tests reach it, at `address`: its checkout
/// page, and its fault switches. The in-process [`Sandbox`] is one (through `Deref`), and so is
/// a `picket sandbox-pay` process (`crate::deploy::SandboxPay`).
pub struct Checkout {
    pub address: SocketAddr,
}

/// A sandbox on a free loopback port with a temporary data directory.
pub struct Sandbox {
    checkout: Checkout,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<Result<(), picket_sandbox_pay::SandboxError>>,
    _dir: tempfile::TempDir,
}

impl Sandbox {
    /// Starts a sandbox sending webhooks to `webhook_urls` (quick retries, for tests), as Toss
    /// sends them: none on authorisation, so a test decides when the app confirms.
    pub async fn start(webhook_urls: Vec<String>) -> Sandbox {
        Self::start_with(webhook_urls, toss_webhooks_only).await
    }

    /// [`Sandbox::start`] with `configure` applied to its settings last.
    pub async fn start_with(
        webhook_urls: Vec<String>,
        configure: impl FnOnce(&mut SandboxConfig),
    ) -> Sandbox {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = SandboxConfig::new(dir.path().to_path_buf());
        config.secret_key = Some(SECRET_KEY.into());
        config.client_key = Some(CLIENT_KEY.into());
        config.webhook_secret = Some(WEBHOOK_SECRET.into());
        config.admin_token = Some(ADMIN_TOKEN.into());
        config.webhook_urls = webhook_urls;
        config.webhook_poll_interval = Duration::from_millis(20);
        config.webhook_retry_schedule = vec![Duration::from_millis(50); 3];
        configure(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(picket_sandbox_pay::run_on(config, listener, async move {
            let _ = stopped.await;
        }));
        Sandbox {
            checkout: Checkout { address },
            stop: Some(stop),
            task,
            _dir: dir,
        }
    }

    /// The production adapter, pointed at this sandbox.
    pub fn provider(&self) -> Arc<TossProvider> {
        self.provider_with(|_| {})
    }

    /// [`Sandbox::provider`] with `configure` applied to the adapter's settings.
    pub fn provider_with(&self, configure: impl FnOnce(&mut TossConfig)) -> Arc<TossProvider> {
        let mut config = TossConfig::new(self.base_url(), SECRET_KEY, CLIENT_KEY, WEBHOOK_SECRET);
        configure(&mut config);
        Arc::new(TossProvider::new(config).expect("adapter settings"))
    }

    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

impl std::ops::Deref for Sandbox {
    type Target = Checkout;

    fn deref(&self) -> &Checkout {
        &self.checkout
    }
}

impl Checkout {
    pub fn base_url(&self) -> String {
        format!("http://{}", self.address)
    }

    pub fn checkout_url(&self) -> String {
        format!("{}/checkout", self.base_url())
    }

    /// The buyer pays `amount_won` for `order_id` with `card` at the checkout page: the
    /// payment key on success, the failure code otherwise.
    pub async fn pay(
        &self,
        order_id: &str,
        order_name: &str,
        amount_won: u64,
        card: &str,
    ) -> Result<String, String> {
        let location = self
            .pay_to(order_id, order_name, amount_won, card, APP_SUCCESS_URL)
            .await;
        let field = |name: &str| query_value(&location, name);
        match field("paymentKey") {
            Some(key) if location.starts_with(APP_SUCCESS_URL) => Ok(key),
            _ => Err(field("code").unwrap_or_default()),
        }
    }

    /// What an app does with a `checkout` answer (the socket's or the API's): pays the order's
    /// amount at the checkout page with `card`. `Err`: the sandbox's refusal code. (The
    /// harness's socket client adds the `confirm`: `gateway::Client::pay`.)
    pub async fn pay_checkout(&self, checkout: &Value, card: &str) -> Result<Paid, String> {
        assert!(
            checkout["order_id"].is_string(),
            "not a checkout: {checkout}"
        );
        let text = |field: &str| checkout[field].as_str().expect(field).to_owned();
        let (order_id, order_name) = (text("order_id"), text("order_name"));
        let amount_won = checkout["amount_won"].as_u64().expect("amount");
        let payment_key = self.pay(&order_id, &order_name, amount_won, card).await?;
        Ok(Paid {
            order_id,
            order_name,
            amount_won,
            payment_key,
        })
    }

    /// The buyer pays at the checkout page, which was opened with `success_url`: where the
    /// page sends the browser (`success_url` with the payment appended, or the fail URL).
    pub async fn pay_to(
        &self,
        order_id: &str,
        order_name: &str,
        amount_won: u64,
        card: &str,
        success_url: &str,
    ) -> String {
        let form = [
            ("clientKey", CLIENT_KEY),
            ("orderId", order_id),
            ("orderName", order_name),
            ("amount", &amount_won.to_string()),
            ("successUrl", success_url),
            ("failUrl", APP_FAIL_URL),
            ("cardNumber", card),
        ]
        .iter()
        .map(|(name, value)| format!("{name}={}", form_encode(value)))
        .collect::<Vec<_>>()
        .join("&");
        let (status, headers, _) = call(
            self.address,
            "POST",
            "/checkout",
            &[("Content-Type", "application/x-www-form-urlencoded")],
            &form,
        )
        .await;
        assert_eq!(status, 303, "the checkout redirects");
        headers
            .into_iter()
            .find(|(name, _)| name == "location")
            .map(|(_, value)| value)
            .expect("a Location")
    }

    /// Replaces the fault switches (`/sandbox/faults`).
    pub async fn faults(&self, switches: &Value) {
        let (status, _, body) = call(
            self.address,
            "PUT",
            "/sandbox/faults",
            &[
                ("Authorization", &format!("Bearer {ADMIN_TOKEN}")),
                ("Content-Type", "application/json"),
            ],
            &switches.to_string(),
        )
        .await;
        assert_eq!(status, 200, "{body}");
    }
}

/// `application/x-www-form-urlencoded` of one value.
fn form_encode(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(byte as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// One query value of `url`, as sent (the sandbox's values need no decoding).
pub fn query_value(url: &str, name: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
}

/// One HTTP/1.1 request (no keep-alive): status, lower-cased headers, body.
pub async fn call(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Vec<(String, String)>, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n",
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
    (status, headers, body.to_owned())
}
