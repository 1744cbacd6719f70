//! Runs a scenario: sets up each phase's performance and sale through the operator API, drives
//! its clients (in this process, or spread over worker processes, since one process may hold at
//! most ~20,000 sockets here), shows progress, kills the ledger leader for `failover`, then
//! audits the ledger, runs the baseline when asked, and writes the report.

use std::io::{BufRead, Read, Write};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{ClientLog, JournalReplay};
use crate::clock::now_ms;
use crate::cpu::{self, Components};
use crate::drive::{self, Ctx, Progress, SuccessSlots};
use crate::error::LoadtestError;
use crate::ledgers::Ledgers;
use crate::plan::{ProgressCounts, WorkerPlan};
use crate::recorder::{Recorder, RecorderWire};
use crate::report::{self, FailoverReport, RunReport};
use crate::scenario::{self, Params, Phase, Preset, Scenario};
use crate::target::{self, Target};

/// Clients one worker process drives: under the 20,000-file limit with room for the rest.
pub const CLIENTS_PER_WORKER_MAX: u32 = 15_000;
/// Worker processes one run may start.
pub const WORKERS_MAX: u16 = 64;
/// How often the progress bar (and a worker's progress line) is refreshed.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(500);
/// Largest line a worker may send its parent (its final result with the histograms).
const WORKER_LINE_BYTES_MAX: usize = 256 * 1024 * 1024;

/// Which baseline to run beside Picket.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BaselineKind {
    /// Each booking a PostgreSQL transaction with `SELECT … FOR UPDATE` on the seat rows.
    PgRowLock,
}

/// `picket loadtest`.
#[derive(Debug, Clone, clap::Args)]
pub struct LoadtestArgs {
    /// The scenario (each has documented numbers, changed by the flags below).
    #[arg(value_enum, default_value = "stampede")]
    pub preset: Preset,
    /// A TOML scenario file of phases (docs/loadtest.md); replaces the preset and its flags.
    #[arg(long)]
    pub scenario: Option<PathBuf>,
    /// Gateways (host:port), comma-separated; clients are spread over them (default: the
    /// cluster's port with --cluster, else 127.0.0.1:8080).
    #[arg(long = "gateway", value_delimiter = ',')]
    pub gateways: Vec<String>,
    /// A `picket cluster`'s cluster.json: its one port, journal, partitions, operator token
    /// and the pids whose CPU is counted, for the flags of those not given.
    #[arg(long)]
    pub cluster: Option<PathBuf>,
    /// The cluster's operator-token file (from `--cluster`), read when `--operator-token` is
    /// not given.
    #[arg(skip)]
    pub cluster_token_file: Option<PathBuf>,
    /// A non-loopback host that may be loaded (by default only loopback targets are).
    #[arg(long)]
    pub allow_target: Vec<String>,
    /// The operator token (default: `<data-dir>/operator-token`, as `picket up` writes it).
    #[arg(long, env = "PICKET_OPERATOR_TOKEN", hide_env_values = true)]
    pub operator_token: Option<String>,
    /// `picket up`'s data directory (operator token, SQLite journal).
    #[arg(long, default_value = "data")]
    pub data_dir: PathBuf,
    /// The ledger's journal for the audit: postgres://… or a SQLite file (default:
    /// `<data-dir>/ledger.sqlite` when it exists; without a journal there is no audit).
    #[arg(long, env = "PICKET_LOADTEST_JOURNAL", hide_env_values = true)]
    pub journal: Option<String>,
    /// Partitions of the deployment (the run's performance lives in id mod this; default: the
    /// cluster's with --cluster, else 1). Read through [`LoadtestArgs::partitions`].
    #[arg(long)]
    pub partition_count: Option<u16>,
    /// Loopback source addresses to spread connections over (127.0.0.1 to 127.0.0.N).
    #[arg(long, default_value_t = 16)]
    pub source_addrs: u8,
    /// Worker processes (default: one per 15,000 clients).
    #[arg(long)]
    pub workers: Option<u16>,
    /// Where the report goes.
    #[arg(long, default_value = "loadtest-report")]
    pub out: PathBuf,
    /// Also run this baseline on the same machine and report Picket beside it.
    #[arg(long, value_enum)]
    pub baseline: Option<BaselineKind>,
    /// PostgreSQL for the baseline (it creates and drops its own tables).
    #[arg(long, env = "PICKET_BASELINE_DATABASE_URL", hide_env_values = true)]
    pub baseline_database_url: Option<String>,
    /// Start this many `picket ledger` nodes for the run (on `--ledger-nats-url` and the
    /// PostgreSQL `--journal`); `failover` then kills whichever leads at `--kill-at-s`.
    #[arg(long, default_value_t = 0)]
    pub spawn_ledgers: u8,
    /// NATS of the deployment, for `--spawn-ledgers`.
    #[arg(long)]
    pub ledger_nats_url: Option<String>,
    /// Gateway processes to read memory from (idle: memory per connection) and CPU from (the
    /// `gateway` component of the report's server CPU per booking).
    #[arg(long, value_delimiter = ',')]
    pub gateway_pid: Vec<u32>,
    /// A server process for the report's CPU per booking, as NAME=PID (repeatable; a NAME given
    /// several times sums its processes). Each pid counts with all its descendants: give
    /// PostgreSQL's postmaster for it and its backends.
    #[arg(long = "server-pid", value_name = "NAME=PID", value_parser = cpu::parse_server_pid)]
    pub server_pids: Vec<(String, u32)>,
    /// No progress bar (CI logs).
    #[arg(long)]
    pub no_progress: bool,
    #[command(flatten)]
    pub overrides: Overrides,
    /// Internal: run as a worker process of another `picket loadtest` (plan on stdin).
    #[arg(long, hide = true)]
    pub worker: bool,
}

/// Flags that change a preset's numbers (see `Params`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Overrides {
    #[arg(long)]
    pub clients: Option<u32>,
    #[arg(long)]
    pub duration_s: Option<u64>,
    #[arg(long)]
    pub ramp_per_s: Option<u32>,
    #[arg(long)]
    pub open_in_s: Option<u64>,
    #[arg(long)]
    pub admit_per_sec: Option<u32>,
    #[arg(long)]
    pub rate_per_s: Option<u32>,
    #[arg(long)]
    pub cancel_rate_per_s: Option<u32>,
    /// Reserved seats of the run's performance.
    #[arg(long)]
    pub seats: Option<u32>,
    #[arg(long)]
    pub seats_per_hold: Option<u16>,
    #[arg(long)]
    pub confirm_percent: Option<u8>,
    #[arg(long)]
    pub reconnect_percent: Option<u8>,
    #[arg(long)]
    pub pay_ms: Option<u64>,
    #[arg(long)]
    pub kill_at_s: Option<u64>,
    #[arg(long)]
    pub kill_pid: Option<u32>,
    /// Failover: pause the leader this long (SIGSTOP, then SIGCONT) instead of killing it, at
    /// `--kill-at-s` and again `--kill-at-s` seconds after each resume.
    #[arg(long)]
    pub pause_ms: Option<u64>,
}

impl Overrides {
    fn apply(&self, params: &mut Params) {
        let o = self;
        macro_rules! set {
            ($($field:ident),*) => { $(if let Some(v) = o.$field { params.$field = v; })* };
        }
        set!(
            clients,
            duration_s,
            ramp_per_s,
            open_in_s,
            admit_per_sec,
            rate_per_s,
            cancel_rate_per_s,
            seats_per_hold,
            confirm_percent,
            reconnect_percent,
            pay_ms
        );
        if o.kill_at_s.is_some() {
            params.kill_at_s = o.kill_at_s;
        }
        if o.kill_pid.is_some() {
            params.kill_pid = o.kill_pid;
        }
        if o.pause_ms.is_some() {
            params.pause_ms = o.pause_ms;
        }
        if let Some(seats) = o.seats {
            params.inventory.seats = seats;
        }
    }
}

/// One line a worker writes to its stdout.
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum WorkerLine {
    Progress(ProgressCounts),
    Result(Box<WorkerResult>),
}

/// A worker's measurements, sent once at its end.
#[derive(Debug, Serialize, Deserialize)]
struct WorkerResult {
    recorder: RecorderWire,
    log: ClientLog,
    slots: SuccessSlots,
}

/// What `--gateway` is when neither it nor `--cluster` is given.
const GATEWAY_DEFAULT: &str = "127.0.0.1:8080";

impl LoadtestArgs {
    /// The deployment's partitions (`--partition-count`, 1 when not given).
    pub fn partitions(&self) -> u16 {
        self.partition_count.unwrap_or(1).max(1)
    }
}

/// `--cluster`: the cluster file's values for each flag not given (pids only when no pid flag
/// was given at all).
fn apply_cluster(args: &mut LoadtestArgs, cluster: crate::cluster_file::ClusterFlags) {
    if args.gateways.is_empty() {
        args.gateways = vec![cluster.gateway];
    }
    args.journal.get_or_insert(cluster.journal);
    args.partition_count.get_or_insert(cluster.partition_count);
    args.cluster_token_file = cluster.operator_token_file;
    if args.gateway_pid.is_empty() && args.server_pids.is_empty() {
        args.gateway_pid = cluster.gateway_pids;
        args.server_pids = cluster.server_pids;
    }
}

/// Runs `picket loadtest`: the report (also written to `--out`), or why it could not run. A
/// worker process (`--worker`) runs its share, reports to its parent and returns `None`. The
/// audit replays the ledger's journal with `journals`.
pub async fn run(
    mut args: LoadtestArgs,
    journals: &dyn JournalReplay,
) -> Result<Option<RunReport>, LoadtestError> {
    if args.worker {
        worker_main().await?;
        return Ok(None);
    }
    if let Some(path) = args.cluster.clone() {
        apply_cluster(&mut args, crate::cluster_file::read(&path)?);
    }
    if args.gateways.is_empty() {
        args.gateways = vec![GATEWAY_DEFAULT.to_owned()];
    }
    let fd_limit = target::raise_fd_limit();
    let scenario = scenario_of(&args)?;
    if baseline_kind(&args, &scenario).is_some() && args.baseline_database_url.is_none() {
        return Err(LoadtestError::Config(
            "the pg-row-lock baseline (--baseline, or the contention preset) needs \
             --baseline-database-url"
                .into(),
        ));
    }
    let token = operator_token(&args)?;
    let target = Target::resolve(&args.gateways, &args.allow_target, token, args.source_addrs)?;
    let run_started_at_ms = now_ms();
    let started = Instant::now();
    let run_id = (run_started_at_ms % 1_000_000_000) as u32;
    let mut recorder = Recorder::default();
    let mut log = ClientLog::default();
    let mut slots = SuccessSlots::default();
    let mut failover = None;
    let mut performances = Vec::new();
    let mut measured = serde_json::Map::new();
    let mut measured_s = 0.0;
    let performance_of = |index: usize| 1_000_000_000 + u64::from(run_id) * 16 + index as u64;
    let ledgers = spawn_ledgers(&args, performance_of(0)).await?;
    let servers = server_components(&args, ledgers.as_ref())?;
    let mut cpu_usage = cpu::Usage::default();
    for (index, phase) in scenario.phases.iter().enumerate() {
        let performance = performance_of(index);
        let ids = (performance, run_started_at_ms, run_id);
        let outcome = run_phase(&args, &target, phase, ids, ledgers.as_ref(), &servers).await?;
        if let Some((before, after)) = &outcome.cpu {
            cpu_usage.add(before, after, outcome.recorder.counters.bookings);
        }
        recorder.merge(&outcome.recorder);
        log.merge(outcome.log);
        slots.merge(&outcome.slots);
        failover = failover.or(outcome.killed);
        measured_s += outcome.measured_s;
        measured.extend(outcome.measured);
        performances.push(performance);
    }
    let wall_s = started.elapsed().as_secs_f64();
    measured.insert("wall_s".into(), json!(wall_s));
    let failover = failover.map(|(disrupted, unanswered)| FailoverReport {
        killed_at_s: disrupted.at_s,
        killed_pid: disrupted.pid,
        gap_ms: slots.longest_gap_ms(disrupted.at_s - 1.0),
        unanswered,
        paused_ms: disrupted.paused_ms,
        pauses: disrupted.pauses,
    });
    let mut audit = audit(&args, journals, &performances, &log).await?;
    let picket_audit = audit.as_ref().map(|a| a.passed);
    let baseline = match baseline(&args, &scenario, run_id).await? {
        Some((baseline, checks)) => {
            let audit = audit.get_or_insert_with(|| report::AuditReport {
                passed: true,
                checks: Vec::new(),
            });
            audit.passed &= checks.iter().all(|c| c.passed);
            audit.checks.extend(checks);
            Some(baseline)
        }
        None => None,
    };
    measured.insert("fd_limit".into(), json!(fd_limit));
    let contention = contention_report(
        &scenario,
        &recorder,
        picket_audit,
        baseline.as_ref(),
        audit.as_ref(),
    );
    let report = RunReport {
        scenario: scenario.name.clone(),
        targets: target
            .gateways
            .iter()
            .map(|g| format!("ws://{g}/ws"))
            .collect(),
        started_at_ms: run_started_at_ms,
        duration_s: measured_s,
        parameters: json!({
            "phases": scenario.phases,
            "performances": performances,
            "workers": workers_for(&args, &scenario.phases[0].params),
            "measured": measured,
        }),
        recorder,
        audit,
        baseline,
        failover,
        cpu: (!servers.is_empty()).then(|| cpu_usage.report(cpu::ticks_per_s())),
        contention,
    };
    report::write(&args.out, &report)?;
    Ok(Some(report))
}

/// A contention run's two sides; `None` for other runs. The baseline's audit is its checks named
/// `baseline: …`.
fn contention_report(
    scenario: &Scenario,
    picket: &Recorder,
    picket_audit: Option<bool>,
    baseline: Option<&report::BaselineReport>,
    audit: Option<&report::AuditReport>,
) -> Option<report::ContentionReport> {
    let phase = &scenario.phases[0];
    if phase.preset != Preset::Contention {
        return None;
    }
    let seats = u64::from(phase.params.inventory.seats);
    let mut sides = vec![report::ContentionSide::of(
        "picket",
        picket,
        seats,
        picket_audit,
    )];
    if let Some(baseline) = baseline {
        let passed = audit.map(|a| {
            a.checks
                .iter()
                .filter(|c| c.name.starts_with("baseline: "))
                .all(|c| c.passed)
        });
        sides.push(report::ContentionSide::of(
            &baseline.name,
            &baseline.recorder,
            seats,
            passed,
        ));
    }
    Some(report::ContentionReport { seats, sides })
}

fn scenario_of(args: &LoadtestArgs) -> Result<Scenario, LoadtestError> {
    if let Some(path) = &args.scenario {
        let text = std::fs::read_to_string(path)
            .map_err(|e| LoadtestError::Config(format!("{}: {e}", path.display())))?;
        return scenario::parse(&text).map_err(LoadtestError::Config);
    }
    let mut params = Params::preset(args.preset);
    args.overrides.apply(&mut params);
    params
        .validate_as(args.preset)
        .map_err(LoadtestError::Config)?;
    Ok(Scenario {
        name: args.preset.name().into(),
        phases: vec![Phase {
            preset: args.preset,
            params,
        }],
    })
}

fn operator_token(args: &LoadtestArgs) -> Result<String, LoadtestError> {
    if let Some(token) = &args.operator_token {
        return Ok(token.clone());
    }
    let path = match &args.cluster_token_file {
        Some(path) => path.clone(),
        None => args.data_dir.join("operator-token"),
    };
    std::fs::read_to_string(&path)
        .map(|t| t.trim().to_owned())
        .map_err(|e| {
            LoadtestError::Config(format!("no --operator-token and {}: {e}", path.display()))
        })
}

/// The server components whose CPU the report shows: `--gateway-pid`, the spawned ledger nodes
/// and `--server-pid`; every pid must be running.
fn server_components(
    args: &LoadtestArgs,
    ledgers: Option<&Ledgers>,
) -> Result<Components, LoadtestError> {
    if args.server_pids.len() > cpu::SERVER_PIDS_MAX {
        return Err(LoadtestError::Config(format!(
            "at most {} --server-pid",
            cpu::SERVER_PIDS_MAX
        )));
    }
    let mut components = Components::default();
    for pid in &args.gateway_pid {
        components.add(cpu::GATEWAY, *pid);
    }
    for pid in ledgers.map(Ledgers::pids).unwrap_or_default() {
        components.add(cpu::SPAWNED_LEDGER, pid);
    }
    for (name, pid) in &args.server_pids {
        components.add(name, *pid);
    }
    match components.missing().first() {
        Some((name, pid)) => Err(LoadtestError::Config(format!(
            "{name}: no process {pid} is running"
        ))),
        None => Ok(components),
    }
}

fn workers_for(args: &LoadtestArgs, params: &Params) -> u16 {
    let needed = params.clients.div_ceil(CLIENTS_PER_WORKER_MAX) as u16;
    args.workers.unwrap_or(needed).clamp(1, WORKERS_MAX)
}

/// What one phase measured.
struct PhaseOutcome {
    recorder: Recorder,
    log: ClientLog,
    slots: SuccessSlots,
    /// Failover: the leader's kill or pauses, and unanswered commands.
    killed: Option<(Disrupted, u64)>,
    measured: serde_json::Map<String, serde_json::Value>,
    /// The seconds its rates are measured over: a pooled phase's arrival window (its ramp comes
    /// before), otherwise the phase's wall time.
    measured_s: f64,
    /// The server components read at the start and the end of the measured window.
    cpu: Option<(cpu::Sample, cpu::Sample)>,
}

async fn spawn_ledgers(
    args: &LoadtestArgs,
    performance: u64,
) -> Result<Option<Ledgers>, LoadtestError> {
    if args.spawn_ledgers == 0 {
        return Ok(None);
    }
    let (Some(nats), Some(journal)) = (&args.ledger_nats_url, &args.journal) else {
        return Err(LoadtestError::Config(
            "--spawn-ledgers needs --ledger-nats-url and a postgres:// --journal".into(),
        ));
    };
    let partitions = args.partitions();
    let partition = (performance % u64::from(partitions)) as u16;
    Ledgers::spawn(args.spawn_ledgers, nats, journal, partitions, partition)
        .await
        .map(Some)
}

/// (performance, when the run started in ms, run id).
type PhaseIds = (u64, u64, u32);

async fn run_phase(
    args: &LoadtestArgs,
    target: &Target,
    phase: &Phase,
    (performance, run_started_at_ms, run_id): PhaseIds,
    ledgers: Option<&Ledgers>,
    servers: &Components,
) -> Result<PhaseOutcome, LoadtestError> {
    let params = &phase.params;
    let phase_started_at_ms = now_ms();
    let sale_open_at_ms = sale_open_at(phase, phase_started_at_ms);
    // The show is a month away: sales stay open for the whole run, cancellations are free.
    let starts_at_ms = phase_started_at_ms + 30 * 24 * 3_600_000;
    target
        .open_performance(&params.inventory.spec(performance, starts_at_ms))
        .await?;
    let active_max = (params.clients * 2).max(1_000);
    let settings = target::sale_settings(
        sale_open_at_ms,
        params.admit_per_sec,
        active_max,
        params.inventory.per_buyer_limit,
    );
    target.configure_sale(performance, &settings).await?;
    let workers = workers_for(args, params);
    let plan = WorkerPlan {
        phase: phase.clone(),
        performance,
        sale_open_at_ms,
        run_started_at_ms,
        phase_started_at_ms,
        gateways: args.gateways.clone(),
        source_addrs: args.source_addrs,
        allow_target: args.allow_target.clone(),
        worker: 0,
        workers,
        run_id,
    };
    let rss_before = rss_kib(&args.gateway_pid);
    let phase_clock = Instant::now();
    let progress = Arc::new(Progress::default());
    let bar = progress_bar(args.no_progress, phase, progress.clone());
    let partition = (performance % u64::from(args.partitions())) as u16;
    let killer = params.kill_at_s.and_then(|at_s| {
        let at_ms = phase_started_at_ms + at_s * 1_000;
        let leader = match (params.kill_pid, ledgers) {
            (Some(pid), _) => Leader::Pid(pid),
            (None, Some(ledgers)) => Leader::Spawned(ledgers, partition),
            (None, None) => return None,
        };
        Some(match params.pause_ms {
            None => kill_leader_at(leader, at_ms).boxed(),
            Some(pause_ms) => {
                let pauses = Pauses {
                    first_at_ms: at_ms,
                    every_ms: at_s * 1_000,
                    pause_ms,
                    until_ms: phase_started_at_ms + params.duration_s * 1_000,
                };
                pause_leader(leader, pauses).boxed()
            }
        })
    });
    // Server CPU is read when the measured window starts (a pooled phase's first arrival, after
    // its ramp) and when the clients are done.
    let window_from_ms = match phase.preset {
        Preset::Steady | Preset::Failover | Preset::Churn => {
            let ramp = drive::pool_ramp(params.clients, params.ramp_per_s);
            phase_started_at_ms + ramp.as_millis() as u64
        }
        Preset::Stampede | Preset::Idle | Preset::Contention => phase_started_at_ms,
    };
    let cpu_before = (!servers.is_empty()).then(|| {
        let servers = servers.clone();
        tokio::spawn(async move {
            sleep_until_ms(window_from_ms).await;
            servers.sample()
        })
    });
    let peak_rss = Arc::new(AtomicU64::new(0));
    let sampler = tokio::spawn(sample_rss(args.gateway_pid.clone(), peak_rss.clone()));
    let driving = async {
        match workers {
            1 => Ok(drive::run(Ctx::new(plan, target.clone(), progress.clone())).await),
            _ => spread_over_workers(&plan, progress.clone()).await,
        }
    };
    // The kill runs beside the clients, at its moment.
    let (driven, killed_at) = match killer {
        Some(kill) => {
            let (driven, killed) = tokio::join!(driving, kill);
            (driven, killed)
        }
        None => (driving.await, None),
    };
    let (recorder, log, slots) = driven?;
    let cpu = match cpu_before {
        Some(before) => Some((
            before
                .await
                .map_err(|e| LoadtestError::Setup(format!("reading server CPU: {e}")))?,
            servers.sample(),
        )),
        None => None,
    };
    sampler.abort();
    if let Some(bar) = bar {
        bar.abort();
        eprintln!();
    }
    let killed = killed_at.map(|mut disrupted: Disrupted| {
        // Taken as milliseconds since the epoch; reported as seconds into the run.
        disrupted.at_s -= run_started_at_ms as f64 / 1_000.0;
        let unanswered = recorder.errors.get("no_answer").copied().unwrap_or(0);
        (disrupted, unanswered)
    });
    let mut measured = serde_json::Map::new();
    if let Some(before) = rss_before {
        let peak = peak_rss.load(Ordering::Relaxed);
        let per_conn =
            (peak.saturating_sub(before)) as f64 / recorder.counters.connected.max(1) as f64;
        measured.insert("gateway_rss_kib_before".into(), json!(before));
        measured.insert("gateway_rss_kib_peak".into(), json!(peak));
        measured.insert("gateway_kib_per_connection".into(), json!(per_conn));
    }
    let measured_s = match phase.preset {
        Preset::Steady | Preset::Failover | Preset::Churn => params.duration_s as f64,
        Preset::Stampede | Preset::Idle | Preset::Contention => phase_clock.elapsed().as_secs_f64(),
    };
    Ok(PhaseOutcome {
        recorder,
        log,
        slots,
        killed,
        measured,
        measured_s,
        cpu,
    })
}

fn sale_open_at(phase: &Phase, phase_started_at_ms: u64) -> u64 {
    let params = &phase.params;
    match phase.preset {
        Preset::Stampede => {
            let ramp_s = u64::from(params.clients.div_ceil(params.ramp_per_s));
            let open_in_s = match params.open_in_s {
                0 => ramp_s + 5,
                given => given,
            };
            phase_started_at_ms + open_in_s * 1_000
        }
        // Idle clients wait in a pre-queue that never opens during the run.
        Preset::Idle => phase_started_at_ms + (params.duration_s + 3_600) * 1_000,
        _ => phase_started_at_ms,
    }
}

/// The leader a failover phase disrupts.
#[derive(Clone, Copy)]
enum Leader<'a> {
    /// The operator's `--kill-pid`.
    Pid(u32),
    /// Whichever spawned node leads the partition at that moment.
    Spawned(&'a Ledgers, u16),
}

impl Leader<'_> {
    async fn pid(self) -> Option<u32> {
        match self {
            Leader::Pid(pid) => Some(pid),
            Leader::Spawned(ledgers, partition) => ledgers.leader(partition).await,
        }
    }
}

/// What a failover phase did to the leader. `at_s` is the first kill or pause (milliseconds
/// since the epoch, as seconds, until the phase makes it relative to the run).
#[derive(Clone, Copy, Debug)]
struct Disrupted {
    at_s: f64,
    pid: u32,
    /// Each pause's length; `None`: the leader was killed.
    paused_ms: Option<u64>,
    pauses: u32,
}

/// When a failover phase pauses the leader (all in milliseconds since the epoch but the lengths).
#[derive(Clone, Copy, Debug)]
struct Pauses {
    first_at_ms: u64,
    every_ms: u64,
    pause_ms: u64,
    until_ms: u64,
}

async fn sleep_until_ms(at_ms: u64) {
    tokio::time::sleep(Duration::from_millis(at_ms.saturating_sub(now_ms()))).await;
}

async fn signal(pid: u32, signal: &str) -> bool {
    tokio::process::Command::new("kill")
        .args([&format!("-{signal}"), &pid.to_string()])
        .status()
        .await
        .is_ok_and(|s| s.success())
}

/// SIGKILLs the leader at `at_ms`.
async fn kill_leader_at(leader: Leader<'_>, at_ms: u64) -> Option<Disrupted> {
    sleep_until_ms(at_ms).await;
    let pid = leader.pid().await?;
    let killed = signal(pid, "KILL").await;
    tracing::info!(pid, killed, "failover: leader killed");
    killed.then(|| Disrupted {
        at_s: now_ms() as f64 / 1_000.0,
        pid,
        paused_ms: None,
        pauses: 0,
    })
}

/// Pauses whichever node leads at each moment of `pauses` (SIGSTOP, SIGCONT `pause_ms` later),
/// until the phase ends. A pause always ends in SIGCONT, whatever the run does meanwhile.
async fn pause_leader(leader: Leader<'_>, pauses: Pauses) -> Option<Disrupted> {
    let mut disrupted: Option<Disrupted> = None;
    let mut at_ms = pauses.first_at_ms;
    while at_ms < pauses.until_ms {
        sleep_until_ms(at_ms).await;
        let Some(pid) = leader.pid().await else {
            // No leader at this moment (still taking over from the last pause): try again.
            at_ms = now_ms() + pauses.every_ms;
            continue;
        };
        let paused_at_ms = now_ms();
        if !signal(pid, "STOP").await {
            tracing::warn!(pid, "failover: pausing the leader failed");
            break;
        }
        tokio::time::sleep(Duration::from_millis(pauses.pause_ms)).await;
        let resumed = signal(pid, "CONT").await;
        tracing::info!(
            pid,
            pauses.pause_ms,
            resumed,
            "failover: leader paused and resumed"
        );
        let record = disrupted.get_or_insert(Disrupted {
            at_s: paused_at_ms as f64 / 1_000.0,
            pid,
            paused_ms: Some(pauses.pause_ms),
            pauses: 0,
        });
        record.pauses += 1;
        at_ms = now_ms() + pauses.every_ms;
    }
    disrupted
}

/// Resident memory of the gateway processes, in KiB (Linux `/proc`).
fn rss_kib(pids: &[u32]) -> Option<u64> {
    if pids.is_empty() {
        return None;
    }
    let mut total = 0;
    for pid in pids {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
        total += line.split_whitespace().nth(1)?.parse::<u64>().ok()?;
    }
    Some(total)
}

async fn sample_rss(pids: Vec<u32>, peak: Arc<AtomicU64>) {
    loop {
        if let Some(now) = rss_kib(&pids) {
            peak.fetch_max(now, Ordering::Relaxed);
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

fn progress_bar(
    off: bool,
    phase: &Phase,
    progress: Arc<Progress>,
) -> Option<tokio::task::JoinHandle<()>> {
    if off {
        return None;
    }
    let bar = indicatif::ProgressBar::new(u64::from(phase.params.clients));
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{prefix} [{elapsed_precise}] {bar:30} {pos}/{len} connected · {msg}",
        )
        .expect("static template"),
    );
    bar.set_prefix(phase.preset.name());
    Some(tokio::spawn(async move {
        let mut last_bookings = 0;
        loop {
            let now = progress.counts();
            let per_s = (now.bookings - last_bookings) as f64 / PROGRESS_INTERVAL.as_secs_f64();
            last_bookings = now.bookings;
            bar.set_position(now.connected);
            bar.set_message(format!(
                "{} admitted · {} bookings ({per_s:.0}/s) · {} errors",
                now.admitted, now.bookings, now.errors
            ));
            tokio::time::sleep(PROGRESS_INTERVAL).await;
        }
    }))
}

/// Runs the plan in `plan.workers` child processes (this binary again, `loadtest --worker`)
/// and merges what they measured.
async fn spread_over_workers(
    plan: &WorkerPlan,
    progress: Arc<Progress>,
) -> Result<(Recorder, ClientLog, SuccessSlots), LoadtestError> {
    let exe = std::env::current_exe().map_err(|e| LoadtestError::Worker(e.to_string()))?;
    let mut tasks = Vec::new();
    let counts: Arc<std::sync::Mutex<Vec<ProgressCounts>>> = Arc::new(std::sync::Mutex::new(vec![
            ProgressCounts::default();
            usize::from(plan.workers)
        ]));
    for worker in 0..plan.workers {
        let plan = WorkerPlan {
            worker,
            ..plan.clone()
        };
        let exe = exe.clone();
        let counts = counts.clone();
        let progress = progress.clone();
        tasks.push(tokio::task::spawn_blocking(move || {
            run_worker(&exe, &plan, &counts, &progress)
        }));
    }
    let mut recorder = Recorder::default();
    let mut log = ClientLog::default();
    let mut slots = SuccessSlots::default();
    for task in tasks {
        let (theirs, their_log, their_slots) = task
            .await
            .map_err(|e| LoadtestError::Worker(e.to_string()))??;
        recorder.merge(&theirs);
        log.merge(their_log);
        slots.merge(&their_slots);
    }
    Ok((recorder, log, slots))
}

fn run_worker(
    exe: &std::path::Path,
    plan: &WorkerPlan,
    counts: &std::sync::Mutex<Vec<ProgressCounts>>,
    progress: &Progress,
) -> Result<(Recorder, ClientLog, SuccessSlots), LoadtestError> {
    let failed = |e: &dyn std::fmt::Display| LoadtestError::Worker(format!("{}: {e}", plan.worker));
    let mut child = std::process::Command::new(exe)
        .args(["loadtest", "--worker"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| failed(&e))?;
    let mut stdin = child.stdin.take().ok_or_else(|| failed(&"no stdin"))?;
    writeln!(
        stdin,
        "{}",
        serde_json::to_string(plan).expect("plans encode")
    )
    .map_err(|e| failed(&e))?;
    drop(stdin);
    let stdout = child.stdout.take().ok_or_else(|| failed(&"no stdout"))?;
    let mut reader = std::io::BufReader::new(stdout);
    let mut line = String::new();
    let mut result = None;
    loop {
        line.clear();
        let read = (&mut reader)
            .take(WORKER_LINE_BYTES_MAX as u64)
            .read_line(&mut line)
            .map_err(|e| failed(&e))?;
        if read == 0 {
            break;
        }
        match serde_json::from_str::<WorkerLine>(&line) {
            Ok(WorkerLine::Progress(now)) => {
                let mut all = counts.lock().unwrap_or_else(|p| p.into_inner());
                all[usize::from(plan.worker)] = now;
                progress.set_total(&all);
            }
            Ok(WorkerLine::Result(done)) => {
                let recorder = Recorder::from_wire(&done.recorder).map_err(|e| failed(&e))?;
                result = Some((recorder, done.log, done.slots));
            }
            Err(_) => continue,
        }
    }
    let status = child.wait().map_err(|e| failed(&e))?;
    match result {
        Some(result) if status.success() => Ok(result),
        _ => Err(failed(&format!("ended with {status} and no result"))),
    }
}

/// `picket loadtest --worker`: reads its plan, runs its share, reports on stdout.
async fn worker_main() -> Result<(), LoadtestError> {
    target::raise_fd_limit();
    let mut text = String::new();
    std::io::stdin()
        .read_line(&mut text)
        .map_err(|e| LoadtestError::Worker(e.to_string()))?;
    let plan: WorkerPlan =
        serde_json::from_str(&text).map_err(|e| LoadtestError::Worker(e.to_string()))?;
    let target = Target::resolve(
        &plan.gateways,
        &plan.allow_target,
        String::new(),
        plan.source_addrs,
    )?;
    let progress = Arc::new(Progress::default());
    let reporter = {
        let progress = progress.clone();
        tokio::spawn(async move {
            loop {
                print_line(&WorkerLine::Progress(progress.counts()));
                tokio::time::sleep(PROGRESS_INTERVAL).await;
            }
        })
    };
    let (recorder, log, slots) = drive::run(Ctx::new(plan, target, progress)).await;
    reporter.abort();
    print_line(&WorkerLine::Result(Box::new(WorkerResult {
        recorder: recorder.to_wire(),
        log,
        slots,
    })));
    Ok(())
}

fn print_line(line: &WorkerLine) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "{}",
        serde_json::to_string(line).expect("lines encode")
    );
    let _ = out.flush();
}

async fn audit(
    args: &LoadtestArgs,
    journals: &dyn JournalReplay,
    performances: &[u64],
    log: &ClientLog,
) -> Result<Option<report::AuditReport>, LoadtestError> {
    let default = args.data_dir.join("ledger.sqlite");
    let journal = match &args.journal {
        Some(url) => url.clone(),
        None if default.exists() => default.display().to_string(),
        None => return Ok(None),
    };
    let mut checks = Vec::new();
    for performance in performances {
        let partition = (performance % u64::from(args.partitions())) as u16;
        let ledger = journals.ledger(&journal, partition).await?;
        let report = crate::audit::check(&ledger, *performance, log);
        for mut check in report.checks {
            if performances.len() > 1 {
                check.name = format!("{} (performance {performance})", check.name);
            }
            checks.push(check);
        }
    }
    Ok(Some(report::AuditReport {
        passed: checks.iter().all(|c| c.passed),
        checks,
    }))
}

/// The baseline's report and its own audit's checks (shown with Picket's audit).
async fn baseline(
    args: &LoadtestArgs,
    scenario: &Scenario,
    run_id: u32,
) -> Result<Option<(report::BaselineReport, Vec<report::AuditCheck>)>, LoadtestError> {
    let Some(BaselineKind::PgRowLock) = baseline_kind(args, scenario) else {
        return Ok(None);
    };
    let url = args.baseline_database_url.clone().ok_or_else(|| {
        LoadtestError::Config("--baseline pg-row-lock needs --baseline-database-url".into())
    })?;
    let params = &scenario.phases[0].params;
    let config = baseline_config(url, scenario.phases[0].preset, params, u64::from(run_id));
    let done = crate::baseline::run_audited(&config, Instant::now()).await?;
    let checks = done
        .audit
        .checks()
        .into_iter()
        .map(|c| report::AuditCheck {
            name: format!("baseline: {}", c.name),
            passed: c.passed,
            detail: c.detail,
        })
        .collect();
    Ok(Some((
        report::BaselineReport {
            name: crate::baseline::NAME.into(),
            duration_s: done.duration_s,
            recorder: done.recorder,
        },
        checks,
    )))
}

/// The baseline to run: `--baseline`, or `pg-row-lock` for a contention run (the comparison is
/// the preset's point).
fn baseline_kind(args: &LoadtestArgs, scenario: &Scenario) -> Option<BaselineKind> {
    let contention = scenario.phases[0].preset == Preset::Contention;
    args.baseline
        .or(contention.then_some(BaselineKind::PgRowLock))
}

/// The baseline's workload shaped like the first phase: the same grades and seats, places per
/// hold, confirm rate and duration; the same open-loop rate for steady-like phases, and as many
/// concurrent buyers as the phase has clients (closed loop) for a stampede; for contention, the
/// same buyers on the same schedule with the same seat choices. `seed` is the run's (its id),
/// which seeds the WebSocket buyers' streams too.
fn baseline_config(
    database_url: String,
    preset: Preset,
    params: &Params,
    seed: u64,
) -> crate::baseline::BaselineConfig {
    use crate::baseline::{BaselineConfig, CLIENTS_MAX, GradeSpec, SEATS_MAX};
    let inventory = &params.inventory;
    let wanted =
        u64::from(params.rate_per_s) * params.duration_s * u64::from(params.seats_per_hold);
    // Standing capacity has no rows to lock; the baseline sells seats enough for the run.
    let seats = match inventory.seats {
        0 => (wanted + wanted / 5).clamp(1_000, u64::from(SEATS_MAX)) as u32,
        seats => seats,
    };
    let rate_per_s = match preset {
        Preset::Stampede | Preset::Idle => None,
        Preset::Steady | Preset::Failover | Preset::Churn | Preset::Contention => {
            Some(params.rate_per_s)
        }
    };
    // Contention: the same buyers (as many, on the same schedule, each with its stream of the
    // run's seed) make the same attempts as the WebSocket buyers.
    let contention = preset == Preset::Contention;
    BaselineConfig {
        database_url,
        seats,
        grades: inventory
            .grades
            .iter()
            .map(|(name, price_won, share)| GradeSpec {
                name: name.clone(),
                price_won: *price_won,
                share: u32::from(*share),
            })
            .collect(),
        per_hold_seats: params.seats_per_hold,
        clients: (params.clients as usize).min(CLIENTS_MAX),
        rate_per_s,
        duration: Duration::from_secs(params.duration_s),
        confirm_percent: params.confirm_percent,
        seat_taken_retries_max: params.seat_taken_retries_max,
        hold_ttl_ms: inventory.hold_ttl_ms,
        seed,
        arrivals_max: contention.then_some(u64::from(params.clients)),
        same_choices: contention,
        ..BaselineConfig::default()
    }
}

#[cfg(test)]
mod tests {

    fn parsed(extra: &[&str]) -> LoadtestArgs {
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: LoadtestArgs,
        }
        let mut argv = vec!["loadtest", "steady"];
        argv.extend_from_slice(extra);
        <Cli as clap::Parser>::parse_from(argv).args
    }

    fn cluster_flags() -> crate::cluster_file::ClusterFlags {
        crate::cluster_file::ClusterFlags {
            gateway: "127.0.0.1:18080".into(),
            journal: "postgres://cluster/picket".into(),
            partition_count: 2,
            operator_token_file: Some("/cluster/secrets/operator-token".into()),
            gateway_pids: vec![105, 106],
            server_pids: vec![("ledger-1".into(), 104)],
        }
    }

    #[test]
    fn a_cluster_stands_for_the_flags_not_given() {
        let mut args = parsed(&[]);
        apply_cluster(&mut args, cluster_flags());
        assert_eq!(args.gateways, ["127.0.0.1:18080"]);
        assert_eq!(args.journal.as_deref(), Some("postgres://cluster/picket"));
        assert_eq!(args.partitions(), 2);
        assert_eq!(
            args.cluster_token_file.as_deref(),
            Some(std::path::Path::new("/cluster/secrets/operator-token"))
        );
        assert_eq!(args.gateway_pid, [105, 106]);
        assert_eq!(args.server_pids, [("ledger-1".to_owned(), 104)]);
    }

    #[test]
    fn flags_given_win_over_the_cluster() {
        let mut args = parsed(&[
            "--gateway",
            "127.0.0.1:9999",
            "--journal",
            "postgres://other/picket",
            "--operator-token",
            "given",
            "--gateway-pid",
            "7",
        ]);
        apply_cluster(&mut args, cluster_flags());
        assert_eq!(args.gateways, ["127.0.0.1:9999"]);
        assert_eq!(args.journal.as_deref(), Some("postgres://other/picket"));
        assert_eq!(args.operator_token.as_deref(), Some("given"));
        assert_eq!(args.gateway_pid, [7]);
        assert!(
            args.server_pids.is_empty(),
            "pids given: none taken from the cluster"
        );
    }

    use super::*;

    #[test]
    fn both_sides_of_a_contention_run_want_the_same_seats_in_the_same_order() {
        use crate::rng::{Attempt, Rng};
        let params = Params::preset(Preset::Contention);
        let seed = 4_242;
        let config = baseline_config(
            "postgres://unused".into(),
            Preset::Contention,
            &params,
            seed,
        );
        assert!(config.same_choices);
        assert_eq!(config.arrivals_max, Some(50_000));
        assert_eq!(config.rate_per_s, Some(5_000));
        assert_eq!((config.seats, config.per_hold_seats), (5_000, 2));
        let as_json = |attempts: Vec<Attempt>| -> Vec<serde_json::Value> {
            attempts
                .into_iter()
                .map(|attempt| match attempt {
                    Attempt::Seats(seats) => json!({"Seats": seats}),
                    Attempt::BestAvailable(grade) => {
                        json!({"BestAvailable": {"grade": grade, "count": 2}})
                    }
                })
                .collect()
        };
        let mut firsts = std::collections::BTreeSet::new();
        for buyer in [0u32, 1, 2, 17, 4_999, 49_999] {
            let mut stream = Rng::new(seed, u64::from(buyer));
            let picket = drive::selections(&params, Preset::Contention, &mut stream);
            let baseline = crate::baseline::buyer_attempts(&config, u64::from(buyer))
                .expect("a valid baseline");
            assert_eq!(picket, as_json(baseline), "buyer {buyer}");
            // 4 grades × (3 picks + best available).
            assert_eq!(picket.len(), 16);
            firsts.insert(picket[0].to_string());
        }
        assert!(
            firsts.len() > 1,
            "buyers do not all want the same seats: {firsts:?}"
        );
        // Another run (seed) draws other seats.
        let other = baseline_config("postgres://unused".into(), Preset::Contention, &params, 7);
        let again = crate::baseline::buyer_attempts(&other, 0).expect("valid");
        let first = drive::selections(&params, Preset::Contention, &mut Rng::new(seed, 0));
        assert_ne!(as_json(again), first);
    }

    #[test]
    fn a_contention_run_needs_the_baselines_database() {
        use clap::Parser;
        #[derive(clap::Parser)]
        struct Cli {
            #[command(flatten)]
            args: LoadtestArgs,
        }
        let cli = Cli::parse_from([
            "picket",
            "contention",
            "--seats",
            "200",
            "--clients",
            "2000",
        ]);
        let scenario = scenario_of(&cli.args).expect("valid numbers");
        assert_eq!(scenario.phases[0].params.inventory.seats, 200);
        assert_eq!(
            baseline_kind(&cli.args, &scenario),
            Some(BaselineKind::PgRowLock)
        );
        let steady = Cli::parse_from(["picket", "steady"]);
        let scenario = scenario_of(&steady.args).expect("valid");
        assert_eq!(baseline_kind(&steady.args, &scenario), None);
    }

    /// Whether `pid` is stopped (state `T` in `/proc/<pid>/stat`).
    fn stopped(pid: u32) -> bool {
        std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .ok()
            .and_then(|stat| {
                let (_, after_name) = stat.rsplit_once(") ")?;
                after_name.chars().next()
            })
            == Some('T')
    }

    #[tokio::test]
    async fn pauses_repeat_until_the_phase_ends_and_always_resume() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .expect("sleep");
        let pid = child.id();
        let start = now_ms();
        let pauses = Pauses {
            first_at_ms: start + 50,
            every_ms: 100,
            pause_ms: 150,
            until_ms: start + 700,
        };
        let watcher = tokio::spawn(async move {
            let mut seen_stopped = false;
            for _ in 0..40 {
                seen_stopped |= stopped(pid);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            seen_stopped
        });
        let disrupted = pause_leader(Leader::Pid(pid), pauses)
            .await
            .expect("paused");
        assert_eq!(disrupted.pid, pid);
        assert_eq!(disrupted.paused_ms, Some(150));
        assert!(disrupted.pauses >= 2, "{disrupted:?}");
        assert!(watcher.await.expect("watcher"), "the process was stopped");
        assert!(!stopped(pid), "every pause ends with SIGCONT");
        let _ = child.kill();
        let _ = child.wait();
    }
}
