//! Picket deployed as processes on this machine, for the load tests, the role tests and their
//! benchmarks: the load-test topology of `picket-cluster` ([`ClusterConfig::load_test`]:
//! PostgreSQL, NATS and Redis, a `picket ledger` leader and `picket up` gateways standing by),
//! `picket up` alone, `picket gateway` ([`Up::start_role`], [`gateway_env`]) and `picket
//! sandbox-pay` ([`SandboxPay`]). Here they panic on failure, as a test does; every process is
//! killed when its owner is dropped.

use std::path::Path;
use std::process::{Child, ExitStatus};
use std::time::{Duration, Instant};

use picket_cluster::ClusterConfig;
use picket_cluster::picket::{PicketProcess, Spawn};
pub use picket_cluster::topology::{OPERATOR_TOKEN, TOKEN_KEYS};

use crate::{Nats, Redis};

/// The ticket key every gateway shares (`picket gateway` makes none of its own).
pub const TICKET_KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
/// The VAPID private key every gateway shares: base64url of the P-256 scalar 0x0101…01.
pub const VAPID_PRIVATE_KEY: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE";

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

/// A `picket up` or `picket gateway` process ([`picket_cluster::PicketProcess`]) with the load
/// tests' operator token and token keys.
pub struct Up(pub PicketProcess);

impl std::ops::Deref for Up {
    type Target = PicketProcess;
    fn deref(&self) -> &PicketProcess {
        &self.0
    }
}

impl std::ops::DerefMut for Up {
    fn deref_mut(&mut self) -> &mut PicketProcess {
        &mut self.0
    }
}

/// The operator token and token keys of every process here, then `env`.
fn with_keys(env: &[(&str, String)]) -> Vec<(String, String)> {
    let mut all = vec![
        (
            "PICKET_OPERATOR_TOKEN".to_owned(),
            OPERATOR_TOKEN.to_owned(),
        ),
        ("PICKET_TOKEN_KEYS".to_owned(), TOKEN_KEYS.to_owned()),
    ];
    all.extend(env.iter().map(|(k, v)| (k.to_string(), v.clone())));
    all
}

impl Up {
    /// Starts `<picket> up` on a free port with `data_dir`, plus `env`; logs go to
    /// `<data_dir>/up.log`.
    pub fn start(picket: &str, data_dir: &Path, env: &[(&str, String)]) -> Up {
        picket_cluster::Up::start(Path::new(picket), "up", data_dir, &with_keys(env))
            .map(|up| Up(up.0))
            .unwrap_or_else(|error| panic!("picket up: {error}"))
    }

    /// Starts `<picket> <role>` (`up` or `gateway`) listening on `port` with `data_dir`, the
    /// deployment's operator token and token keys, plus `env` (no store but those `env` names);
    /// logs go to `<data_dir>/<role>-<port>.log`. Returns once `/healthz` answers.
    pub fn start_role(
        picket: &str,
        role: &'static str,
        port: u16,
        data_dir: &Path,
        env: &[(&str, String)],
    ) -> Up {
        let name = format!("{role}-{port}");
        picket_cluster::Up::start_role(
            Path::new(picket),
            role,
            &name,
            port,
            data_dir,
            &with_keys(env),
        )
        .map(|up| Up(up.0))
        .unwrap_or_else(|error| panic!("picket {role}: {error}"))
    }

    /// Sends `signal` (`TERM`, `INT`, …).
    pub fn signal(&self, signal: &str) {
        crate::process::signal(self.0.child.id(), signal)
            .unwrap_or_else(|error| panic!("kill -{signal}: {error}"));
    }
}

/// What `picket gateway` needs beside PostgreSQL, NATS and Redis: the keys every gateway
/// shares (the operator token and token keys come with [`Up::start_role`]) and the provider,
/// `sandbox`, its checkout page handed to buyers.
pub fn gateway_env(
    database_url: &str,
    nats: &Nats,
    redis: &Redis,
    sandbox: &SandboxPay,
) -> Vec<(&'static str, String)> {
    vec![
        ("DATABASE_URL", database_url.to_owned()),
        ("PICKET_NATS_URL", nats.url()),
        ("PICKET_REDIS_URL", redis.url()),
        ("PICKET_TICKET_KEY", TICKET_KEY.to_owned()),
        ("PICKET_VAPID_PRIVATE_KEY", VAPID_PRIVATE_KEY.to_owned()),
        ("PICKET_PAYMENTS_BASE_URL", sandbox.base_url()),
        (
            "PICKET_PAYMENTS_SECRET_KEY",
            crate::pay::SECRET_KEY.to_owned(),
        ),
        (
            "PICKET_PAYMENTS_CLIENT_KEY",
            crate::pay::CLIENT_KEY.to_owned(),
        ),
        (
            "PICKET_PAYMENTS_WEBHOOK_SECRET",
            crate::pay::WEBHOOK_SECRET.to_owned(),
        ),
        ("PICKET_PAYMENTS_CHECKOUT_URL", sandbox.checkout_url()),
    ]
}

/// The exit status of `child` if it exits by itself within `wait`.
pub fn exit_within(child: &mut Child, wait: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + wait;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A `picket sandbox-pay` process with the harness's keys ([`crate::pay`]): its checkout page
/// and fault switches through `Deref` to [`crate::pay::Checkout`].
pub struct SandboxPay {
    pub process: PicketProcess,
    checkout: crate::pay::Checkout,
}

impl SandboxPay {
    /// Starts `<picket> sandbox-pay` on `port` with its data in `data_dir`, sending webhooks to
    /// `webhook_urls` as Toss does (none on authorisation), plus `env`; logs go to
    /// `<data_dir>/sandbox-pay.log`. Returns once `/healthz` answers.
    pub fn start(
        picket: &str,
        port: u16,
        data_dir: &Path,
        webhook_urls: &[String],
        env: &[(&str, String)],
    ) -> SandboxPay {
        let mut all: Vec<(String, String)> = [
            (
                "PICKET_SANDBOX_PAY_DATA_DIR",
                data_dir.display().to_string(),
            ),
            (
                "PICKET_SANDBOX_PAY_SECRET_KEY",
                crate::pay::SECRET_KEY.into(),
            ),
            (
                "PICKET_SANDBOX_PAY_CLIENT_KEY",
                crate::pay::CLIENT_KEY.into(),
            ),
            (
                "PICKET_SANDBOX_PAY_WEBHOOK_SECRET",
                crate::pay::WEBHOOK_SECRET.into(),
            ),
            (
                "PICKET_SANDBOX_PAY_ADMIN_TOKEN",
                crate::pay::ADMIN_TOKEN.into(),
            ),
            ("PICKET_SANDBOX_PAY_WEBHOOK_URL", webhook_urls.join(",")),
            ("PICKET_SANDBOX_PAY_WEBHOOK_ON_AUTHORISE", "false".into()),
        ]
        .map(|(k, v)| (k.to_owned(), v))
        .to_vec();
        all.extend(env.iter().map(|(k, v)| (k.to_string(), v.clone())));
        let mut process = PicketProcess::spawn(Spawn {
            picket: Path::new(picket),
            name: "sandbox-pay".into(),
            role: "sandbox-pay",
            args: ["sandbox-pay", "--listen", &format!("127.0.0.1:{port}")]
                .map(String::from)
                .to_vec(),
            env: all,
            data_dir: data_dir.to_path_buf(),
            port: Some(port),
        })
        .unwrap_or_else(|error| panic!("picket sandbox-pay: {error}"));
        process
            .wait_healthy()
            .unwrap_or_else(|error| panic!("picket sandbox-pay: {error}"));
        SandboxPay {
            process,
            checkout: crate::pay::Checkout {
                address: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            },
        }
    }

    /// Sends `signal` (`TERM`, `INT`, …).
    pub fn signal(&self, signal: &str) {
        crate::process::signal(self.process.child.id(), signal)
            .unwrap_or_else(|error| panic!("kill -{signal}: {error}"));
    }
}

impl std::ops::Deref for SandboxPay {
    type Target = crate::pay::Checkout;

    fn deref(&self) -> &crate::pay::Checkout {
        &self.checkout
    }
}
