//! `picket`: parses the command line and wires the services together. Each service is a library
//! with its own `run`; nothing here decides anything about tickets.

use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use picket_gateway::{Gateway, GatewayConfig, QueueStore};
use picket_ledger::{
    BusConfig, LedgerClient, LedgerConfig, LedgerService, NatsLedger, Node, NodeConfig, PgJournal,
    Role, StoreUrl,
};
use picket_room::memory::MemoryStore;
use picket_room::redis::RedisStore;
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
    Up(Box<UpArgs>),
    /// Run a ledger node: it leads the hosted partitions whose lease is free and stands by for
    /// the others, taking over when their leader dies. Needs NATS (commands in, events out)
    /// and PostgreSQL (journal, leases, fencing epochs).
    Ledger(LedgerArgs),
    /// Rehearse a ticket opening: many real WebSocket clients drive a running deployment
    /// through a scenario (stampede, steady, idle, churn, failover, or a TOML file), then the
    /// ledger is audited against what they were told and a report is written (docs/loadtest.md).
    Loadtest(Box<picket_loadtest::LoadtestArgs>),
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
    /// A read replica of DATABASE_URL for reads that may be slightly stale (browsing, show
    /// pages, boards).
    #[arg(long, env = "DATABASE_READ_URL")]
    database_read_url: Option<String>,
    /// NATS with JetStream (nats://…): commands go to the ledger over it instead of in
    /// process. Needs DATABASE_URL to name PostgreSQL.
    #[arg(long, env = "PICKET_NATS_URL")]
    nats_url: Option<String>,
    /// Partitions of the deployment (with NATS; this process hosts all of them).
    #[arg(long, env = "PICKET_PARTITIONS", default_value_t = 1)]
    partition_count: u16,
    /// How often waiting clients get their position (milliseconds, at most 2,000).
    #[arg(long, env = "PICKET_PUSH_INTERVAL_MS", default_value_t = 1_000)]
    push_interval_ms: u64,
    /// S3-compatible endpoint for show banners, https://… or http://… (AWS S3, MinIO, Ceph;
    /// path-style requests). Default: banners are files under the data directory.
    #[arg(long, env = "PICKET_BANNER_S3_ENDPOINT")]
    banner_s3_endpoint: Option<String>,
    /// Bucket for show banners (with PICKET_BANNER_S3_ENDPOINT).
    #[arg(long, env = "PICKET_BANNER_S3_BUCKET")]
    banner_s3_bucket: Option<String>,
    /// Region of the banner bucket.
    #[arg(long, env = "PICKET_BANNER_S3_REGION", default_value = picket_api::media::s3::DEFAULT_REGION)]
    banner_s3_region: String,
    /// Access key id for the banner bucket.
    #[arg(long, env = "PICKET_BANNER_S3_ACCESS_KEY_ID")]
    banner_s3_access_key_id: Option<String>,
    /// Secret access key for the banner bucket.
    #[arg(
        long,
        env = "PICKET_BANNER_S3_SECRET_ACCESS_KEY",
        hide_env_values = true
    )]
    banner_s3_secret_access_key: Option<String>,
}

#[derive(Args)]
struct LedgerArgs {
    /// Address of the ops HTTP listener (/healthz, /metrics).
    #[arg(long, env = "PICKET_LEDGER_LISTEN", default_value = "127.0.0.1:8081")]
    listen: SocketAddr,
    /// Partitions this node hosts, e.g. `0,1,2` (default: all of them).
    #[arg(long, env = "PICKET_HOST_PARTITIONS", value_delimiter = ',')]
    partitions: Vec<u16>,
    /// Partitions of the deployment: performance p belongs to partition p mod this.
    #[arg(long, env = "PICKET_PARTITIONS", default_value_t = 1)]
    partition_count: u16,
    /// `auto`: lead where the lease is free, stand by elsewhere; `standby`: never lead.
    #[arg(long, env = "PICKET_ROLE", default_value = "auto")]
    role: RoleArg,
    /// NATS with JetStream: nats://…
    #[arg(long, env = "PICKET_NATS_URL")]
    nats_url: String,
    /// Journal, leases and epochs: postgres://…
    #[arg(long, env = "DATABASE_URL")]
    database_url: String,
    /// Most journal entries per group commit.
    #[arg(long, env = "PICKET_COMMIT_BATCH_MAX", default_value_t = 1_024)]
    commit_batch_max: usize,
    /// Microseconds the writer waits to fill a batch (0: batches form from what queued during
    /// the previous commit).
    #[arg(long, env = "PICKET_COMMIT_LINGER_US", default_value_t = 0)]
    commit_linger_us: u64,
    /// How long a leader's lease lasts unless renewed (a dead leader is replaced after it).
    #[arg(long, env = "PICKET_LEASE_MS", default_value_t = 2_000)]
    lease_ms: u64,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    Auto,
    Standby,
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
            Command::Up(args) => up(*args).await,
            Command::Ledger(args) => ledger(args).await,
            Command::Loadtest(args) => loadtest(*args).await,
        }
    })
}

async fn loadtest(args: picket_loadtest::LoadtestArgs) -> anyhow::Result<()> {
    let out = args.out.clone();
    let Some(report) = picket_loadtest::run(args).await? else {
        return Ok(());
    };
    println!("{}", picket_loadtest::report::summary_table(&report));
    println!("report: {}", out.display());
    if report.audit.as_ref().is_some_and(|audit| !audit.passed) {
        anyhow::bail!("the audit failed: see {}", out.join("report.md").display());
    }
    Ok(())
}

async fn up(args: UpArgs) -> anyhow::Result<()> {
    let store = match &args.database_url {
        Some(url) => parse_store(url)?,
        None => StoreUrl::Sqlite(args.data_dir.join("ledger.sqlite")),
    };
    let banner_store = banner_store(&args)?;
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
    let gateway_id = picket_gateway::config::unique_gateway_id();
    let (ledger, client) = match &args.nats_url {
        None => {
            let service = LedgerService::start(&LedgerConfig::new(store), &mut registry).await?;
            let client = LedgerClient::InProcess(service.handle.clone());
            (UpLedger::InProcess(service), client)
        }
        Some(nats_url) => {
            let StoreUrl::Postgres(database_url) = &store else {
                anyhow::bail!("PICKET_NATS_URL needs DATABASE_URL to name PostgreSQL");
            };
            let bus = BusConfig::new(nats_url.clone(), args.partition_count);
            let partitions = (0..bus.partitions).collect();
            let node = start_node(
                database_url,
                bus.clone(),
                partitions,
                Role::Auto,
                &mut registry,
                |_| {},
            )
            .await?;
            let client = LedgerClient::Nats(NatsLedger::connect(bus, &gateway_id).await?);
            (UpLedger::Node(node), client)
        }
    };
    let mut config = GatewayConfig::new(gateway_id);
    config.connections_max = args.connections_max;
    config.push_interval =
        std::time::Duration::from_millis(args.push_interval_ms.clamp(100, 2_000));
    let api_keys = keys.clone();
    let api_ledger = client.clone();
    let api_queue = queue.clone();
    let api_operator_token = operator_token.clone();
    let gateway = Gateway::start(config, keys, queue, client, operator_token, &mut registry);
    gateway.serve_metrics(std::sync::Arc::new(registry));
    let address = listener.local_addr()?;
    println!("picket is up: http://{address}/healthz (Ctrl-C to stop)");
    println!("  WebSocket: ws://{address}/ws (subprotocol picket.v1)");
    println!(
        "  operator token: {} (file)",
        args.data_dir.join("operator-token").display()
    );
    let api_url = match &args.database_url {
        Some(url) => url.clone(),
        None => format!(
            "sqlite://{}?mode=rwc",
            args.data_dir.join("api.sqlite").display()
        ),
    };
    let mut api_store = picket_api::store::Store::connect(&api_url)
        .await
        .context("opening the API's database")?;
    if let Some(url) = &args.database_read_url {
        api_store = api_store
            .with_read_replica(url)
            .await
            .context("opening the read replica (DATABASE_READ_URL)")?;
    }
    let api = picket_api::Api::new(
        api_store,
        api_keys,
        api_operator_token,
        Some(api_ledger),
        Some(api_queue),
        picket_api::ApiConfig {
            media_dir: args.data_dir.join("media"),
            banner_store,
            ..picket_api::ApiConfig::default()
        },
    );
    if let Some(nats_url) = &args.nats_url {
        let nats = picket_ledger::bus::connect(nats_url, "picket-api").await?;
        api.announce_on(nats)
            .await
            .map_err(|e| anyhow::anyhow!("cannot create the announcements stream: {e}"))?;
    }
    let served = picket_gateway::run_with(
        gateway,
        listener,
        picket_api::router(api),
        shutdown_signal(),
    )
    .await;
    match ledger {
        UpLedger::InProcess(service) => service.writer.shutdown().await,
        UpLedger::Node(node) => node.shutdown().await,
    }
    served?;
    println!("picket stopped; journal flushed");
    Ok(())
}

/// Where `picket up` keeps show banners: an S3-compatible bucket when
/// PICKET_BANNER_S3_ENDPOINT is set (then bucket and keys are required), else files under the
/// data directory.
fn banner_store(args: &UpArgs) -> anyhow::Result<picket_api::media::BannerStore> {
    use picket_api::media::{BannerStore, S3BannerConfig};
    let s3_settings = [
        ("PICKET_BANNER_S3_BUCKET", &args.banner_s3_bucket),
        (
            "PICKET_BANNER_S3_ACCESS_KEY_ID",
            &args.banner_s3_access_key_id,
        ),
        (
            "PICKET_BANNER_S3_SECRET_ACCESS_KEY",
            &args.banner_s3_secret_access_key,
        ),
    ];
    let Some(endpoint) = &args.banner_s3_endpoint else {
        if let Some((name, _)) = s3_settings.iter().find(|(_, value)| value.is_some()) {
            anyhow::bail!("{name} is set but PICKET_BANNER_S3_ENDPOINT is not");
        }
        return Ok(BannerStore::Disk);
    };
    let [bucket, access_key_id, secret_access_key] = s3_settings.map(|(name, value)| {
        value
            .clone()
            .with_context(|| format!("PICKET_BANNER_S3_ENDPOINT is set: {name} is needed too"))
    });
    let mut config = S3BannerConfig::new(
        endpoint.clone(),
        bucket?,
        access_key_id?,
        secret_access_key?,
    );
    config.region = args.banner_s3_region.clone();
    let store = BannerStore::s3(&config).context("the banner bucket (PICKET_BANNER_S3_*)")?;
    tracing::info!(
        endpoint = %config.endpoint,
        bucket = %config.bucket,
        "banners are stored in an s3 bucket"
    );
    Ok(store)
}

/// The ledger `picket up` runs: in process, or a node over NATS.
enum UpLedger {
    InProcess(LedgerService),
    Node(std::sync::Arc<Node>),
}

async fn start_node(
    database_url: &str,
    bus: BusConfig,
    partitions: Vec<u16>,
    role: Role,
    registry: &mut Registry,
    tune: impl FnOnce(&mut NodeConfig),
) -> anyhow::Result<std::sync::Arc<Node>> {
    let mut ledger = LedgerConfig::new(StoreUrl::Postgres(database_url.to_owned()));
    ledger.pg_connections_max = ledger.pg_connections_max.max(partitions.len() as u32 * 3);
    let journal = PgJournal::connect(
        database_url,
        ledger.pg_connections_max,
        ledger.journal_connect_timeout,
    )
    .await?;
    let holder = format!(
        "{}-{}-{:08x}",
        picket_gateway::config::unique_gateway_id(),
        std::process::id(),
        rand::random::<u32>()
    );
    let nats = picket_ledger::bus::connect(&bus.url, &holder).await?;
    let mut config = NodeConfig::new(ledger, bus, partitions, holder);
    config.role = role;
    tune(&mut config);
    let metrics = std::sync::Arc::new(picket_ledger::metrics::Metrics::new(registry));
    let node = Node::start(config, journal, nats, metrics).await?;
    Ok(std::sync::Arc::new(node))
}

async fn ledger(args: LedgerArgs) -> anyhow::Result<()> {
    let StoreUrl::Postgres(database_url) = parse_store(&args.database_url)? else {
        anyhow::bail!("a ledger node needs DATABASE_URL to name PostgreSQL");
    };
    let bus = BusConfig::new(args.nats_url.clone(), args.partition_count);
    let partitions = if args.partitions.is_empty() {
        (0..bus.partitions).collect()
    } else {
        args.partitions.clone()
    };
    if let Some(p) = partitions.iter().find(|p| **p >= bus.partitions) {
        anyhow::bail!("partition {p} is outside 0..{}", bus.partitions);
    }
    let role = match args.role {
        RoleArg::Auto => Role::Auto,
        RoleArg::Standby => Role::Standby,
    };
    let listener = bind(args.listen).await?;
    let mut registry = Registry::default();
    let node = start_node(
        &database_url,
        bus,
        partitions,
        role,
        &mut registry,
        |config| {
            config.ledger.commit_batch_max = args.commit_batch_max.max(1);
            config.ledger.commit_linger = std::time::Duration::from_micros(args.commit_linger_us);
            config.lease = std::time::Duration::from_millis(args.lease_ms.max(100));
            config.lease_renew_interval = config.lease / 5;
        },
    )
    .await?;
    let app = picket_ledger::ops::node_router(node.clone(), std::sync::Arc::new(registry));
    println!(
        "picket ledger node: http://{}/healthz",
        listener.local_addr()?
    );
    let served = axum_serve(listener, app).await;
    node.shutdown().await;
    served
}

async fn axum_serve(listener: TcpListener, app: axum::Router) -> anyhow::Result<()> {
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("ops listener failed")
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
