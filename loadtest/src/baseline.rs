//! The `pg-row-lock` baseline: the booking workload run the way most ticketing backends run it,
//! every step one PostgreSQL transaction that locks the seat rows with `SELECT … FOR UPDATE`, on
//! the same machine as Picket, so the report can put Picket's figures beside it as ratios.
//!
//! What it does, and why:
//! - **Its own schema.** Each run creates `picket_baseline_<pid>_<n>_<ms>` with `seats` and
//!   `bookings`, and drops it at the end (also when the run fails). The pool's connections get
//!   that schema as their `search_path`, so every statement is a static string with bind
//!   parameters; only `CREATE`/`DROP SCHEMA` name it, and the name is made of digits only.
//! - **Durable like Picket.** Tables are logged and `synchronous_commit` is set to `on` (the
//!   default, set explicitly so a server configured otherwise cannot flatter the baseline):
//!   Picket's journal commits the same way before it answers.
//! - **A buyer** prefers a grade (hot grades first, with the WebSocket buyers' weights:
//!   `rng::hot_grade_weights`, 4:3:2:1 over four grades) and looks at a seat map that is at most `seat_map_refresh` old (one
//!   shared plain read of the free seats, as a backend would cache the seat-map page). If the
//!   map shows the grade without `per_hold_seats` free seats, the buyer turns to the next grade
//!   the map shows open. It picks random seats there and holds them: `BEGIN; SELECT … WHERE id =
//!   ANY($1) ORDER BY id FOR UPDATE`, and if every seat is free (or its hold expired) `UPDATE`
//!   them to held, `COMMIT`. A taken seat rolls back and counts `seat_taken`; the buyer picks
//!   again up to `seat_taken_retries_max` times, then asks for the best available seats, grade
//!   by grade (those the map shows open first, then the others: only the database may say the
//!   sale is sold out).
//! - **Best available uses plain `FOR UPDATE`, not `SKIP LOCKED`.** That is the naive query most
//!   backends run (`… WHERE grade = $1 AND free ORDER BY id LIMIT n FOR UPDATE`): concurrent
//!   buyers queue on the same first rows, and after the wait PostgreSQL re-checks the row and
//!   skips it, so the query may return fewer than `n` rows; then the buyer counts whether the
//!   grade still has `n` free seats and tries again (bounded by [`BEST_AVAILABLE_ATTEMPTS_MAX`])
//!   or moves on to the next grade. When the hot grade is nearly gone this is where the
//!   baseline spends its time: most of its connections wait on row locks (`transactionid`).
//! - **Confirm or abandon.** `confirm_percent` of the holders confirm: `SELECT … FOR UPDATE` the
//!   hold's seats, check they are still held by this hold and not expired, `UPDATE` to sold,
//!   `INSERT` the booking with the sum of the seats' prices, `COMMIT`. The others release their
//!   hold in one `UPDATE` (an auto-committed transaction).
//! - **Measured** into a [`Recorder`] exactly as the WebSocket clients record: every hold
//!   attempt's latency (`Step::Hold`, accepted or rejected), the confirm's (`Step::Confirm`) and
//!   the buyer's arrival → confirm committed (`Step::EndToEnd`). Latencies include the wait for
//!   a pool connection: a backend's requests wait for one too.
//! - **Closed or open loop.** `rate_per_s: None` runs `clients` buyers that book again as soon
//!   as they finish. `Some(rate)` starts buyers on a fixed schedule whether or not earlier ones
//!   were answered (at most `in_flight_max` at once; an arrival over that is turned away and
//!   counted as the error `in_flight_max`), and measures from the scheduled arrival so that a
//!   late start counts against the baseline, not for it.
//! - **Sold out ends the sale.** A buyer who finds no grade with `per_hold_seats` free seats
//!   counts `sold_out`, and then no new bookings start: closed-loop clients leave and the
//!   open-loop schedule stops, so a run can end before `duration`. Seats that abandoning buyers
//!   release after that moment stay unsold (at most `clients × per_hold_seats` in a closed loop,
//!   `in_flight_max × per_hold_seats` in an open one).
//!
//! [`audit`] then checks the tables: no seat in two bookings, every sold seat in exactly one
//! booking, the booking amounts add up to the sold seats' prices, and the database agrees with
//! what the buyers were told.

use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, PgPool, Postgres, Transaction};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::recorder::{Counters, Recorder, Step};
use crate::rng::{Attempt, Rng, hot_grade_weights, pick_weighted};

/// The baseline's name in reports.
pub const NAME: &str = "pg-row-lock";
/// Most seats a baseline sale may have.
pub const SEATS_MAX: u32 = 1_000_000;
/// Most grades a baseline sale may have.
pub const GRADES_MAX: usize = 32;
/// Most seats one hold may take.
pub const PER_HOLD_SEATS_MAX: u16 = 10;
/// Most concurrent closed-loop buyers.
pub const CLIENTS_MAX: usize = 100_000;
/// Most pool connections (PostgreSQL's default `max_connections` is 100).
pub const POOL_CONNECTIONS_MAX: u32 = 90;
/// Highest seat price, so that sums stay far inside an `i64`.
pub const PRICE_WON_MAX: u64 = 100_000_000;
/// Best-available attempts per grade before the buyer moves on.
pub const BEST_AVAILABLE_ATTEMPTS_MAX: u8 = 8;
/// How long buyers still busy at the end of `duration` may take to finish.
pub const DRAIN_MAX: Duration = Duration::from_secs(60);
/// How long a transaction may wait for a pool connection before it fails as `pool_timeout`.
pub const POOL_ACQUIRE_MAX: Duration = Duration::from_secs(30);

/// One price grade and its share of the seats.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GradeSpec {
    pub name: String,
    pub price_won: u64,
    /// Seats in this grade are `seats × share / Σ shares`; the rounding remainder goes to the
    /// last grade.
    pub share: u32,
}

/// The baseline sale and its buyers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaselineConfig {
    pub database_url: String,
    pub seats: u32,
    /// Hottest first: the first grade is wanted most.
    pub grades: Vec<GradeSpec>,
    pub per_hold_seats: u16,
    /// Concurrent buyers of the closed loop (unused in the open loop).
    pub clients: usize,
    /// `Some`: open loop, buyers arrive at this rate; `None`: closed loop.
    pub rate_per_s: Option<u32>,
    /// Open loop: most buyers in flight at once.
    pub in_flight_max: usize,
    pub duration: Duration,
    /// Holders who confirm; the others release their hold.
    pub confirm_percent: u8,
    pub seat_taken_retries_max: u8,
    pub hold_ttl_ms: u64,
    /// How stale the seat map buyers pick from may be.
    pub seat_map_refresh: Duration,
    pub seed: u64,
    pub pool_max: u32,
    /// Open loop: at most this many buyers arrive (`None`: until `duration` or the sell-out).
    /// Those due after the sell-out are counted as turned away (`sold_out`) without starting.
    pub arrivals_max: Option<u64>,
    /// Buyers make [`rng::attempts`](crate::rng::attempts) over the grades' seats, as the
    /// WebSocket buyers do (buyer `i` with stream `i` of `seed`: the same seats in the same
    /// order), instead of picking free seats from the seat map.
    pub same_choices: bool,
}

impl Default for BaselineConfig {
    fn default() -> Self {
        let grade = |name: &str, price_won, share| GradeSpec {
            name: name.to_owned(),
            price_won,
            share,
        };
        BaselineConfig {
            database_url: "postgres://postgres@127.0.0.1:5432/postgres".to_owned(),
            seats: 2_000,
            grades: vec![
                grade("VIP", 198_000, 10),
                grade("R", 176_000, 30),
                grade("S", 154_000, 30),
                grade("A", 132_000, 30),
            ],
            per_hold_seats: 2,
            clients: 64,
            rate_per_s: None,
            in_flight_max: 1_024,
            duration: Duration::from_secs(10),
            confirm_percent: 90,
            seat_taken_retries_max: 3,
            // The big platforms give 7–10 minutes to pay.
            hold_ttl_ms: 600_000,
            seat_map_refresh: Duration::from_secs(1),
            seed: 1,
            // A typical backend's pool size (HikariCP defaults to 10); 8, 16 and 32 measured
            // within 15 % of each other here on 2 cores.
            pool_max: 16,
            arrivals_max: None,
            same_choices: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    #[error("baseline configuration: {0}")]
    Config(String),
    #[error("baseline database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("baseline buyers were still busy {0:?} after the run began")]
    Drain(Duration),
    #[error("a baseline buyer task failed: {0}")]
    Task(#[from] tokio::task::JoinError),
    #[error("baseline audit failed: {0:?}")]
    Inconsistent(Box<BaselineAudit>),
}

/// A whole baseline run: what the buyers measured and what the tables say afterwards.
#[derive(Clone, Debug)]
pub struct BaselineRun {
    pub recorder: Recorder,
    pub audit: BaselineAudit,
    /// From the first buyer's start to the last one's end (setup excluded), in seconds.
    pub duration_s: f64,
}

/// Creates the tables, runs the buyers, audits, drops the tables; fails if the audit fails.
/// `started` is second 0 of the recorder's timeline.
pub async fn run(config: &BaselineConfig, started: Instant) -> Result<Recorder, BaselineError> {
    let run = run_audited(config, started).await?;
    if !run.audit.passed() {
        return Err(BaselineError::Inconsistent(Box::new(run.audit)));
    }
    Ok(run.recorder)
}

/// Like [`run`], but hands back the audit (passed or not) and the workload's duration.
pub async fn run_audited(
    config: &BaselineConfig,
    started: Instant,
) -> Result<BaselineRun, BaselineError> {
    let db = BaselineDb::create(config).await?;
    let outcome = drive_and_audit(&db, config, started).await;
    // Drop the schema whatever happened; the run's own error matters more than the drop's.
    let dropped = db.drop_schema().await;
    let run = outcome?;
    dropped?;
    Ok(run)
}

async fn drive_and_audit(
    db: &BaselineDb,
    config: &BaselineConfig,
    started: Instant,
) -> Result<BaselineRun, BaselineError> {
    let began = Instant::now();
    let recorder = drive(db, config, started).await?;
    let duration_s = began.elapsed().as_secs_f64();
    let audit = audit(db, &recorder.counters).await?;
    Ok(BaselineRun {
        recorder,
        audit,
        duration_s,
    })
}

// ---------------------------------------------------------------------------------------------
// Schema

/// The baseline's tables in their own schema, and the pool whose connections use it.
pub struct BaselineDb {
    pool: PgPool,
    schema: String,
    grades: Vec<Grade>,
}

/// One grade as laid out in `seats`: ids `first_seat ..= first_seat + seats - 1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Grade {
    code: i16,
    price_won: i64,
    first_seat: i32,
    seats: u32,
}

const CREATE_SEATS: &str = "CREATE TABLE seats (
    id integer PRIMARY KEY,
    grade smallint NOT NULL,
    price_won bigint NOT NULL,
    status text NOT NULL CHECK (status IN ('free', 'held', 'sold')),
    hold_id bigint,
    held_until_ms bigint)";
// Best available scans a grade in seat order.
const CREATE_SEATS_INDEX: &str = "CREATE INDEX seats_grade_id ON seats (grade, id)";
const CREATE_BOOKINGS: &str = "CREATE TABLE bookings (
    id bigserial PRIMARY KEY,
    hold_id bigint NOT NULL,
    seat_ids integer[] NOT NULL,
    amount_won bigint NOT NULL,
    booked_at_ms bigint NOT NULL)";
const INSERT_GRADE: &str = "INSERT INTO seats (id, grade, price_won, status)
    SELECT g, $1, $2, 'free' FROM generate_series($3::integer, $4::integer) AS g";

static RUNS: AtomicU32 = AtomicU32::new(0);

impl BaselineDb {
    /// Checks the configuration, creates a fresh schema with every seat free, and opens (and
    /// warms) a pool of `pool_max` connections.
    pub async fn create(config: &BaselineConfig) -> Result<BaselineDb, BaselineError> {
        let grades = layout(config)?;
        let schema = format!(
            "picket_baseline_{}_{}_{}",
            std::process::id(),
            RUNS.fetch_add(1, Ordering::Relaxed),
            now_ms()
        );
        let pool = connect(config, &schema).await?;
        sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .execute(&pool)
            .await?;
        let db = BaselineDb {
            pool,
            schema,
            grades,
        };
        match db.fill().await {
            Ok(()) => Ok(db),
            Err(error) => {
                // Best effort: the fill's error is the one to report.
                let _ = db.drop_schema().await;
                Err(error.into())
            }
        }
    }

    /// The schema's name (`picket_baseline_…`), for logs and for cleaning up after a crash.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    async fn fill(&self) -> Result<(), sqlx::Error> {
        for statement in [CREATE_SEATS, CREATE_SEATS_INDEX, CREATE_BOOKINGS] {
            sqlx::query(statement).execute(&self.pool).await?;
        }
        for grade in &self.grades {
            sqlx::query(INSERT_GRADE)
                .bind(grade.code)
                .bind(grade.price_won)
                .bind(grade.first_seat)
                .bind(grade.last_seat())
                .execute(&self.pool)
                .await?;
        }
        sqlx::query("ANALYZE seats").execute(&self.pool).await?;
        warm(&self.pool).await
    }

    /// Drops the schema and everything in it, and closes the pool.
    pub async fn drop_schema(self) -> Result<(), BaselineError> {
        let dropped = sqlx::query(AssertSqlSafe(format!(
            "DROP SCHEMA IF EXISTS {} CASCADE",
            self.schema
        )))
        .execute(&self.pool)
        .await;
        self.pool.close().await;
        dropped?;
        Ok(())
    }
}

impl Grade {
    fn last_seat(&self) -> i32 {
        self.first_seat + self.seats as i32 - 1
    }

    /// The grade's seats as 0-based indexes (seat id − 1), as the WebSocket buyers number them.
    fn indexes(&self) -> std::ops::Range<u32> {
        let first = (self.first_seat - 1) as u32;
        first..first + self.seats
    }
}

async fn connect(config: &BaselineConfig, schema: &str) -> Result<PgPool, sqlx::Error> {
    let options = config
        .database_url
        .parse::<PgConnectOptions>()?
        .application_name("picket-loadtest-baseline")
        .options([("search_path", schema), ("synchronous_commit", "on")]);
    PgPoolOptions::new()
        .max_connections(config.pool_max)
        .acquire_timeout(POOL_ACQUIRE_MAX)
        .connect_with(options)
        .await
}

/// Opens every pool connection (at once, holding each until all are open) before the clock
/// starts: connecting is not what is measured.
async fn warm(pool: &PgPool) -> Result<(), sqlx::Error> {
    let mut opening = JoinSet::new();
    for _ in 0..pool.options().get_max_connections() {
        opening.spawn(pool.acquire());
    }
    let mut open = Vec::new();
    while let Some(connection) = opening.join_next().await {
        // Warming is best effort: a connection whose task panicked is opened on first use.
        if let Ok(connection) = connection {
            open.push(connection?);
        }
    }
    Ok(())
}

/// Checks the configuration and lays the grades out over seat ids 1…`seats`.
fn layout(config: &BaselineConfig) -> Result<Vec<Grade>, BaselineError> {
    validate(config).map_err(BaselineError::Config)?;
    let shares: Vec<u32> = config.grades.iter().map(|g| g.share).collect();
    let sizes = grade_sizes(config.seats, &shares);
    let mut first_seat = 1;
    let mut grades = Vec::with_capacity(sizes.len());
    for (index, (spec, seats)) in config.grades.iter().zip(sizes).enumerate() {
        if seats == 0 {
            return Err(BaselineError::Config(format!(
                "grade {} gets no seats out of {}",
                spec.name, config.seats
            )));
        }
        grades.push(Grade {
            code: index as i16,
            price_won: spec.price_won as i64,
            first_seat,
            seats,
        });
        first_seat += seats as i32;
    }
    Ok(grades)
}

fn validate(config: &BaselineConfig) -> Result<(), String> {
    let checks = [
        (config.seats >= 1 && config.seats <= SEATS_MAX, "seats"),
        (
            !config.grades.is_empty() && config.grades.len() <= GRADES_MAX,
            "grades",
        ),
        (config.grades.iter().all(|g| g.share > 0), "grade shares"),
        (
            config.grades.iter().all(|g| g.price_won <= PRICE_WON_MAX),
            "grade prices",
        ),
        (
            (1..=PER_HOLD_SEATS_MAX).contains(&config.per_hold_seats),
            "per_hold_seats",
        ),
        ((1..=CLIENTS_MAX).contains(&config.clients), "clients"),
        (config.rate_per_s != Some(0), "rate_per_s"),
        (config.in_flight_max >= 1, "in_flight_max"),
        (config.confirm_percent <= 100, "confirm_percent"),
        (config.hold_ttl_ms <= i64::MAX as u64 / 2, "hold_ttl_ms"),
        (!config.seat_map_refresh.is_zero(), "seat_map_refresh"),
        (
            (1..=POOL_CONNECTIONS_MAX).contains(&config.pool_max),
            "pool_max",
        ),
    ];
    match checks.iter().find(|(ok, _)| !ok) {
        Some((_, name)) => Err(format!("{name} is out of range")),
        None => Ok(()),
    }
}

/// Seats per grade: `seats × share / Σ shares`, the rounding remainder to the last grade.
fn grade_sizes(seats: u32, shares: &[u32]) -> Vec<u32> {
    let total: u64 = shares.iter().map(|s| u64::from(*s)).sum();
    let mut sizes: Vec<u32> = shares
        .iter()
        .map(|s| (u64::from(seats) * u64::from(*s) / total.max(1)) as u32)
        .collect();
    let given: u32 = sizes.iter().sum();
    if let Some(last) = sizes.last_mut() {
        *last += seats - given;
    }
    sizes
}

// ---------------------------------------------------------------------------------------------
// The sale while it runs

/// The numbers every buyer needs.
#[derive(Clone, Copy, Debug)]
struct Workload {
    per_hold_seats: usize,
    confirm_percent: u8,
    seat_taken_retries_max: u8,
    hold_ttl_ms: i64,
    seed: u64,
    same_choices: bool,
}

/// Free seat ids per grade, in id order, as of one read.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct SeatMap {
    free: Vec<Vec<i32>>,
}

impl SeatMap {
    fn free(&self, grade: usize) -> &[i32] {
        self.free.get(grade).map_or(&[], Vec::as_slice)
    }
}

/// State shared by every buyer of one run.
struct Sale {
    pool: PgPool,
    work: Workload,
    grades: Vec<Grade>,
    weights: Vec<u64>,
    seat_map: RwLock<Arc<SeatMap>>,
    // One recorder behind a lock, not one per buyer: a recorder holds several HDR histograms
    // and an open loop starts thousands of buyers; the lock is held for microseconds.
    recorder: Mutex<Recorder>,
    started: Instant,
    deadline: Instant,
    next_hold_id: AtomicI64,
    over: AtomicBool,
}

/// How one buyer's visit ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    Booked,
    Abandoned,
    /// The hold expired (or was taken over) before the confirm.
    Lost,
    SoldOut,
    /// A database error, recorded under its SQLSTATE.
    Failed,
}

/// Seats one buyer holds.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Hold {
    id: i64,
    seats: Vec<i32>,
}

impl Sale {
    fn at_s(&self) -> u64 {
        self.started.elapsed().as_secs()
    }

    fn record(&self, f: impl FnOnce(&mut Recorder)) {
        // A buyer that panicked mid-record leaves counts that are still worth reporting.
        let mut recorder = self.recorder.lock().unwrap_or_else(PoisonError::into_inner);
        f(&mut recorder);
    }

    fn latency(&self, step: Step, began: Instant) {
        let us = u64::try_from(began.elapsed().as_micros()).unwrap_or(u64::MAX);
        let at_s = self.at_s();
        self.record(|r| r.latency(step, us, at_s));
    }

    fn error(&self, code: &str) {
        let at_s = self.at_s();
        self.record(|r| r.error(code, at_s));
    }

    fn count(&self, f: impl FnOnce(&mut Counters)) {
        self.record(|r| f(&mut r.counters));
    }

    fn seat_taken(&self) {
        self.error("seat_taken");
        self.count(|c| c.seat_taken_retries += 1);
    }

    fn seat_map(&self) -> Arc<SeatMap> {
        Arc::clone(&self.seat_map.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn is_open(&self) -> bool {
        Instant::now() < self.deadline && !self.over.load(Ordering::Relaxed)
    }
}

/// Runs the buyers against `db`'s tables (closed or open loop, per `config`) and returns what
/// they measured. The tables keep the result for [`audit`].
pub async fn drive(
    db: &BaselineDb,
    config: &BaselineConfig,
    started: Instant,
) -> Result<Recorder, BaselineError> {
    let sale = Arc::new(open_sale(db, config, started).await?);
    let refresher = tokio::spawn(refresh_seat_map(Arc::clone(&sale), config.seat_map_refresh));
    let bound = config.duration + DRAIN_MAX;
    let buyers = async {
        match config.rate_per_s {
            None => closed_loop(&sale, config.clients).await,
            Some(rate) => open_loop(&sale, rate, config.in_flight_max, config.arrivals_max).await,
        }
    };
    // Timing out drops the buyers' JoinSet, which aborts them.
    let finished = tokio::time::timeout(bound, buyers).await;
    refresher.abort();
    finished.map_err(|_| BaselineError::Drain(bound))??;
    let mut recorder = sale.recorder.lock().unwrap_or_else(PoisonError::into_inner);
    Ok(std::mem::take(&mut *recorder))
}

async fn open_sale(
    db: &BaselineDb,
    config: &BaselineConfig,
    started: Instant,
) -> Result<Sale, sqlx::Error> {
    let seat_map = load_seat_map(&db.pool, db.grades.len()).await?;
    Ok(Sale {
        pool: db.pool.clone(),
        work: Workload {
            per_hold_seats: usize::from(config.per_hold_seats),
            confirm_percent: config.confirm_percent,
            seat_taken_retries_max: config.seat_taken_retries_max,
            hold_ttl_ms: config.hold_ttl_ms as i64,
            seed: config.seed,
            same_choices: config.same_choices,
        },
        grades: db.grades.clone(),
        weights: hot_grade_weights(db.grades.len()),
        seat_map: RwLock::new(Arc::new(seat_map)),
        recorder: Mutex::new(Recorder::default()),
        started,
        deadline: Instant::now() + config.duration,
        next_hold_id: AtomicI64::new(1),
        over: AtomicBool::new(false),
    })
}

type Buyers = JoinSet<Result<(), BaselineError>>;

/// `clients` buyers, each booking again as soon as it finishes, until the deadline or sellout.
async fn closed_loop(sale: &Arc<Sale>, clients: usize) -> Result<(), BaselineError> {
    let mut buyers = Buyers::new();
    for client in 0..clients {
        let sale = Arc::clone(sale);
        buyers.spawn(async move { client_loop(&sale, client as u64).await });
    }
    join_all(buyers).await
}

async fn client_loop(sale: &Sale, client: u64) -> Result<(), BaselineError> {
    let mut rng = Rng::new(sale.work.seed, client);
    sale.count(|c| c.clients += 1);
    while sale.is_open() {
        if buyer(sale, &mut rng, Instant::now()).await? == Outcome::SoldOut {
            break;
        }
    }
    Ok(())
}

/// Buyers arriving every `1 / rate` s whether or not earlier ones were answered, `arrivals_max`
/// of them at most.
async fn open_loop(
    sale: &Arc<Sale>,
    rate: u32,
    in_flight_max: usize,
    arrivals_max: Option<u64>,
) -> Result<(), BaselineError> {
    let permits = Arc::new(Semaphore::new(in_flight_max));
    let mut buyers = Buyers::new();
    let begin = Instant::now();
    let begin_ms = now_ms();
    // Bounded by the deadline: arrivals are `1 / rate` apart.
    for arrival in 0..arrivals_max.unwrap_or(u64::MAX) {
        let offset = arrival_offset(arrival, rate);
        let at = begin + offset;
        if at >= sale.deadline {
            break;
        }
        if sale.over.load(Ordering::Relaxed) {
            // Sold out: with a number of buyers, the rest are turned away, as a sold-out page
            // turns them away.
            if let Some(max) = arrivals_max {
                let left = max - arrival;
                sale.count(|c| {
                    c.clients += left;
                    c.sold_out += left;
                });
            }
            break;
        }
        tokio::time::sleep_until(at.into()).await;
        reap(&mut buyers)?;
        let at_ms = begin_ms + i64::try_from(offset.as_millis()).unwrap_or(i64::MAX);
        sale.record(|r| r.span.arrived(u64::try_from(at_ms).unwrap_or_default()));
        launch(sale, &permits, &mut buyers, arrival, at);
    }
    join_all(buyers).await
}

fn launch(
    sale: &Arc<Sale>,
    permits: &Arc<Semaphore>,
    buyers: &mut Buyers,
    arrival: u64,
    at: Instant,
) {
    sale.count(|c| c.clients += 1);
    let Ok(permit) = Arc::clone(permits).try_acquire_owned() else {
        sale.error("in_flight_max");
        return;
    };
    let sale = Arc::clone(sale);
    buyers.spawn(async move {
        let _permit = permit;
        let mut rng = Rng::new(sale.work.seed, arrival);
        buyer(&sale, &mut rng, at).await.map(drop)
    });
}

/// Collects finished open-loop buyers so the set stays small, failing on the first error.
fn reap(buyers: &mut Buyers) -> Result<(), BaselineError> {
    while let Some(joined) = buyers.try_join_next() {
        joined??;
    }
    Ok(())
}

async fn join_all(mut buyers: Buyers) -> Result<(), BaselineError> {
    while let Some(joined) = buyers.join_next().await {
        // Returning drops the set, which aborts the other buyers.
        joined??;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// One buyer

/// One visit: hold seats, then confirm or abandon. Database errors are the baseline's answers
/// (recorded by SQLSTATE); a lost connection or a closed pool ends the run.
async fn buyer(sale: &Sale, rng: &mut Rng, arrived: Instant) -> Result<Outcome, BaselineError> {
    match visit(sale, rng, arrived).await {
        Ok(outcome) => Ok(outcome),
        Err(sqlx::Error::Database(error)) => {
            sale.error(&format!("pg_{}", error.code().unwrap_or_default()));
            Ok(Outcome::Failed)
        }
        Err(sqlx::Error::PoolTimedOut) => {
            sale.error("pool_timeout");
            Ok(Outcome::Failed)
        }
        Err(error) => Err(error.into()),
    }
}

async fn visit(sale: &Sale, rng: &mut Rng, arrived: Instant) -> Result<Outcome, sqlx::Error> {
    let hold = match sale.work.same_choices {
        true => take_chosen_hold(sale, rng, arrived).await?,
        false => {
            let preferred = pick_weighted(rng, &sale.weights);
            take_hold(sale, rng, preferred, arrived).await?
        }
    };
    let Some(hold) = hold else {
        sale.count(|c| c.sold_out += 1);
        sale.over.store(true, Ordering::Relaxed);
        return Ok(Outcome::SoldOut);
    };
    sale.count(|c| c.holds += 1);
    if rng.below(100) < u64::from(sale.work.confirm_percent) {
        confirm(sale, &hold, arrived).await
    } else {
        release(sale, &hold).await
    }
}

/// Picks seats from the seat map and holds them, retrying on `seat_taken`, then falls back to
/// best available. `None` when no grade has enough seats left.
async fn take_hold(
    sale: &Sale,
    rng: &mut Rng,
    preferred: usize,
    arrived: Instant,
) -> Result<Option<Hold>, sqlx::Error> {
    let id = sale.next_hold_id.fetch_add(1, Ordering::Relaxed);
    let wanted = sale.work.per_hold_seats;
    let order = grade_order(preferred, &sale.seat_map(), wanted);
    // The first attempt counts from the arrival (an open loop's schedule), later ones from
    // their own start.
    let mut began = arrived;
    for _ in 0..=sale.work.seat_taken_retries_max {
        let map = sale.seat_map();
        let Some(seats) = pick_seats(rng, map.free(order[0]), wanted) else {
            break;
        };
        let held = hold_seats(sale, &seats, id).await?;
        sale.latency(Step::Hold, began);
        if held {
            return Ok(Some(Hold { id, seats }));
        }
        sale.seat_taken();
        began = Instant::now();
    }
    best_available(sale, &order, id, began).await
}

/// The WebSocket buyers' attempts ([`rng::attempts`](crate::rng::attempts)): each pick of seats
/// in one hold transaction, and each grade's best available as [`best_available`] does it for
/// one grade. `None` when every attempt failed (the sale is sold out for this buyer).
async fn take_chosen_hold(
    sale: &Sale,
    rng: &mut Rng,
    arrived: Instant,
) -> Result<Option<Hold>, sqlx::Error> {
    let id = sale.next_hold_id.fetch_add(1, Ordering::Relaxed);
    let count = sale.work.per_hold_seats as u16;
    let retries = sale.work.seat_taken_retries_max;
    let mut began = arrived;
    for attempt in chosen_attempts(&sale.grades, rng, count, retries) {
        match attempt {
            Attempt::Seats(indexes) => {
                let seats: Vec<i32> = indexes.iter().map(|i| *i as i32 + 1).collect();
                let held = hold_seats(sale, &seats, id).await?;
                sale.latency(Step::Hold, began);
                if held {
                    return Ok(Some(Hold { id, seats }));
                }
                sale.seat_taken();
                began = Instant::now();
            }
            Attempt::BestAvailable(grade) => {
                if let Some(hold) = best_available(sale, &[grade], id, began).await? {
                    return Ok(Some(hold));
                }
                began = Instant::now();
            }
        }
    }
    Ok(None)
}

fn chosen_attempts(grades: &[Grade], rng: &mut Rng, count: u16, retries: u8) -> Vec<Attempt> {
    let ranges: Vec<std::ops::Range<u32>> = grades.iter().map(Grade::indexes).collect();
    crate::rng::attempts(rng, &ranges, count, retries)
}

/// The attempts buyer `buyer` of a `same_choices` run makes (seats as 0-based indexes: seat
/// id − 1), for checking that the two sides of a comparison want the same seats.
pub fn buyer_attempts(config: &BaselineConfig, buyer: u64) -> Result<Vec<Attempt>, BaselineError> {
    let grades = layout(config)?;
    let mut rng = Rng::new(config.seed, buyer);
    Ok(chosen_attempts(
        &grades,
        &mut rng,
        config.per_hold_seats,
        config.seat_taken_retries_max,
    ))
}

/// Best available seats, grade by grade in the buyer's order.
async fn best_available(
    sale: &Sale,
    order: &[usize],
    id: i64,
    mut began: Instant,
) -> Result<Option<Hold>, sqlx::Error> {
    for grade in order {
        let grade = sale.grades[*grade];
        for _ in 0..BEST_AVAILABLE_ATTEMPTS_MAX {
            let seats = hold_best_available(sale, grade.code, id).await?;
            sale.latency(Step::Hold, began);
            if let Some(seats) = seats {
                return Ok(Some(Hold { id, seats }));
            }
            began = Instant::now();
            if free_seats(sale, grade.code).await? < sale.work.per_hold_seats as i64 {
                break;
            }
            // Enough seats, but the locked rows changed under the query: a lost race.
            sale.seat_taken();
        }
    }
    Ok(None)
}

const LOCK_SEATS: &str = "SELECT id, status, held_until_ms FROM seats
    WHERE id = ANY($1) ORDER BY id FOR UPDATE";
const MARK_HELD: &str = "UPDATE seats SET status = 'held', hold_id = $2, held_until_ms = $3
    WHERE id = ANY($1)";
const LOCK_BEST_AVAILABLE: &str = "SELECT id FROM seats
    WHERE grade = $1 AND (status = 'free' OR (status = 'held' AND held_until_ms < $2))
    ORDER BY id LIMIT $3 FOR UPDATE";
const COUNT_FREE: &str = "SELECT count(*) FROM seats
    WHERE grade = $1 AND (status = 'free' OR (status = 'held' AND held_until_ms < $2))";

/// The hold transaction on chosen seats; `false` (rolled back) when one is taken.
async fn hold_seats(sale: &Sale, seats: &[i32], id: i64) -> Result<bool, sqlx::Error> {
    let now = now_ms();
    let mut tx = sale.pool.begin().await?;
    let rows: Vec<(i32, String, Option<i64>)> = sqlx::query_as(LOCK_SEATS)
        .bind(seats)
        .fetch_all(&mut *tx)
        .await?;
    let free = rows.len() == seats.len()
        && rows
            .iter()
            .all(|(_, status, until)| is_free(status, *until, now));
    if !free {
        tx.rollback().await?;
        return Ok(false);
    }
    mark_held(&mut tx, seats, id, now + sale.work.hold_ttl_ms).await?;
    tx.commit().await?;
    Ok(true)
}

/// The naive best-available transaction; `None` (rolled back) when it got too few rows.
async fn hold_best_available(
    sale: &Sale,
    grade: i16,
    id: i64,
) -> Result<Option<Vec<i32>>, sqlx::Error> {
    let now = now_ms();
    let wanted = sale.work.per_hold_seats;
    let mut tx = sale.pool.begin().await?;
    let seats: Vec<i32> = sqlx::query_scalar(LOCK_BEST_AVAILABLE)
        .bind(grade)
        .bind(now)
        .bind(wanted as i64)
        .fetch_all(&mut *tx)
        .await?;
    if seats.len() < wanted {
        tx.rollback().await?;
        return Ok(None);
    }
    mark_held(&mut tx, &seats, id, now + sale.work.hold_ttl_ms).await?;
    tx.commit().await?;
    Ok(Some(seats))
}

async fn mark_held(
    tx: &mut Transaction<'static, Postgres>,
    seats: &[i32],
    id: i64,
    until_ms: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(MARK_HELD)
        .bind(seats)
        .bind(id)
        .bind(until_ms)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Free seats of a grade now, without locking: is a short best-available answer a lost race
/// or the grade selling out?
async fn free_seats(sale: &Sale, grade: i16) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(COUNT_FREE)
        .bind(grade)
        .bind(now_ms())
        .fetch_one(&sale.pool)
        .await
}

fn is_free(status: &str, held_until_ms: Option<i64>, now_ms: i64) -> bool {
    match status {
        "free" => true,
        "held" => held_until_ms.is_some_and(|until| until < now_ms),
        _ => false,
    }
}

const LOCK_HOLD: &str = "SELECT status, hold_id, held_until_ms, price_won FROM seats
    WHERE id = ANY($1) ORDER BY id FOR UPDATE";
const MARK_SOLD: &str = "UPDATE seats SET status = 'sold', held_until_ms = NULL
    WHERE id = ANY($1)";
const INSERT_BOOKING: &str = "INSERT INTO bookings (hold_id, seat_ids, amount_won, booked_at_ms)
    VALUES ($1, $2, $3, $4)";
const RELEASE: &str = "UPDATE seats SET status = 'free', hold_id = NULL, held_until_ms = NULL
    WHERE id = ANY($1) AND status = 'held' AND hold_id = $2";

/// The confirm transaction: still our hold → sold and booked.
async fn confirm(sale: &Sale, hold: &Hold, arrived: Instant) -> Result<Outcome, sqlx::Error> {
    let began = Instant::now();
    let now = now_ms();
    let mut tx = sale.pool.begin().await?;
    let rows: Vec<(String, Option<i64>, Option<i64>, i64)> = sqlx::query_as(LOCK_HOLD)
        .bind(&hold.seats)
        .fetch_all(&mut *tx)
        .await?;
    let ours = rows.len() == hold.seats.len()
        && rows.iter().all(|(status, id, until, _)| {
            status == "held" && *id == Some(hold.id) && until.is_some_and(|u| u >= now)
        });
    if !ours {
        tx.rollback().await?;
        sale.latency(Step::Confirm, began);
        sale.error("hold_expired");
        return Ok(Outcome::Lost);
    }
    let amount_won: i64 = rows.iter().map(|row| row.3).sum();
    sqlx::query(MARK_SOLD)
        .bind(&hold.seats)
        .execute(&mut *tx)
        .await?;
    sqlx::query(INSERT_BOOKING)
        .bind(hold.id)
        .bind(&hold.seats)
        .bind(amount_won)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    sale.latency(Step::Confirm, began);
    sale.latency(Step::EndToEnd, arrived);
    sale.record(|r| r.span.booked(u64::try_from(now_ms()).unwrap_or_default()));
    let tickets = hold.seats.len() as u64;
    sale.count(|c| {
        c.bookings += 1;
        c.tickets += tickets;
    });
    Ok(Outcome::Booked)
}

/// An abandoning buyer gives the seats back (one auto-committed `UPDATE`).
async fn release(sale: &Sale, hold: &Hold) -> Result<Outcome, sqlx::Error> {
    sqlx::query(RELEASE)
        .bind(&hold.seats)
        .bind(hold.id)
        .execute(&sale.pool)
        .await?;
    sale.count(|c| c.abandoned += 1);
    Ok(Outcome::Abandoned)
}

// ---------------------------------------------------------------------------------------------
// The seat map

const FREE_SEATS_BY_GRADE: &str = "SELECT grade, array_agg(id ORDER BY id) FROM seats
    WHERE status = 'free' OR (status = 'held' AND held_until_ms < $1)
    GROUP BY grade";

/// One plain read (no locks) of every grade's free seats.
async fn load_seat_map(pool: &PgPool, grades: usize) -> Result<SeatMap, sqlx::Error> {
    let rows: Vec<(i16, Vec<i32>)> = sqlx::query_as(FREE_SEATS_BY_GRADE)
        .bind(now_ms())
        .fetch_all(pool)
        .await?;
    let mut map = SeatMap {
        free: vec![Vec::new(); grades],
    };
    for (grade, seats) in rows {
        if let Some(free) = map.free.get_mut(grade as usize) {
            *free = seats;
        }
    }
    Ok(map)
}

/// Re-reads the seat map every `every` until aborted; a failed read keeps the old map.
async fn refresh_seat_map(sale: Arc<Sale>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await;
    loop {
        ticks.tick().await;
        match load_seat_map(&sale.pool, sale.grades.len()).await {
            Ok(map) => {
                *sale
                    .seat_map
                    .write()
                    .unwrap_or_else(PoisonError::into_inner) = Arc::new(map);
            }
            Err(error) => tracing::warn!(%error, "baseline seat map refresh failed"),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Audit

/// The baseline's tables after the run, checked.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineAudit {
    pub seats: u64,
    pub sold: u64,
    pub held: u64,
    pub bookings: u64,
    /// Seat references in all bookings.
    pub booked_seats: u64,
    /// Seats that appear in more than one booking.
    pub seats_booked_twice: u64,
    pub sold_without_booking: u64,
    /// Seats in a booking that are not sold (or do not exist).
    pub booked_not_sold: u64,
    pub booking_amount_won: u64,
    pub sold_price_won: u64,
    /// Bookings and tickets the buyers were told were confirmed.
    pub told_bookings: u64,
    pub told_tickets: u64,
}

/// One named check of a [`BaselineAudit`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaselineCheck {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

impl BaselineAudit {
    pub fn passed(&self) -> bool {
        self.checks().iter().all(|c| c.passed)
    }

    pub fn checks(&self) -> Vec<BaselineCheck> {
        let check = |name: &str, passed, detail: String| BaselineCheck {
            name: name.to_owned(),
            passed,
            detail,
        };
        vec![
            check(
                "no seat sold twice",
                self.seats_booked_twice == 0,
                format!("{} seats in more than one booking", self.seats_booked_twice),
            ),
            check(
                "every sold seat has exactly one booking",
                self.sold_without_booking == 0 && self.booked_not_sold == 0,
                format!(
                    "{} sold, {} sold without a booking, {} booked but not sold",
                    self.sold, self.sold_without_booking, self.booked_not_sold
                ),
            ),
            check(
                "booking amounts equal sold seat prices",
                self.booking_amount_won == self.sold_price_won,
                format!(
                    "bookings {} won, sold seats {} won",
                    self.booking_amount_won, self.sold_price_won
                ),
            ),
            check(
                "buyers were told what the tables say",
                self.told_bookings == self.bookings && self.told_tickets == self.booked_seats,
                format!(
                    "told {} bookings / {} tickets, tables {} / {}",
                    self.told_bookings, self.told_tickets, self.bookings, self.booked_seats
                ),
            ),
        ]
    }
}

// One pass: seats full-joined to how many bookings name each of them (a correlated
// `NOT EXISTS` over the bookings took seconds for 100,000 seats).
const AUDIT: &str = "WITH refs AS (SELECT seat_id, count(*) AS n
        FROM bookings, unnest(seat_ids) AS seat_id GROUP BY seat_id)
    SELECT
      count(s.id),
      count(*) FILTER (WHERE s.status = 'sold'),
      count(*) FILTER (WHERE s.status = 'held'),
      (SELECT count(*) FROM bookings),
      coalesce(sum(r.n), 0)::bigint,
      count(*) FILTER (WHERE r.n > 1),
      count(*) FILTER (WHERE s.status = 'sold' AND r.n IS NULL),
      count(*) FILTER (WHERE r.n IS NOT NULL AND s.status IS DISTINCT FROM 'sold'),
      (SELECT coalesce(sum(amount_won), 0)::bigint FROM bookings),
      coalesce(sum(s.price_won) FILTER (WHERE s.status = 'sold'), 0)::bigint
    FROM seats s FULL JOIN refs r ON r.seat_id = s.id";

type AuditRow = (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64);

/// Reads `db`'s tables and checks them against each other and against `told` (the counters of
/// the run's recorder).
pub async fn audit(db: &BaselineDb, told: &Counters) -> Result<BaselineAudit, BaselineError> {
    let row: AuditRow = sqlx::query_as(AUDIT).fetch_one(&db.pool).await?;
    let n = |v: i64| v.max(0) as u64;
    Ok(BaselineAudit {
        seats: n(row.0),
        sold: n(row.1),
        held: n(row.2),
        bookings: n(row.3),
        booked_seats: n(row.4),
        seats_booked_twice: n(row.5),
        sold_without_booking: n(row.6),
        booked_not_sold: n(row.7),
        booking_amount_won: n(row.8),
        sold_price_won: n(row.9),
        told_bookings: told.bookings,
        told_tickets: told.tickets,
    })
}

// ---------------------------------------------------------------------------------------------
// Pure parts: randomness, weights, picking, pacing

/// The grades a buyer tries: first those the seat map shows with `wanted` free seats (the
/// preferred one, then the others hottest first), as a buyer looking at the map would; then the
/// rest, because the map may be stale and only the database can say the sale is sold out. Without
/// this, buyers of a sold-out hot grade would keep scanning its sold rows.
fn grade_order(preferred: usize, map: &SeatMap, wanted: usize) -> Vec<usize> {
    let grades = map.free.len().max(preferred + 1);
    let by_heat = std::iter::once(preferred).chain((0..grades).filter(move |g| *g != preferred));
    let (mut open, closed): (Vec<usize>, Vec<usize>) =
        by_heat.partition(|g| map.free(*g).len() >= wanted);
    open.extend(closed);
    open
}

/// `n` distinct seats chosen uniformly from `free` (Floyd's algorithm: `n` draws, no copy of
/// the map), in id order; `None` if there are fewer than `n`.
fn pick_seats(rng: &mut Rng, free: &[i32], n: usize) -> Option<Vec<i32>> {
    if n == 0 || free.len() < n {
        return None;
    }
    let mut chosen: Vec<usize> = Vec::with_capacity(n);
    for j in free.len() - n..free.len() {
        let t = rng.below(j as u64 + 1) as usize;
        chosen.push(if chosen.contains(&t) { j } else { t });
    }
    let mut seats: Vec<i32> = chosen.into_iter().map(|i| free[i]).collect();
    seats.sort_unstable();
    Some(seats)
}

/// When arrival `index` is due after the open loop's start at `rate` per second.
fn arrival_offset(index: u64, rate: u32) -> Duration {
    let nanos = u128::from(index) * 1_000_000_000 / u128::from(rate.max(1));
    Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
}

fn now_ms() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picked_seats_are_distinct_free_and_sorted() {
        let free: Vec<i32> = (100..120).collect();
        let mut rng = Rng::new(7, 0);
        for _ in 0..1_000 {
            let seats = pick_seats(&mut rng, &free, 4).expect("enough seats");
            assert_eq!(seats.len(), 4);
            assert!(seats.windows(2).all(|w| w[0] < w[1]), "{seats:?}");
            assert!(seats.iter().all(|s| free.contains(s)));
        }
    }

    #[test]
    fn picking_needs_enough_seats_and_takes_all_when_exact() {
        let mut rng = Rng::new(1, 1);
        assert_eq!(pick_seats(&mut rng, &[1, 2], 3), None);
        assert_eq!(pick_seats(&mut rng, &[], 1), None);
        assert_eq!(pick_seats(&mut rng, &[9, 3, 5], 3), Some(vec![3, 5, 9]));
    }

    #[test]
    fn picking_is_roughly_uniform() {
        let free: Vec<i32> = (0..10).collect();
        let mut rng = Rng::new(42, 3);
        let mut hits = [0u32; 10];
        for _ in 0..20_000 {
            for seat in pick_seats(&mut rng, &free, 2).expect("enough") {
                hits[seat as usize] += 1;
            }
        }
        // 4,000 expected per seat.
        assert!(hits.iter().all(|h| (3_600..4_400).contains(h)), "{hits:?}");
    }

    #[test]
    fn other_grades_follow_the_preferred_one() {
        let map = |free: &[usize]| SeatMap {
            free: free.iter().map(|n| (0..*n as i32).collect()).collect(),
        };
        assert_eq!(grade_order(2, &map(&[5, 5, 5, 5]), 2), vec![2, 0, 1, 3]);
        assert_eq!(grade_order(0, &map(&[5]), 2), vec![0]);
        // Sold out on the map: tried last, not skipped.
        assert_eq!(grade_order(0, &map(&[1, 5, 0, 5]), 2), vec![1, 3, 0, 2]);
        assert_eq!(grade_order(2, &map(&[0, 0, 0]), 2), vec![2, 0, 1]);
    }

    #[test]
    fn open_loop_arrivals_are_evenly_spaced() {
        assert_eq!(arrival_offset(0, 2_000), Duration::ZERO);
        assert_eq!(arrival_offset(1, 2_000), Duration::from_micros(500));
        assert_eq!(arrival_offset(2_000, 2_000), Duration::from_secs(1));
        assert_eq!(arrival_offset(3, 3), Duration::from_secs(1));
        // No drift: the schedule is computed from the index, not accumulated.
        assert_eq!(arrival_offset(7_000_000, 7), Duration::from_secs(1_000_000));
        assert_eq!(arrival_offset(1, 3), Duration::from_nanos(333_333_333));
    }

    #[test]
    fn grades_split_the_seats_by_share() {
        assert_eq!(
            grade_sizes(2_000, &[10, 30, 30, 30]),
            vec![200, 600, 600, 600]
        );
        assert_eq!(grade_sizes(10, &[1, 1, 1]), vec![3, 3, 4]);
        let config = BaselineConfig::default();
        let grades = layout(&config).expect("default is valid");
        assert_eq!(grades[0].first_seat, 1);
        assert_eq!(grades[3].last_seat(), 2_000);
        for pair in grades.windows(2) {
            assert_eq!(pair[0].last_seat() + 1, pair[1].first_seat);
        }
    }

    #[test]
    fn bad_configurations_are_refused() {
        let bad = |f: fn(&mut BaselineConfig)| {
            let mut config = BaselineConfig::default();
            f(&mut config);
            layout(&config).is_err()
        };
        assert!(bad(|c| c.seats = 0));
        assert!(bad(|c| c.grades.clear()));
        assert!(bad(|c| c.per_hold_seats = 0));
        assert!(bad(|c| c.per_hold_seats = PER_HOLD_SEATS_MAX + 1));
        assert!(bad(|c| c.confirm_percent = 101));
        assert!(bad(|c| c.rate_per_s = Some(0)));
        assert!(bad(|c| c.pool_max = 0));
        // Three seats cannot give the four default grades one each.
        assert!(bad(|c| c.seats = 3));
        assert!(!bad(|c| c.rate_per_s = Some(2_000)));
    }

    #[test]
    fn expired_holds_count_as_free() {
        assert!(is_free("free", None, 10));
        assert!(is_free("held", Some(9), 10));
        assert!(!is_free("held", Some(10), 10));
        assert!(!is_free("held", None, 10));
        assert!(!is_free("sold", None, 10));
    }

    #[test]
    fn the_audit_fails_on_each_kind_of_inconsistency() {
        let good = BaselineAudit {
            seats: 10,
            sold: 4,
            bookings: 2,
            booked_seats: 4,
            booking_amount_won: 400,
            sold_price_won: 400,
            told_bookings: 2,
            told_tickets: 4,
            ..BaselineAudit::default()
        };
        assert!(good.passed());
        let broken: [fn(&mut BaselineAudit); 5] = [
            |a| a.seats_booked_twice = 1,
            |a| a.sold_without_booking = 1,
            |a| a.booked_not_sold = 1,
            |a| a.booking_amount_won += 1,
            |a| a.told_bookings += 1,
        ];
        for breaking in broken {
            let mut audit = good.clone();
            breaking(&mut audit);
            assert!(!audit.passed(), "{audit:?}");
        }
    }
}
