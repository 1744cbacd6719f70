//! Durable booking commands end to end over NATS: client → JetStream → ledger leader → group
//! commit to PostgreSQL → reply. And how long a restart takes to recover a journal of 1M events.
//!
//! ```sh
//! cargo bench -p picket-tests --bench ledger_nats              # throughput and latency
//! cargo bench -p picket-tests --bench ledger_nats -- restart   # 1M-event recovery
//! ```
//!
//! PostgreSQL (fsync on, synchronous commit) and NATS (JetStream file store) are private
//! instances started by the harness; the ledger node and the client run in this process, all
//! on the one machine.
//!
//! - closed loop: a fixed number of commands in flight, each a hold of one seat by its own
//!   buyer (every hold succeeds and journals two events);
//! - open loop: commands sent at a fixed rate whatever the replies do, so queueing shows in the
//!   latency (p50/p99/max of submit → committed outcome).

use std::sync::Arc;
use std::time::{Duration, Instant};

use picket_ledger::journal::{Entry, recover};
use picket_ledger::metrics::Metrics;
use picket_ledger::{Journal, LedgerConfig, Node, NodeConfig, PgJournal, StoreUrl};
use picket_ledger_client::{BusConfig, LedgerClient, NatsLedger};
use picket_ledger_core::*;
use picket_tests::gateway::small_spec;
use picket_tests::{Nats, Postgres};
use prometheus_client::registry::Registry;

/// A performance spec travels in one NATS message (at most `message_bytes_max`, 1 MiB; its
/// seats written in rows, a few bytes each).
const SEATS_PER_PERFORMANCE: u16 = 4_000;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if !args.iter().any(|a| a == "--bench") {
        return;
    }
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    if args.iter().any(|a| a == "restart") {
        runtime.block_on(restart());
    } else {
        runtime.block_on(end_to_end());
    }
}

async fn end_to_end() {
    let postgres = Postgres::start().expect("postgres");
    let database_url = postgres.create_database("bench").expect("database");
    let nats = Nats::start().expect("nats");
    let ledger = LedgerConfig::new(StoreUrl::Postgres(database_url.clone()));
    let bus = BusConfig::new(nats.url(), 1);
    let journal = PgJournal::connect(&database_url, 4, Duration::from_secs(5))
        .await
        .expect("journal");
    let mut ledger = ledger;
    if let Ok(every) = std::env::var("PICKET_BENCH_SNAPSHOT_EVERY") {
        ledger.snapshot_every_entries = every.parse().expect("a number");
    }
    let config = NodeConfig::new(ledger, bus.clone(), vec![0], "bench-node".into());
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
    let client = LedgerClient::Nats(NatsLedger::connect(bus, "bench").await.expect("client"));
    let mut next = Counter::default();
    // Warm up (streams, consumers, connections).
    closed_loop(&client, &mut next, 64, 2_000).await;
    for in_flight in [1, 64, 256, 1_024] {
        let count = (in_flight * 40).clamp(2_000, 40_000);
        let (rate, _) = closed_loop(&client, &mut next, in_flight, count).await;
        println!("closed loop, {in_flight:>5} in flight: {rate:>8.0} commands/s");
    }
    for rate in [1_000, 5_000, 10_000] {
        let latencies = open_loop(&client, &mut next, rate, Duration::from_secs(10)).await;
        println!(
            "open loop at {rate:>6}/s for 10 s: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms, {} of {} answered",
            percentile(&latencies.answered, 50.0),
            percentile(&latencies.answered, 99.0),
            percentile(&latencies.answered, 100.0),
            latencies.answered.len(),
            latencies.sent
        );
    }
    node.shutdown().await;
}

/// Hands out holds of distinct seats (opening a new performance when one is full).
#[derive(Default)]
struct Counter {
    n: u64,
    opened: u64,
}

impl Counter {
    async fn next(&mut self, client: &LedgerClient) -> Request {
        let performance = 1_000 + self.n / u64::from(SEATS_PER_PERFORMANCE);
        if performance >= 1_000 + self.opened {
            let open = Request {
                actor: ActorId(0),
                key: IdempotencyKey::new(format!("open-{performance}")).expect("key"),
                command: Command::OpenPerformance(Box::new(small_spec(
                    performance,
                    SEATS_PER_PERFORMANCE,
                ))),
            };
            client.submit(open).await.expect("open").expect("opened");
            self.opened += 1;
        }
        let seat = (self.n % u64::from(SEATS_PER_PERFORMANCE)) as u32;
        self.n += 1;
        Request {
            actor: ActorId(1 + self.n),
            key: IdempotencyKey::new(format!("b{}", self.n)).expect("key"),
            command: Command::Hold {
                performance: PerformanceId(performance),
                selection: Selection::Seats(vec![SeatId(seat)]),
                admission: None,
                offer: None,
            },
        }
    }
}

/// `count` commands with `in_flight` outstanding; returns (commands/s, seconds).
async fn closed_loop(
    client: &LedgerClient,
    next: &mut Counter,
    in_flight: usize,
    count: usize,
) -> (f64, f64) {
    let mut requests = Vec::with_capacity(count);
    for _ in 0..count {
        requests.push(next.next(client).await);
    }
    let requests = Arc::new(std::sync::Mutex::new(requests));
    let started = Instant::now();
    let mut workers = Vec::new();
    for _ in 0..in_flight {
        let client = client.clone();
        let requests = requests.clone();
        workers.push(tokio::spawn(async move {
            loop {
                let Some(request) = requests.lock().expect("lock").pop() else {
                    return;
                };
                let outcome = client.submit(request).await.expect("committed");
                assert!(outcome.is_ok(), "{outcome:?}");
            }
        }));
    }
    for worker in workers {
        worker.await.expect("worker");
    }
    let seconds = started.elapsed().as_secs_f64();
    (count as f64 / seconds, seconds)
}

struct Latencies {
    sent: usize,
    answered: Vec<f64>,
}

/// Sends `rate` commands per second for `duration` without waiting for replies.
async fn open_loop(
    client: &LedgerClient,
    next: &mut Counter,
    rate: u64,
    duration: Duration,
) -> Latencies {
    let total = (rate as f64 * duration.as_secs_f64()) as usize;
    let mut requests = Vec::with_capacity(total);
    for _ in 0..total {
        requests.push(next.next(client).await);
    }
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let started = tokio::time::Instant::now();
    let interval = Duration::from_secs_f64(1.0 / rate as f64);
    for (i, request) in requests.into_iter().enumerate() {
        // Sends are due at fixed times: a late sender catches up, it never skips.
        tokio::time::sleep_until(started + interval * i as u32).await;
        let client = client.clone();
        let tx = tx.clone();
        tokio::spawn(async move {
            let sent = Instant::now();
            if let Ok(Ok(_)) = client.submit(request).await {
                let _ = tx.send(sent.elapsed().as_secs_f64() * 1_000.0);
            }
        });
    }
    drop(tx);
    let mut answered = Vec::with_capacity(total);
    while let Some(ms) = rx.recv().await {
        answered.push(ms);
    }
    answered.sort_by(f64::total_cmp);
    Latencies {
        sent: total,
        answered,
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

/// Writes a journal of 1M events (500k holds: `PlacesHeld` + `CommandRecorded`) and times
/// recovery from the journal alone and from a snapshot 100k entries before the end.
async fn restart() {
    const ENTRIES: u64 = 500_000;
    const BATCH: u64 = 2_000;
    let postgres = Postgres::start().expect("postgres");
    let database_url = postgres.create_database("restart").expect("database");
    let journal = PgJournal::connect(&database_url, 4, Duration::from_secs(5))
        .await
        .expect("journal");
    let mut ledger = Ledger::new(0);
    let seats: u16 = 60_000;
    let mut seq = 0;
    let mut snapshot_taken = false;
    let started = Instant::now();
    while seq < ENTRIES {
        let mut entries = Vec::new();
        for _ in 0..BATCH {
            let n = seq + entries.len() as u64;
            let performance = n / u64::from(seats);
            if n.is_multiple_of(u64::from(seats)) {
                let open = Request {
                    actor: ActorId(0),
                    key: IdempotencyKey::new(format!("open-{performance}")).expect("key"),
                    command: Command::OpenPerformance(Box::new(small_spec(performance, seats))),
                };
                let step = ledger.execute(1_000, &open);
                entries.push(Entry::encode(
                    seq + entries.len() as u64 + 1,
                    1_000,
                    &step.events,
                ));
                continue;
            }
            let request = Request {
                actor: ActorId(1 + n),
                key: IdempotencyKey::new(format!("k{n}")).expect("key"),
                command: Command::Hold {
                    performance: PerformanceId(performance),
                    selection: Selection::Seats(vec![SeatId((n % u64::from(seats)) as u32)]),
                    admission: None,
                    offer: None,
                },
            };
            let step = ledger.execute(1_000, &request);
            entries.push(Entry::encode(
                seq + entries.len() as u64 + 1,
                1_000,
                &step.events,
            ));
        }
        journal.append(0, &entries, None).await.expect("append");
        seq += entries.len() as u64;
        if !snapshot_taken && seq >= ENTRIES - 100_000 {
            let snapshot = picket_ledger::journal::Snapshot::encode(seq, &ledger);
            journal.save_snapshot(0, &snapshot).await.expect("snapshot");
            snapshot_taken = true;
        }
    }
    println!(
        "wrote {seq} entries (≈{} events) in {:.1} s",
        seq * 2,
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let (recovered, at) = recover(&journal, 0, 10_000).await.expect("recover");
    println!(
        "recovery from a snapshot 100k entries back: {:.2} s (to seq {at})",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(recovered.digest(), ledger.digest());
    full_replay_recovery(&journal, &ledger).await;
}

/// Recovery with no snapshot at all: the whole journal replayed.
async fn full_replay_recovery(journal: &PgJournal, expected: &Ledger) {
    let started = Instant::now();
    let mut ledger = Ledger::new(0);
    let seq = picket_ledger::journal::catch_up(journal, 0, &mut ledger, 0, 10_000)
        .await
        .expect("replay");
    println!(
        "recovery replaying the whole journal: {:.2} s ({seq} entries)",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(ledger.digest(), expected.digest());
}
