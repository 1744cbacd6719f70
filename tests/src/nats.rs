//! A private NATS server with JetStream for a test; its store survives a kill and a restart.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::Path;

use crate::error::HarnessError;
use crate::process::{PROBE_ANSWER_WAIT_MAX, Process, log_tail};

/// A private NATS server with JetStream; its store survives `kill` + `start_again`.
pub struct Nats(Process);

impl Nats {
    /// Starts `nats-server -js` on a free loopback port with its store in the temp dir; ready
    /// once a connection gets the `INFO` line.
    pub fn start() -> Result<Self, HarnessError> {
        let args = |dir: &Path, port: u16| {
            let store = dir.join("jetstream").display().to_string();
            [
                "-a",
                "127.0.0.1",
                "-p",
                &port.to_string(),
                "-js",
                "-sd",
                &store,
            ]
            .map(String::from)
            .to_vec()
        };
        Process::start("nats", "nats-server", "nats-server", args, |port| {
            nats_info(port).is_some()
        })
        .map(Nats)
    }

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.0.port)
    }

    /// The loopback TCP port; it stays the same across restarts.
    pub fn port(&self) -> u16 {
        self.0.port
    }

    /// The server's `INFO` line (the JSON after `INFO `), read from a fresh connection.
    pub fn info(&self) -> Option<String> {
        nats_info(self.0.port)
    }

    /// The JetStream consumer `name` of `stream` as the server reports it (`None`: no such
    /// consumer), asked with the JetStream API over a fresh connection.
    pub async fn consumer_info(&self, stream: &str, name: &str) -> Option<serde_json::Value> {
        let client = async_nats::connect(self.url()).await.ok()?;
        let reply = client
            .request(
                format!("$JS.API.CONSUMER.INFO.{stream}.{name}"),
                Vec::new().into(),
            )
            .await
            .ok()?;
        let info: serde_json::Value = serde_json::from_slice(&reply.payload).ok()?;
        info.get("error").is_none().then_some(info)
    }

    /// The server's pid (`None` while it is stopped), for the load test's CPU per booking.
    pub fn pid(&self) -> Option<u32> {
        self.0.pid()
    }

    /// SIGKILL, like a lost host; the JetStream store stays on disk.
    pub fn kill(&mut self) -> Result<(), HarnessError> {
        self.0.kill()
    }

    /// Starts the server again on the same port and JetStream store.
    pub fn start_again(&mut self) -> Result<(), HarnessError> {
        self.0.start_again()
    }

    /// Freezes the server (SIGSTOP): clients hang instead of failing.
    pub fn pause(&mut self) -> Result<(), HarnessError> {
        self.0.signal("STOP")
    }

    /// Undoes [`Nats::pause`].
    pub fn resume(&mut self) -> Result<(), HarnessError> {
        self.0.signal("CONT")
    }

    /// The last lines of the server's log.
    pub fn log_tail(&self) -> String {
        log_tail(&self.0.log_path())
    }
}

fn nats_info(port: u16) -> Option<String> {
    let stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(PROBE_ANSWER_WAIT_MAX)).ok()?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).ok()?;
    line.strip_prefix("INFO ")
        .map(|json| json.trim().to_owned())
}
