//! Ledger failover time: a leader `picket ledger` process killed with SIGKILL → the first
//! command served by the standby that took over. Median of trials.
//!
//! ```sh
//! cargo bench --bench failover                       # 5 trials, 2 s lease (the default)
//! PICKET_BENCH_LEASE_MS=1000 cargo bench --bench failover
//! ```
//!
//! Private NATS and PostgreSQL from the harness; two ledger nodes; a prober in this process
//! sends a new hold every 10 ms (each with its own key) and notes when each is acknowledged.
//! The gap is the time from the kill to the first acknowledgement of a command sent after it.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use picket_ledger_client::{BusConfig, LedgerClient, NatsLedger};
use picket_ledger_core::*;
use picket_tests::gateway::small_spec;
use picket_tests::ledger::LedgerNode;
use picket_tests::{Nats, Postgres};

const PROBE_INTERVAL: Duration = Duration::from_millis(10);

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let trials = std::env::var("PICKET_BENCH_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let lease_ms = std::env::var("PICKET_BENCH_LEASE_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2_000);
    let postgres = Postgres::start().expect("postgres");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut gaps = Vec::new();
    for trial in 0..trials {
        let nats = Nats::start().expect("nats");
        let database_url = postgres
            .create_database(&format!("failover{trial}"))
            .expect("db");
        let logs = tempfile::tempdir().expect("logs");
        let picket = env!("CARGO_BIN_EXE_picket");
        let mut first = LedgerNode::spawn(
            picket,
            &database_url,
            &nats.url(),
            lease_ms,
            logs.path(),
            "a",
        );
        first.wait_role("leader");
        let second = LedgerNode::spawn(
            picket,
            &database_url,
            &nats.url(),
            lease_ms,
            logs.path(),
            "b",
        );
        second.wait_role("standby");
        let gap = runtime.block_on(measure(&nats.url(), &mut first));
        println!(
            "trial {trial}: leader killed → first command served {:.0} ms later",
            gap * 1e3
        );
        gaps.push(gap);
        drop(second);
    }
    gaps.sort_by(f64::total_cmp);
    println!(
        "lease {lease_ms} ms: failover gap median {:.0} ms (min {:.0}, max {:.0}) over {} trials",
        gaps[gaps.len() / 2] * 1e3,
        gaps[0] * 1e3,
        gaps[gaps.len() - 1] * 1e3,
        gaps.len()
    );
}

async fn measure(nats_url: &str, leader: &mut LedgerNode) -> f64 {
    let mut bus = BusConfig::new(nats_url, 1);
    bus.request_timeout = Duration::from_millis(200);
    bus.outcome_wait_max = Duration::from_secs(10);
    let client = LedgerClient::Nats(
        NatsLedger::connect(bus, "failover-bench")
            .await
            .expect("client"),
    );
    let open = Request {
        actor: ActorId(0),
        key: IdempotencyKey::new("open-1").expect("key"),
        command: Command::OpenPerformance(Box::new(small_spec(1, 4_000))),
    };
    client.submit(open).await.expect("open").expect("opened");
    let acknowledged: Arc<Mutex<Vec<(Instant, Instant)>>> = Arc::default();
    let prober = tokio::spawn({
        let client = client.clone();
        let acknowledged = acknowledged.clone();
        async move {
            for n in 0u32.. {
                let request = Request {
                    actor: ActorId(1 + u64::from(n)),
                    key: IdempotencyKey::new(format!("p{n}")).expect("key"),
                    command: Command::Hold {
                        performance: PerformanceId(1),
                        selection: Selection::Seats(vec![SeatId(n % 4_000)]),
                        admission: None,
                        offer: None,
                    },
                };
                let client = client.clone();
                let acknowledged = acknowledged.clone();
                tokio::spawn(async move {
                    let sent = Instant::now();
                    if client.submit(request).await.is_ok() {
                        acknowledged
                            .lock()
                            .expect("lock")
                            .push((sent, Instant::now()));
                    }
                });
                tokio::time::sleep(PROBE_INTERVAL).await;
            }
        }
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    leader.kill();
    let killed = Instant::now();
    let deadline = killed + Duration::from_secs(30);
    let gap = loop {
        let first_after = acknowledged
            .lock()
            .expect("lock")
            .iter()
            .filter(|(sent, _)| *sent > killed)
            .map(|(_, at)| *at)
            .min();
        if let Some(at) = first_after {
            break at.duration_since(killed).as_secs_f64();
        }
        assert!(
            Instant::now() < deadline,
            "no command served after the kill"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    prober.abort();
    gap
}
