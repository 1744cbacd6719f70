//! Board posts: notices and questions.

use crate::store::Store;

/// A new post.
pub struct NewPost<'a> {
    pub id: i64,
    /// `None`: a platform notice.
    pub show: Option<i64>,
    pub kind: &'a str,
    pub author: i64,
    pub title: &'a str,
    pub body: &'a str,
    pub created_at_ms: i64,
}

/// A listed post.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct PostRow {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub answer: Option<String>,
    pub answered_at_ms: Option<i64>,
    pub created_at_ms: i64,
}

/// A post as admins list it: every kind, hidden ones too, with its show and author.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct ModeratedPost {
    pub id: i64,
    pub show_id: Option<i64>,
    pub show_title: Option<String>,
    pub kind: String,
    pub author_email: String,
    pub title: String,
    pub body: String,
    pub answer: Option<String>,
    pub hidden: i64,
    pub created_at_ms: i64,
}

impl Store {
    pub async fn insert_post(&self, post: &NewPost<'_>) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO posts (id, show_id, kind, author_account_id, title, body, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(post.id)
        .bind(post.show)
        .bind(post.kind)
        .bind(post.author)
        .bind(post.title)
        .bind(post.body)
        .bind(post.created_at_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Up to `rows` visible posts of `kind` (of `show`, or platform-wide), newest first, with
    /// ids below `before` (from the read replica).
    pub async fn posts(
        &self,
        show: Option<i64>,
        kind: &str,
        before: i64,
        rows: i64,
    ) -> Result<Vec<PostRow>, sqlx::Error> {
        // A show id of -1 never exists: platform notices are the rows without a show.
        sqlx::query_as(
            "SELECT id, title, body, answer, answered_at_ms, created_at_ms FROM posts \
             WHERE kind = $1 AND hidden = 0 AND COALESCE(show_id, -1) = $2 AND id < $3 \
             ORDER BY id DESC LIMIT $4",
        )
        .bind(kind)
        .bind(show.unwrap_or(-1))
        .bind(before)
        .bind(rows)
        .fetch_all(self.reader())
        .await
    }

    /// The show a question is about, if the question exists.
    pub async fn question_show(&self, question: i64) -> Result<Option<i64>, sqlx::Error> {
        let show: Option<Option<i64>> =
            sqlx::query_scalar("SELECT show_id FROM posts WHERE id = $1 AND kind = 'question'")
                .bind(question)
                .fetch_optional(&self.pool)
                .await?;
        Ok(show.flatten())
    }

    pub async fn answer_question(
        &self,
        question: i64,
        answer: &str,
        now_ms: i64,
    ) -> Result<(), sqlx::Error> {
        sqlx::query("UPDATE posts SET answer = $2, answered_at_ms = $3 WHERE id = $1")
            .bind(question)
            .bind(answer)
            .bind(now_ms)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Hides a post; `false` when there is no such post. A notice hidden before every booker
    /// has it is sent no further.
    pub async fn hide_post(&self, post: i64) -> Result<bool, sqlx::Error> {
        let hidden = sqlx::query("UPDATE posts SET hidden = 1 WHERE id = $1")
            .bind(post)
            .execute(&self.pool)
            .await?;
        sqlx::query("UPDATE notice_sends SET done = 1 WHERE post_id = $1")
            .bind(post)
            .execute(&self.pool)
            .await?;
        Ok(hidden.rows_affected() != 0)
    }

    /// Shows a hidden post again; `false` when there is no such post. A notice's sending that
    /// hiding stopped stays stopped (its bookers were not sent it while hidden).
    pub async fn unhide_post(&self, post: i64) -> Result<bool, sqlx::Error> {
        let shown = sqlx::query("UPDATE posts SET hidden = 0 WHERE id = $1")
            .bind(post)
            .execute(&self.pool)
            .await?;
        Ok(shown.rows_affected() != 0)
    }

    /// Deletes a post for good, with its pending sending to bookers; `false` when there is no
    /// such post. Notifications already delivered stay in members' inboxes.
    pub async fn delete_post(&self, post: i64) -> Result<bool, sqlx::Error> {
        let mut tx = self.begin().await?;
        sqlx::query("DELETE FROM notice_sends WHERE post_id = $1")
            .bind(post)
            .execute(&mut *tx)
            .await?;
        let deleted = sqlx::query("DELETE FROM posts WHERE id = $1")
            .bind(post)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(deleted.rows_affected() != 0)
    }

    /// Up to `rows` posts of every kind and show, hidden ones too (only hidden ones with
    /// `hidden_only`), with ids below `before`, newest first: what admins moderate.
    pub async fn moderated_posts(
        &self,
        hidden_only: bool,
        before: i64,
        rows: i64,
    ) -> Result<Vec<ModeratedPost>, sqlx::Error> {
        sqlx::query_as(
            "SELECT p.id, p.show_id, s.title AS show_title, p.kind, a.email AS author_email, \
             p.title, p.body, p.answer, p.hidden, p.created_at_ms FROM posts p \
             JOIN accounts a ON a.id = p.author_account_id \
             LEFT JOIN shows s ON s.id = p.show_id \
             WHERE p.hidden >= $1 AND p.id < $2 ORDER BY p.id DESC LIMIT $3",
        )
        .bind(i64::from(hidden_only))
        .bind(before)
        .bind(rows)
        .fetch_all(&self.pool)
        .await
    }

    /// Writes a show's notice and, in the same transaction, asks the notifier to send it to the
    /// bookers of the show (or of `performance` only).
    pub async fn insert_notice_to_send(
        &self,
        post: &NewPost<'_>,
        show: i64,
        performance: Option<i64>,
    ) -> Result<(), sqlx::Error> {
        let mut tx = self.begin().await?;
        sqlx::query(
            "INSERT INTO posts (id, show_id, kind, author_account_id, title, body, created_at_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(post.id)
        .bind(post.show)
        .bind(post.kind)
        .bind(post.author)
        .bind(post.title)
        .bind(post.body)
        .bind(post.created_at_ms)
        .execute(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO notice_sends (post_id, show_id, performance_id, created_at_ms) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(post.id)
        .bind(show)
        .bind(performance)
        .bind(post.created_at_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }

    /// Up to `limit` notices still being sent to bookers, oldest first.
    pub async fn notices_to_send(&self, limit: i64) -> Result<Vec<NoticeSendRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT n.post_id, n.show_id, n.performance_id, n.after_performance, n.after_booking, \
             n.created_at_ms, p.title, p.body, s.title AS show_title \
             FROM notice_sends n JOIN posts p ON p.id = n.post_id JOIN shows s ON s.id = n.show_id \
             WHERE n.done = 0 ORDER BY n.post_id LIMIT $1",
        )
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    /// Up to `limit` bookings of `performance` after `after_booking`, by ascending booking, with
    /// their buyers' stored notification choices.
    pub async fn bookers_page(
        &self,
        performance: i64,
        after_booking: i64,
        limit: i64,
    ) -> Result<Vec<BookerRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT b.booking, b.actor, b.places, b.cancelled, n.language, n.channels \
             FROM bookings b LEFT JOIN notification_settings n ON n.account_id = b.actor \
             WHERE b.performance = $1 AND b.booking > $2 ORDER BY b.booking LIMIT $3",
        )
        .bind(performance)
        .bind(after_booking)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }
}

/// A notice being sent to bookers: where the send is (the last booking whose booker has it,
/// in performance id order), and what it says.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct NoticeSendRow {
    pub post_id: i64,
    pub show_id: i64,
    /// `None`: every performance of the show.
    pub performance_id: Option<i64>,
    pub after_performance: i64,
    pub after_booking: i64,
    pub created_at_ms: i64,
    pub title: String,
    pub body: String,
    pub show_title: String,
}

/// A booking whose buyer a notice goes to: `places` and `cancelled` are JSON arrays (a booking
/// whose every place is cancelled has no booker any more); `language` and `channels` are the
/// buyer's stored choices.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct BookerRow {
    pub booking: i64,
    pub actor: i64,
    pub places: String,
    pub cancelled: String,
    pub language: Option<String>,
    pub channels: Option<String>,
}

/// Moves a notice's send past `(after_performance, after_booking)`, never back (several
/// notifiers may send one notice at once); `done` once every booker has it, for good.
pub async fn move_notice_send(
    conn: &mut sqlx::AnyConnection,
    post: i64,
    after_performance: i64,
    after_booking: i64,
    done: bool,
) -> Result<(), sqlx::Error> {
    let query = if done {
        "UPDATE notice_sends SET after_performance = $2, after_booking = $3, done = 1 \
         WHERE post_id = $1"
    } else {
        "UPDATE notice_sends SET after_performance = $2, after_booking = $3 \
         WHERE post_id = $1 AND done = 0 AND (after_performance < $2 \
         OR (after_performance = $2 AND after_booking < $3))"
    };
    sqlx::query(query)
        .bind(post)
        .bind(after_performance)
        .bind(after_booking)
        .execute(&mut *conn)
        .await?;
    Ok(())
}
