//! The gateway's Prometheus metrics.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabel {
    pub code: String,
}

pub struct Metrics {
    pub connections: Gauge,
    pub connections_refused: Counter,
    pub messages_in: Counter,
    pub errors: Family<CodeLabel, Counter>,
    pub closes: Family<CodeLabel, Counter>,
    pub joins: Counter,
    pub admissions_issued: Counter,
    pub slow_readers: Counter,
    pub push_seconds: Histogram,
    pub booking_seconds: Histogram,
    pub store_unavailable: Counter,
    /// HTTP connections open that have not become WebSockets.
    pub http_connections: Gauge,
    /// Connections closed as they were accepted, by the limit they were over.
    pub http_refused: Family<CodeLabel, Counter>,
    /// 1 while accepting is stopped to keep `files_reserved` files free.
    pub accept_paused: Gauge,
    /// Times accepting stopped for lack of files.
    pub accept_pauses: Counter,
    /// `notification` messages queued to connections.
    pub notifications_sent: Counter,
    /// Notifications not sent, by reason: `buffer_full` (the connection's send buffer),
    /// `too_large`, `undecodable`.
    pub notifications_dropped: Family<CodeLabel, Counter>,
    /// Members whose notification subject this gateway follows.
    pub notify_members: Gauge,
    /// Members not followed because `notify_members_max` were.
    pub notify_refused: Counter,
    /// `dashboard` messages composed (each goes to every subscriber of its performance).
    pub dashboards_sent: Counter,
    /// Performances whose dashboards this gateway follows.
    pub dashboards: Gauge,
}

impl Metrics {
    pub fn new(registry: &mut Registry) -> Self {
        let registry = registry.sub_registry_with_prefix("picket_gateway");
        let metrics = Metrics {
            connections: Gauge::default(),
            connections_refused: Counter::default(),
            messages_in: Counter::default(),
            errors: Family::default(),
            closes: Family::default(),
            joins: Counter::default(),
            admissions_issued: Counter::default(),
            slow_readers: Counter::default(),
            push_seconds: Histogram::new(exponential_buckets(0.000_1, 2.0, 16)),
            booking_seconds: Histogram::new(exponential_buckets(0.000_1, 2.0, 16)),
            store_unavailable: Counter::default(),
            http_connections: Gauge::default(),
            http_refused: Family::default(),
            accept_paused: Gauge::default(),
            accept_pauses: Counter::default(),
            notifications_sent: Counter::default(),
            notifications_dropped: Family::default(),
            notify_members: Gauge::default(),
            notify_refused: Counter::default(),
            dashboards_sent: Counter::default(),
            dashboards: Gauge::default(),
        };
        registry.register(
            "connections",
            "Open WebSocket connections",
            metrics.connections.clone(),
        );
        registry.register(
            "connections_refused",
            "Connections refused over connections_max",
            metrics.connections_refused.clone(),
        );
        registry.register(
            "messages_in",
            "Client messages received",
            metrics.messages_in.clone(),
        );
        registry.register(
            "errors",
            "Errors sent to clients, by code",
            metrics.errors.clone(),
        );
        registry.register(
            "closes",
            "Connections closed by the gateway, by reason",
            metrics.closes.clone(),
        );
        registry.register("joins", "Queue joins", metrics.joins.clone());
        registry.register(
            "admissions_issued",
            "Admission tokens handed out",
            metrics.admissions_issued.clone(),
        );
        registry.register(
            "slow_readers",
            "Connections closed for not reading",
            metrics.slow_readers.clone(),
        );
        registry.register(
            "push_seconds",
            "Time to push position updates for one sale",
            metrics.push_seconds.clone(),
        );
        registry.register(
            "booking_seconds",
            "Booking command round trip through the ledger",
            metrics.booking_seconds.clone(),
        );
        registry.register(
            "store_unavailable",
            "Queue store calls that failed",
            metrics.store_unavailable.clone(),
        );
        registry.register(
            "http_connections",
            "Open HTTP connections that have not become WebSockets",
            metrics.http_connections.clone(),
        );
        registry.register(
            "http_refused",
            "Connections closed as they were accepted, by the limit they were over",
            metrics.http_refused.clone(),
        );
        registry.register(
            "accept_paused",
            "1 while accepting is stopped to keep files_reserved files free",
            metrics.accept_paused.clone(),
        );
        registry.register(
            "accept_pauses",
            "Times accepting stopped for lack of files",
            metrics.accept_pauses.clone(),
        );
        registry.register(
            "notifications_sent",
            "Notification messages queued to connections",
            metrics.notifications_sent.clone(),
        );
        registry.register(
            "notifications_dropped",
            "Notifications not sent, by reason (buffer_full, too_large, undecodable)",
            metrics.notifications_dropped.clone(),
        );
        registry.register(
            "notify_members",
            "Members whose notification subject this gateway follows",
            metrics.notify_members.clone(),
        );
        registry.register(
            "notify_refused",
            "Members not followed because notify_members_max were",
            metrics.notify_refused.clone(),
        );
        registry.register(
            "dashboards_sent",
            "Dashboard messages composed, each sent to its performance's subscribers",
            metrics.dashboards_sent.clone(),
        );
        registry.register(
            "dashboards",
            "Performances whose sellers' dashboards this gateway follows",
            metrics.dashboards.clone(),
        );
        metrics
    }

    pub fn notification_dropped(&self, reason: &str) {
        self.notifications_dropped
            .get_or_create(&CodeLabel {
                code: reason.to_owned(),
            })
            .inc();
    }

    pub fn error(&self, code: &str) {
        self.errors
            .get_or_create(&CodeLabel {
                code: code.to_owned(),
            })
            .inc();
    }

    pub fn close(&self, reason: &str) {
        self.closes
            .get_or_create(&CodeLabel {
                code: reason.to_owned(),
            })
            .inc();
    }
}
