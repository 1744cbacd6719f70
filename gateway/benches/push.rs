//! One push round's `queue` messages for a gateway full of waiting clients: each member's
//! message serialised on its own (before issue 18) against [`QueueRound`] (the shared parts
//! serialised once per round).
//!
//! `cargo bench -p picket-gateway --bench push` (prints µs per round and ns per member).

use std::hint::black_box;
use std::time::{Duration, Instant};

use axum::extract::ws::Utf8Bytes;
use picket_gateway::hub::{QueueRound, queue_message};
use picket_room::{SaleSettings, SaleStatus, SaleView, Standing};

/// A gateway at its file limit holds about this many clients (docs/benchmarks.md).
const MEMBERS: u64 = 19_000;
const ROUNDS: u32 = 100;

fn view() -> SaleView {
    SaleView {
        sale: 117_679_711_191_499_685,
        settings: SaleSettings {
            open_at_ms: 1_764_036_000_000,
            admit_per_sec: 200,
            active_max: 2_000,
            admission_ttl_ms: 600_000,
            seat_limit: 4,
            grace_ms: 30_000,
            paused: false,
        },
        status: SaleStatus::Open,
        watermark: 12_000,
        tail: 12_000 + MEMBERS,
        prequeue: 1_520,
        active: 1_800,
        seed_hash: "5f2b".repeat(16),
        seed: Some("9a1c".repeat(16)),
        sold_out: false,
    }
}

fn time(name: &str, mut round: impl FnMut() -> usize) -> Duration {
    let mut bytes = 0;
    for _ in 0..5 {
        bytes += round();
    }
    let started = Instant::now();
    for _ in 0..ROUNDS {
        bytes += round();
    }
    let per_round = started.elapsed() / ROUNDS;
    println!(
        "{name}: {:>8.1} µs per round of {MEMBERS}, {:>6.1} ns per member ({bytes} bytes in all)",
        per_round.as_secs_f64() * 1e6,
        per_round.as_secs_f64() * 1e9 / MEMBERS as f64,
    );
    per_round
}

fn main() {
    // `cargo test --benches` runs bench targets without `--bench`; only a real bench run times.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let view = view();
    let standings: Vec<Standing> = (0..MEMBERS)
        .map(|i| Standing::Waiting {
            place: view.watermark + 1 + i,
        })
        .collect();
    let each = time("each member serialised", || {
        let mut bytes = 0;
        for standing in &standings {
            let text: Utf8Bytes = queue_message(&view, standing, None, false).to_json().into();
            bytes += black_box(text).len();
        }
        bytes
    });
    let round = time("QueueRound (shared parts once)", || {
        let mut round = QueueRound::new(&view, false);
        let mut bytes = 0;
        for standing in &standings {
            bytes += black_box(round.text(standing, None)).len();
        }
        bytes
    });
    println!(
        "QueueRound takes {:.0} % of the time",
        100.0 * round.as_secs_f64() / each.as_secs_f64()
    );
}
