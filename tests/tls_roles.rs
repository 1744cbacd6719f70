//! The `picket` roles' TLS and credentials settings, through the real binary (the libraries'
//! side is `tests/tests/tls.rs` in picket-tests):
//!
//! - `picket ledger` given `--nats-ca-file`, `--nats-creds-file` (the ledger user of
//!   `deploy/nats/accounts.conf`) and a `verify-full` `DATABASE_URL` leads over TLS to NATS and
//!   PostgreSQL, and a gateway with the gateway user's credentials books through it;
//! - the same node given a CA that did not sign NATS's certificate stops at start, naming the
//!   TLS failure and the setting to check, and never leads;
//! - file settings that cannot work (a CA file that is not there, TLS files without the URL
//!   they are for) are reported with every other setting problem before anything starts.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use picket_ledger_client::{BusConfig, LedgerClient, NatsLedger};
use picket_ledger_core::Reply;
use picket_tests::ledger::{LedgerNode, acknowledged, hold_seat, open_small};
use picket_tests::{SecuredServices, TestCa};

const PICKET: &str = env!("CARGO_BIN_EXE_picket");
const WAIT_MAX: Duration = Duration::from_secs(30);
const LEASE_MS: u64 = 1_000;

/// Waits for `node` to exit by itself; its exit status, or `None` if it still runs.
fn exit_of(node: &mut LedgerNode) -> Option<std::process::ExitStatus> {
    let deadline = Instant::now() + WAIT_MAX;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = node.child.try_wait() {
            return Some(status);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    None
}

fn path(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

#[test]
fn picket_ledger_leads_over_tls_as_the_ledger_user_and_a_wrong_ca_stops_it() {
    let services = SecuredServices::start("ledger").expect("services");
    let (ca, nats, database_url) = (&services.ca, &services.nats, &services.database_url);
    let logs = tempfile::tempdir().expect("log dir");
    let ledger_seed = services.users.seed_file("ledger");
    let node = LedgerNode::spawn_with(
        PICKET,
        database_url,
        &nats.url(),
        LEASE_MS,
        logs.path(),
        "tls-node",
        &[
            "--nats-ca-file",
            path(ca.ca_file()),
            "--nats-creds-file",
            path(&ledger_seed),
        ],
    );
    node.wait_role("leader");

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let mut bus = BusConfig::new(nats.url(), 1);
        bus.auth = services.nats_auth("gateway");
        bus.request_timeout = Duration::from_millis(1_000);
        let gateway =
            LedgerClient::Nats(NatsLedger::connect(bus, "gateway").await.expect("gateway"));
        acknowledged(&gateway, &open_small(5, 10), WAIT_MAX)
            .await
            .expect("opened");
        let held = acknowledged(&gateway, &hold_seat(1, "h1", 5, 3), WAIT_MAX).await;
        assert!(matches!(held, Ok(Reply::Held { .. })), "{held:?}");
    });
    let log = nats.log_tail();
    assert!(!log.contains("Violation"), "{log}");
    let node_log = std::fs::read_to_string(logs.path().join("tls-node.log")).expect("node log");
    let seed = std::fs::read_to_string(&ledger_seed).expect("seed");
    assert!(
        !node_log.contains(seed.trim()),
        "the node logged its NKey seed"
    );

    // The same node with a CA that did not sign NATS's certificate: it stops, saying why.
    let other = TestCa::new("someone else's ca").expect("other ca");
    let mut refused = LedgerNode::spawn_with(
        PICKET,
        database_url,
        &nats.url(),
        LEASE_MS,
        logs.path(),
        "wrong-ca",
        &[
            "--nats-ca-file",
            path(other.ca_file()),
            "--nats-creds-file",
            path(&ledger_seed),
        ],
    );
    let status = exit_of(&mut refused).expect("a node that cannot verify NATS stops");
    assert!(!status.success());
    let log = std::fs::read_to_string(logs.path().join("wrong-ca.log")).expect("log");
    assert!(log.contains("UnknownIssuer"), "{log}");
    assert!(log.contains("PICKET_NATS_CA_FILE"), "{log}");
    assert_eq!(node.role().as_deref(), Some("leader"));
}

#[test]
fn unusable_tls_files_are_setting_problems_reported_before_anything_starts() {
    let output = Command::new(PICKET)
        .args(["ledger", "--nats-url", "tls://127.0.0.1:1"])
        .args(["--database-url", "postgres://picket@127.0.0.1:1/picket"])
        .args(["--nats-ca-file", "/nonexistent/ca.pem"])
        .args(["--nats-cert-file", "/nonexistent/cert.pem"])
        .stdin(Stdio::null())
        .output()
        .expect("picket ledger");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("setting problems (nothing was started)"),
        "{stderr}"
    );
    assert!(
        stderr.contains("ca_file /nonexistent/ca.pem: cannot read it"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--nats-cert-file (PICKET_NATS_CERT_FILE): cert_file needs key_file"),
        "{stderr}"
    );
    assert_eq!(output.status.code(), Some(2), "settings problems exit 2");

    let data = tempfile::tempdir().expect("data dir");
    let output = Command::new(PICKET)
        .arg("up")
        .arg("--data-dir")
        .arg(data.path())
        .args(["--listen", "127.0.0.1:0"])
        .args(["--nats-creds-file", "/nonexistent/user.nk"])
        .args(["--redis-url", "redis://127.0.0.1:1"])
        .args(["--redis-ca-file", "/nonexistent/ca.pem"])
        .stdin(Stdio::null())
        .output()
        .expect("picket up");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("--nats-url (PICKET_NATS_URL): needed by PICKET_NATS_CA_FILE"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--redis-url (PICKET_REDIS_URL): must be rediss://"),
        "{stderr}"
    );
    assert!(
        stderr.contains("--redis-ca-file (PICKET_REDIS_CA_FILE): cannot read /nonexistent/ca.pem"),
        "{stderr}"
    );
}
