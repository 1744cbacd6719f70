//! Publishing a show: the one place that talks to the ledger (opening each performance's
//! inventory), the waiting room (configuring each performance's sale) and NATS (announcing the
//! show on the catalog stream). Following the ledger's events is `follow.rs`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use picket_ledger_core::{ActorId, Command, IdempotencyKey, PerformanceSpec, Rejection, Request};

use crate::auth::Authenticated;
use crate::catalog::{SHOW_PUBLISHED_SUBJECT, ShowPublished};
use crate::error::{ApiError, FieldError};
use crate::json::Path;
use crate::manage::{managed_show, venue};
use crate::shows::{ADMISSION_TTL_MS, QUEUE_GRACE_MS, Show, spec_for};
use crate::state::{Api, now_ms};
use crate::store::catalog::PerformanceRow;
use picket_edge::id::Id;

/// `POST /api/v2/shows/{id}/publish`: validates the show, opens every performance's inventory
/// in the ledger, marks the show published and announces it. Publishing twice is harmless.
pub async fn publish(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Path(Id(show)): Path<Id<i64>>,
) -> Result<Response, ApiError> {
    let row = managed_show(&api, &who, show).await?;
    // A pending or suspended company's shows stay drafts, whoever publishes them.
    crate::sellers::require_approved(&api, row.company_id).await?;
    let ledger = api
        .ledger
        .clone()
        .ok_or(ApiError::Internal("no ledger configured".into()))?;
    let performances = api.store.performances(show, false).await?;
    if performances.is_empty() {
        return Err(ApiError::Invalid(vec![FieldError {
            field: "performances",
            message: "add at least one performance".into(),
        }]));
    }
    if row.status == "published" {
        // Done already (the status is set only once every performance is open): answer the
        // same, without configuring the sales again — that would undo an operator's pause.
        let opens = performances
            .iter()
            .map(|p| p.sale_open_at_ms as u64)
            .collect();
        return Ok(published_answer(show, row, opens));
    }
    // The venue is pinned before its seat map is read, so the map read is the one it keeps:
    // `PUT /api/v2/venues/{id}` is refused from the pin's commit on. The pin belongs to this
    // attempt until it is kept, just before the ledger is first asked: until then a failure
    // releases it (nothing is on sale), and a crash leaves a pin that the show's next publish
    // takes over, or that lapses after `store::catalog::PUBLISH_PIN_CHECK_MS_MAX`. Once kept it stays, as a
    // published show's does: the ledger may sell the map from then on, failure or not, and a
    // retry (the same idempotency keys) reads the same map.
    let attempt = api.new_id();
    let kept = api
        .store
        .pin_venue(show, row.venue_id, attempt, now_ms() as i64)
        .await?;
    let specs = match checked_specs(&api, &row, &performances).await {
        Ok(specs) => specs,
        Err(error) => {
            if let Err(e) = api.store.release_venue_pin(show, attempt).await {
                tracing::warn!(show, error = %e, "a failed publish's venue pin stays until it lapses");
            }
            return Err(error);
        }
    };
    if !kept && !api.store.keep_venue_pin(show, attempt).await? {
        // Lost to another publish of the show, or lapsed and dropped by a venue change: the
        // map read may be stale, so nothing is opened with it.
        return Err(ApiError::Conflict(
            "the show was being published by another request: publish it again",
        ));
    }
    let mut opens = Vec::new();
    for (performance, spec) in performances.iter().zip(specs) {
        let id = performance.id;
        opens.push(performance.sale_open_at_ms as u64);
        // Known before the ledger opens it, so the opening event finds it.
        api.seats_left.register(&spec);
        let request = Request {
            actor: ActorId(0),
            key: IdempotencyKey::new(format!("open-{id}"))
                .map_err(|_| ApiError::Internal("key".into()))?,
            command: Command::OpenPerformance(Box::new(spec.clone())),
        };
        match ledger.submit(request).await {
            Ok(Ok(_)) | Ok(Err(Rejection::PerformanceAlreadyOpen)) => {}
            Ok(Err(rejection)) => {
                return Err(ApiError::Internal(format!(
                    "the ledger refused: {rejection}"
                )));
            }
            Err(error) => {
                return Err(ApiError::Internal(format!(
                    "the ledger is unavailable: {error}"
                )));
            }
        }
        if let Some(queue) = &api.queue {
            // The sale of performance p is sale p in the waiting room.
            let settings = picket_room::SaleSettings {
                open_at_ms: performance.sale_open_at_ms as u64,
                admit_per_sec: row.queue.admit_per_sec,
                active_max: row.queue.active_max,
                admission_ttl_ms: ADMISSION_TTL_MS,
                seat_limit: row.per_buyer_limit as u16,
                grace_ms: QUEUE_GRACE_MS,
                paused: false,
            };
            // Recorded first, so a store that loses the sale gets it back (`restore.rs`); the
            // record ends when the performance's sale closes.
            crate::restore::configure_sale(
                &api,
                queue.as_ref(),
                id as u64,
                settings,
                Some(performance.sale_close_at_ms as u64),
            )
            .await?;
        }
        api.store
            .set_performance_spec(id, &serde_json::to_string(&spec).expect("specs encode"))
            .await?;
    }
    api.store.mark_published(show, now_ms() as i64).await?;
    let event = published_event(show, row, opens);
    tracing::info!(show, "show published");
    let _ = api.published.send(event.clone());
    if let Some(js) = api.announcements.get() {
        announce(js, &event).await?;
    }
    Ok(published_json(show, &event))
}

/// The spec each performance opens with, read from the venue's map as it is now (pinned by the
/// caller): every one checked before the ledger is asked to open any.
async fn checked_specs(
    api: &Api,
    row: &Show,
    performances: &[PerformanceRow],
) -> Result<Vec<PerformanceSpec>, ApiError> {
    let (_, _, layout) = venue(api, row.venue_id)
        .await?
        .ok_or(ApiError::NotFound("venue"))?;
    performances
        .iter()
        .map(|performance| {
            spec_for(
                performance.id,
                performance.starts_at_ms as u64,
                row,
                &layout,
            )
            .map_err(|m| {
                ApiError::Invalid(vec![FieldError {
                    field: "grades",
                    message: m,
                }])
            })
        })
        .collect()
}

fn published_json(show: i64, event: &ShowPublished) -> Response {
    Json(serde_json::json!({"id": Id(show), "status": "published", "event": event})).into_response()
}

fn published_event(show: i64, row: Show, sale_open_at_ms: Vec<u64>) -> ShowPublished {
    ShowPublished {
        show: Id(show),
        title: row.title,
        category: row.category,
        region: row.region,
        sale_open_at_ms,
    }
}

fn published_answer(show: i64, row: Show, opens: Vec<u64>) -> Response {
    published_json(show, &published_event(show, row, opens))
}

/// Publishes "show published" durably; the message id makes a repeated publish a no-op.
async fn announce(
    js: &async_nats::jetstream::Context,
    event: &ShowPublished,
) -> Result<(), ApiError> {
    let payload = serde_json::to_vec(event).expect("announcements encode");
    let message = async_nats::jetstream::message::PublishMessage::build()
        .payload(payload.into())
        .message_id(picket_ledger_client::bus::show_published_message_id(
            event.show.0,
        ));
    let unavailable = |e: String| ApiError::Internal(format!("announcing the show failed: {e}"));
    js.send_publish(SHOW_PUBLISHED_SUBJECT, message)
        .await
        .map_err(|e| unavailable(e.to_string()))?
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    Ok(())
}
