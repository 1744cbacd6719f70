//! The single writer of one partition: it owns the core [`Ledger`], executes commands in batches,
//! group-commits each batch's journal entries in one transaction, and only then replies.
//!
//! ```text
//! submit ──▶ bounded queue ──▶ writer: execute batch on the core ──▶ journal commit ──▶ replies
//! ```
//!
//! If a commit fails the in-memory state may be ahead of the journal, so the writer answers the
//! batch with `Unavailable` and rebuilds its state from the journal before taking more work.
//! Callers retry with the same idempotency key and get the outcome that was (or was not)
//! committed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures_util::future::BoxFuture;
use picket_ledger_client::{
    Committed, LocalLedger, LocalStatus, ReadError, SubmitError, Subscription,
};
use picket_ledger_core::{
    ActorId, Command, DoorReport, Event, HoldId, HoldView, IdempotencyKey, Ledger, Outcome,
    PerformanceId, Request, TicketId, TicketView, WaitlistRead,
};
use tokio::sync::{broadcast, mpsc, oneshot, watch};
use tokio::task::JoinHandle;
use tokio::time::{Instant, MissedTickBehavior};

use crate::config::LedgerConfig;
use crate::journal::{Entry, Fence, Journal, JournalError, Snapshot, recover};
use crate::metrics::Metrics;

/// Wait between attempts to rebuild state after a failed commit.
const RECOVER_RETRY_DELAY: Duration = Duration::from_millis(500);

struct Submission {
    request: Request,
    /// The command stream's sequence of this command, when it came from one (NATS JetStream).
    input_seq: Option<u64>,
    reply: oneshot::Sender<Result<Outcome, SubmitError>>,
}

/// A command's outcome, once the writer has committed it.
pub type PendingOutcome = oneshot::Receiver<Result<Outcome, SubmitError>>;

/// What the writer's queue carries: commands, requests to follow the committed events, and
/// lookups of recorded outcomes.
enum Work {
    Command(Submission),
    Subscribe(oneshot::Sender<Subscription>),
    Lookup {
        actor: ActorId,
        key: IdempotencyKey,
        reply: oneshot::Sender<Option<Outcome>>,
    },
    /// A read of one hold, answered like a lookup: at once, from the committed state.
    Hold {
        performance: PerformanceId,
        hold: HoldId,
        reply: oneshot::Sender<Option<HoldView>>,
    },
    /// A read of one ticket (the door's and its holder's), answered the same way.
    Ticket {
        performance: PerformanceId,
        ticket: TicketId,
        reply: oneshot::Sender<Option<TicketView>>,
    },
    /// A page of a performance's tickets (the door's manifest), answered the same way.
    Tickets {
        performance: PerformanceId,
        after: Option<TicketId>,
        limit: usize,
        reply: oneshot::Sender<Option<Vec<TicketView>>>,
    },
    /// A performance's door counters, answered the same way.
    Door {
        performance: PerformanceId,
        reply: oneshot::Sender<Option<DoorReport>>,
    },
    /// A performance's waitlist (and one buyer's entries in it), answered the same way.
    Waitlist {
        performance: PerformanceId,
        buyer: Option<ActorId>,
        reply: oneshot::Sender<Option<WaitlistRead>>,
    },
}

struct SharedStatus {
    healthy: AtomicBool,
    journal_seq: AtomicU64,
}

/// The journal as past entries are read from it, whatever its store.
trait EntryReader: Send + Sync {
    fn read_after(
        &self,
        partition: u16,
        after_seq: u64,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<Entry>, JournalError>>;
}

impl<J: Journal> EntryReader for J {
    fn read_after(
        &self,
        partition: u16,
        after_seq: u64,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<Entry>, JournalError>> {
        Box::pin(Journal::read_after(self, partition, after_seq, limit))
    }
}

/// A cheap, cloneable way to send commands to the writer.
#[derive(Clone)]
pub struct LedgerHandle {
    queue: mpsc::Sender<Work>,
    shared: Arc<SharedStatus>,
    metrics: Arc<Metrics>,
    partition: u16,
    store: &'static str,
    /// Past entries are read from the journal directly, not through the writer's queue.
    journal: Arc<dyn EntryReader>,
}

impl LedgerHandle {
    /// Sends a command and waits for its committed outcome. Refuses at once with `Overloaded`
    /// when [`LedgerConfig::command_queue_max`] commands are already waiting.
    pub async fn submit(&self, request: Request) -> Result<Outcome, SubmitError> {
        let (reply, outcome) = oneshot::channel();
        let submission = Submission {
            request,
            input_seq: None,
            reply,
        };
        self.queue
            .try_send(Work::Command(submission))
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(_) => {
                    self.metrics.overloaded.inc();
                    SubmitError::Overloaded
                }
                mpsc::error::TrySendError::Closed(_) => SubmitError::Stopped,
            })?;
        outcome.await.map_err(|_| SubmitError::Stopped)?
    }

    /// Queues a command read from the command stream at `input_seq` (`None`: one that came as a
    /// request, outside the stream), waiting for room in the queue (the stream or the
    /// subscription holds the backlog), and returns where its outcome will arrive. Commands are
    /// executed in the order they are queued.
    pub async fn enqueue(
        &self,
        request: Request,
        input_seq: Option<u64>,
    ) -> Result<PendingOutcome, SubmitError> {
        let (reply, outcome) = oneshot::channel();
        let submission = Submission {
            request,
            input_seq,
            reply,
        };
        self.queue
            .send(Work::Command(submission))
            .await
            .map_err(|_| SubmitError::Stopped)?;
        Ok(outcome)
    }

    /// The committed outcome recorded for `(actor, key)`, if any: how a caller whose reply was
    /// lost learns what happened.
    pub async fn lookup(
        &self,
        actor: ActorId,
        key: IdempotencyKey,
    ) -> Result<Option<Outcome>, SubmitError> {
        let (reply, outcome) = oneshot::channel();
        self.queue
            .send(Work::Lookup { actor, key, reply })
            .await
            .map_err(|_| SubmitError::Stopped)?;
        outcome.await.map_err(|_| SubmitError::Stopped)
    }

    /// One hold as the committed state has it: answered between batches, never executed as a
    /// command (nothing is journaled, no key is recorded).
    pub async fn hold(
        &self,
        performance: PerformanceId,
        hold: HoldId,
    ) -> Result<Option<HoldView>, SubmitError> {
        let (reply, view) = oneshot::channel();
        self.queue
            .send(Work::Hold {
                performance,
                hold,
                reply,
            })
            .await
            .map_err(|_| SubmitError::Stopped)?;
        view.await.map_err(|_| SubmitError::Stopped)
    }

    /// One ticket as the committed state has it, read like [`LedgerHandle::hold`].
    pub async fn ticket(
        &self,
        performance: PerformanceId,
        ticket: TicketId,
    ) -> Result<Option<TicketView>, SubmitError> {
        let (reply, view) = oneshot::channel();
        self.queue
            .send(Work::Ticket {
                performance,
                ticket,
                reply,
            })
            .await
            .map_err(|_| SubmitError::Stopped)?;
        view.await.map_err(|_| SubmitError::Stopped)
    }

    /// Up to `limit` (at most `TICKETS_PAGE_MAX`) of a performance's tickets with an id above
    /// `after`, by ascending id, read like [`LedgerHandle::hold`] (`None`: no such performance).
    pub async fn tickets(
        &self,
        performance: PerformanceId,
        after: Option<TicketId>,
        limit: u32,
    ) -> Result<Option<Vec<TicketView>>, SubmitError> {
        let (reply, page) = oneshot::channel();
        self.queue
            .send(Work::Tickets {
                performance,
                after,
                limit: limit as usize,
                reply,
            })
            .await
            .map_err(|_| SubmitError::Stopped)?;
        page.await.map_err(|_| SubmitError::Stopped)
    }

    /// A performance's door counters, read like [`LedgerHandle::hold`] (`None`: no such
    /// performance).
    pub async fn door_report(
        &self,
        performance: PerformanceId,
    ) -> Result<Option<DoorReport>, SubmitError> {
        let (reply, report) = oneshot::channel();
        self.queue
            .send(Work::Door { performance, reply })
            .await
            .map_err(|_| SubmitError::Stopped)?;
        report.await.map_err(|_| SubmitError::Stopped)
    }

    /// A performance's waitlist report and `buyer`'s entries in it, read like
    /// [`LedgerHandle::hold`] (`None`: no such performance).
    pub async fn waitlist(
        &self,
        performance: PerformanceId,
        buyer: Option<ActorId>,
    ) -> Result<Option<WaitlistRead>, SubmitError> {
        let (reply, read) = oneshot::channel();
        self.queue
            .send(Work::Waitlist {
                performance,
                buyer,
                reply,
            })
            .await
            .map_err(|_| SubmitError::Stopped)?;
        read.await.map_err(|_| SubmitError::Stopped)
    }

    /// Follows the committed events from a consistent snapshot of every seat map. Waits behind
    /// the commands already queued.
    pub async fn subscribe(&self) -> Result<Subscription, SubmitError> {
        let (reply, subscription) = oneshot::channel();
        self.queue
            .send(Work::Subscribe(reply))
            .await
            .map_err(|_| SubmitError::Stopped)?;
        subscription.await.map_err(|_| SubmitError::Stopped)
    }

    /// The partition this writer owns.
    pub fn partition(&self) -> u16 {
        self.partition
    }

    /// Up to `limit` committed entries with seq > `after_seq`, in order, read from the journal
    /// (which keeps every entry): how a follower catches up on what it missed.
    pub async fn entries_after(
        &self,
        after_seq: u64,
        limit: u32,
    ) -> Result<Vec<Committed>, JournalError> {
        let entries = self
            .journal
            .read_after(self.partition, after_seq, limit)
            .await?;
        entries
            .iter()
            .map(|entry| entry.committed(self.partition))
            .collect()
    }

    /// What `/healthz` reports.
    pub fn status(&self) -> LocalStatus {
        LocalStatus {
            healthy: self.shared.healthy.load(Ordering::Relaxed) && !self.queue.is_closed(),
            role: "leader",
            partition: self.partition,
            journal_seq: self.shared.journal_seq.load(Ordering::Relaxed),
            store: self.store,
            queue_depth: self.queue.max_capacity() - self.queue.capacity(),
        }
    }
}

/// How a `LedgerClient` in the same process reaches the writer.
impl LocalLedger for LedgerHandle {
    fn submit(&self, request: Request) -> BoxFuture<'_, Result<Outcome, SubmitError>> {
        Box::pin(LedgerHandle::submit(self, request))
    }

    fn subscribe(&self) -> BoxFuture<'_, Result<Subscription, SubmitError>> {
        Box::pin(LedgerHandle::subscribe(self))
    }

    fn entries_after(
        &self,
        after_seq: u64,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<Committed>, ReadError>> {
        Box::pin(async move {
            LedgerHandle::entries_after(self, after_seq, limit)
                .await
                .map_err(|error| ReadError::Journal(error.to_string()))
        })
    }

    fn hold(
        &self,
        performance: PerformanceId,
        hold: HoldId,
    ) -> BoxFuture<'_, Result<Option<HoldView>, SubmitError>> {
        Box::pin(LedgerHandle::hold(self, performance, hold))
    }

    fn ticket(
        &self,
        performance: PerformanceId,
        ticket: TicketId,
    ) -> BoxFuture<'_, Result<Option<TicketView>, SubmitError>> {
        Box::pin(LedgerHandle::ticket(self, performance, ticket))
    }

    fn tickets(
        &self,
        performance: PerformanceId,
        after: Option<TicketId>,
        limit: u32,
    ) -> BoxFuture<'_, Result<Option<Vec<TicketView>>, SubmitError>> {
        Box::pin(LedgerHandle::tickets(self, performance, after, limit))
    }

    fn door_report(
        &self,
        performance: PerformanceId,
    ) -> BoxFuture<'_, Result<Option<DoorReport>, SubmitError>> {
        Box::pin(LedgerHandle::door_report(self, performance))
    }

    fn waitlist(
        &self,
        performance: PerformanceId,
        buyer: Option<ActorId>,
    ) -> BoxFuture<'_, Result<Option<WaitlistRead>, SubmitError>> {
        Box::pin(LedgerHandle::waitlist(self, performance, buyer))
    }

    fn partition(&self) -> u16 {
        LedgerHandle::partition(self)
    }

    fn status(&self) -> LocalStatus {
        LedgerHandle::status(self)
    }
}

/// The running writer task. Dropping it does not stop the writer; call [`WriterTask::shutdown`].
pub struct WriterTask {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl WriterTask {
    /// The writer ended by itself: it was fenced or a commit failed while leading under a fence.
    pub fn is_finished(&self) -> bool {
        self.task.is_finished()
    }

    /// Stops at once without committing what is queued (a deposed leader: its commits would be
    /// refused anyway). Queued callers get `Stopped`.
    pub async fn abort(self) {
        self.task.abort();
        let _ = self.task.await;
    }

    /// Stops taking commands, commits and answers everything already queued, and waits for the
    /// writer to finish.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        if let Err(error) = self.task.await {
            tracing::error!(%error, "ledger writer task failed");
        }
    }
}

/// Recovers the partition from `journal` and starts its writer.
pub async fn start<J: Journal>(
    journal: J,
    config: &LedgerConfig,
    metrics: Arc<Metrics>,
) -> Result<(LedgerHandle, WriterTask), JournalError> {
    let started = Instant::now();
    let (ledger, seq) = recover(&journal, config.partition, config.replay_page_max).await?;
    tracing::info!(
        partition = config.partition,
        seq,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "ledger recovered"
    );
    Ok(spawn(journal, config, metrics, ledger, seq, None))
}

/// Starts the writer of a partition this node now leads, from a ledger already caught up with
/// the journal at `seq`. Every commit is fenced: it fails once another node takes over, and the
/// writer then stops by itself (see [`WriterTask::is_finished`]).
pub fn start_leader<J: Journal>(
    journal: J,
    config: &LedgerConfig,
    metrics: Arc<Metrics>,
    ledger: Ledger,
    seq: u64,
    fence: Fence,
) -> (LedgerHandle, WriterTask) {
    spawn(journal, config, metrics, ledger, seq, Some(fence))
}

fn spawn<J: Journal>(
    journal: J,
    config: &LedgerConfig,
    metrics: Arc<Metrics>,
    ledger: Ledger,
    seq: u64,
    fence: Option<Fence>,
) -> (LedgerHandle, WriterTask) {
    metrics
        .journal_seq
        .get_or_create(&crate::metrics::partition_labels(config.partition))
        .set(seq as i64);
    let shared = Arc::new(SharedStatus {
        healthy: AtomicBool::new(true),
        journal_seq: AtomicU64::new(seq),
    });
    let (queue, inbox) = mpsc::channel(config.command_queue_max);
    let (stop, stopped) = watch::channel(false);
    let (published, _) = broadcast::channel(config.events_buffer_max.max(1));
    let journal = Arc::new(journal);
    let handle = LedgerHandle {
        queue,
        shared: shared.clone(),
        metrics: metrics.clone(),
        partition: config.partition,
        store: config.store.kind(),
        journal: journal.clone(),
    };
    let writer = Writer {
        journal,
        config: config.clone(),
        ledger,
        seq,
        last_now_ms: 0,
        last_committed_at_ms: 0,
        entries_since_snapshot: 0,
        snapshot_task: None,
        metrics,
        shared,
        inbox,
        published,
        subscribers: Vec::new(),
        fence,
    };
    let task = tokio::spawn(writer.run(stopped));
    (handle, WriterTask { stop, task })
}

struct Writer<J> {
    journal: Arc<J>,
    config: LedgerConfig,
    ledger: Ledger,
    /// Last committed journal seq.
    seq: u64,
    last_now_ms: u64,
    /// `recorded_at_ms` of the last entry this writer committed.
    last_committed_at_ms: u64,
    entries_since_snapshot: u64,
    snapshot_task: Option<JoinHandle<()>>,
    metrics: Arc<Metrics>,
    shared: Arc<SharedStatus>,
    inbox: mpsc::Receiver<Work>,
    published: broadcast::Sender<Arc<Committed>>,
    /// Subscribe requests that arrived inside a batch; answered once it is committed.
    subscribers: Vec<oneshot::Sender<Subscription>>,
    /// Set when leading under a lease: each commit proves the epoch and records how far the
    /// command stream is consumed.
    fence: Option<Fence>,
}

impl<J: Journal> Writer<J> {
    async fn run(mut self, mut stopped: watch::Receiver<bool>) {
        let mut ticker = tokio::time::interval(self.config.tick_interval);
        ticker.set_missed_tick_behavior(MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                _ = stopped.changed() => break,
                work = self.inbox.recv() => match work {
                    Some(first) => self.run_batch(first).await,
                    None => break,
                },
                _ = ticker.tick() => self.run_tick().await,
            }
            if self.deposed() {
                // Leading under a fence, a failed commit means this node may no longer lead:
                // stop, and let the node recover from the journal before it leads again.
                tracing::warn!(
                    partition = self.config.partition,
                    "ledger writer stepping down"
                );
                return;
            }
        }
        // Drain: no new commands, but everything already queued is committed and answered.
        self.inbox.close();
        while let Some(first) = self.inbox.recv().await {
            self.run_batch(first).await;
        }
        if let Some(task) = self.snapshot_task.take() {
            let _ = task.await;
        }
        tracing::info!(
            partition = self.config.partition,
            seq = self.seq,
            "ledger writer stopped"
        );
    }

    /// Wall-clock milliseconds, never going backwards: hold deadlines depend on it.
    fn now_ms(&mut self) -> u64 {
        let wall_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
        self.last_now_ms = self.last_now_ms.max(wall_ms);
        self.last_now_ms
    }

    fn deposed(&self) -> bool {
        self.fence.is_some() && !self.shared.healthy.load(Ordering::Relaxed)
    }

    /// Sorts one piece of work into the batch or the waiting subscribers. Lookups are answered
    /// at once: between batches the in-memory ledger equals the journal.
    fn take(&mut self, work: Work, batch: &mut Vec<Submission>) {
        match work {
            Work::Command(submission) => batch.push(submission),
            Work::Subscribe(reply) => self.subscribers.push(reply),
            Work::Lookup { actor, key, reply } => {
                let _ = reply.send(self.ledger.recorded(actor, &key).cloned());
            }
            Work::Hold {
                performance,
                hold,
                reply,
            } => {
                let view = self
                    .ledger
                    .performance(performance)
                    .and_then(|p| p.hold_view(hold));
                let _ = reply.send(view);
            }
            Work::Ticket {
                performance,
                ticket,
                reply,
            } => {
                let view = self
                    .ledger
                    .performance(performance)
                    .and_then(|p| p.ticket_view(ticket));
                let _ = reply.send(view);
            }
            Work::Tickets {
                performance,
                after,
                limit,
                reply,
            } => {
                let page = self
                    .ledger
                    .performance(performance)
                    .map(|p| p.tickets_page(after, limit));
                let _ = reply.send(page);
            }
            Work::Door { performance, reply } => {
                let report = self
                    .ledger
                    .performance(performance)
                    .map(|p| p.door_report());
                let _ = reply.send(report);
            }
            Work::Waitlist {
                performance,
                buyer,
                reply,
            } => {
                let read = self
                    .ledger
                    .performance(performance)
                    .map(|p| p.waitlist_read(buyer));
                let _ = reply.send(read);
            }
        }
    }

    async fn gather(&mut self, first: Work) -> Vec<Submission> {
        let mut batch = Vec::new();
        self.take(first, &mut batch);
        let max = self.config.commit_batch_max;
        while batch.len() < max {
            match self.inbox.try_recv() {
                Ok(work) => self.take(work, &mut batch),
                Err(_) => break,
            }
        }
        if self.config.commit_linger.is_zero() {
            return batch;
        }
        let linger_until = Instant::now() + self.config.commit_linger;
        while batch.len() < max {
            match tokio::time::timeout_at(linger_until, self.inbox.recv()).await {
                Ok(Some(work)) => self.take(work, &mut batch),
                Ok(None) | Err(_) => break,
            }
        }
        batch
    }

    async fn run_batch(&mut self, first: Work) {
        let batch = self.gather(first).await;
        let now_ms = self.now_ms();
        let mut entries = Vec::new();
        let mut publish = Vec::new();
        let mut replies = Vec::with_capacity(batch.len());
        if let Some(fence) = self.fence.as_mut() {
            let consumed = batch.iter().filter_map(|s| s.input_seq).max();
            fence.input_seq = fence.input_seq.max(consumed.unwrap_or(0));
        }
        for submission in batch {
            let step = self.ledger.execute(now_ms, &submission.request);
            self.count(&submission.request.command, &step.outcome, step.duplicate);
            if !step.events.is_empty() {
                let seq = self.seq + entries.len() as u64 + 1;
                entries.push(Entry::encode(seq, now_ms, &step.events));
                publish.push(step.events);
            }
            replies.push((submission.reply, step.outcome));
        }
        let committed = self.commit(&entries).await;
        if committed {
            self.publish(&entries, publish);
        }
        self.answer_subscribers();
        for (reply, outcome) in replies {
            let answer = if committed {
                Ok(outcome)
            } else {
                Err(SubmitError::Unavailable)
            };
            // The caller may have given up waiting; its outcome stays recorded for a retry.
            let _ = reply.send(answer);
        }
    }

    async fn run_tick(&mut self) {
        let now_ms = self.now_ms();
        let events = self.ledger.tick(now_ms);
        if !events.is_empty() {
            let entry = [Entry::encode(self.seq + 1, now_ms, &events)];
            if self.commit(&entry).await {
                self.publish(&entry, vec![events]);
            }
        }
    }

    /// Publishes committed entries to in-process subscribers. A subscriber that lags past
    /// [`LedgerConfig::events_buffer_max`] entries learns so and resubscribes.
    fn publish(&self, entries: &[Entry], events: Vec<Vec<Event>>) {
        if self.published.receiver_count() == 0 {
            return;
        }
        for (entry, events) in entries.iter().zip(events) {
            let committed = Committed {
                partition: self.config.partition,
                seq: entry.seq,
                at_ms: entry.recorded_at_ms,
                events,
            };
            let _ = self.published.send(Arc::new(committed));
        }
    }

    /// Answers subscribe requests with the committed state: called between batches, when the
    /// in-memory ledger equals the journal.
    fn answer_subscribers(&mut self) {
        for reply in self.subscribers.drain(..) {
            let subscription = Subscription {
                seq: self.seq,
                availability: self
                    .ledger
                    .performances()
                    .map(|p| p.availability())
                    .collect(),
                events: self.published.subscribe(),
                partitions: vec![(self.config.partition, self.seq)],
            };
            let _ = reply.send(subscription);
        }
    }

    /// Counts an executed command by its name and result, and a rejection by its code.
    fn count(&self, command: &Command, outcome: &Outcome, duplicate: bool) {
        let result = match (duplicate, outcome) {
            (true, _) => "duplicate",
            (false, Ok(_)) => "ok",
            (false, Err(rejection)) => {
                let labels = vec![("code", rejection.code())];
                self.metrics.rejections.get_or_create(&labels).inc();
                "rejected"
            }
        };
        self.metrics
            .commands
            .get_or_create(&vec![("command", command.name()), ("result", result)])
            .inc();
    }

    /// Commits `entries` (already applied to the in-memory ledger). On failure, rebuilds the
    /// ledger from the journal and returns false.
    async fn commit(&mut self, entries: &[Entry]) -> bool {
        if entries.is_empty() {
            return true;
        }
        self.assert_follows(entries);
        let started = Instant::now();
        match self
            .journal
            .append(self.config.partition, entries, self.fence)
            .await
        {
            Ok(()) => {
                self.metrics
                    .commit_seconds
                    .observe(started.elapsed().as_secs_f64());
                self.metrics
                    .commit_batch_entries
                    .observe(entries.len() as f64);
                self.seq += entries.len() as u64;
                self.last_committed_at_ms = entries[entries.len() - 1].recorded_at_ms;
                self.metrics
                    .journal_seq
                    .get_or_create(&crate::metrics::partition_labels(self.config.partition))
                    .set(self.seq as i64);
                self.shared.journal_seq.store(self.seq, Ordering::Relaxed);
                self.entries_since_snapshot += entries.len() as u64;
                self.maybe_snapshot();
                true
            }
            Err(error) => {
                self.metrics.commit_failures.inc();
                tracing::error!(%error, partition = self.config.partition, "journal commit failed");
                if self.fence.is_some() {
                    // Not rebuilt here: the node recovers and re-checks its leadership first.
                    self.shared.healthy.store(false, Ordering::Relaxed);
                } else {
                    self.rebuild().await;
                }
                false
            }
        }
    }

    /// The journal's invariants, checked before every append (cheap: one pass over the batch).
    /// The sequence is gap-free: a batch starts right after the last committed entry and its
    /// entries are contiguous; a gap or an overlap would make replay differ from what was
    /// answered. Time never goes backwards within this writer: hold deadlines compare against it.
    fn assert_follows(&self, entries: &[Entry]) {
        let mut at_ms = self.last_committed_at_ms;
        for (expected, entry) in (self.seq + 1..).zip(entries) {
            assert_eq!(
                entry.seq, expected,
                "partition {}: journal entry out of sequence",
                self.config.partition
            );
            assert!(
                entry.recorded_at_ms >= at_ms,
                "partition {}: entry {} recorded at {} ms, before {} ms",
                self.config.partition,
                entry.seq,
                entry.recorded_at_ms,
                at_ms
            );
            at_ms = entry.recorded_at_ms;
        }
    }

    /// Replaces the in-memory ledger with what the journal holds, retrying until it can.
    async fn rebuild(&mut self) {
        self.shared.healthy.store(false, Ordering::Relaxed);
        loop {
            match recover(
                &*self.journal,
                self.config.partition,
                self.config.replay_page_max,
            )
            .await
            {
                Ok((ledger, seq)) => {
                    self.ledger = ledger;
                    self.seq = seq;
                    self.shared.journal_seq.store(seq, Ordering::Relaxed);
                    self.shared.healthy.store(true, Ordering::Relaxed);
                    tracing::info!(
                        partition = self.config.partition,
                        seq,
                        "ledger rebuilt from journal"
                    );
                    return;
                }
                Err(error) => {
                    tracing::warn!(%error, "rebuilding ledger from journal failed; retrying");
                    tokio::time::sleep(RECOVER_RETRY_DELAY).await;
                }
            }
        }
    }

    /// Writes a snapshot in the background once enough entries have been committed since the
    /// last one. At most one snapshot write runs at a time.
    fn maybe_snapshot(&mut self) {
        // Encoding a large state stalls commands (measured: p99 at 5k commands/s went from 37
        // to 187 ms); a leader with standbys leaves snapshots to them.
        if !self.config.leader_snapshots
            || self.entries_since_snapshot < self.config.snapshot_every_entries
        {
            return;
        }
        if self
            .snapshot_task
            .as_ref()
            .is_some_and(|task| !task.is_finished())
        {
            return;
        }
        self.entries_since_snapshot = 0;
        let snapshot = Snapshot::encode(self.seq, &self.ledger);
        let journal = self.journal.clone();
        let partition = self.config.partition;
        let metrics = self.metrics.clone();
        self.snapshot_task = Some(tokio::spawn(async move {
            match journal.save_snapshot(partition, &snapshot).await {
                Ok(()) => {
                    metrics.snapshots.inc();
                    tracing::info!(
                        partition,
                        seq = snapshot.seq,
                        bytes = snapshot.state.len(),
                        "snapshot saved"
                    );
                }
                Err(error) => tracing::warn!(%error, partition, "snapshot failed"),
            }
        }));
    }
}
