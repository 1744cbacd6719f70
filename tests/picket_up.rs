//! `picket up` as a newcomer runs it: the real binary, its HTTP listener, Ctrl-C.
//! (This file belongs to the root `picket` package, which is what gives it the binary's path.)

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long the binary may take to start listening or to stop after SIGINT.
const WAIT_MAX: Duration = Duration::from_secs(30);

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("addr").port()
}

/// A plain HTTP/1.0 GET; returns (status code, body).
fn get(port: u16, path: &str) -> std::io::Result<(u16, String)> {
    get_as(port, path, "")
}

/// A GET with `Authorization: Bearer <token>` (none when `token` is empty).
fn get_as(port: u16, path: &str, token: &str) -> std::io::Result<(u16, String)> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let auth = if token.is_empty() {
        String::new()
    } else {
        format!("Authorization: Bearer {token}\r\n")
    };
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: localhost\r\n{auth}\r\n"
    )?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

fn wait_healthy(child: &mut Child, port: u16) -> String {
    let deadline = Instant::now() + WAIT_MAX;
    loop {
        if let Ok((200, body)) = get(port, "/healthz") {
            return body;
        }
        if let Some(status) = child.try_wait().expect("try_wait") {
            panic!("picket exited early with {status}");
        }
        assert!(Instant::now() < deadline, "picket did not become healthy");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn interrupt_and_wait(mut child: Child) -> String {
    let signalled = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(signalled.success());
    let deadline = Instant::now() + WAIT_MAX;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            assert!(status.success(), "picket exited with {status}");
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("picket did not stop after SIGINT");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("stdout")
        .read_to_string(&mut stdout)
        .expect("read stdout");
    stdout
}

fn spawn_up(port: u16, data_dir: &Path, database_url: Option<&str>) -> Child {
    let env: Vec<(&str, &str)> = database_url
        .map(|url| ("DATABASE_URL", url))
        .into_iter()
        .collect();
    spawn_up_with(port, data_dir, &env)
}

fn spawn_up_with(port: u16, data_dir: &Path, env: &[(&str, &str)]) -> Child {
    let mut command = Command::new(env!("CARGO_BIN_EXE_picket"));
    command
        .args(["up", "--listen", &format!("127.0.0.1:{port}")])
        .env("PICKET_DATA_DIR", data_dir)
        .env_remove("DATABASE_URL")
        .env_remove("PICKET_NATS_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    command.envs(env.iter().copied());
    command.spawn().expect("spawn picket")
}

#[test]
fn up_serves_health_and_metrics_and_stops_cleanly_on_ctrl_c() {
    let data = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut child = spawn_up(port, data.path(), None);
    let health = wait_healthy(&mut child, port);
    assert!(health.contains(r#""healthy":true"#), "{health}");
    assert!(health.contains(r#""store":"sqlite""#), "{health}");
    let (status, _) = get(port, "/metrics").expect("metrics");
    assert_eq!(status, 401, "metrics are the operator's");
    let token = std::fs::read_to_string(data.path().join("operator-token")).expect("token file");
    let (status, metrics) = get_as(port, "/metrics", token.trim()).expect("metrics");
    assert_eq!(status, 200);
    assert!(metrics.contains("picket_ledger_journal_seq"), "{metrics}");
    assert!(
        metrics.contains("picket_ledger_commit_seconds"),
        "{metrics}"
    );
    // The refund worker's counters, none counted yet.
    for counter in [
        "picket_refunds_paid_total 0",
        "picket_refunds_retried_total 0",
        "picket_refunds_refused_total 0",
    ] {
        assert!(
            metrics.lines().any(|l| l == counter),
            "{counter}: {metrics}"
        );
    }
    // Unknown API paths are the API's 404 (any other path is the web app's: see below).
    let (status, _) = get(port, "/api/no-such-page").expect("404");
    assert_eq!(status, 404);

    let stdout = interrupt_and_wait(child);
    assert!(stdout.contains("picket is up"), "{stdout}");
    assert!(stdout.contains("journal flushed"), "{stdout}");
    assert!(
        data.path().join("ledger.sqlite").exists(),
        "the journal lives in the data dir"
    );
}

#[test]
fn up_uses_postgres_when_database_url_is_set() {
    let pg = picket_tests::Postgres::start().expect("postgres");
    let data = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut child = spawn_up(port, data.path(), Some(&pg.url()));
    let health = wait_healthy(&mut child, port);
    assert!(health.contains(r#""store":"postgres""#), "{health}");
    let stdout = interrupt_and_wait(child);
    assert!(stdout.contains("journal flushed"), "{stdout}");
    assert!(
        !data.path().join("ledger.sqlite").exists(),
        "no SQLite file when PostgreSQL is used"
    );
}

/// Every bad setting is reported in one go, before a port is bound or a file is written.
#[test]
fn up_reports_every_bad_setting_at_once_before_listening() {
    let data = tempfile::tempdir().expect("tempdir");
    let data_dir = data.path().join("never-made");
    let port = free_port();
    let output = Command::new(env!("CARGO_BIN_EXE_picket"))
        .args(["up", "--listen", &format!("127.0.0.1:{port}")])
        .env("PICKET_DATA_DIR", &data_dir)
        .env("DATABASE_URL", "mysql://nope")
        .env("PICKET_CONNECTIONS_MAX", "0")
        .env("PICKET_PUSH_INTERVAL_MS", "5000")
        .env("PICKET_BANNER_S3_BUCKET", "banners")
        .env("PICKET_SALE_RESTORE_INTERVAL_MS", "5")
        .env("PICKET_PAYMENTS_WEBHOOK_SIGNATURES", "unsigned")
        .env("PICKET_PAYMENTS_WEBHOOK_LOOKUPS_PER_SEC", "0")
        .env("PICKET_VAPID_SUBJECT", "ops@example.com")
        .output()
        .expect("run picket");
    assert_refused_with(
        &output,
        &[
            "8 setting problems",
            "--database-url (DATABASE_URL): must be postgres://",
            "--connections-max (PICKET_CONNECTIONS_MAX): connections_max must be 1 to",
            "(PICKET_PUSH_INTERVAL_MS): push_interval must be 100 to 2000 ms, got 5000 ms",
            "--banner-s3-bucket (PICKET_BANNER_S3_BUCKET): is set but PICKET_BANNER_S3_ENDPOINT \
             is not",
            "(PICKET_SALE_RESTORE_INTERVAL_MS): sale_restore_interval_ms must be 100 to 60000, \
             got 5",
            "(PICKET_PAYMENTS_WEBHOOK_SIGNATURES): must be required or lookup_only",
            "(PICKET_PAYMENTS_WEBHOOK_LOOKUPS_PER_SEC): webhook_lookups_per_sec must be 1 to 1000, \
             got 0",
            "--vapid-subject (PICKET_VAPID_SUBJECT): the VAPID subject must be mailto:… or \
             https://…",
        ],
    );
    assert!(!data_dir.exists(), "nothing was written before the checks");
    assert!(
        TcpListener::bind(("127.0.0.1", port)).is_ok(),
        "the port was never taken"
    );
}

/// The command refused its settings (exit code 2), and its error output names every one of
/// `expected`. (Every other role's refusal: `tests/roles.rs`.)
fn assert_refused_with(output: &std::process::Output, expected: &[&str]) {
    assert_eq!(output.status.code(), Some(2), "refused as a usage error");
    let stderr = String::from_utf8_lossy(&output.stderr);
    for expected in expected {
        assert!(stderr.contains(expected), "{expected:?} in {stderr}");
    }
}

/// One raw HTTP/1.0 exchange with `headers`: (status, lower-cased head, body bytes).
fn fetch(port: u16, path: &str, headers: &[(&str, &str)]) -> (u16, String, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let extra: String = headers
        .iter()
        .map(|(name, value)| format!("{name}: {value}\r\n"))
        .collect();
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n{extra}\r\n"
    )
    .expect("write");
    let mut response = Vec::new();
    stream.read_to_end(&mut response).expect("read");
    let split = response
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a head");
    let head = String::from_utf8_lossy(&response[..split]).to_lowercase();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    (status, head, response[split + 4..].to_vec())
}

/// The value of header `name` (lower case) in a lower-cased head.
fn header_in<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines()
        .find_map(|line| line.strip_prefix(&format!("{name}: ")))
        .map(str::trim)
}

/// The browser UI (crate `picket-web`) is served from the binary beside the API: the buyer app
/// at `/` and on its client-side routes, the scanner at `/staff/`, the seller console at
/// `/seller/` and the admin dashboard at `/admin/`, each on its client-side routes, hashed
/// assets cached for good, every other file of the build revalidated; `/api/…` stays the API's.
#[test]
fn up_serves_the_web_app_beside_the_api() {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("admin-web/dist");
    let buyer_page = std::fs::read(dist.join("index.html")).expect("dist/index.html");
    let staff_page = std::fs::read(dist.join("staff/index.html")).expect("dist/staff/index.html");
    let seller_page =
        std::fs::read(dist.join("seller/index.html")).expect("dist/seller/index.html");
    let admin_page = std::fs::read(dist.join("admin/index.html")).expect("dist/admin/index.html");
    let data = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut child = spawn_up(port, data.path(), None);
    wait_healthy(&mut child, port);

    for (path, page) in [
        ("/", &buyer_page),
        ("/shows/1", &buyer_page),
        ("/staff/", &staff_page),
        ("/seller/", &seller_page),
        ("/seller/shows/new", &seller_page),
        ("/admin/", &admin_page),
        ("/admin/moderation", &admin_page),
    ] {
        let (status, head, body) = fetch(port, path, &[]);
        assert_eq!(status, 200, "{path}: {head}");
        assert_eq!(
            header_in(&head, "content-type"),
            Some("text/html; charset=utf-8")
        );
        assert_eq!(
            header_in(&head, "cache-control"),
            Some("no-cache"),
            "{path}"
        );
        assert_eq!(header_in(&head, "x-content-type-options"), Some("nosniff"));
        let policy = header_in(&head, "content-security-policy").expect("a CSP");
        assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
        assert!(
            policy.contains(&format!("ws://127.0.0.1:{port}")),
            "{policy}"
        );
        assert_eq!(&body, page, "{path}");
    }
    for section in ["/staff", "/seller", "/admin"] {
        let (status, head, _) = fetch(port, section, &[]);
        assert_eq!(status, 308, "{head}");
        assert_eq!(
            header_in(&head, "location"),
            Some(format!("{section}/").as_str())
        );
    }

    // The script the buyer's page loads, as it is and gzipped.
    let page = String::from_utf8(buyer_page).expect("UTF-8");
    let script = page
        .split('"')
        .find(|part| part.starts_with("/assets/") && part.ends_with(".js"))
        .expect("the page loads a script");
    let (status, head, body) = fetch(port, script, &[]);
    assert_eq!(status, 200, "{script}: {head}");
    assert_eq!(
        header_in(&head, "content-type"),
        Some("text/javascript; charset=utf-8")
    );
    assert_eq!(
        header_in(&head, "cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    assert_eq!(body, std::fs::read(dist.join(&script[1..])).expect("asset"));
    let (_, head, zipped) = fetch(port, script, &[("accept-encoding", "gzip")]);
    if body.len() >= 1_024 {
        assert_eq!(header_in(&head, "content-encoding"), Some("gzip"), "{head}");
        assert!(zipped.len() < body.len());
    }

    // Every other top-level file of the build (the web app manifest, the service worker,
    // icons) as itself, revalidated on each use.
    for entry in std::fs::read_dir(&dist).expect("dist").flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !entry.path().is_file() || name == "index.html" {
            continue;
        }
        let (status, head, body) = fetch(port, &format!("/{name}"), &[]);
        assert_eq!(status, 200, "/{name}: {head}");
        assert_eq!(
            header_in(&head, "cache-control"),
            Some("no-cache"),
            "{name}"
        );
        assert_ne!(
            header_in(&head, "content-type"),
            Some("application/octet-stream"),
            "{name} has a type"
        );
        assert_eq!(body, std::fs::read(entry.path()).expect("file"), "{name}");
    }

    // The API's own problems, not the app, for unknown API paths; the gateway's routes too.
    let (status, head, body) = fetch(port, "/api/v2/nope", &[]);
    assert_eq!(status, 404);
    assert_eq!(
        header_in(&head, "content-type"),
        Some("application/problem+json")
    );
    assert!(String::from_utf8_lossy(&body).contains(r#""code":"no_route""#));
    let (status, head, _) = fetch(port, "/healthz", &[]);
    assert_eq!(status, 200);
    assert_eq!(header_in(&head, "content-type"), Some("application/json"));
    let (status, head, _) = fetch(port, "/no-such-file.js", &[]);
    assert_eq!(status, 404, "{head}");

    let stdout = interrupt_and_wait(child);
    assert!(
        stdout.contains(&format!(
            "web: http://127.0.0.1:{port}/ (buyers), http://127.0.0.1:{port}/staff/ (door staff), \
             http://127.0.0.1:{port}/seller/ (sellers), http://127.0.0.1:{port}/admin/ (admins)"
        )),
        "{stdout}"
    );
}

/// The whole booking path through the real binary: an operator opens a performance and its
/// sale with the token `picket up` wrote, a guest joins over the WebSocket, is admitted, and
/// holds seats; the gateway's metrics are served.
#[test]
fn up_serves_the_waiting_room_and_booking_over_the_socket() {
    serves_the_waiting_room_and_booking(&[]);
}

/// With NATS and PostgreSQL, `picket up` runs a ledger node and sends commands over JetStream;
/// the booking path and the live seat maps work the same.
#[test]
fn up_over_nats_and_postgres_serves_the_same_booking_path() {
    let pg = picket_tests::Postgres::start().expect("postgres");
    let nats = picket_tests::Nats::start().expect("nats");
    let health = serves_the_waiting_room_and_booking(&[
        ("DATABASE_URL", &pg.url()),
        ("PICKET_NATS_URL", &nats.url()),
    ]);
    assert!(health.contains(r#""transport":"nats""#), "{health}");
}

/// The same over TLS everywhere: NATS (`tls://`, `PICKET_NATS_CA_FILE`, and the `up` user of
/// `deploy/nats/accounts.conf` as `PICKET_NATS_CREDS_FILE`), PostgreSQL (`sslmode=verify-full`)
/// and Redis (`rediss://`, `PICKET_REDIS_CA_FILE`); the NATS server refuses nothing it does.
#[test]
fn up_over_tls_as_the_up_user_serves_the_same_booking_path() {
    let services = picket_tests::SecuredServices::start("picket").expect("services");
    let redis = picket_tests::Redis::start_tls(picket_tests::ServerTls::from(
        &services.ca.issue_loopback("redis").expect("cert"),
    ))
    .expect("redis");
    let ca = services.ca.ca_file().display().to_string();
    let creds = services.users.seed_file("up").display().to_string();
    let health = serves_the_waiting_room_and_booking(&[
        ("DATABASE_URL", &services.database_url),
        ("PICKET_NATS_URL", &services.nats.url()),
        ("PICKET_NATS_CA_FILE", &ca),
        ("PICKET_NATS_CREDS_FILE", &creds),
        ("PICKET_REDIS_URL", &redis.url()),
        ("PICKET_REDIS_CA_FILE", &ca),
    ]);
    assert!(health.contains(r#""transport":"nats""#), "{health}");
    let log = services.nats.log_tail();
    assert!(!log.contains("Violation"), "{log}");
}

/// Returns the `/healthz` body.
fn serves_the_waiting_room_and_booking(env: &[(&str, &str)]) -> String {
    use picket_tests::gateway::{Client, sale_settings, small_spec, spec_json};
    let data = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut child = spawn_up_with(port, data.path(), env);
    let health = wait_healthy(&mut child, port);
    let token = std::fs::read_to_string(data.path().join("operator-token")).expect("token file");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        let address = format!("127.0.0.1:{port}").parse().expect("address");
        let spec = spec_json(&small_spec(5, 30));
        let (status, body) = operator(address, "POST", "/api/v2/performances", &spec, &token).await;
        assert_eq!(status, 201, "{body}");
        let settings = sale_settings(picket_edge::clock::now_ms(), 100, 100);
        let (status, body) = operator(address, "PUT", "/api/v2/sales/5", &settings, &token).await;
        assert_eq!(status, 200, "{body}");
        let (status, _) = operator(address, "PUT", "/api/v2/sales/5", &settings, "wrong").await;
        assert_eq!(status, 401, "the operator API needs the operator token");

        let mut buyer = Client::guest(address, "device-through-binary").await;
        buyer
            .send(serde_json::json!({"type": "join", "sale": "5"}))
            .await;
        let admission = buyer.next_of("admitted").await["token"]
            .as_str()
            .expect("token")
            .to_owned();
        buyer
            .send(
                serde_json::json!({"type": "hold", "id": "h", "sale": "5", "key": "k",
                "admission": admission, "selection": {"Seats": [2, 3]}}),
            )
            .await;
        let held = buyer.next_of("result").await;
        assert_eq!(
            held["outcome"]["Ok"]["Held"]["amount_won"], 220_000,
            "{held}"
        );
        // The live seat map follows the ledger's committed events.
        buyer
            .send(serde_json::json!({"type": "watch", "performance": "5"}))
            .await;
        // The map may be sent before the hold's event reaches this gateway (over NATS it
        // travels through the events stream); then a change follows.
        let mut seats = buyer.next_of("seats").await;
        while seats["free"] != 28 {
            seats = buyer.next_of("seats_changed").await;
        }
        assert_eq!(seats["free"], 28, "two of 30 seats are held: {seats}");
    });
    let (status, metrics) = get_as(port, "/metrics", token.trim()).expect("metrics");
    assert_eq!(status, 200);
    assert!(
        metrics.contains("picket_gateway_admissions_issued"),
        "{metrics}"
    );
    interrupt_and_wait(child);
    health
}

async fn operator(
    address: std::net::SocketAddr,
    method: &str,
    path: &str,
    body: &serde_json::Value,
    token: &str,
) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let body = body.to_string();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, response)
}

/// GETs `path` as JSON from a running `picket up`.
fn get_json(port: u16, path: &str) -> serde_json::Value {
    let (status, body) = get(port, path).expect("get");
    assert_eq!(status, 200, "{path}: {body}");
    serde_json::from_str(&body).expect("json")
}

/// Without Redis the waiting room lives in the process: a sale, its draw's seed and result, and
/// the places given survive Ctrl-C and a restart on the same data directory. So does the VAPID
/// key browsers' push subscriptions are bound to (`vapid-key` in the data directory).
#[test]
fn a_restart_keeps_sales_their_draws_and_places() {
    use picket_tests::gateway::{Client, sale_settings};
    let data = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut child = spawn_up_with(port, data.path(), &[]);
    wait_healthy(&mut child, port);
    let token = std::fs::read_to_string(data.path().join("operator-token")).expect("token file");
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let address: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().expect("address");
    // Admission is paused, so the places stay in the queue across the restart.
    let mut settings = sale_settings(picket_edge::clock::now_ms() + 1_500, 1, 1);
    settings["paused"] = serde_json::json!(true);
    let place = runtime.block_on(async {
        let (status, body) = operator(address, "PUT", "/api/v2/sales/5", &settings, &token).await;
        assert_eq!(status, 200, "{body}");
        let mut buyers = Vec::new();
        for n in 0..3 {
            let mut buyer = Client::guest(address, &format!("device-restart-{n:04}")).await;
            buyer
                .send(serde_json::json!({"type": "join", "sale": "5"}))
                .await;
            buyers.push(buyer);
        }
        // The draw at the open gives the pre-queue its places.
        loop {
            let standing = buyers[0].next_of("queue").await;
            if let Some(place) = standing["place"].as_u64() {
                return place;
            }
        }
    });
    let view = get_json(port, "/api/v2/sales/5");
    let draw = get_json(port, "/api/v2/sales/5/draw");
    assert_eq!(draw["order"].as_array().map(Vec::len), Some(3), "{draw}");
    let push_key = get_json(port, "/api/v2/push/key");
    assert!(
        data.path().join("vapid-key").exists(),
        "the VAPID key is kept in the data directory"
    );
    interrupt_and_wait(child);

    let mut child = spawn_up_with(port, data.path(), &[]);
    wait_healthy(&mut child, port);
    let again = get_json(port, "/api/v2/sales/5");
    for field in ["seed_hash", "seed", "tail", "watermark", "settings"] {
        assert_eq!(again[field], view[field], "{field} after the restart");
    }
    assert_eq!(get_json(port, "/api/v2/sales/5/draw"), draw);
    assert_eq!(get_json(port, "/api/v2/push/key"), push_key);
    let kept = runtime.block_on(async {
        let mut buyer = Client::guest(address, "device-restart-0000").await;
        buyer
            .send(serde_json::json!({"type": "join", "sale": "5"}))
            .await;
        buyer.next_of("queue").await["place"].as_u64()
    });
    assert_eq!(kept, Some(place), "a place is kept across the restart");
    interrupt_and_wait(child);
}
