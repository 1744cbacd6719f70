//! The admin dashboard's routes: seller approval and its gate on publishing, moderation (list,
//! hide, unhide, delete), the platform's sales on now, and the operations figures read from the
//! metrics registry. Seller approval and moderation run on SQLite and PostgreSQL (the store's
//! SQL differs); the others read the same store code on SQLite.

use std::sync::Arc;

use picket_api::approval::SellerApproval;
use picket_tests::api::{ApiSetup, business_number, call, draft_show_at, publish_show_at};
use picket_tests::ids::id_i64;
use serde_json::{Value, json};

async fn company_of(setup: &ApiSetup, token: &str) -> Value {
    let mine = call(
        setup.address,
        "GET",
        "/api/v2/companies/mine",
        "",
        Some(token),
    )
    .await;
    assert_eq!(mine.status, 200, "{:?}", mine.body);
    mine.body
}

async fn set_approval(setup: &ApiSetup, admin: &str, company: i64, status: &str) -> Value {
    let answer = call(
        setup.address,
        "POST",
        &format!("/api/v2/admin/companies/{company}/approval"),
        &json!({"status": status}).to_string(),
        Some(admin),
    )
    .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body
}

/// With approval required a new company is pending: it drafts, publishing is refused with
/// `company_not_approved` (for the admin too) until an admin approves; suspending stops it again.
async fn approval_gates_publishing(setup: ApiSetup) {
    let admin = setup.admin("admin@example.com").await;
    let (seller, show, _) = draft_show_at(
        setup.address,
        "seller@example.com",
        "123-45-67891",
        json!({}),
        50,
    )
    .await;
    let company = company_of(&setup, &seller).await;
    assert_eq!(company["approval"], "pending");
    let company_id = id_i64(&company["id"]);

    let refused = publish_show_at(setup.address, &seller, show).await;
    assert_eq!(
        (refused.status, refused.body["code"].as_str()),
        (403, Some("company_not_approved")),
        "{:?}",
        refused.body
    );
    assert!(
        refused.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("pending") && d.contains("승인")),
        "{:?}",
        refused.body
    );
    let by_admin = publish_show_at(setup.address, &admin, show).await;
    assert_eq!(by_admin.status, 403, "{:?}", by_admin.body);
    assert_eq!(
        call(
            setup.address,
            "GET",
            &format!("/api/v2/shows/{show}"),
            "",
            None
        )
        .await
        .status,
        404,
        "a draft stays unpublished"
    );

    // The admin's list of pending companies has it, with its owner.
    let pending = call(
        setup.address,
        "GET",
        "/api/v2/admin/companies?status=pending",
        "",
        Some(&admin),
    )
    .await;
    assert_eq!(pending.status, 200, "{:?}", pending.body);
    let items = pending.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["owner_email"], "seller@example.com");
    assert_eq!(items[0]["shows"], 1);
    let bad = call(
        setup.address,
        "GET",
        "/api/v2/admin/companies?status=banned",
        "",
        Some(&admin),
    )
    .await;
    assert_eq!(bad.status, 422, "{:?}", bad.body);
    let pending_is_no_decision = call(
        setup.address,
        "POST",
        &format!("/api/v2/admin/companies/{company_id}/approval"),
        &json!({"status": "pending"}).to_string(),
        Some(&admin),
    )
    .await;
    assert_eq!(pending_is_no_decision.status, 422);
    let unknown = call(
        setup.address,
        "POST",
        "/api/v2/admin/companies/77/approval",
        &json!({"status": "approved"}).to_string(),
        Some(&admin),
    )
    .await;
    assert_eq!(unknown.status, 404);

    let approved = set_approval(&setup, &admin, company_id, "approved").await;
    assert_eq!(approved["approval"], "approved");
    assert!(approved["approval_changed_at_ms"].is_number());
    assert_eq!(company_of(&setup, &seller).await["approval"], "approved");
    let published = publish_show_at(setup.address, &seller, show).await;
    assert_eq!(published.status, 200, "{:?}", published.body);
    let none_pending = call(
        setup.address,
        "GET",
        "/api/v2/admin/companies?status=pending",
        "",
        Some(&admin),
    )
    .await;
    assert_eq!(none_pending.body["items"], json!([]));

    // Suspended: drafts yes, publishing no; the published show stays.
    set_approval(&setup, &admin, company_id, "suspended").await;
    let venue = call(
        setup.address,
        "GET",
        &format!("/api/v2/shows/{show}"),
        "",
        None,
    )
    .await
    .body["venue_id"]
        .clone();
    assert_eq!(company_of(&setup, &seller).await["approval"], "suspended");
    let draft = call(
        setup.address,
        "POST",
        "/api/v2/shows",
        &json!({"title": "다음 공연", "category": "musical", "venue_id": venue,
            "description": "", "age_rating": "all", "running_minutes": 90,
            "grades": [{"code": "R", "price_won": 50000, "sections": ["A", "B"], "zones": ["Floor"]}]})
        .to_string(),
        Some(&seller),
    )
    .await;
    assert_eq!(draft.status, 201, "{:?}", draft.body);
    let suspended = publish_show_at(setup.address, &seller, id_i64(&draft.body["id"])).await;
    assert_eq!(
        (suspended.status, suspended.body["code"].as_str()),
        (403, Some("company_not_approved"))
    );
    assert!(
        suspended.body["detail"]
            .as_str()
            .is_some_and(|d| d.contains("suspended"))
    );
    assert_eq!(
        call(
            setup.address,
            "GET",
            &format!("/api/v2/shows/{show}"),
            "",
            None
        )
        .await
        .status,
        200
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_gates_publishing_on_sqlite() {
    approval_gates_publishing(
        ApiSetup::start_with(|c| c.seller_approval = SellerApproval::Required).await,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approval_gates_publishing_on_postgres() {
    approval_gates_publishing(
        ApiSetup::start_postgres_with(|c| c.seller_approval = SellerApproval::Required).await,
    )
    .await;
}

/// With automatic approval (the default) a new company is approved and publishes at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn automatic_approval_lets_a_new_company_publish() {
    let setup = ApiSetup::start().await;
    let (show, _) = setup
        .published_show("seller@example.com", "123-45-67891")
        .await;
    let seller = setup.sign_in("seller@example.com").await;
    assert_eq!(company_of(&setup, &seller).await["approval"], "approved");
    assert_eq!(
        call(
            setup.address,
            "GET",
            &format!("/api/v2/shows/{show}"),
            "",
            None
        )
        .await
        .status,
        200
    );
}

async fn moderation(setup: ApiSetup) {
    let admin = setup.admin("admin@example.com").await;
    let (show, _) = setup
        .published_show("seller@example.com", "123-45-67891")
        .await;
    let (_, member) = setup.member("member@example.com").await;
    let mut ids = Vec::new();
    for title in ["첫 질문", "둘째 질문", "셋째 질문"] {
        let asked = call(
            setup.address,
            "POST",
            &format!("/api/v2/shows/{show}/questions"),
            &json!({"title": title, "body": "언제 열려요?"}).to_string(),
            Some(&member),
        )
        .await;
        assert_eq!(asked.status, 201, "{:?}", asked.body);
        ids.push(id_i64(&asked.body["id"]));
    }
    let notice = call(
        setup.address,
        "POST",
        "/api/v2/notices",
        &json!({"title": "점검 안내", "body": "새벽 점검"}).to_string(),
        Some(&admin),
    )
    .await;
    assert_eq!(notice.status, 201);
    let listed = |query: &'static str| {
        let admin = admin.clone();
        let address = setup.address;
        async move {
            let page = call(address, "GET", query, "", Some(&admin)).await;
            assert_eq!(page.status, 200, "{:?}", page.body);
            page.body
        }
    };
    let all = listed("/api/v2/admin/posts").await;
    let items = all["items"].as_array().expect("items");
    assert_eq!(items.len(), 4);
    // Newest first: the platform notice, then the questions, each with show and author.
    assert_eq!(items[0]["kind"], "notice");
    assert_eq!(items[0]["show"], Value::Null);
    assert_eq!(items[1]["title"], "셋째 질문");
    assert_eq!(items[1]["show"], show.to_string());
    assert_eq!(items[1]["show_title"], "레미제라블");
    assert_eq!(items[1]["author_email"], "member@example.com");
    assert_eq!(items[1]["hidden"], false);
    let first = listed("/api/v2/admin/posts?limit=2").await;
    assert_eq!(first["items"].as_array().map(Vec::len), Some(2));
    let cursor = first["next_cursor"].as_str().expect("more").to_owned();
    let second = call(
        setup.address,
        "GET",
        &format!("/api/v2/admin/posts?limit=2&cursor={cursor}"),
        "",
        Some(&admin),
    )
    .await;
    assert_eq!(second.body["items"][0]["title"], "둘째 질문");

    let public = |setup: &ApiSetup| {
        let address = setup.address;
        async move {
            let page = call(
                address,
                "GET",
                &format!("/api/v2/shows/{show}/questions"),
                "",
                None,
            )
            .await;
            page.body["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|p| p["title"].as_str().unwrap_or_default().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let post = |method: &'static str, path: String| {
        let admin = admin.clone();
        let address = setup.address;
        async move { call(address, method, &path, "", Some(&admin)).await.status }
    };
    assert_eq!(
        post("POST", format!("/api/v2/posts/{}/hide", ids[0])).await,
        204
    );
    assert_eq!(public(&setup).await, ["셋째 질문", "둘째 질문"]);
    let hidden = listed("/api/v2/admin/posts?hidden=true").await;
    assert_eq!(hidden["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(hidden["items"][0]["hidden"], true);
    assert_eq!(
        post("POST", format!("/api/v2/posts/{}/unhide", ids[0])).await,
        204
    );
    assert_eq!(public(&setup).await, ["셋째 질문", "둘째 질문", "첫 질문"]);
    assert_eq!(
        post("DELETE", format!("/api/v2/posts/{}", ids[1])).await,
        204
    );
    assert_eq!(public(&setup).await, ["셋째 질문", "첫 질문"]);
    assert_eq!(
        listed("/api/v2/admin/posts").await["items"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );
    // Gone for good: a second delete, an unhide or a hide find nothing.
    assert_eq!(
        post("DELETE", format!("/api/v2/posts/{}", ids[1])).await,
        404
    );
    assert_eq!(
        post("POST", format!("/api/v2/posts/{}/unhide", ids[1])).await,
        404
    );
    assert_eq!(
        post("POST", format!("/api/v2/posts/{}/hide", ids[1])).await,
        404
    );
    // Members may not moderate.
    assert_eq!(
        call(
            setup.address,
            "DELETE",
            &format!("/api/v2/posts/{}", ids[0]),
            "",
            Some(&member)
        )
        .await
        .status,
        403
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_list_hide_unhide_and_delete_posts_on_sqlite() {
    moderation(ApiSetup::start().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_list_hide_unhide_and_delete_posts_on_postgres() {
    moderation(ApiSetup::start_postgres().await).await;
}

/// Every company's sale on now is listed, with show, company and status: one before its open,
/// one past it (drawing until a gateway draws it, then paused as the operator set it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_see_every_sale_on_now() {
    let setup = ApiSetup::start().await;
    let admin = setup.admin("admin@example.com").await;
    let (first, first_performance) = setup
        .published_show("one@example.com", "123-45-67891")
        .await;
    let (second, second_performance) = setup
        .published_show("two@example.com", "220-81-62517")
        .await;
    let two = setup.sign_in("two@example.com").await;
    let mut settings = call(
        setup.address,
        "GET",
        &format!("/api/v2/sales/{second_performance}"),
        "",
        None,
    )
    .await
    .body["settings"]
        .clone();
    settings["open_at_ms"] = json!(picket_edge::clock::now_ms() - 1_000);
    settings["paused"] = json!(true);
    let opened = call(
        setup.address,
        "PUT",
        &format!("/api/v2/sales/{second_performance}"),
        &settings.to_string(),
        Some(picket_tests::api::OPERATOR),
    )
    .await;
    assert_eq!(opened.status, 200, "{:?}", opened.body);
    // A draft is not on sale.
    draft_show_at(
        setup.address,
        "three@example.com",
        &business_number(3),
        json!({}),
        50,
    )
    .await;

    let sales = call(
        setup.address,
        "GET",
        "/api/v2/admin/sales",
        "",
        Some(&admin),
    )
    .await;
    assert_eq!(sales.status, 200, "{:?}", sales.body);
    assert_eq!(sales.body["truncated"], false);
    let items = sales.body["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{items:?}");
    let find = |performance: u64| {
        items
            .iter()
            .find(|i| i["performance"].as_str() == Some(performance.to_string().as_str()))
            .unwrap_or_else(|| panic!("{performance} missing from {items:?}"))
    };
    let one = find(first_performance);
    assert_eq!(one["show"], first.to_string());
    assert_eq!(one["title"], "레미제라블");
    assert_eq!(one["company"], "공연기획");
    assert_eq!(one["status"], "pre_queue");
    assert_eq!(one["bookings"], 0);
    let other = find(second_performance);
    assert_eq!(other["show"], second.to_string());
    assert!(
        ["drawing", "paused"].contains(&other["status"].as_str().unwrap_or_default()),
        "{other}"
    );
    let seller = call(setup.address, "GET", "/api/v2/admin/sales", "", Some(&two)).await;
    assert_eq!(seller.status, 403);
}

/// The figures come from the registry `/metrics` serves: the API's problem responses by code
/// (counted from the first sample), the refund worker's backlog gauge and the last
/// reconciliation's findings.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_figures_come_from_the_metrics_registry() {
    let setup = ApiSetup::start().await;
    let admin = setup.admin("admin@example.com").await;
    let unwatched = call(
        setup.address,
        "GET",
        "/api/v2/admin/operations",
        "",
        Some(&admin),
    )
    .await;
    assert_eq!(unwatched.status, 200, "{:?}", unwatched.body);
    assert_eq!(unwatched.body["http_problems"], Value::Null);

    let mut registry = prometheus_client::registry::Registry::default();
    setup.api.metrics.register(&mut registry);
    let refunds = picket_payments::refunds::RefundMetrics::default();
    refunds.register(&mut registry);
    refunds.pending.set(3);
    let reconcile = Arc::new(picket_payments::reconcile::ReconcileStatus::default());
    reconcile.register(&mut registry);
    let registry = Arc::new(registry);
    setup
        .api
        .watch_operations(registry.clone(), reconcile.clone());

    for n in 0..4 {
        let missing = call(
            setup.address,
            "GET",
            &format!("/api/v2/shows/{}", 900 + n),
            "",
            None,
        )
        .await;
        assert_eq!(missing.status, 404);
    }
    let refused = call(setup.address, "GET", "/api/v2/admin/operations", "", None).await;
    assert_eq!(refused.status, 401);
    reconcile.record(
        1_000,
        Ok(&picket_payments::reconcile::ReconcileReport {
            from_ms: 0,
            to_ms: 900,
            provider_transactions: 2,
            ledger_bookings: 1,
            ledger_refunds: 0,
            mismatches: vec![picket_payments::reconcile::Mismatch::ApprovedNotBooked {
                payment_key: "pk-1".into(),
                order_id: "order-1".into(),
                unrefunded_won: 50_000,
            }],
            voided: vec!["pk-1".into()],
            void_failures: Vec::new(),
        }),
    );

    let figures = call(
        setup.address,
        "GET",
        "/api/v2/admin/operations",
        "",
        Some(&admin),
    )
    .await;
    assert_eq!(figures.status, 200, "{:?}", figures.body);
    let problems = &figures.body["http_problems"];
    let not_found = problems["codes"]
        .as_array()
        .expect("codes")
        .iter()
        .find(|c| c["code"] == "not_found")
        .unwrap_or_else(|| panic!("no not_found in {problems}"));
    assert_eq!(not_found["total"], 4.0);
    assert_eq!(not_found["last_1m"], 4.0);
    assert_eq!(not_found["last_5m"], 4.0);
    // The 401 above counts too.
    assert_eq!(problems["last_1m"], 5.0);
    assert!(problems["responses_total"].as_f64().unwrap_or(0.0) >= 5.0);
    assert!(
        problems["share_1m"]
            .as_f64()
            .is_some_and(|s| s > 0.0 && s <= 1.0)
    );
    assert_eq!(figures.body["refunds"]["pending"], 3.0);
    let last = &figures.body["reconciliation"]["last_run"];
    assert_eq!(last["at_ms"], 1_000);
    assert_eq!(last["report"]["mismatch_count"], 1);
    assert_eq!(
        last["report"]["mismatches"][0]["kind"],
        "approved_not_booked"
    );
    assert_eq!(last["report"]["voided"], 1);

    // The same series are on /metrics (the registry's text).
    let mut text = String::new();
    prometheus_client::encoding::text::encode(&mut text, &registry).expect("encodes");
    for line in [
        "picket_api_problems_total{code=\"not_found\"} 4",
        "picket_refunds_pending 3",
        "picket_reconcile_mismatches 1",
        "picket_reconcile_last_run_ms 1000",
    ] {
        assert!(
            text.lines().any(|l| l == line),
            "{line} missing from:\n{text}"
        );
    }
}
