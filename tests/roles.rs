//! The roles of the one `picket` binary as an operator runs them, each its own process over the
//! harness's PostgreSQL, NATS and Redis: `picket gateway` processes in front of a `picket
//! ledger` node and a `picket sandbox-pay`, with a `picket notifier`; a buyer books a seat
//! through a gateway (hold → checkout → pay at the sandbox → confirm), and every role stops
//! cleanly on SIGTERM — a gateway tells its clients to reconnect and exits within its drain
//! grace, a ledger leader hands its lease to a standby at once. The notifier's ops port answers
//! `/healthz` (healthy, with its progress) and `/metrics`. Every role refuses bad settings
//! with all of them listed and exit code 2, before it binds its port.
//! (This file belongs to the root `picket` package, which is what gives it the binary's path.)

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use picket_tests::api::{call, call_raw};
use picket_tests::deploy::{OPERATOR_TOKEN, SandboxPay, Up, exit_within, gateway_env};
use picket_tests::gateway::{Client, sale_settings, small_spec, spec_json};
use picket_tests::ledger::LedgerNode;
use picket_tests::pay::CARD_OK;
use picket_tests::{Nats, Postgres, Redis, free_port};
use serde_json::json;

const PICKET: &str = env!("CARGO_BIN_EXE_picket");
/// The performance (and its sale) the buyer books.
const PERFORMANCE: u64 = 41;
const SEATS: u16 = 30;
/// The gateways' drain grace (`--drain-timeout-ms`).
const DRAIN_TIMEOUT_MS: u64 = 5_000;
/// What a stopping process may take beyond its drain: its workers and the last connections
/// ending. A process that has not exited by then hangs.
const STOP_WORK_MAX: Duration = Duration::from_secs(10);
/// How long a role may take to say it is up.
const START_WAIT_MAX: Duration = Duration::from_secs(60);

/// `picket notifier` for the deployment, its ops port on `port`, its output to
/// `<dir>/notifier.out` and `.log`.
fn spawn_notifier(dir: &Path, database_url: &str, nats: &Nats, port: u16) -> Child {
    let out = std::fs::File::create(dir.join("notifier.out")).expect("notifier.out");
    let log = std::fs::File::create(dir.join("notifier.log")).expect("notifier.log");
    let mut child = Command::new(PICKET)
        .arg("notifier")
        .env("DATABASE_URL", database_url)
        .env("PICKET_NATS_URL", nats.url())
        .env("PICKET_NOTIFIER_LISTEN", format!("127.0.0.1:{port}"))
        .env("PICKET_WORKER_THREADS", "1")
        .stdout(out)
        .stderr(log)
        .spawn()
        .expect("spawn picket notifier");
    let deadline = Instant::now() + START_WAIT_MAX;
    while !output_of(dir, "notifier.out").contains("picket notifier is up") {
        if let Some(status) = child.try_wait().expect("try_wait") {
            panic!("picket notifier exited early with {status}");
        }
        assert!(Instant::now() < deadline, "picket notifier did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

fn output_of(dir: &Path, file: &str) -> String {
    std::fs::read_to_string(dir.join(file)).unwrap_or_default()
}

/// Sends SIGTERM to `child` and waits for it to exit by itself within `wait`: it must, and
/// successfully.
fn terminate(child: &mut Child, what: &str, wait: Duration) {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(status.success(), "kill -TERM {what}");
    let exited = exit_within(child, wait).unwrap_or_else(|| panic!("{what} hangs after SIGTERM"));
    assert!(exited.success(), "{what} exited with {exited}");
}

#[test]
fn gateways_book_through_a_ledger_node_and_sandbox_pay_and_every_role_stops_on_sigterm() {
    let postgres = Postgres::start().expect("postgres");
    let nats = Nats::start().expect("nats");
    let redis = Redis::start().expect("redis");
    let database_url = postgres.create_database("picket").expect("database");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut ledger = LedgerNode::spawn(
        PICKET,
        &database_url,
        &nats.url(),
        2_000,
        dir.path(),
        "ledger",
    );
    ledger.wait_role("leader");
    let ports = [free_port().expect("port"), free_port().expect("port")];
    let webhook = format!("http://127.0.0.1:{}/api/v2/payments/webhook", ports[0]);
    let mut sandbox = SandboxPay::start(
        PICKET,
        free_port().expect("port"),
        &dir.path().join("sandbox-pay"),
        &[webhook],
        &[("PICKET_WORKER_THREADS", "1".to_owned())],
    );
    let mut env = gateway_env(&database_url, &nats, &redis, &sandbox);
    env.push(("PICKET_DRAIN_TIMEOUT_MS", DRAIN_TIMEOUT_MS.to_string()));
    env.push(("PICKET_WORKER_THREADS", "1".to_owned()));
    let mut gateways: Vec<Up> = ports
        .iter()
        .enumerate()
        .map(|(n, port)| {
            let data_dir = dir.path().join(format!("gateway-{n}"));
            Up::start_role(PICKET, "gateway", *port, &data_dir, &env)
        })
        .collect();
    let notifier_ops: SocketAddr = ([127, 0, 0, 1], free_port().expect("port")).into();
    let mut notifier = spawn_notifier(dir.path(), &database_url, &nats, notifier_ops.port());
    let addresses: Vec<SocketAddr> = gateways
        .iter()
        .map(|gateway| gateway.address().parse().expect("address"))
        .collect();

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let mut buyer = runtime.block_on(async {
        // The operator opens the performance and its sale through the first gateway.
        let spec = spec_json(&small_spec(PERFORMANCE, SEATS)).to_string();
        let opened = call(
            addresses[0],
            "POST",
            "/api/v2/performances",
            &spec,
            Some(OPERATOR_TOKEN),
        )
        .await;
        assert_eq!(opened.status, 201, "{}", opened.body);
        let settings = sale_settings(picket_edge::clock::now_ms(), 100, 100).to_string();
        let path = format!("/api/v2/sales/{PERFORMANCE}");
        let sale = call(addresses[0], "PUT", &path, &settings, Some(OPERATOR_TOKEN)).await;
        assert_eq!(sale.status, 200, "{}", sale.body);

        // A buyer on the second gateway joins, is admitted, holds two seats, pays for them at
        // `picket sandbox-pay` and confirms: the ledger node books them.
        let mut buyer = Client::guest(addresses[1], "roles-device-0001").await;
        let admission = buyer.join_admitted(PERFORMANCE).await;
        buyer
            .send(
                json!({"type": "hold", "id": "h", "sale": PERFORMANCE.to_string(),
                "key": "roles-hold", "admission": admission, "selection": {"Seats": [2, 3]}}),
            )
            .await;
        let held = buyer.answer_to("h").await;
        let hold = picket_tests::ids::id(&held["outcome"]["Ok"]["Held"]["hold"]);
        let checkout = buyer.checkout(PERFORMANCE, hold).await;
        assert_eq!(
            checkout["provider"]["checkout_url"],
            sandbox.checkout_url(),
            "buyers pay at the sandbox's page: {checkout}"
        );
        let paid = buyer
            .pay(
                &sandbox,
                PERFORMANCE,
                &admission,
                hold,
                "roles-pay",
                CARD_OK,
            )
            .await;
        assert!(
            paid["outcome"]["Ok"]["Confirmed"]["booking"].is_string(),
            "not booked: {paid}"
        );

        // The first gateway's seat map follows the ledger's events: the two seats are sold.
        let mut watcher = Client::guest(addresses[0], "roles-device-0002").await;
        watcher
            .send(json!({"type": "watch", "performance": PERFORMANCE.to_string()}))
            .await;
        let mut seats = watcher.next_of("seats").await;
        while seats["free"] != u64::from(SEATS) - 2 {
            seats = watcher.next_of("seats_changed").await;
        }
        buyer
    });

    // The notifier's ops port: /healthz says it can work and how far it has read the
    // partition's journal (past the booking's entries, which it reads on its own time), and
    // /metrics, without a token as a ledger node's, has its delivery counters.
    runtime.block_on(async {
        let deadline = Instant::now() + START_WAIT_MAX;
        loop {
            let health = call(notifier_ops, "GET", "/healthz", "", None).await;
            assert_eq!(health.status, 200, "{}", health.body);
            assert_eq!(health.body["healthy"], true, "{}", health.body);
            assert_eq!(health.body["nats"]["connected"], true, "{}", health.body);
            assert_eq!(health.body["store"]["reachable"], true, "{}", health.body);
            let partitions = health.body["partitions"].as_array().expect("partitions");
            assert_eq!(partitions.len(), 1, "{}", health.body);
            assert_eq!(partitions[0]["partition"], 0, "{}", health.body);
            if partitions[0]["cursor"].as_u64().expect("cursor") > 0 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the notifier read none of the journal: {}",
                health.body
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let (status, head, body) = call_raw(notifier_ops, "GET", "/metrics", &[], b"").await;
        let text = String::from_utf8_lossy(&body);
        assert_eq!(status, 200, "{text}");
        assert!(
            head.contains("content-type: application/openmetrics-text"),
            "{head}"
        );
        for sample in [
            "# TYPE picket_notifier_push_retried counter",
            "picket_notifier_push_subscriptions_gone_total 0",
            "picket_notifier_dead_lettered_total 0",
        ] {
            assert!(
                text.lines().any(|line| line.starts_with(sample)),
                "no {sample} in {text}"
            );
        }
    });

    // SIGTERM drains the second gateway: the buyer still connected is told to reconnect
    // elsewhere and closed with 1012, and the process exits within its drain grace.
    gateways[1].signal("TERM");
    runtime.block_on(async {
        let reconnect = buyer.next_of("reconnect").await;
        assert_eq!(reconnect["reason"], "draining", "{reconnect}");
        assert_eq!(
            buyer.close_code(Duration::from_secs(10)).await,
            Some(1012),
            "closed as the gateway restarts"
        );
    });
    let grace = Duration::from_millis(DRAIN_TIMEOUT_MS) + STOP_WORK_MAX;
    let stopped = exit_within(&mut gateways[1].child, grace)
        .expect("the gateway exits within its drain grace after SIGTERM");
    assert!(
        stopped.success(),
        "the drained gateway exited with {stopped}"
    );
    // The other gateway serves on, for the clients told to reconnect.
    assert!(
        picket_tests::ledger::http_get(gateways[0].port, "/healthz").is_some(),
        "the first gateway still answers"
    );

    // The notifier, the sandbox, the other gateway and the ledger node stop cleanly too.
    terminate(&mut notifier, "picket notifier", STOP_WORK_MAX);
    assert!(
        output_of(dir.path(), "notifier.out").contains("picket notifier stopped"),
        "{}",
        output_of(dir.path(), "notifier.out")
    );
    terminate(
        &mut sandbox.process.child,
        "picket sandbox-pay",
        STOP_WORK_MAX,
    );
    terminate(&mut gateways[0].child, "picket gateway", grace);
    terminate(&mut ledger.child, "picket ledger", STOP_WORK_MAX);
}

/// A leader stopped with SIGTERM releases its lease: the standby leads at its next poll, long
/// before the lease would have run out.
#[test]
fn a_ledger_leader_stopped_with_sigterm_hands_its_lease_to_the_standby() {
    const LEASE_MS: u64 = 20_000;
    let postgres = Postgres::start().expect("postgres");
    let nats = Nats::start().expect("nats");
    let database_url = postgres.create_database("ledger").expect("database");
    let dir = tempfile::tempdir().expect("tempdir");
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
    let mut leader = spawn("leader");
    leader.wait_role("leader");
    let standby = spawn("standby");
    standby.wait_role("standby");

    let signalled = Instant::now();
    leader.signal("TERM");
    // Kept until it ran out, the lease would hold the standby off for at least four fifths of
    // it (it was renewed at most a fifth of a lease before the signal).
    let unreleased = Duration::from_millis(LEASE_MS) * 4 / 5;
    while standby.role().as_deref() != Some("leader") {
        assert!(
            signalled.elapsed() < unreleased,
            "the standby did not lead before the lease could have run out: {:?}",
            standby.role()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let stopped = exit_within(&mut leader.child, STOP_WORK_MAX).expect("the leader exits");
    assert!(stopped.success(), "the leader exited with {stopped}");
}

/// One role started with bad settings: (arguments, environment, problems it must list).
struct BadSettings {
    args: Vec<String>,
    env: Vec<(&'static str, String)>,
    problems: Vec<&'static str>,
}

/// Every role, given several bad settings and a listen address that another socket holds,
/// lists every problem (each with its flag and variable) and exits 2 without binding: had it
/// tried to bind first, it would have failed on the address instead. Nothing is written.
#[test]
fn every_role_lists_every_bad_setting_and_exits_2_before_binding() {
    let held = TcpListener::bind("127.0.0.1:0").expect("bind");
    let listen = held.local_addr().expect("address").to_string();
    let data = tempfile::tempdir().expect("tempdir");
    let never = data.path().join("never-made");
    let never_text = never.display().to_string();
    let listening = |role: &str| vec![role.to_owned(), "--listen".to_owned(), listen.clone()];
    let roles = [
        BadSettings {
            args: listening("gateway"),
            env: vec![
                ("PICKET_DATA_DIR", never_text.clone()),
                ("DATABASE_URL", "sqlite://gateway.sqlite".into()),
                ("PICKET_NATS_URL", "nats://127.0.0.1:notaport".into()),
                ("PICKET_PUSH_INTERVAL_MS", "5000".into()),
                ("PICKET_WORKER_THREADS", "0".into()),
            ],
            problems: vec![
                "--database-url (DATABASE_URL): must name PostgreSQL",
                "--nats-url (PICKET_NATS_URL): \"nats://127.0.0.1:notaport\" is not a NATS URL",
                "--redis-url (PICKET_REDIS_URL): needed",
                "--token-keys (PICKET_TOKEN_KEYS): needed",
                "--operator-token (PICKET_OPERATOR_TOKEN): needed",
                "--ticket-key (PICKET_TICKET_KEY): needed",
                "--vapid-private-key (PICKET_VAPID_PRIVATE_KEY): needed",
                "--push-interval-ms (PICKET_PUSH_INTERVAL_MS): push_interval must be 100 to 2000 ms",
                "--worker-threads (PICKET_WORKER_THREADS): must be 1 to 1024, got 0",
                "--payments-base-url (PICKET_PAYMENTS_BASE_URL): needed",
            ],
        },
        BadSettings {
            args: listening("ledger"),
            env: vec![
                (
                    "DATABASE_URL",
                    "postgres://picket@127.0.0.1:notaport/picket".into(),
                ),
                ("PICKET_PARTITIONS", "2".into()),
                ("PICKET_HOST_PARTITIONS", "0,2".into()),
                ("PICKET_LEASE_MS", "10".into()),
                ("PICKET_COMMIT_BATCH_MAX", "0".into()),
                ("PICKET_WORKER_THREADS", "2000".into()),
            ],
            problems: vec![
                "--database-url (DATABASE_URL): not a PostgreSQL URL",
                "--nats-url (PICKET_NATS_URL): needed",
                "--partitions (PICKET_HOST_PARTITIONS): partition 2 is outside 0..2",
                "--lease-ms (PICKET_LEASE_MS): lease must be 100 to 60000 ms, got 10 ms",
                "--commit-batch-max (PICKET_COMMIT_BATCH_MAX): commit_batch_max must be 1 to 65536",
                "--worker-threads (PICKET_WORKER_THREADS): must be 1 to 1024, got 2000",
            ],
        },
        BadSettings {
            args: listening("notifier"),
            env: vec![
                ("DATABASE_URL", "sqlite://api.sqlite".into()),
                ("PICKET_PARTITIONS", "0".into()),
                ("PICKET_NOTIFIER_CONSUMER", "no spaces please".into()),
                ("PICKET_WORKER_THREADS", "0".into()),
            ],
            problems: vec![
                "--database-url (DATABASE_URL): must name PostgreSQL",
                "--nats-url (PICKET_NATS_URL): needed",
                "--partition-count (PICKET_PARTITIONS): must be at least 1",
                "--consumer (PICKET_NOTIFIER_CONSUMER): 1 to 64 letters",
                "--worker-threads (PICKET_WORKER_THREADS): must be 1 to 1024, got 0",
            ],
        },
        BadSettings {
            args: listening("sandbox-pay"),
            env: vec![
                ("PICKET_SANDBOX_PAY_DATA_DIR", never_text.clone()),
                (
                    "PICKET_SANDBOX_PAY_SECRET_KEY",
                    "live_sk_notForTheSandbox".into(),
                ),
                (
                    "PICKET_SANDBOX_PAY_WEBHOOK_URL",
                    "javascript:alert(1)".into(),
                ),
                ("PICKET_SANDBOX_PAY_CONFIRM_WINDOW_S", "999999".into()),
                ("PICKET_WORKER_THREADS", "0".into()),
            ],
            problems: vec![
                "--secret-key (PICKET_SANDBOX_PAY_SECRET_KEY): the secret key",
                "--webhook-url (PICKET_SANDBOX_PAY_WEBHOOK_URL): webhook URL",
                "--confirm-window-s (PICKET_SANDBOX_PAY_CONFIRM_WINDOW_S): confirm_window",
                "--worker-threads (PICKET_WORKER_THREADS): must be 1 to 1024, got 0",
            ],
        },
        BadSettings {
            args: listening("up"),
            env: vec![
                ("PICKET_DATA_DIR", never_text.clone()),
                ("DATABASE_URL", "mysql://nope".into()),
                ("PICKET_REDIS_URL", "http://not-redis".into()),
                ("PICKET_PAYMENTS_CLIENT_KEY", "test_ck_alone".into()),
                ("PICKET_DRAIN_TIMEOUT_MS", "700000".into()),
                ("PICKET_WORKER_THREADS", "0".into()),
            ],
            problems: vec![
                "--database-url (DATABASE_URL): must be postgres://… or sqlite://PATH",
                "--redis-url (PICKET_REDIS_URL): not a Redis URL",
                "--payments-client-key (PICKET_PAYMENTS_CLIENT_KEY): is for \
                 PICKET_PAYMENTS_BASE_URL, which is not set",
                "--drain-timeout-ms (PICKET_DRAIN_TIMEOUT_MS): drain_timeout must be at most \
                 600000 ms",
                "--worker-threads (PICKET_WORKER_THREADS): must be 1 to 1024, got 0",
            ],
        },
    ];
    for role in roles {
        let output = Command::new(PICKET)
            .args(&role.args)
            .env_clear()
            .envs(role.env.iter().map(|(name, value)| (*name, value.as_str())))
            .current_dir(data.path())
            .stdin(Stdio::null())
            .output()
            .expect("run picket");
        let stderr = String::from_utf8_lossy(&output.stderr);
        let name = &role.args[0];
        assert_eq!(output.status.code(), Some(2), "{name}: {stderr}");
        let count = role.problems.len();
        assert!(
            stderr.starts_with(&format!("{count} setting problems (nothing was started):")),
            "{name}: {stderr}"
        );
        let listed: Vec<&str> = stderr.lines().filter(|l| l.starts_with("  - ")).collect();
        assert_eq!(listed.len(), count, "{name}: {stderr}");
        for problem in &role.problems {
            assert!(
                listed.iter().any(|line| line[4..].starts_with(problem)),
                "{name}: {problem:?} in {stderr}"
            );
        }
        assert!(
            !stderr.contains("notForTheSandbox"),
            "a secret is never echoed"
        );
        assert!(!never.exists(), "{name} wrote nothing");
    }
    drop(held);
}

/// A listen address another process holds is no settings problem: the settings pass, and the
/// bind fails (exit code 1, naming the address). The notifier binds before it connects to
/// anything: its stores here are addresses nothing answers on, and it never gets to them.
#[test]
fn a_listen_address_already_taken_is_a_bind_error() {
    let held = TcpListener::bind("127.0.0.1:0").expect("bind");
    let listen = held.local_addr().expect("address").to_string();
    let data = tempfile::tempdir().expect("tempdir");
    let unanswered = free_port().expect("port");
    let roles: [(&str, Vec<(&str, String)>); 2] = [
        (
            "sandbox-pay",
            vec![(
                "PICKET_SANDBOX_PAY_DATA_DIR",
                data.path().display().to_string(),
            )],
        ),
        (
            "notifier",
            vec![
                (
                    "DATABASE_URL",
                    format!("postgres://picket@127.0.0.1:{unanswered}/picket"),
                ),
                ("PICKET_NATS_URL", format!("nats://127.0.0.1:{unanswered}")),
            ],
        ),
    ];
    for (role, env) in roles {
        let output = Command::new(PICKET)
            .args([role, "--listen", &listen])
            .env_clear()
            .envs(env.iter().map(|(name, value)| (*name, value.as_str())))
            .stdin(Stdio::null())
            .output()
            .expect("run picket");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{role}: {stderr}");
        assert!(
            stderr.contains(&format!("cannot listen on {listen}")),
            "{role}: {stderr}"
        );
        assert!(!stderr.contains("setting problem"), "{role}: {stderr}");
    }
    drop(held);
}
