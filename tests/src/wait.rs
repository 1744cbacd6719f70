//! Waiting for what another task or process does (a follower catching up, a webhook being
//! handled, a timer firing), bounded: a wait that runs out is a failure that says what was
//! awaited and what was seen last, and is never a measured time.

use std::time::Duration;

/// How often [`until`] asks again.
pub const POLL_INTERVAL: Duration = Duration::from_millis(50);

/// Asks `probe` until it answers `Ok` (its value), every [`POLL_INTERVAL`] for at most
/// `patience`; then panics with `what` and the probe's last `Err`, what it saw.
pub async fn until<T, E: std::fmt::Debug>(
    what: &str,
    patience: Duration,
    mut probe: impl AsyncFnMut() -> Result<T, E>,
) -> T {
    let deadline = tokio::time::Instant::now() + patience;
    loop {
        match probe().await {
            Ok(done) => return done,
            Err(seen) => assert!(
                tokio::time::Instant::now() < deadline,
                "{what}: still {seen:?} after {patience:?}"
            ),
        }
        tokio::time::sleep(POLL_INTERVAL).await;
    }
}
