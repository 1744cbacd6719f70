//! A private PostgreSQL cluster: `initdb` in a temporary directory (tests) or a kept one
//! (`picket cluster`), a free loopback port, durable commits, kill, pause and restart
//! mid-stream, a streaming read replica of it ([`Postgres::start_replica_of`]), and serving TLS
//! only ([`Postgres::start_tls`]).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

use crate::error::{ClusterError, io_error};
use crate::process::{
    Dir, PROBE_ANSWER_WAIT_MAX, PROBE_INTERVAL, SHUTDOWN_WAIT_MAX, alive, children_of, find_binary,
    free_port, is_root, is_running, log_tail, open_log, run_checked, sbin_dirs, signal, wait_exit,
    wait_gone, wait_ready,
};
use crate::tls::ServerTls;

/// Set to a file path, PostgreSQL clusters load `pg_stat_statements`, and a load-test
/// [`Cluster`] writes what PostgreSQL did per booking there when it is dropped
/// ([`Postgres::work_report`]).
///
/// [`Cluster`]: crate::Cluster
pub const PG_STATS_ENV: &str = "PICKET_BENCH_PG_STATS";

/// Where the temporary directories go when PostgreSQL runs as the `postgres` user: every parent
/// must be traversable by that user, which `$TMPDIR` (say, under `/root`) may not be.
const SHARED_TMP: &str = "/tmp";

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

/// A private PostgreSQL cluster in a temporary directory, on a free loopback port.
///
/// As root it runs as the `postgres` user (PostgreSQL refuses root), through `runuser`; signals
/// therefore go to the postmaster's pid from `postmaster.pid`, not to the spawned `runuser`.
/// fsync and synchronous commit stay on: tests and benchmarks measure durable commits.
pub struct Postgres {
    dir: Dir,
    bin_dir: PathBuf,
    port: u16,
    /// `runuser`, when running as root: PostgreSQL then runs as the `postgres` user.
    runuser: Option<PathBuf>,
    /// A replica's primary: it streams from there.
    primary_port: Option<u16>,
    child: Option<Child>,
    /// Serving TLS only ([`Postgres::start_tls`]): the certificate and key in its directory.
    tls: Option<(PathBuf, PathBuf)>,
}

/// The `postgres` binary's directory (initdb and pg_basebackup must be its version) and
/// `runuser` when running as root.
fn binaries() -> Result<(PathBuf, Option<PathBuf>), ClusterError> {
    let postgres = find_binary("postgres", "postgresql", &postgres_bin_dirs())?;
    // initdb must be the same version as postgres: take it from postgres's real directory.
    let bin_dir = std::fs::canonicalize(&postgres)
        .map_err(io_error("resolving the postgres binary"))?
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    if !bin_dir.join("initdb").is_file() {
        return Err(ClusterError::Missing {
            binary: "initdb",
            package: "postgresql",
        });
    }
    let runuser = if is_root() {
        Some(find_binary("runuser", "util-linux", &sbin_dirs())?)
    } else {
        None
    };
    Ok((bin_dir, runuser))
}

impl Postgres {
    /// Creates a cluster (`initdb`, trust auth, superuser `postgres`) in a temporary directory
    /// and starts it.
    pub fn start() -> Result<Self, ClusterError> {
        let mut cluster = Postgres::init_temp()?;
        cluster.start_again()?;
        Ok(cluster)
    }

    /// [`Postgres::start`] serving TLS with `tls`'s certificate (`ssl=on`), and refusing every
    /// TCP connection without it (`hostssl` lines only in `pg_hba.conf`). Clients verify it with
    /// `?sslmode=verify-full&sslrootcert=<tls.ca>` (see [`Postgres::tls_url`]).
    pub fn start_tls(tls: &ServerTls) -> Result<Self, ClusterError> {
        let mut cluster = Postgres::init_temp()?;
        let dir = cluster.dir.path().join("tls");
        std::fs::create_dir_all(&dir).map_err(io_error("creating the tls directory"))?;
        let (cert, key) = (dir.join("server.pem"), dir.join("server-key.pem"));
        std::fs::copy(&tls.cert, &cert).map_err(io_error("copying the server certificate"))?;
        std::fs::copy(&tls.key, &key).map_err(io_error("copying the server key"))?;
        // PostgreSQL refuses a key others may read.
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600))
            .map_err(io_error("restricting the server key"))?;
        cluster.give_to_postgres(&dir)?;
        let hba = "local all all trust\nhostssl all all 127.0.0.1/32 trust\n";
        // Rewritten in place: the file keeps initdb's owner and mode.
        std::fs::write(cluster.data_dir().join("pg_hba.conf"), hba)
            .map_err(io_error("writing pg_hba.conf"))?;
        cluster.tls = Some((cert, key));
        cluster.start_again()?;
        Ok(cluster)
    }

    /// `database`'s URL verifying the server's certificate against `ca` (PEM) and its name
    /// against the URL's host, as production is told to: `sslmode=verify-full&sslrootcert=…`.
    pub fn tls_url(&self, database: &str, ca: &Path) -> String {
        format!(
            "{}?sslmode=verify-full&sslrootcert={}",
            self.database_url(database),
            ca.display()
        )
    }

    /// `initdb` in a fresh temporary directory; not started.
    fn init_temp() -> Result<Self, ClusterError> {
        let (bin_dir, runuser) = binaries()?;
        // As the postgres user every parent must be traversable, which `$TMPDIR` (say, under
        // `/root`) may not be.
        let parent = runuser.as_ref().map(|_| Path::new(SHARED_TMP));
        let cluster = Postgres {
            dir: Dir::temp("pg", parent)?,
            bin_dir,
            port: free_port()?,
            runuser,
            primary_port: None,
            child: None,
            tls: None,
        };
        cluster.give_to_postgres(cluster.dir.path())?;
        cluster.initdb()?;
        Ok(cluster)
    }

    /// [`Postgres::start`] in `dir`, kept: when it already holds a cluster (from an earlier
    /// run), that one starts again with its data, on a new free port.
    pub fn start_in(dir: &Path) -> Result<Self, ClusterError> {
        let (bin_dir, runuser) = binaries()?;
        let mut cluster = Postgres {
            dir: Dir::kept(dir)?,
            bin_dir,
            port: free_port()?,
            runuser,
            primary_port: None,
            child: None,
            tls: None,
        };
        cluster.own_dir()?;
        if !cluster.data_dir().join("PG_VERSION").is_file() {
            // Nothing, or what an interrupted initdb left.
            cluster.remove_data()?;
            cluster.initdb()?;
        }
        cluster.start_again()?;
        Ok(cluster)
    }

    /// A streaming read replica of `primary` in `dir`, kept (`pg_basebackup` of the primary
    /// the first time, or whenever `dir` holds no complete replica), on a free port: it
    /// streams the primary's WAL from its replication slot-less connection and answers
    /// read-only queries (`hot_standby`). Its `primary_conninfo` is given at every start, so
    /// it follows the primary to the port it has in this run.
    pub fn start_replica_of(primary: &Postgres, dir: &Path) -> Result<Self, ClusterError> {
        let mut replica = Postgres {
            dir: Dir::kept(dir)?,
            bin_dir: primary.bin_dir.clone(),
            port: free_port()?,
            runuser: primary.runuser.clone(),
            primary_port: Some(primary.port),
            child: None,
            tls: None,
        };
        replica.own_dir()?;
        let data = replica.data_dir();
        if !(data.join("PG_VERSION").is_file() && data.join("standby.signal").is_file()) {
            replica.remove_data()?;
            let mut basebackup = replica.command("pg_basebackup");
            basebackup
                .args(["-h", "127.0.0.1", "-p", &primary.port.to_string()])
                .args(["-U", "postgres", "-X", "stream", "-R", "--no-sync"])
                // A spread checkpoint would wait minutes for the primary's checkpoint_timeout.
                .args(["--checkpoint", "fast", "-D"])
                .arg(&data);
            run_checked("pg_basebackup", &mut basebackup)?;
        }
        replica.start_again()?;
        Ok(replica)
    }

    /// As root, `dir` goes to the postgres user, which must be able to reach it.
    /// Run as root, `path` and everything under it become the postgres user's (the server runs
    /// as that user); otherwise nothing to do.
    fn give_to_postgres(&self, path: &Path) -> Result<(), ClusterError> {
        if self.runuser.is_none() {
            return Ok(());
        }
        run_checked(
            "chown -R postgres:postgres",
            Command::new("chown")
                .args(["-R", "postgres:postgres"])
                .arg(path),
        )
    }

    fn own_dir(&self) -> Result<(), ClusterError> {
        let Some(runuser) = &self.runuser else {
            return Ok(());
        };
        run_checked(
            "chown postgres:postgres",
            Command::new("chown")
                .arg("postgres:postgres")
                .arg(self.dir.path()),
        )?;
        let reachable = Command::new(runuser)
            .args(["-u", "postgres", "--", "test", "-w"])
            .arg(self.dir.path())
            .current_dir("/")
            .status()
            .is_ok_and(|status| status.success());
        if !reachable {
            return Err(ClusterError::NotReachable {
                dir: self.dir.path().to_path_buf(),
            });
        }
        Ok(())
    }

    fn remove_data(&self) -> Result<(), ClusterError> {
        let data = self.data_dir();
        if data.exists() {
            std::fs::remove_dir_all(&data)
                .map_err(io_error(format!("removing {}", data.display())))?;
        }
        Ok(())
    }

    fn initdb(&self) -> Result<(), ClusterError> {
        let mut initdb = self.command("initdb");
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
            .arg(self.data_dir());
        run_checked("initdb", &mut initdb)
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

    /// `psql` connected to `database` as the superuser over loopback, stopping at the first error.
    fn psql_in(&self, database: &str) -> Result<Command, ClusterError> {
        let psql = find_binary(
            "psql",
            "postgresql-client",
            std::slice::from_ref(&self.bin_dir),
        )?;
        let mut command = Command::new(psql);
        // -X: ignore ~/.psqlrc; the environment's PG* settings are overridden by the flags.
        command
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1"])
            .args([
                "-U",
                "postgres",
                "-d",
                database,
                "-p",
                &self.port.to_string(),
            ]);
        Ok(command)
    }

    /// Creates a database (with `psql`) and returns its URL.
    pub fn create_database(&self, name: &str) -> Result<String, ClusterError> {
        let mut command = self.psql_in("postgres")?;
        command
            .arg("-c")
            .arg(format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\"")));
        run_checked(&format!("CREATE DATABASE {name}"), &mut command)?;
        Ok(self.database_url(name))
    }

    /// Creates `name` unless it exists (a cluster started again on its data) and returns its URL.
    pub fn ensure_database(&self, name: &str) -> Result<String, ClusterError> {
        let mut command = self.psql_in("postgres")?;
        command.args(["-tA", "-c"]).arg(format!(
            "SELECT count(*) FROM pg_database WHERE datname = '{}'",
            name.replace('\'', "''")
        ));
        let output = command.output().map_err(io_error("psql"))?;
        if !output.status.success() {
            return Err(ClusterError::Command {
                what: format!("looking for database {name}"),
                status: output.status.to_string(),
                log: String::from_utf8_lossy(&output.stderr).into_owned(),
            });
        }
        if String::from_utf8_lossy(&output.stdout).trim() == "1" {
            return Ok(self.database_url(name));
        }
        self.create_database(name)
    }

    /// Runs `script` with `psql` in `database` and returns what it printed.
    pub fn psql(&self, database: &str, script: &str) -> Result<String, ClusterError> {
        let mut child = self
            .psql_in(database)?
            .args(["-f", "-"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(io_error("starting psql"))?;
        if let Some(mut stdin) = child.stdin.take() {
            stdin
                .write_all(script.as_bytes())
                .map_err(io_error("writing to psql"))?;
        }
        let output = child
            .wait_with_output()
            .map_err(io_error("waiting for psql"))?;
        let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
        if !output.status.success() {
            text.push_str(&String::from_utf8_lossy(&output.stderr));
        }
        Ok(text)
    }

    /// What PostgreSQL did in `database` since it started, per booking recorded there (the
    /// bookings projection's rows): statements by family (needs [`PG_STATS_ENV`] set when the
    /// cluster started), WAL, commits, rows by table, and the journal's row size.
    pub fn work_report(&self, database: &str) -> Result<String, ClusterError> {
        self.psql(database, WORK_REPORT_SQL)
    }

    /// (Re)starts the server on the same data directory and port, after `kill` or `stop`
    /// (crash recovery runs as it would in production).
    pub fn start_again(&mut self) -> Result<(), ClusterError> {
        if is_running(&mut self.child) {
            return Err(ClusterError::AlreadyRunning { server: "postgres" });
        }
        let log = self.log_path();
        let (stdout, stderr) = open_log(&log)?;
        let mut command = self.command("postgres");
        command.arg("-D").arg(self.data_dir()).args([
            "-h",
            "127.0.0.1",
            "-p",
            &self.port.to_string(),
            "-k",
        ]);
        match &self.dir {
            Dir::Temp(dir) => command.arg(dir.path()),
            // A kept directory's path may be longer than a Unix socket's path may be: TCP only.
            Dir::Kept(_) => command.arg(""),
        };
        if let Some(primary) = self.primary_port {
            command.args([
                "-c",
                "hot_standby=on",
                "-c",
                &format!(
                    "primary_conninfo=host=127.0.0.1 port={primary} user=postgres application_name=picket-replica"
                ),
            ]);
        }
        command.args([
            "-c",
            "fsync=on",
            "-c",
            "synchronous_commit=on",
            "-c",
            "max_connections=200",
        ]);
        if let Some((cert, key)) = &self.tls {
            command
                .args(["-c", "ssl=on", "-c"])
                .arg(format!("ssl_cert_file={}", cert.display()))
                .arg("-c")
                .arg(format!("ssl_key_file={}", key.display()));
        }
        if std::env::var_os(PG_STATS_ENV).is_some() {
            // Off by default: its hooks cost every statement a little, and tests need none of it.
            command.args([
                "-c",
                "shared_preload_libraries=pg_stat_statements",
                "-c",
                "pg_stat_statements.track_utility=on",
            ]);
        }
        command.stdin(Stdio::null()).stdout(stdout).stderr(stderr);
        let mut child = command.spawn().map_err(io_error("starting postgres"))?;
        let port = self.port;
        let ready = wait_ready("postgres", &mut child, &log, || postgres_answers(port));
        self.child = Some(child);
        ready
    }

    /// Crashes the server like a lost host: SIGKILL to every backend and to the postmaster,
    /// without a shutdown checkpoint. Returns once they are all gone.
    pub fn kill(&mut self) -> Result<(), ClusterError> {
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
    pub fn stop(&mut self) -> Result<(), ClusterError> {
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
    pub fn pause(&self) -> Result<(), ClusterError> {
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
    pub fn resume(&self) -> Result<(), ClusterError> {
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

    /// How the server ended, once it has by itself (`None` while it runs or after `kill` or
    /// `stop`).
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child
            .as_mut()
            .and_then(|child| child.try_wait().ok().flatten())
    }

    /// The directory of its files: the data directory `data/` and the log.
    pub fn dir(&self) -> &Path {
        self.dir.path()
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

    /// The running postmaster's pid (its backends are its children), for the load test's CPU
    /// per booking.
    pub fn pid(&self) -> Option<u32> {
        self.live_postmaster()
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

    pub fn log_path(&self) -> PathBuf {
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
        crate::process::detach(&mut command);
        command
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

/// [`Postgres::work_report`]'s queries: every figure divided by the bookings made.
const WORK_REPORT_SQL: &str = r#"
\pset footer off
CREATE EXTENSION IF NOT EXISTS pg_stat_statements;
SELECT GREATEST(COUNT(*), 1) AS bookings FROM bookings \gset
SELECT :bookings AS bookings,
       (SELECT COUNT(*) FROM ledger_journal) AS journal_rows,
       (SELECT ROUND(AVG(octet_length(events))) FROM ledger_journal) AS journal_events_bytes_avg,
       pg_size_pretty(pg_total_relation_size('ledger_journal')) AS journal_size;
\echo '## statements per booking (pg_stat_statements, this database)'
SELECT ROUND(calls::numeric / :bookings, 3) AS calls_per_booking,
       ROUND(rows::numeric / :bookings, 3) AS rows_per_booking,
       ROUND(wal_bytes / :bookings) AS wal_bytes_per_booking,
       ROUND((total_exec_time * 1000 / :bookings)::numeric, 1) AS exec_us_per_booking,
       LEFT(regexp_replace(query, '\s+', ' ', 'g'), 150) AS statement
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
ORDER BY calls DESC, wal_bytes DESC LIMIT 60;
SELECT ROUND(SUM(calls)::numeric / :bookings, 2) AS statements_per_booking,
       ROUND(SUM(wal_bytes) / :bookings) AS statement_wal_bytes_per_booking,
       ROUND((SUM(total_exec_time) * 1000 / :bookings)::numeric) AS exec_us_per_booking
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database());
\echo '## cluster WAL and this database'
SELECT ROUND(wal_records::numeric / :bookings, 1) AS wal_records_per_booking,
       ROUND(wal_bytes / :bookings) AS wal_bytes_per_booking,
       ROUND(wal_fpi::numeric / :bookings, 2) AS wal_fpi_per_booking,
       ROUND(wal_sync::numeric / :bookings, 2) AS wal_syncs_per_booking
FROM pg_stat_wal;
SELECT ROUND(xact_commit::numeric / :bookings, 2) AS commits_per_booking,
       ROUND(xact_rollback::numeric / :bookings, 2) AS rollbacks_per_booking,
       ROUND(tup_inserted::numeric / :bookings, 2) AS inserted_per_booking,
       ROUND(tup_updated::numeric / :bookings, 2) AS updated_per_booking,
       ROUND(tup_deleted::numeric / :bookings, 2) AS deleted_per_booking,
       ROUND(tup_returned::numeric / :bookings, 1) AS returned_per_booking
FROM pg_stat_database WHERE datname = current_database();
\echo '## rows per booking by table'
SELECT relname,
       ROUND(n_tup_ins::numeric / :bookings, 3) AS ins,
       ROUND(n_tup_upd::numeric / :bookings, 3) AS upd,
       ROUND(n_tup_hot_upd::numeric / :bookings, 3) AS hot_upd,
       ROUND(n_tup_del::numeric / :bookings, 3) AS del,
       ROUND(idx_scan::numeric / :bookings, 3) AS idx_scans,
       ROUND(seq_scan::numeric / :bookings, 3) AS seq_scans
FROM pg_stat_user_tables
WHERE n_tup_ins + n_tup_upd + n_tup_del + COALESCE(idx_scan, 0) + seq_scan > 0
ORDER BY n_tup_ins + n_tup_upd + n_tup_del DESC LIMIT 30;
\echo '## indexes of the written tables'
SELECT relname, indexrelname, idx_scan, pg_size_pretty(pg_relation_size(indexrelid)) AS size
FROM pg_stat_user_indexes
WHERE relname IN (SELECT relname FROM pg_stat_user_tables WHERE n_tup_ins > 0)
ORDER BY relname, indexrelname;
"#;

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
