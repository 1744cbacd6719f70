//! The ledger as a service: commands over NATS JetStream, the journal, leases and epochs in
//! PostgreSQL (both started by the harness), nodes run in this process.
//!
//! - commands are committed once and a repeated key gets the original outcome, also within
//!   JetStream's de-duplication window; committed entries reach subscribers over the events
//!   stream; two partitions route by performance;
//! - a deposed writer cannot commit (fencing by epoch) and stops;
//! - a clean handover: the standby leads after the leader shuts down and knows every outcome;
//! - NATS restarted mid-stream and PostgreSQL restarted mid-stream: nothing acknowledged is
//!   lost, and service resumes by itself.
//!
//! Killing a leader process (kill -9, SIGSTOP) is tested through the real binary in the root
//! package's `tests/failover.rs`.

use std::sync::Arc;
use std::time::Duration;

use picket_ledger::journal::Fence;
use picket_ledger::metrics::Metrics;
use picket_ledger::{Journal, LedgerConfig, Node, NodeConfig, PgJournal, PgSession, StoreUrl};
use picket_ledger_client::{BusConfig, LedgerClient, NatsLedger, SubmitError};
use picket_ledger_core::*;
use picket_tests::gateway::small_spec;
use picket_tests::ledger::{Workload, audit, hold_seat, journal_digest, open_small, request};
use picket_tests::{Nats, Postgres};
use prometheus_client::registry::Registry;

const WAIT_MAX: Duration = Duration::from_secs(30);
const SEATS: u16 = 40;

struct Services {
    postgres: Postgres,
    nats: Nats,
    database_url: String,
}

fn services() -> Services {
    let postgres = Postgres::start().expect("postgres");
    let database_url = postgres.create_database("ledger").expect("database");
    let nats = Nats::start().expect("nats");
    Services {
        postgres,
        nats,
        database_url,
    }
}

async fn journal(services: &Services) -> PgJournal {
    PgJournal::connect(&services.database_url, 8, Duration::from_secs(5))
        .await
        .expect("journal")
}

async fn node(services: &Services, holder: &str, partitions: u16, lease_ms: u64) -> Node {
    let ledger = LedgerConfig::new(StoreUrl::Postgres(services.database_url.clone()));
    let bus = BusConfig::new(services.nats.url(), partitions);
    let mut config = NodeConfig::new(ledger, bus, (0..partitions).collect(), holder.to_owned());
    config.lease = Duration::from_millis(lease_ms);
    config.lease_renew_interval = Duration::from_millis(lease_ms / 5);
    let nats = picket_ledger_client::bus::connect(&services.nats.url(), holder)
        .await
        .expect("nats");
    let metrics = Arc::new(Metrics::new(&mut Registry::default()));
    Node::start(config, journal(services).await, nats, metrics)
        .await
        .expect("node")
}

async fn client(services: &Services, partitions: u16) -> LedgerClient {
    let mut bus = BusConfig::new(services.nats.url(), partitions);
    bus.request_timeout = Duration::from_millis(1_000);
    bus.outcome_wait_max = Duration::from_secs(5);
    LedgerClient::Nats(
        NatsLedger::connect(bus, "test-client")
            .await
            .expect("client"),
    )
}

async fn wait_for_leader(node: &Node, partition: u16) {
    let deadline = tokio::time::Instant::now() + WAIT_MAX;
    while tokio::time::Instant::now() < deadline {
        if node
            .status()
            .iter()
            .any(|s| s.partition == partition && s.role == "leader")
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("partition {partition} got no leader: {:?}", node.status());
}

fn open(performance: u64) -> Request {
    open_small(performance, SEATS)
}

async fn acknowledged(client: &LedgerClient, request: &Request) -> Outcome {
    picket_tests::ledger::acknowledged(client, request, WAIT_MAX).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_over_nats_commit_once_route_by_partition_and_reach_subscribers() {
    let services = services();
    let node = node(&services, "node-a", 2, 2_000).await;
    wait_for_leader(&node, 0).await;
    wait_for_leader(&node, 1).await;
    let client = client(&services, 2).await;
    // Performances 10 and 11 live in partitions 0 and 1.
    for performance in [10, 11] {
        let outcome = acknowledged(&client, &open(performance)).await;
        assert!(
            matches!(outcome, Ok(Reply::PerformanceOpened { .. })),
            "{outcome:?}"
        );
    }
    let first = acknowledged(&client, &hold_seat(1, "h1", 11, 3)).await;
    assert!(matches!(first, Ok(Reply::Held { .. })), "{first:?}");
    // The same key again, within JetStream's window: the original outcome, nothing new.
    let again = acknowledged(&client, &hold_seat(1, "h1", 11, 3)).await;
    assert_eq!(again, first);
    let taken = acknowledged(&client, &hold_seat(2, "h2", 11, 3)).await;
    assert_eq!(taken, Err(Rejection::SeatTaken { seat: SeatId(3) }));

    let journal = journal(&services).await;
    let (seq_p1, _) = journal_digest(&journal, 1).await;
    assert_eq!(
        seq_p1, 3,
        "open, hold, rejected hold: three entries in partition 1"
    );
    let (seq_p0, _) = journal_digest(&journal, 0).await;
    assert_eq!(
        seq_p0, 1,
        "only the opening of performance 10 in partition 0"
    );

    // A subscriber sees both seat maps, then the entries committed after it subscribed.
    let mut subscription = client.subscribe().await.expect("subscribe");
    let performances: Vec<u64> = subscription
        .availability
        .iter()
        .map(|a| a.performance.0)
        .collect();
    assert!(
        performances.contains(&10) && performances.contains(&11),
        "{performances:?}"
    );
    let seat_3 = subscription
        .availability
        .iter()
        .find(|a| a.performance.0 == 11)
        .map(|a| a.seat_free[3]);
    assert_eq!(
        seat_3,
        Some(false),
        "the held seat is off sale in the snapshot"
    );
    acknowledged(&client, &hold_seat(3, "h3", 10, 7))
        .await
        .expect("held");
    let committed = tokio::time::timeout(WAIT_MAX, subscription.events.recv())
        .await
        .expect("an entry within the wait")
        .expect("entry");
    let held_seat_7 = committed.events.iter().any(|e| {
        matches!(e, Event::PlacesHeld { performance, places, .. }
            if performance.0 == 10 && places == &vec![Place::Seat(SeatId(7))])
    });
    assert!(held_seat_7, "{:?}", committed.events);

    // A ticket read over NATS (`picket.ledger.p<p>.ticket`) answers the leader's state.
    let Ok(Reply::Held {
        hold, amount_won, ..
    }) = first
    else {
        panic!("held: {first:?}");
    };
    let confirm = Command::Confirm {
        performance: PerformanceId(11),
        hold,
        payment_ref: "pay-1".into(),
        amount_won,
    };
    let paid = acknowledged(&client, &request(1, "p1", confirm)).await;
    let Ok(Reply::Confirmed { tickets, .. }) = paid else {
        panic!("paid: {paid:?}");
    };
    let view = client
        .ticket(PerformanceId(11), tickets[0])
        .await
        .expect("answered")
        .expect("the ticket");
    assert_eq!(
        (view.holder, view.place, view.generation, view.cancelled),
        (ActorId(1), Place::Seat(SeatId(3)), 0, false)
    );
    let elsewhere = client.ticket(PerformanceId(10), tickets[0]).await;
    assert_eq!(elsewhere.expect("answered"), None, "another performance's");
    // A page of tickets (`picket.ledger.p<p>.tickets`) and the door report
    // (`picket.ledger.p<p>.door`) likewise.
    let page = client
        .tickets(PerformanceId(11), None, 10)
        .await
        .expect("answered")
        .expect("the performance");
    assert_eq!(page, vec![view]);
    let after = client
        .tickets(PerformanceId(11), Some(tickets[0]), 10)
        .await
        .expect("answered");
    assert_eq!(after, Some(Vec::new()), "nothing after the last");
    let report = client
        .door_report(PerformanceId(11))
        .await
        .expect("answered")
        .expect("the performance");
    assert_eq!(
        (report.admitted, report.no_shows, report.conflicts_total),
        (0, 1, 0)
    );
    let unknown = client.door_report(PerformanceId(12)).await;
    assert_eq!(unknown.expect("answered"), None, "no such performance");
    // The waitlist read (`picket.ledger.p<p>.waitlist`): the numbers, and one buyer's entries.
    let join = Command::JoinWaitlist {
        performance: PerformanceId(11),
        grade: None,
        quantity: 1,
        together: false,
        mode: WaitlistMode::Offer,
    };
    let joined = acknowledged(&client, &request(2, "w1", join)).await;
    let Ok(Reply::WaitlistJoined { entry, position: 1 }) = joined else {
        panic!("joined: {joined:?}");
    };
    let read = client
        .waitlist(PerformanceId(11), Some(ActorId(2)))
        .await
        .expect("answered")
        .expect("the performance");
    assert!(read.report.enabled);
    assert_eq!(read.report.waiting.any_grade, 1);
    assert_eq!(read.entries.len(), 1);
    assert_eq!(read.entries[0].entry, entry);
    assert_eq!(
        read.entries[0].position,
        Some(WaitlistPosition {
            overall: 1,
            in_grade: 1
        })
    );
    let others = client
        .waitlist(PerformanceId(11), Some(ActorId(1)))
        .await
        .expect("answered")
        .expect("the performance");
    assert!(
        others.entries.is_empty(),
        "another buyer's entries are not listed"
    );
    let unknown = client.waitlist(PerformanceId(12), None).await;
    assert_eq!(unknown.expect("answered"), None, "no such performance");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deposed_writer_cannot_commit_and_stops() {
    let services = services();
    let journal = journal(&services).await;
    let lease = Duration::from_millis(300);
    let epoch = journal
        .acquire_lease(0, "old", lease)
        .await
        .expect("lease")
        .expect("free");
    let config = LedgerConfig::new(StoreUrl::Postgres(services.database_url.clone()));
    let metrics = Arc::new(Metrics::new(&mut Registry::default()));
    let (handle, writer) = picket_ledger::writer::start_leader(
        journal.clone(),
        &config,
        metrics,
        Ledger::new(0),
        0,
        Fence {
            epoch,
            input_seq: 0,
        },
    );
    handle
        .submit(open(4))
        .await
        .expect("committed")
        .expect("opened");
    assert_eq!(journal.last_seq(0).await.expect("seq"), 1);

    // The old leader stalls past its lease; another node takes over (the epoch moves on).
    tokio::time::sleep(lease + Duration::from_millis(100)).await;
    let newer = journal
        .acquire_lease(0, "new", lease)
        .await
        .expect("lease")
        .expect("expired lease is free");
    assert_eq!(newer, epoch + 1);

    // The old writer wakes up and tries to commit: refused, and it stops.
    let result = handle.submit(hold_seat(1, "late", 4, 0)).await;
    assert_eq!(result, Err(SubmitError::Unavailable));
    let deadline = tokio::time::Instant::now() + WAIT_MAX;
    while !writer.is_finished() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(writer.is_finished(), "a fenced writer stops");
    assert_eq!(
        journal.last_seq(0).await.expect("seq"),
        1,
        "nothing committed"
    );
    let renewed = journal
        .renew_lease(0, "old", epoch, lease)
        .await
        .expect("renew");
    assert!(
        !renewed,
        "the old holder cannot renew a lease that moved on"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standby_leads_after_a_clean_shutdown_and_knows_every_outcome() {
    let services = services();
    let first = node(&services, "node-a", 1, 1_000).await;
    wait_for_leader(&first, 0).await;
    let second = node(&services, "node-b", 1, 1_000).await;
    let client = client(&services, 1).await;
    acknowledged(&client, &open(6)).await.expect("opened");
    let held = acknowledged(&client, &hold_seat(9, "before", 6, 1)).await;
    assert_eq!(second.status()[0].role, "standby");
    first.shutdown().await;
    wait_for_leader(&second, 0).await;
    // The new leader answers the old key with the old outcome, and takes new commands.
    assert_eq!(
        acknowledged(&client, &hold_seat(9, "before", 6, 1)).await,
        held
    );
    let next = acknowledged(&client, &hold_seat(9, "after", 6, 2)).await;
    assert!(matches!(next, Ok(Reply::Held { .. })), "{next:?}");
    let journal = journal(&services).await;
    assert!(journal.leadership(0).await.expect("row").expect("led").0 >= 2);
    second.shutdown().await;
}

/// Drives a workload, restarts a server in the middle, drives more; then audits the journal.
async fn survives_restart(restart: impl FnOnce(&mut Services), seed: u64) {
    let mut services = services();
    let node = node(&services, "node-a", 1, 2_000).await;
    wait_for_leader(&node, 0).await;
    let client = client(&services, 1).await;
    acknowledged(&client, &open(8)).await.expect("opened");
    let mut workload = Workload::new(seed, "restart", vec![PerformanceId(8)], SEATS);
    workload.drive(&client, 60, WAIT_MAX).await;
    restart(&mut services);
    workload.drive(&client, 60, WAIT_MAX).await;
    assert_eq!(workload.unacknowledged, 0, "service resumed by itself");
    assert!(workload.mismatches.is_empty(), "{:?}", workload.mismatches);
    let journal = journal(&services).await;
    let violations = audit(&journal, 1, &[0], &workload.acked).await;
    assert!(violations.is_empty(), "seed {seed}: {violations:#?}");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_restarted_mid_stream_loses_no_acknowledged_command() {
    survives_restart(
        |services| {
            services.nats.kill().expect("kill nats");
            std::thread::sleep(Duration::from_millis(500));
            services.nats.start_again().expect("restart nats");
        },
        11,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_mid_stream_loses_no_acknowledged_command() {
    survives_restart(
        |services| {
            services.postgres.kill().expect("kill postgres");
            std::thread::sleep(Duration::from_millis(500));
            services.postgres.start_again().expect("restart postgres");
        },
        12,
    )
    .await;
}

/// Sessions of the journal's database that sit idle inside an open transaction (other than the
/// observer's own).
async fn idle_in_transaction(observer: &mut sqlx::PgConnection) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() \
         AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()",
    )
    .fetch_one(observer)
    .await
    .expect("pg_stat_activity")
}

/// A journal append dropped at any point mid-flight (a leader's writer is aborted when its node
/// steps down) must not leave its connection inside a server-side transaction: the leader's next
/// lease renewal would then lock the leadership row and never commit, and no standby could
/// take the partition over (issue #12 item 17). The cut lands at a different moment of the
/// append in every trial; the pool has one connection, so every later call reuses the one the
/// cancelled append had.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_append_leaves_no_transaction_open_and_the_lease_free() {
    const TRIALS: u64 = 400;
    const PARTITION: u16 = 0;
    let lease = Duration::from_millis(500);
    let postgres = Postgres::start().expect("postgres");
    let database_url = postgres.create_database("ledger").expect("database");
    let journal = PgJournal::connect(&database_url, 1, Duration::from_secs(5))
        .await
        .expect("journal");
    let mut observer = <sqlx::PgConnection as sqlx::Connection>::connect(&database_url)
        .await
        .expect("observer");
    let epoch = journal
        .acquire_lease(PARTITION, "leader", lease)
        .await
        .expect("acquire")
        .expect("the lease is free");
    let fence = Fence {
        epoch,
        input_seq: 0,
    };
    let mut cancelled = 0;
    for trial in 0..TRIALS {
        let seq = journal.last_seq(PARTITION).await.expect("last seq");
        let entry = picket_ledger::journal::Entry {
            seq: seq + 1,
            recorded_at_ms: trial,
            events_json: "[]".into(),
        };
        // Spread over the append's round trips: acquire, BEGIN, the fencing UPDATE, the gap
        // check, the INSERT and COMMIT each take tens to hundreds of microseconds locally.
        let cut = Duration::from_micros(trial * 37 % 2_500);
        let append = journal.append(PARTITION, std::slice::from_ref(&entry), Some(fence));
        match tokio::time::timeout(cut, append).await {
            Ok(result) => result.expect("append"),
            Err(_) => cancelled += 1,
        }
        // What a leader does next: renew its lease, read the journal.
        assert!(
            journal
                .renew_lease(PARTITION, "leader", epoch, lease)
                .await
                .expect("renew"),
            "trial {trial}: the lease stays ours"
        );
        journal
            .read_after(PARTITION, 0, 1)
            .await
            .expect("read after");
        let open = idle_in_transaction(&mut observer).await;
        assert_eq!(
            open, 0,
            "trial {trial} (append cut after {cut:?}): a session stayed idle in transaction"
        );
    }
    assert!(cancelled > 0, "some appends must have been cut mid-flight");
    // The leader stops renewing (paused, or gone): another node takes the partition once the
    // lease has run out, without waiting on a lock.
    tokio::time::sleep(lease).await;
    let standby = PgJournal::connect(&database_url, 1, Duration::from_secs(5))
        .await
        .expect("standby journal");
    let taken = tokio::time::timeout(lease, standby.acquire_lease(PARTITION, "standby", lease))
        .await
        .expect("the takeover must not wait on a lock")
        .expect("acquire");
    assert_eq!(
        taken,
        Some(epoch + 1),
        "the standby takes the expired lease"
    );
}

/// A node that stalls inside a journal transaction (SIGSTOP, a VM pause) keeps the leadership
/// row locked; PostgreSQL ends that session after `idle_in_transaction_session_timeout`, so a
/// standby takes the partition once the lease runs out instead of waiting on the lock for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_stalled_in_a_transaction_is_ended_and_the_lease_taken_over() {
    const PARTITION: u16 = 0;
    let lease = Duration::from_millis(500);
    let session = PgSession {
        lock_timeout: Duration::from_secs(5),
        idle_in_transaction_timeout: Duration::from_millis(300),
    };
    let postgres = Postgres::start().expect("postgres");
    let database_url = postgres.create_database("ledger").expect("database");
    let connect = || PgJournal::connect_with(&database_url, 2, Duration::from_secs(5), session);
    let leader = connect().await.expect("leader journal");
    let epoch = leader
        .acquire_lease(PARTITION, "leader", lease)
        .await
        .expect("acquire")
        .expect("the lease is free");
    // The leader's commit opens with the fencing UPDATE, and then its process stalls.
    let mut stalled = leader.pool().begin().await.expect("begin");
    sqlx::query("UPDATE ledger_leadership SET input_seq = input_seq WHERE partition_id = $1")
        .bind(i32::from(PARTITION))
        .execute(&mut *stalled)
        .await
        .expect("fencing update");
    tokio::time::sleep(lease).await;
    let standby = connect().await.expect("standby journal");
    let taken = tokio::time::timeout(
        lease * 2,
        standby.acquire_lease(PARTITION, "standby", lease),
    )
    .await
    .expect("the stalled session must be ended within the idle-in-transaction timeout")
    .expect("acquire");
    assert_eq!(taken, Some(epoch + 1));
    assert!(
        stalled.commit().await.is_err(),
        "the stalled session was ended: its commit cannot go through"
    );
}

/// A partition whose leadership row stays locked (a stuck session elsewhere) loses its leader:
/// the node's status says it is leaderless once that lasts longer than a lease, and says so no
/// more once a leader is back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_reports_a_partition_leaderless_for_longer_than_a_lease() {
    let services = services();
    let node = node(&services, "node-a", 1, 500).await;
    wait_for_leader(&node, 0).await;
    assert!(!node.status()[0].leaderless);
    // A session outside the ledger's own (not under its timeouts) locks the row and sits on it.
    let mut blocker = <sqlx::PgConnection as sqlx::Connection>::connect(&services.database_url)
        .await
        .expect("blocker");
    let mut stuck = sqlx::Connection::begin(&mut blocker).await.expect("begin");
    sqlx::query("SELECT 1 FROM ledger_leadership WHERE partition_id = 0 FOR UPDATE")
        .execute(&mut *stuck)
        .await
        .expect("lock the row");
    let deadline = tokio::time::Instant::now() + WAIT_MAX;
    loop {
        let status = node.status()[0].clone();
        if status.leaderless {
            assert!(status.leaderless_ms > 500, "{status:?}");
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "never reported leaderless: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stuck.rollback().await.expect("release the row");
    let deadline = tokio::time::Instant::now() + WAIT_MAX;
    loop {
        let status = node.status()[0].clone();
        if status.role == "leader" && !status.leaderless {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no leader came back: {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    node.shutdown().await;
}

/// A lease update queued behind a lock that is not released gives up after `lock_timeout`, as
/// an error the standby recognises (it keeps following and retries instead of recovering).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_update_behind_a_held_lock_times_out() {
    const PARTITION: u16 = 0;
    let lease = Duration::from_millis(500);
    let session = PgSession {
        lock_timeout: Duration::from_millis(200),
        idle_in_transaction_timeout: Duration::from_secs(10),
    };
    let postgres = Postgres::start().expect("postgres");
    let database_url = postgres.create_database("ledger").expect("database");
    let journal = PgJournal::connect_with(&database_url, 2, Duration::from_secs(5), session)
        .await
        .expect("journal");
    journal
        .acquire_lease(PARTITION, "leader", lease)
        .await
        .expect("acquire")
        .expect("the lease is free");
    let mut blocker = <sqlx::PgConnection as sqlx::Connection>::connect(&database_url)
        .await
        .expect("blocker");
    let mut stuck = sqlx::Connection::begin(&mut blocker).await.expect("begin");
    sqlx::query("SELECT 1 FROM ledger_leadership WHERE partition_id = $1 FOR UPDATE")
        .bind(i32::from(PARTITION))
        .execute(&mut *stuck)
        .await
        .expect("lock the row");
    let started = std::time::Instant::now();
    let error = tokio::time::timeout(
        Duration::from_secs(5),
        journal.acquire_lease(PARTITION, "standby", lease),
    )
    .await
    .expect("lock_timeout must end the wait")
    .expect_err("the row is locked");
    assert!(error.is_lock_timeout(), "{error}");
    assert!(started.elapsed() < Duration::from_secs(2), "{error}");
    stuck.rollback().await.expect("release");
}

/// A stadium over NATS: a 50,000-seat spec (every tenth seat blocked) opens in one command
/// (its JSON lists seats in rows, so the command and its journal entry each fit NATS's default
/// 1 MiB message), a free seat is held, a blocked one is refused, and a subscriber's seat map
/// starts with the blocked seats taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stadium_opens_over_nats_and_its_blocked_seats_are_never_held() {
    const STADIUM_SEATS: u32 = 50_000;
    let services = services();
    let node = node(&services, "node-a", 1, 2_000).await;
    wait_for_leader(&node, 0).await;
    let client = client(&services, 1).await;
    let seats = (0..STADIUM_SEATS)
        .map(|i| SeatSpec {
            section: format!("{}구역", 101 + i / 500),
            row: format!("{}열", 1 + i / 25 % 20),
            number: (1 + i % 25) as u16,
            grade: GradeId(0),
            blocked: i.is_multiple_of(10),
        })
        .collect();
    let spec = PerformanceSpec {
        seats,
        ..small_spec(30, 1)
    };
    let outcome = acknowledged(
        &client,
        &request(0, "open-30", Command::OpenPerformance(Box::new(spec))),
    )
    .await;
    assert_eq!(
        outcome,
        Ok(Reply::PerformanceOpened {
            performance: PerformanceId(30),
            seats: STADIUM_SEATS,
            standing_capacity: 0,
        })
    );
    let held = acknowledged(&client, &hold_seat(1, "s1", 30, 49_999)).await;
    assert!(matches!(held, Ok(Reply::Held { .. })), "{held:?}");
    let blocked = acknowledged(&client, &hold_seat(2, "s2", 30, 49_990)).await;
    assert_eq!(
        blocked,
        Err(Rejection::SeatTaken {
            seat: SeatId(49_990)
        })
    );
    let subscription = client.subscribe().await.expect("subscribe");
    let map = subscription
        .availability
        .iter()
        .find(|a| a.performance == PerformanceId(30))
        .expect("the stadium's seat map");
    assert_eq!(map.seat_free.len(), STADIUM_SEATS as usize);
    assert!(!map.seat_free[49_990] && !map.seat_free[0] && !map.seat_free[49_999]);
    assert_eq!(
        map.seat_free.iter().filter(|free| **free).count(),
        STADIUM_SEATS as usize * 9 / 10 - 1
    );
    node.shutdown().await;
}
