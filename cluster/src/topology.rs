//! The topology: every server and `picket` process of a deployment on this host, started in
//! order, watched, and stopped in order. [`ClusterConfig::production`] is what `picket cluster`
//! runs (PostgreSQL with a streaming read replica, a 3-node NATS cluster, Redis with AOF, two
//! ledger nodes, gateways behind one port, the notifier and the payment sandbox as their own
//! processes); [`ClusterConfig::load_test`] is the smaller deployment the load tests and their
//! benchmarks have always measured (one NATS, Redis without persistence, one ledger node, and
//! `picket up` gateways that stand by for its partitions).

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{ClusterError, io_error};
use crate::picket::{DRAIN_WAIT_MAX, LedgerNode, LedgerSpec, PicketProcess, Spawn};
use crate::process::{Dir, is_root};
use crate::{Nats, Postgres, Redis};

/// The operator token every process of a load-test deployment shares.
pub const OPERATOR_TOKEN: &str = "loadtest-operator-token-0123456789";
/// One signing key shared by a load-test deployment's gateways, so a guest token from one works
/// on the other.
pub const TOKEN_KEYS: &str = "k1:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
/// The machine-readable description a cluster writes into its data directory.
pub const CLUSTER_FILE: &str = "cluster.json";
/// The database the journal, the leases and the API's tables live in.
pub const DATABASE: &str = "picket";
/// Most gateways, NATS servers or ledger nodes one cluster starts (each is a process on this
/// host).
pub const PROCESSES_PER_KIND_MAX: usize = 64;

/// What a gateway process is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GatewayKind {
    /// `picket gateway`, the edge only: the WebSocket, the waiting room and the HTTP API, paying
    /// through the cluster's payment sandbox with the keys every gateway shares (production).
    Edge,
    /// `picket up` standing by for every ledger partition (the load tests' deployment).
    UpStandby,
}

/// The secrets every gateway (and the notifier, and the sandbox) must share.
#[derive(Clone, Debug, Default)]
pub struct Secrets {
    pub operator_token: String,
    /// Where the operator token is kept, for cluster.json (`None`: nowhere but here).
    pub operator_token_file: Option<PathBuf>,
    /// `PICKET_TOKEN_KEYS`.
    pub token_keys: String,
    /// `PICKET_TICKET_KEY` (`None`: each gateway makes its own).
    pub ticket_key: Option<String>,
    /// `PICKET_VAPID_PRIVATE_KEY` (`None`: each gateway makes its own; the notifier sends no
    /// Web Push).
    pub vapid_private_key: Option<String>,
    /// The payment sandbox's keys (with [`ClusterConfig::sandbox_pay`]).
    pub sandbox: Option<SandboxKeys>,
}

/// The keys of the cluster's payment sandbox, which the gateways call it with.
#[derive(Clone, Debug)]
pub struct SandboxKeys {
    pub secret_key: String,
    pub client_key: String,
    pub webhook_secret: String,
}

/// What to start.
#[derive(Clone, Debug)]
pub struct ClusterConfig {
    /// The `picket` binary every Picket process runs.
    pub picket: PathBuf,
    /// Where each component gets its own subdirectory, kept (`None`: a temporary directory,
    /// removed when the cluster is dropped).
    pub data_dir: Option<PathBuf>,
    /// The one gateway port the caller serves ([`crate::balancer`]); the sandbox's webhooks go
    /// there, and cluster.json names it.
    pub front: Option<SocketAddr>,
    pub gateways: usize,
    pub gateway_kind: GatewayKind,
    pub partitions: u16,
    pub nats_nodes: usize,
    pub read_replica: bool,
    pub ledger_nodes: usize,
    /// The notifier as its own process (else each gateway runs one).
    pub notifier: bool,
    /// The payment sandbox as its own process (else each gateway runs one in process).
    pub sandbox_pay: bool,
    /// Redis with a synced append-only file.
    pub redis_aof: bool,
    /// The ledger's lease in milliseconds (`None`: the ledger node's default).
    pub lease_ms: Option<u64>,
    pub secrets: Secrets,
    /// More environment for the gateways, applied last.
    pub gateway_env: Vec<(String, String)>,
}

impl ClusterConfig {
    /// The production topology of `picket cluster`, in `data_dir`.
    pub fn production(picket: PathBuf, data_dir: PathBuf, secrets: Secrets) -> ClusterConfig {
        ClusterConfig {
            picket,
            data_dir: Some(data_dir),
            front: None,
            gateways: 3,
            gateway_kind: GatewayKind::Edge,
            partitions: 1,
            nats_nodes: 3,
            read_replica: true,
            ledger_nodes: 2,
            notifier: true,
            sandbox_pay: true,
            redis_aof: true,
            lease_ms: None,
            secrets,
            gateway_env: Vec::new(),
        }
    }

    /// The load tests' deployment: PostgreSQL, one NATS server and Redis (no persistence) in
    /// temporary directories, a `picket ledger` leader, and `gateways` `picket up` processes
    /// sharing them (each also a standby for the ledger partition).
    pub fn load_test(picket: PathBuf, gateways: usize, lease_ms: u64) -> ClusterConfig {
        ClusterConfig {
            picket,
            data_dir: None,
            front: None,
            gateways,
            gateway_kind: GatewayKind::UpStandby,
            partitions: 1,
            nats_nodes: 1,
            read_replica: false,
            ledger_nodes: 1,
            notifier: false,
            sandbox_pay: false,
            redis_aof: false,
            lease_ms: Some(lease_ms),
            secrets: Secrets {
                operator_token: OPERATOR_TOKEN.into(),
                token_keys: TOKEN_KEYS.into(),
                ..Secrets::default()
            },
            gateway_env: Vec::new(),
        }
    }

    /// Every problem with the counts, at once.
    fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        for (name, count) in [
            ("gateways", self.gateways),
            ("NATS servers", self.nats_nodes),
            ("ledger nodes", self.ledger_nodes),
        ] {
            if count == 0 || count > PROCESSES_PER_KIND_MAX {
                problems.push(format!(
                    "{name} must be 1 to {PROCESSES_PER_KIND_MAX}, got {count}"
                ));
            }
        }
        if self.partitions == 0 {
            problems.push("partitions must be at least 1".into());
        }
        if self.sandbox_pay && self.secrets.sandbox.is_none() {
            problems.push("the payment sandbox process needs its keys".into());
        }
        if self.gateway_kind == GatewayKind::Edge {
            // `picket gateway` makes no key of its own and runs no payment sandbox.
            if !self.sandbox_pay {
                problems.push("`picket gateway` needs the payment sandbox process".into());
            }
            if self.secrets.ticket_key.is_none() {
                problems.push("`picket gateway` needs the shared ticket key".into());
            }
            if self.secrets.vapid_private_key.is_none() {
                problems.push("`picket gateway` needs the shared VAPID key".into());
            }
        }
        problems
    }
}

/// The command line of a gateway listening on `listen`: the one place that decides what a
/// gateway runs.
fn gateway_args(kind: GatewayKind, listen: &str) -> Vec<String> {
    let command = match kind {
        GatewayKind::Edge => "gateway",
        GatewayKind::UpStandby => "up",
    };
    [command, "--listen", listen].map(String::from).to_vec()
}

/// A process that ended by itself, as [`Cluster::exited`] reports it once.
#[derive(Clone, Debug)]
pub struct Exit {
    pub name: String,
    pub role: String,
    pub pid: Option<u32>,
    pub status: String,
    pub log: PathBuf,
}

/// cluster.json: what runs where, for tests, `picket loadtest` and operators' scripts.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClusterFile {
    /// The one gateway port: `http://…` (the API under `/api`, the browser UI).
    pub url: Option<String>,
    /// `ws://…/ws` on the one port (subprotocol `picket.v2`).
    pub websocket_url: Option<String>,
    pub data_dir: PathBuf,
    /// The file holding the operator token (Bearer token of the operator API and /metrics).
    pub operator_token_file: Option<PathBuf>,
    /// The primary: the journal, the leases and the API's tables.
    pub database_url: String,
    /// The streaming read replica (the gateways' `DATABASE_READ_URL`).
    pub database_read_url: Option<String>,
    pub nats_urls: Vec<String>,
    pub redis_url: String,
    /// The payment sandbox's base URL (its checkout page is `/checkout`).
    pub sandbox_pay_url: Option<String>,
    pub partitions: u16,
    /// The process that started the cluster and stops it (SIGINT or SIGTERM to it).
    pub supervisor_pid: u32,
    pub processes: Vec<ProcessEntry>,
}

/// One process of the cluster.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ProcessEntry {
    /// Unique in the cluster: `postgres-primary`, `nats-1`, `ledger-0`, `gateway-2`, …
    pub name: String,
    /// `postgres`, `postgres-replica`, `nats`, `redis`, `sandbox-pay`, `ledger`, `notifier` or
    /// `gateway`.
    pub role: String,
    pub pid: Option<u32>,
    /// Its ports by use (`sql`, `client`, `route`, `monitor`, `http`).
    pub ports: BTreeMap<String, u16>,
    pub data_dir: PathBuf,
    pub log: PathBuf,
    /// How it ended, once it has.
    pub exited: Option<String>,
}

/// The running cluster. Dropping it kills whatever still runs (Picket's processes first);
/// [`Cluster::stop`] stops it in order instead.
pub struct Cluster {
    pub gateways: Vec<PicketProcess>,
    pub notifier: Option<PicketProcess>,
    pub ledgers: Vec<LedgerNode>,
    pub sandbox: Option<PicketProcess>,
    pub redis: Redis,
    pub nats: Vec<Nats>,
    pub replica: Option<Postgres>,
    pub postgres: Postgres,
    pub database_url: String,
    pub database_read_url: Option<String>,
    pub config: ClusterConfig,
    /// Processes whose exit was reported, by name.
    reported: BTreeMap<String, String>,
    dir: Dir,
}

impl Cluster {
    /// Starts everything in order — PostgreSQL (and its replica), NATS, Redis, the payment
    /// sandbox, the ledger nodes (the first leads every partition, the others stand by), the
    /// gateways, the notifier — each waited for until it answers, and writes cluster.json.
    /// A failure stops what was started.
    pub fn start(config: ClusterConfig) -> Result<Cluster, ClusterError> {
        let problems = config.problems();
        if !problems.is_empty() {
            return Err(ClusterError::Setting(problems.join("; ")));
        }
        let dir = match &config.data_dir {
            Some(path) => Dir::kept(path)?,
            // As root PostgreSQL's directories must be reachable by the postgres user.
            None => Dir::temp("cluster", is_root().then_some(Path::new("/tmp")))?,
        };
        let root = dir.path().to_path_buf();
        let kept = config.data_dir.is_some();
        let postgres = if kept {
            Postgres::start_in(&root.join("postgres-primary"))?
        } else {
            Postgres::start()?
        };
        let database_url = postgres.ensure_database(DATABASE)?;
        let replica = match config.read_replica {
            true => Some(Postgres::start_replica_of(
                &postgres,
                &root.join("postgres-replica"),
            )?),
            false => None,
        };
        let database_read_url = replica.as_ref().map(|r| r.database_url(DATABASE));
        let nats = if config.nats_nodes == 1 && !kept {
            vec![Nats::start()?]
        } else {
            let dirs: Vec<PathBuf> = (0..config.nats_nodes)
                .map(|i| root.join(format!("nats-{i}")))
                .collect();
            Nats::start_cluster(&dirs)?
        };
        let redis = match (config.redis_aof, kept) {
            (true, true) => Redis::start_durable_in(&root.join("redis"))?,
            (true, false) => Redis::start_durable()?,
            (false, _) => Redis::start()?,
        };
        let mut cluster = Cluster {
            gateways: Vec::new(),
            notifier: None,
            ledgers: Vec::new(),
            sandbox: None,
            redis,
            nats,
            replica,
            postgres,
            database_url,
            database_read_url,
            config,
            reported: BTreeMap::new(),
            dir,
        };
        cluster.start_picket()?;
        cluster.write_file()?;
        Ok(cluster)
    }

    /// The `picket` processes, in order.
    fn start_picket(&mut self) -> Result<(), ClusterError> {
        let root = self.dir.path().to_path_buf();
        let picket = self.config.picket.clone();
        if self.config.sandbox_pay {
            self.sandbox = Some(self.start_sandbox(&root)?);
        }
        for index in 0..self.config.ledger_nodes {
            let (name, data_dir) = match self.config.gateway_kind {
                // Where the load tests have always found the leader's log.
                GatewayKind::UpStandby if index == 0 => ("leader".to_owned(), root.clone()),
                _ => (
                    format!("ledger-{index}"),
                    root.join(format!("ledger-{index}")),
                ),
            };
            let mut node = LedgerNode::start(LedgerSpec {
                picket: &picket,
                name,
                database_url: &self.database_url,
                nats_url: &self.nats_url_for(index),
                partitions: self.config.partitions,
                lease_ms: self.config.lease_ms,
                data_dir,
                env: Vec::new(),
                extra_args: Vec::new(),
            })?;
            node.wait_role(if index == 0 { "leader" } else { "standby" })?;
            self.ledgers.push(node);
        }
        for index in 0..self.config.gateways {
            let gateway = self.start_gateway(index, &root)?;
            self.gateways.push(gateway);
        }
        if self.config.notifier {
            // After the gateways: the API made its tables, the inboxes among them.
            let mut env = vec![
                ("PICKET_NATS_URL".to_owned(), self.nats_url_for(0)),
                ("DATABASE_URL".to_owned(), self.database_url.clone()),
                (
                    "PICKET_PARTITIONS".to_owned(),
                    self.config.partitions.to_string(),
                ),
                ("RUST_LOG".to_owned(), "info".to_owned()),
            ];
            if let Some(key) = &self.config.secrets.vapid_private_key {
                env.push(("PICKET_VAPID_PRIVATE_KEY".to_owned(), key.clone()));
            }
            // Its ops port (/healthz, /metrics) on a free port, not the role's default.
            let port = crate::free_port()?;
            let mut notifier = PicketProcess::spawn(Spawn {
                picket: &picket,
                name: "notifier".into(),
                role: "notifier",
                args: vec![
                    "notifier".into(),
                    "--listen".into(),
                    format!("127.0.0.1:{port}"),
                ],
                env,
                data_dir: root.join("notifier"),
                port: Some(port),
            })?;
            notifier.wait_logged("picket notifier is up")?;
            self.notifier = Some(notifier);
        }
        Ok(())
    }

    fn start_sandbox(&self, root: &Path) -> Result<PicketProcess, ClusterError> {
        let port = crate::free_port()?;
        let keys =
            self.config.secrets.sandbox.clone().ok_or_else(|| {
                ClusterError::Setting("the payment sandbox needs its keys".into())
            })?;
        let data_dir = root.join("sandbox-pay");
        let mut env = vec![
            ("PICKET_SANDBOX_PAY_SECRET_KEY".to_owned(), keys.secret_key),
            ("PICKET_SANDBOX_PAY_CLIENT_KEY".to_owned(), keys.client_key),
            (
                "PICKET_SANDBOX_PAY_WEBHOOK_SECRET".to_owned(),
                keys.webhook_secret,
            ),
        ];
        if let Some(front) = self.config.front {
            env.push((
                "PICKET_SANDBOX_PAY_WEBHOOK_URL".to_owned(),
                format!("http://{front}/api/v2/payments/webhook"),
            ));
        }
        let mut sandbox = PicketProcess::spawn(Spawn {
            picket: &self.config.picket,
            name: "sandbox-pay".into(),
            role: "sandbox-pay",
            args: vec![
                "sandbox-pay".into(),
                "--listen".into(),
                format!("127.0.0.1:{port}"),
                "--data-dir".into(),
                data_dir.display().to_string(),
            ],
            env,
            data_dir,
            port: Some(port),
        })?;
        sandbox.wait_healthy()?;
        Ok(sandbox)
    }

    fn start_gateway(&self, index: usize, root: &Path) -> Result<PicketProcess, ClusterError> {
        let config = &self.config;
        let secrets = &config.secrets;
        let port = crate::free_port()?;
        let data_dir = root.join(format!("gateway-{index}"));
        let mut env: Vec<(String, String)> = vec![
            ("PICKET_DATA_DIR".into(), data_dir.display().to_string()),
            ("DATABASE_URL".into(), self.database_url.clone()),
            ("PICKET_NATS_URL".into(), self.nats_url_for(index)),
            ("PICKET_REDIS_URL".into(), self.redis.url()),
            (
                "PICKET_OPERATOR_TOKEN".into(),
                secrets.operator_token.clone(),
            ),
            ("PICKET_TOKEN_KEYS".into(), secrets.token_keys.clone()),
        ];
        env.push(("PICKET_PARTITIONS".into(), config.partitions.to_string()));
        if let Some(url) = &self.database_read_url {
            env.push(("DATABASE_READ_URL".into(), url.clone()));
        }
        if config.notifier {
            env.push(("PICKET_NOTIFIER".into(), "false".into()));
        }
        if let Some(key) = &secrets.ticket_key {
            env.push(("PICKET_TICKET_KEY".into(), key.clone()));
        }
        if let Some(key) = &secrets.vapid_private_key {
            env.push(("PICKET_VAPID_PRIVATE_KEY".into(), key.clone()));
        }
        if let (Some(sandbox), Some(keys)) = (&self.sandbox, &secrets.sandbox) {
            let base = format!("http://{}", sandbox.address());
            // Buyers pay on the sandbox's checkout page (its billing page, beside it, serves
            // the waitlist's auto-pay sign-ups).
            env.push((
                "PICKET_PAYMENTS_CHECKOUT_URL".into(),
                format!("{base}/checkout"),
            ));
            env.push(("PICKET_PAYMENTS_BASE_URL".into(), base));
            env.push(("PICKET_PAYMENTS_SECRET_KEY".into(), keys.secret_key.clone()));
            env.push(("PICKET_PAYMENTS_CLIENT_KEY".into(), keys.client_key.clone()));
            env.push((
                "PICKET_PAYMENTS_WEBHOOK_SECRET".into(),
                keys.webhook_secret.clone(),
            ));
        }
        env.extend(config.gateway_env.iter().cloned());
        let mut gateway = PicketProcess::spawn(Spawn {
            picket: &config.picket,
            name: format!("gateway-{index}"),
            role: "gateway",
            args: gateway_args(config.gateway_kind, &format!("127.0.0.1:{port}")),
            env,
            data_dir,
            port: Some(port),
        })?;
        gateway.wait_healthy()?;
        Ok(gateway)
    }

    /// The NATS server the `index`th process of a kind connects to: spread over the servers
    /// (each client learns the others from the cluster).
    fn nats_url_for(&self, index: usize) -> String {
        self.nats[index % self.nats.len()].url()
    }

    /// The directory every component has its subdirectory in.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// The first NATS server's URL.
    pub fn nats_url(&self) -> String {
        self.nats_url_for(0)
    }

    /// The ledger node started first, which led every partition when the cluster was up.
    pub fn leader(&self) -> &LedgerNode {
        &self.ledgers[0]
    }

    /// `host:port,host:port,…` of the gateways, for `picket loadtest --gateway`.
    pub fn gateway_list(&self) -> String {
        let list: Vec<String> = self.gateways.iter().map(PicketProcess::address).collect();
        list.join(",")
    }

    /// The gateways' pids, comma-separated, for `picket loadtest --gateway-pid`.
    pub fn gateway_pids(&self) -> String {
        let list: Vec<String> = self.gateways.iter().map(|g| g.pid().to_string()).collect();
        list.join(",")
    }

    /// `--server-pid NAME=PID` for the first ledger node, PostgreSQL (its postmaster: the
    /// backends are its children), NATS and Redis; the gateways go as `--gateway-pid`.
    pub fn server_pid_args(&self) -> Vec<String> {
        let mut pids = vec![
            ("ledger", Some(self.leader().pid())),
            ("postgres", self.postgres.pid()),
        ];
        pids.extend(self.nats.iter().map(|n| ("nats", n.pid())));
        pids.push(("redis", self.redis.pid()));
        pids.into_iter()
            .filter_map(|(name, pid)| Some(["--server-pid".to_owned(), format!("{name}={}", pid?)]))
            .flatten()
            .collect()
    }

    /// What runs where, as written to cluster.json.
    pub fn file(&self) -> ClusterFile {
        let mut processes = Vec::new();
        let mut service = |name: &str, role: &str, pid, ports: &[(&str, u16)], dir: &Path, log| {
            processes.push(ProcessEntry {
                name: name.into(),
                role: role.into(),
                pid,
                ports: ports.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
                data_dir: dir.to_path_buf(),
                log,
                exited: self.reported.get(name).cloned(),
            })
        };
        service(
            "postgres-primary",
            "postgres",
            self.postgres.pid(),
            &[("sql", self.postgres.port())],
            self.postgres.dir(),
            self.postgres.log_path(),
        );
        if let Some(replica) = &self.replica {
            service(
                "postgres-replica",
                "postgres-replica",
                replica.pid(),
                &[("sql", replica.port())],
                replica.dir(),
                replica.log_path(),
            );
        }
        for (index, nats) in self.nats.iter().enumerate() {
            let mut ports = vec![("client", nats.port())];
            if let Some(cluster) = nats.cluster_ports() {
                ports.extend([("route", cluster.route), ("monitor", cluster.monitor)]);
            }
            service(
                &format!("nats-{index}"),
                "nats",
                nats.pid(),
                &ports,
                nats.dir(),
                nats.log_path(),
            );
        }
        service(
            "redis",
            "redis",
            self.redis.pid(),
            &[("redis", self.redis.port())],
            self.redis.dir(),
            self.redis.log_path(),
        );
        let picket = self
            .sandbox
            .iter()
            .chain(self.ledgers.iter().map(|l| &l.0))
            .chain(self.gateways.iter())
            .chain(self.notifier.iter());
        for process in picket {
            let ports: Vec<(&str, u16)> = match process.port {
                0 => Vec::new(),
                port => vec![("http", port)],
            };
            service(
                &process.name,
                process.role,
                Some(process.pid()),
                &ports,
                &process.data_dir,
                process.log.clone(),
            );
        }
        ClusterFile {
            url: self.config.front.map(|front| format!("http://{front}")),
            websocket_url: self.config.front.map(|front| format!("ws://{front}/ws")),
            data_dir: self.dir().to_path_buf(),
            operator_token_file: self.config.secrets.operator_token_file.clone(),
            database_url: self.database_url.clone(),
            database_read_url: self.database_read_url.clone(),
            nats_urls: self.nats.iter().map(Nats::url).collect(),
            redis_url: self.redis.url(),
            sandbox_pay_url: self
                .sandbox
                .as_ref()
                .map(|s| format!("http://{}", s.address())),
            partitions: self.config.partitions,
            supervisor_pid: std::process::id(),
            processes,
        }
    }

    /// Writes cluster.json into the data directory (replacing it whole, so a reader never sees
    /// half of it).
    pub fn write_file(&self) -> Result<PathBuf, ClusterError> {
        let path = self.dir().join(CLUSTER_FILE);
        let partial = self.dir().join(format!("{CLUSTER_FILE}.partial"));
        let json = serde_json::to_string_pretty(&self.file())
            .map_err(|e| io_error("encoding cluster.json")(std::io::Error::other(e)))?;
        std::fs::write(&partial, json + "\n")
            .map_err(io_error(format!("writing {}", partial.display())))?;
        std::fs::rename(&partial, &path)
            .map_err(io_error(format!("writing {}", path.display())))?;
        Ok(path)
    }

    /// Processes that ended by themselves since the last call (each reported once).
    pub fn exited(&mut self) -> Vec<Exit> {
        let mut found: Vec<Exit> = Vec::new();
        let mut note =
            |name: String, role: &str, pid, status: Option<std::process::ExitStatus>, log| {
                if let Some(status) = status {
                    found.push(Exit {
                        name,
                        role: role.into(),
                        pid,
                        status: status.to_string(),
                        log,
                    });
                }
            };
        let postgres_pid = self.postgres.pid();
        let log = self.postgres.log_path();
        note(
            "postgres-primary".into(),
            "postgres",
            postgres_pid,
            self.postgres.exited(),
            log,
        );
        if let Some(replica) = &mut self.replica {
            let (pid, log) = (replica.pid(), replica.log_path());
            note(
                "postgres-replica".into(),
                "postgres-replica",
                pid,
                replica.exited(),
                log,
            );
        }
        for (index, nats) in self.nats.iter_mut().enumerate() {
            let (pid, log) = (nats.pid(), nats.log_path());
            note(format!("nats-{index}"), "nats", pid, nats.exited(), log);
        }
        let (pid, log) = (self.redis.pid(), self.redis.log_path());
        note("redis".into(), "redis", pid, self.redis.exited(), log);
        let picket = self
            .sandbox
            .iter_mut()
            .chain(self.ledgers.iter_mut().map(|l| &mut l.0))
            .chain(self.gateways.iter_mut())
            .chain(self.notifier.iter_mut());
        for process in picket {
            let status = process.exited();
            note(
                process.name.clone(),
                process.role,
                Some(process.pid()),
                status,
                process.log.clone(),
            );
        }
        found.retain(|exit| !self.reported.contains_key(&exit.name));
        for exit in &found {
            self.reported.insert(exit.name.clone(), exit.status.clone());
        }
        found
    }

    /// Stops everything in order: the gateways drain first (clients are told to reconnect
    /// elsewhere), then the notifier, the ledger nodes (standbys first, the leaders last, each
    /// handing its leases back), the payment sandbox, Redis, NATS, the replica and the primary.
    pub fn stop(&mut self) {
        for gateway in &mut self.gateways {
            let _ = gateway.signal("CONT");
            let _ = gateway.signal("TERM");
        }
        for gateway in &mut self.gateways {
            gateway.wait_exit(DRAIN_WAIT_MAX);
            tracing::info!(gateway = %gateway.name, "stopped");
        }
        if let Some(notifier) = &mut self.notifier {
            notifier.stop(DRAIN_WAIT_MAX);
        }
        let leading: BTreeSet<usize> = self
            .ledgers
            .iter()
            .enumerate()
            .filter(|(_, node)| {
                node.roles()
                    .is_some_and(|roles| roles.iter().any(|r| r == "leader"))
            })
            .map(|(index, _)| index)
            .collect();
        let mut order: Vec<usize> = (0..self.ledgers.len())
            .filter(|index| !leading.contains(index))
            .collect();
        order.extend(leading);
        for index in order {
            let node = &mut self.ledgers[index];
            node.stop(DRAIN_WAIT_MAX);
            tracing::info!(ledger = %node.name, "stopped");
        }
        if let Some(sandbox) = &mut self.sandbox {
            sandbox.stop(DRAIN_WAIT_MAX);
        }
        let _ = self.redis.stop();
        for nats in &mut self.nats {
            let _ = nats.stop();
        }
        if let Some(replica) = &mut self.replica {
            let _ = replica.stop();
        }
        let _ = self.postgres.stop();
    }

    /// Writes [`Postgres::work_report`] of the cluster's database to the file named by
    /// [`crate::postgres::PG_STATS_ENV`], when it is set.
    pub fn write_pg_work_report(&self) {
        let Some(path) = std::env::var_os(crate::postgres::PG_STATS_ENV) else {
            return;
        };
        match self.postgres.work_report(DATABASE) {
            Ok(report) => match std::fs::write(&path, report) {
                Ok(()) => eprintln!("PostgreSQL work per booking: {}", path.to_string_lossy()),
                Err(error) => eprintln!("cannot write {}: {error}", path.to_string_lossy()),
            },
            Err(error) => eprintln!("PostgreSQL work report failed: {error}"),
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Before the fields go: PostgreSQL still runs.
        self.write_pg_work_report();
        // Picket's processes before the servers they use (the fields drop in this order too).
        for gateway in &mut self.gateways {
            gateway.kill();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shared() -> Secrets {
        Secrets {
            operator_token: "operator".into(),
            token_keys: TOKEN_KEYS.into(),
            ticket_key: Some("11".repeat(32)),
            vapid_private_key: Some("AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE".into()),
            sandbox: Some(SandboxKeys {
                secret_key: "test_sk_1".into(),
                client_key: "test_ck_1".into(),
                webhook_secret: "whsec_1".into(),
            }),
            ..Secrets::default()
        }
    }

    #[test]
    fn production_gateways_are_picket_gateway_and_the_load_tests_picket_up() {
        assert_eq!(
            gateway_args(GatewayKind::Edge, "127.0.0.1:1"),
            ["gateway", "--listen", "127.0.0.1:1"]
        );
        assert_eq!(
            gateway_args(GatewayKind::UpStandby, "127.0.0.1:1"),
            ["up", "--listen", "127.0.0.1:1"]
        );
        let production = ClusterConfig::production("picket".into(), "data".into(), shared());
        assert_eq!(production.gateway_kind, GatewayKind::Edge);
        assert!(
            production.problems().is_empty(),
            "{:?}",
            production.problems()
        );
        let load_test = ClusterConfig::load_test("picket".into(), 2, 1_000);
        assert_eq!(load_test.gateway_kind, GatewayKind::UpStandby);
        assert!(
            load_test.problems().is_empty(),
            "{:?}",
            load_test.problems()
        );
    }

    #[test]
    fn picket_gateway_without_the_shared_keys_or_a_sandbox_is_refused_before_anything_starts() {
        let secrets = Secrets {
            ticket_key: None,
            vapid_private_key: None,
            ..shared()
        };
        let mut config = ClusterConfig::production("picket".into(), "data".into(), secrets);
        config.sandbox_pay = false;
        let problems = config.problems();
        for wanted in ["payment sandbox", "ticket key", "VAPID key"] {
            assert!(
                problems.iter().any(|p| p.contains(wanted)),
                "{wanted}: {problems:?}"
            );
        }
        assert_eq!(problems.len(), 3, "{problems:?}");
    }
}
