//! A private NATS server with JetStream (one, for a test), or a cluster of them routed to each
//! other on loopback ([`Nats::start_cluster`], for `picket cluster`); a server's store survives a
//! kill and a restart. A single server may serve TLS and take a configuration of its own
//! ([`Nats::start_with`]: accounts, say).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::error::{ClusterError, io_error};
use crate::process::{
    ArgsFn, Dir, PROBE_ANSWER_WAIT_MAX, PROBE_INTERVAL, Process, STARTUP_WAIT_MAX, find_binary,
    free_port, log_tail, sbin_dirs,
};
use crate::tls::ServerTls;

/// The name of the NATS cluster [`Nats::start_cluster`] forms (its servers' `--cluster_name`).
pub const CLUSTER_NAME: &str = "picket";

/// Where a clustered server listens for routes and for monitoring, besides its client port.
#[derive(Clone, Copy, Debug)]
pub struct ClusterPorts {
    pub route: u16,
    pub monitor: u16,
}

/// A private NATS server with JetStream; its store survives `kill` + `start_again`.
pub struct Nats {
    process: Process,
    /// Set for a server of a cluster.
    cluster: Option<ClusterPorts>,
    /// Whether it serves TLS only.
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
    pub fn start() -> Result<Self, ClusterError> {
        let args: ArgsFn = Box::new(|dir: &Path, port: u16| {
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
        });
        let binary = find_binary("nats-server", "nats-server", &sbin_dirs())?;
        let process =
            Process::start_binary("nats", binary, Dir::temp("nats", None)?, args, |port| {
                nats_info(port).is_some()
            })?;
        Ok(Nats {
            process,
            cluster: None,
            tls: false,
        })
    }

    /// Starts `nats-server` from a configuration file written into its (temporary) directory:
    /// loopback, a free port, JetStream with its store there, and `options`. Ready once a
    /// connection gets the `INFO` line (which NATS sends before any TLS handshake).
    pub fn start_with(options: NatsOptions) -> Result<Self, ClusterError> {
        let tls = options.tls.is_some();
        let env = options.env.clone();
        let args = move |dir: &Path, port: u16| {
            let config = dir.join("nats.conf");
            if let Err(error) = write_config(&options, dir, port, &config) {
                // The server then fails to start, and its start error quotes this.
                let _ = std::fs::write(dir.join("nats.log"), format!("supervisor: {error}\n"));
            }
            vec!["-c".to_owned(), config.display().to_string()]
        };
        let process = Process::start_with_env(
            "nats",
            "nats-server",
            "nats-server",
            args,
            |port| nats_info(port).is_some(),
            env,
        )?;
        Ok(Nats {
            process,
            cluster: None,
            tls,
        })
    }

    /// A cluster of `dirs.len()` servers with JetStream, one per directory (kept: started on
    /// them again, each finds its store), routed to each other on loopback and named
    /// `picket-nats-<i>` (JetStream knows its peers by name, so the names stay across runs while
    /// the ports change). Returns once every server reports itself healthy, which in a cluster
    /// means JetStream has its meta leader.
    pub fn start_cluster(dirs: &[PathBuf]) -> Result<Vec<Nats>, ClusterError> {
        let binary = find_binary("nats-server", "nats-server", &sbin_dirs())?;
        let ports: Vec<ClusterPorts> = dirs
            .iter()
            .map(|_| {
                Ok(ClusterPorts {
                    route: free_port()?,
                    monitor: free_port()?,
                })
            })
            .collect::<Result<_, ClusterError>>()?;
        let routes: Vec<String> = ports
            .iter()
            .map(|p| format!("nats://127.0.0.1:{}", p.route))
            .collect();
        let mut servers = Vec::with_capacity(dirs.len());
        for (index, (dir, own)) in dirs.iter().zip(&ports).enumerate() {
            let own = *own;
            let others: Vec<String> = routes
                .iter()
                .enumerate()
                .filter(|(other, _)| *other != index)
                .map(|(_, route)| route.clone())
                .collect();
            let args: ArgsFn = Box::new(move |dir: &Path, port: u16| {
                let store = dir.join("jetstream").display().to_string();
                let mut args: Vec<String> = [
                    "-a",
                    "127.0.0.1",
                    "-p",
                    &port.to_string(),
                    "-n",
                    &format!("picket-nats-{index}"),
                    "-js",
                    "-sd",
                    &store,
                    "-m",
                    &own.monitor.to_string(),
                    "--cluster_name",
                    CLUSTER_NAME,
                    "--cluster",
                    &format!("nats://127.0.0.1:{}", own.route),
                ]
                .map(String::from)
                .to_vec();
                if !others.is_empty() {
                    args.extend(["--routes".into(), others.join(",")]);
                }
                args
            });
            // A clustered server accepts clients before JetStream has a meta leader (which
            // needs a quorum of its peers): each is ready on its INFO line, the cluster below.
            let process =
                Process::start_binary("nats", binary.clone(), Dir::kept(dir)?, args, |port| {
                    nats_info(port).is_some()
                })?;
            servers.push(Nats {
                process,
                cluster: Some(own),
                tls: false,
            });
        }
        let started = Instant::now();
        while !servers.iter().all(Nats::healthy) {
            if started.elapsed() > STARTUP_WAIT_MAX {
                let logs: Vec<String> = servers.iter().map(Nats::log_tail).collect();
                return Err(ClusterError::NotReady {
                    server: "the NATS cluster (JetStream meta leader)".into(),
                    waited_s: started.elapsed().as_secs(),
                    log: logs.join("\n---\n"),
                });
            }
            std::thread::sleep(PROBE_INTERVAL);
        }
        Ok(servers)
    }

    /// A clustered server's route and monitoring ports.
    pub fn cluster_ports(&self) -> Option<ClusterPorts> {
        self.cluster
    }

    /// Whether the server's monitoring endpoint says it is healthy (`/healthz`: with JetStream
    /// in a cluster, only once the meta leader is known). A server without monitoring (a
    /// single test server) counts as healthy once it answers.
    pub fn healthy(&self) -> bool {
        match self.cluster {
            Some(ports) => http_status(ports.monitor, "/healthz") == Some(200),
            None => nats_info(self.port()).is_some(),
        }
    }

    /// `nats://127.0.0.1:<port>`, or `tls://…` when the server serves TLS.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "tls" } else { "nats" };
        format!("{scheme}://127.0.0.1:{}", self.process.port())
    }

    /// The loopback TCP port; it stays the same across restarts.
    pub fn port(&self) -> u16 {
        self.process.port()
    }

    /// The server's `INFO` line (the JSON after `INFO `), read from a fresh connection.
    pub fn info(&self) -> Option<String> {
        nats_info(self.process.port())
    }

    /// The server's pid (`None` while it is stopped), for the load test's CPU per booking.
    pub fn pid(&self) -> Option<u32> {
        self.process.pid()
    }

    /// SIGKILL, like a lost host; the JetStream store stays on disk.
    pub fn kill(&mut self) -> Result<(), ClusterError> {
        self.process.kill()
    }

    /// Starts the server again on the same port and JetStream store.
    pub fn start_again(&mut self) -> Result<(), ClusterError> {
        self.process.start_again()
    }

    /// Freezes the server (SIGSTOP): clients hang instead of failing.
    pub fn pause(&mut self) -> Result<(), ClusterError> {
        self.process.signal("STOP")
    }

    /// Undoes [`Nats::pause`].
    pub fn resume(&mut self) -> Result<(), ClusterError> {
        self.process.signal("CONT")
    }

    /// SIGTERM and waits for the server to exit.
    pub fn stop(&mut self) -> Result<(), ClusterError> {
        self.process.stop()
    }

    /// How the server ended, once it has by itself.
    pub fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.process.exited()
    }

    /// The directory of its files (the JetStream store, the log).
    pub fn dir(&self) -> &Path {
        self.process.dir()
    }

    /// Its log file.
    pub fn log_path(&self) -> PathBuf {
        self.process.log_path()
    }

    /// The last lines of the server's log.
    pub fn log_tail(&self) -> String {
        log_tail(&self.process.log_path())
    }
}

/// The configuration file of [`Nats::start_with`], and the files it includes beside it.
fn write_config(
    options: &NatsOptions,
    dir: &Path,
    port: u16,
    config: &Path,
) -> Result<(), ClusterError> {
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

/// The status of a plain HTTP/1.0 GET of `path` on loopback `port`, if anything answered.
fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(PROBE_ANSWER_WAIT_MAX)).ok()?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configured_server_serves_tls_with_the_files_named_and_includes_what_it_was_given() {
        let dir = tempfile::tempdir().expect("tempdir");
        let include = dir.path().join("accounts.conf");
        std::fs::write(&include, "accounts {}\n").expect("include");
        let server = dir.path().join("server");
        std::fs::create_dir(&server).expect("server dir");
        let options = NatsOptions {
            tls: Some(ServerTls {
                cert: "/certs/nats.pem".into(),
                key: "/certs/nats-key.pem".into(),
                ca: "/certs/ca.pem".into(),
                verify_clients: true,
            }),
            config: "include ./accounts.conf".into(),
            files: vec![include],
            env: Vec::new(),
        };
        let config = server.join("nats.conf");
        write_config(&options, &server, 4222, &config).expect("written");
        let text = std::fs::read_to_string(&config).expect("config");
        assert!(text.contains("listen: \"127.0.0.1:4222\""), "{text}");
        assert!(text.contains("cert_file: \"/certs/nats.pem\""), "{text}");
        assert!(text.contains("key_file: \"/certs/nats-key.pem\""), "{text}");
        assert!(text.contains("ca_file: \"/certs/ca.pem\""), "{text}");
        assert!(text.contains("verify: true"), "{text}");
        assert!(text.ends_with("include ./accounts.conf\n"), "{text}");
        assert_eq!(
            std::fs::read_to_string(server.join("accounts.conf")).expect("copied"),
            "accounts {}\n"
        );
    }
}
