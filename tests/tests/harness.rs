//! The harness starts real servers that answer, and can crash, pause and restart them.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use picket_tests::{HarnessError, Nats, Postgres, Redis};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgPool};

/// How long a test waits for one answer from a server that should be up.
const ANSWER_WAIT_MAX: Duration = Duration::from_secs(10);
/// How long a query against a paused PostgreSQL is given before it counts as hanging.
const PAUSED_QUERY_WAIT: Duration = Duration::from_millis(500);

async fn pool(url: &str) -> PgPool {
    PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(ANSWER_WAIT_MAX)
        .connect(url)
        .await
        .expect("pool connects")
}

#[tokio::test]
async fn postgres_starts_answers_and_keeps_commits_across_a_crash() {
    let mut pg = Postgres::start().expect("postgres starts");
    assert_ne!(pg.port(), 5432, "never the machine's own PostgreSQL");
    assert_eq!(
        pg.url(),
        format!("postgres://postgres@127.0.0.1:{}/postgres", pg.port())
    );

    let admin = pool(&pg.url()).await;
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&admin)
        .await
        .expect("select");
    assert_eq!(one, 1);
    let fsync: String = sqlx::query_scalar("SHOW fsync")
        .fetch_one(&admin)
        .await
        .expect("show fsync");
    assert_eq!(fsync, "on", "durability is measured, so fsync stays on");
    admin.close().await;

    let url = pg.create_database("harness").expect("create database");
    assert!(url.ends_with("/harness"), "{url}");
    let db = pool(&url).await;
    let name: String = sqlx::query_scalar("SELECT current_database()")
        .fetch_one(&db)
        .await
        .expect("current_database");
    assert_eq!(name, "harness");
    sqlx::query("CREATE TABLE kept (n INT)")
        .execute(&db)
        .await
        .expect("create");
    sqlx::query("INSERT INTO kept VALUES (41), (1)")
        .execute(&db)
        .await
        .expect("insert");
    db.close().await;

    assert!(
        matches!(pg.start_again(), Err(HarnessError::AlreadyRunning { .. })),
        "a running server is not started twice"
    );

    pg.kill().expect("kill");
    assert!(
        sqlx::PgConnection::connect(&url).await.is_err(),
        "a killed server refuses"
    );
    pg.start_again().expect("restart after a crash");
    let db = pool(&url).await;
    let sum: i64 = sqlx::query_scalar("SELECT SUM(n) FROM kept")
        .fetch_one(&db)
        .await
        .expect("sum");
    assert_eq!(sum, 42, "committed rows survive a crash");
    db.close().await;

    pg.stop().expect("clean stop");
    assert!(TcpStream::connect(("127.0.0.1", pg.port())).is_err());
    pg.start_again().expect("restart after a clean stop");
    assert!(
        pg.log_tail().contains("database system is ready"),
        "{}",
        pg.log_tail()
    );

    let port = pg.port();
    drop(pg);
    assert!(
        TcpStream::connect(("127.0.0.1", port)).is_err(),
        "drop stops the server"
    );
}

#[tokio::test]
async fn postgres_pause_hangs_open_connections_until_resume() {
    let pg = Postgres::start().expect("postgres starts");
    let mut conn = sqlx::PgConnection::connect(&pg.url())
        .await
        .expect("connect");

    pg.pause().expect("pause");
    let query = sqlx::query_scalar::<_, i32>("SELECT 7").fetch_one(&mut conn);
    let mut query = Box::pin(query);
    assert!(
        tokio::time::timeout(PAUSED_QUERY_WAIT, &mut query)
            .await
            .is_err(),
        "a paused server does not answer"
    );
    pg.resume().expect("resume");
    let seven = tokio::time::timeout(ANSWER_WAIT_MAX, query)
        .await
        .expect("answers after resume")
        .expect("query");
    assert_eq!(seven, 7);
}

/// Sends one inline Redis command and returns the first line of the answer.
fn redis_command(port: u16, command: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("redis connects");
    stream.set_read_timeout(Some(ANSWER_WAIT_MAX)).unwrap();
    stream
        .write_all(format!("{command}\r\n").as_bytes())
        .unwrap();
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).unwrap();
    line.trim_end().to_owned()
}

#[test]
fn redis_starts_answers_ping_and_forgets_on_crash() {
    let mut redis = Redis::start().expect("redis starts");
    assert_ne!(redis.port(), 6379, "never the machine's own Redis");
    assert_eq!(redis.url(), format!("redis://127.0.0.1:{}", redis.port()));
    assert_eq!(redis_command(redis.port(), "PING"), "+PONG");
    assert_eq!(redis_command(redis.port(), "SET seat 7"), "+OK");
    assert_eq!(redis_command(redis.port(), "GET seat"), "$1");

    redis.kill().expect("kill");
    assert!(TcpStream::connect(("127.0.0.1", redis.port())).is_err());
    redis.start_again().expect("restart");
    assert_eq!(redis_command(redis.port(), "PING"), "+PONG");
    assert_eq!(
        redis_command(redis.port(), "GET seat"),
        "$-1",
        "no persistence: a crash loses every key"
    );
}

/// A minimal NATS client: one JetStream API request (or publish with reply), its reply as JSON.
fn nats_request(port: u16, subject: &str, payload: &str) -> serde_json::Value {
    let stream = TcpStream::connect(("127.0.0.1", port)).expect("nats connects");
    stream.set_read_timeout(Some(ANSWER_WAIT_MAX)).unwrap();
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).unwrap();
    assert!(line.starts_with("INFO "), "{line}");
    write!(
        writer,
        "CONNECT {{\"verbose\":false,\"pedantic\":false}}\r\nSUB _INBOX.harness 1\r\n\
         PUB {subject} _INBOX.harness {}\r\n{payload}\r\n",
        payload.len()
    )
    .unwrap();
    loop {
        line.clear();
        reader.read_line(&mut line).expect("a reply");
        let trimmed = line.trim_end();
        if trimmed == "PING" {
            writer.write_all(b"PONG\r\n").unwrap();
        } else if let Some(header) = trimmed.strip_prefix("MSG ") {
            let len: usize = header
                .rsplit(' ')
                .next()
                .and_then(|n| n.parse().ok())
                .expect("MSG length");
            let mut body = vec![0; len + 2];
            reader.read_exact(&mut body).unwrap();
            return serde_json::from_slice(&body[..len]).expect("reply is JSON");
        } else {
            assert!(!trimmed.starts_with("-ERR"), "{trimmed}");
        }
    }
}

#[test]
fn nats_starts_with_jetstream_that_survives_a_crash() {
    let mut nats = Nats::start().expect("nats starts");
    assert_ne!(nats.port(), 4222, "never the machine's own NATS");
    assert_eq!(nats.url(), format!("nats://127.0.0.1:{}", nats.port()));
    let info = nats.info().expect("INFO line");
    let info: serde_json::Value = serde_json::from_str(&info).expect("INFO is JSON");
    assert_eq!(info["jetstream"], serde_json::Value::Bool(true), "{info}");
    assert_eq!(info["port"].as_u64(), Some(u64::from(nats.port())));

    let created = nats_request(
        nats.port(),
        "$JS.API.STREAM.CREATE.KEPT",
        r#"{"name":"KEPT","subjects":["kept.>"],"storage":"file"}"#,
    );
    assert_eq!(created["config"]["name"], "KEPT", "{created}");
    let ack = nats_request(nats.port(), "kept.booking", "seat 7");
    assert_eq!(ack["stream"], "KEPT", "{ack}");
    assert_eq!(ack["seq"], 1, "{ack}");

    nats.kill().expect("kill");
    assert!(nats.info().is_none(), "a killed server is gone");
    nats.start_again().expect("restart");
    let stream = nats_request(nats.port(), "$JS.API.STREAM.INFO.KEPT", "");
    assert_eq!(stream["config"]["name"], "KEPT", "{stream}");
    assert_eq!(
        stream["state"]["messages"], 1,
        "the JetStream store survives: {stream}"
    );
}
