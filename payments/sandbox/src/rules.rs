//! The provider's rules as plain functions over the wire types: what a checkout creates, what a
//! confirm or cancel may do and the payment it leaves. No I/O; the time comes in as `now_ms`.

use picket_toss_wire::{
    Cancel, CancelStatus, Card, ConfirmRequest, ErrorCode, Failure, Payment, PaymentStatus,
    PaymentType, Transaction,
};

use crate::Refusal;
use crate::cards::TestCard;
use crate::clock::kst;
use crate::store::PaymentRow;

/// The sandbox's merchant id (`mId`, at most 14 characters).
pub const MERCHANT_ID: &str = "picketsandbox";
/// `method` of every sandbox payment.
pub const CARD_METHOD: &str = "카드";

/// What a checkout (or a billing charge before approval) knows of a payment.
pub struct NewPayment<'a> {
    pub payment_key: String,
    pub kind: PaymentType,
    pub order_id: &'a str,
    pub order_name: &'a str,
    pub amount: u64,
    pub card_masked: &'a str,
    pub secret: String,
}

/// A payment the buyer just authorised: `IN_PROGRESS`, waiting for the merchant's confirm.
pub fn authorised(new: NewPayment<'_>, now_ms: i64) -> Payment {
    let (supplied, vat) = supply_and_vat(new.amount);
    Payment {
        version: Some(picket_toss_wire::PAYMENT_VERSION.into()),
        payment_key: new.payment_key,
        kind: new.kind,
        order_id: new.order_id.into(),
        order_name: Some(new.order_name.into()),
        m_id: Some(MERCHANT_ID.into()),
        currency: "KRW".into(),
        method: Some(CARD_METHOD.into()),
        total_amount: new.amount,
        balance_amount: new.amount,
        supplied_amount: Some(supplied),
        vat: Some(vat),
        tax_free_amount: Some(0),
        tax_exemption_amount: Some(0),
        status: PaymentStatus::InProgress,
        requested_at: kst(now_ms),
        approved_at: None,
        use_escrow: Some(false),
        last_transaction_key: None,
        culture_expense: Some(false),
        is_partial_cancelable: Some(true),
        cancels: None,
        card: Some(Card {
            amount: new.amount,
            issuer_code: Some("4V".into()),
            acquirer_code: Some("21".into()),
            number: Some(new.card_masked.into()),
            installment_plan_months: Some(0),
            approve_no: None,
            use_card_point: Some(false),
            card_type: Some("신용".into()),
            owner_type: Some("개인".into()),
            acquire_status: Some("READY".into()),
            is_interest_free: Some(false),
            interest_payer: None,
        }),
        secret: Some(new.secret),
        country: Some("KR".into()),
        failure: None,
        receipt: None,
        checkout: None,
    }
}

/// Toss's split of an amount: VAT is a rounded eleventh (no tax-free part here).
fn supply_and_vat(amount: u64) -> (u64, u64) {
    let vat = (amount + 5) / 11;
    (amount - vat, vat)
}

/// What a confirm may do with a payment.
#[derive(Debug, PartialEq)]
pub enum ConfirmStep {
    /// Approve it (or decline it, by its card).
    Proceed,
    /// Its confirm window passed: it becomes `EXPIRED` and the confirm is refused.
    Expire,
    /// Refused; the payment is unchanged.
    Refuse(Refusal),
}

/// Checks a confirm against the payment its `paymentKey` names.
pub fn confirm_step(
    row: &PaymentRow,
    request: &ConfirmRequest,
    now_ms: i64,
    window_ms: i64,
) -> ConfirmStep {
    let payment = &row.payment;
    if payment.order_id != request.order_id {
        // Toss finds the payment session by key and order together: another order's key is no
        // payment of this order.
        return ConfirmStep::Refuse(Refusal::of(ErrorCode::NotFoundPayment));
    }
    match payment.status {
        PaymentStatus::InProgress if now_ms - row.authorised_at_ms >= window_ms => {
            ConfirmStep::Expire
        }
        PaymentStatus::InProgress if request.amount != row.authorised_amount => {
            ConfirmStep::Refuse(Refusal::because(
                ErrorCode::InvalidRequest,
                "결제 금액이 일치하지 않습니다. (amount does not match the authorised amount)",
            ))
        }
        PaymentStatus::InProgress => ConfirmStep::Proceed,
        PaymentStatus::Expired => {
            ConfirmStep::Refuse(Refusal::of(ErrorCode::NotFoundPaymentSession))
        }
        _ => ConfirmStep::Refuse(Refusal::of(ErrorCode::AlreadyProcessedPayment)),
    }
}

/// The payment approved at `now_ms` by transaction `transaction_key`.
pub fn approved(
    mut payment: Payment,
    now_ms: i64,
    transaction_key: String,
    approve_no: String,
) -> Payment {
    payment.status = PaymentStatus::Done;
    payment.approved_at = Some(kst(now_ms));
    payment.last_transaction_key = Some(transaction_key);
    if let Some(card) = payment.card.as_mut() {
        card.approve_no = Some(approve_no);
    }
    payment
}

/// The payment refused with `code`: `ABORTED`, the reason in `failure`.
pub fn aborted(mut payment: Payment, code: ErrorCode) -> Payment {
    payment.status = PaymentStatus::Aborted;
    payment.failure = Some(failure(code));
    payment
}

/// The payment not confirmed in time: `EXPIRED` with `EXPIRED_PAYMENT`.
pub fn expired(mut payment: Payment) -> Payment {
    payment.status = PaymentStatus::Expired;
    payment.failure = Some(failure(ErrorCode::ExpiredPayment));
    payment
}

fn failure(code: ErrorCode) -> Failure {
    Failure {
        message: code.message().into(),
        code: code.as_str().into(),
    }
}

/// A cancel as asked, checked.
pub struct CancelAsk<'a> {
    pub reason: &'a str,
    pub amount: Option<u64>,
    pub refundable_amount: Option<u64>,
}

/// Cancels `amount` (the whole balance when `None`) of a payment: the payment after it and the
/// amount canceled, or Toss's refusal.
pub fn cancel(
    mut payment: Payment,
    ask: CancelAsk<'_>,
    now_ms: i64,
    transaction_key: String,
    cancels_max: usize,
) -> Result<(Payment, u64), Refusal> {
    match payment.status {
        PaymentStatus::Done | PaymentStatus::PartialCanceled => {}
        PaymentStatus::Canceled => return Err(Refusal::of(ErrorCode::AlreadyCanceledPayment)),
        _ => return Err(Refusal::of(ErrorCode::NotCancelablePayment)),
    }
    if let Some(expected) = ask.refundable_amount
        && expected != payment.balance_amount
    {
        return Err(Refusal::of(ErrorCode::NotMatchesRefundableAmount));
    }
    let amount = ask.amount.unwrap_or(payment.balance_amount);
    if amount == 0 {
        return Err(Refusal::invalid(
            "취소 금액은 1원 이상이어야 합니다. (cancelAmount must be at least 1)",
        ));
    }
    if amount > payment.balance_amount {
        return Err(Refusal::of(ErrorCode::NotCancelableAmount));
    }
    if payment
        .cancels
        .as_ref()
        .is_some_and(|c| c.len() >= cancels_max)
    {
        return Err(Refusal::of(ErrorCode::NotCancelablePayment));
    }
    payment.balance_amount -= amount;
    let (supplied, vat) = supply_and_vat(payment.balance_amount);
    payment.supplied_amount = Some(supplied);
    payment.vat = Some(vat);
    // Cancels that reach the whole amount leave the payment CANCELED (the note's open question
    // 9: decided so a fully refunded payment reads as such).
    payment.status = if payment.balance_amount == 0 {
        PaymentStatus::Canceled
    } else {
        PaymentStatus::PartialCanceled
    };
    payment.last_transaction_key = Some(transaction_key.clone());
    payment.cancels.get_or_insert_with(Vec::new).push(Cancel {
        cancel_amount: amount,
        cancel_reason: ask.reason.into(),
        tax_free_amount: Some(0),
        tax_exemption_amount: Some(0),
        refundable_amount: Some(payment.balance_amount),
        easy_pay_discount_amount: Some(0),
        canceled_at: kst(now_ms),
        transaction_key,
        receipt_key: None,
        cancel_status: Some(CancelStatus::Done),
        cancel_request_id: None,
    });
    if let Some(card) = payment.card.as_mut()
        && payment.status == PaymentStatus::Canceled
    {
        card.acquire_status = Some("CANCELED".into());
    }
    Ok((payment, amount))
}

/// The transaction record of an approval or cancel of `amount` that left `payment` as it is.
pub fn transaction(
    payment: &Payment,
    transaction_key: &str,
    amount: u64,
    now_ms: i64,
    customer_key: Option<&str>,
) -> Transaction {
    Transaction {
        m_id: Some(MERCHANT_ID.into()),
        transaction_key: transaction_key.into(),
        payment_key: payment.payment_key.clone(),
        order_id: payment.order_id.clone(),
        method: payment.method.clone(),
        customer_key: customer_key.map(str::to_owned),
        use_escrow: Some(false),
        receipt_url: None,
        status: payment.status.clone(),
        transaction_at: kst(now_ms),
        currency: payment.currency.clone(),
        amount,
    }
}

/// Whether a change to this status is announced by a `PAYMENT_STATUS_CHANGED` webhook (Toss
/// sends none for READY / IN_PROGRESS, and none when a billing charge completes).
/// `on_authorise` is the sandbox's extension (`SandboxConfig::webhook_on_authorise`): a
/// checkout payment the buyer authorised (`IN_PROGRESS`) is announced too, so a merchant whose
/// app never confirms can complete it from the webhook.
pub fn announced(payment: &Payment, on_authorise: bool) -> bool {
    match payment.status {
        PaymentStatus::InProgress => on_authorise && payment.kind == PaymentType::Normal,
        PaymentStatus::Done => payment.kind != PaymentType::Billing,
        PaymentStatus::Canceled
        | PaymentStatus::PartialCanceled
        | PaymentStatus::Aborted
        | PaymentStatus::Expired => true,
        _ => false,
    }
}

/// Whether a card behaviour refuses (and with which code).
pub fn card_refusal(card: TestCard, forced_decline: bool) -> Option<ErrorCode> {
    if forced_decline {
        return Some(ErrorCode::RejectCardCompany);
    }
    card.refusal()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_authorisation_is_announced_only_as_the_sandbox_extension() {
        let mut payment = row(15_000).payment;
        assert_eq!(payment.status, PaymentStatus::InProgress);
        assert!(announced(&payment, true));
        assert!(
            !announced(&payment, false),
            "Toss sends none on authorisation"
        );
        payment.kind = PaymentType::Billing;
        assert!(
            !announced(&payment, true),
            "billing charges are never IN_PROGRESS news"
        );
    }

    fn row(amount: u64) -> PaymentRow {
        let payment = authorised(
            NewPayment {
                payment_key: "pk_1".into(),
                kind: PaymentType::Normal,
                order_id: "order-0001",
                order_name: "공연 티켓",
                amount,
                card_masked: "43300000****000*",
                secret: "ps_x".into(),
            },
            1_000,
        );
        PaymentRow {
            payment,
            authorised_amount: amount,
            authorised_at_ms: 1_000,
            card: TestCard::Approve,
        }
    }

    fn ask(amount: u64) -> ConfirmRequest {
        ConfirmRequest {
            payment_key: "pk_1".into(),
            order_id: "order-0001".into(),
            amount,
        }
    }

    #[test]
    fn confirm_checks_order_amount_status_and_window() {
        let row = row(15_000);
        assert_eq!(
            confirm_step(&row, &ask(15_000), 2_000, 600_000),
            ConfirmStep::Proceed
        );
        assert!(
            matches!(confirm_step(&row, &ask(14_000), 2_000, 600_000), ConfirmStep::Refuse(r) if r.body.code == ErrorCode::InvalidRequest)
        );
        let mut other = ask(15_000);
        other.order_id = "order-0002".into();
        assert!(
            matches!(confirm_step(&row, &other, 2_000, 600_000), ConfirmStep::Refuse(r) if r.body.code == ErrorCode::NotFoundPayment)
        );
        assert_eq!(
            confirm_step(&row, &ask(15_000), 601_000, 600_000),
            ConfirmStep::Expire
        );
        let mut done = row.clone();
        done.payment = approved(done.payment, 2_000, "T1".into(), "00000001".into());
        assert!(
            matches!(confirm_step(&done, &ask(15_000), 3_000, 600_000), ConfirmStep::Refuse(r) if r.body.code == ErrorCode::AlreadyProcessedPayment)
        );
    }

    #[test]
    fn cancels_keep_the_balance() {
        let payment = approved(row(10_000).payment, 2_000, "T1".into(), "1".into());
        let partial = CancelAsk {
            reason: "부분",
            amount: Some(3_000),
            refundable_amount: None,
        };
        let (payment, amount) = cancel(payment, partial, 3_000, "T2".into(), 100).expect("partial");
        assert_eq!(
            (amount, payment.balance_amount, payment.status.clone()),
            (3_000, 7_000, PaymentStatus::PartialCanceled)
        );
        let over = CancelAsk {
            reason: "초과",
            amount: Some(7_001),
            refundable_amount: None,
        };
        let refused = cancel(payment.clone(), over, 4_000, "T3".into(), 100).expect_err("over");
        assert_eq!(refused.body.code, ErrorCode::NotCancelableAmount);
        let stale = CancelAsk {
            reason: "낡은",
            amount: None,
            refundable_amount: Some(10_000),
        };
        assert_eq!(
            cancel(payment.clone(), stale, 4_000, "T3".into(), 100)
                .expect_err("stale")
                .body
                .code,
            ErrorCode::NotMatchesRefundableAmount
        );
        let rest = CancelAsk {
            reason: "나머지",
            amount: None,
            refundable_amount: Some(7_000),
        };
        let (payment, amount) = cancel(payment, rest, 4_000, "T3".into(), 100).expect("rest");
        assert_eq!(
            (amount, payment.balance_amount, payment.status.clone()),
            (7_000, 0, PaymentStatus::Canceled)
        );
        assert_eq!(payment.cancels.as_ref().map(Vec::len), Some(2));
        let again = CancelAsk {
            reason: "또",
            amount: None,
            refundable_amount: None,
        };
        assert_eq!(
            cancel(payment, again, 5_000, "T4".into(), 100)
                .expect_err("again")
                .body
                .code,
            ErrorCode::AlreadyCanceledPayment
        );
    }

    #[test]
    fn vat_is_a_rounded_eleventh() {
        assert_eq!(supply_and_vat(15_000), (13_636, 1_364));
        assert_eq!(supply_and_vat(163_020), (148_200, 14_820));
    }

    // The store's crash test lives here: the store's own tests may not import the rules (the
    // rules read store rows; tests/tidy_imports.rs refuses files importing each other).
    /// A payment just authorised at checkout, as `POST /checkout` makes it.
    fn authorised_row(payment_key: &str, order_id: &str) -> PaymentRow {
        let payment = authorised(
            NewPayment {
                payment_key: payment_key.to_owned(),
                kind: picket_toss_wire::PaymentType::Normal,
                order_id,
                order_name: "공연 티켓",
                amount: 10_000,
                card_masked: "43300000****0001",
                secret: "ps_storetests0001".to_owned(),
            },
            1_000,
        );
        PaymentRow {
            payment,
            authorised_amount: 10_000,
            authorised_at_ms: 1_000,
            card: TestCard::Approve,
        }
    }

    #[tokio::test]
    async fn a_commit_is_in_the_files_when_it_returns_as_a_crash_would_leave_them() {
        let dir = tempfile::tempdir().expect("tempdir");
        let live = dir.path().join("live");
        let crashed = dir.path().join("crashed");
        std::fs::create_dir_all(&live).expect("live dir");
        std::fs::create_dir_all(&crashed).expect("crashed dir");
        let store = crate::store::Store::open(&live.join("s.sqlite"))
            .await
            .expect("open");
        let mut tx = store.begin().await.expect("begin");
        tx.put_payment(&authorised_row("pk_crash_0001", "order-crash-1"))
            .await
            .expect("put");
        tx.commit().await.expect("commit");
        // The process "dies" now: copy the database and its WAL while the store is still open,
        // as they are on disk (no checkpoint, no clean close), and open the copy.
        for name in ["s.sqlite", "s.sqlite-wal"] {
            std::fs::copy(live.join(name), crashed.join(name)).expect("copy");
        }
        let reopened = crate::store::Store::open(&crashed.join("s.sqlite"))
            .await
            .expect("reopen");
        let found = reopened.payment("pk_crash_0001").await.expect("read");
        assert_eq!(
            found.map(|row| row.payment.order_id),
            Some("order-crash-1".to_owned())
        );
        reopened.close().await;
        store.close().await;
    }
}
