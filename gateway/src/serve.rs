//! Serving HTTP on the gateway's listener: the accept loop and every connection-level limit.
//!
//! - A request's headers must arrive within `header_read_timeout` of the connection being ready
//!   for one (hyper's timer; it also ends idle keep-alive connections).
//! - No byte either way for `http_idle_timeout` closes a connection that is not a WebSocket.
//! - `http_connections_max` connections may be open that have not become WebSockets (those
//!   are capped by `connections_max` in [`crate::conn`]), and `connections_per_address_max`
//!   from one client address (loopback aside when `loopback_uncapped`); a connection over
//!   either is closed as it is accepted.
//! - A closed connection lingers: the gateway sends its FIN and reads what the client still
//!   sends for up to `close_timeout`, so the last answer is not lost to a TCP reset.
//! - Accepting stops while the connections held reach the files the process may open less
//!   `files_reserved`, and resumes when some close; both are logged and in the metrics.

use std::collections::HashMap;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};

use crate::Gateway;
use crate::config::GatewayConfig;

/// How long the accept loop waits after an accept error that is not the client's (say, the
/// process is out of files) before trying again.
const ACCEPT_ERROR_PAUSE: Duration = Duration::from_secs(1);

/// The limit a refused connection was over, as named in the configuration and the metrics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Over {
    HttpConnectionsMax,
    ConnectionsPerAddressMax,
}

impl Over {
    pub fn name(self) -> &'static str {
        match self {
            Over::HttpConnectionsMax => "http_connections_max",
            Over::ConnectionsPerAddressMax => "connections_per_address_max",
        }
    }
}

/// What the listener holds: every accepted connection (HTTP and WebSocket), those not yet
/// WebSockets, and the count per client address.
#[derive(Default)]
struct Counts {
    held: usize,
    http: usize,
    per_address: HashMap<IpAddr, usize>,
}

/// The listener's books, shared by the accept loop and the connections' guards.
pub struct Books {
    counts: Mutex<Counts>,
    /// Woken when a connection closes, for an accept loop that stopped for lack of files.
    released: Notify,
    http_connections_max: usize,
    connections_per_address_max: usize,
    loopback_uncapped: bool,
}

impl Books {
    pub fn new(config: &GatewayConfig) -> Arc<Books> {
        Arc::new(Books {
            counts: Mutex::new(Counts::default()),
            released: Notify::new(),
            http_connections_max: config.http_connections_max,
            connections_per_address_max: config.connections_per_address_max,
            loopback_uncapped: config.loopback_uncapped,
        })
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Connections held now, HTTP and WebSocket.
    pub fn held(&self) -> usize {
        self.counts().held
    }

    /// Takes a place for a new connection from `address`, or says which limit it is over.
    pub fn admit(self: &Arc<Self>, address: IpAddr) -> Result<(Held, HttpSlot), Over> {
        let mut counts = self.counts();
        if counts.http >= self.http_connections_max {
            return Err(Over::HttpConnectionsMax);
        }
        let from_address = counts.per_address.entry(address).or_insert(0);
        let capped = !(self.loopback_uncapped && address.is_loopback());
        if capped && *from_address >= self.connections_per_address_max {
            return Err(Over::ConnectionsPerAddressMax);
        }
        *from_address += 1;
        counts.held += 1;
        counts.http += 1;
        Ok((
            Held {
                books: self.clone(),
                address,
            },
            HttpSlot {
                books: self.clone(),
            },
        ))
    }
}

/// A connection's place in the books for as long as its socket lives (also after it became a
/// WebSocket: the guard travels inside the socket).
pub struct Held {
    books: Arc<Books>,
    address: IpAddr,
}

impl Drop for Held {
    fn drop(&mut self) {
        {
            let mut counts = self.books.counts();
            counts.held -= 1;
            if let Some(from_address) = counts.per_address.get_mut(&self.address) {
                *from_address -= 1;
                if *from_address == 0 {
                    counts.per_address.remove(&self.address);
                }
            }
        }
        self.books.released.notify_one();
    }
}

/// A connection's place among those that have not become WebSockets.
pub struct HttpSlot {
    books: Arc<Books>,
}

impl Drop for HttpSlot {
    fn drop(&mut self) {
        self.books.counts().http -= 1;
    }
}

/// When a connection last moved a byte, in milliseconds since it opened.
struct Activity {
    opened: Instant,
    last_ms: AtomicU64,
}

impl Activity {
    fn touch(&self) {
        let now_ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_ms.store(now_ms, Ordering::Relaxed);
    }

    fn silent_for(&self) -> Duration {
        let now_ms = u64::try_from(self.opened.elapsed().as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(now_ms.saturating_sub(self.last_ms.load(Ordering::Relaxed)))
    }
}

/// A client's socket that notes every byte moved and carries the connection's place in the
/// books until it is dropped, then lingers (see [`linger`]). Both options are `Some` until the
/// drop.
struct Tracked {
    stream: Option<TcpStream>,
    activity: Arc<Activity>,
    held: Option<Held>,
    linger: Duration,
}

impl Tracked {
    fn stream(&mut self) -> Pin<&mut TcpStream> {
        Pin::new(
            self.stream
                .as_mut()
                .unwrap_or_else(|| unreachable!("the stream is only taken on drop")),
        )
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        let (Some(stream), Ok(runtime)) =
            (self.stream.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        runtime.spawn(linger(stream, self.linger, self.held.take()));
    }
}

/// Closes a connection the way RFC 9112 (section 9.6) asks: send our FIN, then read and drop
/// what the client still sends until it closes too, for at most `wait`. Closing a socket with
/// unread data (a body the server refused, a flood of WebSocket messages) makes the kernel send
/// a reset, and a reset destroys the answer (a 413, a close frame) on its way to the client.
/// The connection keeps its place in the books meanwhile: it still holds a file.
async fn linger(mut stream: TcpStream, wait: Duration, _held: Option<Held>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let _ = tokio::time::timeout(wait, async {
        stream.shutdown().await?;
        let mut sink = [0u8; 4_096];
        while stream.read(&mut sink).await? > 0 {}
        io::Result::Ok(())
    })
    .await;
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = self.stream().poll_read(cx, buf);
        if buf.filled().len() > before {
            self.activity.touch();
        }
        polled
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let polled = self.stream().poll_write(cx, buf);
        if matches!(polled, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        polled
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream().poll_shutdown(cx)
    }
}

/// The soft limit on open files of this process, from `/proc/self/limits` (None when it cannot
/// be read, or is unlimited).
pub fn process_files_max() -> Option<usize> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    files_max_of(&limits)
}

/// The soft "Max open files" of a `/proc/<pid>/limits` text.
fn files_max_of(limits: &str) -> Option<usize> {
    limits
        .lines()
        .find_map(|line| line.strip_prefix("Max open files"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|soft| soft.parse().ok())
}

/// Connections the listener may hold: the files the process may open (the configured
/// `files_max`, or the process' own limit when lower) less `files_reserved`, which never takes
/// more than half of them (a process limit below the reserve must not stop all accepting).
pub fn connections_budget(config: &GatewayConfig, process_files_max: Option<usize>) -> usize {
    let files_max = process_files_max.map_or(config.files_max, |p| p.min(config.files_max));
    files_max - config.files_reserved.min(files_max / 2)
}

/// Accepts and serves connections on `listener` until `stop` turns true; then asks every HTTP
/// connection to finish and waits for them (WebSockets are the drain's).
pub async fn accept_loop(
    gateway: Arc<Gateway>,
    listener: TcpListener,
    router: axum::Router,
    mut stop: watch::Receiver<bool>,
) {
    let config = &gateway.config;
    let books = Books::new(config);
    let process_files_max = process_files_max();
    let budget = connections_budget(config, process_files_max);
    tracing::info!(
        connections_budget = budget,
        files_max = config.files_max,
        process_files_max,
        files_reserved = config.files_reserved,
        "gateway accepting"
    );
    if process_files_max.is_some_and(|process| process < config.files_max) {
        tracing::warn!(
            process_files_max,
            files_max = config.files_max,
            "the process may open fewer files than files_max; raise ulimit -n"
        );
    }
    let (closing_tx, closing_rx) = watch::channel(false);
    loop {
        if books.held() >= budget && !wait_for_files(&gateway, &books, budget, &mut stop).await {
            break;
        }
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = stopped(&mut stop) => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) if client_error(&error) => continue,
            Err(error) => {
                tracing::warn!(%error, held = books.held(), "accept failed; pausing");
                tokio::select! {
                    _ = tokio::time::sleep(ACCEPT_ERROR_PAUSE) => continue,
                    _ = stopped(&mut stop) => break,
                }
            }
        };
        match books.admit(peer.ip()) {
            Ok((held, slot)) => {
                gateway.metrics.http_connections.inc();
                tokio::spawn(serve_connection(
                    gateway.clone(),
                    stream,
                    peer,
                    router.clone(),
                    (held, slot),
                    closing_rx.clone(),
                ));
            }
            Err(over) => {
                tracing::debug!(%peer, limit = over.name(), "connection refused");
                gateway
                    .metrics
                    .http_refused
                    .get_or_create(&crate::metrics::CodeLabel {
                        code: over.name().to_owned(),
                    })
                    .inc();
            }
        }
    }
    drop(listener);
    closing_tx.send_replace(true);
    drop(closing_rx);
    closing_tx.closed().await;
}

/// Stops accepting until a connection closes and the listener is under `budget` again; false
/// when told to stop meanwhile.
async fn wait_for_files(
    gateway: &Gateway,
    books: &Books,
    budget: usize,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    let config = &gateway.config;
    gateway.metrics.accept_paused.set(1);
    gateway.metrics.accept_pauses.inc();
    tracing::warn!(
        held = books.held(),
        files_max = config.files_max,
        files_reserved = config.files_reserved,
        "accepting paused: files_reserved files are kept free"
    );
    while books.held() >= budget {
        tokio::select! {
            _ = books.released.notified() => {}
            _ = stopped(stop) => return false,
        }
    }
    gateway.metrics.accept_paused.set(0);
    tracing::info!(held = books.held(), "accepting resumed");
    true
}

/// Resolves once `stop` is true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stop| *stop).await;
}

/// Accept errors that concern one client only: the next accept may well succeed.
fn client_error(error: &io::Error) -> bool {
    matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    )
}

/// One HTTP connection (which may become a WebSocket), with its timeouts.
async fn serve_connection(
    gateway: Arc<Gateway>,
    stream: TcpStream,
    peer: SocketAddr,
    router: axum::Router,
    (held, slot): (Held, HttpSlot),
    mut closing: watch::Receiver<bool>,
) {
    let config = &gateway.config;
    let activity = Arc::new(Activity {
        opened: Instant::now(),
        last_ms: AtomicU64::new(0),
    });
    let io = TokioIo::new(Tracked {
        stream: Some(stream),
        activity: activity.clone(),
        held: Some(held),
        linger: config.close_timeout,
    });
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        // Handlers that need the client's address take `ConnectInfo<SocketAddr>`.
        request.extensions_mut().insert(ConnectInfo(peer));
        let mut router = router.clone();
        tower_service::Service::call(&mut router, request.map(axum::body::Body::new))
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(config.header_read_timeout);
    let connection = builder.serve_connection(io, service).with_upgrades();
    tokio::pin!(connection);
    let check_every =
        (config.http_idle_timeout / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
    let mut check = tokio::time::interval(check_every);
    check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut shutting_down = false;
    loop {
        tokio::select! {
            served = connection.as_mut() => {
                if let Err(error) = served {
                    tracing::debug!(%peer, %error, "http connection ended");
                }
                break;
            }
            _ = closing.wait_for(|closing| *closing), if !shutting_down => {
                shutting_down = true;
                connection.as_mut().graceful_shutdown();
            }
            _ = check.tick() => {
                if activity.silent_for() > config.http_idle_timeout {
                    tracing::debug!(%peer, "http connection idle; closed");
                    gateway.metrics.close("http idle");
                    break;
                }
            }
        }
    }
    drop(slot);
    gateway.metrics.http_connections.dec();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(http_max: usize, per_address_max: usize) -> GatewayConfig {
        let mut config = GatewayConfig::new("test");
        config.http_connections_max = http_max;
        config.connections_per_address_max = per_address_max;
        config
    }

    #[test]
    fn caps_hold_per_address_and_for_connections_not_yet_websockets() {
        let books = Books::new(&config(3, 2));
        let a: IpAddr = "10.0.0.1".parse().expect("ip");
        let b: IpAddr = "10.0.0.2".parse().expect("ip");
        let first = books.admit(a).expect("first");
        let second = books.admit(a).expect("second");
        assert_eq!(books.admit(a).err(), Some(Over::ConnectionsPerAddressMax));
        let third = books.admit(b).expect("third");
        assert_eq!(books.admit(b).err(), Some(Over::HttpConnectionsMax));
        // Becoming a WebSocket frees the HTTP slot, not the address' place.
        let (held, slot) = first;
        drop(slot);
        assert_eq!(books.admit(a).err(), Some(Over::ConnectionsPerAddressMax));
        assert!(books.admit(b).is_ok());
        assert_eq!(books.held(), 3, "the refused and the dropped are not held");
        drop(held);
        drop((second, third));
        assert_eq!(books.held(), 0);
        assert!(books.counts().per_address.is_empty());
    }

    #[test]
    fn loopback_is_uncapped_per_address_when_configured() {
        let local: IpAddr = "127.0.0.1".parse().expect("ip");
        let books = Books::new(&config(10, 1));
        let kept: Vec<_> = (0..5).map(|_| books.admit(local).expect("local")).collect();
        assert_eq!(books.held(), kept.len());
        let mut strict = config(10, 1);
        strict.loopback_uncapped = false;
        let books = Books::new(&strict);
        let _first = books.admit(local).expect("first");
        assert_eq!(
            books.admit(local).err(),
            Some(Over::ConnectionsPerAddressMax)
        );
    }

    #[test]
    fn the_budget_keeps_files_reserved_under_the_lower_limit() {
        let mut config = GatewayConfig::new("test");
        config.files_max = 20_000;
        config.files_reserved = 500;
        assert_eq!(connections_budget(&config, None), 19_500);
        assert_eq!(connections_budget(&config, Some(1_024)), 524);
        assert_eq!(connections_budget(&config, Some(1_000_000)), 19_500);
        assert_eq!(connections_budget(&config, Some(256)), 128);
    }

    #[test]
    fn reads_the_soft_open_files_limit() {
        let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                      Max processes             63471                63471                processes\n\
                      Max open files            1024                 1048576              files\n";
        assert_eq!(files_max_of(limits), Some(1_024));
        assert_eq!(
            files_max_of(
                "Max open files            unlimited            unlimited            files"
            ),
            None
        );
    }
}
