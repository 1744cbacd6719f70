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
//! Bounds: `dashboards_max` performances per gateway, `subscriptions_max` dashboards per
//! connection, one message per performance per interval, each of bounded size
//! (`DASHBOARD_MINUTES_MAX` minutes).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::ws::Utf8Bytes;
use picket_edge::clock::now_ms;
use picket_edge::dashboard::{DashboardFigures, DashboardSource};
use picket_edge::id::Id;
use picket_ledger_core::Event;

use crate::Gateway;
use crate::hub::{ConnId, ConnTx};
use crate::protocol::{DashboardQueue, DashboardUpdate, ServerMessage};

/// One performance's dashboard on this gateway.
struct Board {
    subscribers: HashMap<ConnId, ConnTx>,
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
    /// Adds a subscriber; its first dashboard goes out on the next interval. A performance not
    /// yet followed needs room under `dashboards_max`.
    pub fn add(
        &self,
        performance: u64,
        tx: ConnTx,
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
        board.subscribers.insert(tx.id, tx);
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

    /// Performances followed now.
    pub fn len(&self) -> usize {
        lock(&self.boards).len()
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
            for tx in board.subscribers.values() {
                tx.send(text.clone());
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
