//! What every server shares: finding binaries, free ports, the directory a server keeps its
//! files in ([`Dir`]: a temporary one removed on drop, or one kept across runs), spawning a
//! server with its log, waiting until it answers or exits, signals, and the process tree from
//! `/proc`. Plain std, no async; signals go through `sh -c kill` (the workspace forbids
//! `unsafe`, so no libc). [`Process`] is the shape Redis, NATS and the harness's moto share.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{ClusterError, io_error};

/// Whether the servers and `picket` processes started from here get process groups of their
/// own ([`start_children_in_own_process_groups`]).
static OWN_PROCESS_GROUPS: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// From now on every child starts in a process group of its own, so a Ctrl-C at the terminal
/// (SIGINT to the whole foreground group) reaches only the supervisor, which then stops the
/// children in order: `picket cluster` calls this. The test harness does not: a test run
/// interrupted at the terminal takes its servers with it.
pub fn start_children_in_own_process_groups() {
    OWN_PROCESS_GROUPS.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Puts `command`'s child in a process group of its own when asked to (above).
pub fn detach(command: &mut Command) -> &mut Command {
    if OWN_PROCESS_GROUPS.load(std::sync::atomic::Ordering::Relaxed) {
        std::os::unix::process::CommandExt::process_group(command, 0);
    }
    command
}

/// How long a server may take to accept connections after it was started.
pub const STARTUP_WAIT_MAX: Duration = Duration::from_secs(60);
/// How long a stopped server may take to exit.
pub const SHUTDOWN_WAIT_MAX: Duration = Duration::from_secs(30);
/// Pause between readiness probes.
pub const PROBE_INTERVAL: Duration = Duration::from_millis(50);
/// How long one readiness probe waits for the server's answer.
pub const PROBE_ANSWER_WAIT_MAX: Duration = Duration::from_secs(2);
/// Lines of a server's log quoted in a start error.
pub const LOG_TAIL_LINES_MAX: usize = 30;

/// Debian puts some server binaries (`nats-server`, `runuser`) in sbin directories, which a
/// non-root user's PATH usually lacks.
pub fn sbin_dirs() -> Vec<PathBuf> {
    ["/usr/local/sbin", "/usr/sbin", "/sbin"]
        .into_iter()
        .map(PathBuf::from)
        .collect()
}

/// A loopback port that was free a moment ago (bind to port 0, read it, let it go).
pub fn free_port() -> Result<u16, ClusterError> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(io_error("binding a free port"))?;
    let port = listener
        .local_addr()
        .map_err(io_error("reading a free port"))?
        .port();
    Ok(port)
}

/// Whether the effective uid is 0, from `/proc/self/status` (`Uid: real effective saved fs`).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("Uid:"))?.to_owned();
            line.split_whitespace().nth(2).map(|euid| euid == "0")
        })
        .unwrap_or(false)
}

/// `name` on PATH, or in the first of `extra_dirs` that has it.
pub fn find_binary(
    name: &'static str,
    package: &'static str,
    extra_dirs: &[PathBuf],
) -> Result<PathBuf, ClusterError> {
    let path_dirs = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default();
    path_dirs
        .iter()
        .chain(extra_dirs)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
        .ok_or(ClusterError::Missing {
            binary: name,
            package,
        })
}

/// Where `pip install --user` puts scripts: `$HOME/.local/bin`.
pub fn pip_user_dirs() -> Vec<PathBuf> {
    std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".local").join("bin"))
        .into_iter()
        .collect()
}

pub fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES_MAX)..].join("\n")
}

/// Sends `signal` (a name such as `KILL`) to `pid` with the shell's `kill`, which every Debian
/// has even without procps.
pub fn signal(pid: u32, signal: &str) -> Result<(), ClusterError> {
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
        return Err(ClusterError::Command {
            what: format!("kill -s {signal} {pid}"),
            status: output.status.to_string(),
            log: String::from_utf8_lossy(&output.stderr).into_owned(),
        });
    }
    Ok(())
}

/// `/proc/<pid>/stat` split after the command name (which may hold spaces and parentheses):
/// field 0 is the state, field 1 the parent pid.
pub(crate) fn proc_stat(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// Whether `pid` is a live process; a zombie counts as gone (it holds no ports or memory).
pub fn alive(pid: u32) -> bool {
    proc_stat(pid)
        .is_some_and(|fields| !matches!(fields.first().map(String::as_str), Some("Z" | "X")))
}

/// The direct children of `pid`, from `/proc`.
pub fn children_of(pid: u32) -> Vec<u32> {
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
pub fn wait_gone(pids: &[u32]) {
    let deadline = Instant::now() + SHUTDOWN_WAIT_MAX;
    while pids.iter().any(|&pid| alive(pid)) && Instant::now() < deadline {
        std::thread::sleep(PROBE_INTERVAL);
    }
}

/// Waits for `child` to exit by itself, then kills it if it has not within
/// [`SHUTDOWN_WAIT_MAX`].
pub fn wait_exit(child: &mut Child) {
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

pub(crate) fn is_running(child: &mut Option<Child>) -> bool {
    child
        .as_mut()
        .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
}

/// Waits until `probe` succeeds, failing early if the process died (so a server that could
/// not bind its port is not mistaken for whatever else answers there).
pub(crate) fn wait_ready(
    server: &str,
    child: &mut Child,
    log: &Path,
    mut probe: impl FnMut() -> bool,
) -> Result<(), ClusterError> {
    let started = Instant::now();
    loop {
        let exited = matches!(child.try_wait(), Ok(Some(_)));
        if !exited && probe() {
            return Ok(());
        }
        if exited || started.elapsed() > STARTUP_WAIT_MAX {
            return Err(ClusterError::NotReady {
                server: server.to_owned(),
                waited_s: started.elapsed().as_secs(),
                log: log_tail(log),
            });
        }
        std::thread::sleep(PROBE_INTERVAL);
    }
}

/// The server's stdout and stderr, both appended to `path` (kept across restarts).
pub(crate) fn open_log(path: &Path) -> Result<(Stdio, Stdio), ClusterError> {
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

pub(crate) fn run_checked(what: &str, command: &mut Command) -> Result<(), ClusterError> {
    let output = command.output().map_err(io_error(what))?;
    if output.status.success() {
        return Ok(());
    }
    Err(ClusterError::Command {
        what: what.to_owned(),
        status: output.status.to_string(),
        log: format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    })
}

/// Where a server keeps its files: a temporary directory removed when the server is dropped
/// (tests), or a directory that is kept, so a server started on it again finds its data
/// (`picket cluster`).
pub enum Dir {
    Temp(tempfile::TempDir),
    Kept(PathBuf),
}

impl Dir {
    /// A fresh temporary directory named `picket-<name>-…` (in `parent`, else `$TMPDIR`).
    pub fn temp(name: &str, parent: Option<&Path>) -> Result<Dir, ClusterError> {
        let prefix = format!("picket-{name}-");
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix);
        match parent {
            Some(parent) => builder.tempdir_in(parent),
            None => builder.tempdir(),
        }
        .map(Dir::Temp)
        .map_err(io_error("creating a temp dir"))
    }

    /// `path`, created when missing, kept when the server is dropped.
    pub fn kept(path: &Path) -> Result<Dir, ClusterError> {
        std::fs::create_dir_all(path).map_err(io_error(format!("creating {}", path.display())))?;
        Ok(Dir::Kept(path.to_path_buf()))
    }

    pub fn path(&self) -> &Path {
        match self {
            Dir::Temp(dir) => dir.path(),
            Dir::Kept(path) => path,
        }
    }
}

/// A server's command line from its directory and port.
pub type ArgsFn = Box<dyn Fn(&Path, u16) -> Vec<String> + Send + Sync>;
/// Whether the server on a port answers as it should.
pub type ProbeFn = Box<dyn Fn(u16) -> bool + Send + Sync>;

/// A server process with a port and a directory: Redis, NATS and moto share this shape. They
/// run as the current user and are direct children, so signals go straight to the child.
pub struct Process {
    name: &'static str,
    binary: PathBuf,
    dir: Dir,
    port: u16,
    args: ArgsFn,
    probe: ProbeFn,
    /// Environment variables the server gets on top of this process's.
    env: Vec<(String, String)>,
    child: Option<Child>,
}

impl Process {
    /// Finds `binary` (on PATH or in the sbin directories) and starts it in a temporary
    /// directory on a free port, with `env` added to its environment.
    pub fn start_with_env(
        name: &'static str,
        binary: &'static str,
        package: &'static str,
        args: impl Fn(&Path, u16) -> Vec<String> + Send + Sync + 'static,
        probe: impl Fn(u16) -> bool + Send + Sync + 'static,
        env: Vec<(String, String)>,
    ) -> Result<Self, ClusterError> {
        let binary = find_binary(binary, package, &sbin_dirs())?;
        let dir = Dir::temp(name, None)?;
        Process::spawn_new(name, binary, dir, Box::new(args), Box::new(probe), env)
    }

    /// Starts `binary` in `dir` on a free port; ready once `probe` passes.
    pub fn start_binary(
        name: &'static str,
        binary: PathBuf,
        dir: Dir,
        args: impl Fn(&Path, u16) -> Vec<String> + Send + Sync + 'static,
        probe: impl Fn(u16) -> bool + Send + Sync + 'static,
    ) -> Result<Self, ClusterError> {
        Process::spawn_new(
            name,
            binary,
            dir,
            Box::new(args),
            Box::new(probe),
            Vec::new(),
        )
    }

    fn spawn_new(
        name: &'static str,
        binary: PathBuf,
        dir: Dir,
        args: ArgsFn,
        probe: ProbeFn,
        env: Vec<(String, String)>,
    ) -> Result<Self, ClusterError> {
        let mut process = Process {
            name,
            binary,
            dir,
            port: free_port()?,
            args,
            probe,
            env,
            child: None,
        };
        process.start_again()?;
        Ok(process)
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join(format!("{}.log", self.name))
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn start_again(&mut self) -> Result<(), ClusterError> {
        if is_running(&mut self.child) {
            return Err(ClusterError::AlreadyRunning { server: self.name });
        }
        let log = self.log_path();
        let (stdout, stderr) = open_log(&log)?;
        let mut child = detach(&mut Command::new(&self.binary))
            .args((self.args)(self.dir.path(), self.port))
            .envs(self.env.iter().map(|(name, value)| (name, value)))
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .map_err(io_error(format!("starting {}", self.name)))?;
        let (port, probe) = (self.port, &self.probe);
        let ready = wait_ready(self.name, &mut child, &log, || probe(port));
        self.child = Some(child);
        ready
    }

    /// The running server's pid (`None` while it is stopped).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// How the server ended, once it has (`None` while it runs or after `kill`/`stop`).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|child| child.try_wait().ok().flatten())
    }

    pub fn signal(&mut self, name: &str) -> Result<(), ClusterError> {
        if !is_running(&mut self.child) {
            return Ok(());
        }
        match &self.child {
            Some(child) => signal(child.id(), name),
            None => Ok(()),
        }
    }

    /// SIGTERM, then waits for the server to exit (SIGKILL after [`SHUTDOWN_WAIT_MAX`]).
    pub fn stop(&mut self) -> Result<(), ClusterError> {
        // A paused server could not act on the signal.
        self.signal("CONT")?;
        self.signal("TERM")?;
        if let Some(mut child) = self.child.take() {
            wait_exit(&mut child);
        }
        Ok(())
    }

    pub fn kill(&mut self) -> Result<(), ClusterError> {
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
