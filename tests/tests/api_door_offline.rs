//! The door offline over HTTP (issue 14; docs/protocol.md, "Offline scanners over HTTP"): two
//! scanners download the signed manifest and open it with the key the door route names, both
//! admit the same ticket with no network, both upload: one admission, one conflict (in the second
//! upload's answer and in the door's counters); repeated uploads change nothing; a fresh manifest
//! revokes a cancelled ticket and carries a re-bound one at its new generation; only staff of the
//! show see any of it; a tampered manifest does not open. Codes are made with `picket-tickets`
//! from the secret the API delivers, as an app would.

use picket_ledger_core::*;
use picket_tests::api::{ApiSetup, OPERATOR, PASSWORD, call, call_raw, header};
use picket_tickets::{CheckIns, Code, EntryScan, Manifest, ManifestError, Refusal, Source};
use serde_json::{Value, json};

const DAY_MS: u64 = 24 * 3_600_000;
/// `published_show` starts 20 days away: the doors are open for this test.
const DOORS_OPEN_BEFORE_START_MS: u64 = 21 * DAY_MS;
const SCANNER_A: u64 = 0x41A1_0000_0000_0001;
const SCANNER_B: u64 = 0x52B2_0000_0000_0002;

async fn bind(setup: &ApiSetup, ticket: TicketId, token: &str, key: &str) -> Value {
    let answer = call(
        setup.address,
        "POST",
        &format!("/api/v2/tickets/{}/device", ticket.0),
        &json!({"public_key": key}).to_string(),
        Some(token),
    )
    .await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body
}

/// A staff account (`email`) assigned to `show` by `seller` when given: its token.
async fn staff(setup: &ApiSetup, email: &str, assigned: Option<(i64, &str)>) -> String {
    let form = json!({"account": {"email": email, "password": PASSWORD, "name": "검표원"},
        "role": "staff"});
    let created = call(
        setup.address,
        "POST",
        "/api/v2/admin/accounts",
        &form.to_string(),
        Some(OPERATOR),
    )
    .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    if let Some((show, seller)) = assigned {
        let assign = call(
            setup.address,
            "POST",
            &format!("/api/v2/shows/{show}/staff"),
            &json!({"account_id": created.body["id"]}).to_string(),
            Some(seller),
        )
        .await;
        assert_eq!(assign.status, 204, "{:?}", assign.body);
    }
    setup.sign_in(email).await
}

async fn door(setup: &ApiSetup, token: &str, performance: u64) -> Value {
    let path = format!("/api/v2/performances/{performance}/door");
    let answer = call(setup.address, "GET", &path, "", Some(token)).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(header(&answer.head, "cache-control"), Some("no-store"));
    answer.body
}

/// The manifest's bytes as a scanner downloads them.
async fn manifest_bytes(setup: &ApiSetup, token: &str, performance: u64) -> Vec<u8> {
    let auth = format!("Bearer {token}");
    let path = format!("/api/v2/performances/{performance}/door/manifest");
    let (status, head, bytes) = call_raw(
        setup.address,
        "GET",
        &path,
        &[("Authorization", auth.as_str())],
        b"",
    )
    .await;
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(
        header(&head, "content-type"),
        Some("application/octet-stream")
    );
    assert_eq!(header(&head, "cache-control"), Some("no-store"));
    bytes
}

/// The public key the door route names, as a scanner reads it (64 hex digits).
fn public_key(door: &Value) -> [u8; 32] {
    assert_eq!(door["manifest"]["format"], "PKM1");
    let text = door["manifest"]["public_key"].as_str().expect("public_key");
    hex::decode(text)
        .expect("hex")
        .try_into()
        .expect("32 bytes")
}

/// A scanner's queued scans as the upload route takes them.
fn upload_body(scanner: u64, book: &CheckIns) -> String {
    let scans: Vec<Value> = book
        .uploads()
        .iter()
        .filter(|s| s.scanner == scanner)
        .map(|s| {
            json!({"ticket": s.ticket.0.to_string(), "generation": s.generation,
                "at_ms": s.at_ms, "gate": s.gate.0,
                "direction": match s.direction { Direction::Entry => "entry", Direction::Exit => "exit" },
                "nonce": s.nonce.to_string()})
        })
        .collect();
    json!({"scanner": scanner.to_string(), "scans": scans}).to_string()
}

async fn upload(setup: &ApiSetup, token: &str, performance: u64, body: &str) -> Value {
    let path = format!("/api/v2/performances/{performance}/door/uploads");
    let answer = call(setup.address, "POST", &path, body, Some(token)).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    answer.body
}

/// Scanner `scanner` admits `code` offline against `manifest` at `at_ms`, gate `gate`.
fn admit_offline(
    book: &mut CheckIns,
    manifest: &Manifest,
    code: &str,
    at_ms: u64,
    gate: u16,
    scanner: u64,
    nonce: u64,
) -> Result<Scan, Refusal> {
    let verified = picket_tickets::verify(code.as_bytes(), at_ms, manifest)?;
    book.enter(
        &verified,
        EntryScan {
            at_ms,
            gate: GateId(gate),
            proof_checked: false,
            source: Source::Offline { scanner, nonce },
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_offline_scanners_admit_one_ticket_once_and_report_the_conflict() {
    let setup = ApiSetup::start_with(|config| {
        config.doors_open_before_start_ms = DOORS_OPEN_BEFORE_START_MS
    })
    .await;
    let (show, performance) = setup
        .published_show("owner@example.com", "123-45-67891")
        .await;
    let (other_show, _) = setup
        .published_show("other@example.com", "220-81-62517")
        .await;
    let owner = setup.sign_in("owner@example.com").await;
    let other = setup.sign_in("other@example.com").await;
    let door_staff = staff(&setup, "door@example.com", Some((show, &owner))).await;
    let elsewhere = staff(&setup, "elsewhere@example.com", Some((other_show, &other))).await;
    let (buyer, token) = setup.member("buyer@example.com").await;
    let buyer = buyer as u64;
    let (booking, tickets) = setup
        .book(buyer, "four", performance, &[0, 1, 2, 3], None)
        .await;
    let id = PerformanceId(performance);

    // Only staff of this show, its seller and admins see its door.
    for (who, status) in [(&token, 403), (&other, 403), (&elsewhere, 403)] {
        for path in ["door", "door/manifest"] {
            let path = format!("/api/v2/performances/{performance}/{path}");
            let answer = call(setup.address, "GET", &path, "", Some(who)).await;
            assert_eq!(answer.status, status, "{path}: {:?}", answer.body);
        }
        let path = format!("/api/v2/performances/{performance}/door/uploads");
        let body = json!({"scanner": "1", "scans": []}).to_string();
        let answer = call(setup.address, "POST", &path, &body, Some(who)).await;
        assert_eq!(answer.status, status, "{:?}", answer.body);
    }
    let unknown = call(
        setup.address,
        "GET",
        "/api/v2/performances/999999/door",
        "",
        Some(&door_staff),
    )
    .await;
    assert_eq!(unknown.status, 404, "{:?}", unknown.body);

    // What a scanner keeps: the key, the rules; nobody has entered yet.
    let before = door(&setup, &door_staff, performance).await;
    let key = public_key(&before);
    assert_eq!(before["reentry"], false);
    assert_eq!(before["static_tickets"], false);
    assert_eq!(before["upload_scans_max"], 1_000);
    let counters = &before["counters"];
    assert_eq!(counters["admitted"], 0);
    assert_eq!(counters["no_shows"], 4);
    assert_eq!(counters["conflicts_total"], 0);
    // The seller sees the same door.
    assert_eq!(
        door(&setup, &owner, performance).await["manifest"],
        before["manifest"]
    );

    // Two scanners download the manifest and open it with that key.
    let manifest_a = Manifest::open(
        &manifest_bytes(&setup, &door_staff, performance).await,
        &key,
        id,
    )
    .expect("scanner A's manifest opens");
    let manifest_b = Manifest::open(&manifest_bytes(&setup, &owner, performance).await, &key, id)
        .expect("scanner B's manifest opens");
    let listed: Vec<(TicketId, u8)> = manifest_a
        .tickets
        .iter()
        .map(|e| (e.ticket, e.generation))
        .collect();
    let expected: Vec<(TicketId, u8)> = tickets.iter().map(|t| (*t, 0)).collect();
    assert_eq!(listed, expected);
    assert!(manifest_a.revoked.is_empty());
    assert_eq!(manifest_a.tickets[0].grade, "VIP");

    // A tampered byte anywhere, or another performance's key, and the manifest does not open.
    let bytes = manifest_bytes(&setup, &door_staff, performance).await;
    for at in [0, 4, 40, bytes.len() / 2, bytes.len() - 1] {
        let mut tampered = bytes.clone();
        tampered[at] ^= 0x01;
        assert!(Manifest::open(&tampered, &key, id).is_err(), "byte {at}");
    }
    let (_, second) = setup
        .published_show("third@example.com", "120-81-84429")
        .await;
    let third = setup.sign_in("third@example.com").await;
    let other_key = public_key(&door(&setup, &third, second).await);
    assert_ne!(other_key, key);
    assert_eq!(
        Manifest::open(&bytes, &other_key, id),
        Err(ManifestError::Signature)
    );

    // Both scanners admit the first ticket with no network, two seconds apart.
    let view = setup.ticket_view(tickets[0], &token).await;
    let now = picket_edge::clock::now_ms();
    let code =
        Code::rotating(id, tickets[0], &picket_tests::api::secret_of(&view), now).to_string();
    let mut scanner_a = CheckIns::new(manifest_a.rules.reentry);
    let mut scanner_b = CheckIns::new(manifest_b.rules.reentry);
    let kept = admit_offline(&mut scanner_a, &manifest_a, &code, now, 1, SCANNER_A, 11)
        .expect("scanner A admits");
    admit_offline(
        &mut scanner_b,
        &manifest_b,
        &code,
        now + 2_000,
        2,
        SCANNER_B,
        21,
    )
    .expect("scanner B, knowing nothing of A, admits too");
    // Each scanner's own book lets it in once.
    assert!(matches!(
        admit_offline(
            &mut scanner_a,
            &manifest_a,
            &code,
            now + 3_000,
            1,
            SCANNER_A,
            12
        ),
        Err(Refusal::AlreadyUsed { .. })
    ));

    // Back online, A uploads first: recorded. B's upload is the conflict.
    let first = upload(
        &setup,
        &door_staff,
        performance,
        &upload_body(SCANNER_A, &scanner_a),
    )
    .await;
    assert_eq!(
        first,
        json!({"recorded": 1, "repeated": 0, "refused": [], "conflicts": []})
    );
    let b_body = upload_body(SCANNER_B, &scanner_b);
    let second_upload = upload(&setup, &owner, performance, &b_body).await;
    let conflict = json!({"ticket": tickets[0].0.to_string(),
        "kept": {"at_ms": kept.at_ms, "gate": 1, "direction": "entry", "scanner": SCANNER_A.to_string()},
        "duplicate": {"at_ms": now + 2_000, "gate": 2, "direction": "entry", "scanner": SCANNER_B.to_string()}});
    assert_eq!(
        second_upload,
        json!({"recorded": 1, "repeated": 0, "refused": [], "conflicts": [conflict]})
    );
    // The same body again (an answer lost on the way) is the same command: the same answer.
    let retried = upload(&setup, &owner, performance, &b_body).await;
    assert_eq!(retried, second_upload);
    // Sent by someone else, the same scans are repeats: nothing is recorded twice.
    let repeated = upload(&setup, &door_staff, performance, &b_body).await;
    assert_eq!(
        repeated,
        json!({"recorded": 0, "repeated": 1, "refused": [], "conflicts": []})
    );

    // The counters: one admission, the conflict for the seller and every staff member.
    let after = door(&setup, &owner, performance).await;
    let counters = &after["counters"];
    assert_eq!(counters["admitted"], 1, "{counters}");
    assert_eq!(counters["inside"], 1);
    assert_eq!(counters["no_shows"], 3);
    assert_eq!(
        counters["by_gate_minute"],
        json!([{"gate": 1, "minute_ms": kept.at_ms - kept.at_ms % 60_000, "admitted": 1}])
    );
    assert_eq!(counters["conflicts"], json!([conflict]));
    assert_eq!(counters["conflicts_total"], 1);
    assert_eq!(
        door(&setup, &door_staff, performance).await["counters"],
        *counters
    );

    // A cancels and a re-binding: the old device's code for the fourth ticket, taken before.
    let fourth = setup.ticket_view(tickets[3], &token).await;
    let old_secret = picket_tests::api::secret_of(&fourth);
    bind(&setup, tickets[3], &token, &"A".repeat(43)).await;
    let moved = bind(&setup, tickets[3], &token, &"B".repeat(43)).await;
    assert_eq!(moved["code"]["generation"], 1);
    let cancel = Command::Cancel {
        performance: id,
        booking,
        tickets: vec![tickets[2]],
    };
    let cancelled = setup.submit(buyer, "cancel-third", cancel).await;
    assert!(
        matches!(cancelled, Ok(Reply::Cancelled { .. })),
        "{cancelled:?}"
    );

    // A fresh manifest: the cancelled ticket revoked, the re-bound one at its new generation.
    let fresh = Manifest::open(
        &manifest_bytes(&setup, &door_staff, performance).await,
        &key,
        id,
    )
    .expect("opens");
    assert_eq!(fresh.revoked, vec![tickets[2]]);
    let listed: Vec<(TicketId, u8)> = fresh
        .tickets
        .iter()
        .map(|e| (e.ticket, e.generation))
        .collect();
    assert_eq!(
        listed,
        vec![(tickets[0], 0), (tickets[1], 0), (tickets[3], 1)]
    );
    let now = picket_edge::clock::now_ms();
    let old_code = Code::rotating(id, tickets[3], &old_secret, now).to_string();
    let mut synced = CheckIns::new(fresh.rules.reentry);
    assert_eq!(
        admit_offline(&mut synced, &fresh, &old_code, now, 1, SCANNER_A, 13),
        Err(Refusal::Revoked)
    );
    let third_view = setup.ticket_view(tickets[2], &token).await;
    let cancelled_code = Code::rotating(
        id,
        tickets[2],
        &picket_tests::api::secret_of(&third_view),
        now,
    )
    .to_string();
    assert_eq!(
        admit_offline(&mut synced, &fresh, &cancelled_code, now, 1, SCANNER_A, 14),
        Err(Refusal::Revoked)
    );
    let new_code =
        Code::rotating(id, tickets[3], &picket_tests::api::secret_of(&moved), now).to_string();
    admit_offline(&mut synced, &fresh, &new_code, now, 1, SCANNER_A, 15)
        .expect("the new device's code is admitted");

    // A scanner still on the old manifest admits the old code; the ledger refuses its upload.
    let mut stale = CheckIns::new(manifest_b.rules.reentry);
    admit_offline(&mut stale, &manifest_b, &old_code, now, 2, SCANNER_B, 22)
        .expect("the stale manifest knows no better");
    let refused = upload(
        &setup,
        &door_staff,
        performance,
        &upload_body(SCANNER_B, &stale),
    )
    .await;
    assert_eq!(
        refused,
        json!({"recorded": 0, "repeated": 0, "conflicts": [],
            "refused": [{"ticket": tickets[3].0.to_string(), "nonce": "22", "reason": "revoked"}]})
    );
    let counters = &door(&setup, &owner, performance).await["counters"];
    assert_eq!(counters["admitted"], 1, "{counters}");
    assert_eq!(
        counters["no_shows"], 2,
        "the cancelled ticket is no no-show"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_is_bounded_and_checked() {
    let setup = ApiSetup::start().await;
    let (_, performance) = setup
        .published_show("owner@example.com", "123-45-67891")
        .await;
    let owner = setup.sign_in("owner@example.com").await;
    let path = format!("/api/v2/performances/{performance}/door/uploads");
    let scan = |n: u64| {
        json!({"ticket": "1", "generation": 0, "at_ms": 1, "gate": 0, "direction": "entry",
            "nonce": n.to_string()})
    };
    let too_many: Vec<Value> = (0..1_001).map(scan).collect();
    let body = json!({"scanner": "1", "scans": too_many}).to_string();
    let answer = call(setup.address, "POST", &path, &body, Some(&owner)).await;
    assert_eq!(answer.status, 422, "{:?}", answer.body);
    assert_eq!(answer.body["code"], "invalid_request");
    // A ticket the performance never issued is refused by the ledger, not recorded.
    let body = json!({"scanner": "1", "scans": [scan(1)]}).to_string();
    let answer = call(setup.address, "POST", &path, &body, Some(&owner)).await;
    assert_eq!(answer.status, 200, "{:?}", answer.body);
    assert_eq!(answer.body["refused"][0]["reason"], "unknown_ticket");
    assert_eq!(answer.body["recorded"], 0);
    // Ids are decimal strings; an unknown field or direction is a bad body.
    for body in [
        json!({"scanner": 1, "scans": []}),
        json!({"scanner": "1", "scans": [], "extra": true}),
        json!({"scanner": "1", "scans": [{"ticket": "1", "generation": 0, "at_ms": 1,
            "gate": 0, "direction": "sideways", "nonce": "1"}]}),
    ] {
        let answer = call(
            setup.address,
            "POST",
            &path,
            &body.to_string(),
            Some(&owner),
        )
        .await;
        assert_eq!(answer.status, 400, "{body}: {:?}", answer.body);
    }
    // A body over the upload's limit is refused before it is read.
    let huge = format!(
        "{{\"scanner\": \"1\", \"scans\": [], \"pad\": \"{}\"}}",
        "x".repeat(picket_api::door::UPLOAD_BODY_BYTES_MAX)
    );
    let answer = call(setup.address, "POST", &path, &huge, Some(&owner)).await;
    assert_eq!(answer.status, 413, "{:?}", answer.body);
}
