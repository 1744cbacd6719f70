//! A show's door settings, ticket transfers and printed codes over HTTP (issue 14;
//! docs/protocol.md, "Over HTTP"): a ticket given to another member is revoked at the door for
//! the giver and admitted for the recipient, "my tickets" and "my bookings" show who holds it,
//! every refused transfer has its own code, printed codes are admitted and marked where the show
//! issues them and refused where it does not, and the door settings are validated field by
//! field. Codes an app would make are made with `picket-tickets` from the secret the API
//! delivers, as docs/protocol.md tells an app developer to.

use std::time::Duration;

use picket_ledger_core::*;
use picket_tests::api::{ApiSetup, OPERATOR, PASSWORD, call, call_raw, header};
use picket_tickets::Code;
use serde_json::{Value, json};

const DAY_MS: u64 = 24 * 3_600_000;
/// `published_show` starts 20 days away: the doors are open for these tests.
const DOORS_OPEN_BEFORE_START_MS: u64 = 21 * DAY_MS;

async fn start() -> ApiSetup {
    ApiSetup::start_with(|config| config.doors_open_before_start_ms = DOORS_OPEN_BEFORE_START_MS)
        .await
}

/// A valid business registration number built from `n` (the check digit computed by trying).
fn business_number(n: u64) -> String {
    let stem = format!("{:09}", 100_000_000 + n);
    (0..10)
        .map(|d| format!("{stem}{d}"))
        .find(|candidate| picket_api::sellers::business_number_digits(candidate).is_some())
        .expect("one check digit fits")
}

/// A show of its own seller (`n` names both) with `door` settings: (show, performance).
async fn show_with_door(setup: &ApiSetup, n: u64, door: Value) -> (i64, u64) {
    setup
        .published_show_with(
            &format!("seller{n}@example.com"),
            &business_number(n),
            json!({"door": door}),
        )
        .await
}

/// Calls `path` as `token` until `ready` holds for the 200 answer (the projection follows the
/// ledger a moment later), at most 10 s; the answer.
async fn wait_for(
    setup: &ApiSetup,
    path: &str,
    token: &str,
    ready: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let answer = call(setup.address, "GET", path, "", Some(token)).await;
        if answer.status == 200 && ready(&answer.body) {
            return answer.body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{path}: {} {:?}",
            answer.status,
            answer.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The rotating code an app makes now from `ticket`'s secret.
fn app_code(performance: u64, ticket: TicketId, view: &Value) -> String {
    let now = picket_edge::clock::now_ms();
    Code::rotating(
        PerformanceId(performance),
        ticket,
        &picket_tests::api::secret_of(view),
        now,
    )
    .to_string()
}

async fn give(setup: &ApiSetup, ticket: TicketId, token: &str, to: &str) -> (u16, Value) {
    let answer = call(
        setup.address,
        "POST",
        &format!("/api/v2/tickets/{}/transfer", ticket.0),
        &json!({"to_email": to}).to_string(),
        Some(token),
    )
    .await;
    (answer.status, answer.body)
}

/// The problem's status and code.
async fn refused(setup: &ApiSetup, ticket: TicketId, token: &str, to: &str) -> (u16, String) {
    let (status, body) = give(setup, ticket, token, to).await;
    (status, body["code"].as_str().unwrap_or_default().to_owned())
}

/// A staff account assigned to `show`: its token.
async fn door_staff(setup: &ApiSetup, show: i64, seller: &str) -> String {
    let form = json!({"account": {"email": "door@example.com", "password": PASSWORD,
        "name": "검표원"}, "role": "staff"});
    let created = call(
        setup.address,
        "POST",
        "/api/v2/admin/accounts",
        &form.to_string(),
        Some(OPERATOR),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let assigned = call(
        setup.address,
        "POST",
        &format!("/api/v2/shows/{show}/staff"),
        &json!({"account_id": created.body["id"]}).to_string(),
        Some(seller),
    )
    .await;
    assert_eq!(assigned.status, 204, "{:?}", assigned.body);
    setup.sign_in("door@example.com").await
}

/// The item of `ticket` in a list of bookings' tickets or of "my tickets".
fn ticket_in<'a>(items: impl Iterator<Item = &'a Value>, ticket: TicketId) -> Option<&'a Value> {
    let id = ticket.0.to_string();
    items.into_iter().find(|item| item["ticket"] == id.as_str())
}

fn booked_tickets(bookings: &Value) -> impl Iterator<Item = &Value> {
    bookings["items"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|booking| booking["tickets"].as_array().into_iter().flatten())
}

fn my_tickets(tickets: &Value) -> impl Iterator<Item = &Value> {
    tickets["items"].as_array().into_iter().flatten()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_given_ticket_is_revoked_for_the_giver_and_admitted_for_the_recipient() {
    let setup = start().await;
    let door = json!({"gates": ["동문", " 서문 "], "transfer_until_minutes_before_start": 60});
    let (show, performance) = show_with_door(&setup, 1, door).await;
    let seller = setup.sign_in("seller1@example.com").await;
    let staff = door_staff(&setup, show, &seller).await;

    // The show's page shows the settings as stored: labels trimmed, gate ids from 1.
    let page = call(
        setup.address,
        "GET",
        &format!("/api/v2/shows/{show}"),
        "",
        None,
    )
    .await;
    assert_eq!(
        page.body["door"],
        json!({"reentry": false, "gates": [{"gate": 1, "label": "동문"}, {"gate": 2, "label": "서문"}],
            "transfer_until_minutes_before_start": 60, "static_tickets": false})
    );

    let (giver, giver_token) = setup.member("giver@example.com").await;
    let (_, taker_token) = setup.member("taker@example.com").await;
    let (_, tickets) = setup
        .book(giver as u64, "gift", performance, &[0, 1], None)
        .await;
    let (gift, kept) = (tickets[0], tickets[1]);
    let before = setup.ticket_view(gift, &giver_token).await;
    assert_eq!(before["gates"], json!(["동문", "서문"]));
    let bound = call(
        setup.address,
        "POST",
        &format!("/api/v2/tickets/{}/device", gift.0),
        &json!({"public_key": "G".repeat(43)}).to_string(),
        Some(&giver_token),
    )
    .await;
    assert_eq!(bound.status, 200, "{:?}", bound.body);
    let old_code = app_code(performance, gift, &before);

    // Given by e-mail (any case): the recipient's address comes back masked.
    let (status, given) = give(&setup, gift, &giver_token, " Taker@Example.COM ").await;
    assert_eq!(status, 200, "{given:?}");
    assert_eq!(
        given,
        json!({"ticket": gift.0.to_string(), "to": "t***@example.com"})
    );

    // The giver's code from before is revoked at the door, and the ticket is no longer theirs.
    let revoked = setup.scan(&staff, performance, &old_code, 1).await;
    assert_eq!(revoked, json!({"result": "revoked"}));
    let gone = call(
        setup.address,
        "GET",
        &format!("/api/v2/tickets/{}", gift.0),
        "",
        Some(&giver_token),
    )
    .await;
    assert_eq!(gone.status, 404, "{:?}", gone.body);

    // The recipient holds it: a new generation, no device of the giver's; their first binding
    // is a binding (no re-binding counted), and their code is admitted.
    let received = setup.ticket_view(gift, &taker_token).await;
    assert_eq!(received["code"]["generation"], 1);
    assert_eq!(received["device"], Value::Null);
    let bound = call(
        setup.address,
        "POST",
        &format!("/api/v2/tickets/{}/device", gift.0),
        &json!({"public_key": "T".repeat(43)}).to_string(),
        Some(&taker_token),
    )
    .await;
    assert_eq!(bound.status, 200, "{:?}", bound.body);
    assert_eq!(bound.body["code"]["generation"], 1);
    assert_eq!(bound.body["rebinds"], 0);
    let admitted = setup
        .scan(
            &staff,
            performance,
            &app_code(performance, gift, &bound.body),
            2,
        )
        .await;
    assert_eq!(admitted["result"], "admitted", "{admitted}");
    assert_eq!(admitted["gate"], 2);
    assert_eq!(admitted["printed"], false);

    // The recipient's tickets list it with what it is and whom it came from.
    let theirs = wait_for(&setup, "/api/v2/me/tickets", &taker_token, |body| {
        ticket_in(my_tickets(body), gift).is_some()
    })
    .await;
    let item = ticket_in(my_tickets(&theirs), gift).expect("listed");
    assert_eq!(item["title"], "레미제라블");
    assert_eq!(item["show_id"], show.to_string());
    assert_eq!(item["performance"], performance.to_string());
    assert_eq!(item["grade"], "VIP");
    assert!(item["place"].as_str().expect("place").starts_with("A "));
    assert!(item["starts_at_ms"].as_u64().is_some());
    assert_eq!(item["received_from"]["email"], "g***@example.com");
    assert_eq!(my_tickets(&theirs).count(), 1);
    // The giver's: the ticket kept, not the one given; their bookings mark it given.
    let mine = wait_for(&setup, "/api/v2/me/tickets", &giver_token, |_| true).await;
    assert!(ticket_in(my_tickets(&mine), gift).is_none(), "{mine}");
    let kept_item = ticket_in(my_tickets(&mine), kept).expect("the kept ticket");
    assert_eq!(kept_item["received_from"], Value::Null);
    let bookings = wait_for(&setup, "/api/v2/me/bookings", &giver_token, |_| true).await;
    let given_item = ticket_in(booked_tickets(&bookings), gift).expect("booked");
    assert_eq!(given_item["transferred_to"]["email"], "t***@example.com");
    assert!(given_item["transferred_to"]["at_ms"].as_u64().is_some());
    let kept_item = ticket_in(booked_tickets(&bookings), kept).expect("booked");
    assert_eq!(kept_item["transferred_to"], Value::Null);

    // A used ticket cannot be given on.
    assert_eq!(
        refused(&setup, gift, &taker_token, "giver@example.com").await,
        (409, "ticket_used".to_owned())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_refused_transfer_has_its_own_code() {
    let setup = start().await;
    let (_, open) =
        show_with_door(&setup, 1, json!({"transfer_until_minutes_before_start": 0})).await;
    let (_, off) = show_with_door(&setup, 2, json!({})).await;
    // 21 days before a start 20 days away: the deadline passed before the sale.
    let (_, late) = show_with_door(
        &setup,
        3,
        json!({"transfer_until_minutes_before_start": 21 * 24 * 60}),
    )
    .await;
    let (holder, token) = setup.member("holder@example.com").await;
    setup.member("friend@example.com").await;
    let (_, open_tickets) = setup.book(holder as u64, "open", open, &[0], None).await;
    let (_, off_tickets) = setup.book(holder as u64, "off", off, &[0], None).await;
    let (_, late_tickets) = setup.book(holder as u64, "late", late, &[0], None).await;
    for ticket in [open_tickets[0], off_tickets[0], late_tickets[0]] {
        setup.ticket_view(ticket, &token).await;
    }
    let friend = "friend@example.com";
    assert_eq!(
        refused(&setup, off_tickets[0], &token, friend).await,
        (409, "transfers_off".to_owned())
    );
    assert_eq!(
        refused(&setup, late_tickets[0], &token, friend).await,
        (409, "transfer_deadline_passed".to_owned())
    );
    assert_eq!(
        refused(&setup, open_tickets[0], &token, "HOLDER@example.com").await,
        (422, "transfer_to_self".to_owned())
    );
    assert_eq!(
        refused(&setup, open_tickets[0], &token, "nobody@example.com").await,
        (422, "unknown_member".to_owned())
    );
    // A seller is no member to give a ticket to.
    assert_eq!(
        refused(&setup, open_tickets[0], &token, "seller2@example.com").await,
        (422, "unknown_member".to_owned())
    );
    let (status, body) = give(&setup, open_tickets[0], &token, "not an address").await;
    assert_eq!(status, 422, "{body:?}");
    assert_eq!(body["errors"][0]["field"], "to_email");
    // Someone else's ticket is no ticket of theirs (nor a guest's to give).
    let (_, stranger) = setup.member("stranger@example.com").await;
    assert_eq!(
        refused(&setup, open_tickets[0], &stranger, friend).await,
        (404, "not_found".to_owned())
    );
    let guest = picket_tests::gateway::test_keys().sign(&picket_edge::token::Claims::Guest {
        device: "guest-transfer-device-01".into(),
        exp_ms: picket_edge::clock::now_ms() + 3_600_000,
    });
    assert_eq!(
        refused(&setup, open_tickets[0], &guest, friend).await,
        (401, "members_only".to_owned())
    );
    let anonymous = call(
        setup.address,
        "POST",
        &format!("/api/v2/tickets/{}/transfer", open_tickets[0].0),
        &json!({"to_email": friend}).to_string(),
        None,
    )
    .await;
    assert_eq!(anonymous.status, 401, "{:?}", anonymous.body);

    // A cancelled ticket cannot be given.
    let (booking, tickets) = setup
        .book(holder as u64, "cancelled", open, &[1], None)
        .await;
    setup.ticket_view(tickets[0], &token).await;
    let cancel = Command::Cancel {
        performance: PerformanceId(open),
        booking,
        tickets: Vec::new(),
    };
    let cancelled = setup.submit(holder as u64, "cancel-it", cancel).await;
    assert!(
        matches!(cancelled, Ok(Reply::Cancelled { .. })),
        "{cancelled:?}"
    );
    assert_eq!(
        refused(&setup, tickets[0], &token, friend).await,
        (409, "ticket_cancelled".to_owned())
    );
    // Nothing above moved a ticket: the open show's is still the holder's, and given now.
    assert_eq!(give(&setup, open_tickets[0], &token, friend).await.0, 200);

    // Addresses that are no member's are limited per holder (5 at once, then one a minute), so
    // giving a ticket cannot probe which addresses have accounts; two were tried above.
    let mut probes = Vec::new();
    for n in 0..4 {
        probes.push(
            refused(
                &setup,
                off_tickets[0],
                &token,
                &format!("probe{n}@example.com"),
            )
            .await,
        );
    }
    assert_eq!(
        probes,
        [
            (422, "unknown_member".to_owned()),
            (422, "unknown_member".to_owned()),
            (422, "unknown_member".to_owned()),
            (429, "too_many_attempts".to_owned()),
        ]
    );
    // Locked out for a minute now, whatever the address.
    assert_eq!(
        refused(&setup, off_tickets[0], &token, friend).await,
        (429, "too_many_attempts".to_owned())
    );
}

/// A ticket's printed code as its PNG shows it, read by `zbarimg`: (status, text or problem
/// code).
async fn printed_png(setup: &ApiSetup, ticket: TicketId, token: &str) -> (u16, String) {
    let auth = format!("Bearer {token}");
    let path = format!("/api/v2/tickets/{}/printed.png", ticket.0);
    let (status, head, body) = call_raw(
        setup.address,
        "GET",
        &path,
        &[("Authorization", auth.as_str())],
        b"",
    )
    .await;
    if status != 200 {
        let problem: Value = serde_json::from_slice(&body).unwrap_or_default();
        return (status, problem["code"].as_str().unwrap_or_default().into());
    }
    assert_eq!(header(&head, "content-type"), Some("image/png"));
    assert_eq!(header(&head, "cache-control"), Some("no-store"));
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("printed.png");
    std::fs::write(&file, &body).expect("written");
    let out = std::process::Command::new("zbarimg")
        .args(["--quiet", "--raw"])
        .arg(&file)
        .output()
        .expect("zbarimg runs (Debian zbar-tools; scripts/test installs it)");
    assert!(out.status.success(), "zbarimg: {out:?}");
    (
        200,
        String::from_utf8(out.stdout).expect("text").trim().into(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn printed_codes_are_admitted_and_marked_only_where_the_show_issues_them() {
    let setup = start().await;
    let (printed_show, printed) = show_with_door(&setup, 1, json!({"static_tickets": true})).await;
    let (plain_show, plain) = show_with_door(&setup, 2, json!({})).await;
    let (buyer, token) = setup.member("buyer@example.com").await;
    let (_, on) = setup
        .book(buyer as u64, "printed", printed, &[0], None)
        .await;
    let (_, off) = setup.book(buyer as u64, "plain", plain, &[0], None).await;
    let on_view = setup.ticket_view(on[0], &token).await;
    assert_eq!(on_view["static_code_allowed"], true);
    let off_view = setup.ticket_view(off[0], &token).await;
    assert_eq!(off_view["static_code_allowed"], false);
    let seller1 = setup.sign_in("seller1@example.com").await;
    let seller2 = setup.sign_in("seller2@example.com").await;
    let _ = (printed_show, plain_show);

    // Where the show issues them: the PNG decodes to a printed code, admitted once, marked.
    let (status, text) = printed_png(&setup, on[0], &token).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.starts_with("PK1P"), "{text}");
    let admitted = setup.scan(&seller1, printed, &text, 0).await;
    assert_eq!(admitted["result"], "admitted", "{admitted}");
    assert_eq!(admitted["printed"], true);
    let again = setup.scan(&seller1, printed, &text, 0).await;
    assert_eq!(again["result"], "already_used", "{again}");
    // The SVG is the same code's picture.
    let auth = format!("Bearer {token}");
    let (status, head, svg) = call_raw(
        setup.address,
        "GET",
        &format!("/api/v2/tickets/{}/printed.svg", on[0].0),
        &[("Authorization", auth.as_str())],
        b"",
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(header(&head, "content-type"), Some("image/svg+xml"));
    assert!(String::from_utf8_lossy(&svg).contains("<svg"));

    // Where it does not: none is issued, and a printed code made from the secret is refused.
    assert_eq!(
        printed_png(&setup, off[0], &token).await,
        (409, "static_tickets_off".to_owned())
    );
    let forged = Code::printed(
        PerformanceId(plain),
        off[0],
        &picket_tests::api::secret_of(&off_view),
    )
    .to_string();
    let refused = setup.scan(&seller2, plain, &forged, 0).await;
    assert_eq!(refused, json!({"result": "revoked"}));
    // Someone else's ticket has no printed code for them.
    let (_, stranger) = setup.member("stranger@example.com").await;
    assert_eq!(printed_png(&setup, on[0], &stranger).await.0, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn door_settings_are_checked_field_by_field() {
    let setup = start().await;
    let (show, _) = setup
        .published_show("owner@example.com", "123-45-67891")
        .await;
    let owner = setup.sign_in("owner@example.com").await;
    let page = call(
        setup.address,
        "GET",
        &format!("/api/v2/shows/{show}"),
        "",
        None,
    )
    .await;
    // A show without door settings has every one off.
    assert_eq!(
        page.body["door"],
        json!({"reentry": false, "gates": [], "transfer_until_minutes_before_start": null,
            "static_tickets": false})
    );
    let form = |door: Value| {
        json!({"title": "햄릿", "category": "play", "venue_id": page.body["venue_id"],
            "description": "", "age_rating": "all", "running_minutes": 120,
            "grades": [{"code": "R", "price_won": 50000, "sections": ["A", "B"], "zones": ["Floor"]}],
            "door": door})
        .to_string()
    };
    let address = setup.address;
    let create = |body: String| {
        let owner = owner.clone();
        async move { call(address, "POST", "/api/v2/shows", &body, Some(&owner)).await }
    };
    let too_many: Vec<String> = (0..=limits::GATES_PER_PERFORMANCE_MAX)
        .map(|i| format!("{i}번"))
        .collect();
    let cases = [
        (json!({"gates": too_many}), "door.gates"),
        (json!({"gates": ["동문", "동문"]}), "door.gates"),
        (json!({"gates": ["  "]}), "door.gates"),
        // 11 syllables: 33 bytes, over the ledger's 32.
        (json!({"gates": ["가나다라마바사아자차카"]}), "door.gates"),
        (
            json!({"transfer_until_minutes_before_start": 90 * 24 * 60 + 1}),
            "door.transfer_until_minutes_before_start",
        ),
    ];
    for (door, field) in cases {
        let answer = create(form(door.clone())).await;
        assert_eq!(answer.status, 422, "{door}: {:?}", answer.body);
        assert_eq!(answer.body["code"], "invalid_request");
        let fields: Vec<&str> = answer.body["errors"]
            .as_array()
            .expect("errors")
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        assert_eq!(fields, [field], "{door}");
        let message = answer.body["errors"][0]["message"].as_str().expect("text");
        assert!(!message.is_ascii(), "Korean first: {message}");
    }
    // Both at once are both named; an unknown setting is not the form's.
    let both = create(form(
        json!({"gates": [""], "transfer_until_minutes_before_start": u32::MAX}),
    ))
    .await;
    assert_eq!(both.status, 422, "{:?}", both.body);
    assert_eq!(both.body["errors"].as_array().map(Vec::len), Some(2));
    let unknown = create(form(json!({"turnstiles": 3}))).await;
    assert_eq!(unknown.status, 400, "{:?}", unknown.body);
    assert_eq!(unknown.body["code"], "bad_body");
    // Within the bounds it is a show.
    let fine = create(form(
        json!({"reentry": true, "gates": ["가나다라마바사아자차", "B"],
        "transfer_until_minutes_before_start": 90 * 24 * 60, "static_tickets": true}),
    ))
    .await;
    assert_eq!(fine.status, 201, "{:?}", fine.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operators_spec_carries_door_settings_and_old_specs_still_open() {
    let setup = start().await;
    let address = setup.address;
    let open = |spec: Value| async move {
        call(
            address,
            "POST",
            "/api/v2/performances",
            &spec.to_string(),
            Some(OPERATOR),
        )
        .await
    };
    // A spec as operators wrote it before `door` existed.
    let mut old = picket_tests::gateway::spec_json(&picket_tests::gateway::small_spec(900, 4));
    old.as_object_mut().expect("object").remove("door");
    let answer = open(old).await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    // One that allows transfers until its start: a ticket of it can be given.
    let mut spec = picket_tests::gateway::small_spec(901, 4);
    spec.door.transfer_until_ms = Some(spec.starts_at_ms);
    let answer = open(picket_tests::gateway::spec_json(&spec)).await;
    assert_eq!(answer.status, 201, "{:?}", answer.body);
    let (holder, token) = setup.member("holder@example.com").await;
    let (_, friend_token) = setup.member("friend@example.com").await;
    let (_, old_tickets) = setup.book(holder as u64, "old", 900, &[0], None).await;
    let (_, tickets) = setup.book(holder as u64, "new", 901, &[0], None).await;
    setup.ticket_view(old_tickets[0], &token).await;
    setup.ticket_view(tickets[0], &token).await;
    assert_eq!(
        refused(&setup, old_tickets[0], &token, "friend@example.com").await,
        (409, "transfers_off".to_owned())
    );
    let (status, body) = give(&setup, tickets[0], &token, "friend@example.com").await;
    assert_eq!(status, 200, "{body:?}");
    // A performance of no show: listed without a title.
    let theirs = wait_for(&setup, "/api/v2/me/tickets", &friend_token, |body| {
        ticket_in(my_tickets(body), tickets[0]).is_some()
    })
    .await;
    let item = ticket_in(my_tickets(&theirs), tickets[0]).expect("listed");
    assert_eq!(item["title"], Value::Null);
    assert_eq!(item["show_id"], Value::Null);
    assert_eq!(item["grade"], "S");
}

/// The same transfer and lists on PostgreSQL, production's store (its SQL differs from
/// SQLite's in what it accepts).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transfers_and_my_tickets_on_postgresql() {
    let setup = ApiSetup::start_postgres().await;
    let (_, performance) = show_with_door(
        &setup,
        1,
        json!({"transfer_until_minutes_before_start": 30, "gates": ["A"]}),
    )
    .await;
    let (giver, giver_token) = setup.member("giver@example.com").await;
    let (_, taker_token) = setup.member("taker@example.com").await;
    let (_, tickets) = setup
        .book(giver as u64, "gift", performance, &[0], None)
        .await;
    setup.ticket_view(tickets[0], &giver_token).await;
    let (status, body) = give(&setup, tickets[0], &giver_token, "taker@example.com").await;
    assert_eq!(status, 200, "{body:?}");
    let theirs = wait_for(&setup, "/api/v2/me/tickets", &taker_token, |body| {
        ticket_in(my_tickets(body), tickets[0]).is_some()
    })
    .await;
    let item = ticket_in(my_tickets(&theirs), tickets[0]).expect("listed");
    assert_eq!(item["received_from"]["email"], "g***@example.com");
    let bookings = wait_for(&setup, "/api/v2/me/bookings", &giver_token, |_| true).await;
    let given = ticket_in(booked_tickets(&bookings), tickets[0]).expect("booked");
    assert_eq!(given["transferred_to"]["email"], "t***@example.com");
    let mine = wait_for(&setup, "/api/v2/me/tickets", &giver_token, |_| true).await;
    assert_eq!(my_tickets(&mine).count(), 0, "{mine}");
    // The recipient's device is theirs alone.
    let bound = call(
        setup.address,
        "POST",
        &format!("/api/v2/tickets/{}/device", tickets[0].0),
        &json!({"public_key": "T".repeat(43)}).to_string(),
        Some(&taker_token),
    )
    .await;
    assert_eq!(bound.status, 200, "{:?}", bound.body);
    assert_eq!(bound.body["rebinds"], 0);
}

async fn scan_as(
    setup: &ApiSetup,
    token: &str,
    performance: u64,
    code: &str,
    gate: u16,
    direction: &str,
) -> (u16, Value) {
    let form = json!({"code": code, "gate": gate, "direction": direction});
    let answer = call(
        setup.address,
        "POST",
        &format!("/api/v2/performances/{performance}/scans"),
        &form.to_string(),
        Some(token),
    )
    .await;
    (answer.status, answer.body)
}

/// The show's re-entry and gates are the door's rules: an exit lets a ticket in again only
/// where the show allows it, and only the listed gates scan.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reentry_and_gates_are_the_shows() {
    let setup = start().await;
    let (_, again) = show_with_door(
        &setup,
        1,
        json!({"reentry": true, "gates": ["동문", "서문"]}),
    )
    .await;
    let (_, once) = show_with_door(&setup, 2, json!({})).await;
    let seller1 = setup.sign_in("seller1@example.com").await;
    let seller2 = setup.sign_in("seller2@example.com").await;
    let (buyer, token) = setup.member("buyer@example.com").await;
    let (_, again_tickets) = setup.book(buyer as u64, "again", again, &[0], None).await;
    let (_, once_tickets) = setup.book(buyer as u64, "once", once, &[0], None).await;
    let again_view = setup.ticket_view(again_tickets[0], &token).await;
    let once_view = setup.ticket_view(once_tickets[0], &token).await;
    let code = app_code(again, again_tickets[0], &again_view);
    // Gate 3 is none of the two listed.
    let (status, body) = scan_as(&setup, &seller1, again, &code, 3, "entry").await;
    assert_eq!(status, 422, "{body:?}");
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("unknown_gate")
    );
    for (gate, direction, result) in [
        (1, "entry", "admitted"),
        (2, "exit", "exited"),
        (2, "entry", "admitted"),
    ] {
        let (status, body) = scan_as(&setup, &seller1, again, &code, gate, direction).await;
        assert_eq!(
            (status, body["result"].as_str()),
            (200, Some(result)),
            "{body}"
        );
    }
    // Without re-entry (and without gates: any gate number), an exit is refused.
    let code = app_code(once, once_tickets[0], &once_view);
    let (status, body) = scan_as(&setup, &seller2, once, &code, 7, "entry").await;
    assert_eq!(
        (status, body["result"].as_str()),
        (200, Some("admitted")),
        "{body}"
    );
    let (status, body) = scan_as(&setup, &seller2, once, &code, 7, "exit").await;
    assert_eq!(status, 422, "{body:?}");
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("no_reentry")
    );
}
