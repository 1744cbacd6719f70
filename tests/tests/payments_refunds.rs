//! The refund worker and reconciliation against the real payment sandbox, through the Toss
//! adapter: a worker killed between the provider's refund and the ledger's record refunds once
//! (checked at the sandbox: one cancel, balance 0), and reconciliation agrees with what was
//! paid and refunded, then voids a payment nobody booked.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use picket_ledger_client::LedgerClient;
use picket_ledger_core::*;
use picket_payments::refunds::{CancelVerdict, RefundMetrics, RefundOutcome, RefundWorker};
use picket_payments::toss::{TossConfig, TossProvider};
use picket_payments::{OrderId, PaymentProvider};
use picket_sandbox_pay::SandboxConfig;
use picket_tests::api::ApiSetup;
use picket_tests::gateway::small_spec;

const SECRET_KEY: &str = "test_sk_refundtests00001";
const CLIENT_KEY: &str = "test_ck_refundtests00001";
const WEBHOOK_SECRET: &str = "whsec_refund_tests_00001";
const APPROVED_CARD: &str = "4330000000000001";
const PERFORMANCE: u64 = 7_001;

async fn start_sandbox(dir: &Path) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
    let mut config = SandboxConfig::new(dir.to_path_buf());
    config.secret_key = Some(SECRET_KEY.into());
    config.client_key = Some(CLIENT_KEY.into());
    config.webhook_secret = Some(WEBHOOK_SECRET.into());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(picket_sandbox_pay::run_on(config, listener, async move {
        let _ = stopped.await;
    }));
    (address, stop)
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(
            |b| match b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                true => (b as char).to_string(),
                false => format!("%{b:02X}"),
            },
        )
        .collect()
}

/// The buyer pays `amount` for `order` at the sandbox's checkout: the payment key.
async fn pay_at_checkout(sandbox: SocketAddr, order: &str, amount: u64) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let amount = amount.to_string();
    let fields = [
        ("clientKey", CLIENT_KEY),
        ("orderId", order),
        ("orderName", "공연 티켓"),
        ("amount", amount.as_str()),
        ("successUrl", "https://shop.example/success"),
        ("failUrl", "https://shop.example/fail"),
        ("cardNumber", APPROVED_CARD),
    ];
    let body = fields
        .iter()
        .map(|(name, value)| format!("{}={}", percent(name), percent(value)))
        .collect::<Vec<_>>()
        .join("&");
    let request = format!(
        "POST /checkout HTTP/1.1\r\nHost: sandbox\r\nConnection: close\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(sandbox)
        .await
        .expect("connect");
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).await.expect("read");
    let location = response
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("location")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no redirect: {response}"));
    let query = location.split_once('?').expect("a query").1;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("paymentKey="))
        .expect("a payment key")
        .to_owned()
}

async fn submit(ledger: &LedgerClient, actor: u64, key: &str, command: Command) -> Outcome {
    let request = Request {
        actor: ActorId(actor),
        key: IdempotencyKey::new(key).expect("key"),
        command,
    };
    ledger.submit(request).await.expect("submitted")
}

/// Holds seats, pays at the sandbox, confirms there for the hold's amount, then books:
/// (booking, payment key, amount).
async fn paid_booking(
    ledger: &LedgerClient,
    toss: &TossProvider,
    sandbox: SocketAddr,
    actor: u64,
    seats: &[u32],
) -> (BookingId, String, u64) {
    let held = submit(
        ledger,
        actor,
        &format!("hold-{actor}"),
        Command::Hold {
            performance: PerformanceId(PERFORMANCE),
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
        panic!("held: {held:?}");
    };
    let order = OrderId::new(PERFORMANCE, hold.0, actor).to_string();
    let key = pay_at_checkout(sandbox, &order, amount_won).await;
    toss.confirm(&key, &order, amount_won, &format!("confirm-{order}"))
        .await
        .expect("approved");
    let booked = submit(
        ledger,
        actor,
        &format!("pay-{actor}"),
        Command::Confirm {
            performance: PerformanceId(PERFORMANCE),
            hold,
            payment_ref: key.clone(),
            amount_won,
        },
    )
    .await;
    let Ok(Reply::Confirmed { booking, .. }) = booked else {
        panic!("booked: {booked:?}");
    };
    (booking, key, amount_won)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_killed_mid_refund_refunds_once_at_the_sandbox_and_reconciliation_agrees() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (sandbox, stop_sandbox) = start_sandbox(&dir.path().join("sandbox")).await;
    let config = TossConfig::new(
        format!("http://{sandbox}"),
        SECRET_KEY,
        CLIENT_KEY,
        WEBHOOK_SECRET,
    );
    let toss = Arc::new(TossProvider::new(config).expect("settings"));
    let setup = ApiSetup::start().await;
    setup.cluster.open(small_spec(PERFORMANCE, 10)).await;
    let ledger = LedgerClient::in_process(setup.cluster.ledger.handle.clone());
    let started_ms = picket_edge::clock::now_ms();

    let (booking, key, paid) = paid_booking(&ledger, &toss, sandbox, 21, &[0, 1]).await;
    let (_, kept_key, kept_paid) = paid_booking(&ledger, &toss, sandbox, 22, &[2]).await;
    let cancelled = submit(
        &ledger,
        21,
        "cancel-21",
        Command::Cancel {
            performance: PerformanceId(PERFORMANCE),
            booking,
            tickets: Vec::new(),
        },
    )
    .await;
    let Ok(Reply::Cancelled { refund_won, .. }) = cancelled else {
        panic!("cancelled: {cancelled:?}");
    };
    assert_eq!(
        refund_won, paid,
        "free: booked today, the show a month away"
    );

    // The first worker refunds at the sandbox, then is killed before it records.
    let partitions = vec![setup.cluster.ledger.handle.partition()];
    let metrics = Arc::new(RefundMetrics::default());
    let provider: Arc<dyn PaymentProvider> = toss.clone();
    let mut first = RefundWorker::new(
        ledger.clone(),
        provider.clone(),
        partitions.clone(),
        metrics.clone(),
    );
    first.catch_up().await.expect("read");
    let owed = first.due();
    assert_eq!(owed.len(), 1, "{owed:?}");
    let verdict = first.cancel_at_provider(&owed[0]).await;
    assert!(matches!(verdict, CancelVerdict::Paid { .. }), "{verdict:?}");
    drop(first);

    // Restarted: it finds the refund still owed in the journal and pays it again under the
    // same key; the sandbox replays its first answer.
    let mut second = RefundWorker::new(
        ledger.clone(),
        provider.clone(),
        partitions.clone(),
        metrics,
    );
    let outcomes = second.pass().await.expect("pass");
    assert_eq!(outcomes, vec![(owed[0].refund, RefundOutcome::Recorded)]);
    let at_sandbox = toss.payment(&key).await.expect("looked up");
    assert_eq!(at_sandbox.cancels.len(), 1, "one refund at the provider");
    assert_eq!(at_sandbox.balance_won, 0);
    assert_eq!(at_sandbox.cancels[0].amount_won, paid);
    assert_eq!(
        toss.payment(&kept_key).await.expect("p").balance_won,
        kept_paid
    );
    assert_eq!(second.pass().await.expect("pass"), Vec::new());

    // Reconciliation: the ledger and the sandbox agree on the payments and the refund.
    let reports = dir.path().join("reports");
    let window = (started_ms - 60_000, picket_edge::clock::now_ms() + 60_000);
    let report = picket_payments::reconcile::reconcile(
        toss.as_ref(),
        &ledger,
        &partitions,
        window,
        &reports,
    )
    .await
    .expect("reconciled");
    assert_eq!(report.mismatches, Vec::new(), "{report:?}");

    // Paid at the provider, booked by nobody: reconciliation refunds it, once.
    let orphan = OrderId::new(PERFORMANCE, 999, 1).to_string();
    let orphan_key = pay_at_checkout(sandbox, &orphan, 33_000).await;
    toss.confirm(&orphan_key, &orphan, 33_000, "confirm-orphan")
        .await
        .expect("approved");
    let window = (window.0, picket_edge::clock::now_ms() + 60_000);
    let report = picket_payments::reconcile::reconcile(
        toss.as_ref(),
        &ledger,
        &partitions,
        window,
        &reports,
    )
    .await
    .expect("reconciled");
    let kinds: Vec<&str> = report.mismatches.iter().map(|m| m.kind()).collect();
    assert_eq!(kinds, ["approved_not_booked"], "{report:?}");
    assert_eq!(report.voided.as_slice(), std::slice::from_ref(&orphan_key));
    assert_eq!(toss.payment(&orphan_key).await.expect("p").balance_won, 0);
    let again = picket_payments::reconcile::reconcile(
        toss.as_ref(),
        &ledger,
        &partitions,
        window,
        &reports,
    )
    .await
    .expect("reconciled");
    assert_eq!(again.mismatches, Vec::new(), "{again:?}");
    let _ = stop_sandbox.send(());
}
