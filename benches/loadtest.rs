//! `picket loadtest` against a deployment this bench starts on the machine: PostgreSQL, NATS
//! and Redis from the test harness, a `picket ledger` leader, and `PICKET_BENCH_GATEWAYS`
//! `picket up` gateways sharing them (each also a ledger standby). Or, with
//! `PICKET_BENCH_TARGET=up`, one `picket up` alone on SQLite.
//!
//! ```sh
//! PICKET_BENCH_SCENARIO=steady PICKET_BENCH_ARGS="--clients 6000 --rate-per-s 5000" \
//!     cargo bench --bench loadtest
//! PICKET_BENCH_SCENARIO=failover PICKET_BENCH_ARGS="--rate-per-s 1000" cargo bench --bench loadtest
//! PICKET_BENCH_SCENARIO=stampede PICKET_BENCH_GATEWAYS=6 \
//!     PICKET_BENCH_ARGS="--clients 100000 --workers 7 --ramp-per-s 250" cargo bench --bench loadtest
//! PICKET_BENCH_BASELINE=1 PICKET_BENCH_ARGS="--rate-per-s 1000" cargo bench --bench loadtest
//! PICKET_BENCH_SCENARIO=contention cargo bench --bench loadtest
//! PICKET_BENCH_COMMAND_TRANSPORT=jetstream PICKET_BENCH_ARGS="--rate-per-s 250" \
//!     cargo bench --bench loadtest
//! ```
//!
//! `PICKET_BENCH_COMMAND_TRANSPORT` (`direct` or `jetstream`; default: the gateways' own
//! default) is how the gateways send commands to the ledger (`picket up --command-transport`).
//!
//! `failover` kills the ledger leader (its pid is passed as `--kill-pid`); `idle` reads the
//! gateways' memory (`--gateway-pid`). Every run reports server CPU per booking: the gateways
//! (`--gateway-pid`), the ledger leader, PostgreSQL, NATS and Redis (`--server-pid`); against
//! `picket up` alone, its one process. The report goes to `target/loadtest-bench/<scenario>`.

use std::process::Command;

use picket_tests::deploy::{OPERATOR_TOKEN, Up, deployment};

const PICKET: &str = env!("CARGO_BIN_EXE_picket");

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn main() {
    // `cargo test --benches` runs bench targets without `--bench`; only a real bench run works.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let scenario = env_or("PICKET_BENCH_SCENARIO", "steady");
    let gateways: usize = env_or("PICKET_BENCH_GATEWAYS", "2")
        .parse()
        .expect("a number");
    let extra = env_or("PICKET_BENCH_ARGS", "");
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/loadtest-bench")
        .join(&scenario);
    let push_ms = env_or("PICKET_BENCH_PUSH_INTERVAL_MS", "1000");
    let mut gateway_env = vec![("PICKET_PUSH_INTERVAL_MS", push_ms.clone())];
    if let Ok(transport) = std::env::var("PICKET_BENCH_COMMAND_TRANSPORT") {
        eprintln!("gateways send commands over {transport}");
        gateway_env.push(("PICKET_COMMAND_TRANSPORT", transport));
    }
    let mut args: Vec<String> = vec![scenario.clone(), "--no-progress".into()];
    args.extend(extra.split_whitespace().map(str::to_owned));
    let up_dir = tempfile::tempdir().expect("tempdir");
    let (_deployment, _up);
    if env_or("PICKET_BENCH_TARGET", "deployment") == "up" {
        let up = Up::start(
            PICKET,
            up_dir.path(),
            &[("PICKET_PUSH_INTERVAL_MS", push_ms.clone())],
        );
        args.extend(["--gateway".into(), up.address()]);
        args.extend(["--data-dir".into(), up_dir.path().display().to_string()]);
        args.extend(["--gateway-pid".into(), up.child.id().to_string()]);
        _up = Some(up);
        _deployment = None;
    } else {
        let deployment = deployment(PICKET, gateways, 1_000, &gateway_env);
        args.extend(["--gateway".into(), deployment.gateway_list()]);
        args.extend(["--journal".into(), deployment.database_url.clone()]);
        args.extend(["--gateway-pid".into(), deployment.gateway_pids()]);
        args.extend(deployment.server_pid_args());
        if scenario == "failover" && !extra.contains("--kill-pid") {
            args.extend([
                "--kill-pid".into(),
                deployment.leader().child.id().to_string(),
            ]);
        }
        _deployment = Some(deployment);
        _up = None;
    }
    // `contention` always runs the baseline after Picket: the comparison is its point.
    let baseline_pg = if env_or("PICKET_BENCH_BASELINE", "0") == "1" || scenario == "contention" {
        let postgres = picket_tests::Postgres::start().expect("postgres");
        let url = postgres.create_database("baseline").expect("database");
        args.extend(["--baseline".into(), "pg-row-lock".into()]);
        args.extend(["--baseline-database-url".into(), url]);
        Some(postgres)
    } else {
        None
    };
    args.extend(["--out".into(), out.display().to_string()]);
    args.extend(["--operator-token".into(), OPERATOR_TOKEN.into()]);
    eprintln!("picket loadtest {}", args.join(" "));
    let status = Command::new(PICKET)
        .arg("loadtest")
        .args(&args)
        .env("RUST_LOG", "warn")
        .status()
        .expect("run picket loadtest");
    drop(baseline_pg);
    assert!(status.success(), "picket loadtest ended with {status}");
}
