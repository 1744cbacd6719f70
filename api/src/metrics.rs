//! The API's own Prometheus counters ([`ApiMetrics`]: problem responses by code, all
//! responses) and the reading of a metrics registry back into samples ([`Operations`]), which
//! the admin's operations figures (`operations.rs`) compare over time.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::registry::Registry;

/// How often the watched series are sampled.
pub const SAMPLE_INTERVAL: Duration = Duration::from_secs(5);
/// Samples kept: five minutes at [`SAMPLE_INTERVAL`], and the one before.
pub const SAMPLES_MAX: usize = 61;
/// Series kept per sample (codes of problems, ledger rejections, WebSocket errors): past it
/// further series are left out of the figures.
pub const SERIES_MAX: usize = 512;

/// What a series is for the figures: problem responses, ledger rejections, WebSocket errors
/// (each by code), and single values.
pub(crate) const PROBLEMS: &str = "picket_api_problems_total";
pub(crate) const RESPONSES: &str = "picket_api_responses_total";
pub(crate) const REJECTIONS: &str = "picket_ledger_rejections_total";
pub(crate) const WEBSOCKET_ERRORS: &str = "picket_gateway_errors_total";
pub(crate) const REFUNDS_PENDING: &str = "picket_refunds_pending";
pub(crate) const REFUNDS_PAID: &str = "picket_refunds_paid_total";
pub(crate) const REFUNDS_REFUSED: &str = "picket_refunds_refused_total";
const WATCHED: [&str; 7] = [
    PROBLEMS,
    RESPONSES,
    REJECTIONS,
    WEBSOCKET_ERRORS,
    REFUNDS_PENDING,
    REFUNDS_PAID,
    REFUNDS_REFUSED,
];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabel {
    pub code: String,
}

/// Which payment limit refused: `webhook_lookups` or `success_attempts`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LimitLabel {
    pub limit: &'static str,
}

/// What became of a payment webhook (`duplicate`, `limited`, `looked_up`, ...).
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HandledLabel {
    pub handled: &'static str,
}

/// The API's own counters, on `/metrics` once [`ApiMetrics::register`]ed.
#[derive(Debug, Default)]
pub struct ApiMetrics {
    /// Problem responses (`application/problem+json`) by `code`: `picket_api_problems_total`.
    pub problems: Family<CodeLabel, Counter>,
    /// Every response of the API's routes: `picket_api_responses_total`.
    pub responses: Counter,
    /// Payment requests a payment limit refused (429 `too_many_attempts`), by the limit:
    /// `picket_api_payments_limited_total`. The problems' `code` cannot tell the webhook's
    /// lookup limit from the success URL's per-buyer limit.
    pub payments_limited: Family<LimitLabel, Counter>,
    /// Payment webhooks by what became of them: `picket_api_payment_webhooks_total`.
    pub payment_webhooks: Family<HandledLabel, Counter>,
}

impl ApiMetrics {
    pub(crate) fn payment_limited(&self, limit: &'static str) {
        self.payments_limited
            .get_or_create(&LimitLabel { limit })
            .inc();
    }

    pub(crate) fn payment_webhook(&self, handled: &'static str) {
        self.payment_webhooks
            .get_or_create(&HandledLabel { handled })
            .inc();
    }

    pub fn register(&self, registry: &mut Registry) {
        let registry = registry.sub_registry_with_prefix("picket_api");
        registry.register(
            "problems",
            "Problem responses of the HTTP API, by code",
            self.problems.clone(),
        );
        registry.register(
            "responses",
            "Responses of the HTTP API",
            self.responses.clone(),
        );
        registry.register(
            "payments_limited",
            "Payment requests refused by a payment limit, by the limit",
            self.payments_limited.clone(),
        );
        registry.register(
            "payment_webhooks",
            "Payment webhooks, by what became of them",
            self.payment_webhooks.clone(),
        );
    }
}

/// The code of a problem response, put in its extensions by `ApiError::into_response`.
#[derive(Clone, Copy, Debug)]
pub struct ProblemCode(pub &'static str);

/// One reading of the watched series: `name{labels}` → value.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sample {
    pub at_ms: u64,
    pub series: BTreeMap<String, f64>,
}

/// Reads the watched series out of Prometheus' text format, at most [`SERIES_MAX`].
pub fn parse_sample(text: &str, at_ms: u64) -> Sample {
    let mut series = BTreeMap::new();
    for line in text.lines() {
        if line.starts_with('#') || series.len() >= SERIES_MAX {
            continue;
        }
        let Some((key, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let name = key.split('{').next().unwrap_or(key);
        if !WATCHED.contains(&name) {
            continue;
        }
        if let Ok(value) = value.parse::<f64>() {
            series.insert(key.to_owned(), value);
        }
    }
    Sample { at_ms, series }
}

/// The `code` label of a series key (`name{code="x",…}`).
pub(crate) fn code_of(key: &str) -> Option<&str> {
    let labels = key.split_once('{')?.1.strip_suffix('}')?;
    labels
        .split(',')
        .find_map(|pair| pair.strip_prefix("code=\""))
        .and_then(|rest| rest.strip_suffix('"'))
}

/// What the operations page reads, once a registry is watched.
pub struct Operations {
    pub(crate) registry: Arc<Registry>,
    pub(crate) reconcile: Arc<picket_payments::reconcile::ReconcileStatus>,
    pub(crate) samples: Mutex<VecDeque<Sample>>,
}

impl Operations {
    pub(crate) fn read(&self) -> Sample {
        let mut text = String::new();
        if let Err(error) = prometheus_client::encoding::text::encode(&mut text, &self.registry) {
            tracing::warn!(%error, "the metrics registry did not encode");
        }
        parse_sample(&text, picket_edge::clock::now_ms())
    }

    pub(crate) fn keep(&self, sample: Sample) {
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        if samples.len() == SAMPLES_MAX {
            samples.pop_front();
        }
        samples.push_back(sample);
    }

    /// The newest kept sample at least `window_ms` older than `now`, else the oldest.
    pub(crate) fn baseline(&self, now_ms: u64, window_ms: u64) -> Option<Sample> {
        let samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        samples
            .iter()
            .rev()
            .find(|s| s.at_ms + window_ms <= now_ms)
            .or_else(|| samples.front())
            .cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_keeps_the_watched_series_only() {
        let text = "# HELP picket_api_problems Problem responses\n\
                    # TYPE picket_api_problems counter\n\
                    picket_api_problems_total{code=\"not_found\"} 3\n\
                    picket_api_responses_total 10\n\
                    picket_gateway_connections 4\n\
                    picket_refunds_pending 2\n";
        let sample = parse_sample(text, 7);
        assert_eq!(sample.at_ms, 7);
        assert_eq!(
            sample.series.keys().collect::<Vec<_>>(),
            vec![
                "picket_api_problems_total{code=\"not_found\"}",
                "picket_api_responses_total",
                "picket_refunds_pending"
            ]
        );
        assert_eq!(
            code_of("picket_api_problems_total{code=\"not_found\"}"),
            Some("not_found")
        );
        assert_eq!(code_of("picket_api_responses_total"), None);
    }
}
