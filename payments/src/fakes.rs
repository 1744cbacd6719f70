//! Fakes for this crate's unit tests only: a provider that keeps payments and honours
//! idempotency keys the way Toss documents (a repeated key gets the first answer), and an
//! in-process ledger over the real core that journals in memory.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Mutex;

use futures_util::future::BoxFuture;
use picket_ledger_client::{
    Committed, LedgerClient, LocalLedger, LocalStatus, ReadError, SubmitError, Subscription,
};
use picket_ledger_core::*;

use crate::provider::*;

pub const PARTITION: u16 = 1;
pub const PERFORMANCE: PerformanceId = PerformanceId(501);
/// 2026-06-01 in ms; the show is a year later, so every cancel in the tests is free.
pub const START_MS: u64 = 1_780_272_000_000;

#[derive(Default)]
struct ProviderState {
    payments: BTreeMap<String, PaymentRecord>,
    answers: BTreeMap<String, Result<PaymentRecord, PaymentError>>,
    /// Errors the next calls answer with (failure injection), first first.
    failures: VecDeque<PaymentError>,
    transactions: Vec<TransactionRecord>,
    cancel_calls: u32,
    /// Payments looked up (`payment`, `payment_by_order`).
    lookups: u32,
    next_transaction: u64,
}

#[derive(Default)]
pub struct FakeProvider {
    state: Mutex<ProviderState>,
}

impl FakeProvider {
    /// An approved payment of `amount_won` for `order_id`, at `at_ms`.
    pub fn approve(&self, payment_key: &str, order_id: &str, amount_won: u64, at_ms: u64) {
        let mut state = self.state.lock().expect("lock");
        state.next_transaction += 1;
        let transaction_key = format!("tx-approve-{}", state.next_transaction);
        state.transactions.push(TransactionRecord {
            payment_key: payment_key.into(),
            order_id: order_id.into(),
            transaction_key,
            state: PaymentState::Done,
            amount_won,
            at_ms,
        });
        state.payments.insert(
            payment_key.into(),
            PaymentRecord {
                payment_key: payment_key.into(),
                order_id: order_id.into(),
                state: PaymentState::Done,
                total_won: amount_won,
                balance_won: amount_won,
                approved_at_ms: Some(at_ms),
                cancels: Vec::new(),
            },
        );
    }

    pub fn fail_next(&self, error: PaymentError) {
        self.state.lock().expect("lock").failures.push_back(error);
    }

    pub fn payment_now(&self, payment_key: &str) -> Option<PaymentRecord> {
        self.state
            .lock()
            .expect("lock")
            .payments
            .get(payment_key)
            .cloned()
    }

    pub fn cancel_calls(&self) -> u32 {
        self.state.lock().expect("lock").cancel_calls
    }

    /// Payments looked up so far (by key or by order).
    pub fn lookups(&self) -> u32 {
        self.state.lock().expect("lock").lookups
    }
}

impl PaymentProvider for FakeProvider {
    /// An injected failure first; then an approved payment of this order is already processed,
    /// and anything else is not found (the fakes make no authorised payments).
    fn confirm<'a>(
        &'a self,
        payment_key: &'a str,
        order_id: &'a str,
        _amount_won: u64,
        _idempotency_key: &'a str,
    ) -> ProviderFuture<'a, PaymentRecord> {
        let mut state = self.state.lock().expect("lock");
        let answer = match state.failures.pop_front() {
            Some(error) => Err(error),
            None => match state.payments.get(payment_key) {
                Some(payment) if payment.order_id == order_id => {
                    Err(PaymentError::AlreadyProcessed)
                }
                _ => Err(PaymentError::NotFound),
            },
        };
        Box::pin(async move { answer })
    }

    fn payment<'a>(&'a self, payment_key: &'a str) -> ProviderFuture<'a, PaymentRecord> {
        self.state.lock().expect("lock").lookups += 1;
        let found = self.payment_now(payment_key).ok_or(PaymentError::NotFound);
        Box::pin(async move { found })
    }

    fn payment_by_order<'a>(&'a self, _order_id: &'a str) -> ProviderFuture<'a, PaymentRecord> {
        self.state.lock().expect("lock").lookups += 1;
        Box::pin(async { Err(PaymentError::NotFound) })
    }

    fn cancel<'a>(
        &'a self,
        payment_key: &'a str,
        amount_won: Option<u64>,
        reason: &'a str,
        idempotency_key: &'a str,
    ) -> ProviderFuture<'a, PaymentRecord> {
        let mut state = self.state.lock().expect("lock");
        state.cancel_calls += 1;
        if let Some(answer) = state.answers.get(idempotency_key) {
            let answer = answer.clone();
            return Box::pin(async move { answer });
        }
        if let Some(error) = state.failures.pop_front() {
            return Box::pin(async move { Err(error) });
        }
        state.next_transaction += 1;
        let transaction_key = format!("tx-cancel-{}", state.next_transaction);
        let answer = match state.payments.get_mut(payment_key) {
            None => Err(PaymentError::NotFound),
            Some(payment) => {
                let amount = amount_won.unwrap_or(payment.balance_won);
                if amount == 0 || amount > payment.balance_won {
                    Err(PaymentError::NotCancelable {
                        code: "NOT_CANCELABLE_AMOUNT".into(),
                        message: "more than the balance".into(),
                    })
                } else {
                    payment.balance_won -= amount;
                    payment.state = match payment.balance_won {
                        0 => PaymentState::Canceled,
                        _ => PaymentState::PartialCanceled,
                    };
                    payment.cancels.push(CancelRecord {
                        transaction_key: transaction_key.clone(),
                        amount_won: amount,
                        reason: reason.into(),
                        canceled_at_ms: Some(START_MS),
                    });
                    Ok(payment.clone())
                }
            }
        };
        if let Ok(payment) = &answer {
            let record = TransactionRecord {
                payment_key: payment.payment_key.clone(),
                order_id: payment.order_id.clone(),
                transaction_key,
                state: payment.state.clone(),
                amount_won: amount_won.unwrap_or(0),
                at_ms: START_MS,
            };
            state.transactions.push(record);
        }
        state
            .answers
            .insert(idempotency_key.to_owned(), answer.clone());
        Box::pin(async move { answer })
    }

    fn issue_billing_key<'a>(
        &'a self,
        _auth_key: &'a str,
        _customer_key: &'a str,
        _idempotency_key: &'a str,
    ) -> ProviderFuture<'a, BillingKey> {
        Box::pin(async { Err(PaymentError::NotFound) })
    }

    fn charge_billing_key<'a>(
        &'a self,
        _charge: &'a BillingCharge,
    ) -> ProviderFuture<'a, PaymentRecord> {
        Box::pin(async { Err(PaymentError::NotFound) })
    }

    fn transactions<'a>(
        &'a self,
        from_ms: u64,
        to_ms: u64,
    ) -> ProviderFuture<'a, Vec<TransactionRecord>> {
        let list: Vec<TransactionRecord> = self
            .state
            .lock()
            .expect("lock")
            .transactions
            .iter()
            .filter(|t| (from_ms..=to_ms).contains(&t.at_ms))
            .cloned()
            .collect();
        Box::pin(async move { Ok(list) })
    }

    fn verify_webhook(
        &self,
        _header: &dyn Fn(&str) -> Option<String>,
        _body: &[u8],
        _now_ms: u64,
    ) -> Result<WebhookNotice, WebhookError> {
        Err(WebhookError::BadSignature)
    }
}

/// The real core, journalled in memory.
pub struct FakeLedger {
    state: Mutex<(Ledger, Vec<Committed>, u64)>,
}

impl FakeLedger {
    pub fn new() -> FakeLedger {
        FakeLedger {
            state: Mutex::new((Ledger::new(PARTITION), Vec::new(), START_MS)),
        }
    }

    pub fn ledger(&self) -> Ledger {
        self.state.lock().expect("lock").0.clone()
    }
}

impl LocalLedger for FakeLedger {
    fn submit(&self, request: Request) -> BoxFuture<'_, Result<Outcome, SubmitError>> {
        let mut state = self.state.lock().expect("lock");
        state.2 += 1_000;
        let now_ms = state.2;
        let step = state.0.execute(now_ms, &request);
        let seq = state.1.len() as u64 + 1;
        state.1.push(Committed {
            partition: PARTITION,
            seq,
            at_ms: now_ms,
            events: step.events,
        });
        let outcome = step.outcome;
        Box::pin(async move { Ok(outcome) })
    }

    fn ticket(
        &self,
        performance: PerformanceId,
        ticket: TicketId,
    ) -> BoxFuture<'_, Result<Option<TicketView>, SubmitError>> {
        let view = self
            .state
            .lock()
            .expect("lock")
            .0
            .performance(performance)
            .and_then(|state| state.ticket_view(ticket));
        Box::pin(async move { Ok(view) })
    }

    fn tickets(
        &self,
        performance: PerformanceId,
        after: Option<TicketId>,
        limit: u32,
    ) -> BoxFuture<'_, Result<Option<Vec<TicketView>>, SubmitError>> {
        let page = self
            .state
            .lock()
            .expect("lock")
            .0
            .performance(performance)
            .map(|state| state.tickets_page(after, limit as usize));
        Box::pin(async move { Ok(page) })
    }

    fn door_report(
        &self,
        performance: PerformanceId,
    ) -> BoxFuture<'_, Result<Option<DoorReport>, SubmitError>> {
        let report = self
            .state
            .lock()
            .expect("lock")
            .0
            .performance(performance)
            .map(|state| state.door_report());
        Box::pin(async move { Ok(report) })
    }

    fn waitlist(
        &self,
        performance: PerformanceId,
        buyer: Option<ActorId>,
    ) -> BoxFuture<'_, Result<Option<WaitlistRead>, SubmitError>> {
        let read = self
            .state
            .lock()
            .expect("lock")
            .0
            .performance(performance)
            .map(|state| state.waitlist_read(buyer));
        Box::pin(async move { Ok(read) })
    }

    fn hold(
        &self,
        performance: PerformanceId,
        hold: HoldId,
    ) -> BoxFuture<'_, Result<Option<HoldView>, SubmitError>> {
        let view = self
            .state
            .lock()
            .expect("lock")
            .0
            .performance(performance)
            .and_then(|state| state.hold_view(hold));
        Box::pin(async move { Ok(view) })
    }

    fn subscribe(&self) -> BoxFuture<'_, Result<Subscription, SubmitError>> {
        Box::pin(async { Err(SubmitError::Stopped) })
    }

    fn entries_after(
        &self,
        after_seq: u64,
        limit: u32,
    ) -> BoxFuture<'_, Result<Vec<Committed>, ReadError>> {
        let entries: Vec<Committed> = self
            .state
            .lock()
            .expect("lock")
            .1
            .iter()
            .filter(|e| e.seq > after_seq)
            .take(limit as usize)
            .cloned()
            .collect();
        Box::pin(async move { Ok(entries) })
    }

    fn partition(&self) -> u16 {
        PARTITION
    }

    fn status(&self) -> LocalStatus {
        LocalStatus {
            healthy: true,
            role: "leader",
            partition: PARTITION,
            journal_seq: 0,
            store: "memory",
            queue_depth: 0,
        }
    }
}

/// A client of a fresh fake ledger with one performance open: 8 seats of one grade at
/// `price_won`, the Korean standard fees, the show a year away.
pub async fn open_ledger(price_won: Won) -> (std::sync::Arc<FakeLedger>, LedgerClient) {
    let fake = std::sync::Arc::new(FakeLedger::new());
    let client = LedgerClient::InProcess(fake.clone());
    let spec = PerformanceSpec {
        performance: PERFORMANCE,
        starts_at_ms: START_MS + 365 * 24 * 3_600_000,
        kind: TicketKind::Performance,
        grades: vec![GradeSpec {
            code: "R".into(),
            price_won,
        }],
        seats: (1..=8)
            .map(|number| SeatSpec {
                section: "A".into(),
                row: "1".into(),
                number,
                grade: GradeId(0),
                blocked: false,
            })
            .collect(),
        zones: Vec::new(),
        per_buyer_limit: 4,
        hold_ttl_ms: 600_000,
        fees: FeeSchedule::korean_standard(TicketKind::Performance),
        booking_fee_won: 0,
        discounts: Vec::new(),
        coupons: Vec::new(),
        door: DoorSpec::default(),
        waitlist: picket_ledger_core::WaitlistSpec::default(),
    };
    let opened = send(&client, 0, "open", Command::OpenPerformance(Box::new(spec))).await;
    assert!(
        matches!(opened, Ok(Reply::PerformanceOpened { .. })),
        "{opened:?}"
    );
    (fake, client)
}

pub async fn send(client: &LedgerClient, actor: u64, key: &str, command: Command) -> Outcome {
    let request = Request {
        actor: ActorId(actor),
        key: IdempotencyKey::new(key).expect("key"),
        command,
    };
    client.submit(request).await.expect("submitted")
}

/// `buyer` holds `seats` and pays with `payment_key` (approved at the fake provider first).
pub async fn book(
    client: &LedgerClient,
    provider: &FakeProvider,
    buyer: u64,
    seats: &[u32],
    payment_key: &str,
) -> (BookingId, Won) {
    let held = send(
        client,
        buyer,
        &format!("hold-{payment_key}"),
        Command::Hold {
            performance: PERFORMANCE,
            selection: Selection::Seats(seats.iter().map(|s| SeatId(*s)).collect()),
            admission: None,
            offer: None,
        },
    )
    .await;
    let Ok(Reply::Held {
        hold, amount_won, ..
    }) = held
    else {
        panic!("hold failed: {held:?}");
    };
    let order = crate::OrderId::new(PERFORMANCE.0, hold.0, 7).to_string();
    provider.approve(payment_key, &order, amount_won, START_MS);
    let confirmed = send(
        client,
        buyer,
        &format!("pay-{payment_key}"),
        Command::Confirm {
            performance: PERFORMANCE,
            hold,
            payment_ref: payment_key.into(),
            amount_won,
        },
    )
    .await;
    let Ok(Reply::Confirmed { booking, .. }) = confirmed else {
        panic!("confirm failed: {confirmed:?}");
    };
    (booking, amount_won)
}
