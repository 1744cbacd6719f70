//! Reminders before a ticket opening (docs/protocol.md, "Notifications (HTTP API v2)"): a
//! member asks to be reminded of a performance's ticket opening (its `sale_open_at_ms`, which
//! follows the operator's sale settings), 1 hour and 10 minutes before by default, each of which
//! can be turned off; "my reminders" lists them. The notifier writes the `reminder`
//! notifications when they are due (`picket_notifier::remind`). Rows and SQL are in
//! `store/reminders.rs`.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, put};
use axum::{Json, Router};
use picket_edge::id::Id;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{Authenticated, Role};
use crate::error::ApiError;
use crate::json::{JsonBody, Path};
use crate::state::{Api, now_ms};
use crate::store::reminders::MyReminderRow;

/// The offsets before an opening a member may be reminded at, by the body's field names.
pub const REMINDER_OFFSETS: [(&str, i64); 2] =
    [("hour_before", 3_600_000), ("ten_minutes_before", 600_000)];
/// The largest of [`REMINDER_OFFSETS`]: how far ahead the notifier's due scan looks.
pub const REMINDER_OFFSET_MS_MAX: i64 = 3_600_000;
/// Performances with openings to come a member may have reminders for at once: what bounds
/// "my reminders".
pub const REMINDERS_PER_MEMBER_MAX: i64 = 50;

pub fn router() -> Router<Arc<Api>> {
    Router::new()
        .route(
            "/api/v2/performances/{id}/reminder",
            put(set_reminder).delete(clear_reminder),
        )
        .route("/api/v2/me/reminders", get(my_reminders))
}

fn on() -> bool {
    true
}

/// Which reminders to keep; both on unless turned off.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReminderForm {
    #[serde(default = "on")]
    pub hour_before: bool,
    #[serde(default = "on")]
    pub ten_minutes_before: bool,
}

fn reminder_json(
    performance: i64,
    show: i64,
    title: &str,
    opens_at_ms: i64,
    starts_at_ms: i64,
    offsets_ms: &[i64],
) -> Value {
    let mut reminder = json!({
        "performance": Id(performance), "show": Id(show), "title": title,
        "opens_at_ms": opens_at_ms, "starts_at_ms": starts_at_ms,
    });
    for (name, offset_ms) in REMINDER_OFFSETS {
        reminder[name] = json!(offsets_ms.contains(&offset_ms));
    }
    reminder
}

/// `PUT /api/v2/performances/{id}/reminder` (members): sets the member's reminders of the
/// performance's ticket opening and answers them. Asked again, it changes which offsets are on
/// (both off is the same as `DELETE`); a reminder already written for this opening is not
/// written again.
pub async fn set_reminder(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Path(Id(performance)): Path<Id<i64>>,
    JsonBody(form): JsonBody<ReminderForm>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Member])?;
    let target = api
        .store
        .reminder_target(performance)
        .await?
        .ok_or(ApiError::NotFound("performance"))?;
    let now_ms = now_ms() as i64;
    if target.sale_open_at_ms <= now_ms {
        return Err(ApiError::Conflict(
            "티켓 오픈 시간이 지났습니다 / the performance's ticket opening has passed",
        ));
    }
    let elsewhere = api
        .store
        .upcoming_reminders_elsewhere(who.account_id, performance, now_ms)
        .await?;
    if (form.hour_before || form.ten_minutes_before) && elsewhere >= REMINDERS_PER_MEMBER_MAX {
        return Err(ApiError::Conflict(
            "알림은 공연 회차 50개까지 신청할 수 있습니다 / reminders for at most 50 performances at once",
        ));
    }
    let offsets = [
        (REMINDER_OFFSETS[0].1, form.hour_before),
        (REMINDER_OFFSETS[1].1, form.ten_minutes_before),
    ];
    api.store
        .set_reminders(
            who.account_id,
            performance,
            &offsets,
            target.sale_open_at_ms,
            now_ms,
        )
        .await?;
    let on: Vec<i64> = offsets
        .iter()
        .filter(|(_, on)| *on)
        .map(|(o, _)| *o)
        .collect();
    Ok(Json(reminder_json(
        performance,
        target.show_id,
        &target.title,
        target.sale_open_at_ms,
        target.starts_at_ms,
        &on,
    ))
    .into_response())
}

/// `DELETE /api/v2/performances/{id}/reminder` (members): no more reminders of this opening
/// (204 whether or not there were any).
pub async fn clear_reminder(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Path(Id(performance)): Path<Id<i64>>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Member])?;
    api.store
        .delete_reminders(who.account_id, performance)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/v2/me/reminders` (members): the member's reminders of openings to come, soonest
/// first.
pub async fn my_reminders(
    State(api): State<Arc<Api>>,
    who: Authenticated,
) -> Result<Response, ApiError> {
    who.require(&[Role::Member])?;
    let rows_max = REMINDERS_PER_MEMBER_MAX * REMINDER_OFFSETS.len() as i64;
    let rows = api
        .store
        .my_reminders(who.account_id, now_ms() as i64, rows_max)
        .await?;
    Ok(Json(json!({"items": group(&rows)})).into_response())
}

/// One item per performance, in the rows' order.
fn group(rows: &[MyReminderRow]) -> Vec<Value> {
    let mut offsets: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    let mut order: Vec<&MyReminderRow> = Vec::new();
    for row in rows {
        let of = offsets.entry(row.performance_id).or_default();
        if of.is_empty() {
            order.push(row);
        }
        of.push(row.offset_ms);
    }
    order
        .into_iter()
        .map(|row| {
            reminder_json(
                row.performance_id,
                row.show_id,
                &row.title,
                row.sale_open_at_ms,
                row.starts_at_ms,
                &offsets[&row.performance_id],
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_offset_bounds_the_scan() {
        assert_eq!(REMINDERS_PER_MEMBER_MAX, 50, "the refusal's text says 50");
        assert_eq!(
            REMINDER_OFFSETS.iter().map(|(_, o)| *o).max(),
            Some(REMINDER_OFFSET_MS_MAX)
        );
    }

    #[test]
    fn rows_group_per_performance() {
        let row = |performance_id, offset_ms| MyReminderRow {
            performance_id,
            show_id: 1,
            title: "t".into(),
            sale_open_at_ms: 10,
            starts_at_ms: 20,
            offset_ms,
        };
        let items = group(&[row(5, 3_600_000), row(5, 600_000), row(6, 600_000)]);
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["performance"], "5");
        assert_eq!(items[0]["hour_before"], true);
        assert_eq!(items[0]["ten_minutes_before"], true);
        assert_eq!(items[1]["hour_before"], false);
        assert_eq!(items[1]["ten_minutes_before"], true);
    }
}
