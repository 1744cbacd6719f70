//! What every server of the harness shares: finding binaries, free ports, spawning a server
//! with its log, waiting until it answers or exits, signals, and the process tree from `/proc`.
//! Plain std, no async; signals go through `sh -c kill` (the workspace forbids `unsafe`, so no
//! libc). [`Process`] is the shape Redis, NATS and moto share.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::error::{HarnessError, io_error};

/// How long a server may take to accept connections after it was started.
pub(crate) const STARTUP_WAIT_MAX: Duration = Duration::from_secs(60);
/// How long a stopped server may take to exit.
pub(crate) const SHUTDOWN_WAIT_MAX: Duration = Duration::from_secs(30);
/// Pause between readiness probes.
pub(crate) const PROBE_INTERVAL: Duration = Duration::from_millis(50);
/// How long one readiness probe waits for the server's answer.
pub(crate) const PROBE_ANSWER_WAIT_MAX: Duration = Duration::from_secs(2);
/// Lines of a server's log quoted in a start error.
pub(crate) const LOG_TAIL_LINES_MAX: usize = 30;

/// Debian puts some server binaries (`nats-server`, `runuser`) in sbin directories, which a
/// non-root user's PATH usually lacks.
pub(crate) fn sbin_dirs() -> Vec<PathBuf> {
    ["/usr/local/sbin", "/usr/sbin", "/sbin"]
        .into_iter()
        .map(PathBuf::from)
        .collect()
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
pub(crate) fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|l| l.starts_with("Uid:"))?.to_owned();
            line.split_whitespace().nth(2).map(|euid| euid == "0")
        })
        .unwrap_or(false)
}

/// `name` on PATH, or in the first of `extra_dirs` that has it.
pub(crate) fn find_binary(
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
pub(crate) fn pip_user_dirs() -> Vec<PathBuf> {
    std::env::var_os("HOME")
        .map(|home| PathBuf::from(home).join(".local").join("bin"))
        .into_iter()
        .collect()
}

pub(crate) fn log_tail(log: &Path) -> String {
    let text = std::fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(LOG_TAIL_LINES_MAX)..].join("\n")
}

/// Sends `signal` (a name such as `KILL`) to `pid` with the shell's `kill`, which every Debian
/// has even without procps.
pub(crate) fn signal(pid: u32, signal: &str) -> Result<(), HarnessError> {
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
pub(crate) fn proc_stat(pid: u32) -> Option<Vec<String>> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let rest = &stat[stat.rfind(')')? + 1..];
    Some(rest.split_whitespace().map(str::to_owned).collect())
}

/// Whether `pid` is a live process; a zombie counts as gone (it holds no ports or memory).
pub(crate) fn alive(pid: u32) -> bool {
    proc_stat(pid)
        .is_some_and(|fields| !matches!(fields.first().map(String::as_str), Some("Z" | "X")))
}

/// The direct children of `pid`, from `/proc`.
pub(crate) fn children_of(pid: u32) -> Vec<u32> {
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
pub(crate) fn wait_gone(pids: &[u32]) {
    let deadline = Instant::now() + SHUTDOWN_WAIT_MAX;
    while pids.iter().any(|&pid| alive(pid)) && Instant::now() < deadline {
        std::thread::sleep(PROBE_INTERVAL);
    }
}

/// Waits for `child` to exit by itself, then kills it if it has not within
/// [`SHUTDOWN_WAIT_MAX`].
pub(crate) fn wait_exit(child: &mut Child) {
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
pub(crate) fn open_log(path: &Path) -> Result<(Stdio, Stdio), HarnessError> {
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

pub(crate) fn run_checked(what: &str, command: &mut Command) -> Result<(), HarnessError> {
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

/// How a server's command line is made from its directory and port.
pub(crate) type ArgsFn = Box<dyn Fn(&Path, u16) -> Vec<String> + Send + Sync>;
/// Whether the server on a port answers.
pub(crate) type ProbeFn = Box<dyn Fn(u16) -> bool + Send + Sync>;

/// A server process with a port and a directory: Redis and NATS share this shape. Both run as
/// the current user and are direct children, so signals go straight to the child.
pub(crate) struct Process {
    pub(crate) name: &'static str,
    pub(crate) binary: PathBuf,
    pub(crate) dir: tempfile::TempDir,
    pub(crate) port: u16,
    pub(crate) args: ArgsFn,
    pub(crate) probe: ProbeFn,
    /// Environment variables the server gets on top of the test's.
    pub(crate) env: Vec<(String, String)>,
    pub(crate) child: Option<Child>,
}

impl Process {
    pub(crate) fn start(
        name: &'static str,
        binary: &'static str,
        package: &'static str,
        args: impl Fn(&Path, u16) -> Vec<String> + Send + Sync + 'static,
        probe: impl Fn(u16) -> bool + Send + Sync + 'static,
    ) -> Result<Self, HarnessError> {
        Process::start_with_env(name, binary, package, args, probe, Vec::new())
    }

    /// [`Process::start`] with `env` added to the server's environment.
    pub(crate) fn start_with_env(
        name: &'static str,
        binary: &'static str,
        package: &'static str,
        args: impl Fn(&Path, u16) -> Vec<String> + Send + Sync + 'static,
        probe: impl Fn(u16) -> bool + Send + Sync + 'static,
        env: Vec<(String, String)>,
    ) -> Result<Self, HarnessError> {
        let binary = find_binary(binary, package, &sbin_dirs())?;
        Process::spawn_new(name, binary, Box::new(args), Box::new(probe), env)
    }

    pub(crate) fn start_binary(
        name: &'static str,
        binary: PathBuf,
        args: impl Fn(&Path, u16) -> Vec<String> + Send + Sync + 'static,
        probe: impl Fn(u16) -> bool + Send + Sync + 'static,
    ) -> Result<Self, HarnessError> {
        Process::spawn_new(name, binary, Box::new(args), Box::new(probe), Vec::new())
    }

    fn spawn_new(
        name: &'static str,
        binary: PathBuf,
        args: ArgsFn,
        probe: ProbeFn,
        env: Vec<(String, String)>,
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
            env,
            child: None,
        };
        process.start_again()?;
        Ok(process)
    }

    pub(crate) fn log_path(&self) -> PathBuf {
        self.dir.path().join(format!("{}.log", self.name))
    }

    pub(crate) fn start_again(&mut self) -> Result<(), HarnessError> {
        if is_running(&mut self.child) {
            return Err(HarnessError::AlreadyRunning { server: self.name });
        }
        let log = self.log_path();
        let (stdout, stderr) = open_log(&log)?;
        let mut child = Command::new(&self.binary)
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
    pub(crate) fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    pub(crate) fn signal(&mut self, name: &str) -> Result<(), HarnessError> {
        if !is_running(&mut self.child) {
            return Ok(());
        }
        match &self.child {
            Some(child) => signal(child.id(), name),
            None => Ok(()),
        }
    }

    pub(crate) fn kill(&mut self) -> Result<(), HarnessError> {
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
