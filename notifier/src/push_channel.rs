//! The delivery loop's Web Push channel: [`WebPush`] implements [`PushChannel`] over the API's
//! stored push subscriptions and a [`PushSender`]. Its own file so that `deliver.rs` (the loop)
//! and `push.rs` (sending one message) do not import each other.

use crate::deliver::{PushChannel, PushFuture, PushMessage};
use crate::push::{PushOutcome, PushSender, PushSubscription};

/// The delivery loop's Web Push channel: the members' subscriptions in the API's store, sent to
/// with a [`PushSender`].
pub struct WebPush {
    store: picket_api::store::Store,
    sender: PushSender,
}

impl WebPush {
    pub fn new(store: picket_api::store::Store, sender: PushSender) -> Self {
        WebPush { store, sender }
    }
}

impl PushChannel for WebPush {
    fn subscriptions(&self, account: u64) -> PushFuture<'_, Result<Vec<i64>, String>> {
        Box::pin(async move {
            let rows = self
                .store
                .push_subscriptions(account as i64)
                .await
                .map_err(|e| e.to_string())?;
            Ok(rows.iter().map(|row| row.id).collect())
        })
    }

    fn send<'a>(
        &'a self,
        subscription: i64,
        message: &'a PushMessage,
    ) -> PushFuture<'a, PushOutcome> {
        Box::pin(async move {
            let row = match self.store.push_subscription(subscription).await {
                Ok(Some(row)) => row,
                // Deleted meanwhile (by the member, or found gone by another send).
                Ok(None) => return PushOutcome::Gone,
                Err(_) => return PushOutcome::Retry { after_ms: None },
            };
            // Stored subscriptions were checked when registered; one that no longer decodes
            // can never be sent to.
            let Some(subscription) = PushSubscription::from_row(&row) else {
                return PushOutcome::Gone;
            };
            self.sender
                .send(
                    &subscription,
                    &message.payload,
                    message.ttl_s,
                    message.urgency,
                )
                .await
        })
    }

    fn forget(&self, subscription: i64) -> PushFuture<'_, Result<(), String>> {
        Box::pin(async move {
            self.store
                .delete_push_subscription_by_id(subscription)
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        })
    }
}
