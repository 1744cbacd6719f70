//! The harness starts real servers that answer, and can crash and restart them.

use picket_tests::{Nats, Postgres, Redis};
use sqlx::Connection;

#[tokio::test]
async fn postgres_starts_answers_and_keeps_commits_across_a_crash() {
    let mut pg = Postgres::start().expect("postgres starts");
    let url = pg.create_database("harness").expect("create database");
    let mut conn = sqlx::PgConnection::connect(&url).await.expect("connect");
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut conn)
        .await
        .expect("select");
    assert_eq!(one, 1);
    sqlx::query("CREATE TABLE kept (n INT)")
        .execute(&mut conn)
        .await
        .expect("create");
    sqlx::query("INSERT INTO kept VALUES (41), (1)")
        .execute(&mut conn)
        .await
        .expect("insert");
    drop(conn);

    pg.kill().expect("kill");
    assert!(
        sqlx::PgConnection::connect(&url).await.is_err(),
        "a killed server refuses"
    );
    pg.start_again().expect("restart");
    let mut conn = sqlx::PgConnection::connect(&url).await.expect("reconnect");
    let sum: i64 = sqlx::query_scalar("SELECT SUM(n) FROM kept")
        .fetch_one(&mut conn)
        .await
        .expect("sum");
    assert_eq!(sum, 42, "committed rows survive a crash");
}

#[test]
fn redis_starts_and_answers_ping() {
    let mut redis = Redis::start().expect("redis starts");
    assert!(redis.url().starts_with("redis://127.0.0.1:"));
    assert_ne!(redis.port(), 6379, "never the machine's own Redis");
    redis.kill().expect("kill");
    assert!(std::net::TcpStream::connect(("127.0.0.1", redis.port())).is_err());
    redis.start_again().expect("restart");
    assert!(std::net::TcpStream::connect(("127.0.0.1", redis.port())).is_ok());
}

#[test]
fn nats_starts_with_jetstream() {
    let nats = Nats::start().expect("nats starts");
    assert_ne!(nats.port(), 4222, "never the machine's own NATS");
    let info = nats.info().expect("INFO line");
    let info: serde_json::Value = serde_json::from_str(&info).expect("INFO is JSON");
    assert_eq!(info["jetstream"], serde_json::Value::Bool(true), "{info}");
    assert_eq!(info["port"].as_u64(), Some(u64::from(nats.port())));
}
