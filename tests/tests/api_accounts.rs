//! Accounts and sessions through the HTTP API, on real PostgreSQL (started by the harness) and
//! on SQLite: sign up with validation, sign in with limited attempts and one answer for every
//! wrong credential, sessions that sign out at once, problem+json errors, the OpenAPI document,
//! and the session token accepted by a gateway's WebSocket.

use std::net::SocketAddr;
use std::sync::Arc;

use picket_api::{Api, ApiConfig};
use picket_gateway::room::memory::MemoryStore;
use picket_tests::Postgres;
use picket_tests::gateway::{Client, Cluster, test_keys};
use serde_json::{Value, json};

async fn serve(database_url: &str) -> SocketAddr {
    let store = picket_api::store::Store::connect(database_url)
        .await
        .expect("api store");
    let api = Api::new(store, test_keys(), ApiConfig::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, picket_api::router(api)).await });
    address
}

struct Answer {
    status: u16,
    head: String,
    body: Value,
}

async fn call(
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
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Answer {
        status,
        head: head.to_lowercase(),
        body: serde_json::from_str(body).unwrap_or(Value::Null),
    }
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
    let created = call(address, "POST", "/api/v1/accounts", &kim.to_string(), None).await;
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
            "/api/v1/accounts",
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
        "/api/v1/accounts",
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
        &call(address, "POST", "/api/v1/accounts", "{not json", None).await,
        400,
        "bad_body",
    );
    let extra = json!({"email": "a@b.co", "password": "12345678", "name": "A", "role": "admin"});
    assert_problem(
        &call(
            address,
            "POST",
            "/api/v1/accounts",
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
        "/api/v1/sessions",
        &json!({"email": "kim@example.com", "password": "wrong password"}).to_string(),
        None,
    )
    .await;
    let unknown = call(
        address,
        "POST",
        "/api/v1/sessions",
        &json!({"email": "nobody@example.com", "password": "wrong password"}).to_string(),
        None,
    )
    .await;
    assert_problem(&wrong, 401, "wrong_credentials");
    assert_eq!(wrong.body, unknown.body);

    let session = call(
        address,
        "POST",
        "/api/v1/sessions",
        &json!({"email": "kim@example.com", "password": "correct horse"}).to_string(),
        None,
    )
    .await;
    assert_eq!(session.status, 201, "{:?}", session.body);
    let token = session.body["token"].as_str().expect("token").to_owned();
    let me = call(address, "GET", "/api/v1/me", "", Some(&token)).await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["name"], "김민지");
    assert_problem(
        &call(address, "GET", "/api/v1/me", "", None).await,
        401,
        "unauthenticated",
    );
    assert_problem(
        &call(
            address,
            "GET",
            "/api/v1/me",
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
        "/api/v1/sessions/current",
        "",
        Some(&token),
    )
    .await;
    assert_eq!(out.status, 204);
    assert_problem(
        &call(address, "GET", "/api/v1/me", "", Some(&token)).await,
        401,
        "unauthenticated",
    );

    // Attempts are limited per email (5 a minute): two were used above, the sixth is refused.
    let attempt = json!({"email": "kim@example.com", "password": "wrong password"}).to_string();
    for _ in 0..3 {
        let answer = call(address, "POST", "/api/v1/sessions", &attempt, None).await;
        assert_eq!(answer.status, 401);
    }
    let limited = call(address, "POST", "/api/v1/sessions", &attempt, None).await;
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
    let account = call(address, "POST", "/api/v1/accounts", &lee.to_string(), None).await;
    let session = call(
        address,
        "POST",
        "/api/v1/sessions",
        &json!({"email": "lee@example.com", "password": "correct horse"}).to_string(),
        None,
    )
    .await;
    let token = session.body["token"].as_str().expect("token");
    let cluster = Cluster::start(1, Arc::new(MemoryStore::new()), |_| {}).await;
    let client = Client::hello(cluster.address(0), json!({"type": "hello", "token": token})).await;
    let id = account.body["id"].as_i64().expect("id");
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
    // The API's own routes answer (anything but 404/405) on this router; the operator routes
    // are the gateway's and are checked with it.
    let cluster = Cluster::start(1, Arc::new(MemoryStore::new()), |_| {}).await;
    for (method, path) in picket_api::openapi::ROUTES {
        let path = path.replace("{sale}", "1");
        let target = if path.starts_with("/api/v1/sales") || path == "/api/v1/performances" {
            cluster.address(0)
        } else {
            address
        };
        let answer = call(target, &method.to_uppercase(), &path, "{}", None).await;
        assert!(
            answer.status != 404 || path.starts_with("/api/v1/sales"),
            "{method} {path}: {}",
            answer.status
        );
        assert_ne!(answer.status, 405, "{method} {path}");
    }
}
