//! Helpers for the HTTP API's tests: an API with an in-process ledger on PostgreSQL or SQLite,
//! a small HTTP client, and a published show.

use std::net::SocketAddr;
use std::sync::Arc;

use picket_api::{Api, ApiConfig};
use picket_ledger_client::LedgerClient;
use picket_room::QueueStore;
use picket_room::memory::MemoryStore;
use serde_json::{Value, json};

use crate::gateway::{Cluster, test_keys};

pub const OPERATOR: &str = "operator-secret-for-tests";
pub const PASSWORD: &str = "correct horse";

pub struct Answer {
    pub status: u16,
    pub head: String,
    pub body: Value,
}

/// One HTTP/1.1 request (no keep-alive); `token` goes in `Authorization: Bearer`.
pub async fn call(
    address: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
    token: Option<&str>,
) -> Answer {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{auth}\
         Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let response = String::from_utf8_lossy(&response).to_string();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let body = serde_json::from_str(body).unwrap_or(Value::Null);
    crate::ids::assert_no_numeric_ids(&body, &format!("{method} {path}"));
    Answer {
        status: head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        head: head.to_lowercase(),
        body,
    }
}

/// An API on SQLite with an in-process ledger, served on a loopback port.
pub struct ApiSetup {
    pub address: SocketAddr,
    pub api: Arc<Api>,
    pub cluster: Cluster,
    _dir: tempfile::TempDir,
    _postgres: Option<crate::Postgres>,
}

impl ApiSetup {
    /// On SQLite (`picket up`'s store).
    pub async fn start() -> ApiSetup {
        Self::start_on(None, None, |_| {}).await
    }

    /// On SQLite, with `tune` applied to the configuration (say, another banner store).
    pub async fn start_with(tune: impl FnOnce(&mut ApiConfig)) -> ApiSetup {
        Self::start_on(None, None, tune).await
    }

    /// On SQLite, with the waiting room in `queue` (say, a Redis) instead of memory, and `tune`
    /// applied to the configuration.
    pub async fn start_with_queue(
        queue: Arc<dyn QueueStore>,
        tune: impl FnOnce(&mut ApiConfig),
    ) -> ApiSetup {
        Self::start_on_queue(None, None, queue, tune).await
    }

    /// On PostgreSQL (production's store) started by the harness.
    pub async fn start_postgres() -> ApiSetup {
        Self::start_postgres_with(|_| {}).await
    }

    /// On PostgreSQL, with `tune` applied to the configuration.
    pub async fn start_postgres_with(tune: impl FnOnce(&mut ApiConfig)) -> ApiSetup {
        let postgres = crate::Postgres::start().expect("postgres");
        let url = postgres.create_database("api").expect("database");
        Self::start_on(Some(url), Some(postgres), tune).await
    }

    async fn start_on(
        url: Option<String>,
        postgres: Option<crate::Postgres>,
        tune: impl FnOnce(&mut ApiConfig),
    ) -> ApiSetup {
        Self::start_on_queue(url, postgres, Arc::new(MemoryStore::new()), tune).await
    }

    async fn start_on_queue(
        url: Option<String>,
        postgres: Option<crate::Postgres>,
        queue: Arc<dyn QueueStore>,
        tune: impl FnOnce(&mut ApiConfig),
    ) -> ApiSetup {
        let cluster = Cluster::start(1, queue.clone(), |_| {}).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let url = url.unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                dir.path().join("api.sqlite").display()
            )
        });
        let store = picket_api::store::Store::connect(&url)
            .await
            .expect("store");
        let mut config = ApiConfig {
            media_dir: dir.path().join("media"),
            ..ApiConfig::default()
        };
        tune(&mut config);
        let ledger = LedgerClient::in_process(cluster.ledger.handle.clone());
        let api = Api::new(
            store,
            test_keys(),
            OPERATOR.into(),
            Some(ledger),
            Some(queue),
            config,
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let address = listener.local_addr().expect("addr");
        let router = picket_api::router(api.clone());
        // With the peer's address, as the gateway serves it: the API limits attempts per
        // client address.
        let service = router.into_make_service_with_connect_info::<SocketAddr>();
        tokio::spawn(async move { axum::serve(listener, service).await });
        ApiSetup {
            address,
            api,
            cluster,
            _dir: dir,
            _postgres: postgres,
        }
    }

    /// Lets this API take payments through the cluster's sandbox, as `picket up` wires them:
    /// the payment routes then answer as in production rather than `payment_unavailable`.
    pub fn pay_through_sandbox(&self) {
        self.api.set_payments(self.sandbox_flow());
    }

    /// The payment flow through the cluster's sandbox (its checkout and billing pages), as
    /// `picket up` makes it.
    pub fn sandbox_flow(&self) -> Arc<picket_payments::Flow> {
        let sandbox = &self.cluster.sandbox;
        Arc::new(
            picket_payments::Flow::new(
                sandbox.provider(),
                LedgerClient::in_process(self.cluster.ledger.handle.clone()),
                crate::pay::CLIENT_KEY.into(),
                sandbox.checkout_url(),
            )
            .with_billing_url(format!("{}/billing/authorize", sandbox.base_url())),
        )
    }

    /// Starts the waitlist's auto-pay worker over this API's store and the cluster's ledger and
    /// sandbox, as `picket up` runs it; stopping it is dropping (or aborting) the task, as a
    /// process dies.
    pub fn start_autopay(&self) -> tokio::task::JoinHandle<()> {
        let worker = picket_api::autopay::AutoPayWorker::new(
            self.api.store.clone(),
            LedgerClient::in_process(self.cluster.ledger.handle.clone()),
            self.sandbox_flow(),
            vec![0],
            Arc::new(picket_payments::autopay::AutoPayMetrics::default()),
        );
        // The sender is leaked into the task's lifetime: the worker runs until aborted.
        let (stop, stopped) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            let _stop = stop;
            worker.run(stopped).await;
        })
    }

    /// Sends `command` to the cluster's ledger as `actor` under `key`, as a gateway would, and
    /// returns the ledger's outcome.
    pub async fn submit(
        &self,
        actor: u64,
        key: &str,
        command: picket_ledger_core::Command,
    ) -> picket_ledger_core::Outcome {
        let request = picket_ledger_core::Request {
            actor: picket_ledger_core::ActorId(actor),
            key: picket_ledger_core::IdempotencyKey::new(key).expect("key"),
            command,
        };
        self.cluster
            .ledger
            .handle
            .submit(request)
            .await
            .expect("submitted")
    }

    /// `actor` holds `seats` of `performance` (with `offer`, if any) and pays the amount the
    /// ledger priced, straight through the ledger (keys `hold-{name}` and `pay-{name}`): the
    /// booking and its tickets.
    pub async fn book(
        &self,
        actor: u64,
        name: &str,
        performance: u64,
        seats: &[u32],
        offer: Option<picket_ledger_core::OfferChoice>,
    ) -> (
        picket_ledger_core::BookingId,
        Vec<picket_ledger_core::TicketId>,
    ) {
        use picket_ledger_core::{Command, PerformanceId, Reply, SeatId, Selection};
        let hold = Command::Hold {
            performance: PerformanceId(performance),
            selection: Selection::Seats(seats.iter().map(|s| SeatId(*s)).collect()),
            admission: None,
            offer,
        };
        let held = self.submit(actor, &format!("hold-{name}"), hold).await;
        let Ok(Reply::Held {
            hold, amount_won, ..
        }) = held
        else {
            panic!("held: {held:?}");
        };
        let confirm = Command::Confirm {
            performance: PerformanceId(performance),
            hold,
            payment_ref: format!("pay-{name}"),
            amount_won,
        };
        let paid = self.submit(actor, &format!("pay-{name}"), confirm).await;
        let Ok(Reply::Confirmed {
            booking, tickets, ..
        }) = paid
        else {
            panic!("paid: {paid:?}");
        };
        (booking, tickets)
    }

    /// The holder's ticket (`GET /api/v2/tickets/{id}` with `token`), once the projection has
    /// recorded its booking (404 until then, for at most 10 s); never cached on the way.
    pub async fn ticket_view(&self, ticket: picket_ledger_core::TicketId, token: &str) -> Value {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        let path = format!("/api/v2/tickets/{}", ticket.0);
        loop {
            let answer = call(self.address, "GET", &path, "", Some(token)).await;
            if answer.status == 200 {
                assert_eq!(header(&answer.head, "cache-control"), Some("no-store"));
                return answer.body;
            }
            assert!(
                answer.status == 404 && tokio::time::Instant::now() < deadline,
                "{} {:?}",
                answer.status,
                answer.body
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
    }

    /// An online entry scan of `code` at `gate` by `token` (staff of the show, its seller): the
    /// typed result, which is always a 200.
    pub async fn scan(&self, token: &str, performance: u64, code: &str, gate: u16) -> Value {
        let form = json!({"code": code, "gate": gate, "direction": "entry"});
        let answer = call(
            self.address,
            "POST",
            &format!("/api/v2/performances/{performance}/scans"),
            &form.to_string(),
            Some(token),
        )
        .await;
        assert_eq!(answer.status, 200, "{:?}", answer.body);
        answer.body
    }

    /// Signs up a member and signs in: (account id, token).
    pub async fn member(&self, email: &str) -> (i64, String) {
        let form = json!({"email": email, "password": PASSWORD, "name": "회원"});
        let created = call(
            self.address,
            "POST",
            "/api/v2/accounts",
            &form.to_string(),
            None,
        )
        .await;
        assert_eq!(created.status, 201, "{:?}", created.body);
        (
            crate::ids::id_i64(&created.body["id"]),
            self.sign_in(email).await,
        )
    }

    /// An admin account (made with the operator token), signed in: its token.
    pub async fn admin(&self, email: &str) -> String {
        let form = json!({"account": {"email": email, "password": PASSWORD, "name": "관리자"}, "role": "admin"});
        let created = call(
            self.address,
            "POST",
            "/api/v2/admin/accounts",
            &form.to_string(),
            Some(OPERATOR),
        )
        .await;
        assert_eq!(created.status, 201, "{:?}", created.body);
        self.sign_in(email).await
    }

    pub async fn sign_in(&self, email: &str) -> String {
        sign_in_at(self.address, email).await
    }

    /// A venue-staff account `email` (made with the operator token) assigned to each show by
    /// its seller's token: the staff's session token.
    pub async fn staff_of(&self, email: &str, shows: &[(i64, &str)]) -> String {
        let form = json!({"account": {"email": email, "password": PASSWORD, "name": "검표원"},
            "role": "staff"});
        let path = "/api/v2/admin/accounts";
        let created = call(
            self.address,
            "POST",
            path,
            &form.to_string(),
            Some(OPERATOR),
        )
        .await;
        assert_eq!(created.status, 201, "{:?}", created.body);
        let account = created.body["id"].clone();
        for (show, seller) in shows {
            let path = format!("/api/v2/shows/{show}/staff");
            let form = json!({"account_id": account}).to_string();
            let assigned = call(self.address, "POST", &path, &form, Some(seller)).await;
            assert_eq!(assigned.status, 204, "{:?}", assigned.body);
        }
        self.sign_in(email).await
    }

    /// Registers a seller and publishes a show with one performance 20 days away: (show id,
    /// performance id). Seats: section A (2 rows of 5) VIP 160,000원, B (4) R 140,000원;
    /// zone Floor (100) S 110,000원.
    pub async fn published_show(&self, seller_email: &str, business_number: &str) -> (i64, u64) {
        self.published_show_with(seller_email, business_number, json!({}))
            .await
    }

    /// [`Self::published_show`] with more fields of the show form (discounts, coupons, …).
    pub async fn published_show_with(
        &self,
        seller_email: &str,
        business_number: &str,
        more: Value,
    ) -> (i64, u64) {
        published_show_at(self.address, seller_email, business_number, more, 100).await
    }
}

/// A valid business registration number (사업자등록번호) built from `n`, its check digit found
/// by trying: a distinct seller per `n`.
pub fn business_number(n: u64) -> String {
    let stem = format!("{:09}", 100_000_000 + n);
    (0..10)
        .map(|d| format!("{stem}{d}"))
        .find(|candidate| picket_api::sellers::business_number_digits(candidate).is_some())
        .expect("one check digit fits")
}

/// Signs in `email` (with [`PASSWORD`]) at the API at `address`: the session token.
pub async fn sign_in_at(address: SocketAddr, email: &str) -> String {
    let form = json!({"email": email, "password": PASSWORD});
    let session = call(address, "POST", "/api/v2/sessions", &form.to_string(), None).await;
    assert_eq!(session.status, 201, "{:?}", session.body);
    session.body["token"].as_str().expect("token").to_owned()
}

/// Registers a company (공연기획) with its seller account `email` (password [`PASSWORD`]) at the
/// API at `address`, and signs the seller in: the session token.
pub async fn seller_at(address: SocketAddr, email: &str, business_number: &str) -> String {
    let form = json!({
        "account": {"email": email, "password": PASSWORD, "name": "Seller"},
        "company": {"name": "공연기획", "business_number": business_number,
                    "contact_email": "c@example.com", "contact_phone": "02-123-4567"}
    });
    let created = call(
        address,
        "POST",
        "/api/v2/companies",
        &form.to_string(),
        None,
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    sign_in_at(address, email).await
}

/// [`ApiSetup::published_show_with`] on the API at `address`, its zone Floor holding
/// `floor_capacity` (the door's benches fill it with thousands).
pub async fn published_show_at(
    address: SocketAddr,
    seller_email: &str,
    business_number: &str,
    more: Value,
    floor_capacity: u32,
) -> (i64, u64) {
    let (token, show_id, performance) =
        draft_show_at(address, seller_email, business_number, more, floor_capacity).await;
    let published = publish_show_at(address, &token, show_id).await;
    assert_eq!(published.status, 200, "{:?}", published.body);
    (show_id, performance)
}

/// `POST /api/v2/shows/{show}/publish` as the seller whose session is `token`.
pub async fn publish_show_at(address: SocketAddr, token: &str, show_id: i64) -> Answer {
    call(
        address,
        "POST",
        &format!("/api/v2/shows/{show_id}/publish"),
        "",
        Some(token),
    )
    .await
}

/// [`published_show_at`] short of publishing: (the seller's session token, show id,
/// performance id) of a draft (its category `musical`, its venue in `seoul`).
pub async fn draft_show_at(
    address: SocketAddr,
    seller_email: &str,
    business_number: &str,
    more: Value,
    floor_capacity: u32,
) -> (String, i64, u64) {
    let token = seller_at(address, seller_email, business_number).await;
    let row = |name: &str, seats: u16| json!({"name": name, "seats": (1..=seats).map(|n| json!({"number": n, "x": n, "y": 0})).collect::<Vec<_>>()});
    let venue = json!({"name": "블루스퀘어", "region": "seoul", "address": "서울",
            "layout": {"sections": [{"name": "A", "rows": [row("1", 5), row("2", 5)]}, {"name": "B", "rows": [row("1", 4)]}],
                       "zones": [{"name": "Floor", "capacity": floor_capacity}]}});
    let venue_id = call(
        address,
        "POST",
        "/api/v2/venues",
        &venue.to_string(),
        Some(&token),
    )
    .await
    .body["id"]
        .clone();
    let venue_id = crate::ids::id_i64(&venue_id);
    let mut show = json!({"title": "레미제라블", "category": "musical", "venue_id": venue_id.to_string(), "description": "",
            "age_rating": "7+", "running_minutes": 150, "grades": [
                {"code": "VIP", "price_won": 160000, "sections": ["A"]},
                {"code": "R", "price_won": 140000, "sections": ["B"]},
                {"code": "S", "price_won": 110000, "zones": ["Floor"]}]});
    if let (Some(form), Some(more)) = (show.as_object_mut(), more.as_object()) {
        form.extend(more.clone());
    }
    let show_id = call(
        address,
        "POST",
        "/api/v2/shows",
        &show.to_string(),
        Some(&token),
    )
    .await
    .body["id"]
        .clone();
    let show_id = crate::ids::id_i64(&show_id);
    let starts = picket_edge::clock::now_ms() + 20 * 24 * 3_600_000;
    let form = json!({"starts_at_ms": starts, "sale_open_at_ms": starts - 10 * 24 * 3_600_000});
    let performance = call(
        address,
        "POST",
        &format!("/api/v2/shows/{show_id}/performances"),
        &form.to_string(),
        Some(&token),
    )
    .await;
    let performance = crate::ids::id(&performance.body["id"]);
    (token, show_id, performance)
}

/// A raw HTTP/1.1 request with `headers` and a byte body: (status, lower-cased head, body
/// bytes).
pub async fn call_raw(
    address: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut request = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    stream.write_all(body).await.expect("write body");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).await.expect("read");
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("head");
    let head = String::from_utf8_lossy(&response[..split]).to_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head, response[split + 4..].to_vec())
}

/// `PUT` a banner as `bearer` with a declared content type: (status, lower-cased head, body).
pub async fn put_banner(
    address: SocketAddr,
    path: &str,
    bearer: &str,
    content_type: &str,
    body: &[u8],
) -> (u16, String, Vec<u8>) {
    let headers = [("Authorization", bearer), ("Content-Type", content_type)];
    call_raw(address, "PUT", path, &headers, body).await
}

/// A real PNG (noise, which does not compress) of at least `len` bytes: what the banner checks
/// decode and accept.
pub fn sample_png(len: u32) -> Vec<u8> {
    let side = (f64::from(len) / 3.0).sqrt().ceil().max(1.0) as u32;
    let mut state = 0x2545_f491_u32;
    let image = image::RgbImage::from_fn(side, side, |_, _| {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        let [r, g, b, _] = state.to_le_bytes();
        image::Rgb([r, g, b])
    });
    encode(&image, image::ImageFormat::Png)
}

/// A real JPEG, `side` × `side` pixels of a gradient.
pub fn sample_jpeg(side: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(side, side, |x, y| {
        image::Rgb([(x % 256) as u8, (y % 256) as u8, 128])
    });
    encode(&image, image::ImageFormat::Jpeg)
}

fn encode(image: &image::RgbImage, format: image::ImageFormat) -> Vec<u8> {
    let mut bytes = Vec::new();
    image
        .write_to(&mut std::io::Cursor::new(&mut bytes), format)
        .expect("encode a sample image");
    bytes
}

/// A header's value in a lower-cased response head.
pub fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(": "))
}

/// The `schemathesis` command (PyPI `schemathesis`, which `scripts/test` installs with pip): on
/// PATH or where `pip install --user` puts it.
pub fn schemathesis_binary() -> Result<std::path::PathBuf, crate::HarnessError> {
    crate::process::find_binary(
        "schemathesis",
        "schemathesis",
        &crate::process::pip_user_dirs(),
    )
    .map_err(|_| crate::HarnessError::MissingPython {
        binary: "schemathesis",
        package: "schemathesis",
    })
}

/// The secret an app keeps, from a ticket's `code` as the API delivers it (docs/protocol.md,
/// "The holder's ticket").
pub fn secret_of(ticket: &Value) -> picket_tickets::TicketSecret {
    let code = &ticket["code"];
    let bytes = |name: &str| hex::decode(code[name].as_str().expect(name)).expect("hex");
    picket_tickets::TicketSecret {
        generation: code["generation"].as_u64().expect("generation") as u8,
        seal: picket_tickets::Seal(bytes("seal").try_into().expect("9 bytes")),
        mac_key: bytes("mac_key").try_into().expect("32 bytes"),
    }
}

/// Rows per multi-row `INSERT` of [`seed_members`].
pub const SEED_ROWS_MAX: usize = 1_000;

/// Writes `count` members straight into the API's store behind `pool`: accounts `first_id`,
/// `first_id + 1`, … (emails `member-<id>@seed.invalid`, a password hash nothing signs in
/// with), the n-th (from 0) with the interests `interests(n)` gives as `(kind, value)`
/// (`("category", "musical")`, `("region", "seoul")`). For fan-out tests and benchmarks: signing
/// up a million members through the API would spend hours in Argon2. One transaction per
/// [`SEED_ROWS_MAX`] members.
pub async fn seed_members(
    pool: &sqlx::AnyPool,
    first_id: i64,
    count: usize,
    interests: impl Fn(usize) -> Vec<(&'static str, &'static str)>,
) -> Result<(), sqlx::Error> {
    use picket_api::store::{is_sqlite, parameter_groups};
    let created_at_ms = picket_edge::clock::now_ms() as i64;
    for start in (0..count).step_by(SEED_ROWS_MAX) {
        let members = start..count.min(start + SEED_ROWS_MAX);
        let mut tx = pool.begin().await?;
        let sqlite = is_sqlite(&tx);
        let sql = format!(
            "INSERT INTO accounts (id, email, password_hash, name, role, created_at_ms) VALUES {}",
            parameter_groups(sqlite, members.len(), 6, 1)
        );
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for n in members.clone() {
            let id = first_id + n as i64;
            query = query
                .bind(id)
                .bind(format!("member-{id}@seed.invalid"))
                .bind("seeded")
                .bind("회원")
                .bind("member")
                .bind(created_at_ms);
        }
        query.execute(&mut *tx).await?;
        let rows: Vec<(i64, &str, &str)> = members
            .flat_map(|n| {
                interests(n)
                    .into_iter()
                    .map(move |(kind, value)| (first_id + n as i64, kind, value))
            })
            .collect();
        for chunk in rows.chunks(SEED_ROWS_MAX) {
            let sql = format!(
                "INSERT INTO interests (account_id, kind, value) VALUES {}",
                parameter_groups(sqlite, chunk.len(), 3, 1)
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (account, kind, value) in chunk {
                query = query.bind(*account).bind(*kind).bind(*value);
            }
            query.execute(&mut *tx).await?;
        }
        tx.commit().await?;
    }
    Ok(())
}
