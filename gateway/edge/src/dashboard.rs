//! The seller's live dashboard: what the gateway's `dashboard` subscription sends
//! (docs/protocol.md, "The seller's dashboard"), and the one door through which the gateway gets
//! it from the HTTP API's side ([`DashboardSource`]), so the gateway never reads the API's
//! database and the API never sees a WebSocket.
//!
//! The API answers from its own records (the bookings projection, the catalog, the seats-left
//! read) and the ledger's reads (waitlist, door); the gateway adds the waiting room's numbers,
//! which are its own.

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

use crate::id::Id;

/// Minutes with bookings a dashboard lists at most (the newest): a bounded message however long
/// a sale runs. 240 sparse minutes are about 12 KB.
pub const DASHBOARD_MINUTES_MAX: usize = 240;

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
}

/// Why a dashboard is not given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DashboardRefusal {
    /// The session is not the performance's seller's (nor an admin's), or not a live session.
    Forbidden,
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
