//! Every constant of the code format and every bound the crate enforces. Nothing a client or a
//! scanner sends makes it allocate past these.

/// Length of one time step of a rotating code, in milliseconds: the app shows a new code every
/// step, counted from the Unix epoch.
pub const STEP_MS: u64 = 15_000;
/// Steps a rotating code is accepted either side of the verifier's own step: its step ±1, so a
/// copy stops working within 30 seconds (at the end of the step after its own) and a phone's
/// clock may be a step off.
pub const STEP_SKEW_MAX: u32 = 1;
/// The code's text prefix for a rotating code (version 1, `R`otating).
pub const PREFIX_ROTATING: &str = "PK1R";
/// The code's text prefix for a printed (static) code (version 1, `P`rinted).
pub const PREFIX_PRINTED: &str = "PK1P";
/// Bytes of a code's payload: performance 8, ticket 8, generation 1, step 4, seal 9, MAC 10.
pub const PAYLOAD_LEN: usize = 40;
/// Characters of a code: the 4-character prefix and 64 base32 characters (40 bytes, no padding).
pub const CODE_LEN: usize = 4 + PAYLOAD_LEN * 8 / 5;
/// Bytes of the truncated HMAC-SHA256 a code carries (80 bits, RFC 2104's lower bound).
pub const MAC_LEN: usize = 10;
/// Bytes of a ticket's seal: shown in every code, it opens the ticket's manifest entry.
pub const SEAL_LEN: usize = 9;
/// Bytes of a ticket's MAC key.
pub const MAC_KEY_LEN: usize = 32;
/// Bytes of an AES-GCM nonce of a manifest entry.
pub const NONCE_LEN: usize = 12;
/// Longest grade, place, holder or discount label in a manifest, in bytes (a Korean syllable
/// takes 3).
pub const LABEL_LEN_MAX: usize = 192;
/// Tickets in one manifest: the largest Korean stadiums seat about 70k.
pub const MANIFEST_TICKETS_MAX: usize = 150_000;
/// Revoked tickets listed in one manifest.
pub const MANIFEST_REVOKED_MAX: usize = 300_000;
/// Bytes of one signed manifest: refused before any decoding past this.
pub const MANIFEST_BYTES_MAX: usize = 64 << 20;
/// The door's bounds are the ledger core's (scans per ticket, scans per upload).
pub use picket_ledger_core::limits::{SCANS_PER_TICKET_MAX, UPLOAD_SCANS_MAX};
/// Largest rendered module (one QR "pixel") in PNG pixels.
pub const MODULE_PX_MAX: u32 = 32;
