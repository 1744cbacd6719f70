//! Keys not given on the command line: read from the data directory, or made there on first
//! start (owner-only files), so the sandbox keeps its keys across restarts. Never logged.

use std::io::Write;
use std::path::Path;

use rand::Rng;
use rand::distr::Alphanumeric;

use crate::SandboxError;

/// The keys the sandbox runs with.
#[derive(Clone)]
pub struct Keys {
    pub secret_key: String,
    pub client_key: String,
    pub webhook_secret: String,
    pub admin_token: String,
}

/// `given`, or the file `name` in `dir`, or a new `prefix` + 24 random letters and digits
/// written to that file.
pub fn load_or_create(
    dir: &Path,
    name: &str,
    prefix: &str,
    given: Option<&str>,
) -> Result<String, SandboxError> {
    if let Some(value) = given {
        return Ok(value.to_owned());
    }
    let path = dir.join(name);
    let file_error = |source| SandboxError::File {
        path: path.clone(),
        source,
    };
    match std::fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => return Ok(text.trim().to_owned()),
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(file_error(error)),
    }
    let value = format!("{prefix}{}", random_alphanumeric(24));
    std::fs::create_dir_all(dir).map_err(file_error)?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&path).map_err(file_error)?;
    file.write_all(value.as_bytes()).map_err(file_error)?;
    Ok(value)
}

/// `len` random ASCII letters and digits.
pub fn random_alphanumeric(len: usize) -> String {
    rand::rng()
        .sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

/// `len` random upper-case hex digits (Toss's transaction keys look like this).
pub fn random_hex(len: usize) -> String {
    let mut rng = rand::rng();
    (0..len)
        .map(|_| char::from(b"0123456789ABCDEF"[rng.random_range(0..16)]))
        .collect()
}

impl Keys {
    /// The configured keys, the missing ones from (or into) the data directory.
    pub fn resolve(config: &crate::SandboxConfig) -> Result<Keys, SandboxError> {
        let dir = &config.data_dir;
        Ok(Keys {
            secret_key: load_or_create(
                dir,
                "secret-key",
                "test_sk_",
                config.secret_key.as_deref(),
            )?,
            client_key: load_or_create(
                dir,
                "client-key",
                "test_ck_",
                config.client_key.as_deref(),
            )?,
            webhook_secret: load_or_create(
                dir,
                "webhook-secret",
                "whsec_",
                config.webhook_secret.as_deref(),
            )?,
            admin_token: load_or_create(dir, "admin-token", "", config.admin_token.as_deref())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_made_key_is_kept() {
        let dir = tempfile::tempdir().expect("tempdir");
        let first = load_or_create(dir.path(), "secret-key", "test_sk_", None).expect("made");
        assert!(
            first.starts_with("test_sk_") && first.len() == 32,
            "{first}"
        );
        let again = load_or_create(dir.path(), "secret-key", "test_sk_", None).expect("read");
        assert_eq!(first, again);
        let given = load_or_create(
            dir.path(),
            "secret-key",
            "test_sk_",
            Some("test_sk_given123"),
        )
        .expect("given");
        assert_eq!(given, "test_sk_given123");
    }
}
