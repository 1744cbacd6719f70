//! `picket loadtest` as an operator runs it, through the real binary: a small stampede and a
//! churn against `picket up`, and a stampede (over two worker processes and two gateways) and a
//! failover against a multi-process deployment on real PostgreSQL, NATS and Redis. Every run
//! must pass its audit of the ledger, and its report files must parse.
//! (This file belongs to the root `picket` package, which is what gives it the binary's path.)

use std::path::Path;
use std::process::Command;

use picket_loadtest::report::ReportJson;
use picket_tests::Postgres;
use picket_tests::deploy::{OPERATOR_TOKEN, Up, deployment};

const PICKET: &str = env!("CARGO_BIN_EXE_picket");

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
    let up = Up::start(PICKET, data.path(), &[]);
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
        // Long enough to sell out first with every buyer paying at the sandbox (a debug build
        // under a loaded machine sold 78 of 80 in 12 s).
        "--duration-s",
        "30",
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
    let up = Up::start(PICKET, data.path(), &[]);
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
fn contention_sells_out_on_both_sides_and_reports_each_sides_sell_out() {
    let postgres = Postgres::start().expect("postgres");
    let baseline_url = postgres.create_database("baseline").expect("database");
    let data = tempfile::tempdir().expect("tempdir");
    let up = Up::start(PICKET, data.path(), &[]);
    let gateway = up.address();
    let data_dir = data.path().display().to_string();
    let out = data.path().join("contention");
    // The preset scaled down: 200 seats, 2,000 buyers at 200/s (a debug build on a shared
    // machine sells 100 pairs well inside the 10 s of arrivals).
    let report = loadtest(
        &out,
        &[
            "--gateway",
            gateway.as_str(),
            "--data-dir",
            data_dir.as_str(),
            "contention",
            "--seats",
            "200",
            "--clients",
            "2000",
            "--rate-per-s",
            "200",
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
            .any(|c| c.name == "baseline: no seat sold twice" && c.passed),
        "{audit:?}"
    );
    let contention = report.contention.as_ref().expect("a contention section");
    assert_eq!(contention.seats, 200);
    let names: Vec<&str> = contention.sides.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["picket", "pg-row-lock"]);
    for side in &contention.sides {
        assert!(side.sold_out, "{side:?}");
        // Two seats per booking: 100 bookings sell 200 seats, each seat once.
        assert_eq!((side.bookings, side.tickets), (100, 200), "{side:?}");
        let sell_out = side.last_booking_s.expect("a sell-out time");
        assert!(sell_out > 0.0, "{side:?}");
        assert_eq!(side.audit_passed, Some(true), "{side:?}");
        // Every buyer either booked, was turned away, or is counted as failed.
        assert_eq!(side.buyers, 2_000, "{side:?}");
        assert_eq!(
            side.bookings + side.turned_away + side.failed,
            2_000,
            "{side:?}"
        );
        assert!(side.hold_p99_ms.is_some() && side.end_to_end_p99_ms.is_some());
    }
    let markdown = std::fs::read_to_string(out.join("report.md")).expect("report.md");
    assert!(markdown.contains("## Contention"), "{markdown}");
}

#[test]
fn a_stampede_and_a_failover_against_a_multi_process_deployment_pass_their_audits() {
    let deployment = deployment(PICKET, 2, 1_000, &[]);
    let gateways = deployment.gateway_list();
    let database_url = deployment.database_url.as_str();
    let common = ["--gateway", gateways.as_str(), "--journal", database_url];
    let dir = deployment.dir();

    let out = dir.join("stampede");
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
    let gateway_pids = deployment.gateway_pids();
    let server_pids = deployment.server_pid_args();
    args.extend(["--gateway-pid", gateway_pids.as_str()]);
    args.extend(server_pids.iter().map(String::as_str));
    let report = loadtest(&out, &args);
    audit_passed(&report);
    assert_eq!(report.counters.admitted, 400, "{:?}", report.counters);
    assert!(report.counters.bookings > 0);
    // Server CPU per booking: every component of the deployment used some, the total is
    // their sum, and PostgreSQL counts its backends.
    let cpu = report.cpu.as_ref().expect("a cpu section");
    let mut names: Vec<&str> = cpu.components.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["gateway", "ledger", "nats", "postgres", "redis"],
        "{cpu:?}"
    );
    for component in &cpu.components {
        assert!(component.cpu_s > 0.0, "{cpu:?}");
        assert!(
            component.us_per_booking.is_some_and(|us| us > 0.0),
            "{cpu:?}"
        );
    }
    let sum: f64 = cpu.components.iter().map(|c| c.cpu_s).sum();
    assert!((cpu.total_cpu_s - sum).abs() < 1e-9, "{cpu:?}");
    assert_eq!(cpu.bookings, report.counters.bookings);
    let postgres = cpu.components.iter().find(|c| c.name == "postgres");
    assert!(postgres.is_some_and(|p| p.processes > 2), "{cpu:?}");
    let gateways = cpu.components.iter().find(|c| c.name == "gateway");
    assert!(gateways.is_some_and(|g| g.processes >= 2), "{cpu:?}");

    // The leader is killed mid-run; a `picket up` node standing by takes over.
    let leader = deployment.leader();
    let pid = leader.child.id().to_string();
    let out = dir.join("failover");
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
    assert!(
        failover.killed_at_s >= 6.0,
        "killed at the set moment: {failover:?}"
    );
    // The standby took over: buyers kept booking after the kill.
    let after_kill: u64 = report
        .timeline
        .iter()
        .filter(|s| s.second as f64 > failover.killed_at_s)
        .map(|s| s.bookings)
        .sum();
    assert!(after_kill > 0, "no booking after the kill: {failover:?}");
    assert!(report.counters.bookings > 0);
}
