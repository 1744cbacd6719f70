//! Offline verifications per second on one core: codes checked against an opened manifest of
//! 10,000 tickets (lookup, opening the sealed entry, the MAC, the window), as a scanner does with
//! no network; and the same codes online against the server's roster.
//!
//! `cargo bench -p picket-tickets --bench verify`

use std::collections::BTreeMap;
use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use picket_ledger_core::{PerformanceId, TicketId};
use picket_tickets::*;

const PERFORMANCE: PerformanceId = PerformanceId(7);
const TICKETS: u64 = 10_000;
const NOW_MS: u64 = 1_764_036_000_000;

fn roster() -> Roster {
    let tickets = (0..TICKETS)
        .map(|n| {
            let ticket = TicketId(1 << 48 | n);
            let secret = TicketSecret::derive(&[1; 32], PERFORMANCE, ticket, 0);
            let facts = DoorFacts {
                grade: "R석".into(),
                place: format!("1층 {}구역 {}열 {}번", n / 1000, n / 20 % 50, n % 20),
                holder: "김*수 (1234)".into(),
                proof: (n % 50 == 0).then(|| "장애인 (동반 1인)".into()),
            };
            let found = RosterTicket {
                secret,
                facts,
                revoked: false,
            };
            (ticket, found)
        })
        .collect::<BTreeMap<_, _>>();
    Roster {
        rules: DoorRules {
            performance: PERFORMANCE,
            doors_open_ms: 0,
            printed_codes: false,
            reentry: false,
        },
        tickets,
    }
}

fn bench(c: &mut Criterion) {
    let roster = roster();
    let key = ManifestKey::from_seed(&[2; 32]);
    let bytes = Manifest::build(&roster, NOW_MS, &[3; 32])
        .expect("valid")
        .sign(&key);
    let manifest = Manifest::open(&bytes, &key.public(), PERFORMANCE).expect("signed");
    let codes: Vec<String> = roster
        .tickets
        .iter()
        .map(|(&ticket, found)| {
            Code::rotating(PERFORMANCE, ticket, &found.secret, NOW_MS).to_string()
        })
        .collect();
    let mut group = c.benchmark_group("tickets");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1));
    group.throughput(Throughput::Elements(TICKETS));
    group.bench_function("verify_offline_10k", |b| {
        b.iter(|| {
            for code in &codes {
                verify(code.as_bytes(), NOW_MS, &manifest).expect("valid");
            }
        })
    });
    group.bench_function("verify_online_10k", |b| {
        b.iter(|| {
            for code in &codes {
                verify(code.as_bytes(), NOW_MS, &roster).expect("valid");
            }
        })
    });
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("manifest_open_10k", |b| {
        b.iter(|| Manifest::open(&bytes, &key.public(), PERFORMANCE).expect("signed"))
    });
    group.finish();
    println!("manifest of {TICKETS} tickets: {} bytes", bytes.len());
}

criterion_group!(benches, bench);
criterion_main!(benches);
