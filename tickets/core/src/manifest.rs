//! The offline manifest: everything a scanner needs to verify one performance's codes with no
//! network, signed with the performance's Ed25519 key.
//!
//! Bytes: `PKM1` ‖ Ed25519 signature (64 bytes) ‖ body, where the signature is over `PKM1` ‖
//! body and the body is the postcard encoding of [`Manifest`]. A scanner has the performance's
//! public key from the API (over its authenticated session) and verifies before reading anything.
//!
//! Each ticket's MAC key, holder and discount are sealed: AES-256-GCM under
//! `HMAC-SHA256(key = seal, "picket ticket seal v1")`, with the entry's nonce and the associated
//! data `PKM1` ‖ performance ‖ ticket ‖ generation (big-endian). The seal is in every code the
//! holder shows and nowhere in the manifest, so a scanner opens a ticket's entry only when its
//! code is presented: a lost scanner leaks no attendee's details, and the manifest alone mints
//! no codes (a MAC key is only readable with its seal).

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use hmac::{Hmac, Mac};
use picket_ledger_core::{PerformanceId, TicketId};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::limits::*;
use crate::secret::Seal;
use crate::verify::{DoorFacts, DoorRules, Material, Opened, Roster, TicketStatus};

/// The manifest's magic and version; also the signature's and the seal's domain label.
const MAGIC: &[u8; 4] = b"PKM1";
const SIGNATURE_LEN: usize = 64;
const SEAL_KEY_LABEL: &[u8] = b"picket ticket seal v1";

/// A performance's tickets for offline scanners.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub rules: DoorRules,
    /// When the server made it: scanners show its age, and sync again before the doors open.
    pub issued_at_ms: u64,
    /// Valid tickets, by ascending ticket id.
    pub tickets: Vec<Entry>,
    /// Cancelled, refunded or transferred tickets, ascending.
    pub revoked: Vec<TicketId>,
}

/// One valid ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub ticket: TicketId,
    pub generation: u8,
    pub grade: String,
    pub place: String,
    pub nonce: [u8; NONCE_LEN],
    /// AES-256-GCM of the postcard encoding of [`Sealed`], tag appended.
    pub sealed: Vec<u8>,
}

/// What an entry's seal hides.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    pub mac_key: [u8; MAC_KEY_LEN],
    pub holder: String,
    pub proof: Option<String>,
}

/// Why a manifest was refused. A scanner keeps the manifest it had.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ManifestError {
    /// More than [`MANIFEST_BYTES_MAX`] bytes.
    TooLarge,
    /// Not `PKM1` and a signature.
    Magic,
    /// Not signed by this performance's key.
    Signature,
    /// The body does not decode.
    Body,
    /// Signed, but for another performance.
    WrongPerformance,
    /// Tickets or revocations out of order or repeated, a label too long, or a list too long.
    Invalid,
}

/// A performance's Ed25519 key that signs its manifests.
pub struct ManifestKey(SigningKey);

impl ManifestKey {
    /// From 32 random bytes the server keeps per performance.
    pub fn from_seed(seed: &[u8; 32]) -> Self {
        ManifestKey(SigningKey::from_bytes(seed))
    }

    /// The public key scanners verify with.
    pub fn public(&self) -> [u8; 32] {
        self.0.verifying_key().to_bytes()
    }
}

fn seal_cipher(seal: &Seal) -> Aes256Gcm {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&seal.0).expect("HMAC takes any key");
    mac.update(SEAL_KEY_LABEL);
    let key: [u8; 32] = mac.finalize().into_bytes().into();
    Aes256Gcm::new(&key.into())
}

fn associated_data(performance: PerformanceId, ticket: TicketId, generation: u8) -> [u8; 21] {
    let mut aad = [0; 21];
    aad[..4].copy_from_slice(MAGIC);
    aad[4..12].copy_from_slice(&performance.0.to_be_bytes());
    aad[12..20].copy_from_slice(&ticket.0.to_be_bytes());
    aad[20] = generation;
    aad
}

fn sealed_fits(holder: &str, proof: Option<&str>) -> bool {
    holder.len() <= LABEL_LEN_MAX && proof.is_none_or(|p| p.len() <= LABEL_LEN_MAX)
}

/// An entry's nonce: distinct per build (a fresh seed), and per ticket, generation and issue
/// time besides, so even a seed reused by mistake does not repeat a nonce for changed contents
/// unless the manifest's time is the same too.
fn nonce_for(
    nonce_seed: &[u8; 32],
    ticket: TicketId,
    generation: u8,
    issued_at_ms: u64,
) -> [u8; NONCE_LEN] {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(nonce_seed).expect("HMAC takes any key");
    mac.update(&ticket.0.to_be_bytes());
    mac.update(&[generation]);
    mac.update(&issued_at_ms.to_be_bytes());
    let full = mac.finalize().into_bytes();
    full[..NONCE_LEN].try_into().expect("12 of 32 bytes")
}

impl Manifest {
    /// The manifest of a roster at `issued_at_ms`. `nonce_seed` must be 32 fresh random bytes
    /// for every build: the entries' nonces are derived from it, and a seal's key never sees
    /// the same nonce twice.
    /// A roster with a label over [`LABEL_LEN_MAX`] or too many tickets is refused
    /// (`Invalid`), as a scanner would refuse its manifest.
    pub fn build(
        roster: &Roster,
        issued_at_ms: u64,
        nonce_seed: &[u8; 32],
    ) -> Result<Manifest, ManifestError> {
        let performance = roster.rules.performance;
        let mut tickets = Vec::new();
        let mut revoked = Vec::new();
        for (&ticket, found) in &roster.tickets {
            if found.revoked {
                revoked.push(ticket);
                continue;
            }
            if !sealed_fits(&found.facts.holder, found.facts.proof.as_deref()) {
                return Err(ManifestError::Invalid);
            }
            let sealed = Sealed {
                mac_key: found.secret.mac_key,
                holder: found.facts.holder.clone(),
                proof: found.facts.proof.clone(),
            };
            let plain = postcard::to_stdvec(&sealed).expect("postcard encodes to a Vec");
            let nonce = nonce_for(nonce_seed, ticket, found.secret.generation, issued_at_ms);
            let aad = associated_data(performance, ticket, found.secret.generation);
            let sealed = seal_cipher(&found.secret.seal)
                .encrypt(
                    &Nonce::from(nonce),
                    Payload {
                        msg: &plain,
                        aad: &aad,
                    },
                )
                .expect("AES-GCM seals any short message");
            tickets.push(Entry {
                ticket,
                generation: found.secret.generation,
                grade: found.facts.grade.clone(),
                place: found.facts.place.clone(),
                nonce,
                sealed,
            });
        }
        let manifest = Manifest {
            rules: roster.rules.clone(),
            issued_at_ms,
            tickets,
            revoked,
        };
        manifest.check()?;
        Ok(manifest)
    }

    /// `PKM1` ‖ signature ‖ body.
    pub fn sign(&self, key: &ManifestKey) -> Vec<u8> {
        let body = postcard::to_stdvec(self).expect("postcard encodes to a Vec");
        let mut signed = Vec::with_capacity(MAGIC.len() + body.len());
        signed.extend_from_slice(MAGIC);
        signed.extend_from_slice(&body);
        let signature = key.0.sign(&signed);
        let mut bytes = Vec::with_capacity(MAGIC.len() + SIGNATURE_LEN + body.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&signature.to_bytes());
        bytes.extend_from_slice(&body);
        bytes
    }

    /// Checks the signature with the performance's public key, then decodes and checks the body.
    pub fn open(
        bytes: &[u8],
        public: &[u8; 32],
        performance: PerformanceId,
    ) -> Result<Manifest, ManifestError> {
        if bytes.len() > MANIFEST_BYTES_MAX {
            return Err(ManifestError::TooLarge);
        }
        if bytes.len() < MAGIC.len() + SIGNATURE_LEN || &bytes[..MAGIC.len()] != MAGIC {
            return Err(ManifestError::Magic);
        }
        let (signature, body) = bytes[MAGIC.len()..].split_at(SIGNATURE_LEN);
        let key = VerifyingKey::from_bytes(public).map_err(|_| ManifestError::Signature)?;
        let signature = Signature::from_slice(signature).map_err(|_| ManifestError::Signature)?;
        let mut signed = Vec::with_capacity(MAGIC.len() + body.len());
        signed.extend_from_slice(MAGIC);
        signed.extend_from_slice(body);
        key.verify_strict(&signed, &signature)
            .map_err(|_| ManifestError::Signature)?;
        let manifest: Manifest = postcard::from_bytes(body).map_err(|_| ManifestError::Body)?;
        if manifest.rules.performance != performance {
            return Err(ManifestError::WrongPerformance);
        }
        manifest.check()?;
        Ok(manifest)
    }

    fn check(&self) -> Result<(), ManifestError> {
        let ascending = |ids: &mut dyn Iterator<Item = TicketId>| {
            let ids: Vec<TicketId> = ids.collect();
            ids.windows(2).all(|pair| pair[0] < pair[1])
        };
        let labels_fit = self
            .tickets
            .iter()
            .all(|e| e.grade.len() <= LABEL_LEN_MAX && e.place.len() <= LABEL_LEN_MAX);
        let fits = self.tickets.len() <= MANIFEST_TICKETS_MAX
            && self.revoked.len() <= MANIFEST_REVOKED_MAX
            && labels_fit
            && ascending(&mut self.tickets.iter().map(|e| e.ticket))
            && ascending(&mut self.revoked.iter().copied());
        fits.then_some(()).ok_or(ManifestError::Invalid)
    }

    fn entry(&self, ticket: TicketId) -> Option<&Entry> {
        let at = self
            .tickets
            .binary_search_by_key(&ticket, |e| e.ticket)
            .ok()?;
        Some(&self.tickets[at])
    }
}

impl Material for Manifest {
    fn rules(&self) -> &DoorRules {
        &self.rules
    }

    fn status(&self, ticket: TicketId) -> TicketStatus {
        if self.revoked.binary_search(&ticket).is_ok() {
            return TicketStatus::Revoked;
        }
        match self.entry(ticket) {
            Some(entry) => TicketStatus::Valid {
                generation: entry.generation,
            },
            None => TicketStatus::Unknown,
        }
    }

    fn open(&self, ticket: TicketId, seal: &Seal) -> Option<Opened> {
        let entry = self.entry(ticket)?;
        let aad = associated_data(self.rules.performance, ticket, entry.generation);
        let plain = seal_cipher(seal)
            .decrypt(
                &Nonce::from(entry.nonce),
                Payload {
                    msg: &entry.sealed,
                    aad: &aad,
                },
            )
            .ok()?;
        let sealed: Sealed = postcard::from_bytes(&plain).ok()?;
        sealed_fits(&sealed.holder, sealed.proof.as_deref()).then(|| Opened {
            mac_key: sealed.mac_key,
            facts: DoorFacts {
                grade: entry.grade.clone(),
                place: entry.place.clone(),
                holder: sealed.holder,
                proof: sealed.proof,
            },
        })
    }
}
