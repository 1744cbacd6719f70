//! Sellers' live dashboards on `/ws` (docs/protocol.md, "The seller's dashboard").
//!
//! A connection whose `hello` carried a seller's (or an admin's) session asks for a
//! performance's dashboard; the API's side says whether the session's account manages it
//! ([`DashboardSource::authorise`], asked once per subscription). The gateway then follows the
//! performance: [`Boards::note_commit`] (from the seat loop) marks it changed when the ledger
//! commits anything of it, and [`dashboard_loop`] sends every subscriber the whole dashboard —
//! the API's figures and the waiting room's numbers — at most once per `dashboard_interval`
//! while it changes, and every `dashboard_refresh` regardless (the queue moves without commits).
//! Figures older than the newest commit seen (the API's projection had not applied it yet) keep
//! the performance marked, so the next interval sends the commit.
//!
//! Sessions: before a dashboard goes out, each subscriber whose session the API's side last
//! vouched for `dashboard_session_ttl` ago or more is asked about again; one that ended (signed
//! out, expired, account disabled) or no longer manages the performance gets `dashboard_ended`
//! and nothing more of it.
//!
//! Bounds: `dashboards_max` performances per gateway, `subscriptions_max` dashboards per
//! connection, one message per performance per interval, each of bounded size
//! (`DASHBOARD_MINUTES_MAX` minutes).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::Utf8Bytes;
use picket_edge::clock::now_ms;
use picket_edge::dashboard::{DashboardFigures, DashboardRefusal, DashboardSource};
use picket_edge::id::Id;
use picket_ledger_core::Event;

use crate::Gateway;
use crate::hub::{ConnId, ConnTx};
use crate::protocol::{DashboardQueue, DashboardUpdate, ErrorCode, ServerMessage};

/// One connection following a dashboard, with the session it was authorised with.
struct Subscriber {
    tx: ConnTx,
    session: String,
    /// When the API's side last said the session is live and manages the performance.
    checked_at: Instant,
}

/// One performance's dashboard on this gateway.
struct Board {
    subscribers: HashMap<ConnId, Subscriber>,
    /// The newest journal position of a commit about the performance this gateway has seen.
    seen_seq: u64,
    /// The journal position the last figures sent include (`None`: nothing sent since a
    /// subscriber joined).
    sent_seq: Option<u64>,
    sent_at: Option<Instant>,
}

impl Board {
    fn due(&self, refresh: std::time::Duration) -> bool {
        match (self.sent_seq, self.sent_at) {
            (Some(sent_seq), Some(sent_at)) => {
                self.seen_seq > sent_seq || sent_at.elapsed() >= refresh
            }
            _ => true,
        }
    }
}

/// Why a subscription was not added.
#[derive(Debug, PartialEq, Eq)]
pub struct BoardsFull;

#[derive(Default)]
pub struct Boards {
    boards: std::sync::Mutex<HashMap<u64, Board>>,
}

fn lock<T>(mutex: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Boards {
    /// Adds a subscriber whose `session` the API's side has just authorised; its first dashboard
    /// goes out on the next interval. A performance not yet followed needs room under
    /// `dashboards_max`.
    pub fn add(
        &self,
        performance: u64,
        tx: ConnTx,
        session: String,
        dashboards_max: usize,
    ) -> Result<(), BoardsFull> {
        let mut boards = lock(&self.boards);
        if !boards.contains_key(&performance) && boards.len() >= dashboards_max {
            return Err(BoardsFull);
        }
        let board = boards.entry(performance).or_insert_with(|| Board {
            subscribers: HashMap::new(),
            seen_seq: 0,
            sent_seq: None,
            sent_at: None,
        });
        let subscriber = Subscriber {
            tx,
            session,
            checked_at: Instant::now(),
        };
        board.subscribers.insert(subscriber.tx.id, subscriber);
        // The newcomer needs the whole dashboard now: send it to all on the next interval.
        board.sent_seq = None;
        Ok(())
    }

    pub fn remove(&self, performance: u64, conn: ConnId) {
        let mut boards = lock(&self.boards);
        if let Some(board) = boards.get_mut(&performance) {
            board.subscribers.remove(&conn);
            if board.subscribers.is_empty() {
                boards.remove(&performance);
            }
        }
    }

    /// Whether `conn` follows `performance`'s dashboard (the gateway ends a subscription whose
    /// session ended).
    pub fn follows(&self, performance: u64, conn: ConnId) -> bool {
        lock(&self.boards)
            .get(&performance)
            .is_some_and(|board| board.subscribers.contains_key(&conn))
    }

    /// The subscribers of `performance` whose session was last checked `ttl` ago or more.
    fn stale_sessions(&self, performance: u64, ttl: std::time::Duration) -> Vec<(ConnId, String)> {
        lock(&self.boards)
            .get(&performance)
            .map(|board| {
                board
                    .subscribers
                    .iter()
                    .filter(|(_, s)| s.checked_at.elapsed() >= ttl)
                    .map(|(conn, s)| (*conn, s.session.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn checked(&self, performance: u64, conn: ConnId) {
        if let Some(subscriber) = lock(&self.boards)
            .get_mut(&performance)
            .and_then(|board| board.subscribers.get_mut(&conn))
        {
            subscriber.checked_at = Instant::now();
        }
    }

    /// Ends one subscription: the subscriber is told why (`dashboard_ended`) and gets nothing
    /// more of the performance.
    /// Only the subscription made with `session` ends (not one the connection made again since).
    fn end(&self, performance: u64, conn: ConnId, session: &str, code: ErrorCode) {
        let mut boards = lock(&self.boards);
        let Some(board) = boards.get_mut(&performance) else {
            return;
        };
        if board
            .subscribers
            .get(&conn)
            .is_none_or(|subscriber| subscriber.session != session)
        {
            return;
        }
        if let Some(subscriber) = board.subscribers.remove(&conn) {
            subscriber.tx.send_message(&ServerMessage::DashboardEnded {
                performance: Id(performance),
                code,
                message: code.message().to_owned(),
            });
        }
        if board.subscribers.is_empty() {
            boards.remove(&performance);
        }
    }

    /// Performances followed now.
    pub fn len(&self) -> usize {
        lock(&self.boards).len()
    }

    fn is_followed(&self, performance: u64) -> bool {
        lock(&self.boards).contains_key(&performance)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A committed journal entry: the performances it is about that have dashboards change.
    pub fn note_commit(&self, seq: u64, events: &[Event]) {
        let mut boards = lock(&self.boards);
        if boards.is_empty() {
            return;
        }
        for event in events {
            if let Some(performance) = event.performance()
                && let Some(board) = boards.get_mut(&performance.0)
            {
                board.seen_seq = board.seen_seq.max(seq);
            }
        }
    }

    fn due(&self, refresh: std::time::Duration) -> Vec<u64> {
        lock(&self.boards)
            .iter()
            .filter(|(_, board)| board.due(refresh))
            .map(|(performance, _)| *performance)
            .collect()
    }

    /// Sends one dashboard to every subscriber and notes what it included.
    fn send(&self, performance: u64, figures_seq: u64, text: Utf8Bytes) {
        if let Some(board) = lock(&self.boards).get_mut(&performance) {
            for subscriber in board.subscribers.values() {
                subscriber.tx.send(text.clone());
            }
            board.sent_seq = Some(figures_seq);
            board.sent_at = Some(Instant::now());
        }
    }
}

/// The whole dashboard message of a performance now.
pub async fn compose(
    gateway: &Gateway,
    source: &dyn DashboardSource,
    performance: u64,
) -> Result<(DashboardFigures, ServerMessage), picket_edge::dashboard::DashboardRefusal> {
    let figures = source.figures(performance).await?;
    // The sale of performance p is sale p; a performance without one shows no queue.
    let queue = match gateway.store.view(performance).await {
        Ok(view) => Some(DashboardQueue::of(&view)),
        Err(error) => {
            tracing::debug!(performance, %error, "no waiting room numbers for the dashboard");
            None
        }
    };
    let message = ServerMessage::Dashboard(Box::new(DashboardUpdate {
        performance: Id(performance),
        at_ms: now_ms(),
        queue,
        figures: figures.clone(),
    }));
    Ok((figures, message))
}

/// Asks the API's side again about each subscriber of `performance` whose session was last
/// checked `dashboard_session_ttl` ago: a session that ended, or an account that no longer
/// manages the performance, ends its subscription. No answer (the database is away) keeps it
/// and asks again before the next dashboard.
async fn check_sessions(gateway: &Gateway, source: &dyn DashboardSource, performance: u64) {
    let stale = gateway
        .boards
        .stale_sessions(performance, gateway.config.dashboard_session_ttl);
    let mut ended = false;
    for (conn, session) in stale {
        match source.authorise(&session, performance).await {
            Ok(()) => gateway.boards.checked(performance, conn),
            Err(DashboardRefusal::SessionEnded) => {
                gateway
                    .boards
                    .end(performance, conn, &session, ErrorCode::SessionEnded);
                ended = true;
            }
            Err(DashboardRefusal::Forbidden) => {
                gateway
                    .boards
                    .end(performance, conn, &session, ErrorCode::Forbidden);
                ended = true;
            }
            Err(
                refusal @ (DashboardRefusal::UnknownPerformance | DashboardRefusal::Unavailable),
            ) => {
                tracing::debug!(
                    performance,
                    ?refusal,
                    "dashboard session not checked; asked again"
                );
            }
        }
    }
    if ended {
        gateway.metrics.dashboards.set(gateway.boards.len() as i64);
    }
}

/// Every `dashboard_interval`: each followed performance that is due gets its dashboard.
pub async fn dashboard_loop(gateway: Arc<Gateway>) {
    let mut ticker = tokio::time::interval(gateway.config.dashboard_interval);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let Some(source) = gateway.dashboards() else {
            continue;
        };
        for performance in gateway.boards.due(gateway.config.dashboard_refresh) {
            check_sessions(&gateway, source.as_ref(), performance).await;
            if !gateway.boards.is_followed(performance) {
                continue;
            }
            match compose(&gateway, source.as_ref(), performance).await {
                Ok((figures, message)) => {
                    gateway
                        .boards
                        .send(performance, figures.seq, message.to_json().into());
                    gateway.metrics.dashboards_sent.inc();
                }
                // Kept due: the next interval tries again.
                Err(refusal) => {
                    tracing::debug!(performance, ?refusal, "dashboard figures unavailable")
                }
            }
        }
    }
}
