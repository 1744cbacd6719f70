//! Webhook bodies: `{eventType, createdAt, data}`.

use serde::{Deserialize, Serialize};

use crate::open_enum::open_enum;

open_enum! {
    /// `eventType` of a webhook.
    pub enum EventType {
        /// A card, transfer, phone or gift payment changed status (`data` is the Payment).
        PaymentStatusChanged => "PAYMENT_STATUS_CHANGED",
        /// A virtual account's deposit (a flat body, not this wrapper).
        DepositCallback => "DEPOSIT_CALLBACK",
        /// A foreign easy-pay cancel changed status.
        CancelStatusChanged => "CANCEL_STATUS_CHANGED",
        /// A billing key was deleted.
        BillingDeleted => "BILLING_DELETED",
    }
}

/// A webhook event; `D` is the Payment for `PAYMENT_STATUS_CHANGED`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WebhookEvent<D = serde_json::Value> {
    pub event_type: EventType,
    /// `yyyy-MM-ddTHH:mm:ss.SSSSSS`, no offset (Korean time).
    pub created_at: String,
    pub data: D,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Payment, PaymentStatus};

    #[test]
    fn a_payment_status_changed_event_decodes() {
        let event: WebhookEvent<Payment> = serde_json::from_str(
            r#"{"eventType":"PAYMENT_STATUS_CHANGED","createdAt":"2022-01-01T00:00:00.000000",
              "data":{"mId":"tosspayments","version":"2022-11-16","paymentKey":"5zJ4xY7m0kODnyRpQWGrN2xqGlNvLrKwv1M9ENjbeoPaZdL6",
                "orderId":"a4CWyWY5m89PNh7xJwhk1","orderName":"토스 티셔츠 외 2건","currency":"KRW","method":"카드",
                "status":"DONE","type":"NORMAL","totalAmount":15000,"balanceAmount":15000,"requestedAt":"2022-01-01T00:00:00+09:00",
                "approvedAt":"2022-01-01T00:00:00+09:00","cancels":null,"failure":null}}"#,
        )
        .expect("decodes");
        assert_eq!(event.event_type, EventType::PaymentStatusChanged);
        assert_eq!(event.data.status, PaymentStatus::Done);
        let generic: WebhookEvent =
            serde_json::from_str(r#"{"eventType":"payout.changed","createdAt":"x","data":{}}"#)
                .expect("any event decodes");
        assert_eq!(
            generic.event_type,
            EventType::Unknown("payout.changed".into())
        );
    }
}
