//! TLS between services and NATS accounts, against real servers serving certificates made here
//! (a private CA from `picket_tests::tls`):
//!
//! - NATS over `tls://`, verified against a CA file (`NatsAuth::ca_file`), with a client
//!   certificate for a server that verifies clients; a server certificate from another CA is
//!   refused at once, with an error naming the TLS failure and the setting to check;
//! - PostgreSQL with `ssl=on` and only `hostssl` in `pg_hba.conf`: `sslmode=verify-full` and
//!   `sslrootcert` in the URL reach every pool unchanged — the ledger's journal, the API's store
//!   and its read replica (the notifier's is the same `Store`) — and a wrong CA is refused;
//! - Redis on `--tls-port` only, through `rediss://` with a CA file and a client certificate;
//!   a wrong CA fails every call with the TLS failure named;
//! - NATS accounts as `deploy/nats/accounts.conf` sets them (the file itself, included by the
//!   server's configuration), over TLS: a ledger node and a gateway, each with its own NKey,
//!   work end to end (both command transports, the events stream, replies), the notifier follows
//!   and acknowledges; none of that meets a permissions violation. A gateway's credential cannot
//!   publish a ledger event, and neither the ledger's nor the notifier's can send a command.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use picket_ledger::metrics::Metrics;
use picket_ledger::{Journal, LedgerConfig, Node, NodeConfig, PgJournal, StoreUrl};
use picket_ledger_client::bus;
use picket_ledger_client::{BusConfig, CommandTransport, LedgerClient, NatsAuth, NatsLedger};
use picket_ledger_core::{Rejection, Reply, SeatId};
use picket_room::redis::{RedisStore, RedisTls};
use picket_room::{QueueStore, SaleId, StoreError};
use picket_tests::ledger::{acknowledged, hold_seat, open_small};
use picket_tests::{Nats, NatsOptions, Postgres, Redis, SecuredServices, ServerTls, TestCa};
use prometheus_client::registry::Registry;

const WAIT_MAX: Duration = Duration::from_secs(30);
/// How long a publish or request the server refuses is given to show it was not refused after
/// all (an allowed one is answered within milliseconds; the assertions are on what the streams
/// hold afterwards).
const REFUSED_WAIT: Duration = Duration::from_secs(2);

fn ca_auth(ca: &Path) -> NatsAuth {
    NatsAuth {
        ca_file: Some(ca.to_path_buf()),
        ..NatsAuth::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_over_tls_is_verified_against_the_ca_file_and_a_wrong_ca_is_refused() {
    let ca = TestCa::new("picket test ca").expect("ca");
    let server = ca.issue_loopback("nats").expect("server cert");
    let client_cert = ca
        .issue("picket-gateway", &["picket-gateway"])
        .expect("client cert");
    let nats = Nats::start_with(NatsOptions {
        tls: Some(ServerTls {
            verify_clients: true,
            ..ServerTls::from(&server)
        }),
        ..NatsOptions::default()
    })
    .expect("nats");
    assert!(nats.url().starts_with("tls://"), "{}", nats.url());
    let info = nats.info().expect("INFO");
    assert!(info.contains("\"tls_required\":true"), "{info}");

    let auth = NatsAuth {
        cert_file: Some(client_cert.cert.clone()),
        key_file: Some(client_cert.key.clone()),
        ..ca_auth(ca.ca_file())
    };
    let client = bus::connect_with(&nats.url(), &auth, "tls-test")
        .await
        .expect("connects over TLS");
    let mut subscription = client.subscribe("tls.check").await.expect("subscribe");
    client
        .publish("tls.check", "over tls".into())
        .await
        .expect("publish");
    let message = tokio::time::timeout(WAIT_MAX, futures_util::StreamExt::next(&mut subscription))
        .await
        .expect("a message in time")
        .expect("a message");
    assert_eq!(&message.payload[..], b"over tls");

    // A server certificate from another CA: refused at once, saying why and what to check.
    let other = TestCa::new("someone else's ca").expect("other ca");
    let refused = bus::connect_with(
        &nats.url(),
        &NatsAuth {
            ca_file: Some(other.ca_file().to_path_buf()),
            ..auth.clone()
        },
        "tls-test",
    )
    .await
    .expect_err("a server certificate from another CA");
    let message = refused.to_string();
    assert!(message.contains("refused the connection"), "{message}");
    assert!(message.contains("TLS"), "{message}");
    assert!(message.contains("UnknownIssuer"), "{message}");
    assert!(message.contains("PICKET_NATS_CA_FILE"), "{message}");

    // A CA file that is not one is a settings problem before any connection.
    let settings = bus::connect_with(&nats.url(), &ca_auth(&client_cert.key), "tls-test")
        .await
        .expect_err("a key is no CA certificate")
        .to_string();
    assert!(settings.contains("ca_file"), "{settings}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_pools_pass_the_urls_tls_settings_through() {
    let ca = TestCa::new("picket test ca").expect("ca");
    let server = ca.issue_loopback("postgres").expect("server cert");
    let postgres = Postgres::start_tls(&ServerTls::from(&server)).expect("postgres");
    postgres.create_database("picket").expect("database");
    let url = postgres.tls_url("picket", ca.ca_file());

    // Without TLS the server lets nobody in: every success below went over TLS.
    let plain = format!("{}?sslmode=disable", postgres.database_url("picket"));
    let refused = PgJournal::connect(&plain, 1, Duration::from_secs(5))
        .await
        .err()
        .expect("no TLS, no connection")
        .to_string();
    assert!(
        refused.contains("no encryption") || refused.contains("pg_hba"),
        "{refused}"
    );

    let journal = PgJournal::connect(&url, 2, Duration::from_secs(5))
        .await
        .expect("the journal over TLS");
    assert_eq!(journal.last_seq(0).await.expect("last seq"), 0);

    let store = picket_api::store::Store::connect(&url)
        .await
        .expect("the API's store over TLS")
        .with_read_replica(&url)
        .await
        .expect("the read replica over TLS");
    assert_eq!(store.performance_count(1).await.expect("a read"), 0);
    let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(store.reader())
        .await
        .expect("the replica's session");
    assert!(ssl, "the read replica's session is not encrypted");

    // A server certificate the URL's CA did not sign: refused by every pool.
    let other = TestCa::new("someone else's ca").expect("other ca");
    let wrong = postgres.tls_url("picket", other.ca_file());
    let journal_error = PgJournal::connect(&wrong, 1, Duration::from_secs(5))
        .await
        .err()
        .expect("the journal refuses a wrong CA")
        .to_string();
    assert!(journal_error.contains("UnknownIssuer"), "{journal_error}");
    let store_error = picket_api::store::Store::connect(&wrong)
        .await
        .err()
        .expect("the store refuses a wrong CA")
        .to_string();
    assert!(store_error.contains("UnknownIssuer"), "{store_error}");
    let replica_error = picket_api::store::Store::connect(&url)
        .await
        .expect("store")
        .with_read_replica(&wrong)
        .await
        .err()
        .expect("the replica refuses a wrong CA")
        .to_string();
    assert!(replica_error.contains("UnknownIssuer"), "{replica_error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_over_tls_with_a_ca_file_and_a_client_certificate() {
    let ca = TestCa::new("picket test ca").expect("ca");
    let server = ca.issue_loopback("redis").expect("server cert");
    let client_cert = ca
        .issue("picket-gateway", &["picket-gateway"])
        .expect("client cert");
    let redis = Redis::start_tls(ServerTls {
        verify_clients: true,
        ..ServerTls::from(&server)
    })
    .expect("redis");
    assert!(redis.url().starts_with("rediss://"), "{}", redis.url());
    let tls = RedisTls {
        ca_file: Some(ca.ca_file().to_path_buf()),
        cert_file: Some(client_cert.cert.clone()),
        key_file: Some(client_cert.key.clone()),
    };
    let store = RedisStore::connect_tls(&redis.url(), &tls).expect("store");
    // The script ran on Redis and found no such sale: the round trip worked over TLS.
    let answer = store.view(1 as SaleId).await;
    assert!(matches!(answer, Err(StoreError::UnknownSale)), "{answer:?}");

    let other = TestCa::new("someone else's ca").expect("other ca");
    let wrong = RedisStore::connect_tls(
        &redis.url(),
        &RedisTls {
            ca_file: Some(other.ca_file().to_path_buf()),
            ..tls.clone()
        },
    )
    .expect("made lazily");
    match wrong.view(1 as SaleId).await {
        Err(StoreError::Unavailable(message)) => {
            assert!(message.contains("UnknownIssuer"), "{message}")
        }
        other => panic!("a wrong CA must make Redis unavailable, got {other:?}"),
    }
    // Files that cannot be read are an error when the store is made.
    let missing = RedisStore::connect_tls(
        &redis.url(),
        &RedisTls {
            ca_file: Some(PathBuf::from("/nonexistent/ca.pem")),
            ..RedisTls::default()
        },
    );
    assert!(
        matches!(&missing, Err(StoreError::Unavailable(message)) if message.contains("/nonexistent/ca.pem")),
        "{:?}",
        missing.err()
    );
}

async fn stream_last_seq(js: &async_nats::jetstream::Context, stream: &str) -> u64 {
    js.get_stream(stream)
        .await
        .expect("stream")
        .info()
        .await
        .expect("stream info")
        .state
        .last_sequence
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nats_accounts_keep_commands_to_gateways_and_events_to_ledger_nodes() {
    let services = SecuredServices::start("ledger").expect("services");
    let (ca, nats, database_url) = (&services.ca, &services.nats, &services.database_url);
    let as_user = |role: &str| services.nats_auth(role);

    // Nobody without a credential.
    let anonymous = bus::connect_with(&nats.url(), &ca_auth(ca.ca_file()), "anonymous")
        .await
        .expect_err("no credential, no connection")
        .to_string();
    assert!(anonymous.contains("PICKET_NATS_CREDS_FILE"), "{anonymous}");

    // A ledger node with the ledger's credential, over TLS to NATS and PostgreSQL.
    let mut bus_config = BusConfig::new(nats.url(), 1);
    bus_config.auth = as_user("ledger");
    let node_nats = bus::connect_with(&nats.url(), &bus_config.auth, "node-a")
        .await
        .expect("the ledger's credential connects");
    let mut node_config = NodeConfig::new(
        LedgerConfig::new(StoreUrl::Postgres(database_url.clone())),
        bus_config,
        vec![0],
        "node-a".into(),
    );
    node_config.lease = Duration::from_millis(1_000);
    node_config.lease_renew_interval = Duration::from_millis(200);
    let journal = PgJournal::connect(database_url, 8, Duration::from_secs(5))
        .await
        .expect("journal");
    let metrics = Arc::new(Metrics::new(&mut Registry::default()));
    let node = Node::start(node_config, journal, node_nats, metrics)
        .await
        .expect("node");
    let deadline = tokio::time::Instant::now() + WAIT_MAX;
    while node.status()[0].role != "leader" {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            node.status()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Gateways with the gateway's credential, one per command transport.
    let gateway_client = |transport: CommandTransport| {
        let mut config = BusConfig::new(nats.url(), 1);
        config.auth = as_user("gateway");
        config.command_transport = transport;
        config.request_timeout = Duration::from_millis(1_000);
        config.outcome_wait_max = Duration::from_secs(10);
        async move {
            LedgerClient::Nats(
                NatsLedger::connect(config, transport.as_str())
                    .await
                    .expect("the gateway's credential connects"),
            )
        }
    };
    let direct = gateway_client(CommandTransport::Direct).await;
    let stream = gateway_client(CommandTransport::JetStream).await;
    acknowledged(&direct, &open_small(5, 10), WAIT_MAX)
        .await
        .expect("opened");
    let mut subscription = direct.subscribe().await.expect("seat maps and events");
    let held = acknowledged(&stream, &hold_seat(1, "h1", 5, 3), WAIT_MAX).await;
    assert!(matches!(held, Ok(Reply::Held { .. })), "{held:?}");
    let taken = acknowledged(&direct, &hold_seat(2, "h2", 5, 3), WAIT_MAX).await;
    assert_eq!(taken, Err(Rejection::SeatTaken { seat: SeatId(3) }));
    // The gateway reads the events the leader published (an ordered consumer).
    let event = tokio::time::timeout(WAIT_MAX, subscription.events.recv())
        .await
        .expect("an event in time")
        .expect("an event");
    assert!(
        event.seq >= 2,
        "the hold's entry follows the open: {}",
        event.seq
    );
    // The API's catalog announcements, from a gateway.
    let gateway_nats = bus::connect_with(&nats.url(), &as_user("gateway"), "gateway-raw")
        .await
        .expect("gateway");
    let gateway_js = async_nats::jetstream::new(gateway_nats.clone());
    bus::ensure_announcements(&gateway_js)
        .await
        .expect("the gateway makes the catalog's stream");
    gateway_js
        .publish(bus::SHOW_PUBLISHED_SUBJECT, "{}".into())
        .await
        .expect("publish")
        .await
        .expect("the catalog stream stores an announcement");

    // The notifier follows the committed entries through its durable consumer and acknowledges.
    let mut notifier_config = BusConfig::new(nats.url(), 1);
    notifier_config.auth = as_user("notifier");
    let notifier_client = LedgerClient::Nats(
        NatsLedger::connect(notifier_config, "notifier")
            .await
            .expect("the notifier's credential connects"),
    );
    let mut follower = notifier_client
        .follower(0, "tls-notifier", 0)
        .await
        .expect("a durable consumer");
    let entries = follower.entries_after(0, 10).await.expect("entries");
    assert_eq!(
        entries.iter().map(|entry| entry.seq).collect::<Vec<_>>(),
        vec![1, 2, 3],
        "open, hold, rejection"
    );
    follower.applied_through(3).await.expect("acknowledged");
    // Members' notifications, from the notifier to a gateway.
    let notifier_nats = bus::connect_with(&nats.url(), &as_user("notifier"), "notifier-raw")
        .await
        .expect("notifier");
    let mut notices = picket_ledger_client::Notices::nats(gateway_nats.clone())
        .subscribe(7)
        .await
        .expect("a gateway follows a member");
    let notifier_notices = picket_ledger_client::Notices::nats(notifier_nats.clone());
    notifier_notices
        .publish(7, "hello".into())
        .await
        .expect("the notifier publishes");
    notifier_notices.flush().await.expect("flushed");
    let notice = tokio::time::timeout(WAIT_MAX, notices.next())
        .await
        .expect("a notice in time")
        .expect("a notice");
    assert_eq!(&notice[..], b"hello");

    // Everything above is within the permissions: the server refused nothing.
    let log = nats.log_tail();
    assert!(!log.contains("Violation"), "{log}");

    // A gateway cannot publish a ledger event, on the subject or through JetStream.
    let ledger_nats = bus::connect_with(&nats.url(), &as_user("ledger"), "ledger-raw")
        .await
        .expect("ledger");
    let ledger_js = async_nats::jetstream::new(ledger_nats.clone());
    let events_before = stream_last_seq(&ledger_js, &bus::events_stream(0)).await;
    assert_eq!(events_before, 3);
    let forged = tokio::time::timeout(REFUSED_WAIT, async {
        gateway_js
            .publish(bus::events_subject(0), "{\"forged\":true}".into())
            .await?
            .await
    })
    .await;
    assert!(
        !matches!(forged, Ok(Ok(_))),
        "JetStream stored a gateway's event: {forged:?}"
    );
    gateway_nats
        .publish(bus::events_subject(0), "{\"forged\":true}".into())
        .await
        .expect("sent (the server refuses it)");
    gateway_nats.flush().await.expect("flushed");
    // Nor change the events stream, nor read the commands the leader reads.
    let purge = tokio::time::timeout(
        REFUSED_WAIT,
        gateway_js.delete_stream(bus::events_stream(0)),
    )
    .await;
    assert!(
        !matches!(purge, Ok(Ok(_))),
        "a gateway deleted the events stream"
    );
    assert_eq!(
        stream_last_seq(&ledger_js, &bus::events_stream(0)).await,
        events_before,
        "a gateway's event reached the events stream"
    );

    // Neither the ledger's credential nor the notifier's sends a command.
    let commands_before = stream_last_seq(&ledger_js, &bus::command_stream(0)).await;
    let command = serde_json::to_vec(&hold_seat(9, "h9", 5, 4)).expect("json");
    let by_ledger = tokio::time::timeout(REFUSED_WAIT, async {
        ledger_js
            .publish(bus::command_subject(0), command.clone().into())
            .await?
            .await
    })
    .await;
    assert!(!matches!(by_ledger, Ok(Ok(_))), "{by_ledger:?}");
    assert_eq!(
        stream_last_seq(&ledger_js, &bus::command_stream(0)).await,
        commands_before,
        "the ledger's credential put a command in the stream"
    );
    for (who, client) in [("ledger", &ledger_nats), ("notifier", &notifier_nats)] {
        let answer = tokio::time::timeout(
            REFUSED_WAIT,
            client.request(bus::command_request_subject(0), command.clone().into()),
        )
        .await;
        assert!(
            !matches!(answer, Ok(Ok(_))),
            "the leader answered a command sent with the {who}'s credential"
        );
    }
    // The seat the refused commands asked for is still free.
    let fourth = acknowledged(&direct, &hold_seat(10, "h10", 5, 4), WAIT_MAX).await;
    assert!(matches!(fourth, Ok(Reply::Held { .. })), "{fourth:?}");

    let log = nats.log_tail();
    assert!(
        log.contains("Violation") && log.contains(&bus::events_subject(0)),
        "the server logs the refused event: {log}"
    );
    node.shutdown().await;
}
