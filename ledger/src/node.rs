//! A ledger node: hosts some partitions, leading each one it holds the lease of and standing by
//! for the others. Commands arrive over NATS (the partition's JetStream command stream, or core
//! requests to the leader's command subject); the journal, leases and fencing epochs live in
//! PostgreSQL.
//!
//! ```text
//! standby ── follow the journal ── lease free? ── take it (epoch + 1) ── catch up ──▶ leader
//!    ▲                                                                                │
//!    └──── lease lost, fenced, NATS or PostgreSQL failure: stop at once, recover ◀────┘
//! ```
//!
//! A leader runs four tasks around the partition's single writer: the command consumer (the
//! stream in order from the last committed input sequence, and the command subject, which only
//! a leader subscribes to), the responder (outcome lookups, hold reads and seat-map
//! snapshots), the events publisher (committed entries to the events stream, in journal order),
//! and the lease keeper. Safety does not depend on timing: every commit checks the epoch in its
//! own transaction, so a deposed leader cannot commit, whatever its clock says.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::time::Duration;

use async_nats::jetstream;
use futures_util::StreamExt;
use futures_util::stream::FuturesOrdered;
use picket_ledger_client::bus::{
    self, BusConfig, BusError, DoorReply, DoorRequest, HoldReply, HoldRequest, LookupRequest,
    REPLY_HEADER, Reply, SnapshotReply, TicketReply, TicketRequest, TicketsReply, TicketsRequest,
    WaitlistReply, WaitlistRequest,
};
use picket_ledger_client::status::{self, LedgerStatus, PartitionReport, PartitionRole};
use picket_ledger_core::{Ledger, Request};
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::config::LedgerConfig;
use crate::journal::{Fence, Journal, JournalError, PgJournal, Snapshot, catch_up, recover};
use crate::metrics::{Metrics, partition_labels};
use crate::writer::{self, LedgerHandle, PendingOutcome};

/// Whether a node may lead.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Lead any hosted partition whose lease is free; stand by for the others.
    Auto,
    /// Only follow (a warm copy that never leads, e.g. while draining a machine).
    Standby,
}

#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// The writer settings; its `partition` is replaced per hosted partition.
    pub ledger: LedgerConfig,
    pub bus: BusConfig,
    /// The partitions this node hosts.
    pub partitions: Vec<u16>,
    pub role: Role,
    /// Unique per process: the lease holder's name.
    pub holder: String,
    /// A lease lasts this long unless renewed; a dead leader's partition is taken over after it.
    pub lease: Duration,
    /// How often a leader renews its lease.
    pub lease_renew_interval: Duration,
    /// How often a standby applies new journal entries and checks whether the lease is free.
    pub follow_interval: Duration,
    /// Wait after stepping down before trying to lead again.
    pub step_down_backoff: Duration,
    /// How often the node publishes its partitions' status on `picket.status.ledger.<holder>`
    /// (the admin dashboard's ledger panel).
    pub status_interval: Duration,
}

impl NodeConfig {
    pub fn new(ledger: LedgerConfig, bus: BusConfig, partitions: Vec<u16>, holder: String) -> Self {
        NodeConfig {
            ledger,
            bus,
            partitions,
            role: Role::Auto,
            holder,
            lease: Duration::from_millis(2_000),
            lease_renew_interval: Duration::from_millis(400),
            follow_interval: Duration::from_millis(100),
            step_down_backoff: Duration::from_millis(500),
            status_interval: status::STATUS_INTERVAL_DEFAULT,
        }
    }
}

/// Shortest lease: renewals every fifth of it must fit between scheduling hiccups.
pub const LEASE_MIN: Duration = Duration::from_millis(100);
/// Longest lease: a dead leader's partition is taken over only after it.
pub const LEASE_MAX: Duration = Duration::from_secs(60);
/// Bounds of [`NodeConfig::status_interval`]: more often only loads NATS; less often than a
/// board's staleness ([`status::STATUS_STALE_AFTER`]) would make a live node look gone.
pub const STATUS_INTERVAL_MIN: Duration = Duration::from_millis(50);
pub const STATUS_INTERVAL_MAX: Duration = Duration::from_secs(2);

impl NodeConfig {
    /// Every setting out of its bounds, each named with the bound it breaks (empty: all good).
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !(LEASE_MIN..=LEASE_MAX).contains(&self.lease) {
            problems.push(format!(
                "lease must be {} to {} ms, got {} ms",
                LEASE_MIN.as_millis(),
                LEASE_MAX.as_millis(),
                self.lease.as_millis()
            ));
        }
        if !(STATUS_INTERVAL_MIN..=STATUS_INTERVAL_MAX).contains(&self.status_interval) {
            problems.push(format!(
                "status_interval must be {} to {} ms, got {} ms",
                STATUS_INTERVAL_MIN.as_millis(),
                STATUS_INTERVAL_MAX.as_millis(),
                self.status_interval.as_millis()
            ));
        }
        if self.lease_renew_interval.is_zero() || self.lease_renew_interval >= self.lease {
            problems.push("lease_renew_interval must be above zero and below the lease".into());
        }
        let mut hosted = self.partitions.clone();
        hosted.sort_unstable();
        hosted.dedup();
        if hosted.len() != self.partitions.len() {
            problems.push("partitions are listed more than once".into());
        }
        if self.bus.partitions == 0 {
            problems.push("the deployment needs at least one partition".into());
        }
        problems
    }
}

#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error("the writer stopped")]
    WriterStopped,
}

const ROLE_STANDBY: u8 = 0;
const ROLE_LEADER: u8 = 1;

/// What `/healthz` says about one hosted partition.
#[derive(Clone, Debug, Serialize)]
pub struct PartitionStatus {
    pub partition: u16,
    pub role: &'static str,
    pub epoch: u64,
    pub journal_seq: u64,
    /// How long since this node last knew the partition had a leader (itself, or another node
    /// holding an unexpired lease). Past a lease, the partition is leaderless.
    pub leaderless_ms: u64,
    /// `leaderless_ms` is longer than a lease: no node serves the partition.
    pub leaderless: bool,
}

struct PartitionState {
    partition: u16,
    role: AtomicU8,
    epoch: AtomicU64,
    seq: AtomicU64,
    /// The node's start, the origin of `leader_seen_ms`.
    started: Instant,
    /// When (ms after `started`) a leader was last known: this node renewed or took the lease,
    /// or found it held by another node. Starts at 0, so a new node gives the partition a lease
    /// to show its leader.
    leader_seen_ms: AtomicU64,
    lease: Duration,
}

impl PartitionState {
    fn leader_seen(&self) {
        let now = self.started.elapsed().as_millis() as u64;
        self.leader_seen_ms.fetch_max(now, Ordering::Relaxed);
    }

    fn leaderless_for(&self) -> Duration {
        let seen = Duration::from_millis(self.leader_seen_ms.load(Ordering::Relaxed));
        self.started.elapsed().saturating_sub(seen)
    }

    fn report(&self) -> PartitionReport {
        let status = self.status();
        PartitionReport {
            partition: status.partition,
            role: if status.role == "leader" {
                PartitionRole::Leader
            } else {
                PartitionRole::Standby
            },
            epoch: status.epoch,
            journal_seq: status.journal_seq,
            leaderless: status.leaderless,
        }
    }

    fn status(&self) -> PartitionStatus {
        let leaderless_for = self.leaderless_for();
        PartitionStatus {
            partition: self.partition,
            role: match self.role.load(Ordering::Relaxed) {
                ROLE_LEADER => "leader",
                _ => "standby",
            },
            epoch: self.epoch.load(Ordering::Relaxed),
            journal_seq: self.seq.load(Ordering::Relaxed),
            leaderless_ms: leaderless_for.as_millis() as u64,
            leaderless: leaderless_for > self.lease,
        }
    }
}

/// A running node: its partitions' tasks.
pub struct Node {
    states: Vec<Arc<PartitionState>>,
    /// The lease holder's name, also the node's id in its status messages.
    holder: String,
    nats: async_nats::Client,
    metrics: Arc<Metrics>,
    stop: watch::Sender<bool>,
    tasks: std::sync::Mutex<JoinSet<()>>,
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Node {
    /// Starts one task per hosted partition. Each stands by, and leads when it can.
    pub async fn start(
        config: NodeConfig,
        journal: PgJournal,
        nats: async_nats::Client,
        metrics: Arc<Metrics>,
    ) -> Result<Node, NodeError> {
        let js = jetstream::new(nats.clone());
        for partition in &config.partitions {
            bus::ensure_streams(&js, *partition, &config.bus).await?;
        }
        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();
        let mut states = Vec::new();
        let started = Instant::now();
        for partition in config.partitions.clone() {
            let state = Arc::new(PartitionState {
                partition,
                role: AtomicU8::new(ROLE_STANDBY),
                epoch: AtomicU64::new(0),
                seq: AtomicU64::new(0),
                started,
                leader_seen_ms: AtomicU64::new(0),
                lease: config.lease,
            });
            states.push(state.clone());
            let host = Host {
                config: config.clone(),
                journal: journal.clone(),
                nats: nats.clone(),
                js: js.clone(),
                metrics: metrics.clone(),
                state,
                partition,
                stopped: stopped.clone(),
            };
            tasks.spawn(host.run());
        }
        let reported = states.clone();
        let holder = config.holder.clone();
        let publisher = status::publish_every(
            nats.clone(),
            status::ledger_status_subject(&config.holder),
            config.status_interval,
            stopped.clone(),
            move || ledger_status(&holder, &reported, false),
        );
        tasks.spawn(async move {
            let _ = publisher.await;
        });
        Ok(Node {
            states,
            holder: config.holder.clone(),
            nats,
            metrics,
            stop,
            tasks: std::sync::Mutex::new(tasks),
        })
    }

    /// Each hosted partition's role and leadership, also set on the `leaderless_seconds`
    /// gauge: the gauge is read here, when asked, because the partition's task may be the very
    /// thing that is stuck.
    pub fn status(&self) -> Vec<PartitionStatus> {
        self.states
            .iter()
            .map(|state| {
                let status = state.status();
                self.metrics
                    .leaderless_seconds
                    .get_or_create(&partition_labels(state.partition))
                    .set(status.leaderless_ms as f64 / 1_000.0);
                status
            })
            .collect()
    }

    /// Leading partitions commit what they have queued and give up their leases; then every
    /// partition task ends.
    pub async fn shutdown(&self) {
        let _ = self.stop.send(true);
        let mut tasks = std::mem::take(&mut *lock(&self.tasks));
        while tasks.join_next().await.is_some() {}
        // The last status: the board forgets this node at once instead of after its staleness.
        let last = ledger_status(&self.holder, &self.states, true);
        let subject = status::ledger_status_subject(&self.holder);
        status::publish_last(&self.nats, subject, &last).await;
    }
}

/// What a node publishes on its status subject.
fn ledger_status(holder: &str, states: &[Arc<PartitionState>], stopped: bool) -> LedgerStatus {
    LedgerStatus {
        node: holder.to_owned(),
        partitions: states.iter().map(|state| state.report()).collect(),
        stopped,
    }
}

/// One hosted partition's life: standby, leader, standby, …
struct Host {
    config: NodeConfig,
    journal: PgJournal,
    nats: async_nats::Client,
    js: jetstream::Context,
    metrics: Arc<Metrics>,
    state: Arc<PartitionState>,
    partition: u16,
    stopped: watch::Receiver<bool>,
}

/// Why a leadership ended.
enum Ended {
    Shutdown,
    SteppedDown(&'static str),
}

impl Host {
    fn ledger_config(&self) -> LedgerConfig {
        let mut config = self.config.ledger.clone();
        config.partition = self.partition;
        config.leader_snapshots = false;
        config
    }

    fn stopping(&self) -> bool {
        *self.stopped.borrow()
    }

    fn nats_connected(&self) -> bool {
        self.nats.connection_state() == async_nats::connection::State::Connected
    }

    async fn run(mut self) {
        let labels = partition_labels(self.partition);
        while !self.stopping() {
            self.metrics.leader.get_or_create(&labels).set(0);
            self.state.role.store(ROLE_STANDBY, Ordering::Relaxed);
            let (ledger, seq, epoch) = match self.stand_by().await {
                Ok(Some(won)) => won,
                Ok(None) => return,
                Err(error) => {
                    tracing::warn!(partition = self.partition, %error, "standby failed; retrying");
                    self.pause(self.config.step_down_backoff).await;
                    continue;
                }
            };
            self.metrics.takeovers.inc();
            self.metrics.leader.get_or_create(&labels).set(1);
            self.state.role.store(ROLE_LEADER, Ordering::Relaxed);
            self.state.epoch.store(epoch, Ordering::Relaxed);
            tracing::info!(partition = self.partition, epoch, seq, "leading");
            match self.lead(ledger, seq, epoch).await {
                Ok(Ended::Shutdown) => return,
                Ok(Ended::SteppedDown(why)) => {
                    tracing::warn!(partition = self.partition, epoch, why, "stepped down");
                }
                Err(error) => {
                    tracing::warn!(partition = self.partition, epoch, %error, "stepped down");
                }
            }
            self.pause(self.config.step_down_backoff).await;
        }
    }

    async fn pause(&mut self, wait: Duration) {
        let _ = tokio::time::timeout(wait, self.stopped.changed()).await;
    }

    /// Recovers, then follows the journal until this node wins the lease (`Some`) or shuts
    /// down (`None`). Returns the ledger caught up after the takeover: once the epoch is bumped
    /// the old leader cannot commit, so the journal read then is complete.
    async fn stand_by(&mut self) -> Result<Option<(Ledger, u64, u64)>, NodeError> {
        let config = self.ledger_config();
        let page = config.replay_page_max;
        let (mut ledger, mut seq) = recover(&self.journal, self.partition, page).await?;
        let labels = partition_labels(self.partition);
        let mut snapshot_seq = seq;
        loop {
            seq = catch_up(&self.journal, self.partition, &mut ledger, seq, page).await?;
            self.state.seq.store(seq, Ordering::Relaxed);
            if seq - snapshot_seq >= config.snapshot_every_entries {
                // The standby writes the snapshots that bound replay, sparing the leader.
                let snapshot = Snapshot::encode(seq, &ledger);
                self.journal
                    .save_snapshot(self.partition, &snapshot)
                    .await?;
                self.metrics.snapshots.inc();
                snapshot_seq = seq;
                tracing::info!(partition = self.partition, seq, "standby saved a snapshot");
            }
            self.metrics
                .journal_seq
                .get_or_create(&labels)
                .set(seq as i64);
            // A node cut off from NATS must not take a lease it cannot serve: it would keep
            // the partition from a standby that can.
            if self.config.role == Role::Auto && self.nats_connected() {
                let holder = &self.config.holder;
                let lease = self.config.lease;
                match self
                    .journal
                    .acquire_lease(self.partition, holder, lease)
                    .await
                {
                    Ok(Some(epoch)) => {
                        self.state.leader_seen();
                        seq =
                            catch_up(&self.journal, self.partition, &mut ledger, seq, page).await?;
                        return Ok(Some((ledger, seq, epoch)));
                    }
                    // Refused: another node holds an unexpired lease.
                    Ok(None) => self.state.leader_seen(),
                    // The row is locked by a session that is stuck (until PostgreSQL ends it):
                    // keep following and try again, without rebuilding the state from scratch.
                    Err(error) if error.is_lock_timeout() => {
                        tracing::warn!(partition = self.partition, "lease row locked; retrying");
                    }
                    Err(error) => return Err(error.into()),
                }
            } else if self.journal.lease_held(self.partition).await? {
                self.state.leader_seen();
            }
            let last = self.journal.last_seq(self.partition).await?;
            let lag = last.saturating_sub(seq);
            self.metrics
                .standby_lag_entries
                .get_or_create(&labels)
                .set(lag as i64);
            if lag > 0 {
                continue;
            }
            tokio::select! {
                _ = self.stopped.changed() => return Ok(None),
                _ = tokio::time::sleep(self.config.follow_interval) => {}
            }
        }
    }

    /// Leads until shutdown or until leadership is lost in any way.
    async fn lead(&mut self, ledger: Ledger, seq: u64, epoch: u64) -> Result<Ended, NodeError> {
        let input_seq = self.journal.input_seq(self.partition).await?;
        let fence = Fence { epoch, input_seq };
        let config = self.ledger_config();
        let (handle, writer) = writer::start_leader(
            self.journal.clone(),
            &config,
            self.metrics.clone(),
            ledger,
            seq,
            fence,
        );
        let mut helpers: JoinSet<Result<(), NodeError>> = JoinSet::new();
        let consumer = Consumer {
            js: self.js.clone(),
            nats: self.nats.clone(),
            handle: handle.clone(),
            partition: self.partition,
            bus: self.config.bus.clone(),
        };
        helpers.spawn(consumer.run(input_seq));
        helpers.spawn(respond(self.nats.clone(), handle.clone(), self.partition));
        helpers.spawn(publish_events(
            self.js.clone(),
            self.journal.clone(),
            handle.clone(),
            self.partition,
            self.config.bus.clone(),
            config.replay_page_max,
        ));
        let ended = self.keep_lease(epoch, &handle, &writer, &mut helpers).await;
        helpers.abort_all();
        while helpers.join_next().await.is_some() {}
        match ended {
            Ended::Shutdown => {
                writer.shutdown().await;
                let _ = self
                    .journal
                    .release_lease(self.partition, &self.config.holder, epoch)
                    .await;
            }
            Ended::SteppedDown(_) => writer.abort().await,
        }
        Ok(ended)
    }

    async fn keep_lease(
        &mut self,
        epoch: u64,
        handle: &LedgerHandle,
        writer: &writer::WriterTask,
        helpers: &mut JoinSet<Result<(), NodeError>>,
    ) -> Ended {
        let mut renewed_at = Instant::now();
        let mut nats_seen_at = Instant::now();
        let mut ticker = tokio::time::interval(self.config.lease_renew_interval);
        loop {
            tokio::select! {
                _ = self.stopped.changed() => return Ended::Shutdown,
                done = helpers.join_next() => {
                    return match done {
                        Some(Ok(Err(error))) => {
                            tracing::warn!(partition = self.partition, %error, "leader task failed");
                            Ended::SteppedDown("a leader task failed")
                        }
                        _ => Ended::SteppedDown("a leader task ended"),
                    };
                }
                _ = ticker.tick() => {}
            }
            if writer.is_finished() || !handle.status().healthy {
                return Ended::SteppedDown("the writer stopped (fenced or a commit failed)");
            }
            if self.nats_connected() {
                nats_seen_at = Instant::now();
            } else if nats_seen_at.elapsed() >= self.config.lease {
                // Commands cannot reach this node: let a node that NATS reaches lead.
                return Ended::SteppedDown("cut off from NATS for a whole lease");
            }
            let renewal = self.journal.renew_lease(
                self.partition,
                &self.config.holder,
                epoch,
                self.config.lease,
            );
            match tokio::time::timeout(self.config.lease_renew_interval, renewal).await {
                Ok(Ok(true)) => {
                    renewed_at = Instant::now();
                    self.state.leader_seen();
                }
                Ok(Ok(false)) => return Ended::SteppedDown("another node took the lease"),
                Ok(Err(error)) => {
                    tracing::warn!(partition = self.partition, %error, "lease renewal failed")
                }
                Err(_) => tracing::warn!(partition = self.partition, "lease renewal timed out"),
            }
            self.state
                .seq
                .store(handle.status().journal_seq, Ordering::Relaxed);
            // Measured from the last renewal that was sent before this one succeeded: when it
            // is older than the lease, another node may already lead.
            if renewed_at.elapsed() >= self.config.lease {
                return Ended::SteppedDown("the lease ran out before it could be renewed");
            }
        }
    }
}

/// Feeds the writer the partition's commands from both transports — the command stream in
/// order from the last consumed input sequence, and requests on the leader's command subject —
/// and publishes each outcome once committed. The command subject is subscribed only here, so
/// only while this node leads: a standby never receives a command, and dropping the
/// subscription when leadership ends unsubscribes.
struct Consumer {
    js: jetstream::Context,
    nats: async_nats::Client,
    handle: LedgerHandle,
    partition: u16,
    bus: BusConfig,
}

/// A command's reply, once its outcome is committed (or the writer gave up on it).
async fn answer(pending: PendingOutcome, reply_to: Option<String>) -> (Option<String>, Reply) {
    let reply = match pending.await {
        Ok(Ok(outcome)) => Reply::Outcome { outcome },
        Ok(Err(_)) | Err(_) => Reply::Unavailable,
    };
    (reply_to, reply)
}

impl Consumer {
    async fn run(self, input_seq: u64) -> Result<(), NodeError> {
        let mut stream =
            bus::read_in_order(&self.js, bus::command_stream(self.partition), input_seq).await?;
        let mut direct = self
            .nats
            .subscribe(bus::command_request_subject(self.partition))
            .await
            .map_err(|e| BusError::Request(e.to_string()))?;
        // Outcomes arrive in the order the commands were queued (the writer executes in that
        // order and answers a batch at once), so waiting in order costs no latency; a batch's
        // replies are then published back to back without waiting for each, and the NATS
        // client writes them out together.
        let mut answers = FuturesOrdered::new();
        let inflight_max = self.bus.inflight_max.max(1);
        loop {
            let room = answers.len() < inflight_max;
            tokio::select! {
                Some((reply_to, reply)) = answers.next(), if !answers.is_empty() => {
                    self.reply(reply_to, &reply).await;
                }
                message = stream.next(), if room => {
                    let Some(message) = message else { return Ok(()) };
                    let message = message.map_err(BusError::jetstream)?;
                    let stream_seq = message.info().map_err(BusError::jetstream)?.stream_sequence;
                    let reply_to = message
                        .headers
                        .as_ref()
                        .and_then(|h| h.get(REPLY_HEADER))
                        .map(|v| v.as_str().to_owned());
                    if let Some(pending) = self.take(&message.payload, &reply_to, Some(stream_seq)).await? {
                        answers.push_back(answer(pending, reply_to));
                    }
                }
                message = direct.next(), if room => {
                    let Some(message) = message else {
                        return Err(BusError::Request("command subscription ended".into()).into());
                    };
                    let reply_to = message.reply.map(|subject| subject.to_string());
                    if let Some(pending) = self.take(&message.payload, &reply_to, None).await? {
                        answers.push_back(answer(pending, reply_to));
                    }
                }
            }
        }
    }

    /// Queues one command for the writer (waiting for room: the stream or the subscription
    /// holds the backlog); a command that cannot be read is answered at once.
    async fn take(
        &self,
        payload: &[u8],
        reply_to: &Option<String>,
        input_seq: Option<u64>,
    ) -> Result<Option<PendingOutcome>, NodeError> {
        let request = match self.decode(payload) {
            Ok(request) => request,
            Err(reply) => {
                self.reply(reply_to.clone(), &reply).await;
                return Ok(None);
            }
        };
        let pending = self
            .handle
            .enqueue(request, input_seq)
            .await
            .map_err(|_| NodeError::WriterStopped)?;
        Ok(Some(pending))
    }

    fn decode(&self, payload: &[u8]) -> Result<Request, Reply> {
        let request: Request = serde_json::from_slice(payload).map_err(|e| Reply::Invalid {
            reason: e.to_string(),
        })?;
        let owner = bus::partition_of(request.command.performance(), self.bus.partitions);
        if owner != self.partition {
            return Err(Reply::WrongPartition { partition: owner });
        }
        Ok(request)
    }

    async fn reply(&self, subject: Option<String>, reply: &Reply) {
        if let Some(subject) = subject {
            publish_reply(&self.nats, subject, reply).await;
        }
    }
}

async fn publish_reply(nats: &async_nats::Client, subject: String, reply: &Reply) {
    let payload = serde_json::to_vec(reply).expect("replies always encode");
    if let Err(error) = nats.publish(subject, payload.into()).await {
        tracing::debug!(%error, "reply not sent; the caller will look the outcome up");
    }
}

/// Answers outcome lookups and seat-map snapshot requests for the partition.
async fn respond(
    nats: async_nats::Client,
    handle: LedgerHandle,
    partition: u16,
) -> Result<(), NodeError> {
    let subscribe = |subject: String| {
        let nats = nats.clone();
        async move {
            nats.subscribe(subject)
                .await
                .map_err(|e| BusError::Request(e.to_string()))
        }
    };
    let mut lookups = subscribe(bus::lookup_subject(partition)).await?;
    let mut snapshots = subscribe(bus::snapshot_subject(partition)).await?;
    let mut holds = subscribe(bus::hold_subject(partition)).await?;
    let mut tickets = subscribe(bus::ticket_subject(partition)).await?;
    let mut pages = subscribe(bus::tickets_subject(partition)).await?;
    let mut doors = subscribe(bus::door_subject(partition)).await?;
    let mut waitlists = subscribe(bus::waitlist_subject(partition)).await?;
    loop {
        tokio::select! {
            Some(message) = lookups.next() => {
                let Some(reply_to) = message.reply else { continue };
                let reply = match serde_json::from_slice::<LookupRequest>(&message.payload) {
                    Ok(lookup) => match handle.lookup(lookup.actor, lookup.key).await {
                        Ok(Some(outcome)) => Reply::Outcome { outcome },
                        Ok(None) => Reply::Pending,
                        Err(_) => return Err(NodeError::WriterStopped),
                    },
                    Err(error) => Reply::Invalid { reason: error.to_string() },
                };
                publish_reply(&nats, reply_to.to_string(), &reply).await;
            }
            Some(message) = snapshots.next() => {
                let Some(reply_to) = message.reply else { continue };
                let subscription = handle.subscribe().await.map_err(|_| NodeError::WriterStopped)?;
                let snapshot = SnapshotReply {
                    partition,
                    seq: subscription.seq,
                    availability: subscription.availability,
                };
                let payload = serde_json::to_vec(&snapshot).expect("snapshots always encode");
                let _ = nats.publish(reply_to, payload.into()).await;
            }
            Some(message) = holds.next() => {
                let Some(reply_to) = message.reply else { continue };
                // A request that does not decode gets no answer: the caller times out, as it
                // would with a leader that is gone.
                let Ok(asked) = serde_json::from_slice::<HoldRequest>(&message.payload) else {
                    continue;
                };
                let hold = handle
                    .hold(asked.performance, asked.hold)
                    .await
                    .map_err(|_| NodeError::WriterStopped)?;
                let payload = serde_json::to_vec(&HoldReply { hold }).expect("holds always encode");
                let _ = nats.publish(reply_to, payload.into()).await;
            }
            Some(message) = tickets.next() => {
                let Some(reply_to) = message.reply else { continue };
                // Like a hold request: one that does not decode gets no answer.
                let Ok(asked) = serde_json::from_slice::<TicketRequest>(&message.payload) else {
                    continue;
                };
                let ticket = handle
                    .ticket(asked.performance, asked.ticket)
                    .await
                    .map_err(|_| NodeError::WriterStopped)?;
                let payload =
                    serde_json::to_vec(&TicketReply { ticket }).expect("tickets always encode");
                let _ = nats.publish(reply_to, payload.into()).await;
            }
            Some(message) = pages.next() => {
                let Some(reply_to) = message.reply else { continue };
                // Like a hold request: one that does not decode gets no answer. The page is at
                // most `TICKETS_PAGE_MAX` tickets, whatever the request asks.
                let Ok(asked) = serde_json::from_slice::<TicketsRequest>(&message.payload) else {
                    continue;
                };
                let tickets = handle
                    .tickets(asked.performance, asked.after, asked.limit)
                    .await
                    .map_err(|_| NodeError::WriterStopped)?;
                let payload =
                    serde_json::to_vec(&TicketsReply { tickets }).expect("tickets always encode");
                let _ = nats.publish(reply_to, payload.into()).await;
            }
            Some(message) = doors.next() => {
                let Some(reply_to) = message.reply else { continue };
                let Ok(asked) = serde_json::from_slice::<DoorRequest>(&message.payload) else {
                    continue;
                };
                let door = handle
                    .door_report(asked.performance)
                    .await
                    .map_err(|_| NodeError::WriterStopped)?;
                let payload =
                    serde_json::to_vec(&DoorReply { door }).expect("door reports always encode");
                let _ = nats.publish(reply_to, payload.into()).await;
            }
            Some(message) = waitlists.next() => {
                let Some(reply_to) = message.reply else { continue };
                let Ok(asked) = serde_json::from_slice::<WaitlistRequest>(&message.payload) else {
                    continue;
                };
                let waitlist = handle
                    .waitlist(asked.performance, asked.buyer)
                    .await
                    .map_err(|_| NodeError::WriterStopped)?;
                let payload = serde_json::to_vec(&WaitlistReply { waitlist })
                    .expect("waitlist reads always encode");
                let _ = nats.publish(reply_to, payload.into()).await;
            }
            else => return Err(BusError::Request("subscriptions ended".into()).into()),
        }
    }
}

/// Publishes committed entries to the events stream in journal order, so that the stream's
/// sequence equals the journal's: first what the stream lacks (read from the journal), then
/// each entry as the writer commits it. Each publish states the sequence it expects to follow,
/// so a deposed leader's late publish is refused instead of reordering the stream.
async fn publish_events(
    js: jetstream::Context,
    journal: PgJournal,
    handle: LedgerHandle,
    partition: u16,
    bus: BusConfig,
    page_max: u32,
) -> Result<(), NodeError> {
    let subscription = handle
        .subscribe()
        .await
        .map_err(|_| NodeError::WriterStopped)?;
    let mut events = subscription.events;
    let mut stream = js
        .get_stream(bus::events_stream(partition))
        .await
        .map_err(BusError::jetstream)?;
    let info = stream.info().await.map_err(BusError::jetstream)?;
    let mut published = info.state.last_sequence;
    let mut publisher = Publisher::new(js.clone(), partition, bus.events_inflight_max);
    published = publisher
        .publish_from_journal(&journal, published, subscription.seq, page_max)
        .await?;
    loop {
        let committed = match events.recv().await {
            Ok(committed) => committed,
            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                let last = journal.last_seq(partition).await?;
                published = publisher
                    .publish_from_journal(&journal, published, last, page_max)
                    .await?;
                continue;
            }
            Err(tokio::sync::broadcast::error::RecvError::Closed) => {
                return Err(NodeError::WriterStopped);
            }
        };
        if committed.seq <= published {
            continue;
        }
        if committed.seq > published + 1 {
            publisher
                .publish_from_journal(&journal, published, committed.seq - 1, page_max)
                .await?;
        }
        let payload = serde_json::to_vec(&*committed).expect("entries always encode");
        publisher.send(committed.seq, payload).await?;
        published = committed.seq;
        if events.is_empty() {
            publisher.flush().await?;
        }
    }
}

/// Pipelined event publishes: up to `inflight_max` acknowledgements outstanding.
struct Publisher {
    js: jetstream::Context,
    partition: u16,
    inflight_max: usize,
    pending: std::collections::VecDeque<jetstream::context::PublishAckFuture>,
}

impl Publisher {
    fn new(js: jetstream::Context, partition: u16, inflight_max: usize) -> Self {
        Publisher {
            js,
            partition,
            inflight_max: inflight_max.max(1),
            pending: Default::default(),
        }
    }

    async fn send(&mut self, seq: u64, payload: Vec<u8>) -> Result<(), NodeError> {
        if self.pending.len() >= self.inflight_max
            && let Some(ack) = self.pending.pop_front()
        {
            ack.await.map_err(BusError::jetstream)?;
        }
        let publish = jetstream::message::PublishMessage::build()
            .payload(payload.into())
            .message_id(bus::event_message_id(self.partition, seq))
            .expected_last_sequence(seq - 1);
        let ack = self
            .js
            .send_publish(bus::events_subject(self.partition), publish)
            .await
            .map_err(BusError::jetstream)?;
        self.pending.push_back(ack);
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), NodeError> {
        while let Some(ack) = self.pending.pop_front() {
            ack.await.map_err(BusError::jetstream)?;
        }
        Ok(())
    }

    /// Publishes journal entries after `published` up to `until`; returns the last published.
    async fn publish_from_journal(
        &mut self,
        journal: &PgJournal,
        mut published: u64,
        until: u64,
        page_max: u32,
    ) -> Result<u64, NodeError> {
        while published < until {
            let page = journal
                .read_after(self.partition, published, page_max)
                .await?;
            if page.is_empty() {
                break;
            }
            for entry in page.into_iter().take_while(|e| e.seq <= until) {
                let payload = format!(
                    r#"{{"partition":{},"seq":{},"at_ms":{},"events":{}}}"#,
                    self.partition, entry.seq, entry.recorded_at_ms, entry.events_json
                );
                self.send(entry.seq, payload.into_bytes()).await?;
                published = entry.seq;
            }
        }
        self.flush().await?;
        Ok(published)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(started_ago: Duration, lease: Duration) -> PartitionState {
        PartitionState {
            partition: 0,
            role: AtomicU8::new(ROLE_STANDBY),
            epoch: AtomicU64::new(0),
            seq: AtomicU64::new(0),
            started: Instant::now() - started_ago,
            leader_seen_ms: AtomicU64::new(0),
            lease,
        }
    }

    #[test]
    fn a_partition_is_leaderless_only_past_a_lease_without_a_leader() {
        let lease = Duration::from_millis(1_000);
        // A new node gives the partition a lease to show its leader.
        assert!(!state(Duration::from_millis(900), lease).status().leaderless);
        let stuck = state(Duration::from_millis(1_500), lease);
        let status = stuck.status();
        assert!(status.leaderless, "{status:?}");
        assert!(status.leaderless_ms >= 1_500, "{status:?}");
        stuck.leader_seen();
        let status = stuck.status();
        assert!(!status.leaderless, "{status:?}");
        assert!(status.leaderless_ms < 100, "{status:?}");
    }
}
