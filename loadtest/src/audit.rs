//! The audit: the ledger's final state, rebuilt from its journal (the same replay a standby or a
//! restarted leader does), checked against what the clients were told. No seat sold twice, no
//! acknowledged booking missing or different, counts and money matching.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::future::BoxFuture;
use picket_ledger_core::ledger::SeatState;
use picket_ledger_core::{Ledger, PerformanceId, Place};
use serde::{Deserialize, Serialize};

use crate::report::{AuditCheck, AuditReport};

/// Problems listed per check; more are counted.
const PROBLEMS_SHOWN_MAX: usize = 5;

/// A booking a client was told about (`Confirmed`), with the places its hold was told.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckBooking {
    pub performance: u64,
    pub booking: u64,
    pub tickets: Vec<u64>,
    pub places: Vec<Place>,
    pub amount_won: u64,
}

/// A cancellation a client was told about (`Cancelled`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AckCancel {
    pub performance: u64,
    pub booking: u64,
    pub tickets: Vec<u64>,
    pub refund_won: u64,
}

/// What the clients were told, collected for the audit.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientLog {
    pub bookings: Vec<AckBooking>,
    pub cancellations: Vec<AckCancel>,
}

impl ClientLog {
    pub fn merge(&mut self, other: ClientLog) {
        self.bookings.extend(other.bookings);
        self.cancellations.extend(other.cancellations);
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuditError {
    /// The journal could not be opened or replayed (the server's error, as it reports it).
    #[error("reading the journal: {0}")]
    Journal(String),
}

/// Rebuilds a partition's ledger from its journal: the same replay a standby or a restarted
/// leader does. The load tester does not open journals itself (the journal stores are the
/// ledger server's, which no caller depends on); the `picket` binary passes the server's.
pub trait JournalReplay: Send + Sync {
    /// The ledger of `partition` as the journal at `journal_url` (`postgres://…`, or a SQLite
    /// file path, optionally `sqlite://`) holds it.
    fn ledger<'a>(
        &'a self,
        journal_url: &'a str,
        partition: u16,
    ) -> BoxFuture<'a, Result<Ledger, AuditError>>;
}

/// Checks the ledger's state of `performance` against the clients' log.
pub fn check(ledger: &Ledger, performance: u64, log: &ClientLog) -> AuditReport {
    let Some(state) = ledger.performance(PerformanceId(performance)) else {
        return AuditReport {
            passed: false,
            checks: vec![AuditCheck {
                name: "performance in the ledger".into(),
                passed: false,
                detail: format!("performance {performance} is not in the journal"),
            }],
        };
    };
    let acked: Vec<&AckBooking> = log
        .bookings
        .iter()
        .filter(|b| b.performance == performance)
        .collect();
    let cancelled: BTreeSet<u64> = log
        .cancellations
        .iter()
        .filter(|c| c.performance == performance)
        .flat_map(|c| c.tickets.iter().copied())
        .collect();
    let checks = vec![
        seats_sold_once(state, &acked, &cancelled),
        acknowledged_bookings_present(state, &acked),
        cancellations_recorded(state, &cancelled),
        counts_match(state, &acked, &cancelled),
        money_balances(state),
    ];
    AuditReport {
        passed: checks.iter().all(|c| c.passed),
        checks,
    }
}

fn verdict(name: &str, problems: Vec<String>, ok_detail: String) -> AuditCheck {
    let passed = problems.is_empty();
    let detail = match passed {
        true => ok_detail,
        false => {
            let shown: Vec<&str> = problems
                .iter()
                .take(PROBLEMS_SHOWN_MAX)
                .map(String::as_str)
                .collect();
            format!("{} problems: {}", problems.len(), shown.join("; "))
        }
    };
    AuditCheck {
        name: name.into(),
        passed,
        detail,
    }
}

/// Every sold seat belongs to one valid ticket for that seat, and no two tickets the clients
/// hold (still valid) are for the same seat.
fn seats_sold_once(
    state: &picket_ledger_core::PerformanceState,
    acked: &[&AckBooking],
    cancelled: &BTreeSet<u64>,
) -> AuditCheck {
    let mut problems = Vec::new();
    let mut sold = 0;
    for (index, seat) in state.seats().iter().enumerate() {
        if let SeatState::Sold(ticket) = seat {
            sold += 1;
            let ok = state.ticket(*ticket).is_some_and(|t| {
                !t.cancelled && t.place == Place::Seat(picket_ledger_core::SeatId(index as u32))
            });
            if !ok {
                problems.push(format!(
                    "seat {index} sold to ticket {ticket} that is not its own"
                ));
            }
        }
    }
    let mut told: BTreeMap<Place, u64> = BTreeMap::new();
    for booking in acked {
        for (ticket, place) in booking.tickets.iter().zip(&booking.places) {
            if cancelled.contains(ticket) || matches!(place, Place::Zone(_)) {
                continue;
            }
            if let Some(other) = told.insert(*place, *ticket) {
                problems.push(format!(
                    "{place:?} told as sold to tickets {other} and {ticket}"
                ));
            }
        }
    }
    verdict(
        "no seat sold twice",
        problems,
        format!("{sold} seats sold, each to one ticket; clients hold no seat twice"),
    )
}

/// Every booking a client was told about is in the ledger with the same tickets, places and
/// amount.
fn acknowledged_bookings_present(
    state: &picket_ledger_core::PerformanceState,
    acked: &[&AckBooking],
) -> AuditCheck {
    let mut problems = Vec::new();
    for told in acked {
        let Some(booking) = state.booking(picket_ledger_core::BookingId(told.booking)) else {
            problems.push(format!("booking {} missing", told.booking));
            continue;
        };
        let tickets: Vec<u64> = booking.tickets.iter().map(|t| t.0).collect();
        if tickets != told.tickets || booking.paid_won != told.amount_won {
            problems.push(format!(
                "booking {}: ledger {tickets:?} {}원, client {:?} {}원",
                told.booking, booking.paid_won, told.tickets, told.amount_won
            ));
            continue;
        }
        // Tickets are numbered in the hold's order: each is for the place the hold reply named.
        let places: Vec<Option<Place>> = booking
            .tickets
            .iter()
            .map(|t| state.ticket(*t).map(|t| t.place))
            .collect();
        let told_places: Vec<Option<Place>> = told.places.iter().copied().map(Some).collect();
        if places != told_places {
            problems.push(format!("booking {}: places differ", told.booking));
        }
    }
    verdict(
        "every acknowledged booking is in the ledger",
        problems,
        format!("{} acknowledged bookings found as told", acked.len()),
    )
}

fn cancellations_recorded(
    state: &picket_ledger_core::PerformanceState,
    cancelled: &BTreeSet<u64>,
) -> AuditCheck {
    let valid: BTreeSet<u64> = state
        .tickets()
        .filter(|(_, t)| !t.cancelled)
        .map(|(id, _)| id.0)
        .collect();
    let problems: Vec<String> = cancelled
        .iter()
        .filter(|t| valid.contains(t))
        .map(|t| format!("ticket {t} told cancelled but valid"))
        .collect();
    verdict(
        "every acknowledged cancellation is in the ledger",
        problems,
        format!("{} tickets cancelled as told", cancelled.len()),
    )
}

/// The ledger sold exactly what the clients were told (the run's performance has no other
/// buyers): bookings and valid tickets.
fn counts_match(
    state: &picket_ledger_core::PerformanceState,
    acked: &[&AckBooking],
    cancelled: &BTreeSet<u64>,
) -> AuditCheck {
    let ledger_bookings: BTreeSet<u64> = state.tickets().map(|(_, t)| t.booking.0).collect();
    let ledger_valid = state.tickets().filter(|(_, t)| !t.cancelled).count();
    let told_valid = acked
        .iter()
        .flat_map(|b| &b.tickets)
        .filter(|t| !cancelled.contains(t))
        .count();
    let mut problems = Vec::new();
    if ledger_bookings.len() != acked.len() {
        problems.push(format!(
            "ledger has {} bookings, clients were told of {}",
            ledger_bookings.len(),
            acked.len()
        ));
    }
    if ledger_valid != told_valid {
        problems.push(format!(
            "ledger has {ledger_valid} valid tickets, clients hold {told_valid}"
        ));
    }
    verdict(
        "counts match",
        problems,
        format!("{} bookings, {ledger_valid} valid tickets", acked.len()),
    )
}

/// Invariant 6: payments − refunds = revenue + fees.
fn money_balances(state: &picket_ledger_core::PerformanceState) -> AuditCheck {
    let money = state.money();
    let balanced = money.payments_won - money.refunds_won == money.revenue_won + money.fees_won;
    let detail = format!(
        "payments {} − refunds {} = revenue {} + fees {}",
        money.payments_won, money.refunds_won, money.revenue_won, money.fees_won
    );
    let problems = match balanced {
        true => Vec::new(),
        false => vec![detail.clone()],
    };
    verdict("money balances", problems, detail)
}

#[cfg(test)]
mod tests {
    use picket_ledger_core::*;

    use super::*;

    /// A ledger with one two-seat booking, and the log a client would have.
    fn booked() -> (Ledger, ClientLog) {
        let inventory = crate::inventory::Inventory::default();
        let mut ledger = Ledger::new(0);
        let run = |ledger: &mut Ledger, key: &str, command: Command| {
            let request = Request {
                actor: ActorId(9),
                key: IdempotencyKey::new(key).expect("key"),
                command,
            };
            ledger.execute(1_000, &request).outcome.expect("accepted")
        };
        run(
            &mut ledger,
            "open",
            Command::OpenPerformance(Box::new(inventory.spec(7, 10_000_000_000))),
        );
        let Reply::Held {
            hold,
            places,
            amount_won,
            ..
        } = run(
            &mut ledger,
            "hold",
            Command::Hold {
                performance: PerformanceId(7),
                selection: Selection::Seats(vec![SeatId(3), SeatId(4)]),
                admission: None,
                offer: None,
            },
        )
        else {
            panic!("held")
        };
        let Reply::Confirmed {
            booking, tickets, ..
        } = run(
            &mut ledger,
            "pay",
            Command::Confirm {
                performance: PerformanceId(7),
                hold,
                payment_ref: "p".into(),
                amount_won,
            },
        )
        else {
            panic!("confirmed")
        };
        let log = ClientLog {
            bookings: vec![AckBooking {
                performance: 7,
                booking: booking.0,
                tickets: tickets.iter().map(|t| t.0).collect(),
                places,
                amount_won,
            }],
            cancellations: vec![],
        };
        (ledger, log)
    }

    #[test]
    fn a_faithful_log_passes() {
        let (ledger, log) = booked();
        let report = check(&ledger, 7, &log);
        assert!(report.passed, "{report:?}");
        assert_eq!(report.checks.len(), 5);
    }

    #[test]
    fn a_missing_booking_and_a_double_sale_fail() {
        let (ledger, mut log) = booked();
        let mut phantom = log.bookings[0].clone();
        phantom.booking += 100;
        phantom.tickets = vec![999];
        phantom.places = vec![Place::Seat(SeatId(3))];
        log.bookings.push(phantom);
        let report = check(&ledger, 7, &log);
        assert!(!report.passed);
        let failed: Vec<&str> = report
            .checks
            .iter()
            .filter(|c| !c.passed)
            .map(|c| c.name.as_str())
            .collect();
        assert_eq!(
            failed,
            vec![
                "no seat sold twice",
                "every acknowledged booking is in the ledger",
                "counts match"
            ]
        );
    }
}
