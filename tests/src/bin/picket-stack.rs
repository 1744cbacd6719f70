//! `picket-stack`: Picket deployed as processes on this machine for the browser's failover test
//! (`admin-web/e2e/failover.spec.ts`): PostgreSQL, NATS and Redis from the harness, a
//! `picket ledger` node leading partition 0, and one `picket up` gateway over them that is also
//! the partition's standby ([`picket_tests::deploy::Deployment`]).
//!
//! The picket binary is `$PICKET_BIN` (default `target/debug/picket` beside this binary); the
//! lease `$PICKET_STACK_LEASE_MS` (default [`LEASE_MS`]). Once everything is up it prints ONE
//! JSON line on stdout:
//!
//! ```json
//! {"url": "http://127.0.0.1:PORT", "leader_pid": N, "gateway_pid": N, "operator_token": "…", "lease_ms": N}
//! ```
//!
//! and runs until its stdin closes or it gets SIGTERM or SIGINT; then it stops every process
//! it started (also a leader the test has killed already) and exits.

use std::io::{Read, Write};
use std::path::PathBuf;

use picket_tests::deploy::{OPERATOR_TOKEN, deployment};

/// The ledger lease unless `$PICKET_STACK_LEASE_MS` says otherwise: a killed leader's
/// partition is taken over about this long after.
const LEASE_MS: u64 = 1_000;

fn picket_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("PICKET_BIN") {
        return PathBuf::from(path);
    }
    let me = std::env::current_exe().expect("this binary's path");
    me.with_file_name("picket")
}

fn main() {
    let picket = picket_binary();
    assert!(
        picket.is_file(),
        "no picket binary at {} (set PICKET_BIN)",
        picket.display()
    );
    let lease_ms = match std::env::var("PICKET_STACK_LEASE_MS") {
        Ok(text) => text.parse().expect("PICKET_STACK_LEASE_MS is milliseconds"),
        Err(_) => LEASE_MS,
    };
    let deployment = deployment(&picket.to_string_lossy(), 1, lease_ms, &[]);
    let gateway = &deployment.gateways[0];
    let line = serde_json::json!({
        "url": format!("http://{}", gateway.address()),
        "leader_pid": deployment.leader().child.id(),
        "gateway_pid": gateway.child.id(),
        "operator_token": OPERATOR_TOKEN,
        "lease_ms": lease_ms,
        "logs": deployment.dir(),
    });
    {
        let mut stdout = std::io::stdout().lock();
        writeln!(stdout, "{line}").expect("stdout");
        stdout.flush().expect("stdout");
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        let mut int = signal(SignalKind::interrupt()).expect("SIGINT handler");
        let stdin_closed = tokio::task::spawn_blocking(|| {
            let mut sink = [0u8; 256];
            let mut stdin = std::io::stdin().lock();
            while matches!(stdin.read(&mut sink), Ok(n) if n > 0) {}
        });
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
            _ = stdin_closed => {}
        }
    });
    // Dropping the deployment kills its processes (gateways, ledger node, NATS, Redis,
    // PostgreSQL) and removes its directory.
    drop(deployment);
    // The blocking stdin reader may still be waiting; do not wait for it.
    runtime.shutdown_background();
}
