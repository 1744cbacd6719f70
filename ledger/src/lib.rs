//! The ledger service: the shell around [`picket_ledger_core`].
//!
//! The core decides; this crate does the I/O around it:
//! - [`writer`]: the single writer of a partition — a bounded command queue, batched execution,
//!   group commit to the journal, replies only after the commit, hold expiry on a timer,
//!   snapshots.
//! - [`journal`]: the journal trait with PostgreSQL and SQLite stores, and recovery
//!   (snapshot + replay).
//! - [`ops`]: `/healthz` and `/metrics`.
//! - [`node`]: a ledger node that leads or stands by for its partitions over NATS and
//!   PostgreSQL (leases, fencing epochs).
//! - [`run`]: the whole service on an already-bound listener until `shutdown` resolves.
//!
//! The wire (NATS subjects, messages, committed entries) and the client callers use live in
//! `picket-ledger-client`, which this crate depends on and never the other way: callers depend
//! on the core and the client only. [`LedgerHandle`] implements the client's `LocalLedger`, so a
//! `LedgerClient` reaches a writer in the same process.

pub mod config;
pub mod journal;
pub mod metrics;
pub mod node;
pub mod ops;
pub mod writer;

use std::future::Future;
use std::sync::Arc;

use prometheus_client::registry::Registry;
use tokio::net::TcpListener;

pub use config::{LedgerConfig, StoreUrl};
pub use journal::{Journal, JournalError, PgJournal, PgSession, SqliteJournal};
pub use node::{Node, NodeConfig, NodeError, PartitionStatus, Role};
pub use writer::{LedgerHandle, WriterTask};

#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
    #[error("ops http server failed: {0}")]
    Http(#[from] std::io::Error),
}

/// A started ledger partition: the handle to send it commands and its writer task.
pub struct LedgerService {
    pub handle: LedgerHandle,
    pub writer: WriterTask,
}

impl LedgerService {
    /// Opens the configured store (creating a SQLite file's directory), recovers the partition
    /// and starts its writer. Metrics are registered in `registry`.
    pub async fn start(
        config: &LedgerConfig,
        registry: &mut Registry,
    ) -> Result<Self, LedgerError> {
        let metrics = Arc::new(metrics::Metrics::new(registry));
        let (handle, writer) = match &config.store {
            StoreUrl::Postgres(url) => {
                let journal = PgJournal::connect_with(
                    url,
                    config.pg_connections_max,
                    config.journal_connect_timeout,
                    config.pg_session(),
                )
                .await?;
                writer::start(journal, config, metrics).await?
            }
            StoreUrl::Sqlite(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::create_dir_all(dir).map_err(|source| LedgerError::DataDir {
                        path: dir.to_owned(),
                        source,
                    })?;
                }
                let journal = SqliteJournal::open(path).await?;
                writer::start(journal, config, metrics).await?
            }
        };
        Ok(LedgerService { handle, writer })
    }
}

/// Runs a ledger partition with its ops endpoints on `listener` until `shutdown` resolves, then
/// stops taking commands, flushes the journal and returns.
pub async fn run(
    config: LedgerConfig,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), LedgerError> {
    let mut registry = Registry::default();
    let service = LedgerService::start(&config, &mut registry).await?;
    let app = ops::router(service.handle.clone(), Arc::new(registry));
    tracing::info!(addr = %listener.local_addr()?, store = config.store.kind(), "ledger serving");
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    service.writer.shutdown().await;
    served?;
    Ok(())
}
