//! The scanner's stream (docs/protocol.md, "The scanner's stream"): `GET
//! /api/v2/performances/{id}/scanner`, a WebSocket over which a door's scanner sends the codes
//! it reads and gets each one's typed result, several scans in flight at once, answered by the
//! id the scanner gave each.
//!
//! A browser cannot set `Authorization` on a WebSocket, so the stream authenticates as the
//! gateway's does: the first message is `hello` with the session token. Each scan is the HTTP
//! route's scan ([`crate::tickets::scan_code`]): the session and the account's right to scan
//! the show are checked again for every scan, so a session signed out or a staff assignment
//! withdrawn stops the stream at its next scan.
//!
//! The pure part (decoding a message, the rate limit's bucket) is apart from the socket loop so
//! it is tested without one.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::response::Response;
use picket_edge::id::Id;
use serde_json::{Value, json};
use tokio::task::JoinSet;

use crate::auth::authenticate;
use crate::error::ApiError;
use crate::json::Path;
use crate::state::Api;
use crate::tickets::{ScanForm, door_staff, scan_code};

/// Longest message a scanner may send, in bytes: a scan is about 150 and `hello` about 250
/// (the session token). A longer one is answered `too_big` and the stream goes on.
pub const SCANNER_MESSAGE_BYTES_MAX: usize = 1_024;
/// Longest message or frame the socket reads at all: past it the stream is closed with 1009.
/// Between [`SCANNER_MESSAGE_BYTES_MAX`] and this a message is read and refused, so a scanner
/// sent something odd by a bad QR read is told so without losing its stream.
pub const SCANNER_FRAME_BYTES_MAX: usize = 64 * 1_024;
/// Scans of one stream in flight (sent, not yet answered): one more is answered
/// `too_many_in_flight` and not scanned.
pub const SCANNER_IN_FLIGHT_MAX: usize = 32;
/// Messages answered `rate_limited` in a row before the stream is closed with 4008.
pub const SCANNER_FLOOD_STRIKES_MAX: u32 = 20;
/// How long a new stream has to send a valid `hello`: then it is closed with 4001.
pub const SCANNER_HELLO_TIMEOUT_MS: u64 = 10_000;
/// How often the server pings; pongs (and any message) count as heard.
pub const SCANNER_PING_INTERVAL_MS: u64 = 15_000;
/// Nothing heard from the scanner for this long: closed with 4000.
pub const SCANNER_IDLE_TIMEOUT_MS: u64 = 45_000;
/// Longest a write to the scanner may take: past it the stream is closed with 4009.
pub const SCANNER_WRITE_TIMEOUT_MS: u64 = 10_000;
/// After the server's close frame, how long it reads (and drops) what the scanner still sends
/// until the scanner's close frame answers.
pub const SCANNER_CLOSE_TIMEOUT_MS: u64 = 2_000;

/// How often the loop looks at its timers (hello, idle, ping).
const TIMER_TICK: Duration = Duration::from_millis(500);

/// Close codes of the stream (docs/protocol.md lists them).
pub mod close {
    /// The scanner's frames broke RFC 6455.
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// A text message that is not UTF-8.
    pub const INVALID_DATA: u16 = 1007;
    /// A message or frame over [`super::SCANNER_FRAME_BYTES_MAX`].
    pub const TOO_BIG: u16 = 1009;
    /// The server could not check the session or the staff (its storage is down).
    pub const SERVER_ERROR: u16 = 1011;
    /// Nothing heard within [`super::SCANNER_IDLE_TIMEOUT_MS`].
    pub const IDLE_TIMEOUT: u16 = 4000;
    /// No valid `hello` in time, its token refused, or the session ended.
    pub const NOT_AUTHENTICATED: u16 = 4001;
    /// The account may not scan this show (not its staff, seller or an admin).
    pub const FORBIDDEN: u16 = 4003;
    /// Kept sending after `rate_limited`.
    pub const FLOOD: u16 = 4008;
    /// Did not read its answers: a write took longer than [`super::SCANNER_WRITE_TIMEOUT_MS`].
    pub const SLOW_READER: u16 = 4009;
}

/// `GET /api/v2/performances/{id}/scanner`: the upgrade. A request that is not a WebSocket
/// upgrade is 426; an unknown performance 404 (before any upgrade, so a scanner set up with a
/// wrong id learns it at once).
pub async fn upgrade(
    State(api): State<Arc<Api>>,
    Path(Id(performance)): Path<Id<i64>>,
    ws: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let ws = ws.map_err(|_| ApiError::WebSocketRequired)?;
    api.store
        .performance_show(performance)
        .await?
        .ok_or(ApiError::NotFound("performance"))?;
    Ok(ws
        .max_message_size(SCANNER_FRAME_BYTES_MAX)
        .max_frame_size(SCANNER_FRAME_BYTES_MAX)
        .on_upgrade(move |socket| serve(api, performance, socket)))
}

/// A message from the scanner, decoded.
#[derive(Debug)]
pub enum ScannerMessage {
    Hello { token: String },
    Scan { id: u32, form: ScanForm },
}

/// Why a message was not acted on: `error.code` and, when the message carried a valid id, the
/// id, so the scanner knows which scan the error answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MessageError {
    pub id: Option<u32>,
    pub code: &'static str,
    pub message: String,
}

impl MessageError {
    fn new(id: Option<u32>, code: &'static str, message: impl Into<String>) -> MessageError {
        MessageError {
            id,
            code,
            message: message.into(),
        }
    }
}

/// Decodes one text message: `hello {token}` or `scan {id, code, gate, direction,
/// proof_checked}`, nothing else, no unknown field.
pub fn decode(text: &str) -> Result<ScannerMessage, MessageError> {
    if text.len() > SCANNER_MESSAGE_BYTES_MAX {
        return Err(MessageError::new(
            None,
            "too_big",
            format!(
                "메시지는 {SCANNER_MESSAGE_BYTES_MAX}바이트까지입니다 / a message takes at most \
                 {SCANNER_MESSAGE_BYTES_MAX} bytes"
            ),
        ));
    }
    let Ok(Value::Object(mut fields)) = serde_json::from_str::<Value>(text) else {
        return Err(MessageError::new(
            None,
            "bad_json",
            "메시지는 JSON 객체여야 합니다 / a message is one JSON object",
        ));
    };
    let kind = fields.remove("type");
    let id = fields.get("id").and_then(Value::as_u64);
    let id = id.and_then(|id| u32::try_from(id).ok());
    let invalid = |id: Option<u32>, error: serde_json::Error| {
        MessageError::new(
            id,
            "invalid_field",
            format!("메시지의 필드가 잘못되었습니다 / a field is wrong: {error}"),
        )
    };
    match kind.as_ref().and_then(Value::as_str) {
        Some("hello") => {
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Hello {
                token: String,
            }
            let hello: Hello =
                serde_json::from_value(Value::Object(fields)).map_err(|e| invalid(None, e))?;
            Ok(ScannerMessage::Hello { token: hello.token })
        }
        Some("scan") => {
            let Some(id) = id else {
                return Err(MessageError::new(
                    None,
                    "invalid_field",
                    "scan에는 0부터 4294967295까지의 숫자 id가 필요합니다 / a scan needs an \
                     id, a number from 0 to 4294967295",
                ));
            };
            fields.remove("id");
            let form: ScanForm =
                serde_json::from_value(Value::Object(fields)).map_err(|e| invalid(Some(id), e))?;
            Ok(ScannerMessage::Scan { id, form })
        }
        _ => Err(MessageError::new(
            id,
            "unknown_type",
            "type은 hello 또는 scan입니다 / type is hello or scan",
        )),
    }
}

/// Whether scan `id` may start: after `hello`, with no other scan of that id in flight, and
/// fewer than [`SCANNER_IN_FLIGHT_MAX`] in flight.
pub fn may_scan(authenticated: bool, in_flight: &[u32], id: u32) -> Result<(), MessageError> {
    if !authenticated {
        Err(MessageError::new(
            Some(id),
            "not_authenticated",
            "먼저 hello를 보내세요 / send hello first",
        ))
    } else if in_flight.contains(&id) {
        Err(MessageError::new(
            Some(id),
            "duplicate_id",
            "이 id의 스캔이 아직 진행 중입니다 / a scan with this id is still in flight",
        ))
    } else if in_flight.len() >= SCANNER_IN_FLIGHT_MAX {
        Err(MessageError::new(
            Some(id),
            "too_many_in_flight",
            format!(
                "응답을 기다리는 스캔은 {SCANNER_IN_FLIGHT_MAX}개까지입니다 / at most \
                 {SCANNER_IN_FLIGHT_MAX} scans in flight"
            ),
        ))
    } else {
        Ok(())
    }
}

/// A per-stream token bucket, on the caller's clock.
#[derive(Debug)]
pub struct Bucket {
    per_sec: f64,
    burst: f64,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    pub fn new(per_sec: u32, burst: u32, now: Instant) -> Bucket {
        Bucket {
            per_sec: f64::from(per_sec.max(1)),
            burst: f64::from(burst.max(1)),
            tokens: f64::from(burst.max(1)),
            at: now,
        }
    }

    /// Takes one token; when there is none, how long until there is (ms).
    pub fn take(&mut self, now: Instant) -> Result<(), u64> {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.at = now;
        self.tokens = (self.tokens + elapsed * self.per_sec).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            Ok(())
        } else {
            Err((((1.0 - self.tokens) / self.per_sec) * 1_000.0).ceil() as u64)
        }
    }
}

fn error_message(error: &MessageError) -> Message {
    text_message(json!({"type": "error", "id": error.id, "code": error.code,
        "message": error.message}))
}

fn text_message(value: Value) -> Message {
    Message::Text(value.to_string().into())
}

/// An error of the scan itself (not a door's result), as the stream's error.
fn scan_error(id: Option<u32>, error: &ApiError) -> Value {
    let mut message = json!({"type": "error", "id": id, "code": error.code(),
        "message": error.to_string()});
    if let ApiError::Rejected(rejection) = error {
        message["reason"] = json!(rejection.code());
    }
    message
}

/// Why the stream ends: the close frame to send, if any.
type Ending = Option<(u16, &'static str)>;

/// What an error of a scan or `hello` means for the stream: the session or the right to scan
/// gone closes it; anything else is answered and the stream goes on.
fn ending_of(error: &ApiError) -> Option<Ending> {
    match error {
        ApiError::Unauthenticated => Some(Some((close::NOT_AUTHENTICATED, "not authenticated"))),
        ApiError::Forbidden => Some(Some((close::FORBIDDEN, "not staff of this show"))),
        _ => None,
    }
}

/// A scan's id and its answer (a door's result, or what kept it from one).
type Scanned = (u32, Result<Value, ApiError>);

struct Stream {
    api: Arc<Api>,
    performance: i64,
    token: Option<String>,
    bucket: Bucket,
    strikes: u32,
    opened: Instant,
    last_heard: Instant,
    last_ping: Instant,
    scans: JoinSet<Scanned>,
    /// The scanner's id of each scan in flight, by task.
    in_flight: HashMap<tokio::task::Id, u32>,
}

async fn serve(api: Arc<Api>, performance: i64, mut socket: WebSocket) {
    let now = Instant::now();
    let mut stream = Stream {
        bucket: Bucket::new(
            api.config.scanner_messages_per_sec,
            api.config.scanner_messages_burst,
            now,
        ),
        api,
        performance,
        token: None,
        strikes: 0,
        opened: now,
        last_heard: now,
        last_ping: now,
        scans: JoinSet::new(),
        in_flight: HashMap::new(),
    };
    let ending = stream.run(&mut socket).await;
    // Scans still in flight are dropped with the stream: the ledger may have recorded them,
    // and a scan again is answered `already_used` with when and at which gate.
    stream.scans.abort_all();
    let close_timeout = Duration::from_millis(SCANNER_CLOSE_TIMEOUT_MS);
    if let Some((code, reason)) = ending {
        let frame = Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }));
        let write_timeout = Duration::from_millis(SCANNER_WRITE_TIMEOUT_MS);
        let sent = tokio::time::timeout(write_timeout, socket.send(frame)).await;
        if matches!(sent, Ok(Ok(()))) {
            // Read until the scanner's close frame answers (RFC 6455's closing handshake), so
            // the kernel does not reset a connection with unread data and lose the frame.
            let _ = tokio::time::timeout(close_timeout, async {
                while let Some(Ok(frame)) = socket.recv().await {
                    if matches!(frame, Message::Close(_)) {
                        break;
                    }
                }
            })
            .await;
        }
    } else {
        // The scanner closed (tungstenite queued the echo of its close frame, which the next
        // read writes) or the connection failed.
        let _ = tokio::time::timeout(close_timeout, socket.recv()).await;
    }
}

impl Stream {
    async fn run(&mut self, socket: &mut WebSocket) -> Ending {
        let mut timer = tokio::time::interval(TIMER_TICK);
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                biased;
                Some(done) = self.scans.join_next_with_id(), if !self.scans.is_empty() => {
                    if let Some(ending) = self.on_scanned(socket, done).await {
                        return ending;
                    }
                }
                frame = socket.recv() => match frame {
                    Some(Ok(frame)) => {
                        if let Some(ending) = self.on_frame(socket, frame).await {
                            return ending;
                        }
                    }
                    Some(Err(error)) => return frame_error(&error),
                    None => return None,
                },
                _ = timer.tick() => {
                    if let Some(ending) = self.on_timer(socket).await {
                        return ending;
                    }
                }
            }
        }
    }

    /// Writes one message, bounded in time: a scanner that does not read is closed.
    async fn write(&mut self, socket: &mut WebSocket, message: Message) -> Option<Ending> {
        let timeout = Duration::from_millis(SCANNER_WRITE_TIMEOUT_MS);
        match tokio::time::timeout(timeout, socket.send(message)).await {
            Ok(Ok(())) => None,
            Ok(Err(_)) => Some(None),
            Err(_) => Some(Some((close::SLOW_READER, "slow reader"))),
        }
    }

    async fn on_timer(&mut self, socket: &mut WebSocket) -> Option<Ending> {
        let elapsed_ms = |since: Instant| since.elapsed().as_millis() as u64;
        if self.token.is_none() && elapsed_ms(self.opened) > SCANNER_HELLO_TIMEOUT_MS {
            return Some(Some((close::NOT_AUTHENTICATED, "no hello")));
        }
        if elapsed_ms(self.last_heard) > SCANNER_IDLE_TIMEOUT_MS {
            return Some(Some((close::IDLE_TIMEOUT, "idle")));
        }
        if elapsed_ms(self.last_ping) >= SCANNER_PING_INTERVAL_MS {
            self.last_ping = Instant::now();
            return self.write(socket, Message::Ping(Default::default())).await;
        }
        None
    }

    async fn on_frame(&mut self, socket: &mut WebSocket, frame: Message) -> Option<Ending> {
        let now = Instant::now();
        self.last_heard = now;
        let text = match frame {
            Message::Text(text) => Some(text),
            Message::Binary(_) => None,
            Message::Ping(_) | Message::Pong(_) => return None,
            Message::Close(_) => return Some(None),
        };
        if let Err(retry_after_ms) = self.bucket.take(now) {
            self.strikes += 1;
            if self.strikes > SCANNER_FLOOD_STRIKES_MAX {
                return Some(Some((close::FLOOD, "flood")));
            }
            // The scan's id, when there is one, so the scanner knows which to send again.
            let id = text
                .as_ref()
                .and_then(|text| decode(text.as_str()).ok())
                .and_then(|message| match message {
                    ScannerMessage::Scan { id, .. } => Some(id),
                    ScannerMessage::Hello { .. } => None,
                });
            let message = json!({"type": "error", "id": id, "code": "rate_limited",
                "message": "너무 빠릅니다. 잠시 후 다시 보내세요 / too fast: send again later",
                "retry_after_ms": retry_after_ms});
            return self.write(socket, text_message(message)).await;
        }
        self.strikes = 0;
        let Some(text) = text else {
            let error = MessageError::new(
                None,
                "binary_not_supported",
                "메시지는 JSON 텍스트입니다 / messages are JSON text frames",
            );
            return self.write(socket, error_message(&error)).await;
        };
        match decode(text.as_str()) {
            Ok(ScannerMessage::Hello { token }) => self.on_hello(socket, token).await,
            Ok(ScannerMessage::Scan { id, form }) => self.on_scan(socket, id, form).await,
            Err(error) => self.write(socket, error_message(&error)).await,
        }
    }

    async fn on_hello(&mut self, socket: &mut WebSocket, token: String) -> Option<Ending> {
        if self.token.is_some() {
            let error = MessageError::new(
                None,
                "already_authenticated",
                "이미 인증되었습니다 / hello was already accepted",
            );
            return self.write(socket, error_message(&error)).await;
        }
        let checked = match authenticate(&self.api, Some(&token)).await {
            Ok(who) => door_staff(&self.api, &who, self.performance)
                .await
                .map(|()| who),
            Err(error) => Err(error),
        };
        let who = match checked {
            Ok(who) => who,
            Err(error) => {
                let ending = ending_of(&error)
                    .unwrap_or(Some((close::SERVER_ERROR, "the session was not checked")));
                if let Some(closed) = self
                    .write(socket, text_message(scan_error(None, &error)))
                    .await
                {
                    return Some(closed);
                }
                return Some(ending);
            }
        };
        self.token = Some(token);
        let config = &self.api.config;
        let welcome = json!({"type": "welcome", "performance": Id(self.performance as u64),
        "account": Id(who.account_id as u64), "role": who.role.as_str(),
        "limits": {
            "message_bytes_max": SCANNER_MESSAGE_BYTES_MAX,
            "in_flight_max": SCANNER_IN_FLIGHT_MAX,
            "messages_per_sec": config.scanner_messages_per_sec,
            "messages_burst": config.scanner_messages_burst,
            "ping_interval_ms": SCANNER_PING_INTERVAL_MS,
            "idle_timeout_ms": SCANNER_IDLE_TIMEOUT_MS,
        }});
        self.write(socket, text_message(welcome)).await
    }

    async fn on_scan(&mut self, socket: &mut WebSocket, id: u32, form: ScanForm) -> Option<Ending> {
        let in_flight: Vec<u32> = self.in_flight.values().copied().collect();
        if let Err(refusal) = may_scan(self.token.is_some(), &in_flight, id) {
            return self.write(socket, error_message(&refusal)).await;
        }
        let api = self.api.clone();
        let token = self.token.clone().unwrap_or_default();
        let performance = self.performance;
        let task = self.scans.spawn(async move {
            let result = match authenticate(&api, Some(&token)).await {
                Ok(who) => scan_code(&api, &who, performance, &form).await,
                Err(error) => Err(error),
            };
            (id, result)
        });
        self.in_flight.insert(task.id(), id);
        None
    }

    async fn on_scanned(
        &mut self,
        socket: &mut WebSocket,
        done: Result<(tokio::task::Id, Scanned), tokio::task::JoinError>,
    ) -> Option<Ending> {
        let (task, outcome) = match done {
            Ok((task, (_, outcome))) => (task, outcome),
            Err(failed) => (
                failed.id(),
                Err(ApiError::Internal(format!("the scan failed: {failed}"))),
            ),
        };
        let id = self.in_flight.remove(&task);
        let message = match outcome {
            Ok(mut result) => {
                result["type"] = json!("result");
                result["id"] = json!(id);
                result
            }
            Err(error) => {
                if let ApiError::Internal(detail) | ApiError::QueueUnavailable(detail) = &error {
                    tracing::error!(%detail, "a scanner's scan failed");
                }
                let ending = ending_of(&error);
                let message = scan_error(id, &error);
                if let Some(ending) = ending {
                    if let Some(closed) = self.write(socket, text_message(message)).await {
                        return Some(closed);
                    }
                    return Some(ending);
                }
                message
            }
        };
        self.write(socket, text_message(message)).await
    }
}

/// The close a broken frame earns (RFC 6455 section 7.4.1); None when the connection itself
/// failed and there is no one to tell.
fn frame_error(error: &axum::Error) -> Ending {
    use tungstenite::error::Error;
    let cause = std::error::Error::source(error).and_then(|e| e.downcast_ref::<Error>());
    match cause {
        Some(Error::Capacity(_)) => Some((close::TOO_BIG, "message too big")),
        Some(Error::Utf8(_)) => Some((close::INVALID_DATA, "text is not utf-8")),
        Some(Error::Protocol(_)) => Some((close::PROTOCOL_ERROR, "protocol error")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(text: &str) -> MessageError {
        decode(text).expect_err(text)
    }

    #[test]
    fn a_scan_decodes_with_its_id_and_defaults() {
        let text = r#"{"type":"scan","id":7,"code":"PK1R…","direction":"entry"}"#;
        let Ok(ScannerMessage::Scan { id, form }) = decode(text) else {
            panic!("{text}");
        };
        assert_eq!(id, 7);
        assert_eq!(form.code, "PK1R…");
        assert_eq!(form.gate, 0);
        assert!(!form.proof_checked);
        let hello = decode(r#"{"type":"hello","token":"v1.k1.a.b"}"#);
        assert!(matches!(hello, Ok(ScannerMessage::Hello { token }) if token == "v1.k1.a.b"));
    }

    #[test]
    fn what_is_not_a_message_is_a_typed_error_keeping_a_valid_id() {
        assert_eq!(refused("not json").code, "bad_json");
        assert_eq!(refused("[1, 2]").code, "bad_json");
        assert_eq!(
            refused(r#"{"id": 3}"#),
            MessageError {
                id: Some(3),
                code: "unknown_type",
                message: "type은 hello 또는 scan입니다 / type is hello or scan".into(),
            }
        );
        assert_eq!(
            refused(r#"{"type": "admit", "id": 3}"#).code,
            "unknown_type"
        );
        // A field of the wrong type, missing, or unknown: the id is kept.
        let wrong_gate =
            refused(r#"{"type":"scan","id":4,"code":"x","gate":"A","direction":"entry"}"#);
        assert_eq!((wrong_gate.id, wrong_gate.code), (Some(4), "invalid_field"));
        let missing = refused(r#"{"type":"scan","id":5,"direction":"entry"}"#);
        assert_eq!((missing.id, missing.code), (Some(5), "invalid_field"));
        let unknown = refused(r#"{"type":"scan","id":6,"code":"x","direction":"entry","x":1}"#);
        assert_eq!((unknown.id, unknown.code), (Some(6), "invalid_field"));
        // An id out of u32's range or not a number is no id.
        let big = refused(r#"{"type":"scan","id":4294967296,"code":"x","direction":"entry"}"#);
        assert_eq!((big.id, big.code), (None, "invalid_field"));
        let text_id = refused(r#"{"type":"scan","id":"7","code":"x","direction":"entry"}"#);
        assert_eq!((text_id.id, text_id.code), (None, "invalid_field"));
        assert_eq!(refused(r#"{"type":"hello"}"#).code, "invalid_field");
    }

    #[test]
    fn a_message_over_the_limit_is_too_big_before_it_is_parsed() {
        let code = "x".repeat(SCANNER_MESSAGE_BYTES_MAX);
        let text = json!({"type": "scan", "id": 1, "code": code, "direction": "entry"});
        assert_eq!(refused(&text.to_string()).code, "too_big");
        // One byte under the limit is read.
        let padding = SCANNER_MESSAGE_BYTES_MAX - r#"{"type":"hello","token":""}"#.len();
        let hello = format!(r#"{{"type":"hello","token":"{}"}}"#, "t".repeat(padding));
        assert_eq!(hello.len(), SCANNER_MESSAGE_BYTES_MAX);
        assert!(decode(&hello).is_ok());
    }

    #[test]
    fn a_scan_starts_after_hello_with_a_fresh_id_below_the_in_flight_limit() {
        assert_eq!(may_scan(true, &[], 1), Ok(()));
        assert_eq!(
            may_scan(false, &[], 1).map_err(|e| e.code),
            Err("not_authenticated")
        );
        assert_eq!(
            may_scan(true, &[4, 1], 1).map_err(|e| (e.id, e.code)),
            Err((Some(1), "duplicate_id"))
        );
        let almost: Vec<u32> = (100..).take(SCANNER_IN_FLIGHT_MAX - 1).collect();
        assert_eq!(may_scan(true, &almost, 1), Ok(()));
        let full: Vec<u32> = (100..).take(SCANNER_IN_FLIGHT_MAX).collect();
        assert_eq!(
            may_scan(true, &full, 1).map_err(|e| (e.id, e.code)),
            Err((Some(1), "too_many_in_flight"))
        );
    }

    #[test]
    fn the_bucket_allows_its_burst_then_its_rate() {
        let start = Instant::now();
        let mut bucket = Bucket::new(10, 3, start);
        for _ in 0..3 {
            assert_eq!(bucket.take(start), Ok(()));
        }
        // Empty: a token comes back in 1/10 s.
        assert_eq!(bucket.take(start), Err(100));
        assert_eq!(bucket.take(start + Duration::from_millis(100)), Ok(()));
        // Never more than the burst, however long it waited.
        let later = start + Duration::from_secs(60);
        for _ in 0..3 {
            assert_eq!(bucket.take(later), Ok(()));
        }
        assert!(bucket.take(later).is_err());
    }
}
