//! What a worker process is told to do and what it reports while it runs: the messages between
//! the run (the parent) and the phase drivers (in the parent or a worker process), kept apart
//! from both so neither imports the other for them.

use serde::{Deserialize, Serialize};

use crate::scenario::Phase;

/// What a worker process is told to do (on its stdin, as JSON).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkerPlan {
    pub phase: Phase,
    pub performance: u64,
    pub sale_open_at_ms: u64,
    /// The run's clock: second 0 of the timeline.
    pub run_started_at_ms: u64,
    pub phase_started_at_ms: u64,
    pub gateways: Vec<String>,
    pub source_addrs: u8,
    /// The non-loopback hosts the operator named (`--allow-target`).
    pub allow_target: Vec<String>,
    pub worker: u16,
    pub workers: u16,
    pub run_id: u32,
}

/// A worker's running totals, sent on its progress lines and summed for the progress bar.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize)]
pub struct ProgressCounts {
    pub connected: u64,
    pub admitted: u64,
    pub bookings: u64,
    pub errors: u64,
}
