//! The waiting room across gateways: places, fairness, admission and booking over the socket.

use std::sync::Arc;
use std::time::Duration;

use picket_gateway::QueueStore;
use picket_gateway::clock::now_ms;
use picket_gateway::room::memory::MemoryStore;
use picket_tests::gateway::{Client, Cluster, configure_sale, sale_settings, small_spec};
use serde_json::json;

const SALE: u64 = 77;

fn fast(config: &mut picket_gateway::GatewayConfig) {
    config.push_interval = Duration::from_millis(200);
    config.controller_interval = Duration::from_millis(50);
}

fn device(n: usize) -> String {
    format!("test-device-{n:08}")
}

/// A guest joins, is admitted, holds and pays over the socket; a client without an admission
/// token cannot book (invariant 7).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_admit_hold_and_confirm_in_memory() {
    let store: Arc<dyn QueueStore> = Arc::new(MemoryStore::new());
    let cluster = Cluster::start(1, store, fast).await;
    cluster.open(small_spec(SALE, 40)).await;
    let address = cluster.address(0);
    let (status, body) = configure_sale(address, SALE, &sale_settings(now_ms(), 50, 100)).await;
    assert_eq!(status, 200, "{body}");

    let mut buyer = Client::guest(address, &device(1)).await;
    buyer.send(json!({"type": "join", "sale": SALE})).await;
    let admitted = buyer.next_of("admitted").await;
    let token = admitted["token"].as_str().expect("token").to_owned();

    let mut stranger = Client::guest(address, &device(2)).await;
    stranger
        .send(
            json!({"type": "hold", "id": "x", "sale": SALE, "key": "k1", "admission": "",
            "selection": {"Seats": [0]}}),
        )
        .await;
    let refused = stranger.next_of("error").await;
    assert_eq!(refused["code"], "no_admission");
    stranger
        .send(
            json!({"type": "hold", "id": "x", "sale": SALE, "key": "k1", "admission": token,
            "selection": {"Seats": [0]}}),
        )
        .await;
    let refused = stranger.next_of("error").await;
    assert_eq!(
        refused["code"], "admission_invalid",
        "a token is bound to its identity and connection"
    );

    buyer
        .send(
            json!({"type": "hold", "id": "h1", "sale": SALE, "key": "k1", "admission": token,
            "selection": {"Seats": [0, 1]}}),
        )
        .await;
    let held = buyer.next_of("result").await;
    let hold = held["outcome"]["Ok"]["Held"]["hold"]
        .as_u64()
        .expect("held");
    let amount = held["outcome"]["Ok"]["Held"]["amount_won"]
        .as_u64()
        .expect("amount");
    assert_eq!(amount, 220_000);
    buyer
        .send(
            json!({"type": "confirm", "id": "c1", "sale": SALE, "key": "k2", "admission": token,
            "hold": hold, "payment_ref": "pay-1", "amount_won": amount}),
        )
        .await;
    let confirmed = buyer.next_of("result").await;
    assert!(
        confirmed["outcome"]["Ok"]["Confirmed"].is_object(),
        "{confirmed}"
    );
    buyer
        .send(
            json!({"type": "hold", "id": "h2", "sale": SALE, "key": "k3", "admission": token,
            "selection": {"Seats": [5]}}),
        )
        .await;
    let spent = buyer.next_of("result").await;
    assert_eq!(spent["code"], "admission_spent", "one admission buys once");
}
