//! A code rendered as PNG and read back by a decoder no one here wrote (zbar's `zbarimg`,
//! Debian package `zbar-tools`; scripts/test installs it), then verified.

use std::collections::BTreeMap;
use std::process::Command;

use picket_ledger_core::{PerformanceId, TicketId};
use picket_tickets::*;

const PERFORMANCE: PerformanceId = PerformanceId(12);
const TICKET: TicketId = TicketId(3 << 48 | 77);
const NOW_MS: u64 = 1_764_036_000_000;

fn roster(secret: TicketSecret) -> Roster {
    Roster {
        rules: DoorRules {
            performance: PERFORMANCE,
            doors_open_ms: 0,
            printed_codes: false,
            reentry: false,
        },
        tickets: BTreeMap::from([(
            TICKET,
            RosterTicket {
                secret,
                facts: DoorFacts {
                    grade: "VIP석".into(),
                    place: "플로어 1구역 2열 3번".into(),
                    holder: "최*진".into(),
                    proof: None,
                },
                revoked: false,
            },
        )]),
    }
}

fn zbarimg(png: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let path = dir.path().join("ticket.png");
    std::fs::write(&path, png).expect("written");
    let output = Command::new("zbarimg")
        .args(["--quiet", "--raw", "-Sdisable", "-Sqrcode.enable"])
        .arg(&path)
        .output()
        .expect("zbarimg runs (Debian package zbar-tools; ./scripts/test installs it)");
    assert!(output.status.success(), "zbarimg found no code: {output:?}");
    String::from_utf8(output.stdout)
        .expect("text")
        .trim_end()
        .to_owned()
}

#[test]
fn a_rendered_png_decodes_with_zbar_to_a_code_that_verifies_and_checks_in() {
    let secret = TicketSecret::derive(&[3; 32], PERFORMANCE, TICKET, 0);
    let roster = roster(secret.clone());
    let shown = Code::rotating(PERFORMANCE, TICKET, &secret, NOW_MS).to_string();
    let png = render::png(&shown, 4).expect("rendered");
    let decoded = zbarimg(&png);
    assert_eq!(decoded, shown);
    let verified = verify(decoded.as_bytes(), NOW_MS + 5_000, &roster).expect("verifies");
    let mut book = CheckIns::new(false);
    let entry = EntryScan {
        at_ms: NOW_MS + 5_000,
        gate: GateId(1),
        proof_checked: false,
        source: Source::Online,
    };
    assert!(book.enter(&verified, entry).is_ok());
    assert_eq!(
        book.enter(&verified, entry),
        Err(Refusal::AlreadyUsed {
            at_ms: NOW_MS + 5_000,
            gate: GateId(1)
        })
    );
    // The same picture 45 s later: a screenshot.
    assert_eq!(
        verify(decoded.as_bytes(), NOW_MS + 45_000, &roster),
        Err(Refusal::CodeExpired)
    );
}

#[test]
fn a_code_is_a_version_4_symbol_in_svg_and_png() {
    let secret = TicketSecret::derive(&[3; 32], PERFORMANCE, TICKET, 0);
    let shown = Code::printed(PERFORMANCE, TICKET, &secret).to_string();
    // Version 4 is 33 modules a side, and the quiet zone 4 modules each way: 41 modules.
    let svg = render::svg(&shown, 8).expect("rendered");
    assert!(svg.contains(r#"width="328""#), "{}", &svg[..200]);
    let png = render::png(&shown, 8).expect("rendered");
    let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
    assert_eq!(width, 41 * 8);
    assert_eq!(render::png(&shown, 0), Err(render::RenderError::ModuleSize));
    assert_eq!(
        render::png(&shown, limits::MODULE_PX_MAX + 1),
        Err(render::RenderError::ModuleSize)
    );
    assert_eq!(
        render::svg(&"A".repeat(5_000), 1),
        Err(render::RenderError::TooLong)
    );
}
