//! A property test driven by the OpenAPI document (in the spirit of schemathesis): every
//! documented operation is called many times with random path ids, query strings, bodies (valid
//! shapes with wrong values, wrong types, garbage) and credentials; no call may get a server
//! error (5xx) or break the connection. Seeded; a failure prints the seed
//! (`PICKET_API_FUZZ_SEED=<seed>` repeats it).

use std::net::SocketAddr;
use std::sync::Arc;

use picket_api::{Api, ApiConfig};
use picket_ledger_client::LedgerClient;
use picket_room::memory::MemoryStore;
use picket_tests::gateway::{Cluster, test_keys};
use picket_tests::ledger::Rng;
use serde_json::{Value, json};

const CALLS_PER_OPERATION: usize = 40;

async fn call(
    address: SocketAddr,
    method: &str,
    path: &str,
    body: &str,
    token: Option<&str>,
) -> (u16, Value) {
    let answer = picket_tests::api::call(address, method, path, body, token).await;
    (answer.status, answer.body)
}

/// A random JSON value, mostly shaped like `schema` (resolved against `components`).
fn value(rng: &mut Rng, schema: &Value, components: &Value, depth: u32) -> Value {
    let schema = match schema["$ref"].as_str() {
        Some(reference) => {
            let name = reference.rsplit('/').next().unwrap_or("");
            &components["schemas"][name]
        }
        None => schema,
    };
    if depth > 4 || rng.below(10) == 0 {
        return wild(rng);
    }
    if let Some(choices) = schema["enum"].as_array().filter(|c| !c.is_empty())
        && rng.below(4) != 0
    {
        return choices[rng.below(choices.len() as u64) as usize].clone();
    }
    let kind = match &schema["type"] {
        Value::String(kind) => kind.clone(),
        Value::Array(kinds) => kinds
            .first()
            .and_then(Value::as_str)
            .unwrap_or("string")
            .to_owned(),
        _ if schema["properties"].is_object() => "object".into(),
        _ => return wild(rng),
    };
    match kind.as_str() {
        "object" => {
            let mut object = serde_json::Map::new();
            if let Some(properties) = schema["properties"].as_object() {
                for (name, property) in properties {
                    if rng.below(5) != 0 {
                        object.insert(name.clone(), value(rng, property, components, depth + 1));
                    }
                }
            }
            Value::Object(object)
        }
        "array" => Value::Array(
            (0..rng.below(4))
                .map(|_| value(rng, &schema["items"], components, depth + 1))
                .collect(),
        ),
        "integer" => json!(
            [
                0i64,
                1,
                -1,
                i64::MAX,
                i64::MIN,
                160_000,
                1_764_000_000_000i64
            ][rng.below(7) as usize]
        ),
        "boolean" => json!(rng.below(2) == 0),
        "null" => Value::Null,
        _ => {
            let long = "x".repeat(6_000);
            let choices = [
                "",
                "a",
                "kim@example.com",
                "correct horse",
                "서울",
                long.as_str(),
                "123-45-67891",
                "\u{0}",
            ];
            json!(choices[rng.below(choices.len() as u64) as usize])
        }
    }
}

/// Anything at all.
fn wild(rng: &mut Rng) -> Value {
    match rng.below(6) {
        0 => Value::Null,
        1 => json!(rng.next_u64()),
        2 => json!(-1.5e300),
        3 => json!("🎫".repeat(rng.below(50) as usize)),
        4 => json!([1, "two", null, {"three": [3]}]),
        _ => json!({"unexpected": true}),
    }
}

fn seed() -> u64 {
    std::env::var("PICKET_API_FUZZ_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(picket_edge::clock::now_ms)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_documented_operation_gives_a_server_error() {
    let seed = seed();
    eprintln!("api fuzz seed {seed} (PICKET_API_FUZZ_SEED={seed} repeats it)");
    let cluster = Cluster::start(1, Arc::new(MemoryStore::new()), |_| {}).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("api.sqlite").display()
    );
    let store = picket_api::store::Store::connect(&url)
        .await
        .expect("store");
    let config = ApiConfig {
        media_dir: dir.path().join("media"),
        ..ApiConfig::default()
    };
    let ledger = LedgerClient::in_process(cluster.ledger.handle.clone());
    let api = Api::new(
        store,
        test_keys(),
        "operator".into(),
        Some(ledger),
        Some(Arc::new(MemoryStore::new())),
        config,
    );
    // The payment routes as in production, through the cluster's sandbox: an API without a
    // provider answers them 503, which this test rightly counts as a server error.
    api.set_payments(Arc::new(picket_payments::Flow::new(
        cluster.sandbox.provider(),
        LedgerClient::in_process(cluster.ledger.handle.clone()),
        picket_tests::pay::CLIENT_KEY.into(),
        cluster.sandbox.checkout_url(),
    )));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, picket_api::router(api)).await });

    // Real credentials and a real id, so calls get past authentication and lookups.
    let member = json!({"email": "m@example.com", "password": "correct horse", "name": "M"});
    call(
        address,
        "POST",
        "/api/v2/accounts",
        &member.to_string(),
        None,
    )
    .await;
    let token = call(
        address,
        "POST",
        "/api/v2/sessions",
        &json!({"email": "m@example.com", "password": "correct horse"}).to_string(),
        None,
    )
    .await
    .1["token"]
        .as_str()
        .map(str::to_owned);
    let (_, document) = call(address, "GET", "/api/openapi.json", "", None).await;
    let components = document["components"].clone();
    let mut rng = Rng(seed);
    let mut calls = 0;
    for (path, item) in document["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("operation") {
            for _ in 0..CALLS_PER_OPERATION {
                let id =
                    ["1", "0", "-1", "99999999999999999999", "abc", "%00"][rng.below(6) as usize];
                let mut target = path.replace("{id}", id).replace("{sale}", id);
                if rng.below(2) == 0 {
                    let mut query = Vec::new();
                    for name in [
                        "limit", "cursor", "category", "region", "from_ms", "to_ms", "q",
                    ] {
                        if rng.below(3) == 0 {
                            let values = ["0", "1", "50", "51", "-5", "x", "seoul", "%27", ""];
                            query.push(format!("{name}={}", values[rng.below(9) as usize]));
                        }
                    }
                    target = format!("{target}?{}", query.join("&"));
                }
                let schema =
                    operation["requestBody"]["content"]["application/json"]["schema"].clone();
                let body = match rng.below(4) {
                    0 => "{not json".to_owned(),
                    1 => String::new(),
                    _ => value(&mut rng, &schema, &components, 0).to_string(),
                };
                let credentials = match rng.below(3) {
                    0 => None,
                    1 => token.as_deref(),
                    _ => Some("v1.nope.nope.nope"),
                };
                let (status, answer) =
                    call(address, &method.to_uppercase(), &target, &body, credentials).await;
                calls += 1;
                assert!(
                    (200..500).contains(&status),
                    "seed {seed}: {method} {target} with {body:.200} → {status} {answer}"
                );
            }
        }
    }
    assert!(
        calls > 500,
        "the document lists the operations ({calls} calls)"
    );
}
