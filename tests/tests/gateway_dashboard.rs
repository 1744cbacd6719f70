//! The seller's live dashboard over `/ws` (docs/protocol.md, "The seller's dashboard") and the
//! seller's sale controls (`PUT /api/v2/performances/{id}/sale`), against a real gateway, API,
//! ledger and waiting room: only the show's seller (or an admin) gets a performance's
//! dashboard, a booking the ledger commits reaches it, it is sent at a bounded rate, a pause
//! the seller sets reaches the buyers waiting in the queue, each seat's state (held, sold,
//! reserved for the waitlist) shows as the ledger has it, and a session that signs out stops
//! getting the dashboard (`dashboard_ended`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use picket_edge::clock::now_ms;
use picket_ledger_core::{ActorId, Command, IdempotencyKey, PerformanceId, Reply, Request};
use picket_room::memory::MemoryStore;
use picket_tests::api::{PASSWORD, business_number, call, published_show_at, sign_in_at};
use picket_tests::gateway::{Client, Cluster, configure_sale, sale_settings};
use serde_json::{Value, json};

/// The longest a wait for the gateway, the projection or the queue may take before it fails.
const PATIENCE: Duration = Duration::from_secs(20);

/// The gateways' `dashboard_session_ttl` here (5 s by default): a signed-out session's
/// dashboard ends sooner.
const SESSION_TTL: Duration = Duration::from_millis(500);

struct Setup {
    cluster: Cluster,
    performance: u64,
    seller: String,
    other_seller: String,
    buyer: String,
}

impl Setup {
    fn address(&self) -> SocketAddr {
        self.cluster.address(0)
    }
}

/// Two sellers with a published show each (the first one's performance is the one watched: VIP
/// 10 seats at 160,000원, R 4 at 140,000원, S a floor of 100 at 110,000원) and a buyer.
async fn setup() -> Setup {
    let cluster = Cluster::start(1, Arc::new(MemoryStore::new()), |config| {
        config.dashboard_session_ttl = SESSION_TTL;
    })
    .await;
    let address = cluster.address(0);
    let (_, performance) = published_show_at(
        address,
        "seller@example.com",
        &business_number(1),
        json!({}),
        100,
    )
    .await;
    published_show_at(
        address,
        "other@example.com",
        &business_number(2),
        json!({}),
        100,
    )
    .await;
    let form = json!({"email": "buyer@example.com", "password": PASSWORD, "name": "회원"});
    let created = call(address, "POST", "/api/v2/accounts", &form.to_string(), None).await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    Setup {
        performance,
        seller: sign_in_at(address, "seller@example.com").await,
        other_seller: sign_in_at(address, "other@example.com").await,
        buyer: sign_in_at(address, "buyer@example.com").await,
        cluster,
    }
}

async fn signed_in(address: SocketAddr, token: &str) -> Client {
    Client::hello(address, json!({"type": "hello", "token": token})).await
}

fn dashboard(performance: u64) -> Value {
    json!({"type": "dashboard", "performance": performance.to_string()})
}

/// Submits `command` to the ledger as `actor` with the idempotency key `key`.
async fn submit(setup: &Setup, actor: u64, key: String, command: Command) -> Reply {
    let request = Request {
        actor: ActorId(actor),
        key: IdempotencyKey::new(key).expect("key"),
        command,
    };
    let outcome = setup
        .cluster
        .ledger
        .handle
        .submit(request)
        .await
        .expect("submitted");
    outcome.unwrap_or_else(|rejection| panic!("refused: {rejection:?}"))
}

/// Holds `seats` of the performance straight through the ledger as `actor`: (hold, amount).
async fn hold(setup: &Setup, actor: u64, seats: &[u32]) -> (picket_ledger_core::HoldId, u64) {
    use picket_ledger_core::{SeatId, Selection};
    let held = submit(
        setup,
        actor,
        format!("hold-{actor}"),
        Command::Hold {
            performance: PerformanceId(setup.performance),
            selection: Selection::Seats(seats.iter().map(|s| SeatId(*s)).collect()),
            admission: None,
            offer: None,
        },
    )
    .await;
    let Reply::Held {
        hold, amount_won, ..
    } = held
    else {
        panic!("held: {held:?}");
    };
    (hold, amount_won)
}

/// Books `seats` of `performance` straight through the ledger as `actor` (as a paid buyer's
/// gateway would): the amount the ledger priced, the booking and its tickets.
async fn book_tickets(
    setup: &Setup,
    actor: u64,
    seats: &[u32],
) -> (
    u64,
    picket_ledger_core::BookingId,
    Vec<picket_ledger_core::TicketId>,
) {
    let (hold, amount_won) = hold(setup, actor, seats).await;
    let paid = submit(
        setup,
        actor,
        format!("pay-{actor}"),
        Command::Confirm {
            performance: PerformanceId(setup.performance),
            hold,
            payment_ref: format!("pay-ref-{actor}"),
            amount_won,
        },
    )
    .await;
    let Reply::Confirmed {
        booking, tickets, ..
    } = paid
    else {
        panic!("paid: {paid:?}");
    };
    (amount_won, booking, tickets)
}

async fn book(setup: &Setup, actor: u64, seats: &[u32]) -> u64 {
    book_tickets(setup, actor, seats).await.0
}

fn grade_left(message: &Value, code: &str) -> Option<u64> {
    message["figures"]["grades"]
        .as_array()?
        .iter()
        .find(|g| g["code"] == code)?["left"]
        .as_u64()
}

#[tokio::test]
async fn the_seller_sees_a_booking_live_and_no_one_else_sees_the_dashboard() {
    let setup = setup().await;
    let address = setup.address();
    let mut seller = signed_in(address, &setup.seller).await;
    seller.send(dashboard(setup.performance)).await;
    let first = seller.next_within(Duration::from_secs(10)).await;
    let first = first.expect("an answer to dashboard");
    assert_eq!(first["type"], "dashboard", "{first}");
    assert_eq!(first["performance"], setup.performance.to_string());
    assert_eq!(first["figures"]["title"], "레미제라블");
    assert_eq!(first["figures"]["sales"]["bookings"], 0);
    assert_eq!(first["figures"]["sales"]["platform_commission_won"], 0);
    assert_eq!(first["figures"]["minutes"], json!([]));
    // The published show's sale opens in ten days: its queue is in the pre-queue.
    assert_eq!(first["queue"]["status"], "pre_queue", "{first}");

    // Two VIP seats and one R seat, booked by two buyers.
    let started = Instant::now();
    let vip = book(&setup, 9_001, &[0, 1]).await;
    let r = book(&setup, 9_002, &[10]).await;
    assert_eq!((vip, r), (2 * 160_000, 140_000));
    let booked_at_ms = now_ms();
    let live = loop {
        let message = seller
            .next_of_within("dashboard", PATIENCE)
            .await
            .expect("a dashboard with both bookings");
        if message["figures"]["sales"]["bookings"] == 2 {
            break message;
        }
        assert!(started.elapsed() < PATIENCE, "last seen: {message}");
    };
    eprintln!(
        "both bookings reached the seller's dashboard {} ms after the first was submitted",
        started.elapsed().as_millis()
    );
    let sales = &live["figures"]["sales"];
    assert_eq!(sales["sales_won"], 460_000);
    assert_eq!(sales["refunds_won"], 0);
    assert_eq!(sales["net_payable_won"], 460_000);
    assert_eq!(grade_left(&live, "VIP"), Some(8));
    assert_eq!(grade_left(&live, "R"), Some(3));
    assert_eq!(grade_left(&live, "S"), Some(100));
    let minutes = live["figures"]["minutes"].as_array().expect("minutes");
    let booked: u64 = minutes
        .iter()
        .map(|m| m["bookings"].as_u64().unwrap_or(0))
        .sum();
    let won: u64 = minutes
        .iter()
        .map(|m| m["sales_won"].as_u64().unwrap_or(0))
        .sum();
    assert_eq!((booked, won), (2, 460_000), "{minutes:?}");
    let last_minute = minutes.last().expect("a minute")["minute_ms"]
        .as_u64()
        .expect("minute_ms");
    assert_eq!(last_minute % 60_000, 0);
    assert!(last_minute <= booked_at_ms && booked_at_ms - last_minute < 2 * 60_000);

    // Nothing changes now: a dashboard goes out every refresh (2 s), never more than once per
    // interval (250 ms).
    let quiet = Instant::now();
    let mut sent = 0;
    while quiet.elapsed() < Duration::from_secs(3) {
        if seller
            .next_of_within("dashboard", Duration::from_millis(200))
            .await
            .is_some()
        {
            sent += 1;
        }
    }
    let most = 3_000 / 250 + 1;
    assert!((1..=most).contains(&sent), "{sent} dashboards in 3 s");

    // A buyer, another seller and a guest are refused; so is a performance that does not exist.
    for token in [&setup.buyer, &setup.other_seller] {
        let mut client = signed_in(address, token).await;
        client.send(dashboard(setup.performance)).await;
        let refused = client.next_of("error").await;
        assert_eq!(refused["code"], "forbidden", "{refused}");
        assert!(
            client
                .next_of_within("dashboard", Duration::from_millis(600))
                .await
                .is_none()
        );
    }
    let mut guest = Client::guest(address, "dashboard-guest-device-01").await;
    guest.send(dashboard(setup.performance)).await;
    assert_eq!(guest.next_of("error").await["code"], "forbidden");
    seller.send(dashboard(4_242_424_242)).await;
    assert_eq!(seller.next_of("error").await["code"], "unknown_sale");

    // After `undashboard` nothing more comes.
    seller
        .send(json!({"type": "undashboard", "performance": setup.performance.to_string()}))
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    while seller
        .next_within(Duration::from_millis(50))
        .await
        .is_some()
    {}
    assert!(
        seller
            .next_of_within("dashboard", Duration::from_millis(2_500))
            .await
            .is_none()
    );
}

#[tokio::test]
async fn only_the_seller_pauses_their_sale_and_waiting_buyers_see_it() {
    let setup = setup().await;
    let address = setup.address();
    let performance = setup.performance;
    // The operator opens the sale now (published, it opens in ten days), one buyer at a time:
    // the first is admitted and keeps the turn, so the second waits in line.
    let (status, body) =
        configure_sale(address, performance, &sale_settings(now_ms(), 50, 1)).await;
    assert_eq!(status, 200, "{body}");
    let mut first = Client::guest(address, "dashboard-first-device-01").await;
    first
        .send(json!({"type": "join", "sale": performance.to_string()}))
        .await;
    first
        .next_of_within("admitted", PATIENCE)
        .await
        .expect("the first buyer's turn");
    let mut buyer = Client::guest(address, "dashboard-buyer-device-01").await;
    buyer
        .send(json!({"type": "join", "sale": performance.to_string()}))
        .await;
    let waiting = buyer_sees(&mut buyer, "open").await;
    assert!(waiting["ahead"].is_u64(), "{waiting}");

    let path = format!("/api/v2/performances/{performance}/sale");
    let pause = json!({"paused": true, "admit_per_sec": 7}).to_string();
    for (token, status) in [
        (Some(setup.buyer.as_str()), 403),
        (Some(setup.other_seller.as_str()), 403),
        (None, 401),
    ] {
        let refused = call(address, "PUT", &path, &pause, token).await;
        assert_eq!(refused.status, status, "{:?}", refused.body);
    }
    let zero = json!({"admit_per_sec": 0}).to_string();
    let invalid = call(address, "PUT", &path, &zero, Some(&setup.seller)).await;
    assert_eq!(invalid.status, 422, "{:?}", invalid.body);
    let unknown = json!({"open_at_ms": 0}).to_string();
    let invalid = call(address, "PUT", &path, &unknown, Some(&setup.seller)).await;
    assert_eq!(invalid.status, 400, "{:?}", invalid.body);
    let sale = call(
        address,
        "GET",
        &format!("/api/v2/sales/{performance}"),
        "",
        None,
    )
    .await;
    assert_eq!(
        sale.body["settings"]["paused"], false,
        "refusals change nothing"
    );

    let paused = call(address, "PUT", &path, &pause, Some(&setup.seller)).await;
    assert_eq!(paused.status, 200, "{:?}", paused.body);
    assert_eq!(paused.body["settings"]["paused"], true);
    assert_eq!(paused.body["settings"]["admit_per_sec"], 7);
    assert_eq!(paused.body["settings"]["active_max"], 1, "the rest is kept");
    let seen = buyer_sees(&mut buyer, "paused").await;
    assert_eq!(seen["sale"], performance.to_string());

    let mut seller = signed_in(address, &setup.seller).await;
    seller.send(dashboard(performance)).await;
    let board = seller.next_of("dashboard").await;
    assert_eq!(board["queue"]["paused"], true, "{board}");
    assert_eq!(board["queue"]["status"], "paused");
    assert_eq!(board["queue"]["admit_per_sec"], 7);

    let resume = json!({"paused": false}).to_string();
    let resumed = call(address, "PUT", &path, &resume, Some(&setup.seller)).await;
    assert_eq!(resumed.status, 200, "{:?}", resumed.body);
    assert_eq!(
        resumed.body["settings"]["admit_per_sec"], 7,
        "the rate is kept"
    );
    buyer_sees(&mut buyer, "open").await;
}

/// The buyer's next `queue` with `status` (within [`PATIENCE`]).
async fn buyer_sees(buyer: &mut Client, status: &str) -> Value {
    loop {
        let queue = buyer
            .next_of_within("queue", PATIENCE)
            .await
            .unwrap_or_else(|| panic!("no queue message saying {status}"));
        if queue["status"] == status {
            return queue;
        }
    }
}

/// The next `dashboard` whose seat states are `runs` (within [`PATIENCE`]).
async fn dashboard_with_seats(seller: &mut Client, runs: &str) -> Value {
    let started = Instant::now();
    loop {
        let message = seller
            .next_of_within("dashboard", PATIENCE)
            .await
            .unwrap_or_else(|| panic!("no dashboard with seats {runs}"));
        if message["figures"]["seats"]["runs"] == runs {
            return message;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "seats never {runs}; last seen: {}",
            message["figures"]["seats"]
        );
    }
}

#[tokio::test]
async fn each_seat_shows_held_sold_or_reserved_as_the_ledger_has_it() {
    use picket_ledger_core::WaitlistMode;
    let setup = setup().await;
    let address = setup.address();
    let performance = PerformanceId(setup.performance);
    let mut seller = signed_in(address, &setup.seller).await;
    seller.send(dashboard(setup.performance)).await;
    // 14 seats (VIP 0-9, R 10-13), all on sale; the floor is a zone, not seats.
    let first = dashboard_with_seats(&mut seller, "14f").await;
    assert_eq!(
        first["figures"]["seats"],
        json!({"count": 14, "runs": "14f", "states": {"f": 14}})
    );

    // R sells out; a member waits for any two places; one R ticket is cancelled: one freed
    // seat cannot serve the entry, so it is kept off sale for the waitlist.
    let (_, booking, tickets) = book_tickets(&setup, 9_101, &[10, 11, 12, 13]).await;
    let joined = submit(
        &setup,
        9_102,
        "join-9102".into(),
        Command::JoinWaitlist {
            performance,
            grade: None,
            quantity: 2,
            together: false,
            mode: WaitlistMode::Offer,
        },
    )
    .await;
    assert!(matches!(joined, Reply::WaitlistJoined { .. }), "{joined:?}");
    let cancelled = submit(
        &setup,
        9_101,
        "cancel-9101".into(),
        Command::Cancel {
            performance,
            booking,
            tickets: vec![tickets[0]],
        },
    )
    .await;
    assert!(
        matches!(cancelled, Reply::Cancelled { .. }),
        "{cancelled:?}"
    );
    // A buyer holds VIP 0-1 without paying; another books VIP 2.
    let (vip_hold, vip_amount) = hold(&setup, 9_103, &[0, 1]).await;
    book(&setup, 9_104, &[2]).await;

    let live = dashboard_with_seats(&mut seller, "2hs7fr3s").await;
    let seats = &live["figures"]["seats"];
    assert_eq!(seats["count"], 14);
    assert_eq!(seats["states"], json!({"f": 7, "h": 2, "r": 1, "s": 4}));
    // The ledger's own figures agree: its seats on sale, its reserve, its VIP places left.
    let snapshot = setup
        .cluster
        .ledger
        .handle
        .subscribe()
        .await
        .expect("subscribed");
    let on_sale = snapshot
        .availability
        .iter()
        .find(|a| a.performance == performance)
        .expect("the performance")
        .seat_free
        .iter()
        .filter(|free| **free)
        .count();
    assert_eq!(seats["states"]["f"], on_sale);
    let report = setup
        .cluster
        .ledger
        .handle
        .waitlist(performance, None)
        .await
        .expect("waitlist read")
        .expect("a waitlist")
        .report;
    assert_eq!(seats["states"]["r"], report.places_reserved);
    assert_eq!(live["figures"]["waitlist"]["places_reserved"], 1);
    assert_eq!(grade_left(&live, "VIP"), Some(7));

    // As after the API (re)subscribes to the ledger: the snapshot says only on sale or not, and
    // the seats off sale are told apart from the bookings projection once it has caught up.
    loop {
        let message = seller.next_of("dashboard").await;
        if message["figures"]["seq"].as_u64().unwrap_or(0) >= snapshot.seq {
            break;
        }
    }
    let api = &setup.cluster.api;
    api.seat_states.reset(&snapshot.availability);
    assert_eq!(api.seat_states.seats(setup.performance), None, "unresolved");
    api.seat_states.caught_up();
    let resolved = dashboard_with_seats(&mut seller, "2hs7fr3s").await;
    assert_eq!(resolved["figures"]["seats"]["states"], seats["states"]);
    // …and the events after it apply on top: the hold made before it is paid for.
    let paid = submit(
        &setup,
        9_103,
        "pay-9103".into(),
        Command::Confirm {
            performance,
            hold: vip_hold,
            payment_ref: "pay-ref-9103".into(),
            amount_won: vip_amount,
        },
    )
    .await;
    assert!(matches!(paid, Reply::Confirmed { .. }), "{paid:?}");
    let paid = dashboard_with_seats(&mut seller, "3s7fr3s").await;
    assert_eq!(
        paid["figures"]["seats"]["states"],
        json!({"f": 7, "r": 1, "s": 6})
    );
}

#[tokio::test]
async fn a_signed_out_session_stops_getting_the_dashboard() {
    let setup = setup().await;
    let address = setup.address();
    // The seller signed in twice: one session signs out, the other is kept.
    let leaving = sign_in_at(address, "seller@example.com").await;
    let mut kept = signed_in(address, &setup.seller).await;
    let mut left = signed_in(address, &leaving).await;
    for client in [&mut kept, &mut left] {
        client.send(dashboard(setup.performance)).await;
        client
            .next_of_within("dashboard", PATIENCE)
            .await
            .expect("a dashboard while signed in");
    }
    let signed_out = call(
        address,
        "DELETE",
        "/api/v2/sessions/current",
        "",
        Some(&leaving),
    )
    .await;
    assert!(
        (200..300).contains(&signed_out.status),
        "{:?}",
        signed_out.body
    );
    let ended = left
        .next_of_within("dashboard_ended", PATIENCE)
        .await
        .expect("the dashboard ends");
    assert_eq!(ended["performance"], setup.performance.to_string());
    assert_eq!(ended["code"], "session_ended", "{ended}");
    assert!(ended["message"].as_str().is_some_and(|m| !m.is_empty()));
    // Nothing more of it comes (a dashboard already on its way may still arrive first), while
    // the kept session goes on getting it.
    while left.next_within(Duration::from_millis(100)).await.is_some() {}
    assert!(
        left.next_of_within("dashboard", Duration::from_millis(2_500))
            .await
            .is_none()
    );
    assert!(
        kept.next_of_within("dashboard", PATIENCE).await.is_some(),
        "the other session still gets it"
    );
    // Asking again with the ended session is refused.
    left.send(dashboard(setup.performance)).await;
    assert_eq!(left.next_of("error").await["code"], "forbidden");
}
