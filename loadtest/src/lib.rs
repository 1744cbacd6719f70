//! `picket loadtest`: operators rehearse a ticket opening before it happens. Many real WebSocket
//! clients drive a running Picket deployment through a named scenario, and the run ends with a
//! report and an audit of the ledger against what the clients were told.
//!
//! Layout:
//! - [`scenario`]: the presets (stampede, steady, idle, churn, failover), their numbers, and the
//!   TOML scenario file that combines them.
//! - [`target`]: where the clients go: loopback-only unless named, source addresses (127.0.0.x),
//!   the file-descriptor limit; the operator calls that set a performance and its sale up.
//! - [`inventory`]: the run's performance (seats per grade, zones) and its ledger spec.
//! - [`client`]: one virtual buyer over the WebSocket protocol v2.
//! - [`drive`]: one phase's clients in one process (stampede, pool, idle).
//! - [`plan`]: what a worker process is told to do and the progress it reports back.
//! - [`error`]: the crate's error type; [`clock`]: the wall clock in milliseconds.
//! - [`ledgers`]: `picket ledger` nodes a run starts itself, to kill the leader in `failover`.
//! - [`run`]: drives a scenario's clients (in this process or spread over worker processes),
//!   with a progress bar, bounded by a duration and a client cap.
//! - [`recorder`]: HDR histograms per step, the per-second timeline, errors by code.
//! - [`audit`]: the ledger's journal replayed and checked against the clients' log.
//! - [`baseline`]: the same booking workload as PostgreSQL row locks (`SELECT … FOR UPDATE`).
//! - [`cpu`]: server CPU per booking, per component, read from `/proc` around the measured
//!   windows; the loopback's bytes per booking.
//! - [`rng`]: seedable randomness and the hot-grades-first weights both sides of a baseline
//!   comparison use.
//! - [`report`]: JSON, Markdown and an SVG chart in an output directory.

pub mod audit;
pub mod baseline;
pub mod client;
pub mod clock;
pub mod cluster_file;
pub mod cpu;
pub mod drive;
pub mod error;
pub mod inventory;
pub mod ledgers;
pub mod payment;
pub mod plan;
pub mod recorder;
pub mod report;
pub mod rng;
pub mod run;
pub mod scenario;
pub mod target;

pub use error::LoadtestError;
pub use recorder::{Recorder, Step};
pub use report::RunReport;
pub use run::{LoadtestArgs, run};
