//! Secrets a deployment keeps in files when none is configured: the embedded default keeps its
//! token keys and operator token across restarts in its data directory.

use std::path::{Path, PathBuf};

use crate::token::{self, KeyRing, TokenError};

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("cannot read or write {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("token keys are invalid: {0}")]
    Keys(#[from] TokenError),
    #[error("the ticket key ({origin}) is not 64 hex digits")]
    TicketKey { origin: String },
}

/// The server secret every ticket's code key derives from (per performance, then per ticket and
/// secret generation: see `picket-api`'s `tickets.rs`). Never printed: its `Debug` is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct TicketKey(pub [u8; 32]);

impl TicketKey {
    /// 32 fresh random bytes: a process without a key file (tests) gets its own.
    pub fn generate() -> Self {
        TicketKey(rand::random())
    }

    /// A key as 64 hex digits (surrounding whitespace ignored).
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let bad = || SecretError::TicketKey {
            origin: "PICKET_TICKET_KEY".into(),
        };
        let bytes = hex::decode(text.trim()).map_err(|_| bad())?;
        Ok(TicketKey(bytes.try_into().map_err(|_| bad())?))
    }
}

impl std::fmt::Debug for TicketKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TicketKey(..)")
    }
}

/// Reads a secret from `path`, or creates it with `make` (readable by the owner only) when the
/// file does not exist.
pub fn load_or_create(path: &Path, make: impl FnOnce() -> String) -> Result<String, SecretError> {
    let file_error = |source| SecretError::File {
        path: path.to_owned(),
        source,
    };
    match std::fs::read_to_string(path) {
        Ok(text) => return Ok(text.trim().to_owned()),
        Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
            return Err(file_error(error));
        }
        Err(_) => {}
    }
    let secret = make();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(file_error)?;
    std::io::Write::write_all(&mut file, secret.as_bytes()).map_err(file_error)?;
    Ok(secret)
}

/// The token key ring: `spec` (the `PICKET_TOKEN_KEYS` format) when given, else the key file
/// at `path`, created with one fresh key on first start.
pub fn load_keys(spec: Option<&str>, path: &Path) -> Result<KeyRing, SecretError> {
    let spec = match spec {
        Some(spec) => spec.to_owned(),
        None => load_or_create(path, || {
            KeyRing::new(vec![
                token::Key::generate("k1")
                    .unwrap_or_else(|_| unreachable!("a generated key is valid")),
            ])
            .map(|ring| ring.to_spec())
            .unwrap_or_default()
        })?,
    };
    Ok(KeyRing::parse(&spec)?)
}

/// The ticket key: `spec` (`PICKET_TICKET_KEY`) when given, else the file at `path` (64 hex
/// digits), created on first start. A new key would change every ticket's code key: apps fetch
/// their tickets again and codes shown before stop working, so the file is kept with the data,
/// and every process serving the API has the same key.
pub fn load_ticket_key(spec: Option<&str>, path: &Path) -> Result<TicketKey, SecretError> {
    if let Some(spec) = spec {
        return TicketKey::parse(spec);
    }
    let text = load_or_create(path, || hex::encode(TicketKey::generate().0))?;
    TicketKey::parse(&text).map_err(|_| SecretError::TicketKey {
        origin: path.display().to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_is_created_once_and_read_back() {
        let dir = std::env::temp_dir().join(format!("picket-edge-secret-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("operator-token");
        let _ = std::fs::remove_file(&path);
        let first = load_or_create(&path, || "first".into()).expect("created");
        let again = load_or_create(&path, || "second".into()).expect("read");
        assert_eq!((first.as_str(), again.as_str()), ("first", "first"));
        let keys = load_keys(None, &dir.join("token-keys")).expect("keys");
        let same = load_keys(None, &dir.join("token-keys")).expect("keys again");
        assert_eq!(keys.to_spec(), same.to_spec());
        let ticket_key = load_ticket_key(None, &dir.join("ticket-key")).expect("ticket key");
        let ticket_again =
            load_ticket_key(None, &dir.join("ticket-key")).expect("ticket key again");
        assert_eq!(ticket_key, ticket_again);
        let given = load_ticket_key(Some(&"0a".repeat(32)), &dir.join("unused")).expect("given");
        assert_eq!(given, TicketKey([10; 32]));
        assert_eq!(format!("{ticket_key:?}"), "TicketKey(..)");
        std::fs::write(dir.join("bad-ticket-key"), "abc").expect("written");
        assert!(matches!(
            load_ticket_key(None, &dir.join("bad-ticket-key")),
            Err(SecretError::TicketKey { .. })
        ));
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
