//! Ledger failover through the real binary: `picket ledger` nodes as processes over a private
//! NATS (JetStream) and PostgreSQL started by the harness.
//!
//! - Failover trials: buyers hold, confirm, release and cancel while the leader is killed with
//!   SIGKILL at a random moment; the standby takes over; the journal is then audited against
//!   every acknowledged outcome (nothing lost, no seat sold twice, one outcome per key). Each
//!   trial's seed is printed; `PICKET_FAILOVER_SEED=<seed>` repeats one.
//! - Pause trials: three nodes under load; the leader is paused (SIGSTOP) for 1–5 s at a random
//!   moment and then resumed, as a VM stall would. Each trial ends with exactly one leader, no
//!   partition reported leaderless, every command answered and a clean audit. A paused leader
//!   may be stopped mid-commit holding the leadership row's lock; the server ends that session
//!   (`idle_in_transaction_session_timeout`) so the standbys can take over (issue #12 item 17).
//! - Fencing: the leader is frozen (SIGSTOP) until the standby has taken over, then thawed: it
//!   steps down, and the journal stays consistent.
//! - Cut off: the leader reaches NATS (or PostgreSQL) through a proxy that the test cuts; the
//!   leader stays alive but cannot serve, and the standby, which reaches both, takes over.

use std::time::{Duration, Instant};

use picket_ledger::PgJournal;
use picket_ledger_client::{BusConfig, LedgerClient, NatsLedger};
use picket_ledger_core::*;
use picket_tests::gateway::small_spec;
use picket_tests::ledger::{
    Acked, LedgerNode, Rng, Workload, audit, http_get, submit_until_acknowledged,
};
use picket_tests::{Nats, Postgres};

const PICKET: &str = env!("CARGO_BIN_EXE_picket");
const WAIT_MAX: Duration = Duration::from_secs(30);
const LEASE_MS: u64 = 1_000;
const SEATS: u16 = 60;
const PERFORMANCES: [u64; 2] = [21, 22];
const TRIALS: u64 = 3;
/// Pause trials per run (`picket loadtest failover --pause-ms` runs many more).
const PAUSE_TRIALS: u64 = 3;
/// A paused leader stays stopped this long at least, and below this plus `PAUSE_SPREAD_MS`.
const PAUSE_MIN_MS: u64 = 1_000;
const PAUSE_SPREAD_MS: u64 = 4_000;
const DRIVERS: usize = 4;
/// Enough that the drivers are still busy at the latest kill moment (1.2 s) on a fast machine.
const COMMANDS_PER_DRIVER: usize = 1_500;

async fn client(nats_url: &str) -> LedgerClient {
    let mut bus = BusConfig::new(nats_url, 1);
    bus.request_timeout = Duration::from_millis(1_000);
    bus.outcome_wait_max = Duration::from_secs(4);
    LedgerClient::Nats(
        NatsLedger::connect(bus, "failover-client")
            .await
            .expect("client"),
    )
}

async fn open_performances(client: &LedgerClient) {
    for performance in PERFORMANCES {
        let request = Request {
            actor: ActorId(0),
            key: IdempotencyKey::new(format!("open-{performance}")).expect("key"),
            command: picket_ledger_core::Command::OpenPerformance(Box::new(small_spec(
                performance,
                SEATS,
            ))),
        };
        let outcome = submit_until_acknowledged(client, &request, WAIT_MAX).await;
        assert!(matches!(outcome, Some(Ok(_))), "{outcome:?}");
    }
}

/// Runs `DRIVERS` concurrent workloads; returns them when all are done.
async fn drive(client: &LedgerClient, seed: u64, run: &str) -> Vec<Workload> {
    let mut tasks = Vec::new();
    for driver in 0..DRIVERS {
        let client = client.clone();
        let run = format!("{run}-d{driver}");
        let performances = PERFORMANCES.map(PerformanceId).to_vec();
        tasks.push(tokio::spawn(async move {
            let mut workload =
                Workload::new(seed.wrapping_add(driver as u64), &run, performances, SEATS);
            workload.drive(&client, COMMANDS_PER_DRIVER, WAIT_MAX).await;
            workload
        }));
    }
    let mut workloads = Vec::new();
    for task in tasks {
        workloads.push(task.await.expect("driver"));
    }
    workloads
}

async fn check(database_url: &str, workloads: &[Workload], seed: u64) {
    let mismatches: Vec<&String> = workloads.iter().flat_map(|w| &w.mismatches).collect();
    assert!(mismatches.is_empty(), "seed {seed}: {mismatches:#?}");
    let unacknowledged: usize = workloads.iter().map(|w| w.unacknowledged).sum();
    assert_eq!(
        unacknowledged, 0,
        "seed {seed}: commands never acknowledged"
    );
    let acked: Vec<Acked> = workloads.iter().flat_map(|w| w.acked.clone()).collect();
    let journal = PgJournal::connect(database_url, 2, Duration::from_secs(5))
        .await
        .expect("journal");
    let violations = audit(&journal, 1, &[0], &acked).await;
    assert!(violations.is_empty(), "seed {seed}: {violations:#?}");
}

fn seeds() -> Vec<u64> {
    match std::env::var("PICKET_FAILOVER_SEED") {
        Ok(seed) => vec![seed.parse().expect("PICKET_FAILOVER_SEED is a number")],
        Err(_) => {
            let base = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64);
            (0..TRIALS).map(|i| base.wrapping_add(i * 7_919)).collect()
        }
    }
}

#[test]
fn leader_killed_at_a_random_moment_loses_and_duplicates_nothing() {
    let postgres = Postgres::start().expect("postgres");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    for (trial, seed) in seeds().into_iter().enumerate() {
        eprintln!("failover trial {trial}: seed {seed} (PICKET_FAILOVER_SEED={seed} repeats it)");
        let nats = Nats::start().expect("nats");
        let database_url = postgres
            .create_database(&format!("failover{trial}"))
            .expect("database");
        let logs = tempfile::tempdir().expect("log dir");
        let mut first = LedgerNode::spawn(
            PICKET,
            &database_url,
            &nats.url(),
            LEASE_MS,
            logs.path(),
            "first",
        );
        first.wait_role("leader");
        let second = LedgerNode::spawn(
            PICKET,
            &database_url,
            &nats.url(),
            LEASE_MS,
            logs.path(),
            "second",
        );
        second.wait_role("standby");
        runtime.block_on(async {
            let client = client(&nats.url()).await;
            open_performances(&client).await;
            let drivers = tokio::spawn({
                let client = client.clone();
                async move { drive(&client, seed, &format!("t{trial}")).await }
            });
            let kill_after = Duration::from_millis(200 + Rng(seed).below(1_000));
            tokio::time::sleep(kill_after).await;
            assert!(!drivers.is_finished(), "the kill must come mid-stream");
            first.kill();
            let killed_at = Instant::now();
            // The node is handed back: dropping it would kill the new leader.
            let _second = tokio::task::spawn_blocking(move || {
                second.wait_role("leader");
                second
            })
            .await
            .expect("standby took over");
            eprintln!(
                "trial {trial}: leader killed after {kill_after:?}; standby leading {:?} later",
                killed_at.elapsed()
            );
            let workloads = drivers.await.expect("drivers");
            check(&database_url, &workloads, seed).await;
        });
    }
}

/// Waits until exactly one of `nodes` leads partition 0 and none reports it leaderless; panics
/// with every node's view past `WAIT_MAX`.
fn wait_for_one_leader(nodes: &[LedgerNode]) {
    let deadline = Instant::now() + WAIT_MAX;
    loop {
        let roles: Vec<Option<String>> = nodes.iter().map(LedgerNode::role).collect();
        let leaderless: Vec<Option<bool>> = nodes.iter().map(LedgerNode::leaderless).collect();
        let leaders = roles
            .iter()
            .filter(|r| r.as_deref() == Some("leader"))
            .count();
        if leaders == 1 && leaderless.iter().all(|l| *l == Some(false)) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "no single leader: roles {roles:?}, leaderless {leaderless:?}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn leader_paused_at_a_random_moment_under_load_recovers_with_one_leader() {
    let postgres = Postgres::start().expect("postgres");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    for (trial, seed) in seeds().into_iter().take(PAUSE_TRIALS as usize).enumerate() {
        eprintln!("pause trial {trial}: seed {seed} (PICKET_FAILOVER_SEED={seed} repeats it)");
        let nats = Nats::start().expect("nats");
        let database_url = postgres
            .create_database(&format!("pause{trial}"))
            .expect("database");
        let logs = tempfile::tempdir().expect("log dir");
        let spawn = |name: &str| {
            LedgerNode::spawn(
                PICKET,
                &database_url,
                &nats.url(),
                LEASE_MS,
                logs.path(),
                name,
            )
        };
        let first = spawn("first");
        first.wait_role("leader");
        let nodes = vec![first, spawn("second"), spawn("third")];
        for node in &nodes[1..] {
            node.wait_role("standby");
        }
        let mut rng = Rng(seed);
        let pause_after = Duration::from_millis(200 + rng.below(1_000));
        let pause = Duration::from_millis(PAUSE_MIN_MS + rng.below(PAUSE_SPREAD_MS));
        let nodes = runtime.block_on(async {
            let client = client(&nats.url()).await;
            open_performances(&client).await;
            let drivers = tokio::spawn({
                let client = client.clone();
                async move { drive(&client, seed, &format!("p{trial}")).await }
            });
            tokio::time::sleep(pause_after).await;
            assert!(!drivers.is_finished(), "the pause must come mid-stream");
            let paused = nodes
                .iter()
                .position(|n| n.role().as_deref() == Some("leader"))
                .expect("a leader before the pause");
            nodes[paused].signal("STOP");
            tokio::time::sleep(pause).await;
            nodes[paused].signal("CONT");
            eprintln!(
                "pause trial {trial}: leader paused {pause:?} after {pause_after:?}, resumed"
            );
            let workloads = drivers.await.expect("drivers");
            let nodes = tokio::task::spawn_blocking(move || {
                wait_for_one_leader(&nodes);
                nodes
            })
            .await
            .expect("one leader");
            check(&database_url, &workloads, seed).await;
            nodes
        });
        drop(nodes);
    }
}

#[test]
fn a_frozen_leader_is_fenced_and_steps_down_when_it_wakes() {
    let postgres = Postgres::start().expect("postgres");
    let nats = Nats::start().expect("nats");
    let database_url = postgres.create_database("fencing").expect("database");
    let logs = tempfile::tempdir().expect("log dir");
    let first = LedgerNode::spawn(
        PICKET,
        &database_url,
        &nats.url(),
        LEASE_MS,
        logs.path(),
        "first",
    );
    first.wait_role("leader");
    let second = LedgerNode::spawn(
        PICKET,
        &database_url,
        &nats.url(),
        LEASE_MS,
        logs.path(),
        "second",
    );
    second.wait_role("standby");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let client = client(&nats.url()).await;
        open_performances(&client).await;
        let mut workload =
            Workload::new(5, "fence", PERFORMANCES.map(PerformanceId).to_vec(), SEATS);
        workload.drive(&client, 30, WAIT_MAX).await;

        first.signal("STOP");
        let second = tokio::task::spawn_blocking(move || {
            second.wait_role("leader");
            second
        })
        .await
        .expect("standby took over");
        workload.drive(&client, 30, WAIT_MAX).await;

        // Thawed, the old leader still believes it leads until its next commit or renewal;
        // commands keep flowing meanwhile, so it tries to commit them.
        first.signal("CONT");
        workload.drive(&client, 30, WAIT_MAX).await;
        let first = tokio::task::spawn_blocking(move || {
            first.wait_role("standby");
            first
        })
        .await
        .expect("old leader stepped down");
        assert_eq!(second.role().as_deref(), Some("leader"));
        let metrics = http_get(first.port, "/metrics").unwrap_or_default();
        eprintln!(
            "old leader after waking: {}",
            metrics
                .lines()
                .filter(|l| l.starts_with("picket_ledger_commit_failures")
                    || l.starts_with("picket_ledger_takeovers"))
                .collect::<Vec<_>>()
                .join("; ")
        );
        check(&database_url, std::slice::from_ref(&workload), 5).await;
    });
}

/// Which server the leader is cut off from.
#[derive(Clone, Copy, Debug)]
enum CutOff {
    Nats,
    Postgres,
}

/// The first leader reaches one server only through a proxy; cutting the proxy leaves it alive
/// but unable to serve. The standby, which still reaches both, must take over, and the journal
/// must stay consistent.
fn cut_off_leader_is_replaced(cut_off: CutOff) {
    let postgres = Postgres::start().expect("postgres");
    let nats = Nats::start().expect("nats");
    let database_url = postgres.create_database("cutoff").expect("database");
    let upstream = match cut_off {
        CutOff::Nats => nats.port(),
        CutOff::Postgres => postgres.port(),
    };
    let proxy = picket_tests::TcpProxy::start(upstream).expect("proxy");
    let direct = format!("127.0.0.1:{upstream}");
    let proxied = format!("127.0.0.1:{}", proxy.port());
    let (first_database, first_nats) = match cut_off {
        CutOff::Nats => (database_url.clone(), nats.url().replace(&direct, &proxied)),
        CutOff::Postgres => (database_url.replace(&direct, &proxied), nats.url()),
    };
    assert!(
        first_database != database_url || first_nats != nats.url(),
        "proxied"
    );
    let logs = tempfile::tempdir().expect("log dir");
    let first = LedgerNode::spawn(
        PICKET,
        &first_database,
        &first_nats,
        LEASE_MS,
        logs.path(),
        "first",
    );
    first.wait_role("leader");
    let second = LedgerNode::spawn(
        PICKET,
        &database_url,
        &nats.url(),
        LEASE_MS,
        logs.path(),
        "second",
    );
    second.wait_role("standby");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let client = client(&nats.url()).await;
        open_performances(&client).await;
        let mut workload = Workload::new(9, "cut", PERFORMANCES.map(PerformanceId).to_vec(), SEATS);
        workload.drive(&client, 30, WAIT_MAX).await;
        proxy.cut();
        let cut_at = Instant::now();
        let second = tokio::task::spawn_blocking(move || {
            second.wait_role("leader");
            second
        })
        .await
        .expect("standby took over");
        eprintln!(
            "cut off from {cut_off:?}: standby leading {:?} after the cut",
            cut_at.elapsed()
        );
        workload.drive(&client, 30, WAIT_MAX).await;
        let first = tokio::task::spawn_blocking(move || {
            first.wait_role("standby");
            first
        })
        .await
        .expect("the cut-off leader stepped down");
        assert_eq!(second.role().as_deref(), Some("leader"));
        drop(first);
        check(&database_url, std::slice::from_ref(&workload), 9).await;
    });
}

#[test]
fn a_leader_cut_off_from_nats_hands_over() {
    cut_off_leader_is_replaced(CutOff::Nats);
}

#[test]
fn a_leader_cut_off_from_postgres_hands_over() {
    cut_off_leader_is_replaced(CutOff::Postgres);
}
