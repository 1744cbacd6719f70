//! Tickets at the door: which booking (so which performance) a ticket is of, the device each
//! ticket is bound to, and whether an account is staff of a show.

use crate::store::Store;

/// The booking a ticket belongs to, as the projection recorded it: its performance and the
/// range of ticket ids it holds (`places` is the JSON array of its places).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct TicketBooking {
    pub performance: i64,
    pub first_ticket: i64,
    pub places: String,
}

/// The device a ticket is bound to.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct TicketDevice {
    pub public_key: String,
    pub generation: i64,
    pub bound_at_ms: i64,
}

impl Store {
    /// The booking whose ticket range may hold `ticket`: the one with the largest first ticket
    /// not after it (ticket ids of a booking are consecutive and never shared). The caller
    /// checks the range's end.
    pub async fn ticket_booking(&self, ticket: i64) -> Result<Option<TicketBooking>, sqlx::Error> {
        sqlx::query_as(
            "SELECT performance, first_ticket, places FROM bookings WHERE first_ticket <= $1 \
             ORDER BY first_ticket DESC LIMIT 1",
        )
        .bind(ticket)
        .fetch_optional(&self.pool)
        .await
    }

    /// The device `holder` bound the ticket to: a device a former holder bound (before giving
    /// the ticket away) is none of the holder's.
    pub async fn ticket_device(
        &self,
        ticket: i64,
        holder: i64,
    ) -> Result<Option<TicketDevice>, sqlx::Error> {
        sqlx::query_as(
            "SELECT public_key, generation, bound_at_ms FROM ticket_devices \
             WHERE ticket = $1 AND holder = $2",
        )
        .bind(ticket)
        .bind(holder)
        .fetch_optional(&self.pool)
        .await
    }

    /// Records the ticket's device, bound by `holder` (replacing the one before).
    pub async fn bind_ticket_device(
        &self,
        ticket: i64,
        holder: i64,
        device: &TicketDevice,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO ticket_devices (ticket, public_key, generation, bound_at_ms, holder) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (ticket) DO UPDATE SET \
             public_key = EXCLUDED.public_key, generation = EXCLUDED.generation, \
             bound_at_ms = EXCLUDED.bound_at_ms, holder = EXCLUDED.holder",
        )
        .bind(ticket)
        .bind(&device.public_key)
        .bind(device.generation)
        .bind(device.bound_at_ms)
        .bind(holder)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Whether the account was assigned as staff of the show.
    pub async fn is_show_staff(&self, show: i64, account: i64) -> Result<bool, sqlx::Error> {
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT account_id FROM show_staff WHERE show_id = $1 AND account_id = $2",
        )
        .bind(show)
        .bind(account)
        .fetch_optional(&self.pool)
        .await?;
        Ok(found.is_some())
    }
}
