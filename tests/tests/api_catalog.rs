//! The catalog through the HTTP API with a real (in-process) ledger: venues with seat maps,
//! shows with price grades, performances, publishing (which opens inventory in the ledger),
//! browsing with filters and cursors, and the seats left per grade from the read model.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use picket_api::{Api, ApiConfig};
use picket_ledger_client::LedgerClient;
use picket_ledger_core::*;
use picket_room::memory::MemoryStore;
use picket_tests::api::{
    Answer, ApiSetup, OPERATOR, call, call_raw, header, put_banner, sample_png,
};
use picket_tests::gateway::{Cluster, test_keys};
use serde_json::{Value, json};

async fn setup() -> ApiSetup {
    ApiSetup::start_postgres().await
}

async fn setup_sqlite() -> ApiSetup {
    ApiSetup::start().await
}

async fn seller(address: SocketAddr, email: &str, business_number: &str) -> String {
    let form = json!({
        "account": {"email": email, "password": "correct horse", "name": "Seller"},
        "company": {"name": "공연기획", "business_number": business_number,
                    "contact_email": "c@example.com", "contact_phone": "02-123-4567"}
    });
    let created = call(
        address,
        "POST",
        "/api/v1/companies",
        &form.to_string(),
        None,
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let session = call(
        address,
        "POST",
        "/api/v1/sessions",
        &json!({"email": email, "password": "correct horse"}).to_string(),
        None,
    )
    .await;
    session.body["token"].as_str().expect("token").to_owned()
}

fn venue() -> Value {
    let row = |name: &str, seats: u16, y: i32| json!({"name": name, "seats": (1..=seats).map(|n| json!({"number": n, "x": i32::from(n) * 10, "y": y})).collect::<Vec<_>>()});
    json!({"name": "블루스퀘어", "region": "seoul", "address": "서울 용산구 이태원로 294",
           "layout": {"sections": [
               {"name": "A", "rows": [row("1", 5, 0), row("2", 5, 10)]},
               {"name": "B", "rows": [row("1", 4, 30)]}],
            "zones": [{"name": "Floor", "capacity": 100}]}})
}

fn show(venue_id: i64, title: &str, grades: Value) -> Value {
    json!({"title": title, "category": "musical", "venue_id": venue_id, "description": "",
           "age_rating": "7+", "running_minutes": 150, "grades": grades})
}

fn three_grades() -> Value {
    json!([{"code": "VIP", "price_won": 160000, "sections": ["A"]},
           {"code": "R", "price_won": 140000, "sections": ["B"]},
           {"code": "S", "price_won": 110000, "zones": ["Floor"]}])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seller_publishes_a_show_and_buyers_see_what_is_left() {
    publishes_and_counts(setup().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seller_publishes_a_show_and_buyers_see_what_is_left_on_sqlite() {
    publishes_and_counts(setup_sqlite().await).await;
}

async fn publishes_and_counts(setup: ApiSetup) {
    let address = setup.address;
    let token = seller(address, "s@example.com", "123-45-67891").await;
    let venue = call(
        address,
        "POST",
        "/api/v1/venues",
        &venue().to_string(),
        Some(&token),
    )
    .await;
    assert_eq!(venue.status, 201, "{:?}", venue.body);
    assert_eq!(venue.body["seats"], 14);
    let venue_id = venue.body["id"].as_i64().expect("venue id");

    let uncovered = json!([{"code": "VIP", "price_won": 160000, "sections": ["A"]}]);
    let refused = call(
        address,
        "POST",
        "/api/v1/shows",
        &show(venue_id, "Bad", uncovered).to_string(),
        Some(&token),
    )
    .await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    assert_eq!(refused.body["errors"][0]["field"], "grades");

    let created = call(
        address,
        "POST",
        "/api/v1/shows",
        &show(venue_id, "레미제라블", three_grades()).to_string(),
        Some(&token),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let show_id = created.body["id"].as_i64().expect("show id");
    let starts = picket_edge::clock::now_ms() + 20 * 24 * 3_600_000;
    let form = json!({"starts_at_ms": starts, "sale_open_at_ms": starts - 10 * 24 * 3_600_000});
    let performance = call(
        address,
        "POST",
        &format!("/api/v1/shows/{show_id}/performances"),
        &form.to_string(),
        Some(&token),
    )
    .await;
    assert_eq!(performance.status, 201, "{:?}", performance.body);
    let performance_id = performance.body["id"].as_i64().expect("performance id") as u64;

    // A draft is not listed and not shown to others.
    assert_eq!(
        call(
            address,
            "GET",
            &format!("/api/v1/shows/{show_id}"),
            "",
            None
        )
        .await
        .status,
        404
    );
    let mut announcements = setup.api.published.subscribe();
    let published = call(
        address,
        "POST",
        &format!("/api/v1/shows/{show_id}/publish"),
        "",
        Some(&token),
    )
    .await;
    assert_eq!(published.status, 200, "{:?}", published.body);
    let event = announcements.try_recv().expect("announced");
    // The performance's sale is open for queueing at its sale-open time, with the show's rate.
    let sale = call(
        setup.cluster.address(0),
        "GET",
        &format!("/api/v1/sales/{performance_id}"),
        "",
        None,
    )
    .await;
    assert_eq!(sale.status, 200, "{:?}", sale.body);
    assert_eq!(
        sale.body["settings"]["open_at_ms"],
        starts - 10 * 24 * 3_600_000
    );
    assert_eq!(sale.body["settings"]["admit_per_sec"], 200);
    assert_eq!(sale.body["settings"]["seat_limit"], 4);
    assert_eq!(
        (event.show, event.category.as_str(), event.region.as_str()),
        (show_id, "musical", "seoul")
    );

    // The ledger sells it now: a buyer holds two VIP seats.
    let hold = Request {
        actor: ActorId(77),
        key: IdempotencyKey::new("h1").expect("key"),
        command: Command::Hold {
            performance: PerformanceId(performance_id),
            selection: Selection::BestAvailable {
                grade: GradeId(0),
                count: 2,
            },
            admission: None,
            offer: None,
        },
    };
    let held = setup
        .cluster
        .ledger
        .handle
        .submit(hold)
        .await
        .expect("committed");
    assert!(
        matches!(
            held,
            Ok(Reply::Held {
                amount_won: 320_000,
                ..
            })
        ),
        "{held:?}"
    );

    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let left = loop {
        let detail = call(
            address,
            "GET",
            &format!("/api/v1/shows/{show_id}"),
            "",
            None,
        )
        .await;
        assert_eq!(detail.status, 200, "{:?}", detail.body);
        let grades = detail.body["performances"][0]["grades"].clone();
        if grades[0]["left"] == 8 || tokio::time::Instant::now() > deadline {
            break grades;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(
        left,
        json!([
        {"grade": "VIP", "price_won": 160000, "left": 8},
        {"grade": "R", "price_won": 140000, "left": 4},
        {"grade": "S", "price_won": 110000, "left": 100}])
    );

    // Others may not manage it.
    let other = seller(address, "o@example.com", "220-81-62517").await;
    let later =
        json!({"starts_at_ms": starts + 86_400_000, "sale_open_at_ms": starts - 86_400_000});
    let forbidden = call(
        address,
        "POST",
        &format!("/api/v1/shows/{show_id}/performances"),
        &later.to_string(),
        Some(&other),
    )
    .await;
    assert_eq!(forbidden.status, 403);
    assert_eq!(
        call(
            address,
            "POST",
            &format!("/api/v1/shows/{show_id}/publish"),
            "",
            Some(&other)
        )
        .await
        .status,
        403
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsing_filters_and_pages_published_shows() {
    let setup = setup_sqlite().await;
    let address = setup.address;
    let token = seller(address, "s@example.com", "123-45-67891").await;
    let venue_id = call(
        address,
        "POST",
        "/api/v1/venues",
        &venue().to_string(),
        Some(&token),
    )
    .await
    .body["id"]
        .as_i64()
        .expect("venue");
    let day = 24 * 3_600_000;
    let now = picket_edge::clock::now_ms();
    let mut ids = Vec::new();
    for (i, title) in ["Hamlet", "Wicked", "Hamlet Reloaded"]
        .into_iter()
        .enumerate()
    {
        let created = call(
            address,
            "POST",
            "/api/v1/shows",
            &show(venue_id, title, three_grades()).to_string(),
            Some(&token),
        )
        .await;
        let id = created.body["id"].as_i64().expect("show");
        let starts = now + (10 + 10 * i as u64) * day;
        let form = json!({"starts_at_ms": starts, "sale_open_at_ms": now + day});
        call(
            address,
            "POST",
            &format!("/api/v1/shows/{id}/performances"),
            &form.to_string(),
            Some(&token),
        )
        .await;
        assert_eq!(
            call(
                address,
                "POST",
                &format!("/api/v1/shows/{id}/publish"),
                "",
                Some(&token)
            )
            .await
            .status,
            200
        );
        ids.push(id);
    }
    let titles = |answer: &Answer| -> Vec<String> {
        answer.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["title"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    let all = call(
        address,
        "GET",
        "/api/v1/shows?category=musical&region=seoul",
        "",
        None,
    )
    .await;
    assert_eq!(
        titles(&all),
        ["Hamlet Reloaded", "Wicked", "Hamlet"],
        "newest first"
    );
    let text = call(address, "GET", "/api/v1/shows?q=hamlet", "", None).await;
    assert_eq!(titles(&text), ["Hamlet Reloaded", "Hamlet"]);
    let window = format!(
        "/api/v1/shows?from_ms={}&to_ms={}",
        now + 15 * day,
        now + 25 * day
    );
    assert_eq!(
        titles(&call(address, "GET", &window, "", None).await),
        ["Wicked"]
    );
    assert_eq!(
        titles(&call(address, "GET", "/api/v1/shows?region=busan", "", None).await),
        Vec::<String>::new()
    );

    let first = call(address, "GET", "/api/v1/shows?limit=2", "", None).await;
    assert_eq!(titles(&first), ["Hamlet Reloaded", "Wicked"]);
    let cursor = first.body["next_cursor"].as_i64().expect("a next page");
    let second = call(
        address,
        "GET",
        &format!("/api/v1/shows?limit=2&cursor={cursor}"),
        "",
        None,
    )
    .await;
    assert_eq!(titles(&second), ["Hamlet"]);
    assert!(second.body["next_cursor"].is_null());
    assert_eq!(
        call(address, "GET", "/api/v1/shows?limit=500", "", None)
            .await
            .status,
        422
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn banners_are_checked_stored_and_served_with_caching() {
    let setup = setup_sqlite().await;
    let address = setup.address;
    let token = seller(address, "s@example.com", "123-45-67891").await;
    let venue_id = call(
        address,
        "POST",
        "/api/v1/venues",
        &venue().to_string(),
        Some(&token),
    )
    .await
    .body["id"]
        .as_i64()
        .expect("venue");
    let show_id = call(
        address,
        "POST",
        "/api/v1/shows",
        &show(venue_id, "Banner", three_grades()).to_string(),
        Some(&token),
    )
    .await
    .body["id"]
        .as_i64()
        .expect("show");
    let path = format!("/api/v1/shows/{show_id}/banner");
    let bearer = format!("Bearer {token}");
    let png = sample_png(5_000);

    let as_text = put_banner(address, &path, &bearer, "text/plain", &png).await;
    assert_eq!(as_text.0, 422, "declared type must be an image");
    let jpeg_as_png = call_raw(
        address,
        "PUT",
        &path,
        &[("Authorization", &bearer), ("Content-Type", "image/png")],
        b"\xff\xd8\xff\xe0 not a png",
    )
    .await;
    assert_eq!(jpeg_as_png.0, 422, "the bytes must match the declared type");
    let mut huge = png.clone();
    huge.resize(picket_api::media::BANNER_BYTES_MAX + 1, 0);
    let oversized = put_banner(address, &path, &bearer, "image/png", &huge).await;
    assert_eq!(
        oversized.0,
        413,
        "{}",
        String::from_utf8_lossy(&oversized.2)
    );
    assert_eq!(
        header(&oversized.1, "content-type"),
        Some("application/problem+json")
    );
    assert_eq!(
        call_raw(
            address,
            "PUT",
            &path,
            &[("Content-Type", "image/png")],
            &png
        )
        .await
        .0,
        401
    );
    let other = seller(address, "o@example.com", "220-81-62517").await;
    let other_bearer = format!("Bearer {other}");
    assert_eq!(
        put_banner(address, &path, &other_bearer, "image/png", &png)
            .await
            .0,
        403
    );
    assert_eq!(
        call_raw(address, "GET", &path, &[], b"").await.0,
        404,
        "nothing stored yet"
    );

    let stored = put_banner(address, &path, &bearer, "image/png", &png).await;
    assert_eq!(stored.0, 204, "{}", String::from_utf8_lossy(&stored.2));
    let (status, head, bytes) = call_raw(address, "GET", &path, &[], b"").await;
    assert_eq!(status, 200);
    assert_eq!(bytes, png);
    assert!(head.contains("content-type: image/png"), "{head}");
    assert!(
        head.contains("cache-control: public, max-age=3600"),
        "{head}"
    );
    let etag = header(&head, "etag").expect("etag").to_owned();
    let (status, _, bytes) =
        call_raw(address, "GET", &path, &[("If-None-Match", &etag)], b"").await;
    assert_eq!((status, bytes.len()), (304, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_notices_questions_answers_and_hiding() {
    let setup = setup().await;
    let address = setup.address;
    let (show_id, _) = setup.published_show("s@example.com", "123-45-67891").await;
    let token = setup.sign_in("s@example.com").await;
    let other = seller(address, "o@example.com", "220-81-62517").await;
    let (_, member) = setup.member("m@example.com").await;
    let admin = setup.admin("a@example.com").await;

    let post = json!({"title": "공지", "body": "주차 안내"}).to_string();
    let notices = format!("/api/v1/shows/{show_id}/notices");
    assert_eq!(
        call(address, "POST", &notices, &post, Some(&other))
            .await
            .status,
        403,
        "not their show"
    );
    assert_eq!(
        call(address, "POST", &notices, &post, Some(&token))
            .await
            .status,
        201
    );
    assert_eq!(
        call(address, "GET", &notices, "", None).await.body["items"][0]["title"],
        "공지"
    );

    let questions = format!("/api/v1/shows/{show_id}/questions");
    let question = json!({"title": "휠체어석", "body": "휠체어석이 있나요?"}).to_string();
    assert_eq!(
        call(address, "POST", &questions, &question, Some(&token))
            .await
            .status,
        403,
        "sellers answer, members ask"
    );
    let asked = call(address, "POST", &questions, &question, Some(&member)).await;
    assert_eq!(asked.status, 201, "{:?}", asked.body);
    let question_id = asked.body["id"].as_i64().expect("id");
    let spam = call(
        address,
        "POST",
        &questions,
        &json!({"title": "spam", "body": "spam"}).to_string(),
        Some(&member),
    )
    .await
    .body["id"]
        .as_i64()
        .expect("id");
    let answer = json!({"answer": "네, 1층에 있습니다."}).to_string();
    let answer_path = format!("/api/v1/questions/{question_id}/answer");
    assert_eq!(
        call(address, "POST", &answer_path, &answer, Some(&other))
            .await
            .status,
        403
    );
    assert_eq!(
        call(address, "POST", &answer_path, &answer, Some(&token))
            .await
            .status,
        204
    );
    assert_eq!(
        call(
            address,
            "POST",
            &format!("/api/v1/posts/{spam}/hide"),
            "",
            Some(&token)
        )
        .await
        .status,
        403,
        "only admins hide"
    );
    assert_eq!(
        call(
            address,
            "POST",
            &format!("/api/v1/posts/{spam}/hide"),
            "",
            Some(&admin)
        )
        .await
        .status,
        204
    );
    let listed = call(address, "GET", &questions, "", None).await;
    let items = listed.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "the hidden post is not listed: {items:?}");
    assert_eq!(items[0]["answer"], "네, 1층에 있습니다.");

    let platform = json!({"title": "점검 안내", "body": "12월 1일 새벽 점검"}).to_string();
    assert_eq!(
        call(address, "POST", "/api/v1/notices", &platform, Some(&member))
            .await
            .status,
        403
    );
    assert_eq!(
        call(address, "POST", "/api/v1/notices", &platform, Some(&admin))
            .await
            .status,
        201
    );
    let listed = call(address, "GET", "/api/v1/notices", "", None).await;
    assert_eq!(
        listed.body["items"].as_array().map(Vec::len),
        Some(1),
        "show notices are not platform notices"
    );
}

/// With a read replica configured, stale-tolerant reads (browsing) go to it and writes to the
/// primary. The "replica" here is a second database that never receives the primary's writes,
/// so where a read went shows in its answer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn browsing_reads_from_the_replica() {
    let postgres = picket_tests::Postgres::start().expect("postgres");
    let primary = postgres.create_database("primary").expect("database");
    let replica = postgres.create_database("replica").expect("database");
    picket_api::store::Store::connect(&replica)
        .await
        .expect("replica schema");
    let cluster = Cluster::start(1, Arc::new(MemoryStore::new()), |_| {}).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = picket_api::store::Store::connect(&primary)
        .await
        .expect("store")
        .with_read_replica(&replica)
        .await
        .expect("replica");
    let config = ApiConfig {
        media_dir: dir.path().join("media"),
        ..ApiConfig::default()
    };
    let ledger = LedgerClient::in_process(cluster.ledger.handle.clone());
    let api = Api::new(
        store,
        test_keys(),
        OPERATOR.into(),
        Some(ledger),
        None,
        config,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, picket_api::router(api)).await });

    let token = seller(address, "s@example.com", "123-45-67891").await;
    let venue_id = call(
        address,
        "POST",
        "/api/v1/venues",
        &venue().to_string(),
        Some(&token),
    )
    .await
    .body["id"]
        .as_i64()
        .expect("venue");
    let show_id = call(
        address,
        "POST",
        "/api/v1/shows",
        &show(venue_id, "Replica", three_grades()).to_string(),
        Some(&token),
    )
    .await
    .body["id"]
        .as_i64()
        .expect("show");
    let starts = picket_edge::clock::now_ms() + 20 * 24 * 3_600_000;
    call(
        address,
        "POST",
        &format!("/api/v1/shows/{show_id}/performances"),
        &json!({"starts_at_ms": starts, "sale_open_at_ms": starts - 86_400_000}).to_string(),
        Some(&token),
    )
    .await;
    assert_eq!(
        call(
            address,
            "POST",
            &format!("/api/v1/shows/{show_id}/publish"),
            "",
            Some(&token)
        )
        .await
        .status,
        200
    );
    let listed = call(address, "GET", "/api/v1/shows", "", None).await;
    assert_eq!(
        listed.body["items"],
        json!([]),
        "the list came from the replica"
    );
    let detail = call(
        address,
        "GET",
        &format!("/api/v1/shows/{show_id}"),
        "",
        None,
    )
    .await;
    assert_eq!(
        detail.body["status"], "published",
        "the show itself is read from the primary"
    );
}

/// With NATS, a published show is announced durably on the catalog stream (for the notifier),
/// once however often it is published.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_shows_are_announced_on_nats() {
    use futures_util::StreamExt;
    let nats = picket_tests::Nats::start().expect("nats");
    let setup = ApiSetup::start().await;
    let client = picket_ledger_client::bus::connect(&nats.url(), "test")
        .await
        .expect("nats client");
    setup.api.announce_on(client.clone()).await.expect("stream");
    let (show_id, _) = setup.published_show("s@example.com", "123-45-67891").await;
    let token = setup.sign_in("s@example.com").await;
    let again = call(
        setup.address,
        "POST",
        &format!("/api/v1/shows/{show_id}/publish"),
        "",
        Some(&token),
    )
    .await;
    assert_eq!(again.status, 200);

    let js = async_nats::jetstream::new(client);
    let mut stream = js
        .get_stream(picket_ledger_client::bus::ANNOUNCEMENTS_STREAM)
        .await
        .expect("stream");
    assert_eq!(
        stream.info().await.expect("info").state.messages,
        1,
        "announced once"
    );
    let consumer = stream
        .create_consumer(async_nats::jetstream::consumer::pull::OrderedConfig::default())
        .await
        .expect("consumer");
    let mut messages = consumer.messages().await.expect("messages");
    let message = tokio::time::timeout(Duration::from_secs(10), messages.next())
        .await
        .expect("an announcement")
        .expect("message")
        .expect("ok");
    let event: picket_api::catalog::ShowPublished =
        serde_json::from_slice(&message.payload).expect("event");
    assert_eq!(
        (event.show, event.category.as_str(), event.region.as_str()),
        (show_id, "musical", "seoul")
    );
    assert_eq!(event.sale_open_at_ms.len(), 1);
}

/// Publishing again answers the same and changes nothing: it must not configure the sales
/// again, which would undo an operator's pause.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_again_keeps_an_operators_pause() {
    let setup = setup_sqlite().await;
    let (show, performance) = setup.published_show("s@example.com", "123-45-67891").await;
    let queue = setup.api.queue.clone().expect("a waiting room");
    let mut settings = queue.view(performance).await.expect("sale").settings;
    settings.paused = true;
    queue.configure(performance, settings).await.expect("pause");
    let seller = setup.sign_in("s@example.com").await;
    let again = call(
        setup.address,
        "POST",
        &format!("/api/v1/shows/{show}/publish"),
        "",
        Some(&seller),
    )
    .await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(again.body["status"], "published");
    let view = queue.view(performance).await.expect("sale");
    assert!(view.settings.paused, "the pause survives a second publish");
}
