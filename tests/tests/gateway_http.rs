//! The gateway's HTTP serving and WebSocket framing under abuse: idle and half-open connections
//! are closed, connection caps hold per address and overall, accepting stops before the process
//! runs out of files, close codes follow RFC 6455, `/metrics` is the operator's, and bodies over
//! a limit are 413 problems.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use futures_util::SinkExt;
use picket_room::QueueStore;
use picket_room::memory::MemoryStore;
use picket_tests::gateway::{Client, Cluster, OPERATOR_TOKEN, connect_raw, http};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::Message;

async fn cluster(configure: impl Fn(&mut picket_gateway::GatewayConfig)) -> Cluster {
    let store: Arc<dyn QueueStore> = Arc::new(MemoryStore::new());
    Cluster::start(1, store, configure).await
}

/// A TCP connection to `server` from the loopback address `127.0.0.<host>`.
async fn connect_from(host: u8, server: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().expect("socket");
    socket
        .bind(SocketAddr::new(
            IpAddr::V4(Ipv4Addr::new(127, 0, 0, host)),
            0,
        ))
        .expect("bind");
    socket.connect(server).await.expect("connect")
}

/// Whether the server closed `stream` within `wait` (end of stream or reset), reading and
/// discarding whatever it sent before.
async fn closed_within(stream: &mut TcpStream, wait: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    let mut buffer = [0u8; 4_096];
    loop {
        match tokio::time::timeout_at(deadline, stream.read(&mut buffer)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

/// Reads one HTTP response with a `Content-Length` body from a kept-alive connection.
async fn read_response(stream: &mut TcpStream) -> String {
    let mut response = Vec::new();
    let mut byte = [0u8; 1];
    while !response.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).await.expect("head");
        response.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&response).to_lowercase();
    let length: usize = head
        .lines()
        .find_map(|line| line.strip_prefix("content-length: "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    stream.read_exact(&mut body).await.expect("body");
    head
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_idle_keep_alive_and_stalled_bodies_are_closed() {
    let cluster = cluster(|config| {
        config.header_read_timeout = Duration::from_secs(1);
        config.http_idle_timeout = Duration::from_secs(1);
    })
    .await;
    let address = cluster.address(0);

    // One header line every 300 ms never completes the request.
    let mut slow = TcpStream::connect(address).await.expect("connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n")
        .await
        .expect("write");
    let started = tokio::time::Instant::now();
    let mut closed = false;
    while started.elapsed() < Duration::from_secs(6) {
        if slow.write_all(b"X-Slow: 1\r\n").await.is_err() {
            closed = true;
            break;
        }
        if closed_within(&mut slow, Duration::from_millis(300)).await {
            closed = true;
            break;
        }
    }
    assert!(closed, "a trickle of header lines is cut off");

    // A connection that never sends a byte.
    let mut silent = TcpStream::connect(address).await.expect("connect");
    assert!(closed_within(&mut silent, Duration::from_secs(4)).await);

    // An idle keep-alive connection, after one answered request.
    let mut kept = TcpStream::connect(address).await.expect("connect");
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\n\r\n")
        .await
        .expect("write");
    let head = read_response(&mut kept).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(closed_within(&mut kept, Duration::from_secs(4)).await);

    // A body that stops arriving.
    let mut stalled = TcpStream::connect(address).await.expect("connect");
    stalled
        .write_all(b"POST /api/v2/sessions HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"em")
        .await
        .expect("write");
    assert!(closed_within(&mut stalled, Duration::from_secs(4)).await);

    // The gateway keeps serving.
    let (status, _) = http(address, "GET", "/healthz", None, false).await;
    assert_eq!(status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_capped_per_address_and_before_becoming_websockets() {
    let cluster = cluster(|config| {
        config.header_read_timeout = Duration::from_secs(30);
        config.http_idle_timeout = Duration::from_secs(30);
        config.http_connections_max = 20;
        config.connections_per_address_max = 10;
        // The test's clients are all on this machine, at 127.0.0.2, .3 and .4.
        config.loopback_uncapped = false;
    })
    .await;
    let address = cluster.address(0);
    let mut first = Vec::new();
    for _ in 0..10 {
        first.push(connect_from(2, address).await);
    }
    for stream in &mut first {
        assert!(!closed_within(stream, Duration::from_millis(50)).await);
    }
    let mut over = connect_from(2, address).await;
    assert!(
        closed_within(&mut over, Duration::from_secs(2)).await,
        "the 11th connection from one address is closed"
    );
    let mut second = Vec::new();
    for _ in 0..10 {
        second.push(connect_from(3, address).await);
    }
    for stream in &mut second {
        assert!(!closed_within(stream, Duration::from_millis(50)).await);
    }
    let mut over = connect_from(4, address).await;
    assert!(
        closed_within(&mut over, Duration::from_secs(2)).await,
        "a 21st connection that is not a WebSocket is closed"
    );
    drop(second);
    tokio::time::sleep(Duration::from_millis(200)).await;
    // WebSockets do not count towards http_connections_max.
    let mut sockets = Vec::new();
    for n in 0..5 {
        sockets.push(Client::guest(address, &format!("device-capped-{n:06}")).await);
    }
    let mut third = Vec::new();
    for _ in 0..10 {
        third.push(connect_from(3, address).await);
    }
    for stream in &mut third {
        assert!(!closed_within(stream, Duration::from_millis(50)).await);
    }
    let refused = cluster.gateways[0]
        .0
        .metrics
        .http_refused
        .get_or_create(&picket_gateway::metrics::CodeLabel {
            code: "connections_per_address_max".into(),
        })
        .get();
    assert_eq!(refused, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accepting_stops_before_the_file_limit_and_resumes() {
    let cluster = cluster(|config| {
        config.header_read_timeout = Duration::from_secs(30);
        config.http_idle_timeout = Duration::from_secs(30);
        config.files_max = 40;
        config.files_reserved = 10;
        config.connections_max = 20;
    })
    .await;
    let address = cluster.address(0);
    let gateway = cluster.gateways[0].0.clone();
    let mut held = Vec::new();
    for n in 0..30 {
        held.push(connect_from(10 + (n % 5) as u8, address).await);
    }
    for stream in &mut held {
        assert!(!closed_within(stream, Duration::from_millis(20)).await);
    }
    // The 31st waits in the listen queue: accepting has stopped.
    let mut waiting = TcpStream::connect(address).await.expect("connect");
    waiting
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        .await
        .expect("write");
    let mut buffer = [0u8; 64];
    let early = tokio::time::timeout(Duration::from_secs(1), waiting.read(&mut buffer)).await;
    assert!(early.is_err(), "not served while at the limit");
    assert_eq!(gateway.metrics.accept_paused.get(), 1);
    held.truncate(25);
    let mut response = Vec::new();
    tokio::time::timeout(Duration::from_secs(5), waiting.read_to_end(&mut response))
        .await
        .expect("served once connections closed")
        .expect("read");
    assert!(
        response.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&response)
    );
    // The other four closed connections leave the books in their own time.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while gateway.metrics.accept_paused.get() != 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(gateway.metrics.accept_paused.get(), 0);
    assert!(gateway.metrics.accept_pauses.get() >= 1);
}

/// Upgrades a raw TCP connection to a `picket.v2` WebSocket, for frames no client library sends.
async fn raw_websocket(address: SocketAddr) -> TcpStream {
    let mut stream = TcpStream::connect(address).await.expect("connect");
    stream
        .write_all(
            b"GET /ws HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
              Sec-WebSocket-Protocol: picket.v2\r\n\r\n",
        )
        .await
        .expect("upgrade");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).await.expect("head");
        head.push(byte[0]);
    }
    assert!(head.starts_with(b"HTTP/1.1 101"), "{head:?}");
    stream
}

/// A client frame (masked with a zero key, so the payload is sent as is).
fn frame(first_byte: u8, payload: &[u8]) -> Vec<u8> {
    assert!(payload.len() < 126);
    let mut frame = vec![first_byte, 0x80 | payload.len() as u8, 0, 0, 0, 0];
    frame.extend_from_slice(payload);
    frame
}

/// The code of the server's close frame (1005 when it has none), skipping other frames; None
/// when the connection ended without one.
async fn close_code(stream: &mut TcpStream) -> Option<u16> {
    let read = async {
        loop {
            let mut head = [0u8; 2];
            stream.read_exact(&mut head).await.ok()?;
            let mut length = u64::from(head[1] & 0x7f);
            if length == 126 {
                let mut extended = [0u8; 2];
                stream.read_exact(&mut extended).await.ok()?;
                length = u64::from(u16::from_be_bytes(extended));
            } else if length == 127 {
                let mut extended = [0u8; 8];
                stream.read_exact(&mut extended).await.ok()?;
                length = u64::from_be_bytes(extended);
            }
            let mut payload = vec![0u8; length as usize];
            stream.read_exact(&mut payload).await.ok()?;
            if head[0] & 0x0f == 0x8 {
                return Some(if payload.len() >= 2 {
                    u16::from_be_bytes([payload[0], payload[1]])
                } else {
                    1005
                });
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(5), read)
        .await
        .ok()
        .flatten()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_codes_follow_rfc_6455() {
    let cluster = cluster(|_| {}).await;
    let address = cluster.address(0);

    let mut invalid_utf8 = raw_websocket(address).await;
    invalid_utf8
        .write_all(&frame(0x81, &[b'{', 0xff, 0xfe, b'}']))
        .await
        .expect("send");
    assert_eq!(close_code(&mut invalid_utf8).await, Some(1007));

    let mut unmasked = raw_websocket(address).await;
    unmasked
        .write_all(&[0x81, 0x02, b'h', b'i'])
        .await
        .expect("send");
    assert_eq!(close_code(&mut unmasked).await, Some(1002));

    let mut reserved_opcode = raw_websocket(address).await;
    reserved_opcode
        .write_all(&frame(0x83, b"x"))
        .await
        .expect("send");
    assert_eq!(close_code(&mut reserved_opcode).await, Some(1002));

    // A client's close is answered with the same code.
    let mut closing = raw_websocket(address).await;
    let mut payload = 4321u16.to_be_bytes().to_vec();
    payload.extend_from_slice(b"bye");
    closing
        .write_all(&frame(0x88, &payload))
        .await
        .expect("send");
    assert_eq!(close_code(&mut closing).await, Some(4321));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_flood_close_reaches_a_client_that_sent_a_thousand_messages() {
    let cluster = cluster(|config| {
        config.messages_per_sec = 5;
        config.messages_burst = 5;
        config.flood_strikes_max = 10;
    })
    .await;
    let mut flooder = Client::guest(cluster.address(0), "device-flooder-1000").await;
    for _ in 0..1_000 {
        let _ = flooder
            .socket
            .feed(Message::text(r#"{"type":"watch","performance":"1"}"#))
            .await;
    }
    let _ = flooder.socket.flush().await;
    assert_eq!(
        flooder.close_code(Duration::from_secs(10)).await,
        Some(4008)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_field_errors_carry_the_request_id() {
    let cluster = cluster(|_| {}).await;
    let mut client = Client::guest(cluster.address(0), "device-invalid-field").await;
    client
        .send_raw_text(r#"{"type":"hold","id":"c-41","sale":"seventy","key":"k","admission":"t"}"#)
        .await;
    let error = client.next_of("error").await;
    assert_eq!(error["code"], "invalid_field");
    assert_eq!(error["id"], "c-41", "{error}");
    // An id that is not a valid correlation id is not echoed.
    client
        .send_raw_text(&format!(
            r#"{{"type":"hold","id":"{}","sale":"1"}}"#,
            "x".repeat(200)
        ))
        .await;
    let error = client.next_of("error").await;
    assert_eq!(error["code"], "invalid_field");
    assert!(error.get("id").is_none(), "{error}");
    // Protocol v2: an id sent as a JSON number (or a string that is not decimal digits) is
    // refused, and the error names the request.
    for (id, hold) in [
        ("c-43", "117701597864396273"),
        ("c-44", "\"+1\""),
        ("c-45", "\"18446744073709551616\""),
    ] {
        client
            .send_raw_text(&format!(
                r#"{{"type":"release","id":"{id}","sale":"1","key":"k","admission":"t","hold":{hold}}}"#
            ))
            .await;
        let error = client.next_of("error").await;
        assert_eq!(error["code"], "invalid_field", "{hold}: {error}");
        assert_eq!(error["id"], id, "{error}");
    }
    // Before hello, a booking command's refusal carries its id too.
    let mut stranger = Client::over(
        connect_raw(cluster.address(0), true)
            .await
            .expect("connect"),
    );
    stranger
        .send_raw_text(
            r#"{"type":"release","id":"c-42","sale":"1","key":"k","admission":"t","hold":"1"}"#,
        )
        .await;
    let error = stranger.next_of("error").await;
    assert_eq!(error["code"], "not_authenticated");
    assert_eq!(error["id"], "c-42", "{error}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_the_operators() {
    let cluster = cluster(|_| {}).await;
    let address = cluster.address(0);
    let (status, body) = http(address, "GET", "/metrics", None, false).await;
    assert_eq!(status, 401, "{body}");
    let problem: serde_json::Value = serde_json::from_str(&body).expect("problem");
    assert_eq!(problem["code"], "operator_only");
    let (status, body) = http(address, "GET", "/metrics", None, true).await;
    assert_eq!(status, 200);
    assert!(body.contains("picket_gateway_connections"), "{body}");
}

/// Sends a request with a body of `length` bytes, reading the answer while the body is still
/// being written (the server may answer, and stop reading, before it ends). Returns (status,
/// lower-cased head, body).
async fn oversized(
    address: SocketAddr,
    method: &str,
    path: &str,
    length: usize,
    operator: bool,
) -> (u16, String, String) {
    let auth = if operator {
        format!("Authorization: Bearer {OPERATOR_TOKEN}\r\n")
    } else {
        String::new()
    };
    let stream = TcpStream::connect(address).await.expect("connect");
    let (mut reader, mut writer) = stream.into_split();
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {length}\r\n\r\n"
    );
    let sending = tokio::spawn(async move {
        writer.write_all(request.as_bytes()).await?;
        let chunk = vec![b' '; 64 * 1024];
        let mut left = length;
        while left > 0 {
            let n = left.min(chunk.len());
            writer.write_all(&chunk[..n]).await?;
            left -= n;
        }
        // Kept open (no FIN): a client sends its body and waits, it does not half-close.
        std::io::Result::Ok(writer)
    });
    let mut response = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), reader.read_to_end(&mut response)).await;
    sending.abort();
    let response = String::from_utf8_lossy(&response).to_string();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or_default();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, head.to_lowercase(), body.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_over_the_limit_are_413_problems() {
    let cluster = cluster(|_| {}).await;
    let address = cluster.address(0);
    let cases = [
        ("POST", "/api/v2/accounts", 1_000_000, false),
        ("POST", "/api/v2/sessions", 100_000, false),
        ("POST", "/api/v2/accounts", 100_000, false),
        ("POST", "/api/v2/sessions", 1_000_000, false),
        ("PUT", "/api/v2/sales/77", 20_000_000, true),
        ("POST", "/api/v2/performances", 20_000_000, true),
    ];
    for (method, path, length, operator) in cases {
        let (status, head, body) = oversized(address, method, path, length, operator).await;
        assert_eq!(status, 413, "{method} {path}: {head}\n{body}");
        assert!(
            head.contains("content-type: application/problem+json"),
            "{method} {path}: {head}"
        );
        let problem: serde_json::Value = serde_json::from_str(&body).expect("problem");
        assert_eq!(problem["status"], 413);
        assert_eq!(problem["code"], "too_large");
    }
    // The WebSocket keeps its own limit (close 1009) and the gateway keeps serving.
    let mut client = Client::over(connect_raw(address, true).await.expect("connect"));
    client.send_raw_text(&"x".repeat(64 * 1024)).await;
    assert_eq!(client.close_code(Duration::from_secs(5)).await, Some(1009));
}

/// Protocol v1 (ids as JSON numbers) is retired: a client asking only for `picket.v1` is refused
/// with a problem naming `picket.v2`; one offering both gets v2.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_protocol_v2_is_spoken() {
    let cluster = cluster(|_| {}).await;
    let address = cluster.address(0);
    let mut stream = TcpStream::connect(address).await.expect("connect");
    stream
        .write_all(
            b"GET /ws HTTP/1.1\r\nHost: test\r\nUpgrade: websocket\r\nConnection: Upgrade, close\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\
              Sec-WebSocket-Protocol: picket.v1\r\n\r\n",
        )
        .await
        .expect("upgrade");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answer.contains("application/problem+json"),
        "a problem: {answer}"
    );
    assert!(
        answer.contains(r#""code":"unsupported_protocol""#),
        "{answer}"
    );
    assert!(
        answer.contains("picket.v2"),
        "names the version to ask for: {answer}"
    );

    let socket = picket_tests::gateway::connect_speaking(address, &["picket.v1", "picket.v2"])
        .await
        .expect("v2 is chosen when offered");
    let mut client = Client::over(socket);
    client
        .send(serde_json::json!({"type": "hello", "device": "device-offers-both-01"}))
        .await;
    let welcome = client.next_of("welcome").await;
    assert_eq!(welcome["protocol"], 2, "{welcome}");
}
