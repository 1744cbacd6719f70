//! `picket ledger`: a ledger node that leads the hosted partitions whose lease is free and
//! stands by for the others, over NATS (commands in, events out) and PostgreSQL (journal,
//! leases, fencing epochs).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use picket_ledger::{LedgerConfig, Node, NodeConfig, PgJournal, Role, StoreUrl};
use picket_ledger_client::BusConfig;
use prometheus_client::registry::Registry;

use crate::check::{Planned, Problems, SettingProblems};

/// A node's defaults, for `--help`: the binary repeats no default of a component.
fn node_defaults() -> NodeConfig {
    NodeConfig::new(
        LedgerConfig::new(StoreUrl::Postgres(String::new())),
        BusConfig::new(String::new(), 1),
        Vec::new(),
        String::new(),
    )
}

#[derive(Args)]
pub struct LedgerArgs {
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
    /// NATS with JetStream: nats://… or tls://… (may carry user:password; several
    /// comma-separated).
    #[arg(long, env = "PICKET_NATS_URL", hide_env_values = true)]
    nats_url: Option<String>,
    #[command(flatten)]
    nats_tls: crate::tls::NatsTlsArgs,
    /// Journal, leases and epochs: postgres://… (TLS: sslmode=verify-full&sslrootcert=…).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Most journal entries per group commit (1 to 65,536).
    #[arg(long, env = "PICKET_COMMIT_BATCH_MAX", default_value_t = node_defaults().ledger.commit_batch_max)]
    commit_batch_max: usize,
    /// Microseconds the writer waits to fill a batch (0: batches form from what queued during
    /// the previous commit; at most 100,000).
    #[arg(
        long,
        env = "PICKET_COMMIT_LINGER_US",
        default_value_t = node_defaults().ledger.commit_linger.as_micros() as u64
    )]
    commit_linger_us: u64,
    /// How long a leader's lease lasts unless renewed (a dead leader is replaced after it), in
    /// milliseconds (100 to 60,000).
    #[arg(
        long,
        env = "PICKET_LEASE_MS",
        default_value_t = node_defaults().lease.as_millis() as u64
    )]
    lease_ms: u64,
    /// PostgreSQL `lock_timeout` of every journal session, in milliseconds (10 to 60,000): a
    /// statement queued this long behind a lock fails and its node recovers instead of waiting.
    #[arg(
        long,
        env = "PICKET_PG_LOCK_TIMEOUT_MS",
        default_value_t = node_defaults().ledger.pg_lock_timeout.as_millis() as u64
    )]
    pg_lock_timeout_ms: u64,
    /// PostgreSQL `idle_in_transaction_session_timeout` of every journal session, in
    /// milliseconds (10 to 60,000): the server ends a session stalled this long inside a
    /// transaction, releasing the partition's leadership row for a standby.
    #[arg(
        long,
        env = "PICKET_PG_IDLE_IN_TRANSACTION_TIMEOUT_MS",
        default_value_t = node_defaults().ledger.pg_idle_in_transaction_timeout.as_millis() as u64
    )]
    pg_idle_in_transaction_timeout_ms: u64,
    #[command(flatten)]
    threads: crate::threads::ThreadArgs,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum RoleArg {
    Auto,
    Standby,
}

/// A ledger node's checked settings.
pub struct NodePlan {
    listen: SocketAddr,
    /// The node's configuration, less its holder name (made at start).
    config: NodeConfig,
    database_url: String,
}

/// Checks every setting and reports every problem at once, before anything is bound or opened.
pub fn plan(args: LedgerArgs) -> Result<Planned<NodePlan>, SettingProblems> {
    let mut problems = Problems::of::<LedgerArgs>();
    let worker_threads = args.threads.check(&mut problems);
    let database_url = match &args.database_url {
        Some(url) => crate::edge::check_postgres_url(&mut problems, "database_url", url),
        None => {
            problems.setting("database_url", "needed: the journal's PostgreSQL database");
            None
        }
    };
    match &args.nats_url {
        Some(url) => crate::edge::check_nats_url(&mut problems, "nats_url", url),
        None => problems.setting("nats_url", "needed: commands reach the node over NATS"),
    }
    let mut bus = BusConfig::new(
        args.nats_url.clone().unwrap_or_default(),
        args.partition_count,
    );
    bus.auth = args.nats_tls.check(args.nats_url.as_deref(), &mut problems);
    let partitions: Vec<u16> = if args.partitions.is_empty() {
        (0..bus.partitions).collect()
    } else {
        args.partitions.clone()
    };
    for partition in partitions.iter().filter(|p| **p >= bus.partitions) {
        problems.setting(
            "partitions",
            format!("partition {partition} is outside 0..{}", bus.partitions),
        );
    }
    let mut ledger = ledger_hosting(String::new(), partitions.len());
    ledger.commit_batch_max = args.commit_batch_max;
    ledger.commit_linger = Duration::from_micros(args.commit_linger_us);
    ledger.pg_lock_timeout = Duration::from_millis(args.pg_lock_timeout_ms);
    ledger.pg_idle_in_transaction_timeout =
        Duration::from_millis(args.pg_idle_in_transaction_timeout_ms);
    let mut config = NodeConfig::new(ledger, bus, partitions, String::new());
    config.role = match args.role {
        RoleArg::Auto => Role::Auto,
        RoleArg::Standby => Role::Standby,
    };
    config.lease = Duration::from_millis(args.lease_ms);
    config.lease_renew_interval = config.lease / 5;
    problems.extend("ledger", config.ledger.problems(), &[]);
    problems.extend(
        "node",
        config.problems(),
        &[
            ("the deployment needs", "partition_count"),
            // Derived from the lease (a fifth of it): a lease too short to divide.
            ("lease_renew_interval", "lease_ms"),
        ],
    );
    problems.finish()?;
    let Some(database_url) = database_url else {
        unreachable!("reported above");
    };
    config.ledger.store = StoreUrl::Postgres(database_url.clone());
    Ok(Planned {
        worker_threads,
        plan: NodePlan {
            listen: args.listen,
            config,
            database_url,
        },
    })
}

pub async fn run(plan: NodePlan) -> anyhow::Result<()> {
    let shutdown = crate::shutdown_signal();
    let listener = crate::bind(plan.listen).await?;
    let mut registry = Registry::default();
    let node = start(&plan.database_url, plan.config, &mut registry).await?;
    let app = picket_ledger::ops::node_router(node.clone(), Arc::new(registry));
    println!(
        "picket ledger node: http://{}/healthz (SIGTERM or Ctrl-C hands its leases back)",
        listener.local_addr()?
    );
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    // Leading partitions commit what they queued and release their leases: a standby takes
    // over at its next poll instead of after the lease.
    node.shutdown().await;
    println!("picket ledger node stopped; leases handed back");
    Ok(served?)
}

/// A ledger configuration on PostgreSQL with a pool large enough for `hosted` partitions: each
/// needs a writer's connection, a snapshot's and a follower's.
fn ledger_hosting(database_url: String, hosted: usize) -> LedgerConfig {
    let mut ledger = LedgerConfig::new(StoreUrl::Postgres(database_url));
    ledger.pg_connections_max = ledger.pg_connections_max.max(hosted as u32 * 3);
    ledger
}

/// A node hosting every partition of `bus`, as `picket up` runs it over NATS.
pub async fn start_node(
    database_url: &str,
    bus: BusConfig,
    partitions: Vec<u16>,
    registry: &mut Registry,
) -> anyhow::Result<Arc<Node>> {
    let ledger = ledger_hosting(database_url.to_owned(), partitions.len());
    let config = NodeConfig::new(ledger, bus, partitions, String::new());
    start(database_url, config, registry).await
}

/// Connects to PostgreSQL and NATS under a holder name unique to this process, and starts the
/// node.
async fn start(
    database_url: &str,
    mut config: NodeConfig,
    registry: &mut Registry,
) -> anyhow::Result<Arc<Node>> {
    let journal = PgJournal::connect_with(
        database_url,
        config.ledger.pg_connections_max,
        config.ledger.journal_connect_timeout,
        config.ledger.pg_session(),
    )
    .await?;
    config.holder = format!(
        "{}-{}-{:08x}",
        picket_gateway::config::unique_gateway_id(),
        std::process::id(),
        rand::random::<u32>()
    );
    let nats =
        picket_ledger_client::bus::connect_with(&config.bus.url, &config.bus.auth, &config.holder)
            .await?;
    let metrics = Arc::new(picket_ledger::metrics::Metrics::new(registry));
    let node = Node::start(config, journal, nats, metrics).await?;
    Ok(Arc::new(node))
}
