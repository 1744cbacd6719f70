//! Request bodies of the endpoints Picket calls.

use serde::{Deserialize, Serialize};

/// `POST /v1/payments/confirm`: all required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfirmRequest {
    pub payment_key: String,
    pub order_id: String,
    /// Must equal what the buyer authorised at checkout.
    pub amount: u64,
}

/// `POST /v1/payments/{paymentKey}/cancel`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelRequest {
    pub cancel_reason: String,
    /// Omitted: cancel the whole balance; present: cancel this much (at most the balance).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_amount: Option<u64>,
    /// Optimistic check: refused (`NOT_MATCHES_REFUNDABLE_AMOUNT`) unless it equals the balance.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refundable_amount: Option<u64>,
}

/// `POST /v1/billing/authorizations/issue`: the one-time `authKey` from the billing
/// authorisation redirect, for a billing key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillingIssueRequest {
    pub auth_key: String,
    pub customer_key: String,
}

/// `POST /v1/billing/{billingKey}`: charge a billing key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillingChargeRequest {
    pub customer_key: String,
    pub amount: u64,
    pub order_id: String,
    pub order_name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tax_free_amount: Option<u64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_requests_decode() {
        let confirm: ConfirmRequest = serde_json::from_str(
            r#"{"paymentKey":"5zJ4xY7m0kODnyRpQWGrN2xqGlNvLrKwv1M9ENjbeoPaZdL6","orderId":"a4CWyWY5m89PNh7xJwhk1","amount":15000}"#,
        )
        .expect("confirm");
        assert_eq!(confirm.amount, 15_000);
        let cancel: CancelRequest =
            serde_json::from_str(r#"{"cancelReason":"고객 변심","cancelAmount":1000}"#)
                .expect("cancel");
        assert_eq!(cancel.cancel_amount, Some(1000));
        let full: CancelRequest =
            serde_json::from_str(r#"{"cancelReason":"고객 변심"}"#).expect("full");
        assert_eq!(full.cancel_amount, None);
        assert_eq!(
            serde_json::to_string(&full).expect("encodes"),
            r#"{"cancelReason":"고객 변심"}"#
        );
        let charge: BillingChargeRequest = serde_json::from_str(
            r#"{"customerKey":"cust_1","amount":4900,"orderId":"order_0001","orderName":"월 구독","customerEmail":"a@b.c","customerName":"박토스"}"#,
        )
        .expect("charge");
        assert_eq!(charge.amount, 4900);
        let issue: BillingIssueRequest =
            serde_json::from_str(r#"{"authKey":"bln_x","customerKey":"cust_1"}"#).expect("issue");
        assert_eq!(issue.customer_key, "cust_1");
    }

    #[test]
    fn a_fractional_or_negative_amount_is_refused() {
        for body in [
            r#"{"paymentKey":"k","orderId":"order1","amount":15000.5}"#,
            r#"{"paymentKey":"k","orderId":"order1","amount":-1}"#,
            r#"{"paymentKey":"k","orderId":"order1","amount":"15000"}"#,
        ] {
            assert!(
                serde_json::from_str::<ConfirmRequest>(body).is_err(),
                "{body}"
            );
        }
    }
}
