//! Errors as `application/problem+json` (RFC 9457) with a stable `code` for clients, and, for
//! validation, one entry per field that says what is wrong.

use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
pub use picket_edge::problem::FieldError;
use picket_edge::problem::Problem;

/// " of N bytes" when the limit is known where the error is made.
fn limit_text(bytes_max: Option<usize>) -> String {
    bytes_max.map_or_else(String::new, |bytes| format!(" of {bytes} bytes"))
}

/// Every error the API answers with; `code` is stable, `detail` is for people.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("the request is invalid")]
    Invalid(Vec<FieldError>),
    #[error("the body is not the JSON this endpoint takes: {0}")]
    BadBody(String),
    /// A path or query parameter is not of its type (axum's `Path` or `Query` refused it).
    #[error("a parameter is not what this endpoint takes: {0}")]
    BadParameter(String),
    /// The body's `Content-Type` is not one the endpoint takes.
    #[error("send the body as {0}")]
    UnsupportedMediaType(&'static str),
    /// The body is longer than the endpoint takes.
    #[error("the body is over this route's limit{}", limit_text(*.bytes_max))]
    TooLarge { bytes_max: Option<usize> },
    #[error("sign in first")]
    Unauthenticated,
    #[error("this account may not do that")]
    Forbidden,
    #[error("no such {0}")]
    NotFound(&'static str),
    /// No route has this path (the router's fallback).
    #[error("no such route; the routes are listed at /api/openapi.json")]
    NoRoute,
    /// The route exists, not with this method (its `Allow` header lists the methods).
    #[error("this route does not take this method")]
    MethodNotAllowed,
    #[error("{0}")]
    Conflict(&'static str),
    /// `PUT /api/v2/venues/{id}` while a published performance uses the venue: its seat ids are
    /// on sale, and a new layout would renumber them.
    #[error(
        "공연이 공개된 공연장은 좌석 배치를 바꿀 수 없습니다. 새 공연장으로 저장하세요 / a published performance uses this venue: save the layout as a new venue"
    )]
    VenueInUse,
    #[error("wrong email or password")]
    WrongCredentials,
    #[error("too many attempts; try again in {retry_after_s} s")]
    TooManyAttempts { retry_after_s: u64 },
    #[error("storage is unavailable")]
    Store(#[from] sqlx::Error),
    #[error("the waiting room is unavailable; try again")]
    QueueUnavailable(String),
    #[error("banner storage is unavailable; try again")]
    MediaUnavailable(#[from] crate::media::BannerStoreError),
    #[error("send Authorization: Bearer <operator token>")]
    OperatorOnly,
    #[error("no such sale")]
    UnknownSale,
    #[error("the pre-queue is drawn at the open; the seed and order are published then")]
    NotDrawn,
    /// The ledger refused the command; `detail` carries the ledger's own code.
    #[error("the ledger refused ({code}): {0}", code = .0.code())]
    Rejected(picket_ledger_core::Rejection),
    /// The performance is open in the ledger with another spec (or with this one longer ago than
    /// the ledger keeps idempotency keys); an open performance's spec is never replaced.
    #[error("the performance is already open with another spec")]
    PerformanceAlreadyOpen,
    #[error("the ledger did not answer; try again")]
    LedgerUnavailable,
    #[error("internal error")]
    Internal(String),
    /// A checkout or a payment the flow refused (`picket_payments::FlowError`).
    #[error("{}", payment_detail(.0))]
    Payment(picket_payments::FlowError),
    /// A webhook whose signature is missing, wrong or stale.
    #[error("the webhook's signature is missing, wrong or too old")]
    WebhookSignature,
    /// A payment of a sale with a queue came without the buyer's admission token (invariant 7).
    #[error("대기열 입장권이 필요합니다 / send the admission token the waiting room gave you")]
    NoAdmission,
    /// The admission token is not the gateway's, not for this sale, or not the buyer's.
    #[error("유효하지 않은 입장권입니다 / the admission token is not valid for this sale")]
    AdmissionInvalid,
    #[error(
        "이 경로는 WebSocket 업그레이드만 받습니다 / this route takes a WebSocket upgrade only"
    )]
    WebSocketRequired,
    /// The admission ran out or was spent (by a booking); join the queue again.
    #[error("입장 시간이 끝났습니다 / the admission has ended; join the queue again")]
    AdmissionExpired,
    /// What a ticket's holder asked (a transfer, a printed code) is refused.
    #[error("{0}")]
    Ticket(TicketRefusal),
    /// What a member asked of a performance's waitlist is refused.
    #[error("{0}")]
    Waitlist(WaitlistRefusal),
    /// The member keeps the most push subscriptions allowed (`push.rs`).
    #[error(
        "알림을 받을 기기는 {limit}대까지 등록할 수 있습니다. 쓰지 않는 기기를 지우세요 / at most {limit} push subscriptions per member: delete one first"
    )]
    TooManyPushSubscriptions { limit: usize },
    /// The show's company is `pending` or `suspended` (the field): it drafts shows, an admin
    /// must approve it before it publishes.
    #[error(
        "판매자 승인 후에 공연을 공개할 수 있습니다 (현재: {0}). 관리자 승인을 기다려 주세요 / the company is {0}: an admin must approve it before it publishes shows"
    )]
    CompanyNotApproved(&'static str),
}

/// Why a member may not join, leave or decline in a performance's waitlist; each has its own
/// code (docs/protocol.md, "Waitlist over HTTP"). A guest is told `members_only`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum WaitlistRefusal {
    #[error(
        "회원만 취소표 대기를 신청할 수 있습니다. 회원가입 후 이용하세요 / only members join a waitlist: sign up first"
    )]
    MembersOnly,
    #[error("이 공연은 취소표 대기를 받지 않습니다 / this performance takes no waitlist")]
    Closed,
    #[error("취소표 대기 인원이 가득 찼습니다 / the performance's waitlist is full")]
    Full,
    #[error(
        "이 공연에 취소표 대기를 {limit}건까지 신청할 수 있습니다 / at most {limit} waitlist entries per member in one performance"
    )]
    TooManyEntries { limit: u16 },
    #[error(
        "취소표 대기는 {limit}개 공연 회차까지 신청할 수 있습니다 / waitlists of at most {limit} performances at once"
    )]
    TooManyWaitlists { limit: u16 },
    #[error(
        "1인 구매 한도({limit}매)를 넘습니다. 이미 {already}매를 가지고 있습니다 / over the per-buyer limit of {limit}: {already} already held or booked"
    )]
    OverBuyerLimit { limit: u16, already: u16 },
    #[error(
        "판매가 끝났거나 취소된 공연입니다 / the performance's sale is closed or it was called off"
    )]
    SalesClosed,
    #[error(
        "취소표 대기 신청이 없습니다 / no such waitlist entry of yours that still waits or is offered"
    )]
    UnknownEntry,
    #[error("아직 제안된 좌석이 없습니다 / the entry has no open offer")]
    NoOffer,
    #[error(
        "등록된 자동결제 수단이 없습니다 / no such registered payment method of yours (auto-pay)"
    )]
    UnknownBillingMethod,
    #[error(
        "자동결제 수단은 {limit}개까지 등록할 수 있습니다 / at most {limit} registered payment methods per member"
    )]
    TooManyBillingMethods { limit: u16 },
}

impl WaitlistRefusal {
    /// Every refusal, for tests and documents.
    pub const ALL: [WaitlistRefusal; 11] = [
        WaitlistRefusal::MembersOnly,
        WaitlistRefusal::Closed,
        WaitlistRefusal::Full,
        WaitlistRefusal::TooManyEntries { limit: 1 },
        WaitlistRefusal::TooManyWaitlists { limit: 1 },
        WaitlistRefusal::OverBuyerLimit {
            limit: 1,
            already: 1,
        },
        WaitlistRefusal::SalesClosed,
        WaitlistRefusal::UnknownEntry,
        WaitlistRefusal::NoOffer,
        WaitlistRefusal::UnknownBillingMethod,
        WaitlistRefusal::TooManyBillingMethods { limit: 1 },
    ];

    pub fn code(&self) -> &'static str {
        match self {
            WaitlistRefusal::MembersOnly => "members_only",
            WaitlistRefusal::Closed => "waitlist_closed",
            WaitlistRefusal::Full => "waitlist_full",
            WaitlistRefusal::TooManyEntries { .. } => "too_many_waitlist_entries",
            WaitlistRefusal::TooManyWaitlists { .. } => "too_many_waitlists",
            WaitlistRefusal::OverBuyerLimit { .. } => "over_buyer_limit",
            WaitlistRefusal::SalesClosed => "waitlist_sales_closed",
            WaitlistRefusal::UnknownEntry => "unknown_waitlist_entry",
            WaitlistRefusal::NoOffer => "no_waitlist_offer",
            WaitlistRefusal::UnknownBillingMethod => "unknown_billing_method",
            WaitlistRefusal::TooManyBillingMethods { .. } => "too_many_billing_methods",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            // A guest token is no member session (401, like no session).
            WaitlistRefusal::MembersOnly => StatusCode::UNAUTHORIZED,
            WaitlistRefusal::UnknownEntry | WaitlistRefusal::UnknownBillingMethod => {
                StatusCode::NOT_FOUND
            }
            WaitlistRefusal::Closed
            | WaitlistRefusal::Full
            | WaitlistRefusal::TooManyEntries { .. }
            | WaitlistRefusal::TooManyWaitlists { .. }
            | WaitlistRefusal::OverBuyerLimit { .. }
            | WaitlistRefusal::SalesClosed
            | WaitlistRefusal::NoOffer
            | WaitlistRefusal::TooManyBillingMethods { .. } => StatusCode::CONFLICT,
        }
    }
}

/// Why a holder may not give a ticket away or print it; each has its own code
/// (docs/protocol.md, "Over HTTP").
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TicketRefusal {
    #[error(
        "회원만 티켓을 선물할 수 있습니다. 회원가입 후 이용하세요 / only members give tickets: sign up first"
    )]
    MembersOnly,
    #[error("이 공연은 티켓 양도를 허용하지 않습니다 / this show allows no transfers")]
    TransfersOff,
    #[error("양도 마감 시간이 지났습니다 / the show's transfer deadline has passed")]
    TransferDeadlinePassed,
    #[error("이미 입장에 사용된 티켓입니다 / the ticket was used at the door")]
    TicketUsed,
    #[error("취소된 티켓입니다 / the ticket was cancelled")]
    TicketCancelled,
    #[error("더 이상 양도할 수 없는 티켓입니다 / the ticket was given away as often as it may be")]
    TooManyTransfers,
    #[error(
        "받는 분이 이 공연의 1인 구매 한도({limit}매)만큼 이미 가지고 있습니다 / the recipient already holds {already} of the {limit} tickets one buyer may have"
    )]
    RecipientOverLimit { limit: u16, already: u16 },
    #[error("본인에게는 양도할 수 없습니다 / a ticket cannot be given to its holder")]
    TransferToSelf,
    #[error("이 이메일의 회원이 없습니다 / no member has this e-mail address")]
    UnknownMember,
    #[error("이 공연은 종이(고정) 티켓을 발행하지 않습니다 / this show issues no printed codes")]
    StaticTicketsOff,
}

impl TicketRefusal {
    /// Every refusal, for tests and documents.
    pub const ALL: [TicketRefusal; 10] = [
        TicketRefusal::MembersOnly,
        TicketRefusal::TransfersOff,
        TicketRefusal::TransferDeadlinePassed,
        TicketRefusal::TicketUsed,
        TicketRefusal::TicketCancelled,
        TicketRefusal::TooManyTransfers,
        TicketRefusal::RecipientOverLimit {
            limit: 4,
            already: 4,
        },
        TicketRefusal::TransferToSelf,
        TicketRefusal::UnknownMember,
        TicketRefusal::StaticTicketsOff,
    ];

    pub fn code(&self) -> &'static str {
        match self {
            TicketRefusal::MembersOnly => "members_only",
            TicketRefusal::TransfersOff => "transfers_off",
            TicketRefusal::TransferDeadlinePassed => "transfer_deadline_passed",
            TicketRefusal::TicketUsed => "ticket_used",
            TicketRefusal::TicketCancelled => "ticket_cancelled",
            TicketRefusal::TooManyTransfers => "too_many_transfers",
            TicketRefusal::RecipientOverLimit { .. } => "recipient_over_limit",
            TicketRefusal::TransferToSelf => "transfer_to_self",
            TicketRefusal::UnknownMember => "unknown_member",
            TicketRefusal::StaticTicketsOff => "static_tickets_off",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            // A guest token is no member session: sign up and sign in (401, like no session).
            TicketRefusal::MembersOnly => StatusCode::UNAUTHORIZED,
            TicketRefusal::TransferToSelf | TicketRefusal::UnknownMember => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            TicketRefusal::TransfersOff
            | TicketRefusal::TransferDeadlinePassed
            | TicketRefusal::TicketUsed
            | TicketRefusal::TicketCancelled
            | TicketRefusal::TooManyTransfers
            | TicketRefusal::RecipientOverLimit { .. }
            | TicketRefusal::StaticTicketsOff => StatusCode::CONFLICT,
        }
    }
}

/// What a payment refusal says to people (Korean first), with the provider's code and message
/// for a decline and the reason for a void.
fn payment_detail(error: &picket_payments::FlowError) -> String {
    use picket_payments::FlowError as E;
    match error {
        E::UnknownHold => "예약 정보가 없습니다 / no such hold".into(),
        E::NotYourHold => "본인의 예약이 아닙니다 / not your hold".into(),
        E::HoldClosed { reason } => {
            format!("결제할 수 없는 예약입니다 / the hold can no longer be paid ({reason})")
        }
        E::Declined { code, message } => format!(
            "결제가 거절되었습니다. 다른 카드로 다시 시도하세요 / payment declined ({code}: {message})"
        ),
        E::PaymentNotFound => {
            "결제 정보를 찾을 수 없습니다 / no such payment for this order".into()
        }
        E::AmountMismatch => {
            "결제 금액이 예약 금액과 다릅니다 / the payment's amount is not the hold's".into()
        }
        E::ProviderUnavailable { .. } => {
            "결제 확인이 지연되고 있습니다. 잠시 후 다시 시도하세요 / payment unavailable, retry"
                .into()
        }
        E::LedgerUnavailable { .. } => {
            "예매 처리가 지연되고 있습니다. 다시 시도하세요 / booking unavailable, retry".into()
        }
        E::Refunded { reason, .. } => format!(
            "예약을 확정할 수 없어 결제를 바로 취소했습니다 / the hold could not be booked, so the payment was voided ({reason})"
        ),
    }
}

impl ApiError {
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Invalid(_) => "invalid_request",
            ApiError::BadBody(_) => "bad_body",
            ApiError::BadParameter(_) => "bad_parameter",
            ApiError::UnsupportedMediaType(_) => "unsupported_media_type",
            ApiError::TooLarge { .. } => "too_large",
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::Forbidden => "forbidden",
            ApiError::NotFound(_) => "not_found",
            ApiError::NoRoute => "no_route",
            ApiError::MethodNotAllowed => "method_not_allowed",
            ApiError::Conflict(_) => "conflict",
            ApiError::VenueInUse => "venue_in_use",
            ApiError::WrongCredentials => "wrong_credentials",
            ApiError::TooManyAttempts { .. } => "too_many_attempts",
            ApiError::Store(_) => "store_unavailable",
            ApiError::QueueUnavailable(_) => "queue_unavailable",
            ApiError::MediaUnavailable(_) => "media_unavailable",
            ApiError::OperatorOnly => "operator_only",
            ApiError::UnknownSale => "unknown_sale",
            ApiError::NotDrawn => "not_drawn",
            ApiError::Rejected(_) => "ledger_rejected",
            ApiError::PerformanceAlreadyOpen => "performance_already_open",
            ApiError::LedgerUnavailable => "ledger_unavailable",
            ApiError::Internal(_) => "internal",
            ApiError::Payment(error) => payment_code(error),
            ApiError::WebhookSignature => "webhook_signature",
            ApiError::NoAdmission => "no_admission",
            ApiError::AdmissionInvalid => "admission_invalid",
            ApiError::AdmissionExpired => "admission_expired",
            ApiError::Ticket(refusal) => refusal.code(),
            ApiError::WebSocketRequired => "websocket_required",
            ApiError::Waitlist(refusal) => refusal.code(),
            ApiError::TooManyPushSubscriptions { .. } => "too_many_push_subscriptions",
            ApiError::CompanyNotApproved(_) => "company_not_approved",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::BadBody(_) | ApiError::BadParameter(_) => StatusCode::BAD_REQUEST,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::Unauthenticated | ApiError::WrongCredentials | ApiError::OperatorOnly => {
                StatusCode::UNAUTHORIZED
            }
            ApiError::Forbidden
            | ApiError::NoAdmission
            | ApiError::AdmissionInvalid
            | ApiError::AdmissionExpired
            | ApiError::CompanyNotApproved(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) | ApiError::UnknownSale | ApiError::NoRoute => {
                StatusCode::NOT_FOUND
            }
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Conflict(_)
            | ApiError::VenueInUse
            | ApiError::NotDrawn
            | ApiError::PerformanceAlreadyOpen
            | ApiError::TooManyPushSubscriptions { .. } => StatusCode::CONFLICT,
            ApiError::Rejected(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::TooManyAttempts { .. } => StatusCode::TOO_MANY_REQUESTS,
            ApiError::Store(_)
            | ApiError::QueueUnavailable(_)
            | ApiError::MediaUnavailable(_)
            | ApiError::LedgerUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Payment(error) => StatusCode::from_u16(payment_status(error))
                .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            ApiError::WebhookSignature => StatusCode::UNAUTHORIZED,
            ApiError::Ticket(refusal) => refusal.status(),
            ApiError::WebSocketRequired => StatusCode::UPGRADE_REQUIRED,
            ApiError::Waitlist(refusal) => refusal.status(),
        }
    }
}

/// Every code the API sends, with its status: the edge's one list, which the OpenAPI document's
/// `Problem.code` enum is made from.
pub use picket_edge::problem::CODES;

fn payment_code(error: &picket_payments::FlowError) -> &'static str {
    use picket_payments::FlowError as E;
    match error {
        E::UnknownHold => "unknown_hold",
        E::NotYourHold => "not_your_hold",
        E::HoldClosed { reason } if *reason == "hold_expired" => "hold_expired",
        E::HoldClosed { .. } => "unknown_hold",
        E::Declined { .. } => "payment_declined",
        E::PaymentNotFound => "payment_not_found",
        E::AmountMismatch => "payment_amount_mismatch",
        E::ProviderUnavailable { .. } => "payment_unavailable",
        E::LedgerUnavailable { .. } => "ledger_unavailable",
        E::Refunded { .. } => "payment_refunded",
    }
}

fn payment_status(error: &picket_payments::FlowError) -> u16 {
    let code = payment_code(error);
    CODES
        .iter()
        .find(|(known, _)| *known == code)
        .map_or(500, |(_, status)| *status)
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let retry_after_s = match &self {
            ApiError::TooManyAttempts { retry_after_s } => Some(*retry_after_s),
            ApiError::Payment(
                picket_payments::FlowError::ProviderUnavailable { retry_after_ms }
                | picket_payments::FlowError::LedgerUnavailable { retry_after_ms },
            ) => Some(retry_after_ms.div_ceil(1_000)),
            _ => None,
        };
        if let ApiError::Store(error) = &self {
            tracing::warn!(%error, "api store error");
        }
        if let ApiError::QueueUnavailable(error) = &self {
            tracing::warn!(%error, "waiting room store error");
        }
        if let ApiError::MediaUnavailable(error) = &self {
            tracing::warn!(%error, "banner store error");
        }
        if let ApiError::Internal(error) = &self {
            tracing::error!(%error, "api internal error");
        }
        let code = self.code();
        let upgrade = matches!(self, ApiError::WebSocketRequired);
        // Store errors are logged, not shown: they can carry connection details.
        let detail = match &self {
            ApiError::Store(_) => "storage is unavailable; try again".to_owned(),
            ApiError::Internal(_) => "internal error".to_owned(),
            other => other.to_string(),
        };
        let errors = match self {
            ApiError::Invalid(errors) => errors,
            _ => Vec::new(),
        };
        let mut response = Problem::new(status, code, detail)
            .with_errors(errors)
            .into_response();
        // Counted by code on /metrics (`operations::count_responses`).
        response
            .extensions_mut()
            .insert(crate::metrics::ProblemCode(code));
        if let Some(value) = retry_after_s.and_then(|s| s.to_string().parse().ok()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        if upgrade {
            // RFC 9110: a 426 names the protocol to upgrade to.
            response.headers_mut().insert(
                header::UPGRADE,
                header::HeaderValue::from_static("websocket"),
            );
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One error of each kind. The match below has no wildcard: a new variant does not compile
    /// until it is added here, and so checked against the documented list.
    fn one_of_each() -> Vec<ApiError> {
        let all = vec![
            ApiError::Invalid(Vec::new()),
            ApiError::BadBody(String::new()),
            ApiError::BadParameter(String::new()),
            ApiError::UnsupportedMediaType("application/json"),
            ApiError::TooLarge { bytes_max: None },
            ApiError::Unauthenticated,
            ApiError::Forbidden,
            ApiError::NotFound("show"),
            ApiError::NoRoute,
            ApiError::MethodNotAllowed,
            ApiError::Conflict("taken"),
            ApiError::VenueInUse,
            ApiError::WrongCredentials,
            ApiError::TooManyAttempts { retry_after_s: 1 },
            ApiError::Store(sqlx::Error::PoolTimedOut),
            ApiError::QueueUnavailable(String::new()),
            ApiError::MediaUnavailable(crate::media::BannerStoreError::Config(String::new())),
            ApiError::OperatorOnly,
            ApiError::UnknownSale,
            ApiError::NotDrawn,
            ApiError::Rejected(picket_ledger_core::Rejection::PerformanceAlreadyOpen),
            ApiError::PerformanceAlreadyOpen,
            ApiError::LedgerUnavailable,
            ApiError::Internal(String::new()),
            ApiError::WebhookSignature,
            ApiError::NoAdmission,
            ApiError::AdmissionInvalid,
            ApiError::AdmissionExpired,
            ApiError::WebSocketRequired,
            ApiError::TooManyPushSubscriptions { limit: 1 },
            ApiError::CompanyNotApproved("pending"),
        ];
        use picket_payments::FlowError as F;
        let flow_errors = [
            F::UnknownHold,
            F::NotYourHold,
            F::HoldClosed {
                reason: "hold_expired",
            },
            F::HoldClosed { reason: "released" },
            F::Declined {
                code: String::new(),
                message: String::new(),
            },
            F::PaymentNotFound,
            F::AmountMismatch,
            F::ProviderUnavailable { retry_after_ms: 1 },
            F::LedgerUnavailable { retry_after_ms: 1 },
            F::Refunded {
                reason: String::new(),
                voided: true,
            },
        ];
        for flow_error in &flow_errors {
            // Adding a FlowError variant fails to compile here until it is listed above.
            match flow_error {
                F::UnknownHold
                | F::NotYourHold
                | F::HoldClosed { .. }
                | F::Declined { .. }
                | F::PaymentNotFound
                | F::AmountMismatch
                | F::ProviderUnavailable { .. }
                | F::LedgerUnavailable { .. }
                | F::Refunded { .. } => {}
            }
        }
        let mut all = all;
        all.extend(flow_errors.into_iter().map(ApiError::Payment));
        for refusal in &TicketRefusal::ALL {
            // Adding a TicketRefusal variant fails to compile here until it is listed in ALL.
            match refusal {
                TicketRefusal::MembersOnly
                | TicketRefusal::TransfersOff
                | TicketRefusal::TransferDeadlinePassed
                | TicketRefusal::TicketUsed
                | TicketRefusal::TicketCancelled
                | TicketRefusal::TooManyTransfers
                | TicketRefusal::RecipientOverLimit { .. }
                | TicketRefusal::TransferToSelf
                | TicketRefusal::UnknownMember
                | TicketRefusal::StaticTicketsOff => {}
            }
        }
        all.extend(TicketRefusal::ALL.into_iter().map(ApiError::Ticket));
        for refusal in &WaitlistRefusal::ALL {
            // Adding a WaitlistRefusal variant fails to compile here until it is listed in ALL.
            match refusal {
                WaitlistRefusal::MembersOnly
                | WaitlistRefusal::Closed
                | WaitlistRefusal::Full
                | WaitlistRefusal::TooManyEntries { .. }
                | WaitlistRefusal::TooManyWaitlists { .. }
                | WaitlistRefusal::OverBuyerLimit { .. }
                | WaitlistRefusal::SalesClosed
                | WaitlistRefusal::UnknownEntry
                | WaitlistRefusal::NoOffer
                | WaitlistRefusal::UnknownBillingMethod
                | WaitlistRefusal::TooManyBillingMethods { .. } => {}
            }
        }
        all.extend(WaitlistRefusal::ALL.into_iter().map(ApiError::Waitlist));
        for error in &all {
            match error {
                ApiError::Invalid(_)
                | ApiError::BadBody(_)
                | ApiError::BadParameter(_)
                | ApiError::UnsupportedMediaType(_)
                | ApiError::TooLarge { .. }
                | ApiError::Unauthenticated
                | ApiError::Forbidden
                | ApiError::NotFound(_)
                | ApiError::NoRoute
                | ApiError::MethodNotAllowed
                | ApiError::Conflict(_)
                | ApiError::VenueInUse
                | ApiError::WrongCredentials
                | ApiError::TooManyAttempts { .. }
                | ApiError::Store(_)
                | ApiError::QueueUnavailable(_)
                | ApiError::MediaUnavailable(_)
                | ApiError::OperatorOnly
                | ApiError::UnknownSale
                | ApiError::NotDrawn
                | ApiError::Rejected(_)
                | ApiError::PerformanceAlreadyOpen
                | ApiError::LedgerUnavailable
                | ApiError::Payment(_)
                | ApiError::WebhookSignature
                | ApiError::NoAdmission
                | ApiError::AdmissionInvalid
                | ApiError::AdmissionExpired
                | ApiError::Ticket(_)
                | ApiError::WebSocketRequired
                | ApiError::Waitlist(_)
                | ApiError::TooManyPushSubscriptions { .. }
                | ApiError::CompanyNotApproved(_)
                | ApiError::Internal(_) => {}
            }
        }
        all
    }

    /// Codes the gateway's own HTTP routes send, not the API.
    const GATEWAY_ONLY: [&str; 1] = ["unsupported_protocol"];

    #[test]
    fn every_error_has_a_documented_code_and_every_code_an_error() {
        let errors = one_of_each();
        for error in &errors {
            assert_eq!(
                picket_edge::problem::status_of(error.code()),
                Some(error.status().as_u16()),
                "{} is not documented with status {}",
                error.code(),
                error.status()
            );
        }
        for (code, _) in CODES {
            assert!(
                GATEWAY_ONLY.contains(&code) || errors.iter().any(|e| e.code() == code),
                "{code} is documented but no ApiError sends it"
            );
        }
    }
}
