//! The audited draw of the pre-queue.
//!
//! Each sale has two secrets, both chosen by the shell at creation: the `seed` and the
//! `entry_key`. Before the open, a sale publishes `seed_hash = SHA-256(seed)`, so nobody can
//! predict or steer the order by choosing when or under what name to join. Each identity's
//! draw entry is `HMAC-SHA256(entry_key, identity)`. At the open the pre-queue is ordered by
//! `SHA-256(seed ‖ entry)` (ties, impossible in practice, by the entry) and the seed is
//! revealed; the audit list publishes the entries in drawn order.
//!
//! Anyone holding the seed and the list can recompute the order ([`verify_audit`]); each waiting
//! client is told its own entry over its authenticated connection, so it can find its place.
//! The `entry_key` is never published: without it, nobody can map an entry to an identity,
//! however guessable identities are (member ids are public and time-ordered). The key cannot
//! steer the order either, because the seed was committed to before anyone joined and each
//! entry is fixed by the identity alone.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// Bytes of the secret seed, and of the secret entry key.
pub const SEED_LEN: usize = 32;

/// A fresh secret seed (or entry key), hex-encoded.
pub fn new_seed() -> String {
    let seed: [u8; SEED_LEN] = rand::random();
    hex::encode(seed)
}

/// SHA-256 of the seed's bytes, hex: the commitment published before the open.
pub fn seed_hash(seed_hex: &str) -> String {
    let bytes = hex::decode(seed_hex).unwrap_or_default();
    hex::encode(Sha256::digest(bytes))
}

/// One identity's draw entry: `HMAC-SHA256(entry_key, identity)`, what the audit list shows in
/// its place and what its owner is told.
pub fn entry_bytes(entry_key_hex: &str, identity: &str) -> [u8; 32] {
    let key = hex::decode(entry_key_hex).unwrap_or_default();
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key).expect("hmac takes any key length");
    mac.update(identity.as_bytes());
    mac.finalize().into_bytes().into()
}

/// One identity's draw entry, hex.
pub fn entry(entry_key_hex: &str, identity: &str) -> String {
    hex::encode(entry_bytes(entry_key_hex, identity))
}

/// The key that orders one entry in the draw: `SHA-256(seed ‖ entry)`.
fn draw_key(seed: &[u8], entry: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(seed);
    hasher.update(entry);
    hasher.finalize().into()
}

/// The pre-queue in drawn order: the first identity gets place 1.
pub fn draw_order(seed_hex: &str, entry_key_hex: &str, identities: Vec<String>) -> Vec<String> {
    let seed = hex::decode(seed_hex).unwrap_or_default();
    let mut keyed: Vec<_> = identities
        .into_iter()
        .map(|identity| {
            let entry = entry_bytes(entry_key_hex, &identity);
            ((draw_key(&seed, &entry), entry), identity)
        })
        .collect();
    keyed.sort_unstable_by_key(|keyed| keyed.0);
    keyed.into_iter().map(|(_, identity)| identity).collect()
}

/// The audit list: draw entries (hex) in drawn order.
pub fn audit_list(entry_key_hex: &str, order: &[String]) -> Vec<String> {
    order
        .iter()
        .map(|identity| entry(entry_key_hex, identity))
        .collect()
}

/// Recomputes the order from the revealed seed and the published entries, as an auditor would:
/// true when `published` is in the order the seed gives.
pub fn verify_audit(seed_hex: &str, published: &[String]) -> bool {
    let Ok(seed) = hex::decode(seed_hex) else {
        return false;
    };
    let mut keys = Vec::with_capacity(published.len());
    for entry_hex in published {
        let Ok(entry) = hex::decode(entry_hex) else {
            return false;
        };
        keys.push((draw_key(&seed, &entry), entry));
    }
    keys.windows(2).all(|pair| pair[0] <= pair[1])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identities(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("g:device-{i}")).collect()
    }

    #[test]
    fn the_order_depends_only_on_the_seed_and_the_set() {
        let seed = new_seed();
        let key = new_seed();
        let forward = draw_order(&seed, &key, identities(500));
        let mut reversed = identities(500);
        reversed.reverse();
        assert_eq!(
            forward,
            draw_order(&seed, &key, reversed),
            "join order does not matter"
        );
        assert_ne!(forward, identities(500), "the draw reorders");
        let other = draw_order(&new_seed(), &key, identities(500));
        assert_ne!(forward, other, "another seed gives another order");
    }

    #[test]
    fn an_auditor_can_verify_the_published_list() {
        let seed = new_seed();
        let key = new_seed();
        let order = draw_order(&seed, &key, identities(200));
        let published = audit_list(&key, &order);
        assert!(verify_audit(&seed, &published));
        let mut tampered = published.clone();
        tampered.swap(3, 150);
        assert!(!verify_audit(&seed, &tampered), "a swapped pair is caught");
        assert!(
            !verify_audit(&new_seed(), &published),
            "a wrong seed is caught"
        );
    }

    /// Without the entry key, an entry names nobody: it is neither the identity's plain hash nor
    /// the entry another sale (another key) gives the same identity.
    #[test]
    fn entries_name_nobody_without_the_key() {
        let seed = new_seed();
        let key = new_seed();
        let order = draw_order(&seed, &key, identities(50));
        let published = audit_list(&key, &order);
        for identity in identities(50) {
            let plain = hex::encode(Sha256::digest(identity.as_bytes()));
            assert!(!published.contains(&plain), "{identity} is named");
            assert_ne!(entry(&key, &identity), entry(&new_seed(), &identity));
        }
        let place = order.iter().position(|i| i == "g:device-7").expect("drawn");
        assert_eq!(published[place], entry(&key, "g:device-7"));
    }

    #[test]
    fn the_commitment_matches_the_seed() {
        let seed = new_seed();
        assert_eq!(seed_hash(&seed), seed_hash(&seed));
        assert_ne!(seed_hash(&seed), seed_hash(&new_seed()));
        assert_eq!(seed.len(), SEED_LEN * 2);
    }

    /// Every position is about equally likely for every identity: over many seeds, the first
    /// identity's mean place is near the middle.
    #[test]
    fn the_draw_is_not_biased_by_join_order() {
        let n = 20;
        let trials = 2_000;
        let mut first_place_sum = 0usize;
        for _ in 0..trials {
            let order = draw_order(&new_seed(), &new_seed(), identities(n));
            first_place_sum += order.iter().position(|i| i == "g:device-0").unwrap_or(0) + 1;
        }
        let mean = first_place_sum as f64 / trials as f64;
        // Uniform over 1..=20 has mean 10.5 and a standard error of about 0.13 here.
        assert!((9.5..11.5).contains(&mean), "mean place {mean}");
    }
}
