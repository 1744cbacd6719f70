//! Where the clients go, and from where: the gateways (loopback only unless the operator names
//! another host), the loopback source addresses connections are spread over (each source address
//! has its own ~28k ephemeral ports), this process's file-descriptor limit, and the operator calls
//! that put a performance and its sale up for the run.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};
use std::time::Duration;

use picket_ledger_core::{
    FeeSchedule, GradeId, GradeSpec, PerformanceId, PerformanceSpec, SeatSpec, TicketKind, ZoneSpec,
};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::run::LoadtestError;

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

    /// `POST /api/v1/performances` on the first gateway.
    pub async fn open_performance(&self, spec: &PerformanceSpec) -> Result<(), LoadtestError> {
        let body = serde_json::to_value(spec).expect("specs encode");
        let (status, answer) = self.operator("POST", "/api/v1/performances", &body).await?;
        // 422 performance_already_open: a rerun with the same id; anything else is a failure.
        if status == 201 || answer["code"] == "performance_already_open" {
            return Ok(());
        }
        Err(LoadtestError::Setup(format!(
            "opening the performance: {status} {answer}"
        )))
    }

    /// `PUT /api/v1/sales/{sale}` on the first gateway.
    pub async fn configure_sale(&self, sale: u64, settings: &Value) -> Result<(), LoadtestError> {
        let path = format!("/api/v1/sales/{sale}");
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

/// The inventory of the run's performance.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Inventory {
    /// Reserved seats, split over the grades in order (hot grades first).
    pub seats: u32,
    /// Grades: code, price in won, share of the seats in percent.
    pub grades: Vec<(String, u64, u8)>,
    /// Standing zones (each of the same capacity), priced as the last grade.
    pub zones: u16,
    pub zone_capacity: u32,
    pub per_buyer_limit: u16,
    pub hold_ttl_ms: u64,
}

impl Default for Inventory {
    fn default() -> Self {
        Inventory {
            seats: 2_000,
            grades: vec![
                ("VIP".into(), 160_000, 20),
                ("R".into(), 140_000, 30),
                ("S".into(), 110_000, 30),
                ("A".into(), 80_000, 20),
            ],
            zones: 0,
            zone_capacity: 0,
            per_buyer_limit: 4,
            hold_ttl_ms: 7 * 60_000,
        }
    }
}

impl Inventory {
    /// The seat ids of each grade: contiguous ranges, in grade order.
    pub fn grade_ranges(&self) -> Vec<std::ops::Range<u32>> {
        let total_share: u32 = self.grades.iter().map(|g| u32::from(g.2)).sum();
        let mut start = 0;
        let mut ranges = Vec::new();
        for (index, (_, _, share)) in self.grades.iter().enumerate() {
            let end = match index + 1 == self.grades.len() {
                true => self.seats,
                false => start + self.seats * u32::from(*share) / total_share.max(1),
            };
            ranges.push(start..end.max(start));
            start = end.max(start);
        }
        ranges
    }

    /// The ledger spec: seats in sections of 20 rows of up to 50, best first within each grade.
    pub fn spec(&self, performance: u64, starts_at_ms: u64) -> PerformanceSpec {
        let mut seats = Vec::with_capacity(self.seats as usize);
        for (grade, range) in self.grade_ranges().into_iter().enumerate() {
            for (n, _) in range.enumerate() {
                seats.push(SeatSpec {
                    section: format!("{}{}", self.grades[grade].0, n / 1_000),
                    row: format!("{}", n % 1_000 / 50 + 1),
                    number: (n % 50 + 1) as u16,
                    grade: GradeId(grade as u16),
                });
            }
        }
        let last_grade = GradeId(self.grades.len().saturating_sub(1) as u16);
        PerformanceSpec {
            performance: PerformanceId(performance),
            starts_at_ms,
            kind: TicketKind::Performance,
            grades: self
                .grades
                .iter()
                .map(|(code, price_won, _)| GradeSpec {
                    code: code.clone(),
                    price_won: *price_won,
                })
                .collect(),
            seats,
            zones: (0..self.zones)
                .map(|z| ZoneSpec {
                    name: format!("Floor{z}"),
                    grade: last_grade,
                    capacity: self.zone_capacity,
                })
                .collect(),
            per_buyer_limit: self.per_buyer_limit,
            hold_ttl_ms: self.hold_ttl_ms,
            fees: FeeSchedule::korean_standard(TicketKind::Performance),
            discounts: Vec::new(),
            coupons: Vec::new(),
        }
    }
}

/// Sale settings for `PUT /api/v1/sales/{sale}`.
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

    #[test]
    fn grades_split_the_seats_and_the_spec_is_valid() {
        let inventory = Inventory::default();
        let ranges = inventory.grade_ranges();
        assert_eq!(ranges, vec![0..400, 400..1_000, 1_000..1_600, 1_600..2_000]);
        let spec = inventory.spec(7, 1);
        assert_eq!(spec.seats.len(), 2_000);
        assert_eq!(spec.seats[400].grade, GradeId(1));
        let mut ledger = picket_ledger_core::Ledger::new(0);
        let open = picket_ledger_core::Request {
            actor: picket_ledger_core::ActorId(1),
            key: picket_ledger_core::IdempotencyKey::new("open").expect("key"),
            command: picket_ledger_core::Command::OpenPerformance(Box::new(spec)),
        };
        assert!(ledger.execute(0, &open).outcome.is_ok());
    }
}
