//! What the ledger hands its callers, whatever the transport: committed entries, the starting
//! point of a subscription, and why a command got no outcome.

use std::sync::Arc;

use picket_ledger_core::{Availability, Event};
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast;

/// Why a submitted command got no outcome. The command may or may not have been committed when
/// this is `Unavailable`; retrying with the same key tells.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    #[error("ledger overloaded: the command queue is full, retry later")]
    Overloaded,
    #[error("ledger unavailable: the journal commit failed, retry with the same key")]
    Unavailable,
    #[error("ledger stopped")]
    Stopped,
}

/// One committed journal entry, published after its commit (in process, and on the NATS events
/// stream as JSON). `seq` is the entry's journal sequence in its `partition`: a subscription
/// merges partitions, so a follower keeps its place per partition.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Committed {
    /// Absent in entries published before partitions were named (followers know the stream).
    #[serde(default)]
    pub partition: u16,
    pub seq: u64,
    pub at_ms: u64,
    pub events: Vec<Event>,
}

/// Decodes an events-stream message.
pub fn decode_committed(payload: &[u8]) -> Result<Committed, serde_json::Error> {
    serde_json::from_slice(payload)
}

/// A consistent starting point for following the ledger: every performance's seat map as of
/// journal `seq`, and the entries committed after it.
pub struct Subscription {
    pub seq: u64,
    pub availability: Vec<Availability>,
    pub events: broadcast::Receiver<Arc<Committed>>,
    /// Each partition followed, with the journal seq its live entries start after: entries up
    /// to it are in the seat maps but not in `events` (read them with `entries_after`).
    pub partitions: Vec<(u16, u64)>,
}
