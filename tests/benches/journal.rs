//! Journal throughput: rows (one executed hold each: `PlacesHeld` + `CommandRecorded`, two
//! events) committed per second to PostgreSQL and to SQLite with synchronous commit, for batch
//! sizes 1, 64 and 1024. PostgreSQL is a private cluster the harness starts (fsync on,
//! synchronous_commit on).
//!
//! The `writer_postgres` group measures whole durable commands through the single writer.
//!
//! `cargo bench -p picket-tests --bench journal`

use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use picket_ledger::journal::Entry;
use picket_ledger::{Journal, LedgerConfig, LedgerService, PgJournal, SqliteJournal, StoreUrl};
use picket_ledger_core::*;
use picket_tests::Postgres;

const BATCH_SIZES: [usize; 3] = [1, 64, 1_024];
const PARTITION: u16 = 0;

/// The events of one realistic step: a two-seat hold and its recorded outcome.
fn hold_events(n: u64) -> Vec<Event> {
    let places = vec![
        Place::Seat(SeatId(n as u32 * 2)),
        Place::Seat(SeatId(n as u32 * 2 + 1)),
    ];
    let hold = HoldId(n);
    let expires_at_ms = 1_764_000_420_000 + n;
    let reply = Reply::Held {
        hold,
        places: places.clone(),
        amount_won: 320_000,
        expires_at_ms,
        discount_won: 0,
        booking_fee_won: 0,
    };
    vec![
        Event::PlacesHeld {
            performance: PerformanceId(77),
            hold,
            buyer: ActorId(1_000 + n),
            places,
            amount_won: 320_000,
            expires_at_ms,
            admission: None,
            prices_won: vec![],
            reduced: vec![],
            offer: None,
            booking_fee_won: 0,
        },
        Event::CommandRecorded {
            actor: ActorId(1_000 + n),
            key: IdempotencyKey::new(format!("hold-{n}")).expect("valid key"),
            at_ms: 1_764_000_000_000 + n,
            outcome: Ok(reply),
        },
    ]
}

/// Appends `iters` batches of `batch` rows, continuing the partition's seq, and returns the time.
async fn append_batches<J: Journal>(journal: &J, batch: usize, iters: u64) -> Duration {
    let mut seq = journal.last_seq(PARTITION).await.expect("last seq");
    let template = hold_events(1);
    let mut total = Duration::ZERO;
    for _ in 0..iters {
        let entries: Vec<Entry> = (0..batch)
            .map(|i| Entry::encode(seq + 1 + i as u64, 1_764_000_000_000, &template))
            .collect();
        let started = Instant::now();
        journal
            .append(PARTITION, &entries, None)
            .await
            .expect("append");
        total += started.elapsed();
        seq += batch as u64;
    }
    total
}

fn bench_store<J: Journal>(
    c: &mut Criterion,
    name: &str,
    runtime: &tokio::runtime::Runtime,
    journal: &J,
) {
    let mut group = c.benchmark_group(format!("journal_append/{name}"));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(4))
        .warm_up_time(Duration::from_secs(1));
    for batch in BATCH_SIZES {
        group.throughput(Throughput::Elements(batch as u64));
        group.bench_with_input(BenchmarkId::from_parameter(batch), &batch, |b, &batch| {
            b.iter_custom(|iters| runtime.block_on(append_batches(journal, batch, iters)));
        });
    }
    group.finish();
}

fn journal(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let pg = Postgres::start().expect("postgres");
    let pg_journal = runtime
        .block_on(PgJournal::connect(&pg.url(), 2, Duration::from_secs(5)))
        .expect("connect");
    bench_store(c, "postgres", &runtime, &pg_journal);

    let dir = tempfile::tempdir().expect("tempdir");
    let sqlite = runtime
        .block_on(SqliteJournal::open(&dir.path().join("bench.sqlite")))
        .expect("open sqlite");
    bench_store(c, "sqlite", &runtime, &sqlite);
}

/// Durable commands per second through the single writer (queue → core → group commit →
/// reply) into PostgreSQL, with `in_flight` commands outstanding at a time, as many gateways
/// would keep.
fn writer(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let pg = Postgres::start().expect("postgres");
    let config = LedgerConfig::new(StoreUrl::Postgres(pg.url()));
    let mut registry = prometheus_client::registry::Registry::default();
    let service = runtime
        .block_on(LedgerService::start(&config, &mut registry))
        .expect("start ledger");
    let mut group = c.benchmark_group("writer_postgres");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    let mut next_key = 0u64;
    for in_flight in [1usize, 64, 1_024] {
        group.throughput(Throughput::Elements(in_flight as u64));
        group.bench_with_input(
            BenchmarkId::new("in_flight", in_flight),
            &in_flight,
            |b, &in_flight| {
                b.iter_custom(|iters| {
                    let requests: Vec<Request> = (0..iters as usize * in_flight)
                        .map(|_| {
                            next_key += 1;
                            // Releases of holds that do not exist: each is still a full durable
                            // command (decided, journaled with its outcome, answered).
                            Request {
                                actor: ActorId(next_key),
                                key: IdempotencyKey::new(format!("b{next_key}"))
                                    .expect("valid key"),
                                command: Command::Release {
                                    performance: PerformanceId(1),
                                    hold: HoldId(next_key),
                                },
                            }
                        })
                        .collect();
                    runtime.block_on(async {
                        let started = Instant::now();
                        for wave in requests.chunks(in_flight) {
                            let submits = wave.iter().map(|r| service.handle.submit(r.clone()));
                            for outcome in futures_util::future::join_all(submits).await {
                                outcome
                                    .expect("acknowledged")
                                    .expect_err("no such performance");
                            }
                        }
                        started.elapsed()
                    })
                });
            },
        );
    }
    group.finish();
    runtime.block_on(service.writer.shutdown());
}

criterion_group!(benches, journal, writer);
criterion_main!(benches);
