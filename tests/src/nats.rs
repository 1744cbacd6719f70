//! A private NATS server with JetStream for a test; its store survives a kill and a restart.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};

use crate::error::{HarnessError, io_error};
use crate::process::{PROBE_ANSWER_WAIT_MAX, Process, log_tail};
use crate::tls::ServerTls;

/// A private NATS server with JetStream; its store survives `kill` + `start_again`.
pub struct Nats {
    process: Process,
    tls: bool,
}

/// What [`Nats::start_with`] adds to the plain server: TLS, and a configuration of its own
/// (accounts, say), with the files it includes and the environment it reads.
#[derive(Clone, Debug, Default)]
pub struct NatsOptions {
    /// Serve TLS only (`tls {}`), verifying clients' certificates when it says so.
    pub tls: Option<ServerTls>,
    /// Lines added to the server's configuration file, e.g. `include ./accounts.conf`.
    pub config: String,
    /// Files copied into the server's directory before each start (by file name), for `config`
    /// to include.
    pub files: Vec<PathBuf>,
    /// Environment variables the server gets (a configuration may read them: `$NAME`).
    pub env: Vec<(String, String)>,
}

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
        .map(|process| Nats {
            process,
            tls: false,
        })
    }

    /// Starts `nats-server` from a configuration file written into its directory: loopback, a
    /// free port, JetStream with its store there, and `options`. Ready once a connection gets
    /// the `INFO` line (which NATS sends before any TLS handshake).
    pub fn start_with(options: NatsOptions) -> Result<Self, HarnessError> {
        let tls = options.tls.is_some();
        let env = options.env.clone();
        let args = move |dir: &Path, port: u16| {
            let config = dir.join("nats.conf");
            if let Err(error) = write_config(&options, dir, port, &config) {
                // The server then fails to start, and its start error quotes this.
                let _ = std::fs::write(dir.join("nats.log"), format!("harness: {error}\n"));
            }
            vec!["-c".to_owned(), config.display().to_string()]
        };
        Process::start_with_env(
            "nats",
            "nats-server",
            "nats-server",
            args,
            |port| nats_info(port).is_some(),
            env,
        )
        .map(|process| Nats { process, tls })
    }

    /// `nats://127.0.0.1:<port>`, or `tls://…` when the server serves TLS.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "tls" } else { "nats" };
        format!("{scheme}://127.0.0.1:{}", self.process.port)
    }

    /// The loopback TCP port; it stays the same across restarts.
    pub fn port(&self) -> u16 {
        self.process.port
    }

    /// The server's `INFO` line (the JSON after `INFO `), read from a fresh connection.
    pub fn info(&self) -> Option<String> {
        nats_info(self.process.port)
    }

    /// The JetStream consumer `name` of `stream` as the server reports it (`None`: no such
    /// consumer), asked with the JetStream API over a fresh connection.
    pub async fn consumer_info(&self, stream: &str, name: &str) -> Option<serde_json::Value> {
        let client = async_nats::connect(self.url()).await.ok()?;
        let reply = client
            .request(
                format!("$JS.API.CONSUMER.INFO.{stream}.{name}"),
                Vec::new().into(),
            )
            .await
            .ok()?;
        let info: serde_json::Value = serde_json::from_slice(&reply.payload).ok()?;
        info.get("error").is_none().then_some(info)
    }

    /// The server's pid (`None` while it is stopped), for the load test's CPU per booking.
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// SIGKILL, like a lost host; the JetStream store stays on disk.
    pub fn kill(&mut self) -> Result<(), HarnessError> {
        self.process.kill()
    }

    /// Starts the server again on the same port and JetStream store.
    pub fn start_again(&mut self) -> Result<(), HarnessError> {
        self.process.start_again()
    }

    /// Freezes the server (SIGSTOP): clients hang instead of failing.
    pub fn pause(&mut self) -> Result<(), HarnessError> {
        self.process.signal("STOP")
    }

    /// Undoes [`Nats::pause`].
    pub fn resume(&mut self) -> Result<(), HarnessError> {
        self.process.signal("CONT")
    }

    /// The last lines of the server's log.
    pub fn log_tail(&self) -> String {
        log_tail(&self.process.log_path())
    }
}

/// `deploy/nats/accounts.conf`: the NATS users of a deployment and their permissions.
pub fn accounts_conf() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("deploy")
        .join("nats")
        .join("accounts.conf")
}

/// The roles of `deploy/nats/accounts.conf`, each a user with its own NKey.
pub const ACCOUNT_ROLES: [&str; 4] = ["gateway", "ledger", "notifier", "up"];

/// The users of `deploy/nats/accounts.conf` with fresh NKeys: each seed in a file (what the
/// role is given as `PICKET_NATS_CREDS_FILE`), each public key in the server's environment
/// (`PICKET_NATS_<ROLE>_NKEY`, which the file reads).
pub struct NatsAccounts {
    dir: tempfile::TempDir,
    public_keys: Vec<(String, String)>,
}

impl NatsAccounts {
    pub fn new() -> Result<Self, HarnessError> {
        let dir = tempfile::Builder::new()
            .prefix("picket-nkeys-")
            .tempdir()
            .map_err(io_error("creating a temp dir"))?;
        let mut public_keys = Vec::new();
        for role in ACCOUNT_ROLES {
            let pair = nkeys::KeyPair::new_user();
            let seed = pair.seed().map_err(|error| HarnessError::Io {
                what: format!("making the {role} user's NKey"),
                source: std::io::Error::other(error.to_string()),
            })?;
            let path = dir.path().join(format!("{role}.nk"));
            std::fs::write(&path, seed).map_err(io_error(format!("writing {}", path.display())))?;
            public_keys.push((
                format!("PICKET_NATS_{}_NKEY", role.to_uppercase()),
                pair.public_key(),
            ));
        }
        Ok(NatsAccounts { dir, public_keys })
    }

    /// The file holding `role`'s NKey seed (one of [`ACCOUNT_ROLES`]).
    pub fn seed_file(&self, role: &str) -> PathBuf {
        self.dir.path().join(format!("{role}.nk"))
    }

    /// A server with these users and `deploy/nats/accounts.conf`'s permissions (the file itself,
    /// included), serving `tls` when given.
    pub fn server_options(&self, tls: Option<ServerTls>) -> NatsOptions {
        NatsOptions {
            tls,
            config: "include ./accounts.conf".into(),
            files: vec![accounts_conf()],
            env: self.public_keys.clone(),
        }
    }
}

/// The configuration file of [`Nats::start_with`], and the files it includes beside it.
fn write_config(
    options: &NatsOptions,
    dir: &Path,
    port: u16,
    config: &Path,
) -> Result<(), HarnessError> {
    for file in &options.files {
        let name = file.file_name().unwrap_or_default();
        std::fs::copy(file, dir.join(name))
            .map_err(io_error(format!("copying {}", file.display())))?;
    }
    // JSON strings are valid NATS configuration strings.
    let quoted =
        |path: &Path| serde_json::to_string(&path.display().to_string()).unwrap_or_default();
    let mut text = format!(
        "listen: \"127.0.0.1:{port}\"\njetstream {{ store_dir: {} }}\n",
        quoted(&dir.join("jetstream"))
    );
    if let Some(tls) = &options.tls {
        text.push_str(&format!(
            "tls {{\n  cert_file: {}\n  key_file: {}\n  ca_file: {}\n  verify: {}\n}}\n",
            quoted(&tls.cert),
            quoted(&tls.key),
            quoted(&tls.ca),
            tls.verify_clients
        ));
    }
    text.push_str(&options.config);
    text.push('\n');
    std::fs::write(config, text).map_err(io_error(format!("writing {}", config.display())))
}

fn nats_info(port: u16) -> Option<String> {
    let stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(PROBE_ANSWER_WAIT_MAX)).ok()?;
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).ok()?;
    line.strip_prefix("INFO ")
        .map(|json| json.trim().to_owned())
}
