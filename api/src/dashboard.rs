//! The seller's live dashboard, the API's side: who may see a performance's dashboard and its
//! figures ([`Source`], the gateway's [`DashboardSource`]: the gateway pushes them over `/ws`),
//! and the seller's controls of their own performance's waiting room
//! (`PUT /api/v2/performances/{id}/sale`: admission rate and pause).
//!
//! Figures come from the API's records only — the bookings projection (as the settlement reads
//! it), the catalog, the seats-left and seat-states reads (both fed by the ledger's committed
//! events) — and the ledger's waitlist and door reports: no second source of truth.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use picket_edge::dashboard::{
    DASHBOARD_MINUTES_MAX, DashboardDoor, DashboardFigures, DashboardFuture, DashboardGrade,
    DashboardMinute, DashboardRefusal, DashboardSales, DashboardSource, DashboardWaiting,
    DashboardWaitlist,
};
use picket_edge::id::Id;
use picket_ledger_client::{ClientStatus, LedgerClient};
use picket_ledger_core::{PerformanceId, Place};
use picket_room::SaleSettings;
use serde::Deserialize;

use crate::auth::{Authenticated, authenticate};
use crate::error::{ApiError, FieldError};
use crate::json::{JsonBody, Path};
use crate::manage::{managed_show, show};
use crate::seat_states::Recorded;
use crate::settlement::settle;
use crate::state::Api;

const MINUTE_MS: u64 = 60_000;

/// The gateway's door to the API for dashboards: `picket up` hands it to every gateway it runs.
pub fn source(api: Arc<Api>) -> Arc<dyn DashboardSource> {
    Arc::new(Source { api })
}

struct Source {
    api: Arc<Api>,
}

fn refusal(error: ApiError) -> DashboardRefusal {
    match error {
        ApiError::Unauthenticated => DashboardRefusal::SessionEnded,
        ApiError::Forbidden => DashboardRefusal::Forbidden,
        ApiError::NotFound(_) => DashboardRefusal::UnknownPerformance,
        _ => DashboardRefusal::Unavailable,
    }
}

impl DashboardSource for Source {
    fn authorise<'a>(&'a self, token: &'a str, performance: u64) -> DashboardFuture<'a, ()> {
        Box::pin(async move {
            let who = authenticate(&self.api, Some(token))
                .await
                .map_err(refusal)?;
            managed_performance(&self.api, &who, performance)
                .await
                .map(|_| ())
                .map_err(refusal)
        })
    }

    fn figures(&self, performance: u64) -> DashboardFuture<'_, DashboardFigures> {
        Box::pin(async move { figures(&self.api, performance).await.map_err(refusal) })
    }
}

/// The show of `performance`, if `who` manages it (its seller, or an admin).
async fn managed_performance(
    api: &Api,
    who: &Authenticated,
    performance: u64,
) -> Result<i64, ApiError> {
    let performance = i64::try_from(performance).map_err(|_| ApiError::NotFound("performance"))?;
    let show = api
        .store
        .performance_show(performance)
        .await?
        .ok_or(ApiError::NotFound("performance"))?;
    managed_show(api, who, show).await?;
    Ok(show)
}

/// The ledger partition holding `performance`: the projection's cursor there says which commits
/// the figures include.
fn partition_of(ledger: &LedgerClient, performance: u64) -> u16 {
    match ledger.status() {
        ClientStatus::InProcess(status) => status.partition,
        ClientStatus::Nats { partitions, .. } => {
            picket_ledger_client::bus::partition_of(PerformanceId(performance), partitions)
        }
    }
}

async fn figures(api: &Api, performance: u64) -> Result<DashboardFigures, ApiError> {
    let id = i64::try_from(performance).map_err(|_| ApiError::NotFound("performance"))?;
    let show_id = api
        .store
        .performance_show(id)
        .await?
        .ok_or(ApiError::NotFound("performance"))?;
    let found = show(api, show_id)
        .await?
        .ok_or(ApiError::NotFound("show"))?;
    let starts_at_ms = api
        .store
        .performances(show_id, false)
        .await?
        .into_iter()
        .find(|p| p.id == id)
        .map_or(0, |p| u64::try_from(p.starts_at_ms).unwrap_or(0));
    let ledger = api.ledger.as_ref().ok_or(ApiError::LedgerUnavailable)?;
    // The cursor is read before the totals: the totals include at least every commit up to it.
    let seq = api
        .store
        .projection_cursor(partition_of(ledger, performance))
        .await?;
    let totals = api.store.settlement_totals(id).await?;
    let settled = settle(&totals);
    let minutes = api
        .store
        .bookings_per_minute(id, DASHBOARD_MINUTES_MAX as i64)
        .await?;
    let codes: Vec<String> = found.grades.iter().map(|g| g.code.clone()).collect();
    let left = api.seats_left.left(performance, found.grades.len());
    let grades = found
        .grades
        .iter()
        .enumerate()
        .map(|(index, grade)| DashboardGrade {
            code: grade.code.clone(),
            price_won: grade.price_won,
            left: left.as_ref().and_then(|l| l.get(index).copied()),
        })
        .collect();
    let pid = PerformanceId(performance);
    let waitlist = ledger
        .waitlist(pid, None)
        .await
        .map_err(|_| ApiError::LedgerUnavailable)?
        .map(|read| waitlist_figures(&read.report, &codes))
        .unwrap_or_default();
    let door = ledger
        .door_report(pid)
        .await
        .map_err(|_| ApiError::LedgerUnavailable)?
        .map(|report| DashboardDoor {
            doors_open_ms: starts_at_ms.saturating_sub(api.config.doors_open_before_start_ms),
            admitted: report.admitted,
            inside: report.inside,
            no_shows: report.no_shows,
            conflicts_total: report.conflicts_total,
        })
        .unwrap_or_default();
    resolve_seats(api, performance).await?;
    let seats = api.seat_states.seats(performance);
    Ok(DashboardFigures {
        show: Id(show_id),
        title: found.title,
        starts_at_ms,
        cancelled: api.seats_left.cancelled(performance).unwrap_or(false),
        seq,
        sales: DashboardSales {
            bookings: settled.bookings,
            sales_won: settled.sales_won,
            refunds_won: settled.refunds_won,
            cancellation_fees_won: settled.cancellation_fees_won,
            booking_fees_won: settled.booking_fees_won,
            platform_commission_won: settled.platform_commission_won,
            net_payable_won: settled.net_payable_won,
        },
        minutes: minutes
            .iter()
            .rev()
            .map(|m| DashboardMinute {
                minute_ms: u64::try_from(m.minute).unwrap_or(0) * MINUTE_MS,
                bookings: u64::try_from(m.bookings).unwrap_or(0),
                sales_won: u64::try_from(m.paid_won).unwrap_or(0),
            })
            .collect(),
        grades,
        waitlist,
        door,
        seats,
    })
}

/// Tells apart the seats the ledger's snapshot had off sale (held, sold or reserved), from the
/// bookings projection, once per subscription of the API to the ledger (`seat_states.rs`).
async fn resolve_seats(api: &Api, performance: u64) -> Result<(), ApiError> {
    let Some(generation) = api.seat_states.to_resolve(performance) else {
        return Ok(());
    };
    let id = i64::try_from(performance).map_err(|_| ApiError::NotFound("performance"))?;
    let seat_of = |place: &Place| match place {
        Place::Seat(seat) => Some(seat.0),
        Place::Zone(_) => None,
    };
    let mut recorded = Recorded::default();
    for (hold, places) in api.store.open_hold_places(id).await? {
        let places: Vec<Place> = serde_json::from_str(&places).unwrap_or_default();
        let seats = places.iter().filter_map(seat_of).collect();
        recorded
            .holds
            .push((u64::try_from(hold).unwrap_or(0), seats));
    }
    for (places, first_ticket, cancelled) in api.store.booked_places(id).await? {
        let places: Vec<Place> = serde_json::from_str(&places).unwrap_or_default();
        let cancelled: Vec<i64> = serde_json::from_str(&cancelled).unwrap_or_default();
        for (index, place) in places.iter().enumerate() {
            let ticket = first_ticket + index as i64;
            if !cancelled.contains(&ticket)
                && let Some(seat) = seat_of(place)
            {
                recorded.sold.push(seat);
            }
        }
    }
    // Blocked seats are off sale in every snapshot; the spec the ledger opened with names them.
    if let Some(spec) = api.store.ledger_spec(id).await? {
        let spec: Option<picket_ledger_core::PerformanceSpec> = serde_json::from_str(&spec).ok();
        recorded.blocked = spec
            .map(|spec| {
                spec.seats
                    .iter()
                    .enumerate()
                    .filter(|(_, seat)| seat.blocked)
                    .filter_map(|(index, _)| u32::try_from(index).ok())
                    .collect()
            })
            .unwrap_or_default();
    }
    api.seat_states.resolve(performance, generation, recorded);
    Ok(())
}

fn waitlist_figures(
    report: &picket_ledger_core::WaitlistReport,
    codes: &[String],
) -> DashboardWaitlist {
    DashboardWaitlist {
        enabled: report.enabled,
        per_grade: report
            .waiting
            .per_grade
            .iter()
            .enumerate()
            .map(|(index, waiting)| DashboardWaiting {
                grade: codes.get(index).cloned().unwrap_or_default(),
                waiting: *waiting,
            })
            .collect(),
        any_grade: report.waiting.any_grade,
        offers_open: report.offers_open,
        places_offered: report.places_offered,
        places_booked: report.places_booked,
        places_reserved: report.places_reserved,
    }
}

/// The body of `PUT /api/v2/performances/{id}/sale`: what a seller may change of their own
/// performance's waiting room while it sells. Absent fields stay as they are.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaleControls {
    pub admit_per_sec: Option<u32>,
    pub paused: Option<bool>,
}

/// `PUT /api/v2/performances/{id}/sale` (the show's seller or an admin): change the admission
/// rate or pause and resume admission; answers the sale's settings and counters as
/// `GET /api/v2/sales/{sale}` does. Recorded like the operator's `PUT /api/v2/sales/{sale}`
/// (`restore.rs`), which may change every setting.
pub async fn control_sale(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Path(Id(performance)): Path<Id<i64>>,
    JsonBody(form): JsonBody<SaleControls>,
) -> Result<Response, ApiError> {
    let performance = u64::try_from(performance).map_err(|_| ApiError::NotFound("performance"))?;
    managed_performance(&api, &who, performance).await?;
    let queue = api
        .queue
        .clone()
        .ok_or_else(|| ApiError::QueueUnavailable("no waiting room is configured".into()))?;
    let current = queue.view(performance).await.map_err(|error| match error {
        picket_room::StoreError::UnknownSale => ApiError::UnknownSale,
        other => ApiError::QueueUnavailable(other.to_string()),
    })?;
    let settings = SaleSettings {
        admit_per_sec: form.admit_per_sec.unwrap_or(current.settings.admit_per_sec),
        paused: form.paused.unwrap_or(current.settings.paused),
        ..current.settings
    };
    settings.validate().map_err(|why| {
        ApiError::Invalid(vec![FieldError {
            field: "admit_per_sec",
            message: why.to_owned(),
        }])
    })?;
    tracing::info!(
        performance,
        account = who.account_id,
        admit_per_sec = settings.admit_per_sec,
        paused = settings.paused,
        "seller changed the sale"
    );
    let view =
        crate::restore::configure_sale(&api, queue.as_ref(), performance, settings, None).await?;
    Ok(Json(crate::sales::sale_json(view)).into_response())
}
