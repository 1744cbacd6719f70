//! TLS and credentials for the connections a role makes, as settings every role flattens into its
//! arguments: [`NatsTlsArgs`] (CA, client certificate, `.creds`/NKey file) and [`RedisTlsArgs`]
//! (CA, client certificate). PostgreSQL's are in its URL (`sslmode=verify-full&sslrootcert=…`,
//! passed through unchanged to every pool). Only paths are settings: the secrets stay in their
//! files (a Kubernetes Secret mounted as files), and none is ever logged or shown in `--help`.
//! docs/operations.md, "TLS and credentials", lists which role needs which.

use std::path::PathBuf;

use clap::Args;
use picket_ledger_client::NatsAuth;
use picket_room::redis::RedisTls;

use crate::check::Problems;

/// TLS and credentials for NATS (`tls://` URLs, or a CA file with a `nats://` one).
#[derive(Args, Clone, Default)]
pub struct NatsTlsArgs {
    /// PEM CA certificate(s) NATS's server certificate must chain to (and only these): TLS is
    /// then required, whatever the URL's scheme. Unset: a tls:// URL is verified against the
    /// system's roots.
    #[arg(long, env = "PICKET_NATS_CA_FILE")]
    pub nats_ca_file: Option<PathBuf>,
    /// PEM client certificate for a NATS server that verifies clients (`tls { verify: true }`);
    /// with PICKET_NATS_KEY_FILE.
    #[arg(long, env = "PICKET_NATS_CERT_FILE")]
    pub nats_cert_file: Option<PathBuf>,
    /// PEM private key of PICKET_NATS_CERT_FILE.
    #[arg(long, env = "PICKET_NATS_KEY_FILE")]
    pub nats_key_file: Option<PathBuf>,
    /// This role's NATS user: a .creds file (user JWT and NKey seed, as `nsc` writes it) or a
    /// file holding only the user's NKey seed (SU…); deploy/nats/accounts.conf has the users and
    /// what each may publish. A user:password in PICKET_NATS_URL works too.
    #[arg(long, env = "PICKET_NATS_CREDS_FILE")]
    pub nats_creds_file: Option<PathBuf>,
}

impl NatsTlsArgs {
    /// The NATS settings, every problem with their files recorded in `problems`. `url` is the
    /// role's NATS URL, `None` when it runs without NATS (then no file may be set).
    pub fn check(&self, url: Option<&str>, problems: &mut Problems) -> NatsAuth {
        let auth = NatsAuth {
            ca_file: self.nats_ca_file.clone(),
            cert_file: self.nats_cert_file.clone(),
            key_file: self.nats_key_file.clone(),
            creds_file: self.nats_creds_file.clone(),
        };
        if url.is_none() {
            if auth != NatsAuth::default() {
                problems.setting(
                    "nats_url",
                    "needed by PICKET_NATS_CA_FILE/_CERT_FILE/_KEY_FILE/_CREDS_FILE",
                );
            }
            return auth;
        }
        // Each of the client's problems begins with its field: `ca_file …` is `nats_ca_file`.
        problems.extend(
            "NATS",
            auth.problems(),
            &[
                ("ca_file", "nats_ca_file"),
                ("cert_file", "nats_cert_file"),
                ("key_file", "nats_key_file"),
                ("creds_file", "nats_creds_file"),
            ],
        );
        auth
    }
}

/// TLS for Redis (`rediss://` URLs).
#[derive(Args, Clone, Default)]
pub struct RedisTlsArgs {
    /// PEM CA certificate(s) Redis's server certificate must chain to (and only these), for a
    /// rediss:// PICKET_REDIS_URL. Unset: a rediss:// URL is verified against the system's roots.
    #[arg(long, env = "PICKET_REDIS_CA_FILE")]
    pub redis_ca_file: Option<PathBuf>,
    /// PEM client certificate for a Redis that verifies clients (`tls-auth-clients yes`, Redis's
    /// default); with PICKET_REDIS_KEY_FILE.
    #[arg(long, env = "PICKET_REDIS_CERT_FILE")]
    pub redis_cert_file: Option<PathBuf>,
    /// PEM private key of PICKET_REDIS_CERT_FILE.
    #[arg(long, env = "PICKET_REDIS_KEY_FILE")]
    pub redis_key_file: Option<PathBuf>,
}

impl RedisTlsArgs {
    /// The Redis TLS settings; a file that cannot be read, or files without a `rediss://` `url`,
    /// are recorded in `problems`.
    pub fn check(&self, url: Option<&str>, problems: &mut Problems) -> RedisTls {
        let tls = RedisTls {
            ca_file: self.redis_ca_file.clone(),
            cert_file: self.redis_cert_file.clone(),
            key_file: self.redis_key_file.clone(),
        };
        if !tls.is_set() {
            return tls;
        }
        if !url.is_some_and(|url| url.starts_with("rediss://")) {
            problems.setting(
                "redis_url",
                "must be rediss://… for PICKET_REDIS_CA_FILE/_CERT_FILE/_KEY_FILE",
            );
        }
        if tls.cert_file.is_some() != tls.key_file.is_some() {
            problems.setting(
                "redis_cert_file",
                "goes together with PICKET_REDIS_KEY_FILE",
            );
        }
        for (id, path) in [
            ("redis_ca_file", &tls.ca_file),
            ("redis_cert_file", &tls.cert_file),
            ("redis_key_file", &tls.key_file),
        ] {
            if let Some(path) = path
                && let Err(error) = std::fs::metadata(path)
            {
                problems.setting(id, format!("cannot read {}: {error}", path.display()));
            }
        }
        tls
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A role's URLs with both TLS groups flattened in, as the roles have them.
    #[derive(clap::Args)]
    struct Settings {
        #[arg(long, env = "PICKET_NATS_URL")]
        nats_url: Option<String>,
        #[arg(long, env = "PICKET_REDIS_URL")]
        redis_url: Option<String>,
        #[command(flatten)]
        nats: NatsTlsArgs,
        #[command(flatten)]
        redis: RedisTlsArgs,
    }

    #[test]
    fn files_without_a_url_for_them_are_problems() {
        let nats = NatsTlsArgs {
            nats_ca_file: Some("/nonexistent/ca.pem".into()),
            ..NatsTlsArgs::default()
        };
        let redis = RedisTlsArgs {
            redis_ca_file: Some("/nonexistent/ca.pem".into()),
            redis_cert_file: Some("/nonexistent/cert.pem".into()),
            ..RedisTlsArgs::default()
        };
        let mut problems = Problems::of::<Settings>();
        nats.check(None, &mut problems);
        redis.check(Some("redis://127.0.0.1:6379"), &mut problems);
        let message = problems.finish().expect_err("problems").to_string();
        assert!(
            message.contains("--nats-url (PICKET_NATS_URL): needed by PICKET_NATS_CA_FILE"),
            "{message}"
        );
        assert!(
            message.contains("--redis-url (PICKET_REDIS_URL): must be rediss://"),
            "{message}"
        );
        assert!(
            message.contains("--redis-cert-file (PICKET_REDIS_CERT_FILE): goes together"),
            "{message}"
        );
        assert!(
            message.contains(
                "--redis-ca-file (PICKET_REDIS_CA_FILE): cannot read /nonexistent/ca.pem"
            ),
            "{message}"
        );
    }

    #[test]
    fn a_missing_nats_ca_file_is_named_when_nats_is_used() {
        let nats = NatsTlsArgs {
            nats_ca_file: Some("/nonexistent/ca.pem".into()),
            ..NatsTlsArgs::default()
        };
        let mut problems = Problems::of::<Settings>();
        let auth = nats.check(Some("tls://127.0.0.1:4222"), &mut problems);
        assert_eq!(auth.ca_file, Some(PathBuf::from("/nonexistent/ca.pem")));
        let message = problems.finish().expect_err("a problem").to_string();
        assert!(
            message.contains(
                "--nats-ca-file (PICKET_NATS_CA_FILE): ca_file /nonexistent/ca.pem: cannot read it"
            ),
            "{message}"
        );
        let mut none = Problems::of::<Settings>();
        NatsTlsArgs::default().check(None, &mut none);
        RedisTlsArgs::default().check(None, &mut none);
        assert!(none.finish().is_ok());
    }
}
