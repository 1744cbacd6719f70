//! One virtual buyer speaking WebSocket protocol v2 (docs/protocol.md): connect from a chosen
//! source address, `hello` as a guest device, `join` a sale and wait for `admitted`, then
//! `hold`/`confirm`/`release`/`cancel`, answering every booking command by its correlation id.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use picket_edge::id::Id;
use picket_edge::outcome::ClientRejection;
use picket_ledger_core::Rejection;
use serde_json::{Value, json};
use tokio::net::TcpSocket;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

/// How long one client waits for any single answer before it counts the step as failed.
pub const ANSWER_WAIT: Duration = Duration::from_secs(30);
/// Read buffer per connection.
pub const READ_BUFFER_BYTES: usize = 4 * 1_024;
/// Largest message a client accepts (a `seats` map of 5,000 seats is ~1 KiB; queue pushes less).
pub const MESSAGE_BYTES_MAX: usize = 64 * 1_024;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("connect: {0}")]
    Connect(String),
    #[error("the gateway closed the connection ({0})")]
    Closed(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("unexpected answer: {0}")]
    Unexpected(String),
}

type Socket = WebSocketStream<tokio::net::TcpStream>;

/// A connected, authenticated client.
pub struct Conn {
    socket: Socket,
    /// The guest token the gateway issued, to keep the identity across reconnects.
    pub guest_token: Option<String>,
    pub identity: String,
}

/// What a client heard while waiting in a sale's queue.
#[derive(Debug, PartialEq, Eq)]
pub enum Waited {
    Admitted { token: String },
    SoldOut,
}

impl Conn {
    /// Connects to `gateway` from `source` and says hello as `device` (or with `token`).
    pub async fn connect(
        gateway: SocketAddr,
        source: Option<IpAddr>,
        device: &str,
        token: Option<&str>,
    ) -> Result<Conn, ClientError> {
        let connect = |e: &dyn std::fmt::Display| ClientError::Connect(e.to_string());
        let socket = match gateway {
            SocketAddr::V4(_) => TcpSocket::new_v4(),
            SocketAddr::V6(_) => TcpSocket::new_v6(),
        }
        .map_err(|e| connect(&e))?;
        if let Some(source) = source {
            socket
                .bind(SocketAddr::new(source, 0))
                .map_err(|e| connect(&e))?;
        }
        let stream = tokio::time::timeout(ANSWER_WAIT, socket.connect(gateway))
            .await
            .map_err(|_| ClientError::Timeout(ANSWER_WAIT))?
            .map_err(|e| connect(&e))?;
        stream.set_nodelay(true).map_err(|e| connect(&e))?;
        let mut request = format!("ws://{gateway}/ws")
            .into_client_request()
            .map_err(|e| connect(&e))?;
        request.headers_mut().insert(
            "Sec-WebSocket-Protocol",
            HeaderValue::from_static("picket.v2"),
        );
        // Small buffers: a worker holds 15,000 of these (tungstenite's defaults are 128 KiB).
        let config = WebSocketConfig::default()
            .read_buffer_size(READ_BUFFER_BYTES)
            .write_buffer_size(0)
            .max_message_size(Some(MESSAGE_BYTES_MAX))
            .max_frame_size(Some(MESSAGE_BYTES_MAX));
        let handshake = tokio_tungstenite::client_async_with_config(request, stream, Some(config));
        let (socket, _) = tokio::time::timeout(ANSWER_WAIT, handshake)
            .await
            .map_err(|_| ClientError::Timeout(ANSWER_WAIT))?
            .map_err(|e| connect(&e))?;
        let mut conn = Conn {
            socket,
            guest_token: None,
            identity: String::new(),
        };
        let hello = match token {
            Some(token) => json!({"type": "hello", "token": token}),
            None => json!({"type": "hello", "device": device}),
        };
        conn.send(&hello).await?;
        let welcome = conn.next_of(&["welcome"]).await?;
        conn.identity = welcome["identity"].as_str().unwrap_or_default().to_owned();
        conn.guest_token = welcome["guest_token"]
            .as_str()
            .map(str::to_owned)
            .or(token.map(str::to_owned));
        Ok(conn)
    }

    pub async fn send(&mut self, message: &Value) -> Result<(), ClientError> {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .map_err(|e| ClientError::Closed(e.to_string()))
    }

    /// The next message of one of `kinds`; other messages (queue pushes, pings) are skipped.
    pub async fn next_of(&mut self, kinds: &[&str]) -> Result<Value, ClientError> {
        let deadline = Instant::now() + ANSWER_WAIT;
        loop {
            let message = self.next_until(deadline).await?;
            if kinds.iter().any(|k| message["type"] == *k) {
                return Ok(message);
            }
            tracing::trace!(%message, "skipped while waiting for {kinds:?}");
        }
    }

    async fn next_until(&mut self, deadline: Instant) -> Result<Value, ClientError> {
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let frame = tokio::time::timeout(left, self.socket.next())
                .await
                .map_err(|_| ClientError::Timeout(ANSWER_WAIT))?;
            match frame {
                Some(Ok(Message::Text(text))) => {
                    return serde_json::from_str(text.as_str())
                        .map_err(|e| ClientError::Unexpected(e.to_string()));
                }
                Some(Ok(Message::Close(frame))) => {
                    let why =
                        frame.map_or("no reason".into(), |f| format!("{} {}", f.code, f.reason));
                    return Err(ClientError::Closed(why));
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Err(ClientError::Closed(e.to_string())),
                None => return Err(ClientError::Closed("end of stream".into())),
            }
        }
    }

    /// Joins `sale` and waits (until `deadline`) for the turn or a sold-out notice.
    pub async fn join_and_wait(
        &mut self,
        sale: u64,
        deadline: Instant,
    ) -> Result<Waited, ClientError> {
        self.send(&json!({"type": "join", "sale": Id(sale)}))
            .await?;
        loop {
            let message = self.next_until(deadline).await?;
            match message["type"].as_str() {
                Some("admitted") if id_of(&message["sale"]) == Some(sale) => {
                    let token = message["token"].as_str().unwrap_or_default().to_owned();
                    return Ok(Waited::Admitted { token });
                }
                Some("queue") if message["status"] == "sold_out" => return Ok(Waited::SoldOut),
                Some("error") if message["code"] == "unknown_sale" => {
                    return Err(ClientError::Unexpected(message.to_string()));
                }
                _ => {}
            }
        }
    }

    /// Sends a booking command and waits for its answer (`result` or `error` with its id).
    /// Waits as told and sends again (same key) on `slow_down`, `busy`, `ledger_unavailable` and
    /// `queue_unavailable`.
    pub async fn command(&mut self, message: Value) -> Result<Answer, ClientError> {
        let id = message["id"].clone();
        let mut retries = 0;
        loop {
            self.send(&message).await?;
            let answer = loop {
                let answer = self.next_of(&["result", "error"]).await?;
                if answer["id"] == id {
                    break answer;
                }
                // An error without an id about a frame the gateway could not read is ours;
                // others (an admission that ended, …) are news, not answers.
                let unreadable = matches!(
                    code_of(&answer).as_str(),
                    "bad_json" | "unknown_type" | "invalid_field" | "rate_limited"
                );
                if answer["type"] == "error" && answer["id"].is_null() && unreadable {
                    return Ok(Answer::Error(code_of(&answer)));
                }
            };
            if answer["type"] == "result" {
                return Ok(Answer::Result(answer["outcome"].clone()));
            }
            let code = code_of(&answer);
            let retry = matches!(
                code.as_str(),
                "slow_down"
                    | "busy"
                    | "ledger_unavailable"
                    | "queue_unavailable"
                    | "payment_unavailable"
            );
            match answer["retry_after_ms"].as_u64() {
                Some(wait_ms) if retry && retries < RETRIES_MAX => {
                    retries += 1;
                    tokio::time::sleep(Duration::from_millis(wait_ms)).await;
                }
                _ => return Ok(Answer::Error(code)),
            }
        }
    }

    /// Sends `checkout` and waits for its answer: the `checkout` message, or the error code.
    /// Waits as told and sends again on `slow_down` and `busy`.
    pub async fn checkout(&mut self, message: Value) -> Result<Result<Value, String>, ClientError> {
        let id = message["id"].clone();
        let mut retries = 0;
        loop {
            self.send(&message).await?;
            let answer = loop {
                let answer = self.next_of(&["checkout", "error"]).await?;
                if answer["id"] == id {
                    break answer;
                }
            };
            if answer["type"] == "checkout" {
                return Ok(Ok(answer));
            }
            let code = code_of(&answer);
            let retry = matches!(code.as_str(), "slow_down" | "busy" | "payment_unavailable");
            match answer["retry_after_ms"].as_u64() {
                Some(wait_ms) if retry && retries < RETRIES_MAX => {
                    retries += 1;
                    tokio::time::sleep(Duration::from_millis(wait_ms)).await;
                }
                _ => return Ok(Err(code)),
            }
        }
    }

    /// Reads (and drops) the next message: keeps the connection answering pings while the
    /// client has nothing to say.
    pub async fn read_one(&mut self) -> Result<Value, ClientError> {
        self.next_until(Instant::now() + Duration::from_secs(3_600))
            .await
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

/// Retries of one command after `slow_down`/`busy`/`ledger_unavailable`.
pub const RETRIES_MAX: u32 = 50;

fn code_of(answer: &Value) -> String {
    answer["code"].as_str().unwrap_or("unknown").to_owned()
}

/// A booking command's answer: the ledger's outcome, or a gateway error code.
#[derive(Clone, Debug, PartialEq)]
pub enum Answer {
    /// `{"Ok": reply}` or `{"Err": rejection}` (docs/protocol.md, Outcome).
    Result(Value),
    Error(String),
}

impl Answer {
    /// The reply of a success (`Held`, `Confirmed`, …), by name.
    pub fn ok(&self, reply: &str) -> Option<&Value> {
        match self {
            Answer::Result(outcome) => outcome.get("Ok").and_then(|ok| ok.get(reply)),
            Answer::Error(_) => None,
        }
    }

    /// The rejection or error code of a failure.
    pub fn code(&self) -> Option<String> {
        match self {
            Answer::Result(outcome) => outcome.get("Err").map(|e| rejection_code(e).to_owned()),
            Answer::Error(code) => Some(code.clone()),
        }
    }
}

/// The stable code of a ledger rejection in its JSON form (`"UnknownHold"` or
/// `{"SeatTaken": {…}}`), via the core's own mapping.
fn rejection_code(rejection: &Value) -> &'static str {
    serde_json::from_value::<ClientRejection>(rejection.clone())
        .map_or("unknown_rejection", |r| Rejection::from(r).code())
}

/// An id the gateway sent (a decimal string in protocol v2); `None` when it is not one.
pub fn id_of(value: &Value) -> Option<u64> {
    value
        .as_str()
        .and_then(|text| picket_edge::id::parse(text).ok())
}

/// A list of ids the gateway sent (a ticket list); `None` when any is not an id.
pub fn ids_of(value: &Value) -> Option<Vec<u64>> {
    serde_json::from_value::<Vec<Id<u64>>>(value.clone())
        .ok()
        .map(|ids| ids.into_iter().map(Id::get).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_name_their_reply_or_code() {
        let held = Answer::Result(json!({"Ok": {"Held": {"hold": "117701597864396273"}}}));
        assert_eq!(
            held.ok("Held").and_then(|h| id_of(&h["hold"])),
            Some(117_701_597_864_396_273)
        );
        assert_eq!(held.code(), None);
        let taken = Answer::Result(json!({"Err": {"SeatTaken": {"seat": 4}}}));
        assert_eq!(taken.code().as_deref(), Some("seat_taken"));
        let spent = Answer::Result(json!({"Err": "AdmissionSpent"}));
        assert_eq!(spent.code().as_deref(), Some("admission_spent"));
        let cancelled = Answer::Result(json!({"Err": {"TicketAlreadyCancelled": {"ticket": "9"}}}));
        assert_eq!(
            cancelled.code().as_deref(),
            Some("ticket_already_cancelled")
        );
        assert_eq!(ids_of(&json!(["1", "2"])), Some(vec![1, 2]));
        assert_eq!(ids_of(&json!([1, 2])), None);
        assert_eq!(Answer::Error("busy".into()).code().as_deref(), Some("busy"));
    }
}
