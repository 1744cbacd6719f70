//! Every result at the door, online (the server's roster) and offline (a signed manifest opened
//! on a scanner): the same code gets the same answer from both.

use std::collections::BTreeMap;

use picket_ledger_core::{PerformanceId, TicketId};
use picket_tickets::*;

const PERFORMANCE: PerformanceId = PerformanceId(77);
const MASTER: [u8; 32] = [9; 32];
/// 2025-11-25 02:00 UTC; the doors open an hour before.
const NOW_MS: u64 = 1_764_036_000_000;
const DOORS_OPEN_MS: u64 = NOW_MS - 3_600_000;
const PLAIN: TicketId = TicketId(1);
const WITH_PROOF: TicketId = TicketId(2);
const CANCELLED: TicketId = TicketId(3);
const REBOUND: TicketId = TicketId(4);

fn facts(place: &str, proof: Option<&str>) -> DoorFacts {
    DoorFacts {
        grade: "R석".into(),
        place: place.into(),
        holder: "김*수 (1234)".into(),
        proof: proof.map(Into::into),
    }
}

fn roster(printed_codes: bool) -> Roster {
    let ticket = |id: TicketId, generation: u8, place: &str, proof, revoked| {
        let secret = TicketSecret::derive(&MASTER, PERFORMANCE, id, generation);
        let facts = facts(place, proof);
        (
            id,
            RosterTicket {
                secret,
                facts,
                revoked,
            },
        )
    };
    Roster {
        rules: DoorRules {
            performance: PERFORMANCE,
            doors_open_ms: DOORS_OPEN_MS,
            printed_codes,
            reentry: false,
        },
        tickets: BTreeMap::from([
            ticket(PLAIN, 0, "1층 A구역 3열 12번", None, false),
            ticket(
                WITH_PROOF,
                0,
                "1층 A구역 3열 13번",
                Some("장애인 (동반 1인)"),
                false,
            ),
            ticket(CANCELLED, 0, "1층 A구역 3열 14번", None, true),
            ticket(REBOUND, 1, "1층 A구역 3열 15번", None, false),
        ]),
    }
}

fn manifest(roster: &Roster) -> Manifest {
    let key = ManifestKey::from_seed(&[5; 32]);
    let bytes = Manifest::build(roster, NOW_MS - 7_200_000, &[6; 32])
        .expect("a valid roster")
        .sign(&key);
    Manifest::open(&bytes, &key.public(), PERFORMANCE).expect("its own signature")
}

fn code(ticket: TicketId, generation: u8, at_ms: u64) -> String {
    let secret = TicketSecret::derive(&MASTER, PERFORMANCE, ticket, generation);
    Code::rotating(PERFORMANCE, ticket, &secret, at_ms).to_string()
}

/// The answer online and offline, which must agree.
fn check(code: &str, now_ms: u64, printed_codes: bool) -> Result<Verified, Refusal> {
    let roster = roster(printed_codes);
    let online = verify(code.as_bytes(), now_ms, &roster);
    let offline = verify(code.as_bytes(), now_ms, &manifest(&roster));
    assert_eq!(online, offline, "online and offline disagree on {code}");
    online
}

#[test]
fn a_fresh_code_is_verified_with_what_the_door_must_check() {
    let verified = check(&code(PLAIN, 0, NOW_MS), NOW_MS, false).expect("valid");
    assert_eq!(verified.ticket, PLAIN);
    assert_eq!(verified.kind, CodeKind::Rotating);
    assert_eq!(verified.facts, facts("1층 A구역 3열 12번", None));
    let proof = check(&code(WITH_PROOF, 0, NOW_MS), NOW_MS, false).expect("valid");
    assert_eq!(proof.facts.proof.as_deref(), Some("장애인 (동반 1인)"));
}

#[test]
fn a_code_is_accepted_within_its_step_plus_or_minus_one_only() {
    let step = STEP;
    let at = |offset_steps: i64| NOW_MS.checked_add_signed(offset_steps * step).unwrap();
    let shown = code(PLAIN, 0, NOW_MS);
    for accepted in [-1, 0, 1] {
        assert!(check(&shown, at(accepted), false).is_ok(), "{accepted}");
    }
    for expired in [-3, -2, 2, 3] {
        assert_eq!(
            check(&shown, at(expired), false),
            Err(Refusal::CodeExpired),
            "{expired}"
        );
    }
    // A screenshot taken 45 s ago is three steps old.
    assert_eq!(
        check(&code(PLAIN, 0, NOW_MS - 45_000), NOW_MS, false),
        Err(Refusal::CodeExpired)
    );
}

const STEP: i64 = 15_000;

#[test]
fn a_flipped_bit_is_forged() {
    let shown = code(PLAIN, 0, NOW_MS);
    let secret = TicketSecret::derive(&MASTER, PERFORMANCE, PLAIN, 0);
    let mut parsed = Code::parse(shown.as_bytes()).unwrap();
    parsed.mac[3] ^= 0x10;
    assert_eq!(
        check(&parsed.to_string(), NOW_MS, false),
        Err(Refusal::Forged)
    );
    let mut step = Code::rotating(PERFORMANCE, PLAIN, &secret, NOW_MS);
    step.step ^= 1;
    assert_eq!(
        check(&step.to_string(), NOW_MS, false),
        Err(Refusal::Forged)
    );
    let mut seal = Code::rotating(PERFORMANCE, PLAIN, &secret, NOW_MS);
    seal.seal.0[0] ^= 1;
    assert_eq!(
        check(&seal.to_string(), NOW_MS, false),
        Err(Refusal::Forged)
    );
    for junk in ["", "hello", &shown[..67], &shown.to_lowercase()] {
        assert_eq!(check(junk, NOW_MS, false), Err(Refusal::Forged), "{junk}");
    }
}

#[test]
fn the_right_mac_key_with_another_seal_is_forged_online_as_offline() {
    // Offline a wrong seal opens no entry; online the roster compares it, so both agree.
    let mut secret = TicketSecret::derive(&MASTER, PERFORMANCE, PLAIN, 0);
    secret.seal.0[8] ^= 0x80;
    let shown = Code::rotating(PERFORMANCE, PLAIN, &secret, NOW_MS).to_string();
    assert_eq!(check(&shown, NOW_MS, false), Err(Refusal::Forged));
}

#[test]
fn a_ticket_the_performance_never_issued_is_forged() {
    let other = TicketSecret::derive(&MASTER, PERFORMANCE, TicketId(99), 0);
    let shown = Code::rotating(PERFORMANCE, TicketId(99), &other, NOW_MS).to_string();
    assert_eq!(check(&shown, NOW_MS, false), Err(Refusal::Forged));
}

#[test]
fn another_performances_ticket_is_wrong_performance() {
    let elsewhere = PerformanceId(78);
    let secret = TicketSecret::derive(&MASTER, elsewhere, PLAIN, 0);
    let shown = Code::rotating(elsewhere, PLAIN, &secret, NOW_MS).to_string();
    assert_eq!(check(&shown, NOW_MS, false), Err(Refusal::WrongPerformance));
}

#[test]
fn a_cancelled_ticket_and_an_older_generation_are_revoked() {
    assert_eq!(
        check(&code(CANCELLED, 0, NOW_MS), NOW_MS, false),
        Err(Refusal::Revoked)
    );
    // The ticket moved to another device: generation 0's codes stop, generation 1's work.
    assert_eq!(
        check(&code(REBOUND, 0, NOW_MS), NOW_MS, false),
        Err(Refusal::Revoked)
    );
    assert!(check(&code(REBOUND, 1, NOW_MS), NOW_MS, false).is_ok());
    // A generation the server never issued is not a revoked one.
    assert_eq!(
        check(&code(REBOUND, 2, NOW_MS), NOW_MS, false),
        Err(Refusal::Forged)
    );
}

#[test]
fn before_the_doors_open_a_genuine_code_is_not_yet_open() {
    let early = DOORS_OPEN_MS - 1;
    assert_eq!(
        check(&code(PLAIN, 0, early), early, false),
        Err(Refusal::NotYetOpen)
    );
    assert!(check(&code(PLAIN, 0, DOORS_OPEN_MS), DOORS_OPEN_MS, false).is_ok());
}

#[test]
fn printed_codes_work_only_where_the_show_allows_them_and_are_marked() {
    let secret = TicketSecret::derive(&MASTER, PERFORMANCE, PLAIN, 0);
    let printed = Code::printed(PERFORMANCE, PLAIN, &secret).to_string();
    assert!(printed.starts_with("PK1P"));
    assert_eq!(check(&printed, NOW_MS, false), Err(Refusal::Revoked));
    let verified = check(&printed, NOW_MS + 86_400_000, true).expect("allowed");
    assert_eq!(verified.kind, CodeKind::Printed);
}

#[test]
fn a_discount_needing_proof_waits_for_staff_then_the_ticket_is_used() {
    let verified = check(&code(WITH_PROOF, 0, NOW_MS), NOW_MS, false).unwrap();
    let mut book = CheckIns::new(false);
    let mut scan = EntryScan {
        at_ms: NOW_MS,
        gate: GateId(3),
        proof_checked: false,
        source: Source::Online,
    };
    assert_eq!(
        book.enter(&verified, scan),
        Err(Refusal::ProofRequired {
            discount: "장애인 (동반 1인)".into()
        })
    );
    assert_eq!(book.presence(WITH_PROOF), Presence::Outside);
    scan.proof_checked = true;
    assert!(book.enter(&verified, scan).is_ok());
    let again = EntryScan {
        at_ms: NOW_MS + 20_000,
        gate: GateId(5),
        ..scan
    };
    assert_eq!(
        book.enter(&verified, again),
        Err(Refusal::AlreadyUsed {
            at_ms: NOW_MS,
            gate: GateId(3)
        })
    );
}

#[test]
fn a_manifest_is_opened_only_with_its_performances_key_and_unchanged() {
    let roster = roster(false);
    let key = ManifestKey::from_seed(&[5; 32]);
    let bytes = Manifest::build(&roster, NOW_MS, &[6; 32])
        .unwrap()
        .sign(&key);
    let other_key = ManifestKey::from_seed(&[4; 32]).public();
    assert_eq!(
        Manifest::open(&bytes, &other_key, PERFORMANCE),
        Err(ManifestError::Signature)
    );
    assert_eq!(
        Manifest::open(&bytes, &key.public(), PerformanceId(78)),
        Err(ManifestError::WrongPerformance)
    );
    for at in [0, 10, bytes.len() - 1] {
        let mut changed = bytes.clone();
        changed[at] ^= 1;
        assert!(Manifest::open(&changed, &key.public(), PERFORMANCE).is_err());
    }
    assert_eq!(
        Manifest::open(&bytes[..60], &key.public(), PERFORMANCE),
        Err(ManifestError::Magic)
    );
    let huge = vec![0; limits::MANIFEST_BYTES_MAX + 1];
    assert_eq!(
        Manifest::open(&huge, &key.public(), PERFORMANCE),
        Err(ManifestError::TooLarge)
    );
}

#[test]
fn a_manifest_holds_no_mac_key_holder_or_discount_in_the_clear() {
    let roster = roster(false);
    let key = ManifestKey::from_seed(&[5; 32]);
    let bytes = Manifest::build(&roster, NOW_MS, &[6; 32])
        .unwrap()
        .sign(&key);
    let contains = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    for ticket in roster.tickets.values() {
        assert!(!contains(&ticket.secret.mac_key));
        assert!(!contains(&ticket.secret.seal.0));
    }
    assert!(!contains("김*수".as_bytes()));
    assert!(!contains("장애인".as_bytes()));
    assert!(
        contains("1층 A구역 3열 12번".as_bytes()),
        "places are listed"
    );
    // Without the code's seal, a scanner learns nothing of an entry.
    let opened = Manifest::open(&bytes, &key.public(), PERFORMANCE).unwrap();
    assert!(opened.open(PLAIN, &Seal([0; 9])).is_none());
    let seal = roster.tickets[&PLAIN].secret.seal;
    assert!(opened.open(PLAIN, &seal).is_some());
    // A seal opens only its own ticket's entry (the entry's ids are its associated data).
    assert!(opened.open(WITH_PROOF, &seal).is_none());
}

#[test]
fn a_manifest_with_a_label_past_the_bound_is_not_built() {
    let mut roster = roster(false);
    roster.tickets.get_mut(&PLAIN).unwrap().facts.holder = "가".repeat(65);
    assert_eq!(
        Manifest::build(&roster, NOW_MS, &[6; 32]),
        Err(ManifestError::Invalid)
    );
}

#[test]
fn the_door_rules_follow_the_ledgers_door_settings() {
    let open = picket_ledger_core::DoorSpec {
        reentry: true,
        static_tickets: true,
        ..Default::default()
    };
    let rules = DoorRules::for_door(PERFORMANCE, &open, DOORS_OPEN_MS);
    assert_eq!(
        rules,
        DoorRules {
            performance: PERFORMANCE,
            doors_open_ms: DOORS_OPEN_MS,
            printed_codes: true,
            reentry: true,
        }
    );
    let strict = DoorRules::for_door(PERFORMANCE, &Default::default(), DOORS_OPEN_MS);
    assert!(!strict.printed_codes && !strict.reentry, "off by default");
}
