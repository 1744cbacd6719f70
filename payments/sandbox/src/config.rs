//! The sandbox's settings: where it listens and keeps its file, its keys, where webhooks go, and
//! every limit, each named with its default.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// The database file's name in the data directory.
pub const DATABASE_FILE: &str = "sandbox-pay.sqlite";

/// Everything `run` needs. Keys left `None` are read from the data directory, or made there
/// on first start (`keys.rs`).
#[derive(Clone)]
pub struct SandboxConfig {
    pub listen: SocketAddr,
    /// Holds the database and the generated keys.
    pub data_dir: PathBuf,
    /// `test_sk_…`: Basic auth of every `/v1` call.
    pub secret_key: Option<String>,
    /// `test_ck_…` / `test_gck_…`: what the checkout page is opened with.
    pub client_key: Option<String>,
    /// Where `PAYMENT_STATUS_CHANGED` events go (plain `http://` URLs).
    pub webhook_urls: Vec<String>,
    /// Most webhook URLs (each event is one outbox row per URL).
    pub webhook_urls_max: usize,
    /// The HMAC-SHA256 key webhooks are signed with.
    pub webhook_secret: Option<String>,
    /// Also announce a checkout payment the buyer authorised (`IN_PROGRESS`): a sandbox
    /// extension (Toss sends no webhook on authorisation) so the merchant's webhook receiver
    /// can complete a payment whose app never sent its confirm. On by default.
    pub webhook_on_authorise: bool,
    /// Bearer token of `/sandbox/faults`.
    pub admin_token: Option<String>,
    /// A payment not confirmed this long after the buyer authorised it expires (Toss: 10 min).
    pub confirm_window: Duration,
    /// How long an `Idempotency-Key`'s first answer is kept for replay (Toss: 15 days).
    pub idempotency_ttl: Duration,
    /// How long a confirm with the timeout test card holds its answer (after approving).
    pub timeout_card_hold: Duration,
    /// How long a confirm with the slow test card waits before approving.
    pub slow_card_delay: Duration,
    /// Waits between a webhook's failed attempts; its length is the number of retries (Toss:
    /// 1, 4, 16, 64, 256, 1024 and 4096 minutes).
    pub webhook_retry_schedule: Vec<Duration>,
    /// One webhook attempt fails unless a 2xx comes within this (Toss: 10 s).
    pub webhook_timeout: Duration,
    /// How often the outbox is read for due webhooks (new events also wake it at once).
    pub webhook_poll_interval: Duration,
    /// Most webhooks waiting for delivery; events past it are logged and dropped.
    pub webhooks_pending_max: usize,
    /// Most webhooks sent at once.
    pub webhook_batch_max: usize,
    /// Largest request body, in bytes.
    pub body_bytes_max: usize,
    /// Longest `successUrl` / `failUrl` / webhook URL, in bytes.
    pub url_bytes_max: usize,
    /// Longest `customerKey` (the SDK's bound; the API reference allows 300).
    pub customer_key_chars_max: usize,
    /// Longest `authKey` / `billingKey`.
    pub billing_key_chars_max: usize,
    /// Longest card number field, in characters (spaces and dashes included).
    pub card_number_chars_max: usize,
    /// Smallest card payment, in won (Toss: 100, `BELOW_MINIMUM_AMOUNT`).
    pub amount_min: u64,
    /// Largest payment, in won (`EXCEED_MAX_AMOUNT`); keeps every sum inside SQLite's integers.
    pub amount_max: u64,
    /// Most cancels of one payment.
    pub cancels_max: usize,
    /// Default and largest `limit` of `GET /v1/transactions` (Toss: 100 and 10,000).
    pub transactions_limit_default: usize,
    pub transactions_limit_max: usize,
    /// Largest hold or webhook delay the fault switches accept, in milliseconds.
    pub fault_delay_ms_max: u64,
    /// Largest count the fault switches accept.
    pub fault_count_max: u32,
}

/// Toss's webhook retry waits, in minutes.
const TOSS_WEBHOOK_RETRY_MINUTES: [u64; 7] = [1, 4, 16, 64, 256, 1024, 4096];
/// Most retries a schedule may name.
pub const WEBHOOK_RETRIES_MAX: usize = 32;

impl SandboxConfig {
    /// The defaults: loopback port 8090, Toss's windows and retry schedule.
    pub fn new(data_dir: PathBuf) -> SandboxConfig {
        SandboxConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8090)),
            data_dir,
            secret_key: None,
            client_key: None,
            webhook_urls: Vec::new(),
            webhook_urls_max: 8,
            webhook_secret: None,
            webhook_on_authorise: true,
            admin_token: None,
            confirm_window: Duration::from_secs(10 * 60),
            idempotency_ttl: Duration::from_secs(15 * 24 * 3600),
            timeout_card_hold: Duration::from_secs(60),
            slow_card_delay: Duration::from_secs(3),
            webhook_retry_schedule: TOSS_WEBHOOK_RETRY_MINUTES
                .iter()
                .map(|m| Duration::from_secs(m * 60))
                .collect(),
            webhook_timeout: Duration::from_secs(10),
            webhook_poll_interval: Duration::from_millis(250),
            webhooks_pending_max: 10_000,
            webhook_batch_max: 32,
            body_bytes_max: 16 * 1024,
            url_bytes_max: 2048,
            customer_key_chars_max: 50,
            billing_key_chars_max: 300,
            card_number_chars_max: 32,
            amount_min: 100,
            amount_max: 1_000_000_000,
            cancels_max: 100,
            transactions_limit_default: 100,
            transactions_limit_max: 10_000,
            fault_delay_ms_max: 600_000,
            fault_count_max: 1_000_000,
        }
    }

    /// The database file.
    pub fn database_path(&self) -> PathBuf {
        self.data_dir.join(DATABASE_FILE)
    }

    /// Every problem with these settings (none: they are usable). Secrets are never echoed.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Some(key) = &self.secret_key
            && let Err(problem) = check_key(key, &["test_sk_", "test_gsk_"])
        {
            problems.push(format!("the secret key {problem}"));
        }
        if let Some(key) = &self.client_key
            && let Err(problem) = check_key(key, &["test_ck_", "test_gck_"])
        {
            problems.push(format!("the client key {problem}"));
        }
        if let Some(secret) = &self.webhook_secret
            && !(16..=200).contains(&secret.len())
        {
            problems.push("the webhook secret must be 16 to 200 bytes".into());
        }
        if let Some(token) = &self.admin_token
            && (!(16..=200).contains(&token.len()) || token.chars().any(char::is_whitespace))
        {
            problems.push("the admin token must be 16 to 200 bytes without spaces".into());
        }
        if self.webhook_urls.len() > self.webhook_urls_max {
            problems.push(format!("at most {} webhook URLs", self.webhook_urls_max));
        }
        for url in &self.webhook_urls {
            if let Err(problem) = crate::urls::webhook_target(url, self.url_bytes_max) {
                problems.push(format!("webhook URL {url:?}: {problem}"));
            }
        }
        let bounded = |problems: &mut Vec<String>,
                       name: &str,
                       value: Duration,
                       min: Duration,
                       max: Duration| {
            if value < min || value > max {
                problems.push(format!(
                    "{name} must be {} to {} ms, got {} ms",
                    min.as_millis(),
                    max.as_millis(),
                    value.as_millis()
                ));
            }
        };
        let day = Duration::from_secs(24 * 3600);
        bounded(
            &mut problems,
            "confirm_window",
            self.confirm_window,
            Duration::ZERO,
            day,
        );
        bounded(
            &mut problems,
            "idempotency_ttl",
            self.idempotency_ttl,
            Duration::from_millis(1),
            60 * day,
        );
        bounded(
            &mut problems,
            "timeout_card_hold",
            self.timeout_card_hold,
            Duration::ZERO,
            Duration::from_secs(3600),
        );
        bounded(
            &mut problems,
            "slow_card_delay",
            self.slow_card_delay,
            Duration::ZERO,
            Duration::from_secs(600),
        );
        bounded(
            &mut problems,
            "webhook_timeout",
            self.webhook_timeout,
            Duration::from_millis(1),
            Duration::from_secs(60),
        );
        bounded(
            &mut problems,
            "webhook_poll_interval",
            self.webhook_poll_interval,
            Duration::from_millis(1),
            Duration::from_secs(60),
        );
        if self.webhook_retry_schedule.len() > WEBHOOK_RETRIES_MAX {
            problems.push(format!(
                "the webhook retry schedule names at most {WEBHOOK_RETRIES_MAX} retries"
            ));
        }
        if self
            .webhook_retry_schedule
            .iter()
            .any(|wait| *wait > 30 * day)
        {
            problems.push("a webhook retry waits at most 30 days".into());
        }
        let positive = |problems: &mut Vec<String>, name: &str, value: usize, max: usize| {
            if value == 0 || value > max {
                problems.push(format!("{name} must be 1 to {max}, got {value}"));
            }
        };
        positive(
            &mut problems,
            "webhooks_pending_max",
            self.webhooks_pending_max,
            10_000_000,
        );
        positive(
            &mut problems,
            "webhook_batch_max",
            self.webhook_batch_max,
            1024,
        );
        positive(
            &mut problems,
            "body_bytes_max",
            self.body_bytes_max,
            1 << 20,
        );
        positive(&mut problems, "url_bytes_max", self.url_bytes_max, 8192);
        positive(
            &mut problems,
            "customer_key_chars_max",
            self.customer_key_chars_max,
            300,
        );
        positive(
            &mut problems,
            "billing_key_chars_max",
            self.billing_key_chars_max,
            1000,
        );
        positive(
            &mut problems,
            "card_number_chars_max",
            self.card_number_chars_max,
            64,
        );
        positive(&mut problems, "cancels_max", self.cancels_max, 10_000);
        positive(
            &mut problems,
            "transactions_limit_max",
            self.transactions_limit_max,
            100_000,
        );
        if self.transactions_limit_default == 0
            || self.transactions_limit_default > self.transactions_limit_max
        {
            problems.push("transactions_limit_default must be 1 to transactions_limit_max".into());
        }
        if self.amount_min == 0
            || self.amount_min > self.amount_max
            || self.amount_max > 1_000_000_000_000
        {
            problems.push("amounts must satisfy 1 ≤ amount_min ≤ amount_max ≤ 10¹²".into());
        }
        if self.fault_delay_ms_max > 3_600_000 {
            problems.push("fault_delay_ms_max is at most 3,600,000".into());
        }
        problems
    }
}

/// A key: one of `prefixes`, then 8 to 200 letters, digits, `_` or `-` (no `:`, which would
/// break Basic auth).
fn check_key(key: &str, prefixes: &[&str]) -> Result<(), String> {
    let Some(rest) = prefixes.iter().find_map(|p| key.strip_prefix(p)) else {
        return Err(format!("must start with {}", prefixes.join(" or ")));
    };
    if !(8..=200).contains(&rest.len())
        || !rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    {
        return Err("must continue with 8 to 200 letters, digits, '_' or '-'".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_usable() {
        assert_eq!(
            SandboxConfig::new(PathBuf::from("data")).problems(),
            Vec::<String>::new()
        );
    }

    #[test]
    fn every_problem_is_reported_and_no_secret_is_echoed() {
        let mut config = SandboxConfig::new(PathBuf::from("data"));
        config.secret_key = Some("live_sk_supersecretvalue".into());
        config.client_key = Some("test_ck_x".into());
        config.webhook_urls = vec!["javascript:alert(1)".into()];
        config.body_bytes_max = 0;
        let problems = config.problems();
        assert_eq!(problems.len(), 4, "{problems:?}");
        assert!(
            problems.iter().all(|p| !p.contains("supersecret")),
            "{problems:?}"
        );
    }
}
