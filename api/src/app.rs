//! The assembled API: [`Api::new`] (which starts following the ledger), announcing on NATS, and
//! the routes the gateway merges into its router. Nothing in the crate depends on this file.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use axum::Router;
use axum::routing::{delete, get, post, put};

use crate::error::ApiError;
use crate::limit::Limiter;
use crate::state::{
    Api, ApiConfig, Bookings, KeyRing, LedgerClient, PUBLISHED_BUFFER_MAX, QueueStore,
};
use crate::store::Store;
use crate::{
    accounts, admin, banners, billing, board, bookings, browse, dashboard, door, follow, manage,
    media, notification_settings, notifications, openapi, operations, payments, platform, publish,
    push, reminders, restore, sales, scanner, sellers, settlement, tickets, transfer, waitlist,
};

impl Api {
    /// The API; with a ledger, it also starts following it (the seats-left read model and the
    /// bookings projection).
    pub fn new(
        store: Store,
        keys: KeyRing,
        operator_token: String,
        ledger: Option<LedgerClient>,
        queue: Option<Arc<dyn QueueStore>>,
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
            seats_left: Default::default(),
            seat_states: Default::default(),
            bookings: Bookings::new(&config),
            published: tokio::sync::broadcast::channel(PUBLISHED_BUFFER_MAX).0,
            login_per_address: Limiter::new(
                config.login_attempts_per_address_per_minute,
                config.login_attempts_per_address_burst,
            ),
            login_failures: config.backoff(config.login_failures_free),
            webhook_lookups: Limiter::new(
                config.webhook_lookups_per_sec.saturating_mul(60),
                config.webhook_lookups_per_sec,
            ),
            webhooks_deferred: Arc::new(tokio::sync::Semaphore::new(config.webhooks_deferred_max)),
            success_attempts: Limiter::new(
                config.success_attempts_per_sec.saturating_mul(60),
                config.success_attempts_burst,
            ),
            transfer_lookups: Limiter::new(
                crate::transfer::UNKNOWN_RECIPIENTS_PER_MINUTE,
                crate::transfer::UNKNOWN_RECIPIENTS_BURST,
            ),
            manifest_builds: tokio::sync::Semaphore::new(crate::door::MANIFEST_BUILDS_MAX),
            metrics: Default::default(),
            operations: std::sync::OnceLock::new(),
            config,
            operator_token,
            decoy_hash,
            next_id: AtomicU64::new(0),
            sale_restore_passes: AtomicU64::new(0),
            payments: std::sync::OnceLock::new(),
            platform: std::sync::OnceLock::new(),
            webhook_transmissions: std::sync::Mutex::new(picket_payments::TransmissionDedupe::new(
                picket_payments::flow::WEBHOOK_TRANSMISSIONS_REMEMBERED_MAX,
            )),
        });
        tokio::spawn(follow::follow_ledger(api.clone()));
        tokio::spawn(restore::restore_sales(api.clone()));
        api
    }

    /// Lets buyers pay through `flow` (once; a second call is ignored).
    pub fn set_payments(&self, flow: Arc<picket_payments::Flow>) {
        let _ = self.payments.set(flow);
    }

    /// Where `GET /api/v2/admin/platform` reads the services' status (once; a second call is
    /// ignored).
    pub fn set_platform(&self, source: Arc<dyn crate::state::PlatformSource>) {
        let _ = self.platform.set(source);
    }

    /// Also announces published shows on NATS JetStream (creating the stream if needed).
    pub async fn announce_on(&self, nats: async_nats::Client) -> Result<(), String> {
        let js = async_nats::jetstream::new(nats);
        picket_ledger_client::bus::ensure_announcements(&js)
            .await
            .map_err(|e| e.to_string())?;
        let _ = self.announcements.set(js);
        Ok(())
    }
}

/// The API's routes, to be merged into the gateway's router.
pub fn router(api: Arc<Api>) -> Router {
    let body_max = api.config.body_bytes_max;
    let json = Router::new()
        .route("/api/openapi.json", get(openapi::serve))
        .route("/api/v2/accounts", post(accounts::sign_up))
        .route("/api/v2/sessions", post(accounts::sign_in))
        .route("/api/v2/sessions/current", delete(accounts::sign_out))
        .route("/api/v2/me", get(accounts::me))
        .route(
            "/api/v2/me/interests",
            get(sellers::get_interests).put(sellers::set_interests),
        )
        .route("/api/v2/me/notifications", get(notifications::inbox))
        .route(
            "/api/v2/me/notifications/read",
            post(notifications::mark_read),
        )
        .route("/api/v2/push/key", get(push::key))
        .route(
            "/api/v2/me/push-subscriptions",
            get(push::list).post(push::subscribe),
        )
        .route(
            "/api/v2/me/push-subscriptions/{id}",
            delete(push::unsubscribe),
        )
        .route("/api/v2/companies", post(sellers::register_seller))
        .route("/api/v2/companies/mine", get(sellers::my_company))
        .route("/api/v2/companies/mine/shows", get(sellers::my_shows))
        .route("/api/v2/companies/mine/venues", get(sellers::my_venues))
        .route(
            "/api/v2/cancellation-fees/standard",
            get(sellers::standard_fees),
        )
        .route("/api/v2/admin/accounts", post(sellers::create_staff))
        .route("/api/v2/admin/platform", get(platform::platform))
        .route("/api/v2/admin/companies", get(sellers::admin_companies))
        .route(
            "/api/v2/admin/companies/{id}/approval",
            post(sellers::set_approval),
        )
        .route("/api/v2/admin/posts", get(board::admin_posts))
        .route("/api/v2/admin/sales", get(admin::sales))
        .route("/api/v2/admin/operations", get(operations::operations))
        .route(
            "/api/v2/shows",
            get(browse::browse).post(manage::create_show),
        )
        .route("/api/v2/shows/{id}", get(browse::show_detail))
        .route("/api/v2/performances/{id}", get(browse::performance_detail))
        .route(
            "/api/v2/shows/{id}/performances",
            post(manage::add_performance),
        )
        .route("/api/v2/shows/{id}/publish", post(publish::publish))
        .route("/api/v2/shows/{id}/settlement", get(settlement::show))
        .route(
            "/api/v2/performances/{id}/cancel",
            post(settlement::cancel_performance),
        )
        .route(
            "/api/v2/performances/{id}/sale",
            put(dashboard::control_sale),
        )
        .route(
            "/api/v2/notices",
            get(board::platform_notices).post(board::post_platform_notice),
        )
        .route(
            "/api/v2/shows/{id}/notices",
            get(board::show_notices).post(board::post_show_notice),
        )
        .route(
            "/api/v2/shows/{id}/questions",
            get(board::show_questions).post(board::ask),
        )
        .route("/api/v2/questions/{id}/answer", post(board::answer))
        .route("/api/v2/posts/{id}/hide", post(board::hide))
        .route("/api/v2/posts/{id}/unhide", post(board::unhide))
        .route("/api/v2/posts/{id}", delete(board::delete_post))
        .route("/api/v2/me/bookings", get(bookings::my_bookings))
        .route("/api/v2/shows/{id}/staff", post(manage::assign_staff))
        .route("/api/v2/staff/shows", get(manage::staff_shows))
        .route("/api/v2/guest/contact", put(bookings::guest_contact))
        .route("/api/v2/guest/bookings", get(bookings::guest_bookings))
        .route("/api/v2/guest-bookings", get(bookings::guest_lookup))
        .route("/api/v2/tickets/{id}", get(tickets::get_ticket))
        .route("/api/v2/tickets/{id}/device", post(tickets::bind_device))
        .route("/api/v2/tickets/{id}/code.svg", get(tickets::code_svg))
        .route("/api/v2/tickets/{id}/code.png", get(tickets::code_png))
        .route("/api/v2/performances/{id}/scans", post(tickets::scan))
        .route("/api/v2/tickets/{id}/transfer", post(transfer::transfer))
        .route(
            "/api/v2/tickets/{id}/printed.svg",
            get(transfer::printed_svg),
        )
        .route(
            "/api/v2/tickets/{id}/printed.png",
            get(transfer::printed_png),
        )
        .route("/api/v2/me/tickets", get(transfer::my_tickets))
        .route("/api/v2/performances/{id}/scanner", get(scanner::upgrade))
        .layer(axum::extract::DefaultBodyLimit::max(body_max));
    // A seat map is larger than other JSON bodies.
    let venues = Router::new()
        .route("/api/v2/venues", post(manage::create_venue))
        .route(
            "/api/v2/venues/{id}",
            get(manage::get_venue).put(manage::update_venue),
        )
        .layer(axum::extract::DefaultBodyLimit::max(
            crate::venues::VENUE_BODY_BYTES_MAX,
        ));
    // Banners are larger than JSON bodies: one byte over the limit is read so that an oversized
    // upload gets the API's own error.
    let media = Router::new()
        .route(
            "/api/v2/shows/{id}/banner",
            get(banners::get_banner).put(banners::upload_banner),
        )
        .layer(axum::extract::DefaultBodyLimit::max(
            media::BANNER_BYTES_MAX + 1,
        ));
    // A performance spec of a stadium is far larger than any other JSON body.
    let operator = Router::new()
        .route(
            "/api/v2/sales/{sale}",
            get(sales::view).put(sales::configure),
        )
        .route("/api/v2/sales/{sale}/draw", get(sales::draw_audit))
        .route("/api/v2/performances", post(sales::open_performance))
        .route("/api/v2/checkout", post(payments::checkout))
        .route("/api/v2/payments/success", get(payments::success))
        .route("/api/v2/payments/fail", get(payments::fail))
        .route("/api/v2/payments/webhook", post(payments::webhook))
        .layer(axum::extract::DefaultBodyLimit::max(
            sales::OPERATOR_BODY_BYTES_MAX,
        ));
    // Any other path (a retired `/api/v1/…` one included) is a problem 404 (`no_route`).
    // Axum's own answers for a path no route has and a method a route does not take are plain
    // text; the API's are problems like every other error (405 keeps axum's `Allow` header).
    json.merge(venues)
        .merge(media)
        .merge(operator)
        .merge(door::router())
        .merge(waitlist::router())
        .merge(reminders::router())
        .merge(notification_settings::router())
        .merge(billing::router())
        .method_not_allowed_fallback(method_not_allowed)
        .fallback(no_route)
        .layer(axum::middleware::from_fn_with_state(
            api.clone(),
            operations::count_responses,
        ))
        .with_state(api)
}

async fn no_route() -> ApiError {
    ApiError::NoRoute
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed
}
