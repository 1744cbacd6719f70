//! Verifying a presented code against what the verifier knows of the performance's tickets: the
//! server's [`Roster`] online, an opened manifest offline. Both answer through [`Material`], so
//! the rules and their order are one function, [`verify`].

use std::collections::BTreeMap;

use picket_ledger_core::{DoorSpec, PerformanceId, TicketId};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

use crate::code::{Code, CodeKind, step_at};
use crate::limits::{MAC_KEY_LEN, STEP_SKEW_MAX};
use crate::refusal::Refusal;
use crate::secret::{Seal, TicketSecret};

/// A performance's rules at the door.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorRules {
    pub performance: PerformanceId,
    /// Scans before this are refused as not yet open.
    pub doors_open_ms: u64,
    /// Whether printed (static) codes are accepted: a per-show setting, off by default.
    pub printed_codes: bool,
    /// Whether an exit scan lets the ticket in again.
    pub reentry: bool,
}

impl DoorRules {
    /// The rules of a performance as its ledger spec sets them (`door.static_tickets`,
    /// `door.reentry`); the doors open at `doors_open_ms`, which the catalog knows.
    pub fn for_door(performance: PerformanceId, door: &DoorSpec, doors_open_ms: u64) -> Self {
        DoorRules {
            performance,
            doors_open_ms,
            printed_codes: door.static_tickets,
            reentry: door.reentry,
        }
    }
}

/// What the door must check for one ticket, shown to staff on admission.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorFacts {
    /// Price grade ("VIP석").
    pub grade: String,
    /// Seat or zone ("1층 B구역 7열 12번", "스탠딩 A").
    pub place: String,
    /// Who holds it, as far as staff need it (a name, or the last digits of a phone number).
    pub holder: String,
    /// A discount whose proof staff must see ("장애인 (동반 1인)"), if any.
    pub proof: Option<String>,
}

/// Where a ticket stands, before any secret is looked at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TicketStatus {
    /// This performance never issued it (or the manifest predates it).
    Unknown,
    Revoked,
    /// Valid, with its current secret generation.
    Valid {
        generation: u8,
    },
}

/// A valid ticket's MAC key and door facts, available only to a verifier holding the code's
/// seal.
#[derive(Clone, PartialEq, Eq)]
pub struct Opened {
    pub mac_key: [u8; MAC_KEY_LEN],
    pub facts: DoorFacts,
}

/// What a verifier knows of one performance's tickets.
pub trait Material {
    fn rules(&self) -> &DoorRules;
    fn status(&self, ticket: TicketId) -> TicketStatus;
    /// The ticket's current key and facts if `seal` is its current seal; `None` otherwise.
    fn open(&self, ticket: TicketId, seal: &Seal) -> Option<Opened>;
}

/// A code that passed every check of [`verify`]: admit it unless the check-in state says
/// otherwise.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verified {
    pub performance: PerformanceId,
    pub ticket: TicketId,
    pub generation: u8,
    /// A printed code is marked as such at the door.
    pub kind: CodeKind,
    pub facts: DoorFacts,
}

/// Checks a presented code, in this order: it parses (else `forged`), names this performance
/// (`wrong_performance`), its ticket is known (`forged`) and not revoked nor of an older
/// generation (`revoked`), its seal opens the ticket and its MAC is right (`forged`), a printed
/// code is allowed (`revoked`), the doors are open (`not_yet_open`), and a rotating code's step
/// is within ±1 of `now_ms`'s (`code_expired`). The code's unauthenticated claims (performance,
/// ticket, generation) are read before its MAC is checked: each can only pick a refusal, never
/// admit.
pub fn verify(code: &[u8], now_ms: u64, material: &impl Material) -> Result<Verified, Refusal> {
    let code = Code::parse(code).map_err(|_| Refusal::Forged)?;
    let rules = material.rules();
    if code.performance != rules.performance {
        return Err(Refusal::WrongPerformance);
    }
    match material.status(code.ticket) {
        TicketStatus::Unknown => return Err(Refusal::Forged),
        TicketStatus::Revoked => return Err(Refusal::Revoked),
        TicketStatus::Valid { generation } if code.generation < generation => {
            return Err(Refusal::Revoked);
        }
        TicketStatus::Valid { generation } if code.generation > generation => {
            return Err(Refusal::Forged);
        }
        TicketStatus::Valid { .. } => {}
    }
    let opened = material
        .open(code.ticket, &code.seal)
        .filter(|opened| code.mac_matches(&opened.mac_key))
        .ok_or(Refusal::Forged)?;
    if code.kind == CodeKind::Printed && !rules.printed_codes {
        return Err(Refusal::Revoked);
    }
    if now_ms < rules.doors_open_ms {
        return Err(Refusal::NotYetOpen);
    }
    if code.kind == CodeKind::Rotating && step_at(now_ms).abs_diff(code.step) > STEP_SKEW_MAX {
        return Err(Refusal::CodeExpired);
    }
    Ok(Verified {
        performance: code.performance,
        ticket: code.ticket,
        generation: code.generation,
        kind: code.kind,
        facts: opened.facts,
    })
}

/// One ticket as the server knows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RosterTicket {
    pub secret: TicketSecret,
    pub facts: DoorFacts,
    pub revoked: bool,
}

/// The server's view of a performance's tickets: the online verifier's [`Material`] and what
/// a manifest is built from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Roster {
    pub rules: DoorRules,
    pub tickets: BTreeMap<TicketId, RosterTicket>,
}

impl Material for Roster {
    fn rules(&self) -> &DoorRules {
        &self.rules
    }

    fn status(&self, ticket: TicketId) -> TicketStatus {
        match self.tickets.get(&ticket) {
            None => TicketStatus::Unknown,
            Some(found) if found.revoked => TicketStatus::Revoked,
            Some(found) => TicketStatus::Valid {
                generation: found.secret.generation,
            },
        }
    }

    fn open(&self, ticket: TicketId, seal: &Seal) -> Option<Opened> {
        let found = self.tickets.get(&ticket)?;
        let same: bool = found.secret.seal.0.ct_eq(&seal.0).into();
        same.then(|| Opened {
            mac_key: found.secret.mac_key,
            facts: found.facts.clone(),
        })
    }
}
