//! `picket`: parses the command line and wires the services together. Each service is a library
//! with its own `run`; nothing here decides anything about tickets.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use picket_gateway::room::memory::MemoryStore;
use picket_gateway::room::redis::RedisStore;
use picket_gateway::{Gateway, GatewayConfig, QueueStore};
use picket_ledger::{LedgerConfig, LedgerService, StoreUrl};
use prometheus_client::registry::Registry;
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
    /// room lives in memory unless PICKET_REDIS_URL names Redis. Serves the gateway (WebSocket
    /// at /ws, operator API under /api/v1) with /healthz and /metrics.
    Up(UpArgs),
    /// Run one ledger partition (its single writer) with its ops endpoints.
    Ledger(LedgerArgs),
}

#[derive(Args)]
struct UpArgs {
    /// Address of the HTTP listener (/ws, /api/v1, /healthz, /metrics).
    #[arg(long, env = "PICKET_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Directory for embedded data (the SQLite journal, token keys, operator token).
    #[arg(long, env = "PICKET_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// Journal database: postgres://… to use PostgreSQL instead of the embedded SQLite file.
    #[arg(long, env = "DATABASE_URL")]
    database_url: Option<String>,
    /// Waiting-room store shared by gateways: redis://… (default: in memory, one process).
    #[arg(long, env = "PICKET_REDIS_URL")]
    redis_url: Option<String>,
    /// Token keys, `id:hexsecret[,id:hexsecret…]`, the first signing (default: a key file in
    /// the data directory, created on first start).
    #[arg(long, env = "PICKET_TOKEN_KEYS", hide_env_values = true)]
    token_keys: Option<String>,
    /// Bearer token for the operator API (default: a file in the data directory, created on
    /// first start).
    #[arg(long, env = "PICKET_OPERATOR_TOKEN", hide_env_values = true)]
    operator_token: Option<String>,
    /// Most open WebSocket connections (one more is told to try again later).
    #[arg(long, env = "PICKET_CONNECTIONS_MAX", default_value_t = 18_000)]
    connections_max: usize,
}

#[derive(Args)]
struct LedgerArgs {
    /// Address of the ops HTTP listener (/healthz, /metrics).
    #[arg(long, env = "PICKET_LEDGER_LISTEN", default_value = "127.0.0.1:8081")]
    listen: SocketAddr,
    /// The partition this node writes.
    #[arg(long, env = "PICKET_PARTITION", default_value_t = 0)]
    partition: u16,
    /// Journal database: postgres://… or sqlite://PATH.
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Most journal entries per group commit.
    #[arg(long, env = "PICKET_COMMIT_BATCH_MAX", default_value_t = 1_024)]
    commit_batch_max: usize,
    /// Microseconds the writer waits to fill a batch (0: batches form from what queued during
    /// the previous commit).
    #[arg(long, env = "PICKET_COMMIT_LINGER_US", default_value_t = 0)]
    commit_linger_us: u64,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .init();
    let runtime = tokio::runtime::Runtime::new().context("starting the tokio runtime")?;
    runtime.block_on(async {
        match cli.command {
            Command::Up(args) => up(args).await,
            Command::Ledger(args) => ledger(args).await,
        }
    })
}

async fn up(args: UpArgs) -> anyhow::Result<()> {
    let store = match &args.database_url {
        Some(url) => parse_store(url)?,
        None => StoreUrl::Sqlite(args.data_dir.join("ledger.sqlite")),
    };
    let listener = bind(args.listen).await?;
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create {}", args.data_dir.display()))?;
    let keys = picket_gateway::load_keys(
        args.token_keys.as_deref(),
        &args.data_dir.join("token-keys"),
    )?;
    let operator_token = match args.operator_token {
        Some(token) => token,
        None => {
            picket_gateway::load_or_create_secret(&args.data_dir.join("operator-token"), || {
                format!("{:032x}", rand::random::<u128>())
            })?
        }
    };
    let queue: std::sync::Arc<dyn QueueStore> = match &args.redis_url {
        Some(url) => std::sync::Arc::new(RedisStore::connect(url)?),
        None => std::sync::Arc::new(MemoryStore::new()),
    };
    let mut registry = Registry::default();
    let ledger = LedgerService::start(&LedgerConfig::new(store), &mut registry).await?;
    let mut config = GatewayConfig::new(picket_gateway::config::unique_gateway_id());
    config.connections_max = args.connections_max;
    let gateway = Gateway::start(
        config,
        keys,
        queue,
        ledger.handle.clone(),
        operator_token,
        &mut registry,
    );
    gateway.serve_metrics(std::sync::Arc::new(registry));
    let address = listener.local_addr()?;
    println!("picket is up: http://{address}/healthz (Ctrl-C to stop)");
    println!("  WebSocket: ws://{address}/ws (subprotocol picket.v1)");
    println!(
        "  operator token: {} (file)",
        args.data_dir.join("operator-token").display()
    );
    let served = picket_gateway::run(gateway, listener, shutdown_signal()).await;
    ledger.writer.shutdown().await;
    served?;
    println!("picket stopped; journal flushed");
    Ok(())
}

async fn ledger(args: LedgerArgs) -> anyhow::Result<()> {
    let mut config = LedgerConfig::new(parse_store(&args.database_url)?);
    config.partition = args.partition;
    config.commit_batch_max = args.commit_batch_max.max(1);
    config.commit_linger = std::time::Duration::from_micros(args.commit_linger_us);
    let listener = bind(args.listen).await?;
    picket_ledger::run(config, listener, shutdown_signal()).await?;
    Ok(())
}

fn parse_store(url: &str) -> anyhow::Result<StoreUrl> {
    StoreUrl::parse(url)
        .with_context(|| format!("DATABASE_URL must be postgres://… or sqlite://PATH, got {url:?}"))
}

async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))
}

/// Resolves on Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
    tracing::info!("shutting down");
}
