//! Venues through the HTTP API with a real (in-process) ledger: blocked and wheelchair seats
//! from the venue to the ledger (a hold on a blocked seat is refused, best-available skips it,
//! the seats left leave it out), replacing a venue's layout (`PUT /api/v2/venues/{id}`: the
//! owning company only, until a show at it is published or a publish pins it; a PUT racing a
//! publish), and a 50,000-seat stadium saved, read back, published and sold from.

use std::net::SocketAddr;
use std::time::Duration;

use picket_ledger_core::*;
use picket_tests::api::{ApiSetup, call, seller_at};
use serde_json::{Value, json};

/// Section A, one row of 4: seat 2 blocked, seat 3 a wheelchair seat.
fn small_venue(name: &str) -> Value {
    json!({"name": name, "region": "seoul", "address": "서울 종로구", "layout": {"sections": [
        {"name": "A", "rows": [{"name": "1", "seats": [
            {"number": 1, "x": 0, "y": 0},
            {"number": 2, "x": 10, "y": 0, "blocked": true},
            {"number": 3, "x": 20, "y": 0, "wheelchair": true},
            {"number": 4, "x": 30, "y": 0}]}]}], "zones": []}})
}

/// 100 sections of 20 rows of 25 seats: 50,000, every tenth blocked, every 50th a wheelchair
/// seat.
fn stadium() -> Value {
    let sections: Vec<Value> = (0..100u32)
        .map(|s| {
            let rows: Vec<Value> = (0..20)
                .map(|r| {
                    let seats: Vec<Value> = (0..25)
                        .map(|n| {
                            let i = (s * 20 + r) * 25 + n;
                            let mut seat = json!({"number": n + 1, "x": (s % 10) * 300 + n * 10, "y": (s / 10) * 250 + r * 10});
                            if i.is_multiple_of(10) {
                                seat["blocked"] = true.into();
                            }
                            if i % 50 == 5 {
                                seat["wheelchair"] = true.into();
                            }
                            seat
                        })
                        .collect();
                    json!({"name": format!("{}열", r + 1), "seats": seats})
                })
                .collect();
            json!({"name": format!("{}구역", 101 + s), "rows": rows})
        })
        .collect();
    json!({"name": "잠실종합운동장", "region": "seoul", "address": "서울 송파구 올림픽로 25", "layout": {"sections": sections, "zones": []}})
}

async fn create_venue(address: SocketAddr, token: &str, venue: &Value) -> i64 {
    let created = call(
        address,
        "POST",
        "/api/v2/venues",
        &venue.to_string(),
        Some(token),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    picket_tests::ids::id_i64(&created.body["id"])
}

/// A draft show at `venue` with one grade over section(s) `sections` and one performance 20
/// days away: (show id, performance id).
async fn draft_at(address: SocketAddr, token: &str, venue: i64, sections: Value) -> (i64, u64) {
    let show = json!({"title": "콘서트", "category": "concert", "venue_id": venue.to_string(), "description": "",
        "age_rating": "all", "running_minutes": 120, "grades": [{"code": "R", "price_won": 100000, "sections": sections}]});
    let created = call(
        address,
        "POST",
        "/api/v2/shows",
        &show.to_string(),
        Some(token),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let show_id = picket_tests::ids::id_i64(&created.body["id"]);
    let starts = picket_edge::clock::now_ms() + 20 * 24 * 3_600_000;
    let form = json!({"starts_at_ms": starts, "sale_open_at_ms": starts - 10 * 24 * 3_600_000});
    let performance = call(
        address,
        "POST",
        &format!("/api/v2/shows/{show_id}/performances"),
        &form.to_string(),
        Some(token),
    )
    .await;
    assert_eq!(performance.status, 201, "{:?}", performance.body);
    (show_id, picket_tests::ids::id(&performance.body["id"]))
}

/// [`draft_at`], published.
async fn publish_at(address: SocketAddr, token: &str, venue: i64, sections: Value) -> (i64, u64) {
    let (show_id, performance) = draft_at(address, token, venue, sections).await;
    let published = picket_tests::api::publish_show_at(address, token, show_id).await;
    assert_eq!(published.status, 200, "{:?}", published.body);
    (show_id, performance)
}

async fn hold(setup: &ApiSetup, actor: u64, performance: u64, selection: Selection) -> Outcome {
    let request = Request {
        actor: ActorId(actor),
        key: IdempotencyKey::new(format!("venues-{actor}")).expect("key"),
        command: Command::Hold {
            performance: PerformanceId(performance),
            selection,
            admission: None,
            offer: None,
        },
    };
    setup
        .cluster
        .ledger
        .handle
        .submit(request)
        .await
        .expect("committed")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_venue_is_replaced_by_its_company_until_a_performance_is_published() {
    updates(ApiSetup::start_postgres().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_venue_is_replaced_by_its_company_until_a_performance_is_published_on_sqlite() {
    updates(ApiSetup::start().await).await;
}

async fn updates(setup: ApiSetup) {
    let address = setup.address;
    let owner = seller_at(address, "owner@example.com", "123-45-67891").await;
    let other = seller_at(address, "other@example.com", "220-81-62517").await;
    let venue = create_venue(address, &owner, &small_venue("소극장")).await;
    let path = format!("/api/v2/venues/{venue}");

    // Read back as sent: the flags where they are true, and on the seats with ids.
    let read = call(address, "GET", &path, "", None).await;
    assert_eq!(read.status, 200, "{:?}", read.body);
    assert_eq!(read.body["layout"], small_venue("소극장")["layout"]);
    assert_eq!(read.body["address"], "서울 종로구");
    let seats = read.body["seats"].as_array().expect("seats");
    assert_eq!(seats[1]["blocked"], true, "{seats:?}");
    assert_eq!(seats[2]["wheelchair"], true, "{seats:?}");
    assert!(seats[0].get("blocked").is_none(), "{seats:?}");

    // Another company's seller may not; an unknown venue is 404; an invalid layout is 422.
    let mut bigger = small_venue("소극장 (개보수)");
    bigger["layout"]["sections"][0]["rows"]
        .as_array_mut()
        .expect("rows")
        .push(json!({"name": "2", "seats": [{"number": 1, "x": 0, "y": 10, "wheelchair": true}]}));
    let refused = call(address, "PUT", &path, &bigger.to_string(), Some(&other)).await;
    assert_eq!(
        (refused.status, refused.body["code"].as_str()),
        (403, Some("forbidden")),
        "{:?}",
        refused.body
    );
    let unknown = call(
        address,
        "PUT",
        "/api/v2/venues/1",
        &bigger.to_string(),
        Some(&owner),
    )
    .await;
    assert_eq!(unknown.status, 404, "{:?}", unknown.body);
    let mut invalid = bigger.clone();
    invalid["layout"]["sections"][0]["rows"][1]["name"] = json!("1");
    let invalid = call(address, "PUT", &path, &invalid.to_string(), Some(&owner)).await;
    assert_eq!(invalid.status, 422, "{:?}", invalid.body);
    let unchanged = call(address, "GET", &path, "", None).await;
    assert_eq!(unchanged.body["layout"], small_venue("소극장")["layout"]);

    // The owner replaces it: the new layout is what everyone reads and what shows use.
    let replaced = call(address, "PUT", &path, &bigger.to_string(), Some(&owner)).await;
    assert_eq!(replaced.status, 200, "{:?}", replaced.body);
    assert_eq!(replaced.body["seats"], 5);
    assert_eq!(replaced.body["name"], "소극장 (개보수)");
    let read = call(address, "GET", &path, "", None).await;
    assert_eq!(read.body["layout"], bigger["layout"]);
    assert_eq!(read.body["seats"].as_array().expect("seats").len(), 5);
    let listed = call(
        address,
        "GET",
        "/api/v2/companies/mine/venues",
        "",
        Some(&owner),
    )
    .await;
    assert_eq!(listed.body["items"][0]["seats"], 5, "{:?}", listed.body);

    // A publish pins the venue before it reads the map and releases the pin when it fails
    // before asking the ledger: here the show's one grade covers section A, which the venue
    // no longer has (a draft does not pin it), so publishing is refused and the venue is free.
    let (draft, performance) = draft_at(address, &owner, venue, json!(["A"])).await;
    let mut renamed = bigger.clone();
    renamed["layout"]["sections"][0]["name"] = json!("B");
    let put = call(address, "PUT", &path, &renamed.to_string(), Some(&owner)).await;
    assert_eq!(put.status, 200, "{:?}", put.body);
    let failed = picket_tests::api::publish_show_at(address, &owner, draft).await;
    assert_eq!(failed.status, 422, "{:?}", failed.body);
    let back = call(address, "PUT", &path, &bigger.to_string(), Some(&owner)).await;
    assert_eq!(back.status, 200, "{:?}", back.body);
    let read = call(address, "GET", &path, "", None).await;
    assert_eq!(read.body["layout"], bigger["layout"]);

    // A publish in progress (pinned, its map read, not yet at the ledger): the PUT is refused
    // and the map stays; released, the PUT goes through.
    let store = &setup.api.store;
    let now_ms = picket_edge::clock::now_ms() as i64;
    let attempt = now_ms << 8;
    let kept = store
        .pin_venue(draft, venue, attempt, now_ms)
        .await
        .expect("pinned");
    assert!(!kept);
    let pinned = call(address, "PUT", &path, &renamed.to_string(), Some(&owner)).await;
    assert_eq!(
        (pinned.status, pinned.body["code"].as_str()),
        (409, Some("venue_in_use")),
        "{:?}",
        pinned.body
    );
    let read = call(address, "GET", &path, "", None).await;
    assert_eq!(read.body["layout"], bigger["layout"]);
    store
        .release_venue_pin(draft, attempt)
        .await
        .expect("released");
    let released = call(address, "PUT", &path, &bigger.to_string(), Some(&owner)).await;
    assert_eq!(released.status, 200, "{:?}", released.body);

    // A crashed publish's pin lapses: the PUT drops it, and should the attempt still be
    // running it cannot keep the pin (it opens nothing with the map it read).
    let lapse_ms = picket_api::store::catalog::PUBLISH_PIN_CHECK_MS_MAX as i64;
    let stale = attempt + 1;
    store
        .pin_venue(draft, venue, stale, now_ms - lapse_ms - 1_000)
        .await
        .expect("pinned");
    let lapsed = call(address, "PUT", &path, &bigger.to_string(), Some(&owner)).await;
    assert_eq!(lapsed.status, 200, "{:?}", lapsed.body);
    assert!(!store.keep_venue_pin(draft, stale).await.expect("kept?"));
    // A pin taken over by a later attempt of the show is the later attempt's alone.
    store
        .pin_venue(draft, venue, attempt, now_ms)
        .await
        .expect("pinned");
    store
        .pin_venue(draft, venue, attempt + 2, now_ms)
        .await
        .expect("pinned");
    assert!(!store.keep_venue_pin(draft, attempt).await.expect("kept?"));
    store
        .release_venue_pin(draft, attempt)
        .await
        .expect("released");
    let taken_over = call(address, "PUT", &path, &bigger.to_string(), Some(&owner)).await;
    assert_eq!(taken_over.status, 409, "{:?}", taken_over.body);
    // Kept (the ledger may be selling the map): never released, and the next attempt finds it
    // kept.
    assert!(
        store
            .keep_venue_pin(draft, attempt + 2)
            .await
            .expect("kept")
    );
    store
        .release_venue_pin(draft, attempt + 2)
        .await
        .expect("released");
    assert!(
        store
            .pin_venue(draft, venue, attempt + 3, now_ms)
            .await
            .expect("pinned")
    );
    let kept = call(address, "PUT", &path, &bigger.to_string(), Some(&owner)).await;
    assert_eq!(kept.status, 409, "{:?}", kept.body);

    // Published, the show keeps the venue pinned.
    let published = picket_tests::api::publish_show_at(address, &owner, draft).await;
    assert_eq!(published.status, 200, "{:?}", published.body);
    let in_use = call(
        address,
        "PUT",
        &path,
        &small_venue("x").to_string(),
        Some(&owner),
    )
    .await;
    assert_eq!(
        (in_use.status, in_use.body["code"].as_str()),
        (409, Some("venue_in_use")),
        "{:?}",
        in_use.body
    );
    let read = call(address, "GET", &path, "", None).await;
    assert_eq!(read.body["layout"], bigger["layout"]);

    // The published performance sells what the venue said: seat id 1 (A 1-2) is blocked.
    let blocked = hold(&setup, 1, performance, Selection::Seats(vec![SeatId(1)])).await;
    assert_eq!(blocked, Err(Rejection::SeatTaken { seat: SeatId(1) }));
    let wheelchair = hold(&setup, 2, performance, Selection::Seats(vec![SeatId(2)])).await;
    assert!(
        matches!(wheelchair, Ok(Reply::Held { .. })),
        "{wheelchair:?}"
    );
}

/// PUTs the racing task sends at most (it stops at its first 409).
const RACING_PUTS_MAX: usize = 2_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_racing_a_publish_never_changes_the_map_on_sale() {
    put_racing_publish(ApiSetup::start_postgres().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_put_racing_a_publish_never_changes_the_map_on_sale_on_sqlite() {
    put_racing_publish(ApiSetup::start().await).await;
}

/// The seller saves the venue over and over, alternating a map of 4 seats and one of 5, while
/// the show at it is published: whichever PUTs land before the publish pins the venue, the map
/// the venue ends with is the one the ledger sells, and every PUT after the pin is refused.
async fn put_racing_publish(setup: ApiSetup) {
    let address = setup.address;
    let owner = seller_at(address, "racer@example.com", "123-45-67891").await;
    let four = small_venue("경합");
    let mut five = four.clone();
    five["layout"]["sections"][0]["rows"][0]["seats"]
        .as_array_mut()
        .expect("seats")
        .push(json!({"number": 5, "x": 40, "y": 0}));
    let venue = create_venue(address, &owner, &four).await;
    let (show, performance) = draft_at(address, &owner, venue, json!(["A"])).await;
    let path = format!("/api/v2/venues/{venue}");
    let (first_put, first_put_seen) = tokio::sync::oneshot::channel();
    let putter = {
        let owner = owner.clone();
        tokio::spawn(async move {
            let mut first_put = Some(first_put);
            for n in 0..RACING_PUTS_MAX {
                let body = if n % 2 == 0 { &five } else { &four };
                let put = call(address, "PUT", &path, &body.to_string(), Some(&owner)).await;
                if let Some(first) = first_put.take() {
                    let _ = first.send(());
                }
                match put.status {
                    200 => continue,
                    409 => return (n, put.body["code"].clone()),
                    _ => panic!("{} {:?}", put.status, put.body),
                }
            }
            panic!("{RACING_PUTS_MAX} PUTs and none refused");
        })
    };
    first_put_seen.await.expect("the first PUT");
    let published = picket_tests::api::publish_show_at(address, &owner, show).await;
    assert_eq!(published.status, 200, "{:?}", published.body);
    let (saved, code) = putter.await.expect("the PUTs");
    assert_eq!(code, "venue_in_use");
    assert!(saved > 0, "no PUT landed before the publish");

    let read = call(address, "GET", &format!("/api/v2/venues/{venue}"), "", None).await;
    let seats_read = read.body["seats"].as_array().expect("seats").len();
    let ledger =
        picket_ledger_client::LedgerClient::in_process(setup.cluster.ledger.handle.clone());
    let subscription = ledger.subscribe().await.expect("subscribe");
    let on_sale = subscription
        .availability
        .iter()
        .find(|a| a.performance == PerformanceId(performance))
        .expect("the performance's seat map");
    assert_eq!(on_sale.seat_free.len(), seats_read, "after {saved} PUTs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_seat_is_never_sold_and_never_counted_as_left() {
    let setup = ApiSetup::start().await;
    let address = setup.address;
    let token = seller_at(address, "blocked@example.com", "123-45-67891").await;
    let venue = create_venue(address, &token, &small_venue("소극장")).await;
    let (show, performance) = publish_at(address, &token, venue, json!(["A"])).await;
    // The buyers' page counts three seats left, not four (the read model follows the ledger:
    // read until it has the performance).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    let left = loop {
        let page = call(address, "GET", &format!("/api/v2/shows/{show}"), "", None).await;
        assert_eq!(page.status, 200, "{:?}", page.body);
        let left = page.body["performances"][0]["grades"][0]["left"].clone();
        if !left.is_null() || tokio::time::Instant::now() > deadline {
            break left;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(left, 3);
    // Named alone or with a free seat: refused by the ledger.
    for seats in [vec![SeatId(1)], vec![SeatId(0), SeatId(1)]] {
        let outcome = hold(
            &setup,
            10 + seats.len() as u64,
            performance,
            Selection::Seats(seats),
        )
        .await;
        assert_eq!(outcome, Err(Rejection::SeatTaken { seat: SeatId(1) }));
    }
    // Best-available takes the three free ones and finds no fourth.
    let four = hold(
        &setup,
        20,
        performance,
        Selection::BestAvailable {
            grade: GradeId(0),
            count: 4,
        },
    )
    .await;
    assert_eq!(four, Err(Rejection::NotEnoughAvailable { available: 3 }));
    let three = hold(
        &setup,
        21,
        performance,
        Selection::BestAvailable {
            grade: GradeId(0),
            count: 3,
        },
    )
    .await;
    let Ok(Reply::Held { mut places, .. }) = three else {
        panic!("{three:?}");
    };
    places.sort();
    assert_eq!(
        places,
        vec![
            Place::Seat(SeatId(0)),
            Place::Seat(SeatId(2)),
            Place::Seat(SeatId(3))
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_50000_seat_stadium_is_saved_read_back_published_and_sold_from() {
    let setup = ApiSetup::start().await;
    let address = setup.address;
    let token = seller_at(address, "stadium@example.com", "123-45-67891").await;
    let stadium = stadium();
    let venue = create_venue(address, &token, &stadium).await;
    let read = call(address, "GET", &format!("/api/v2/venues/{venue}"), "", None).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body["layout"], stadium["layout"]);
    let seats = read.body["seats"].as_array().expect("seats");
    assert_eq!(seats.len(), 50_000);
    assert_eq!(seats[49_990]["blocked"], true);
    assert_eq!(seats[49_955]["wheelchair"], true);
    // The same layout again (PUT) while nothing is published.
    let again = call(
        address,
        "PUT",
        &format!("/api/v2/venues/{venue}"),
        &stadium.to_string(),
        Some(&token),
    )
    .await;
    assert_eq!(again.status, 200, "{:?}", again.body);
    assert_eq!(again.body["seats"], 50_000);

    let sections: Vec<String> = (0..100).map(|s| format!("{}구역", 101 + s)).collect();
    let (_, performance) = publish_at(address, &token, venue, json!(sections)).await;
    let free = hold(
        &setup,
        1,
        performance,
        Selection::Seats(vec![SeatId(49_999)]),
    )
    .await;
    assert!(matches!(free, Ok(Reply::Held { .. })), "{free:?}");
    let blocked = hold(
        &setup,
        2,
        performance,
        Selection::Seats(vec![SeatId(49_990)]),
    )
    .await;
    assert_eq!(
        blocked,
        Err(Rejection::SeatTaken {
            seat: SeatId(49_990)
        })
    );
    // The live seat map (what the gateway's `seats` messages carry) starts with the blocked
    // seats taken.
    let ledger =
        picket_ledger_client::LedgerClient::in_process(setup.cluster.ledger.handle.clone());
    let subscription = ledger.subscribe().await.expect("subscribe");
    let map = subscription
        .availability
        .iter()
        .find(|a| a.performance == PerformanceId(performance))
        .expect("the stadium's seat map");
    assert_eq!(map.seat_free.len(), 50_000);
    assert!(!map.seat_free[49_990] && !map.seat_free[49_999] && map.seat_free[49_998]);
    assert_eq!(
        map.seat_free.iter().filter(|free| **free).count(),
        45_000 - 1
    );
}
