//! The ledger's door: online entries and exits with and without re-entry, offline uploads merged
//! first scan wins with conflicts reported, transfers and device re-bindings that revoke old
//! codes, and the door report.

use picket_ledger_core::fees::kst_ms;
use picket_ledger_core::limits::{
    GATES_PER_PERFORMANCE_MAX, REBINDS_PER_TICKET_MAX, UPLOAD_SCANS_MAX,
};
use picket_ledger_core::*;

const PERFORMANCE: PerformanceId = PerformanceId(70);
const OTHER: PerformanceId = PerformanceId(71);
const BUYER: u64 = 10;
const FRIEND: u64 = 11;

fn starts_at_ms() -> u64 {
    kst_ms(2027, 3, 1, 19, 0)
}

fn booked_at_ms() -> u64 {
    kst_ms(2027, 2, 1, 12, 0)
}

fn door_open_ms() -> u64 {
    starts_at_ms() - 3_600_000
}

fn spec(performance: PerformanceId, door: DoorSpec) -> PerformanceSpec {
    PerformanceSpec {
        door,
        ..PerformanceSpec::plain(performance, starts_at_ms(), 50_000, 8, 8)
    }
}

fn gates() -> Vec<GateSpec> {
    (1..=3)
        .map(|n| GateSpec {
            id: GateId(n),
            label: format!("{n}번 게이트"),
        })
        .collect()
}

struct Door {
    ledger: Ledger,
    journal: Vec<Event>,
    keys: u64,
}

impl Door {
    fn new(door: DoorSpec) -> Self {
        let mut opened = Door {
            ledger: Ledger::new(1),
            journal: Vec::new(),
            keys: 0,
        };
        for performance in [PERFORMANCE, OTHER] {
            let spec = spec(performance, door.clone());
            let step = opened.run(booked_at_ms(), 0, Command::OpenPerformance(Box::new(spec)));
            assert!(step.is_ok(), "{step:?}");
        }
        opened
    }

    fn run(&mut self, now_ms: u64, actor: u64, command: Command) -> Outcome {
        self.keys += 1;
        let request = Request {
            actor: ActorId(actor),
            key: IdempotencyKey::new(format!("k{}", self.keys)).unwrap(),
            command,
        };
        let step = self.ledger.execute(now_ms, &request);
        self.journal.extend(step.events);
        step.outcome
    }

    /// Books `count` seats for `buyer` and returns the tickets.
    fn book(&mut self, performance: PerformanceId, buyer: u64, count: u16) -> Vec<TicketId> {
        let held = self.run(
            booked_at_ms(),
            buyer,
            Command::Hold {
                performance,
                selection: Selection::BestAvailable {
                    grade: GradeId(0),
                    count,
                },
                admission: None,
                offer: None,
            },
        );
        let Ok(Reply::Held {
            hold, amount_won, ..
        }) = held
        else {
            panic!("{held:?}");
        };
        let confirmed = self.run(
            booked_at_ms(),
            buyer,
            Command::Confirm {
                performance,
                hold,
                payment_ref: format!("pay-{buyer}-{hold}"),
                amount_won,
            },
        );
        let Ok(Reply::Confirmed { tickets, .. }) = confirmed else {
            panic!("{confirmed:?}");
        };
        tickets
    }

    fn scan(
        &mut self,
        at_ms: u64,
        ticket: TicketId,
        generation: u8,
        gate: u16,
        entry: bool,
    ) -> Outcome {
        self.run(
            at_ms,
            900,
            Command::Scan {
                performance: PERFORMANCE,
                ticket,
                generation,
                gate: GateId(gate),
                direction: if entry {
                    Direction::Entry
                } else {
                    Direction::Exit
                },
            },
        )
    }

    fn upload(&mut self, now_ms: u64, scans: Vec<OfflineScan>) -> Outcome {
        self.run(
            now_ms,
            900,
            Command::UploadScans {
                performance: PERFORMANCE,
                scans,
            },
        )
    }

    fn state(&self) -> &PerformanceState {
        self.ledger.performance(PERFORMANCE).unwrap()
    }

    /// The digest of the state rebuilt from the journal through JSON (as the shell stores
    /// it), after checking the state also survives a postcard snapshot.
    fn replayed_digest(&self) -> u64 {
        let snapshot = postcard::to_stdvec(&self.ledger).expect("encodes");
        let restored: Ledger = postcard::from_bytes(&snapshot).expect("a snapshot decodes");
        assert_eq!(restored.digest(), self.ledger.digest());
        let mut replayed = Ledger::new(1);
        for event in &self.journal {
            let json = serde_json::to_string(event).unwrap();
            replayed.apply(&serde_json::from_str(&json).unwrap());
        }
        replayed.digest()
    }
}

fn offline(ticket: TicketId, at_ms: u64, gate: u16, scanner: u64, nonce: u64) -> OfflineScan {
    OfflineScan {
        ticket,
        generation: 0,
        at_ms,
        gate: GateId(gate),
        direction: Direction::Entry,
        scanner,
        nonce,
    }
}

fn reentry() -> DoorSpec {
    DoorSpec {
        reentry: true,
        gates: gates(),
        ..DoorSpec::default()
    }
}

#[test]
fn an_online_entry_admits_once_and_later_scans_are_told_when_and_at_which_gate() {
    let mut door = Door::new(DoorSpec::default());
    let tickets = door.book(PERFORMANCE, BUYER, 2);
    let at = door_open_ms();
    assert_eq!(
        door.scan(at, tickets[0], 0, 2, true),
        Ok(Reply::Admitted {
            ticket: tickets[0],
            gate: GateId(2),
            at_ms: at,
        })
    );
    assert_eq!(
        door.scan(at + 60_000, tickets[0], 0, 5, true),
        Err(Rejection::AlreadyUsed {
            at_ms: at,
            gate: GateId(2)
        })
    );
    // Without re-entry an exit scan changes nothing.
    assert_eq!(
        door.scan(at + 1, tickets[0], 0, 2, false),
        Err(Rejection::NoReentry)
    );
    // The old `CheckIn` is an online entry at gate 0 with the old reply shapes.
    let check_in = |ticket| Command::CheckIn {
        performance: PERFORMANCE,
        ticket,
    };
    assert_eq!(
        door.run(at + 2, 900, check_in(tickets[0])),
        Err(Rejection::AlreadyCheckedIn { at_ms: at })
    );
    assert_eq!(
        door.run(at + 3, 900, check_in(tickets[1])),
        Ok(Reply::CheckedIn {
            ticket: tickets[1],
            at_ms: at + 3
        })
    );
    assert_eq!(door.replayed_digest(), door.ledger.digest());
}

#[test]
fn cancelled_foreign_and_unknown_tickets_and_stale_codes_never_admit() {
    let mut door = Door::new(DoorSpec {
        gates: gates(),
        ..DoorSpec::default()
    });
    let mine = door.book(PERFORMANCE, BUYER, 2);
    let foreign = door.book(OTHER, BUYER, 1);
    let at = door_open_ms();
    let booking = door.state().ticket(mine[0]).unwrap().booking;
    let cancelled = door.run(
        booked_at_ms() + 1,
        BUYER,
        Command::Cancel {
            performance: PERFORMANCE,
            booking,
            tickets: vec![mine[0]],
        },
    );
    assert!(cancelled.is_ok(), "{cancelled:?}");
    assert_eq!(
        door.scan(at, mine[0], 0, 1, true),
        Err(Rejection::TicketCancelled)
    );
    assert_eq!(
        door.scan(at, foreign[0], 0, 1, true),
        Err(Rejection::WrongPerformance)
    );
    assert_eq!(
        door.scan(at, TicketId(123_456), 0, 1, true),
        Err(Rejection::UnknownTicket {
            ticket: TicketId(123_456)
        })
    );
    assert_eq!(
        door.scan(at, mine[1], 0, 9, true),
        Err(Rejection::UnknownGate { gate: GateId(9) })
    );
    let rebound = door.run(
        at - 1,
        BUYER,
        Command::RebindDevice {
            performance: PERFORMANCE,
            ticket: mine[1],
        },
    );
    assert_eq!(
        rebound,
        Ok(Reply::Rebound {
            ticket: mine[1],
            generation: 1
        })
    );
    assert_eq!(door.scan(at, mine[1], 0, 1, true), Err(Rejection::Revoked));
    assert!(door.scan(at, mine[1], 1, 1, true).is_ok());
    let report = door.state().door_report();
    assert_eq!(report.admitted, 1);
    assert_eq!(report.inside, 1);
    assert_eq!(report.no_shows, 0, "the cancelled ticket is no no-show");
}

#[test]
fn with_re_entry_an_exit_lets_the_ticket_in_again_and_never_inside_twice() {
    let mut door = Door::new(reentry());
    let ticket = door.book(PERFORMANCE, BUYER, 1)[0];
    let at = door_open_ms();
    assert_eq!(
        door.scan(at, ticket, 0, 1, false),
        Err(Rejection::NotInside)
    );
    assert!(door.scan(at, ticket, 0, 1, true).is_ok());
    assert_eq!(
        door.scan(at + 1_000, ticket, 0, 2, false),
        Ok(Reply::Exited {
            ticket,
            gate: GateId(2),
            at_ms: at + 1_000
        })
    );
    assert!(door.scan(at + 2_000, ticket, 0, 3, true).is_ok());
    assert_eq!(
        door.scan(at + 3_000, ticket, 0, 1, true),
        Err(Rejection::AlreadyUsed {
            at_ms: at + 2_000,
            gate: GateId(3)
        })
    );
    let report = door.state().door_report();
    assert_eq!(report.admitted, 2, "two stays");
    assert_eq!(report.inside, 1);
    let gate_1: u32 = report
        .by_gate_minute
        .iter()
        .filter(|g| g.gate == GateId(1))
        .map(|g| g.admitted)
        .sum();
    assert_eq!(gate_1, 1);
    assert_eq!(door.replayed_digest(), door.ledger.digest());
}

#[test]
fn two_offline_scanners_admitting_one_ticket_make_one_admission_and_one_conflict() {
    let mut door = Door::new(DoorSpec::default());
    let tickets = door.book(PERFORMANCE, BUYER, 3);
    let at = door_open_ms();
    let now = at + 600_000;
    let first = door.upload(now, vec![offline(tickets[0], at + 5_000, 2, 7, 1)]);
    assert_eq!(
        first,
        Ok(Reply::ScansUploaded {
            recorded: 1,
            repeated: 0,
            refused: Vec::new(),
            conflicts: Vec::new()
        })
    );
    // The second scanner scanned earlier and synced later: its scan wins.
    let second = door.upload(now, vec![offline(tickets[0], at + 4_000, 3, 8, 1)]);
    let Ok(Reply::ScansUploaded {
        recorded,
        conflicts,
        ..
    }) = second
    else {
        panic!("{second:?}");
    };
    assert_eq!(recorded, 1);
    assert_eq!(conflicts.len(), 1);
    assert_eq!(
        (conflicts[0].kept.at_ms, conflicts[0].kept.gate),
        (at + 4_000, GateId(3))
    );
    assert_eq!(conflicts[0].duplicate.at_ms, at + 5_000);
    // Online the ticket is used, as of the earlier scan.
    assert_eq!(
        door.scan(now, tickets[0], 0, 1, true),
        Err(Rejection::AlreadyUsed {
            at_ms: at + 4_000,
            gate: GateId(3)
        })
    );
    // The same upload again (its answer was lost) records nothing new.
    let again = door.upload(now, vec![offline(tickets[0], at + 4_000, 3, 8, 1)]);
    assert_eq!(
        again,
        Ok(Reply::ScansUploaded {
            recorded: 0,
            repeated: 1,
            refused: Vec::new(),
            conflicts: Vec::new()
        })
    );
    // A stale generation, a scan from the future, and an unknown ticket are not recorded.
    let stale = OfflineScan {
        generation: 3,
        ..offline(tickets[1], at, 1, 9, 1)
    };
    let refused = door.upload(
        now,
        vec![
            stale,
            offline(tickets[1], now + 3_600_000, 1, 9, 2),
            offline(TicketId(999_999), at, 1, 9, 3),
        ],
    );
    let Ok(Reply::ScansUploaded {
        recorded, refused, ..
    }) = refused
    else {
        panic!("{refused:?}");
    };
    assert_eq!(recorded, 0);
    let reasons: Vec<ScanRefusal> = refused.iter().map(|r| r.reason).collect();
    assert_eq!(
        reasons,
        vec![
            ScanRefusal::Revoked,
            ScanRefusal::ScanAhead,
            ScanRefusal::UnknownTicket
        ]
    );
    let report = door.state().door_report();
    assert_eq!(report.admitted, 1);
    assert_eq!(report.conflicts.len(), 1);
    assert_eq!(report.no_shows, 2);
    assert_eq!(door.replayed_digest(), door.ledger.digest());
}

#[test]
fn an_upload_is_bounded() {
    let mut door = Door::new(DoorSpec::default());
    let ticket = door.book(PERFORMANCE, BUYER, 1)[0];
    let too_many = (0..=UPLOAD_SCANS_MAX as u64)
        .map(|n| offline(ticket, door_open_ms(), 1, 1, n))
        .collect();
    assert_eq!(
        door.upload(door_open_ms(), too_many),
        Err(Rejection::Invalid(Invalid::TooManyScans))
    );
}

#[test]
fn a_transfer_moves_the_ticket_and_revokes_the_old_holders_codes() {
    let until = starts_at_ms() - 86_400_000;
    let mut door = Door::new(DoorSpec {
        transfer_until_ms: Some(until),
        ..DoorSpec::default()
    });
    let tickets = door.book(PERFORMANCE, BUYER, 2);
    let transfer = |ticket, to| Command::TransferTicket {
        performance: PERFORMANCE,
        ticket,
        to: ActorId(to),
    };
    assert_eq!(
        door.run(until - 10, FRIEND, transfer(tickets[0], 12)),
        Err(Rejection::NotYourTicket)
    );
    assert_eq!(
        door.run(until - 10, BUYER, transfer(tickets[0], BUYER)),
        Err(Rejection::Invalid(Invalid::SelfTransfer))
    );
    assert_eq!(
        door.run(until - 10, BUYER, transfer(tickets[0], FRIEND)),
        Ok(Reply::Transferred {
            ticket: tickets[0],
            to: ActorId(FRIEND),
            generation: 1
        })
    );
    assert_eq!(
        door.state().ticket(tickets[0]).unwrap().holder,
        ActorId(FRIEND)
    );
    assert_eq!(door.state().buyer_places(ActorId(BUYER)), 1);
    assert_eq!(door.state().buyer_places(ActorId(FRIEND)), 1);
    // The old holder can neither pass it on again nor cancel it.
    assert_eq!(
        door.run(until - 9, BUYER, transfer(tickets[0], 12)),
        Err(Rejection::NotYourTicket)
    );
    let booking = door.state().ticket(tickets[0]).unwrap().booking;
    assert_eq!(
        door.run(
            until - 9,
            BUYER,
            Command::Cancel {
                performance: PERFORMANCE,
                booking,
                tickets: vec![tickets[0]],
            }
        ),
        Err(Rejection::NotYourTicket)
    );
    // After the deadline nobody transfers.
    assert_eq!(
        door.run(until, BUYER, transfer(tickets[1], FRIEND)),
        Err(Rejection::TransferClosed)
    );
    let at = door_open_ms();
    assert_eq!(
        door.scan(at, tickets[0], 0, 1, true),
        Err(Rejection::Revoked)
    );
    assert!(door.scan(at, tickets[0], 1, 1, true).is_ok());
    assert_eq!(door.replayed_digest(), door.ledger.digest());
}

#[test]
fn a_used_ticket_is_not_transferred_and_the_recipient_limit_counts() {
    let mut door = Door::new(DoorSpec {
        transfer_until_ms: Some(starts_at_ms()),
        ..DoorSpec::default()
    });
    let tickets = door.book(PERFORMANCE, BUYER, 2);
    door.book(PERFORMANCE, FRIEND, 4);
    let transfer = |ticket, to| Command::TransferTicket {
        performance: PERFORMANCE,
        ticket,
        to: ActorId(to),
    };
    assert_eq!(
        door.run(booked_at_ms(), BUYER, transfer(tickets[0], FRIEND)),
        Err(Rejection::OverBuyerLimit {
            limit: 4,
            already: 4
        })
    );
    assert!(door.scan(door_open_ms(), tickets[1], 0, 0, true).is_ok());
    assert_eq!(
        door.run(door_open_ms() + 1, BUYER, transfer(tickets[1], 12)),
        Err(Rejection::TicketUsed)
    );
    let mut closed = Door::new(DoorSpec::default());
    let kept = closed.book(PERFORMANCE, BUYER, 1)[0];
    assert_eq!(
        closed.run(booked_at_ms(), BUYER, transfer(kept, FRIEND)),
        Err(Rejection::TransferClosed),
        "the show allows no transfers"
    );
}

#[test]
fn device_rebinds_bump_the_generation_up_to_their_limit() {
    let mut door = Door::new(DoorSpec::default());
    let ticket = door.book(PERFORMANCE, BUYER, 1)[0];
    let rebind = Command::RebindDevice {
        performance: PERFORMANCE,
        ticket,
    };
    assert_eq!(
        door.run(booked_at_ms(), FRIEND, rebind.clone()),
        Err(Rejection::NotYourTicket)
    );
    for generation in 1..=REBINDS_PER_TICKET_MAX {
        assert_eq!(
            door.run(booked_at_ms(), BUYER, rebind.clone()),
            Ok(Reply::Rebound { ticket, generation })
        );
    }
    assert_eq!(
        door.run(booked_at_ms(), BUYER, rebind),
        Err(Rejection::TooManyRebinds)
    );
    assert_eq!(
        door.state().ticket(ticket).unwrap().generation,
        REBINDS_PER_TICKET_MAX
    );
    assert_eq!(door.replayed_digest(), door.ledger.digest());
}

#[test]
fn the_door_settings_are_validated_and_old_specs_decode_without_them() {
    let mut ledger = Ledger::new(1);
    let mut open = |door: DoorSpec| {
        let request = Request {
            actor: ActorId(0),
            key: IdempotencyKey::new(format!("open-{}", door.gates.len())).unwrap(),
            command: Command::OpenPerformance(Box::new(spec(PERFORMANCE, door))),
        };
        ledger.execute(booked_at_ms(), &request).outcome
    };
    let many = (0..=GATES_PER_PERFORMANCE_MAX as u16)
        .map(|n| GateSpec {
            id: GateId(n),
            label: "문".into(),
        })
        .collect();
    assert_eq!(
        open(DoorSpec {
            gates: many,
            ..DoorSpec::default()
        }),
        Err(Rejection::Invalid(Invalid::Gates))
    );
    let twice = vec![gates()[0].clone(), gates()[0].clone()];
    assert_eq!(
        open(DoorSpec {
            gates: twice,
            ..DoorSpec::default()
        }),
        Err(Rejection::Invalid(Invalid::Gates))
    );
    assert_eq!(
        open(DoorSpec {
            transfer_until_ms: Some(starts_at_ms() + 1),
            ..DoorSpec::default()
        }),
        Err(Rejection::Invalid(Invalid::TransferDeadline))
    );
    let mut json = serde_json::to_value(spec(PERFORMANCE, reentry())).unwrap();
    json.as_object_mut().unwrap().remove("door");
    let old: PerformanceSpec = serde_json::from_value(json).unwrap();
    assert_eq!(old.door, DoorSpec::default());
}

#[test]
fn a_door_report_lists_the_newest_conflicts_and_counts_them_all() {
    use picket_ledger_core::limits::{DOOR_REPORT_CONFLICTS_MAX, SCANS_PER_TICKET_MAX};
    let mut door = Door::new(DoorSpec::default());
    let mut tickets = door.book(PERFORMANCE, BUYER, 4);
    tickets.extend(door.book(PERFORMANCE, FRIEND, 4));
    // Every ticket entered SCANS_PER_TICKET_MAX times by as many offline scanners, a second
    // apart across all tickets: every entry after a ticket's first is a conflict.
    let at = door_open_ms();
    let mut scans = Vec::new();
    for round in 0..SCANS_PER_TICKET_MAX as u64 {
        for (n, ticket) in tickets.iter().enumerate() {
            let second = round * tickets.len() as u64 + n as u64;
            scans.push(offline(
                *ticket,
                at + second * 1_000,
                1,
                100 + round,
                second,
            ));
        }
    }
    let total = tickets.len() * (SCANS_PER_TICKET_MAX - 1);
    assert!(
        total > DOOR_REPORT_CONFLICTS_MAX,
        "the test passes the bound"
    );
    let uploaded = door.upload(at + 3_600_000, scans);
    let Ok(Reply::ScansUploaded { recorded, .. }) = uploaded else {
        panic!("{uploaded:?}");
    };
    assert_eq!(recorded as usize, tickets.len() * SCANS_PER_TICKET_MAX);
    let report = door.state().door_report();
    assert_eq!(report.admitted as usize, tickets.len());
    assert_eq!(report.conflicts_total as usize, total);
    assert_eq!(report.conflicts.len(), DOOR_REPORT_CONFLICTS_MAX);
    // Newest first, and the ones left out are older than every one listed.
    let times: Vec<u64> = report.conflicts.iter().map(|c| c.duplicate.at_ms).collect();
    assert!(times.windows(2).all(|pair| pair[0] > pair[1]), "{times:?}");
    let newest = at + (SCANS_PER_TICKET_MAX as u64 * tickets.len() as u64 - 1) * 1_000;
    assert_eq!(times[0], newest);
    let listed_oldest = *times.last().expect("listed");
    let left_out = door
        .state()
        .door()
        .conflicts()
        .into_iter()
        .filter(|c| c.duplicate.at_ms < listed_oldest)
        .count();
    assert_eq!(left_out, total - DOOR_REPORT_CONFLICTS_MAX);
}

#[test]
fn tickets_are_read_in_pages_by_ascending_id() {
    use picket_ledger_core::limits::TICKETS_PAGE_MAX;
    let mut door = Door::new(DoorSpec::default());
    let mut tickets = door.book(PERFORMANCE, BUYER, 4);
    tickets.extend(door.book(PERFORMANCE, FRIEND, 3));
    door.book(OTHER, BUYER, 2);
    tickets.sort();
    let state = door.state();
    let mut read = Vec::new();
    let mut after = None;
    loop {
        let page = state.tickets_page(after, 3);
        assert!(page.len() <= 3);
        read.extend(page.iter().map(|t| t.ticket));
        for view in &page {
            assert_eq!(Some(view), state.ticket_view(view.ticket).as_ref());
        }
        if page.len() < 3 {
            break;
        }
        after = page.last().map(|t| t.ticket);
    }
    assert_eq!(
        read, tickets,
        "every ticket of this performance once, ascending"
    );
    assert!(state.tickets_page(None, 0).is_empty());
    // A limit past the bound reads at most TICKETS_PAGE_MAX (here: all seven).
    assert_eq!(state.tickets_page(None, TICKETS_PAGE_MAX * 10).len(), 7);
    assert!(state.tickets_page(tickets.last().copied(), 10).is_empty());
}

#[test]
fn a_door_report_lists_the_latest_gate_minutes_and_counts_every_admission() {
    use picket_ledger_core::limits::{
        DOOR_REPORT_GATE_MINUTES_MAX, PER_BUYER_LIMIT_MAX, SCANS_PER_TICKET_MAX,
    };
    const MINUTE_MS: u64 = 60_000;
    let mut door = Door {
        ledger: Ledger::new(1),
        journal: Vec::new(),
        keys: 0,
    };
    let mut big = spec(PERFORMANCE, reentry());
    big.seats = (1..=160)
        .map(|n| SeatSpec {
            section: "A".into(),
            row: "1".into(),
            number: n,
            grade: GradeId(0),
            blocked: false,
        })
        .collect();
    big.per_buyer_limit = PER_BUYER_LIMIT_MAX;
    let opened = door.run(booked_at_ms(), 0, Command::OpenPerformance(Box::new(big)));
    assert!(opened.is_ok(), "{opened:?}");
    // Each ticket enters and leaves in turns, every entry in a minute of its own: as many
    // gate-minutes as admissions.
    let stays = SCANS_PER_TICKET_MAX / 2;
    let needed = DOOR_REPORT_GATE_MINUTES_MAX / stays + 1;
    let mut tickets = Vec::new();
    for buyer in 0.. {
        if tickets.len() >= needed {
            break;
        }
        tickets.extend(door.book(PERFORMANCE, 100 + buyer, PER_BUYER_LIMIT_MAX));
    }
    tickets.truncate(needed);
    let first_ms = door_open_ms() - 30 * 86_400_000;
    let mut scans = Vec::new();
    for stay in 0..stays as u64 {
        for (n, ticket) in tickets.iter().enumerate() {
            let minute = first_ms + (stay * tickets.len() as u64 + n as u64) * MINUTE_MS;
            let nonce = 2 * (stay * tickets.len() as u64 + n as u64);
            scans.push(offline(*ticket, minute, 1, 7, nonce));
            let exit = OfflineScan {
                direction: Direction::Exit,
                ..offline(*ticket, minute + 30_000, 2, 7, nonce + 1)
            };
            scans.push(exit);
        }
    }
    let admissions = tickets.len() * stays;
    assert!(
        admissions > DOOR_REPORT_GATE_MINUTES_MAX,
        "the test passes the bound"
    );
    for chunk in scans.chunks(UPLOAD_SCANS_MAX) {
        let uploaded = door.upload(door_open_ms(), chunk.to_vec());
        assert!(
            matches!(uploaded, Ok(Reply::ScansUploaded { ref refused, .. }) if refused.is_empty()),
            "{uploaded:?}"
        );
    }
    let report = door.state().door_report();
    assert_eq!(report.admitted as usize, admissions);
    assert_eq!(report.by_gate_minute.len(), DOOR_REPORT_GATE_MINUTES_MAX);
    // The latest minutes, in gate and minute order: the oldest admissions are the ones left out.
    let minutes: Vec<u64> = report.by_gate_minute.iter().map(|g| g.minute_ms).collect();
    assert!(
        minutes.windows(2).all(|pair| pair[0] < pair[1]),
        "ascending"
    );
    let skipped = (admissions - DOOR_REPORT_GATE_MINUTES_MAX) as u64;
    assert_eq!(minutes[0], first_ms + skipped * MINUTE_MS);
    assert!(
        report
            .by_gate_minute
            .iter()
            .all(|g| g.gate == GateId(1) && g.admitted == 1)
    );
    assert_eq!(report.inside, 0, "everyone left");
}
