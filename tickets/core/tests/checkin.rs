//! The check-in state: first entry admitted, later ones refused with when and where; re-entry
//! after an exit where the show allows it; offline uploads merged, first scan wins by scan time,
//! conflicts reported.

use picket_ledger_core::{PerformanceId, TicketId};
use picket_tickets::*;

const TICKET: TicketId = TicketId(42);

fn verified(ticket: TicketId) -> Verified {
    Verified {
        performance: PerformanceId(1),
        ticket,
        generation: 0,
        kind: CodeKind::Rotating,
        facts: DoorFacts {
            grade: "S석".into(),
            place: "스탠딩 A".into(),
            holder: "이*영".into(),
            proof: None,
        },
    }
}

fn entry(at_ms: u64, gate: u16) -> EntryScan {
    EntryScan {
        at_ms,
        gate: GateId(gate),
        proof_checked: false,
        source: Source::Online,
    }
}

fn offline(at_ms: u64, gate: u16, scanner: u64, nonce: u64) -> OfflineScan {
    OfflineScan {
        ticket: TICKET,
        generation: 0,
        at_ms,
        gate: GateId(gate),
        direction: Direction::Entry,
        scanner,
        nonce,
    }
}

#[test]
fn the_first_entry_is_admitted_and_later_ones_are_told_when_and_where() {
    let mut book = CheckIns::new(false);
    let admitted = book.enter(&verified(TICKET), entry(1_000, 1)).unwrap();
    assert_eq!((admitted.at_ms, admitted.gate), (1_000, GateId(1)));
    assert_eq!(
        book.enter(&verified(TICKET), entry(9_000, 2)),
        Err(Refusal::AlreadyUsed {
            at_ms: 1_000,
            gate: GateId(1)
        })
    );
    assert!(book.enter(&verified(TicketId(43)), entry(9_000, 2)).is_ok());
    assert!(book.conflicts().is_empty(), "a refused scan is no conflict");
}

#[test]
fn without_re_entry_an_exit_scan_changes_nothing() {
    let mut book = CheckIns::new(false);
    book.enter(&verified(TICKET), entry(1_000, 1)).unwrap();
    assert_eq!(
        book.exit(TICKET, 2_000, GateId(1), Source::Online),
        Err(ExitRefused::NoReentry)
    );
    assert!(book.enter(&verified(TICKET), entry(3_000, 1)).is_err());
}

#[test]
fn with_re_entry_an_exit_lets_the_ticket_in_again_once() {
    let mut book = CheckIns::new(true);
    assert_eq!(
        book.exit(TICKET, 500, GateId(1), Source::Online),
        Err(ExitRefused::NotInside)
    );
    book.enter(&verified(TICKET), entry(1_000, 1)).unwrap();
    book.exit(TICKET, 2_000, GateId(1), Source::Online).unwrap();
    assert_eq!(book.presence(TICKET), Presence::Outside);
    let back = book.enter(&verified(TICKET), entry(3_000, 4)).unwrap();
    assert_eq!(book.presence(TICKET), Presence::Inside { entry: back });
    assert_eq!(
        book.enter(&verified(TICKET), entry(4_000, 1)),
        Err(Refusal::AlreadyUsed {
            at_ms: 3_000,
            gate: GateId(4)
        })
    );
}

#[test]
fn two_offline_scanners_admitting_one_ticket_make_one_admission_and_one_conflict() {
    let mut server = CheckIns::new(false);
    let first = server.merge(&[offline(5_000, 2, 7, 1)]).unwrap();
    assert_eq!((first.recorded, first.conflicts.len()), (1, 0));
    // The second scanner was at another gate, scanned earlier, and synced later: its scan wins.
    let second = server.merge(&[offline(4_000, 3, 8, 1)]).unwrap();
    assert_eq!(second.recorded, 1);
    assert_eq!(second.conflicts.len(), 1);
    let conflict = second.conflicts[0];
    assert_eq!(conflict.ticket, TICKET);
    assert_eq!(
        (conflict.kept.at_ms, conflict.kept.gate),
        (4_000, GateId(3))
    );
    assert_eq!(
        (conflict.duplicate.at_ms, conflict.duplicate.gate),
        (5_000, GateId(2))
    );
    assert_eq!(server.conflicts(), vec![conflict]);
    match server.presence(TICKET) {
        Presence::Inside { entry } => assert_eq!(entry.at_ms, 4_000),
        Presence::Outside => panic!("the ticket is inside"),
    }
    // Uploading again (the answer was lost) records nothing and reports nothing new.
    let again = server.merge(&[offline(4_000, 3, 8, 1)]).unwrap();
    assert_eq!((again.recorded, again.repeated), (0, 1));
    assert!(again.conflicts.is_empty());
}

#[test]
fn an_offline_scan_earlier_than_an_online_admission_wins_and_the_online_one_conflicts() {
    let mut server = CheckIns::new(false);
    server.enter(&verified(TICKET), entry(10_000, 1)).unwrap();
    let merged = server.merge(&[offline(6_000, 2, 7, 9)]).unwrap();
    assert_eq!(merged.conflicts.len(), 1);
    assert_eq!(
        merged.conflicts[0].kept.source,
        Source::Offline {
            scanner: 7,
            nonce: 9
        }
    );
    assert_eq!(merged.conflicts[0].duplicate.source, Source::Online);
}

#[test]
fn offline_entries_separated_by_an_exit_are_no_conflict_where_re_entry_is_allowed() {
    let mut server = CheckIns::new(true);
    let exit = OfflineScan {
        direction: Direction::Exit,
        ..offline(2_000, 1, 7, 2)
    };
    let merged = server
        .merge(&[offline(1_000, 1, 7, 1), exit, offline(3_000, 2, 8, 1)])
        .unwrap();
    assert_eq!(merged.recorded, 3);
    assert!(merged.conflicts.is_empty());
    // Without re-entry the same scans are a conflict.
    let mut strict = CheckIns::new(false);
    let merged = strict
        .merge(&[offline(1_000, 1, 7, 1), exit, offline(3_000, 2, 8, 1)])
        .unwrap();
    assert_eq!(merged.conflicts.len(), 1);
}

#[test]
fn uploads_and_scans_per_ticket_are_bounded() {
    let mut server = CheckIns::new(true);
    let too_many: Vec<OfflineScan> = (0..=limits::UPLOAD_SCANS_MAX as u64)
        .map(|n| offline(n, 1, 1, n))
        .collect();
    assert_eq!(server.merge(&too_many), Err(UploadTooLarge));
    assert!(server.conflicts().is_empty(), "nothing of it was recorded");
    let full: Vec<OfflineScan> = (0..limits::SCANS_PER_TICKET_MAX as u64 + 3)
        .map(|n| offline(n, 1, 1, n))
        .collect();
    let merged = server.merge(&full).unwrap();
    assert_eq!(
        (merged.recorded, merged.dropped),
        (limits::SCANS_PER_TICKET_MAX, 3)
    );
    // A full ticket is refused as used (by its first entry: it is still inside).
    assert_eq!(
        server.enter(&verified(TICKET), entry(99_000, 1)),
        Err(Refusal::AlreadyUsed {
            at_ms: 0,
            gate: GateId(1)
        })
    );
}

#[test]
fn a_scanner_offline_uploads_what_it_admitted_and_the_server_records_it_once() {
    let mut scanner = CheckIns::new(true);
    let offline_entry = |at_ms, nonce| EntryScan {
        source: Source::Offline { scanner: 5, nonce },
        ..entry(at_ms, 2)
    };
    scanner
        .enter(&verified(TICKET), offline_entry(1_000, 1))
        .unwrap();
    scanner
        .exit(
            TICKET,
            2_000,
            GateId(2),
            Source::Offline {
                scanner: 5,
                nonce: 2,
            },
        )
        .unwrap();
    scanner
        .enter(&verified(TicketId(43)), offline_entry(3_000, 3))
        .unwrap();
    let upload = scanner.uploads();
    assert_eq!(upload.len(), 3);
    assert_eq!(upload[1].direction, Direction::Exit);
    let mut server = CheckIns::new(true);
    server
        .enter(&verified(TicketId(44)), entry(500, 1))
        .unwrap();
    assert_eq!(server.merge(&upload).unwrap().recorded, 3);
    assert_eq!(server.merge(&upload).unwrap().repeated, 3);
    assert_eq!(server.presence(TICKET), Presence::Outside);
    assert!(matches!(
        server.presence(TicketId(43)),
        Presence::Inside { .. }
    ));
    assert_eq!(
        server.uploads().len(),
        3,
        "the online scan is not an upload"
    );
}

#[test]
fn the_uploads_carry_the_generation_of_the_code_the_scanner_admitted() {
    let mut scanner = CheckIns::new(false);
    let rebound = Verified {
        generation: 2,
        ..verified(TICKET)
    };
    let at_the_gate = EntryScan {
        source: Source::Offline {
            scanner: 5,
            nonce: 1,
        },
        ..entry(1_000, 2)
    };
    scanner.enter(&rebound, at_the_gate).unwrap();
    let upload = scanner.uploads();
    assert_eq!(upload.len(), 1);
    assert_eq!(upload[0].generation, 2);
}

/// The ledger's `UploadScans` and a scanner's merge are one rule: the same scans give the same
/// conflicts and the same presence.
#[test]
fn the_ledger_and_a_scanner_merge_the_same_scans_identically() {
    use picket_ledger_core::fees::kst_ms;
    use picket_ledger_core::*;
    let starts_at_ms = kst_ms(2027, 5, 1, 19, 0);
    let spec = PerformanceSpec {
        performance: PerformanceId(1),
        starts_at_ms,
        kind: TicketKind::Performance,
        grades: vec![GradeSpec {
            code: "S".into(),
            price_won: 10_000,
        }],
        seats: Vec::new(),
        zones: vec![ZoneSpec {
            name: "스탠딩 A".into(),
            grade: GradeId(0),
            capacity: 10,
        }],
        per_buyer_limit: 2,
        hold_ttl_ms: 600_000,
        fees: FeeSchedule::korean_standard(TicketKind::Performance),
        booking_fee_won: 0,
        discounts: Vec::new(),
        coupons: Vec::new(),
        door: DoorSpec {
            reentry: true,
            ..DoorSpec::default()
        },
        waitlist: WaitlistSpec::default(),
    };
    let mut ledger = Ledger::new(1);
    let booked_at_ms = starts_at_ms - 86_400_000;
    let mut keys = 0;
    let mut run = |ledger: &mut Ledger, now_ms, command| {
        keys += 1;
        let request = Request {
            actor: ActorId(3),
            key: IdempotencyKey::new(format!("k{keys}")).unwrap(),
            command,
        };
        ledger.execute(now_ms, &request).outcome
    };
    run(
        &mut ledger,
        booked_at_ms,
        Command::OpenPerformance(Box::new(spec)),
    )
    .expect("opened");
    let Ok(Reply::Held {
        hold, amount_won, ..
    }) = run(
        &mut ledger,
        booked_at_ms,
        Command::Hold {
            performance: PerformanceId(1),
            selection: Selection::Zone {
                zone: ZoneId(0),
                count: 1,
            },
            admission: None,
            offer: None,
        },
    )
    else {
        panic!("held");
    };
    let Ok(Reply::Confirmed { tickets, .. }) = run(
        &mut ledger,
        booked_at_ms,
        Command::Confirm {
            performance: PerformanceId(1),
            hold,
            payment_ref: "pay".into(),
            amount_won,
        },
    ) else {
        panic!("confirmed");
    };
    let ticket = tickets[0];
    let at = starts_at_ms - 3_600_000;
    let scan = |at_ms, direction, scanner, nonce| OfflineScan {
        ticket,
        generation: 0,
        at_ms,
        gate: GateId(1),
        direction,
        scanner,
        nonce,
    };
    // Out of order: two entries by two scanners, an exit between them, another entry later.
    let upload = vec![
        scan(at + 9_000, Direction::Entry, 8, 1),
        scan(at + 1_000, Direction::Entry, 7, 1),
        scan(at + 5_000, Direction::Exit, 7, 2),
        scan(at + 6_000, Direction::Entry, 9, 1),
    ];
    let mut scanner = CheckIns::new(true);
    let merged = scanner.merge(&upload).unwrap();
    let Ok(Reply::ScansUploaded {
        recorded,
        conflicts,
        ..
    }) = run(
        &mut ledger,
        at + 60_000,
        Command::UploadScans {
            performance: PerformanceId(1),
            scans: upload,
        },
    )
    else {
        panic!("uploaded");
    };
    assert_eq!(recorded as usize, merged.recorded);
    assert_eq!(conflicts, merged.conflicts);
    assert_eq!(
        conflicts.len(),
        1,
        "the 9 s entry came while the 6 s one was inside"
    );
    let state = ledger.performance(PerformanceId(1)).unwrap();
    assert_eq!(state.door().presence(ticket), scanner.presence(ticket));
    assert_eq!(state.door().conflicts(), scanner.conflicts());
}
