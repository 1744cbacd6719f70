//! Reminders before ticket openings (`reminders`): the member's routes set, clear and list
//! them; the notifier finds those due and marks each sent for the opening it was written for.

use sqlx::AnyConnection;

use super::Store;

/// What a reminder is set on: a published show's performance.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ReminderTarget {
    pub show_id: i64,
    pub title: String,
    pub sale_open_at_ms: i64,
    pub starts_at_ms: i64,
}

/// One of a member's reminders (one row per offset), as "my reminders" lists them.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct MyReminderRow {
    pub performance_id: i64,
    pub show_id: i64,
    pub title: String,
    pub sale_open_at_ms: i64,
    pub starts_at_ms: i64,
    pub offset_ms: i64,
}

/// A reminder whose time came and that is not written for this opening yet, with what the
/// notifier composes it from (the member's choices as stored: `language` and `channels` JSON).
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct DueReminderRow {
    pub account_id: i64,
    pub performance_id: i64,
    pub offset_ms: i64,
    pub sale_open_at_ms: i64,
    pub show_id: i64,
    pub title: String,
    pub sent_for_ms: Option<i64>,
    pub language: Option<String>,
    pub channels: Option<String>,
}

/// Marks the reminder written for the opening `opening_at_ms`.
pub async fn mark_reminder_sent(
    conn: &mut AnyConnection,
    account_id: i64,
    performance_id: i64,
    offset_ms: i64,
    opening_at_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE reminders SET sent_for_ms = $4 \
         WHERE account_id = $1 AND performance_id = $2 AND offset_ms = $3",
    )
    .bind(account_id)
    .bind(performance_id)
    .bind(offset_ms)
    .bind(opening_at_ms)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// The sale of performance `performance` opens at `open_at_ms` now (the operator changed its
    /// settings): the catalog shows the new time and reminders follow it. No performance has
    /// this id for a sale the operator made without one.
    pub async fn move_sale_opening(
        &self,
        performance: i64,
        open_at_ms: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE performances SET sale_open_at_ms = $2 WHERE id = $1")
            .bind(performance)
            .bind(open_at_ms)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The performance a reminder is asked for, when its show is published.
    pub async fn reminder_target(
        &self,
        performance: i64,
    ) -> Result<Option<ReminderTarget>, sqlx::Error> {
        sqlx::query_as(
            "SELECT s.id AS show_id, s.title, p.sale_open_at_ms, p.starts_at_ms \
             FROM performances p JOIN shows s ON s.id = p.show_id \
             WHERE p.id = $1 AND s.status = 'published'",
        )
        .bind(performance)
        .fetch_optional(&self.pool)
        .await
    }

    /// Performances other than `performance` the member has reminders for whose openings are
    /// still to come.
    pub async fn upcoming_reminders_elsewhere(
        &self,
        account_id: i64,
        performance: i64,
        now_ms: i64,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT COUNT(DISTINCT r.performance_id) FROM reminders r \
             JOIN performances p ON p.id = r.performance_id \
             WHERE r.account_id = $1 AND r.performance_id <> $2 AND p.sale_open_at_ms > $3",
        )
        .bind(account_id)
        .bind(performance)
        .bind(now_ms)
        .fetch_one(&self.pool)
        .await
    }

    /// Sets the member's reminders of `performance`: each `(offset_ms, on)` is kept or added
    /// when on (an existing one keeps its sent mark, so asking again sends nothing twice) and
    /// removed when off. An offset whose time has already come (`opening - offset <= now`) is
    /// added as sent for this opening: asking late is not answered by a reminder at once. The
    /// member's reminders of openings already past are dropped on the way.
    pub async fn set_reminders(
        &self,
        account_id: i64,
        performance: i64,
        offsets: &[(i64, bool)],
        opening_at_ms: i64,
        now_ms: i64,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "DELETE FROM reminders WHERE account_id = $1 AND performance_id IN \
             (SELECT p.id FROM performances p WHERE p.sale_open_at_ms <= $2)",
        )
        .bind(account_id)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        for &(offset_ms, on) in offsets {
            if on {
                let sent_for = (opening_at_ms - offset_ms <= now_ms).then_some(opening_at_ms);
                sqlx::query(
                    "INSERT INTO reminders (account_id, performance_id, offset_ms, created_at_ms, \
                     sent_for_ms) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (account_id, performance_id, offset_ms) DO NOTHING",
                )
                .bind(account_id)
                .bind(performance)
                .bind(offset_ms)
                .bind(now_ms)
                .bind(sent_for)
                .execute(&mut *tx)
                .await?;
            } else {
                sqlx::query(
                    "DELETE FROM reminders \
                     WHERE account_id = $1 AND performance_id = $2 AND offset_ms = $3",
                )
                .bind(account_id)
                .bind(performance)
                .bind(offset_ms)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await
    }

    /// Drops every reminder of the member's for `performance`.
    pub async fn delete_reminders(
        &self,
        account_id: i64,
        performance: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM reminders WHERE account_id = $1 AND performance_id = $2")
            .bind(account_id)
            .bind(performance)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The member's reminders of openings still to come, soonest first, at most `rows` rows.
    pub async fn my_reminders(
        &self,
        account_id: i64,
        now_ms: i64,
        rows: i64,
    ) -> Result<Vec<MyReminderRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT r.performance_id, s.id AS show_id, s.title, p.sale_open_at_ms, \
             p.starts_at_ms, r.offset_ms FROM reminders r \
             JOIN performances p ON p.id = r.performance_id JOIN shows s ON s.id = p.show_id \
             WHERE r.account_id = $1 AND p.sale_open_at_ms > $2 \
             ORDER BY p.sale_open_at_ms, r.performance_id, r.offset_ms DESC LIMIT $3",
        )
        .bind(account_id)
        .bind(now_ms)
        .bind(rows)
        .fetch_all(&self.pool)
        .await
    }

    /// Up to `limit` reminders due at `now_ms` and not yet written for their performance's
    /// current opening: openings after `now_ms` and within `offset_max_ms` of it, whose offset
    /// has come. Soonest opening first, and a member's offsets of one performance together,
    /// smallest first.
    pub async fn due_reminders(
        &self,
        now_ms: i64,
        offset_max_ms: i64,
        limit: i64,
    ) -> Result<Vec<DueReminderRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT r.account_id, r.performance_id, r.offset_ms, p.sale_open_at_ms, \
             s.id AS show_id, s.title, r.sent_for_ms, n.language, n.channels \
             FROM performances p JOIN reminders r ON r.performance_id = p.id \
             JOIN shows s ON s.id = p.show_id \
             LEFT JOIN notification_settings n ON n.account_id = r.account_id \
             WHERE p.sale_open_at_ms > $1 AND p.sale_open_at_ms <= $2 \
             AND p.sale_open_at_ms - r.offset_ms <= $1 \
             AND (r.sent_for_ms IS NULL OR r.sent_for_ms <> p.sale_open_at_ms) \
             ORDER BY p.sale_open_at_ms, r.performance_id, r.account_id, r.offset_ms LIMIT $3",
        )
        .bind(now_ms)
        .bind(now_ms.saturating_add(offset_max_ms))
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }
}
