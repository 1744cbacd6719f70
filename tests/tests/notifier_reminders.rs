//! Reminders before ticket openings, sellers' notices to bookers and members' notification
//! choices, end to end (issue 15, "Notifier"; docs/protocol.md, "Notifications (HTTP API v2)"):
//! the member's routes, the notifier writing into the inbox, and the rows' `app`, `push` and
//! `language` the delivery loop reads.
//!
//! The reminders' clock is the test's: `picket_notifier::remind(store, now_ms)` is the due scan
//! every notifier round runs with the wall clock; the tests call it with the times around an
//! opening 10 days away, as one or several notifiers would.

use std::time::Duration;

use picket_ledger_client::LedgerClient;
use picket_ledger_core::*;
use picket_notifier::NotifierConfig;
use picket_tests::api::{ApiSetup, OPERATOR, business_number, call, call_raw};
use serde_json::{Value, json};
use tokio::sync::watch;

const HOUR_MS: u64 = 3_600_000;
const TEN_MINUTES_MS: u64 = 600_000;
/// How long a test waits for the notifier or the projection (woken by every commit; this bounds
/// a broken one, not a slow one).
const WAIT_MAX: Duration = Duration::from_secs(20);

async fn inbox(setup: &ApiSetup, token: &str) -> Vec<Value> {
    let answer = call(
        setup.address,
        "GET",
        "/api/v2/me/notifications?limit=50",
        "",
        Some(token),
    )
    .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body["items"].as_array().expect("items").clone()
}

fn of_kind(items: &[Value], kind: &str) -> Vec<Value> {
    items
        .iter()
        .filter(|i| i["kind"] == kind)
        .cloned()
        .collect()
}

async fn reminders_of(setup: &ApiSetup, token: &str) -> Vec<Value> {
    of_kind(&inbox(setup, token).await, "reminder")
}

/// `PUT /api/v2/performances/{performance}/reminder` with `body`: the answer's body.
async fn ask_reminder(setup: &ApiSetup, token: &str, performance: u64, body: Value) -> Value {
    let answer = call(
        setup.address,
        "PUT",
        &format!("/api/v2/performances/{performance}/reminder"),
        &body.to_string(),
        Some(token),
    )
    .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body
}

/// One notifier's due scan at `now_ms`.
async fn remind_at(setup: &ApiSetup, now_ms: u64) {
    picket_notifier::remind(&setup.api.store, now_ms)
        .await
        .expect("the due scan");
}

fn opens_at(reminder: &Value) -> u64 {
    reminder["opens_at_ms"].as_u64().expect("opens_at_ms")
}

#[tokio::test]
async fn a_reminder_is_written_once_an_hour_and_ten_minutes_before_the_opening() {
    reminded_once_at_each_offset(ApiSetup::start().await).await;
}

#[tokio::test]
async fn a_reminder_is_written_once_an_hour_and_ten_minutes_before_the_opening_on_postgres() {
    reminded_once_at_each_offset(ApiSetup::start_postgres().await).await;
}

async fn reminded_once_at_each_offset(setup: ApiSetup) {
    let (show, performance) = setup
        .published_show("seller@example.com", &business_number(11))
        .await;
    let (_, both) = setup.member("both@example.com").await;
    let (_, hour_only) = setup.member("hour@example.com").await;
    let (_, none) = setup.member("none@example.com").await;
    let asked = ask_reminder(&setup, &both, performance, json!({})).await;
    assert_eq!(asked["hour_before"], true);
    assert_eq!(asked["ten_minutes_before"], true);
    assert_eq!(asked["performance"], performance.to_string());
    assert_eq!(asked["show"], show.to_string());
    let opening_ms = opens_at(&asked);
    // The ten-minute reminder turned off.
    let asked = ask_reminder(
        &setup,
        &hour_only,
        performance,
        json!({"ten_minutes_before": false}),
    )
    .await;
    assert_eq!(asked["ten_minutes_before"], false);
    // "My reminders".
    let mine = call(
        setup.address,
        "GET",
        "/api/v2/me/reminders",
        "",
        Some(&both),
    )
    .await;
    assert_eq!(mine.status, 200);
    assert_eq!(mine.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(mine.body["items"][0]["title"], "레미제라블");
    assert_eq!(opens_at(&mine.body["items"][0]), opening_ms);

    // A millisecond early: nothing.
    remind_at(&setup, opening_ms - HOUR_MS - 1).await;
    assert!(reminders_of(&setup, &both).await.is_empty());
    // The hour: one each, written once however many scans (and notifiers, at once) look again.
    remind_at(&setup, opening_ms - HOUR_MS).await;
    tokio::join!(
        remind_at(&setup, opening_ms - HOUR_MS),
        remind_at(&setup, opening_ms - HOUR_MS + 60_000),
        remind_at(&setup, opening_ms - HOUR_MS + 120_000),
    );
    for token in [&both, &hour_only] {
        let found = reminders_of(&setup, token).await;
        assert_eq!(found.len(), 1, "{found:?}");
        let reminder = &found[0];
        assert_eq!(reminder["data"]["performance"], performance.to_string());
        assert_eq!(reminder["data"]["opens_at_ms"], opening_ms.to_string());
        assert_eq!(reminder["created_at_ms"], opening_ms - HOUR_MS);
        assert_eq!(reminder["title"], "티켓 오픈 알림");
        assert!(
            reminder["body"]
                .as_str()
                .expect("body")
                .ends_with("KST에 오픈됩니다. (1시간 전 알림)"),
            "{reminder:?}"
        );
    }
    // Ten minutes before: the second reminder, for the member who kept it on only.
    remind_at(&setup, opening_ms - TEN_MINUTES_MS).await;
    remind_at(&setup, opening_ms - TEN_MINUTES_MS + 1).await;
    let found = reminders_of(&setup, &both).await;
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(
        found[0]["body"]
            .as_str()
            .expect("body")
            .ends_with("(10분 전 알림)")
    );
    assert_eq!(reminders_of(&setup, &hour_only).await.len(), 1);
    // At the opening and after: nothing more.
    remind_at(&setup, opening_ms).await;
    remind_at(&setup, opening_ms + HOUR_MS).await;
    assert_eq!(reminders_of(&setup, &both).await.len(), 2);
    assert!(inbox(&setup, &none).await.is_empty());
    // Removed, and the list is empty.
    let removed = call(
        setup.address,
        "DELETE",
        &format!("/api/v2/performances/{performance}/reminder"),
        "",
        Some(&both),
    )
    .await;
    assert_eq!(removed.status, 204);
    let mine = call(
        setup.address,
        "GET",
        "/api/v2/me/reminders",
        "",
        Some(&both),
    )
    .await;
    assert_eq!(mine.body["items"], json!([]));
}

#[tokio::test]
async fn reminders_follow_an_opening_that_moved_and_refuse_a_past_one() {
    let setup = ApiSetup::start().await;
    let (_, performance) = setup
        .published_show("seller@example.com", &business_number(12))
        .await;
    let (_, member) = setup.member("member@example.com").await;
    let opening_ms = opens_at(&ask_reminder(&setup, &member, performance, json!({})).await);
    remind_at(&setup, opening_ms - HOUR_MS).await;
    assert_eq!(reminders_of(&setup, &member).await.len(), 1);
    // The operator moves the opening two hours later.
    let moved_ms = opening_ms + 2 * HOUR_MS;
    let settings = json!({"open_at_ms": moved_ms, "admit_per_sec": 10, "active_max": 100, "admission_ttl_ms": 600_000, "seat_limit": 4, "grace_ms": 60_000, "paused": false});
    let configured = call(
        setup.address,
        "PUT",
        &format!("/api/v2/sales/{performance}"),
        &settings.to_string(),
        Some(OPERATOR),
    )
    .await;
    assert_eq!(configured.status, 200, "{:?}", configured.body);
    let mine = call(
        setup.address,
        "GET",
        "/api/v2/me/reminders",
        "",
        Some(&member),
    )
    .await;
    assert_eq!(opens_at(&mine.body["items"][0]), moved_ms);
    // The old opening's ten minutes: nothing, the opening is two hours away.
    remind_at(&setup, opening_ms - TEN_MINUTES_MS).await;
    assert_eq!(reminders_of(&setup, &member).await.len(), 1);
    // The new opening's hour and ten minutes.
    remind_at(&setup, moved_ms - HOUR_MS).await;
    remind_at(&setup, moved_ms - TEN_MINUTES_MS).await;
    let found = reminders_of(&setup, &member).await;
    assert_eq!(found.len(), 3, "{found:?}");
    assert_eq!(found[0]["data"]["opens_at_ms"], moved_ms.to_string());
    assert_eq!(found[1]["data"]["opens_at_ms"], moved_ms.to_string());
    assert_eq!(found[2]["data"]["opens_at_ms"], opening_ms.to_string());
    // An opening already past is refused; an unknown performance is not found.
    let past = json!({"open_at_ms": 1_000, "admit_per_sec": 10, "active_max": 100, "admission_ttl_ms": 600_000, "seat_limit": 4, "grace_ms": 60_000, "paused": false});
    let configured = call(
        setup.address,
        "PUT",
        &format!("/api/v2/sales/{performance}"),
        &past.to_string(),
        Some(OPERATOR),
    )
    .await;
    assert_eq!(configured.status, 200, "{:?}", configured.body);
    let refused = call(
        setup.address,
        "PUT",
        &format!("/api/v2/performances/{performance}/reminder"),
        "{}",
        Some(&member),
    )
    .await;
    assert_eq!(refused.status, 409, "{:?}", refused.body);
    let unknown = call(
        setup.address,
        "PUT",
        "/api/v2/performances/42/reminder",
        "{}",
        Some(&member),
    )
    .await;
    assert_eq!(unknown.status, 404, "{:?}", unknown.body);
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

/// Waits until the bookings projection has every journal entry (bookers are read from it).
async fn projected(setup: &ApiSetup) {
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
    let deadline = tokio::time::Instant::now() + WAIT_MAX;
    while setup.api.store.projection_reached(0).await.expect("cursor") < last {
        assert!(tokio::time::Instant::now() < deadline, "never projected");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the notifier has sent every notice asked to be sent.
async fn notices_sent(setup: &ApiSetup) {
    let deadline = tokio::time::Instant::now() + WAIT_MAX;
    loop {
        let pending: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM notice_sends WHERE done = 0")
            .fetch_one(setup.api.store.pool())
            .await
            .expect("count");
        if pending == 0 {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "notices never sent");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn a_sellers_notice_reaches_each_booker_once_and_no_one_else() {
    notice_reaches_each_booker_once(ApiSetup::start().await).await;
}

#[tokio::test]
async fn a_sellers_notice_reaches_each_booker_once_and_no_one_else_on_postgres() {
    notice_reaches_each_booker_once(ApiSetup::start_postgres().await).await;
}

async fn notice_reaches_each_booker_once(setup: ApiSetup) {
    let (show, performance) = setup
        .published_show("seller@example.com", &business_number(13))
        .await;
    let (_, other_performance) = setup
        .published_show("other@example.com", &business_number(14))
        .await;
    let seller = setup.sign_in("seller@example.com").await;
    let (twice, twice_token) = setup.member("twice@example.com").await;
    let (once, once_token) = setup.member("once@example.com").await;
    let (cancelled, cancelled_token) = setup.member("cancelled@example.com").await;
    let (elsewhere, elsewhere_token) = setup.member("elsewhere@example.com").await;
    let (_, stranger_token) = setup.member("stranger@example.com").await;
    // Two bookings of one member, one of another, one wholly cancelled, one of another show.
    setup
        .book(twice as u64, "t1", performance, &[1], None)
        .await;
    setup
        .book(twice as u64, "t2", performance, &[2], None)
        .await;
    setup.book(once as u64, "o1", performance, &[3], None).await;
    let (booking, tickets) = setup
        .book(cancelled as u64, "c1", performance, &[4], None)
        .await;
    let cancel = setup
        .submit(
            cancelled as u64,
            "cancel-c1",
            Command::Cancel {
                performance: PerformanceId(performance),
                booking,
                tickets,
            },
        )
        .await;
    assert!(matches!(cancel, Ok(Reply::Cancelled { .. })), "{cancel:?}");
    setup
        .book(elsewhere as u64, "e1", other_performance, &[1], None)
        .await;
    projected(&setup).await;
    let notifier = start_notifier(&setup);
    let post = |body: Value| {
        let address = setup.address;
        let seller = seller.clone();
        async move {
            call(
                address,
                "POST",
                &format!("/api/v2/shows/{show}/notices"),
                &body.to_string(),
                Some(&seller),
            )
            .await
        }
    };
    // A notice on the board only: no notification.
    let quiet = post(json!({"title": "주차 안내", "body": "주차장이 혼잡합니다."})).await;
    assert_eq!(quiet.status, 201, "{:?}", quiet.body);
    // Refused: a performance without sending, another show's performance.
    let alone =
        post(json!({"title": "t", "body": "b", "performance": performance.to_string()})).await;
    assert_eq!(alone.status, 422, "{:?}", alone.body);
    let theirs = post(json!({"title": "t", "body": "b", "notify_bookers": true, "performance": other_performance.to_string()})).await;
    assert_eq!(theirs.status, 404, "{:?}", theirs.body);
    let long = "공연 시간이 변경되었습니다. ".repeat(100);
    let sent = post(json!({"title": "공연 시간 변경", "body": long, "notify_bookers": true})).await;
    assert_eq!(sent.status, 201, "{:?}", sent.body);
    let post_id = sent.body["id"].as_str().expect("id").to_owned();
    notices_sent(&setup).await;
    // Sent again from the start (a notifier that lost its cursor): still once each.
    sqlx::query("UPDATE notice_sends SET done = 0, after_performance = 0, after_booking = 0")
        .execute(setup.api.store.pool())
        .await
        .expect("rewind");
    notices_sent(&setup).await;
    notifier.stop().await;
    for token in [&twice_token, &once_token] {
        let notices = of_kind(&inbox(&setup, token).await, "seller_notice");
        assert_eq!(notices.len(), 1, "{notices:?}");
        let notice = &notices[0];
        assert_eq!(notice["data"]["post"], post_id);
        assert_eq!(notice["data"]["show"], show.to_string());
        assert_eq!(notice["title"], "공연 공지");
        let body = notice["body"].as_str().expect("body");
        assert!(
            body.starts_with("「레미제라블」 공연 시간 변경: 공연 시간이 변경되었습니다."),
            "{body}"
        );
        assert_eq!(
            body.chars().count(),
            picket_notifier::compose::NOTICE_BODY_CHARS_MAX
        );
    }
    for token in [&cancelled_token, &elsewhere_token, &stranger_token] {
        assert!(
            of_kind(&inbox(&setup, token).await, "seller_notice").is_empty(),
            "a notice reached someone with no booking of the show"
        );
    }
}

#[tokio::test]
async fn choices_round_trip_and_set_the_rows_flags_and_language() {
    choices_set_the_rows(ApiSetup::start().await).await;
}

#[tokio::test]
async fn choices_round_trip_and_set_the_rows_flags_and_language_on_postgres() {
    choices_set_the_rows(ApiSetup::start_postgres().await).await;
}

async fn choices_set_the_rows(setup: ApiSetup) {
    let (_, performance) = setup
        .published_show("seller@example.com", &business_number(15))
        .await;
    let (chooser, chooser_token) = setup.member("chooser@example.com").await;
    let (default, default_token) = setup.member("default@example.com").await;
    let settings = |token: String| {
        let address = setup.address;
        async move {
            call(
                address,
                "GET",
                "/api/v2/me/notification-settings",
                "",
                Some(&token),
            )
            .await
        }
    };
    let put = |body: Value| {
        let address = setup.address;
        let token = chooser_token.clone();
        async move {
            call(
                address,
                "PUT",
                "/api/v2/me/notification-settings",
                &body.to_string(),
                Some(&token),
            )
            .await
        }
    };
    // The defaults: Korean, every channel of every kind.
    let defaults = settings(chooser_token.clone()).await;
    assert_eq!(defaults.status, 200);
    assert_eq!(defaults.body["language"], "ko");
    let kinds = picket_api::notification_settings::KINDS;
    for kind in kinds {
        assert_eq!(
            defaults.body["channels"][kind],
            json!({"app": true, "push": true}),
            "{kind}"
        );
    }
    let chosen = put(json!({"language": "en", "channels": {"reminder": {"app": false, "push": true}, "seller_notice": {"app": true, "push": false}}})).await;
    assert_eq!(chosen.status, 200, "{:?}", chosen.body);
    let read = settings(chooser_token.clone()).await;
    assert_eq!(read.body, chosen.body);
    assert_eq!(read.body["language"], "en");
    assert_eq!(
        read.body["channels"]["reminder"],
        json!({"app": false, "push": true})
    );
    assert_eq!(
        read.body["channels"]["interest_alert"],
        json!({"app": true, "push": true})
    );
    // Refused: an unknown kind, an unknown language, a channel missing.
    let unknown =
        put(json!({"language": "en", "channels": {"gossip": {"app": true, "push": true}}})).await;
    assert_eq!(unknown.status, 422, "{:?}", unknown.body);
    assert_eq!(put(json!({"language": "fr"})).await.status, 400);
    assert_eq!(
        put(json!({"language": "ko", "channels": {"reminder": {"app": true}}}))
            .await
            .status,
        400
    );
    assert_eq!(settings(chooser_token.clone()).await.body, chosen.body);

    // A reminder for each: the rows carry each member's choice.
    let opening_ms = opens_at(&ask_reminder(&setup, &chooser_token, performance, json!({})).await);
    ask_reminder(&setup, &default_token, performance, json!({})).await;
    remind_at(&setup, opening_ms - HOUR_MS).await;
    let row = |account: i64| {
        let pool = setup.api.store.pool().clone();
        async move {
            let row: (i64, i64, String) = sqlx::query_as(
                "SELECT app, push, language FROM notifications \
                 WHERE account_id = $1 AND kind = 'reminder'",
            )
            .bind(account)
            .fetch_one(&pool)
            .await
            .expect("the reminder's row");
            row
        }
    };
    assert_eq!(row(chooser).await, (0, 1, "en".to_owned()));
    assert_eq!(row(default).await, (1, 1, "ko".to_owned()));
    // The inbox answers in the member's language unless Accept-Language asks for another.
    let found = reminders_of(&setup, &chooser_token).await;
    assert_eq!(found[0]["language"], "en");
    assert_eq!(found[0]["title"], "Tickets open soon");
    let korean = call_raw(
        setup.address,
        "GET",
        "/api/v2/me/notifications",
        &[
            ("Authorization", &format!("Bearer {chooser_token}")),
            ("Accept-Language", "ko-KR,ko;q=0.9"),
        ],
        b"",
    )
    .await;
    assert_eq!(korean.0, 200);
    let korean: Value = serde_json::from_slice(&korean.2).expect("json");
    assert_eq!(korean["items"][0]["language"], "ko");
    assert_eq!(korean["items"][0]["title"], "티켓 오픈 알림");
    assert_eq!(
        reminders_of(&setup, &default_token).await[0]["language"],
        "ko"
    );
    // Back to the defaults: the next notification's row follows.
    assert_eq!(put(json!({"language": "ko"})).await.status, 200);
    remind_at(&setup, opening_ms - TEN_MINUTES_MS).await;
    let rows: Vec<(i64, i64, String)> = sqlx::query_as(
        "SELECT app, push, language FROM notifications \
         WHERE account_id = $1 AND kind = 'reminder' ORDER BY created_at_ms",
    )
    .bind(chooser)
    .fetch_all(setup.api.store.pool())
    .await
    .expect("rows");
    assert_eq!(rows, [(0, 1, "en".to_owned()), (1, 1, "ko".to_owned())]);
}
