//! The error body `{code, message}` and the error codes, an open enum: the documented codes
//! Picket handles, and any other kept as sent.

use serde::{Deserialize, Serialize};

use crate::open_enum::open_enum;

/// Every non-2xx answer of the API: `{"code":"NOT_FOUND_PAYMENT","message":"…"}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorBody {
    pub code: ErrorCode,
    pub message: String,
}

impl ErrorBody {
    /// The code with its documented message.
    pub fn of(code: ErrorCode) -> ErrorBody {
        let message = code.message().to_owned();
        ErrorBody { code, message }
    }
}

open_enum! {
    /// `code` of an error body (and of `Payment.failure`). The HTTP status does not say whether
    /// to retry: the code does.
    pub enum ErrorCode {
        // Auth.
        UnauthorizedKey => "UNAUTHORIZED_KEY",
        IncorrectBasicAuthFormat => "INCORRECT_BASIC_AUTH_FORMAT",
        InvalidApiKey => "INVALID_API_KEY",
        // Requests in general.
        InvalidRequest => "INVALID_REQUEST",
        NotFound => "NOT_FOUND",
        ForbiddenRequest => "FORBIDDEN_REQUEST",
        ForbiddenConsecutiveRequest => "FORBIDDEN_CONSECUTIVE_REQUEST",
        InvalidIdempotencyKey => "INVALID_IDEMPOTENCY_KEY",
        IdempotentRequestProcessing => "IDEMPOTENT_REQUEST_PROCESSING",
        // Confirm.
        AlreadyProcessedPayment => "ALREADY_PROCESSED_PAYMENT",
        ProviderError => "PROVIDER_ERROR",
        CardProcessingError => "CARD_PROCESSING_ERROR",
        InvalidCardNumber => "INVALID_CARD_NUMBER",
        InvalidRejectCard => "INVALID_REJECT_CARD",
        BelowMinimumAmount => "BELOW_MINIMUM_AMOUNT",
        ExceedMaxAmount => "EXCEED_MAX_AMOUNT",
        ExceedMaxPaymentAmount => "EXCEED_MAX_PAYMENT_AMOUNT",
        UnapprovedOrderId => "UNAPPROVED_ORDER_ID",
        DuplicatedOrderId => "DUPLICATED_ORDER_ID",
        RejectCardPayment => "REJECT_CARD_PAYMENT",
        RejectAccountPayment => "REJECT_ACCOUNT_PAYMENT",
        RejectCardCompany => "REJECT_CARD_COMPANY",
        NotFoundPayment => "NOT_FOUND_PAYMENT",
        NotFoundPaymentSession => "NOT_FOUND_PAYMENT_SESSION",
        ExpiredPayment => "EXPIRED_PAYMENT",
        // Cancel.
        AlreadyCanceledPayment => "ALREADY_CANCELED_PAYMENT",
        NotCancelableAmount => "NOT_CANCELABLE_AMOUNT",
        NotCancelablePayment => "NOT_CANCELABLE_PAYMENT",
        NotMatchesRefundableAmount => "NOT_MATCHES_REFUNDABLE_AMOUNT",
        NotAllowedPartialRefund => "NOT_ALLOWED_PARTIAL_REFUND",
        RefundRejected => "REFUND_REJECTED",
        FailedRefundProcess => "FAILED_REFUND_PROCESS",
        // Billing.
        NotMatchesCustomerKey => "NOT_MATCHES_CUSTOMER_KEY",
        NotFoundBilling => "NOT_FOUND_BILLING",
        InvalidBillKeyRequest => "INVALID_BILL_KEY_REQUEST",
        // Server side: retry.
        FailedInternalSystemProcessing => "FAILED_INTERNAL_SYSTEM_PROCESSING",
        FailedPaymentInternalSystemProcessing => "FAILED_PAYMENT_INTERNAL_SYSTEM_PROCESSING",
        UnknownPaymentError => "UNKNOWN_PAYMENT_ERROR",
        CommonError => "COMMON_ERROR",
        // The checkout window's failUrl codes.
        PayProcessCanceled => "PAY_PROCESS_CANCELED",
        PayProcessAborted => "PAY_PROCESS_ABORTED",
    }
}

impl ErrorCode {
    /// The HTTP status Toss documents for the code; 400 for a code it does not know (the
    /// status Toss uses for most request errors). `UNAUTHORIZED_KEY`'s 401 comes from clients
    /// and mocks, not the reference; `INCORRECT_BASIC_AUTH_FORMAT` is 403 as in the extracted
    /// error table (another source says 400).
    pub fn http_status(&self) -> u16 {
        use ErrorCode::*;
        match self {
            UnauthorizedKey => 401,
            IncorrectBasicAuthFormat
            | ForbiddenRequest
            | ForbiddenConsecutiveRequest
            | RejectCardPayment
            | RejectAccountPayment
            | RejectCardCompany
            | NotCancelableAmount
            | NotCancelablePayment
            | NotAllowedPartialRefund => 403,
            NotFound | NotFoundPayment | NotFoundPaymentSession | NotFoundBilling => 404,
            IdempotentRequestProcessing => 409,
            FailedInternalSystemProcessing
            | FailedPaymentInternalSystemProcessing
            | UnknownPaymentError
            | CommonError
            | FailedRefundProcess => 500,
            _ => 400,
        }
    }

    /// The documented Korean message (Toss answers in Korean unless `Accept-Language: en-US`).
    pub fn message(&self) -> &'static str {
        use ErrorCode::*;
        match self {
            UnauthorizedKey => "인증되지 않은 시크릿 키 혹은 클라이언트 키 입니다.",
            IncorrectBasicAuthFormat => "잘못된 요청입니다. ':' 를 포함해 인코딩해주세요.",
            InvalidApiKey => "잘못된 시크릿키 연동 정보 입니다.",
            InvalidRequest => "잘못된 요청입니다.",
            NotFound => "존재하지 않는 정보 입니다.",
            ForbiddenRequest => "허용되지 않은 요청입니다.",
            ForbiddenConsecutiveRequest => "반복적인 요청은 허용되지 않습니다.",
            InvalidIdempotencyKey => "멱등키는 300자 이하여야 합니다.",
            IdempotentRequestProcessing => "이전 멱등 요청이 처리중입니다.",
            AlreadyProcessedPayment => "이미 처리된 결제 입니다.",
            ProviderError => "일시적인 오류가 발생했습니다. 잠시 후 다시 시도해주세요.",
            CardProcessingError => "카드사에서 오류가 발생했습니다.",
            InvalidCardNumber => "카드번호를 다시 확인해주세요.",
            InvalidRejectCard => "카드 사용이 거절되었습니다. 카드사 문의가 필요합니다.",
            BelowMinimumAmount => {
                "신용카드는 결제금액이 100원 이상, 계좌는 200원이상부터 결제가 가능합니다."
            }
            ExceedMaxAmount | ExceedMaxPaymentAmount => "결제 금액 한도를 초과했습니다.",
            UnapprovedOrderId => "아직 승인되지 않은 주문번호입니다.",
            DuplicatedOrderId => {
                "이미 승인 및 취소가 진행된 중복된 주문번호 입니다. 다른 주문번호로 진행해주세요."
            }
            RejectCardPayment => "한도초과 혹은 잔액부족으로 결제에 실패했습니다.",
            RejectAccountPayment => "잔액부족으로 결제에 실패했습니다.",
            RejectCardCompany => "결제 승인이 거절되었습니다.",
            NotFoundPayment => "존재하지 않는 결제 정보 입니다.",
            NotFoundPaymentSession => "결제 시간이 만료되어 결제 진행 데이터가 존재하지 않습니다.",
            ExpiredPayment => "결제가 만료되었습니다. 다시 시도해주세요.",
            AlreadyCanceledPayment => "이미 취소된 결제 입니다.",
            NotCancelableAmount => "취소 할 수 없는 금액 입니다.",
            NotCancelablePayment => "취소 할 수 없는 결제 입니다.",
            NotMatchesRefundableAmount => "잔액 결과가 일치하지 않습니다.",
            NotAllowedPartialRefund => "부분 환불이 허용되지 않는 결제입니다.",
            RefundRejected => "환불이 거절되었습니다.",
            FailedRefundProcess => {
                "은행 응답시간 지연이나 일시적인 오류로 환불요청에 실패했습니다."
            }
            NotMatchesCustomerKey => "빌링 인증 고객키와 결제 요청 고객키가 일치하지 않습니다.",
            NotFoundBilling => "존재하지 않는 빌링 정보 입니다.",
            InvalidBillKeyRequest => "빌링키 요청이 올바르지 않습니다.",
            FailedInternalSystemProcessing => {
                "내부 시스템 처리 작업이 실패했습니다. 잠시 후 다시 시도해주세요."
            }
            FailedPaymentInternalSystemProcessing => "결제가 완료되지 않았어요. 다시 시도해주세요.",
            UnknownPaymentError => {
                "결제에 실패했어요. 같은 문제가 반복된다면 은행이나 카드사로 문의해주세요."
            }
            CommonError => "일시적인 오류가 발생했습니다. 잠시 후 다시 시도해주세요.",
            PayProcessCanceled => "사용자에 의해 결제가 취소되었습니다.",
            PayProcessAborted => "결제 진행 중 승인에 실패하여 결제가 중단되었습니다.",
            Unknown(_) => "오류가 발생했습니다.",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_error_body_decodes() {
        let body: ErrorBody = serde_json::from_str(
            r#"{"code":"NOT_FOUND_PAYMENT","message":"존재하지 않는 결제 입니다."}"#,
        )
        .expect("decodes");
        assert_eq!(body.code, ErrorCode::NotFoundPayment);
        assert_eq!(body.code.http_status(), 404);
    }

    #[test]
    fn an_unknown_code_is_kept() {
        let body: ErrorBody =
            serde_json::from_str(r#"{"code":"SOMETHING_NEW","message":"새 오류","extra":1}"#)
                .expect("decodes");
        assert_eq!(body.code, ErrorCode::Unknown("SOMETHING_NEW".into()));
        assert_eq!(body.code.http_status(), 400);
        assert_eq!(
            serde_json::to_string(&body).expect("encodes"),
            r#"{"code":"SOMETHING_NEW","message":"새 오류"}"#
        );
    }

    #[test]
    fn statuses_follow_the_documented_table() {
        assert_eq!(ErrorCode::RejectCardPayment.http_status(), 403);
        assert_eq!(ErrorCode::AlreadyProcessedPayment.http_status(), 400);
        assert_eq!(ErrorCode::IdempotentRequestProcessing.http_status(), 409);
        assert_eq!(ErrorCode::FailedInternalSystemProcessing.http_status(), 500);
        assert_eq!(ErrorCode::UnauthorizedKey.http_status(), 401);
        assert_eq!(
            ErrorCode::from("NOT_CANCELABLE_AMOUNT"),
            ErrorCode::NotCancelableAmount
        );
    }
}
