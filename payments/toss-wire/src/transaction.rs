//! One element of `GET /v1/transactions`: each approval and each cancel is a transaction.

use serde::{Deserialize, Serialize};

use crate::PaymentStatus;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Transaction {
    #[serde(rename = "mId", default)]
    pub m_id: Option<String>,
    /// The listing's cursor (`startingAfter`).
    pub transaction_key: String,
    pub payment_key: String,
    pub order_id: String,
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub customer_key: Option<String>,
    #[serde(default)]
    pub use_escrow: Option<bool>,
    #[serde(default)]
    pub receipt_url: Option<String>,
    /// The payment's status this transaction left it in.
    pub status: PaymentStatus,
    /// `yyyy-MM-ddTHH:mm:ss±hh:mm`.
    pub transaction_at: String,
    pub currency: String,
    pub amount: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_transaction_decodes() {
        let transaction: Transaction = serde_json::from_str(
            r#"{"mId":"tosspayments","transactionKey":"B7103F204998813B889C77C043D09502","paymentKey":"5zJ4xY7m0kODnyRpQWGrN2xqGlNvLrKwv1M9ENjbeoPaZdL6",
              "orderId":"a4CWyWY5m89PNh7xJwhk1","method":"카드","customerKey":null,"useEscrow":false,"receiptUrl":null,
              "status":"DONE","transactionAt":"2022-01-01T00:00:00+09:00","currency":"KRW","amount":15000}"#,
        )
        .expect("decodes");
        assert_eq!(transaction.status, PaymentStatus::Done);
        assert_eq!(transaction.amount, 15_000);
    }
}
