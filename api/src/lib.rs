#![recursion_limit = "512"]
//! The HTTP API under `/api/v1` that gateways serve beside the WebSocket: accounts and sessions
//! so far (the catalog, board and my-page arrive next). JSON in and out, errors as
//! `application/problem+json` with stable codes ([`error`]), every field validated with a
//! message that says what is wrong, and an OpenAPI document at `/api/openapi.json` ([`openapi`]).
//!
//! Storage is PostgreSQL in production and SQLite in `picket up` ([`store`]). Session tokens are
//! the gateway's signed tokens ([`picket_gateway::token`]), so a member signs in here and
//! connects to any gateway with the same token.

pub mod accounts;
pub mod board;
pub mod bookings;
pub mod catalog;
pub mod error;
pub mod limit;
pub mod media;
pub mod offers;
pub mod openapi;
pub mod sellers;
pub mod store;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Router;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use axum::routing::{delete, get, post, put};
use picket_gateway::token::{Claims, KeyRing};
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::limit::Limiter;
use crate::store::Store;

/// "Show published" announcements buffered for a slow subscriber.
pub const PUBLISHED_BUFFER_MAX: usize = 1_024;

/// Named limits and lifetimes of the API.
#[derive(Clone, Debug)]
pub struct ApiConfig {
    /// How long a session token lasts.
    pub session_ttl_ms: u64,
    /// Sign-in attempts per email per minute, and at once.
    pub login_attempts_per_minute: u32,
    pub login_attempts_burst: u32,
    /// Largest JSON request body (uploads have their own limit).
    pub body_bytes_max: usize,
    /// Where uploaded media (show banners) are stored with the disk banner store.
    pub media_dir: std::path::PathBuf,
    /// Where show banners are kept: files in `media_dir` (the default) or an S3-compatible
    /// bucket ([`media::BannerStore::s3`], whose configuration names its own limits).
    pub banner_store: media::BannerStore,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            session_ttl_ms: 14 * 24 * 3_600_000,
            login_attempts_per_minute: 5,
            login_attempts_burst: 5,
            body_bytes_max: 64 * 1_024,
            media_dir: std::path::PathBuf::from("data/media"),
            banner_store: media::BannerStore::Disk,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ApiStartError {
    #[error("api store: {0}")]
    Store(#[from] sqlx::Error),
    #[error("api store migrations: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

pub struct Api {
    pub store: Store,
    pub keys: KeyRing,
    pub config: ApiConfig,
    /// The operator's bearer token (creates the first admin).
    operator_token: String,
    /// Where publishing opens inventory, and what the seats-left read model follows.
    pub ledger: Option<picket_ledger::LedgerClient>,
    /// The waiting room publishing configures each performance's sale in.
    pub queue: Option<Arc<dyn picket_room::QueueStore>>,
    pub seats_left: catalog::SeatsLeft,
    /// The bookings projection's open holds and the guest-lookup limits.
    pub bookings: bookings::Bookings,
    /// "Show published" announcements in this process.
    pub published: tokio::sync::broadcast::Sender<catalog::ShowPublished>,
    /// With NATS: announcements also go to the `PICKET_CATALOG` stream for the notifier.
    pub announcements: std::sync::OnceLock<async_nats::jetstream::Context>,
    login_limiter: Limiter,
    /// A real Argon2id hash that matches nothing: checked for unknown emails, so sign-in takes
    /// as long for them as for a wrong password.
    decoy_hash: String,
    next_id: AtomicU64,
}

impl Api {
    /// The API; with a ledger, it also starts following it (the seats-left read model).
    pub fn new(
        store: Store,
        keys: KeyRing,
        operator_token: String,
        ledger: Option<picket_ledger::LedgerClient>,
        queue: Option<Arc<dyn picket_room::QueueStore>>,
        config: ApiConfig,
    ) -> Arc<Api> {
        use argon2::PasswordHasher;
        use argon2::password_hash::SaltString;
        let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
        let decoy_hash = argon2::Argon2::default()
            .hash_password(format!("{:032x}", rand::random::<u128>()).as_bytes(), &salt)
            .map(|h| h.to_string())
            .unwrap_or_default();
        let api = Arc::new(Api {
            store,
            keys,
            ledger,
            queue,
            announcements: std::sync::OnceLock::new(),
            seats_left: catalog::SeatsLeft::default(),
            bookings: bookings::Bookings::default(),
            published: tokio::sync::broadcast::channel(PUBLISHED_BUFFER_MAX).0,
            login_limiter: Limiter::new(
                config.login_attempts_per_minute,
                config.login_attempts_burst,
            ),
            config,
            operator_token,
            decoy_hash,
            next_id: AtomicU64::new(0),
        });
        tokio::spawn(catalog::follow_ledger(api.clone()));
        api
    }

    /// Also announces published shows on NATS JetStream (creating the stream if needed).
    pub async fn announce_on(&self, nats: async_nats::Client) -> Result<(), String> {
        let js = async_nats::jetstream::new(nats);
        catalog::ensure_announcements(&js).await?;
        let _ = self.announcements.set(js);
        Ok(())
    }

    /// A new id: milliseconds since the epoch in the high bits, a counter and randomness below,
    /// so ids from several gateways do not collide and sort by creation time.
    fn new_id(&self) -> i64 {
        let low = (self.next_id.fetch_add(1, Ordering::Relaxed) & 0xff) << 8
            | u64::from(rand::random::<u8>());
        ((now_ms() << 16) | low) as i64 & i64::MAX
    }
}

/// The API's routes, to be merged into the gateway's router.
pub fn router(api: Arc<Api>) -> Router {
    let body_max = api.config.body_bytes_max;
    let json = Router::new()
        .route("/api/openapi.json", get(openapi::serve))
        .route("/api/v1/accounts", post(accounts::sign_up))
        .route("/api/v1/sessions", post(accounts::sign_in))
        .route("/api/v1/sessions/current", delete(accounts::sign_out))
        .route("/api/v1/me", get(accounts::me))
        .route(
            "/api/v1/me/interests",
            get(sellers::get_interests).put(sellers::set_interests),
        )
        .route("/api/v1/companies", post(sellers::register_seller))
        .route("/api/v1/companies/mine", get(sellers::my_company))
        .route("/api/v1/admin/accounts", post(sellers::create_staff))
        .route("/api/v1/venues", post(catalog::create_venue))
        .route("/api/v1/venues/{id}", get(catalog::get_venue))
        .route(
            "/api/v1/shows",
            get(catalog::browse).post(catalog::create_show),
        )
        .route("/api/v1/shows/{id}", get(catalog::show_detail))
        .route(
            "/api/v1/shows/{id}/performances",
            post(catalog::add_performance),
        )
        .route("/api/v1/shows/{id}/publish", post(catalog::publish))
        .route(
            "/api/v1/notices",
            get(board::platform_notices).post(board::post_platform_notice),
        )
        .route(
            "/api/v1/shows/{id}/notices",
            get(board::show_notices).post(board::post_show_notice),
        )
        .route(
            "/api/v1/shows/{id}/questions",
            get(board::show_questions).post(board::ask),
        )
        .route("/api/v1/questions/{id}/answer", post(board::answer))
        .route("/api/v1/posts/{id}/hide", post(board::hide))
        .route("/api/v1/me/bookings", get(bookings::my_bookings))
        .route("/api/v1/shows/{id}/staff", post(catalog::assign_staff))
        .route("/api/v1/staff/shows", get(catalog::staff_shows))
        .route("/api/v1/guest/contact", put(bookings::guest_contact))
        .route("/api/v1/guest/bookings", get(bookings::guest_bookings))
        .route("/api/v1/guest-bookings", get(bookings::guest_lookup))
        .layer(axum::extract::DefaultBodyLimit::max(body_max));
    // Banners are larger than JSON bodies: one byte over the limit is read so that an oversized
    // upload gets the API's own error.
    let media = Router::new()
        .route(
            "/api/v1/shows/{id}/banner",
            get(media::get_banner).put(media::upload_banner),
        )
        .layer(axum::extract::DefaultBodyLimit::max(
            media::BANNER_BYTES_MAX + 1,
        ));
    json.merge(media).with_state(api)
}

pub fn now_ms() -> u64 {
    picket_gateway::clock::now_ms()
}

/// A JSON body whose rejections are problems (`bad_body`), not axum's plain text.
pub struct JsonBody<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(JsonBody(value)),
            Err(rejection) => Err(ApiError::BadBody(rejection.body_text())),
        }
    }
}

/// The signed-in account of a request: a valid session token in `Authorization: Bearer …`
/// whose session is neither revoked nor expired.
pub struct Authenticated {
    pub account_id: i64,
    pub sid: String,
    pub role: Role,
}

/// What an account may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Member,
    /// A company's account: manages its own shows only.
    Seller,
    /// Venue staff: scans tickets of the shows they are assigned to.
    Staff,
    Admin,
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Member, Role::Seller, Role::Staff, Role::Admin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Member => "member",
            Role::Seller => "seller",
            Role::Staff => "staff",
            Role::Admin => "admin",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == text)
    }
}

impl Authenticated {
    /// `Forbidden` unless the account has one of `roles`.
    pub fn require(&self, roles: &[Role]) -> Result<(), ApiError> {
        if roles.contains(&self.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }
}

impl FromRequestParts<Arc<Api>> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, api: &Arc<Api>) -> Result<Self, ApiError> {
        authenticate(api, bearer(&parts.headers)).await
    }
}

impl axum::extract::OptionalFromRequestParts<Arc<Api>> for Authenticated {
    type Rejection = ApiError;

    /// Public pages: a request without an account session (no header, a guest token, an
    /// expired session) is anonymous (`None`); only a storage failure is an error.
    async fn from_request_parts(
        parts: &mut Parts,
        api: &Arc<Api>,
    ) -> Result<Option<Self>, ApiError> {
        match <Authenticated as FromRequestParts<Arc<Api>>>::from_request_parts(parts, api).await {
            Ok(who) => Ok(Some(who)),
            Err(ApiError::Unauthenticated) => Ok(None),
            Err(other) => Err(other),
        }
    }
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The account behind a bearer token, if its session is live.
pub async fn authenticate(api: &Api, token: Option<&str>) -> Result<Authenticated, ApiError> {
    let token = token.ok_or(ApiError::Unauthenticated)?;
    let now = now_ms();
    let Ok(Claims::Session { sub, sid, .. }) = api.keys.verify(token.trim(), now) else {
        return Err(ApiError::Unauthenticated);
    };
    let account_id = i64::try_from(sub).map_err(|_| ApiError::Unauthenticated)?;
    let role = api
        .store
        .session_role(&sid, account_id, now as i64)
        .await?
        .and_then(|r| Role::parse(&r))
        .ok_or(ApiError::Unauthenticated)?;
    Ok(Authenticated {
        account_id,
        sid,
        role,
    })
}

/// Compares secrets without stopping at the first difference.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}
