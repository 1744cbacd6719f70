//! Queue joins per second through Redis: the waiting room's hottest write at a ticket open.
//!
//! ```sh
//! cargo bench -p picket-tests --bench queue_joins
//! ```
//!
//! A Redis started by the harness (no persistence, as the harness runs it) and `stores`
//! independent `RedisStore`s, one per simulated gateway, each with its own multiplexed
//! connection. Every join is one Lua script (one place per identity, Redis' own clock). Joins are
//! issued with a fixed number in flight per store; each identity joins once.
//!
//! Two phases per run: joins before the open (into the pre-queue set) and joins after the open
//! (first-in-first-out places). Then the same identities join again (a reconnect: the script
//! finds the existing place).

use std::sync::Arc;
use std::time::{Duration, Instant};

use picket_room::redis::RedisStore;
use picket_room::{QueueStore, SaleSettings};

const JOINS_PER_PHASE: usize = 200_000;
const STORES: usize = 3;
const IN_FLIGHT_PER_STORE: usize = 128;

fn settings(open_at_ms: u64) -> SaleSettings {
    SaleSettings {
        open_at_ms,
        admit_per_sec: 1_000,
        active_max: 1_000,
        admission_ttl_ms: 600_000,
        seat_limit: 4,
        grace_ms: 600_000,
        paused: false,
    }
}

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let redis = picket_tests::Redis::start().expect("start redis");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let stores: Vec<Arc<RedisStore>> = (0..STORES)
            .map(|_| Arc::new(RedisStore::connect(&redis.url()).expect("connect")))
            .collect();
        let far_future = picket_edge::clock::now_ms() + 3_600_000;
        stores[0]
            .configure(1, settings(far_future))
            .await
            .expect("configure");
        let rate = phase(&stores, 1, "pre").await;
        println!("pre-queue joins: {rate:.0}/s");
        stores[0]
            .configure(2, settings(0))
            .await
            .expect("configure");
        let rate = phase(&stores, 2, "fifo").await;
        println!("FIFO joins (after the open): {rate:.0}/s");
        let rate = phase(&stores, 2, "fifo").await;
        println!("rejoins (identity already placed): {rate:.0}/s");
    });
}

/// Joins `JOINS_PER_PHASE` identities named `<prefix>-<n>` into `sale`; returns joins/s.
async fn phase(stores: &[Arc<RedisStore>], sale: u64, prefix: &str) -> f64 {
    let started = Instant::now();
    let mut tasks = Vec::new();
    let workers = stores.len() * IN_FLIGHT_PER_STORE;
    for worker in 0..workers {
        let store = stores[worker % stores.len()].clone();
        let prefix = prefix.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut n = worker;
            while n < JOINS_PER_PHASE {
                let identity = format!("{prefix}-{n:08}");
                store.join(sale, &identity).await.expect("join");
                n += workers;
            }
        }));
    }
    for task in tasks {
        task.await.expect("join task");
    }
    let elapsed = started.elapsed().max(Duration::from_micros(1));
    JOINS_PER_PHASE as f64 / elapsed.as_secs_f64()
}
