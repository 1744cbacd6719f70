//! The Billing object: what `POST /v1/billing/authorizations/issue` answers.

use serde::{Deserialize, Serialize};

/// A billing key for one customer. Toss never shows a billing key again: store it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Billing {
    #[serde(rename = "mId", default)]
    pub m_id: Option<String>,
    pub customer_key: String,
    /// `yyyy-MM-ddTHH:mm:ss±hh:mm`.
    pub authenticated_at: String,
    /// `카드`.
    #[serde(default)]
    pub method: Option<String>,
    pub billing_key: String,
    #[serde(default)]
    pub card: Option<BillingCard>,
}

/// `Billing.card`; its shape changed between versions (`company` before, `issuerCode` since
/// 2024-06-01), so every field is optional.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BillingCard {
    #[serde(default)]
    pub issuer_code: Option<String>,
    #[serde(default)]
    pub acquirer_code: Option<String>,
    #[serde(default)]
    pub company: Option<String>,
    /// Masked.
    #[serde(default)]
    pub number: Option<String>,
    #[serde(default)]
    pub card_type: Option<String>,
    #[serde(default)]
    pub owner_type: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guide_example_decodes() {
        let billing: Billing = serde_json::from_str(
            r#"{"mId":"tosspayments","customerKey":"aENcQAtPdYbTjGhtQnNVj","authenticatedAt":"2021-01-01T10:01:30+09:00","method":"카드","billingKey":"Z_t5vOvQxrj4499PeiJcjen28-V2RyqgYTwN44Rdzk0=",
              "card":{"company":"현대","number":"433012******1234","cardType":"신용","ownerType":"개인"}}"#,
        )
        .expect("decodes");
        assert_eq!(billing.customer_key, "aENcQAtPdYbTjGhtQnNVj");
        let card = billing.card.expect("card");
        assert_eq!(card.company.as_deref(), Some("현대"));
        assert_eq!(card.issuer_code, None);
    }
}
