//! Picket deployed as processes on this machine, for the load tests and their benchmarks: the
//! load-test topology of `picket-cluster` ([`ClusterConfig::load_test`]: PostgreSQL, NATS and
//! Redis, a `picket ledger` leader and `picket up` gateways standing by), and `picket up` alone.
//! Here they panic on failure, as a test does; every process is killed when its owner is
//! dropped.

use std::path::Path;

use picket_cluster::ClusterConfig;
pub use picket_cluster::topology::{OPERATOR_TOKEN, TOKEN_KEYS};

/// The load tests' deployment ([`picket_cluster::Cluster`] of [`ClusterConfig::load_test`]).
pub type Deployment = picket_cluster::Cluster;

/// Starts the load tests' deployment with `gateways` gateways and the ledger's lease, plus
/// `gateway_env` for the gateways (say, their push interval).
pub fn deployment(
    picket: &str,
    gateways: usize,
    lease_ms: u64,
    gateway_env: &[(&str, String)],
) -> Deployment {
    let mut config = ClusterConfig::load_test(picket.into(), gateways, lease_ms);
    config.gateway_env = gateway_env
        .iter()
        .map(|(k, v)| (k.to_string(), v.clone()))
        .collect();
    picket_cluster::Cluster::start(config).unwrap_or_else(|error| panic!("deployment: {error}"))
}

/// A `picket up` process ([`picket_cluster::Up`]) with the load tests' operator token and token
/// keys.
pub struct Up(pub picket_cluster::Up);

impl std::ops::Deref for Up {
    type Target = picket_cluster::Up;
    fn deref(&self) -> &picket_cluster::Up {
        &self.0
    }
}

impl Up {
    /// Starts `<picket> up` on a free port with `data_dir`, plus `env`; logs go to
    /// `<data_dir>/up.log`.
    pub fn start(picket: &str, data_dir: &Path, env: &[(&str, String)]) -> Up {
        let mut all = vec![
            (
                "PICKET_OPERATOR_TOKEN".to_owned(),
                OPERATOR_TOKEN.to_owned(),
            ),
            ("PICKET_TOKEN_KEYS".to_owned(), TOKEN_KEYS.to_owned()),
        ];
        all.extend(env.iter().map(|(k, v)| (k.to_string(), v.clone())));
        picket_cluster::Up::start(Path::new(picket), "up", data_dir, &all)
            .map(Up)
            .unwrap_or_else(|error| panic!("picket up: {error}"))
    }
}
