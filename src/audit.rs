//! The load tester's audit replays a ledger journal with the ledger's own recovery: the load
//! tester never links the ledger server, so the binary hands it this.

use futures_util::future::BoxFuture;
use picket_ledger::journal::recover;
use picket_ledger::{PgJournal, SqliteJournal};
use picket_loadtest::audit::{AuditError, JournalReplay};

/// Journal entries read per page while the audit replays.
const AUDIT_REPLAY_PAGE_MAX: u32 = 1_024;
/// How long the audit waits for PostgreSQL to accept its connection.
const AUDIT_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
/// Connections the audit opens to PostgreSQL.
const AUDIT_PG_CONNECTIONS_MAX: u32 = 2;

pub struct JournalReplayer;

impl JournalReplay for JournalReplayer {
    fn ledger<'a>(
        &'a self,
        journal_url: &'a str,
        partition: u16,
    ) -> BoxFuture<'a, Result<picket_ledger_core::Ledger, AuditError>> {
        Box::pin(async move {
            replay(journal_url, partition)
                .await
                .map_err(|e| AuditError::Journal(e.to_string()))
        })
    }
}

async fn replay(
    journal_url: &str,
    partition: u16,
) -> Result<picket_ledger_core::Ledger, picket_ledger::JournalError> {
    let ledger = if journal_url.starts_with("postgres") {
        let journal =
            PgJournal::connect(journal_url, AUDIT_PG_CONNECTIONS_MAX, AUDIT_CONNECT_TIMEOUT)
                .await?;
        recover(&journal, partition, AUDIT_REPLAY_PAGE_MAX).await?.0
    } else {
        let path = journal_url
            .trim_start_matches("sqlite://")
            .split('?')
            .next()
            .unwrap_or_default();
        let journal = SqliteJournal::open(std::path::Path::new(path)).await?;
        recover(&journal, partition, AUDIT_REPLAY_PAGE_MAX).await?.0
    };
    Ok(ledger)
}
