//! A private Redis, with or without a synced append-only file, in a temporary directory (tests)
//! or a kept one (`picket cluster`), or serving TLS only.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

use crate::error::ClusterError;
use crate::process::{
    ArgsFn, Dir, PROBE_ANSWER_WAIT_MAX, Process, find_binary, log_tail, sbin_dirs,
};
use crate::tls::ServerTls;

/// A private Redis: without persistence (`start`), with a synced append-only file
/// (`start_durable`), or serving TLS only (`start_tls`).
pub struct Redis {
    process: Process,
    tls: bool,
}

impl Redis {
    /// Starts `redis-server` on a free loopback port; ready once it answers `PING`.
    pub fn start() -> Result<Self, ClusterError> {
        Redis::start_with(Dir::temp("redis", None)?, false)
    }

    /// Starts `redis-server` serving only TLS (`--port 0 --tls-port`) with `tls`'s certificate,
    /// without persistence; clients must present a certificate from `tls.ca` when
    /// `tls.verify_clients` is set. Ready once its TLS port accepts connections (a new, empty
    /// Redis listens only once it can answer).
    pub fn start_tls(tls: ServerTls) -> Result<Self, ClusterError> {
        let args = move |dir: &Path, port: u16| {
            let auth_clients = if tls.verify_clients { "yes" } else { "no" };
            let mut args: Vec<String> = [
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
                "--bind",
                "127.0.0.1",
            ]
            .map(String::from)
            .to_vec();
            args.extend(["--save".into(), String::new()]);
            args.extend(["--appendonly".into(), "no".into()]);
            args.extend(["--dir".into(), dir.display().to_string()]);
            args
        };
        let accepts = |port: u16| TcpStream::connect(("127.0.0.1", port)).is_ok();
        let binary = find_binary("redis-server", "redis-server", &sbin_dirs())?;
        let process =
            Process::start_binary("redis", binary, Dir::temp("redis", None)?, args, accepts)?;
        Ok(Redis { process, tls: true })
    }

    /// Starts `redis-server` persisting as production should: every write appended to the AOF
    /// and synced (`--appendonly yes --appendfsync always`), so a kill and restart loses nothing.
    pub fn start_durable() -> Result<Self, ClusterError> {
        Redis::start_with(Dir::temp("redis", None)?, true)
    }

    /// [`Redis::start_durable`] with its files in `dir`, kept: started on it again, Redis reads
    /// its append-only file back.
    pub fn start_durable_in(dir: &Path) -> Result<Self, ClusterError> {
        Redis::start_with(Dir::kept(dir)?, true)
    }

    fn start_with(dir: Dir, durable: bool) -> Result<Self, ClusterError> {
        let persistence: &[&str] = if durable {
            &["--appendonly", "yes", "--appendfsync", "always"]
        } else {
            &["--appendonly", "no"]
        };
        let persistence: Vec<String> = persistence.iter().map(|a| a.to_string()).collect();
        let args: ArgsFn = Box::new(move |dir: &Path, port: u16| {
            let mut args: Vec<String> = ["--port", &port.to_string(), "--bind", "127.0.0.1"]
                .map(String::from)
                .to_vec();
            args.extend(["--save".into(), String::new()]);
            args.extend(persistence.iter().cloned());
            args.extend(["--dir".into(), dir.display().to_string()]);
            args
        });
        let binary = find_binary("redis-server", "redis-server", &sbin_dirs())?;
        let process = Process::start_binary("redis", binary, dir, args, redis_answers)?;
        Ok(Redis {
            process,
            tls: false,
        })
    }

    /// `redis://127.0.0.1:<port>`, or `rediss://…` when it serves TLS.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "rediss" } else { "redis" };
        format!("{scheme}://127.0.0.1:{}", self.process.port())
    }

    /// The loopback TCP port; it stays the same across restarts.
    pub fn port(&self) -> u16 {
        self.process.port()
    }

    /// The server's pid (`None` while it is stopped), for the load test's CPU per booking.
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// SIGTERM and waits: a durable Redis syncs its append-only file first.
    pub fn stop(&mut self) -> Result<(), ClusterError> {
        self.process.stop()
    }

    /// How the server ended, once it has by itself.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.process.exited()
    }

    /// The directory of its files (the append-only file, the log).
    pub fn dir(&self) -> &Path {
        self.process.dir()
    }

    /// Its log file.
    pub fn log_path(&self) -> std::path::PathBuf {
        self.process.log_path()
    }

    /// SIGKILL: without persistence every key is gone, as after a crash.
    pub fn kill(&mut self) -> Result<(), ClusterError> {
        self.process.kill()
    }

    /// Starts the server again on the same port (empty, without persistence).
    pub fn start_again(&mut self) -> Result<(), ClusterError> {
        self.process.start_again()
    }

    /// Freezes the server (SIGSTOP): commands hang instead of failing.
    pub fn pause(&mut self) -> Result<(), ClusterError> {
        self.process.signal("STOP")
    }

    /// Undoes [`Redis::pause`].
    pub fn resume(&mut self) -> Result<(), ClusterError> {
        self.process.signal("CONT")
    }

    /// The last lines of the server's log.
    pub fn log_tail(&self) -> String {
        log_tail(&self.process.log_path())
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
