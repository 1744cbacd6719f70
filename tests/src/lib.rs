//! The test harness: private PostgreSQL, Redis and NATS (JetStream) servers started from the
//! installed binaries on free loopback ports, each in its own temporary directory, stopped and
//! removed on drop. Tests never touch the services already running on the machine's standard
//! ports, and a test can kill, pause or restart its own server mid-stream.
//!
//! Plain std, no async: call it from any test, sync or tokio.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long a server may take to accept connections after it was started.
const STARTUP_WAIT_MAX: Duration = Duration::from_secs(60);
/// How long a stopped server may take to exit.
const SHUTDOWN_WAIT_MAX: Duration = Duration::from_secs(30);
/// Pause between readiness probes.
const PROBE_INTERVAL: Duration = Duration::from_millis(50);
/// Lines of a server's log quoted in a start error.
const LOG_TAIL_LINES_MAX: usize = 30;

#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("binary {binary} not found: install the Debian package {package}")]
    Missing {
        binary: &'static str,
        package: &'static str,
    },
    #[error("{what} failed: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{what} failed ({status}); log tail:\n{log}")]
    Command {
        what: String,
        status: String,
        log: String,
    },
    #[error("{server} did not become ready within {waited_s} s; log tail:\n{log}")]
    NotReady {
        server: &'static str,
        waited_s: u64,
        log: String,
    },
}

fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> HarnessError {
    let what = what.into();
    move |source| HarnessError::Io { what, source }
}

/// A port that was free a moment ago (bind to port 0, read it, let it go).
pub fn free_port() -> Result<u16, HarnessError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(io_error("binding a free port"))?;
    let port = listener
        .local_addr()
        .map_err(io_error("reading a free port"))?
        .port();
    Ok(port)
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("Uid:"))?.to_owned();
            line.split_whitespace().nth(2).map(|euid| euid == "0")
        })
        .unwrap_or(false)
}

/// `name` on PATH, or in the first of `extra_dirs` that has it.
fn find_binary(
    name: &'static str,
    package: &'static str,
    extra_dirs: &[PathBuf],
) -> Result<PathBuf, HarnessError> {
    let path_dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    path_dirs
        .iter()
        .chain(extra_dirs)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .ok_or(HarnessError::Missing {
            binary: name,
            package,
        })
}

/// Debian keeps PostgreSQL's server binaries in /usr/lib/postgresql/<version>/bin; newest first.
fn postgres_bin_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_string_lossy().parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    dirs.sort_by(|a, b| b.0.cmp(&a.0));
    dirs.into_iter().map(|(_, dir)| dir).collect()
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES_MAX)..].join("\n")
}

fn signal(pid: u32, signal: &str) -> Result<(), HarnessError> {
    let status = Command::new("kill")
        .args([format!("-{signal}"), pid.to_string()])
        .stderr(Stdio::null())
        .status()
        .map_err(io_error("running kill"))?;
    if !status.success() {
        return Err(HarnessError::Command {
            what: format!("kill -{signal} {pid}"),
            status: status.to_string(),
            log: String::new(),
        });
    }
    Ok(())
}

fn wait_exit(child: &mut Child) {
    let deadline = Instant::now() + SHUTDOWN_WAIT_MAX;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(PROBE_INTERVAL);
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits until `probe` succeeds, failing early if the process died.
fn wait_ready(
    server: &'static str,
    child: &mut Child,
    log: &Path,
    mut probe: impl FnMut() -> bool,
) -> Result<(), HarnessError> {
    let started = Instant::now();
    loop {
        if probe() {
            return Ok(());
        }
        let exited = matches!(child.try_wait(), Ok(Some(_)));
        if exited || started.elapsed() > STARTUP_WAIT_MAX {
            return Err(HarnessError::NotReady {
                server,
                waited_s: started.elapsed().as_secs(),
                log: log_tail(log),
            });
        }
        std::thread::sleep(PROBE_INTERVAL);
    }
}

fn open_log(path: &Path) -> Result<(Stdio, Stdio), HarnessError> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(io_error(format!("opening {}", path.display())))?;
    let second = file
        .try_clone()
        .map_err(io_error("cloning the log handle"))?;
    Ok((Stdio::from(file), Stdio::from(second)))
}

/// A private PostgreSQL cluster. As root it runs as the `postgres` user (PostgreSQL refuses
/// root). fsync and synchronous commit stay on: tests and benchmarks measure durable commits.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin_dir: PathBuf,
    port: u16,
    as_postgres_user: bool,
    child: Option<Child>,
}

impl Postgres {
    pub fn start() -> Result<Self, HarnessError> {
        let postgres = find_binary("postgres", "postgresql", &postgres_bin_dirs())?;
        let bin_dir = std::fs::canonicalize(&postgres)
            .map_err(io_error("resolving the postgres binary"))?
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let as_postgres_user = is_root();
        let dir = tempfile::Builder::new()
            .prefix("picket-pg-")
            .tempdir()
            .map_err(io_error("creating a temp dir"))?;
        let mut cluster = Postgres {
            dir,
            bin_dir,
            port: free_port()?,
            as_postgres_user,
            child: None,
        };
        if as_postgres_user {
            cluster.run_checked(
                "chown",
                Command::new("chown")
                    .args(["-R", "postgres:postgres"])
                    .arg(cluster.dir.path()),
            )?;
        }
        let mut initdb = cluster.command("initdb");
        initdb
            .args([
                "-A",
                "trust",
                "-U",
                "postgres",
                "--no-sync",
                "-E",
                "UTF8",
                "-D",
            ])
            .arg(cluster.data_dir());
        cluster.run_checked("initdb", &mut initdb)?;
        cluster.start_again()?;
        Ok(cluster)
    }

    /// A URL for the `postgres` database as the `postgres` superuser.
    pub fn url(&self) -> String {
        self.database_url("postgres")
    }

    pub fn database_url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Creates a database and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, HarnessError> {
        let psql = find_binary("psql", "postgresql-client", &[self.bin_dir.clone()])?;
        let mut command = Command::new(psql);
        command
            .args([
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-v",
                "ON_ERROR_STOP=1",
                "-p",
            ])
            .arg(self.port.to_string())
            .arg("-c")
            .arg(format!("CREATE DATABASE \"{name}\""));
        self.run_checked("CREATE DATABASE", &mut command)?;
        Ok(self.database_url(name))
    }

    /// (Re)starts the server on the same data directory and port.
    pub fn start_again(&mut self) -> Result<(), HarnessError> {
        let log = self.log_path();
        let (stdout, stderr) = open_log(&log)?;
        let mut command = self.command("postgres");
        command
            .arg("-D")
            .arg(self.data_dir())
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "-k"])
            .arg(self.dir.path())
            .args([
                "-c",
                "fsync=on",
                "-c",
                "synchronous_commit=on",
                "-c",
                "max_connections=200",
            ])
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr);
        let mut child = command.spawn().map_err(io_error("starting postgres"))?;
        let port = self.port;
        let ready = wait_ready("postgres", &mut child, &log, || postgres_answers(port));
        self.child = Some(child);
        ready
    }

    /// Crashes the server: SIGKILL to the postmaster and its backends, like a lost host.
    pub fn kill(&mut self) -> Result<(), HarnessError> {
        if let Some(pid) = self.postmaster_pid() {
            let _ = Command::new("pkill")
                .args(["-KILL", "-P", &pid.to_string()])
                .status();
            signal(pid, "KILL")?;
        }
        self.reap();
        Ok(())
    }

    /// Stops the server cleanly (fast shutdown).
    pub fn stop(&mut self) -> Result<(), HarnessError> {
        if let Some(pid) = self.postmaster_pid() {
            signal(pid, "INT")?;
        }
        self.reap();
        Ok(())
    }

    /// Freezes the server (SIGSTOP): connections hang instead of failing.
    pub fn pause(&self) -> Result<(), HarnessError> {
        self.signal_postmaster("STOP")
    }

    pub fn resume(&self) -> Result<(), HarnessError> {
        self.signal_postmaster("CONT")
    }

    fn signal_postmaster(&self, name: &str) -> Result<(), HarnessError> {
        match self.postmaster_pid() {
            Some(pid) => signal(pid, name),
            None => Ok(()),
        }
    }

    fn reap(&mut self) {
        if let Some(mut child) = self.child.take() {
            wait_exit(&mut child);
        }
        // A killed postmaster leaves its pid file; the next start checks the pid is gone.
        let deadline = Instant::now() + SHUTDOWN_WAIT_MAX;
        while let Some(pid) = self.postmaster_pid() {
            if !Path::new(&format!("/proc/{pid}")).exists() || Instant::now() > deadline {
                break;
            }
            std::thread::sleep(PROBE_INTERVAL);
        }
    }

    /// The postmaster's pid: the first line of `postmaster.pid` (the spawned child may be
    /// `runuser`, not postgres itself).
    fn postmaster_pid(&self) -> Option<u32> {
        let text = std::fs::read_to_string(self.data_dir().join("postmaster.pid")).ok()?;
        text.lines().next()?.trim().parse().ok()
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("postgres.log")
    }

    fn command(&self, binary: &str) -> Command {
        let path = self.bin_dir.join(binary);
        if self.as_postgres_user {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    fn run_checked(&self, what: &str, command: &mut Command) -> Result<(), HarnessError> {
        let output = command.output().map_err(io_error(what))?;
        if output.status.success() {
            return Ok(());
        }
        Err(HarnessError::Command {
            what: what.to_owned(),
            status: output.status.to_string(),
            log: format!(
                "{}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            ),
        })
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self.resume();
        let _ = self.kill();
    }
}

/// PostgreSQL is ready when it answers a startup message: an `SSLRequest` gets a one-byte `N`/`S`
/// from a postmaster that accepts connections.
fn postgres_answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    // Length 8, SSLRequest code 80877103.
    let ssl_request = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
    let mut answer = [0u8; 1];
    stream.write_all(&ssl_request).is_ok()
        && stream.read_exact(&mut answer).is_ok()
        && matches!(answer[0], b'N' | b'S')
        && pg_isready(port)
}

/// The startup packet alone does not prove recovery finished; `pg_isready` asks the server.
fn pg_isready(port: u16) -> bool {
    let Ok(isready) = find_binary("pg_isready", "postgresql-client", &postgres_bin_dirs()) else {
        return true;
    };
    Command::new(isready)
        .args([
            "-q",
            "-h",
            "127.0.0.1",
            "-p",
            &port.to_string(),
            "-U",
            "postgres",
            "-d",
            "postgres",
        ])
        .status()
        .is_ok_and(|s| s.success())
}

/// A server process with a port and a directory: Redis and NATS share this shape.
struct Process {
    name: &'static str,
    binary: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    args: fn(&Path, u16) -> Vec<String>,
    probe: fn(u16) -> bool,
    child: Option<Child>,
}

impl Process {
    fn start(
        name: &'static str,
        binary: &'static str,
        package: &'static str,
        args: fn(&Path, u16) -> Vec<String>,
        probe: fn(u16) -> bool,
    ) -> Result<Self, HarnessError> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("picket-{name}-"))
            .tempdir()
            .map_err(io_error("creating a temp dir"))?;
        let mut process = Process {
            name,
            binary: find_binary(binary, package, &[])?,
            dir,
            port: free_port()?,
            args,
            probe,
            child: None,
        };
        process.start_again()?;
        Ok(process)
    }

    fn start_again(&mut self) -> Result<(), HarnessError> {
        let log = self.dir.path().join(format!("{}.log", self.name));
        let (stdout, stderr) = open_log(&log)?;
        let mut child = Command::new(&self.binary)
            .args((self.args)(self.dir.path(), self.port))
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .map_err(io_error(format!("starting {}", self.name)))?;
        let (port, probe) = (self.port, self.probe);
        let ready = wait_ready(self.name, &mut child, &log, || probe(port));
        self.child = Some(child);
        ready
    }

    fn signal(&self, name: &str) -> Result<(), HarnessError> {
        match &self.child {
            Some(child) => signal(child.id(), name),
            None => Ok(()),
        }
    }

    fn kill(&mut self) -> Result<(), HarnessError> {
        if let Some(mut child) = self.child.take() {
            let _ = signal(child.id(), "CONT");
            child
                .kill()
                .map_err(io_error(format!("killing {}", self.name)))?;
            let _ = child.wait();
        }
        Ok(())
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

/// A private Redis with no persistence.
pub struct Redis(Process);

impl Redis {
    pub fn start() -> Result<Self, HarnessError> {
        let args = |dir: &Path, port: u16| {
            let dir = dir.display().to_string();
            [
                "--port",
                &port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                &dir,
            ]
            .map(String::from)
            .to_vec()
        };
        Process::start("redis", "redis-server", "redis-server", args, redis_answers).map(Redis)
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.0.port)
    }

    pub fn port(&self) -> u16 {
        self.0.port
    }

    /// SIGKILL: every key is gone, as after a crash without persistence.
    pub fn kill(&mut self) -> Result<(), HarnessError> {
        self.0.kill()
    }

    pub fn start_again(&mut self) -> Result<(), HarnessError> {
        self.0.start_again()
    }

    pub fn pause(&self) -> Result<(), HarnessError> {
        self.0.signal("STOP")
    }

    pub fn resume(&self) -> Result<(), HarnessError> {
        self.0.signal("CONT")
    }
}

fn redis_answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut answer = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut answer).is_ok()
        && &answer == b"+PONG\r\n"
}

/// A private NATS server with JetStream; its store survives `kill` + `start_again`.
pub struct Nats(Process);

impl Nats {
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

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.0.port)
    }

    pub fn port(&self) -> u16 {
        self.0.port
    }

    /// The server's `INFO` line (JSON after `INFO `), read from a fresh connection.
    pub fn info(&self) -> Option<String> {
        nats_info(self.0.port)
    }

    pub fn kill(&mut self) -> Result<(), HarnessError> {
        self.0.kill()
    }

    pub fn start_again(&mut self) -> Result<(), HarnessError> {
        self.0.start_again()
    }

    pub fn pause(&self) -> Result<(), HarnessError> {
        self.0.signal("STOP")
    }

    pub fn resume(&self) -> Result<(), HarnessError> {
        self.0.signal("CONT")
    }
}

fn nats_info(port: u16) -> Option<String> {
    let stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(2))).ok()?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).ok()?;
    line.strip_prefix("INFO ")
        .map(|json| json.trim().to_owned())
}
