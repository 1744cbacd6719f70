//! The load tester's one error type, at the crate boundary: what `picket loadtest` reports when
//! a run cannot be set up, driven, audited or written. Its own file, because every stage (the
//! targets, the spawned ledgers, the run) returns it and none of them may depend on the run.

use crate::{audit, baseline, report};

/// Why a run could not be set up, driven, audited or reported.
#[derive(Debug, thiserror::Error)]
pub enum LoadtestError {
    #[error("configuration: {0}")]
    Config(String),
    #[error("{0} is not a loopback address; name its host with --allow-target to load it anyway")]
    NotLoopback(String),
    #[error("setting the run up: {0}")]
    Setup(String),
    #[error("worker process: {0}")]
    Worker(String),
    #[error("audit: {0}")]
    Audit(#[from] audit::AuditError),
    #[error("baseline: {0}")]
    Baseline(#[from] baseline::BaselineError),
    #[error("report: {0}")]
    Report(#[from] report::ReportError),
}
