//! `picket loadtest` as an operator runs it, through the real binary: a small stampede and a
//! churn against `picket up`, and a stampede (over two worker processes and two gateways) and a
//! failover against a multi-process deployment on real PostgreSQL, NATS and Redis. Every run
//! must pass its audit of the ledger, and its report files must parse.
//! (This file belongs to the root `picket` package, which is what gives it the binary's path.)

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use picket_loadtest::report::ReportJson;
use picket_tests::ledger::LedgerNode;
use picket_tests::{Nats, Postgres, Redis};

const PICKET: &str = env!("CARGO_BIN_EXE_picket");
const WAIT_MAX: Duration = Duration::from_secs(60);
const OPERATOR_TOKEN: &str = "loadtest-operator-token-0123456789";
/// One signing key shared by the gateways, so a guest token from one works on the other.
const TOKEN_KEYS: &str = "k1:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

fn healthy(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let _ = write!(stream, "GET /healthz HTTP/1.0\r\nHost: localhost\r\n\r\n");
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200")
}

/// A `picket up` process, killed when dropped.
struct Up {
    child: Child,
    port: u16,
}

impl Up {
    fn start(data_dir: &Path, env: &[(&str, String)]) -> Up {
        let port = free_port();
        let log = std::fs::File::create(data_dir.join(format!("up-{port}.log"))).expect("log");
        let child = Command::new(PICKET)
            .args(["up", "--listen", &format!("127.0.0.1:{port}")])
            .env("PICKET_DATA_DIR", data_dir)
            .env("PICKET_OPERATOR_TOKEN", OPERATOR_TOKEN)
            .env("PICKET_TOKEN_KEYS", TOKEN_KEYS)
            .env_remove("DATABASE_URL")
            .env_remove("PICKET_NATS_URL")
            .env_remove("PICKET_REDIS_URL")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn picket up");
        let mut up = Up { child, port };
        let deadline = Instant::now() + WAIT_MAX;
        while !healthy(port) {
            if let Some(status) = up.child.try_wait().expect("try_wait") {
                panic!("picket up exited early with {status}");
            }
            assert!(
                Instant::now() < deadline,
                "picket up did not become healthy"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        up
    }

    fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Runs `picket loadtest <args>`; the parsed report, after checking the files exist and parse.
fn loadtest(out: &Path, args: &[&str]) -> ReportJson {
    let output = Command::new(PICKET)
        .arg("loadtest")
        .args(args)
        .args(["--out", &out.display().to_string(), "--no-progress"])
        .args(["--operator-token", OPERATOR_TOKEN])
        .env("RUST_LOG", "warn")
        .output()
        .expect("run picket loadtest");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "loadtest {args:?} failed ({}):\n{stdout}\n{stderr}",
        output.status
    );
    assert!(
        stdout.contains("audit"),
        "the summary is printed:\n{stdout}"
    );
    let json = std::fs::read_to_string(out.join("report.json")).expect("report.json");
    let report: ReportJson = serde_json::from_str(&json).expect("report.json parses");
    let markdown = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    assert!(markdown.contains("## Audit: PASSED"), "{markdown}");
    let svg = std::fs::read_to_string(out.join("chart.svg")).expect("chart.svg");
    roxmltree::Document::parse(&svg).expect("chart.svg is well-formed XML");
    report
}

fn audit_passed(report: &ReportJson) {
    let audit = report.audit.as_ref().expect("an audit ran");
    assert!(audit.passed, "{audit:?}");
    let names: Vec<&str> = audit.checks.iter().map(|c| c.name.as_str()).collect();
    for wanted in [
        "no seat sold twice",
        "every acknowledged booking is in the ledger",
        "counts match",
    ] {
        assert!(names.iter().any(|n| n.starts_with(wanted)), "{names:?}");
    }
}

#[test]
fn a_small_stampede_and_churn_against_picket_up_pass_their_audits() {
    let data = tempfile::tempdir().expect("tempdir");
    let up = Up::start(data.path(), &[]);
    let gateway = up.address();
    let data_dir = data.path().display().to_string();
    let common = [
        "--gateway",
        gateway.as_str(),
        "--data-dir",
        data_dir.as_str(),
    ];

    let out = data.path().join("stampede");
    let mut args = common.to_vec();
    args.extend(["stampede", "--clients", "300", "--duration-s", "120"]);
    let report = loadtest(&out, &args);
    audit_passed(&report);
    let counters = &report.counters;
    assert_eq!(counters.clients, 300);
    assert_eq!(counters.admitted, 300, "everyone gets a turn: {counters:?}");
    // 2,000 seats, 2 per hold: every admitted buyer holds, 80 % of them pay.
    assert_eq!(
        counters.holds - counters.seat_taken_retries,
        300,
        "{counters:?}"
    );
    assert_eq!(counters.bookings + counters.abandoned, 300, "{counters:?}");
    assert_eq!(counters.tickets, 2 * counters.bookings);
    assert!(report.steps.contains_key(&picket_loadtest::Step::EndToEnd));

    let out = data.path().join("churn");
    let mut args = common.to_vec();
    args.extend([
        "churn",
        "--clients",
        "40",
        "--seats",
        "80",
        "--duration-s",
        "12",
    ]);
    let report = loadtest(&out, &args);
    audit_passed(&report);
    assert!(report.counters.cancellations > 0, "{:?}", report.counters);
    assert!(
        report.counters.tickets >= 80,
        "the performance sold out first: {:?}",
        report.counters
    );
}

#[test]
fn the_pg_row_lock_baseline_runs_beside_picket_and_is_reported_as_ratios() {
    let postgres = Postgres::start().expect("postgres");
    let baseline_url = postgres.create_database("baseline").expect("database");
    let data = tempfile::tempdir().expect("tempdir");
    let up = Up::start(data.path(), &[]);
    let gateway = up.address();
    let data_dir = data.path().display().to_string();
    let out = data.path().join("steady");
    let report = loadtest(
        &out,
        &[
            "--gateway",
            gateway.as_str(),
            "--data-dir",
            data_dir.as_str(),
            "steady",
            "--clients",
            "200",
            "--rate-per-s",
            "100",
            "--duration-s",
            "8",
            "--baseline",
            "pg-row-lock",
            "--baseline-database-url",
            baseline_url.as_str(),
        ],
    );
    audit_passed(&report);
    let audit = report.audit.as_ref().expect("audit");
    assert!(
        audit
            .checks
            .iter()
            .any(|c| c.name.starts_with("baseline: ") && c.passed),
        "the baseline's own audit is part of the run's: {audit:?}"
    );
    let baseline = report.baseline.as_ref().expect("a baseline ran");
    assert!(baseline.counters.bookings > 0, "{baseline:?}");
    let ratios = report.ratios.as_ref().expect("ratios beside the baseline");
    // Both sides booked at the same open-loop rate: the throughput ratio is Picket's bookings/s
    // over the baseline's.
    let expected = report.throughput.bookings_per_s / baseline.bookings_per_s;
    let ratio = ratios.bookings_per_s.expect("both sides booked");
    assert!((ratio - expected).abs() < 1e-9, "{ratio} vs {expected}");
}

#[test]
fn a_stampede_and_a_failover_against_a_multi_process_deployment_pass_their_audits() {
    let postgres = Postgres::start().expect("postgres");
    let nats = Nats::start().expect("nats");
    let redis = Redis::start().expect("redis");
    let database_url = postgres.create_database("loadtest").expect("database");
    let dir = tempfile::tempdir().expect("tempdir");
    let leader = LedgerNode::spawn(
        PICKET,
        &database_url,
        &nats.url(),
        1_000,
        dir.path(),
        "leader",
    );
    leader.wait_role("leader");
    let env = [
        ("DATABASE_URL", database_url.clone()),
        ("PICKET_NATS_URL", nats.url()),
        ("PICKET_REDIS_URL", redis.url()),
        ("PICKET_LEASE_MS", "1000".to_owned()),
    ];
    let (a_dir, b_dir) = (dir.path().join("a"), dir.path().join("b"));
    std::fs::create_dir_all(&a_dir).expect("dir");
    std::fs::create_dir_all(&b_dir).expect("dir");
    let a = Up::start(&a_dir, &env);
    let b = Up::start(&b_dir, &env);
    let gateways = format!("{},{}", a.address(), b.address());
    let common = [
        "--gateway",
        gateways.as_str(),
        "--journal",
        database_url.as_str(),
    ];

    let out = dir.path().join("stampede");
    let mut args = common.to_vec();
    args.extend([
        "stampede",
        "--clients",
        "400",
        "--workers",
        "2",
        "--duration-s",
        "120",
    ]);
    let report = loadtest(&out, &args);
    audit_passed(&report);
    assert_eq!(report.counters.admitted, 400, "{:?}", report.counters);
    assert!(report.counters.bookings > 0);

    // The leader is killed mid-run; a `picket up` node standing by takes over.
    let pid = leader.child.id().to_string();
    let out = dir.path().join("failover");
    let mut args = common.to_vec();
    args.extend([
        "failover",
        "--clients",
        "200",
        "--rate-per-s",
        "100",
        "--duration-s",
        "15",
    ]);
    args.extend(["--kill-at-s", "6", "--kill-pid", pid.as_str()]);
    let report = loadtest(&out, &args);
    audit_passed(&report);
    let failover = report.failover.as_ref().expect("the leader was killed");
    assert_eq!(failover.killed_pid, leader.child.id());
    assert!(failover.gap_ms > 0.0, "{failover:?}");
    assert!(report.counters.bookings > 0);
    drop((a, b));
}
