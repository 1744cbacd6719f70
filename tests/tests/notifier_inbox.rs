//! The notifier end to end (issue 15, "Notifier"; docs/protocol.md, "Notifications"): an API
//! with an in-process ledger, and the notifier following both into members' inboxes, read
//! through `GET /api/v2/me/notifications` and marked read through
//! `POST /api/v2/me/notifications/read`.

use std::time::Duration;

use picket_api::store::notifications::NewNotification;
use picket_ledger_client::LedgerClient;
use picket_ledger_core::*;
use picket_notifier::NotifierConfig;
use picket_tests::api::{ApiSetup, call, seed_members};
use serde_json::{Value, json};
use tokio::sync::watch;

/// How long a test waits for the notifier to have written something (it is woken by every
/// commit; this bounds a broken notifier, not a slow one).
const WAIT_MAX: Duration = Duration::from_secs(20);

/// A valid business registration number built from `n` (the check digit computed by trying).
fn business_number(n: u64) -> String {
    let stem = format!("{:09}", 100_000_000 + n);
    (0..10)
        .map(|d| format!("{stem}{d}"))
        .find(|candidate| picket_api::sellers::business_number_digits(candidate).is_some())
        .expect("one check digit fits")
}

/// A notifier on the setup's store and ledger; send `true` to stop it.
struct Running {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

fn start_notifier(setup: &ApiSetup) -> Running {
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(picket_notifier::run(
        setup.api.store.clone(),
        LedgerClient::in_process(setup.cluster.ledger.handle.clone()),
        NotifierConfig::new(vec![0]),
        stopped,
    ));
    Running { stop, task }
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(true);
        self.task.await.expect("the notifier stops cleanly");
    }
}

async fn inbox(setup: &ApiSetup, token: &str, query: &str) -> Value {
    let answer = call(
        setup.address,
        "GET",
        &format!("/api/v2/me/notifications{query}"),
        "",
        Some(token),
    )
    .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body
}

fn items(page: &Value) -> Vec<Value> {
    page["items"].as_array().expect("items").clone()
}

/// The member's whole inbox (the newest page of the page max) once `ready` holds for it.
async fn inbox_when(setup: &ApiSetup, token: &str, ready: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + WAIT_MAX;
    loop {
        let page = items(&inbox(setup, token, "?limit=50").await);
        if ready(&page) {
            return page;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "inbox never got there: {page:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn of_kind<'a>(items: &'a [Value], kind: &str) -> Vec<&'a Value> {
    items.iter().filter(|i| i["kind"] == kind).collect()
}

/// Waits until the notifier has written every interest alert of `show`.
async fn announced(setup: &ApiSetup, show: i64) {
    let deadline = tokio::time::Instant::now() + WAIT_MAX;
    loop {
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM notifier_announced WHERE show_id = $1")
                .bind(show)
                .fetch_one(setup.api.store.pool())
                .await
                .expect("count");
        if count == 1 {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "show {show} never announced"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn set_interests(setup: &ApiSetup, token: &str, interests: Value) {
    let answer = call(
        setup.address,
        "PUT",
        "/api/v2/me/interests",
        &interests.to_string(),
        Some(token),
    )
    .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
}

#[tokio::test]
async fn a_published_show_alerts_members_whose_interests_match() {
    alerts_members_whose_interests_match(ApiSetup::start().await).await;
}

#[tokio::test]
async fn a_published_show_alerts_members_whose_interests_match_on_postgres() {
    alerts_members_whose_interests_match(ApiSetup::start_postgres().await).await;
}

async fn alerts_members_whose_interests_match(setup: ApiSetup) {
    let notifier = start_notifier(&setup);
    let (_, musical_fan) = setup.member("musical@example.com").await;
    let (_, seoul_fan) = setup.member("seoul@example.com").await;
    let (_, concert_fan) = setup.member("concert@example.com").await;
    let (_, busan_musical_fan) = setup.member("busan@example.com").await;
    let (_, no_interests) = setup.member("none@example.com").await;
    set_interests(
        &setup,
        &musical_fan,
        json!({"categories": ["musical"], "regions": []}),
    )
    .await;
    set_interests(
        &setup,
        &seoul_fan,
        json!({"categories": [], "regions": ["seoul"]}),
    )
    .await;
    set_interests(
        &setup,
        &concert_fan,
        json!({"categories": ["concert"], "regions": []}),
    )
    .await;
    set_interests(
        &setup,
        &busan_musical_fan,
        json!({"categories": ["musical"], "regions": ["busan"]}),
    )
    .await;
    // A musical in Seoul (the harness's venue).
    let (show, _) = setup
        .published_show("seller@example.com", &business_number(1))
        .await;
    announced(&setup, show).await;
    for token in [&musical_fan, &seoul_fan] {
        let page = inbox(&setup, token, "").await;
        let alerts = items(&page);
        assert_eq!(alerts.len(), 1, "{alerts:?}");
        let alert = &alerts[0];
        assert_eq!(alert["kind"], "interest_alert");
        assert_eq!(alert["data"]["show"], show.to_string());
        assert_eq!(alert["read"], false);
        assert_eq!(alert["language"], "ko");
        assert_eq!(alert["title"], "관심 공연 알림");
        assert_eq!(
            alert["body"],
            "관심 있는 공연 「레미제라블」이(가) 등록되었습니다."
        );
        assert_eq!(
            alert["texts"]["en"]["body"],
            "“레미제라블” matches your interests and is now listed."
        );
        assert_eq!(page["unread"], 1);
    }
    for token in [&concert_fan, &busan_musical_fan, &no_interests] {
        let page = inbox(&setup, token, "").await;
        assert_eq!(items(&page), Vec::<Value>::new());
        assert_eq!(page["unread"], 0);
    }
    notifier.stop().await;
}

#[tokio::test]
async fn a_booking_and_its_cancellation_reach_the_buyer() {
    booking_and_cancellation_reach_the_buyer(ApiSetup::start().await).await;
}

#[tokio::test]
async fn a_booking_and_its_cancellation_reach_the_buyer_on_postgres() {
    booking_and_cancellation_reach_the_buyer(ApiSetup::start_postgres().await).await;
}

async fn booking_and_cancellation_reach_the_buyer(setup: ApiSetup) {
    let (_, performance) = setup
        .published_show("seller@example.com", &business_number(2))
        .await;
    let notifier = start_notifier(&setup);
    let (buyer, token) = setup.member("buyer@example.com").await;
    let (_, other) = setup.member("other@example.com").await;
    let (booking, tickets) = setup
        .book(buyer as u64, "b1", performance, &[1], None)
        .await;
    let cancelled = setup
        .submit(
            buyer as u64,
            "cancel-b1",
            Command::Cancel {
                performance: PerformanceId(performance),
                booking,
                tickets: tickets.clone(),
            },
        )
        .await;
    assert!(
        matches!(cancelled, Ok(Reply::Cancelled { .. })),
        "{cancelled:?}"
    );
    let found = inbox_when(&setup, &token, |items| {
        !of_kind(items, "booking_confirmed").is_empty()
            && !of_kind(items, "tickets_cancelled").is_empty()
    })
    .await;
    let confirmed = of_kind(&found, "booking_confirmed")[0];
    assert_eq!(confirmed["data"]["booking"], booking.0.to_string());
    assert_eq!(confirmed["data"]["performance"], performance.to_string());
    // Seat 1 of section A is VIP, 160,000원.
    assert_eq!(
        confirmed["body"],
        "「레미제라블」 예매가 확정되었습니다. 결제 금액 160,000원"
    );
    let cancelled = of_kind(&found, "tickets_cancelled")[0];
    assert_eq!(cancelled["data"]["booking"], booking.0.to_string());
    assert!(
        cancelled["body"]
            .as_str()
            .expect("body")
            .starts_with("「레미제라블」 티켓 1매가 취소되었습니다. 환불 예정 금액 "),
        "{cancelled:?}"
    );
    // Newest first: the cancellation came after the booking.
    let position = |kind: &str| found.iter().position(|i| i["kind"] == kind);
    assert!(position("tickets_cancelled") < position("booking_confirmed"));
    // Nobody else hears of it.
    assert_eq!(items(&inbox(&setup, &other, "").await), Vec::<Value>::new());
    notifier.stop().await;
}

#[tokio::test]
async fn a_notifier_restarted_mid_stream_loses_nothing_and_shows_nothing_twice() {
    let setup = ApiSetup::start().await;
    let (_, performance) = setup
        .published_show("seller@example.com", &business_number(3))
        .await;
    // Four buyers (the show allows 4 tickets per buyer) book the 14 seats of sections A and B,
    // one booking each, in three runs.
    let mut buyers = Vec::new();
    for n in 0..4 {
        buyers.push(setup.member(&format!("buyer{n}@example.com")).await);
    }
    let seats: Vec<u32> = (0..14).collect();
    let buyer_of = |seat: u32| &buyers[seat as usize % buyers.len()];
    let book_seat = |seat: u32| {
        let buyer = buyer_of(seat).0;
        let setup = &setup;
        async move {
            setup
                .book(
                    buyer as u64,
                    &format!("s{seat}"),
                    performance,
                    &[seat],
                    None,
                )
                .await;
        }
    };
    let notifier = start_notifier(&setup);
    for seat in &seats[..5] {
        book_seat(*seat).await;
    }
    // Stopped while bookings flow: once it wrote some, and with more committed meanwhile.
    inbox_when(&setup, &buyer_of(seats[0]).1, |items| !items.is_empty()).await;
    let booking_more = async {
        for seat in &seats[5..10] {
            book_seat(*seat).await;
        }
    };
    let ((), ()) = tokio::join!(booking_more, notifier.stop());
    for seat in &seats[10..] {
        book_seat(*seat).await;
    }
    let notifier = start_notifier(&setup);
    let mut found = Vec::new();
    for (_, token) in &buyers {
        let booked = seats.iter().filter(|s| buyer_of(**s).1 == *token).count();
        found.push(
            inbox_when(&setup, token, |items| {
                of_kind(items, "booking_confirmed").len() >= booked
            })
            .await,
        );
    }
    // Redelivery: the notifier reads the whole journal again from the start.
    notifier.stop().await;
    sqlx::query("UPDATE notifier_cursors SET seq = 0")
        .execute(setup.api.store.pool())
        .await
        .expect("rewind");
    let last = setup
        .cluster
        .ledger
        .handle
        .entries_after(0, 1_000)
        .await
        .expect("journal")
        .last()
        .map(|e| e.seq)
        .expect("entries");
    let notifier = start_notifier(&setup);
    let deadline = tokio::time::Instant::now() + WAIT_MAX;
    while setup.api.store.notifier_cursor(0).await.expect("cursor") < last {
        assert!(tokio::time::Instant::now() < deadline, "never read again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    notifier.stop().await;
    let mut bookings: Vec<String> = Vec::new();
    for ((_, token), before) in buyers.iter().zip(&found) {
        let again = items(&inbox(&setup, token, "?limit=50").await);
        assert_eq!(&again, before, "a replay changed the inbox");
        let confirmations = of_kind(&again, "booking_confirmed");
        let booked = seats.iter().filter(|s| buyer_of(**s).1 == *token).count();
        assert_eq!(confirmations.len(), booked, "{again:?}");
        bookings.extend(
            confirmations
                .iter()
                .map(|i| i["data"]["booking"].as_str().expect("booking").to_owned()),
        );
    }
    bookings.sort();
    bookings.dedup();
    assert_eq!(
        bookings.len(),
        seats.len(),
        "a booking lost or notified twice"
    );
}

#[tokio::test]
async fn members_page_through_and_mark_read() {
    page_through_and_mark_read(ApiSetup::start().await).await;
}

#[tokio::test]
async fn members_page_through_and_mark_read_on_postgres() {
    page_through_and_mark_read(ApiSetup::start_postgres().await).await;
}

async fn page_through_and_mark_read(setup: ApiSetup) {
    let (_, performance) = setup
        .published_show("seller@example.com", &business_number(4))
        .await;
    let (buyer, token) = setup.member("buyer@example.com").await;
    let (_, stranger) = setup.member("stranger@example.com").await;
    let notifier = start_notifier(&setup);
    for seat in 1..=3 {
        setup
            .book(
                buyer as u64,
                &format!("r{seat}"),
                performance,
                &[seat],
                None,
            )
            .await;
    }
    let all = inbox_when(&setup, &token, |items| items.len() == 3).await;
    notifier.stop().await;
    // Pages of one, newest first, through the cursor.
    let first = inbox(&setup, &token, "?limit=1").await;
    assert_eq!(items(&first), vec![all[0].clone()]);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = inbox(&setup, &token, &format!("?limit=1&cursor={cursor}")).await;
    assert_eq!(items(&second), vec![all[1].clone()]);
    let cursor = second["next_cursor"].as_str().expect("a last page");
    let third = inbox(&setup, &token, &format!("?limit=1&cursor={cursor}")).await;
    assert_eq!(items(&third), vec![all[2].clone()]);
    assert_eq!(third["next_cursor"], Value::Null);
    assert_eq!(first["unread"], 3);
    // The other language on request.
    let english = picket_tests::api::call_raw(
        setup.address,
        "GET",
        "/api/v2/me/notifications?limit=1",
        &[
            ("Authorization", &format!("Bearer {token}")),
            ("Accept-Language", "en-US,en;q=0.9"),
        ],
        b"",
    )
    .await;
    assert_eq!(english.0, 200);
    let english: Value = serde_json::from_slice(&english.2).expect("json");
    assert_eq!(english["items"][0]["language"], "en");
    assert_eq!(english["items"][0]["title"], "Booking confirmed");
    let read = |body: Value, token: String| {
        let address = setup.address;
        async move {
            call(
                address,
                "POST",
                "/api/v2/me/notifications/read",
                &body.to_string(),
                Some(&token),
            )
            .await
        }
    };
    // Another member's ids mark nothing.
    let theirs = read(json!({"ids": [all[2]["id"]]}), stranger.clone()).await;
    assert_eq!(theirs.status, 200);
    assert_eq!(inbox(&setup, &token, "").await["unread"], 3);
    assert_eq!(
        read(json!({"up_to": all[2]["id"]}), stranger.clone())
            .await
            .status,
        404
    );
    // One by id, then the rest up to the newest.
    let marked = read(json!({"ids": [all[2]["id"]]}), token.clone()).await;
    assert_eq!(marked.status, 200, "{:?}", marked.body);
    assert_eq!(marked.body["unread"], 2);
    let page = items(&inbox(&setup, &token, "").await);
    assert_eq!(
        page.iter().map(|i| i["read"].clone()).collect::<Vec<_>>(),
        [false, false, true]
    );
    let marked = read(json!({"up_to": all[1]["id"]}), token.clone()).await;
    assert_eq!(marked.body["unread"], 1);
    let marked = read(json!({"up_to": all[0]["id"]}), token.clone()).await;
    assert_eq!(marked.body["unread"], 0);
    // Either ids or up_to, within bounds.
    for bad in [
        json!({}),
        json!({"ids": ["a"], "up_to": "b"}),
        json!({"ids": []}),
        json!({"ids": vec!["x"; picket_api::notifications::READ_IDS_MAX + 1]}),
    ] {
        assert_eq!(read(bad.clone(), token.clone()).await.status, 422, "{bad}");
    }
    let limit = picket_api::notifications::NOTIFICATIONS_PAGE_MAX + 1;
    let too_many = call(
        setup.address,
        "GET",
        &format!("/api/v2/me/notifications?limit={limit}"),
        "",
        Some(&token),
    )
    .await;
    assert_eq!(too_many.status, 422);
}

#[tokio::test]
async fn an_inbox_keeps_the_newest_up_to_its_bound() {
    use picket_api::store::notifications::{
        INBOX_PER_MEMBER_MAX, NewNotification, insert_notification,
    };
    let setup = ApiSetup::start().await;
    let (member, token) = setup.member("member@example.com").await;
    let written = INBOX_PER_MEMBER_MAX + 3;
    let mut conn = setup.api.store.pool().acquire().await.expect("connection");
    for n in 0..written {
        let id = format!("test.{n:06}");
        let stored = insert_notification(
            &mut conn,
            &NewNotification {
                id: &id,
                account_id: member,
                kind: "booking_confirmed",
                created_at_ms: 1_000 + n,
                title_ko: "예매 확정",
                body_ko: "본문",
                title_en: "Booking confirmed",
                body_en: "Body",
                data: "{}",
                push: true,
                app: true,
                language: "ko",
            },
        )
        .await
        .expect("insert");
        assert!(stored);
    }
    drop(conn);
    let kept: Vec<String> =
        sqlx::query_scalar("SELECT id FROM notifications WHERE account_id = $1 ORDER BY id")
            .bind(member)
            .fetch_all(setup.api.store.pool())
            .await
            .expect("ids");
    assert_eq!(kept.len() as i64, INBOX_PER_MEMBER_MAX);
    // The three oldest were dropped.
    assert_eq!(kept[0], "test.000003");
    assert_eq!(
        inbox(&setup, &token, "").await["unread"],
        INBOX_PER_MEMBER_MAX
    );
}

/// Members seeded by the fan-out tests start here (the API's own ids are far larger).
const SEEDED_FIRST: i64 = 1_000_000;

#[tokio::test]
async fn a_batch_past_the_insert_bound_writes_each_once_in_order() {
    batch_writes_each_once_in_order(ApiSetup::start().await).await;
}

#[tokio::test]
async fn a_batch_past_the_insert_bound_writes_each_once_in_order_on_postgres() {
    batch_writes_each_once_in_order(ApiSetup::start_postgres().await).await;
}

/// One notification of the batch tests: the same texts, `created_at_ms` telling them apart.
fn new_row(id: &str, account_id: i64, created_at_ms: i64) -> NewNotification<'_> {
    NewNotification {
        id,
        account_id,
        kind: "seller_notice",
        created_at_ms,
        title_ko: "공지",
        body_ko: "본문",
        title_en: "Notice",
        body_en: "Body",
        data: "{}",
        push: true,
        app: true,
        language: "ko",
    }
}

async fn batch_writes_each_once_in_order(setup: ApiSetup) {
    use picket_api::store::notifications::{
        INBOX_PER_MEMBER_MAX, INSERT_ROWS_MAX, insert_notification, insert_notifications,
    };
    // Past two statements' worth, so the batch is three inserts with one reservation.
    const MEMBERS: usize = 2_500;
    const { assert!(MEMBERS > 2 * INSERT_ROWS_MAX) };
    let store = &setup.api.store;
    seed_members(store.pool(), SEEDED_FIRST, MEMBERS, |_| Vec::new())
        .await
        .expect("seed");
    let member = |n: usize| SEEDED_FIRST + n as i64;
    let mut conn = store.pool().acquire().await.expect("connection");
    // Member 7's inbox is full of older entries; member 100 already has the batch's entry.
    let old: Vec<String> = (0..INBOX_PER_MEMBER_MAX)
        .map(|n| format!("old.{n:04}"))
        .collect();
    let full: Vec<NewNotification<'_>> = old
        .iter()
        .enumerate()
        .map(|(n, id)| new_row(id, member(7), 1_000 + n as i64))
        .collect();
    assert_eq!(
        insert_notifications(&mut conn, &full).await.expect("full"),
        INBOX_PER_MEMBER_MAX as u64
    );
    assert!(
        insert_notification(&mut conn, &new_row("batch.0100", member(100), 5_000))
            .await
            .expect("one")
    );
    let head_before = store.outbox_head().await.expect("head");
    // One per member in member order, a guest (no account) in the middle, and member 200's
    // entry again at the end.
    const GUEST_AT: usize = 1_500;
    let ids: Vec<String> = (0..MEMBERS).map(|n| format!("batch.{n:04}")).collect();
    let mut batch: Vec<NewNotification<'_>> = ids
        .iter()
        .enumerate()
        .map(|(n, id)| new_row(id, member(n), 5_000))
        .collect();
    batch.insert(GUEST_AT, new_row("batch.guest", 42, 5_000));
    batch.push(new_row("batch.0200", member(200), 5_000));
    let written = insert_notifications(&mut conn, &batch)
        .await
        .expect("batch");
    assert_eq!(written, MEMBERS as u64 - 1, "all but member 100's");
    assert_eq!(
        store.outbox_head().await.expect("head") - head_before,
        batch.len() as i64,
        "one sequence per row given, written or not"
    );
    drop(conn);
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT id, outbox_seq FROM notifications WHERE id LIKE 'batch.%' ORDER BY outbox_seq",
    )
    .fetch_all(store.pool())
    .await
    .expect("rows");
    // Member 100's from before, then every other member's once, in the order given, each
    // with the sequence of its place in the batch.
    let mut expected = vec![("batch.0100".to_owned(), head_before)];
    for n in (0..MEMBERS).filter(|n| *n != 100) {
        let place = if n < GUEST_AT { n } else { n + 1 };
        expected.push((ids[n].clone(), head_before + 1 + place as i64));
    }
    assert_eq!(rows.len(), expected.len());
    assert_eq!(rows[1..], expected[1..]);
    assert_eq!(rows[0].0, "batch.0100");
    assert!(rows[0].1 <= head_before);
    // Member 7's inbox kept its bound: the batch's entry is in, the oldest one out.
    let kept: Vec<String> =
        sqlx::query_scalar("SELECT id FROM notifications WHERE account_id = $1 ORDER BY id")
            .bind(member(7))
            .fetch_all(store.pool())
            .await
            .expect("kept");
    assert_eq!(kept.len() as i64, INBOX_PER_MEMBER_MAX);
    assert!(kept.contains(&"batch.0007".to_owned()));
    assert!(!kept.contains(&"old.0000".to_owned()));
    assert!(kept.contains(&"old.0001".to_owned()));
}

#[tokio::test]
async fn interest_alerts_resume_after_the_last_batch_written() {
    alerts_resume_after_the_last_batch(ApiSetup::start().await).await;
}

#[tokio::test]
async fn interest_alerts_resume_after_the_last_batch_written_on_postgres() {
    alerts_resume_after_the_last_batch(ApiSetup::start_postgres().await).await;
}

/// The n-th seeded member's interests: six in ten match a musical in Seoul (the harness's show).
fn interests_of(n: usize) -> Vec<(&'static str, &'static str)> {
    match n % 10 {
        0 => vec![],
        1 => vec![("category", "concert")],
        2 => vec![("region", "busan")],
        3 => vec![("category", "musical"), ("region", "busan")],
        4 => vec![("category", "musical"), ("region", "seoul")],
        5 => vec![("region", "seoul")],
        6 => vec![("category", "concert"), ("category", "musical")],
        _ => vec![("category", "musical")],
    }
}

fn matches_the_show(n: usize) -> bool {
    n % 10 >= 4
}

async fn alerts_resume_after_the_last_batch(setup: ApiSetup) {
    use picket_notifier::{ANNOUNCE_BATCHES_PER_ROUND_MAX, Followers, MEMBERS_BATCH_MAX, round};
    // More matching members than one round writes: a round stops with the show half announced,
    // where a notifier stopped after its last commit would be.
    let per_round = ANNOUNCE_BATCHES_PER_ROUND_MAX * MEMBERS_BATCH_MAX as usize;
    let members = (per_round + 1_000) * 10 / 6;
    let store = &setup.api.store;
    seed_members(store.pool(), SEEDED_FIRST, members, interests_of)
        .await
        .expect("seed");
    let matching: Vec<i64> = (0..members)
        .filter(|n| matches_the_show(*n))
        .map(|n| SEEDED_FIRST + n as i64)
        .collect();
    assert!(matching.len() > per_round);
    // Members' choices apply per member, in either round: one early, one late, in English and
    // not live in the app.
    let chosen = [matching[3], matching[matching.len() - 3]];
    for account in chosen {
        store
            .set_notification_choices(
                account,
                "en",
                r#"{"interest_alert": {"app": false, "push": true}}"#,
                1,
            )
            .await
            .expect("choices");
    }
    let (show, _) = setup
        .published_show("seller@example.com", &business_number(7))
        .await;
    let head_before = store.outbox_head().await.expect("head");
    let ledger = LedgerClient::in_process(setup.cluster.ledger.handle.clone());
    let config = NotifierConfig::new(vec![0]);
    let more = round(store, &ledger, &config, &mut Followers::default())
        .await
        .expect("round");
    assert!(more, "one round cannot write them all");
    let alerts = || async {
        sqlx::query_scalar::<_, i64>(
            "SELECT account_id FROM notifications WHERE kind = 'interest_alert' \
             ORDER BY outbox_seq",
        )
        .fetch_all(store.pool())
        .await
        .expect("alerts")
    };
    assert_eq!(alerts().await, matching[..per_round]);
    assert!(!store.is_announced(show).await.expect("announced"));
    let resume: i64 = sqlx::query_scalar("SELECT after_account FROM notifier_announcing")
        .fetch_one(store.pool())
        .await
        .expect("resume point");
    assert_eq!(resume, matching[per_round - 1]);
    // A notifier started again (new readers) goes on from there.
    let mut followers = Followers::default();
    let mut rounds = 0;
    while round(store, &ledger, &config, &mut followers)
        .await
        .expect("round")
    {
        rounds += 1;
        assert!(rounds < 10, "never done");
    }
    assert!(store.is_announced(show).await.expect("announced"));
    assert_eq!(
        alerts().await,
        matching,
        "each matching member once, in order"
    );
    // Nothing was walked twice: every sequence given is a row written.
    let written: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM notifications WHERE outbox_seq > $1")
            .bind(head_before)
            .fetch_one(store.pool())
            .await
            .expect("written");
    assert_eq!(
        store.outbox_head().await.expect("head") - head_before,
        written
    );
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notifier_announcing")
        .fetch_one(store.pool())
        .await
        .expect("left");
    assert_eq!(left, 0, "the resume point goes with the mark");
    for account in chosen {
        let (language, app, push): (String, i64, i64) =
            sqlx::query_as("SELECT language, app, push FROM notifications WHERE account_id = $1")
                .bind(account)
                .fetch_one(store.pool())
                .await
                .expect("chosen member's alert");
        assert_eq!((language.as_str(), app, push), ("en", 0, 1));
    }
    let (language, app): (String, i64) =
        sqlx::query_as("SELECT language, app FROM notifications WHERE account_id = $1")
            .bind(matching[4])
            .fetch_one(store.pool())
            .await
            .expect("a default member's alert");
    assert_eq!((language.as_str(), app), ("ko", 1));
}
