//! The door's rules, in one place: who is inside, as a pure fold over a ticket's scans. The
//! ledger decides online scans and records offline uploads with it, and an offline scanner
//! (`picket-tickets`) keeps its own book with the same type, so online and offline decide
//! identically.
//!
//! A ticket's scans are kept in scan-time order, and its state is their fold: an entry while
//! outside admits, an exit while inside lets it out (only where the show allows re-entry), an
//! entry while inside is a duplicate. A live scan (online, or on a scanner's own book) is refused
//! as `already_used` while the ticket is inside. Offline uploads are merged by scan time, first
//! scan wins: a later entry made while the ticket was inside is a [`Conflict`] (the same ticket
//! let in twice), reported to staff and the seller.
//!
//! Every method that decides is `&self`; [`DoorBook::record`] is the only change, so the ledger
//! can decide in `decide` and record in `apply`.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use crate::limits::{SCANS_PER_TICKET_MAX, UPLOAD_SCANS_MAX};
use crate::types::{GateId, TicketId};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Direction {
    Entry,
    Exit,
}

/// Where a scan was decided. Offline scans carry their scanner and a nonce the scanner chose,
/// so an upload repeated after a lost answer is recorded once. Externally tagged like every
/// ledger enum (`"Online"`, `{"Offline": {…}}`): snapshots are postcard, which cannot decode an
/// internally tagged enum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ScanSource {
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
    pub source: ScanSource,
}

/// An offline scanner's record of a scan it decided, as it uploads it. `generation` is the
/// secret generation of the code it verified: a code of a generation the ticket has left (it was
/// transferred or moved to another device) is not recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OfflineScan {
    pub ticket: TicketId,
    pub generation: u8,
    pub at_ms: u64,
    pub gate: GateId,
    pub direction: Direction,
    pub scanner: u64,
    pub nonce: u64,
}

impl OfflineScan {
    pub fn scan(&self) -> Scan {
        Scan {
            at_ms: self.at_ms,
            gate: self.gate,
            direction: self.direction,
            source: ScanSource::Offline {
                scanner: self.scanner,
                nonce: self.nonce,
            },
        }
    }
}

/// The same ticket let in twice: `kept` is the entry that counts (the earlier), `duplicate` the
/// later one, made while the ticket was inside.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
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

/// Why a live entry scan was refused: the ticket is inside, first admitted at `at_ms` through
/// `gate`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AlreadyUsed {
    pub at_ms: u64,
    pub gate: GateId,
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

/// What an upload records, decided without changing the book.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Merged {
    /// The scans to record, by ticket, in upload order.
    pub scans: Vec<(TicketId, Scan)>,
    /// Scans already recorded (the same scanner and nonce), also within the upload.
    pub repeated: usize,
    /// Scans of tickets with [`SCANS_PER_TICKET_MAX`] scans already: not recorded.
    pub dropped: Vec<OfflineScan>,
    /// Conflicts that involve a scan of this upload, once it is recorded.
    pub conflicts: Vec<Conflict>,
}

/// The upload has more than [`UPLOAD_SCANS_MAX`] scans; nothing of it was recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UploadTooLarge;

/// The fold of a ticket's scans: where it ends up, the duplicates on the way, and the scans that
/// admitted it (an entry while outside).
pub fn fold(scans: &[Scan], reentry: bool) -> (Presence, Vec<(Scan, Scan)>) {
    let mut presence = Presence::Outside;
    let mut duplicates = Vec::new();
    for &scan in scans {
        presence = step(presence, scan, reentry, &mut |kept, dup| {
            duplicates.push((kept, dup))
        });
    }
    (presence, duplicates)
}

/// The entries that admitted a ticket, in time order (re-entries included).
pub fn admissions(scans: &[Scan], reentry: bool) -> Vec<Scan> {
    let mut presence = Presence::Outside;
    let mut admitted = Vec::new();
    for &scan in scans {
        let next = step(presence, scan, reentry, &mut |_, _| {});
        if presence == Presence::Outside && matches!(next, Presence::Inside { .. }) {
            admitted.push(scan);
        }
        presence = next;
    }
    admitted
}

fn step(
    presence: Presence,
    scan: Scan,
    reentry: bool,
    duplicate: &mut impl FnMut(Scan, Scan),
) -> Presence {
    match (presence, scan.direction) {
        (Presence::Outside, Direction::Entry) => Presence::Inside { entry: scan },
        (Presence::Inside { entry }, Direction::Entry) => {
            duplicate(entry, scan);
            presence
        }
        (Presence::Inside { .. }, Direction::Exit) if reentry => Presence::Outside,
        (presence, Direction::Exit) => presence,
    }
}

/// One performance's scans: the ledger's record of the door, or an offline scanner's own.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DoorBook {
    reentry: bool,
    scans: BTreeMap<TicketId, Vec<Scan>>,
    /// Offline scans recorded, by scanner and nonce: bounded by the scans.
    offline_seen: BTreeSet<(u64, u64)>,
}

impl DoorBook {
    pub fn new(reentry: bool) -> Self {
        DoorBook {
            reentry,
            ..DoorBook::default()
        }
    }

    pub fn reentry(&self) -> bool {
        self.reentry
    }

    /// A ticket's scans in time order.
    pub fn scans_of(&self, ticket: TicketId) -> &[Scan] {
        self.scans.get(&ticket).map_or(&[], Vec::as_slice)
    }

    /// Every ticket with a scan, and its scans.
    pub fn all_scans(&self) -> impl Iterator<Item = (&TicketId, &Vec<Scan>)> {
        self.scans.iter()
    }

    pub fn presence(&self, ticket: TicketId) -> Presence {
        fold(self.scans_of(ticket), self.reentry).0
    }

    /// Whether the ticket was ever admitted (an entry scan is on record).
    pub fn ever_entered(&self, ticket: TicketId) -> bool {
        self.scans_of(ticket)
            .iter()
            .any(|s| s.direction == Direction::Entry)
    }

    /// Whether an offline scan with this scanner and nonce is recorded.
    pub fn seen(&self, scanner: u64, nonce: u64) -> bool {
        self.offline_seen.contains(&(scanner, nonce))
    }

    /// A live entry scan: the scan to record, or `already_used` with the entry that counts.
    pub fn decide_entry(
        &self,
        ticket: TicketId,
        at_ms: u64,
        gate: GateId,
        source: ScanSource,
    ) -> Result<Scan, AlreadyUsed> {
        let scans = self.scans_of(ticket);
        let used = |entry: &Scan| AlreadyUsed {
            at_ms: entry.at_ms,
            gate: entry.gate,
        };
        match fold(scans, self.reentry).0 {
            Presence::Inside { entry } => return Err(used(&entry)),
            Presence::Outside if scans.len() >= SCANS_PER_TICKET_MAX => {
                // Merged uploads may hold exits only; the last scan stands in then.
                let last = scans.iter().rev().find(|s| s.direction == Direction::Entry);
                return Err(used(last.unwrap_or(&scans[scans.len() - 1])));
            }
            Presence::Outside => {}
        }
        Ok(Scan {
            at_ms,
            gate,
            direction: Direction::Entry,
            source,
        })
    }

    /// An exit scan: the scan to record (it lets the ticket in again later), or why not.
    pub fn decide_exit(
        &self,
        ticket: TicketId,
        at_ms: u64,
        gate: GateId,
        source: ScanSource,
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
        Ok(Scan {
            at_ms,
            gate,
            direction: Direction::Exit,
            source,
        })
    }

    /// The only change to a book: one scan, kept in time order; an offline one's nonce is
    /// remembered.
    pub fn record(&mut self, ticket: TicketId, scan: Scan) {
        if let ScanSource::Offline { scanner, nonce } = scan.source {
            self.offline_seen.insert((scanner, nonce));
        }
        let scans = self.scans.entry(ticket).or_default();
        let at = scans.partition_point(|s| *s <= scan);
        scans.insert(at, scan);
    }

    /// What an offline upload records, first scan wins by scan time, and the conflicts it makes;
    /// the book is unchanged (record `scans` to apply it). Repeated scans (a scanner and nonce
    /// already recorded, or twice in the upload) are counted, not recorded. The caller passes
    /// only scans it accepts (tickets the performance issued, current generations), so a book
    /// holds at most [`SCANS_PER_TICKET_MAX`] scans (and as many nonces) per ticket.
    pub fn decide_upload(&self, upload: &[OfflineScan]) -> Result<Merged, UploadTooLarge> {
        if upload.len() > UPLOAD_SCANS_MAX {
            return Err(UploadTooLarge);
        }
        let mut merged = Merged::default();
        let mut added: BTreeMap<TicketId, Vec<Scan>> = BTreeMap::new();
        let mut nonces = BTreeSet::new();
        for offline in upload {
            let nonce = (offline.scanner, offline.nonce);
            if self.offline_seen.contains(&nonce) || nonces.contains(&nonce) {
                merged.repeated += 1;
                continue;
            }
            let new = added.get(&offline.ticket).map_or(0, Vec::len);
            // Only recorded scans are remembered, so the book stays within its bound.
            if self.scans_of(offline.ticket).len() + new >= SCANS_PER_TICKET_MAX {
                merged.dropped.push(*offline);
                continue;
            }
            nonces.insert(nonce);
            let scan = offline.scan();
            added.entry(offline.ticket).or_default().push(scan);
            merged.scans.push((offline.ticket, scan));
        }
        for (ticket, new) in added {
            let mut scans = self.scans_of(ticket).to_vec();
            scans.extend_from_slice(&new);
            scans.sort();
            let (_, duplicates) = fold(&scans, self.reentry);
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

/// Why the ledger did not record a scan of an offline upload (the others are recorded).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ScanRefusal {
    /// The performance never issued the ticket.
    UnknownTicket,
    /// The ticket was cancelled, or the scanned code's generation is one the ticket has left
    /// (transferred, or moved to another device): the scanner's manifest was stale.
    Revoked,
    /// The gate is not one of the performance's gates.
    UnknownGate,
    /// The scan's time is more than [`crate::limits::OFFLINE_SCAN_AHEAD_MS_MAX`] past the
    /// ledger's clock.
    ScanAhead,
    /// The ticket has [`SCANS_PER_TICKET_MAX`] scans.
    TooManyScans,
}

/// One scan of an upload the ledger did not record, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RefusedScan {
    pub ticket: TicketId,
    pub scanner: u64,
    pub nonce: u64,
    pub reason: ScanRefusal,
}
