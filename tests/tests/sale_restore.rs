//! Sales survive a waiting-room store that lost them (issue 12, item 2): with a Redis that runs
//! without persistence, a sale created by publishing (its settings changed by the operator since)
//! and its draw come back after Redis is killed and restarted empty, or flushed — the same
//! settings, the same seed (so the published seed hash still holds), the same audit list and the
//! same places — and joining works again, without an operator doing anything. A restore repeated
//! changes nothing, and a restore never overwrites a sale the store still has.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use picket_edge::clock::now_ms;
use picket_room::memory::MemoryStore;
use picket_room::redis::RedisStore;
use picket_room::{DrawSecrets, DrawnRecord, QueueStore, SaleRecord, SaleSettings, Standing};
use picket_tests::Redis;
use picket_tests::api::{ApiSetup, OPERATOR, call};
use picket_tests::gateway::Client;
use serde_json::{Value, json};

/// Checks of a condition that must come true, 100 ms apart: a bound on how long a test waits,
/// never what it asserts.
const CHECKS_MAX: usize = 600;

async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    for _ in 0..CHECKS_MAX {
        if let Some(value) = check().await {
            return value;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what} never happened");
}

async fn get(address: SocketAddr, path: &str) -> (u16, Value) {
    let answer = call(address, "GET", path, "", None).await;
    (answer.status, answer.body)
}

fn device(n: usize) -> String {
    format!("restore-device-{n:04}")
}

async fn flush(redis: &Redis) {
    let client = redis::Client::open(redis.url()).expect("redis url");
    let mut connection = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect to redis");
    let () = redis::cmd("FLUSHALL")
        .query_async(&mut connection)
        .await
        .expect("flushall");
}

/// Publish → the operator opens the sale in a moment, paused → three buyers wait in the
/// pre-queue → the draw → Redis is killed and started again empty: the sale, its settings, seed,
/// audit list and places come back, and a buyer who joins again is at its drawn place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_published_sale_and_its_draw_come_back_after_redis_restarts_empty() {
    let mut redis = Redis::start().expect("redis without persistence");
    let queue: Arc<dyn QueueStore> = Arc::new(RedisStore::connect(&redis.url()).expect("store"));
    let setup = ApiSetup::start_with_queue(queue.clone(), |_| {}).await;
    let (_, sale) = setup
        .published_show("restore-seller@example.com", "123-45-67891")
        .await;
    let (status, published) = get(setup.address, &format!("/api/v2/sales/{sale}")).await;
    assert_eq!(status, 200, "publishing created the sale: {published}");

    // The operator opens it in a moment, paused (nobody is admitted, so every drawn place stays).
    let mut settings = published["settings"].clone();
    settings["open_at_ms"] = json!(now_ms() + 1_500);
    settings["paused"] = json!(true);
    let changed = call(
        setup.address,
        "PUT",
        &format!("/api/v2/sales/{sale}"),
        &settings.to_string(),
        Some(OPERATOR),
    )
    .await;
    assert_eq!(changed.status, 200, "{:?}", changed.body);
    assert_eq!(
        changed.body["seed_hash"], published["seed_hash"],
        "the seed is fixed when the sale is created"
    );

    let gateway = setup.cluster.address(0);
    let mut buyers = Vec::new();
    for n in 0..3 {
        let mut buyer = Client::guest(gateway, &device(n)).await;
        buyer
            .send(json!({"type": "join", "sale": sale.to_string()}))
            .await;
        let queued = buyer.next_of("queue").await;
        assert_eq!(queued["status"], "pre_queue", "{queued}");
        buyers.push(buyer);
    }
    let identities: Vec<String> = buyers.iter().map(|b| b.identity.clone()).collect();

    let address = setup.address;
    let before = eventually("the draw", || async move {
        let (_, view) = get(address, &format!("/api/v2/sales/{sale}")).await;
        view["seed"].is_string().then_some(view)
    })
    .await;
    let (status, audit) = get(setup.address, &format!("/api/v2/sales/{sale}/draw")).await;
    assert_eq!(status, 200, "{audit}");
    assert_eq!(audit["order"].as_array().map(Vec::len), Some(3), "{audit}");
    let places = queue.standings(sale, &identities).await.expect("standings");
    assert!(
        places
            .iter()
            .all(|standing| matches!(standing, Standing::Waiting { .. })),
        "{places:?}"
    );
    let entries: Vec<String> = {
        let mut entries = Vec::new();
        for identity in &identities {
            entries.push(queue.draw_entry(sale, identity).await.expect("entry"));
        }
        entries
    };
    // The API records the draw within an interval of it.
    eventually("the draw recorded", || {
        let api = setup.api.clone();
        async move {
            let recorded = api.store.sale_drawn(sale as i64).await.expect("db");
            recorded.map(|_| ())
        }
    })
    .await;
    drop(buyers);

    redis.kill().expect("kill redis");
    redis.start_again().expect("start redis again, empty");

    let after = eventually("the sale back", || async move {
        let (status, view) = get(address, &format!("/api/v2/sales/{sale}")).await;
        (status == 200).then_some(view)
    })
    .await;
    for field in [
        "seed_hash",
        "seed",
        "settings",
        "status",
        "prequeue",
        "watermark",
    ] {
        assert_eq!(after[field], before[field], "{field}: {after} vs {before}");
    }
    assert_eq!(
        after["settings"]["paused"], true,
        "the operator's change is kept"
    );
    let (status, audit_after) = get(setup.address, &format!("/api/v2/sales/{sale}/draw")).await;
    assert_eq!(status, 200, "{audit_after}");
    assert_eq!(audit_after, audit, "the same audit");
    assert_eq!(
        queue.standings(sale, &identities).await.expect("standings"),
        places,
        "the same places"
    );

    // A drawn buyer joins again over the socket: its place and draw entry are the same.
    let mut back = Client::guest(gateway, &device(1)).await;
    back.send(json!({"type": "join", "sale": sale.to_string()}))
        .await;
    let queued = back.next_of("queue").await;
    let Standing::Waiting { place } = &places[1] else {
        unreachable!("checked above")
    };
    assert_eq!(queued["place"], *place, "{queued}");
    assert_eq!(queued["draw_entry"], entries[1].as_str(), "{queued}");
    // Someone new joins behind the pre-queue.
    let mut late = Client::guest(gateway, &device(9)).await;
    late.send(json!({"type": "join", "sale": sale.to_string()}))
        .await;
    let queued = late.next_of("queue").await;
    assert_eq!(queued["place"], 4, "{queued}");
}

fn settings(open_at_ms: u64) -> SaleSettings {
    SaleSettings {
        open_at_ms,
        admit_per_sec: 100,
        active_max: 1_000,
        admission_ttl_ms: 600_000,
        seat_limit: 4,
        grace_ms: 30_000,
        paused: false,
    }
}

fn record(open_at_ms: u64, order: &[&str], watermark: u64) -> SaleRecord {
    SaleRecord {
        settings: settings(open_at_ms),
        secrets: DrawSecrets::fresh(),
        drawn: Some(DrawnRecord {
            open_at_ms,
            order: order.iter().map(|s| s.to_string()).collect(),
            watermark,
        }),
    }
}

/// Both stores restore a record the same way (the Lua and the core agree), a second restore
/// changes nothing, and a restore never overwrites a sale the store has.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restore_is_the_same_in_both_stores_idempotent_and_never_overwrites() {
    let redis = Redis::start().expect("redis");
    let redis_store: Arc<dyn QueueStore> =
        Arc::new(RedisStore::connect(&redis.url()).expect("store"));
    let memory: Arc<dyn QueueStore> = Arc::new(MemoryStore::new());
    let opened = now_ms() - 60_000;
    let ids = ["g:a-device-000001", "m:42", "g:a-device-000002", "m:7"];
    let drawn = record(opened, &ids, 1);
    let identities: Vec<String> = [&ids[..], &["m:999"]]
        .concat()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut seen = Vec::new();
    for store in [&redis_store, &memory] {
        assert!(store.restore(5, &drawn).await.expect("restore"));
        let view = store.view(5).await.expect("view");
        let audit = store.audit(5).await.expect("audit");
        let standings = store.standings(5, &identities).await.expect("standings");
        assert!(
            !store.restore(5, &drawn).await.expect("again"),
            "restored once"
        );
        assert_eq!(store.view(5).await.expect("view").seed, view.seed);
        assert_eq!(store.audit(5).await.expect("audit"), audit);
        assert_eq!(
            store.standings(5, &identities).await.expect("standings"),
            standings,
            "a second restore changes nothing"
        );
        assert_eq!(
            view.seed_hash,
            picket_room::draw::seed_hash(&drawn.secrets.seed)
        );
        assert!(
            view.seed.is_some(),
            "a restored drawn sale reveals its seed"
        );
        seen.push((
            (view.settings, view.watermark, view.prequeue, view.tail),
            audit,
            standings,
        ));
    }
    assert_eq!(seen[0], seen[1], "the Redis store and the core agree");
    let (_, audit, standings) = &seen[0];
    assert_eq!(
        audit,
        &picket_room::draw::audit_list(
            &drawn.secrets.entry_key,
            &drawn.drawn.as_ref().expect("drawn").order
        ),
        "the audit is the recorded order's"
    );
    assert_eq!(
        standings,
        &vec![
            Standing::Absent,
            Standing::Waiting { place: 2 },
            Standing::Waiting { place: 3 },
            Standing::Waiting { place: 4 },
            Standing::Absent,
        ],
        "places past the watermark are given back, those before it had their turn"
    );

    // A sale the store has is never overwritten: the operator's later settings stay.
    for store in [&redis_store, &memory] {
        let mut changed = settings(opened);
        changed.admit_per_sec = 3;
        changed.paused = true;
        let view = store
            .configure_with(6, changed.clone(), DrawSecrets::fresh())
            .await
            .expect("configure");
        let stale = record(opened, &ids, 0);
        assert!(!store.restore(6, &stale).await.expect("restore"));
        let kept = store.view(6).await.expect("view");
        assert_eq!(kept.settings, changed);
        assert_eq!(kept.seed_hash, view.seed_hash);
        assert_eq!(kept.prequeue, 0);
    }

    // While a restore holds a sale's lock, the sale is not created under it (the operator is
    // told to try again), so a new sale never mixes with a restore's keys.
    {
        let client = redis::Client::open(redis.url()).expect("redis url");
        let mut connection = client
            .get_multiplexed_async_connection()
            .await
            .expect("connect");
        let () = redis::cmd("SET")
            .arg("pk:{s7}:restoring")
            .arg("another-restorer")
            .arg("PX")
            .arg(60_000)
            .query_async(&mut connection)
            .await
            .expect("set");
        let refused = redis_store.configure(7, settings(opened)).await;
        assert!(
            matches!(refused, Err(picket_room::StoreError::Unavailable(_))),
            "{refused:?}"
        );
        assert!(
            !redis_store.restore(7, &drawn).await.expect("restore"),
            "another restorer holds the lock"
        );
        assert!(redis_store.view(7).await.is_err());
    }

    // A record naming an identity twice is refused, not half restored.
    let twice = record(opened, &["m:1", "m:1"], 0);
    for store in [&redis_store, &memory] {
        assert!(store.restore(8, &twice).await.is_err());
        assert!(store.view(8).await.is_err(), "nothing was created");
    }

    // Flushed, the store gets the same sale back from the same record.
    flush(&redis).await;
    assert!(redis_store.restore(5, &drawn).await.expect("restore"));
    assert_eq!(redis_store.audit(5).await.expect("audit"), seen[0].1);
}

/// Through the API: the pass restores a flushed sale, a repeated pass changes nothing, and a
/// pass never touches a sale the store still has (the operator's settings stay as set).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_pass_restores_once_and_keeps_what_the_store_has() {
    let redis = Redis::start().expect("redis");
    let queue: Arc<dyn QueueStore> = Arc::new(RedisStore::connect(&redis.url()).expect("store"));
    // Passes only when the test runs them.
    let setup = ApiSetup::start_with_queue(queue.clone(), |config| {
        config.sale_restore_interval_ms = picket_api::state::SALE_RESTORE_INTERVAL_MS_MAX;
    })
    .await;
    // The API's own pass runs once at start: wait for it, so the passes below are the only
    // ones that can restore what the flush removes.
    let first_pass = async {
        while setup
            .api
            .sale_restore_passes
            .load(std::sync::atomic::Ordering::Acquire)
            == 0
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    // A guard against a hang, not a timing check: the pass is one read of an empty table.
    tokio::time::timeout(Duration::from_secs(120), first_pass)
        .await
        .expect("the API's start-up restore pass ran");
    let sale = 31;
    let later = settings(now_ms() + 3_600_000);
    let put = |body: &SaleSettings| {
        let body = serde_json::to_string(body).expect("encode");
        let address = setup.address;
        async move {
            call(
                address,
                "PUT",
                &format!("/api/v2/sales/{sale}"),
                &body,
                Some(OPERATOR),
            )
            .await
        }
    };
    assert_eq!(put(&later).await.status, 200);
    let (_, created) = get(setup.address, &format!("/api/v2/sales/{sale}")).await;

    flush(&redis).await;
    assert_eq!(
        get(setup.address, &format!("/api/v2/sales/{sale}")).await.0,
        404
    );
    let pass = picket_api::restore::restore_pass(&setup.api, queue.as_ref(), i64::MIN)
        .await
        .expect("pass");
    assert_eq!(pass.restored, 1, "{pass:?}");
    let (_, restored) = get(setup.address, &format!("/api/v2/sales/{sale}")).await;
    assert_eq!(restored, created, "the same sale");
    let again = picket_api::restore::restore_pass(&setup.api, queue.as_ref(), i64::MIN)
        .await
        .expect("pass");
    assert_eq!(again.restored, 0, "{again:?}");
    assert_eq!(
        get(setup.address, &format!("/api/v2/sales/{sale}")).await.1,
        restored
    );

    // The store still has the sale: a pass leaves it as it is, even when it differs from the
    // record (the record is written first; the store is only ever filled from it when empty).
    let mut direct = later.clone();
    direct.admit_per_sec = 9;
    queue
        .configure(sale, direct.clone())
        .await
        .expect("configure");
    picket_api::restore::restore_pass(&setup.api, queue.as_ref(), i64::MIN)
        .await
        .expect("pass");
    let (_, kept) = get(setup.address, &format!("/api/v2/sales/{sale}")).await;
    assert_eq!(kept["settings"]["admit_per_sec"], 9);
    assert_eq!(kept["seed_hash"], created["seed_hash"]);

    // The operator's change goes to the record first: lost again, the sale comes back as changed.
    let mut paused = later.clone();
    paused.paused = true;
    assert_eq!(put(&paused).await.status, 200);
    flush(&redis).await;
    picket_api::restore::restore_pass(&setup.api, queue.as_ref(), i64::MIN)
        .await
        .expect("pass");
    let (_, back) = get(setup.address, &format!("/api/v2/sales/{sale}")).await;
    assert_eq!(back["settings"]["paused"], true);
    assert_eq!(back["seed_hash"], created["seed_hash"]);
}

/// The record's SQL on PostgreSQL (production's database): a sale drawn in the API's waiting
/// room is recorded by a pass, and a pass into an empty store puts back the same sale and audit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_record_works_on_postgres() {
    let setup = ApiSetup::start_postgres().await;
    let queue = setup.api.queue.clone().expect("a waiting room");
    let sale = 44;
    let open_at_ms = now_ms() + 300;
    let body = serde_json::to_string(&settings(open_at_ms)).expect("encode");
    let path = format!("/api/v2/sales/{sale}");
    let put = call(setup.address, "PUT", &path, &body, Some(OPERATOR)).await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    for identity in ["g:pg-device-000001", "g:pg-device-000002", "m:3"] {
        assert_eq!(
            queue.join(sale, identity).await.expect("join"),
            Standing::PreQueue
        );
    }
    let address = setup.address;
    eventually("the open", || async move {
        let (_, view) = get(address, &format!("/api/v2/sales/{sale}")).await;
        (view["status"] != "pre_queue").then_some(())
    })
    .await;
    queue
        .draw(sale, "test-controller", 2_000)
        .await
        .expect("draw");
    let audit = queue.audit(sale).await.expect("audit");
    assert_eq!(audit.len(), 3);
    let pass = picket_api::restore::restore_pass(&setup.api, queue.as_ref(), i64::MIN)
        .await
        .expect("pass");
    assert_eq!(pass.restored, 0, "{pass:?}");
    // Recorded by this pass, or by the API's own a moment before.
    let recorded = setup.api.store.sale_drawn(sale as i64).await.expect("db");
    assert!(recorded.is_some(), "the draw is recorded");

    let empty = MemoryStore::new();
    let pass = picket_api::restore::restore_pass(&setup.api, &empty, i64::MIN)
        .await
        .expect("pass");
    assert_eq!(pass.restored, 1, "{pass:?}");
    assert_eq!(empty.audit(sale).await.expect("audit"), audit);
    let (before, after) = (
        queue.view(sale).await.expect("view"),
        empty.view(sale).await.expect("view"),
    );
    assert_eq!(
        (after.seed, after.seed_hash, after.settings, after.prequeue),
        (
            before.seed,
            before.seed_hash,
            before.settings,
            before.prequeue
        )
    );
}

/// A sold-out sale comes back sold out: the mark is not in the record, the ledger's events are.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sold_out_sale_comes_back_sold_out() {
    use picket_ledger_core::*;
    let redis = Redis::start().expect("redis");
    let queue: Arc<dyn QueueStore> = Arc::new(RedisStore::connect(&redis.url()).expect("store"));
    let setup = ApiSetup::start_with_queue(queue.clone(), |config| {
        config.sale_restore_interval_ms = picket_api::state::SALE_RESTORE_INTERVAL_MS_MAX;
    })
    .await;
    let sale = 52;
    setup
        .cluster
        .open(picket_tests::gateway::small_spec(sale, 1))
        .await;
    let body = serde_json::to_string(&settings(now_ms() - 1_000)).expect("encode");
    let put = call(
        setup.address,
        "PUT",
        &format!("/api/v2/sales/{sale}"),
        &body,
        Some(OPERATOR),
    )
    .await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    let ledger = &setup.cluster.ledger.handle;
    let hold = Request {
        actor: ActorId(9),
        key: IdempotencyKey::new("sold-out-hold").expect("key"),
        command: Command::Hold {
            performance: PerformanceId(sale),
            selection: Selection::Seats(vec![SeatId(0)]),
            admission: None,
            offer: None,
        },
    };
    let Ok(Ok(Reply::Held {
        hold, amount_won, ..
    })) = ledger.submit(hold).await
    else {
        panic!("held");
    };
    let confirm = Request {
        actor: ActorId(9),
        key: IdempotencyKey::new("sold-out-pay").expect("key"),
        command: Command::Confirm {
            performance: PerformanceId(sale),
            hold,
            payment_ref: "pay-sold-out".into(),
            amount_won,
        },
    };
    assert!(matches!(
        ledger.submit(confirm).await,
        Ok(Ok(Reply::Confirmed { .. }))
    ));
    let api = setup.api.clone();
    eventually("the API sees it sold out", || {
        let api = api.clone();
        async move { (api.seats_left.sold_out(sale) == Some(true)).then_some(()) }
    })
    .await;

    flush(&redis).await;
    let pass = picket_api::restore::restore_pass(&setup.api, queue.as_ref(), i64::MIN)
        .await
        .expect("pass");
    assert_eq!(pass.restored, 1, "{pass:?}");
    assert!(queue.view(sale).await.expect("view").sold_out);
}
