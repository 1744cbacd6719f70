//! `--cluster <cluster.json>`: the deployment `picket cluster` describes in its data directory
//! (docs/operations.md, "One host: `picket cluster`"), read into what the flags it stands for
//! would say — the one gateway port, the journal, the partitions, the operator token, and the
//! pids whose CPU the report counts — so a rehearsal needs one flag. The run applies them to the
//! flags not given (`run.rs`).
//!
//! The file is read as JSON with only the fields used here: the load tester does not link the
//! cluster supervisor (a client tool depends on no server crate).

use std::path::Path;

use serde::Deserialize;

use crate::error::LoadtestError;

/// Largest cluster.json read (a cluster of a few dozen processes is a few KB).
pub const CLUSTER_FILE_BYTES_MAX: u64 = 1 << 20;

#[derive(Debug, Deserialize)]
struct ClusterFile {
    /// The one port: `http://host:port`.
    url: Option<String>,
    database_url: String,
    operator_token_file: Option<std::path::PathBuf>,
    partitions: u16,
    processes: Vec<ProcessEntry>,
}

#[derive(Debug, Deserialize)]
struct ProcessEntry {
    name: String,
    role: String,
    pid: Option<u32>,
    /// How it ended; `None` while it runs.
    exited: Option<String>,
}

/// What a cluster file says for the load tester's flags.
#[derive(Debug, PartialEq, Eq)]
pub struct ClusterFlags {
    /// `--gateway`: the cluster's one port, `host:port`.
    pub gateway: String,
    /// `--journal`: the primary.
    pub journal: String,
    /// `--partition-count`.
    pub partition_count: u16,
    /// The file holding the operator token, read when `--operator-token` is not given.
    pub operator_token_file: Option<std::path::PathBuf>,
    /// `--gateway-pid`: the gateways still running.
    pub gateway_pids: Vec<u32>,
    /// `--server-pid NAME=PID`: every other process still running, by its name (PostgreSQL by
    /// its postmaster: the report counts its backends with it).
    pub server_pids: Vec<(String, u32)>,
}

/// Reads the cluster file at `path`.
pub fn read(path: &Path) -> Result<ClusterFlags, LoadtestError> {
    let config = |message: String| LoadtestError::Config(format!("{}: {message}", path.display()));
    let file = parse(path)?;
    let url = file
        .url
        .as_deref()
        .ok_or_else(|| config("no url: the cluster is not up yet".into()))?;
    let gateway = url
        .strip_prefix("http://")
        .unwrap_or(url)
        .trim_end_matches('/')
        .to_owned();
    let mut gateway_pids = Vec::new();
    let mut server_pids = Vec::new();
    let running = file
        .processes
        .iter()
        .filter(|process| process.exited.is_none())
        .filter_map(|process| Some((process, process.pid?)));
    for (process, pid) in running {
        match process.role.as_str() {
            "gateway" => gateway_pids.push(pid),
            _ => server_pids.push((process.name.clone(), pid)),
        }
    }
    Ok(ClusterFlags {
        gateway,
        journal: file.database_url,
        partition_count: file.partitions,
        operator_token_file: file.operator_token_file,
        gateway_pids,
        server_pids,
    })
}

fn parse(path: &Path) -> Result<ClusterFile, LoadtestError> {
    let config = |message: String| LoadtestError::Config(format!("{}: {message}", path.display()));
    let size = std::fs::metadata(path)
        .map_err(|e| config(format!("cannot read it: {e}")))?
        .len();
    if size > CLUSTER_FILE_BYTES_MAX {
        return Err(config(format!(
            "{size} bytes, over {CLUSTER_FILE_BYTES_MAX}: not a cluster file"
        )));
    }
    let text = std::fs::read_to_string(path).map_err(|e| config(format!("cannot read it: {e}")))?;
    serde_json::from_str(&text).map_err(|e| config(format!("not a cluster file: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A cluster file as `picket cluster` writes it, in `dir`.
    fn cluster_file(dir: &Path) -> std::path::PathBuf {
        let token = dir.join("operator-token");
        std::fs::write(&token, "token-from-file\n").unwrap();
        let file = serde_json::json!({
            "url": "http://127.0.0.1:18080",
            "websocket_url": "ws://127.0.0.1:18080/ws",
            "data_dir": dir,
            "operator_token_file": token,
            "database_url": "postgres://postgres@127.0.0.1:15432/picket",
            "database_read_url": "postgres://postgres@127.0.0.1:15433/picket",
            "nats_urls": ["nats://127.0.0.1:14222"],
            "redis_url": "redis://127.0.0.1:16379",
            "partitions": 2,
            "supervisor_pid": 100,
            "processes": [
                {"name": "postgres", "role": "postgres", "pid": 101, "ports": {}, "data_dir": dir, "log": "x", "exited": null},
                {"name": "nats-0", "role": "nats", "pid": 102, "ports": {}, "data_dir": dir, "log": "x", "exited": null},
                {"name": "ledger-0", "role": "ledger", "pid": 103, "ports": {}, "data_dir": dir, "log": "x", "exited": "signal: 9 (SIGKILL)"},
                {"name": "ledger-1", "role": "ledger", "pid": 104, "ports": {}, "data_dir": dir, "log": "x", "exited": null},
                {"name": "gateway-0", "role": "gateway", "pid": 105, "ports": {}, "data_dir": dir, "log": "x", "exited": null},
                {"name": "gateway-1", "role": "gateway", "pid": 106, "ports": {}, "data_dir": dir, "log": "x", "exited": null}
            ]
        });
        let path = dir.join("cluster.json");
        std::fs::write(&path, file.to_string()).unwrap();
        path
    }

    #[test]
    fn a_cluster_file_says_what_the_flags_would() {
        let dir = tempfile::tempdir().unwrap();
        let flags = read(&cluster_file(dir.path())).expect("a cluster file");
        assert_eq!(flags.gateway, "127.0.0.1:18080");
        assert_eq!(flags.journal, "postgres://postgres@127.0.0.1:15432/picket");
        assert_eq!(flags.partition_count, 2);
        assert_eq!(
            flags.operator_token_file.as_deref(),
            Some(dir.path().join("operator-token").as_path())
        );
        assert_eq!(flags.gateway_pids, [105, 106]);
        let servers: Vec<(&str, u32)> = flags
            .server_pids
            .iter()
            .map(|(name, pid)| (name.as_str(), *pid))
            .collect();
        assert_eq!(
            servers,
            [("postgres", 101), ("nats-0", 102), ("ledger-1", 104)],
            "the killed ledger-0 is not counted"
        );
    }

    #[test]
    fn what_is_not_a_cluster_file_is_a_configuration_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cluster.json");
        std::fs::write(&path, "{\"url\": 1}").unwrap();
        let error = read(&path).expect_err("not a cluster file");
        assert!(error.to_string().contains("not a cluster file"), "{error}");
        let missing = read(&dir.path().join("none.json")).expect_err("missing");
        assert!(missing.to_string().contains("cannot read it"), "{missing}");
    }
}
