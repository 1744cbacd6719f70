//! Where the clients go, and from where: the gateways (loopback only unless the operator names
//! another host), the loopback source addresses connections are spread over (each source address
//! has its own ~28k ephemeral ports), this process's file-descriptor limit, and the operator calls
//! that put a performance and its sale up for the run.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use picket_edge::spec::ClientSpec;
use picket_ledger_core::PerformanceSpec;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::error::LoadtestError;

/// Loopback source addresses a run may spread its connections over (127.0.0.1 ..= 127.0.0.N).
pub const SOURCE_ADDRS_MAX: u8 = 250;
/// Largest operator-API response read, in bytes.
const HTTP_RESPONSE_BYTES_MAX: usize = 1 << 20;
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// The gateways of a deployment and how to operate them.
#[derive(Clone, Debug)]
pub struct Target {
    /// Gateway HTTP addresses; clients connect to `ws://<address>/ws`, spread round-robin.
    pub gateways: Vec<SocketAddr>,
    /// Bearer token of the operator API (opens the run's performance, configures its sale).
    pub operator_token: String,
    /// Source addresses to connect from (loopback targets only; empty: the system chooses).
    pub sources: Vec<IpAddr>,
}

impl Target {
    /// Resolves `gateways` (`host:port`), refusing any that is not loopback unless its host is
    /// in `allowed_hosts`.
    pub fn resolve(
        gateways: &[String],
        allowed_hosts: &[String],
        operator_token: String,
        source_addrs: u8,
    ) -> Result<Target, LoadtestError> {
        if gateways.is_empty() {
            return Err(LoadtestError::Config("name at least one gateway".into()));
        }
        let mut resolved = Vec::new();
        for gateway in gateways {
            let host = gateway
                .rsplit_once(':')
                .map_or(gateway.as_str(), |(h, _)| h);
            let address = gateway
                .to_socket_addrs()
                .map_err(|e| LoadtestError::Config(format!("gateway {gateway}: {e}")))?
                .next()
                .ok_or_else(|| LoadtestError::Config(format!("gateway {gateway}: no address")))?;
            let named = allowed_hosts.iter().any(|h| h == host);
            if !address.ip().is_loopback() && !named {
                return Err(LoadtestError::NotLoopback(gateway.clone()));
            }
            resolved.push(address);
        }
        let all_loopback = resolved.iter().all(|a| a.ip().is_loopback());
        let sources = match all_loopback {
            true => (1..=source_addrs.clamp(1, SOURCE_ADDRS_MAX))
                .map(|n| IpAddr::V4(Ipv4Addr::new(127, 0, 0, n)))
                .collect(),
            false => Vec::new(),
        };
        Ok(Target {
            gateways: resolved,
            operator_token,
            sources,
        })
    }

    /// The gateway and source address of the `n`th connection.
    pub fn route(&self, n: usize) -> (SocketAddr, Option<IpAddr>) {
        let gateway = self.gateways[n % self.gateways.len()];
        let source = (!self.sources.is_empty()).then(|| self.sources[n % self.sources.len()]);
        (gateway, source)
    }

    /// `POST /api/v2/performances` on the first gateway.
    pub async fn open_performance(&self, spec: &PerformanceSpec) -> Result<(), LoadtestError> {
        // Ids travel as strings (protocol v2); the spec is otherwise the ledger's.
        let body = serde_json::to_value(ClientSpec::from(spec.clone())).expect("specs encode");
        let (status, answer) = self.operator("POST", "/api/v2/performances", &body).await?;
        // 422 performance_already_open: a rerun with the same id; anything else is a failure.
        if status == 201 || answer["code"] == "performance_already_open" {
            return Ok(());
        }
        Err(LoadtestError::Setup(format!(
            "opening the performance: {status} {answer}"
        )))
    }

    /// `PUT /api/v2/sales/{sale}` on the first gateway.
    pub async fn configure_sale(&self, sale: u64, settings: &Value) -> Result<(), LoadtestError> {
        let path = format!("/api/v2/sales/{sale}");
        let (status, answer) = self.operator("PUT", &path, settings).await?;
        if status == 200 {
            return Ok(());
        }
        Err(LoadtestError::Setup(format!(
            "configuring the sale: {status} {answer}"
        )))
    }

    async fn operator(
        &self,
        method: &str,
        path: &str,
        body: &Value,
    ) -> Result<(u16, Value), LoadtestError> {
        let call = http(
            self.gateways[0],
            method,
            path,
            Some(&self.operator_token),
            Some(body),
        );
        tokio::time::timeout(HTTP_TIMEOUT, call)
            .await
            .map_err(|_| LoadtestError::Setup(format!("{method} {path}: timed out")))?
    }
}

/// A one-shot HTTP/1.1 request (the operator API needs nothing more): status and JSON body.
pub async fn http(
    address: SocketAddr,
    method: &str,
    path: &str,
    bearer: Option<&str>,
    body: Option<&Value>,
) -> Result<(u16, Value), LoadtestError> {
    let setup = |e: std::io::Error| LoadtestError::Setup(format!("{method} {path}: {e}"));
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .map_err(setup)?;
    let body = body.map(Value::to_string).unwrap_or_default();
    let auth = bearer
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).await.map_err(setup)?;
    let mut response = Vec::new();
    (&mut stream)
        .take(HTTP_RESPONSE_BYTES_MAX as u64)
        .read_to_end(&mut response)
        .await
        .map_err(setup)?;
    let text = String::from_utf8_lossy(&response);
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| LoadtestError::Setup(format!("{method} {path}: no HTTP status")))?;
    let json = text
        .split_once("\r\n\r\n")
        .and_then(|(_, body)| serde_json::from_str(body).ok())
        .unwrap_or(Value::Null);
    Ok((status, json))
}

/// Raises this process's open-file limit to its hard limit: each client is one socket.
pub fn raise_fd_limit() -> u64 {
    rlimit::increase_nofile_limit(u64::MAX).unwrap_or(1_024)
}

/// Sale settings for `PUT /api/v2/sales/{sale}`.
pub fn sale_settings(
    open_at_ms: u64,
    admit_per_sec: u32,
    active_max: u32,
    seat_limit: u16,
) -> Value {
    json!({
        "open_at_ms": open_at_ms, "admit_per_sec": admit_per_sec, "active_max": active_max,
        "admission_ttl_ms": 10 * 60_000, "seat_limit": seat_limit, "grace_ms": 60_000,
        "paused": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_outside_loopback_need_naming() {
        let token = String::from("t");
        let refused = Target::resolve(&["192.0.2.7:80".into()], &[], token.clone(), 4);
        assert!(matches!(refused, Err(LoadtestError::NotLoopback(_))));
        let named = Target::resolve(&["192.0.2.7:80".into()], &["192.0.2.7".into()], token, 4)
            .expect("named");
        assert!(
            named.sources.is_empty(),
            "no loopback sources to a remote host"
        );
    }

    #[test]
    fn loopback_targets_spread_over_source_addresses() {
        let target = Target::resolve(
            &["127.0.0.1:8080".into(), "127.0.0.1:8081".into()],
            &[],
            "t".into(),
            3,
        )
        .expect("loopback");
        let routes: Vec<_> = (0..4).map(|n| target.route(n)).collect();
        assert_eq!(routes[0].0.port(), 8080);
        assert_eq!(routes[1].0.port(), 8081);
        assert_eq!(routes[3].1, Some("127.0.0.1".parse().expect("ip")));
        assert_eq!(routes[2].1, Some("127.0.0.3".parse().expect("ip")));
    }
}
