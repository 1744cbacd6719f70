//! The test harness: private PostgreSQL, Redis and NATS (JetStream) servers, and an
//! S3-compatible object store (moto), started from the installed binaries on free loopback ports,
//! each in its own temporary directory, stopped and removed on drop. Tests never touch the services already running on the machine's standard
//! ports, and a test can kill, pause or restart its own server mid-stream.
//!
//! Plain std, no async: call it from any test, sync or tokio. Signals go through `sh -c kill`
//! (the workspace forbids `unsafe`, so no libc), and process trees are read from `/proc`.
//!
//! Layout: [`postgres`], [`redis`], [`nats`] and [`s3`] (moto) start one server each;
//! [`process`] is what they share (binaries, ports, spawning, waiting, signals, logs);
//! [`proxy`] is the [`TcpProxy`] a test cuts a connection with; [`error`] the [`HarnessError`];
//! [`tls`] makes a private CA and certificates that the servers can serve TLS with, and
//! [`secured`] starts NATS (with `deploy/nats/accounts.conf`) and PostgreSQL serving them.
//! On top of them: [`gateway`] and [`api`] start Picket's services in the test process,
//! [`ledger`] has the booking workload, its audit and `picket ledger` nodes, [`deploy`] deploys
//! Picket as processes; [`pay`] runs the payment sandbox and pays at it as a buyer; [`ids`] checks that every id they serve is a string (v2); [`wait`]
//! waits, bounded, for what another task or process does.

pub mod api;
pub mod deploy;
pub mod error;
pub mod gateway;
pub mod ids;
pub mod ledger;
pub mod nats;
pub mod pay;
pub mod postgres;
pub mod process;
pub mod proxy;
pub mod push;
pub mod redis;
pub mod s3;
pub mod scanner;
pub mod secured;
pub mod tls;
pub mod wait;

pub use error::HarnessError;
pub use nats::{Nats, NatsAccounts, NatsOptions};
pub use postgres::Postgres;
pub use process::free_port;
pub use proxy::TcpProxy;
pub use redis::Redis;
pub use s3::MotoS3;
pub use secured::SecuredServices;
pub use tls::{CertFiles, ServerTls, TestCa};
