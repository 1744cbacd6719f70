//! The code format v1 as docs/protocol.md ("Ticket codes") states it: the worked example there,
//! checked against values computed outside this crate, and properties of the format.

use std::collections::BTreeMap;

use picket_ledger_core::{PerformanceId, TicketId};
use picket_tickets::*;
use proptest::prelude::*;

/// docs/protocol.md's example: mac_key 00 01 … 1f, seal a0 a1 … a8, generation 1, performance
/// 77, ticket 844424930132969 (partition 3), shown at 1764036007000 (step 117602400).
fn example_secret() -> TicketSecret {
    let mut mac_key = [0; 32];
    for (at, byte) in mac_key.iter_mut().enumerate() {
        *byte = at as u8;
    }
    let mut seal = [0; 9];
    for (at, byte) in seal.iter_mut().enumerate() {
        *byte = 0xa0 + at as u8;
    }
    TicketSecret {
        generation: 1,
        seal: Seal(seal),
        mac_key,
    }
}

const EXAMPLE_TICKET: TicketId = TicketId(844_424_930_132_969);

#[test]
fn the_documented_example_matches_an_independent_hmac_and_base32() {
    let code = Code::rotating(
        PerformanceId(77),
        EXAMPLE_TICKET,
        &example_secret(),
        1_764_036_007_000,
    );
    // `openssl dgst -sha256 -mac HMAC -macopt hexkey:000102…1f` of the bytes
    // 504b3152 000000000000004d 00030000000003e9 01 07027860 a0a1a2a3a4a5a6a7a8 (docs/protocol.md):
    // 166e6f53c61b86e304edf58cbde6b6b8e5a812f4230692bc0cf9bec1829648da; the code keeps 10 bytes.
    assert_eq!(
        code.mac,
        [0x16, 0x6e, 0x6f, 0x53, 0xc6, 0x1b, 0x86, 0xe3, 0x04, 0xed]
    );
    // Python's base64.b32encode of the 40 payload bytes, "=" padding stripped, after "PK1R".
    let expected = "PK1RAAAAAAAAAAAE2AADAAAAAAAD5EAQOATYMCQKDIVDUSS2NJ5ICZXG6U6GDODOGBHN";
    assert_eq!(code.to_string(), expected);
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/protocol.md");
    let doc = std::fs::read_to_string(path).expect("docs/protocol.md exists");
    for shown in [
        expected,
        "166e6f53c61b86e304edf58cbde6b6b8e5a812f4230692bc0cf9bec1829648da",
        "504b3152 000000000000004d 00030000000003e9 01 07027860 a0a1a2a3a4a5a6a7a8",
    ] {
        assert!(doc.contains(shown), "docs/protocol.md shows {shown}");
    }
}

fn roster(performance: PerformanceId, ticket: TicketId, secret: TicketSecret) -> Roster {
    let facts = DoorFacts {
        grade: "A석".into(),
        place: "2층 C구역 1열 1번".into(),
        holder: "박*민".into(),
        proof: None,
    };
    Roster {
        rules: DoorRules {
            performance,
            doors_open_ms: 0,
            printed_codes: true,
            reentry: false,
        },
        tickets: BTreeMap::from([(
            ticket,
            RosterTicket {
                secret,
                facts,
                revoked: false,
            },
        )]),
    }
}

/// How a code's text is changed.
#[derive(Clone, Debug)]
enum Mutation {
    Replace { at: usize, byte: u8 },
    Insert { at: usize, byte: u8 },
    Delete { at: usize },
    FlipBit { at: usize, bit: u8 },
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (0..limits::CODE_LEN, any::<u8>()).prop_map(|(at, byte)| Mutation::Replace { at, byte }),
        // Mostly characters a QR scanner could plausibly return.
        (
            0..limits::CODE_LEN,
            prop::sample::select(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".to_vec())
        )
            .prop_map(|(at, byte)| Mutation::Replace { at, byte }),
        (0..=limits::CODE_LEN, any::<u8>()).prop_map(|(at, byte)| Mutation::Insert { at, byte }),
        (0..limits::CODE_LEN).prop_map(|at| Mutation::Delete { at }),
        (0..limits::CODE_LEN, 0..8u8).prop_map(|(at, bit)| Mutation::FlipBit { at, bit }),
    ]
}

fn apply(text: &str, mutation: &Mutation) -> Vec<u8> {
    let mut bytes = text.as_bytes().to_vec();
    match *mutation {
        Mutation::Replace { at, byte } => bytes[at] = byte,
        Mutation::Insert { at, byte } => bytes.insert(at, byte),
        Mutation::Delete { at } => {
            bytes.remove(at);
        }
        Mutation::FlipBit { at, bit } => bytes[at] ^= 1 << bit,
    }
    bytes
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2_000))]

    #[test]
    fn any_mutation_of_a_valid_code_is_refused(
        master in any::<[u8; 32]>(),
        performance in any::<u64>(),
        ticket in any::<u64>(),
        generation in any::<u8>(),
        now_ms in 0..u64::from(u32::MAX) * limits::STEP_MS,
        printed in any::<bool>(),
        mutation in mutation(),
    ) {
        let (performance, ticket) = (PerformanceId(performance), TicketId(ticket));
        let secret = TicketSecret::derive(&master, performance, ticket, generation);
        let code = if printed {
            Code::printed(performance, ticket, &secret)
        } else {
            Code::rotating(performance, ticket, &secret, now_ms)
        };
        let text = code.to_string();
        let roster = roster(performance, ticket, secret);
        prop_assert!(verify(text.as_bytes(), now_ms, &roster).is_ok());
        let mutated = apply(&text, &mutation);
        prop_assume!(mutated != text.as_bytes());
        prop_assert!(verify(&mutated, now_ms, &roster).is_err(), "{:?} accepted", mutation);
    }

    #[test]
    fn parsing_is_total(bytes in prop::collection::vec(any::<u8>(), 0..100)) {
        let _ = Code::parse(&bytes);
    }

    #[test]
    fn parsing_reads_back_every_code_it_writes(
        master in any::<[u8; 32]>(),
        performance in any::<u64>(),
        ticket in any::<u64>(),
        generation in any::<u8>(),
        now_ms in any::<u64>(),
    ) {
        let (performance, ticket) = (PerformanceId(performance), TicketId(ticket));
        let secret = TicketSecret::derive(&master, performance, ticket, generation);
        let code = Code::rotating(performance, ticket, &secret, now_ms);
        let text = code.to_string();
        prop_assert_eq!(text.len(), limits::CODE_LEN);
        let alphanumeric = text.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit());
        prop_assert!(alphanumeric);
        prop_assert_eq!(Code::parse(text.as_bytes()), Ok(code));
    }
}

/// A reader of the manifest's bytes as docs/protocol.md lays them out, written from the document
/// rather than from `manifest.rs`.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Vec<u8> {
        let (taken, rest) = self.0.split_at(n);
        self.0 = rest;
        taken.to_vec()
    }

    fn varint(&mut self) -> u64 {
        let mut value = 0;
        for shift in (0..64).step_by(7) {
            let byte = self.take(1)[0];
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
        }
        value
    }

    fn string(&mut self) -> String {
        let len = self.varint() as usize;
        String::from_utf8(self.take(len)).expect("UTF-8")
    }
}

#[test]
fn the_manifest_bytes_are_as_documented() {
    use aes_gcm::aead::{Aead, Payload};
    use aes_gcm::{Aes256Gcm, KeyInit};
    use hmac::Mac;

    let secret = example_secret();
    let mut roster = roster(PerformanceId(77), EXAMPLE_TICKET, secret.clone());
    roster.rules.doors_open_ms = 1_764_032_400_000;
    roster.rules.reentry = true;
    roster.rules.printed_codes = false;
    roster.tickets.get_mut(&EXAMPLE_TICKET).unwrap().facts.proof = Some("청소년".into());
    let key = ManifestKey::from_seed(&[5; 32]);
    let bytes = Manifest::build(&roster, 1_764_030_000_000, &[6; 32])
        .unwrap()
        .sign(&key);

    let mut reader = Reader(&bytes);
    assert_eq!(reader.take(4), b"PKM1");
    let signature = reader.take(64);
    let body = reader.0;
    let public = ed25519_dalek::VerifyingKey::from_bytes(&key.public()).unwrap();
    let signed = [b"PKM1".as_slice(), body].concat();
    let signature = ed25519_dalek::Signature::from_slice(&signature).unwrap();
    assert!(public.verify_strict(&signed, &signature).is_ok());

    assert_eq!(reader.varint(), 77, "performance");
    assert_eq!(reader.varint(), 1_764_032_400_000, "doors_open_ms");
    assert_eq!(reader.take(2), [0, 1], "printed_codes off, reentry on");
    assert_eq!(reader.varint(), 1_764_030_000_000, "issued_at_ms");
    assert_eq!(reader.varint(), 1, "one ticket");
    assert_eq!(reader.varint(), EXAMPLE_TICKET.0);
    assert_eq!(reader.take(1), [1], "generation");
    assert_eq!(reader.string(), "A석");
    assert_eq!(reader.string(), "2층 C구역 1열 1번");
    let nonce: [u8; 12] = reader.take(12).try_into().unwrap();
    let sealed_len = reader.varint() as usize;
    let sealed = reader.take(sealed_len);
    assert_eq!(reader.varint(), 0, "no revocations");
    assert!(reader.0.is_empty());

    let mut derive = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&secret.seal.0).unwrap();
    derive.update(b"picket ticket seal v1");
    let seal_key: [u8; 32] = derive.finalize().into_bytes().into();
    let mut aad = b"PKM1".to_vec();
    aad.extend_from_slice(&77u64.to_be_bytes());
    aad.extend_from_slice(&EXAMPLE_TICKET.0.to_be_bytes());
    aad.push(1);
    let plain = Aes256Gcm::new(&seal_key.into())
        .decrypt(
            &nonce.into(),
            Payload {
                msg: &sealed,
                aad: &aad,
            },
        )
        .expect("the seal opens the entry");
    let mut reader = Reader(&plain);
    assert_eq!(reader.take(32), secret.mac_key);
    assert_eq!(reader.string(), "박*민");
    assert_eq!(reader.take(1), [1], "a discount needing proof");
    assert_eq!(reader.string(), "청소년");
    assert!(reader.0.is_empty());
}
