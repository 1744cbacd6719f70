//! A private Redis for a test, with or without a synced append-only file.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

use crate::error::HarnessError;
use crate::process::{PROBE_ANSWER_WAIT_MAX, Process, log_tail};

/// A private Redis: without persistence (`start`), or with a synced append-only file
/// (`start_durable`).
pub struct Redis(Process);

impl Redis {
    /// Starts `redis-server` on a free loopback port; ready once it answers `PING`.
    pub fn start() -> Result<Self, HarnessError> {
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
                "no",
                "--dir",
                &dir,
            ]
            .map(String::from)
            .to_vec()
        };
        Process::start("redis", "redis-server", "redis-server", args, redis_answers).map(Redis)
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
        Process::start("redis", "redis-server", "redis-server", args, redis_answers).map(Redis)
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.0.port)
    }

    /// The loopback TCP port; it stays the same across restarts.
    pub fn port(&self) -> u16 {
        self.0.port
    }

    /// The server's pid (`None` while it is stopped), for the load test's CPU per booking.
    pub fn pid(&self) -> Option<u32> {
        self.0.pid()
    }

    /// SIGKILL: every key is gone, as after a crash without persistence.
    pub fn kill(&mut self) -> Result<(), HarnessError> {
        self.0.kill()
    }

    /// Starts the server again on the same port, empty.
    pub fn start_again(&mut self) -> Result<(), HarnessError> {
        self.0.start_again()
    }

    /// Freezes the server (SIGSTOP): commands hang instead of failing.
    pub fn pause(&mut self) -> Result<(), HarnessError> {
        self.0.signal("STOP")
    }

    /// Undoes [`Redis::pause`].
    pub fn resume(&mut self) -> Result<(), HarnessError> {
        self.0.signal("CONT")
    }

    /// The last lines of the server's log.
    pub fn log_tail(&self) -> String {
        log_tail(&self.0.log_path())
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
