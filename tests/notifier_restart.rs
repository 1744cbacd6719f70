//! The notifier as its own process (`picket notifier`) beside a `picket ledger` node and a
//! `picket up` gateway over the harness's NATS and PostgreSQL, killed with SIGKILL while
//! bookings stream in and started again: every booking's notice reaches the inbox, none twice,
//! and the notifier's durable JetStream consumer ends with nothing pending.
//! (This file belongs to the root `picket` package, which is what gives it the binary's path.)

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use picket_ledger_client::{BusConfig, LedgerClient, NatsLedger};
use picket_ledger_core::{
    ActorId, Command as LedgerCommand, HoldId, IdempotencyKey, PerformanceId, Reply, Request,
    SeatId, Selection,
};
use picket_tests::api::{PASSWORD, call};
use picket_tests::deploy::{Deployment, deployment};
use picket_tests::gateway::small_spec;
use picket_tests::ledger::submit_until_acknowledged;
use serde_json::{Value, json};

const PICKET: &str = env!("CARGO_BIN_EXE_picket");
const WAIT_MAX: Duration = Duration::from_secs(60);
const LEASE_MS: u64 = 2_000;
const PERFORMANCE: u64 = 31;
const BOOKINGS: u32 = 60;
/// Members booking, in turn (a member may hold at most 16 tickets of a performance).
const MEMBERS: u32 = 4;
/// The first notifier is killed once this many notices are in the inboxes.
const KILL_AFTER: usize = 10;

/// `picket notifier` for the deployment, logging to `<dir>/<name>.log`, its ops port on a free
/// loopback port.
fn spawn_notifier(deployment: &Deployment, name: &str) -> Child {
    let port = picket_tests::free_port().expect("port");
    let log =
        std::fs::File::create(deployment.dir().join(format!("{name}.log"))).expect("log file");
    Command::new(PICKET)
        .arg("notifier")
        .env("PICKET_NATS_URL", deployment.nats_url())
        .env("DATABASE_URL", &deployment.database_url)
        .env("PICKET_NOTIFIER_LISTEN", format!("127.0.0.1:{port}"))
        .env("RUST_LOG", "info")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("spawn picket notifier")
}

async fn ledger(nats_url: &str) -> LedgerClient {
    let mut bus = BusConfig::new(nats_url, 1);
    bus.request_timeout = Duration::from_millis(1_000);
    LedgerClient::Nats(
        NatsLedger::connect(bus, "restart-test")
            .await
            .expect("ledger client"),
    )
}

async fn submit(ledger: &LedgerClient, actor: u64, key: &str, command: LedgerCommand) -> Reply {
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

/// Holds seat `seat` and pays for it: the booking id.
async fn book(ledger: &LedgerClient, member: u64, seat: u32) -> u64 {
    let performance = PerformanceId(PERFORMANCE);
    let held = LedgerCommand::Hold {
        performance,
        selection: Selection::Seats(vec![SeatId(seat)]),
        admission: None,
        offer: None,
    };
    let (hold, amount_won): (HoldId, u64) =
        match submit(ledger, member, &format!("hold-{seat}"), held).await {
            Reply::Held {
                hold, amount_won, ..
            } => (hold, amount_won),
            other => panic!("not held: {other:?}"),
        };
    let confirm = LedgerCommand::Confirm {
        performance,
        hold,
        payment_ref: format!("pay-{seat}"),
        amount_won,
    };
    match submit(ledger, member, &format!("pay-{seat}"), confirm).await {
        Reply::Confirmed { booking, .. } => booking.0,
        other => panic!("not confirmed: {other:?}"),
    }
}

/// Signs up a member and signs in: (account id, session token).
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

/// Every entry of the member's inbox, all pages.
async fn inbox(address: SocketAddr, token: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(after) => format!("/api/v2/me/notifications?limit=50&cursor={after}"),
            None => "/api/v2/me/notifications?limit=50".to_string(),
        };
        let page = call(address, "GET", &path, "", Some(token)).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        items.extend(
            page.body["items"]
                .as_array()
                .expect("items")
                .iter()
                .cloned(),
        );
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => return items,
        }
    }
}

/// Every entry of every member's inbox.
async fn inboxes(address: SocketAddr, tokens: &[String]) -> Vec<Value> {
    let mut items = Vec::new();
    for token in tokens {
        items.extend(inbox(address, token).await);
    }
    items
}

#[test]
fn a_notifier_killed_mid_stream_loses_nothing_and_shows_nothing_twice() {
    let deployment = deployment(
        PICKET,
        1,
        LEASE_MS,
        &[("PICKET_NOTIFIER", "false".to_string())],
    );
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let address: SocketAddr = deployment.gateways[0].address().parse().expect("address");
        let mut members = Vec::new();
        for n in 0..MEMBERS {
            members.push(member_at(address, &format!("restart{n}@example.com")).await);
        }
        let tokens: Vec<String> = members.iter().map(|(_, token)| token.clone()).collect();
        let ledger = ledger(&deployment.nats_url()).await;
        let mut spec = small_spec(PERFORMANCE, BOOKINGS as u16);
        // Each member books a quarter of the seats, one at a time.
        spec.per_buyer_limit = (BOOKINGS / MEMBERS) as u16;
        submit(
            &ledger,
            0,
            "open",
            LedgerCommand::OpenPerformance(Box::new(spec)),
        )
        .await;

        let mut first = spawn_notifier(&deployment, "notifier-1");
        let booking = {
            let ledger = ledger.clone();
            let buyers: Vec<u64> = members.iter().map(|(member, _)| *member).collect();
            tokio::spawn(async move {
                let mut booked = Vec::new();
                for seat in 0..BOOKINGS {
                    let buyer = buyers[(seat % MEMBERS) as usize];
                    booked.push(book(&ledger, buyer, seat).await);
                }
                booked
            })
        };
        // Killed mid-stream: once some notices are in and before the bookings are done.
        let deadline = Instant::now() + WAIT_MAX;
        loop {
            let seen = inboxes(address, &tokens).await.len();
            if seen >= KILL_AFTER {
                break;
            }
            assert!(Instant::now() < deadline, "the first notifier wrote {seen}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        first.kill().expect("SIGKILL the notifier");
        first.wait().expect("reaped");
        let booked = booking.await.expect("bookings");
        let before_restart = inboxes(address, &tokens).await.len();
        assert!(
            before_restart < BOOKINGS as usize,
            "the notifier was killed before the last booking ({before_restart} notices)"
        );

        let mut second = spawn_notifier(&deployment, "notifier-2");
        let items = loop {
            let items = inboxes(address, &tokens).await;
            if items.len() >= BOOKINGS as usize {
                break items;
            }
            assert!(
                Instant::now() < deadline + WAIT_MAX,
                "{} of {BOOKINGS} notices after the restart",
                items.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let mut noticed: Vec<u64> = items
            .iter()
            .map(|item| {
                assert_eq!(item["kind"], "booking_confirmed", "{item}");
                item["data"]["booking"]
                    .as_str()
                    .expect("booking id")
                    .parse()
                    .expect("decimal id")
            })
            .collect();
        noticed.sort_unstable();
        let mut expected = booked.clone();
        expected.sort_unstable();
        assert_eq!(noticed, expected, "each booking's notice exactly once");

        // The notifier's place is the bus's too: its durable consumer caught up.
        let deadline = Instant::now() + WAIT_MAX;
        loop {
            let info = picket_tests::nats::consumer_info(
                &deployment.nats_url(),
                "PICKET_EVENTS_P0",
                picket_notifier::CONSUMER_DEFAULT,
            )
            .await;
            let caught_up = info
                .as_ref()
                .is_some_and(|info| info["num_pending"] == 0 && info["num_ack_pending"] == 0);
            if caught_up {
                break;
            }
            assert!(Instant::now() < deadline, "consumer: {info:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        // Nothing arrived late: still once each.
        assert_eq!(inboxes(address, &tokens).await.len(), BOOKINGS as usize);
        second.kill().expect("stop the notifier");
        let _ = second.wait();
    });
}
