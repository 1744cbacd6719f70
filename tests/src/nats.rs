//! The NATS server is `picket-cluster`'s ([`Nats`], [`NatsOptions`]); tests also read what
//! JetStream reports, and run it with the users of `deploy/nats/accounts.conf`
//! ([`NatsAccounts`], whose NKeys are made here).

use std::path::{Path, PathBuf};

pub use picket_cluster::nats::*;
use picket_cluster::{ClusterError as HarnessError, ServerTls};

use picket_cluster::error::io_error;

/// The JetStream consumer `name` of `stream` as the server at `url` reports it (`None`: no such
/// consumer), asked with the JetStream API over a fresh connection.
pub async fn consumer_info(url: &str, stream: &str, name: &str) -> Option<serde_json::Value> {
    let client = async_nats::connect(url).await.ok()?;
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
