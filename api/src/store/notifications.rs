//! The inbox (`notifications`) and the notifier's own bookkeeping: its cursor per ledger
//! partition, the shows whose interest alerts are written, and the waitlist entries' buyers. The
//! notifier (`picket-notifier`) writes; the API's `/me/notifications` routes read and mark read.

use sqlx::AnyConnection;

use super::Store;

/// Inbox entries kept per member: past it the oldest are dropped as new ones arrive.
pub const INBOX_PER_MEMBER_MAX: i64 = 500;

/// One notification to write (the notifier's, as plain columns).
#[derive(Clone, Debug)]
pub struct NewNotification<'a> {
    pub id: &'a str,
    pub account_id: i64,
    pub kind: &'a str,
    pub created_at_ms: i64,
    pub title_ko: &'a str,
    pub body_ko: &'a str,
    pub title_en: &'a str,
    pub body_en: &'a str,
    /// JSON object.
    pub data: &'a str,
    /// Whether to push it (the member wants it pushed and is within the rate limit).
    pub push: bool,
    /// Whether the member wants it live in the app (over the WebSocket).
    pub app: bool,
    /// The member's language when it was written (`ko`, `en`): the one to deliver it in.
    pub language: &'a str,
}

/// One inbox row as stored.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: String,
    pub kind: String,
    pub created_at_ms: i64,
    pub title_ko: String,
    pub body_ko: String,
    pub title_en: String,
    pub body_en: String,
    pub data: String,
    pub read_at_ms: Option<i64>,
}

/// Writes `notification` unless its id is already in the inbox or its recipient has no account
/// (a guest buyer); then drops the recipient's oldest entries past [`INBOX_PER_MEMBER_MAX`].
/// `true` when it was written.
pub async fn insert_notification(
    conn: &mut AnyConnection,
    notification: &NewNotification<'_>,
) -> Result<bool, sqlx::Error> {
    let written = sqlx::query(
        "INSERT INTO notifications (id, account_id, kind, created_at_ms, title_ko, body_ko, \
         title_en, body_en, data, push, app, language, read_at_ms) \
         SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, NULL \
         WHERE EXISTS (SELECT 1 FROM accounts WHERE id = $2) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(notification.id)
    .bind(notification.account_id)
    .bind(notification.kind)
    .bind(notification.created_at_ms)
    .bind(notification.title_ko)
    .bind(notification.body_ko)
    .bind(notification.title_en)
    .bind(notification.body_en)
    .bind(notification.data)
    .bind(i64::from(notification.push))
    .bind(i64::from(notification.app))
    .bind(notification.language)
    .execute(&mut *conn)
    .await?
    .rows_affected()
        > 0;
    if written {
        trim_inbox(conn, notification.account_id).await?;
    }
    Ok(written)
}

/// Drops the member's entries past the newest [`INBOX_PER_MEMBER_MAX`].
async fn trim_inbox(conn: &mut AnyConnection, account_id: i64) -> Result<(), sqlx::Error> {
    let first_dropped: Option<(i64, String)> = sqlx::query_as(
        "SELECT created_at_ms, id FROM notifications WHERE account_id = $1 \
         ORDER BY created_at_ms DESC, id DESC LIMIT 1 OFFSET $2",
    )
    .bind(account_id)
    .bind(INBOX_PER_MEMBER_MAX)
    .fetch_optional(&mut *conn)
    .await?;
    if let Some((at_ms, id)) = first_dropped {
        sqlx::query(
            "DELETE FROM notifications WHERE account_id = $1 \
             AND (created_at_ms < $2 OR (created_at_ms = $2 AND id <= $3))",
        )
        .bind(account_id)
        .bind(at_ms)
        .bind(id)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// How many notifications each account in `low..=high` got after `since_ms` (the notifier's
/// per-member rate limit), as `(account, count)`.
pub async fn recent_counts(
    conn: &mut AnyConnection,
    low: i64,
    high: i64,
    since_ms: i64,
) -> Result<Vec<(i64, i64)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT account_id, COUNT(*) FROM notifications \
         WHERE account_id >= $1 AND account_id <= $2 AND created_at_ms > $3 GROUP BY account_id",
    )
    .bind(low)
    .bind(high)
    .bind(since_ms)
    .fetch_all(&mut *conn)
    .await
}

/// Remembers a waitlist entry's buyer.
pub async fn remember_waitlist_entry(
    conn: &mut AnyConnection,
    entry: i64,
    buyer: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO notifier_waitlist_entries (entry, buyer) VALUES ($1, $2) \
         ON CONFLICT (entry) DO NOTHING",
    )
    .bind(entry)
    .bind(buyer)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Moves the notifier's cursor of `partition` to `seq` (never back).
pub async fn set_notifier_cursor(
    conn: &mut AnyConnection,
    partition: u16,
    seq: u64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO notifier_cursors (ledger_partition, seq) VALUES ($1, $2) \
         ON CONFLICT (ledger_partition) DO UPDATE SET seq = excluded.seq \
         WHERE notifier_cursors.seq < excluded.seq",
    )
    .bind(i64::from(partition))
    .bind(seq as i64)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

impl Store {
    /// The notifier's cursor of `partition`: the last entry whose notifications are written
    /// (0: none).
    pub async fn notifier_cursor(&self, partition: u16) -> Result<u64, sqlx::Error> {
        let seq: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM notifier_cursors WHERE ledger_partition = $1")
                .bind(i64::from(partition))
                .fetch_optional(&self.pool)
                .await?;
        Ok(seq.unwrap_or(0) as u64)
    }

    /// Where the bookings projection is in `partition` (0: nowhere yet); a read, unlike
    /// [`Store::projection_cursor`], which the projection itself calls.
    pub async fn projection_reached(&self, partition: u16) -> Result<u64, sqlx::Error> {
        let seq: Option<i64> =
            sqlx::query_scalar("SELECT seq FROM projection_cursors WHERE ledger_partition = $1")
                .bind(i64::from(partition))
                .fetch_optional(&self.pool)
                .await?;
        Ok(seq.unwrap_or(0) as u64)
    }

    /// The buyer of `booking` as the bookings projection has it.
    pub async fn booking_buyer(&self, booking: i64) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT actor FROM bookings WHERE booking = $1")
            .bind(booking)
            .fetch_optional(&self.pool)
            .await
    }

    /// The buyer of a waitlist entry the notifier remembered.
    pub async fn waitlist_entry_buyer(&self, entry: i64) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT buyer FROM notifier_waitlist_entries WHERE entry = $1")
            .bind(entry)
            .fetch_optional(&self.pool)
            .await
    }

    /// The title of the show `performance` belongs to.
    pub async fn performance_title(&self, performance: i64) -> Result<Option<String>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT s.title FROM performances p JOIN shows s ON s.id = p.show_id WHERE p.id = $1",
        )
        .bind(performance)
        .fetch_optional(&self.pool)
        .await
    }

    /// Up to `limit` published shows whose interest alerts are not all written yet, as
    /// `(show, title, category, region, published_at_ms)`, oldest id first.
    pub async fn shows_to_announce(
        &self,
        limit: i64,
    ) -> Result<Vec<(i64, String, String, String, i64)>, sqlx::Error> {
        sqlx::query_as(
            "SELECT s.id, s.title, s.category, s.region, COALESCE(s.published_at_ms, 0) \
             FROM shows s WHERE s.status = 'published' \
             AND NOT EXISTS (SELECT 1 FROM notifier_announced a WHERE a.show_id = s.id) \
             ORDER BY s.id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    /// Records that every interest alert of `show` is written.
    pub async fn mark_announced(&self, show: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO notifier_announced (show_id) VALUES ($1) ON CONFLICT (show_id) DO NOTHING",
        )
        .bind(show)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Up to `limit` members with ids above `after` whose interests match `category` and
    /// `region`, by ascending id. A member matches when they named at least one interest and,
    /// for each kind they named (categories, regions), the show's is among them.
    pub async fn members_interested(
        &self,
        category: &str,
        region: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT DISTINCT i.account_id FROM interests i WHERE i.account_id > $1 \
             AND (EXISTS (SELECT 1 FROM interests c WHERE c.account_id = i.account_id \
                          AND c.kind = 'category' AND c.value = $2) \
                  OR NOT EXISTS (SELECT 1 FROM interests c WHERE c.account_id = i.account_id \
                                 AND c.kind = 'category')) \
             AND (EXISTS (SELECT 1 FROM interests r WHERE r.account_id = i.account_id \
                          AND r.kind = 'region' AND r.value = $3) \
                  OR NOT EXISTS (SELECT 1 FROM interests r WHERE r.account_id = i.account_id \
                                 AND r.kind = 'region')) \
             ORDER BY i.account_id LIMIT $4",
        )
        .bind(after)
        .bind(category)
        .bind(region)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    /// A page of the member's inbox, newest first, after the entry `cursor` (an id of theirs);
    /// `limit + 1` rows are asked for so the caller knows whether more follow.
    pub async fn notifications(
        &self,
        account_id: i64,
        cursor: Option<&str>,
        limit: i64,
    ) -> Result<Vec<NotificationRow>, sqlx::Error> {
        match cursor {
            None => {
                sqlx::query_as(
                    "SELECT id, kind, created_at_ms, title_ko, body_ko, title_en, body_en, data, \
                     read_at_ms FROM notifications WHERE account_id = $1 \
                     ORDER BY created_at_ms DESC, id DESC LIMIT $2",
                )
                .bind(account_id)
                .bind(limit + 1)
                .fetch_all(&self.pool)
                .await
            }
            Some(cursor) => {
                sqlx::query_as(
                    "SELECT n.id, n.kind, n.created_at_ms, n.title_ko, n.body_ko, n.title_en, \
                     n.body_en, n.data, n.read_at_ms FROM notifications n WHERE n.account_id = $1 AND EXISTS \
                     (SELECT 1 FROM notifications c WHERE c.account_id = $1 AND c.id = $2 \
                      AND (n.created_at_ms < c.created_at_ms \
                           OR (n.created_at_ms = c.created_at_ms AND n.id < c.id))) \
                     ORDER BY n.created_at_ms DESC, n.id DESC LIMIT $3",
                )
                .bind(account_id)
                .bind(cursor)
                .bind(limit + 1)
                .fetch_all(&self.pool)
                .await
            }
        }
    }

    /// The member's unread entries.
    pub async fn unread_notifications(&self, account_id: i64) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT COUNT(*) FROM notifications WHERE account_id = $1 AND read_at_ms IS NULL",
        )
        .bind(account_id)
        .fetch_one(&self.pool)
        .await
    }

    /// Marks the member's entries `ids` read (others' ids and unknown ids are ignored).
    pub async fn mark_notifications_read(
        &self,
        account_id: i64,
        ids: &[String],
        at_ms: i64,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.pool.begin().await?;
        for id in ids {
            sqlx::query(
                "UPDATE notifications SET read_at_ms = $3 \
                 WHERE account_id = $1 AND id = $2 AND read_at_ms IS NULL",
            )
            .bind(account_id)
            .bind(id)
            .bind(at_ms)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// Marks read the member's entry `up_to` and every older one; `false` when `up_to` is not
    /// theirs.
    pub async fn mark_notifications_read_up_to(
        &self,
        account_id: i64,
        up_to: &str,
        at_ms: i64,
    ) -> Result<bool, sqlx::Error> {
        let found: Option<(i64, String)> = sqlx::query_as(
            "SELECT created_at_ms, id FROM notifications WHERE account_id = $1 AND id = $2",
        )
        .bind(account_id)
        .bind(up_to)
        .fetch_optional(&self.pool)
        .await?;
        let Some((created_at_ms, id)) = found else {
            return Ok(false);
        };
        sqlx::query(
            "UPDATE notifications SET read_at_ms = $4 WHERE account_id = $1 \
             AND read_at_ms IS NULL \
             AND (created_at_ms < $2 OR (created_at_ms = $2 AND id <= $3))",
        )
        .bind(account_id)
        .bind(created_at_ms)
        .bind(id)
        .bind(at_ms)
        .execute(&self.pool)
        .await?;
        Ok(true)
    }
}
