//! Prometheus metrics of the ledger writer.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, &'static str)>;

pub struct Metrics {
    /// Commands by result: `ok`, `rejected`, `duplicate`.
    pub commands: Family<Labels, Counter>,
    /// Rejections by their client-facing code.
    pub rejections: Family<Labels, Counter>,
    /// Journal entries per group commit.
    pub commit_batch_entries: Histogram,
    pub commit_seconds: Histogram,
    pub commit_failures: Counter,
    /// Submissions refused because the command queue was full.
    pub overloaded: Counter,
    pub journal_seq: Gauge,
    pub snapshots: Counter,
}

impl Metrics {
    pub fn new(registry: &mut Registry) -> Self {
        let metrics = Metrics {
            commands: Family::default(),
            rejections: Family::default(),
            commit_batch_entries: Histogram::new(exponential_buckets(1.0, 2.0, 12)),
            commit_seconds: Histogram::new(exponential_buckets(0.000_1, 2.0, 16)),
            commit_failures: Counter::default(),
            overloaded: Counter::default(),
            journal_seq: Gauge::default(),
            snapshots: Counter::default(),
        };
        let ledger = registry.sub_registry_with_prefix("picket_ledger");
        ledger.register(
            "commands",
            "Commands executed, by result",
            metrics.commands.clone(),
        );
        ledger.register(
            "rejections",
            "Rejected commands, by code",
            metrics.rejections.clone(),
        );
        ledger.register(
            "commit_batch_entries",
            "Journal entries per group commit",
            metrics.commit_batch_entries.clone(),
        );
        ledger.register(
            "commit_seconds",
            "Time to commit one batch to the journal",
            metrics.commit_seconds.clone(),
        );
        ledger.register(
            "commit_failures",
            "Journal commits that failed",
            metrics.commit_failures.clone(),
        );
        ledger.register(
            "overloaded",
            "Commands refused because the writer queue was full",
            metrics.overloaded.clone(),
        );
        ledger.register(
            "journal_seq",
            "Last committed journal seq",
            metrics.journal_seq.clone(),
        );
        ledger.register("snapshots", "Snapshots written", metrics.snapshots.clone());
        metrics
    }
}
