//! The waiting room: one queue per on-sale performance (a *sale*), shared by every gateway.
//!
//! ```text
//!  join before the open ──▶ pre-queue (a set) ──draw at the open──▶ places 1..=P, in an audited
//!  join after the open  ──────────────────────────────────────────▶ places P+1, P+2, … (FIFO)
//!  admission controller (one per sale, under a lease): moves the watermark over places at the
//!  sale's rate while fewer than `active_max` admissions are live, skipping owners who are gone
//! ```
//!
//! Places are dense (1, 2, 3, … with no gaps) and unique per identity: every tab and device of one
//! user shares one place. A place whose owner has not been seen for `grace_ms` is skipped when the
//! watermark reaches it, so the line never stalls on someone who left.
//!
//! The rules live once, as a pure state machine in [`core`] (`now_ms` in, decisions out). Two
//! stores implement [`QueueStore`] with them: [`memory::MemoryStore`] (`picket up`: the cores
//! under one mutex, no outside service) and [`redis::RedisStore`] (shared by gateways; every step
//! is one Lua script using Redis' own clock, proven to agree with the core by the differential
//! test in picket-tests).

pub mod core;
pub mod draw;
pub mod memory;
pub mod redis;

use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

pub use crate::core::{CommandDecision, CommandLimits};

/// A boxed future, so the store can be used as `dyn QueueStore`.
pub type StoreFuture<'a, T> = Pin<Box<dyn Future<Output = Result<T, StoreError>> + Send + 'a>>;

/// A sale is the waiting room of one performance; it has the performance's id.
pub type SaleId = u64;

/// Longest identity (`m:<member>` or `g:<device>`), in bytes.
pub const IDENTITY_LEN_MAX: usize = 80;
/// Identities one heartbeat or status call carries.
pub const IDENTITIES_PER_CALL_MAX: usize = 2_000;
/// Places one controller step may look at (admitted or skipped): bounds the time one step keeps
/// Redis busy.
pub const ADVANCE_SCAN_MAX: u32 = 2_000;
/// Bounds on what an operator may configure.
pub const ADMIT_PER_SEC_MAX: u32 = 100_000;
pub const ACTIVE_MAX_MAX: u32 = 1_000_000;
pub const ADMISSION_TTL_MS_MIN: u64 = 60_000;
pub const ADMISSION_TTL_MS_MAX: u64 = 60 * 60_000;
pub const GRACE_MS_MAX: u64 = 10 * 60_000;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// The shared store cannot be reached; gateways pause admission and keep connections.
    #[error("queue store unavailable: {0}")]
    Unavailable(String),
    #[error("no such sale")]
    UnknownSale,
    #[error("the store answered something unexpected: {0}")]
    Protocol(String),
}

/// What an operator sets for a sale. Changing the rate or pausing takes effect on the next
/// controller step; the open time cannot move once the pre-queue has been drawn.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleSettings {
    /// When the sale opens, ms since the epoch: joins before it wait in the pre-queue.
    pub open_at_ms: u64,
    /// Users admitted per second.
    pub admit_per_sec: u32,
    /// Most admitted users whose admission is still live at once.
    pub active_max: u32,
    /// How long an admission lasts.
    pub admission_ttl_ms: u64,
    /// Most seats one user may ask for in one hold (the gateway checks; the ledger enforces its
    /// own per-buyer limit too).
    pub seat_limit: u16,
    /// A waiting place is kept this long after its owner was last seen.
    pub grace_ms: u64,
    /// An operator paused admission.
    pub paused: bool,
}

impl SaleSettings {
    /// Checks every bound; the message says which one failed.
    pub fn validate(&self) -> Result<(), &'static str> {
        if self.admit_per_sec == 0 || self.admit_per_sec > ADMIT_PER_SEC_MAX {
            return Err("admit_per_sec must be 1 to 100,000");
        }
        if self.active_max == 0 || self.active_max > ACTIVE_MAX_MAX {
            return Err("active_max must be 1 to 1,000,000");
        }
        if !(ADMISSION_TTL_MS_MIN..=ADMISSION_TTL_MS_MAX).contains(&self.admission_ttl_ms) {
            return Err("admission_ttl_ms must be 1 to 60 minutes");
        }
        if self.seat_limit == 0 || self.seat_limit > picket_ledger_core::limits::PER_BUYER_LIMIT_MAX
        {
            return Err("seat_limit must be 1 to 16");
        }
        if self.grace_ms == 0 || self.grace_ms > GRACE_MS_MAX {
            return Err("grace_ms must be 1 ms to 10 minutes");
        }
        Ok(())
    }
}

/// Where a sale stands, as every waiting client is told.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SaleStatus {
    /// Before the open: joiners wait in the pre-queue.
    PreQueue,
    /// Past the open time, the pre-queue's order is being drawn.
    Drawing,
    /// Admitting at the sale's rate.
    Open,
    /// An operator paused admission.
    Paused,
    /// The gateway cannot reach the shared queue store: admission is paused, places are kept.
    Unavailable,
    /// Nothing left on sale; admission stops until seats come back.
    SoldOut,
}

/// A sale's settings and the queue's counters, read in one call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaleView {
    pub sale: SaleId,
    pub settings: SaleSettings,
    pub status: SaleStatus,
    /// Places up to here have had their turn (admitted or skipped).
    pub watermark: u64,
    /// The last place given out so far (0 when none).
    pub tail: u64,
    /// Identities in the pre-queue (before the draw; the first `prequeue` places after it).
    pub prequeue: u64,
    /// Admissions live now.
    pub active: u64,
    /// SHA-256 of the draw seed, hex: published before the open.
    pub seed_hash: String,
    /// The draw seed, hex: revealed once the pre-queue has been drawn.
    pub seed: Option<String>,
    pub sold_out: bool,
}

/// Where one identity stands in a sale.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "standing", rename_all = "snake_case")]
pub enum Standing {
    /// Not in the queue (never joined, or its place was skipped or its admission ended).
    Absent,
    /// In the pre-queue, waiting for the draw.
    PreQueue,
    Waiting {
        place: u64,
    },
    /// Its turn came: book until `expires_at_ms` with admission `jti`.
    Admitted {
        jti: u64,
        expires_at_ms: u64,
    },
}

/// What one controller step did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Advance {
    /// This caller holds the sale's lease (only the holder moves the watermark).
    pub leader: bool,
    /// The pre-queue is due to be drawn and the leader should call [`QueueStore::draw`].
    pub draw_due: bool,
    pub admitted: u32,
    pub skipped: u32,
    pub watermark: u64,
}

/// The result of one rate-limit check (GCRA).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateDecision {
    Allowed,
    /// Over the rate: try again after this many milliseconds.
    Limited {
        retry_after_ms: u64,
    },
}

/// A sale's two draw secrets, hex ([`draw`]): fixed when the sale is created, so the
/// `seed_hash` published before the open stays true for the sale's whole life, also when it is
/// restored into a store that lost it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawSecrets {
    pub seed: String,
    pub entry_key: String,
}

impl DrawSecrets {
    /// Fresh random secrets, for a new sale.
    pub fn fresh() -> Self {
        DrawSecrets {
            seed: draw::new_seed(),
            entry_key: draw::new_seed(),
        }
    }
}

/// A drawn sale's draw, as kept outside the store (the API's database) to restore it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DrawnRecord {
    /// The open time the draw happened at (fixed once drawn, whatever the settings say since).
    pub open_at_ms: u64,
    /// The pre-queue's identities in drawn order: the first has place 1.
    pub order: Vec<String>,
    /// Places up to here had had their turn when the record was last brought up to date: they
    /// are not given back (their owners were admitted or skipped already).
    pub watermark: u64,
}

/// Everything a store needs to restore a sale it lost ([`QueueStore::restore`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaleRecord {
    pub settings: SaleSettings,
    pub secrets: DrawSecrets,
    /// `Some` once the pre-queue was drawn.
    pub drawn: Option<DrawnRecord>,
}

impl SaleRecord {
    /// A record a store can restore: valid settings, hex secrets, and a drawn order that names
    /// each identity once (the places must stay dense and unique).
    pub fn check(&self) -> Result<(), String> {
        self.settings.validate().map_err(str::to_owned)?;
        for secret in [&self.secrets.seed, &self.secrets.entry_key] {
            if hex::decode(secret).ok().map(|bytes| bytes.len()) != Some(draw::SEED_LEN) {
                return Err("a draw secret is not 32 bytes of hex".into());
            }
        }
        if let Some(drawn) = &self.drawn {
            let distinct: std::collections::HashSet<&String> = drawn.order.iter().collect();
            if distinct.len() != drawn.order.len() {
                return Err("the drawn order names an identity twice".into());
            }
            if drawn
                .order
                .iter()
                .any(|id| id.is_empty() || id.len() > IDENTITY_LEN_MAX)
            {
                return Err("the drawn order holds an identity of a bad length".into());
            }
        }
        Ok(())
    }
}

/// The queue state shared by gateways. Every method is one atomic step in the store.
pub trait QueueStore: Send + Sync + 'static {
    /// Creates a sale with fresh draw secrets, or updates its settings.
    fn configure(&self, sale: SaleId, settings: SaleSettings) -> StoreFuture<'_, SaleView> {
        self.configure_with(sale, settings, DrawSecrets::fresh())
    }
    /// Creates a sale with the given draw secrets, or updates its settings (an existing sale
    /// keeps its own secrets).
    fn configure_with(
        &self,
        sale: SaleId,
        settings: SaleSettings,
        secrets: DrawSecrets,
    ) -> StoreFuture<'_, SaleView>;
    /// A sale's draw secrets, for the API's durable record of a sale created before it kept one.
    fn secrets(&self, sale: SaleId) -> StoreFuture<'_, DrawSecrets>;
    /// The pre-queue's identities in drawn order (empty before the draw), for the durable record.
    fn drawn_order(&self, sale: SaleId) -> StoreFuture<'_, Vec<String>>;
    /// Puts a sale the store lost back from its record: its settings and secrets, and once drawn
    /// its drawn places (those past the record's watermark waiting again, their owners counted
    /// as seen now so they have `grace_ms` to come back) and the same audit list. Never touches
    /// a sale the store has: `false` then, `true` when it restored.
    fn restore<'a>(&'a self, sale: SaleId, record: &'a SaleRecord) -> StoreFuture<'a, bool>;
    fn view(&self, sale: SaleId) -> StoreFuture<'_, SaleView>;
    /// Joins (or rejoins) `identity` and marks it seen: idempotent, one place per identity.
    fn join<'a>(&'a self, sale: SaleId, identity: &'a str) -> StoreFuture<'a, Standing>;
    /// Where each identity stands, in order.
    fn standings<'a>(
        &'a self,
        sale: SaleId,
        identities: &'a [String],
    ) -> StoreFuture<'a, Vec<Standing>>;
    /// Marks identities as still connected, so their places are not skipped.
    fn heartbeat<'a>(&'a self, sale: SaleId, identities: &'a [String]) -> StoreFuture<'a, ()>;
    /// One controller step by `holder`: takes or renews the sale's lease for `lease_ms`, and if
    /// it holds it, admits as many places as the rate and `active_max` allow.
    fn advance<'a>(
        &'a self,
        sale: SaleId,
        holder: &'a str,
        lease_ms: u64,
    ) -> StoreFuture<'a, Advance>;
    /// Draws the pre-queue's order (only the lease holder, only once; repeating it is harmless).
    /// A long draw renews the lease for `lease_ms` as it goes, so it finishes however long the
    /// pre-queue is.
    fn draw<'a>(&'a self, sale: SaleId, holder: &'a str, lease_ms: u64) -> StoreFuture<'a, ()>;
    /// Ends an admission early (the user bought or left), freeing its active slot.
    fn finish<'a>(&'a self, sale: SaleId, identity: &'a str) -> StoreFuture<'a, ()>;
    /// [`QueueStore::finish`] for several identities in one step: a gateway gathers the
    /// admissions its buyers spent during a push round and ends them with one call, so a
    /// payment costs no store round trip of its own.
    fn finish_many<'a>(&'a self, sale: SaleId, identities: &'a [String]) -> StoreFuture<'a, ()> {
        Box::pin(async move {
            for identity in identities {
                self.finish(sale, identity).await?;
            }
            Ok(())
        })
    }
    fn set_sold_out(&self, sale: SaleId, sold_out: bool) -> StoreFuture<'_, ()>;
    /// The pre-queue's draw entries in drawn order, for auditors (empty before the draw).
    fn audit(&self, sale: SaleId) -> StoreFuture<'_, Vec<String>>;
    /// `identity`'s draw entry ([`draw::entry`]), for its owner only: where to look for itself
    /// in the audit list. Fixed for the life of the sale.
    fn draw_entry<'a>(&'a self, sale: SaleId, identity: &'a str) -> StoreFuture<'a, String>;
}

/// How a sale's status follows from its settings and counters.
pub fn status_of(settings: &SaleSettings, now_ms: u64, drawn: bool, sold_out: bool) -> SaleStatus {
    if now_ms < settings.open_at_ms {
        SaleStatus::PreQueue
    } else if !drawn {
        SaleStatus::Drawing
    } else if sold_out {
        SaleStatus::SoldOut
    } else if settings.paused {
        SaleStatus::Paused
    } else {
        SaleStatus::Open
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_refills_at_the_rate_and_caps_at_one_second() {
        use crate::core::refill_credit_milli;
        assert_eq!(refill_credit_milli(0, 100, 500), 50_000);
        assert_eq!(refill_credit_milli(90_000, 100, 500), 100_000);
        assert_eq!(refill_credit_milli(0, 1, 10_000), 1_000);
        assert_eq!(
            refill_credit_milli(0, 3, 1),
            3,
            "thousandths keep a 1 ms refill exact"
        );
    }

    #[test]
    fn settings_bounds() {
        let good = SaleSettings {
            open_at_ms: 0,
            admit_per_sec: 100,
            active_max: 1_000,
            admission_ttl_ms: 600_000,
            seat_limit: 4,
            grace_ms: 30_000,
            paused: false,
        };
        assert_eq!(good.validate(), Ok(()));
        let bad = [
            SaleSettings {
                admit_per_sec: 0,
                ..good.clone()
            },
            SaleSettings {
                active_max: 0,
                ..good.clone()
            },
            SaleSettings {
                admission_ttl_ms: 1,
                ..good.clone()
            },
            SaleSettings {
                seat_limit: 17,
                ..good.clone()
            },
            SaleSettings {
                grace_ms: 0,
                ..good.clone()
            },
        ];
        for settings in bad {
            assert!(settings.validate().is_err(), "{settings:?}");
        }
    }
}
