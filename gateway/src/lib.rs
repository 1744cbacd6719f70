//! The gateway: the stateless edge that apps stay connected to.
//!
//! ```text
//!  app ──WebSocket (picket.v2)──▶ conn ──▶ hub (local rooms, watchers)
//!                                  │         ▲ push_loop / controller_loop ──▶ QueueStore (Redis
//!                                  │         │                                 or in-memory)
//!                                  │         └ seat_loop ◀── ledger's committed events
//!                                  └── booking commands (admission token checked) ──▶ ledger
//! ```
//!
//! - [`conn`]: one task per connection; every per-connection limit.
//! - [`hub`]: the gateway's own connections by sale and seat map; the push, controller and seat
//!   loops.
//! - [`picket_room`] (its own crate): the waiting room's shared state behind
//!   [`picket_room::QueueStore`].
//! - [`notify`]: members' live notifications: one bus subscription per member connected here,
//!   fanned out to the member's connections as `notification` messages.
//! - [`protocol`]: protocol v2 messages (ids as strings) and the decoder.
//! - [`http`]: the routes: `/ws`, `/healthz`, `/metrics` (the HTTP API is `picket-api`'s).
//! - [`serve`]: the accept loop and every connection-level limit (timeouts, caps, files kept
//!   free).

pub mod config;
pub mod conn;
pub mod dashboard;
pub mod http;
pub mod hub;
pub mod limits;
pub mod metrics;
pub mod notify;
pub mod protocol;
pub mod serve;

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use picket_ledger_client::LedgerClient;
use prometheus_client::registry::Registry;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use config::GatewayConfig;
pub use picket_edge::token::KeyRing;
pub use picket_room::QueueStore;

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("gateway http server failed: {0}")]
    Http(#[from] std::io::Error),
}

/// One gateway: its configuration, keys, the shared queue store, the ledger it sends commands
/// to, and its own connections.
pub struct Gateway {
    pub config: GatewayConfig,
    pub keys: KeyRing,
    pub store: Arc<dyn QueueStore>,
    pub ledger: LedgerClient,
    pub hub: hub::Hub,
    /// Every booking command's seat limit and rates, in this gateway's memory.
    pub limits: limits::CommandLimiter,
    pub metrics: metrics::Metrics,
    /// Checkout and payment confirmation (set once by [`Gateway::set_payments`]); without it a
    /// `checkout` or `confirm` is `payment_unavailable`.
    payments: std::sync::OnceLock<Arc<picket_payments::Flow>>,
    /// Members' notifications (set once by [`Gateway::set_notices`]); without it members get no
    /// live `notification` messages.
    notices: std::sync::OnceLock<picket_ledger_client::Notices>,
    /// The members whose notifications this gateway follows.
    pub followers: notify::Followers,
    /// Sellers' dashboards: who follows which performance's.
    pub boards: dashboard::Boards,
    /// The API's side of dashboards (set once by [`Gateway::set_dashboards`]); without it a
    /// `dashboard` is `dashboard_unavailable`.
    dashboards: std::sync::OnceLock<Arc<dyn picket_edge::dashboard::DashboardSource>>,
    /// What `/metrics` renders, and the operator token it asks for (set by [`Gateway::serve_metrics`]).
    metrics_access: std::sync::Mutex<Option<MetricsAccess>>,
    connections: AtomicUsize,
    next_conn: AtomicU64,
    draining: watch::Sender<bool>,
    tasks: std::sync::Mutex<Vec<JoinHandle<()>>>,
}

impl Gateway {
    /// Builds a gateway and starts its background loops. Metrics go into `registry`.
    pub fn start(
        config: GatewayConfig,
        keys: KeyRing,
        store: Arc<dyn QueueStore>,
        ledger: LedgerClient,
        registry: &mut Registry,
    ) -> Arc<Gateway> {
        let gateway = Arc::new(Gateway {
            metrics: metrics::Metrics::new(registry),
            config,
            keys,
            store,
            ledger,
            hub: hub::Hub::default(),
            limits: limits::CommandLimiter::default(),
            payments: std::sync::OnceLock::new(),
            notices: std::sync::OnceLock::new(),
            followers: notify::Followers::default(),
            boards: dashboard::Boards::default(),
            dashboards: std::sync::OnceLock::new(),
            metrics_access: std::sync::Mutex::new(None),
            connections: AtomicUsize::new(0),
            next_conn: AtomicU64::new(1),
            draining: watch::channel(false).0,
            tasks: std::sync::Mutex::new(Vec::new()),
        });
        let tasks = vec![
            tokio::spawn(hub::push_loop(gateway.clone())),
            tokio::spawn(hub::controller_loop(gateway.clone())),
            tokio::spawn(hub::seat_loop(gateway.clone())),
            tokio::spawn(dashboard::dashboard_loop(gateway.clone())),
        ];
        *gateway.tasks.lock().unwrap_or_else(|p| p.into_inner()) = tasks;
        gateway
    }

    /// Sets the registry `/metrics` renders (after every service registered its metrics), to
    /// requests bearing `operator_token`: the counters tell how a sale is going, which is the
    /// operator's business. An empty token matches nothing.
    pub fn serve_metrics(&self, registry: Arc<Registry>, operator_token: impl Into<String>) {
        *self
            .metrics_access
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some(MetricsAccess {
            registry,
            operator_token: operator_token.into(),
        });
    }

    /// Lets buyers pay through `flow` (once; a second call is ignored).
    pub fn set_payments(&self, flow: Arc<picket_payments::Flow>) {
        let _ = self.payments.set(flow);
    }

    pub fn payments(&self) -> Option<&Arc<picket_payments::Flow>> {
        self.payments.get()
    }

    /// Sends members the notifications published on `notices` (once; a second call is ignored).
    /// Set it before serving: connections made earlier are not followed.
    pub fn set_notices(&self, notices: picket_ledger_client::Notices) {
        let _ = self.notices.set(notices);
    }

    pub fn notices(&self) -> Option<&picket_ledger_client::Notices> {
        self.notices.get()
    }

    /// Serves sellers' dashboards from `source` (the API's side: `picket_api::dashboard::source`;
    /// once, a second call is ignored).
    pub fn set_dashboards(&self, source: Arc<dyn picket_edge::dashboard::DashboardSource>) {
        let _ = self.dashboards.set(source);
    }

    pub fn dashboards(&self) -> Option<Arc<dyn picket_edge::dashboard::DashboardSource>> {
        self.dashboards.get().cloned()
    }

    fn metrics_access(&self) -> Option<MetricsAccess> {
        self.metrics_access
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn try_admit_connection(&self) -> bool {
        let admitted = self
            .connections
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < self.config.connections_max && !*self.draining.borrow()).then_some(open + 1)
            })
            .is_ok();
        if admitted {
            self.metrics.connections.inc();
        }
        admitted
    }

    fn release_connection(&self) {
        self.connections.fetch_sub(1, Ordering::AcqRel);
        self.metrics.connections.dec();
    }

    fn next_conn_id(&self) -> u64 {
        self.next_conn.fetch_add(1, Ordering::Relaxed)
    }

    pub fn open_connections(&self) -> usize {
        self.connections.load(Ordering::Acquire)
    }

    /// Graceful drain: refuse new connections, tell every client to reconnect elsewhere (their
    /// places are kept in the shared store), and wait up to `drain_timeout` for them to go.
    pub async fn drain(&self) {
        self.draining.send_replace(true);
        let deadline = tokio::time::Instant::now() + self.config.drain_timeout;
        while self.open_connections() > 0 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        // Admissions spent since the last push round end in the store now, not when they
        // expire: their slots go to the next in line.
        hub::flush_finishes(self).await;
        for task in self
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .drain(..)
        {
            task.abort();
        }
    }
}

/// The registry `/metrics` renders and the token it asks for.
#[derive(Clone)]
struct MetricsAccess {
    registry: Arc<Registry>,
    operator_token: String,
}

/// Serves the gateway on `listener` until `shutdown` resolves, then drains it.
pub async fn run(
    gateway: Arc<Gateway>,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), GatewayError> {
    run_with(gateway, listener, axum::Router::new(), shutdown).await
}

/// [`run`], also serving `routes` (the HTTP API) on the same listener, under the connection
/// limits of [`serve`].
pub async fn run_with(
    gateway: Arc<Gateway>,
    listener: TcpListener,
    routes: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), GatewayError> {
    let app = http::router(gateway.clone()).merge(routes);
    let (stop_tx, stop_rx) = watch::channel(false);
    let server = tokio::spawn(serve::accept_loop(gateway.clone(), listener, app, stop_rx));
    shutdown.await;
    tracing::info!(connections = gateway.open_connections(), "gateway draining");
    gateway.drain().await;
    stop_tx.send_replace(true);
    server
        .await
        .map_err(|error| GatewayError::Http(std::io::Error::other(error)))
}
