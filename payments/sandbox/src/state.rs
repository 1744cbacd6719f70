//! What every handler and the webhook task share.

use std::collections::HashSet;
use std::sync::Mutex;

use sha2::{Digest, Sha256};

use crate::SandboxConfig;
use crate::faults::Faults;
use crate::keys::Keys;
use crate::store::Store;

pub struct Shared {
    pub config: SandboxConfig,
    pub store: Store,
    pub client_key: String,
    pub webhook_secret: String,
    pub webhook_urls: Vec<String>,
    /// SHA-256 of the secret key: what Basic auth is compared with and idempotency scopes name
    /// (the key itself is kept nowhere else).
    pub secret_digest: [u8; 32],
    pub admin_digest: [u8; 32],
    pub faults: Mutex<Faults>,
    /// Idempotency scopes whose first request is being answered (`409` for a second).
    pub in_flight: Mutex<HashSet<String>>,
    /// Serialises read-decide-write of payments, so two requests never decide on one state.
    pub writer: tokio::sync::Mutex<()>,
    /// Wakes the webhook task when the outbox has something new.
    pub outbox_wake: tokio::sync::Notify,
    pub stop: tokio::sync::watch::Receiver<bool>,
}

impl Shared {
    pub fn new(
        config: SandboxConfig,
        store: Store,
        keys: Keys,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> Shared {
        Shared {
            webhook_urls: config.webhook_urls.clone(),
            config,
            store,
            client_key: keys.client_key,
            webhook_secret: keys.webhook_secret,
            secret_digest: digest(&keys.secret_key),
            admin_digest: digest(&keys.admin_token),
            faults: Mutex::new(Faults::default()),
            in_flight: Mutex::new(HashSet::new()),
            writer: tokio::sync::Mutex::new(()),
            outbox_wake: tokio::sync::Notify::new(),
            stop,
        }
    }

    /// Waits `duration`, or less if the sandbox is stopping.
    pub async fn pause(&self, duration: std::time::Duration) {
        if duration.is_zero() {
            return;
        }
        let mut stop = self.stop.clone();
        tokio::select! {
            _ = tokio::time::sleep(duration) => {}
            _ = stop.wait_for(|stopping| *stopping) => {}
        }
    }
}

/// SHA-256 of a secret: secrets are compared by digest, so the comparison's time says nothing
/// about where they first differ.
pub fn digest(secret: impl AsRef<[u8]>) -> [u8; 32] {
    Sha256::digest(secret.as_ref()).into()
}

/// An idempotency scope held while its first request is answered; released on drop.
pub struct InFlight<'a> {
    shared: &'a Shared,
    scope: String,
}

impl<'a> InFlight<'a> {
    /// `None` while another request holds the scope.
    pub fn claim(shared: &'a Shared, scope: &str) -> Option<InFlight<'a>> {
        let mut held = shared.in_flight.lock().expect("in-flight lock");
        if !held.insert(scope.to_owned()) {
            return None;
        }
        Some(InFlight {
            shared,
            scope: scope.to_owned(),
        })
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Ok(mut held) = self.shared.in_flight.lock() {
            held.remove(&self.scope);
        }
    }
}
