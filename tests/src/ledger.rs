//! A booking workload for the ledger service and the audit of what it left in the journal.
//!
//! [`Workload`] plays many buyers: it holds random seats, confirms or releases its holds,
//! cancels bookings, and now and then sends an acknowledged command again. Every command is
//! retried with its own key until the ledger acknowledges it, as a gateway would. [`audit`]
//! then checks the journal against the client's log:
//! - every acknowledged outcome is the one the journal recorded for its key (nothing
//!   acknowledged was lost; no key has two outcomes);
//! - replaying the journal's events, no seat is ever sold while it is already sold.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Duration;

use picket_ledger::PgJournal;
use picket_ledger::journal::{catch_up, recover};
use picket_ledger_client::LedgerClient;
use picket_ledger_core::*;
use tokio::time::Instant;

/// A small deterministic PRNG (SplitMix64), so a failing trial can be repeated from its seed.
pub struct Rng(pub u64);

impl Rng {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
}

/// One command the ledger acknowledged, with the outcome it gave.
#[derive(Clone, Debug)]
pub struct Acked {
    pub request: Request,
    pub outcome: Outcome,
}

pub struct Workload {
    rng: Rng,
    /// A distinct prefix per trial, so keys never repeat across trials sharing a journal.
    run: String,
    performances: Vec<PerformanceId>,
    seats: u16,
    actors: u64,
    next_key: u64,
    holds: Vec<(ActorId, PerformanceId, HoldId, Won)>,
    bookings: Vec<(ActorId, PerformanceId, BookingId)>,
    pub acked: Vec<Acked>,
    /// Commands the ledger never acknowledged within the retry budget (may or may not have
    /// taken effect; the audit does not count them as lost).
    pub unacknowledged: usize,
    /// A re-sent command whose outcome differed from the first acknowledgement.
    pub mismatches: Vec<String>,
}

impl Workload {
    pub fn new(seed: u64, run: &str, performances: Vec<PerformanceId>, seats: u16) -> Self {
        Workload {
            rng: Rng(seed),
            run: run.to_owned(),
            performances,
            seats,
            actors: 200,
            next_key: 0,
            holds: Vec::new(),
            bookings: Vec::new(),
            acked: Vec::new(),
            unacknowledged: 0,
            mismatches: Vec::new(),
        }
    }

    fn key(&mut self) -> IdempotencyKey {
        self.next_key += 1;
        IdempotencyKey::new(format!("{}-{}", self.run, self.next_key)).expect("valid key")
    }

    /// The next command: mostly holds and confirms, some releases and cancels, and now and
    /// then an acknowledged command sent again.
    pub fn next_request(&mut self) -> Request {
        let roll = self.rng.below(100);
        if roll < 8 && !self.acked.is_empty() {
            let again = self.rng.below(self.acked.len() as u64) as usize;
            return self.acked[again].request.clone();
        }
        if roll < 35 && !self.holds.is_empty() {
            let index = self.rng.below(self.holds.len() as u64) as usize;
            let (actor, performance, hold, amount_won) = self.holds.swap_remove(index);
            let command = if self.rng.below(5) == 0 {
                Command::Release { performance, hold }
            } else {
                Command::Confirm {
                    performance,
                    hold,
                    payment_ref: format!("pay-{}", hold.0),
                    amount_won,
                }
            };
            return Request {
                actor,
                key: self.key(),
                command,
            };
        }
        if roll < 42 && !self.bookings.is_empty() {
            let index = self.rng.below(self.bookings.len() as u64) as usize;
            let (actor, performance, booking) = self.bookings.swap_remove(index);
            return Request {
                actor,
                key: self.key(),
                command: Command::Cancel {
                    performance,
                    booking,
                    tickets: Vec::new(),
                },
            };
        }
        let performance =
            self.performances[self.rng.below(self.performances.len() as u64) as usize];
        let count = 1 + self.rng.below(2) as u32;
        let first = self.rng.below(u64::from(self.seats)) as u32;
        let seats = (0..count)
            .map(|i| SeatId((first + i) % u32::from(self.seats)))
            .collect();
        Request {
            actor: ActorId(1 + self.rng.below(self.actors)),
            key: self.key(),
            command: Command::Hold {
                performance,
                selection: Selection::Seats(seats),
                admission: None,
                offer: None,
            },
        }
    }

    /// Notes an acknowledged outcome.
    pub fn record(&mut self, request: Request, outcome: Outcome) {
        let earlier = self
            .acked
            .iter()
            .find(|a| a.request.actor == request.actor && a.request.key == request.key);
        if let Some(earlier) = earlier {
            if earlier.outcome != outcome {
                self.mismatches.push(format!(
                    "key {} gave {:?} and then {:?}",
                    request.key.as_str(),
                    earlier.outcome,
                    outcome
                ));
            }
            return;
        }
        match (&request.command, &outcome) {
            (
                Command::Hold { performance, .. },
                Ok(Reply::Held {
                    hold, amount_won, ..
                }),
            ) => self
                .holds
                .push((request.actor, *performance, *hold, *amount_won)),
            (Command::Confirm { performance, .. }, Ok(Reply::Confirmed { booking, .. })) => {
                self.bookings.push((request.actor, *performance, *booking))
            }
            _ => {}
        }
        self.acked.push(Acked { request, outcome });
    }

    /// Sends `commands` commands, each retried with its key until acknowledged or until
    /// `retry_max` passes.
    pub async fn drive(&mut self, client: &LedgerClient, commands: usize, retry_max: Duration) {
        for _ in 0..commands {
            let request = self.next_request();
            match submit_until_acknowledged(client, &request, retry_max).await {
                Some(outcome) => self.record(request, outcome),
                None => self.unacknowledged += 1,
            }
        }
    }
}

/// Submits `request` again and again (same key) until the ledger answers or `retry_max` passes.
pub async fn submit_until_acknowledged(
    client: &LedgerClient,
    request: &Request,
    retry_max: Duration,
) -> Option<Outcome> {
    let deadline = Instant::now() + retry_max;
    loop {
        if let Ok(outcome) = client.submit(request.clone()).await {
            return Some(outcome);
        }
        if Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Checks the journal of `partitions` (of `partition_count`) against acknowledged commands;
/// returns every violation found.
pub async fn audit(
    journal: &PgJournal,
    partition_count: u16,
    partitions: &[u16],
    acked: &[Acked],
) -> Vec<String> {
    let mut violations = Vec::new();
    let mut ledgers = BTreeMap::new();
    for partition in partitions {
        let (ledger, _) = recover(journal, *partition, 10_000)
            .await
            .expect("journal readable");
        violations.extend(seats_sold_once(journal, *partition).await);
        ledgers.insert(*partition, ledger);
    }
    for acked in acked {
        let performance = acked.request.command.performance();
        let partition = picket_ledger_client::bus::partition_of(performance, partition_count);
        let Some(ledger) = ledgers.get(&partition) else {
            continue;
        };
        let recorded = ledger.recorded(acked.request.actor, &acked.request.key);
        if recorded != Some(&acked.outcome) {
            violations.push(format!(
                "acknowledged {:?} for key {} but the journal has {:?}",
                acked.outcome,
                acked.request.key.as_str(),
                recorded
            ));
        }
    }
    violations
}

/// Replays the partition's events: a booking never takes a seat that is already sold.
async fn seats_sold_once(journal: &PgJournal, partition: u16) -> Vec<String> {
    use picket_ledger::Journal;
    let mut violations = Vec::new();
    let mut hold_places: BTreeMap<(PerformanceId, HoldId), Vec<Place>> = BTreeMap::new();
    let mut sold: HashSet<(PerformanceId, Place)> = HashSet::new();
    let mut seq = 0;
    loop {
        let page = journal
            .read_after(partition, seq, 10_000)
            .await
            .expect("journal readable");
        let Some(last) = page.last() else { break };
        seq = last.seq;
        for entry in &page {
            for event in entry.decode().expect("entry decodes") {
                match event {
                    Event::PlacesHeld {
                        performance,
                        hold,
                        places,
                        ..
                    } => {
                        hold_places.insert((performance, hold), places);
                    }
                    Event::BookingConfirmed {
                        performance, hold, ..
                    } => {
                        for place in hold_places.get(&(performance, hold)).into_iter().flatten() {
                            if matches!(place, Place::Seat(_))
                                && !sold.insert((performance, *place))
                            {
                                violations.push(format!(
                                    "seat {place:?} of {performance:?} sold twice (entry {})",
                                    entry.seq
                                ));
                            }
                        }
                    }
                    Event::TicketsCancelled {
                        performance,
                        places,
                        ..
                    } => {
                        for place in places {
                            sold.remove(&(performance, place));
                        }
                    }
                    _ => {}
                }
            }
        }
    }
    violations
}

/// A fresh ledger of `partition` caught up with the journal: used to compare states.
pub async fn journal_digest(journal: &PgJournal, partition: u16) -> (u64, u64) {
    let mut ledger = Ledger::new(partition);
    let seq = catch_up(journal, partition, &mut ledger, 0, 10_000)
        .await
        .expect("journal readable");
    (seq, ledger.digest())
}

/// One `picket ledger` process ([`picket_cluster::LedgerNode`]) hosting partition 0 of one, as
/// the tests drive it: its steps panic on failure.
pub struct LedgerNode(pub picket_cluster::LedgerNode);

impl std::ops::Deref for LedgerNode {
    type Target = picket_cluster::LedgerNode;
    fn deref(&self) -> &picket_cluster::LedgerNode {
        &self.0
    }
}

impl std::ops::DerefMut for LedgerNode {
    fn deref_mut(&mut self) -> &mut picket_cluster::LedgerNode {
        &mut self.0
    }
}

impl LedgerNode {
    /// Starts `<picket> ledger` hosting partition 0 of one, logging to `<log_dir>/<name>.log`.
    pub fn spawn(
        picket: &str,
        database_url: &str,
        nats_url: &str,
        lease_ms: u64,
        log_dir: &Path,
        name: &str,
    ) -> LedgerNode {
        LedgerNode::spawn_with(picket, database_url, nats_url, lease_ms, log_dir, name, &[])
    }

    /// [`LedgerNode::spawn`] with `extra` flags (say, `--nats-ca-file …`).
    pub fn spawn_with(
        picket: &str,
        database_url: &str,
        nats_url: &str,
        lease_ms: u64,
        log_dir: &Path,
        name: &str,
        extra: &[&str],
    ) -> LedgerNode {
        picket_cluster::LedgerNode::start(picket_cluster::picket::LedgerSpec {
            picket: Path::new(picket),
            name: name.to_owned(),
            database_url,
            nats_url,
            partitions: 1,
            lease_ms: Some(lease_ms),
            data_dir: log_dir.to_path_buf(),
            env: Vec::new(),
            extra_args: extra.iter().map(|arg| arg.to_string()).collect(),
        })
        .map(LedgerNode)
        .unwrap_or_else(|error| panic!("picket ledger {name}: {error}"))
    }

    /// The role `/healthz` reports for partition 0, if the node answers.
    pub fn role(&self) -> Option<String> {
        self.0.role()
    }

    /// Whether partition 0 has had no leader for longer than a lease, if the node answers.
    pub fn leaderless(&self) -> Option<bool> {
        self.0.leaderless()
    }

    pub fn wait_role(&self, role: &str) {
        let deadline = std::time::Instant::now() + picket_cluster::picket::ROLE_WAIT_MAX;
        while std::time::Instant::now() < deadline {
            if self.role().as_deref() == Some(role) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "node on {} never became {role}: {:?}",
            self.port,
            self.role()
        );
    }

    pub fn signal(&self, signal: &str) {
        picket_cluster::process::signal(self.child.id(), signal)
            .unwrap_or_else(|error| panic!("kill -{signal}: {error}"));
    }
}

pub use picket_cluster::picket::http_get;

/// A request by `actor` under the idempotency key `key`.
pub fn request(actor: u64, key: &str, command: Command) -> Request {
    Request {
        actor: ActorId(actor),
        key: IdempotencyKey::new(key).expect("key"),
        command,
    }
}

/// The operator's request opening `performance` as [`crate::gateway::small_spec`] with `seats`
/// seats (key `open-<performance>`).
pub fn open_small(performance: u64, seats: u16) -> Request {
    request(
        0,
        &format!("open-{performance}"),
        Command::OpenPerformance(Box::new(crate::gateway::small_spec(performance, seats))),
    )
}

/// `actor`'s hold of one seat, with no admission or offer.
pub fn hold_seat(actor: u64, key: &str, performance: u64, seat: u32) -> Request {
    request(
        actor,
        key,
        Command::Hold {
            performance: PerformanceId(performance),
            selection: Selection::Seats(vec![SeatId(seat)]),
            admission: None,
            offer: None,
        },
    )
}

/// [`submit_until_acknowledged`] within `wait`, or a panic naming the key.
pub async fn acknowledged(client: &LedgerClient, request: &Request, wait: Duration) -> Outcome {
    submit_until_acknowledged(client, request, wait)
        .await
        .unwrap_or_else(|| panic!("no outcome for {}", request.key.as_str()))
}
