//! Money for sellers: a show's settlement per performance (docs/payments.md, "Settlement"), and
//! a seller calling a performance off (`CancelPerformance` in the ledger: everyone refunded in
//! full, by the refund worker).
//!
//! Settlement reads the bookings projection only (`paid_won` is what the provider confirmed;
//! `refunded_won` and `fees_won` are added up from the ledger's `TicketsCancelled`, and
//! `booking_fees_won` is a booking's booking fees less those cancellations gave back), so its
//! figures follow the ledger's money (invariant 6): sales − refunds = revenue + cancellation
//! fees + booking fees kept.
//! [`settle`] and [`csv`] are pure.

use std::sync::Arc;

use axum::Json;
use axum::extract::{RawQuery, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use picket_ledger_core::{
    ActorId, Command, IdempotencyKey, PerformanceId, Rejection, Reply, Request, Won,
};
use serde::{Deserialize, Serialize};

use crate::auth::Authenticated;
use crate::error::{ApiError, FieldError};
use crate::json::{JsonBody, Path};
use crate::manage::managed_show;
use crate::state::Api;
use crate::store::bookings::SettlementTotals;
use picket_edge::id::Id;

/// Picket's commission on sales: none (the design's promise to sellers), shown as a line.
pub const PLATFORM_COMMISSION_WON: Won = 0;
/// Longest reason a seller gives for calling a performance off, in bytes (the ledger's bound).
pub const CANCEL_REASON_LEN_MAX: usize = picket_ledger_core::limits::CANCEL_REASON_LEN_MAX;
/// Characters a reason may have as sent: any character is at most 4 bytes in UTF-8, so a reason
/// this long always fits the ledger's byte limit.
pub const CANCEL_REASON_CHARS_MAX: usize = CANCEL_REASON_LEN_MAX / 4;
/// `CancelPerformance` commands one call off may take: each step cancels up to
/// `CANCEL_PERFORMANCE_STEP_MAX` holds and bookings, and a performance has at most 150,000 seats
/// (holds of several seats or bookings of several tickets make fewer steps).
pub const CANCEL_STEPS_MAX: u32 = 1_200;

/// The columns of `GET /api/v2/shows/{id}/settlement?format=csv`, in order.
pub const CSV_COLUMNS: [&str; 9] = [
    "performance",
    "starts_at_ms",
    "bookings",
    "sales_won",
    "refunds_won",
    "cancellation_fees_won",
    "booking_fees_won",
    "platform_commission_won",
    "net_payable_won",
];

/// One performance's (or the show's total) settlement, in whole won.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub bookings: u64,
    /// What buyers paid, as the provider confirmed it.
    pub sales_won: Won,
    /// What cancellations gave back (refunds owed; the refund worker pays them).
    pub refunds_won: Won,
    /// Cancellation fees kept: part of `sales_won − refunds_won`, shown on its own.
    pub cancellation_fees_won: Won,
    /// Booking fees kept (the seller's, like the rest): part of `sales_won − refunds_won`,
    /// shown on its own.
    pub booking_fees_won: Won,
    pub platform_commission_won: Won,
    /// What Picket pays the seller: sales − refunds − commission.
    pub net_payable_won: Won,
}

impl Figures {
    fn add(&mut self, other: &Figures) {
        self.bookings += other.bookings;
        self.sales_won += other.sales_won;
        self.refunds_won += other.refunds_won;
        self.cancellation_fees_won += other.cancellation_fees_won;
        self.booking_fees_won += other.booking_fees_won;
        self.platform_commission_won += other.platform_commission_won;
        self.net_payable_won += other.net_payable_won;
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PerformanceSettlement {
    pub performance: Id<i64>,
    pub starts_at_ms: i64,
    #[serde(flatten)]
    pub figures: Figures,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ShowSettlement {
    pub show: Id<i64>,
    pub currency: &'static str,
    pub performances: Vec<PerformanceSettlement>,
    pub total: Figures,
}

/// One performance's figures from its bookings' totals (pure). Stored sums are never negative;
/// a negative one (a broken row) counts as 0 rather than wrapping.
pub fn settle(totals: &SettlementTotals) -> Figures {
    let won = |v: i64| u64::try_from(v).unwrap_or(0);
    let sales_won = won(totals.paid_won);
    let refunds_won = won(totals.refunded_won);
    Figures {
        bookings: won(totals.bookings),
        sales_won,
        refunds_won,
        cancellation_fees_won: won(totals.fees_won),
        booking_fees_won: won(totals.booking_fees_won),
        platform_commission_won: PLATFORM_COMMISSION_WON,
        net_payable_won: sales_won
            .saturating_sub(refunds_won)
            .saturating_sub(PLATFORM_COMMISSION_WON),
    }
}

/// The show's settlement from its performances' totals (pure).
pub fn show_settlement(show: i64, rows: &[(i64, i64, SettlementTotals)]) -> ShowSettlement {
    let mut total = Figures::default();
    let performances = rows
        .iter()
        .map(|(performance, starts_at_ms, totals)| {
            let figures = settle(totals);
            total.add(&figures);
            PerformanceSettlement {
                performance: Id(*performance),
                starts_at_ms: *starts_at_ms,
                figures,
            }
        })
        .collect();
    ShowSettlement {
        show: Id(show),
        currency: "KRW",
        performances,
        total,
    }
}

/// The settlement as CSV: a header of [`CSV_COLUMNS`], one row per performance, then a `total`
/// row (its `starts_at_ms` empty). Ids are plain digits; amounts whole won.
pub fn csv(settlement: &ShowSettlement) -> String {
    let mut text = CSV_COLUMNS.join(",");
    text.push('\n');
    let row = |text: &mut String, first: String, starts: String, f: &Figures| {
        text.push_str(&format!(
            "{first},{starts},{},{},{},{},{},{},{}\n",
            f.bookings,
            f.sales_won,
            f.refunds_won,
            f.cancellation_fees_won,
            f.booking_fees_won,
            f.platform_commission_won,
            f.net_payable_won
        ));
    };
    for p in &settlement.performances {
        row(
            &mut text,
            p.performance.0.to_string(),
            p.starts_at_ms.to_string(),
            &p.figures,
        );
    }
    row(&mut text, "total".into(), String::new(), &settlement.total);
    text
}

/// `GET /api/v2/shows/{id}/settlement` (the show's seller or an admin): JSON, or CSV with
/// `?format=csv`.
pub async fn show(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Path(Id(show)): Path<Id<i64>>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let as_csv = match query.as_deref() {
        None | Some("") | Some("format=json") => false,
        Some("format=csv") => true,
        Some(_) => {
            return Err(ApiError::Invalid(vec![FieldError {
                field: "format",
                message: "format is json or csv".into(),
            }]));
        }
    };
    managed_show(&api, &who, show).await?;
    let mut rows = Vec::new();
    for performance in api.store.performances(show, false).await? {
        let totals = api.store.settlement_totals(performance.id).await?;
        rows.push((performance.id, performance.starts_at_ms, totals));
    }
    let settlement = show_settlement(show, &rows);
    if as_csv {
        let disposition = format!("attachment; filename=\"settlement-{show}.csv\"");
        return Ok((
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            csv(&settlement),
        )
            .into_response());
    }
    Ok(Json(settlement).into_response())
}

/// The body of `POST /api/v2/performances/{id}/cancel`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CancelForm {
    pub reason: String,
}

/// `POST /api/v2/performances/{id}/cancel` (the show's seller or an admin): the ledger closes
/// the performance, releases its holds and cancels every valid ticket with a full refund, in
/// steps; the refund worker pays the refunds. Calling it again after a failure goes on where it
/// stopped (each step has its own key).
pub async fn cancel_performance(
    State(api): State<Arc<Api>>,
    who: Authenticated,
    Path(Id(performance)): Path<Id<i64>>,
    JsonBody(form): JsonBody<CancelForm>,
) -> Result<Response, ApiError> {
    if !crate::venues::text_ok(&form.reason, CANCEL_REASON_CHARS_MAX) {
        return Err(ApiError::Invalid(vec![FieldError {
            field: "reason",
            message: format!(
                "취소 사유는 1–{CANCEL_REASON_CHARS_MAX}자입니다 (the reason is 1 to {CANCEL_REASON_CHARS_MAX} characters)"
            ),
        }]));
    }
    let reason = form.reason.trim();
    let show = api
        .store
        .performance_show(performance)
        .await?
        .ok_or(ApiError::NotFound("performance"))?;
    managed_show(&api, &who, show).await?;
    let ledger = api.ledger.clone().ok_or(ApiError::LedgerUnavailable)?;
    let (mut holds_released, mut bookings_cancelled, mut refund_won) = (0u64, 0u64, 0u64);
    for step in 0..CANCEL_STEPS_MAX {
        let request = Request {
            actor: ActorId(0),
            key: IdempotencyKey::new(format!("cancel-performance-{performance}-{step}"))
                .map_err(|_| ApiError::Internal("key".into()))?,
            command: Command::CancelPerformance {
                performance: PerformanceId(performance as u64),
                reason: reason.to_owned(),
            },
        };
        let outcome = ledger
            .submit(request)
            .await
            .map_err(|_| ApiError::LedgerUnavailable)?;
        match outcome {
            Ok(Reply::PerformanceCancelled {
                holds_released: released,
                bookings_cancelled: cancelled,
                refund_won: refunded,
                bookings_left,
                ..
            }) => {
                holds_released += u64::from(released);
                bookings_cancelled += u64::from(cancelled);
                refund_won += refunded;
                if bookings_left == 0 {
                    let body = serde_json::json!({
                        "performance": Id(performance),
                        "cancelled": true,
                        "holds_released": holds_released,
                        "bookings_cancelled": bookings_cancelled,
                        "refund_won": refund_won,
                    });
                    return Ok(Json(body).into_response());
                }
            }
            // Cancelled before by another call, with nothing left to do.
            Err(Rejection::PerformanceCancelled) if step > 0 => break,
            Err(rejection) => return Err(ApiError::Rejected(rejection)),
            Ok(other) => {
                return Err(ApiError::Internal(format!(
                    "the ledger answered CancelPerformance with {other:?}"
                )));
            }
        }
    }
    let body = serde_json::json!({
        "performance": Id(performance),
        "cancelled": true,
        "holds_released": holds_released,
        "bookings_cancelled": bookings_cancelled,
        "refund_won": refund_won,
    });
    Ok(Json(body).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn totals(bookings: i64, paid: i64, refunded: i64, fees: i64) -> SettlementTotals {
        SettlementTotals {
            bookings,
            paid_won: paid,
            refunded_won: refunded,
            fees_won: fees,
            booking_fees_won: 0,
        }
    }

    #[test]
    fn figures_add_up_by_hand() {
        // Three bookings of 55,000원 tickets: one of 2 tickets, one of 1 cancelled in full for
        // free, one of 2 with one ticket cancelled for the 4,000원 flat fee.
        let paid = 2 * 55_000 + 55_000 + 2 * 55_000;
        let refunded = 55_000 + (55_000 - 4_000);
        let settlement = show_settlement(9, &[(1, 100, totals(3, paid, refunded, 4_000))]);
        let f = settlement.performances[0].figures;
        assert_eq!(f.sales_won, 275_000);
        assert_eq!(f.refunds_won, 106_000);
        assert_eq!(f.cancellation_fees_won, 4_000);
        assert_eq!(f.platform_commission_won, 0);
        assert_eq!(f.net_payable_won, 169_000);
        // Invariant 6: sales − refunds = revenue (3 valid tickets) + fees.
        assert_eq!(f.sales_won - f.refunds_won, 3 * 55_000 + 4_000);
        assert_eq!(settlement.total, f);
    }

    #[test]
    fn booking_fees_are_a_line_of_their_own() {
        // Two bookings of 2 tickets at 55,000원 with a 2,000원 booking fee per ticket; the first
        // cancels one ticket on its booking day (its price and booking fee back), the second one
        // ticket later (the 4,000원 cancellation fee and its booking fee kept).
        let paid = 2 * (2 * 57_000);
        let refunded = 57_000 + (55_000 - 4_000);
        let kept_booking_fees = 4 * 2_000 - 2_000;
        let totals = SettlementTotals {
            booking_fees_won: kept_booking_fees,
            ..totals(2, paid, refunded, 4_000)
        };
        let f = show_settlement(9, &[(1, 100, totals)]).total;
        assert_eq!(f.booking_fees_won, 6_000);
        assert_eq!(f.net_payable_won, 228_000 - 108_000);
        // Invariant 6: sales − refunds = revenue (2 valid tickets) + fees + booking fees kept.
        assert_eq!(f.sales_won - f.refunds_won, 2 * 55_000 + 4_000 + 6_000);
    }

    #[test]
    fn csv_has_its_documented_columns_and_a_total_row() {
        let settlement = show_settlement(
            9,
            &[
                (1, 100, totals(1, 10_000, 0, 0)),
                (2, 200, totals(2, 30_000, 10_000, 2_000)),
            ],
        );
        assert_eq!(
            csv(&settlement),
            "performance,starts_at_ms,bookings,sales_won,refunds_won,cancellation_fees_won,booking_fees_won,platform_commission_won,net_payable_won\n\
             1,100,1,10000,0,0,0,0,10000\n\
             2,200,2,30000,10000,2000,0,0,20000\n\
             total,,3,40000,10000,2000,0,0,30000\n"
        );
    }
}
