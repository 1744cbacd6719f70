//! A TCP forwarder a test can cut and restore, to cut one process off from a server.

use std::net::{TcpListener, TcpStream};

use crate::HarnessError;
use picket_cluster::error::io_error;

/// A TCP forwarder on a free loopback port to `127.0.0.1:<upstream>`, which a test can cut
/// (every connection through it dropped, new ones refused: one process cut off from a server
/// that others still reach) and restore.
pub struct TcpProxy {
    port: u16,
    state: std::sync::Arc<ProxyState>,
}

#[derive(Default)]
struct ProxyState {
    cut: std::sync::atomic::AtomicBool,
    stopped: std::sync::atomic::AtomicBool,
    open: std::sync::Mutex<Vec<TcpStream>>,
}

impl ProxyState {
    fn drop_all(&self) {
        let open = std::mem::take(&mut *self.open.lock().unwrap_or_else(|p| p.into_inner()));
        for stream in open {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }
}

impl TcpProxy {
    pub fn start(upstream: u16) -> Result<TcpProxy, HarnessError> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(io_error("proxy bind"))?;
        let port = listener
            .local_addr()
            .map_err(io_error("proxy addr"))?
            .port();
        let state = std::sync::Arc::new(ProxyState::default());
        let accepting = state.clone();
        std::thread::spawn(move || {
            use std::sync::atomic::Ordering::SeqCst;
            for client in listener.incoming() {
                if accepting.stopped.load(SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                if accepting.cut.load(SeqCst) {
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let (Ok(client_out), Ok(server_out)) = (client.try_clone(), server.try_clone())
                else {
                    continue;
                };
                {
                    let mut open = accepting.open.lock().unwrap_or_else(|p| p.into_inner());
                    for stream in [&client, &server] {
                        if let Ok(clone) = stream.try_clone() {
                            open.push(clone);
                        }
                    }
                }
                std::thread::spawn(move || pipe(client, server_out));
                std::thread::spawn(move || pipe(server, client_out));
            }
        });
        Ok(TcpProxy { port, state })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Drops every connection through the proxy and refuses new ones.
    pub fn cut(&self) {
        self.state
            .cut
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.state.drop_all();
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.state
            .cut
            .store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let _ = std::io::copy(&mut from, &mut to);
    let _ = to.shutdown(std::net::Shutdown::Both);
    let _ = from.shutdown(std::net::Shutdown::Both);
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.state
            .stopped
            .store(true, std::sync::atomic::Ordering::SeqCst);
        // Wake the accept loop so it sees `stopped`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        self.state.drop_all();
    }
}
