//! Why the door refuses a ticket: the same typed results online (through the API and the ledger)
//! and offline (on a scanner with a manifest).

use serde::{Deserialize, Serialize};

pub use picket_ledger_core::GateId;

/// Every refusal at the door. `admitted` is the `Ok` beside it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Refusal {
    /// The code's step is more than one step from the scanner's: a screenshot or a stale screen
    /// (or a phone clock far off).
    CodeExpired,
    /// Not a code, a wrong MAC or seal, or a ticket this performance never issued.
    Forged,
    /// A genuine-looking code of another performance (its id is in the code).
    WrongPerformance,
    /// The ticket was cancelled, refunded or transferred, or the code is of an older secret
    /// generation (the ticket moved to another device).
    Revoked,
    /// The doors of this performance are not open yet.
    NotYetOpen,
    /// The ticket carries a discount whose proof (disability card, student ID, …) staff must
    /// see; scan again once they have.
    ProofRequired { discount: String },
    /// The ticket is already inside: first admitted at `at_ms` through `gate`.
    AlreadyUsed { at_ms: u64, gate: GateId },
}

impl Refusal {
    /// The stable code apps and scanners switch on (the `result` field of the JSON form).
    pub fn code(&self) -> &'static str {
        match self {
            Refusal::CodeExpired => "code_expired",
            Refusal::Forged => "forged",
            Refusal::WrongPerformance => "wrong_performance",
            Refusal::Revoked => "revoked",
            Refusal::NotYetOpen => "not_yet_open",
            Refusal::ProofRequired { .. } => "proof_required",
            Refusal::AlreadyUsed { .. } => "already_used",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_json_form_carries_the_stable_code() {
        let refusals = [
            Refusal::CodeExpired,
            Refusal::Forged,
            Refusal::WrongPerformance,
            Refusal::Revoked,
            Refusal::NotYetOpen,
            Refusal::ProofRequired {
                discount: "장애인".into(),
            },
            Refusal::AlreadyUsed {
                at_ms: 5,
                gate: GateId(2),
            },
        ];
        for refusal in refusals {
            let json = serde_json::to_value(&refusal).unwrap();
            assert_eq!(json["result"], refusal.code());
        }
        let used = serde_json::to_string(&Refusal::AlreadyUsed {
            at_ms: 5,
            gate: GateId(2),
        })
        .unwrap();
        assert_eq!(used, r#"{"result":"already_used","at_ms":5,"gate":2}"#);
    }
}
