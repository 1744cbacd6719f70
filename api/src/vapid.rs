//! The server's VAPID identity for Web Push (RFC 8292): the P-256 key every push request is
//! signed with and the contact it names. `push.rs` serves the public half to browsers; the
//! notifier (`picket-notifier`'s `push.rs`) signs with it; `picket up` keeps it in its data
//! directory.

use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The longest VAPID contact (`sub`) taken.
pub const VAPID_SUBJECT_BYTES_MAX: usize = 256;
/// The contact `picket up` names when none is configured; operators of a real deployment set
/// theirs (push services write to it when the server misbehaves).
pub const VAPID_SUBJECT_DEFAULT: &str = "mailto:webpush@picket.invalid";
/// An uncompressed P-256 point (`0x04 ‖ x ‖ y`): a VAPID public key, and a browser's
/// `keys.p256dh`.
pub const P256DH_BYTES: usize = 65;

/// Why a VAPID setting is refused.
#[derive(Debug, thiserror::Error)]
pub enum VapidError {
    #[error("the VAPID private key ({origin}) is not a base64url P-256 scalar of 32 bytes")]
    Key { origin: String },
    #[error(
        "the VAPID subject must be mailto:… or https://…, at most {VAPID_SUBJECT_BYTES_MAX} bytes"
    )]
    Subject,
    #[error(transparent)]
    File(#[from] picket_edge::secret::SecretError),
}

/// The server's VAPID identity: the P-256 key push requests are signed with and the contact
/// (`sub`) the tokens name. Browsers' subscriptions are bound to the public key, so it must
/// outlive restarts (`picket up` keeps it in `<data dir>/vapid-key`). Never printed: its
/// `Debug` is redacted.
#[derive(Clone)]
pub struct VapidKeys {
    secret: p256::SecretKey,
    subject: String,
}

impl VapidKeys {
    /// A fresh key with [`VAPID_SUBJECT_DEFAULT`]: a process without a key file (tests) gets
    /// its own.
    pub fn generate() -> Self {
        loop {
            // A random 32-byte string is a valid scalar except with probability ~2^-32.
            if let Ok(secret) = p256::SecretKey::from_slice(&rand::random::<[u8; 32]>()) {
                return VapidKeys {
                    secret,
                    subject: VAPID_SUBJECT_DEFAULT.into(),
                };
            }
        }
    }

    /// A private key as base64url (unpadded) of its 32-byte scalar, with the contact `subject`.
    pub fn parse(private_key: &str, subject: &str) -> Result<Self, VapidError> {
        let bad = || VapidError::Key {
            origin: "PICKET_VAPID_PRIVATE_KEY".into(),
        };
        let bytes = URL_SAFE_NO_PAD
            .decode(private_key.trim())
            .map_err(|_| bad())?;
        if bytes.len() != 32 {
            return Err(bad());
        }
        let secret = p256::SecretKey::from_slice(&bytes).map_err(|_| bad())?;
        check_subject(subject)?;
        Ok(VapidKeys {
            secret,
            subject: subject.to_owned(),
        })
    }

    /// The private key as [`VapidKeys::parse`] reads it.
    pub fn private_key_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.secret.to_bytes())
    }

    /// The public key as an uncompressed point (65 bytes, `0x04 ‖ x ‖ y`).
    pub fn public_key_bytes(&self) -> [u8; P256DH_BYTES] {
        use p256::elliptic_curve::sec1::ToEncodedPoint;
        let point = self.secret.public_key().to_encoded_point(false);
        point
            .as_bytes()
            .try_into()
            .unwrap_or_else(|_| unreachable!("an uncompressed P-256 point is 65 bytes"))
    }

    /// The public key in base64url: what `PushManager.subscribe({applicationServerKey})`
    /// takes, and the `k` of every request's `Authorization: vapid`.
    pub fn public_key_base64url(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.public_key_bytes())
    }

    /// The signing key (the notifier's `push.rs` signs VAPID tokens with it).
    pub fn secret(&self) -> &p256::SecretKey {
        &self.secret
    }

    /// The contact push services may write to (`sub`).
    pub fn subject(&self) -> &str {
        &self.subject
    }

    /// The same key with another contact.
    pub fn with_subject(self, subject: &str) -> Result<Self, VapidError> {
        check_subject(subject)?;
        Ok(VapidKeys {
            subject: subject.to_owned(),
            ..self
        })
    }
}

impl std::fmt::Debug for VapidKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "VapidKeys(public {}, ..)", self.public_key_base64url())
    }
}

/// RFC 8292 §2.1: `sub` is a `mailto:` or `https:` URI a push service can reach the operator at.
fn check_subject(subject: &str) -> Result<(), VapidError> {
    let fits = subject.len() <= VAPID_SUBJECT_BYTES_MAX
        && !subject.chars().any(|c| c.is_control() || c.is_whitespace());
    let mail = subject.strip_prefix("mailto:").is_some_and(|address| {
        address
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty())
    });
    let https = subject
        .strip_prefix("https://")
        .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
    if fits && (mail || https) {
        Ok(())
    } else {
        Err(VapidError::Subject)
    }
}

/// The VAPID key: `private_key` (`PICKET_VAPID_PRIVATE_KEY`) when given, else the file at
/// `path` (base64url), created on first start; with `subject` as the contact. A new key would
/// orphan every browser's subscription (they are bound to the public key), so the file is kept
/// with the data, and every process serving the API or sending pushes has the same key.
pub fn load_vapid_keys(
    private_key: Option<&str>,
    subject: &str,
    path: &Path,
) -> Result<VapidKeys, VapidError> {
    if let Some(key) = private_key {
        return VapidKeys::parse(key, subject);
    }
    let text = picket_edge::secret::load_or_create(path, || {
        VapidKeys::generate().private_key_base64url()
    })?;
    VapidKeys::parse(&text, subject).map_err(|error| match error {
        VapidError::Key { .. } => VapidError::Key {
            origin: path.display().to_string(),
        },
        other => other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vapid_keys_round_trip_and_subjects_are_checked() {
        let keys = VapidKeys::generate();
        let again = VapidKeys::parse(&keys.private_key_base64url(), "https://picket.example")
            .expect("parsed");
        assert_eq!(again.public_key_bytes(), keys.public_key_bytes());
        assert_eq!(keys.public_key_bytes()[0], 4);
        assert!(VapidKeys::parse("short", VAPID_SUBJECT_DEFAULT).is_err());
        for bad in [
            "",
            "mailto:",
            "mailto:nobody",
            "http://x.example",
            "https://",
            "x",
        ] {
            assert!(keys.clone().with_subject(bad).is_err(), "{bad}");
        }
        assert!(format!("{keys:?}").starts_with("VapidKeys(public "));
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("vapid-key");
        let first = load_vapid_keys(None, VAPID_SUBJECT_DEFAULT, &path).expect("created");
        let second = load_vapid_keys(None, VAPID_SUBJECT_DEFAULT, &path).expect("read");
        assert_eq!(first.public_key_bytes(), second.public_key_bytes());
    }
}
