//! The journal and the single writer against real stores: a PostgreSQL cluster started by the
//! harness, and a SQLite file in a temporary directory.
//!
//! - replay (snapshot + journal) rebuilds a state identical to the live one (digest and equality);
//! - appends are gap-free and refuse a second writer's seqs;
//! - a fenced append writes its rows and its `input_seq` together or neither: a stale epoch or
//!   a gap leaves both as they were;
//! - every outcome the writer acknowledged is durable: after a restart the same keys return the
//!   same outcomes and journal nothing new;
//! - PostgreSQL restarted mid-stream: no acknowledged command is lost and the writer recovers.
//! - the writer counts commands by name and result on its metrics.

use std::collections::BTreeSet;
use std::path::Path;
use std::time::Duration;

use picket_ledger::journal::{Entry, Snapshot, recover};
use picket_ledger::{
    Journal, JournalError, LedgerConfig, LedgerService, PgJournal, SqliteJournal, StoreUrl,
};
use picket_ledger_client::SubmitError;
use picket_ledger_core::fees::kst_ms;
use picket_ledger_core::ledger::SeatState;
use picket_ledger_core::*;
use picket_tests::Postgres;
use picket_tests::ledger::Rng;
use prometheus_client::registry::Registry;

const PARTITION: u16 = 3;
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const PERFORMANCE: PerformanceId = PerformanceId(77);

fn spec(seats: u16) -> PerformanceSpec {
    let grades = [
        ("VIP", 160_000),
        ("R", 140_000),
        ("S", 110_000),
        ("A", 80_000),
    ];
    PerformanceSpec {
        performance: PERFORMANCE,
        starts_at_ms: kst_ms(2027, 3, 20, 19, 0),
        kind: TicketKind::Performance,
        grades: grades
            .iter()
            .map(|(code, price_won)| GradeSpec {
                code: (*code).into(),
                price_won: *price_won,
            })
            .collect(),
        seats: (0..seats)
            .map(|i| SeatSpec {
                section: format!("{}", (b'A' + (i / 100) as u8) as char),
                row: format!("{}", (i % 100) / 20 + 1),
                number: i % 20 + 1,
                grade: GradeId(i / (seats / 4).max(1) % 4),
                blocked: false,
            })
            .collect(),
        zones: vec![ZoneSpec {
            name: "Floor".into(),
            grade: GradeId(3),
            capacity: 50,
        }],
        per_buyer_limit: 4,
        hold_ttl_ms: 7 * 60_000,
        fees: FeeSchedule::korean_standard(TicketKind::Performance),
        booking_fee_won: 0,
        discounts: vec![],
        coupons: vec![],
        door: DoorSpec::default(),
        waitlist: picket_ledger_core::WaitlistSpec::default(),
    }
}

fn request(actor: u64, key: String, command: Command) -> Request {
    Request {
        actor: ActorId(actor),
        key: IdempotencyKey::new(key).expect("test keys are valid"),
        command,
    }
}

/// A scripted client that picks its next command from the outcomes it was told, as buyers' apps
/// would: holds of every kind, confirms (some with a wrong amount), releases, cancels, check-ins,
/// and some commands naming things that do not exist.
struct Client {
    rng: Rng,
    seats: u16,
    step: usize,
    holds: Vec<(ActorId, HoldId, Won)>,
    tickets: Vec<(ActorId, BookingId, TicketId)>,
}

impl Client {
    fn new(seed: u64, seats: u16) -> Self {
        Client {
            rng: Rng(seed),
            seats,
            step: 0,
            holds: Vec::new(),
            tickets: Vec::new(),
        }
    }

    fn open(&self) -> Request {
        request(
            1,
            "open".into(),
            Command::OpenPerformance(Box::new(spec(self.seats))),
        )
    }

    fn next(&mut self) -> Request {
        self.step += 1;
        let key = format!("k{}", self.step);
        let buyer = 100 + self.rng.below(40);
        let performance = PERFORMANCE;
        let seats = u64::from(self.seats);
        let roll = self.rng.below(10);
        let (actor, command) = match roll {
            0..=2 => (
                buyer,
                Command::Hold {
                    performance,
                    admission: None,
                    selection: Selection::Seats(vec![SeatId(self.rng.below(seats) as u32)]),
                    offer: None,
                },
            ),
            3 => (
                buyer,
                Command::Hold {
                    performance,
                    admission: None,
                    selection: Selection::BestAvailable {
                        grade: GradeId(self.rng.below(4) as u16),
                        count: 1 + self.rng.below(2) as u16,
                    },
                    offer: None,
                },
            ),
            4 => (
                buyer,
                Command::Hold {
                    performance,
                    admission: None,
                    selection: Selection::Zone {
                        zone: ZoneId(0),
                        count: 1 + self.rng.below(3) as u16,
                    },
                    offer: None,
                },
            ),
            5..=7 if !self.holds.is_empty() => {
                // The newest hold, as a buyer pays right after picking seats.
                let (actor, hold, amount_won) = self.holds.pop().expect("not empty");
                let command = match roll {
                    7 => Command::Release { performance, hold },
                    _ => Command::Confirm {
                        performance,
                        hold,
                        payment_ref: format!("pay-{}", self.step),
                        amount_won: if self.rng.below(8) == 0 {
                            amount_won + 1
                        } else {
                            amount_won
                        },
                    },
                };
                (actor.0, command)
            }
            8 | 9 if !self.tickets.is_empty() => {
                let pick = self.rng.below(self.tickets.len() as u64) as usize;
                let (actor, booking, ticket) = self.tickets[pick];
                let command = match roll {
                    8 => Command::Cancel {
                        performance,
                        booking,
                        tickets: vec![ticket],
                    },
                    _ => Command::CheckIn {
                        performance,
                        ticket,
                    },
                };
                (actor.0, command)
            }
            _ => (
                buyer,
                Command::Release {
                    performance,
                    hold: HoldId(self.rng.next_u64()),
                },
            ),
        };
        request(actor, key, command)
    }

    fn observe(&mut self, request: &Request, outcome: &Outcome) {
        match outcome {
            Ok(Reply::Held {
                hold, amount_won, ..
            }) => {
                self.holds.push((request.actor, *hold, *amount_won));
            }
            Ok(Reply::Confirmed {
                booking, tickets, ..
            }) => {
                let owned = tickets.iter().map(|t| (request.actor, *booking, *t));
                self.tickets.extend(owned);
            }
            _ => {}
        }
    }
}

/// Runs the workload on a live ledger, appending its entries in batches of `batch` and saving a
/// snapshot at `snapshot_at`; then replays from the store and compares.
async fn replay_matches_live<J: Journal>(journal: &J) {
    let mut live = Ledger::new(PARTITION);
    let mut pending = Vec::new();
    let mut seq = 0;
    let mut checked_without_snapshot = false;
    let mut client = Client::new(7, 400);
    let mut now_ms = kst_ms(2027, 1, 5, 10, 0);
    let mut rng = Rng(8);
    for index in 0..3_000 {
        let req = if index == 0 {
            client.open()
        } else {
            client.next()
        };
        // Minutes pass between commands, so holds expire and fee tiers change.
        now_ms += rng.below(20_000);
        let step = live.execute(now_ms, &req);
        client.observe(&req, &step.outcome);
        if !step.events.is_empty() {
            seq += 1;
            pending.push(Entry::encode(seq, now_ms, &step.events));
        }
        if pending.len() == 64 {
            journal
                .append(PARTITION, &pending, None)
                .await
                .expect("append");
            pending.clear();
        }
        if index == 1_500 {
            journal
                .append(PARTITION, &pending, None)
                .await
                .expect("append");
            pending.clear();
            let (replayed, replayed_seq) = recover(journal, PARTITION, 100).await.expect("recover");
            assert_eq!(replayed_seq, seq);
            assert_eq!(
                replayed.digest(),
                live.digest(),
                "journal-only replay differs"
            );
            checked_without_snapshot = true;
            let snapshot = Snapshot::encode(seq, &live);
            journal
                .save_snapshot(PARTITION, &snapshot)
                .await
                .expect("snapshot");
        }
    }
    journal
        .append(PARTITION, &pending, None)
        .await
        .expect("append");
    assert!(checked_without_snapshot);
    let snapshot = journal
        .latest_snapshot(PARTITION)
        .await
        .expect("read snapshot")
        .expect("a snapshot was saved");
    assert!(
        snapshot.seq > 0 && snapshot.seq < seq,
        "replay must cover entries after the snapshot"
    );
    let (replayed, replayed_seq) = recover(journal, PARTITION, 100).await.expect("recover");
    assert_eq!(replayed_seq, seq);
    assert_eq!(
        replayed.digest(),
        live.digest(),
        "snapshot + journal replay differs"
    );
    assert_eq!(replayed, live);
    let state = live.performance(PERFORMANCE).expect("opened");
    assert!(
        state.tickets().count() > 20,
        "the workload must sell tickets to mean anything"
    );
}

async fn append_is_gap_free<J: Journal>(journal: &J) {
    let entries: Vec<Entry> = (1..=3).map(|seq| Entry::encode(seq, 1_000, &[])).collect();
    journal
        .append(PARTITION, &entries, None)
        .await
        .expect("first append");
    let again = journal
        .append(PARTITION, &[Entry::encode(3, 1_000, &[])], None)
        .await;
    assert!(
        matches!(
            again,
            Err(JournalError::SequenceGap {
                expected: 4,
                found: 3
            })
        ),
        "{again:?}"
    );
    let gap = journal
        .append(PARTITION, &[Entry::encode(5, 1_000, &[])], None)
        .await;
    assert!(
        matches!(
            gap,
            Err(JournalError::SequenceGap {
                expected: 4,
                found: 5
            })
        ),
        "{gap:?}"
    );
    let mixed = [Entry::encode(4, 1_000, &[]), Entry::encode(3, 1_000, &[])];
    assert!(
        journal.append(PARTITION, &mixed, None).await.is_err(),
        "a batch reusing a seq is refused whole"
    );
    assert_eq!(journal.last_seq(PARTITION).await.expect("last seq"), 3);
    assert_eq!(journal.last_seq(PARTITION + 1).await.expect("last seq"), 0);
}

fn test_config(store: StoreUrl) -> LedgerConfig {
    let mut config = LedgerConfig::new(store);
    config.partition = PARTITION;
    config.snapshot_every_entries = 200;
    config
}

/// Every acknowledged outcome survives a restart of the writer: the same requests give the same
/// outcomes and journal nothing new, and no seat is sold twice.
async fn writer_outcomes_survive_restart(store: StoreUrl, journal: &impl Journal) {
    let config = test_config(store);
    let mut registry = Registry::default();
    let service = LedgerService::start(&config, &mut registry)
        .await
        .expect("start");
    let mut client = Client::new(11, 200);
    let mut requests = vec![client.open()];
    let mut first = vec![
        service
            .handle
            .submit(requests[0].clone())
            .await
            .expect("open"),
    ];
    // Concurrent waves, so batches hold many commands.
    for _ in 0..40 {
        let wave: Vec<Request> = (0..30).map(|_| client.next()).collect();
        let submits = wave.iter().map(|req| service.handle.submit(req.clone()));
        let outcomes = futures_util::future::join_all(submits).await;
        for (req, outcome) in wave.into_iter().zip(outcomes) {
            let outcome = outcome.expect("acknowledged");
            client.observe(&req, &outcome);
            requests.push(req);
            first.push(outcome);
        }
    }
    assert!(
        first
            .iter()
            .any(|o| matches!(o, Ok(Reply::Confirmed { .. })))
    );
    service.writer.shutdown().await;
    let seq_before = journal.last_seq(PARTITION).await.expect("seq");
    assert!(
        seq_before as usize >= requests.len(),
        "every command is journaled"
    );

    let mut registry = Registry::default();
    let service = LedgerService::start(&config, &mut registry)
        .await
        .expect("restart");
    for (req, original) in requests.iter().zip(&first) {
        let again = service
            .handle
            .submit(req.clone())
            .await
            .expect("acknowledged");
        assert_eq!(
            &again,
            original,
            "key {} changed its outcome",
            req.key.as_str()
        );
    }
    service.writer.shutdown().await;
    assert_eq!(
        journal.last_seq(PARTITION).await.expect("seq"),
        seq_before,
        "retries journaled new work"
    );

    let (ledger, _) = recover(journal, PARTITION, 1_000).await.expect("recover");
    assert_no_seat_sold_twice(&ledger);
}

fn assert_no_seat_sold_twice(ledger: &Ledger) {
    let state = ledger.performance(PERFORMANCE).expect("opened");
    let mut seats = BTreeSet::new();
    for (ticket, t) in state.tickets().filter(|(_, t)| !t.cancelled) {
        if let Place::Seat(seat) = t.place {
            assert!(seats.insert(seat), "seat {seat} sold twice");
            assert_eq!(state.seat(seat), Some(SeatState::Sold(*ticket)));
        }
    }
    let sold = state
        .seats()
        .iter()
        .filter(|s| matches!(s, SeatState::Sold(_)))
        .count();
    assert_eq!(sold, seats.len());
}

fn sqlite_path(dir: &Path) -> std::path::PathBuf {
    dir.join("ledger.sqlite")
}

#[tokio::test]
async fn sqlite_replay_rebuilds_identical_state() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = SqliteJournal::open(&sqlite_path(dir.path()))
        .await
        .expect("open");
    replay_matches_live(&journal).await;
}

#[tokio::test]
async fn postgres_replay_rebuilds_identical_state() {
    let pg = Postgres::start().expect("postgres");
    let journal = PgJournal::connect(&pg.url(), 2, CONNECT_TIMEOUT)
        .await
        .expect("connect");
    replay_matches_live(&journal).await;
}

#[tokio::test]
async fn sqlite_append_is_gap_free() {
    let dir = tempfile::tempdir().expect("tempdir");
    let journal = SqliteJournal::open(&sqlite_path(dir.path()))
        .await
        .expect("open");
    append_is_gap_free(&journal).await;
}

#[tokio::test]
async fn postgres_append_is_gap_free() {
    let pg = Postgres::start().expect("postgres");
    let journal = PgJournal::connect(&pg.url(), 2, CONNECT_TIMEOUT)
        .await
        .expect("connect");
    append_is_gap_free(&journal).await;
}

#[tokio::test]
async fn postgres_fenced_append_writes_rows_and_input_seq_together_or_neither() {
    let pg = Postgres::start().expect("postgres");
    let journal = PgJournal::connect(&pg.url(), 2, CONNECT_TIMEOUT)
        .await
        .expect("connect");
    let lease = Duration::from_secs(30);
    let epoch = journal
        .acquire_lease(PARTITION, "a", lease)
        .await
        .expect("lease")
        .expect("free");
    let fence =
        |epoch: u64, input_seq: u64| Some(picket_ledger::journal::Fence { epoch, input_seq });
    let two: Vec<Entry> = (1..=2).map(|seq| Entry::encode(seq, 1_000, &[])).collect();
    journal
        .append(PARTITION, &two, fence(epoch, 10))
        .await
        .expect("fenced append");
    assert_eq!(journal.last_seq(PARTITION).await.expect("seq"), 2);
    assert_eq!(journal.input_seq(PARTITION).await.expect("input"), 10);

    // A gap under the right epoch: nothing written, input_seq unmoved.
    let gap = journal
        .append(PARTITION, &[Entry::encode(4, 1_000, &[])], fence(epoch, 11))
        .await;
    assert!(
        matches!(
            gap,
            Err(JournalError::SequenceGap {
                expected: 3,
                found: 4
            })
        ),
        "{gap:?}"
    );
    // A seq already stored under the right epoch: the same.
    let again = journal
        .append(PARTITION, &[Entry::encode(2, 1_000, &[])], fence(epoch, 12))
        .await;
    assert!(
        matches!(again, Err(JournalError::SequenceGap { .. })),
        "{again:?}"
    );
    assert_eq!(journal.input_seq(PARTITION).await.expect("input"), 10);

    // Another node takes over: the old epoch writes nothing, even where the seq follows.
    let newer = journal
        .acquire_lease(PARTITION, "b", Duration::ZERO)
        .await
        .expect("lease");
    assert_eq!(newer, None, "a live lease is not taken");
    journal
        .release_lease(PARTITION, "a", epoch)
        .await
        .expect("release");
    let newer = journal
        .acquire_lease(PARTITION, "b", lease)
        .await
        .expect("lease")
        .expect("released lease is free");
    let stale = journal
        .append(PARTITION, &[Entry::encode(3, 1_000, &[])], fence(epoch, 13))
        .await;
    assert!(
        matches!(stale, Err(JournalError::Fenced { ours }) if ours == epoch),
        "{stale:?}"
    );
    // Stale epoch and a gap: the fence is what it reports (as when it was checked first).
    let both = journal
        .append(PARTITION, &[Entry::encode(9, 1_000, &[])], fence(epoch, 14))
        .await;
    assert!(matches!(both, Err(JournalError::Fenced { .. })), "{both:?}");
    assert_eq!(journal.last_seq(PARTITION).await.expect("seq"), 2);
    assert_eq!(journal.input_seq(PARTITION).await.expect("input"), 10);

    // The new leader's append follows on; input_seq never goes back.
    journal
        .append(PARTITION, &[Entry::encode(3, 1_000, &[])], fence(newer, 5))
        .await
        .expect("the new leader appends");
    assert_eq!(journal.last_seq(PARTITION).await.expect("seq"), 3);
    assert_eq!(journal.input_seq(PARTITION).await.expect("input"), 10);
    let read = journal.read_after(PARTITION, 0, 10).await.expect("read");
    let seqs: Vec<u64> = read.iter().map(|entry| entry.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_writer_outcomes_survive_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = sqlite_path(dir.path());
    let journal = SqliteJournal::open(&path).await.expect("open");
    writer_outcomes_survive_restart(StoreUrl::Sqlite(path), &journal).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_writer_outcomes_survive_restart() {
    let pg = Postgres::start().expect("postgres");
    let journal = PgJournal::connect(&pg.url(), 2, CONNECT_TIMEOUT)
        .await
        .expect("connect");
    writer_outcomes_survive_restart(StoreUrl::Postgres(pg.url()), &journal).await;
}

/// PostgreSQL is killed mid-stream and restarted: commands in flight get `Unavailable` (never a
/// wrong answer), the writer rebuilds itself from the journal, retries with the same keys get
/// the committed outcome, and every acknowledged outcome is in the journal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restart_mid_stream_loses_no_acknowledged_command() {
    let started = Postgres::start().expect("postgres");
    let url = started.url();
    let mut pg = Some(started);
    let mut config = test_config(StoreUrl::Postgres(url.clone()));
    // Fail fast while PostgreSQL is down, so the writer's failure path runs.
    config.journal_connect_timeout = Duration::from_millis(300);
    let mut registry = Registry::default();
    let service = LedgerService::start(&config, &mut registry)
        .await
        .expect("start");
    let mut client = Client::new(23, 200);
    let mut requests: Vec<Request> = Vec::new();
    let mut acknowledged = Vec::new();
    let mut unavailable = 0;
    let mut restarter = None;
    for index in 0..600 {
        if index == 300 {
            let mut cluster = pg.take().expect("running");
            cluster.kill().expect("kill postgres");
            // PostgreSQL comes back two seconds later, while the client keeps retrying.
            restarter = Some(std::thread::spawn(move || {
                std::thread::sleep(Duration::from_secs(2));
                cluster.start_again().expect("restart postgres");
                cluster
            }));
        }
        let req = if index == 0 {
            client.open()
        } else {
            client.next()
        };
        // Retry with the same key until the ledger answers, as a gateway would.
        let outcome = loop {
            match service.handle.submit(req.clone()).await {
                Ok(outcome) => break outcome,
                Err(SubmitError::Unavailable) => {
                    unavailable += 1;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(other) => panic!("unexpected {other}"),
            }
        };
        client.observe(&req, &outcome);
        requests.push(req);
        acknowledged.push(outcome);
    }
    assert!(
        unavailable > 0,
        "killing PostgreSQL must have made some commits fail"
    );
    service.writer.shutdown().await;
    let _pg = restarter.expect("killed once").join().expect("restarter");

    let journal = PgJournal::connect(&url, 2, CONNECT_TIMEOUT)
        .await
        .expect("connect");
    let (ledger, _) = recover(&journal, PARTITION, 1_000).await.expect("recover");
    for (req, outcome) in requests.iter().zip(&acknowledged) {
        assert_eq!(
            ledger.recorded(req.actor, &req.key),
            Some(outcome),
            "key {}",
            req.key.as_str()
        );
    }
    assert_no_seat_sold_twice(&ledger);
}

/// Shutdown with commands still queued: every command the writer accepted is committed and
/// answered before it stops, and every answered outcome is in the journal.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_and_flushes_queued_commands() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = sqlite_path(dir.path());
    let config = test_config(StoreUrl::Sqlite(path.clone()));
    let mut registry = Registry::default();
    let service = LedgerService::start(&config, &mut registry)
        .await
        .expect("start");
    let mut client = Client::new(5, 200);
    let open = service.handle.submit(client.open()).await;
    assert!(
        matches!(open, Ok(Ok(Reply::PerformanceOpened { .. }))),
        "{open:?}"
    );
    let tasks: Vec<_> = (0..400)
        .map(|_| client.next())
        .map(|req| {
            let handle = service.handle.clone();
            tokio::spawn(async move { (req.clone(), handle.submit(req).await) })
        })
        .collect();
    // Shut down while commands are still waiting in the writer's queue.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while service.handle.status().queue_depth == 0 && std::time::Instant::now() < deadline {
        tokio::task::yield_now().await;
    }
    service.writer.shutdown().await;
    let mut answered = 0;
    let journal = SqliteJournal::open(&path).await.expect("open");
    let (ledger, _) = recover(&journal, PARTITION, 1_000).await.expect("recover");
    for task in tasks {
        match task.await.expect("task") {
            (req, Ok(outcome)) => {
                answered += 1;
                assert_eq!(ledger.recorded(req.actor, &req.key), Some(&outcome));
            }
            (_, Err(error)) => assert_eq!(error, SubmitError::Stopped),
        }
    }
    assert!(
        answered > 0,
        "some commands were queued before the shutdown"
    );
}

/// The in-process event bus: a subscriber that joins mid-stream, starting from its snapshot and
/// applying every committed entry after it, sees exactly the seat map the ledger ends with, with
/// no gap in the sequence.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_follow_committed_events_without_gaps() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = test_config(StoreUrl::Sqlite(sqlite_path(dir.path())));
    let mut registry = Registry::default();
    let service = LedgerService::start(&config, &mut registry)
        .await
        .expect("start");
    let mut client = Client::new(11, 120);
    let open = client.open();
    let opened = service.handle.submit(open).await.expect("open");
    assert!(opened.is_ok(), "{opened:?}");
    let submit_some = |count: usize, client: &mut Client| {
        let requests: Vec<_> = (0..count).map(|_| client.next()).collect();
        let handle = service.handle.clone();
        tokio::spawn(async move {
            for request in requests {
                let _outcome = handle.submit(request).await.expect("submit");
            }
        })
    };
    let before = submit_some(150, &mut client);
    let mut subscription = service.handle.subscribe().await.expect("subscribe");
    let mut seat_map = subscription.availability.remove(0);
    let mut seq = subscription.seq;
    before.await.expect("first half");
    submit_some(150, &mut client).await.expect("second half");
    let last = service.handle.status().journal_seq;
    while seq < last {
        let committed = subscription.events.recv().await.expect("no lag");
        assert_eq!(
            committed.seq,
            seq + 1,
            "entries arrive in order, none missing"
        );
        seq = committed.seq;
        for event in &committed.events {
            follow(&mut seat_map, event);
        }
    }
    service.writer.shutdown().await;
    let journal = SqliteJournal::open(&sqlite_path(dir.path()))
        .await
        .expect("open");
    let (ledger, _) = recover(&journal, PARTITION, 1_000).await.expect("recover");
    let truth = ledger
        .performance(PERFORMANCE)
        .expect("opened")
        .availability();
    assert_eq!(seat_map, truth);
}

/// A follower of the seat map that keeps no state but the map: the events name the places.
fn follow(map: &mut picket_ledger_core::Availability, event: &Event) {
    let mut set = |place: &Place, free: bool| match place {
        Place::Seat(seat) => map.seat_free[seat.0 as usize] = free,
        Place::Zone(zone) => {
            let count = &mut map.zone_free[usize::from(zone.0)];
            *count = if free { *count + 1 } else { *count - 1 };
        }
    };
    match event {
        Event::PlacesHeld { places, .. } | Event::WaitlistReserved { places, .. } => {
            places.iter().for_each(|p| set(p, false))
        }
        Event::HoldReleased { places, .. }
        | Event::HoldExpired { places, .. }
        | Event::TicketsCancelled { places, .. }
        | Event::WaitlistUnreserved { places, .. } => places.iter().for_each(|p| set(p, true)),
        Event::WaitlistOffered { from_reserve, .. } => {
            from_reserve.iter().for_each(|p| set(p, true))
        }
        _ => {}
    }
}

/// The writer counts every command it executes by its name on the wire and its result
/// (`picket_ledger_commands_total{command, result}`, what the Grafana dashboard's holds and
/// bookings per second read), and every rejection by its code.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_are_counted_by_name_and_result() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = test_config(StoreUrl::Sqlite(sqlite_path(dir.path())));
    let mut registry = Registry::default();
    let service = LedgerService::start(&config, &mut registry)
        .await
        .expect("start");
    let hold_seat_0 = |actor: u64, key: &str| {
        request(
            actor,
            key.into(),
            Command::Hold {
                performance: PERFORMANCE,
                admission: None,
                selection: Selection::Seats(vec![SeatId(0)]),
                offer: None,
            },
        )
    };
    let open = Client::new(1, 20).open();
    let held = hold_seat_0(100, "a");
    let requests = [open, held.clone(), hold_seat_0(101, "b"), held];
    let mut outcomes = Vec::new();
    for request in &requests {
        outcomes.push(
            service
                .handle
                .submit(request.clone())
                .await
                .expect("answered"),
        );
    }
    let Ok(Reply::Held { hold, .. }) = &outcomes[1] else {
        panic!("the first hold was refused: {:?}", outcomes[1]);
    };
    assert!(
        matches!(outcomes[2], Err(Rejection::SeatTaken { .. })),
        "{:?}",
        outcomes[2]
    );
    let release = request(
        100,
        "r".into(),
        Command::Release {
            performance: PERFORMANCE,
            hold: *hold,
        },
    );
    let released = service
        .handle
        .submit(release.clone())
        .await
        .expect("answered");
    assert!(
        matches!(released, Ok(Reply::Released { .. })),
        "{released:?}"
    );
    service.writer.shutdown().await;

    // The label is the command's wire tag (checked for every variant by the core's simulation).
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).expect("encodes");
    for line in [
        "picket_ledger_commands_total{command=\"OpenPerformance\",result=\"ok\"} 1",
        "picket_ledger_commands_total{command=\"Hold\",result=\"ok\"} 1",
        "picket_ledger_commands_total{command=\"Hold\",result=\"rejected\"} 1",
        "picket_ledger_commands_total{command=\"Hold\",result=\"duplicate\"} 1",
        "picket_ledger_commands_total{command=\"Release\",result=\"ok\"} 1",
        "picket_ledger_rejections_total{code=\"seat_taken\"} 1",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line} missing from:\n{text}"
        );
    }
    let counted = text
        .lines()
        .filter(|l| l.starts_with("picket_ledger_commands_total{"))
        .count();
    assert_eq!(counted, 5, "one series per command and result:\n{text}");
}
