//! Prometheus metrics of the ledger writer.

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

type Labels = Vec<(&'static str, &'static str)>;
/// `partition="<n>"`: one process can host many partitions.
pub type PartitionLabels = Vec<(&'static str, String)>;

pub fn partition_labels(partition: u16) -> PartitionLabels {
    vec![("partition", partition.to_string())]
}

pub struct Metrics {
    /// Commands by `command` (its name on the wire: `Hold`, `Confirm`, …) and `result`: `ok`,
    /// `rejected`, `duplicate`.
    pub commands: Family<Labels, Counter>,
    /// Rejections by their client-facing code.
    pub rejections: Family<Labels, Counter>,
    /// Journal entries per group commit.
    pub commit_batch_entries: Histogram,
    pub commit_seconds: Histogram,
    pub commit_failures: Counter,
    /// Submissions refused because the command queue was full.
    pub overloaded: Counter,
    /// Last committed (leader) or applied (standby) journal seq, per partition.
    pub journal_seq: Family<PartitionLabels, Gauge>,
    pub snapshots: Counter,
    /// 1 where this process leads the partition, 0 where it stands by.
    pub leader: Family<PartitionLabels, Gauge>,
    /// Journal entries a standby has not applied yet.
    pub standby_lag_entries: Family<PartitionLabels, Gauge>,
    /// Times this process took over a partition's leadership.
    pub takeovers: Counter,
    /// How long since this process last knew the partition had a leader; above the lease, the
    /// partition is leaderless (alert on it).
    pub leaderless_seconds: Family<PartitionLabels, Gauge<f64, AtomicU64>>,
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
            journal_seq: Family::default(),
            snapshots: Counter::default(),
            leader: Family::default(),
            standby_lag_entries: Family::default(),
            takeovers: Counter::default(),
            leaderless_seconds: Family::default(),
        };
        let ledger = registry.sub_registry_with_prefix("picket_ledger");
        ledger.register(
            "commands",
            "Commands executed, by command and result",
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
        ledger.register(
            "leader",
            "1 where this process leads the partition",
            metrics.leader.clone(),
        );
        ledger.register(
            "standby_lag_entries",
            "Journal entries the standby has not applied yet",
            metrics.standby_lag_entries.clone(),
        );
        ledger.register(
            "takeovers",
            "Partition leaderships taken over by this process",
            metrics.takeovers.clone(),
        );
        ledger.register(
            "leaderless_seconds",
            "Time since this process last knew the partition had a leader",
            metrics.leaderless_seconds.clone(),
        );
        metrics
    }
}
