//! What buyers browse: published shows by category, region, dates and title words, and a
//! show's page with its performances and the places left per grade (from the seats-left read
//! model, never from the ledger).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::auth::Authenticated;
use crate::error::{ApiError, FieldError};
use crate::json::{Path, Query};
use crate::manage::{managed_show, show};
use crate::paging::{page_limit, page_of};
use crate::state::Api;
use crate::store::catalog::ShowFilter;
use crate::taxonomy::{CATEGORIES, REGIONS};
use picket_edge::id::Id;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrowseQuery {
    pub category: Option<String>,
    pub region: Option<String>,
    /// Shows with a performance starting in [from_ms, to_ms].
    pub from_ms: Option<u64>,
    pub to_ms: Option<u64>,
    /// Words in the title.
    pub q: Option<String>,
    pub cursor: Option<Id<i64>>,
    pub limit: Option<u32>,
}

/// `GET /api/v2/shows`: published shows, newest first, paged by cursor.
pub async fn browse(
    State(api): State<Arc<Api>>,
    Query(query): Query<BrowseQuery>,
) -> Result<Response, ApiError> {
    let limit = page_limit(query.limit)?;
    // A category or region that does not exist is a mistake, not a filter that finds nothing.
    let mut errors = Vec::new();
    if let Some(category) = query
        .category
        .as_deref()
        .filter(|c| !CATEGORIES.contains(c))
    {
        errors.push(FieldError {
            field: "category",
            message: format!("{category:?} is not one of {}", CATEGORIES.join(", ")),
        });
    }
    if let Some(region) = query.region.as_deref().filter(|r| !REGIONS.contains(r)) {
        errors.push(FieldError {
            field: "region",
            message: format!("{region:?} is not one of {}", REGIONS.join(", ")),
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let title_like = query
        .q
        .as_ref()
        .filter(|q| !q.trim().is_empty())
        .map(|q| format!("%{}%", like_literal(&q.trim().to_lowercase())));
    let starts_within_ms = (query.from_ms.is_some() || query.to_ms.is_some()).then(|| {
        (
            // Times past i64::MAX (the store's integers) are later than any performance.
            query
                .from_ms
                .map_or(0, |f| i64::try_from(f).unwrap_or(i64::MAX)),
            query
                .to_ms
                .map_or(i64::MAX, |t| i64::try_from(t).unwrap_or(i64::MAX)),
        )
    });
    let rows = api
        .store
        .published_shows(&ShowFilter {
            category: query.category.as_deref(),
            region: query.region.as_deref(),
            title_like: title_like.as_deref(),
            before: query.cursor.map(Id::get),
            starts_within_ms,
            rows: i64::from(limit) + 1,
        })
        .await?;
    Ok(page_of(
        &rows,
        limit,
        |s| serde_json::json!({"id": Id(s.id), "title": s.title, "category": s.category, "region": s.region}),
    ))
}

/// `GET /api/v2/shows/{id}`: a published show (or a draft, to its seller and admins) with its
/// performances, the places left per grade and whether each was called off (then 0 left).
pub async fn show_detail(
    State(api): State<Arc<Api>>,
    Path(Id(id)): Path<Id<i64>>,
    who: Option<Authenticated>,
) -> Result<Response, ApiError> {
    let row = show(&api, id).await?.ok_or(ApiError::NotFound("show"))?;
    let manages = match &who {
        Some(who) => managed_show(&api, who, id).await.is_ok(),
        None => false,
    };
    if row.status != "published" && !manages {
        return Err(ApiError::NotFound("show"));
    }
    let performances = api.store.performances(id, true).await?;
    let mut listed = Vec::new();
    for p in &performances {
        let pid = p.id;
        let left = api.seats_left.left(pid as u64, row.grades.len());
        let left: Vec<serde_json::Value> = row
            .grades
            .iter()
            .enumerate()
            .map(|(g, grade)| {
                serde_json::json!({"grade": grade.code, "price_won": grade.price_won,
                "left": left.as_ref().map(|l| l[g])})
            })
            .collect();
        listed.push(serde_json::json!({"id": Id(pid), "starts_at_ms": p.starts_at_ms,
            "sale": Id(pid), "sale_open_at_ms": p.sale_open_at_ms, "sale_close_at_ms": p.sale_close_at_ms, "grades": left,
            "cancelled": api.seats_left.cancelled(pid as u64)}));
    }
    Ok(Json(serde_json::json!({
        "id": Id(id), "title": row.title, "category": row.category, "region": row.region,
        "description": row.description, "age_rating": row.age_rating, "running_minutes": row.running_minutes,
        "venue_id": Id(row.venue_id), "status": row.status, "performances": listed,
        // Which sections and zones each grade covers, so a buyer's seat map colours and prices
        // every seat of the venue (`GET /api/v2/venues/{id}`) by its grade.
        "grades": row.grades.iter().map(|g| serde_json::json!({"code": g.code,
            "price_won": g.price_won, "sections": g.sections, "zones": g.zones})).collect::<Vec<_>>(),
        "per_buyer_limit": row.per_buyer_limit,
        "booking_fee_won": row.booking_fee_won,
        "door": row.door.public(),
        "waitlist": row.waitlist.public(),
        "discounts": row.discounts.iter().enumerate()
            .map(|(i, d)| crate::offers::public_discount(i, d)).collect::<Vec<_>>(),
        // What cancelling will cost, shown before booking: the schedule every performance of
        // the show opens with (the ledger's `FeeSchedule`, as `checkout` shows it).
        "cancellation": {"fees": row.effective_fees(),
            "booking_fee_refund": picket_payments::flow::BOOKING_FEE_REFUND_RULE},
        // Coupon codes are the seller's to hand out: only the show's managers see them.
        "coupons": if manages { serde_json::to_value(&row.coupons).unwrap_or_default() } else { serde_json::Value::Null },
    }))
    .into_response())
}

/// `GET /api/v2/performances/{id}`: the show a performance belongs to, so a link that names only
/// the performance (the buyer app's `/performances/{id}/book`) finds its show, venue and prices.
/// Visible as the show is: published, or a draft to its seller and admins.
pub async fn performance_detail(
    State(api): State<Arc<Api>>,
    Path(Id(id)): Path<Id<i64>>,
    who: Option<Authenticated>,
) -> Result<Response, ApiError> {
    let not_found = ApiError::NotFound("performance");
    let show_id = api.store.performance_show(id).await?.ok_or(not_found)?;
    let row = show(&api, show_id)
        .await?
        .ok_or(ApiError::NotFound("performance"))?;
    let manages = match &who {
        Some(who) => managed_show(&api, who, show_id).await.is_ok(),
        None => false,
    };
    if row.status != "published" && !manages {
        return Err(ApiError::NotFound("performance"));
    }
    Ok(
        Json(serde_json::json!({"id": Id(id), "show_id": Id(show_id), "sale": Id(id)}))
            .into_response(),
    )
}

/// `text` as a `LIKE` pattern that matches it literally: the store's query declares `\` its
/// escape character, so `%`, `_` and `\` itself are escaped rather than left as wildcards
/// (`?q=%` must find titles with a percent sign, not every show).
pub(crate) fn like_literal(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern
}

#[cfg(test)]
mod tests {
    use super::like_literal;

    #[test]
    fn wildcards_are_escaped() {
        assert_eq!(like_literal("hamlet"), "hamlet");
        assert_eq!(like_literal("100%"), "100\\%");
        assert_eq!(like_literal("a_b"), "a\\_b");
        assert_eq!(like_literal("a\\b"), "a\\\\b");
    }
}
