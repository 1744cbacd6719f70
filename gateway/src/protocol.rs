//! Protocol v2 between apps and the gateway: JSON text frames over a WebSocket with the
//! subprotocol `picket.v2`. `docs/protocol.md` documents every message here; a test keeps the two
//! equal.
//!
//! v2 differs from v1 in one thing: every id (sale, performance, hold, booking, ticket, and the
//! ids inside a `result`'s outcome) is a decimal string ([`picket_edge::id::Id`]), since
//! JavaScript reads JSON numbers exactly only up to 2^53 and Picket's ids go past it. An id sent
//! as a number is `invalid_field`.
//!
//! Every message is an object with a `type`. Decoding never panics and never allocates past the
//! frame it was given (itself bounded by [`crate::config::GatewayConfig::message_bytes_max`]).

use picket_edge::id::Id;
use picket_edge::outcome::{ClientOutcome, ClientReply, to_client};
use picket_ledger_core::offers::coupon_code_ok;
use picket_ledger_core::{
    BookingId, FeeSchedule, GradeId, HoldId, IdempotencyKey, Outcome, Place, Selection, TicketId,
};
use serde::{Deserialize, Serialize};

use picket_room::{SaleId, SaleStatus};

/// The WebSocket subprotocol of this version.
pub const SUBPROTOCOL: &str = "picket.v2";
pub const PROTOCOL_VERSION: u8 = 2;
/// Longest client-chosen correlation id or device id, in bytes.
pub const CLIENT_ID_LEN_MAX: usize = 64;
/// Longest payment key, in bytes (Toss's `paymentKey` bound, the ledger's payment reference).
pub const PAYMENT_KEY_LEN_MAX: usize = picket_ledger_core::limits::PAYMENT_REF_LEN_MAX;
/// Longest order id, in bytes (Toss's bound).
pub const ORDER_ID_LEN_MAX: usize = 64;
/// Seats one hold may name (the ledger's per-hold limit).
pub const SEATS_PER_HOLD_MAX: usize = picket_ledger_core::limits::PER_BUYER_LIMIT_MAX as usize;

/// What an app sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ClientMessage {
    /// The first message: a member's session token, or a guest device id (the gateway then
    /// issues a guest token), or a guest token from an earlier `welcome`.
    Hello {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        token: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device: Option<String>,
    },
    /// Join a sale's waiting room (or rejoin it after a reconnect: the place is kept).
    Join {
        sale: Id<SaleId>,
    },
    Leave {
        sale: Id<SaleId>,
    },
    /// Receive the live seat map of a performance.
    Watch {
        performance: Id<u64>,
    },
    Unwatch {
        performance: Id<u64>,
    },
    /// The seller's live dashboard of one of their performances (a seller's or an admin's
    /// session): `dashboard` messages until `undashboard`.
    Dashboard {
        performance: Id<u64>,
    },
    Undashboard {
        performance: Id<u64>,
    },
    Hold {
        id: String,
        sale: Id<SaleId>,
        key: String,
        admission: String,
        selection: Selection,
        /// One of the performance's discounts, by index (early-bird, eligibility).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        discount: Option<u16>,
        /// A coupon code, any case. A hold takes a discount or a coupon, not both.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        coupon: Option<String>,
    },
    Release {
        id: String,
        sale: Id<SaleId>,
        key: String,
        admission: String,
        hold: Id<HoldId>,
    },
    /// What paying for one's own hold will cost, and the order to pay it under.
    Checkout {
        id: String,
        sale: Id<SaleId>,
        hold: Id<HoldId>,
    },
    /// After paying at the provider: the server confirms the payment for the hold's amount,
    /// then books. The amount is never the client's.
    Confirm {
        id: String,
        sale: Id<SaleId>,
        key: String,
        admission: String,
        hold: Id<HoldId>,
        payment_key: String,
        order_id: String,
    },
    /// Cancel tickets of one's own booking (all still valid ones when `tickets` is empty); the
    /// refund is the price less the fee that applies now. Needs no admission: the booking was
    /// paid under one, and the ledger checks it is the caller's.
    Cancel {
        id: String,
        sale: Id<SaleId>,
        key: String,
        booking: Id<BookingId>,
        #[serde(default)]
        tickets: Vec<Id<TicketId>>,
    },
}

impl ClientMessage {
    /// The correlation id of a booking command, to answer errors about it.
    pub fn id(&self) -> Option<&str> {
        match self {
            ClientMessage::Hold { id, .. }
            | ClientMessage::Release { id, .. }
            | ClientMessage::Confirm { id, .. }
            | ClientMessage::Checkout { id, .. }
            | ClientMessage::Cancel { id, .. } => Some(id),
            _ => None,
        }
    }
}

/// Limits the gateway tells a client in `welcome`, so a well-behaved app never hits them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub message_bytes_max: usize,
    pub messages_per_sec: u32,
    pub booking_attempts_per_sec: u32,
    pub idle_timeout_ms: u64,
}

/// The `queue` message's invitation to a sold-out performance's cancellation waitlist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitlistInvite {
    pub performance: Id<u64>,
    /// The API path that joins it: `POST` with `{grade, quantity, together}`.
    pub join: String,
}

impl WaitlistInvite {
    pub fn for_performance(performance: u64) -> Self {
        WaitlistInvite {
            performance: Id(performance),
            join: format!("/api/v2/performances/{performance}/waitlist"),
        }
    }
}

/// What the gateway sends.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerMessage {
    Welcome {
        protocol: u8,
        /// This connection's id (admission tokens are bound to it).
        conn: String,
        /// `m:<member>` or `g:<device>`: whose place this connection shares.
        identity: String,
        /// A guest token to send in `hello` next time, when the gateway issued one.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        guest_token: Option<String>,
        limits: Limits,
    },
    /// Where the client stands in a sale: pushed on join and at least every 2 seconds.
    Queue {
        sale: Id<SaleId>,
        status: SaleStatus,
        /// The client's place (absent in the pre-queue, before the draw).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        place: Option<u64>,
        /// Places ahead that have not had their turn yet.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        ahead: Option<u64>,
        /// Estimated seconds until the client's turn at the sale's admission rate.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        eta_s: Option<u64>,
        /// People in the pre-queue (its order is drawn at the open).
        prequeue: u64,
        open_at_ms: u64,
        /// SHA-256 of the draw seed, published before the open.
        seed_hash: String,
        /// The draw seed, revealed once the pre-queue has been drawn.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        seed: Option<String>,
        /// The client's own draw entry (hex), told only to it: where it stands in the published
        /// audit list. Present while in the pre-queue and at a drawn place.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        draw_entry: Option<String>,
        /// Present while the sale is `sold_out` and the performance takes a cancellation
        /// waitlist: how to join it over HTTP (a member session).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        waitlist: Option<WaitlistInvite>,
    },
    /// The client's turn: book with this token until it expires.
    Admitted {
        sale: Id<SaleId>,
        token: String,
        expires_at_ms: u64,
        seat_limit: u16,
    },
    /// The whole seat map of a watched performance as of journal `seq`.
    Seats {
        performance: Id<u64>,
        seq: u64,
        /// One bit per seat in spec order, 1 = on sale, least significant bit first in each
        /// byte, base64 (standard alphabet, padded).
        seat_free: String,
        zone_free: Vec<u32>,
        /// Places on sale in all.
        free: u64,
        /// The seller called the performance off: nothing is on sale, for good.
        cancelled: bool,
    },
    /// Changes to a watched seat map since the previous `seats`/`seats_changed`.
    SeatsChanged {
        performance: Id<u64>,
        seq: u64,
        taken: Vec<u32>,
        freed: Vec<u32>,
        zone_free: Vec<u32>,
        free: u64,
        /// As in `Seats`: once true, every later change says so too.
        cancelled: bool,
    },
    /// The ledger's committed answer to a booking command.
    Result {
        id: String,
        outcome: ClientOutcome,
        /// The rejection's stable code when `outcome` is `Err`.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        code: Option<String>,
    },
    Error {
        /// The booking command this error answers, when it answers one.
        #[serde(skip_serializing_if = "Option::is_none", default)]
        id: Option<String>,
        code: ErrorCode,
        message: String,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        retry_after_ms: Option<u64>,
        /// `payment_declined`: the provider's code and message (for the buyer, and support).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        provider_code: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        provider_message: Option<String>,
        /// `payment_refunded`: why the hold could not be booked (a ledger rejection code).
        #[serde(skip_serializing_if = "Option::is_none", default)]
        reason: Option<String>,
    },
    /// The answer to `checkout`: what is shown is exactly what is charged
    /// (`breakdown.total_won` = `amount_won` = the ledger's amount for the hold).
    Checkout {
        id: String,
        order_id: String,
        order_name: String,
        amount_won: u64,
        breakdown: Breakdown,
        expires_at_ms: u64,
        cancellation: Cancellation,
        provider: ProviderInfo,
    },
    /// This gateway is shutting down: reconnect (to any gateway) after `after_ms`. The place in
    /// every queue is kept for the sale's grace period.
    Reconnect { reason: String, after_ms: u64 },
    /// A notification for the connected member, live: the same fields as one item of
    /// `GET /api/v2/me/notifications`. At least once: the same `id` may come again (and is in
    /// the inbox too), so the app shows each id once. Best effort: one missed (no connection,
    /// a full send buffer) is in the inbox.
    Notification(NotificationItem),
    /// A performance's dashboard, whole, for a `dashboard` subscription: at once, then at most
    /// once per `dashboard_interval` while something changes, and every `dashboard_refresh`.
    Dashboard(Box<DashboardUpdate>),
    /// A `dashboard` subscription the gateway ended: the session behind it ended
    /// (`session_ended`) or its account no longer manages the performance (`forbidden`). No
    /// more `dashboard` of it comes; `dashboard` again (after signing in again) starts over.
    DashboardEnded {
        performance: Id<u64>,
        code: ErrorCode,
        message: String,
    },
}

/// One `dashboard` message (docs/protocol.md, "The seller's dashboard").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardUpdate {
    pub performance: Id<u64>,
    /// When the gateway composed it (ms since the epoch).
    pub at_ms: u64,
    /// The waiting room now; `null` when the performance has no sale (or the queue store did
    /// not answer).
    pub queue: Option<DashboardQueue>,
    /// Sales, grades, waitlist, door and settlement, from the API's records and the ledger.
    pub figures: picket_edge::dashboard::DashboardFigures,
}

/// The waiting room's numbers as the dashboard shows them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardQueue {
    pub status: SaleStatus,
    pub open_at_ms: u64,
    /// Places given in the line whose turn has not come yet (some may have left).
    pub waiting: u64,
    /// Places whose turn has come, in all.
    pub admitted: u64,
    /// Admissions live now (at most `active_max`).
    pub active: u64,
    pub prequeue: u64,
    pub admit_per_sec: u32,
    pub active_max: u32,
    pub paused: bool,
}

impl DashboardQueue {
    pub fn of(view: &picket_room::SaleView) -> Self {
        DashboardQueue {
            status: view.status,
            open_at_ms: view.settings.open_at_ms,
            waiting: view.tail.saturating_sub(view.watermark),
            admitted: view.watermark,
            active: view.active,
            prequeue: view.prequeue,
            admit_per_sec: view.settings.admit_per_sec,
            active_max: view.settings.active_max,
            paused: view.settings.paused,
        }
    }
}

/// One notification as the inbox lists it (docs/protocol.md, "Notifications").
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationItem {
    pub id: String,
    pub kind: String,
    pub created_at_ms: u64,
    pub read: bool,
    /// The language of `title` and `body` (`ko` or `en`).
    pub language: String,
    pub title: String,
    pub body: String,
    pub texts: NotificationTexts,
    /// Ids to open, as decimal strings (`show`, `performance`, `booking`, `entry`).
    pub data: std::collections::BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationTexts {
    pub ko: NotificationText,
    pub en: NotificationText,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationText {
    pub title: String,
    pub body: String,
}

impl ServerMessage {
    pub fn result(id: String, outcome: Outcome) -> Self {
        let code = outcome.as_ref().err().map(|r| r.code().to_owned());
        ServerMessage::Result {
            id,
            outcome: to_client(outcome),
            code,
        }
    }

    pub fn error(id: Option<String>, code: ErrorCode) -> Self {
        ServerMessage::Error {
            id,
            message: code.message().to_owned(),
            code,
            retry_after_ms: None,
            provider_code: None,
            provider_message: None,
            reason: None,
        }
    }

    pub fn retry(id: Option<String>, code: ErrorCode, retry_after_ms: u64) -> Self {
        ServerMessage::Error {
            id,
            message: code.message().to_owned(),
            code,
            retry_after_ms: Some(retry_after_ms),
            provider_code: None,
            provider_message: None,
            reason: None,
        }
    }

    pub fn to_json(&self) -> String {
        // Every server message is plain data that serde_json encodes without failing.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// What a checkout shows: each place's price, the offer, the booking fees, and the total
/// (`total_won` = the places' `price_won` + `booking_fee_won`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breakdown {
    pub places: Vec<BreakdownPlace>,
    pub discount_won: u64,
    /// The performance's booking fee, once per place (0 when the seller charges none).
    pub booking_fee_won: u64,
    /// The coupon's code, when the hold took one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub coupon: Option<String>,
    pub total_won: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreakdownPlace {
    pub place: Place,
    /// The grade's index and its code ("VIP").
    pub grade: GradeId,
    pub grade_code: String,
    /// The grade price, and what this place costs after the offer.
    pub list_won: u64,
    pub price_won: u64,
    /// The booking fee on this place.
    pub booking_fee_won: u64,
}

/// When online cancellation closes and the fee schedule it follows (the performance's).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cancellation {
    pub deadline_ms: u64,
    pub fees: FeeSchedule,
    /// When the booking fee comes back: always
    /// [`picket_payments::flow::BOOKING_FEE_REFUND_RULE`].
    pub booking_fee_refund: String,
}

/// Where and with which key the buyer pays.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderInfo {
    pub client_key: String,
    pub checkout_url: String,
}

/// Every error a client can get from the gateway itself (ledger rejections come in `result`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadJson,
    UnknownType,
    InvalidField,
    TooBig,
    BinaryNotSupported,
    NotAuthenticated,
    AlreadyAuthenticated,
    TokenInvalid,
    TokenExpired,
    RateLimited,
    SlowDown,
    Busy,
    NoAdmission,
    AdmissionInvalid,
    AdmissionExpired,
    OverSeatLimit,
    UnknownSale,
    QueueUnavailable,
    LedgerUnavailable,
    TooManySubscriptions,
    /// The hold is another buyer's.
    NotYourHold,
    /// No such hold (or released): nothing to pay.
    UnknownHold,
    /// The hold's deadline passed: nothing was charged.
    HoldExpired,
    /// The card was refused (`provider_code`, `provider_message`): the hold stays until its
    /// deadline; try another card.
    PaymentDeclined,
    /// A made-up payment key, or another order's.
    PaymentNotFound,
    /// The buyer authorised another amount than the hold's.
    PaymentAmountMismatch,
    /// The provider (or this server's payments) is unavailable: retry after `retry_after_ms`.
    PaymentUnavailable,
    /// Approved, but the hold could not be booked (`reason`), so the payment was voided at once.
    PaymentRefunded,
    /// `dashboard` of a performance the session's account does not manage (a buyer, a guest,
    /// another seller).
    Forbidden,
    /// The dashboard's figures could not be read (the database or the ledger did not answer).
    DashboardUnavailable,
    /// In `dashboard_ended`: the session the dashboard was followed with ended (signed out,
    /// expired, or its account disabled): sign in again.
    SessionEnded,
}

impl ErrorCode {
    /// The message shown with the code: Korean first, then English.
    pub fn message(self) -> &'static str {
        match self {
            ErrorCode::BadJson => "잘못된 JSON입니다 / not valid JSON",
            ErrorCode::UnknownType => "알 수 없는 메시지입니다 / unknown message type",
            ErrorCode::InvalidField => "필드 값이 잘못되었습니다 / a field is missing or invalid",
            ErrorCode::TooBig => "메시지가 너무 큽니다 / message too big",
            ErrorCode::BinaryNotSupported => {
                "텍스트 메시지만 받습니다 / only JSON text frames are accepted"
            }
            ErrorCode::NotAuthenticated => "먼저 hello를 보내세요 / send hello first",
            ErrorCode::AlreadyAuthenticated => "이미 인증되었습니다 / already said hello",
            ErrorCode::TokenInvalid => "토큰이 올바르지 않습니다 / token invalid",
            ErrorCode::TokenExpired => "토큰이 만료되었습니다 / token expired",
            ErrorCode::RateLimited => {
                "메시지를 너무 빨리 보냈습니다 / too many messages, slow down"
            }
            ErrorCode::SlowDown => {
                "잠시 후 다시 시도하세요 / too many booking attempts, retry later"
            }
            ErrorCode::Busy => "접속이 많아 잠시 후 다시 시도하세요 / booking is busy, retry later",
            ErrorCode::NoAdmission => {
                "대기열 입장 후 예매할 수 있습니다 / wait for your turn in the queue"
            }
            ErrorCode::AdmissionInvalid => "입장권이 올바르지 않습니다 / admission token invalid",
            ErrorCode::AdmissionExpired => {
                "예매 시간이 끝났습니다. 다시 대기해 주세요 / admission expired, queue again"
            }
            ErrorCode::OverSeatLimit => {
                "한 번에 선택할 수 있는 좌석 수를 넘었습니다 / too many seats"
            }
            ErrorCode::UnknownSale => "판매 정보가 없습니다 / no such sale",
            ErrorCode::QueueUnavailable => {
                "대기열이 잠시 멈췄습니다. 순서는 유지됩니다 / queue paused, your place is kept"
            }
            ErrorCode::LedgerUnavailable => {
                "예매 처리가 지연되고 있습니다. 같은 키로 다시 시도하세요 / booking unavailable, retry with the same key"
            }
            ErrorCode::TooManySubscriptions => {
                "구독이 너무 많습니다 / too many sales or seat maps at once"
            }
            ErrorCode::NotYourHold => "본인의 예약이 아닙니다 / not your hold",
            ErrorCode::UnknownHold => "예약 정보가 없습니다 / no such hold",
            ErrorCode::HoldExpired => {
                "예약 시간이 지났습니다. 결제되지 않았습니다 / the hold expired; nothing was charged"
            }
            ErrorCode::PaymentDeclined => {
                "결제가 거절되었습니다. 다른 카드로 다시 시도하세요 / payment declined; the hold stays, try another card"
            }
            ErrorCode::PaymentNotFound => {
                "결제 정보를 찾을 수 없습니다 / no such payment for this order"
            }
            ErrorCode::PaymentAmountMismatch => {
                "결제 금액이 예약 금액과 다릅니다 / the payment's amount is not the hold's"
            }
            ErrorCode::PaymentUnavailable => {
                "결제 확인이 지연되고 있습니다. 잠시 후 다시 시도하세요 / payment unavailable, retry"
            }
            ErrorCode::PaymentRefunded => {
                "예약을 확정할 수 없어 결제를 바로 취소했습니다 / the hold could not be booked, so the payment was voided"
            }
            ErrorCode::Forbidden => {
                "이 공연의 판매 현황을 볼 권한이 없습니다 / not your performance's dashboard"
            }
            ErrorCode::DashboardUnavailable => {
                "판매 현황을 불러올 수 없습니다. 잠시 후 다시 시도하세요 / dashboard unavailable, retry"
            }
            ErrorCode::SessionEnded => {
                "로그인이 만료되었습니다. 다시 로그인하세요 / session ended, sign in again"
            }
        }
    }
}

/// Close codes the gateway uses (besides 1000 normal closure).
pub mod close {
    /// The client's frames broke RFC 6455 (unmasked, reserved bits or opcodes, bad control
    /// frames).
    pub const PROTOCOL_ERROR: u16 = 1002;
    /// A text message that is not UTF-8 (RFC 6455).
    pub const INVALID_DATA: u16 = 1007;
    /// A frame or message over the size limit (RFC 6455).
    pub const TOO_BIG: u16 = 1009;
    /// The gateway is draining for a restart: reconnect elsewhere (RFC 6455 1012).
    pub const SERVICE_RESTART: u16 = 1012;
    /// Over capacity: try again later (RFC 6455 1013).
    pub const TRY_AGAIN_LATER: u16 = 1013;
    /// Nothing heard within the idle timeout (pongs count).
    pub const IDLE_TIMEOUT: u16 = 4000;
    /// No valid `hello` in time, or its token was invalid.
    pub const NOT_AUTHENTICATED: u16 = 4001;
    /// Kept sending after being told to slow down.
    pub const FLOOD: u16 = 4008;
    /// Did not read its messages: the gateway will not buffer without bound.
    pub const SLOW_READER: u16 = 4009;
}

/// Why a frame did not decode: the error code the client gets.
pub fn decode(text: &str) -> Result<ClientMessage, ErrorCode> {
    decode_with_id(text).map_err(|refusal| refusal.code)
}

/// A frame that did not decode: the code, and the message's correlation id when it carried a
/// valid one, so the client can tell which request the error answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Refusal {
    pub code: ErrorCode,
    pub id: Option<String>,
}

/// [`decode`], keeping the message's `id` (when it is a valid correlation id) for the error.
pub fn decode_with_id(text: &str) -> Result<ClientMessage, Refusal> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|_| Refusal {
        code: ErrorCode::BadJson,
        id: None,
    })?;
    // Only a string a valid message could carry is echoed: never an unbounded or odd value.
    let id = value
        .get("id")
        .and_then(|id| id.as_str())
        .filter(|id| short_printable(id))
        .map(str::to_owned);
    decode_value(value).map_err(|code| Refusal { code, id })
}

fn decode_value(value: serde_json::Value) -> Result<ClientMessage, ErrorCode> {
    let Some(kind) = value.get("type").and_then(|t| t.as_str()) else {
        return Err(ErrorCode::UnknownType);
    };
    const KNOWN: [&str; 12] = [
        "hello",
        "join",
        "leave",
        "watch",
        "unwatch",
        "dashboard",
        "undashboard",
        "hold",
        "release",
        "checkout",
        "confirm",
        "cancel",
    ];
    if !KNOWN.contains(&kind) {
        return Err(ErrorCode::UnknownType);
    }
    // Protocol v2 before payments took the amount and payment reference from the client: such
    // a confirm is refused, never read as the new one with extra fields.
    if kind == "confirm"
        && (value.get("payment_ref").is_some() || value.get("amount_won").is_some())
    {
        return Err(ErrorCode::InvalidField);
    }
    let message: ClientMessage =
        serde_json::from_value(value).map_err(|_| ErrorCode::InvalidField)?;
    validate(&message)?;
    Ok(message)
}

fn short_printable(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= CLIENT_ID_LEN_MAX
        && text.bytes().all(|b| b.is_ascii_graphic())
}

/// Shape rules beyond the types: lengths, keys, counts.
fn validate(message: &ClientMessage) -> Result<(), ErrorCode> {
    let ok = match message {
        ClientMessage::Hello { token, device } => {
            token
                .as_ref()
                .is_none_or(|t| t.len() <= picket_edge::token::TOKEN_LEN_MAX)
                && device.as_deref().is_none_or(short_printable)
                && (token.is_some() || device.is_some())
        }
        ClientMessage::Hold {
            id,
            key,
            selection,
            discount,
            coupon,
            ..
        } => {
            let seats_ok = match selection {
                Selection::Seats(seats) => seats.len() <= SEATS_PER_HOLD_MAX,
                _ => true,
            };
            // Offers never stack: one discount or one coupon per order.
            let offer_ok = match (discount, coupon) {
                (Some(_), Some(_)) => false,
                (None, Some(code)) => coupon_code_ok(&code.to_ascii_uppercase()),
                _ => true,
            };
            short_printable(id) && IdempotencyKey::new(key.as_str()).is_ok() && seats_ok && offer_ok
        }
        ClientMessage::Release { id, key, .. } => {
            short_printable(id) && IdempotencyKey::new(key.as_str()).is_ok()
        }
        ClientMessage::Cancel {
            id, key, tickets, ..
        } => {
            short_printable(id)
                && IdempotencyKey::new(key.as_str()).is_ok()
                && tickets.len() <= SEATS_PER_HOLD_MAX
        }
        ClientMessage::Checkout { id, .. } => short_printable(id),
        ClientMessage::Confirm {
            id,
            key,
            payment_key,
            order_id,
            ..
        } => {
            short_printable(id)
                && IdempotencyKey::new(key.as_str()).is_ok()
                && !payment_key.is_empty()
                && payment_key.len() <= PAYMENT_KEY_LEN_MAX
                && payment_key.bytes().all(|b| b.is_ascii_graphic())
                && !order_id.is_empty()
                && order_id.len() <= ORDER_ID_LEN_MAX
        }
        _ => true,
    };
    if ok {
        Ok(())
    } else {
        Err(ErrorCode::InvalidField)
    }
}

/// Encodes a seat map's free flags as the `seat_free` bitmap.
pub fn seat_bitmap(seat_free: &[bool]) -> String {
    use base64::Engine;
    let mut bytes = vec![0u8; seat_free.len().div_ceil(8)];
    for (index, free) in seat_free.iter().enumerate() {
        if *free {
            bytes[index / 8] |= 1 << (index % 8);
        }
    }
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The reply a confirm or hold gets, for tests and tools that read `result` messages.
pub fn reply_of(message: &ServerMessage) -> Option<&ClientReply> {
    match message {
        ServerMessage::Result {
            outcome: Ok(reply), ..
        } => Some(reply),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn decodes_every_kind() {
        let cases = [
            r#"{"type":"hello","device":"phone-1"}"#,
            r#"{"type":"join","sale":"77"}"#,
            r#"{"type":"watch","performance":"117701597864396273"}"#,
            r#"{"type":"hold","id":"c1","sale":"77","key":"k1","admission":"t","selection":{"Seats":[0,1]}}"#,
            r#"{"type":"release","id":"c2","sale":"77","key":"k2","admission":"t","hold":"5"}"#,
            r#"{"type":"checkout","id":"c8","sale":"77","hold":"5"}"#,
            r#"{"type":"confirm","id":"c3","sale":"77","key":"k3","admission":"t","hold":"5","payment_key":"tpk_1","order_id":"pk77h5n00000000000000ab"}"#,
            r#"{"type":"hold","id":"c4","sale":"77","key":"k4","admission":"t","selection":{"Seats":[0]},"discount":1}"#,
            r#"{"type":"hold","id":"c5","sale":"77","key":"k5","admission":"t","selection":{"Seats":[0]},"coupon":"welcome-5000"}"#,
            r#"{"type":"cancel","id":"c6","sale":"77","key":"k6","booking":"3"}"#,
            r#"{"type":"cancel","id":"c7","sale":"77","key":"k7","booking":"3","tickets":["5","18446744073709551615"]}"#,
        ];
        for case in cases {
            assert!(decode(case).is_ok(), "{case}");
        }
    }

    #[test]
    fn rejects_with_the_documented_code() {
        let cases = [
            ("not json", ErrorCode::BadJson),
            ("[1,2]", ErrorCode::UnknownType),
            (r#"{"type":"teleport"}"#, ErrorCode::UnknownType),
            (r#"{"type":7}"#, ErrorCode::UnknownType),
            (r#"{"type":"join"}"#, ErrorCode::InvalidField),
            (r#"{"type":"join","sale":-1}"#, ErrorCode::InvalidField),
            // v2: ids are strings of digits, never numbers, signs or out of range.
            (r#"{"type":"join","sale":77}"#, ErrorCode::InvalidField),
            (r#"{"type":"join","sale":"-1"}"#, ErrorCode::InvalidField),
            (r#"{"type":"join","sale":"+1"}"#, ErrorCode::InvalidField),
            (r#"{"type":"join","sale":""}"#, ErrorCode::InvalidField),
            (r#"{"type":"join","sale":"1.0"}"#, ErrorCode::InvalidField),
            (
                r#"{"type":"join","sale":"18446744073709551616"}"#,
                ErrorCode::InvalidField,
            ),
            (
                r#"{"type":"watch","performance":117701597864396273}"#,
                ErrorCode::InvalidField,
            ),
            (r#"{"type":"hello"}"#, ErrorCode::InvalidField),
            (
                r#"{"type":"hold","id":"c1","sale":"1","key":"has space","admission":"t","selection":{"Seats":[0]}}"#,
                ErrorCode::InvalidField,
            ),
            // Offers never stack, and a coupon code has one shape.
            (
                r#"{"type":"hold","id":"c1","sale":"1","key":"k","admission":"t","selection":{"Seats":[0]},"discount":0,"coupon":"WELCOME"}"#,
                ErrorCode::InvalidField,
            ),
            (
                r#"{"type":"hold","id":"c1","sale":"1","key":"k","admission":"t","selection":{"Seats":[0]},"coupon":"no spaces allowed"}"#,
                ErrorCode::InvalidField,
            ),
            (
                r#"{"type":"hold","id":"c1","sale":"1","key":"k","admission":"t","selection":{"Seats":[0]},"discount":-1}"#,
                ErrorCode::InvalidField,
            ),
            (
                r#"{"type":"hold","id":"c1","sale":"1","key":"k","admission":"t","selection":{"Seats":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]}}"#,
                ErrorCode::InvalidField,
            ),
            (
                r#"{"type":"confirm","id":"c","sale":"1","key":"k","admission":"t","hold":"1","payment_key":"","order_id":"pk1h1n0000000000000000"}"#,
                ErrorCode::InvalidField,
            ),
            // The amount and payment reference are never the client's any more.
            (
                r#"{"type":"confirm","id":"c","sale":"1","key":"k","admission":"t","hold":"1","payment_ref":"made-up","amount_won":1}"#,
                ErrorCode::InvalidField,
            ),
            (
                r#"{"type":"confirm","id":"c","sale":"1","key":"k","admission":"t","hold":"1","payment_key":"tpk_1","order_id":"pk1h1n0000000000000000","amount_won":1}"#,
                ErrorCode::InvalidField,
            ),
        ];
        for (text, code) in cases {
            assert_eq!(decode(text), Err(code), "{text}");
        }
    }

    #[test]
    fn refusals_carry_a_valid_id_only() {
        let cases = [
            (
                r#"{"type":"hold","id":"c1","sale":"x"}"#,
                ErrorCode::InvalidField,
                Some("c1"),
            ),
            (
                r#"{"type":"teleport","id":"c2"}"#,
                ErrorCode::UnknownType,
                Some("c2"),
            ),
            // A numeric id in v2 is refused, and the error names the request.
            (
                r#"{"type":"release","id":"c3","sale":"1","key":"k","admission":"t","hold":5}"#,
                ErrorCode::InvalidField,
                Some("c3"),
            ),
            (
                r#"{"type":"cancel","id":"c4","sale":"1","key":"k","booking":"3","tickets":[5]}"#,
                ErrorCode::InvalidField,
                Some("c4"),
            ),
            (
                r#"{"type":"hold","id":"has space","sale":"1"}"#,
                ErrorCode::InvalidField,
                None,
            ),
            (
                r#"{"type":"hold","id":7,"sale":"1"}"#,
                ErrorCode::InvalidField,
                None,
            ),
            ("not json", ErrorCode::BadJson, None),
        ];
        for (text, code, id) in cases {
            let refusal = decode_with_id(text).expect_err(text);
            assert_eq!(refusal.code, code, "{text}");
            assert_eq!(refusal.id.as_deref(), id, "{text}");
        }
    }

    #[test]
    fn bitmap_sets_one_bit_per_free_seat() {
        use base64::Engine;
        let encoded = seat_bitmap(&[true, false, true, true, false, false, false, false, true]);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .expect("base64");
        assert_eq!(bytes, vec![0b0000_1101, 0b0000_0001]);
    }

    proptest! {
        /// The decoder never panics, whatever arrives.
        #[test]
        fn decoding_arbitrary_text_never_panics(text in ".{0,300}") {
            let _ = decode(&text);
        }

        /// Structured noise: objects with a known type and random fields decode or give a
        /// documented code, and whatever decodes passes validation again when re-encoded.
        #[test]
        fn decoded_messages_round_trip(
            kind in prop::sample::select(vec!["hello", "join", "leave", "watch", "hold", "release", "checkout", "confirm", "x"]),
            sale in any::<i64>(),
            key in "[ -~]{0,70}",
            seats in prop::collection::vec(0u32..100, 0..20),
        ) {
            let text = serde_json::json!({
                "type": kind, "sale": sale.to_string(), "performance": sale.to_string(), "id": "c",
                "key": key, "admission": "t", "hold": sale.to_string(), "payment_key": key, "order_id": key,
                "device": key, "selection": {"Seats": seats},
            }).to_string();
            match decode(&text) {
                Ok(message) => {
                    let again = serde_json::to_string(&message).expect("encodes");
                    prop_assert_eq!(decode(&again), Ok(message));
                }
                Err(code) => prop_assert!(matches!(code, ErrorCode::InvalidField | ErrorCode::UnknownType)),
            }
        }
    }
}
