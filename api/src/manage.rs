//! The seller side of the catalog: venues, draft shows, performances and venue staff, and the
//! check every show-managing handler shares (`managed_show`). Forms and validation are in
//! `venues.rs` and `shows.rs`; publishing is `publish.rs`.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::auth::{Authenticated, Role};
use crate::error::{ApiError, FieldError};
use crate::json::{JsonBody, Path};
use crate::offers::CouponForm;
use crate::shows::{PERFORMANCES_PER_SHOW_MAX, PerformanceForm, Show, ShowForm, StaffAssignment};
use crate::state::{Api, now_ms};
use crate::store::catalog::{NewShow, NewVenue, PerformanceRow, VenueChange};
use crate::venues::{Layout, VenueForm, validate_venue};
use picket_edge::id::Id;

/// `POST /api/v2/venues` (seller or admin).
pub async fn create_venue(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    JsonBody(form): JsonBody<VenueForm>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Seller, Role::Admin])?;
    let seats = validate_venue(&form)?;
    let id = api.new_id();
    api.store
        .insert_venue(&NewVenue {
            id,
            owner_account_id: who.account_id,
            name: form.name.trim(),
            region: &form.region,
            address: form.address.trim(),
            layout: serde_json::to_string(&form.layout).expect("layouts encode"),
            seats: seats as i64,
            created_at_ms: now_ms() as i64,
        })
        .await?;
    let body = serde_json::json!({"id": Id(id), "name": form.name.trim(), "region": form.region, "seats": seats,
        "standing_capacity": form.layout.zones.iter().map(|z| u64::from(z.capacity)).sum::<u64>()});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `PUT /api/v2/venues/{id}` (a seller of the owning company): replaces the venue's
/// name, region, address and seat map, checked as `POST` checks them, while no show at it is
/// published or being published (409 `venue_in_use` from the moment a publish pins the venue:
/// its seat ids are, or are about to be, on sale; `Store::update_venue`).
pub async fn update_venue(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Path(Id(id)): Path<Id<i64>>,
    JsonBody(form): JsonBody<VenueForm>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Seller])?;
    if api.store.venue_owner(id).await?.is_none() {
        return Err(ApiError::NotFound("venue"));
    }
    // A seller edits the venues of its own company (whichever of its sellers created them).
    let mine = api.store.company_of(who.account_id).await?;
    if mine.is_none() || venue_company(&api, id).await? != mine.map(|company| company.id) {
        return Err(ApiError::Forbidden);
    }
    let seats = validate_venue(&form)?;
    let updated = api
        .store
        .update_venue(
            id,
            &VenueChange {
                name: form.name.trim(),
                region: &form.region,
                address: form.address.trim(),
                layout: serde_json::to_string(&form.layout).expect("layouts encode"),
                seats: seats as i64,
            },
            now_ms().saturating_sub(crate::store::catalog::PUBLISH_PIN_CHECK_MS_MAX) as i64,
        )
        .await?;
    if !updated {
        return Err(ApiError::VenueInUse);
    }
    let body = serde_json::json!({"id": Id(id), "name": form.name.trim(), "region": form.region, "seats": seats,
        "standing_capacity": form.layout.zones.iter().map(|z| u64::from(z.capacity)).sum::<u64>()});
    Ok(Json(body).into_response())
}

/// A venue's name, region and seat map.
pub(crate) async fn venue(
    api: &Api,
    venue: i64,
) -> Result<Option<(String, String, Layout)>, ApiError> {
    let Some(row) = api.store.venue(venue).await? else {
        return Ok(None);
    };
    let layout =
        serde_json::from_str(&row.layout).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Some((row.name, row.region, layout)))
}

/// The company that owns the venue: the one whose seller created it (none for an admin's).
async fn venue_company(api: &Api, venue: i64) -> Result<Option<i64>, ApiError> {
    let Some(owner) = api.store.venue_owner(venue).await? else {
        return Ok(None);
    };
    Ok(api.store.company_of(owner).await?.map(|company| company.id))
}

/// `GET /api/v2/venues/{id}`: the venue and its seat map (anyone: buyers draw it), and every
/// seat's and zone's ledger id, which a hold names them by.
pub async fn get_venue(
    State(api): State<Arc<Api>>,
    Path(Id(id)): Path<Id<i64>>,
) -> Result<Response, ApiError> {
    let row = api
        .store
        .venue(id)
        .await?
        .ok_or(ApiError::NotFound("venue"))?;
    let layout: Layout =
        serde_json::from_str(&row.layout).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Json(
        serde_json::json!({"id": Id(id), "name": row.name, "region": row.region, "address": row.address, "layout": layout,
        "seats": layout.seat_places(), "zones": layout.zone_places()}),
    )
    .into_response())
}

/// `POST /api/v2/shows` (seller): a draft show of the seller's company.
pub async fn create_show(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    JsonBody(form): JsonBody<ShowForm>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Seller])?;
    let company = api
        .store
        .company_of(who.account_id)
        .await?
        .ok_or(ApiError::Forbidden)?;
    let Some((_, region, layout)) = venue(&api, form.venue_id.0).await? else {
        return Err(ApiError::Invalid(vec![FieldError {
            field: "venue_id",
            message: "no such venue".into(),
        }]));
    };
    // A venue belongs to the company whose seller created it, and only that company stages
    // shows there: two companies selling one venue's seats for the same evening would sell the
    // same physical seats twice, and the ledger cannot tell (each performance has its own
    // inventory). A venue made by an admin belongs to no company and hosts no seller's show.
    if venue_company(&api, form.venue_id.0).await? != Some(company.id) {
        return Err(ApiError::Invalid(vec![FieldError {
            field: "venue_id",
            message: "a venue your company created".into(),
        }]));
    }
    crate::shows::validate_show(&form, &layout)?;
    // Codes are kept as the ledger compares them: upper-case.
    let coupons: Vec<CouponForm> = form
        .coupons
        .iter()
        .map(|c| CouponForm {
            code: c.code.trim().to_ascii_uppercase(),
            ..c.clone()
        })
        .collect();
    let id = api.new_id();
    api.store
        .insert_show(&NewShow {
            id,
            company_id: company.id,
            venue_id: form.venue_id.0,
            title: form.title.trim(),
            category: &form.category,
            region: &region,
            description: &form.description,
            age_rating: &form.age_rating,
            running_minutes: i64::from(form.running_minutes),
            grades: serde_json::to_string(&form.grades).expect("grades encode"),
            per_buyer_limit: i64::from(form.per_buyer_limit),
            created_at_ms: now_ms() as i64,
            fees: form
                .fees
                .as_ref()
                .map(|f| serde_json::to_string(f).expect("fees encode")),
            // Checked against BOOKING_FEE_WON_MAX (far below i64::MAX) by `validate_show`.
            booking_fee_won: form.booking_fee_won as i64,
            queue: serde_json::to_string(&form.queue).expect("queue settings encode"),
            discounts: serde_json::to_string(&form.discounts).expect("discounts encode"),
            coupons: serde_json::to_string(&coupons).expect("coupons encode"),
            door: serde_json::to_string(&form.door.trimmed()).expect("door settings encode"),
            waitlist: serde_json::to_string(&form.waitlist).expect("waitlist settings encode"),
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({"id": Id(id), "status": "draft"})),
    )
        .into_response())
}

/// The show, decoded, if it exists.
pub(crate) async fn show(api: &Api, id: i64) -> Result<Option<Show>, ApiError> {
    api.store.show(id).await?.map(Show::decode).transpose()
}

/// The show, if `who` may manage it: its company's seller, or an admin.
pub(crate) async fn managed_show(
    api: &Api,
    who: &Authenticated,
    id: i64,
) -> Result<Show, ApiError> {
    who.require(&[Role::Seller, Role::Admin])?;
    let show = show(api, id).await?.ok_or(ApiError::NotFound("show"))?;
    if who.role == Role::Seller {
        let company = api.store.company_of(who.account_id).await?;
        if company.map(|c| c.id) != Some(show.company_id) {
            return Err(ApiError::Forbidden);
        }
    }
    Ok(show)
}

/// `POST /api/v2/shows/{id}/performances` (the show's seller or an admin; drafts only).
pub async fn add_performance(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Path(Id(show)): Path<Id<i64>>,
    JsonBody(form): JsonBody<PerformanceForm>,
) -> Result<Response, ApiError> {
    let row = managed_show(&api, &who, show).await?;
    if row.status != "draft" {
        return Err(ApiError::Conflict(
            "a published show's performances are fixed",
        ));
    }
    let close = form.validate(now_ms())?;
    let count = api.store.performance_count(show).await?;
    if count as usize >= PERFORMANCES_PER_SHOW_MAX {
        return Err(ApiError::Conflict(
            "the show has the most performances it may have",
        ));
    }
    let id = api.new_id();
    api.store
        .insert_performance(
            &PerformanceRow {
                id,
                starts_at_ms: form.starts_at_ms as i64,
                sale_open_at_ms: form.sale_open_at_ms as i64,
                sale_close_at_ms: close as i64,
            },
            show,
        )
        .await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({"id": Id(id)}))).into_response())
}

/// `POST /api/v2/shows/{id}/staff` (the show's seller, admin): venue staff who may scan its
/// tickets.
pub async fn assign_staff(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Path(Id(show)): Path<Id<i64>>,
    JsonBody(form): JsonBody<StaffAssignment>,
) -> Result<Response, ApiError> {
    managed_show(&api, &who, show).await?;
    let account = api.store.account_by_id(form.account_id.0).await?;
    if account.is_none_or(|a| a.role != Role::Staff.as_str()) {
        return Err(ApiError::Invalid(vec![FieldError {
            field: "account_id",
            message: "a venue-staff account".into(),
        }]));
    }
    api.store.assign_staff(show, form.account_id.0).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/v2/staff/shows` (staff): the shows this account may scan.
pub async fn staff_shows(
    State(api): State<Arc<Api>>,
    who: Authenticated,
) -> Result<Response, ApiError> {
    who.require(&[Role::Staff])?;
    let items: Vec<serde_json::Value> = api
        .store
        .staff_shows(who.account_id)
        .await?
        .into_iter()
        .map(|s| serde_json::json!({"id": Id(s.id), "title": s.title}))
        .collect();
    Ok(Json(serde_json::json!({"items": items})).into_response())
}
