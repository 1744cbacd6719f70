//! Ledger nodes the load test starts itself (`--spawn-ledgers N`): `picket ledger` processes on
//! the deployment's NATS and PostgreSQL, so a `failover` run can kill whichever one leads the
//! run's partition at the set moment, without the operator looking up a pid.

use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::LoadtestError;
use crate::target::http;

/// How long the spawned nodes may take until one leads.
const LEADER_WAIT_MAX: Duration = Duration::from_secs(60);
/// Nodes one run may start.
pub const SPAWNED_LEDGERS_MAX: u8 = 8;

/// Spawned `picket ledger` processes, killed when dropped.
pub struct Ledgers {
    nodes: Vec<(Child, SocketAddr)>,
}

impl Ledgers {
    /// Starts `count` nodes (this binary, `ledger` subcommand) hosting every partition, and
    /// waits until one leads `partition`.
    pub async fn spawn(
        count: u8,
        nats_url: &str,
        database_url: &str,
        partitions: u16,
        partition: u16,
    ) -> Result<Ledgers, LoadtestError> {
        let exe = std::env::current_exe().map_err(|e| LoadtestError::Setup(e.to_string()))?;
        let mut nodes = Vec::new();
        for _ in 0..count.min(SPAWNED_LEDGERS_MAX) {
            let address = free_address()?;
            let child = Command::new(&exe)
                .args(["ledger", "--listen", &address.to_string()])
                .args(["--nats-url", nats_url, "--database-url", database_url])
                .args(["--partition-count", &partitions.to_string()])
                .args(["--lease-ms", "1000"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .map_err(|e| LoadtestError::Setup(format!("starting picket ledger: {e}")))?;
            nodes.push((child, address));
        }
        let ledgers = Ledgers { nodes };
        let deadline = Instant::now() + LEADER_WAIT_MAX;
        while ledgers.leader(partition).await.is_none() {
            if Instant::now() > deadline {
                return Err(LoadtestError::Setup("no spawned ledger node leads".into()));
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Ok(ledgers)
    }

    /// The nodes' pids.
    pub fn pids(&self) -> Vec<u32> {
        self.nodes.iter().map(|(child, _)| child.id()).collect()
    }

    /// The pid of the node leading `partition` now, asked through each node's `/healthz`.
    pub async fn leader(&self, partition: u16) -> Option<u32> {
        for (child, address) in &self.nodes {
            let Ok((200, health)) = http(*address, "GET", "/healthz", None, None).await else {
                continue;
            };
            let leads = health["partitions"].as_array().is_some_and(|all| {
                all.iter()
                    .any(|p| p["partition"] == partition && p["role"] == "leader")
            });
            if leads {
                return Some(child.id());
            }
        }
        None
    }
}

impl Drop for Ledgers {
    fn drop(&mut self) {
        for (child, _) in &mut self.nodes {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_address() -> Result<SocketAddr, LoadtestError> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")
        .map_err(|e| LoadtestError::Setup(e.to_string()))?;
    listener
        .local_addr()
        .map_err(|e| LoadtestError::Setup(e.to_string()))
}
