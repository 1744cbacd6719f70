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

    /// Hides a post; `false` when there is no such post.
    pub async fn hide_post(&self, post: i64) -> Result<bool, sqlx::Error> {
        let hidden = sqlx::query("UPDATE posts SET hidden = 1 WHERE id = $1")
            .bind(post)
            .execute(&self.pool)
            .await?;
        Ok(hidden.rows_affected() != 0)
    }
}
