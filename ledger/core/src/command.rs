//! What callers ask the ledger to do.

use serde::{Deserialize, Serialize};

use crate::door::{Direction, OfflineScan};
use crate::limits::IDEMPOTENCY_KEY_LEN_MAX;
use crate::offers::OfferChoice;
use crate::outcome::Invalid;
use crate::performance::PerformanceSpec;
use crate::types::*;
use crate::waitlist::WaitlistMode;

/// A client-chosen key that makes a command idempotent: the same actor sending the same key gets
/// the original outcome, and the command takes effect once.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// 1 to [`IDEMPOTENCY_KEY_LEN_MAX`] bytes of printable ASCII, no spaces.
    pub fn new(key: impl Into<String>) -> Result<Self, Invalid> {
        let key = key.into();
        let printable = key.bytes().all(|b| b.is_ascii_graphic());
        if key.is_empty() || key.len() > IDEMPOTENCY_KEY_LEN_MAX || !printable {
            return Err(Invalid::IdempotencyKey);
        }
        Ok(Self(key))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for IdempotencyKey {
    type Error = Invalid;
    fn try_from(key: String) -> Result<Self, Invalid> {
        Self::new(key)
    }
}

impl From<IdempotencyKey> for String {
    fn from(key: IdempotencyKey) -> String {
        key.0
    }
}

/// One command with who sent it and its idempotency key.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Request {
    pub actor: ActorId,
    pub key: IdempotencyKey,
    pub command: Command,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Command {
    /// Put a performance's inventory on sale (sent by the catalog when a show is published).
    OpenPerformance(Box<PerformanceSpec>),
    /// Hold seats for the actor until the performance's hold deadline; all or nothing.
    Hold {
        performance: PerformanceId,
        selection: Selection,
        /// The waiting-room admission this hold is made under, when the sale has a queue. The
        /// ledger binds an admission to the first buyer who uses it and spends it when a hold
        /// made under it is paid, so one admission buys once and cannot be shared.
        #[serde(default)]
        admission: Option<AdmissionId>,
        /// A discount or a coupon (one per order; offers never stack).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        offer: Option<OfferChoice>,
    },
    /// Give a hold's seats back before its deadline.
    Release {
        performance: PerformanceId,
        hold: HoldId,
    },
    /// Pay for a hold: it becomes a booking with one ticket per seat or standing place.
    Confirm {
        performance: PerformanceId,
        hold: HoldId,
        payment_ref: String,
        amount_won: Won,
    },
    /// Cancel some tickets of a booking (all of them when `tickets` is empty), refunding the
    /// price less the cancellation fee that applies now.
    Cancel {
        performance: PerformanceId,
        booking: BookingId,
        tickets: Vec<TicketId>,
    },
    /// Record an entry at the door: an online entry scan at gate 0 of a ticket's current
    /// generation (kept for callers from before gates; replies `CheckedIn` or
    /// `AlreadyCheckedIn`).
    CheckIn {
        performance: PerformanceId,
        ticket: TicketId,
    },
    /// An online scan at the door, now, of a verified code of `generation` (sent by the API for
    /// staff of the show): an entry admits the ticket unless it is inside; an exit lets it in
    /// again later where the show allows re-entry.
    Scan {
        performance: PerformanceId,
        ticket: TicketId,
        generation: u8,
        gate: GateId,
        direction: Direction,
    },
    /// An offline scanner's queued scans, at their scan times, each with the scanner and its
    /// nonce (an upload repeated after a lost answer is recorded once). First scan wins by scan
    /// time; the reply lists the conflicts. At most [`crate::limits::UPLOAD_SCANS_MAX`] scans.
    UploadScans {
        performance: PerformanceId,
        scans: Vec<OfflineScan>,
    },
    /// The holder gives a ticket to another member, before the performance's
    /// `door.transfer_until_ms` and before it was used; the ticket's secret generation moves on,
    /// so the old holder's codes are revoked.
    TransferTicket {
        performance: PerformanceId,
        ticket: TicketId,
        to: ActorId,
    },
    /// The holder binds the ticket to a new device: its secret generation moves on, so the old
    /// device's codes are revoked. At most [`crate::limits::REBINDS_PER_TICKET_MAX`] times.
    RebindDevice {
        performance: PerformanceId,
        ticket: TicketId,
    },
    /// The seller (or an operator) calls the performance off: it closes to new holds and
    /// payments, open holds are released, and every valid ticket is cancelled with a full
    /// refund (no fee). At most [`crate::limits::CANCEL_PERFORMANCE_STEP_MAX`] holds and
    /// bookings per command: the caller repeats it (with a new key) until the reply says no
    /// bookings are left. Only the API sends it, after checking the seller owns the show.
    CancelPerformance {
        performance: PerformanceId,
        reason: String,
    },
    /// The refund worker paid a refund owed: `provider_transaction` is the provider's id of the
    /// cancel. Refused when the refund is unknown, already recorded, or the amount differs.
    RecordRefund {
        performance: PerformanceId,
        booking: BookingId,
        refund: RefundId,
        provider_transaction: String,
        amount_won: Won,
    },
    /// Join the performance's cancellation waitlist for `quantity` places of `grade` (`None`:
    /// any grade), side by side (`together`: adjacent seats in one row of one section, or one
    /// zone's places) or not. Allowed while the performance is on sale and not called off; the
    /// quantity counts against the per-buyer limit with the tickets and holds the buyer has.
    JoinWaitlist {
        performance: PerformanceId,
        grade: Option<GradeId>,
        quantity: u16,
        together: bool,
        mode: WaitlistMode,
    },
    /// The buyer leaves the waitlist; an entry with an open offer gives its held places back
    /// (they move on to the next entry).
    LeaveWaitlist {
        performance: PerformanceId,
        entry: WaitlistEntryId,
    },
    /// The buyer says no to an offer: its held places move on to the next entry.
    DeclineOffer {
        performance: PerformanceId,
        entry: WaitlistEntryId,
    },
    /// The payments worker could not charge an auto-pay entry's billing key: its held places
    /// move on. Only the payments worker sends it, like `RecordRefund`.
    ChargeFailed {
        performance: PerformanceId,
        entry: WaitlistEntryId,
        reason: String,
    },
}

impl Command {
    pub fn performance(&self) -> PerformanceId {
        match self {
            Command::OpenPerformance(spec) => spec.performance,
            Command::Hold { performance, .. }
            | Command::Release { performance, .. }
            | Command::Confirm { performance, .. }
            | Command::Cancel { performance, .. }
            | Command::CheckIn { performance, .. }
            | Command::Scan { performance, .. }
            | Command::UploadScans { performance, .. }
            | Command::TransferTicket { performance, .. }
            | Command::RebindDevice { performance, .. }
            | Command::CancelPerformance { performance, .. }
            | Command::RecordRefund { performance, .. }
            | Command::JoinWaitlist { performance, .. }
            | Command::LeaveWaitlist { performance, .. }
            | Command::DeclineOffer { performance, .. }
            | Command::ChargeFailed { performance, .. } => *performance,
        }
    }

    /// The command's name as the wire spells it (its variant's tag in JSON, docs/protocol.md,
    /// "Request"): what the writer's metrics label commands with.
    pub fn name(&self) -> &'static str {
        match self {
            Command::OpenPerformance(_) => "OpenPerformance",
            Command::Hold { .. } => "Hold",
            Command::Release { .. } => "Release",
            Command::Confirm { .. } => "Confirm",
            Command::Cancel { .. } => "Cancel",
            Command::CheckIn { .. } => "CheckIn",
            Command::Scan { .. } => "Scan",
            Command::UploadScans { .. } => "UploadScans",
            Command::TransferTicket { .. } => "TransferTicket",
            Command::RebindDevice { .. } => "RebindDevice",
            Command::CancelPerformance { .. } => "CancelPerformance",
            Command::RecordRefund { .. } => "RecordRefund",
            Command::JoinWaitlist { .. } => "JoinWaitlist",
            Command::LeaveWaitlist { .. } => "LeaveWaitlist",
            Command::DeclineOffer { .. } => "DeclineOffer",
            Command::ChargeFailed { .. } => "ChargeFailed",
        }
    }
}

/// Which seats a hold asks for.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Selection {
    /// These exact seats, picked on the seat map.
    Seats(Vec<SeatId>),
    /// The best `count` free seats of a grade, side by side when a row has room.
    BestAvailable { grade: GradeId, count: u16 },
    /// `count` standing places in a general-admission zone.
    Zone { zone: ZoneId, count: u16 },
}
