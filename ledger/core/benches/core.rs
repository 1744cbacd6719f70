//! Commands applied per second by the core on one thread, on a 50,000-seat stadium.
//!
//! `cargo bench -p picket-ledger-core --bench core`

use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use picket_ledger_core::fees::kst_ms;
use picket_ledger_core::*;

const PERFORMANCE: PerformanceId = PerformanceId(1);
const SECTIONS: u32 = 50;
const ROWS: u32 = 40;
const SEATS_PER_ROW: u32 = 25;
const SEATS: u32 = SECTIONS * ROWS * SEATS_PER_ROW;

fn stadium() -> PerformanceSpec {
    let prices = [
        ("VIP", 160_000),
        ("R", 140_000),
        ("S", 110_000),
        ("A", 80_000),
    ];
    let mut seats = Vec::with_capacity(SEATS as usize);
    for section in 0..SECTIONS {
        for row in 0..ROWS {
            for number in 1..=SEATS_PER_ROW {
                seats.push(SeatSpec {
                    section: format!("{section}"),
                    row: format!("{}", row + 1),
                    number: number as u16,
                    grade: GradeId((row * 4 / ROWS) as u16),
                    blocked: false,
                });
            }
        }
    }
    PerformanceSpec {
        performance: PERFORMANCE,
        starts_at_ms: kst_ms(2027, 6, 1, 19, 0),
        kind: TicketKind::Performance,
        grades: prices
            .iter()
            .map(|(code, price_won)| GradeSpec {
                code: (*code).into(),
                price_won: *price_won,
            })
            .collect(),
        seats,
        zones: Vec::new(),
        per_buyer_limit: 4,
        hold_ttl_ms: 7 * 60_000,
        fees: FeeSchedule::korean_standard(TicketKind::Performance),
        booking_fee_won: 0,
        discounts: vec![],
        coupons: vec![],
        door: DoorSpec::default(),
        waitlist: WaitlistSpec::default(),
    }
}

fn opened() -> (Ledger, u64) {
    let now_ms = kst_ms(2027, 5, 1, 20, 0);
    let mut ledger = Ledger::new(0);
    let open = Request {
        actor: ActorId(0),
        key: IdempotencyKey::new("open").expect("valid"),
        command: Command::OpenPerformance(Box::new(stadium())),
    };
    assert!(ledger.execute(now_ms, &open).outcome.is_ok());
    (ledger, now_ms)
}

fn key(n: u64, kind: &str) -> IdempotencyKey {
    IdempotencyKey::new(format!("{kind}{n}")).expect("valid")
}

/// Each buyer holds two specific seats, then confirms: two commands per buyer. Requests are
/// built before the timed section; hold ids are allocated in order from 1, so each confirm can
/// name its hold in advance.
fn hold_confirm_requests(buyers: u64) -> Vec<Request> {
    let mut requests = Vec::with_capacity(buyers as usize * 2);
    for buyer in 0..buyers {
        let actor = ActorId(buyer + 1);
        let seats = vec![SeatId((buyer * 2) as u32), SeatId((buyer * 2 + 1) as u32)];
        let grade = (buyer * 2 / u64::from(SEATS_PER_ROW)) % u64::from(ROWS) * 4 / u64::from(ROWS);
        let price_won = [160_000, 140_000, 110_000, 80_000][grade as usize];
        requests.push(Request {
            actor,
            key: key(buyer, "h"),
            command: Command::Hold {
                performance: PERFORMANCE,
                admission: None,
                selection: Selection::Seats(seats),
                offer: None,
            },
        });
        requests.push(Request {
            actor,
            key: key(buyer, "c"),
            command: Command::Confirm {
                performance: PERFORMANCE,
                hold: HoldId(buyer + 1),
                payment_ref: "pg-1".into(),
                amount_won: 2 * price_won,
            },
        });
    }
    requests
}

fn best_available_requests(buyers: u64) -> Vec<Request> {
    (0..buyers)
        .map(|buyer| Request {
            actor: ActorId(buyer + 1),
            key: key(buyer, "b"),
            command: Command::Hold {
                performance: PERFORMANCE,
                admission: None,
                selection: Selection::BestAvailable {
                    grade: GradeId((buyer % 4) as u16),
                    count: 2,
                },
                offer: None,
            },
        })
        .collect()
}

/// Applies every request; all must succeed. Returns the ledger so it is dropped untimed.
fn apply_all(mut ledger: Ledger, now_ms: u64, requests: &[Request]) -> Ledger {
    for request in requests {
        let step = ledger.execute(now_ms, request);
        assert!(step.outcome.is_ok(), "{:?}", step.outcome);
    }
    ledger
}

fn core(c: &mut Criterion) {
    // The returned ledger is dropped outside the timed section.
    let mut group = c.benchmark_group("core_50k_stadium");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    // Sells the whole stadium: 25,000 buyers × (hold + confirm).
    let buyers = u64::from(SEATS / 2);
    group.throughput(Throughput::Elements(buyers * 2));
    let requests = hold_confirm_requests(buyers);
    group.bench_function("hold_confirm_specific_seats", |b| {
        b.iter_batched(
            opened,
            |(ledger, now_ms)| apply_all(ledger, now_ms, &requests),
            BatchSize::PerIteration,
        )
    });
    group.throughput(Throughput::Elements(buyers));
    let best = best_available_requests(buyers);
    group.bench_function("hold_best_available_2_seats", |b| {
        b.iter_batched(
            opened,
            |(ledger, now_ms)| apply_all(ledger, now_ms, &best),
            BatchSize::PerIteration,
        )
    });
    group.finish();
}

criterion_group!(benches, core);
criterion_main!(benches);
