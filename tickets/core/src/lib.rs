//! Rotating QR ticket codes and the door's rules, pure: no I/O, no clock, no randomness (time
//! and random bytes are arguments). Used by the API and the gateway (issuing secrets, online
//! check-in, manifests) and by the scanner (offline verification).
//!
//! - `code.rs`: the code format v1 and its total parser; `secret.rs`: a ticket's secret.
//! - `verify.rs`: [`verify`], the one order of checks online and offline, over [`Material`]
//!   (the server's [`Roster`], or a [`Manifest`]); `refusal.rs`: the typed results.
//! - `manifest.rs`: the signed offline manifest with sealed per-ticket entries.
//! - `checkin.rs`: a scanner's book of who is inside, over the ledger core's door rules
//!   (`picket_ledger_core::door`), so offline and online decide identically.
//! - `render.rs`: SVG and PNG. `base32.rs`, `limits.rs`: the encoding and every bound.
//!
//! docs/protocol.md, "Ticket codes", is the format for app developers.

mod base32;
mod checkin;
mod code;
pub mod limits;
mod manifest;
mod refusal;
pub mod render;
mod secret;
mod verify;

pub use base32::Base32Error;
pub use checkin::{CheckIns, EntryScan, Merged};
// The door's rules are the ledger core's: the same types online and offline.
pub use code::{Code, CodeKind, ParseError, step_at};
pub use manifest::{Entry, Manifest, ManifestError, ManifestKey, Sealed};
pub use picket_ledger_core::door::{ExitRefused, Presence, UploadTooLarge};
pub use picket_ledger_core::{
    Conflict, Direction, GateId, OfflineScan, Scan, ScanSource as Source,
};
pub use refusal::Refusal;
pub use secret::{Seal, TicketSecret};
pub use verify::{
    DoorFacts, DoorRules, Material, Opened, Roster, RosterTicket, TicketStatus, Verified, verify,
};
