//! Members' Web Push subscriptions: stored by the API's `/me/push-subscriptions` routes
//! (`push.rs` checks them first), read and pruned by the notifier's delivery (the
//! subscriptions of an account; a subscription the push service says is gone, deleted by id or
//! endpoint).

use super::Store;

/// One stored subscription; the keys are base64url as the browser gave them.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct SubscriptionRow {
    pub id: i64,
    pub account_id: i64,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub created_at_ms: i64,
}

/// A subscription to store: the endpoint and the browser's keys in base64url.
#[derive(Clone, Copy, Debug)]
pub struct NewSubscription<'a> {
    pub endpoint: &'a str,
    pub p256dh: &'a str,
    pub auth: &'a str,
}

/// What subscribing did.
#[derive(Debug)]
pub enum Subscribed {
    /// A new subscription of the member.
    New(SubscriptionRow),
    /// The member had this endpoint already: the same subscription, its keys updated.
    Existing(SubscriptionRow),
    /// The member has the most subscriptions allowed.
    Full,
}

impl Store {
    /// Stores `subscription` for `account` (as `id` when new) unless the member has `max`
    /// subscriptions already. The endpoint is unique: the member's own is updated in place, and
    /// another member's moves to this one (the browser's user changed). Concurrent calls of
    /// one member may pass `max` by the few that race; the list stays bounded by them.
    pub async fn subscribe_push(
        &self,
        account: i64,
        id: i64,
        subscription: &NewSubscription<'_>,
        at_ms: i64,
        max: i64,
    ) -> Result<Subscribed, sqlx::Error> {
        let mut tx = self.begin().await?;
        let existing: Option<SubscriptionRow> = sqlx::query_as(
            "SELECT id, account_id, endpoint, p256dh, auth, created_at_ms \
             FROM push_subscriptions WHERE endpoint = $1",
        )
        .bind(subscription.endpoint)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(row) = existing.as_ref().filter(|row| row.account_id == account) {
            sqlx::query("UPDATE push_subscriptions SET p256dh = $1, auth = $2 WHERE id = $3")
                .bind(subscription.p256dh)
                .bind(subscription.auth)
                .bind(row.id)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(Subscribed::Existing(SubscriptionRow {
                p256dh: subscription.p256dh.to_owned(),
                auth: subscription.auth.to_owned(),
                ..row.clone()
            }));
        }
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM push_subscriptions WHERE account_id = $1")
                .bind(account)
                .fetch_one(&mut *tx)
                .await?;
        if count >= max {
            return Ok(Subscribed::Full);
        }
        if existing.is_some() {
            sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = $1")
                .bind(subscription.endpoint)
                .execute(&mut *tx)
                .await?;
        }
        let row = SubscriptionRow {
            id,
            account_id: account,
            endpoint: subscription.endpoint.to_owned(),
            p256dh: subscription.p256dh.to_owned(),
            auth: subscription.auth.to_owned(),
            created_at_ms: at_ms,
        };
        sqlx::query(
            "INSERT INTO push_subscriptions (id, account_id, endpoint, p256dh, auth, \
             created_at_ms) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(row.id)
        .bind(row.account_id)
        .bind(&row.endpoint)
        .bind(&row.p256dh)
        .bind(&row.auth)
        .bind(row.created_at_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Subscribed::New(row))
    }

    /// The subscriptions of `account`, oldest first (at most the per-member limit): where the
    /// notifier pushes the member's notifications.
    pub async fn push_subscriptions(
        &self,
        account: i64,
    ) -> Result<Vec<SubscriptionRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, account_id, endpoint, p256dh, auth, created_at_ms \
             FROM push_subscriptions WHERE account_id = $1 ORDER BY id",
        )
        .bind(account)
        .fetch_all(&self.pool)
        .await
    }

    /// The subscription `id`, whoever's it is (`None`: gone meanwhile): what the notifier sends to.
    pub async fn push_subscription(&self, id: i64) -> Result<Option<SubscriptionRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, account_id, endpoint, p256dh, auth, created_at_ms \
             FROM push_subscriptions WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await
    }

    /// Deletes the subscription `id` of `account`; `true` when there was one.
    pub async fn delete_push_subscription(
        &self,
        account: i64,
        id: i64,
    ) -> Result<bool, sqlx::Error> {
        Ok(
            sqlx::query("DELETE FROM push_subscriptions WHERE id = $1 AND account_id = $2")
                .bind(id)
                .bind(account)
                .execute(&self.pool)
                .await?
                .rows_affected()
                > 0,
        )
    }

    /// Deletes the subscription `id`, whoever's it is (the push service said it is gone);
    /// `true` when there was one.
    pub async fn delete_push_subscription_by_id(&self, id: i64) -> Result<bool, sqlx::Error> {
        Ok(sqlx::query("DELETE FROM push_subscriptions WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?
            .rows_affected()
            > 0)
    }

    /// Deletes the subscription with `endpoint` (the push service said it is gone); `true` when
    /// there was one.
    pub async fn delete_push_endpoint(&self, endpoint: &str) -> Result<bool, sqlx::Error> {
        Ok(
            sqlx::query("DELETE FROM push_subscriptions WHERE endpoint = $1")
                .bind(endpoint)
                .execute(&self.pool)
                .await?
                .rows_affected()
                > 0,
        )
    }
}
