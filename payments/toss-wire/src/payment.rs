//! The Payment object (`GET /v1/payments/{paymentKey}`, the answer to confirm, cancel and a
//! billing charge, and a `PAYMENT_STATUS_CHANGED` webhook's `data`), with its card and cancels.

use serde::{Deserialize, Serialize};

use crate::open_enum::open_enum;

open_enum! {
    /// `Payment.status`.
    pub enum PaymentStatus {
        /// Created, the buyer not yet authenticated.
        Ready => "READY",
        /// The buyer authenticated: the merchant must confirm now (within 10 minutes).
        InProgress => "IN_PROGRESS",
        /// A virtual account was issued and waits for the deposit.
        WaitingForDeposit => "WAITING_FOR_DEPOSIT",
        /// Approved.
        Done => "DONE",
        /// Fully canceled.
        Canceled => "CANCELED",
        /// Partly canceled: `balanceAmount` is what is left.
        PartialCanceled => "PARTIAL_CANCELED",
        /// Approval failed (`failure` says why).
        Aborted => "ABORTED",
        /// Not confirmed in time.
        Expired => "EXPIRED",
    }
}

open_enum! {
    /// `Payment.type`.
    pub enum PaymentType {
        Normal => "NORMAL",
        Billing => "BILLING",
        Brandpay => "BRANDPAY",
    }
}

open_enum! {
    /// `Cancel.cancelStatus`.
    pub enum CancelStatus {
        Done => "DONE",
        InProgress => "IN_PROGRESS",
        Aborted => "ABORTED",
    }
}

/// The Payment object: the fields Picket relies on; every other field Toss sends is ignored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Payment {
    #[serde(default)]
    pub version: Option<String>,
    pub payment_key: String,
    #[serde(rename = "type")]
    pub kind: PaymentType,
    pub order_id: String,
    #[serde(default)]
    pub order_name: Option<String>,
    #[serde(rename = "mId", default)]
    pub m_id: Option<String>,
    pub currency: String,
    /// `카드`, `가상계좌`, `간편결제`, …: Korean literals; null until a method is chosen.
    #[serde(default)]
    pub method: Option<String>,
    /// What was approved; never changes.
    pub total_amount: u64,
    /// What is left to cancel.
    pub balance_amount: u64,
    #[serde(default)]
    pub supplied_amount: Option<u64>,
    #[serde(default)]
    pub vat: Option<u64>,
    #[serde(default)]
    pub tax_free_amount: Option<u64>,
    #[serde(default)]
    pub tax_exemption_amount: Option<u64>,
    pub status: PaymentStatus,
    /// `yyyy-MM-ddTHH:mm:ss±hh:mm`.
    pub requested_at: String,
    /// Null until approved.
    #[serde(default)]
    pub approved_at: Option<String>,
    #[serde(default)]
    pub use_escrow: Option<bool>,
    #[serde(default)]
    pub last_transaction_key: Option<String>,
    #[serde(default)]
    pub culture_expense: Option<bool>,
    #[serde(default)]
    pub is_partial_cancelable: Option<bool>,
    /// Null (not `[]`) while nothing was canceled.
    #[serde(default)]
    pub cancels: Option<Vec<Cancel>>,
    #[serde(default)]
    pub card: Option<Card>,
    /// Webhook verification value; often null for card payments: do not rely on it.
    #[serde(default)]
    pub secret: Option<String>,
    #[serde(default)]
    pub country: Option<String>,
    /// Why an ABORTED or EXPIRED payment failed.
    #[serde(default)]
    pub failure: Option<Failure>,
    #[serde(default)]
    pub receipt: Option<Receipt>,
    #[serde(default)]
    pub checkout: Option<Checkout>,
}

/// `Payment.card`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Card {
    /// What was sent to the card company.
    pub amount: u64,
    #[serde(default)]
    pub issuer_code: Option<String>,
    #[serde(default)]
    pub acquirer_code: Option<String>,
    /// Masked, e.g. `40000000****109*`.
    #[serde(default)]
    pub number: Option<String>,
    #[serde(default)]
    pub installment_plan_months: Option<u32>,
    #[serde(default)]
    pub approve_no: Option<String>,
    #[serde(default)]
    pub use_card_point: Option<bool>,
    /// `신용`, `체크`, `기프트`, `미확인`.
    #[serde(default)]
    pub card_type: Option<String>,
    /// `개인`, `법인`, `미확인`.
    #[serde(default)]
    pub owner_type: Option<String>,
    /// `READY`, `REQUESTED`, `COMPLETED`, `CANCEL_REQUESTED`, `CANCELED`.
    #[serde(default)]
    pub acquire_status: Option<String>,
    #[serde(default)]
    pub is_interest_free: Option<bool>,
    #[serde(default)]
    pub interest_payer: Option<String>,
}

/// One element of `Payment.cancels`: one cancel transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Cancel {
    pub cancel_amount: u64,
    pub cancel_reason: String,
    #[serde(default)]
    pub tax_free_amount: Option<u64>,
    #[serde(default)]
    pub tax_exemption_amount: Option<u64>,
    /// The balance left after this cancel.
    #[serde(default)]
    pub refundable_amount: Option<u64>,
    #[serde(default)]
    pub easy_pay_discount_amount: Option<u64>,
    /// `yyyy-MM-ddTHH:mm:ss±hh:mm`.
    pub canceled_at: String,
    /// Unique per cancel.
    pub transaction_key: String,
    #[serde(default)]
    pub receipt_key: Option<String>,
    #[serde(default)]
    pub cancel_status: Option<CancelStatus>,
    #[serde(default)]
    pub cancel_request_id: Option<String>,
}

/// `Payment.failure`: the same `{code, message}` as an error body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Failure {
    pub code: String,
    pub message: String,
}

/// `Payment.receipt`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    pub url: String,
}

/// `Payment.checkout`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Checkout {
    pub url: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real DONE card payment (trimmed), as the research note quotes it.
    const DONE_CARD: &str = r#"{"mId":"tvivarepublica4","lastTransactionKey":"7F8E548429D327BFE5ACEAF508E8DC36",
 "paymentKey":"Kl56WYb7w4vZnjEJeQVxn0ZyqmKWbD8PmOoBN0k12dzgRG9p","orderId":"14854200076307017","orderName":"www.hilti.co.kr",
 "taxExemptionAmount":0,"status":"DONE","requestedAt":"2023-12-01T00:05:06+09:00","approvedAt":"2023-12-01T00:05:07+09:00",
 "useEscrow":false,"cultureExpense":false,
 "card":{"issuerCode":"4V","acquirerCode":"21","number":"40000000****109*","installmentPlanMonths":0,"isInterestFree":false,
   "interestPayer":null,"approveNo":"00000000","useCardPoint":false,"cardType":"미확인","ownerType":"미확인",
   "acquireStatus":"READY","amount":163020},
 "virtualAccount":null,"transfer":null,"mobilePhone":null,"giftCertificate":null,"cashReceipt":null,"cashReceipts":null,
 "discount":null,"cancels":null,"secret":null,"type":"NORMAL","easyPay":null,"country":"KR","failure":null,
 "isPartialCancelable":false,"receipt":{"url":"https://dashboard.tosspayments.com/receipt/redirection?transactionId=x"},
 "checkout":{"url":"https://api.tosspayments.com/v1/payments/Kl56/checkout"},
 "currency":"KRW","totalAmount":163020,"balanceAmount":163020,"suppliedAmount":148200,"vat":14820,"taxFreeAmount":0,
 "method":"카드","version":"2022-11-16"}"#;

    /// A real EXPIRED payment: most fields null, `failure` set.
    const EXPIRED: &str = r#"{ "mId": "3billip6qu", "paymentKey": "3bill20250828101631QgTJ9", "orderId": "TossPaymentsTest96860717",
 "orderName": "", "type": "NORMAL", "totalAmount": 50000, "balanceAmount": 50000, "taxFreeAmount": 0,
 "taxExemptionAmount": 0, "suppliedAmount": 45455, "vat": 4545, "currency": "KRW", "country": "KR",
 "isPartialCancelable": true, "checkout": { "url": "https://api.tosspayments.com/v1/payments/3bill/checkout" },
 "requestedAt": "2025-08-28T10:16:31+09:00", "cultureExpense": false, "version": "2022-11-16", "status": "EXPIRED",
 "failure": { "code": "EXPIRED_PAYMENT", "message": "결제가 만료되었습니다. 다시 시도해주세요." }, "approvedAt": null,
 "cancels": null, "card": null, "cashReceipt": null, "discount": null, "easyPay": null, "giftCertificate": null,
 "lastTransactionKey": null, "method": null, "mobilePhone": null, "receipt": null, "secret": null, "transactionKey": null,
 "transfer": null, "useEscrow": null, "virtualAccount": null }"#;

    /// A real cancels[] element.
    const CANCEL: &str = r#"{"transactionKey":"A8992D33A3620C9D270A233360F00AD7","cancelReason":"과오납부","taxExemptionAmount":0,
 "canceledAt":"2024-12-04T11:01:16+09:00","easyPayDiscountAmount":0,"receiptKey":null,"cancelStatus":"DONE",
 "cancelRequestId":null,"cancelAmount":1000,"taxFreeAmount":0,"refundableAmount":199000}"#;

    #[test]
    fn a_done_card_payment_decodes() {
        let payment: Payment = serde_json::from_str(DONE_CARD).expect("decodes");
        assert_eq!(payment.status, PaymentStatus::Done);
        assert_eq!(payment.kind, PaymentType::Normal);
        assert_eq!(payment.total_amount, 163_020);
        assert_eq!(payment.balance_amount, 163_020);
        assert_eq!(payment.method.as_deref(), Some("카드"));
        assert_eq!(payment.cancels, None);
        let card = payment.card.expect("card");
        assert_eq!(card.amount, 163_020);
        assert_eq!(card.number.as_deref(), Some("40000000****109*"));
        assert_eq!(card.interest_payer, None);
    }

    #[test]
    fn an_expired_payment_decodes_with_its_failure() {
        let payment: Payment = serde_json::from_str(EXPIRED).expect("decodes");
        assert_eq!(payment.status, PaymentStatus::Expired);
        assert_eq!(payment.approved_at, None);
        assert_eq!(payment.use_escrow, None);
        assert_eq!(payment.failure.expect("failure").code, "EXPIRED_PAYMENT");
    }

    #[test]
    fn a_cancel_decodes() {
        let cancel: Cancel = serde_json::from_str(CANCEL).expect("decodes");
        assert_eq!(cancel.cancel_amount, 1000);
        assert_eq!(cancel.refundable_amount, Some(199_000));
        assert_eq!(cancel.cancel_status, Some(CancelStatus::Done));
    }

    #[test]
    fn unknown_statuses_and_fields_are_kept_or_ignored() {
        let text = DONE_CARD
            .replace(r#""status":"DONE""#, r#""status":"ON_HOLD""#)
            .replace(
                r#""version":"2022-11-16""#,
                r#""version":"2099-01-01","newField":{"a":1}"#,
            );
        let payment: Payment = serde_json::from_str(&text).expect("decodes");
        assert_eq!(payment.status, PaymentStatus::Unknown("ON_HOLD".into()));
        let again = serde_json::to_value(&payment).expect("encodes");
        assert_eq!(again["status"], "ON_HOLD");
    }

    #[test]
    fn a_payment_round_trips() {
        let payment: Payment = serde_json::from_str(DONE_CARD).expect("decodes");
        let text = serde_json::to_string(&payment).expect("encodes");
        let again: Payment = serde_json::from_str(&text).expect("decodes again");
        assert_eq!(again, payment);
        for status in [
            PaymentStatus::Ready,
            PaymentStatus::InProgress,
            PaymentStatus::WaitingForDeposit,
            PaymentStatus::Done,
            PaymentStatus::Canceled,
            PaymentStatus::PartialCanceled,
            PaymentStatus::Aborted,
            PaymentStatus::Expired,
        ] {
            assert_eq!(PaymentStatus::from(status.as_str()), status);
        }
    }
}
