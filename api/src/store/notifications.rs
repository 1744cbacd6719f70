//! The inbox (`notifications`) and the notifier's own bookkeeping: its cursor per ledger
//! partition, the shows whose interest alerts are written (and, while they are being written,
//! the last member reached: migration 1024), and the waitlist entries' buyers. The
//! notifier (`picket-notifier`) writes; the API's `/me/notifications` routes read and mark read.
//! Delivery: every row written gets an outbox sequence (`outbox_seq`, migration 1022), which the
//! notifier's delivery loop reads in order from a cursor per channel, and the dead letters it
//! gives up on.

use sqlx::AnyConnection;

use super::{Store, is_sqlite, parameter_groups};

/// Inbox entries kept per member: past it the oldest are dropped as new ones arrive.
pub const INBOX_PER_MEMBER_MAX: i64 = 500;
/// Dead letters kept: past it the oldest are dropped as new ones are recorded.
pub const DEAD_LETTERS_MAX: i64 = 10_000;

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

/// Rows per multi-row `INSERT` of [`insert_notifications`]. A row binds 13 values, so a
/// statement stays well below SQLite's 32,766 and PostgreSQL's 65,535 bind parameters.
pub const INSERT_ROWS_MAX: usize = 1_000;

/// Writes `notification` unless its id is already in the inbox or its recipient has no account
/// (a guest buyer); then drops the recipient's oldest entries past [`INBOX_PER_MEMBER_MAX`].
/// `true` when it was written. One row of [`insert_notifications`].
pub async fn insert_notification(
    conn: &mut AnyConnection,
    notification: &NewNotification<'_>,
) -> Result<bool, sqlx::Error> {
    Ok(insert_notifications(conn, std::slice::from_ref(notification)).await? == 1)
}

/// Writes each of `notifications` unless its id is already in the inbox (or earlier in
/// `notifications`) or its recipient has no account (a guest buyer), [`INSERT_ROWS_MAX`] rows
/// per statement; then drops the oldest entries past [`INBOX_PER_MEMBER_MAX`] of every member
/// who got one. Returns how many were written.
///
/// The rows take consecutive outbox sequences in the order given, reserved at once (see
/// [`reserve_outbox_seqs`]): call it inside the transaction that writes the rest of the
/// source's effects, so the delivery loop sees the rows exactly when they are committed. A row
/// not written wastes its sequence, which is harmless: the loop reads what is after its cursor,
/// gaps included.
pub async fn insert_notifications(
    conn: &mut AnyConnection,
    notifications: &[NewNotification<'_>],
) -> Result<u64, sqlx::Error> {
    let count = notifications.len() as i64;
    if count == 0 {
        return Ok(0);
    }
    let first_seq = reserve_outbox_seqs(conn, count).await? - count + 1;
    let mut written = Vec::with_capacity(notifications.len());
    for (chunk, rows) in notifications.chunks(INSERT_ROWS_MAX).enumerate() {
        let chunk_first_seq = first_seq + (chunk * INSERT_ROWS_MAX) as i64;
        written.extend(insert_rows(conn, rows, chunk_first_seq).await?);
    }
    trim_inboxes(conn, &written).await?;
    Ok(written.len() as u64)
}

/// One multi-row `INSERT` of [`insert_notifications`] (at most [`INSERT_ROWS_MAX`] rows), row
/// `i` with outbox sequence `first_seq + i`; the recipients of the rows written.
async fn insert_rows(
    conn: &mut AnyConnection,
    rows: &[NewNotification<'_>],
    first_seq: i64,
) -> Result<Vec<i64>, sqlx::Error> {
    let values = parameter_groups(is_sqlite(conn), rows.len(), 13, 1);
    // `VALUES` names its columns column1, column2, … in both databases. (SQLite needs a WHERE
    // in an INSERT … SELECT with ON CONFLICT; the account check is it.)
    let sql = format!(
        "INSERT INTO notifications (id, account_id, kind, created_at_ms, title_ko, body_ko, \
         title_en, body_en, data, push, app, language, outbox_seq) \
         SELECT v.column1, v.column2, v.column3, v.column4, v.column5, v.column6, v.column7, \
         v.column8, v.column9, v.column10, v.column11, v.column12, v.column13 \
         FROM (VALUES {values}) AS v \
         WHERE EXISTS (SELECT 1 FROM accounts a WHERE a.id = v.column2) \
         ON CONFLICT (id) DO NOTHING RETURNING account_id"
    );
    // Safe: the statement is built from placeholders only; every value is bound.
    let mut query = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql));
    for (index, row) in rows.iter().enumerate() {
        query = query
            .bind(row.id)
            .bind(row.account_id)
            .bind(row.kind)
            .bind(row.created_at_ms)
            .bind(row.title_ko)
            .bind(row.body_ko)
            .bind(row.title_en)
            .bind(row.body_en)
            .bind(row.data)
            .bind(i64::from(row.push))
            .bind(i64::from(row.app))
            .bind(row.language)
            .bind(first_seq + index as i64);
    }
    query.fetch_all(&mut *conn).await
}

/// Reserves the next `count` outbox sequences and returns the last of them (the first is
/// `last - count + 1`). Bumping the one counter row locks it until the calling transaction
/// ends, so sequences become visible in the order they were given: a reader that sees seq n
/// never later finds a smaller one committed (which a database sequence would allow, losing
/// that row for a cursor past it). Writers of notifications wait for each other from their
/// first row to their commit; SQLite serializes writers anyway.
pub async fn reserve_outbox_seqs(conn: &mut AnyConnection, count: i64) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE notification_outbox_head SET seq = seq + $1 WHERE id = 1 RETURNING seq",
    )
    .bind(count)
    .fetch_one(&mut *conn)
    .await
}

/// Trims the inboxes of `accounts` (each may come more than once) that hold more than
/// [`INBOX_PER_MEMBER_MAX`]: one look per [`INSERT_ROWS_MAX`] accounts finds them, so a batch of
/// alerts to members with short inboxes costs one query, not one per member.
async fn trim_inboxes(conn: &mut AnyConnection, accounts: &[i64]) -> Result<(), sqlx::Error> {
    let mut accounts = accounts.to_vec();
    accounts.sort_unstable();
    accounts.dedup();
    let sqlite = is_sqlite(conn);
    for chunk in accounts.chunks(INSERT_ROWS_MAX) {
        let sql = format!(
            "SELECT account_id FROM notifications WHERE account_id IN {} \
             GROUP BY account_id HAVING COUNT(*) > {}",
            parameter_groups(sqlite, 1, chunk.len(), 1),
            parameter_groups(sqlite, 1, 1, chunk.len() + 1),
        );
        // Safe: placeholders only; the accounts and the bound are bound.
        let mut query = sqlx::query_scalar::<_, i64>(sqlx::AssertSqlSafe(sql));
        for account in chunk {
            query = query.bind(*account);
        }
        query = query.bind(INBOX_PER_MEMBER_MAX);
        for account in query.fetch_all(&mut *conn).await? {
            trim_inbox(conn, account).await?;
        }
    }
    Ok(())
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

/// A published show whose interest alerts are not all written yet.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ShowToAnnounce {
    pub id: i64,
    pub title: String,
    pub category: String,
    pub region: String,
    pub published_at_ms: i64,
    /// The last member whose alert is written (0: none yet).
    pub after_account: i64,
}

/// Moves `show`'s interest alerts past the member `after_account` (never back): call it in
/// the transaction that writes their batch.
pub async fn move_announcing(
    conn: &mut AnyConnection,
    show: i64,
    after_account: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO notifier_announcing (show_id, after_account) VALUES ($1, $2) \
         ON CONFLICT (show_id) DO UPDATE SET after_account = excluded.after_account \
         WHERE notifier_announcing.after_account < excluded.after_account",
    )
    .bind(show)
    .bind(after_account)
    .execute(&mut *conn)
    .await?;
    Ok(())
}

/// Records that every interest alert of `show` is written, and forgets where they were.
pub async fn mark_announced(conn: &mut AnyConnection, show: i64) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO notifier_announced (show_id) VALUES ($1) ON CONFLICT (show_id) DO NOTHING",
    )
    .bind(show)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM notifier_announcing WHERE show_id = $1")
        .bind(show)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// One notification as the delivery loop reads it from the outbox.
#[derive(Clone, Debug)]
pub struct OutboxRow {
    pub outbox_seq: i64,
    pub account_id: i64,
    /// `false`: over the member's push rate limit or not wanted pushed (inbox and app only).
    pub push: bool,
    /// `false`: the member does not want this kind live in the app.
    pub app: bool,
    /// The member's language when it was written (`ko`, `en`).
    pub language: String,
    pub row: NotificationRow,
}

#[derive(sqlx::FromRow)]
struct OutboxColumns {
    outbox_seq: i64,
    account_id: i64,
    push: i64,
    app: i64,
    language: String,
    #[sqlx(flatten)]
    row: NotificationRow,
}

/// A delivery given up on.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct DeadLetter {
    pub notification_id: String,
    pub account_id: i64,
    /// `push` (the only channel that retries).
    pub channel: String,
    /// The push subscription it was for.
    pub subscription_id: Option<i64>,
    pub attempts: i64,
    /// Why: `rejected 400`, `attempts exhausted: …`.
    pub reason: String,
    pub at_ms: i64,
}

impl Store {
    /// Up to `limit` outbox rows after `after`, in outbox order.
    pub async fn outbox_after(
        &self,
        after: i64,
        limit: i64,
    ) -> Result<Vec<OutboxRow>, sqlx::Error> {
        let rows: Vec<OutboxColumns> = sqlx::query_as(
            "SELECT outbox_seq, account_id, push, app, language, id, kind, created_at_ms, title_ko, body_ko, \
             title_en, body_en, data, read_at_ms FROM notifications \
             WHERE outbox_seq > $1 ORDER BY outbox_seq LIMIT $2",
        )
        .bind(after)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|r| OutboxRow {
                outbox_seq: r.outbox_seq,
                account_id: r.account_id,
                push: r.push != 0,
                app: r.app != 0,
                language: r.language,
                row: r.row,
            })
            .collect())
    }

    /// The last outbox sequence given (0: none yet).
    pub async fn outbox_head(&self) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar("SELECT seq FROM notification_outbox_head WHERE id = 1")
            .fetch_one(&self.pool)
            .await
    }

    /// Where delivery `channel` is in the outbox; `None` before it ever ran.
    pub async fn delivery_cursor(&self, channel: &str) -> Result<Option<i64>, sqlx::Error> {
        sqlx::query_scalar("SELECT seq FROM delivery_cursors WHERE channel = $1")
            .bind(channel)
            .fetch_optional(&self.pool)
            .await
    }

    /// Moves delivery `channel`'s cursor to `seq` (never back).
    pub async fn set_delivery_cursor(&self, channel: &str, seq: i64) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO delivery_cursors (channel, seq) VALUES ($1, $2) \
             ON CONFLICT (channel) DO UPDATE SET seq = excluded.seq \
             WHERE delivery_cursors.seq < excluded.seq",
        )
        .bind(channel)
        .bind(seq)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records `letter` (once per notification, channel and subscription) and drops the oldest
    /// past [`DEAD_LETTERS_MAX`].
    pub async fn record_dead_letter(&self, letter: &DeadLetter) -> Result<(), sqlx::Error> {
        let id = format!(
            "{}/{}/{}",
            letter.notification_id,
            letter.channel,
            letter.subscription_id.unwrap_or(0)
        );
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO delivery_dead_letters (id, notification_id, account_id, channel, \
             subscription_id, attempts, reason, at_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (id) DO NOTHING",
        )
        .bind(id)
        .bind(&letter.notification_id)
        .bind(letter.account_id)
        .bind(&letter.channel)
        .bind(letter.subscription_id)
        .bind(letter.attempts)
        .bind(&letter.reason)
        .bind(letter.at_ms)
        .execute(&mut *tx)
        .await?;
        let first_dropped: Option<(i64, String)> = sqlx::query_as(
            "SELECT at_ms, id FROM delivery_dead_letters ORDER BY at_ms DESC, id DESC \
             LIMIT 1 OFFSET $1",
        )
        .bind(DEAD_LETTERS_MAX)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((at_ms, id)) = first_dropped {
            sqlx::query(
                "DELETE FROM delivery_dead_letters \
                 WHERE at_ms < $1 OR (at_ms = $1 AND id <= $2)",
            )
            .bind(at_ms)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await
    }

    /// The newest `limit` dead letters, newest first.
    pub async fn dead_letters(&self, limit: i64) -> Result<Vec<DeadLetter>, sqlx::Error> {
        sqlx::query_as(
            "SELECT notification_id, account_id, channel, subscription_id, attempts, reason, \
             at_ms FROM delivery_dead_letters ORDER BY at_ms DESC, id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

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

    /// Every partition's notifier cursor, by partition (a partition with none yet is absent):
    /// one read, for `picket notifier`'s `/healthz`.
    pub async fn notifier_cursors(&self) -> Result<Vec<(u16, u64)>, sqlx::Error> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT ledger_partition, seq FROM notifier_cursors ORDER BY ledger_partition",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(partition, seq)| (partition as u16, seq as u64))
            .collect())
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

    /// Up to `limit` published shows whose interest alerts are not all written yet, oldest id
    /// first, each with where its alerts are (`after_account`).
    pub async fn shows_to_announce(&self, limit: i64) -> Result<Vec<ShowToAnnounce>, sqlx::Error> {
        sqlx::query_as(
            "SELECT s.id, s.title, s.category, s.region, \
             COALESCE(s.published_at_ms, 0) AS published_at_ms, \
             COALESCE(p.after_account, 0) AS after_account \
             FROM shows s LEFT JOIN notifier_announcing p ON p.show_id = s.id \
             WHERE s.status = 'published' \
             AND NOT EXISTS (SELECT 1 FROM notifier_announced a WHERE a.show_id = s.id) \
             ORDER BY s.id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    /// Whether every interest alert of `show` is written (it is in `notifier_announced`).
    pub async fn is_announced(&self, show: i64) -> Result<bool, sqlx::Error> {
        let found: Option<i64> =
            sqlx::query_scalar("SELECT show_id FROM notifier_announced WHERE show_id = $1")
                .bind(show)
                .fetch_optional(&self.pool)
                .await?;
        Ok(found.is_some())
    }

    /// Up to `limit` members with ids above `after` whose interests match `category` and
    /// `region`, by ascending id. A member matches when they named at least one interest and,
    /// for each kind they named (categories, regions), the show's is among them.
    ///
    /// One walk of the interests' primary key (account, kind, value) in account order, each
    /// member's rows grouped and the rule checked on the group: the walk stops after `limit`
    /// members that match, so a page costs the rows of the members it passes, however many
    /// members there are in all.
    pub async fn members_interested(
        &self,
        category: &str,
        region: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<i64>, sqlx::Error> {
        sqlx::query_scalar(
            "SELECT account_id FROM interests WHERE account_id > $1 GROUP BY account_id \
             HAVING (SUM(CASE WHEN kind = 'category' THEN 1 ELSE 0 END) = 0 \
                     OR SUM(CASE WHEN kind = 'category' AND value = $2 THEN 1 ELSE 0 END) > 0) \
             AND (SUM(CASE WHEN kind = 'region' THEN 1 ELSE 0 END) = 0 \
                  OR SUM(CASE WHEN kind = 'region' AND value = $3 THEN 1 ELSE 0 END) > 0) \
             ORDER BY account_id LIMIT $4",
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
