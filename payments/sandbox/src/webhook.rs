//! Webhooks: `PAYMENT_STATUS_CHANGED` events put in the outbox in the same transaction as the
//! change, and a background task that delivers them, signed, retrying with backoff until a 2xx
//! or out of attempts.
//!
//! Signature (Toss signs only payout events this way; the sandbox signs every event with it):
//! `tosspayments-webhook-signature: v1:` + base64(HMAC-SHA256(webhook secret,
//! `{body}:{tosspayments-webhook-transmission-time}`)).

use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use picket_toss_wire::{EventType, Payment, WebhookEvent};

use crate::clock::{kst, kst_micros, now_ms};
use crate::faults::Faults;
use crate::state::Shared;
use crate::store::{Tx, WebhookOutcome};

/// The signature header's value for `body` sent at `transmission_time`.
pub fn signature(secret: &str, body: &str, transmission_time: &str) -> String {
    let mut mac =
        Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body.as_bytes());
    mac.update(b":");
    mac.update(transmission_time.as_bytes());
    format!(
        "v1:{}",
        base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
    )
}

/// Puts the event announcing `payment`'s new status in the outbox, once per configured URL,
/// as the fault switches say (dropped, twice, late). Past `webhooks_pending_max` the event is
/// logged and dropped rather than refusing the payment change.
pub async fn enqueue(
    shared: &Shared,
    tx: &mut Tx,
    payment: &Payment,
    now: i64,
) -> Result<(), sqlx::Error> {
    if shared.webhook_urls.is_empty()
        || !crate::rules::announced(payment, shared.config.webhook_on_authorise)
    {
        return Ok(());
    }
    let faults: Faults = shared.faults.lock().expect("faults lock").clone();
    if faults.drop_webhooks {
        tracing::info!(payment_key = %payment.payment_key, status = %payment.status, "webhook dropped (fault switch)");
        return Ok(());
    }
    let pending = tx.pending_webhooks().await?;
    if pending as usize >= shared.config.webhooks_pending_max {
        tracing::warn!(pending, payment_key = %payment.payment_key, "webhook outbox full: event dropped");
        return Ok(());
    }
    let event = WebhookEvent {
        event_type: EventType::PaymentStatusChanged,
        created_at: kst_micros(now),
        data: payment,
    };
    let body = serde_json::to_string(&event).expect("wire types always encode");
    let transmission_id = format!(
        "whtrans_{}",
        crate::keys::random_alphanumeric(28).to_lowercase()
    );
    let due = now + faults.webhook_delay_ms as i64;
    let copies = if faults.duplicate_webhooks { 2 } else { 1 };
    for url in &shared.webhook_urls {
        for _ in 0..copies {
            tx.enqueue_webhook(&transmission_id, url, &body, due)
                .await?;
        }
    }
    Ok(())
}

/// The HTTP client webhooks go out with (plain HTTP/1).
pub type WebhookClient = Client<HttpConnector, Full<Bytes>>;

pub fn client() -> WebhookClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// Attempts every webhook due now (at most `webhook_batch_max`, at once) and records every
/// outcome in one commit: delivered, due again after the schedule's next wait, or failed for
/// good. A crash before that commit sends the batch again (webhooks are at least once).
pub async fn deliver_due(shared: &Arc<Shared>, client: &WebhookClient) {
    let due = match shared
        .store
        .due_webhooks(now_ms(), shared.config.webhook_batch_max as i64)
        .await
    {
        Ok(due) => due,
        Err(error) => {
            tracing::warn!(%error, "reading the webhook outbox failed");
            return;
        }
    };
    let attempts = due.into_iter().map(|webhook| {
        let client = client.clone();
        let shared = shared.clone();
        async move {
            let delivered = attempt(&client, &shared, &webhook.url, &webhook.transmission_id, &webhook.body, webhook.attempts).await;
            let attempts = webhook.attempts + 1;
            let outcome = next_step(&shared.config.webhook_retry_schedule, attempts, delivered.is_ok());
            match &delivered {
                Ok(()) => tracing::info!(transmission_id = %webhook.transmission_id, attempts, "webhook delivered"),
                Err(why) => tracing::warn!(transmission_id = %webhook.transmission_id, attempts, %why, ?outcome, "webhook attempt failed"),
            }
            (webhook.id, attempts, outcome)
        }
    });
    let attempted = futures_util::future::join_all(attempts).await;
    if let Err(error) = shared.store.webhooks_attempted(&attempted).await {
        tracing::warn!(%error, "recording webhook attempts failed");
    }
}

/// What becomes of a webhook after its `attempts`-th attempt (1 for the first).
fn next_step(schedule: &[std::time::Duration], attempts: u32, delivered: bool) -> WebhookOutcome {
    if delivered {
        return WebhookOutcome::Delivered;
    }
    match schedule.get(attempts as usize - 1) {
        Some(wait) => WebhookOutcome::RetryAt(now_ms() + wait.as_millis() as i64),
        None => WebhookOutcome::Failed,
    }
}

/// One POST of a webhook: `Ok` on a 2xx within `webhook_timeout`.
async fn attempt(
    client: &WebhookClient,
    shared: &Shared,
    url: &str,
    transmission_id: &str,
    body: &str,
    retried: u32,
) -> Result<(), String> {
    let uri = crate::urls::webhook_target(url, usize::MAX)?;
    let time = kst(now_ms());
    let request = hyper::Request::post(uri)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(picket_toss_wire::WEBHOOK_TRANSMISSION_TIME, &time)
        .header(picket_toss_wire::WEBHOOK_TRANSMISSION_ID, transmission_id)
        .header(picket_toss_wire::WEBHOOK_RETRIED_COUNT, retried.to_string())
        .header(
            picket_toss_wire::WEBHOOK_SIGNATURE,
            signature(&shared.webhook_secret, body, &time),
        )
        .body(Full::new(Bytes::from(body.to_owned())))
        .map_err(|e| e.to_string())?;
    let exchange = async {
        let response = client.request(request).await.map_err(|e| e.to_string())?;
        let status = response.status();
        // Read (and drop) the answer so the connection can be reused.
        let _ = response.into_body().collect().await;
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("answered {status}"))
        }
    };
    match tokio::time::timeout(shared.config.webhook_timeout, exchange).await {
        Ok(result) => result,
        Err(_) => Err(format!(
            "no answer within {:?}",
            shared.config.webhook_timeout
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_body_colon_time() {
        // Computed independently (Python's hmac) over `{"a":1}:2024-09-05T12:19:21+09:00`.
        assert_eq!(
            signature("whsec_test", r#"{"a":1}"#, "2024-09-05T12:19:21+09:00"),
            "v1:C1NDUubWNuhM29vd5zPFedXT89G/6XfpQjjcCRHPBwg="
        );
    }
}
