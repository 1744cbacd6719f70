//! `picket up`: every component in one process. The ledger journals to a SQLite file (or
//! PostgreSQL), commands reach it in process (or over NATS), the waiting room lives in memory (or
//! Redis), and one listener serves the WebSocket, the HTTP API, the browser UI (`picket-web`),
//! `/healthz` and `/metrics` (the latter with the operator token).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use picket_gateway::{Gateway, GatewayConfig, QueueStore};
use picket_ledger::{LedgerConfig, LedgerService, Node, StoreUrl};
use picket_ledger_client::{BusConfig, CommandTransport, LedgerClient, NatsLedger};
use picket_room::memory::{MemoryStore, SAVE_INTERVAL};
use picket_room::redis::RedisStore;
use prometheus_client::registry::Registry;

use crate::check::Problems;

/// The gateway's defaults, for `--help`: the binary repeats no default of a component.
fn gateway_defaults() -> GatewayConfig {
    GatewayConfig::new("defaults")
}

#[derive(Args)]
pub struct UpArgs {
    /// Address of the HTTP listener (/ws, /api, the browser UI at / and /staff/, /healthz, and
    /// /metrics with the operator token).
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
    /// The key ticket codes' keys derive from, 64 hex digits; every process serving the API
    /// must have the same (default: a file in the data directory, created on first start).
    #[arg(long, env = "PICKET_TICKET_KEY", hide_env_values = true)]
    ticket_key: Option<String>,
    /// The VAPID private key Web Push requests are signed with: base64url of a P-256 scalar
    /// (32 bytes). Browsers' subscriptions are bound to its public key, so every process serving
    /// the API or sending pushes must have the same (default: a file in the data directory,
    /// created on first start).
    #[arg(long, env = "PICKET_VAPID_PRIVATE_KEY", hide_env_values = true)]
    vapid_private_key: Option<String>,
    /// The contact push services may write to about this server's pushes: mailto:… or
    /// https://… (RFC 8292's `sub`).
    #[arg(long, env = "PICKET_VAPID_SUBJECT", default_value = picket_api::vapid::VAPID_SUBJECT_DEFAULT)]
    vapid_subject: String,
    /// Most open WebSocket connections (one more is told to try again later), 1 to 19,900 and at
    /// most files_max - files_reserved.
    #[arg(long, env = "PICKET_CONNECTIONS_MAX", default_value_t = gateway_defaults().connections_max)]
    connections_max: usize,
    /// Milliseconds a request's headers have to arrive once the connection is ready for one (when
    /// it opens, and after each response: this also ends idle keep-alive connections).
    #[arg(
        long,
        env = "PICKET_HEADER_READ_TIMEOUT_MS",
        default_value_t = gateway_defaults().header_read_timeout.as_millis() as u64
    )]
    header_read_timeout_ms: u64,
    /// Milliseconds without a byte either way after which an HTTP connection (not a WebSocket)
    /// is closed, whatever it was doing.
    #[arg(
        long,
        env = "PICKET_HTTP_IDLE_TIMEOUT_MS",
        default_value_t = gateway_defaults().http_idle_timeout.as_millis() as u64
    )]
    http_idle_timeout_ms: u64,
    /// Most open connections that have not become WebSockets; more are closed as accepted.
    #[arg(
        long,
        env = "PICKET_HTTP_CONNECTIONS_MAX",
        default_value_t = gateway_defaults().http_connections_max
    )]
    http_connections_max: usize,
    /// Most open connections (HTTP and WebSocket) from one client address; more are closed as
    /// accepted.
    #[arg(
        long,
        env = "PICKET_CONNECTIONS_PER_ADDRESS_MAX",
        default_value_t = gateway_defaults().connections_per_address_max
    )]
    connections_per_address_max: usize,
    /// Files this process may open (the process' own limit applies when lower).
    #[arg(long, env = "PICKET_FILES_MAX", default_value_t = gateway_defaults().files_max)]
    files_max: usize,
    /// Files kept free of client connections for the stores, the ledger and connections already
    /// open: accepting stops at files_max - files_reserved connections (logged, and
    /// picket_gateway_accept_paused in the metrics) and resumes when some close.
    #[arg(
        long,
        env = "PICKET_FILES_RESERVED",
        default_value_t = gateway_defaults().files_reserved
    )]
    files_reserved: usize,
    /// A read replica of DATABASE_URL for reads that may be slightly stale (browsing, show
    /// pages, boards).
    #[arg(long, env = "DATABASE_READ_URL")]
    database_read_url: Option<String>,
    /// NATS with JetStream (nats://…): commands go to the ledger over it instead of in
    /// process. Needs DATABASE_URL to name PostgreSQL.
    #[arg(long, env = "PICKET_NATS_URL")]
    nats_url: Option<String>,
    /// Run the notifier in this process (interest alerts, booking, refund and waitlist notices
    /// into members' inboxes, and their delivery to connected apps). Turn it off when `picket
    /// notifier` runs elsewhere; several are safe (each reads through its own durable
    /// consumer), but one is enough.
    #[arg(long, env = "PICKET_NOTIFIER", default_value_t = true, action = clap::ArgAction::Set)]
    notifier: bool,
    /// Partitions of the deployment (with NATS; this process hosts all of them).
    #[arg(long, env = "PICKET_PARTITIONS", default_value_t = 1)]
    partition_count: u16,
    /// With NATS, how this process sends commands to the ledger's partition leaders: `direct`
    /// (core NATS request-reply to the leader) or `jetstream` (the partition's command stream).
    /// Leaders serve both, so processes may differ.
    #[arg(
        long,
        env = "PICKET_COMMAND_TRANSPORT",
        default_value = BusConfig::new(String::new(), 1).command_transport.as_str()
    )]
    command_transport: CommandTransport,
    /// How often waiting clients get their position, in milliseconds (100 to 2,000).
    #[arg(
        long,
        env = "PICKET_PUSH_INTERVAL_MS",
        default_value_t = gateway_defaults().push_interval.as_millis() as u64
    )]
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
    /// Reverse proxies or load balancers in front of picket, `addr[,addr…]`: only from these
    /// peers do `Forwarded` / `X-Forwarded-For` name the client that sign-in and guest-lookup
    /// limits count by. Default: none, the TCP peer is the client.
    #[arg(long, env = "PICKET_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// Milliseconds between the API's checks of the waiting room's sales (100 to 60,000): a sale
    /// its store lost (Redis without persistence restarted, or flushed) is put back from the
    /// API's database with the same settings, seed and draw, and a new draw is recorded there.
    #[arg(
        long,
        env = "PICKET_SALE_RESTORE_INTERVAL_MS",
        default_value_t = api_defaults().sale_restore_interval_ms
    )]
    sale_restore_interval_ms: u64,
    /// Sales one such check looks at, at most (1 to 100,000); more are spread over later checks.
    #[arg(
        long,
        env = "PICKET_SALE_RESTORE_MAX",
        default_value_t = api_defaults().sale_restore_max
    )]
    sale_restore_max: u32,
    /// Base URL of a Toss Payments v1 provider (https://api.tosspayments.com). Default: none,
    /// and the payment sandbox runs in this process (data in DATA_DIR/sandbox-pay). With it,
    /// PICKET_PAYMENTS_SECRET_KEY, _CLIENT_KEY and _WEBHOOK_SECRET are needed too.
    #[arg(long, env = "PICKET_PAYMENTS_BASE_URL")]
    payments_base_url: Option<String>,
    /// The provider's secret key (test_sk_… / live_sk_…): Basic auth of every call.
    #[arg(long, env = "PICKET_PAYMENTS_SECRET_KEY", hide_env_values = true)]
    payments_secret_key: Option<String>,
    /// The provider's client key (test_ck_… / live_ck_…), handed to buyers' checkouts.
    #[arg(long, env = "PICKET_PAYMENTS_CLIENT_KEY")]
    payments_client_key: Option<String>,
    /// The key webhooks from the provider are signed with.
    #[arg(long, env = "PICKET_PAYMENTS_WEBHOOK_SECRET", hide_env_values = true)]
    payments_webhook_secret: Option<String>,
    /// With PICKET_PAYMENTS_BASE_URL: the page buyers pay on, when not Toss's own payment
    /// window (a `picket sandbox-pay` process's http://…/checkout).
    #[arg(long, env = "PICKET_PAYMENTS_CHECKOUT_URL")]
    payments_checkout_url: Option<String>,
    /// With PICKET_PAYMENTS_CHECKOUT_URL: the page buyers register a card for the waitlist's
    /// auto-pay on (a `picket sandbox-pay` process's http://…/billing/authorize).
    #[arg(long, env = "PICKET_PAYMENTS_BILLING_URL")]
    payments_billing_url: Option<String>,
    /// Whether payment webhooks must be signed: required, or lookup_only (an unsigned webhook is
    /// a hint to look the payment up; a wrong signature is still refused). Real Toss signs no
    /// payment webhook: use lookup_only with it.
    #[arg(
        long,
        env = "PICKET_PAYMENTS_WEBHOOK_SIGNATURES",
        default_value = "required"
    )]
    payments_webhook_signatures: String,
    /// Payment webhooks this process looks up with the provider per second, at most (1 to
    /// 1,000; a second's worth at once): past it a webhook is answered 429 and the provider
    /// delivers it again later. Bounds what a flood of unsigned webhooks costs in provider calls.
    #[arg(
        long,
        env = "PICKET_PAYMENTS_WEBHOOK_LOOKUPS_PER_SEC",
        default_value_t = api_defaults().webhook_lookups_per_sec
    )]
    payments_webhook_lookups_per_sec: u32,
    /// Where the in-process payment sandbox listens (loopback; port 0: any free port). Unused
    /// with PICKET_PAYMENTS_BASE_URL.
    #[arg(
        long,
        env = "PICKET_UP_SANDBOX_PAY_LISTEN",
        default_value = "127.0.0.1:0"
    )]
    sandbox_pay_listen: SocketAddr,
    /// Whether a newly registered seller's company may publish at once (`automatic`) or waits
    /// for an admin's approval on the admin dashboard (`required`). Admins can suspend and
    /// approve companies either way.
    #[arg(
        long,
        env = "PICKET_SELLER_APPROVAL",
        default_value = "automatic",
        value_parser = ["automatic", "required"]
    )]
    seller_approval: String,
}

/// The API's defaults, for `--help`.
fn api_defaults() -> picket_api::ApiConfig {
    picket_api::ApiConfig::default()
}

/// What the settings add up to, once every one of them was checked.
struct Plan {
    store: StoreUrl,
    /// With NATS: the bus, and the PostgreSQL URL the ledger node journals to.
    bus: Option<(BusConfig, String)>,
    gateway: GatewayConfig,
    /// The API's settings, less its banner store and media directory (set at start).
    api: picket_api::ApiConfig,
    banner_store: picket_api::media::BannerStore,
    api_url: String,
    payments: PaymentsPlan,
}

/// Which provider buyers pay through.
enum PaymentsPlan {
    /// The sandbox in this process, its data and keys in this directory.
    Sandbox {
        listen: SocketAddr,
        data_dir: PathBuf,
        webhook_signatures: picket_payments::WebhookSignatures,
    },
    /// A provider elsewhere (Toss, or a `picket sandbox-pay` process), with the pages buyers
    /// pay and register cards on when they are not Toss's.
    Provider(picket_payments::TossConfig, Option<String>, Option<String>),
}

/// Checks every setting and reports every problem at once, before anything is bound or opened.
fn plan(args: &UpArgs) -> anyhow::Result<Plan> {
    let mut problems = Problems::default();
    let store = match &args.database_url {
        Some(url) => problems.take("DATABASE_URL", crate::parse_store(url)),
        None => Some(StoreUrl::Sqlite(args.data_dir.join("ledger.sqlite"))),
    };
    let bus = match (&args.nats_url, &store) {
        (Some(nats_url), Some(StoreUrl::Postgres(database_url))) => {
            let mut bus = BusConfig::new(nats_url.clone(), args.partition_count);
            bus.command_transport = args.command_transport;
            Some((bus, database_url.clone()))
        }
        (Some(_), _) => {
            problems.push("PICKET_NATS_URL needs DATABASE_URL to name PostgreSQL");
            None
        }
        (None, _) => None,
    };
    if args.partition_count == 0 {
        problems.push("PICKET_PARTITIONS must be at least 1");
    }
    if args.database_read_url.is_some() && !matches!(store, Some(StoreUrl::Postgres(_))) {
        problems.push("DATABASE_READ_URL is a replica of DATABASE_URL, which must name PostgreSQL");
    }
    if let Some(spec) = &args.token_keys {
        problems.take(
            "PICKET_TOKEN_KEYS",
            picket_edge::token::KeyRing::parse(spec),
        );
    }
    if let Some(key) = &args.ticket_key {
        problems.take(
            "PICKET_TICKET_KEY",
            picket_edge::secret::TicketKey::parse(key),
        );
    }
    match &args.vapid_private_key {
        Some(key) => {
            problems.take(
                "PICKET_VAPID_PRIVATE_KEY / PICKET_VAPID_SUBJECT",
                picket_api::vapid::VapidKeys::parse(key, &args.vapid_subject),
            );
        }
        None => {
            problems.take(
                "PICKET_VAPID_SUBJECT",
                picket_api::vapid::VapidKeys::generate().with_subject(&args.vapid_subject),
            );
        }
    }
    if args.operator_token.as_deref().is_some_and(str::is_empty) {
        problems.push("PICKET_OPERATOR_TOKEN must not be empty (unset it to use the file)");
    }
    let mut gateway = GatewayConfig::new(picket_gateway::config::unique_gateway_id());
    gateway.connections_max = args.connections_max;
    gateway.push_interval = Duration::from_millis(args.push_interval_ms);
    gateway.header_read_timeout = Duration::from_millis(args.header_read_timeout_ms);
    gateway.http_idle_timeout = Duration::from_millis(args.http_idle_timeout_ms);
    gateway.http_connections_max = args.http_connections_max;
    gateway.connections_per_address_max = args.connections_per_address_max;
    gateway.files_max = args.files_max;
    gateway.files_reserved = args.files_reserved;
    problems.extend("gateway", gateway.problems());
    let api = picket_api::ApiConfig {
        trusted_proxies: args.trusted_proxies.clone(),
        sale_restore_interval_ms: args.sale_restore_interval_ms,
        sale_restore_max: args.sale_restore_max,
        webhook_lookups_per_sec: args.payments_webhook_lookups_per_sec,
        seller_approval: picket_api::approval::SellerApproval::parse(&args.seller_approval)
            .unwrap_or_else(|| {
                problems.push("PICKET_SELLER_APPROVAL must be automatic or required");
                picket_api::approval::SellerApproval::Automatic
            }),
        ..picket_api::ApiConfig::default()
    };
    problems.extend("api", api.problems());
    let banner_store = problems.take("banners", banner_store(args));
    let payments = payments_plan(args, &mut problems);
    problems.finish()?;
    let (Some(store), Some(banner_store)) = (store, banner_store) else {
        unreachable!("a failed check was reported above");
    };
    let api_url = match &args.database_url {
        Some(url) => url.clone(),
        None => format!(
            "sqlite://{}?mode=rwc",
            args.data_dir.join("api.sqlite").display()
        ),
    };
    Ok(Plan {
        store,
        bus,
        gateway,
        api,
        banner_store,
        api_url,
        payments,
    })
}

/// The provider settings: all four PICKET_PAYMENTS_* together, or none (the sandbox).
fn payments_plan(args: &UpArgs, problems: &mut Problems) -> PaymentsPlan {
    let webhook_signatures = problems
        .take(
            "PICKET_PAYMENTS_WEBHOOK_SIGNATURES",
            args.payments_webhook_signatures
                .parse::<picket_payments::WebhookSignatures>(),
        )
        .unwrap_or_default();
    let keys = [
        &args.payments_secret_key,
        &args.payments_client_key,
        &args.payments_webhook_secret,
    ];
    let Some(base_url) = &args.payments_base_url else {
        if args.payments_checkout_url.is_some() || args.payments_billing_url.is_some() {
            problems.push(
                "PICKET_PAYMENTS_CHECKOUT_URL/_BILLING_URL are for PICKET_PAYMENTS_BASE_URL, which is not set",
            );
        }
        if keys.iter().any(|key| key.is_some()) {
            problems.push(
                "PICKET_PAYMENTS_*_KEY/_SECRET are for PICKET_PAYMENTS_BASE_URL, which is not set",
            );
        }
        if !args.sandbox_pay_listen.ip().is_loopback() {
            problems.push("PICKET_UP_SANDBOX_PAY_LISTEN must be a loopback address");
        }
        return PaymentsPlan::Sandbox {
            listen: args.sandbox_pay_listen,
            data_dir: args.data_dir.join("sandbox-pay"),
            webhook_signatures,
        };
    };
    let [Some(secret), Some(client), Some(webhook)] = keys else {
        problems.push("PICKET_PAYMENTS_BASE_URL needs PICKET_PAYMENTS_SECRET_KEY, PICKET_PAYMENTS_CLIENT_KEY and PICKET_PAYMENTS_WEBHOOK_SECRET");
        return PaymentsPlan::Provider(
            picket_payments::TossConfig::new(base_url, "", "", ""),
            None,
            None,
        );
    };
    for (name, url) in [
        ("PICKET_PAYMENTS_CHECKOUT_URL", &args.payments_checkout_url),
        ("PICKET_PAYMENTS_BILLING_URL", &args.payments_billing_url),
    ] {
        if let Some(url) = url
            && !(url.starts_with("https://") || url.starts_with("http://"))
        {
            problems.push(format!("{name} must be an http(s):// URL"));
        }
    }
    let mut config = picket_payments::TossConfig::new(base_url, secret, client, webhook);
    config.webhook_signatures = webhook_signatures;
    problems.extend("payments", config.problems());
    PaymentsPlan::Provider(
        config,
        args.payments_checkout_url.clone(),
        args.payments_billing_url.clone(),
    )
}

/// The provider buyers pay through and where they pay; starts the sandbox when it is the one.
/// Webhooks go to this process's `/api/v2/payments/webhook` at `address`.
async fn start_payments(
    plan: PaymentsPlan,
    address: SocketAddr,
    stop: tokio::sync::oneshot::Receiver<()>,
) -> anyhow::Result<(
    picket_payments::TossConfig,
    String,
    Option<String>,
    Option<tokio::task::JoinHandle<()>>,
)> {
    match plan {
        PaymentsPlan::Provider(config, checkout_url, billing_url) => {
            // By default Toss's own payment window: the app opens it with the client key (its
            // SDK), and the SDK its billing window.
            let checkout_url = checkout_url
                .unwrap_or_else(|| "https://js.tosspayments.com/v2/standard".to_owned());
            Ok((config, checkout_url, billing_url, None))
        }
        PaymentsPlan::Sandbox {
            listen,
            data_dir,
            webhook_signatures,
        } => {
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
            // The sandbox's billing page (with Toss, the app's SDK opens the billing window).
            let billing_url = format!("{base_url}/billing/authorize");
            Ok((
                provider,
                format!("{base_url}/checkout"),
                Some(billing_url),
                Some(task),
            ))
        }
    }
}

pub async fn run(args: UpArgs) -> anyhow::Result<()> {
    let plan = plan(&args)?;
    let shutdown = crate::shutdown_signal();
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("cannot create {}", args.data_dir.display()))?;
    let keys = picket_edge::secret::load_keys(
        args.token_keys.as_deref(),
        &args.data_dir.join("token-keys"),
    )?;
    let operator_token = match args.operator_token.clone() {
        Some(token) => token,
        None => picket_edge::secret::load_or_create(&args.data_dir.join("operator-token"), || {
            format!("{:032x}", rand::random::<u128>())
        })?,
    };
    let listener = crate::bind(args.listen).await?;
    // Without Redis the waiting room lives in this process and is saved in the data directory,
    // so sales, their draws and places survive a restart.
    let (queue, saved_room): (Arc<dyn QueueStore>, Option<MemoryStore>) = match &args.redis_url {
        Some(url) => (Arc::new(RedisStore::connect(url)?), None),
        None => {
            let room = MemoryStore::open(args.data_dir.join("waiting-room.json"))?;
            tokio::spawn(save_room_every_interval(room.clone()));
            (Arc::new(room.clone()), Some(room))
        }
    };
    let mut registry = Registry::default();
    let gateway_id = plan.gateway.gateway_id.clone();
    // The partitions this deployment's ledger has (one in process; the bus's over NATS): the
    // refund worker and reconciliation read each one's journal.
    let ledger_partitions: Vec<u16> = match &plan.bus {
        None => vec![0],
        Some((bus, _)) => (0..bus.partitions).collect(),
    };
    let (ledger, client) = match plan.bus {
        None => {
            let service =
                LedgerService::start(&LedgerConfig::new(plan.store), &mut registry).await?;
            let client = LedgerClient::in_process(service.handle.clone());
            (UpLedger::InProcess(service), client)
        }
        Some((bus, database_url)) => {
            let partitions = (0..bus.partitions).collect();
            let node =
                crate::node::start_node(&database_url, bus.clone(), partitions, &mut registry)
                    .await?;
            let client = LedgerClient::Nats(NatsLedger::connect(bus, &gateway_id).await?);
            (UpLedger::Node(node), client)
        }
    };
    let mut api_store = picket_api::store::Store::connect(&plan.api_url)
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
        keys.clone(),
        operator_token.clone(),
        Some(client.clone()),
        Some(queue.clone()),
        picket_api::ApiConfig {
            media_dir: args.data_dir.join("media"),
            banner_store: plan.banner_store,
            ticket_key: picket_edge::secret::load_ticket_key(
                args.ticket_key.as_deref(),
                &args.data_dir.join("ticket-key"),
            )?,
            vapid: picket_api::vapid::load_vapid_keys(
                args.vapid_private_key.as_deref(),
                &args.vapid_subject,
                &args.data_dir.join("vapid-key"),
            )?,
            ..plan.api
        },
    );
    if let Some(nats_url) = &args.nats_url {
        let nats = picket_ledger_client::bus::connect(nats_url, "picket-api").await?;
        api.announce_on(nats)
            .await
            .map_err(|e| anyhow::anyhow!("cannot create the announcements stream: {e}"))?;
    }
    // Members' live notifications: over NATS every gateway follows the subjects of its members
    // (whichever process's notifier publishes); in process, one bus for the notifier and the
    // gateway here.
    let notices = match &args.nats_url {
        Some(nats_url) => picket_ledger_client::Notices::nats(
            picket_ledger_client::bus::connect(nats_url, "picket-notify").await?,
        ),
        None => picket_ledger_client::Notices::in_process(),
    };
    let (stop_notifier, notifier_stopped) = tokio::sync::watch::channel(false);
    // Web Push to members' subscribed devices, signed with the key the API gives browsers.
    let web_push: Arc<dyn picket_notifier::deliver::PushChannel> =
        Arc::new(picket_notifier::push_channel::WebPush::new(
            api.store.clone(),
            picket_notifier::push::PushSender::new(
                api.config.vapid.clone(),
                picket_notifier::push::PushLimits::default(),
            )?,
        ));
    let notifier = args.notifier.then(|| {
        let wakes = picket_notifier::Wakes::default();
        // A show published here wakes the notifier at once (its interest alerts are due
        // within seconds; the poll alone is too slow).
        tokio::spawn(picket_notifier::wake_on_published(
            api.published.subscribe(),
            wakes.published.clone(),
        ));
        let metrics = Arc::new(picket_notifier::deliver::DeliveryMetrics::default());
        metrics.register(&mut registry);
        // Live to connected apps, and Web Push to the members' subscribed devices.
        let delivery = tokio::spawn(picket_notifier::deliver::run(
            api.store.clone(),
            picket_notifier::deliver::Channels {
                notices: Some(notices.clone()),
                push: Some(web_push.clone()),
            },
            metrics,
            wakes.written.clone(),
            notifier_stopped.clone(),
        ));
        let notifier = tokio::spawn(picket_notifier::run_woken(
            api.store.clone(),
            client.clone(),
            picket_notifier::NotifierConfig {
                partitions: ledger_partitions.clone(),
                // Every `picket up` of a deployment may run a notifier: each reads through a
                // durable consumer of its own (the inbox rows' ids keep each notice once).
                consumer: picket_ledger_client::follow::follower_name(&format!(
                    "{}-{}",
                    picket_notifier::CONSUMER_DEFAULT,
                    gateway_id
                )),
            },
            wakes,
            notifier_stopped,
        ));
        (notifier, delivery)
    });
    let address = listener.local_addr()?;
    let (stop_sandbox, sandbox_stopped) = tokio::sync::oneshot::channel();
    let (provider_config, checkout_url, billing_url, sandbox) =
        start_payments(plan.payments, address, sandbox_stopped).await?;
    let client_key = provider_config.client_key.clone();
    let provider = picket_payments::TossProvider::new(provider_config)
        .map_err(|e| anyhow::anyhow!("payments: {}", e.0.join("; ")))?;
    let provider: Arc<dyn picket_payments::PaymentProvider> = Arc::new(provider);
    // Refunds the ledger owes are paid by one worker per `picket up` (several are safe: the
    // provider's idempotency key and the ledger's RecordRefund make a duplicate harmless), and
    // the provider's records are reconciled with the ledger every RECONCILE_INTERVAL_MS.
    let (stop_payments, payments_stopped) = tokio::sync::watch::channel(false);
    let refund_metrics = Arc::new(picket_payments::refunds::RefundMetrics::default());
    refund_metrics.register(&mut registry);
    let refunds = tokio::spawn(
        picket_payments::refunds::RefundWorker::new(
            client.clone(),
            provider.clone(),
            ledger_partitions.clone(),
            refund_metrics,
        )
        .run(payments_stopped.clone()),
    );
    let autopay_stopped = payments_stopped.clone();
    // The last run's findings, for the admin dashboard and as gauges on /metrics.
    let reconcile_status = Arc::new(picket_payments::reconcile::ReconcileStatus::default());
    reconcile_status.register(&mut registry);
    let reconciliation = tokio::spawn(picket_payments::reconcile::run_periodically(
        provider.clone(),
        client.clone(),
        ledger_partitions.clone(),
        args.data_dir.join("reconcile"),
        picket_edge::clock::now_ms,
        reconcile_status.clone(),
        payments_stopped,
    ));
    let mut flow =
        picket_payments::Flow::new(provider, client.clone(), client_key, checkout_url.clone());
    if let Some(billing_url) = billing_url {
        flow = flow.with_billing_url(billing_url);
    }
    let flow = Arc::new(flow);
    api.set_payments(flow.clone());
    // The waitlist's auto-pay charges, one worker per `picket up` (several are safe: every
    // charge and booking is keyed by its hold).
    let autopay_metrics = Arc::new(picket_payments::autopay::AutoPayMetrics::default());
    autopay_metrics.register(&mut registry);
    let autopay = tokio::spawn(
        picket_api::autopay::AutoPayWorker::new(
            api.store.clone(),
            client.clone(),
            flow.clone(),
            ledger_partitions.clone(),
            autopay_metrics,
        )
        .run(autopay_stopped),
    );
    let gateway = Gateway::start(plan.gateway, keys, queue, client, &mut registry);
    // The admin dashboard's view of the platform: over NATS every node's and gateway's status
    // (this gateway's too), in process this gateway and its ledger.
    let status_publisher = match &args.nats_url {
        Some(nats_url) => {
            let partitions = ledger_partitions.len() as u16;
            let (source, publisher) =
                crate::platform::over_nats(nats_url, gateway.clone(), partitions).await?;
            api.set_platform(Arc::new(source));
            Some(publisher)
        }
        None => {
            api.set_platform(Arc::new(crate::platform::UpPlatform::InProcess(
                gateway.clone(),
            )));
            None
        }
    };
    gateway.set_payments(flow);
    gateway.set_notices(notices);
    gateway.set_dashboards(picket_api::dashboard::source(api.clone()));
    // The API's own counters, and its operations figures read from this same registry: the
    // admin dashboard shows what /metrics serves.
    api.metrics.register(&mut registry);
    let registry = Arc::new(registry);
    api.watch_operations(registry.clone(), reconcile_status);
    gateway.serve_metrics(registry, operator_token);
    println!("picket is up: http://{address}/healthz (Ctrl-C to stop)");
    println!("  WebSocket: ws://{address}/ws (subprotocol picket.v2)");
    println!(
        "  operator token: {} (file)",
        args.data_dir.join("operator-token").display()
    );
    match sandbox {
        Some(_) => println!(
            "  payments: sandbox checkout {checkout_url} (test cards in docs/payments.md; keys in {})",
            args.data_dir.join("sandbox-pay").display()
        ),
        None => println!("  payments: {checkout_url}"),
    }
    println!(
        "  web: http://{address}/ (buyers), http://{address}/staff/ (door staff), \
         http://{address}/seller/ (sellers), http://{address}/admin/ (admins)"
    );
    // The UI answers every path the API and the gateway do not take (`/api/…` stays the API's).
    let routes = picket_web::with_api(picket_api::router(api));
    let served = picket_gateway::run_with(gateway, listener, routes, shutdown).await;
    if let Some(publisher) = status_publisher {
        publisher.stop().await;
    }
    let _ = stop_payments.send(true);
    let _ = stop_notifier.send(true);
    if let Some((notifier, delivery)) = notifier {
        let _ = notifier.await;
        let _ = delivery.await;
    }
    let _ = refunds.await;
    let _ = autopay.await;
    let _ = reconciliation.await;
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
    let missing: Vec<&str> = s3_settings
        .iter()
        .filter(|(_, value)| value.is_none())
        .map(|(name, _)| *name)
        .collect();
    if !missing.is_empty() {
        anyhow::bail!(
            "PICKET_BANNER_S3_ENDPOINT is set: {} needed too",
            missing.join(", ")
        );
    }
    let [bucket, access_key_id, secret_access_key] =
        s3_settings.map(|(_, value)| value.clone().unwrap_or_default());
    let mut config =
        S3BannerConfig::new(endpoint.clone(), bucket, access_key_id, secret_access_key);
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
    Node(Arc<Node>),
}
