//! `picket sandbox-pay`: a Toss Payments API v1 sandbox on loopback, a real HTTP service with
//! its records in its own SQLite file (a restart forgets nothing). It speaks the same wire as
//! Toss (`picket-toss-wire`), so Picket's production adapter is tested against a server it did
//! not write: Basic auth with the secret key, `Idempotency-Key` on every POST, confirm, lookups,
//! full and partial cancels, billing keys and charges, the transactions listing, a checkout page
//! with test cards, signed webhooks from a persisted outbox, and failure injection
//! (docs/payments.md).
//!
//! Files: `config.rs` (settings and limits), `keys.rs` (keys kept in the data directory),
//! `clock.rs`, `cards.rs` (test cards), `rules.rs` (the provider's rules, no I/O), `store.rs`
//! (every SQL statement), `faults.rs`, `webhook.rs` (outbox delivery and signing),
//! `urls.rs` (redirect and webhook URLs), `checkout.rs` (pages), `state.rs`, `http.rs` (the
//! routes); the background task (outbox, expiry, idempotency purge) is here.

mod cards;
mod checkout;
mod clock;
mod config;
mod error;
mod faults;
mod http;
mod keys;
mod rules;
mod state;
mod store;
mod urls;
mod webhook;

use std::future::Future;
use std::sync::Arc;

pub use cards::{TEST_CARDS, TestCard};
pub use config::{DATABASE_FILE, SandboxConfig, WEBHOOK_RETRIES_MAX};
pub use error::{Refusal, SandboxError};
pub use faults::Faults;
pub use keys::Keys;
pub use webhook::signature;

/// Binds `config.listen` and serves until `shutdown` resolves.
pub async fn run(
    config: SandboxConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), SandboxError> {
    let problems = config.problems();
    if !problems.is_empty() {
        return Err(SandboxError::Settings(problems));
    }
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .map_err(|source| SandboxError::Bind {
            addr: config.listen,
            source,
        })?;
    run_on(config, listener, shutdown).await
}

/// Serves on `listener` until `shutdown` resolves; then stops the webhook task, lets answers in
/// flight finish (held answers are cut short) and closes the database.
pub async fn run_on(
    config: SandboxConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), SandboxError> {
    let problems = config.problems();
    if !problems.is_empty() {
        return Err(SandboxError::Settings(problems));
    }
    let keys = Keys::resolve(&config)?;
    // Keys read from the data directory obey the same rules as keys given.
    let resolved = SandboxConfig {
        secret_key: Some(keys.secret_key.clone()),
        client_key: Some(keys.client_key.clone()),
        webhook_secret: Some(keys.webhook_secret.clone()),
        admin_token: Some(keys.admin_token.clone()),
        ..config.clone()
    };
    let problems = resolved.problems();
    if !problems.is_empty() {
        return Err(SandboxError::Settings(problems));
    }
    std::fs::create_dir_all(&config.data_dir).map_err(|source| SandboxError::File {
        path: config.data_dir.clone(),
        source,
    })?;
    let store = store::Store::open(&config.database_path()).await?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let shared = Arc::new(state::Shared::new(
        config,
        store.clone(),
        keys,
        stop_rx.clone(),
    ));
    let outbox = tokio::spawn(background(shared.clone(), stop_rx));
    let app = http::router(shared.clone());
    tracing::info!(address = ?listener.local_addr().ok(), "sandbox payments listening");
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            // Cut held answers short so the drain does not wait for them.
            let _ = stop_tx.send(true);
        })
        .await;
    let _ = outbox.await;
    drop(shared);
    store.close().await;
    served.map_err(SandboxError::Serve)
}

/// Until `stop` fires, every `webhook_poll_interval` (or at once when the outbox has something
/// new): expires payments past their confirm window, forgets idempotency records past their
/// time, and delivers due webhooks.
async fn background(shared: Arc<state::Shared>, mut stop: tokio::sync::watch::Receiver<bool>) {
    let client = webhook::client();
    loop {
        tokio::select! {
            _ = stop.changed() => return,
            _ = shared.outbox_wake.notified() => {}
            _ = tokio::time::sleep(shared.config.webhook_poll_interval) => {}
        }
        if *stop.borrow() {
            return;
        }
        http::expire_due(&shared).await;
        let cutoff = clock::now_ms() - shared.config.idempotency_ttl.as_millis() as i64;
        if let Err(error) = shared.store.purge_idempotency(cutoff).await {
            tracing::warn!(%error, "purging idempotency records failed");
        }
        webhook::deliver_due(&shared, &client).await;
    }
}
