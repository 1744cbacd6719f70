//! Live notifications (issue 15, "Channels"; docs/protocol.md, `notification`): a member
//! connected to a gateway over the WebSocket gets the interest alert of a show a seller
//! publishes through the HTTP API within 2 s of the publish call returning, through the
//! notifier, its outbox and delivery loop and the member's subject — on the in-process bus as in
//! `picket up`, and on NATS from the harness as between processes. A delivery loop restarted
//! behind what it sent sends again from its persisted cursor and loses nothing. A member with no
//! app connected gets the alert by Web Push: the harness's push service receives it, and the
//! Python package `http-ece` decrypts it to the inbox's item, in the member's chosen language.

use std::time::Duration;

use picket_ledger_client::{LedgerClient, Notices};
use picket_notifier::deliver::{Channels, DeliveryMetrics};
use picket_notifier::{NotifierConfig, Wakes};
use picket_tests::api::{ApiSetup, call, draft_show_at, publish_show_at};
use picket_tests::gateway::Client;
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::sync::watch;

/// The bound from the publish call returning to the message on the socket.
const ALERT_WITHIN: Duration = Duration::from_secs(2);
/// Bounds a broken setup step (a follow that never happens), not a slow one.
const WAIT_MAX: Duration = Duration::from_secs(20);

/// A valid business registration number built from `n` (the check digit computed by trying).
fn business_number(n: u64) -> String {
    let stem = format!("{:09}", 100_000_000 + n);
    (0..10)
        .map(|d| format!("{stem}{d}"))
        .find(|candidate| picket_api::sellers::business_number_digits(candidate).is_some())
        .expect("one check digit fits")
}

/// A task stopped by sending `true`.
struct Running {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Running {
    async fn stop(self) {
        let _ = self.stop.send(true);
        self.task.await.expect("stops cleanly");
    }
}

fn start_delivery(setup: &ApiSetup, notices: &Notices, wakes: &Wakes) -> Running {
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(picket_notifier::deliver::run(
        setup.api.store.clone(),
        Channels {
            notices: Some(notices.clone()),
            push: None,
        },
        Arc::new(DeliveryMetrics::default()),
        wakes.written.clone(),
        stopped,
    ));
    Running { stop, task }
}

fn start_notifier(setup: &ApiSetup, wakes: &Wakes) -> Running {
    let (stop, stopped) = watch::channel(false);
    let task = tokio::spawn(picket_notifier::run_woken(
        setup.api.store.clone(),
        LedgerClient::in_process(setup.cluster.ledger.handle.clone()),
        NotifierConfig::new(vec![0]),
        wakes.clone(),
        stopped,
    ));
    Running { stop, task }
}

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

/// Waits until the gateway follows `member`'s subject (the subscription is in place, so what
/// is published from now on reaches it).
async fn followed(setup: &ApiSetup, member: i64) {
    let gateway = &setup.cluster.gateways[0].0;
    let deadline = tokio::time::Instant::now() + WAIT_MAX;
    while !gateway.followers.following(member as u64) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the gateway never followed member {member}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Publishes a fresh show of seller `n` (category musical, region seoul) and returns its id
/// and when the publish call returned.
async fn publish(setup: &ApiSetup, n: u64) -> (i64, tokio::time::Instant) {
    let (token, show, _) = draft_show_at(
        setup.address,
        &format!("seller{n}@example.com"),
        &business_number(n),
        json!({}),
        100,
    )
    .await;
    let published = publish_show_at(setup.address, &token, show).await;
    assert_eq!(published.status, 200, "{:?}", published.body);
    (show, tokio::time::Instant::now())
}

/// The message as the inbox lists it: without its `type`.
fn as_item(message: &Value) -> Value {
    let mut item = message.clone();
    item.as_object_mut().expect("an object").remove("type");
    item
}

#[tokio::test]
async fn a_connected_member_gets_the_interest_alert_live_in_process() {
    let setup = ApiSetup::start().await;
    let wakes = Wakes::default();
    tokio::spawn(picket_notifier::wake_on_published(
        setup.api.published.subscribe(),
        wakes.published.clone(),
    ));
    live_alert(setup, Notices::in_process(), wakes).await;
}

#[tokio::test]
async fn a_connected_member_gets_the_interest_alert_live_over_nats() {
    let nats = picket_tests::Nats::start().expect("nats");
    let setup = ApiSetup::start().await;
    let client = picket_ledger_client::bus::connect(&nats.url(), "notifier-live")
        .await
        .expect("connect");
    // The API announces on PICKET_CATALOG, which wakes the notifier as in `picket notifier`.
    setup
        .api
        .announce_on(client.clone())
        .await
        .expect("announcements");
    let wakes = Wakes::default();
    let (_keep_following, following) = watch::channel(false);
    tokio::spawn(picket_notifier::wake_on_announcements(
        client.clone(),
        setup.api.store.clone(),
        picket_notifier::CONSUMER_DEFAULT.to_string(),
        wakes.published.clone(),
        following,
    ));
    live_alert(setup, Notices::nats(client), wakes).await;
}

async fn live_alert(setup: ApiSetup, notices: Notices, wakes: Wakes) {
    setup.cluster.gateways[0].0.set_notices(notices.clone());
    let notifier = start_notifier(&setup, &wakes);
    let delivery = start_delivery(&setup, &notices, &wakes);
    let (member, token) = setup.member("fan@example.com").await;
    let interests = json!({"categories": ["musical"], "regions": ["seoul"]});
    let answer = call(
        setup.address,
        "PUT",
        "/api/v2/me/interests",
        &interests.to_string(),
        Some(&token),
    )
    .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    let mut app = Client::hello(
        setup.cluster.address(0),
        json!({"type": "hello", "token": token}),
    )
    .await;
    assert_eq!(app.identity, format!("m:{member}"));
    followed(&setup, member).await;

    let (show, returned) = publish(&setup, 1).await;
    let alert = app
        .next_of_within("notification", ALERT_WITHIN)
        .await
        .expect("the interest alert arrives within 2 s of the publish call returning");
    assert!(returned.elapsed() <= ALERT_WITHIN);
    assert_eq!(alert["type"], "notification");
    assert_eq!(alert["kind"], "interest_alert");
    assert_eq!(alert["read"], false);
    assert_eq!(alert["language"], "ko");
    assert_eq!(alert["data"]["show"], show.to_string());
    assert_eq!(alert["title"], alert["texts"]["ko"]["title"]);
    assert_eq!(alert["body"], alert["texts"]["ko"]["body"]);
    assert!(
        alert["body"]
            .as_str()
            .is_some_and(|body| body.contains("레미제라블")),
        "{alert}"
    );
    assert!(
        alert["texts"]["en"]["title"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    // The same fields as the inbox's item (in Korean, as the inbox answers by default).
    let items = inbox(&setup, &token).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0], as_item(&alert));

    // The delivery loop stops; a second show's alert is written meanwhile. The loop had also
    // died after sending the first alert but before its cursor said so (moved back here): the
    // restarted loop sends from its cursor, the first alert again (same id: the app shows it
    // once) and the second, and nothing is lost.
    delivery.stop().await;
    let (second, _) = publish(&setup, 2).await;
    let deadline = tokio::time::Instant::now() + WAIT_MAX;
    let items = loop {
        let items = inbox(&setup, &token).await;
        if items.len() == 2 {
            break items;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the second alert never reached the inbox"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        app.next_of_within("notification", Duration::from_millis(300))
            .await
            .is_none(),
        "nothing is delivered while the loop is stopped"
    );
    sqlx::query("UPDATE delivery_cursors SET seq = seq - 1 WHERE channel = 'app'")
        .execute(setup.api.store.pool())
        .await
        .expect("move the cursor back");
    let delivery = start_delivery(&setup, &notices, &wakes);
    let again = app
        .next_of_within("notification", WAIT_MAX)
        .await
        .expect("the first alert is sent again");
    assert_eq!(again, alert);
    let next = app
        .next_of_within("notification", WAIT_MAX)
        .await
        .expect("the second alert arrives");
    assert_eq!(next["data"]["show"], second.to_string());
    // Every inbox item went out live (the inbox lists newest first).
    assert_eq!(items[0], as_item(&next));
    assert_eq!(items[1], as_item(&alert));
    assert!(
        app.next_of_within("notification", Duration::from_millis(300))
            .await
            .is_none(),
        "no more than what was after the cursor"
    );

    // The member's last connection closes: the gateway stops following the subject.
    drop(app);
    let deadline = tokio::time::Instant::now() + WAIT_MAX;
    while setup.cluster.gateways[0]
        .0
        .followers
        .following(member as u64)
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "still following after the last connection closed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    delivery.stop().await;
    notifier.stop().await;
}

#[tokio::test]
async fn an_unconnected_member_gets_the_interest_alert_by_web_push_in_their_language() {
    let setup = ApiSetup::start_with(|config| config.push_loopback_http = true).await;
    let wakes = Wakes::default();
    tokio::spawn(picket_notifier::wake_on_published(
        setup.api.published.subscribe(),
        wakes.published.clone(),
    ));
    let service = picket_tests::push::PushService::start().await;
    let browser = picket_tests::push::BrowserKeys::generate();
    let (_, token) = setup.member("away@example.com").await;
    for (method, path, body) in [
        (
            "PUT",
            "/api/v2/me/interests",
            json!({"categories": ["musical"], "regions": ["seoul"]}),
        ),
        (
            "PUT",
            "/api/v2/me/notification-settings",
            json!({"language": "en"}),
        ),
        (
            "POST",
            "/api/v2/me/push-subscriptions",
            browser.to_json(&service.endpoint("away")),
        ),
    ] {
        let answer = call(setup.address, method, path, &body.to_string(), Some(&token)).await;
        assert!(
            answer.status == 200 || answer.status == 201,
            "{path}: {:?}",
            answer.body
        );
    }
    let notifier = start_notifier(&setup, &wakes);
    let (stop, stopped) = watch::channel(false);
    let sender = picket_notifier::push::PushSender::new(
        setup.api.config.vapid.clone(),
        picket_notifier::push::PushLimits::default(),
    )
    .expect("sender");
    let delivery = Running {
        stop,
        task: tokio::spawn(picket_notifier::deliver::run(
            setup.api.store.clone(),
            Channels {
                notices: None,
                push: Some(Arc::new(picket_notifier::push_channel::WebPush::new(
                    setup.api.store.clone(),
                    sender,
                ))),
            },
            Arc::new(DeliveryMetrics::default()),
            wakes.written.clone(),
            stopped,
        )),
    };

    let (show, _) = publish(&setup, 3).await;
    let deadline = tokio::time::Instant::now() + WAIT_MAX;
    while service.received().is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no push reached the member's push service"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pushed = service.received();
    assert_eq!(pushed.len(), 1, "one alert, one push");
    assert_eq!(pushed[0].subscription, "away");
    assert_eq!(pushed[0].headers["content-encoding"], "aes128gcm");
    let claims = &picket_tests::push::verify_vapid(&pushed[0].headers["authorization"])["claims"];
    assert_eq!(claims["aud"], service.origin());
    let payload: Value =
        serde_json::from_slice(&browser.decrypt(&pushed[0].body)).expect("the payload is JSON");
    assert_eq!(payload["kind"], "interest_alert");
    assert_eq!(payload["data"]["show"], show.to_string());
    // The member chose English: the push is in English, with both languages under `texts`.
    assert_eq!(payload["language"], "en");
    assert_eq!(payload["title"], payload["texts"]["en"]["title"]);
    assert_ne!(
        payload["texts"]["ko"]["title"],
        payload["texts"]["en"]["title"]
    );
    // What the service worker shows is the inbox's entry (which also answers in English).
    let items = inbox(&setup, &token).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0], payload);
    delivery.stop().await;
    notifier.stop().await;
}
