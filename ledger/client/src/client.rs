//! How other services (gateways, the API) reach the ledger: in process (`picket up` without
//! NATS, through a [`LocalLedger`] the server provides) or over NATS JetStream (see
//! [`crate::bus`] for the subjects).
//!
//! Over NATS a command goes to its partition's leader one of two ways
//! ([`BusConfig::command_transport`]):
//! - JetStream: published to the partition's command stream with its idempotency key as the
//!   message id, and the outcome comes back on this client's reply subject once the leader has
//!   committed it. When the reply does not come (the leader died, the publish was a duplicate
//!   within JetStream's window) the client asks the partition for the recorded outcome until it
//!   has one or [`BusConfig::outcome_wait_max`] passes. A command in the stream takes effect
//!   once whatever the caller does.
//! - Direct: a core NATS request to the leader's command subject, answered after the commit.
//!   Without an answer (no leader yet, a lost request or reply, a deposed leader's
//!   `Unavailable`) the client sends the same request again until it has an outcome or
//!   `outcome_wait_max` passes: the core answers a repeated key with the outcome it recorded, so
//!   sending again never books twice.
//!
//! Either way a caller that gave up retries with the same key and learns the outcome.
//!
//! Followers that must not miss an entry (the API's bookings projection) keep their place per
//! partition and read what they missed with [`LedgerClient::entries_after`]: in process from
//! the journal, over NATS from the partition's events stream (stream sequence = journal
//! sequence). The events stream keeps entries for `BusConfig::stream_age_max` and
//! `stream_messages_max` only; asking for older ones is [`ReadError::Gone`], never a silent
//! skip.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::jetstream;
use futures_util::StreamExt;
use futures_util::future::BoxFuture;
use picket_ledger_core::{
    ActorId, DoorReport, HoldId, HoldView, Outcome, PerformanceId, Request, TicketId, TicketView,
    WaitlistRead,
};
use serde::Serialize;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio::time::Instant;

use crate::bus::{
    self, BusConfig, BusError, CommandTransport, DoorReply, DoorRequest, HoldReply, HoldRequest,
    LookupRequest, REPLY_HEADER, Reply, SnapshotReply, TicketReply, TicketRequest, TicketsReply,
    TicketsRequest, WaitlistReply, WaitlistRequest,
};
use crate::wire::{Committed, SubmitError, Subscription};

/// Wait between two outcome lookups of a command that is not committed yet.
const LOOKUP_RETRY_DELAY: Duration = Duration::from_millis(50);
/// Committed entries buffered for the merged subscription over NATS.
const SUBSCRIPTION_BUFFER_MAX: usize = 4_096;
/// Most committed entries one [`LedgerClient::entries_after`] returns; larger limits are cut to
/// this.
pub const ENTRIES_AFTER_MAX: u32 = 1_024;

/// Why past committed entries could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The partition's events stream no longer holds the entries after `after`: its retention
    /// (`BusConfig::stream_age_max`, `stream_messages_max`) dropped everything before `first`.
    /// The entries `after + 1 .. first` cannot be read from the stream any more.
    #[error(
        "partition {partition}: entries {} to {} are no longer in the events stream (it starts at {first})",
        .after + 1,
        .first - 1
    )]
    Gone {
        partition: u16,
        after: u64,
        first: u64,
    },
    #[error("partition {partition} is not part of this ledger")]
    NoSuchPartition { partition: u16 },
    /// In process: the server's journal failed (its error, as the server reports it; the
    /// client does not know the server's journal types).
    #[error("the journal cannot be read: {0}")]
    Journal(String),
    #[error("the events stream cannot be read: {0}")]
    Bus(#[from] BusError),
}

/// A ledger partition in this process, as the client uses it: the server's writer handle
/// implements it, so the client calls the writer without depending on the server.
pub trait LocalLedger: Send + Sync {
    /// Sends a command and waits for its committed outcome.
    fn submit(&self, request: Request) -> BoxFuture<'_, Result<Outcome, SubmitError>>;
    /// Every seat map of the partition and the committed entries after them.
    fn subscribe(&self) -> BoxFuture<'_, Result<Subscription, SubmitError>>;
    /// Up to `limit` committed entries with seq > `after_seq`, in order, from the journal.
    fn entries_after(
        &self,
        after_seq: u64,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<Committed>, ReadError>>;
    /// One hold as the committed state has it (`None`: no such hold). A read beside the
    /// commands, never one of them.
    fn hold(
        &self,
        performance: PerformanceId,
        hold: HoldId,
    ) -> BoxFuture<'_, Result<Option<HoldView>, SubmitError>>;
    /// One ticket as the committed state has it (`None`: the performance has no such ticket).
    fn ticket(
        &self,
        performance: PerformanceId,
        ticket: TicketId,
    ) -> BoxFuture<'_, Result<Option<TicketView>, SubmitError>>;
    /// Up to `limit` (at most `TICKETS_PAGE_MAX`) of a performance's tickets with an id above
    /// `after`, by ascending id (`None`: no such performance). A read beside the commands.
    fn tickets(
        &self,
        performance: PerformanceId,
        after: Option<TicketId>,
        limit: u32,
    ) -> BoxFuture<'_, Result<Option<Vec<TicketView>>, SubmitError>>;
    /// A performance's door counters (`None`: no such performance). A read beside the commands.
    fn door_report(
        &self,
        performance: PerformanceId,
    ) -> BoxFuture<'_, Result<Option<DoorReport>, SubmitError>>;
    /// A performance's waitlist report and `buyer`'s entries in it (`None`: no such
    /// performance). A read beside the commands.
    fn waitlist(
        &self,
        performance: PerformanceId,
        buyer: Option<ActorId>,
    ) -> BoxFuture<'_, Result<Option<WaitlistRead>, SubmitError>>;
    /// The partition this ledger owns.
    fn partition(&self) -> u16;
    fn status(&self) -> LocalStatus;
}

/// What an in-process ledger partition reports to `/healthz`.
#[derive(Clone, Debug, Serialize)]
pub struct LocalStatus {
    pub healthy: bool,
    pub role: &'static str,
    pub partition: u16,
    pub journal_seq: u64,
    pub store: &'static str,
    pub queue_depth: usize,
}

/// The ledger as a caller sees it.
#[derive(Clone)]
pub enum LedgerClient {
    InProcess(Arc<dyn LocalLedger>),
    Nats(Arc<NatsLedger>),
}

/// What `/healthz` of a caller says about the ledger.
#[derive(Clone, Debug, Serialize)]
#[serde(tag = "transport", rename_all = "snake_case")]
pub enum ClientStatus {
    InProcess(LocalStatus),
    Nats { healthy: bool, partitions: u16 },
}

impl ClientStatus {
    pub fn healthy(&self) -> bool {
        match self {
            ClientStatus::InProcess(status) => status.healthy,
            ClientStatus::Nats { healthy, .. } => *healthy,
        }
    }
}

impl LedgerClient {
    /// The ledger partition running in this process (e.g. the server's writer handle).
    pub fn in_process(ledger: impl LocalLedger + 'static) -> Self {
        LedgerClient::InProcess(Arc::new(ledger))
    }

    /// Sends a command and waits for its committed outcome.
    pub async fn submit(&self, request: Request) -> Result<Outcome, SubmitError> {
        match self {
            LedgerClient::InProcess(handle) => handle.submit(request).await,
            LedgerClient::Nats(nats) => nats.submit(request).await,
        }
    }

    /// Every seat map and the committed entries after them.
    pub async fn subscribe(&self) -> Result<Subscription, SubmitError> {
        match self {
            LedgerClient::InProcess(handle) => handle.subscribe().await,
            LedgerClient::Nats(nats) => nats.subscribe().await,
        }
    }

    /// Up to `limit` (at most [`ENTRIES_AFTER_MAX`]) committed entries of `partition` with
    /// seq > `seq`, in order: fewer when fewer are committed (or, over NATS, published yet),
    /// none when there are none. In process they come from the journal, which keeps them all;
    /// over NATS from the partition's events stream, which may have dropped old ones
    /// ([`ReadError::Gone`]).
    pub async fn entries_after(
        &self,
        partition: u16,
        seq: u64,
        limit: u32,
    ) -> Result<Vec<Committed>, ReadError> {
        let limit = limit.min(ENTRIES_AFTER_MAX);
        match self {
            LedgerClient::InProcess(handle) => {
                if partition != handle.partition() {
                    return Err(ReadError::NoSuchPartition { partition });
                }
                handle.entries_after(seq, limit).await
            }
            LedgerClient::Nats(nats) => nats.entries_after(partition, seq, limit).await,
        }
    }

    /// One hold as the ledger committed it (`None`: no such hold): in process from the
    /// writer's state between batches, over NATS from the partition's leader.
    pub async fn hold(
        &self,
        performance: PerformanceId,
        hold: HoldId,
    ) -> Result<Option<HoldView>, SubmitError> {
        match self {
            LedgerClient::InProcess(handle) => handle.hold(performance, hold).await,
            LedgerClient::Nats(nats) => nats.hold(performance, hold).await,
        }
    }

    /// One ticket as the ledger committed it (`None`: the performance has no such ticket), read
    /// like [`LedgerClient::hold`]: what the door verifies a code against.
    pub async fn ticket(
        &self,
        performance: PerformanceId,
        ticket: TicketId,
    ) -> Result<Option<TicketView>, SubmitError> {
        match self {
            LedgerClient::InProcess(handle) => handle.ticket(performance, ticket).await,
            LedgerClient::Nats(nats) => nats.ticket(performance, ticket).await,
        }
    }

    /// Up to `limit` (at most `TICKETS_PAGE_MAX`) of a performance's tickets with an id above
    /// `after` (from the first when `None`), by ascending id, read like [`LedgerClient::hold`]:
    /// a page shorter than `limit` is the last. `None`: the ledger has no such performance.
    pub async fn tickets(
        &self,
        performance: PerformanceId,
        after: Option<TicketId>,
        limit: u32,
    ) -> Result<Option<Vec<TicketView>>, SubmitError> {
        match self {
            LedgerClient::InProcess(handle) => handle.tickets(performance, after, limit).await,
            LedgerClient::Nats(nats) => nats.tickets(performance, after, limit).await,
        }
    }

    /// A performance's door counters, read like [`LedgerClient::hold`]. `None`: the ledger has
    /// no such performance.
    pub async fn door_report(
        &self,
        performance: PerformanceId,
    ) -> Result<Option<DoorReport>, SubmitError> {
        match self {
            LedgerClient::InProcess(handle) => handle.door_report(performance).await,
            LedgerClient::Nats(nats) => nats.door_report(performance).await,
        }
    }

    /// A performance's waitlist report and `buyer`'s live entries in it, read like
    /// [`LedgerClient::hold`]. `None`: the ledger has no such performance.
    pub async fn waitlist(
        &self,
        performance: PerformanceId,
        buyer: Option<ActorId>,
    ) -> Result<Option<WaitlistRead>, SubmitError> {
        match self {
            LedgerClient::InProcess(handle) => handle.waitlist(performance, buyer).await,
            LedgerClient::Nats(nats) => nats.waitlist(performance, buyer).await,
        }
    }

    pub fn status(&self) -> ClientStatus {
        match self {
            LedgerClient::InProcess(handle) => ClientStatus::InProcess(handle.status()),
            LedgerClient::Nats(nats) => ClientStatus::Nats {
                healthy: nats.client.connection_state() == async_nats::connection::State::Connected,
                partitions: nats.config.partitions,
            },
        }
    }
}

/// The ledger over NATS.
pub struct NatsLedger {
    client: async_nats::Client,
    js: jetstream::Context,
    config: BusConfig,
    /// This client's reply subjects are `<reply_prefix>.<n>`.
    reply_prefix: String,
    next_reply: AtomicU64,
    waiting: Arc<Mutex<HashMap<u64, oneshot::Sender<Reply>>>>,
}

impl NatsLedger {
    /// The number of partitions the bus has.
    pub fn partitions(&self) -> u16 {
        self.config.partitions
    }

    /// The JetStream context this client reads streams with.
    pub(crate) fn jetstream(&self) -> &jetstream::Context {
        &self.js
    }

    /// Connects (with `config.auth`) and starts routing replies. `name` identifies this caller
    /// (e.g. the gateway id). The partitions' streams are the ledger nodes' to create and
    /// configure (`picket-ledger`'s node does it as it starts): a caller's NATS user needs no
    /// right to change them (deploy/nats/accounts.conf), and until a node has made them the
    /// ledger answers like one with no leader.
    pub async fn connect(config: BusConfig, name: &str) -> Result<Arc<NatsLedger>, BusError> {
        let client = bus::connect_with(&config.url, &config.auth, name).await?;
        let js = jetstream::new(client.clone());
        let reply_prefix = format!("picket.reply.{}", client.new_inbox().replace('.', "-"));
        let replies = client
            .subscribe(format!("{reply_prefix}.*"))
            .await
            .map_err(|e| BusError::Request(e.to_string()))?;
        let waiting: Arc<Mutex<HashMap<u64, oneshot::Sender<Reply>>>> = Arc::default();
        tokio::spawn(route_replies(replies, waiting.clone()));
        Ok(Arc::new(NatsLedger {
            client,
            js,
            config,
            reply_prefix,
            next_reply: AtomicU64::new(0),
            waiting,
        }))
    }

    pub async fn submit(&self, request: Request) -> Result<Outcome, SubmitError> {
        match self.config.command_transport {
            CommandTransport::JetStream => self.submit_to_stream(request).await,
            CommandTransport::Direct => self.submit_direct(request).await,
        }
    }

    /// Asks the partition's leader directly, again with the same request until an answer is an
    /// outcome: the first request may have been lost, queued behind others, or answered by a
    /// leader that was deposed meanwhile.
    async fn submit_direct(&self, request: Request) -> Result<Outcome, SubmitError> {
        let deadline = Instant::now() + self.config.outcome_wait_max;
        let partition = bus::partition_of(request.command.performance(), self.config.partitions);
        let subject = bus::command_request_subject(partition);
        let payload: bytes::Bytes = serde_json::to_vec(&request)
            .expect("requests always encode")
            .into();
        loop {
            let asked = self.client.request(subject.clone(), payload.clone());
            let wait = self
                .config
                .request_timeout
                .min(deadline.saturating_duration_since(Instant::now()));
            if let Ok(Ok(message)) = tokio::time::timeout(wait, asked).await {
                match serde_json::from_slice::<Reply>(&message.payload) {
                    Ok(Reply::Outcome { outcome }) => return Ok(outcome),
                    // The same request can only be refused the same way again.
                    Ok(Reply::Invalid { .. }) | Ok(Reply::WrongPartition { .. }) => {
                        return Err(SubmitError::Unavailable);
                    }
                    // `Unavailable`: not committed by that leader (deposed, or its commit
                    // failed); ask whoever leads now.
                    Ok(_) | Err(_) => {}
                }
            }
            // No responders (no leader yet), a time-out, or no outcome: ask again after a
            // pause, so a failover is not met with a storm of requests.
            if Instant::now() + LOOKUP_RETRY_DELAY >= deadline {
                return Err(SubmitError::Unavailable);
            }
            tokio::time::sleep(LOOKUP_RETRY_DELAY).await;
        }
    }

    /// Publishes to the partition's command stream and waits for the reply, then looks the
    /// outcome up.
    async fn submit_to_stream(&self, request: Request) -> Result<Outcome, SubmitError> {
        let deadline = Instant::now() + self.config.outcome_wait_max;
        let partition = bus::partition_of(request.command.performance(), self.config.partitions);
        let id = self.next_reply.fetch_add(1, Ordering::Relaxed);
        let (tx, rx) = oneshot::channel();
        lock(&self.waiting).insert(id, tx);
        let published = self.publish(partition, &request, id).await;
        let reply = match published {
            Ok(false) => tokio::time::timeout(self.config.request_timeout, rx)
                .await
                .ok()
                .and_then(Result::ok),
            // A duplicate within JetStream's window, or no acknowledgement: look it up.
            Ok(true) | Err(_) => None,
        };
        lock(&self.waiting).remove(&id);
        match reply {
            Some(Reply::Outcome { outcome }) => return Ok(outcome),
            Some(Reply::Invalid { .. }) | Some(Reply::WrongPartition { .. }) => {
                return Err(SubmitError::Unavailable);
            }
            _ => {}
        }
        if published.is_err() {
            // The command may not be in the stream: the caller retries with the same key.
            return Err(SubmitError::Unavailable);
        }
        self.look_up(partition, &request, deadline).await
    }

    /// Publishes the command; `Ok(true)` when JetStream had it already (a duplicate).
    async fn publish(&self, partition: u16, request: &Request, id: u64) -> Result<bool, BusError> {
        let payload = serde_json::to_vec(request).expect("requests always encode");
        let publish = jetstream::message::PublishMessage::build()
            .payload(payload.into())
            .message_id(bus::message_id(request))
            .header(REPLY_HEADER, format!("{}.{id}", self.reply_prefix).as_str());
        let timeout = self.config.request_timeout;
        let sent = self
            .js
            .send_publish(bus::command_subject(partition), publish)
            .await
            .map_err(BusError::jetstream)?;
        let ack = tokio::time::timeout(timeout, sent)
            .await
            .map_err(|_| BusError::JetStream("publish acknowledgement timed out".into()))?
            .map_err(BusError::jetstream)?;
        Ok(ack.duplicate)
    }

    /// Asks the partition's leader for the recorded outcome until it has one.
    async fn look_up(
        &self,
        partition: u16,
        request: &Request,
        deadline: Instant,
    ) -> Result<Outcome, SubmitError> {
        let lookup = LookupRequest {
            actor: request.actor,
            key: request.key.clone(),
        };
        let payload: bytes::Bytes = serde_json::to_vec(&lookup).expect("lookups encode").into();
        while Instant::now() < deadline {
            let asked = self
                .client
                .request(bus::lookup_subject(partition), payload.clone());
            if let Ok(Ok(message)) = tokio::time::timeout(self.config.request_timeout, asked).await
                && let Ok(Reply::Outcome { outcome }) = serde_json::from_slice(&message.payload)
            {
                return Ok(outcome);
            }
            tokio::time::sleep(LOOKUP_RETRY_DELAY).await;
        }
        Err(SubmitError::Unavailable)
    }

    /// Seat maps of every partition, then their committed entries as the leaders publish them.
    /// The subscription closes when any partition's stream fails; the caller subscribes again.
    pub async fn subscribe(&self) -> Result<Subscription, SubmitError> {
        let (tx, _) = broadcast::channel(SUBSCRIPTION_BUFFER_MAX);
        let events = tx.subscribe();
        let mut availability = Vec::new();
        let (merged_tx, merged_rx) = mpsc::channel::<Committed>(SUBSCRIPTION_BUFFER_MAX);
        let mut followers = tokio::task::JoinSet::new();
        let mut partitions = Vec::new();
        for partition in 0..self.config.partitions {
            let snapshot = self
                .snapshot(partition)
                .await
                .map_err(|_| SubmitError::Unavailable)?;
            availability.extend(snapshot.availability);
            partitions.push((partition, snapshot.seq));
            followers.spawn(follow_events(
                self.js.clone(),
                partition,
                snapshot.seq,
                merged_tx.clone(),
            ));
        }
        drop(merged_tx);
        tokio::spawn(merge(followers, merged_rx, tx));
        Ok(Subscription {
            seq: 0,
            availability,
            events,
            partitions,
        })
    }

    /// Up to `limit` entries of `partition`'s events stream after stream sequence `seq` (which
    /// is the journal sequence), in order.
    pub async fn entries_after(
        &self,
        partition: u16,
        seq: u64,
        limit: u32,
    ) -> Result<Vec<Committed>, ReadError> {
        if partition >= self.config.partitions {
            return Err(ReadError::NoSuchPartition { partition });
        }
        let mut stream = self
            .js
            .get_stream(bus::events_stream(partition))
            .await
            .map_err(BusError::jetstream)?;
        let state = &stream.info().await.map_err(BusError::jetstream)?.state;
        let (first, last) = (state.first_sequence, state.last_sequence);
        if last <= seq || limit == 0 {
            return Ok(Vec::new());
        }
        if first > seq + 1 {
            return Err(ReadError::Gone {
                partition,
                after: seq,
                first,
            });
        }
        let wanted = (last - seq).min(u64::from(limit));
        let mut messages = bus::read_in_order(&self.js, bus::events_stream(partition), seq).await?;
        let mut entries = Vec::with_capacity(wanted as usize);
        let mut next = seq + 1;
        while (entries.len() as u64) < wanted {
            let message = tokio::time::timeout(self.config.request_timeout, messages.next())
                .await
                .map_err(|_| BusError::JetStream("reading the events stream timed out".into()))?
                .ok_or_else(|| BusError::JetStream("events stream ended".into()))?
                .map_err(BusError::jetstream)?;
            let committed = bus::decode_entry(partition, &message.payload)?;
            if committed.seq < next {
                continue;
            }
            if committed.seq > next {
                // Only retention removes messages, and only from the front of the stream.
                return Err(ReadError::Gone {
                    partition,
                    after: next - 1,
                    first: committed.seq,
                });
            }
            next += 1;
            entries.push(committed);
        }
        Ok(entries)
    }

    /// One hold, asked of its partition's leader.
    pub async fn hold(
        &self,
        performance: PerformanceId,
        hold: HoldId,
    ) -> Result<Option<HoldView>, SubmitError> {
        let request = HoldRequest { performance, hold };
        let reply: HoldReply = self.ask(performance, bus::hold_subject, &request).await?;
        Ok(reply.hold)
    }

    /// One ticket, asked of its partition's leader.
    pub async fn ticket(
        &self,
        performance: PerformanceId,
        ticket: TicketId,
    ) -> Result<Option<TicketView>, SubmitError> {
        let request = TicketRequest {
            performance,
            ticket,
        };
        let reply: TicketReply = self.ask(performance, bus::ticket_subject, &request).await?;
        Ok(reply.ticket)
    }

    /// A page of a performance's tickets, asked of its partition's leader.
    pub async fn tickets(
        &self,
        performance: PerformanceId,
        after: Option<TicketId>,
        limit: u32,
    ) -> Result<Option<Vec<TicketView>>, SubmitError> {
        let request = TicketsRequest {
            performance,
            after,
            limit,
        };
        let reply: TicketsReply = self
            .ask(performance, bus::tickets_subject, &request)
            .await?;
        Ok(reply.tickets)
    }

    /// A performance's door counters, asked of its partition's leader.
    pub async fn door_report(
        &self,
        performance: PerformanceId,
    ) -> Result<Option<DoorReport>, SubmitError> {
        let request = DoorRequest { performance };
        let reply: DoorReply = self.ask(performance, bus::door_subject, &request).await?;
        Ok(reply.door)
    }

    /// A performance's waitlist (and one buyer's entries), asked of its partition's leader.
    pub async fn waitlist(
        &self,
        performance: PerformanceId,
        buyer: Option<ActorId>,
    ) -> Result<Option<WaitlistRead>, SubmitError> {
        let request = WaitlistRequest { performance, buyer };
        let reply: WaitlistReply = self
            .ask(performance, bus::waitlist_subject, &request)
            .await?;
        Ok(reply.waitlist)
    }

    /// A read request to the leader of `performance`'s partition; no answer in time, or one
    /// that does not decode, is `Unavailable`.
    async fn ask<T: serde::de::DeserializeOwned>(
        &self,
        performance: PerformanceId,
        subject: fn(u16) -> String,
        request: &impl Serialize,
    ) -> Result<T, SubmitError> {
        let partition = bus::partition_of(performance, self.config.partitions);
        let payload = serde_json::to_vec(request).expect("read requests encode");
        let asked = self.client.request(subject(partition), payload.into());
        let message = tokio::time::timeout(self.config.request_timeout, asked)
            .await
            .map_err(|_| SubmitError::Unavailable)?
            .map_err(|_| SubmitError::Unavailable)?;
        serde_json::from_slice(&message.payload).map_err(|_| SubmitError::Unavailable)
    }

    async fn snapshot(&self, partition: u16) -> Result<SnapshotReply, BusError> {
        let asked = self
            .client
            .request(bus::snapshot_subject(partition), bytes::Bytes::new());
        let message = tokio::time::timeout(self.config.request_timeout, asked)
            .await
            .map_err(|_| {
                BusError::Request(format!("no leader answered for partition {partition}"))
            })?
            .map_err(|e| BusError::Request(e.to_string()))?;
        serde_json::from_slice(&message.payload).map_err(|e| BusError::Request(e.to_string()))
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

async fn route_replies(
    mut replies: async_nats::Subscriber,
    waiting: Arc<Mutex<HashMap<u64, oneshot::Sender<Reply>>>>,
) {
    while let Some(message) = replies.next().await {
        let Some(id) = message
            .subject
            .rsplit('.')
            .next()
            .and_then(|n| n.parse::<u64>().ok())
        else {
            continue;
        };
        let Ok(reply) = serde_json::from_slice::<Reply>(&message.payload) else {
            continue;
        };
        if let Some(tx) = lock(&waiting).remove(&id) {
            let _ = tx.send(reply);
        }
    }
}

/// Follows one partition's events stream from just after `seq`, in order.
async fn follow_events(
    js: jetstream::Context,
    partition: u16,
    seq: u64,
    out: mpsc::Sender<Committed>,
) -> Result<(), BusError> {
    let mut messages = bus::read_in_order(&js, bus::events_stream(partition), seq).await?;
    let mut last = seq;
    while let Some(message) = messages.next().await {
        let message = message.map_err(BusError::jetstream)?;
        let committed = bus::decode_entry(partition, &message.payload)?;
        if committed.seq <= last {
            continue;
        }
        last = committed.seq;
        if out.send(committed).await.is_err() {
            return Ok(());
        }
    }
    Err(BusError::JetStream("events stream ended".into()))
}

/// Forwards every partition's entries to the subscription; ends it (closing the channel) when
/// any partition's follower stops or nobody listens any more.
async fn merge(
    mut followers: tokio::task::JoinSet<Result<(), BusError>>,
    mut merged: mpsc::Receiver<Committed>,
    out: broadcast::Sender<Arc<Committed>>,
) {
    loop {
        tokio::select! {
            entry = merged.recv() => match entry {
                Some(entry) => {
                    if out.send(Arc::new(entry)).is_err() {
                        break;
                    }
                }
                None => break,
            },
            done = followers.join_next() => {
                if let Some(Ok(Err(error))) = &done {
                    tracing::warn!(%error, "following the ledger's events failed; resubscribing");
                }
                break;
            }
        }
    }
    followers.abort_all();
}
