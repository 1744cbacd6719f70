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
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
