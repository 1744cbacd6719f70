//! The services' own status over NATS, for the admin dashboard (`GET /api/v2/admin/platform`).
//!
//! Every `status_interval` each ledger node publishes a [`LedgerStatus`] (its hosted
//! partitions' roles, epochs and applied journal sequences) on
//! `picket.status.ledger.<node>`, and each gateway over NATS a [`GatewayStatus`] (its open
//! WebSocket connections) on `picket.status.gateway.<gateway>`: core NATS, nothing kept. A
//! process stopping cleanly publishes a last message with `stopped: true`; a killed one simply
//! goes quiet. docs/protocol.md ("Status") documents the subjects and messages.
//!
//! A [`StatusBoard`] subscribes to `picket.status.>` and keeps the latest message of each source
//! with when it arrived: at most [`STATUS_SOURCES_MAX`] sources, each forgotten once silent for
//! longer than its staleness ([`STATUS_STALE_AFTER`] by default). Malformed, oversize or
//! mislabelled messages are ignored. [`StatusBoard::platform`] folds what it holds into a
//! [`Platform`]: per partition, the leader (the highest epoch among nodes reporting it leads)
//! and the standbys with their lag behind it.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::BusError;
use crate::client::LocalStatus;

/// Every status subject (what a [`StatusBoard`] subscribes to).
pub const STATUS_SUBJECTS: &str = "picket.status.>";
const LEDGER_PREFIX: &str = "picket.status.ledger.";
const GATEWAY_PREFIX: &str = "picket.status.gateway.";

/// How often a node or a gateway publishes its status unless configured otherwise.
pub const STATUS_INTERVAL_DEFAULT: Duration = Duration::from_secs(1);
/// A source silent for longer than this is dropped from the board (three default intervals: a
/// lost message or two is no reason to forget a node; a killed one is gone within seconds).
pub const STATUS_STALE_AFTER: Duration = Duration::from_secs(3);
/// Sources (ledger nodes and gateways together) a board keeps at most; a new source beyond it
/// is ignored until a known one goes stale.
pub const STATUS_SOURCES_MAX: usize = 1_024;
/// How long a stopping process waits for its last status to reach NATS (it may be down: the
/// shutdown goes on without it, and the board forgets the source when it goes stale).
pub const LAST_STATUS_WAIT: Duration = Duration::from_secs(1);
/// Largest status message a board reads.
pub const STATUS_MESSAGE_BYTES_MAX: usize = 64 * 1_024;
/// Partitions one node's message may list at most (a full message of the widest numbers stays
/// under [`STATUS_MESSAGE_BYTES_MAX`], checked by a test).
pub const STATUS_PARTITIONS_MAX: usize = 256;
/// Longest node or gateway id.
pub const STATUS_ID_LEN_MAX: usize = 128;

/// The subject token of a node or gateway id: NATS's separators and wildcards (`.`, `*`, `>`)
/// and whitespace become `_`.
pub fn subject_token(id: &str) -> String {
    id.chars()
        .map(|c| match c {
            '.' | '*' | '>' => '_',
            c if c.is_whitespace() => '_',
            c => c,
        })
        .collect()
}

/// `picket.status.ledger.<node>`.
pub fn ledger_status_subject(node: &str) -> String {
    format!("{LEDGER_PREFIX}{}", subject_token(node))
}

/// `picket.status.gateway.<gateway>`.
pub fn gateway_status_subject(gateway: &str) -> String {
    format!("{GATEWAY_PREFIX}{}", subject_token(gateway))
}

/// A partition's role on one node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PartitionRole {
    Leader,
    Standby,
}

/// One hosted partition as its node sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionReport {
    pub partition: u16,
    pub role: PartitionRole,
    /// The fencing epoch this node last led with (0: never led).
    pub epoch: u64,
    /// The last journal sequence this node has applied.
    pub journal_seq: u64,
    /// The node has known no leader for longer than a lease.
    pub leaderless: bool,
}

/// What a ledger node publishes on `picket.status.ledger.<node>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerStatus {
    pub node: String,
    pub partitions: Vec<PartitionReport>,
    /// The node's last message: it is shutting down.
    #[serde(default)]
    pub stopped: bool,
}

/// What a gateway publishes on `picket.status.gateway.<gateway>`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayStatus {
    pub gateway: String,
    /// Open WebSocket connections.
    pub connections: u64,
    pub connections_max: u64,
    /// The gateway's last message: it is shutting down.
    #[serde(default)]
    pub stopped: bool,
}

/// How the ledger is reached in this deployment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Transport {
    InProcess,
    Nats,
}

/// The admin dashboard's view of the platform (`GET /api/v2/admin/platform`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    pub gateways: Vec<GatewayView>,
    pub partitions: Vec<PartitionView>,
    pub transport: Transport,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GatewayView {
    pub id: String,
    pub connections: u64,
    pub connections_max: u64,
    /// Milliseconds since its last status arrived.
    pub seen_ms_ago: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionView {
    pub partition: u16,
    pub leader: Option<LeaderView>,
    pub standbys: Vec<StandbyView>,
    /// No node reports leading it.
    pub leaderless: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderView {
    pub node: String,
    pub epoch: u64,
    pub journal_seq: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StandbyView {
    pub node: String,
    pub journal_seq: u64,
    /// Journal entries behind the leader (`None` without a leader).
    pub lag: Option<u64>,
}

impl Platform {
    /// `picket up` without NATS: its gateways and the in-process ledger (named `node`), which
    /// always leads its one partition.
    pub fn in_process(node: &str, gateways: Vec<GatewayView>, ledger: &LocalStatus) -> Platform {
        let leads = ledger.role == "leader";
        Platform {
            partitions: vec![PartitionView {
                partition: ledger.partition,
                leader: leads.then(|| LeaderView {
                    node: node.to_owned(),
                    epoch: 0,
                    journal_seq: ledger.journal_seq,
                }),
                standbys: Vec::new(),
                leaderless: !leads,
            }],
            gateways,
            transport: Transport::InProcess,
        }
    }
}

/// Why a board ignored a message.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum StatusRejected {
    #[error("the message is over {STATUS_MESSAGE_BYTES_MAX} bytes")]
    Oversize,
    #[error("not a status subject")]
    UnknownSubject,
    #[error("malformed: {0}")]
    Malformed(String),
    #[error("the id is empty or over {STATUS_ID_LEN_MAX} characters")]
    BadId,
    #[error("the subject names another source than the message")]
    SubjectMismatch,
    #[error("more than {STATUS_PARTITIONS_MAX} partitions")]
    TooManyPartitions,
    #[error("the board holds {STATUS_SOURCES_MAX} sources")]
    Full,
}

#[derive(Default)]
struct Sources {
    ledgers: HashMap<String, (LedgerStatus, Instant)>,
    gateways: HashMap<String, (GatewayStatus, Instant)>,
}

impl Sources {
    fn len(&self) -> usize {
        self.ledgers.len() + self.gateways.len()
    }

    fn prune(&mut self, now: Instant, stale_after: Duration) {
        let fresh = |at: &Instant| now.saturating_duration_since(*at) <= stale_after;
        self.ledgers.retain(|_, (_, at)| fresh(at));
        self.gateways.retain(|_, (_, at)| fresh(at));
    }
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// The latest status of every ledger node and gateway heard from recently.
#[derive(Clone)]
pub struct StatusBoard {
    sources: Arc<Mutex<Sources>>,
    stale_after: Duration,
    sources_max: usize,
    _follower: Option<Arc<AbortOnDrop>>,
}

fn checked_id(id: &str, subject_token_seen: &str) -> Result<(), StatusRejected> {
    if id.is_empty() || id.chars().count() > STATUS_ID_LEN_MAX {
        return Err(StatusRejected::BadId);
    }
    if subject_token(id) != subject_token_seen {
        return Err(StatusRejected::SubjectMismatch);
    }
    Ok(())
}

impl StatusBoard {
    /// An empty board that forgets a source after `stale_after` of silence.
    pub fn new(stale_after: Duration) -> StatusBoard {
        StatusBoard::bounded(stale_after, STATUS_SOURCES_MAX)
    }

    /// An empty board holding at most `sources_max` (≤ [`STATUS_SOURCES_MAX`]) sources.
    pub fn bounded(stale_after: Duration, sources_max: usize) -> StatusBoard {
        StatusBoard {
            sources: Arc::new(Mutex::new(Sources::default())),
            stale_after,
            sources_max: sources_max.min(STATUS_SOURCES_MAX),
            _follower: None,
        }
    }

    /// A board fed by every status message on NATS from now on (until the board and its
    /// clones are dropped).
    pub async fn follow(
        nats: async_nats::Client,
        stale_after: Duration,
    ) -> Result<StatusBoard, BusError> {
        let mut subscription = nats
            .subscribe(STATUS_SUBJECTS)
            .await
            .map_err(|e| BusError::Request(e.to_string()))?;
        let mut board = StatusBoard::new(stale_after);
        let fed = board.clone();
        let task = tokio::spawn(async move {
            while let Some(message) = subscription.next().await {
                if let Err(error) = fed.record(&message.subject, &message.payload, Instant::now()) {
                    tracing::debug!(subject = %message.subject, %error, "status message ignored");
                }
            }
        });
        board._follower = Some(Arc::new(AbortOnDrop(task)));
        Ok(board)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Sources> {
        self.sources
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Takes one status message received on `subject` at `now`.
    pub fn record(
        &self,
        subject: &str,
        payload: &[u8],
        now: Instant,
    ) -> Result<(), StatusRejected> {
        if payload.len() > STATUS_MESSAGE_BYTES_MAX {
            return Err(StatusRejected::Oversize);
        }
        let malformed = |e: serde_json::Error| StatusRejected::Malformed(e.to_string());
        let mut sources = self.lock();
        let known = |sources: &Sources, ledger: bool, id: &str| {
            if ledger {
                sources.ledgers.contains_key(id)
            } else {
                sources.gateways.contains_key(id)
            }
        };
        let make_room = |sources: &mut Sources, ledger: bool, id: &str| {
            if known(sources, ledger, id) {
                return Ok(());
            }
            sources.prune(now, self.stale_after);
            if sources.len() >= self.sources_max {
                return Err(StatusRejected::Full);
            }
            Ok(())
        };
        if let Some(token) = subject.strip_prefix(LEDGER_PREFIX) {
            let status: LedgerStatus = serde_json::from_slice(payload).map_err(malformed)?;
            checked_id(&status.node, token)?;
            if status.partitions.len() > STATUS_PARTITIONS_MAX {
                return Err(StatusRejected::TooManyPartitions);
            }
            if status.stopped {
                sources.ledgers.remove(&status.node);
                return Ok(());
            }
            make_room(&mut sources, true, &status.node)?;
            sources.ledgers.insert(status.node.clone(), (status, now));
            Ok(())
        } else if let Some(token) = subject.strip_prefix(GATEWAY_PREFIX) {
            let status: GatewayStatus = serde_json::from_slice(payload).map_err(malformed)?;
            checked_id(&status.gateway, token)?;
            if status.stopped {
                sources.gateways.remove(&status.gateway);
                return Ok(());
            }
            make_room(&mut sources, false, &status.gateway)?;
            sources
                .gateways
                .insert(status.gateway.clone(), (status, now));
            Ok(())
        } else {
            Err(StatusRejected::UnknownSubject)
        }
    }

    /// Sources currently held (stale ones included until the next prune).
    pub fn sources(&self) -> usize {
        self.lock().len()
    }

    /// The platform as of `now`: the gateways by id, and every partition below `partitions`
    /// (and any other one a node reports) with its leader and standbys. Stale sources are
    /// dropped first.
    pub fn platform(&self, partitions: u16, now: Instant) -> Platform {
        let mut sources = self.lock();
        sources.prune(now, self.stale_after);
        let mut gateways: Vec<GatewayView> = sources
            .gateways
            .values()
            .map(|(status, at)| GatewayView {
                id: status.gateway.clone(),
                connections: status.connections,
                connections_max: status.connections_max,
                seen_ms_ago: now.saturating_duration_since(*at).as_millis() as u64,
            })
            .collect();
        gateways.sort_by(|a, b| a.id.cmp(&b.id));
        let mut reports: BTreeMap<u16, Vec<(&str, &PartitionReport)>> =
            (0..partitions).map(|p| (p, Vec::new())).collect();
        for (status, _) in sources.ledgers.values() {
            for report in &status.partitions {
                reports
                    .entry(report.partition)
                    .or_default()
                    .push((status.node.as_str(), report));
            }
        }
        let partitions = reports
            .into_iter()
            .map(|(partition, mut nodes)| {
                nodes.sort_by(|a, b| a.0.cmp(b.0));
                let leader = nodes
                    .iter()
                    .filter(|(_, r)| r.role == PartitionRole::Leader)
                    .max_by_key(|(_, r)| r.epoch)
                    .map(|(node, r)| LeaderView {
                        node: (*node).to_owned(),
                        epoch: r.epoch,
                        journal_seq: r.journal_seq,
                    });
                let standbys = nodes
                    .iter()
                    .filter(|(node, _)| leader.as_ref().is_none_or(|l| l.node != *node))
                    .map(|(node, r)| StandbyView {
                        node: (*node).to_owned(),
                        journal_seq: r.journal_seq,
                        lag: leader
                            .as_ref()
                            .map(|l| l.journal_seq.saturating_sub(r.journal_seq)),
                    })
                    .collect();
                PartitionView {
                    partition,
                    leaderless: leader.is_none(),
                    leader,
                    standbys,
                }
            })
            .collect();
        Platform {
            gateways,
            partitions,
            transport: Transport::Nats,
        }
    }
}

/// Publishes `status()` on `subject` every `interval` until `stopped` turns true (the caller
/// publishes a last message itself with [`publish_status`]). A failed publish is logged and
/// tried again at the next interval.
pub fn publish_every<T, F>(
    nats: async_nats::Client,
    subject: String,
    interval: Duration,
    mut stopped: watch::Receiver<bool>,
    status: F,
) -> tokio::task::JoinHandle<()>
where
    T: Serialize,
    F: Fn() -> T + Send + 'static,
{
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(interval);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticks.tick() => {}
                _ = stopped.wait_for(|stop| *stop) => return,
            }
            let payload = match serde_json::to_vec(&status()) {
                Ok(payload) => payload,
                Err(error) => {
                    tracing::warn!(%subject, %error, "status not encoded");
                    continue;
                }
            };
            // A publish waits while the client's buffer is full (NATS down): stopping does not.
            tokio::select! {
                sent = nats.publish(subject.clone(), payload.into()) => {
                    if let Err(error) = sent {
                        tracing::debug!(%subject, %error, "status not published");
                    }
                }
                _ = stopped.wait_for(|stop| *stop) => return,
            }
        }
    })
}

/// Publishes a stopping process's last status (with `stopped: true`) and flushes it, waiting
/// at most [`LAST_STATUS_WAIT`].
pub async fn publish_last<T: Serialize>(nats: &async_nats::Client, subject: String, status: &T) {
    let sent = async {
        publish_status(nats, subject, status).await?;
        nats.flush()
            .await
            .map_err(|e| BusError::Request(e.to_string()))
    };
    match tokio::time::timeout(LAST_STATUS_WAIT, sent).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::debug!(%error, "last status not published"),
        Err(_) => tracing::debug!("last status not flushed in time"),
    }
}

/// Publishes one status message (core NATS: nobody listening is no error).
pub async fn publish_status<T: Serialize>(
    nats: &async_nats::Client,
    subject: String,
    status: &T,
) -> Result<(), BusError> {
    let payload = serde_json::to_vec(status).map_err(|e| BusError::Request(e.to_string()))?;
    nats.publish(subject, payload.into())
        .await
        .map_err(|e| BusError::Request(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(partition: u16, role: PartitionRole, epoch: u64, seq: u64) -> PartitionReport {
        PartitionReport {
            partition,
            role,
            epoch,
            journal_seq: seq,
            leaderless: false,
        }
    }

    fn ledger(node: &str, partitions: Vec<PartitionReport>) -> (String, Vec<u8>) {
        let status = LedgerStatus {
            node: node.into(),
            partitions,
            stopped: false,
        };
        (
            ledger_status_subject(node),
            serde_json::to_vec(&status).expect("encodes"),
        )
    }

    fn gateway(id: &str, connections: u64) -> (String, Vec<u8>) {
        let status = GatewayStatus {
            gateway: id.into(),
            connections,
            connections_max: 100,
            stopped: false,
        };
        (
            gateway_status_subject(id),
            serde_json::to_vec(&status).expect("encodes"),
        )
    }

    fn record(board: &StatusBoard, (subject, payload): (String, Vec<u8>), now: Instant) {
        board.record(&subject, &payload, now).expect("recorded");
    }

    #[tokio::test]
    async fn the_leader_is_the_highest_epoch_and_standbys_lag_behind_it() {
        let board = StatusBoard::new(STATUS_STALE_AFTER);
        let now = Instant::now();
        use PartitionRole::*;
        record(
            &board,
            ledger(
                "a",
                vec![report(0, Leader, 3, 120), report(1, Standby, 0, 40)],
            ),
            now,
        );
        record(
            &board,
            ledger(
                "b",
                vec![report(0, Standby, 2, 100), report(1, Leader, 1, 50)],
            ),
            now,
        );
        // A deposed leader that has not noticed yet: the higher epoch leads.
        record(&board, ledger("c", vec![report(0, Leader, 2, 90)]), now);
        record(&board, gateway("g1", 7), now);
        let platform = board.platform(3, now + Duration::from_millis(250));
        assert_eq!(platform.transport, Transport::Nats);
        assert_eq!(
            platform.gateways,
            vec![GatewayView {
                id: "g1".into(),
                connections: 7,
                connections_max: 100,
                seen_ms_ago: 250
            }]
        );
        let p0 = &platform.partitions[0];
        assert_eq!(
            p0.leader,
            Some(LeaderView {
                node: "a".into(),
                epoch: 3,
                journal_seq: 120
            })
        );
        assert_eq!(
            p0.standbys,
            vec![
                StandbyView {
                    node: "b".into(),
                    journal_seq: 100,
                    lag: Some(20)
                },
                StandbyView {
                    node: "c".into(),
                    journal_seq: 90,
                    lag: Some(30)
                },
            ]
        );
        assert!(!p0.leaderless);
        let p1 = &platform.partitions[1];
        assert_eq!(p1.leader.as_ref().map(|l| l.node.as_str()), Some("b"));
        assert_eq!(p1.standbys[0].lag, Some(10));
        // Nobody reports partition 2: it has no leader.
        let p2 = &platform.partitions[2];
        assert_eq!(
            (p2.partition, p2.leader.is_none(), p2.leaderless),
            (2, true, true)
        );
        assert_eq!(platform.partitions.len(), 3);
    }

    #[tokio::test]
    async fn without_a_leader_standbys_have_no_lag() {
        let board = StatusBoard::new(STATUS_STALE_AFTER);
        let now = Instant::now();
        record(
            &board,
            ledger("b", vec![report(0, PartitionRole::Standby, 1, 9)]),
            now,
        );
        let platform = board.platform(1, now);
        assert!(platform.partitions[0].leaderless);
        assert_eq!(platform.partitions[0].standbys[0].lag, None);
    }

    #[tokio::test]
    async fn silent_sources_go_stale_and_stopped_ones_leave_at_once() {
        let board = StatusBoard::new(Duration::from_secs(3));
        let start = Instant::now();
        record(
            &board,
            ledger("a", vec![report(0, PartitionRole::Leader, 1, 5)]),
            start,
        );
        record(
            &board,
            ledger("b", vec![report(0, PartitionRole::Standby, 0, 5)]),
            start,
        );
        record(&board, gateway("g", 1), start);
        // b keeps talking; a (killed) does not.
        let later = start + Duration::from_secs(2);
        record(
            &board,
            ledger("b", vec![report(0, PartitionRole::Leader, 2, 6)]),
            later,
        );
        let at_3s = start + Duration::from_secs(3);
        assert_eq!(
            board.platform(1, at_3s).partitions[0].standbys.len(),
            1,
            "a not stale yet"
        );
        let past = start + Duration::from_millis(3_001);
        let platform = board.platform(1, past);
        assert_eq!(
            platform.partitions[0]
                .leader
                .as_ref()
                .map(|l| l.node.as_str()),
            Some("b")
        );
        assert!(platform.partitions[0].standbys.is_empty(), "a went stale");
        assert!(platform.gateways.is_empty(), "the gateway went stale");
        // A clean stop leaves at once.
        let stopped = LedgerStatus {
            node: "b".into(),
            partitions: Vec::new(),
            stopped: true,
        };
        board
            .record(
                &ledger_status_subject("b"),
                &serde_json::to_vec(&stopped).expect("encodes"),
                past,
            )
            .expect("recorded");
        assert!(board.platform(1, past).partitions[0].leaderless);
        assert_eq!(board.sources(), 0);
    }

    #[tokio::test]
    async fn the_board_holds_a_bounded_number_of_sources() {
        let board = StatusBoard::bounded(Duration::from_secs(3), 3);
        let start = Instant::now();
        for id in ["g1", "g2", "g3"] {
            record(&board, gateway(id, 0), start);
        }
        let (subject, payload) = gateway("g4", 0);
        assert_eq!(
            board.record(&subject, &payload, start),
            Err(StatusRejected::Full)
        );
        // A known source still updates while full.
        record(&board, gateway("g1", 5), start + Duration::from_secs(2));
        // Once the others are stale, room is made for a new one.
        let later = start + Duration::from_secs(4);
        board
            .record(&subject, &payload, later)
            .expect("room after pruning");
        let ids: Vec<String> = board
            .platform(0, later)
            .gateways
            .into_iter()
            .map(|g| g.id)
            .collect();
        assert_eq!(ids, ["g1", "g4"]);
        assert_eq!(
            StatusBoard::bounded(STATUS_STALE_AFTER, usize::MAX).sources_max,
            STATUS_SOURCES_MAX
        );
    }

    #[tokio::test]
    async fn malformed_oversize_and_mislabelled_messages_are_ignored() {
        let board = StatusBoard::new(STATUS_STALE_AFTER);
        let now = Instant::now();
        let subject = ledger_status_subject("a");
        assert!(matches!(
            board.record(&subject, b"{not json", now),
            Err(StatusRejected::Malformed(_))
        ));
        assert!(matches!(
            board.record(
                &subject,
                br#"{"node":"a","partitions":[{"partition":0}]}"#,
                now
            ),
            Err(StatusRejected::Malformed(_))
        ));
        let big = vec![b' '; STATUS_MESSAGE_BYTES_MAX + 1];
        assert_eq!(
            board.record(&subject, &big, now),
            Err(StatusRejected::Oversize)
        );
        let (_, payload) = ledger("a", Vec::new());
        assert_eq!(
            board.record(&ledger_status_subject("b"), &payload, now),
            Err(StatusRejected::SubjectMismatch)
        );
        assert_eq!(
            board.record("picket.status.other.a", &payload, now),
            Err(StatusRejected::UnknownSubject)
        );
        let (_, gateway_payload) = gateway("a", 1);
        assert!(matches!(
            board.record(&subject, &gateway_payload, now),
            Err(StatusRejected::Malformed(_))
        ));
        let long = "n".repeat(STATUS_ID_LEN_MAX + 1);
        let (long_subject, long_payload) = ledger(&long, Vec::new());
        assert_eq!(
            board.record(&long_subject, &long_payload, now),
            Err(StatusRejected::BadId)
        );
        let many = (0..=STATUS_PARTITIONS_MAX as u16)
            .map(|p| report(p, PartitionRole::Standby, 0, 0))
            .collect();
        let (many_subject, many_payload) = ledger("a", many);
        assert_eq!(
            board.record(&many_subject, &many_payload, now),
            Err(StatusRejected::TooManyPartitions)
        );
        assert_eq!(board.sources(), 0);
    }

    #[test]
    fn a_full_node_status_fits_in_a_status_message() {
        let widest = PartitionReport {
            partition: u16::MAX,
            role: PartitionRole::Standby,
            epoch: u64::MAX,
            journal_seq: u64::MAX,
            leaderless: false,
        };
        let status = LedgerStatus {
            node: "n".repeat(STATUS_ID_LEN_MAX),
            partitions: vec![widest; STATUS_PARTITIONS_MAX],
            stopped: false,
        };
        let bytes = serde_json::to_vec(&status).expect("encodes").len();
        assert!(bytes <= STATUS_MESSAGE_BYTES_MAX, "{bytes} bytes");
    }

    #[test]
    fn ids_become_single_subject_tokens() {
        assert_eq!(
            ledger_status_subject("gw.1 *>x"),
            "picket.status.ledger.gw_1___x"
        );
        assert_eq!(gateway_status_subject("gw-1"), "picket.status.gateway.gw-1");
    }

    #[test]
    fn the_in_process_platform_is_one_gateway_leading_partition_zero() {
        let local = LocalStatus {
            healthy: true,
            role: "leader",
            partition: 0,
            journal_seq: 42,
            store: "sqlite",
            queue_depth: 0,
        };
        let gateway = GatewayView {
            id: "gw".into(),
            connections: 2,
            connections_max: 10,
            seen_ms_ago: 0,
        };
        let platform = Platform::in_process("gw", vec![gateway], &local);
        assert_eq!(platform.transport, Transport::InProcess);
        assert_eq!(platform.gateways.len(), 1);
        assert_eq!(
            platform.partitions[0].leader,
            Some(LeaderView {
                node: "gw".into(),
                epoch: 0,
                journal_seq: 42
            })
        );
        let json = serde_json::to_value(&platform).expect("encodes");
        assert_eq!(json["transport"], "in_process");
    }
}
