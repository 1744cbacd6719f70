//! `picket gateway`: the edge alone — the WebSocket, the waiting room and the HTTP API with the
//! browser UI ([`crate::edge`]) — in front of ledger nodes on NATS, the API's PostgreSQL
//! database, the waiting room in Redis (shared by every gateway) and a payment provider
//! elsewhere (`picket sandbox-pay` or Toss). It hosts no ledger partition and runs no payment
//! sandbox; the notifier runs here only when asked (`--notifier true`: `picket notifier` is its
//! own role). SIGTERM drains it: clients are told to reconnect elsewhere.

use std::sync::Arc;

use clap::Args;
use picket_gateway::QueueStore;
use picket_ledger_client::{BusConfig, LedgerClient, NatsLedger};
use picket_room::redis::RedisStore;
use prometheus_client::registry::Registry;

use crate::check::{Planned, Problems, SettingProblems};
use crate::edge::{self, Edge, EdgeArgs, EdgeParts, EdgePlan, Provider};

#[derive(Args)]
pub struct GatewayArgs {
    /// The API's PostgreSQL database (postgres://…; TLS: sslmode=verify-full&sslrootcert=…),
    /// the one the ledger nodes journal to: accounts, shows, the sales' records, inboxes.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// NATS with JetStream (nats://… or tls://…, may carry user:password; several
    /// comma-separated): commands to the ledger's partition leaders and their committed events,
    /// members' live notifications, and the platform's status.
    #[arg(long, env = "PICKET_NATS_URL", hide_env_values = true)]
    nats_url: Option<String>,
    #[command(flatten)]
    nats_tls: crate::tls::NatsTlsArgs,
    /// Redis (redis://… or rediss://… for TLS): the waiting room every gateway shares (run it
    /// with AOF).
    #[arg(long, env = "PICKET_REDIS_URL", hide_env_values = true)]
    redis_url: Option<String>,
    #[command(flatten)]
    redis_tls: crate::tls::RedisTlsArgs,
    /// Partitions of the deployment, as its ledger nodes have them.
    #[arg(long, env = "PICKET_PARTITIONS", default_value_t = 1)]
    partition_count: u16,
    /// Run the notifier in this process too (interest alerts, booking, refund and waitlist
    /// notices into members' inboxes). Off: `picket notifier` runs it; several are safe, but one
    /// is enough.
    #[arg(long, env = "PICKET_NOTIFIER", default_value_t = false, action = clap::ArgAction::Set)]
    notifier: bool,
    #[command(flatten)]
    edge: EdgeArgs,
}

/// A gateway's checked settings.
pub struct GatewayPlan {
    edge: EdgePlan,
    database_url: String,
    nats_url: String,
    redis_url: String,
    nats_auth: picket_ledger_client::NatsAuth,
    redis_tls: picket_room::redis::RedisTls,
    partition_count: u16,
    notifier: bool,
    provider: Provider,
}

/// Checks every setting and reports every problem at once, before anything is bound or opened.
pub fn plan(args: GatewayArgs) -> Result<Planned<GatewayPlan>, SettingProblems> {
    let mut problems = Problems::of::<GatewayArgs>();
    let worker_threads = args.edge.threads.check(&mut problems);
    let database_url = match &args.database_url {
        Some(url) => edge::check_postgres_url(&mut problems, "database_url", url),
        None => {
            problems.setting("database_url", "needed: the API's PostgreSQL database");
            None
        }
    };
    match &args.nats_url {
        Some(url) => edge::check_nats_url(&mut problems, "nats_url", url),
        None => problems.setting("nats_url", "needed: commands reach the ledger over NATS"),
    }
    match &args.redis_url {
        Some(url) => edge::check_redis_url(&mut problems, "redis_url", url),
        None => problems.setting(
            "redis_url",
            "needed: the waiting room is shared by every gateway in Redis",
        ),
    }
    let nats_auth = args.nats_tls.check(args.nats_url.as_deref(), &mut problems);
    let redis_tls = args
        .redis_tls
        .check(args.redis_url.as_deref(), &mut problems);
    if args.partition_count == 0 {
        problems.setting("partition_count", "must be at least 1");
    }
    let mut edge = edge::plan(args.edge, true, &mut problems);
    let provider = edge.provider.take();
    if provider.is_none() {
        problems.setting(
            "payments_base_url",
            "needed: a gateway pays through a provider (`picket sandbox-pay`, or Toss), never \
             a sandbox of its own",
        );
    }
    problems.finish()?;
    let (Some(database_url), Some(nats_url), Some(redis_url), Some(provider)) =
        (database_url, args.nats_url, args.redis_url, provider)
    else {
        unreachable!("a missing setting was reported above");
    };
    let provider = Provider::named(provider, edge.checkout_url.clone());
    Ok(Planned {
        worker_threads,
        plan: GatewayPlan {
            edge,
            database_url,
            nats_url,
            redis_url,
            nats_auth,
            redis_tls,
            partition_count: args.partition_count,
            notifier: args.notifier,
            provider,
        },
    })
}

pub async fn run(plan: GatewayPlan) -> anyhow::Result<()> {
    let shutdown = crate::shutdown_signal();
    let secrets = plan.edge.secrets()?;
    let listener = crate::bind(plan.edge.listen).await?;
    let queue: Arc<dyn QueueStore> =
        Arc::new(RedisStore::connect_tls(&plan.redis_url, &plan.redis_tls)?);
    let mut bus = BusConfig::new(plan.nats_url.clone(), plan.partition_count);
    bus.command_transport = plan.edge.command_transport;
    bus.auth = plan.nats_auth.clone();
    let ledger = LedgerClient::Nats(NatsLedger::connect(bus, &plan.edge.gateway.gateway_id).await?);
    let parts = EdgeParts {
        queue,
        ledger,
        ledger_partitions: (0..plan.partition_count).collect(),
        api_url: plan.database_url,
        nats_url: Some(plan.nats_url),
        nats_auth: plan.nats_auth,
        notifier: plan.notifier,
        provider: plan.provider,
    };
    let checkout_url = parts.provider.checkout_url.clone();
    let edge = Edge::start(plan.edge, secrets, parts, Registry::default()).await?;
    let address = listener.local_addr()?;
    println!("picket gateway: http://{address}/healthz (SIGTERM or Ctrl-C drains it)");
    println!("  WebSocket: ws://{address}/ws (subprotocol picket.v2)");
    println!("  payments: {checkout_url}");
    println!(
        "  notifier: {}",
        if plan.notifier {
            "in this process"
        } else {
            "none here (`picket notifier`)"
        }
    );
    edge.serve(listener, shutdown).await?;
    println!("picket gateway stopped");
    Ok(())
}
