//! Following the ledger: its committed events go into the seats-left and seat-states read
//! models and the bookings projection, resubscribing and catching up when a subscription ends.

use std::sync::Arc;

use crate::error::ApiError;
use crate::projection::{PROJECTION_BATCH_MAX, Projection};
use crate::state::Api;

/// Wait before following the ledger again after a subscription or the projection failed.
const FOLLOW_RETRY_DELAY: std::time::Duration = std::time::Duration::from_millis(500);

/// Follows the ledger into the seats-left read model and the bookings projection
/// ([`Projection`]), resubscribing when a subscription ends. Each subscription first catches
/// the projection up from its stored cursors, so nothing committed while the API was down or
/// between two subscriptions is missed. Stops when `Bookings::stop_following` asks (between two
/// transactions).
pub async fn follow_ledger(api: Arc<Api>) {
    let Some(ledger) = api.ledger.clone() else {
        return;
    };
    let mut stop = api.bookings.stop_signal();
    if *stop.borrow() {
        return;
    }
    if let Err(error) = load_published(&api).await {
        tracing::warn!(%error, "cannot load published performances for the seats-left read model");
    }
    loop {
        let subscribed = tokio::select! {
            _ = stop.changed() => return,
            subscribed = ledger.subscribe() => subscribed,
        };
        let subscription = match subscribed {
            Ok(subscription) => subscription,
            Err(picket_ledger_client::SubmitError::Stopped) => return,
            Err(_) => {
                if pause(&mut stop).await {
                    return;
                }
                continue;
            }
        };
        api.seat_states.reset(&subscription.availability);
        api.seats_left
            .reset(subscription.seq, subscription.availability);
        let started = Projection::start(&api, &ledger, &subscription.partitions).await;
        let mut projection = match started {
            Ok(projection) => projection,
            Err(error) => {
                tracing::warn!(%error, "bookings projection could not catch up; following again");
                if pause(&mut stop).await {
                    return;
                }
                continue;
            }
        };
        // The projection holds every commit of the snapshot: seats off sale in it can be told
        // apart from the projection's holds and bookings.
        api.seat_states.caught_up();
        let mut events = subscription.events;
        loop {
            let first = tokio::select! {
                _ = stop.changed() => return,
                received = events.recv() => match received {
                    Ok(committed) => committed,
                    // Closed, or lagged past the buffer: subscribe again (and catch up).
                    Err(_) => break,
                },
            };
            let mut batch = vec![first];
            let mut lagged = false;
            while batch.len() < PROJECTION_BATCH_MAX {
                match events.try_recv() {
                    Ok(committed) => batch.push(committed),
                    Err(tokio::sync::broadcast::error::TryRecvError::Empty) => break,
                    Err(_) => {
                        lagged = true;
                        break;
                    }
                }
            }
            for committed in &batch {
                api.seats_left.apply(committed.seq, &committed.events);
                api.seat_states.apply(&committed.events);
            }
            if let Err(error) = projection.apply(&batch).await {
                tracing::warn!(%error, "bookings projection could not record entries; following again");
                if pause(&mut stop).await {
                    return;
                }
                break;
            }
            if lagged {
                break;
            }
        }
    }
}

/// Waits before following again; `true` when told to stop meanwhile.
async fn pause(stop: &mut tokio::sync::watch::Receiver<bool>) -> bool {
    tokio::select! {
        _ = stop.changed() => true,
        _ = tokio::time::sleep(FOLLOW_RETRY_DELAY) => false,
    }
}

async fn load_published(api: &Api) -> Result<(), ApiError> {
    for spec in api.store.published_specs().await? {
        if let Ok(spec) = serde_json::from_str::<picket_ledger_core::PerformanceSpec>(&spec) {
            api.seats_left.register(&spec);
        }
    }
    Ok(())
}
