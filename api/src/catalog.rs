//! The catalog's announcement: what the API publishes when a show is published, in process
//! and on the `PICKET_CATALOG` JetStream stream the notifier reads for interest alerts.
//! Sending it is `publish.rs`'s job; this file is the message and where it goes.

use picket_edge::id::Id;
use serde::{Deserialize, Serialize};

/// What the catalog announces when a show is published (the notifier's interest alerts). It is
/// served over HTTP too (the publish answer's `event`), so its id is a string like every id a
/// client reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShowPublished {
    pub show: Id<i64>,
    pub title: String,
    pub category: String,
    pub region: String,
    pub sale_open_at_ms: Vec<u64>,
}

/// Where announcements go: the client crate names the bus (`PICKET_CATALOG`).
pub use picket_ledger_client::bus::{ANNOUNCEMENTS_STREAM, SHOW_PUBLISHED_SUBJECT};
