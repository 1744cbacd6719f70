//! The audited draw of the pre-queue.
//!
//! Before the open, a sale publishes `seed_hash = SHA-256(seed)`; the seed itself stays secret,
//! so nobody can predict or steer the order by choosing when or under what name to join. At the
//! open the pre-queue is ordered by `SHA-256(seed ‖ SHA-256(identity))` (ties, impossible in
//! practice, by the identity hash), and the seed is revealed. Anyone holding the seed and the
//! published list of identity hashes can recompute the order; each user can find their own entry
//! by hashing their identity. Identities themselves are never published.

use sha2::{Digest, Sha256};

/// Bytes of the secret seed.
pub const SEED_LEN: usize = 32;

/// A fresh secret seed, hex-encoded.
pub fn new_seed() -> String {
    let seed: [u8; SEED_LEN] = rand::random();
    hex::encode(seed)
}

/// SHA-256 of the seed's bytes, hex: the commitment published before the open.
pub fn seed_hash(seed_hex: &str) -> String {
    let bytes = hex::decode(seed_hex).unwrap_or_default();
    hex::encode(Sha256::digest(bytes))
}

/// SHA-256 of an identity, hex: what the audit list shows instead of the identity.
pub fn identity_hash(identity: &str) -> [u8; 32] {
    Sha256::digest(identity.as_bytes()).into()
}

/// The key that orders one identity in the draw.
fn draw_key(seed: &[u8], identity: &str) -> ([u8; 32], [u8; 32]) {
    let hashed = identity_hash(identity);
    let mut hasher = Sha256::new();
    hasher.update(seed);
    hasher.update(hashed);
    (hasher.finalize().into(), hashed)
}

/// The pre-queue in drawn order: the first identity gets place 1.
pub fn draw_order(seed_hex: &str, identities: Vec<String>) -> Vec<String> {
    let seed = hex::decode(seed_hex).unwrap_or_default();
    let mut keyed: Vec<_> = identities
        .into_iter()
        .map(|identity| (draw_key(&seed, &identity), identity))
        .collect();
    keyed.sort_unstable_by_key(|entry| entry.0);
    keyed.into_iter().map(|(_, identity)| identity).collect()
}

/// The audit list: identity hashes (hex) in drawn order.
pub fn audit_list(order: &[String]) -> Vec<String> {
    order
        .iter()
        .map(|i| hex::encode(identity_hash(i)))
        .collect()
}

/// Recomputes the order from the revealed seed and the published identity hashes, as an
/// auditor would: true when `published` is in the order the seed gives.
pub fn verify_audit(seed_hex: &str, published: &[String]) -> bool {
    let Ok(seed) = hex::decode(seed_hex) else {
        return false;
    };
    let mut keys = Vec::with_capacity(published.len());
    for hashed_hex in published {
        let Ok(hashed) = hex::decode(hashed_hex) else {
            return false;
        };
        let mut hasher = Sha256::new();
        hasher.update(&seed);
        hasher.update(&hashed);
        let key: [u8; 32] = hasher.finalize().into();
        keys.push((key, hashed));
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
        let forward = draw_order(&seed, identities(500));
        let mut reversed = identities(500);
        reversed.reverse();
        assert_eq!(
            forward,
            draw_order(&seed, reversed),
            "join order does not matter"
        );
        assert_ne!(forward, identities(500), "the draw reorders");
        let other = draw_order(&new_seed(), identities(500));
        assert_ne!(forward, other, "another seed gives another order");
    }

    #[test]
    fn an_auditor_can_verify_the_published_list() {
        let seed = new_seed();
        let order = draw_order(&seed, identities(200));
        let published = audit_list(&order);
        assert!(verify_audit(&seed, &published));
        let mut tampered = published.clone();
        tampered.swap(3, 150);
        assert!(!verify_audit(&seed, &tampered), "a swapped pair is caught");
        assert!(
            !verify_audit(&new_seed(), &published),
            "a wrong seed is caught"
        );
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
            let order = draw_order(&new_seed(), identities(n));
            first_place_sum += order.iter().position(|i| i == "g:device-0").unwrap_or(0) + 1;
        }
        let mean = first_place_sum as f64 / trials as f64;
        // Uniform over 1..=20 has mean 10.5 and a standard error of about 0.13 here.
        assert!((9.5..11.5).contains(&mean), "mean place {mean}");
    }
}
