//! How every process reaches NATS ([`crate::bus::connect_with`] is the one door): TLS verified
//! against a CA file, an optional client certificate, and credentials — a `.creds` file (user JWT
//! and NKey seed, as `nsc` writes it) or a file holding only a user's NKey seed, or
//! `user:password` in the URL. Nothing secret is logged or put in an error: a URL is shown with
//! its password replaced ([`redact_url`]), and files are named by path, never quoted.
//!
//! A first connection that fails for a reason a retry cannot fix (TLS, credentials, a bad URL)
//! is an error at once; one that finds no server yet goes on connecting in the background, so a
//! process may start before NATS does.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_nats::{ConnectErrorKind, ConnectOptions, Event};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

/// How long one connection attempt (TCP, TLS and the NATS handshake) may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The files a process proves itself to NATS and checks the server with; every one optional.
/// Only paths: the secrets stay in their files until [`connect`] reads them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NatsAuth {
    /// PEM CA certificate(s) the server's certificate must chain to (and only these). With it,
    /// TLS is required even on a `nats://` URL; without it a `tls://` URL is verified against
    /// the system's roots.
    pub ca_file: Option<PathBuf>,
    /// PEM client certificate chain, for a server that verifies clients (`tls { verify: true }`);
    /// needs `key_file`.
    pub cert_file: Option<PathBuf>,
    /// PEM private key of `cert_file`.
    pub key_file: Option<PathBuf>,
    /// A `.creds` file (user JWT and NKey seed) or a file holding only a user NKey seed (`SU…`).
    pub creds_file: Option<PathBuf>,
}

/// What a credentials file holds.
enum Credentials {
    /// A `.creds` file: user JWT and NKey seed.
    Creds(String),
    /// A user NKey seed alone.
    NKeySeed(String),
}

/// Why a connection to NATS could not be made.
#[derive(Debug, thiserror::Error)]
pub enum NatsConnectError {
    /// A file named in [`NatsAuth`] is missing or not what it should be.
    #[error("NATS settings: {0}")]
    Settings(String),
    /// The server was reached and the connection refused for a reason a retry cannot fix.
    #[error("NATS at {url} refused the connection: {reason}")]
    Refused { url: String, reason: String },
    #[error("cannot connect to NATS at {url}: {reason}")]
    Failed { url: String, reason: String },
}

impl NatsAuth {
    /// Every problem with the files, each naming its field and path: unreadable, or holding no
    /// certificate, key or credentials. Checked before a process starts anything.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(path) = &self.ca_file
            && let Err(problem) = certificates(path)
        {
            problems.push(format!("ca_file {}: {problem}", path.display()));
        }
        match (&self.cert_file, &self.key_file) {
            (Some(cert), Some(key)) => {
                if let Err(problem) = certificates(cert) {
                    problems.push(format!("cert_file {}: {problem}", cert.display()));
                }
                if let Err(problem) = private_key(key) {
                    problems.push(format!("key_file {}: {problem}", key.display()));
                }
            }
            (Some(_), None) => problems.push("cert_file needs key_file".into()),
            (None, Some(_)) => problems.push("key_file needs cert_file".into()),
            (None, None) => {}
        }
        if let Some(path) = &self.creds_file
            && let Err(problem) = credentials(path)
        {
            problems.push(format!("creds_file {}: {problem}", path.display()));
        }
        problems
    }

    /// The connection options these settings make (reading the credentials file).
    fn options(&self, name: &str) -> Result<ConnectOptions, NatsConnectError> {
        let mut options = ConnectOptions::new()
            .name(name)
            .connection_timeout(CONNECT_TIMEOUT)
            .event_callback(|event| async move { log_event(event) });
        if let Some(ca) = &self.ca_file {
            options = options.add_root_certificates(ca.clone()).require_tls(true);
        }
        if let (Some(cert), Some(key)) = (&self.cert_file, &self.key_file) {
            options = options
                .add_client_certificate(cert.clone(), key.clone())
                .require_tls(true);
        }
        if let Some(path) = &self.creds_file {
            let settings = |problem: String| {
                NatsConnectError::Settings(format!("creds_file {}: {problem}", path.display()))
            };
            options = match credentials(path).map_err(settings)? {
                Credentials::Creds(text) => options
                    .credentials(&text)
                    .map_err(|e| settings(e.to_string()))?,
                Credentials::NKeySeed(seed) => options.nkey(seed),
            };
        }
        Ok(options)
    }
}

/// Connects to `url` (one server, or several separated by commas) as `name`, with `auth`. A
/// first attempt refused for TLS, credentials or permissions is an error naming why; one that
/// finds no server goes on in the background (the client reconnects by itself, then and after
/// any later loss).
pub async fn connect(
    url: &str,
    auth: &NatsAuth,
    name: &str,
) -> Result<async_nats::Client, NatsConnectError> {
    let problems = auth.problems();
    if !problems.is_empty() {
        return Err(NatsConnectError::Settings(problems.join("; ")));
    }
    let shown = redact_url(url);
    match auth.options(name)?.connect(url).await {
        Ok(client) => Ok(client),
        Err(error) if cannot_heal(&error) => Err(NatsConnectError::Refused {
            url: shown,
            reason: with_hint(&error),
        }),
        Err(error) => {
            tracing::warn!(
                url = %shown,
                %error,
                "nats is not reachable yet; connecting in the background"
            );
            auth.options(name)?
                .retry_on_initial_connect()
                .connect(url)
                .await
                .map_err(|error| NatsConnectError::Failed {
                    url: shown,
                    reason: error.to_string(),
                })
        }
    }
}

/// Failures that the same settings meet again on every try.
fn cannot_heal(error: &async_nats::ConnectError) -> bool {
    tls_failed(error)
        || matches!(
            error.kind(),
            ConnectErrorKind::Tls
                | ConnectErrorKind::Authentication
                | ConnectErrorKind::AuthorizationViolation
                | ConnectErrorKind::ServerParse
        )
}

/// Whether the TLS handshake failed: the client library reports a handshake's failure (an
/// unknown issuer, a name mismatch, the server's alert) as an I/O error carrying rustls's.
fn tls_failed(error: &async_nats::ConnectError) -> bool {
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        if cause
            .downcast_ref::<std::io::Error>()
            .and_then(std::io::Error::get_ref)
            .is_some_and(|inner| inner.is::<rustls::Error>())
            || cause.is::<rustls::Error>()
        {
            return true;
        }
        source = cause.source();
    }
    false
}

/// The error and the setting an operator looks at for it.
fn with_hint(error: &async_nats::ConnectError) -> String {
    if tls_failed(error) || error.kind() == ConnectErrorKind::Tls {
        return format!(
            "TLS handshake failed: {error} (check PICKET_NATS_CA_FILE: the CA that signed the \
             server's certificate, whose names must include the URL's host; and \
             PICKET_NATS_CERT_FILE/PICKET_NATS_KEY_FILE when the server verifies clients)"
        );
    }
    let hint = match error.kind() {
        ConnectErrorKind::Authentication | ConnectErrorKind::AuthorizationViolation => {
            "check PICKET_NATS_CREDS_FILE or the user:password in PICKET_NATS_URL against the \
             server's accounts"
        }
        _ => "check PICKET_NATS_URL",
    };
    format!("{error} ({hint})")
}

/// Logs what the connection reports: a refused publish or subscribe (a permissions violation)
/// is otherwise silent, since core NATS publishes are not acknowledged.
fn log_event(event: Event) {
    match event {
        Event::ServerError(error) => tracing::warn!(%error, "nats server error"),
        Event::ClientError(error) => tracing::warn!(%error, "nats client error"),
        Event::SlowConsumer(sid) => tracing::warn!(sid, "nats slow consumer"),
        Event::Disconnected => tracing::info!("nats disconnected"),
        Event::Connected => tracing::debug!("nats connected"),
        Event::LameDuckMode => tracing::info!("nats server entered lame duck mode"),
        Event::Draining | Event::Closed => {}
    }
}

/// `url` with the password of every server replaced by `***` (NATS URLs may list several,
/// separated by commas), for logs and errors.
pub fn redact_url(url: &str) -> String {
    url.split(',')
        .map(|server| {
            let Some((scheme, rest)) = server.split_once("://") else {
                return server.to_owned();
            };
            let host_start = rest.find('/').unwrap_or(rest.len());
            let Some(at) = rest[..host_start].rfind('@') else {
                return server.to_owned();
            };
            let userinfo = &rest[..at];
            let user = match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:***"),
                // A lone token is a secret too.
                None => "***".to_owned(),
            };
            format!("{scheme}://{user}@{}", &rest[at + 1..])
        })
        .collect::<Vec<_>>()
        .join(",")
}

/// The PEM certificates in `path` (at least one).
fn certificates(path: &Path) -> Result<usize, String> {
    let certificates = CertificateDer::pem_file_iter(path)
        .map_err(|e| pem_problem(&e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| pem_problem(&e))?;
    if certificates.is_empty() {
        return Err("no PEM certificate in it".into());
    }
    Ok(certificates.len())
}

/// `path` holds a PEM private key.
fn private_key(path: &Path) -> Result<(), String> {
    PrivateKeyDer::from_pem_file(path)
        .map(|_| ())
        .map_err(|e| pem_problem(&e))
}

fn pem_problem(error: &rustls_pki_types::pem::Error) -> String {
    match error {
        rustls_pki_types::pem::Error::Io(error) => format!("cannot read it: {error}"),
        rustls_pki_types::pem::Error::NoItemsFound => "no PEM item of the right kind in it".into(),
        other => format!("not valid PEM: {other:?}"),
    }
}

/// What a credentials file holds; its contents never appear in a problem.
fn credentials(path: &Path) -> Result<Credentials, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read it: {e}"))?;
    if text.contains("BEGIN NATS USER JWT") {
        // Parsed here so a broken file is a settings problem, not a failed connection.
        ConnectOptions::new()
            .credentials(&text)
            .map_err(|e| format!("not a valid .creds file: {e}"))?;
        return Ok(Credentials::Creds(text));
    }
    let seed = text.trim();
    match nkeys::KeyPair::from_seed(seed) {
        Ok(pair) if seed.starts_with("SU") && pair.public_key().starts_with('U') => {
            Ok(Credentials::NKeySeed(seed.to_owned()))
        }
        _ => Err("neither a .creds file nor a user NKey seed (SU…)".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_and_tokens_are_redacted_in_every_server_of_a_url() {
        assert_eq!(
            redact_url("nats://gateway:s3cret@nats-0:4222,tls://ledger:p@ss@nats-1:4222"),
            "nats://gateway:***@nats-0:4222,tls://ledger:***@nats-1:4222"
        );
        assert_eq!(redact_url("nats://t0ken@nats:4222"), "nats://***@nats:4222");
        assert_eq!(redact_url("nats://127.0.0.1:4222"), "nats://127.0.0.1:4222");
        assert_eq!(redact_url("127.0.0.1:4222"), "127.0.0.1:4222");
    }

    #[test]
    fn files_are_checked_and_named_without_their_contents() {
        let dir = tempfile::tempdir().expect("dir");
        let junk = dir.path().join("junk");
        std::fs::write(&junk, "SUPERSECRETVALUE").expect("write");
        let auth = NatsAuth {
            ca_file: Some(junk.clone()),
            cert_file: Some(dir.path().join("missing.pem")),
            key_file: None,
            creds_file: Some(junk.clone()),
        };
        let problems = auth.problems();
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].starts_with("ca_file "), "{problems:?}");
        assert!(
            problems[1].contains("cert_file needs key_file"),
            "{problems:?}"
        );
        assert!(
            problems[2].contains("neither a .creds file"),
            "{problems:?}"
        );
        assert!(
            problems.iter().all(|p| !p.contains("SUPERSECRETVALUE")),
            "{problems:?}"
        );
        assert!(NatsAuth::default().problems().is_empty());
    }

    #[test]
    fn a_user_nkey_seed_file_is_credentials_and_an_account_seed_is_not() {
        let dir = tempfile::tempdir().expect("dir");
        let user = nkeys::KeyPair::new_user();
        let path = dir.path().join("user.nk");
        std::fs::write(&path, format!("{}\n", user.seed().expect("seed"))).expect("write");
        assert!(matches!(credentials(&path), Ok(Credentials::NKeySeed(_))));
        let account = nkeys::KeyPair::new_account();
        std::fs::write(&path, account.seed().expect("seed")).expect("write");
        assert!(credentials(&path).is_err());
    }
}
