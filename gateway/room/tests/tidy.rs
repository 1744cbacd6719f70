//! Architecture test: the waiting room's core (`src/core.rs`) stays pure. No async runtime,
//! Redis, clock, randomness, filesystem, network, threads or processes: time comes in as
//! `now_ms` and the seed from the shell, so the simulation can replay any run from its seed.

use std::path::Path;

/// Words that would mean the core does I/O or reads time or randomness. `new_seed` is the one
/// function of `draw` that draws randomness; the core may use the rest (pure hashing).
const FORBIDDEN: &[&str] = &[
    "tokio",
    "redis",
    "std::time",
    "SystemTime",
    "Instant",
    "rand::",
    "thread_rng",
    "new_seed",
    "std::net",
    "std::fs",
    "std::thread",
    "std::process",
    "std::env",
    "std::sync",
];

fn forbidden_in(source: &str) -> Vec<&'static str> {
    let code: String = source
        .lines()
        .map(|line| line.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    FORBIDDEN
        .iter()
        .copied()
        .filter(|word| code.contains(word))
        .collect()
}

#[test]
fn the_core_does_no_io_and_reads_no_clock() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/core.rs");
    let source = std::fs::read_to_string(&path).expect("readable core");
    assert!(source.contains("pub struct SaleCore"), "found the core");
    let found = forbidden_in(&source);
    assert!(
        found.is_empty(),
        "{} uses {found:?}: the core must stay pure",
        path.display()
    );
}

#[test]
fn the_check_catches_what_it_looks_for() {
    assert_eq!(
        forbidden_in("use std::time::SystemTime;"),
        ["std::time", "SystemTime"]
    );
    assert_eq!(forbidden_in("let seed = draw::new_seed();"), ["new_seed"]);
    assert_eq!(forbidden_in("redis::cmd(\"GET\")"), ["redis"]);
    assert!(forbidden_in("// tokio is mentioned only in a comment").is_empty());
}
