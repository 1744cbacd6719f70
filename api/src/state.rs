//! What every handler shares: the [`Api`] (store, keys, limits, the ledger and waiting room it
//! publishes to, read models) and its configuration. Built and wired in `app.rs`.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

pub use picket_edge::token::KeyRing;
pub use picket_ledger_client::LedgerClient;
pub use picket_room::QueueStore;
use tokio::sync::watch;

use crate::catalog::ShowPublished;
use crate::limit::{Backoff, Limiter};
use crate::media;
use crate::seat_states::SeatStates;
use crate::seats_left::SeatsLeft;
use crate::store::Store;

/// "Show published" announcements buffered for a slow subscriber.
pub const PUBLISHED_BUFFER_MAX: usize = 1_024;

/// Guest lookups: wrong phones per booking number and client address before the lookups of that
/// pair back off (see [`ApiConfig`]'s backoff), lookups per client address per minute (and at
/// once), whatever the number (a lookup that finds its booking is given back), and for everyone
/// together.
pub const LOOKUP_FAILURES_FREE: u32 = 5;
pub const LOOKUPS_PER_ADDRESS_PER_MINUTE: u32 = 30;
pub const LOOKUPS_PER_ADDRESS_BURST: u32 = 10;
pub const LOOKUPS_PER_MINUTE: u32 = 600;

/// Named limits and lifetimes of the API.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// How long a session token lasts.
    pub session_ttl_ms: u64,
    /// Sign-in attempts per client address per minute, and at once, whatever the email: one
    /// address cannot try a password against many accounts. A successful attempt is given back,
    /// so people behind one address (a carrier's NAT) who sign in correctly never use it up.
    pub login_attempts_per_address_per_minute: u32,
    pub login_attempts_per_address_burst: u32,
    /// Wrong passwords per email and client address before that pair backs off: it waits
    /// `login_backoff_first_ms`, then twice as long after each further failure, up to
    /// `login_backoff_ms_max`; a success clears it, and so do `login_failures_forget_ms` without
    /// a failure. Keyed by address too, so an attacker's failures never lock the owner out from
    /// where the owner signs in. (Guest lookups back off the same way per booking number.)
    pub login_failures_free: u32,
    pub login_backoff_first_ms: u64,
    pub login_backoff_ms_max: u64,
    pub login_failures_forget_ms: u64,
    /// Peers whose `Forwarded` / `X-Forwarded-For` headers name the client (reverse proxies,
    /// load balancers); from anyone else those headers are ignored. Empty: the TCP peer is the
    /// client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Largest JSON request body (uploads have their own limit).
    pub body_bytes_max: usize,
    /// Where uploaded media (show banners) are stored with the disk banner store.
    pub media_dir: std::path::PathBuf,
    /// Where show banners are kept: files in `media_dir` (the default) or an S3-compatible
    /// bucket ([`media::BannerStore::s3`], whose configuration names its own limits).
    pub banner_store: media::BannerStore,
    /// How often the API checks the waiting room for the sales it has records of (on start, then
    /// every this many milliseconds): a sale the store lost is put back, and a sale's draw is
    /// recorded once drawn (`restore.rs`). Also bounds how long after a draw a lost store can
    /// still lose that draw.
    pub sale_restore_interval_ms: u64,
    /// Sales one pass looks at, at most: a pass over many sales is spread over several
    /// intervals, so each stays short.
    pub sale_restore_max: u32,
    /// Payment webhooks looked up with the provider per second in this process (a second's
    /// worth at once); past it a webhook is answered `429 too_many_attempts` with `Retry-After`
    /// and the provider delivers it again later. Bounds what a flood of forged webhooks (unsigned
    /// ones are accepted as hints with `webhook_signatures = lookup_only`) costs in provider
    /// calls; a replayed transmission id costs none. `picket up --payments-webhook-lookups-per-sec`
    /// (`PICKET_PAYMENTS_WEBHOOK_LOOKUPS_PER_SEC`), 1 to [`WEBHOOK_LOOKUPS_PER_SEC_MAX`].
    pub webhook_lookups_per_sec: u32,
    /// How long the webhook of an order this process checked out (or is confirming) waits for
    /// the buyer's app to confirm it here before the payment is looked up with the provider.
    /// The sandbox announces an authorisation at once, so without the wait its webhook races
    /// the app's `confirm` and costs a lookup (and a slot of `webhook_lookups_per_sec`) for a
    /// payment the app books a moment later; a webhook for a payment booked here lately costs
    /// nothing at all. An app that never confirms is booked by the webhook this much later. 0
    /// to [`WEBHOOK_CONFIRM_GRACE_MS_MAX`].
    pub webhook_confirm_grace_ms: u64,
    /// Webhooks waiting out that grace at once, at most; past it a webhook is looked up (and
    /// limited) at once. 1 to [`WEBHOOKS_DEFERRED_MAX_MAX`].
    pub webhooks_deferred_max: usize,
    /// Payment success URLs (`GET /api/v2/payments/success`) per second and at once, per buyer
    /// (the identity its admission token names) or, without a valid token, per client address:
    /// each can cost a provider confirm and a ledger command, so one buyer (or one address
    /// without an admission) cannot make the server call the provider without bound. As
    /// generous as the gateway's booking attempts (`booking_attempts_per_sec`), which the
    /// WebSocket's `confirm` counts against.
    pub success_attempts_per_sec: u32,
    pub success_attempts_burst: u32,
    /// The server secret ticket codes' keys derive from (`tickets.rs`): `picket up` keeps it in
    /// `<data dir>/ticket-key`; the default is a fresh random key (tests). Never logged.
    pub ticket_key: picket_edge::secret::TicketKey,
    /// The server's VAPID key and contact for Web Push (`push.rs`): `picket up` keeps the key
    /// in `<data dir>/vapid-key`; the default is a fresh random key (tests). The API serves its
    /// public half; the notifier signs with it.
    pub vapid: crate::vapid::VapidKeys,
    /// Whether a push subscription's endpoint may be `http://` to a loopback address (tests'
    /// push services). Off in production: endpoints are `https://` to a named host.
    pub push_loopback_http: bool,
    /// How long before a performance starts its doors open: scans before are refused as
    /// `not_yet_open`. At most [`DOORS_OPEN_BEFORE_START_MS_MAX`].
    pub doors_open_before_start_ms: u64,
    /// Messages a scanner's stream may send per second, and at once (`scanner.rs`): past it
    /// a message is answered `rate_limited` and not acted on. A handheld scanner reads a few
    /// codes a second and a gate's 10,000 in 10 minutes is 17 a second, so the default leaves
    /// room for a queue of scans sent at once after a hiccup; benches raise it to find what the
    /// ledger sustains. 1 to [`SCANNER_MESSAGES_PER_SEC_MAX`].
    pub scanner_messages_per_sec: u32,
    pub scanner_messages_burst: u32,
    /// Whether a newly registered company may publish at once (`automatic`, the default) or
    /// starts `pending` until an admin approves it (`required`). `picket up --seller-approval`
    /// (`PICKET_SELLER_APPROVAL`).
    pub seller_approval: crate::approval::SellerApproval,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            session_ttl_ms: 14 * 24 * 3_600_000,
            login_attempts_per_address_per_minute: 30,
            login_attempts_per_address_burst: 10,
            login_failures_free: 5,
            login_backoff_first_ms: 1_000,
            login_backoff_ms_max: 15 * 60_000,
            login_failures_forget_ms: 60 * 60_000,
            trusted_proxies: Vec::new(),
            body_bytes_max: 64 * 1_024,
            media_dir: std::path::PathBuf::from("data/media"),
            banner_store: media::BannerStore::Disk,
            sale_restore_interval_ms: 1_000,
            sale_restore_max: 1_000,
            webhook_lookups_per_sec: 100,
            webhook_confirm_grace_ms: 2_000,
            webhooks_deferred_max: 10_000,
            success_attempts_per_sec: 2,
            success_attempts_burst: 5,
            ticket_key: picket_edge::secret::TicketKey::generate(),
            vapid: crate::vapid::VapidKeys::generate(),
            push_loopback_http: false,
            doors_open_before_start_ms: 2 * 3_600_000,
            scanner_messages_per_sec: 20,
            scanner_messages_burst: 40,
            seller_approval: crate::approval::SellerApproval::Automatic,
        }
    }
}

/// Bounds of [`ApiConfig::sale_restore_interval_ms`]: more often would only load the stores;
/// less often leaves a lost sale missing (and a fresh draw unrecorded) for too long.
pub const SALE_RESTORE_INTERVAL_MS_MIN: u64 = 100;
pub const SALE_RESTORE_INTERVAL_MS_MAX: u64 = 60_000;
/// Largest [`ApiConfig::sale_restore_max`].
pub const SALE_RESTORE_MAX_MAX: u32 = 100_000;
/// Largest [`ApiConfig::webhook_lookups_per_sec`] (the limiter counts whole milliseconds).
pub const WEBHOOK_LOOKUPS_PER_SEC_MAX: u32 = 1_000;
/// Largest [`ApiConfig::webhook_confirm_grace_ms`]: a minute, the provider's first redelivery.
pub const WEBHOOK_CONFIRM_GRACE_MS_MAX: u64 = 60_000;
/// Largest [`ApiConfig::webhooks_deferred_max`].
pub const WEBHOOKS_DEFERRED_MAX_MAX: usize = 1_000_000;
/// Largest [`ApiConfig::success_attempts_per_sec`] and [`ApiConfig::success_attempts_burst`]:
/// beyond them the limit would not limit a buyer's provider calls.
pub const SUCCESS_ATTEMPTS_PER_SEC_MAX: u32 = 1_000;
pub const SUCCESS_ATTEMPTS_BURST_MAX: u32 = 1_000;
/// Largest [`ApiConfig::doors_open_before_start_ms`]: a month (a festival's season pass).
pub const DOORS_OPEN_BEFORE_START_MS_MAX: u64 = 31 * 24 * 3_600_000;
/// Largest [`ApiConfig::scanner_messages_per_sec`] and [`ApiConfig::scanner_messages_burst`]:
/// far above any scanner, for benches that measure the ledger through one stream.
pub const SCANNER_MESSAGES_PER_SEC_MAX: u32 = 1_000_000;

impl ApiConfig {
    /// Every setting out of its bounds, each named with the bound it breaks (empty: all good).
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !(SALE_RESTORE_INTERVAL_MS_MIN..=SALE_RESTORE_INTERVAL_MS_MAX)
            .contains(&self.sale_restore_interval_ms)
        {
            problems.push(format!(
                "sale_restore_interval_ms must be {SALE_RESTORE_INTERVAL_MS_MIN} to \
                 {SALE_RESTORE_INTERVAL_MS_MAX}, got {}",
                self.sale_restore_interval_ms
            ));
        }
        if !(1..=SALE_RESTORE_MAX_MAX).contains(&self.sale_restore_max) {
            problems.push(format!(
                "sale_restore_max must be 1 to {SALE_RESTORE_MAX_MAX}, got {}",
                self.sale_restore_max
            ));
        }
        if !(1..=WEBHOOK_LOOKUPS_PER_SEC_MAX).contains(&self.webhook_lookups_per_sec) {
            problems.push(format!(
                "webhook_lookups_per_sec must be 1 to {WEBHOOK_LOOKUPS_PER_SEC_MAX}, got {}",
                self.webhook_lookups_per_sec
            ));
        }
        if self.webhook_confirm_grace_ms > WEBHOOK_CONFIRM_GRACE_MS_MAX {
            problems.push(format!(
                "webhook_confirm_grace_ms must be at most {WEBHOOK_CONFIRM_GRACE_MS_MAX}, got {}",
                self.webhook_confirm_grace_ms
            ));
        }
        if !(1..=WEBHOOKS_DEFERRED_MAX_MAX).contains(&self.webhooks_deferred_max) {
            problems.push(format!(
                "webhooks_deferred_max must be 1 to {WEBHOOKS_DEFERRED_MAX_MAX}, got {}",
                self.webhooks_deferred_max
            ));
        }
        let success = [
            (
                "success_attempts_per_sec",
                self.success_attempts_per_sec,
                SUCCESS_ATTEMPTS_PER_SEC_MAX,
            ),
            (
                "success_attempts_burst",
                self.success_attempts_burst,
                SUCCESS_ATTEMPTS_BURST_MAX,
            ),
        ];
        let scanner = [
            (
                "scanner_messages_per_sec",
                self.scanner_messages_per_sec,
                SCANNER_MESSAGES_PER_SEC_MAX,
            ),
            (
                "scanner_messages_burst",
                self.scanner_messages_burst,
                SCANNER_MESSAGES_PER_SEC_MAX,
            ),
        ];
        for (name, value, max) in success.into_iter().chain(scanner) {
            if !(1..=max).contains(&value) {
                problems.push(format!("{name} must be 1 to {max}, got {value}"));
            }
        }
        if self.doors_open_before_start_ms > DOORS_OPEN_BEFORE_START_MS_MAX {
            problems.push(format!(
                "doors_open_before_start_ms must be at most {DOORS_OPEN_BEFORE_START_MS_MAX}, got {}",
                self.doors_open_before_start_ms
            ));
        }
        problems
    }

    /// Failures per key with this configuration's backoff (sign-ins, guest lookups).
    pub(crate) fn backoff(&self, free: u32) -> Backoff {
        Backoff::new(
            free,
            self.login_backoff_first_ms,
            self.login_backoff_ms_max,
            self.login_failures_forget_ms,
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiStartError {
    #[error("api store: {0}")]
    Store(#[from] sqlx::Error),
    #[error("api store migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

/// Where `GET /api/v2/admin/platform` (`platform.rs`) reads the services' status: implemented
/// by `picket up` (a status board over NATS, or its gateway and ledger in process).
pub trait PlatformSource: Send + Sync {
    fn platform(&self) -> picket_ledger_client::status::Platform;
}

pub struct Api {
    pub store: Store,
    pub keys: KeyRing,
    pub config: ApiConfig,
    /// The operator's bearer token (creates the first admin).
    pub(crate) operator_token: String,
    /// Where publishing opens inventory, and what the seats-left read model follows.
    pub ledger: Option<LedgerClient>,
    /// The waiting room publishing configures each performance's sale in.
    pub queue: Option<Arc<dyn QueueStore>>,
    pub seats_left: SeatsLeft,
    /// Each seat's state, for sellers' dashboards.
    pub seat_states: SeatStates,
    /// The bookings projection's open holds and the guest-lookup limits.
    pub bookings: Bookings,
    /// "Show published" announcements in this process.
    pub published: tokio::sync::broadcast::Sender<ShowPublished>,
    /// With NATS: announcements also go to the `PICKET_CATALOG` stream for the notifier.
    pub announcements: std::sync::OnceLock<async_nats::jetstream::Context>,
    /// Sign-in attempts per client address, and wrong passwords per email and address.
    pub(crate) login_per_address: Limiter,
    pub(crate) login_failures: Backoff,
    /// A real Argon2id hash that matches nothing: checked for unknown emails, so sign-in takes
    /// as long for them as for a wrong password.
    pub(crate) decoy_hash: String,
    pub(crate) next_id: AtomicU64,
    /// Periodic sale-restore passes finished (`restore::restore_sales`): a test that flushes
    /// the queue store waits for the start-up pass first, so only its own pass restores.
    pub sale_restore_passes: AtomicU64,
    /// Checkout, payment confirmation and the provider's webhook (set by [`Api::set_payments`]);
    /// without it the payment routes answer `payment_unavailable`.
    pub(crate) payments: std::sync::OnceLock<Arc<picket_payments::Flow>>,
    /// The services' status for the admin dashboard (set by [`Api::set_platform`]).
    pub(crate) platform: std::sync::OnceLock<Arc<dyn PlatformSource>>,
    /// Webhook transmissions handled lately, so a provider's retry is handled once.
    pub(crate) webhook_transmissions: std::sync::Mutex<picket_payments::TransmissionDedupe>,
    /// Webhook lookups in this process ([`ApiConfig::webhook_lookups_per_sec`]).
    pub(crate) webhook_lookups: Limiter,
    /// Webhooks waiting for the app's confirm ([`ApiConfig::webhooks_deferred_max`] permits).
    pub(crate) webhooks_deferred: Arc<tokio::sync::Semaphore>,
    /// Payment success URLs per buyer or client address ([`ApiConfig::success_attempts_per_sec`]).
    pub(crate) success_attempts: Limiter,
    /// Transfers to an address that is no member, per holder
    /// ([`crate::transfer::UNKNOWN_RECIPIENTS_PER_MINUTE`]): a holder cannot probe which
    /// addresses have accounts faster than that.
    pub(crate) transfer_lookups: Limiter,
    /// Offline manifests being built in this process, at most
    /// [`crate::door::MANIFEST_BUILDS_MAX`] (each derives and seals every ticket's entry).
    pub(crate) manifest_builds: tokio::sync::Semaphore,
    /// The API's own counters (problem responses by code), for `/metrics`.
    pub metrics: crate::metrics::ApiMetrics,
    /// The operations figures, once [`Api::watch_operations`] was given the registry.
    pub(crate) operations: std::sync::OnceLock<Arc<crate::metrics::Operations>>,
}

impl Api {
    /// The operator's bearer token (`operator.rs` checks it).
    pub fn operator_token(&self) -> &str {
        &self.operator_token
    }

    /// A new id: milliseconds since the epoch in the high bits, a counter and randomness below,
    /// so ids from several gateways do not collide and sort by creation time.
    pub(crate) fn new_id(&self) -> i64 {
        let low = (self.next_id.fetch_add(1, Ordering::Relaxed) & 0xff) << 8
            | u64::from(rand::random::<u8>());
        ((now_ms() << 16) | low) as i64 & i64::MAX
    }
}

pub fn now_ms() -> u64 {
    picket_edge::clock::now_ms()
}

/// The guest-lookup limits, and the switch that stops the API following the ledger.
pub struct Bookings {
    /// Wrong phones per booking number and client address.
    pub(crate) failures: Backoff,
    pub(crate) per_address: Limiter,
    pub(crate) everyone: Limiter,
    /// `true` tells the ledger follower (`follow.rs`) to stop.
    stop: watch::Sender<bool>,
}

impl Bookings {
    pub(crate) fn new(config: &ApiConfig) -> Self {
        Bookings {
            failures: config.backoff(LOOKUP_FAILURES_FREE),
            per_address: Limiter::new(LOOKUPS_PER_ADDRESS_PER_MINUTE, LOOKUPS_PER_ADDRESS_BURST),
            everyone: Limiter::new(LOOKUPS_PER_MINUTE, LOOKUPS_PER_MINUTE / 10),
            stop: watch::channel(false).0,
        }
    }
}

impl Bookings {
    /// What the follower watches; it holds it until it has stopped.
    pub(crate) fn stop_signal(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }

    /// Stops following the ledger (the bookings projection and the seats-left read model) and
    /// returns once the follower has stopped, between two transactions: the stored cursors are
    /// exactly where the projection is, and an API started later on the same database resumes
    /// there.
    pub async fn stop_following(&self) {
        self.stop.send_replace(true);
        self.stop.closed().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_success_url_limits_are_bounded() {
        assert_eq!(ApiConfig::default().problems(), Vec::<String>::new());
        let config = ApiConfig {
            success_attempts_per_sec: 0,
            success_attempts_burst: SUCCESS_ATTEMPTS_BURST_MAX + 1,
            ..ApiConfig::default()
        };
        assert_eq!(
            config.problems(),
            vec![
                "success_attempts_per_sec must be 1 to 1000, got 0".to_owned(),
                "success_attempts_burst must be 1 to 1000, got 1001".to_owned(),
            ]
        );
    }

    #[test]
    fn the_scanner_stream_limits_are_bounded() {
        let config = ApiConfig {
            scanner_messages_per_sec: 0,
            scanner_messages_burst: SCANNER_MESSAGES_PER_SEC_MAX + 1,
            ..ApiConfig::default()
        };
        assert_eq!(
            config.problems(),
            vec![
                "scanner_messages_per_sec must be 1 to 1000000, got 0".to_owned(),
                "scanner_messages_burst must be 1 to 1000000, got 1000001".to_owned(),
            ]
        );
    }
}
