//! The waiting room's rules as a pure state machine: one [`SaleCore`] per sale and one
//! [`Rates`] table of rate limits. Time comes in as `now_ms` on every call and decisions come
//! out; nothing here reads a clock, spawns a task, draws randomness or talks to a store, so a
//! simulation can step it on a fake clock and replay any run from its seed (`tests/tidy.rs`
//! keeps it that way).
//!
//! [`crate::memory::MemoryStore`] runs these cores under one mutex. The Redis store runs the same
//! rules as Lua scripts on Redis' own clock; `tests/tests/room_differential.rs` (picket-tests)
//! drives one seeded trace through both and requires the same places and admissions.
//!
//! The admission budget is kept in integer thousandths of an admission, so the core and the Lua
//! (whose numbers are doubles, stored as text between calls) compute the same budget exactly.

use std::collections::{HashMap, HashSet};

use crate::draw;
use crate::{
    ADVANCE_SCAN_MAX, Advance, DrawSecrets, RateDecision, SaleId, SaleRecord, SaleSettings,
    SaleView, Standing, status_of,
};

/// Thousandths of an admission in one admission.
pub const CREDIT_MILLI_PER_ADMISSION: u64 = 1_000;

/// One sale's waiting room. It serializes whole, so the memory store can keep its sales across
/// a restart of `picket up`.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct SaleCore {
    settings: SaleSettings,
    /// The draw seed (hex), chosen by the shell: the core draws no randomness.
    seed: String,
    /// The key of the draw entries (hex), chosen by the shell and never published: it keeps the
    /// audit list from naming anyone (see [`crate::draw`]).
    entry_key: String,
    drawn: bool,
    sold_out: bool,
    prequeue: HashSet<String>,
    /// Places given after the open, in order.
    late: u64,
    places: HashMap<String, u64>,
    who: HashMap<u64, String>,
    seen: HashMap<String, u64>,
    /// identity → (jti, expires_at_ms); an ended admission keeps its jti.
    admitted: HashMap<String, (u64, u64)>,
    /// Live admissions: identity → expiry.
    active: HashMap<String, u64>,
    watermark: u64,
    /// Admission budget in thousandths of an admission (see the module doc).
    credit_milli: u64,
    credit_at_ms: u64,
    next_jti: u64,
    /// The controller holding the lease, and until when.
    lease: Option<(String, u64)>,
}

impl SaleCore {
    /// A new sale with its secret `seed` and `entry_key` (hex), created at `now_ms`.
    pub fn new(settings: SaleSettings, seed: String, entry_key: String, now_ms: u64) -> Self {
        SaleCore {
            settings,
            seed,
            entry_key,
            drawn: false,
            sold_out: false,
            prequeue: HashSet::new(),
            late: 0,
            places: HashMap::new(),
            who: HashMap::new(),
            seen: HashMap::new(),
            admitted: HashMap::new(),
            active: HashMap::new(),
            watermark: 0,
            credit_milli: 0,
            credit_at_ms: now_ms,
            next_jti: 1,
            lease: None,
        }
    }

    /// A sale put back from its durable record at `now_ms` (see [`crate::QueueStore::restore`];
    /// the shell has checked the record with [`SaleRecord::check`]). A drawn sale gets the same
    /// pre-queue, places and audit list; its places up to the record's watermark (at most the
    /// pre-queue's length: later places were given to late joiners, who join again) have had
    /// their turn, and the owners of the others count as seen now, so they have `grace_ms` to
    /// come back before their places are skipped. Places given after the open, admissions and
    /// the controller's lease are not in the record: late joiners join again.
    pub fn restored(record: &SaleRecord, now_ms: u64) -> Self {
        let mut core = SaleCore::new(
            record.settings.clone(),
            record.secrets.seed.clone(),
            record.secrets.entry_key.clone(),
            now_ms,
        );
        let Some(drawn) = &record.drawn else {
            return core;
        };
        core.settings.open_at_ms = drawn.open_at_ms;
        let drawn_count = drawn.order.len() as u64;
        core.watermark = drawn.watermark.min(drawn_count);
        for (index, identity) in drawn.order.iter().enumerate() {
            let place = index as u64 + 1;
            core.prequeue.insert(identity.clone());
            let previous = core.who.insert(place, identity.clone());
            assert!(previous.is_none(), "restored place {place} given twice");
            if place > core.watermark {
                core.places.insert(identity.clone(), place);
                core.seen.insert(identity.clone(), now_ms);
            }
        }
        assert_eq!(
            core.prequeue.len() as u64,
            drawn_count,
            "a restored pre-queue names each identity once"
        );
        core.drawn = true;
        core
    }

    /// The draw's secrets.
    pub fn secrets(&self) -> DrawSecrets {
        DrawSecrets {
            seed: self.seed.clone(),
            entry_key: self.entry_key.clone(),
        }
    }

    /// Forgets the controller lease: after a restart of the only process that used the store,
    /// nobody holds it any more, and waiting out the dead holder's lease would stall admission.
    pub fn forget_lease(&mut self) {
        self.lease = None;
    }

    pub fn settings(&self) -> &SaleSettings {
        &self.settings
    }

    /// New settings; the open time is fixed once the pre-queue has been drawn.
    pub fn configure(&mut self, settings: SaleSettings) {
        let open_at_ms = if self.drawn {
            self.settings.open_at_ms
        } else {
            settings.open_at_ms
        };
        self.settings = SaleSettings {
            open_at_ms,
            ..settings
        };
    }

    fn tail(&self, now_ms: u64) -> u64 {
        if now_ms < self.settings.open_at_ms {
            0
        } else {
            self.prequeue.len() as u64 + self.late
        }
    }

    pub fn view(&self, sale: SaleId, now_ms: u64) -> SaleView {
        let active = self.active.values().filter(|exp| **exp > now_ms).count() as u64;
        SaleView {
            sale,
            settings: self.settings.clone(),
            status: status_of(&self.settings, now_ms, self.drawn, self.sold_out),
            watermark: self.watermark,
            tail: self.tail(now_ms),
            prequeue: self.prequeue.len() as u64,
            active,
            seed_hash: draw::seed_hash(&self.seed),
            seed: self.drawn.then(|| self.seed.clone()),
            sold_out: self.sold_out,
        }
    }

    pub fn standing(&self, identity: &str, now_ms: u64) -> Standing {
        if let Some((jti, expires_at_ms)) = self.admitted.get(identity)
            && *expires_at_ms > now_ms
        {
            return Standing::Admitted {
                jti: *jti,
                expires_at_ms: *expires_at_ms,
            };
        }
        if let Some(place) = self.places.get(identity) {
            return Standing::Waiting { place: *place };
        }
        if self.prequeue.contains(identity) && !self.drawn {
            return Standing::PreQueue;
        }
        Standing::Absent
    }

    /// Joins (or rejoins) `identity` and marks it seen.
    pub fn join(&mut self, identity: &str, now_ms: u64) -> Standing {
        self.seen.insert(identity.to_owned(), now_ms);
        let standing = self.standing(identity, now_ms);
        if standing != Standing::Absent {
            return standing;
        }
        if now_ms < self.settings.open_at_ms {
            self.prequeue.insert(identity.to_owned());
            return Standing::PreQueue;
        }
        self.admitted.remove(identity);
        self.late += 1;
        let place = self.prequeue.len() as u64 + self.late;
        // Places are dense and unique: the new place is the tail, and nobody holds it yet.
        assert_eq!(place, self.tail(now_ms), "a late place is the new tail");
        assert!(
            place > self.watermark,
            "a new place is behind the watermark"
        );
        let previous = self.who.insert(place, identity.to_owned());
        assert!(previous.is_none(), "place {place} given twice");
        self.places.insert(identity.to_owned(), place);
        Standing::Waiting { place }
    }

    pub fn heartbeat(&mut self, identities: &[String], now_ms: u64) {
        for identity in identities {
            self.seen.insert(identity.clone(), now_ms);
        }
    }

    /// Takes or renews the lease; false when another holder's lease is live.
    fn take_lease(&mut self, holder: &str, lease_ms: u64, now_ms: u64) -> bool {
        if let Some((current, until_ms)) = &self.lease
            && current != holder
            && *until_ms > now_ms
        {
            return false;
        }
        self.lease = Some((holder.to_owned(), now_ms + lease_ms));
        true
    }

    /// One controller step by `holder`.
    pub fn advance(&mut self, holder: &str, lease_ms: u64, now_ms: u64) -> Advance {
        let mut step = Advance {
            watermark: self.watermark,
            ..Advance::default()
        };
        if !self.take_lease(holder, lease_ms, now_ms) {
            return step;
        }
        step.leader = true;
        if !self.drawn {
            step.draw_due = now_ms >= self.settings.open_at_ms;
            return step;
        }
        let elapsed_ms = now_ms.saturating_sub(self.credit_at_ms);
        self.credit_milli =
            refill_credit_milli(self.credit_milli, self.settings.admit_per_sec, elapsed_ms);
        self.credit_at_ms = now_ms;
        self.active.retain(|_, exp| *exp > now_ms);
        if self.settings.paused || self.sold_out {
            return step;
        }
        let room = u64::from(self.settings.active_max).saturating_sub(self.active.len() as u64);
        let budget = (self.credit_milli / CREDIT_MILLI_PER_ADMISSION).min(room);
        let tail = self.tail(now_ms);
        assert!(self.watermark <= tail, "the watermark passed the tail");
        let mut scanned = 0;
        while u64::from(step.admitted) < budget
            && self.watermark < tail
            && scanned < ADVANCE_SCAN_MAX
        {
            scanned += 1;
            self.watermark += 1;
            let Some(identity) = self.who.get(&self.watermark).cloned() else {
                continue;
            };
            let present = self
                .seen
                .get(&identity)
                .is_some_and(|seen| now_ms.saturating_sub(*seen) <= self.settings.grace_ms);
            self.places.remove(&identity);
            if present {
                let expires_at_ms = now_ms + self.settings.admission_ttl_ms;
                self.admitted
                    .insert(identity.clone(), (self.next_jti, expires_at_ms));
                self.next_jti += 1;
                self.active.insert(identity, expires_at_ms);
                step.admitted += 1;
            } else {
                step.skipped += 1;
            }
        }
        assert!(
            u64::from(step.admitted) <= room,
            "admitted beyond active_max"
        );
        self.credit_milli -= u64::from(step.admitted) * CREDIT_MILLI_PER_ADMISSION;
        step.watermark = self.watermark;
        step
    }

    /// Draws the pre-queue's order once, past the open, unless another controller's lease is
    /// live; the drawing controller takes (or renews) the lease, as the Redis store's draw does.
    pub fn draw(&mut self, holder: &str, lease_ms: u64, now_ms: u64) {
        if self.drawn || now_ms < self.settings.open_at_ms {
            return;
        }
        if !self.take_lease(holder, lease_ms, now_ms) {
            return;
        }
        let order = draw::draw_order(
            &self.seed,
            &self.entry_key,
            self.prequeue.iter().cloned().collect(),
        );
        // The pre-queue takes places 1..=P; late joiners were given P+1, P+2, … already.
        for (index, identity) in order.into_iter().enumerate() {
            let place = index as u64 + 1;
            self.places.insert(identity.clone(), place);
            let previous = self.who.insert(place, identity);
            assert!(previous.is_none(), "drawn place {place} given twice");
        }
        self.drawn = true;
        self.credit_at_ms = now_ms;
    }

    /// Ends an admission early, freeing its active slot.
    pub fn finish(&mut self, identity: &str, now_ms: u64) {
        self.active.remove(identity);
        if let Some(admission) = self.admitted.get_mut(identity) {
            admission.1 = admission.1.min(now_ms);
        }
    }

    pub fn set_sold_out(&mut self, sold_out: bool) {
        self.sold_out = sold_out;
    }

    /// `identity`'s draw entry: told to its owner only, so it can find its place in the audit.
    pub fn draw_entry(&self, identity: &str) -> String {
        draw::entry(&self.entry_key, identity)
    }

    /// The audit list: the pre-queue's draw entries in drawn order (empty before the draw).
    pub fn audit(&self) -> Vec<String> {
        draw::audit_list(&self.entry_key, &self.drawn_order())
    }

    /// The pre-queue in drawn order (empty before the draw).
    pub fn drawn_order(&self) -> Vec<String> {
        if !self.drawn {
            return Vec::new();
        }
        (1..=self.prequeue.len() as u64)
            .filter_map(|place| self.who.get(&place).cloned())
            .collect()
    }
}

/// The controller's admission budget in thousandths, as a token bucket refilled at
/// `admit_per_sec`, holding at most one second's worth so a pause does not bank a burst.
pub fn refill_credit_milli(credit_milli: u64, admit_per_sec: u32, elapsed_ms: u64) -> u64 {
    let rate = u64::from(admit_per_sec);
    let cap = rate.max(1) * CREDIT_MILLI_PER_ADMISSION;
    credit_milli
        .saturating_add(rate.saturating_mul(elapsed_ms))
        .min(cap)
}

/// The generic cell rate algorithm: each request advances the theoretical arrival time by one
/// emission interval; a request is allowed while that time is at most `burst` intervals ahead.
/// Returns the decision and the new arrival time to store when allowed.
pub fn gcra(tat_us: u64, now_us: u64, per_sec: u32, burst: u32) -> (RateDecision, Option<u64>) {
    let interval_us = 1_000_000 / u64::from(per_sec.max(1));
    let tolerance_us = interval_us * u64::from(burst.max(1));
    let new_tat_us = tat_us.max(now_us) + interval_us;
    let ahead_us = new_tat_us - now_us;
    if ahead_us > tolerance_us {
        let retry_after_ms = (ahead_us - tolerance_us).div_ceil(1_000);
        (RateDecision::Limited { retry_after_ms }, None)
    } else {
        (RateDecision::Allowed, Some(new_tat_us))
    }
}

/// Rate-limit keys remembered at once; past this, keys whose limit has fully recovered are
/// dropped (they carry no state a new key would not have).
pub const RATE_KEYS_MAX: usize = 100_000;

/// GCRA state per key: the theoretical arrival time, in microseconds.
#[derive(Clone, Debug, Default)]
pub struct Rates {
    tat_us: HashMap<String, u64>,
}

impl Rates {
    pub fn check(&mut self, key: &str, per_sec: u32, burst: u32, now_ms: u64) -> RateDecision {
        let now_us = now_ms * 1_000;
        if self.tat_us.len() >= RATE_KEYS_MAX {
            self.tat_us.retain(|_, tat_us| *tat_us > now_us);
        }
        let tat_us = self.tat_us.get(key).copied().unwrap_or(now_us);
        let (decision, new_tat_us) = gcra(tat_us, now_us, per_sec, burst);
        if let Some(tat) = new_tat_us {
            // A known key is updated in place: only a new key allocates.
            match self.tat_us.get_mut(key) {
                Some(stored) => *stored = tat,
                None => {
                    self.tat_us.insert(key.to_owned(), tat);
                }
            }
        }
        decision
    }
}

/// The limits one booking command passes through ([`admit_command`]; the gateway decides them
/// in its own memory, `picket_gateway::limits`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandLimits<'a> {
    /// Seats a hold asks for; `None` for commands that ask for none (release, confirm, cancel).
    pub seats: Option<u32>,
    /// The per-user GCRA key, and its rate and burst.
    pub user_key: &'a str,
    pub user_per_sec: u32,
    pub user_burst: u32,
    /// The global GCRA key (commands into the ledger), and its rate and burst.
    pub global_key: &'a str,
    pub global_per_sec: u32,
    pub global_burst: u32,
}

/// What the limits decided about one booking command. A refused command spends no later limit:
/// over the seat limit spends no rate, and a user over its rate spends none of the global one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CommandDecision {
    Allowed,
    /// The hold asks for more seats than the sale's seat limit.
    OverSeatLimit,
    /// This user is over its rate: try again after this many milliseconds.
    UserLimited {
        retry_after_ms: u64,
    },
    /// The ledger is taking all the commands it may: try again after this many milliseconds.
    GlobalLimited {
        retry_after_ms: u64,
    },
}

/// The seat limit, then the user's rate, then the global rate, in that order.
pub fn admit_command(
    seat_limit: Option<u16>,
    limits: &CommandLimits<'_>,
    rates: &mut Rates,
    now_ms: u64,
) -> CommandDecision {
    if let (Some(seats), Some(limit)) = (limits.seats, seat_limit)
        && seats > u32::from(limit)
    {
        return CommandDecision::OverSeatLimit;
    }
    let user = rates.check(
        limits.user_key,
        limits.user_per_sec,
        limits.user_burst,
        now_ms,
    );
    if let RateDecision::Limited { retry_after_ms } = user {
        return CommandDecision::UserLimited { retry_after_ms };
    }
    let global = rates.check(
        limits.global_key,
        limits.global_per_sec,
        limits.global_burst,
        now_ms,
    );
    if let RateDecision::Limited { retry_after_ms } = global {
        return CommandDecision::GlobalLimited { retry_after_ms };
    }
    CommandDecision::Allowed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_command_step_checks_seats_then_the_user_then_everyone() {
        let mut rates = Rates::default();
        let now_ms = 1_000_000;
        let limits = |seats, user_key| CommandLimits {
            seats,
            user_key,
            user_per_sec: 1,
            user_burst: 1,
            global_key: "ledger",
            global_per_sec: 1,
            global_burst: 2,
        };
        let mut decide =
            |seats, user| admit_command(Some(4), &limits(seats, user), &mut rates, now_ms);
        assert_eq!(
            decide(Some(5), "a"),
            CommandDecision::OverSeatLimit,
            "5 seats over a limit of 4"
        );
        assert_eq!(
            decide(Some(4), "a"),
            CommandDecision::Allowed,
            "the refused hold spent no rate"
        );
        assert!(matches!(
            decide(None, "a"),
            CommandDecision::UserLimited { .. }
        ));
        assert_eq!(
            decide(None, "b"),
            CommandDecision::Allowed,
            "a user over its rate spent none of the global one"
        );
        assert!(matches!(
            decide(None, "c"),
            CommandDecision::GlobalLimited { retry_after_ms } if retry_after_ms > 0
        ));
    }

    #[test]
    fn gcra_allows_the_burst_then_the_rate() {
        let mut rates = Rates::default();
        let start_ms = 1_000_000;
        let allowed = (0..20)
            .filter(|_| rates.check("u", 5, 5, start_ms) == RateDecision::Allowed)
            .count();
        assert_eq!(allowed, 5, "a burst of 5");
        assert_eq!(
            rates.check("u", 5, 5, start_ms + 200),
            RateDecision::Allowed
        );
        assert!(matches!(
            rates.check("u", 5, 5, start_ms + 200),
            RateDecision::Limited { retry_after_ms } if retry_after_ms <= 200
        ));
        assert_eq!(
            rates.check("other", 5, 5, start_ms + 200),
            RateDecision::Allowed
        );
    }
}
