//! `picket cluster` as an operator rehearses on it: the production topology started from the
//! real binary, a seat booked and paid through the one gateway port (hold, pay at the
//! cluster's payment sandbox, confirm), then the ledger leader killed (SIGKILL) and a gateway
//! too, a seat booked again through the same port (the standby ledger node leads, the port
//! skips the dead gateway; the gateways are `picket gateway`), the journal audited with the load tester's audit against what the buyers were
//! told, the read replica checked for the bookings, and Ctrl-C stopping every process.
//! (This file belongs to the root `picket` package, which is what gives it the binary's path.)

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use picket_cluster::ClusterFile;
use picket_ledger::PgJournal;
use picket_ledger::journal::recover;
use picket_loadtest::audit::{AckBooking, ClientLog};
use picket_tests::api::call;
use picket_tests::gateway::{Client, sale_settings, small_spec, spec_json};
use serde_json::{Value, json};

const PICKET: &str = env!("CARGO_BIN_EXE_picket");
/// Partitions of the cluster: the two performances are one in each.
const PARTITIONS: u16 = 2;
const PERFORMANCES: [u64; 2] = [40, 41];
const SEATS: u16 = 20;
/// The ledger's lease: a killed leader is replaced about this long after.
const LEASE_MS: u64 = 1_000;
/// The longest the cluster may take to come up (PostgreSQL, its replica, three NATS servers,
/// Redis, the sandbox, two ledger nodes, three gateways and the notifier, one after another).
const START_WAIT_MAX: Duration = Duration::from_secs(120);
/// The longest a booking step may be retried while the ledger changes leader.
const STEP_WAIT_MAX: Duration = Duration::from_secs(30);
/// The longest the replica may lag behind, and the cluster may take to stop.
const SETTLE_WAIT_MAX: Duration = Duration::from_secs(30);

/// The `picket cluster` process; killed (with everything it started: the data directory's
/// processes are its children) if the test fails before stopping it.
struct Running {
    child: Child,
    dir: std::path::PathBuf,
}

impl Drop for Running {
    fn drop(&mut self) {
        if std::thread::panicking() {
            // What the supervisor said, and each process's last lines, before the directory goes.
            let err = std::fs::read_to_string(self.dir.join("cluster.err")).unwrap_or_default();
            let out = std::fs::read_to_string(self.dir.join("cluster.out")).unwrap_or_default();
            eprintln!("picket cluster's output:\n{out}\n{err}");
            if let Some(file) = read_file(&self.dir.join("cluster")) {
                for entry in file.processes.iter().filter(|p| p.role != "postgres") {
                    let log = std::fs::read_to_string(&entry.log).unwrap_or_default();
                    let lines: Vec<&str> = log.lines().collect();
                    let tail = lines[lines.len().saturating_sub(8)..].join("\n");
                    eprintln!("--- {} ({}):\n{tail}", entry.name, entry.log.display());
                }
            }
        }
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = signal(self.child.id(), "INT");
            let deadline = Instant::now() + SETTLE_WAIT_MAX;
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn signal(pid: u32, name: &str) -> Result<(), picket_tests::HarnessError> {
    picket_cluster::process::signal(pid, name)
}

fn read_file(dir: &Path) -> Option<ClusterFile> {
    let text = std::fs::read_to_string(dir.join("cluster.json")).ok()?;
    serde_json::from_str(&text).ok()
}

fn process<'a>(file: &'a ClusterFile, name: &str) -> &'a picket_cluster::ProcessEntry {
    file.processes
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no {name} in cluster.json: {file:?}"))
}

/// The ledger node leading `partition` now, by its `/healthz`.
fn leader_of(file: &ClusterFile, partition: usize) -> Option<&picket_cluster::ProcessEntry> {
    file.processes
        .iter()
        .filter(|p| p.role == "ledger")
        .find(|p| {
            let Some(body) = picket_cluster::picket::http_get(p.ports["http"], "/healthz") else {
                return false;
            };
            let health: Value = serde_json::from_str(&body).unwrap_or_default();
            health["partitions"][partition]["role"] == "leader"
        })
}

/// Retries `step` (a command with the same key) until `done` accepts its answer.
async fn until_ok(
    what: &str,
    mut step: impl AsyncFnMut() -> Value,
    done: fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + STEP_WAIT_MAX;
    loop {
        let answer = step().await;
        if done(&answer) {
            return answer;
        }
        assert!(Instant::now() < deadline, "{what}: still {answer}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// A guest books `seat` of `performance` through `front` as an app does, and is told its
/// booking: what the audit checks the journal against.
async fn book(front: SocketAddr, performance: u64, buyer: usize, seat: u32) -> AckBooking {
    // An app reconnects when its connection fails: one opened while a gateway died may.
    let deadline = Instant::now() + STEP_WAIT_MAX;
    let socket = loop {
        match picket_tests::gateway::connect_raw(front, true).await {
            Ok(socket) => break socket,
            Err(error) => assert!(Instant::now() < deadline, "connect: {error}"),
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let mut client = Client::over(socket);
    client
        .send(json!({"type": "hello", "device": format!("cluster-device-{buyer:08}")}))
        .await;
    client.next_of("welcome").await;
    let admission = client.join_admitted(performance).await;
    let held = until_ok(
        "hold",
        async || {
            let id = format!("h-{buyer}-{}", picket_edge::clock::now_ms());
            client
                .send(
                    json!({"type": "hold", "id": id, "sale": performance.to_string(),
                    "key": format!("hold-{buyer}"), "admission": admission,
                    "selection": {"Seats": [seat]}}),
                )
                .await;
            client.answer_to(&id).await
        },
        |answer| answer["outcome"]["Ok"]["Held"].is_object(),
    )
    .await;
    let held = &held["outcome"]["Ok"]["Held"];
    let hold = picket_tests::ids::id(&held["hold"]);
    let places = serde_json::from_value(held["places"].clone()).expect("places");
    let checkout = until_ok(
        "checkout",
        async || client.checkout(performance, hold).await,
        |answer| answer["type"] == "checkout",
    )
    .await;
    let payment_key = picket_loadtest::payment::pay(&checkout)
        .await
        .expect("paid at the cluster's sandbox");
    let order_id = checkout["order_id"].as_str().expect("order id").to_owned();
    let key = format!("confirm-{buyer}");
    let answer = client
        .confirm(performance, &admission, hold, &key, &payment_key, &order_id)
        .await;
    // The sandbox's webhook may have booked the payment first: the app then asks the success
    // URL what the payment got, as the load tester's buyers do.
    let confirmed = match answer["outcome"]["Ok"]["Confirmed"].is_object() {
        true => answer["outcome"]["Ok"]["Confirmed"].clone(),
        false => picket_loadtest::payment::return_to_success_url(
            front,
            &admission,
            &payment_key,
            &order_id,
        )
        .await
        .unwrap_or_else(|why| panic!("not booked ({answer}): {why}")),
    };
    AckBooking {
        performance,
        booking: picket_tests::ids::id(&confirmed["booking"]),
        tickets: picket_tests::ids::ids(&confirmed["tickets"]),
        places,
        amount_won: confirmed["amount_won"].as_u64().expect("amount"),
    }
}

#[test]
fn a_cluster_keeps_booking_through_one_port_when_its_ledger_leader_and_a_gateway_die() {
    let dir = tempfile::Builder::new()
        .prefix("picket-cluster-test-")
        // As root, PostgreSQL runs as the postgres user, which must reach its directories.
        .tempdir_in("/tmp")
        .expect("tempdir");
    let data = dir.path().join("cluster");
    let output = std::fs::File::create(dir.path().join("cluster.out")).expect("out");
    let errors = std::fs::File::create(dir.path().join("cluster.err")).expect("err");
    let child = Command::new(PICKET)
        .args(["cluster", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .args(["--partitions", &PARTITIONS.to_string()])
        .args(["--lease-ms", &LEASE_MS.to_string()])
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(output)
        .stderr(errors)
        .spawn()
        .expect("spawn picket cluster");
    let mut running = Running {
        child,
        dir: dir.path().to_path_buf(),
    };
    let started = Instant::now();
    let file = loop {
        if let Some(file) = read_file(&data) {
            break file;
        }
        if let Ok(Some(status)) = running.child.try_wait() {
            let err = std::fs::read_to_string(dir.path().join("cluster.err")).unwrap_or_default();
            panic!("picket cluster exited with {status}:\n{err}");
        }
        assert!(started.elapsed() < START_WAIT_MAX, "no cluster.json");
        std::thread::sleep(Duration::from_millis(200));
    };
    let roles: Vec<&str> = file.processes.iter().map(|p| p.role.as_str()).collect();
    for (role, count) in [
        ("postgres", 1),
        ("postgres-replica", 1),
        ("nats", 3),
        ("redis", 1),
        ("sandbox-pay", 1),
        ("ledger", 2),
        ("gateway", 3),
        ("notifier", 1),
    ] {
        let found = roles.iter().filter(|r| **r == role).count();
        assert_eq!(found, count, "{role} processes: {roles:?}");
    }
    for entry in &file.processes {
        assert!(entry.log.starts_with(&data), "{entry:?}");
        assert!(entry.data_dir.starts_with(&data), "{entry:?}");
        assert!(entry.pid.is_some(), "{entry:?}");
    }
    // The gateways are the edge alone: `picket gateway`, hosting no ledger partition.
    for gateway in file.processes.iter().filter(|p| p.role == "gateway") {
        let pid = gateway.pid.expect("pid");
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).expect("cmdline");
        let args: Vec<&[u8]> = cmdline.split(|b| *b == 0).collect();
        assert_eq!(
            args.get(1).copied(),
            Some(b"gateway".as_slice()),
            "{} runs {:?}",
            gateway.name,
            String::from_utf8_lossy(&cmdline)
        );
    }
    let url = file.url.clone().expect("the gateway port");
    let front: SocketAddr = url.trim_start_matches("http://").parse().expect("address");
    let token_file = file.operator_token_file.clone().expect("the token's file");
    let token = std::fs::read_to_string(token_file).expect("operator token");
    let token = token.trim();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        for performance in PERFORMANCES {
            let opened = call(
                front,
                "POST",
                "/api/v2/performances",
                &spec_json(&small_spec(performance, SEATS)).to_string(),
                Some(token),
            )
            .await;
            assert_eq!(opened.status, 201, "{:?}", opened.body);
            let settings = sale_settings(picket_edge::clock::now_ms(), 100, 100);
            let sale = call(
                front,
                "PUT",
                &format!("/api/v2/sales/{performance}"),
                &settings.to_string(),
                Some(token),
            )
            .await;
            assert_eq!(sale.status, 200, "{:?}", sale.body);
        }
        let mut log = ClientLog::default();
        for (buyer, performance) in PERFORMANCES.into_iter().enumerate() {
            log.bookings.push(book(front, performance, buyer, 1).await);
        }

        // The leader of every partition (the first ledger node) and a gateway die like lost
        // hosts.
        let leader = leader_of(&file, 0)
            .expect("a leader of partition 0")
            .clone();
        signal(leader.pid.expect("pid"), "KILL").expect("SIGKILL the leader");
        let gateway = process(&file, "gateway-1");
        signal(gateway.pid.expect("pid"), "KILL").expect("SIGKILL a gateway");
        for (n, performance) in PERFORMANCES.into_iter().enumerate() {
            // More connections than gateways: every one of them goes through the port.
            for attempt in 0..2 {
                let buyer = 10 + 2 * n + attempt;
                let seat = 2 + attempt as u32;
                log.bookings
                    .push(book(front, performance, buyer, seat).await);
            }
        }
        // Booked after the kill: the standby ledger node leads every partition (the gateways
        // host none), and the port skipped the dead gateway.
        let now = read_file(&data).expect("cluster.json");
        for partition in 0..usize::from(PARTITIONS) {
            let leading = leader_of(&now, partition)
                .unwrap_or_else(|| panic!("no ledger node leads partition {partition}"));
            assert_ne!(leading.name, leader.name, "partition {partition}");
        }
        for name in [&leader.name, &gateway.name] {
            let entry = process(&now, name);
            assert!(
                entry
                    .exited
                    .as_deref()
                    .is_some_and(|e| e.contains("SIGKILL")),
                "the supervisor reports {name} killed: {entry:?}"
            );
        }

        // The journal, replayed as a standby would, holds what the buyers were told.
        let journal = PgJournal::connect(&file.database_url, 2, Duration::from_secs(30))
            .await
            .expect("the journal");
        for performance in PERFORMANCES {
            let partition = picket_ledger_client::bus::partition_of(
                picket_ledger_core::PerformanceId(performance),
                PARTITIONS,
            );
            let (ledger, _) = recover(&journal, partition, 1_024).await.expect("replayed");
            let report = picket_loadtest::audit::check(&ledger, performance, &log);
            assert!(report.passed, "audit of {performance}: {report:?}");
        }

        // The replica streamed the bookings: the journal's rows and the API's bookings.
        let count = |url: String| async move {
            let pool = sqlx::PgPool::connect(&url).await.expect("connect");
            let counted: (i64, i64) = sqlx::query_as(
                "SELECT (SELECT count(*) FROM ledger_journal), (SELECT count(*) FROM bookings)",
            )
            .fetch_one(&pool)
            .await
            .expect("counted");
            pool.close().await;
            counted
        };
        let replica = file.database_read_url.clone().expect("a replica");
        let deadline = Instant::now() + SETTLE_WAIT_MAX;
        loop {
            let primary = count(file.database_url.clone()).await;
            let copied = count(replica.clone()).await;
            if primary == copied && copied.1 >= log.bookings.len() as i64 {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the replica has {copied:?} (journal rows, bookings), the primary {primary:?}, \
                 {} booked",
                log.bookings.len()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });

    // Ctrl-C stops every process the cluster started, and the cluster says so.
    signal(running.child.id(), "INT").expect("SIGINT");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = running.child.try_wait().expect("try_wait") {
            break status;
        }
        assert!(Instant::now() < deadline, "picket cluster did not stop");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "picket cluster ended with {status}");
    for entry in &file.processes {
        let pid = entry.pid.expect("pid");
        assert!(
            !picket_cluster::process::alive(pid),
            "{} (pid {pid}) still runs",
            entry.name
        );
    }
    let out = std::fs::read_to_string(dir.path().join("cluster.out")).expect("out");
    assert!(out.contains("picket cluster stopped"), "{out}");
    let err = std::fs::read_to_string(dir.path().join("cluster.err")).expect("err");
    assert!(
        err.contains("gateway-1 (gateway"),
        "the crash is reported: {err}"
    );
}

/// Bad settings stop `picket cluster` before it binds its port or starts a process: every
/// problem at once, each with its flag and variable, exit code 2 (as the roles do).
#[test]
fn bad_settings_are_all_reported_and_nothing_is_started() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("cluster");
    let output = Command::new(PICKET)
        .args(["cluster", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&data)
        .args(["--gateways", "0", "--partitions", "0", "--lease-ms", "5"])
        .env_remove("PICKET_CLUSTER_GATEWAYS")
        .env_remove("PICKET_PARTITIONS")
        .env_remove("PICKET_LEASE_MS")
        .stdin(Stdio::null())
        .output()
        .expect("run picket cluster");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    for wanted in [
        "3 setting problems (nothing was started)",
        "--gateways (PICKET_CLUSTER_GATEWAYS): must be 1 to 64, got 0",
        "--partitions (PICKET_PARTITIONS): must be at least 1",
        "--lease-ms (PICKET_LEASE_MS): must be 100 to 60000, got 5",
    ] {
        assert!(stderr.contains(wanted), "{wanted:?} in {stderr}");
    }
    assert!(!data.exists(), "the data directory was made");
}
