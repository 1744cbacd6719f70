//! The NATS protocol, shared by the ledger nodes (`picket-ledger`'s `node`) and their callers
//! ([`crate::client`]). docs/protocol.md ("NATS") documents every subject and message.
//!
//! Per partition `p`:
//! - stream `PICKET_CMD_P<p>`, subject `picket.cmd.p<p>`: booking commands (JSON
//!   [`Request`]), message id `<actor>:<key>` so JetStream drops duplicates within its window,
//!   header `Picket-Reply` naming where the outcome goes ([`CommandTransport::JetStream`]);
//! - `picket.ledger.p<p>.command`: request/reply, one booking command (JSON [`Request`]) straight
//!   to the partition's leader, answered with its [`Reply`] after the commit
//!   ([`CommandTransport::Direct`]); only the leader subscribes, so without one NATS answers
//!   "no responders" at once;
//! - stream `PICKET_EVENTS_P<p>`, subject `picket.events.p<p>`: committed journal entries
//!   (JSON [`Committed`], naming the partition); the stream sequence equals the journal
//!   sequence, so a follower that knows where it stopped reads on from there;
//! - `picket.ledger.p<p>.lookup`: request/reply, the recorded outcome of `(actor, key)`;
//! - `picket.ledger.p<p>.snapshot`: request/reply, every seat map of the partition and the
//!   journal sequence they are as of;
//! - `picket.ledger.p<p>.hold`: request/reply, one hold as the leader's committed state has it
//!   ([`HoldRequest`] → [`HoldReply`]): what a checkout shows and a payment is checked against;
//! - `picket.ledger.p<p>.ticket`: request/reply, one ticket likewise ([`TicketRequest`] →
//!   [`TicketReply`]): what its holder is shown and a door verifies a code against;
//! - `picket.ledger.p<p>.tickets`: request/reply, a page of a performance's tickets by ascending
//!   id ([`TicketsRequest`] → [`TicketsReply`], at most `TICKETS_PAGE_MAX`): what the door's
//!   offline manifest is built from;
//! - `picket.ledger.p<p>.door`: request/reply, a performance's door counters ([`DoorRequest`] →
//!   [`DoorReply`]).
//! - `picket.ledger.p<p>.waitlist`: request/reply, a performance's waitlist numbers and one
//!   buyer's entries with their positions ([`WaitlistRequest`] → [`WaitlistReply`]).
//!
//! Beside the ledger's partitions, the API announces catalog changes (a show published) on the
//! stream [`ANNOUNCEMENTS_STREAM`] for the notifier.

use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use picket_ledger_core::{
    ActorId, Availability, DoorReport, HoldId, HoldView, IdempotencyKey, Outcome, PerformanceId,
    Request, TicketId, TicketView, WaitlistRead,
};
use serde::{Deserialize, Serialize};

pub use crate::nats::{NatsAuth, redact_url};
use crate::wire::Committed;

/// The header naming the subject a command's outcome is published to.
pub const REPLY_HEADER: &str = "Picket-Reply";

/// The partition a performance belongs to: a stable mapping, fixed by the partition count of a
/// deployment (changing the count needs a migration of the journals).
pub fn partition_of(performance: PerformanceId, partitions: u16) -> u16 {
    (performance.0 % u64::from(partitions.max(1))) as u16
}

pub fn command_stream(partition: u16) -> String {
    format!("PICKET_CMD_P{partition}")
}

pub fn command_subject(partition: u16) -> String {
    format!("picket.cmd.p{partition}")
}

/// Where a caller sends a command to the partition's leader over core NATS request-reply.
pub fn command_request_subject(partition: u16) -> String {
    format!("picket.ledger.p{partition}.command")
}

pub fn events_stream(partition: u16) -> String {
    format!("PICKET_EVENTS_P{partition}")
}

pub fn events_subject(partition: u16) -> String {
    format!("picket.events.p{partition}")
}

pub fn lookup_subject(partition: u16) -> String {
    format!("picket.ledger.p{partition}.lookup")
}

pub fn snapshot_subject(partition: u16) -> String {
    format!("picket.ledger.p{partition}.snapshot")
}

pub fn hold_subject(partition: u16) -> String {
    format!("picket.ledger.p{partition}.hold")
}

pub fn ticket_subject(partition: u16) -> String {
    format!("picket.ledger.p{partition}.ticket")
}

pub fn tickets_subject(partition: u16) -> String {
    format!("picket.ledger.p{partition}.tickets")
}

pub fn door_subject(partition: u16) -> String {
    format!("picket.ledger.p{partition}.door")
}

pub fn waitlist_subject(partition: u16) -> String {
    format!("picket.ledger.p{partition}.waitlist")
}

/// JetStream's de-duplication id of a command: idempotency is per actor and key.
pub fn message_id(request: &Request) -> String {
    format!("{}:{}", request.actor.0, request.key.as_str())
}

/// The message id of a committed entry on the events stream.
pub fn event_message_id(partition: u16, seq: u64) -> String {
    format!("p{partition}.{seq}")
}

/// The JetStream stream of catalog announcements (the notifier's interest alerts) and the
/// subjects it holds.
pub const ANNOUNCEMENTS_STREAM: &str = "PICKET_CATALOG";
pub const ANNOUNCEMENTS_SUBJECTS: &str = "picket.catalog.>";
/// A show was published (JSON `ShowPublished` of the API).
pub const SHOW_PUBLISHED_SUBJECT: &str = "picket.catalog.show_published";
/// JetStream's de-duplication id of a show's announcement: publishing it again is a no-op.
pub fn show_published_message_id(show: i64) -> String {
    format!("show-published-{show}")
}

/// Announcements kept at most this long.
pub const ANNOUNCEMENTS_AGE_MAX: Duration = Duration::from_secs(30 * 24 * 3_600);

/// Creates the announcements stream if it does not exist.
pub async fn ensure_announcements(js: &jetstream::Context) -> Result<(), BusError> {
    js.get_or_create_stream(stream::Config {
        name: ANNOUNCEMENTS_STREAM.into(),
        subjects: vec![ANNOUNCEMENTS_SUBJECTS.into()],
        max_age: ANNOUNCEMENTS_AGE_MAX,
        storage: stream::StorageType::File,
        ..Default::default()
    })
    .await
    .map(|_| ())
    .map_err(BusError::jetstream)
}

/// What a ledger node answers about a command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "reply", rename_all = "snake_case")]
pub enum Reply {
    /// The committed outcome.
    Outcome { outcome: Outcome },
    /// Not executed yet (a lookup that came before the command was committed).
    Pending,
    /// The command could not be read; it is skipped.
    Invalid { reason: String },
    /// The command belongs to another partition.
    WrongPartition { partition: u16 },
    /// This node stopped leading before the command was committed: ask again.
    Unavailable,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LookupRequest {
    pub actor: ActorId,
    pub key: IdempotencyKey,
}

/// Asks a partition's leader for one hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldRequest {
    pub performance: PerformanceId,
    pub hold: HoldId,
}

/// The leader's answer to a [`HoldRequest`]: `hold` is `None` when it has no such hold.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HoldReply {
    pub hold: Option<HoldView>,
}

/// Asks a partition's leader for one ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketRequest {
    pub performance: PerformanceId,
    pub ticket: TicketId,
}

/// The leader's answer to a [`TicketRequest`]: `ticket` is `None` when the performance has no
/// such ticket.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketReply {
    pub ticket: Option<TicketView>,
}

/// Asks a partition's leader for a page of a performance's tickets: those with an id above
/// `after` (from the first when `None`), at most `limit` (the leader answers at most
/// `TICKETS_PAGE_MAX`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketsRequest {
    pub performance: PerformanceId,
    pub after: Option<TicketId>,
    pub limit: u32,
}

/// The leader's answer to a [`TicketsRequest`]: by ascending id, shorter than asked on the last
/// page; `tickets` is `None` when the partition has no such performance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TicketsReply {
    pub tickets: Option<Vec<TicketView>>,
}

/// Asks a partition's leader for a performance's door counters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorRequest {
    pub performance: PerformanceId,
}

/// The leader's answer to a [`DoorRequest`]: `door` is `None` when the partition has no such
/// performance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DoorReply {
    pub door: Option<DoorReport>,
}

/// Asks a partition's leader for a performance's waitlist report and, when `buyer` is set,
/// that buyer's live entries with their positions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistRequest {
    pub performance: PerformanceId,
    pub buyer: Option<ActorId>,
}

/// The leader's answer to a [`WaitlistRequest`]: `waitlist` is `None` when the partition has
/// no such performance. At most `WAITLIST_ENTRIES_PER_BUYER_MAX` entries and
/// `GRADES_PER_PERFORMANCE_MAX` sizes, so it stays small.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistReply {
    pub waitlist: Option<WaitlistRead>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SnapshotReply {
    pub partition: u16,
    pub seq: u64,
    pub availability: Vec<Availability>,
}

/// How callers send commands to a partition's leader. A leader serves both at once, so callers
/// of either kind may share a deployment (say, while switching).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CommandTransport {
    /// Published to the partition's command stream (`PICKET_CMD_P<p>`), which JetStream stores
    /// before it acknowledges; the leader reads the stream in order and replies on the
    /// `Picket-Reply` subject. A published command takes effect once even if its caller gives
    /// up.
    JetStream,
    /// A core NATS request to `picket.ledger.p<p>.command`, which only the leader subscribes to:
    /// nothing is stored but the journal entry. A request lost with its leader is sent again
    /// with the same key (the core answers a repeated key with its recorded outcome), and a
    /// deposed leader cannot commit (fencing), so it answers `Unavailable`, never an outcome
    /// the journal lacks.
    #[default]
    Direct,
}

impl CommandTransport {
    pub fn as_str(self) -> &'static str {
        match self {
            CommandTransport::JetStream => "jetstream",
            CommandTransport::Direct => "direct",
        }
    }
}

impl std::str::FromStr for CommandTransport {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "jetstream" => Ok(CommandTransport::JetStream),
            "direct" => Ok(CommandTransport::Direct),
            other => Err(format!(
                "command transport must be jetstream or direct, got {other:?}"
            )),
        }
    }
}

/// Named limits of the NATS transport.
#[derive(Clone)]
pub struct BusConfig {
    /// `nats://` or `tls://`, one server or several separated by commas; may carry
    /// `user:password` (never logged: see [`redact_url`]).
    pub url: String,
    /// TLS and credentials files ([`connect_with`]).
    pub auth: NatsAuth,
    /// How callers send commands (leaders serve both).
    pub command_transport: CommandTransport,
    /// Partitions in the deployment (the mapping's modulus).
    pub partitions: u16,
    /// JetStream drops a command whose message id it saw within this window. Shorter than the
    /// ledger's own key retention (24 h), which answers retries after the window.
    pub duplicate_window: Duration,
    /// Commands and events kept in the streams at most this long.
    pub stream_age_max: Duration,
    /// Messages kept per stream at most.
    pub stream_messages_max: i64,
    /// Largest command or event message: NATS's default `max_payload` (1 MiB), which the server
    /// enforces on every publish anyway. The largest messages are a performance's spec (the
    /// command that opens it, then its journal entry): the API keeps a venue's seats within
    /// `picket_api::venues::SPEC_SEATS_JSON_BYTES_MAX` (768 KiB) of it, so a 50,000-seat
    /// stadium (about 330 KB) fits.
    pub message_bytes_max: i32,
    /// How long a caller waits for a publish acknowledgement, a reply, or a lookup.
    pub request_timeout: Duration,
    /// How long a caller keeps asking for a command's outcome before it gives up (the command
    /// stays in the stream and takes effect once; a retry with the same key learns its outcome).
    pub outcome_wait_max: Duration,
    /// Commands a leader has read (from the stream or its command subject) but not yet
    /// answered.
    pub inflight_max: usize,
    /// Event publishes a leader has in flight (not yet acknowledged by JetStream).
    pub events_inflight_max: usize,
}

impl BusConfig {
    pub fn new(url: impl Into<String>, partitions: u16) -> Self {
        BusConfig {
            url: url.into(),
            auth: NatsAuth::default(),
            command_transport: CommandTransport::default(),
            partitions: partitions.max(1),
            duplicate_window: Duration::from_secs(120),
            stream_age_max: Duration::from_secs(24 * 3_600),
            stream_messages_max: 10_000_000,
            message_bytes_max: 1_024 * 1_024,
            request_timeout: Duration::from_secs(2),
            outcome_wait_max: Duration::from_secs(10),
            inflight_max: 4_096,
            events_inflight_max: 512,
        }
    }
}

impl std::fmt::Debug for BusConfig {
    /// The URL's password is replaced: a configuration may be logged.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let BusConfig {
            url,
            auth,
            command_transport,
            partitions,
            duplicate_window,
            stream_age_max,
            stream_messages_max,
            message_bytes_max,
            request_timeout,
            outcome_wait_max,
            inflight_max,
            events_inflight_max,
        } = self;
        f.debug_struct("BusConfig")
            .field("url", &redact_url(url))
            .field("auth", auth)
            .field("command_transport", command_transport)
            .field("partitions", partitions)
            .field("duplicate_window", duplicate_window)
            .field("stream_age_max", stream_age_max)
            .field("stream_messages_max", stream_messages_max)
            .field("message_bytes_max", message_bytes_max)
            .field("request_timeout", request_timeout)
            .field("outcome_wait_max", outcome_wait_max)
            .field("inflight_max", inflight_max)
            .field("events_inflight_max", events_inflight_max)
            .finish()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// Why `connect_with` failed; the text names NATS, the URL (its password hidden) and the
    /// setting to check.
    #[error("{0}")]
    Connect(String),
    #[error("JetStream: {0}")]
    JetStream(String),
    #[error("NATS request failed: {0}")]
    Request(String),
}

impl BusError {
    pub fn jetstream(error: impl std::fmt::Display) -> Self {
        BusError::JetStream(error.to_string())
    }
}

/// Connects with no TLS settings or credentials files (tests and tools on a private server;
/// `user:password` in the URL still works): [`connect_with`] with [`NatsAuth::default`].
pub async fn connect(url: &str, name: &str) -> Result<async_nats::Client, BusError> {
    connect_with(url, &NatsAuth::default(), name).await
}

/// How every role connects to NATS: TLS verified against `auth`'s CA file, its client
/// certificate and credentials (`crate::nats`). A first attempt refused for TLS or credentials
/// is an error at once; without a server yet it connects in the background, and the client
/// reconnects by itself whenever the server goes away.
pub async fn connect_with(
    url: &str,
    auth: &NatsAuth,
    name: &str,
) -> Result<async_nats::Client, BusError> {
    crate::nats::connect(url, auth, name)
        .await
        .map_err(|e| BusError::Connect(e.to_string()))
}

/// Creates the partition's command and event streams, or brings an existing stream's limits
/// up to `config` (a deployment whose streams were made with a smaller `message_bytes_max`).
pub async fn ensure_streams(
    js: &jetstream::Context,
    partition: u16,
    config: &BusConfig,
) -> Result<(), BusError> {
    for (name, subject, window) in [
        (
            command_stream(partition),
            command_subject(partition),
            config.duplicate_window,
        ),
        (
            events_stream(partition),
            events_subject(partition),
            config.duplicate_window,
        ),
    ] {
        js.create_or_update_stream(stream::Config {
            name,
            subjects: vec![subject],
            duplicate_window: window,
            max_age: config.stream_age_max,
            max_messages: config.stream_messages_max,
            max_message_size: config.message_bytes_max,
            storage: stream::StorageType::File,
            ..Default::default()
        })
        .await
        .map_err(BusError::jetstream)?;
    }
    Ok(())
}

/// Reads the stream named `stream` in order from stream sequence `after + 1` on: how a leader
/// consumes its command stream and how callers read a partition's events stream (whose sequence
/// is the journal's). An ordered consumer is ephemeral and recreates itself after a gap, so the
/// messages come in stream order; a reader still skips sequences it has seen.
pub async fn read_in_order(
    js: &jetstream::Context,
    stream: String,
    after: u64,
) -> Result<consumer::pull::Ordered, BusError> {
    js.get_stream(stream)
        .await
        .map_err(BusError::jetstream)?
        .create_consumer(consumer::pull::OrderedConfig {
            deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                start_sequence: after + 1,
            },
            ..Default::default()
        })
        .await
        .map_err(BusError::jetstream)?
        .messages()
        .await
        .map_err(BusError::jetstream)
}

/// One entry of a partition's events stream, labelled with its partition (the stream is per
/// partition, and entries published before partitions were named lack it).
pub fn decode_entry(partition: u16, payload: &[u8]) -> Result<Committed, BusError> {
    let mut committed = crate::wire::decode_committed(payload)
        .map_err(|e| BusError::JetStream(format!("bad event entry: {e}")))?;
    committed.partition = partition;
    Ok(committed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use picket_ledger_core::limits::{
        DOOR_REPORT_CONFLICTS_MAX, DOOR_REPORT_GATE_MINUTES_MAX, TICKETS_PAGE_MAX,
    };
    use picket_ledger_core::{
        BookingId, Conflict, Direction, DiscountId, GateId, GateMinute, GradeId, Place, Scan,
        ScanSource, SeatId,
    };

    /// NATS's default `max_payload`: a core request or reply larger than this is refused.
    const NATS_PAYLOAD_DEFAULT: usize = 1 << 20;

    /// A ticket whose every number is as wide as JSON can write it.
    fn widest_ticket() -> TicketView {
        TicketView {
            performance: PerformanceId(u64::MAX),
            ticket: TicketId(u64::MAX),
            booking: BookingId(u64::MAX),
            place: Place::Seat(SeatId(u32::MAX)),
            grade: GradeId(u16::MAX),
            holder: ActorId(u64::MAX),
            generation: u8::MAX,
            rebinds: u8::MAX,
            cancelled: false,
            discount: Some(DiscountId(u16::MAX)),
        }
    }

    #[test]
    fn a_full_tickets_page_stays_far_under_a_nats_message() {
        let one = serde_json::to_vec(&widest_ticket()).expect("encodes").len();
        // Measured, not assumed: the bound's doc comment says about 330 bytes.
        assert!(one <= 330, "one TicketView is {one} bytes");
        let reply = TicketsReply {
            tickets: Some(vec![widest_ticket(); TICKETS_PAGE_MAX]),
        };
        let page = serde_json::to_vec(&reply).expect("encodes").len();
        assert!(page >= one * TICKETS_PAGE_MAX, "{page}");
        assert!(
            page <= NATS_PAYLOAD_DEFAULT / 3,
            "a page of {TICKETS_PAGE_MAX} is {page} bytes"
        );
    }

    #[test]
    fn a_full_door_report_stays_under_half_a_nats_message() {
        let scan = |nonce| Scan {
            at_ms: u64::MAX,
            gate: GateId(u16::MAX),
            direction: Direction::Entry,
            source: ScanSource::Offline {
                scanner: u64::MAX,
                nonce,
            },
        };
        let report = DoorReport {
            performance: PerformanceId(u64::MAX),
            by_gate_minute: vec![
                GateMinute {
                    gate: GateId(u16::MAX),
                    minute_ms: u64::MAX,
                    admitted: u32::MAX,
                };
                DOOR_REPORT_GATE_MINUTES_MAX
            ],
            admitted: u32::MAX,
            inside: u32::MAX,
            no_shows: u32::MAX,
            conflicts: vec![
                Conflict {
                    ticket: TicketId(u64::MAX),
                    kept: scan(u64::MAX),
                    duplicate: scan(u64::MAX - 1),
                };
                DOOR_REPORT_CONFLICTS_MAX
            ],
            conflicts_total: u32::MAX,
        };
        let bytes = serde_json::to_vec(&DoorReply { door: Some(report) })
            .expect("encodes")
            .len();
        assert!(
            bytes <= NATS_PAYLOAD_DEFAULT / 2,
            "a full report is {bytes} bytes"
        );
    }

    #[test]
    fn a_full_waitlist_read_stays_far_under_a_nats_message() {
        use picket_ledger_core::limits::{
            GRADES_PER_PERFORMANCE_MAX, WAITLIST_ENTRIES_PER_BUYER_MAX,
        };
        use picket_ledger_core::{
            HoldId, WaitlistEntryId, WaitlistEntryView, WaitlistMode, WaitlistPosition,
            WaitlistReport, WaitlistSizes,
        };
        let entry = WaitlistEntryView {
            entry: WaitlistEntryId(u64::MAX),
            grade: Some(GradeId(u16::MAX)),
            quantity: u16::MAX,
            together: true,
            // The widest mode a buyer can have: a billing reference of the longest allowed.
            mode: WaitlistMode::AutoPay {
                billing_ref: "b".repeat(picket_ledger_core::limits::BILLING_REF_LEN_MAX),
            },
            joined_at_ms: u64::MAX,
            offer: Some(HoldId(u64::MAX)),
            position: Some(WaitlistPosition {
                overall: u32::MAX,
                in_grade: u32::MAX,
            }),
        };
        let read = WaitlistRead {
            report: WaitlistReport {
                enabled: true,
                waiting: WaitlistSizes {
                    per_grade: vec![u32::MAX; GRADES_PER_PERFORMANCE_MAX],
                    any_grade: u32::MAX,
                },
                offers_open: u32::MAX,
                places_offered: u64::MAX,
                places_booked: u64::MAX,
                places_reserved: u64::MAX,
            },
            entries: vec![entry; usize::from(WAITLIST_ENTRIES_PER_BUYER_MAX)],
        };
        let bytes = serde_json::to_vec(&WaitlistReply {
            waitlist: Some(read),
        })
        .expect("encodes")
        .len();
        assert!(bytes <= 4_096, "a full waitlist read is {bytes} bytes");
    }

    #[test]
    fn every_performance_maps_to_one_partition_in_range() {
        for partitions in 1..8u16 {
            for id in 0..1_000u64 {
                let p = partition_of(PerformanceId(id), partitions);
                assert!(p < partitions);
                assert_eq!(p, partition_of(PerformanceId(id), partitions), "stable");
            }
        }
        assert_eq!(
            partition_of(PerformanceId(5), 0),
            0,
            "zero partitions means one"
        );
    }

    #[test]
    fn command_transports_parse_from_their_names_only() {
        for transport in [CommandTransport::JetStream, CommandTransport::Direct] {
            assert_eq!(transport.as_str().parse(), Ok(transport));
        }
        assert!("JetStream".parse::<CommandTransport>().is_err());
        assert!("".parse::<CommandTransport>().is_err());
        assert_ne!(command_request_subject(2), command_subject(2));
        assert_eq!(command_request_subject(2), "picket.ledger.p2.command");
    }

    #[test]
    fn replies_round_trip_as_json() {
        let replies = [
            Reply::Pending,
            Reply::Unavailable,
            Reply::WrongPartition { partition: 3 },
            Reply::Invalid {
                reason: "bad".into(),
            },
        ];
        for reply in replies {
            let text = serde_json::to_string(&reply).expect("encode");
            assert_eq!(serde_json::from_str::<Reply>(&text).expect("decode"), reply);
        }
    }
}
