//! Delivery: the notifications in the inbox's outbox go out live, to connected apps and to Web
//! Push. Every notification row has an outbox sequence given in the transaction that wrote it
//! (`outbox_seq`, see `picket_api::store::notifications::reserve_outbox_seqs`); each channel reads the
//! rows after its persisted cursor in that order.
//!
//! - **app**: each row is published on its member's subject ([`Notices`]: NATS
//!   `picket.notify.m.<member>`, or in process), which every gateway with a connection of the
//!   member follows and sends on as a `notification` message. The cursor moves once the batch
//!   has left ([`Notices::flush`]).
//! - **push**: rows with `push = 1` go to each of the member's Web Push subscriptions through a
//!   [`PushChannel`]. Pushed whether or not the member has an app connected: a connection says
//!   nothing about which device it is (the phone in a pocket and the open laptop are one
//!   member), a presence check races with connects and disconnects, and the app's service
//!   worker already skips a notification whose id the open app has shown. `compose`'s per-member
//!   rate limit (`RATE_PUSHES_MAX`) bounds what that costs. A failed send is retried with
//!   exponential backoff ([`PUSH_ATTEMPTS_MAX`], [`PUSH_BACKOFF_FIRST_MS`] doubling to
//!   [`PUSH_BACKOFF_MS_MAX`]) from a bounded queue ([`RETRY_QUEUE_MAX`]); a subscription the push
//!   service calls gone is dropped; what is refused or runs out of attempts is recorded as a dead
//!   letter (`picket notifications dead-letters`).
//!
//! At least once: the push cursor is persisted behind the oldest row still waiting for a retry,
//! so a loop that restarts sends again what it had not finished — and a few it had. Every
//! message carries the notification's id, and the app shows each id once.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use picket_api::store::Store;
use picket_api::store::notifications::{DeadLetter, OutboxRow};
use picket_ledger_client::notify::{NoticeError, Notices};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;
use tokio::sync::{Notify, watch};

/// The live channel's name (its cursor, its metrics label).
pub const APP: &str = "app";
/// Web Push's.
pub const PUSH: &str = "push";
/// Outbox rows read per batch.
pub const DELIVERY_BATCH_MAX: i64 = 256;
/// How often the loop looks at the outbox without being woken (another process's notifier may
/// write it).
pub const DELIVERY_POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Wait after a failed round.
pub const DELIVERY_RETRY_DELAY: Duration = Duration::from_secs(1);
/// Sends of one push message to one subscription, at most (the first included).
pub const PUSH_ATTEMPTS_MAX: u32 = 6;
/// Wait before the first retry; each further retry waits twice as long, up to
/// [`PUSH_BACKOFF_MS_MAX`]. A push service's `Retry-After` is honoured up to that too.
pub const PUSH_BACKOFF_FIRST_MS: u64 = 1_000;
pub const PUSH_BACKOFF_MS_MAX: u64 = 300_000;
/// Sends waiting for a retry, at most; while it is full no new rows are read (and a retry that
/// finds it full is a dead letter).
pub const RETRY_QUEUE_MAX: usize = 4_096;
/// How long a push service keeps a message for an offline device, in seconds; rows older than
/// this when read are not pushed (a restarted or long-stopped loop does not push stale news).
pub const PUSH_TTL_S: u32 = 24 * 3_600;

/// A boxed future, so a [`PushChannel`] can be a trait object.
pub type PushFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

pub use crate::push::{PushOutcome, Urgency};

/// One push message: the payload the service worker gets (an inbox item as JSON), how long a
/// push service keeps it and how urgent it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PushMessage {
    pub payload: Bytes,
    pub ttl_s: u32,
    pub urgency: Urgency,
}

/// Where push messages go: the Web Push sender over the API's stored subscriptions implements
/// it. Subscriptions are named by their id.
pub trait PushChannel: Send + Sync {
    /// The ids of `account`'s push subscriptions.
    fn subscriptions(&self, account: u64) -> PushFuture<'_, Result<Vec<i64>, String>>;
    /// Sends `message` to subscription `subscription` (one that no longer exists is `Gone`).
    fn send<'a>(
        &'a self,
        subscription: i64,
        message: &'a PushMessage,
    ) -> PushFuture<'a, PushOutcome>;
    /// Drops a subscription its push service called gone.
    fn forget(&self, subscription: i64) -> PushFuture<'_, Result<(), String>>;
}

#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    #[error("the store failed: {0}")]
    Store(#[from] sqlx::Error),
    #[error("the notification bus failed: {0}")]
    Bus(String),
    #[error("push subscriptions cannot be read: {0}")]
    Subscriptions(String),
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ChannelLabel {
    pub channel: String,
}

/// The delivery loop's Prometheus metrics (`picket_notifier_*`).
#[derive(Default)]
pub struct DeliveryMetrics {
    /// Notifications handed over, by channel (`app`: published to the member's subject;
    /// `push`: taken by a push service, per subscription).
    pub delivered: Family<ChannelLabel, Counter>,
    /// Not sent, by channel: `app` too large for the bus; `push` too old when read.
    pub dropped: Family<ChannelLabel, Counter>,
    /// Push sends queued for a retry.
    pub retried: Counter,
    /// Push sends given up on (recorded in `delivery_dead_letters`).
    pub dead_lettered: Counter,
    /// Push subscriptions dropped because their push service called them gone.
    pub subscriptions_gone: Counter,
}

impl DeliveryMetrics {
    pub fn register(&self, registry: &mut Registry) {
        let registry = registry.sub_registry_with_prefix("picket_notifier");
        registry.register(
            "delivered",
            "Notifications handed to a channel, by channel",
            self.delivered.clone(),
        );
        registry.register(
            "dropped",
            "Notifications not sent, by channel",
            self.dropped.clone(),
        );
        registry.register(
            "push_retried",
            "Push sends queued for a retry",
            self.retried.clone(),
        );
        registry.register(
            "dead_lettered",
            "Push sends given up on (delivery_dead_letters)",
            self.dead_lettered.clone(),
        );
        registry.register(
            "push_subscriptions_gone",
            "Push subscriptions dropped as gone",
            self.subscriptions_gone.clone(),
        );
    }

    fn delivered(&self, channel: &str) {
        self.delivered
            .get_or_create(&ChannelLabel {
                channel: channel.to_owned(),
            })
            .inc();
    }

    fn dropped(&self, channel: &str) {
        self.dropped
            .get_or_create(&ChannelLabel {
                channel: channel.to_owned(),
            })
            .inc();
    }
}

/// The language a member's live and pushed notifications are in: the member's choice when the
/// row was written (`notification_settings`).
pub fn language_for(row: &OutboxRow) -> Language {
    if row.language == "en" {
        Language::En
    } else {
        Language::Ko
    }
}

/// Whether the member wants this kind of notification live in the app (their per-kind choice,
/// stored on the row).
pub fn wants_app(row: &OutboxRow) -> bool {
    row.app
}

/// Whether the member wants this kind of notification pushed: their per-kind choice, and within
/// the push rate limit (both stored on the row as `push`).
pub fn wants_push(row: &OutboxRow) -> bool {
    row.push
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Language {
    Ko,
    En,
}

/// The inbox item a row is, in its member's language: what the app gets live and the service
/// worker gets pushed.
pub fn item_json(row: &OutboxRow) -> Vec<u8> {
    let english = language_for(row) == Language::En;
    serde_json::to_vec(&picket_api::notifications::item(&row.row, english))
        .expect("json values encode")
}

/// The push message of a row: the item in the member's language, its bodies cut to fit
/// [`crate::push::PUSH_PAYLOAD_BYTES_MAX`] ([`crate::push::push_payload`]).
pub fn push_message(row: &OutboxRow) -> PushMessage {
    let payload = crate::push::push_payload(&row.row, language_for(row) == Language::En);
    PushMessage {
        payload: payload.into(),
        ttl_s: PUSH_TTL_S,
        urgency: urgency_of(&row.row.kind),
    }
}

/// An offer with a claim deadline is worth waking a device for; the rest can wait for it.
fn urgency_of(kind: &str) -> Urgency {
    match kind {
        "waitlist_offer" => Urgency::High,
        _ => Urgency::Normal,
    }
}

/// What to do after a send that was attempt number `attempts` (1: the first).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Step {
    Done,
    /// Drop the subscription.
    Forget,
    /// Try again in this many milliseconds.
    RetryIn(u64),
    /// Give up, for this reason.
    DeadLetter(String),
}

/// The retry rule, pure: exponential backoff from [`PUSH_BACKOFF_FIRST_MS`], at least the push
/// service's `Retry-After`, at most [`PUSH_BACKOFF_MS_MAX`], for [`PUSH_ATTEMPTS_MAX`] attempts.
pub fn step_after(attempts: u32, outcome: &PushOutcome) -> Step {
    match outcome {
        PushOutcome::Delivered => Step::Done,
        PushOutcome::Gone => Step::Forget,
        PushOutcome::Rejected { status } => Step::DeadLetter(format!("rejected {status}")),
        PushOutcome::Retry { .. } if attempts >= PUSH_ATTEMPTS_MAX => {
            Step::DeadLetter(format!("{attempts} attempts failed"))
        }
        PushOutcome::Retry { after_ms } => {
            let backoff_ms =
                PUSH_BACKOFF_FIRST_MS.saturating_mul(1 << attempts.saturating_sub(1).min(30));
            Step::RetryIn(
                backoff_ms
                    .max(after_ms.unwrap_or(0))
                    .min(PUSH_BACKOFF_MS_MAX),
            )
        }
    }
}

/// One send waiting for its retry.
#[derive(Clone, Debug)]
struct Retry {
    outbox_seq: i64,
    notification_id: String,
    account_id: i64,
    subscription: i64,
    message: Arc<PushMessage>,
    /// Sends made so far.
    attempts: u32,
    due_ms: u64,
}

/// The push side of the loop: reads the outbox from its cursor, sends, and keeps the retries.
pub struct PushDelivery {
    store: Store,
    channel: Arc<dyn PushChannel>,
    metrics: Arc<DeliveryMetrics>,
    /// The last outbox row read (every send of it made or queued).
    read_to: i64,
    /// In order of `outbox_seq` (retries are queued as rows are read, and a retry goes back
    /// behind the rows read after its own, so `min` is looked for, not assumed).
    retries: VecDeque<Retry>,
}

impl PushDelivery {
    /// Starts at the channel's persisted cursor (at the outbox's head the first time: a channel
    /// starts with what is written from then on).
    pub async fn start(
        store: Store,
        channel: Arc<dyn PushChannel>,
        metrics: Arc<DeliveryMetrics>,
    ) -> Result<PushDelivery, DeliveryError> {
        let read_to = start_cursor(&store, PUSH).await?;
        Ok(PushDelivery {
            store,
            channel,
            metrics,
            read_to,
            retries: VecDeque::new(),
        })
    }

    /// Sends waiting for a retry.
    pub fn retries_waiting(&self) -> usize {
        self.retries.len()
    }

    /// When the next retry is due, if any.
    pub fn next_due_ms(&self) -> Option<u64> {
        self.retries.iter().map(|r| r.due_ms).min()
    }

    /// Where a restarted loop must begin: behind the oldest row still waiting for a retry.
    pub fn cursor(&self) -> i64 {
        match self.retries.iter().map(|r| r.outbox_seq).min() {
            Some(oldest) => oldest - 1,
            None => self.read_to,
        }
    }

    /// One round at `now_ms`: the retries due, then new rows while the retry queue has room,
    /// then the cursor persisted. `true` when more rows are waiting.
    pub async fn round(&mut self, now_ms: u64) -> Result<bool, DeliveryError> {
        let mut due = Vec::new();
        self.retries.retain(|retry| {
            if retry.due_ms <= now_ms {
                due.push(retry.clone());
                false
            } else {
                true
            }
        });
        for retry in due {
            let outcome = self.channel.send(retry.subscription, &retry.message).await;
            self.settle(retry, outcome, now_ms).await?;
        }
        let mut more = false;
        if self.retries.len() < RETRY_QUEUE_MAX {
            let rows = self
                .store
                .outbox_after(self.read_to, DELIVERY_BATCH_MAX)
                .await?;
            more = rows.len() as i64 == DELIVERY_BATCH_MAX;
            for row in rows {
                if self.retries.len() >= RETRY_QUEUE_MAX {
                    more = true;
                    break;
                }
                self.push_row(&row, now_ms).await?;
                self.read_to = row.outbox_seq;
            }
        }
        self.store.set_delivery_cursor(PUSH, self.cursor()).await?;
        Ok(more)
    }

    async fn push_row(&mut self, row: &OutboxRow, now_ms: u64) -> Result<(), DeliveryError> {
        if !wants_push(row) {
            return Ok(());
        }
        let age_ms = now_ms.saturating_sub(row.row.created_at_ms.max(0) as u64);
        if age_ms > u64::from(PUSH_TTL_S) * 1_000 {
            self.metrics.dropped(PUSH);
            return Ok(());
        }
        let subscriptions = self
            .channel
            .subscriptions(row.account_id as u64)
            .await
            .map_err(DeliveryError::Subscriptions)?;
        if subscriptions.is_empty() {
            return Ok(());
        }
        let message = Arc::new(push_message(row));
        for subscription in subscriptions {
            let outcome = self.channel.send(subscription, &message).await;
            let first = Retry {
                outbox_seq: row.outbox_seq,
                notification_id: row.row.id.clone(),
                account_id: row.account_id,
                subscription,
                message: message.clone(),
                attempts: 0,
                due_ms: now_ms,
            };
            self.settle(first, outcome, now_ms).await?;
        }
        Ok(())
    }

    /// Acts on the outcome of one more send of `retry`.
    async fn settle(
        &mut self,
        mut retry: Retry,
        outcome: PushOutcome,
        now_ms: u64,
    ) -> Result<(), DeliveryError> {
        retry.attempts += 1;
        let step = match step_after(retry.attempts, &outcome) {
            Step::RetryIn(_) if self.retries.len() >= RETRY_QUEUE_MAX => {
                Step::DeadLetter("retry queue full".to_owned())
            }
            step => step,
        };
        match step {
            Step::Done => self.metrics.delivered(PUSH),
            Step::Forget => {
                self.metrics.subscriptions_gone.inc();
                if let Err(error) = self.channel.forget(retry.subscription).await {
                    // It stays Gone: the next message to it drops it again.
                    tracing::warn!(subscription = retry.subscription, %error, "cannot drop a gone push subscription");
                }
            }
            Step::RetryIn(wait_ms) => {
                self.metrics.retried.inc();
                retry.due_ms = now_ms + wait_ms;
                self.retries.push_back(retry);
            }
            Step::DeadLetter(reason) => {
                self.metrics.dead_lettered.inc();
                tracing::warn!(notification = %retry.notification_id, subscription = retry.subscription, %reason, "push given up");
                self.store
                    .record_dead_letter(&DeadLetter {
                        notification_id: retry.notification_id,
                        account_id: retry.account_id,
                        channel: PUSH.to_owned(),
                        subscription_id: Some(retry.subscription),
                        attempts: i64::from(retry.attempts),
                        reason,
                        at_ms: now_ms as i64,
                    })
                    .await?;
            }
        }
        Ok(())
    }
}

/// The persisted cursor of `channel`, or the outbox's head (persisted) the first time.
async fn start_cursor(store: &Store, channel: &str) -> Result<i64, sqlx::Error> {
    if let Some(seq) = store.delivery_cursor(channel).await? {
        return Ok(seq);
    }
    let head = store.outbox_head().await?;
    store.set_delivery_cursor(channel, head).await?;
    Ok(head)
}

/// The app side of the loop: publishes rows on their members' subjects.
pub struct AppDelivery {
    store: Store,
    notices: Notices,
    metrics: Arc<DeliveryMetrics>,
    read_to: i64,
}

impl AppDelivery {
    pub async fn start(
        store: Store,
        notices: Notices,
        metrics: Arc<DeliveryMetrics>,
    ) -> Result<AppDelivery, DeliveryError> {
        let read_to = start_cursor(&store, APP).await?;
        Ok(AppDelivery {
            store,
            notices,
            metrics,
            read_to,
        })
    }

    /// One batch: published, flushed, then the cursor moved. `true` when more are waiting.
    pub async fn round(&mut self) -> Result<bool, DeliveryError> {
        let rows = self
            .store
            .outbox_after(self.read_to, DELIVERY_BATCH_MAX)
            .await?;
        let Some(last) = rows.last().map(|r| r.outbox_seq) else {
            return Ok(false);
        };
        for row in &rows {
            if !wants_app(row) {
                continue;
            }
            match self
                .notices
                .publish(row.account_id as u64, item_json(row).into())
                .await
            {
                Ok(()) => self.metrics.delivered(APP),
                Err(NoticeError::TooLarge(_)) => self.metrics.dropped(APP),
                Err(NoticeError::Bus(error)) => return Err(DeliveryError::Bus(error)),
            }
        }
        self.notices
            .flush()
            .await
            .map_err(|e| DeliveryError::Bus(e.to_string()))?;
        self.read_to = last;
        self.store.set_delivery_cursor(APP, last).await?;
        Ok(rows.len() as i64 == DELIVERY_BATCH_MAX)
    }
}

/// The channels a delivery loop serves.
pub struct Channels {
    /// Live to apps through the gateways.
    pub notices: Option<Notices>,
    /// Web Push.
    pub push: Option<Arc<dyn PushChannel>>,
}

/// Delivers the outbox on `channels` until `stop` turns true; `written` wakes it (the notifier
/// signals it after each round), and it also looks every [`DELIVERY_POLL_INTERVAL`].
pub async fn run(
    store: Store,
    channels: Channels,
    metrics: Arc<DeliveryMetrics>,
    written: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    let mut app = None;
    let mut push = None;
    loop {
        if *stop.borrow() {
            return;
        }
        let mut delay = DELIVERY_POLL_INTERVAL;
        let result = async {
            if app.is_none()
                && let Some(notices) = &channels.notices
            {
                app = Some(
                    AppDelivery::start(store.clone(), notices.clone(), metrics.clone()).await?,
                );
            }
            if push.is_none()
                && let Some(channel) = &channels.push
            {
                push = Some(
                    PushDelivery::start(store.clone(), channel.clone(), metrics.clone()).await?,
                );
            }
            let mut more = false;
            if let Some(app) = app.as_mut() {
                more |= app.round().await?;
            }
            if let Some(push) = push.as_mut() {
                let now_ms = wall_clock_ms();
                more |= push.round(now_ms).await?;
                if let Some(due_ms) = push.next_due_ms() {
                    delay = delay.min(Duration::from_millis(due_ms.saturating_sub(now_ms)));
                }
            }
            Ok::<bool, DeliveryError>(more)
        }
        .await;
        match result {
            Ok(true) => delay = Duration::ZERO,
            Ok(false) => {}
            Err(error) => {
                tracing::warn!(%error, "delivery round failed; trying again");
                delay = DELIVERY_RETRY_DELAY;
            }
        }
        tokio::select! {
            _ = stop.changed() => {}
            _ = written.notified() => {}
            _ = tokio::time::sleep(delay) => {}
        }
    }
}

/// Now, for push's retry times and TTL (the loop's only clock).
fn wall_clock_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, VecDeque};
    use std::sync::Mutex;

    use picket_api::store::notifications::{NewNotification, insert_notification};

    use super::*;

    /// A push service scripted per subscription: each send takes the next outcome (then
    /// `Delivered`), and every send and drop is recorded.
    #[derive(Default)]
    struct FakePush {
        subscriptions: BTreeMap<u64, Vec<i64>>,
        script: Mutex<BTreeMap<i64, VecDeque<PushOutcome>>>,
        sent: Mutex<Vec<(i64, String)>>,
        forgotten: Mutex<Vec<i64>>,
    }

    impl FakePush {
        fn script(&self, subscription: i64, outcomes: impl IntoIterator<Item = PushOutcome>) {
            self.script
                .lock()
                .expect("lock")
                .entry(subscription)
                .or_default()
                .extend(outcomes);
        }

        fn sends_to(&self, subscription: i64) -> Vec<String> {
            self.sent
                .lock()
                .expect("lock")
                .iter()
                .filter(|(s, _)| *s == subscription)
                .map(|(_, id)| id.clone())
                .collect()
        }
    }

    impl PushChannel for FakePush {
        fn subscriptions(&self, account: u64) -> PushFuture<'_, Result<Vec<i64>, String>> {
            let found = self
                .subscriptions
                .get(&account)
                .cloned()
                .unwrap_or_default();
            Box::pin(async move { Ok(found) })
        }

        fn send<'a>(
            &'a self,
            subscription: i64,
            message: &'a PushMessage,
        ) -> PushFuture<'a, PushOutcome> {
            let item: serde_json::Value =
                serde_json::from_slice(&message.payload).expect("the payload is json");
            let id = item["id"].as_str().expect("an id").to_owned();
            self.sent.lock().expect("lock").push((subscription, id));
            let outcome = self
                .script
                .lock()
                .expect("lock")
                .get_mut(&subscription)
                .and_then(VecDeque::pop_front)
                .unwrap_or(PushOutcome::Delivered);
            Box::pin(async move { outcome })
        }

        fn forget(&self, subscription: i64) -> PushFuture<'_, Result<(), String>> {
            self.forgotten.lock().expect("lock").push(subscription);
            Box::pin(async { Ok(()) })
        }
    }

    const T0: u64 = 1_700_000_000_000;

    async fn store() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("tempdir");
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("api.sqlite").display()
        );
        let store = Store::connect(&url).await.expect("store");
        for account in [1_i64, 2] {
            sqlx::query(
                "INSERT INTO accounts (id, email, password_hash, name, role, created_at_ms) \
                 VALUES ($1, $2, 'x', 'n', 'member', 0)",
            )
            .bind(account)
            .bind(format!("{account}@example.com"))
            .execute(store.pool())
            .await
            .expect("account");
        }
        (store, dir)
    }

    /// Writes a notification as the notifier does; its outbox sequence.
    async fn write(store: &Store, id: &str, account: i64, push: bool) -> i64 {
        let mut tx = store.begin().await.expect("begin");
        insert_notification(
            &mut tx,
            &NewNotification {
                id,
                account_id: account,
                kind: "booking_confirmed",
                created_at_ms: T0 as i64,
                title_ko: "예매 완료",
                body_ko: "본문",
                title_en: "Booked",
                body_en: "Body",
                data: "{}",
                push,
                app: true,
                language: "ko",
            },
        )
        .await
        .expect("insert");
        tx.commit().await.expect("commit");
        sqlx::query_scalar("SELECT outbox_seq FROM notifications WHERE id = $1")
            .bind(id)
            .fetch_one(store.pool())
            .await
            .expect("seq")
    }

    fn fake() -> Arc<FakePush> {
        Arc::new(FakePush {
            subscriptions: BTreeMap::from([(1, vec![10, 11]), (2, vec![20])]),
            ..FakePush::default()
        })
    }

    #[test]
    fn backoff_doubles_honours_retry_after_and_ends() {
        let retry = PushOutcome::Retry { after_ms: None };
        assert_eq!(step_after(1, &retry), Step::RetryIn(1_000));
        assert_eq!(step_after(2, &retry), Step::RetryIn(2_000));
        assert_eq!(step_after(3, &retry), Step::RetryIn(4_000));
        assert_eq!(
            step_after(
                1,
                &PushOutcome::Retry {
                    after_ms: Some(30_000)
                }
            ),
            Step::RetryIn(30_000)
        );
        assert_eq!(
            step_after(
                2,
                &PushOutcome::Retry {
                    after_ms: Some(u64::MAX)
                }
            ),
            Step::RetryIn(PUSH_BACKOFF_MS_MAX)
        );
        assert!(matches!(
            step_after(PUSH_ATTEMPTS_MAX, &retry),
            Step::DeadLetter(_)
        ));
        assert_eq!(step_after(1, &PushOutcome::Gone), Step::Forget);
        assert_eq!(
            step_after(1, &PushOutcome::Rejected { status: 400 }),
            Step::DeadLetter("rejected 400".into())
        );
        assert_eq!(step_after(1, &PushOutcome::Delivered), Step::Done);
    }

    #[tokio::test]
    async fn push_retries_with_backoff_drops_gone_and_dead_letters_the_rest() {
        let (store, _dir) = store().await;
        let push = fake();
        let metrics = Arc::new(DeliveryMetrics::default());
        let mut delivery = PushDelivery::start(store.clone(), push.clone(), metrics.clone())
            .await
            .expect("start");
        // Subscription 10 fails twice (the second time asking for 5 s), then takes it; 11 is
        // gone; 20 refuses the message for good.
        push.script(
            10,
            [
                PushOutcome::Retry { after_ms: None },
                PushOutcome::Retry {
                    after_ms: Some(5_000),
                },
            ],
        );
        push.script(11, [PushOutcome::Gone]);
        push.script(20, [PushOutcome::Rejected { status: 400 }]);
        let first = write(&store, "n1", 1, true).await;
        write(&store, "n2", 2, true).await;
        let last = write(&store, "n3", 1, false).await;

        delivery.round(T0).await.expect("round");
        assert_eq!(push.sends_to(10), ["n1"]);
        assert_eq!(push.sends_to(11), ["n1"]);
        assert_eq!(push.sends_to(20), ["n2"]);
        assert_eq!(*push.forgotten.lock().expect("lock"), [11]);
        assert_eq!(delivery.retries_waiting(), 1);
        // The cursor stays behind n1 while its retry waits.
        assert_eq!(
            store.delivery_cursor(PUSH).await.expect("cursor"),
            Some(first - 1)
        );
        let letters = store.dead_letters(10).await.expect("letters");
        assert_eq!(letters.len(), 1);
        assert_eq!(letters[0].notification_id, "n2");
        assert_eq!(letters[0].subscription_id, Some(20));
        assert_eq!(letters[0].reason, "rejected 400");

        // Not due before a second has passed; then the second attempt asks for 5 s.
        delivery.round(T0 + 999).await.expect("round");
        assert_eq!(push.sends_to(10).len(), 1);
        delivery.round(T0 + 1_000).await.expect("round");
        assert_eq!(push.sends_to(10).len(), 2);
        assert_eq!(delivery.next_due_ms(), Some(T0 + 6_000));
        delivery.round(T0 + 5_999).await.expect("round");
        assert_eq!(push.sends_to(10).len(), 2);
        delivery.round(T0 + 6_000).await.expect("round");
        assert_eq!(push.sends_to(10), ["n1", "n1", "n1"]);
        assert_eq!(delivery.retries_waiting(), 0);
        assert_eq!(
            store.delivery_cursor(PUSH).await.expect("cursor"),
            Some(last)
        );
        assert_eq!(metrics.retried.get(), 2);
        assert_eq!(metrics.dead_lettered.get(), 1);
        assert_eq!(metrics.subscriptions_gone.get(), 1);
        // n3 was over the rate limit: never pushed.
        assert!(
            !push
                .sent
                .lock()
                .expect("lock")
                .iter()
                .any(|(_, id)| id == "n3")
        );
    }

    #[tokio::test]
    async fn attempts_run_out_into_a_dead_letter_and_a_restart_resends_what_was_pending() {
        let (store, _dir) = store().await;
        let push = fake();
        let metrics = Arc::new(DeliveryMetrics::default());
        let mut delivery = PushDelivery::start(store.clone(), push.clone(), metrics.clone())
            .await
            .expect("start");
        let retry = PushOutcome::Retry { after_ms: None };
        push.script(20, std::iter::repeat_n(retry, PUSH_ATTEMPTS_MAX as usize));
        write(&store, "n1", 2, true).await;
        let mut now_ms = T0;
        delivery.round(now_ms).await.expect("round");
        while let Some(due_ms) = delivery.next_due_ms() {
            now_ms = due_ms;
            delivery.round(now_ms).await.expect("round");
        }
        assert_eq!(push.sends_to(20).len(), PUSH_ATTEMPTS_MAX as usize);
        let letters = store.dead_letters(10).await.expect("letters");
        assert_eq!(letters.len(), 1);
        assert_eq!(letters[0].attempts, i64::from(PUSH_ATTEMPTS_MAX));
        assert_eq!(
            letters[0].reason,
            format!("{PUSH_ATTEMPTS_MAX} attempts failed")
        );
        // Backoff 1, 2, 4, 8 and 16 s between the six attempts.
        assert_eq!(now_ms, T0 + 31_000);

        // A send waiting for its retry when the loop stops is sent again by the next loop, and
        // nothing after it is lost.
        push.script(10, [retry]);
        write(&store, "n2", 1, true).await;
        write(&store, "n3", 2, true).await;
        delivery.round(now_ms).await.expect("round");
        assert_eq!(push.sends_to(10), ["n2"]);
        assert_eq!(push.sends_to(11), ["n2"]);
        assert_eq!(push.sends_to(20).last().map(String::as_str), Some("n3"));
        drop(delivery);
        let mut restarted = PushDelivery::start(store.clone(), push.clone(), metrics)
            .await
            .expect("start");
        restarted.round(now_ms).await.expect("round");
        assert_eq!(push.sends_to(10), ["n2", "n2"]);
        assert_eq!(push.sends_to(11), ["n2", "n2"], "at least once: resent");
        let to_20 = push.sends_to(20);
        assert_eq!(&to_20[to_20.len() - 2..], ["n3", "n3"]);
        assert_eq!(restarted.retries_waiting(), 0);
    }
}
