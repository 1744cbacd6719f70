//! Picket deployed as processes on this machine, for the load tests, the role tests and their
//! benchmarks: `picket up` (alone on SQLite, or sharing PostgreSQL, NATS and Redis from the
//! harness), `picket gateway`, `picket sandbox-pay` and `picket ledger` nodes. Every process is
//! killed when its owner is dropped.

use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::ledger::{LedgerNode, http_get};
use crate::{Nats, Postgres, Redis};

/// How long a process may take to become healthy.
pub const START_WAIT_MAX: Duration = Duration::from_secs(60);
/// The operator token every process of a deployment shares.
pub const OPERATOR_TOKEN: &str = "loadtest-operator-token-0123456789";
/// One signing key shared by the gateways, so a guest token from one works on the other.
pub const TOKEN_KEYS: &str = "k1:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
/// The ticket key every gateway shares (`picket gateway` makes none of its own).
pub const TICKET_KEY: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0";
/// The VAPID private key every gateway shares: base64url of the P-256 scalar 0x0101…01.
pub const VAPID_PRIVATE_KEY: &str = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE";

/// A `picket up` or `picket gateway` process.
pub struct Up {
    pub child: Child,
    pub port: u16,
}

impl Up {
    /// Starts `<picket> up` on a free port with `data_dir`, plus `env`; logs go to
    /// `<data_dir>/up-<port>.log`.
    pub fn start(picket: &str, data_dir: &Path, env: &[(&str, String)]) -> Up {
        let port = crate::free_port().expect("free port");
        Self::start_role(picket, "up", port, data_dir, env)
    }

    /// Starts `<picket> <role>` (`up` or `gateway`) listening on `port` with `data_dir`, the
    /// deployment's operator token and token keys, plus `env` (no store but those `env` names);
    /// logs go to `<data_dir>/<role>-<port>.log`. Returns once `/healthz` answers.
    pub fn start_role(
        picket: &str,
        role: &str,
        port: u16,
        data_dir: &Path,
        env: &[(&str, String)],
    ) -> Up {
        std::fs::create_dir_all(data_dir).expect("data dir");
        let log = std::fs::File::create(data_dir.join(format!("{role}-{port}.log"))).expect("log");
        let child = Command::new(picket)
            .args([role, "--listen", &format!("127.0.0.1:{port}")])
            .env("PICKET_DATA_DIR", data_dir)
            .env("PICKET_OPERATOR_TOKEN", OPERATOR_TOKEN)
            .env("PICKET_TOKEN_KEYS", TOKEN_KEYS)
            .env_remove("DATABASE_URL")
            .env_remove("PICKET_NATS_URL")
            .env_remove("PICKET_REDIS_URL")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|error| panic!("spawn picket {role}: {error}"));
        let mut up = Up { child, port };
        let deadline = Instant::now() + START_WAIT_MAX;
        while http_get(port, "/healthz").is_none() {
            if let Some(status) = up.child.try_wait().expect("try_wait") {
                panic!("picket {role} exited early with {status}");
            }
            assert!(
                Instant::now() < deadline,
                "picket {role} did not become healthy"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        up
    }

    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Sends `signal` (`TERM`, `INT`, …).
    pub fn signal(&self, signal: &str) {
        crate::process::signal(self.child.id(), signal).expect("kill");
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
    pub child: Child,
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
        std::fs::create_dir_all(data_dir).expect("data dir");
        let log = std::fs::File::create(data_dir.join("sandbox-pay.log")).expect("log");
        let child = Command::new(picket)
            .args(["sandbox-pay", "--listen", &format!("127.0.0.1:{port}")])
            .env("PICKET_SANDBOX_PAY_DATA_DIR", data_dir)
            .env("PICKET_SANDBOX_PAY_SECRET_KEY", crate::pay::SECRET_KEY)
            .env("PICKET_SANDBOX_PAY_CLIENT_KEY", crate::pay::CLIENT_KEY)
            .env(
                "PICKET_SANDBOX_PAY_WEBHOOK_SECRET",
                crate::pay::WEBHOOK_SECRET,
            )
            .env("PICKET_SANDBOX_PAY_ADMIN_TOKEN", crate::pay::ADMIN_TOKEN)
            .env("PICKET_SANDBOX_PAY_WEBHOOK_URL", webhook_urls.join(","))
            .env("PICKET_SANDBOX_PAY_WEBHOOK_ON_AUTHORISE", "false")
            .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("spawn picket sandbox-pay");
        let mut sandbox = SandboxPay {
            child,
            checkout: crate::pay::Checkout {
                address: std::net::SocketAddr::from(([127, 0, 0, 1], port)),
            },
        };
        let deadline = Instant::now() + START_WAIT_MAX;
        while http_get(port, "/healthz").is_none() {
            if let Some(status) = sandbox.child.try_wait().expect("try_wait") {
                panic!("picket sandbox-pay exited early with {status}");
            }
            assert!(
                Instant::now() < deadline,
                "picket sandbox-pay did not become healthy"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        sandbox
    }

    /// Sends `signal` (`TERM`, `INT`, …).
    pub fn signal(&self, signal: &str) {
        crate::process::signal(self.child.id(), signal).expect("kill");
    }
}

impl std::ops::Deref for SandboxPay {
    type Target = crate::pay::Checkout;

    fn deref(&self) -> &crate::pay::Checkout {
        &self.checkout
    }
}

impl Drop for SandboxPay {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Up {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// PostgreSQL, NATS and Redis from the harness, a `picket ledger` leader, and `gateways`
/// `picket up` processes sharing them (each also a standby for the ledger partition).
pub struct Deployment {
    pub gateways: Vec<Up>,
    pub leader: LedgerNode,
    pub database_url: String,
    pub redis: Redis,
    pub nats: Nats,
    pub postgres: Postgres,
    pub dir: tempfile::TempDir,
}

impl Drop for Deployment {
    fn drop(&mut self) {
        // Before the fields go: PostgreSQL still runs.
        self.write_pg_work_report();
    }
}

impl Deployment {
    pub fn start(picket: &str, gateways: usize, lease_ms: u64) -> Deployment {
        Self::start_with(picket, gateways, lease_ms, &[])
    }

    /// [`Self::start`] with more environment for the gateways (say, their push interval).
    pub fn start_with(
        picket: &str,
        gateways: usize,
        lease_ms: u64,
        gateway_env: &[(&str, String)],
    ) -> Deployment {
        let postgres = Postgres::start().expect("postgres");
        let nats = Nats::start().expect("nats");
        let redis = Redis::start().expect("redis");
        let database_url = postgres.create_database("picket").expect("database");
        let dir = tempfile::tempdir().expect("tempdir");
        let leader = LedgerNode::spawn(
            picket,
            &database_url,
            &nats.url(),
            lease_ms,
            dir.path(),
            "leader",
        );
        leader.wait_role("leader");
        let mut env = vec![
            ("DATABASE_URL", database_url.clone()),
            ("PICKET_NATS_URL", nats.url()),
            ("PICKET_REDIS_URL", redis.url()),
        ];
        env.extend(gateway_env.iter().cloned());
        let gateways = (0..gateways)
            .map(|n| Up::start(picket, &dir.path().join(format!("gateway-{n}")), &env))
            .collect();
        Deployment {
            gateways,
            leader,
            database_url,
            redis,
            nats,
            postgres,
            dir,
        }
    }

    /// `host:port,host:port,…` for `picket loadtest --gateway`.
    pub fn gateway_list(&self) -> String {
        let list: Vec<String> = self.gateways.iter().map(Up::address).collect();
        list.join(",")
    }

    /// `--server-pid NAME=PID` for the ledger leader, PostgreSQL (its postmaster: the backends
    /// are its children), NATS and Redis; the gateways go as `--gateway-pid`.
    pub fn server_pid_args(&self) -> Vec<String> {
        let pids = [
            ("ledger", Some(self.leader.child.id())),
            ("postgres", self.postgres.pid()),
            ("nats", self.nats.pid()),
            ("redis", self.redis.pid()),
        ];
        pids.into_iter()
            .filter_map(|(name, pid)| Some(["--server-pid".to_owned(), format!("{name}={}", pid?)]))
            .flatten()
            .collect()
    }

    /// Writes [`Postgres::work_report`] of the deployment's database to the file named by
    /// [`crate::postgres::PG_STATS_ENV`], when it is set.
    pub fn write_pg_work_report(&self) {
        let Some(path) = std::env::var_os(crate::postgres::PG_STATS_ENV) else {
            return;
        };
        let database = self.database_url.rsplit('/').next().unwrap_or("picket");
        match self.postgres.work_report(database) {
            Ok(report) => match std::fs::write(&path, report) {
                Ok(()) => eprintln!("PostgreSQL work per booking: {}", path.to_string_lossy()),
                Err(error) => eprintln!("cannot write {}: {error}", path.to_string_lossy()),
            },
            Err(error) => eprintln!("PostgreSQL work report failed: {error}"),
        }
    }

    pub fn gateway_pids(&self) -> String {
        let list: Vec<String> = self
            .gateways
            .iter()
            .map(|g| g.child.id().to_string())
            .collect();
        list.join(",")
    }
}
