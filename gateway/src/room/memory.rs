//! The waiting room in one process's memory, for `picket up`: the same rules as the Redis store,
//! under one mutex. Also the reference the Redis store is tested against.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard};

use super::draw;
use super::*;

/// Rate-limit keys remembered at once; past this, keys whose limit has fully recovered are
/// dropped (they carry no state a new key would not have).
pub const RATE_KEYS_MAX: usize = 100_000;

type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

struct Sale {
    settings: SaleSettings,
    seed: String,
    drawn: bool,
    sold_out: bool,
    prequeue: HashSet<String>,
    /// Places given after the open, in order.
    late: u64,
    places: HashMap<String, u64>,
    who: HashMap<u64, String>,
    seen: HashMap<String, u64>,
    admitted: HashMap<String, (u64, u64)>,
    /// Live admissions: identity → expiry.
    active: HashMap<String, u64>,
    watermark: u64,
    credit: f64,
    credit_at_ms: u64,
    next_jti: u64,
    lease: Option<(String, u64)>,
}

impl Sale {
    fn new(settings: SaleSettings, now_ms: u64) -> Self {
        Sale {
            settings,
            seed: draw::new_seed(),
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
            credit: 0.0,
            credit_at_ms: now_ms,
            next_jti: 1,
            lease: None,
        }
    }

    fn tail(&self, now_ms: u64) -> u64 {
        if now_ms < self.settings.open_at_ms {
            0
        } else {
            self.prequeue.len() as u64 + self.late
        }
    }

    fn view(&self, sale: SaleId, now_ms: u64) -> SaleView {
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

    fn standing(&self, identity: &str, now_ms: u64) -> Standing {
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

    fn join(&mut self, identity: &str, now_ms: u64) -> Standing {
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
        self.places.insert(identity.to_owned(), place);
        self.who.insert(place, identity.to_owned());
        Standing::Waiting { place }
    }

    /// Takes or renews the lease; false when another holder's lease is live.
    fn lease(&mut self, holder: &str, lease_ms: u64, now_ms: u64) -> bool {
        if let Some((current, until_ms)) = &self.lease
            && current != holder
            && *until_ms > now_ms
        {
            return false;
        }
        self.lease = Some((holder.to_owned(), now_ms + lease_ms));
        true
    }

    fn advance(&mut self, holder: &str, lease_ms: u64, now_ms: u64) -> Advance {
        let mut step = Advance {
            watermark: self.watermark,
            ..Advance::default()
        };
        if !self.lease(holder, lease_ms, now_ms) {
            return step;
        }
        step.leader = true;
        if !self.drawn {
            step.draw_due = now_ms >= self.settings.open_at_ms;
            return step;
        }
        let elapsed_ms = now_ms.saturating_sub(self.credit_at_ms);
        self.credit = refill_credit(self.credit, self.settings.admit_per_sec, elapsed_ms);
        self.credit_at_ms = now_ms;
        self.active.retain(|_, exp| *exp > now_ms);
        if self.settings.paused || self.sold_out {
            return step;
        }
        let room = u64::from(self.settings.active_max).saturating_sub(self.active.len() as u64);
        let budget = (self.credit.floor() as u64).min(room);
        let tail = self.tail(now_ms);
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
        self.credit -= f64::from(step.admitted);
        step.watermark = self.watermark;
        step
    }

    fn draw(&mut self, holder: &str, now_ms: u64) {
        let holds_lease = self
            .lease
            .as_ref()
            .is_some_and(|(h, until)| h == holder && *until > now_ms);
        if self.drawn || !holds_lease || now_ms < self.settings.open_at_ms {
            return;
        }
        let order = draw::draw_order(&self.seed, self.prequeue.iter().cloned().collect());
        for (index, identity) in order.into_iter().enumerate() {
            let place = index as u64 + 1;
            self.places.insert(identity.clone(), place);
            self.who.insert(place, identity);
        }
        self.drawn = true;
        self.credit_at_ms = now_ms;
    }
}

/// The in-memory store. Cloning shares the same state.
#[derive(Clone)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
    clock: Clock,
}

#[derive(Default)]
struct State {
    sales: BTreeMap<SaleId, Sale>,
    /// GCRA: the theoretical arrival time per key, in microseconds.
    rates: HashMap<String, u64>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// A store on the system clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(picket_edge::clock::now_ms))
    }

    /// A store on a given clock (milliseconds since the epoch), for tests.
    pub fn with_clock(clock: Clock) -> Self {
        MemoryStore {
            state: Arc::new(Mutex::new(State::default())),
            clock,
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-applied step that matters more
        // than stopping every gateway task would.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn with_sale<T>(
        &self,
        sale: SaleId,
        step: impl FnOnce(&mut Sale, u64) -> T,
    ) -> Result<T, StoreError> {
        let now_ms = (self.clock)();
        let mut state = self.lock();
        let found = state.sales.get_mut(&sale).ok_or(StoreError::UnknownSale)?;
        Ok(step(found, now_ms))
    }

    fn audit_list(&self, sale: SaleId) -> Result<Vec<String>, StoreError> {
        self.with_sale(sale, |found, _| {
            let mut drawn: Vec<_> = found
                .who
                .iter()
                .filter(|(place, _)| **place <= found.prequeue.len() as u64)
                .collect();
            drawn.sort();
            let order: Vec<String> = drawn.into_iter().map(|(_, id)| id.clone()).collect();
            draw::audit_list(&order)
        })
    }
}

fn ready<'a, T: Send + 'a>(value: Result<T, StoreError>) -> StoreFuture<'a, T> {
    Box::pin(std::future::ready(value))
}

impl QueueStore for MemoryStore {
    fn configure(&self, sale: SaleId, settings: SaleSettings) -> StoreFuture<'_, SaleView> {
        let now_ms = (self.clock)();
        let mut state = self.lock();
        let entry = state
            .sales
            .entry(sale)
            .or_insert_with(|| Sale::new(settings.clone(), now_ms));
        if entry.drawn {
            // The open time is fixed once the pre-queue has been drawn.
            entry.settings = SaleSettings {
                open_at_ms: entry.settings.open_at_ms,
                ..settings
            };
        } else {
            entry.settings = settings;
        }
        let view = entry.view(sale, now_ms);
        ready(Ok(view))
    }

    fn view(&self, sale: SaleId) -> StoreFuture<'_, SaleView> {
        ready(self.with_sale(sale, |found, now_ms| found.view(sale, now_ms)))
    }

    fn join<'a>(&'a self, sale: SaleId, identity: &'a str) -> StoreFuture<'a, Standing> {
        ready(self.with_sale(sale, |found, now_ms| found.join(identity, now_ms)))
    }

    fn standings<'a>(
        &'a self,
        sale: SaleId,
        identities: &'a [String],
    ) -> StoreFuture<'a, Vec<Standing>> {
        ready(self.with_sale(sale, |found, now_ms| {
            identities
                .iter()
                .map(|identity| found.standing(identity, now_ms))
                .collect()
        }))
    }

    fn heartbeat<'a>(&'a self, sale: SaleId, identities: &'a [String]) -> StoreFuture<'a, ()> {
        ready(self.with_sale(sale, |found, now_ms| {
            for identity in identities {
                found.seen.insert(identity.clone(), now_ms);
            }
        }))
    }

    fn advance<'a>(
        &'a self,
        sale: SaleId,
        holder: &'a str,
        lease_ms: u64,
    ) -> StoreFuture<'a, Advance> {
        ready(self.with_sale(sale, |found, now_ms| {
            found.advance(holder, lease_ms, now_ms)
        }))
    }

    /// One lock for the whole draw: the lease cannot lapse in the middle.
    fn draw<'a>(&'a self, sale: SaleId, holder: &'a str, _lease_ms: u64) -> StoreFuture<'a, ()> {
        ready(self.with_sale(sale, |found, now_ms| found.draw(holder, now_ms)))
    }

    fn finish<'a>(&'a self, sale: SaleId, identity: &'a str) -> StoreFuture<'a, ()> {
        ready(self.with_sale(sale, |found, now_ms| {
            found.active.remove(identity);
            if let Some(admission) = found.admitted.get_mut(identity) {
                admission.1 = admission.1.min(now_ms);
            }
        }))
    }

    fn set_sold_out(&self, sale: SaleId, sold_out: bool) -> StoreFuture<'_, ()> {
        ready(self.with_sale(sale, |found, _| found.sold_out = sold_out))
    }

    fn audit(&self, sale: SaleId) -> StoreFuture<'_, Vec<String>> {
        ready(self.audit_list(sale))
    }

    fn rate_limit<'a>(
        &'a self,
        key: &'a str,
        per_sec: u32,
        burst: u32,
    ) -> StoreFuture<'a, RateDecision> {
        let now_us = (self.clock)() * 1_000;
        let mut state = self.lock();
        if state.rates.len() >= RATE_KEYS_MAX {
            state.rates.retain(|_, tat_us| *tat_us > now_us);
        }
        let tat_us = state.rates.get(key).copied().unwrap_or(now_us);
        let (decision, new_tat_us) = gcra(tat_us, now_us, per_sec, burst);
        if let Some(tat) = new_tat_us {
            state.rates.insert(key.to_owned(), tat);
        }
        ready(Ok(decision))
    }
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

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    fn settings(open_at_ms: u64) -> SaleSettings {
        SaleSettings {
            open_at_ms,
            admit_per_sec: 10,
            active_max: 1_000,
            admission_ttl_ms: 600_000,
            seat_limit: 4,
            grace_ms: 30_000,
            paused: false,
        }
    }

    fn store_at(start_ms: u64) -> (MemoryStore, Arc<AtomicU64>) {
        let now = Arc::new(AtomicU64::new(start_ms));
        let clock = now.clone();
        let store = MemoryStore::with_clock(Arc::new(move || clock.load(Ordering::SeqCst)));
        (store, now)
    }

    fn block<T>(future: StoreFuture<'_, T>) -> T {
        // Every memory-store future is ready at once.
        let waker = std::task::Waker::noop();
        let mut context = std::task::Context::from_waker(waker);
        let mut future = future;
        match future.as_mut().poll(&mut context) {
            std::task::Poll::Ready(result) => result.expect("store step"),
            std::task::Poll::Pending => panic!("memory store futures are ready"),
        }
    }

    #[test]
    fn pre_queue_draw_then_fifo_with_dense_places() {
        let (store, now) = store_at(1_000);
        block(store.configure(7, settings(10_000)));
        for i in 0..50 {
            assert_eq!(block(store.join(7, &format!("g:{i}"))), Standing::PreQueue);
        }
        now.store(10_000, Ordering::SeqCst);
        let late = block(store.join(7, "g:late"));
        assert_eq!(
            late,
            Standing::Waiting { place: 51 },
            "late arrivals queue after the pre-queue"
        );
        let step = block(store.advance(7, "gw-1", 2_000));
        assert!(step.leader && step.draw_due);
        block(store.draw(7, "gw-1", 1_000));
        let ids: Vec<String> = (0..50).map(|i| format!("g:{i}")).collect();
        let mut places: Vec<u64> = block(store.standings(7, &ids))
            .into_iter()
            .map(|s| match s {
                Standing::Waiting { place } => place,
                other => panic!("{other:?}"),
            })
            .collect();
        places.sort();
        assert_eq!(
            places,
            (1..=50).collect::<Vec<_>>(),
            "places are dense and unique"
        );
        let view = block(store.view(7));
        assert_eq!(
            view.seed.as_deref().map(draw::seed_hash),
            Some(view.seed_hash)
        );
        assert!(draw::verify_audit(
            &view.seed.unwrap_or_default(),
            &block(store.audit(7))
        ));
    }

    #[test]
    fn admission_follows_the_rate_and_skips_the_gone() {
        let (store, now) = store_at(0);
        block(store.configure(7, settings(0)));
        block(store.advance(7, "gw-1", 2_000));
        block(store.draw(7, "gw-1", 1_000));
        for i in 0..30 {
            block(store.join(7, &format!("g:{i}")));
        }
        // Places 1..=30; everyone but g:0..=4 stays connected past the grace period.
        now.store(40_000, Ordering::SeqCst);
        let present: Vec<String> = (5..30).map(|i| format!("g:{i}")).collect();
        block(store.heartbeat(7, &present));
        let step = block(store.advance(7, "gw-1", 2_000));
        assert_eq!(
            (step.admitted, step.skipped),
            (10, 5),
            "one second of credit at 10/s"
        );
        assert_eq!(step.watermark, 15);
        assert!(matches!(
            block(store.join(7, "g:5")),
            Standing::Admitted { .. }
        ));
        assert_eq!(
            block(store.join(7, "g:0")),
            Standing::Waiting { place: 31 },
            "a skipped owner who comes back queues again at the end"
        );
        let other = block(store.advance(7, "gw-2", 2_000));
        assert!(
            !other.leader,
            "a second controller cannot take a live lease"
        );
    }

    #[test]
    fn active_max_caps_live_admissions_and_finish_frees_a_slot() {
        let (store, now) = store_at(0);
        block(store.configure(
            7,
            SaleSettings {
                active_max: 3,
                ..settings(0)
            },
        ));
        block(store.advance(7, "gw", 2_000));
        block(store.draw(7, "gw", 1_000));
        let ids: Vec<String> = (0..6).map(|i| format!("g:{i}")).collect();
        for id in &ids {
            block(store.join(7, id));
        }
        now.store(2_000, Ordering::SeqCst);
        block(store.heartbeat(7, &ids));
        assert_eq!(block(store.advance(7, "gw", 2_000)).admitted, 3);
        now.store(3_000, Ordering::SeqCst);
        assert_eq!(block(store.advance(7, "gw", 2_000)).admitted, 0);
        block(store.finish(7, "g:0"));
        assert_eq!(block(store.advance(7, "gw", 2_000)).admitted, 1);
        assert_eq!(block(store.view(7)).active, 3);
    }

    #[test]
    fn gcra_allows_the_burst_then_the_rate() {
        let (store, now) = store_at(1_000_000);
        let mut allowed = 0;
        for _ in 0..20 {
            if block(store.rate_limit("u", 5, 5)) == RateDecision::Allowed {
                allowed += 1;
            }
        }
        assert_eq!(allowed, 5, "a burst of 5");
        now.fetch_add(200, Ordering::SeqCst);
        assert_eq!(block(store.rate_limit("u", 5, 5)), RateDecision::Allowed);
        assert!(matches!(
            block(store.rate_limit("u", 5, 5)),
            RateDecision::Limited { retry_after_ms } if retry_after_ms <= 200
        ));
        assert_eq!(
            block(store.rate_limit("other", 5, 5)),
            RateDecision::Allowed
        );
    }
}
