//! Every SQL statement of the sandbox: its SQLite file (payments, transactions, idempotency
//! records, billing keys, the webhook outbox). A change and the answer recorded under its
//! idempotency key commit in one transaction (`Tx`).

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use picket_toss_wire::Payment;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};

use crate::cards::TestCard;

/// A payment with what the sandbox keeps beside its wire form.
#[derive(Debug, Clone)]
pub struct PaymentRow {
    pub payment: Payment,
    /// What the buyer authorised: a confirm must name exactly this.
    pub authorised_amount: u64,
    pub authorised_at_ms: i64,
    pub card: TestCard,
}

/// A one-time billing authorisation.
pub struct AuthKeyRow {
    pub customer_key: String,
    pub card: TestCard,
    pub card_masked: String,
}

/// A billing key and its card.
pub struct BillingKeyRow {
    pub customer_key: String,
    pub card: TestCard,
    pub card_masked: String,
}

/// A webhook due for an attempt.
pub struct DueWebhook {
    pub id: i64,
    pub transmission_id: String,
    pub url: String,
    pub body: String,
    pub attempts: u32,
}

/// Write connections: SQLite lets one connection write at a time, so more would only queue on
/// its lock.
const WRITERS_MAX: u32 = 1;
/// Read connections (lookups, the outbox, the listing): in WAL mode they read the last commit
/// while the writer writes, so they never wait for it.
pub const READERS_MAX: u32 = 4;
/// How long a statement waits for SQLite's file lock before failing. In this process the one
/// writer never waits on itself; this covers another process on the file (an operator's
/// `sqlite3` shell) and a checkpoint.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// The sandbox's SQLite file, set up as a service's should be: WAL (readers and the writer do
/// not block each other), `synchronous=NORMAL` (a commit is in the WAL file when it returns, so
/// it survives the process crashing; only a power loss or an OS crash can take back the last
/// commits before a checkpoint), ONE writer connection (SQLite allows one writer at a time: a
/// pool of writers only queues on its lock, sleeping in the busy handler's backoff) and
/// read-only readers beside it. The schema is brought up to date once, at open.
#[derive(Clone)]
pub struct Store {
    writer: SqlitePool,
    readers: SqlitePool,
}

impl Store {
    /// Opens (or creates) the file and brings its schema up to date.
    pub async fn open(path: &Path) -> Result<Store, crate::SandboxError> {
        let options = SqliteConnectOptions::from_str("sqlite://")?
            .filename(path)
            .busy_timeout(BUSY_TIMEOUT)
            .synchronous(SqliteSynchronous::Normal);
        let writer = SqlitePoolOptions::new()
            .max_connections(WRITERS_MAX)
            .min_connections(WRITERS_MAX)
            // Kept open for good: its prepared statements are reused by every write.
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(
                options
                    .clone()
                    .create_if_missing(true)
                    .journal_mode(SqliteJournalMode::Wal),
            )
            .await?;
        sqlx::migrate!("./migrations").run(&writer).await?;
        // Opened after the writer made the file WAL (WAL is kept in the file).
        let readers = SqlitePoolOptions::new()
            .max_connections(READERS_MAX)
            .connect_with(options.read_only(true))
            .await?;
        Ok(Store { writer, readers })
    }

    /// Closes the readers, then the writer: the last connection to close checkpoints the WAL
    /// into the database file.
    pub async fn close(&self) {
        self.readers.close().await;
        self.writer.close().await;
    }

    /// A write transaction on the one writer connection. `BEGIN IMMEDIATE` takes SQLite's write
    /// lock at once, so a transaction never fails half-way for want of it.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        Ok(Tx(self.writer.begin_with("BEGIN IMMEDIATE").await?))
    }

    pub async fn payment(&self, payment_key: &str) -> Result<Option<PaymentRow>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT body, authorised_amount, authorised_at_ms, card FROM payments WHERE payment_key = ?",
        )
        .bind(payment_key)
        .fetch_optional(&self.readers)
        .await?;
        row.map(payment_row).transpose()
    }

    /// The order's latest payment (an order may be tried again after a decline or expiry).
    pub async fn payment_for_order(
        &self,
        order_id: &str,
    ) -> Result<Option<PaymentRow>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT body, authorised_amount, authorised_at_ms, card FROM payments
             WHERE order_id = ? ORDER BY authorised_at_ms DESC, rowid DESC LIMIT 1",
        )
        .bind(order_id)
        .fetch_optional(&self.readers)
        .await?;
        row.map(payment_row).transpose()
    }

    /// Whether an order was already approved (or approved and canceled): its id cannot be
    /// used again (`DUPLICATED_ORDER_ID`).
    pub async fn order_was_approved(&self, order_id: &str) -> Result<bool, sqlx::Error> {
        let row = sqlx::query(
            "SELECT 1 FROM payments WHERE order_id = ? AND status IN ('DONE', 'CANCELED', 'PARTIAL_CANCELED') LIMIT 1",
        )
        .bind(order_id)
        .fetch_optional(&self.readers)
        .await?;
        Ok(row.is_some())
    }

    /// Keys of payments still `IN_PROGRESS` that were authorised at or before `cutoff_ms`.
    pub async fn expiring(&self, cutoff_ms: i64, limit: i64) -> Result<Vec<String>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT payment_key FROM payments WHERE status = 'IN_PROGRESS' AND authorised_at_ms <= ?
             ORDER BY authorised_at_ms LIMIT ?",
        )
        .bind(cutoff_ms)
        .bind(limit)
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(|row| row.try_get("payment_key")).collect()
    }

    /// The answer recorded under `scope`, unless it is older than `since_ms`.
    pub async fn idempotent(
        &self,
        scope: &str,
        since_ms: i64,
    ) -> Result<Option<(u16, String)>, sqlx::Error> {
        let row = sqlx::query(
            "SELECT status, body FROM idempotency WHERE scope = ? AND created_at_ms > ?",
        )
        .bind(scope)
        .bind(since_ms)
        .fetch_optional(&self.readers)
        .await?;
        row.map(|row| {
            Ok((
                row.try_get::<i64, _>("status")? as u16,
                row.try_get("body")?,
            ))
        })
        .transpose()
    }

    /// Records an answer that changed nothing (a refusal), so the key replays it.
    pub async fn record(
        &self,
        scope: &str,
        status: u16,
        body: &str,
        now_ms: i64,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        tx.record(scope, status, body, now_ms).await?;
        tx.commit().await
    }

    /// Forgets idempotency records created at or before `cutoff_ms`.
    pub async fn purge_idempotency(&self, cutoff_ms: i64) -> Result<u64, sqlx::Error> {
        let done = sqlx::query("DELETE FROM idempotency WHERE created_at_ms <= ?")
            .bind(cutoff_ms)
            .execute(&self.writer)
            .await?;
        Ok(done.rows_affected())
    }

    /// The sequence number of a transaction (the listing's cursor).
    pub async fn transaction_seq(&self, transaction_key: &str) -> Result<Option<i64>, sqlx::Error> {
        let row = sqlx::query("SELECT seq FROM transactions WHERE transaction_key = ?")
            .bind(transaction_key)
            .fetch_optional(&self.readers)
            .await?;
        row.map(|row| row.try_get("seq")).transpose()
    }

    /// Transactions at `start_ms..=end_ms` after `after_seq`, in order: their JSON bodies.
    pub async fn transactions(
        &self,
        start_ms: i64,
        end_ms: i64,
        after_seq: i64,
        limit: i64,
    ) -> Result<Vec<String>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT body FROM transactions WHERE at_ms >= ? AND at_ms <= ? AND seq > ? ORDER BY seq LIMIT ?",
        )
        .bind(start_ms)
        .bind(end_ms)
        .bind(after_seq)
        .bind(limit)
        .fetch_all(&self.readers)
        .await?;
        rows.iter().map(|row| row.try_get("body")).collect()
    }

    pub async fn auth_key(&self, auth_key: &str) -> Result<Option<AuthKeyRow>, sqlx::Error> {
        let row =
            sqlx::query("SELECT customer_key, card, card_masked FROM auth_keys WHERE auth_key = ?")
                .bind(auth_key)
                .fetch_optional(&self.readers)
                .await?;
        row.map(|row| {
            Ok(AuthKeyRow {
                customer_key: row.try_get("customer_key")?,
                card: card(&row)?,
                card_masked: row.try_get("card_masked")?,
            })
        })
        .transpose()
    }

    pub async fn billing_key(
        &self,
        billing_key: &str,
    ) -> Result<Option<BillingKeyRow>, sqlx::Error> {
        let row =
            sqlx::query("SELECT customer_key, card, body FROM billing_keys WHERE billing_key = ?")
                .bind(billing_key)
                .fetch_optional(&self.readers)
                .await?;
        row.map(|row| {
            let body: String = row.try_get("body")?;
            let billing: picket_toss_wire::Billing = decode(&body)?;
            Ok(BillingKeyRow {
                customer_key: row.try_get("customer_key")?,
                card: card(&row)?,
                card_masked: billing.card.and_then(|c| c.number).unwrap_or_default(),
            })
        })
        .transpose()
    }

    /// Pending webhooks due at `now_ms`, oldest first.
    pub async fn due_webhooks(
        &self,
        now_ms: i64,
        limit: i64,
    ) -> Result<Vec<DueWebhook>, sqlx::Error> {
        let rows = sqlx::query(
            "SELECT id, transmission_id, url, body, attempts FROM webhooks
             WHERE state = 'pending' AND next_attempt_at_ms <= ? ORDER BY next_attempt_at_ms, id LIMIT ?",
        )
        .bind(now_ms)
        .bind(limit)
        .fetch_all(&self.readers)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(DueWebhook {
                    id: row.try_get("id")?,
                    transmission_id: row.try_get("transmission_id")?,
                    url: row.try_get("url")?,
                    body: row.try_get("body")?,
                    attempts: row.try_get::<i64, _>("attempts")? as u32,
                })
            })
            .collect()
    }

    /// Records what became of a batch of webhook attempts, in one transaction (one commit for
    /// the batch, not one per webhook).
    pub async fn webhooks_attempted(
        &self,
        attempted: &[(i64, u32, WebhookOutcome)],
    ) -> Result<(), sqlx::Error> {
        if attempted.is_empty() {
            return Ok(());
        }
        let mut tx = self.begin().await?;
        for &(id, attempts, outcome) in attempted {
            tx.webhook_attempted(id, attempts, outcome).await?;
        }
        tx.commit().await
    }
}

/// What became of a webhook attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookOutcome {
    Delivered,
    Failed,
    RetryAt(i64),
}

/// One write transaction.
pub struct Tx(sqlx::Transaction<'static, sqlx::Sqlite>);

impl Tx {
    /// Inserts or replaces a payment.
    pub async fn put_payment(&mut self, row: &PaymentRow) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO payments (payment_key, order_id, status, authorised_amount, authorised_at_ms, card, body)
             VALUES (?, ?, ?, ?, ?, ?, ?)
             ON CONFLICT (payment_key) DO UPDATE SET status = excluded.status, body = excluded.body",
        )
        .bind(&row.payment.payment_key)
        .bind(&row.payment.order_id)
        .bind(row.payment.status.as_str())
        .bind(row.authorised_amount as i64)
        .bind(row.authorised_at_ms)
        .bind(row.card.as_str())
        .bind(encode(&row.payment))
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    pub async fn add_transaction(
        &mut self,
        transaction: &picket_toss_wire::Transaction,
        at_ms: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO transactions (transaction_key, at_ms, body) VALUES (?, ?, ?)")
            .bind(&transaction.transaction_key)
            .bind(at_ms)
            .bind(encode(transaction))
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    pub async fn enqueue_webhook(
        &mut self,
        transmission_id: &str,
        url: &str,
        body: &str,
        due_at_ms: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO webhooks (transmission_id, url, body, attempts, next_attempt_at_ms, state)
             VALUES (?, ?, ?, 0, ?, 'pending')",
        )
        .bind(transmission_id)
        .bind(url)
        .bind(body)
        .bind(due_at_ms)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    /// Records the answer given under an idempotency scope (replacing an expired one).
    pub async fn record(
        &mut self,
        scope: &str,
        status: u16,
        body: &str,
        now_ms: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT OR REPLACE INTO idempotency (scope, status, body, created_at_ms) VALUES (?, ?, ?, ?)")
            .bind(scope)
            .bind(i64::from(status))
            .bind(body)
            .bind(now_ms)
            .execute(&mut *self.0)
            .await?;
        Ok(())
    }

    pub async fn put_auth_key(
        &mut self,
        auth_key: &str,
        customer_key: &str,
        card: TestCard,
        card_masked: &str,
        now_ms: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO auth_keys (auth_key, customer_key, card, card_masked, created_at_ms) VALUES (?, ?, ?, ?, ?)",
        )
        .bind(auth_key)
        .bind(customer_key)
        .bind(card.as_str())
        .bind(card_masked)
        .bind(now_ms)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    /// Spends a one-time auth key: false when it was already spent.
    pub async fn spend_auth_key(&mut self, auth_key: &str) -> Result<bool, sqlx::Error> {
        let done = sqlx::query("DELETE FROM auth_keys WHERE auth_key = ?")
            .bind(auth_key)
            .execute(&mut *self.0)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn put_billing_key(
        &mut self,
        billing: &picket_toss_wire::Billing,
        card: TestCard,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO billing_keys (billing_key, customer_key, card, body) VALUES (?, ?, ?, ?)",
        )
        .bind(&billing.billing_key)
        .bind(&billing.customer_key)
        .bind(card.as_str())
        .bind(encode(billing))
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    /// Webhooks not yet delivered nor failed for good (the outbox's fill).
    pub async fn pending_webhooks(&mut self) -> Result<i64, sqlx::Error> {
        sqlx::query("SELECT COUNT(*) AS n FROM webhooks WHERE state = 'pending'")
            .fetch_one(&mut *self.0)
            .await?
            .try_get("n")
    }

    /// After an attempt: delivered, failed for good, or due again at `next_attempt_at_ms`.
    async fn webhook_attempted(
        &mut self,
        id: i64,
        attempts: u32,
        outcome: WebhookOutcome,
    ) -> Result<(), sqlx::Error> {
        let (state, next) = match outcome {
            WebhookOutcome::Delivered => ("delivered", 0),
            WebhookOutcome::Failed => ("failed", 0),
            WebhookOutcome::RetryAt(at_ms) => ("pending", at_ms),
        };
        sqlx::query(
            "UPDATE webhooks SET state = ?, attempts = ?, next_attempt_at_ms = ? WHERE id = ?",
        )
        .bind(state)
        .bind(i64::from(attempts))
        .bind(next)
        .bind(id)
        .execute(&mut *self.0)
        .await?;
        Ok(())
    }

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.0.commit().await
    }
}

fn payment_row(row: sqlx::sqlite::SqliteRow) -> Result<PaymentRow, sqlx::Error> {
    let body: String = row.try_get("body")?;
    Ok(PaymentRow {
        payment: decode(&body)?,
        authorised_amount: row.try_get::<i64, _>("authorised_amount")? as u64,
        authorised_at_ms: row.try_get("authorised_at_ms")?,
        card: card(&row)?,
    })
}

fn card(row: &sqlx::sqlite::SqliteRow) -> Result<TestCard, sqlx::Error> {
    let text: String = row.try_get("card")?;
    TestCard::parse(&text)
        .ok_or_else(|| sqlx::Error::Decode(format!("unknown card behaviour {text:?}").into()))
}

fn encode<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("wire types always encode")
}

fn decode<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, sqlx::Error> {
    serde_json::from_str(text).map_err(|error| sqlx::Error::Decode(Box::new(error)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_file_is_wal_synced_normally_with_one_writer_and_read_only_readers() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("s.sqlite"))
            .await
            .expect("open");
        let mut writer = store.writer.acquire().await.expect("writer");
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&mut *writer)
            .await
            .expect("journal mode");
        // 1 is NORMAL (0 OFF, 2 FULL, 3 EXTRA).
        let synchronous: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *writer)
            .await
            .expect("synchronous");
        drop(writer);
        assert_eq!((mode.as_str(), synchronous), ("wal", 1));
        assert_eq!(
            store.writer.options().get_max_connections(),
            1,
            "one writer"
        );
        let write_on_reader = sqlx::query("DELETE FROM payments")
            .execute(&store.readers)
            .await;
        assert!(write_on_reader.is_err(), "a reader connection wrote");
        store.close().await;
    }
}
