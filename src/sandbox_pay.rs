//! `picket sandbox-pay`: the Toss Payments v1 sandbox as its own process
//! ([`picket_sandbox_pay::run`]).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Args;
use picket_sandbox_pay::SandboxConfig;

use crate::check::{Planned, Problems, SettingProblems};

/// The sandbox's defaults, for `--help`: the binary repeats no default of a component.
fn defaults() -> SandboxConfig {
    SandboxConfig::new(PathBuf::from("data/sandbox-pay"))
}

#[derive(Args)]
pub struct SandboxPayArgs {
    /// Address to serve the Toss v1 API, the checkout page and /healthz on.
    #[arg(long, env = "PICKET_SANDBOX_PAY_LISTEN", default_value_t = defaults().listen)]
    listen: SocketAddr,
    /// Directory of the sandbox's SQLite file (sandbox-pay.sqlite) and its generated keys.
    #[arg(
        long,
        env = "PICKET_SANDBOX_PAY_DATA_DIR",
        default_value = "data/sandbox-pay"
    )]
    data_dir: PathBuf,
    /// Secret key (test_sk_…) of Basic auth (default: made once, kept in DATA_DIR/secret-key).
    #[arg(long, env = "PICKET_SANDBOX_PAY_SECRET_KEY", hide_env_values = true)]
    secret_key: Option<String>,
    /// Client key (test_ck_…) the checkout page is opened with (default: DATA_DIR/client-key).
    #[arg(long, env = "PICKET_SANDBOX_PAY_CLIENT_KEY")]
    client_key: Option<String>,
    /// Where PAYMENT_STATUS_CHANGED webhooks go (http://…; repeat or comma-separate for several).
    #[arg(long, env = "PICKET_SANDBOX_PAY_WEBHOOK_URL", value_delimiter = ',')]
    webhook_url: Vec<String>,
    /// HMAC-SHA256 key webhooks are signed with (default: DATA_DIR/webhook-secret).
    #[arg(
        long,
        env = "PICKET_SANDBOX_PAY_WEBHOOK_SECRET",
        hide_env_values = true
    )]
    webhook_secret: Option<String>,
    /// Also send PAYMENT_STATUS_CHANGED when a buyer authorises a payment (IN_PROGRESS): a
    /// sandbox extension, Toss sends none; false to behave as Toss does.
    #[arg(
        long,
        env = "PICKET_SANDBOX_PAY_WEBHOOK_ON_AUTHORISE",
        default_value_t = defaults().webhook_on_authorise,
        action = clap::ArgAction::Set
    )]
    webhook_on_authorise: bool,
    /// Bearer token of PUT/GET /sandbox/faults (default: DATA_DIR/admin-token).
    #[arg(long, env = "PICKET_SANDBOX_PAY_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// Seconds a payment may wait for its confirm before it expires (0 to 86,400).
    #[arg(
        long,
        env = "PICKET_SANDBOX_PAY_CONFIRM_WINDOW_S",
        default_value_t = defaults().confirm_window.as_secs()
    )]
    confirm_window_s: u64,
    #[command(flatten)]
    threads: crate::threads::ThreadArgs,
}

/// Checks every setting and reports every problem at once, before anything is bound.
pub fn plan(args: SandboxPayArgs) -> Result<Planned<SandboxConfig>, SettingProblems> {
    let mut problems = Problems::of::<SandboxPayArgs>();
    let worker_threads = args.threads.check(&mut problems);
    let mut config = SandboxConfig::new(args.data_dir);
    config.listen = args.listen;
    config.secret_key = args.secret_key;
    config.client_key = args.client_key;
    config.webhook_urls = args.webhook_url;
    config.webhook_secret = args.webhook_secret;
    config.webhook_on_authorise = args.webhook_on_authorise;
    config.admin_token = args.admin_token;
    config.confirm_window = std::time::Duration::from_secs(args.confirm_window_s);
    problems.extend(
        "sandbox-pay",
        config.problems(),
        &[
            ("the secret key", "secret_key"),
            ("the client key", "client_key"),
            ("the webhook secret", "webhook_secret"),
            ("the admin token", "admin_token"),
            ("webhook URL", "webhook_url"),
            ("at most", "webhook_url"),
        ],
    );
    problems.finish()?;
    Ok(Planned {
        worker_threads,
        plan: config,
    })
}

pub async fn run(config: SandboxConfig) -> anyhow::Result<()> {
    let shutdown = crate::shutdown_signal();
    let listener = crate::bind(config.listen).await?;
    let data_dir = config.data_dir.clone();
    println!(
        "picket sandbox-pay: http://{}/healthz (Toss Payments v1 sandbox; keys in {})",
        listener.local_addr()?,
        data_dir.display()
    );
    picket_sandbox_pay::run_on(config, listener, shutdown).await?;
    println!("picket sandbox-pay stopped");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: SandboxPayArgs,
    }

    #[test]
    fn bad_settings_are_all_reported_without_the_secret() {
        let cli = Cli::parse_from([
            "picket",
            "--secret-key",
            "live_sk_doNotEchoThis",
            "--webhook-url",
            "javascript:alert(1)",
            "--confirm-window-s",
            "999999",
        ]);
        let message = plan(cli.args).err().expect("refused").to_string();
        assert!(message.starts_with("3 setting problems"), "{message}");
        assert!(!message.contains("doNotEchoThis"), "{message}");
        for named in [
            "--secret-key (PICKET_SANDBOX_PAY_SECRET_KEY): the secret key",
            "--webhook-url (PICKET_SANDBOX_PAY_WEBHOOK_URL): webhook URL",
            "--confirm-window-s (PICKET_SANDBOX_PAY_CONFIRM_WINDOW_S): confirm_window",
        ] {
            assert!(message.contains(named), "{named:?} in {message}");
        }
    }
}
