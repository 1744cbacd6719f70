//! Both ways of sending commands to a ledger leader over NATS (`BusConfig::command_transport`):
//! `direct` (core request-reply to `picket.ledger.p<p>.command`, the default, which
//! `ledger_service.rs` and the root package's `failover.rs` run under) and `jetstream` (the
//! partition's command stream), here side by side against the same nodes.
//!
//! - callers of both kinds share one leader: a key sent one way and then the other commits once
//!   and gets its first outcome;
//! - only a leader subscribes to the command subject: with only a standby, a direct command
//!   meets "no responders"; the node that takes the lease answers it;
//! - the `jetstream` transport through a clean handover, and both transports through a NATS
//!   restart, lose no acknowledged command (audited against the journal).

use std::sync::Arc;
use std::time::Duration;

use picket_ledger::metrics::Metrics;
use picket_ledger::{LedgerConfig, Node, NodeConfig, PgJournal, Role, StoreUrl};
use picket_ledger_client::bus::{self, Reply as BusReply};
use picket_ledger_client::{BusConfig, CommandTransport, LedgerClient, NatsLedger};
use picket_ledger_core::*;
use picket_tests::ledger::{Workload, audit, hold_seat, journal_digest, open_small};
use picket_tests::{Nats, Postgres};
use prometheus_client::registry::Registry;

const WAIT_MAX: Duration = Duration::from_secs(30);
const SEATS: u16 = 40;

struct Services {
    _postgres: Postgres,
    nats: Nats,
    database_url: String,
}

fn services() -> Services {
    let postgres = Postgres::start().expect("postgres");
    let database_url = postgres.create_database("ledger").expect("database");
    let nats = Nats::start().expect("nats");
    Services {
        _postgres: postgres,
        nats,
        database_url,
    }
}

async fn journal(services: &Services) -> PgJournal {
    PgJournal::connect(&services.database_url, 8, Duration::from_secs(5))
        .await
        .expect("journal")
}

async fn node(services: &Services, holder: &str, role: Role) -> Node {
    let ledger = LedgerConfig::new(StoreUrl::Postgres(services.database_url.clone()));
    let bus = BusConfig::new(services.nats.url(), 1);
    let mut config = NodeConfig::new(ledger, bus, vec![0], holder.to_owned());
    config.role = role;
    config.lease = Duration::from_millis(1_000);
    config.lease_renew_interval = Duration::from_millis(200);
    let nats = bus::connect(&services.nats.url(), holder)
        .await
        .expect("nats");
    let metrics = Arc::new(Metrics::new(&mut Registry::default()));
    Node::start(config, journal(services).await, nats, metrics)
        .await
        .expect("node")
}

async fn client(services: &Services, transport: CommandTransport) -> LedgerClient {
    let mut bus = BusConfig::new(services.nats.url(), 1);
    bus.command_transport = transport;
    bus.request_timeout = Duration::from_millis(1_000);
    bus.outcome_wait_max = Duration::from_secs(5);
    LedgerClient::Nats(
        NatsLedger::connect(bus, transport.as_str())
            .await
            .expect("client"),
    )
}

async fn wait_for_role(node: &Node, role: &str) {
    let deadline = tokio::time::Instant::now() + WAIT_MAX;
    while tokio::time::Instant::now() < deadline {
        if node.status()[0].role == role {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("never {role}: {:?}", node.status());
}

fn open(performance: u64) -> Request {
    open_small(performance, SEATS)
}

async fn acknowledged(client: &LedgerClient, request: &Request) -> Outcome {
    picket_tests::ledger::acknowledged(client, request, WAIT_MAX).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callers_of_both_transports_share_a_leader_and_a_key_commits_once() {
    let services = services();
    let node = node(&services, "node-a", Role::Auto).await;
    wait_for_role(&node, "leader").await;
    let direct = client(&services, CommandTransport::Direct).await;
    let stream = client(&services, CommandTransport::JetStream).await;
    acknowledged(&direct, &open(5)).await.expect("opened");

    let first = acknowledged(&stream, &hold_seat(1, "h1", 5, 3)).await;
    assert!(matches!(first, Ok(Reply::Held { .. })), "{first:?}");
    // The same key the other way: the first outcome, no second hold.
    assert_eq!(
        acknowledged(&direct, &hold_seat(1, "h1", 5, 3)).await,
        first
    );
    let second = acknowledged(&direct, &hold_seat(2, "h2", 5, 4)).await;
    assert!(matches!(second, Ok(Reply::Held { .. })), "{second:?}");
    assert_eq!(
        acknowledged(&stream, &hold_seat(2, "h2", 5, 4)).await,
        second
    );
    let taken = acknowledged(&stream, &hold_seat(3, "h3", 5, 4)).await;
    assert_eq!(taken, Err(Rejection::SeatTaken { seat: SeatId(4) }));

    let (seq, _) = journal_digest(&journal(&services).await, 0).await;
    assert_eq!(seq, 4, "open, two holds and one rejection: {seq} entries");
    node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_the_leader_takes_direct_commands() {
    let services = services();
    let standby = node(&services, "standby", Role::Standby).await;
    // Long enough for a standby that would lead (or subscribe) to have done so.
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(standby.status()[0].role, "standby");
    let nats = bus::connect(&services.nats.url(), "raw")
        .await
        .expect("nats");
    let payload = serde_json::to_vec(&open(7)).expect("encodes");
    let asked = nats
        .request(bus::command_request_subject(0), payload.clone().into())
        .await;
    let error = asked.expect_err("nobody may answer while only a standby runs");
    assert_eq!(
        error.kind(),
        async_nats::client::RequestErrorKind::NoResponders,
        "{error}"
    );

    let leader = node(&services, "leader", Role::Auto).await;
    wait_for_role(&leader, "leader").await;
    // The role is reported as the leader starts its tasks, a moment before it subscribes.
    let deadline = tokio::time::Instant::now() + WAIT_MAX;
    let answer = loop {
        let asked = nats
            .request(bus::command_request_subject(0), payload.clone().into())
            .await;
        match asked {
            Ok(answer) => break answer,
            Err(error) if tokio::time::Instant::now() < deadline => {
                assert_eq!(
                    error.kind(),
                    async_nats::client::RequestErrorKind::NoResponders,
                    "{error}"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            Err(error) => panic!("the leader never answered: {error}"),
        }
    };
    let reply: BusReply = serde_json::from_slice(&answer.payload).expect("a reply");
    assert!(
        matches!(
            reply,
            BusReply::Outcome {
                outcome: Ok(Reply::PerformanceOpened { .. })
            }
        ),
        "{reply:?}"
    );
    // The same request again: the recorded outcome, not a second opening.
    let again = nats
        .request(
            bus::command_request_subject(0),
            serde_json::to_vec(&open(7)).expect("encodes").into(),
        )
        .await
        .expect("answered");
    let again: BusReply = serde_json::from_slice(&again.payload).expect("a reply");
    assert_eq!(again, reply);
    let (seq, _) = journal_digest(&journal(&services).await, 0).await;
    assert_eq!(seq, 1, "one opening");
    leader.shutdown().await;
    standby.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jetstream_transport_survives_a_handover_with_every_outcome() {
    let services = services();
    let first = node(&services, "node-a", Role::Auto).await;
    wait_for_role(&first, "leader").await;
    let second = node(&services, "node-b", Role::Auto).await;
    let client = client(&services, CommandTransport::JetStream).await;
    acknowledged(&client, &open(6)).await.expect("opened");
    let mut workload = Workload::new(21, "handover", vec![PerformanceId(6)], SEATS);
    workload.drive(&client, 40, WAIT_MAX).await;
    first.shutdown().await;
    wait_for_role(&second, "leader").await;
    workload.drive(&client, 40, WAIT_MAX).await;
    assert_eq!(workload.unacknowledged, 0);
    assert!(workload.mismatches.is_empty(), "{:?}", workload.mismatches);
    let violations = audit(&journal(&services).await, 1, &[0], &workload.acked).await;
    assert!(violations.is_empty(), "{violations:#?}");
    second.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_transports_lose_no_acknowledged_command_across_a_nats_restart() {
    let mut services = services();
    let node = node(&services, "node-a", Role::Auto).await;
    wait_for_role(&node, "leader").await;
    let direct = client(&services, CommandTransport::Direct).await;
    let stream = client(&services, CommandTransport::JetStream).await;
    acknowledged(&direct, &open(8)).await.expect("opened");
    let mut by_direct = Workload::new(31, "direct", vec![PerformanceId(8)], SEATS);
    let mut by_stream = Workload::new(32, "stream", vec![PerformanceId(8)], SEATS);
    by_direct.drive(&direct, 30, WAIT_MAX).await;
    by_stream.drive(&stream, 30, WAIT_MAX).await;
    services.nats.kill().expect("kill nats");
    std::thread::sleep(Duration::from_millis(500));
    services.nats.start_again().expect("restart nats");
    by_direct.drive(&direct, 30, WAIT_MAX).await;
    by_stream.drive(&stream, 30, WAIT_MAX).await;
    for workload in [&by_direct, &by_stream] {
        assert_eq!(workload.unacknowledged, 0, "service resumed by itself");
        assert!(workload.mismatches.is_empty(), "{:?}", workload.mismatches);
    }
    let mut acked = by_direct.acked.clone();
    acked.extend(by_stream.acked.iter().cloned());
    let violations = audit(&journal(&services).await, 1, &[0], &acked).await;
    assert!(violations.is_empty(), "{violations:#?}");
    node.shutdown().await;
}
