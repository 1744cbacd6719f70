//! Web Push (issue 15, "Channels"; docs/protocol.md, "Web Push"): the notifier's sender against
//! a local push service, its bodies decrypted by the Python package `http-ece` and its VAPID
//! tokens verified by Python's `cryptography`; and members' subscriptions through the API, the
//! key browsers subscribe with, and a push to a subscription stored that way.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use picket_api::push::{PUSH_SUBSCRIPTIONS_PER_MEMBER_MAX, PushSubscription};
use picket_api::vapid::VapidKeys;
use picket_notifier::push::{
    PUSH_PAYLOAD_BYTES_MAX, PushLimits, PushOutcome, PushSender, Urgency,
    VAPID_TOKEN_LIFETIME_S_MAX,
};
use picket_tests::api::{ApiSetup, call};
use picket_tests::push::{BrowserKeys, PushService, verify_vapid};
use serde_json::json;

const SUBJECT: &str = "mailto:push-ops@picket.example";

fn sender(vapid: VapidKeys) -> PushSender {
    PushSender::new(
        vapid.with_subject(SUBJECT).expect("subject"),
        PushLimits::default(),
    )
    .expect("sender")
}

fn now_s() -> u64 {
    picket_api::state::now_ms() / 1_000
}

#[tokio::test]
async fn a_push_decrypts_with_http_ece_and_its_vapid_token_verifies() {
    let service = PushService::start().await;
    let browser = BrowserKeys::generate();
    let vapid = VapidKeys::generate();
    let sender = sender(vapid.clone());
    let subscription = browser.subscription(&service.endpoint("a"));
    let payload = json!({"id": "n1", "title": "관심 공연이 열렸습니다", "body": "Interest alert"})
        .to_string();
    let before_s = now_s();
    let outcome = sender
        .send(&subscription, payload.as_bytes(), 3_600, Urgency::High)
        .await;
    assert_eq!(outcome, PushOutcome::Delivered);
    let received = service.received();
    assert_eq!(received.len(), 1);
    let push = &received[0];
    assert_eq!(push.subscription, "a");
    assert_eq!(push.headers["content-encoding"], "aes128gcm");
    assert_eq!(push.headers["content-type"], "application/octet-stream");
    assert_eq!(push.headers["ttl"], "3600");
    assert_eq!(push.headers["urgency"], "high");
    assert_eq!(browser.decrypt(&push.body), payload.as_bytes());

    let checked = verify_vapid(&push.headers["authorization"]);
    assert_eq!(checked["header"], json!({"typ": "JWT", "alg": "ES256"}));
    assert_eq!(checked["k"], vapid.public_key_base64url());
    let claims = &checked["claims"];
    assert_eq!(claims["aud"], service.origin());
    assert_eq!(claims["sub"], SUBJECT);
    let exp = claims["exp"].as_u64().expect("exp");
    assert!(exp > before_s, "{exp} is not after {before_s}");
    assert!(
        exp <= now_s() + VAPID_TOKEN_LIFETIME_S_MAX,
        "exp {exp} is more than 24 h away"
    );

    // The largest payload fits in one record; one byte more is refused before any request.
    let largest = "가".repeat(PUSH_PAYLOAD_BYTES_MAX / 3) + &"x".repeat(PUSH_PAYLOAD_BYTES_MAX % 3);
    assert_eq!(largest.len(), PUSH_PAYLOAD_BYTES_MAX);
    let outcome = sender
        .send(&subscription, largest.as_bytes(), 60, Urgency::Normal)
        .await;
    assert_eq!(outcome, PushOutcome::Delivered);
    let received = service.received();
    assert_eq!(browser.decrypt(&received[1].body), largest.as_bytes());
    let over = vec![b'x'; PUSH_PAYLOAD_BYTES_MAX + 1];
    let outcome = sender.send(&subscription, &over, 60, Urgency::Normal).await;
    assert_eq!(outcome, PushOutcome::Rejected { status: 413 });
    assert_eq!(service.received().len(), 2);
}

#[tokio::test]
async fn the_push_services_answers_become_outcomes() {
    let service = PushService::start().await;
    let browser = BrowserKeys::generate();
    let sender = sender(VapidKeys::generate());
    service.answer("not-found", 404, None);
    service.answer("gone", 410, None);
    service.answer("slow-down", 429, Some("30"));
    service.answer("busy", 429, None);
    service.answer("broken", 500, None);
    service.answer("unavailable", 503, Some("2"));
    service.answer("bad", 400, None);
    service.answer("forbidden", 403, None);
    let cases = [
        ("ok", PushOutcome::Delivered),
        ("not-found", PushOutcome::Gone),
        ("gone", PushOutcome::Gone),
        (
            "slow-down",
            PushOutcome::Retry {
                after_ms: Some(30_000),
            },
        ),
        ("busy", PushOutcome::Retry { after_ms: None }),
        ("broken", PushOutcome::Retry { after_ms: None }),
        (
            "unavailable",
            PushOutcome::Retry {
                after_ms: Some(2_000),
            },
        ),
        ("bad", PushOutcome::Rejected { status: 400 }),
        ("forbidden", PushOutcome::Rejected { status: 403 }),
    ];
    for (name, expected) in cases {
        let subscription = browser.subscription(&service.endpoint(name));
        let outcome = sender.send(&subscription, b"{}", 60, Urgency::Low).await;
        assert_eq!(outcome, expected, "{name}");
    }
    assert_eq!(service.received().len(), cases.len());

    // Nothing listening: a network error, tried again later.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = closed.local_addr().expect("addr");
    drop(closed);
    let nowhere = browser.subscription(&format!("http://{address}/push/x"));
    let outcome = sender.send(&nowhere, b"{}", 60, Urgency::Low).await;
    assert_eq!(outcome, PushOutcome::Retry { after_ms: None });
}

#[tokio::test]
async fn members_manage_subscriptions_and_a_stored_one_is_pushed_to() {
    manage_and_push(ApiSetup::start_with(|config| config.push_loopback_http = true).await).await;
}

#[tokio::test]
async fn members_manage_subscriptions_and_a_stored_one_is_pushed_to_on_postgres() {
    let setup = ApiSetup::start_postgres_with(|config| config.push_loopback_http = true).await;
    manage_and_push(setup).await;
}

async fn manage_and_push(setup: ApiSetup) {
    let service = PushService::start().await;
    let (member, token) = setup.member("push@example.com").await;
    let (other, other_token) = setup.member("push-other@example.com").await;

    // The key browsers subscribe with is the one pushes are signed with.
    let key = call(setup.address, "GET", "/api/v2/push/key", "", None).await;
    assert_eq!(key.status, 200, "{:?}", key.body);
    let public_key = key.body["public_key"].as_str().expect("key").to_owned();
    assert_eq!(public_key, setup.api.config.vapid.public_key_base64url());
    assert_eq!(URL_SAFE_NO_PAD.decode(&public_key).expect("b64").len(), 65);

    let path = "/api/v2/me/push-subscriptions";
    let browser = BrowserKeys::generate();
    let form = browser.to_json(&service.endpoint("phone")).to_string();
    let first = call(setup.address, "POST", path, &form, Some(&token)).await;
    assert_eq!(first.status, 201, "{:?}", first.body);
    assert_eq!(first.body["origin"], service.origin());
    let id = first.body["id"].as_str().expect("id").to_owned();
    // The same endpoint again (keys rotated): the same subscription.
    let rotated = BrowserKeys::generate();
    let again = rotated.to_json(&service.endpoint("phone")).to_string();
    let second = call(setup.address, "POST", path, &again, Some(&token)).await;
    assert_eq!(second.status, 200, "{:?}", second.body);
    assert_eq!(second.body["id"], id.as_str());
    let listed = call(setup.address, "GET", path, "", Some(&token)).await;
    assert_eq!(listed.status, 200);
    assert_eq!(
        listed.body["items"],
        json!([{"id": id, "origin": service.origin(), "created_at_ms": first.body["created_at_ms"]}])
    );

    // What the delivery loop reads: the member's subscriptions, ready to send to, and the
    // rotated keys are the ones used.
    let rows = setup
        .api
        .store
        .push_subscriptions(member)
        .await
        .expect("rows");
    assert_eq!(rows.len(), 1);
    let stored = PushSubscription::from_row(&rows[0]).expect("keys decode");
    assert_eq!(stored, rotated.subscription(&service.endpoint("phone")));
    let sender =
        PushSender::new(setup.api.config.vapid.clone(), PushLimits::default()).expect("sender");
    let payload = "예매가 확정되었습니다 / booking confirmed";
    assert_eq!(
        sender
            .send(&stored, payload.as_bytes(), 60, Urgency::Normal)
            .await,
        PushOutcome::Delivered
    );
    let pushed = service.received();
    assert_eq!(rotated.decrypt(&pushed[0].body), payload.as_bytes());
    assert_eq!(
        verify_vapid(&pushed[0].headers["authorization"])["k"],
        public_key
    );

    // Refused: what is not a browser's subscription, field by field.
    let bad = json!({"endpoint": "http://10.0.0.1/x", "keys": {"p256dh": "AAAA", "auth": URL_SAFE_NO_PAD.encode([1u8; 15])}});
    let refused = call(setup.address, "POST", path, &bad.to_string(), Some(&token)).await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    let fields: Vec<&str> = refused.body["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["field"].as_str())
        .collect();
    assert_eq!(fields, ["endpoint", "keys.p256dh", "keys.auth"]);
    let unsigned = call(setup.address, "POST", path, &form, None).await;
    assert_eq!(unsigned.status, 401);

    // Up to the per-member limit, then 409 until one is deleted.
    for n in 1..PUSH_SUBSCRIPTIONS_PER_MEMBER_MAX {
        let form = browser.to_json(&service.endpoint(&format!("d{n}")));
        let made = call(setup.address, "POST", path, &form.to_string(), Some(&token)).await;
        assert_eq!(made.status, 201, "{n}: {:?}", made.body);
    }
    let extra = browser.to_json(&service.endpoint("extra")).to_string();
    let full = call(setup.address, "POST", path, &extra, Some(&token)).await;
    assert_eq!(full.status, 409, "{:?}", full.body);
    assert_eq!(full.body["code"], "too_many_push_subscriptions");

    // Another member cannot delete it; the member can, once.
    let item = format!("{path}/{id}");
    let foreign = call(setup.address, "DELETE", &item, "", Some(&other_token)).await;
    assert_eq!(foreign.status, 404);
    let deleted = call(setup.address, "DELETE", &item, "", Some(&token)).await;
    assert_eq!(deleted.status, 204);
    let twice = call(setup.address, "DELETE", &item, "", Some(&token)).await;
    assert_eq!(twice.status, 404);
    let room = call(setup.address, "POST", path, &extra, Some(&token)).await;
    assert_eq!(room.status, 201, "{:?}", room.body);

    // The browser's user changed: the endpoint moves to the member who subscribed it last.
    let moved = call(setup.address, "POST", path, &extra, Some(&other_token)).await;
    assert_eq!(moved.status, 201, "{:?}", moved.body);
    let mine = setup
        .api
        .store
        .push_subscriptions(member)
        .await
        .expect("rows");
    assert_eq!(mine.len(), PUSH_SUBSCRIPTIONS_PER_MEMBER_MAX - 1);
    let theirs = setup
        .api
        .store
        .push_subscriptions(other)
        .await
        .expect("rows");
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0].endpoint, service.endpoint("extra"));

    // Gone subscriptions are dropped by the delivery loop, by id or by endpoint.
    assert!(
        setup
            .api
            .store
            .delete_push_subscription_by_id(theirs[0].id)
            .await
            .expect("deleted")
    );
    assert!(
        setup
            .api
            .store
            .delete_push_endpoint(&mine[0].endpoint)
            .await
            .expect("deleted")
    );
    assert!(
        !setup
            .api
            .store
            .delete_push_endpoint(&mine[0].endpoint)
            .await
            .expect("nothing left")
    );
}

#[tokio::test]
async fn without_the_test_switch_loopback_endpoints_are_refused() {
    let setup = ApiSetup::start().await;
    let (_, token) = setup.member("push-prod@example.com").await;
    let browser = BrowserKeys::generate();
    let form = browser.to_json("http://127.0.0.1:9/push/a").to_string();
    let refused = call(
        setup.address,
        "POST",
        "/api/v2/me/push-subscriptions",
        &form,
        Some(&token),
    )
    .await;
    assert_eq!(refused.status, 422, "{:?}", refused.body);
    let named = browser
        .to_json("https://push.example.com/wpush/v2/abc")
        .to_string();
    let taken = call(
        setup.address,
        "POST",
        "/api/v2/me/push-subscriptions",
        &named,
        Some(&token),
    )
    .await;
    assert_eq!(taken.status, 201, "{:?}", taken.body);
    assert_eq!(taken.body["origin"], "https://push.example.com");
}
