//! The gateway's configuration, with every limit named.

use std::time::Duration;

/// Shortest position-push interval: faster pushes cost every waiting client's bandwidth.
pub const PUSH_INTERVAL_MIN: Duration = Duration::from_millis(100);
/// Longest position-push interval: the product promises a fresh position every 2 s.
pub const PUSH_INTERVAL_MAX: Duration = Duration::from_secs(2);
/// Shortest dashboard interval: a dashboard changes at most 4 times a second, more is noise.
pub const DASHBOARD_INTERVAL_MIN: Duration = Duration::from_millis(250);
/// Longest dashboard interval and refresh: the product promises updates within 2 s.
pub const DASHBOARD_INTERVAL_MAX: Duration = Duration::from_secs(2);
/// Shortest time a dashboard subscriber's session check is trusted: each check is a database
/// read on the API's side.
pub const DASHBOARD_SESSION_TTL_MIN: Duration = Duration::from_millis(250);
/// Longest time a dashboard subscriber's session check is trusted: a revoked session stops
/// getting its dashboard within this (and one `dashboard_refresh`).
pub const DASHBOARD_SESSION_TTL_MAX: Duration = Duration::from_secs(60);
/// Most WebSocket connections one gateway may be configured for: a process here may open at most
/// 20,000 files, and the listener, the stores and operators need some of them.
pub const CONNECTIONS_MAX_MAX: usize = 19_900;
/// Shortest HTTP header-read or idle timeout: a slow mobile link needs a few hundred ms.
pub const TIMEOUT_MIN: Duration = Duration::from_millis(100);
/// Longest HTTP header-read, idle or closing timeout, and longest drain: longer holds files for
/// idle clients (and keeps a stopping gateway's clients waiting).
pub const TIMEOUT_MAX: Duration = Duration::from_secs(600);

#[derive(Clone, Debug)]
pub struct GatewayConfig {
    /// Unique per gateway process: the name it takes admission-controller leases under.
    pub gateway_id: String,
    /// Open WebSocket connections; one more is told to try again later (close 1013).
    pub connections_max: usize,
    /// Largest message (and frame) a client may send, in bytes.
    pub message_bytes_max: usize,
    /// tungstenite's read buffer per connection: small, since client messages are small.
    pub read_buffer_bytes: usize,
    /// Bytes tungstenite gathers before writing to the socket (0: write each message).
    pub write_buffer_bytes: usize,
    /// Bytes tungstenite may hold for a client that does not read before sends fail.
    pub write_buffer_bytes_max: usize,
    /// Messages queued for one connection; a client that lets it fill is a slow reader and is
    /// closed (4009) rather than buffered without bound.
    pub outbound_queue_max: usize,
    /// Members whose notification subjects this gateway follows at most (one subscription per
    /// member with a connection here); a member past it gets no live notifications (their inbox
    /// has them), counted in `picket_gateway_notify_refused`.
    pub notify_members_max: usize,
    /// Longest a single write to a client may take before it counts as a slow reader.
    pub write_timeout: Duration,
    /// Messages a client may send per second, and the burst above that rate.
    pub messages_per_sec: u32,
    pub messages_burst: u32,
    /// Rate-limit errors in a row after which the connection is closed (4008).
    pub flood_strikes_max: u32,
    /// Time a new connection has to send `hello`.
    pub hello_timeout: Duration,
    /// Silence (no frame, no pong) after which a connection is closed (4000).
    pub idle_timeout: Duration,
    /// How often the gateway pings each connection.
    pub ping_interval: Duration,
    /// How often waiting clients get their position (at most 2 s, by the product's promise).
    pub push_interval: Duration,
    /// How often this gateway tries to take each sale's admission step.
    pub controller_interval: Duration,
    /// How long a controller lease lasts without renewal.
    pub lease_ms: u64,
    /// Booking attempts (hold, release, confirm, checkout, cancel) per identity per second, and
    /// the burst: one bucket for all of the identity's connections to this gateway.
    pub booking_attempts_per_sec: u32,
    pub booking_attempts_burst: u32,
    /// Booking commands per second from this gateway into the ledger, and the burst (the
    /// ledger's own bounded queue answers `busy` past what it takes from all gateways).
    pub ledger_commands_per_sec: u32,
    pub ledger_commands_burst: u32,
    /// Sales one connection may be in at once, and seat maps it may watch.
    pub subscriptions_max: usize,
    /// How long a guest token issued by the gateway lasts.
    pub guest_token_ttl_ms: u64,
    /// On shutdown: when clients are told to reconnect, and how long the gateway waits for
    /// them to go before closing the rest.
    pub drain_reconnect_after_ms: u64,
    pub drain_timeout: Duration,
    /// Time an HTTP request's headers have to arrive, counted from when the connection is ready
    /// for one (when it opens, and after each response on a kept-alive connection): a client
    /// trickling header lines, or keeping an idle connection, is cut off.
    pub header_read_timeout: Duration,
    /// Silence (no byte either way) after which an HTTP connection that has not become a
    /// WebSocket is closed, whatever it was doing (say, a body that stopped arriving).
    pub http_idle_timeout: Duration,
    /// Open connections that have not become WebSockets; more are closed as they are accepted.
    pub http_connections_max: usize,
    /// Open connections (HTTP and WebSocket) from one client address; more are closed as they
    /// are accepted. Generous: many people can share one carrier-grade NAT address.
    pub connections_per_address_max: usize,
    /// Whether connections from this machine (loopback addresses) are left out of
    /// `connections_per_address_max`: a proxy in front of the gateway on the same host, or a
    /// load tester, speaks for many clients.
    pub loopback_uncapped: bool,
    /// Files this process may open (`ulimit -n`; the lower of this and the process' own limit
    /// applies).
    pub files_max: usize,
    /// Files kept free of client connections: accepting stops when connections reach
    /// `files_max - files_reserved`, so the stores, the ledger and connections already open
    /// (health checks and operators on kept-alive connections among them) keep working.
    pub files_reserved: usize,
    /// After the gateway closes a connection (a WebSocket close frame, or an HTTP connection's
    /// last response), how long it still reads and drops what the client sends, waiting for the
    /// client to close too, so the last answer is not lost to a TCP reset.
    pub close_timeout: Duration,
    /// Sellers' dashboards (docs/protocol.md, "The seller's dashboard"): how often each
    /// watched performance's dashboard may be sent (at most once per interval, when something
    /// changed), how often it is sent anyway (the queue's numbers move without commits), and how
    /// many performances' dashboards one gateway follows at once.
    pub dashboard_interval: Duration,
    pub dashboard_refresh: Duration,
    pub dashboards_max: usize,
    /// How long a dashboard subscriber's session is trusted after the API's side last said it
    /// is live and manages the performance: it is asked again before the next dashboard after
    /// that, and a session that ended (or an account that no longer manages the show) ends
    /// the subscription (`dashboard_ended`).
    pub dashboard_session_ttl: Duration,
}

impl GatewayConfig {
    pub fn new(gateway_id: impl Into<String>) -> Self {
        GatewayConfig {
            gateway_id: gateway_id.into(),
            connections_max: 18_000,
            message_bytes_max: 4_096,
            read_buffer_bytes: 4_096,
            write_buffer_bytes: 0,
            write_buffer_bytes_max: 256 * 1_024,
            outbound_queue_max: 32,
            notify_members_max: 20_000,
            write_timeout: Duration::from_secs(10),
            messages_per_sec: 20,
            messages_burst: 40,
            flood_strikes_max: 20,
            hello_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(45),
            ping_interval: Duration::from_secs(15),
            push_interval: Duration::from_secs(1),
            controller_interval: Duration::from_millis(100),
            lease_ms: 2_000,
            booking_attempts_per_sec: 2,
            booking_attempts_burst: 5,
            ledger_commands_per_sec: 20_000,
            ledger_commands_burst: 20_000,
            subscriptions_max: 4,
            guest_token_ttl_ms: 30 * 24 * 3_600_000,
            drain_reconnect_after_ms: 1_000,
            drain_timeout: Duration::from_secs(10),
            header_read_timeout: Duration::from_secs(10),
            http_idle_timeout: Duration::from_secs(30),
            http_connections_max: 1_024,
            connections_per_address_max: 256,
            loopback_uncapped: true,
            files_max: 20_000,
            files_reserved: 500,
            close_timeout: Duration::from_secs(2),
            dashboard_interval: Duration::from_millis(250),
            dashboard_refresh: Duration::from_secs(2),
            dashboards_max: 256,
            dashboard_session_ttl: Duration::from_secs(5),
        }
    }
}

impl GatewayConfig {
    /// Every setting out of its bounds, each named with the bound it breaks (empty: all good).
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.gateway_id.is_empty() {
            problems.push("gateway_id must not be empty".to_owned());
        }
        if !(1..=CONNECTIONS_MAX_MAX).contains(&self.connections_max) {
            problems.push(format!(
                "connections_max must be 1 to {CONNECTIONS_MAX_MAX}, got {}",
                self.connections_max
            ));
        }
        if !(PUSH_INTERVAL_MIN..=PUSH_INTERVAL_MAX).contains(&self.push_interval) {
            problems.push(format!(
                "push_interval must be {} to {} ms, got {} ms",
                PUSH_INTERVAL_MIN.as_millis(),
                PUSH_INTERVAL_MAX.as_millis(),
                self.push_interval.as_millis()
            ));
        }
        let dashboard_times = [
            ("dashboard_interval", self.dashboard_interval),
            ("dashboard_refresh", self.dashboard_refresh),
        ];
        for (name, interval) in dashboard_times {
            if !(DASHBOARD_INTERVAL_MIN..=DASHBOARD_INTERVAL_MAX).contains(&interval) {
                problems.push(format!(
                    "{name} must be {} to {} ms, got {} ms",
                    DASHBOARD_INTERVAL_MIN.as_millis(),
                    DASHBOARD_INTERVAL_MAX.as_millis(),
                    interval.as_millis()
                ));
            }
        }
        if !(DASHBOARD_SESSION_TTL_MIN..=DASHBOARD_SESSION_TTL_MAX)
            .contains(&self.dashboard_session_ttl)
        {
            problems.push(format!(
                "dashboard_session_ttl must be {} to {} ms, got {} ms",
                DASHBOARD_SESSION_TTL_MIN.as_millis(),
                DASHBOARD_SESSION_TTL_MAX.as_millis(),
                self.dashboard_session_ttl.as_millis()
            ));
        }
        if self.files_reserved >= self.files_max {
            problems.push(format!(
                "files_reserved must be under files_max ({}), got {}",
                self.files_max, self.files_reserved
            ));
        } else if self.connections_max > self.files_max - self.files_reserved {
            problems.push(format!(
                "connections_max must be at most files_max - files_reserved ({}), got {}",
                self.files_max - self.files_reserved,
                self.connections_max
            ));
        }
        let timeouts = [
            ("header_read_timeout", self.header_read_timeout),
            ("http_idle_timeout", self.http_idle_timeout),
        ];
        for (name, timeout) in timeouts {
            if !(TIMEOUT_MIN..=TIMEOUT_MAX).contains(&timeout) {
                problems.push(format!(
                    "{name} must be {} to {} ms, got {} ms",
                    TIMEOUT_MIN.as_millis(),
                    TIMEOUT_MAX.as_millis(),
                    timeout.as_millis()
                ));
            }
        }
        if self.drain_timeout > TIMEOUT_MAX {
            problems.push(format!(
                "drain_timeout must be at most {} ms, got {} ms",
                TIMEOUT_MAX.as_millis(),
                self.drain_timeout.as_millis()
            ));
        }
        if self.close_timeout > TIMEOUT_MAX {
            problems.push(format!(
                "close_timeout must be at most {} ms, got {} ms",
                TIMEOUT_MAX.as_millis(),
                self.close_timeout.as_millis()
            ));
        }
        let positive = [
            ("message_bytes_max", self.message_bytes_max),
            ("read_buffer_bytes", self.read_buffer_bytes),
            ("write_buffer_bytes_max", self.write_buffer_bytes_max),
            ("outbound_queue_max", self.outbound_queue_max),
            ("notify_members_max", self.notify_members_max),
            ("subscriptions_max", self.subscriptions_max),
            ("dashboards_max", self.dashboards_max),
            ("http_connections_max", self.http_connections_max),
            (
                "connections_per_address_max",
                self.connections_per_address_max,
            ),
            ("messages_per_sec", self.messages_per_sec as usize),
            (
                "booking_attempts_per_sec",
                self.booking_attempts_per_sec as usize,
            ),
            (
                "ledger_commands_per_sec",
                self.ledger_commands_per_sec as usize,
            ),
        ];
        for (name, value) in positive {
            if value == 0 {
                problems.push(format!("{name} must be at least 1"));
            }
        }
        problems
    }
}

/// A gateway id unique to this process: `gw-<pid>-<random>`.
pub fn unique_gateway_id() -> String {
    format!("gw-{}-{:08x}", std::process::id(), rand::random::<u32>())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_pass_and_connection_limits_are_checked() {
        assert_eq!(GatewayConfig::new("gw").problems(), Vec::<String>::new());
        let mut config = GatewayConfig::new("gw");
        config.files_max = 1_000;
        config.files_reserved = 1_000;
        config.http_connections_max = 0;
        config.header_read_timeout = Duration::ZERO;
        config.drain_timeout = TIMEOUT_MAX + Duration::from_millis(1);
        let problems = config.problems();
        assert!(
            problems.iter().any(|p| p.starts_with("files_reserved")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("http_connections_max")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.starts_with("header_read_timeout")),
            "{problems:?}"
        );
        assert!(
            problems.iter().any(|p| p.starts_with("drain_timeout")),
            "{problems:?}"
        );
        config.files_reserved = 100;
        config.connections_max = 901;
        assert!(
            config
                .problems()
                .iter()
                .any(|p| p.starts_with("connections_max must be at most")),
        );
    }
}
