//! Members' live notifications: while a member has a connection here, this gateway follows the
//! member's subject on the notification bus ([`picket_ledger_client::notify`]) — one
//! subscription per member, dropped when the member's last connection closes — and sends each
//! message on to every one of the member's connections as a `notification`.
//!
//! Bounded: at most [`GatewayConfig::notify_members_max`](crate::GatewayConfig) members
//! followed, messages over [`NOTICE_BYTES_MAX`] dropped, and a connection whose send buffer is
//! full misses the notification (counted) instead of being closed as a slow reader: the app
//! reads its inbox when it comes back.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::ws::{Message, Utf8Bytes};
use picket_ledger_client::notify::{NOTICE_BYTES_MAX, Notices};
use tokio::task::JoinHandle;

use crate::Gateway;
use crate::hub::{ConnId, ConnTx};
use crate::protocol::{NotificationItem, ServerMessage};

/// Wait before subscribing again after the bus refused.
const SUBSCRIBE_RETRY: Duration = Duration::from_secs(1);

/// The members this gateway follows, with their connections here.
#[derive(Default)]
pub struct Followers {
    members: std::sync::Mutex<HashMap<u64, Followed>>,
}

struct Followed {
    conns: HashMap<ConnId, ConnTx>,
    task: JoinHandle<()>,
    /// The subscription is in place: what is published from now on reaches this gateway.
    ready: Arc<AtomicBool>,
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Followers {
    /// Whether `member`'s subject is followed and its subscription in place.
    pub fn following(&self, member: u64) -> bool {
        lock(&self.members)
            .get(&member)
            .is_some_and(|f| f.ready.load(Ordering::Acquire))
    }

    /// The connections of `member` here.
    fn conns(&self, member: u64) -> Vec<ConnTx> {
        lock(&self.members)
            .get(&member)
            .map(|f| f.conns.values().cloned().collect())
            .unwrap_or_default()
    }
}

/// Adds connection `tx` of `member`, following the member's subject if it is the first; `false`
/// when the gateway follows `notify_members_max` members already (or has no bus).
pub fn follow(gateway: &Arc<Gateway>, member: u64, tx: ConnTx) -> bool {
    let Some(notices) = gateway.notices() else {
        return false;
    };
    let mut members = lock(&gateway.followers.members);
    if let Some(followed) = members.get_mut(&member) {
        followed.conns.insert(tx.id, tx);
        return true;
    }
    if members.len() >= gateway.config.notify_members_max {
        gateway.metrics.notify_refused.inc();
        return false;
    }
    let ready = Arc::new(AtomicBool::new(false));
    let task = tokio::spawn(member_loop(
        gateway.clone(),
        notices.clone(),
        member,
        ready.clone(),
    ));
    members.insert(
        member,
        Followed {
            conns: HashMap::from([(tx.id, tx)]),
            task,
            ready,
        },
    );
    gateway.metrics.notify_members.inc();
    true
}

/// Removes connection `conn` of `member`; the member's last connection ends the subscription.
pub fn unfollow(gateway: &Gateway, member: u64, conn: ConnId) {
    let mut members = lock(&gateway.followers.members);
    let Some(followed) = members.get_mut(&member) else {
        return;
    };
    followed.conns.remove(&conn);
    if followed.conns.is_empty() {
        if let Some(followed) = members.remove(&member) {
            // Dropping the task's subscription unsubscribes.
            followed.task.abort();
        }
        gateway.metrics.notify_members.dec();
    }
}

/// Follows `member`'s subject and fans each message out to the member's connections, until
/// aborted by [`unfollow`].
async fn member_loop(gateway: Arc<Gateway>, notices: Notices, member: u64, ready: Arc<AtomicBool>) {
    loop {
        let mut subscription = match notices.subscribe(member).await {
            Ok(subscription) => subscription,
            Err(error) => {
                tracing::warn!(member, %error, "cannot follow a member's notifications; retrying");
                tokio::time::sleep(SUBSCRIBE_RETRY).await;
                continue;
            }
        };
        ready.store(true, Ordering::Release);
        while let Some(payload) = subscription.next().await {
            let Some(text) = message_of(&gateway, &payload) else {
                continue;
            };
            for tx in gateway.followers.conns(member) {
                if tx.send_notification(text.clone()) {
                    gateway.metrics.notifications_sent.inc();
                } else {
                    gateway.metrics.notification_dropped("buffer_full");
                }
            }
        }
        // The bus went away under the subscription: follow again.
        ready.store(false, Ordering::Release);
        tokio::time::sleep(SUBSCRIBE_RETRY).await;
    }
}

/// The `notification` message a bus message becomes, encoded once for every connection; `None`
/// (counted) when it is too large or not an inbox item.
fn message_of(gateway: &Gateway, payload: &[u8]) -> Option<Utf8Bytes> {
    if payload.len() > NOTICE_BYTES_MAX {
        gateway.metrics.notification_dropped("too_large");
        return None;
    }
    match serde_json::from_slice::<NotificationItem>(payload) {
        Ok(item) => Some(ServerMessage::Notification(item).to_json().into()),
        Err(error) => {
            tracing::warn!(%error, "a notification on the bus is not an inbox item");
            gateway.metrics.notification_dropped("undecodable");
            None
        }
    }
}

impl ConnTx {
    /// Queues a notification without waiting; `false` when the connection's queue is full. A
    /// notification is not worth closing a connection for: unlike the queue's own messages it
    /// is in the inbox, which the app reads.
    pub fn send_notification(&self, text: Utf8Bytes) -> bool {
        self.queue.try_send(Message::Text(text)).is_ok()
    }
}
