//! The admin dashboard's status board against real `picket ledger` processes over a private
//! NATS and PostgreSQL from the harness: the board sees the leader and its standby with the
//! standby's lag; after the leader is killed (SIGKILL) the standby leads on the board and the
//! dead node goes stale; a node stopped with SIGTERM says so and leaves the board at once.
//!
//! Two boards watch: `quick` forgets a silent source after [`QUICK_STALE`], `patient` only after
//! ten minutes, so what leaves `patient` left because its node said it stopped.

use std::time::Duration;

use picket_ledger_client::StatusBoard;
use picket_ledger_client::status::Platform;
use picket_tests::ledger::LedgerNode;
use picket_tests::{Nats, Postgres};
use tokio::time::Instant;

const PICKET: &str = env!("CARGO_BIN_EXE_picket");
const LEASE_MS: u64 = 1_000;
const QUICK_STALE: Duration = Duration::from_millis(2_500);
const PATIENT_STALE: Duration = Duration::from_secs(600);
const WAIT_MAX: Duration = Duration::from_secs(30);

/// Node ids are `gw-<pid>-…`: the process's id first.
fn of(node: &str, process: &LedgerNode) -> bool {
    node.starts_with(&format!("gw-{}-", process.child.id()))
}

async fn wait_for(board: &StatusBoard, what: &str, done: impl Fn(&Platform) -> bool) -> Platform {
    let deadline = Instant::now() + WAIT_MAX;
    loop {
        let platform = board.platform(1, Instant::now());
        if done(&platform) {
            return platform;
        }
        assert!(Instant::now() < deadline, "{what}: {platform:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_follows_a_failover_and_forgets_dead_and_stopped_nodes() {
    let postgres = Postgres::start().expect("postgres");
    let database_url = postgres.create_database("ledger").expect("database");
    let nats = Nats::start().expect("nats");
    let dir = tempfile::tempdir().expect("tempdir");
    let client = picket_ledger_client::bus::connect(&nats.url(), "status-test")
        .await
        .expect("nats client");
    let quick = StatusBoard::follow(client.clone(), QUICK_STALE)
        .await
        .expect("board");
    let patient = StatusBoard::follow(client, PATIENT_STALE)
        .await
        .expect("board");

    let spawn = |name: &str| {
        LedgerNode::spawn(
            PICKET,
            &database_url,
            &nats.url(),
            LEASE_MS,
            dir.path(),
            name,
        )
    };
    let mut a = spawn("a");
    tokio::task::block_in_place(|| a.wait_role("leader"));
    let b = spawn("b");
    tokio::task::block_in_place(|| b.wait_role("standby"));

    let before = wait_for(&quick, "a leads, b stands by", |p| {
        let partition = &p.partitions[0];
        partition.leader.as_ref().is_some_and(|l| of(&l.node, &a))
            && partition.standbys.len() == 1
            && of(&partition.standbys[0].node, &b)
    })
    .await;
    let partition = &before.partitions[0];
    let leader = partition.leader.as_ref().expect("leader");
    let standby = &partition.standbys[0];
    assert_eq!(
        standby.lag,
        Some(leader.journal_seq - standby.journal_seq),
        "lag is the leader's journal_seq less the standby's"
    );
    assert!(!partition.leaderless);
    assert!(leader.epoch >= 1);
    let first_epoch = leader.epoch;

    // SIGKILL: a says nothing more. b takes the lease over and leads on the board with a higher
    // epoch; a goes stale on the quick board and stays (stale) on the patient one.
    a.kill();
    let after = wait_for(&quick, "b leads, a went stale", |p| {
        let partition = &p.partitions[0];
        partition.leader.as_ref().is_some_and(|l| of(&l.node, &b)) && partition.standbys.is_empty()
    })
    .await;
    assert!(after.partitions[0].leader.as_ref().expect("leader").epoch > first_epoch);
    assert!(!after.partitions[0].leaderless);
    let remembered = wait_for(&patient, "b leads on the patient board", |p| {
        p.partitions[0]
            .leader
            .as_ref()
            .is_some_and(|l| of(&l.node, &b))
    })
    .await;
    assert!(
        remembered.partitions[0]
            .standbys
            .iter()
            .any(|s| of(&s.node, &a)),
        "the patient board still holds the killed node: {remembered:?}"
    );

    // SIGTERM: b publishes a last status saying it stopped, and leaves even the patient board.
    b.signal("TERM");
    let stopped = wait_for(&patient, "b left the patient board", |p| {
        let partition = &p.partitions[0];
        partition.leader.as_ref().is_none_or(|l| !of(&l.node, &b))
            && partition.standbys.iter().all(|s| !of(&s.node, &b))
    })
    .await;
    assert!(
        stopped.partitions[0]
            .standbys
            .iter()
            .all(|s| !of(&s.node, &b))
    );
    let quiet = wait_for(&quick, "no leader left", |p| p.partitions[0].leaderless).await;
    assert!(quiet.partitions[0].leader.is_none());
}
