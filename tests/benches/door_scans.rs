//! The door online, end to end: scanner → API (WebSocket stream or HTTP) → NATS → ledger leader
//! → group commit to PostgreSQL → reply → typed result.
//!
//! ```sh
//! cargo bench -p picket-tests --bench door_scans -- gate             # a gate's worth, paced
//! cargo bench -p picket-tests --bench door_scans -- gate --unpaced   # as fast as it goes
//! cargo bench -p picket-tests --bench door_scans -- checkins         # check-ins/s sustained
//! ```
//!
//! `PICKET_BENCH_TICKETS` (default 10,000): tickets a run scans. `PICKET_BENCH_PACE_S` (default
//! 600): the paced gate sends its tickets evenly over this many seconds (10,000 in 10 minutes is
//! one every 60 ms). `PICKET_BENCH_UNPACED=1` is `--unpaced`.
//!
//! PostgreSQL (fsync on) and NATS (JetStream file store) are private instances the harness
//! starts; the ledger node, the API (its own store on SQLite) and the scanners run in this
//! process, all on one machine. Tickets are booked through the ledger (one hold and one
//! confirm per buyer, 16 places of a standing zone each); their codes are made as the holder's
//! app makes them, at the moment each is scanned.
//!
//! - `gate`: every ticket through one scanner stream, one scan every `pace / tickets` (sent
//!   whatever the answers do, as people arrive), under the API's default stream limits; or,
//!   unpaced, with `SCANNER_IN_FLIGHT_MAX` scans in flight and no rate limit. Reports scans/s,
//!   the latency of each scan (sent → answered: p50/p99/max) and checks that every answer is
//!   `admitted`, each ticket once.
//! - `checkins`: the most check-ins per second the ledger sustains, closed loop: K streams,
//!   each with `SCANNER_IN_FLIGHT_MAX` scans in flight, and HTTP with C concurrent requests
//!   (`POST /api/v2/performances/{id}/scans`, one connection each).

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use picket_api::scanner::SCANNER_IN_FLIGHT_MAX;
use picket_api::{Api, ApiConfig};
use picket_ledger::metrics::Metrics;
use picket_ledger::{LedgerConfig, Node, NodeConfig, PgJournal, StoreUrl};
use picket_ledger_client::{BusConfig, LedgerClient, NatsLedger};
use picket_ledger_core::{PerformanceId, ZoneId};
use picket_room::memory::MemoryStore;
use picket_tests::api::{OPERATOR, call, published_show_at, sign_in_at};
use picket_tests::scanner::{DoorTickets, book_zone, connect};
use picket_tests::{Nats, Postgres};
use prometheus_client::registry::Registry;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

/// `published_show_at` starts 20 days away: the bench's doors open 21 days before.
const DOORS_OPEN_BEFORE_START_MS: u64 = 21 * 24 * 3_600_000;
/// Places one buyer books (the ledger's per-buyer limit at most).
const PLACES_PER_BUYER: u16 = picket_ledger_core::limits::PER_BUYER_LIMIT_MAX;
/// Scanner streams of the `checkins` runs.
const STREAMS: [usize; 3] = [1, 4, 16];
/// Concurrent HTTP scans of the `checkins` runs.
const HTTP_CONCURRENCY: [usize; 2] = [16, 64];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|a| a == "--bench") {
        return;
    }
    let env_number = |name: &str, default: usize| {
        std::env::var(name)
            .ok()
            .map_or(default, |v| v.parse().expect("a number"))
    };
    let tickets = env_number("PICKET_BENCH_TICKETS", 10_000);
    let pace_s = env_number("PICKET_BENCH_PACE_S", 600);
    let unpaced = args.iter().any(|a| a == "--unpaced")
        || std::env::var("PICKET_BENCH_UNPACED").is_ok_and(|v| v == "1");
    let gate = args.iter().any(|a| a == "gate");
    let checkins = args.iter().any(|a| a == "checkins");
    let (gate, checkins) = if gate || checkins {
        (gate, checkins)
    } else {
        (true, true)
    };
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        if gate {
            let pace = (!unpaced).then(|| Duration::from_secs(pace_s as u64));
            gate_run(tickets, pace).await;
        }
        if checkins {
            checkins_run(tickets).await;
        }
    });
}

/// The ledger on NATS and PostgreSQL, and the API in front of it, serving on a loopback port.
struct Door {
    address: SocketAddr,
    api: Arc<Api>,
    ledger: LedgerClient,
    node: Node,
    _postgres: Postgres,
    _nats: Nats,
    _dir: tempfile::TempDir,
}

impl Door {
    async fn start(tune: impl FnOnce(&mut ApiConfig)) -> Door {
        let postgres = Postgres::start().expect("postgres");
        let database_url = postgres.create_database("bench").expect("database");
        let nats = Nats::start().expect("nats");
        let bus = BusConfig::new(nats.url(), 1);
        let journal = PgJournal::connect(&database_url, 4, Duration::from_secs(5))
            .await
            .expect("journal");
        let config = NodeConfig::new(
            LedgerConfig::new(StoreUrl::Postgres(database_url)),
            bus.clone(),
            vec![0],
            "bench-node".into(),
        );
        let connection = picket_ledger_client::bus::connect(&nats.url(), "bench-node")
            .await
            .expect("nats");
        let metrics = Arc::new(Metrics::new(&mut Registry::default()));
        let node = Node::start(config, journal, connection, metrics)
            .await
            .expect("node");
        while node.status()[0].role != "leader" {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let ledger =
            LedgerClient::Nats(NatsLedger::connect(bus, "bench-api").await.expect("client"));
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("api.sqlite").display()
        );
        let store = picket_api::store::Store::connect(&url)
            .await
            .expect("store");
        let mut config = ApiConfig {
            media_dir: dir.path().join("media"),
            doors_open_before_start_ms: DOORS_OPEN_BEFORE_START_MS,
            ..ApiConfig::default()
        };
        tune(&mut config);
        let api = Api::new(
            store,
            picket_tests::gateway::test_keys(),
            OPERATOR.into(),
            Some(ledger.clone()),
            Some(Arc::new(MemoryStore::new())),
            config,
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("addr");
        let service =
            picket_api::router(api.clone()).into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, service).await });
        Door {
            address,
            api,
            ledger,
            node,
            _postgres: postgres,
            _nats: nats,
            _dir: dir,
        }
    }

    /// A published performance whose Floor holds `count` places, all booked: its tickets and
    /// the seller's token (the seller may scan its show).
    async fn tickets(&self, count: usize) -> (DoorTickets, String) {
        let started = Instant::now();
        let more = json!({"per_buyer_limit": PLACES_PER_BUYER});
        let (_, performance) = published_show_at(
            self.address,
            "owner@example.com",
            "123-45-67891",
            more,
            count as u32,
        )
        .await;
        let seller = sign_in_at(self.address, "owner@example.com").await;
        let tickets = book_zone(
            &self.ledger,
            &self.api.config.ticket_key,
            PerformanceId(performance),
            ZoneId(0),
            count,
            PLACES_PER_BUYER,
            1_000_000,
        )
        .await;
        assert_eq!(tickets.tickets.len(), count);
        println!(
            "booked {count} tickets through the ledger in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        (tickets, seller)
    }
}

/// One scan: when it was sent and answered, and the answer.
struct Sample {
    index: usize,
    latency: Duration,
    answer: Value,
}

/// Scans `indexes` of `tickets` through one stream: with `interval`, one every `interval`
/// (as people arrive); without, as fast as `SCANNER_IN_FLIGHT_MAX` in flight allows.
async fn stream_scans(
    address: SocketAddr,
    token: &str,
    tickets: Arc<DoorTickets>,
    indexes: Vec<usize>,
    interval: Option<Duration>,
) -> Vec<Sample> {
    let socket = connect(address, tickets.performance.0)
        .await
        .expect("connect");
    let (mut sink, mut stream) = socket.split();
    let hello = json!({"type": "hello", "token": token}).to_string();
    sink.send(Message::text(hello)).await.expect("hello");
    let welcome = next_text(&mut stream).await.expect("welcome");
    assert_eq!(welcome["type"], "welcome", "{welcome}");
    let count = indexes.len();
    let window = Arc::new(tokio::sync::Semaphore::new(SCANNER_IN_FLIGHT_MAX));
    let reader_window = window.clone();
    let reader = tokio::spawn(async move {
        let mut answers = Vec::with_capacity(count);
        while answers.len() < count {
            let Some(answer) = next_text(&mut stream).await else {
                panic!("the stream ended after {} answers", answers.len());
            };
            answers.push((Instant::now(), answer));
            reader_window.add_permits(1);
        }
        answers
    });
    let started = tokio::time::Instant::now();
    let mut sent = Vec::with_capacity(count);
    for (id, index) in indexes.iter().enumerate() {
        if let Some(interval) = interval {
            tokio::time::sleep_until(started + interval * id as u32).await;
        }
        window.acquire().await.expect("open").forget();
        let code = tickets.code(*index, picket_edge::clock::now_ms());
        let scan = json!({"type": "scan", "id": id, "code": code, "gate": 0,
            "direction": "entry"});
        sent.push(Instant::now());
        sink.send(Message::text(scan.to_string()))
            .await
            .expect("sent");
    }
    let answers = reader.await.expect("reader");
    let _ = sink.send(Message::Close(None)).await;
    answers
        .into_iter()
        .map(|(at, answer)| {
            let id = answer["id"].as_u64().unwrap_or_else(|| panic!("{answer}")) as usize;
            Sample {
                index: indexes[id],
                latency: at - sent[id],
                answer,
            }
        })
        .collect()
}

type Reader = futures_util::stream::SplitStream<picket_tests::scanner::Socket>;

async fn next_text(stream: &mut Reader) -> Option<Value> {
    while let Some(frame) = stream.next().await {
        match frame.ok()? {
            Message::Text(text) => return serde_json::from_str(text.as_str()).ok(),
            Message::Close(frame) => panic!("closed: {frame:?}"),
            _ => continue,
        }
    }
    None
}

/// Checks that every sample admitted its own ticket, each once: the number of admissions.
fn admitted_once(tickets: &DoorTickets, samples: &[Sample]) -> usize {
    let mut seen = HashSet::new();
    for sample in samples {
        assert_eq!(sample.answer["result"], "admitted", "{}", sample.answer);
        let ticket = tickets.tickets[sample.index].0;
        assert_eq!(sample.answer["ticket"], ticket.0.to_string());
        assert!(seen.insert(ticket), "{ticket:?} admitted twice");
    }
    seen.len()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank].as_secs_f64() * 1_000.0
}

fn latencies(samples: &[Sample]) -> String {
    let mut sorted: Vec<Duration> = samples.iter().map(|s| s.latency).collect();
    sorted.sort_unstable();
    format!(
        "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&sorted, 50.0),
        percentile(&sorted, 99.0),
        percentile(&sorted, 100.0)
    )
}

async fn gate_run(count: usize, pace: Option<Duration>) {
    // Paced, the stream runs under the API's default limits (a gate's 17 scans a second is
    // within them); unpaced, the rate limit is lifted to see what one stream carries.
    let door = Door::start(|config| {
        if pace.is_none() {
            config.scanner_messages_per_sec = picket_api::state::SCANNER_MESSAGES_PER_SEC_MAX;
            config.scanner_messages_burst = picket_api::state::SCANNER_MESSAGES_PER_SEC_MAX;
        }
    })
    .await;
    let (tickets, seller) = door.tickets(count).await;
    let tickets = Arc::new(tickets);
    let interval = pace.map(|pace| pace / count as u32);
    let started = Instant::now();
    let samples = stream_scans(
        door.address,
        &seller,
        tickets.clone(),
        (0..count).collect(),
        interval,
    )
    .await;
    let seconds = started.elapsed().as_secs_f64();
    let admitted = admitted_once(&tickets, &samples);
    let how = match pace {
        Some(pace) => format!("paced, {count} over {} s", pace.as_secs()),
        None => format!("unpaced, {SCANNER_IN_FLIGHT_MAX} in flight"),
    };
    println!(
        "gate, one stream, {how}: {admitted} admitted once each of {count} in {seconds:.1} s, \
         {:.0} scans/s; {}",
        count as f64 / seconds,
        latencies(&samples)
    );
    door.node.shutdown().await;
}

async fn checkins_run(count: usize) {
    let door = Door::start(|config| {
        config.scanner_messages_per_sec = picket_api::state::SCANNER_MESSAGES_PER_SEC_MAX;
        config.scanner_messages_burst = picket_api::state::SCANNER_MESSAGES_PER_SEC_MAX;
    })
    .await;
    let runs = STREAMS.len() + HTTP_CONCURRENCY.len();
    let (tickets, seller) = door.tickets(count * runs).await;
    let tickets = Arc::new(tickets);
    let mut next_run = 0..runs;
    let mut range = || {
        let run = next_run.next().expect("a run left");
        run * count..(run + 1) * count
    };
    for streams in STREAMS {
        let range = range();
        let started = Instant::now();
        let scanners = (0..streams).map(|stream| {
            let indexes: Vec<usize> = range.clone().skip(stream).step_by(streams).collect();
            stream_scans(door.address, &seller, tickets.clone(), indexes, None)
        });
        let samples: Vec<Sample> = futures_util::future::join_all(scanners)
            .await
            .into_iter()
            .flatten()
            .collect();
        let seconds = started.elapsed().as_secs_f64();
        let admitted = admitted_once(&tickets, &samples);
        println!(
            "check-ins, {streams:>2} streams × {SCANNER_IN_FLIGHT_MAX} in flight: {:.0}/s \
             ({admitted} in {seconds:.1} s); {}",
            admitted as f64 / seconds,
            latencies(&samples)
        );
    }
    for concurrency in HTTP_CONCURRENCY {
        let range = range();
        let started = Instant::now();
        let next = Arc::new(AtomicUsize::new(range.start));
        let clients = (0..concurrency).map(|_| {
            let (next, tickets, seller) = (next.clone(), tickets.clone(), seller.clone());
            let (address, end) = (door.address, range.end);
            tokio::spawn(async move {
                let path = format!("/api/v2/performances/{}/scans", tickets.performance.0);
                let mut samples = Vec::new();
                loop {
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    if index >= end {
                        return samples;
                    }
                    let code = tickets.code(index, picket_edge::clock::now_ms());
                    let form = json!({"code": code, "gate": 0, "direction": "entry"});
                    let sent = Instant::now();
                    let answer =
                        call(address, "POST", &path, &form.to_string(), Some(&seller)).await;
                    assert_eq!(answer.status, 200, "{:?}", answer.body);
                    samples.push(Sample {
                        index,
                        latency: sent.elapsed(),
                        answer: answer.body,
                    });
                }
            })
        });
        let samples: Vec<Sample> = futures_util::future::join_all(clients)
            .await
            .into_iter()
            .flat_map(|samples| samples.expect("client"))
            .collect();
        let seconds = started.elapsed().as_secs_f64();
        let admitted = admitted_once(&tickets, &samples);
        println!(
            "check-ins, HTTP, {concurrency:>2} concurrent: {:.0}/s ({admitted} in {seconds:.1} s); {}",
            admitted as f64 / seconds,
            latencies(&samples)
        );
    }
    door.node.shutdown().await;
}
