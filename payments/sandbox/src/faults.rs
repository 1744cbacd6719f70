//! Failure injection an operator or a test switches on over `PUT /sandbox/faults` (kept in
//! memory: a restart switches everything off).

use serde::{Deserialize, Serialize};

/// The switches, as `PUT /sandbox/faults` takes them and `GET` shows them (counts left).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Faults {
    /// Decline the next N confirms and billing charges (`403 REJECT_CARD_COMPANY`, the
    /// payment ABORTED).
    pub decline_next_confirms: u32,
    /// Answer the next N `/v1` calls with `500 FAILED_INTERNAL_SYSTEM_PROCESSING`, changing
    /// nothing.
    pub fail_next_calls: u32,
    /// Hold every `/v1` POST's answer this long after it was decided (a client time-out; the
    /// change is made all the same).
    pub hold_responses_ms: u64,
    /// Send every webhook twice (same transmission id).
    pub duplicate_webhooks: bool,
    /// Send every new webhook this much later.
    pub webhook_delay_ms: u64,
    /// Lose every new webhook (never sent).
    pub drop_webhooks: bool,
}

impl Faults {
    /// Problems with switches as asked (none: accepted).
    pub fn problems(&self, delay_ms_max: u64, count_max: u32) -> Vec<String> {
        let mut problems = Vec::new();
        for (name, value) in [
            ("declineNextConfirms", self.decline_next_confirms),
            ("failNextCalls", self.fail_next_calls),
        ] {
            if value > count_max {
                problems.push(format!("{name} must be at most {count_max}"));
            }
        }
        for (name, value) in [
            ("holdResponsesMs", self.hold_responses_ms),
            ("webhookDelayMs", self.webhook_delay_ms),
        ] {
            if value > delay_ms_max {
                problems.push(format!("{name} must be at most {delay_ms_max}"));
            }
        }
        problems
    }

    /// Spends one of a counted switch: whether it fired.
    pub fn take(counter: &mut u32) -> bool {
        if *counter == 0 {
            return false;
        }
        *counter -= 1;
        true
    }
}
