//! The authorization matrix: every endpoint of the API called as every role — anonymous, guest,
//! member, the show's seller, another seller, venue staff, admin — must be allowed (anything but
//! 401/403) or refused (401 without a fitting credential, 403 with one) exactly as listed here.

use picket_edge::token::Claims;
use picket_tests::api::{ApiSetup, OPERATOR, PASSWORD, call};
use picket_tests::gateway::test_keys;
use serde_json::json;

const ROLES: [&str; 7] = [
    "anonymous",
    "guest",
    "member",
    "owner",
    "other_seller",
    "staff",
    "admin",
];
const SIGNED_IN: [&str; 5] = ["member", "owner", "other_seller", "staff", "admin"];

/// A valid business registration number built from `n` (the check digit computed by trying).
fn business_number(n: u64) -> String {
    let stem = format!("{:09}", 100_000_000 + n);
    (0..10)
        .map(|d| format!("{stem}{d}"))
        .find(|candidate| picket_api::sellers::business_number_digits(candidate).is_some())
        .expect("one check digit fits")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_endpoint_as_every_role() {
    let setup = ApiSetup::start().await;
    let address = setup.address;
    let (published, published_performance) = setup
        .published_show("owner@example.com", "123-45-67891")
        .await;
    let owner = setup.sign_in("owner@example.com").await;
    setup
        .published_show("other@example.com", "220-81-62517")
        .await;
    let other = setup.sign_in("other@example.com").await;
    let (_, member) = setup.member("member@example.com").await;
    let mut staff_id = 0;
    let mut tokens = std::collections::HashMap::new();
    for (email, role) in [
        ("staff@example.com", "staff"),
        ("admin@example.com", "admin"),
    ] {
        let form =
            json!({"account": {"email": email, "password": PASSWORD, "name": role}, "role": role});
        let created = call(
            address,
            "POST",
            "/api/v2/admin/accounts",
            &form.to_string(),
            Some(OPERATOR),
        )
        .await;
        if role == "staff" {
            staff_id = picket_tests::ids::id_i64(&created.body["id"]);
        }
        tokens.insert(role, setup.sign_in(email).await);
    }
    let guest = test_keys().sign(&Claims::Guest {
        device: "guest-device-authz01".into(),
        exp_ms: picket_edge::clock::now_ms() + 3_600_000,
    });
    tokens.insert("guest", guest);
    tokens.insert("member", member);
    tokens.insert("owner", owner.clone());
    tokens.insert("other_seller", other);

    // A draft of the owner's, a venue, a question on the published show.
    let venue = call(
        address,
        "GET",
        &format!("/api/v2/shows/{published}"),
        "",
        None,
    )
    .await
    .body["venue_id"]
        .as_str()
        .and_then(|id| id.parse::<i64>().ok())
        .expect("an id");
    let draft_form = json!({"title": "Draft", "category": "concert", "venue_id": venue.to_string(), "description": "", "age_rating": "all",
        "running_minutes": 90, "grades": [{"code": "A", "price_won": 50000, "sections": ["A", "B"], "zones": ["Floor"]}]});
    let draft = call(
        address,
        "POST",
        "/api/v2/shows",
        &draft_form.to_string(),
        Some(&owner),
    )
    .await
    .body["id"]
        .as_str()
        .and_then(|id| id.parse::<i64>().ok())
        .expect("an id");
    let question = call(
        address,
        "POST",
        &format!("/api/v2/shows/{published}/questions"),
        &json!({"title": "Q", "body": "?"}).to_string(),
        Some(&tokens["member"]),
    )
    .await
    .body["id"]
        .as_str()
        .and_then(|id| id.parse::<i64>().ok())
        .expect("an id");
    let doomed = call(
        address,
        "POST",
        &format!("/api/v2/shows/{published}/questions"),
        &json!({"title": "Doomed", "body": "?"}).to_string(),
        Some(&tokens["member"]),
    )
    .await
    .body["id"]
        .as_str()
        .and_then(|id| id.parse::<i64>().ok())
        .expect("an id");
    let owner_company = call(address, "GET", "/api/v2/companies/mine", "", Some(&owner))
        .await
        .body["id"]
        .as_str()
        .and_then(|id| id.parse::<i64>().ok())
        .expect("an id");

    let post = json!({"title": "T", "body": "B"}).to_string();
    let starts = picket_edge::clock::now_ms() + 30 * 86_400_000;
    let performance =
        json!({"starts_at_ms": starts, "sale_open_at_ms": starts - 86_400_000}).to_string();
    let interests = json!({"categories": [], "regions": []}).to_string();
    let contact = json!({"name": "손님", "phone": "010-2222-3333"}).to_string();
    let venue_form = json!({"name": "V", "region": "busan", "address": "부산", "layout": {"sections": [{"name": "A", "rows": [{"name": "1", "seats": [{"number": 1, "x": 0, "y": 0}]}]}]}}).to_string();
    let sale_settings = json!({"open_at_ms": 0, "admit_per_sec": 10, "active_max": 100, "admission_ttl_ms": 600_000, "seat_limit": 4, "grace_ms": 60_000, "paused": false})
    .to_string();
    let everyone = ROLES.to_vec();
    let signed_in = SIGNED_IN.to_vec();
    let sellers = vec!["owner", "other_seller"];
    let owner_or_admin = vec!["owner", "admin"];
    let mut n = 0u64;
    // (method, path, body maker, allowed roles, refused with 401 whatever the role: a guest
    // endpoint, or an operator endpoint, which takes the operator token and no account)
    type Body = Box<dyn Fn(u64) -> String>;
    let fixed = |body: String| -> Body { Box::new(move |_| body.clone()) };
    let cases: Vec<(&str, String, Body, Vec<&str>, bool)> = vec![
        (
            "GET",
            "/api/openapi.json".into(),
            fixed(String::new()),
            everyone.clone(),
            false,
        ),
        (
            "POST",
            "/api/v2/accounts".into(),
            Box::new(|n| {
                json!({"email": format!("new{n}@example.com"), "password": PASSWORD, "name": "N"})
                    .to_string()
            }),
            everyone.clone(),
            false,
        ),
        (
            "POST",
            "/api/v2/sessions".into(),
            fixed(json!({"email": "member@example.com", "password": PASSWORD}).to_string()),
            everyone.clone(),
            false,
        ),
        (
            "GET",
            "/api/v2/me".into(),
            fixed(String::new()),
            signed_in.clone(),
            false,
        ),
        (
            "GET",
            "/api/v2/me/interests".into(),
            fixed(String::new()),
            signed_in.clone(),
            false,
        ),
        (
            "PUT",
            "/api/v2/me/interests".into(),
            fixed(interests),
            signed_in.clone(),
            false,
        ),
        (
            "GET",
            "/api/v2/me/notifications".into(),
            fixed(String::new()),
            signed_in.clone(),
            false,
        ),
        (
            "POST",
            "/api/v2/me/notifications/read".into(),
            fixed(json!({"ids": ["none"]}).to_string()),
            signed_in.clone(),
            false,
        ),
        (
            "POST",
            "/api/v2/companies".into(),
            Box::new(|n| {
                json!({"account": {"email": format!("co{n}@example.com"), "password": PASSWORD, "name": "C"},
            "company": {"name": "C", "business_number": business_number(n), "contact_email": "c@example.com", "contact_phone": "02-123-4567"}}).to_string()
            }),
            everyone.clone(),
            false,
        ),
        (
            "GET",
            "/api/v2/companies/mine".into(),
            fixed(String::new()),
            sellers.clone(),
            false,
        ),
        (
            "GET",
            "/api/v2/companies/mine/shows".into(),
            fixed(String::new()),
            sellers.clone(),
            false,
        ),
        (
            "GET",
            "/api/v2/companies/mine/venues".into(),
            fixed(String::new()),
            sellers.clone(),
            false,
        ),
        (
            "GET",
            "/api/v2/cancellation-fees/standard?category=concert".into(),
            fixed(String::new()),
            everyone.clone(),
            false,
        ),
        (
            "POST",
            "/api/v2/admin/accounts".into(),
            Box::new(|n| {
                json!({"account": {"email": format!("st{n}@example.com"), "password": PASSWORD, "name": "S"}, "role": "staff"}).to_string()
            }),
            vec!["admin"],
            false,
        ),
        (
            "GET",
            "/api/v2/admin/platform".into(),
            fixed(String::new()),
            vec!["admin"],
            false,
        ),
        (
            "POST",
            "/api/v2/venues".into(),
            fixed(venue_form.clone()),
            vec!["owner", "other_seller", "admin"],
            false,
        ),
        (
            "GET",
            format!("/api/v2/venues/{venue}"),
            fixed(String::new()),
            everyone.clone(),
            false,
        ),
        // The owner's published show uses the venue: the owner is answered 409 `venue_in_use`.
        (
            "PUT",
            format!("/api/v2/venues/{venue}"),
            fixed(venue_form),
            vec!["owner"],
            false,
        ),
        (
            "GET",
            "/api/v2/shows".into(),
            fixed(String::new()),
            everyone.clone(),
            false,
        ),
        (
            "POST",
            "/api/v2/shows".into(),
            fixed(draft_form.to_string()),
            sellers.clone(),
            false,
        ),
        (
            "GET",
            format!("/api/v2/shows/{published}"),
            fixed(String::new()),
            everyone.clone(),
            false,
        ),
        (
            "GET",
            format!("/api/v2/performances/{published_performance}"),
            fixed(String::new()),
            everyone.clone(),
            false,
        ),
        (
            "POST",
            format!("/api/v2/shows/{draft}/performances"),
            fixed(performance),
            owner_or_admin.clone(),
            false,
        ),
        (
            "POST",
            format!("/api/v2/shows/{published}/publish"),
            fixed(String::new()),
            owner_or_admin.clone(),
            false,
        ),
        (
            "GET",
            format!("/api/v2/shows/{published}/settlement"),
            fixed(String::new()),
            owner_or_admin.clone(),
            false,
        ),
        (
            "GET",
            format!("/api/v2/shows/{published}/banner"),
            fixed(String::new()),
            everyone.clone(),
            false,
        ),
        (
            "PUT",
            format!("/api/v2/shows/{published}/banner"),
            fixed(String::new()),
            owner_or_admin.clone(),
            false,
        ),
        (
            "GET",
            "/api/v2/notices".into(),
            fixed(String::new()),
            everyone.clone(),
            false,
        ),
        (
            "POST",
            "/api/v2/notices".into(),
            fixed(post.clone()),
            vec!["admin"],
            false,
        ),
        (
            "GET",
            format!("/api/v2/shows/{published}/notices"),
            fixed(String::new()),
            everyone.clone(),
            false,
        ),
        (
            "POST",
            format!("/api/v2/shows/{published}/notices"),
            fixed(post.clone()),
            owner_or_admin.clone(),
            false,
        ),
        (
            "GET",
            format!("/api/v2/shows/{published}/questions"),
            fixed(String::new()),
            everyone.clone(),
            false,
        ),
        (
            "POST",
            format!("/api/v2/shows/{published}/questions"),
            fixed(post.clone()),
            vec!["member"],
            false,
        ),
        (
            "POST",
            format!("/api/v2/questions/{question}/answer"),
            fixed(json!({"answer": "A"}).to_string()),
            owner_or_admin.clone(),
            false,
        ),
        (
            "POST",
            format!("/api/v2/shows/{published}/staff"),
            fixed(json!({"account_id": staff_id.to_string()}).to_string()),
            owner_or_admin.clone(),
            false,
        ),
        (
            "GET",
            "/api/v2/staff/shows".into(),
            fixed(String::new()),
            vec!["staff"],
            false,
        ),
        // Staff of the show (assigned just above), its seller and admins scan its tickets.
        (
            "POST",
            format!("/api/v2/performances/{published_performance}/scans"),
            fixed(json!({"code": "PK1R", "direction": "entry"}).to_string()),
            vec!["owner", "staff", "admin"],
            false,
        ),
        // The door offline: the same staff, seller and admins.
        (
            "GET",
            format!("/api/v2/performances/{published_performance}/door"),
            fixed(String::new()),
            vec!["owner", "staff", "admin"],
            false,
        ),
        (
            "GET",
            format!("/api/v2/performances/{published_performance}/door/manifest"),
            fixed(String::new()),
            vec!["owner", "staff", "admin"],
            false,
        ),
        (
            "POST",
            format!("/api/v2/performances/{published_performance}/door/uploads"),
            fixed(json!({"scanner": "7", "scans": []}).to_string()),
            vec!["owner", "staff", "admin"],
            false,
        ),
        // The scanner's stream authenticates in its first message (a browser cannot set
        // `Authorization` on a WebSocket): over plain HTTP it is 426 for everyone; who may
        // stream is tested in api_scanner.rs.
        (
            "GET",
            format!("/api/v2/performances/{published_performance}/scanner"),
            fixed(String::new()),
            ROLES.to_vec(),
            false,
        ),
        // The cancellation waitlist: members join, leave, decline and read theirs (a guest is told
        // to sign up, 401); the show's seller and admins read its numbers.
        (
            "POST",
            format!("/api/v2/performances/{published_performance}/waitlist"),
            fixed(json!({"grade": null, "quantity": 1}).to_string()),
            vec!["member"],
            false,
        ),
        (
            "GET",
            format!("/api/v2/performances/{published_performance}/waitlist"),
            fixed(String::new()),
            owner_or_admin.clone(),
            false,
        ),
        (
            "DELETE",
            format!("/api/v2/performances/{published_performance}/waitlist/7"),
            fixed(String::new()),
            vec!["member"],
            false,
        ),
        (
            "POST",
            format!("/api/v2/performances/{published_performance}/waitlist/7/decline"),
            fixed(String::new()),
            vec!["member"],
            false,
        ),
        (
            "GET",
            "/api/v2/me/waitlist".into(),
            fixed(String::new()),
            vec!["member"],
            false,
        ),
        // Reminders of ticket openings are members'; every account chooses its notifications.
        (
            "PUT",
            format!("/api/v2/performances/{published_performance}/reminder"),
            fixed(json!({"ten_minutes_before": false}).to_string()),
            vec!["member"],
            false,
        ),
        (
            "DELETE",
            format!("/api/v2/performances/{published_performance}/reminder"),
            fixed(String::new()),
            vec!["member"],
            false,
        ),
        (
            "GET",
            "/api/v2/me/reminders".into(),
            fixed(String::new()),
            vec!["member"],
            false,
        ),
        (
            "GET",
            "/api/v2/me/notification-settings".into(),
            fixed(String::new()),
            signed_in.clone(),
            false,
        ),
        (
            "PUT",
            "/api/v2/me/notification-settings".into(),
            fixed(
                json!({"language": "en", "channels": {"reminder": {"app": true, "push": false}}})
                    .to_string(),
            ),
            signed_in.clone(),
            false,
        ),
        // Web Push: the key is public; subscriptions are any signed-in account's own.
        (
            "GET",
            "/api/v2/push/key".into(),
            fixed(String::new()),
            everyone.clone(),
            false,
        ),
        (
            "POST",
            "/api/v2/me/push-subscriptions".into(),
            Box::new(|n| {
                json!({"endpoint": format!("https://push.example.com/wpush/{n}"), "keys": {"p256dh": "x", "auth": "y"}})
                    .to_string()
            }),
            signed_in.clone(),
            false,
        ),
        (
            "GET",
            "/api/v2/me/push-subscriptions".into(),
            fixed(String::new()),
            signed_in.clone(),
            false,
        ),
        (
            "DELETE",
            "/api/v2/me/push-subscriptions/7".into(),
            fixed(String::new()),
            signed_in.clone(),
            false,
        ),
        // A member's payment methods for auto-pay (a guest is told to sign up, 401); the
        // provider's success redirect carries no session (its customerKey names the member).
        (
            "POST",
            "/api/v2/me/billing-methods".into(),
            fixed(String::new()),
            vec!["member"],
            false,
        ),
        (
            "GET",
            "/api/v2/me/billing-methods".into(),
            fixed(String::new()),
            vec!["member"],
            false,
        ),
        (
            "DELETE",
            "/api/v2/me/billing-methods/7".into(),
            fixed(String::new()),
            vec!["member"],
            false,
        ),
        (
            "GET",
            "/api/v2/billing-methods/success?customerKey=ck_unknown&authKey=bln_x".into(),
            fixed(String::new()),
            everyone.clone(),
            false,
        ),
        // A ticket's holder only (a member or a guest): others' and unknown tickets are 404.
        (
            "GET",
            "/api/v2/tickets/7".into(),
            fixed(String::new()),
            vec!["guest", "member"],
            false,
        ),
        (
            "POST",
            "/api/v2/tickets/7/device".into(),
            fixed(json!({"public_key": "A".repeat(43)}).to_string()),
            vec!["guest", "member"],
            false,
        ),
        (
            "GET",
            "/api/v2/tickets/7/code.svg".into(),
            fixed(String::new()),
            vec!["guest", "member"],
            false,
        ),
        (
            "GET",
            "/api/v2/tickets/7/code.png".into(),
            fixed(String::new()),
            vec!["guest", "member"],
            false,
        ),
        // A ticket's holder gives it away: members only (a guest is told to sign up, 401).
        (
            "POST",
            "/api/v2/tickets/7/transfer".into(),
            fixed(json!({"to_email": "friend@example.com"}).to_string()),
            vec!["member"],
            false,
        ),
        (
            "GET",
            "/api/v2/tickets/7/printed.svg".into(),
            fixed(String::new()),
            vec!["guest", "member"],
            false,
        ),
        (
            "GET",
            "/api/v2/tickets/7/printed.png".into(),
            fixed(String::new()),
            vec!["guest", "member"],
            false,
        ),
        (
            "GET",
            "/api/v2/me/tickets".into(),
            fixed(String::new()),
            vec!["member"],
            false,
        ),
        (
            "GET",
            "/api/v2/me/bookings".into(),
            fixed(String::new()),
            vec!["member"],
            false,
        ),
        (
            "PUT",
            "/api/v2/guest/contact".into(),
            fixed(contact),
            vec!["guest"],
            true,
        ),
        (
            "GET",
            "/api/v2/guest/bookings".into(),
            fixed(String::new()),
            vec!["guest"],
            true,
        ),
        (
            "GET",
            "/api/v2/guest-bookings?number=P1&phone=01000000000".into(),
            fixed(String::new()),
            everyone.clone(),
            false,
        ),
        (
            "POST",
            format!("/api/v2/posts/{question}/hide"),
            fixed(String::new()),
            vec!["admin"],
            false,
        ),
        (
            "POST",
            format!("/api/v2/posts/{question}/unhide"),
            fixed(String::new()),
            vec!["admin"],
            false,
        ),
        (
            "DELETE",
            format!("/api/v2/posts/{doomed}"),
            fixed(String::new()),
            vec!["admin"],
            false,
        ),
        // The admin dashboard.
        (
            "GET",
            "/api/v2/admin/posts".into(),
            fixed(String::new()),
            vec!["admin"],
            false,
        ),
        (
            "GET",
            "/api/v2/admin/companies?status=approved".into(),
            fixed(String::new()),
            vec!["admin"],
            false,
        ),
        (
            "POST",
            format!("/api/v2/admin/companies/{owner_company}/approval"),
            fixed(json!({"status": "approved"}).to_string()),
            vec!["admin"],
            false,
        ),
        (
            "GET",
            "/api/v2/admin/sales".into(),
            fixed(String::new()),
            vec!["admin"],
            false,
        ),
        (
            "GET",
            "/api/v2/admin/operations".into(),
            fixed(String::new()),
            vec!["admin"],
            false,
        ),
        // The seller's controls of the sale (before it is called off).
        (
            "PUT",
            format!("/api/v2/performances/{published_performance}/sale"),
            fixed(json!({"admit_per_sec": 30}).to_string()),
            owner_or_admin.clone(),
            false,
        ),
        // Before signing out; it calls the performance off.
        (
            "POST",
            format!("/api/v2/performances/{published_performance}/cancel"),
            fixed(json!({"reason": "공연 취소"}).to_string()),
            owner_or_admin.clone(),
            false,
        ),
        // A buyer (guest or signed in) checks out their own hold (before the sign-out below).
        (
            "POST",
            "/api/v2/checkout".into(),
            fixed(json!({"sale": "1", "hold": "1"}).to_string()),
            vec!["guest", "member", "owner", "other_seller", "staff", "admin"],
            false,
        ),
        (
            "DELETE",
            "/api/v2/sessions/current".into(),
            fixed(String::new()),
            signed_in.clone(),
            false,
        ),
        (
            "GET",
            "/api/v2/sales/77".into(),
            fixed(String::new()),
            everyone.clone(),
            false,
        ),
        (
            "GET",
            "/api/v2/sales/77/draw".into(),
            fixed(String::new()),
            everyone.clone(),
            false,
        ),
        (
            "PUT",
            "/api/v2/sales/77".into(),
            fixed(sale_settings.clone()),
            vec![],
            true,
        ),
        (
            "POST",
            "/api/v2/performances".into(),
            fixed(String::from("{}")),
            vec![],
            true,
        ),
        // The provider's redirects and webhook carry no session (the provider's records decide).
        (
            "GET",
            "/api/v2/payments/success?paymentKey=tpk&orderId=pk1h1n0000000000000000".into(),
            fixed(String::new()),
            everyone.clone(),
            false,
        ),
        (
            "GET",
            "/api/v2/payments/fail?code=PAY_PROCESS_CANCELED&message=x".into(),
            fixed(String::new()),
            everyone.clone(),
            false,
        ),
        (
            "POST",
            "/api/v2/payments/webhook".into(),
            fixed(String::from("{}")),
            everyone.clone(),
            false,
        ),
    ];
    let documented = picket_api::openapi::ROUTES.len();
    assert_eq!(
        cases.len(),
        documented,
        "the matrix lists every API endpoint"
    );
    for (method, path, body, allowed, guest_endpoint) in &cases {
        for role in ROLES {
            n += 1;
            let token = tokens.get(role).map(String::as_str);
            let path = if path.starts_with("/api/v2/guest-bookings") {
                format!("/api/v2/guest-bookings?number=P{n}&phone=01000000000")
            } else {
                path.clone()
            };
            let answer = call(address, method, &path, &body(n), token).await;
            if allowed.contains(&role) {
                assert!(
                    ![401, 403].contains(&answer.status),
                    "{role} may {method} {path}: {} {:?}",
                    answer.status,
                    answer.body
                );
            } else {
                let expected = if *guest_endpoint || ["anonymous", "guest"].contains(&role) {
                    401
                } else {
                    403
                };
                assert_eq!(
                    answer.status, expected,
                    "{role} may not {method} {path}: {:?}",
                    answer.body
                );
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operator_token_opens_the_operator_routes_and_nothing_else_does() {
    let setup = ApiSetup::start().await;
    let settings = json!({"open_at_ms": 0, "admit_per_sec": 10, "active_max": 100, "admission_ttl_ms": 600_000, "seat_limit": 4, "grace_ms": 60_000, "paused": false})
    .to_string();
    for token in [None, Some("wrong"), Some(&OPERATOR[..OPERATOR.len() - 1])] {
        let refused = call(setup.address, "PUT", "/api/v2/sales/5", &settings, token).await;
        assert_eq!(refused.status, 401, "{token:?}: {:?}", refused.body);
        assert_eq!(refused.body["code"], "operator_only");
    }
    let created = call(
        setup.address,
        "PUT",
        "/api/v2/sales/5",
        &settings,
        Some(OPERATOR),
    )
    .await;
    assert_eq!(created.status, 200, "{:?}", created.body);
    assert_eq!(created.body["sale"], "5");
    let public = call(setup.address, "GET", "/api/v2/sales/5", "", None).await;
    assert_eq!(public.status, 200, "{:?}", public.body);
    let unknown = call(setup.address, "GET", "/api/v2/sales/6", "", None).await;
    assert_eq!(
        (unknown.status, unknown.body["code"].as_str()),
        (404, Some("unknown_sale"))
    );
}
