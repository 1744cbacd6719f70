//! The admin dashboard's operations figures (`GET /api/v2/admin/operations`): error and
//! rejection counts and rates, the refund worker's backlog and the last payment reconciliation,
//! read from the process's own Prometheus registry — the counters `/metrics` serves, not a
//! second source of truth.
//!
//! [`ApiMetrics`] are the API's own counters (problem responses by code, all responses). The
//! process that serves `/metrics` (`picket up`) hands its registry to
//! [`Api::watch_operations`]: a sample of the watched series is taken then and every
//! [`SAMPLE_INTERVAL`] into a ring of [`SAMPLES_MAX`] (five minutes); a request reads the series
//! afresh and compares with the newest sample at least a window old (the oldest, with the span
//! it covers, until the ring holds a window).

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::auth::{Authenticated, Role};
use crate::error::ApiError;
use crate::metrics::{
    CodeLabel, Operations, PROBLEMS, ProblemCode, REFUNDS_PAID, REFUNDS_PENDING, REFUNDS_REFUSED,
    REJECTIONS, RESPONSES, SAMPLE_INTERVAL, SAMPLES_MAX, Sample, WEBSOCKET_ERRORS, code_of,
};
use crate::state::{Api, now_ms};

/// Mismatches of the last reconciliation listed (the count is always whole).
pub const RECONCILE_FINDINGS_SHOWN_MAX: usize = 100;
/// The windows the figures cover.
pub const WINDOWS_MS: [u64; 2] = [60_000, 300_000];

/// Middleware: counts every response, and problems by code.
pub async fn count_responses(
    State(api): State<Arc<Api>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    api.metrics.responses.inc();
    if let Some(ProblemCode(code)) = response.extensions().get::<ProblemCode>() {
        api.metrics
            .problems
            .get_or_create(&CodeLabel {
                code: (*code).to_owned(),
            })
            .inc();
    }
    response
}

impl Api {
    /// Starts the operations figures over `registry` (the one `/metrics` serves, with
    /// [`ApiMetrics`] registered in it) and `reconcile` (the periodic reconciliation's status):
    /// the first sample is taken now, then one every [`SAMPLE_INTERVAL`]. Once only.
    pub fn watch_operations(
        self: &Arc<Self>,
        registry: Arc<prometheus_client::registry::Registry>,
        reconcile: Arc<picket_payments::reconcile::ReconcileStatus>,
    ) {
        let operations = Arc::new(Operations {
            registry,
            reconcile,
            samples: Mutex::new(std::collections::VecDeque::with_capacity(SAMPLES_MAX)),
        });
        operations.keep(operations.read());
        if self.operations.set(operations.clone()).is_err() {
            return;
        }
        let weak = Arc::downgrade(&operations);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(SAMPLE_INTERVAL).await;
                let Some(operations) = weak.upgrade() else {
                    return;
                };
                operations.keep(operations.read());
            }
        });
    }
}

/// Counts by code of one family: totals now, and the increase over each window.
fn by_code(name: &str, now: &Sample, baselines: &[Option<Sample>]) -> Value {
    let mut codes = Vec::new();
    let mut totals = vec![0.0; baselines.len()];
    let mut total = 0.0;
    for (key, value) in now.series.range(name.to_owned()..) {
        if !key.starts_with(name) {
            break;
        }
        let Some(code) = code_of(key) else { continue };
        let windows: Vec<f64> = baselines
            .iter()
            .map(|b| {
                let before = b.as_ref().and_then(|b| b.series.get(key)).copied();
                // A series born since the baseline counted from zero.
                (value - before.unwrap_or(0.0)).max(0.0)
            })
            .collect();
        for (sum, w) in totals.iter_mut().zip(&windows) {
            *sum += w;
        }
        total += value;
        codes.push(
            json!({"code": code, "total": value, "last_1m": windows[0], "last_5m": windows[1]}),
        );
    }
    codes.sort_by(|a, b| {
        b["last_5m"]
            .as_f64()
            .partial_cmp(&a["last_5m"].as_f64())
            .unwrap_or(std::cmp::Ordering::Equal)
            .then_with(|| {
                b["total"]
                    .as_f64()
                    .partial_cmp(&a["total"].as_f64())
                    .unwrap_or(std::cmp::Ordering::Equal)
            })
    });
    json!({"total": total, "last_1m": totals[0], "last_5m": totals[1], "codes": codes})
}

fn single(name: &str, now: &Sample) -> Value {
    now.series.get(name).map_or(Value::Null, |v| json!(v))
}

/// The figures: each family's counts by code over [`WINDOWS_MS`], rates per minute, the share
/// of API responses that were problems, the refund backlog and the last reconciliation.
pub fn figures(operations: &Operations) -> Value {
    let now = operations.read();
    let baselines: Vec<Option<Sample>> = WINDOWS_MS
        .iter()
        .map(|w| operations.baseline(now.at_ms, *w))
        .collect();
    let spans: Vec<u64> = baselines
        .iter()
        .map(|b| b.as_ref().map_or(0, |b| now.at_ms.saturating_sub(b.at_ms)))
        .collect();
    let per_minute = |count: f64, span_ms: u64| {
        if span_ms == 0 {
            Value::Null
        } else {
            json!(count * 60_000.0 / span_ms as f64)
        }
    };
    let mut families = serde_json::Map::new();
    for (field, name) in [
        ("http_problems", PROBLEMS),
        ("ledger_rejections", REJECTIONS),
        ("websocket_errors", WEBSOCKET_ERRORS),
    ] {
        let mut family = by_code(name, &now, &baselines);
        let last_1m = family["last_1m"].as_f64().unwrap_or(0.0);
        let last_5m = family["last_5m"].as_f64().unwrap_or(0.0);
        family["per_minute_1m"] = per_minute(last_1m, spans[0]);
        family["per_minute_5m"] = per_minute(last_5m, spans[1]);
        families.insert(field.into(), family);
    }
    // The share of the API's responses that were problems, over each window.
    let responses_now = now.series.get(RESPONSES).copied().unwrap_or(0.0);
    let share = |i: usize| {
        let before = baselines[i]
            .as_ref()
            .and_then(|b| b.series.get(RESPONSES))
            .copied()
            .unwrap_or(0.0);
        let responses = responses_now - before;
        let problems = families["http_problems"][if i == 0 { "last_1m" } else { "last_5m" }]
            .as_f64()
            .unwrap_or(0.0);
        if responses <= 0.0 {
            Value::Null
        } else {
            json!(problems / responses)
        }
    };
    let shares = [share(0), share(1)];
    let [share_1m, share_5m] = shares;
    families["http_problems"]["responses_total"] = json!(responses_now);
    families["http_problems"]["share_1m"] = share_1m;
    families["http_problems"]["share_5m"] = share_5m;
    let reconciliation = operations.reconcile.last().map(|last| {
        let report = last.report.as_ref().map(|report| {
            json!({"from_ms": report.from_ms, "to_ms": report.to_ms,
                "provider_transactions": report.provider_transactions,
                "ledger_bookings": report.ledger_bookings, "ledger_refunds": report.ledger_refunds,
                "mismatch_count": report.mismatches.len(),
                "mismatches": report.mismatches.iter().take(RECONCILE_FINDINGS_SHOWN_MAX).collect::<Vec<_>>(),
                "voided": report.voided.len(), "void_failures": report.void_failures.len()})
        });
        json!({"at_ms": last.at_ms, "report": report, "error": last.error})
    });
    let mut body = json!({
        "sampled_at_ms": now.at_ms,
        "window_ms": WINDOWS_MS,
        "span_ms": spans,
        "refunds": {"pending": single(REFUNDS_PENDING, &now), "paid_total": single(REFUNDS_PAID, &now),
            "refused_total": single(REFUNDS_REFUSED, &now)},
        "reconciliation": {"interval_ms": picket_payments::reconcile::RECONCILE_INTERVAL_MS,
            "last_run": reconciliation},
    });
    for (field, family) in families {
        body[field] = family;
    }
    body
}

/// `GET /api/v2/admin/operations` (admin): the figures above. Without a watched registry (an
/// API not run by `picket up`) every figure is null.
pub async fn operations(
    State(api): State<Arc<Api>>,
    who: Authenticated,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    let body = match api.operations.get() {
        Some(operations) => figures(operations),
        None => json!({"sampled_at_ms": now_ms(), "window_ms": WINDOWS_MS, "span_ms": [0, 0],
            "http_problems": null, "ledger_rejections": null, "websocket_errors": null,
            "refunds": {"pending": null, "paid_total": null, "refused_total": null},
            "reconciliation": {"interval_ms": picket_payments::reconcile::RECONCILE_INTERVAL_MS, "last_run": null}}),
    };
    Ok(Json(body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::metrics::PROBLEMS;
    use std::collections::BTreeMap;

    #[test]
    fn windows_count_from_the_newest_sample_old_enough() {
        let sample = |at_ms: u64, n: f64| Sample {
            at_ms,
            series: BTreeMap::from([(
                "picket_api_problems_total{code=\"forbidden\"}".to_owned(),
                n,
            )]),
        };
        let now = sample(400_000, 50.0);
        let baselines = [Some(sample(330_000, 40.0)), Some(sample(90_000, 5.0))];
        let family = by_code(PROBLEMS, &now, &baselines);
        assert_eq!(family["total"], 50.0);
        assert_eq!(family["last_1m"], 10.0);
        assert_eq!(family["last_5m"], 45.0);
        assert_eq!(family["codes"][0]["code"], "forbidden");
        // A counter that restarted (a smaller value) counts no negative errors.
        let family = by_code(PROBLEMS, &sample(1, 2.0), &baselines);
        assert_eq!(family["last_1m"], 0.0);
    }
}
