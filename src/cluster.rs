//! `picket cluster`: Picket's production topology on this host from the installed binaries
//! (`picket_cluster::Cluster`), the one gateway port in front of it
//! (`picket_cluster::balancer`), and its secrets, made once in the data directory. Only wiring
//! lives here: the supervisor is the `picket-cluster` crate.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use picket_cluster::balancer::{self, Backends};
use picket_cluster::topology::SandboxKeys;
use picket_cluster::{Cluster, ClusterConfig, ClusterFile, Secrets};

use crate::check::{Planned, Problems, SettingProblems};

/// How often the supervisor looks for processes that ended by themselves.
const WATCH_INTERVAL: Duration = Duration::from_millis(250);

#[derive(Args)]
pub struct ClusterArgs {
    /// Directory every component gets its own subdirectory in (postgres-primary,
    /// postgres-replica, nats-0…, redis, ledger-0…, gateway-0…, notifier, sandbox-pay, secrets)
    /// and cluster.json. Reused across runs: started again on it, the cluster has its data.
    #[arg(long, env = "PICKET_CLUSTER_DATA_DIR", default_value = "data/cluster")]
    data_dir: PathBuf,
    /// The one gateway port: a TCP load balancer over the gateways (WebSockets pass; a dead
    /// gateway is skipped). Port 0: any free port (cluster.json names it).
    #[arg(long, env = "PICKET_CLUSTER_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Gateways behind the port (1 to 64).
    #[arg(long, env = "PICKET_CLUSTER_GATEWAYS", default_value_t = 3)]
    gateways: usize,
    /// Ledger partitions: performance p belongs to partition p mod this. Both ledger nodes host
    /// every partition (the first leads, the other stands by). Keep it across runs on one data
    /// directory.
    #[arg(long, env = "PICKET_PARTITIONS", default_value_t = 1)]
    partitions: u16,
    /// The ledger nodes' lease in milliseconds (100 to 60,000): a dead leader is replaced about
    /// this long after (default: `picket ledger`'s).
    #[arg(long, env = "PICKET_LEASE_MS")]
    lease_ms: Option<u64>,
}

/// Checks every setting and reports every problem at once, before anything is bound or started.
pub fn plan(args: ClusterArgs) -> Result<Planned<ClusterArgs>, SettingProblems> {
    let mut problems = Problems::of::<ClusterArgs>();
    let gateways_max = picket_cluster::topology::PROCESSES_PER_KIND_MAX;
    if args.gateways == 0 || args.gateways > gateways_max {
        problems.setting(
            "gateways",
            format!("must be 1 to {gateways_max}, got {}", args.gateways),
        );
    }
    if args.partitions == 0 {
        problems.setting("partitions", "must be at least 1");
    }
    // The bounds `picket ledger` checks its lease against.
    let (lease_min, lease_max) = (
        picket_ledger::node::LEASE_MIN,
        picket_ledger::node::LEASE_MAX,
    );
    if let Some(lease_ms) = args.lease_ms
        && !(lease_min..=lease_max).contains(&Duration::from_millis(lease_ms))
    {
        problems.setting(
            "lease_ms",
            format!(
                "must be {} to {}, got {lease_ms}",
                lease_min.as_millis(),
                lease_max.as_millis()
            ),
        );
    }
    problems.finish()?;
    // The supervisor runs on tokio's default runtime; its children are given their own.
    Ok(Planned {
        worker_threads: None,
        plan: args,
    })
}

/// The secrets every gateway shares, made on the first start in `<data_dir>/secrets` (readable
/// by the owner only) and read back on later ones, as `picket up` keeps its own.
fn secrets(data_dir: &Path) -> anyhow::Result<Secrets> {
    use picket_edge::secret;
    let dir = data_dir.join("secrets");
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let operator_token_file = dir.join("operator-token");
    let operator_token = secret::load_or_create(&operator_token_file, || {
        format!("{:032x}", rand::random::<u128>())
    })?;
    let token_keys = secret::load_keys(None, &dir.join("token-keys"))?.to_spec();
    let ticket_key = secret::load_ticket_key(None, &dir.join("ticket-key"))?;
    let ticket_key: String = ticket_key.0.iter().map(|b| format!("{b:02x}")).collect();
    let vapid = picket_api::vapid::load_vapid_keys(
        None,
        picket_api::vapid::VAPID_SUBJECT_DEFAULT,
        &dir.join("vapid-key"),
    )?;
    let sandbox = picket_sandbox_pay::Keys::resolve(&picket_sandbox_pay::SandboxConfig::new(
        dir.join("sandbox-pay"),
    ))
    .map_err(|e| anyhow::anyhow!("the payment sandbox's keys: {e}"))?;
    Ok(Secrets {
        operator_token,
        operator_token_file: Some(operator_token_file),
        token_keys,
        ticket_key: Some(ticket_key),
        vapid_private_key: Some(vapid.private_key_base64url()),
        sandbox: Some(SandboxKeys {
            secret_key: sandbox.secret_key,
            client_key: sandbox.client_key,
            webhook_secret: sandbox.webhook_secret,
        }),
    })
}

pub async fn run(args: ClusterArgs) -> anyhow::Result<()> {
    let shutdown = crate::shutdown_signal();
    let picket = std::env::current_exe().context("finding the picket binary")?;
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create {}", args.data_dir.display()))?;
    // Absolute: every process works in its own directory.
    let data_dir = std::fs::canonicalize(&args.data_dir)
        .with_context(|| format!("cannot resolve {}", args.data_dir.display()))?;
    let listener = crate::bind(args.listen).await?;
    let mut front = listener.local_addr()?;
    if front.ip().is_unspecified() {
        front.set_ip(std::net::Ipv4Addr::LOCALHOST.into());
    }
    let mut config = ClusterConfig::production(picket, data_dir.clone(), secrets(&data_dir)?);
    config.front = Some(front);
    config.gateways = args.gateways;
    config.partitions = args.partitions;
    config.lease_ms = args.lease_ms;
    println!("picket cluster: starting in {}", data_dir.display());
    // A Ctrl-C at the terminal must reach this process alone: it stops the others in order.
    picket_cluster::process::start_children_in_own_process_groups();
    let mut cluster = tokio::task::spawn_blocking(move || Cluster::start(config))
        .await
        .context("starting the cluster")??;
    let file = cluster.file();
    let backends = Backends::new(
        cluster
            .gateways
            .iter()
            .map(|g| Ok((g.name.clone(), g.address().parse()?)))
            .collect::<anyhow::Result<_>>()?,
    );
    let (stop_balancer, balancer_stopped) = tokio::sync::oneshot::channel::<()>();
    let balancer = tokio::spawn(balancer::run(listener, backends.clone(), async move {
        let _ = balancer_stopped.await;
    }));
    print_table(&file, &data_dir);
    tokio::pin!(shutdown);
    let mut watch = tokio::time::interval(WATCH_INTERVAL);
    loop {
        tokio::select! {
            _ = &mut shutdown => break,
            _ = watch.tick() => {}
        }
        let exits = cluster.exited();
        for exit in &exits {
            eprintln!(
                "picket cluster: {} ({}, pid {}) exited: {}; log: {}",
                exit.name,
                exit.role,
                exit.pid.map_or("-".to_owned(), |pid| pid.to_string()),
                exit.status,
                exit.log.display()
            );
            if exit.role == "gateway" {
                backends.mark_down(&exit.name);
                if backends.up().is_empty() {
                    eprintln!("picket cluster: no gateway is left behind {front}");
                }
            }
        }
        if !exits.is_empty()
            && let Err(error) = cluster.write_file()
        {
            eprintln!("picket cluster: {error}");
        }
    }
    println!("picket cluster: stopping (gateways drain first)");
    let _ = stop_balancer.send(());
    let _ = balancer.await;
    tokio::task::spawn_blocking(move || {
        cluster.stop();
        let _ = cluster.write_file();
    })
    .await
    .context("stopping the cluster")?;
    println!("picket cluster stopped");
    Ok(())
}

/// What runs where, for the operator.
fn print_table(file: &ClusterFile, data_dir: &Path) {
    let url = file.url.as_deref().unwrap_or_default();
    println!("picket cluster is up: {url}/ (Ctrl-C to stop)");
    if let Some(ws) = &file.websocket_url {
        println!("  WebSocket: {ws} (subprotocol picket.v2), over the gateways below");
    }
    if let Some(token) = &file.operator_token_file {
        println!("  operator token: {} (file)", token.display());
    }
    println!("  database: {}", file.database_url);
    if let Some(replica) = &file.database_read_url {
        println!("  read replica: {replica}");
    }
    println!("  NATS: {}", file.nats_urls.join(", "));
    println!("  Redis: {}", file.redis_url);
    if let Some(sandbox) = &file.sandbox_pay_url {
        println!(
            "  payments: sandbox checkout {sandbox}/checkout (test cards in docs/payments.md)"
        );
    }
    println!(
        "  cluster.json: {}",
        data_dir
            .join(picket_cluster::topology::CLUSTER_FILE)
            .display()
    );
    println!();
    println!(
        "  {:<18} {:<17} {:>8}  {:<44} LOG",
        "NAME", "ROLE", "PID", "PORTS"
    );
    for process in &file.processes {
        let ports: Vec<String> = process
            .ports
            .iter()
            .map(|(name, port)| format!("{name} {port}"))
            .collect();
        let log = process
            .log
            .strip_prefix(data_dir)
            .unwrap_or(&process.log)
            .display()
            .to_string();
        println!(
            "  {:<18} {:<17} {:>8}  {:<44} {log}",
            process.name,
            process.role,
            process.pid.map_or("-".to_owned(), |pid| pid.to_string()),
            ports.join(", ")
        );
    }
}
