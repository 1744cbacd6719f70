//! The limits every booking command passes, decided in the gateway's own memory: no store round
//! trip on the command path (issue 18).
//!
//! - the sale's seat limit (holds): from the sale's view the push loop refreshes every round;
//! - the identity's booking attempts: one GCRA per identity for all of its connections to this
//!   gateway, so opening more sockets buys no more attempts. A buyer connected to several
//!   gateways at once gets each gateway's rate (at most `gateways ×` the rate); what the limit
//!   protects — seats, and the ledger's time — is still bounded: every hold, release and
//!   confirm needs an admission, the ledger binds an admission to its first buyer and spends it
//!   on the first purchase (`AdmissionNotYours`, `AdmissionSpent`), and it enforces the
//!   per-buyer seat limit itself;
//! - the rate into the ledger: `ledger_commands_per_sec` per gateway; past the ledger's own
//!   bounded queue the client's submit answers `Overloaded`, which the client hears as `busy`.
//!
//! The decision is [`picket_room::core::admit_command`], the waiting room's pure function.

use std::sync::Mutex;

use picket_room::core::Rates;
use picket_room::{CommandDecision, CommandLimits};

use crate::GatewayConfig;

/// The key of the rate into the ledger (one per gateway).
const LEDGER_KEY: &str = "ledger";

/// The per-identity and per-gateway rates of one gateway. Identities remembered are bounded by
/// [`picket_room::core::RATE_KEYS_MAX`] (those whose limit has recovered are dropped first).
#[derive(Default)]
pub struct CommandLimiter {
    rates: Mutex<Rates>,
}

impl CommandLimiter {
    /// Decides one booking command by `identity` at `now_ms`: `seats` for a hold (checked
    /// against `seat_limit`, the sale's), then the identity's rate, then the ledger's. A refused
    /// command spends no later limit.
    pub fn check(
        &self,
        config: &GatewayConfig,
        identity: &str,
        seats: Option<u32>,
        seat_limit: Option<u16>,
        now_ms: u64,
    ) -> CommandDecision {
        let user_key = format!("u:{identity}");
        let limits = CommandLimits {
            seats,
            user_key: &user_key,
            user_per_sec: config.booking_attempts_per_sec,
            user_burst: config.booking_attempts_burst,
            global_key: LEDGER_KEY,
            global_per_sec: config.ledger_commands_per_sec,
            global_burst: config.ledger_commands_burst,
        };
        let mut rates = self.rates.lock().unwrap_or_else(|p| p.into_inner());
        picket_room::core::admit_command(seat_limit, &limits, &mut rates, now_ms)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> GatewayConfig {
        GatewayConfig {
            booking_attempts_per_sec: 2,
            booking_attempts_burst: 3,
            ledger_commands_per_sec: 10,
            ledger_commands_burst: 5,
            ..GatewayConfig::new("gw-test")
        }
    }

    #[test]
    fn an_identity_gets_its_burst_then_its_rate_whatever_else_asks() {
        let limiter = CommandLimiter::default();
        let config = config();
        let at = 1_000_000;
        for attempt in 0..3 {
            assert_eq!(
                limiter.check(&config, "g:a", None, None, at),
                CommandDecision::Allowed,
                "attempt {attempt} within the burst of 3"
            );
        }
        assert!(matches!(
            limiter.check(&config, "g:a", None, None, at),
            CommandDecision::UserLimited { retry_after_ms } if retry_after_ms > 0
        ));
        assert_eq!(
            limiter.check(&config, "g:b", None, None, at),
            CommandDecision::Allowed,
            "another identity has its own rate"
        );
        // 2 a second: one more attempt every 500 ms.
        assert_eq!(
            limiter.check(&config, "g:a", None, None, at + 500),
            CommandDecision::Allowed
        );
        assert!(matches!(
            limiter.check(&config, "g:a", None, None, at + 500),
            CommandDecision::UserLimited { .. }
        ));
    }

    #[test]
    fn seats_over_the_limit_spend_no_rate_and_the_ledger_rate_caps_everyone() {
        let limiter = CommandLimiter::default();
        let config = config();
        let at = 5_000_000;
        assert_eq!(
            limiter.check(&config, "g:a", Some(5), Some(4), at),
            CommandDecision::OverSeatLimit
        );
        for identity in ["g:a", "g:b", "g:c", "g:d", "g:e"] {
            assert_eq!(
                limiter.check(&config, identity, Some(4), Some(4), at),
                CommandDecision::Allowed,
                "{identity}: the refused hold spent no rate"
            );
        }
        assert!(matches!(
            limiter.check(&config, "g:f", None, None, at),
            CommandDecision::GlobalLimited { retry_after_ms } if retry_after_ms > 0
        ));
    }
}
