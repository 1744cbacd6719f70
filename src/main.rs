//! `picket`: parses the command line and hands each command to its module. Each service is a
//! library with its own `run`; nothing here decides anything about tickets.
//!
//! - [`up`]: `picket up`, every component in one process.
//! - [`gateway`]: `picket gateway`, the edge alone (WebSocket and HTTP API; [`edge`] is what it
//!   shares with `up`).
//! - [`cluster`]: `picket cluster`, the production topology as processes on this host.
//! - [`node`]: `picket ledger`, a ledger node over NATS and PostgreSQL.
//! - [`notifier`]: `picket notifier`, the notifier over NATS and PostgreSQL.
//! - `picket loadtest`: [`picket_loadtest::run`].
//! - [`sandbox_pay`]: `picket sandbox-pay`, the Toss Payments v1 sandbox.
//! - [`payments`]: `picket payments reconcile`, one reconciliation run.
//! - [`notifications`]: `picket notifications dead-letters`, the notifier's dead letters.
//!
//! Every role (`up`, `gateway`, `ledger`, `notifier`, `sandbox-pay`) checks all of its settings
//! and reports every problem at once ([`check`], exit code 2) before it binds a port or opens a
//! store; then its tokio runtime is built with the worker threads it was given ([`threads`]).
//! `cluster` checks its settings the same way (exit code 2) and runs on tokio's default runtime.

mod audit;
mod check;
mod cluster;
mod edge;
mod gateway;
mod node;
mod notifications;
mod notifier;
mod payments;
mod platform;
mod sandbox_pay;
mod threads;
mod tls;
mod up;

use std::future::Future;
use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use tokio::net::TcpListener;

use crate::check::{Planned, SettingProblems};

#[derive(Parser)]
#[command(
    name = "picket",
    version,
    about = "Picket: an open ticketing platform built for the ticket-open rush",
    long_about = "Picket: an open ticketing platform built for the ticket-open rush.\n\n\
        Logging follows RUST_LOG (default: info)."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run every component in one process with embedded defaults: the ledger journals to a
    /// SQLite file under the data directory unless DATABASE_URL names PostgreSQL; the waiting
    /// room lives in memory unless PICKET_REDIS_URL names Redis. Serves the WebSocket at /ws,
    /// the HTTP API under /api (with the operator routes), /healthz and /metrics.
    Up(Box<up::UpArgs>),
    /// Run a gateway: the WebSocket edge, the waiting room and the HTTP API with the browser UI,
    /// and nothing else — no ledger partition, no payment sandbox, no notifier unless asked.
    /// Needs PostgreSQL (the API's database), NATS (the ledger nodes), Redis (the waiting room
    /// every gateway shares), a payment provider (`picket sandbox-pay` or Toss) and the keys
    /// every gateway shares. SIGTERM drains it: clients are told to reconnect elsewhere.
    Gateway(Box<gateway::GatewayArgs>),
    /// Run the production topology on this host from the installed binaries, each process in
    /// its own subdirectory of the data directory: PostgreSQL with a streaming read replica, a
    /// 3-node NATS cluster with JetStream, Redis with AOF, two ledger nodes (leader and standby),
    /// gateways behind one port, the notifier and the payment sandbox. Writes cluster.json;
    /// Ctrl-C stops everything in order (docs/operations.md, "One host: picket cluster").
    Cluster(cluster::ClusterArgs),
    /// Run a ledger node: it leads the hosted partitions whose lease is free and stands by for
    /// the others, taking over when their leader dies. Needs NATS (commands in, events out)
    /// and PostgreSQL (journal, leases, fencing epochs).
    Ledger(node::LedgerArgs),
    /// Run the notifier: follows the ledger's committed entries (from NATS JetStream) and the
    /// shows published, and writes members' notifications into their inboxes in the API's
    /// PostgreSQL database. `picket up` runs one in process unless told not to.
    Notifier(notifier::NotifierArgs),
    /// Rehearse a ticket opening: many real WebSocket clients drive a running deployment
    /// through a scenario (stampede, steady, idle, churn, failover, or a TOML file), then the
    /// ledger is audited against what they were told and a report is written (docs/loadtest.md).
    Loadtest(Box<picket_loadtest::LoadtestArgs>),
    /// Run the payment sandbox: the Toss Payments API v1 on loopback (confirm, cancel, billing,
    /// transactions), a checkout page with test cards, signed webhooks and failure switches,
    /// its records in a SQLite file under the data directory (docs/payments.md).
    SandboxPay(sandbox_pay::SandboxPayArgs),
    /// Payments housekeeping: `reconcile` compares the provider's transactions with the
    /// ledger's bookings and refunds, refunds what was paid and booked by nobody, and writes a
    /// report (docs/payments.md).
    Payments(payments::PaymentsArgs),
    /// Notification housekeeping: `dead-letters` lists the push deliveries the notifier gave up
    /// on (docs/operations.md, "Notification delivery").
    Notifications(notifications::NotificationsArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match &cli.command {
        // A load test's stdout carries its worker processes' results: logs go to stderr.
        Command::Loadtest(_) => logs.with_writer(std::io::stderr).init(),
        _ => logs.init(),
    }
    let ran = match cli.command {
        Command::Up(args) => role(up::plan(*args), up::run),
        Command::Gateway(args) => role(gateway::plan(*args), gateway::run),
        Command::Cluster(args) => role(cluster::plan(args), cluster::run),
        Command::Ledger(args) => role(node::plan(args), node::run),
        Command::Notifier(args) => role(notifier::plan(args), notifier::run),
        Command::SandboxPay(args) => role(sandbox_pay::plan(args), sandbox_pay::run),
        Command::Loadtest(args) => tool(loadtest(*args)),
        Command::Payments(args) => tool(payments::run(args)),
        Command::Notifications(args) => tool(notifications::run(args)),
    };
    match ran {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.is::<SettingProblems>() => {
            eprintln!("{error}");
            ExitCode::from(check::SETTINGS_EXIT_CODE)
        }
        Err(error) => {
            eprintln!("Error: {error:?}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a role whose settings were checked on a runtime with the worker threads it was given.
fn role<P, F>(
    planned: Result<Planned<P>, SettingProblems>,
    run: impl FnOnce(P) -> F,
) -> anyhow::Result<()>
where
    F: Future<Output = anyhow::Result<()>>,
{
    let Planned {
        worker_threads,
        plan,
    } = planned?;
    let runtime = threads::runtime(worker_threads).context("starting the tokio runtime")?;
    tracing::info!(
        worker_threads = runtime.metrics().num_workers(),
        "tokio runtime"
    );
    runtime.block_on(run(plan))
}

/// Runs a command that is not a role on tokio's default runtime.
fn tool(command: impl Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    threads::runtime(None)
        .context("starting the tokio runtime")?
        .block_on(command)
}

async fn loadtest(args: picket_loadtest::LoadtestArgs) -> anyhow::Result<()> {
    let out = args.out.clone();
    let Some(report) = picket_loadtest::run(args, &audit::JournalReplayer).await? else {
        return Ok(());
    };
    println!("{}", picket_loadtest::report::summary_table(&report));
    println!("report: {}", out.display());
    if report.audit.as_ref().is_some_and(|audit| !audit.passed) {
        anyhow::bail!("the audit failed: see {}", out.join("report.md").display());
    }
    Ok(())
}

async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed when this is called, not when the
/// future is first polled: a signal that comes as soon as the listener answers must still drain
/// the process instead of killing it.
fn shutdown_signal() -> impl std::future::Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt()).expect("installing the SIGINT handler");
        let mut terminate =
            signal(SignalKind::terminate()).expect("installing the SIGTERM handler");
        async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            tracing::info!("shutting down");
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down");
    }
}
