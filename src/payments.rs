//! `picket payments reconcile`: one reconciliation run (docs/payments.md, "Reconciliation").
//! Reads the ledger's journal (the SQLite file of `picket up`, or PostgreSQL), asks the provider
//! for its transactions, and hands both to `picket_payments::reconcile`. Only wiring lives here.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Subcommand};
use picket_ledger::journal::Journal;
use picket_ledger::{PgJournal, SqliteJournal};
use picket_payments::reconcile::{LedgerView, RECONCILE_SETTLE_MS, reconcile_view};
use picket_payments::toss::{TossConfig, TossProvider};

/// Journal entries read per page.
const JOURNAL_PAGE_MAX: u32 = 1_024;
/// How long the command waits for PostgreSQL to accept its connection.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// Connections the command opens to PostgreSQL.
const PG_CONNECTIONS_MAX: u32 = 2;
/// The window when none is given: the day before the settle margin.
const DEFAULT_WINDOW_MS: u64 = 24 * 60 * 60_000;

#[derive(Args)]
pub struct PaymentsArgs {
    #[command(subcommand)]
    command: PaymentsCommand,
}

#[derive(Subcommand)]
enum PaymentsCommand {
    /// Compare the provider's transactions with the ledger's bookings and refunds: refund what
    /// was paid and booked by nobody, flag every other difference, and write the report
    /// (reconcile-<to_ms>.json and .md) to the report directory.
    Reconcile(ReconcileArgs),
}

#[derive(Args)]
struct ReconcileArgs {
    /// Start of the window, ms since the epoch (default: a day before --to-ms).
    #[arg(long)]
    from_ms: Option<u64>,
    /// End of the window, ms since the epoch (default: 10 minutes ago, so payments being
    /// confirmed right now are left out).
    #[arg(long)]
    to_ms: Option<u64>,
    /// The ledger's journal: postgres://… or sqlite://PATH (default: the SQLite journal of
    /// `picket up` in the data directory).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// The data directory of `picket up`.
    #[arg(long, env = "PICKET_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// Ledger partitions to read, comma-separated (`picket up` without NATS has partition 0).
    #[arg(long, value_delimiter = ',', default_value = "0")]
    partitions: Vec<u16>,
    /// Where the report goes (default: DATA_DIR/reconcile).
    #[arg(long)]
    report_dir: Option<PathBuf>,
    /// Base URL of the Toss Payments v1 provider.
    #[arg(long, env = "PICKET_PAYMENTS_BASE_URL")]
    payments_base_url: String,
    /// The provider's secret key.
    #[arg(long, env = "PICKET_PAYMENTS_SECRET_KEY", hide_env_values = true)]
    payments_secret_key: String,
    /// The provider's client key.
    #[arg(long, env = "PICKET_PAYMENTS_CLIENT_KEY", default_value = "")]
    payments_client_key: String,
    /// The key the provider signs webhooks with (checked like `picket up` checks it).
    #[arg(long, env = "PICKET_PAYMENTS_WEBHOOK_SECRET", hide_env_values = true)]
    payments_webhook_secret: String,
}

pub async fn run(args: PaymentsArgs) -> anyhow::Result<()> {
    let PaymentsCommand::Reconcile(args) = args.command;
    let config = TossConfig::new(
        args.payments_base_url.clone(),
        args.payments_secret_key.clone(),
        args.payments_client_key.clone(),
        args.payments_webhook_secret.clone(),
    );
    let provider = TossProvider::new(config)
        .map_err(|problems| anyhow::anyhow!("payment settings: {}", problems.0.join("; ")))?;
    let to_ms = args
        .to_ms
        .unwrap_or_else(|| picket_edge::clock::now_ms().saturating_sub(RECONCILE_SETTLE_MS));
    let from_ms = args
        .from_ms
        .unwrap_or(to_ms.saturating_sub(DEFAULT_WINDOW_MS));
    if from_ms > to_ms {
        anyhow::bail!("--from-ms is after --to-ms");
    }
    let url = args
        .database_url
        .clone()
        .unwrap_or_else(|| format!("sqlite://{}", args.data_dir.join("ledger.sqlite").display()));
    let view = read_view(&url, &args.partitions).await?;
    let report_dir = args
        .report_dir
        .clone()
        .unwrap_or_else(|| args.data_dir.join("reconcile"));
    let report = reconcile_view(&provider, &view, (from_ms, to_ms), &report_dir).await?;
    print!("{}", picket_payments::reconcile::report_markdown(&report));
    println!("report: {}", report_dir.display());
    Ok(())
}

/// The journal's bookings and refunds.
async fn read_view(url: &str, partitions: &[u16]) -> anyhow::Result<LedgerView> {
    if url.starts_with("postgres") {
        let journal = PgJournal::connect(url, PG_CONNECTIONS_MAX, CONNECT_TIMEOUT)
            .await
            .context("cannot open the journal")?;
        fold(&journal, partitions).await
    } else {
        let path = url
            .trim_start_matches("sqlite://")
            .split('?')
            .next()
            .unwrap_or_default();
        let journal = SqliteJournal::open(std::path::Path::new(path))
            .await
            .with_context(|| format!("cannot open the journal {path}"))?;
        fold(&journal, partitions).await
    }
}

async fn fold<J: Journal>(journal: &J, partitions: &[u16]) -> anyhow::Result<LedgerView> {
    let mut view = LedgerView::default();
    for &partition in partitions {
        let mut after = 0;
        loop {
            let entries = journal
                .read_after(partition, after, JOURNAL_PAGE_MAX)
                .await?;
            let Some(last) = entries.last().map(|entry| entry.seq) else {
                break;
            };
            for entry in &entries {
                view.apply(&entry.decode()?);
            }
            after = last;
        }
    }
    Ok(view)
}
