//! Check-in at the door: who is inside, as a pure state machine over scans.
//!
//! A ticket's scans are kept in scan-time order, and its state is their fold: an entry while
//! outside admits, an exit while inside lets it out (only where the show allows re-entry), an
//! entry while inside is a duplicate. A live scan (online, or on a scanner's own book) is refused
//! as `already_used` while the ticket is inside. Offline scanners' uploads are merged by scan
//! time, first scan wins: a duplicate entry that its scanner had admitted is a [`Conflict`],
//! reported to staff and the seller (the same ticket let in twice).

use std::collections::{BTreeMap, BTreeSet};

use picket_ledger_core::TicketId;
use serde::{Deserialize, Serialize};

use crate::limits::{SCANS_PER_TICKET_MAX, UPLOAD_SCANS_MAX};
use crate::refusal::{GateId, Refusal};
use crate::verify::Verified;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Entry,
    Exit,
}

/// Where a scan was decided. Offline scans carry their scanner and a nonce the scanner chose,
/// so an upload repeated after a lost answer is recorded once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(tag = "source", rename_all = "snake_case")]
pub enum Source {
    Online,
    Offline { scanner: u64, nonce: u64 },
}

/// One recorded scan. Ordered by time, then gate, direction and source, so every book sorts
/// the same scans the same way.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Scan {
    pub at_ms: u64,
    pub gate: GateId,
    pub direction: Direction,
    pub source: Source,
}

/// A live entry scan of a verified code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryScan {
    pub at_ms: u64,
    pub gate: GateId,
    /// Staff saw the proof of the ticket's discount.
    pub proof_checked: bool,
    pub source: Source,
}

/// An offline scanner's record of a scan it decided, as it uploads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflineScan {
    pub ticket: TicketId,
    pub at_ms: u64,
    pub gate: GateId,
    pub direction: Direction,
    pub scanner: u64,
    pub nonce: u64,
}

/// The same ticket let in twice: `kept` is the entry that counts (the earlier), `duplicate` the
/// later one, made while the ticket was inside.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conflict {
    pub ticket: TicketId,
    pub kept: Scan,
    pub duplicate: Scan,
}

/// Whether a ticket is inside.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Presence {
    /// Never admitted, or let out (re-entry allowed).
    Outside,
    /// Admitted by `entry` and not let out since.
    Inside { entry: Scan },
}

/// Why an exit scan was not recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExitRefused {
    /// The show allows no re-entry: the ticket stays used.
    NoReentry,
    NotInside,
    /// The ticket has [`SCANS_PER_TICKET_MAX`] scans.
    TooManyScans,
}

/// What merging an upload did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Merged {
    pub recorded: usize,
    /// Scans already recorded (the same scanner and nonce).
    pub repeated: usize,
    /// Scans of tickets with [`SCANS_PER_TICKET_MAX`] scans already.
    pub dropped: usize,
    /// Conflicts that involve a scan of this upload.
    pub conflicts: Vec<Conflict>,
}

/// The upload has more than [`UPLOAD_SCANS_MAX`] scans; nothing of it was recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UploadTooLarge;

/// One performance's check-ins.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckIns {
    reentry: bool,
    scans: BTreeMap<TicketId, Vec<Scan>>,
    offline_seen: BTreeSet<(u64, u64)>,
}

/// The fold of a ticket's scans: where it ends up and the duplicates on the way.
fn fold(scans: &[Scan], reentry: bool) -> (Presence, Vec<(Scan, Scan)>) {
    let mut presence = Presence::Outside;
    let mut duplicates = Vec::new();
    for &scan in scans {
        presence = match (presence, scan.direction) {
            (Presence::Outside, Direction::Entry) => Presence::Inside { entry: scan },
            (Presence::Inside { entry }, Direction::Entry) => {
                duplicates.push((entry, scan));
                presence
            }
            (Presence::Inside { .. }, Direction::Exit) if reentry => Presence::Outside,
            (presence, Direction::Exit) => presence,
        };
    }
    (presence, duplicates)
}

impl CheckIns {
    pub fn new(reentry: bool) -> Self {
        CheckIns {
            reentry,
            ..CheckIns::default()
        }
    }

    fn scans_of(&self, ticket: TicketId) -> &[Scan] {
        self.scans.get(&ticket).map_or(&[], Vec::as_slice)
    }

    pub fn presence(&self, ticket: TicketId) -> Presence {
        fold(self.scans_of(ticket), self.reentry).0
    }

    /// A verified code at the door: admitted (and recorded), or refused without a change.
    pub fn enter(&mut self, verified: &Verified, entry: EntryScan) -> Result<Scan, Refusal> {
        if let Some(discount) = &verified.facts.proof
            && !entry.proof_checked
        {
            return Err(Refusal::ProofRequired {
                discount: discount.clone(),
            });
        }
        let scans = self.scans_of(verified.ticket);
        let used = |entry: Scan| Refusal::AlreadyUsed {
            at_ms: entry.at_ms,
            gate: entry.gate,
        };
        match fold(scans, self.reentry).0 {
            Presence::Inside { entry } => return Err(used(entry)),
            Presence::Outside if scans.len() >= SCANS_PER_TICKET_MAX => {
                // Merged uploads may hold exits only; the last scan stands in then.
                let last = scans.iter().rev().find(|s| s.direction == Direction::Entry);
                return Err(used(*last.unwrap_or(&scans[scans.len() - 1])));
            }
            Presence::Outside => {}
        }
        let scan = Scan {
            at_ms: entry.at_ms,
            gate: entry.gate,
            direction: Direction::Entry,
            source: entry.source,
        };
        self.record(verified.ticket, scan);
        Ok(scan)
    }

    /// An exit scan: lets the ticket in again later where the show allows re-entry.
    pub fn exit(
        &mut self,
        ticket: TicketId,
        at_ms: u64,
        gate: GateId,
        source: Source,
    ) -> Result<Scan, ExitRefused> {
        if !self.reentry {
            return Err(ExitRefused::NoReentry);
        }
        if self.presence(ticket) == Presence::Outside {
            return Err(ExitRefused::NotInside);
        }
        if self.scans_of(ticket).len() >= SCANS_PER_TICKET_MAX {
            return Err(ExitRefused::TooManyScans);
        }
        let scan = Scan {
            at_ms,
            gate,
            direction: Direction::Exit,
            source,
        };
        self.record(ticket, scan);
        Ok(scan)
    }

    fn record(&mut self, ticket: TicketId, scan: Scan) {
        let scans = self.scans.entry(ticket).or_default();
        let at = scans.partition_point(|s| *s <= scan);
        scans.insert(at, scan);
    }

    /// Records an offline scanner's upload, first scan wins by scan time, and reports the
    /// conflicts it makes. Repeating an upload changes nothing. The caller passes only scans of
    /// tickets the performance issued, so a book holds at most [`SCANS_PER_TICKET_MAX`] scans
    /// (and as many remembered nonces) per ticket.
    pub fn merge(&mut self, upload: &[OfflineScan]) -> Result<Merged, UploadTooLarge> {
        if upload.len() > UPLOAD_SCANS_MAX {
            return Err(UploadTooLarge);
        }
        let mut merged = Merged::default();
        let mut added: BTreeMap<TicketId, Vec<Scan>> = BTreeMap::new();
        for offline in upload {
            if self
                .offline_seen
                .contains(&(offline.scanner, offline.nonce))
            {
                merged.repeated += 1;
                continue;
            }
            // Only recorded scans are remembered, so the book stays within its bound.
            if self.scans_of(offline.ticket).len() >= SCANS_PER_TICKET_MAX {
                merged.dropped += 1;
                continue;
            }
            self.offline_seen.insert((offline.scanner, offline.nonce));
            let scan = Scan {
                at_ms: offline.at_ms,
                gate: offline.gate,
                direction: offline.direction,
                source: Source::Offline {
                    scanner: offline.scanner,
                    nonce: offline.nonce,
                },
            };
            self.record(offline.ticket, scan);
            added.entry(offline.ticket).or_default().push(scan);
            merged.recorded += 1;
        }
        for (ticket, new) in added {
            let (_, duplicates) = fold(self.scans_of(ticket), self.reentry);
            merged.conflicts.extend(
                duplicates
                    .into_iter()
                    .filter(|(kept, duplicate)| new.contains(kept) || new.contains(duplicate))
                    .map(|(kept, duplicate)| Conflict {
                        ticket,
                        kept,
                        duplicate,
                    }),
            );
        }
        Ok(merged)
    }

    /// The scans an offline scanner decided, by ticket and time: what it uploads when back
    /// online (the server's [`CheckIns::merge`] records each once).
    pub fn uploads(&self) -> Vec<OfflineScan> {
        let mut found = Vec::new();
        for (&ticket, scans) in &self.scans {
            for scan in scans {
                if let Source::Offline { scanner, nonce } = scan.source {
                    found.push(OfflineScan {
                        ticket,
                        at_ms: scan.at_ms,
                        gate: scan.gate,
                        direction: scan.direction,
                        scanner,
                        nonce,
                    });
                }
            }
        }
        found
    }

    /// Every conflict in the book, by ticket.
    pub fn conflicts(&self) -> Vec<Conflict> {
        let mut found = Vec::new();
        for (&ticket, scans) in &self.scans {
            let (_, duplicates) = fold(scans, self.reentry);
            found.extend(duplicates.into_iter().map(|(kept, duplicate)| Conflict {
                ticket,
                kept,
                duplicate,
            }));
        }
        found
    }
}
