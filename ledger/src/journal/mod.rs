//! The journal: an append-only log of the ledger's steps with a gap-free sequence number per
//! partition, plus snapshots that bound replay. One trait, two stores: PostgreSQL in production
//! and SQLite in `picket up`.

mod postgres;
mod sqlite;

use std::future::Future;

use picket_ledger_client::Committed;
use picket_ledger_core::{Event, Ledger};

pub use postgres::{PgJournal, PgSession};
pub use sqlite::SqliteJournal;

/// Bumped whenever `Ledger`'s encoding changes; older snapshots are then ignored and the journal
/// is replayed from the start.
pub const SNAPSHOT_FORMAT: i32 = 7;
/// Snapshots kept per partition; older ones are deleted when a new one is saved.
pub const SNAPSHOTS_KEPT_MAX: i64 = 2;

/// One executed step as stored: its events encoded as JSON.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub seq: u64,
    pub recorded_at_ms: u64,
    pub events_json: String,
}

impl Entry {
    pub fn encode(seq: u64, recorded_at_ms: u64, events: &[Event]) -> Entry {
        let events_json = serde_json::to_string(events).expect("events always encode as JSON");
        Entry {
            seq,
            recorded_at_ms,
            events_json,
        }
    }

    /// The entry as followers see it.
    pub fn committed(&self, partition: u16) -> Result<Committed, JournalError> {
        Ok(Committed {
            partition,
            seq: self.seq,
            at_ms: self.recorded_at_ms,
            events: self.decode()?,
        })
    }

    pub fn decode(&self) -> Result<Vec<Event>, JournalError> {
        serde_json::from_str(&self.events_json).map_err(|e| JournalError::Corrupt {
            seq: self.seq,
            reason: e.to_string(),
        })
    }
}

/// A stored snapshot: the ledger state after `seq`.
#[derive(Clone, Debug)]
pub struct Snapshot {
    pub seq: u64,
    pub digest: u64,
    pub state: Vec<u8>,
}

impl Snapshot {
    pub fn encode(seq: u64, ledger: &Ledger) -> Snapshot {
        Snapshot {
            seq,
            digest: ledger.digest(),
            state: postcard::to_stdvec(ledger).expect("ledger state always encodes"),
        }
    }

    /// The ledger it holds, checked against its digest.
    pub fn decode(&self) -> Result<Ledger, JournalError> {
        let corrupt = |reason: String| JournalError::Corrupt {
            seq: self.seq,
            reason,
        };
        let ledger: Ledger =
            postcard::from_bytes(&self.state).map_err(|e| corrupt(e.to_string()))?;
        if ledger.digest() != self.digest {
            return Err(corrupt("snapshot digest mismatch".into()));
        }
        Ok(ledger)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    #[error("journal database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("journal migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// Someone else appended to this partition: the caller is no longer its only writer.
    #[error("journal sequence gap: expected next seq {expected}, batch starts at {found}")]
    SequenceGap { expected: u64, found: u64 },
    #[error("journal entry {seq} is corrupt: {reason}")]
    Corrupt { seq: u64, reason: String },
    /// The commit's epoch is not the partition's current one: another node took over, and this
    /// one must stop writing at once.
    #[error("fenced: this writer's epoch {ours} is not the partition's current epoch")]
    Fenced { ours: u64 },
    /// Leadership (leases and fencing) needs PostgreSQL; the SQLite journal serves one process.
    #[error("the SQLite journal has no leadership: run one process, without a fence")]
    NoLeadership,
    /// A journal call's own task panicked or was aborted (the runtime shutting down).
    #[error("a journal task ended before it answered: {0}")]
    TaskEnded(String),
}

impl JournalError {
    /// PostgreSQL gave up waiting for a lock (`lock_timeout`, SQLSTATE 55P03): someone else
    /// held it, and trying again later is the answer.
    pub fn is_lock_timeout(&self) -> bool {
        match self {
            JournalError::Database(sqlx::Error::Database(error)) => {
                error.code().as_deref() == Some("55P03")
            }
            _ => false,
        }
    }
}

/// What a leader's commit proves and records, checked in the same transaction as the append:
/// the partition's epoch is still `epoch`, and the command stream has been consumed up to
/// `input_seq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Fence {
    pub epoch: u64,
    pub input_seq: u64,
}

/// Storage for one or more partitions' journals. Implementations must make `append` atomic and
/// durable before it returns (synchronous commit).
pub trait Journal: Send + Sync + 'static {
    /// Appends entries in one transaction. `entries` are consecutive and the first must follow
    /// the partition's last stored seq, else nothing is written and `SequenceGap` is returned.
    /// With a `fence`, the append also fails (`Fenced`) unless the partition's epoch is still
    /// the fence's, and records the fence's `input_seq`.
    fn append(
        &self,
        partition: u16,
        entries: &[Entry],
        fence: Option<Fence>,
    ) -> impl Future<Output = Result<(), JournalError>> + Send;

    /// The highest stored seq of the partition (0 when empty).
    fn last_seq(&self, partition: u16) -> impl Future<Output = Result<u64, JournalError>> + Send;

    /// Up to `limit` entries with seq > `after_seq`, in order.
    fn read_after(
        &self,
        partition: u16,
        after_seq: u64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<Entry>, JournalError>> + Send;

    /// Stores a snapshot and deletes all but the newest [`SNAPSHOTS_KEPT_MAX`].
    fn save_snapshot(
        &self,
        partition: u16,
        snapshot: &Snapshot,
    ) -> impl Future<Output = Result<(), JournalError>> + Send;

    /// The newest snapshot in [`SNAPSHOT_FORMAT`], if any.
    fn latest_snapshot(
        &self,
        partition: u16,
    ) -> impl Future<Output = Result<Option<Snapshot>, JournalError>> + Send;
}

/// Rebuilds a partition's ledger from its newest snapshot plus the journal after it. Returns the
/// ledger and the last applied seq.
pub async fn recover<J: Journal>(
    journal: &J,
    partition: u16,
    replay_page_max: u32,
) -> Result<(Ledger, u64), JournalError> {
    let (mut ledger, mut seq) = match journal.latest_snapshot(partition).await? {
        Some(snapshot) => match snapshot.decode() {
            Ok(ledger) => (ledger, snapshot.seq),
            Err(error) => {
                tracing::warn!(%error, "ignoring unreadable snapshot; replaying the whole journal");
                (Ledger::new(partition), 0)
            }
        },
        None => (Ledger::new(partition), 0),
    };
    seq = catch_up(journal, partition, &mut ledger, seq, replay_page_max).await?;
    Ok((ledger, seq))
}

/// Applies every journal entry after `seq` to `ledger` (a standby following its leader, or a
/// recovery); returns the last applied seq.
pub async fn catch_up<J: Journal>(
    journal: &J,
    partition: u16,
    ledger: &mut Ledger,
    mut seq: u64,
    page_max: u32,
) -> Result<u64, JournalError> {
    loop {
        let page = journal.read_after(partition, seq, page_max).await?;
        if page.is_empty() {
            return Ok(seq);
        }
        for entry in &page {
            if entry.seq != seq + 1 {
                return Err(JournalError::SequenceGap {
                    expected: seq + 1,
                    found: entry.seq,
                });
            }
            for event in entry.decode()? {
                ledger.apply(&event);
            }
            seq = entry.seq;
        }
    }
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).expect("journal numbers stay below 2^63")
}

#[cfg(test)]
mod tests {
    use picket_ledger_core::*;

    use super::*;

    /// A ledger whose state holds every optional field: a spec with discounts and coupons, a
    /// hold priced with a discount, one without, and their recorded outcomes.
    fn ledger_with_offers() -> Ledger {
        let mut ledger = Ledger::new(3);
        let spec = PerformanceSpec {
            discounts: vec![DiscountSpec {
                label: "장애인 (동반 1인)".into(),
                rule: DiscountRule::Eligibility { places_max: 2 },
                reduction: Reduction::Percent(50),
                grades: vec![],
            }],
            coupons: vec![CouponSpec {
                code: "WELCOME".into(),
                reduction: Reduction::FixedWon(5_000),
                min_order_won: 0,
                valid_from_ms: 0,
                valid_until_ms: 10_000_000_000,
                uses_max: 10,
                uses_per_buyer_max: 1,
            }],
            ..PerformanceSpec::plain(PerformanceId(7), 10_000_000_000, 140_000, 4, 4)
        };
        let commands = [
            Command::OpenPerformance(Box::new(spec)),
            Command::Hold {
                performance: PerformanceId(7),
                selection: Selection::Seats(vec![SeatId(0), SeatId(1)]),
                admission: None,
                offer: Some(OfferChoice::Discount(DiscountId(0))),
            },
            Command::Hold {
                performance: PerformanceId(7),
                selection: Selection::Seats(vec![SeatId(2)]),
                admission: None,
                offer: None,
            },
        ];
        for (n, command) in commands.into_iter().enumerate() {
            let request = Request {
                actor: ActorId(n as u64 + 1),
                key: IdempotencyKey::new(format!("k{n}")).expect("key"),
                command,
            };
            assert!(ledger.execute(1_000, &request).outcome.is_ok());
        }
        ledger
    }

    #[test]
    fn snapshots_keep_every_field_of_the_state() {
        let ledger = ledger_with_offers();
        let snapshot = Snapshot::encode(5, &ledger);
        let decoded = snapshot.decode().expect("a snapshot decodes");
        assert_eq!(decoded, ledger);
    }
}
