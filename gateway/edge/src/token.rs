//! Stateless signed tokens with rotating keys: any gateway holding the key ring verifies them
//! without asking anyone.
//!
//! Format: `v1.<kid>.<payload>.<mac>` where `payload` is base64url (no padding) of the claims'
//! JSON and `mac` is base64url (no padding) of HMAC-SHA256(secret of `kid`, `v1.<kid>.<payload>`).
//! Verification checks the length, the shape, the key, the MAC (in constant time) and only then
//! reads the claims and their expiry.
//!
//! Rotation: the first key of the ring signs, every key verifies. Add a new key second, roll it
//! out to every gateway, promote it first, and drop the old one once tokens it signed expired.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// Longest token accepted, in bytes; longer ones are refused before any work.
pub const TOKEN_LEN_MAX: usize = 1_024;
/// Keys one ring may hold.
pub const KEYS_MAX: usize = 8;
/// Shortest secret, in bytes.
pub const SECRET_LEN_MIN: usize = 32;
const KEY_ID_LEN_MAX: usize = 16;
const VERSION: &str = "v1";

/// A token's kind and claims.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "typ", rename_all = "snake_case")]
pub enum Claims {
    /// A member's session (issued by accounts; the gateway only verifies it).
    Session { sub: u64, sid: String, exp_ms: u64 },
    /// A guest device (non-member booking); the gateway issues these itself.
    Guest { device: String, exp_ms: u64 },
    /// Admission to book one sale, bound to an identity and a connection.
    Admission {
        identity: String,
        sale: u64,
        conn: String,
        jti: u64,
        exp_ms: u64,
    },
}

impl Claims {
    pub fn exp_ms(&self) -> u64 {
        match self {
            Claims::Session { exp_ms, .. }
            | Claims::Guest { exp_ms, .. }
            | Claims::Admission { exp_ms, .. } => *exp_ms,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("token malformed")]
    Malformed,
    #[error("token signed with an unknown key")]
    UnknownKey,
    #[error("token signature does not match")]
    BadSignature,
    #[error("token expired")]
    Expired,
    #[error("token too long")]
    TooLong,
    #[error("key configuration invalid")]
    InvalidKey,
}

impl TokenError {
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::Malformed => "token_malformed",
            TokenError::UnknownKey => "token_unknown_key",
            TokenError::BadSignature => "token_bad_signature",
            TokenError::Expired => "token_expired",
            TokenError::TooLong => "token_too_long",
            TokenError::InvalidKey => "token_invalid_key",
        }
    }
}

#[derive(Clone)]
pub struct Key {
    pub id: String,
    secret: Vec<u8>,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Key {
    /// `id`: 1 to 16 of `[A-Za-z0-9_-]`; `secret`: at least 32 bytes.
    pub fn new(id: impl Into<String>, secret: Vec<u8>) -> Result<Key, TokenError> {
        let id = id.into();
        let id_ok = !id.is_empty()
            && id.len() <= KEY_ID_LEN_MAX
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        if !id_ok || secret.len() < SECRET_LEN_MIN {
            return Err(TokenError::InvalidKey);
        }
        Ok(Key { id, secret })
    }

    /// A key with 32 random bytes.
    pub fn generate(id: impl Into<String>) -> Result<Key, TokenError> {
        let secret: [u8; SECRET_LEN_MIN] = rand::random();
        Key::new(id, secret.to_vec())
    }

    fn mac(&self, signed: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.secret)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(signed.as_bytes());
        mac
    }
}

/// Keys for signing and verifying: the first signs, every one verifies.
#[derive(Clone, Debug)]
pub struct KeyRing {
    keys: Vec<Key>,
}

impl KeyRing {
    pub fn new(keys: Vec<Key>) -> Result<KeyRing, TokenError> {
        let unique = keys
            .iter()
            .enumerate()
            .all(|(i, k)| keys[..i].iter().all(|other| other.id != k.id));
        if keys.is_empty() || keys.len() > KEYS_MAX || !unique {
            return Err(TokenError::InvalidKey);
        }
        Ok(KeyRing { keys })
    }

    /// Parses `id1:hexsecret,id2:hexsecret` (the `PICKET_TOKEN_KEYS` format).
    pub fn parse(spec: &str) -> Result<KeyRing, TokenError> {
        let keys = spec
            .split(',')
            .map(|entry| {
                let (id, secret) = entry.trim().split_once(':').ok_or(TokenError::InvalidKey)?;
                let secret = hex::decode(secret).map_err(|_| TokenError::InvalidKey)?;
                Key::new(id, secret)
            })
            .collect::<Result<Vec<_>, _>>()?;
        KeyRing::new(keys)
    }

    pub fn to_spec(&self) -> String {
        self.keys
            .iter()
            .map(|k| format!("{}:{}", k.id, hex::encode(&k.secret)))
            .collect::<Vec<_>>()
            .join(",")
    }

    pub fn sign(&self, claims: &Claims) -> String {
        let key = &self.keys[0];
        // Claims are plain data: encoding them cannot fail.
        let json = serde_json::to_vec(claims).unwrap_or_default();
        let signed = format!("{VERSION}.{}.{}", key.id, URL_SAFE_NO_PAD.encode(json));
        let mac = URL_SAFE_NO_PAD.encode(key.mac(&signed).finalize().into_bytes());
        format!("{signed}.{mac}")
    }

    pub fn verify(&self, token: &str, now_ms: u64) -> Result<Claims, TokenError> {
        if token.len() > TOKEN_LEN_MAX {
            return Err(TokenError::TooLong);
        }
        let mut parts = token.split('.');
        let (Some(version), Some(kid), Some(payload), Some(mac), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(TokenError::Malformed);
        };
        if version != VERSION {
            return Err(TokenError::Malformed);
        }
        let key = self
            .keys
            .iter()
            .find(|k| k.id == kid)
            .ok_or(TokenError::UnknownKey)?;
        let mac = URL_SAFE_NO_PAD
            .decode(mac)
            .map_err(|_| TokenError::Malformed)?;
        let signed_len = token.len() - mac_len(token);
        key.mac(&token[..signed_len])
            .verify_slice(&mac)
            .map_err(|_| TokenError::BadSignature)?;
        let json = URL_SAFE_NO_PAD
            .decode(payload)
            .map_err(|_| TokenError::Malformed)?;
        let claims: Claims = serde_json::from_slice(&json).map_err(|_| TokenError::Malformed)?;
        if now_ms >= claims.exp_ms() {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

/// Length of the last part and its dot.
fn mac_len(token: &str) -> usize {
    token.rfind('.').map_or(0, |dot| token.len() - dot)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn ring(ids: &[&str]) -> KeyRing {
        KeyRing::new(
            ids.iter()
                .map(|id| Key::new(*id, vec![id.as_bytes()[0]; 32]).expect("key"))
                .collect(),
        )
        .expect("ring")
    }

    fn every_kind() -> Vec<Claims> {
        vec![
            Claims::Session {
                sub: 42,
                sid: "s-1".into(),
                exp_ms: 2_000,
            },
            Claims::Guest {
                device: "device-0123456789".into(),
                exp_ms: 2_000,
            },
            Claims::Admission {
                identity: "m:42".into(),
                sale: 77,
                conn: "9".into(),
                jti: 5,
                exp_ms: 2_000,
            },
        ]
    }

    #[test]
    fn round_trips_every_kind() {
        let keys = ring(&["k1"]);
        for claims in every_kind() {
            assert_eq!(keys.verify(&keys.sign(&claims), 1_000), Ok(claims));
        }
    }

    #[test]
    fn rotation_verifies_old_tokens_until_the_key_is_dropped() {
        let token = ring(&["k1"]).sign(&every_kind()[0]);
        assert!(ring(&["k2", "k1"]).verify(&token, 1_000).is_ok());
        assert_eq!(
            ring(&["k2"]).verify(&token, 1_000),
            Err(TokenError::UnknownKey)
        );
    }

    #[test]
    fn tampering_and_expiry_are_caught() {
        let keys = ring(&["k1", "k2"]);
        let token = keys.sign(&every_kind()[2]);
        let parts: Vec<&str> = token.split('.').collect();
        let forged_payload = URL_SAFE_NO_PAD.encode(
            serde_json::to_vec(&Claims::Admission {
                identity: "m:43".into(),
                sale: 77,
                conn: "9".into(),
                jti: 5,
                exp_ms: 2_000,
            })
            .expect("json"),
        );
        let forged = format!("{}.{}.{}.{}", parts[0], parts[1], forged_payload, parts[3]);
        assert_eq!(keys.verify(&forged, 1_000), Err(TokenError::BadSignature));
        let swapped = format!("{}.k2.{}.{}", parts[0], parts[2], parts[3]);
        assert_eq!(keys.verify(&swapped, 1_000), Err(TokenError::BadSignature));
        assert_eq!(keys.verify(&token, 2_000), Err(TokenError::Expired));
        assert_eq!(
            keys.verify(&"a".repeat(TOKEN_LEN_MAX + 1), 0),
            Err(TokenError::TooLong)
        );
    }

    #[test]
    fn garbage_is_refused() {
        let keys = ring(&["k1"]);
        for garbage in [
            "",
            "...",
            "v1",
            "v1.k1",
            "v1.k1.%%%.%%%",
            "v2.k1.a.b",
            "v1.k9.a.b",
        ] {
            assert!(keys.verify(garbage, 0).is_err(), "{garbage:?}");
        }
    }

    #[test]
    fn key_specs_parse_and_print() {
        let spec = format!("a:{},b:{}", "11".repeat(32), "22".repeat(40));
        let keys = KeyRing::parse(&spec).expect("parses");
        assert_eq!(keys.to_spec(), spec);
        let bad = [
            String::new(),
            format!("a:{}", "11".repeat(8)),
            format!("a:{},a:{}", "11".repeat(32), "22".repeat(32)),
            format!("a:{}", "zz".repeat(32)),
            (0..9)
                .map(|i| format!("k{i}:{}", "11".repeat(32)))
                .collect::<Vec<_>>()
                .join(","),
        ];
        for spec in bad {
            assert_eq!(
                KeyRing::parse(&spec).err(),
                Some(TokenError::InvalidKey),
                "{spec}"
            );
        }
    }

    proptest! {
        #[test]
        fn verify_never_panics(text in ".{0,200}") {
            let _ = ring(&["k1"]).verify(&text, 0);
        }

        #[test]
        fn any_changed_byte_fails(position in any::<prop::sample::Index>(), byte in 0x21u8..0x7f) {
            let keys = ring(&["k1"]);
            let token = keys.sign(&every_kind()[1]);
            let index = position.index(token.len());
            prop_assume!(token.as_bytes()[index] != byte);
            let mut bytes = token.into_bytes();
            bytes[index] = byte;
            let changed = String::from_utf8(bytes).expect("ascii");
            prop_assert!(keys.verify(&changed, 0).is_err());
        }
    }
}
