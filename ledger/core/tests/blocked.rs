//! Blocked seats (`SeatSpec::blocked`): a hold naming one is refused, best-available and the
//! free counts skip them, the live seat map shows them off sale, and the spec's JSON form (rows)
//! and postcard form both keep them; a 50,000-seat spec fits one NATS message as JSON.
//!
//! The venue: grade R, section A, row 1 seats 1–4 (ids 0–3) with seats 2 and 3 (ids 1, 2)
//! blocked; row 2 seats 1–4 (ids 4–7) with seat 1 (id 4) blocked.

use picket_ledger_core::fees::kst_ms;
use picket_ledger_core::ledger::SeatState;
use picket_ledger_core::*;

const PERFORMANCE: PerformanceId = PerformanceId(9);
/// NATS's default `max_payload`.
const NATS_PAYLOAD_DEFAULT: usize = 1 << 20;

fn spec() -> PerformanceSpec {
    let blocked = [1, 2, 4];
    PerformanceSpec {
        seats: (0..8u16)
            .map(|i| SeatSpec {
                section: "A".into(),
                row: (i / 4 + 1).to_string(),
                number: i % 4 + 1,
                grade: GradeId(0),
                blocked: blocked.contains(&i),
            })
            .collect(),
        ..PerformanceSpec::plain(PERFORMANCE, kst_ms(2027, 3, 1, 19, 0), 100_000, 0, 1)
    }
}

fn run(ledger: &mut Ledger, n: u64, command: Command) -> Step {
    let request = Request {
        actor: ActorId(n),
        key: IdempotencyKey::new(format!("k{n}")).expect("key"),
        command,
    };
    ledger.execute(kst_ms(2027, 1, 5, 10, 0), &request)
}

fn hold(selection: Selection) -> Command {
    Command::Hold {
        performance: PERFORMANCE,
        selection,
        admission: None,
        offer: None,
    }
}

#[test]
fn a_blocked_seat_is_never_held_counted_or_shown_free() {
    let mut ledger = Ledger::new(1);
    let opened = run(&mut ledger, 1, Command::OpenPerformance(Box::new(spec())));
    assert!(opened.outcome.is_ok(), "{:?}", opened.outcome);
    let state = ledger.performance(PERFORMANCE).expect("open");
    assert_eq!(state.seat(SeatId(1)), Some(SeatState::Blocked));
    assert_eq!(state.seat(SeatId(0)), Some(SeatState::Free));
    assert_eq!(state.free_seats(GradeId(0)), 5);
    assert_eq!(state.places_free(), 5);
    let map = state.availability();
    assert_eq!(
        map.seat_free,
        vec![true, false, false, true, false, true, true, true]
    );

    // Named: refused as taken, alone or with a free seat.
    for seats in [vec![SeatId(2)], vec![SeatId(0), SeatId(4)]] {
        let step = run(&mut ledger, 2, hold(Selection::Seats(seats.clone())));
        assert!(
            matches!(step.outcome, Err(Rejection::SeatTaken { .. })),
            "{seats:?}: {:?}",
            step.outcome
        );
    }
    // Best-available: row 1 has no two side-by-side free seats (2 and 3 are blocked) and row 2
    // starts with a blocked one, so a pair is seats 2 and 3 of row 2 (ids 5, 6).
    let step = run(
        &mut ledger,
        3,
        hold(Selection::BestAvailable {
            grade: GradeId(0),
            count: 2,
        }),
    );
    let Ok(Reply::Held { places, .. }) = step.outcome else {
        panic!("{:?}", step.outcome);
    };
    assert_eq!(places, vec![Place::Seat(SeatId(5)), Place::Seat(SeatId(6))]);
    // Four more would need a blocked seat: only three are free.
    let step = run(
        &mut ledger,
        4,
        hold(Selection::BestAvailable {
            grade: GradeId(0),
            count: 4,
        }),
    );
    assert!(
        matches!(
            step.outcome,
            Err(Rejection::NotEnoughAvailable { available: 3 })
        ),
        "{:?}",
        step.outcome
    );
}

#[test]
fn blocked_seats_survive_json_and_postcard() {
    let spec = spec();
    let json = serde_json::to_value(&spec).expect("encodes");
    assert_eq!(
        json["seats"],
        serde_json::json!([
            {"section": "A", "row": "1", "grade": 0, "numbers": [1, 2, 3, 4], "blocked": [1, 2]},
            {"section": "A", "row": "2", "grade": 0, "numbers": [1, 2, 3, 4], "blocked": [0]},
        ])
    );
    let back: PerformanceSpec = serde_json::from_value(json).expect("decodes");
    assert_eq!(back, spec);
    let bytes = postcard::to_allocvec(&spec).expect("postcard");
    let back: PerformanceSpec = postcard::from_bytes(&bytes).expect("postcard decodes");
    assert_eq!(back, spec);

    // A journal written before rows: seats as objects, without `blocked`.
    let mut old = serde_json::to_value(&spec).expect("encodes");
    old["seats"] = serde_json::json!([
        {"section": "A", "row": "1", "number": 1, "grade": 0},
        {"section": "A", "row": "1", "number": 2, "grade": 0, "blocked": true},
    ]);
    let back: PerformanceSpec = serde_json::from_value(old).expect("old form decodes");
    assert_eq!(back.seats.len(), 2);
    assert!(!back.seats[0].blocked && back.seats[1].blocked);

    // A blocked position past the row is refused, not ignored.
    let mut bad = serde_json::to_value(&spec).expect("encodes");
    bad["seats"][0]["blocked"] = serde_json::json!([4]);
    assert!(serde_json::from_value::<PerformanceSpec>(bad).is_err());
}

#[test]
fn a_stadium_spec_fits_one_nats_message() {
    // 50,000 seats: 100 sections of 20 rows of 25, every tenth seat blocked.
    let seats = (0..50_000u32)
        .map(|i| SeatSpec {
            section: format!("{}구역", 101 + i / 500),
            row: format!("{}열", 1 + i / 25 % 20),
            number: (1 + i % 25) as u16,
            grade: GradeId((i / 12_500) as u16 % 4),
            blocked: i.is_multiple_of(10),
        })
        .collect();
    let spec = PerformanceSpec {
        grades: ["VIP", "R", "S", "A"]
            .iter()
            .map(|code| GradeSpec {
                code: (*code).into(),
                price_won: 100_000,
            })
            .collect(),
        seats,
        ..PerformanceSpec::plain(PERFORMANCE, kst_ms(2027, 3, 1, 19, 0), 100_000, 0, 1)
    };
    let command = Command::OpenPerformance(Box::new(spec.clone()));
    let bytes = serde_json::to_vec(&command).expect("encodes").len();
    assert!(
        bytes < NATS_PAYLOAD_DEFAULT / 2,
        "a 50,000-seat spec is {bytes} bytes"
    );
    let back: Command =
        serde_json::from_slice(&serde_json::to_vec(&command).expect("encodes")).expect("decodes");
    assert_eq!(back, command);
}

#[test]
fn a_seat_map_travels_as_a_hex_bitmap_and_old_lists_still_decode() {
    use picket_ledger_core::ledger::Availability;
    let map = Availability {
        performance: PERFORMANCE,
        seat_free: vec![true, false, true, true, true, true, true, true, false, true],
        zone_free: vec![3],
        cancelled: false,
    };
    let json = serde_json::to_value(&map).expect("encodes");
    assert_eq!(
        json["seat_free"],
        serde_json::json!({"seats": 10, "bits": "fd02"})
    );
    let back: Availability = serde_json::from_value(json).expect("decodes");
    assert_eq!(back, map);
    let old = serde_json::json!({"performance": 9, "seat_free": [true, false], "zone_free": [], "cancelled": false});
    let old: Availability = serde_json::from_value(old).expect("an old list decodes");
    assert_eq!(old.seat_free, vec![true, false]);
    let bytes = postcard::to_allocvec(&map).expect("postcard");
    assert_eq!(
        postcard::from_bytes::<Availability>(&bytes).expect("decodes"),
        map
    );
    // A bitmap too short for its seat count, or not hex, is refused.
    for bad in [
        serde_json::json!({"seats": 17, "bits": "fd02"}),
        serde_json::json!({"seats": 8, "bits": "zz"}),
    ] {
        let bad = serde_json::json!({"performance": 9, "seat_free": bad, "zone_free": []});
        assert!(serde_json::from_value::<Availability>(bad).is_err());
    }
    // A stadium's map: a quarter of a byte a seat.
    let stadium = Availability {
        seat_free: (0..50_000).map(|i| i % 3 != 0).collect(),
        ..map
    };
    let bytes = serde_json::to_vec(&stadium).expect("encodes").len();
    assert!(bytes < 13_000, "{bytes} bytes");
    let back: Availability =
        serde_json::from_slice(&serde_json::to_vec(&stadium).expect("encodes")).expect("decodes");
    assert_eq!(back, stadium);
}
