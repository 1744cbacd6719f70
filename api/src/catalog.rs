//! The catalog: venues with seat maps, shows with price grades over them, performances; publishing
//! (validate, open each performance's inventory in the ledger, announce it); browsing and show
//! detail with the seats left per grade from a read model that follows the ledger's events.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use picket_ledger_client::seats::SeatMaps;
use picket_ledger_core::{
    ActorId, Command, Event, FeeSchedule, GradeId, GradeSpec, IdempotencyKey, PerformanceId,
    PerformanceSpec, Rejection, Request, SeatSpec, TicketKind, ZoneSpec,
};
use serde::{Deserialize, Serialize};
use sqlx::Row;

use crate::error::{ApiError, FieldError};
use crate::offers::{CouponForm, DiscountForm};
use crate::sellers::{CATEGORIES, REGIONS};
use crate::{Api, Authenticated, JsonBody, Role, now_ms};

pub const NAME_LEN_MAX: usize = 100;
pub const DESCRIPTION_LEN_MAX: usize = 5_000;
pub const SEATS_PER_VENUE_MAX: usize = 5_000;
pub const ZONES_PER_VENUE_MAX: usize = 64;
pub const GRADES_PER_SHOW_MAX: usize = 16;
pub const PERFORMANCES_PER_SHOW_MAX: usize = 200;
pub const PAGE_LIMIT_MAX: u32 = 50;
/// Items per page when the client does not say.
pub const PAGE_LIMIT_DEFAULT: u32 = 20;

/// The page size a client asked for, checked.
pub(crate) fn page_limit(limit: Option<u32>) -> Result<u32, ApiError> {
    let limit = limit.unwrap_or(PAGE_LIMIT_DEFAULT);
    if !(1..=PAGE_LIMIT_MAX).contains(&limit) {
        return Err(ApiError::Invalid(vec![FieldError {
            field: "limit",
            message: format!("1 to {PAGE_LIMIT_MAX}"),
        }]));
    }
    Ok(limit)
}

/// A page of `items` (each with an `id`, newest first); when `more` follow, the cursor for the
/// next page is the last item's id (queries ask for one row more than the page to know).
pub(crate) fn page(items: Vec<serde_json::Value>, more: bool) -> Response {
    let next_cursor = more
        .then(|| items.last().map(|i| i["id"].clone()))
        .flatten();
    Json(serde_json::json!({"items": items, "next_cursor": next_cursor})).into_response()
}
/// A hold lasts this long on every published performance (the big platforms give 7–10 min).
pub const HOLD_TTL_MS: u64 = 8 * 60_000;
pub const AGE_RATINGS: [&str; 5] = ["all", "7+", "12+", "15+", "19+"];

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    pub sections: Vec<SectionLayout>,
    #[serde(default)]
    pub zones: Vec<ZoneLayout>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SectionLayout {
    pub name: String,
    pub rows: Vec<RowLayout>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RowLayout {
    pub name: String,
    pub seats: Vec<SeatLayout>,
}

/// A seat and where to draw it (layout units, origin top left).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SeatLayout {
    pub number: u16,
    pub x: i32,
    pub y: i32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ZoneLayout {
    pub name: String,
    pub capacity: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VenueForm {
    pub name: String,
    pub region: String,
    pub address: String,
    pub layout: Layout,
}

fn text_ok(text: &str, max: usize) -> bool {
    let len = text.trim().chars().count();
    len > 0 && len <= max
}

fn validate_venue(form: &VenueForm) -> Result<usize, ApiError> {
    let mut errors = Vec::new();
    if !text_ok(&form.name, NAME_LEN_MAX) {
        errors.push(FieldError {
            field: "name",
            message: format!("1 to {NAME_LEN_MAX} characters"),
        });
    }
    if !REGIONS.contains(&form.region.as_str()) {
        errors.push(FieldError {
            field: "region",
            message: format!("one of {}", REGIONS.join(", ")),
        });
    }
    if !text_ok(&form.address, 200) {
        errors.push(FieldError {
            field: "address",
            message: "1 to 200 characters".into(),
        });
    }
    let layout = &form.layout;
    let seats: usize = layout
        .sections
        .iter()
        .flat_map(|s| &s.rows)
        .map(|r| r.seats.len())
        .sum();
    if seats + layout.zones.len() == 0 || seats > SEATS_PER_VENUE_MAX {
        errors.push(FieldError {
            field: "layout",
            message: format!("1 to {SEATS_PER_VENUE_MAX} seats, or standing zones"),
        });
    }
    let mut names: Vec<&str> = layout.sections.iter().map(|s| s.name.as_str()).collect();
    names.extend(layout.zones.iter().map(|z| z.name.as_str()));
    let all_named = names.iter().all(|n| text_ok(n, 32));
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    if !all_named || names.len() != before {
        errors.push(FieldError {
            field: "layout",
            message: "sections and zones need distinct names of 1 to 32 characters".into(),
        });
    }
    let rows_ok = layout.sections.iter().all(|section| {
        let mut rows: Vec<&str> = section.rows.iter().map(|r| r.name.as_str()).collect();
        rows.sort_unstable();
        let count = rows.len();
        rows.dedup();
        let seats_unique = section.rows.iter().all(|row| {
            let mut numbers: Vec<u16> = row.seats.iter().map(|s| s.number).collect();
            numbers.sort_unstable();
            numbers.windows(2).all(|w| w[0] != w[1])
        });
        rows.len() == count && seats_unique && section.rows.iter().all(|r| text_ok(&r.name, 32))
    });
    if !rows_ok {
        errors.push(FieldError {
            field: "layout.sections",
            message: "row names distinct within a section, seat numbers distinct within a row"
                .into(),
        });
    }
    let zones_ok = layout.zones.len() <= ZONES_PER_VENUE_MAX
        && layout
            .zones
            .iter()
            .all(|z| (1..=picket_ledger_core::limits::ZONE_CAPACITY_MAX).contains(&z.capacity));
    if !zones_ok {
        errors.push(FieldError {
            field: "layout.zones",
            message: format!("at most {ZONES_PER_VENUE_MAX} zones, each for 1 or more people"),
        });
    }
    if errors.is_empty() {
        Ok(seats)
    } else {
        Err(ApiError::Invalid(errors))
    }
}

/// `POST /api/v1/venues` (seller or admin).
pub async fn create_venue(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    JsonBody(form): JsonBody<VenueForm>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Seller, Role::Admin])?;
    let seats = validate_venue(&form)?;
    let id = api.new_id();
    sqlx::query(
        "INSERT INTO venues (id, owner_account_id, name, region, address, layout, seats, created_at_ms) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(who.account_id)
    .bind(form.name.trim())
    .bind(&form.region)
    .bind(form.address.trim())
    .bind(serde_json::to_string(&form.layout).expect("layouts encode"))
    .bind(seats as i64)
    .bind(now_ms() as i64)
    .execute(api.store.pool())
    .await?;
    let body = serde_json::json!({"id": id, "name": form.name.trim(), "region": form.region, "seats": seats,
        "standing_capacity": form.layout.zones.iter().map(|z| u64::from(z.capacity)).sum::<u64>()});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

async fn venue_layout(api: &Api, venue: i64) -> Result<Option<(String, String, Layout)>, ApiError> {
    let row = sqlx::query("SELECT name, region, layout FROM venues WHERE id = $1")
        .bind(venue)
        .fetch_optional(api.store.pool())
        .await?;
    let Some(row) = row else { return Ok(None) };
    let layout: String = row.try_get(2)?;
    let layout = serde_json::from_str(&layout).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(Some((row.try_get(0)?, row.try_get(1)?, layout)))
}

/// `GET /api/v1/venues/{id}`: the venue and its seat map (anyone: buyers draw it).
pub async fn get_venue(
    State(api): State<Arc<Api>>,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    let (name, region, layout) = venue_layout(&api, id)
        .await?
        .ok_or(ApiError::NotFound("venue"))?;
    Ok(
        Json(serde_json::json!({"id": id, "name": name, "region": region, "layout": layout}))
            .into_response(),
    )
}

/// A price grade and the sections and zones it covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GradeRule {
    pub code: String,
    pub price_won: u64,
    #[serde(default)]
    pub sections: Vec<String>,
    #[serde(default)]
    pub zones: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShowForm {
    pub title: String,
    pub category: String,
    pub venue_id: i64,
    pub description: String,
    pub age_rating: String,
    pub running_minutes: u32,
    pub grades: Vec<GradeRule>,
    #[serde(default = "default_per_buyer_limit")]
    pub per_buyer_limit: u16,
    /// The cancellation-fee schedule; absent: the Korean standard for the category.
    #[serde(default)]
    pub fees: Option<FeeSchedule>,
    /// The waiting room of every performance's sale.
    #[serde(default)]
    pub queue: QueueForm,
    /// Discounts a buyer may choose one of: early-bird windows and eligibility discounts.
    #[serde(default)]
    pub discounts: Vec<DiscountForm>,
    /// Coupon codes (one per order, never together with a discount).
    #[serde(default)]
    pub coupons: Vec<CouponForm>,
}

/// How fast a show's sales admit buyers from the waiting room.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QueueForm {
    /// Buyers admitted per second.
    pub admit_per_sec: u32,
    /// Most admitted buyers booking at once.
    pub active_max: u32,
}

impl Default for QueueForm {
    fn default() -> Self {
        QueueForm {
            admit_per_sec: 200,
            active_max: 2_000,
        }
    }
}

/// How long an admitted buyer may book, and how long a dropped buyer keeps a place.
pub const ADMISSION_TTL_MS: u64 = 10 * 60_000;
pub const QUEUE_GRACE_MS: u64 = 30_000;

fn default_per_buyer_limit() -> u16 {
    4
}

/// Every seat's and zone's grade, or what is wrong with the grade rules.
fn assign_grades(layout: &Layout, grades: &[GradeRule]) -> Result<(Vec<u16>, Vec<u16>), String> {
    let grade_of = |name: &str, zone: bool| -> Result<u16, String> {
        let covering: Vec<usize> = grades
            .iter()
            .enumerate()
            .filter(|(_, g)| {
                if zone {
                    g.zones.iter().any(|z| z == name)
                } else {
                    g.sections.iter().any(|s| s == name)
                }
            })
            .map(|(i, _)| i)
            .collect();
        match covering.as_slice() {
            [one] => Ok(*one as u16),
            [] => Err(format!("{name:?} has no grade")),
            _ => Err(format!("{name:?} is in more than one grade")),
        }
    };
    let mut seats = Vec::new();
    for section in &layout.sections {
        let grade = grade_of(&section.name, false)?;
        seats.extend(section.rows.iter().flat_map(|r| &r.seats).map(|_| grade));
    }
    let zones = layout
        .zones
        .iter()
        .map(|z| grade_of(&z.name, true))
        .collect::<Result<_, _>>()?;
    Ok((seats, zones))
}

fn validate_show(form: &ShowForm, layout: &Layout) -> Result<(), ApiError> {
    let mut errors = Vec::new();
    if !text_ok(&form.title, NAME_LEN_MAX) {
        errors.push(FieldError {
            field: "title",
            message: format!("1 to {NAME_LEN_MAX} characters"),
        });
    }
    if !CATEGORIES.contains(&form.category.as_str()) {
        errors.push(FieldError {
            field: "category",
            message: format!("one of {}", CATEGORIES.join(", ")),
        });
    }
    if form.description.chars().count() > DESCRIPTION_LEN_MAX {
        errors.push(FieldError {
            field: "description",
            message: format!("at most {DESCRIPTION_LEN_MAX} characters"),
        });
    }
    if !AGE_RATINGS.contains(&form.age_rating.as_str()) {
        errors.push(FieldError {
            field: "age_rating",
            message: format!("one of {}", AGE_RATINGS.join(", ")),
        });
    }
    if !(1..=600).contains(&form.running_minutes) {
        errors.push(FieldError {
            field: "running_minutes",
            message: "1 to 600".into(),
        });
    }
    if !(1..=picket_ledger_core::limits::PER_BUYER_LIMIT_MAX).contains(&form.per_buyer_limit) {
        errors.push(FieldError {
            field: "per_buyer_limit",
            message: format!("1 to {}", picket_ledger_core::limits::PER_BUYER_LIMIT_MAX),
        });
    }
    let prices_ok = form.grades.iter().all(|g| {
        text_ok(&g.code, 16)
            && g.price_won > 0
            && g.price_won <= picket_ledger_core::limits::TICKET_PRICE_WON_MAX
    });
    let queue_ok = (1..=picket_gateway::room::ADMIT_PER_SEC_MAX)
        .contains(&form.queue.admit_per_sec)
        && (1..=picket_gateway::room::ACTIVE_MAX_MAX).contains(&form.queue.active_max);
    if !queue_ok {
        errors.push(FieldError {
            field: "queue",
            message: format!(
                "admit_per_sec 1 to {}, active_max 1 to {}",
                picket_gateway::room::ADMIT_PER_SEC_MAX,
                picket_gateway::room::ACTIVE_MAX_MAX
            ),
        });
    }
    if form.fees.as_ref().is_some_and(|fees| !fees.is_valid()) {
        errors.push(FieldError {
            field: "fees",
            message: "tiers must not overlap, percentages at most 100, deadlines within the day"
                .into(),
        });
    }
    crate::offers::validate(&form.discounts, &form.coupons, &form.grades, &mut errors);
    if form.grades.is_empty() || form.grades.len() > GRADES_PER_SHOW_MAX || !prices_ok {
        errors.push(FieldError {
            field: "grades",
            message: format!(
                "1 to {GRADES_PER_SHOW_MAX} grades, each with a code and a price in won"
            ),
        });
    } else if let Err(message) = assign_grades(layout, &form.grades) {
        errors.push(FieldError {
            field: "grades",
            message: format!("every section and zone needs exactly one grade: {message}"),
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Invalid(errors))
    }
}

/// `POST /api/v1/shows` (seller): a draft show of the seller's company.
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
    let Some((_, region, layout)) = venue_layout(&api, form.venue_id).await? else {
        return Err(ApiError::Invalid(vec![FieldError {
            field: "venue_id",
            message: "no such venue".into(),
        }]));
    };
    validate_show(&form, &layout)?;
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
    sqlx::query(
        "INSERT INTO shows (id, company_id, venue_id, title, category, region, description, age_rating, \
         running_minutes, grades, per_buyer_limit, status, created_at_ms, fees, queue, discounts, coupons) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'draft', $12, $13, $14, $15, $16)",
    )
    .bind(id)
    .bind(company.id)
    .bind(form.venue_id)
    .bind(form.title.trim())
    .bind(&form.category)
    .bind(&region)
    .bind(&form.description)
    .bind(&form.age_rating)
    .bind(i64::from(form.running_minutes))
    .bind(serde_json::to_string(&form.grades).expect("grades encode"))
    .bind(i64::from(form.per_buyer_limit))
    .bind(now_ms() as i64)
    .bind(form.fees.as_ref().map(|f| serde_json::to_string(f).expect("fees encode")))
    .bind(serde_json::to_string(&form.queue).expect("queue settings encode"))
    .bind(serde_json::to_string(&form.discounts).expect("discounts encode"))
    .bind(serde_json::to_string(&coupons).expect("coupons encode"))
    .execute(api.store.pool())
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({"id": id, "status": "draft"})),
    )
        .into_response())
}

pub(crate) struct ShowRow {
    company_id: i64,
    venue_id: i64,
    title: String,
    category: String,
    region: String,
    description: String,
    age_rating: String,
    running_minutes: i64,
    grades: Vec<GradeRule>,
    per_buyer_limit: i64,
    status: String,
    fees: Option<FeeSchedule>,
    queue: QueueForm,
    discounts: Vec<DiscountForm>,
    coupons: Vec<CouponForm>,
}

async fn show_row(api: &Api, id: i64) -> Result<Option<ShowRow>, ApiError> {
    let row = sqlx::query(
        "SELECT company_id, venue_id, title, category, region, description, age_rating, running_minutes, \
         grades, per_buyer_limit, status, fees, queue, discounts, coupons FROM shows WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(api.store.pool())
    .await?;
    let Some(row) = row else { return Ok(None) };
    let grades: String = row.try_get(8)?;
    Ok(Some(ShowRow {
        company_id: row.try_get(0)?,
        venue_id: row.try_get(1)?,
        title: row.try_get(2)?,
        category: row.try_get(3)?,
        region: row.try_get(4)?,
        description: row.try_get(5)?,
        age_rating: row.try_get(6)?,
        running_minutes: row.try_get(7)?,
        grades: serde_json::from_str(&grades).map_err(|e| ApiError::Internal(e.to_string()))?,
        per_buyer_limit: row.try_get(9)?,
        status: row.try_get(10)?,
        fees: row
            .try_get::<Option<String>, _>(11)?
            .and_then(|fees| serde_json::from_str(&fees).ok()),
        queue: row
            .try_get::<Option<String>, _>(12)?
            .and_then(|queue| serde_json::from_str(&queue).ok())
            .unwrap_or_default(),
        discounts: json_list(row.try_get(13)?)?,
        coupons: json_list(row.try_get(14)?)?,
    }))
}

/// A JSON array column (NULL: empty).
fn json_list<T: serde::de::DeserializeOwned>(text: Option<String>) -> Result<Vec<T>, ApiError> {
    match text {
        None => Ok(Vec::new()),
        Some(text) => serde_json::from_str(&text).map_err(|e| ApiError::Internal(e.to_string())),
    }
}

/// The show, if `who` may manage it: its company's seller, or an admin.
pub(crate) async fn managed_show(
    api: &Api,
    who: &Authenticated,
    id: i64,
) -> Result<ShowRow, ApiError> {
    who.require(&[Role::Seller, Role::Admin])?;
    let show = show_row(api, id).await?.ok_or(ApiError::NotFound("show"))?;
    if who.role == Role::Seller {
        let company = api.store.company_of(who.account_id).await?;
        if company.map(|c| c.id) != Some(show.company_id) {
            return Err(ApiError::Forbidden);
        }
    }
    Ok(show)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PerformanceForm {
    pub starts_at_ms: u64,
    pub sale_open_at_ms: u64,
    /// Default: when the performance starts.
    #[serde(default)]
    pub sale_close_at_ms: Option<u64>,
}

/// `POST /api/v1/shows/{id}/performances` (the show's seller or an admin; drafts only).
pub async fn add_performance(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Path(show): Path<i64>,
    JsonBody(form): JsonBody<PerformanceForm>,
) -> Result<Response, ApiError> {
    let row = managed_show(&api, &who, show).await?;
    if row.status != "draft" {
        return Err(ApiError::Conflict(
            "a published show's performances are fixed",
        ));
    }
    let now = now_ms();
    let close = form.sale_close_at_ms.unwrap_or(form.starts_at_ms);
    let mut errors = Vec::new();
    if form.starts_at_ms <= now {
        errors.push(FieldError {
            field: "starts_at_ms",
            message: "in the future".into(),
        });
    }
    if form.sale_open_at_ms >= close || close > form.starts_at_ms {
        errors.push(FieldError {
            field: "sale_open_at_ms",
            message: "sales open before they close, and close no later than the start".into(),
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM performances WHERE show_id = $1")
        .bind(show)
        .fetch_one(api.store.pool())
        .await?;
    if count as usize >= PERFORMANCES_PER_SHOW_MAX {
        return Err(ApiError::Conflict(
            "the show has the most performances it may have",
        ));
    }
    let id = api.new_id();
    sqlx::query(
        "INSERT INTO performances (id, show_id, starts_at_ms, sale_open_at_ms, sale_close_at_ms) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(id)
    .bind(show)
    .bind(form.starts_at_ms as i64)
    .bind(form.sale_open_at_ms as i64)
    .bind(close as i64)
    .execute(api.store.pool())
    .await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({"id": id}))).into_response())
}

/// What the catalog announces when a show is published (the notifier's interest alerts).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShowPublished {
    pub show: i64,
    pub title: String,
    pub category: String,
    pub region: String,
    pub sale_open_at_ms: Vec<u64>,
}

fn spec_for(
    performance: i64,
    starts_at_ms: u64,
    show: &ShowRow,
    layout: &Layout,
) -> Result<PerformanceSpec, String> {
    let (seat_grades, zone_grades) = assign_grades(layout, &show.grades)?;
    let mut seats = Vec::new();
    let mut grade = seat_grades.into_iter();
    for section in &layout.sections {
        for row in &section.rows {
            for seat in &row.seats {
                seats.push(SeatSpec {
                    section: section.name.clone(),
                    row: row.name.clone(),
                    number: seat.number,
                    grade: GradeId(grade.next().unwrap_or(0)),
                });
            }
        }
    }
    let kind = if ["play", "exhibition"].contains(&show.category.as_str()) {
        TicketKind::Admission
    } else {
        TicketKind::Performance
    };
    Ok(PerformanceSpec {
        performance: PerformanceId(performance as u64),
        starts_at_ms,
        kind,
        grades: show
            .grades
            .iter()
            .map(|g| GradeSpec {
                code: g.code.clone(),
                price_won: g.price_won,
            })
            .collect(),
        seats,
        zones: layout
            .zones
            .iter()
            .zip(zone_grades)
            .map(|(z, g)| ZoneSpec {
                name: z.name.clone(),
                grade: GradeId(g),
                capacity: z.capacity,
            })
            .collect(),
        per_buyer_limit: show.per_buyer_limit as u16,
        hold_ttl_ms: HOLD_TTL_MS,
        fees: show
            .fees
            .clone()
            .unwrap_or_else(|| FeeSchedule::korean_standard(kind)),
        discounts: show
            .discounts
            .iter()
            .map(|d| crate::offers::discount_spec(d, &show.grades))
            .collect::<Result<_, _>>()?,
        coupons: show
            .coupons
            .iter()
            .map(crate::offers::coupon_spec)
            .collect::<Result<_, _>>()?,
    })
}

/// `POST /api/v1/shows/{id}/publish`: validates the show, opens every performance's inventory
/// in the ledger, marks the show published and announces it. Publishing twice is harmless.
pub async fn publish(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Path(show): Path<i64>,
) -> Result<Response, ApiError> {
    let row = managed_show(&api, &who, show).await?;
    let ledger = api
        .ledger
        .clone()
        .ok_or(ApiError::Internal("no ledger configured".into()))?;
    let (_, _, layout) = venue_layout(&api, row.venue_id)
        .await?
        .ok_or(ApiError::NotFound("venue"))?;
    let performances = sqlx::query("SELECT id, starts_at_ms, sale_open_at_ms FROM performances WHERE show_id = $1 ORDER BY starts_at_ms")
        .bind(show)
        .fetch_all(api.store.pool())
        .await?;
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
            .map(|p| p.try_get::<i64, _>(2).map(|ms| ms as u64))
            .collect::<Result<_, _>>()?;
        return Ok(published_answer(show, row, opens));
    }
    let mut opens = Vec::new();
    for performance in &performances {
        let id: i64 = performance.try_get(0)?;
        let starts_at_ms: i64 = performance.try_get(1)?;
        opens.push(performance.try_get::<i64, _>(2)? as u64);
        let spec = spec_for(id, starts_at_ms as u64, &row, &layout).map_err(|m| {
            ApiError::Invalid(vec![FieldError {
                field: "grades",
                message: m,
            }])
        })?;
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
            let settings = picket_gateway::room::SaleSettings {
                open_at_ms: performance.try_get::<i64, _>(2)? as u64,
                admit_per_sec: row.queue.admit_per_sec,
                active_max: row.queue.active_max,
                admission_ttl_ms: ADMISSION_TTL_MS,
                seat_limit: row.per_buyer_limit as u16,
                grace_ms: QUEUE_GRACE_MS,
                paused: false,
            };
            queue
                .configure(id as u64, settings)
                .await
                .map_err(|e| ApiError::QueueUnavailable(e.to_string()))?;
        }
        sqlx::query("UPDATE performances SET spec = $2 WHERE id = $1")
            .bind(id)
            .bind(serde_json::to_string(&spec).expect("specs encode"))
            .execute(api.store.pool())
            .await?;
    }
    sqlx::query("UPDATE shows SET status = 'published', published_at_ms = $2 WHERE id = $1 AND status = 'draft'")
        .bind(show)
        .bind(now_ms() as i64)
        .execute(api.store.pool())
        .await?;
    let event = published_event(show, row, opens);
    tracing::info!(show, "show published");
    let _ = api.published.send(event.clone());
    if let Some(js) = api.announcements.get() {
        announce(js, &event).await?;
    }
    Ok(published_json(show, &event))
}

fn published_json(show: i64, event: &ShowPublished) -> Response {
    Json(serde_json::json!({"id": show, "status": "published", "event": event})).into_response()
}

fn published_event(show: i64, row: ShowRow, sale_open_at_ms: Vec<u64>) -> ShowPublished {
    ShowPublished {
        show,
        title: row.title,
        category: row.category,
        region: row.region,
        sale_open_at_ms,
    }
}

fn published_answer(show: i64, row: ShowRow, opens: Vec<u64>) -> Response {
    published_json(show, &published_event(show, row, opens))
}

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
    pub cursor: Option<i64>,
    pub limit: Option<u32>,
}

/// `GET /api/v1/shows`: published shows, newest first, paged by cursor.
pub async fn browse(
    State(api): State<Arc<Api>>,
    Query(query): Query<BrowseQuery>,
) -> Result<Response, ApiError> {
    let limit = crate::catalog::page_limit(query.limit)?;
    let mut sql =
        String::from("SELECT id, title, category, region FROM shows s WHERE status = 'published'");
    let mut texts: Vec<String> = Vec::new();
    let mut numbers: Vec<i64> = Vec::new();
    // Parameters are numbered in the order they are bound: texts first, then numbers.
    let mut clauses: Vec<(bool, String)> = Vec::new();
    if let Some(category) = &query.category {
        texts.push(category.clone());
        clauses.push((true, "category = ".into()));
    }
    if let Some(region) = &query.region {
        texts.push(region.clone());
        clauses.push((true, "region = ".into()));
    }
    if let Some(q) = query.q.as_ref().filter(|q| !q.trim().is_empty()) {
        texts.push(format!(
            "%{}%",
            q.trim().to_lowercase().replace(['%', '_'], "")
        ));
        clauses.push((true, "LOWER(title) LIKE ".into()));
    }
    let mut n = 0;
    for (_, clause) in clauses.iter().filter(|(text, _)| *text) {
        n += 1;
        sql.push_str(&format!(" AND {clause}${n}"));
    }
    if let Some(cursor) = query.cursor {
        numbers.push(cursor);
        n += 1;
        sql.push_str(&format!(" AND id < ${n}"));
    }
    if query.from_ms.is_some() || query.to_ms.is_some() {
        numbers.push(query.from_ms.unwrap_or(0) as i64);
        numbers.push(query.to_ms.map_or(i64::MAX, |t| t as i64));
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM performances p WHERE p.show_id = s.id AND p.starts_at_ms >= ${} AND p.starts_at_ms <= ${})",
            n + 1,
            n + 2
        ));
        n += 2;
    }
    sql.push_str(&format!(" ORDER BY id DESC LIMIT ${}", n + 1));
    // Audited: `sql` is built from the constant fragments above and `$n` numbers only; every
    // value the client sent is bound as a parameter.
    let mut statement = sqlx::query(sqlx::AssertSqlSafe(sql));
    for text in &texts {
        statement = statement.bind(text.clone());
    }
    for number in &numbers {
        statement = statement.bind(*number);
    }
    let rows = statement
        .bind(i64::from(limit) + 1)
        .fetch_all(api.store.reader())
        .await?;
    let mut items = Vec::new();
    for row in rows.iter().take(limit as usize) {
        let id: i64 = row.try_get(0)?;
        items.push(
            serde_json::json!({"id": id, "title": row.try_get::<String, _>(1)?,
            "category": row.try_get::<String, _>(2)?, "region": row.try_get::<String, _>(3)?}),
        );
    }
    Ok(crate::catalog::page(items, rows.len() > limit as usize))
}

/// `GET /api/v1/shows/{id}`: a published show (or a draft, to its seller and admins) with its
/// performances and the places left per grade.
pub async fn show_detail(
    State(api): State<Arc<Api>>,
    Path(id): Path<i64>,
    who: Option<Authenticated>,
) -> Result<Response, ApiError> {
    let row = show_row(&api, id)
        .await?
        .ok_or(ApiError::NotFound("show"))?;
    let manages = match &who {
        Some(who) => managed_show(&api, who, id).await.is_ok(),
        None => false,
    };
    if row.status != "published" && !manages {
        return Err(ApiError::NotFound("show"));
    }
    let performances = sqlx::query("SELECT id, starts_at_ms, sale_open_at_ms, sale_close_at_ms FROM performances WHERE show_id = $1 ORDER BY starts_at_ms")
        .bind(id)
        .fetch_all(api.store.reader())
        .await?;
    let mut listed = Vec::new();
    for p in &performances {
        let pid: i64 = p.try_get(0)?;
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
        listed.push(serde_json::json!({"id": pid, "starts_at_ms": p.try_get::<i64, _>(1)?,
            "sale": pid, "sale_open_at_ms": p.try_get::<i64, _>(2)?, "sale_close_at_ms": p.try_get::<i64, _>(3)?, "grades": left}));
    }
    Ok(Json(serde_json::json!({
        "id": id, "title": row.title, "category": row.category, "region": row.region,
        "description": row.description, "age_rating": row.age_rating, "running_minutes": row.running_minutes,
        "venue_id": row.venue_id, "status": row.status, "performances": listed,
        "discounts": row.discounts.iter().enumerate()
            .map(|(i, d)| crate::offers::public_discount(i, d)).collect::<Vec<_>>(),
        // Coupon codes are the seller's to hand out: only the show's managers see them.
        "coupons": if manages { serde_json::to_value(&row.coupons).unwrap_or_default() } else { serde_json::Value::Null },
    }))
    .into_response())
}

/// Places left per grade of each published performance: the gateway's seat-map read model
/// ([`SeatMaps`], fed by the ledger's committed events, never by asking the writer) and each
/// performance's seat → grade map from its spec.
#[derive(Default)]
pub struct SeatsLeft {
    maps: Mutex<SeatMaps>,
    grades: Mutex<HashMap<u64, PlaceGrades>>,
}

/// One performance's grade of each seat and of each zone, in spec order.
struct PlaceGrades {
    seats: Vec<u16>,
    zones: Vec<u16>,
}

impl SeatsLeft {
    /// Knows a performance's seat → grade map (from its spec).
    pub fn register(&self, spec: &PerformanceSpec) {
        let grades = PlaceGrades {
            seats: spec.seats.iter().map(|s| s.grade.0).collect(),
            zones: spec.zones.iter().map(|z| z.grade.0).collect(),
        };
        lock(&self.grades).insert(spec.performance.0, grades);
    }

    /// Places on sale per grade, once the ledger's state of the performance is known.
    pub fn left(&self, performance: u64, grades: usize) -> Option<Vec<u64>> {
        let maps = lock(&self.maps);
        let map = maps.maps.get(&performance)?;
        let grade_maps = lock(&self.grades);
        let place_grades = grade_maps.get(&performance)?;
        let mut left = vec![0u64; grades];
        for (free, grade) in map.seat_free.iter().zip(&place_grades.seats) {
            if let Some(count) = left.get_mut(usize::from(*grade)).filter(|_| *free) {
                *count += 1;
            }
        }
        for (free, grade) in map.zone_free.iter().zip(&place_grades.zones) {
            if let Some(count) = left.get_mut(usize::from(*grade)) {
                *count += u64::from(*free);
            }
        }
        Some(left)
    }

    fn reset(&self, seq: u64, availability: Vec<picket_ledger_core::Availability>) {
        lock(&self.maps).reset(seq, availability);
    }

    fn apply(&self, seq: u64, events: &[Event]) {
        let mut maps = lock(&self.maps);
        // Nobody here watches changes: drop them so they do not pile up.
        for performance in maps.apply(seq, events) {
            if let Some(map) = maps.maps.get_mut(&performance) {
                map.take_changes();
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Wait before following the ledger again after a subscription or the projection failed.
const FOLLOW_RETRY_DELAY: std::time::Duration = std::time::Duration::from_millis(500);

/// Follows the ledger into [`SeatsLeft`] and the bookings projection
/// ([`crate::bookings::Projection`]), resubscribing when a subscription ends. Each subscription
/// first catches the projection up from its stored cursors, so nothing committed while the API
/// was down or between two subscriptions is missed. Stops when
/// [`crate::bookings::Bookings::stop_following`] asks (between two transactions).
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
        api.seats_left
            .reset(subscription.seq, subscription.availability);
        let started =
            crate::bookings::Projection::start(&api, &ledger, &subscription.partitions).await;
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
            while batch.len() < crate::bookings::PROJECTION_BATCH_MAX {
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
    let rows = sqlx::query("SELECT spec FROM performances WHERE spec IS NOT NULL")
        .fetch_all(api.store.pool())
        .await?;
    for row in rows {
        let spec: String = row.try_get(0)?;
        if let Ok(spec) = serde_json::from_str::<PerformanceSpec>(&spec) {
            api.seats_left.register(&spec);
        }
    }
    Ok(())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffAssignment {
    pub account_id: i64,
}

/// `POST /api/v1/shows/{id}/staff` (the show's seller, admin): venue staff who may scan its
/// tickets.
pub async fn assign_staff(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Path(show): Path<i64>,
    JsonBody(form): JsonBody<StaffAssignment>,
) -> Result<Response, ApiError> {
    managed_show(&api, &who, show).await?;
    let account = api.store.account_by_id(form.account_id).await?;
    if account.is_none_or(|a| a.role != Role::Staff.as_str()) {
        return Err(ApiError::Invalid(vec![FieldError {
            field: "account_id",
            message: "a venue-staff account".into(),
        }]));
    }
    sqlx::query(
        "INSERT INTO show_staff (show_id, account_id) VALUES ($1, $2) \
         ON CONFLICT (show_id, account_id) DO NOTHING",
    )
    .bind(show)
    .bind(form.account_id)
    .execute(api.store.pool())
    .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/v1/staff/shows` (staff): the shows this account may scan.
pub async fn staff_shows(
    State(api): State<Arc<Api>>,
    who: Authenticated,
) -> Result<Response, ApiError> {
    who.require(&[Role::Staff])?;
    let rows = sqlx::query(
        "SELECT s.id, s.title FROM show_staff a JOIN shows s ON s.id = a.show_id \
         WHERE a.account_id = $1 ORDER BY s.id",
    )
    .bind(who.account_id)
    .fetch_all(api.store.pool())
    .await?;
    let mut items = Vec::new();
    for row in &rows {
        items.push(serde_json::json!({"id": row.try_get::<i64, _>(0)?, "title": row.try_get::<String, _>(1)?}));
    }
    Ok(Json(serde_json::json!({"items": items})).into_response())
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
            event.show,
        ));
    let unavailable = |e: String| ApiError::Internal(format!("announcing the show failed: {e}"));
    js.send_publish(picket_ledger_client::bus::SHOW_PUBLISHED_SUBJECT, message)
        .await
        .map_err(|e| unavailable(e.to_string()))?
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    Ok(())
}
