//! The admin dashboard's platform-wide sales list (`GET /api/v2/admin/sales`): every
//! performance of a published show whose sale is before its open, drawing, open or paused, with
//! its show, company and how it is selling — from the catalog, the waiting room and the
//! seats-left read model the rest of the API serves.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use picket_edge::id::Id;
use picket_room::SaleStatus;
use serde_json::json;

use crate::auth::{Authenticated, Role};
use crate::error::ApiError;
use crate::state::{Api, now_ms};

/// Performances with an unclosed sale looked at, at most (soonest open first); the answer says
/// `truncated` when there were more.
pub const ADMIN_SALES_MAX: usize = 200;

/// The statuses listed: a sale on now or about to be (not sold out, not unavailable).
const ON_NOW: [SaleStatus; 4] = [
    SaleStatus::PreQueue,
    SaleStatus::Drawing,
    SaleStatus::Open,
    SaleStatus::Paused,
];

/// `GET /api/v2/admin/sales` (admin).
pub async fn sales(State(api): State<Arc<Api>>, who: Authenticated) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    let queue = api
        .queue
        .as_ref()
        .ok_or_else(|| ApiError::QueueUnavailable("no waiting room is configured".into()))?;
    let rows = api
        .store
        .sales_on_now(now_ms() as i64, ADMIN_SALES_MAX as i64 + 1)
        .await?;
    let truncated = rows.len() > ADMIN_SALES_MAX;
    let mut items = Vec::new();
    for row in rows.iter().take(ADMIN_SALES_MAX) {
        let sale = row.performance as u64;
        let view = match queue.view(sale).await {
            Ok(view) => view,
            // Not configured (yet, or its record was closed): not on sale.
            Err(picket_room::StoreError::UnknownSale) => continue,
            Err(other) => return Err(ApiError::QueueUnavailable(other.to_string())),
        };
        if !ON_NOW.contains(&view.status) {
            continue;
        }
        let grades =
            serde_json::from_str::<Vec<serde_json::Value>>(&row.grades).map_or(0, |g| g.len());
        let remaining = api
            .seats_left
            .left(sale, grades)
            .map(|left| left.iter().sum::<u64>());
        items.push(json!({
            "performance": Id(row.performance), "show": Id(row.show_id), "title": row.title,
            "company": row.company, "company_id": Id(row.company_id),
            "starts_at_ms": row.starts_at_ms, "sale_open_at_ms": row.sale_open_at_ms,
            "sale_close_at_ms": row.sale_close_at_ms, "status": view.status,
            "prequeue": view.prequeue, "active": view.active, "remaining": remaining,
            "bookings": row.bookings,
        }));
    }
    Ok(Json(json!({"items": items, "truncated": truncated})).into_response())
}
