//! The seller's live dashboard: what the gateway's `dashboard` subscription sends
//! (docs/protocol.md, "The seller's dashboard"), and the one door through which the gateway gets
//! it from the HTTP API's side ([`DashboardSource`]), so the gateway never reads the API's
//! database and the API never sees a WebSocket.
//!
//! The API answers from its own records (the bookings projection, the catalog, the seats-left
//! read) and the ledger's reads (waitlist, door); the gateway adds the waiting room's numbers,
//! which are its own.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use crate::id::Id;

/// Minutes with bookings a dashboard lists at most (the newest): a bounded message however long
/// a sale runs. 240 sparse minutes are about 12 KB.
pub const DASHBOARD_MINUTES_MAX: usize = 240;

/// The longest `seats.runs` a dashboard carries: the run-length encoding is never longer than
/// one character per seat, so every venue of up to this many seats (a 50,000-seat stadium with
/// room to spare) always fits; a longer encoding is left out (`runs: null`, the counts stay).
pub const DASHBOARD_SEAT_RUNS_MAX: usize = 65_536;

/// A seat on sale.
pub const SEAT_FREE: char = 'f';
/// A seat in a buyer's hold (not paid yet, or a waitlist offer not taken yet).
pub const SEAT_HELD: char = 'h';
/// A freed seat kept off sale for the cancellation waitlist.
pub const SEAT_RESERVED: char = 'r';
/// A seat with a ticket.
pub const SEAT_SOLD: char = 's';
/// A seat off sale because the performance was called off.
pub const SEAT_OFF: char = 'x';
/// A seat the venue's map marks blocked (never for sale: a camera position, an obstructed view).
pub const SEAT_BLOCKED: char = 'b';

/// Each seat's state (docs/protocol.md, "The seller's dashboard"): one lowercase letter per
/// state ([`SEAT_FREE`], [`SEAT_HELD`], [`SEAT_RESERVED`], [`SEAT_SOLD`], [`SEAT_OFF`], [`SEAT_BLOCKED`]; a state
/// added later is one more letter), in seat order, run-length encoded.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardSeats {
    /// Seats in the venue (standing zones are not seats: their places are in `grades`).
    pub count: u32,
    /// The seats' states in seat order as runs `<length><letter>`, the length left out when it
    /// is 1 (`"3f2s5f"`, `"fsf"`); `None` when the encoding would be longer than
    /// [`DASHBOARD_SEAT_RUNS_MAX`].
    pub runs: Option<String>,
    /// Seats per state letter (states with none left out).
    pub states: BTreeMap<String, u32>,
}

impl DashboardSeats {
    /// The message of seats whose states are `states` (one ASCII letter each, in seat order).
    pub fn of(states: &[u8]) -> Self {
        let mut counts = BTreeMap::new();
        for state in states {
            *counts.entry(char::from(*state).to_string()).or_insert(0u32) += 1;
        }
        let runs = encode_runs(states);
        DashboardSeats {
            count: u32::try_from(states.len()).unwrap_or(u32::MAX),
            runs: (runs.len() <= DASHBOARD_SEAT_RUNS_MAX).then_some(runs),
            states: counts,
        }
    }
}

/// Run-length encodes seat states (one ASCII letter each): never longer than `states`.
pub fn encode_runs(states: &[u8]) -> String {
    let mut runs = String::new();
    let mut index = 0;
    while index < states.len() {
        let state = states[index];
        let length = states[index..].iter().take_while(|s| **s == state).count();
        if length > 1 {
            runs.push_str(&length.to_string());
        }
        runs.push(char::from(state));
        index += length;
    }
    runs
}

/// The seat states `runs` encodes (see [`encode_runs`]); `None` for anything else, or for more
/// than `seats_max` seats.
pub fn decode_runs(runs: &str, seats_max: usize) -> Option<Vec<u8>> {
    let mut states = Vec::new();
    let mut length: usize = 0;
    for byte in runs.bytes() {
        if byte.is_ascii_digit() {
            length = length
                .checked_mul(10)?
                .checked_add(usize::from(byte - b'0'))?;
            if length > seats_max {
                return None;
            }
        } else if byte.is_ascii_lowercase() {
            let run = length.max(1);
            if states.len() + run > seats_max {
                return None;
            }
            states.extend(std::iter::repeat_n(byte, run));
            length = 0;
        } else {
            return None;
        }
    }
    (length == 0).then_some(states)
}

/// A performance's sales figures, as the settlement reports them (whole won).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardSales {
    pub bookings: u64,
    pub sales_won: u64,
    pub refunds_won: u64,
    pub cancellation_fees_won: u64,
    pub booking_fees_won: u64,
    pub platform_commission_won: u64,
    pub net_payable_won: u64,
}

/// Bookings made in one minute (by the ledger's booking time).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardMinute {
    /// The minute's start, ms since the epoch.
    pub minute_ms: u64,
    pub bookings: u64,
    pub sales_won: u64,
}

/// One price grade: its places and those still on sale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardGrade {
    pub code: String,
    pub price_won: u64,
    /// Places on sale now; `null` while the seat map is not known yet.
    pub left: Option<u64>,
}

/// Entries waiting for one grade.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardWaiting {
    pub grade: String,
    pub waiting: u32,
}

/// The cancellation waitlist, as the ledger reports it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardWaitlist {
    pub enabled: bool,
    pub per_grade: Vec<DashboardWaiting>,
    pub any_grade: u32,
    pub offers_open: u32,
    /// Freed places offered to the waitlist so far, and those of them booked.
    pub places_offered: u64,
    pub places_booked: u64,
    pub places_reserved: u64,
}

/// The door's counters, as the ledger reports them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardDoor {
    pub doors_open_ms: u64,
    pub admitted: u32,
    pub inside: u32,
    pub no_shows: u32,
    pub conflicts_total: u32,
}

/// What the API's side knows of one performance for its dashboard.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardFigures {
    pub show: Id<i64>,
    pub title: String,
    pub starts_at_ms: u64,
    /// The performance was called off.
    pub cancelled: bool,
    /// The ledger journal position (of the performance's partition) the sales figures include:
    /// every commit up to it, none after.
    pub seq: u64,
    pub sales: DashboardSales,
    /// Bookings per minute, oldest first, the newest [`DASHBOARD_MINUTES_MAX`] minutes that had
    /// any.
    pub minutes: Vec<DashboardMinute>,
    pub grades: Vec<DashboardGrade>,
    pub waitlist: DashboardWaitlist,
    pub door: DashboardDoor,
    /// Each seat's state, for the show's seller only (buyers' `seats` say only on sale or not);
    /// `None` until the API has read the ledger's state of the performance.
    pub seats: Option<DashboardSeats>,
}

/// Why a dashboard is not given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DashboardRefusal {
    /// The session's account does not manage the performance (not its seller, nor an admin).
    Forbidden,
    /// The session is not live: signed out, expired, or its account disabled.
    SessionEnded,
    /// No such performance (or one opened without a show).
    UnknownPerformance,
    /// The database or the ledger did not answer: try again.
    Unavailable,
}

pub type DashboardFuture<'a, T> =
    Pin<Box<dyn Future<Output = Result<T, DashboardRefusal>> + Send + 'a>>;

/// The HTTP API's side of the dashboard, as the gateway asks it.
pub trait DashboardSource: Send + Sync {
    /// Whether the account of the live session `token` may see `performance`'s dashboard (the
    /// show's seller, or an admin).
    fn authorise<'a>(&'a self, token: &'a str, performance: u64) -> DashboardFuture<'a, ()>;

    /// The performance's figures now. Asked only after [`DashboardSource::authorise`].
    fn figures(&self, performance: u64) -> DashboardFuture<'_, DashboardFigures>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_encode_each_state_and_decode_back() {
        assert_eq!(encode_runs(b"fffssfhhhhhhhhhhhr"), "3f2sf11hr");
        assert_eq!(encode_runs(b""), "");
        let states = b"ffffffffffffsrhhxs".to_vec();
        assert_eq!(decode_runs(&encode_runs(&states), 100), Some(states));
        assert_eq!(decode_runs("3f2s", 4), None, "more seats than the bound");
        assert_eq!(decode_runs("3F", 10), None);
        assert_eq!(decode_runs("3f2", 10), None, "a length without its state");
    }

    #[test]
    fn runs_are_never_longer_than_one_letter_a_seat() {
        let alternating: Vec<u8> = (0..50_000)
            .map(|i| if i % 2 == 0 { b'f' } else { b's' })
            .collect();
        let seats = DashboardSeats::of(&alternating);
        assert_eq!(seats.runs.as_ref().map(String::len), Some(50_000));
        assert_eq!(seats.states["f"], 25_000);
        assert_eq!(seats.states["s"], 25_000);
        let alternating: Vec<u8> = (0..DASHBOARD_SEAT_RUNS_MAX + 1)
            .map(|i| if i % 2 == 0 { b'f' } else { b'h' })
            .collect();
        let seats = DashboardSeats::of(&alternating);
        assert_eq!(seats.runs, None, "too long: left out");
        assert_eq!(seats.count as usize, DASHBOARD_SEAT_RUNS_MAX + 1);
    }
}
