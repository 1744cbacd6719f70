//! The catalog through the HTTP API with a real (in-process) ledger: venues with seat maps,
//! shows with price grades, performances, publishing (which opens inventory in the ledger),
//! browsing with filters and cursors, and the seats left per grade from the read model.

use std::sync::Arc;
use std::time::Duration;

use picket_api::{Api, ApiConfig};
use picket_ledger_client::LedgerClient;
use picket_ledger_core::*;
use picket_room::memory::MemoryStore;
use picket_tests::api::{
    Answer, ApiSetup, OPERATOR, call, call_raw, header, put_banner, sample_png, seller_at,
};
use picket_tests::gateway::{Cluster, test_keys};
use serde_json::{Value, json};

async fn setup() -> ApiSetup {
    ApiSetup::start_postgres().await
}

async fn setup_sqlite() -> ApiSetup {
    ApiSetup::start().await
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
    json!({"title": title, "category": "musical", "venue_id": venue_id.to_string(), "description": "",
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
    let token = seller_at(address, "s@example.com", "123-45-67891").await;
    let venue = call(
        address,
        "POST",
        "/api/v2/venues",
        &venue().to_string(),
        Some(&token),
    )
    .await;
    assert_eq!(venue.status, 201, "{:?}", venue.body);
    assert_eq!(venue.body["seats"], 14);
    let venue_id = picket_tests::ids::id_i64(&venue.body["id"]);

    let uncovered = json!([{"code": "VIP", "price_won": 160000, "sections": ["A"]}]);
    let refused = call(
        address,
        "POST",
        "/api/v2/shows",
        &show(venue_id, "Bad", uncovered).to_string(),
        Some(&token),
    )
    .await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    assert_eq!(refused.body["errors"][0]["field"], "grades");

    let created = call(
        address,
        "POST",
        "/api/v2/shows",
        &show(venue_id, "레미제라블", three_grades()).to_string(),
        Some(&token),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let show_id = picket_tests::ids::id_i64(&created.body["id"]);
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
    assert_eq!(performance.status, 201, "{:?}", performance.body);
    let performance_id = picket_tests::ids::id_i64(&performance.body["id"]) as u64;

    // A draft is not listed and not shown to others.
    assert_eq!(
        call(
            address,
            "GET",
            &format!("/api/v2/shows/{show_id}"),
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
        &format!("/api/v2/shows/{show_id}/publish"),
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
        &format!("/api/v2/sales/{performance_id}"),
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
        (event.show.0, event.category.as_str(), event.region.as_str()),
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
            &format!("/api/v2/shows/{show_id}"),
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
    let other = seller_at(address, "o@example.com", "220-81-62517").await;
    let later =
        json!({"starts_at_ms": starts + 86_400_000, "sale_open_at_ms": starts - 86_400_000});
    let forbidden = call(
        address,
        "POST",
        &format!("/api/v2/shows/{show_id}/performances"),
        &later.to_string(),
        Some(&other),
    )
    .await;
    assert_eq!(forbidden.status, 403);
    assert_eq!(
        call(
            address,
            "POST",
            &format!("/api/v2/shows/{show_id}/publish"),
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
    let token = seller_at(address, "s@example.com", "123-45-67891").await;
    let venue_id = call(
        address,
        "POST",
        "/api/v2/venues",
        &venue().to_string(),
        Some(&token),
    )
    .await
    .body["id"]
        .as_str()
        .and_then(|id| id.parse::<i64>().ok())
        .expect("an id");
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
            "/api/v2/shows",
            &show(venue_id, title, three_grades()).to_string(),
            Some(&token),
        )
        .await;
        let id = picket_tests::ids::id_i64(&created.body["id"]);
        let starts = now + (10 + 10 * i as u64) * day;
        let form = json!({"starts_at_ms": starts, "sale_open_at_ms": now + day});
        call(
            address,
            "POST",
            &format!("/api/v2/shows/{id}/performances"),
            &form.to_string(),
            Some(&token),
        )
        .await;
        assert_eq!(
            call(
                address,
                "POST",
                &format!("/api/v2/shows/{id}/publish"),
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
        "/api/v2/shows?category=musical&region=seoul",
        "",
        None,
    )
    .await;
    assert_eq!(
        titles(&all),
        ["Hamlet Reloaded", "Wicked", "Hamlet"],
        "newest first"
    );
    let text = call(address, "GET", "/api/v2/shows?q=hamlet", "", None).await;
    assert_eq!(titles(&text), ["Hamlet Reloaded", "Hamlet"]);
    let window = format!(
        "/api/v2/shows?from_ms={}&to_ms={}",
        now + 15 * day,
        now + 25 * day
    );
    assert_eq!(
        titles(&call(address, "GET", &window, "", None).await),
        ["Wicked"]
    );
    assert_eq!(
        titles(&call(address, "GET", "/api/v2/shows?region=busan", "", None).await),
        Vec::<String>::new()
    );

    let first = call(address, "GET", "/api/v2/shows?limit=2", "", None).await;
    assert_eq!(titles(&first), ["Hamlet Reloaded", "Wicked"]);
    let cursor = picket_tests::ids::id_i64(&first.body["next_cursor"]);
    let second = call(
        address,
        "GET",
        &format!("/api/v2/shows?limit=2&cursor={cursor}"),
        "",
        None,
    )
    .await;
    assert_eq!(titles(&second), ["Hamlet"]);
    assert!(second.body["next_cursor"].is_null());
    assert_eq!(
        call(address, "GET", "/api/v2/shows?limit=500", "", None)
            .await
            .status,
        422
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn banners_are_checked_stored_and_served_with_caching() {
    let setup = setup_sqlite().await;
    let address = setup.address;
    let token = seller_at(address, "s@example.com", "123-45-67891").await;
    let venue_id = call(
        address,
        "POST",
        "/api/v2/venues",
        &venue().to_string(),
        Some(&token),
    )
    .await
    .body["id"]
        .as_str()
        .and_then(|id| id.parse::<i64>().ok())
        .expect("an id");
    let show_id = call(
        address,
        "POST",
        "/api/v2/shows",
        &show(venue_id, "Banner", three_grades()).to_string(),
        Some(&token),
    )
    .await
    .body["id"]
        .as_str()
        .and_then(|id| id.parse::<i64>().ok())
        .expect("an id");
    let path = format!("/api/v2/shows/{show_id}/banner");
    let bearer = format!("Bearer {token}");
    let png = sample_png(5_000);

    let as_text = put_banner(address, &path, &bearer, "text/plain", &png).await;
    assert_eq!(as_text.0, 415, "declared type must be an image");
    let jpeg_as_png = call_raw(
        address,
        "PUT",
        &path,
        &[("Authorization", &bearer), ("Content-Type", "image/png")],
        b"\xff\xd8\xff\xe0 not a png",
    )
    .await;
    assert_eq!(jpeg_as_png.0, 422, "the bytes must match the declared type");
    // A PNG signature followed by a page: the magic bytes match, the image does not decode.
    let page = [
        &png[..8],
        b"<html><script>document.cookie</script></html>".as_slice(),
    ]
    .concat();
    let (status, _, body) = put_banner(address, &path, &bearer, "image/png", &page).await;
    assert_eq!(status, 422, "{}", String::from_utf8_lossy(&body));
    // Over the limit: a problem, 413, whether the handler sees the body (one byte over) or the
    // body extractor refuses it.
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
    let problem: Value = serde_json::from_slice(&oversized.2).expect("a problem");
    assert_eq!(problem["code"], "too_large");
    // Two bytes over: more than the router reads, so the body extractor refuses it.
    huge.push(0);
    let refused = put_banner(address, &path, &bearer, "image/png", &huge).await;
    assert_eq!(refused.0, 413, "{}", String::from_utf8_lossy(&refused.2));
    assert_eq!(
        header(&refused.1, "content-type"),
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
    let other = seller_at(address, "o@example.com", "220-81-62517").await;
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
    // The show is a draft: its banner is its seller's (and admins'), like the draft itself.
    let (status, _, _) = call_raw(address, "GET", &path, &[], b"").await;
    assert_eq!(status, 404, "a draft's banner is not public");
    let (status, _, _) = call_raw(
        address,
        "GET",
        &path,
        &[("Authorization", &other_bearer)],
        b"",
    )
    .await;
    assert_eq!(status, 404, "nor another seller's to see");
    let (status, head, bytes) =
        call_raw(address, "GET", &path, &[("Authorization", &bearer)], b"").await;
    assert_eq!(status, 200, "{head}");
    assert_eq!(bytes, png);
    assert_eq!(header(&head, "cache-control"), Some("private, no-cache"));
    assert_eq!(header(&head, "x-content-type-options"), Some("nosniff"));

    let starts = picket_edge::clock::now_ms() + 20 * 24 * 3_600_000;
    let form = json!({"starts_at_ms": starts, "sale_open_at_ms": starts - 10 * 24 * 3_600_000});
    let added = call(
        address,
        "POST",
        &format!("/api/v2/shows/{show_id}/performances"),
        &form.to_string(),
        Some(&token),
    )
    .await;
    assert_eq!(added.status, 201, "{:?}", added.body);
    let published = call(
        address,
        "POST",
        &format!("/api/v2/shows/{show_id}/publish"),
        "",
        Some(&token),
    )
    .await;
    assert_eq!(published.status, 200, "{:?}", published.body);
    let (status, head, bytes) = call_raw(address, "GET", &path, &[], b"").await;
    assert_eq!(status, 200);
    assert_eq!(bytes, png);
    assert!(head.contains("content-type: image/png"), "{head}");
    assert!(
        head.contains("cache-control: public, max-age=3600"),
        "{head}"
    );
    assert_eq!(header(&head, "x-content-type-options"), Some("nosniff"));
    let etag = header(&head, "etag").expect("etag").to_owned();
    let (status, head, bytes) =
        call_raw(address, "GET", &path, &[("If-None-Match", &etag)], b"").await;
    assert_eq!((status, bytes.len()), (304, 0));
    assert_eq!(header(&head, "x-content-type-options"), Some("nosniff"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_board_notices_questions_answers_and_hiding() {
    let setup = setup().await;
    let address = setup.address;
    let (show_id, _) = setup.published_show("s@example.com", "123-45-67891").await;
    let token = setup.sign_in("s@example.com").await;
    let other = seller_at(address, "o@example.com", "220-81-62517").await;
    let (_, member) = setup.member("m@example.com").await;
    let admin = setup.admin("a@example.com").await;

    let post = json!({"title": "공지", "body": "주차 안내"}).to_string();
    let notices = format!("/api/v2/shows/{show_id}/notices");
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

    let questions = format!("/api/v2/shows/{show_id}/questions");
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
    let question_id = picket_tests::ids::id_i64(&asked.body["id"]);
    let spam = call(
        address,
        "POST",
        &questions,
        &json!({"title": "spam", "body": "spam"}).to_string(),
        Some(&member),
    )
    .await
    .body["id"]
        .as_str()
        .and_then(|id| id.parse::<i64>().ok())
        .expect("an id");
    let answer = json!({"answer": "네, 1층에 있습니다."}).to_string();
    let answer_path = format!("/api/v2/questions/{question_id}/answer");
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
            &format!("/api/v2/posts/{spam}/hide"),
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
            &format!("/api/v2/posts/{spam}/hide"),
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
        call(address, "POST", "/api/v2/notices", &platform, Some(&member))
            .await
            .status,
        403
    );
    assert_eq!(
        call(address, "POST", "/api/v2/notices", &platform, Some(&admin))
            .await
            .status,
        201
    );
    let listed = call(address, "GET", "/api/v2/notices", "", None).await;
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

    let token = seller_at(address, "s@example.com", "123-45-67891").await;
    let venue_id = call(
        address,
        "POST",
        "/api/v2/venues",
        &venue().to_string(),
        Some(&token),
    )
    .await
    .body["id"]
        .as_str()
        .and_then(|id| id.parse::<i64>().ok())
        .expect("an id");
    let show_id = call(
        address,
        "POST",
        "/api/v2/shows",
        &show(venue_id, "Replica", three_grades()).to_string(),
        Some(&token),
    )
    .await
    .body["id"]
        .as_str()
        .and_then(|id| id.parse::<i64>().ok())
        .expect("an id");
    let starts = picket_edge::clock::now_ms() + 20 * 24 * 3_600_000;
    call(
        address,
        "POST",
        &format!("/api/v2/shows/{show_id}/performances"),
        &json!({"starts_at_ms": starts, "sale_open_at_ms": starts - 86_400_000}).to_string(),
        Some(&token),
    )
    .await;
    assert_eq!(
        call(
            address,
            "POST",
            &format!("/api/v2/shows/{show_id}/publish"),
            "",
            Some(&token)
        )
        .await
        .status,
        200
    );
    let listed = call(address, "GET", "/api/v2/shows", "", None).await;
    assert_eq!(
        listed.body["items"],
        json!([]),
        "the list came from the replica"
    );
    let detail = call(
        address,
        "GET",
        &format!("/api/v2/shows/{show_id}"),
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
        &format!("/api/v2/shows/{show_id}/publish"),
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
        (event.show.0, event.category.as_str(), event.region.as_str()),
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
        &format!("/api/v2/shows/{show}/publish"),
        "",
        Some(&seller),
    )
    .await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(again.body["status"], "published");
    let view = queue.view(performance).await.expect("sale");
    assert!(view.settings.paused, "the pause survives a second publish");
}

/// Search takes `%` and `_` as the characters they are, on SQLite and on PostgreSQL: `?q=%`
/// finds the title with a percent sign, not every show.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn search_takes_percent_and_underscore_literally() {
    searches_literally(setup_sqlite().await).await;
    searches_literally(setup().await).await;
}

async fn searches_literally(setup: ApiSetup) {
    for (email, business_number, title) in [
        ("pct@example.com", "123-45-67891", "100% Love"),
        ("und@example.com", "220-81-62517", "Hamlet_2"),
    ] {
        setup
            .published_show_with(email, business_number, json!({"title": title}))
            .await;
    }
    let titles = |answer: Answer| -> Vec<String> {
        answer.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["title"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    for (q, expected) in [
        ("%25", vec!["100% Love"]),
        ("_", vec!["Hamlet_2"]),
        ("0%25%20l", vec!["100% Love"]),
        ("h_m", vec![]),
        ("%5C", vec![]),
        ("love", vec!["100% Love"]),
    ] {
        let found = call(
            setup.address,
            "GET",
            &format!("/api/v2/shows?q={q}"),
            "",
            None,
        )
        .await;
        assert_eq!(found.status, 200, "{:?}", found.body);
        assert_eq!(titles(found), expected, "q={q}");
    }
}

/// `POST /api/v2/performances` (operator): a refused spec can be corrected, the same spec again
/// answers as the first time, and another spec for an open performance is a conflict, not a
/// 201 that keeps the old one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operators_performance_spec_is_correctable_and_never_silently_kept() {
    let setup = setup_sqlite().await;
    let open = |spec: picket_ledger_core::PerformanceSpec| {
        let body = picket_tests::gateway::spec_json(&spec).to_string();
        async move {
            call(
                setup.address,
                "POST",
                "/api/v2/performances",
                &body,
                Some(OPERATOR),
            )
            .await
        }
    };
    let good = picket_tests::gateway::small_spec(4_401, 5);
    let too_short_a_hold = picket_ledger_core::PerformanceSpec {
        hold_ttl_ms: 1_000,
        ..good.clone()
    };
    let refused = open(too_short_a_hold.clone()).await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    assert_eq!(refused.body["code"], "ledger_rejected");
    let again = open(too_short_a_hold).await;
    assert_eq!(again.status, 422, "the same spec, the same answer");

    let corrected = open(good.clone()).await;
    assert_eq!(corrected.status, 201, "{:?}", corrected.body);
    assert_eq!(corrected.body["Ok"]["PerformanceOpened"]["seats"], 5);
    let repeated = open(good.clone()).await;
    assert_eq!(
        repeated.status, 201,
        "posting the same spec again is harmless"
    );
    assert_eq!(repeated.body, corrected.body);

    let bigger = picket_tests::gateway::small_spec(4_401, 10);
    let changed = open(bigger).await;
    assert_eq!(changed.status, 409, "{:?}", changed.body);
    assert_eq!(changed.body["code"], "performance_already_open");
    assert_eq!(
        changed
            .head
            .split("\r\n")
            .find(|l| l.starts_with("content-type")),
        Some("content-type: application/problem+json")
    );
}

/// A venue belongs to the company whose seller created it: another seller cannot stage a show
/// there (they would sell the same physical seats), nor on a venue an admin created.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_seller_stages_shows_only_on_its_companys_venues() {
    let setup = setup_sqlite().await;
    let address = setup.address;
    let owner = seller_at(address, "venue-owner@example.com", "123-45-67891").await;
    let other = seller_at(address, "other@example.com", "220-81-62517").await;
    let admin = setup.admin("admin@example.com").await;
    let venue_of = |token: String| async move {
        let created = call(
            address,
            "POST",
            "/api/v2/venues",
            &venue().to_string(),
            Some(&token),
        )
        .await;
        assert_eq!(created.status, 201, "{:?}", created.body);
        picket_tests::ids::id_i64(&created.body["id"])
    };
    let owners = venue_of(owner.clone()).await;
    let others = venue_of(other.clone()).await;
    let admins = venue_of(admin).await;
    let create = |token: String, venue_id: i64| async move {
        call(
            address,
            "POST",
            "/api/v2/shows",
            &show(venue_id, "Venue", three_grades()).to_string(),
            Some(&token),
        )
        .await
    };
    assert_eq!(create(owner.clone(), owners).await.status, 201);
    assert_eq!(create(other.clone(), others).await.status, 201);
    for (token, venue_id, whose) in [
        (other.clone(), owners, "another company's venue"),
        (owner.clone(), others, "another company's venue"),
        (owner, admins, "an admin's venue"),
    ] {
        let refused = create(token, venue_id).await;
        assert_eq!(refused.status, 422, "{whose}: {:?}", refused.body);
        assert_eq!(refused.body["code"], "invalid_request");
        assert_eq!(refused.body["errors"][0]["field"], "venue_id", "{whose}");
    }
}

/// `GET /api/v2/venues/{id}` names every seat and zone by the id the ledger and the WebSocket
/// `hold` use: a hold by a returned id takes that seat, and the seats the ledger gives a grade
/// are the ones the venue lists for the grade's section.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_venues_seat_and_zone_ids_are_the_ones_a_hold_uses() {
    let setup = setup_sqlite().await;
    let address = setup.address;
    let (show_id, performance) = setup
        .published_show("ids@example.com", "123-45-67891")
        .await;
    // A link naming only the performance (the buyer app's `/performances/{id}/book`) finds
    // its show; an unknown performance is 404.
    let found = call(
        address,
        "GET",
        &format!("/api/v2/performances/{performance}"),
        "",
        None,
    )
    .await;
    assert_eq!(found.status, 200, "{:?}", found.body);
    assert_eq!(found.body["show_id"], show_id.to_string());
    assert_eq!(found.body["sale"], performance.to_string());
    let unknown = call(address, "GET", "/api/v2/performances/1", "", None).await;
    assert_eq!(unknown.status, 404, "{:?}", unknown.body);
    let performance = PerformanceId(performance);
    let show = call(
        address,
        "GET",
        &format!("/api/v2/shows/{show_id}"),
        "",
        None,
    )
    .await;
    let venue_id = picket_tests::ids::id_i64(&show.body["venue_id"]);
    // The grades name the sections and zones they cover, in grade-id order: a buyer's map
    // prices every seat without the seller's form.
    let covering: Vec<(String, Value, Value)> = show.body["grades"]
        .as_array()
        .expect("grades")
        .iter()
        .map(|g| {
            (
                g["code"].as_str().expect("code").to_owned(),
                g["sections"].clone(),
                g["zones"].clone(),
            )
        })
        .collect();
    assert_eq!(
        covering,
        vec![
            ("VIP".to_owned(), json!(["A"]), json!([])),
            ("R".to_owned(), json!(["B"]), json!([])),
            ("S".to_owned(), json!([]), json!(["Floor"])),
        ],
        "{:?}",
        show.body
    );
    assert_eq!(show.body["per_buyer_limit"], 4, "{:?}", show.body);

    let venue = call(
        address,
        "GET",
        &format!("/api/v2/venues/{venue_id}"),
        "",
        None,
    )
    .await;
    assert_eq!(venue.status, 200, "{:?}", venue.body);
    let seats = venue.body["seats"].as_array().expect("seats with ids");
    assert_eq!(seats.len(), 14, "{:?}", venue.body);
    let seat_id = |section: &str, row: &str, number: u64| {
        let seat = seats
            .iter()
            .find(|s| s["section"] == section && s["row"] == row && s["number"] == number)
            .unwrap_or_else(|| panic!("{section} {row}-{number} in {seats:?}"));
        SeatId(seat["id"].as_u64().expect("seat id") as u32)
    };
    let zones = venue.body["zones"].as_array().expect("zones with ids");
    assert_eq!(zones.len(), 1, "{:?}", venue.body);
    assert_eq!(zones[0]["name"], "Floor");
    assert_eq!(zones[0]["capacity"], 100);
    let floor = ZoneId(zones[0]["id"].as_u64().expect("zone id") as u16);

    let hold = |actor: u64, selection: Selection| {
        let ledger = setup.cluster.ledger.handle.clone();
        async move {
            let request = Request {
                actor: ActorId(actor),
                key: IdempotencyKey::new(format!("ids-{actor}")).expect("key"),
                command: Command::Hold {
                    performance,
                    selection,
                    admission: None,
                    offer: None,
                },
            };
            match ledger.submit(request).await.expect("committed") {
                Ok(Reply::Held {
                    places, amount_won, ..
                }) => (places, amount_won),
                other => panic!("{other:?}"),
            }
        }
    };
    // A named seat: "A 2-3" is a VIP seat (section A), so it costs VIP's price.
    let a_2_3 = seat_id("A", "2", 3);
    let (places, amount) = hold(1, Selection::Seats(vec![a_2_3])).await;
    assert_eq!(places, vec![Place::Seat(a_2_3)]);
    assert_eq!(amount, 160_000, "seat {a_2_3:?} is not A 2-3");
    // Grade R is section B: the ledger's R seats are the ids the venue lists for B.
    let (mut places, _) = hold(
        2,
        Selection::BestAvailable {
            grade: GradeId(1),
            count: 4,
        },
    )
    .await;
    places.sort();
    let mut section_b: Vec<Place> = (1..=4).map(|n| Place::Seat(seat_id("B", "1", n))).collect();
    section_b.sort();
    assert_eq!(places, section_b);
    // The standing zone by its id, at grade S's price.
    let (places, amount) = hold(
        3,
        Selection::Zone {
            zone: floor,
            count: 2,
        },
    )
    .await;
    assert!(
        !places.is_empty() && places.iter().all(|p| *p == Place::Zone(floor)),
        "{places:?}"
    );
    assert_eq!(amount, 220_000);
}

/// A venue of the most seats a venue may have, drawn far from the origin, fits in the body its
/// route takes (the JSON routes' 64 KiB did not hold it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_venue_of_the_most_seats_is_accepted() {
    let setup = setup_sqlite().await;
    let token = seller_at(setup.address, "big@example.com", "123-45-67891").await;
    let per_row = 50;
    let rows: Vec<Value> = (0..picket_api::venues::SEATS_PER_VENUE_MAX / per_row)
        .map(|r| {
            let seats: Vec<Value> = (0..per_row)
                .map(|n| json!({"number": 60_000 + n, "x": -2_000_000_000 + n as i64, "y": -2_000_000_000 + r as i64}))
                .collect();
            json!({"name": format!("{:0>32}", r), "seats": seats})
        })
        .collect();
    let form = json!({"name": "올림픽체조경기장", "region": "seoul", "address": "서울 송파구 올림픽로 424",
        "layout": {"sections": [{"name": "A".repeat(32), "rows": rows}]}});
    let created = call(
        setup.address,
        "POST",
        "/api/v2/venues",
        &form.to_string(),
        Some(&token),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(
        created.body["seats"],
        json!(picket_api::venues::SEATS_PER_VENUE_MAX)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sellers_own_lists_hold_its_drafts_its_venues_and_nobody_elses() {
    own_lists(setup().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sellers_own_lists_hold_its_drafts_its_venues_and_nobody_elses_on_sqlite() {
    own_lists(setup_sqlite().await).await;
}

async fn own_lists(setup: ApiSetup) {
    let address = setup.address;
    let token = seller_at(address, "own@example.com", "123-45-67891").await;
    let other = seller_at(address, "else@example.com", "220-81-62517").await;
    let get = |path: &'static str, token: String| async move {
        let answer = call(address, "GET", path, "", Some(&token)).await;
        assert_eq!(answer.status, 200, "{path}: {:?}", answer.body);
        answer.body
    };
    assert_eq!(
        get("/api/v2/companies/mine/shows", token.clone()).await["items"],
        json!([])
    );
    let venue = call(
        address,
        "POST",
        "/api/v2/venues",
        &venue().to_string(),
        Some(&token),
    )
    .await;
    let venue_id = picket_tests::ids::id_i64(&venue.body["id"]);
    let mut shows = Vec::new();
    for title in ["첫 공연", "둘째 공연"] {
        let created = call(
            address,
            "POST",
            "/api/v2/shows",
            &show(venue_id, title, three_grades()).to_string(),
            Some(&token),
        )
        .await;
        assert_eq!(created.status, 201, "{:?}", created.body);
        shows.push(picket_tests::ids::id_i64(&created.body["id"]));
    }
    // The first gets two performances and is published; the second stays a draft without any.
    let day_ms = 24 * 3_600_000;
    let first_start = picket_edge::clock::now_ms() + 20 * day_ms;
    for starts in [first_start + day_ms, first_start] {
        let form = json!({"starts_at_ms": starts, "sale_open_at_ms": starts - 10 * day_ms});
        let added = call(
            address,
            "POST",
            &format!("/api/v2/shows/{}/performances", shows[0]),
            &form.to_string(),
            Some(&token),
        )
        .await;
        assert_eq!(added.status, 201, "{:?}", added.body);
    }
    let published = call(
        address,
        "POST",
        &format!("/api/v2/shows/{}/publish", shows[0]),
        "",
        Some(&token),
    )
    .await;
    assert_eq!(published.status, 200, "{:?}", published.body);

    let mine = get("/api/v2/companies/mine/shows", token.clone()).await;
    let items = mine["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{mine}");
    // Newest first: the draft, then the published show with its earliest start.
    assert_eq!(picket_tests::ids::id_i64(&items[0]["id"]), shows[1]);
    assert_eq!(items[0]["status"], "draft");
    assert_eq!(items[0]["performances"], 0);
    assert_eq!(items[0]["first_starts_at_ms"], Value::Null);
    assert_eq!(picket_tests::ids::id_i64(&items[1]["id"]), shows[0]);
    assert_eq!(items[1]["status"], "published");
    assert_eq!(items[1]["title"], "첫 공연");
    assert_eq!(items[1]["region"], "seoul");
    assert_eq!(items[1]["performances"], 2);
    assert_eq!(items[1]["first_starts_at_ms"], json!(first_start));
    assert_eq!(picket_tests::ids::id_i64(&items[1]["venue_id"]), venue_id);
    assert_eq!(mine["next_cursor"], Value::Null);
    // Paged by cursor like every list.
    let first_page = call(
        address,
        "GET",
        "/api/v2/companies/mine/shows?limit=1",
        "",
        Some(&token),
    )
    .await;
    let cursor = first_page.body["next_cursor"].as_str().expect("a cursor");
    let second_page = call(
        address,
        "GET",
        &format!("/api/v2/companies/mine/shows?limit=1&cursor={cursor}"),
        "",
        Some(&token),
    )
    .await;
    assert_eq!(
        picket_tests::ids::id_i64(&second_page.body["items"][0]["id"]),
        shows[0]
    );

    let venues = get("/api/v2/companies/mine/venues", token.clone()).await;
    assert_eq!(
        venues["items"].as_array().map(Vec::len),
        Some(1),
        "{venues}"
    );
    let listed = &venues["items"][0];
    assert_eq!(picket_tests::ids::id_i64(&listed["id"]), venue_id);
    assert_eq!(
        (&listed["name"], &listed["region"], &listed["seats"]),
        (&json!("블루스퀘어"), &json!("seoul"), &json!(14))
    );
    assert_eq!(listed["address"], "서울 용산구 이태원로 294");

    // Another company sees none of it.
    for path in [
        "/api/v2/companies/mine/shows",
        "/api/v2/companies/mine/venues",
    ] {
        assert_eq!(get(path, other.clone()).await["items"], json!([]), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_standard_cancellation_fees_are_the_ones_a_show_without_its_own_opens_with() {
    let setup = setup_sqlite().await;
    let address = setup.address;
    let token = seller_at(address, "fees@example.com", "123-45-67891").await;
    let venue = call(
        address,
        "POST",
        "/api/v2/venues",
        &venue().to_string(),
        Some(&token),
    )
    .await;
    let venue_id = picket_tests::ids::id_i64(&venue.body["id"]);
    for category in ["musical", "exhibition"] {
        let standard = call(
            address,
            "GET",
            &format!("/api/v2/cancellation-fees/standard?category={category}"),
            "",
            None,
        )
        .await;
        assert_eq!(standard.status, 200, "{:?}", standard.body);
        let mut form = show(venue_id, category, three_grades());
        form["category"] = json!(category);
        let created = call(
            address,
            "POST",
            "/api/v2/shows",
            &form.to_string(),
            Some(&token),
        )
        .await;
        let id = picket_tests::ids::id_i64(&created.body["id"]);
        let detail = call(
            address,
            "GET",
            &format!("/api/v2/shows/{id}"),
            "",
            Some(&token),
        )
        .await;
        assert_eq!(standard.body, detail.body["cancellation"], "{category}");
    }
    // A performance's and an admission's flat fees differ (the ledger's Korean standard).
    let flat = |category: &'static str| async move {
        call(
            address,
            "GET",
            &format!("/api/v2/cancellation-fees/standard?category={category}"),
            "",
            None,
        )
        .await
        .body["fees"]["flat_fee_won"]
            .clone()
    };
    assert_eq!(flat("concert").await, json!(4000));
    assert_eq!(flat("exhibition").await, json!(2000));
    let unknown = call(
        address,
        "GET",
        "/api/v2/cancellation-fees/standard?category=opera",
        "",
        None,
    )
    .await;
    assert_eq!(unknown.status, 422);
    assert_eq!(unknown.body["errors"][0]["field"], "category");
}
