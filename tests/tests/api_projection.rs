//! The bookings projection across restarts and resubscriptions (on PostgreSQL):
//!
//! - bookings committed while no API follows the ledger are on my page once an API starts;
//! - a hold made before a restart and paid (or released) after it is recorded;
//! - entries delivered twice (two APIs following one ledger, a follower whose cursor is stale,
//!   a resubscription from the start of the journal) change nothing: the rows match exactly
//!   what the ledger replied;
//! - the same over the NATS ledger (two partitions, catching up from the events streams), and a
//!   projection older than the events stream's retention says so and carries on;
//! - the notifier over the NATS ledger, writing a buyer's notices from both partitions;
//! - the same entries applied in one transaction and one entry at a time leave the same rows.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use picket_api::bookings::Projection;
use picket_api::store::Store;
use picket_api::{Api, ApiConfig};
use picket_edge::token::Claims;
use picket_ledger::metrics::Metrics;
use picket_ledger::{LedgerConfig, Node, NodeConfig, PgJournal, StoreUrl};
use picket_ledger_client::{BusConfig, LedgerClient, NatsLedger, ReadError};
use picket_ledger_core::{ActorId, Command, IdempotencyKey, Reply, Request};
use picket_tests::api::{ApiSetup, OPERATOR, PASSWORD, call};
use picket_tests::gateway::{small_spec, test_keys};
use picket_tests::ledger::submit_until_acknowledged;
use picket_tests::{Nats, Postgres};
use serde_json::{Value, json};
use sqlx::AnyPool;

const WAIT_MAX: Duration = Duration::from_secs(20);

/// An API process of its own (its own follower of the ledger) on a shared database.
struct ApiProcess {
    api: Arc<Api>,
    address: SocketAddr,
    _dir: tempfile::TempDir,
}

async fn start_api(store: Store, ledger: LedgerClient) -> ApiProcess {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = ApiConfig {
        media_dir: dir.path().join("media"),
        ..ApiConfig::default()
    };
    let api = Api::new(
        store,
        test_keys(),
        OPERATOR.into(),
        Some(ledger),
        None,
        config,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("addr");
    let router = picket_api::router(api.clone());
    tokio::spawn(async move { axum::serve(listener, router).await });
    ApiProcess {
        api,
        address,
        _dir: dir,
    }
}

/// Signs up a member at the API on `address` and signs in: (account id, token).
async fn member_at(address: SocketAddr, email: &str) -> (u64, String) {
    let form = json!({"email": email, "password": PASSWORD, "name": "회원"});
    let created = call(address, "POST", "/api/v2/accounts", &form.to_string(), None).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let form = json!({"email": email, "password": PASSWORD});
    let session = call(address, "POST", "/api/v2/sessions", &form.to_string(), None).await;
    assert_eq!(session.status, 201, "{:?}", session.body);
    (
        picket_tests::ids::id(&created.body["id"]),
        session.body["token"].as_str().expect("token").to_owned(),
    )
}

/// What the ledger replied to a payment.
#[derive(Debug)]
struct Booked {
    booking: u64,
    tickets: Vec<u64>,
    paid_won: u64,
}

/// Commands as JSON: the fields the ledger adds later have defaults.
fn command(value: Value) -> Command {
    serde_json::from_value(value).expect("a command")
}

async fn submit(ledger: &LedgerClient, actor: u64, key: &str, command: Command) -> Reply {
    let request = Request {
        actor: ActorId(actor),
        key: IdempotencyKey::new(key).expect("key"),
        command,
    };
    match submit_until_acknowledged(ledger, &request, WAIT_MAX).await {
        Some(Ok(reply)) => reply,
        other => panic!("{key}: {other:?}"),
    }
}

/// Holds `seats`: (hold id, amount).
async fn hold(
    ledger: &LedgerClient,
    actor: u64,
    key: &str,
    performance: u64,
    seats: &[u32],
) -> (u64, u64) {
    let held =
        command(json!({"Hold": {"performance": performance, "selection": {"Seats": seats}}}));
    match submit(ledger, actor, &format!("{key}-hold"), held).await {
        Reply::Held {
            hold, amount_won, ..
        } => (hold.0, amount_won),
        other => panic!("not held: {other:?}"),
    }
}

async fn pay(
    ledger: &LedgerClient,
    actor: u64,
    key: &str,
    performance: u64,
    (hold, amount): (u64, u64),
) -> Booked {
    let confirm = command(json!({"Confirm": {"performance": performance, "hold": hold,
        "payment_ref": format!("pay-{key}"), "amount_won": amount}}));
    match submit(ledger, actor, &format!("{key}-pay"), confirm).await {
        Reply::Confirmed {
            booking,
            tickets,
            amount_won,
            ..
        } => Booked {
            booking: booking.0,
            tickets: tickets.iter().map(|t| t.0).collect(),
            paid_won: amount_won,
        },
        other => panic!("not confirmed: {other:?}"),
    }
}

async fn book(
    ledger: &LedgerClient,
    actor: u64,
    key: &str,
    performance: u64,
    seats: &[u32],
) -> Booked {
    let held = hold(ledger, actor, key, performance, seats).await;
    pay(ledger, actor, key, performance, held).await
}

/// `path`'s items as they are now.
async fn items_now(address: SocketAddr, path: &str, token: &str) -> Vec<Value> {
    let answer = call(address, "GET", path, "", Some(token)).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["items"].as_array().cloned().unwrap_or_default()
}

/// Polls `path` until its `items` has `count` entries (or the wait ends).
async fn items_eventually(
    address: SocketAddr,
    path: &str,
    token: &str,
    count: usize,
) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + WAIT_MAX;
    loop {
        let items = items_now(address, path, token).await;
        if items.len() >= count || tokio::time::Instant::now() > deadline {
            return items;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The item of `booked` is exactly what the ledger replied.
fn assert_listed(items: &[Value], booked: &Booked) {
    let item = items
        .iter()
        .find(|i| picket_tests::ids::id(&i["booking"]) == booked.booking)
        .unwrap_or_else(|| panic!("booking {} not listed: {items:?}", booked.booking));
    assert_eq!(item["paid_won"], booked.paid_won, "{item:?}");
    let tickets: Vec<u64> = item["tickets"]
        .as_array()
        .expect("tickets")
        .iter()
        .map(|t| picket_tests::ids::id(&t["ticket"]))
        .collect();
    assert_eq!(tickets, booked.tickets, "{item:?}");
}

async fn cursor(pool: &AnyPool, partition: u16) -> u64 {
    let seq: Option<i64> =
        sqlx::query_scalar("SELECT seq FROM projection_cursors WHERE ledger_partition = $1")
            .bind(i64::from(partition))
            .fetch_optional(pool)
            .await
            .expect("cursor");
    seq.unwrap_or(0) as u64
}

/// Waits until the projection has applied partition `partition` up to `seq`.
async fn settled(pool: &AnyPool, partition: u16, seq: u64) {
    let deadline = tokio::time::Instant::now() + WAIT_MAX;
    while cursor(pool, partition).await != seq {
        assert!(
            tokio::time::Instant::now() < deadline,
            "partition {partition}: projection at {}, ledger at {seq}",
            cursor(pool, partition).await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Open holds as rows, checked against the counts kept with the cursors (one statement: one
/// snapshot, while a follower may be committing).
async fn open_holds(pool: &AnyPool) -> i64 {
    use sqlx::Row;
    let row = sqlx::query(
        "SELECT (SELECT COUNT(*) FROM open_holds), \
         (SELECT CAST(COALESCE(SUM(open_holds), 0) AS BIGINT) FROM projection_cursors)",
    )
    .fetch_one(pool)
    .await
    .expect("open holds");
    let (rows, counted): (i64, i64) = (row.get(0), row.get(1));
    assert_eq!(rows, counted, "open-hold rows and their count agree");
    rows
}

async fn wait_open_holds(pool: &AnyPool, count: i64) {
    let deadline = tokio::time::Instant::now() + WAIT_MAX;
    while open_holds(pool).await != count {
        assert!(
            tokio::time::Instant::now() < deadline,
            "open holds never reached {count}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every booking row, as the projection stored it.
async fn booking_rows(pool: &AnyPool) -> Vec<String> {
    let rows = sqlx::query(
        "SELECT booking, performance, actor, number, name, phone, places, first_ticket, paid_won, \
         booked_at_ms, cancelled FROM bookings ORDER BY booking",
    )
    .fetch_all(pool)
    .await
    .expect("bookings");
    rows.iter()
        .map(|row| {
            use sqlx::Row;
            let number: Option<String> = row.get(3);
            let name: Option<String> = row.get(4);
            let phone: Option<String> = row.get(5);
            format!(
                "{} {} {} {number:?} {name:?} {phone:?} {} {} {} {} {}",
                row.get::<i64, _>(0),
                row.get::<i64, _>(1),
                row.get::<i64, _>(2),
                row.get::<String, _>(6),
                row.get::<i64, _>(7),
                row.get::<i64, _>(8),
                row.get::<i64, _>(9),
                row.get::<String, _>(10),
            )
        })
        .collect()
}

fn in_process(setup: &ApiSetup) -> LedgerClient {
    LedgerClient::in_process(setup.cluster.ledger.handle.clone())
}

fn journal_seq(setup: &ApiSetup) -> u64 {
    setup.cluster.ledger.handle.status().journal_seq
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bookings_committed_while_no_api_follows_appear_once_one_starts() {
    let setup = ApiSetup::start_postgres().await;
    let (_, performance) = setup.published_show("s@example.com", "123-45-67891").await;
    let (member, token) = member_at(setup.address, "m@example.com").await;
    let pool = setup.api.store.pool().clone();
    let ledger = in_process(&setup);
    settled(&pool, 0, journal_seq(&setup)).await;
    setup.api.bookings.stop_following().await;

    let booked = book(&ledger, member, "down-1", performance, &[0, 1]).await;
    let other = book(&ledger, member, "down-2", performance, &[10]).await;
    assert_eq!(booked.paid_won, 320_000);
    // Nobody followed the ledger: not recorded yet.
    assert!(
        items_now(setup.address, "/api/v2/me/bookings", &token)
            .await
            .is_empty()
    );
    assert!(cursor(&pool, 0).await < journal_seq(&setup));

    let restarted = start_api(setup.api.store.clone(), ledger.clone()).await;
    let items = items_eventually(restarted.address, "/api/v2/me/bookings", &token, 2).await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert_listed(&items, &booked);
    assert_listed(&items, &other);
    let first = items
        .iter()
        .find(|i| picket_tests::ids::id(&i["booking"]) == booked.booking)
        .expect("listed");
    assert_eq!(first["tickets"][0]["place"], "A 1열 1번");
    assert_eq!(first["tickets"][1]["price_won"], 160_000);
    settled(&pool, 0, journal_seq(&setup)).await;
    assert_eq!(open_holds(&pool).await, 0);
    restarted.api.bookings.stop_following().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hold_made_before_a_restart_and_paid_after_it_is_recorded() {
    let setup = ApiSetup::start_postgres().await;
    let (_, performance) = setup.published_show("s@example.com", "123-45-67891").await;
    let (member, token) = member_at(setup.address, "m@example.com").await;
    let pool = setup.api.store.pool().clone();
    let ledger = in_process(&setup);
    // Three holds while the API follows: it keeps them in its database.
    let paid_while_down = hold(&ledger, member, "r1", performance, &[0]).await;
    let paid_after = hold(&ledger, member, "r2", performance, &[1, 2]).await;
    let released = hold(&ledger, member, "r3", performance, &[3]).await;
    wait_open_holds(&pool, 3).await;
    setup.api.bookings.stop_following().await;

    // Paid and released while no API follows.
    let first = pay(&ledger, member, "r1", performance, paid_while_down).await;
    let release = command(json!({"Release": {"performance": performance, "hold": released.0}}));
    assert!(matches!(
        submit(&ledger, member, "r3-release", release).await,
        Reply::Released { .. }
    ));

    let restarted = start_api(setup.api.store.clone(), ledger.clone()).await;
    let items = items_eventually(restarted.address, "/api/v2/me/bookings", &token, 1).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_listed(&items, &first);
    // Paid after the restart, while the new API follows.
    let second = pay(&ledger, member, "r2", performance, paid_after).await;
    assert_eq!(second.paid_won, 320_000);
    let items = items_eventually(restarted.address, "/api/v2/me/bookings", &token, 2).await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert_listed(&items, &first);
    assert_listed(&items, &second);
    settled(&pool, 0, journal_seq(&setup)).await;
    assert_eq!(
        open_holds(&pool).await,
        0,
        "paid and released holds are gone"
    );
    restarted.api.bookings.stop_following().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_delivered_twice_change_nothing() {
    let setup = ApiSetup::start_postgres().await;
    let (_, performance) = setup.published_show("s@example.com", "123-45-67891").await;
    let (member, token) = member_at(setup.address, "m@example.com").await;
    let (other, other_token) = member_at(setup.address, "o@example.com").await;
    let device = "guest-device-0000042";
    let guest_token = test_keys().sign(&Claims::Guest {
        device: device.into(),
        exp_ms: picket_edge::clock::now_ms() + 3_600_000,
    });
    let contact = json!({"name": "홍길동", "phone": "010-9876-5432"}).to_string();
    let put = call(
        setup.address,
        "PUT",
        "/api/v2/guest/contact",
        &contact,
        Some(&guest_token),
    )
    .await;
    assert_eq!(put.status, 204);
    let guest = picket_edge::identity::actor_of(&picket_edge::identity::guest(device)).0;
    let pool = setup.api.store.pool().clone();
    let ledger = in_process(&setup);

    // A second API follows the same ledger into the same database: every entry reaches both.
    let second_api = start_api(setup.api.store.clone(), ledger.clone()).await;
    let mine = [
        book(&ledger, member, "twice-0", performance, &[0, 1]).await,
        book(&ledger, member, "twice-1", performance, &[2, 3]).await,
    ];
    let theirs = book(&ledger, other, "twice-2", performance, &[4, 5]).await;
    let guest_booked = book(&ledger, guest, "twice-guest", performance, &[12]).await;
    let cancelled_ticket = mine[0].tickets[1];
    let cancel = command(json!({"Cancel": {"performance": performance,
        "booking": mine[0].booking, "tickets": [cancelled_ticket]}}));
    assert!(matches!(
        submit(&ledger, member, "twice-cancel", cancel).await,
        Reply::Cancelled { .. }
    ));
    settled(&pool, 0, journal_seq(&setup)).await;

    let items = items_now(second_api.address, "/api/v2/me/bookings", &token).await;
    assert_eq!(items.len(), 2, "each booking once: {items:?}");
    for one in &mine {
        assert_listed(&items, one);
    }
    let first = items
        .iter()
        .find(|i| picket_tests::ids::id(&i["booking"]) == mine[0].booking)
        .expect("listed");
    let cancelled: Vec<bool> = first["tickets"]
        .as_array()
        .expect("tickets")
        .iter()
        .map(|t| t["cancelled"].as_bool().expect("flag"))
        .collect();
    assert_eq!(cancelled, vec![false, true]);
    let guest_items = items_now(setup.address, "/api/v2/guest/bookings", &guest_token).await;
    assert_eq!(guest_items.len(), 1, "{guest_items:?}");
    assert_listed(&guest_items, &guest_booked);
    assert!(guest_items[0]["number"].is_string());
    assert_eq!(open_holds(&pool).await, 0);
    assert_eq!(booking_rows(&pool).await.len(), 4);

    // Followers whose cursors are stale: they loaded their place, then another follower
    // applied more entries. Given those again, they claim nothing and change nothing, even
    // the hold alone without its payment (applied again, it would be an open hold again).
    let stale_from = journal_seq(&setup);
    let mut stale = Projection::start(&setup.api, &ledger, &[(0, stale_from)])
        .await
        .expect("projection");
    let mut resubscribed = Projection::start(&setup.api, &ledger, &[(0, stale_from)])
        .await
        .expect("projection");
    let later = book(&ledger, other, "twice-later", performance, &[6]).await;
    let now = journal_seq(&setup);
    settled(&pool, 0, now).await;
    let rows = booking_rows(&pool).await;
    assert_eq!(rows.len(), 5);
    let read = |after: u64| {
        let ledger = ledger.clone();
        async move {
            let entries = ledger
                .entries_after(0, after, 1_000)
                .await
                .expect("entries");
            entries.into_iter().map(Arc::new).collect::<Vec<_>>()
        }
    };
    let again = read(stale_from).await;
    assert_eq!(again.len() as u64, now - stale_from);
    let held_again: Vec<_> = again
        .iter()
        .filter(|entry| {
            entry
                .events
                .iter()
                .any(|e| matches!(e, picket_ledger_core::Event::PlacesHeld { .. }))
        })
        .cloned()
        .collect();
    assert_eq!(held_again.len(), 1);
    stale.apply(&held_again).await.expect("applied");
    assert_eq!(stale.cursor(0), now, "it learned where the projection is");
    assert_eq!(open_holds(&pool).await, 0, "the paid hold stays closed");
    // A resubscription that delivers the whole journal again.
    let everything = read(0).await;
    assert_eq!(everything.len() as u64, now);
    resubscribed.apply(&everything).await.expect("applied");
    assert_eq!(resubscribed.cursor(0), now);
    assert_eq!(booking_rows(&pool).await, rows, "nothing changed");
    assert_eq!(open_holds(&pool).await, 0);
    assert_eq!(cursor(&pool, 0).await, now);
    let items = items_now(setup.address, "/api/v2/me/bookings", &other_token).await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert_listed(&items, &theirs);
    assert_listed(&items, &later);
    second_api.api.bookings.stop_following().await;
    setup.api.bookings.stop_following().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_live_entry_after_a_gap_is_applied_after_what_the_gap_hid() {
    // On SQLite (`picket up`'s store): the projection's tables and queries work on both.
    let setup = ApiSetup::start().await;
    let (_, performance) = setup.published_show("s@example.com", "123-45-67891").await;
    let (member, token) = member_at(setup.address, "m@example.com").await;
    let pool = setup.api.store.pool().clone();
    let ledger = in_process(&setup);
    settled(&pool, 0, journal_seq(&setup)).await;
    setup.api.bookings.stop_following().await;
    let mut projection = Projection::start(&setup.api, &ledger, &[])
        .await
        .expect("projection");
    let first = book(&ledger, member, "gap-1", performance, &[0]).await;
    let second = book(&ledger, member, "gap-2", performance, &[1, 2]).await;
    let now = journal_seq(&setup);
    // Only the last entry arrives (the others were lost between two subscriptions).
    let last: Vec<_> = ledger
        .entries_after(0, now - 1, 1)
        .await
        .expect("entries")
        .into_iter()
        .map(Arc::new)
        .collect();
    assert_eq!(last.len(), 1);
    projection.apply(&last).await.expect("applied");
    assert_eq!(projection.cursor(0), now);
    assert_eq!(cursor(&pool, 0).await, now);
    let items = items_now(setup.address, "/api/v2/me/bookings", &token).await;
    assert_eq!(items.len(), 2, "{items:?}");
    assert_listed(&items, &first);
    assert_listed(&items, &second);
    assert_eq!(open_holds(&pool).await, 0);
}

/// PostgreSQL (a database for the ledger, one for the API), NATS, and a ledger node leading
/// `partitions` partitions whose streams keep `stream_messages_max` messages.
struct NatsServices {
    _postgres: Postgres,
    nats: Nats,
    node: Node,
    api_url: String,
    partitions: u16,
    stream_messages_max: i64,
}

impl NatsServices {
    async fn start(partitions: u16, stream_messages_max: i64) -> NatsServices {
        let postgres = Postgres::start().expect("postgres");
        let ledger_url = postgres.create_database("ledger").expect("database");
        let api_url = postgres.create_database("api").expect("database");
        let nats = Nats::start().expect("nats");
        let ledger = LedgerConfig::new(StoreUrl::Postgres(ledger_url.clone()));
        let mut bus = BusConfig::new(nats.url(), partitions);
        bus.stream_messages_max = stream_messages_max;
        let config = NodeConfig::new(ledger, bus, (0..partitions).collect(), "node-a".into());
        let journal = PgJournal::connect(&ledger_url, 8, Duration::from_secs(5))
            .await
            .expect("journal");
        let connection = picket_ledger_client::bus::connect(&nats.url(), "node-a")
            .await
            .expect("nats");
        let metrics = Arc::new(Metrics::new(
            &mut prometheus_client::registry::Registry::default(),
        ));
        let node = Node::start(config, journal, connection, metrics)
            .await
            .expect("node");
        let services = NatsServices {
            _postgres: postgres,
            nats,
            node,
            api_url,
            partitions,
            stream_messages_max,
        };
        services.wait_for_leaders().await;
        services
    }

    async fn wait_for_leaders(&self) {
        let deadline = tokio::time::Instant::now() + WAIT_MAX;
        while self
            .node
            .status()
            .iter()
            .filter(|s| s.role == "leader")
            .count()
            < usize::from(self.partitions)
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "no leaders: {:?}",
                self.node.status()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn client(&self, name: &str) -> LedgerClient {
        let mut bus = BusConfig::new(self.nats.url(), self.partitions);
        bus.stream_messages_max = self.stream_messages_max;
        LedgerClient::Nats(NatsLedger::connect(bus, name).await.expect("client"))
    }

    async fn store(&self) -> Store {
        Store::connect(&self.api_url).await.expect("store")
    }

    /// Waits until the projection has applied everything each partition has committed.
    async fn settled(&self, pool: &AnyPool, ledger: &LedgerClient) {
        for partition in 0..self.partitions {
            let deadline = tokio::time::Instant::now() + WAIT_MAX;
            loop {
                let at = cursor(pool, partition).await;
                let newer = ledger
                    .entries_after(partition, at, 1)
                    .await
                    .expect("entries");
                let leader_seq = self
                    .node
                    .status()
                    .iter()
                    .find(|s| s.partition == partition)
                    .map_or(0, |s| s.journal_seq);
                if newer.is_empty() && at >= leader_seq {
                    break;
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "partition {partition}: projection at {at}"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

async fn open(ledger: &LedgerClient, performance: u64) {
    let opened = Command::OpenPerformance(Box::new(small_spec(performance, 40)));
    let reply = submit(ledger, 0, &format!("open-{performance}"), opened).await;
    assert!(
        matches!(reply, Reply::PerformanceOpened { .. }),
        "{reply:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_nats_the_projection_catches_up_from_each_partitions_events_stream() {
    let services = NatsServices::start(2, 10_000_000).await;
    let ledger = services.client("api-1").await;
    // Performances 10 and 11 live in partitions 0 and 1.
    open(&ledger, 10).await;
    open(&ledger, 11).await;
    let first = start_api(services.store().await, ledger.clone()).await;
    let pool = first.api.store.pool().clone();
    let (member, token) = member_at(first.address, "m@example.com").await;
    let held_10 = hold(&ledger, member, "n1", 10, &[0]).await;
    let held_11 = hold(&ledger, member, "n2", 11, &[0, 1]).await;
    wait_open_holds(&pool, 2).await;
    first.api.bookings.stop_following().await;

    // While no API follows: both holds paid, and a booking from scratch.
    let paid_10 = pay(&ledger, member, "n1", 10, held_10).await;
    let paid_11 = pay(&ledger, member, "n2", 11, held_11).await;
    let fresh = book(&ledger, member, "n3", 11, &[5]).await;
    assert_eq!(paid_11.paid_won, 220_000);
    assert!(
        items_now(first.address, "/api/v2/me/bookings", &token)
            .await
            .is_empty()
    );

    let second = start_api(services.store().await, services.client("api-2").await).await;
    let items = items_eventually(second.address, "/api/v2/me/bookings", &token, 3).await;
    assert_eq!(items.len(), 3, "{items:?}");
    for booked in [&paid_10, &paid_11, &fresh] {
        assert_listed(&items, booked);
    }
    let live = book(&ledger, member, "n4", 10, &[7, 8]).await;
    let items = items_eventually(second.address, "/api/v2/me/bookings", &token, 4).await;
    assert_eq!(items.len(), 4, "{items:?}");
    assert_listed(&items, &live);
    services.settled(&pool, &ledger).await;
    assert_eq!(open_holds(&pool).await, 0);
    assert!(cursor(&pool, 0).await > 0 && cursor(&pool, 1).await > 0);
    second.api.bookings.stop_following().await;
    services.node.shutdown().await;
}

/// The notifier (`picket-notifier`) over NATS: it reads each partition's events stream from its
/// cursor, like the projection, and writes the buyer's notices.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_nats_the_notifier_follows_each_partitions_events_stream() {
    let services = NatsServices::start(2, 10_000_000).await;
    let ledger = services.client("api-1").await;
    // Performances 10 and 11 live in partitions 0 and 1.
    open(&ledger, 10).await;
    open(&ledger, 11).await;
    let api = start_api(services.store().await, ledger.clone()).await;
    let (member, token) = member_at(api.address, "notified@example.com").await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let notifier = tokio::spawn(picket_notifier::run(
        services.store().await,
        services.client("notifier").await,
        picket_notifier::NotifierConfig::new(vec![0, 1]),
        stopped,
    ));
    let booked = [
        book(&ledger, member, "x1", 10, &[0]).await,
        book(&ledger, member, "x2", 11, &[0, 1]).await,
    ];
    let items = items_eventually(api.address, "/api/v2/me/notifications", &token, 2).await;
    assert_eq!(items.len(), 2, "{items:?}");
    for done in &booked {
        let notice = items
            .iter()
            // Ids are strings: compared as text, not as the number.
            .find(|i| i["data"]["booking"].as_str() == Some(done.booking.to_string().as_str()))
            .unwrap_or_else(|| panic!("no notice of {done:?} in {items:?}"));
        assert_eq!(notice["kind"], "booking_confirmed");
        // Performances opened by the operator have no show: the text names none.
        let paid = picket_notifier::compose::format_won(done.paid_won);
        assert_eq!(
            notice["body"],
            format!("예매가 확정되었습니다. 결제 금액 {paid}원")
        );
    }
    let _ = stop.send(true);
    notifier.await.expect("the notifier stops");
    api.api.bookings.stop_following().await;
    services.node.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_projection_older_than_the_events_stream_says_so_and_carries_on() {
    // The events stream keeps 4 entries: older ones are gone.
    let services = NatsServices::start(1, 4).await;
    let ledger = services.client("api-1").await;
    open(&ledger, 10).await;
    for seat in 0..6u32 {
        hold(
            &ledger,
            1_000 + u64::from(seat),
            &format!("old-{seat}"),
            10,
            &[seat],
        )
        .await;
    }
    let mut last = 0;
    let deadline = tokio::time::Instant::now() + WAIT_MAX;
    while last < 7 {
        assert!(tokio::time::Instant::now() < deadline, "entries published");
        last = services.node.status().first().map_or(0, |s| s.journal_seq);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let gone = loop {
        match ledger.entries_after(0, 0, 100).await {
            Err(ReadError::Gone { after, first, .. }) if first == 4 => break (after, first),
            other => {
                assert!(tokio::time::Instant::now() < deadline, "{other:?}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    assert_eq!(gone, (0, 4), "entries 1 to 3 are no longer kept");
    let kept = ledger.entries_after(0, 3, 100).await.expect("kept entries");
    let seqs: Vec<u64> = kept.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![4, 5, 6, 7]);
    assert!(kept.iter().all(|e| e.partition == 0));

    // An API starting from nothing skips what is gone (with a warning) and follows on.
    let api = start_api(services.store().await, ledger.clone()).await;
    let pool = api.api.store.pool().clone();
    let (member, token) = member_at(api.address, "m@example.com").await;
    let booked = book(&ledger, member, "new", 10, &[20]).await;
    let items = items_eventually(api.address, "/api/v2/me/bookings", &token, 1).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_listed(&items, &booked);
    services.settled(&pool, &ledger).await;
    api.api.bookings.stop_following().await;
    services.node.shutdown().await;
}

/// What the projection stored, to compare two stores: bookings (a guest's random number only as
/// "has one"), open holds as rows, and the counted open holds (checked against the rows).
async fn projected(pool: &AnyPool) -> (Vec<String>, Vec<String>, i64) {
    let bookings = booking_rows(pool)
        .await
        .into_iter()
        .map(|row| {
            let mut fields: Vec<String> = row.split(' ').map(str::to_owned).collect();
            fields[3] = (fields[3] != "None").to_string();
            fields.join(" ")
        })
        .collect();
    let holds: Vec<(i64, i64, i64, String, String)> = sqlx::query_as(
        "SELECT performance, hold, buyer, places, held FROM open_holds ORDER BY performance, hold",
    )
    .fetch_all(pool)
    .await
    .expect("open holds");
    let holds = holds.into_iter().map(|h| format!("{h:?}")).collect();
    (bookings, holds, open_holds(pool).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_transaction_of_many_entries_leaves_what_one_entry_at_a_time_leaves() {
    let setup = ApiSetup::start_postgres().await;
    let (_, performance) = setup.published_show("s@example.com", "123-45-67891").await;
    let (member, _) = member_at(setup.address, "m@example.com").await;
    let ledger = in_process(&setup);
    setup.api.bookings.stop_following().await;
    let guest = picket_edge::identity::actor_of(&picket_edge::identity::guest("device-batch-1")).0;

    // Holds paid, one released, one left open, a guest's booking, a cancellation: every event
    // the projection writes rows for.
    let booked = book(&ledger, member, "b-0", performance, &[0, 1]).await;
    book(&ledger, guest, "b-guest", performance, &[2]).await;
    let released = hold(&ledger, member, "b-released", performance, &[3]).await;
    let release = command(json!({"Release": {"performance": performance, "hold": released.0}}));
    assert!(matches!(
        submit(&ledger, member, "b-release", release).await,
        Reply::Released { .. }
    ));
    hold(&ledger, member, "b-open", performance, &[4, 5]).await;
    let cancel = command(json!({"Cancel": {"performance": performance,
        "booking": booked.booking, "tickets": [booked.tickets[0]]}}));
    assert!(matches!(
        submit(&ledger, member, "b-cancel", cancel).await,
        Reply::Cancelled { .. }
    ));
    let entries: Vec<_> = ledger
        .entries_after(0, 0, 1_000)
        .await
        .expect("entries")
        .into_iter()
        .map(Arc::new)
        .collect();
    assert_eq!(entries.len() as u64, journal_seq(&setup));
    assert!(
        entries.len() < picket_api::projection::PROJECTION_BATCH_MAX,
        "all in one transaction"
    );

    // Two fresh stores, each with the guest's contact, followed by nobody but the test.
    let postgres = Postgres::start().expect("postgres");
    let mut states = Vec::new();
    for (name, one_by_one) in [("batched", false), ("one_by_one", true)] {
        let url = postgres.create_database(name).expect("database");
        let store = Store::connect(&url).await.expect("store");
        store
            .set_guest_contact(guest as i64, "홍길동", "01098765432", 1)
            .await
            .expect("contact");
        let dir = tempfile::tempdir().expect("tempdir");
        let config = ApiConfig {
            media_dir: dir.path().join("media"),
            ..ApiConfig::default()
        };
        let api = Api::new(store, test_keys(), OPERATOR.into(), None, None, config);
        let mut projection = Projection::start(&api, &ledger, &[])
            .await
            .expect("projection");
        if one_by_one {
            for entry in &entries {
                projection
                    .apply(std::slice::from_ref(entry))
                    .await
                    .expect("applied");
            }
        } else {
            projection.apply(&entries).await.expect("applied");
        }
        let pool = api.store.pool().clone();
        assert_eq!(cursor(&pool, 0).await, entries.len() as u64);
        states.push(projected(&pool).await);
    }
    let (bookings, holds, counted) = &states[0];
    assert_eq!(bookings.len(), 2, "{bookings:?}");
    assert!(
        bookings.iter().any(|row| row.contains(" true ")),
        "the guest's booking has a number: {bookings:?}"
    );
    assert_eq!(holds.len(), 1, "the hold left open: {holds:?}");
    assert_eq!(*counted, 1);
    assert_eq!(states[0], states[1]);
}
