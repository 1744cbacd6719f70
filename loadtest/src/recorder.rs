//! What a run measured: HDR latency histograms per step, a per-second timeline, errors by code
//! and counters. Recorders from several worker processes merge into one ([`Recorder::merge`]);
//! they travel between processes as JSON with the histograms in HdrHistogram's V2 encoding.

use std::collections::BTreeMap;

use base64::Engine;
use hdrhistogram::Histogram;
use hdrhistogram::serialization::{Deserializer, Serializer, V2Serializer};
use serde::{Deserialize, Serialize};

/// Longest latency a histogram holds, in microseconds (10 minutes); longer ones are clamped.
pub const LATENCY_US_MAX: u64 = 600_000_000;
/// Seconds a timeline covers; samples later than this are counted in the last second.
pub const TIMELINE_SECONDS_MAX: usize = 2 * 3_600;
/// Longest latency a per-second histogram holds (60 s), at 2 significant digits: one second of
/// the timeline costs ~25 KiB instead of a full histogram's ~170 KiB.
pub const SECOND_LATENCY_US_MAX: u64 = 60_000_000;
/// Distinct error codes kept; more are counted under `other`.
pub const ERROR_CODES_MAX: usize = 64;
const SIGNIFICANT_DIGITS: u8 = 3;

/// One measured step of a client's way through a sale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    /// TCP + WebSocket handshake + `hello` → `welcome`.
    Connect,
    /// `join` → `admitted`: the time spent in the waiting room.
    Admitted,
    /// `hold` → its `result`.
    Hold,
    /// `checkout` → paid at the provider's checkout page (the payment key in hand).
    Pay,
    /// `confirm` → its `result` (the server confirms with the provider, then books).
    Confirm,
    /// `join` (or the first booking command, without a queue) → `Confirmed`.
    EndToEnd,
    /// `cancel` round trip (churn).
    Cancel,
    /// `release` round trip (an abandoned hold).
    Release,
}

impl Step {
    pub const ALL: [Step; 8] = [
        Step::Connect,
        Step::Admitted,
        Step::Hold,
        Step::Pay,
        Step::Confirm,
        Step::EndToEnd,
        Step::Cancel,
        Step::Release,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Step::Connect => "connect",
            Step::Admitted => "join → admitted",
            Step::Hold => "hold",
            Step::Pay => "checkout + pay",
            Step::Confirm => "confirm",
            Step::EndToEnd => "end-to-end",
            Step::Cancel => "cancel",
            Step::Release => "release",
        }
    }
}

/// Counts of what happened.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub clients: u64,
    pub connected: u64,
    pub connect_failed: u64,
    pub joined: u64,
    pub admitted: u64,
    pub holds: u64,
    pub bookings: u64,
    pub tickets: u64,
    pub abandoned: u64,
    pub seat_taken_retries: u64,
    pub reconnects: u64,
    pub cancellations: u64,
    /// Clients that ended without a booking because the performance sold out.
    pub sold_out: u64,
}

/// When a sale's buyers started arriving and when its last booking was confirmed (ms since the
/// Unix epoch, the clock every worker process shares): the sell-out time of a contention run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub first_arrival_ms: Option<u64>,
    pub last_booking_ms: Option<u64>,
}

impl Span {
    pub fn arrived(&mut self, at_ms: u64) {
        self.first_arrival_ms = Some(self.first_arrival_ms.map_or(at_ms, |t| t.min(at_ms)));
    }

    pub fn booked(&mut self, at_ms: u64) {
        self.last_booking_ms = Some(self.last_booking_ms.map_or(at_ms, |t| t.max(at_ms)));
    }

    /// The earliest arrival and the latest booking of both.
    pub fn merge(&mut self, other: &Span) {
        if let Some(at_ms) = other.first_arrival_ms {
            self.arrived(at_ms);
        }
        if let Some(at_ms) = other.last_booking_ms {
            self.booked(at_ms);
        }
    }

    /// First arrival → last booking, in seconds; `None` without both.
    pub fn seconds(&self) -> Option<f64> {
        let (from, to) = (self.first_arrival_ms?, self.last_booking_ms?);
        Some(to.saturating_sub(from) as f64 / 1_000.0)
    }
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, LATENCY_US_MAX, SIGNIFICANT_DIGITS)
        .expect("static histogram bounds are valid")
}

fn second_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, SECOND_LATENCY_US_MAX, 2)
        .expect("static histogram bounds are valid")
}

/// One second of the run.
#[derive(Clone, Debug)]
pub struct Second {
    pub bookings: u64,
    pub holds: u64,
    pub errors: u64,
    /// Booking-command latencies (hold and confirm) answered in this second.
    pub latency: Histogram<u64>,
}

impl Default for Second {
    fn default() -> Self {
        Second {
            bookings: 0,
            holds: 0,
            errors: 0,
            latency: second_histogram(),
        }
    }
}

/// Everything one run (or one worker of it) measured.
#[derive(Clone, Debug)]
pub struct Recorder {
    pub steps: BTreeMap<Step, Histogram<u64>>,
    pub timeline: Vec<Second>,
    pub errors: BTreeMap<String, u64>,
    pub counters: Counters,
    pub span: Span,
}

impl Default for Recorder {
    fn default() -> Self {
        Recorder {
            steps: Step::ALL.iter().map(|s| (*s, histogram())).collect(),
            timeline: Vec::new(),
            errors: BTreeMap::new(),
            counters: Counters::default(),
            span: Span::default(),
        }
    }
}

impl Recorder {
    /// A step took `latency_us`, finishing `at_s` seconds into the run.
    pub fn latency(&mut self, step: Step, latency_us: u64, at_s: u64) {
        let clamped = latency_us.clamp(1, LATENCY_US_MAX);
        self.steps
            .entry(step)
            .or_insert_with(histogram)
            .saturating_record(clamped);
        if matches!(step, Step::Hold | Step::Confirm) {
            let in_range = clamped.min(SECOND_LATENCY_US_MAX);
            self.second(at_s).latency.saturating_record(in_range);
        }
        match step {
            Step::Hold => self.second(at_s).holds += 1,
            Step::Confirm => self.second(at_s).bookings += 1,
            _ => {}
        }
    }

    /// A client was told `code` (a rejection or a gateway error) at `at_s`.
    pub fn error(&mut self, code: &str, at_s: u64) {
        let known = self.errors.len() < ERROR_CODES_MAX || self.errors.contains_key(code);
        let key = if known { code } else { "other" };
        *self.errors.entry(key.to_owned()).or_default() += 1;
        self.second(at_s).errors += 1;
    }

    fn second(&mut self, at_s: u64) -> &mut Second {
        let index = (at_s as usize).min(TIMELINE_SECONDS_MAX - 1);
        if self.timeline.len() <= index {
            self.timeline.resize_with(index + 1, Second::default);
        }
        &mut self.timeline[index]
    }

    /// Adds another recorder's measurements (another worker's, of the same run and clock).
    pub fn merge(&mut self, other: &Recorder) {
        for (step, theirs) in &other.steps {
            let mine = self.steps.entry(*step).or_insert_with(histogram);
            mine.add(theirs).expect("histograms share bounds");
        }
        if self.timeline.len() < other.timeline.len() {
            self.timeline
                .resize_with(other.timeline.len(), Second::default);
        }
        for (mine, theirs) in self.timeline.iter_mut().zip(&other.timeline) {
            mine.bookings += theirs.bookings;
            mine.holds += theirs.holds;
            mine.errors += theirs.errors;
            mine.latency
                .add(&theirs.latency)
                .expect("histograms share bounds");
        }
        for (code, count) in &other.errors {
            *self.errors.entry(code.clone()).or_default() += count;
        }
        self.span.merge(&other.span);
        let (a, b) = (&mut self.counters, &other.counters);
        a.clients += b.clients;
        a.connected += b.connected;
        a.connect_failed += b.connect_failed;
        a.joined += b.joined;
        a.admitted += b.admitted;
        a.holds += b.holds;
        a.bookings += b.bookings;
        a.tickets += b.tickets;
        a.abandoned += b.abandoned;
        a.seat_taken_retries += b.seat_taken_retries;
        a.reconnects += b.reconnects;
        a.cancellations += b.cancellations;
        a.sold_out += b.sold_out;
    }

    /// Percentiles of one step.
    pub fn summary(&self, step: Step) -> StepSummary {
        StepSummary::of(&self.steps[&step])
    }

    pub fn to_wire(&self) -> RecorderWire {
        RecorderWire {
            steps: self.steps.iter().map(|(s, h)| (*s, encode(h))).collect(),
            timeline: self
                .timeline
                .iter()
                .map(|s| SecondWire {
                    bookings: s.bookings,
                    holds: s.holds,
                    errors: s.errors,
                    latency: encode(&s.latency),
                })
                .collect(),
            errors: self.errors.clone(),
            counters: self.counters.clone(),
            span: self.span,
        }
    }

    pub fn from_wire(wire: &RecorderWire) -> Result<Recorder, String> {
        let mut steps = BTreeMap::new();
        for (step, encoded) in &wire.steps {
            steps.insert(*step, decode(encoded, histogram())?);
        }
        let timeline = wire
            .timeline
            .iter()
            .take(TIMELINE_SECONDS_MAX)
            .map(|s| {
                Ok(Second {
                    bookings: s.bookings,
                    holds: s.holds,
                    errors: s.errors,
                    latency: decode(&s.latency, second_histogram())?,
                })
            })
            .collect::<Result<_, String>>()?;
        Ok(Recorder {
            steps,
            timeline,
            errors: wire.errors.clone(),
            counters: wire.counters.clone(),
            span: wire.span,
        })
    }
}

/// A [`Recorder`] as JSON: histograms as base64 of their V2 encoding.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RecorderWire {
    pub steps: BTreeMap<Step, String>,
    pub timeline: Vec<SecondWire>,
    pub errors: BTreeMap<String, u64>,
    pub counters: Counters,
    #[serde(default)]
    pub span: Span,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SecondWire {
    pub bookings: u64,
    pub holds: u64,
    pub errors: u64,
    pub latency: String,
}

fn encode(histogram: &Histogram<u64>) -> String {
    let mut bytes = Vec::new();
    V2Serializer::new()
        .serialize(histogram, &mut bytes)
        .expect("serializing into memory cannot fail");
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Decodes a histogram onto `bounded`'s bounds, so merging never fails.
fn decode(text: &str, mut bounded: Histogram<u64>) -> Result<Histogram<u64>, String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(text)
        .map_err(|e| e.to_string())?;
    let decoded: Histogram<u64> = Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("{e:?}"))?;
    bounded.add(&decoded).map_err(|e| format!("{e:?}"))?;
    Ok(bounded)
}

/// Percentiles of one step, in milliseconds.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StepSummary {
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
}

impl StepSummary {
    pub fn of(histogram: &Histogram<u64>) -> StepSummary {
        let ms = |us: u64| us as f64 / 1_000.0;
        StepSummary {
            count: histogram.len(),
            p50_ms: ms(histogram.value_at_quantile(0.50)),
            p90_ms: ms(histogram.value_at_quantile(0.90)),
            p99_ms: ms(histogram.value_at_quantile(0.99)),
            p999_ms: ms(histogram.value_at_quantile(0.999)),
            max_ms: ms(histogram.max()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merging_adds_counts_and_keeps_percentiles() {
        let mut a = Recorder::default();
        let mut b = Recorder::default();
        for i in 1..=100 {
            a.latency(Step::Hold, i * 1_000, 0);
        }
        for i in 101..=200 {
            b.latency(Step::Hold, i * 1_000, 3);
        }
        b.error("seat_taken", 3);
        a.span.arrived(1_000);
        a.span.booked(1_500);
        b.span.arrived(900);
        b.span.booked(3_400);
        let b = Recorder::from_wire(&b.to_wire()).expect("round trip");
        a.merge(&b);
        let hold = a.summary(Step::Hold);
        assert_eq!(hold.count, 200);
        // The 99th of 1..=200 ms is 198 ms (within the histogram's 3 digits).
        assert!((hold.p99_ms - 198.0).abs() < 0.5, "{hold:?}");
        assert_eq!(a.timeline.len(), 4);
        assert_eq!((a.timeline[0].holds, a.timeline[3].holds), (100, 100));
        assert_eq!(a.errors["seat_taken"], 1);
        // The earliest arrival (b's, 900) to the latest booking (b's, 3,400).
        assert_eq!(a.span.seconds(), Some(2.5));
    }

    #[test]
    fn error_codes_are_bounded() {
        let mut recorder = Recorder::default();
        for i in 0..ERROR_CODES_MAX + 10 {
            recorder.error(&format!("code_{i}"), 0);
        }
        assert_eq!(recorder.errors.len(), ERROR_CODES_MAX + 1);
        assert_eq!(recorder.errors["other"], 10);
    }
}
