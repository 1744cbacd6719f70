//! The ticket code (format v1): what the QR code encodes.
//!
//! Text: a 4-character prefix (`PK1R` rotating, `PK1P` printed) and the base32 (RFC 4648, upper
//! case, no padding) of a 40-byte payload:
//!
//! | bytes | field |
//! |---|---|
//! | 0..8 | performance id, u64 big-endian |
//! | 8..16 | ticket id, u64 big-endian |
//! | 16 | secret generation |
//! | 17..21 | time step, u32 big-endian: ⌊Unix ms / 15000⌋; 0 in a printed code |
//! | 21..30 | the ticket's seal |
//! | 30..40 | HMAC-SHA256(mac_key, prefix ‖ bytes 0..30), first 10 bytes |
//!
//! 68 characters, all in the QR alphanumeric set: a version 4 QR code at error correction M.
//! Parsing is total: every byte string is a [`Code`] or a [`ParseError`].

use hmac::{Hmac, Mac};
use picket_ledger_core::{PerformanceId, TicketId};
use sha2::Sha256;

use crate::base32::{self, Base32Error};
use crate::limits::*;
use crate::secret::{Seal, TicketSecret};

/// Rotating (the app's, a new one every step) or printed (static, where the show allows it).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CodeKind {
    Rotating,
    Printed,
}

impl CodeKind {
    pub fn prefix(self) -> &'static str {
        match self {
            CodeKind::Rotating => PREFIX_ROTATING,
            CodeKind::Printed => PREFIX_PRINTED,
        }
    }
}

/// A parsed code. Its fields are claims until [`crate::verify`] checks the MAC.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Code {
    pub kind: CodeKind,
    pub performance: PerformanceId,
    pub ticket: TicketId,
    pub generation: u8,
    pub step: u32,
    pub seal: Seal,
    pub mac: [u8; MAC_LEN],
}

/// Why a byte string is not a code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// A code is exactly [`CODE_LEN`] characters.
    Length { len: usize },
    /// Neither `PK1R` nor `PK1P` (another version, or not a Picket code).
    Prefix,
    /// The payload is not canonical base32.
    Base32(Base32Error),
    /// A printed code's step is always 0.
    PrintedStep,
}

/// The time step of a Unix time in milliseconds. Saturates in the year 4011.
pub fn step_at(now_ms: u64) -> u32 {
    u32::try_from(now_ms / STEP_MS).unwrap_or(u32::MAX)
}

/// Bytes 0..30 of the payload: everything the MAC covers after the prefix.
const SIGNED_LEN: usize = PAYLOAD_LEN - MAC_LEN;

impl Code {
    /// The code a holder's app shows at `now_ms`.
    pub fn rotating(
        performance: PerformanceId,
        ticket: TicketId,
        secret: &TicketSecret,
        now_ms: u64,
    ) -> Code {
        Code::signed(
            CodeKind::Rotating,
            performance,
            ticket,
            secret,
            step_at(now_ms),
        )
    }

    /// The static code of a printed or e-mailed ticket.
    pub fn printed(performance: PerformanceId, ticket: TicketId, secret: &TicketSecret) -> Code {
        Code::signed(CodeKind::Printed, performance, ticket, secret, 0)
    }

    fn signed(
        kind: CodeKind,
        performance: PerformanceId,
        ticket: TicketId,
        secret: &TicketSecret,
        step: u32,
    ) -> Code {
        let mut code = Code {
            kind,
            performance,
            ticket,
            generation: secret.generation,
            step,
            seal: secret.seal,
            mac: [0; MAC_LEN],
        };
        let full = code.hmac(&secret.mac_key).finalize().into_bytes();
        code.mac.copy_from_slice(&full[..MAC_LEN]);
        code
    }

    fn signed_bytes(&self) -> [u8; SIGNED_LEN] {
        let mut bytes = [0; SIGNED_LEN];
        bytes[0..8].copy_from_slice(&self.performance.0.to_be_bytes());
        bytes[8..16].copy_from_slice(&self.ticket.0.to_be_bytes());
        bytes[16] = self.generation;
        bytes[17..21].copy_from_slice(&self.step.to_be_bytes());
        bytes[21..30].copy_from_slice(&self.seal.0);
        bytes
    }

    /// HMAC-SHA256 keyed with `mac_key`, fed the prefix and payload bytes 0..30.
    fn hmac(&self, mac_key: &[u8; MAC_KEY_LEN]) -> Hmac<Sha256> {
        let mut mac = Hmac::<Sha256>::new_from_slice(mac_key).expect("HMAC takes any key");
        mac.update(self.kind.prefix().as_bytes());
        mac.update(&self.signed_bytes());
        mac
    }

    /// Whether the code's MAC is right under `mac_key`, compared in constant time.
    pub fn mac_matches(&self, mac_key: &[u8; MAC_KEY_LEN]) -> bool {
        self.hmac(mac_key).verify_truncated_left(&self.mac).is_ok()
    }

    pub fn payload(&self) -> [u8; PAYLOAD_LEN] {
        let mut payload = [0; PAYLOAD_LEN];
        payload[..SIGNED_LEN].copy_from_slice(&self.signed_bytes());
        payload[SIGNED_LEN..].copy_from_slice(&self.mac);
        payload
    }

    pub fn parse(text: &[u8]) -> Result<Code, ParseError> {
        if text.len() != CODE_LEN {
            return Err(ParseError::Length { len: text.len() });
        }
        let (prefix, rest) = text.split_at(4);
        let kind = if prefix == PREFIX_ROTATING.as_bytes() {
            CodeKind::Rotating
        } else if prefix == PREFIX_PRINTED.as_bytes() {
            CodeKind::Printed
        } else {
            return Err(ParseError::Prefix);
        };
        let bytes = base32::decode(rest).map_err(|e| ParseError::Base32(offset(e)))?;
        let payload: [u8; PAYLOAD_LEN] =
            bytes.try_into().expect("64 base32 characters are 40 bytes");
        let code = Code::from_payload(kind, &payload);
        if kind == CodeKind::Printed && code.step != 0 {
            return Err(ParseError::PrintedStep);
        }
        Ok(code)
    }

    fn from_payload(kind: CodeKind, payload: &[u8; PAYLOAD_LEN]) -> Code {
        let u64_at = |at: usize| u64::from_be_bytes(payload[at..at + 8].try_into().expect("8"));
        Code {
            kind,
            performance: PerformanceId(u64_at(0)),
            ticket: TicketId(u64_at(8)),
            generation: payload[16],
            step: u32::from_be_bytes(payload[17..21].try_into().expect("4")),
            seal: Seal(payload[21..30].try_into().expect("9")),
            mac: payload[30..40].try_into().expect("10"),
        }
    }
}

/// Character positions counted from the start of the whole code, not of its payload.
fn offset(error: Base32Error) -> Base32Error {
    match error {
        Base32Error::Character { at } => Base32Error::Character { at: at + 4 },
        other => other,
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.kind.prefix())?;
        f.write_str(&base32::encode(&self.payload()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> TicketSecret {
        TicketSecret::derive(&[1; 32], PerformanceId(77), TicketId(5), 2)
    }

    #[test]
    fn a_code_round_trips_through_its_text() {
        let code = Code::rotating(PerformanceId(77), TicketId(5), &secret(), 1_764_036_000_000);
        let text = code.to_string();
        assert_eq!(text.len(), CODE_LEN);
        assert!(text.starts_with("PK1R"));
        assert_eq!(Code::parse(text.as_bytes()), Ok(code.clone()));
        assert_eq!(code.step, 117_602_400);
        assert!(code.mac_matches(&secret().mac_key));
        assert!(!code.mac_matches(&[0; 32]));
    }

    #[test]
    fn every_malformed_text_gets_its_own_error() {
        let text = Code::printed(PerformanceId(77), TicketId(5), &secret()).to_string();
        assert!(Code::parse(text.as_bytes()).is_ok());
        assert_eq!(Code::parse(b""), Err(ParseError::Length { len: 0 }));
        let long = format!("{text}A");
        assert_eq!(
            Code::parse(long.as_bytes()),
            Err(ParseError::Length { len: 69 })
        );
        let other_version = text.replacen("PK1P", "PK2P", 1);
        assert_eq!(
            Code::parse(other_version.as_bytes()),
            Err(ParseError::Prefix)
        );
        let lower = format!("{}{}", &text[..10], text[10..].to_lowercase());
        assert_eq!(
            Code::parse(lower.as_bytes()),
            Err(ParseError::Base32(Base32Error::Character { at: 10 }))
        );
        // A rotating code's bytes under the printed prefix: printed codes have step 0.
        let rotating = Code::rotating(PerformanceId(77), TicketId(5), &secret(), 60_000);
        let relabelled = rotating.to_string().replacen("PK1R", "PK1P", 1);
        assert_eq!(
            Code::parse(relabelled.as_bytes()),
            Err(ParseError::PrintedStep)
        );
    }

    #[test]
    fn steps_are_fifteen_seconds_of_unix_time() {
        assert_eq!(step_at(0), 0);
        assert_eq!(step_at(14_999), 0);
        assert_eq!(step_at(15_000), 1);
        assert_eq!(step_at(u64::MAX), u32::MAX);
    }
}
