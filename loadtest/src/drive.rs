//! The clients of one phase in one process: a stampede of buyers who queue before the open, a
//! pool of admitted buyers fed by open-loop arrivals (steady, failover, churn), or idle
//! connections held until the end. This process runs the clients whose index `g` satisfies
//! `g % workers == worker`; every one of them starts at `g / ramp_per_s` seconds.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use picket_edge::id::Id;
use picket_ledger_core::Place;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::audit::{AckBooking, AckCancel, ClientLog};
use crate::client::{Answer, ClientError, Conn, Waited, id_of, ids_of};
use crate::clock::now_ms;
use crate::plan::{ProgressCounts, WorkerPlan};
use crate::recorder::{Counters, Recorder, Step};
use crate::rng::{Attempt, Rng, attempts};
use crate::scenario::{Params, Preset};
use crate::target::Target;

/// Resolution of the success timeline used for the failover gap.
pub const SLOT_MS: u64 = 10;
/// Slots kept (one hour at 10 ms).
pub const SLOTS_MAX: usize = 360_000;
/// How long a churn phase may spend selling the performance out before the churn starts.
const FILL_TIME_MAX: Duration = Duration::from_secs(60);

/// Live counts for the progress bar.
#[derive(Default)]
pub struct Progress {
    connected: AtomicU64,
    admitted: AtomicU64,
    bookings: AtomicU64,
    errors: AtomicU64,
}

impl Progress {
    pub fn counts(&self) -> ProgressCounts {
        ProgressCounts {
            connected: self.connected.load(Ordering::Relaxed),
            admitted: self.admitted.load(Ordering::Relaxed),
            bookings: self.bookings.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
        }
    }

    /// Sets the counts to the sum of the workers' latest.
    pub fn set_total(&self, workers: &[ProgressCounts]) {
        let sum = |f: fn(&ProgressCounts) -> u64| workers.iter().map(f).sum::<u64>();
        self.connected
            .store(sum(|c| c.connected), Ordering::Relaxed);
        self.admitted.store(sum(|c| c.admitted), Ordering::Relaxed);
        self.bookings.store(sum(|c| c.bookings), Ordering::Relaxed);
        self.errors.store(sum(|c| c.errors), Ordering::Relaxed);
    }
}

/// Successful booking commands per 10 ms of the run, for the longest gap clients saw.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SuccessSlots {
    pub slots: Vec<u32>,
}

impl SuccessSlots {
    fn mark(&mut self, since_run_ms: u64) {
        let index = ((since_run_ms / SLOT_MS) as usize).min(SLOTS_MAX - 1);
        if self.slots.len() <= index {
            self.slots.resize(index + 1, 0);
        }
        self.slots[index] += 1;
    }

    pub fn merge(&mut self, other: &SuccessSlots) {
        if self.slots.len() < other.slots.len() {
            self.slots.resize(other.slots.len(), 0);
        }
        for (mine, theirs) in self.slots.iter_mut().zip(&other.slots) {
            *mine += theirs;
        }
    }

    /// The longest stretch without a success between `from_s` and the last success, in ms.
    pub fn longest_gap_ms(&self, from_s: f64) -> f64 {
        let start = ((from_s.max(0.0) * 1_000.0) as u64 / SLOT_MS) as usize;
        let Some(last) = self.slots.iter().rposition(|n| *n > 0) else {
            return 0.0;
        };
        let mut longest = 0;
        let mut run = 0;
        for count in self.slots.iter().take(last + 1).skip(start) {
            run = if *count == 0 { run + 1 } else { 0 };
            longest = longest.max(run);
        }
        (longest as u64 * SLOT_MS) as f64
    }
}

/// Everything the clients of this process share.
pub struct Ctx {
    pub plan: WorkerPlan,
    pub target: Target,
    progress: Arc<Progress>,
    recorder: Mutex<Recorder>,
    log: Mutex<ClientLog>,
    slots: Mutex<SuccessSlots>,
    phase_start: Instant,
    deadline: Instant,
    /// Churn: a booking found nothing left to sell.
    sold_out: AtomicBool,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|p| p.into_inner())
}

impl Ctx {
    pub fn new(plan: WorkerPlan, target: Target, progress: Arc<Progress>) -> Ctx {
        // The phase started (in the parent) a moment ago: line the clocks up.
        let since_start = Duration::from_millis(now_ms().saturating_sub(plan.phase_started_at_ms));
        let phase_start = Instant::now()
            .checked_sub(since_start)
            .unwrap_or_else(Instant::now);
        let params = &plan.phase.params;
        // Pooled phases (steady, failover, churn) measure arrivals for `duration_s` once the
        // pool is connected; the ramp comes before.
        let measured_from = match plan.phase.preset {
            Preset::Stampede | Preset::Idle | Preset::Contention => phase_start,
            Preset::Steady | Preset::Failover | Preset::Churn => {
                phase_start + pool_ramp(params.clients, params.ramp_per_s)
            }
        };
        let deadline = measured_from + Duration::from_secs(params.duration_s);
        Ctx {
            plan,
            target,
            progress,
            recorder: Mutex::new(Recorder::default()),
            log: Mutex::new(ClientLog::default()),
            slots: Mutex::new(SuccessSlots::default()),
            phase_start,
            deadline,
            sold_out: AtomicBool::new(false),
        }
    }

    fn at_s(&self) -> u64 {
        now_ms().saturating_sub(self.plan.run_started_at_ms) / 1_000
    }

    fn latency(&self, step: Step, since: Instant) {
        let us = since.elapsed().as_micros() as u64;
        lock(&self.recorder).latency(step, us, self.at_s());
    }

    fn error(&self, code: &str) {
        lock(&self.recorder).error(code, self.at_s());
        self.progress.errors.fetch_add(1, Ordering::Relaxed);
    }

    fn count(&self, change: impl FnOnce(&mut Counters)) {
        change(&mut lock(&self.recorder).counters);
    }

    fn success(&self) {
        let since_run_ms = now_ms().saturating_sub(self.plan.run_started_at_ms);
        lock(&self.slots).mark(since_run_ms);
    }

    fn params(&self) -> &crate::scenario::Params {
        &self.plan.phase.params
    }

    /// This process's clients: global indexes `g` with `g % workers == worker`.
    fn my_clients(&self) -> impl Iterator<Item = u32> + use<> {
        let (worker, workers) = (u32::from(self.plan.worker), u32::from(self.plan.workers));
        (0..self.plan.phase.params.clients).filter(move |g| g % workers == worker)
    }

    /// When the pool is connected and arrivals begin (pooled phases).
    fn arrivals_from(&self) -> Instant {
        let params = self.params();
        self.phase_start + pool_ramp(params.clients, params.ramp_per_s)
    }

    fn start_of(&self, g: u32) -> Instant {
        let ramp = f64::from(g) / f64::from(self.params().ramp_per_s.max(1));
        self.phase_start + Duration::from_secs_f64(ramp)
    }

    fn device(&self, g: u32, generation: u32) -> String {
        format!("loadtest-{:09}-{g:07}-{generation:04}", self.plan.run_id)
    }

    /// Connects client `g` (a new identity per `generation`, or `token`'s on a reconnect).
    async fn connect(&self, g: u32, generation: u32, token: Option<&str>) -> Option<Conn> {
        let (gateway, source) = self.target.route(g as usize);
        let started = Instant::now();
        match Conn::connect(gateway, source, &self.device(g, generation), token).await {
            Ok(conn) => {
                self.latency(Step::Connect, started);
                self.count(|c| c.connected += 1);
                self.progress.connected.fetch_add(1, Ordering::Relaxed);
                Some(conn)
            }
            Err(error) => {
                let code = match &error {
                    ClientError::Closed(why) if why.starts_with("1013") => "gateway_full",
                    ClientError::Timeout(_) => "connect_timeout",
                    _ => "connect_failed",
                };
                tracing::debug!(%error, g, "connect failed");
                self.count(|c| c.connect_failed += 1);
                self.error(code);
                None
            }
        }
    }

    /// Sends a booking command; records its latency (success) or its code (failure).
    async fn command(&self, conn: &mut Conn, step: Step, message: Value) -> Option<Answer> {
        let started = Instant::now();
        match conn.command(message).await {
            Ok(answer) => {
                match answer.code() {
                    None => {
                        self.latency(step, started);
                        self.success();
                    }
                    Some(code) => self.error(&code),
                }
                Some(answer)
            }
            Err(ClientError::Timeout(_)) => {
                self.error("no_answer");
                None
            }
            Err(_) => {
                self.error("connection_lost");
                None
            }
        }
    }
}

/// Runs this process's share of the phase; returns what it measured.
pub async fn run(ctx: Ctx) -> (Recorder, ClientLog, SuccessSlots) {
    let ctx = Arc::new(ctx);
    match ctx.plan.phase.preset {
        Preset::Stampede => stampede(ctx.clone()).await,
        Preset::Idle => idle(ctx.clone()).await,
        Preset::Contention => contention(ctx.clone()).await,
        Preset::Steady | Preset::Failover | Preset::Churn => pool(ctx.clone()).await,
    }
    let recorder = std::mem::take(&mut *lock(&ctx.recorder));
    let log = std::mem::take(&mut *lock(&ctx.log));
    let slots = std::mem::take(&mut *lock(&ctx.slots));
    (recorder, log, slots)
}

/// How long a pool takes to connect: the ramp plus a second to get admitted.
pub fn pool_ramp(clients: u32, ramp_per_s: u32) -> Duration {
    Duration::from_secs_f64(f64::from(clients) / f64::from(ramp_per_s.max(1)) + 1.0)
}

async fn until(at: Instant) {
    tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
}

// ---------------------------------------------------------------------------------------------
// Stampede.

async fn stampede(ctx: Arc<Ctx>) {
    let clients: Vec<_> = ctx
        .my_clients()
        .map(|g| {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                until(ctx.start_of(g)).await;
                let deadline = ctx.deadline;
                let _ = tokio::time::timeout_at(deadline.into(), stampede_client(ctx, g)).await;
            })
        })
        .collect();
    for client in clients {
        let _ = client.await;
    }
}

async fn stampede_client(ctx: Arc<Ctx>, g: u32) {
    ctx.count(|c| c.clients += 1);
    let mut rng = Rng::new(u64::from(ctx.plan.run_id), u64::from(g));
    let Some(mut conn) = ctx.connect(g, 0, None).await else {
        return;
    };
    let sale = ctx.plan.performance;
    let joined = Instant::now();
    ctx.count(|c| c.joined += 1);
    if rng.percent(ctx.params().reconnect_percent) {
        // Drop at a random moment while queued (before the open or just after), come back
        // with the same identity: the place must be kept.
        let open_in = ctx.plan.sale_open_at_ms.saturating_sub(now_ms()) + 2_000;
        let drop_at = Instant::now() + Duration::from_millis(rng.below(open_in));
        match conn.join_and_wait(sale, drop_at).await {
            Err(ClientError::Timeout(_)) => {
                let token = conn.guest_token.clone();
                conn.close().await;
                ctx.count(|c| c.reconnects += 1);
                match ctx.connect(g, 0, token.as_deref()).await {
                    Some(again) => conn = again,
                    None => return,
                }
            }
            Ok(waited) => return after_queue(&ctx, conn, waited, joined, (g, &mut rng)).await,
            Err(_) => return ctx.error("connection_lost"),
        }
    }
    match conn.join_and_wait(sale, ctx.deadline).await {
        Ok(waited) => after_queue(&ctx, conn, waited, joined, (g, &mut rng)).await,
        Err(ClientError::Timeout(_)) => ctx.error("not_admitted_in_time"),
        Err(_) => ctx.error("connection_lost"),
    }
}

async fn after_queue(
    ctx: &Ctx,
    mut conn: Conn,
    waited: Waited,
    joined: Instant,
    (g, rng): (u32, &mut Rng),
) {
    match waited {
        Waited::SoldOut => ctx.count(|c| c.sold_out += 1),
        Waited::Admitted { token } => {
            ctx.latency(Step::Admitted, joined);
            ctx.count(|c| c.admitted += 1);
            ctx.progress.admitted.fetch_add(1, Ordering::Relaxed);
            let mut buyer = Buyer::new(ctx, g);
            buyer.token = token;
            buy(ctx, &mut conn, &mut buyer, rng, joined).await;
        }
    }
    conn.close().await;
}

/// A buyer's admission and idempotency keys (unique per client for the whole run).
struct Buyer {
    token: String,
    keys: u32,
    prefix: String,
    /// The gateway this buyer connects to (its success URL is there too).
    gateway: std::net::SocketAddr,
}

impl Buyer {
    fn new(ctx: &Ctx, g: u32) -> Buyer {
        Buyer {
            token: String::new(),
            keys: 0,
            gateway: ctx.target.route(g as usize).0,
            // The device id without its `loadtest-` head: keys stay well under 64 bytes.
            prefix: ctx.device(g, 0)["loadtest-".len()..].to_owned(),
        }
    }

    fn key(&mut self) -> String {
        self.keys += 1;
        format!("{}-{}", self.prefix, self.keys)
    }
}

/// What a buy ended with.
#[derive(Debug, PartialEq, Eq)]
enum Bought {
    Booked(u64, Vec<u64>),
    Abandoned,
    SoldOut,
    Failed,
}

/// Holds (preferred grade first, specific seats with retries on "seat taken", then best
/// available), then pays or abandons.
async fn buy(
    ctx: &Ctx,
    conn: &mut Conn,
    buyer: &mut Buyer,
    rng: &mut Rng,
    started: Instant,
) -> Bought {
    let sale = ctx.plan.performance;
    for selection in selections(ctx.params(), ctx.plan.phase.preset, rng) {
        let key = buyer.key();
        let hold = json!({"type": "hold", "id": key, "sale": Id(sale), "key": key,
            "admission": buyer.token, "selection": selection});
        let Some(answer) = ctx.command(conn, Step::Hold, hold).await else {
            return Bought::Failed;
        };
        ctx.count(|c| c.holds += 1);
        if let Some(held) = answer.ok("Held") {
            return pay_or_abandon(ctx, conn, buyer, rng, held.clone(), started).await;
        }
        match answer.code().as_deref() {
            Some("seat_taken") => ctx.count(|c| c.seat_taken_retries += 1),
            Some("not_enough_available") => continue,
            _ => return Bought::Failed,
        }
    }
    ctx.count(|c| c.sold_out += 1);
    ctx.sold_out.store(true, Ordering::Relaxed);
    Bought::SoldOut
}

/// The selections to try, in order ([`crate::rng::attempts`]: for each grade, the preferred one
/// first, specific seats retried on "seat taken", then the best available); standing zones for
/// standing-only inventories; on a sold-out show (churn) only the best available, since buyers
/// take whatever a cancellation freed.
pub(crate) fn selections(params: &Params, preset: Preset, rng: &mut Rng) -> Vec<Value> {
    let inventory = &params.inventory;
    let count = params.seats_per_hold;
    if inventory.seats == 0 {
        let first = rng.below(u64::from(inventory.zones));
        return (0..u64::from(inventory.zones))
            .map(|z| json!({"Zone": {"zone": (first + z) % u64::from(inventory.zones), "count": count}}))
            .collect();
    }
    let retries = match preset {
        Preset::Churn => 0,
        _ => params.seat_taken_retries_max,
    };
    attempts(rng, &inventory.grade_ranges(), count, retries)
        .into_iter()
        .map(|attempt| match attempt {
            Attempt::Seats(seats) => json!({"Seats": seats}),
            Attempt::BestAvailable(grade) => {
                json!({"BestAvailable": {"grade": grade, "count": count}})
            }
        })
        .collect()
}

async fn pay_or_abandon(
    ctx: &Ctx,
    conn: &mut Conn,
    buyer: &mut Buyer,
    rng: &mut Rng,
    held: Value,
    started: Instant,
) -> Bought {
    let sale = ctx.plan.performance;
    let hold = id_of(&held["hold"]).unwrap_or_default();
    let amount = held["amount_won"].as_u64().unwrap_or_default();
    let places: Vec<Place> = serde_json::from_value(held["places"].clone()).unwrap_or_default();
    tokio::time::sleep(Duration::from_millis(ctx.params().pay_ms)).await;
    let key = buyer.key();
    if !rng.percent(ctx.params().confirm_percent) {
        let release = json!({"type": "release", "id": key, "sale": Id(sale), "key": key,
            "admission": buyer.token, "hold": Id(hold)});
        ctx.command(conn, Step::Release, release).await;
        ctx.count(|c| c.abandoned += 1);
        return Bought::Abandoned;
    }
    // Pay as an app does: checkout, the provider's page with the success card, then confirm
    // with the payment key and order id (the server confirms the amount with the provider).
    let paying = Instant::now();
    let checkout = json!({"type": "checkout", "id": key, "sale": Id(sale), "hold": Id(hold)});
    let checkout = match conn.checkout(checkout).await {
        Ok(Ok(checkout)) => checkout,
        Ok(Err(code)) => {
            ctx.error(&code);
            return Bought::Failed;
        }
        Err(_) => {
            ctx.error("connection_lost");
            return Bought::Failed;
        }
    };
    let payment_key = match crate::payment::pay(&checkout).await {
        Ok(payment_key) => payment_key,
        Err(why) => {
            tracing::debug!(%why, "the provider's checkout refused");
            ctx.error("checkout_refused");
            return Bought::Failed;
        }
    };
    ctx.latency(Step::Pay, paying);
    let key = buyer.key();
    let confirm = json!({"type": "confirm", "id": key, "sale": Id(sale), "key": key,
        "admission": buyer.token, "hold": Id(hold), "payment_key": payment_key,
        "order_id": checkout["order_id"]});
    let answer = ctx.command(conn, Step::Confirm, confirm).await;
    let confirmed = match answer.as_ref().and_then(|answer| answer.ok("Confirmed")) {
        Some(confirmed) => confirmed.clone(),
        // Paid but not told it is booked: the provider's webhook books an authorised payment on
        // its own (it may have won the race), so the buyer asks the success URL what the payment
        // got rather than leave a booking nobody was told of.
        None => {
            let order_id = checkout["order_id"].as_str().unwrap_or_default();
            match crate::payment::return_to_success_url(
                buyer.gateway,
                &buyer.token,
                &payment_key,
                order_id,
            )
            .await
            {
                Ok(booked) => booked,
                Err(why) => {
                    tracing::debug!(%why, "the success URL has no booking for the payment");
                    return Bought::Failed;
                }
            }
        }
    };
    ctx.latency(Step::EndToEnd, started);
    let booking = id_of(&confirmed["booking"]).unwrap_or_default();
    let tickets: Vec<u64> = ids_of(&confirmed["tickets"]).unwrap_or_default();
    ctx.count(|c| {
        c.bookings += 1;
        c.tickets += tickets.len() as u64;
    });
    lock(&ctx.recorder).span.booked(now_ms());
    ctx.progress.bookings.fetch_add(1, Ordering::Relaxed);
    lock(&ctx.log).bookings.push(AckBooking {
        performance: sale,
        booking,
        tickets: tickets.clone(),
        places,
        amount_won: amount,
    });
    Bought::Booked(booking, tickets)
}

// ---------------------------------------------------------------------------------------------
// Contention.

/// When buyer `g` of a contention phase arrives, in ms after the phase started: `g / rate`, on
/// the schedule the baseline's buyers arrive on too.
pub fn arrival_offset_ms(g: u32, rate_per_s: u32) -> u64 {
    u64::from(g) * 1_000 / u64::from(rate_per_s.max(1))
}

/// Buyers arriving on the clock, each a new connection that joins the queue, holds (the same
/// attempts the baseline's buyer of the same index makes), pays and is done, or gives up when the
/// sale is sold out. Once this process has learnt the sale is sold out, later buyers are turned
/// away without connecting, as the baseline stops starting buyers.
async fn contention(ctx: Arc<Ctx>) {
    let mut buyers = tokio::task::JoinSet::new();
    let mine: Vec<u32> = ctx.my_clients().collect();
    let rate = ctx.params().rate_per_s;
    for (index, g) in mine.iter().copied().enumerate() {
        let offset = Duration::from_millis(arrival_offset_ms(g, rate));
        let arrives = ctx.phase_start + offset;
        if arrives < ctx.deadline {
            until(arrives).await;
        }
        let sold_out = ctx.sold_out.load(Ordering::Relaxed);
        if sold_out || arrives >= ctx.deadline {
            let left = (mine.len() - index) as u64;
            let mut recorder = lock(&ctx.recorder);
            recorder.counters.clients += left;
            match sold_out {
                true => recorder.counters.sold_out += left,
                false => {
                    *recorder
                        .errors
                        .entry("not_arrived_in_time".into())
                        .or_default() += left
                }
            }
            break;
        }
        while buyers.try_join_next().is_some() {}
        let ctx = ctx.clone();
        buyers.spawn(async move {
            let deadline = ctx.deadline;
            let buying = contention_buyer(ctx, g, arrives);
            let _ = tokio::time::timeout_at(deadline.into(), buying).await;
        });
    }
    while buyers.join_next().await.is_some() {}
}

async fn contention_buyer(ctx: Arc<Ctx>, g: u32, arrived: Instant) {
    let rate = ctx.params().rate_per_s;
    let arrived_ms = ctx.plan.phase_started_at_ms + arrival_offset_ms(g, rate);
    {
        let mut recorder = lock(&ctx.recorder);
        recorder.counters.clients += 1;
        recorder.span.arrived(arrived_ms);
    }
    let mut rng = Rng::new(u64::from(ctx.plan.run_id), u64::from(g));
    let Some(mut conn) = ctx.connect(g, 0, None).await else {
        return;
    };
    let joined = Instant::now();
    ctx.count(|c| c.joined += 1);
    match conn.join_and_wait(ctx.plan.performance, ctx.deadline).await {
        Ok(Waited::SoldOut) => {
            ctx.count(|c| c.sold_out += 1);
            ctx.sold_out.store(true, Ordering::Relaxed);
        }
        Ok(Waited::Admitted { token }) => {
            ctx.latency(Step::Admitted, joined);
            ctx.count(|c| c.admitted += 1);
            ctx.progress.admitted.fetch_add(1, Ordering::Relaxed);
            let mut buyer = Buyer::new(&ctx, g);
            buyer.token = token;
            buy(&ctx, &mut conn, &mut buyer, &mut rng, arrived).await;
        }
        Err(ClientError::Timeout(_)) => ctx.error("not_admitted_in_time"),
        Err(_) => ctx.error("connection_lost"),
    }
    conn.close().await;
}

// ---------------------------------------------------------------------------------------------
// Idle.

async fn idle(ctx: Arc<Ctx>) {
    let clients: Vec<_> = ctx
        .my_clients()
        .map(|g| {
            let ctx = ctx.clone();
            tokio::spawn(async move {
                until(ctx.start_of(g)).await;
                if Instant::now() >= ctx.deadline {
                    return;
                }
                ctx.count(|c| c.clients += 1);
                let Some(mut conn) = ctx.connect(g, 0, None).await else {
                    return;
                };
                let joined = conn
                    .send(&json!({"type": "join", "sale": Id(ctx.plan.performance)}))
                    .await;
                if joined.is_ok() {
                    ctx.count(|c| c.joined += 1);
                }
                // Wait in the pre-queue, reading pushes and answering pings, until the end.
                let hold_on = async {
                    while conn.read_one().await.is_ok() {}
                    ctx.error("connection_lost");
                };
                let _ = tokio::time::timeout_at(ctx.deadline.into(), hold_on).await;
                conn.close().await;
            })
        })
        .collect();
    for client in clients {
        let _ = client.await;
    }
}

// ---------------------------------------------------------------------------------------------
// Pool: steady, failover, churn.

/// What the dispatcher asks a pooled client to do.
#[derive(Debug)]
enum Order {
    Book { arrived: Instant },
    Cancel,
}

/// Idle pooled clients waiting for an order: their order channels. A client registers again
/// after every order, so stale entries are skipped by `try_send` failing on busy clients.
type Ready = mpsc::Sender<mpsc::Sender<Order>>;

async fn pool(ctx: Arc<Ctx>) {
    let share = ctx.my_clients().count();
    let (ready_tx, mut ready_rx) = mpsc::channel(share.max(1) * 4);
    let (owners_tx, mut owners_rx) = mpsc::channel(share.max(1) * 4);
    let clients: Vec<_> = ctx
        .my_clients()
        .map(|g| {
            let (ctx, ready, owners) = (ctx.clone(), ready_tx.clone(), owners_tx.clone());
            tokio::spawn(async move {
                until(ctx.start_of(g)).await;
                pool_client(ctx, g, ready, owners).await;
            })
        })
        .collect();
    drop((ready_tx, owners_tx));
    until(ctx.arrivals_from().min(ctx.deadline)).await;
    if ctx.plan.phase.preset == Preset::Churn {
        fill(&ctx, &mut ready_rx).await;
    }
    arrivals(&ctx, &mut ready_rx, &mut owners_rx).await;
    drop((ready_rx, owners_rx));
    for client in clients {
        let _ = client.await;
    }
}

/// Churn first sells the performance out, as fast as the pool books.
async fn fill(ctx: &Ctx, ready: &mut mpsc::Receiver<mpsc::Sender<Order>>) {
    let until_at = (Instant::now() + FILL_TIME_MAX).min(ctx.deadline);
    while !ctx.sold_out.load(Ordering::Relaxed) && Instant::now() < until_at {
        // Short waits: the sold-out news may come from a queued buyer, not from a booking.
        let next = tokio::time::timeout(Duration::from_millis(100), ready.recv()).await;
        match next {
            Ok(Some(client)) => {
                let _ = client.try_send(Order::Book {
                    arrived: Instant::now(),
                });
            }
            Ok(None) => break,
            Err(_) => continue,
        }
    }
}

/// Open-loop arrivals at the phase's rates (this process's share): an arrival never waits for
/// an earlier one's reply; with no idle client it is dropped and counted.
async fn arrivals(
    ctx: &Ctx,
    ready: &mut mpsc::Receiver<mpsc::Sender<Order>>,
    owners: &mut mpsc::Receiver<mpsc::Sender<Order>>,
) {
    let workers = f64::from(ctx.plan.workers);
    let book_every = interval(f64::from(ctx.params().rate_per_s) / workers);
    let cancel_every = interval(f64::from(ctx.params().cancel_rate_per_s) / workers);
    let start = Instant::now();
    let (mut books, mut cancels) = (0u32, 0u32);
    loop {
        let next_book = book_every.map(|d| start + d * books);
        let next_cancel = cancel_every.map(|d| start + d * cancels);
        let next = match (next_book, next_cancel) {
            (Some(b), Some(c)) => b.min(c),
            (Some(b), None) => b,
            (None, Some(c)) => c,
            (None, None) => break,
        };
        if next >= ctx.deadline {
            break;
        }
        until(next).await;
        if next_book == Some(next) {
            books += 1;
            dispatch(ctx, ready, Order::Book { arrived: next });
        } else {
            cancels += 1;
            dispatch(ctx, owners, Order::Cancel);
        }
    }
}

fn interval(rate_per_s: f64) -> Option<Duration> {
    (rate_per_s > 0.0).then(|| Duration::from_secs_f64(1.0 / rate_per_s))
}

fn dispatch(ctx: &Ctx, queue: &mut mpsc::Receiver<mpsc::Sender<Order>>, order: Order) {
    let mut order = order;
    while let Ok(client) = queue.try_recv() {
        match client.try_send(order) {
            Ok(()) => return,
            Err(mpsc::error::TrySendError::Full(back))
            | Err(mpsc::error::TrySendError::Closed(back)) => order = back,
        }
    }
    let code = match order {
        Order::Book { .. } => "arrival_dropped_no_idle_client",
        Order::Cancel => "cancel_dropped_no_owner",
    };
    ctx.error(code);
}

/// One pooled buyer: connect, queue for an admission, take orders, book or cancel, repeat. A
/// buyer at the per-buyer limit takes only cancel orders; one that owns nothing more and is at
/// the limit comes back as a new identity.
async fn pool_client(ctx: Arc<Ctx>, g: u32, ready: Ready, owners: Ready) {
    ctx.count(|c| c.clients += 1);
    let mut state = Pooled {
        rng: Rng::new(u64::from(ctx.plan.run_id), u64::from(g)),
        buyer: Buyer::new(&ctx, g),
        generation: 0,
        owned: Vec::new(),
        tickets_owned: 0,
        admission: None,
        joined_at: None,
    };
    let (orders_tx, mut orders) = mpsc::channel::<Order>(1);
    let mut conn: Option<Conn> = None;
    let (mut in_ready, mut in_owners) = (false, false);
    while Instant::now() < ctx.deadline {
        if state.must_rotate(&ctx) {
            state.rotate();
            if let Some(old) = conn.take() {
                old.close().await;
            }
        }
        let Some(mut c) = conn.take() else {
            conn = ctx.connect(g, state.generation, None).await;
            match conn.is_some() {
                true => state.joined_at = None,
                false => tokio::time::sleep(Duration::from_secs(1)).await,
            }
            continue;
        };
        if state.admission.is_none() && state.joined_at.is_none() {
            if c.send(&json!({"type": "join", "sale": Id(ctx.plan.performance)}))
                .await
                .is_err()
            {
                continue;
            }
            ctx.count(|c| c.joined += 1);
            state.joined_at = Some(Instant::now());
        }
        if !in_ready && state.admission.is_some() && state.may_book(&ctx) {
            in_ready = ready.try_send(orders_tx.clone()).is_ok();
        }
        if !in_owners && !state.owned.is_empty() {
            in_owners = owners.try_send(orders_tx.clone()).is_ok();
        }
        let order = tokio::select! {
            order = orders.recv() => order,
            read = c.read_one() => {
                if let Ok(message) = read {
                    state.heard(&ctx, &message);
                    conn = Some(c);
                }
                continue;
            }
            () = until(ctx.deadline) => None,
        };
        let Some(order) = order else {
            conn = Some(c);
            break;
        };
        (in_ready, in_owners) = (false, false);
        state.carry_out(&ctx, &mut c, order).await;
        conn = Some(c);
    }
    if let Some(conn) = conn {
        conn.close().await;
    }
}

/// A pooled buyer between orders.
struct Pooled {
    rng: Rng,
    buyer: Buyer,
    generation: u32,
    /// Bookings this identity owns: (booking, tickets).
    owned: Vec<(u64, Vec<u64>)>,
    tickets_owned: u16,
    admission: Option<String>,
    /// When this identity joined the queue for its current admission.
    joined_at: Option<Instant>,
}

impl Pooled {
    fn may_book(&self, ctx: &Ctx) -> bool {
        self.tickets_owned + ctx.params().seats_per_hold <= ctx.params().inventory.per_buyer_limit
    }

    fn must_rotate(&self, ctx: &Ctx) -> bool {
        !self.may_book(ctx) && self.owned.is_empty()
    }

    /// Bought all one identity may: come back as another buyer.
    fn rotate(&mut self) {
        self.generation += 1;
        self.tickets_owned = 0;
        self.admission = None;
        self.joined_at = None;
    }

    /// A message the gateway pushed while the buyer waited.
    fn heard(&mut self, ctx: &Ctx, message: &Value) {
        let sale = ctx.plan.performance;
        match message["type"].as_str() {
            Some("admitted") if id_of(&message["sale"]) == Some(sale) => {
                if let Some(joined) = self.joined_at {
                    ctx.latency(Step::Admitted, joined);
                }
                ctx.count(|c| c.admitted += 1);
                ctx.progress.admitted.fetch_add(1, Ordering::Relaxed);
                self.admission = message["token"].as_str().map(str::to_owned);
            }
            Some("queue") if message["status"] == "sold_out" => {
                ctx.sold_out.store(true, Ordering::Relaxed);
            }
            // The admission ended (expired, or spent): queue again.
            Some("error") if message["code"] == "admission_expired" => {
                self.admission = None;
                self.joined_at = None;
            }
            _ => {}
        }
    }

    async fn carry_out(&mut self, ctx: &Ctx, conn: &mut Conn, order: Order) {
        match order {
            Order::Book { arrived } => {
                let Some(token) = self.admission.clone() else {
                    return ctx.error("arrival_without_admission");
                };
                self.buyer.token = token;
                match buy(ctx, conn, &mut self.buyer, &mut self.rng, arrived).await {
                    Bought::Booked(booking, tickets) => {
                        self.tickets_owned += tickets.len() as u16;
                        self.owned.push((booking, tickets));
                        // The payment spent the admission: queue again for the next one.
                        self.admission = None;
                        self.joined_at = None;
                    }
                    Bought::Failed => {
                        self.admission = None;
                        self.joined_at = None;
                    }
                    Bought::Abandoned | Bought::SoldOut => {}
                }
            }
            Order::Cancel => {
                if let Some((booking, tickets)) = self.owned.pop()
                    && cancel(ctx, conn, &mut self.buyer, booking, &tickets).await
                {
                    self.tickets_owned -= tickets.len() as u16;
                }
            }
        }
    }
}

/// Cancels a whole booking the client owns (churn); whether it was cancelled.
async fn cancel(
    ctx: &Ctx,
    conn: &mut Conn,
    buyer: &mut Buyer,
    booking: u64,
    tickets: &[u64],
) -> bool {
    let key = buyer.key();
    let message = json!({"type": "cancel", "id": key, "sale": Id(ctx.plan.performance), "key": key,
        "booking": Id(booking)});
    let Some(answer) = ctx.command(conn, Step::Cancel, message).await else {
        return false;
    };
    let Some(cancelled) = answer.ok("Cancelled") else {
        return false;
    };
    {
        ctx.count(|c| c.cancellations += 1);
        lock(&ctx.log).cancellations.push(AckCancel {
            performance: ctx.plan.performance,
            booking,
            tickets: ids_of(&cancelled["tickets"]).unwrap_or_else(|| tickets.to_vec()),
            refund_won: cancelled["refund_won"].as_u64().unwrap_or_default(),
        });
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buyers_arrive_on_the_baselines_schedule() {
        assert_eq!(arrival_offset_ms(0, 5_000), 0);
        assert_eq!(arrival_offset_ms(5_000, 5_000), 1_000);
        assert_eq!(arrival_offset_ms(49_999, 5_000), 9_999);
        assert_eq!(arrival_offset_ms(3, 2), 1_500);
    }

    #[test]
    fn the_longest_gap_counts_empty_slots_after_the_start() {
        let mut slots = SuccessSlots::default();
        for ms in [0, 10, 20, 1_000, 1_010, 3_000] {
            slots.mark(ms);
        }
        // From 0: the longest empty stretch is 1,020..3,000 ms: 198 slots.
        assert_eq!(slots.longest_gap_ms(0.0), 1_980.0);
        let mut other = SuccessSlots::default();
        other.mark(2_000);
        slots.merge(&other);
        assert_eq!(slots.longest_gap_ms(0.0), 990.0);
    }
}
