//! Who a connection is: `m:<member id>` for members, `g:<device id>` for guests. Every tab and
//! device of one identity shares one place in a queue.

use picket_ledger_core::ActorId;
use sha2::{Digest, Sha256};

/// Shortest guest device id: the app generates it at random on install and keeps it secret, so
/// nobody can guess another device's id and share its place.
pub const DEVICE_ID_LEN_MIN: usize = 16;
/// Guests' ledger actor ids have the top bit set; members' are their member ids (below 2^63).
const GUEST_BIT: u64 = 1 << 63;

pub fn member(sub: u64) -> String {
    format!("m:{sub}")
}

pub fn guest(device: &str) -> String {
    format!("g:{device}")
}

/// The ledger actor an identity books as.
pub fn actor_of(identity: &str) -> ActorId {
    if let Some(sub) = identity
        .strip_prefix("m:")
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|sub| *sub < GUEST_BIT)
    {
        return ActorId(sub);
    }
    let digest = Sha256::digest(identity.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    ActorId(u64::from_be_bytes(first) | GUEST_BIT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_and_guests_never_share_an_actor() {
        assert_eq!(actor_of(&member(42)), ActorId(42));
        let guest_actor = actor_of(&guest("device-0123456789ab"));
        assert!(guest_actor.0 & GUEST_BIT != 0);
        assert_eq!(guest_actor, actor_of(&guest("device-0123456789ab")));
        assert_ne!(guest_actor, actor_of(&guest("device-0123456789ac")));
    }
}
