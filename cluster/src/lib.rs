//! Picket's production topology on one host, as processes: PostgreSQL (a primary and a
//! streaming read replica), a NATS cluster with JetStream, Redis with an append-only file,
//! `picket ledger` nodes, gateways behind one port, the notifier and the payment sandbox, each
//! in its own directory, started from the installed binaries on loopback ports, watched, and
//! stopped in order. `picket cluster` runs it; the test harness (`picket-tests`) starts its
//! private servers and its load-test deployment with the same code.
//!
//! A process supervisor only: it links no `picket-*` crate (it runs the `picket` binary), and
//! no service depends on it (`tests/tests/tidy_deps.rs`).
//!
//! Layout: [`postgres`], [`redis`] and [`nats`] start one server each (or a replica, or a
//! cluster), kill, pause and restart them; [`process`] is what they share (binaries, ports,
//! directories, spawning, waiting, signals, logs); [`picket`] starts the `picket` binary's
//! commands ([`LedgerNode`], [`Up`], and any [`PicketProcess`]); [`topology`] puts them together
//! ([`Cluster`], [`ClusterConfig`], cluster.json); [`balancer`] is the one gateway port;
//! [`tls`] names the certificate files a server serves TLS with ([`ServerTls`]; this crate makes
//! none); [`error`] the [`ClusterError`]. Plain std and threads, except the balancer (tokio).

pub mod balancer;
pub mod error;
pub mod nats;
pub mod picket;
pub mod postgres;
pub mod process;
pub mod redis;
pub mod tls;
pub mod topology;

pub use error::ClusterError;
pub use nats::{Nats, NatsOptions};
pub use picket::{LedgerNode, PicketProcess, Up};
pub use postgres::Postgres;
pub use process::free_port;
pub use redis::Redis;
pub use tls::ServerTls;
pub use topology::{Cluster, ClusterConfig, ClusterFile, GatewayKind, ProcessEntry, Secrets};
