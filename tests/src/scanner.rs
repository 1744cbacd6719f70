//! A door's scanner over the API's scanner stream (`GET /api/v2/performances/{id}/scanner`,
//! docs/protocol.md "The scanner's stream"), for the tests and the door's benches: connect,
//! `hello`, send scans, read typed answers and the close code. And tickets for a door: many
//! booked through the ledger with the codes their holders' apps would show.

use std::net::SocketAddr;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use picket_ledger_client::LedgerClient;
use picket_ledger_core::{
    ActorId, Command, IdempotencyKey, PerformanceId, Reply, Request, Selection, TicketId, ZoneId,
};
use picket_tickets::{Code, TicketSecret};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Opens the scanner stream of `performance` (no `hello` yet).
pub async fn connect(
    address: SocketAddr,
    performance: u64,
) -> Result<Socket, tokio_tungstenite::tungstenite::Error> {
    let url = format!("ws://{address}/api/v2/performances/{performance}/scanner");
    let (socket, _) = tokio_tungstenite::connect_async(url).await?;
    Ok(socket)
}

/// One scanner's stream.
pub struct Scanner {
    pub socket: Socket,
    /// The close code, once a close frame arrived.
    pub closed: Option<u16>,
}

impl Scanner {
    /// Connects and says `hello` with `token`: the scanner and the server's answer (`welcome`,
    /// or the error before a close).
    pub async fn open(address: SocketAddr, performance: u64, token: &str) -> (Scanner, Value) {
        let socket = connect(address, performance).await.expect("connect");
        let mut scanner = Scanner {
            socket,
            closed: None,
        };
        scanner.send(json!({"type": "hello", "token": token})).await;
        let answer = scanner.next().await.unwrap_or(Value::Null);
        (scanner, answer)
    }

    pub async fn send(&mut self, message: Value) {
        self.send_text(&message.to_string()).await;
    }

    /// Sends a text frame as is (for bad-input tests).
    pub async fn send_text(&mut self, text: &str) {
        let _ = self.socket.send(Message::text(text.to_owned())).await;
    }

    /// A scan's message: entry at `gate`, no proof seen.
    pub fn scan(id: u32, code: &str, gate: u16) -> Value {
        json!({"type": "scan", "id": id, "code": code, "gate": gate, "direction": "entry",
            "proof_checked": false})
    }

    /// The next text message, parsed, within 10 s (the stream answers at once: this bounds a
    /// broken server, it is not a time being measured); None on close (its code kept) or on
    /// nothing.
    pub async fn next(&mut self) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .ok()??;
            match frame {
                Ok(Message::Text(text)) => return serde_json::from_str(text.as_str()).ok(),
                Ok(Message::Close(frame)) => {
                    self.closed = Some(frame.map_or(1005, |f| u16::from(f.code)));
                    return None;
                }
                Err(error) => {
                    eprintln!("scanner stream: {error}");
                    return None;
                }
                Ok(_) => continue,
            }
        }
    }

    /// Waits for the server's close (within 10 s): its code.
    pub async fn close_code(&mut self) -> Option<u16> {
        while self.closed.is_none() {
            if self.next().await.is_none() {
                break;
            }
        }
        self.closed
    }
}

/// Tickets of a door: each one's id and secret (generation 0, as issued).
pub struct DoorTickets {
    pub performance: PerformanceId,
    pub tickets: Vec<(TicketId, TicketSecret)>,
}

impl DoorTickets {
    /// The rotating code the holder's app shows for ticket `index` at `now_ms`.
    pub fn code(&self, index: usize, now_ms: u64) -> String {
        let (ticket, secret) = &self.tickets[index];
        Code::rotating(self.performance, *ticket, secret, now_ms).to_string()
    }
}

/// Books `count` places of `zone` through `ledger`, `per_buyer` at a time by buyers from
/// `first_actor` on (each its own hold and confirm, as a gateway sends them), with up to
/// `in_flight` bookings at once. The secrets are derived from the API's ticket key as the API
/// derives them (`picket_api::tickets::ticket_secret`), so no holder has to fetch each one.
pub async fn book_zone(
    ledger: &LedgerClient,
    ticket_key: &picket_edge::secret::TicketKey,
    performance: PerformanceId,
    zone: ZoneId,
    count: usize,
    per_buyer: u16,
    first_actor: u64,
) -> DoorTickets {
    let master = picket_api::tickets::performance_master(ticket_key, performance);
    let buyers = count.div_ceil(usize::from(per_buyer));
    let in_flight = 64;
    let mut tickets = Vec::with_capacity(count);
    let mut pending = futures_util::stream::iter((0..buyers).map(|buyer| {
        let places = (count - buyer * usize::from(per_buyer)).min(usize::from(per_buyer));
        let actor = first_actor + buyer as u64;
        book_one(ledger, performance, zone, places as u16, actor)
    }))
    .buffer_unordered(in_flight);
    while let Some(booked) = pending.next().await {
        tickets.extend(booked.into_iter().map(|ticket| {
            let secret = TicketSecret::derive(&master, performance, ticket, 0);
            (ticket, secret)
        }));
    }
    tickets.sort_by_key(|(ticket, _)| ticket.0);
    DoorTickets {
        performance,
        tickets,
    }
}

async fn book_one(
    ledger: &LedgerClient,
    performance: PerformanceId,
    zone: ZoneId,
    count: u16,
    actor: u64,
) -> Vec<TicketId> {
    let submit = |key: String, command: Command| async move {
        let request = Request {
            actor: ActorId(actor),
            key: IdempotencyKey::new(key).expect("key"),
            command,
        };
        ledger.submit(request).await.expect("the ledger answers")
    };
    let hold = Command::Hold {
        performance,
        selection: Selection::Zone { zone, count },
        admission: None,
        offer: None,
    };
    let held = submit(format!("door-hold-{actor}"), hold).await;
    let Ok(Reply::Held {
        hold, amount_won, ..
    }) = held
    else {
        panic!("held: {held:?}");
    };
    let confirm = Command::Confirm {
        performance,
        hold,
        payment_ref: format!("door-pay-{actor}"),
        amount_won,
    };
    let paid = submit(format!("door-pay-{actor}"), confirm).await;
    let Ok(Reply::Confirmed { tickets, .. }) = paid else {
        panic!("paid: {paid:?}");
    };
    tickets
}
