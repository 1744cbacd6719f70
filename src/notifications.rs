//! `picket notifications dead-letters`: the operator's view of the notifier's dead letters —
//! push deliveries given up on (refused by the push service, or out of attempts), newest first
//! (docs/operations.md, "Notification delivery"). Reads the API's database; only wiring lives
//! here.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};

/// Dead letters listed at most.
const DEAD_LETTERS_LIST_MAX: i64 = 10_000;

#[derive(Args)]
pub struct NotificationsArgs {
    #[command(subcommand)]
    command: NotificationsCommand,
}

#[derive(Subcommand)]
enum NotificationsCommand {
    /// List the newest push deliveries given up on, one per line, tab-separated after a header:
    /// when (ms since the epoch), the notification, its member, the channel, the subscription,
    /// attempts made and why.
    DeadLetters(DeadLettersArgs),
}

#[derive(Args)]
struct DeadLettersArgs {
    /// The API's database: postgres://… or sqlite://PATH (default: the SQLite file of
    /// `picket up` in the data directory).
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
    /// The data directory of `picket up`.
    #[arg(long, env = "PICKET_DATA_DIR", default_value = "data")]
    data_dir: PathBuf,
    /// How many, newest first (1 to 10,000).
    #[arg(long, default_value_t = 100)]
    limit: i64,
}

pub async fn run(args: NotificationsArgs) -> anyhow::Result<()> {
    match args.command {
        NotificationsCommand::DeadLetters(args) => dead_letters(args).await,
    }
}

async fn dead_letters(args: DeadLettersArgs) -> anyhow::Result<()> {
    if !(1..=DEAD_LETTERS_LIST_MAX).contains(&args.limit) {
        anyhow::bail!("--limit must be 1 to {DEAD_LETTERS_LIST_MAX}");
    }
    let url = match args.database_url {
        Some(url) => url,
        None => format!("sqlite://{}", args.data_dir.join("api.sqlite").display()),
    };
    let store = picket_api::store::Store::connect(&url)
        .await
        .context("opening the API's database")?;
    println!("at_ms\tnotification\taccount\tchannel\tsubscription\tattempts\treason");
    for letter in store.dead_letters(args.limit).await? {
        let subscription = letter
            .subscription_id
            .map(|s| s.to_string())
            .unwrap_or_else(|| "-".to_owned());
        println!(
            "{}\t{}\t{}\t{}\t{subscription}\t{}\t{}",
            letter.at_ms,
            letter.notification_id,
            letter.account_id,
            letter.channel,
            letter.attempts,
            letter.reason
        );
    }
    Ok(())
}
