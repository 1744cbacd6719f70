//! The test harness: private PostgreSQL, Redis and NATS (JetStream) servers, and an
//! S3-compatible object store (moto), started from the installed binaries on free loopback ports,
//! each in its own temporary directory, stopped and removed on drop. Tests never touch the services already running on the machine's standard
//! ports, and a test can kill, pause or restart its own server mid-stream.
//!
//! Plain std, no async: call it from any test, sync or tokio. Signals go through `sh -c kill`
//! (the workspace forbids `unsafe`, so no libc), and process trees are read from `/proc`.

pub mod api;
pub mod deploy;
pub mod gateway;
pub mod ledger;

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
/// How long one readiness probe waits for the server's answer.
const PROBE_ANSWER_WAIT_MAX: Duration = Duration::from_secs(2);
/// Lines of a server's log quoted in a start error.
const LOG_TAIL_LINES_MAX: usize = 30;
/// Where the temporary directories go when PostgreSQL runs as the `postgres` user: every parent
/// must be traversable by that user, which `$TMPDIR` (say, under `/root`) may not be.
const SHARED_TMP: &str = "/tmp";

/// Debian puts some server binaries (`nats-server`, `runuser`) in sbin directories, which a
/// non-root user's PATH usually lacks.
fn sbin_dirs() -> Vec<PathBuf> {
    ["/usr/local/sbin", "/usr/sbin", "/sbin"]
        .into_iter()
        .map(PathBuf::from)
        .collect()
}

/// Why a server could not be started, signalled or used.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("binary {binary} not found: install the Debian package {package}")]
    Missing {
        binary: &'static str,
        package: &'static str,
    },
    #[error("binary {binary} not found: install the Python package: pip install '{package}'")]
    MissingPython {
        binary: &'static str,
        package: &'static str,
    },
    #[error("{what} failed: {source}")]
    Io {
        what: String,
        source: std::io::Error,
    },
    #[error("{what} failed ({status}); output:\n{log}")]
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
    #[error("{server} is still running: kill or stop it before start_again")]
    AlreadyRunning { server: &'static str },
}

fn io_error(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> HarnessError {
    let what = what.into();
    move |source| HarnessError::Io { what, source }
}

/// A loopback port that was free a moment ago (bind to port 0, read it, let it go).
pub fn free_port() -> Result<u16, HarnessError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(io_error("binding a free port"))?;
    let port = listener
        .local_addr()
        .map_err(io_error("reading a free port"))?
        .port();
    Ok(port)
}

/// Whether the effective uid is 0, from `/proc/self/status` (`Uid: real effective saved fs`).
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

/// Where `pip install --user` puts scripts: `$HOME/.local/bin`.
fn pip_user_dirs() -> Vec<PathBuf> {
    std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".local").join("bin"))
        .into_iter()
        .collect()
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
    dirs.sort_by_key(|(version, _)| std::cmp::Reverse(*version));
    dirs.into_iter().map(|(_, dir)| dir).collect()
}

fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES_MAX)..].join("\n")
}

/// Sends `signal` (a name such as `KILL`) to `pid` with the shell's `kill`, which every Debian
/// has even without procps.
fn signal(pid: u32, signal: &str) -> Result<(), HarnessError> {
    let output = Command::new("sh")
        .args([
            "-c",
            "kill -s \"$1\" \"$2\"",
            "sh",
            signal,
            &pid.to_string(),
        ])
        .output()
        .map_err(io_error("running kill"))?;
    if !output.status.success() {
        return Err(HarnessError::Command {
            what: format!("kill -s {signal} {pid}"),
            status: output.status.to_string(),
            log: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    Ok(())
}

/// `/proc/<pid>/stat` split after the command name (which may hold spaces and parentheses):
/// field 0 is the state, field 1 the parent pid.
fn proc_stat(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// Whether `pid` is a live process; a zombie counts as gone (it holds no ports or memory).
fn alive(pid: u32) -> bool {
    proc_stat(pid)
        .is_some_and(|fields| !matches!(fields.first().map(String::as_str), Some("Z" | "X")))
}

/// The direct children of `pid`, from `/proc`.
fn children_of(pid: u32) -> Vec<u32> {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(|&candidate| {
            proc_stat(candidate)
                .and_then(|fields| fields.get(1)?.parse::<u32>().ok())
                .is_some_and(|parent| parent == pid)
        })
        .collect()
}

/// Waits until none of `pids` is alive, up to [`SHUTDOWN_WAIT_MAX`].
fn wait_gone(pids: &[u32]) {
    let deadline = Instant::now() + SHUTDOWN_WAIT_MAX;
    while pids.iter().any(|&pid| alive(pid)) && Instant::now() < deadline {
        std::thread::sleep(PROBE_INTERVAL);
    }
}

/// Waits for `child` to exit by itself, then kills it if it has not within
/// [`SHUTDOWN_WAIT_MAX`].
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

fn is_running(child: &mut Option<Child>) -> bool {
    child
        .as_mut()
        .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
}

/// Waits until `probe` succeeds, failing early if the process died (so a server that could
/// not bind its port is not mistaken for whatever else answers there).
fn wait_ready(
    server: &'static str,
    child: &mut Child,
    log: &Path,
    mut probe: impl FnMut() -> bool,
) -> Result<(), HarnessError> {
    let started = Instant::now();
    loop {
        let exited = matches!(child.try_wait(), Ok(Some(_)));
        if !exited && probe() {
            return Ok(());
        }
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

/// The server's stdout and stderr, both appended to `path` (kept across restarts).
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

fn run_checked(what: &str, command: &mut Command) -> Result<(), HarnessError> {
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

/// A private PostgreSQL cluster in a temporary directory, on a free loopback port.
///
/// As root it runs as the `postgres` user (PostgreSQL refuses root), through `runuser`; signals
/// therefore go to the postmaster's pid from `postmaster.pid`, not to the spawned `runuser`.
/// fsync and synchronous commit stay on: tests and benchmarks measure durable commits.
pub struct Postgres {
    dir: tempfile::TempDir,
    bin_dir: PathBuf,
    port: u16,
    /// `runuser`, when running as root: PostgreSQL then runs as the `postgres` user.
    runuser: Option<PathBuf>,
    child: Option<Child>,
}

impl Postgres {
    /// Creates a cluster (`initdb`, trust auth, superuser `postgres`) and starts it.
    pub fn start() -> Result<Self, HarnessError> {
        let postgres = find_binary("postgres", "postgresql", &postgres_bin_dirs())?;
        // initdb must be the same version as postgres: take it from postgres's real directory.
        let bin_dir = std::fs::canonicalize(&postgres)
            .map_err(io_error("resolving the postgres binary"))?
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        if !bin_dir.join("initdb").is_file() {
            return Err(HarnessError::Missing {
                binary: "initdb",
                package: "postgresql",
            });
        }
        let as_postgres_user = is_root();
        let runuser = if as_postgres_user {
            Some(find_binary("runuser", "util-linux", &sbin_dirs())?)
        } else {
            None
        };
        let mut builder = tempfile::Builder::new();
        builder.prefix("picket-pg-");
        let dir = if as_postgres_user {
            builder.tempdir_in(SHARED_TMP)
        } else {
            builder.tempdir()
        }
        .map_err(io_error("creating a temp dir"))?;
        let mut cluster = Postgres {
            dir,
            bin_dir,
            port: free_port()?,
            runuser,
            child: None,
        };
        if cluster.runuser.is_some() {
            run_checked(
                "chown -R postgres:postgres",
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
        run_checked("initdb", &mut initdb)?;
        cluster.start_again()?;
        Ok(cluster)
    }

    /// A URL for the `postgres` database as the `postgres` superuser.
    pub fn url(&self) -> String {
        self.database_url("postgres")
    }

    /// A URL for `database` as the `postgres` superuser.
    pub fn database_url(&self, database: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{database}", self.port)
    }

    /// The loopback TCP port; it stays the same across restarts.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Creates a database (with `psql`) and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, HarnessError> {
        let psql = find_binary(
            "psql",
            "postgresql-client",
            std::slice::from_ref(&self.bin_dir),
        )?;
        let mut command = Command::new(psql);
        command
            // -X: ignore ~/.psqlrc; the environment's PG* settings are overridden by the flags.
            .args([
                "-X",
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                "127.0.0.1",
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-p",
            ])
            .arg(self.port.to_string())
            .arg("-c")
            .arg(format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\"")));
        run_checked(&format!("CREATE DATABASE {name}"), &mut command)?;
        Ok(self.database_url(name))
    }

    /// (Re)starts the server on the same data directory and port, after `kill` or `stop`
    /// (crash recovery runs as it would in production).
    pub fn start_again(&mut self) -> Result<(), HarnessError> {
        if is_running(&mut self.child) {
            return Err(HarnessError::AlreadyRunning { server: "postgres" });
        }
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

    /// Crashes the server like a lost host: SIGKILL to every backend and to the postmaster,
    /// without a shutdown checkpoint. Returns once they are all gone.
    pub fn kill(&mut self) -> Result<(), HarnessError> {
        if let Some(pid) = self.live_postmaster() {
            // Frozen, the postmaster cannot fork new backends while its children are killed;
            // they must die first, as they are reparented (out of sight) once it is gone.
            let _ = signal(pid, "STOP");
            let backends = children_of(pid);
            for &backend in &backends {
                let _ = signal(backend, "KILL");
            }
            signal(pid, "KILL")?;
            wait_gone(&backends);
        }
        self.continue_runuser();
        self.reap();
        Ok(())
    }

    /// Stops the server cleanly (fast shutdown: SIGINT) and waits for it to exit.
    pub fn stop(&mut self) -> Result<(), HarnessError> {
        // A paused backend could not act on the postmaster's shutdown request.
        self.resume()?;
        if let Some(pid) = self.live_postmaster() {
            signal(pid, "INT")?;
        }
        self.reap();
        Ok(())
    }

    /// Freezes the postmaster and every backend (SIGSTOP): open connections and new ones hang
    /// instead of failing, like a stalled host.
    pub fn pause(&self) -> Result<(), HarnessError> {
        if let Some(pid) = self.live_postmaster() {
            signal(pid, "STOP")?;
            // A backend may exit between the listing and the signal.
            for backend in children_of(pid) {
                let _ = signal(backend, "STOP");
            }
        }
        Ok(())
    }

    /// Undoes [`Postgres::pause`].
    pub fn resume(&self) -> Result<(), HarnessError> {
        if let Some(pid) = self.live_postmaster() {
            // A backend may exit between the listing and the signal.
            for backend in children_of(pid) {
                let _ = signal(backend, "CONT");
            }
            signal(pid, "CONT")?;
        }
        self.continue_runuser();
        Ok(())
    }

    /// `runuser` stops itself when it sees its child stopped, and continues the child only once
    /// it is continued itself; stopped, it would never reap a killed postmaster either.
    fn continue_runuser(&self) {
        if let (Some(_), Some(child)) = (&self.runuser, &self.child) {
            let _ = signal(child.id(), "CONT");
        }
    }

    /// The last lines of the server's log (all runs of this cluster).
    pub fn log_tail(&self) -> String {
        log_tail(&self.log_path())
    }

    /// Waits for the spawned child to exit by itself (as root it is `runuser`, which must reap
    /// the postmaster: killed early, it would leave a zombie whose pid the next postmaster's
    /// lock-file check still sees), then for the postmaster's pid to vanish.
    fn reap(&mut self) {
        let postmaster = self.postmaster_pid();
        if let Some(mut child) = self.child.take() {
            wait_exit(&mut child);
        }
        if let Some(pid) = postmaster {
            let deadline = Instant::now() + SHUTDOWN_WAIT_MAX;
            while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
                std::thread::sleep(PROBE_INTERVAL);
            }
        }
    }

    /// The running postmaster's pid: the first line of `postmaster.pid` (the spawned child may
    /// be `runuser`, not postgres itself). A killed postmaster leaves the file behind and its
    /// pid may be reused, so the process must also be alive and name this data directory.
    fn live_postmaster(&self) -> Option<u32> {
        let pid = self.postmaster_pid()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let data_dir = self.data_dir();
        let ours = cmdline
            .split(|&byte| byte == 0)
            .any(|arg| Path::new(std::str::from_utf8(arg).unwrap_or_default()) == data_dir);
        (ours && alive(pid)).then_some(pid)
    }

    /// The pid recorded in `postmaster.pid`, whether or not that process still runs.
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
        let mut command = if let Some(runuser) = &self.runuser {
            let mut command = Command::new(runuser);
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        };
        // The test's working directory may not be readable by the postgres user.
        command.current_dir(self.dir.path());
        command
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

/// PostgreSQL is ready when it answers a startup message (an `SSLRequest` gets a one-byte `N`
/// or `S`) and `pg_isready` says it accepts connections, so crash recovery has finished.
fn postgres_answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(PROBE_ANSWER_WAIT_MAX));
    // Length 8, SSLRequest code 80877103.
    let ssl_request = [0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f];
    let mut answer = [0u8; 1];
    stream.write_all(&ssl_request).is_ok()
        && stream.read_exact(&mut answer).is_ok()
        && matches!(answer[0], b'N' | b'S')
        && pg_isready(port)
}

/// `pg_isready` asks the server whether it accepts connections (true without the binary: the
/// startup answer is then the best available sign).
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

/// A server process with a port and a directory: Redis and NATS share this shape. Both run as
/// the current user and are direct children, so signals go straight to the child.
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
        let binary = find_binary(binary, package, &sbin_dirs())?;
        Process::start_binary(name, binary, args, probe)
    }

    fn start_binary(
        name: &'static str,
        binary: PathBuf,
        args: fn(&Path, u16) -> Vec<String>,
        probe: fn(u16) -> bool,
    ) -> Result<Self, HarnessError> {
        let dir = tempfile::Builder::new()
            .prefix(&format!("picket-{name}-"))
            .tempdir()
            .map_err(io_error("creating a temp dir"))?;
        let mut process = Process {
            name,
            binary,
            dir,
            port: free_port()?,
            args,
            probe,
            child: None,
        };
        process.start_again()?;
        Ok(process)
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join(format!("{}.log", self.name))
    }

    fn start_again(&mut self) -> Result<(), HarnessError> {
        if is_running(&mut self.child) {
            return Err(HarnessError::AlreadyRunning { server: self.name });
        }
        let log = self.log_path();
        let (stdout, stderr) = open_log(&log)?;
        let mut child = Command::new(&self.binary)
            .args((self.args)(self.dir.path(), self.port))
            .current_dir(self.dir.path())
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

    fn signal(&mut self, name: &str) -> Result<(), HarnessError> {
        if !is_running(&mut self.child) {
            return Ok(());
        }
        match &self.child {
            Some(child) => signal(child.id(), name),
            None => Ok(()),
        }
    }

    fn kill(&mut self) -> Result<(), HarnessError> {
        if let Some(mut child) = self.child.take() {
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

/// A private Redis: without persistence (`start`), or with a synced append-only file
/// (`start_durable`).
pub struct Redis(Process);

impl Redis {
    /// Starts `redis-server` on a free loopback port; ready once it answers `PING`.
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

    /// Starts `redis-server` persisting as production should: every write appended to the AOF
    /// and synced (`--appendonly yes --appendfsync always`), so a kill and restart loses nothing.
    pub fn start_durable() -> Result<Self, HarnessError> {
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
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                &dir,
            ]
            .map(String::from)
            .to_vec()
        };
        Process::start("redis", "redis-server", "redis-server", args, redis_answers).map(Redis)
    }

    /// `redis://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.0.port)
    }

    /// The loopback TCP port; it stays the same across restarts.
    pub fn port(&self) -> u16 {
        self.0.port
    }

    /// SIGKILL: every key is gone, as after a crash without persistence.
    pub fn kill(&mut self) -> Result<(), HarnessError> {
        self.0.kill()
    }

    /// Starts the server again on the same port, empty.
    pub fn start_again(&mut self) -> Result<(), HarnessError> {
        self.0.start_again()
    }

    /// Freezes the server (SIGSTOP): commands hang instead of failing.
    pub fn pause(&mut self) -> Result<(), HarnessError> {
        self.0.signal("STOP")
    }

    /// Undoes [`Redis::pause`].
    pub fn resume(&mut self) -> Result<(), HarnessError> {
        self.0.signal("CONT")
    }

    /// The last lines of the server's log.
    pub fn log_tail(&self) -> String {
        log_tail(&self.0.log_path())
    }
}

/// Redis is ready when `PING` gets `+PONG`.
fn redis_answers(port: u16) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(PROBE_ANSWER_WAIT_MAX));
    let mut answer = [0u8; 7];
    stream.write_all(b"PING\r\n").is_ok()
        && stream.read_exact(&mut answer).is_ok()
        && &answer == b"+PONG\r\n"
}

/// A private NATS server with JetStream; its store survives `kill` + `start_again`.
pub struct Nats(Process);

impl Nats {
    /// Starts `nats-server -js` on a free loopback port with its store in the temp dir; ready
    /// once a connection gets the `INFO` line.
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

    /// `nats://127.0.0.1:<port>`.
    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.0.port)
    }

    /// The loopback TCP port; it stays the same across restarts.
    pub fn port(&self) -> u16 {
        self.0.port
    }

    /// The server's `INFO` line (the JSON after `INFO `), read from a fresh connection.
    pub fn info(&self) -> Option<String> {
        nats_info(self.0.port)
    }

    /// SIGKILL, like a lost host; the JetStream store stays on disk.
    pub fn kill(&mut self) -> Result<(), HarnessError> {
        self.0.kill()
    }

    /// Starts the server again on the same port and JetStream store.
    pub fn start_again(&mut self) -> Result<(), HarnessError> {
        self.0.start_again()
    }

    /// Freezes the server (SIGSTOP): clients hang instead of failing.
    pub fn pause(&mut self) -> Result<(), HarnessError> {
        self.0.signal("STOP")
    }

    /// Undoes [`Nats::pause`].
    pub fn resume(&mut self) -> Result<(), HarnessError> {
        self.0.signal("CONT")
    }

    /// The last lines of the server's log.
    pub fn log_tail(&self) -> String {
        log_tail(&self.0.log_path())
    }
}

fn nats_info(port: u16) -> Option<String> {
    let stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(PROBE_ANSWER_WAIT_MAX)).ok()?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).ok()?;
    line.strip_prefix("INFO ")
        .map(|json| json.trim().to_owned())
}

/// A private S3-compatible object store: moto's `moto_server` (the Python package
/// `moto[server]`), serving path-style S3 at `http://127.0.0.1:<port>`. It keeps objects in
/// memory (a kill loses them), accepts any credentials and does not check signatures.
pub struct MotoS3(Process);

impl MotoS3 {
    /// Credentials to sign with (moto takes any).
    pub const ACCESS_KEY_ID: &'static str = "picket-test-key";
    pub const SECRET_ACCESS_KEY: &'static str = "picket-test-secret";
    /// moto's default region.
    pub const REGION: &'static str = "us-east-1";

    /// Starts `moto_server` on a free loopback port; ready once it answers an HTTP request.
    pub fn start() -> Result<Self, HarnessError> {
        let binary =
            find_binary("moto_server", "moto[server]", &pip_user_dirs()).map_err(|_| {
                HarnessError::MissingPython {
                    binary: "moto_server",
                    package: "moto[server]",
                }
            })?;
        let args = |_: &Path, port: u16| {
            ["-H", "127.0.0.1", "-p", &port.to_string()]
                .map(String::from)
                .to_vec()
        };
        Process::start_binary("moto", binary, args, |port| {
            http_request(port, "GET", "/").is_ok_and(|(status, _)| status == 200)
        })
        .map(MotoS3)
    }

    /// `http://127.0.0.1:<port>`: the endpoint for path-style requests.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.0.port)
    }

    /// The loopback TCP port; it stays the same across restarts.
    pub fn port(&self) -> u16 {
        self.0.port
    }

    /// Creates a bucket through moto's S3 API (`PUT /<bucket>`, unsigned: moto allows it).
    pub fn create_bucket(&self, bucket: &str) -> Result<(), HarnessError> {
        let (status, body) = http_request(self.0.port, "PUT", &format!("/{bucket}"))
            .map_err(io_error(format!("creating bucket {bucket}")))?;
        if status != 200 {
            return Err(HarnessError::Command {
                what: format!("PUT /{bucket}"),
                status: status.to_string(),
                log: body,
            });
        }
        Ok(())
    }

    /// The keys in `bucket` under `prefix` (`ListObjectsV2`, straight from moto), as its XML
    /// spells them.
    pub fn list_keys(&self, bucket: &str, prefix: &str) -> Result<Vec<String>, HarnessError> {
        let path = format!("/{bucket}?list-type=2&prefix={prefix}");
        let (status, body) = http_request(self.0.port, "GET", &path)
            .map_err(io_error(format!("listing bucket {bucket}")))?;
        if status != 200 {
            return Err(HarnessError::Command {
                what: format!("GET {path}"),
                status: status.to_string(),
                log: body,
            });
        }
        Ok(body
            .split("<Key>")
            .skip(1)
            .filter_map(|rest| rest.split_once("</Key>").map(|(key, _)| key.to_owned()))
            .collect())
    }

    /// SIGKILL: every bucket and object is gone.
    pub fn kill(&mut self) -> Result<(), HarnessError> {
        self.0.kill()
    }

    /// Starts the server again on the same port, empty.
    pub fn start_again(&mut self) -> Result<(), HarnessError> {
        self.0.start_again()
    }

    /// The last lines of the server's log.
    pub fn log_tail(&self) -> String {
        log_tail(&self.0.log_path())
    }
}

/// One HTTP/1.0 request without a body to `127.0.0.1:<port>` (1.0: the answer is never
/// chunked, and the server closes the connection after it): the status and the body.
fn http_request(port: u16, method: &str, path: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(PROBE_ANSWER_WAIT_MAX))?;
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Length: 0\r\n\r\n"
    )?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response)?;
    let response = String::from_utf8_lossy(&response);
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|status| status.parse().ok())
        .ok_or_else(|| std::io::Error::other(format!("not an HTTP answer: {head:?}")))?;
    Ok((status, body.to_owned()))
}

/// A TCP forwarder on a free loopback port to `127.0.0.1:<upstream>`, which a test can cut
/// (every connection through it dropped, new ones refused: one process cut off from a server
/// that others still reach) and restore.
pub struct TcpProxy {
    port: u16,
    state: std::sync::Arc<ProxyState>,
}

#[derive(Default)]
struct ProxyState {
    cut: std::sync::atomic::AtomicBool,
    stopped: std::sync::atomic::AtomicBool,
    open: std::sync::Mutex<Vec<TcpStream>>,
}

impl ProxyState {
    fn drop_all(&self) {
        let open = std::mem::take(&mut *self.open.lock().unwrap_or_else(|p| p.into_inner()));
        for stream in open {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
    }
}

impl TcpProxy {
    pub fn start(upstream: u16) -> Result<TcpProxy, HarnessError> {
        let listener = TcpListener::bind("127.0.0.1:0").map_err(io_error("proxy bind"))?;
        let port = listener
            .local_addr()
            .map_err(io_error("proxy addr"))?
            .port();
        let state = std::sync::Arc::new(ProxyState::default());
        let accepting = state.clone();
        std::thread::spawn(move || {
            use std::sync::atomic::Ordering::SeqCst;
            for client in listener.incoming() {
                if accepting.stopped.load(SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                if accepting.cut.load(SeqCst) {
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                    continue;
                };
                let (Ok(client_out), Ok(server_out)) = (client.try_clone(), server.try_clone())
                else {
                    continue;
                };
                {
                    let mut open = accepting.open.lock().unwrap_or_else(|p| p.into_inner());
                    for stream in [&client, &server] {
                        if let Ok(clone) = stream.try_clone() {
                            open.push(clone);
                        }
                    }
                }
                std::thread::spawn(move || pipe(client, server_out));
                std::thread::spawn(move || pipe(server, client_out));
            }
        });
        Ok(TcpProxy { port, state })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Drops every connection through the proxy and refuses new ones.
    pub fn cut(&self) {
        self.state
            .cut
            .store(true, std::sync::atomic::Ordering::SeqCst);
        self.state.drop_all();
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.state
            .cut
            .store(false, std::sync::atomic::Ordering::SeqCst);
    }
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let _ = std::io::copy(&mut from, &mut to);
    let _ = to.shutdown(std::net::Shutdown::Both);
    let _ = from.shutdown(std::net::Shutdown::Both);
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.state
            .stopped
            .store(true, std::sync::atomic::Ordering::SeqCst);
        // Wake the accept loop so it sees `stopped`.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        self.state.drop_all();
    }
}
