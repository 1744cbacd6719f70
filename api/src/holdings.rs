//! Who holds a ticket after its transfers, as one member's transfers tell it: the tickets they
//! gave away (and whom to) and those given to them (and by whom). Pure: "my tickets"
//! (`transfer.rs`) and "my bookings" (`bookings.rs`) read the store and fold its rows here.

use std::collections::BTreeMap;

use crate::store::transfers::TransferRow;

/// `b***@example.com`: enough for the giver to recognise whom they gave a ticket to, and for
/// the recipient whom it came from, without handing either the other's whole address.
pub fn mask_email(email: &str) -> String {
    let (local, domain) = email.split_once('@').unwrap_or((email, ""));
    let first: String = local.chars().take(1).collect();
    if domain.is_empty() {
        format!("{first}***")
    } else {
        format!("{first}***@{domain}")
    }
}

/// Who gave or received a ticket, and when (the ledger's commit time).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Handover {
    /// The other member's address, masked; `None` when their account is gone.
    pub email: Option<String>,
    pub at_ms: i64,
}

impl Handover {
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({"email": self.email, "at_ms": self.at_ms})
    }
}

/// What a member's transfers say about the tickets they hold: those they gave away and do not
/// hold again (ticket → whom they gave it to), and those they hold because someone gave them
/// (ticket → its performance and whom it came from).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Holdings {
    pub given: BTreeMap<i64, Handover>,
    pub received: BTreeMap<i64, (i64, Handover)>,
}

/// Folds every transfer of the tickets `actor` gave or received (by ticket, then generation)
/// into [`Holdings`]: the latest transfer of a ticket names its holder now.
pub fn holdings(actor: i64, rows: &[TransferRow]) -> Holdings {
    let mut found = Holdings::default();
    for chain in rows.chunk_by(|a, b| a.ticket == b.ticket) {
        let Some(latest) = chain.iter().max_by_key(|row| row.generation) else {
            continue;
        };
        if latest.to_actor == actor {
            let from = Handover {
                email: latest.from_email.as_deref().map(mask_email),
                at_ms: latest.at_ms,
            };
            found
                .received
                .insert(latest.ticket, (latest.performance, from));
        } else if let Some(gave) = chain
            .iter()
            .filter(|row| row.from_actor == actor)
            .max_by_key(|row| row.generation)
        {
            let to = Handover {
                email: gave.to_email.as_deref().map(mask_email),
                at_ms: gave.at_ms,
            };
            found.given.insert(gave.ticket, to);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_masked_to_their_first_character_and_domain() {
        assert_eq!(mask_email("buyer@example.com"), "b***@example.com");
        assert_eq!(mask_email("b@example.com"), "b***@example.com");
        assert_eq!(mask_email("김철수@example.kr"), "김***@example.kr");
        assert_eq!(mask_email("nodomain"), "n***");
    }

    fn row(ticket: i64, generation: i64, from: i64, to: i64) -> TransferRow {
        let email = |actor: i64| Some(format!("m{actor}@example.com"));
        TransferRow {
            ticket,
            generation,
            performance: 77,
            from_actor: from,
            to_actor: to,
            at_ms: 1_000 * generation,
            from_email: email(from),
            to_email: email(to),
        }
    }

    #[test]
    fn the_latest_transfer_names_the_holder() {
        let (a, b, c) = (1, 2, 3);
        let rows = [
            // Ticket 10: A → B. Ticket 11: A → B → A (back). Ticket 12: B → A → C.
            row(10, 1, a, b),
            row(11, 1, a, b),
            row(11, 2, b, a),
            row(12, 1, b, a),
            row(12, 2, a, c),
        ];
        let of_a = holdings(a, &rows);
        let handover = |email: &str, at_ms: i64| Handover {
            email: Some(email.into()),
            at_ms,
        };
        assert_eq!(
            of_a.given,
            BTreeMap::from([
                (10, handover("m***@example.com", 1_000)),
                (12, handover("m***@example.com", 2_000)),
            ])
        );
        assert_eq!(
            of_a.received,
            BTreeMap::from([(11, (77, handover("m***@example.com", 2_000)))])
        );
        let of_b = holdings(b, &rows);
        assert_eq!(of_b.received.keys().collect::<Vec<_>>(), [&10]);
        assert_eq!(of_b.given.keys().collect::<Vec<_>>(), [&11, &12]);
        let of_c = holdings(c, &rows);
        assert_eq!(of_c.received.keys().collect::<Vec<_>>(), [&12]);
        assert!(of_c.given.is_empty());
    }
}
