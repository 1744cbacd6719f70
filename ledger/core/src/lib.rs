//! The ledger's pure core: a deterministic state machine over seats, holds, bookings, money and
//! check-ins.
//!
//! `Ledger::execute(now_ms, request)` decides a command against the current state and returns a
//! [`Step`]: the outcome for the caller and the events that record the change. Every state change
//! goes through [`Ledger::apply`], one event at a time, so replaying a journal of events rebuilds the
//! exact same state (compare [`Ledger::digest`]).
//!
//! Nothing here does I/O, reads a clock or draws randomness: time arrives as `now_ms`, ids come
//! from counters in the state, and the shell (the `picket-ledger` crate) owns storage and the
//! network. `tests/tidy.rs` keeps it that way.
//!
//! Layout:
//! - [`types`]: ids, money, ticket kinds and places.
//! - [`performance`]: the performance spec a seller's seat map turns into.
//! - [`command`]: what callers ask for; [`outcome`]: what they get back (replies and typed
//!   rejections); [`event`]: what the journal records.
//! - [`door`]: the door's rules (scans, re-entry, offline uploads, conflicts), shared with the
//!   offline scanner.
//! - [`fees`]: the cancellation-fee schedule and the Korean calendar rules it needs.
//! - [`offers`]: discounts and coupons, and how a hold is priced with one.
//! - [`ledger`]: the state and the decide/apply functions.
//! - [`limits`]: every bound the core enforces, by name.
//! - [`digest`]: a stable hash of the state, for replay checks.
//! - [`view`]: pure reads for callers outside the writer (one hold, as a checkout shows it;
//!   waitlist positions and the seller's waitlist numbers).
//! - [`waitlist`]: the cancellation waitlist's values and its matching rule.

pub mod command;
pub mod digest;
pub mod door;
pub mod event;
pub mod fees;
pub mod ledger;
pub mod limits;
pub mod offers;
pub mod outcome;
pub mod performance;
pub mod types;
pub mod view;
pub mod waitlist;

pub use command::{Command, IdempotencyKey, Request, Selection};
pub use door::{
    Conflict, Direction, DoorBook, OfflineScan, Presence, RefusedScan, Scan, ScanRefusal,
    ScanSource,
};
pub use event::{Event, TicketScan};
pub use fees::{FeeSchedule, FeeTier};
pub use ledger::{
    AdmissionUse, Availability, CouponUse, HoldStatus, Ledger, PerformanceState, Step,
};
pub use offers::{AppliedOffer, CouponSpec, DiscountRule, DiscountSpec, OfferChoice, Reduction};
pub use outcome::{Invalid, Outcome, Rejection, Reply};
pub use performance::{
    DoorSpec, GateSpec, GradeSpec, PerformanceSpec, SeatSpec, WaitlistSpec, ZoneSpec,
};
pub use types::*;
pub use view::{
    DoorReport, GateMinute, HeldPlace, HoldView, TicketView, WaitlistEntryView, WaitlistPosition,
    WaitlistRead, WaitlistReport, WaitlistSizes,
};
pub use waitlist::{Waitlist, WaitlistEndReason, WaitlistEntry, WaitlistMode};
