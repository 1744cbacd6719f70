//! The run's report: `report.json` (everything, machine-readable), `report.md` (summary table,
//! latency percentiles per step, errors by code, the audit, the baseline ratios, the failover
//! gap, server CPU per booking) and `chart.svg` (bookings per second and booking p99 over time), in an output directory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::cpu::CpuReport;
use crate::recorder::{Counters, Recorder, Second, Step, StepSummary};

/// Everything a run found out.
#[derive(Clone, Debug)]
pub struct RunReport {
    /// The scenario's name (`stampede`, `steady`, …, or the scenario file's name).
    pub scenario: String,
    /// The gateways driven (`ws://127.0.0.1:8080/ws`, …).
    pub targets: Vec<String>,
    /// When the run started, ms since the Unix epoch; the timeline's second 0.
    pub started_at_ms: u64,
    /// The seconds its rates are measured over: pooled phases' arrival windows (their ramps
    /// come before), other phases' wall time (`parameters.measured.wall_s` is the whole run).
    pub duration_s: f64,
    /// The scenario's numbers, as given (for the report's header).
    pub parameters: serde_json::Value,
    pub recorder: Recorder,
    pub audit: Option<AuditReport>,
    pub baseline: Option<BaselineReport>,
    pub failover: Option<FailoverReport>,
    /// Server CPU per booking, per component (with `--gateway-pid`, `--server-pid` or
    /// `--spawn-ledgers`).
    pub cpu: Option<CpuReport>,
    /// The contention preset: Picket and the baseline side by side.
    pub contention: Option<ContentionReport>,
}

/// A contention run: the same buyers with the same seat choices against Picket, then against
/// the `pg-row-lock` baseline, one after the other on the same machine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContentionReport {
    /// Seats on sale on each side.
    pub seats: u64,
    /// Picket first, then the baseline.
    pub sides: Vec<ContentionSide>,
}

/// What one side of a contention run did.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ContentionSide {
    /// `picket` or the baseline's name.
    pub name: String,
    /// Buyers that arrived (or were due and turned away after the sell-out).
    pub buyers: u64,
    pub bookings: u64,
    pub tickets: u64,
    /// Every seat sold (`tickets == seats`).
    pub sold_out: bool,
    /// First arrival → last booking confirmed, in seconds: the sell-out time when `sold_out`.
    pub last_booking_s: Option<f64>,
    /// `bookings ÷ last_booking_s`: the rate the side sold at.
    pub bookings_per_s: Option<f64>,
    pub hold_p50_ms: Option<f64>,
    pub hold_p99_ms: Option<f64>,
    /// Arrival → booking confirmed.
    pub end_to_end_p50_ms: Option<f64>,
    pub end_to_end_p99_ms: Option<f64>,
    pub seat_taken_retries: u64,
    /// Buyers told the sale was sold out (or due after it was).
    pub turned_away: u64,
    /// Buyers that ended with neither a booking nor "sold out": errors, timeouts, the
    /// baseline's `in_flight_max` (`errors` says which).
    pub failed: u64,
    pub errors: BTreeMap<String, u64>,
    /// This side's own audit; `None` when it had none (Picket without a journal).
    pub audit_passed: Option<bool>,
}

impl ContentionSide {
    /// One side's figures from what its buyers recorded.
    pub fn of(name: &str, recorder: &Recorder, seats: u64, audit_passed: Option<bool>) -> Self {
        let c = &recorder.counters;
        let last_booking_s = recorder.span.seconds();
        let step = |step: Step| {
            let histogram = recorder.steps.get(&step)?;
            (!histogram.is_empty()).then(|| StepSummary::of(histogram))
        };
        let (hold, end_to_end) = (step(Step::Hold), step(Step::EndToEnd));
        ContentionSide {
            name: name.to_owned(),
            buyers: c.clients,
            bookings: c.bookings,
            tickets: c.tickets,
            sold_out: c.tickets == seats,
            last_booking_s,
            bookings_per_s: last_booking_s
                .filter(|s| *s > 0.0)
                .map(|s| c.bookings as f64 / s),
            hold_p50_ms: hold.as_ref().map(|s| s.p50_ms),
            hold_p99_ms: hold.as_ref().map(|s| s.p99_ms),
            end_to_end_p50_ms: end_to_end.as_ref().map(|s| s.p50_ms),
            end_to_end_p99_ms: end_to_end.as_ref().map(|s| s.p99_ms),
            seat_taken_retries: c.seat_taken_retries,
            turned_away: c.sold_out,
            failed: c
                .clients
                .saturating_sub(c.bookings + c.sold_out + c.abandoned),
            errors: recorder.errors.clone(),
            audit_passed,
        }
    }

    /// The sell-out time as a table cell.
    fn sell_out(&self, seats: u64) -> String {
        match (self.sold_out, self.last_booking_s) {
            (true, Some(s)) => format!("{s:.2} s"),
            (_, Some(s)) => format!(
                "not sold out ({} of {seats} seats; last booking {s:.2} s)",
                self.tickets
            ),
            (_, None) => format!("not sold out ({} of {seats} seats)", self.tickets),
        }
    }
}

/// The ledger's final state checked against what the clients were told.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditReport {
    pub passed: bool,
    pub checks: Vec<AuditCheck>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditCheck {
    pub name: String,
    pub passed: bool,
    pub detail: String,
}

/// The same workload as PostgreSQL row locks, for the ratio.
#[derive(Clone, Debug)]
pub struct BaselineReport {
    /// `pg-row-lock`.
    pub name: String,
    pub duration_s: f64,
    pub recorder: Recorder,
}

/// A leader killed mid-run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailoverReport {
    /// When the leader was killed, seconds into the run.
    pub killed_at_s: f64,
    pub killed_pid: u32,
    /// The longest time without a successful booking command from shortly before the kill to
    /// the end of the run, in milliseconds: the gap clients saw.
    pub gap_ms: f64,
    /// Booking commands that got no answer (the clients retried them with the same key).
    pub unanswered: u64,
    /// `--pause-ms`: the leader was paused this long (`pauses` times; `killed_*` is the first
    /// pause) instead of killed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused_ms: Option<u64>,
    #[serde(default)]
    pub pauses: u32,
}

/// At most this many points (buckets of seconds) in `chart.svg`.
pub const CHART_POINTS_MAX: usize = 600;

/// The files [`write`] wrote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportFiles {
    pub json: PathBuf,
    pub markdown: PathBuf,
    pub svg: PathBuf,
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("cannot write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot encode report.json: {0}")]
    Json(#[from] serde_json::Error),
}

/// Writes `report.json`, `report.md` and `chart.svg` into `dir`, creating it if needed.
pub fn write(dir: &Path, report: &RunReport) -> Result<ReportFiles, ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let files = ReportFiles {
        json: dir.join("report.json"),
        markdown: dir.join("report.md"),
        svg: dir.join("chart.svg"),
    };
    let json = to_json(report);
    write_file(&files.json, &serde_json::to_string_pretty(&json)?)?;
    write_file(&files.markdown, &markdown(&json))?;
    write_file(&files.svg, &chart_svg(report))?;
    Ok(files)
}

fn write_file(path: &Path, contents: &str) -> Result<(), ReportError> {
    std::fs::write(path, contents).map_err(|source| ReportError::Io {
        path: path.to_path_buf(),
        source,
    })
}

// ---------------------------------------------------------------------------------------------
// report.json

/// `report.json`: everything a run found out, machine-readable.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReportJson {
    pub scenario: String,
    pub targets: Vec<String>,
    pub started_at_ms: u64,
    pub duration_s: f64,
    pub parameters: serde_json::Value,
    pub counters: Counters,
    /// Percentiles of each step with samples, keyed by the step's snake_case name.
    pub steps: BTreeMap<Step, StepSummary>,
    pub errors: BTreeMap<String, u64>,
    pub timeline: Vec<SecondJson>,
    pub throughput: Throughput,
    pub audit: Option<AuditReport>,
    pub failover: Option<FailoverReport>,
    pub baseline: Option<BaselineJson>,
    /// Present with a baseline.
    pub ratios: Option<Ratios>,
    /// Server CPU per booking, per component, in the measured windows; present when the run
    /// was given server processes.
    #[serde(default)]
    pub cpu: Option<CpuReport>,
    /// The contention preset's two sides.
    #[serde(default)]
    pub contention: Option<ContentionReport>,
}

/// One second of the timeline.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SecondJson {
    pub second: u64,
    pub bookings: u64,
    pub holds: u64,
    pub errors: u64,
    /// Booking-command (hold and confirm) latency p99 in this second; `None` without samples.
    pub p99_ms: Option<f64>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    /// `counters.bookings ÷ duration_s` (0 for a run without duration).
    pub bookings_per_s: f64,
    /// The most bookings in one second of the timeline.
    pub peak_bookings_per_s: u64,
    /// The (first) second with that peak; `None` when no second had a booking.
    pub peak_second: Option<u64>,
}

/// The PostgreSQL row-lock baseline's figures.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BaselineJson {
    pub name: String,
    pub duration_s: f64,
    pub counters: Counters,
    pub steps: BTreeMap<Step, StepSummary>,
    pub bookings_per_s: f64,
}

/// Picket against the baseline: above 1 means Picket is better; `None` where a side has no
/// samples.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ratios {
    /// Picket ÷ baseline.
    pub bookings_per_s: Option<f64>,
    /// Baseline ÷ Picket.
    pub hold_p99: Option<f64>,
    /// Baseline ÷ Picket.
    pub confirm_p99: Option<f64>,
    /// Baseline ÷ Picket.
    pub end_to_end_p99: Option<f64>,
}

/// The report as `report.json` holds it.
pub fn to_json(report: &RunReport) -> ReportJson {
    let recorder = &report.recorder;
    let steps = step_summaries(recorder);
    let bookings_per_s = rate(recorder.counters.bookings, report.duration_s);
    let baseline = report.baseline.as_ref().map(baseline_json);
    let ratios = baseline.as_ref().map(|b| ratios(&steps, bookings_per_s, b));
    ReportJson {
        scenario: report.scenario.clone(),
        targets: report.targets.clone(),
        started_at_ms: report.started_at_ms,
        duration_s: report.duration_s,
        parameters: report.parameters.clone(),
        counters: recorder.counters.clone(),
        steps,
        errors: recorder.errors.clone(),
        timeline: timeline_json(&recorder.timeline),
        throughput: throughput(bookings_per_s, &recorder.timeline),
        audit: report.audit.clone(),
        failover: report.failover.clone(),
        baseline,
        ratios,
        cpu: report.cpu.clone(),
        contention: report.contention.clone(),
    }
}

fn step_summaries(recorder: &Recorder) -> BTreeMap<Step, StepSummary> {
    recorder
        .steps
        .iter()
        .filter(|(_, histogram)| !histogram.is_empty())
        .map(|(step, histogram)| (*step, StepSummary::of(histogram)))
        .collect()
}

/// `count ÷ duration_s`, or 0 without a duration.
fn rate(count: u64, duration_s: f64) -> f64 {
    if duration_s > 0.0 && duration_s.is_finite() {
        count as f64 / duration_s
    } else {
        0.0
    }
}

fn p99_ms(histogram: &Histogram<u64>) -> Option<f64> {
    (!histogram.is_empty()).then(|| histogram.value_at_quantile(0.99) as f64 / 1_000.0)
}

fn timeline_json(timeline: &[Second]) -> Vec<SecondJson> {
    timeline
        .iter()
        .zip(0u64..)
        .map(|(s, second)| SecondJson {
            second,
            bookings: s.bookings,
            holds: s.holds,
            errors: s.errors,
            p99_ms: p99_ms(&s.latency),
        })
        .collect()
}

fn throughput(bookings_per_s: f64, timeline: &[Second]) -> Throughput {
    let peak = timeline
        .iter()
        .zip(0u64..)
        .filter(|(s, _)| s.bookings > 0)
        .fold(None, |best: Option<(u64, u64)>, (s, second)| match best {
            Some((most, _)) if most >= s.bookings => best,
            _ => Some((s.bookings, second)),
        });
    Throughput {
        bookings_per_s,
        peak_bookings_per_s: peak.map_or(0, |(most, _)| most),
        peak_second: peak.map(|(_, second)| second),
    }
}

fn baseline_json(baseline: &BaselineReport) -> BaselineJson {
    BaselineJson {
        name: baseline.name.clone(),
        duration_s: baseline.duration_s,
        counters: baseline.recorder.counters.clone(),
        steps: step_summaries(&baseline.recorder),
        bookings_per_s: rate(baseline.recorder.counters.bookings, baseline.duration_s),
    }
}

/// `numerator ÷ denominator` when both are positive.
fn ratio(numerator: f64, denominator: f64) -> Option<f64> {
    (numerator > 0.0 && denominator > 0.0).then(|| numerator / denominator)
}

fn ratios(
    steps: &BTreeMap<Step, StepSummary>,
    bookings_per_s: f64,
    baseline: &BaselineJson,
) -> Ratios {
    let p99 = |steps: &BTreeMap<Step, StepSummary>, step| steps.get(&step).map(|s| s.p99_ms);
    let latency = |step| ratio(p99(&baseline.steps, step)?, p99(steps, step)?);
    Ratios {
        bookings_per_s: ratio(bookings_per_s, baseline.bookings_per_s),
        hold_p99: latency(Step::Hold),
        confirm_p99: latency(Step::Confirm),
        end_to_end_p99: latency(Step::EndToEnd),
    }
}

// ---------------------------------------------------------------------------------------------
// report.md and the terminal summary

/// `report.md`, for an operator.
pub fn markdown(json: &ReportJson) -> String {
    [
        md_title(json),
        md_parameters(&json.parameters),
        md_summary(json),
        md_latency(&json.steps),
        md_errors(&json.errors),
        md_audit(json.audit.as_ref()),
        md_contention(json.contention.as_ref()),
        md_baseline(json),
        md_failover(json.failover.as_ref()),
        md_cpu(json.cpu.as_ref()),
        "## Chart\n\n![throughput and p99](chart.svg)\n".to_owned(),
    ]
    .into_iter()
    .filter(|section| !section.is_empty())
    .collect::<Vec<_>>()
    .join("\n")
}

fn md_title(json: &ReportJson) -> String {
    let targets = json
        .targets
        .iter()
        .map(|t| format!("`{}`", t.replace('`', "")))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "# Load test: {} — {}\n\nTargets: {}\n",
        md_cell(&json.scenario),
        utc_timestamp(json.started_at_ms),
        if targets.is_empty() {
            "none".to_owned()
        } else {
            targets
        },
    )
}

fn md_parameters(parameters: &serde_json::Value) -> String {
    let body = match parameters {
        serde_json::Value::Null => "none\n".to_owned(),
        serde_json::Value::Object(map) if map.is_empty() => "none\n".to_owned(),
        serde_json::Value::Object(map) => {
            let mut rows = Vec::new();
            for (key, value) in map {
                flatten_parameter(key.clone(), value, &mut rows);
            }
            md_table(&["parameter", "value"], &rows)
        }
        other => format!(
            "```json\n{}\n```\n",
            serde_json::to_string_pretty(other).unwrap_or_default()
        ),
    };
    format!("## Parameters\n\n{body}")
}

/// One row per leaf, named by its path (`phases.0.params.clients`), so nested numbers read as a
/// table rather than as JSON; lists of plain values stay on one row.
fn flatten_parameter(path: String, value: &serde_json::Value, rows: &mut Vec<Vec<String>>) {
    use serde_json::Value;
    match value {
        Value::Object(map) if !map.is_empty() => {
            for (key, inner) in map {
                flatten_parameter(format!("{path}.{key}"), inner, rows);
            }
        }
        Value::Array(items) if items.iter().any(|v| v.is_object() || v.is_array()) => {
            for (index, inner) in items.iter().enumerate() {
                flatten_parameter(format!("{path}.{index}"), inner, rows);
            }
        }
        Value::Array(items) => {
            let joined: Vec<String> = items.iter().map(parameter_value).collect();
            rows.push(vec![path, joined.join(", ")]);
        }
        other => rows.push(vec![path, parameter_value(other)]),
    }
}

fn parameter_value(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The run's headline numbers, as (label, value).
fn summary_rows(json: &ReportJson) -> Vec<(String, String)> {
    let c = &json.counters;
    let counts = [
        ("clients", c.clients),
        ("connected", c.connected),
        ("connect failures", c.connect_failed),
        ("admitted", c.admitted),
        ("holds", c.holds),
        ("bookings", c.bookings),
        ("tickets", c.tickets),
        ("abandoned", c.abandoned),
        ("seat-taken retries", c.seat_taken_retries),
        ("reconnects", c.reconnects),
        ("cancellations", c.cancellations),
        ("sold out", c.sold_out),
    ];
    let mut rows: Vec<(String, String)> = counts
        .iter()
        .map(|(label, count)| ((*label).to_owned(), count.to_string()))
        .collect();
    rows.push(("duration".into(), format!("{:.1} s", json.duration_s)));
    rows.push((
        "bookings/s".into(),
        format!("{:.1}", json.throughput.bookings_per_s),
    ));
    rows.push((
        "peak bookings/s".into(),
        json.throughput.peak_bookings_per_s.to_string(),
    ));
    rows
}

fn md_summary(json: &ReportJson) -> String {
    let rows = summary_rows(json)
        .into_iter()
        .map(|(label, value)| vec![label, value])
        .collect::<Vec<_>>();
    format!("## Summary\n\n{}", md_table(&["", "value"], &rows))
}

fn md_latency(steps: &BTreeMap<Step, StepSummary>) -> String {
    if steps.is_empty() {
        return "## Latency\n\nno samples\n".to_owned();
    }
    let rows = steps
        .iter()
        .map(|(step, s)| {
            vec![
                step.name().to_owned(),
                s.count.to_string(),
                format_ms(s.p50_ms),
                format_ms(s.p90_ms),
                format_ms(s.p99_ms),
                format_ms(s.p999_ms),
                format_ms(s.max_ms),
            ]
        })
        .collect::<Vec<_>>();
    let header = ["step", "count", "p50", "p90", "p99", "p99.9", "max"];
    format!("## Latency (ms)\n\n{}", md_table(&header, &rows))
}

/// Error codes, most frequent first.
fn errors_by_count(errors: &BTreeMap<String, u64>) -> Vec<(&str, u64)> {
    let mut sorted: Vec<(&str, u64)> = errors.iter().map(|(c, n)| (c.as_str(), *n)).collect();
    sorted.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    sorted
}

fn md_errors(errors: &BTreeMap<String, u64>) -> String {
    if errors.is_empty() {
        return "## Errors\n\nnone\n".to_owned();
    }
    let rows = errors_by_count(errors)
        .into_iter()
        .map(|(code, count)| vec![code.to_owned(), count.to_string()])
        .collect::<Vec<_>>();
    format!("## Errors\n\n{}", md_table(&["code", "count"], &rows))
}

fn verdict(audit: Option<&AuditReport>) -> &'static str {
    match audit {
        Some(audit) if audit.passed => "PASSED",
        Some(_) => "FAILED",
        None => "not run",
    }
}

fn md_audit(audit: Option<&AuditReport>) -> String {
    let Some(report) = audit else {
        return "## Audit\n\nnot run\n".to_owned();
    };
    let rows = report
        .checks
        .iter()
        .map(|check| {
            let mark = if check.passed { "✓" } else { "✗" };
            vec![mark.to_owned(), check.name.clone(), check.detail.clone()]
        })
        .collect::<Vec<_>>();
    format!(
        "## Audit: {}\n\n{}",
        verdict(audit),
        md_table(&["", "check", "detail"], &rows)
    )
}

fn md_baseline(json: &ReportJson) -> String {
    let (Some(baseline), Some(ratios)) = (&json.baseline, &json.ratios) else {
        return String::new();
    };
    // A contention run's table compares the sides over their sell-outs; these ratios would
    // divide Picket's bookings by its whole phase, the baseline's by its own run.
    if json.contention.is_some() {
        return String::new();
    }
    let p99 = |steps: &BTreeMap<Step, StepSummary>, step| {
        steps
            .get(&step)
            .map_or("—".to_owned(), |s| format!("{} ms", format_ms(s.p99_ms)))
    };
    let latency_row = |label: &str, step, r: Option<f64>| {
        vec![
            label.to_owned(),
            p99(&json.steps, step),
            p99(&baseline.steps, step),
            format_ratio(r),
        ]
    };
    let rows = vec![
        vec![
            "bookings/s".to_owned(),
            format!("{:.1}", json.throughput.bookings_per_s),
            format!("{:.1}", baseline.bookings_per_s),
            format_ratio(ratios.bookings_per_s),
        ],
        latency_row("hold p99", Step::Hold, ratios.hold_p99),
        latency_row("confirm p99", Step::Confirm, ratios.confirm_p99),
        latency_row("end-to-end p99", Step::EndToEnd, ratios.end_to_end_p99),
    ];
    let header = ["measure", "Picket", baseline.name.as_str(), "ratio"];
    format!(
        "## Baseline: {}\n\nThe same workload as PostgreSQL row locks, {:.1} s. \
         A ratio above 1 means Picket is better.\n\n{}",
        baseline.name,
        baseline.duration_s,
        md_table(&header, &rows)
    )
}

/// The contention table: one row per measure, one column per side.
fn contention_rows(contention: &ContentionReport) -> Vec<(String, Vec<String>)> {
    let ms = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{} ms", format_ms(v)));
    let pair = |a: Option<f64>, b: Option<f64>| format!("{} / {}", ms(a), ms(b));
    let row = |label: &str, cell: &dyn Fn(&ContentionSide) -> String| {
        (
            label.to_owned(),
            contention.sides.iter().map(cell).collect(),
        )
    };
    vec![
        row("sell-out (first arrival → last seat sold)", &|s| {
            s.sell_out(contention.seats)
        }),
        row("bookings/s (bookings ÷ that time)", &|s| {
            s.bookings_per_s
                .map_or("—".to_owned(), |r| format!("{r:.0}"))
        }),
        row("bookings (tickets)", &|s| {
            format!("{} ({})", s.bookings, s.tickets)
        }),
        row("hold p50 / p99", &|s| pair(s.hold_p50_ms, s.hold_p99_ms)),
        row("end-to-end p50 / p99 (arrival → booked)", &|s| {
            pair(s.end_to_end_p50_ms, s.end_to_end_p99_ms)
        }),
        row("seat-taken retries", &|s| s.seat_taken_retries.to_string()),
        row("buyers / turned away (sold out) / failed", &|s| {
            format!("{} / {} / {}", s.buyers, s.turned_away, s.failed)
        }),
        row("audit", &|s| {
            match s.audit_passed {
                Some(true) => "passed",
                Some(false) => "FAILED",
                None => "not run",
            }
            .to_owned()
        }),
    ]
}

fn md_contention(contention: Option<&ContentionReport>) -> String {
    let Some(contention) = contention else {
        return String::new();
    };
    let mut header = vec!["measure"];
    header.extend(contention.sides.iter().map(|s| s.name.as_str()));
    let rows: Vec<Vec<String>> = contention_rows(contention)
        .into_iter()
        .map(|(label, cells)| std::iter::once(label).chain(cells).collect())
        .collect();
    format!(
        "## Contention: {} seats, the same buyers and seat choices on each side in turn\n\n{}",
        contention.seats,
        md_table(&header, &rows)
    )
}

fn md_failover(failover: Option<&FailoverReport>) -> String {
    let Some(f) = failover else {
        return String::new();
    };
    let mut row = vec![
        format!("{:.1} s", f.killed_at_s),
        f.killed_pid.to_string(),
        format!("{} ms", format_ms(f.gap_ms)),
        f.unanswered.to_string(),
    ];
    let table = match f.paused_ms {
        None => md_table(&["killed at", "pid", "gap", "unanswered"], &[row]),
        Some(paused_ms) => {
            row.push(format!("{} × {paused_ms} ms", f.pauses));
            let header = ["first paused at", "pid", "gap", "unanswered", "pauses"];
            md_table(&header, &[row])
        }
    };
    format!("## Failover\n\n{table}")
}

fn md_cpu(cpu: Option<&CpuReport>) -> String {
    let Some(cpu) = cpu else {
        return String::new();
    };
    let us = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v:.0}"));
    let cores = |cpu_s: f64| match cpu.window_s {
        w if w > 0.0 => format!("{:.2}", cpu_s / w),
        _ => "—".to_owned(),
    };
    let mut rows: Vec<Vec<String>> = cpu
        .components
        .iter()
        .map(|c| {
            vec![
                c.name.clone(),
                c.processes.to_string(),
                format!("{:.2}", c.cpu_s),
                cores(c.cpu_s),
                us(c.us_per_booking),
                format!("{:.1} %", c.share * 100.0),
            ]
        })
        .collect();
    rows.push(vec![
        "**total**".into(),
        String::new(),
        format!("{:.2}", cpu.total_cpu_s),
        cores(cpu.total_cpu_s),
        us(cpu.total_us_per_booking),
        "100 %".into(),
    ]);
    rows.push(vec![
        "load generator (not in the total)".into(),
        String::new(),
        format!("{:.2}", cpu.load_generator_cpu_s),
        cores(cpu.load_generator_cpu_s),
        us(cpu.load_generator_us_per_booking),
        String::new(),
    ]);
    let header = [
        "component",
        "processes",
        "CPU s",
        "cores",
        "µs/booking",
        "share",
    ];
    let loopback = match (cpu.loopback_bytes, cpu.loopback_bytes_per_booking) {
        (Some(bytes), Some(per)) => format!(
            "\nLoopback (the whole machine's `lo`, received): {bytes} bytes, {per:.0} bytes/booking.\n"
        ),
        (Some(bytes), None) => {
            format!("\nLoopback (the whole machine's `lo`, received): {bytes} bytes.\n")
        }
        _ => String::new(),
    };
    format!(
        "## Server CPU per booking\n\n{} bookings in {:.1} s of measured windows; CPU from \
         `/proc/<pid>/stat` of each component's processes and their descendants.\n\n{}{loopback}",
        cpu.bookings,
        cpu.window_s,
        md_table(&header, &rows)
    )
}

/// A Markdown table; cells are escaped.
fn md_table(header: &[&str], rows: &[Vec<String>]) -> String {
    let line = |cells: Vec<String>| format!("| {} |\n", cells.join(" | "));
    let mut table = line(header.iter().map(|h| md_cell(h)).collect());
    table.push_str(&line(header.iter().map(|_| "---".to_owned()).collect()));
    for row in rows {
        table.push_str(&line(row.iter().map(|c| md_cell(c)).collect()));
    }
    table
}

fn md_cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace('<', "&lt;")
        .replace(['\n', '\r'], " ")
}

/// A plain-text summary for the terminal at the end of a run.
pub fn summary_table(report: &RunReport) -> String {
    let json = to_json(report);
    let mut rows = summary_rows(&json);
    rows.extend(json.steps.iter().map(|(step, s)| {
        let value = format!("{} ms (n={})", format_ms(s.p99_ms), s.count);
        (format!("p99 {}", step.name()), value)
    }));
    if let (Some(baseline), Some(ratios), None) = (&json.baseline, &json.ratios, &json.contention) {
        rows.push((format!("vs {}", baseline.name), ratio_line(ratios)));
    }
    if let Some(contention) = &json.contention {
        let names: Vec<&str> = contention.sides.iter().map(|s| s.name.as_str()).collect();
        rows.push(("contention".to_owned(), names.join(" | ")));
        for (label, cells) in contention_rows(contention) {
            rows.push((format!("  {label}"), cells.join(" | ")));
        }
    }
    if let Some(f) = &json.failover {
        let gap = format!("{} ms, {} unanswered", format_ms(f.gap_ms), f.unanswered);
        rows.push(("failover gap".to_owned(), gap));
    }
    if let Some(cpu) = &json.cpu {
        rows.extend(cpu_rows(cpu));
    }
    rows.push(("audit".to_owned(), verdict(json.audit.as_ref()).to_owned()));
    let width = rows.iter().map(|(label, _)| label.chars().count()).max();
    let heading = format!(
        "{} — {}\n",
        json.scenario,
        utc_timestamp(json.started_at_ms)
    );
    rows.iter().fold(heading, |mut text, (label, value)| {
        let width = width.unwrap_or(0);
        text.push_str(&format!("  {label:<width$}  {value}\n"));
        text
    })
}

/// The terminal's server CPU rows: the total per booking, each component, the loopback.
fn cpu_rows(cpu: &CpuReport) -> Vec<(String, String)> {
    let us = |v: Option<f64>| v.map_or("— µs".to_owned(), |v| format!("{v:.0} µs"));
    let mut rows = vec![(
        "server CPU/booking".to_owned(),
        format!(
            "{} ({:.2} CPU s, {} bookings)",
            us(cpu.total_us_per_booking),
            cpu.total_cpu_s,
            cpu.bookings
        ),
    )];
    rows.extend(cpu.components.iter().map(|c| {
        let value = format!("{} ({:.1} %)", us(c.us_per_booking), c.share * 100.0);
        (format!("  {}", c.name), value)
    }));
    rows.push((
        "load generator CPU/booking".to_owned(),
        us(cpu.load_generator_us_per_booking),
    ));
    if let Some(per) = cpu.loopback_bytes_per_booking {
        rows.push(("loopback bytes/booking".to_owned(), format!("{per:.0}")));
    }
    rows
}

fn ratio_line(ratios: &Ratios) -> String {
    format!(
        "bookings/s {}, hold p99 {}, confirm p99 {}, end-to-end p99 {}",
        format_ratio(ratios.bookings_per_s),
        format_ratio(ratios.hold_p99),
        format_ratio(ratios.confirm_p99),
        format_ratio(ratios.end_to_end_p99),
    )
}

/// Milliseconds with about three significant digits.
fn format_ms(ms: f64) -> String {
    let decimals = match ms.abs() {
        m if m < 1.0 => 3,
        m if m < 10.0 => 2,
        m if m < 100.0 => 1,
        _ => 0,
    };
    format!("{ms:.decimals$}")
}

fn format_ratio(ratio: Option<f64>) -> String {
    ratio.map_or("—".to_owned(), |r| format!("{r:.2}×"))
}

/// `YYYY-MM-DD HH:MM:SS UTC` for ms since the Unix epoch.
fn utc_timestamp(ms: u64) -> String {
    let seconds = ms / 1_000;
    let (year, month, day) = civil_from_days((seconds / 86_400) as i64);
    let of_day = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} UTC",
        of_day / 3_600,
        of_day % 3_600 / 60,
        of_day % 60
    )
}

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let shifted_month = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * shifted_month + 2) / 5 + 1;
    let month = if shifted_month < 10 {
        shifted_month + 3
    } else {
        shifted_month - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month as u32, day as u32)
}

// ---------------------------------------------------------------------------------------------
// chart.svg

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 440.0;
const PLOT_LEFT: f64 = 72.0;
const PLOT_RIGHT: f64 = WIDTH - 72.0;
const PLOT_TOP: f64 = 72.0;
const PLOT_BOTTOM: f64 = HEIGHT - 56.0;
const BAR_COLOUR: &str = "#4e79a7";
const P99_COLOUR: &str = "#e15759";
const MARKER_COLOUR: &str = "#333333";

/// `chart.svg`: bookings per second (bars, left axis) and booking-command p99 (line, right
/// axis) over the run, with a marker where a leader was killed.
pub fn chart_svg(report: &RunReport) -> String {
    chart_svg_with(report, CHART_POINTS_MAX)
}

fn chart_svg_with(report: &RunReport, max_points: usize) -> String {
    let title = format!("{}: bookings per second and booking p99", report.scenario);
    let timeline = &report.recorder.timeline;
    let body = if timeline.is_empty() {
        svg_no_samples()
    } else {
        let points = chart_points(timeline, max_points);
        svg_plot(&points, timeline.len(), report.failover.as_ref())
    };
    svg_document(&title, &body)
}

/// A bucket of consecutive seconds of the run.
struct ChartPoint {
    start_s: usize,
    seconds: usize,
    /// Bookings per second, averaged over the bucket.
    bookings_per_s: f64,
    /// Booking-command p99 over the bucket.
    p99_ms: Option<f64>,
}

/// The timeline in at most `max_points` buckets of equal length (the last may be shorter).
fn chart_points(timeline: &[Second], max_points: usize) -> Vec<ChartPoint> {
    let size = timeline.len().div_ceil(max_points.max(1)).max(1);
    timeline
        .chunks(size)
        .enumerate()
        .map(|(index, chunk)| ChartPoint {
            start_s: index * size,
            seconds: chunk.len(),
            bookings_per_s: chunk.iter().map(|s| s.bookings).sum::<u64>() as f64
                / chunk.len() as f64,
            p99_ms: merged_p99_ms(chunk),
        })
        .collect()
}

fn merged_p99_ms(seconds: &[Second]) -> Option<f64> {
    let mut sampled = seconds.iter().map(|s| &s.latency).filter(|h| !h.is_empty());
    let first = sampled.next()?;
    let mut merged: Option<Histogram<u64>> = None;
    for histogram in sampled {
        let merged = merged.get_or_insert_with(|| {
            let mut copy = first.clone();
            copy.auto(true);
            copy
        });
        merged.add(histogram).ok()?;
    }
    p99_ms(merged.as_ref().unwrap_or(first))
}

/// Maps run seconds and values to the plot area.
struct Plot {
    x_max: f64,
    left_max: f64,
    right_max: f64,
}

impl Plot {
    fn x(&self, seconds: f64) -> f64 {
        PLOT_LEFT + seconds / self.x_max * (PLOT_RIGHT - PLOT_LEFT)
    }

    fn y(value: f64, max: f64) -> f64 {
        PLOT_BOTTOM - value / max * (PLOT_BOTTOM - PLOT_TOP)
    }

    fn y_left(&self, value: f64) -> f64 {
        Plot::y(value, self.left_max)
    }

    fn y_right(&self, value: f64) -> f64 {
        Plot::y(value, self.right_max)
    }
}

fn svg_plot(points: &[ChartPoint], seconds: usize, failover: Option<&FailoverReport>) -> String {
    let killed_at = failover
        .map(|f| f.killed_at_s)
        .filter(|s| s.is_finite() && *s >= 0.0);
    let what = match failover.and_then(|f| f.paused_ms) {
        None => "killed",
        Some(_) => "first paused",
    };
    let x_max = killed_at
        .map_or(seconds as f64, |k| k.max(seconds as f64))
        .max(1.0);
    let left = nice_ticks(points.iter().map(|p| p.bookings_per_s).fold(0.0, f64::max));
    let right = nice_ticks(points.iter().filter_map(|p| p.p99_ms).fold(0.0, f64::max));
    let plot = Plot {
        x_max,
        left_max: left.last().copied().unwrap_or(1.0),
        right_max: right.last().copied().unwrap_or(1.0),
    };
    [
        svg_legend(killed_at.is_some()),
        svg_grid_and_left_axis(&plot, &left),
        svg_right_axis(&plot, &right),
        svg_x_axis(&plot),
        svg_bars(&plot, points),
        svg_p99_line(&plot, points),
        killed_at.map_or_else(String::new, |k| svg_failover_marker(&plot, k, what)),
    ]
    .concat()
}

fn svg_legend(with_failover: bool) -> String {
    let y = 52.0;
    let mut legend = format!(
        "<g class=\"legend\">\n\
         <rect x=\"{PLOT_LEFT}\" y=\"{}\" width=\"14\" height=\"10\" fill=\"{BAR_COLOUR}\"/>\n\
         <text x=\"{}\" y=\"{}\">bookings/s (left axis)</text>\n\
         <line x1=\"280\" y1=\"{}\" x2=\"300\" y2=\"{}\" stroke=\"{P99_COLOUR}\" stroke-width=\"2\"/>\n\
         <text x=\"306\" y=\"{}\">booking p99, ms (right axis)</text>\n",
        y - 9.0,
        PLOT_LEFT + 20.0,
        y,
        y - 4.0,
        y - 4.0,
        y,
    );
    if with_failover {
        legend.push_str(&format!(
            "<line x1=\"520\" y1=\"{}\" x2=\"540\" y2=\"{}\" stroke=\"{MARKER_COLOUR}\" \
             stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n\
             <text x=\"546\" y=\"{y}\">leader killed</text>\n",
            y - 4.0,
            y - 4.0,
        ));
    }
    legend.push_str("</g>\n");
    legend
}

fn svg_grid_and_left_axis(plot: &Plot, ticks: &[f64]) -> String {
    let step = tick_step(ticks);
    let mut axis = String::from("<g class=\"axis-left\" font-size=\"11\">\n");
    for tick in ticks {
        let y = plot.y_left(*tick);
        axis.push_str(&format!(
            "<line x1=\"{PLOT_LEFT}\" y1=\"{y:.1}\" x2=\"{PLOT_RIGHT}\" y2=\"{y:.1}\" \
             stroke=\"#e0e0e0\"/>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n",
            PLOT_LEFT - 6.0,
            y + 4.0,
            tick_label(*tick, step),
        ));
    }
    axis.push_str(&format!(
        "<line x1=\"{PLOT_LEFT}\" y1=\"{PLOT_TOP}\" x2=\"{PLOT_LEFT}\" y2=\"{PLOT_BOTTOM}\" \
         stroke=\"#000000\"/>\n\
         <text transform=\"translate(18 {:.1}) rotate(-90)\" text-anchor=\"middle\" \
         fill=\"{BAR_COLOUR}\">bookings/s</text>\n</g>\n",
        (PLOT_TOP + PLOT_BOTTOM) / 2.0,
    ));
    axis
}

fn svg_right_axis(plot: &Plot, ticks: &[f64]) -> String {
    let step = tick_step(ticks);
    let mut axis = String::from("<g class=\"axis-right\" font-size=\"11\">\n");
    for tick in ticks {
        axis.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"{P99_COLOUR}\">{}</text>\n",
            PLOT_RIGHT + 6.0,
            plot.y_right(*tick) + 4.0,
            tick_label(*tick, step),
        ));
    }
    axis.push_str(&format!(
        "<line x1=\"{PLOT_RIGHT}\" y1=\"{PLOT_TOP}\" x2=\"{PLOT_RIGHT}\" y2=\"{PLOT_BOTTOM}\" \
         stroke=\"#000000\"/>\n\
         <text transform=\"translate({:.1} {:.1}) rotate(90)\" text-anchor=\"middle\" \
         fill=\"{P99_COLOUR}\">booking p99 (ms)</text>\n</g>\n",
        WIDTH - 18.0,
        (PLOT_TOP + PLOT_BOTTOM) / 2.0,
    ));
    axis
}

fn svg_x_axis(plot: &Plot) -> String {
    let ticks: Vec<f64> = nice_ticks(plot.x_max)
        .into_iter()
        .filter(|t| *t <= plot.x_max + 1e-9)
        .collect();
    let step = tick_step(&ticks);
    let mut axis = format!(
        "<g class=\"axis-x\" font-size=\"11\">\n\
         <line x1=\"{PLOT_LEFT}\" y1=\"{PLOT_BOTTOM}\" x2=\"{PLOT_RIGHT}\" y2=\"{PLOT_BOTTOM}\" \
         stroke=\"#000000\"/>\n"
    );
    for tick in &ticks {
        let x = plot.x(*tick);
        axis.push_str(&format!(
            "<line x1=\"{x:.1}\" y1=\"{PLOT_BOTTOM}\" x2=\"{x:.1}\" y2=\"{:.1}\" \
             stroke=\"#000000\"/>\n\
             <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\n",
            PLOT_BOTTOM + 5.0,
            PLOT_BOTTOM + 18.0,
            tick_label(*tick, step),
        ));
    }
    axis.push_str(&format!(
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">seconds into the run</text>\n</g>\n",
        (PLOT_LEFT + PLOT_RIGHT) / 2.0,
        HEIGHT - 14.0,
    ));
    axis
}

fn svg_bars(plot: &Plot, points: &[ChartPoint]) -> String {
    let mut bars = format!("<g class=\"bookings\" fill=\"{BAR_COLOUR}\">\n");
    for point in points.iter().filter(|p| p.bookings_per_s > 0.0) {
        let x = plot.x(point.start_s as f64);
        let full = plot.x((point.start_s + point.seconds) as f64) - x;
        let width = if full > 3.0 { full - 1.0 } else { full };
        let y = plot.y_left(point.bookings_per_s);
        bars.push_str(&format!(
            "<rect x=\"{x:.2}\" y=\"{y:.2}\" width=\"{width:.2}\" height=\"{:.2}\" \
             data-start-s=\"{}\" data-seconds=\"{}\" data-bookings-per-s=\"{}\"/>\n",
            PLOT_BOTTOM - y,
            point.start_s,
            point.seconds,
            point.bookings_per_s,
        ));
    }
    bars.push_str("</g>\n");
    bars
}

/// The p99 line: one vertex per bucket with samples, broken where a bucket has none. Each
/// segment ends in `h 0`, so a lone vertex still shows as a dot (round line caps).
fn svg_p99_line(plot: &Plot, points: &[ChartPoint]) -> String {
    let segments = points
        .split(|p| p.p99_ms.is_none())
        .filter(|segment| !segment.is_empty())
        .map(|segment| p99_segment(plot, segment))
        .collect::<Vec<_>>();
    if segments.is_empty() {
        return String::new();
    }
    format!(
        "<path class=\"p99\" d=\"{}\" fill=\"none\" stroke=\"{P99_COLOUR}\" \
         stroke-width=\"1.5\" stroke-linecap=\"round\" stroke-linejoin=\"round\"/>\n",
        segments.join(" ")
    )
}

fn p99_segment(plot: &Plot, segment: &[ChartPoint]) -> String {
    let vertices = segment
        .iter()
        .zip(["M"].into_iter().chain(std::iter::repeat("L")))
        .map(|(point, command)| {
            let x = plot.x(point.start_s as f64 + point.seconds as f64 / 2.0);
            let y = plot.y_right(point.p99_ms.unwrap_or(0.0));
            format!("{command} {x:.2} {y:.2}")
        })
        .collect::<Vec<_>>();
    format!("{} h 0", vertices.join(" "))
}

/// The dashed line at the leader's kill or first pause (`what`).
fn svg_failover_marker(plot: &Plot, killed_at_s: f64, what: &str) -> String {
    let x = plot.x(killed_at_s);
    format!(
        "<g class=\"failover\">\n\
         <line x1=\"{x:.2}\" y1=\"{PLOT_TOP}\" x2=\"{x:.2}\" y2=\"{PLOT_BOTTOM}\" \
         stroke=\"{MARKER_COLOUR}\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/>\n\
         <text x=\"{:.2}\" y=\"{:.1}\" font-size=\"11\">leader {what} at {killed_at_s:.1} s</text>\n\
         </g>\n",
        x + 4.0,
        PLOT_TOP + 12.0,
    )
}

fn svg_no_samples() -> String {
    format!(
        "<text class=\"empty\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\" \
         font-size=\"14\">no samples</text>\n",
        WIDTH / 2.0,
        HEIGHT / 2.0,
    )
}

fn svg_document(title: &str, body: &str) -> String {
    let title = xml_escape(title);
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
         <svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" \
         viewBox=\"0 0 {WIDTH} {HEIGHT}\" font-family=\"sans-serif\" font-size=\"12\">\n\
         <title>{title}</title>\n\
         <rect width=\"{WIDTH}\" height=\"{HEIGHT}\" fill=\"#ffffff\"/>\n\
         <text class=\"title\" x=\"{:.1}\" y=\"28\" text-anchor=\"middle\" font-size=\"16\" \
         font-weight=\"bold\">{title}</text>\n\
         {body}</svg>\n",
        WIDTH / 2.0,
    )
}

/// About five round ticks from 0 to at least `max` (1 when `max` is not positive).
fn nice_ticks(max: f64) -> Vec<f64> {
    let max = if max > 0.0 && max.is_finite() {
        max
    } else {
        1.0
    };
    let rough = max / 5.0;
    let magnitude = 10f64.powf(rough.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|step| *step >= rough)
        .unwrap_or(10.0 * magnitude);
    let count = (max / step - 1e-9).ceil().max(1.0) as usize;
    (0..=count).map(|i| i as f64 * step).collect()
}

fn tick_step(ticks: &[f64]) -> f64 {
    match ticks {
        [first, second, ..] => second - first,
        _ => 1.0,
    }
}

fn tick_label(value: f64, step: f64) -> String {
    let decimals = if step >= 1.0 {
        0
    } else {
        (-step.log10()).ceil() as usize
    };
    format!("{value:.decimals$}")
}

fn xml_escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&apos;"),
            c if c.is_control() && !matches!(c, '\n' | '\t') => escaped.push('\u{FFFD}'),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000;

    /// The `q` quantile of `samples` by nearest rank, as HdrHistogram defines it.
    fn nearest_rank_ms(samples: &[u64], q: f64) -> f64 {
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let rank = ((q * sorted.len() as f64).ceil() as usize).max(1);
        sorted[rank - 1] as f64 / MS as f64
    }

    /// Within HdrHistogram's three significant digits (the step histograms).
    fn assert_close(actual: f64, expected: f64) {
        let tolerance = expected.abs() * 0.002 + 1e-9;
        assert!(
            (actual - expected).abs() <= tolerance,
            "{actual} is not {expected}"
        );
    }

    /// Within two significant digits: the per-second histograms are coarser
    /// (`recorder::SECOND_LATENCY_US_MAX`), so a timeline's p99 is good to 1 %.
    fn assert_close_per_second(actual: f64, expected: f64) {
        let tolerance = expected.abs() * 0.01 + 1e-9;
        assert!(
            (actual - expected).abs() <= tolerance,
            "{actual} is not {expected} within 1 %"
        );
    }

    fn report(scenario: &str, recorder: Recorder, duration_s: f64) -> RunReport {
        RunReport {
            scenario: scenario.to_owned(),
            targets: vec!["ws://127.0.0.1:8080/ws".to_owned()],
            // 2023-11-14 22:13:20 UTC.
            started_at_ms: 1_700_000_000_000,
            duration_s,
            parameters: serde_json::json!({"clients": 20, "ramp": "2s"}),
            recorder,
            audit: None,
            baseline: None,
            failover: None,
            cpu: None,
            contention: None,
        }
    }

    /// Four seconds: hold and confirm samples in seconds 0, 1 and 3, only errors in second 2.
    struct Fixture {
        recorder: Recorder,
        holds_us: Vec<u64>,
        second_samples_us: [Vec<u64>; 4],
        confirms_per_second: [u64; 4],
    }

    fn fixture() -> Fixture {
        let mut f = Fixture {
            recorder: Recorder::default(),
            holds_us: Vec::new(),
            second_samples_us: Default::default(),
            confirms_per_second: [4, 6, 0, 2],
        };
        let holds: [(u64, Vec<u64>); 2] = [
            (0, (1..=100).map(|ms| ms * MS).collect()),
            (1, vec![20 * MS; 50]),
        ];
        for (second, latencies) in holds {
            for latency in latencies {
                f.recorder.latency(Step::Hold, latency, second);
                f.holds_us.push(latency);
                f.second_samples_us[second as usize].push(latency);
            }
        }
        let confirm_us = [30 * MS, 30 * MS, 0, 50 * MS];
        for (second, latency) in confirm_us.into_iter().enumerate() {
            for _ in 0..f.confirms_per_second[second] {
                f.recorder.latency(Step::Confirm, latency, second as u64);
                f.second_samples_us[second].push(latency);
            }
        }
        for _ in 0..10 {
            f.recorder.latency(Step::Connect, 5 * MS, 0);
        }
        for _ in 0..3 {
            f.recorder.error("seat_taken", 1);
        }
        f.recorder.error("sold_out", 2);
        f.recorder.counters = Counters {
            clients: 20,
            connected: 19,
            connect_failed: 1,
            joined: 19,
            admitted: 19,
            holds: 150,
            bookings: 12,
            tickets: 24,
            abandoned: 2,
            seat_taken_retries: 3,
            reconnects: 1,
            cancellations: 0,
            sold_out: 1,
        };
        f
    }

    fn read_json(files: &ReportFiles) -> ReportJson {
        let text = std::fs::read_to_string(&files.json).expect("report.json");
        serde_json::from_str(&text).expect("report.json parses back")
    }

    fn svg_text(files: &ReportFiles) -> String {
        std::fs::read_to_string(&files.svg).expect("chart.svg")
    }

    fn elements_of_class<'a>(
        doc: &'a roxmltree::Document<'a>,
        name: &str,
        class: &str,
    ) -> Vec<roxmltree::Node<'a, 'a>> {
        doc.descendants()
            .filter(|n| n.has_tag_name(name))
            .filter(|n| {
                n.attribute("class") == Some(class)
                    || n.parent_element().and_then(|p| p.attribute("class")) == Some(class)
            })
            .collect()
    }

    fn bars<'a>(doc: &'a roxmltree::Document<'a>) -> Vec<roxmltree::Node<'a, 'a>> {
        elements_of_class(doc, "rect", "bookings")
    }

    fn number(node: &roxmltree::Node, attribute: &str) -> f64 {
        node.attribute(attribute)
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{attribute} of {node:?}"))
    }

    /// Vertices of the p99 path: its `M` and `L` commands.
    fn p99_vertices(doc: &roxmltree::Document) -> Vec<(f64, f64)> {
        let Some(path) = elements_of_class(doc, "path", "p99").into_iter().next() else {
            return Vec::new();
        };
        let d: Vec<&str> = path.attribute("d").expect("d").split(' ').collect();
        d.iter()
            .enumerate()
            .filter(|(_, token)| matches!(**token, "M" | "L"))
            .map(|(i, _)| (d[i + 1].parse().unwrap(), d[i + 2].parse().unwrap()))
            .collect()
    }

    #[test]
    fn report_json_holds_the_runs_figures() {
        let f = fixture();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("nested/out");
        let files = write(&out, &report("stampede", f.recorder.clone(), 4.0)).unwrap();
        assert_eq!(files.json, out.join("report.json"));
        let json = read_json(&files);

        assert_eq!(json.scenario, "stampede");
        assert_eq!(json.counters.bookings, 12);
        assert_eq!(json.throughput.bookings_per_s, 12.0 / 4.0);
        assert_eq!(json.throughput.peak_bookings_per_s, 6);
        assert_eq!(json.throughput.peak_second, Some(1));
        let steps: Vec<Step> = json.steps.keys().copied().collect();
        assert_eq!(steps, [Step::Connect, Step::Hold, Step::Confirm]);
        let hold = &json.steps[&Step::Hold];
        assert_eq!(hold.count, f.holds_us.len() as u64);
        assert_close(hold.p99_ms, nearest_rank_ms(&f.holds_us, 0.99));
        assert_close(hold.p50_ms, nearest_rank_ms(&f.holds_us, 0.50));
        assert_eq!(json.errors["seat_taken"], 3);
        assert_eq!(json.errors["sold_out"], 1);
        assert!(json.baseline.is_none() && json.ratios.is_none());

        assert_eq!(json.timeline.len(), 4);
        for (second, entry) in json.timeline.iter().enumerate() {
            assert_eq!(entry.second, second as u64);
            assert_eq!(entry.bookings, f.confirms_per_second[second]);
            let samples = &f.second_samples_us[second];
            match entry.p99_ms {
                Some(p99) => assert_close_per_second(p99, nearest_rank_ms(samples, 0.99)),
                None => assert!(samples.is_empty(), "second {second} has samples"),
            }
        }
        assert_eq!(json.timeline[2].errors, 1);
        assert_eq!(json.timeline[2].p99_ms, None);
    }

    #[test]
    fn report_json_names_steps_in_snake_case() {
        let mut recorder = Recorder::default();
        recorder.latency(Step::EndToEnd, 80 * MS, 0);
        recorder.latency(Step::Admitted, 900 * MS, 0);
        let json = serde_json::to_value(to_json(&report("steady", recorder, 1.0))).unwrap();
        let steps = json["steps"].as_object().unwrap();
        let names: Vec<&str> = steps.keys().map(String::as_str).collect();
        assert_eq!(names, ["admitted", "end_to_end"]);
        assert_eq!(json["steps"]["end_to_end"]["count"], 1);
        assert_eq!(json["timeline"][0]["p99_ms"], serde_json::Value::Null);
    }

    fn audit(passed: bool) -> AuditReport {
        AuditReport {
            passed,
            checks: vec![
                AuditCheck {
                    name: "no seat sold twice".into(),
                    passed: true,
                    detail: "500 seats, 0 doubles".into(),
                },
                AuditCheck {
                    name: "confirmed bookings in the ledger".into(),
                    passed,
                    detail: "2 confirmations | missing".into(),
                },
            ],
        }
    }

    /// Picket: 100 holds at 10 ms, 30 confirms at 20 ms in 3 s; the baseline: 100 holds at
    /// 40 ms, 20 bookings in 4 s, no confirm samples.
    fn compared_report() -> RunReport {
        let mut picket = Recorder::default();
        for i in 0..100 {
            picket.latency(Step::Hold, 10 * MS, i % 3);
        }
        for i in 0..30 {
            picket.latency(Step::Confirm, 20 * MS, i % 3);
        }
        picket.counters.bookings = 30;
        let mut baseline = Recorder::default();
        for _ in 0..100 {
            baseline.latency(Step::Hold, 40 * MS, 0);
        }
        baseline.counters.bookings = 20;
        let mut run = report("failover", picket, 3.0);
        run.audit = Some(audit(false));
        run.baseline = Some(BaselineReport {
            name: "pg-row-lock".into(),
            duration_s: 4.0,
            recorder: baseline,
        });
        run.failover = Some(FailoverReport {
            killed_at_s: 1.5,
            killed_pid: 4242,
            gap_ms: 850.0,
            unanswered: 3,
            paused_ms: None,
            pauses: 0,
        });
        run
    }

    #[test]
    fn a_contention_side_is_measured_from_its_first_arrival_to_its_last_booking() {
        let mut recorder = Recorder::default();
        recorder.span.arrived(10_000);
        recorder.span.booked(12_000);
        recorder.span.booked(14_000);
        for ms in [2, 4, 300] {
            recorder.latency(Step::Hold, ms * MS, 0);
        }
        recorder.counters = Counters {
            clients: 1_000,
            bookings: 100,
            tickets: 200,
            sold_out: 880,
            seat_taken_retries: 55,
            ..Counters::default()
        };
        let side = ContentionSide::of("picket", &recorder, 200, Some(true));
        assert!(side.sold_out);
        assert_eq!(side.last_booking_s, Some(4.0));
        assert_eq!(side.bookings_per_s, Some(25.0));
        assert_eq!((side.turned_away, side.failed), (880, 20));
        assert_close(side.hold_p99_ms.expect("holds"), 300.0);
        assert_eq!(side.end_to_end_p99_ms, None);
        let short = ContentionSide::of("pg-row-lock", &recorder, 400, None);
        assert!(!short.sold_out);
        let contention = ContentionReport {
            seats: 400,
            sides: vec![side, short],
        };
        let md = md_contention(Some(&contention));
        assert!(md.contains("| picket | pg-row-lock |"), "{md}");
        assert!(md.contains("4.00 s"), "{md}");
        assert!(md.contains("not sold out (200 of 400 seats"), "{md}");
        assert!(md.contains("| audit | passed | not run |"), "{md}");
    }

    #[test]
    fn ratios_compare_picket_with_the_baseline() {
        let dir = tempfile::tempdir().unwrap();
        let files = write(dir.path(), &compared_report()).unwrap();
        let json = read_json(&files);
        let baseline = json.baseline.as_ref().expect("baseline");
        assert_eq!(baseline.name, "pg-row-lock");
        assert_eq!(baseline.bookings_per_s, 20.0 / 4.0);
        assert_eq!(baseline.steps[&Step::Hold].count, 100);
        let ratios = json.ratios.expect("ratios");
        assert_close(ratios.bookings_per_s.unwrap(), (30.0 / 3.0) / (20.0 / 4.0));
        assert_close(ratios.hold_p99.unwrap(), 40.0 / 10.0);
        assert_eq!(
            ratios.confirm_p99, None,
            "the baseline has no confirm samples"
        );
        assert_eq!(
            ratios.end_to_end_p99, None,
            "neither side has end-to-end samples"
        );
        assert_eq!(json.audit, Some(audit(false)));
        assert_eq!(json.failover.map(|f| f.killed_pid), Some(4242));
    }

    #[test]
    fn nested_parameters_are_rows_named_by_their_path() {
        let parameters = serde_json::json!({
            "phases": [{"preset": "stampede", "params": {"clients": 300,
                "inventory": {"grades": [["VIP", 160000, 20]], "seats": 2000}}}],
            "workers": 2,
        });
        let md = md_parameters(&parameters);
        for row in [
            "| phases.0.preset | stampede |",
            "| phases.0.params.clients | 300 |",
            "| phases.0.params.inventory.grades.0 | VIP, 160000, 20 |",
            "| phases.0.params.inventory.seats | 2000 |",
            "| workers | 2 |",
        ] {
            assert!(md.contains(row), "{row} missing from:\n{md}");
        }
    }

    #[test]
    fn a_paused_leader_is_reported_as_paused() {
        let mut report = compared_report();
        if let Some(failover) = report.failover.as_mut() {
            failover.paused_ms = Some(3_000);
            failover.pauses = 4;
        }
        let dir = tempfile::tempdir().unwrap();
        let files = write(dir.path(), &report).unwrap();
        let md = std::fs::read_to_string(&files.markdown).unwrap();
        assert!(
            md.contains("| first paused at | pid | gap | unanswered | pauses |"),
            "{md}"
        );
        assert!(md.contains("| 4 × 3000 ms |"), "{md}");
        let json: ReportJson =
            serde_json::from_str(&std::fs::read_to_string(&files.json).unwrap()).unwrap();
        assert_eq!(
            json.failover.map(|f| (f.paused_ms, f.pauses)),
            Some((Some(3_000), 4))
        );
    }

    #[test]
    fn markdown_has_every_section() {
        let dir = tempfile::tempdir().unwrap();
        let files = write(dir.path(), &compared_report()).unwrap();
        let md = std::fs::read_to_string(&files.markdown).unwrap();
        for expected in [
            "# Load test: failover — 2023-11-14 22:13:20 UTC",
            "| parameter | value |",
            "| clients | 20 |",
            "| ramp | 2s |",
            "| bookings/s | 10.0 |",
            "| seat-taken retries | 0 |",
            "| step | count | p50 | p90 | p99 | p99.9 | max |",
            "| hold | 100 | 10.0 |",
            "## Errors\n\nnone",
            "## Audit: FAILED",
            "| ✓ | no seat sold twice | 500 seats, 0 doubles |",
            "| ✗ | confirmed bookings in the ledger | 2 confirmations \\| missing |",
            "## Baseline: pg-row-lock",
            "| measure | Picket | pg-row-lock | ratio |",
            "| bookings/s | 10.0 | 5.0 | 2.00× |",
            "| hold p99 | 10.0 ms | 40.0 ms | 4.00× |",
            "| confirm p99 | 20.0 ms | — | — |",
            "| killed at | pid | gap | unanswered |",
            "| 1.5 s | 4242 | 850 ms | 3 |",
            "![throughput and p99](chart.svg)",
        ] {
            assert!(md.contains(expected), "no {expected:?} in\n{md}");
        }
        assert!(!md.contains("## Server CPU"), "only with server pids");
    }

    fn cpu_report() -> CpuReport {
        use crate::cpu::ComponentCpu;
        let component = |name: &str, cpu_s: f64, share: f64| ComponentCpu {
            name: name.to_owned(),
            processes: 2,
            cpu_s,
            us_per_booking: Some(cpu_s * 1e6 / 1_000.0),
            share,
        };
        CpuReport {
            window_s: 10.0,
            bookings: 1_000,
            ticks_per_s: 100,
            components: vec![
                component("gateway", 0.6, 0.75),
                component("postgres", 0.2, 0.25),
            ],
            total_cpu_s: 0.8,
            total_us_per_booking: Some(800.0),
            load_generator_cpu_s: 0.5,
            load_generator_us_per_booking: Some(500.0),
            loopback_bytes: Some(2_500_000),
            loopback_bytes_per_booking: Some(2_500.0),
        }
    }

    #[test]
    fn server_cpu_is_in_the_json_the_markdown_and_the_terminal() {
        let mut run = report("steady", fixture().recorder, 4.0);
        run.cpu = Some(cpu_report());
        let dir = tempfile::tempdir().unwrap();
        let files = write(dir.path(), &run).unwrap();
        assert_eq!(read_json(&files).cpu, Some(cpu_report()));
        let md = std::fs::read_to_string(&files.markdown).unwrap();
        for expected in [
            "## Server CPU per booking\n\n1000 bookings in 10.0 s",
            "| component | processes | CPU s | cores | µs/booking | share |",
            "| gateway | 2 | 0.60 | 0.06 | 600 | 75.0 % |",
            "| postgres | 2 | 0.20 | 0.02 | 200 | 25.0 % |",
            "| **total** |  | 0.80 | 0.08 | 800 | 100 % |",
            "| load generator (not in the total) |  | 0.50 | 0.05 | 500 |  |",
            "2500000 bytes, 2500 bytes/booking",
        ] {
            assert!(md.contains(expected), "no {expected:?} in\n{md}");
        }
        let table = summary_table(&run);
        for expected in [
            "server CPU/booking          800 µs (0.80 CPU s, 1000 bookings)",
            "  gateway                   600 µs (75.0 %)",
            "loopback bytes/booking      2500",
        ] {
            assert!(table.contains(expected), "no {expected:?} in\n{table}");
        }
    }

    #[test]
    fn markdown_sorts_errors_and_passes_audits() {
        let mut f = fixture();
        f.recorder.error("gateway_timeout", 0);
        let mut run = report("stampede", f.recorder, 4.0);
        run.audit = Some(audit(true));
        let md = markdown(&to_json(&run));
        let seat_taken = md.find("| seat_taken | 3 |").expect("seat_taken row");
        let sold_out = md.find("| sold_out | 1 |").expect("sold_out row");
        let timeout = md.find("| gateway_timeout | 1 |").expect("timeout row");
        assert!(seat_taken < timeout && timeout < sold_out, "{md}");
        assert!(md.contains("## Audit: PASSED"), "{md}");
        assert!(
            !md.contains("## Baseline") && !md.contains("## Failover"),
            "{md}"
        );
    }

    #[test]
    fn summary_table_has_the_numbers_and_the_verdict() {
        let f = fixture();
        let mut run = report("stampede", f.recorder, 4.0);
        run.audit = Some(audit(true));
        let table = summary_table(&run);
        let row = |label: &str| {
            table
                .lines()
                .find(|line| line.trim_start().starts_with(label))
                .unwrap_or_else(|| panic!("no {label} in\n{table}"))
                .split_whitespace()
                .collect::<Vec<_>>()
        };
        assert!(table.starts_with("stampede — 2023-11-14 22:13:20 UTC"));
        assert_eq!(row("bookings/s"), ["bookings/s", "3.0"]);
        assert_eq!(row("connect failures"), ["connect", "failures", "1"]);
        assert_eq!(row("peak bookings/s"), ["peak", "bookings/s", "6"]);
        assert_eq!(row("p99 confirm")[2..], ["50.0", "ms", "(n=12)"]);
        assert_eq!(row("audit"), ["audit", "PASSED"]);
    }

    #[test]
    fn chart_has_a_bar_per_second_with_bookings_and_a_p99_vertex_per_sampled_second() {
        let f = fixture();
        let dir = tempfile::tempdir().unwrap();
        let files = write(dir.path(), &report("stampede", f.recorder, 4.0)).unwrap();
        let text = svg_text(&files);
        let doc = roxmltree::Document::parse(&text).expect("well-formed SVG");
        assert_eq!(doc.root_element().tag_name().name(), "svg");

        let bars = bars(&doc);
        let with_bookings: Vec<u64> = (0..4)
            .filter(|s| f.confirms_per_second[*s] > 0)
            .map(|s| s as u64)
            .collect();
        let starts: Vec<u64> = bars
            .iter()
            .map(|b| number(b, "data-start-s") as u64)
            .collect();
        assert_eq!(starts, with_bookings);
        for bar in &bars {
            let second = number(bar, "data-start-s") as usize;
            assert_eq!(
                number(bar, "data-bookings-per-s"),
                f.confirms_per_second[second] as f64
            );
        }
        // The tallest bar is the peak second.
        let tallest = bars
            .iter()
            .max_by(|a, b| number(a, "height").total_cmp(&number(b, "height")))
            .unwrap();
        assert_eq!(number(tallest, "data-start-s"), 1.0);

        let sampled = f.second_samples_us.iter().filter(|s| !s.is_empty()).count();
        let vertices = p99_vertices(&doc);
        assert_eq!(vertices.len(), sampled);
        assert!(vertices.windows(2).all(|w| w[0].0 < w[1].0), "{vertices:?}");
        assert!(elements_of_class(&doc, "line", "failover").is_empty());
        let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
        assert!(texts.contains(&"stampede: bookings per second and booking p99"));
        assert!(texts.contains(&"bookings/s (left axis)"));
    }

    #[test]
    fn chart_marks_the_failover_between_the_seconds_around_it() {
        let dir = tempfile::tempdir().unwrap();
        let files = write(dir.path(), &compared_report()).unwrap();
        let text = svg_text(&files);
        let doc = roxmltree::Document::parse(&text).expect("well-formed SVG");
        let marker = elements_of_class(&doc, "line", "failover");
        assert_eq!(marker.len(), 1);
        let x = number(&marker[0], "x1");
        let bar_x = |second: f64| {
            bars(&doc)
                .into_iter()
                .find(|b| number(b, "data-start-s") == second)
                .map(|b| number(&b, "x"))
                .expect("bar")
        };
        // Killed at 1.5 s: inside second 1, which spans from its bar's x to second 2's.
        assert!(bar_x(1.0) < x && x < bar_x(2.0), "{x}");
    }

    #[test]
    fn long_runs_are_bucketed() {
        let mut recorder = Recorder::default();
        let confirms = |second: u64| second % 4;
        for second in 0..25 {
            for _ in 0..confirms(second) {
                recorder.latency(Step::Confirm, (10 + second) * MS, second);
            }
        }
        let max_points = 10;
        let run = report("steady", recorder, 25.0);
        let text = chart_svg_with(&run, max_points);
        let doc = roxmltree::Document::parse(&text).expect("well-formed SVG");

        // 25 seconds in at most 10 buckets: buckets of 3 seconds, the last holding second 24.
        let buckets: Vec<Vec<u64>> = (0..25u64)
            .collect::<Vec<_>>()
            .chunks(3)
            .map(<[u64]>::to_vec)
            .collect();
        assert_eq!(buckets.len(), 9);
        let averages: Vec<f64> = buckets
            .iter()
            .map(|b| b.iter().map(|s| confirms(*s)).sum::<u64>() as f64 / b.len() as f64)
            .collect();
        let bars = bars(&doc);
        let expected: Vec<(f64, f64)> = buckets
            .iter()
            .zip(&averages)
            .filter(|(_, average)| **average > 0.0)
            .map(|(b, average)| (b[0] as f64, *average))
            .collect();
        let actual: Vec<(f64, f64)> = bars
            .iter()
            .map(|b| (number(b, "data-start-s"), number(b, "data-bookings-per-s")))
            .collect();
        assert_eq!(actual, expected);
        assert!(bars.len() <= max_points);
        let sampled = buckets
            .iter()
            .filter(|b| b.iter().any(|s| confirms(*s) > 0))
            .count();
        assert_eq!(p99_vertices(&doc).len(), sampled);
    }

    #[test]
    fn bucket_p99_merges_the_seconds() {
        let mut recorder = Recorder::default();
        let mut samples = Vec::new();
        for second in 0..4u64 {
            for i in 1..=50 {
                let latency = (second * 50 + i) * MS;
                recorder.latency(Step::Hold, latency, second);
                samples.push(latency);
            }
        }
        let points = chart_points(&recorder.timeline, 1);
        assert_eq!(points.len(), 1);
        assert_close_per_second(points[0].p99_ms.unwrap(), nearest_rank_ms(&samples, 0.99));
    }

    #[test]
    fn empty_runs_still_make_valid_files() {
        let dir = tempfile::tempdir().unwrap();
        let files = write(dir.path(), &report("idle", Recorder::default(), 0.0)).unwrap();
        let json = read_json(&files);
        assert_eq!(json.throughput.bookings_per_s, 0.0);
        assert_eq!(json.throughput.peak_second, None);
        assert!(json.steps.is_empty() && json.timeline.is_empty());
        let text = svg_text(&files);
        let doc = roxmltree::Document::parse(&text).expect("well-formed SVG");
        let texts: Vec<&str> = doc.descendants().filter_map(|n| n.text()).collect();
        assert!(texts.contains(&"no samples"), "{text}");
        let md = std::fs::read_to_string(&files.markdown).unwrap();
        assert!(md.contains("## Errors\n\nnone"), "{md}");
        assert!(md.contains("## Audit\n\nnot run"), "{md}");
    }

    #[test]
    fn scenario_names_are_escaped() {
        let mut recorder = Recorder::default();
        recorder.latency(Step::Confirm, 10 * MS, 0);
        let scenario = "a<b & \"c\" 'd'>";
        let run = report(scenario, recorder, 1.0);
        let md = markdown(&to_json(&run));
        assert!(
            md.starts_with("# Load test: a&lt;b & \"c\" 'd'> — "),
            "{md}"
        );
        let text = chart_svg(&run);
        let doc = roxmltree::Document::parse(&text).expect("well-formed SVG");
        let title = doc
            .descendants()
            .find(|n| n.attribute("class") == Some("title"))
            .and_then(|n| n.text());
        assert_eq!(
            title,
            Some(format!("{scenario}: bookings per second and booking p99").as_str())
        );
    }

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(utc_timestamp(0), "1970-01-01 00:00:00 UTC");
        // 2000-02-29 is 11,016 days after the epoch; plus 1 h 2 min 3.999 s.
        assert_eq!(
            utc_timestamp((11_016 * 86_400 + 3_723) * 1_000 + 999),
            "2000-02-29 01:02:03 UTC"
        );
        assert_eq!(utc_timestamp(1_700_000_000_000), "2023-11-14 22:13:20 UTC");
        // 2100 is not a leap year: 47,541 days after the epoch is 2100-03-01.
        assert_eq!(
            utc_timestamp(47_541 * 86_400_000),
            "2100-03-01 00:00:00 UTC"
        );
    }

    #[test]
    fn ticks_are_round_and_cover_the_maximum() {
        assert_eq!(nice_ticks(7.0), [0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(nice_ticks(3.0), [0.0, 1.0, 2.0, 3.0]);
        assert_eq!(nice_ticks(460.0), [0.0, 100.0, 200.0, 300.0, 400.0, 500.0]);
        assert_eq!(nice_ticks(0.0).last(), Some(&1.0));
        assert_eq!(tick_label(0.4, 0.2), "0.4");
        assert_eq!(tick_label(1500.0, 500.0), "1500");
    }
}
