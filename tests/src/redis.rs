//! A private Redis for a test, with or without a synced append-only file.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

use crate::error::HarnessError;
use crate::process::{PROBE_ANSWER_WAIT_MAX, Process, log_tail};
use crate::tls::ServerTls;

/// A private Redis: without persistence (`start`), with a synced append-only file
/// (`start_durable`), or serving TLS only (`start_tls`).
pub struct Redis {
    process: Process,
    tls: bool,
}

impl Redis {
    /// Starts `redis-server` on a free loopback port; ready once it answers `PING`.
    pub fn start() -> Result<Self, HarnessError> {
        let args = |dir: &Path, port: u16| {
            let mut args = ["--port", &port.to_string()].map(String::from).to_vec();
            args.extend(without_persistence(dir));
            args
        };
        Process::start("redis", "redis-server", "redis-server", args, redis_answers).map(plain)
    }

    /// Starts `redis-server` serving only TLS (`--port 0 --tls-port`) with `tls`'s certificate,
    /// without persistence; clients must present a certificate from `tls.ca` when
    /// `tls.verify_clients` is set. Ready once its TLS port accepts connections (a new, empty
    /// Redis listens only once it can answer).
    pub fn start_tls(tls: ServerTls) -> Result<Self, HarnessError> {
        let args = move |dir: &Path, port: u16| {
            let auth_clients = if tls.verify_clients { "yes" } else { "no" };
            let mut args = [
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
                "--tls-cert-file",
                &tls.cert.display().to_string(),
                "--tls-key-file",
                &tls.key.display().to_string(),
                "--tls-ca-cert-file",
                &tls.ca.display().to_string(),
                "--tls-auth-clients",
                auth_clients,
            ]
            .map(String::from)
            .to_vec();
            args.extend(without_persistence(dir));
            args
        };
        let accepts = |port: u16| TcpStream::connect(("127.0.0.1", port)).is_ok();
        Process::start("redis", "redis-server", "redis-server", args, accepts)
            .map(|process| Redis { process, tls: true })
    }

    /// Starts `redis-server` persisting as production should: every write appended to the AOF
    /// and synced (`--appendonly yes --appendfsync always`), so a kill and restart loses nothing.
    pub fn start_durable() -> Result<Self, HarnessError> {
        let args = |dir: &Path, port: u16| {
            let dir = dir.display().to_string();
            [
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                &dir,
            ]
            .map(String::from)
            .to_vec()
        };
        Process::start("redis", "redis-server", "redis-server", args, redis_answers).map(plain)
    }

    /// `redis://127.0.0.1:<port>`, or `rediss://…` when it serves TLS.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "rediss" } else { "redis" };
        format!("{scheme}://127.0.0.1:{}", self.process.port)
    }

    /// The loopback TCP port; it stays the same across restarts.
    pub fn port(&self) -> u16 {
        self.process.port
    }

    /// The server's pid (`None` while it is stopped), for the load test's CPU per booking.
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// SIGKILL: every key is gone, as after a crash without persistence.
    pub fn kill(&mut self) -> Result<(), HarnessError> {
        self.process.kill()
    }

    /// Starts the server again on the same port, empty.
    pub fn start_again(&mut self) -> Result<(), HarnessError> {
        self.process.start_again()
    }

    /// Freezes the server (SIGSTOP): commands hang instead of failing.
    pub fn pause(&mut self) -> Result<(), HarnessError> {
        self.process.signal("STOP")
    }

    /// Undoes [`Redis::pause`].
    pub fn resume(&mut self) -> Result<(), HarnessError> {
        self.process.signal("CONT")
    }

    /// The last lines of the server's log.
    pub fn log_tail(&self) -> String {
        log_tail(&self.process.log_path())
    }
}

/// Loopback only, no snapshots and no append-only file, data in `dir`.
fn without_persistence(dir: &Path) -> Vec<String> {
    let dir = dir.display().to_string();
    [
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        &dir,
    ]
    .map(String::from)
    .to_vec()
}

fn plain(process: Process) -> Redis {
    Redis {
        process,
        tls: false,
    }
}

/// Redis is ready when `PING` gets `+PONG`.
fn redis_answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(PROBE_ANSWER_WAIT_MAX));
    let mut answer = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut answer).is_ok()
        && &answer == b"+PONG\r\n"
}
