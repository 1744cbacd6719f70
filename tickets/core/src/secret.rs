//! A ticket's secret: what the server delivers to the holder's device, and nothing else has.
//!
//! Its `mac_key` signs each code; its `seal` is shown in every code and opens the ticket's entry
//! of the offline manifest (see `manifest.rs`). A new `generation` (a rebinding to another device,
//! a transfer) is a new secret, and codes of an older generation are refused as revoked.

use hmac::{Hmac, Mac};
use picket_ledger_core::{PerformanceId, TicketId};
use sha2::Sha256;

use crate::limits::{MAC_KEY_LEN, SEAL_LEN};

/// Shown in every code of a ticket; opens its manifest entry.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Seal(pub [u8; SEAL_LEN]);

/// One generation of one ticket's secret.
#[derive(Clone, PartialEq, Eq)]
pub struct TicketSecret {
    pub generation: u8,
    pub seal: Seal,
    pub mac_key: [u8; MAC_KEY_LEN],
}

// Keys never reach logs.
impl std::fmt::Debug for Seal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Seal(..)")
    }
}

impl std::fmt::Debug for TicketSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TicketSecret")
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

/// Domain label of [`TicketSecret::derive`].
const DERIVE_LABEL: &[u8] = b"picket ticket secret v1";

impl TicketSecret {
    /// The secret of `generation` of a ticket under a performance's master key (32 random bytes
    /// the server keeps): the server stores one key per performance, not one per ticket, and
    /// derives the same secret again whenever it needs it.
    ///
    /// `mac_key = HMAC-SHA256(master, label ‖ "mac" ‖ performance ‖ ticket ‖ generation)`,
    /// `seal = HMAC-SHA256(master, label ‖ "seal" ‖ …)[..9]`, integers big-endian.
    pub fn derive(
        master: &[u8; 32],
        performance: PerformanceId,
        ticket: TicketId,
        generation: u8,
    ) -> Self {
        let block = |purpose: &[u8]| -> [u8; 32] {
            let mut mac = Hmac::<Sha256>::new_from_slice(master).expect("HMAC takes any key");
            mac.update(DERIVE_LABEL);
            mac.update(purpose);
            mac.update(&performance.0.to_be_bytes());
            mac.update(&ticket.0.to_be_bytes());
            mac.update(&[generation]);
            mac.finalize().into_bytes().into()
        };
        let mut seal = [0; SEAL_LEN];
        seal.copy_from_slice(&block(b"seal")[..SEAL_LEN]);
        TicketSecret {
            generation,
            seal: Seal(seal),
            mac_key: block(b"mac"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generations_performances_and_tickets_get_unrelated_secrets() {
        let master = [7; 32];
        let base = TicketSecret::derive(&master, PerformanceId(1), TicketId(2), 0);
        assert_eq!(
            base,
            TicketSecret::derive(&master, PerformanceId(1), TicketId(2), 0)
        );
        for other in [
            TicketSecret::derive(&master, PerformanceId(1), TicketId(2), 1),
            TicketSecret::derive(&master, PerformanceId(2), TicketId(2), 0),
            TicketSecret::derive(&master, PerformanceId(1), TicketId(3), 0),
            TicketSecret::derive(&[8; 32], PerformanceId(1), TicketId(2), 0),
        ] {
            assert_ne!(other.mac_key, base.mac_key);
            assert_ne!(other.seal, base.seal);
        }
        assert_eq!(format!("{base:?}"), "TicketSecret { generation: 0, .. }");
    }
}
