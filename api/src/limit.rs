//! Attempt limits kept in this process (login attempts per email): a GCRA per key, with the
//! number of keys bounded so a flood of distinct keys cannot grow memory without bound.

use std::collections::HashMap;
use std::sync::Mutex;

/// Keys tracked at most; past it the oldest-due entries are dropped (they are the least
/// limited anyway).
pub const LIMITER_KEYS_MAX: usize = 100_000;

pub struct Limiter {
    /// Milliseconds between attempts at the sustained rate.
    interval_ms: u64,
    /// How far ahead of the sustained rate a key may get (the burst).
    tolerance_ms: u64,
    /// Key → theoretical arrival time of its next attempt.
    keys: Mutex<HashMap<String, u64>>,
}

impl Limiter {
    /// `per_minute` attempts a minute, `burst` at once.
    pub fn new(per_minute: u32, burst: u32) -> Self {
        let interval_ms = 60_000 / u64::from(per_minute.max(1));
        Limiter {
            interval_ms,
            tolerance_ms: interval_ms * u64::from(burst.max(1).saturating_sub(1)),
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// `Ok` to go ahead, or `Err(retry after ms)`.
    pub fn check(&self, key: &str, now_ms: u64) -> Result<(), u64> {
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        if keys.len() >= LIMITER_KEYS_MAX && !keys.contains_key(key) {
            keys.retain(|_, due| *due > now_ms);
            if keys.len() >= LIMITER_KEYS_MAX {
                return Err(self.interval_ms);
            }
        }
        let due = keys.get(key).copied().unwrap_or(now_ms).max(now_ms);
        if due > now_ms + self.tolerance_ms {
            return Err(due - now_ms - self.tolerance_ms);
        }
        keys.insert(key.to_owned(), due + self.interval_ms);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_the_burst_then_the_rate() {
        let limiter = Limiter::new(6, 3); // one per 10 s, three at once
        for _ in 0..3 {
            assert_eq!(limiter.check("a", 0), Ok(()));
        }
        assert_eq!(limiter.check("a", 0), Err(10_000));
        assert_eq!(limiter.check("b", 0), Ok(()), "keys are independent");
        assert_eq!(limiter.check("a", 10_000), Ok(()));
        assert!(limiter.check("a", 10_000).is_err());
    }
}
