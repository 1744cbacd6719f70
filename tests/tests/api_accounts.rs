//! Accounts and sessions through the HTTP API, on real PostgreSQL (started by the harness) and
//! on SQLite: sign up with validation, sign in with limited attempts and one answer for every
//! wrong credential, sessions that sign out at once, problem+json errors, the OpenAPI document,
//! and the session token accepted by a gateway's WebSocket.

use std::net::SocketAddr;
use std::sync::Arc;

use picket_api::{Api, ApiConfig};
use picket_room::memory::MemoryStore;
use picket_tests::Postgres;
use picket_tests::api::{Answer, ApiSetup, OPERATOR, PASSWORD, call, call_raw};
use picket_tests::gateway::{Client, Cluster, test_keys};
use serde_json::json;

async fn serve(database_url: &str) -> SocketAddr {
    let store = picket_api::store::Store::connect(database_url)
        .await
        .expect("api store");
    let api = Api::new(
        store,
        test_keys(),
        OPERATOR.into(),
        None,
        None,
        ApiConfig::default(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("addr");
    let service = picket_api::router(api).into_make_service_with_connect_info::<SocketAddr>();
    tokio::spawn(async move { axum::serve(listener, service).await });
    address
}

fn assert_problem(answer: &Answer, status: u16, code: &str) {
    assert_eq!(answer.status, status, "{:?}", answer.body);
    assert!(
        answer
            .head
            .contains("content-type: application/problem+json"),
        "{}",
        answer.head
    );
    assert_eq!(answer.body["code"], code, "{:?}", answer.body);
    assert_eq!(answer.body["status"], status);
}

async fn accounts_and_sessions(address: SocketAddr) {
    let kim = json!({"email": "Kim@Example.com", "password": "correct horse", "name": "김민지", "phone": "010-1234-5678"});
    let created = call(address, "POST", "/api/v2/accounts", &kim.to_string(), None).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(
        created.body["email"], "kim@example.com",
        "emails are normalized"
    );
    assert!(
        created.body.get("password_hash").is_none(),
        "the hash never leaves"
    );

    let again = json!({"email": "KIM@example.com", "password": "another one", "name": "Kim"});
    assert_problem(
        &call(
            address,
            "POST",
            "/api/v2/accounts",
            &again.to_string(),
            None,
        )
        .await,
        409,
        "conflict",
    );

    let invalid = json!({"email": "kim", "password": "short", "name": "", "phone": "call me"});
    let answer = call(
        address,
        "POST",
        "/api/v2/accounts",
        &invalid.to_string(),
        None,
    )
    .await;
    assert_problem(&answer, 422, "invalid_request");
    let fields: Vec<&str> = answer.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| e["field"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(fields, ["email", "password", "name", "phone"]);

    assert_problem(
        &call(address, "POST", "/api/v2/accounts", "{not json", None).await,
        400,
        "bad_body",
    );
    let extra = json!({"email": "a@b.co", "password": "12345678", "name": "A", "role": "admin"});
    assert_problem(
        &call(
            address,
            "POST",
            "/api/v2/accounts",
            &extra.to_string(),
            None,
        )
        .await,
        400,
        "bad_body",
    );

    // Wrong password and unknown email: the same answer.
    let wrong = call(
        address,
        "POST",
        "/api/v2/sessions",
        &json!({"email": "kim@example.com", "password": "wrong password"}).to_string(),
        None,
    )
    .await;
    let unknown = call(
        address,
        "POST",
        "/api/v2/sessions",
        &json!({"email": "nobody@example.com", "password": "wrong password"}).to_string(),
        None,
    )
    .await;
    assert_problem(&wrong, 401, "wrong_credentials");
    assert_eq!(wrong.body, unknown.body);

    let session = call(
        address,
        "POST",
        "/api/v2/sessions",
        &json!({"email": "kim@example.com", "password": "correct horse"}).to_string(),
        None,
    )
    .await;
    assert_eq!(session.status, 201, "{:?}", session.body);
    let token = session.body["token"].as_str().expect("token").to_owned();
    let me = call(address, "GET", "/api/v2/me", "", Some(&token)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["name"], "김민지");
    assert_problem(
        &call(address, "GET", "/api/v2/me", "", None).await,
        401,
        "unauthenticated",
    );
    assert_problem(
        &call(
            address,
            "GET",
            "/api/v2/me",
            "",
            Some("v1.forged.token.mac"),
        )
        .await,
        401,
        "unauthenticated",
    );

    let out = call(
        address,
        "DELETE",
        "/api/v2/sessions/current",
        "",
        Some(&token),
    )
    .await;
    assert_eq!(out.status, 204);
    assert_problem(
        &call(address, "GET", "/api/v2/me", "", Some(&token)).await,
        401,
        "unauthenticated",
    );

    // Wrong passwords per email and address back off after five: the one above was cleared by
    // the right password, so five more are answered and the sixth is refused.
    let attempt = json!({"email": "kim@example.com", "password": "wrong password"}).to_string();
    for _ in 0..5 {
        let answer = call(address, "POST", "/api/v2/sessions", &attempt, None).await;
        assert_eq!(answer.status, 401);
    }
    let limited = call(address, "POST", "/api/v2/sessions", &attempt, None).await;
    assert_problem(&limited, 429, "too_many_attempts");
    assert!(limited.head.contains("retry-after:"), "{}", limited.head);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_and_sessions_on_postgres() {
    let postgres = Postgres::start().expect("postgres");
    let url = postgres.create_database("api").expect("database");
    accounts_and_sessions(serve(&url).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_and_sessions_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("api.sqlite").display()
    );
    accounts_and_sessions(serve(&url).await).await;
}

/// A member signs in through the API and connects to a gateway with the session token.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_session_token_opens_the_gateway() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("api.sqlite").display()
    );
    let address = serve(&url).await;
    let lee = json!({"email": "lee@example.com", "password": "correct horse", "name": "이서준"});
    let account = call(address, "POST", "/api/v2/accounts", &lee.to_string(), None).await;
    let session = call(
        address,
        "POST",
        "/api/v2/sessions",
        &json!({"email": "lee@example.com", "password": "correct horse"}).to_string(),
        None,
    )
    .await;
    let token = session.body["token"].as_str().expect("token");
    let cluster = Cluster::start(1, Arc::new(MemoryStore::new()), |_| {}).await;
    let client = Client::hello(cluster.address(0), json!({"type": "hello", "token": token})).await;
    let id = picket_tests::ids::id_i64(&account.body["id"]);
    assert!(
        client.identity.ends_with(&id.to_string()),
        "{} for account {id}",
        client.identity
    );
}

/// Every route served is documented, and every documented route is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_openapi_document_covers_every_route() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("api.sqlite").display()
    );
    let address = serve(&url).await;
    let document = call(address, "GET", "/api/openapi.json", "", None).await;
    assert_eq!(document.status, 200);
    let paths = document.body["paths"].as_object().expect("paths");
    let mut documented = Vec::new();
    for (path, item) in paths {
        for method in item.as_object().expect("path item").keys() {
            documented.push((method.clone(), path.clone()));
        }
    }
    documented.sort();
    let mut routes: Vec<(String, String)> = picket_api::openapi::ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    routes.sort();
    assert_eq!(documented, routes);
    // Every route answers (anything but 404/405) on the API's own router.
    for (method, path) in picket_api::openapi::ROUTES {
        let path = path.replace("{sale}", "1").replace("{id}", "1");
        let answer = call(address, &method.to_uppercase(), &path, "{}", None).await;
        // A 404 `not_found` came from the handler (no such record); a route that does not
        // exist answers 404 `no_route`.
        assert_ne!(
            answer.body["code"], "no_route",
            "{method} {path}: no such route"
        );
        assert_ne!(answer.status, 405, "{method} {path}");
    }
}

async fn sqlite_api() -> (SocketAddr, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("api.sqlite").display()
    );
    (serve(&url).await, dir)
}

async fn sign_in(address: SocketAddr, email: &str) -> String {
    let body = json!({"email": email, "password": "correct horse"}).to_string();
    let session = call(address, "POST", "/api/v2/sessions", &body, None).await;
    assert_eq!(session.status, 201, "{:?}", session.body);
    session.body["token"].as_str().expect("token").to_owned()
}

fn seller_form(email: &str, business_number: &str) -> String {
    json!({
        "account": {"email": email, "password": "correct horse", "name": "박서연"},
        "company": {"name": "(주)피켓엔터", "business_number": business_number,
                    "contact_email": "contact@picket.example", "contact_phone": "02-123-4567"}
    })
    .to_string()
}

/// Accounts of every role, signed in: (role, token); `None` for anonymous.
async fn every_role(address: SocketAddr) -> Vec<(&'static str, Option<String>)> {
    let member = json!({"email": "m@example.com", "password": "correct horse", "name": "M"});
    assert_eq!(
        call(
            address,
            "POST",
            "/api/v2/accounts",
            &member.to_string(),
            None
        )
        .await
        .status,
        201
    );
    let seller = call(
        address,
        "POST",
        "/api/v2/companies",
        &seller_form("s@example.com", "123-45-67891"),
        None,
    )
    .await;
    assert_eq!(seller.status, 201, "{:?}", seller.body);
    for (email, role) in [
        ("staff@example.com", "staff"),
        ("admin@example.com", "admin"),
    ] {
        let form = json!({"account": {"email": email, "password": "correct horse", "name": role}, "role": role});
        let created = call(
            address,
            "POST",
            "/api/v2/admin/accounts",
            &form.to_string(),
            Some(OPERATOR),
        )
        .await;
        assert_eq!(created.status, 201, "{:?}", created.body);
    }
    vec![
        ("anonymous", None),
        ("member", Some(sign_in(address, "m@example.com").await)),
        ("seller", Some(sign_in(address, "s@example.com").await)),
        ("staff", Some(sign_in(address, "staff@example.com").await)),
        ("admin", Some(sign_in(address, "admin@example.com").await)),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sellers_register_with_a_valid_business_number_once() {
    let (address, _dir) = sqlite_api().await;
    let bad = call(
        address,
        "POST",
        "/api/v2/companies",
        &seller_form("a@example.com", "123-45-67890"),
        None,
    )
    .await;
    assert_problem(&bad, 422, "invalid_request");
    assert_eq!(bad.body["errors"][0]["field"], "company.business_number");
    let created = call(
        address,
        "POST",
        "/api/v2/companies",
        &seller_form("a@example.com", "123-45-67891"),
        None,
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    assert_eq!(created.body["account"]["role"], "seller");
    assert_eq!(created.body["company"]["business_number"], "1234567891");
    let twice = call(
        address,
        "POST",
        "/api/v2/companies",
        &seller_form("b@example.com", "1234567891"),
        None,
    )
    .await;
    assert_problem(&twice, 409, "conflict");
    // The account of the refused registration was not created either.
    let signin = json!({"email": "b@example.com", "password": "correct horse"}).to_string();
    assert_problem(
        &call(address, "POST", "/api/v2/sessions", &signin, None).await,
        401,
        "wrong_credentials",
    );
    let token = sign_in(address, "a@example.com").await;
    let mine = call(address, "GET", "/api/v2/companies/mine", "", Some(&token)).await;
    assert_eq!(mine.body["name"], "(주)피켓엔터");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn members_keep_their_interests() {
    let (address, _dir) = sqlite_api().await;
    let member = json!({"email": "m@example.com", "password": "correct horse", "name": "M"});
    call(
        address,
        "POST",
        "/api/v2/accounts",
        &member.to_string(),
        None,
    )
    .await;
    let token = sign_in(address, "m@example.com").await;
    let interests =
        json!({"categories": ["musical", "concert", "musical"], "regions": ["seoul", "busan"]});
    let saved = call(
        address,
        "PUT",
        "/api/v2/me/interests",
        &interests.to_string(),
        Some(&token),
    )
    .await;
    assert_eq!(saved.status, 200, "{:?}", saved.body);
    assert_eq!(
        saved.body,
        json!({"categories": ["concert", "musical"], "regions": ["busan", "seoul"]})
    );
    let unknown = json!({"categories": ["opera-on-ice"], "regions": []});
    let refused = call(
        address,
        "PUT",
        "/api/v2/me/interests",
        &unknown.to_string(),
        Some(&token),
    )
    .await;
    assert_problem(&refused, 422, "invalid_request");
    let kept = call(address, "GET", "/api/v2/me/interests", "", Some(&token)).await;
    assert_eq!(kept.body, saved.body, "a refused change changes nothing");
}

/// Every endpoint called as every role: allowed (2xx) or refused with 401/403 as the matrix says.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_matrix() {
    let (address, _dir) = sqlite_api().await;
    let roles = every_role(address).await;
    // (method, path, body, roles allowed)
    let interests = json!({"categories": [], "regions": []}).to_string();
    let staff = |n: usize| {
        json!({"account": {"email": format!("new{n}@example.com"), "password": "correct horse", "name": "N"}, "role": "staff"}).to_string()
    };
    let everyone_signed_in = ["member", "seller", "staff", "admin"];
    let cases: Vec<(&str, &str, String, Vec<&str>)> = vec![
        (
            "GET",
            "/api/v2/me",
            String::new(),
            everyone_signed_in.to_vec(),
        ),
        (
            "GET",
            "/api/v2/me/interests",
            String::new(),
            everyone_signed_in.to_vec(),
        ),
        (
            "PUT",
            "/api/v2/me/interests",
            interests,
            everyone_signed_in.to_vec(),
        ),
        (
            "GET",
            "/api/v2/companies/mine",
            String::new(),
            vec!["seller"],
        ),
        (
            "POST",
            "/api/v2/admin/accounts",
            String::new(),
            vec!["admin"],
        ),
        (
            "GET",
            "/api/openapi.json",
            String::new(),
            vec!["anonymous", "member", "seller", "staff", "admin"],
        ),
    ];
    let mut n = 0;
    for (method, path, body, allowed) in cases {
        for (role, token) in &roles {
            n += 1;
            let body = if path == "/api/v2/admin/accounts" {
                staff(n)
            } else {
                body.clone()
            };
            let answer = call(address, method, path, &body, token.as_deref()).await;
            let expected_ok = allowed.contains(role);
            if expected_ok {
                assert!(
                    (200..300).contains(&answer.status),
                    "{role} {method} {path}: {} {:?}",
                    answer.status,
                    answer.body
                );
            } else {
                let refusal = if token.is_none() { 401 } else { 403 };
                assert_eq!(
                    answer.status, refusal,
                    "{role} {method} {path}: {:?}",
                    answer.body
                );
            }
        }
    }
}

/// One sign-in from `client` (an `X-Forwarded-For` the API trusts from the loopback proxy):
/// (status, lower-cased head).
async fn sign_in_from(
    setup: &ApiSetup,
    client: &str,
    email: &str,
    password: &str,
) -> (u16, String) {
    let body = json!({"email": email, "password": password}).to_string();
    let (status, head, _) = call_raw(
        setup.address,
        "POST",
        "/api/v2/sessions",
        &[
            ("Content-Type", "application/json"),
            ("X-Forwarded-For", client),
        ],
        body.as_bytes(),
    )
    .await;
    (status, head)
}

/// An attacker's wrong passwords slow the attacker, not the owner: they back off per email
/// and client address, and the owner's right password from elsewhere signs in at once; one
/// address cannot try many accounts; a forged `X-Forwarded-For` counts for nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_sign_ins_slow_the_attacker_and_never_lock_the_owner_out() {
    let setup = ApiSetup::start_with(|config| {
        config.trusted_proxies = vec!["127.0.0.1".parse().expect("loopback")];
    })
    .await;
    setup.member("owner@example.com").await;
    let attacker = "203.0.113.7";
    for _ in 0..5 {
        let (status, _) = sign_in_from(&setup, attacker, "owner@example.com", "guess").await;
        assert_eq!(status, 401);
    }
    let (status, head) = sign_in_from(&setup, attacker, "owner@example.com", "guess").await;
    assert_eq!(status, 429, "the attacker backs off");
    assert!(head.contains("retry-after: 1"), "{head}");
    let (status, _) = sign_in_from(&setup, attacker, "owner@example.com", PASSWORD).await;
    assert_eq!(status, 429, "while backing off, nothing is tried");

    let (status, head) = sign_in_from(&setup, "198.51.100.9", "owner@example.com", PASSWORD).await;
    assert_eq!(status, 201, "the owner elsewhere is not locked out: {head}");

    // The owner's own typos: a short wait, then the right password works.
    let typos = "192.0.2.44";
    for _ in 0..5 {
        let (status, _) = sign_in_from(&setup, typos, "owner@example.com", "typo").await;
        assert_eq!(status, 401);
    }
    let (status, head) = sign_in_from(&setup, typos, "owner@example.com", PASSWORD).await;
    assert_eq!(status, 429, "{head}");
    assert!(head.contains("retry-after: 1"), "{head}");
    tokio::time::sleep(std::time::Duration::from_millis(1_100)).await;
    let (status, _) = sign_in_from(&setup, typos, "owner@example.com", PASSWORD).await;
    assert_eq!(status, 201, "after the wait, the right password signs in");

    // Successful sign-ins are given back to the address's limit: many people behind one
    // address (a carrier's NAT) sign in, well past the limit.
    let burst = setup.api.config.login_attempts_per_address_burst;
    for n in 0..burst + 5 {
        let (status, _) = sign_in_from(&setup, "100.64.0.1", "owner@example.com", PASSWORD).await;
        assert_eq!(status, 201, "sign-in {n}");
    }

    // One address, many accounts: the address's own limit (10 at once) stops it.
    let sprayer = "203.0.113.99";
    for n in 0..burst {
        let (status, _) =
            sign_in_from(&setup, sprayer, &format!("victim{n}@example.com"), "123456").await;
        assert_eq!(status, 401, "attempt {n}");
    }
    let (status, head) = sign_in_from(&setup, sprayer, "victim99@example.com", "123456").await;
    assert_eq!(status, 429, "{head}");
    assert!(head.contains("retry-after:"), "{head}");
}

/// Without trusted proxies, `X-Forwarded-For` is the client's own claim and is ignored: a
/// new forged address per attempt still counts against the one real address.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forwarded_addresses_from_an_untrusted_peer_are_ignored() {
    let setup = ApiSetup::start().await;
    let burst = setup.api.config.login_attempts_per_address_burst;
    for n in 0..burst {
        let forged = format!("198.51.100.{n}");
        let (status, _) =
            sign_in_from(&setup, &forged, &format!("victim{n}@example.com"), "123456").await;
        assert_eq!(status, 401, "attempt {n}");
    }
    let (status, head) =
        sign_in_from(&setup, "198.51.100.200", "victim99@example.com", "123456").await;
    assert_eq!(status, 429, "{head}");
}

/// What axum itself refuses — a path or query parameter not of its type, a method a route does
/// not take, a path no route has, a body without its media type, a body over the limit — is a
/// problem with a documented code like every other error, never plain text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_routers_own_refusals_are_documented_problems() {
    let (address, _dir) = sqlite_api().await;
    let document = call(address, "GET", "/api/openapi.json", "", None).await;
    let codes = document.body["components"]["schemas"]["Problem"]["properties"]["code"]["enum"]
        .as_array()
        .expect("codes")
        .clone();
    let check = |answer: &Answer, status: u16, code: &str| {
        assert_problem(answer, status, code);
        assert!(codes.contains(&json!(code)), "{code} is documented");
        assert_eq!(
            answer.body["type"],
            format!("{}{code}", picket_edge::problem::PROBLEM_TYPE_BASE)
        );
    };
    check(
        &call(address, "GET", "/api/v2/venues/abc", "", None).await,
        400,
        "bad_parameter",
    );
    check(
        &call(
            address,
            "GET",
            "/api/v2/venues/99999999999999999999",
            "",
            None,
        )
        .await,
        400,
        "bad_parameter",
    );
    check(
        &call(address, "GET", "/api/v2/shows?limit=x", "", None).await,
        400,
        "bad_parameter",
    );
    check(
        &call(address, "GET", "/api/v2/notices?nope=1", "", None).await,
        400,
        "bad_parameter",
    );
    check(
        &call(address, "GET", "/api/v2/shows?category=opera", "", None).await,
        422,
        "invalid_request",
    );
    let patch = call(address, "PATCH", "/api/v2/me", "", None).await;
    check(&patch, 405, "method_not_allowed");
    assert!(patch.head.contains("allow: get"), "{}", patch.head);
    check(
        &call(address, "GET", "/api/v2/nothing-here", "", None).await,
        404,
        "no_route",
    );
    let form = json!({"email": "a@example.com", "password": PASSWORD, "name": "A"}).to_string();
    let (status, head, body) = call_raw(
        address,
        "POST",
        "/api/v2/accounts",
        &[("Content-Type", "text/plain")],
        form.as_bytes(),
    )
    .await;
    let answer = Answer {
        status,
        head,
        body: serde_json::from_slice(&body).unwrap_or_default(),
    };
    check(&answer, 415, "unsupported_media_type");
    let big = format!("{{\"email\": \"{}\"}}", "a".repeat(70 * 1024));
    check(
        &call(address, "POST", "/api/v2/accounts", &big, None).await,
        413,
        "too_large",
    );
}

/// A sign-up form's phone left empty is no phone, as the document allows it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_phone_signs_up_without_a_phone() {
    let (address, _dir) = sqlite_api().await;
    let form =
        json!({"email": "empty@example.com", "password": PASSWORD, "name": "김", "phone": ""});
    let answer = call(address, "POST", "/api/v2/accounts", &form.to_string(), None).await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    assert_eq!(answer.body["phone"], serde_json::Value::Null);
}

/// Text holding U+0000, which PostgreSQL cannot store or compare, is refused as a bad body or
/// parameter (it was a 503 `store_unavailable` from the database's error).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_with_nul_is_refused_not_a_storage_error() {
    let setup = ApiSetup::start_postgres().await;
    let address = setup.address;
    let sign_in = json!({"email": "kim\u{0}@example.com", "password": PASSWORD}).to_string();
    assert_problem(
        &call(address, "POST", "/api/v2/sessions", &sign_in, None).await,
        400,
        "bad_body",
    );
    let sign_up = json!({"email": "kim@example.com", "password": PASSWORD, "name": "김\u{0}"});
    assert_problem(
        &call(
            address,
            "POST",
            "/api/v2/accounts",
            &sign_up.to_string(),
            None,
        )
        .await,
        400,
        "bad_body",
    );
    assert_problem(
        &call(
            address,
            "GET",
            "/api/v2/guest-bookings?number=A%00&phone=01012345678",
            "",
            None,
        )
        .await,
        400,
        "bad_parameter",
    );
    assert_problem(
        &call(address, "GET", "/api/v2/shows?q=%00", "", None).await,
        400,
        "bad_parameter",
    );
}
