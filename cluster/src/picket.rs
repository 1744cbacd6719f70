//! `picket` processes: one command of the binary (`ledger`, `gateway`, `up`, `notifier`,
//! `sandbox-pay`) with its arguments, environment, data directory and log, waited for until it
//! answers, and stopped with SIGTERM (it drains) or killed. [`LedgerNode`] and [`Up`] are the two the
//! harness's tests drive directly.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use crate::error::{ClusterError, io_error};
use crate::process::{PROBE_ANSWER_WAIT_MAX, PROBE_INTERVAL, STARTUP_WAIT_MAX, log_tail, signal};

/// How long a stopped `picket` process may take to drain and exit before it is killed: a
/// gateway tells its clients to reconnect and a ledger node commits what is queued and hands its
/// leases back within this.
pub const DRAIN_WAIT_MAX: Duration = Duration::from_secs(30);
/// How long a ledger node may take to reach a role.
pub const ROLE_WAIT_MAX: Duration = Duration::from_secs(30);

/// Environment a `picket` process must not inherit from the one starting it: the cluster sets
/// what it needs, and a stray setting would point a process elsewhere.
const INHERITED_NOT: [&str; 17] = [
    "DATABASE_URL",
    "DATABASE_READ_URL",
    "PICKET_NATS_URL",
    "PICKET_NATS_CA_FILE",
    "PICKET_NATS_CERT_FILE",
    "PICKET_NATS_KEY_FILE",
    "PICKET_NATS_CREDS_FILE",
    "PICKET_REDIS_URL",
    "PICKET_REDIS_CA_FILE",
    "PICKET_REDIS_CERT_FILE",
    "PICKET_REDIS_KEY_FILE",
    "PICKET_DATA_DIR",
    "PICKET_PAYMENTS_BASE_URL",
    "PICKET_PAYMENTS_CHECKOUT_URL",
    "PICKET_PARTITIONS",
    "PICKET_HOST_PARTITIONS",
    "PICKET_ROLE",
];

/// What a `picket` process is to start with.
pub struct Spawn<'a> {
    /// The `picket` binary.
    pub picket: &'a Path,
    /// Its name in the cluster (`gateway-1`), which names its log file.
    pub name: String,
    /// `gateway`, `ledger`, `notifier` or `sandbox-pay`.
    pub role: &'static str,
    /// The command and its arguments (`["ledger", "--listen", …]`).
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Its own directory (the working directory, the log's place).
    pub data_dir: PathBuf,
    /// The port its HTTP listener (`/healthz`) is on, if it has one.
    pub port: Option<u16>,
}

/// A running `picket` process.
pub struct PicketProcess {
    pub name: String,
    pub role: &'static str,
    pub child: Child,
    /// The HTTP port (`/healthz`), 0 when it serves none.
    pub port: u16,
    pub data_dir: PathBuf,
    pub log: PathBuf,
    /// How it ended, once it has.
    exit: Option<ExitStatus>,
}

impl PicketProcess {
    /// Starts the process, its stdout and stderr appended to `<data_dir>/<name>.log`.
    pub fn spawn(spawn: Spawn<'_>) -> Result<PicketProcess, ClusterError> {
        std::fs::create_dir_all(&spawn.data_dir)
            .map_err(io_error(format!("creating {}", spawn.data_dir.display())))?;
        let log = spawn.data_dir.join(format!("{}.log", spawn.name));
        let (stdout, stderr) = crate::process::open_log(&log)?;
        let mut command = Command::new(spawn.picket);
        crate::process::detach(&mut command).args(&spawn.args);
        for name in INHERITED_NOT {
            command.env_remove(name);
        }
        let child = command
            .envs(spawn.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(&spawn.data_dir)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .map_err(io_error(format!(
                "starting {} ({})",
                spawn.name,
                spawn.picket.display()
            )))?;
        Ok(PicketProcess {
            name: spawn.name,
            role: spawn.role,
            child,
            port: spawn.port.unwrap_or(0),
            data_dir: spawn.data_dir,
            log,
            exit: None,
        })
    }

    /// Waits until `ready` passes, failing early when the process exits (its log tail says
    /// why) or after [`STARTUP_WAIT_MAX`].
    pub fn wait_until(&mut self, mut ready: impl FnMut(&Self) -> bool) -> Result<(), ClusterError> {
        let started = Instant::now();
        loop {
            let exited = self.exited().is_some();
            if !exited && ready(self) {
                return Ok(());
            }
            if exited || started.elapsed() > STARTUP_WAIT_MAX {
                return Err(ClusterError::NotReady {
                    server: format!("{} (picket {})", self.name, self.role),
                    waited_s: started.elapsed().as_secs(),
                    log: log_tail(&self.log),
                });
            }
            std::thread::sleep(PROBE_INTERVAL);
        }
    }

    /// Waits until `/healthz` answers.
    pub fn wait_healthy(&mut self) -> Result<(), ClusterError> {
        self.wait_until(|process| http_get(process.port, "/healthz").is_some())
    }

    /// Waits until its log has a line containing `text` (for a process without a listener).
    pub fn wait_logged(&mut self, text: &str) -> Result<(), ClusterError> {
        self.wait_until(|process| {
            std::fs::read_to_string(&process.log).is_ok_and(|log| log.contains(text))
        })
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `127.0.0.1:<port>`.
    pub fn address(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// How it ended, once it has (kept once seen).
    pub fn exited(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().ok().flatten();
        }
        self.exit
    }

    /// Sends `name` (a signal's name such as `TERM`) unless it has exited.
    pub fn signal(&mut self, name: &str) -> Result<(), ClusterError> {
        if self.exited().is_some() {
            return Ok(());
        }
        signal(self.child.id(), name)
    }

    /// SIGTERM, so it drains; SIGKILL if it has not exited within `wait`.
    pub fn stop(&mut self, wait: Duration) {
        // A paused process could not act on SIGTERM.
        let _ = self.signal("CONT");
        let _ = self.signal("TERM");
        self.wait_exit(wait);
    }

    /// Waits up to `wait` for it to exit, then kills it.
    pub fn wait_exit(&mut self, wait: Duration) {
        let deadline = Instant::now() + wait;
        while self.exited().is_none() && Instant::now() < deadline {
            std::thread::sleep(PROBE_INTERVAL);
        }
        self.kill();
    }

    /// SIGKILL (which also ends a frozen process), and reaps it.
    pub fn kill(&mut self) {
        if self.exited().is_none() {
            let _ = self.child.kill();
            self.exit = self.child.wait().ok();
        }
    }
}

impl Drop for PicketProcess {
    fn drop(&mut self) {
        self.kill();
    }
}

/// One `picket ledger` process: a ledger node over NATS and PostgreSQL.
pub struct LedgerNode(pub PicketProcess);

impl std::ops::Deref for LedgerNode {
    type Target = PicketProcess;
    fn deref(&self) -> &PicketProcess {
        &self.0
    }
}

impl std::ops::DerefMut for LedgerNode {
    fn deref_mut(&mut self) -> &mut PicketProcess {
        &mut self.0
    }
}

/// What a ledger node is started with.
pub struct LedgerSpec<'a> {
    pub picket: &'a Path,
    pub name: String,
    pub database_url: &'a str,
    pub nats_url: &'a str,
    pub partitions: u16,
    /// The lease, in milliseconds (`None`: the node's default).
    pub lease_ms: Option<u64>,
    pub data_dir: PathBuf,
    pub env: Vec<(String, String)>,
    /// Flags added after the others (say, `--nats-ca-file …`).
    pub extra_args: Vec<String>,
}

impl LedgerNode {
    /// Starts `<picket> ledger` hosting every partition of `partitions` on a free port.
    pub fn start(spec: LedgerSpec<'_>) -> Result<LedgerNode, ClusterError> {
        let port = crate::free_port()?;
        let mut args: Vec<String> = ["ledger", "--listen", &format!("127.0.0.1:{port}")]
            .map(String::from)
            .to_vec();
        args.extend(["--nats-url".into(), spec.nats_url.into()]);
        args.extend(["--database-url".into(), spec.database_url.into()]);
        args.extend(["--partition-count".into(), spec.partitions.to_string()]);
        if let Some(lease_ms) = spec.lease_ms {
            args.extend(["--lease-ms".into(), lease_ms.to_string()]);
        }
        args.extend(spec.extra_args);
        let mut env = vec![("RUST_LOG".to_owned(), "info".to_owned())];
        env.extend(spec.env);
        PicketProcess::spawn(Spawn {
            picket: spec.picket,
            name: spec.name,
            role: "ledger",
            args,
            env,
            data_dir: spec.data_dir,
            port: Some(port),
        })
        .map(LedgerNode)
    }

    /// The role `/healthz` reports for each hosted partition (`leader`, `standby`, …), if the
    /// node answers.
    pub fn roles(&self) -> Option<Vec<String>> {
        let body = http_get(self.port, "/healthz")?;
        let value: serde_json::Value = serde_json::from_str(&body).ok()?;
        value["partitions"]
            .as_array()?
            .iter()
            .map(|p| p["role"].as_str().map(str::to_owned))
            .collect()
    }

    /// The role `/healthz` reports for the first hosted partition, if the node answers.
    pub fn role(&self) -> Option<String> {
        self.roles()?.into_iter().next()
    }

    /// Whether `/healthz` says the first partition has had no leader for longer than a lease,
    /// if the node answers.
    pub fn leaderless(&self) -> Option<bool> {
        let body = http_get(self.port, "/healthz")?;
        let value: serde_json::Value = serde_json::from_str(&body).ok()?;
        value["partitions"][0]["leaderless"].as_bool()
    }

    /// Waits until every hosted partition reports `role`, up to [`ROLE_WAIT_MAX`].
    pub fn wait_role(&mut self, role: &str) -> Result<(), ClusterError> {
        let started = Instant::now();
        loop {
            let roles = self.roles();
            if roles
                .as_ref()
                .is_some_and(|roles| !roles.is_empty() && roles.iter().all(|r| r == role))
            {
                return Ok(());
            }
            if self.exited().is_some() || started.elapsed() > ROLE_WAIT_MAX {
                return Err(ClusterError::NotReady {
                    server: format!("{} as {role} (roles now {roles:?})", self.name),
                    waited_s: started.elapsed().as_secs(),
                    log: log_tail(&self.log),
                });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

/// A `picket up` process.
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

impl Up {
    /// Starts `<picket> up` on a free port with `data_dir`, plus `env`, named `name` (its log
    /// is `<data_dir>/<name>.log`); returns once `/healthz` answers.
    pub fn start(
        picket: &Path,
        name: &str,
        data_dir: &Path,
        env: &[(String, String)],
    ) -> Result<Up, ClusterError> {
        Up::start_role(picket, "up", name, crate::free_port()?, data_dir, env)
    }

    /// Starts `<picket> <command>` (`up` or `gateway`) listening on loopback `port`, as
    /// [`Up::start`] does.
    pub fn start_role(
        picket: &Path,
        command: &str,
        name: &str,
        port: u16,
        data_dir: &Path,
        env: &[(String, String)],
    ) -> Result<Up, ClusterError> {
        let mut process = PicketProcess::spawn(Spawn {
            picket,
            name: name.to_owned(),
            role: "gateway",
            args: [command, "--listen", &format!("127.0.0.1:{port}")]
                .map(String::from)
                .to_vec(),
            env: [("PICKET_DATA_DIR".to_owned(), data_dir.display().to_string())]
                .into_iter()
                .chain(env.iter().cloned())
                .collect(),
            data_dir: data_dir.to_path_buf(),
            port: Some(port),
        })?;
        process.wait_healthy()?;
        Ok(Up(process))
    }
}

/// A plain HTTP/1.0 GET on loopback; the body, if the server answered.
pub fn http_get(port: u16, path: &str) -> Option<String> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(PROBE_ANSWER_WAIT_MAX)).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    response.split_once("\r\n\r\n").map(|(_, b)| b.to_owned())
}
