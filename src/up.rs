//! `picket up`: every component in one process — the edge ([`crate::edge`], the same one
//! `picket gateway` serves), a ledger, the notifier and the payment sandbox. The ledger journals
//! to a SQLite file (or PostgreSQL), commands reach it in process (or over NATS, where this
//! process is also a ledger node), the waiting room lives in memory (or Redis), and one listener
//! serves the WebSocket, the HTTP API, the browser UI (`picket-web`), `/healthz` and `/metrics`
//! (the latter with the operator token).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use picket_gateway::QueueStore;
use picket_ledger::{LedgerConfig, LedgerService, Node, StoreUrl};
use picket_ledger_client::{BusConfig, LedgerClient, NatsLedger};
use picket_room::memory::{MemoryStore, SAVE_INTERVAL};
use picket_room::redis::RedisStore;
use prometheus_client::registry::Registry;

use crate::check::{Planned, Problems, SettingProblems};
use crate::edge::{self, Edge, EdgeArgs, EdgeParts, EdgePlan, Provider};

#[derive(Args)]
pub struct UpArgs {
    /// Journal database: postgres://… to use PostgreSQL instead of the embedded SQLite file
    /// (TLS: sslmode=verify-full&sslrootcert=…).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Waiting-room store shared by gateways: redis://… or rediss://… (TLS) (default: in
    /// memory, one process).
    #[arg(long, env = "PICKET_REDIS_URL", hide_env_values = true)]
    redis_url: Option<String>,
    #[command(flatten)]
    redis_tls: crate::tls::RedisTlsArgs,
    /// NATS with JetStream (nats://… or tls://…, may carry user:password): commands go to the
    /// ledger over it instead of in process, and this process is a ledger node hosting every
    /// partition. Needs DATABASE_URL to name PostgreSQL.
    #[arg(long, env = "PICKET_NATS_URL", hide_env_values = true)]
    nats_url: Option<String>,
    #[command(flatten)]
    nats_tls: crate::tls::NatsTlsArgs,
    /// Run the notifier in this process (interest alerts, booking, refund and waitlist notices
    /// into members' inboxes, and their delivery to connected apps). Turn it off when `picket
    /// notifier` runs elsewhere; several are safe (each reads through its own durable
    /// consumer), but one is enough.
    #[arg(long, env = "PICKET_NOTIFIER", default_value_t = true, action = clap::ArgAction::Set)]
    notifier: bool,
    /// Partitions of the deployment (with NATS; this process hosts all of them).
    #[arg(long, env = "PICKET_PARTITIONS", default_value_t = 1)]
    partition_count: u16,
    /// Where the in-process payment sandbox listens (loopback; port 0: any free port). Unused
    /// with PICKET_PAYMENTS_BASE_URL.
    #[arg(
        long,
        env = "PICKET_UP_SANDBOX_PAY_LISTEN",
        default_value = "127.0.0.1:0"
    )]
    sandbox_pay_listen: SocketAddr,
    #[command(flatten)]
    edge: EdgeArgs,
}

/// What the settings add up to, once every one of them was checked.
pub struct UpPlan {
    edge: EdgePlan,
    store: StoreUrl,
    /// With NATS: the bus, and the PostgreSQL URL the ledger node journals to.
    bus: Option<(BusConfig, String)>,
    redis_url: Option<String>,
    notifier: bool,
    api_url: String,
    payments: PaymentsPlan,
    /// TLS for Redis (NATS's, with the URL, is `bus`'s).
    redis_tls: picket_room::redis::RedisTls,
}

/// Which provider buyers pay through.
enum PaymentsPlan {
    /// The sandbox in this process, its data and keys in this directory.
    Sandbox {
        listen: SocketAddr,
        data_dir: PathBuf,
    },
    /// A provider elsewhere (Toss, or a `picket sandbox-pay` process).
    Provider(Provider),
}

/// Checks every setting and reports every problem at once, before anything is bound or opened.
pub fn plan(args: UpArgs) -> Result<Planned<UpPlan>, SettingProblems> {
    let mut problems = Problems::of::<UpArgs>();
    let worker_threads = args.edge.threads.check(&mut problems);
    let store = match &args.database_url {
        Some(url) => match StoreUrl::parse(url) {
            Some(StoreUrl::Postgres(url)) => {
                edge::check_postgres_url(&mut problems, "database_url", &url)
                    .map(StoreUrl::Postgres)
            }
            Some(store) => Some(store),
            None => {
                problems.setting("database_url", "must be postgres://… or sqlite://PATH");
                None
            }
        },
        None => Some(StoreUrl::Sqlite(args.edge.data_dir.join("ledger.sqlite"))),
    };
    if let Some(url) = &args.nats_url {
        edge::check_nats_url(&mut problems, "nats_url", url);
    }
    if let Some(url) = &args.redis_url {
        edge::check_redis_url(&mut problems, "redis_url", url);
    }
    let nats_auth = args.nats_tls.check(args.nats_url.as_deref(), &mut problems);
    let redis_tls = args
        .redis_tls
        .check(args.redis_url.as_deref(), &mut problems);
    let bus = match (&args.nats_url, &store) {
        (Some(nats_url), Some(StoreUrl::Postgres(database_url))) => {
            let mut bus = BusConfig::new(nats_url.clone(), args.partition_count);
            bus.command_transport = args.edge.command_transport;
            bus.auth = nats_auth.clone();
            Some((bus, database_url.clone()))
        }
        (Some(_), _) => {
            problems.setting("nats_url", "needs DATABASE_URL to name PostgreSQL");
            None
        }
        (None, _) => None,
    };
    if args.partition_count == 0 {
        problems.setting("partition_count", "must be at least 1");
    }
    if args.edge.database_read_url.is_some() && !matches!(store, Some(StoreUrl::Postgres(_))) {
        problems.setting(
            "database_read_url",
            "is a replica of DATABASE_URL, which must name PostgreSQL",
        );
    }
    let sandbox_data_dir = args.edge.data_dir.join("sandbox-pay");
    let mut edge = edge::plan(args.edge, false, &mut problems);
    let payments = match edge.provider.take() {
        Some(config) => PaymentsPlan::Provider(Provider::named(config, edge.checkout_url.clone())),
        None => {
            if !args.sandbox_pay_listen.ip().is_loopback() {
                problems.setting("sandbox_pay_listen", "must be a loopback address");
            }
            PaymentsPlan::Sandbox {
                listen: args.sandbox_pay_listen,
                data_dir: sandbox_data_dir,
            }
        }
    };
    problems.finish()?;
    let Some(store) = store else {
        unreachable!("a failed check was reported above");
    };
    let api_url = match &args.database_url {
        Some(url) => url.clone(),
        None => format!(
            "sqlite://{}?mode=rwc",
            edge.data_dir.join("api.sqlite").display()
        ),
    };
    Ok(Planned {
        worker_threads,
        plan: UpPlan {
            edge,
            store,
            bus,
            redis_url: args.redis_url,
            notifier: args.notifier,
            api_url,
            payments,
            redis_tls,
        },
    })
}

/// Starts the payment sandbox in this process; webhooks go to this process's
/// `/api/v2/payments/webhook` at `address`.
async fn start_sandbox(
    listen: SocketAddr,
    data_dir: PathBuf,
    webhook_signatures: picket_payments::WebhookSignatures,
    address: SocketAddr,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> anyhow::Result<(Provider, tokio::task::JoinHandle<()>)> {
    let mut config = picket_sandbox_pay::SandboxConfig::new(data_dir);
    config.listen = listen;
    config.webhook_urls = vec![format!("http://{address}/api/v2/payments/webhook")];
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("cannot create {}", config.data_dir.display()))?;
    let keys = picket_sandbox_pay::Keys::resolve(&config)?;
    let listener = crate::bind(listen).await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    let task = tokio::spawn(async move {
        let stopped = async move {
            let _ = stop.await;
        };
        if let Err(error) = picket_sandbox_pay::run_on(config, listener, stopped).await {
            tracing::error!(%error, "the payment sandbox stopped");
        }
    });
    let mut provider = picket_payments::TossConfig::new(
        base_url.clone(),
        keys.secret_key,
        keys.client_key,
        keys.webhook_secret,
    );
    provider.webhook_signatures = webhook_signatures;
    Ok((
        Provider::sandbox(provider, format!("{base_url}/checkout")),
        task,
    ))
}

pub async fn run(plan: UpPlan) -> anyhow::Result<()> {
    let shutdown = crate::shutdown_signal();
    let secrets = plan.edge.secrets()?;
    let data_dir = plan.edge.data_dir.clone();
    let listener = crate::bind(plan.edge.listen).await?;
    // Without Redis the waiting room lives in this process and is saved in the data directory,
    // so sales, their draws and places survive a restart.
    let (queue, saved_room): (Arc<dyn QueueStore>, Option<MemoryStore>) = match &plan.redis_url {
        Some(url) => (
            Arc::new(RedisStore::connect_tls(url, &plan.redis_tls)?),
            None,
        ),
        None => {
            let room = MemoryStore::open(data_dir.join("waiting-room.json"))?;
            tokio::spawn(save_room_every_interval(room.clone()));
            (Arc::new(room.clone()), Some(room))
        }
    };
    let mut registry = Registry::default();
    let gateway_id = plan.edge.gateway.gateway_id.clone();
    // The partitions this deployment's ledger has (one in process; the bus's over NATS).
    let ledger_partitions: Vec<u16> = match &plan.bus {
        None => vec![0],
        Some((bus, _)) => (0..bus.partitions).collect(),
    };
    // NATS for the edge too (announcements, notices, the status board): the bus's URL and files.
    let (nats_url, nats_auth) = match &plan.bus {
        Some((bus, _)) => (Some(bus.url.clone()), bus.auth.clone()),
        None => (None, picket_ledger_client::NatsAuth::default()),
    };
    let (ledger, client) = match plan.bus {
        None => {
            let service =
                LedgerService::start(&LedgerConfig::new(plan.store), &mut registry).await?;
            let client = LedgerClient::in_process(service.handle.clone());
            (UpLedger::InProcess(service), client)
        }
        Some((bus, database_url)) => {
            let node = crate::node::start_node(
                &database_url,
                bus.clone(),
                ledger_partitions.clone(),
                &mut registry,
            )
            .await?;
            let client = LedgerClient::Nats(NatsLedger::connect(bus, &gateway_id).await?);
            (UpLedger::Node(node), client)
        }
    };
    let address = listener.local_addr()?;
    let (stop_sandbox, sandbox_stopped) = tokio::sync::oneshot::channel();
    let (provider, sandbox) = match plan.payments {
        PaymentsPlan::Provider(provider) => (provider, None),
        PaymentsPlan::Sandbox { listen, data_dir } => {
            let signatures = plan.edge.webhook_signatures;
            let (provider, task) =
                start_sandbox(listen, data_dir, signatures, address, sandbox_stopped).await?;
            (provider, Some(task))
        }
    };
    let checkout_url = provider.checkout_url.clone();
    let parts = EdgeParts {
        queue,
        ledger: client,
        ledger_partitions,
        api_url: plan.api_url,
        nats_url,
        nats_auth,
        notifier: plan.notifier,
        provider,
    };
    let edge = Edge::start(plan.edge, secrets, parts, registry).await?;
    println!("picket is up: http://{address}/healthz (Ctrl-C to stop)");
    println!("  WebSocket: ws://{address}/ws (subprotocol picket.v2)");
    println!(
        "  operator token: {} (file)",
        data_dir.join("operator-token").display()
    );
    match sandbox {
        Some(_) => println!(
            "  payments: sandbox checkout {checkout_url} (test cards in docs/payments.md; keys in {})",
            data_dir.join("sandbox-pay").display()
        ),
        None => println!("  payments: {checkout_url}"),
    }
    println!(
        "  web: http://{address}/ (buyers), http://{address}/staff/ (door staff), \
         http://{address}/seller/ (sellers), http://{address}/admin/ (admins)"
    );
    let served = edge.serve(listener, shutdown).await;
    let _ = stop_sandbox.send(());
    if let Some(sandbox) = sandbox {
        let _ = sandbox.await;
    }
    match ledger {
        UpLedger::InProcess(service) => service.writer.shutdown().await,
        UpLedger::Node(node) => node.shutdown().await,
    }
    if let Some(room) = saved_room {
        tokio::task::spawn_blocking(move || room.save())
            .await
            .context("saving the waiting room")??;
    }
    served?;
    println!("picket stopped; journal flushed");
    Ok(())
}

/// Saves the in-process waiting room whenever it changed, every [`SAVE_INTERVAL`]; a failed
/// save is logged and tried again at the next interval.
async fn save_room_every_interval(room: MemoryStore) {
    let mut interval = tokio::time::interval(SAVE_INTERVAL);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        interval.tick().await;
        let room = room.clone();
        match tokio::task::spawn_blocking(move || room.save()).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::warn!(%error, "the waiting room could not be saved"),
            Err(error) => tracing::warn!(%error, "saving the waiting room failed"),
        }
    }
}

/// The ledger `picket up` runs: in process, or a node over NATS.
enum UpLedger {
    InProcess(LedgerService),
    Node(Arc<Node>),
}
