//! The waiting room across gateways: places, fairness, admission and booking over the socket.

use std::sync::Arc;
use std::time::Duration;

use picket_edge::clock::now_ms;
use picket_room::QueueStore;
use picket_room::memory::MemoryStore;
use picket_room::redis::RedisStore;
use picket_tests::gateway::{Client, Cluster, configure_sale, sale_settings, small_spec};
use picket_tests::pay::CARD_OK;
use serde_json::json;

const SALE: u64 = 77;

fn fast(config: &mut picket_gateway::GatewayConfig) {
    config.push_interval = Duration::from_millis(200);
    config.controller_interval = Duration::from_millis(50);
}

fn device(n: usize) -> String {
    format!("test-device-{n:08}")
}

/// One gateway on the in-memory store with sale `SALE` open now (50 admissions/s) on 40 seats.
async fn open_sale_in_memory() -> Cluster {
    let store: Arc<dyn QueueStore> = Arc::new(MemoryStore::new());
    let cluster = Cluster::start(1, store, fast).await;
    cluster.open(small_spec(SALE, 40)).await;
    let settings = sale_settings(now_ms(), 50, 100);
    let (status, body) = configure_sale(cluster.address(0), SALE, &settings).await;
    assert_eq!(status, 200, "{body}");
    cluster
}

/// A guest joins, is admitted, holds and pays over the socket; a client without an admission
/// token cannot book (invariant 7).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn join_admit_hold_and_confirm_in_memory() {
    let cluster = open_sale_in_memory().await;
    let address = cluster.address(0);

    let mut buyer = Client::guest(address, &device(1)).await;
    buyer
        .send(json!({"type": "join", "sale": SALE.to_string()}))
        .await;
    let admitted = buyer.next_of("admitted").await;
    let token = admitted["token"].as_str().expect("token").to_owned();

    let mut stranger = Client::guest(address, &device(2)).await;
    stranger
        .send(
            json!({"type": "hold", "id": "x", "sale": SALE.to_string(), "key": "k1", "admission": "",
            "selection": {"Seats": [0]}}),
        )
        .await;
    let refused = stranger.next_of("error").await;
    assert_eq!(refused["code"], "no_admission");
    stranger
        .send(
            json!({"type": "hold", "id": "x", "sale": SALE.to_string(), "key": "k1", "admission": token,
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
            json!({"type": "hold", "id": "h1", "sale": SALE.to_string(), "key": "k1", "admission": token,
            "selection": {"Seats": [0, 1]}}),
        )
        .await;
    let held = buyer.next_of("result").await;
    let hold = picket_tests::ids::id(&held["outcome"]["Ok"]["Held"]["hold"]);
    let amount = held["outcome"]["Ok"]["Held"]["amount_won"]
        .as_u64()
        .expect("amount");
    assert_eq!(amount, 220_000);
    let confirmed = buyer
        .pay(&cluster.sandbox, SALE, &token, hold, "k2", CARD_OK)
        .await;
    assert!(
        confirmed["outcome"]["Ok"]["Confirmed"].is_object(),
        "{confirmed}"
    );
    buyer
        .send(
            json!({"type": "hold", "id": "h2", "sale": SALE.to_string(), "key": "k3", "admission": token,
            "selection": {"Seats": [5]}}),
        )
        .await;
    // The payment ended the admission: the gateway refuses its token at once (the ledger would
    // refuse the hold too, `admission_spent`: one admission buys once).
    let spent = buyer.next_of("error").await;
    assert_eq!(
        (spent["id"].as_str(), spent["code"].as_str()),
        (Some("h2"), Some("admission_expired")),
        "one admission buys once: {spent}"
    );
    let ended = buyer.next_of("error").await;
    assert_eq!(
        ended["code"], "admission_expired",
        "a paid admission ends: the buyer leaves the queue"
    );

    // Cancelling needs no admission; only the buyer may cancel their booking. The show is
    // months away and the booking is from today: free of charge.
    let confirmed = &confirmed["outcome"]["Ok"]["Confirmed"];
    let booking = picket_tests::ids::id(&confirmed["booking"]);
    let first = picket_tests::ids::id(&confirmed["tickets"][0]);
    stranger
        .send(json!({"type": "cancel", "id": "x2", "sale": SALE.to_string(), "key": "s1", "booking": booking.to_string()}))
        .await;
    let refused = stranger.next_of("result").await;
    assert_eq!(refused["code"], "not_your_booking", "{refused}");
    buyer
        .send(
            json!({"type": "cancel", "id": "c9", "sale": SALE.to_string(), "key": "k9", "booking": booking.to_string(),
            "tickets": [first.to_string()]}),
        )
        .await;
    let cancelled = buyer.next_of("result").await;
    let cancelled = &cancelled["outcome"]["Ok"]["Cancelled"];
    assert_eq!(
        cancelled["tickets"],
        json!([first.to_string()]),
        "{cancelled}"
    );
    assert_eq!(
        (
            cancelled["refund_won"].as_u64(),
            cancelled["fee_won"].as_u64()
        ),
        (Some(110_000), Some(0))
    );
}

/// Kendall's tau between places and admission times, counting only pairs whose admissions came
/// in different push rounds (`tie_ms` apart or more); 1.0 means admission kept place order.
fn kendall_tau(pairs: &[(u64, u64)], tie_ms: u64) -> (f64, usize) {
    let (mut concordant, mut discordant) = (0usize, 0usize);
    for (i, a) in pairs.iter().enumerate() {
        for b in &pairs[i + 1..] {
            if a.1.abs_diff(b.1) < tie_ms || a.0 == b.0 {
                continue;
            }
            if (a.0 < b.0) == (a.1 < b.1) {
                concordant += 1;
            } else {
                discordant += 1;
            }
        }
    }
    let compared = concordant + discordant;
    let tau = if compared == 0 {
        1.0
    } else {
        (concordant as f64 - discordant as f64) / compared as f64
    };
    (tau, compared)
}

/// The `jti` of an admission token: admissions of one sale are numbered in the order the store
/// gave them.
fn admission_jti(token: &str) -> u64 {
    match picket_tests::gateway::test_keys().verify(token, now_ms()) {
        Ok(picket_edge::token::Claims::Admission { jti, .. }) => jti,
        other => panic!("not an admission token: {other:?}"),
    }
}

fn place_of(message: &serde_json::Value) -> u64 {
    message["place"]
        .as_u64()
        .unwrap_or_else(|| panic!("no place in {message}"))
}

/// Waits for a `queue` message that carries a place.
async fn placed(client: &mut Client) -> u64 {
    loop {
        let message = client.next_of("queue").await;
        if message["place"].is_u64() {
            return place_of(&message);
        }
    }
}

/// Three gateways over one real Redis: a pre-queue drawn at the open, later arrivals first in
/// first out, places unique and dense, two tabs of one user sharing a place, a reconnect to
/// another gateway keeping its place, and admission in place order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_gateways_share_one_fair_queue() {
    let redis = picket_tests::Redis::start().expect("redis");
    let store: Arc<dyn QueueStore> = Arc::new(RedisStore::connect(&redis.url()).expect("redis"));
    let cluster = Cluster::start(3, store, fast).await;
    cluster.open(small_spec(SALE, 400)).await;
    let open_at_ms = now_ms() + 1_500;
    let mut settings = sale_settings(open_at_ms, 20, 1_000);
    settings["paused"] = json!(true);
    let (status, body) = configure_sale(cluster.address(0), SALE, &settings).await;
    assert_eq!(status, 200, "{body}");
    let seed_hash = serde_json::from_str::<serde_json::Value>(&body).expect("view")["seed_hash"]
        .as_str()
        .expect("seed hash published before the open")
        .to_owned();

    // Before the open: 24 join the pre-queue across the three gateways.
    let mut early = Vec::new();
    let mut entries = Vec::new();
    for n in 0..24 {
        let mut client = Client::guest(cluster.address(n % 3), &device(n)).await;
        client
            .send(json!({"type": "join", "sale": SALE.to_string()}))
            .await;
        let queue = client.next_of("queue").await;
        assert_eq!(queue["status"], "pre_queue", "{queue}");
        assert_eq!(queue["seed_hash"], seed_hash.as_str());
        let entry = queue["draw_entry"]
            .as_str()
            .expect("a pre-queue client's draw entry");
        entries.push((entry.to_owned(), client.identity.clone()));
        early.push(client);
    }
    tokio::time::sleep(Duration::from_millis(
        open_at_ms.saturating_sub(now_ms()) + 300,
    ))
    .await;
    // After the open: 24 more, one after another, each told its place before the next joins.
    let mut late = Vec::new();
    for n in 24..48 {
        let mut client = Client::guest(cluster.address(n % 3), &device(n)).await;
        client
            .send(json!({"type": "join", "sale": SALE.to_string()}))
            .await;
        late.push((placed(&mut client).await, client));
    }
    let mut early_places = Vec::new();
    for client in &mut early {
        early_places.push(placed(client).await);
    }
    let mut all: Vec<u64> = early_places.clone();
    all.extend(late.iter().map(|(place, _)| *place));
    all.sort();
    assert_eq!(
        all,
        (1..=48).collect::<Vec<_>>(),
        "places are unique and dense"
    );
    let late_places: Vec<u64> = late.iter().map(|(p, _)| *p).collect();
    assert_eq!(
        late_places,
        (25..=48).collect::<Vec<_>>(),
        "later arrivals are first in, first out"
    );

    // The draw is auditable: the revealed seed hashes to the published commitment and orders
    // the published draw entries; each client finds its own entry at its place, and the list
    // names nobody by the plain hash of an identity.
    let (status, audit) = picket_tests::gateway::http(
        cluster.address(2),
        "GET",
        &format!("/api/v2/sales/{SALE}/draw"),
        None,
        false,
    )
    .await;
    assert_eq!(status, 200, "{audit}");
    let audit: serde_json::Value = serde_json::from_str(&audit).expect("audit json");
    let seed = audit["seed"].as_str().expect("seed revealed");
    assert_eq!(picket_room::draw::seed_hash(seed), seed_hash);
    let order: Vec<String> = serde_json::from_value(audit["order"].clone()).expect("order");
    assert_eq!(order.len(), 24);
    assert!(picket_room::draw::verify_audit(seed, &order));
    for ((entry, identity), place) in entries.iter().zip(&early_places) {
        assert_eq!(
            &order[*place as usize - 1],
            entry,
            "{identity} at place {place}"
        );
        // `seed_hash` is SHA-256 of hex-given bytes: here, of the identity itself.
        let identity_hex: String = identity.bytes().map(|b| format!("{b:02x}")).collect();
        let plain = picket_room::draw::seed_hash(&identity_hex);
        assert!(!order.contains(&plain), "the audit names {identity}");
    }

    // A second tab of the first early user, on another gateway, shares its place.
    let mut tab = Client::guest(cluster.address(1), &device(0)).await;
    tab.send(json!({"type": "join", "sale": SALE.to_string()}))
        .await;
    assert_eq!(
        placed(&mut tab).await,
        early_places[0],
        "one place per identity"
    );

    // A late user drops and reconnects to another gateway: same place.
    let (place, dropped) = late.remove(5);
    drop(dropped);
    let mut back = Client::guest(cluster.address(2), &device(29)).await;
    back.send(json!({"type": "join", "sale": SALE.to_string()}))
        .await;
    assert_eq!(
        placed(&mut back).await,
        place,
        "a reconnect keeps its place"
    );
    late.insert(5, (place, back));

    // Resume admission at 20/s. The order of admission is the store's: each admission's `jti`
    // counts admissions per sale, so comparing places with jtis checks FIFO whatever the order
    // the admitted messages happen to arrive in on a busy machine. Arrival times only show that
    // the rate spread the admissions over several rounds.
    settings["paused"] = json!(false);
    let (status, body) = configure_sale(cluster.address(1), SALE, &settings).await;
    assert_eq!(status, 200, "{body}");
    let started = std::time::Instant::now();
    let mut tasks = Vec::new();
    for (place, client) in early_places.into_iter().zip(early).chain(late) {
        tasks.push(tokio::spawn(async move {
            let mut client = client;
            let admitted = client.next_of("admitted").await;
            let token = admitted["token"].as_str().expect("token").to_owned();
            let arrived_ms = started.elapsed().as_millis() as u64;
            (place, admission_jti(&token), arrived_ms)
        }));
    }
    let mut admitted = Vec::new();
    for task in tasks {
        admitted.push(task.await.expect("admitted"));
    }
    let by_jti: Vec<(u64, u64)> = admitted.iter().map(|(p, jti, _)| (*p, *jti)).collect();
    let fifo: Vec<(u64, u64)> = by_jti.iter().copied().filter(|(p, _)| *p > 24).collect();
    let (tau_fifo, _) = kendall_tau(&fifo, 0);
    let (tau_all, _) = kendall_tau(&by_jti, 0);
    let by_arrival: Vec<(u64, u64)> = admitted.iter().map(|(p, _, ms)| (*p, *ms)).collect();
    let (_, rounds_apart) = kendall_tau(&by_arrival, 150);
    println!(
        "admission order: Kendall tau {tau_all:.3} overall, {tau_fifo:.3} for the FIFO part; \
         {rounds_apart} pairs admitted 150 ms or more apart"
    );
    assert!(rounds_apart > 50, "admissions spread over several rounds");
    assert_eq!(tau_fifo, 1.0, "later arrivals are admitted in place order");
    assert!(
        tau_all >= 0.99,
        "drawn places are admitted in place order too: {tau_all}"
    );
}

/// When the last seat goes, admission stops and every waiting client is told at once, and
/// offered the performance's cancellation waitlist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn selling_out_tells_every_waiting_client() {
    let told = sell_out(true).await;
    let invite = json!({"performance": SALE.to_string(),
        "join": format!("/api/v2/performances/{SALE}/waitlist")});
    for queue in &told {
        assert_eq!(queue["waitlist"], invite, "{queue}");
    }
}

/// A performance whose waitlist is off is sold out with no invitation to one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sold_out_performance_without_a_waitlist_offers_none() {
    for queue in sell_out(false).await {
        assert!(queue.get("waitlist").is_none(), "{queue}");
    }
}

/// Sells a two-seat performance out while four clients wait on two gateways: the `queue`
/// message each of them hears with status `sold_out`.
async fn sell_out(waitlist_enabled: bool) -> Vec<serde_json::Value> {
    let store: Arc<dyn QueueStore> = Arc::new(MemoryStore::new());
    let cluster = Cluster::start(2, store, fast).await;
    let mut spec = small_spec(SALE, 2);
    spec.waitlist.enabled = waitlist_enabled;
    cluster.open(spec).await;
    let settings = sale_settings(now_ms(), 1, 1);
    configure_sale(cluster.address(0), SALE, &settings).await;
    let mut buyer = Client::guest(cluster.address(0), &device(1)).await;
    buyer
        .send(json!({"type": "join", "sale": SALE.to_string()}))
        .await;
    let token = buyer.next_of("admitted").await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let mut waiting = Vec::new();
    for n in 2..6 {
        let mut client = Client::guest(cluster.address(n % 2), &device(n)).await;
        client
            .send(json!({"type": "join", "sale": SALE.to_string()}))
            .await;
        let queue = client.next_of("queue").await;
        assert_eq!(queue["status"], "open");
        assert!(
            queue.get("waitlist").is_none(),
            "offered only once sold out"
        );
        waiting.push(client);
    }
    buyer
        .send(
            json!({"type": "hold", "id": "h", "sale": SALE.to_string(), "key": "k", "admission": token,
            "selection": {"BestAvailable": {"grade": 0, "count": 2}}}),
        )
        .await;
    assert!(buyer.next_of("result").await["outcome"]["Ok"]["Held"].is_object());
    let mut told = Vec::new();
    for client in &mut waiting {
        let mut heard = None;
        for _ in 0..20 {
            let queue = client.next_of("queue").await;
            if queue["status"] == "sold_out" {
                heard = Some(queue);
                break;
            }
        }
        told.push(heard.expect("every waiting client hears the sale sold out"));
    }
    told
}

/// A pre-queue that takes far longer to draw than the controller's lease lasts is still drawn:
/// each chunk renews the lease (a 100,000-client stampede found the draw restarting forever when
/// the lease lapsed mid-draw).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_pre_queue_is_drawn_though_it_outlasts_the_lease() {
    const IDENTITIES: usize = 30_000;
    const LEASE_MS: u64 = 20;
    let redis = picket_tests::Redis::start().expect("redis");
    let store = Arc::new(RedisStore::connect(&redis.url()).expect("redis store"));
    let open_at_ms = now_ms() + 60_000;
    let settings =
        serde_json::from_value(sale_settings(open_at_ms, 1_000, 1_000)).expect("settings");
    store.configure(SALE, settings).await.expect("configure");
    let mut joiners = Vec::new();
    for worker in 0..32 {
        let store = store.clone();
        joiners.push(tokio::spawn(async move {
            for n in (worker..IDENTITIES).step_by(32) {
                store
                    .join(SALE, &format!("g:{}", device(n)))
                    .await
                    .expect("join");
            }
        }));
    }
    for joiner in joiners {
        joiner.await.expect("joiner");
    }
    // Open now: the pre-queue is closed and due to be drawn.
    let mut settings: picket_room::SaleSettings =
        serde_json::from_value(sale_settings(now_ms(), 1_000, 1_000)).expect("settings");
    settings.open_at_ms = now_ms();
    store.configure(SALE, settings).await.expect("open");
    let step = store
        .advance(SALE, "gw-a", LEASE_MS)
        .await
        .expect("advance");
    assert!(step.leader && step.draw_due, "{step:?}");
    store.draw(SALE, "gw-a", LEASE_MS).await.expect("draw");
    let drawn = store.audit(SALE).await.expect("audit");
    assert_eq!(
        drawn.len(),
        IDENTITIES,
        "every pre-queued identity has a drawn place"
    );
}

/// Replaying a paid `confirm` under a newer admission gets the old outcome back. Once the
/// gateway tells the client that admission ended (`admission_expired`: queue again), its token
/// books nothing more: the gateway's view of an admission and the token check agree.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admission_the_gateway_ended_books_nothing() {
    let cluster = open_sale_in_memory().await;
    let address = cluster.address(0);

    let mut buyer = Client::guest(address, &device(1)).await;
    buyer
        .send(json!({"type": "join", "sale": SALE.to_string()}))
        .await;
    let first = buyer.next_of("admitted").await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    buyer
        .send(
            json!({"type": "hold", "id": "h1", "sale": SALE.to_string(), "key": "k1", "admission": first,
            "selection": {"Seats": [0]}}),
        )
        .await;
    let held = buyer.next_of("result").await;
    let hold = picket_tests::ids::id(&held["outcome"]["Ok"]["Held"]["hold"]);
    let amount = held["outcome"]["Ok"]["Held"]["amount_won"]
        .as_u64()
        .expect("amount");
    let checkout = buyer.checkout(SALE, hold).await;
    assert_eq!(checkout["amount_won"], amount, "{checkout}");
    let paid = cluster
        .sandbox
        .pay_checkout(&checkout, CARD_OK)
        .await
        .expect("authorised");
    let (order_id, payment_key) = (paid.order_id, paid.payment_key);
    let confirmed = buyer
        .confirm(SALE, &first, hold, "k2", &payment_key, &order_id)
        .await;
    assert!(
        confirmed["outcome"]["Ok"]["Confirmed"].is_object(),
        "{confirmed}"
    );
    let ended = buyer.next_of("error").await;
    assert_eq!(ended["code"], "admission_expired", "{ended}");

    // Queue again and be admitted again, then replay the paid confirm under the new admission.
    buyer
        .send(json!({"type": "join", "sale": SALE.to_string()}))
        .await;
    let second = buyer.next_of("admitted").await["token"]
        .as_str()
        .expect("token")
        .to_owned();
    assert_ne!(first, second);
    let replayed = buyer
        .confirm(SALE, &second, hold, "k2", &payment_key, &order_id)
        .await;
    assert_eq!(
        replayed["outcome"], confirmed["outcome"],
        "a retried key gets the same outcome"
    );
    // Whether the gateway ends the new admission or keeps it, what it says and what the token
    // can do must agree: book with the token, and hear what the gateway says meanwhile or soon.
    buyer
        .send(
            json!({"type": "hold", "id": "h2", "sale": SALE.to_string(), "key": "k3", "admission": second,
            "selection": {"Seats": [1]}}),
        )
        .await;
    let told_ended = |m: &serde_json::Value| {
        m["type"] == "error" && m["code"] == "admission_expired" && m["id"].is_null()
    };
    let mut ended = false;
    let answer = loop {
        let message = buyer
            .next_within(Duration::from_secs(5))
            .await
            .expect("an answer to the hold");
        ended |= told_ended(&message);
        if message["id"] == "h2" {
            break message;
        }
    };
    if !ended {
        ended = buyer
            .next_of_within("error", Duration::from_secs(2))
            .await
            .is_some_and(|m| told_ended(&m));
    }
    if ended {
        assert_eq!(
            (answer["type"].as_str(), answer["code"].as_str()),
            (Some("error"), Some("admission_expired")),
            "the gateway said the admission ended, yet its token still booked: {answer}"
        );
    } else {
        assert!(
            answer["outcome"]["Ok"]["Held"].is_object(),
            "the admission was kept, so its token books: {answer}"
        );
    }
}
