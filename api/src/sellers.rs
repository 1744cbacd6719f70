//! Sellers (company accounts), staff and admin accounts, and members' interests.

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::accounts::{AccountView, SignUp, new_account, validate_sign_up};
use crate::approval::Approval;
use crate::auth::{Authenticated, Role, authenticate, bearer};
use crate::error::{ApiError, FieldError};
use crate::json::{JsonBody, Path, Query};
use crate::operator::is_operator;
use crate::paging::{page_limit, page_of};
use crate::state::Api;
use crate::store::sellers::{Company, SellerConflict};
use picket_edge::id::Id;

pub use crate::taxonomy::{CATEGORIES, REGIONS};

pub const COMPANY_NAME_LEN_MAX: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompanyForm {
    pub name: String,
    /// 사업자등록번호: ten digits, dashes allowed (123-45-67891).
    pub business_number: String,
    pub contact_email: String,
    pub contact_phone: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SellerSignUp {
    pub account: SignUp,
    pub company: CompanyForm,
}

#[derive(Debug, Serialize)]
pub struct CompanyView {
    pub id: Id<i64>,
    pub name: String,
    pub business_number: String,
    pub contact_email: String,
    pub contact_phone: String,
    /// `pending`, `approved` or `suspended`: only an approved company publishes shows.
    pub approval: String,
}

impl From<&Company> for CompanyView {
    fn from(company: &Company) -> Self {
        CompanyView {
            id: Id(company.id),
            name: company.name.clone(),
            business_number: company.business_number.clone(),
            contact_email: company.contact_email.clone(),
            contact_phone: company.contact_phone.clone(),
            approval: company.approval.clone(),
        }
    }
}

/// A Korean business registration number's ten digits, if its check digit is right.
pub fn business_number_digits(text: &str) -> Option<String> {
    if !text.chars().all(|c| c.is_ascii_digit() || c == '-') {
        return None;
    }
    let digits: Vec<u32> = text.chars().filter_map(|c| c.to_digit(10)).collect();
    if digits.len() != 10 {
        return None;
    }
    const WEIGHTS: [u32; 9] = [1, 3, 7, 1, 3, 7, 1, 3, 5];
    let weighted: u32 = digits.iter().zip(WEIGHTS).map(|(d, w)| d * w).sum();
    let sum = weighted + digits[8] * 5 / 10;
    let check = (10 - sum % 10) % 10;
    (check == digits[9]).then(|| {
        digits
            .iter()
            .map(|d| char::from_digit(*d, 10).unwrap_or('0'))
            .collect()
    })
}

fn validate_company(form: &CompanyForm, errors: &mut Vec<FieldError>) -> Option<String> {
    if !crate::venues::text_ok(&form.name, COMPANY_NAME_LEN_MAX) {
        errors.push(FieldError {
            field: "company.name",
            message: format!("1 to {COMPANY_NAME_LEN_MAX} characters"),
        });
    }
    let number = business_number_digits(&form.business_number);
    if number.is_none() {
        errors.push(FieldError {
            field: "company.business_number",
            message: "ten digits with a valid check digit, e.g. 123-45-67891".into(),
        });
    }
    if crate::accounts::normalize_email(&form.contact_email).is_none() {
        errors.push(FieldError {
            field: "company.contact_email",
            message: "an email address like contact@example.com".into(),
        });
    }
    let digits = form
        .contact_phone
        .chars()
        .filter(char::is_ascii_digit)
        .count();
    if !(8..=20).contains(&digits) {
        errors.push(FieldError {
            field: "company.contact_phone",
            message: "8 to 20 digits, e.g. 02-123-4567".into(),
        });
    }
    number
}

/// `POST /api/v2/companies`: a seller account with its company.
pub async fn register_seller(
    State(api): State<Arc<Api>>,
    JsonBody(body): JsonBody<SellerSignUp>,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let email = match validate_sign_up(&body.account) {
        Ok(email) => Some(email),
        Err(ApiError::Invalid(account_errors)) => {
            errors.extend(account_errors);
            None
        }
        Err(other) => return Err(other),
    };
    let number = validate_company(&body.company, &mut errors);
    let (Some(email), Some(number), true) = (email, number, errors.is_empty()) else {
        return Err(ApiError::Invalid(errors));
    };
    let account = new_account(&api, email, body.account, Role::Seller).await?;
    let company = Company {
        id: api.new_id(),
        owner_account_id: account.id,
        name: body.company.name.trim().to_owned(),
        business_number: number,
        contact_email: body.company.contact_email.trim().to_lowercase(),
        contact_phone: body.company.contact_phone,
        created_at_ms: account.created_at_ms,
        approval: api.config.seller_approval.initial().as_str().to_owned(),
    };
    match api.store.insert_seller(&account, &company).await? {
        Ok(()) => {}
        Err(SellerConflict::Email) => {
            return Err(ApiError::Conflict("an account with this email exists"));
        }
        Err(SellerConflict::BusinessNumber) => {
            return Err(ApiError::Conflict(
                "a company with this business number exists",
            ));
        }
    }
    let body = serde_json::json!({"account": AccountView::from(&account), "company": CompanyView::from(&company)});
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /api/v2/companies/mine`: the seller's own company.
pub async fn my_company(
    State(api): State<Arc<Api>>,
    who: Authenticated,
) -> Result<Response, ApiError> {
    who.require(&[Role::Seller])?;
    let company = api
        .store
        .company_of(who.account_id)
        .await?
        .ok_or(ApiError::NotFound("company"))?;
    Ok(Json(CompanyView::from(&company)).into_response())
}

/// `GET /api/v2/companies/mine/shows`: the seller's company's shows, drafts included, newest
/// first, paged by cursor. The public list (`GET /api/v2/shows`) has published shows only.
pub async fn my_shows(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Query(query): Query<crate::board::Page>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Seller])?;
    let limit = page_limit(query.limit)?;
    let company = api
        .store
        .company_of(who.account_id)
        .await?
        .ok_or(ApiError::NotFound("company"))?;
    let rows = api
        .store
        .company_shows(
            company.id,
            query.cursor.map_or(i64::MAX, Id::get),
            i64::from(limit) + 1,
        )
        .await?;
    Ok(page_of(&rows, limit, |show| {
        serde_json::json!({"id": Id(show.id), "title": show.title, "category": show.category,
                "region": show.region, "status": show.status, "venue_id": Id(show.venue_id),
                "performances": show.performances, "first_starts_at_ms": show.first_starts_at_ms})
    }))
}

/// `GET /api/v2/companies/mine/venues`: the venues the seller created — the only ones its
/// company may stage shows at — newest first, paged by cursor.
pub async fn my_venues(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Query(query): Query<crate::board::Page>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Seller])?;
    let limit = page_limit(query.limit)?;
    let rows = api
        .store
        .owned_venues(
            who.account_id,
            query.cursor.map_or(i64::MAX, Id::get),
            i64::from(limit) + 1,
        )
        .await?;
    Ok(page_of(&rows, limit, |venue| {
        serde_json::json!({"id": Id(venue.id), "name": venue.name, "region": venue.region,
                "address": venue.address, "seats": venue.seats})
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StandardFeesQuery {
    pub category: String,
}

/// `GET /api/v2/cancellation-fees/standard?category=…`: the Korean standard cancellation-fee
/// schedule a show of the category gets when its form names none — what a seller's form starts
/// from — and the booking-fee refund rule (`GET /api/v2/shows/{id}` `cancellation` says the same
/// for a show).
pub async fn standard_fees(Query(query): Query<StandardFeesQuery>) -> Result<Response, ApiError> {
    if !CATEGORIES.contains(&query.category.as_str()) {
        return Err(ApiError::Invalid(vec![FieldError {
            field: "category",
            message: format!("one of {}", CATEGORIES.join(", ")),
        }]));
    }
    let fees = picket_ledger_core::fees::FeeSchedule::korean_standard(crate::shows::ticket_kind(
        &query.category,
    ));
    Ok(Json(serde_json::json!({"fees": fees,
        "booking_fee_refund": picket_payments::flow::BOOKING_FEE_REFUND_RULE}))
    .into_response())
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Interests {
    pub categories: Vec<String>,
    pub regions: Vec<String>,
}

/// `PUT /api/v2/me/interests`: what the member wants alerts about.
pub async fn set_interests(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    JsonBody(body): JsonBody<Interests>,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    if let Some(bad) = body
        .categories
        .iter()
        .find(|c| !CATEGORIES.contains(&c.as_str()))
    {
        errors.push(FieldError {
            field: "categories",
            message: format!("{bad:?} is not one of {}", CATEGORIES.join(", ")),
        });
    }
    if let Some(bad) = body.regions.iter().find(|r| !REGIONS.contains(&r.as_str())) {
        errors.push(FieldError {
            field: "regions",
            message: format!("{bad:?} is not one of {}", REGIONS.join(", ")),
        });
    }
    if !errors.is_empty() {
        return Err(ApiError::Invalid(errors));
    }
    let mut pairs: Vec<(&str, &str)> = body
        .categories
        .iter()
        .map(|c| ("category", c.as_str()))
        .collect();
    pairs.extend(body.regions.iter().map(|r| ("region", r.as_str())));
    pairs.sort();
    pairs.dedup();
    api.store.set_interests(who.account_id, &pairs).await?;
    get_interests(State(api), who).await
}

/// `GET /api/v2/me/interests`.
pub async fn get_interests(
    State(api): State<Arc<Api>>,
    who: Authenticated,
) -> Result<Response, ApiError> {
    let pairs = api.store.interests(who.account_id).await?;
    let pick = |kind: &str| {
        pairs
            .iter()
            .filter(|(k, _)| k == kind)
            .map(|(_, v)| v.clone())
            .collect()
    };
    Ok(Json(Interests {
        categories: pick("category"),
        regions: pick("region"),
    })
    .into_response())
}

/// Refuses with `company_not_approved` unless the company is approved: what publishing checks.
pub async fn require_approved(api: &Api, company: i64) -> Result<(), ApiError> {
    let approval = api.store.company_approval(company).await?;
    match approval.as_deref().and_then(Approval::parse) {
        Some(Approval::Approved) => Ok(()),
        Some(other) => Err(ApiError::CompanyNotApproved(other.as_str())),
        None => Err(ApiError::NotFound("company")),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompaniesQuery {
    /// Only companies of this approval status.
    pub status: Option<String>,
    pub cursor: Option<Id<i64>>,
    pub limit: Option<u32>,
}

fn listed_json(company: &crate::store::sellers::ListedCompany) -> serde_json::Value {
    serde_json::json!({"id": Id(company.id), "name": company.name,
        "business_number": company.business_number, "contact_email": company.contact_email,
        "contact_phone": company.contact_phone, "owner_email": company.owner_email,
        "created_at_ms": company.created_at_ms, "approval": company.approval,
        "approval_changed_at_ms": company.approval_changed_at_ms, "shows": company.shows})
}

/// `GET /api/v2/admin/companies?status=pending` (admin): companies, newest first, paged by
/// cursor, of one approval status or all.
pub async fn admin_companies(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Query(query): Query<CompaniesQuery>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    let limit = page_limit(query.limit)?;
    let status = match query.status.as_deref() {
        None => None,
        Some(text) => Some(Approval::parse(text).ok_or_else(|| {
            ApiError::Invalid(vec![FieldError {
                field: "status",
                message: "\"pending\", \"approved\" or \"suspended\"".into(),
            }])
        })?),
    };
    let rows = api
        .store
        .listed_companies(
            status.map(Approval::as_str),
            query.cursor.map_or(i64::MAX, Id::get),
            i64::from(limit) + 1,
        )
        .await?;
    Ok(page_of(&rows, limit, listed_json))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApprovalForm {
    /// `approved` or `suspended` (a company is pending only until its first decision).
    pub status: String,
}

/// `POST /api/v2/admin/companies/{id}/approval` (admin): approves or suspends a company. A
/// suspended company's published shows stay on sale; it cannot publish more until approved.
pub async fn set_approval(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Path(Id(company)): Path<Id<i64>>,
    JsonBody(form): JsonBody<ApprovalForm>,
) -> Result<Response, ApiError> {
    who.require(&[Role::Admin])?;
    let approval = match Approval::parse(&form.status) {
        Some(a @ (Approval::Approved | Approval::Suspended)) => a,
        _ => {
            return Err(ApiError::Invalid(vec![FieldError {
                field: "status",
                message: "\"approved\" or \"suspended\"".into(),
            }]));
        }
    };
    if !api
        .store
        .set_company_approval(company, approval.as_str(), crate::state::now_ms() as i64)
        .await?
    {
        return Err(ApiError::NotFound("company"));
    }
    tracing::info!(
        company,
        approval = approval.as_str(),
        admin = who.account_id,
        "company approval set"
    );
    let listed = api
        .store
        .listed_company(company)
        .await?
        .ok_or(ApiError::NotFound("company"))?;
    Ok(Json(listed_json(&listed)).into_response())
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffForm {
    pub account: SignUp,
    /// `staff` or `admin`.
    pub role: String,
}

/// `POST /api/v2/admin/accounts`: a venue-staff or admin account, by an admin or with the
/// operator token (how the first admin is made).
pub async fn create_staff(
    State(api): State<Arc<Api>>,
    headers: HeaderMap,
    JsonBody(body): JsonBody<StaffForm>,
) -> Result<Response, ApiError> {
    if !is_operator(&api, &headers) {
        let who = authenticate(&api, bearer(&headers)).await?;
        who.require(&[Role::Admin])?;
    }
    let role = match body.role.as_str() {
        "staff" => Role::Staff,
        "admin" => Role::Admin,
        _ => {
            return Err(ApiError::Invalid(vec![FieldError {
                field: "role",
                message: "\"staff\" or \"admin\"".into(),
            }]));
        }
    };
    let email = validate_sign_up(&body.account)?;
    let account = new_account(&api, email, body.account, role).await?;
    if !api.store.insert_account(&account).await? {
        return Err(ApiError::Conflict("an account with this email exists"));
    }
    Ok((StatusCode::CREATED, Json(AccountView::from(&account))).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn business_numbers_need_their_check_digit() {
        // 1·1 + 2·3 + 3·7 + 4·1 + 5·3 + 6·7 + 7·1 + 8·3 + 9·5 = 165, plus ⌊9·5/10⌋ = 4: 169,
        // so the check digit is (10 − 9) mod 10 = 1.
        assert_eq!(
            business_number_digits("123-45-67891"),
            Some("1234567891".into())
        );
        assert_eq!(
            business_number_digits("1234567891"),
            Some("1234567891".into())
        );
        for bad in [
            "123-45-67890",
            "123456789",
            "12345678911",
            "123-45-6789a",
            "",
        ] {
            assert_eq!(business_number_digits(bad), None, "{bad}");
        }
    }
}
