//! Ticket transfers as the projection follows them (`TicketTransferred`), and what "my tickets"
//! and "my bookings" read of them: every transfer of the tickets a member gave or received, the
//! booking a ticket belongs to, and the show a performance is of.

use sqlx::AnyConnection;

use crate::store::Store;
use crate::store::bookings::BookingRow;

/// One committed transfer: the ticket moved to `generation` and from `from_actor` to
/// `to_actor` at `at_ms` (the ledger's commit time).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTransfer {
    pub ticket: i64,
    pub generation: i64,
    pub performance: i64,
    pub from_actor: i64,
    pub to_actor: i64,
    pub at_ms: i64,
}

/// A transfer with the e-mail addresses of its two members (`None` for an actor that is no
/// member account).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct TransferRow {
    pub ticket: i64,
    pub generation: i64,
    pub performance: i64,
    pub from_actor: i64,
    pub to_actor: i64,
    pub at_ms: i64,
    pub from_email: Option<String>,
    pub to_email: Option<String>,
}

/// Transfer rows read for one member at most: the whole chain of every ticket they gave or
/// received (each ticket moves at most `TRANSFERS_PER_TICKET_MAX` times).
pub const TRANSFER_ROWS_MAX: i64 = 4_000;

/// A performance's show, for "my tickets" (none for performances the operator opened directly).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PerformanceShow {
    pub show_id: i64,
    pub title: String,
}

impl Store {
    /// Every transfer of every ticket `actor` gave or received, by ticket and then generation
    /// (oldest first), at most [`TRANSFER_ROWS_MAX`].
    pub async fn transfers_touching(&self, actor: i64) -> Result<Vec<TransferRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT t.ticket, t.generation, t.performance, t.from_actor, t.to_actor, t.at_ms, \
             f.email AS from_email, r.email AS to_email FROM ticket_transfers t \
             LEFT JOIN accounts f ON f.id = t.from_actor \
             LEFT JOIN accounts r ON r.id = t.to_actor \
             WHERE t.ticket IN (SELECT ticket FROM ticket_transfers \
                                WHERE from_actor = $1 OR to_actor = $1) \
             ORDER BY t.ticket, t.generation LIMIT $2",
        )
        .bind(actor)
        .bind(TRANSFER_ROWS_MAX)
        .fetch_all(&self.pool)
        .await
    }

    /// The booking whose ticket range starts at or before `ticket` (the caller checks that
    /// the range holds it).
    pub async fn booking_of_ticket(&self, ticket: i64) -> Result<Option<BookingRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT booking, performance, number, places, first_ticket, paid_won, booked_at_ms, \
             cancelled, held FROM bookings WHERE first_ticket <= $1 \
             ORDER BY first_ticket DESC LIMIT 1",
        )
        .bind(ticket)
        .fetch_optional(&self.pool)
        .await
    }

    /// The show `performance` belongs to, with its title.
    pub async fn performance_show_title(
        &self,
        performance: i64,
    ) -> Result<Option<PerformanceShow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT s.id AS show_id, s.title FROM performances p \
             JOIN shows s ON s.id = p.show_id WHERE p.id = $1",
        )
        .bind(performance)
        .fetch_optional(self.reader())
        .await
    }
}

/// Records a committed transfer (the projection's transaction); a redelivered one is recorded
/// once.
pub async fn record_transfer(
    conn: &mut AnyConnection,
    transfer: &NewTransfer,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ticket_transfers (ticket, generation, performance, from_actor, to_actor, \
         at_ms) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (ticket, generation) DO NOTHING",
    )
    .bind(transfer.ticket)
    .bind(transfer.generation)
    .bind(transfer.performance)
    .bind(transfer.from_actor)
    .bind(transfer.to_actor)
    .bind(transfer.at_ms)
    .execute(conn)
    .await?;
    Ok(())
}
