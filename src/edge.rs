//! The edge that `picket up` and `picket gateway` both serve, built by one function: the
//! gateway (WebSocket, waiting room, booking commands), the HTTP API with the browser UI, the
//! payment flow with its workers (refunds, auto-pay, reconciliation), optionally the notifier,
//! and the admin dashboard's status source, all on one listener. The role decides the stores,
//! the ledger and the payment provider; this module builds the same thing from them.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use picket_api::media::BannerStore;
use picket_gateway::{Gateway, GatewayConfig, KeyRing, QueueStore};
use picket_ledger::StoreUrl;
use picket_ledger_client::{BusConfig, CommandTransport, LedgerClient};
use prometheus_client::registry::Registry;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::check::Problems;

/// Toss's own payment window: an app opens it with the client key (Toss's SDK).
pub const TOSS_CHECKOUT_URL: &str = "https://js.tosspayments.com/v2/standard";

/// The gateway's defaults, for `--help`: the binary repeats no default of a component.
fn gateway_defaults() -> GatewayConfig {
    GatewayConfig::new("defaults")
}

/// The API's defaults, for `--help`.
fn api_defaults() -> picket_api::ApiConfig {
    picket_api::ApiConfig::default()
}

/// The settings `picket up` and `picket gateway` share. The stores, the ledger's partitions and
/// the notifier are each role's own (their defaults differ).
#[derive(Args)]
pub struct EdgeArgs {
    /// Address of the HTTP listener (/ws, /api, the browser UI at / and /staff/, /healthz, and
    /// /metrics with the operator token).
    #[arg(long, env = "PICKET_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Directory for this process's data: banner files (without an S3 bucket), reconciliation
    /// reports, and the keys made on first start when none is given.
    #[arg(long, env = "PICKET_DATA_DIR", default_value = "data")]
    pub data_dir: PathBuf,
    /// A read replica of DATABASE_URL for reads that may be slightly stale (browsing, show
    /// pages, boards).
    #[arg(long, env = "DATABASE_READ_URL", hide_env_values = true)]
    pub database_read_url: Option<String>,
    /// Token keys, `id:hexsecret[,id:hexsecret…]`, the first signing; every gateway must have
    /// the same (`picket up`'s default: a key file in the data directory, created on first
    /// start).
    #[arg(long, env = "PICKET_TOKEN_KEYS", hide_env_values = true)]
    pub token_keys: Option<String>,
    /// Bearer token for the operator API and /metrics (`picket up`'s default: a file in the data
    /// directory, created on first start).
    #[arg(long, env = "PICKET_OPERATOR_TOKEN", hide_env_values = true)]
    pub operator_token: Option<String>,
    /// The key ticket codes' keys derive from, 64 hex digits; every process serving the API
    /// must have the same (`picket up`'s default: a file in the data directory, created on first
    /// start).
    #[arg(long, env = "PICKET_TICKET_KEY", hide_env_values = true)]
    pub ticket_key: Option<String>,
    /// The VAPID private key Web Push requests are signed with: base64url of a P-256 scalar
    /// (32 bytes). Browsers' subscriptions are bound to its public key, so every process serving
    /// the API or sending pushes must have the same (`picket up`'s default: a file in the data
    /// directory, created on first start).
    #[arg(long, env = "PICKET_VAPID_PRIVATE_KEY", hide_env_values = true)]
    pub vapid_private_key: Option<String>,
    /// The contact push services may write to about this server's pushes: mailto:… or
    /// https://… (RFC 8292's `sub`).
    #[arg(long, env = "PICKET_VAPID_SUBJECT", default_value = picket_api::vapid::VAPID_SUBJECT_DEFAULT)]
    pub vapid_subject: String,
    /// Most open WebSocket connections (one more is told to try again later), 1 to 19,900 and at
    /// most files_max - files_reserved.
    #[arg(long, env = "PICKET_CONNECTIONS_MAX", default_value_t = gateway_defaults().connections_max)]
    pub connections_max: usize,
    /// Milliseconds a request's headers have to arrive once the connection is ready for one (when
    /// it opens, and after each response: this also ends idle keep-alive connections).
    #[arg(
        long,
        env = "PICKET_HEADER_READ_TIMEOUT_MS",
        default_value_t = gateway_defaults().header_read_timeout.as_millis() as u64
    )]
    pub header_read_timeout_ms: u64,
    /// Milliseconds without a byte either way after which an HTTP connection (not a WebSocket)
    /// is closed, whatever it was doing.
    #[arg(
        long,
        env = "PICKET_HTTP_IDLE_TIMEOUT_MS",
        default_value_t = gateway_defaults().http_idle_timeout.as_millis() as u64
    )]
    pub http_idle_timeout_ms: u64,
    /// Most open connections that have not become WebSockets; more are closed as accepted.
    #[arg(
        long,
        env = "PICKET_HTTP_CONNECTIONS_MAX",
        default_value_t = gateway_defaults().http_connections_max
    )]
    pub http_connections_max: usize,
    /// Most open connections (HTTP and WebSocket) from one client address; more are closed as
    /// accepted.
    #[arg(
        long,
        env = "PICKET_CONNECTIONS_PER_ADDRESS_MAX",
        default_value_t = gateway_defaults().connections_per_address_max
    )]
    pub connections_per_address_max: usize,
    /// Files this process may open (the process' own limit applies when lower).
    #[arg(long, env = "PICKET_FILES_MAX", default_value_t = gateway_defaults().files_max)]
    pub files_max: usize,
    /// Files kept free of client connections for the stores, the ledger and connections already
    /// open: accepting stops at files_max - files_reserved connections (logged, and
    /// picket_gateway_accept_paused in the metrics) and resumes when some close.
    #[arg(
        long,
        env = "PICKET_FILES_RESERVED",
        default_value_t = gateway_defaults().files_reserved
    )]
    pub files_reserved: usize,
    /// On SIGTERM or Ctrl-C: milliseconds the gateway waits for its clients to reconnect
    /// elsewhere (each is told `reconnect` and closed with 1012) before it stops, 0 to 600,000.
    /// Keep a supervisor's grace period above it.
    #[arg(
        long,
        env = "PICKET_DRAIN_TIMEOUT_MS",
        default_value_t = gateway_defaults().drain_timeout.as_millis() as u64
    )]
    pub drain_timeout_ms: u64,
    /// With NATS, how this process sends commands to the ledger's partition leaders: `direct`
    /// (core NATS request-reply to the leader) or `jetstream` (the partition's command stream).
    /// Leaders serve both, so processes may differ.
    #[arg(
        long,
        env = "PICKET_COMMAND_TRANSPORT",
        default_value = BusConfig::new(String::new(), 1).command_transport.as_str()
    )]
    pub command_transport: CommandTransport,
    /// How often waiting clients get their position, in milliseconds (100 to 2,000).
    #[arg(
        long,
        env = "PICKET_PUSH_INTERVAL_MS",
        default_value_t = gateway_defaults().push_interval.as_millis() as u64
    )]
    pub push_interval_ms: u64,
    /// S3-compatible endpoint for show banners, https://… or http://… (AWS S3, MinIO, Ceph;
    /// path-style requests). Default: banners are files under the data directory.
    #[arg(long, env = "PICKET_BANNER_S3_ENDPOINT")]
    pub banner_s3_endpoint: Option<String>,
    /// Bucket for show banners (with PICKET_BANNER_S3_ENDPOINT).
    #[arg(long, env = "PICKET_BANNER_S3_BUCKET")]
    pub banner_s3_bucket: Option<String>,
    /// Region of the banner bucket.
    #[arg(long, env = "PICKET_BANNER_S3_REGION", default_value = picket_api::media::s3::DEFAULT_REGION)]
    pub banner_s3_region: String,
    /// Access key id for the banner bucket.
    #[arg(long, env = "PICKET_BANNER_S3_ACCESS_KEY_ID")]
    pub banner_s3_access_key_id: Option<String>,
    /// Secret access key for the banner bucket.
    #[arg(
        long,
        env = "PICKET_BANNER_S3_SECRET_ACCESS_KEY",
        hide_env_values = true
    )]
    pub banner_s3_secret_access_key: Option<String>,
    /// Reverse proxies or load balancers in front of picket, `addr[,addr…]`: only from these
    /// peers do `Forwarded` / `X-Forwarded-For` name the client that sign-in and guest-lookup
    /// limits count by. Default: none, the TCP peer is the client.
    #[arg(long, env = "PICKET_TRUSTED_PROXIES", value_delimiter = ',')]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Milliseconds between the API's checks of the waiting room's sales (100 to 60,000): a sale
    /// its store lost (Redis without persistence restarted, or flushed) is put back from the
    /// API's database with the same settings, seed and draw, and a new draw is recorded there.
    #[arg(
        long,
        env = "PICKET_SALE_RESTORE_INTERVAL_MS",
        default_value_t = api_defaults().sale_restore_interval_ms
    )]
    pub sale_restore_interval_ms: u64,
    /// Sales one such check looks at, at most (1 to 100,000); more are spread over later checks.
    #[arg(
        long,
        env = "PICKET_SALE_RESTORE_MAX",
        default_value_t = api_defaults().sale_restore_max
    )]
    pub sale_restore_max: u32,
    /// Base URL of a Toss Payments v1 provider (https://api.tosspayments.com, or a `picket
    /// sandbox-pay`). With it, PICKET_PAYMENTS_SECRET_KEY, _CLIENT_KEY and _WEBHOOK_SECRET are
    /// needed too. `picket up` without it runs the payment sandbox in its own process (data in
    /// DATA_DIR/sandbox-pay); `picket gateway` needs it.
    #[arg(long, env = "PICKET_PAYMENTS_BASE_URL")]
    pub payments_base_url: Option<String>,
    /// The provider's secret key (test_sk_… / live_sk_…): Basic auth of every call.
    #[arg(long, env = "PICKET_PAYMENTS_SECRET_KEY", hide_env_values = true)]
    pub payments_secret_key: Option<String>,
    /// The provider's client key (test_ck_… / live_ck_…), handed to buyers' checkouts.
    #[arg(long, env = "PICKET_PAYMENTS_CLIENT_KEY")]
    pub payments_client_key: Option<String>,
    /// The key webhooks from the provider are signed with.
    #[arg(long, env = "PICKET_PAYMENTS_WEBHOOK_SECRET", hide_env_values = true)]
    pub payments_webhook_secret: Option<String>,
    /// Where buyers pay, handed to apps with each checkout: a `picket sandbox-pay`'s checkout
    /// page (http://…/checkout; its billing page beside it serves auto-pay sign-ups). Default:
    /// Toss's payment window, opened by the app with the client key.
    #[arg(long, env = "PICKET_PAYMENTS_CHECKOUT_URL")]
    pub payments_checkout_url: Option<String>,
    /// Whether payment webhooks must be signed: required, or lookup_only (an unsigned webhook is
    /// a hint to look the payment up; a wrong signature is still refused). Real Toss signs no
    /// payment webhook: use lookup_only with it.
    #[arg(
        long,
        env = "PICKET_PAYMENTS_WEBHOOK_SIGNATURES",
        default_value = "required"
    )]
    pub payments_webhook_signatures: String,
    /// Payment webhooks this process looks up with the provider per second, at most (1 to
    /// 1,000; a second's worth at once): past it a webhook is answered 429 and the provider
    /// delivers it again later. Bounds what a flood of unsigned webhooks costs in provider calls.
    #[arg(
        long,
        env = "PICKET_PAYMENTS_WEBHOOK_LOOKUPS_PER_SEC",
        default_value_t = api_defaults().webhook_lookups_per_sec
    )]
    pub payments_webhook_lookups_per_sec: u32,
    /// Whether a newly registered seller's company may publish at once (`automatic`) or waits
    /// for an admin's approval on the admin dashboard (`required`). Admins can suspend and
    /// approve companies either way.
    #[arg(
        long,
        env = "PICKET_SELLER_APPROVAL",
        default_value = "automatic",
        value_parser = ["automatic", "required"]
    )]
    pub seller_approval: String,
    #[command(flatten)]
    pub threads: crate::threads::ThreadArgs,
}

/// What the shared settings add up to, once every one of them was checked. Read only after
/// the role's [`Problems::finish`] passed: a setting that failed its check holds a stand-in.
pub struct EdgePlan {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub gateway: GatewayConfig,
    /// The API's settings, less its banner store, media directory and keys (set at start).
    pub api: picket_api::ApiConfig,
    pub banner_store: BannerStore,
    pub database_read_url: Option<String>,
    pub command_transport: CommandTransport,
    /// The provider buyers pay through, when one is named (`picket up` without one runs its
    /// sandbox).
    pub provider: Option<picket_payments::TossConfig>,
    /// How unsigned webhooks are taken, whichever the provider.
    pub webhook_signatures: picket_payments::WebhookSignatures,
    pub checkout_url: Option<String>,
    secrets: SecretSettings,
}

/// The keys as given (`None`: `picket up` keeps one in the data directory).
struct SecretSettings {
    token_keys: Option<String>,
    operator_token: Option<String>,
    ticket_key: Option<String>,
    vapid_private_key: Option<String>,
    vapid_subject: String,
}

/// Checks the shared settings into `problems`. `keys_required`: every key must be given (a
/// gateway among several must share them), none made in the data directory.
pub fn plan(args: EdgeArgs, keys_required: bool, problems: &mut Problems) -> EdgePlan {
    if let Some(url) = &args.database_read_url {
        check_postgres_url(problems, "database_read_url", url);
    }
    let required = [
        ("token_keys", args.token_keys.is_some()),
        ("operator_token", args.operator_token.is_some()),
        ("ticket_key", args.ticket_key.is_some()),
        ("vapid_private_key", args.vapid_private_key.is_some()),
    ];
    for (id, given) in required {
        if keys_required && !given {
            problems.setting(
                id,
                "needed: every gateway must have the same (none is made in the data directory)",
            );
        }
    }
    if let Some(spec) = &args.token_keys {
        problems.take("token_keys", KeyRing::parse(spec));
    }
    if let Some(key) = &args.ticket_key {
        problems.take("ticket_key", picket_edge::secret::TicketKey::parse(key));
    }
    match &args.vapid_private_key {
        Some(key) => {
            check_vapid(problems, key, &args.vapid_subject);
        }
        None => {
            problems.take(
                "vapid_subject",
                picket_api::vapid::VapidKeys::generate().with_subject(&args.vapid_subject),
            );
        }
    }
    if args.operator_token.as_deref().is_some_and(str::is_empty) {
        problems.setting("operator_token", "must not be empty");
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
    gateway.drain_timeout = Duration::from_millis(args.drain_timeout_ms);
    problems.extend("gateway", gateway.problems(), &[]);
    let seller_approval = picket_api::approval::SellerApproval::parse(&args.seller_approval)
        .unwrap_or_else(|| {
            problems.setting("seller_approval", "must be automatic or required");
            picket_api::approval::SellerApproval::Automatic
        });
    let api = picket_api::ApiConfig {
        trusted_proxies: args.trusted_proxies.clone(),
        sale_restore_interval_ms: args.sale_restore_interval_ms,
        sale_restore_max: args.sale_restore_max,
        webhook_lookups_per_sec: args.payments_webhook_lookups_per_sec,
        seller_approval,
        ..picket_api::ApiConfig::default()
    };
    problems.extend(
        "api",
        api.problems(),
        &[(
            "webhook_lookups_per_sec",
            "payments_webhook_lookups_per_sec",
        )],
    );
    let banner_store = banner_store(&args, problems).unwrap_or(BannerStore::Disk);
    let webhook_signatures = problems
        .take(
            "payments_webhook_signatures",
            args.payments_webhook_signatures
                .parse::<picket_payments::WebhookSignatures>(),
        )
        .unwrap_or_default();
    let provider = provider(&args, webhook_signatures, problems);
    if let Some(url) = &args.payments_checkout_url
        && !is_http_url(url)
    {
        problems.setting(
            "payments_checkout_url",
            "must be an absolute http(s) URL (a `picket sandbox-pay`'s http://…/checkout)",
        );
    }
    if args.payments_checkout_url.is_some() && provider.is_none() {
        problems.setting(
            "payments_checkout_url",
            "is for PICKET_PAYMENTS_BASE_URL, which is not set",
        );
    }
    EdgePlan {
        listen: args.listen,
        data_dir: args.data_dir,
        gateway,
        api,
        banner_store,
        database_read_url: args.database_read_url,
        command_transport: args.command_transport,
        provider,
        webhook_signatures,
        checkout_url: args.payments_checkout_url,
        secrets: SecretSettings {
            token_keys: args.token_keys,
            operator_token: args.operator_token,
            ticket_key: args.ticket_key,
            vapid_private_key: args.vapid_private_key,
            vapid_subject: args.vapid_subject,
        },
    }
}

/// Whether `url` is an absolute http(s) URL with a host.
fn is_http_url(url: &str) -> bool {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|rest| {
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        !host.is_empty() && !rest.chars().any(char::is_whitespace)
    })
}

/// The VAPID keys of `key` and `subject`, or the problem recorded against the setting at
/// fault (`vapid_subject` or `vapid_private_key`: the role's fields of those names).
pub fn check_vapid(
    problems: &mut Problems,
    key: &str,
    subject: &str,
) -> Option<picket_api::vapid::VapidKeys> {
    match picket_api::vapid::VapidKeys::parse(key, subject) {
        Ok(keys) => Some(keys),
        Err(error) => {
            let id = match error {
                picket_api::vapid::VapidError::Subject => "vapid_subject",
                _ => "vapid_private_key",
            };
            problems.setting(id, error.to_string());
            None
        }
    }
}

/// Checks that `url` names PostgreSQL and parses as a connection URL; the URL otherwise.
pub fn check_postgres_url(problems: &mut Problems, id: &str, url: &str) -> Option<String> {
    match StoreUrl::parse(url) {
        Some(StoreUrl::Postgres(url)) => match StoreUrl::check_postgres(&url) {
            Ok(()) => Some(url),
            Err(error) => {
                problems.setting(id, error);
                None
            }
        },
        Some(StoreUrl::Sqlite(_)) => {
            problems.setting(id, "must name PostgreSQL (postgres://…), not SQLite");
            None
        }
        None => {
            problems.setting(id, "must be postgres://…");
            None
        }
    }
}

/// Checks that `url` is a NATS server URL (several: comma-separated).
pub fn check_nats_url(problems: &mut Problems, id: &str, url: &str) {
    use std::str::FromStr;
    for server in url.split(',') {
        if let Err(error) = async_nats::ServerAddr::from_str(server.trim()) {
            problems.setting(
                id,
                format!(
                    "{:?} is not a NATS URL (nats://…): {error}",
                    picket_ledger_client::nats::redact_url(server.trim())
                ),
            );
        }
    }
}

/// Checks that `url` is a Redis URL (redis://… or rediss://…).
pub fn check_redis_url(problems: &mut Problems, id: &str, url: &str) {
    problems.take(id, picket_room::redis::RedisStore::check_url(url));
}

/// The provider settings: all four PICKET_PAYMENTS_* together, or none.
fn provider(
    args: &EdgeArgs,
    webhook_signatures: picket_payments::WebhookSignatures,
    problems: &mut Problems,
) -> Option<picket_payments::TossConfig> {
    let keys = [
        ("payments_secret_key", &args.payments_secret_key),
        ("payments_client_key", &args.payments_client_key),
        ("payments_webhook_secret", &args.payments_webhook_secret),
    ];
    let Some(base_url) = &args.payments_base_url else {
        for (id, key) in keys {
            if key.is_some() {
                problems.setting(id, "is for PICKET_PAYMENTS_BASE_URL, which is not set");
            }
        }
        return None;
    };
    for (id, key) in keys {
        if key.is_none() {
            problems.setting(id, "needed with PICKET_PAYMENTS_BASE_URL");
        }
    }
    let [secret, client, webhook] = keys.map(|(_, key)| key.clone().unwrap_or_default());
    let mut config = picket_payments::TossConfig::new(base_url, secret, client, webhook);
    config.webhook_signatures = webhook_signatures;
    if keys.iter().all(|(_, key)| key.is_some()) {
        problems.extend(
            "payments",
            config.problems(),
            &[
                ("the base URL", "payments_base_url"),
                ("the secret key", "payments_secret_key"),
                ("the webhook secret", "payments_webhook_secret"),
            ],
        );
    }
    Some(config)
}

/// Where banners are stored: an S3-compatible bucket when PICKET_BANNER_S3_ENDPOINT is set
/// (then bucket and keys are required), else files under the data directory.
fn banner_store(args: &EdgeArgs, problems: &mut Problems) -> Option<BannerStore> {
    use picket_api::media::S3BannerConfig;
    let s3_settings = [
        ("banner_s3_bucket", &args.banner_s3_bucket),
        ("banner_s3_access_key_id", &args.banner_s3_access_key_id),
        (
            "banner_s3_secret_access_key",
            &args.banner_s3_secret_access_key,
        ),
    ];
    let Some(endpoint) = &args.banner_s3_endpoint else {
        for (id, value) in s3_settings {
            if value.is_some() {
                problems.setting(id, "is set but PICKET_BANNER_S3_ENDPOINT is not");
            }
        }
        return Some(BannerStore::Disk);
    };
    let mut missing = false;
    for (id, value) in s3_settings {
        if value.is_none() {
            problems.setting(id, "needed with PICKET_BANNER_S3_ENDPOINT");
            missing = true;
        }
    }
    if missing {
        return None;
    }
    let [bucket, access_key_id, secret_access_key] =
        s3_settings.map(|(_, value)| value.clone().unwrap_or_default());
    let mut config =
        S3BannerConfig::new(endpoint.clone(), bucket, access_key_id, secret_access_key);
    config.region = args.banner_s3_region.clone();
    let store = problems.take("banner_s3_endpoint", BannerStore::s3(&config))?;
    tracing::info!(
        endpoint = %config.endpoint,
        bucket = %config.bucket,
        "banners are stored in an s3 bucket"
    );
    Some(store)
}

/// The keys the edge signs and checks with, given or kept in the data directory.
pub struct Secrets {
    pub keys: KeyRing,
    pub operator_token: String,
    ticket_key: picket_edge::secret::TicketKey,
    vapid: picket_api::vapid::VapidKeys,
}

impl EdgePlan {
    /// Creates the data directory and reads the keys (making those not given, first start).
    pub fn secrets(&self) -> anyhow::Result<Secrets> {
        let dir = &self.data_dir;
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
        let given = &self.secrets;
        let keys =
            picket_edge::secret::load_keys(given.token_keys.as_deref(), &dir.join("token-keys"))?;
        let operator_token = match &given.operator_token {
            Some(token) => token.clone(),
            None => picket_edge::secret::load_or_create(&dir.join("operator-token"), || {
                format!("{:032x}", rand::random::<u128>())
            })?,
        };
        let ticket_key = picket_edge::secret::load_ticket_key(
            given.ticket_key.as_deref(),
            &dir.join("ticket-key"),
        )?;
        let vapid = picket_api::vapid::load_vapid_keys(
            given.vapid_private_key.as_deref(),
            &given.vapid_subject,
            &dir.join("vapid-key"),
        )?;
        Ok(Secrets {
            keys,
            operator_token,
            ticket_key,
            vapid,
        })
    }
}

/// The provider buyers pay through, and where they pay.
pub struct Provider {
    pub config: picket_payments::TossConfig,
    pub checkout_url: String,
    /// The sandbox's billing page for auto-pay sign-ups (with Toss, the app's SDK opens it).
    pub billing_url: Option<String>,
}

impl Provider {
    /// A provider elsewhere: Toss (its payment window), or a `picket sandbox-pay` whose checkout
    /// page was named (its billing page beside it).
    pub fn named(config: picket_payments::TossConfig, checkout_url: Option<String>) -> Provider {
        match checkout_url {
            Some(checkout_url) => Provider::sandbox(config, checkout_url),
            None => Provider {
                config,
                checkout_url: TOSS_CHECKOUT_URL.to_owned(),
                billing_url: None,
            },
        }
    }

    /// A payment sandbox whose checkout page is `checkout_url` (`…/checkout`).
    pub fn sandbox(config: picket_payments::TossConfig, checkout_url: String) -> Provider {
        let base = checkout_url
            .trim_end_matches('/')
            .trim_end_matches("/checkout");
        let billing_url = Some(format!("{base}/billing/authorize"));
        Provider {
            config,
            checkout_url,
            billing_url,
        }
    }
}

/// What a role hands the edge once it has its stores and its ledger.
pub struct EdgeParts {
    pub queue: Arc<dyn QueueStore>,
    pub ledger: LedgerClient,
    /// The partitions of the deployment's ledger: the refund, auto-pay and reconciliation
    /// workers and the notifier read each one.
    pub ledger_partitions: Vec<u16>,
    /// The API's database (postgres://… or sqlite://…).
    pub api_url: String,
    /// NATS, when the deployment has it: announcements, members' live notifications and the
    /// platform's status board go over it.
    pub nats_url: Option<String>,
    /// TLS and credentials files for NATS.
    pub nats_auth: picket_ledger_client::NatsAuth,
    /// Run the notifier in this process.
    pub notifier: bool,
    pub provider: Provider,
}

/// The edge, started and ready to serve.
pub struct Edge {
    pub gateway: Arc<Gateway>,
    api: Arc<picket_api::Api>,
    status_publisher: Option<crate::platform::GatewayPublisher>,
    stop_notifier: watch::Sender<bool>,
    notifier: Option<(JoinHandle<()>, JoinHandle<()>)>,
    stop_payments: watch::Sender<bool>,
    workers: Vec<JoinHandle<()>>,
}

impl Edge {
    /// Builds the API, the payment flow and its workers, the notifier when asked for, and the
    /// gateway; metrics go into `registry`, which `/metrics` then serves.
    pub async fn start(
        plan: EdgePlan,
        secrets: Secrets,
        parts: EdgeParts,
        mut registry: Registry,
    ) -> anyhow::Result<Edge> {
        let Secrets {
            keys,
            operator_token,
            ticket_key,
            vapid,
        } = secrets;
        let EdgeParts {
            queue,
            ledger: client,
            ledger_partitions,
            api_url,
            nats_url,
            nats_auth,
            notifier,
            provider,
        } = parts;
        let gateway_id = plan.gateway.gateway_id.clone();
        let mut api_store = picket_api::store::Store::connect(&api_url)
            .await
            .context("opening the API's database")?;
        if let Some(url) = &plan.database_read_url {
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
                media_dir: plan.data_dir.join("media"),
                banner_store: plan.banner_store,
                ticket_key,
                vapid,
                ..plan.api
            },
        );
        if let Some(nats_url) = &nats_url {
            let nats =
                picket_ledger_client::bus::connect_with(nats_url, &nats_auth, "picket-api").await?;
            api.announce_on(nats)
                .await
                .map_err(|e| anyhow::anyhow!("cannot create the announcements stream: {e}"))?;
        }
        // Members' live notifications: over NATS every gateway follows the subjects of its
        // members (whichever process's notifier publishes); in process, one bus for the notifier
        // and the gateway here.
        let notices = match &nats_url {
            Some(nats_url) => picket_ledger_client::Notices::nats(
                picket_ledger_client::bus::connect_with(nats_url, &nats_auth, "picket-notify")
                    .await?,
            ),
            None => picket_ledger_client::Notices::in_process(),
        };
        let (stop_notifier, notifier_stopped) = watch::channel(false);
        let notifier = if notifier {
            // Web Push to members' subscribed devices, signed with the key the API gives
            // browsers.
            let web_push: Arc<dyn picket_notifier::deliver::PushChannel> =
                Arc::new(picket_notifier::push_channel::WebPush::new(
                    api.store.clone(),
                    picket_notifier::push::PushSender::new(
                        api.config.vapid.clone(),
                        picket_notifier::push::PushLimits::default(),
                    )?,
                ));
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
                    push: Some(web_push),
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
                    // Every process of a deployment may run a notifier: each reads through a
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
            Some((notifier, delivery))
        } else {
            None
        };
        let Provider {
            config: provider_config,
            checkout_url,
            billing_url,
        } = provider;
        let client_key = provider_config.client_key.clone();
        let provider = picket_payments::TossProvider::new(provider_config)
            .map_err(|e| anyhow::anyhow!("payments: {}", e.0.join("; ")))?;
        let provider: Arc<dyn picket_payments::PaymentProvider> = Arc::new(provider);
        // Refunds the ledger owes are paid by one worker per process (several are safe: the
        // provider's idempotency key and the ledger's RecordRefund make a duplicate harmless),
        // and the provider's records are reconciled with the ledger every RECONCILE_INTERVAL_MS.
        let (stop_payments, payments_stopped) = watch::channel(false);
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
        // The last run's findings, for the admin dashboard and as gauges on /metrics.
        let reconcile_status = Arc::new(picket_payments::reconcile::ReconcileStatus::default());
        reconcile_status.register(&mut registry);
        let reconciliation = tokio::spawn(picket_payments::reconcile::run_periodically(
            provider.clone(),
            client.clone(),
            ledger_partitions.clone(),
            plan.data_dir.join("reconcile"),
            picket_edge::clock::now_ms,
            reconcile_status.clone(),
            payments_stopped.clone(),
        ));
        let mut flow =
            picket_payments::Flow::new(provider, client.clone(), client_key, checkout_url);
        if let Some(url) = billing_url {
            flow = flow.with_billing_url(url);
        }
        let flow = Arc::new(flow);
        api.set_payments(flow.clone());
        // The waitlist's auto-pay charges, one worker per process (several are safe: every
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
            .run(payments_stopped),
        );
        let gateway = Gateway::start(plan.gateway, keys, queue, client, &mut registry);
        // The admin dashboard's view of the platform: over NATS every node's and gateway's
        // status (this gateway's too), in process this gateway and its ledger.
        let status_publisher = match &nats_url {
            Some(nats_url) => {
                let partitions = ledger_partitions.len() as u16;
                let (source, publisher) =
                    crate::platform::over_nats(nats_url, &nats_auth, gateway.clone(), partitions)
                        .await?;
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
        Ok(Edge {
            gateway,
            api,
            status_publisher,
            stop_notifier,
            notifier,
            stop_payments,
            workers: vec![refunds, autopay, reconciliation],
        })
    }

    /// Serves the WebSocket, the API and the browser UI on `listener` until `shutdown`, then
    /// drains the gateway (clients are told to reconnect elsewhere) and stops the workers and
    /// the notifier.
    pub async fn serve(
        self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        // The UI answers every path the API and the gateway do not take (`/api/…` stays the
        // API's).
        let routes = picket_web::with_api(picket_api::router(self.api));
        let served = picket_gateway::run_with(self.gateway, listener, routes, shutdown).await;
        if let Some(publisher) = self.status_publisher {
            publisher.stop().await;
        }
        let _ = self.stop_payments.send(true);
        let _ = self.stop_notifier.send(true);
        if let Some((notifier, delivery)) = self.notifier {
            let _ = notifier.await;
            let _ = delivery.await;
        }
        for worker in self.workers {
            let _ = worker.await;
        }
        Ok(served?)
    }
}
