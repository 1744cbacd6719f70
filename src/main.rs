//! `picket`: parses the command line and hands each command to its module. Each service is a
//! library with its own `run`; nothing here decides anything about tickets.
//!
//! - [`up`]: `picket up`, every component in one process.
//! - [`cluster`]: `picket cluster`, the production topology as processes on this host.
//! - [`node`]: `picket ledger`, a ledger node over NATS and PostgreSQL.
//! - [`notifier`]: `picket notifier`, the notifier over NATS and PostgreSQL.
//! - `picket loadtest`: [`picket_loadtest::run`].
//! - [`sandbox_pay`]: `picket sandbox-pay`, the Toss Payments v1 sandbox.
//! - [`payments`]: `picket payments reconcile`, one reconciliation run.
//! - [`notifications`]: `picket notifications dead-letters`, the notifier's dead letters.
//!
//! Every command checks all of its settings and reports every problem at once ([`check`])
//! before it binds a port or opens a store.

mod audit;
mod check;
mod cluster;
mod node;
mod notifications;
mod notifier;
mod payments;
mod platform;
mod sandbox_pay;
mod up;

use std::net::SocketAddr;

use anyhow::Context;
use clap::{Parser, Subcommand};
use picket_ledger::StoreUrl;
use tokio::net::TcpListener;

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

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let logs = tracing_subscriber::fmt().with_env_filter(filter);
    match &cli.command {
        // A load test's stdout carries its worker processes' results: logs go to stderr.
        Command::Loadtest(_) => logs.with_writer(std::io::stderr).init(),
        _ => logs.init(),
    }
    let runtime = tokio::runtime::Runtime::new().context("starting the tokio runtime")?;
    runtime.block_on(async {
        match cli.command {
            Command::Up(args) => up::run(*args).await,
            Command::Cluster(args) => cluster::run(args).await,
            Command::Ledger(args) => node::run(args).await,
            Command::Notifier(args) => notifier::run(args).await,
            Command::Loadtest(args) => loadtest(*args).await,
            Command::SandboxPay(args) => sandbox_pay::run(args).await,
            Command::Payments(args) => payments::run(args).await,
            Command::Notifications(args) => notifications::run(args).await,
        }
    })
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

fn parse_store(url: &str) -> anyhow::Result<StoreUrl> {
    StoreUrl::parse(url)
        .with_context(|| format!("must be postgres://… or sqlite://PATH, got {url:?}"))
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
