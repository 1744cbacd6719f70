//! Check-in on a scanner: its own book of who is inside, for when the venue's network is down.
//!
//! The rules are the ledger's ([`picket_ledger_core::door`]): this book wraps the same
//! [`DoorBook`] the ledger keeps, so a scanner offline and the ledger online decide a scan
//! identically. What only a scanner needs is added here: the proof check of a verified code, and
//! the generation of each admitted code, which the upload carries so the ledger can refuse codes
//! of a generation the ticket has left.

use std::collections::BTreeMap;

use picket_ledger_core::door::{AlreadyUsed, DoorBook, ExitRefused, Presence, UploadTooLarge};
use picket_ledger_core::{Conflict, GateId, OfflineScan, Scan, ScanSource, TicketId};

use crate::refusal::Refusal;
use crate::verify::Verified;

/// A live entry scan of a verified code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryScan {
    pub at_ms: u64,
    pub gate: GateId,
    /// Staff saw the proof of the ticket's discount.
    pub proof_checked: bool,
    pub source: ScanSource,
}

/// What merging an upload did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Merged {
    pub recorded: usize,
    /// Scans already recorded (the same scanner and nonce).
    pub repeated: usize,
    /// Scans of tickets with [`crate::limits::SCANS_PER_TICKET_MAX`] scans already.
    pub dropped: usize,
    /// Conflicts that involve a scan of this upload.
    pub conflicts: Vec<Conflict>,
}

/// One performance's check-ins as a scanner (or a test standing in for the server) keeps them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CheckIns {
    book: DoorBook,
    /// The generation of each ticket's last admitted code: an upload carries it.
    generations: BTreeMap<TicketId, u8>,
}

impl CheckIns {
    pub fn new(reentry: bool) -> Self {
        CheckIns {
            book: DoorBook::new(reentry),
            generations: BTreeMap::new(),
        }
    }

    /// The book, with the ledger's reads (scans, conflicts).
    pub fn book(&self) -> &DoorBook {
        &self.book
    }

    pub fn presence(&self, ticket: TicketId) -> Presence {
        self.book.presence(ticket)
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
        let scan = self
            .book
            .decide_entry(verified.ticket, entry.at_ms, entry.gate, entry.source)
            .map_err(|AlreadyUsed { at_ms, gate }| Refusal::AlreadyUsed { at_ms, gate })?;
        self.book.record(verified.ticket, scan);
        self.generations
            .insert(verified.ticket, verified.generation);
        Ok(scan)
    }

    /// An exit scan: lets the ticket in again later where the show allows re-entry.
    pub fn exit(
        &mut self,
        ticket: TicketId,
        at_ms: u64,
        gate: GateId,
        source: ScanSource,
    ) -> Result<Scan, ExitRefused> {
        let scan = self.book.decide_exit(ticket, at_ms, gate, source)?;
        self.book.record(ticket, scan);
        Ok(scan)
    }

    /// Records uploaded scans, first scan wins by scan time, and reports the conflicts they
    /// make, as the ledger's `UploadScans` does. Repeating an upload changes nothing.
    pub fn merge(&mut self, upload: &[OfflineScan]) -> Result<Merged, UploadTooLarge> {
        let merged = self.book.decide_upload(upload)?;
        for (ticket, scan) in &merged.scans {
            self.book.record(*ticket, *scan);
        }
        Ok(Merged {
            recorded: merged.scans.len(),
            repeated: merged.repeated,
            dropped: merged.dropped.len(),
            conflicts: merged.conflicts,
        })
    }

    /// The scans this scanner decided offline, by ticket and time: what it uploads when back
    /// online (the ledger's `UploadScans` records each once).
    pub fn uploads(&self) -> Vec<OfflineScan> {
        let mut found = Vec::new();
        for (&ticket, scans) in self.book.all_scans() {
            let generation = self.generations.get(&ticket).copied().unwrap_or(0);
            for scan in scans {
                if let ScanSource::Offline { scanner, nonce } = scan.source {
                    found.push(OfflineScan {
                        ticket,
                        generation,
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
        self.book.conflicts()
    }
}
