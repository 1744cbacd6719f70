//! `picket notifier`: the notifier as its own process, beside ledger nodes on NATS and the API's
//! PostgreSQL database (`picket_notifier::run` does the work; only wiring lives here), with an
//! ops port (`/healthz`, `/metrics`) answered as a ledger node's is (`picket_ledger::ops`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use clap::Args;
use picket_ledger_client::{BusConfig, LedgerClient, NatsLedger};
use prometheus_client::registry::Registry;

use crate::check::{Planned, Problems, SettingProblems};

#[derive(Args)]
pub struct NotifierArgs {
    /// Address of the ops HTTP listener (/healthz, /metrics).
    #[arg(long, env = "PICKET_NOTIFIER_LISTEN", default_value = "127.0.0.1:8083")]
    listen: SocketAddr,
    /// NATS with JetStream (nats://… or tls://…, may carry user:password), where the ledger's
    /// committed entries are.
    #[arg(long, env = "PICKET_NATS_URL", hide_env_values = true)]
    nats_url: Option<String>,
    #[command(flatten)]
    nats_tls: crate::tls::NatsTlsArgs,
    /// The API's PostgreSQL database (postgres://…; TLS: sslmode=verify-full&sslrootcert=…),
    /// where the inboxes are.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// Partitions of the deployment.
    #[arg(long, env = "PICKET_PARTITIONS", default_value_t = 1)]
    partition_count: u16,
    /// The durable JetStream consumer it reads each partition's events stream with (one
    /// notifier per name; a restarted notifier takes its consumer over).
    #[arg(long, env = "PICKET_NOTIFIER_CONSUMER", default_value = picket_notifier::CONSUMER_DEFAULT)]
    consumer: String,
    /// The VAPID private key Web Push is signed with (base64url P-256 scalar): the same key as
    /// the API's (whose public half browsers subscribed with). Unset: no Web Push from this
    /// process (the inbox and the live channel still work).
    #[arg(long, env = "PICKET_VAPID_PRIVATE_KEY", hide_env_values = true)]
    vapid_private_key: Option<String>,
    /// The contact push services see in VAPID tokens (mailto: or https:).
    #[arg(long, env = "PICKET_VAPID_SUBJECT", default_value = picket_api::vapid::VAPID_SUBJECT_DEFAULT)]
    vapid_subject: String,
    #[command(flatten)]
    threads: crate::threads::ThreadArgs,
}

/// The notifier's checked settings.
pub struct NotifierPlan {
    listen: SocketAddr,
    nats_url: String,
    nats_auth: picket_ledger_client::NatsAuth,
    database_url: String,
    partition_count: u16,
    consumer: String,
    vapid: Option<picket_api::vapid::VapidKeys>,
}

/// Checks every setting and reports every problem at once, before anything is opened.
pub fn plan(args: NotifierArgs) -> Result<Planned<NotifierPlan>, SettingProblems> {
    let mut problems = Problems::of::<NotifierArgs>();
    let worker_threads = args.threads.check(&mut problems);
    if args.partition_count == 0 {
        problems.setting("partition_count", "must be at least 1");
    }
    let database_url = match &args.database_url {
        Some(url) => crate::edge::check_postgres_url(&mut problems, "database_url", url),
        None => {
            problems.setting(
                "database_url",
                "needed: the API's PostgreSQL database, where the inboxes are",
            );
            None
        }
    };
    match &args.nats_url {
        Some(url) => crate::edge::check_nats_url(&mut problems, "nats_url", url),
        None => problems.setting("nats_url", "needed: the ledger's events are on NATS"),
    }
    if args.consumer.is_empty()
        || args.consumer.len() > picket_ledger_client::follow::FOLLOWER_NAME_LEN_MAX
        || !args
            .consumer
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        problems.setting(
            "consumer",
            "1 to 64 letters, digits, '-' or '_' (a JetStream consumer name)",
        );
    }
    let vapid = args
        .vapid_private_key
        .as_deref()
        .and_then(|key| crate::edge::check_vapid(&mut problems, key, &args.vapid_subject));
    let nats_auth = args.nats_tls.check(args.nats_url.as_deref(), &mut problems);
    problems.finish()?;
    let (Some(nats_url), Some(database_url)) = (args.nats_url, database_url) else {
        unreachable!("a missing setting was reported above");
    };
    Ok(Planned {
        worker_threads,
        plan: NotifierPlan {
            listen: args.listen,
            nats_url,
            nats_auth,
            database_url,
            partition_count: args.partition_count,
            consumer: args.consumer,
            vapid,
        },
    })
}

/// How long `/healthz` waits for the store to read the notifier's cursors: a store slower than
/// this counts as unreachable (a probe's own timeout is a few seconds).
pub const HEALTH_STORE_WAIT_MAX: Duration = Duration::from_millis(2_000);

/// What the ops port reads.
struct Ops {
    store: picket_api::store::Store,
    /// The connection live notices go out on.
    nats: async_nats::Client,
    partition_count: u16,
    registry: Registry,
}

/// The ops router: `/healthz` and `/metrics`, both without a token, like a ledger node's.
fn ops_router(ops: Arc<Ops>) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .with_state(ops)
}

/// 200 while the notifier can work: NATS connected and the store answering within
/// [`HEALTH_STORE_WAIT_MAX`]; 503 otherwise. Says how far it has written each partition's
/// notifications (its cursors: the journal sequence of the last entry done, 0 for none yet).
async fn healthz(State(ops): State<Arc<Ops>>) -> Response {
    let nats_state = ops.nats.connection_state();
    let nats_connected = nats_state == async_nats::connection::State::Connected;
    let cursors =
        match tokio::time::timeout(HEALTH_STORE_WAIT_MAX, ops.store.notifier_cursors()).await {
            Ok(Ok(cursors)) => Some(cursors),
            Ok(Err(error)) => {
                tracing::warn!(%error, "healthz: the store did not answer");
                None
            }
            Err(_) => {
                tracing::warn!(
                    wait_ms = HEALTH_STORE_WAIT_MAX.as_millis() as u64,
                    "healthz: the store did not answer in time"
                );
                None
            }
        };
    let healthy = nats_connected && cursors.is_some();
    let partitions: Option<Vec<serde_json::Value>> = cursors.map(|cursors| {
        (0..ops.partition_count)
            .map(|partition| {
                let seq = cursors
                    .iter()
                    .find(|(p, _)| *p == partition)
                    .map_or(0, |(_, seq)| *seq);
                serde_json::json!({"partition": partition, "cursor": seq})
            })
            .collect()
    });
    let body = serde_json::json!({
        "healthy": healthy,
        "nats": {"connected": nats_connected, "state": nats_state.to_string()},
        "store": {"reachable": partitions.is_some()},
        "partitions": partitions,
    });
    picket_ledger::ops::health_response(healthy, &body)
}

async fn metrics(State(ops): State<Arc<Ops>>) -> Response {
    picket_ledger::ops::metrics_response(&ops.registry)
}

pub async fn run(args: NotifierPlan) -> anyhow::Result<()> {
    let vapid = args.vapid;
    let nats_auth = args.nats_auth.clone();
    let shutdown = crate::shutdown_signal();
    // Bound before anything is opened: a taken port fails at once.
    let listener = crate::bind(args.listen).await?;
    let store = picket_api::store::Store::connect(&args.database_url)
        .await
        .context("opening the API's database")?;
    let mut bus = BusConfig::new(args.nats_url.clone(), args.partition_count);
    bus.auth = nats_auth.clone();
    let ledger = LedgerClient::Nats(NatsLedger::connect(bus, "picket-notifier").await?);
    let nats = picket_ledger_client::bus::connect_with(
        &args.nats_url,
        &nats_auth,
        "picket-notifier-delivery",
    )
    .await?;
    let mut registry = Registry::default();
    let delivery_metrics = Arc::new(picket_notifier::deliver::DeliveryMetrics::default());
    delivery_metrics.register(&mut registry);
    let ops = Arc::new(Ops {
        store: store.clone(),
        nats: nats.clone(),
        partition_count: args.partition_count,
        registry,
    });
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let wakes = picket_notifier::Wakes::default();
    // The API announces every published show on NATS: it wakes the notifier at once.
    tokio::spawn(picket_notifier::wake_on_announcements(
        nats.clone(),
        store.clone(),
        args.consumer.clone(),
        wakes.published.clone(),
        stopped.clone(),
    ));
    let web_push: Option<std::sync::Arc<dyn picket_notifier::deliver::PushChannel>> = match vapid {
        Some(vapid) => Some(std::sync::Arc::new(
            picket_notifier::push_channel::WebPush::new(
                store.clone(),
                picket_notifier::push::PushSender::new(
                    vapid,
                    picket_notifier::push::PushLimits::default(),
                )?,
            ),
        )),
        None => {
            tracing::warn!("PICKET_VAPID_PRIVATE_KEY is not set: no Web Push from this notifier");
            None
        }
    };
    // What is written goes to the members' subjects, which their gateways follow, and to
    // members' devices by Web Push.
    let delivery = tokio::spawn(picket_notifier::deliver::run(
        store.clone(),
        picket_notifier::deliver::Channels {
            notices: Some(picket_ledger_client::Notices::nats(nats)),
            push: web_push,
        },
        delivery_metrics,
        wakes.written.clone(),
        stopped.clone(),
    ));
    let notifier = tokio::spawn(picket_notifier::run_woken(
        store,
        ledger,
        picket_notifier::NotifierConfig {
            partitions: (0..args.partition_count).collect(),
            consumer: args.consumer,
        },
        wakes,
        stopped,
    ));
    println!(
        "picket notifier is up: http://{}/healthz (SIGTERM or Ctrl-C stops it)",
        listener.local_addr()?
    );
    let (stop_serving, serving_stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, ops_router(ops))
            .with_graceful_shutdown(async {
                let _ = serving_stopped.await;
            })
            .await
    });
    shutdown.await;
    let _ = stop.send(true);
    notifier.await.context("the notifier stopped")?;
    delivery.await.context("the delivery loop stopped")?;
    // The ops port answers until the notifier has finished: a probe sees it healthy while it
    // drains, and gone after.
    let _ = stop_serving.send(());
    server
        .await
        .context("the ops port stopped")?
        .context("serving the ops port")?;
    println!("picket notifier stopped");
    Ok(())
}
