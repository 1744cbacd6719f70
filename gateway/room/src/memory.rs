//! The waiting room in one process's memory, for `picket up`: the pure per-sale cores
//! ([`crate::core`]) under one mutex, on the wall clock (or a given clock in tests).
//!
//! Opened on a file ([`MemoryStore::open`]), the sales survive a restart: [`MemoryStore::save`]
//! writes every sale (settings, the draw's seed and result, places, admissions) to the file
//! atomically when something changed since the last save; the shell calls it every
//! [`SAVE_INTERVAL`] and once more on shutdown, so a crash loses at most the changes of one
//! interval and a clean stop loses nothing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::core::SaleCore;
use crate::*;

type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The wall clock in milliseconds since the Unix epoch (0 if the system clock is before it):
/// read here, in the shell, and handed to the core.
fn wall_clock_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as u64)
}

/// The version of the file [`MemoryStore::save`] writes; a file of another version is refused
/// rather than misread.
pub const SAVED_FORMAT_VERSION: u32 = 1;
/// How often the shell saves a store opened on a file (changes only): a crash loses at most this
/// much of the waiting room.
pub const SAVE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);
/// Largest saved file [`MemoryStore::open`] reads (a 600,000-place sale is about 100 MB).
pub const SAVED_BYTES_MAX: u64 = 1 << 30;

/// The in-memory store. Cloning shares the same state.
#[derive(Clone)]
pub struct MemoryStore {
    state: Arc<Mutex<State>>,
    clock: Clock,
    /// Where [`MemoryStore::save`] keeps the sales, if anywhere.
    path: Option<PathBuf>,
}

#[derive(Default)]
struct State {
    sales: BTreeMap<SaleId, SaleCore>,
    /// Bumped by every change to a sale; `saved` is its value at the last save.
    generation: u64,
    saved: u64,
}

/// What the file holds.
#[derive(serde::Serialize, serde::Deserialize)]
struct Saved {
    version: u32,
    sales: BTreeMap<SaleId, SaleCore>,
}

/// Why the sales could not be read from or written to their file.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("cannot read or write {path}: {source}")]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a waiting-room file of format {SAVED_FORMAT_VERSION}: {reason}")]
    Format { path: PathBuf, reason: String },
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryStore {
    /// A store on the system clock.
    pub fn new() -> Self {
        Self::with_clock(Arc::new(wall_clock_ms))
    }

    /// A store on a given clock (milliseconds since the epoch), for tests.
    pub fn with_clock(clock: Clock) -> Self {
        MemoryStore {
            state: Arc::new(Mutex::new(State::default())),
            clock,
            path: None,
        }
    }

    /// A store on the system clock that keeps its sales in the file at `path`: the sales saved
    /// there are loaded now (none when the file does not exist yet).
    pub fn open(path: impl Into<PathBuf>) -> Result<Self, SaveError> {
        let path = path.into();
        let mut store = Self::new();
        store.state = Arc::new(Mutex::new(State {
            sales: load(&path)?,
            ..State::default()
        }));
        store.path = Some(path);
        Ok(store)
    }

    /// Writes every sale to the store's file if anything changed since the last save (nothing
    /// to do for a store without a file). The file is replaced atomically: a crash while saving
    /// leaves the previous save.
    pub fn save(&self) -> Result<(), SaveError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let (generation, saved) = {
            let state = self.lock();
            if state.generation == state.saved {
                return Ok(());
            }
            let saved = Saved {
                version: SAVED_FORMAT_VERSION,
                sales: state.sales.clone(),
            };
            (state.generation, saved)
        };
        let bytes = serde_json::to_vec(&saved).map_err(|e| SaveError::Format {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        write_atomically(path, &bytes)?;
        let mut state = self.lock();
        state.saved = state.saved.max(generation);
        Ok(())
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a half-applied step that matters more
        // than stopping every gateway task would.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reads a sale.
    fn with_sale<T>(
        &self,
        sale: SaleId,
        step: impl FnOnce(&SaleCore, u64) -> T,
    ) -> Result<T, StoreError> {
        let now_ms = (self.clock)();
        let state = self.lock();
        let found = state.sales.get(&sale).ok_or(StoreError::UnknownSale)?;
        Ok(step(found, now_ms))
    }

    /// Changes a sale (and marks the store as changed since its last save).
    fn change_sale<T>(
        &self,
        sale: SaleId,
        step: impl FnOnce(&mut SaleCore, u64) -> T,
    ) -> Result<T, StoreError> {
        let now_ms = (self.clock)();
        let mut state = self.lock();
        let found = state.sales.get_mut(&sale).ok_or(StoreError::UnknownSale)?;
        let result = step(found, now_ms);
        state.generation += 1;
        Ok(result)
    }
}

/// The sales saved at `path`, with their controller leases forgotten (the process that held
/// them is gone); none when there is no file yet.
fn load(path: &Path) -> Result<BTreeMap<SaleId, SaleCore>, SaveError> {
    let file_error = |source| SaveError::File {
        path: path.to_owned(),
        source,
    };
    let file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
        Err(error) => return Err(file_error(error)),
    };
    let length = file.metadata().map_err(file_error)?.len();
    if length > SAVED_BYTES_MAX {
        return Err(SaveError::Format {
            path: path.to_owned(),
            reason: format!("{length} bytes, more than {SAVED_BYTES_MAX}"),
        });
    }
    let saved: Saved =
        serde_json::from_reader(std::io::BufReader::new(file)).map_err(|e| SaveError::Format {
            path: path.to_owned(),
            reason: e.to_string(),
        })?;
    if saved.version != SAVED_FORMAT_VERSION {
        return Err(SaveError::Format {
            path: path.to_owned(),
            reason: format!("version {}", saved.version),
        });
    }
    let mut sales = saved.sales;
    for core in sales.values_mut() {
        core.forget_lease();
    }
    Ok(sales)
}

/// Writes `bytes` to a temporary file beside `path`, flushes it to disk, and renames it over
/// `path`.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), SaveError> {
    use std::io::Write;
    let file_error = |source| SaveError::File {
        path: path.to_owned(),
        source,
    };
    let temporary = path.with_extension("tmp");
    let mut file = std::fs::File::create(&temporary).map_err(file_error)?;
    file.write_all(bytes).map_err(file_error)?;
    file.sync_all().map_err(file_error)?;
    std::fs::rename(&temporary, path).map_err(file_error)
}

fn ready<'a, T: Send + 'a>(value: Result<T, StoreError>) -> StoreFuture<'a, T> {
    Box::pin(std::future::ready(value))
}

impl QueueStore for MemoryStore {
    fn configure_with(
        &self,
        sale: SaleId,
        settings: SaleSettings,
        secrets: DrawSecrets,
    ) -> StoreFuture<'_, SaleView> {
        let now_ms = (self.clock)();
        let mut state = self.lock();
        let entry = state.sales.entry(sale).or_insert_with(|| {
            SaleCore::new(settings.clone(), secrets.seed, secrets.entry_key, now_ms)
        });
        entry.configure(settings);
        let view = entry.view(sale, now_ms);
        state.generation += 1;
        ready(Ok(view))
    }

    fn view(&self, sale: SaleId) -> StoreFuture<'_, SaleView> {
        ready(self.with_sale(sale, |found, now_ms| found.view(sale, now_ms)))
    }

    fn secrets(&self, sale: SaleId) -> StoreFuture<'_, DrawSecrets> {
        ready(self.with_sale(sale, |found, _| found.secrets()))
    }

    fn drawn_order(&self, sale: SaleId) -> StoreFuture<'_, Vec<String>> {
        ready(self.with_sale(sale, |found, _| found.drawn_order()))
    }

    fn restore<'a>(&'a self, sale: SaleId, record: &'a SaleRecord) -> StoreFuture<'a, bool> {
        if let Err(why) = record.check() {
            return ready(Err(StoreError::Protocol(format!(
                "sale {sale} cannot be restored: {why}"
            ))));
        }
        let now_ms = (self.clock)();
        let mut state = self.lock();
        if state.sales.contains_key(&sale) {
            return ready(Ok(false));
        }
        state.sales.insert(sale, SaleCore::restored(record, now_ms));
        state.generation += 1;
        ready(Ok(true))
    }

    fn join<'a>(&'a self, sale: SaleId, identity: &'a str) -> StoreFuture<'a, Standing> {
        ready(self.change_sale(sale, |found, now_ms| found.join(identity, now_ms)))
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
        ready(self.change_sale(sale, |found, now_ms| found.heartbeat(identities, now_ms)))
    }

    fn advance<'a>(
        &'a self,
        sale: SaleId,
        holder: &'a str,
        lease_ms: u64,
    ) -> StoreFuture<'a, Advance> {
        ready(self.change_sale(sale, |found, now_ms| {
            found.advance(holder, lease_ms, now_ms)
        }))
    }

    /// One lock for the whole draw: the lease cannot lapse in the middle.
    fn draw<'a>(&'a self, sale: SaleId, holder: &'a str, lease_ms: u64) -> StoreFuture<'a, ()> {
        ready(self.change_sale(sale, |found, now_ms| found.draw(holder, lease_ms, now_ms)))
    }

    fn finish<'a>(&'a self, sale: SaleId, identity: &'a str) -> StoreFuture<'a, ()> {
        ready(self.change_sale(sale, |found, now_ms| found.finish(identity, now_ms)))
    }

    fn finish_many<'a>(&'a self, sale: SaleId, identities: &'a [String]) -> StoreFuture<'a, ()> {
        ready(self.change_sale(sale, |found, now_ms| {
            for identity in identities {
                found.finish(identity, now_ms);
            }
        }))
    }

    fn set_sold_out(&self, sale: SaleId, sold_out: bool) -> StoreFuture<'_, ()> {
        ready(self.change_sale(sale, |found, _| found.set_sold_out(sold_out)))
    }

    fn audit(&self, sale: SaleId) -> StoreFuture<'_, Vec<String>> {
        ready(self.with_sale(sale, |found, _| found.audit()))
    }

    fn draw_entry<'a>(&'a self, sale: SaleId, identity: &'a str) -> StoreFuture<'a, String> {
        ready(self.with_sale(sale, |found, _| found.draw_entry(identity)))
    }
}

#[cfg(test)]
mod tests {
    use sha2::Digest as _;
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
        outcome(future).expect("store step")
    }

    fn outcome<T>(future: StoreFuture<'_, T>) -> Result<T, StoreError> {
        // Every memory-store future is ready at once.
        let waker = std::task::Waker::noop();
        let mut context = std::task::Context::from_waker(waker);
        let mut future = future;
        match future.as_mut().poll(&mut context) {
            std::task::Poll::Ready(result) => result,
            std::task::Poll::Pending => panic!("memory store futures are ready"),
        }
    }

    /// A sale drawn and partly admitted in one store, recorded, and restored into an empty one:
    /// the same seed, audit and drawn places past the recorded watermark; a second restore, or
    /// one over a sale the store has, changes nothing.
    #[test]
    fn a_recorded_draw_restores_the_same_audit_and_places() {
        let (store, now) = store_at(1_000);
        let created = block(store.configure(7, settings(10_000)));
        let ids: Vec<String> = (0..30).map(|i| format!("g:{i}")).collect();
        for id in &ids {
            block(store.join(7, id));
        }
        now.store(10_000, Ordering::SeqCst);
        block(store.draw(7, "gw-1", 1_000));
        now.store(11_000, Ordering::SeqCst);
        let step = block(store.advance(7, "gw-1", 2_000));
        assert_eq!(step.admitted, 10, "one second at 10 a second");
        let view = block(store.view(7));
        let record = SaleRecord {
            settings: settings(99_999),
            secrets: block(store.secrets(7)),
            drawn: Some(DrawnRecord {
                open_at_ms: view.settings.open_at_ms,
                order: block(store.drawn_order(7)),
                watermark: view.watermark,
            }),
        };

        let (empty, later) = store_at(20_000);
        assert!(block(empty.restore(7, &record)));
        let restored = block(empty.view(7));
        assert_eq!(restored.seed_hash, created.seed_hash);
        assert_eq!(restored.seed, view.seed);
        assert_eq!(restored.settings.open_at_ms, 10_000, "the drawn open stays");
        assert_eq!(restored.watermark, 10);
        assert_eq!(block(empty.audit(7)), block(store.audit(7)));
        let waiting = |s: &MemoryStore| {
            block(s.standings(7, &ids))
                .into_iter()
                .filter(|standing| matches!(standing, Standing::Waiting { .. }))
                .collect::<Vec<_>>()
        };
        assert_eq!(waiting(&empty), waiting(&store), "the places still waiting");
        assert_eq!(waiting(&empty).len(), 20);

        assert!(!block(empty.restore(7, &record)), "restored once");
        assert_eq!(block(empty.view(7)), restored);
        later.store(20_500, Ordering::SeqCst);
        // The owners count as seen at the restore: within grace they are admitted, not skipped.
        let step = block(empty.advance(7, "gw-2", 2_000));
        assert_eq!((step.admitted, step.skipped), (5, 0));
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

    /// Item 11 of issue 12: the published list must not let anyone tell who queued. Member ids
    /// are public, so an unsalted hash of an identity would name its owner.
    #[test]
    fn the_audit_list_reveals_no_identity() {
        let (store, now) = store_at(1_000);
        block(store.configure(7, settings(10_000)));
        let ids: Vec<String> = (0..40).map(|i| format!("m:{i}")).collect();
        for id in &ids {
            block(store.join(7, id));
        }
        now.store(10_000, Ordering::SeqCst);
        block(store.advance(7, "gw-1", 2_000));
        block(store.draw(7, "gw-1", 1_000));
        let published = block(store.audit(7));
        assert_eq!(published.len(), ids.len());
        for id in &ids {
            let hashed = hex::encode(sha2::Sha256::digest(id.as_bytes()));
            assert!(
                !published.contains(&hashed),
                "the audit list names {id} by its SHA-256"
            );
            // Its owner is told its entry, and finds it at its own place.
            let entry = block(store.draw_entry(7, id));
            let Standing::Waiting { place } = block(store.join(7, id)) else {
                panic!("{id} was drawn");
            };
            assert_eq!(
                published[place as usize - 1],
                entry,
                "{id} at place {place}"
            );
        }
        let view = block(store.view(7));
        assert!(draw::verify_audit(
            &view.seed.unwrap_or_default(),
            &published
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

    /// A sale saved by one store is the same sale in a store opened on the file: settings, the
    /// seed's hash, the drawn order, places and admissions; the old controller's lease is gone.
    #[test]
    fn sales_survive_a_save_and_an_open() {
        let dir = std::env::temp_dir().join(format!("picket-room-save-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("waiting-room.json");
        let _ = std::fs::remove_file(&path);
        let store = MemoryStore::open(&path).expect("no file yet");
        block(store.configure(7, settings(0)));
        for i in 0..5 {
            block(store.join(7, &format!("g:{i}")));
        }
        block(store.advance(7, "gw-old", 60_000));
        block(store.draw(7, "gw-old", 60_000));
        block(store.join(7, "g:late"));
        let ids: Vec<String> = (0..5).map(|i| format!("g:{i}")).collect();
        block(store.heartbeat(7, &ids));
        block(store.advance(7, "gw-old", 60_000));
        let before = block(store.view(7));
        let audit = block(store.audit(7));
        let late = block(store.join(7, "g:late"));
        store.save().expect("saved");

        let reopened = MemoryStore::open(&path).expect("saved file");
        let after = block(reopened.view(7));
        assert_eq!(after.seed_hash, before.seed_hash);
        assert_eq!(
            (after.tail, after.watermark),
            (before.tail, before.watermark)
        );
        assert_eq!(
            after.seed, before.seed,
            "the drawn seed is published and kept"
        );
        assert_eq!(block(reopened.audit(7)), audit, "the entry key is kept");
        assert_eq!(
            block(reopened.draw_entry(7, "g:0")),
            block(store.draw_entry(7, "g:0"))
        );
        assert_eq!(block(reopened.join(7, "g:late")), late, "a place is kept");
        let step = block(reopened.advance(7, "gw-new", 2_000));
        assert!(step.leader, "the dead process' lease is forgotten");
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }

    #[test]
    fn a_file_of_another_format_is_refused_not_misread() {
        let dir = std::env::temp_dir().join(format!("picket-room-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("waiting-room.json");
        std::fs::write(&path, br#"{"version": 99, "sales": {}}"#).expect("write");
        assert!(matches!(
            MemoryStore::open(&path),
            Err(SaveError::Format { .. })
        ));
        std::fs::write(&path, b"not json").expect("write");
        assert!(matches!(
            MemoryStore::open(&path),
            Err(SaveError::Format { .. })
        ));
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
