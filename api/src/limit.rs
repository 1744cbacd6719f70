//! Attempt limits kept in this process: a GCRA per key ([`Limiter`]: attempts per client
//! address) and failures with exponential backoff per key ([`Backoff`]: wrong passwords per
//! email and address), each with the number of keys bounded so a flood of distinct keys cannot
//! grow memory without bound.

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

    /// Gives back one attempt [`Self::check`] took for `key`, once it turned out not to count
    /// (a sign-in that succeeded): taken first, so concurrent attempts cannot all slip past the
    /// limit, and given back, so many people behind one address (a carrier's NAT) who sign in
    /// correctly never use it up.
    pub fn refund(&self, key: &str) {
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(due) = keys.get_mut(key) {
            *due = due.saturating_sub(self.interval_ms);
        }
    }
}

/// Failures per key with exponential backoff. The first `free` failures cost nothing; after
/// them the key must wait before its next attempt, `first_wait_ms` after the `free`-th failure
/// and twice as long after each further one, up to `wait_ms_max`. A success clears the key, and
/// a key without a failure for `forget_after_ms` starts again.
pub struct Backoff {
    free: u32,
    first_wait_ms: u64,
    wait_ms_max: u64,
    forget_after_ms: u64,
    keys: Mutex<HashMap<String, Failures>>,
}

#[derive(Clone, Copy, Debug)]
struct Failures {
    count: u32,
    last_ms: u64,
    /// No attempt before this.
    retry_at_ms: u64,
}

impl Backoff {
    pub fn new(free: u32, first_wait_ms: u64, wait_ms_max: u64, forget_after_ms: u64) -> Self {
        Backoff {
            free: free.max(1),
            first_wait_ms: first_wait_ms.max(1),
            wait_ms_max: wait_ms_max.max(first_wait_ms),
            forget_after_ms,
            keys: Mutex::new(HashMap::new()),
        }
    }

    /// `Ok` to try, or `Err(retry after ms)` while the key is backing off.
    pub fn check(&self, key: &str, now_ms: u64) -> Result<(), u64> {
        let keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        match keys.get(key) {
            Some(failures) if failures.retry_at_ms > now_ms => Err(failures.retry_at_ms - now_ms),
            _ => Ok(()),
        }
    }

    /// Counts a failure; returns how long the key must now wait (0: not yet).
    pub fn failed(&self, key: &str, now_ms: u64) -> u64 {
        let mut keys = self.keys.lock().unwrap_or_else(|p| p.into_inner());
        if keys.len() >= LIMITER_KEYS_MAX && !keys.contains_key(key) {
            keys.retain(|_, f| now_ms < f.last_ms + self.forget_after_ms);
            if keys.len() >= LIMITER_KEYS_MAX {
                // Full of live keys: drop the one backing off least, so the keys an attacker
                // made to flood the table are what goes, not the ones holding it back.
                let least = keys
                    .iter()
                    .min_by_key(|(_, f)| (f.count, f.retry_at_ms))
                    .map(|(k, _)| k.clone());
                if let Some(least) = least {
                    keys.remove(&least);
                }
            }
        }
        let forget_after_ms = self.forget_after_ms;
        let failures = keys.entry(key.to_owned()).or_insert(Failures {
            count: 0,
            last_ms: now_ms,
            retry_at_ms: 0,
        });
        if now_ms >= failures.last_ms + forget_after_ms {
            failures.count = 0;
        }
        failures.count = failures.count.saturating_add(1);
        failures.last_ms = now_ms;
        let wait_ms = match failures.count.checked_sub(self.free) {
            None => 0,
            Some(doublings) => self
                .first_wait_ms
                .saturating_mul(1u64 << doublings.min(32))
                .min(self.wait_ms_max),
        };
        failures.retry_at_ms = now_ms + wait_ms;
        wait_ms
    }

    /// The key proved itself: its failures are forgotten.
    pub fn succeeded(&self, key: &str) {
        self.keys
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
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
        limiter.refund("a");
        assert_eq!(
            limiter.check("a", 10_000),
            Ok(()),
            "a refunded attempt is free again"
        );
        assert!(limiter.check("a", 10_000).is_err());
    }

    #[test]
    fn backs_off_after_the_free_failures_and_forgets_on_success() {
        let backoff = Backoff::new(3, 1_000, 8_000, 60_000);
        for _ in 0..2 {
            assert_eq!(backoff.check("a", 0), Ok(()));
            assert_eq!(backoff.failed("a", 0), 0);
        }
        assert_eq!(
            backoff.failed("a", 0),
            1_000,
            "the third failure starts the wait"
        );
        assert_eq!(backoff.check("a", 500), Err(500));
        assert_eq!(backoff.check("b", 500), Ok(()), "keys are independent");
        assert_eq!(backoff.check("a", 1_000), Ok(()));
        assert_eq!(backoff.failed("a", 1_000), 2_000, "doubles");
        assert_eq!(backoff.failed("a", 3_000), 4_000);
        assert_eq!(backoff.failed("a", 7_000), 8_000);
        assert_eq!(backoff.failed("a", 15_000), 8_000, "capped");
        backoff.succeeded("a");
        assert_eq!(backoff.check("a", 15_001), Ok(()), "a success clears it");
        assert_eq!(backoff.failed("a", 15_001), 0);
        assert_eq!(backoff.failed("b", 0), 0);
        assert_eq!(backoff.failed("b", 0), 0);
        assert_eq!(
            backoff.failed("b", 60_000),
            0,
            "forgotten after a quiet minute"
        );
    }
}
