//! A named, remembered reader of one partition's committed entries: what a service that turns
//! entries into something durable of its own (the notifier's inbox) reads with.
//!
//! Over NATS it is a durable JetStream pull consumer on the partition's events stream
//! (`PICKET_EVENTS_P<p>`), named by the caller, acknowledging with `AckPolicy::All`: the bus
//! remembers how far the reader got, shows the reader (and its backlog) to operators
//! (`nats consumer info PICKET_EVENTS_P0 picket-notifier`), and redelivers what was not
//! acknowledged. The caller's own cursor, moved in the same transaction as what it writes,
//! stays the record: the consumer starts after it when created, anything at or before it that
//! the bus redelivers is skipped, and a consumer found *ahead* of it (the caller's store was
//! restored) is recreated from it. So delivery is at least once and the caller's writes are
//! each applied once.
//!
//! In process there is no bus: the follower reads the writer's journal with
//! [`LedgerClient::entries_after`](crate::LedgerClient::entries_after).
//!
//! One follower per name at a time: two readers sharing a durable consumer would each get part
//! of the stream. A follower that meets a gap it cannot explain starts over from its cursor.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, consumer};
use futures_util::StreamExt;

use crate::bus::{self, BusError};
use crate::client::{ENTRIES_AFTER_MAX, LedgerClient, LocalLedger, NatsLedger, ReadError};
use crate::wire::Committed;

/// Entries delivered to a follower and not yet acknowledged, at most (JetStream's
/// `max_ack_pending`): bounds what the bus sends ahead of the caller's cursor.
pub const FOLLOW_ACK_PENDING_MAX: usize = 4_096;
/// How long the bus waits for an acknowledgement before it delivers an entry again.
pub const FOLLOW_ACK_WAIT: Duration = Duration::from_secs(60);
/// How long one fetch waits for entries that are not there yet.
pub const FOLLOW_FETCH_WAIT: Duration = Duration::from_millis(200);
/// A durable consumer no follower has read from for this long is removed by the bus (a
/// follower that comes back after that starts a new one from its own cursor): names of
/// processes that are gone do not pile up.
pub const FOLLOW_INACTIVE_MAX: Duration = Duration::from_secs(24 * 3_600);
/// Characters of a follower's name at most (JetStream's limit on consumer names is 255 in
/// practice; the name becomes part of subjects).
pub const FOLLOWER_NAME_LEN_MAX: usize = 64;

/// Reads a partition's committed entries in order for one named reader.
pub struct EntryFollower {
    partition: u16,
    inner: Inner,
}

enum Inner {
    InProcess(Arc<dyn LocalLedger>),
    Nats(Box<NatsFollower>),
}

struct NatsFollower {
    partition: u16,
    stream: jetstream::stream::Stream,
    name: String,
    consumer: consumer::PullConsumer,
    /// Fetched and not yet acknowledged, in sequence order, with the message that acknowledges
    /// it (and, by `AckPolicy::All`, everything before it).
    pending: VecDeque<(Committed, jetstream::Message)>,
    /// The last sequence delivered to this follower (fetched or skipped).
    delivered: u64,
}

impl LedgerClient {
    /// A follower of `partition` named `name` that starts after `cursor` (the caller's record of
    /// the last entry it applied). Over NATS this creates the durable consumer `name` on the
    /// partition's events stream, or takes it over where it exists.
    pub async fn follower(
        &self,
        partition: u16,
        name: &str,
        cursor: u64,
    ) -> Result<EntryFollower, ReadError> {
        let inner = match self {
            LedgerClient::InProcess(handle) => {
                if partition != handle.partition() {
                    return Err(ReadError::NoSuchPartition { partition });
                }
                Inner::InProcess(handle.clone())
            }
            LedgerClient::Nats(nats) => Inner::Nats(Box::new(
                NatsFollower::open(nats, partition, name, cursor).await?,
            )),
        };
        Ok(EntryFollower { partition, inner })
    }
}

impl EntryFollower {
    pub fn partition(&self) -> u16 {
        self.partition
    }

    /// Up to `limit` entries after `cursor`, in order (possibly none). Entries the bus no longer
    /// holds are [`ReadError::Gone`].
    pub async fn entries_after(
        &mut self,
        cursor: u64,
        limit: u32,
    ) -> Result<Vec<Committed>, ReadError> {
        let limit = limit.min(ENTRIES_AFTER_MAX);
        match &mut self.inner {
            Inner::InProcess(handle) => handle.entries_after(cursor, limit).await,
            Inner::Nats(follower) => follower.entries_after(cursor, limit).await,
        }
    }

    /// The caller has applied everything up to `cursor` durably: the bus may forget it.
    pub async fn applied_through(&mut self, cursor: u64) -> Result<(), ReadError> {
        match &mut self.inner {
            Inner::InProcess(_) => Ok(()),
            Inner::Nats(follower) => follower.applied_through(cursor).await,
        }
    }
}

impl NatsFollower {
    async fn open(
        nats: &NatsLedger,
        partition: u16,
        name: &str,
        cursor: u64,
    ) -> Result<NatsFollower, ReadError> {
        if partition >= nats.partitions() {
            return Err(ReadError::NoSuchPartition { partition });
        }
        let stream = nats
            .jetstream()
            .get_stream(bus::events_stream(partition))
            .await
            .map_err(BusError::jetstream)?;
        let name = follower_name(name);
        let consumer = durable_consumer(&stream, &name, cursor).await?;
        Ok(NatsFollower {
            partition,
            stream,
            name,
            consumer,
            pending: VecDeque::new(),
            delivered: cursor,
        })
    }

    async fn entries_after(
        &mut self,
        cursor: u64,
        limit: u32,
    ) -> Result<Vec<Committed>, ReadError> {
        if self.delivered < cursor {
            // The caller moved past what was delivered (it skipped entries the stream lost).
            self.restart(cursor).await?;
        }
        let wanted = limit as usize;
        // Entries at or before the cursor stay pending until `applied_through` acknowledges
        // them; only those after it are returned.
        let ahead = self
            .pending
            .iter()
            .filter(|(committed, _)| committed.seq > cursor)
            .count();
        if ahead < wanted {
            self.fetch(wanted - ahead).await?;
        }
        Ok(self
            .pending
            .iter()
            .filter(|(committed, _)| committed.seq > cursor)
            .take(wanted)
            .map(|(committed, _)| committed.clone())
            .collect())
    }

    /// Fetches up to `count` more entries after the last delivered one.
    async fn fetch(&mut self, count: usize) -> Result<(), ReadError> {
        let mut batch = self
            .consumer
            .fetch()
            .max_messages(count)
            .expires(FOLLOW_FETCH_WAIT)
            .messages()
            .await
            .map_err(BusError::jetstream)?;
        while let Some(message) = batch.next().await {
            let message = message.map_err(BusError::jetstream)?;
            let committed = bus::decode_entry(self.partition(), &message.payload)?;
            if committed.seq <= self.delivered {
                // Redelivered after an acknowledgement was lost or late: already have it.
                continue;
            }
            if committed.seq > self.delivered + 1 {
                return self.gap(committed.seq).await;
            }
            self.delivered = committed.seq;
            self.pending.push_back((committed, message));
        }
        Ok(())
    }

    /// The bus skipped from the last delivered entry to `seq`: retention dropped the entries
    /// between ([`ReadError::Gone`]), or the consumer was reset or shared behind this follower's
    /// back, in which case it starts over from what was delivered.
    async fn gap(&mut self, seq: u64) -> Result<(), ReadError> {
        let first = self
            .stream
            .info()
            .await
            .map_err(BusError::jetstream)?
            .state
            .first_sequence;
        if first > self.delivered + 1 {
            return Err(ReadError::Gone {
                partition: self.partition(),
                after: self.delivered,
                first,
            });
        }
        tracing::warn!(
            partition = self.partition(),
            consumer = %self.name,
            expected = self.delivered + 1,
            got = seq,
            "the events consumer skipped entries the stream still holds; starting it over"
        );
        let delivered = self.delivered;
        self.restart(delivered).await
    }

    /// Deletes and recreates the durable consumer to start after `cursor`.
    async fn restart(&mut self, cursor: u64) -> Result<(), ReadError> {
        self.pending.clear();
        let _ = self.stream.delete_consumer(&self.name).await;
        self.consumer = create(&self.stream, &self.name, cursor).await?;
        self.delivered = cursor;
        Ok(())
    }

    async fn applied_through(&mut self, cursor: u64) -> Result<(), ReadError> {
        // The last pending message at or before the cursor acknowledges all before it.
        let mut last = None;
        while self
            .pending
            .front()
            .is_some_and(|(committed, _)| committed.seq <= cursor)
        {
            last = self.pending.pop_front();
        }
        if let Some((_, message)) = last {
            message.ack().await.map_err(BusError::jetstream)?;
        }
        Ok(())
    }

    fn partition(&self) -> u16 {
        self.partition
    }
}

/// A consumer name JetStream accepts (`name` with anything else replaced by `_`): no `.`, `*`, `>` or whitespace, bounded.
pub fn follower_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .take(FOLLOWER_NAME_LEN_MAX)
        .collect()
}

/// The durable consumer `name`, created to start after `cursor`, or the existing one when it
/// has not acknowledged past `cursor` (entries it redelivers at or before the cursor are
/// skipped). One acknowledged past the cursor is recreated: the caller's record wins.
async fn durable_consumer(
    stream: &jetstream::stream::Stream,
    name: &str,
    cursor: u64,
) -> Result<consumer::PullConsumer, ReadError> {
    match stream.consumer_info(name).await {
        Ok(info) if info.ack_floor.stream_sequence <= cursor => {
            // Delivered but unacknowledged entries before the cursor come again; so do those
            // after it. Either way nothing after the cursor is lost.
            let consumer = stream
                .get_consumer(name)
                .await
                .map_err(BusError::jetstream)?;
            Ok(consumer)
        }
        Ok(_) => {
            let _ = stream.delete_consumer(name).await;
            create(stream, name, cursor).await
        }
        Err(_) => create(stream, name, cursor).await,
    }
}

async fn create(
    stream: &jetstream::stream::Stream,
    name: &str,
    cursor: u64,
) -> Result<consumer::PullConsumer, ReadError> {
    let consumer = stream
        .create_consumer(consumer::pull::Config {
            durable_name: Some(name.to_string()),
            description: Some("a Picket service following committed entries".into()),
            deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                start_sequence: cursor + 1,
            },
            ack_policy: consumer::AckPolicy::All,
            ack_wait: FOLLOW_ACK_WAIT,
            max_ack_pending: FOLLOW_ACK_PENDING_MAX as i64,
            inactive_threshold: FOLLOW_INACTIVE_MAX,
            ..Default::default()
        })
        .await
        .map_err(BusError::jetstream)?;
    Ok(consumer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_what_jetstream_accepts() {
        assert_eq!(follower_name("picket-notifier"), "picket-notifier");
        assert_eq!(follower_name("a.b *>c"), "a_b___c");
        assert_eq!(follower_name(&"x".repeat(100)).len(), FOLLOWER_NAME_LEN_MAX);
    }
}
