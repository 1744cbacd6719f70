//! Idle WebSocket connections per gateway, memory per connection, and how long a position
//! update takes to reach every waiting client.
//!
//! ```sh
//! cargo bench --bench connections                      # 1 gateway × 10,000 clients
//! PICKET_BENCH_GATEWAYS=6 PICKET_BENCH_PER_GATEWAY=17000 cargo bench --bench connections
//! ```
//!
//! Each gateway is a real `picket up` process (own data directory and port, in-memory waiting
//! room). Each has one client process (this binary again, in the `client` role) that connects
//! from its own loopback source address (127.0.0.x), says hello as a guest, joins the gateway's
//! sale and then only reads. A process here may hold at most 20,000 files, so one gateway holds
//! at most ~19,500 clients; 100k clients take six gateway processes and six client processes.
//!
//! Figures: the gateway's resident memory before the clients and once they are all waiting,
//! divided by the clients; the spread of each push round as the clients saw it (first to last
//! client receiving the round's `queue` message, within one gateway); and the gateway's own
//! `push_seconds` (store read + heartbeat + enqueueing every member's message).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

const SALE: u64 = 1;
/// A round's messages arrive together; a quiet gap this long ends the round.
const ROUND_GAP: Duration = Duration::from_millis(300);
const STARTUP_MAX: Duration = Duration::from_secs(60);
/// Connections a client process opens at once while ramping.
const CONNECTING_MAX: usize = 256;
const CONNECT_ATTEMPTS_MAX: usize = 5;

/// How often gateways push positions (`PICKET_BENCH_PUSH_INTERVAL_MS`, default 1,000).
fn push_interval_ms() -> u64 {
    env_or("PICKET_BENCH_PUSH_INTERVAL_MS", 1_000)
}

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    if std::env::var("PICKET_BENCH_ROLE").as_deref() == Ok("client") {
        client_main();
        return;
    }
    // `cargo test --benches` runs bench targets with `--test`-like flags; only `--bench` runs.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let gateways = env_or("PICKET_BENCH_GATEWAYS", 1) as usize;
    let per_gateway = env_or("PICKET_BENCH_PER_GATEWAY", 10_000) as usize;
    let measure_s = env_or("PICKET_BENCH_MEASURE_S", 10);
    let ramp_per_s = env_or("PICKET_BENCH_RAMP_PER_S", 1_000);
    let picket = env!("CARGO_BIN_EXE_picket");

    let mut running = Vec::new();
    for index in 0..gateways {
        let gateway = Gateway::start(picket, per_gateway);
        let source = format!("127.0.0.{}", 10 + index);
        let client = spawn_client(gateway.port, &source, per_gateway, ramp_per_s, measure_s);
        running.push((gateway, client));
    }
    let connect_started = Instant::now();
    for (_, client) in &mut running {
        client.wait_for("READY");
    }
    let ramp_s = connect_started.elapsed().as_secs_f64();
    // Let allocators and the first push rounds settle before reading memory.
    std::thread::sleep(Duration::from_secs(3));
    let push_before: Vec<(f64, f64)> = running.iter().map(|(g, _)| g.push_seconds()).collect();
    for (_, client) in &mut running {
        client.go();
    }
    let mut results = Vec::new();
    for ((gateway, client), before) in running.iter_mut().zip(push_before) {
        let report = client.result();
        let after = gateway.push_seconds();
        let pushes = after.1 - before.1;
        let push_mean_ms = if pushes > 0.0 {
            (after.0 - before.0) / pushes * 1_000.0
        } else {
            f64::NAN
        };
        let rss_kib = rss_kib(gateway.child.id());
        results.push((gateway.baseline_rss_kib, rss_kib, push_mean_ms, report));
    }
    print_report(per_gateway, ramp_s, &results);
    for (mut gateway, mut client) in running {
        let _ = client.child.kill();
        let _ = client.child.wait();
        gateway.stop();
    }
}

fn print_report(per_gateway: usize, ramp_s: f64, results: &[(u64, u64, f64, ClientReport)]) {
    println!(
        "\n{} gateway(s) × {per_gateway} clients, all connected and waiting after {ramp_s:.1} s; \
         positions pushed every {} ms",
        results.len(),
        push_interval_ms()
    );
    println!(
        "| gateway | clients open | RSS before | RSS with clients | per client | push rounds | \
         round spread p50 / max | push_seconds mean |"
    );
    println!("|---|---|---|---|---|---|---|---|");
    let mut total = 0;
    for (index, (before, after, push_ms, report)) in results.iter().enumerate() {
        total += report.open;
        let per_client =
            (after.saturating_sub(*before)) as f64 * 1024.0 / report.open.max(1) as f64;
        println!(
            "| {index} | {} | {:.1} MiB | {:.1} MiB | {:.1} KiB | {} | {:.1} / {:.1} ms | {push_ms:.1} ms |",
            report.open,
            *before as f64 / 1024.0,
            *after as f64 / 1024.0,
            per_client / 1024.0,
            report.rounds,
            report.spread_p50_ms,
            report.spread_max_ms,
        );
    }
    println!("total clients open: {total}");
}

/// One `picket up` process.
struct Gateway {
    child: Child,
    port: u16,
    _data: tempfile::TempDir,
    baseline_rss_kib: u64,
}

impl Gateway {
    fn start(picket: &str, clients: usize) -> Gateway {
        let data = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let child = Command::new(picket)
            .args(["up", "--listen", &format!("127.0.0.1:{port}")])
            .args(["--connections-max", &(clients + 100).to_string()])
            // Every simulated client connects from the loopback address.
            .args([
                "--connections-per-address-max",
                &(clients + 200).to_string(),
            ])
            .args(["--push-interval-ms", &push_interval_ms().to_string()])
            .env("PICKET_DATA_DIR", data.path())
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn picket up");
        let mut gateway = Gateway {
            child,
            port,
            _data: data,
            baseline_rss_kib: 0,
        };
        gateway.wait_healthy();
        gateway.open_sale();
        std::thread::sleep(Duration::from_secs(1));
        gateway.baseline_rss_kib = rss_kib(gateway.child.id());
        gateway
    }

    fn wait_healthy(&mut self) {
        let deadline = Instant::now() + STARTUP_MAX;
        while Instant::now() < deadline {
            if let Ok((200, _)) = http(self.port, "GET", "/healthz", "", "") {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("picket up exited: {status}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("picket up did not become healthy");
    }

    fn open_sale(&self) {
        let token = std::fs::read_to_string(self._data.path().join("operator-token"))
            .expect("operator token");
        let token = token.trim();
        let spec = picket_tests::gateway::spec_json(&picket_tests::gateway::small_spec(SALE, 40))
            .to_string();
        let (status, body) = http(self.port, "POST", "/api/v2/performances", &spec, token)
            .expect("open performance");
        assert_eq!(status, 201, "{body}");
        // Open already, one admission per second: nearly every client waits with a place.
        let open_at_ms = picket_edge::clock::now_ms() - 1_000;
        let settings = picket_tests::gateway::sale_settings(open_at_ms, 1, 1).to_string();
        let path = format!("/api/v2/sales/{SALE}");
        let (status, body) = http(self.port, "PUT", &path, &settings, token).expect("sale");
        assert_eq!(status, 200, "{body}");
    }

    /// (sum, count) of `picket_gateway_push_seconds`.
    fn push_seconds(&self) -> (f64, f64) {
        let token = std::fs::read_to_string(self._data.path().join("operator-token"))
            .expect("operator token");
        let (_, body) = http(self.port, "GET", "/metrics", "", token.trim()).expect("metrics");
        let value = |name: &str| {
            body.lines()
                .find_map(|line| line.strip_prefix(name))
                .and_then(|rest| rest.trim().parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        (
            value("picket_gateway_push_seconds_sum "),
            value("picket_gateway_push_seconds_count "),
        )
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// A minimal HTTP/1.0 request; returns (status, body).
fn http(
    port: u16,
    method: &str,
    path: &str,
    body: &str,
    token: &str,
) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let auth = if token.is_empty() {
        String::new()
    } else {
        format!("Authorization: Bearer {token}\r\n")
    };
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: localhost\r\n{auth}Content-Type: application/json\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}

// ---- the parent's view of a client process ----

struct ClientProcess {
    child: Child,
    stdin: ChildStdin,
    lines: BufReader<ChildStdout>,
}

fn spawn_client(
    port: u16,
    source: &str,
    count: usize,
    ramp_per_s: u64,
    measure_s: u64,
) -> ClientProcess {
    let mut child = Command::new(std::env::current_exe().expect("current exe"))
        .env("PICKET_BENCH_ROLE", "client")
        .env("PICKET_BENCH_TARGET", format!("127.0.0.1:{port}"))
        .env("PICKET_BENCH_SOURCE", source)
        .env("PICKET_BENCH_COUNT", count.to_string())
        .env("PICKET_BENCH_RAMP_PER_S", ramp_per_s.to_string())
        .env("PICKET_BENCH_MEASURE_S", measure_s.to_string())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn client process");
    let stdin = child.stdin.take().expect("stdin");
    let lines = BufReader::new(child.stdout.take().expect("stdout"));
    ClientProcess {
        child,
        stdin,
        lines,
    }
}

#[derive(Debug, Default)]
struct ClientReport {
    open: usize,
    rounds: usize,
    spread_p50_ms: f64,
    spread_max_ms: f64,
}

impl ClientProcess {
    fn next_line(&mut self) -> String {
        let mut line = String::new();
        let read = self.lines.read_line(&mut line).expect("client stdout");
        assert!(read > 0, "client process exited early");
        line.trim().to_owned()
    }

    fn wait_for(&mut self, word: &str) {
        loop {
            let line = self.next_line();
            if line.starts_with(word) {
                return;
            }
            eprintln!("client: {line}");
        }
    }

    fn go(&mut self) {
        writeln!(self.stdin, "GO").expect("tell client");
    }

    fn result(&mut self) -> ClientReport {
        loop {
            let line = self.next_line();
            if let Some(json) = line.strip_prefix("RESULT ") {
                let value: serde_json::Value = serde_json::from_str(json).expect("result json");
                return ClientReport {
                    open: value["open"].as_u64().unwrap_or(0) as usize,
                    rounds: value["rounds"].as_u64().unwrap_or(0) as usize,
                    spread_p50_ms: value["spread_p50_ms"].as_f64().unwrap_or(f64::NAN),
                    spread_max_ms: value["spread_max_ms"].as_f64().unwrap_or(f64::NAN),
                };
            }
            eprintln!("client: {line}");
        }
    }
}

// ---- the client role ----

#[derive(Default)]
struct Shared {
    /// Clients that received their first `queue` message.
    waiting: AtomicUsize,
    /// Clients whose socket is still open.
    open: AtomicUsize,
    /// Clients that gave up connecting.
    failed: AtomicUsize,
    /// Arrival times of `queue` messages while measuring (None: not measuring).
    stamps: Mutex<Option<Vec<Instant>>>,
}

fn client_main() {
    let target: SocketAddr = std::env::var("PICKET_BENCH_TARGET")
        .unwrap()
        .parse()
        .unwrap();
    let source: IpAddr = std::env::var("PICKET_BENCH_SOURCE")
        .unwrap()
        .parse()
        .unwrap();
    let count = env_or("PICKET_BENCH_COUNT", 1) as usize;
    let ramp_per_s = env_or("PICKET_BENCH_RAMP_PER_S", 1_000).max(1);
    let measure_s = env_or("PICKET_BENCH_MEASURE_S", 10);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let shared = Arc::new(Shared::default());
        let gate = Arc::new(tokio::sync::Semaphore::new(CONNECTING_MAX));
        let pause = Duration::from_secs_f64(1.0 / ramp_per_s as f64);
        let mut ticker = tokio::time::interval(pause.max(Duration::from_micros(50)));
        for index in 0..count {
            ticker.tick().await;
            let permit = gate.clone().acquire_owned().await.expect("semaphore");
            let shared = shared.clone();
            tokio::spawn(async move {
                let device = format!("bench-{source}-{index:08}");
                let mut permit = Some(permit);
                let mut counted = false;
                // A client whose handshake fails (an overloaded gateway closed it) reconnects,
                // as an app would; its place is kept by its device identity.
                for attempt in 0..CONNECT_ATTEMPTS_MAX {
                    let result = one_client(
                        target,
                        source,
                        &device,
                        &shared,
                        permit.take(),
                        &mut counted,
                    );
                    let result = result.await;
                    match result {
                        Ok(()) => return,
                        Err(error) if attempt + 1 == CONNECT_ATTEMPTS_MAX => {
                            eprintln!("client {index}: {error}");
                        }
                        Err(_) => tokio::time::sleep(Duration::from_millis(500)).await,
                    }
                }
                shared.failed.fetch_add(1, Ordering::Relaxed);
            });
        }
        let deadline = Instant::now() + Duration::from_secs(600);
        let settled =
            || shared.waiting.load(Ordering::Relaxed) + shared.failed.load(Ordering::Relaxed);
        while settled() < count && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        println!("READY {}", shared.waiting.load(Ordering::Relaxed));
        // Wait for the parent's GO, then measure.
        tokio::task::spawn_blocking(|| {
            let mut line = String::new();
            let _ = std::io::stdin().read_line(&mut line);
        })
        .await
        .expect("stdin");
        *shared.stamps.lock().unwrap() = Some(Vec::with_capacity(count * (measure_s as usize + 2)));
        tokio::time::sleep(Duration::from_secs(measure_s)).await;
        let stamps = shared.stamps.lock().unwrap().take().unwrap_or_default();
        let spreads = round_spreads(stamps);
        let mut sorted = spreads.clone();
        sorted.sort_by(f64::total_cmp);
        let p50 = sorted.get(sorted.len() / 2).copied().unwrap_or(f64::NAN);
        let max = sorted.last().copied().unwrap_or(f64::NAN);
        let result = serde_json::json!({
            "open": shared.open.load(Ordering::Relaxed),
            "rounds": spreads.len(),
            "spread_p50_ms": p50,
            "spread_max_ms": max,
            "client_rss_kib": rss_kib(std::process::id()),
        });
        println!("RESULT {result}");
    });
}

/// Splits arrival times into push rounds (separated by a quiet gap) and returns each complete
/// round's spread in milliseconds; the first and last rounds may be cut by the window.
fn round_spreads(mut stamps: Vec<Instant>) -> Vec<f64> {
    stamps.sort();
    let mut rounds: Vec<(Instant, Instant)> = Vec::new();
    for stamp in stamps {
        match rounds.last_mut() {
            Some((_, last)) if stamp.duration_since(*last) < ROUND_GAP => *last = stamp,
            _ => rounds.push((stamp, stamp)),
        }
    }
    let inner = rounds.len().saturating_sub(1);
    rounds
        .iter()
        .take(inner)
        .skip(1)
        .map(|(first, last)| last.duration_since(*first).as_secs_f64() * 1_000.0)
        .collect()
}

async fn one_client(
    target: SocketAddr,
    source: IpAddr,
    device: &str,
    shared: &Shared,
    permit: Option<tokio::sync::OwnedSemaphorePermit>,
    counted: &mut bool,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(SocketAddr::new(source, 0))?;
    let stream = socket.connect(target).await?;
    let mut request = format!("ws://{target}/ws").into_client_request()?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("picket.v2"),
    );
    // Small buffers, as the gateway uses: the client side must not be what runs out of memory.
    let config = WebSocketConfig::default()
        .read_buffer_size(4_096)
        .write_buffer_size(0);
    let (mut ws, _) =
        tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await?;
    let hello = serde_json::json!({"type": "hello", "device": device}).to_string();
    ws.send(Message::text(hello)).await?;
    let join = serde_json::json!({"type": "join", "sale": SALE.to_string()}).to_string();
    ws.send(Message::text(join)).await?;
    drop(permit);
    shared.open.fetch_add(1, Ordering::Relaxed);
    let ended = read_until_closed(&mut ws, shared, counted).await;
    shared.open.fetch_sub(1, Ordering::Relaxed);
    ended
}

async fn read_until_closed<S>(
    ws: &mut tokio_tungstenite::WebSocketStream<S>,
    shared: &Shared,
    counted: &mut bool,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    while let Some(message) = ws.next().await {
        let Message::Text(text) = message? else {
            continue;
        };
        if !text.as_str().starts_with(r#"{"type":"queue""#) {
            continue;
        }
        if !*counted {
            *counted = true;
            shared.waiting.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(stamps) = shared.stamps.lock().unwrap().as_mut() {
            stamps.push(Instant::now());
        }
    }
    Ok(())
}
