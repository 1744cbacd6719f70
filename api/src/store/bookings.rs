//! The bookings projection's rows: its cursor per ledger partition, open holds, bookings and
//! guests' contacts. The projection's writes take a connection (its transaction), so that a
//! batch of entries and the cursor move together.

use sqlx::AnyConnection;

use crate::store::Store;

/// A hold the projection remembers until it is paid, released or expires (`places` and `held`
/// are JSON: the places and the `PlacesHeld` event).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct OpenHold {
    pub buyer: i64,
    pub places: String,
    pub held: String,
}

/// A booking to record. `number` is used when the buyer has a guest contact (see
/// [`insert_booking`]).
pub struct NewBooking<'a> {
    pub booking: i64,
    pub performance: i64,
    pub actor: i64,
    pub number: &'a str,
    pub places: &'a str,
    pub first_ticket: i64,
    pub paid_won: i64,
    /// The booking fees in `paid_won` (kept until a cancellation gives them back).
    pub booking_fees_won: i64,
    pub booked_at_ms: i64,
    pub held: &'a str,
}

/// A booking as stored: `places` and `cancelled` (ticket ids) are JSON arrays, `held` the
/// hold's `PlacesHeld` event as JSON (NULL for bookings recorded before it was kept).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct BookingRow {
    pub booking: i64,
    pub performance: i64,
    pub number: Option<String>,
    pub places: String,
    pub first_ticket: i64,
    pub paid_won: i64,
    pub booked_at_ms: i64,
    pub cancelled: String,
    pub held: Option<String>,
}

const BOOKING_COLUMNS: &str = "SELECT booking, performance, number, places, first_ticket, \
     paid_won, booked_at_ms, cancelled, held FROM bookings";

/// Bookings listed for one buyer at most.
pub const BOOKINGS_LISTED_MAX: i64 = 200;

impl Store {
    /// The stored cursor of `partition` (0, stored, when there is none yet).
    pub async fn projection_cursor(&self, partition: u16) -> Result<u64, sqlx::Error> {
        sqlx::query(
            "INSERT INTO projection_cursors (ledger_partition, seq, open_holds) VALUES ($1, 0, 0) \
             ON CONFLICT (ledger_partition) DO NOTHING",
        )
        .bind(i64::from(partition))
        .execute(&self.pool)
        .await?;
        let seq: i64 =
            sqlx::query_scalar("SELECT seq FROM projection_cursors WHERE ledger_partition = $1")
                .bind(i64::from(partition))
                .fetch_one(&self.pool)
                .await?;
        Ok(seq as u64)
    }

    /// Moves the cursor of `partition` from `from` to `to`; `false` when it was not at `from`.
    pub async fn move_projection_cursor(
        &self,
        partition: u16,
        from: u64,
        to: u64,
    ) -> Result<bool, sqlx::Error> {
        let mut conn = self.pool.acquire().await?;
        claim_cursor(&mut conn, partition, from, to).await
    }

    /// Files a guest's next bookings under `name` and `phone` (digits).
    pub async fn set_guest_contact(
        &self,
        actor: i64,
        name: &str,
        phone: &str,
        now_ms: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO guest_contacts (actor, name, phone, updated_at_ms) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (actor) DO UPDATE SET name = EXCLUDED.name, phone = EXCLUDED.phone, \
             updated_at_ms = EXCLUDED.updated_at_ms",
        )
        .bind(actor)
        .bind(name)
        .bind(phone)
        .bind(now_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The actor's bookings, newest first, at most [`BOOKINGS_LISTED_MAX`].
    pub async fn bookings_of(&self, actor: i64) -> Result<Vec<BookingRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{BOOKING_COLUMNS} WHERE actor = $1 ORDER BY booked_at_ms DESC, booking DESC LIMIT $2"
        )))
        .bind(actor)
        .bind(BOOKINGS_LISTED_MAX)
        .fetch_all(&self.pool)
        .await
    }

    /// Money of one performance's bookings, added up: what settlement reports.
    pub async fn settlement_totals(
        &self,
        performance: i64,
    ) -> Result<SettlementTotals, sqlx::Error> {
        sqlx::query_as(
            "SELECT CAST(COUNT(*) AS BIGINT) AS bookings, \
             CAST(COALESCE(SUM(paid_won), 0) AS BIGINT) AS paid_won, \
             CAST(COALESCE(SUM(refunded_won), 0) AS BIGINT) AS refunded_won, \
             CAST(COALESCE(SUM(fees_won), 0) AS BIGINT) AS fees_won, \
             CAST(COALESCE(SUM(booking_fees_won), 0) AS BIGINT) AS booking_fees_won \
             FROM bookings WHERE performance = $1",
        )
        .bind(performance)
        .fetch_one(&self.pool)
        .await
    }

    /// Bookings of one performance per minute of their booking time (what buyers paid, before
    /// any cancellation): the newest `minutes_max` minutes that had any, newest first.
    pub async fn bookings_per_minute(
        &self,
        performance: i64,
        minutes_max: i64,
    ) -> Result<Vec<MinuteTotals>, sqlx::Error> {
        sqlx::query_as(
            "SELECT CAST(booked_at_ms / 60000 AS BIGINT) AS minute, \
             CAST(COUNT(*) AS BIGINT) AS bookings, \
             CAST(COALESCE(SUM(paid_won), 0) AS BIGINT) AS paid_won \
             FROM bookings WHERE performance = $1 \
             GROUP BY CAST(booked_at_ms / 60000 AS BIGINT) ORDER BY minute DESC LIMIT $2",
        )
        .bind(performance)
        .bind(minutes_max)
        .fetch_all(&self.pool)
        .await
    }

    /// One performance's open holds as the projection recorded them: `(hold, places)`, the
    /// places as JSON. At most one hold per place of the performance.
    pub async fn open_hold_places(
        &self,
        performance: i64,
    ) -> Result<Vec<(i64, String)>, sqlx::Error> {
        sqlx::query_as("SELECT hold, places FROM open_holds WHERE performance = $1")
            .bind(performance)
            .fetch_all(&self.pool)
            .await
    }

    /// One performance's bookings' places: `(places, first_ticket, cancelled)`, places and
    /// cancelled tickets as JSON. At most one booking per place of the performance is live.
    pub async fn booked_places(
        &self,
        performance: i64,
    ) -> Result<Vec<(String, i64, String)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT places, first_ticket, cancelled FROM bookings WHERE performance = $1",
        )
        .bind(performance)
        .fetch_all(&self.pool)
        .await
    }

    /// The spec (JSON) the ledger opened `performance` with, as the projection recorded it.
    pub async fn ledger_spec(&self, performance: i64) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar("SELECT spec FROM ledger_specs WHERE performance = $1")
            .bind(performance)
            .fetch_optional(&self.pool)
            .await
    }

    /// The guest booking with this number and phone (digits).
    pub async fn booking_by_number(
        &self,
        number: &str,
        phone: &str,
    ) -> Result<Option<BookingRow>, sqlx::Error> {
        sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{BOOKING_COLUMNS} WHERE number = $1 AND phone = $2"
        )))
        .bind(number)
        .bind(phone)
        .fetch_optional(&self.pool)
        .await
    }
}

/// Moves the cursor of `partition` from `from` to `to`; `false` when another follower moved it
/// first. In a transaction this takes the cursor row's lock: followers of one partition take
/// turns.
pub async fn claim_cursor(
    conn: &mut AnyConnection,
    partition: u16,
    from: u64,
    to: u64,
) -> Result<bool, sqlx::Error> {
    let moved = sqlx::query(
        "UPDATE projection_cursors SET seq = $2 WHERE ledger_partition = $1 AND seq = $3",
    )
    .bind(i64::from(partition))
    .bind(to as i64)
    .bind(from as i64)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(moved == 1)
}

/// The stored cursor of `partition`, if it has one (on `conn`: inside a claim's transaction).
pub async fn cursor_seq(
    conn: &mut AnyConnection,
    partition: u16,
) -> Result<Option<u64>, sqlx::Error> {
    let seq: Option<i64> =
        sqlx::query_scalar("SELECT seq FROM projection_cursors WHERE ledger_partition = $1")
            .bind(i64::from(partition))
            .fetch_optional(conn)
            .await?;
    Ok(seq.map(|seq| seq as u64))
}

/// [`claim_cursor`] that also adds `open_holds_change` to the open holds counted for
/// `partition`, in the same update.
pub async fn claim_cursor_counting(
    conn: &mut AnyConnection,
    partition: u16,
    from: u64,
    to: u64,
    open_holds_change: i64,
) -> Result<bool, sqlx::Error> {
    let moved = sqlx::query(
        "UPDATE projection_cursors SET seq = $2, open_holds = open_holds + $4 \
         WHERE ledger_partition = $1 AND seq = $3",
    )
    .bind(i64::from(partition))
    .bind(to as i64)
    .bind(from as i64)
    .bind(open_holds_change)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(moved == 1)
}

/// Adds `change` to the open holds counted for `partition`.
pub async fn add_open_holds(
    conn: &mut AnyConnection,
    partition: u16,
    change: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE projection_cursors SET open_holds = open_holds + $2 WHERE ledger_partition = $1",
    )
    .bind(i64::from(partition))
    .bind(change)
    .execute(conn)
    .await?;
    Ok(())
}

/// Open holds counted over all partitions.
pub async fn open_holds_total(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(open_holds), 0) AS BIGINT) FROM projection_cursors",
    )
    .fetch_one(conn)
    .await
}

/// Records the spec (JSON) the ledger opened `performance` with; a later opening's replaces it.
pub async fn record_ledger_spec(
    conn: &mut AnyConnection,
    performance: i64,
    spec: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO ledger_specs (performance, spec) VALUES ($1, $2) \
         ON CONFLICT (performance) DO UPDATE SET spec = EXCLUDED.spec",
    )
    .bind(performance)
    .bind(spec)
    .execute(conn)
    .await?;
    Ok(())
}

/// Remembers a hold; `false` when it is remembered already.
pub async fn insert_open_hold(
    conn: &mut AnyConnection,
    performance: i64,
    hold: i64,
    hold_row: &OpenHold,
) -> Result<bool, sqlx::Error> {
    let inserted = sqlx::query(
        "INSERT INTO open_holds (performance, hold, buyer, places, held) \
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (performance, hold) DO NOTHING",
    )
    .bind(performance)
    .bind(hold)
    .bind(hold_row.buyer)
    .bind(&hold_row.places)
    .bind(&hold_row.held)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Forgets a hold; `false` when it was not remembered.
pub async fn remove_open_hold(
    conn: &mut AnyConnection,
    performance: i64,
    hold: i64,
) -> Result<bool, sqlx::Error> {
    let removed = sqlx::query("DELETE FROM open_holds WHERE performance = $1 AND hold = $2")
        .bind(performance)
        .bind(hold)
        .execute(conn)
        .await?
        .rows_affected();
    Ok(removed == 1)
}

/// Forgets a hold and returns what it remembered of it (`None`: it was not remembered). One
/// statement where a read and a delete were two: a booking's confirmation needs both.
pub async fn take_open_hold(
    conn: &mut AnyConnection,
    performance: i64,
    hold: i64,
) -> Result<Option<OpenHold>, sqlx::Error> {
    sqlx::query_as(
        "DELETE FROM open_holds WHERE performance = $1 AND hold = $2 \
         RETURNING buyer, places, held",
    )
    .bind(performance)
    .bind(hold)
    .fetch_optional(conn)
    .await
}

/// Adds one cancellation's refund and fee to its booking, and takes the booking fees it gave
/// back off those kept (settlement's figures).
pub async fn add_cancelled_money(
    conn: &mut AnyConnection,
    booking: i64,
    cancelled: &CancelledMoney,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE bookings SET refunded_won = refunded_won + $2, fees_won = fees_won + $3, \
         booking_fees_won = booking_fees_won - $4 WHERE booking = $1",
    )
    .bind(booking)
    .bind(cancelled.refunded_won)
    .bind(cancelled.fees_won)
    .bind(cancelled.booking_fee_refunded_won)
    .execute(conn)
    .await?;
    Ok(())
}

/// What one `TicketsCancelled` moved, in whole won.
#[derive(Clone, Copy, Debug)]
pub struct CancelledMoney {
    pub refunded_won: i64,
    pub fees_won: i64,
    /// The part of `refunded_won` that gave booking fees back.
    pub booking_fee_refunded_won: i64,
}

/// One minute's bookings (`minute`: ms since the epoch / 60,000).
#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct MinuteTotals {
    pub minute: i64,
    pub bookings: i64,
    pub paid_won: i64,
}

/// One performance's bookings added up (see `Store::settlement_totals`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct SettlementTotals {
    pub bookings: i64,
    pub paid_won: i64,
    pub refunded_won: i64,
    pub fees_won: i64,
    /// Booking fees kept (in `paid_won − refunded_won`).
    pub booking_fees_won: i64,
}

/// The booking's cancelled tickets (JSON), if the booking is recorded.
pub async fn cancelled_tickets(
    conn: &mut AnyConnection,
    booking: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar("SELECT cancelled FROM bookings WHERE booking = $1")
        .bind(booking)
        .fetch_optional(conn)
        .await
}

pub async fn set_cancelled_tickets(
    conn: &mut AnyConnection,
    booking: i64,
    cancelled: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE bookings SET cancelled = $2 WHERE booking = $1")
        .bind(booking)
        .bind(cancelled)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records a booking, filed under the buyer's guest contact when there is one (then with
/// `booking.number`; without a contact the booking has no number). `false` when the booking or
/// its number is taken. The contact is looked up in the same statement: one round trip per
/// booking instead of two.
pub async fn insert_booking(
    conn: &mut AnyConnection,
    booking: &NewBooking<'_>,
) -> Result<bool, sqlx::Error> {
    // SQLite needs a WHERE before ON CONFLICT in an INSERT … SELECT (else it reads the join's ON).
    let inserted = sqlx::query(
        "INSERT INTO bookings (booking, performance, actor, number, name, phone, places, \
         first_ticket, paid_won, booked_at_ms, cancelled, held, booking_fees_won) \
         SELECT $1, $2, $3, CASE WHEN g.actor IS NULL THEN NULL ELSE $4 END, g.name, g.phone, \
         $5, $6, $7, $8, '[]', $9, $10 \
         FROM (SELECT 1 AS one) AS b LEFT JOIN guest_contacts g ON g.actor = $3 \
         WHERE 1 = 1 ON CONFLICT DO NOTHING",
    )
    .bind(booking.booking)
    .bind(booking.performance)
    .bind(booking.actor)
    .bind(booking.number)
    .bind(booking.places)
    .bind(booking.first_ticket)
    .bind(booking.paid_won)
    .bind(booking.booked_at_ms)
    .bind(booking.held)
    .bind(booking.booking_fees_won)
    .execute(conn)
    .await?
    .rows_affected();
    Ok(inserted == 1)
}

/// Whether the booking is recorded.
pub async fn booking_recorded(conn: &mut AnyConnection, booking: i64) -> Result<bool, sqlx::Error> {
    let recorded: Option<i64> =
        sqlx::query_scalar("SELECT booking FROM bookings WHERE booking = $1")
            .bind(booking)
            .fetch_optional(conn)
            .await?;
    Ok(recorded.is_some())
}
