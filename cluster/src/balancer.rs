//! The one gateway port: a TCP load balancer in the supervising process. Each accepted
//! connection goes to the next gateway in turn that is up and accepts it, and is then forwarded
//! byte for byte both ways (so WebSockets pass: the upgrade is the gateway's business) until
//! either side closes. A gateway that exited, or refuses the connection, is skipped.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};

/// How long connecting to one gateway may take before the next is tried.
pub const GATEWAY_CONNECT_WAIT_MAX: Duration = Duration::from_secs(2);

/// One gateway behind the port.
pub struct Backend {
    pub name: String,
    pub address: SocketAddr,
    up: AtomicBool,
}

/// The gateways behind the port, in turn.
pub struct Backends {
    backends: Vec<Backend>,
    next: AtomicUsize,
}

impl Backends {
    pub fn new(gateways: Vec<(String, SocketAddr)>) -> Arc<Backends> {
        Arc::new(Backends {
            backends: gateways
                .into_iter()
                .map(|(name, address)| Backend {
                    name,
                    address,
                    up: AtomicBool::new(true),
                })
                .collect(),
            next: AtomicUsize::new(0),
        })
    }

    /// Takes the gateway named `name` out of the turn (its process exited).
    pub fn mark_down(&self, name: &str) {
        for backend in self.backends.iter().filter(|b| b.name == name) {
            backend.up.store(false, Ordering::SeqCst);
        }
    }

    /// The gateways still in the turn.
    pub fn up(&self) -> Vec<&Backend> {
        self.backends
            .iter()
            .filter(|b| b.up.load(Ordering::SeqCst))
            .collect()
    }

    /// A connection to the next gateway in turn that accepts one, trying each at most once.
    async fn connect(&self) -> Option<(TcpStream, &Backend)> {
        let count = self.backends.len();
        let first = self.next.fetch_add(1, Ordering::Relaxed);
        for offset in 0..count {
            let backend = &self.backends[(first + offset) % count];
            if !backend.up.load(Ordering::SeqCst) {
                continue;
            }
            let connecting = TcpStream::connect(backend.address);
            match tokio::time::timeout(GATEWAY_CONNECT_WAIT_MAX, connecting).await {
                Ok(Ok(stream)) => return Some((stream, backend)),
                Ok(Err(error)) => {
                    tracing::debug!(gateway = %backend.name, %error, "gateway refused; next")
                }
                Err(_) => tracing::debug!(gateway = %backend.name, "gateway slow to accept; next"),
            }
        }
        None
    }
}

/// Accepts on `listener` until `stop` resolves, forwarding each connection to a gateway. A
/// connection no gateway takes is closed at once. Forwarding tasks end with their connections.
pub async fn run(
    listener: TcpListener,
    backends: Arc<Backends>,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        let accepted = tokio::select! {
            _ = &mut stop => return,
            accepted = listener.accept() => accepted,
        };
        let (client, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of files, say: the next accept may work once connections close.
                tracing::warn!(%error, "the gateway port could not accept");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let backends = backends.clone();
        tokio::spawn(async move {
            let Some((mut gateway, backend)) = backends.connect().await else {
                tracing::warn!(%peer, "no gateway took the connection");
                return;
            };
            let _ = client.set_nodelay(true);
            let _ = gateway.set_nodelay(true);
            let mut client = client;
            if let Err(error) = tokio::io::copy_bidirectional(&mut client, &mut gateway).await {
                tracing::debug!(%peer, gateway = %backend.name, %error, "connection ended");
            }
        });
    }
}
