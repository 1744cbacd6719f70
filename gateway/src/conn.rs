//! One WebSocket connection: a single task that reads the client's frames, writes what other
//! tasks queued for it, pings it, and enforces every per-connection limit.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, WebSocket};
use futures_util::SinkExt;
use picket_ledger_core::{
    AdmissionId, BookingId, Command, DiscountId, HoldId, IdempotencyKey, OfferChoice,
    PerformanceId, Reply, Request, Selection, TicketId,
};
use picket_payments::flow::{BOOKING_FEE_REFUND_RULE, PROVIDER_RETRY_AFTER_MS};
use picket_payments::{Checkout, Flow, FlowError, OrderId};
use tokio::sync::mpsc;
use tokio::time::Instant;

use crate::Gateway;
use crate::hub::{ConnId, ConnTx, admission_message, queue_message};
use crate::protocol::{
    Breakdown, BreakdownPlace, Cancellation, ClientMessage, ErrorCode, Limits, PROTOCOL_VERSION,
    ProviderInfo, ServerMessage, close, decode_with_id,
};
use picket_edge::dashboard::DashboardRefusal;
use picket_edge::id::Id;
use picket_edge::identity;
use picket_edge::token::{Claims, TokenError};
use picket_room::{CommandDecision, SaleId, Standing, StoreError};

/// How often the connection checks its timers (idle, hello, ping, slow reader).
const TIMER_TICK: Duration = Duration::from_secs(1);

/// A per-connection token bucket for incoming messages: no shared state, no clock calls beyond
/// one `Instant` per message.
struct Bucket {
    tokens: f64,
    rate: f64,
    burst: f64,
    at: Instant,
}

impl Bucket {
    fn new(rate: u32, burst: u32) -> Self {
        Bucket {
            tokens: f64::from(burst),
            rate: f64::from(rate),
            burst: f64::from(burst),
            at: Instant::now(),
        }
    }

    fn take(&mut self) -> bool {
        let now = Instant::now();
        let elapsed = now.duration_since(self.at).as_secs_f64();
        self.at = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.burst);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

struct Conn {
    gateway: Arc<Gateway>,
    id: ConnId,
    tx: ConnTx,
    identity: Option<String>,
    /// The member whose notifications this connection gets (a member's session, followed).
    notified: Option<u64>,
    sales: Vec<SaleId>,
    watching: Vec<u64>,
    /// The session token of a member's `hello`: dashboards are authorised with it.
    session: Option<String>,
    /// Performances whose dashboards this connection follows.
    dashboards: Vec<u64>,
    bucket: Bucket,
    strikes: u32,
    opened: Instant,
    last_heard: Instant,
    last_ping: Instant,
}

/// Why the loop ends: the close frame to send, if any.
type Ending = Option<(u16, &'static str)>;

pub async fn serve(gateway: Arc<Gateway>, mut socket: WebSocket) {
    if !gateway.try_admit_connection() {
        gateway.metrics.connections_refused.inc();
        let refusal = ServerMessage::retry(None, ErrorCode::Busy, 1_000);
        let _ = socket.send(Message::Text(refusal.to_json().into())).await;
        let _ = socket
            .send(close_message(close::TRY_AGAIN_LATER, "over capacity"))
            .await;
        linger(&mut socket, gateway.config.close_timeout).await;
        return;
    }
    let id = gateway.next_conn_id();
    let (queue, outbound) = mpsc::channel(gateway.config.outbound_queue_max.max(1));
    let tx = ConnTx {
        id,
        queue,
        slow: Arc::new(AtomicBool::new(false)),
    };
    let now = Instant::now();
    let mut conn = Conn {
        bucket: Bucket::new(
            gateway.config.messages_per_sec,
            gateway.config.messages_burst,
        ),
        gateway: gateway.clone(),
        id,
        tx,
        identity: None,
        notified: None,
        sales: Vec::new(),
        watching: Vec::new(),
        session: None,
        dashboards: Vec::new(),
        strikes: 0,
        opened: now,
        last_heard: now,
        last_ping: now,
    };
    let mut outbound = outbound;
    let ending = conn.run(&mut socket, &mut outbound).await;
    conn.leave_all();
    if let Some((code, reason)) = ending {
        gateway.metrics.close(reason);
        // Say why before closing: what is already queued (at most `outbound_queue_max`
        // messages, such as the error that caused the close) goes out first.
        while let Ok(message) = outbound.try_recv() {
            let sent = tokio::time::timeout(gateway.config.write_timeout, socket.send(message));
            if !matches!(sent.await, Ok(Ok(()))) {
                break;
            }
        }
        let sent = tokio::time::timeout(
            gateway.config.write_timeout,
            socket.send(close_message(code, reason)),
        )
        .await;
        // Said and done for the gateway: the place is free for the next client while the
        // closing handshake finishes on the socket (which still counts as an open file).
        gateway.release_connection();
        if matches!(sent, Ok(Ok(()))) {
            linger(&mut socket, gateway.config.close_timeout).await;
        }
    } else {
        gateway.release_connection();
        // The client closed (tungstenite has queued the echo of its close frame) or the
        // connection failed: send what is queued, if anything.
        let _ = tokio::time::timeout(gateway.config.close_timeout, socket.flush()).await;
    }
}

/// After the gateway's close frame: reads and drops what the client still sends until its close
/// frame answers (RFC 6455's closing handshake), for at most `wait`. Closing a socket with unread
/// data makes the kernel send a reset, and a reset can destroy the close frame (and the error
/// before it) on its way to a client that was still sending, say, a flood.
async fn linger(socket: &mut WebSocket, wait: Duration) {
    let _ = tokio::time::timeout(wait, async {
        while let Some(Ok(frame)) = socket.recv().await {
            if matches!(frame, Message::Close(_)) {
                break;
            }
        }
    })
    .await;
}

fn close_message(code: u16, reason: &'static str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

impl Conn {
    async fn run(
        &mut self,
        socket: &mut WebSocket,
        outbound: &mut mpsc::Receiver<Message>,
    ) -> Ending {
        let mut draining = self.gateway.draining.subscribe();
        let mut timer = tokio::time::interval(TIMER_TICK);
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        if *draining.borrow() {
            return Some((close::SERVICE_RESTART, "draining"));
        }
        loop {
            tokio::select! {
                biased;
                _ = draining.changed() => {
                    let message = ServerMessage::Reconnect {
                        reason: "draining".into(),
                        after_ms: self.gateway.config.drain_reconnect_after_ms,
                    };
                    let _ = self.write(socket, Message::Text(message.to_json().into())).await;
                    return Some((close::SERVICE_RESTART, "draining"));
                }
                Some(message) = outbound.recv() => {
                    if let Some(ending) = self.write(socket, message).await {
                        return ending;
                    }
                }
                frame = socket.recv() => match frame {
                    Some(Ok(frame)) => {
                        if let Some(ending) = self.on_frame(frame).await {
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

    /// Writes one message, bounded in time: a client that does not read is closed.
    async fn write(&mut self, socket: &mut WebSocket, message: Message) -> Option<Ending> {
        match tokio::time::timeout(self.gateway.config.write_timeout, socket.send(message)).await {
            Ok(Ok(())) => None,
            Ok(Err(_)) => Some(None),
            Err(_) => {
                self.gateway.metrics.slow_readers.inc();
                Some(Some((close::SLOW_READER, "slow reader")))
            }
        }
    }

    async fn on_timer(&mut self, socket: &mut WebSocket) -> Option<Ending> {
        let config = &self.gateway.config;
        if self.tx.slow.load(Ordering::Relaxed) {
            self.gateway.metrics.slow_readers.inc();
            return Some(Some((close::SLOW_READER, "slow reader")));
        }
        if self.identity.is_none() && self.opened.elapsed() > config.hello_timeout {
            return Some(Some((close::NOT_AUTHENTICATED, "no hello")));
        }
        if self.last_heard.elapsed() > config.idle_timeout {
            return Some(Some((close::IDLE_TIMEOUT, "idle")));
        }
        if self.last_ping.elapsed() >= config.ping_interval {
            self.last_ping = Instant::now();
            return self.write(socket, Message::Ping(Default::default())).await;
        }
        None
    }

    async fn on_frame(&mut self, frame: Message) -> Option<Ending> {
        self.last_heard = Instant::now();
        let text = match frame {
            Message::Text(text) => text,
            Message::Binary(_) => {
                if !self.bucket.take() {
                    return self.flooded();
                }
                self.send_error(None, ErrorCode::BinaryNotSupported);
                return None;
            }
            Message::Ping(_) | Message::Pong(_) => return None,
            Message::Close(_) => return Some(None),
        };
        self.gateway.metrics.messages_in.inc();
        if !self.bucket.take() {
            return self.flooded();
        }
        self.strikes = 0;
        match decode_with_id(text.as_str()) {
            Ok(message) => self.on_message(message).await,
            Err(refusal) => {
                self.send_error(refusal.id, refusal.code);
                None
            }
        }
    }

    fn flooded(&mut self) -> Option<Ending> {
        self.strikes += 1;
        if self.strikes > self.gateway.config.flood_strikes_max {
            return Some(Some((close::FLOOD, "flood")));
        }
        let retry_after_ms = (1_000 / self.gateway.config.messages_per_sec.max(1)).into();
        self.send(&ServerMessage::retry(
            None,
            ErrorCode::RateLimited,
            retry_after_ms,
        ));
        self.gateway.metrics.error("rate_limited");
        None
    }

    fn send(&self, message: &ServerMessage) {
        self.tx.send_message(message);
    }

    fn send_error(&self, id: Option<String>, code: ErrorCode) {
        self.gateway.metrics.error(&format!("{code:?}"));
        self.send(&ServerMessage::error(id, code));
    }

    async fn on_message(&mut self, message: ClientMessage) -> Option<Ending> {
        let Some(identity) = self.identity.clone() else {
            return match message {
                ClientMessage::Hello { token, device } => self.hello(token, device),
                message => {
                    self.send_error(message.id().map(str::to_owned), ErrorCode::NotAuthenticated);
                    None
                }
            };
        };
        match message {
            ClientMessage::Hello { .. } => self.send_error(None, ErrorCode::AlreadyAuthenticated),
            ClientMessage::Join { sale } => self.join(sale.0, &identity).await,
            ClientMessage::Leave { sale: Id(sale) } => {
                self.sales.retain(|s| *s != sale);
                self.gateway.hub.remove_member(sale, self.id);
            }
            ClientMessage::Watch { performance } => self.watch(performance.0),
            ClientMessage::Unwatch {
                performance: Id(performance),
            } => {
                self.watching.retain(|p| *p != performance);
                self.gateway.hub.remove_watcher(performance, self.id);
            }
            ClientMessage::Dashboard { performance } => self.dashboard(performance.0).await,
            ClientMessage::Undashboard {
                performance: Id(performance),
            } => {
                self.dashboards.retain(|p| *p != performance);
                self.gateway.boards.remove(performance, self.id);
                self.gateway
                    .metrics
                    .dashboards
                    .set(self.gateway.boards.len() as i64);
            }
            ClientMessage::Cancel {
                id,
                sale: Id(sale),
                key,
                booking: Id(booking),
                tickets,
            } => {
                self.cancel(id, sale, key, booking, tickets, &identity)
                    .await
            }
            ClientMessage::Checkout {
                id,
                sale: Id(sale),
                hold: Id(hold),
            } => self.checkout(id, sale, hold, &identity).await,
            ClientMessage::Confirm {
                id,
                sale: Id(sale),
                admission,
                hold: Id(hold),
                payment_key,
                order_id,
                ..
            } => {
                let paying = Paying {
                    sale,
                    hold,
                    payment_key,
                    order_id,
                };
                self.confirm(id, &admission, paying, &identity).await
            }
            booking => self.book(booking, &identity).await,
        }
        None
    }

    /// Answers a booking command the gateway refused itself (with `retry_after_ms` when
    /// waiting helps).
    fn refuse_command(
        &mut self,
        id: Option<String>,
        (code, retry_after_ms): (ErrorCode, Option<u64>),
    ) {
        self.gateway.metrics.error(&format!("{code:?}"));
        let message = match retry_after_ms {
            Some(ms) => ServerMessage::retry(id, code, ms),
            None => ServerMessage::error(id, code),
        };
        self.send(&message);
    }

    /// A buyer cancels tickets of their booking: rate-limited like every booking attempt, no
    /// admission needed (the ledger checks the booking is theirs).
    async fn cancel(
        &mut self,
        id: String,
        sale: SaleId,
        key: String,
        booking: BookingId,
        tickets: Vec<Id<TicketId>>,
        identity: &str,
    ) {
        let checked = match IdempotencyKey::new(key) {
            Ok(key) => self.check_limits(sale, identity, None).await.map(|()| key),
            Err(_) => Err((ErrorCode::InvalidField, None)),
        };
        let key = match checked {
            Ok(key) => key,
            Err(refusal) => return self.refuse_command(Some(id), refusal),
        };
        let request = Request {
            actor: identity::actor_of(identity),
            key,
            command: Command::Cancel {
                performance: picket_ledger_core::PerformanceId(sale),
                booking,
                tickets: tickets.into_iter().map(Id::get).collect(),
            },
        };
        self.submit(id, sale, None, request, identity).await;
    }

    /// What paying one's hold costs, and the order to pay it under: read from the ledger, never
    /// from the client. Rate-limited like a booking attempt; needs no admission (it changes
    /// nothing).
    async fn checkout(&mut self, id: String, sale: SaleId, hold: HoldId, identity: &str) {
        if let Err(refusal) = self.check_limits(sale, identity, None).await {
            return self.refuse_command(Some(id), refusal);
        }
        let Some(flow) = self.gateway.payments().cloned() else {
            return self.refuse_command(
                Some(id),
                (ErrorCode::PaymentUnavailable, Some(PROVIDER_RETRY_AFTER_MS)),
            );
        };
        let buyer = identity::actor_of(identity);
        let checked = flow
            .checkout(
                buyer,
                PerformanceId(sale),
                hold,
                rand::random(),
                picket_edge::clock::now_ms(),
            )
            .await;
        match checked {
            Ok(checkout) => self.send(&checkout_message(id, &checkout, &flow)),
            Err(error) => self.send_payment_error(id, error),
        }
    }

    /// The buyer paid at the provider: the server confirms the payment for the hold's amount
    /// and books (`picket_payments::Flow::confirm`). Needs a valid admission, as every booking.
    async fn confirm(&mut self, id: String, admission: &str, paying: Paying, identity: &str) {
        let jti = match self.check_admission(admission, paying.sale, identity) {
            Ok(jti) => jti,
            Err(refusal) => return self.refuse_command(Some(id), refusal),
        };
        if let Err(refusal) = self.check_limits(paying.sale, identity, None).await {
            return self.refuse_command(Some(id), refusal);
        }
        let Some(flow) = self.gateway.payments().cloned() else {
            return self.refuse_command(
                Some(id),
                (ErrorCode::PaymentUnavailable, Some(PROVIDER_RETRY_AFTER_MS)),
            );
        };
        // The order must name this very sale and hold: another order's id is not this payment.
        let order = match paying.order_id.parse::<OrderId>() {
            Ok(order) if order.performance == paying.sale && order.hold == paying.hold.0 => order,
            _ => return self.send_payment_error(id, FlowError::PaymentNotFound),
        };
        let started = std::time::Instant::now();
        let confirmed = flow
            .confirm(
                Some(identity::actor_of(identity)),
                &order,
                &paying.payment_key,
            )
            .await;
        self.gateway
            .metrics
            .booking_seconds
            .observe(started.elapsed().as_secs_f64());
        match confirmed {
            Ok(booked) => {
                // The admission is spent: as `submit`.
                if !self.gateway.hub.end_admission(paying.sale, identity, jti) {
                    let _ = self.gateway.store.finish(paying.sale, identity).await;
                }
                let reply = Reply::Confirmed {
                    booking: booked.booking,
                    tickets: booked.tickets,
                    amount_won: booked.amount_won,
                };
                self.send(&ServerMessage::result(id, Ok(reply)));
            }
            Err(error) => self.send_payment_error(id, error),
        }
    }

    fn send_payment_error(&self, id: String, error: FlowError) {
        let message = payment_error_message(id, error);
        if let ServerMessage::Error { code, .. } = &message {
            self.gateway.metrics.error(&format!("{code:?}"));
        }
        self.send(&message);
    }

    fn hello(&mut self, token: Option<String>, device: Option<String>) -> Option<Ending> {
        let now_ms = picket_edge::clock::now_ms();
        let mut member = None;
        let (identity, guest_token) = match (token, device) {
            (Some(token), _) => match self.gateway.keys.verify(&token, now_ms) {
                Ok(Claims::Session { sub, .. }) => {
                    member = Some(sub);
                    self.session = Some(token.clone());
                    (identity::member(sub), None)
                }
                Ok(Claims::Guest { device, .. }) => (identity::guest(&device), None),
                Ok(Claims::Admission { .. }) => return self.refuse(ErrorCode::TokenInvalid),
                Err(TokenError::Expired) => return self.refuse(ErrorCode::TokenExpired),
                Err(_) => return self.refuse(ErrorCode::TokenInvalid),
            },
            (None, Some(device)) if device.len() >= identity::DEVICE_ID_LEN_MIN => {
                let claims = Claims::Guest {
                    device: device.clone(),
                    exp_ms: now_ms + self.gateway.config.guest_token_ttl_ms,
                };
                (
                    identity::guest(&device),
                    Some(self.gateway.keys.sign(&claims)),
                )
            }
            _ => {
                self.send_error(None, ErrorCode::InvalidField);
                return None;
            }
        };
        let config = &self.gateway.config;
        self.send(&ServerMessage::Welcome {
            protocol: PROTOCOL_VERSION,
            conn: self.id.to_string(),
            identity: identity.clone(),
            guest_token,
            limits: Limits {
                message_bytes_max: config.message_bytes_max,
                messages_per_sec: config.messages_per_sec,
                booking_attempts_per_sec: config.booking_attempts_per_sec,
                idle_timeout_ms: config.idle_timeout.as_millis() as u64,
            },
        });
        self.identity = Some(identity);
        if let Some(member) = member
            && crate::notify::follow(&self.gateway, member, self.tx.clone())
        {
            self.notified = Some(member);
        }
        None
    }

    /// A bad token in `hello`: say why, then close.
    fn refuse(&self, code: ErrorCode) -> Option<Ending> {
        self.send_error(None, code);
        Some(Some((close::NOT_AUTHENTICATED, "bad token")))
    }

    async fn join(&mut self, sale: SaleId, identity: &str) {
        if !self.sales.contains(&sale) && self.sales.len() >= self.gateway.config.subscriptions_max
        {
            return self.send_error(None, ErrorCode::TooManySubscriptions);
        }
        self.gateway.metrics.joins.inc();
        let store = &self.gateway.store;
        // An admission this buyer spent here since the last push round is still current in the
        // store: end it first, so that joining again queues the buyer anew (the usual way back
        // after a purchase) rather than handing back the spent admission.
        if self.gateway.hub.take_finish(sale, identity) {
            let _ = store.finish(sale, identity).await;
        }
        let joined = store.join(sale, identity).await;
        let standing = match joined {
            Ok(standing) => standing,
            Err(StoreError::UnknownSale) => return self.send_error(None, ErrorCode::UnknownSale),
            Err(_) => {
                // Keep the wish to be in line: the push loop joins again once the store is back.
                self.send_error(None, ErrorCode::QueueUnavailable);
                Standing::Absent
            }
        };
        if !self.sales.contains(&sale) {
            self.sales.push(sale);
        }
        // The push loop keeps a recent view per sale; only the first joiner reads the store.
        let view = match self.gateway.hub.cached_view(sale) {
            Some(view) => Some(view),
            None => store.view(sale).await.ok(),
        };
        // Only someone in the draw needs its entry: the pre-queue, and the places the draw gave
        // (late joiners, the steady state, cost no second store call). A failed read leaves it
        // out of the `queue` messages rather than failing the join.
        let in_draw = match standing {
            Standing::PreQueue => true,
            Standing::Waiting { place } => view.as_ref().is_none_or(|v| place <= v.prequeue),
            _ => false,
        };
        let draw_entry = match in_draw {
            true => store.draw_entry(sale, identity).await.ok(),
            false => None,
        };
        self.gateway.hub.add_member(
            sale,
            identity,
            self.tx.clone(),
            standing.clone(),
            draw_entry.clone(),
        );
        let Some(view) = view else {
            return;
        };
        match standing {
            Standing::Admitted { jti, expires_at_ms } => {
                let message = admission_message(
                    &self.gateway,
                    sale,
                    identity,
                    self.id,
                    jti,
                    expires_at_ms,
                    view.settings.seat_limit,
                );
                self.gateway.hub.note_token_sent(sale, self.id, jti);
                self.send(&message);
            }
            standing => self.send(&queue_message(
                &view,
                &standing,
                draw_entry.as_deref(),
                self.gateway.hub.waitlist_open(sale),
            )),
        }
    }

    fn watch(&mut self, performance: u64) {
        if self.watching.contains(&performance) {
            return;
        }
        if self.watching.len() >= self.gateway.config.subscriptions_max {
            return self.send_error(None, ErrorCode::TooManySubscriptions);
        }
        if self.gateway.hub.add_watcher(performance, self.tx.clone()) {
            self.watching.push(performance);
        } else {
            self.send_error(None, ErrorCode::UnknownSale);
        }
    }

    /// A seller's dashboard: the API's side says whether the session's account manages the
    /// performance; the dashboard loop sends the first `dashboard` within an interval.
    async fn dashboard(&mut self, performance: u64) {
        // Subscriptions the gateway ended (`dashboard_ended`) are gone: they may start over.
        let boards = &self.gateway.boards;
        self.dashboards.retain(|p| boards.follows(*p, self.id));
        if self.dashboards.contains(&performance) {
            return;
        }
        if self.dashboards.len() >= self.gateway.config.subscriptions_max {
            return self.send_error(None, ErrorCode::TooManySubscriptions);
        }
        // Guests have no account, so no show of theirs.
        let Some(session) = self.session.clone() else {
            return self.send_error(None, ErrorCode::Forbidden);
        };
        let Some(source) = self.gateway.dashboards() else {
            return self.send_error(None, ErrorCode::DashboardUnavailable);
        };
        if let Err(refusal) = source.authorise(&session, performance).await {
            let code = match refusal {
                // A session that ended has no show to manage.
                DashboardRefusal::Forbidden | DashboardRefusal::SessionEnded => {
                    ErrorCode::Forbidden
                }
                DashboardRefusal::UnknownPerformance => ErrorCode::UnknownSale,
                DashboardRefusal::Unavailable => ErrorCode::DashboardUnavailable,
            };
            return self.send_error(None, code);
        }
        let max = self.gateway.config.dashboards_max;
        if self
            .gateway
            .boards
            .add(performance, self.tx.clone(), session, max)
            .is_err()
        {
            return self.send_error(None, ErrorCode::Busy);
        }
        self.dashboards.push(performance);
        self.gateway
            .metrics
            .dashboards
            .set(self.gateway.boards.len() as i64);
    }

    /// Hold, release or confirm: checked here, then sent to the ledger; the client gets the
    /// committed outcome. Invariant 7: nothing reaches the ledger without a valid admission.
    async fn book(&mut self, message: ClientMessage, identity: &str) {
        let id = message.id().map(str::to_owned);
        match self.booking_request(message, identity).await {
            Ok((sale, jti, request)) => {
                self.submit(id.unwrap_or_default(), sale, Some(jti), request, identity)
                    .await
            }
            Err(refusal) => self.refuse_command(id, refusal),
        }
    }

    async fn booking_request(
        &self,
        message: ClientMessage,
        identity: &str,
    ) -> Result<(SaleId, u64, Request), (ErrorCode, Option<u64>)> {
        let (sale, key, admission) = match &message {
            ClientMessage::Hold {
                sale,
                key,
                admission,
                ..
            }
            | ClientMessage::Release {
                sale,
                key,
                admission,
                ..
            } => (sale.0, key.clone(), admission.clone()),
            _ => return Err((ErrorCode::UnknownType, None)),
        };
        let jti = self.check_admission(&admission, sale, identity)?;
        let seats = match &message {
            ClientMessage::Hold { selection, .. } => Some(seat_count(selection)),
            _ => None,
        };
        self.check_limits(sale, identity, seats).await?;
        let performance = picket_ledger_core::PerformanceId(sale);
        let command = match message {
            ClientMessage::Hold {
                selection,
                discount,
                coupon,
                ..
            } => Command::Hold {
                performance,
                selection,
                admission: Some(AdmissionId(jti)),
                offer: match (discount, coupon) {
                    (Some(discount), _) => Some(OfferChoice::Discount(DiscountId(discount))),
                    (None, Some(code)) => Some(OfferChoice::Coupon(code.to_ascii_uppercase())),
                    (None, None) => None,
                },
            },
            ClientMessage::Release { hold, .. } => Command::Release {
                performance,
                hold: hold.0,
            },
            _ => return Err((ErrorCode::UnknownType, None)),
        };
        let key = IdempotencyKey::new(key).map_err(|_| (ErrorCode::InvalidField, None))?;
        let request = Request {
            actor: identity::actor_of(identity),
            key,
            command,
        };
        Ok((sale, jti, request))
    }

    /// The admission token must be this gateway's signature, for this identity, this sale and
    /// this very connection, and unexpired.
    fn check_admission(
        &self,
        token: &str,
        sale: SaleId,
        identity: &str,
    ) -> Result<u64, (ErrorCode, Option<u64>)> {
        if token.is_empty() {
            return Err((ErrorCode::NoAdmission, None));
        }
        match self
            .gateway
            .keys
            .verify(token, picket_edge::clock::now_ms())
        {
            Ok(Claims::Admission {
                identity: owner,
                sale: for_sale,
                conn,
                jti,
                ..
            }) if owner == identity && for_sale == sale && conn == self.id.to_string() => {
                // The signature alone outlives the admission when a payment ends it early: the
                // token must also name the admission the gateway still holds for this client,
                // or the client is told `admission_expired` yet keeps booking with it.
                if self.gateway.hub.admission_current(sale, self.id, jti) {
                    Ok(jti)
                } else {
                    Err((ErrorCode::AdmissionExpired, None))
                }
            }
            Err(TokenError::Expired) => Err((ErrorCode::AdmissionExpired, None)),
            _ => Err((ErrorCode::AdmissionInvalid, None)),
        }
    }

    /// The seat limit (holds only), the identity's attempt rate and the rate into the ledger,
    /// decided in this gateway's memory ([`crate::limits`]): no store round trip per command.
    async fn check_limits(
        &self,
        sale: SaleId,
        identity: &str,
        seats: Option<u32>,
    ) -> Result<(), (ErrorCode, Option<u64>)> {
        let seat_limit = match seats {
            None => None,
            Some(_) => match self.gateway.hub.seat_limit(sale) {
                Some(limit) => Some(limit),
                // No push round has read the sale yet (an admission handed out at `join`):
                // read it once.
                None => match self.gateway.store.view(sale).await {
                    Ok(view) => Some(view.settings.seat_limit),
                    Err(StoreError::UnknownSale) => return Err((ErrorCode::UnknownSale, None)),
                    Err(_) => return Err((ErrorCode::QueueUnavailable, Some(1_000))),
                },
            },
        };
        let decision = self.gateway.limits.check(
            &self.gateway.config,
            identity,
            seats,
            seat_limit,
            picket_edge::clock::now_ms(),
        );
        match decision {
            CommandDecision::Allowed => Ok(()),
            CommandDecision::OverSeatLimit => Err((ErrorCode::OverSeatLimit, None)),
            CommandDecision::UserLimited { retry_after_ms } => {
                Err((ErrorCode::SlowDown, Some(retry_after_ms)))
            }
            CommandDecision::GlobalLimited { retry_after_ms } => {
                Err((ErrorCode::Busy, Some(retry_after_ms)))
            }
        }
    }

    /// Sends a checked command (made under `admission`, a jti, when it needs one) and tells the
    /// client the outcome.
    async fn submit(
        &mut self,
        id: String,
        sale: SaleId,
        admission: Option<u64>,
        request: Request,
        identity: &str,
    ) {
        let confirming = matches!(request.command, Command::Confirm { .. });
        let started = std::time::Instant::now();
        let outcome = self.gateway.ledger.submit(request).await;
        self.gateway
            .metrics
            .booking_seconds
            .observe(started.elapsed().as_secs_f64());
        match outcome {
            Ok(outcome) => {
                if let (true, Ok(_), Some(jti)) = (confirming, &outcome, admission) {
                    // The admission is spent (the ledger recorded it): refuse its token here at
                    // once, and free its slot for the next in line at the next push round (one
                    // store call for every admission spent on this gateway in the round). A
                    // replayed key returns its first outcome and ends the current admission
                    // too, so what the client is told (`admission_expired`) and what its token
                    // can do agree.
                    if !self.gateway.hub.end_admission(sale, identity, jti) {
                        let _ = self.gateway.store.finish(sale, identity).await;
                    }
                }
                self.send(&ServerMessage::result(id, outcome));
            }
            Err(picket_ledger_client::SubmitError::Overloaded) => {
                self.send(&ServerMessage::retry(Some(id), ErrorCode::Busy, 100));
            }
            Err(_) => self.send(&ServerMessage::retry(
                Some(id),
                ErrorCode::LedgerUnavailable,
                500,
            )),
        }
    }

    fn leave_all(&mut self) {
        if let Some(member) = self.notified.take() {
            crate::notify::unfollow(&self.gateway, member, self.id);
        }
        for sale in self.sales.drain(..) {
            self.gateway.hub.remove_member(sale, self.id);
        }
        for performance in self.watching.drain(..) {
            self.gateway.hub.remove_watcher(performance, self.id);
        }
        if !self.dashboards.is_empty() {
            for performance in self.dashboards.drain(..) {
                self.gateway.boards.remove(performance, self.id);
            }
            self.gateway
                .metrics
                .dashboards
                .set(self.gateway.boards.len() as i64);
        }
    }
}

/// A `confirm`'s payment, as the client named it.
struct Paying {
    sale: SaleId,
    hold: HoldId,
    payment_key: String,
    order_id: String,
}

/// The `checkout` answer: the ledger's hold, priced as it will be charged.
fn checkout_message(id: String, checkout: &Checkout, flow: &Flow) -> ServerMessage {
    let hold = &checkout.hold;
    ServerMessage::Checkout {
        id,
        order_id: checkout.order_id.to_string(),
        order_name: checkout.order_name.clone(),
        amount_won: hold.amount_won,
        breakdown: Breakdown {
            places: hold
                .places
                .iter()
                .map(|place| BreakdownPlace {
                    place: place.place,
                    grade: place.grade,
                    grade_code: place.grade_code.clone(),
                    list_won: place.list_won,
                    price_won: place.price_won,
                    booking_fee_won: place.booking_fee_won,
                })
                .collect(),
            discount_won: hold.discount_won,
            booking_fee_won: hold.booking_fee_won,
            coupon: hold.coupon.clone(),
            total_won: hold.amount_won,
        },
        expires_at_ms: hold.expires_at_ms,
        cancellation: Cancellation {
            deadline_ms: hold.cancellation_deadline_ms,
            fees: hold.fees.clone(),
            booking_fee_refund: BOOKING_FEE_REFUND_RULE.to_owned(),
        },
        provider: ProviderInfo {
            client_key: flow.client_key.clone(),
            checkout_url: flow.checkout_url.clone(),
        },
    }
}

/// The typed error a payment flow's refusal becomes.
pub fn payment_error_message(id: String, error: FlowError) -> ServerMessage {
    let (code, retry_after_ms) = match &error {
        FlowError::UnknownHold => (ErrorCode::UnknownHold, None),
        FlowError::NotYourHold => (ErrorCode::NotYourHold, None),
        FlowError::HoldClosed { reason } if *reason == "hold_expired" => {
            (ErrorCode::HoldExpired, None)
        }
        FlowError::HoldClosed { .. } => (ErrorCode::UnknownHold, None),
        FlowError::Declined { .. } => (ErrorCode::PaymentDeclined, None),
        FlowError::PaymentNotFound => (ErrorCode::PaymentNotFound, None),
        FlowError::AmountMismatch => (ErrorCode::PaymentAmountMismatch, None),
        FlowError::ProviderUnavailable { retry_after_ms } => {
            (ErrorCode::PaymentUnavailable, Some(*retry_after_ms))
        }
        FlowError::LedgerUnavailable { retry_after_ms } => {
            (ErrorCode::LedgerUnavailable, Some(*retry_after_ms))
        }
        FlowError::Refunded { .. } => (ErrorCode::PaymentRefunded, None),
    };
    let (provider_code, provider_message) = match &error {
        FlowError::Declined { code, message } => (Some(code.clone()), Some(message.clone())),
        _ => (None, None),
    };
    let reason = match error {
        FlowError::Refunded { reason, .. } => Some(reason),
        _ => None,
    };
    ServerMessage::Error {
        id: Some(id),
        message: code.message().to_owned(),
        code,
        retry_after_ms,
        provider_code,
        provider_message,
        reason,
    }
}

/// Seats a hold asks for.
fn seat_count(selection: &Selection) -> u32 {
    match selection {
        Selection::Seats(seats) => u32::try_from(seats.len()).unwrap_or(u32::MAX),
        Selection::BestAvailable { count, .. } | Selection::Zone { count, .. } => u32::from(*count),
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
