//! The test harness: private PostgreSQL, Redis and NATS (JetStream) servers, and an
//! S3-compatible object store (moto), started from the installed binaries on free loopback ports,
//! each in its own temporary directory, stopped and removed on drop. Tests never touch the services already running on the machine's standard
//! ports, and a test can kill, pause or restart its own server mid-stream.
//!
//! Plain std, no async: call it from any test, sync or tokio. Signals go through `sh -c kill`
//! (the workspace forbids `unsafe`, so no libc), and process trees are read from `/proc`.
//!
//! Layout: the servers are `picket-cluster`'s (the process supervisor `picket cluster` runs),
//! re-exported here: [`postgres`], [`redis`] and [`nats`] start one server each (`nats` adds
//! [`nats::consumer_info`] and the users of `deploy/nats/accounts.conf`, [`NatsAccounts`]),
//! [`process`] is what they share, [`HarnessError`] is its error; [`s3`] (moto) starts the one
//! server only tests need. [`tls`] makes a private CA and certificates ([`TestCa`]) that the
//! servers serve TLS with ([`ServerTls`]), and [`secured`] starts NATS (with
//! `deploy/nats/accounts.conf`) and PostgreSQL serving them. [`proxy`] is the [`TcpProxy`] a
//! test cuts a connection with. On top of them: [`gateway`] and [`api`] start Picket's services
//! in the test process, [`ledger`] has the booking workload, its audit and `picket ledger`
//! nodes, [`deploy`] deploys Picket as processes (the load tests' [`picket_cluster::Cluster`]);
//! [`pay`] runs the payment sandbox and pays at it as a buyer; [`ids`] checks that every id they serve is a string (v2); [`wait`]
//! waits, bounded, for what another task or process does.

pub mod api;
pub mod deploy;
pub mod gateway;
pub mod ids;
pub mod ledger;
pub mod nats;
pub mod pay;
pub mod proxy;
pub mod push;
pub mod s3;
pub mod scanner;
pub mod secured;
pub mod tls;
pub mod wait;

pub use nats::{Nats, NatsAccounts, NatsOptions};
pub use picket_cluster::ClusterError as HarnessError;
pub use picket_cluster::{Postgres, Redis, free_port, postgres, process, redis};
pub use proxy::TcpProxy;
pub use s3::MotoS3;
pub use secured::SecuredServices;
pub use tls::{CertFiles, ServerTls, TestCa};
