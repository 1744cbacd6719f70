//! Members' live notifications between the notifier and the gateways: the notifier publishes each
//! notification on its member's subject, and every gateway with a connection of that member
//! follows the subject and sends it on as a `notification` message (docs/protocol.md).
//!
//! Over NATS the subject is `picket.notify.m.<member id>` (core NATS: at most once; what a
//! gateway misses is in the member's inbox, which the app reads on connect). In process
//! (`picket up` without NATS) [`Notices::in_process`] is the same thing as a map of channels,
//! shared by the notifier and the gateway. Both sides live in this crate because it is the one
//! both the notifier and the gateway may depend on (tests/tests/tidy_deps.rs).

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::mpsc;

/// Subjects of members' notifications: `picket.notify.m.<member id>`.
pub const NOTIFY_SUBJECT_PREFIX: &str = "picket.notify.m.";
/// Largest notification message on the bus, in bytes: the notifier publishes nothing larger and
/// a gateway drops anything larger. An inbox item's texts are far smaller.
pub const NOTICE_BYTES_MAX: usize = 16 * 1024;
/// Messages an in-process subscription buffers; past it new ones are dropped (counted, as a
/// slow NATS subscriber's would be).
pub const LOCAL_SUBSCRIPTION_BUFFER_MAX: usize = 256;

/// The subject of `member`'s notifications.
pub fn member_subject(member: u64) -> String {
    format!("{NOTIFY_SUBJECT_PREFIX}{member}")
}

#[derive(Debug, thiserror::Error)]
pub enum NoticeError {
    #[error("a notification message of {0} bytes is over the limit")]
    TooLarge(usize),
    #[error("the bus failed: {0}")]
    Bus(String),
}

/// Where members' notifications travel: in process or over NATS.
#[derive(Clone)]
pub enum Notices {
    Local(Arc<LocalNotices>),
    Nats(async_nats::Client),
}

impl std::fmt::Debug for Notices {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Notices::Local(_) => f.write_str("Notices::Local"),
            Notices::Nats(_) => f.write_str("Notices::Nats"),
        }
    }
}

/// One in-process subscription's id and sender.
type LocalSubscriber = (u64, mpsc::Sender<Bytes>);

/// The in-process bus: per member, the senders of its subscriptions.
#[derive(Default)]
pub struct LocalNotices {
    subscribers: Mutex<HashMap<u64, Vec<LocalSubscriber>>>,
    next_id: AtomicU64,
    /// Messages dropped because a subscription's buffer was full.
    pub dropped: AtomicU64,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Notices {
    /// A bus inside this process (shared by cloning).
    pub fn in_process() -> Self {
        Notices::Local(Arc::new(LocalNotices::default()))
    }

    /// Members' subjects on NATS.
    pub fn nats(client: async_nats::Client) -> Self {
        Notices::Nats(client)
    }

    /// Publishes one message to whoever follows `member` now (nobody: it is dropped).
    pub async fn publish(&self, member: u64, payload: Bytes) -> Result<(), NoticeError> {
        if payload.len() > NOTICE_BYTES_MAX {
            return Err(NoticeError::TooLarge(payload.len()));
        }
        match self {
            Notices::Local(local) => {
                let senders: Vec<mpsc::Sender<Bytes>> = lock(&local.subscribers)
                    .get(&member)
                    .map(|subs| subs.iter().map(|(_, tx)| tx.clone()).collect())
                    .unwrap_or_default();
                for sender in senders {
                    if sender.try_send(payload.clone()).is_err() {
                        local.dropped.fetch_add(1, Ordering::Relaxed);
                    }
                }
                Ok(())
            }
            Notices::Nats(client) => client
                .publish(member_subject(member), payload)
                .await
                .map_err(|e| NoticeError::Bus(e.to_string())),
        }
    }

    /// Waits until what was published so far has left this process (NATS: the server has it).
    pub async fn flush(&self) -> Result<(), NoticeError> {
        match self {
            Notices::Local(_) => Ok(()),
            Notices::Nats(client) => client
                .flush()
                .await
                .map_err(|e| NoticeError::Bus(e.to_string())),
        }
    }

    /// Follows `member`'s subject until the subscription is dropped. Once this returns, every
    /// later publish reaches it (over NATS the server has confirmed the subscription).
    pub async fn subscribe(&self, member: u64) -> Result<NoticeSubscription, NoticeError> {
        match self {
            Notices::Local(local) => {
                let (tx, rx) = mpsc::channel(LOCAL_SUBSCRIPTION_BUFFER_MAX);
                let id = local.next_id.fetch_add(1, Ordering::Relaxed);
                lock(&local.subscribers)
                    .entry(member)
                    .or_default()
                    .push((id, tx));
                Ok(NoticeSubscription(Inner::Local {
                    rx,
                    bus: local.clone(),
                    member,
                    id,
                }))
            }
            Notices::Nats(client) => {
                let subscriber = client
                    .subscribe(member_subject(member))
                    .await
                    .map_err(|e| NoticeError::Bus(e.to_string()))?;
                // The server has the subscription once it answers a ping sent after it.
                client
                    .flush()
                    .await
                    .map_err(|e| NoticeError::Bus(e.to_string()))?;
                Ok(NoticeSubscription(Inner::Nats(subscriber)))
            }
        }
    }
}

/// One member's subject followed; dropping it stops following.
pub struct NoticeSubscription(Inner);

enum Inner {
    Local {
        rx: mpsc::Receiver<Bytes>,
        bus: Arc<LocalNotices>,
        member: u64,
        id: u64,
    },
    // Dropping an `async_nats::Subscriber` unsubscribes.
    Nats(async_nats::Subscriber),
}

impl NoticeSubscription {
    /// The next message; `None` when the bus is gone.
    pub async fn next(&mut self) -> Option<Bytes> {
        match &mut self.0 {
            Inner::Local { rx, .. } => rx.recv().await,
            Inner::Nats(subscriber) => subscriber.next().await.map(|m| m.payload),
        }
    }
}

impl Drop for NoticeSubscription {
    fn drop(&mut self) {
        if let Inner::Local {
            bus, member, id, ..
        } = &self.0
        {
            let mut subscribers = lock(&bus.subscribers);
            if let Some(subs) = subscribers.get_mut(member) {
                subs.retain(|(sub, _)| sub != id);
                if subs.is_empty() {
                    subscribers.remove(member);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn in_process_reaches_each_subscription_of_the_member_only() {
        let bus = Notices::in_process();
        let mut first = bus.subscribe(7).await.expect("subscribe");
        let mut second = bus.subscribe(7).await.expect("subscribe");
        let mut other = bus.subscribe(8).await.expect("subscribe");
        bus.publish(7, Bytes::from_static(b"hi"))
            .await
            .expect("publish");
        assert_eq!(first.next().await.as_deref(), Some(&b"hi"[..]));
        assert_eq!(second.next().await.as_deref(), Some(&b"hi"[..]));
        drop(second);
        bus.publish(8, Bytes::from_static(b"yo"))
            .await
            .expect("publish");
        assert_eq!(other.next().await.as_deref(), Some(&b"yo"[..]));
        let Notices::Local(local) = &bus else {
            unreachable!()
        };
        assert_eq!(lock(&local.subscribers).get(&7).map(Vec::len), Some(1));
        drop(first);
        assert!(!lock(&local.subscribers).contains_key(&7));
    }

    #[tokio::test]
    async fn too_large_is_refused_and_full_buffers_drop() {
        let bus = Notices::in_process();
        let big = Bytes::from(vec![b'x'; NOTICE_BYTES_MAX + 1]);
        assert!(matches!(
            bus.publish(1, big).await,
            Err(NoticeError::TooLarge(_))
        ));
        let _sub = bus.subscribe(1).await.expect("subscribe");
        for _ in 0..LOCAL_SUBSCRIPTION_BUFFER_MAX + 3 {
            bus.publish(1, Bytes::from_static(b"m"))
                .await
                .expect("publish");
        }
        let Notices::Local(local) = &bus else {
            unreachable!()
        };
        assert_eq!(local.dropped.load(Ordering::Relaxed), 3);
    }
}
