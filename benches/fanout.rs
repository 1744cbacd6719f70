//! The notifier's fan-out (issue 15, "Tests and benchmarks"): a show published that matches
//! every member, against a real `picket up` process.
//!
//! ```sh
//! cargo bench --bench fanout -- enqueue   # 1,000,000 members: every alert in the inbox
//! cargo bench --bench fanout -- deliver   # 19,000 members connected: every alert on its socket
//! PICKET_BENCH_MEMBERS=200000 cargo bench --bench fanout -- enqueue
//! PICKET_BENCH_CLIENTS=5000 cargo bench --bench fanout -- deliver
//! PICKET_BENCH_STORE=postgres cargo bench --bench fanout -- enqueue   # on PostgreSQL
//! ```
//!
//! Without a filter both parts run. `picket up` runs on SQLite in its data directory (the
//! embedded default), or with `PICKET_BENCH_STORE=postgres` on a PostgreSQL cluster the harness
//! starts (`DATABASE_URL`, the ledger's journal included). The members are written straight into
//! the API's store before `picket up` starts (`picket_tests::api::seed_members`: signing up a million
//! members through the API would spend hours in Argon2), with interests of four shapes that all
//! match the harness's show (a musical in Seoul). The seller, the venue and the show go through
//! the HTTP API; the clock starts when `POST /api/v2/shows/{id}/publish` is sent.
//!
//! - `enqueue`: until the show is in `notifier_announced` (every member's alert is in the
//!   inbox, with its outbox sequence, and the delivery loop may read it). Prints the seconds,
//!   inbox writes per second, `picket up`'s CPU seconds meanwhile, and how far the delivery loop
//!   had read the outbox by then.
//! - `deliver`: `PICKET_BENCH_CLIENTS` members (default 19,000) connected to the one gateway
//!   over the WebSocket, each signed in by `hello` with a session token (signed here with the
//!   key ring `picket up` is given in `PICKET_TOKEN_KEYS`), until every client got its
//!   `notification` message. Prints deliveries per second and the arrival spread. This process
//!   holds the client sockets and `picket up` the server side, so each stays under the machine's
//!   20,000 files per process; the gateway keeps `files_reserved` (500) of those for itself, so
//!   it takes at most 19,500 connections, HTTP ones included.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use picket_api::store::Store;
use picket_edge::token::{Claims, Key, KeyRing};
use picket_tests::api::{business_number, call, draft_show_at, publish_show_at, seed_members};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// The first seeded member's id: shaped like the API's (milliseconds since the epoch in the
/// high bits), so the inbox's ids are as long as in production.
const FIRST_MEMBER: i64 = 1_765_000_000_000 << 16;
const STARTUP_MAX: Duration = Duration::from_secs(60);
/// Bounds a broken run, not a slow one.
const FANOUT_MAX: Duration = Duration::from_secs(600);
const PROGRESS_EVERY: Duration = Duration::from_secs(5);
/// Client handshakes in flight at once while connecting.
const CONNECTING_MAX: usize = 256;
/// Connections the gateway takes beyond the clients: the seller's HTTP calls and health checks.
const HTTP_HEADROOM: usize = 200;
/// What the gateway leaves for clients of the 20,000 files a process may open here
/// (`files_max - files_reserved`, `picket up`'s defaults).
const GATEWAY_CONNECTIONS_MAX: usize = 19_500;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    // `cargo test --benches` runs bench targets without `--bench`; only `cargo bench` runs.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let filters: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wanted = |part: &str| filters.is_empty() || filters.iter().any(|f| part.contains(f));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    if wanted("enqueue") {
        runtime.block_on(enqueue(env_or("PICKET_BENCH_MEMBERS", 1_000_000) as usize));
    }
    if wanted("deliver") {
        runtime.block_on(deliver(env_or("PICKET_BENCH_CLIENTS", 19_000) as usize));
    }
}

/// The four shapes of interests, every one matching a musical in Seoul.
fn interests_of(n: usize) -> Vec<(&'static str, &'static str)> {
    match n % 4 {
        0 => vec![("category", "musical")],
        1 => vec![("region", "seoul")],
        2 => vec![("category", "musical"), ("region", "seoul")],
        _ => vec![("category", "concert"), ("category", "musical")],
    }
}

/// Where `picket up` keeps its data: a data directory, and with `PICKET_BENCH_STORE=postgres` a
/// PostgreSQL cluster of the harness's (`DATABASE_URL`; the ledger's journal goes there too).
struct Data {
    dir: tempfile::TempDir,
    /// The API store's URL.
    url: String,
    postgres: Option<picket_tests::Postgres>,
}

impl Data {
    /// `picket up`'s settings for this store.
    fn env(&self) -> Vec<(&str, &str)> {
        match self.postgres {
            Some(_) => vec![("DATABASE_URL", self.url.as_str())],
            None => Vec::new(),
        }
    }

    fn store_name(&self) -> &str {
        if self.postgres.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    }
}

/// A store holding `members` seeded members.
async fn seeded(members: usize) -> Data {
    let dir = tempfile::tempdir().expect("tempdir");
    let (url, postgres) = match std::env::var("PICKET_BENCH_STORE").as_deref() {
        Ok("postgres") => {
            let postgres = picket_tests::Postgres::start().expect("postgres");
            let url = postgres.create_database("picket").expect("database");
            (url, Some(postgres))
        }
        _ => (
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("api.sqlite").display()
            ),
            None,
        ),
    };
    let store = Store::connect(&url).await.expect("api store");
    let started = Instant::now();
    seed_members(store.pool(), FIRST_MEMBER, members, interests_of)
        .await
        .expect("seed members");
    if postgres.is_some() {
        // A live database has the planner's statistics of its tables (autovacuum keeps them);
        // a million rows loaded in seconds would otherwise be planned for as an empty table
        // until autovacuum's next look, up to a minute into the fan-out.
        sqlx::query("ANALYZE")
            .execute(store.pool())
            .await
            .expect("analyze");
    }
    println!(
        "seeded {members} members in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    store.pool().close().await;
    Data { dir, url, postgres }
}

async fn enqueue(members: usize) {
    let data = seeded(members).await;
    println!(
        "\n== enqueue: a show matching {members} members ({}) ==",
        data.store_name()
    );
    let mut up = PicketUp::start(data.dir.path(), &[], &data.env()).await;
    let store = Store::connect(&data.url).await.expect("api store");
    let (seller, show, _) = draft_show_at(
        up.address,
        "seller@bench.invalid",
        &business_number(1),
        serde_json::json!({}),
        100,
    )
    .await;
    let head_before = store.outbox_head().await.expect("head");
    let cpu_before = cpu_seconds(up.child.id());
    let published = Instant::now();
    let answer = publish_show_at(up.address, &seller, show).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let mut progress_at = published + PROGRESS_EVERY;
    while !store.is_announced(show).await.expect("announced") {
        assert!(published.elapsed() < FANOUT_MAX, "never announced");
        if Instant::now() >= progress_at {
            let head = store.outbox_head().await.expect("head");
            println!(
                "  {:>5.1} s: {} alerts written",
                published.elapsed().as_secs_f64(),
                head - head_before
            );
            progress_at += PROGRESS_EVERY;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seconds = published.elapsed().as_secs_f64();
    let cpu = cpu_seconds(up.child.id()) - cpu_before;
    let written: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE kind = 'interest_alert'")
            .fetch_one(store.pool())
            .await
            .expect("count");
    assert_eq!(written, members as i64, "every member's alert, once");
    let delivered: Vec<(String, i64)> =
        sqlx::query_as("SELECT channel, seq FROM delivery_cursors ORDER BY channel")
            .fetch_all(store.pool())
            .await
            .expect("cursors");
    let delivered: Vec<String> = delivered
        .iter()
        .map(|(channel, seq)| format!("{channel} {}", (seq - head_before).max(0)))
        .collect();
    println!(
        "{members} alerts enqueued in {seconds:.1} s: {:.0} inbox writes/s; picket up used \
         {cpu:.1} CPU s meanwhile; the delivery loop had read {} of them by then",
        members as f64 / seconds,
        delivered.join(", ")
    );
    store.pool().close().await;
    up.stop();
}

async fn deliver(clients: usize) {
    let files = rlimit::increase_nofile_limit(u64::MAX).unwrap_or(0);
    assert!(
        clients + HTTP_HEADROOM <= GATEWAY_CONNECTIONS_MAX,
        "one gateway takes at most {} connections here; PICKET_BENCH_CLIENTS = {clients}",
        GATEWAY_CONNECTIONS_MAX - HTTP_HEADROOM
    );
    assert!(
        clients as u64 + 100 < files,
        "this process may open {files} files: too few for {clients} clients"
    );
    let data = seeded(clients).await;
    println!(
        "\n== deliver: a show matching {clients} connected members ({}) ==",
        data.store_name()
    );
    let secret: [u8; 32] = rand::random();
    let keys = KeyRing::new(vec![Key::new("bench", secret.to_vec()).expect("key")]).expect("ring");
    let connections_max = (clients + HTTP_HEADROOM).to_string();
    let spec = keys.to_spec();
    let mut env = data.env();
    env.push(("PICKET_TOKEN_KEYS", &spec));
    let mut up = PicketUp::start(
        data.dir.path(),
        &[
            ("--connections-max", &connections_max),
            // Every client connects from the loopback address.
            ("--connections-per-address-max", &connections_max),
        ],
        &env,
    )
    .await;
    let (seller, show, _) = draft_show_at(
        up.address,
        "seller@bench.invalid",
        &business_number(2),
        serde_json::json!({}),
        100,
    )
    .await;
    let shared = Arc::new(Shared::default());
    let connecting = Instant::now();
    let gate = Arc::new(tokio::sync::Semaphore::new(CONNECTING_MAX));
    let exp_ms = picket_edge::clock::now_ms() + 3_600_000;
    for n in 0..clients {
        let token = keys.sign(&Claims::Session {
            sub: (FIRST_MEMBER + n as i64) as u64,
            sid: format!("bench-{n}"),
            exp_ms,
        });
        let permit = gate.clone().acquire_owned().await.expect("semaphore");
        tokio::spawn(member_client(up.address, token, shared.clone(), permit));
    }
    while shared.welcomed.load(Ordering::Relaxed) + shared.failed.load(Ordering::Relaxed) < clients
    {
        assert!(connecting.elapsed() < FANOUT_MAX, "clients never connected");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let welcomed = shared.welcomed.load(Ordering::Relaxed);
    println!(
        "{welcomed} of {clients} clients signed in after {:.1} s",
        connecting.elapsed().as_secs_f64()
    );
    // Let the gateway follow every member's subject before the clock starts.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let store = Store::connect(&data.url).await.expect("api store");
    let published = Instant::now();
    *shared.published.lock().expect("lock") = Some(published);
    let answer = publish_show_at(up.address, &seller, show).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let mut enqueued_s = None;
    let mut progress_at = published + PROGRESS_EVERY;
    while shared.arrivals.lock().expect("lock").len() < welcomed {
        if published.elapsed() > FANOUT_MAX {
            println!("  gave up waiting: the rest never arrived");
            break;
        }
        if enqueued_s.is_none() && store.is_announced(show).await.expect("announced") {
            enqueued_s = Some(published.elapsed().as_secs_f64());
        }
        if Instant::now() >= progress_at {
            println!(
                "  {:>5.1} s: {} delivered",
                published.elapsed().as_secs_f64(),
                shared.arrivals.lock().expect("lock").len()
            );
            progress_at += PROGRESS_EVERY;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut arrivals: Vec<f64> = shared
        .arrivals
        .lock()
        .expect("lock")
        .iter()
        .map(|at| at.duration_since(published).as_secs_f64())
        .collect();
    arrivals.sort_by(f64::total_cmp);
    let at = |q: f64| arrivals[((arrivals.len() - 1) as f64 * q) as usize];
    let enqueued = enqueued_s.map_or("later".to_owned(), |s| format!("{s:.1} s"));
    match arrivals.last() {
        Some(last) => println!(
            "{} of {welcomed} clients got their notification; all enqueued after {enqueued}; \
             arrivals after the publish: first {:.2} s, p50 {:.2} s, p99 {:.2} s, last {last:.2} s: \
             {:.0} deliveries/s",
            arrivals.len(),
            arrivals[0],
            at(0.5),
            at(0.99),
            arrivals.len() as f64 / last
        ),
        None => println!("no client got a notification"),
    }
    println!(
        "gateway: {}",
        up.metrics(&[
            "picket_gateway_connections",
            "picket_gateway_notify_members",
            "picket_gateway_notifications_sent_total",
            "picket_gateway_notifications_dropped_total",
            "picket_gateway_notify_refused_total",
        ])
        .await
    );
    store.pool().close().await;
    up.stop();
}

/// What the clients share with the bench.
#[derive(Default)]
struct Shared {
    welcomed: AtomicUsize,
    failed: AtomicUsize,
    /// When the publish was sent (clients record arrivals only after it).
    published: Mutex<Option<Instant>>,
    arrivals: Mutex<Vec<Instant>>,
}

/// One member's app: connects, says `hello` with its session token, and waits for its
/// `notification`; the socket stays open until the bench ends.
async fn member_client(
    address: SocketAddr,
    token: String,
    shared: Arc<Shared>,
    permit: tokio::sync::OwnedSemaphorePermit,
) {
    let connected = async {
        let mut request = format!("ws://{address}/ws").into_client_request()?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("picket.v2"),
        );
        // Small buffers, as the gateway's: the bench must not be what runs out of memory.
        let config = WebSocketConfig::default()
            .read_buffer_size(4_096)
            .write_buffer_size(0);
        let (mut ws, _) =
            tokio_tungstenite::connect_async_with_config(request, Some(config), false).await?;
        let hello = serde_json::json!({"type": "hello", "token": token}).to_string();
        ws.send(Message::text(hello)).await?;
        Ok::<_, tokio_tungstenite::tungstenite::Error>(ws)
    };
    let mut ws = match connected.await {
        Ok(ws) => ws,
        Err(error) => {
            eprintln!("client: {error}");
            shared.failed.fetch_add(1, Ordering::Relaxed);
            return;
        }
    };
    drop(permit);
    let mut welcomed = false;
    let mut notified = false;
    while let Some(Ok(message)) = ws.next().await {
        let Message::Text(text) = message else {
            continue;
        };
        if !welcomed && text.as_str().starts_with(r#"{"type":"welcome""#) {
            welcomed = true;
            shared.welcomed.fetch_add(1, Ordering::Relaxed);
        } else if !notified
            && text.as_str().starts_with(r#"{"type":"notification""#)
            && shared.published.lock().expect("lock").is_some()
        {
            // At least once: a second copy of the same alert is not another delivery.
            notified = true;
            shared.arrivals.lock().expect("lock").push(Instant::now());
        }
    }
    if !welcomed {
        shared.failed.fetch_add(1, Ordering::Relaxed);
    }
}

/// One `picket up` process on a data directory.
struct PicketUp {
    child: Child,
    address: SocketAddr,
    /// Its operator token (for `/metrics`).
    operator: String,
}

impl PicketUp {
    async fn start(
        data: &std::path::Path,
        args: &[(&str, &str)],
        env: &[(&str, &str)],
    ) -> PicketUp {
        let port = picket_tests::process::free_port().expect("port");
        let address: SocketAddr = ([127, 0, 0, 1], port).into();
        let mut command = Command::new(env!("CARGO_BIN_EXE_picket"));
        command
            .args(["up", "--listen", &address.to_string()])
            .env("PICKET_DATA_DIR", data)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        for (name, value) in args {
            command.args([name, value]);
        }
        for (name, value) in env {
            command.env(name, value);
        }
        let mut child = command.spawn().expect("spawn picket up");
        let started = Instant::now();
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                panic!("picket up exited: {status}");
            }
            if healthy(address).await {
                break;
            }
            assert!(started.elapsed() < STARTUP_MAX, "picket up never healthy");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        PicketUp {
            child,
            address,
            operator: std::fs::read_to_string(data.join("operator-token"))
                .expect("operator token")
                .trim()
                .to_owned(),
        }
    }

    /// The named metrics' lines from `/metrics`.
    async fn metrics(&self, names: &[&str]) -> String {
        let answer = call_text(self.address, "/metrics", &self.operator).await;
        answer
            .lines()
            .filter(|line| {
                names.iter().any(|name| {
                    line.strip_prefix(name)
                        .is_some_and(|rest| rest.starts_with([' ', '{']))
                })
            })
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn healthy(address: SocketAddr) -> bool {
    tokio::net::TcpStream::connect(address).await.is_ok()
        && call(address, "GET", "/healthz", "", None).await.status == 200
}

/// A GET whose body is not JSON (`/metrics`).
async fn call_text(address: SocketAddr, path: &str, token: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let Ok(mut stream) = tokio::net::TcpStream::connect(address).await else {
        return String::new();
    };
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\
         Authorization: Bearer {token}\r\n\r\n"
    );
    let mut response = Vec::new();
    if stream.write_all(request.as_bytes()).await.is_err()
        || stream.read_to_end(&mut response).await.is_err()
    {
        return String::new();
    }
    let response = String::from_utf8_lossy(&response);
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default()
}

/// User plus system CPU seconds of process `pid` (and its threads) so far.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // After the command name in parentheses: state is field 3, utime 14 and stime 15.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let ticks = |index: usize| {
        fields
            .get(index)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // Field n is at index n - 3 after the name; the kernel counts in 100 ticks a second.
    (ticks(14 - 3) + ticks(15 - 3)) / 100.0
}
