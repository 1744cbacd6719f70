//! Gateways in the test process, and a WebSocket client that speaks protocol v2.
//!
//! [`Cluster`] starts one ledger (SQLite in a temp dir) and any number of gateways on free
//! loopback ports, sharing one queue store (Redis from the harness, or in memory) and one token
//! key ring, as separate gateway processes sharing Redis and a ledger would. Each gateway serves
//! the HTTP API beside the WebSocket, as `picket up` does (the operator's sale routes are the
//! API's), all on one API database, and confirm payments with one payment sandbox through the
//! Toss adapter ([`crate::pay`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use picket_edge::token::{Key, KeyRing};
use picket_gateway::{Gateway, GatewayConfig, QueueStore};
use picket_ledger::{LedgerConfig, LedgerService, StoreUrl};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub const OPERATOR_TOKEN: &str = "test-operator-token";

/// A fixed ring, so every gateway of a cluster verifies every other's tokens.
pub fn test_keys() -> KeyRing {
    KeyRing::new(vec![Key::new("t1", vec![7; 32]).expect("key")]).expect("ring")
}

pub struct Cluster {
    pub ledger: LedgerService,
    /// The HTTP API every gateway serves (operator token [`OPERATOR_TOKEN`]).
    pub api: Arc<picket_api::Api>,
    pub gateways: Vec<(Arc<Gateway>, SocketAddr)>,
    /// The payment sandbox every gateway confirms payments with, through the Toss adapter.
    pub sandbox: crate::pay::Sandbox,
    servers: Vec<tokio::task::JoinHandle<()>>,
    stops: Vec<tokio::sync::oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
}

impl Cluster {
    /// A ledger and `count` gateways configured by `configure`, sharing `store`.
    pub async fn start(
        count: usize,
        store: Arc<dyn QueueStore>,
        configure: impl Fn(&mut GatewayConfig),
    ) -> Cluster {
        Self::start_with_ledger(count, store, configure, |_| {}).await
    }

    /// [`Cluster::start`] with `configure_ledger` applied to the ledger's configuration (say,
    /// another partition, whose ids are past 2^53).
    pub async fn start_with_ledger(
        count: usize,
        store: Arc<dyn QueueStore>,
        configure: impl Fn(&mut GatewayConfig),
        configure_ledger: impl FnOnce(&mut LedgerConfig),
    ) -> Cluster {
        Self::start_configured(
            count,
            store,
            configure,
            configure_ledger,
            crate::pay::toss_webhooks_only,
            |_| {},
        )
        .await
    }

    /// [`Cluster::start_with_ledger`] with `configure_sandbox` applied to the payment
    /// sandbox's settings and `configure_provider` to the Toss adapter's the API and the
    /// gateways pay through.
    pub async fn start_configured(
        count: usize,
        store: Arc<dyn QueueStore>,
        configure: impl Fn(&mut GatewayConfig),
        configure_ledger: impl FnOnce(&mut LedgerConfig),
        configure_sandbox: impl FnOnce(&mut picket_sandbox_pay::SandboxConfig),
        configure_provider: impl FnOnce(&mut picket_payments::TossConfig),
    ) -> Cluster {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut registry = prometheus_client::registry::Registry::default();
        let mut ledger_config =
            LedgerConfig::new(StoreUrl::Sqlite(dir.path().join("ledger.sqlite")));
        configure_ledger(&mut ledger_config);
        let ledger = LedgerService::start(&ledger_config, &mut registry)
            .await
            .expect("ledger");
        let api_store = picket_api::store::Store::connect(&format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("api.sqlite").display()
        ))
        .await
        .expect("api store");
        let api = picket_api::Api::new(
            api_store,
            test_keys(),
            OPERATOR_TOKEN.into(),
            Some(picket_ledger_client::LedgerClient::in_process(
                ledger.handle.clone(),
            )),
            Some(store.clone()),
            picket_api::ApiConfig {
                media_dir: dir.path().join("media"),
                ..picket_api::ApiConfig::default()
            },
        );
        // The first gateway's port is known before the sandbox starts, so its webhooks reach
        // that gateway's API (`/api/v2/payments/webhook`), as `picket up` wires them.
        let mut first_listener = Some(
            tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind"),
        );
        let first_address = first_listener
            .as_ref()
            .map(|l| l.local_addr().expect("addr"))
            .expect("bound");
        let sandbox = crate::pay::Sandbox::start_with(
            vec![format!("http://{first_address}/api/v2/payments/webhook")],
            configure_sandbox,
        )
        .await;
        let flow = Arc::new(picket_payments::Flow::new(
            sandbox.provider_with(configure_provider),
            picket_ledger_client::LedgerClient::in_process(ledger.handle.clone()),
            crate::pay::CLIENT_KEY.into(),
            sandbox.checkout_url(),
        ));
        api.set_payments(flow.clone());
        let mut cluster = Cluster {
            ledger,
            api,
            sandbox,
            gateways: Vec::new(),
            servers: Vec::new(),
            stops: Vec::new(),
            _dir: dir,
        };
        for index in 0..count {
            let mut config = GatewayConfig::new(format!("gw-{index}"));
            configure(&mut config);
            let mut registry = prometheus_client::registry::Registry::default();
            let gateway = Gateway::start(
                config,
                test_keys(),
                store.clone(),
                picket_ledger_client::LedgerClient::in_process(cluster.ledger.handle.clone()),
                &mut registry,
            );
            gateway.serve_metrics(Arc::new(registry), OPERATOR_TOKEN);
            gateway.set_payments(flow.clone());
            gateway.set_dashboards(picket_api::dashboard::source(cluster.api.clone()));
            let listener = match first_listener.take() {
                Some(listener) => listener,
                None => tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind"),
            };
            let address = listener.local_addr().expect("addr");
            let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
            let served = gateway.clone();
            let routes = picket_api::router(cluster.api.clone());
            cluster.servers.push(tokio::spawn(async move {
                let shutdown = async move {
                    let _ = stopped.await;
                };
                if let Err(error) =
                    picket_gateway::run_with(served, listener, routes, shutdown).await
                {
                    eprintln!("gateway stopped: {error}");
                }
            }));
            cluster.stops.push(stop);
            cluster.gateways.push((gateway, address));
        }
        cluster
    }

    pub fn address(&self, index: usize) -> SocketAddr {
        self.gateways[index].1
    }

    /// Drains gateway `index` (clients are told to reconnect) and waits for it to stop.
    pub async fn stop_gateway(&mut self, index: usize) {
        let (stop, _) = tokio::sync::oneshot::channel();
        let stop = std::mem::replace(&mut self.stops[index], stop);
        let _ = stop.send(());
        let (done, _) = (tokio::spawn(async {}), ());
        let server = std::mem::replace(&mut self.servers[index], done);
        let _ = server.await;
    }

    /// Opens a performance in the ledger.
    pub async fn open(&self, spec: picket_ledger_core::PerformanceSpec) {
        let request = picket_ledger_core::Request {
            actor: picket_ledger_core::ActorId(0),
            key: picket_ledger_core::IdempotencyKey::new(format!("open-{}", spec.performance))
                .expect("key"),
            command: picket_ledger_core::Command::OpenPerformance(Box::new(spec)),
        };
        let outcome = self.ledger.handle.submit(request).await.expect("ledger");
        assert!(outcome.is_ok(), "{outcome:?}");
    }
}

/// A simple performance: `seats` seats in one grade at 110,000원, limit 4, starting in a month.
pub fn small_spec(performance: u64, seats: u16) -> picket_ledger_core::PerformanceSpec {
    use picket_ledger_core::*;
    let starts_at_ms = picket_edge::clock::now_ms() + 30 * 24 * 3_600_000;
    let mut spec =
        PerformanceSpec::plain(PerformanceId(performance), starts_at_ms, 110_000, seats, 20);
    spec.grades[0].code = "S".into();
    spec.hold_ttl_ms = 7 * 60_000;
    spec
}

/// A spec as the operator's `POST /api/v2/performances` takes it: its id a string (v2).
pub fn spec_json(spec: &picket_ledger_core::PerformanceSpec) -> Value {
    serde_json::to_value(picket_edge::spec::ClientSpec::from(spec.clone())).expect("specs encode")
}

/// Sale settings as JSON for `PUT /api/v2/sales/{sale}`.
pub fn sale_settings(open_at_ms: u64, admit_per_sec: u32, active_max: u32) -> Value {
    json!({
        "open_at_ms": open_at_ms, "admit_per_sec": admit_per_sec, "active_max": active_max,
        "admission_ttl_ms": 600_000, "seat_limit": 4, "grace_ms": 30_000, "paused": false,
    })
}

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// A protocol-v2 client. Every message it reads is checked for ids sent as JSON numbers.
pub struct Client {
    pub socket: Socket,
    pub identity: String,
    pub conn: String,
    /// The close code, once a close frame arrived.
    pub closed: Option<u16>,
}

/// Connects with the `picket.v2` subprotocol (or without any, when `subprotocol` is false).
pub async fn connect_raw(
    address: SocketAddr,
    subprotocol: bool,
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    connect_speaking(address, if subprotocol { &[SUBPROTOCOL] } else { &[] }).await
}

/// The subprotocol of the gateway's protocol v2.
pub const SUBPROTOCOL: &str = "picket.v2";

/// Connects asking for exactly `subprotocols` (say, only the retired `picket.v1`).
pub async fn connect_speaking(
    address: SocketAddr,
    subprotocols: &[&str],
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let mut request = format!("ws://{address}/ws").into_client_request()?;
    if !subprotocols.is_empty() {
        let list = subprotocols.join(", ");
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_str(&list).expect("subprotocols are header text"),
        );
    }
    let (socket, _) = tokio_tungstenite::connect_async(request).await?;
    Ok(socket)
}

impl Client {
    /// A client over an already-open socket, before any hello.
    pub fn over(socket: Socket) -> Client {
        Client {
            socket,
            identity: String::new(),
            conn: String::new(),
            closed: None,
        }
    }

    /// Connects and says hello as the guest device `device` (16+ characters).
    pub async fn guest(address: SocketAddr, device: &str) -> Client {
        Self::hello(address, json!({"type": "hello", "device": device})).await
    }

    pub async fn hello(address: SocketAddr, hello: Value) -> Client {
        let mut socket = connect_raw(address, true).await.expect("connect");
        socket
            .send(Message::text(hello.to_string()))
            .await
            .expect("send hello");
        let mut client = Client::over(socket);
        let welcome = client.next_of("welcome").await;
        client.identity = welcome["identity"].as_str().unwrap_or_default().to_owned();
        client.conn = welcome["conn"].as_str().unwrap_or_default().to_owned();
        client
    }

    /// Joins `sale`'s waiting room and waits for the admission: its token.
    pub async fn join_admitted(&mut self, sale: u64) -> String {
        self.send(json!({"type": "join", "sale": sale.to_string()}))
            .await;
        self.next_of("admitted").await["token"]
            .as_str()
            .expect("an admission token")
            .to_owned()
    }

    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .expect("send");
    }

    /// Pays `hold` as an app does: `checkout`, the sandbox's checkout page with `card`, then
    /// `confirm {payment_key, order_id}` under `key`. Returns the answer to the confirm (a
    /// `result` or an `error`), or the sandbox's failure code when the card page refused.
    pub async fn pay(
        &mut self,
        sandbox: &crate::pay::Checkout,
        sale: u64,
        admission: &str,
        hold: u64,
        key: &str,
        card: &str,
    ) -> Value {
        let checkout = self.checkout(sale, hold).await;
        assert_eq!(checkout["type"], "checkout", "{checkout}");
        match sandbox.pay_checkout(&checkout, card).await {
            Ok(paid) => {
                self.confirm(
                    sale,
                    admission,
                    hold,
                    key,
                    &paid.payment_key,
                    &paid.order_id,
                )
                .await
            }
            Err(code) => json!({"type": "checkout_refused", "code": code}),
        }
    }

    /// `checkout` for `hold`: the `checkout` answer or an `error`.
    pub async fn checkout(&mut self, sale: u64, hold: u64) -> Value {
        let id = format!("co-{hold}");
        self.send(json!({"type": "checkout", "id": id, "sale": sale.to_string(), "hold": hold.to_string()}))
            .await;
        self.answer_to(&id).await
    }

    /// `confirm` with a payment key and order id: the `result` or an `error`.
    pub async fn confirm(
        &mut self,
        sale: u64,
        admission: &str,
        hold: u64,
        key: &str,
        payment_key: &str,
        order_id: &str,
    ) -> Value {
        let id = format!("cf-{key}");
        self.send(
            json!({"type": "confirm", "id": id, "sale": sale.to_string(), "key": key,
            "admission": admission, "hold": hold.to_string(), "payment_key": payment_key,
            "order_id": order_id}),
        )
        .await;
        self.answer_to(&id).await
    }

    /// The next message answering correlation id `id` (skipping queue and seat pushes).
    pub async fn answer_to(&mut self, id: &str) -> Value {
        loop {
            let message = self
                .next_within(Duration::from_secs(30))
                .await
                .unwrap_or_else(|| panic!("no answer to {id}"));
            if message["id"] == id {
                return message;
            }
        }
    }

    /// Sends a text frame as is (for bad-input tests).
    pub async fn send_raw_text(&mut self, text: &str) {
        let _ = self.socket.send(Message::text(text.to_owned())).await;
    }

    /// The next text message within `wait`, parsed; None on timeout or close.
    pub async fn next_within(&mut self, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .ok()??;
            match frame {
                Ok(Message::Text(text)) => {
                    let message: Option<Value> = serde_json::from_str(text.as_str()).ok();
                    if let Some(message) = &message {
                        crate::ids::assert_no_numeric_ids(message, "the gateway");
                    }
                    return message;
                }
                Ok(Message::Close(frame)) => {
                    self.closed = Some(frame.map_or(1005, |f| u16::from(f.code)));
                    return None;
                }
                Err(_) => return None,
                Ok(_) => continue,
            }
        }
    }

    /// The next message of type `kind` within 10 s, skipping others; panics otherwise.
    pub async fn next_of(&mut self, kind: &str) -> Value {
        self.next_of_within(kind, Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("no {kind} message arrived"))
    }

    pub async fn next_of_within(&mut self, kind: &str, wait: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let message = self.next_within(left).await?;
            if message["type"] == kind {
                return Some(message);
            }
        }
    }

    /// Waits for the server to close; returns the close code.
    pub async fn close_code(&mut self, wait: Duration) -> Option<u16> {
        if self.closed.is_some() {
            return self.closed;
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Ok(Some(Ok(Message::Close(frame)))) => return frame.map(|f| u16::from(f.code)),
                Ok(Some(Ok(_))) => continue,
                _ => return None,
            }
        }
    }
}

/// `PUT /api/v2/sales/{sale}` as the operator, with a bare HTTP/1.1 request.
pub async fn configure_sale(address: SocketAddr, sale: u64, settings: &Value) -> (u16, String) {
    http(
        address,
        "PUT",
        &format!("/api/v2/sales/{sale}"),
        Some(settings),
        true,
    )
    .await
}

/// A minimal HTTP/1.1 client (no keep-alive): returns (status, body).
pub async fn http(
    address: SocketAddr,
    method: &str,
    path: &str,
    body: Option<&Value>,
    operator: bool,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let auth = if operator {
        format!("Authorization: Bearer {OPERATOR_TOKEN}\r\n")
    } else {
        String::new()
    };
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = TcpStream::connect(address).await.expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let response = String::from_utf8_lossy(&response).to_string();
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    if let Ok(json) = serde_json::from_str::<Value>(&body) {
        crate::ids::assert_no_numeric_ids(&json, &format!("{method} {path}"));
    }
    (status, body)
}
